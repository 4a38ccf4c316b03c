package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

var bg = context.Background()

func TestEnsureConversation(t *testing.T) {
	clock := &fixedClock{t: time.Unix(1700003599, 0)} // 1700002800 is the hour
	s := openTest(t, Options{Now: clock.Now})
	site, conv, visitor := siteID(1), convID(1), key(1)

	if _, _, err := s.EnsureConversation(bg, site, conv, visitor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EnsureConversation for unknown site: %v, want ErrNotFound", err)
	}
	mustPutSite(t, s, testSite(1))
	if _, _, err := s.EnsureConversation(bg, site, conv, ids.Key{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero visitor key: %v, want ErrInvalid", err)
	}
	if _, err := s.Conversation(site, conv); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Conversation before create: %v", err)
	}
	c, created, err := s.EnsureConversation(bg, site, conv, visitor)
	want := Conversation{Site: site, ID: conv, Visitor: visitor, Created: 1700002800}
	if err != nil || !created || c != want {
		t.Fatalf("EnsureConversation = %+v %v %v; want %+v created", c, created, err, want)
	}
	clock.Set(time.Unix(1800000000, 0))
	c, created, err = s.EnsureConversation(bg, site, conv, visitor)
	if err != nil || created || c != want {
		t.Fatalf("second EnsureConversation = %+v %v %v", c, created, err)
	}
	if _, _, err := s.EnsureConversation(bg, site, conv, key(2)); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("other visitor key: %v, want ErrKeyMismatch", err)
	}
	if got, err := s.Conversation(site, conv); err != nil || got != want {
		t.Fatalf("Conversation = %+v %v", got, err)
	}
}

