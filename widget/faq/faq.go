// Package faq matches a visitor's free question to one of a flow's FAQ entries,
// in the browser. It understands German and English: words are folded (case,
// umlauts and their spellings "ae"/"a", ß/ss, accents), function words dropped,
// endings stemmed; it forgives typos (one edit in words of 4 letters, two from
// 8; the first letter must be right) and finds compound parts
// ("Terminvereinbarung" contains "Termin").
//
// Scoring: every word of the vocabulary (the stems of the entries' question
// variants, keywords and answers) weighs its BM25 inverse document frequency.
// An entry's confidence is the share of the question's weight that the entry
// explains (a word in its answer counts less than one in a variant or
// keyword), damped when the question covers little of the entry's best
// matching variant or keyword, and halved when no content word of the
// question is found in a variant or keyword at all. A content word the FAQ
// does not know weighs more than its rarest word, so an unrelated question
// ("Do you sell pizza?") explains too little to reach Threshold; common words
// ("genau", "exactly") and question words weigh little unless they are
// keywords. The result is deterministic.
package faq

import (
	"math"
	"sync"
	"unicode/utf8"
)

// Threshold is the confidence from which a match is accepted.
const Threshold = 0.5

// Limits on the analysed question: longer input is cut.
const (
	maxQuestionRunes = 500
	maxQuestionWords = 40
)

// Similarities of a question word to a vocabulary word.
const (
	simOneEdit  = 0.85
	simTwoEdits = 0.7
	simCompound = 0.7
	simPart     = 0.5
)

// Weights, tuned on the shipped flow's FAQ with the paraphrase set in
// testdata (and checked on a held-out set written afterwards):
const (
	// answerField: how much a word found only in an entry's answer counts
	// compared with one in a question variant or keyword.
	answerField = 0.8
	// unknownFactor, commonFactor: the weight of a word the FAQ does not know,
	// and of such a word that is common, relative to a word of one entry.
	unknownFactor = 1.15
	commonFactor  = 0.1
	// unanchored: the factor for an entry that no content word of the
	// question finds in a variant or keyword (answer words alone).
	unanchored = 0.5
	// sideBase: the part of the confidence that does not depend on how much
	// of the entry's best variant or keyword the question covers.
	sideBase = 0.7
)

// Entry is one FAQ entry in one language.
type Entry struct {
	Questions []string // question variants
	Keywords  []string // keywords or short phrases
	Answer    string   // the answer: its words are weaker evidence (optional)
}

// Index is the precomputed matcher for the entries of one language. It is
// read-only after NewIndex and safe for concurrent use.
type Index struct {
	lang     Lang
	terms    []term
	byStem   map[string]int32
	postings [][]posting // term → entries containing it (ascending)
	groups   [][][]int32 // entry → variants and keywords → their terms
	nEntries int
	unknown  float64 // weight of a question word the FAQ does not know
	common   float64 // weight of an unknown but common word
	minPart  int     // letters of the shortest compound part
}

type term struct {
	stem    string
	runes   []rune
	idf     float64
	exact   bool // a question word: matched only exactly
	keyword bool // used in a keyword
	surface int  // letters of its shortest unstemmed form
}

// posting says that an entry contains a term: in a question variant or
// keyword (field 1) or only in its answer (field answerField).
type posting struct {
	entry int32
	field float64
}

