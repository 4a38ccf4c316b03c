package agent

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/protocol"
	"siegel/widget/session"
)

// StorageKey is the localStorage key under which the encrypted key file
// (text form, docs/PROTOCOL.md §5) is kept. Besides it only the signed-request
// counter is stored (CounterKey).
const StorageKey = "siegel.agent.v1"

// CounterKey is the localStorage key of the last signed-request counter used
// (decimal), so that a request made after a reload is never taken for a
// replay even when the clock went back (docs/PROTOCOL.md §6.5).
const CounterKey = "siegel.agent.v1.counter"

// HandshakeTimeout bounds the time from an open socket to a verified Welcome.
const HandshakeTimeout = 15 * time.Second

// Phase is the page's top-level state.
type Phase uint8

const (
	// PhaseNoKey: no key file yet; offer import (and the demo key).
	PhaseNoKey Phase = iota
	// PhaseLoadingKey: the demo key file is being fetched.
	PhaseLoadingKey
	// PhaseLocked: a key file is present; the passphrase is needed.
	PhaseLocked
	// PhaseUnlocking: the passphrase is being checked (argon2id, slow).
	PhaseUnlocking
	// PhaseReady: unlocked; the inbox is shown.
	PhaseReady
	// PhaseGenerate: the form to create a new key is shown.
	PhaseGenerate
	// PhaseGenerating: a new key is being created and sealed (slow).
	PhaseGenerating
)

// ConnState is the connection state shown in the status line.
type ConnState uint8

const (
	// ConnIdle: not unlocked, no connection wanted.
	ConnIdle ConnState = iota
	// ConnConnecting: a connection is being opened or authenticated.
	ConnConnecting
	// ConnOnline: authenticated, the roster verified.
	ConnOnline
	// ConnWaiting: no connection; a new attempt is scheduled (RetryIn).
	ConnWaiting
	// ConnStopped: the session stopped for good (see Error); no retries.
	ConnStopped
)

// Handlers receive the events of one connection made by Platform.Dial. They
// must be called on the page's event loop, never from inside Dial.
type Handlers struct {
	OnOpen    func()
	OnMessage func([]byte)
	// OnClose reports the end of the connection with the WebSocket close
	// code (0 when there was none, e.g. a failure to connect).
	OnClose func(code int)
}

// ClosePolicy is the WebSocket close code by which the relay ends the
// connections of an agent removed from the roster (docs/PROTOCOL.md §6.7).
const ClosePolicy = 1008

// Platform is what the App needs from the browser. The js build implements it
// with package jsbridge; tests implement it in memory. Callbacks (timers,
// socket handlers, fetch results) are called one at a time, never while an App
// method is running.
type Platform interface {
	Now() time.Time
	// After calls f once after d; stop cancels it.
	After(d time.Duration, f func()) (stop func())
	// AfterPaint calls f once the browser had a chance to paint (used before
	// the slow passphrase check so that "Unlocking…" is visible).
	AfterPaint(f func())
	// Dial opens a WebSocket; failures to connect arrive as OnClose.
	Dial(url string, h Handlers) (session.Transport, error)
	LoadKey() (string, bool)
	SaveKey(text string) error
	RemoveKey()
	// LoadCounter and SaveCounter keep the last signed-request counter.
	LoadCounter() uint64
	SaveCounter(n uint64)
	// FetchText loads a same-origin text resource and calls done with it.
	FetchText(url string, done func(text string, err error))
	// Changed asks for the view to be rendered again.
	Changed()
	// Notify shows a browser notification (when the user allowed them);
	// tag replaces an earlier notification with the same tag.
	Notify(title, body, tag string)
}

// Config are the page's settings, from the data attributes of #siegel-agent.
type Config struct {
	Lang    Lang
	Site    string    // data-site: the site ID in text form, or "" (take it from the key)
	Relay   string    // data-relay: WebSocket base URL, e.g. ws://127.0.0.1:8080
	DemoKey string    // data-demo-key: URL of a demo key file, or ""
	Owner   string    // data-owner: the owner key fingerprint to prefill, or ""
	Rand    io.Reader // cryptographic randomness
	// KeyParams are the argon2id parameters for new keys (zero: the
	// defaults of package keyfile).
	KeyParams keyfile.Params
}

