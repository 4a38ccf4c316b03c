package agent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/protocol"
	"siegel/shared/roster"
	"siegel/widget/session"
)

// ---- fake platform ----

type timer struct {
	at      time.Time
	f       func()
	stopped bool
}

type fakePlatform struct {
	t       *testing.T
	now     time.Time
	timers  []*timer
	paint   []func()
	storage map[string]string
	saveErr error
	fetches map[string]string // url -> text ("" = fail)
	fetchQ  []func()
	changed int
	relay   *fakeRelay
	dialErr error
	dialed  []string
	notes   []note
}

func newPlatform(t *testing.T) *fakePlatform {
	return &fakePlatform{t: t, now: time.Unix(1_764_000_000, 0), storage: map[string]string{}, fetches: map[string]string{}}
}

func (p *fakePlatform) Now() time.Time { return p.now }

func (p *fakePlatform) After(d time.Duration, f func()) func() {
	tm := &timer{at: p.now.Add(d), f: f}
	p.timers = append(p.timers, tm)
	return func() { tm.stopped = true }
}

func (p *fakePlatform) AfterPaint(f func()) { p.paint = append(p.paint, f) }

func (p *fakePlatform) Dial(url string, h Handlers) (session.Transport, error) {
	p.dialed = append(p.dialed, url)
	if p.dialErr != nil {
		return nil, p.dialErr
	}
	return p.relay.dial(url, h), nil
}

func (p *fakePlatform) LoadKey() (string, bool) { v, ok := p.storage[StorageKey]; return v, ok }
func (p *fakePlatform) SaveKey(text string) error {
	if p.saveErr != nil {
		return p.saveErr
	}
	p.storage[StorageKey] = text
	return nil
}
func (p *fakePlatform) RemoveKey() { delete(p.storage, StorageKey) }

func (p *fakePlatform) LoadCounter() uint64 {
	n, _ := strconv.ParseUint(p.storage[CounterKey], 10, 64)
	return n
}
func (p *fakePlatform) SaveCounter(n uint64) { p.storage[CounterKey] = strconv.FormatUint(n, 10) }

func (p *fakePlatform) FetchText(url string, done func(string, error)) {
	text, ok := p.fetches[url]
	p.fetchQ = append(p.fetchQ, func() {
		if !ok || text == "" {
			done("", errors.New("fetch failed"))
			return
		}
		done(text, nil)
	})
}

func (p *fakePlatform) Changed() { p.changed++ }

func (p *fakePlatform) Notify(title, body, tag string) {
	p.notes = append(p.notes, note{title, body, tag})
}

type note struct{ title, body, tag string }

// runPaint runs the callbacks waiting for a paint.
func (p *fakePlatform) runPaint() {
	q := p.paint
	p.paint = nil
	for _, f := range q {
		f()
	}
}

func (p *fakePlatform) runFetches() {
	q := p.fetchQ
	p.fetchQ = nil
	for _, f := range q {
		f()
	}
}

// advance moves the clock and fires due timers in order.
func (p *fakePlatform) advance(d time.Duration) {
	end := p.now.Add(d)
	for {
		var next *timer
		for _, tm := range p.timers {
			if !tm.stopped && !tm.at.After(end) && (next == nil || tm.at.Before(next.at)) {
				next = tm
			}
		}
		if next == nil {
			break
		}
		next.stopped = true
		if next.at.After(p.now) {
			p.now = next.at
		}
		next.f()
		p.relay.pump()
	}
	p.now = end
}

func (p *fakePlatform) pendingTimers() int {
	n := 0
	for _, tm := range p.timers {
		if !tm.stopped {
			n++
		}
	}
	return n
}

// ---- fake relay ----

type fakeConv struct {
	visitor   ids.Key
	envs      [][]byte
	stored    []uint64
	lastSeq   map[ids.Key]uint64
	delivered uint64
	created   uint64
}

type fakeSock struct {
	r        *fakeRelay
	h        Handlers
	url      string
	opened   bool
	closed   bool // closed by either side
	reported bool // OnClose called
	toRelay  [][]byte
	toClient [][]byte
	nonce    [32]byte
	key      ids.Key
	authed   bool
	// closeCode is the WebSocket close code reported with OnClose.
	closeCode int
}

func (s *fakeSock) Send(b []byte) error {
	if s.closed {
		return errors.New("closed")
	}
	s.toRelay = append(s.toRelay, bytes.Clone(b))
	return nil
}

func (s *fakeSock) Close() { s.closed = true }

type fakeRelay struct {
	t           *testing.T
	site        ids.SiteID
	roster      []byte
	agents      map[ids.Key]bool
	convs       map[ids.ConvID]*fakeConv
	socks       []*fakeSock
	down        bool // refuse connections
	now         func() time.Time
	frames      []protocol.Frame // every frame received from clients after Hello
	refuseHello protocol.ErrorCode
	refuseSend  protocol.ErrorCode
	// Signed requests (delete_test.go).
	counters      map[ids.Key]uint64
	gone          map[ids.ConvID]bool
	refuseRequest protocol.ErrorCode
}

func (r *fakeRelay) dial(url string, h Handlers) *fakeSock {
	s := &fakeSock{r: r, h: h, url: url}
	r.socks = append(r.socks, s)
	return s
}

