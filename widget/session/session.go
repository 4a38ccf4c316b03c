package session

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// Errors returned by Send, Reply, List, Fetch and MarkDelivered, and carried by
// events. Use errors.Is.
var (
	ErrEmpty         = errors.New("session: empty message")
	ErrTooLong       = errors.New("session: message too long")
	ErrInvalidText   = errors.New("session: text is not valid UTF-8")
	ErrStopped       = errors.New("session: stopped")
	ErrOutboxFull    = errors.New("session: too many unsent messages")
	ErrRole          = errors.New("session: not allowed in this role")
	ErrNotReady      = errors.New("session: not connected")
	ErrNotSynced     = errors.New("session: conversation not fetched yet")
	ErrNoVisitorKey  = errors.New("session: visitor key not known yet")
	ErrUnknownSender = errors.New("session: sender is neither the visitor nor a roster agent")
	ErrProtocol      = errors.New("session: unexpected frame from the relay")
	ErrConfig        = errors.New("session: invalid configuration")
)

// MaxText is the largest text message in bytes of UTF-8 (docs/PROTOCOL.md §3).
const MaxText = 16384

// MaxOutbox is the largest number of unacknowledged messages per conversation.
const MaxOutbox = 100

// Transport is one connection to the relay. Send transmits one binary WebSocket
// message; Close ends the connection (the caller then calls Disconnected).
type Transport interface {
	Send([]byte) error
	Close()
}

// Config sets up a Session.
type Config struct {
	Role     protocol.Role   // protocol.RoleVisitor or protocol.RoleAgent
	Site     ids.SiteID      // the site (from the script tag / page)
	Owner    ids.Fingerprint // the owner key fingerprint the roster must be signed with
	Identity *envelope.Identity
	Rand     io.Reader        // cryptographic randomness for sealing
	Now      func() time.Time // nil: time.Now
	State    State            // restored persistent state; zero for a new conversation
}

// State is what a visitor persists between page loads (agents: only RosterVersion
// and Roster are used).
type State struct {
	NextSeq       uint64    // next own sequence number (0 is read as 1)
	LastPos       uint64    // highest position seen (by this or an earlier session)
	RosterVersion uint64    // highest roster version ever verified
	Roster        []byte    // the last verified roster, or nil
	Outbox        [][]byte  // sealed, unacknowledged own envelopes, consecutive seqs ending at NextSeq-1
	Consents      []Consent // consent receipts not yet confirmed by the relay, oldest first (≤ MaxConsents)
	Counter       uint64    // the last signed-request counter used (agents persist it too)
}

type phase uint8

const (
	phaseOffline phase = iota
	phaseChallenge
	phaseHello
	phaseReady
	phaseStopped
)

type reqKind uint8

const (
	reqHello reqKind = iota + 1
	reqSend
	reqList
	reqFetch
	reqDelivered
	reqConsent
	reqRequest
	reqWantPerson
	reqTakeover
	reqClose
)

type request struct {
	kind reqKind
	conv ids.ConvID
	seq  uint64
}

type outEntry struct {
	seq  uint64
	raw  []byte
	sent bool // transmitted on the current connection
}

type convState struct {
	pos        posSet
	tracker    envelope.Tracker
	acked      uint64 // highest own seq known to be committed
	next       uint64 // next own seq to assign
	outbox     []*outEntry
	visitorBox ids.Key
	hasVisitor bool
	synced     bool // agent: a Fetch completed, so acked is up to date
}

// Session is one client's protocol state. Create it with New.
type Session struct {
	mu    sync.Mutex
	cfg   Config
	me    *envelope.Identity
	now   func() time.Time
	phase phase
	t     Transport
	req   uint32
	reqs  map[uint32]request

	roster    *roster.Roster
	rosterRaw []byte
	rosterVer uint64

	conv       ids.ConvID // visitor: own conversation
	seenBefore uint64
	convs      map[ids.ConvID]*convState

	consents       []Consent // visitor: receipts to send, oldest first
	consentPending bool      // consents[0] was sent on this connection, no reply yet

	nonce   [32]byte      // the current connection's challenge nonce
	counter uint64        // the last signed-request counter used
	reqQ    []*pendingReq // signed requests waiting to be sent or answered, oldest first

	wantPerson bool // visitor: a WantPerson waits for the relay's answer
	wantSent   bool // ... and was sent on the current connection
}

