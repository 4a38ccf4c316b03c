// Package sweeper enforces retention and erasure on the relay's store: it erases
// the conversations whose site's retention period has passed (through the same
// erasure path as a visitor's or an agent's request), and after every erasure or
// correction — by anyone — it compacts the database within a bounded time, so that
// no byte of deleted data remains in the database file (docs/STORAGE.md §10,
// docs/PRIVACY.md).
//
// The sweeper logs counts, sizes and durations only: never an ID, a key or content.
package sweeper

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"siegel/relay/store"
	"siegel/shared/ids"
)

// Store is what the sweeper needs of the store; *store.Store implements it.
type Store interface {
	Sites() ([]store.Site, error)
	Expired(site ids.SiteID, lastActivityBefore time.Time) ([]ids.ConvID, error)
	// EraseExpired erases a conversation for retention if it is still expired.
	EraseExpired(ctx context.Context, site ids.SiteID, conv ids.ConvID, lastActivityBefore time.Time) (bool, error)
	Compact(ctx context.Context) (store.CompactStats, error)
	// Deletions is signalled after every committed erasure or correction.
	Deletions() <-chan struct{}
}

// Defaults.
const (
	DefaultInterval      = time.Minute
	DefaultCompactWithin = 60 * time.Second
	// eraseWorkers erasures run at once, so that the store's group commit takes
	// them in few transactions.
	eraseWorkers = 32
)

// Sweeper runs retention and compaction. Set the fields before Run; zero values
// take the defaults.
type Sweeper struct {
	Store
	// Now is the clock for retention (default time.Now).
	Now func() time.Time
	// Interval between two retention sweeps (default 1 min).
	Interval time.Duration
	// CompactWithin bounds the time from a deletion to the end of the compaction
	// that removes its bytes (default 60 s). The sweeper waits a quarter of it to
	// gather deletions into one compaction; the bound holds while a compaction takes
	// less than three eighths of it (a slower one is logged as a warning).
	CompactWithin time.Duration
	// Log receives counts and durations (default: discarded).
	Log *slog.Logger
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run sweeps once at the start and then every Interval, and compacts after
// deletions, until ctx ends. Failures are logged and retried at the next tick.
func (s *Sweeper) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.compactor(ctx)
	}()
	defer wg.Wait()
	tick := time.NewTicker(orDefault(s.Interval, DefaultInterval))
	defer tick.Stop()
	for {
		n, err := s.SweepOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log().Error("retention sweep failed", "erased", n, "err", err)
		case n > 0:
			s.log().Info("retention sweep", "erased", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// compactor compacts after deletions: the first deletion after a compaction starts
// a wait of a quarter of CompactWithin (to gather more), then one compaction
// removes all of them. A failed compaction is retried after the same wait.
func (s *Sweeper) compactor(ctx context.Context) {
	within := orDefault(s.CompactWithin, DefaultCompactWithin)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Deletions():
		}
		for {
			t := time.NewTimer(within / 4)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			st, err := s.Compact(ctx)
			if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
				return
			}
			if err != nil {
				s.log().Error("compaction failed; retrying", "err", err)
				continue
			}
			lvl := slog.LevelInfo
			if st.Duration > within/4 {
				lvl = slog.LevelWarn // the bound may not hold with compactions this slow
			}
			s.log().Log(ctx, lvl, "compacted", "bytes_before", st.SizeBefore, "bytes_after", st.SizeAfter,
				"duration", st.Duration, "writes_paused", st.Pause)
			break
		}
	}
}

// SweepOnce erases, for every site, the conversations whose last activity is older
// than the site's retention period (store.Site.Retention), with reason
// store.EraseRetention, and returns how many it erased. A conversation erased
// meanwhile by someone else, or active again, is skipped. It goes on after a
// failure and returns the failures joined.
func (s *Sweeper) SweepOnce(ctx context.Context) (int, error) {
	sites, err := s.Sites()
	if err != nil {
		return 0, err
	}
	now := s.now()
	var errs []error
	erased := 0
	for _, site := range sites {
		if err := ctx.Err(); err != nil {
			return erased, err
		}
		before := now.Add(-site.Retention())
		list, err := s.Expired(site.ID, before)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) { // the site is gone
				errs = append(errs, err)
			}
			continue
		}
		n, err := s.erase(ctx, site.ID, list, before)
		erased += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return erased, errors.Join(errs...)
}

// erase erases the conversations of one site that are still expired, several at
// a time.
func (s *Sweeper) erase(ctx context.Context, site ids.SiteID, list []ids.ConvID, before time.Time) (int, error) {
	var mu sync.Mutex
	var errs []error
	erased := 0
	next := make(chan ids.ConvID)
	var wg sync.WaitGroup
	for range min(eraseWorkers, len(list)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for conv := range next {
				ok, err := s.EraseExpired(ctx, site, conv, before)
				mu.Lock()
				if ok {
					erased++
				}
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, conv := range list {
		select {
		case next <- conv:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		// One is enough: they are the same kind of failure, and carry no IDs.
		return erased, errs[0]
	}
	return erased, ctx.Err()
}
