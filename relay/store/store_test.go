package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

// fixedClock returns a clock that the test can move.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openTest(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "relay.db")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func siteID(b byte) ids.SiteID { return ids.SiteID{0: b, 15: 0xee} }
func key(b byte) ids.Key       { return ids.Key{0: b, 31: 0x77} }
func convID(b byte) ids.ConvID { return ids.ConvID{0: b, 1: 0x11} }

func testSite(b byte) Site {
	return Site{
		ID:            siteID(b),
		Name:          "Bäckerei Müller",
		Origins:       []string{"https://example.com", "https://www.example.com"},
		Owner:         key(0xa0 + b),
		RetentionDays: 30,
		PrivacyURL:    "https://example.com/datenschutz",
		Created:       1700000000,
	}
}

func mustPutSite(t testing.TB, s *Store, site Site) {
	t.Helper()
	if err := s.PutSite(context.Background(), site); err != nil {
		t.Fatalf("PutSite: %v", err)
	}
}

func equalSite(a, b Site) bool {
	if a.ID != b.ID || a.Name != b.Name || a.Owner != b.Owner || a.RetentionDays != b.RetentionDays ||
		a.PrivacyURL != b.PrivacyURL || a.Created != b.Created || len(a.Origins) != len(b.Origins) {
		return false
	}
	for i := range a.Origins {
		if a.Origins[i] != b.Origins[i] {
			return false
		}
	}
	return true
}

func TestSites(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, err := s.Site(siteID(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Site on empty store: %v, want ErrNotFound", err)
	}
	a, b := testSite(2), testSite(1)
	b.Origins = nil
	b.PrivacyURL = ""
	b.RetentionDays = 0
	mustPutSite(t, s, a)
	mustPutSite(t, s, b)
	got, err := s.Site(a.ID)
	if err != nil || !equalSite(got, a) {
		t.Fatalf("Site = %+v, %v; want %+v", got, err, a)
	}
	list, err := s.Sites()
	if err != nil || len(list) != 2 || !equalSite(list[0], b) || !equalSite(list[1], a) {
		t.Fatalf("Sites = %+v, %v", list, err)
	}

	// Update with the same owner.
	a.Name = "Neu"
	a.Origins = []string{"https://neu.example"}
	mustPutSite(t, s, a)
	if got, _ := s.Site(a.ID); !equalSite(got, a) {
		t.Fatalf("after update Site = %+v", got)
	}
	// Another owner key is refused and changes nothing.
	c := a
	c.Owner = key(0x55)
	c.Name = "takeover"
	if err := s.PutSite(ctx, c); !errors.Is(err, ErrExists) {
		t.Fatalf("PutSite with another owner: %v, want ErrExists", err)
	}
	if got, _ := s.Site(a.ID); !equalSite(got, a) {
		t.Fatalf("refused PutSite changed the site: %+v", got)
	}
}

func TestPutSiteInvalid(t *testing.T) {
	s := openTest(t, Options{})
	long := string(bytes.Repeat([]byte("x"), MaxSiteName+1))
	cases := map[string]func(*Site){
		"zero id":         func(x *Site) { x.ID = ids.SiteID{} },
		"zero owner":      func(x *Site) { x.Owner = ids.Key{} },
		"long name":       func(x *Site) { x.Name = long },
		"control in name": func(x *Site) { x.Name = "a\nb" },
		"bad utf8":        func(x *Site) { x.Name = "\xff" },
		"empty origin":    func(x *Site) { x.Origins = []string{""} },
		"space in origin": func(x *Site) { x.Origins = []string{"https://a b"} },
		"dup origin":      func(x *Site) { x.Origins = []string{"https://a", "https://a"} },
		"negative days":   func(x *Site) { x.RetentionDays = -1 },
		"too many days":   func(x *Site) { x.RetentionDays = MaxRetentionDays + 1 },
		"negative time":   func(x *Site) { x.Created = -1 },
		"url with space":  func(x *Site) { x.PrivacyURL = "https://a/ b" },
	}
	for name, mod := range cases {
		site := testSite(1)
		mod(&site)
		if err := s.PutSite(context.Background(), site); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: PutSite = %v, want ErrInvalid", name, err)
		}
	}
	if list, _ := s.Sites(); len(list) != 0 {
		t.Fatalf("invalid sites were stored: %+v", list)
	}
}