// New checks the configuration and restores State. It fails with ErrConfig when the
// identity or randomness is missing, the role is unknown, or the restored outbox is
// not a run of consecutive own envelopes of this conversation.
func New(cfg Config) (*Session, error) {
	if cfg.Identity == nil || cfg.Rand == nil ||
		(cfg.Role != protocol.RoleVisitor && cfg.Role != protocol.RoleAgent) {
		return nil, ErrConfig
	}
	s := &Session{cfg: cfg, me: cfg.Identity, now: cfg.Now, reqs: map[uint32]request{},
		convs: map[ids.ConvID]*convState{}, rosterVer: cfg.State.RosterVersion, counter: cfg.State.Counter}
	if s.now == nil {
		s.now = time.Now
	}
	if len(cfg.State.Roster) > 0 {
		if r, err := roster.Verify(cfg.State.Roster, cfg.Owner, cfg.Site, s.now(), cfg.State.RosterVersion); err == nil {
			s.roster, s.rosterRaw = r, clone(cfg.State.Roster)
			s.rosterVer = max(s.rosterVer, r.Version)
		}
	}
	if cfg.Role == protocol.RoleAgent {
		if len(cfg.State.Outbox) > 0 {
			return nil, ErrConfig
		}
		return s, nil
	}
	s.conv = ids.ConversationID(cfg.Site, s.me.SignKey())
	s.seenBefore = cfg.State.LastPos
	cs := s.state(s.conv)
	cs.next = max(cfg.State.NextSeq, 1)
	first := cs.next - uint64(len(cfg.State.Outbox))
	for i, raw := range cfg.State.Outbox {
		e, err := envelope.Parse(raw)
		if err != nil || cs.next <= uint64(len(cfg.State.Outbox)) || e.Seq != first+uint64(i) ||
			e.Site != cfg.Site || e.Conv != s.conv || e.SenderSign != s.me.SignKey() {
			return nil, ErrConfig
		}
		cs.outbox = append(cs.outbox, &outEntry{seq: e.Seq, raw: clone(raw)})
	}
	if len(cfg.State.Consents) > MaxConsents {
		return nil, ErrConfig
	}
	for _, c := range cfg.State.Consents {
		if !c.valid() {
			return nil, ErrConfig
		}
	}
	s.consents = slices.Clone(cfg.State.Consents)
	return s, nil
}

func (s *Session) state(conv ids.ConvID) *convState {
	cs := s.convs[conv]
	if cs == nil {
		cs = &convState{next: 1}
		s.convs[conv] = cs
	}
	return cs
}

// Conv returns the visitor's conversation ID (zero for agents).
func (s *Session) Conv() ids.ConvID { return s.conv }

// Status returns the connection state.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status()
}

func (s *Session) status() Status {
	switch s.phase {
	case phaseChallenge, phaseHello:
		return StatusConnecting
	case phaseReady:
		return StatusReady
	case phaseStopped:
		return StatusStopped
	}
	return StatusOffline
}

// Stopped reports whether the session has stopped for good (do not reconnect).
func (s *Session) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase == phaseStopped
}

// Roster returns the last verified roster, or nil.
func (s *Session) Roster() *roster.Roster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roster
}

// State returns what a visitor persists (copies; safe to keep).
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{RosterVersion: s.rosterVer, Roster: clone(s.rosterRaw), LastPos: s.seenBefore, Counter: s.counter}
	if s.cfg.Role != protocol.RoleVisitor {
		return st
	}
	cs := s.convs[s.conv]
	st.NextSeq = cs.next
	st.LastPos = max(st.LastPos, cs.pos.upTo)
	for _, e := range cs.outbox {
		st.Outbox = append(st.Outbox, clone(e.raw))
	}
	st.Consents = slices.Clone(s.consents)
	return st
}

