package store

import (
	"errors"
	"io"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// maxProblems caps the problems Check reports.
const maxProblems = 20

// checker collects problems found by Check.
type checker struct {
	problems []error
}

func (c *checker) add(where string, err error) bool {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, ids.Wrap(where, err))
	}
	return len(c.problems) < maxProblems
}

func (c *checker) fail(where, what string) bool {
	return c.add(where, ids.Wrap(what, ErrCorrupt))
}

func (c *checker) full() bool { return len(c.problems) >= maxProblems }

// Check verifies the file (bbolt's page-level check) and the invariants of the layout
// in one read transaction: every record decodes; the schema version is current; every
// roster, flow, conversation, counter, request counter and audit entry belongs to a
// known site; each conversation holds only its meta record, envelopes, senders and
// (optionally) consent receipts and replaced positions, the envelope and replaced
// positions together are exactly 1 … last pos, delivered pos ≤ last pos, and every
// sender's last pos is within them; the per-site counters equal the number of
// conversations and envelopes; no conversation has a tombstone. It returns nil or the
// problems found (at most 20), joined; each matches ErrCorrupt unless bbolt reported
// it.
func (s *Store) Check() error {
	var c checker
	err := s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			c.add("bbolt check", err)
		}
		if c.full() {
			return nil
		}
		checkLayout(tx, &c, s.tombstone)
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(c.problems...)
}

func checkLayout(tx *bolt.Tx, c *checker, tombstone func(ids.SiteID, ids.ConvID) []byte) {
	known := map[string]bool{string(bucketMeta): true, string(bucketSites): true,
		string(bucketRosters): true, string(bucketConvs): true, string(bucketCounters): true,
		string(bucketFlows): true, string(bucketRequests): true, string(bucketTombs): true,
		string(bucketAudit): true}
	tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !known[string(name)] {
			c.fail("top level", "unknown bucket "+strconv.Quote(string(name)))
		}
		return nil
	})
	for name := range known {
		if tx.Bucket([]byte(name)) == nil {
			c.fail("top level", "missing bucket "+name)
		}
	}
	if c.full() || len(c.problems) > 0 {
		return
	}

	// meta
	meta := tx.Bucket(bucketMeta)
	if v, err := decodeSchema(meta.Get(keySchema)); err != nil {
		c.add("meta", err)
	} else if v != SchemaVersion {
		c.fail("meta", "schema version "+strconv.FormatUint(uint64(v), 10)+" is not current")
	}
	if _, err := decodeTombKey(meta.Get(keyTombKey)); err != nil {
		c.add("meta", err)
	}
	if n := countKeys(meta); n != 2 {
		c.fail("meta", "unexpected keys")
	}

	// sites
	sites := tx.Bucket(bucketSites)
	sites.ForEach(func(k, v []byte) error {
		if len(k) != 16 || v == nil {
			c.fail("sites", "bad key "+hexKey(k))
			return nil
		}
		if _, err := decodeSite(ids.SiteID(k), v); err != nil {
			c.add("site "+hexKey(k), err)
		}
		return nil
	})

	// rosters
	tx.Bucket(bucketRosters).ForEach(func(k, v []byte) error {
		where := "roster " + hexKey(k)
		if len(k) != 16 || v == nil {
			c.fail(where, "bad key")
		} else if sites.Get(k) == nil {
			c.fail(where, "site unknown")
		} else if _, _, err := decodeRoster(v); err != nil {
			c.add(where, err)
		}
		return nil
	})

	// flows
	tx.Bucket(bucketFlows).ForEach(func(k, v []byte) error {
		where := "flow " + hexKey(k)
		if len(k) != 16 || v == nil {
			c.fail(where, "bad key")
		} else if sites.Get(k) == nil {
			c.fail(where, "site unknown")
		} else if _, _, err := decodeFlow(v); err != nil {
			c.add(where, err)
		}
		return nil
	})

	// request counters and audit entries, per site
	perSite(tx, bucketRequests, sites, c, func(where string, k, v []byte) {
		if len(k) != 32 || v == nil {
			c.fail(where, "bad key")
		} else if _, err := decodeCounter(v, "request counter"); err != nil {
			c.add(where, err)
		}
	})
	perSite(tx, bucketAudit, sites, c, func(where string, k, v []byte) {
		if _, err := decodePosKey(k); err != nil || v == nil {
			c.fail(where, "bad key")
		} else if _, _, err := decodeAudit(v); err != nil {
			c.add(where, err)
		}
	})

	// tombstones
	tombs := tx.Bucket(bucketTombs)
	tombs.ForEach(func(k, v []byte) error {
		if len(k) != 32 || v == nil {
			c.fail("tombstones", "bad key")
		} else if err := decodeTomb(v); err != nil {
			c.add("tombstones", err)
		}
		return nil
	})

	// conversations
	seen := map[string]counters{}
	convs := tx.Bucket(bucketConvs)
	convs.ForEach(func(k, v []byte) error {
		where := "conversations of site " + hexKey(k)
		sb := convs.Bucket(k)
		if len(k) != 16 || v != nil || sb == nil {
			c.fail(where, "bad key")
			return nil
		}
		if sites.Get(k) == nil {
			c.fail(where, "site unknown")
		}
		seen[string(k)] = checkSite(sb, where, c)
		sb.ForEach(func(ck, _ []byte) error {
			if len(ck) == 16 && tombs.Get(tombstone(ids.SiteID(k), ids.ConvID(ck))) != nil {
				c.fail(where+", conversation "+hexKey(ck), "erased but present")
			}
			return nil
		})
		return nil
	})

	// counters
	cb := tx.Bucket(bucketCounters)
	cb.ForEach(func(k, v []byte) error {
		where := "counters of site " + hexKey(k)
		if len(k) != 16 || v == nil {
			c.fail(where, "bad key")
			return nil
		}
		got, err := decodeCounters(v)
		if err != nil {
			c.add(where, err)
			return nil
		}
		if got != seen[string(k)] {
			c.fail(where, "counted "+counterText(got)+", found "+counterText(seen[string(k)]))
		}
		return nil
	})
	for k, want := range seen {
		if cb.Get([]byte(k)) == nil && want != (counters{}) {
			c.fail("counters of site "+hexKey([]byte(k)), "missing")
		}
	}
}

