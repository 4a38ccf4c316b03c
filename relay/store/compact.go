package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// Compaction (docs/STORAGE.md §10).
//
// bbolt is copy-on-write: a page freed by a delete (or by rewriting a page) keeps
// its old bytes until bbolt reuses it. Compact therefore copies the live data into a
// fresh file and swaps it in, without stopping the store for the copy:
//
//  1. While it runs, the writer records after every commit which parts of the
//     database the committed operations touched (units, see below).
//  2. A read transaction (a consistent snapshot) is copied key by key into a new
//     file next to the database, without fsync, in transactions of bounded size.
//  3. Catch-up rounds: the units touched since the last snapshot are made equal in
//     the new file to their state in a new snapshot, until few are left.
//  4. The new file is synced. The writer is paused between two transactions; the
//     last touched units are brought over, the new file is synced again, renamed over
//     the old one (atomic) and the directory is synced. Readers switch to the new file
//     (a read transaction that has begun keeps the old file open until it ends); the
//     writer resumes on the new file.
//
// Writes therefore wait only during step 4, which moves just what was written in the
// last round. A crash at any moment leaves the old file complete (the new one is not
// renamed yet; Open removes it) or the new one complete (it was synced before the
// rename).

// unit names a part of the database that an operation may change: a path of bucket
// names from the top level, whose last element is a key (a value or a nested bucket)
// in the bucket the rest of the path names. Encoded as a string of length-prefixed
// segments so that it can key a map.
type unit string

func mkUnit(parts ...[]byte) unit {
	n := 0
	for _, p := range parts {
		n += 1 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, byte(len(p)))
		b = append(b, p...)
	}
	return unit(b)
}

func (u unit) path() [][]byte {
	var parts [][]byte
	for i := 0; i < len(u); {
		n := int(u[i])
		parts = append(parts, []byte(u[i+1:i+1+n]))
		i += 1 + n
	}
	return parts
}

// CompactStats describes one compaction.
type CompactStats struct {
	SizeBefore, SizeAfter int64         // bytes of the database file
	Duration              time.Duration // the whole compaction
	Pause                 time.Duration // how long the writer was paused (writes waited)
	Rounds                int           // catch-up rounds before the pause
	Units                 int           // touched units brought over in the pause
}

// Compaction tuning.
const (
	compactTxBytes   = 4 << 20 // bytes copied per transaction (and per sync) into the new file
	compactMaxRounds = 8       // catch-up rounds before the pause at most
	compactFewUnits  = 256     // few enough touched units to bring over while paused
	compactSuffix    = ".compact"
	backupSuffix     = ".backup"
)

func compactPath(path string) string { return path + compactSuffix }
func backupPath(path string) string  { return path + backupSuffix }

// errCompactClosed: the store was closed while a compaction ran.
var errCompactClosed = ids.Wrap("compaction", ErrClosed)