func (r *fakeRelay) conv(id ids.ConvID) *fakeConv {
	c := r.convs[id]
	if c == nil {
		c = &fakeConv{lastSeq: map[ids.Key]uint64{}, created: uint64(r.now().Unix() / 3600 * 3600)}
		r.convs[id] = c
	}
	return c
}

func (s *fakeSock) push(reqID uint32, f protocol.Frame) {
	s.toClient = append(s.toClient, protocol.Encode(reqID, f))
}

func (r *fakeRelay) fail(s *fakeSock, reqID uint32, code protocol.ErrorCode) {
	s.push(reqID, &protocol.Error{Code: code, Reason: code.String()})
}

// append commits an envelope and fans it out to every authenticated socket.
func (r *fakeRelay) append(conv ids.ConvID, e *envelope.Envelope, raw []byte) (pos uint64, ok bool) {
	c := r.conv(conv)
	if e.Seq != c.lastSeq[e.SenderSign]+1 {
		return 0, false
	}
	c.lastSeq[e.SenderSign] = e.Seq
	c.envs = append(c.envs, bytes.Clone(raw))
	stored := uint64(r.now().Unix() / 60 * 60)
	c.stored = append(c.stored, stored)
	pos = uint64(len(c.envs))
	for _, s := range r.socks {
		if s.authed && !s.closed {
			s.push(0, &protocol.Deliver{Conv: conv, Pos: pos, Stored: stored, Envelope: raw})
		}
	}
	return pos, true
}

func (r *fakeRelay) handle(s *fakeSock, b []byte) {
	reqID, f, err := protocol.Decode(b)
	if err != nil {
		r.fail(s, reqID, protocol.CodeMalformed)
		return
	}
	if !s.authed {
		h, ok := f.(*protocol.Hello)
		switch {
		case !ok:
			r.fail(s, reqID, protocol.CodeState)
		case r.refuseHello != 0:
			r.fail(s, reqID, r.refuseHello)
		case !protocol.VerifyHello(s.nonce, h) || h.Role != protocol.RoleAgent || h.Site != r.site:
			r.fail(s, reqID, protocol.CodeBadSignature)
		case !r.agents[h.SignKey]:
			r.fail(s, reqID, protocol.CodeForbidden)
		default:
			s.authed, s.key = true, h.SignKey
			s.push(reqID, &protocol.Welcome{Roster: r.roster})
		}
		return
	}
	r.frames = append(r.frames, f)
	switch f := f.(type) {
	case *protocol.List:
		var out protocol.Conversations
		for id, c := range r.convs {
			out.Entries = append(out.Entries, protocol.ConvInfo{Conv: id, LastPos: uint64(len(c.envs)), Created: c.created, DeliveredPos: c.delivered})
		}
		slices.SortFunc(out.Entries, func(a, b protocol.ConvInfo) int { return bytes.Compare(a.Conv[:], b.Conv[:]) })
		s.push(reqID, &out)
	case *protocol.Fetch:
		c := r.convs[f.Conv]
		if c == nil {
			r.fail(s, reqID, protocol.CodeNotFound)
			return
		}
		for i := f.Since; i < uint64(len(c.envs)); i++ {
			if c.envs[i] != nil { // nil: replaced by a correction
				s.push(reqID, &protocol.Deliver{Conv: f.Conv, Pos: i + 1, Stored: c.stored[i], Envelope: c.envs[i]})
			}
		}
		s.push(reqID, &protocol.Fetched{Conv: f.Conv, LastPos: uint64(len(c.envs))})
	case *protocol.Send:
		if r.refuseSend != 0 {
			r.fail(s, reqID, r.refuseSend)
			return
		}
		e, err := envelope.Verify(f.Envelope)
		if err != nil || e.SenderSign != s.key || r.convs[e.Conv] == nil {
			r.fail(s, reqID, protocol.CodeForbidden)
			return
		}
		pos, ok := r.append(e.Conv, e, f.Envelope)
		if !ok {
			r.fail(s, reqID, protocol.CodeSequence)
			return
		}
		// The Ack goes before the Deliver that append queued for s.
		ack := protocol.Encode(reqID, &protocol.Ack{Conv: e.Conv, Seq: e.Seq, Pos: pos})
		s.toClient = slices.Insert(s.toClient, len(s.toClient)-1, ack)
	case *protocol.Request:
		r.request(s, reqID, f)
	case *protocol.Delivered:
		c := r.convs[f.Conv]
		if c == nil {
			r.fail(s, reqID, protocol.CodeNotFound)
			return
		}
		if f.Pos > c.delivered && f.Pos <= uint64(len(c.envs)) {
			c.delivered = f.Pos
			for _, o := range r.socks {
				if o.authed && !o.closed {
					o.push(0, &protocol.Receipt{Conv: f.Conv, Pos: f.Pos})
				}
			}
		}
	default:
		if !r.liveFrame(s, reqID, f) {
			r.fail(s, reqID, protocol.CodeState)
		}
	}
}

