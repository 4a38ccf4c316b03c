package store

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"siegel/shared/ids"
)

func TestConvStatePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openTest(t, Options{Path: path})
	site := testSite(1)
	if err := s.PutSite(bg, site); err != nil {
		t.Fatal(err)
	}
	c, _, err := s.EnsureConversation(bg, site.ID, convID(1), key(1))
	if err != nil || c.State != StateBot || c.Agent != (ids.Key{}) {
		t.Fatalf("new conversation: %+v %v", c, err)
	}
	steps := []struct {
		state   ConvState
		agent   ids.Key
		changed bool
	}{
		{StateWaiting, ids.Key{}, true},
		{StateWaiting, ids.Key{}, false},
		{StateLive, key(7), true},
		{StateLive, key(7), false},
		{StateLive, key(8), true}, // handed over
		{StateClosed, ids.Key{}, true},
		{StateWaiting, ids.Key{}, true}, // reopened
		{StateLive, key(7), true},
	}
	for i, st := range steps {
		changed, err := s.SetConvState(bg, site.ID, convID(1), st.state, st.agent)
		if err != nil || changed != st.changed {
			t.Fatalf("step %d: changed %v, %v", i, changed, err)
		}
		c, err := s.Conversation(site.ID, convID(1))
		if err != nil || c.State != st.state || c.Agent != st.agent {
			t.Fatalf("step %d: %+v %v", i, c, err)
		}
	}
	for name, call := range map[string]func() error{
		"live without agent": func() error { _, err := s.SetConvState(bg, site.ID, convID(1), StateLive, ids.Key{}); return err },
		"waiting with agent": func() error { _, err := s.SetConvState(bg, site.ID, convID(1), StateWaiting, key(7)); return err },
		"unknown state":      func() error { _, err := s.SetConvState(bg, site.ID, convID(1), 4, ids.Key{}); return err },
	} {
		if err := call(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := s.SetConvState(bg, site.ID, convID(2), StateWaiting, ids.Key{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	// Other writes keep the state.
	if _, err := s.Append(bg, site.ID, convID(1), key(1), 1, []byte("envelope")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDelivered(bg, site.ID, convID(1), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Path: path})
	c, err = s.Conversation(site.ID, convID(1))
	if err != nil || c.State != StateLive || c.Agent != key(7) || c.LastPos != 1 || c.DeliveredPos != 1 {
		t.Fatalf("after reopen: %+v %v", c, err)
	}
	list, err := s.Conversations(site.ID, 10)
	if err != nil || len(list) != 1 || list[0].State != StateLive {
		t.Fatalf("Conversations: %+v %v", list, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A database of schema version 3 is migrated on open: every conversation gets
// the state bot, and nothing else changes.
func TestMigrateFromVersion3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := testSite(1)
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx, migrations[:3]); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSites).Put(site.ID[:], encodeSite(&site)); err != nil {
			return err
		}
		sb, err := tx.Bucket(bucketConvs).CreateBucket(site.ID[:])
		if err != nil {
			return err
		}
		for i := byte(1); i <= 2; i++ {
			c := convID(i)
			cb, err := sb.CreateBucket(c[:])
			if err != nil {
				return err
			}
			for _, b := range [][]byte{bucketEnvs, bucketSenders} {
				if _, err := cb.CreateBucket(b); err != nil {
					return err
				}
			}
			m := encodeConvMeta(&convMeta{Visitor: key(i), Created: 7200})[:convMetaV3Size]
			if err := cb.Put(keyConvMeta, m); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketCounters).Put(site.ID[:], encodeCounters(counters{Conversations: 2}))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Options{Path: path})
	list, err := s.Conversations(site.ID, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("%+v %v", list, err)
	}
	for i, c := range list {
		if c.State != StateBot || c.Agent != (ids.Key{}) || c.Visitor != key(byte(i+1)) || c.Created != 7200 {
			t.Fatalf("migrated %d: %+v", i, c)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after migration: %v", err)
	}
	if _, err := s.SetConvState(bg, site.ID, convID(1), StateWaiting, ids.Key{}); err != nil {
		t.Fatal(err)
	}
}
