package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/envelope"
	"siegel/shared/ids"
)

// randBytes returns n random bytes (distinctive: they occur nowhere by chance).
func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randConv(t testing.TB) ids.ConvID { return ids.ConvID(randBytes(t, 16)) }
func randKey(t testing.TB) ids.Key     { return ids.Key(randBytes(t, 32)) }

// dataFiles returns the contents of every file in dir.
func dataFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			t.Fatalf("unexpected directory %s in the data folder", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	if len(files) == 0 {
		t.Fatal("no files in the data folder")
	}
	return files
}

// findIn reports the first file that contains needle.
func findIn(files map[string][]byte, needle []byte) (string, bool) {
	for name, b := range files {
		if bytes.Contains(b, needle) {
			return name, true
		}
	}
	return "", false
}

// countersOf reads a site's counters record.
func countersOf(t testing.TB, s *Store, site ids.SiteID) counters {
	t.Helper()
	var c counters
	if err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = readCounters(tx, site[:])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func envelopeCount(t testing.TB, s *Store, site ids.SiteID, conv ids.ConvID) int {
	t.Helper()
	n := 0
	if err := s.Envelopes(site, conv, 0, func(uint64, int64, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestErase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	clock := &fixedClock{t: time.Unix(1700000000, 0)} // 2023-11-14 22:13:20 UTC
	s := openTest(t, Options{Path: path, Now: clock.Now})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	gone, stays := randConv(t), randConv(t)
	visitor, other, agent := randKey(t), randKey(t), randKey(t)
	var goneEnvs [][]byte
	for _, c := range []struct {
		conv    ids.ConvID
		visitor ids.Key
	}{{gone, visitor}, {stays, other}} {
		if _, _, err := s.EnsureConversation(bg, site, c.conv, c.visitor); err != nil {
			t.Fatal(err)
		}
		for seq := uint64(1); seq <= 3; seq++ {
			raw := randBytes(t, 600)
			if _, err := s.Append(bg, site, c.conv, c.visitor, seq, raw); err != nil {
				t.Fatal(err)
			}
			if c.conv == gone {
				goneEnvs = append(goneEnvs, raw)
			}
		}
		if _, err := s.AddConsentReceipt(bg, site, c.conv, receipt(1, 9, ConsentAccepted)); err != nil {
			t.Fatal(err)
		}
	}
	// An agent's envelope in the conversation.
	if _, err := s.Append(bg, site, gone, agent, 1, randBytes(t, 300)); err != nil {
		t.Fatal(err)
	}
	if got := countersOf(t, s, site); got != (counters{2, 7}) {
		t.Fatalf("counters before: %+v", got)
	}

	// Refusals change nothing.
	if err := s.Erase(bg, site, gone, 0, &Authorization{agent, 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reason 0: %v", err)
	}
	if err := s.Erase(bg, site, gone, 4, &Authorization{agent, 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reason 4: %v", err)
	}
	if err := s.Erase(bg, site, gone, EraseAgent, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("agent erase without authorization: %v", err)
	}
	if err := s.Erase(bg, site, randConv(t), EraseAgent, &Authorization{agent, 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	if err := s.Erase(bg, siteID(9), gone, EraseAgent, &Authorization{agent, 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
	if err := s.Erase(bg, site, gone, EraseAgent, &Authorization{agent, 0}); !errors.Is(err, ErrReplay) {
		t.Fatalf("counter 0: %v", err)
	}
	if n := envelopeCount(t, s, site, gone); n != 4 {
		t.Fatalf("refused erase changed the conversation: %d envelopes", n)
	}
	if a, _ := s.Audit(site); len(a) != 0 {
		t.Fatalf("refused erase wrote audit entries: %+v", a)
	}

	clock.Set(time.Unix(1700050000, 0)) // the next day, 13:53:20 UTC
	select {
	case <-s.Deletions():
		t.Fatal("deletion signalled before any erasure")
	default:
	}
	if err := s.Erase(bg, site, gone, EraseAgent, &Authorization{agent, 42}); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	select {
	case <-s.Deletions():
	default:
		t.Fatal("erasure not signalled on Deletions")
	}

	// Everything of the conversation is gone, nothing else.
	if _, err := s.Conversation(site, gone); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Conversation after erase: %v", err)
	}
	if err := s.Envelopes(site, gone, 0, func(uint64, int64, []byte) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Envelopes after erase: %v", err)
	}
	if _, err := s.ConsentReceipts(site, gone); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ConsentReceipts after erase: %v", err)
	}
	if _, err := s.LastSeq(site, gone, visitor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastSeq after erase: %v", err)
	}
	if got := countersOf(t, s, site); got != (counters{1, 3}) {
		t.Fatalf("counters after erase: %+v, want 1 conversation, 3 envelopes", got)
	}
	if n := envelopeCount(t, s, site, stays); n != 3 {
		t.Fatalf("other conversation: %d envelopes", n)
	}
	if list, err := s.Conversations(site, 0); err != nil || len(list) != 1 || list[0].ID != stays {
		t.Fatalf("Conversations after erase: %+v %v", list, err)
	}

	// The tombstone: keyed, present, refusing a revival.
	if ok, err := s.Tombstoned(site, gone); err != nil || !ok {
		t.Fatalf("Tombstoned(erased) = %v %v", ok, err)
	}
	if ok, err := s.Tombstoned(site, stays); err != nil || ok {
		t.Fatalf("Tombstoned(live) = %v %v", ok, err)
	}
	if ok, _ := s.Tombstoned(siteID(2), gone); ok {
		t.Fatal("tombstone not bound to the site")
	}
	s.view(func(tx *bolt.Tx) error {
		m := hmac.New(sha256.New, tx.Bucket(bucketMeta).Get(keyTombKey))
		m.Write(site[:])
		m.Write(gone[:])
		v := tx.Bucket(bucketTombs).Get(m.Sum(nil))
		if err := decodeTomb(v); err != nil {
			t.Errorf("tombstone under HMAC(site‖conv): %x %v", v, err)
		}
		if n := countKeys(tx.Bucket(bucketTombs)); n != 1 {
			t.Errorf("%d tombstones", n)
		}
		return nil
	})
	if _, _, err := s.EnsureConversation(bg, site, gone, visitor); !errors.Is(err, ErrGone) {
		t.Fatalf("EnsureConversation after erase: %v, want ErrGone", err)
	}
	if _, err := s.Append(bg, site, gone, visitor, 4, randBytes(t, 100)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Append after erase: %v, want ErrNotFound", err)
	}
	if _, err := s.AddConsentReceipt(bg, site, gone, receipt(1, 1, ConsentAccepted)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AddConsentReceipt after erase: %v, want ErrNotFound", err)
	}
	if err := s.Erase(bg, site, gone, EraseAgent, &Authorization{agent, 43}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Erase: %v, want ErrNotFound", err)
	}

	// The audit entry: reason, site and day, nothing else.
	audit, err := s.Audit(site)
	want := AuditEntry{Day: 1700006400, Site: site, Reason: EraseAgent}
	if err != nil || len(audit) != 1 || audit[0] != want {
		t.Fatalf("Audit = %+v %v, want [%+v]", audit, err, want)
	}
	if err := s.Erase(bg, site, stays, EraseRetention, nil); err != nil {
		t.Fatalf("retention erase: %v", err)
	}
	if audit, _ = s.Audit(site); len(audit) != 2 || audit[1].Reason != EraseRetention {
		t.Fatalf("Audit after second erase = %+v", audit)
	}
	if got := countersOf(t, s, site); got != (counters{}) {
		t.Fatalf("counters after both: %+v", got)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}

	// After a compaction, neither the IDs, the visitor keys nor the envelopes of
	// the erased conversations are anywhere in the data folder; the agent's key
	// (its request counter) is.
	if _, err := s.Compact(bg); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after Compact: %v", err)
	}
	s.Close()
	files := dataFiles(t, dir)
	for what, needle := range map[string][]byte{
		"erased conversation ID": gone[:], "second conversation ID": stays[:],
		"visitor key": visitor[:], "other visitor key": other[:],
	} {
		if name, ok := findIn(files, needle); ok {
			t.Errorf("%s found in %s", what, name)
		}
	}
	for i, raw := range goneEnvs {
		if name, ok := findIn(files, raw[200:232]); ok {
			t.Errorf("bytes of erased envelope %d found in %s", i, name)
		}
	}
	if _, ok := findIn(files, agent[:]); !ok {
		t.Error("the agent's request counter is missing")
	}

	// All of it holds after reopening.
	s = openTest(t, Options{Path: path})
	if _, _, err := s.EnsureConversation(bg, site, gone, visitor); !errors.Is(err, ErrGone) {
		t.Fatalf("EnsureConversation after reopen: %v, want ErrGone", err)
	}
	if audit, err := s.Audit(site); err != nil || len(audit) != 2 || audit[0] != want {
		t.Fatalf("Audit after reopen = %+v %v", audit, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A replayed request — same or lower counter — is refused before and after a
// restart, and changes nothing.
func TestEraseReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	mustPutSite(t, s, testSite(2))
	agent := randKey(t)
	convs := []ids.ConvID{randConv(t), randConv(t), randConv(t)}
	for _, c := range convs {
		for _, st := range []ids.SiteID{site, siteID(2)} {
			v := randKey(t)
			if _, _, err := s.EnsureConversation(bg, st, c, v); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(bg, st, c, v, 1, randBytes(t, 100)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Erase(bg, site, convs[0], EraseAgent, &Authorization{agent, 100}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []uint64{100, 99, 1} {
			if err := s.Erase(bg, site, convs[1], EraseAgent, &Authorization{agent, c}); !errors.Is(err, ErrReplay) {
				t.Fatalf("%s: counter %d: %v, want ErrReplay", when, c, err)
			}
		}
		if n := envelopeCount(t, s, site, convs[1]); n != 1 {
			t.Fatalf("%s: replay changed the conversation", when)
		}
		if a, _ := s.Audit(site); len(a) != 1 {
			t.Fatalf("%s: replay wrote an audit entry: %+v", when, a)
		}
		if ok, _ := s.Tombstoned(site, convs[1]); ok {
			t.Fatalf("%s: replay wrote a tombstone", when)
		}
	}
	check("before restart")
	// Counters are per site: the same signer and counter on another site is fine.
	if err := s.Erase(bg, siteID(2), convs[1], EraseAgent, &Authorization{agent, 50}); err != nil {
		t.Fatalf("other site: %v", err)
	}
	s.Close()
	s = openTest(t, Options{Path: path})
	check("after restart")
	if err := s.Erase(bg, site, convs[1], EraseAgent, &Authorization{agent, 101}); err != nil {
		t.Fatalf("next counter: %v", err)
	}
	if err := s.Erase(bg, siteID(2), convs[2], EraseAgent, &Authorization{agent, 50}); !errors.Is(err, ErrReplay) {
		t.Fatalf("other site after restart: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// sealed returns a real envelope from id (the store parses the ones it corrects).
func sealed(t testing.TB, id *envelope.Identity, site ids.SiteID, conv ids.ConvID, seq uint64, text []byte) []byte {
	t.Helper()
	raw, err := envelope.Seal(rand.Reader, id, []ids.Key{id.BoxKey()}, envelope.Message{
		Site: site, Conv: conv, Seq: seq, Type: envelope.ContentText, Time: 1700000000000, Content: text})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func newIdentity(t testing.TB) *envelope.Identity {
	t.Helper()
	id, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCorrect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	s := openTest(t, Options{Path: path})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	vis, agent := newIdentity(t), newIdentity(t)
	conv := ids.ConversationID(site, vis.SignKey())
	if _, _, err := s.EnsureConversation(bg, site, conv, vis.SignKey()); err != nil {
		t.Fatal(err)
	}
	orig := sealed(t, vis, site, conv, 1, []byte("meine alte Adresse"))
	agentEnv := sealed(t, agent, site, conv, 1, []byte("danke"))
	second := sealed(t, vis, site, conv, 2, []byte("noch etwas"))
	for _, a := range []struct {
		id  *envelope.Identity
		seq uint64
		raw []byte
	}{{vis, 1, orig}, {agent, 1, agentEnv}, {vis, 2, second}} {
		if _, err := s.Append(bg, site, conv, a.id.SignKey(), a.seq, a.raw); err != nil {
			t.Fatal(err)
		}
	}
	fix := sealed(t, vis, site, conv, 3, []byte("meine neue Adresse"))
	vk := vis.SignKey()
	auth := func(c uint64) Authorization { return Authorization{vk, c} }

	// Refusals; none of them stores anything, nor their counter.
	refusals := []struct {
		name string
		do   func() error
		want error
	}{
		{"unknown position", func() error { _, err := s.Correct(bg, site, conv, 99, vk, 3, fix, auth(10)); return err }, ErrInvalid},
		{"position 0", func() error { _, err := s.Correct(bg, site, conv, 0, vk, 3, fix, auth(10)); return err }, ErrInvalid},
		{"agent's envelope", func() error { _, err := s.Correct(bg, site, conv, 2, vk, 3, fix, auth(10)); return err }, ErrInvalid},
		{"wrong sender", func() error {
			_, err := s.Correct(bg, site, conv, 1, agent.SignKey(), 3, fix, Authorization{agent.SignKey(), 10})
			return err
		}, ErrInvalid},
		{"agent correcting", func() error {
			fa := sealed(t, agent, site, conv, 2, []byte("x"))
			_, err := s.Correct(bg, site, conv, 2, agent.SignKey(), 2, fa, Authorization{agent.SignKey(), 10})
			return err
		}, ErrInvalid},
		{"signer not the sender", func() error {
			_, err := s.Correct(bg, site, conv, 1, vk, 3, fix, Authorization{agent.SignKey(), 10})
			return err
		}, ErrInvalid},
		{"seq mismatch", func() error { _, err := s.Correct(bg, site, conv, 1, vk, 4, fix, auth(10)); return err }, ErrInvalid},
		{"seq gap", func() error {
			f4 := sealed(t, vis, site, conv, 4, []byte("x"))
			_, err := s.Correct(bg, site, conv, 1, vk, 4, f4, auth(10))
			return err
		}, ErrSequence},
		{"not an envelope", func() error { _, err := s.Correct(bg, site, conv, 1, vk, 3, []byte("junk"), auth(10)); return err }, ErrInvalid},
		{"other conversation", func() error { _, err := s.Correct(bg, site, randConv(t), 1, vk, 3, fix, auth(10)); return err }, ErrInvalid},
		{"unknown conversation", func() error {
			c := randConv(t)
			f := sealed(t, vis, site, c, 3, []byte("x"))
			_, err := s.Correct(bg, site, c, 1, vk, 3, f, auth(10))
			return err
		}, ErrNotFound},
		{"counter 0", func() error { _, err := s.Correct(bg, site, conv, 1, vk, 3, fix, auth(0)); return err }, ErrReplay},
	}
	for _, r := range refusals {
		if err := r.do(); !errors.Is(err, r.want) {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
	}
	if c, _ := s.Conversation(site, conv); c.LastPos != 3 {
		t.Fatalf("refusals changed the conversation: %+v", c)
	}

	a, err := s.Correct(bg, site, conv, 1, vk, 3, fix, auth(10))
	if err != nil || a.Pos != 4 || a.Duplicate {
		t.Fatalf("Correct = %+v %v", a, err)
	}

	// The original's bytes are still in the file (a freed page, not yet reused: no
	// write since); after a compaction they are nowhere in the data folder.
	sample := func(raw []byte) []byte { return raw[len(raw)-200 : len(raw)-168] } // body ciphertext
	if _, ok := findIn(dataFiles(t, dir), sample(orig)); !ok {
		t.Fatal("the original's bytes are not in the file right after the correction: the scan below proves nothing")
	}
	st, err := s.Compact(bg)
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	t.Logf("compaction: %+v", st)
	files := dataFiles(t, dir)
	if name, ok := findIn(files, sample(orig)); ok {
		t.Fatalf("bytes of the corrected original found in %s after compaction", name)
	}
	for _, live := range [][]byte{second, agentEnv, fix} {
		if _, ok := findIn(files, sample(live)); !ok {
			t.Fatal("a live envelope is missing after compaction")
		}
	}
	select {
	case <-s.Deletions():
	default:
		t.Fatal("correction not signalled on Deletions")
	}
	if r, err := s.Replacements(site, conv); err != nil || r[1] != 4 {
		t.Fatalf("Replacements after compaction = %v %v", r, err)
	}
	var got []uint64
	s.Envelopes(site, conv, 0, func(pos uint64, _ int64, raw []byte) error {
		got = append(got, pos)
		if bytes.Equal(raw, orig) {
			t.Error("the corrected original is still delivered")
		}
		return nil
	})
	if len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 4 {
		t.Fatalf("positions after correction: %v, want [2 3 4]", got)
	}
	if r, err := s.Replacements(site, conv); err != nil || len(r) != 1 || r[1] != 4 {
		t.Fatalf("Replacements = %v %v", r, err)
	}
	if seq, _ := s.LastSeq(site, conv, vk); seq != 3 {
		t.Fatalf("LastSeq after correction: %d", seq)
	}
	if c := countersOf(t, s, site); c != (counters{1, 3}) {
		t.Fatalf("counters after correction: %+v", c)
	}
	// The original cannot come back: not as a duplicate, not corrected twice.
	if _, err := s.Append(bg, site, conv, vk, 1, orig); !errors.Is(err, ErrSequence) {
		t.Fatalf("re-sent original: %v, want ErrSequence", err)
	}
	fix2 := sealed(t, vis, site, conv, 4, []byte("x"))
	if _, err := s.Correct(bg, site, conv, 1, vk, 4, fix2, auth(11)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("correcting a replaced position: %v, want ErrInvalid", err)
	}
	// A resent correction is a replay.
	if _, err := s.Correct(bg, site, conv, 1, vk, 3, fix, auth(10)); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed correction: %v, want ErrReplay", err)
	}
	// Appending goes on after the correction.
	if a, err := s.Append(bg, site, conv, vk, 4, sealed(t, vis, site, conv, 4, []byte("weiter"))); err != nil || a.Pos != 5 {
		t.Fatalf("Append after correction: %+v %v", a, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}

	// Replays are refused after a restart too.
	s.Close()
	s = openTest(t, Options{Path: path})
	fix5 := sealed(t, vis, site, conv, 5, []byte("y"))
	for _, c := range []uint64{10, 9} {
		if _, err := s.Correct(bg, site, conv, 3, vk, 5, fix5, auth(c)); !errors.Is(err, ErrReplay) {
			t.Fatalf("counter %d after restart: %v, want ErrReplay", c, err)
		}
	}
	if c, _ := s.Conversation(site, conv); c.LastPos != 5 {
		t.Fatalf("replay after restart changed the conversation: %+v", c)
	}

	// The visitor's request counter goes with the conversation.
	hasCounter := func() bool {
		found := false
		s.view(func(tx *bolt.Tx) error {
			if rb := tx.Bucket(bucketRequests).Bucket(site[:]); rb != nil {
				found = rb.Get(vk[:]) != nil
			}
			return nil
		})
		return found
	}
	if !hasCounter() {
		t.Fatal("the visitor's request counter is not stored")
	}
	if err := s.Erase(bg, site, conv, EraseVisitor, &Authorization{vk, 10}); !errors.Is(err, ErrReplay) {
		t.Fatalf("erase with a used counter: %v, want ErrReplay", err)
	}
	if err := s.Erase(bg, site, conv, EraseVisitor, &Authorization{vk, 20}); err != nil {
		t.Fatal(err)
	}
	if hasCounter() {
		t.Fatal("the visitor's request counter outlived the conversation")
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestExpired(t *testing.T) {
	t0 := time.Unix(1700000000, 0).Truncate(time.Hour)
	clock := &fixedClock{t: t0}
	s := openTest(t, Options{Now: clock.Now})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	if _, err := s.Expired(siteID(9), t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Expired for unknown site: %v", err)
	}
	if list, err := s.Expired(site, t0.Add(time.Hour)); err != nil || len(list) != 0 {
		t.Fatalf("Expired without conversations: %v %v", list, err)
	}
	day := 24 * time.Hour
	idle, talked, consented := convID(1), convID(2), convID(3)
	for _, c := range []ids.ConvID{idle, talked, consented} {
		if _, _, err := s.EnsureConversation(bg, site, c, key(c[0])); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(t0.Add(10 * day))
	if _, err := s.Append(bg, site, talked, key(2), 1, []byte("a")); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(20 * day))
	if _, err := s.AddConsentReceipt(bg, site, consented, receipt(1, 1, ConsentAccepted)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		before time.Time
		want   []ids.ConvID
	}{
		{t0, nil}, // strictly before
		{t0.Add(time.Second), []ids.ConvID{idle}},
		{t0.Add(10 * day), []ids.ConvID{idle}},
		{t0.Add(10*day + time.Minute), []ids.ConvID{idle, talked}},
		{t0.Add(25 * day), []ids.ConvID{idle, talked, consented}},
	} {
		got, err := s.Expired(site, c.before)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("Expired(%v) = %v %v, want %v", c.before.Sub(t0), got, err, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("Expired(%v) = %v, want %v", c.before.Sub(t0), got, c.want)
			}
		}
	}

	// EraseExpired erases only what is still expired when it commits.
	cutoff := t0.Add(15 * day) // idle and talked are expired
	clock.Set(t0.Add(16 * day))
	if _, err := s.Append(bg, site, talked, key(2), 2, []byte("b")); err != nil { // active again
		t.Fatal(err)
	}
	for _, c := range []struct {
		conv ids.ConvID
		want bool
	}{{talked, false}, {consented, false}, {idle, true}, {idle, false}, {convID(9), false}} {
		if ok, err := s.EraseExpired(bg, site, c.conv, cutoff); err != nil || ok != c.want {
			t.Fatalf("EraseExpired(%x) = %v %v, want %v", c.conv[:1], ok, err, c.want)
		}
	}
	if _, err := s.Conversation(site, talked); err != nil {
		t.Fatalf("active conversation was erased: %v", err)
	}
	if a, _ := s.Audit(site); len(a) != 1 || a[0].Reason != EraseRetention {
		t.Fatalf("audit: %+v", a)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// Expired reads in chunks; more conversations than a chunk are all seen.
func TestExpiredChunks(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	site := siteID(1)
	mustPutSite(t, s, testSite(1))
	n := expiredChunk*2 + 3
	for i := range n {
		c := ids.ConvID{0: byte(i >> 8), 1: byte(i), 15: 1}
		if _, _, err := s.EnsureConversation(bg, site, c, key(1)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Expired(site, time.Now().Add(2*time.Hour))
	if err != nil || len(got) != n {
		t.Fatalf("Expired = %d conversations, %v; want %d", len(got), err, n)
	}
	for i := 1; i < len(got); i++ {
		if bytes.Compare(got[i-1][:], got[i][:]) >= 0 {
			t.Fatal("Expired not sorted or repeating")
		}
	}
}

func TestRetention(t *testing.T) {
	site := testSite(1)
	site.RetentionDays = 0
	if site.Retention() != 30*24*time.Hour {
		t.Fatalf("default retention %v", site.Retention())
	}
	site.RetentionDays = 7
	if site.Retention() != 7*24*time.Hour {
		t.Fatalf("retention %v", site.Retention())
	}
}

func TestMigrateFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := testSite(1)
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx, migrations[:2]); err != nil {
			return err
		}
		return tx.Bucket(bucketSites).Put(site.ID[:], encodeSite(&site))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Options{Path: path})
	if err := s.Check(); err != nil {
		t.Fatalf("Check after migration: %v", err)
	}
	if s.tombKey == ([32]byte{}) {
		t.Fatal("no tombstone key after migration")
	}
	key1 := s.tombKey
	if _, _, err := s.EnsureConversation(bg, site.ID, convID(1), key(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(bg, site.ID, convID(1), EraseVisitor, &Authorization{key(1), 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, Options{Path: path})
	if s.tombKey != key1 {
		t.Fatal("tombstone key changed on reopen")
	}
	if ok, err := s.Tombstoned(site.ID, convID(1)); err != nil || !ok {
		t.Fatalf("Tombstoned after reopen: %v %v", ok, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A database whose tombstone key is missing or damaged is refused: a new key would
// silently disable every tombstone.
func TestOpenRefusesBadTombKey(t *testing.T) {
	for name, v := range map[string][]byte{"missing": nil, "short": {1, 2, 3}, "zero": make([]byte, 32)} {
		path := filepath.Join(t.TempDir(), "relay.db")
		s := openTest(t, Options{Path: path})
		s.Close()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			if v == nil {
				return tx.Bucket(bucketMeta).Delete(keyTombKey)
			}
			return tx.Bucket(bucketMeta).Put(keyTombKey, v)
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Open(Options{Path: path}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s tombstone key: Open = %v, want ErrCorrupt", name, err)
		}
	}
}