// Queued returns the messages still in the outbox, as pending MessageEvents, in
// order (for showing them after a reload, before the relay answers).
func (s *Session) Queued() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var evs []Event
	for conv, cs := range s.convs {
		for _, e := range cs.outbox {
			if o, err := envelope.Open(e.raw, s.me, s.cfg.Site, conv); err == nil {
				evs = append(evs, s.pendingEvent(conv, o.Seq, o.Time, content.Type(o.Type), o.Content))
			}
		}
	}
	return evs
}

// VisitorKey returns the box key learnt for the visitor of conv (agents).
func (s *Session) VisitorKey(conv ids.ConvID) (ids.Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.convs[conv]; cs != nil && cs.hasVisitor {
		return cs.visitorBox, true
	}
	return ids.Key{}, false
}

// LastPos returns the highest position of conv seen without gaps.
func (s *Session) LastPos(conv ids.ConvID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.convs[conv]; cs != nil {
		return cs.pos.upTo
	}
	return 0
}

// Synced reports whether a Fetch of conv completed in this session (agents).
func (s *Session) Synced(conv ids.ConvID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.convs[conv]
	return cs != nil && cs.synced
}

func (s *Session) ownFrom() From {
	if s.cfg.Role == protocol.RoleAgent {
		return FromAgent
	}
	return FromVisitor
}

// Connect starts the handshake on a freshly opened transport. A stopped session
// closes it at once.
func (s *Session) Connect(t Transport) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == phaseStopped {
		t.Close()
		return nil
	}
	if s.t != nil && s.t != t {
		s.t.Close()
	}
	s.t, s.phase = t, phaseChallenge
	clear(s.reqs)
	s.consentPending = false
	s.wantSent = false
	s.resetRequests()
	for _, cs := range s.convs {
		for _, e := range cs.outbox {
			e.sent = false
		}
	}
	return []Event{StatusEvent{StatusConnecting}}
}

// Disconnected tells the session that t has closed. Calls for a transport that is
// no longer the current one are ignored.
func (s *Session) Disconnected(t Transport) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t != s.t || s.t == nil {
		return nil
	}
	s.t = nil
	clear(s.reqs)
	s.consentPending = false
	s.wantSent = false
	s.resetRequests()
	if s.phase == phaseStopped {
		return nil
	}
	s.phase = phaseOffline
	return []Event{StatusEvent{StatusOffline}}
}

// Receive handles one binary message that arrived on t.
func (s *Session) Receive(t Transport, b []byte) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t != s.t || s.t == nil || s.phase == phaseStopped || s.phase == phaseOffline {
		return nil
	}
	reqID, f, err := protocol.Decode(b)
	if err != nil {
		return s.drop(ids.Wrap("decode frame", err))
	}
	switch f := f.(type) {
	case *protocol.Challenge:
		return s.onChallenge(f)
	case *protocol.Welcome:
		return s.onWelcome(f)
	case *protocol.Ack:
		return s.onAck(reqID, f)
	case *protocol.Deliver:
		return s.onDeliver(f)
	case *protocol.Receipt:
		if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && f.Conv != s.conv) {
			return s.drop(ErrProtocol)
		}
		return []Event{ReceiptEvent{Conv: f.Conv, Pos: f.Pos}}
	case *protocol.Fetched:
		return s.onFetched(f)
	case *protocol.Conversations:
		if s.phase != phaseReady || s.cfg.Role != protocol.RoleAgent {
			return s.drop(ErrProtocol)
		}
		delete(s.reqs, reqID)
		return []Event{ConversationsEvent{Entries: slices.Clone(f.Entries)}}
	case *protocol.ConsentReceipts:
		return s.onConsentReceipts(reqID, f)
	case *protocol.Error:
		return s.onError(reqID, f)
	case *protocol.Done:
		return s.onDone(reqID, f)
	case *protocol.Erased:
		return s.onErased(f)
	case *protocol.Replaced:
		return s.onReplaced(f)
	case *protocol.TypingPush:
		return s.onTypingPush(f)
	case *protocol.ConvStateFrame:
		return s.onConvState(reqID, f)
	case *protocol.Presence:
		return s.onPresence(f)
	case *protocol.RosterUpdate:
		return s.onRosterUpdate(f)
	}
	return s.drop(ErrProtocol)
}

