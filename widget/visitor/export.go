package visitor

import (
	"strconv"
	"time"
	"unicode/utf8"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/widget/i18n"
)

// The export writers are written against code size (the widget is
// WebAssembly, where every call site costs): each writes its output from a
// few templates in which '\x01' stands for the next argument, escaped, and
// '\x02' (JSON only) for the next argument as it is.

// ExportFormat names the JSON export's format and version.
const ExportFormat = "siegel-export/1"

// Export is a copy of the conversation for the visitor (the right of access
// and to data portability), written in the browser by ExportJSON and
// ExportHTML.
type Export struct {
	Site ids.SiteID
	Conv ids.ConvID
	At   time.Time // when the copy was made
	View View
}

// Zone returns the offset from UTC in seconds at a point in time (Unix
// milliseconds); nil is UTC. The widget asks the browser (Date's
// getTimezoneOffset), so that the time zone database is not linked.
type Zone func(ms int64) int

// FileName returns the name of the downloaded file: "siegel-" + the first
// eight characters of the conversation ID + "-" + the date (UTC) + "." + ext.
func (x *Export) FileName(ext string) string {
	c := civil(x.At.UnixMilli(), nil)
	return "siegel-" + x.Conv.String()[:8] + "-" + c.date() + "." + ext
}

// ExportJSON writes the export as JSON (UTF-8, one object, no insignificant
// white space except a line break before each array element). Its shape:
//
//	{
//	  "format": "siegel-export/1",
//	  "site": "<site ID, base64url>",
//	  "conversation": "<conversation ID, base64url>",
//	  "exported_at": "2025-11-28T15:30:00.000Z",
//	  "messages": [ <message>, … ],   the whole conversation, in order
//	  "data": [ <data>, … ],          the answers with a variable, in order
//	  "consents": [ <consent>, … ]    the consent decisions, in order
//	}
//	<message> = {"pos": 3 | null, "stored": "relay" | "sending" | "browser",
//	  "from": "bot" | "visitor" | "agent", ["name": "<agent>",]
//	  "time": "<ISO 8601 UTC>" | null, "type": "text" | "bot" | "answer" | "consent" | "handoff",
//	  and by type one of: "text": "…" | "answer": <answer> | "consent": <decision> | "handoff": <handoff>}
//	<answer> = {"variable": "email" | null (a choice), "personal": true, "input":
//	  "choice" | "text" | "email" | "phone" | "number" | "date", "value": "…", "corrected": false}
//	<decision> = {"decision": "accepted" | "declined", "flow_version": 3,
//	  "text_sha256": "<64 hex digits>", "time": "<ISO 8601 UTC>" | null}
//	<handoff> = {"reason": "person" | "message", "note": "…"}
//	<data> = {"pos", "stored", "time"} as in <message>, plus the fields of <answer>
//	<consent> = {"pos", "stored"} as in <message>, plus the fields of <decision>
//
// "pos" is the position at the relay, null for what is kept only in this
// browser or still being sent. Times are the writer's clock. Strings are
// escaped as JSON requires (and U+2028, U+2029); invalid UTF-8 becomes U+FFFD.
func ExportJSON(x *Export) string {
	b := fillJSON(nil, "{\"format\":\x01,\"site\":\x01,\"conversation\":\x01,\"exported_at\":\x02,\"messages\":[",
		ExportFormat, x.Site.String(), x.Conv.String(), jsonTime(x.At.UnixMilli()))
	for i := range x.View.Entries {
		e := &x.View.Entries[i]
		b = fillJSON(b, sep(i)+"{\"pos\":\x02,\"stored\":\x01,\"from\":\x01", jsonPos(e), e.Where.String(), e.From.String())
		if e.From == FromAgent {
			b = fillJSON(b, ",\"name\":\x01", e.Name)
		}
		b = fillJSON(b, ",\"time\":\x02,\"type\":\x01", jsonTime(e.Time), typeName(e.Type))
		switch e.Type {
		case content.TypeAnswer:
			b = answerJSON(append(b, `,"answer":{`...), e)
			b = append(b, '}')
		case content.TypeConsent:
			b = consentJSON(append(b, `,"consent":{`...), &e.Consent)
			b = append(b, '}')
		case content.TypeHandoff:
			b = fillJSON(b, ",\"handoff\":{\"reason\":\x01,\"note\":\x01}", handoffReason(e.Handoff.Reason), e.Handoff.Note)
		default:
			b = fillJSON(b, ",\"text\":\x01", e.Text)
		}
		b = append(b, '}')
	}
	b = append(b, `],"data":[`...)
	for i := range x.View.Data {
		e := &x.View.Data[i]
		b = fillJSON(b, sep(i)+"{\"pos\":\x02,\"stored\":\x01,\"time\":\x02,", jsonPos(e), e.Where.String(), jsonTime(e.Time))
		b = append(answerJSON(b, e), '}')
	}
	b = append(b, `],"consents":[`...)
	for i := range x.View.Consents {
		e := &x.View.Consents[i]
		b = fillJSON(b, sep(i)+"{\"pos\":\x02,\"stored\":\x01,", jsonPos(e), e.Where.String())
		b = append(consentJSON(b, &e.Consent), '}')
	}
	return string(append(b, "]}\n"...))
}