// pump exchanges frames until nothing moves.
func (r *fakeRelay) pump() {
	for moved := true; moved; {
		moved = false
		for _, s := range slices.Clone(r.socks) {
			switch {
			case s.closed && !s.reported:
				s.reported, moved = true, true
				s.toRelay, s.toClient = nil, nil
				s.h.OnClose(s.closeCode)
				continue
			case s.closed:
				continue
			case !s.opened:
				if r.down {
					s.closed = true
					moved = true
					continue
				}
				s.opened, moved = true, true
				rand.Read(s.nonce[:])
				s.push(0, &protocol.Challenge{Nonce: s.nonce})
				s.h.OnOpen()
			}
			for len(s.toRelay) > 0 && !s.closed {
				b := s.toRelay[0]
				s.toRelay = s.toRelay[1:]
				r.handle(s, b)
				moved = true
			}
			for len(s.toClient) > 0 && !s.closed {
				b := s.toClient[0]
				s.toClient = s.toClient[1:]
				s.h.OnMessage(b)
				moved = true
			}
		}
	}
}

// dropAll closes every socket from the relay's side.
func (r *fakeRelay) dropAll() {
	for _, s := range r.socks {
		s.closed = true
	}
}

func (r *fakeRelay) live() int {
	n := 0
	for _, s := range r.socks {
		if !s.closed {
			n++
		}
	}
	return n
}

// ---- world ----

const pass = "korrekt Pferd Batterie"

type world struct {
	t       *testing.T
	site    ids.SiteID
	owner   ed25519.PrivateKey
	agent   *envelope.Identity
	other   *envelope.Identity // a second agent
	keyText string
	p       *fakePlatform
	relay   *fakeRelay
	app     *App
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t}
	rand.Read(w.site[:])
	_, w.owner, _ = ed25519.GenerateKey(rand.Reader)
	w.agent, _ = envelope.NewIdentity(rand.Reader)
	w.other, _ = envelope.NewIdentity(rand.Reader)
	w.p = newPlatform(t)
	r := &roster.Roster{Site: w.site, Version: 1, NotAfter: w.p.now.Add(24 * time.Hour).Unix(), Agents: []roster.Agent{
		{ID: ids.AgentID{1}, Name: "Anna", Sign: w.agent.SignKey(), Box: w.agent.BoxKey()},
		{ID: ids.AgentID{2}, Name: "Bert", Sign: w.other.SignKey(), Box: w.other.BoxKey()},
	}}
	raw, err := r.Encode(w.owner)
	if err != nil {
		t.Fatal(err)
	}
	w.relay = &fakeRelay{t: t, site: w.site, roster: raw, convs: map[ids.ConvID]*fakeConv{},
		agents: map[ids.Key]bool{w.agent.SignKey(): true, w.other.SignKey(): true}, now: w.p.Now}
	w.p.relay = w.relay
	w.keyText = w.sealKey(w.agent, "Anna (Schlüssel)")
	w.app = New(w.p, Config{Lang: German, Relay: "ws://relay.test/", Rand: rand.Reader})
	return w
}

