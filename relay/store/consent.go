package store

import (
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// MaxConsentReceipts is the most consent receipts one conversation holds.
const MaxConsentReceipts = 16

// Consent decisions (the values are those of PROTOCOL.md §6).
const (
	ConsentAccepted uint8 = 1
	ConsentDeclined uint8 = 2
)

// ConsentReceipt records that the visitor of a conversation decided on a consent
// step. It holds no personal data: which flow version showed the consent, the
// SHA-256 of the exact text shown, the decision and the coarse time.
type ConsentReceipt struct {
	FlowVersion uint32
	TextHash    [32]byte
	Decision    uint8 // ConsentAccepted or ConsentDeclined
	Time        int64 // commit time, unix s, rounded down to the minute (set by the store)
}

// keyReceipts is the key of the consent receipts inside a conversation bucket.
var keyReceipts = []byte("c")

func readReceipts(cb *bolt.Bucket) ([]ConsentReceipt, error) {
	v := cb.Get(keyReceipts)
	if v == nil {
		return nil, nil
	}
	return decodeReceipts(v)
}

// AddConsentReceipt appends a receipt to the conversation and returns the
// conversation's full list, oldest first, after the commit (durable unless NoSync).
// The store sets r.Time to the commit minute. A receipt equal to the last one
// apart from the time is not stored again (the list is returned unchanged).
// An unknown conversation gives ErrNotFound, a decision other than
// ConsentAccepted or ConsentDeclined ErrInvalid, and a conversation that already
// holds MaxConsentReceipts receipts ErrLimit.
func (s *Store) AddConsentReceipt(ctx context.Context, site ids.SiteID, conv ids.ConvID, r ConsentReceipt) ([]ConsentReceipt, error) {
	if r.Decision != ConsentAccepted && r.Decision != ConsentDeclined {
		return nil, ids.Wrap("consent decision", ErrInvalid)
	}
	var out []ConsentReceipt
	err := s.exec(ctx, func(tx *bolt.Tx) error {
		out = nil
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		list, err := readReceipts(cb)
		if err != nil {
			return err
		}
		if n := len(list); n > 0 && sameReceipt(&list[n-1], &r) {
			out = list
			return nil
		}
		if len(list) >= MaxConsentReceipts {
			return ids.Wrap("consent receipts per conversation", ErrLimit)
		}
		// Checks done; from here on only writes.
		rec := r
		rec.Time = s.minute()
		list = append(list, rec)
		if err := put(cb, keyReceipts, encodeReceipts(list)); err != nil {
			return err
		}
		out = list
		return nil
	}, func() []unit { return []unit{mkUnit(bucketConvs, site[:], conv[:], keyReceipts)} })
	if err != nil {
		return nil, err
	}
	return slices.Clip(out), nil
}

// ConsentReceipts returns the consent receipts of a conversation, oldest first
// (nil if it has none), or ErrNotFound for an unknown conversation.
func (s *Store) ConsentReceipts(site ids.SiteID, conv ids.ConvID) ([]ConsentReceipt, error) {
	var list []ConsentReceipt
	err := s.view(func(tx *bolt.Tx) error {
		cb := convBucket(tx, site, conv)
		if cb == nil {
			return ErrNotFound
		}
		var err error
		list, err = readReceipts(cb)
		return err
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}
