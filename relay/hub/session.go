package hub

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"siegel/relay/store"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// Store is what a session needs from the relay's storage.
type Store interface {
	Roster(site ids.SiteID) (uint64, []byte, error)
	EnsureConversation(ctx context.Context, site ids.SiteID, conv ids.ConvID, visitor ids.Key) (store.Conversation, bool, error)
	Conversation(site ids.SiteID, conv ids.ConvID) (store.Conversation, error)
	Conversations(site ids.SiteID, limit int) ([]store.Conversation, error)
	Append(ctx context.Context, site ids.SiteID, conv ids.ConvID, sender ids.Key, seq uint64, raw []byte) (store.Appended, error)
	LastSeq(site ids.SiteID, conv ids.ConvID, sender ids.Key) (uint64, error)
	Envelopes(site ids.SiteID, conv ids.ConvID, since uint64, fn func(pos uint64, stored int64, raw []byte) error) error
	MarkDelivered(ctx context.Context, site ids.SiteID, conv ids.ConvID, pos uint64) (bool, error)
	// SetConvState stores a conversation's state (docs/PROTOCOL.md §6.7).
	SetConvState(ctx context.Context, site ids.SiteID, conv ids.ConvID, state store.ConvState, agent ids.Key) (bool, error)
	AddConsentReceipt(ctx context.Context, site ids.SiteID, conv ids.ConvID, r store.ConsentReceipt) ([]store.ConsentReceipt, error)
	ConsentReceipts(site ids.SiteID, conv ids.ConvID) ([]store.ConsentReceipt, error)
	// Erase and Correct carry out signed requests (docs/PROTOCOL.md §6.5); each
	// checks and stores the signer's counter in the same transaction as the action.
	Erase(ctx context.Context, site ids.SiteID, conv ids.ConvID, reason store.EraseReason, auth *store.Authorization) error
	Correct(ctx context.Context, site ids.SiteID, conv ids.ConvID, originalPos uint64, sender ids.Key, seq uint64, raw []byte, auth store.Authorization) (store.Appended, error)
	// Tombstoned reports whether the conversation was erased.
	Tombstoned(site ids.SiteID, conv ids.ConvID) (bool, error)
}

// Conn is one client connection carrying binary messages.
type Conn interface {
	// Read returns the next message. Its error ends the session.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one message.
	Write(ctx context.Context, b []byte) error
	// Close closes the connection with a WebSocket status code and reason.
	Close(code int, reason string)
}

// Close codes used by the session (RFC 6455).
const (
	CloseNormal          = 1000
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
	CloseTryAgainLater   = 1013
)

