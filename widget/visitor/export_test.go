package visitor

import (
	"encoding/json"
	"html"
	"strings"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/widget/i18n"
)

// nasty holds every character class the writers must escape.
const nasty = "Quote \" backslash \\ slash / <b>&amp;</b> 'single' tab\t nl\n cr\r nul\x00 bell\x07 del\x7f" +
	" ls\u2028 ps\u2029 umlaut äöü emoji 🙂 end"

func sampleExport() *Export {
	x := &Export{At: time.Date(2025, 11, 28, 15, 30, 5, 123e6, time.UTC)}
	x.Site[0], x.Conv[0] = 1, 2
	hash := [32]byte{0xab, 0xcd}
	add := func(e Entry) { x.View.add(e) }
	add(Entry{Pos: 1, Index: -1, From: FromBot, Time: 1764340000000, Type: content.TypeBot, Text: "Hallo " + nasty})
	add(Entry{Pos: 2, Index: -1, From: FromVisitor, Time: 1764340001000, Type: content.TypeAnswer,
		Answer: content.Answer{Kind: content.InputChoice, Value: "Rückruf"}})
	add(Entry{Pos: 3, Index: -1, From: FromVisitor, Time: 1764340002000, Type: content.TypeConsent,
		Consent: content.Consent{FlowVersion: 7, TextHash: hash, Accepted: true, Time: 1764340002000}})
	add(Entry{Pos: 5, Index: -1, From: FromVisitor, Time: 1764340003000, Type: content.TypeAnswer, Corrected: true,
		Answer: content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "SENTINEL-" + nasty}})
	add(Entry{Pos: 6, Index: -1, From: FromVisitor, Time: 1764340004000, Type: content.TypeHandoff,
		Handoff: content.Handoff{Reason: content.HandoffMessage, Note: "Notiz " + nasty}})
	add(Entry{Pos: 7, Index: -1, From: FromAgent, Name: "Anna <Admin>", Time: 1764340005000, Type: content.TypeText,
		Text: "Agent " + nasty})
	add(Entry{Where: WhereSending, Index: -1, From: FromVisitor, Time: 1764340006000, Type: content.TypeText, Text: "pending"})
	add(Entry{Where: WhereBrowser, Index: 4, From: FromVisitor, Time: 0, Type: content.TypeAnswer,
		Answer: content.Answer{Variable: "count", Kind: content.InputNumber, Value: "3"}})
	add(Entry{Where: WhereBrowser, Index: 5, From: FromVisitor, Type: content.TypeText, Text: "bad \xff utf-8"})
	return x
}

type jsonAnswer struct {
	Variable  *string `json:"variable"`
	Personal  bool    `json:"personal"`
	Input     string  `json:"input"`
	Value     string  `json:"value"`
	Corrected bool    `json:"corrected"`
}

type jsonDecision struct {
	Decision    string  `json:"decision"`
	FlowVersion uint32  `json:"flow_version"`
	TextSHA256  string  `json:"text_sha256"`
	Time        *string `json:"time"`
}

type jsonExport struct {
	Format       string `json:"format"`
	Site         string `json:"site"`
	Conversation string `json:"conversation"`
	ExportedAt   string `json:"exported_at"`
	Messages     []struct {
		Pos     *uint64       `json:"pos"`
		Stored  string        `json:"stored"`
		From    string        `json:"from"`
		Name    *string       `json:"name"`
		Time    *string       `json:"time"`
		Type    string        `json:"type"`
		Text    *string       `json:"text"`
		Answer  *jsonAnswer   `json:"answer"`
		Consent *jsonDecision `json:"consent"`
		Handoff *struct {
			Reason string `json:"reason"`
			Note   string `json:"note"`
		} `json:"handoff"`
	} `json:"messages"`
	Data []struct {
		Pos    *uint64 `json:"pos"`
		Stored string  `json:"stored"`
		Time   *string `json:"time"`
		jsonAnswer
	} `json:"data"`
	Consents []struct {
		Pos    *uint64 `json:"pos"`
		Stored string  `json:"stored"`
		jsonDecision
	} `json:"consents"`
}

