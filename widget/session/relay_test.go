package session

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// fakeRelay is an in-memory relay that follows docs/PROTOCOL.md §6 closely enough
// to drive sessions: it checks hellos and envelopes for real, keeps positions and
// per-sender sequence numbers, and fans out Deliver and Receipt frames.
type fakeRelay struct {
	t      *testing.T
	site   ids.SiteID
	roster []byte
	convs  map[ids.ConvID]*fakeConv
	conns  []*fakeConn

	// refuse, when set, may refuse a Send with an error code (0: accept).
	refuse func(c *fakeConn, e *envelope.Envelope) protocol.ErrorCode
	// dropAcks drops Ack frames (the envelope is still committed).
	dropAcks bool
	// noEcho: do not Deliver an envelope back to the connection that sent it.
	noEcho bool
	// unknownSite answers every Hello with an unknown-site error.
	unknownSite bool
	sends       int // Send frames received
	// consentCode, when set, refuses Consent frames with this error code.
	consentCode protocol.ErrorCode
	consents    int // Consent frames received

	// Signed requests (request_test.go).
	counters    map[ids.Key]uint64  // last accepted counter per signer
	gone        map[ids.ConvID]bool // erased conversations (tombstones)
	requestCode protocol.ErrorCode  // when set, refuses every Request with this code
	requests    int                 // Request frames received
	dropDone    bool                // carry out requests but send no Done

	// Live chat (live_test.go).
	states     map[ids.ConvID]protocol.ConvStateFrame
	typings    int                // Typing frames received
	wantPeople int                // WantPerson frames received
	wantCode   protocol.ErrorCode // when set, refuses WantPerson with this code
}

type fakeConv struct {
	receipts  []protocol.ConsentReceipt
	visitor   ids.Key
	envs      [][]byte
	lastSeq   map[ids.Key]uint64
	bySeq     map[ids.Key]map[uint64]int // sender -> seq -> index into envs
	delivered uint64
}

type fakeConn struct {
	relay    *fakeRelay
	toRelay  [][]byte
	toClient [][]byte
	closed   bool
	closing  bool // the relay closes after its pending frames reach the client
	reported bool
	nonce    [32]byte
	hello    *protocol.Hello
	conv     ids.ConvID
}

var errClosed = errors.New("fake: connection closed")

func (c *fakeConn) Send(b []byte) error {
	if c.closed {
		return errClosed
	}
	c.toRelay = append(c.toRelay, bytes.Clone(b))
	return nil
}

func (c *fakeConn) Close() { c.closed = true }

func newRelay(t *testing.T, site ids.SiteID, rosterRaw []byte) *fakeRelay {
	return &fakeRelay{t: t, site: site, roster: rosterRaw, convs: map[ids.ConvID]*fakeConv{}}
}

func (r *fakeRelay) dial() *fakeConn {
	c := &fakeConn{relay: r}
	rand.Read(c.nonce[:])
	c.push(0, &protocol.Challenge{Nonce: c.nonce})
	r.conns = append(r.conns, c)
	return c
}

func (c *fakeConn) push(reqID uint32, f protocol.Frame) {
	c.toClient = append(c.toClient, protocol.Encode(reqID, f))
}

func (c *fakeConn) fail(reqID uint32, code protocol.ErrorCode) {
	c.push(reqID, &protocol.Error{Code: code, Reason: code.String()})
}

func (r *fakeRelay) conv(id ids.ConvID) *fakeConv {
	cv := r.convs[id]
	if cv == nil {
		cv = &fakeConv{lastSeq: map[ids.Key]uint64{}, bySeq: map[ids.Key]map[uint64]int{}}
		r.convs[id] = cv
	}
	return cv
}

func (r *fakeRelay) agentKey(k ids.Key) bool {
	ro, err := roster.Parse(r.roster)
	if err != nil {
		r.t.Fatalf("fake relay roster: %v", err)
	}
	_, ok := ro.AgentBySign(k)
	return ok
}

