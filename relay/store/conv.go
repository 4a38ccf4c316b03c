package store

import (
	"bytes"
	"context"
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// Conversation is the stored state of one conversation (no content).
type Conversation struct {
	Site         ids.SiteID
	ID           ids.ConvID
	Visitor      ids.Key // the visitor signing key the conversation is bound to
	Created      int64   // unix s, rounded down to the hour
	LastPos      uint64  // position of the newest envelope, 0 if none
	DeliveredPos uint64  // highest position an agent confirmed
	State        ConvState
	Agent        ids.Key // the agent signing key holding it when State is StateLive, else zero
}

// ConvState is the state of a conversation (docs/PROTOCOL.md §6.7), with the
// same values as on the wire.
type ConvState uint8

// Conversation states.
const (
	StateBot     ConvState = 0 // created, nobody asked for a person
	StateWaiting ConvState = 1 // the visitor asked for a person
	StateLive    ConvState = 2 // an agent took it over (Conversation.Agent)
	StateClosed  ConvState = 3 // an agent closed it
)

// Valid reports whether s is one of the four states.
func (s ConvState) Valid() bool { return s <= StateClosed }

// Appended is the result of Append.
type Appended struct {
	Pos       uint64
	Stored    int64 // unix s, rounded down to the minute
	Duplicate bool  // the same envelope was committed before; Pos and Stored are the original ones
}

// convBucket returns the bucket of a conversation, or nil.
func convBucket(tx *bolt.Tx, site ids.SiteID, conv ids.ConvID) *bolt.Bucket {
	sb := tx.Bucket(bucketConvs).Bucket(site[:])
	if sb == nil {
		return nil
	}
	return sb.Bucket(conv[:])
}

func readConvMeta(cb *bolt.Bucket) (convMeta, error) {
	return decodeConvMeta(cb.Get(keyConvMeta))
}

func toConversation(site ids.SiteID, conv ids.ConvID, m convMeta) Conversation {
	return Conversation{Site: site, ID: conv, Visitor: m.Visitor, Created: m.Created,
		LastPos: m.LastPos, DeliveredPos: m.DeliveredPos, State: m.State, Agent: m.Agent}
}

func readCounters(tx *bolt.Tx, site []byte) (counters, error) {
	v := tx.Bucket(bucketCounters).Get(site)
	if v == nil {
		return counters{}, nil
	}
	return decodeCounters(v)
}

// lookupConversation reads a conversation; ErrNotFound if missing.
func lookupConversation(tx *bolt.Tx, site ids.SiteID, conv ids.ConvID) (Conversation, error) {
	cb := convBucket(tx, site, conv)
	if cb == nil {
		return Conversation{}, ErrNotFound
	}
	m, err := readConvMeta(cb)
	if err != nil {
		return Conversation{}, err
	}
	return toConversation(site, conv, m), nil
}

// EnsureConversation returns the conversation, creating it bound to the visitor key
// if it does not exist (created = true). An existing conversation bound to another
// key gives ErrKeyMismatch; an unknown site ErrNotFound; a site at its conversation
// limit ErrLimit; an erased conversation (one with a tombstone) ErrGone. The store
// does not check that conv is derived from visitor.
func (s *Store) EnsureConversation(ctx context.Context, site ids.SiteID, conv ids.ConvID, visitor ids.Key) (Conversation, bool, error) {
	if visitor == (ids.Key{}) {
		return Conversation{}, false, ids.Wrap("zero visitor key", ErrInvalid)
	}
	// Fast path without the queue: what a read transaction sees is committed.
	c, err := s.Conversation(site, conv)
	switch {
	case err == nil && c.Visitor == visitor:
		return c, false, nil
	case err == nil:
		return Conversation{}, false, ErrKeyMismatch
	case !errors.Is(err, ErrNotFound):
		return Conversation{}, false, err
	}
	// An erased conversation stays erased: refused without the queue (a replayed
	// hello costs no write transaction), and checked again inside it.
	tomb := s.tombstone(site, conv)
	if err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTombs).Get(tomb) != nil {
			return ErrGone
		}
		return nil
	}); err != nil {
		return Conversation{}, false, err
	}

	var created bool
	err = s.exec(ctx, func(tx *bolt.Tx) error {
		created = false
		c, err = lookupConversation(tx, site, conv)
		if err == nil {
			if c.Visitor != visitor {
				return ErrKeyMismatch
			}
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if tx.Bucket(bucketTombs).Get(tomb) != nil {
			return ErrGone
		}
		if tx.Bucket(bucketSites).Get(site[:]) == nil {
			return ids.Wrap("conversation of unknown site", ErrNotFound)
		}
		cnt, err := readCounters(tx, site[:])
		if err != nil {
			return err
		}
		if cnt.Conversations >= s.maxConvs {
			return ids.Wrap("conversations per site", ErrLimit)
		}
		// Checks done; from here on only writes.
		m := convMeta{Visitor: visitor, Created: s.hour()}
		cnt.Conversations++
		sb, err := tx.Bucket(bucketConvs).CreateBucketIfNotExists(slices.Clone(site[:]))
		if err != nil {
			return &writeError{err}
		}
		cb, err := createBucket(sb, slices.Clone(conv[:]))
		if err != nil {
			return err
		}
		if _, err := createBucket(cb, bucketEnvs); err != nil {
			return err
		}
		if _, err := createBucket(cb, bucketSenders); err != nil {
			return err
		}
		if err := put(cb, keyConvMeta, encodeConvMeta(&m)); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketCounters), slices.Clone(site[:]), encodeCounters(cnt)); err != nil {
			return err
		}
		c, created = toConversation(site, conv, m), true
		return nil
	}, func() []unit {
		return []unit{mkUnit(bucketConvs, site[:], conv[:]), mkUnit(bucketCounters, site[:])}
	})
	if err != nil {
		return Conversation{}, false, err
	}
	return c, created, nil
}