// drop ends the current connection after a protocol error; the caller reconnects.
func (s *Session) drop(err error) []Event {
	return append([]Event{ErrorEvent{Err: err}}, s.hangUp()...)
}

// hangUp closes the current connection; the caller reconnects.
func (s *Session) hangUp() []Event {
	t := s.t
	s.t, s.phase = nil, phaseOffline
	clear(s.reqs)
	s.consentPending = false
	s.wantSent = false
	s.resetRequests()
	if t != nil {
		t.Close()
	}
	return []Event{StatusEvent{StatusOffline}}
}

// stop ends the session for good.
func (s *Session) stop(ev Event) []Event {
	return append([]Event{ev}, s.halt()...)
}

// halt ends the session for good and reports the stopped status.
func (s *Session) halt() []Event {
	t := s.t
	s.t, s.phase = nil, phaseStopped
	clear(s.reqs)
	s.consentPending = false
	s.wantSent = false
	s.resetRequests()
	if t != nil {
		t.Close()
	}
	return []Event{StatusEvent{StatusStopped}}
}

func (s *Session) nextReq() uint32 {
	s.req++
	if s.req == 0 {
		s.req = 1
	}
	return s.req
}

// send transmits one frame; a failing transport is closed (the caller reconnects).
func (s *Session) send(r request, f protocol.Frame) error {
	if s.t == nil {
		return ErrNotReady
	}
	id := s.nextReq()
	s.reqs[id] = r
	if err := s.t.Send(protocol.Encode(id, f)); err != nil {
		s.hangUp()
		return ids.Wrap("send", err)
	}
	return nil
}

func (s *Session) onChallenge(c *protocol.Challenge) []Event {
	if s.phase != phaseChallenge {
		return s.drop(ErrProtocol)
	}
	h := protocol.Hello{Role: s.cfg.Role, Site: s.cfg.Site, SignKey: s.me.SignKey(), BoxKey: s.me.BoxKey()}
	if s.cfg.Role == protocol.RoleVisitor {
		h.Since = s.convs[s.conv].pos.upTo
	}
	protocol.SignHello(c.Nonce, &h, s.me.Sign)
	s.nonce = c.Nonce
	if err := s.send(request{kind: reqHello}, &h); err != nil {
		return []Event{ErrorEvent{Err: err}, StatusEvent{StatusOffline}}
	}
	s.phase = phaseHello
	return nil
}

func (s *Session) onWelcome(w *protocol.Welcome) []Event {
	if s.phase != phaseHello {
		return s.drop(ErrProtocol)
	}
	if s.cfg.Role == protocol.RoleVisitor && w.Conv != s.conv {
		return s.drop(ErrProtocol)
	}
	r, err := roster.Verify(w.Roster, s.cfg.Owner, s.cfg.Site, s.now(), s.rosterVer)
	if err != nil {
		return s.stop(RosterErrorEvent{Err: ids.Wrap("verify roster", err)})
	}
	s.roster, s.rosterRaw, s.rosterVer = r, clone(w.Roster), max(s.rosterVer, r.Version)
	s.phase = phaseReady
	evs := []Event{RosterEvent{Roster: r}, StatusEvent{StatusReady}}
	clear(s.reqs) // only the Hello was outstanding
	s.consentPending = false
	if s.cfg.Role == protocol.RoleVisitor {
		cs := s.convs[s.conv]
		cs.acked = w.AckedSeq
		evs = s.settle(evs, s.conv, cs, true)
		evs = s.settleRequests(evs, w.AckedSeq)
		if w.DeliveredPos > 0 {
			evs = append(evs, ReceiptEvent{Conv: s.conv, Pos: w.DeliveredPos})
		}
		evs = s.transmit(evs, s.conv, cs)
		evs = s.transmitConsent(evs)
		evs = s.transmitWantPerson(evs)
		return s.transmitRequest(evs)
	}
	for conv, cs := range s.convs {
		if cs.synced {
			evs = s.settle(evs, conv, cs, false)
			evs = s.transmit(evs, conv, cs)
		}
	}
	return s.transmitRequest(evs)
}