// subscribers of a conversation: its visitor's connections and every agent.
func (r *fakeRelay) subscribers(conv ids.ConvID) []*fakeConn {
	var out []*fakeConn
	for _, c := range r.conns {
		if c.closed || c.hello == nil {
			continue
		}
		if c.hello.Role == protocol.RoleAgent || c.conv == conv {
			out = append(out, c)
		}
	}
	return out
}

// appendEnv stores raw in conv as if it had been accepted, and fans it out.
func (r *fakeRelay) appendEnv(conv ids.ConvID, sender ids.Key, seq uint64, raw []byte) uint64 {
	cv := r.conv(conv)
	cv.envs = append(cv.envs, bytes.Clone(raw))
	pos := uint64(len(cv.envs))
	cv.lastSeq[sender] = seq
	if cv.bySeq[sender] == nil {
		cv.bySeq[sender] = map[uint64]int{}
	}
	cv.bySeq[sender][seq] = int(pos - 1)
	return pos
}

func (r *fakeRelay) fanOut(conv ids.ConvID, pos uint64, except *fakeConn) {
	raw := r.convs[conv].envs[pos-1]
	for _, s := range r.subscribers(conv) {
		if s == except && r.noEcho {
			continue
		}
		s.push(0, &protocol.Deliver{Conv: conv, Pos: pos, Stored: 1700000000, Envelope: raw})
	}
}

func (r *fakeRelay) handle(c *fakeConn, b []byte) {
	reqID, f, err := protocol.Decode(b)
	if err != nil {
		c.fail(reqID, protocol.CodeMalformed)
		return
	}
	if h, ok := f.(*protocol.Hello); ok {
		r.hello(c, reqID, h)
		return
	}
	if c.hello == nil {
		c.fail(reqID, protocol.CodeState)
		return
	}
	agent := c.hello.Role == protocol.RoleAgent
	switch f := f.(type) {
	case *protocol.Send:
		r.sends++
		r.send(c, reqID, f.Envelope)
	case *protocol.List:
		if !agent {
			c.fail(reqID, protocol.CodeForbidden)
			return
		}
		var out protocol.Conversations
		for id, cv := range r.convs {
			out.Entries = append(out.Entries, protocol.ConvInfo{Conv: id, LastPos: uint64(len(cv.envs)),
				Created: 1700000000, DeliveredPos: cv.delivered})
		}
		slices.SortFunc(out.Entries, func(a, b protocol.ConvInfo) int { return bytes.Compare(a.Conv[:], b.Conv[:]) })
		c.push(reqID, &out)
	case *protocol.Fetch:
		cv := r.convs[f.Conv]
		if !agent || cv == nil {
			c.fail(reqID, protocol.CodeNotFound)
			return
		}
		for i := f.Since; i < uint64(len(cv.envs)); i++ {
			if cv.envs[i] != nil {
				c.push(reqID, &protocol.Deliver{Conv: f.Conv, Pos: i + 1, Stored: 1700000000, Envelope: cv.envs[i]})
			}
		}
		c.push(reqID, &protocol.Fetched{Conv: f.Conv, LastPos: uint64(len(cv.envs))})
	case *protocol.Consent:
		r.consents++
		cv := r.convs[f.Conv]
		if agent || cv == nil || f.Conv != c.conv {
			c.fail(reqID, protocol.CodeForbidden)
			return
		}
		if r.consentCode != 0 {
			c.fail(reqID, r.consentCode)
			return
		}
		rec := protocol.ConsentReceipt{FlowVersion: f.FlowVersion, TextHash: f.TextHash, Decision: f.Decision, Time: 1700000000}
		if n := len(cv.receipts); n == 0 || cv.receipts[n-1].FlowVersion != rec.FlowVersion ||
			cv.receipts[n-1].TextHash != rec.TextHash || cv.receipts[n-1].Decision != rec.Decision {
			cv.receipts = append(cv.receipts, rec)
		}
		c.push(reqID, &protocol.ConsentReceipts{Conv: f.Conv, Receipts: cv.receipts})
		for _, s := range r.subscribers(f.Conv) {
			if s.hello.Role == protocol.RoleAgent {
				s.push(0, &protocol.ConsentReceipts{Conv: f.Conv, Receipts: cv.receipts})
			}
		}
	case *protocol.Request:
		r.request(c, reqID, f)
	case *protocol.Delivered:
		cv := r.convs[f.Conv]
		if !agent || cv == nil || f.Pos > uint64(len(cv.envs)) {
			c.fail(reqID, protocol.CodeNotFound)
			return
		}
		cv.delivered = max(cv.delivered, f.Pos)
		for _, s := range r.subscribers(f.Conv) {
			s.push(0, &protocol.Receipt{Conv: f.Conv, Pos: cv.delivered})
		}
	default:
		if !r.live(c, reqID, f) {
			c.fail(reqID, protocol.CodeMalformed)
		}
	}
}