func (w *world) sealKey(id *envelope.Identity, name string) string {
	w.t.Helper()
	pub := w.owner.Public().(ed25519.PublicKey)
	sec := keyfile.Secret{Site: w.site, OwnerFP: ids.OwnerFingerprint(ids.Key(pub)), AgentID: ids.AgentID{1},
		SignSeed: id.Seed(), BoxPriv: id.BoxPrivate(), Name: name}
	b, err := keyfile.Seal(rand.Reader, sec, pass, keyfile.Params{Time: 1, MemoryKiB: 8192, Threads: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// unlock imports the key, unlocks and connects.
func (w *world) unlock() {
	w.t.Helper()
	w.app.Start()
	if !w.app.ImportKey(w.keyText) {
		w.t.Fatalf("import: %s", w.app.Error())
	}
	w.app.Unlock(pass)
	w.p.runPaint()
	if w.app.Phase() != PhaseReady {
		w.t.Fatalf("phase %d, error %q", w.app.Phase(), w.app.Error())
	}
	w.relay.pump()
}

type visitor struct {
	id   *envelope.Identity
	conv ids.ConvID
	seq  uint64
}

func (w *world) newVisitor() *visitor {
	id, _ := envelope.NewIdentity(rand.Reader)
	v := &visitor{id: id, conv: ids.ConversationID(w.site, id.SignKey())}
	w.relay.conv(v.conv).visitor = id.SignKey()
	return v
}

// say sends a visitor message through the relay.
func (w *world) say(v *visitor, text string) uint64 {
	w.t.Helper()
	v.seq++
	to := []ids.Key{v.id.BoxKey(), w.agent.BoxKey(), w.other.BoxKey()}
	slices.SortFunc(to, func(a, b ids.Key) int { return bytes.Compare(a[:], b[:]) })
	raw, err := envelope.Seal(rand.Reader, v.id, to, envelope.Message{Site: w.site, Conv: v.conv, Seq: v.seq,
		Type: envelope.ContentText, Time: w.p.now.UnixMilli(), Content: []byte(text)})
	if err != nil {
		w.t.Fatal(err)
	}
	e, _ := envelope.Parse(raw)
	pos, ok := w.relay.append(v.conv, e, raw)
	if !ok {
		w.t.Fatal("relay refused visitor message")
	}
	w.relay.pump()
	return pos
}

// read opens every envelope of the conversation as the visitor.
func (w *world) read(v *visitor) []string {
	var out []string
	for _, raw := range w.relay.convs[v.conv].envs {
		o, err := envelope.Open(raw, v.id, w.site, v.conv)
		if err != nil {
			w.t.Fatalf("visitor cannot open: %v", err)
		}
		out = append(out, string(o.Content))
	}
	return out
}

func texts(c *Conversation) []string {
	var out []string
	for _, m := range c.Messages {
		out = append(out, m.Text)
	}
	return out
}

func deliveredFrames(r *fakeRelay) []uint64 {
	var out []uint64
	for _, f := range r.frames {
		if d, ok := f.(*protocol.Delivered); ok {
			out = append(out, d.Pos)
		}
	}
	return out
}

// ---- tests ----

func TestCheckKeyText(t *testing.T) {
	w := newWorld(t)
	if err := checkKeyText(w.keyText); err != nil {
		t.Fatalf("valid key refused: %v", err)
	}
	if err := checkKeyText(strings.ReplaceAll(w.keyText, "\n", "\r\n")); err != nil {
		t.Errorf("CRLF key refused: %v", err)
	}
	if err := checkKeyText(strings.TrimSuffix(w.keyText, "\n")); err != nil {
		t.Errorf("key without final line break refused: %v", err)
	}
	bad := map[string]error{
		"":                                 keyfile.ErrMalformed,
		"hello":                            keyfile.ErrMalformed,
		"SIEGEL AGENT KEY 1\n":             keyfile.ErrMalformed,
		"SIEGEL AGENT KEY 1\n!!!\n":        keyfile.ErrMalformed,
		"SIEGEL AGENT KEY 1\nAQ==\nAQ==\n": keyfile.ErrMalformed,
		"SIEGEL AGENT KEY 2\nAg==\n":       keyfile.ErrUnsupportedVersion,
		"SIEGEL AGENT KEY 1\nAg==\n":       keyfile.ErrUnsupportedVersion,
		"-----BEGIN PGP-----\nAQ==\n":      keyfile.ErrMalformed,
	}
	for in, want := range bad {
		if err := checkKeyText(in); !errors.Is(err, want) {
			t.Errorf("checkKeyText(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestUnlockFlow(t *testing.T) {
	w := newWorld(t)
	w.app.Start()
	if w.app.Phase() != PhaseNoKey || w.app.HasKey() || w.app.HasDemo() {
		t.Fatalf("start: phase %d", w.app.Phase())
	}
	// Not a key file: an error, nothing else changes.
	if w.app.ImportKey("just some text\n") || w.app.Phase() != PhaseNoKey || w.app.Error() != Strings(German).BadKeyFile {
		t.Fatalf("bad import: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	if !w.app.ImportKey(w.keyText) || w.app.Phase() != PhaseLocked || w.app.Error() != "" {
		t.Fatalf("import: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	if len(w.p.storage) != 0 {
		t.Error("key stored before it was unlocked")
	}
	w.app.Unlock("")
	if w.app.Phase() != PhaseLocked || w.app.Error() != Strings(German).EmptyPass || len(w.p.paint) != 0 {
		t.Errorf("empty passphrase: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	// Wrong passphrase: "Unlocking…" first, the slow work after the paint.
	w.app.Unlock("falsch")
	if w.app.Phase() != PhaseUnlocking || w.app.Error() != "" {
		t.Fatalf("unlocking: phase %d", w.app.Phase())
	}
	w.app.Unlock("again") // ignored while unlocking
	if len(w.p.paint) != 1 {
		t.Fatalf("paint queue %d", len(w.p.paint))
	}
	w.p.runPaint()
	if w.app.Phase() != PhaseLocked || w.app.Error() != Strings(German).WrongPass {
		t.Fatalf("wrong passphrase: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	if len(w.p.storage) != 0 || len(w.p.dialed) != 0 {
		t.Error("wrong passphrase stored the key or connected")
	}
	w.app.Unlock(pass)
	w.p.runPaint()
	if w.app.Phase() != PhaseReady || w.app.Error() != "" || w.app.Name() != "Anna (Schlüssel)" {
		t.Fatalf("unlock: phase %d err %q name %q", w.app.Phase(), w.app.Error(), w.app.Name())
	}
	if w.p.storage[StorageKey] != w.keyText {
		t.Error("key file not stored after unlock")
	}
	want := "ws://relay.test/ws?site=" + w.site.String()
	if len(w.p.dialed) != 1 || w.p.dialed[0] != want {
		t.Fatalf("dialed %v, want %s", w.p.dialed, want)
	}
	if w.app.Conn() != ConnConnecting || w.app.StatusText() != "Verbinde…" {
		t.Errorf("status %d %q", w.app.Conn(), w.app.StatusText())
	}
	w.relay.pump()
	if w.app.Conn() != ConnOnline || w.app.StatusState() != "online" {
		t.Fatalf("not online: %d err %q", w.app.Conn(), w.app.Error())
	}
	// The roster's name for this agent wins over the key file's.
	if w.app.Name() != "Anna" {
		t.Errorf("name %q", w.app.Name())
	}
	if name, text, ok := w.app.Export(); !ok || text != w.keyText || !strings.HasSuffix(name, ".key") {
		t.Errorf("export %q %v", name, ok)
	}
}

func TestStoredKeyAndForget(t *testing.T) {
	w := newWorld(t)
	w.p.storage[StorageKey] = w.keyText
	w.app.Start()
	if w.app.Phase() != PhaseLocked || !w.app.HasKey() {
		t.Fatalf("phase %d", w.app.Phase())
	}
	w.app.Unlock(pass)
	w.p.runPaint()
	w.relay.pump()
	if w.app.Conn() != ConnOnline {
		t.Fatal("not online")
	}
	w.app.Forget()
	if w.app.Phase() != PhaseNoKey || w.app.HasKey() || len(w.p.storage) != 0 || w.app.Conn() != ConnIdle {
		t.Errorf("forget: phase %d storage %d", w.app.Phase(), len(w.p.storage))
	}
	w.relay.pump()
	if w.relay.live() != 0 {
		t.Error("socket left open")
	}
	if _, _, ok := w.app.Export(); ok {
		t.Error("export without key")
	}
}

func TestStorageFailureStillUnlocks(t *testing.T) {
	w := newWorld(t)
	w.p.saveErr = errors.New("quota")
	w.unlock()
	if w.app.Error() != Strings(German).StorageError {
		t.Errorf("error %q", w.app.Error())
	}
}

func TestDemoKey(t *testing.T) {
	w := newWorld(t)
	w.app = New(w.p, Config{Lang: English, Relay: "ws://relay.test", DemoKey: "/demo.key", Rand: rand.Reader})
	w.app.Start()
	if !w.app.HasDemo() {
		t.Fatal("no demo")
	}
	// First the fetch fails.
	w.app.LoadDemo()
	if w.app.Phase() != PhaseLoadingKey {
		t.Fatalf("phase %d", w.app.Phase())
	}
	w.p.runFetches()
	if w.app.Phase() != PhaseNoKey || w.app.Error() != Strings(English).KeyLoadError {
		t.Fatalf("failed fetch: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	w.p.fetches["/demo.key"] = w.keyText
	w.app.LoadDemo()
	w.p.runFetches()
	if w.app.Phase() != PhaseLocked || w.app.Error() != "" {
		t.Fatalf("demo: phase %d err %q", w.app.Phase(), w.app.Error())
	}
	// A fetch that returns something else is refused.
	w2 := newWorld(t)
	w2.p.fetches["/demo.key"] = "<html>not found</html>"
	w2.app = New(w2.p, Config{Lang: English, Relay: "ws://x", DemoKey: "/demo.key", Rand: rand.Reader})
	w2.app.Start()
	w2.app.LoadDemo()
	w2.p.runFetches()
	if w2.app.Phase() != PhaseNoKey || w2.app.Error() != Strings(English).BadKeyFile {
		t.Errorf("html demo: phase %d err %q", w2.app.Phase(), w2.app.Error())
	}
	// From the passphrase view, a bad demo file keeps the key that was there.
	w2.app.ImportKey(w2.keyText)
	w2.app.LoadDemo()
	w2.p.runFetches()
	if w2.app.Phase() != PhaseLocked || w2.app.Error() != Strings(English).BadKeyFile || !w2.app.HasKey() {
		t.Errorf("bad demo over a key: phase %d err %q", w2.app.Phase(), w2.app.Error())
	}
}

func TestOtherSiteKeyRefused(t *testing.T) {
	w := newWorld(t)
	var other ids.SiteID
	other[0] = 1
	w.app = New(w.p, Config{Lang: German, Site: other.String(), Relay: "ws://x", Rand: rand.Reader})
	w.app.Start()
	w.app.ImportKey(w.keyText)
	w.app.Unlock(pass)
	w.p.runPaint()
	if w.app.Phase() != PhaseLocked || w.app.Error() != Strings(German).ErrOtherSite || len(w.p.dialed) != 0 {
		t.Errorf("phase %d err %q", w.app.Phase(), w.app.Error())
	}
	// A malformed data-site is reported.
	w.app = New(w.p, Config{Lang: German, Site: "nope", Relay: "ws://x", Rand: rand.Reader})
	w.app.Start()
	if w.app.Error() != Strings(German).ErrPage {
		t.Errorf("bad page site: %q", w.app.Error())
	}
}

func TestInboxLiveAndReply(t *testing.T) {
	w := newWorld(t)
	v1 := w.newVisitor()
	w.say(v1, "Hallo?")
	w.say(v1, "Ist jemand da?")
	w.unlock()

	in := w.app.Inbox()
	if in.Len() != 1 {
		t.Fatalf("conversations %d", in.Len())
	}
	c := in.Get(v1.conv)
	// A conversation with unread messages is fetched with the list, but
	// nothing is confirmed before it is opened.
	if c.Unread() != 2 || len(c.Messages) != 2 || !c.Loaded || len(deliveredFrames(w.relay)) != 0 {
		t.Fatalf("unread %d, messages %d, loaded %v, delivered %v", c.Unread(), len(c.Messages), c.Loaded, deliveredFrames(w.relay))
	}
	// Opening confirms the highest position.
	w.app.Select(v1.conv)
	w.relay.pump()
	if got := texts(c); !slices.Equal(got, []string{"Hallo?", "Ist jemand da?"}) || !c.Loaded {
		t.Fatalf("transcript %q loaded %v", got, c.Loaded)
	}
	if c.Messages[0].From != FromVisitor {
		t.Error("from")
	}
	if d := deliveredFrames(w.relay); !slices.Equal(d, []uint64{2}) || w.relay.convs[v1.conv].delivered != 2 {
		t.Fatalf("delivered frames %v", d)
	}
	if c.Unread() != 0 {
		t.Errorf("unread after open: %d", c.Unread())
	}
	// A live message in the open conversation is shown and confirmed.
	w.say(v1, "Hallo!!")
	if got := texts(c); len(got) != 3 || got[2] != "Hallo!!" {
		t.Fatalf("live message: %q", got)
	}
	if d := deliveredFrames(w.relay); !slices.Equal(d, []uint64{2, 3}) {
		t.Errorf("delivered frames %v", d)
	}
	// Hidden page: not confirmed until visible again.
	w.app.SetVisible(false)
	w.say(v1, "hidden")
	if c.Unread() != 1 || len(deliveredFrames(w.relay)) != 2 {
		t.Errorf("confirmed while hidden")
	}
	w.app.SetVisible(true)
	w.relay.pump()
	if d := deliveredFrames(w.relay); !slices.Equal(d, []uint64{2, 3, 4}) {
		t.Errorf("delivered frames %v", d)
	}

	// Reply: pending first, sent after the Ack; the visitor can read it.
	if w.app.Reply("   ") || w.app.Error() != Strings(German).EmptyReply {
		t.Errorf("blank reply accepted")
	}
	if !w.app.Reply("Guten Tag, wie kann ich helfen?") {
		t.Fatalf("reply: %q", w.app.Error())
	}
	last := c.Messages[len(c.Messages)-1]
	if !last.Pending || !last.Own || last.Name != "Anna" || last.From != FromAgent {
		t.Fatalf("pending reply %+v", last)
	}
	w.relay.pump()
	last = c.Messages[len(c.Messages)-1]
	if last.Pending || last.Pos != 5 || last.State() != "sent" || len(c.Messages) != 5 {
		t.Fatalf("after ack %+v (n=%d)", last, len(c.Messages))
	}
	if got := w.read(v1); got[4] != "Guten Tag, wie kann ich helfen?" {
		t.Errorf("visitor reads %q", got)
	}

	// Another agent's reply shows with that agent's name.
	o := w.other
	raw, err := envelope.Seal(rand.Reader, o, sortedKeys(v1.id.BoxKey(), w.agent.BoxKey(), o.BoxKey()),
		envelope.Message{Site: w.site, Conv: v1.conv, Seq: 1, Type: envelope.ContentText, Time: 1, Content: []byte("Hier Bert")})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := envelope.Parse(raw)
	w.relay.append(v1.conv, e, raw)
	w.relay.pump()
	last = c.Messages[len(c.Messages)-1]
	if last.Text != "Hier Bert" || last.Name != "Bert" || last.Own || last.From != FromAgent {
		t.Errorf("other agent %+v", last)
	}

	// A new conversation appears live with its unread count.
	v2 := w.newVisitor()
	w.say(v2, "Neue Frage")
	c2 := in.Get(v2.conv)
	if c2 == nil || c2.Unread() != 1 || in.Len() != 2 {
		t.Fatalf("new conversation: %+v", c2)
	}
	if in.Sorted()[0].ID != v2.conv && in.Sorted()[0].Activity() != c2.Activity() {
		t.Error("new conversation not first")
	}
	if d := deliveredFrames(w.relay); d[len(d)-1] == 1 {
		t.Error("unopened conversation confirmed")
	}
	// Switching to it fetches it; its pushed message is not duplicated.
	w.app.Select(v2.conv)
	w.relay.pump()
	if got := texts(c2); !slices.Equal(got, []string{"Neue Frage"}) || !c2.Loaded {
		t.Errorf("second conversation %q", got)
	}
	if w.relay.convs[v2.conv].delivered != 1 {
		t.Error("second conversation not confirmed")
	}
	// Back to the list.
	w.app.Deselect()
	if _, ok := in.Selected(); ok {
		t.Error("still selected")
	}
}

func sortedKeys(keys ...ids.Key) []ids.Key {
	slices.SortFunc(keys, func(a, b ids.Key) int { return bytes.Compare(a[:], b[:]) })
	return keys
}

func TestReplyNeedsVisitorAndSelection(t *testing.T) {
	w := newWorld(t)
	if w.app.Reply("x") {
		t.Error("reply while locked")
	}
	v := w.newVisitor() // conversation without any envelope yet
	w.unlock()
	if w.app.Reply("x") {
		t.Error("reply without selection")
	}
	w.app.Select(v.conv)
	w.relay.pump()
	if w.app.Reply("Hallo") || w.app.Error() != Strings(German).NoVisitorKey {
		t.Errorf("reply without visitor key: %q", w.app.Error())
	}
	if w.app.Reply(strings.Repeat("x", session.MaxText+1)) {
		t.Error("too long reply accepted")
	}
}

func TestReconnectWithBackoff(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "eins")
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)

	// The relay goes away.
	w.relay.down = true
	w.relay.dropAll()
	w.relay.pump()
	if w.app.Conn() != ConnWaiting || w.app.RetryIn() < 1 || !strings.Contains(w.app.RetryText(), "Neuer Versuch in") ||
		w.app.StatusText() != "Keine Verbindung." {
		t.Fatalf("after drop: conn %d retry %d %q", w.app.Conn(), w.app.RetryIn(), w.app.StatusText())
	}
	// A reply typed while offline waits in the outbox.
	if !w.app.Reply("offline geschrieben") {
		t.Fatalf("offline reply: %q", w.app.Error())
	}
	// Meanwhile the visitor writes more.
	w.say(v, "zwei")
	// Failed attempts back off: the delays grow.
	dials := len(w.p.dialed)
	w.p.advance(time.Second)
	if len(w.p.dialed) != dials+1 || w.app.Conn() != ConnWaiting {
		t.Fatalf("first retry: dials %d conn %d", len(w.p.dialed)-dials, w.app.Conn())
	}
	if w.app.RetryIn() < 2 {
		t.Errorf("second delay %d s, want ≥ 2", w.app.RetryIn())
	}
	// The relay is back; "connect now" skips the wait.
	w.relay.down = false
	w.app.ReconnectNow()
	w.relay.pump()
	if w.app.Conn() != ConnOnline {
		t.Fatalf("not back online: %d %q", w.app.Conn(), w.app.Error())
	}
	if got := texts(c); !slices.Equal(got, []string{"eins", "zwei", "offline geschrieben"}) {
		t.Fatalf("after reconnect %q", got)
	}
	if last := c.Messages[2]; last.Pending || last.Pos != 3 {
		t.Errorf("offline reply not sent: %+v", last)
	}
	if got := w.read(v); got[2] != "offline geschrieben" {
		t.Errorf("visitor reads %q", got)
	}
	if w.relay.convs[v.conv].delivered != 3 {
		t.Errorf("delivered %d", w.relay.convs[v.conv].delivered)
	}
	// Backoff was reset: the next drop waits the minimum again.
	w.relay.dropAll()
	w.relay.pump()
	if n := w.app.RetryIn(); n < 1 || n > 1 {
		t.Errorf("delay after reset %d", n)
	}
	w.p.advance(time.Second)
	if w.app.Conn() != ConnOnline {
		t.Errorf("timer reconnect failed: %d", w.app.Conn())
	}
}

func TestHandshakeTimeout(t *testing.T) {
	w := newWorld(t)
	w.app.Start()
	w.app.ImportKey(w.keyText)
	w.app.Unlock(pass)
	w.p.runPaint()
	// Open the socket but never answer the hello.
	s := w.relay.socks[0]
	s.opened = true
	s.h.OnOpen()
	if w.app.Conn() != ConnConnecting {
		t.Fatalf("conn %d", w.app.Conn())
	}
	w.p.advance(HandshakeTimeout)
	if !s.closed {
		t.Fatal("stalled socket not closed")
	}
	w.relay.pump()
	if w.app.Conn() != ConnWaiting && w.app.Conn() != ConnOnline {
		t.Errorf("conn %d after timeout", w.app.Conn())
	}
}

func TestRosterFailureStops(t *testing.T) {
	w := newWorld(t)
	_, evil, _ := ed25519.GenerateKey(rand.Reader)
	r := &roster.Roster{Site: w.site, Version: 2, NotAfter: w.p.now.Add(time.Hour).Unix(), Agents: []roster.Agent{
		{ID: ids.AgentID{1}, Name: "Anna", Sign: w.agent.SignKey(), Box: w.agent.BoxKey()},
		{ID: ids.AgentID{3}, Name: "Mallory", Sign: ids.Key{9}, Box: ids.Key{9}},
	}}
	w.relay.roster, _ = r.Encode(evil)
	v := w.newVisitor()
	w.say(v, "geheim")
	w.unlock()
	if w.app.Conn() != ConnStopped || w.app.Error() != Strings(German).ErrRoster || w.app.StatusState() != "failed" {
		t.Fatalf("conn %d err %q", w.app.Conn(), w.app.Error())
	}
	if len(w.relay.frames) != 0 {
		t.Errorf("frames sent after a bad roster: %d", len(w.relay.frames))
	}
	if w.app.Inbox().Len() != 0 {
		t.Error("conversations shown")
	}
	dials := len(w.p.dialed)
	w.p.advance(time.Minute)
	if len(w.p.dialed) != dials || w.p.pendingTimers() != 0 {
		t.Error("retries after a fatal error")
	}
}

func TestNotInRoster(t *testing.T) {
	w := newWorld(t)
	delete(w.relay.agents, w.agent.SignKey())
	w.unlock()
	if w.app.Conn() != ConnStopped || w.app.Error() != Strings(German).NotInRoster {
		t.Fatalf("conn %d err %q", w.app.Conn(), w.app.Error())
	}
	if !w.app.NotInRoster() || w.app.Removed() {
		t.Errorf("not in roster %v, removed %v", w.app.NotInRoster(), w.app.Removed())
	}
	if !strings.HasPrefix(w.app.Pub(), PubPrefix+" ") {
		t.Errorf("public line %q", w.app.Pub())
	}
}

func TestLockWipesPlaintext(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "vertraulich")
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if len(c.Messages) != 1 {
		t.Fatal("not loaded")
	}
	w.app.Lock()
	w.relay.pump()
	if w.app.Phase() != PhaseLocked || w.app.Inbox().Len() != 0 || c.Messages[0].Text != "" || w.app.Name() != "" {
		t.Error("lock kept data")
	}
	if w.relay.live() != 0 || w.app.Conn() != ConnIdle {
		t.Error("connection kept")
	}
	// Unlocking again works.
	w.app.Unlock(pass)
	w.p.runPaint()
	w.relay.pump()
	if w.app.Conn() != ConnOnline || w.app.Inbox().Len() != 1 {
		t.Errorf("re-unlock: conn %d convs %d", w.app.Conn(), w.app.Inbox().Len())
	}
}

func TestRelayErrorsInPlainWords(t *testing.T) {
	w := newWorld(t)
	w.unlock()
	cases := map[protocol.ErrorCode]string{
		protocol.CodeRateLimited: Strings(German).ErrRate,
		protocol.CodeInternal:    Strings(German).ErrServer,
		protocol.CodeLimit:       Strings(German).ErrLimit,
		protocol.CodeMalformed:   Strings(German).ErrProtocol,
	}
	for code, want := range cases {
		w.app.apply([]session.Event{session.ErrorEvent{Code: code}})
		if w.app.Error() != want {
			t.Errorf("code %v: %q, want %q", code, w.app.Error(), want)
		}
		w.app.DismissError()
		if w.app.Error() != "" {
			t.Error("dismiss")
		}
	}
	w.app.apply([]session.Event{session.ErrorEvent{Code: protocol.CodeSequence}})
	if w.app.Error() != "" {
		t.Errorf("sequence conflict shown: %q", w.app.Error())
	}
}

func TestSendRefused(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	w.relay.refuseSend = protocol.CodeLimit
	if !w.app.Reply("zu viel") {
		t.Fatalf("reply: %q", w.app.Error())
	}
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	last := c.Messages[len(c.Messages)-1]
	if !last.Failed || last.State() != "failed" || last.Text != "zu viel" {
		t.Fatalf("refused reply %+v", last)
	}
	if e := w.app.Error(); !strings.HasPrefix(e, Strings(German).SendFailed) || !strings.Contains(e, Strings(German).ErrLimit) {
		t.Errorf("error %q", e)
	}
	// The session reconnects; afterwards replies work again and the failed
	// one stays failed.
	w.relay.refuseSend = 0
	w.p.advance(2 * time.Second)
	if w.app.Conn() != ConnOnline {
		t.Fatalf("conn %d", w.app.Conn())
	}
	if !w.app.Reply("jetzt aber") {
		t.Fatalf("reply: %q", w.app.Error())
	}
	w.relay.pump()
	if got := w.read(v); len(got) != 2 || got[1] != "jetzt aber" {
		t.Errorf("visitor reads %q", got)
	}
	// Placed messages first; the failed reply stays last, unplaced.
	if c.Messages[1].Text != "jetzt aber" || c.Messages[1].Pos != 2 || !c.Messages[2].Failed || c.Messages[2].Pos != 0 {
		t.Errorf("transcript %+v", c.Messages)
	}
}

func TestDeletedConversationDisappears(t *testing.T) {
	w := newWorld(t)
	v1, v2 := w.newVisitor(), w.newVisitor()
	w.say(v1, "eins")
	w.say(v2, "zwei")
	w.unlock()
	if w.app.Inbox().Len() != 2 {
		t.Fatal("list")
	}
	delete(w.relay.convs, v1.conv)
	// Opening it meets "not found"; the page asks for the list again and
	// drops the conversation.
	w.app.Select(v1.conv)
	w.relay.pump()
	if w.app.Inbox().Get(v1.conv) != nil || w.app.Inbox().Len() != 1 {
		t.Errorf("deleted conversation kept")
	}
	if w.app.Error() != Strings(German).ErrNotFound {
		t.Errorf("error %q", w.app.Error())
	}
	if _, ok := w.app.Inbox().Selected(); ok {
		t.Error("deleted conversation still selected")
	}
}

func TestCountdownTicks(t *testing.T) {
	w := newWorld(t)
	w.app.Start()
	w.app.ImportKey(w.keyText)
	w.relay.down = true
	w.app.Unlock(pass)
	w.p.runPaint()
	w.relay.pump()
	for i := 0; i < 4; i++ { // back off to a delay of several seconds
		w.p.advance(time.Duration(w.app.RetryIn()) * time.Second)
	}
	n := w.app.RetryIn()
	if n < 3 || w.app.Conn() != ConnWaiting {
		t.Fatalf("retry in %d, conn %d", n, w.app.Conn())
	}
	before := w.p.changed
	w.p.advance(time.Second)
	if w.app.RetryIn() != n-1 || w.p.changed == before {
		t.Errorf("countdown: %d → %d, renders %d", n, w.app.RetryIn(), w.p.changed-before)
	}
	if !strings.Contains(w.app.RetryText(), itoa(n-1)+" s") {
		t.Errorf("retry text %q", w.app.RetryText())
	}
	// Locking stops every timer.
	w.app.Lock()
	w.p.advance(time.Minute)
	if w.p.pendingTimers() != 0 || w.app.RetryText() != "" {
		t.Error("timers left after lock")
	}
}
