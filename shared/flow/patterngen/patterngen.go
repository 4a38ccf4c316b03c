// Package patterngen generates random patterns of the flow pattern subset
// (flow.PortablePattern, docs/FLOWS.md "Patterns") together with inputs for
// them, for differential tests: the relay's checker uses Go's regexp, the
// widget the browser's RegExp, and both must agree. Only tests import it.
package patterngen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Alphabet holds the characters inputs are made of: ASCII letters, digits and
// punctuation, the pattern syntax characters, the white space on which Go
// and ECMAScript disagree (\v, U+00A0, U+2028, U+2029, U+FEFF), line breaks,
// umlauts, a character outside the Basic Multilingual Plane and U+10FFFF.
var Alphabet = []rune("abcxyzAZ059_- ./:@\t\n\r\v\f\u00a0\u2028\u2029\ufeffäöüÄÖÜßé€😀\U0010FFFF" +
	`[](){}*+?|^$\`)

// Pattern is a generated pattern.
type Pattern struct {
	Src  string // the pattern, in the subset
	root node
}

// Gen returns a random pattern of the subset. Counted repetitions stay small
// so that nested ones never exceed the limit of 1000.
func Gen(r *rand.Rand) *Pattern {
	g := &gen{r: r}
	p := &Pattern{root: g.alt(0)}
	var b strings.Builder
	if r.IntN(6) == 0 {
		b.WriteByte('^')
	}
	p.root.write(&b)
	if r.IntN(6) == 0 {
		b.WriteByte('$')
	}
	p.Src = b.String()
	return p
}

// Inputs returns n inputs for p: strings it matches (made by walking the
// pattern), those with one character inserted, deleted or replaced, random
// strings of the alphabet and the empty string.
func (p *Pattern) Inputs(r *rand.Rand, n int) []string {
	out := []string{""}
	for len(out) < n {
		var s string
		switch r.IntN(4) {
		case 0, 1:
			var b strings.Builder
			p.root.sample(r, &b)
			s = b.String()
		case 2:
			var b strings.Builder
			p.root.sample(r, &b)
			s = mutate(r, b.String())
		default:
			rs := make([]rune, r.IntN(6))
			for i := range rs {
				rs[i] = pick(r)
			}
			s = string(rs)
		}
		out = append(out, s)
	}
	return out
}

func pick(r *rand.Rand) rune { return Alphabet[r.IntN(len(Alphabet))] }

func mutate(r *rand.Rand, s string) string {
	rs := []rune(s)
	i := r.IntN(len(rs) + 1)
	switch r.IntN(3) {
	case 0:
		rs = append(rs[:i], append([]rune{pick(r)}, rs[i:]...)...)
	case 1:
		if i < len(rs) {
			rs = append(rs[:i], rs[i+1:]...)
		}
	default:
		if i < len(rs) {
			rs[i] = pick(r)
		}
	}
	return string(rs)
}

type node interface {
	write(b *strings.Builder)
	sample(r *rand.Rand, b *strings.Builder)
}

type gen struct{ r *rand.Rand }

const maxDepth = 3

func (g *gen) alt(depth int) node {
	n := 1
	if g.r.IntN(3) == 0 {
		n += g.r.IntN(3)
	}
	a := make(alt, n)
	for i := range a {
		a[i] = g.concat(depth)
	}
	return a
}

func (g *gen) concat(depth int) node {
	c := make(concat, g.r.IntN(4))
	for i := range c {
		c[i] = g.atom(depth)
		if g.r.IntN(3) == 0 {
			c[i] = g.repeat(c[i])
		}
	}
	return c
}

func (g *gen) atom(depth int) node {
	k := g.r.IntN(10)
	if depth >= maxDepth && k >= 8 {
		k = 0
	}
	switch k {
	case 0, 1, 2:
		return lit{pick(g.r), g.r.IntN(4)}
	case 3:
		return perl("dDwWsS"[g.r.IntN(6)])
	case 4:
		return dot{}
	case 5, 6, 7:
		return g.class()
	}
	return group{g.alt(depth + 1), g.r.IntN(2) == 0}
}

func (g *gen) repeat(sub node) node {
	rp := repeat{sub: sub, lazy: g.r.IntN(4) == 0}
	switch g.r.IntN(6) {
	case 0:
		rp.min, rp.max, rp.op = 0, -1, "*"
	case 1:
		rp.min, rp.max, rp.op = 1, -1, "+"
	case 2:
		rp.min, rp.max, rp.op = 0, 1, "?"
	case 3:
		rp.min = g.r.IntN(4)
		rp.max = rp.min
		rp.op = "{" + strconv.Itoa(rp.min) + "}"
	case 4:
		rp.min, rp.max = g.r.IntN(3), -1
		rp.op = "{" + strconv.Itoa(rp.min) + ",}"
	default:
		rp.min = g.r.IntN(3)
		rp.max = rp.min + g.r.IntN(3)
		rp.op = "{" + strconv.Itoa(rp.min) + "," + strconv.Itoa(rp.max) + "}"
	}
	return rp
}

func (g *gen) class() node {
	c := class{neg: g.r.IntN(4) == 0}
	for i := 0; i < 1+g.r.IntN(3); i++ {
		switch g.r.IntN(4) {
		case 0:
			c.items = append(c.items, item{perl: "dDwWsS"[g.r.IntN(6)]})
		case 1:
			lo, hi := pick(g.r), pick(g.r)
			if hi < lo {
				lo, hi = hi, lo
			}
			c.items = append(c.items, item{lo: lo, hi: hi, style: g.r.IntN(4)})
		default:
			r := pick(g.r)
			c.items = append(c.items, item{lo: r, hi: r, style: g.r.IntN(4)})
		}
	}
	return c
}

// Nodes.

type alt []node

func (a alt) write(b *strings.Builder) {
	for i, n := range a {
		if i > 0 {
			b.WriteByte('|')
		}
		n.write(b)
	}
}

func (a alt) sample(r *rand.Rand, b *strings.Builder) { a[r.IntN(len(a))].sample(r, b) }

type concat []node

func (c concat) write(b *strings.Builder) {
	for _, n := range c {
		n.write(b)
	}
}

func (c concat) sample(r *rand.Rand, b *strings.Builder) {
	for _, n := range c {
		n.sample(r, b)
	}
}

type group struct {
	sub     node
	capture bool
}

func (g group) write(b *strings.Builder) {
	if g.capture {
		b.WriteByte('(')
	} else {
		b.WriteString("(?:")
	}
	g.sub.write(b)
	b.WriteByte(')')
}

func (g group) sample(r *rand.Rand, b *strings.Builder) { g.sub.sample(r, b) }

type repeat struct {
	sub      node
	min, max int // max -1: none
	op       string
	lazy     bool
}

func (rp repeat) write(b *strings.Builder) {
	rp.sub.write(b)
	b.WriteString(rp.op)
	if rp.lazy {
		b.WriteByte('?')
	}
}

func (rp repeat) sample(r *rand.Rand, b *strings.Builder) {
	n := rp.min
	if rp.max < 0 {
		n += r.IntN(3)
	} else if rp.max > rp.min {
		n += r.IntN(rp.max - rp.min + 1)
	}
	for range n {
		rp.sub.sample(r, b)
	}
}

// lit is one character, written in one of several ways (style).
type lit struct {
	r     rune
	style int
}

func (l lit) write(b *strings.Builder) { writeChar(b, l.r, l.style, false) }

func (l lit) sample(_ *rand.Rand, b *strings.Builder) { b.WriteRune(l.r) }

// writeChar writes r as a literal: syntax characters escaped, line breaks
// and tabs as \n \t … or raw, ASCII sometimes as \xHH.
func writeChar(b *strings.Builder, r rune, style int, inClass bool) {
	switch {
	case style == 0 && r < 0x80:
		b.WriteString(`\x`)
		b.WriteByte("0123456789abcdef"[r>>4])
		b.WriteByte("0123456789ABCDEF"[r&15])
		return
	case strings.ContainsRune(`\^$.|?*+()[]{}/`, r), inClass && r == '-':
		b.WriteByte('\\')
	case style == 1 && strings.ContainsRune("\t\n\r\v\f", r):
		b.WriteByte('\\')
		b.WriteByte("tnrvf"[strings.IndexRune("\t\n\r\v\f", r)])
		return
	}
	b.WriteRune(r)
}

type perl byte

func (p perl) write(b *strings.Builder) { b.WriteByte('\\'); b.WriteByte(byte(p)) }

func (p perl) sample(r *rand.Rand, b *strings.Builder) {
	b.WriteRune(choose(r, func(c rune) bool { return perlHas(byte(p), c) }))
}

// perlHas is RE2's meaning of \d \D \w \W \s \S.
func perlHas(p byte, c rune) bool {
	var in bool
	switch p | 0x20 {
	case 'd':
		in = c >= '0' && c <= '9'
	case 'w':
		in = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
	case 's':
		in = c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
	}
	return in == (p >= 'a')
}

// choose picks a character of the alphabet for which ok holds (any if none
// does).
func choose(r *rand.Rand, ok func(rune) bool) rune {
	var cands []rune
	for _, c := range Alphabet {
		if ok(c) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return pick(r)
	}
	return cands[r.IntN(len(cands))]
}

type dot struct{}

func (dot) write(b *strings.Builder) { b.WriteByte('.') }

func (dot) sample(r *rand.Rand, b *strings.Builder) {
	b.WriteRune(choose(r, func(c rune) bool { return c != '\n' }))
}

type item struct {
	perl   byte // \d … (lo, hi unused)
	lo, hi rune
	style  int
}

type class struct {
	neg   bool
	items []item
}

func (c class) write(b *strings.Builder) {
	b.WriteByte('[')
	if c.neg {
		b.WriteByte('^')
	}
	for _, it := range c.items {
		switch {
		case it.perl != 0:
			b.WriteByte('\\')
			b.WriteByte(it.perl)
		case it.lo == it.hi:
			writeChar(b, it.lo, it.style, true)
		default:
			writeChar(b, it.lo, it.style, true)
			b.WriteByte('-')
			writeChar(b, it.hi, it.style, true)
		}
	}
	b.WriteByte(']')
}

func (c class) has(r rune) bool {
	for _, it := range c.items {
		if it.perl != 0 && perlHas(it.perl, r) || it.perl == 0 && r >= it.lo && r <= it.hi {
			return !c.neg
		}
	}
	return c.neg
}

func (c class) sample(r *rand.Rand, b *strings.Builder) { b.WriteRune(choose(r, c.has)) }
