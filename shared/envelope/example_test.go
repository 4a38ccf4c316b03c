package envelope_test

import (
	"crypto/rand"
	"fmt"

	"siegel/shared/envelope"
	"siegel/shared/ids"
)

func Example_sealOpen() {
	visitor, _ := envelope.NewIdentity(rand.Reader)
	agent, _ := envelope.NewIdentity(rand.Reader)
	site := ids.SiteID{1}
	conv := ids.ConversationID(site, visitor.SignKey())

	// The visitor seals for the agent and for itself.
	b, err := envelope.Seal(rand.Reader, visitor, []ids.Key{agent.BoxKey(), visitor.BoxKey()}, envelope.Message{
		Site: site, Conv: conv, Seq: 1, Type: envelope.ContentText, Time: 1767225600000, Content: []byte("Hallo!"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The relay checks the signature once, without reading the content.
	if _, err := envelope.Verify(b); err != nil {
		fmt.Println(err)
		return
	}

	// The agent opens it and drops duplicates.
	o, err := envelope.Open(b, agent, site, conv)
	if err != nil {
		fmt.Println(err)
		return
	}
	var seen envelope.Tracker
	fmt.Println(string(o.Content), o.SenderSign == visitor.SignKey(), seen.Accept(o.SenderSign, o.Seq))
	fmt.Println(seen.Accept(o.SenderSign, o.Seq))
	fmt.Println(len(b), "bytes")
	// Output:
	// Hallo! true <nil>
	// envelope: duplicate envelope
	// 630 bytes
}
