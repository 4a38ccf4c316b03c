package visitor

import (
	"errors"
	"strings"

	"siegel/shared/ids"
	"siegel/shared/sha2"
)

// Errors of ParseCode. Use errors.Is.
var (
	// ErrCode: the text is not a conversation code (wrong length, characters
	// outside the alphabet, non-zero padding bits).
	ErrCode = errors.New("visitor: not a conversation code")
	// ErrCodeChecksum: the text has the form of a code but its checksum does
	// not match (a typing or copying mistake).
	ErrCodeChecksum = errors.New("visitor: conversation code checksum mismatch")
	// ErrCodeVersion: a code of another version ("SIEGEL2-…").
	ErrCodeVersion = errors.New("visitor: unsupported conversation code version")
)

// CodePrefix starts every conversation code of version 1.
const CodePrefix = "SIEGEL1-"

const (
	codePayload  = 16 + 32 + 32 // site, Ed25519 seed, X25519 private key
	codeChecksum = 4
	codeBytes    = codePayload + codeChecksum
	codeChars    = (codeBytes*8 + 4) / 5 // 135 base32 characters
	codeGroup    = 5                     // characters per dash-separated group
	codeDomain   = "siegel/code/v1"
)

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // RFC 4648

// Code is what the conversation code carries: everything needed to act as the
// conversation's visitor from another device (view, export, correct, delete).
// Whoever has it can read and delete the conversation.
type Code struct {
	Site    ids.SiteID
	Seed    [32]byte // Ed25519 seed of the visitor's signing key
	BoxPriv [32]byte // X25519 private key of the visitor's box key
}

// String returns the text form:
//
//	"SIEGEL1-" + base32(site ‖ seed ‖ box private key ‖ checksum)
//
// in the RFC 4648 alphabet without padding (135 characters, the 3 unused low
// bits of the last character zero), in groups of five characters joined by
// "-". The checksum is the first 4 bytes of SHA-256("siegel/code/v1" ‖ site ‖
// seed ‖ box private key).
func (c Code) String() string {
	var b [codeBytes]byte
	copy(b[:16], c.Site[:])
	copy(b[16:48], c.Seed[:])
	copy(b[48:80], c.BoxPriv[:])
	sum := codeSum(b[:codePayload])
	copy(b[codePayload:], sum[:codeChecksum])
	chars := toBase32(b[:])
	clear(b[:])
	var sb strings.Builder
	sb.Grow(len(CodePrefix) + codeChars + codeChars/codeGroup)
	sb.WriteString(CodePrefix)
	for i := 0; i < len(chars); i += codeGroup {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.Write(chars[i:min(i+codeGroup, len(chars))])
	}
	clear(chars)
	return sb.String()
}

func codeSum(payload []byte) [32]byte {
	var h sha2.Digest256
	h.Write([]byte(codeDomain))
	h.Write(payload)
	return h.Sum256()
}

// toBase32 encodes b (RFC 4648 alphabet, no padding).
func toBase32(b []byte) []byte {
	out := make([]byte, 0, (len(b)*8+4)/5)
	var acc uint32
	bits := 0
	for _, x := range b {
		acc = acc<<8 | uint32(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, base32Alphabet[acc>>uint(bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, base32Alphabet[acc<<uint(5-bits)&31])
	}
	return out
}

// ParseCode reads a conversation code. It is strict about the content and
// lenient only about the layout: surrounding white space is ignored, letters
// may be in either case, and "-" and white space between characters (the
// groups, line breaks when the code was wrapped) carry no meaning. The body
// must then be exactly 135 characters of the alphabet, whose unused last bits
// are zero and whose checksum matches.
func ParseCode(s string) (Code, error) {
	var c Code
	s = strings.TrimSpace(s)
	if len(s) < len(CodePrefix) || !strings.EqualFold(s[:len(CodePrefix)], CodePrefix) {
		return c, prefixError(s)
	}
	var b [codeBytes]byte
	defer clear(b[:])
	var acc uint32
	bits, n, chars := 0, 0, 0
	for i := len(CodePrefix); i < len(s); i++ {
		ch := s[i]
		var v byte
		switch {
		case ch == '-' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			continue
		case ch >= 'A' && ch <= 'Z':
			v = ch - 'A'
		case ch >= 'a' && ch <= 'z':
			v = ch - 'a'
		case ch >= '2' && ch <= '7':
			v = ch - '2' + 26
		default:
			return c, ErrCode
		}
		chars++
		if chars > codeChars {
			return c, ErrCode
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			b[n] = byte(acc >> uint(bits))
			n++
		}
	}
	if chars != codeChars || n != codeBytes || acc&(1<<uint(bits)-1) != 0 {
		return c, ErrCode
	}
	sum := codeSum(b[:codePayload])
	if [codeChecksum]byte(sum[:codeChecksum]) != [codeChecksum]byte(b[codePayload:]) {
		return c, ErrCodeChecksum
	}
	copy(c.Site[:], b[:16])
	copy(c.Seed[:], b[16:48])
	copy(c.BoxPriv[:], b[48:80])
	return c, nil
}

// prefixError tells a code of another version ("SIEGEL" digits "-", other
// than 1) from text that is no code at all.
func prefixError(s string) error {
	const name = "SIEGEL"
	if len(s) <= len(name) || !strings.EqualFold(s[:len(name)], name) {
		return ErrCode
	}
	i := len(name)
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > len(name) && i < len(s) && s[i] == '-' && s[len(name):i] != "1" {
		return ErrCodeVersion
	}
	return ErrCode
}
