package faq

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLangOf(t *testing.T) {
	for tag, want := range map[string]Lang{"en": English, "EN": English, "en-GB": English, "en_US": English,
		"de": German, "de-AT": German, "": German, "fr": German, "eng": German, "e": German} {
		if got := LangOf(tag); got != want {
			t.Errorf("LangOf(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	cases := []struct {
		lang Lang
		in   string
		want []string
	}{
		{German, "Öffnungszeiten? Oeffnungszeiten! Offnungszeiten.", []string{"offnungszeiten", "offnungszeiten", "offnungszeiten"}},
		{German, "Straße STRASSE", []string{"strasse", "strasse"}},
		{German, "Gebühr, Gebuehr; Gebuhr", []string{"gebuhr", "gebuhr", "gebuhr"}},
		{German, "gibt's E-Bike-Akku", []string{"gibt", "bike", "akku"}}, // "e" is one letter
		{German, "Pedelec–Akku/Motor", []string{"pedelec", "akku", "motor"}},
		{German, "Café naïve", []string{"cafe", "naive"}},
		{German, "Cafe\u0301", []string{"cafe"}}, // decomposed é
		{English, "What's the price? Don't know.", []string{"what", "the", "price", "don", "know"}},
		{English, "Blue queue", []string{"blue", "queue"}}, // no digraph folding in English
		{German, "24/7 123", []string{"24", "123"}},
		{German, "   ", nil},
	}
	for _, c := range cases {
		if got := tokens(c.in, c.lang); !reflect.DeepEqual(got, c.want) {
			t.Errorf("tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStemDE(t *testing.T) {
	groups := [][]string{
		{"kosten", "kostet", "koste"},
		{"preis", "preise", "preisen"},
		{"reparatur", "reparaturen"},
		{"termin", "termine", "terminen"},
		{"reifen", "reifens"},
		{"öffnung", "öffnungen"},
		{"bremse", "bremsen"},
		{"kunde", "kunden", "kundes"},
		{"möglich", "mögliche", "möglichen"},
	}
	for _, g := range groups {
		want := stemDE(tokens(g[0], German)[0])
		for _, w := range g[1:] {
			if got := stemDE(tokens(w, German)[0]); got != want {
				t.Errorf("stem(%q) = %q, stem(%q) = %q", w, got, g[0], want)
			}
		}
	}
	for _, w := range []string{"bus", "uhr", "rad", "wo"} {
		if got := stemDE(w); got != w {
			t.Errorf("short word %q stemmed to %q", w, got)
		}
	}
}

func TestStemEN(t *testing.T) {
	groups := [][]string{
		{"price", "prices", "pricing", "priced"},
		{"open", "opens", "opening", "opened"},
		{"book", "books", "booking", "booked"},
		{"cancel", "cancels", "cancelled", "cancelling", "cancellation"},
		{"repair", "repairs", "repairing", "repaired"},
		{"city", "cities"},
		{"locate", "located", "location", "locations"},
		{"appoint", "appointment", "appointments"},
		{"quick", "quickly"},
		{"run", "running"},
	}
	for _, g := range groups {
		want := stemEN(g[0])
		for _, w := range g[1:] {
			if got := stemEN(w); got != want {
				t.Errorf("stem(%q) = %q, stem(%q) = %q", w, got, g[0], want)
			}
		}
	}
	for _, w := range []string{"bus", "gas", "is", "address", "this"} {
		if got := stemEN(w); len(got) < 3 && len(w) >= 3 {
			t.Errorf("%q over-stemmed to %q", w, got)
		}
	}
}

func TestStopWords(t *testing.T) {
	if got := analyze("Habt ihr auch am Sonntag offen?", German); len(got) != 2 || got[0].stem != "sonntag" {
		t.Errorf("German stop words: %+v", got)
	}
	if got := analyze("Are you also open on the weekend?", English); len(got) != 2 || got[0].stem != "open" {
		t.Errorf("English stop words: %+v", got)
	}
	// Question words stay, and match only exactly.
	ws := analyze("wo wann where when", German)
	if len(ws) != 4 || !ws[0].exact || !ws[1].exact {
		t.Errorf("question words: %+v", ws)
	}
	// Every stop word is folded (the lists are folded when built).
	for w := range stopDE {
		if got := tokens(w, German); len(got) != 1 || got[0] != w {
			t.Errorf("stop word %q not in folded form", w)
		}
	}
}

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"kosten", "kosten", 2, 0},
		{"kosten", "kostne", 2, 1}, // transposition
		{"kosten", "kosen", 2, 1},  // deletion
		{"kosten", "kossten", 2, 1},
		{"kosten", "kasten", 2, 1},
		{"kosten", "kastne", 2, 2},
		{"kosten", "hallo", 2, 3},     // over the limit: limit + 1
		{"kosten", "kostenlos", 2, 3}, // length difference over the limit
		{"", "ab", 2, 2},
		{"ab", "", 1, 2},
		{"ca", "abc", 3, 3}, // optimal string alignment, not full Damerau
		{"öl", "ol", 1, 1},
	}
	for _, c := range cases {
		if got := distance([]rune(c.a), []rune(c.b), c.limit); got != c.want {
			t.Errorf("distance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
	if maxEdits(3) != 0 || maxEdits(4) != 1 || maxEdits(7) != 1 || maxEdits(8) != 2 {
		t.Error("maxEdits")
	}
}

var sample = map[string][]Entry{
	"de": {
		{Questions: []string{"Wann habt ihr geöffnet?", "Wie sind eure Öffnungszeiten?"}, Keywords: []string{"öffnungszeiten", "geöffnet", "offen"},
			Answer: "Montag bis Freitag 9 bis 18 Uhr."},
		{Questions: []string{"Was kostet eine Reparatur?"}, Keywords: []string{"preis", "kosten"},
			Answer: "Ab 10 Euro, mit Girocard oder bar."},
		{Questions: []string{"Wo finde ich euch?"}, Keywords: []string{"adresse", "wo", "parkplatz"},
			Answer: "Lindenallee 7 in Köln."},
		{Questions: []string{"Kann ich einen Termin vereinbaren?"}, Keywords: []string{"termin"},
			Answer: "Ja, hier im Chat."},
	},
	"en": {
		{Questions: []string{"When are you open?", "What are your opening hours?"}, Keywords: []string{"opening hours"},
			Answer: "Monday to Friday, 9 am to 6 pm."},
		{Questions: []string{"How much does a repair cost?"}, Keywords: []string{"price", "cost"},
			Answer: "From 10 euros, by card or in cash."},
		{Questions: []string{"Where are you located?"}, Keywords: []string{"address", "where", "parking"},
			Answer: "Lindenallee 7 in Cologne."},
		{Questions: []string{"Can I make an appointment?"}, Keywords: []string{"appointment"},
			Answer: "Yes, right here in the chat."},
	},
}

func sampleMatcher() *Matcher {
	return NewMatcher(func(lang string) []Entry { return sample[lang] })
}

func TestMatch(t *testing.T) {
	m := sampleMatcher()
	cases := []struct {
		lang, q string
		want    int // -1: not answered
	}{
		{"de", "Öffnungszeiten?", 0},
		{"de", "Oeffnungszeiten bitte", 0},
		{"de", "offnungszeitn", 0},                  // typo and plain vowel
		{"de", "Wann habt ihr offen? Geöffnet?", 0}, // word order, colloquial
		{"de", "Was kostet das?", 1},
		{"de", "Reperatur kosten", 1},                 // typo
		{"de", "Wo seid ihr?", 2},                     // question word as keyword
		{"de", "Gibt es Parkplätze?", 2},              // plural
		{"de", "Terminvereinbarung möglich?", 3},      // compound
		{"de", "Kann ich mit Girocard bezahlen?", -1}, // answer words only: not enough
		{"de", "Wie wird das Wetter morgen?", -1},
		{"de", "Was kostet ein Flug nach Mallorca?", -1},
		{"de", "", -1},
		{"de", "?!… und oder", -1},
		{"en", "what r ur opening hourz", 0},
		{"en", "Prices?", 1},
		{"en", "how much for a repiar", 1},
		{"en", "Where is your shop located?", 2},
		{"en", "Do you sell pizza?", -1},
		{"en", "Who won the election?", -1},
		{"en", "appointments", 3},
	}
	for _, c := range cases {
		i, conf, ok := m.Match(c.q, c.lang)
		if conf < 0 || conf > 1 {
			t.Errorf("%q: confidence %v out of range", c.q, conf)
		}
		if ok != (conf >= Threshold) {
			t.Errorf("%q: ok %v with confidence %v", c.q, ok, conf)
		}
		if c.want < 0 && ok || c.want >= 0 && (!ok || i != c.want) {
			t.Errorf("[%s] %q: entry %d (%.2f, ok %v), want %d", c.lang, c.q, i, conf, ok, c.want)
		}
	}
	if i, conf, ok := m.Match("", "de"); i != -1 || conf != 0 || ok {
		t.Errorf("empty question: %d %v %v", i, conf, ok)
	}
	if i, _, ok := NewMatcher(func(string) []Entry { return nil }).Match("Preis", "de"); i != -1 || ok {
		t.Errorf("no entries: %d %v", i, ok)
	}
}

func TestRankDeterministic(t *testing.T) {
	q := "Wann und wo kann ich einen Termin zu welchem Preis machen?"
	first := sampleMatcher().Index("de").Rank(q)
	if len(first) < 3 {
		t.Fatalf("rank %+v", first)
	}
	for i := 1; i < len(first); i++ {
		if first[i].Confidence > first[i-1].Confidence {
			t.Fatalf("not sorted: %+v", first)
		}
	}
	for range 20 {
		if got := sampleMatcher().Index("de").Rank(q); !reflect.DeepEqual(got, first) {
			t.Fatalf("rank differs: %+v vs %+v", got, first)
		}
	}
	// The index is built once per language.
	m := sampleMatcher()
	if m.Index("de") != m.Index("de") || m.Index("de") == m.Index("en") {
		t.Error("index cache")
	}
}

// TestRankTies: entries of equal confidence keep their order.
func TestRankTies(t *testing.T) {
	e := Entry{Questions: []string{"Wann habt ihr geöffnet?"}}
	other := Entry{Questions: []string{"Was kostet eine Inspektion?"}}
	m := NewMatcher(func(string) []Entry { return []Entry{other, e, other, e, e} })
	r := m.Index("de").Rank("Wann habt ihr geöffnet?")
	var got []int
	for _, s := range r {
		if s.Entry%2 == 1 || s.Entry == 4 {
			got = append(got, s.Entry)
		}
	}
	if !reflect.DeepEqual(got, []int{1, 3, 4}) || r[0].Entry != 1 {
		t.Fatalf("rank %+v", r)
	}
}

func TestSortStrings(t *testing.T) {
	for _, in := range [][]string{nil, {"b"}, {"b", "a"}, {"öl", "Zahn", "akku", "", "akku", "Akku", "zahn"}} {
		got := append([]string(nil), in...)
		sortStrings(got)
		want := append([]string(nil), in...)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sortStrings(%q) = %q", in, got)
		}
	}
}

func TestLongQuestion(t *testing.T) {
	m := sampleMatcher()
	q := strings.Repeat("Öffnungszeiten Wetter Pizza Kosten ", 500)
	if _, conf, _ := m.Match(q, "de"); conf < 0 || conf > 1 {
		t.Errorf("confidence %v", conf)
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"Öffnungszeiten?", "what r ur opening hourz", "Gebuehr\u0301 'n'", "ß", "\xff\xfe", "a@b.c 24/7", strings.Repeat("x", 600)} {
		f.Add(s, "de")
		f.Add(s, "en")
	}
	m := sampleMatcher()
	f.Fuzz(func(t *testing.T, q, lang string) {
		i, conf, ok := m.Match(q, lang)
		if conf < 0 || conf > 1 || ok != (conf >= Threshold) || i < -1 || i >= 4 || i == -1 && (conf != 0 || ok) {
			t.Fatalf("Match(%q, %q) = %d, %v, %v", q, lang, i, conf, ok)
		}
	})
}
