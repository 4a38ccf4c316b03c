package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// EraseReason says who erased a conversation. It is kept in the audit log.
type EraseReason uint8

// Erase reasons.
const (
	EraseVisitor   EraseReason = 1 // the visitor, with a signed request
	EraseAgent     EraseReason = 2 // an agent of the site, with a signed request
	EraseRetention EraseReason = 3 // the sweeper: the site's retention period passed
)

func (r EraseReason) valid() bool { return r >= EraseVisitor && r <= EraseRetention }

// String returns the reason's name.
func (r EraseReason) String() string {
	switch r {
	case EraseVisitor:
		return "visitor"
	case EraseAgent:
		return "agent"
	case EraseRetention:
		return "retention"
	}
	return "unknown"
}

// Authorization is the signed-request part of an action (docs/PROTOCOL.md §6.5):
// the key that signed it and its counter. The counter must be greater than the
// last counter stored for the signer on the site (else ErrReplay); the store keeps
// the new counter in the same transaction as the action.
type Authorization struct {
	Signer  ids.Key
	Counter uint64
}

// AuditEntry records one erasure without personal data: no conversation ID, no
// key, no content; the time only as the day.
type AuditEntry struct {
	Day    int64 // Unix seconds of the start of the UTC day of the erasure
	Site   ids.SiteID
	Reason EraseReason
}

// DefaultRetentionDays is the retention period of a site whose RetentionDays is 0.
const DefaultRetentionDays = 30

// Retention is the site's retention period: RetentionDays days, or
// DefaultRetentionDays when RetentionDays is 0.
func (s Site) Retention() time.Duration {
	d := s.RetentionDays
	if d <= 0 {
		d = DefaultRetentionDays
	}
	return time.Duration(d) * 24 * time.Hour
}

// tombstone is the key of a conversation's tombstone: HMAC-SHA256 under the
// database's tombstone key of site ‖ conversation. Without the key it does not
// reveal the conversation ID, and it cannot be linked to one.
func (s *Store) tombstone(site ids.SiteID, conv ids.ConvID) []byte {
	m := hmac.New(sha256.New, s.tombKey[:])
	m.Write(site[:])
	m.Write(conv[:])
	return m.Sum(nil)
}

// checkCounter returns ErrReplay unless a.Counter is greater than the counter
// stored for a.Signer on the site (0 when none).
func checkCounter(tx *bolt.Tx, site []byte, a *Authorization) error {
	rb := tx.Bucket(bucketRequests).Bucket(site)
	if rb == nil {
		if a.Counter == 0 {
			return ErrReplay
		}
		return nil
	}
	var last uint64
	if v := rb.Get(a.Signer[:]); v != nil {
		var err error
		if last, err = decodeCounter(v, "request counter"); err != nil {
			return err
		}
	}
	if a.Counter <= last {
		return ErrReplay
	}
	return nil
}

// putCounter stores a.Counter for a.Signer on the site (only writes).
func putCounter(tx *bolt.Tx, site []byte, a *Authorization) error {
	rb, err := tx.Bucket(bucketRequests).CreateBucketIfNotExists(site)
	if err != nil {
		return &writeError{err}
	}
	return put(rb, slices.Clone(a.Signer[:]), encodeCounter(a.Counter))
}

// Erase removes a conversation — its envelopes, consent receipts, sender records
// and meta record — together with the request counter of its visitor key, lowers
// the site's counters, stores a tombstone (so that the conversation cannot be
// created again: EnsureConversation gives ErrGone) and appends an audit entry, all
// in one durable transaction. For EraseVisitor and EraseAgent, auth is required
// and its counter is checked and stored in the same transaction (ErrReplay); for
// EraseRetention it may be nil. An unknown (or already erased) conversation gives
// ErrNotFound. The store does not check who may erase what: the caller has
// verified the request. The erased bytes stay in free pages of the file until the
// next Compact.
func (s *Store) Erase(ctx context.Context, site ids.SiteID, conv ids.ConvID, reason EraseReason, auth *Authorization) error {
	return s.erase(ctx, site, conv, reason, auth, nil)
}