func TestExportJSON(t *testing.T) {
	x := sampleExport()
	out := ExportJSON(x)
	if !json.Valid([]byte(out)) {
		t.Fatalf("invalid JSON:\n%s", out)
	}
	var got jsonExport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if got.Format != "siegel-export/1" || got.Site != x.Site.String() || got.Conversation != x.Conv.String() ||
		got.ExportedAt != "2025-11-28T15:30:05.123Z" {
		t.Fatalf("header %+v", got)
	}
	if len(got.Messages) != 9 || len(got.Data) != 2 || len(got.Consents) != 1 {
		t.Fatalf("%d messages, %d data, %d consents", len(got.Messages), len(got.Data), len(got.Consents))
	}
	m := got.Messages
	if *m[0].Pos != 1 || m[0].From != "bot" || m[0].Type != "bot" || *m[0].Text != "Hallo "+nasty ||
		*m[0].Time != "2025-11-28T14:26:40.000Z" || m[0].Stored != "relay" {
		t.Fatalf("message 0 %+v", m[0])
	}
	if a := m[1].Answer; a == nil || a.Variable != nil || a.Input != "choice" || a.Value != "Rückruf" || a.Personal {
		t.Fatalf("choice %+v", a)
	}
	if c := m[2].Consent; c == nil || c.Decision != "accepted" || c.FlowVersion != 7 ||
		c.TextSHA256 != "abcd"+strings.Repeat("0", 60) || *c.Time != "2025-11-28T14:26:42.000Z" {
		t.Fatalf("consent %+v", c)
	}
	if a := m[3].Answer; a == nil || *a.Variable != "email" || !a.Personal || a.Input != "email" ||
		a.Value != "SENTINEL-"+nasty || !a.Corrected || *m[3].Pos != 5 {
		t.Fatalf("answer %+v", a)
	}
	if h := m[4].Handoff; h == nil || h.Reason != "message" || h.Note != "Notiz "+nasty {
		t.Fatalf("handoff %+v", h)
	}
	if m[5].From != "agent" || *m[5].Name != "Anna <Admin>" || *m[5].Text != "Agent "+nasty {
		t.Fatalf("agent %+v", m[5])
	}
	if m[6].Pos != nil || m[6].Stored != "sending" || m[7].Pos != nil || m[7].Stored != "browser" || m[7].Time != nil {
		t.Fatalf("local entries %+v %+v", m[6], m[7])
	}
	if *m[8].Text != "bad \uFFFD utf-8" {
		t.Fatalf("invalid UTF-8 as %q", *m[8].Text)
	}
	if m[1].Name != nil || m[0].Answer != nil || m[3].Text != nil {
		t.Fatal("fields of another type present")
	}
	d := got.Data
	if *d[0].Variable != "email" || d[0].Value != "SENTINEL-"+nasty || *d[0].Pos != 5 || !d[0].Corrected ||
		*d[1].Variable != "count" || d[1].Value != "3" || d[1].Pos != nil || d[1].Stored != "browser" {
		t.Fatalf("data %+v", d)
	}
	if c := got.Consents[0]; *c.Pos != 3 || c.Decision != "accepted" || c.FlowVersion != 7 {
		t.Fatalf("consents %+v", c)
	}
	// The separators JSON escapes must not leave the file raw.
	for _, raw := range []string{"\u2028", "\u2029", "\x00", "\x07", "\x7f", "\t"} {
		if strings.Contains(out, raw) {
			t.Fatalf("raw %q in the JSON", raw)
		}
	}
}

func TestExportJSONEmpty(t *testing.T) {
	x := &Export{At: time.UnixMilli(1)}
	out := ExportJSON(x)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"messages", "data", "consents"} {
		if a, ok := got[k].([]any); !ok || len(a) != 0 {
			t.Fatalf("%s = %#v", k, got[k])
		}
	}
}

// Every string survives the JSON writer exactly, except that each byte of
// invalid UTF-8 becomes U+FFFD (as ranging over the string reads it).
func FuzzExportJSONString(f *testing.F) {
	f.Add(nasty)
	f.Add("\xff\xfe")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %v (%s)", s, err, out)
		}
		var want strings.Builder
		for _, r := range s {
			want.WriteRune(r)
		}
		if got != want.String() {
			t.Fatalf("%q became %q", s, got)
		}
	})
}

