// Package session is the client side of the Siegel protocol (docs/PROTOCOL.md §6),
// shared by the visitor widget and the agent page. It is pure Go: it never touches
// the DOM, timers or sockets. The caller owns the connection and feeds the session;
// the session answers with events for the UI.
//
// # Driving a session
//
//	s, err := session.New(session.Config{Role: protocol.RoleVisitor, Site: site,
//	    Owner: ownerFP, Identity: id, Rand: rnd, State: restored})
//	// when a WebSocket opens:        evs := s.Connect(ws)   // ws implements Transport
//	// for every binary message:      evs := s.Receive(b)
//	// when the socket closes:        evs := s.Disconnected()
//	// when the user sends text:      evs, err := s.Send(text)           (visitor)
//	//                                evs, err := s.Reply(conv, text)    (agent)
//	// a bot transcript entry:        evs, err := s.SendContent(t, c, ms) (visitor)
//	// a consent receipt:             evs, err := s.SendConsent(c)       (visitor)
//	// erase a conversation:          evs, err := s.Erase(conv)          (visitor: own; agent: any)
//	// correct an own answer:         evs, err := s.Correct(pos, a, ms)  (visitor)
//	// typing started / stopped:      err := s.Typing(conv, on)          (visitor: own conv)
//	// ask for a person (handoff):    err := s.WantPerson()              (visitor)
//	// take over / end a conversation: err := s.Takeover(conv), s.Close(conv) (agent)
//	// after any of these:            persist s.State() (visitor; agents persist s.Counter())
//
// Every method returns a small slice of events (StatusEvent, MessageEvent, AckEvent,
// ReceiptEvent, RosterEvent, RosterErrorEvent, ErrorEvent, SendFailedEvent,
// SeqChangedEvent, RejectedEvent, FetchedEvent, ConversationsEvent,
// ConsentReceiptsEvent, ConsentFailedEvent, DoneEvent, RequestFailedEvent,
// ErasedEvent, ReplacedEvent, TypingEvent, ConvStateEvent, PresenceEvent) in the order the UI should apply them. A Session is safe for concurrent use, but a Transport must
// not call back into the Session from inside Send or Close.
//
// The session never reconnects by itself: when a connection ends (or the session
// closes it, for example after a sequence error) the caller reconnects with backoff
// unless Stopped() reports true.
//
// # Handshake and trust
//
// After Challenge the session sends a signed Hello (role, site, keys, since). The
// Welcome carries the site's roster, which is verified with roster.Verify against the
// owner fingerprint from the script tag and the highest roster version seen before
// (Config.State.RosterVersion and every roster verified since). If that fails the
// session stops for good: it closes the transport, reports a RosterErrorEvent and
// never sends anything again. Envelopes are transmitted only on a connection whose
// Welcome roster verified.
//
// # Outbox
//
// Sent text is sealed at once into an envelope with the next sequence number and kept
// in an outbox (part of State, so it survives a reload) until the relay acknowledges
// it. After each Welcome the session drops the entries the relay has already
// committed (seq ≤ acked seq), renumbers the rest consecutively after it, reseals
// those whose recipients are not the current ones (for example text typed before any
// roster was known is sealed to the sender alone and resealed once a roster is
// verified), and sends them in order. An Ack removes exactly the acknowledged entry;
// a Deliver of an own envelope removes the entry with that seq only when it holds
// the same bytes (otherwise another tab or device wrote with the same key, and the
// entry is renumbered at the next settle instead of being lost). An error reply to
// a Send that retrying cannot fix drops that entry (SendFailedEvent); other errors
// close the connection so that the next Welcome resynchronises.
//
// # Bot transcript and consent receipts
//
// The bot runs in the visitor's browser; the widget decides when its transcript
// reaches the relay (widget/visitor). Each entry is sealed with SendContent as
// its own envelope (docs/PROTOCOL.md §3.3) and queued like text; MessageEvent
// carries its content type and raw content. Room tells how many more envelopes
// the outbox takes. Consent receipts (no personal data) are queued with
// SendConsent, kept in State until the relay has answered, and sent one at a
// time after each Welcome as Consent frames; the relay's ConsentReceipts answer
// (or push, for agents) becomes a ConsentReceiptsEvent. A receipt the relay
// refuses for good is dropped with a ConsentFailedEvent; a transient refusal
// ends the connection and the receipt is sent again after the next Welcome.
//
// # Signed requests
//
// Erase and Correct queue a signed request (docs/PROTOCOL.md §6.5); requests
// go out one at a time when the connection is ready, signed by the
// session's identity over the operation, site, conversation, the
// connection's challenge nonce, a counter and the body hash. The counter is
// max(Unix milliseconds, last counter + 1); the last one is restored from
// State.Counter and reported by Counter, and the caller persists it, so that
// a request after a reload is never taken for a replay. A correction is
// sealed when it is sent: a normal envelope of the visitor with the next
// sequence number (reserved at once) and content type 0x06, sent only when
// every queued own message is acknowledged. The relay's Done becomes a
// DoneEvent; an Error a RequestFailedEvent (nothing changed). A request
// whose connection ends before the answer is sent again after the next
// Welcome — except a correction whose envelope the Welcome's acked seq
// already covers (it was carried out: DoneEvent).
//
// Erased pushes (and a Gone answer) become an ErasedEvent: a visitor's
// session then stops for good (as after its own erase's DoneEvent); an
// agent's session forgets the conversation. A Replaced push becomes a
// ReplacedEvent; the replaced position is never delivered again, and a
// Fetched counts every position up to its last position as delivered.
//
// # Live chat
//
// Typing, WantPerson, Takeover and Close send the frames of docs/PROTOCOL.md
// §6.7. Typing is sent only on a ready connection and never queued; a
// WantPerson waits for a ready connection (it is sent after the outbox) and is
// sent again after a reconnect until the relay answers it. The relay's
// TypingPush, ConvState and Presence frames become TypingEvent, ConvStateEvent
// and PresenceEvent. A RosterUpdate is verified exactly like the Welcome's
// roster (owner fingerprint, site, expiry, no lower version than seen); if
// that fails the session stops for good (RosterErrorEvent, nothing is sent any
// more), otherwise a RosterEvent follows and every later seal goes to the new
// roster's box keys, so a removed agent gets no stanza. An agent whose own key
// is not in the pushed roster stops with a RosterErrorEvent carrying
// ErrRemoved.
//
// # Visitor mode
//
// The conversation is ids.ConversationID(site, own signing key). Recipients of every
// message are the roster's box keys plus the visitor's own box key, so the visitor can
// read their own messages after a reload. A new Session starts with its cursor at 0:
// the Hello asks for the whole conversation and the UI shows it again. Envelopes from
// senders that are neither the visitor nor an agent of the verified roster are
// rejected (RejectedEvent).
//
// # Agent mode
//
// The agent lists conversations (List → ConversationsEvent), fetches them (Fetch →
// MessageEvents, then FetchedEvent) and confirms what it has shown (MarkDelivered).
// Envelopes of any conversation of the site are opened; a sender whose
// ids.ConversationID matches the conversation is its visitor, and the visitor's box
// key is learnt from those envelopes. Reply seals to that visitor box key plus the
// roster's box keys (which include the agent's own). Replying needs a completed Fetch
// of the conversation in this session (so the agent's last sequence number there is
// known: ErrNotSynced otherwise) and at least one envelope of its visitor
// (ErrNoVisitorKey). Agents get no acked seq in Welcome: after a reconnect their
// unacknowledged replies are resent unchanged (the relay acknowledges identical
// bytes again); a sequence error marks the conversation unsynced, and its replies
// wait, renumbered, until the next completed Fetch. After a reconnect the caller
// fetches its conversations again; the session remembers each conversation's
// cursor and asks only for what is new. Live Deliver frames of conversations not
// fetched yet are shown too; positions seen beyond a gap are remembered, so a later
// Fetch does not show them twice.
package session
