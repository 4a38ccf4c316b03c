// Package store is the relay's embedded database: sites, rosters, bot flows,
// conversations with their envelopes and consent receipts, request counters,
// tombstones and the erasure audit log, in one bbolt file. The layout is specified
// in docs/STORAGE.md.
//
// Every write goes through one commit queue: a single writer goroutine takes all
// operations that are waiting (up to maxBatch), runs them in one bbolt transaction,
// syncs it to disk once and only then answers each caller with its own result (group
// commit). A write method therefore returns only after its change is durable. Each
// operation checks everything before it writes and writes nothing when it fails, so a
// refused operation never affects the others in its transaction. Reads use their own
// read-only transactions and never wait for the queue.
//
// Context cancellation: a write whose context ends while it waits for its transaction
// returns ctx.Err(). It may still be committed (if its transaction had already begun);
// callers that need to know must read the state again.
//
// Erasure (Erase, Correct) frees the pages of the deleted data, but bbolt is
// copy-on-write: freed pages keep their old bytes until they are reused. Compact
// rewrites the live data into a fresh file and swaps it in while the store stays in
// use, so that no byte of deleted data remains in the database file.
package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"siegel/shared/ids"
)

// Errors. Use errors.Is: returned errors carry context.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrExists      = errors.New("store: site exists with another owner key")
	ErrStale       = errors.New("store: roster version not newer than the stored one")
	ErrKeyMismatch = errors.New("store: conversation belongs to another visitor key")
	ErrSequence    = errors.New("store: sequence number out of order")
	ErrLimit       = errors.New("store: limit reached")
	ErrClosed      = errors.New("store: closed")

	// ErrInvalid: an argument that cannot be stored (empty envelope, bad site field).
	ErrInvalid = errors.New("store: invalid value")
	// ErrSchema: the database was written by a newer program, or is not a store.
	ErrSchema = errors.New("store: unsupported database schema")
	// ErrLocked: another process holds the database file open.
	ErrLocked = errors.New("store: database file is in use by another process")
	// ErrCorrupt: a record or an invariant of the layout is broken.
	ErrCorrupt = errors.New("store: database corrupt")

	// ErrReplay: a request counter not greater than the last one stored for its
	// signer and site (docs/PROTOCOL.md §6.5).
	ErrReplay = errors.New("store: request counter not greater than the last one (replay)")
	// ErrGone: the conversation was erased; it cannot be created again.
	ErrGone = errors.New("store: conversation was erased")
)

// Defaults for Options.
const (
	DefaultMaxConversationsPerSite     = 100000
	DefaultMaxEnvelopesPerConversation = 10000
)

const (
	maxBatch    = 512             // operations per transaction
	queueSize   = 1024            // operations waiting for the writer
	openTimeout = 2 * time.Second // waiting for the file lock
	mmapSize    = 256 << 20       // initial mmap on 64-bit: fewer remaps, writers rarely wait for readers
)

// Options configures a Store.
type Options struct {
	Path string // database file; created with mode 0600 if missing
	// NoSync skips fsync on commit. Only for benchmarks: a crash of the machine may then
	// lose acknowledged writes or corrupt the file.
	NoSync bool
	// Now is the clock (default time.Now). It is called by the writer goroutine.
	Now func() time.Time
	// Limits; zero or negative means the default.
	MaxConversationsPerSite, MaxEnvelopesPerConversation int
}

// Store is an open database. Its methods are safe for concurrent use.
type Store struct {
	// db is the open file. Compact replaces it while the writer is paused; readers
	// take dbMu only to pick the handle and begin their transaction (a begun read
	// transaction keeps its file open: bbolt's Close waits for it).
	db       *bolt.DB
	dbMu     sync.RWMutex
	path     string
	noSync   bool
	now      func() time.Time
	maxConvs uint64
	maxEnvs  uint64
	tombKey  [32]byte // HMAC key of the tombstones (meta "tombkey")

	mu      sync.RWMutex // guards closing ops against sends
	closed  atomic.Bool
	ops     chan *op
	drained chan struct{} // closed when the writer has finished

	deleted chan struct{} // buffered 1: signalled after an erasure or correction

	compactMu sync.Mutex // one compaction at a time; Close waits for it
	backupMu  sync.Mutex // one backup at a time (they share a temporary file)
	dirtyMu   sync.Mutex
	tracking  bool          // a compaction is running: record what commits touch
	dirty     map[unit]bool // touched since the compaction's last snapshot
}