func (r *fakeRelay) hello(c *fakeConn, reqID uint32, h *protocol.Hello) {
	if c.hello != nil {
		c.fail(reqID, protocol.CodeState)
		return
	}
	if r.unknownSite || h.Site != r.site {
		c.fail(reqID, protocol.CodeUnknownSite)
		c.closing = true
		return
	}
	if !protocol.VerifyHello(c.nonce, h) {
		c.fail(reqID, protocol.CodeBadSignature)
		return
	}
	hc := *h
	switch h.Role {
	case protocol.RoleVisitor:
		c.conv = ids.ConversationID(h.Site, h.SignKey)
		if r.gone[c.conv] {
			c.fail(reqID, protocol.CodeGone)
			return
		}
		cv := r.conv(c.conv)
		cv.visitor = h.SignKey
		c.hello = &hc
		c.push(reqID, &protocol.Welcome{Conv: c.conv, AckedSeq: cv.lastSeq[h.SignKey],
			DeliveredPos: cv.delivered, Roster: r.roster})
		for i := h.Since; i < uint64(len(cv.envs)); i++ {
			if cv.envs[i] != nil { // nil: replaced by a correction
				c.push(0, &protocol.Deliver{Conv: c.conv, Pos: i + 1, Stored: 1700000000, Envelope: cv.envs[i]})
			}
		}
		c.push(0, &protocol.Fetched{Conv: c.conv, LastPos: uint64(len(cv.envs))})
	case protocol.RoleAgent:
		if !r.agentKey(h.SignKey) {
			c.fail(reqID, protocol.CodeForbidden)
			return
		}
		c.hello = &hc
		c.push(reqID, &protocol.Welcome{Roster: r.roster})
	default:
		c.fail(reqID, protocol.CodeMalformed)
	}
}

func (r *fakeRelay) send(c *fakeConn, reqID uint32, raw []byte) {
	e, err := envelope.Verify(raw)
	if err != nil {
		c.fail(reqID, protocol.CodeBadSignature)
		return
	}
	if e.Site != r.site || e.SenderSign != c.hello.SignKey {
		c.fail(reqID, protocol.CodeForbidden)
		return
	}
	cv := r.convs[e.Conv]
	if cv == nil || (c.hello.Role == protocol.RoleVisitor && e.Conv != c.conv) {
		c.fail(reqID, protocol.CodeNotFound)
		return
	}
	if r.refuse != nil {
		if code := r.refuse(c, e); code != 0 {
			c.fail(reqID, code)
			return
		}
	}
	last := cv.lastSeq[e.SenderSign]
	if e.Seq <= last {
		i, ok := cv.bySeq[e.SenderSign][e.Seq]
		if ok && bytes.Equal(cv.envs[i], raw) {
			if !r.dropAcks {
				c.push(reqID, &protocol.Ack{Conv: e.Conv, Seq: e.Seq, Pos: uint64(i + 1)})
			}
			return
		}
		c.fail(reqID, protocol.CodeSequence)
		return
	}
	if e.Seq != last+1 {
		c.fail(reqID, protocol.CodeSequence)
		return
	}
	pos := r.appendEnv(e.Conv, e.SenderSign, e.Seq, raw)
	if !r.dropAcks {
		c.push(reqID, &protocol.Ack{Conv: e.Conv, Seq: e.Seq, Pos: pos})
	}
	r.fanOut(e.Conv, pos, c)
}

