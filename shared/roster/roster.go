// Package roster encodes, signs, parses and verifies the owner-signed list of
// a site's agents (docs/PROTOCOL.md §4).
package roster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"siegel/shared/ids"
	"siegel/shared/sig"
)

// Version is the roster format version byte.
const Version = 1

// MaxAgents is the largest number of agents in a roster.
const MaxAgents = 64

// MaxName is the longest agent name, in bytes.
const MaxName = 64

// Domain is the domain-separation string of the owner's roster signature.
const Domain = "siegel/roster/v1"

const (
	headerSize = 1 + 16 + 32 + 8 + 8 + 1
	agentFixed = 16 + 1 + 32 + 32
	sigSize    = sig.SignatureSize
	// MaxSize is the size of the largest roster in bytes.
	MaxSize = headerSize + MaxAgents*(agentFixed+MaxName) + sigSize
)

var (
	// ErrMalformed: the bytes are not the exact encoding of a roster, or a
	// roster to encode breaks a rule of the format.
	ErrMalformed = errors.New("malformed roster")
	// ErrUnsupportedVersion: the roster has another format version.
	ErrUnsupportedVersion = errors.New("unsupported roster version")
	// ErrBadSignature: the owner's signature does not verify.
	ErrBadSignature = errors.New("bad roster signature")
	// ErrWrongOwner: the roster is signed by another owner than the pinned one.
	ErrWrongOwner = errors.New("roster of another owner")
	// ErrWrongSite: the roster is for another site.
	ErrWrongSite = errors.New("roster of another site")
	// ErrExpired: the roster's not-after time has passed.
	ErrExpired = errors.New("roster expired")
	// ErrRollback: the roster is older than one already seen.
	ErrRollback = errors.New("roster version rolled back")
)

// Agent is one agent of a roster.
type Agent struct {
	ID   ids.AgentID
	Name string // 1 … MaxName bytes of UTF-8 without control characters
	Sign ids.Key
	Box  ids.Key
}

// Roster is the owner-signed list of a site's agents.
type Roster struct {
	Site     ids.SiteID
	Owner    ids.Key // the owner's Ed25519 public key
	Version  uint64  // ≥ 1, strictly increasing per site
	NotAfter int64   // Unix seconds; the roster is invalid after this time
	Agents   []Agent // sorted by ID in encoded and parsed rosters
}

