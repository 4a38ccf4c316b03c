package agent

import (
	"bytes"
	"crypto/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// request carries out an agent's signed erase request as the relay does
// (docs/PROTOCOL.md §6.5).
func (r *fakeRelay) request(s *fakeSock, reqID uint32, f *protocol.Request) {
	if r.counters == nil {
		r.counters, r.gone = map[ids.Key]uint64{}, map[ids.ConvID]bool{}
	}
	switch {
	case !f.BodyHashValid():
		r.fail(s, reqID, protocol.CodeMalformed)
	case !protocol.VerifyRequest(s.key, r.site, s.nonce, f):
		r.fail(s, reqID, protocol.CodeBadSignature)
	case f.Counter <= r.counters[s.key]:
		r.fail(s, reqID, protocol.CodeReplay)
	case f.Op != protocol.OpErase:
		r.fail(s, reqID, protocol.CodeForbidden)
	case r.gone[f.Conv]:
		r.fail(s, reqID, protocol.CodeGone)
	case r.convs[f.Conv] == nil:
		r.fail(s, reqID, protocol.CodeNotFound)
	case r.refuseRequest != 0:
		r.fail(s, reqID, r.refuseRequest)
	default:
		r.counters[s.key] = f.Counter
		r.erase(f.Conv)
		// The Done goes before the Erased push that erase queued for s.
		done := protocol.Encode(reqID, &protocol.Done{Op: f.Op, Conv: f.Conv})
		s.toClient = slices.Insert(s.toClient, len(s.toClient)-1, done)
	}
}

// erase removes a conversation and tells every agent page.
func (r *fakeRelay) erase(conv ids.ConvID) {
	if r.gone == nil {
		r.counters, r.gone = map[ids.Key]uint64{}, map[ids.ConvID]bool{}
	}
	delete(r.convs, conv)
	r.gone[conv] = true
	for _, o := range r.socks {
		if o.authed && !o.closed {
			o.push(0, &protocol.Erased{Conv: conv})
		}
	}
}

// correct has the visitor replace its answer at pos, as the relay carries out
// a correction request: the correction is appended, the original's bytes go,
// and Replaced is pushed.
func (w *world) correct(v *visitor, pos uint64, a content.Answer) uint64 {
	w.t.Helper()
	v.seq++
	to := []ids.Key{v.id.BoxKey(), w.agent.BoxKey(), w.other.BoxKey()}
	slices.SortFunc(to, func(a, b ids.Key) int { return bytes.Compare(a[:], b[:]) })
	raw, err := envelope.Seal(rand.Reader, v.id, to, envelope.Message{Site: w.site, Conv: v.conv, Seq: v.seq,
		Type: envelope.ContentType(content.TypeCorrection), Time: w.p.now.UnixMilli(),
		Content: content.EncodeCorrection(content.Correction{Pos: pos, Answer: a})})
	if err != nil {
		w.t.Fatal(err)
	}
	e, _ := envelope.Parse(raw)
	np, ok := w.relay.append(v.conv, e, raw)
	if !ok {
		w.t.Fatal("relay refused the correction")
	}
	w.relay.convs[v.conv].envs[pos-1] = nil
	for _, s := range w.relay.socks {
		if s.authed && !s.closed {
			s.push(0, &protocol.Replaced{Conv: v.conv, OldPos: pos, NewPos: np})
		}
	}
	w.relay.pump()
	return np
}

// answer sends a visitor's answer through the relay.
func (w *world) answer(v *visitor, a content.Answer) uint64 {
	w.t.Helper()
	v.seq++
	to := []ids.Key{v.id.BoxKey(), w.agent.BoxKey(), w.other.BoxKey()}
	slices.SortFunc(to, func(a, b ids.Key) int { return bytes.Compare(a[:], b[:]) })
	raw, err := envelope.Seal(rand.Reader, v.id, to, envelope.Message{Site: w.site, Conv: v.conv, Seq: v.seq,
		Type: envelope.ContentType(content.TypeAnswer), Time: w.p.now.UnixMilli(), Content: content.EncodeAnswer(a)})
	if err != nil {
		w.t.Fatal(err)
	}
	e, _ := envelope.Parse(raw)
	pos, ok := w.relay.append(v.conv, e, raw)
	if !ok {
		w.t.Fatal("relay refused the answer")
	}
	w.relay.pump()
	return pos
}

// holds reports whether any message of any conversation of the inbox holds s.
func holds(in *Inbox, s string) bool {
	for _, c := range in.convs {
		for _, m := range c.Messages {
			if strings.Contains(m.Text, s) {
				return true
			}
		}
	}
	return false
}

func openConversation(t *testing.T, w *world, v *visitor) *Conversation {
	t.Helper()
	w.app.Select(v.conv)
	w.relay.pump()
	c, ok := w.app.Inbox().Selected()
	if !ok || c.ID != v.conv || !c.Loaded {
		t.Fatal("conversation not open")
	}
	return c
}

func TestDeleteConversation(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	v, keep := w.newVisitor(), w.newVisitor()
	w.say(v, "SENTINEL-erase-me")
	w.say(keep, "bleibt")
	openConversation(t, w, v)
	if !holds(w.app.Inbox(), "SENTINEL-erase-me") {
		t.Fatal("message not shown")
	}
	if !w.app.Delete(v.conv) {
		t.Fatalf("Delete refused: %s", w.app.Error())
	}
	if c := w.app.Inbox().Get(v.conv); c == nil || !c.Deleting {
		t.Fatal("not marked as deleting")
	}
	if w.app.Delete(v.conv) {
		t.Fatal("a second Delete while one is outstanding")
	}
	w.relay.pump()
	if w.app.Inbox().Get(v.conv) != nil || holds(w.app.Inbox(), "SENTINEL-erase-me") {
		t.Fatal("conversation still held")
	}
	if _, ok := w.app.Inbox().Selected(); ok {
		t.Fatal("the deleted conversation is still open")
	}
	if w.app.Inbox().Get(keep.conv) == nil {
		t.Fatal("the other conversation went too")
	}
	if w.app.Notice() != w.app.Text().Deleted || w.app.Error() != "" {
		t.Fatalf("notice %q, error %q", w.app.Notice(), w.app.Error())
	}
	if w.relay.convs[v.conv] != nil || !w.relay.gone[v.conv] {
		t.Fatal("relay did not erase")
	}
	// The counter used is stored, as a decimal number.
	stored := w.p.storage[CounterKey]
	if stored != strconv.FormatUint(w.relay.counters[w.agent.SignKey()], 10) || stored == "0" {
		t.Fatalf("stored counter %q, relay %d", stored, w.relay.counters[w.agent.SignKey()])
	}
	if w.app.sess.Synced(v.conv) || w.app.sess.LastPos(v.conv) != 0 {
		t.Fatal("the session still holds the conversation")
	}
}

// After a reload with the clock set back, the stored counter keeps requests
// above the last one.
func TestDeleteCounterSurvivesReload(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	a, b := w.newVisitor(), w.newVisitor()
	w.say(a, "eins")
	w.say(b, "zwei")
	w.relay.pump()
	if !w.app.Delete(a.conv) {
		t.Fatal(w.app.Error())
	}
	w.relay.pump()
	first := w.relay.counters[w.agent.SignKey()]
	w.app.Lock()
	w.p.now = w.p.now.Add(-time.Hour)
	w.app = New(w.p, Config{Lang: German, Relay: "ws://relay.test/", Rand: rand.Reader})
	w.app.Start()
	w.app.Unlock(pass)
	w.p.runPaint()
	w.relay.pump()
	if !w.app.Delete(b.conv) {
		t.Fatal(w.app.Error())
	}
	w.relay.pump()
	if w.app.Inbox().Get(b.conv) != nil || w.app.Error() != "" {
		t.Fatalf("second delete failed: %q", w.app.Error())
	}
	if got := w.relay.counters[w.agent.SignKey()]; got != first+1 {
		t.Fatalf("counter %d after %d", got, first)
	}
}

func TestDeleteRefused(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	v := w.newVisitor()
	w.say(v, "hallo")
	openConversation(t, w, v)
	w.relay.refuseRequest = protocol.CodeForbidden
	if !w.app.Delete(v.conv) {
		t.Fatal(w.app.Error())
	}
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if c == nil || c.Deleting || !holds(w.app.Inbox(), "hallo") {
		t.Fatal("a refused delete removed the conversation")
	}
	if e := w.app.Error(); !strings.HasPrefix(e, w.app.Text().DeleteFailed) || !strings.Contains(e, w.app.Text().ErrForbidden) {
		t.Fatalf("error %q", e)
	}
	if w.app.Conn() != ConnOnline {
		t.Fatal("the refusal ended the connection")
	}
}

// An Erased push (the visitor, another agent or retention deleted it) purges
// the conversation even while it is open.
func TestErasedElsewherePurges(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	v := w.newVisitor()
	w.say(v, "SENTINEL-visitor-deleted")
	openConversation(t, w, v)
	w.relay.erase(v.conv)
	w.relay.pump()
	if w.app.Inbox().Get(v.conv) != nil || holds(w.app.Inbox(), "SENTINEL-visitor-deleted") {
		t.Fatal("not purged")
	}
	if _, ok := w.app.Inbox().Selected(); ok {
		t.Fatal("still open")
	}
	if want := "Das Gespräch " + ShortID(v.conv) + " wurde gelöscht."; w.app.Notice() != want {
		t.Fatalf("notice %q, want %q", w.app.Notice(), want)
	}
	// An Erased push for a conversation the page never had is harmless.
	w.relay.erase(ids.ConvID{9})
	w.relay.pump()
	if w.app.Conn() != ConnOnline {
		t.Fatal("connection lost")
	}
}

func TestCorrectionShowsOnlyNewValue(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	v := w.newVisitor()
	email := content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "SENTINEL-old@example.com"}
	pos := w.answer(v, email)
	openConversation(t, w, v)
	if !holds(w.app.Inbox(), "SENTINEL-old@example.com") {
		t.Fatal("answer not shown")
	}
	email.Value = "neu@example.com"
	np := w.correct(v, pos, email)
	c := w.app.Inbox().Get(v.conv)
	if holds(w.app.Inbox(), "SENTINEL-old@example.com") {
		t.Fatal("the old value is still held")
	}
	if len(c.Messages) != 1 {
		t.Fatalf("%d messages, want 1", len(c.Messages))
	}
	m := c.Messages[0]
	if m.Pos != np || !m.Corrected || m.Original != pos || m.Text != "neu@example.com" || m.Kind != KindAnswer ||
		m.Variable != "email" || !m.Personal {
		t.Fatalf("message %+v", m)
	}
	sh := w.app.Text().Show(&m, time.UTC)
	if sh.Corrected != "korrigiert" || sh.Text != "neu@example.com" || sh.Label != "E-Mail" || sh.Marker == "" {
		t.Fatalf("shown %+v", sh)
	}
	// A fresh page sees only the correction too.
	w.app.Lock()
	w.app.Unlock(pass)
	w.p.runPaint()
	w.relay.pump()
	c = openConversation(t, w, v)
	if holds(w.app.Inbox(), "SENTINEL-old@example.com") || len(c.Messages) != 1 || !c.Messages[0].Corrected {
		t.Fatalf("after reload: %+v", c.Messages)
	}
}

