package store

import (
	"crypto/rand"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// Top-level buckets and fixed keys (docs/STORAGE.md §2).
var (
	bucketMeta     = []byte("meta")
	bucketSites    = []byte("sites")
	bucketRosters  = []byte("rosters")
	bucketConvs    = []byte("convs")
	bucketCounters = []byte("counters")
	bucketFlows    = []byte("flows")
	bucketRequests = []byte("requests")
	bucketTombs    = []byte("tombstones")
	bucketAudit    = []byte("audit")

	keySchema  = []byte("schema")  // in meta
	keyTombKey = []byte("tombkey") // in meta

	// Inside a conversation bucket.
	keyConvMeta    = []byte("m")
	bucketEnvs     = []byte("e")
	bucketSenders  = []byte("s")
	bucketReplaced = []byte("r")
)

// migration moves the database from one schema version to the next. Migrations run in
// order, all pending ones in the same transaction as the version update, so a crash
// leaves either the old or the new schema.
type migration func(tx *bolt.Tx) error

// migrations[i] moves schema version i to i+1; the current version is len(migrations).
// Append only: never change or reorder an entry that has been released.
var migrations = []migration{
	migrate1,
	migrate2,
	migrate3,
	migrate4,
}

// SchemaVersion is the schema version this program writes; it equals len(migrations).
const SchemaVersion = 4

// migrate1 creates the initial layout.
func migrate1(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketSites, bucketRosters, bucketConvs, bucketCounters} {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// migrate2 adds the flows bucket. Conversations may from now on hold consent
// receipts (key "c"), which needs no change to existing ones.
func migrate2(tx *bolt.Tx) error {
	_, err := tx.CreateBucket(bucketFlows)
	return err
}

// migrate3 adds erasure: the request counters, the tombstones, the audit log and
// the tombstones' HMAC key (32 random bytes, generated once). Conversations may from
// now on hold "r" (replaced positions), which needs no change to existing ones.
func migrate3(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketRequests, bucketTombs, bucketAudit} {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyTombKey, k[:])
}

// migrate4 adds the conversation state (docs/PROTOCOL.md §6.7) to every
// conversation's meta record: u8 state and [32] agent key, appended as
// "bot" and zero.
func migrate4(tx *bolt.Tx) error {
	return tx.Bucket(bucketConvs).ForEachBucket(func(site []byte) error {
		sb := tx.Bucket(bucketConvs).Bucket(site)
		return sb.ForEachBucket(func(conv []byte) error {
			cb := sb.Bucket(conv)
			old := cb.Get(keyConvMeta)
			if len(old) != convMetaV3Size {
				return ids.Wrap("conversation meta of schema version 3", ErrCorrupt)
			}
			m := make([]byte, 0, convMetaSize)
			m = append(m, old...)
			m = append(m, make([]byte, 1+32)...)
			if _, err := decodeConvMeta(m); err != nil {
				return err
			}
			return cb.Put(keyConvMeta, m)
		})
	})
}

// schemaVersion reads the stored schema version: 0 for an empty file.
func schemaVersion(tx *bolt.Tx) (uint32, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return 0, ids.Wrap("database has buckets but no schema version (not a store)", ErrSchema)
		}
		return 0, nil
	}
	return decodeSchema(meta.Get(keySchema))
}

// migrate brings the database to len(list), or refuses a newer one.
func migrate(tx *bolt.Tx, list []migration) error {
	v, err := schemaVersion(tx)
	if err != nil {
		return err
	}
	want := uint32(len(list))
	if v > want {
		return ids.Wrap("database schema version "+strconv.FormatUint(uint64(v), 10)+
			" is newer than this program supports ("+strconv.FormatUint(uint64(want), 10)+
			"); use a newer relay", ErrSchema)
	}
	if v == want {
		return nil
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	for i := v; i < want; i++ {
		if err := list[i](tx); err != nil {
			return ids.Wrap("migration to schema version "+strconv.FormatUint(uint64(i+1), 10), err)
		}
	}
	return meta.Put(keySchema, encodeSchema(want))
}
