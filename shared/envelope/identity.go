package envelope

import (
	"io"
	"sync"

	"siegel/shared/ids"
	"siegel/shared/sig"
	"siegel/shared/x25519"
)

// maxCachedPeers bounds the shared-key cache of an Identity; beyond it an
// arbitrary entry is evicted for each new peer. (A variable for tests.)
var maxCachedPeers = 4096

// Identity is a party's private keys (Ed25519 for signing, X25519 for NaCl box)
// with a cache of the precomputed box shared key per peer. It is safe for
// concurrent use.
type Identity struct {
	seed     [32]byte
	signPriv sig.PrivateKey
	signPub  ids.Key
	boxPriv  [32]byte
	boxPub   ids.Key

	mu    sync.RWMutex
	cache map[ids.Key][32]byte
}

// NewIdentity generates an identity: 32 bytes of rand for the Ed25519 seed,
// then 32 for the X25519 private key.
func NewIdentity(rand io.Reader) (*Identity, error) {
	var seed, boxPriv [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, ids.Wrap("new identity", err)
	}
	if _, err := io.ReadFull(rand, boxPriv[:]); err != nil {
		return nil, ids.Wrap("new identity", err)
	}
	return IdentityFromKeys(seed, boxPriv)
}

// IdentityFromKeys rebuilds an identity from its stored private keys. Every
// pair of 32-byte keys is valid; the error is always nil.
func IdentityFromKeys(signSeed [32]byte, boxPriv [32]byte) (*Identity, error) {
	id := &Identity{seed: signSeed, boxPriv: boxPriv}
	id.signPub, id.signPriv = sig.NewKeyFromSeed(signSeed)
	id.boxPub = x25519.PublicKey(boxPriv)
	return id, nil
}

// SignKey returns the Ed25519 public key.
func (id *Identity) SignKey() ids.Key { return id.signPub }

// BoxKey returns the X25519 public key.
func (id *Identity) BoxKey() ids.Key { return id.boxPub }

// Seed returns the Ed25519 seed, for storage.
func (id *Identity) Seed() [32]byte { return id.seed }

// BoxPrivate returns the X25519 private key, for storage.
func (id *Identity) BoxPrivate() [32]byte { return id.boxPriv }

// Sign returns the Ed25519 signature of msg as given. The caller includes the
// domain-separation string at the start of msg (docs/PROTOCOL.md §1).
func (id *Identity) Sign(msg []byte) [64]byte {
	return sig.Sign(&id.signPriv, msg)
}

// shared returns the NaCl box shared key with the peer's X25519 public key:
// HSalsa20(X25519(own private, peer), 0^16). A peer key giving an all-zero
// X25519 result is refused with ErrWeakKey.
func (id *Identity) shared(peer *ids.Key) ([32]byte, error) {
	id.mu.RLock()
	k, ok := id.cache[*peer]
	id.mu.RUnlock()
	if ok {
		return k, nil
	}
	k, err := sharedKey(&id.boxPriv, peer)
	if err != nil {
		return k, err
	}
	id.mu.Lock()
	if id.cache == nil {
		id.cache = make(map[ids.Key][32]byte)
	}
	if len(id.cache) >= maxCachedPeers {
		for old := range id.cache {
			delete(id.cache, old)
			break
		}
	}
	id.cache[*peer] = k
	id.mu.Unlock()
	return k, nil
}

var errWeak = &ids.Error{What: "box key", Err: ErrWeakKey}

// sharedKey computes the NaCl box_beforenm shared key without caching.
func sharedKey(priv *[32]byte, peer *ids.Key) ([32]byte, error) {
	k, err := x25519.SharedKey(*priv, *peer)
	if err != nil {
		// The only failure is an all-zero X25519 result.
		return k, errWeak
	}
	return k, nil
}
