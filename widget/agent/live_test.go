package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// liveFrame handles the live-chat frames of docs/PROTOCOL.md §6.7 in the fake
// relay: Typing is forwarded, Takeover and Close change the state and push it
// to every agent.
func (r *fakeRelay) liveFrame(s *fakeSock, reqID uint32, f protocol.Frame) bool {
	switch f := f.(type) {
	case *protocol.Typing:
		r.pushAll(s, &protocol.TypingPush{Conv: f.Conv, Key: s.key, On: f.On})
	case *protocol.Takeover:
		r.setState(reqID, s, f.Conv, protocol.StateLive, s.key)
	case *protocol.Close:
		r.setState(reqID, s, f.Conv, protocol.StateClosed, ids.Key{})
	default:
		return false
	}
	return true
}

// pushAll pushes f to every authenticated socket except skip.
func (r *fakeRelay) pushAll(skip *fakeSock, f protocol.Frame) {
	for _, o := range r.socks {
		if o != skip && o.authed && !o.closed {
			o.push(0, f)
		}
	}
}

func (r *fakeRelay) setState(reqID uint32, s *fakeSock, conv ids.ConvID, st protocol.ConvState, agent ids.Key) {
	if r.convs[conv] == nil {
		r.fail(s, reqID, protocol.CodeNotFound)
		return
	}
	f := &protocol.ConvStateFrame{Conv: conv, State: st, Agent: agent}
	s.push(reqID, f)
	r.pushAll(s, f)
}

// rosterWith signs a roster of the given version with the agents.
func (w *world) rosterWith(version uint64, agents ...roster.Agent) []byte {
	w.t.Helper()
	r := &roster.Roster{Site: w.site, Version: version, NotAfter: w.p.now.Add(24 * time.Hour).Unix(), Agents: agents}
	raw, err := r.Encode(w.owner)
	if err != nil {
		w.t.Fatal(err)
	}
	return raw
}

func (w *world) anna() roster.Agent {
	return roster.Agent{ID: ids.AgentID{1}, Name: "Anna", Sign: w.agent.SignKey(), Box: w.agent.BoxKey()}
}

func (w *world) bert(name string) roster.Agent {
	return roster.Agent{ID: ids.AgentID{2}, Name: name, Sign: w.other.SignKey(), Box: w.other.BoxKey()}
}

func (w *world) pushState(conv ids.ConvID, st protocol.ConvState, agent ids.Key) {
	w.relay.pushAll(nil, &protocol.ConvStateFrame{Conv: conv, State: st, Agent: agent})
	w.relay.pump()
}

func (w *world) liveFrames() []protocol.Frame {
	var out []protocol.Frame
	for _, f := range w.relay.frames {
		switch f.(type) {
		case *protocol.Typing, *protocol.Takeover, *protocol.Close:
			out = append(out, f)
		}
	}
	return out
}

func typingFrames(fs []protocol.Frame) []bool {
	var out []bool
	for _, f := range fs {
		if t, ok := f.(*protocol.Typing); ok {
			out = append(out, t.On)
		}
	}
	return out
}