// recipients returns the de-duplicated box keys a message in conv goes to (Seal
// sorts them).
func (s *Session) recipients(cs *convState) []ids.Key {
	keys := []ids.Key{s.me.BoxKey()}
	if s.roster != nil {
		for _, k := range s.roster.BoxKeys() {
			keys = addKey(keys, k)
		}
	}
	if s.cfg.Role == protocol.RoleAgent && cs.hasVisitor {
		keys = addKey(keys, cs.visitorBox)
	}
	return keys
}

func addKey(keys []ids.Key, k ids.Key) []ids.Key {
	if hasKey(keys, k) {
		return keys
	}
	return append(keys, k)
}

func hasKey(keys []ids.Key, k ids.Key) bool {
	for i := range keys {
		if keys[i] == k {
			return true
		}
	}
	return false
}

// sameKeys reports whether two lists without duplicates hold the same keys.
func sameKeys(a, b []ids.Key) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !hasKey(b, k) {
			return false
		}
	}
	return true
}

// settle renumbers the outbox consecutively after cs.acked and reseals the entries
// whose recipients are not the current ones. With dropAcked (a visitor's Welcome:
// acked seq covers them) entries with seq ≤ cs.acked are dropped as committed;
// without it (agents, which learn acked from their own envelopes, already matched
// byte for byte) such entries collided with another device and are renumbered.
func (s *Session) settle(evs []Event, conv ids.ConvID, cs *convState, dropAcked bool) []Event {
	want := s.recipients(cs)
	expect := cs.acked + 1
	kept := cs.outbox[:0]
	for _, e := range cs.outbox {
		if dropAcked && e.seq <= cs.acked {
			evs = append(evs, AckEvent{Conv: conv, Seq: e.seq})
			continue
		}
		env, err := envelope.Parse(e.raw)
		if err != nil || e.seq != expect || !sameKeys(env.Recipients, want) {
			raw, err := s.reseal(e.raw, conv, expect, want)
			if err != nil {
				evs = append(evs, SendFailedEvent{Conv: conv, Seq: e.seq})
				continue
			}
			if e.seq != expect {
				evs = append(evs, SeqChangedEvent{Conv: conv, Old: e.seq, New: expect})
			}
			e.seq, e.raw, e.sent = expect, raw, false
		}
		kept = append(kept, e)
		expect++
	}
	clear(cs.outbox[len(kept):])
	cs.outbox = kept
	cs.next = expect
	return evs
}

func (s *Session) reseal(raw []byte, conv ids.ConvID, seq uint64, to []ids.Key) ([]byte, error) {
	o, err := envelope.Open(raw, s.me, s.cfg.Site, conv)
	if err != nil {
		return nil, err
	}
	m := o.Message
	m.Seq = seq
	return envelope.Seal(s.cfg.Rand, s.me, to, m)
}

// transmit sends every outbox entry of conv not yet sent on this connection.
func (s *Session) transmit(evs []Event, conv ids.ConvID, cs *convState) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleAgent && !cs.synced) {
		return evs
	}
	for _, e := range cs.outbox {
		if e.sent {
			continue
		}
		if err := s.send(request{kind: reqSend, conv: conv, seq: e.seq}, &protocol.Send{Envelope: e.raw}); err != nil {
			return append(evs, ErrorEvent{Err: err}, StatusEvent{StatusOffline})
		}
		e.sent = true
	}
	return evs
}

