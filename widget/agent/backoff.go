package agent

import "time"

// Backoff computes reconnect delays: exponential from Min to Max with up to
// 25 % random jitter subtracted, so that many agent pages restarting together
// do not reconnect in lockstep. The zero value uses 1 s and 30 s.
type Backoff struct {
	Min, Max time.Duration
	n        int
}

// Next returns the delay before the next attempt; r is a random value
// (any uint32) used for the jitter.
func (b *Backoff) Next(r uint32) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = 30 * time.Second
		if hi < lo {
			hi = lo
		}
	}
	d := lo
	for i := 0; i < b.n && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	if b.n < 32 {
		b.n++
	}
	jitter := time.Duration(uint64(d/4) * uint64(r) >> 32)
	return d - jitter
}

// Reset starts over at Min, after a connection succeeded.
func (b *Backoff) Reset() { b.n = 0 }

// Attempts is the number of delays handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.n }
