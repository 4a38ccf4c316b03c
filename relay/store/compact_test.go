package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// ack is an envelope the store acknowledged.
type ack struct {
	site ids.SiteID
	conv ids.ConvID
	pos  uint64
	raw  []byte
	at   time.Time // when Append returned
}

// appender appends to its own conversation until stop is closed and records every
// acknowledgement. A new conversation is created first when create is set.
type appender struct {
	s      *Store
	site   ids.SiteID
	conv   ids.ConvID
	sender ids.Key
	seq    uint64
	size   int
	acks   []ack
	maxLat time.Duration // the slowest Append
}

func (a *appender) run(t *testing.T, stop <-chan struct{}, create bool) {
	if create {
		if _, _, err := a.s.EnsureConversation(bg, a.site, a.conv, a.sender); err != nil {
			t.Errorf("EnsureConversation: %v", err)
			return
		}
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		raw := randBytes(t, a.size)
		a.seq++
		start := time.Now()
		r, err := a.s.Append(bg, a.site, a.conv, a.sender, a.seq, raw)
		if err != nil {
			t.Errorf("Append during compaction: %v", err)
			return
		}
		now := time.Now()
		a.maxLat = max(a.maxLat, now.Sub(start))
		a.acks = append(a.acks, ack{a.site, a.conv, r.Pos, raw, now})
	}
}