func (s *Session) onAck(reqID uint32, a *protocol.Ack) []Event {
	cs := s.convs[a.Conv]
	if s.phase != phaseReady || cs == nil || (s.cfg.Role == protocol.RoleVisitor && a.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	delete(s.reqs, reqID)
	s.ownCommitted(cs, a.Seq, nil)
	return s.transmitRequest([]Event{AckEvent{Conv: a.Conv, Seq: a.Seq, Pos: a.Pos}})
}

// ownCommitted records that own seq is committed. The outbox entry with that seq
// leaves the outbox only when it is the committed envelope (raw nil: the relay
// acknowledged our own Send); a different envelope with the same seq (written by
// another device with the same key) leaves it for renumbering at the next settle.
func (s *Session) ownCommitted(cs *convState, seq uint64, raw []byte) {
	cs.acked = max(cs.acked, seq)
	cs.next = max(cs.next, seq+1)
	for i, e := range cs.outbox {
		if e.seq == seq {
			if raw == nil || bytes.Equal(raw, e.raw) {
				cs.outbox = slices.Delete(cs.outbox, i, i+1)
			}
			return
		}
	}
}

func (s *Session) onDeliver(d *protocol.Deliver) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && d.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	cs := s.state(d.Conv)
	if cs.pos.has(d.Pos) {
		return nil
	}
	cs.pos.add(d.Pos)
	o, err := envelope.Open(d.Envelope, s.me, s.cfg.Site, d.Conv)
	if err == nil {
		err = content.Check(content.Type(o.Type), o.Content)
	}
	if err == nil {
		err = cs.tracker.Accept(o.SenderSign, o.Seq)
	}
	if err != nil {
		return []Event{RejectedEvent{Conv: d.Conv, Pos: d.Pos, Err: err}}
	}
	ev := MessageEvent{Conv: d.Conv, Pos: d.Pos, Stored: d.Stored, Seq: o.Seq, Sender: o.SenderSign,
		Time: o.Time, Type: content.Type(o.Type), Content: o.Content, Seen: s.cfg.Role == protocol.RoleVisitor && d.Pos <= s.seenBefore}
	if ev.Type == content.TypeText || ev.Type == content.TypeBot {
		ev.Text = string(o.Content)
	}
	switch {
	case o.SenderSign == s.me.SignKey():
		ev.From, ev.Own = s.ownFrom(), true
		s.ownCommitted(cs, o.Seq, d.Envelope)
	case s.cfg.Role == protocol.RoleAgent && ids.ConversationID(s.cfg.Site, o.SenderSign) == d.Conv:
		ev.From = FromVisitor
		cs.visitorBox, cs.hasVisitor = o.SenderBox, true
	default:
		a, ok := s.roster.AgentBySign(o.SenderSign)
		if !ok {
			return []Event{RejectedEvent{Conv: d.Conv, Pos: d.Pos, Err: ErrUnknownSender}}
		}
		ev.From, ev.Agent = FromAgent, a
	}
	if ev.From == FromAgent && ev.Type != content.TypeText {
		// Only the visitor's browser runs the bot; agents send text.
		return []Event{RejectedEvent{Conv: d.Conv, Pos: d.Pos, Err: envelope.ErrMalformed}}
	}
	return []Event{ev}
}

func (s *Session) onFetched(f *protocol.Fetched) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && f.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	cs := s.state(f.Conv)
	// Everything up to LastPos has been delivered: a position that did not
	// come is no longer stored (its envelope was replaced by a correction).
	cs.pos.fill(f.LastPos)
	evs := []Event{FetchedEvent{Conv: f.Conv, LastPos: f.LastPos}}
	if s.cfg.Role == protocol.RoleAgent && !cs.synced && cs.pos.upTo >= f.LastPos {
		cs.synced = true
		evs = s.settle(evs, f.Conv, cs, false)
		evs = s.transmit(evs, f.Conv, cs)
	}
	return evs
}

