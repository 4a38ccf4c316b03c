package store

import (
	"errors"
	"io"
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
// roster, flow, conversation and counter belongs to a known site; each conversation holds
// only its meta record, envelopes, senders and (optionally) consent receipts, exactly
// the envelope positions 1 … last pos, delivered pos ≤ last pos, and every
// sender's last pos points at an envelope; the per-site counters equal the number of
// conversations and envelopes. It returns nil or the problems found (at most 20),
// joined; each matches ErrCorrupt unless bbolt reported it.
func (s *Store) Check() error {
	var c checker
	err := s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			c.add("bbolt check", err)
		}
		if c.full() {
			return nil
		}
		checkLayout(tx, &c)
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(c.problems...)
}

func checkLayout(tx *bolt.Tx, c *checker) {
	known := map[string]bool{string(bucketMeta): true, string(bucketSites): true,
		string(bucketRosters): true, string(bucketConvs): true, string(bucketCounters): true,
		string(bucketFlows): true}
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
	if n := countKeys(meta); n != 1 {
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
	if envs == nil || senders == nil || countKeys(cb) != keys {
		c.fail(where, "unexpected layout")
		return 0
	}
	var count, prev uint64
	envs.ForEach(func(k, v []byte) error {
		pos, err := decodePosKey(k)
		if err != nil || v == nil {
			c.fail(where, "bad envelope key")
			return nil
		}
		if pos != prev+1 {
			c.fail(where, "envelope positions not contiguous at "+strconv.FormatUint(pos, 10))
		}
		prev = pos
		count++
		if _, _, err := decodeEnvelope(v); err != nil {
			c.add(where+", pos "+strconv.FormatUint(pos, 10), err)
		}
		return nil
	})
	if prev != m.LastPos {
		c.fail(where, "last pos "+strconv.FormatUint(m.LastPos, 10)+
			" but highest envelope "+strconv.FormatUint(prev, 10))
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

// Backup writes a consistent copy of the whole database to w while the store stays
// in use (one read transaction) and returns the number of bytes written. The copy is
// a database file that Open accepts.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