// Limits bound what one connection may do.
type Limits struct {
	FramesPerSecond float64 // sustained request rate
	FrameBurst      int     // burst allowance
	WriteTimeout    time.Duration
	HelloTimeout    time.Duration
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{FramesPerSecond: 50, FrameBurst: 200, WriteTimeout: 10 * time.Second, HelloTimeout: 30 * time.Second}

// Server runs protocol sessions over connections.
type Server struct {
	Hub    *Hub
	Store  Store
	Log    *slog.Logger
	Limits Limits
	Now    func() time.Time

	rosters rosterCache
}

func (s *Server) limits() Limits {
	l := s.Limits
	if l.FramesPerSecond == 0 {
		l.FramesPerSecond = DefaultLimits.FramesPerSecond
	}
	if l.FrameBurst == 0 {
		l.FrameBurst = DefaultLimits.FrameBurst
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = DefaultLimits.WriteTimeout
	}
	if l.HelloTimeout == 0 {
		l.HelloTimeout = DefaultLimits.HelloTimeout
	}
	return l
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// session is the state of one connection.
type session struct {
	srv    *Server
	conn   Conn
	site   ids.SiteID
	nonce  [32]byte
	cl     *client
	role   protocol.Role
	key    ids.Key // authenticated signing key, once hello succeeded
	conv   ids.ConvID
	authed bool
	bucket tokenBucket
	lim    Limits
}

// Serve runs the protocol on conn for site until the connection ends.
// The site must exist; the caller checked it (and the Origin) before upgrading.
func (s *Server) Serve(ctx context.Context, conn Conn, site ids.SiteID) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lim := s.limits()
	ss := &session{srv: s, conn: conn, site: site, lim: lim}
	ss.bucket = tokenBucket{rate: lim.FramesPerSecond, burst: float64(lim.FrameBurst), tokens: float64(lim.FrameBurst), last: s.now()}
	kicked := make(chan struct{})
	var kickOnce sync.Once
	ss.cl = newClient(func() { kickOnce.Do(func() { close(kicked) }) })
	if _, err := rand.Read(ss.nonce[:]); err != nil {
		s.Log.Error("challenge nonce", "err", err)
		conn.Close(CloseTryAgainLater, "internal error")
		return
	}

	// Writer: the only goroutine writing to conn.
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for {
			select {
			case <-ctx.Done():
				return
			case <-kicked:
				conn.Close(CloseTryAgainLater, "too slow")
				cancel()
				return
			case <-ss.cl.notify:
				for _, b := range ss.cl.take() {
					if b == nil {
						conn.Close(ClosePolicyViolation, "removed from the roster")
						cancel()
						return
					}
					wctx, wcancel := context.WithTimeout(ctx, lim.WriteTimeout)
					err := conn.Write(wctx, b)
					wcancel()
					if err != nil {
						cancel()
						return
					}
				}
			}
		}
	}()
	defer func() {
		if ss.authed {
			s.Hub.remove(site, ss.conv, ss.cl)
		}
		cancel()
		<-writerDone
	}()

	ss.cl.send(protocol.Encode(0, &protocol.Challenge{Nonce: ss.nonce}))
	helloDeadline := time.AfterFunc(lim.HelloTimeout, func() {
		if !ss.authedAtomic() {
			conn.Close(ClosePolicyViolation, "no hello")
			cancel()
		}
	})
	defer helloDeadline.Stop()

	for {
		b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if !ss.bucket.take(s.now()) {
			ss.fail(0, protocol.CodeRateLimited, "too many requests")
			continue
		}
		if stop := ss.handle(ctx, b); stop {
			return
		}
	}
}

func (ss *session) authedAtomic() bool {
	ss.cl.mu.Lock()
	defer ss.cl.mu.Unlock()
	return ss.authed
}

// fail queues an error frame.
func (ss *session) fail(req uint32, code protocol.ErrorCode, reason string) {
	ss.cl.send(protocol.Encode(req, protocol.ErrorFrame(code, reason)))
}

// handle processes one message; it reports whether the session must end.
func (ss *session) handle(ctx context.Context, b []byte) bool {
	req, f, err := protocol.Decode(b)
	if err != nil {
		if errors.Is(err, protocol.ErrUnsupportedVersion) {
			ss.fail(req, protocol.CodeUnsupportedVersion, "unsupported protocol version")
		} else {
			ss.fail(req, protocol.CodeMalformed, "malformed frame")
		}
		return false
	}
	if h, ok := f.(*protocol.Hello); ok {
		return ss.hello(ctx, req, h)
	}
	if !ss.authed {
		ss.fail(req, protocol.CodeState, "hello first")
		return false
	}
	switch f := f.(type) {
	case *protocol.Send:
		ss.send(ctx, req, f)
	case *protocol.List:
		ss.list(req)
	case *protocol.Fetch:
		ss.fetch(req, f)
	case *protocol.Delivered:
		ss.delivered(ctx, req, f)
	case *protocol.Consent:
		ss.consent(ctx, req, f)
	case *protocol.Request:
		ss.request(ctx, req, f)
	case *protocol.Typing:
		ss.typing(req, f)
	case *protocol.WantPerson:
		ss.wantPerson(ctx, req, f)
	case *protocol.Takeover:
		ss.takeover(ctx, req, f)
	case *protocol.Close:
		ss.closeConv(ctx, req, f)
	default:
		ss.fail(req, protocol.CodeMalformed, "not a client frame")
	}
	return false
}