func (s *Session) onError(reqID uint32, f *protocol.Error) []Event {
	r, known := s.reqs[reqID]
	delete(s.reqs, reqID)
	ev := ErrorEvent{Code: f.Code, Reason: f.Reason}
	if !known {
		return []Event{ev}
	}
	switch r.kind {
	case reqHello:
		switch f.Code {
		case protocol.CodeUnknownSite, protocol.CodeForbidden, protocol.CodeUnsupportedVersion:
			ev.Fatal = true
			return s.stop(ev)
		case protocol.CodeGone:
			if s.cfg.Role == protocol.RoleVisitor {
				// The conversation was erased (here, on another device, by an
				// agent or by retention): nothing of it may be sent again.
				s.reqQ = nil
				return append([]Event{ev, ErasedEvent{Conv: s.conv}}, s.halt()...)
			}
		}
		return append([]Event{ev}, s.hangUp()...)
	case reqRequest:
		return s.onRequestError(f)
	case reqWantPerson:
		return s.onWantPersonError(ev)
	case reqConsent:
		switch f.Code {
		case protocol.CodeRateLimited, protocol.CodeInternal, protocol.CodeState:
			// Sent again after the next Welcome.
			return append([]Event{ev}, s.hangUp()...)
		}
		var c Consent
		if s.consentPending && len(s.consents) > 0 {
			c = s.consents[0]
		}
		s.consentDone()
		evs := []Event{ev, ConsentFailedEvent{Consent: c, Code: f.Code}}
		return s.transmitConsent(evs)
	case reqSend:
		cs := s.convs[r.conv]
		evs := []Event{ev}
		switch f.Code {
		case protocol.CodeSequence, protocol.CodeRateLimited, protocol.CodeInternal, protocol.CodeState:
			if f.Code == protocol.CodeSequence && s.cfg.Role == protocol.RoleAgent {
				cs.synced = false // another device of this agent wrote; fetch again
			}
		default:
			for i, e := range cs.outbox {
				if e.seq == r.seq {
					text := ""
					if o, err := envelope.Open(e.raw, s.me, s.cfg.Site, r.conv); err == nil {
						text = string(o.Content)
					}
					cs.outbox = slices.Delete(cs.outbox, i, i+1)
					evs = append(evs, SendFailedEvent{Conv: r.conv, Seq: r.seq, Code: f.Code, Text: text})
					break
				}
			}
		}
		// Later envelopes of this connection fail too; the next Welcome (or Fetch)
		// resynchronises the outbox.
		return append(evs, s.hangUp()...)
	}
	return []Event{ev}
}

func checkText(text string) error {
	switch {
	case text == "":
		return ErrEmpty
	case len(text) > MaxText:
		return ErrTooLong
	case !utf8.ValidString(text):
		return ErrInvalidText
	}
	return nil
}

// Send seals text for the visitor's conversation, queues it and transmits it when
// the connection is ready. It works offline too: the message waits in the outbox.
func (s *Session) Send(text string) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Role != protocol.RoleVisitor {
		return nil, ErrRole
	}
	return s.queue(s.conv, s.convs[s.conv], text)
}

// Reply seals text for conv to its visitor and the roster's agents (agents).
func (s *Session) Reply(conv ids.ConvID, text string) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Role != protocol.RoleAgent {
		return nil, ErrRole
	}
	cs := s.convs[conv]
	switch {
	case s.phase == phaseStopped:
		return nil, ErrStopped
	case cs == nil || !cs.synced:
		return nil, ErrNotSynced
	case !cs.hasVisitor:
		return nil, ErrNoVisitorKey
	}
	return s.queue(conv, cs, text)
}

func (s *Session) queue(conv ids.ConvID, cs *convState, text string) ([]Event, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	return s.queueContent(conv, cs, content.TypeText, []byte(text), s.now().UnixMilli())
}

// SendContent seals one entry of the bot transcript (docs/PROTOCOL.md §3.3) —
// a bot text, an answer, a consent decision, a handoff, or text — for the
// visitor's conversation, with the time it happened (Unix milliseconds), and
// queues it like Send. It refuses content that is not valid for its type
// (content.ErrMalformed) and a time below zero. The caller decides what may be
// sent: the session does not know about consent.
func (s *Session) SendContent(t content.Type, c []byte, at int64) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Role != protocol.RoleVisitor {
		return nil, ErrRole
	}
	if err := content.Check(t, c); err != nil {
		return nil, err
	}
	if at < 0 {
		return nil, content.ErrMalformed
	}
	return s.queueContent(s.conv, s.convs[s.conv], t, bytes.Clone(c), at)
}

