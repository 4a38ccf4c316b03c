package store

import (
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// Site is a website using Siegel.
type Site struct {
	ID            ids.SiteID
	Name          string   // UTF-8 without control characters, ≤ MaxSiteName bytes
	Origins       []string // allowed origins, printable ASCII, no duplicates, order kept
	Owner         ids.Key  // owner signing key; never changes for a site ID
	RetentionDays int      // 0 … MaxRetentionDays; 0 means DefaultRetentionDays (see Retention)
	PrivacyURL    string   // printable ASCII or empty
	Created       int64    // unix s, as given by the caller
}

// PutSite creates a site or replaces its settings. The owner key of an existing site
// cannot change: a different Owner gives ErrExists. Invalid fields give ErrInvalid.
func (s *Store) PutSite(ctx context.Context, site Site) error {
	if err := validateSite(&site); err != nil {
		return err
	}
	site.Origins = slices.Clone(site.Origins)
	val := encodeSite(&site)
	key := slices.Clone(site.ID[:])
	return s.exec(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSites)
		if old := b.Get(key); old != nil {
			cur, err := decodeSite(site.ID, old)
			if err != nil {
				return err
			}
			if cur.Owner != site.Owner {
				return ErrExists
			}
		}
		return put(b, key, val)
	}, func() []unit { return []unit{mkUnit(bucketSites, key)} })
}

// Site returns the site with the given ID, or ErrNotFound.
func (s *Store) Site(id ids.SiteID) (Site, error) {
	var site Site
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSites).Get(id[:])
		if v == nil {
			return ErrNotFound
		}
		var err error
		site, err = decodeSite(id, v)
		return err
	})
	return site, err
}

// Sites returns all sites sorted by ID.
func (s *Store) Sites() ([]Site, error) {
	var sites []Site
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSites).ForEach(func(k, v []byte) error {
			if len(k) != len(ids.SiteID{}) {
				return errRecord("site key")
			}
			site, err := decodeSite(ids.SiteID(k), v)
			if err != nil {
				return err
			}
			sites = append(sites, site)
			return nil
		})
	})
	return sites, err
}

// PutRoster stores the raw signed roster of a site with its version. The store does
// not parse the roster; the caller has verified it. A version not greater than the
// stored one gives ErrStale; an unknown site ErrNotFound.
func (s *Store) PutRoster(ctx context.Context, site ids.SiteID, version uint64, raw []byte) error {
	if len(raw) == 0 {
		return ids.Wrap("empty roster", ErrInvalid)
	}
	if version == 0 {
		return ErrStale
	}
	val := encodeRoster(version, raw)
	key := slices.Clone(site[:])
	return s.exec(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSites).Get(key) == nil {
			return ids.Wrap("roster for unknown site", ErrNotFound)
		}
		b := tx.Bucket(bucketRosters)
		if old := b.Get(key); old != nil {
			cur, _, err := decodeRoster(old)
			if err != nil {
				return err
			}
			if version <= cur {
				return ErrStale
			}
		}
		return put(b, key, val)
	}, func() []unit { return []unit{mkUnit(bucketRosters, key)} })
}

// Roster returns the stored roster of a site and its version, or ErrNotFound.
func (s *Store) Roster(site ids.SiteID) (version uint64, raw []byte, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRosters).Get(site[:])
		if v == nil {
			return ErrNotFound
		}
		var err error
		version, raw, err = decodeRoster(v)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return version, raw, nil
}