func TestInboxCorrectionAndReplaced(t *testing.T) {
	var in Inbox
	id := ids.ConvID{1}
	in.Add(id, Message{Pos: 1, From: FromBot, Kind: KindBot, Text: "Ihre E-Mail?"})
	in.Add(id, Message{Pos: 2, From: FromVisitor, Kind: KindAnswer, Text: "alt@example.com", Variable: "email"})
	in.Add(id, Message{Pos: 3, From: FromVisitor, Kind: KindText, Text: "danke"})
	// The Replaced push alone drops the original.
	if !in.Replaced(id, 2) || in.Replaced(id, 2) || holds(&in, "alt@") {
		t.Fatal("Replaced")
	}
	in.Add(id, Message{Pos: 4, From: FromVisitor, Kind: KindAnswer, Text: "neu@example.com", Variable: "email",
		Corrected: true, Original: 2})
	c := in.Get(id)
	if got := texts(c); strings.Join(got, "|") != "Ihre E-Mail?|danke|neu@example.com" {
		t.Fatalf("texts %q", got)
	}
	// The correction before the push drops it as well.
	in.Add(id, Message{Pos: 5, From: FromVisitor, Kind: KindAnswer, Text: "zweite@example.com", Variable: "email",
		Corrected: true, Original: 4})
	if holds(&in, "neu@") || !holds(&in, "zweite@") {
		t.Fatalf("texts %q", texts(c))
	}
	if in.Replaced(ids.ConvID{2}, 1) {
		t.Fatal("Replaced for an unknown conversation")
	}
}
