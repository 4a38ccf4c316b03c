// Package keyfile seals an agent's private keys under a passphrase and opens
// them again (docs/PROTOCOL.md §5). The text form is kept in the agent's
// browser storage and in backup files.
package keyfile

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"

	"siegel/shared/ids"
	"siegel/shared/roster"
)

// Version is the key file format version.
const Version = 1

// Header is the first line of the text form, without its line break.
const Header = "SIEGEL AGENT KEY 1"

const headerPrefix = "SIEGEL AGENT KEY "

var (
	// ErrMalformed: the input is not a key file, or a value to seal is out of range.
	ErrMalformed = errors.New("malformed key file")
	// ErrUnsupportedVersion: the key file has another format version.
	ErrUnsupportedVersion = errors.New("unsupported key file version")
	// ErrWrongPassphrase: the key file does not open with the passphrase
	// (or its header was altered).
	ErrWrongPassphrase = errors.New("wrong passphrase")
)

// Params are the argon2id parameters.
type Params struct {
	Time      uint32 // passes, 1 … 16
	MemoryKiB uint32 // 8192 … 1048576
	Threads   uint8  // 1 … 16
}

// DefaultParams are the parameters for new key files.
var DefaultParams = Params{Time: 2, MemoryKiB: 19456, Threads: 1}

// Secret is the content of a key file.
type Secret struct {
	Site     ids.SiteID
	OwnerFP  ids.Fingerprint
	AgentID  ids.AgentID
	SignSeed [32]byte // Ed25519 seed
	BoxPriv  [32]byte // X25519 private key
	Name     string   // 1 … 64 bytes of UTF-8 without control characters
}

// limits bounds the argon2id parameters a file may ask for.
type limits struct {
	maxTime, maxMemory uint32
	maxThreads         uint8
}

var specLimits = limits{maxTime: 16, maxMemory: 1048576, maxThreads: 16}

const minMemory = 8192

func (p Params) check(l limits) error {
	if p.Time < 1 || p.Time > l.maxTime ||
		p.MemoryKiB < minMemory || p.MemoryKiB > l.maxMemory ||
		p.Threads < 1 || p.Threads > l.maxThreads {
		return ids.Wrap("argon2id parameters out of range", ErrMalformed)
	}
	return nil
}

const (
	saltSize    = 16
	nonceSize   = 24
	headerSize  = 1 + 16 + 32 + saltSize + 4 + 4 + 1 + nonceSize
	secretFixed = 16 + 32 + 32 + 1
	minSize     = headerSize + secretbox.Overhead + secretFixed + 1
	maxSize     = headerSize + secretbox.Overhead + secretFixed + roster.MaxName
)

// deriveKey is argon2id(passphrase, salt ‖ site ‖ owner fingerprint, …, 32):
// the header values enter the salt, so a file whose header was altered does
// not open.
func deriveKey(passphrase string, salt []byte, site ids.SiteID, fp ids.Fingerprint, p Params) *[32]byte {
	s := make([]byte, 0, saltSize+16+32)
	s = append(s, salt...)
	s = append(s, site[:]...)
	s = append(s, fp[:]...)
	var k [32]byte
	copy(k[:], argon2.IDKey([]byte(passphrase), s, p.Time, p.MemoryKiB, p.Threads, 32))
	return &k
}

// Seal encrypts s under passphrase and returns the text form: the line
// Header, then the standard base64 of the key file, then a line break. It
// reads the 16-byte salt and then the 24-byte nonce from rand. An invalid
// name or parameters out of range give an error wrapping ErrMalformed.
func Seal(rand io.Reader, s Secret, passphrase string, p Params) ([]byte, error) {
	if err := p.check(specLimits); err != nil {
		return nil, err
	}
	if !roster.ValidName(s.Name) {
		return nil, ids.Wrap("invalid agent name", ErrMalformed)
	}
	var sn [saltSize + nonceSize]byte
	if _, err := io.ReadFull(rand, sn[:]); err != nil {
		return nil, ids.Wrap("key file random", err)
	}
	salt := sn[:saltSize]
	var nonce [nonceSize]byte
	copy(nonce[:], sn[saltSize:])

	plain := make([]byte, 0, secretFixed+len(s.Name))
	plain = append(plain, s.AgentID[:]...)
	plain = append(plain, s.SignSeed[:]...)
	plain = append(plain, s.BoxPriv[:]...)
	plain = append(plain, byte(len(s.Name)))
	plain = append(plain, s.Name...)

	b := make([]byte, 0, headerSize+secretbox.Overhead+len(plain))
	b = append(b, Version)
	b = append(b, s.Site[:]...)
	b = append(b, s.OwnerFP[:]...)
	b = append(b, salt...)
	b = binary.BigEndian.AppendUint32(b, p.Time)
	b = binary.BigEndian.AppendUint32(b, p.MemoryKiB)
	b = append(b, p.Threads)
	b = append(b, nonce[:]...)
	key := deriveKey(passphrase, salt, s.Site, s.OwnerFP, p)
	b = secretbox.Seal(b, plain, &nonce, key)
	clear(plain)
	clear(key[:])

	enc := base64.StdEncoding
	out := make([]byte, 0, len(Header)+1+enc.EncodedLen(len(b))+1)
	out = append(out, Header...)
	out = append(out, '\n')
	out = enc.AppendEncode(out, b)
	return append(out, '\n'), nil
}

