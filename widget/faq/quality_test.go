package faq

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"siegel/shared/flow"
)

// loadShipped parses the shipped flow and returns it with a matcher for its FAQ.
func loadShipped(t testing.TB) (*flow.Flow, *Matcher) {
	t.Helper()
	f, probs := flow.Parse(flow.ShippedName, flow.Shipped())
	if len(probs) > 0 {
		t.Fatalf("shipped flow invalid: %v", probs)
	}
	if len(f.FAQ) == 0 {
		t.Fatal("shipped flow has no FAQ entries")
	}
	m := NewMatcher(func(lang string) []Entry {
		out := make([]Entry, len(f.FAQ))
		for i, e := range f.FAQ {
			out[i] = Entry{Questions: e.Questions[lang], Keywords: e.Keywords[lang], Answer: e.Answer[lang]}
		}
		return out
	})
	return f, m
}

// readTSV returns the rows of a tab-separated file without comments and
// blank lines, each with n fields.
func readTSV(t testing.TB, name string, n int) [][]string {
	t.Helper()
	fh, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		row := strings.Split(s, "\t")
		if len(row) != n {
			t.Fatalf("%s:%d: %d fields, want %d", name, line, len(row), n)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestFAQQuality measures the top-1 accuracy on the paraphrase sets (a
// question counts only when the right entry is matched at or above the
// threshold) and checks that no unrelated question is answered.
func TestFAQQuality(t *testing.T) {
	f, m := loadShipped(t)
	ids := map[string]bool{}
	variants := map[string]string{} // normalised variant → entry
	for _, e := range f.FAQ {
		ids[e.ID] = true
		for lang, qs := range e.Questions {
			for _, q := range qs {
				variants[lang+"|"+strings.Join(tokens(q, LangOf(lang)), " ")] = e.ID
			}
		}
	}

	// score returns the right answers among rows and the count per language.
	score := func(name string) (right, n int, perLang map[string]int) {
		perLang = map[string]int{}
		rows := readTSV(t, name, 3)
		for _, r := range rows {
			lang, want, q := r[0], r[1], r[2]
			perLang[lang]++
			if !ids[want] {
				t.Errorf("%s: paraphrase %q: unknown entry %q", name, q, want)
				continue
			}
			if id, ok := variants[lang+"|"+strings.Join(tokens(q, LangOf(lang)), " ")]; ok {
				t.Errorf("%s: paraphrase %q copies a question variant of %q", name, q, id)
			}
			i, conf, ok := m.Match(q, lang)
			got := "-"
			if i >= 0 {
				got = f.FAQ[i].ID
			}
			if ok && got == want {
				right++
				continue
			}
			t.Logf("miss [%s] %q: want %s, got %s (%.2f)", lang, q, want, got, conf)
		}
		return right, len(rows), perLang
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(b) }

	right, n, perLang := score("testdata/paraphrases.tsv")
	if perLang["de"] < 50 || perLang["en"] < 50 {
		t.Errorf("paraphrase set too small: %v (want at least 50 per language)", perLang)
	}
	t.Logf("faq top-1 accuracy: %d/%d (%s%%)", right, n, strconv.FormatFloat(pct(right, n), 'f', 1, 64))
	if pct(right, n) < 90 {
		t.Errorf("top-1 accuracy %.1f%% is below 90%%", pct(right, n))
	}
	// The held-out set was never tuned on; its floor guards against
	// regressions only.
	hr, hn, _ := score("testdata/paraphrases_heldout.tsv")
	t.Logf("faq top-1 accuracy (held out): %d/%d (%s%%)", hr, hn, strconv.FormatFloat(pct(hr, hn), 'f', 1, 64))
	if pct(hr, hn) < 60 {
		t.Errorf("held-out top-1 accuracy %.1f%% is below 60%%", pct(hr, hn))
	}

	unrelated := readTSV(t, "testdata/unrelated.tsv", 2)
	if len(unrelated) < 30 {
		t.Errorf("only %d unrelated questions, want at least 30", len(unrelated))
	}
	worst := 0.0
	for _, r := range unrelated {
		i, conf, ok := m.Match(r[1], r[0])
		worst = max(worst, conf)
		if ok {
			t.Errorf("unrelated [%s] %q matched %s with confidence %.2f (threshold %.2f)", r[0], r[1], f.FAQ[i].ID, conf, Threshold)
		}
	}
	t.Logf("unrelated questions: %d, highest confidence %.2f (threshold %.2f)", len(unrelated), worst, Threshold)
}

// BenchmarkMatch matches paraphrases against the shipped FAQ (index built
// once, as in the widget).
func BenchmarkMatch(b *testing.B) {
	_, m := loadShipped(b)
	rows := readTSV(b, "testdata/paraphrases.tsv", 3)
	m.Index("de")
	m.Index("en")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rows[i%len(rows)]
		m.Match(r[2], r[0])
	}
}

// BenchmarkIndex builds the index of one language.
func BenchmarkIndex(b *testing.B) {
	f, _ := loadShipped(b)
	entries := make([]Entry, len(f.FAQ))
	for i, e := range f.FAQ {
		entries[i] = Entry{Questions: e.Questions["de"], Keywords: e.Keywords["de"], Answer: e.Answer["de"]}
	}
	for i := 0; i < b.N; i++ {
		NewIndex(German, entries)
	}
}
