package flow

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small JSON scanner that keeps the position of every value
// and object key, so that problems point at the exact line and column. It
// accepts exactly RFC 8259 JSON (plus a leading UTF-8 byte-order mark).

// Pos is a position in a document: 1-based line and 1-based byte column.
type srcPos struct{ Line, Col int }

func (p srcPos) less(q srcPos) bool {
	return p.Line < q.Line || (p.Line == q.Line && p.Col < q.Col)
}

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

var jkindNames = [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}

type jval struct {
	kind jkind
	pos  srcPos
	off  int    // byte offset in the source (jStr: of the opening quote)
	str  string // jStr: the value; jNum: the literal
	b    bool
	mem  []jmember // jObj, in document order, duplicates removed
	arr  []*jval
}

type jmember struct {
	key    string
	keyPos srcPos
	val    *jval
}

const maxJSONDepth = 64

type scanner struct {
	src       []byte
	off       int
	line      int
	lineStart int
	depth     int
	dups      []Problem // duplicate keys (reported, parsing continues)
}

type syntaxError struct {
	pos srcPos
	msg string
}

// parseJSON parses src. It returns the root value, the duplicate-key
// problems, and the first syntax error (nil if none).
func parseJSON(src []byte) (*jval, []Problem, *syntaxError) {
	s := &scanner{src: src, line: 1}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		s.off = 3
		s.lineStart = 3
	}
	s.skipSpace()
	v, err := s.value()
	if err != nil {
		return nil, s.dups, err
	}
	s.skipSpace()
	if s.off < len(s.src) {
		return nil, s.dups, s.errHere("unexpected " + s.describe() + " after the document")
	}
	return v, s.dups, nil
}

func (s *scanner) pos() srcPos { return srcPos{s.line, s.off - s.lineStart + 1} }

func (s *scanner) errHere(msg string) *syntaxError { return &syntaxError{s.pos(), msg} }

func (s *scanner) describe() string {
	if s.off >= len(s.src) {
		return "end of file"
	}
	c := s.src[s.off]
	if c >= 0x20 && c < 0x7f {
		return "character '" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

func (s *scanner) skipSpace() {
	for s.off < len(s.src) {
		switch s.src[s.off] {
		case ' ', '\t', '\r':
			s.off++
		case '\n':
			s.off++
			s.line++
			s.lineStart = s.off
		default:
			return
		}
	}
}

func (s *scanner) value() (*jval, *syntaxError) {
	if s.off >= len(s.src) {
		return nil, s.errHere("unexpected end of file, expected a value")
	}
	p, off := s.pos(), s.off
	switch c := s.src[s.off]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		str, err := s.string()
		if err != nil {
			return nil, err
		}
		return &jval{kind: jStr, pos: p, off: off, str: str}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true", &jval{kind: jBool, pos: p, b: true})
	case c == 'f':
		return s.literal("false", &jval{kind: jBool, pos: p})
	case c == 'n':
		return s.literal("null", &jval{kind: jNull, pos: p})
	}
	return nil, s.errHere("unexpected " + s.describe() + ", expected a value")
}

func (s *scanner) literal(word string, v *jval) (*jval, *syntaxError) {
	if len(s.src)-s.off < len(word) || string(s.src[s.off:s.off+len(word)]) != word {
		return nil, s.errHere("invalid literal, expected " + word)
	}
	s.off += len(word)
	return v, nil
}

func (s *scanner) enter() *syntaxError {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.errHere("nested too deeply")
	}
	return nil
}

func (s *scanner) object() (*jval, *syntaxError) {
	v := &jval{kind: jObj, pos: s.pos()}
	if err := s.enter(); err != nil {
		return nil, err
	}
	s.off++ // {
	s.skipSpace()
	if s.off < len(s.src) && s.src[s.off] == '}' {
		s.off++
		s.depth--
		return v, nil
	}
	for {
		if s.off >= len(s.src) || s.src[s.off] != '"' {
			return nil, s.errHere("unexpected " + s.describe() + ", expected a string key")
		}
		kp := s.pos()
		key, err := s.string()
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.off >= len(s.src) || s.src[s.off] != ':' {
			return nil, s.errHere("unexpected " + s.describe() + ", expected ':'")
		}
		s.off++
		s.skipSpace()
		val, err := s.value()
		if err != nil {
			return nil, err
		}
		dup := false
		for _, m := range v.mem {
			if m.key == key {
				dup = true
				s.dups = append(s.dups, Problem{Line: kp.Line, Col: kp.Col, Msg: "duplicate key " + quote(key)})
				break
			}
		}
		if !dup {
			v.mem = append(v.mem, jmember{key: key, keyPos: kp, val: val})
		}
		s.skipSpace()
		if s.off >= len(s.src) {
			return nil, s.errHere("unexpected end of file, expected ',' or '}'")
		}
		switch s.src[s.off] {
		case ',':
			s.off++
			s.skipSpace()
		case '}':
			s.off++
			s.depth--
			return v, nil
		default:
			return nil, s.errHere("unexpected " + s.describe() + ", expected ',' or '}'")
		}
	}
}