// errActive: EraseExpired found the conversation active again.
var errActive = errors.New("store: conversation active again")

// EraseExpired erases a conversation for retention (reason EraseRetention) like
// Erase, but only if its last activity (see Expired) is still before the given time
// when the erasure commits: a conversation that became active since it was listed
// is kept (erased false). A conversation that does not exist (any more) gives
// erased false and no error.
func (s *Store) EraseExpired(ctx context.Context, site ids.SiteID, conv ids.ConvID, lastActivityBefore time.Time) (bool, error) {
	before := lastActivityBefore.Unix()
	err := s.erase(ctx, site, conv, EraseRetention, nil, &before)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errActive), errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// erase is Erase; with before set, only a conversation whose last activity is
// before that Unix time is erased (errActive otherwise).
func (s *Store) erase(ctx context.Context, site ids.SiteID, conv ids.ConvID, reason EraseReason, auth *Authorization, before *int64) error {
	if !reason.valid() {
		return ids.Wrap("erase reason", ErrInvalid)
	}
	if auth == nil && reason != EraseRetention {
		return ids.Wrap("erase without authorization", ErrInvalid)
	}
	var a *Authorization
	if auth != nil {
		c := *auth
		a = &c
	}
	tomb := s.tombstone(site, conv)
	siteKey := slices.Clone(site[:])
	convKey := slices.Clone(conv[:])
	var visitor ids.Key
	var auditKey []byte
	fn := func(tx *bolt.Tx) error {
		visitor, auditKey = ids.Key{}, nil
		sb := tx.Bucket(bucketConvs).Bucket(siteKey)
		var cb *bolt.Bucket
		if sb != nil {
			cb = sb.Bucket(convKey)
		}
		if cb == nil {
			return ErrNotFound
		}
		m, err := readConvMeta(cb)
		if err != nil {
			return err
		}
		if before != nil {
			last, err := lastActivity(cb)
			if err != nil {
				return err
			}
			if last >= *before {
				return errActive
			}
		}
		if a != nil {
			if err := checkCounter(tx, siteKey, a); err != nil {
				return err
			}
		}
		var replaced uint64
		if rb := cb.Bucket(bucketReplaced); rb != nil {
			replaced = uint64(countKeys(rb))
		}
		cnt, err := readCounters(tx, siteKey)
		if err != nil {
			return err
		}
		if cnt.Conversations == 0 || replaced > m.LastPos || cnt.Envelopes < m.LastPos-replaced {
			return ids.Wrap("counters below the erased conversation", ErrCorrupt)
		}
		cnt.Conversations--
		cnt.Envelopes -= m.LastPos - replaced
		next := uint64(1)
		if ab := tx.Bucket(bucketAudit).Bucket(siteKey); ab != nil {
			if k, _ := ab.Cursor().Last(); k != nil {
				last, err := decodePosKey(k)
				if err != nil {
					return err
				}
				next = last + 1
			}
		}
		day := s.day()

		// Checks done; from here on only writes.
		if err := sb.DeleteBucket(convKey); err != nil {
			return &writeError{err}
		}
		if err := put(tx.Bucket(bucketCounters), siteKey, encodeCounters(cnt)); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketTombs), tomb, tombValue); err != nil {
			return err
		}
		ab, err := tx.Bucket(bucketAudit).CreateBucketIfNotExists(siteKey)
		if err != nil {
			return &writeError{err}
		}
		auditKey = posKey(next)
		if err := put(ab, auditKey, encodeAudit(reason, day)); err != nil {
			return err
		}
		// The visitor's request counter belongs to the conversation; an agent's
		// counter is kept.
		if a != nil && a.Signer != m.Visitor {
			if err := putCounter(tx, siteKey, a); err != nil {
				return err
			}
		}
		if rb := tx.Bucket(bucketRequests).Bucket(siteKey); rb != nil {
			if err := rb.Delete(m.Visitor[:]); err != nil {
				return &writeError{err}
			}
		}
		visitor = m.Visitor
		return nil
	}
	units := func() []unit {
		u := []unit{
			mkUnit(bucketConvs, siteKey, convKey),
			mkUnit(bucketCounters, siteKey),
			mkUnit(bucketTombs, tomb),
			mkUnit(bucketRequests, siteKey, visitor[:]),
		}
		if auditKey != nil {
			u = append(u, mkUnit(bucketAudit, siteKey, auditKey))
		}
		if a != nil {
			u = append(u, mkUnit(bucketRequests, siteKey, a.Signer[:]))
		}
		return u
	}
	return s.run(ctx, &op{ctx: ctx, fn: fn, units: units, deletes: true, done: make(chan error, 1)})
}