// Open opens or creates the database at o.Path, applies pending migrations in one
// transaction and starts the writer. A database with a newer schema than this
// program knows is refused with ErrSchema; a file locked by another process with
// ErrLocked (after a short wait).
func Open(o Options) (*Store, error) {
	if o.Path == "" {
		return nil, ids.Wrap("open store: empty path", ErrInvalid)
	}
	_, statErr := os.Stat(o.Path)
	isNew := errors.Is(statErr, os.ErrNotExist)
	db, err := bolt.Open(o.Path, 0o600, boltOptions(o.NoSync))
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, ids.Wrap("open store "+o.Path, ErrLocked)
		}
		return nil, ids.Wrap("open store "+o.Path, err)
	}
	// We hold the lock: a compaction or backup file left by a crash is stale (the
	// database file is complete without it) and may hold bytes of erased data.
	for _, stale := range []string{compactPath(o.Path), backupPath(o.Path)} {
		if err := os.Remove(stale); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.Close()
			return nil, ids.Wrap("open store: remove stale file", err)
		}
	}
	var tombKey [32]byte
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx, migrations); err != nil {
			return err
		}
		k, err := decodeTombKey(tx.Bucket(bucketMeta).Get(keyTombKey))
		tombKey = k
		return err
	})
	if err != nil {
		db.Close()
		return nil, ids.Wrap("open store "+o.Path, err)
	}
	if isNew && !o.NoSync {
		// Make the new file's directory entry durable as well.
		if err := syncDir(filepath.Dir(o.Path)); err != nil {
			db.Close()
			return nil, ids.Wrap("open store: sync directory", err)
		}
	}
	s := &Store{
		db:       db,
		path:     o.Path,
		noSync:   o.NoSync,
		now:      o.Now,
		maxConvs: limit(o.MaxConversationsPerSite, DefaultMaxConversationsPerSite),
		maxEnvs:  limit(o.MaxEnvelopesPerConversation, DefaultMaxEnvelopesPerConversation),
		tombKey:  tombKey,
		ops:      make(chan *op, queueSize),
		drained:  make(chan struct{}),
		deleted:  make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	go s.writer()
	return s, nil
}

// boltOptions are the options of the database file (and of a compaction's new file).
func boltOptions(noSync bool) *bolt.Options {
	bo := &bolt.Options{
		Timeout:        openTimeout,
		NoSync:         noSync,
		NoFreelistSync: true, // rebuilt on open; saves a page write per commit
		FreelistType:   bolt.FreelistMapType,
	}
	if strconv.IntSize == 64 {
		bo.InitialMmapSize = mmapSize
	}
	return bo
}

func limit(v, def int) uint64 {
	if v <= 0 {
		return uint64(def)
	}
	return uint64(v)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close lets the writer commit everything already queued, waits for a running
// compaction to finish or give up, then closes the file. Afterwards every method
// returns ErrClosed. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		<-s.drained
		return nil
	}
	s.closed.Store(true)
	close(s.ops)
	s.mu.Unlock()
	<-s.drained
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	return s.db.Close()
}

// Deletions is signalled (without blocking the store) after the commit of every
// erasure or correction, so that a sweeper can schedule a compaction. The channel
// holds at most one signal; it is meant for one reader.
func (s *Store) Deletions() <-chan struct{} { return s.deleted }

// ---- commit queue ----

// op is one queued write. fn runs inside the batch transaction; it must make no
// writes when it returns an error other than a *writeError, and report failed
// writes as a *writeError (see put and friends). fn may run more than once (when
// another operation's write fails, the transaction is retried without it), so it
// must set its results anew on every run.
//
// units names every part of the database fn may have changed (see unit); it is
// called by the writer after the commit, only while a compaction runs, and may read
// what fn recorded. deletes marks an erasure or correction (signalled on Deletions).
type op struct {
	ctx     context.Context
	fn      func(tx *bolt.Tx) error
	units   func() []unit
	deletes bool
	done    chan error // buffered 1: the writer never waits for a caller

	pause *pause // set: not a write but a request to pause the writer (Compact)
}

// pause stops the writer between two transactions: it closes paused and waits for
// resume to be closed.
type pause struct {
	paused, resume chan struct{}
}

