package hub

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"siegel/shared/ids"
	"siegel/shared/roster"
)

func TestRosterCache(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	site := ids.SiteID{1}
	sign := func(v uint64, agents ...roster.Agent) []byte {
		raw, err := (&roster.Roster{Site: site, Owner: ids.Key(pub), Version: v, NotAfter: time.Now().Add(time.Hour).Unix(), Agents: agents}).Encode(priv)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	ada := roster.Agent{ID: ids.AgentID{1}, Name: "Ada", Sign: ids.Key{2}, Box: ids.Key{3}}
	var c rosterCache
	v1 := sign(1, ada)
	a, err := c.parsed(site, v1)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.parsed(site, append([]byte(nil), v1...)); b != a {
		t.Fatal("the same stored roster was parsed again")
	}
	v2 := sign(2)
	b, err := c.parsed(site, v2)
	if err != nil || b == a || len(b.Agents) != 0 {
		t.Fatalf("a newly stored roster was not taken: %v %+v", err, b)
	}
	if agentRefusal(b, ada.Sign, time.Now(), "gone") != "gone" || agentRefusal(a, ada.Sign, time.Now(), "gone") != "" {
		t.Fatal("membership not checked against the current roster")
	}
	if agentRefusal(a, ada.Sign, time.Now().Add(2*time.Hour), "gone") != "roster expired" {
		t.Fatal("expiry not checked")
	}
	bad := append([]byte(nil), v2...)
	bad[len(bad)-1] ^= 1
	if _, err := c.parsed(site, bad); !errors.Is(err, roster.ErrBadSignature) {
		t.Fatalf("a tampered stored roster: got %v, want a bad signature", err)
	}
}
