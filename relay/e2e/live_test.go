//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// presenceOnline reads siegel-presence[data-online]: "true" or a positive
// number is online, "false" or "0" is nobody; ok is false for anything else.
func presenceOnline(v *string) (online, ok bool) {
	if v == nil {
		return false, false
	}
	switch *v {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	n, err := strconv.Atoi(*v)
	return n > 0, err == nil && n >= 0
}

// waitPresence waits until the chat frame's presence says online (or not).
func (w *widget) waitPresence(online bool) {
	w.t.Helper()
	eventually(w.t, fmt.Sprintf("the chat shows presence online=%v (siegel-presence[data-online])", online), func() (bool, string) {
		v := w.attr(selPresence, "data-online")
		got, ok := presenceOnline(v)
		state := "no siegel-presence with data-online"
		if v != nil {
			state = "data-online=" + jsString(*v)
		}
		return ok && got == online, state + "; " + w.describe()
	})
}

// agentTitle is the agent page's document title.
func agentTitle(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := evalJS[string](ctx, `document.title`)
	if err != nil {
		t.Fatalf("read the agent page's title: %v", err)
	}
	return s
}

// convStates returns the ConvState frames about conv a browser received.
func convStates(t *testing.T, rec *recorder, conv ids.ConvID) []*protocol.ConvStateFrame {
	t.Helper()
	var out []*protocol.ConvStateFrame
	for _, f := range framesOf[*protocol.ConvStateFrame](t, rec, false) {
		if f.Conv == conv {
			out = append(out, f)
		}
	}
	return out
}

// waitConvState waits until a browser received a ConvState for conv with state.
func waitConvState(t *testing.T, who string, rec *recorder, conv ids.ConvID, state protocol.ConvState, agent ids.Key) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s receives ConvState %s", who, state), func() (bool, string) {
		fs := convStates(t, rec, conv)
		for _, f := range fs {
			if f.State == state && f.Agent == agent {
				return true, ""
			}
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.State.String()+"/"+f.Agent.String())
		}
		return false, fmt.Sprintf("ConvState frames for the conversation: %q", got)
	})
}