// Tombstoned reports whether the conversation was erased.
func (s *Store) Tombstoned(site ids.SiteID, conv ids.ConvID) (bool, error) {
	tomb := s.tombstone(site, conv)
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketTombs).Get(tomb) != nil
		return nil
	})
	return found, err
}

// Audit returns the audit entries of a site, oldest first (nil if none).
func (s *Store) Audit(site ids.SiteID) ([]AuditEntry, error) {
	var list []AuditEntry
	err := s.view(func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAudit).Bucket(site[:])
		if ab == nil {
			return nil
		}
		return ab.ForEach(func(k, v []byte) error {
			if _, err := decodePosKey(k); err != nil {
				return err
			}
			r, day, err := decodeAudit(v)
			if err != nil {
				return err
			}
			list = append(list, AuditEntry{Day: day, Site: site, Reason: r})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// expiredChunk is how many conversations Expired reads per read transaction.
const expiredChunk = 1024

// Expired returns the conversations of a site whose last activity is before the
// given time, sorted by ID. The last activity of a conversation is the latest of its
// creation hour, the stored minute of its newest envelope and the time of its newest
// consent receipt. An unknown site gives ErrNotFound.
func (s *Store) Expired(site ids.SiteID, lastActivityBefore time.Time) ([]ids.ConvID, error) {
	before := lastActivityBefore.Unix()
	var list []ids.ConvID
	var from []byte // resume after this key
	for {
		n := 0
		err := s.view(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketSites).Get(site[:]) == nil {
				return ErrNotFound
			}
			sb := tx.Bucket(bucketConvs).Bucket(site[:])
			if sb == nil {
				return nil
			}
			c := sb.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
				if k != nil && string(k) == string(from) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if n == expiredChunk {
					return nil
				}
				cb := sb.Bucket(k)
				if v != nil || cb == nil || len(k) != len(ids.ConvID{}) {
					return errRecord("conversation key")
				}
				n++
				from = slices.Clone(k)
				last, err := lastActivity(cb)
				if err != nil {
					return err
				}
				if last < before {
					list = append(list, ids.ConvID(k))
				}
			}
			n = -1 // done
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return list, nil
		}
	}
}

// lastActivity is the Unix time of a conversation's latest recorded activity.
func lastActivity(cb *bolt.Bucket) (int64, error) {
	m, err := readConvMeta(cb)
	if err != nil {
		return 0, err
	}
	last := m.Created
	if m.LastPos > 0 { // the newest position is never a replaced one
		stored, _, err := decodeEnvelope(cb.Bucket(bucketEnvs).Get(posKey(m.LastPos)))
		if err != nil {
			return 0, err
		}
		last = max(last, stored)
	}
	list, err := readReceipts(cb)
	if err != nil {
		return 0, err
	}
	if n := len(list); n > 0 {
		last = max(last, list[n-1].Time)
	}
	return last, nil
}
