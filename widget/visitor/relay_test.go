package visitor

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
	"siegel/widget/i18n"
	"siegel/widget/session"
)

// testRelay is a small in-memory relay for one site (docs/PROTOCOL.md §6): it
// checks hellos and envelopes, keeps positions and consent receipts, and
// records every frame it receives.
type testRelay struct {
	t        *testing.T
	site     ids.SiteID
	roster   []byte
	frames   int // frames received, of any kind
	dials    int
	envs     [][]byte // stored envelopes, by position − 1
	lastSeq  uint64
	receipts []protocol.ConsentReceipt
	conns    []*testConn
	counter  uint64             // last accepted request counter
	erased   bool               // the conversation was erased
	refuse   protocol.ErrorCode // when set, signed requests are refused with it
	hellos   []helloOf
	online   uint16             // agents online: the Presence sent after each Welcome
	state    protocol.ConvState // the conversation's state
	wants    int                // WantPerson frames received
	typing   []bool             // Typing frames received, by state
}

type helloOf struct {
	conn *testConn
	key  ids.Key
}

type testConn struct {
	r        *testRelay
	toClient [][]byte
	nonce    [32]byte
	hello    bool
	conv     ids.ConvID
	closed   bool
}

func (c *testConn) Send(b []byte) error {
	c.r.frames++
	c.r.handle(c, bytes.Clone(b))
	return nil
}

func (c *testConn) Close() { c.closed = true }

func (c *testConn) push(reqID uint32, f protocol.Frame) {
	c.toClient = append(c.toClient, protocol.Encode(reqID, f))
}

func (r *testRelay) dial() *testConn {
	r.dials++
	c := &testConn{r: r}
	rand.Read(c.nonce[:])
	c.push(0, &protocol.Challenge{Nonce: c.nonce})
	r.conns = append(r.conns, c)
	return c
}

func (r *testRelay) handle(c *testConn, b []byte) {
	reqID, f, err := protocol.Decode(b)
	if err != nil {
		r.t.Fatalf("relay: bad frame: %v", err)
	}
	switch f := f.(type) {
	case *protocol.Hello:
		if !protocol.VerifyHello(c.nonce, f) || f.Site != r.site || f.Role != protocol.RoleVisitor {
			r.t.Fatal("relay: bad hello")
		}
		if r.erased {
			c.push(reqID, &protocol.Error{Code: protocol.CodeGone, Reason: "gone"})
			return
		}
		c.hello, c.conv = true, ids.ConversationID(f.Site, f.SignKey)
		r.hellos = append(r.hellos, helloOf{conn: c, key: f.SignKey})
		c.push(reqID, &protocol.Welcome{Conv: c.conv, AckedSeq: r.lastSeq, Roster: r.roster})
		c.push(0, &protocol.Presence{Online: r.online})
		for i := f.Since; i < uint64(len(r.envs)); i++ {
			if r.envs[i] != nil { // nil: replaced by a correction
				c.push(0, &protocol.Deliver{Conv: c.conv, Pos: i + 1, Stored: 1750000000, Envelope: r.envs[i]})
			}
		}
		c.push(0, &protocol.Fetched{Conv: c.conv, LastPos: uint64(len(r.envs))})
	case *protocol.Send:
		e, err := envelope.Verify(f.Envelope)
		if !c.hello || err != nil || e.Conv != c.conv {
			r.t.Fatalf("relay: bad send: %v", err)
		}
		if e.Seq <= r.lastSeq {
			c.push(reqID, &protocol.Ack{Conv: c.conv, Seq: e.Seq, Pos: 0})
			return
		}
		if e.Seq != r.lastSeq+1 {
			c.push(reqID, &protocol.Error{Code: protocol.CodeSequence, Reason: "sequence"})
			return
		}
		r.lastSeq = e.Seq
		r.envs = append(r.envs, f.Envelope)
		pos := uint64(len(r.envs))
		c.push(reqID, &protocol.Ack{Conv: c.conv, Seq: e.Seq, Pos: pos})
		c.push(0, &protocol.Deliver{Conv: c.conv, Pos: pos, Stored: 1750000000, Envelope: f.Envelope})
	case *protocol.Consent:
		if !c.hello || f.Conv != c.conv {
			r.t.Fatal("relay: bad consent")
		}
		rec := protocol.ConsentReceipt{FlowVersion: f.FlowVersion, TextHash: f.TextHash, Decision: f.Decision, Time: 1750000000}
		if n := len(r.receipts); n == 0 || r.receipts[n-1].FlowVersion != rec.FlowVersion ||
			r.receipts[n-1].TextHash != rec.TextHash || r.receipts[n-1].Decision != rec.Decision {
			r.receipts = append(r.receipts, rec)
		}
		c.push(reqID, &protocol.ConsentReceipts{Conv: c.conv, Receipts: r.receipts})
	case *protocol.Request:
		r.request(c, reqID, f)
	case *protocol.WantPerson:
		if !c.hello || f.Conv != c.conv || r.state == protocol.StateLive {
			r.t.Fatalf("relay: bad want-person in state %d", r.state)
		}
		r.wants++
		r.state = protocol.StateWaiting
		c.push(reqID, &protocol.ConvStateFrame{Conv: c.conv, State: r.state})
	case *protocol.Typing:
		if !c.hello || f.Conv != c.conv {
			r.t.Fatal("relay: bad typing")
		}
		r.typing = append(r.typing, f.On)
	default:
		r.t.Fatalf("relay: unexpected frame %T", f)
	}
}