// TestTwoAgentsTakeover: one visitor, two agents (the first with the offered
// demo key, the second with its key file imported). The visitor asks for a
// person; both agents see the conversation waiting and are notified; agent 1
// takes it over, agent 2 sees who did; typing indicators and messages go
// both ways. Then agent 2 is removed from the roster with `relay roster`: its
// browser is told so and the relay refuses it, and the visitor's next
// message has no stanza for it.
func TestTwoAgentsTakeover(t *testing.T) {
	b := startBotVisit(t)
	w, r := b.w, b.r
	a1ctx, a1rec := b.actx, b.arec
	a2ctx, a2rec := newUser(t, b.browser, "agent 2")
	key2, sec2, id2 := agentIdentity(t, r, demoAgent2KeyPath)
	_, sec1, id1 := agentIdentity(t, r, demoAgent1KeyPath)
	if sec1.AgentID == sec2.AgentID || id1.SignKey() == id2.SignKey() {
		t.Fatal("the two demo key files hold the same agent")
	}
	m1 := "Hallo, ist jemand da? " + newSentinel("Sentinel")
	m2 := "Guten Tag, hier ist die Werkstatt. " + newSentinel("Sentinel")
	m3 := "Meine Bremse quietscht. " + newSentinel("Sentinel")
	m4 := "Nach der Entfernung geschrieben " + newSentinel("Sentinel")

	// Both agents are online before the visitor asks.
	unlockAgent(t, a1ctx, a1rec, r)
	unlockAgentKeyFile(t, a2ctx, a2rec, r, key2)
	title1, title2 := agentTitle(t, a1ctx), agentTitle(t, a2ctx)

	// The visitor asks for a person and writes.
	conv := b.handOff(t, m1)
	if n := countType[*protocol.WantPerson](sentFrames(t, b.vrec)); n == 0 {
		t.Errorf("the visitor's browser sent no WantPerson frame at the handoff")
	}
	w.waitPresence(true)

	// Both agents see it waiting, with a notification in the title.
	for _, a := range []struct {
		name  string
		ctx   context.Context
		rec   *recorder
		title string
	}{{"agent 1", a1ctx, a1rec, title1}, {"agent 2", a2ctx, a2rec, title2}} {
		waitConvState(t, a.name, a.rec, conv, protocol.StateWaiting, ids.Key{})
		waitAgentConvIn(t, a.ctx, a.name, selGroupWaiting, conv)
		eventually(t, a.name+": the page title announces the waiting visitor", func() (bool, string) {
			now := agentTitle(t, a.ctx)
			return now != a.title, fmt.Sprintf("title %q (before the handoff %q)", now, a.title)
		})
		t.Logf("%s: title %q → %q", a.name, a.title, agentTitle(t, a.ctx))
	}

	// Agent 2 looks at it; agent 1 takes it over.
	openAgentConversation(t, a2ctx, conv)
	waitAgentMessage(t, a2ctx, "visitor", m1)
	openAgentConversation(t, a1ctx, conv)
	waitAgentMessage(t, a1ctx, "visitor", m1)
	do(t, a1ctx, "agent 1 takes over", chromedp.Click(chromedp.CSS(selTakeover), chromedp.NodeVisible))
	for _, a := range []struct {
		name string
		rec  *recorder
	}{{"agent 1", a1rec}, {"agent 2", a2rec}, {"the visitor", b.vrec}} {
		waitConvState(t, a.name, a.rec, conv, protocol.StateLive, id1.SignKey())
	}
	// Counted once the state change arrived (the frame log of the browser
	// lags behind the click).
	if n := countType[*protocol.Takeover](sentFrames(t, a1rec)); n != 1 {
		t.Errorf("agent 1's browser sent %d Takeover frames, want 1", n)
	}
	waitAgentConvIn(t, a1ctx, "agent 1", selGroupLive, conv)
	waitAgentConvIn(t, a2ctx, "agent 2", selGroupLive, conv)
	taken := waitPageText(t, a2ctx, "agent 2 sees that agent 1 took the conversation", selTakenBy, demoAgentName)
	t.Logf("agent 2 sees %q", taken)
	joined := w.waitText("the visitor sees the agent's name", selAgentJoined, demoAgentName)
	t.Logf("the visitor sees %q", joined)

	// Typing, agent → visitor.
	do(t, a1ctx, "agent 1 types",
		chromedp.SendKeys(chromedp.CSS(selReply), m2, chromedp.NodeVisible))
	typing := w.waitText("the visitor sees that the agent types", selTyping, "")
	t.Logf("the visitor's typing indicator: %q", typing)
	do(t, a1ctx, "agent 1 sends", chromedp.Click(chromedp.CSS(selAgentSend), chromedp.NodeVisible))
	w.waitMessage("agent", m2)
	eventually(t, "the visitor's typing indicator goes after the agent sent", func() (bool, string) {
		var s *string
		if err := w.frame.eval(visibleTextJS(selTyping), &s); err != nil {
			return false, err.Error()
		}
		return s == nil, "siegel-typing still shown"
	})

	// Typing, visitor → agents.
	w.typeOnly(m3)
	waitPageText(t, a1ctx, "agent 1 sees that the visitor types", selAgentTyping, "")
	waitPageText(t, a2ctx, "agent 2 sees that the visitor types", selAgentTyping, "")
	do(t, b.vctx, "the visitor sends", chromedp.Click(chromedp.CSS(selSend), chromedp.FromNode(w.node), chromedp.NodeVisible))
	waitAgentMessage(t, a1ctx, "visitor", m3)
	waitAgentMessage(t, a2ctx, "visitor", m3)
	waitPageHidden(t, a1ctx, "agent 1's typing indicator goes after the visitor sent", selAgentTyping)
	for _, p := range []struct {
		name string
		rec  *recorder
		from ids.Key
	}{{"the visitor", b.vrec, id1.SignKey()}} {
		ok := false
		for _, f := range framesOf[*protocol.TypingPush](t, p.rec, false) {
			ok = ok || (f.Conv == conv && f.Key == p.from && f.On)
		}
		if !ok {
			t.Errorf("%s received no TypingPush (on) from agent 1", p.name)
		}
	}
	w.waitMessage("visitor", m3, "sent", "delivered")

	// Agent 2 is removed from the roster by the owner.
	r.stop()
	v0, _, before := storedRoster(t, r)
	relayRoster(t, "-data", r.dataDir, "remove", "-agent", sec2.AgentID.String())
	v1, _, after := storedRoster(t, r)
	if v1 <= v0 {
		t.Errorf("relay roster remove stored version %d, want more than %d", v1, v0)
	}
	if _, ok := after.AgentBySign(id2.SignKey()); ok {
		t.Fatalf("after relay roster remove the stored roster still lists agent 2: %+v", after.Agents)
	}
	if _, ok := after.AgentBySign(id1.SignKey()); !ok || len(after.Agents) != len(before.Agents)-1 {
		t.Fatalf("relay roster remove left agents %+v (before %+v), want all but agent 2", after.Agents, before.Agents)
	}
	r = r.restart(t)

	// The relay serves the new roster (a restarted demo must not bring agent 2 back).
	c := connect(t, r)
	wel := c.hello(1, protocol.RoleAgent, id1, r.site, 0)
	ro, err := roster.Verify(wel.Roster, r.ownerFP, r.site, time.Now(), v1)
	if err != nil {
		t.Fatalf("after the restart the relay serves a roster that does not verify at version ≥ %d: %v", v1, err)
	}
	if _, ok := ro.AgentBySign(id2.SignKey()); ok {
		t.Fatalf("after the restart the relay serves roster version %d, which lists agent 2 again: %+v", ro.Version, ro.Agents)
	}
	c.ws.CloseNow()

	// Agent 2 can no longer connect: its browser says so, and a Hello with
	// its key gets no Welcome.
	removed := waitPageText(t, a2ctx, "agent 2's page says it was removed", selAgentRemoved, "")
	t.Logf("agent 2's page: %q", removed)
	c2 := connect(t, r)
	c2.write(1, signedHello(c2.challenge, protocol.RoleAgent, id2, r.site, 0))
	if b, err := c2.readRaw(); err == nil {
		_, f, derr := protocol.Decode(b)
		if _, ok := f.(*protocol.Welcome); ok || derr != nil {
			t.Errorf("a Hello with agent 2's key got %s (decode error %v), want a refusal", describe(f), derr)
		} else {
			t.Logf("a Hello with agent 2's key: %s", describe(f))
		}
	} else {
		t.Logf("a Hello with agent 2's key: connection ended (%v)", err)
	}

	// The visitor's next message has no stanza for agent 2; agent 1 reads it.
	nSent := len(sentEnvelopes(t, b.vrec, conv))
	w.send(m4)
	w.waitMessage("visitor", m4, "sent", "delivered")
	waitAgentMessage(t, a1ctx, "visitor", m4)
	envs := sentEnvelopes(t, b.vrec, conv)
	if len(envs) <= nSent {
		t.Fatalf("the visitor's browser sent no envelope after the removal (%d before, %d now)", nSent, len(envs))
	}
	for _, raw := range envs[nSent:] {
		e, err := envelope.Parse(raw)
		if err != nil {
			t.Fatalf("the visitor sent an envelope that does not parse: %v", err)
		}
		if slices.Contains(e.Recipients, id2.BoxKey()) {
			t.Errorf("an envelope (seq %d) sent after the removal still has a stanza for agent 2", e.Seq)
		}
		if _, err := envelope.Open(raw, id2, r.site, conv); !errors.Is(err, envelope.ErrNotRecipient) {
			t.Errorf("agent 2's key on an envelope (seq %d) sent after the removal: %v, want ErrNotRecipient", e.Seq, err)
		}
		if _, err := envelope.Open(raw, id1, r.site, conv); err != nil {
			t.Errorf("agent 1 cannot open an envelope (seq %d) sent after the removal: %v", e.Seq, err)
		}
	}
	if s := agentPageText(t, a2ctx); strings.Contains(s, m4) {
		t.Errorf("agent 2's page shows the message written after its removal")
	}
}