// Encode checks the roster, sorts a copy of its agents by ID and returns it
// signed by owner, a 64-byte Ed25519 private key in the seed ‖ public key form
// of crypto/ed25519.PrivateKey (which callers may pass as is). A key of another
// length, or whose public half does not belong to its seed, gives an error
// wrapping ErrMalformed. r.Owner must be zero (then the owner's public key is
// used) or equal to the public key of owner (else ErrWrongOwner). A rule
// broken by the roster gives an error wrapping ErrMalformed. r is not
// modified.
func (r *Roster) Encode(owner []byte) ([]byte, error) {
	priv, err := sig.NewKeyFromBytes(owner)
	if err != nil {
		return nil, ids.Wrap("owner key", ErrMalformed)
	}
	pub := priv.Public()
	if r.Owner != (ids.Key{}) && r.Owner != pub {
		return nil, ErrWrongOwner
	}
	if r.Version == 0 {
		return nil, ids.Wrap("roster version 0", ErrMalformed)
	}
	if r.NotAfter < 0 {
		return nil, ids.Wrap("negative not-after time", ErrMalformed)
	}
	if len(r.Agents) > MaxAgents {
		return nil, ids.Wrap("too many agents", ErrMalformed)
	}
	agents := slices.Clone(r.Agents)
	slices.SortFunc(agents, func(a, b Agent) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	if err := checkAgents(agents); err != nil {
		return nil, err
	}

	b := encodeBody(r, pub, agents)
	s := sig.Sign(&priv, signed(b))
	return append(b, s[:]...), nil
}

// encodeBody returns the roster bytes before the signature, with room for it.
func encodeBody(r *Roster, owner ids.Key, agents []Agent) []byte {
	size := headerSize + sigSize
	for i := range agents {
		size += agentFixed + len(agents[i].Name)
	}
	b := make([]byte, 0, size)
	b = append(b, Version)
	b = append(b, r.Site[:]...)
	b = append(b, owner[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Version)
	b = binary.BigEndian.AppendUint64(b, uint64(r.NotAfter))
	b = append(b, byte(len(agents)))
	for i := range agents {
		a := &agents[i]
		b = append(b, a.ID[:]...)
		b = append(b, byte(len(a.Name)))
		b = append(b, a.Name...)
		b = append(b, a.Sign[:]...)
		b = append(b, a.Box[:]...)
	}
	return b
}

// checkAgents checks names, strictly ascending IDs and unique keys of agents
// sorted by ID.
func checkAgents(agents []Agent) error {
	for i := range agents {
		a := &agents[i]
		if !ValidName(a.Name) {
			return ids.Wrap("agent "+a.ID.String()+": invalid name", ErrMalformed)
		}
		if i > 0 && bytes.Compare(agents[i-1].ID[:], a.ID[:]) >= 0 {
			return ids.Wrap("agent "+a.ID.String()+": duplicate or unsorted ID", ErrMalformed)
		}
		for j := 0; j < i; j++ {
			if agents[j].Sign == a.Sign {
				return ids.Wrap("agent "+a.ID.String()+": duplicate signing key", ErrMalformed)
			}
			if agents[j].Box == a.Box {
				return ids.Wrap("agent "+a.ID.String()+": duplicate box key", ErrMalformed)
			}
		}
	}
	return nil
}

// ValidName reports whether s is a valid agent name: 1 … MaxName bytes of
// UTF-8 without control characters.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxName || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

func signed(body []byte) []byte {
	m := make([]byte, 0, len(Domain)+len(body))
	m = append(m, Domain...)
	return append(m, body...)
}

// Parse parses a roster strictly (docs/PROTOCOL.md §1, §4) and checks its
// signature by the owner key it contains. It does not check who the owner
// is, the site, the time or the version: see Verify.
func Parse(b []byte) (*Roster, error) {
	if len(b) == 0 {
		return nil, ids.Wrap("empty", ErrMalformed)
	}
	if b[0] != Version {
		return nil, ErrUnsupportedVersion
	}
	if len(b) < headerSize+sigSize {
		return nil, ids.Wrap("short roster", ErrMalformed)
	}
	if len(b) > MaxSize {
		return nil, ids.Wrap("roster too large", ErrMalformed)
	}
	r := &Roster{}
	p := b[1:]
	p = take(r.Site[:], p)
	p = take(r.Owner[:], p)
	r.Version, p = u64(p)
	var notAfter uint64
	notAfter, p = u64(p)
	n := int(p[0])
	p = p[1:]
	if r.Version == 0 {
		return nil, ids.Wrap("roster version 0", ErrMalformed)
	}
	if notAfter > math.MaxInt64 {
		return nil, ids.Wrap("not-after time out of range", ErrMalformed)
	}
	r.NotAfter = int64(notAfter)
	if n > MaxAgents {
		return nil, ids.Wrap("too many agents", ErrMalformed)
	}
	if n > 0 {
		r.Agents = make([]Agent, n)
	}
	for i := range r.Agents {
		a := &r.Agents[i]
		if len(p) < agentFixed+sigSize {
			return nil, ids.Wrap("short agent", ErrMalformed)
		}
		p = take(a.ID[:], p)
		l := int(p[0])
		p = p[1:]
		if len(p) < l+64+sigSize {
			return nil, ids.Wrap("short agent", ErrMalformed)
		}
		a.Name = string(p[:l])
		p = p[l:]
		p = take(a.Sign[:], p)
		p = take(a.Box[:], p)
	}
	if len(p) != sigSize {
		return nil, ids.Wrap("trailing bytes", ErrMalformed)
	}
	if err := checkAgents(r.Agents); err != nil {
		return nil, err
	}
	body := b[:len(b)-sigSize]
	if !sig.Verify(r.Owner, signed(body), p) {
		return nil, ErrBadSignature
	}
	return r, nil
}

// Verify parses b (see Parse) and checks that it is signed by the owner with
// fingerprint fp (ErrWrongOwner), is for site (ErrWrongSite), is valid at now
// (now ≤ NotAfter, else ErrExpired) and is not older than minVersion
// (ErrRollback).
func Verify(b []byte, fp ids.Fingerprint, site ids.SiteID, now time.Time, minVersion uint64) (*Roster, error) {
	r, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if ids.OwnerFingerprint(r.Owner) != fp {
		return nil, ErrWrongOwner
	}
	if r.Site != site {
		return nil, ErrWrongSite
	}
	if now.Unix() > r.NotAfter {
		return nil, ErrExpired
	}
	if r.Version < minVersion {
		return nil, ErrRollback
	}
	return r, nil
}

// AgentBySign returns the agent with signing key k.
func (r *Roster) AgentBySign(k ids.Key) (Agent, bool) {
	for _, a := range r.Agents {
		if a.Sign == k {
			return a, true
		}
	}
	return Agent{}, false
}

// BoxKeys returns the agents' box keys in agent order.
func (r *Roster) BoxKeys() []ids.Key {
	keys := make([]ids.Key, len(r.Agents))
	for i := range r.Agents {
		keys[i] = r.Agents[i].Box
	}
	return keys
}

func take(dst, p []byte) []byte {
	copy(dst, p)
	return p[len(dst):]
}

func u64(p []byte) (uint64, []byte) {
	return binary.BigEndian.Uint64(p), p[8:]
}
