package ids

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

// TestConversationID checks the derivation of docs/PROTOCOL.md §1 against
// crypto/sha256 and a value computed independently (Python hashlib).
func TestConversationID(t *testing.T) {
	var site SiteID
	var key Key
	for i := range site {
		site[i] = byte(i)
	}
	for i := range key {
		key[i] = byte(0x80 + i)
	}
	want := sha256.Sum256(append(append([]byte("siegel/conversation/v1"), site[:]...), key[:]...))
	got := ConversationID(site, key)
	if !equal(got[:], want[:16]) {
		t.Errorf("ConversationID = %x, want %x", got[:], want[:16])
	}
	const fixed = "6f3a77f45db211da778453509c71d4e5"
	if hex.EncodeToString(got[:]) != fixed {
		t.Errorf("ConversationID = %x, want %s", got[:], fixed)
	}
	key[0] ^= 1
	if ConversationID(site, key) == got {
		t.Error("ConversationID does not depend on the key")
	}
}

func TestOwnerFingerprint(t *testing.T) {
	var key Key
	for i := range key {
		key[i] = byte(3 * i)
	}
	if got, want := OwnerFingerprint(key), sha256.Sum256(key[:]); got != Fingerprint(want) {
		t.Errorf("OwnerFingerprint = %x, want %x", got[:], want)
	}
	// SHA-256 of 32 zero bytes.
	const zero = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
	if got := OwnerFingerprint(Key{}); hex.EncodeToString(got[:]) != zero {
		t.Errorf("OwnerFingerprint(0) = %x, want %s", got[:], zero)
	}
}

func TestParseRoundTrip(t *testing.T) {
	k := Key{1, 2, 3, 250}
	got, err := ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("ParseKey(%q) = %v, %v", k.String(), got, err)
	}
	if _, err := ParseKey(k.String()[1:]); !errors.Is(err, ErrInvalid) {
		t.Errorf("short key: %v, want ErrInvalid", err)
	}
}

func equal(a, b []byte) bool { return string(a) == string(b) }
