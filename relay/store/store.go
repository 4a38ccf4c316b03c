// Package store is the relay's embedded database: sites, rosters, bot flows,
// conversations with their envelopes and consent receipts, in one bbolt file. The
// layout is specified in docs/STORAGE.md.
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
	db       *bolt.DB
	now      func() time.Time
	maxConvs uint64
	maxEnvs  uint64

	mu      sync.RWMutex // guards closing ops against sends
	closed  atomic.Bool
	ops     chan *op
	drained chan struct{} // closed when the writer has finished
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
	bo := &bolt.Options{
		Timeout:        openTimeout,
		NoSync:         o.NoSync,
		NoFreelistSync: true, // rebuilt on open; saves a page write per commit
		FreelistType:   bolt.FreelistMapType,
	}
	if strconv.IntSize == 64 {
		bo.InitialMmapSize = mmapSize
	}
	db, err := bolt.Open(o.Path, 0o600, bo)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, ids.Wrap("open store "+o.Path, ErrLocked)
		}
		return nil, ids.Wrap("open store "+o.Path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, migrations) }); err != nil {
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
		now:      o.Now,
		maxConvs: limit(o.MaxConversationsPerSite, DefaultMaxConversationsPerSite),
		maxEnvs:  limit(o.MaxEnvelopesPerConversation, DefaultMaxEnvelopesPerConversation),
		ops:      make(chan *op, queueSize),
		drained:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	go s.writer()
	return s, nil
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

// Close lets the writer commit everything already queued, then closes the file.
// Afterwards every method returns ErrClosed. Closing twice is harmless.
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
	return s.db.Close()
}

// ---- commit queue ----

// op is one queued write. fn runs inside the batch transaction; it must make no
// writes when it returns an error other than a *writeError, and report failed
// writes as a *writeError (see put and friends). fn may run more than once (when
// another operation's write fails, the transaction is retried without it), so it
// must set its results anew on every run.
type op struct {
	ctx  context.Context
	fn   func(tx *bolt.Tx) error
	done chan error // buffered 1: the writer never waits for a caller
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

// exec queues fn and waits for the commit of its transaction.
func (s *Store) exec(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
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

// writer is the only goroutine that writes. It ends when ops is closed and empty.
func (s *Store) writer() {
	defer close(s.drained)
	batch := make([]*op, 0, maxBatch)
	for first := range s.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
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

// view runs a read-only transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Coarse times (Promise 8): conversations keep the hour they were created, envelopes
// the minute they were stored.
func (s *Store) hour() int64   { return floor(s.now().Unix(), 3600) }
func (s *Store) minute() int64 { return floor(s.now().Unix(), 60) }

func floor(t, unit int64) int64 {
	if t < 0 {
		return 0
	}
	return t - t%unit
}