// Compact rewrites the database file so that no bytes of deleted data remain in it
// (see the package comment and docs/STORAGE.md §10). The store stays usable: reads
// never wait, writes wait only for the final switch (CompactStats.Pause). It removes
// the bytes of everything deleted before it began; data deleted while it runs is
// left to the next compaction. Compactions run one at a time. If ctx ends or the
// store is closed before the switch, the new file is removed and the old one stays.
func (s *Store) Compact(ctx context.Context) (CompactStats, error) {
	start := time.Now()
	var st CompactStats
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	if s.closed.Load() {
		return st, ErrClosed
	}
	if fi, err := os.Stat(s.path); err == nil {
		st.SizeBefore = fi.Size()
	}
	src := s.db // only Compact replaces it, and we hold compactMu
	tmp := compactPath(s.path)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, ids.Wrap("compaction: remove old file", err)
	}

	s.track(true)
	defer s.track(false)

	dst, err := bolt.Open(tmp, 0o600, boltOptions(true))
	if err != nil {
		return st, ids.Wrap("compaction: create file", err)
	}
	swapped := false
	defer func() {
		if !swapped {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	alive := func() error {
		if s.closed.Load() {
			return errCompactClosed
		}
		return ctx.Err()
	}

	// 2. The snapshot (begun after tracking started, so every later commit is recorded).
	if err := copySnapshot(src, dst, !s.noSync, alive); err != nil {
		return st, ids.Wrap("compaction: copy", err)
	}
	// 3. Catch up while writes go on.
	for st.Rounds < compactMaxRounds {
		if err := alive(); err != nil {
			return st, err
		}
		units := s.takeDirty()
		st.Rounds++
		if err := syncUnits(src, dst, units); err != nil {
			return st, ids.Wrap("compaction: catch up", err)
		}
		if len(units) <= compactFewUnits {
			break
		}
	}
	if err := s.syncFile(dst); err != nil {
		return st, ids.Wrap("compaction: sync", err)
	}

	// 4. Pause the writer and switch.
	p := &pause{paused: make(chan struct{}), resume: make(chan struct{})}
	if err := s.enqueue(ctx, &op{ctx: ctx, pause: p}); err != nil {
		if errors.Is(err, ErrClosed) {
			return st, errCompactClosed
		}
		return st, err
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			close(p.resume)
		}
	}
	defer resume() // the writer must never stay paused
	select {
	case <-p.paused:
	case <-ctx.Done():
		return st, ctx.Err()
	}
	pauseStart := time.Now()
	units := s.takeDirty()
	st.Units = len(units)
	if err := syncUnits(src, dst, units); err != nil {
		return st, ids.Wrap("compaction: final catch up", err)
	}
	if err := s.syncFile(dst); err != nil {
		return st, ids.Wrap("compaction: sync", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return st, ids.Wrap("compaction: rename", err)
	}
	// From here on the new file is the database: switch even if syncing the
	// directory fails (the old file is no longer reachable by its name).
	dirErr := error(nil)
	if !s.noSync {
		dirErr = syncDir(filepath.Dir(s.path))
	}
	dst.NoSync = s.noSync
	s.dbMu.Lock()
	s.db = dst
	s.dbMu.Unlock()
	swapped = true
	resume()
	st.Pause = time.Since(pauseStart)

	// Read transactions still open on the old file finish first.
	closeErr := src.Close()
	if fi, err := os.Stat(s.path); err == nil {
		st.SizeAfter = fi.Size()
	}
	st.Duration = time.Since(start)
	if dirErr != nil {
		return st, ids.Wrap("compaction: sync directory", dirErr)
	}
	return st, ids.Wrap("compaction: close old file", closeErr)
}

// syncFile writes the new file to disk, unless the store runs without fsync.
func (s *Store) syncFile(db *bolt.DB) error {
	if s.noSync {
		return nil
	}
	return db.Sync()
}

// track turns recording of touched units on (with an empty set) or off.
func (s *Store) track(on bool) {
	s.dirtyMu.Lock()
	s.tracking = on
	s.dirty = nil
	if on {
		s.dirty = map[unit]bool{}
	}
	s.dirtyMu.Unlock()
}

// takeDirty returns the units touched since the last call and starts a new set.
func (s *Store) takeDirty() []unit {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	list := make([]unit, 0, len(s.dirty))
	for u := range s.dirty {
		list = append(list, u)
	}
	s.dirty = map[unit]bool{}
	return list
}

// copySnapshot copies everything visible in one read transaction of src into the
// empty database dst, committing (and with sync, syncing) every compactTxBytes.
// alive is checked now and then; its error stops the copy.
func copySnapshot(src, dst *bolt.DB, sync bool, alive func() error) error {
	stx, err := src.Begin(false)
	if err != nil {
		return err
	}
	defer stx.Rollback()
	return copyTx(stx, dst, sync, alive)
}

// copyTx copies everything visible in stx into the empty database dst (see
// copySnapshot).
func copyTx(stx *bolt.Tx, dst *bolt.DB, sync bool, alive func() error) error {
	var err error
	c := &copier{dst: dst, sync: sync, alive: alive}
	if c.tx, err = dst.Begin(true); err != nil {
		return err
	}
	defer func() {
		if c.tx != nil {
			c.tx.Rollback()
		}
	}()
	err = stx.ForEach(func(name []byte, b *bolt.Bucket) error {
		return c.bucket([][]byte{name}, b)
	})
	if err != nil {
		return err
	}
	return c.tx.Commit()
}

type copier struct {
	dst   *bolt.DB
	sync  bool
	tx    *bolt.Tx
	size  int
	alive func() error
}

// target returns the bucket at path in the current destination transaction,
// creating the last element.
func (c *copier) target(path [][]byte, create bool) (*bolt.Bucket, error) {
	var b *bolt.Bucket
	for i, name := range path {
		var next *bolt.Bucket
		if i == 0 {
			next = c.tx.Bucket(name)
		} else {
			next = b.Bucket(name)
		}
		if next == nil {
			if !create || i != len(path)-1 {
				return nil, ids.Wrap("compaction: bucket vanished", ErrCorrupt)
			}
			var err error
			if i == 0 {
				next, err = c.tx.CreateBucket(name)
			} else {
				next, err = b.CreateBucket(name)
			}
			if err != nil {
				return nil, err
			}
		}
		b = next
	}
	b.FillPercent = 1.0 // keys arrive in order: fill the pages
	return b, nil
}

// grow accounts for n bytes and starts a new transaction when enough have been
// written in the current one.
func (c *copier) grow(n int) error {
	c.size += n
	if c.size < compactTxBytes {
		return nil
	}
	if err := c.alive(); err != nil {
		return err
	}
	if err := c.tx.Commit(); err != nil {
		return err
	}
	// Write back as we go: one large flush at the end would hold up the store's
	// own fsyncs behind it (measured: p99 append latency during a compaction of
	// 50 MB 26 ms instead of 37–64 ms).
	if c.sync {
		if err := c.dst.Sync(); err != nil {
			return err
		}
	}
	tx, err := c.dst.Begin(true)
	if err != nil {
		c.tx = nil
		return err
	}
	c.tx, c.size = tx, 0
	return nil
}

// bucket copies the source bucket b to path in the destination.
func (c *copier) bucket(path [][]byte, b *bolt.Bucket) error {
	d, err := c.target(path, true)
	if err != nil {
		return err
	}
	if err := d.SetSequence(b.Sequence()); err != nil {
		return err
	}
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v == nil {
			if err := c.bucket(append(path[:len(path):len(path)], k), b.Bucket(k)); err != nil {
				return err
			}
		} else {
			if err := c.grow(len(k) + len(v)); err != nil {
				return err
			}
			if d, err = c.target(path, false); err != nil { // the transaction may be new
				return err
			}
			if err := d.Put(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncUnits makes each unit in dst equal to its state in a new read transaction of
// src, in one destination transaction.
func syncUnits(src, dst *bolt.DB, units []unit) error {
	if len(units) == 0 {
		return nil
	}
	stx, err := src.Begin(false)
	if err != nil {
		return err
	}
	defer stx.Rollback()
	dtx, err := dst.Begin(true)
	if err != nil {
		return err
	}
	defer dtx.Rollback()
	for _, u := range units {
		if err := syncUnit(stx, dtx, u.path()); err != nil {
			return err
		}
	}
	return dtx.Commit()
}

// syncUnit makes the key at path (≥ 2 elements, the first a top-level bucket) in
// dtx equal to stx: if a bucket on the way is missing in the source, the subtree
// from there is removed in the destination.
func syncUnit(stx, dtx *bolt.Tx, path [][]byte) error {
	if len(path) < 2 {
		return ids.Wrap("compaction: short unit", ErrCorrupt)
	}
	sb, db := stx.Bucket(path[0]), dtx.Bucket(path[0])
	if sb == nil || db == nil {
		return ids.Wrap("compaction: top-level bucket missing", ErrCorrupt)
	}
	for _, name := range path[1 : len(path)-1] {
		next := sb.Bucket(name)
		if next == nil {
			return syncKey(sb, db, name)
		}
		dnext := db.Bucket(name)
		if dnext == nil {
			if db.Get(name) != nil {
				if err := db.Delete(name); err != nil {
					return err
				}
			}
			var err error
			if dnext, err = db.CreateBucket(name); err != nil {
				return err
			}
			if err := dnext.SetSequence(next.Sequence()); err != nil {
				return err
			}
		}
		sb, db = next, dnext
	}
	return syncKey(sb, db, path[len(path)-1])
}

// lookup finds k in b: exists, and whether it is a nested bucket.
func lookup(b *bolt.Bucket, k []byte) (v []byte, exists, isBucket bool) {
	ck, cv := b.Cursor().Seek(k)
	if ck == nil || !bytes.Equal(ck, k) {
		return nil, false, false
	}
	return cv, true, cv == nil
}

// syncKey makes key k of d equal to key k of s (value, nested bucket or absent).
func syncKey(s, d *bolt.Bucket, k []byte) error {
	sv, sOK, sIsB := lookup(s, k)
	dv, dOK, dIsB := lookup(d, k)
	if dOK && (!sOK || dIsB != sIsB) {
		var err error
		if dIsB {
			err = d.DeleteBucket(k)
		} else {
			err = d.Delete(k)
		}
		if err != nil {
			return err
		}
		dOK = false
	}
	switch {
	case !sOK:
		return nil
	case !sIsB:
		if dOK && bytes.Equal(dv, sv) {
			return nil
		}
		return d.Put(k, sv) // sv stays valid: the source transaction is open until the commit
	}
	sb := s.Bucket(k)
	db := d.Bucket(k)
	if db == nil {
		var err error
		if db, err = d.CreateBucket(k); err != nil {
			return err
		}
	}
	if err := db.SetSequence(sb.Sequence()); err != nil {
		return err
	}
	return syncBucket(sb, db)
}

// syncBucket makes the contents of d equal to those of s.
func syncBucket(s, d *bolt.Bucket) error {
	// Collect the differences first: changing a bucket while a cursor walks it is
	// not safe in bbolt.
	var keys [][]byte
	sc, dc := s.Cursor(), d.Cursor()
	sk, sv := sc.First()
	dk, dv := dc.First()
	for sk != nil || dk != nil {
		switch c := cmpKeys(sk, dk); {
		case c < 0: // only in s
			keys = append(keys, bytes.Clone(sk))
			sk, sv = sc.Next()
		case c > 0: // only in d
			keys = append(keys, bytes.Clone(dk))
			dk, dv = dc.Next()
		default:
			if sv == nil || dv == nil || !bytes.Equal(sv, dv) {
				keys = append(keys, bytes.Clone(sk))
			}
			sk, sv = sc.Next()
			dk, dv = dc.Next()
		}
	}
	for _, k := range keys {
		if err := syncKey(s, d, k); err != nil {
			return err
		}
	}
	return nil
}

// cmpKeys orders keys, with nil (the end) after every key.
func cmpKeys(a, b []byte) int {
	switch {
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return bytes.Compare(a, b)
}