// Open decodes and decrypts the text form of a key file. The line breaks may
// be LF or CRLF and the final one may be missing; nothing else is accepted
// around or inside the base64. A passphrase that does not open the file gives
// ErrWrongPassphrase; anything that is not a key file gives an error wrapping
// ErrMalformed (or ErrUnsupportedVersion for another format version).
func Open(text []byte, passphrase string) (Secret, error) {
	return open(text, passphrase, specLimits)
}

func open(text []byte, passphrase string, l limits) (Secret, error) {
	b, err := decodeText(text)
	if err != nil {
		return Secret{}, err
	}
	if len(b) == 0 {
		return Secret{}, ids.Wrap("empty key file", ErrMalformed)
	}
	if b[0] != Version {
		return Secret{}, ErrUnsupportedVersion
	}
	if len(b) < minSize || len(b) > maxSize {
		return Secret{}, ids.Wrap("key file length", ErrMalformed)
	}
	var s Secret
	p := b[1:]
	p = take(s.Site[:], p)
	p = take(s.OwnerFP[:], p)
	salt := p[:saltSize]
	p = p[saltSize:]
	var prm Params
	prm.Time = binary.BigEndian.Uint32(p)
	prm.MemoryKiB = binary.BigEndian.Uint32(p[4:])
	prm.Threads = p[8]
	p = p[9:]
	if err := prm.check(l); err != nil {
		return Secret{}, err
	}
	var nonce [nonceSize]byte
	p = take(nonce[:], p)

	key := deriveKey(passphrase, salt, s.Site, s.OwnerFP, prm)
	plain, ok := secretbox.Open(nil, p, &nonce, key)
	clear(key[:])
	if !ok {
		return Secret{}, ErrWrongPassphrase
	}
	defer clear(plain)
	q := take(s.AgentID[:], plain)
	q = take(s.SignSeed[:], q)
	q = take(s.BoxPriv[:], q)
	n := int(q[0])
	q = q[1:]
	if len(q) != n {
		return Secret{}, ids.Wrap("name length", ErrMalformed)
	}
	s.Name = string(q)
	if !roster.ValidName(s.Name) {
		return Secret{}, ids.Wrap("invalid agent name", ErrMalformed)
	}
	return s, nil
}

// decodeText checks the header line and decodes the base64 line.
func decodeText(text []byte) ([]byte, error) {
	line, rest, ok := cutLine(text)
	if !ok {
		return nil, ids.Wrap("no header line", ErrMalformed)
	}
	if !bytes.Equal(line, []byte(Header)) {
		if v, ok := bytes.CutPrefix(line, []byte(headerPrefix)); ok && isNumber(v) {
			return nil, ErrUnsupportedVersion
		}
		return nil, ids.Wrap("not an agent key file", ErrMalformed)
	}
	body, tail, ok := cutLine(rest)
	if ok && len(tail) != 0 {
		return nil, ids.Wrap("text after the key", ErrMalformed)
	}
	// The base64 decoder would skip line breaks; there must be none inside.
	if len(body) == 0 || bytes.ContainsAny(body, "\r\n") {
		return nil, ids.Wrap("bad key line", ErrMalformed)
	}
	enc := base64.StdEncoding.Strict()
	b := make([]byte, enc.DecodedLen(len(body)))
	n, err := enc.Decode(b, body)
	if err != nil {
		return nil, ids.Wrap("bad base64", ErrMalformed)
	}
	return b[:n], nil
}

// isNumber reports whether b is a decimal number without a leading zero.
func isNumber(b []byte) bool {
	if len(b) == 0 || len(b) > 9 || b[0] == '0' {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cutLine splits text after the first LF, dropping the line break (LF or
// CRLF). ok is false when there is no LF.
func cutLine(text []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(text, '\n')
	if i < 0 {
		return text, nil, false
	}
	line, rest = text[:i], text[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest, true
}

func take(dst, p []byte) []byte {
	copy(dst, p)
	return p[len(dst):]
}