// Conversation returns a conversation, or ErrNotFound.
func (s *Store) Conversation(site ids.SiteID, conv ids.ConvID) (Conversation, error) {
	var c Conversation
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = lookupConversation(tx, site, conv)
		return err
	})
	return c, err
}

// Conversations returns up to limit conversations of a site (all if limit ≤ 0),
// sorted by ID. An unknown site gives ErrNotFound.
func (s *Store) Conversations(site ids.SiteID, limit int) ([]Conversation, error) {
	var list []Conversation
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSites).Get(site[:]) == nil {
			return ErrNotFound
		}
		sb := tx.Bucket(bucketConvs).Bucket(site[:])
		if sb == nil {
			return nil
		}
		c := sb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if limit > 0 && len(list) >= limit {
				break
			}
			cb := sb.Bucket(k)
			if v != nil || cb == nil || len(k) != len(ids.ConvID{}) {
				return errRecord("conversation key")
			}
			m, err := readConvMeta(cb)
			if err != nil {
				return err
			}
			list = append(list, toConversation(site, ids.ConvID(k), m))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// envFillPercent: envelopes are appended in key order, so their pages are split
// nearly full instead of in half.
const envFillPercent = 0.9

// errOlderSeq: the seq is below the sender's last one; Append looks for an identical
// envelope after the commit. The op that returns it has written nothing.
var errOlderSeq = errors.New("store: older sequence number")