// checkSite checks the conversations of one site and returns what it counted.
func checkSite(sb *bolt.Bucket, where string, c *checker) counters {
	var n counters
	sb.ForEach(func(k, v []byte) error {
		cw := where + ", conversation " + hexKey(k)
		cb := sb.Bucket(k)
		if len(k) != 16 || v != nil || cb == nil {
			c.fail(cw, "bad key")
			return nil
		}
		n.Conversations++
		n.Envelopes += checkConversation(cb, cw, c)
		return nil
	})
	return n
}

// checkConversation checks one conversation bucket and returns its envelope count.
func checkConversation(cb *bolt.Bucket, where string, c *checker) uint64 {
	m, err := readConvMeta(cb)
	if err != nil {
		c.add(where, err)
		return 0
	}
	envs, senders := cb.Bucket(bucketEnvs), cb.Bucket(bucketSenders)
	keys := 3
	if v := cb.Get(keyReceipts); v != nil {
		keys++
		if _, err := decodeReceipts(v); err != nil {
			c.add(where, err)
		}
	}
	replaced := cb.Bucket(bucketReplaced)
	if replaced != nil {
		keys++
	}
	if envs == nil || senders == nil || countKeys(cb) != keys {
		c.fail(where, "unexpected layout")
		return 0
	}
	// Positions 1 … last pos: each either an envelope or a replaced position.
	gone := map[uint64]bool{}
	if replaced != nil {
		replaced.ForEach(func(k, v []byte) error {
			pos, err := decodePosKey(k)
			if err != nil || v == nil {
				c.fail(where, "bad replaced key")
				return nil
			}
			by, err := decodeCounter(v, "replaced position")
			if err != nil {
				c.add(where, err)
				return nil
			}
			if by <= pos || by > m.LastPos {
				c.fail(where, "position "+strconv.FormatUint(pos, 10)+" replaced by a position out of range")
			}
			gone[pos] = true
			return nil
		})
	}
	var count uint64
	next := uint64(1) // the next position expected in envs
	skip := func() {
		for gone[next] {
			next++
		}
	}
	envs.ForEach(func(k, v []byte) error {
		pos, err := decodePosKey(k)
		if err != nil || v == nil {
			c.fail(where, "bad envelope key")
			return nil
		}
		skip()
		if pos != next {
			c.fail(where, "envelope positions not contiguous at "+strconv.FormatUint(pos, 10))
		}
		next = pos + 1
		count++
		if _, _, err := decodeEnvelope(v); err != nil {
			c.add(where+", pos "+strconv.FormatUint(pos, 10), err)
		}
		return nil
	})
	skip()
	if next-1 != m.LastPos {
		c.fail(where, "last pos "+strconv.FormatUint(m.LastPos, 10)+
			" but positions end at "+strconv.FormatUint(next-1, 10))
	}
	senders.ForEach(func(k, v []byte) error {
		if len(k) != 32 || v == nil {
			c.fail(where, "bad sender key")
			return nil
		}
		r, err := decodeSender(v)
		if err != nil {
			c.add(where, err)
			return nil
		}
		if r.Pos > m.LastPos || r.Seq > r.Pos {
			c.fail(where, "sender record beyond the envelopes")
		}
		return nil
	})
	return count
}