// request carries out a signed request (docs/PROTOCOL.md §6.5) after checking
// it as the relay does.
func (r *testRelay) request(c *testConn, reqID uint32, f *protocol.Request) {
	if !c.hello || !f.BodyHashValid() || f.Conv != c.conv || f.Counter <= r.counter {
		r.t.Fatalf("relay: bad request %+v", f)
	}
	var key ids.Key
	for _, h := range r.hellos {
		if h.conn == c {
			key = h.key
		}
	}
	if !protocol.VerifyRequest(key, r.site, c.nonce, f) {
		r.t.Fatal("relay: request signature does not verify")
	}
	if r.refuse != 0 {
		c.push(reqID, &protocol.Error{Code: r.refuse, Reason: r.refuse.String()})
		return
	}
	r.counter = f.Counter
	if f.Op == protocol.OpErase {
		r.erased, r.envs, r.receipts = true, nil, nil
		c.push(reqID, &protocol.Done{Op: f.Op, Conv: f.Conv})
		c.push(0, &protocol.Erased{Conv: f.Conv})
		return
	}
	orig, raw, ok := f.Correction()
	e, err := envelope.Verify(raw)
	if !ok || err != nil || e.Seq != r.lastSeq+1 || orig > uint64(len(r.envs)) || r.envs[orig-1] == nil {
		r.t.Fatalf("relay: bad correction: %v", err)
	}
	r.lastSeq = e.Seq
	r.envs[orig-1] = nil
	r.envs = append(r.envs, raw)
	pos := uint64(len(r.envs))
	c.push(reqID, &protocol.Done{Op: f.Op, Conv: f.Conv})
	c.push(0, &protocol.Deliver{Conv: c.conv, Pos: pos, Stored: 1750000000, Envelope: raw})
	c.push(0, &protocol.Replaced{Conv: c.conv, OldPos: orig, NewPos: pos})
}

// testWorld is a site with an owner, one agent, a relay and a compiled flow.
type testWorld struct {
	t        *testing.T
	site     ids.SiteID
	fp       ids.Fingerprint
	agent    *envelope.Identity
	owner    ed25519.PrivateKey
	relay    *testRelay
	flow     *flow.Flow
	revision uint32
	now      time.Time
}