func (s *scanner) array() (*jval, *syntaxError) {
	v := &jval{kind: jArr, pos: s.pos()}
	if err := s.enter(); err != nil {
		return nil, err
	}
	s.off++ // [
	s.skipSpace()
	if s.off < len(s.src) && s.src[s.off] == ']' {
		s.off++
		s.depth--
		return v, nil
	}
	for {
		e, err := s.value()
		if err != nil {
			return nil, err
		}
		v.arr = append(v.arr, e)
		s.skipSpace()
		if s.off >= len(s.src) {
			return nil, s.errHere("unexpected end of file, expected ',' or ']'")
		}
		switch s.src[s.off] {
		case ',':
			s.off++
			s.skipSpace()
		case ']':
			s.off++
			s.depth--
			return v, nil
		default:
			return nil, s.errHere("unexpected " + s.describe() + ", expected ',' or ']'")
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) number() (*jval, *syntaxError) {
	p := s.pos()
	start := s.off
	bad := func() (*jval, *syntaxError) { return nil, &syntaxError{p, "invalid number"} }
	if s.src[s.off] == '-' {
		s.off++
	}
	switch {
	case s.off < len(s.src) && s.src[s.off] == '0':
		s.off++
		if s.off < len(s.src) && isDigit(s.src[s.off]) {
			return nil, &syntaxError{p, "invalid number: leading zero"}
		}
	case s.off < len(s.src) && isDigit(s.src[s.off]):
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.off++
		}
	default:
		return bad()
	}
	if s.off < len(s.src) && s.src[s.off] == '.' {
		s.off++
		if s.off >= len(s.src) || !isDigit(s.src[s.off]) {
			return bad()
		}
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.off++
		}
	}
	if s.off < len(s.src) && (s.src[s.off] == 'e' || s.src[s.off] == 'E') {
		s.off++
		if s.off < len(s.src) && (s.src[s.off] == '+' || s.src[s.off] == '-') {
			s.off++
		}
		if s.off >= len(s.src) || !isDigit(s.src[s.off]) {
			return bad()
		}
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.off++
		}
	}
	return &jval{kind: jNum, pos: p, str: string(s.src[start:s.off])}, nil
}

// string reads a JSON string starting at the opening quote.
func (s *scanner) string() (string, *syntaxError) {
	s.off++ // opening quote
	start := s.off
	// Fast path: no escapes.
	for s.off < len(s.src) {
		c := s.src[s.off]
		if c == '"' {
			str := string(s.src[start:s.off])
			if !utf8.ValidString(str) {
				return "", s.invalidUTF8(start)
			}
			s.off++
			return str, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		s.off++
	}
	buf := append([]byte(nil), s.src[start:s.off]...)
	for {
		if s.off >= len(s.src) {
			return "", s.errHere("unexpected end of file in string")
		}
		c := s.src[s.off]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", s.invalidUTF8(start)
			}
			s.off++
			return string(buf), nil
		case c < 0x20:
			if c == '\n' {
				return "", s.errHere("unterminated string")
			}
			return "", s.errHere("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.off++
			continue
		}
		// escape
		if s.off+1 >= len(s.src) {
			return "", s.errHere("unexpected end of file in string")
		}
		esc := s.src[s.off+1]
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4(s.off + 2)
			if !ok {
				return "", s.errHere("invalid \\u escape")
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if s.off+7 < len(s.src) && s.src[s.off+6] == '\\' && s.src[s.off+7] == 'u' {
					r2, ok2 = s.hex4(s.off + 8)
				}
				r = utf16.DecodeRune(r, r2)
				if !ok2 || r == utf8.RuneError {
					return "", s.errHere("invalid surrogate pair in \\u escape")
				}
				n = 12
			}
			buf = utf8.AppendRune(buf, r)
			s.off += n
			continue
		default:
			return "", s.errHere("invalid escape in string")
		}
		s.off += 2
	}
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.src) {
		return 0, false
	}
	var r rune
	for _, c := range s.src[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// invalidUTF8 reports the position of the first invalid byte after start.
func (s *scanner) invalidUTF8(start int) *syntaxError {
	i := start
	for i < len(s.src) {
		r, n := utf8.DecodeRune(s.src[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	// Strings cannot contain newlines, so the line is unchanged.
	return &syntaxError{srcPos{s.line, i - s.lineStart + 1}, "invalid UTF-8 in string"}
}

// quote returns s in double quotes, escaping what JSON would escape.
func quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[r>>4&0xf], "0123456789abcdef"[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return string(append(b, '"'))
}

// strPos returns the source position of byte k of the decoded string v
// (v.pos if src does not hold v). JSON strings hold no line breaks, so the
// position is on v's line, k bytes on plus the extra bytes of the escapes
// before it.
func strPos(src []byte, v *jval, k int) srcPos {
	i := v.off + 1
	if v.kind != jStr || v.off >= len(src) || src[v.off] != '"' {
		return v.pos
	}
	for dec := 0; dec < k && i < len(src) && src[i] != '"'; {
		if src[i] != '\\' {
			i++
			dec++
			continue
		}
		if i+1 < len(src) && src[i+1] == 'u' {
			r := rune(0)
			for _, c := range src[i+2 : min(i+6, len(src))] {
				r = r<<4 | rune(unhex(c))
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r, n = 0x10000, 12
			}
			i += n
			dec += utf8.RuneLen(r)
			continue
		}
		i += 2
		dec++
	}
	return srcPos{v.pos.Line, v.pos.Col + i - v.off}
}