// client is a session with its current connection and the events it produced.
type client struct {
	s    *Session
	conn *fakeConn
	evs  []Event
}

func (cl *client) connect(r *fakeRelay) {
	cl.conn = r.dial()
	cl.evs = append(cl.evs, cl.s.Connect(cl.conn)...)
}

// pump runs relay and clients until nothing moves. A connection closed by either
// side is reported to its session (as the browser's close event would).
func pump(r *fakeRelay, clients ...*client) {
	for moved := true; moved; {
		moved = false
		for _, c := range r.conns {
			for len(c.toRelay) > 0 {
				b := c.toRelay[0]
				c.toRelay = c.toRelay[1:]
				r.handle(c, b)
				moved = true
			}
		}
		for _, cl := range clients {
			c := cl.conn
			if c == nil {
				continue
			}
			for len(c.toClient) > 0 && !c.closed {
				b := c.toClient[0]
				c.toClient = c.toClient[1:]
				cl.evs = append(cl.evs, cl.s.Receive(c, b)...)
				moved = true
			}
			if c.closing {
				c.closed = true
			}
			if c.closed && !c.reported {
				c.reported = true
				cl.evs = append(cl.evs, cl.s.Disconnected(c)...)
				moved = true
			}
		}
	}
}

// take returns and clears the events collected so far.
func (cl *client) take() []Event {
	evs := cl.evs
	cl.evs = nil
	return evs
}

type party struct {
	id   *envelope.Identity
	name string
	aid  ids.AgentID
}

func newParty(t *testing.T, name string) party {
	t.Helper()
	id, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var aid ids.AgentID
	rand.Read(aid[:])
	return party{id: id, name: name, aid: aid}
}

// world is a site with an owner, agents and a fake relay.
type world struct {
	t      *testing.T
	site   ids.SiteID
	owner  ed25519.PrivateKey
	fp     ids.Fingerprint
	now    time.Time
	agents []party
	relay  *fakeRelay
}

func newWorld(t *testing.T, agents ...string) *world {
	t.Helper()
	w := &world{t: t, now: time.Unix(1750000000, 0)}
	rand.Read(w.site[:])
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	w.owner = priv
	w.fp = ids.OwnerFingerprint(ids.Key(pub))
	for _, n := range agents {
		w.agents = append(w.agents, newParty(t, n))
	}
	w.relay = newRelay(t, w.site, w.roster(1, w.agents...))
	return w
}

func (w *world) roster(version uint64, agents ...party) []byte {
	w.t.Helper()
	r := roster.Roster{Site: w.site, Version: version, NotAfter: w.now.Unix() + 86400}
	for _, a := range agents {
		r.Agents = append(r.Agents, roster.Agent{ID: a.aid, Name: a.name, Sign: a.id.SignKey(), Box: a.id.BoxKey()})
	}
	b, err := r.Encode(w.owner)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *world) cfg(role protocol.Role, id *envelope.Identity, st State) Config {
	return Config{Role: role, Site: w.site, Owner: w.fp, Identity: id, Rand: rand.Reader,
		Now: func() time.Time { return w.now }, State: st}
}

func (w *world) visitor(id *envelope.Identity, st State) *client {
	w.t.Helper()
	if id == nil {
		id = newParty(w.t, "").id
	}
	s, err := New(w.cfg(protocol.RoleVisitor, id, st))
	if err != nil {
		w.t.Fatal(err)
	}
	return &client{s: s}
}

func (w *world) agent(i int) *client {
	w.t.Helper()
	s, err := New(w.cfg(protocol.RoleAgent, w.agents[i].id, State{}))
	if err != nil {
		w.t.Fatal(err)
	}
	return &client{s: s}
}