func (ss *session) hello(ctx context.Context, req uint32, h *protocol.Hello) bool {
	if ss.authed {
		ss.fail(req, protocol.CodeState, "already said hello")
		return false
	}
	if h.Site != ss.site {
		ss.fail(req, protocol.CodeForbidden, "hello for another site")
		return false
	}
	if !protocol.VerifyHello(ss.nonce, h) {
		ss.fail(req, protocol.CodeBadSignature, "bad hello signature")
		return false
	}
	_, rawRoster, err := ss.srv.Store.Roster(ss.site)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			ss.fail(req, protocol.CodeNotFound, "site has no roster")
			return false
		}
		return ss.internal(req, "read roster", err)
	}
	w := &protocol.Welcome{Roster: rawRoster}
	switch h.Role {
	case protocol.RoleAgent:
		r, err := ss.srv.rosters.parsed(ss.site, rawRoster)
		if err != nil {
			return ss.internal(req, "parse stored roster", err)
		}
		if why := agentRefusal(r, h.SignKey, ss.srv.now(), "key not in roster"); why != "" {
			ss.fail(req, protocol.CodeForbidden, why)
			return false
		}
		ss.role, ss.key = h.Role, h.SignKey
		ss.setAuthed()
		ss.srv.Hub.addAgent(ss.site, h.SignKey, ss.cl)
		ss.cl.send(protocol.Encode(req, w))
		ss.srv.Log.Info("agent connected")
	case protocol.RoleVisitor:
		conv := ids.ConversationID(ss.site, h.SignKey)
		c, created, err := ss.srv.Store.EnsureConversation(ctx, ss.site, conv, h.SignKey)
		if err != nil {
			switch {
			case errors.Is(err, store.ErrLimit):
				ss.fail(req, protocol.CodeLimit, "too many conversations")
				return false
			case errors.Is(err, store.ErrKeyMismatch):
				ss.fail(req, protocol.CodeForbidden, "conversation belongs to another key")
				return false
			case errors.Is(err, store.ErrGone):
				ss.fail(req, protocol.CodeGone, "conversation was erased")
				return false
			}
			return ss.internal(req, "ensure conversation", err)
		}
		acked, err := ss.srv.Store.LastSeq(ss.site, conv, h.SignKey)
		if err != nil {
			return ss.internal(req, "read last seq", err)
		}
		ss.cl.beginReplay()
		if !ss.srv.Hub.addVisitor(ss.site, conv, ss.cl) {
			// Erased since EnsureConversation read it.
			ss.cl.endReplay(conv, 0)
			ss.fail(req, protocol.CodeGone, "conversation was erased")
			return false
		}
		ss.role, ss.key, ss.conv = h.Role, h.SignKey, conv
		ss.setAuthed()
		w.Conv, w.AckedSeq, w.DeliveredPos = conv, acked, c.DeliveredPos
		ss.cl.send(protocol.Encode(req, w))
		if created {
			ss.srv.Log.Info("conversation created")
		}
		ss.replay(req, conv, h.Since)
		if c.State != store.StateBot {
			// Re-read: the state may have changed since EnsureConversation
			// (a change after this read is pushed to this connection).
			if cur, err := ss.srv.Store.Conversation(ss.site, conv); err == nil && cur.State != store.StateBot {
				ss.cl.send(protocol.Encode(0, stateFrame(cur)))
			}
		}
		ss.srv.Hub.sendPresence(ss.site, ss.cl)
	default:
		ss.fail(req, protocol.CodeMalformed, "unknown role")
	}
	return false
}

func (ss *session) setAuthed() {
	ss.cl.mu.Lock()
	ss.authed = true
	ss.cl.mu.Unlock()
}

// replay sends the stored envelopes of conv after since, then Fetched.
// The caller has called beginReplay.
func (ss *session) replay(req uint32, conv ids.ConvID, since uint64) {
	last := since
	err := ss.srv.Store.Envelopes(ss.site, conv, since, func(pos uint64, stored int64, raw []byte) error {
		last = pos
		if !ss.cl.send(protocol.Encode(0, &protocol.Deliver{Conv: conv, Pos: pos, Stored: uint64(stored), Envelope: raw})) {
			return errKicked
		}
		return nil
	})
	ss.cl.endReplay(conv, last)
	if err != nil {
		if !errors.Is(err, errKicked) {
			ss.internal(req, "replay", err)
		}
		return
	}
	if ss.role == protocol.RoleAgent {
		// Read after the replay, so that no older list follows a pushed newer one
		// (receipts are only appended: a client keeps the longer list).
		if err := ss.sendReceipts(req, conv); err != nil {
			ss.internal(req, "read consent receipts", err)
			return
		}
	}
	ss.cl.send(protocol.Encode(req, &protocol.Fetched{Conv: conv, LastPos: last}))
}

var errKicked = errors.New("client too slow")