// Append stores an envelope as the next position of the conversation and returns
// after the commit (durable unless NoSync). seq must be the sender's last committed
// seq + 1 (so 1 for a new sender). An envelope already committed with the same bytes
// is not stored again: Duplicate is set with its original position and time. Any
// other seq gives ErrSequence; an unknown conversation ErrNotFound; a conversation
// at its envelope limit ErrLimit. raw is copied; the store does not parse it.
func (s *Store) Append(ctx context.Context, site ids.SiteID, conv ids.ConvID, sender ids.Key, seq uint64, raw []byte) (Appended, error) {
	if len(raw) == 0 {
		return Appended{}, ids.Wrap("empty envelope", ErrInvalid)
	}
	if seq == 0 {
		return Appended{}, ids.Wrap("seq 0", ErrSequence)
	}
	val := newEnvelopeValue(raw) // owns a copy: the caller may reuse raw after a cancellation
	body := val[8:]
	skey := slices.Clone(sender[:])
	siteKey := slices.Clone(site[:])
	var res Appended
	var senderPos uint64
	err := s.exec(ctx, func(tx *bolt.Tx) error {
		res, senderPos = Appended{}, 0
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		m, err := readConvMeta(cb)
		if err != nil {
			return err
		}
		envs, senders := cb.Bucket(bucketEnvs), cb.Bucket(bucketSenders)
		envs.FillPercent = envFillPercent
		var last senderRec
		if v := senders.Get(skey); v != nil {
			if last, err = decodeSender(v); err != nil {
				return err
			}
		}
		switch {
		case seq == last.Seq:
			stored, old, err := decodeEnvelope(envs.Get(posKey(last.Pos)))
			if err != nil {
				return err
			}
			if !bytes.Equal(old, body) {
				return ids.Wrap("same seq, other bytes", ErrSequence)
			}
			res = Appended{Pos: last.Pos, Stored: stored, Duplicate: true}
			return nil
		case seq < last.Seq:
			senderPos = last.Pos
			return errOlderSeq
		case seq != last.Seq+1:
			return ids.Wrap("gap in seq", ErrSequence)
		case m.LastPos >= s.maxEnvs:
			return ids.Wrap("envelopes per conversation", ErrLimit)
		}
		cnt, err := readCounters(tx, siteKey)
		if err != nil {
			return err
		}
		// Checks done; from here on only writes.
		m.LastPos++
		cnt.Envelopes++
		stored := s.minute()
		putStored(val, stored)
		if err := put(envs, posKey(m.LastPos), val); err != nil {
			return err
		}
		if err := put(senders, skey, encodeSender(senderRec{Seq: seq, Pos: m.LastPos})); err != nil {
			return err
		}
		if err := put(cb, keyConvMeta, encodeConvMeta(&m)); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketCounters), siteKey, encodeCounters(cnt)); err != nil {
			return err
		}
		res = Appended{Pos: m.LastPos, Stored: stored}
		return nil
	}, func() []unit {
		return []unit{
			mkUnit(bucketConvs, siteKey, conv[:], keyConvMeta),
			mkUnit(bucketConvs, siteKey, conv[:], bucketEnvs, posKey(res.Pos)),
			mkUnit(bucketConvs, siteKey, conv[:], bucketSenders, skey),
			mkUnit(bucketCounters, siteKey),
		}
	})
	if errors.Is(err, errOlderSeq) {
		return s.findCommitted(site, conv, senderPos, body)
	}
	if err != nil {
		return Appended{}, err
	}
	return res, nil
}

// findCommitted looks for an envelope with exactly these bytes before position
// below (exclusive) and reports it as a duplicate; otherwise ErrSequence. Envelopes
// never change once committed, so a read transaction suffices.
func (s *Store) findCommitted(site ids.SiteID, conv ids.ConvID, below uint64, body []byte) (Appended, error) {
	var res Appended
	err := s.view(func(tx *bolt.Tx) error {
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		c := cb.Bucket(bucketEnvs).Cursor()
		k, v := c.Seek(posKey(below))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			stored, old, err := decodeEnvelope(v)
			if err != nil {
				return err
			}
			if bytes.Equal(old, body) {
				pos, err := decodePosKey(k)
				if err != nil {
					return err
				}
				res = Appended{Pos: pos, Stored: stored, Duplicate: true}
				return nil
			}
		}
		return ids.Wrap("older seq, other bytes", ErrSequence)
	})
	if err != nil {
		return Appended{}, err
	}
	return res, nil
}

// LastSeq returns the last committed seq of a sender in a conversation (0 if the
// sender has sent nothing), or ErrNotFound for an unknown conversation.
func (s *Store) LastSeq(site ids.SiteID, conv ids.ConvID, sender ids.Key) (uint64, error) {
	var seq uint64
	err := s.view(func(tx *bolt.Tx) error {
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		v := cb.Bucket(bucketSenders).Get(sender[:])
		if v == nil {
			return nil
		}
		r, err := decodeSender(v)
		seq = r.Seq
		return err
	})
	return seq, err
}

// Envelope reading happens in chunks, each in its own read transaction, so that a
// slow fn (a network write) never holds a transaction open.
const (
	chunkEnvelopes = 128
	chunkBytes     = 1 << 20
)

type storedEnvelope struct {
	pos    uint64
	stored int64
	raw    []byte
}