func sep(i int) string {
	if i > 0 {
		return ",\n"
	}
	return "\n"
}

func answerJSON(b []byte, e *Entry) []byte {
	a := &e.Answer
	variable := "null"
	if a.Variable != "" {
		variable = string(appendJSONString(nil, a.Variable))
	}
	return fillJSON(b, "\"variable\":\x02,\"personal\":\x02,\"input\":\x01,\"value\":\x01,\"corrected\":\x02",
		variable, strconv.FormatBool(a.Personal), inputName(a.Kind), a.Value, strconv.FormatBool(e.Corrected))
}

func consentJSON(b []byte, c *content.Consent) []byte {
	d := "declined"
	if c.Accepted {
		d = "accepted"
	}
	return fillJSON(b, "\"decision\":\x01,\"flow_version\":\x02,\"text_sha256\":\x01,\"time\":\x02",
		d, strconv.FormatUint(uint64(c.FlowVersion), 10), hexString(c.TextHash[:]), jsonTime(c.Time))
}

// fillJSON appends tmpl with each '\x01' replaced by the next argument as a
// JSON string and each '\x02' by the next argument as it is.
func fillJSON(b []byte, tmpl string, args ...string) []byte {
	k := 0
	for i := 0; i < len(tmpl); i++ {
		switch c := tmpl[i]; c {
		case 1:
			b = appendJSONString(b, args[k])
			k++
		case 2:
			b = append(b, args[k]...)
			k++
		default:
			b = append(b, c)
		}
	}
	return b
}

func jsonPos(e *Entry) string {
	if e.Where == WhereRelay && e.Pos > 0 {
		return strconv.FormatUint(e.Pos, 10)
	}
	return "null"
}

// jsonTime is Unix milliseconds as a quoted ISO 8601 UTC time, null for 0.
func jsonTime(ms int64) string {
	if ms <= 0 {
		return "null"
	}
	return `"` + isoTime(ms) + `"`
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&15])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// clock is a point in time as a calendar date and a time of day.
type clock struct{ y, mo, d, h, mi, s, ms int }

// civil converts Unix milliseconds (≥ 0) in a zone (nil: UTC) into a date
// and time of day (the proleptic Gregorian calendar).
func civil(ms int64, zone Zone) clock {
	if zone != nil {
		ms += int64(zone(ms)) * 1000
	}
	if ms < 0 {
		ms = 0
	}
	c := clock{ms: int(ms % 1000)}
	secs := ms / 1000
	days, rem := secs/86400, int(secs%86400)
	c.h, c.mi, c.s = rem/3600, rem%3600/60, rem%60
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	c.d = int(doy - (153*mp+2)/5 + 1)
	c.mo = int(mp + 3)
	if c.mo > 12 {
		c.mo -= 12
	}
	c.y = int(yoe + era*400)
	if c.mo <= 2 {
		c.y++
	}
	return c
}

func (c clock) date() string { return pad(c.y, 4) + "-" + pad(c.mo, 2) + "-" + pad(c.d, 2) }

func (c clock) hhmm() string { return pad(c.h, 2) + ":" + pad(c.mi, 2) }

