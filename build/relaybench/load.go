package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"syscall"
	"time"
)

// pair is one sender–receiver pair of a load run: the sender sends numbered
// messages one at a time, each waiting for its acknowledgement (a closed loop,
// so the concurrency is the number of pairs); the receiver counts the messages
// that reach it.
type pair interface {
	// roundTrip sends message i (0-based) and waits for its acknowledgement. It
	// returns the message's position at the receiver (1-based, contiguous).
	roundTrip(ctx context.Context, i int) (pos uint64, err error)
	// received is the highest position up to which the receiver got every message.
	received() uint64
	// err is the first error of the receiving side, if any.
	err() error
	// close closes the pair's connections.
	close()
}

// load drives a set of pairs against one server in slices of time, so that the
// slices of several servers can be interleaved (on a shared machine, a change in
// the background load then affects all of them alike). Each pair continues from
// where the previous slice left it.
type load struct {
	pairs []pair
	limit int // prepared messages per pair
	state []pairState
	// measured is the total length of the measured slices, clientCPU the CPU
	// time this process used in them.
	measured, clientCPU time.Duration
}

type pairState struct {
	next      int             // next message to send
	positions []uint64        // positions acknowledged in measured slices
	latencies []time.Duration // their round-trip times
	exhausted bool            // ran out of messages during a measured slice
}

func newLoad(pairs []pair, limit int) *load {
	return &load{pairs: pairs, limit: limit, state: make([]pairState, len(pairs))}
}

// run drives every pair for d. If measure is set, the acknowledgements that
// arrive within the slice count. A round trip still open when d ends completes
// (for at most grace) but does not count.
func (l *load) run(ctx context.Context, d, grace time.Duration, measure bool) error {
	cpu0 := processCPU()
	start := time.Now()
	end := start.Add(d)
	ctx, cancel := context.WithDeadline(ctx, end.Add(grace))
	defer cancel()
	errs := make([]error, len(l.pairs))
	var wg sync.WaitGroup
	for k, p := range l.pairs {
		wg.Go(func() {
			s := &l.state[k]
			for ; s.next < l.limit; s.next++ {
				if !time.Now().Before(end) {
					return
				}
				t0 := time.Now()
				pos, err := p.roundTrip(ctx, s.next)
				if err != nil {
					errs[k] = fmt.Errorf("pair %d, message %d: %w", k, s.next, err)
					return
				}
				if t1 := time.Now(); measure && !t1.After(end) {
					s.latencies = append(s.latencies, t1.Sub(t0))
					s.positions = append(s.positions, pos)
				}
			}
			if measure && time.Now().Before(end) {
				s.exhausted = true
			}
		})
	}
	wg.Wait()
	if measure {
		l.measured += d
		l.clientCPU += processCPU() - cpu0
	}
	for k, p := range l.pairs {
		if errs[k] == nil {
			errs[k] = p.err()
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sent returns the number of round trips completed so far.
func (l *load) sent() int {
	n := 0
	for _, s := range l.state {
		n += s.next
	}
	return n
}

// loadResult is the outcome of a load: the acknowledgements that arrived in the
// measured slices and, of those, the messages the receivers got.
type loadResult struct {
	window    time.Duration
	acked     int
	delivered int
	latencies []time.Duration // sorted
	exhausted bool            // a sender ran out of prepared messages in a measured slice
	cpu       time.Duration   // the server's CPU time in the measured slices (0: unknown)
	clientCPU time.Duration   // the clients' CPU time in the measured slices
}

// processCPU returns the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// finish waits (at most wait) for the receivers to get every acknowledged
// message and returns the result.
func (l *load) finish(ctx context.Context, wait time.Duration) (loadResult, error) {
	deadline := time.Now().Add(wait)
	for {
		behind := false
		for k, p := range l.pairs {
			if err := p.err(); err != nil {
				return loadResult{}, fmt.Errorf("pair %d receiver: %w", k, err)
			}
			if pos := l.state[k].positions; len(pos) > 0 && p.received() < pos[len(pos)-1] {
				behind = true
			}
		}
		if !behind || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := loadResult{window: l.measured, clientCPU: l.clientCPU}
	for k, p := range l.pairs {
		s := &l.state[k]
		got := p.received()
		res.acked += len(s.positions)
		for _, pos := range s.positions {
			if pos <= got {
				res.delivered++
			}
		}
		res.latencies = append(res.latencies, s.latencies...)
		res.exhausted = res.exhausted || s.exhausted
	}
	slices.Sort(res.latencies)
	return res, nil
}

// rate is the number of acknowledged and delivered messages per second.
func (r loadResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.delivered) / r.window.Seconds()
}

// percentile returns the p-th percentile (0 < p ≤ 100) of the round-trip times.
func (r loadResult) percentile(p float64) time.Duration { return percentile(r.latencies, p) }

// percentile returns the p-th percentile of sorted by the nearest-rank method,
// or 0 without samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted)) * p / 100))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
