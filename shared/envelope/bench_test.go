package envelope

import (
	"crypto/rand"
	"strings"
	"testing"
)

func benchEnvelope(b *testing.B) (*party, []byte) {
	p := newParty(b, 2)
	return p, mustSeal(b, p.agents[0], p.boxKeys(), p.msg(1, strings.Repeat("k", 1024)))
}

// BenchmarkSeal seals 1 KB of text for 3 recipients (shared keys cached).
func BenchmarkSeal(b *testing.B) {
	p := newParty(b, 2)
	rks := p.boxKeys()
	m := p.msg(1, strings.Repeat("k", 1024))
	b.ReportAllocs()
	b.SetBytes(int64(len(m.Content)))
	for b.Loop() {
		if _, err := Seal(rand.Reader, p.agents[0], rks, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is what the relay does with each envelope it receives.
func BenchmarkVerify(b *testing.B) {
	_, env := benchEnvelope(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(env)))
	for b.Loop() {
		if _, err := Verify(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen verifies and decrypts a 1 KB, 3-recipient envelope (shared key cached).
func BenchmarkOpen(b *testing.B) {
	p, env := benchEnvelope(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(env)))
	for b.Loop() {
		if _, err := Open(env, p.visitor, testSite, p.conv); err != nil {
			b.Fatal(err)
		}
	}
}