func TestExportHTML(t *testing.T) {
	x := sampleExport()
	for _, s := range []*i18n.Strings{i18n.For(i18n.German), i18n.For(i18n.English)} {
		out := ExportHTML(x, s, nil)
		if !strings.HasPrefix(out, "<!DOCTYPE html>\n<html lang=\""+s.Lang.Tag()+"\">") {
			t.Fatalf("start %q", out[:40])
		}
		for _, bad := range []string{"<b>", "<Admin>", "'single'", "\"backslash", "\x00", "\xff"} {
			if strings.Contains(out, bad) {
				t.Fatalf("%s: unescaped %q", s.Lang.Tag(), bad)
			}
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatal("script in the export")
		}
		// The values are there, escaped, and read back as the original.
		for _, v := range []string{"SENTINEL-" + nasty, "Agent " + nasty, "Anna <Admin>", "Rückruf", s.ExportHeading,
			s.CorrectedMark, s.PersonalMark, s.WhereBrowser} {
			esc := escapeHTML(v)
			if !strings.Contains(out, esc) {
				t.Fatalf("%s: %q missing", s.Lang.Tag(), v)
			}
			if html.UnescapeString(esc) != strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD") {
				t.Fatalf("escaping of %q does not read back", v)
			}
		}
		if !strings.Contains(out, "abcd"+strings.Repeat("0", 60)) {
			t.Fatal("consent hash missing")
		}
	}
	de := ExportHTML(x, i18n.For(i18n.German), nil)
	if !strings.Contains(de, "28.11.2025 15:30") || !strings.Contains(de, "Zugestimmt") {
		t.Fatal("German dates or decisions missing")
	}
	en := ExportHTML(x, i18n.For(i18n.English), nil)
	if !strings.Contains(en, "2025-11-28 15:30") || !strings.Contains(en, "Accepted") {
		t.Fatal("English dates or decisions missing")
	}
}

func TestEscapeHTML(t *testing.T) {
	cases := map[string]string{
		"plain":        "plain",
		"<a href='x'>": "&lt;a href=&#39;x&#39;&gt;",
		`"&"`:          "&#34;&amp;&#34;",
		"a\x00b":       "a\uFFFDb",
		"\xffok":       "\uFFFDok",
	}
	for in, want := range cases {
		if got := escapeHTML(in); got != want {
			t.Errorf("escapeHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExportFileName(t *testing.T) {
	x := &Export{At: time.Date(2025, 1, 2, 23, 59, 0, 0, time.UTC)}
	x.Conv = ids.ConvID{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa}
	if got := x.FileName("json"); got != "siegel-_-7dzLuq-2025-01-02.json" {
		t.Fatalf("file name %q", got)
	}
}

func TestFormatTime(t *testing.T) {
	ms := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).UnixMilli()
	if got := FormatTime(i18n.For(i18n.German), ms, nil); got != "04.03.2025 05:06" {
		t.Fatalf("de %q", got)
	}
	if got := FormatTime(i18n.For(i18n.English), ms, nil); got != "2025-03-04 05:06" {
		t.Fatalf("en %q", got)
	}
	berlin := func(int64) int { return 3600 }
	if got := FormatTime(i18n.For(i18n.German), ms, berlin); got != "04.03.2025 06:06" {
		t.Fatalf("zone %q", got)
	}
	if FormatTime(i18n.For(i18n.German), 0, nil) != "" {
		t.Fatal("zero time shown")
	}
}

// The calendar arithmetic agrees with package time over many years.
func TestCivilMatchesTime(t *testing.T) {
	for ms := int64(0); ms < 400*365*86400*1000; ms += 86400*1000*7 + 3600*1000*5 + 61*1000 + 7 {
		c := civil(ms, nil)
		tt := time.UnixMilli(ms).UTC()
		y, mo, d := tt.Date()
		if c.y != y || c.mo != int(mo) || c.d != d || c.h != tt.Hour() || c.mi != tt.Minute() || c.s != tt.Second() ||
			c.ms != tt.Nanosecond()/1e6 {
			t.Fatalf("%d: %+v, want %s", ms, c, tt)
		}
		if got, want := isoTime(ms), tt.Format("2006-01-02T15:04:05.000Z"); ms > 0 && got != want {
			t.Fatalf("isoTime %q, want %q", got, want)
		}
	}
}