// checkEnvelope verifies an envelope the client sends (docs/PROTOCOL.md §6.2):
// it parses, its signature verifies, its site is the connection's, its sender
// is the connection's key and, for a visitor, it belongs to the visitor's own
// conversation. On failure it sends the error and returns nil.
func (ss *session) checkEnvelope(req uint32, raw []byte) *envelope.Envelope {
	env, err := envelope.Verify(raw)
	if err != nil {
		switch {
		case errors.Is(err, envelope.ErrUnsupportedVersion):
			ss.fail(req, protocol.CodeUnsupportedVersion, "unsupported envelope version")
		case errors.Is(err, envelope.ErrBadSignature):
			ss.fail(req, protocol.CodeBadSignature, "bad envelope signature")
		default:
			ss.fail(req, protocol.CodeMalformed, "malformed envelope")
		}
		return nil
	}
	if env.Site != ss.site {
		ss.fail(req, protocol.CodeForbidden, "envelope for another site")
		return nil
	}
	if env.SenderSign != ss.key {
		ss.fail(req, protocol.CodeForbidden, "envelope signed by another key")
		return nil
	}
	if ss.role == protocol.RoleVisitor && env.Conv != ss.conv {
		ss.fail(req, protocol.CodeForbidden, "envelope for another conversation")
		return nil
	}
	return env
}

func (ss *session) send(ctx context.Context, req uint32, f *protocol.Send) {
	env := ss.checkEnvelope(req, f.Envelope)
	if env == nil {
		return
	}
	if ss.role == protocol.RoleAgent && !ss.stillInRoster(req) {
		return
	}
	res, err := ss.srv.Store.Append(ctx, ss.site, env.Conv, env.SenderSign, env.Seq, f.Envelope)
	if err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			ss.notFound(req, env.Conv, "no such conversation")
		case errors.Is(err, store.ErrSequence):
			ss.fail(req, protocol.CodeSequence, "unexpected sequence number")
		case errors.Is(err, store.ErrLimit):
			ss.fail(req, protocol.CodeLimit, "conversation is full")
		case errors.Is(err, store.ErrGone):
			ss.fail(req, protocol.CodeGone, "conversation was erased")
		default:
			ss.internal(req, "append", err)
		}
		return
	}
	ss.cl.send(protocol.Encode(req, &protocol.Ack{Conv: env.Conv, Seq: env.Seq, Pos: res.Pos}))
	if res.Duplicate {
		return
	}
	frame := protocol.Encode(0, &protocol.Deliver{Conv: env.Conv, Pos: res.Pos, Stored: uint64(res.Stored), Envelope: f.Envelope})
	ss.srv.Hub.publish(ss.site, env.Conv, res.Pos, frame)
}

// maxList is the most conversations one Conversations frame carries.
const maxList = 1000

func (ss *session) list(req uint32) {
	if ss.role != protocol.RoleAgent {
		ss.fail(req, protocol.CodeForbidden, "agents only")
		return
	}
	if !ss.stillInRoster(req) {
		return
	}
	convs, err := ss.srv.Store.Conversations(ss.site, maxList)
	if err != nil {
		ss.internal(req, "list conversations", err)
		return
	}
	out := &protocol.Conversations{Entries: make([]protocol.ConvInfo, 0, len(convs))}
	for _, c := range convs {
		out.Entries = append(out.Entries, protocol.ConvInfo{Conv: c.ID, LastPos: c.LastPos, Created: uint64(c.Created), DeliveredPos: c.DeliveredPos})
	}
	ss.cl.send(protocol.Encode(req, out))
	// Then the state of every conversation that is not bot only.
	for _, c := range convs {
		if c.State != store.StateBot {
			ss.cl.send(protocol.Encode(req, stateFrame(c)))
		}
	}
}

func (ss *session) fetch(req uint32, f *protocol.Fetch) {
	if ss.role != protocol.RoleAgent {
		ss.fail(req, protocol.CodeForbidden, "agents only")
		return
	}
	if !ss.stillInRoster(req) {
		return
	}
	if _, err := ss.srv.Store.Conversation(ss.site, f.Conv); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			ss.notFound(req, f.Conv, "no such conversation")
			return
		}
		ss.internal(req, "read conversation", err)
		return
	}
	ss.cl.beginReplay()
	ss.replay(req, f.Conv, f.Since)
}

