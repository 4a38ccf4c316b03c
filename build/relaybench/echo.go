package main

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The raw echo baseline: a minimal coder/websocket server. Each pair has a
// sender and a receiver connection (/echo?pair=N&role=r first, then role=s).
// Every binary message from a sender is written back to the sender (its
// acknowledgement) and then to the pair's receiver (the fan-out the relay does
// to the agent): one read and two writes of the same size per message, no
// parsing, no storage, no queue.

type echoServer struct {
	mu        sync.Mutex
	receivers map[int]*websocket.Conn
}

func newEchoServer() http.Handler {
	s := &echoServer{receivers: map[int]*websocket.Conn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /echo", s.handle)
	return mux
}

func (s *echoServer) handle(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("pair"))
	if err != nil {
		http.Error(w, "pair", http.StatusBadRequest)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	if r.URL.Query().Get("role") == "r" {
		s.mu.Lock()
		s.receivers[n] = c
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.receivers, n)
			s.mu.Unlock()
		}()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}
	// The receiver connected first, but its handler may not have registered yet.
	var recv *websocket.Conn
	for wait := 0; recv == nil; wait++ {
		if wait == 5000 {
			c.Close(websocket.StatusPolicyViolation, "no receiver")
			return
		}
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		recv = s.receivers[n]
		s.mu.Unlock()
	}
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, b); err != nil {
			return
		}
		if err := recv.Write(ctx, typ, b); err != nil {
			return
		}
	}
}

// echoPair is the client side of one echo pair.
type echoPair struct {
	send, recv *websocket.Conn
	msg        []byte // the message buffer; message i carries i+1 in its first 8 bytes
	got        atomic.Uint64
	recvErr    atomic.Pointer[error]
}

var errEchoOrder = errors.New("echo receiver: message out of order")

func dialEchoPair(ctx context.Context, addr string, n, size int) (*echoPair, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	base := "ws://" + addr + "/echo?pair=" + strconv.Itoa(n) + "&role="
	recv, _, err := websocket.Dial(ctx, base+"r", nil)
	if err != nil {
		return nil, err
	}
	recv.SetReadLimit(1 << 20)
	send, _, err := websocket.Dial(ctx, base+"s", nil)
	if err != nil {
		recv.CloseNow()
		return nil, err
	}
	send.SetReadLimit(1 << 20)
	p := &echoPair{send: send, recv: recv, msg: echoMessage(size)}
	go p.receive()
	return p, nil
}

func (p *echoPair) receive() {
	for {
		_, b, err := p.recv.Read(context.Background())
		if err != nil {
			return // closed at the end of the run
		}
		if len(b) < 8 || binary.BigEndian.Uint64(b) != p.got.Load()+1 {
			p.recvErr.Store(&errEchoOrder)
			return
		}
		p.got.Add(1)
	}
}

func (p *echoPair) roundTrip(ctx context.Context, i int) (uint64, error) {
	want := uint64(i + 1)
	binary.BigEndian.PutUint64(p.msg, want)
	if err := p.send.Write(ctx, websocket.MessageBinary, p.msg); err != nil {
		return 0, err
	}
	for {
		_, b, err := p.send.Read(ctx)
		if err != nil {
			return 0, err
		}
		if len(b) >= 8 && binary.BigEndian.Uint64(b) == want {
			return want, nil
		}
	}
}

func (p *echoPair) received() uint64 { return p.got.Load() }

func (p *echoPair) err() error {
	if e := p.recvErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *echoPair) close() {
	p.send.CloseNow()
	p.recv.CloseNow()
}

// echoMessage returns a message buffer of size bytes (at least 8).
func echoMessage(size int) []byte {
	m := make([]byte, max(size, 8))
	for j := 8; j < len(m); j++ {
		m[j] = byte('a' + j%26)
	}
	return m
}
