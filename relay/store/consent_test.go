package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func receipt(version uint32, h byte, decision uint8) ConsentReceipt {
	return ConsentReceipt{FlowVersion: version, TextHash: [32]byte{0: h, 31: 0x5a}, Decision: decision}
}

func TestConsentReceipts(t *testing.T) {
	clock := &fixedClock{t: time.Unix(1700000119, 0)} // minute 1700000100
	s := openTest(t, Options{Now: clock.Now})
	site, conv := siteID(1), convID(1)
	mustPutSite(t, s, testSite(1))

	if _, err := s.AddConsentReceipt(bg, site, conv, receipt(1, 1, ConsentAccepted)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AddConsentReceipt to unknown conversation: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsentReceipts(site, conv); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ConsentReceipts of unknown conversation: %v, want ErrNotFound", err)
	}
	if _, _, err := s.EnsureConversation(bg, site, conv, key(1)); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ConsentReceipts(site, conv); err != nil || len(list) != 0 {
		t.Fatalf("ConsentReceipts of a new conversation: %+v %v", list, err)
	}
	for _, d := range []uint8{0, 3, 255} {
		if _, err := s.AddConsentReceipt(bg, site, conv, receipt(1, 1, d)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("decision %d: %v, want ErrInvalid", d, err)
		}
	}

	// The caller's time is ignored: the store takes the commit minute.
	r1 := receipt(3, 1, ConsentAccepted)
	r1.Time = 42
	list, err := s.AddConsentReceipt(bg, site, conv, r1)
	want1 := receipt(3, 1, ConsentAccepted)
	want1.Time = 1700000100
	if err != nil || !slices.Equal(list, []ConsentReceipt{want1}) {
		t.Fatalf("first receipt: %+v %v", list, err)
	}
	// The same decision again (a reload showing the same step) is not stored twice.
	clock.Set(time.Unix(1700000300, 0))
	list, err = s.AddConsentReceipt(bg, site, conv, receipt(3, 1, ConsentAccepted))
	if err != nil || !slices.Equal(list, []ConsentReceipt{want1}) {
		t.Fatalf("repeated receipt: %+v %v", list, err)
	}
	// Another decision on the same text is a new receipt.
	list, err = s.AddConsentReceipt(bg, site, conv, receipt(3, 1, ConsentDeclined))
	want2 := receipt(3, 1, ConsentDeclined)
	want2.Time = 1700000280
	if err != nil || !slices.Equal(list, []ConsentReceipt{want1, want2}) {
		t.Fatalf("second receipt: %+v %v", list, err)
	}
	// Equal to an older one but not to the last: stored.
	list, err = s.AddConsentReceipt(bg, site, conv, receipt(3, 1, ConsentAccepted))
	if err != nil || len(list) != 3 || !sameReceipt(&list[2], &want1) {
		t.Fatalf("third receipt: %+v %v", list, err)
	}
	got, err := s.ConsentReceipts(site, conv)
	if err != nil || !slices.Equal(got, list) {
		t.Fatalf("ConsentReceipts = %+v %v, want %+v", got, err, list)
	}
	// Another conversation has its own list.
	if _, _, err := s.EnsureConversation(bg, site, convID(2), key(2)); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ConsentReceipts(site, convID(2)); err != nil || len(list) != 0 {
		t.Fatalf("other conversation: %+v %v", list, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestConsentReceiptLimit(t *testing.T) {
	s := openTest(t, Options{})
	site, conv := siteID(1), convID(1)
	mustPutSite(t, s, testSite(1))
	if _, _, err := s.EnsureConversation(bg, site, conv, key(1)); err != nil {
		t.Fatal(err)
	}
	for i := range MaxConsentReceipts {
		list, err := s.AddConsentReceipt(bg, site, conv, receipt(1, byte(i), ConsentAccepted))
		if err != nil || len(list) != i+1 {
			t.Fatalf("receipt %d: %d %v", i, len(list), err)
		}
	}
	if _, err := s.AddConsentReceipt(bg, site, conv, receipt(1, 99, ConsentAccepted)); !errors.Is(err, ErrLimit) {
		t.Fatalf("receipt beyond the limit: %v, want ErrLimit", err)
	}
	// Repeating the last one is still answered (nothing is added).
	list, err := s.AddConsentReceipt(bg, site, conv, receipt(1, MaxConsentReceipts-1, ConsentAccepted))
	if err != nil || len(list) != MaxConsentReceipts {
		t.Fatalf("repeat at the limit: %d %v", len(list), err)
	}
	if list, _ := s.ConsentReceipts(site, conv); len(list) != MaxConsentReceipts {
		t.Fatalf("stored %d receipts", len(list))
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// Receipts are durable: what AddConsentReceipt returned is there after a reopen.
func TestConsentReceiptsDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	mustPutSite(t, s, testSite(1))
	var wg sync.WaitGroup
	lists := make([][]ConsentReceipt, 8)
	for i := range lists {
		c := convID(byte(i))
		if _, _, err := s.EnsureConversation(bg, siteID(1), c, key(byte(i))); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // concurrent: several receipts in one group commit
			defer wg.Done()
			for j := range 3 {
				l, err := s.AddConsentReceipt(bg, siteID(1), c, receipt(uint32(i), byte(j), ConsentAccepted))
				if err != nil {
					t.Error(err)
					return
				}
				lists[i] = l
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: path})
	for i, want := range lists {
		got, err := s.ConsentReceipts(siteID(1), convID(byte(i)))
		if err != nil || len(got) != 3 || !slices.Equal(got, want) {
			t.Fatalf("conversation %d after reopen: %+v %v, want %+v", i, got, err, want)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestConsentReceiptCancelled(t *testing.T) {
	s := openTest(t, Options{})
	mustPutSite(t, s, testSite(1))
	if _, _, err := s.EnsureConversation(bg, siteID(1), convID(1), key(1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.AddConsentReceipt(ctx, siteID(1), convID(1), receipt(1, 1, ConsentAccepted)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if list, _ := s.ConsentReceipts(siteID(1), convID(1)); len(list) != 0 {
		t.Fatalf("cancelled receipt stored: %+v", list)
	}
}

func TestFlows(t *testing.T) {
	s := openTest(t, Options{})
	site := siteID(1)
	if _, err := s.PutFlow(bg, site, []byte("f")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutFlow for unknown site: %v, want ErrNotFound", err)
	}
	mustPutSite(t, s, testSite(1))
	mustPutSite(t, s, testSite(2))
	if _, _, err := s.Flow(site); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Flow before put: %v, want ErrNotFound", err)
	}
	if _, err := s.PutFlow(bg, site, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty flow: %v, want ErrInvalid", err)
	}
	if _, err := s.PutFlow(bg, site, make([]byte, MaxFlowSize+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("too large flow: %v, want ErrInvalid", err)
	}
	steps := []struct {
		body string
		rev  uint32
	}{{"alpha", 1}, {"alpha", 1}, {"beta", 2}, {"beta", 2}, {"alpha", 3}}
	for _, st := range steps {
		in := []byte(st.body)
		rev, err := s.PutFlow(bg, site, in)
		if err != nil || rev != st.rev {
			t.Fatalf("PutFlow(%q) = %d %v, want %d", st.body, rev, err, st.rev)
		}
		in[0] = 'X' // the store keeps its own copy
		gotRev, got, err := s.Flow(site)
		if err != nil || gotRev != st.rev || string(got) != st.body {
			t.Fatalf("Flow = %d %q %v, want %d %q", gotRev, got, err, st.rev, st.body)
		}
	}
	// Sites have their own revisions.
	if rev, err := s.PutFlow(bg, siteID(2), []byte("beta")); err != nil || rev != 1 {
		t.Fatalf("other site: %d %v", rev, err)
	}
	big := make([]byte, MaxFlowSize)
	big[0] = 1
	if rev, err := s.PutFlow(bg, site, big); err != nil || rev != 4 {
		t.Fatalf("largest flow: %d %v", rev, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestFlowRevisionExhausted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	mustPutSite(t, s, testSite(1))
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := siteID(1)
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFlows).Put(id[:], encodeFlow(1<<32-1, []byte("last")))
	})
	db.Close()
	s = openTest(t, Options{Path: path})
	if rev, err := s.PutFlow(bg, id, []byte("last")); err != nil || rev != 1<<32-1 {
		t.Fatalf("same flow at the last revision: %d %v", rev, err)
	}
	if _, err := s.PutFlow(bg, id, []byte("next")); !errors.Is(err, ErrLimit) {
		t.Fatalf("new flow after the last revision: %v, want ErrLimit", err)
	}
}

func TestFlowDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	mustPutSite(t, s, testSite(1))
	for _, b := range []string{"one", "two", "three"} {
		if _, err := s.PutFlow(bg, siteID(1), []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, Options{Path: path})
	if rev, f, err := s.Flow(siteID(1)); err != nil || rev != 3 || string(f) != "three" {
		t.Fatalf("Flow after reopen: %d %q %v", rev, f, err)
	}
	if rev, err := s.PutFlow(bg, siteID(1), []byte("three")); err != nil || rev != 3 {
		t.Fatalf("same flow after reopen: %d %v", rev, err)
	}
}

// A database of schema version 1 is migrated on open: its data stays, the flows
// bucket appears, and flows and receipts can be stored.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := testSite(1)
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx, migrations[:1]); err != nil {
			return err
		}
		return tx.Bucket(bucketSites).Put(site.ID[:], encodeSite(&site))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Options{Path: path})
	if got, err := s.Site(site.ID); err != nil || !equalSite(got, site) {
		t.Fatalf("site after migration: %+v %v", got, err)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after migration: %v", err)
	}
	if _, err := s.PutFlow(bg, site.ID, []byte("f")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.EnsureConversation(bg, site.ID, convID(1), key(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddConsentReceipt(bg, site.ID, convID(1), receipt(1, 1, ConsentDeclined)); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}