// Envelopes calls fn for every envelope of the conversation with a position greater
// than since, in position order, including envelopes committed while it runs. raw is
// the caller's to keep. An error from fn stops the walk and is returned; an unknown
// conversation gives ErrNotFound.
func (s *Store) Envelopes(site ids.SiteID, conv ids.ConvID, since uint64, fn func(pos uint64, stored int64, raw []byte) error) error {
	var chunk []storedEnvelope
	for since != ^uint64(0) {
		chunk = chunk[:0]
		err := s.view(func(tx *bolt.Tx) error {
			cb := convBucket(tx, site, conv)
			if cb == nil {
				return ErrNotFound
			}
			c := cb.Bucket(bucketEnvs).Cursor()
			size := 0
			for k, v := c.Seek(posKey(since + 1)); k != nil; k, v = c.Next() {
				if len(chunk) >= chunkEnvelopes || size >= chunkBytes {
					break
				}
				pos, err := decodePosKey(k)
				if err != nil {
					return err
				}
				stored, raw, err := decodeEnvelope(v)
				if err != nil {
					return err
				}
				chunk = append(chunk, storedEnvelope{pos, stored, slices.Clone(raw)})
				size += len(raw)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(chunk) == 0 {
			return nil
		}
		for _, e := range chunk {
			if err := fn(e.pos, e.stored, e.raw); err != nil {
				return err
			}
		}
		since = chunk[len(chunk)-1].pos
	}
	return nil
}

// MarkDelivered records that an agent has confirmed the conversation up to pos.
// It only moves forward: changed is false when pos is not above the stored delivered
// position. A pos beyond the last envelope gives ErrNotFound, as does an unknown
// conversation.
func (s *Store) MarkDelivered(ctx context.Context, site ids.SiteID, conv ids.ConvID, pos uint64) (bool, error) {
	// Fast path without the queue for confirmations that change nothing.
	c, err := s.Conversation(site, conv)
	if err != nil {
		return false, err
	}
	if pos <= c.DeliveredPos {
		return false, nil
	}
	var changed bool
	err = s.exec(ctx, func(tx *bolt.Tx) error {
		changed = false
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		m, err := readConvMeta(cb)
		if err != nil {
			return err
		}
		if pos > m.LastPos {
			return ids.Wrap("delivered position beyond the last envelope", ErrNotFound)
		}
		if pos <= m.DeliveredPos {
			return nil
		}
		m.DeliveredPos = pos
		if err := put(cb, keyConvMeta, encodeConvMeta(&m)); err != nil {
			return err
		}
		changed = true
		return nil
	}, func() []unit { return []unit{mkUnit(bucketConvs, site[:], conv[:], keyConvMeta)} })
	if err != nil {
		return false, err
	}
	return changed, nil
}

// SetConvState stores the state of a conversation and, for StateLive, the
// agent signing key holding it (agent must be zero for every other state:
// ErrInvalid otherwise, as for an unknown state). changed is false when the
// conversation already had exactly this state and agent (nothing is written).
// An unknown conversation gives ErrNotFound. The store does not judge the
// transition; the caller does (docs/PROTOCOL.md §6.7).
func (s *Store) SetConvState(ctx context.Context, site ids.SiteID, conv ids.ConvID, state ConvState, agent ids.Key) (bool, error) {
	if !state.Valid() || (state == StateLive) == (agent == ids.Key{}) {
		return false, ids.Wrap("conversation state", ErrInvalid)
	}
	c, err := s.Conversation(site, conv)
	if err != nil {
		return false, err
	}
	if c.State == state && c.Agent == agent {
		return false, nil
	}
	var changed bool
	err = s.exec(ctx, func(tx *bolt.Tx) error {
		changed = false
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		m, err := readConvMeta(cb)
		if err != nil {
			return err
		}
		if m.State == state && m.Agent == agent {
			return nil
		}
		m.State, m.Agent = state, agent
		if err := put(cb, keyConvMeta, encodeConvMeta(&m)); err != nil {
			return err
		}
		changed = true
		return nil
	}, func() []unit { return []unit{mkUnit(bucketConvs, site[:], conv[:], keyConvMeta)} })
	if err != nil {
		return false, err
	}
	return changed, nil
}