// App is the agent page's controller and view-model: it holds the key phase,
// drives the protocol session over the platform's WebSocket and keeps the
// inbox. All methods are meant to be called from the page's event loop; the
// App is not safe for concurrent use.
type App struct {
	p    Platform
	cfg  Config
	text *Text

	pageSite    ids.SiteID
	hasPageSite bool

	phase   Phase
	err     string
	keyText string // encrypted key file, text form
	stored  bool   // keyText is the one in storage
	gen     uint64 // bumped on lock; stale callbacks compare it

	name  string
	site  ids.SiteID
	me    ids.Key
	sess  *session.Session
	cur   *link
	conn  ConnState
	retry struct {
		at         time.Time
		stop, tick func()
	}
	handshakeStop func()
	backoff       Backoff
	inbox         Inbox
	visible       bool
	notice        string // a passing message (a conversation was deleted)
	counter       uint64 // the request counter last saved

	// Live chat (live.go).
	removed     bool // no longer in the roster: stopped for good
	notInRoster bool // the relay refused the key: not in the roster (yet)
	inRoster    bool // a roster with this key was seen
	typing      struct {
		on   bool
		conv ids.ConvID
		at   time.Time
	}
	typingStop func()
	// Key generation (keygen.go).
	pub       string // the public line of the unlocked key
	keyErrs   NewKeyErrors
	generated bool
}

// link is one connection attempt.
type link struct{ t session.Transport }

// New creates the App; call Start next.
func New(p Platform, cfg Config) *App {
	a := &App{p: p, cfg: cfg, text: Strings(cfg.Lang), visible: true}
	if cfg.Site != "" {
		if s, err := ids.ParseSiteID(cfg.Site); err == nil {
			a.pageSite, a.hasPageSite = s, true
		}
	}
	return a
}

// Start reads the stored key file and shows the matching phase.
func (a *App) Start() {
	if t, ok := a.p.LoadKey(); ok && t != "" {
		a.keyText, a.stored, a.phase = t, true, PhaseLocked
	} else {
		a.phase = PhaseNoKey
	}
	if a.cfg.Site != "" && !a.hasPageSite {
		a.err = a.text.ErrPage
	}
	a.p.Changed()
}

// Text returns the interface texts.
func (a *App) Text() *Text { return a.text }

// Phase returns the page phase.
func (a *App) Phase() Phase { return a.phase }

// Error returns the current error message in plain words, or "".
func (a *App) Error() string { return a.err }

// DismissError clears the error message.
func (a *App) DismissError() { a.err = ""; a.p.Changed() }

// HasDemo reports whether a demo key can be loaded.
func (a *App) HasDemo() bool { return a.cfg.DemoKey != "" }

// HasKey reports whether a key file is present (stored or imported).
func (a *App) HasKey() bool { return a.keyText != "" }

// Name returns the agent's name (after unlocking).
func (a *App) Name() string { return a.name }

// Inbox returns the conversations (read them, do not change them).
func (a *App) Inbox() *Inbox { return &a.inbox }

// Conn returns the connection state.
func (a *App) Conn() ConnState { return a.conn }