// writeError is a failed bbolt write inside an op: the transaction holds a partial
// change and must be rolled back.
type writeError struct{ err error }

func (e *writeError) Error() string { return "store write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func put(b *bolt.Bucket, k, v []byte) error {
	if err := b.Put(k, v); err != nil {
		return &writeError{err}
	}
	return nil
}

func createBucket(b *bolt.Bucket, name []byte) (*bolt.Bucket, error) {
	c, err := b.CreateBucket(name)
	if err != nil {
		return nil, &writeError{err}
	}
	return c, nil
}

// exec queues fn and waits for the commit of its transaction. units names what fn
// may change (see op).
func (s *Store) exec(ctx context.Context, fn func(tx *bolt.Tx) error, units func() []unit) error {
	return s.run(ctx, &op{ctx: ctx, fn: fn, units: units, done: make(chan error, 1)})
}

// run queues o and waits for the commit of its transaction.
func (s *Store) run(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enqueue(ctx, o); err != nil {
		return err
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		select {
		case err := <-o.done: // finished meanwhile: report the real result
			return err
		default:
			return ctx.Err()
		}
	}
}

// enqueue puts o into the queue unless the store is closed or ctx ends first.
func (s *Store) enqueue(ctx context.Context, o *op) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	select {
	case s.ops <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the only goroutine that writes. It ends when ops is closed and empty.
func (s *Store) writer() {
	defer close(s.drained)
	batch := make([]*op, 0, maxBatch)
	for first := range s.ops {
		batch = batch[:0]
		p := first.pause
		if p == nil {
			batch = append(batch, first)
		}
	fill:
		for p == nil && len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				if o.pause != nil {
					p = o.pause // after this batch
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			s.commit(batch)
			clear(batch)
		}
		if p != nil {
			close(p.paused)
			<-p.resume
		}
	}
}

// commit runs the batch in one transaction and answers every op.
func (s *Store) commit(batch []*op) {
	pending := make([]*op, 0, len(batch))
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.done <- err // not started: certainly not committed
			continue
		}
		pending = append(pending, o)
	}
	results := make([]error, len(pending))
	for len(pending) > 0 {
		failed, failErr := -1, error(nil)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, o := range pending {
				err := o.fn(tx)
				var we *writeError
				if errors.As(err, &we) {
					failed, failErr = i, err
					return err
				}
				results[i] = err
			}
			return nil
		})
		if err == nil {
			s.committed(pending, results)
			for i, o := range pending {
				o.done <- results[i]
			}
			return
		}
		if failed < 0 { // begin or commit failed: nothing of the batch is stored
			err = ids.Wrap("store commit", err)
			for _, o := range pending {
				o.done <- err
			}
			return
		}
		// One op's write failed and left a partial change: drop it, retry the rest.
		pending[failed].done <- failErr
		pending = append(pending[:failed:failed], pending[failed+1:]...)
		results = results[:len(pending)]
	}
}

// committed runs after a successful commit, before the callers are answered: it
// records what the transaction touched while a compaction runs, and signals
// deletions.
func (s *Store) committed(ops []*op, results []error) {
	deleted := false
	for i, o := range ops {
		if o.deletes && results[i] == nil {
			deleted = true
		}
	}
	s.dirtyMu.Lock()
	if s.tracking {
		for _, o := range ops { // refused ops wrote nothing; recording them is harmless
			if o.units != nil {
				for _, u := range o.units() {
					s.dirty[u] = true
				}
			}
		}
	}
	s.dirtyMu.Unlock()
	if deleted {
		select {
		case s.deleted <- struct{}{}:
		default:
		}
	}
}

// view runs a read-only transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.dbMu.RLock()
	tx, err := s.db.Begin(false)
	s.dbMu.RUnlock()
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return ErrClosed
		}
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Coarse times (Promise 8): conversations keep the hour they were created, envelopes
// the minute they were stored.
func (s *Store) hour() int64   { return floor(s.now().Unix(), 3600) }
func (s *Store) minute() int64 { return floor(s.now().Unix(), 60) }
func (s *Store) day() int64    { return floor(s.now().Unix(), 86400) }

func floor(t, unit int64) int64 {
	if t < 0 {
		return 0
	}
	return t - t%unit
}
