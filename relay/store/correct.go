package store

import (
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/envelope"
	"siegel/shared/ids"
)

// Correct stores a correction (docs/PROTOCOL.md §6.5) in one durable transaction:
// it appends the correction envelope raw like Append (sender must be the
// conversation's visitor, seq its last committed seq + 1), deletes the envelope at
// originalPos and records originalPos as replaced by the correction's position, and
// stores auth's counter. Envelopes skips replaced positions from then on.
//
// raw must parse as an envelope of this site and conversation from sender with
// sequence number seq, and auth must be signed by the sender; the envelope at
// originalPos must exist (not replaced already) and be from the same sender:
// otherwise ErrInvalid. An unknown conversation gives ErrNotFound, a counter not
// above the stored one ErrReplay, another seq ErrSequence (a correction is never
// a duplicate), a conversation at its envelope limit ErrLimit. The old bytes stay
// in free pages of the file until the next Compact.
func (s *Store) Correct(ctx context.Context, site ids.SiteID, conv ids.ConvID, originalPos uint64, sender ids.Key, seq uint64, raw []byte, auth Authorization) (Appended, error) {
	if seq == 0 {
		return Appended{}, ids.Wrap("seq 0", ErrSequence)
	}
	e, err := envelope.Parse(raw)
	if err != nil {
		return Appended{}, ids.Wrap("correction envelope", ErrInvalid)
	}
	if e.Site != site || e.Conv != conv || e.SenderSign != sender || e.Seq != seq {
		return Appended{}, ids.Wrap("correction envelope does not match its request", ErrInvalid)
	}
	if auth.Signer != sender {
		return Appended{}, ids.Wrap("correction not signed by its sender", ErrInvalid)
	}
	if originalPos == 0 {
		return Appended{}, ids.Wrap("original position 0", ErrInvalid)
	}
	val := newEnvelopeValue(raw)
	skey := slices.Clone(sender[:])
	siteKey := slices.Clone(site[:])
	convKey := slices.Clone(conv[:])
	origKey := posKey(originalPos)
	var res Appended
	fn := func(tx *bolt.Tx) error {
		res = Appended{}
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		m, err := readConvMeta(cb)
		if err != nil {
			return err
		}
		if err := checkCounter(tx, siteKey, &auth); err != nil {
			return err
		}
		if sender != m.Visitor {
			return ids.Wrap("correction by another key than the visitor's", ErrInvalid)
		}
		envs, senders := cb.Bucket(bucketEnvs), cb.Bucket(bucketSenders)
		var last senderRec
		if v := senders.Get(skey); v != nil {
			if last, err = decodeSender(v); err != nil {
				return err
			}
		}
		switch {
		case seq != last.Seq+1:
			return ids.Wrap("correction seq", ErrSequence)
		case m.LastPos >= s.maxEnvs:
			return ids.Wrap("envelopes per conversation", ErrLimit)
		case originalPos > m.LastPos:
			return ids.Wrap("original position beyond the last envelope", ErrInvalid)
		}
		ov := envs.Get(origKey)
		if ov == nil {
			return ids.Wrap("original position already replaced", ErrInvalid)
		}
		_, old, err := decodeEnvelope(ov)
		if err != nil {
			return err
		}
		oe, err := envelope.Parse(old)
		if err != nil || oe.SenderSign != sender {
			return ids.Wrap("original envelope is not the visitor's", ErrInvalid)
		}

		// Checks done; from here on only writes.
		m.LastPos++
		stored := s.minute()
		putStored(val, stored)
		newKey := posKey(m.LastPos)
		envs.FillPercent = envFillPercent
		if err := put(envs, newKey, val); err != nil {
			return err
		}
		if err := envs.Delete(origKey); err != nil {
			return &writeError{err}
		}
		rb, err := cb.CreateBucketIfNotExists(bucketReplaced)
		if err != nil {
			return &writeError{err}
		}
		if err := put(rb, origKey, encodeCounter(m.LastPos)); err != nil {
			return err
		}
		if err := put(senders, skey, encodeSender(senderRec{Seq: seq, Pos: m.LastPos})); err != nil {
			return err
		}
		if err := put(cb, keyConvMeta, encodeConvMeta(&m)); err != nil {
			return err
		}
		if err := putCounter(tx, siteKey, &auth); err != nil {
			return err
		}
		// The site's envelope counter is unchanged: one stored, one deleted.
		res = Appended{Pos: m.LastPos, Stored: stored}
		return nil
	}
	units := func() []unit {
		return []unit{
			mkUnit(bucketConvs, siteKey, convKey, keyConvMeta),
			mkUnit(bucketConvs, siteKey, convKey, bucketEnvs, origKey),
			mkUnit(bucketConvs, siteKey, convKey, bucketEnvs, posKey(res.Pos)),
			mkUnit(bucketConvs, siteKey, convKey, bucketReplaced, origKey),
			mkUnit(bucketConvs, siteKey, convKey, bucketSenders, skey),
			mkUnit(bucketRequests, siteKey, skey),
		}
	}
	err = s.run(ctx, &op{ctx: ctx, fn: fn, units: units, deletes: true, done: make(chan error, 1)})
	if err != nil {
		return Appended{}, err
	}
	return res, nil
}

// Replacements returns the replaced positions of a conversation: original
// position → position of the correction that replaced it (nil if none). An unknown
// conversation gives ErrNotFound.
func (s *Store) Replacements(site ids.SiteID, conv ids.ConvID) (map[uint64]uint64, error) {
	var out map[uint64]uint64
	err := s.view(func(tx *bolt.Tx) error {
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		rb := cb.Bucket(bucketReplaced)
		if rb == nil {
			return nil
		}
		out = map[uint64]uint64{}
		return rb.ForEach(func(k, v []byte) error {
			old, err := decodePosKey(k)
			if err != nil {
				return err
			}
			pos, err := decodeCounter(v, "replaced position")
			if err != nil {
				return err
			}
			out[old] = pos
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