// RetryIn returns the whole seconds (rounded up) until the next connection
// attempt while Conn is ConnWaiting.
func (a *App) RetryIn() int {
	if a.conn != ConnWaiting {
		return 0
	}
	d := a.retry.at.Sub(a.p.Now())
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// StatusText is the connection state in words, for the status line.
func (a *App) StatusText() string {
	switch a.conn {
	case ConnConnecting:
		return a.text.Connecting
	case ConnOnline:
		return a.text.Online
	case ConnWaiting, ConnStopped:
		return a.text.Offline
	}
	return ""
}

// RetryText is the countdown to the next connection attempt ("Neuer Versuch
// in 5 s."), or "" when none is scheduled. It changes every second, so it is
// kept out of the status line's live region.
func (a *App) RetryText() string {
	if n := a.RetryIn(); n > 0 {
		return a.text.RetryIn + " " + itoa(n) + " " + a.text.Seconds + "."
	}
	return ""
}

// StatusState is the data-state of the status line: "idle", "connecting",
// "online", "offline" or "failed".
func (a *App) StatusState() string {
	switch a.conn {
	case ConnConnecting:
		return "connecting"
	case ConnOnline:
		return "online"
	case ConnWaiting:
		return "offline"
	case ConnStopped:
		return "failed"
	}
	return "idle"
}

// ImportKey takes the text of a key file chosen by the user. A text that is
// not a key file is refused with an error message; otherwise the passphrase
// is asked for. The key file is stored only after it was unlocked.
func (a *App) ImportKey(text string) bool {
	defer a.p.Changed()
	if a.phase == PhaseUnlocking || a.phase == PhaseReady || a.phase == PhaseGenerating {
		return false
	}
	if err := checkKeyText(text); err != nil {
		a.err = a.keyError(err)
		if a.phase == PhaseLoadingKey {
			a.phase = PhaseNoKey
			if a.keyText != "" {
				a.phase = PhaseLocked
			}
		}
		return false
	}
	a.keyText, a.stored, a.phase, a.err = text, false, PhaseLocked, ""
	return true
}

// KeyUnreadable reports that the chosen key file could not be read.
func (a *App) KeyUnreadable() {
	a.err = a.text.KeyLoadError
	a.p.Changed()
}

// LoadDemo fetches the demo key file and imports it.
func (a *App) LoadDemo() {
	if a.cfg.DemoKey == "" || (a.phase != PhaseNoKey && a.phase != PhaseLocked) {
		return
	}
	a.phase, a.err = PhaseLoadingKey, ""
	gen := a.gen
	a.p.FetchText(a.cfg.DemoKey, func(text string, err error) {
		if gen != a.gen || a.phase != PhaseLoadingKey {
			return
		}
		if err != nil {
			a.phase, a.err = PhaseNoKey, a.text.KeyLoadError
			if a.keyText != "" {
				a.phase = PhaseLocked
			}
			a.p.Changed()
			return
		}
		a.ImportKey(text)
	})
	a.p.Changed()
}

// Unlock checks the passphrase. The slow key derivation runs after the
// browser painted the "Unlocking…" state. A wrong passphrase leaves
// everything as it was, with an error message.
func (a *App) Unlock(passphrase string) {
	if a.phase != PhaseLocked {
		return
	}
	if passphrase == "" {
		a.err = a.text.EmptyPass
		a.p.Changed()
		return
	}
	a.phase, a.err = PhaseUnlocking, ""
	gen := a.gen
	a.p.AfterPaint(func() {
		if gen == a.gen && a.phase == PhaseUnlocking {
			a.finishUnlock(passphrase)
		}
	})
	a.p.Changed()
}

func (a *App) finishUnlock(passphrase string) {
	defer a.p.Changed()
	sec, err := keyfile.Open([]byte(a.keyText), passphrase)
	defer clear(sec.SignSeed[:])
	defer clear(sec.BoxPriv[:])
	if err != nil {
		a.phase, a.err = PhaseLocked, a.keyError(err)
		return
	}
	if a.hasPageSite && sec.Site != a.pageSite {
		a.phase, a.err = PhaseLocked, a.text.ErrOtherSite
		return
	}
	a.start(sec)
}

// start makes the page ready with the keys of sec (unlocked or just
// generated) and connects. On failure the phase is PhaseLocked with an error.
func (a *App) start(sec keyfile.Secret) {
	fallback := PhaseLocked
	if a.phase == PhaseGenerating {
		fallback = PhaseGenerate
	}
	id, err := envelope.IdentityFromKeys(sec.SignSeed, sec.BoxPriv)
	if err != nil {
		a.phase, a.err = fallback, a.text.BadKeyFile
		return
	}
	a.counter = a.p.LoadCounter()
	sess, err := session.New(session.Config{Role: protocol.RoleAgent, Site: sec.Site, Owner: sec.OwnerFP,
		Identity: id, Rand: a.cfg.Rand, Now: a.p.Now, State: session.State{Counter: a.counter}})
	if err != nil {
		a.phase, a.err = fallback, a.text.BadKeyFile
		return
	}
	if !a.stored {
		if err := a.p.SaveKey(a.keyText); err != nil {
			a.err = a.text.StorageError
		} else {
			a.stored = true
		}
	}
	a.name, a.site, a.me, a.sess = sec.Name, sec.Site, id.SignKey(), sess
	a.pub = PubLine(sec.AgentID, id.SignKey(), id.BoxKey(), sec.Name)
	a.phase = PhaseReady
	a.backoff.Reset()
	a.connect()
}

// Lock forgets the unlocked keys and all plaintext and closes the connection.
func (a *App) Lock() {
	a.gen++
	a.stopTimers()
	if c := a.cur; c != nil {
		a.cur = nil
		c.t.Close()
	}
	a.sess, a.name, a.me, a.pub, a.generated = nil, "", ids.Key{}, "", false
	a.removed, a.notInRoster, a.inRoster, a.typing.on = false, false, false, false
	a.inbox.Clear()
	a.notice = ""
	a.conn = ConnIdle
	if a.keyText != "" {
		a.phase = PhaseLocked
	} else {
		a.phase = PhaseNoKey
	}
	a.p.Changed()
}

// Forget locks and removes the key file from this browser.
func (a *App) Forget() {
	a.p.RemoveKey()
	a.keyText, a.stored, a.err = "", false, ""
	a.Lock()
}

// Export returns the key file for a backup download and a file name.
func (a *App) Export() (name, text string, ok bool) {
	if a.keyText == "" {
		return "", "", false
	}
	name = "siegel-agent.key"
	if a.sess != nil {
		name = "siegel-agent-" + a.site.String()[:8] + ".key"
	}
	return name, a.keyText, true
}

// Select opens a conversation and fetches it if needed.
func (a *App) Select(id ids.ConvID) {
	if a.phase != PhaseReady || a.inbox.Get(id) == nil {
		return
	}
	if c, ok := a.inbox.Selected(); ok && c.ID != id {
		a.stopTyping()
	}
	a.inbox.Select(id)
	a.notice = ""
	a.ensureFetched(a.inbox.Get(id))
	a.deliverDue()
	a.p.Changed()
}

// Deselect goes back to the conversation list.
func (a *App) Deselect() {
	a.stopTyping()
	a.inbox.Deselect()
	a.p.Changed()
}

// SetVisible tells whether the page is visible (document.visibilityState);
// messages are confirmed as delivered only while it is.
func (a *App) SetVisible(v bool) {
	a.visible = v
	if v {
		a.deliverDue()
	}
	a.p.Changed()
}

// Reply sends text to the visitor of the open conversation. It reports
// whether the reply was queued (the reply box may then be cleared); otherwise
// Error says why.
func (a *App) Reply(text string) bool {
	defer a.p.Changed()
	c, ok := a.inbox.Selected()
	if !ok || a.sess == nil || a.removed {
		return false
	}
	if strings.TrimSpace(text) == "" {
		a.err = a.text.EmptyReply
		return false
	}
	evs, err := a.sess.Reply(c.ID, text)
	if err != nil {
		a.err = a.replyError(err)
		if errors.Is(err, session.ErrNotSynced) {
			a.ensureFetched(c)
		}
		return false
	}
	a.err = ""
	a.apply(evs)
	a.stopTyping()
	return true
}

// ReconnectNow skips the wait before the next connection attempt.
func (a *App) ReconnectNow() {
	if a.conn != ConnWaiting {
		return
	}
	a.stopRetry()
	a.connect()
	a.p.Changed()
}

func (a *App) stopRetry() {
	if a.retry.stop != nil {
		a.retry.stop()
		a.retry.stop = nil
	}
	if a.retry.tick != nil {
		a.retry.tick()
		a.retry.tick = nil
	}
}

func (a *App) stopTimers() {
	a.stopRetry()
	if a.typingStop != nil {
		a.typingStop()
		a.typingStop = nil
	}
	if a.handshakeStop != nil {
		a.handshakeStop()
		a.handshakeStop = nil
	}
}

func (a *App) wsURL() string {
	return strings.TrimRight(a.cfg.Relay, "/") + "/ws?site=" + a.site.String()
}

func (a *App) connect() {
	if a.sess == nil || a.sess.Stopped() || a.removed {
		return
	}
	a.stopRetry()
	a.conn = ConnConnecting
	l := &link{}
	gen := a.gen
	t, err := a.p.Dial(a.wsURL(), Handlers{
		OnOpen: func() {
			if gen == a.gen && l == a.cur {
				a.opened(l)
			}
		},
		OnMessage: func(b []byte) {
			if gen == a.gen && l == a.cur {
				a.apply(a.sess.Receive(l.t, b))
				a.p.Changed()
			}
		},
		OnClose: func(code int) {
			if gen == a.gen && l == a.cur {
				a.cur = nil
				if code == ClosePolicy && a.inRoster {
					// The relay ends the connections of removed agents so.
					a.remove()
				}
				a.apply(a.sess.Disconnected(l.t))
				a.scheduleRetry() // in case the session had already noted it
				a.p.Changed()
			}
		},
	})
	if err != nil {
		a.cur = nil
		a.scheduleRetry()
		return
	}
	l.t = t
	a.cur = l
}

func (a *App) opened(l *link) {
	a.apply(a.sess.Connect(l.t))
	if a.handshakeStop != nil {
		a.handshakeStop()
	}
	gen := a.gen
	a.handshakeStop = a.p.After(HandshakeTimeout, func() {
		a.handshakeStop = nil
		if gen == a.gen && l == a.cur && a.conn != ConnOnline {
			l.t.Close() // OnClose follows and schedules the next attempt
		}
	})
	a.p.Changed()
}

func (a *App) rand32() uint32 {
	var b [4]byte
	if a.cfg.Rand != nil {
		io.ReadFull(a.cfg.Rand, b[:])
	}
	return binary.BigEndian.Uint32(b[:])
}

func (a *App) scheduleRetry() {
	if a.sess == nil || a.sess.Stopped() || a.removed || a.cur != nil || a.retry.stop != nil {
		return
	}
	d := a.backoff.Next(a.rand32())
	a.conn = ConnWaiting
	a.retry.at = a.p.Now().Add(d)
	gen := a.gen
	a.retry.stop = a.p.After(d, func() {
		a.retry.stop = nil
		if gen == a.gen {
			a.stopRetry()
			a.connect()
			a.p.Changed()
		}
	})
	a.tick(gen)
}

// tick re-renders the countdown once a second while waiting.
func (a *App) tick(gen uint64) {
	a.retry.tick = a.p.After(time.Second, func() {
		a.retry.tick = nil
		if gen == a.gen && a.conn == ConnWaiting && a.retry.stop != nil {
			a.tick(gen)
			a.p.Changed()
		}
	})
}

// apply updates the view-model from session events.
func (a *App) apply(evs []session.Event) {
	for _, ev := range evs {
		switch e := ev.(type) {
		case session.StatusEvent:
			a.onStatus(e.Status)
		case session.MessageEvent:
			m := Message{Pos: e.Pos, Seq: e.Seq, From: From(e.From), Sender: e.Sender, Own: e.Own,
				Time: e.Time, Stored: int64(e.Stored), Pending: e.Pending}
			m.setContent(e.Type, e.Content, e.Text)
			if m.From == FromAgent && !m.Unreadable {
				switch {
				case e.Own:
					m.Name = a.name
				case e.Agent.Name != "":
					m.Name = e.Agent.Name
				default:
					m.Name = a.text.UnknownAgent
				}
			}
			if e.Pending {
				a.inbox.AddPending(e.Conv, m)
			} else {
				a.inbox.Add(e.Conv, m)
			}
		case session.AckEvent:
			a.inbox.Acked(e.Conv, a.me, e.Seq, e.Pos, a.p.Now().Unix())
		case session.ReceiptEvent:
			a.inbox.Receipt(e.Conv, e.Pos)
		case session.RosterEvent:
			a.onRoster(e.Roster)
		case session.RosterErrorEvent:
			if errors.Is(e.Err, session.ErrRemoved) {
				a.remove()
			} else {
				a.err = a.text.ErrRoster
			}
		case session.ConvStateEvent:
			a.onConvState(e.Conv, e.State, e.AgentKey, e.Agent.Name)
		case session.TypingEvent:
			a.onTyping(e.Conv, e.Key, e.From == session.FromVisitor, e.Agent.Name, e.On)
		case session.ErrorEvent:
			a.onError(e)
		case session.SendFailedEvent:
			a.inbox.Failed(e.Conv, a.me, e.Seq)
			a.err = a.text.SendFailed
			if t := a.codeText(e.Code); t != "" {
				a.err += " " + t
			}
		case session.SeqChangedEvent:
			a.inbox.Renumber(e.Conv, a.me, e.Old, e.New)
		case session.RejectedEvent:
			a.inbox.Add(e.Conv, Message{Pos: e.Pos, From: FromVisitor, Unreadable: true})
		case session.FetchedEvent:
			a.inbox.Fetched(e.Conv, e.LastPos, a.sess.LastPos(e.Conv) >= e.LastPos)
		case session.ConversationsEvent:
			a.onList(e.Entries)
		case session.ConsentReceiptsEvent:
			a.inbox.SetReceipts(e.Conv, receiptsOf(e.Receipts))
		case session.ReplacedEvent:
			a.inbox.Replaced(e.Conv, e.Old)
		case session.DoneEvent:
			if e.Op == protocol.OpErase {
				a.purge(e.Conv, a.text.Deleted)
			}
		case session.ErasedEvent:
			a.purge(e.Conv, "")
		case session.RequestFailedEvent:
			a.requestFailed(e)
		}
	}
	a.saveCounter()
	a.deliverDue()
}

func (a *App) onStatus(s session.Status) {
	switch s {
	case session.StatusOffline:
		a.cur = nil
		a.typing.on = false // the relay forgot it with the connection
		if a.handshakeStop != nil {
			a.handshakeStop()
			a.handshakeStop = nil
		}
		a.scheduleRetry()
	case session.StatusConnecting:
		a.conn = ConnConnecting
	case session.StatusReady:
		a.conn = ConnOnline
		a.notInRoster = false
		if a.handshakeStop != nil {
			a.handshakeStop()
			a.handshakeStop = nil
		}
		a.backoff.Reset()
		a.inbox.Reconnected()
		if err := a.sess.List(); err != nil {
			a.err = a.text.ErrProtocol
		}
	case session.StatusStopped:
		a.conn = ConnStopped
		a.cur = nil
		a.stopTimers()
		if a.err == "" && !a.removed {
			a.err = a.text.ErrProtocol
		}
	}
}

func (a *App) onList(infos []protocol.ConvInfo) {
	entries := make([]Entry, len(infos))
	for i, ci := range infos {
		entries[i] = Entry{ID: ci.Conv, LastPos: ci.LastPos, Created: int64(ci.Created), DeliveredPos: ci.DeliveredPos}
	}
	a.inbox.SetList(entries)
	// Fetch what is shown, and what holds replies waiting for a fetch.
	for _, c := range a.inbox.convs {
		if sel, ok := a.inbox.Selected(); (ok && sel == c) || hasUnplaced(c) {
			a.ensureFetched(c)
		}
	}
	// Fetch the most recent conversations with unread messages as well, so
	// that the list can tell which of them wait for a person. Nothing is
	// confirmed as delivered before it is opened.
	n := 0
	for _, c := range a.inbox.Sorted() {
		if n >= MaxPrefetch {
			break
		}
		if c.Unread() > 0 && !c.Loaded {
			a.ensureFetched(c)
			n++
		}
	}
}

// MaxPrefetch is the most conversations with unread messages fetched when
// the conversation list arrives (besides the open one).
const MaxPrefetch = 20

func hasUnplaced(c *Conversation) bool {
	for i := len(c.Messages) - 1; i >= 0 && c.Messages[i].Pos == 0; i-- {
		if !c.Messages[i].Failed {
			return true
		}
	}
	return false
}

func (a *App) ensureFetched(c *Conversation) {
	if c == nil || a.conn != ConnOnline || c.Loading {
		return
	}
	if c.Loaded && a.sess.Synced(c.ID) && a.sess.LastPos(c.ID) >= c.LastPos {
		return
	}
	if a.sess.Fetch(c.ID) == nil {
		c.Loading = true
	}
}

func (a *App) deliverDue() {
	if a.conn != ConnOnline {
		return
	}
	if id, pos, ok := a.inbox.DeliveredDue(a.visible); ok && a.sess.MarkDelivered(id, pos) == nil {
		a.inbox.MarkDelivered(id, pos)
	}
}

func (a *App) onError(e session.ErrorEvent) {
	if e.Code == 0 {
		if errors.Is(e.Err, session.ErrProtocol) || errors.Is(e.Err, protocol.ErrMalformed) ||
			errors.Is(e.Err, protocol.ErrUnsupportedVersion) {
			a.err = a.text.ErrProtocol
		}
		return
	}
	// A refused request may have been a fetch: allow it to be asked again.
	for _, c := range a.inbox.convs {
		c.Loading = false
	}
	if e.Fatal {
		switch e.Code {
		case protocol.CodeForbidden:
			a.refusedNotAgent()
		case protocol.CodeUnknownSite:
			a.err = a.text.ErrSite
		case protocol.CodeUnsupportedVersion:
			a.err = a.text.ErrVersion
		default:
			a.err = a.text.ErrProtocol
		}
		return
	}
	if e.Code == protocol.CodeNotFound && a.conn == ConnOnline {
		// A conversation went away; the list tells which.
		a.sess.List()
	}
	if t := a.codeText(e.Code); t != "" {
		a.err = t
	}
}

// codeText explains an error code of the relay; "" for codes that need no
// words (a sequence conflict resolves itself by reconnecting).
func (a *App) codeText(c protocol.ErrorCode) string {
	switch c {
	case 0, protocol.CodeSequence:
		return ""
	case protocol.CodeRateLimited:
		return a.text.ErrRate
	case protocol.CodeInternal:
		return a.text.ErrServer
	case protocol.CodeTooLarge:
		return a.text.ErrTooLarge
	case protocol.CodeLimit:
		return a.text.ErrLimit
	case protocol.CodeNotFound:
		return a.text.ErrNotFound
	case protocol.CodeForbidden:
		return a.text.ErrForbidden
	case protocol.CodeUnknownSite:
		return a.text.ErrSite
	case protocol.CodeUnsupportedVersion:
		return a.text.ErrVersion
	case protocol.CodeReplay:
		return a.text.ErrReplay
	case protocol.CodeGone:
		return a.text.ErrGone
	}
	return a.text.ErrProtocol
}

func (a *App) replyError(err error) string {
	switch {
	case errors.Is(err, session.ErrNotSynced):
		return a.text.NotSynced
	case errors.Is(err, session.ErrNoVisitorKey):
		return a.text.NoVisitorKey
	case errors.Is(err, session.ErrTooLong):
		return a.text.TooLong
	case errors.Is(err, session.ErrEmpty):
		return a.text.EmptyReply
	case errors.Is(err, session.ErrOutboxFull):
		return a.text.OutboxFull
	case errors.Is(err, session.ErrStopped):
		return a.text.Stopped
	}
	return a.text.SendFailed
}

func (a *App) keyError(err error) string {
	switch {
	case errors.Is(err, keyfile.ErrWrongPassphrase):
		return a.text.WrongPass
	case errors.Is(err, keyfile.ErrUnsupportedVersion):
		return a.text.KeyVersion
	}
	return a.text.BadKeyFile
}

// checkKeyText is a quick look at a text that should be a key file, before
// the slow passphrase check: the header line, one base64 line, the version
// byte. keyfile.Open does the full check.
func checkKeyText(text string) error {
	line, rest, ok := strings.Cut(text, "\n")
	line = strings.TrimSuffix(line, "\r")
	if !ok {
		return keyfile.ErrMalformed
	}
	if line != keyfile.Header {
		if strings.HasPrefix(line, "SIEGEL AGENT KEY ") {
			return keyfile.ErrUnsupportedVersion
		}
		return keyfile.ErrMalformed
	}
	body := rest
	if b, ok := strings.CutSuffix(body, "\n"); ok {
		body = strings.TrimSuffix(b, "\r")
	}
	if body == "" || strings.ContainsAny(body, "\r\n") {
		return keyfile.ErrMalformed
	}
	b, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil || len(b) == 0 {
		return keyfile.ErrMalformed
	}
	if b[0] != keyfile.Version {
		return keyfile.ErrUnsupportedVersion
	}
	return nil
}

// Notice returns a passing message for a polite status region ("" none).
func (a *App) Notice() string { return a.notice }

// Delete asks the relay to erase a conversation (after the user confirmed):
// a request signed by the agent's key (docs/PROTOCOL.md §6.5). The
// conversation shows as deleting until the relay answers; then it is purged
// from the page. It reports whether the request was queued.
func (a *App) Delete(id ids.ConvID) bool {
	defer a.p.Changed()
	c := a.inbox.Get(id)
	if a.phase != PhaseReady || a.sess == nil || c == nil || c.Deleting {
		return false
	}
	evs, err := a.sess.Erase(id)
	if err != nil {
		a.err = a.text.DeleteFailed
		if errors.Is(err, session.ErrStopped) {
			a.err += " " + a.text.Stopped
		}
		return false
	}
	c.Deleting, a.err, a.notice = true, "", ""
	a.apply(evs)
	return true
}

// purge removes a conversation and every decrypted byte of it the page holds
// (its messages, receipts, the session's state of it). notice is shown when
// this page deleted it; a conversation deleted elsewhere (another agent, the
// visitor, retention) is named by its short ID.
func (a *App) purge(id ids.ConvID, notice string) {
	c := a.inbox.Get(id)
	if c == nil {
		if a.sess != nil {
			a.sess.Forget(id)
		}
		return
	}
	if c.Deleting && notice == "" {
		notice = a.text.Deleted
	}
	if notice == "" {
		notice = strings.Replace(a.text.DeletedElsewhere, "%s", ShortID(id), 1)
	}
	a.inbox.Remove(id)
	if a.sess != nil {
		a.sess.Forget(id)
	}
	a.notice = notice
}

func (a *App) requestFailed(e session.RequestFailedEvent) {
	if e.Op != protocol.OpErase {
		return
	}
	switch e.Code {
	case protocol.CodeGone, protocol.CodeNotFound:
		// Already gone: an ErasedEvent follows for Gone; purge either way.
		a.purge(e.Conv, a.text.Deleted)
		return
	}
	if c := a.inbox.Get(e.Conv); c != nil {
		c.Deleting = false
	}
	a.err = a.text.DeleteFailed
	if t := a.codeText(e.Code); t != "" {
		a.err += " " + t
	} else if e.Err != nil {
		a.err += " " + a.text.ErrProtocol
	}
}

// saveCounter stores the session's request counter when it moved.
func (a *App) saveCounter() {
	if a.sess == nil {
		return
	}
	if n := a.sess.Counter(); n != a.counter {
		a.counter = n
		a.p.SaveCounter(n)
	}
}