// TestOfflineMessage: nobody is online; the visitor asks for a person, is told
// that nobody is available and leaves a message; an agent who comes online
// later finds the conversation waiting, with the message.
func TestOfflineMessage(t *testing.T) {
	b := startBotVisit(t)
	w, r := b.w, b.r
	msg := "Bitte rufen Sie mich zurück " + newSentinel("Sentinel")

	w.choose(handoffPersonLabel)
	w.waitPresence(false)
	offer := w.waitText("the chat offers to leave a message", selLeaveMessage, "")
	t.Logf("the chat offers: %q", offer)
	var isButton bool
	if err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(selLeaveMessage)+`);
		return e.tagName === "BUTTON" || e.getAttribute("role") === "button"; })()`, &isButton); err != nil {
		t.Fatal(err)
	}
	if isButton {
		w.click(selLeaveMessage, "leave a message")
	}
	conv := visitorConversation(t, b.vrec)
	w.send(msg)
	w.waitMessage("visitor", msg, "sent", "delivered")
	if n := countType[*protocol.WantPerson](sentFrames(t, b.vrec)); n == 0 {
		t.Errorf("the visitor's browser sent no WantPerson frame")
	}
	var pres []uint16
	for _, f := range framesOf[*protocol.Presence](t, b.vrec, false) {
		pres = append(pres, f.Online)
	}
	if len(pres) == 0 || pres[0] != 0 {
		t.Errorf("the visitor's browser received Presence %v, want 0 first (nobody online)", pres)
	}

	// An agent comes online: the conversation is waiting, with the message.
	unlockAgent(t, b.actx, b.arec, r)
	waitConvState(t, "the agent", b.arec, conv, protocol.StateWaiting, ids.Key{})
	waitAgentConvIn(t, b.actx, "the agent", selGroupWaiting, conv)
	openAgentConversation(t, b.actx, conv)
	waitAgentMessage(t, b.actx, "visitor", msg)
	items := waitAgentTranscript(t, b.actx, []itemWant{{TID: "agent-handoff"}, {TID: "agent-msg", From: "visitor", Text: msg}})
	for _, it := range items {
		if it.TID == "agent-handoff" {
			t.Logf("handoff line: %v", it)
		}
	}
	// The visitor now sees that a person is reachable.
	w.waitPresence(true)
}