// isoTime formats Unix milliseconds as "2006-01-02T15:04:05.000Z".
func isoTime(ms int64) string {
	c := civil(ms, nil)
	return c.date() + "T" + c.hhmm() + ":" + pad(c.s, 2) + "." + pad(c.ms, 3) + "Z"
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func hexString(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

var (
	typeNames  = [...]string{content.TypeText: "text", content.TypeBot: "bot", content.TypeAnswer: "answer", content.TypeConsent: "consent", content.TypeHandoff: "handoff"}
	inputNames = [...]string{content.InputChoice: "choice", content.InputText: "text", content.InputEmail: "email", content.InputPhone: "phone", content.InputNumber: "number", content.InputDate: "date"}
)

func typeName(t content.Type) string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "text"
}

func inputName(k content.InputKind) string {
	if int(k) < len(inputNames) {
		return inputNames[k]
	}
	return "text"
}

func handoffReason(r uint8) string {
	if r == content.HandoffMessage {
		return "message"
	}
	return "person"
}

// Line is an entry of the conversation as a line of text: who wrote it, the
// field it fills (answers with a variable), and what it says.
type Line struct {
	Who, Field, Text string
}

// LineOf returns how an entry is shown to the visitor (the "My data" menu and
// the HTML export).
func LineOf(s *i18n.Strings, e *Entry) Line {
	l := Line{Who: s.VisitorName, Text: e.Text}
	switch {
	case e.From == FromBot:
		l.Who = s.BotName
	case e.From == FromAgent:
		l.Who = e.Name
		if l.Who == "" {
			l.Who = s.AgentFallback
		}
	case e.Type == content.TypeAnswer:
		l.Field, l.Text = e.Answer.Variable, e.Answer.Value
	case e.Type == content.TypeConsent:
		l.Text = decision(s, e.Consent.Accepted)
	case e.Type == content.TypeHandoff:
		l.Text = s.HandoffPerson
		if e.Handoff.Reason == content.HandoffMessage {
			l.Text = s.HandoffMessage
		}
		if e.Handoff.Note != "" {
			l.Text += " " + e.Handoff.Note
		}
	}
	return l
}

func decision(s *i18n.Strings, accepted bool) string {
	if accepted {
		return s.ConsentAccepted
	}
	return s.ConsentDeclined
}

// FormatTime shows Unix milliseconds in a zone (nil: UTC): "28.11.2025 15:30"
// (German) or "2025-11-28 15:30" (English); "" for 0.
func FormatTime(s *i18n.Strings, ms int64, zone Zone) string {
	if ms <= 0 {
		return ""
	}
	c := civil(ms, zone)
	if s.Lang == i18n.English {
		return c.date() + " " + c.hhmm()
	}
	return pad(c.d, 2) + "." + pad(c.mo, 2) + "." + pad(c.y, 4) + " " + c.hhmm()
}

// Marks returns an entry's markers in words, comma-separated: personal,
// corrected, kept only in this browser or being sent ("" none).
func Marks(s *i18n.Strings, e *Entry) string {
	m := ""
	add := func(w string) {
		if m != "" {
			m += ", "
		}
		m += w
	}
	if e.Type == content.TypeAnswer && e.Answer.Personal {
		add(s.PersonalMark)
	}
	if e.Corrected {
		add(s.CorrectedMark)
	}
	switch e.Where {
	case WhereBrowser:
		add(s.WhereBrowser)
	case WhereSending:
		add(s.WhereSending)
	}
	return m
}

const htmlHead = "<!DOCTYPE html>\n<html lang=\"\x01\">\n<head>\n<meta charset=\"utf-8\">\n" +
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n" +
	"<title>\x01</title>\n<style>body{font:15px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}" +
	"table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}" +
	"ol{padding-left:1.5rem}li{margin:.4rem 0}.meta{color:#555;font-size:.9em}.mark{font-size:.85em;color:#555}" +
	"code{word-break:break-all}</style>\n</head>\n<body>\n<h1>\x01</h1>\n<p>\x01</p>\n<dl>\n" +
	"<dt>\x01</dt><dd><code>\x01</code></dd>\n<dt>\x01</dt><dd><code>\x01</code></dd>\n<dt>\x01</dt><dd>\x01</dd>\n</dl>\n"

// ExportHTML writes the export as a self-contained HTML page for reading
// (every text escaped; no scripts, no external resources). Times are shown
// in zone (nil: UTC).
func ExportHTML(x *Export, s *i18n.Strings, zone Zone) string {
	v := &x.View
	b := fillHTML(nil, htmlHead, s.Lang.Tag(), s.ExportHeading, s.ExportHeading, s.ExportNote,
		s.ExportSite, x.Site.String(), s.ExportConv, x.Conv.String(), s.ExportedAt, FormatTime(s, x.At.UnixMilli(), zone))

	b = section(b, s.ViewTitle, s.ViewEmpty, len(v.Entries), "<ol>\n")
	for i := range v.Entries {
		e := &v.Entries[i]
		l := LineOf(s, e)
		meta := l.Who
		if t := FormatTime(s, e.Time, zone); t != "" {
			meta += " · " + t
		}
		text := l.Text
		if l.Field != "" {
			text = l.Field + ": " + text
		}
		b = fillHTML(b, "<li><span class=\"meta\">\x01</span><br>\x01", meta, text)
		b = append(marksHTML(b, s, e), "</li>\n"...)
	}
	b = closeSection(b, len(v.Entries), "</ol>\n")

	b = section(b, s.DataTitle, s.DataEmpty, len(v.Data), "")
	if len(v.Data) > 0 {
		b = fillHTML(b, "<table>\n<tr><th>\x01</th><th>\x01</th><th>\x01</th></tr>\n", s.ExportField, s.ExportValue, s.ExportTime)
	}
	for i := range v.Data {
		e := &v.Data[i]
		b = fillHTML(b, "<tr><td>\x01</td><td>\x01", e.Answer.Variable, e.Answer.Value)
		b = fillHTML(marksHTML(b, s, e), "</td><td>\x01</td></tr>\n", FormatTime(s, e.Time, zone))
	}
	b = closeSection(b, len(v.Data), "</table>\n")

	b = section(b, s.ConsentsTitle, s.ConsentsEmpty, len(v.Consents), "")
	if len(v.Consents) > 0 {
		b = fillHTML(b, "<table>\n<tr><th>\x01</th><th>\x01</th><th>\x01</th><th>\x01</th></tr>\n",
			s.ExportDecision, s.ExportTime, s.ExportFlow, s.ExportTextHash)
	}
	for i := range v.Consents {
		c := &v.Consents[i].Consent
		b = fillHTML(b, "<tr><td>\x01</td><td>\x01</td><td>\x01</td><td><code>\x01</code></td></tr>\n",
			decision(s, c.Accepted), FormatTime(s, c.Time, zone), strconv.FormatUint(uint64(c.FlowVersion), 10),
			hexString(c.TextHash[:]))
	}
	b = closeSection(b, len(v.Consents), "</table>\n")
	return string(append(b, "</body>\n</html>\n"...))
}

// section starts a section: its heading, then the text for none, or open.
func section(b []byte, title, empty string, n int, open string) []byte {
	if n == 0 {
		return fillHTML(b, "<h2>\x01</h2>\n<p>\x01</p>\n", title, empty)
	}
	return append(fillHTML(b, "<h2>\x01</h2>\n", title), open...)
}

func closeSection(b []byte, n int, close string) []byte {
	if n == 0 {
		return b
	}
	return append(b, close...)
}

func marksHTML(b []byte, s *i18n.Strings, e *Entry) []byte {
	if m := Marks(s, e); m != "" {
		b = fillHTML(b, " <span class=\"mark\">(\x01)</span>", m)
	}
	return b
}

// fillHTML appends tmpl with each '\x01' replaced by the next argument,
// escaped for HTML text and quoted attribute values.
func fillHTML(b []byte, tmpl string, args ...string) []byte {
	k := 0
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == 1 {
			b = append(b, escapeHTML(args[k])...)
			k++
			continue
		}
		b = append(b, tmpl[i])
	}
	return b
}

// escapeHTML escapes text for HTML element content and quoted attribute
// values; invalid UTF-8 and NUL become U+FFFD.
func escapeHTML(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		c := s[i]
		var rep string
		n := 1
		switch c {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		case '\'':
			rep = "&#39;"
		case 0:
			rep = "\uFFFD"
		default:
			if c >= utf8.RuneSelf {
				r, w := utf8.DecodeRuneInString(s[i:])
				n = w
				if r == utf8.RuneError && w == 1 {
					rep = "\uFFFD"
				}
			}
		}
		if rep == "" {
			if b != nil {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, rep...)
		i += n
	}
	if b == nil {
		return s
	}
	return string(b)
}