// Many visitors creating the same conversation at once: exactly one creates it.
func TestEnsureConversationConcurrent(t *testing.T) {
	s := openTest(t, Options{})
	mustPutSite(t, s, testSite(1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount, mismatches := 0, 0
	start := make(chan struct{})
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // all at once, so that most miss the read-only fast path
			_, created, err := s.EnsureConversation(bg, siteID(1), convID(1), key(byte(i%2)+1))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrKeyMismatch):
				mismatches++
			case err != nil:
				t.Error(err)
			case created:
				createdCount++
			}
		}()
	}
	close(start)
	wg.Wait()
	if createdCount != 1 || mismatches != 16 {
		t.Fatalf("created %d times, %d mismatches; want 1 and 16", createdCount, mismatches)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendSequence(t *testing.T) {
	clock := &fixedClock{t: time.Unix(1700000059, 0)}
	s := openTest(t, Options{Now: clock.Now})
	site, conv, visitor, agent := siteID(1), convID(1), key(1), key(2)
	mustPutSite(t, s, testSite(1))

	if _, err := s.Append(bg, site, conv, visitor, 1, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Append to unknown conversation: %v, want ErrNotFound", err)
	}
	if _, _, err := s.EnsureConversation(bg, site, conv, visitor); err != nil {
		t.Fatal(err)
	}
	mustAppend := func(sender ids.Key, seq uint64, raw string, want Appended) {
		t.Helper()
		got, err := s.Append(bg, site, conv, sender, seq, []byte(raw))
		if err != nil || got != want {
			t.Fatalf("Append(seq %d, %q) = %+v %v; want %+v", seq, raw, got, err, want)
		}
	}
	mustFail := func(sender ids.Key, seq uint64, raw string, want error) {
		t.Helper()
		if got, err := s.Append(bg, site, conv, sender, seq, []byte(raw)); !errors.Is(err, want) || got != (Appended{}) {
			t.Fatalf("Append(seq %d, %q) = %+v %v; want %v", seq, raw, got, err, want)
		}
	}

	mustFail(visitor, 0, "zero", ErrSequence)
	mustFail(visitor, 2, "gap", ErrSequence)
	mustFail(visitor, 1, "", ErrInvalid)
	mustAppend(visitor, 1, "v1", Appended{Pos: 1, Stored: 1700000040})
	clock.Set(time.Unix(1700000100, 0))
	mustAppend(agent, 1, "a1", Appended{Pos: 2, Stored: 1700000100})
	mustAppend(visitor, 2, "v2", Appended{Pos: 3, Stored: 1700000100})
	clock.Set(time.Unix(1700009999, 0))
	// Duplicates of the last seq and of older ones keep their position and time.
	mustAppend(visitor, 2, "v2", Appended{Pos: 3, Stored: 1700000100, Duplicate: true})
	mustAppend(visitor, 1, "v1", Appended{Pos: 1, Stored: 1700000040, Duplicate: true})
	mustAppend(agent, 1, "a1", Appended{Pos: 2, Stored: 1700000100, Duplicate: true})
	// Same seq with other bytes, gaps.
	mustFail(visitor, 2, "v2 changed", ErrSequence)
	mustFail(visitor, 1, "v1 changed", ErrSequence)
	mustFail(visitor, 4, "v4", ErrSequence)
	mustFail(agent, 3, "a3", ErrSequence)
	mustAppend(visitor, 3, "v3", Appended{Pos: 4, Stored: 1700009940})

	for sender, want := range map[ids.Key]uint64{visitor: 3, agent: 1, key(9): 0} {
		if got, err := s.LastSeq(site, conv, sender); err != nil || got != want {
			t.Fatalf("LastSeq = %d %v, want %d", got, err, want)
		}
	}
	if _, err := s.LastSeq(site, convID(9), visitor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastSeq of unknown conversation: %v", err)
	}
	c, err := s.Conversation(site, conv)
	if err != nil || c.LastPos != 4 {
		t.Fatalf("Conversation = %+v %v", c, err)
	}
	var got []string
	var stored []int64
	err = s.Envelopes(site, conv, 0, func(pos uint64, st int64, raw []byte) error {
		if pos != uint64(len(got)+1) {
			t.Fatalf("pos %d out of order", pos)
		}
		got = append(got, string(raw))
		stored = append(stored, st)
		return nil
	})
	if err != nil || len(got) != 4 || got[0] != "v1" || got[1] != "a1" || got[2] != "v2" || got[3] != "v3" {
		t.Fatalf("Envelopes = %q %v", got, err)
	}
	if stored[0] != 1700000040 || stored[3] != 1700009940 {
		t.Fatalf("stored times %v", stored)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// Append copies raw: the caller may reuse its buffer at once.
func TestAppendCopiesInput(t *testing.T) {
	s := openTest(t, Options{})
	mustPutSite(t, s, testSite(1))
	s.EnsureConversation(bg, siteID(1), convID(1), key(1))
	buf := []byte("original")
	if _, err := s.Append(bg, siteID(1), convID(1), key(1), 1, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	s.Envelopes(siteID(1), convID(1), 0, func(_ uint64, _ int64, raw []byte) error {
		if string(raw) != "original" {
			t.Fatalf("stored %q", raw)
		}
		return nil
	})
}

func TestEnvelopes(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	site, conv := siteID(1), convID(1)
	if err := s.Envelopes(site, conv, 0, func(uint64, int64, []byte) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Envelopes of unknown conversation: %v", err)
	}
	mustPutSite(t, s, testSite(1))
	s.EnsureConversation(bg, site, conv, key(1))
	if err := s.Envelopes(site, conv, 0, func(uint64, int64, []byte) error {
		t.Fatal("called for an empty conversation")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const n = 3*chunkEnvelopes + 5 // several chunks
	for i := uint64(1); i <= n; i++ {
		if _, err := s.Append(bg, site, conv, key(1), i, envBytes(1, 1, i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, since := range []uint64{0, 1, chunkEnvelopes, n - 1, n, n + 10, ^uint64(0)} {
		next := since + 1
		var kept [][]byte
		err := s.Envelopes(site, conv, since, func(pos uint64, _ int64, raw []byte) error {
			if pos != next || !bytes.Equal(raw, envBytes(1, 1, pos)) {
				t.Fatalf("since %d: got pos %d, want %d", since, pos, next)
			}
			kept = append(kept, raw)
			next++
			return nil
		})
		if err != nil || next != max(since, n)+1 { // wraps to 0 for since = max
			t.Fatalf("since %d: ended at %d, %v", since, next, err)
		}
		for i, raw := range kept { // raw is the caller's to keep
			if !bytes.Equal(raw, envBytes(1, 1, since+1+uint64(i))) {
				t.Fatalf("kept envelope changed")
			}
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Envelopes(site, conv, 0, func(uint64, int64, []byte) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 3 {
		t.Fatalf("stop: %v after %d calls", err, calls)
	}
}

func TestMarkDelivered(t *testing.T) {
	s := openTest(t, Options{})
	site, conv := siteID(1), convID(1)
	if _, err := s.MarkDelivered(bg, site, conv, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	mustPutSite(t, s, testSite(1))
	s.EnsureConversation(bg, site, conv, key(1))
	for i := uint64(1); i <= 3; i++ {
		s.Append(bg, site, conv, key(1), i, []byte{byte(i)})
	}
	steps := []struct {
		pos     uint64
		changed bool
		err     error
		after   uint64
	}{
		{0, false, nil, 0},
		{4, false, ErrNotFound, 0},
		{2, true, nil, 2},
		{2, false, nil, 2},
		{1, false, nil, 2},
		{3, true, nil, 3},
		{4, false, ErrNotFound, 3},
	}
	for _, st := range steps {
		changed, err := s.MarkDelivered(bg, site, conv, st.pos)
		if changed != st.changed || !errors.Is(err, st.err) {
			t.Fatalf("MarkDelivered(%d) = %v %v; want %v %v", st.pos, changed, err, st.changed, st.err)
		}
		c, _ := s.Conversation(site, conv)
		if c.DeliveredPos != st.after {
			t.Fatalf("after MarkDelivered(%d): delivered %d, want %d", st.pos, c.DeliveredPos, st.after)
		}
	}
}

func TestConversations(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	if _, err := s.Conversations(siteID(1), 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
	mustPutSite(t, s, testSite(1))
	mustPutSite(t, s, testSite(2))
	if list, err := s.Conversations(siteID(1), 0); err != nil || len(list) != 0 {
		t.Fatalf("no conversations: %v %v", list, err)
	}
	for _, b := range []byte{9, 3, 7, 1} {
		if _, _, err := s.EnsureConversation(bg, siteID(1), convID(b), key(b)); err != nil {
			t.Fatal(err)
		}
	}
	s.EnsureConversation(bg, siteID(2), convID(5), key(5))
	list, err := s.Conversations(siteID(1), 0)
	if err != nil || len(list) != 4 {
		t.Fatalf("Conversations = %v %v", list, err)
	}
	for i, b := range []byte{1, 3, 7, 9} {
		if list[i].ID != convID(b) || list[i].Visitor != key(b) || list[i].Site != siteID(1) {
			t.Fatalf("entry %d = %+v", i, list[i])
		}
	}
	list, _ = s.Conversations(siteID(1), 2)
	if len(list) != 2 || list[1].ID != convID(3) {
		t.Fatalf("limit 2: %+v", list)
	}
}

func TestLimits(t *testing.T) {
	s := openTest(t, Options{MaxConversationsPerSite: 2, MaxEnvelopesPerConversation: 3})
	mustPutSite(t, s, testSite(1))
	mustPutSite(t, s, testSite(2))
	for i := byte(1); i <= 2; i++ {
		if _, _, err := s.EnsureConversation(bg, siteID(1), convID(i), key(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.EnsureConversation(bg, siteID(1), convID(3), key(3)); !errors.Is(err, ErrLimit) {
		t.Fatalf("third conversation: %v, want ErrLimit", err)
	}
	// Existing ones still answer, and other sites have their own count.
	if _, created, err := s.EnsureConversation(bg, siteID(1), convID(2), key(2)); err != nil || created {
		t.Fatalf("existing conversation at the limit: %v %v", created, err)
	}
	if _, _, err := s.EnsureConversation(bg, siteID(2), convID(3), key(3)); err != nil {
		t.Fatalf("other site: %v", err)
	}
	for i := uint64(1); i <= 3; i++ {
		if _, err := s.Append(bg, siteID(1), convID(1), key(1), i, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(bg, siteID(1), convID(1), key(9), 1, []byte("more")); !errors.Is(err, ErrLimit) {
		t.Fatalf("fourth envelope: %v, want ErrLimit", err)
	}
	// A duplicate of a committed envelope is still acknowledged at the limit.
	if a, err := s.Append(bg, siteID(1), convID(1), key(1), 3, []byte{3}); err != nil || !a.Duplicate || a.Pos != 3 {
		t.Fatalf("duplicate at the limit: %+v %v", a, err)
	}
	if _, err := s.Append(bg, siteID(1), convID(2), key(2), 1, []byte("other conv")); err != nil {
		t.Fatalf("other conversation: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// Many goroutines appending at once, to shared and own conversations: every append is
// committed once, positions in a conversation are distinct and follow each sender's
// seq order, and the group commit really batches.
func TestConcurrentAppends(t *testing.T) {
	s := openTest(t, Options{})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	const convs, perConv, each = 4, 8, 25 // 4 conversations × 8 senders × 25 envelopes
	for c := byte(0); c < convs; c++ {
		if _, _, err := s.EnsureConversation(bg, site, convID(c), key(100+c)); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		conv   byte
		sender byte
		seq    uint64
		pos    uint64
	}
	results := make(chan result, convs*perConv*each)
	var wg sync.WaitGroup
	for c := byte(0); c < convs; c++ {
		for g := byte(0); g < perConv; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var last uint64
				for seq := uint64(1); seq <= each; seq++ {
					a, err := s.Append(bg, site, convID(c), key(g), seq, envBytes(c, g, seq))
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					if a.Duplicate || a.Pos <= last {
						t.Errorf("Append = %+v after pos %d", a, last)
					}
					last = a.Pos
					results <- result{c, g, seq, a.Pos}
				}
			}()
		}
	}
	wg.Wait()
	close(results)
	seen := map[[2]uint64]result{}
	for r := range results {
		k := [2]uint64{uint64(r.conv), r.pos}
		if prev, dup := seen[k]; dup {
			t.Fatalf("position %d of conversation %d given twice: %+v %+v", r.pos, r.conv, prev, r)
		}
		seen[k] = r
	}
	if len(seen) != convs*perConv*each {
		t.Fatalf("%d results", len(seen))
	}
	for c := byte(0); c < convs; c++ {
		err := s.Envelopes(site, convID(c), 0, func(pos uint64, _ int64, raw []byte) error {
			r := seen[[2]uint64{uint64(c), pos}]
			if !bytes.Equal(raw, envBytes(c, r.sender, r.seq)) {
				t.Fatalf("conversation %d pos %d holds other bytes", c, pos)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		conv, _ := s.Conversation(site, convID(c))
		if conv.LastPos != perConv*each {
			t.Fatalf("LastPos %d", conv.LastPos)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// One refused op in a batch does not affect the others: run a mix of good and bad
// appends concurrently and check that exactly the good ones are stored.
func TestBatchIsolation(t *testing.T) {
	s := openTest(t, Options{})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	s.EnsureConversation(bg, site, convID(1), key(1))
	var wg sync.WaitGroup
	for g := byte(0); g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(1); seq <= 20; seq++ {
				// A bad append (gap) right before each good one.
				if _, err := s.Append(bg, site, convID(1), key(g), seq+1, []byte("bad")); !errors.Is(err, ErrSequence) {
					t.Errorf("gap: %v", err)
				}
				if _, err := s.Append(bg, site, convID(2), key(g), seq, []byte("no conv")); !errors.Is(err, ErrNotFound) {
					t.Errorf("unknown conversation: %v", err)
				}
				if _, err := s.Append(bg, site, convID(1), key(g), seq, envBytes(1, g, seq)); err != nil {
					t.Errorf("good append: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	c, _ := s.Conversation(site, convID(1))
	if c.LastPos != 16*20 {
		t.Fatalf("LastPos %d, want %d", c.LastPos, 16*20)
	}
	s.Envelopes(site, convID(1), 0, func(pos uint64, _ int64, raw []byte) error {
		if bytes.Equal(raw, []byte("bad")) {
			t.Fatalf("refused envelope stored at %d", pos)
		}
		return nil
	})
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// An op whose write fails is dropped and the transaction retried without it: its
// partial write is gone, the other ops of the batch are committed.
func TestCommitRetriesWithoutFailedWrite(t *testing.T) {
	s := openTest(t, Options{})
	newOp := func(fn func(tx *bolt.Tx) error) *op {
		return &op{ctx: bg, fn: fn, done: make(chan error, 1)}
	}
	putKey := func(k string) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return put(tx.Bucket(bucketMeta), []byte(k), []byte("v")) }
	}
	boom := errors.New("disk full")
	runs := 0
	bad := newOp(func(tx *bolt.Tx) error {
		runs++
		if err := put(tx.Bucket(bucketMeta), []byte("partial"), []byte("v")); err != nil {
			return err
		}
		return &writeError{boom}
	})
	refused := newOp(func(tx *bolt.Tx) error { return ErrStale })
	ctx, cancel := context.WithCancel(bg)
	cancel()
	cancelled := &op{ctx: ctx, fn: putKey("cancelled"), done: make(chan error, 1)}
	batch := []*op{newOp(putKey("a")), bad, refused, cancelled, newOp(putKey("b"))}
	s.commit(batch)
	wantErr := []error{nil, boom, ErrStale, context.Canceled, nil}
	for i, o := range batch {
		if err := <-o.done; !errors.Is(err, wantErr[i]) || (wantErr[i] == nil && err != nil) {
			t.Fatalf("op %d: %v, want %v", i, err, wantErr[i])
		}
	}
	if runs != 1 {
		t.Fatalf("failed op ran %d times", runs)
	}
	s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m.Get([]byte("a")) == nil || m.Get([]byte("b")) == nil {
			t.Error("good ops not committed")
		}
		if m.Get([]byte("partial")) != nil || m.Get([]byte("cancelled")) != nil {
			t.Error("failed or cancelled op left a write")
		}
		return nil
	})
}
