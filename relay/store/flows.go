package store

import (
	"bytes"
	"context"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// MaxFlowSize is the largest compiled flow the store keeps, in bytes (the limit of
// the binary form, shared/flow MaxBinarySize).
const MaxFlowSize = 1 << 20

// PutFlow stores the compiled bot flow of a site (the binary form of shared/flow;
// the store does not parse it) and returns its revision: 1 for the first flow of
// the site, the previous revision + 1 when the bytes differ from the stored ones,
// and the stored revision unchanged (nothing written) when they are the same. An
// unknown site gives ErrNotFound; an empty or too large flow ErrInvalid; a site
// whose revision counter is exhausted ErrLimit.
func (s *Store) PutFlow(ctx context.Context, site ids.SiteID, compiled []byte) (uint32, error) {
	if len(compiled) == 0 || len(compiled) > MaxFlowSize {
		return 0, ids.Wrap("flow size", ErrInvalid)
	}
	body := slices.Clone(compiled)
	key := slices.Clone(site[:])
	var rev uint32
	err := s.exec(ctx, func(tx *bolt.Tx) error {
		rev = 0
		if tx.Bucket(bucketSites).Get(key) == nil {
			return ids.Wrap("flow for unknown site", ErrNotFound)
		}
		b := tx.Bucket(bucketFlows)
		var cur uint32
		if old := b.Get(key); old != nil {
			r, oldBody, err := decodeFlow(old)
			if err != nil {
				return err
			}
			if bytes.Equal(oldBody, body) {
				rev = r
				return nil
			}
			if r == math.MaxUint32 {
				return ids.Wrap("flow revisions", ErrLimit)
			}
			cur = r
		}
		if err := put(b, key, encodeFlow(cur+1, body)); err != nil {
			return err
		}
		rev = cur + 1
		return nil
	}, func() []unit { return []unit{mkUnit(bucketFlows, key)} })
	if err != nil {
		return 0, err
	}
	return rev, nil
}

// Flow returns the revision and the compiled bot flow of a site, or ErrNotFound
// when the site has none (or does not exist).
func (s *Store) Flow(site ids.SiteID) (revision uint32, compiled []byte, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFlows).Get(site[:])
		if v == nil {
			return ErrNotFound
		}
		r, body, err := decodeFlow(v)
		if err != nil {
			return err
		}
		revision, compiled = r, slices.Clone(body)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return revision, compiled, nil
}
