package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"siegel/relay/store"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// contentSize is the text of each benchmark envelope: the largest that fits the
// 1 KB padding bucket (1024 bytes of inner plaintext minus its 86-byte header).
const contentSize = 1024 - 86

// fixture is one visitor–agent pair of the relay benchmark: its own site with a
// roster of one agent, and the visitor's pre-sealed envelopes.
type fixture struct {
	site    ids.SiteID
	owner   ed25519.PrivateKey
	roster  []byte
	agent   *envelope.Identity
	visitor *envelope.Identity
	conv    ids.ConvID
	frames  [][]byte // Send frames of envelopes with seq 1, 2, …; request ID = seq
}

// newFixtures creates n sites with one agent and one visitor each.
func newFixtures(n int) ([]*fixture, error) {
	fx := make([]*fixture, n)
	for i := range fx {
		f := &fixture{}
		rand.Read(f.site[:])
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		f.owner = priv
		if f.agent, err = envelope.NewIdentity(rand.Reader); err != nil {
			return nil, err
		}
		if f.visitor, err = envelope.NewIdentity(rand.Reader); err != nil {
			return nil, err
		}
		f.conv = ids.ConversationID(f.site, f.visitor.SignKey())
		var agentID ids.AgentID
		rand.Read(agentID[:])
		r := &roster.Roster{
			Site:     f.site,
			Version:  1,
			NotAfter: time.Now().Add(24 * time.Hour).Unix(),
			Agents:   []roster.Agent{{ID: agentID, Name: "Agent " + strconv.Itoa(i), Sign: f.agent.SignKey(), Box: f.agent.BoxKey()}},
		}
		if f.roster, err = r.Encode(priv); err != nil {
			return nil, fmt.Errorf("sign roster: %w", err)
		}
		fx[i] = f
	}
	return fx, nil
}

// content is the text of every benchmark envelope.
var content = []byte(strings.Repeat("Guten Tag, ich habe eine Frage zu meiner Bestellung. ", contentSize/53+1)[:contentSize])

// seal extends each fixture's pre-sealed envelopes (for the agent and the
// visitor, seq 1, 2, …) to n, on all CPUs.
func seal(fx []*fixture, n int) error {
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	work := make(chan *fixture)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for f := range work {
				rcpt := []ids.Key{f.agent.BoxKey(), f.visitor.BoxKey()}
				now := time.Now().UnixMilli()
				for i := len(f.frames); i < n; i++ {
					seq := uint64(i + 1)
					env, err := envelope.Seal(rand.Reader, f.visitor, rcpt, envelope.Message{
						Site: f.site, Conv: f.conv, Seq: seq, Type: envelope.ContentText, Time: now, Content: content,
					})
					if err != nil {
						firstErr.CompareAndSwap(nil, &err)
						break
					}
					f.frames = append(f.frames, protocol.Encode(uint32(seq), &protocol.Send{Envelope: env}))
				}
			}
		})
	}
	for _, f := range fx {
		work <- f
	}
	close(work)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("seal: %w", *e)
	}
	return nil
}

// prepareDB creates a database at path holding the fixtures' sites and rosters.
func prepareDB(path string, fx []*fixture) error {
	st, err := store.Open(store.Options{Path: path, NoSync: true})
	if err != nil {
		return err
	}
	ctx := context.Background()
	for i, f := range fx {
		site := store.Site{
			ID:      f.site,
			Name:    "Benchmark " + strconv.Itoa(i),
			Owner:   ids.Key(f.owner.Public().(ed25519.PublicKey)),
			Created: time.Now().Unix(),
		}
		if err = st.PutSite(ctx, site); err != nil {
			break
		}
		if err = st.PutRoster(ctx, f.site, 1, f.roster); err != nil {
			break
		}
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

// dialTimeout bounds connecting and saying hello.
const dialTimeout = 30 * time.Second

// relayConn is a protocol client on one WebSocket connection to the relay.
type relayConn struct {
	ws *websocket.Conn
}

// dialRelay connects to the relay for site, says hello with id in role and
// reads the Welcome (and, for a visitor, the replay up to Fetched).
func dialRelay(ctx context.Context, addr string, site ids.SiteID, role protocol.Role, id *envelope.Identity) (*relayConn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	origin := "http://" + addr
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws?site="+site.String(), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {origin}},
	})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(protocol.MaxFrameSize + 1024)
	c := &relayConn{ws: ws}
	_, f, err := c.next(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	ch, ok := f.(*protocol.Challenge)
	if !ok {
		ws.CloseNow()
		return nil, fmt.Errorf("first frame is %T, want a challenge", f)
	}
	h := &protocol.Hello{Role: role, Site: site, SignKey: id.SignKey(), BoxKey: id.BoxKey()}
	protocol.SignHello(ch.Nonce, h, id.Sign)
	if err := ws.Write(ctx, websocket.MessageBinary, protocol.Encode(1, h)); err != nil {
		ws.CloseNow()
		return nil, err
	}
	for {
		_, f, err := c.next(ctx)
		if err != nil {
			ws.CloseNow()
			return nil, err
		}
		switch f := f.(type) {
		case *protocol.Welcome:
			if role == protocol.RoleAgent {
				return c, nil
			}
		case *protocol.Fetched:
			return c, nil
		case *protocol.Deliver:
		default:
			ws.CloseNow()
			return nil, fmt.Errorf("hello: got %s", describe(f))
		}
	}
}

// next returns the next frame, skipping the live-chat pushes (presence,
// conversation state, typing) that the load does not measure.
func (c *relayConn) next(ctx context.Context) (uint32, protocol.Frame, error) {
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return 0, nil, err
		}
		req, f, err := protocol.Decode(b)
		if err != nil {
			return req, f, err
		}
		switch f.(type) {
		case *protocol.Presence, *protocol.ConvStateFrame, *protocol.TypingPush:
			continue
		}
		return req, f, nil
	}
}