func TestRosters(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	id := siteID(1)
	if err := s.PutRoster(ctx, id, 1, []byte("r1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutRoster for unknown site: %v, want ErrNotFound", err)
	}
	mustPutSite(t, s, testSite(1))
	if _, _, err := s.Roster(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Roster before put: %v", err)
	}
	if err := s.PutRoster(ctx, id, 0, []byte("r0")); !errors.Is(err, ErrStale) {
		t.Fatalf("PutRoster version 0: %v, want ErrStale", err)
	}
	if err := s.PutRoster(ctx, id, 3, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PutRoster empty: %v, want ErrInvalid", err)
	}
	if err := s.PutRoster(ctx, id, 3, []byte("r3")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{3, 2} {
		if err := s.PutRoster(ctx, id, v, []byte("old")); !errors.Is(err, ErrStale) {
			t.Fatalf("PutRoster version %d after 3: %v, want ErrStale", v, err)
		}
	}
	v, raw, err := s.Roster(id)
	if err != nil || v != 3 || string(raw) != "r3" {
		t.Fatalf("Roster = %d %q %v", v, raw, err)
	}
	if err := s.PutRoster(ctx, id, 4, []byte("r4")); err != nil {
		t.Fatal(err)
	}
	v, raw, err = s.Roster(id)
	if err != nil || v != 4 || string(raw) != "r4" {
		t.Fatalf("Roster = %d %q %v", v, raw, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Fatalf("SchemaVersion %d, but %d migrations", SchemaVersion, len(migrations))
	}
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	mustPutSite(t, s, testSite(1))
	s.Close()

	// The stored version is the current one.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v uint32
	db.View(func(tx *bolt.Tx) error {
		v, err = decodeSchema(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if err != nil || v != SchemaVersion {
		t.Fatalf("stored schema version %d, %v", v, err)
	}
	// Pretend a newer program wrote it.
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(SchemaVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(Options{Path: path}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of newer schema: %v, want ErrSchema", err)
	}
}

func TestOpenForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	db.Close()
	if _, err := Open(Options{Path: path}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of a bbolt file without schema: %v, want ErrSchema", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte{0x42}, 8192), 0o600)
	if _, err := Open(Options{Path: junk}); err == nil {
		t.Fatal("Open of a junk file succeeded")
	}
}

func TestMigrate(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "m.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ran []int
	step := func(i int) migration {
		return func(tx *bolt.Tx) error { ran = append(ran, i); return nil }
	}
	list := []migration{step(1), step(2)}
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, list) }); err != nil {
		t.Fatal(err)
	}
	list = append(list, step(3), step(4))
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, list) }); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 4 || ran[0] != 1 || ran[1] != 2 || ran[2] != 3 || ran[3] != 4 {
		t.Fatalf("migrations ran %v, want [1 2 3 4]", ran)
	}
	// A failing migration rolls everything back, including earlier steps in the same run.
	list = append(list, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("five"))
		return err
	}, func(tx *bolt.Tx) error { return errors.New("boom") })
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, list) }); err == nil {
		t.Fatal("failing migration did not fail")
	}
	db.View(func(tx *bolt.Tx) error {
		v, _ := schemaVersion(tx)
		if v != 4 || tx.Bucket([]byte("five")) != nil {
			t.Errorf("after failed migration: version %d, bucket five %v", v, tx.Bucket([]byte("five")) != nil)
		}
		return nil
	})
	// An older program refuses it.
	if err := db.Update(func(tx *bolt.Tx) error { return migrate(tx, list[:2]) }); !errors.Is(err, ErrSchema) {
		t.Fatalf("older migration list: %v, want ErrSchema", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	openTest(t, Options{Path: path})
	start := time.Now()
	_, err := Open(Options{Path: path})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	openTest(t, Options{Path: path})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestClose(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	mustPutSite(t, s, testSite(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.PutSite(ctx, testSite(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("PutSite after Close: %v", err)
	}
	if _, err := s.Site(siteID(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Site after Close: %v", err)
	}
	if _, err := s.Append(ctx, siteID(1), convID(1), key(1), 1, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := s.Check(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after Close: %v", err)
	}
}

// Close lets every queued write finish: none of the writers started before Close
// may get an error other than ErrClosed, and every write that succeeded is stored.
func TestCloseDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path, NoSync: true})
	ctx := context.Background()
	mustPutSite(t, s, testSite(1))
	const n = 64
	type ack struct {
		conv ids.ConvID
		pos  uint64
	}
	acks := make(chan ack, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, v := convID(byte(i)), key(byte(i))
			<-start
			if _, _, err := s.EnsureConversation(ctx, siteID(1), c, v); err != nil {
				if !errors.Is(err, ErrClosed) {
					t.Errorf("EnsureConversation: %v", err)
				}
				return
			}
			a, err := s.Append(ctx, siteID(1), c, v, 1, []byte{byte(i)})
			if err != nil {
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Append: %v", err)
				}
				return
			}
			acks <- ack{c, a.Pos}
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(acks)
	s2 := openTest(t, Options{Path: path})
	for a := range acks {
		c, err := s2.Conversation(siteID(1), a.conv)
		if err != nil || c.LastPos != a.pos {
			t.Fatalf("acknowledged append lost: %+v %v", c, err)
		}
	}
	if err := s2.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelled(t *testing.T) {
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutSite(ctx, testSite(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutSite with cancelled ctx: %v", err)
	}
	if _, err := s.Site(siteID(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled PutSite was stored: %v", err)
	}
}

func TestCheckGood(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.Check(); err != nil {
		t.Fatalf("Check on empty store: %v", err)
	}
	fill(t, s)
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// fill creates two sites with a roster, conversations and envelopes.
func fill(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	for si := byte(1); si <= 2; si++ {
		mustPutSite(t, s, testSite(si))
		if err := s.PutRoster(ctx, siteID(si), 7, []byte("roster")); err != nil {
			t.Fatal(err)
		}
		for ci := byte(1); ci <= 3; ci++ {
			if _, _, err := s.EnsureConversation(ctx, siteID(si), convID(ci), key(ci)); err != nil {
				t.Fatal(err)
			}
			for seq := uint64(1); seq <= uint64(ci)*2; seq++ {
				sender := key(ci)
				if seq%2 == 0 {
					sender = key(0x80)
				}
				want := (seq + 1) / 2
				if _, err := s.Append(ctx, siteID(si), convID(ci), sender, want, envBytes(si, ci, seq)); err != nil {
					t.Fatal(err)
				}
			}
			// Conversation ci holds ci-1 consent receipts.
			for i := byte(1); i < ci; i++ {
				r := ConsentReceipt{FlowVersion: uint32(si), TextHash: [32]byte{i, ci}, Decision: ConsentAccepted}
				if _, err := s.AddConsentReceipt(ctx, siteID(si), convID(ci), r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Site 1 has a flow in its second revision, site 2 none.
	for _, b := range []string{"flow one", "flow two"} {
		if _, err := s.PutFlow(ctx, siteID(1), []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
}

func envBytes(a, b byte, seq uint64) []byte {
	return append(bytes.Repeat([]byte{a, b}, 20), byte(seq), byte(seq>>8))
}

// corrupt applies fn to the raw database and expects Check to fail with ErrCorrupt.
func TestCheckFindsProblems(t *testing.T) {
	cases := map[string]func(tx *bolt.Tx) error{
		"last pos too high": func(tx *bolt.Tx) error {
			cb := convBucket(tx, siteID(1), convID(2))
			m, _ := readConvMeta(cb)
			m.LastPos++
			return cb.Put(keyConvMeta, encodeConvMeta(&m))
		},
		"envelope missing": func(tx *bolt.Tx) error {
			return convBucket(tx, siteID(1), convID(3)).Bucket(bucketEnvs).Delete(posKey(2))
		},
		"gap in positions": func(tx *bolt.Tx) error { // counters and last pos still agree
			cb := convBucket(tx, siteID(1), convID(3))
			envs := cb.Bucket(bucketEnvs)
			v := append([]byte(nil), envs.Get(posKey(2))...)
			if err := envs.Delete(posKey(2)); err != nil {
				return err
			}
			if err := envs.Put(posKey(7), v); err != nil {
				return err
			}
			m, _ := readConvMeta(cb)
			m.LastPos = 7
			return cb.Put(keyConvMeta, encodeConvMeta(&m))
		},
		"counter wrong": func(tx *bolt.Tx) error {
			id := siteID(2)
			return tx.Bucket(bucketCounters).Put(id[:], encodeCounters(counters{3, 11}))
		},
		"counter missing": func(tx *bolt.Tx) error {
			id := siteID(2)
			return tx.Bucket(bucketCounters).Delete(id[:])
		},
		"bad site record": func(tx *bolt.Tx) error {
			id := siteID(1)
			return tx.Bucket(bucketSites).Put(id[:], []byte{1, 2, 3})
		},
		"orphan roster": func(tx *bolt.Tx) error {
			id := siteID(9)
			return tx.Bucket(bucketRosters).Put(id[:], encodeRoster(1, []byte("r")))
		},
		"bad stored time": func(tx *bolt.Tx) error {
			return convBucket(tx, siteID(1), convID(1)).Bucket(bucketEnvs).Put(posKey(1), encodeEnvelope(61, []byte("x")))
		},
		"bad receipts record": func(tx *bolt.Tx) error {
			return convBucket(tx, siteID(1), convID(3)).Put(keyReceipts, []byte{0})
		},
		"receipts as a bucket": func(tx *bolt.Tx) error {
			_, err := convBucket(tx, siteID(1), convID(1)).CreateBucket(keyReceipts)
			return err
		},
		"stray key in conversation": func(tx *bolt.Tx) error {
			return convBucket(tx, siteID(1), convID(1)).Put([]byte("x"), []byte{1})
		},
		"bad flow record": func(tx *bolt.Tx) error {
			id := siteID(1)
			return tx.Bucket(bucketFlows).Put(id[:], encodeFlow(0, []byte("f")))
		},
		"orphan flow": func(tx *bolt.Tx) error {
			id := siteID(9)
			return tx.Bucket(bucketFlows).Put(id[:], encodeFlow(1, []byte("f")))
		},
		"flows bucket missing": func(tx *bolt.Tx) error {
			return tx.DeleteBucket(bucketFlows)
		},
		"unknown bucket": func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("stray"))
			return err
		},
		"stray key in meta": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put([]byte("x"), []byte{1})
		},
		"live conversation with a tombstone": func(tx *bolt.Tx) error {
			m := hmac.New(sha256.New, tx.Bucket(bucketMeta).Get(keyTombKey))
			site, conv := siteID(1), convID(2)
			m.Write(site[:])
			m.Write(conv[:])
			return tx.Bucket(bucketTombs).Put(m.Sum(nil), tombValue)
		},
		"bad tombstone": func(tx *bolt.Tx) error {
			return tx.Bucket(bucketTombs).Put(bytes.Repeat([]byte{1}, 32), []byte{2})
		},
		"replaced and stored": func(tx *bolt.Tx) error {
			r, err := convBucket(tx, siteID(1), convID(3)).CreateBucket(bucketReplaced)
			if err != nil {
				return err
			}
			return r.Put(posKey(2), encodeCounter(3))
		},
		"replaced by an earlier position": func(tx *bolt.Tx) error {
			cb := convBucket(tx, siteID(1), convID(3))
			if err := cb.Bucket(bucketEnvs).Delete(posKey(2)); err != nil {
				return err
			}
			r, err := cb.CreateBucket(bucketReplaced)
			if err != nil {
				return err
			}
			if err := r.Put(posKey(2), encodeCounter(1)); err != nil {
				return err
			}
			id := siteID(1)
			return tx.Bucket(bucketCounters).Put(id[:], encodeCounters(counters{3, 11}))
		},
		"audit of unknown site": func(tx *bolt.Tx) error {
			b, err := tx.Bucket(bucketAudit).CreateBucket(bytes.Repeat([]byte{9}, 16))
			if err != nil {
				return err
			}
			return b.Put(posKey(1), encodeAudit(EraseAgent, 86400))
		},
		"bad audit entry": func(tx *bolt.Tx) error {
			id := siteID(1)
			b, err := tx.Bucket(bucketAudit).CreateBucket(id[:])
			if err != nil {
				return err
			}
			return b.Put(posKey(1), encodeAudit(EraseAgent, 86401))
		},
		"request counter zero": func(tx *bolt.Tx) error {
			id := siteID(1)
			b, err := tx.Bucket(bucketRequests).CreateBucket(id[:])
			if err != nil {
				return err
			}
			return b.Put(bytes.Repeat([]byte{3}, 32), encodeCounter(0))
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay.db")
			s := openTest(t, Options{Path: path, NoSync: true})
			fill(t, s)
			s.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(fn); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s = openTest(t, Options{Path: path, NoSync: true})
			if err := s.Check(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Check = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestBackup(t *testing.T) {
	s := openTest(t, Options{})
	fill(t, s)
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
	}
	// The store stays usable while and after backing up.
	if _, err := s.Append(context.Background(), siteID(1), convID(1), key(1), 2, []byte("after")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openTest(t, Options{Path: path})
	if err := c.Check(); err != nil {
		t.Fatalf("Check of backup: %v", err)
	}
	assertSameData(t, c, s, func(site ids.SiteID, conv ids.ConvID) uint64 {
		if site == siteID(1) && conv == convID(1) {
			return 1 // the append after the backup is not in it
		}
		return 0
	})
}

// assertSameData compares sites, rosters, conversations and envelopes of two stores;
// extra(site, conv) is how many more envelopes b may have at the end.
func assertSameData(t *testing.T, a, b *Store, extra func(ids.SiteID, ids.ConvID) uint64) {
	t.Helper()
	sa, err1 := a.Sites()
	sb, err2 := b.Sites()
	if err1 != nil || err2 != nil || len(sa) != len(sb) || len(sa) == 0 {
		t.Fatalf("Sites: %d %v, %d %v", len(sa), err1, len(sb), err2)
	}
	for i := range sa {
		if !equalSite(sa[i], sb[i]) {
			t.Fatalf("site %d differs", i)
		}
		va, ra, _ := a.Roster(sa[i].ID)
		vb, rb, _ := b.Roster(sa[i].ID)
		if va != vb || !bytes.Equal(ra, rb) {
			t.Fatalf("roster differs")
		}
		fa, fla, erra := a.Flow(sa[i].ID)
		fb, flb, errb := b.Flow(sa[i].ID)
		if fa != fb || !bytes.Equal(fla, flb) || (erra == nil) != (errb == nil) {
			t.Fatalf("flow differs: %d %q %v, %d %q %v", fa, fla, erra, fb, flb, errb)
		}
		ca, _ := a.Conversations(sa[i].ID, 0)
		cb, _ := b.Conversations(sa[i].ID, 0)
		if len(ca) != len(cb) || len(ca) == 0 {
			t.Fatalf("conversations: %d vs %d", len(ca), len(cb))
		}
		for j := range ca {
			x, y := ca[j], cb[j]
			y.LastPos -= extra(y.Site, y.ID)
			if x != y {
				t.Fatalf("conversation %+v vs %+v", x, y)
			}
			ra, erra := a.ConsentReceipts(x.Site, x.ID)
			rb, errb := b.ConsentReceipts(x.Site, x.ID)
			if erra != nil || errb != nil || !slices.Equal(ra, rb) {
				t.Fatalf("consent receipts differ: %v %v, %v %v", ra, erra, rb, errb)
			}
			var ea, eb [][]byte
			a.Envelopes(x.Site, x.ID, 0, func(_ uint64, _ int64, raw []byte) error { ea = append(ea, raw); return nil })
			b.Envelopes(x.Site, x.ID, 0, func(_ uint64, _ int64, raw []byte) error { eb = append(eb, raw); return nil })
			if uint64(len(ea)) != x.LastPos || len(eb) < len(ea) {
				t.Fatalf("envelopes: %d vs %d", len(ea), len(eb))
			}
			for k := range ea {
				if !bytes.Equal(ea[k], eb[k]) {
					t.Fatalf("envelope %d differs", k+1)
				}
			}
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	fill(t, s)
	if _, err := s.MarkDelivered(context.Background(), siteID(2), convID(3), 4); err != nil {
		t.Fatal(err)
	}
	// A second store on a copy serves as the reference after s is reopened.
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	os.WriteFile(ref, buf.Bytes(), 0o600)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: path})
	r := openTest(t, Options{Path: ref})
	assertSameData(t, r, s, func(ids.SiteID, ids.ConvID) uint64 { return 0 })
	c, err := s.Conversation(siteID(2), convID(3))
	if err != nil || c.DeliveredPos != 4 || c.LastPos != 6 || c.Visitor != key(3) {
		t.Fatalf("Conversation after reopen: %+v %v", c, err)
	}
	if seq, err := s.LastSeq(siteID(2), convID(3), key(0x80)); err != nil || seq != 3 {
		t.Fatalf("LastSeq after reopen: %d %v", seq, err)
	}
	if rev, f, err := s.Flow(siteID(1)); err != nil || rev != 2 || string(f) != "flow two" {
		t.Fatalf("Flow after reopen: %d %q %v", rev, f, err)
	}
	if list, err := s.ConsentReceipts(siteID(2), convID(3)); err != nil || len(list) != 2 ||
		list[1].TextHash != [32]byte{2, 3} || list[1].FlowVersion != 2 || list[1].Decision != ConsentAccepted {
		t.Fatalf("ConsentReceipts after reopen: %+v %v", list, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// And it goes on from where it was.
	a, err := s.Append(context.Background(), siteID(2), convID(3), key(3), 4, []byte("next"))
	if err != nil || a.Pos != 7 {
		t.Fatalf("Append after reopen: %+v %v", a, err)
	}
}
