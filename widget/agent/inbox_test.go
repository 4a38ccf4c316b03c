package agent

import (
	"testing"

	"siegel/shared/ids"
)

func cid(b byte) ids.ConvID { var c ids.ConvID; c[0] = b; return c }
func key(b byte) ids.Key    { var k ids.Key; k[0] = b; return k }

func visitorMsg(pos uint64, stored int64, text string) Message {
	return Message{Pos: pos, Seq: pos, From: FromVisitor, Sender: key(0xee), Text: text, Stored: stored}
}

func positions(c *Conversation) []uint64 {
	var out []uint64
	for _, m := range c.Messages {
		out = append(out, m.Pos)
	}
	return out
}

func eq(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInboxListAndUnread(t *testing.T) {
	var in Inbox
	in.SetList([]Entry{
		{ID: cid(1), LastPos: 5, Created: 3600, DeliveredPos: 2},
		{ID: cid(2), LastPos: 1, Created: 7200, DeliveredPos: 1},
	})
	if in.Len() != 2 {
		t.Fatalf("len %d", in.Len())
	}
	if u := in.Get(cid(1)).Unread(); u != 3 {
		t.Errorf("unread = %d, want 3", u)
	}
	if u := in.Get(cid(2)).Unread(); u != 0 {
		t.Errorf("unread = %d, want 0", u)
	}
	if in.TotalUnread() != 3 {
		t.Errorf("total %d", in.TotalUnread())
	}
	// Sorted by activity: cid(2) created later comes first.
	s := in.Sorted()
	if s[0].ID != cid(2) || s[1].ID != cid(1) {
		t.Errorf("order %v %v", s[0].ID, s[1].ID)
	}
	if in.Get(cid(1)).LastStored() != 0 {
		t.Error("last stored known without messages")
	}
	// A known agent message after the delivered position is not unread.
	in.Add(cid(1), Message{Pos: 4, Seq: 1, From: FromAgent, Sender: key(1), Text: "hi", Stored: 9000})
	if u := in.Get(cid(1)).Unread(); u != 2 {
		t.Errorf("unread after agent msg = %d, want 2", u)
	}
	if in.Get(cid(1)).LastStored() != 9000 {
		t.Error("last stored")
	}
	// Now cid(1) has later activity.
	if s := in.Sorted(); s[0].ID != cid(1) {
		t.Errorf("activity order wrong")
	}
	// A receipt moves the delivered position.
	if !in.Receipt(cid(1), 5) || in.Get(cid(1)).Unread() != 0 {
		t.Errorf("receipt did not clear unread")
	}
	if in.Receipt(cid(1), 3) {
		t.Errorf("older receipt changed state")
	}
}

func TestInboxSetListDropsDeleted(t *testing.T) {
	var in Inbox
	in.SetList([]Entry{{ID: cid(1), LastPos: 1}, {ID: cid(2), LastPos: 1}})
	in.Add(cid(2), visitorMsg(1, 60, "secret"))
	in.Select(cid(2))
	c2 := in.Get(cid(2))
	in.SetList([]Entry{{ID: cid(1), LastPos: 1}})
	if in.Get(cid(2)) != nil {
		t.Fatal("deleted conversation kept")
	}
	if _, ok := in.Selected(); ok {
		t.Error("selection of deleted conversation kept")
	}
	if c2.Messages[0].Text != "" {
		t.Error("plaintext of deleted conversation not wiped")
	}
	// A full list (MaxList entries) is not complete: nothing is dropped.
	full := make([]Entry, MaxList)
	for i := range full {
		full[i].ID[0], full[i].ID[1] = 0x80, byte(i)
		full[i].ID[2] = byte(i >> 8)
	}
	in.SetList(full)
	if in.Get(cid(1)) == nil {
		t.Error("conversation dropped although the list may be truncated")
	}
}

func TestInboxAddOrderAndDuplicates(t *testing.T) {
	var in Inbox
	id := cid(1)
	for _, p := range []uint64{3, 1, 2, 3, 1} {
		in.Add(id, visitorMsg(p, int64(p)*60, "m"))
	}
	c := in.Get(id)
	if !eq(positions(c), []uint64{1, 2, 3}) {
		t.Fatalf("positions %v", positions(c))
	}
	if c.LastPos != 3 || c.MaxPos() != 3 {
		t.Errorf("last %d max %d", c.LastPos, c.MaxPos())
	}
	if in.Add(id, Message{Pos: 0, Text: "x"}) {
		t.Error("position 0 accepted")
	}
	// An unreadable placeholder is replaced by a readable copy, not the reverse.
	in.Add(id, Message{Pos: 4, Unreadable: true, From: FromVisitor})
	if !in.Add(id, visitorMsg(4, 240, "ok")) || c.Messages[3].Unreadable {
		t.Error("readable copy did not replace the placeholder")
	}
	if in.Add(id, Message{Pos: 4, Unreadable: true}) || c.Messages[3].Text != "ok" {
		t.Error("placeholder replaced a readable message")
	}
}

func TestInboxPendingAckAndEcho(t *testing.T) {
	var in Inbox
	id := cid(1)
	me := key(7)
	in.Add(id, visitorMsg(1, 60, "hallo"))
	in.AddPending(id, Message{Seq: 1, Sender: me, Text: "a", Time: 1000})
	in.AddPending(id, Message{Seq: 2, Sender: me, Text: "b", Time: 2000})
	in.AddPending(id, Message{Seq: 2, Sender: me, Text: "b", Time: 2000}) // repeat ignored
	c := in.Get(id)
	if len(c.Messages) != 3 || !c.Messages[1].Pending || !c.Messages[2].Pending || !c.Messages[1].Own ||
		c.Messages[1].From != FromAgent || c.Messages[1].State() != "pending" {
		t.Fatalf("pending not recorded: %+v", c.Messages)
	}
	idA, idB := c.Messages[1].ID, c.Messages[2].ID
	if idA == 0 || idB == 0 || idA == idB || idA == c.Messages[0].ID {
		t.Fatalf("ids %d %d %d", c.Messages[0].ID, idA, idB)
	}
	if c.MaxPos() != 1 {
		t.Errorf("pending counted as stored")
	}
	// A visitor message arriving meanwhile goes before the pending replies.
	in.Add(id, visitorMsg(2, 120, "noch da?"))
	if !eq(positions(c), []uint64{1, 2, 0, 0}) {
		t.Fatalf("positions %v", positions(c))
	}
	// Ack of seq 1 at pos 3.
	if !in.Acked(id, me, 1, 3, 180) {
		t.Fatal("ack ignored")
	}
	m := c.Messages[2]
	if !eq(positions(c), []uint64{1, 2, 3, 0}) || m.Pending || m.Text != "a" || m.Stored != 180 || m.ID != idA || m.State() != "sent" {
		t.Fatalf("after ack: %+v", c.Messages)
	}
	if in.Acked(id, me, 1, 3, 180) {
		t.Error("second ack changed state")
	}
	// An ack without position (committed earlier) marks seq 2 sent, unplaced.
	if !in.Acked(id, me, 2, 0, 0) || c.Messages[3].Pending || c.Messages[3].Pos != 0 {
		t.Fatalf("ack without position: %+v", c.Messages[3])
	}
	// The relay's Deliver echo of seq 2 places it, keeping its ID.
	if !in.Add(id, Message{Pos: 4, Seq: 2, From: FromAgent, Sender: me, Own: true, Text: "b", Stored: 240}) {
		t.Error("echo reported no change")
	}
	m = c.Messages[3]
	if !eq(positions(c), []uint64{1, 2, 3, 4}) || m.Pending || m.Time != 2000 || m.ID != idB {
		t.Fatalf("after echo: %+v", c.Messages)
	}
	// The echo of seq 1 after its ack does not duplicate it.
	if in.Add(id, Message{Pos: 3, Seq: 1, From: FromAgent, Sender: me, Own: true, Text: "a", Stored: 180}) || len(c.Messages) != 4 {
		t.Errorf("duplicate after echo: %v", positions(c))
	}
	// Another agent's message with the same seq does not replace a pending reply.
	in.AddPending(id, Message{Seq: 3, Sender: me, Text: "c"})
	in.Add(id, Message{Pos: 5, Seq: 3, From: FromAgent, Sender: key(8), Text: "other"})
	if !c.Messages[len(c.Messages)-1].Pending {
		t.Error("other agent's message consumed our pending reply")
	}
}

func TestInboxRenumberAndFailed(t *testing.T) {
	var in Inbox
	id := cid(1)
	me := key(7)
	in.AddPending(id, Message{Seq: 3, Sender: me, Text: "x"})
	in.AddPending(id, Message{Seq: 4, Sender: me, Text: "y"})
	in.AddPending(id, Message{Seq: 5, Sender: me, Text: "z"})
	text, ok := in.Failed(id, me, 3)
	if !ok || text != "x" {
		t.Fatalf("failed: %q %v", text, ok)
	}
	c := in.Get(id)
	if !c.Messages[0].Failed || c.Messages[0].Pending || c.Messages[0].State() != "failed" {
		t.Errorf("failed state %+v", c.Messages[0])
	}
	if _, ok := in.Failed(id, me, 3); ok {
		t.Error("failed twice")
	}
	// The session renumbers the rest in order: 4→3, 5→4.
	if !in.Renumber(id, me, 4, 3) || !in.Renumber(id, me, 5, 4) {
		t.Fatal("renumber failed")
	}
	if c.Messages[1].Seq != 3 || c.Messages[2].Seq != 4 || c.Messages[0].Seq != 3 || !c.Messages[0].Failed {
		t.Errorf("after renumber %+v", c.Messages)
	}
	if in.Renumber(id, me, 9, 1) || in.Renumber(cid(2), me, 3, 1) {
		t.Error("renumbered a missing reply")
	}
	// The ack for the renumbered seq 3 places "y", not the failed "x".
	in.Acked(id, me, 3, 1, 60)
	if c.Messages[0].Text != "y" || c.Messages[0].Pos != 1 {
		t.Errorf("wrong reply acked: %+v", c.Messages)
	}
	// A message arriving in a conversation not in the list creates it.
	in.Add(cid(5), visitorMsg(2, 600, "neu"))
	if c5 := in.Get(cid(5)); c5 == nil || c5.Created != 600 || c5.Unread() != 2 {
		t.Errorf("new conversation %+v", c5)
	}
}

func TestInboxSelectFetchDelivered(t *testing.T) {
	var in Inbox
	id := cid(1)
	in.SetList([]Entry{{ID: id, LastPos: 3, DeliveredPos: 1}})
	if _, _, ok := in.DeliveredDue(true); ok {
		t.Error("delivered due without selection")
	}
	if in.Select(cid(9)) {
		t.Error("selected an unknown conversation")
	}
	if !in.Select(id) {
		t.Fatal("select failed")
	}
	c := in.Get(id)
	c.Loading = true
	in.Add(id, visitorMsg(1, 60, "a"))
	in.Add(id, visitorMsg(2, 60, "b"))
	in.Add(id, visitorMsg(3, 60, "c"))
	if _, _, ok := in.DeliveredDue(true); ok {
		t.Error("delivered due before the conversation is loaded")
	}
	in.Fetched(id, 3, true)
	if !c.Loaded || c.Loading {
		t.Fatalf("loaded %v loading %v", c.Loaded, c.Loading)
	}
	if _, _, ok := in.DeliveredDue(false); ok {
		t.Error("delivered due while hidden")
	}
	cid2, pos, ok := in.DeliveredDue(true)
	if !ok || cid2 != id || pos != 3 {
		t.Fatalf("due %v %d %v", cid2, pos, ok)
	}
	in.MarkDelivered(id, 3)
	if _, _, ok := in.DeliveredDue(true); ok {
		t.Error("due again after marking")
	}
	if c.Unread() != 0 {
		t.Errorf("unread %d", c.Unread())
	}
	in.Add(id, visitorMsg(4, 120, "d"))
	if c.Unread() != 1 {
		t.Errorf("unread %d after new message", c.Unread())
	}
	if _, pos, ok := in.DeliveredDue(true); !ok || pos != 4 {
		t.Errorf("new message not due: %d %v", pos, ok)
	}
	// After a reconnect the confirmation is due again (it may have been lost).
	in.MarkDelivered(id, 4)
	c.DeliveredPos = 3 // the relay did not get it
	c.Loading = true
	in.Reconnected()
	if c.Loading {
		t.Error("fetch still outstanding after reconnect")
	}
	if _, pos, ok := in.DeliveredDue(true); !ok || pos != 4 {
		t.Errorf("not due after reconnect: %d %v", pos, ok)
	}
	// The list marks a loaded conversation as incomplete when it grew.
	in.SetList([]Entry{{ID: id, LastPos: 6, DeliveredPos: 4}})
	if c.Loaded {
		t.Error("still loaded although positions are missing")
	}
	in.Fetched(id, 6, false)
	if c.Loaded || c.LastPos != 6 {
		t.Error("incomplete fetch counted as loaded")
	}
	in.Deselect()
	if _, ok := in.Selected(); ok {
		t.Error("still selected")
	}
}

func TestInboxClearWipes(t *testing.T) {
	var in Inbox
	in.Add(cid(1), visitorMsg(1, 60, "secret"))
	c := in.Get(cid(1))
	in.Select(cid(1))
	in.Clear()
	if in.Len() != 0 || c.Messages[0].Text != "" {
		t.Error("clear kept data")
	}
	if _, ok := in.Selected(); ok {
		t.Error("selection kept")
	}
}
