package visitor

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"testing"
)

func randomCode(t testing.TB) Code {
	var c Code
	rand.Read(c.Site[:])
	rand.Read(c.Seed[:])
	rand.Read(c.BoxPriv[:])
	return c
}

func TestCodeRoundTrip(t *testing.T) {
	for i := 0; i < 50; i++ {
		c := randomCode(t)
		s := c.String()
		if !strings.HasPrefix(s, CodePrefix) || len(s) != len(CodePrefix)+135+26 {
			t.Fatalf("code %q (length %d)", s, len(s))
		}
		got, err := ParseCode(s)
		if err != nil {
			t.Fatalf("ParseCode(%q): %v", s, err)
		}
		if got != c {
			t.Fatalf("round trip differs: %+v != %+v", got, c)
		}
	}
}

// The text form is RFC 4648 base32 of payload ‖ checksum, in groups of five.
func TestCodeFormat(t *testing.T) {
	var c Code
	for i := range c.Site {
		c.Site[i] = byte(i)
	}
	for i := range c.Seed {
		c.Seed[i] = byte(100 + i)
		c.BoxPriv[i] = byte(200 + i)
	}
	payload := append(append(append([]byte{}, c.Site[:]...), c.Seed[:]...), c.BoxPriv[:]...)
	sum := sha256.Sum256(append([]byte("siegel/code/v1"), payload...))
	want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(append(payload, sum[:4]...))
	s := c.String()
	body := strings.ReplaceAll(strings.TrimPrefix(s, CodePrefix), "-", "")
	if body != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
	for i, g := range strings.Split(strings.TrimPrefix(s, CodePrefix), "-") {
		if len(g) != 5 {
			t.Fatalf("group %d is %q", i, g)
		}
	}
}

func TestCodeLayoutIsLenient(t *testing.T) {
	c := randomCode(t)
	s := c.String()
	body := strings.TrimPrefix(s, CodePrefix)
	flat := strings.ReplaceAll(body, "-", "")
	for name, v := range map[string]string{
		"lower case":     strings.ToLower(s),
		"no dashes":      CodePrefix + flat,
		"wrapped":        CodePrefix + flat[:40] + "\n" + flat[40:90] + "\r\n" + flat[90:],
		"spaces":         "  " + CodePrefix + strings.ReplaceAll(body, "-", " ") + "\n",
		"prefix lower":   "siegel1-" + body,
		"tabs and space": CodePrefix + "\t" + flat,
	} {
		got, err := ParseCode(v)
		if err != nil || got != c {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCodeRejects(t *testing.T) {
	c := randomCode(t)
	s := c.String()
	body := strings.ReplaceAll(strings.TrimPrefix(s, CodePrefix), "-", "")
	flip := func(i int) string {
		b := []byte(body)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return CodePrefix + string(b)
	}
	// The last character holds 2 bits of the checksum and 3 zero bits.
	last := strings.IndexByte(base32Alphabet, body[len(body)-1])
	badPad := CodePrefix + body[:len(body)-1] + string(base32Alphabet[last|1])
	cases := map[string]struct {
		in   string
		want error
	}{
		"empty":          {"", ErrCode},
		"prefix only":    {CodePrefix, ErrCode},
		"no prefix":      {body, ErrCode},
		"other prefix":   {"SIEGEL-" + body, ErrCode},
		"version 2":      {"SIEGEL2-" + body, ErrCodeVersion},
		"version 10":     {"SIEGEL10-" + body, ErrCodeVersion},
		"short":          {CodePrefix + body[:134], ErrCode},
		"long":           {CodePrefix + body + "A", ErrCode},
		"padding char":   {CodePrefix + body + "=", ErrCode},
		"digit 1":        {CodePrefix + "1" + body[1:], ErrCode},
		"digit 8":        {CodePrefix + body[:10] + "8" + body[11:], ErrCode},
		"non-ascii":      {CodePrefix + body[:10] + "Ä" + body[12:], ErrCode},
		"pad bits":       {badPad, ErrCode},
		"typo first":     {flip(0), ErrCodeChecksum},
		"typo middle":    {flip(70), ErrCodeChecksum},
		"typo checksum":  {flip(130), ErrCodeChecksum},
		"swapped groups": {CodePrefix + body[5:10] + body[:5] + body[10:], ErrCodeChecksum},
	}
	for name, tc := range cases {
		if tc.in == s {
			t.Fatalf("%s: case equals the code", name)
		}
		if _, err := ParseCode(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	f.Add(randomCode(f).String())
	f.Add("SIEGEL1-")
	f.Add("SIEGEL2-AAAAA")
	f.Add(strings.ToLower(randomCode(f).String()))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrCode) && !errors.Is(err, ErrCodeChecksum) && !errors.Is(err, ErrCodeVersion) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		again, err := ParseCode(c.String())
		if err != nil || again != c {
			t.Fatalf("canonical form does not parse back: %v", err)
		}
	})
}