func newTestWorld(t *testing.T) *testWorld {
	t.Helper()
	w := &testWorld{t: t, revision: 7, now: time.Unix(1750000000, 0)}
	rand.Read(w.site[:])
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	w.fp, w.owner = ids.OwnerFingerprint(ids.Key(pub)), priv
	var err error
	if w.agent, err = envelope.NewIdentity(rand.Reader); err != nil {
		t.Fatal(err)
	}
	ro := roster.Roster{Site: w.site, Version: 1, NotAfter: w.now.Unix() + 86400,
		Agents: []roster.Agent{{ID: ids.AgentID{1}, Name: "Anna", Sign: w.agent.SignKey(), Box: w.agent.BoxKey()}}}
	raw, err := ro.Encode(priv)
	if err != nil {
		t.Fatal(err)
	}
	w.relay = &testRelay{t: t, site: w.site, roster: raw, online: 1}
	src, err := os.ReadFile("testdata/bot.json")
	if err != nil {
		t.Fatal(err)
	}
	f, probs := flow.Parse("bot.json", src)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	// Through the frame page's attributes, as the widget gets it.
	if w.flow, w.revision, err = LoadFlow(base64.StdEncoding.EncodeToString(flow.Compile(f)), "7"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *testWorld) clock() time.Time {
	w.now = w.now.Add(time.Second)
	return w.now
}

// testWidget is a widget as cmd/visitor wires it, without the DOM: a Chat, its
// identity and its current connection.
type testWidget struct {
	w       *testWorld
	id      *envelope.Identity
	sess    *session.Session
	chat    *Chat
	conn    *testConn
	connect bool     // some Update asked to connect
	offline bool     // do not connect when asked
	results []Result // results of the visitor's requests, from every Update
}

// open starts a widget from a stored record text ("" for a first visit).
func (w *testWorld) open(stored string, lang string) (*testWidget, Update) {
	return w.openWith(stored, lang, false)
}

func (w *testWorld) openWith(stored string, lang string, offline bool) (*testWidget, Update) {
	w.t.Helper()
	tw := &testWidget{w: w, offline: offline}
	var st session.State
	var bs BotState
	if stored != "" {
		rec, err := DecodeRecordText(stored)
		if err != nil {
			w.t.Fatalf("stored record: %v", err)
		}
		if tw.id, err = envelope.IdentityFromKeys(rec.Seed, rec.BoxPriv); err != nil {
			w.t.Fatal(err)
		}
		st, bs = rec.State, rec.Bot
	} else {
		var err error
		if tw.id, err = envelope.NewIdentity(rand.Reader); err != nil {
			w.t.Fatal(err)
		}
	}
	var err error
	tw.sess, err = session.New(session.Config{Role: protocol.RoleVisitor, Site: w.site, Owner: w.fp,
		Identity: tw.id, Rand: rand.Reader, Now: func() time.Time { return w.now }, State: st})
	if err != nil {
		w.t.Fatal(err)
	}
	var bot *Bot
	if stored != "" && bs.Revision != 0 {
		if bot, err = RestoreBot(w.flow, w.revision, bs, "", w.clock); err != nil {
			w.t.Fatalf("restore bot: %v", err)
		}
	} else {
		bot = NewBot(w.flow, w.revision, lang, "", w.clock)
	}
	tw.chat = NewChat(i18n.For(i18n.Choose([]string{bot.Lang()})), tw.sess, bot)
	u := tw.chat.Begin()
	tw.note(u)
	return tw, u
}

// note records an update's connect request and connects, as the widget does.
func (tw *testWidget) note(u Update) Update {
	if u.Connect {
		tw.connect = true
		if !tw.offline && (tw.conn == nil || tw.conn.closed) {
			tw.conn = tw.w.relay.dial()
			tw.results = append(tw.results, tw.chat.Apply(tw.sess.Connect(tw.conn)).Results...)
		}
	}
	tw.results = append(tw.results, u.Results...)
	tw.pump()
	return u
}

// pump delivers the relay's frames to the widget until none are left.
func (tw *testWidget) pump() {
	for tw.conn != nil && len(tw.conn.toClient) > 0 {
		b := tw.conn.toClient[0]
		tw.conn.toClient = tw.conn.toClient[1:]
		tw.results = append(tw.results, tw.chat.Apply(tw.sess.Receive(tw.conn, b)).Results...)
	}
}

func (tw *testWidget) stored() string {
	r := tw.chat.Record(tw.id.Seed(), tw.id.BoxPrivate())
	return r.EncodeText()
}

func (tw *testWidget) choose(label string) Update {
	tw.w.t.Helper()
	p := tw.chat.Prompt()
	if p.Kind != PromptChoices {
		tw.w.t.Fatalf("choose %q: prompt is %+v", label, p)
	}
	for i, o := range p.Options {
		if o == label {
			return tw.note(tw.chat.Choose(i))
		}
	}
	tw.w.t.Fatalf("no option %q in %q", label, p.Options)
	return Update{}
}

func (tw *testWidget) compose(text string) Update { return tw.note(tw.chat.Compose(text)) }
func (tw *testWidget) answer(text string) Update  { return tw.note(tw.chat.Answer(text)) }
func (tw *testWidget) consent(ok bool) Update     { return tw.note(tw.chat.Consent(ok)) }

// shown returns the chat as the visitor sees it.
func (tw *testWidget) shown() []shown { return view(tw.chat.Model()) }

func i18nDE() *i18n.Strings { return i18n.For(i18n.German) }