// perSite checks a top-level bucket of per-site nested buckets: each key a known
// site, each entry checked by fn.
func perSite(tx *bolt.Tx, name []byte, sites *bolt.Bucket, c *checker, fn func(where string, k, v []byte)) {
	top := tx.Bucket(name)
	top.ForEach(func(k, v []byte) error {
		where := string(name) + " of site " + hexKey(k)
		sb := top.Bucket(k)
		if len(k) != 16 || v != nil || sb == nil {
			c.fail(where, "bad key")
			return nil
		}
		if sites.Get(k) == nil {
			c.fail(where, "site unknown")
		}
		sb.ForEach(func(k, v []byte) error {
			fn(where, k, v)
			return nil
		})
		return nil
	})
}

func countKeys(b *bolt.Bucket) int {
	n := 0
	b.ForEach(func(_, _ []byte) error { n++; return nil })
	return n
}

func counterText(c counters) string {
	return strconv.FormatUint(c.Conversations, 10) + " conversations/" +
		strconv.FormatUint(c.Envelopes, 10) + " envelopes"
}

const hexDigits = "0123456789abcdef"

func hexKey(k []byte) string {
	if len(k) > 32 {
		k = k[:32]
	}
	b := make([]byte, 0, 2*len(k))
	for _, x := range k {
		b = append(b, hexDigits[x>>4], hexDigits[x&15])
	}
	return string(b)
}

// Backup writes a consistent copy of the database to w while the store stays in
// use and returns the number of bytes written. The copy is a database file that
// Open accepts. It is compacted: the live data of one read transaction is copied
// into a temporary file next to the database (removed afterwards, and by Open if a
// crash left it), which is then written to w; so a backup holds no bytes of data
// deleted before it began. Backups run one at a time.
func (s *Store) Backup(w io.Writer) (int64, error) {
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	tmp := backupPath(s.path)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, ids.Wrap("backup: remove old file", err)
	}
	dst, err := bolt.Open(tmp, 0o600, boltOptions(true))
	if err != nil {
		return 0, ids.Wrap("backup: create file", err)
	}
	defer os.Remove(tmp)
	defer dst.Close()
	err = s.view(func(tx *bolt.Tx) error {
		return copyTx(tx, dst, false, func() error { return nil })
	})
	if err != nil {
		return 0, ids.Wrap("backup: copy", err)
	}
	var n int64
	err = dst.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
