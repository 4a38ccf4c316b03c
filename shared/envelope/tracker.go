package envelope

import (
	"sync"

	"siegel/shared/ids"
)

var (
	errDuplicate = &ids.Error{What: "envelope", Err: ErrDuplicate}
	errTrackSeq  = &ids.Error{What: "track envelope: sequence number 0", Err: ErrMalformed}
)

// Tracker remembers, per sender signing key, the sequence numbers accepted in
// one conversation, and refuses a repeat (docs/PROTOCOL.md §3.2). The zero
// value is ready to use; it is safe for concurrent use.
type Tracker struct {
	mu      sync.Mutex
	senders map[ids.Key]*seqSet
}

// seqSet holds the accepted sequence numbers of one sender: all of 1 … low,
// and those in above (each greater than low + 1).
type seqSet struct {
	low   uint64
	above map[uint64]struct{}
}

// Accept records (sender, seq) and returns ErrDuplicate when it was already
// recorded. Sequence numbers start at 1 and may arrive in any order.
func (t *Tracker) Accept(sender ids.Key, seq uint64) error {
	if seq == 0 {
		return errTrackSeq
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.senders == nil {
		t.senders = make(map[ids.Key]*seqSet)
	}
	s := t.senders[sender]
	if s == nil {
		s = &seqSet{}
		t.senders[sender] = s
	}
	if seq <= s.low {
		return errDuplicate
	}
	if _, ok := s.above[seq]; ok {
		return errDuplicate
	}
	if seq != s.low+1 {
		if s.above == nil {
			s.above = make(map[uint64]struct{})
		}
		s.above[seq] = struct{}{}
		return nil
	}
	s.low = seq
	for {
		if _, ok := s.above[s.low+1]; !ok {
			break
		}
		delete(s.above, s.low+1)
		s.low++
	}
	return nil
}