// Room returns how many more messages the outbox takes now (visitors).
func (s *Session) Room() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.convs[s.conv]
	if cs == nil {
		return 0
	}
	return MaxOutbox - len(cs.outbox)
}

func (s *Session) queueContent(conv ids.ConvID, cs *convState, t content.Type, c []byte, at int64) ([]Event, error) {
	if s.phase == phaseStopped {
		return nil, ErrStopped
	}
	if len(cs.outbox) >= MaxOutbox {
		return nil, ErrOutboxFull
	}
	m := envelope.Message{Site: s.cfg.Site, Conv: conv, Seq: cs.next, Type: envelope.ContentType(t),
		Time: at, Content: c}
	raw, err := envelope.Seal(s.cfg.Rand, s.me, s.recipients(cs), m)
	if err != nil {
		return nil, ids.Wrap("seal", err)
	}
	cs.outbox = append(cs.outbox, &outEntry{seq: m.Seq, raw: raw})
	cs.next++
	evs := []Event{s.pendingEvent(conv, m.Seq, m.Time, t, c)}
	return s.transmit(evs, conv, cs), nil
}

// pendingEvent describes an own queued message.
func (s *Session) pendingEvent(conv ids.ConvID, seq uint64, at int64, t content.Type, c []byte) MessageEvent {
	ev := MessageEvent{Conv: conv, Seq: seq, From: s.ownFrom(), Own: true, Pending: true,
		Sender: s.me.SignKey(), Time: at, Type: t, Content: c}
	if t == content.TypeText || t == content.TypeBot {
		ev.Text = string(c)
	}
	return ev
}

// List asks for the site's conversations (agents); the answer is a ConversationsEvent.
func (s *Session) List() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.agentReady(); err != nil {
		return err
	}
	return s.send(request{kind: reqList}, &protocol.List{})
}

// Fetch asks for the envelopes of conv after the last position seen in this
// session (agents); they arrive as MessageEvents, then a FetchedEvent.
func (s *Session) Fetch(conv ids.ConvID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.agentReady(); err != nil {
		return err
	}
	return s.send(request{kind: reqFetch, conv: conv}, &protocol.Fetch{Conv: conv, Since: s.state(conv).pos.upTo})
}

// MarkDelivered confirms to the relay (and so to the visitor) that the messages of
// conv up to pos were shown (agents).
func (s *Session) MarkDelivered(conv ids.ConvID, pos uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.agentReady(); err != nil {
		return err
	}
	return s.send(request{kind: reqDelivered, conv: conv}, &protocol.Delivered{Conv: conv, Pos: pos})
}

func (s *Session) agentReady() error {
	switch {
	case s.cfg.Role != protocol.RoleAgent:
		return ErrRole
	case s.phase == phaseStopped:
		return ErrStopped
	case s.phase != phaseReady:
		return ErrNotReady
	}
	return nil
}

// posSet records the positions seen: all up to upTo, plus any seen beyond a gap.
type posSet struct {
	upTo  uint64
	above map[uint64]bool
}

func (p *posSet) has(pos uint64) bool { return pos <= p.upTo || p.above[pos] }

// fill records every position up to pos as seen.
func (p *posSet) fill(pos uint64) {
	if pos <= p.upTo {
		return
	}
	for q := range p.above {
		if q <= pos {
			delete(p.above, q)
		}
	}
	p.upTo = pos
	for p.above[p.upTo+1] {
		delete(p.above, p.upTo+1)
		p.upTo++
	}
}

func (p *posSet) add(pos uint64) {
	if pos <= p.upTo {
		return
	}
	if pos != p.upTo+1 {
		if p.above == nil {
			p.above = map[uint64]bool{}
		}
		p.above[pos] = true
		return
	}
	p.upTo = pos
	for p.above[p.upTo+1] {
		delete(p.above, p.upTo+1)
		p.upTo++
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}