// THE erasure scan (Promise 6 and 7): conversations are erased and an answer
// corrected; Compact runs while other goroutines append to other conversations,
// create new ones and read. Afterwards no file in the data folder holds any byte
// sample of an erased or replaced envelope, nor an erased conversation's ID or
// visitor key; every envelope acknowledged before, during and after the compaction
// is there with identical bytes; Check passes; readers never saw an error.
func TestErasureScan(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	site := siteID(1)
	const convs, perConv, envSize = 48, 16, 12 << 10 // about 9 MB

	// Fill without fsync (fast), then reopen with fsync as the relay runs.
	s, err := Open(Options{Path: path, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mustPutSite(t, s, testSite(1))
	type conv struct {
		id      ids.ConvID
		visitor ids.Key
		envs    [][]byte
	}
	all := make([]conv, convs)
	var wg sync.WaitGroup
	for i := range all {
		all[i] = conv{id: randConv(t), visitor: randKey(t)}
		wg.Add(1)
		go func(c *conv) {
			defer wg.Done()
			if _, _, err := s.EnsureConversation(bg, site, c.id, c.visitor); err != nil {
				t.Error(err)
				return
			}
			for seq := uint64(1); seq <= perConv; seq++ {
				raw := randBytes(t, envSize)
				if _, err := s.Append(bg, site, c.id, c.visitor, seq, raw); err != nil {
					t.Error(err)
					return
				}
				c.envs = append(c.envs, raw)
			}
			if _, err := s.AddConsentReceipt(bg, site, c.id, receipt(2, 5, ConsentAccepted)); err != nil {
				t.Error(err)
			}
		}(&all[i])
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	s.Close()
	s = openTest(t, Options{Path: path})

	// Erase every third conversation, by each kind of erasure.
	agent := randKey(t)
	var erased, kept []conv
	for i, c := range all {
		if i%3 != 0 {
			kept = append(kept, c)
			continue
		}
		var err error
		switch i % 9 {
		case 0:
			err = s.Erase(bg, site, c.id, EraseVisitor, &Authorization{c.visitor, 1})
		case 3:
			err = s.Erase(bg, site, c.id, EraseAgent, &Authorization{agent, uint64(i + 1)})
		default:
			err = s.Erase(bg, site, c.id, EraseRetention, nil)
		}
		if err != nil {
			t.Fatalf("Erase: %v", err)
		}
		erased = append(erased, c)
	}
	// What is acknowledged before the compaction must stay too.
	var acks []ack
	for _, c := range kept {
		for i, raw := range c.envs {
			acks = append(acks, ack{site: site, conv: c.id, pos: uint64(i + 1), raw: raw})
		}
	}

	// One more erasure while the compaction runs: the next compaction removes it.
	late := kept[len(kept)-1]
	kept = kept[:len(kept)-1]
	acks = slices.DeleteFunc(acks, func(a ack) bool { return a.conv == late.id })
	lateDone := make(chan error, 1)

	// Writers and readers while Compact runs.
	stop := make(chan struct{})
	var apps []*appender
	for i := range 6 {
		c := kept[i]
		apps = append(apps, &appender{s: s, site: site, conv: c.id, sender: randKey(t), size: 1024})
	}
	for range 2 { // new conversations, created during the compaction
		apps = append(apps, &appender{s: s, site: site, conv: randConv(t), sender: randKey(t), size: 1024})
	}
	var started atomic.Int64
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			a.run(t, stop, i >= 6)
		}()
	}
	var reads atomic.Int64
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := kept[i%len(kept)]
				n := 0
				err := s.Envelopes(site, c.id, 0, func(uint64, int64, []byte) error { n++; return nil })
				if err != nil || n < perConv {
					t.Errorf("reader during compaction: %d envelopes, %v", n, err)
					return
				}
				if _, err := s.Conversations(site, 0); err != nil {
					t.Errorf("reader during compaction: %v", err)
					return
				}
				reads.Add(1)
			}
		}()
	}

	for started.Load() < int64(len(apps)) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // appends are flowing
	go func() {
		time.Sleep(20 * time.Millisecond)
		lateDone <- s.Erase(bg, site, late.id, EraseRetention, nil)
	}()
	compactStart := time.Now()
	st, err := s.Compact(bg)
	compactEnd := time.Now()
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	t.Logf("first compaction: %+v", st)
	if err := <-lateDone; err != nil {
		t.Fatalf("Erase during compaction: %v", err)
	}
	time.Sleep(30 * time.Millisecond)
	st2, err := s.Compact(bg)
	if err != nil {
		t.Fatalf("second Compact: %v", err)
	}
	t.Logf("second compaction: %+v", st2)
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	during := 0
	var maxLat time.Duration
	for _, a := range apps {
		for _, k := range a.acks {
			if k.at.After(compactStart) && k.at.Before(compactEnd) {
				during++
			}
		}
		acks = append(acks, a.acks...)
		maxLat = max(maxLat, a.maxLat)
	}
	t.Logf("%d envelopes acknowledged during the first compaction (%v), %d in all by the writers, %d reads; slowest append %v",
		during, compactEnd.Sub(compactStart), len(acks)-len(kept)*perConv, reads.Load(), maxLat)
	if during == 0 {
		t.Fatal("no envelope was acknowledged during the compaction: the test proves nothing")
	}
	if reads.Load() == 0 {
		t.Fatal("no read ran during the compaction")
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after compaction: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The scan: every file in the data folder.
	files := dataFiles(t, dir)
	if len(files) != 1 {
		t.Errorf("files in the data folder: %d, want only the database", len(files))
	}
	for _, c := range append(erased, late) {
		for what, needle := range map[string][]byte{"conversation ID": c.id[:], "visitor key": c.visitor[:]} {
			if name, ok := findIn(files, needle); ok {
				t.Errorf("erased %s found in %s", what, name)
			}
		}
		for i, raw := range c.envs {
			for _, off := range []int{0, envSize / 2, envSize - 32} {
				if name, ok := findIn(files, raw[off:off+32]); ok {
					t.Fatalf("bytes %d… of erased envelope %d found in %s", off, i+1, name)
				}
			}
		}
	}
	// The scan would see them: a sample of each kept envelope is there.
	for _, a := range acks {
		if _, ok := findIn(files, a.raw[len(a.raw)/2:len(a.raw)/2+32]); !ok {
			t.Fatalf("sample of a kept envelope missing from the file")
		}
	}

	// Every acknowledged envelope, identical; the erased ones gone for good.
	s = openTest(t, Options{Path: path})
	stored := map[ids.ConvID]map[uint64][]byte{}
	for _, a := range acks {
		if stored[a.conv] == nil {
			m := map[uint64][]byte{}
			if err := s.Envelopes(a.site, a.conv, 0, func(pos uint64, _ int64, raw []byte) error {
				m[pos] = raw
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			stored[a.conv] = m
		}
		if got := stored[a.conv][a.pos]; !bytes.Equal(got, a.raw) {
			t.Fatalf("acknowledged envelope at pos %d lost or changed", a.pos)
		}
	}
	for _, c := range append(erased, late) {
		if ok, err := s.Tombstoned(site, c.id); err != nil || !ok {
			t.Fatalf("erased conversation has no tombstone: %v %v", ok, err)
		}
		if _, err := s.Conversation(site, c.id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("erased conversation after reopen: %v", err)
		}
	}
	if audit, err := s.Audit(site); err != nil || len(audit) != len(erased)+1 {
		t.Fatalf("audit: %d entries, %v; want %d", len(audit), err, len(erased)+1)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after reopen: %v", err)
	}
}

// Compact on an idle store keeps everything and leaves one file.
func TestCompactKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	s := openTest(t, Options{Path: path})
	fill(t, s)
	if _, err := s.MarkDelivered(bg, siteID(2), convID(3), 4); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(bg, siteID(1), convID(2), EraseAgent, &Authorization{key(0x80), 7}); err != nil {
		t.Fatal(err)
	}
	var before bytes.Buffer
	if _, err := s.Backup(&before); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	os.WriteFile(ref, before.Bytes(), 0o600)
	r := openTest(t, Options{Path: ref})
	st, err := s.Compact(bg)
	if err != nil {
		t.Fatal(err)
	}
	if st.SizeBefore == 0 || st.SizeAfter == 0 || st.Pause <= 0 || st.Pause > st.Duration {
		t.Fatalf("stats %+v", st)
	}
	assertSameData(t, r, s, func(ids.SiteID, ids.ConvID) uint64 { return 0 })
	if a, err := s.Audit(siteID(1)); err != nil || len(a) != 1 {
		t.Fatalf("audit after compaction: %+v %v", a, err)
	}
	if ok, _ := s.Tombstoned(siteID(1), convID(2)); !ok {
		t.Fatal("tombstone lost in compaction")
	}
	if err := s.Erase(bg, siteID(1), convID(3), EraseAgent, &Authorization{key(0x80), 7}); !errors.Is(err, ErrReplay) {
		t.Fatalf("request counter lost in compaction: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// The store goes on writing to the new file, durably.
	if _, err := s.Append(bg, siteID(2), convID(3), key(3), 4, []byte("after")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the data folder after compaction", len(entries))
	}
	s = openTest(t, Options{Path: path})
	if c, err := s.Conversation(siteID(2), convID(3)); err != nil || c.LastPos != 7 || c.DeliveredPos != 4 {
		t.Fatalf("after reopen: %+v %v", c, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestCompactCancelledOrClosed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	s := openTest(t, Options{Path: path})
	fill(t, s)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.Compact(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Compact: %v", err)
	}
	if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("compaction file left behind: %v", err)
	}
	if _, err := s.Append(bg, siteID(1), convID(1), key(1), 2, []byte("x")); err != nil {
		t.Fatalf("store after cancelled compaction: %v", err)
	}
	// Close while compactions run: each either finishes or gives up; Close waits.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Compact(bg); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Compact during Close: %v", err)
			}
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := s.Compact(bg); !errors.Is(err, ErrClosed) {
		t.Fatalf("Compact after Close: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the data folder", len(entries))
	}
	s = openTest(t, Options{Path: path})
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A compaction or backup file left by a crash is removed on open (it may hold
// erased data).
func TestOpenRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	for _, p := range []string{compactPath(path), backupPath(path)} {
		if err := os.WriteFile(p, []byte("stale erased bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	openTest(t, Options{Path: path})
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the data folder after Open, want only the database", len(entries))
	}
}

// A backup is compacted: it holds no bytes of data erased or replaced before it,
// even when no compaction ran since, and leaves no file behind.
func TestBackupLeavesOutDeleted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	s := openTest(t, Options{Path: path})
	fill(t, s)
	conv, visitor := randConv(t), randKey(t)
	if _, _, err := s.EnsureConversation(bg, siteID(1), conv, visitor); err != nil {
		t.Fatal(err)
	}
	raw := randBytes(t, 3000)
	if _, err := s.Append(bg, siteID(1), conv, visitor, 1, raw); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(bg, siteID(1), conv, EraseRetention, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	for _, needle := range [][]byte{raw[:32], raw[1500:1532], raw[len(raw)-32:], conv[:], visitor[:]} {
		if bytes.Contains(buf.Bytes(), needle) {
			t.Fatal("erased bytes in the backup")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the data folder after Backup", len(entries))
	}
}

// dump lists every bucket, key, value and bucket sequence of a database.
func dump(t *testing.T, db *bolt.DB) []string {
	t.Helper()
	var out []string
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		out = append(out, prefix+" seq="+strconv.FormatUint(b.Sequence(), 10))
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(prefix+"/"+string(k), b.Bucket(k))
			} else {
				out = append(out, prefix+"/"+string(k)+"="+string(v))
			}
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(string(name), b)
			return nil
		})
	})
	return out
}

// syncUnits brings each named part over exactly, whatever the change: values
// added, changed and removed, buckets created and deleted, a value replaced by a
// bucket and back, parents missing on either side, sequences.
func TestSyncUnits(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *bolt.DB {
		db, err := bolt.Open(filepath.Join(dir, name), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	src, dst := open("src.db"), open("dst.db")
	mk := func(tx *bolt.Tx, path ...string) *bolt.Bucket {
		b, err := tx.CreateBucketIfNotExists([]byte(path[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range path[1:] {
			if b, err = b.CreateBucketIfNotExists([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	put := func(b *bolt.Bucket, k, v string) {
		if err := b.Put([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	initial := func(tx *bolt.Tx) error {
		top := mk(tx, "top")
		put(top, "a", "1")
		put(top, "b", "2")
		put(top, "v2b", "value")
		c := mk(tx, "top", "conv")
		put(c, "m", "meta")
		e := mk(tx, "top", "conv", "e")
		for i := range 50 {
			put(e, strconv.Itoa(1000+i), "envelope "+strconv.Itoa(i))
		}
		mk(tx, "top", "b2v")
		mk(tx, "top", "gone")
		put(mk(tx, "top", "gone", "deep"), "x", "y")
		mk(tx, "other")
		return nil
	}
	for _, db := range []*bolt.DB{src, dst} {
		if err := db.Update(initial); err != nil {
			t.Fatal(err)
		}
	}
	var units []unit
	u := func(parts ...string) {
		var p [][]byte
		for _, s := range parts {
			p = append(p, []byte(s))
		}
		units = append(units, mkUnit(p...))
	}
	err := src.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte("top"))
		put(top, "a", "changed")
		u("top", "a")
		top.Delete([]byte("b"))
		u("top", "b")
		put(top, "new", "value")
		u("top", "new")
		top.Delete([]byte("v2b"))
		put(mk(tx, "top", "v2b"), "inner", "value")
		u("top", "v2b")
		top.DeleteBucket([]byte("b2v"))
		put(top, "b2v", "now a value")
		u("top", "b2v")
		top.DeleteBucket([]byte("gone"))
		u("top", "gone", "deep", "x") // the parent is gone in the source
		e := top.Bucket([]byte("conv")).Bucket([]byte("e"))
		e.Delete([]byte("1007"))
		u("top", "conv", "e", "1007")
		put(e, "1050", "appended")
		u("top", "conv", "e", "1050")
		e.SetSequence(9)
		put(mk(tx, "top", "fresh", "child"), "k", "v") // the parent is new in the source
		u("top", "fresh", "child", "k")
		u("top", "fresh")
		put(mk(tx, "other"), "z", "1")
		u("other", "z")
		u("top", "conv", "e") // a whole bucket, with its sequence
		u("top", "never")     // absent on both sides
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := syncUnits(src, dst, units); err != nil {
		t.Fatal(err)
	}
	a, b := dump(t, src), dump(t, dst)
	if !slices.Equal(a, b) {
		t.Fatalf("after syncUnits:\nsource      %v\ndestination %v", a, b)
	}
}