func describe(f protocol.Frame) string {
	if e, ok := f.(*protocol.Error); ok {
		return "error " + strconv.Itoa(int(e.Code)) + " (" + e.Reason + ")"
	}
	return fmt.Sprintf("%T", f)
}

// relayPair is a visitor connection sending the fixture's envelopes and the
// site's agent connection receiving them.
type relayPair struct {
	f       *fixture
	visitor *relayConn
	agent   *relayConn
	got     atomic.Uint64
	recvErr atomic.Pointer[error]
}

func dialRelayPair(ctx context.Context, addr string, f *fixture) (*relayPair, error) {
	agent, err := dialRelay(ctx, addr, f.site, protocol.RoleAgent, f.agent)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	visitor, err := dialRelay(ctx, addr, f.site, protocol.RoleVisitor, f.visitor)
	if err != nil {
		agent.ws.CloseNow()
		return nil, fmt.Errorf("visitor: %w", err)
	}
	p := &relayPair{f: f, visitor: visitor, agent: agent}
	go p.receive()
	return p, nil
}

// receive counts the envelopes delivered to the agent, which must arrive in order.
func (p *relayPair) receive() {
	for {
		_, b, err := p.agent.ws.Read(context.Background())
		if err != nil {
			// Closed at the end of the run, or dropped by the relay: what was
			// not received shows as acknowledged but not delivered.
			return
		}
		_, f, err := protocol.Decode(b)
		if err != nil {
			p.fail(fmt.Errorf("agent got an undecodable frame: %w", err))
			return
		}
		d, ok := f.(*protocol.Deliver)
		if !ok {
			p.fail(fmt.Errorf("agent got %s", describe(f)))
			return
		}
		if d.Conv != p.f.conv || d.Pos != p.got.Load()+1 {
			p.fail(fmt.Errorf("agent got position %d, want %d", d.Pos, p.got.Load()+1))
			return
		}
		p.got.Add(1)
	}
}

func (p *relayPair) fail(err error) { p.recvErr.CompareAndSwap(nil, &err) }

func (p *relayPair) roundTrip(ctx context.Context, i int) (uint64, error) {
	if err := p.visitor.ws.Write(ctx, websocket.MessageBinary, p.f.frames[i]); err != nil {
		return 0, err
	}
	want := uint32(i + 1)
	for {
		req, f, err := p.visitor.next(ctx)
		if err != nil {
			return 0, err
		}
		switch f := f.(type) {
		case *protocol.Ack:
			if req == want {
				return f.Pos, nil
			}
		case *protocol.Deliver: // the visitor's own envelope, fanned out to it as well
		default:
			return 0, fmt.Errorf("visitor got %s", describe(f))
		}
	}
}

func (p *relayPair) received() uint64 { return p.got.Load() }

func (p *relayPair) err() error {
	if e := p.recvErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *relayPair) close() {
	p.visitor.ws.CloseNow()
	p.agent.ws.CloseNow()
}

// idleConns opens n visitor connections (each a fresh visitor key, so a new
// conversation) to site, concurrently, each up to its Welcome and replay.
func idleConns(ctx context.Context, addr string, site ids.SiteID, n int) ([]*relayConn, error) {
	conns := make([]*relayConn, n)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for firstErr.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				id, err := envelope.NewIdentity(rand.Reader)
				if err == nil {
					conns[i], err = dialRelay(ctx, addr, site, protocol.RoleVisitor, id)
				}
				if err != nil {
					err = fmt.Errorf("idle connection %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		closeAll(conns)
		return nil, *e
	}
	return conns, nil
}

func closeAll(conns []*relayConn) {
	for _, c := range conns {
		if c != nil {
			c.ws.CloseNow()
		}
	}
}