// NewIndex analyses the entries once.
func NewIndex(lang Lang, entries []Entry) *Index {
	ix := &Index{lang: lang, byStem: make(map[string]int32), nEntries: len(entries), minPart: 4}
	if lang == English {
		ix.minPart = 5 // English writes compounds apart: "phone" in "smartphone" is rare luck
	}
	ix.groups = make([][][]int32, len(entries))
	for e, en := range entries {
		add := func(text string, field float64, keyword bool) []int32 {
			var g []int32
			for _, w := range analyze(text, lang) {
				t := ix.termID(w.stem)
				if n := utf8.RuneCountInString(w.word); ix.terms[t].surface == 0 || n < ix.terms[t].surface {
					ix.terms[t].surface = n
				}
				ix.terms[t].exact = ix.terms[t].exact || w.exact
				ix.terms[t].keyword = ix.terms[t].keyword || keyword
				if !containsID(g, t) {
					g = append(g, t)
				}
				p := ix.postings[t]
				if n := len(p); n > 0 && p[n-1].entry == int32(e) {
					p[n-1].field = max(p[n-1].field, field)
				} else {
					ix.postings[t] = append(p, posting{int32(e), field})
				}
			}
			return g
		}
		for _, q := range en.Questions {
			if g := add(q, 1, false); len(g) > 0 {
				ix.groups[e] = append(ix.groups[e], g)
			}
		}
		for _, k := range en.Keywords {
			if g := add(k, 1, true); len(g) > 0 {
				ix.groups[e] = append(ix.groups[e], g)
			}
		}
		add(en.Answer, answerField, false)
	}
	n := float64(len(entries))
	for t := range ix.terms {
		df := float64(len(ix.postings[t]))
		ix.terms[t].idf = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	ix.unknown = unknownFactor * math.Log(1+(n-1+0.5)/(1+0.5))
	ix.common = commonFactor * math.Log(1+(n-1+0.5)/(1+0.5))
	return ix
}

func (ix *Index) termID(stem string) int32 {
	if t, ok := ix.byStem[stem]; ok {
		return t
	}
	t := int32(len(ix.terms))
	ix.terms = append(ix.terms, term{stem: stem, runes: []rune(stem)})
	ix.byStem[stem] = t
	ix.postings = append(ix.postings, nil)
	return t
}

func containsID(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Len returns the number of entries.
func (ix *Index) Len() int { return ix.nEntries }

type cand struct {
	term int32
	sim  float64
}

// similarity of a question word to a vocabulary word: 1 for the same stem,
// less for a typo or a compound part (a word of at least minPart letters at
// the start or end of the other), 0 for no match. Question words (wann, where)
// match only exactly.
func similarity(w *word, q []rune, t *term, minPart int) float64 {
	if w.stem == t.stem {
		return 1
	}
	if w.exact || t.exact {
		return 0
	}
	short, long := q, t.runes
	if len(short) > len(long) {
		short, long = long, short
	}
	// The tolerance follows the words as typed ("tkae" → "tka" is 4 letters);
	// the first letter must be right (or swapped with the second).
	if k := maxEdits(min(w.surface, t.surface)); k > 0 && len(q) > 1 && len(t.runes) > 1 &&
		(q[0] == t.runes[0] || q[0] == t.runes[1] && q[1] == t.runes[0]) {
		switch d := distance(q, t.runes, k); {
		case d == 1:
			return simOneEdit
		case d == 2 && k >= 2:
			return simTwoEdits
		}
	}
	if len(short) >= minPart && len(long) > len(short) &&
		(equalRunes(long[:len(short)], short) || equalRunes(long[len(long)-len(short):], short)) {
		if len(q) < len(t.runes) {
			return simPart // the question word is a part of a compound
		}
		return simCompound
	}
	return 0
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Scored is an entry with its confidence.
type Scored struct {
	Entry      int
	Confidence float64
}

// Match returns the best entry for the question, its confidence in [0, 1] and
// whether the confidence reaches Threshold. Without any entry or any content
// word in the question it returns -1, 0, false.
func (ix *Index) Match(question string) (entry int, confidence float64, ok bool) {
	r := ix.Rank(question)
	if len(r) == 0 {
		return -1, 0, false
	}
	return r[0].Entry, r[0].Confidence, r[0].Confidence >= Threshold
}

// Rank returns the entries with a confidence above zero, best first (ties in
// entry order).
func (ix *Index) Rank(question string) []Scored {
	if ix.nEntries == 0 {
		return nil
	}
	if utf8.RuneCountInString(question) > maxQuestionRunes {
		question = string([]rune(question)[:maxQuestionRunes])
	}
	words := analyze(question, ix.lang)
	// Distinct words, in order.
	uniq := words[:0]
	for _, w := range words {
		dup := false
		for _, u := range uniq {
			if u.stem == w.stem {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, w)
		}
	}
	words = uniq
	if len(words) > maxQuestionWords {
		words = words[:maxQuestionWords]
	}

	termSim := make([]float64, len(ix.terms)) // best similarity of any question word
	covered := make([]float64, ix.nEntries)   // Σ weight × similarity per entry
	best := make([]float64, ix.nEntries)      // scratch: per word and entry
	anchored := make([]bool, ix.nEntries)     // a content word matches a variant or keyword
	total := 0.0
	var cands []cand
	for i := range words {
		w := &words[i]
		q := []rune(w.stem)
		cands = cands[:0]
		weight, top, kw := 0.0, 0.0, false
		_, known := ix.byStem[w.stem]
		for t := range ix.terms {
			s := similarity(w, q, &ix.terms[t], ix.minPart)
			if s == 0 || known && s != 1 && s != simCompound {
				// A correctly spelt word is no typo of another word.
				continue
			}
			cands = append(cands, cand{int32(t), s})
			if s > top || s == top && ix.terms[t].idf > weight {
				top, weight, kw = s, ix.terms[t].idf, ix.terms[t].keyword
			}
		}
		if !known && len(cands) > 0 {
			// A word the FAQ does not know, found only as a typo or a compound
			// part, weighs like an unknown word: partly explained.
			weight = max(weight, ix.unknown)
		}
		// Common and question words count fully only as exact keywords.
		weak := (w.common || w.exact) && !(kw && top == 1)
		if weak {
			weight = min(weight, ix.common)
		}
		if len(cands) == 0 {
			switch {
			case w.common || w.exact:
				weight = ix.common
			case ix.isStopTypo([]rune(w.word)):
				continue
			default:
				weight = ix.unknown
			}
		}
		total += weight
		clear(best)
		for _, c := range cands {
			termSim[c.term] = max(termSim[c.term], c.sim)
			for _, p := range ix.postings[c.term] {
				best[p.entry] = max(best[p.entry], c.sim*p.field)
				if !weak && p.field == 1 {
					anchored[p.entry] = true
				}
			}
		}
		for e, s := range best {
			covered[e] += weight * s
		}
	}
	if total == 0 {
		return nil
	}
	var out []Scored
	for e := range ix.nEntries {
		cov := covered[e] / total
		if cov <= 0 {
			continue
		}
		side := 0.0
		for _, g := range ix.groups[e] {
			num, den := 0.0, 0.0
			for _, t := range g {
				num += ix.terms[t].idf * termSim[t]
				den += ix.terms[t].idf
			}
			if den > 0 {
				side = max(side, num/den)
			}
		}
		c := cov * (sideBase + (1-sideBase)*side)
		if !anchored[e] {
			c *= unanchored
		}
		out = append(out, Scored{e, min(1, max(0, c))})
	}
	// Highest confidence first, ties in entry order: an insertion sort, as the
	// lists are short (the generic sorts of sort and slices would add
	// kilobytes to the widget).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Confidence > out[j-1].Confidence; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// isStopTypo reports whether an unknown word is a typo of a stop word.
func (ix *Index) isStopTypo(q []rune) bool {
	if len(q) < 4 {
		return false
	}
	stops := stopDE
	if ix.lang == English {
		stops = stopEN
	}
	for _, s := range stopList(ix.lang, stops) {
		if distance(q, s, 1) <= 1 {
			return true
		}
	}
	return false
}

var (
	stopOnce  [2]sync.Once
	stopRunes [2][][]rune
)

// stopList returns the stop words of at least 4 letters as runes, sorted, for
// the typo check.
func stopList(lang Lang, stops map[string]bool) [][]rune {
	i := int(lang) & 1
	stopOnce[i].Do(func() {
		var ws []string
		for w := range stops {
			if utf8.RuneCountInString(w) >= 4 {
				ws = append(ws, w)
			}
		}
		sortStrings(ws)
		for _, w := range ws {
			stopRunes[i] = append(stopRunes[i], []rune(w))
		}
	})
	return stopRunes[i]
}

// Matcher matches questions against entries in any language, building each
// language's Index on first use. It is safe for concurrent use.
type Matcher struct {
	entries func(lang string) []Entry
	mu      sync.Mutex
	idx     map[string]*Index
}

// NewMatcher returns a matcher that asks entries for the FAQ entries of a
// language tag (in entry order; the same order for every language) when it
// first needs them.
func NewMatcher(entries func(lang string) []Entry) *Matcher {
	return &Matcher{entries: entries, idx: make(map[string]*Index)}
}

// Index returns the index of a language, building it once.
func (m *Matcher) Index(lang string) *Index {
	m.mu.Lock()
	defer m.mu.Unlock()
	ix, ok := m.idx[lang]
	if !ok {
		ix = NewIndex(LangOf(lang), m.entries(lang))
		m.idx[lang] = ix
	}
	return ix
}

// Match matches a question in the language with the given tag: the entry's
// index, the confidence in [0, 1] and whether it reaches Threshold (-1, 0,
// false when nothing matches at all).
func (m *Matcher) Match(question, lang string) (entry int, confidence float64, ok bool) {
	return m.Index(lang).Match(question)
}

// sortStrings sorts a short list of strings (insertion sort, see Rank).
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