// consent stores a consent receipt for the visitor's own conversation, answers
// with the conversation's receipts and pushes them to the site's agents.
func (ss *session) consent(ctx context.Context, req uint32, f *protocol.Consent) {
	if ss.role != protocol.RoleVisitor {
		ss.fail(req, protocol.CodeForbidden, "visitors only")
		return
	}
	if f.Conv != ss.conv {
		ss.fail(req, protocol.CodeForbidden, "consent for another conversation")
		return
	}
	list, err := ss.srv.Store.AddConsentReceipt(ctx, ss.site, f.Conv, store.ConsentReceipt{
		FlowVersion: f.FlowVersion, TextHash: f.TextHash, Decision: f.Decision})
	if err != nil {
		switch {
		case errors.Is(err, store.ErrLimit):
			ss.fail(req, protocol.CodeLimit, "too many consent receipts")
		case errors.Is(err, store.ErrNotFound):
			ss.notFound(req, f.Conv, "no such conversation")
		case errors.Is(err, store.ErrGone):
			ss.fail(req, protocol.CodeGone, "conversation was erased")
		case errors.Is(err, store.ErrInvalid):
			ss.fail(req, protocol.CodeMalformed, "invalid consent decision")
		default:
			ss.internal(req, "add consent receipt", err)
		}
		return
	}
	out := receiptsFrame(f.Conv, list)
	ss.cl.send(protocol.Encode(req, out))
	ss.srv.Hub.publishAgents(ss.site, f.Conv, protocol.Encode(0, out))
}

// sendReceipts sends the conversation's consent receipts, if it has any.
func (ss *session) sendReceipts(req uint32, conv ids.ConvID) error {
	list, err := ss.srv.Store.ConsentReceipts(ss.site, conv)
	if err != nil || len(list) == 0 {
		return err
	}
	ss.cl.send(protocol.Encode(req, receiptsFrame(conv, list)))
	return nil
}

func receiptsFrame(conv ids.ConvID, list []store.ConsentReceipt) *protocol.ConsentReceipts {
	f := &protocol.ConsentReceipts{Conv: conv, Receipts: make([]protocol.ConsentReceipt, len(list))}
	for i, r := range list {
		f.Receipts[i] = protocol.ConsentReceipt{FlowVersion: r.FlowVersion, TextHash: r.TextHash,
			Decision: r.Decision, Time: uint64(r.Time)}
	}
	return f
}

func (ss *session) delivered(ctx context.Context, req uint32, f *protocol.Delivered) {
	if ss.role != protocol.RoleAgent {
		ss.fail(req, protocol.CodeForbidden, "agents only")
		return
	}
	if !ss.stillInRoster(req) {
		return
	}
	c, err := ss.srv.Store.Conversation(ss.site, f.Conv)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			ss.notFound(req, f.Conv, "no such conversation")
			return
		}
		ss.internal(req, "read conversation", err)
		return
	}
	if f.Pos > c.LastPos {
		ss.fail(req, protocol.CodeMalformed, "position beyond the conversation")
		return
	}
	changed, err := ss.srv.Store.MarkDelivered(ctx, ss.site, f.Conv, f.Pos)
	if err != nil {
		ss.internal(req, "mark delivered", err)
		return
	}
	if changed {
		ss.srv.Hub.publish(ss.site, f.Conv, 0, protocol.Encode(0, &protocol.Receipt{Conv: f.Conv, Pos: f.Pos}))
	}
}

// notFound answers a request for a conversation the store does not have:
// gone if it was erased, else not found.
func (ss *session) notFound(req uint32, conv ids.ConvID, reason string) {
	gone, err := ss.srv.Store.Tombstoned(ss.site, conv)
	switch {
	case err != nil:
		ss.internal(req, "read tombstone", err)
	case gone:
		ss.fail(req, protocol.CodeGone, "conversation was erased")
	default:
		ss.fail(req, protocol.CodeNotFound, reason)
	}
}

// internal logs err (which never contains content) and sends an internal error.
func (ss *session) internal(req uint32, what string, err error) bool {
	if errors.Is(err, context.Canceled) {
		// The connection or the relay is shutting down: not a failure.
		ss.srv.Log.Debug(what, "err", err)
		return false
	}
	ss.srv.Log.Error(what, "err", err)
	ss.fail(req, protocol.CodeInternal, "internal error")
	return false
}

// tokenBucket limits the request rate of one connection (kept in memory only).
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	b.last = now
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