func TestInboxGroups(t *testing.T) {
	var in Inbox
	a, b, c, d, e := ids.ConvID{1}, ids.ConvID{2}, ids.ConvID{3}, ids.ConvID{4}, ids.ConvID{5}
	in.SetList([]Entry{{ID: a, Created: 10}, {ID: b, Created: 20}, {ID: c, Created: 30}, {ID: d, Created: 40}, {ID: e, Created: 50}})
	if !in.SetState(b, protocol.StateWaiting, ids.Key{}, "") {
		t.Error("first waiting not reported")
	}
	if in.SetState(b, protocol.StateWaiting, ids.Key{}, "") {
		t.Error("repeated waiting reported again")
	}
	in.SetState(e, protocol.StateWaiting, ids.Key{}, "")
	in.SetState(c, protocol.StateLive, ids.Key{7}, "Bert")
	in.SetState(d, protocol.StateClosed, ids.Key{7}, "Bert")
	idsOf := func(cs []*Conversation) []ids.ConvID {
		var out []ids.ConvID
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	want := map[Group][]ids.ConvID{GroupWaiting: {e, b}, GroupLive: {c}, GroupBot: {a}, GroupClosed: {d}}
	for _, g := range Groups {
		if got := idsOf(in.Grouped(g)); !slices.Equal(got, want[g]) {
			t.Errorf("group %s: %v, want %v", g, got, want[g])
		}
	}
	if got := in.Get(d); got.Holder != (ids.Key{}) || got.HolderName != "" {
		t.Errorf("closed conversation keeps a holder: %+v", got)
	}
	if in.Get(c).HolderName != "Bert" || in.CountState(protocol.StateWaiting) != 2 {
		t.Error("live holder or waiting count wrong")
	}
	// Waiting again after closed is a new request for a person.
	if !in.SetState(d, protocol.StateWaiting, ids.Key{}, "") {
		t.Error("reopened conversation not reported as waiting")
	}
	de := Strings(German)
	if de.GroupTitle(GroupWaiting) != "Wartet auf einen Menschen" || de.GroupTitle(GroupBot) != "Nur Bot" ||
		Strings(English).GroupTitle(GroupClosed) != "Closed" {
		t.Error("group titles")
	}
}

func TestWaitingNotifiesAndBadges(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	if got := w.app.PageTitle(); got != "(1) Siegel – Posteingang" { // one unread
		t.Errorf("title %q", got)
	}
	w.app.Select(v.conv)
	w.relay.pump()
	if got := w.app.PageTitle(); got != "Siegel – Posteingang" {
		t.Errorf("title after reading %q", got)
	}
	w.pushState(v.conv, protocol.StateWaiting, ids.Key{})
	if len(w.p.notes) != 1 || w.p.notes[0].tag != v.conv.String() || w.p.notes[0].title != Strings(German).NotifyTitle {
		t.Fatalf("notifications %+v", w.p.notes)
	}
	if got := w.app.PageTitle(); got != "(1) Siegel – Posteingang" {
		t.Errorf("title while waiting %q", got)
	}
	v2 := w.newVisitor()
	w.say(v2, "Hallo?")
	w.pushState(v2.conv, protocol.StateWaiting, ids.Key{})
	w.pushState(v2.conv, protocol.StateWaiting, ids.Key{}) // repeated after a List: no second note
	if len(w.p.notes) != 2 || w.app.PageTitle() != "(2) Siegel – Posteingang" {
		t.Errorf("notes %d, title %q", len(w.p.notes), w.app.PageTitle())
	}
	// Bert takes the first one over: Anna sees who did.
	w.pushState(v.conv, protocol.StateLive, w.other.SignKey())
	c := w.app.Inbox().Get(v.conv)
	if got := w.app.TakenByText(c); got != "übernommen von Bert" {
		t.Errorf("taken by %q", got)
	}
	if got := w.app.HolderText(c); got != "von Bert" {
		t.Errorf("holder %q", got)
	}
	if !w.app.CanTakeover(c) || !w.app.CanClose(c) {
		t.Error("a conversation another agent holds can be taken over and ended")
	}
	if w.app.WaitingCount() != 1 || w.app.PageTitle() != "(1) Siegel – Posteingang" {
		t.Errorf("waiting %d title %q", w.app.WaitingCount(), w.app.PageTitle())
	}
}

func TestTakeoverAndClose(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.pushState(v.conv, protocol.StateWaiting, ids.Key{})
	if !w.app.Takeover(v.conv) {
		t.Fatalf("takeover refused: %q", w.app.Error())
	}
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if c.State != protocol.StateLive || c.Holder != w.agent.SignKey() {
		t.Fatalf("state %v holder %v", c.State, c.Holder)
	}
	if w.app.HolderText(c) != "von Ihnen" || w.app.TakenByText(c) != "" || w.app.CanTakeover(c) {
		t.Errorf("own live conversation: %q %q %v", w.app.HolderText(c), w.app.TakenByText(c), w.app.CanTakeover(c))
	}
	if w.app.Takeover(v.conv) {
		t.Error("took over twice")
	}
	if !w.app.CloseConv(v.conv) {
		t.Fatalf("close refused: %q", w.app.Error())
	}
	w.relay.pump()
	if c.State != protocol.StateClosed || w.app.CanClose(c) || !w.app.CanTakeover(c) {
		t.Errorf("closed: state %v canClose %v canTakeover %v", c.State, w.app.CanClose(c), w.app.CanTakeover(c))
	}
	var kinds []protocol.Type
	for _, f := range w.liveFrames() {
		kinds = append(kinds, f.Type())
	}
	if !slices.Equal(kinds, []protocol.Type{protocol.TypeTakeover, protocol.TypeClose}) {
		t.Errorf("frames %v", kinds)
	}
	// Offline, nothing is queued: an error in words.
	w.relay.down = true
	w.relay.dropAll()
	w.relay.pump()
	if w.app.Takeover(v.conv) || w.app.Error() != Strings(German).TakeoverFailed {
		t.Errorf("takeover offline: %q", w.app.Error())
	}
}

func TestTypingThrottle(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.app.ReplyInput("H") // nothing open: nothing sent
	w.app.Select(v.conv)
	w.relay.pump()
	w.app.ReplyInput("H")
	w.app.ReplyInput("Ha")
	w.p.advance(2 * time.Second)
	w.app.ReplyInput("Hal")
	w.p.advance(time.Second)
	w.app.ReplyInput("Hall") // 3 s after the first: refreshed
	w.app.ReplyInput("   ")  // empty: stopped
	w.app.ReplyInput("")     // already stopped
	w.app.ReplyInput("Hallo")
	w.app.ReplyBlur()
	w.app.ReplyBlur()
	w.app.ReplyInput("Hallo")
	w.p.advance(5 * time.Second)
	if !w.app.Reply("Hallo") {
		t.Fatal(w.app.Error())
	}
	w.relay.pump()
	want := []bool{true, true, false, true, false, true, false}
	if got := typingFrames(w.liveFrames()); !slices.Equal(got, want) {
		t.Errorf("typing frames %v, want %v", got, want)
	}
	// Switching conversations stops typing in the old one.
	v2 := w.newVisitor()
	w.say(v2, "Hi")
	w.app.ReplyInput("x")
	w.app.Select(v2.conv)
	w.relay.pump()
	fs := w.liveFrames()
	last := fs[len(fs)-1].(*protocol.Typing)
	if last.On || last.Conv != v.conv {
		t.Errorf("last frame %+v", last)
	}
}

func TestIncomingTyping(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	push := func(key ids.Key, on bool) {
		w.relay.pushAll(nil, &protocol.TypingPush{Conv: v.conv, Key: key, On: on})
		w.relay.pump()
	}
	c := w.app.Inbox().Get(v.conv)
	de := Strings(German)
	push(v.id.SignKey(), true)
	if got := de.TypingText(c); got != "Besucher tippt …" || !c.VisitorTyping() {
		t.Errorf("visitor typing %q", got)
	}
	w.p.advance(4 * time.Second)
	push(w.other.SignKey(), true)
	if got := de.TypingText(c); got != "Besucher tippt …; Bert tippt …" {
		t.Errorf("both typing %q", got)
	}
	push(v.id.SignKey(), true) // refresh at 4 s
	w.p.advance(3 * time.Second)
	if !c.VisitorTyping() {
		t.Error("refreshed indicator dropped early")
	}
	push(w.other.SignKey(), false)
	if got := de.TypingText(c); got != "Besucher tippt …" {
		t.Errorf("after Bert stopped %q", got)
	}
	w.p.advance(3 * time.Second) // 6 s after the refresh
	if got := de.TypingText(c); got != "" {
		t.Errorf("not dropped after 6 s: %q", got)
	}
	push(w.agent.SignKey(), true) // own key (another tab): not shown
	if len(c.Typers) != 0 {
		t.Error("own typing shown")
	}
	if w.p.pendingTimers() != 0 {
		t.Errorf("%d timers left", w.p.pendingTimers())
	}
}

func TestRosterUpdateRenames(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.pushState(v.conv, protocol.StateLive, w.other.SignKey())
	w.relay.pushAll(nil, &protocol.RosterUpdate{Roster: w.rosterWith(2, w.anna(), w.bert("Berta"))})
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if got := w.app.TakenByText(c); got != "übernommen von Berta" {
		t.Errorf("after rename %q", got)
	}
	if w.app.Removed() || w.app.Conn() != ConnOnline {
		t.Errorf("removed %v conn %d", w.app.Removed(), w.app.Conn())
	}
}

func assertRemoved(t *testing.T, w *world) {
	t.Helper()
	if !w.app.Removed() || w.app.RemovedText() != Strings(German).Removed || w.app.Error() != "" || w.app.Conn() != ConnStopped {
		t.Fatalf("removed %v conn %d err %q", w.app.Removed(), w.app.Conn(), w.app.Error())
	}
	dials := len(w.p.dialed)
	w.p.advance(10 * time.Minute)
	if len(w.p.dialed) != dials {
		t.Error("reconnects after removal")
	}
	if w.relay.live() != 0 {
		t.Error("connection left open")
	}
	if w.app.CanTakeover(&Conversation{}) || w.app.CanClose(&Conversation{}) {
		t.Error("actions offered after removal")
	}
}

func TestRemovedByRosterUpdate(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	delete(w.relay.agents, w.agent.SignKey())
	w.relay.pushAll(nil, &protocol.RosterUpdate{Roster: w.rosterWith(2, w.bert("Bert"))})
	w.relay.pump()
	assertRemoved(t, w)
}

func TestRemovedByPolicyClose(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	for _, s := range w.relay.socks {
		s.closed, s.closeCode = true, ClosePolicy
	}
	w.relay.pump()
	assertRemoved(t, w)
}

func TestRemovedRefusedOnReconnect(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	delete(w.relay.agents, w.agent.SignKey())
	w.relay.dropAll()
	w.relay.pump()
	w.p.advance(time.Minute)
	assertRemoved(t, w)
}

func TestPolicyCloseBeforeAcceptedRetries(t *testing.T) {
	w := newWorld(t)
	w.relay.refuseHello = 0
	w.app.Start()
	w.app.ImportKey(w.keyText)
	w.app.Unlock(pass)
	w.p.runPaint()
	// The relay closes before any Welcome ("no hello"): not a removal.
	for _, s := range w.relay.socks {
		s.closed, s.closeCode = true, ClosePolicy
	}
	w.relay.pump()
	if w.app.Removed() || w.app.NotInRoster() || w.app.Error() != "" {
		t.Fatalf("removed %v, not in roster %v, error %q", w.app.Removed(), w.app.NotInRoster(), w.app.Error())
	}
	w.p.advance(time.Minute)
	if w.app.Conn() != ConnOnline {
		t.Errorf("conn %d", w.app.Conn())
	}
}

func rosterAgent(id ids.AgentID, name string, k interface {
	SignKey() ids.Key
	BoxKey() ids.Key
}) roster.Agent {
	return roster.Agent{ID: id, Name: name, Sign: k.SignKey(), Box: k.BoxKey()}
}

func TestLiveStringsComplete(t *testing.T) {
	for _, l := range []Lang{German, English} {
		tx := Strings(l)
		fields := []string{tx.Generate, tx.GenerateTitle, tx.GenerateHint, tx.AgentName, tx.SiteField,
			tx.OwnerField, tx.OwnerHint, tx.NewPass, tx.NewPassAgain, tx.NewPassHint, tx.Create, tx.Cancel,
			tx.Generating, tx.BadName, tx.BadSite, tx.BadOwner, tx.PassShort, tx.PassMismatch,
			tx.GenerateFailed, tx.PubTitle, tx.PubLabel, tx.PubHint, tx.Copy, tx.Copied, tx.CopyFailed,
			tx.Backup, tx.BackupHint, tx.NotInRoster, tx.GroupWaiting, tx.GroupLive, tx.GroupBot,
			tx.GroupClosed, tx.By, tx.ByYou, tx.TakenBy, tx.Takeover, tx.TakeoverFailed, tx.EndConv,
			tx.EndAsk, tx.EndConfirm, tx.CloseFailed, tx.VisitorTyping, tx.AgentTyping, tx.NotifyEnable,
			tx.NotifyOn, tx.NotifyDenied, tx.NotifyTitle, tx.NotifyBody, tx.Removed}
		for i, f := range fields {
			if f == "" {
				t.Errorf("%s: live field %d empty", l.Code(), i)
			}
		}
		if !strings.Contains(tx.PubHint, "relay roster add") || !strings.Contains(tx.NotInRoster, "not in roster") {
			t.Errorf("%s: the roster hints name the command and the relay's words", l.Code())
		}
	}
	if Strings(German).Generate != "Neuen Schlüssel erzeugen" || Strings(English).Generate != "Create a new key" ||
		Strings(German).NotifyEnable != "Benachrichtigungen aktivieren" ||
		!strings.HasPrefix(Strings(German).Removed, "Sie wurden aus dem Team entfernt") ||
		!strings.HasPrefix(Strings(English).Removed, "You were removed from the team") {
		t.Error("required labels")
	}
}

func TestRemovedSendsNothing(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	for _, s := range w.relay.socks {
		s.closed, s.closeCode = true, ClosePolicy
	}
	w.relay.pump()
	if !w.app.Removed() {
		t.Fatal("not removed")
	}
	n := len(w.relay.frames)
	w.app.ReplyInput("Hallo")
	if w.app.Reply("Hallo") || w.app.Takeover(v.conv) || w.app.CloseConv(v.conv) {
		t.Error("an action was accepted after the removal")
	}
	w.p.advance(time.Minute)
	if len(w.relay.frames) != n || len(w.relay.socks) != 1 {
		t.Errorf("frames %d → %d, sockets %d", n, len(w.relay.frames), len(w.relay.socks))
	}
}
