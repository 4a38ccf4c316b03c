//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"siegel/relay/store"
	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// TestMyDataView: after sharing data on the consent-accept path the visitor
// reloads the page and opens "Meine Daten" (with the keyboard): the view
// lists the conversation, each answer with a variable (the personal ones
// marked) as a data item and the consent decision, all from the relay's copy
// decrypted in the browser; the privacy-policy link is there. None of the
// data is in plaintext in frames, files or the log.
func TestMyDataView(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, f, r := b.w, b.f, b.r
	d := b.shareData(t, newSentinel("Erika"), newSentinel("Sentinel")+"@example.org", newPhoneSentinel())
	delivered := len(framesOf[*protocol.Deliver](t, b.vrec, false))

	b.reopenWidget(t)
	w = b.w
	w.waitMessage("visitor", d.phone)

	// Keyboard: focus the menu button and press Enter.
	var focused bool
	if err := w.frame.eval(`(() => { const b = document.querySelector(`+jsString(selMyData)+`); if (!b) return false;
		b.focus(); return document.activeElement === b; })()`, &focused); err != nil || !focused {
		t.Fatalf("the My data button cannot take the keyboard focus (%v, %v): %s", focused, err, w.describeRights())
	}
	do(t, b.vctx, "press Enter on the My data button", chromedp.KeyEvent("\r"))
	w.waitVisible(selMyDataPanel, "the My data panel after Enter")
	type a11y struct {
		Role, Modal, Expanded, Labelled string
		FocusInside                     bool
	}
	var acc a11y
	if err := w.frame.eval(`(() => { const p = document.querySelector(`+jsString(selMyDataPanel)+`), b = document.querySelector(`+jsString(selMyData)+`);
		return {Role: p.getAttribute("role") || "", Modal: p.getAttribute("aria-modal") || "", Expanded: b.getAttribute("aria-expanded") || "",
			Labelled: p.getAttribute("aria-labelledby") || p.getAttribute("aria-label") || "", FocusInside: p.contains(document.activeElement)}; })()`, &acc); err != nil {
		t.Fatal(err)
	}
	if acc.Role != "dialog" || acc.Expanded != "true" || acc.Labelled == "" || !acc.FocusInside {
		t.Errorf("the My data panel: role %q, aria-modal %q, the button's aria-expanded %q, label %q, focus inside %v; want a labelled dialog that takes the focus",
			acc.Role, acc.Modal, acc.Expanded, acc.Labelled, acc.FocusInside)
	}

	v := w.showView(d.name, d.email, d.phone, d.repair)
	t.Logf("view: %v", v)
	wantData := []struct{ variable, value, personal string }{
		{"repair", d.repair, ""}, {"day", d.day, ""},
		{"name", d.name, "true"}, {"email", d.email, "true"}, {"phone", d.phone, "true"},
	}
	if len(v.Data) != len(wantData) {
		t.Errorf("the view lists %d data items, want %d (the answers with a variable): %v", len(v.Data), len(wantData), v.Data)
	}
	for i, want := range wantData {
		if i >= len(v.Data) {
			break
		}
		it := v.Data[i]
		if it.Attrs["data-variable"] != want.variable || !strings.Contains(it.Text, want.value) || it.Attrs["data-personal"] != want.personal {
			t.Errorf("data item %d is %v (variable %q, personal %q), want %s = %q personal %q",
				i, it, it.Attrs["data-variable"], it.Attrs["data-personal"], want.variable, want.value, want.personal)
		}
		// From the relay's copy (the bot's transcript went there), not from the browser's own.
		if it.Attrs["data-stored"] != "relay" || it.Attrs["data-pos"] == "" {
			t.Errorf("data item %s is stored %q at position %q, want the relay's copy", want.variable, it.Attrs["data-stored"], it.Attrs["data-pos"])
		}
	}
	if len(v.Consents) != 1 || v.Consents[0].Attrs["data-decision"] != "accepted" ||
		v.Consents[0].Attrs["data-flow-version"] != strconv.FormatUint(uint64(r.flowRev), 10) {
		t.Errorf("the view lists the consent decisions %v %+v, want one, accepted, flow version %d", v.Consents, v.Consents, r.flowRev)
	}
	// The whole conversation: the bot's questions and the visitor's answers.
	for _, s := range []string{say(t, f, "greeting"), say(t, f, "consent"), say(t, f, "email"), d.repair, d.email, say(t, f, "thanks")} {
		if !strings.Contains(v.Text, s) {
			t.Errorf("the view of the conversation lacks %q", s)
		}
	}
	// Decrypted in the browser from what the relay sent again after the reload.
	if n := len(framesOf[*protocol.Deliver](t, b.vrec, false)); n <= delivered {
		t.Errorf("after the reload the relay delivered no envelopes (%d before, %d after): the view cannot be the relay's copy", delivered, n)
	}

	// The privacy-policy link.
	type link struct{ Href, Target, Rel, Text string }
	l, err := func() (link, error) {
		var l link
		err := w.frame.eval(`(() => { const a = document.querySelector(`+jsString(selMyDataPrivacy)+`);
			return a ? {Href: a.href, Target: a.target, Rel: a.rel, Text: (a.textContent || "").trim()} : {}; })()`, &l)
		return l, err
	}()
	if err != nil || l.Href != r.demoOrigin()+"/datenschutz" || l.Target != "_blank" || !strings.Contains(l.Rel, "noopener") || l.Text == "" {
		t.Errorf("the My data privacy link is %+v (%v), want %s in a new tab with noopener and a text", l, err, r.demoOrigin()+"/datenschutz")
	}

	// Escape closes the panel and gives the focus back to the button.
	do(t, b.vctx, "press Escape", chromedp.KeyEvent(string(rune(27))))
	eventually(t, "Escape closes the My data panel", func() (bool, string) {
		var st struct{ Open, Back bool }
		if err := w.frame.eval(`(() => { const p = document.querySelector(`+jsString(selMyDataPanel)+`);
			return {Open: !!p && p.getClientRects().length > 0, Back: document.activeElement === document.querySelector(`+jsString(selMyData)+`)}; })()`, &st); err != nil {
			return false, err.Error()
		}
		return !st.Open && st.Back, fmt.Sprintf("panel open %v, focus on the button %v", st.Open, st.Back)
	})

	r.stop()
	checkNoSentinels(t, r, d.conv, append(d.sentinels(), d.repair), b.vrec)
	checkLog(t, r)
}

// correct corrects the data item of variable to value in the open view:
// Correct, then the value typed into the field and saved.
func (w *widget) correct(variable, value string) {
	w.t.Helper()
	item := selDataItem + `[data-variable="` + variable + `"]`
	w.click(item+" "+selCorrect, "click Correct on the "+variable+" item")
	w.fillCorrection(variable, value)
}

// fillCorrection replaces the text in the open correction field of variable
// by value, as typed, and saves.
func (w *widget) fillCorrection(variable, value string) {
	w.t.Helper()
	item := selDataItem + `[data-variable="` + variable + `"]`
	field := item + ` input[data-testid="siegel-correct-input"]`
	w.waitVisible(field, "the correction field")
	var got string
	if err := w.frame.eval(`(() => { const f = document.querySelector(`+jsString(field)+`); f.focus(); f.select(); return f.value; })()`, &got); err != nil {
		w.t.Fatal(err)
	}
	do(w.t, w.ctx, "clear the correction field", chromedp.KeyEvent(string(rune(8)))) // Backspace over the selection
	do(w.t, w.ctx, "type the corrected value",
		chromedp.SendKeys(chromedp.CSS(field), value, chromedp.FromNode(w.node), chromedp.NodeVisible))
	var now string
	if err := w.frame.eval(`document.querySelector(`+jsString(field)+`).value`, &now); err != nil || now != value {
		w.t.Fatalf("the correction field holds %q (was %q), want %q (%v)", now, got, value, err)
	}
	w.click(item+` [data-testid="siegel-correct-save"]`, "save the correction")
}

// TestMyDataCorrect: the visitor corrects the email answer. The widget's view
// and the agent page (open at the time, and after a reload) show only the new
// value, marked as corrected; after the compaction the old value's envelope
// is in no file of the relay, and neither value is anywhere in plaintext.
func TestMyDataCorrect(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, r := b.w, b.r
	d := b.shareData(t, newSentinel("Erika"), newSentinel("Alt")+"@example.org", newPhoneSentinel())
	newEmail := newSentinel("Neu") + "@example.org"
	agent := demoAgentIdentity(t, r)
	envs := sentOpened(t, b.vrec, r.site, d.conv, agent)
	orig := findAnswer(t, envs, content.TypeAnswer, "email", d.email)
	name := findAnswer(t, envs, content.TypeAnswer, "name", d.name)
	requireInDB(t, r, "the email and name answers", orig.raw, name.raw)

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, d.conv)
	email := func(v string) itemWant {
		return itemWant{TID: "agent-msg", From: "visitor", Personal: "true", Variable: "email", Text: v}
	}
	waitAgentTranscript(t, b.actx, []itemWant{email(d.email)})

	v := w.showView(d.name, d.email, d.phone)
	before, _ := v.dataWith(d.email)
	// An invalid value is refused in the browser, with a message; nothing is sent.
	w.correct("email", "keine-adresse")
	eventually(t, "the invalid correction is refused with a message", func() (bool, string) {
		var st struct{ Error, Invalid string }
		err := w.frame.eval(`(() => { const e = document.querySelector('[data-testid="siegel-correct-error"]'),
			f = document.querySelector('[data-testid="siegel-correct-input"]');
			return {Error: e ? (e.textContent || "").trim() : "", Invalid: f ? (f.getAttribute("aria-invalid") || "") : ""}; })()`, &st)
		if err != nil {
			return false, err.Error()
		}
		return st.Error != "" && st.Invalid == "true", fmt.Sprintf("error %q, aria-invalid %q; %s", st.Error, st.Invalid, w.describeRights())
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(framesOf[*protocol.Request](t, b.vrec, true)); n != 0 {
		t.Fatalf("an invalid correction sent %d requests", n)
	}
	compactions := len(relayLogLines(r, "msg=compacted"))
	w.fillCorrection("email", newEmail)
	start := time.Now()

	// The widget: only the new value, marked corrected, at the relay.
	eventually(t, "the view shows the corrected email", func() (bool, string) {
		v, err := w.readView()
		if err != nil {
			return false, err.Error()
		}
		it, ok := v.dataWith(newEmail)
		_, old := v.dataWith(d.email)
		return ok && !old && it.Attrs["data-corrected"] == "true" && it.Attrs["data-stored"] == "relay" &&
			!strings.Contains(v.Text, d.email), v.String()
	})
	v, _ = w.readView()
	after, _ := v.dataWith(newEmail)
	t.Logf("email item before %v %v; after %v %v", before, before.Attrs, after, after.Attrs)
	if len(v.Data) != 5 {
		t.Errorf("after the correction the view lists %d data items, want 5: %v", len(v.Data), v.Data)
	}

	// The signed request and the relay's answers.
	if reqs := framesOf[*protocol.Request](t, b.vrec, true); len(reqs) != 1 || reqs[0].Op != protocol.OpCorrect || reqs[0].Conv != d.conv {
		t.Errorf("the visitor's browser sent %d requests, want one correct request for its conversation: %+v", len(reqs), reqs)
	}
	eventually(t, "the relay confirms the correction (Done) and tells the agent (Replaced)", func() (bool, string) {
		done := slices.ContainsFunc(framesOf[*protocol.Done](t, b.vrec, false), func(x *protocol.Done) bool {
			return x.Op == protocol.OpCorrect && x.Conv == d.conv
		})
		repl := slices.ContainsFunc(framesOf[*protocol.Replaced](t, b.arec, false), func(x *protocol.Replaced) bool { return x.Conv == d.conv })
		return done && repl, fmt.Sprintf("Done to the visitor %v, Replaced to the agent %v", done, repl)
	})

	// The agent page, live: only the corrected value, with the marker.
	checkAgentCorrected := func(when string) {
		t.Helper()
		eventually(t, when+": the agent page shows only the corrected email, marked", func() (bool, string) {
			items, err := agentCorrectedItems(b.actx)
			if err != nil {
				return false, err.Error()
			}
			var emails []agentCorrectedItem
			for _, it := range items {
				if it.Variable == "email" {
					emails = append(emails, it)
				}
			}
			page := agentPageText(t, b.actx)
			ok := len(emails) == 1 && strings.Contains(emails[0].Text, newEmail) && emails[0].Marked && !strings.Contains(page, d.email)
			return ok, fmt.Sprintf("email items %+v; old value on the page %v", emails, strings.Contains(page, d.email))
		})
	}
	checkAgentCorrected("live")
	// The other answers stay. (The corrected answer is shown at the
	// correction's position, after the rest of the transcript.)
	waitAgentTranscript(t, b.actx, []itemWant{
		{TID: "agent-msg", From: "visitor", Variable: "name", Text: d.name},
		{TID: "agent-msg", From: "visitor", Variable: "phone", Text: d.phone},
	})

	took := waitCompaction(t, r, compactions, start)
	checkCompactionTime(t, took)

	// After a reload the agent page reads the conversation afresh.
	relockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, d.conv)
	checkAgentCorrected("after a reload")

	envs = sentOpened(t, b.vrec, r.site, d.conv, agent)
	corr := findAnswer(t, envs, content.TypeCorrection, "email", newEmail)
	if c, err := content.DecodeCorrection(corr.msg.Content); err != nil || c.Answer.Personal != true || c.Answer.Kind != content.InputEmail {
		t.Errorf("the correction envelope holds %+v (%v), want a personal email answer", c, err)
	}

	r.stop()
	checkNoCompactLeftover(t, r)
	// The original answer's envelope is gone from every file, to the last
	// 32 bytes; the rest of the conversation and the correction are there.
	for _, f := range dataFilesWith(t, r.dataDir, slices32(t, orig.raw)) {
		t.Errorf("ERASED BYTES REMAIN: the replaced email envelope (%d bytes) is still in %s", len(orig.raw), f)
	}
	db := dirFiles(t, r.dataDir)[filepath.Join(r.dataDir, "siegel.db")]
	for what, e := range map[string][]byte{"name answer": name.raw, "correction": corr.raw} {
		if !bytes.Contains(db, e) {
			t.Errorf("positive control: the %s envelope is not in the database file after the compaction", what)
		}
	}
	// Neither value in any form in frames, files or the log.
	leaks := searchFrames(t, []string{d.email, newEmail, d.name}, b.vrec, b.arec)
	relayLeaks, _ := searchRelay(t, r, []string{d.email, newEmail, d.name})
	reportLeaks(t, append(leaks, relayLeaks...))

	st := relayStore(t, r)
	n := 0
	err := st.Envelopes(r.site, d.conv, 0, func(pos uint64, stored int64, raw []byte) error {
		n++
		if bytes.Equal(raw, orig.raw) {
			t.Errorf("the store still returns the replaced envelope at position %d", pos)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("the store returns %d envelopes of the conversation (err %v)", n, err)
	}
	checkLog(t, r)
}

// agentCorrectedItem is a transcript line of the agent page with whether it
// carries the "corrected" marker.
type agentCorrectedItem struct {
	Variable, Text string
	Marked         bool
}

func agentCorrectedItems(ctx context.Context) ([]agentCorrectedItem, error) {
	return evalJS[[]agentCorrectedItem](ctx, `Array.from(document.querySelectorAll(`+jsString(selAgentItem)+`)).map(e => {
		const m = e.querySelector(`+jsString(selAgentCorrected)+`);
		return {Variable: e.getAttribute("data-variable") || "", Text: e.textContent || "",
			Marked: !!m && m.getClientRects().length > 0 && (m.textContent || "").trim() !== "" && e.getAttribute("data-corrected") === "true"}; })`)
}

// TestMyDataExport: the visitor exports the conversation as JSON and as HTML
// (downloads made in the browser). The JSON parses and holds the data, the
// consent decision and the messages; the HTML shows the values as text,
// markup in them escaped.
func TestMyDataExport(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, f, r := b.w, b.f, b.r
	// Markup in the name: the HTML export must show it as text.
	name := `Erika <b>fett</b> & "Q" ` + newSentinel("S")
	d := b.shareData(t, name, newSentinel("Sentinel")+"@example.org", newPhoneSentinel())
	dir := allowDownloads(t, b.vctx)
	w.showView(d.name, d.email, d.phone)
	reqsBefore, _, _ := b.vrec.snapshot()

	// JSON.
	w.click(selExportJSON, "export as JSON")
	jname, jb := waitDownload(t, dir, ".json", map[string]bool{})
	t.Logf("downloaded %s (%d bytes)", jname, len(jb))
	if want := "siegel-" + d.conv.String()[:8] + "-"; !strings.HasPrefix(jname, want) {
		t.Errorf("the JSON file is called %q, want it to start with %q", jname, want)
	}
	type answer struct {
		Variable  *string `json:"variable"`
		Personal  bool    `json:"personal"`
		Input     string  `json:"input"`
		Value     string  `json:"value"`
		Corrected bool    `json:"corrected"`
	}
	type decision struct {
		Decision    string `json:"decision"`
		FlowVersion uint32 `json:"flow_version"`
		TextSHA256  string `json:"text_sha256"`
	}
	type message struct {
		Pos     *uint64   `json:"pos"`
		Stored  string    `json:"stored"`
		From    string    `json:"from"`
		Type    string    `json:"type"`
		Text    string    `json:"text"`
		Answer  *answer   `json:"answer"`
		Consent *decision `json:"consent"`
	}
	var x struct {
		Format       string    `json:"format"`
		Site         string    `json:"site"`
		Conversation string    `json:"conversation"`
		ExportedAt   time.Time `json:"exported_at"`
		Messages     []message `json:"messages"`
		Data         []struct {
			Pos    *uint64 `json:"pos"`
			Stored string  `json:"stored"`
			answer
		} `json:"data"`
		Consents []struct {
			Pos    *uint64 `json:"pos"`
			Stored string  `json:"stored"`
			decision
		} `json:"consents"`
	}
	if err := json.Unmarshal(jb, &x); err != nil {
		t.Fatalf("the JSON export does not parse: %v\n%s", err, tail(jb, 2000))
	}
	if x.Format != "siegel-export/1" || x.Site != r.site.String() || x.Conversation != d.conv.String() ||
		time.Since(x.ExportedAt) > time.Hour || time.Since(x.ExportedAt) < -time.Hour {
		t.Errorf("the JSON export names format %q, site %q, conversation %q, exported at %v; want siegel-export/1, %s, %s, now",
			x.Format, x.Site, x.Conversation, x.ExportedAt, r.site, d.conv)
	}
	want := []struct{ variable, value string }{{"repair", d.repair}, {"day", d.day}, {"name", d.name}, {"email", d.email}, {"phone", d.phone}}
	if len(x.Data) != len(want) {
		t.Errorf("the JSON export holds %d data entries, want %d", len(x.Data), len(want))
	}
	for i := range min(len(x.Data), len(want)) {
		e := x.Data[i]
		if e.Variable == nil || *e.Variable != want[i].variable || e.Value != want[i].value || e.Stored != "relay" || e.Pos == nil {
			t.Errorf("JSON data entry %d is %+v, want %s = %q stored at the relay", i, e, want[i].variable, want[i].value)
		}
		if personal := i >= 2; e.Personal != personal {
			t.Errorf("JSON data entry %s has personal %v, want %v", want[i].variable, e.Personal, personal)
		}
	}
	hash := textHash(say(t, f, "consent"))
	if len(x.Consents) != 1 || x.Consents[0].Decision != "accepted" || x.Consents[0].FlowVersion != r.flowRev || x.Consents[0].TextSHA256 != hash {
		t.Errorf("the JSON export holds the consent decisions %+v, want one accepted, flow version %d, text hash %s", x.Consents, r.flowRev, hash)
	}
	var got []string
	for _, m := range x.Messages {
		switch {
		case m.Type == "bot" || m.Type == "text":
			got = append(got, m.From+": "+m.Text)
		case m.Type == "answer" && m.Answer != nil:
			got = append(got, m.From+": "+m.Answer.Value)
		case m.Type == "consent" && m.Consent != nil:
			got = append(got, m.From+": consent "+m.Consent.Decision)
		default:
			got = append(got, m.From+": "+m.Type)
		}
	}
	wantMsgs := []string{"bot: " + say(t, f, "greeting"), "visitor: Termin oder Rückruf", "visitor: " + d.repair,
		"visitor: consent accepted", "bot: " + say(t, f, "name"), "visitor: " + d.name, "visitor: " + d.email,
		"visitor: " + d.phone, "visitor: handoff"}
	if i := subsequence(got, wantMsgs); i >= 0 {
		t.Errorf("the JSON export's messages lack (in order) %q; they are:\n%s", wantMsgs[i], strings.Join(got, "\n"))
	}

	// HTML.
	w.click(selExportHTML, "export as HTML")
	hname, hb := waitDownload(t, dir, ".html", map[string]bool{jname: true})
	t.Logf("downloaded %s (%d bytes)", hname, len(hb))
	h := string(hb)
	if strings.Contains(h, "<b>fett</b>") || !strings.Contains(h, "&lt;b&gt;fett&lt;/b&gt;") {
		t.Errorf("the HTML export does not escape the markup in the name (raw %v, escaped %v)",
			strings.Contains(h, "<b>fett</b>"), strings.Contains(h, "&lt;b&gt;fett&lt;/b&gt;"))
	}
	if strings.Contains(strings.ToLower(h), "<script") {
		t.Error("the HTML export contains a script element")
	}
	// Read as a browser reads it: the values are text, no element came from them.
	vctx2, _ := newUser(t, b.browser, "export reader")
	do(t, vctx2, "open the HTML export", chromedp.Navigate("file://"+filepath.Join(dir, hname)))
	type page struct {
		Text  string
		Bolds int
	}
	p, err := evalJS[page](vctx2, `({Text: document.body.innerText, Bolds: document.querySelectorAll("b").length})`)
	if err != nil {
		t.Fatalf("read the HTML export in the browser: %v", err)
	}
	if p.Bolds != 0 {
		t.Errorf("the HTML export, opened in a browser, has %d <b> elements: the name's markup was not escaped", p.Bolds)
	}
	for _, s := range []string{d.name, d.email, d.phone, d.repair, say(t, f, "greeting")} {
		if !strings.Contains(p.Text, s) {
			t.Errorf("the HTML export, opened in a browser, does not show %q", s)
		}
	}
	if !strings.Contains(h, html.EscapeString(d.email)) {
		t.Errorf("the HTML export lacks the email")
	}

	// The export is made in the browser: no request went out for it.
	reqsAfter, _, _ := b.vrec.snapshot()
	for _, u := range reqsAfter[len(reqsBefore):] {
		if !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("exporting made a request to %s", u)
		}
	}

	r.stop()
	leaks := searchFrames(t, d.sentinels(), b.vrec)
	relayLeaks, _ := searchRelay(t, r, d.sentinels())
	reportLeaks(t, append(leaks, relayLeaks...))
	checkLog(t, r)
}

// subsequence returns the index of the first of want that got does not hold
// in order, or -1.
func subsequence(got, want []string) int {
	j := 0
	for k, w := range want {
		for j < len(got) && got[j] != w {
			j++
		}
		if j == len(got) {
			return k
		}
		j++
	}
	return -1
}

// erasure is what a deletion test checks after the conversation is erased.
type erasure struct {
	conv      ids.ConvID
	visitor   ids.Key  // the conversation's visitor key
	envelopes [][]byte // every envelope stored for it
	sentinels []string
	reason    store.EraseReason
}

// visitorKey returns the signing key the visitor's browser said hello with.
func visitorKey(t *testing.T, rec *recorder) ids.Key {
	t.Helper()
	for _, h := range framesOf[*protocol.Hello](t, rec, true) {
		if h.Role == protocol.RoleVisitor {
			return h.SignKey
		}
	}
	t.Fatalf("%s sent no visitor Hello", rec.name)
	return ids.Key{}
}

// checkGone (relay stopped): nothing of the erased conversation is in any
// file of the data folder — no envelope (to the last 32 bytes), no sentinel
// in any form, not its ID or visitor key in clear — and the store has a
// tombstone and an audit entry for it.
func checkGone(t *testing.T, r *relayProc, e erasure) {
	t.Helper()
	checkNoCompactLeftover(t, r)
	if len(e.envelopes) == 0 {
		t.Fatal("no envelopes captured: the search would be blind")
	}
	var pieces [][]byte
	for _, env := range e.envelopes {
		pieces = append(pieces, slices32(t, env)...)
	}
	for _, f := range dataFilesWith(t, r.dataDir, pieces) {
		t.Errorf("ERASED BYTES REMAIN: a piece of an erased envelope is in %s", f)
	}
	t.Logf("searched %d pieces of %d erased envelopes in the data folder", len(pieces), len(e.envelopes))
	leaks, _ := searchRelay(t, r, e.sentinels)
	reportLeaks(t, leaks)
	for path, b := range dirFiles(t, r.dataDir) {
		if i := bytes.Index(b, e.visitor[:]); i >= 0 {
			t.Errorf("the erased conversation's visitor key is in %s at byte %d", path, i)
		}
	}
	checkErased(t, r, e.conv, e.reason)
}

// checkHelloGone: a Hello with the erased conversation's keys is answered
// with "gone" (the tombstone), and does not bring the conversation back.
func checkHelloGone(t *testing.T, r *relayProc, id *envelope.Identity) {
	t.Helper()
	c := connect(t, r)
	c.write(1, signedHello(c.challenge, protocol.RoleVisitor, id, r.site, 0))
	c.expectError(1, protocol.CodeGone, "hello with the keys of an erased conversation")
}

// TestMyDataDelete: the visitor deletes the conversation (with a
// confirmation) while the agent page shows it: the agent page drops it at
// once and, after a reload, does not list it; the widget says it is done and
// forgets the keys; a reload shows a fresh chat; after the compaction no
// byte of the conversation is in the relay's files.
func TestMyDataDelete(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, r := b.w, b.r
	d := b.shareData(t, newSentinel("Erika"), newSentinel("Sentinel")+"@example.org", newPhoneSentinel())
	e := erasure{conv: d.conv, visitor: visitorKey(t, b.vrec), envelopes: sentEnvelopes(t, b.vrec, d.conv),
		sentinels: append(d.sentinels(), d.repair), reason: store.EraseVisitor}
	requireInDB(t, r, "the visitor's envelopes", e.envelopes...)
	oldSeed, ok := w.storedSeed(r.site)
	if !ok {
		t.Fatal("the widget stored no record for the shared conversation")
	}

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, d.conv)
	waitAgentTranscript(t, b.actx, []itemWant{{TID: "agent-msg", From: "visitor", Variable: "email", Text: d.email}})

	w.openMyData()
	w.click(selDelete, "Delete everything")
	w.waitVisible(selDeleteConfirm, "the confirmation")
	time.Sleep(300 * time.Millisecond)
	if n := len(framesOf[*protocol.Request](t, b.vrec, true)); n != 0 {
		t.Fatalf("the widget sent %d requests before the deletion was confirmed", n)
	}
	compactions := len(relayLogLines(r, "msg=compacted"))
	w.click(selDeleteConfirm, "confirm the deletion")
	start := time.Now()

	w.waitVisible(selDeleted, "the deleted message")
	t.Logf("the widget says: %q", w.text(selDeleted))
	if w.text(selDeleted) == "" {
		t.Error("the deleted message is empty")
	}
	reqs := framesOf[*protocol.Request](t, b.vrec, true)
	if len(reqs) != 1 || reqs[0].Op != protocol.OpErase || reqs[0].Conv != d.conv || len(reqs[0].Body) != 0 {
		t.Errorf("the widget sent %d requests, want one erase request for its conversation: %+v", len(reqs), reqs)
	}
	if !slices.ContainsFunc(framesOf[*protocol.Done](t, b.vrec, false), func(x *protocol.Done) bool { return x.Op == protocol.OpErase && x.Conv == d.conv }) {
		t.Error("the visitor's browser received no Done for the erase request")
	}
	// The widget forgot the keys and everything else of the conversation.
	if seed, ok := w.storedSeed(r.site); ok && bytes.Equal(seed, oldSeed) {
		t.Error("after the deletion the widget still stores the conversation's record")
	}
	if keys := w.storageHolds(oldSeed); len(keys) > 0 {
		t.Errorf("after the deletion localStorage still holds the conversation key under %q", keys)
	}
	msgs, _ := w.messages()
	for _, s := range e.sentinels {
		if slices.ContainsFunc(msgs, func(m message) bool { return strings.Contains(m.Text, s) }) {
			t.Errorf("after the deletion the chat still shows %q", s)
		}
	}

	// The agent page drops it live.
	checkAgentDropped(t, b, d.conv, e.sentinels)

	took := waitCompaction(t, r, compactions, start)
	checkCompactionTime(t, took)

	// A reload: a fresh chat.
	b.reopenWidget(t)
	b.checkFreshChat(t, oldSeed, e.sentinels...)
	// The agent page after a reload does not list it.
	if l := relockAgent(t, b.actx, b.arec, r); listsConv(l, d.conv) {
		t.Errorf("after a reload the relay lists the deleted conversation to the agent: %+v", l.Entries)
	}
	if listed, st := agentListed(t, b.actx, d.conv); listed {
		t.Errorf("after a reload the agent page lists the deleted conversation: %s", st)
	}

	r.stop()
	checkGone(t, r, e)
	checkLog(t, r)
}

// checkAgentDropped: the agent page, which showed conv, got the Erased push,
// no longer lists it and shows none of its texts.
func checkAgentDropped(t *testing.T, b *botVisit, conv ids.ConvID, texts []string) {
	t.Helper()
	eventually(t, "the agent page drops the deleted conversation", func() (bool, string) {
		erased := slices.ContainsFunc(framesOf[*protocol.Erased](t, b.arec, false), func(x *protocol.Erased) bool { return x.Conv == conv })
		listed, st := agentListed(t, b.actx, conv)
		page := agentPageText(t, b.actx)
		var shown []string
		for _, s := range texts {
			if strings.Contains(page, s) {
				shown = append(shown, s)
			}
		}
		return erased && !listed && len(shown) == 0, fmt.Sprintf("Erased push received %v; %s; still on the page %q", erased, st, shown)
	})
}

// TestConversationCodeSecondDevice: the visitor copies the conversation code;
// on the relay's rights page in a second browser context a corrupt code and a
// code of another site are refused, the real one shows the data, and the
// conversation is deleted from there: the first browser's widget learns it,
// a reload there shows a fresh chat, the agent page drops it, and the code's
// keys get "gone" from the relay. The code never reaches the relay.
func TestConversationCodeSecondDevice(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, r := b.w, b.r
	d := b.shareData(t, newSentinel("Erika"), newSentinel("Sentinel")+"@example.org", newPhoneSentinel())
	e := erasure{conv: d.conv, visitor: visitorKey(t, b.vrec), envelopes: sentEnvelopes(t, b.vrec, d.conv),
		sentinels: append(d.sentinels(), d.repair), reason: store.EraseVisitor}
	oldSeed, _ := w.storedSeed(r.site)

	w.openMyData()
	w.waitVisible(selCode, "the conversation code")
	code := w.text(selCode)
	codeSite, codeID := codeKeys(t, code)
	if codeSite != r.site || ids.ConversationID(codeSite, codeID.SignKey()) != d.conv {
		t.Fatalf("the conversation code names site %s and conversation %s, want %s and %s",
			codeSite, ids.ConversationID(codeSite, codeID.SignKey()), r.site, d.conv)
	}
	if want := encodeCode(codeSite, codeID.Seed(), codeID.BoxPrivate()); code != want {
		t.Errorf("the conversation code is not in the documented form (prefix, base32 in groups of five, checksum):\n got %q\nwant %q", code, want)
	}
	t.Logf("conversation code: %d characters", len(code))
	w.click(selCodeCopy, "copy the code")
	t.Logf("after Copy the panel says %q", w.text(`[data-testid="siegel-mydata-status"]`))

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, d.conv)

	// The rights page, from the demo's printed line, in a second browser context.
	rightsURL := r.origin() + "/rights?site=" + r.site.String() + "&owner=" + r.ownerFP.String()
	if lines := relayLogLines(r, "rights page: "); len(lines) != 1 || strings.TrimSpace(strings.TrimPrefix(lines[0], "rights page: ")) != rightsURL {
		t.Errorf("relay demo printed the rights page as %q, want %q", lines, rightsURL)
	}
	dctx, drec := newUser(t, b.browser, "second device")
	do(t, dctx, "open the rights page", chromedp.Navigate(rightsURL))
	rw := &widget{t: t, ctx: dctx, frame: &frameEval{ctx: dctx, prefix: r.origin() + "/rights?"}}
	rw.waitVisible(selRightsCode, "the code field")

	enterCode := func(c string) {
		t.Helper()
		var left string
		if err := rw.frame.eval(`(() => { const f = document.querySelector(`+jsString(selRightsCode)+`); f.value = "";
			f.dispatchEvent(new Event("input", {bubbles: true})); return f.value; })()`, &left); err != nil || left != "" {
			t.Fatalf("clear the code field: %q %v", left, err)
		}
		do(t, dctx, "type the code", chromedp.SendKeys(chromedp.CSS(selRightsCode), c, chromedp.NodeVisible))
		rw.click(selRightsOpen, "open")
	}
	refused := func(what string) string {
		t.Helper()
		var msg string
		eventually(t, what+" is refused with rights-error", func() (bool, string) {
			msg = rw.text(selRightsError)
			return msg != "" && !rw.visible(selMyDataPanel), rw.describeRights()
		})
		t.Logf("%s: rights-error says %q", what, msg)
		return msg
	}
	enterCode(corruptCode(code))
	m1 := refused("a corrupt code")
	enterCode(otherSiteCode(t, code))
	m2 := refused("a code of another site")
	if m1 == m2 {
		t.Errorf("a corrupt code and one of another site get the same message %q", m1)
	}
	if _, sockets, _ := drec.snapshot(); len(sockets) != 0 {
		t.Errorf("refused codes opened WebSockets %q", sockets)
	}

	enterCode(code)
	rw.waitVisible(selMyDataPanel, "the rights page opens the conversation")
	v := rw.showView(d.name, d.email, d.phone, d.repair)
	if len(v.Consents) != 1 || v.Consents[0].Attrs["data-decision"] != "accepted" {
		t.Errorf("the rights page shows the consent decisions %v %+v, want one accepted", v.Consents, v.Consents)
	}
	if c := rw.text(selRightsCode); c != "" {
		t.Errorf("the code field still holds the code after opening (%d characters)", len(c))
	}

	// Delete from the second device.
	compactions := len(relayLogLines(r, "msg=compacted"))
	rw.click(selDelete, "Delete everything")
	rw.click(selDeleteConfirm, "confirm the deletion")
	start := time.Now()
	rw.waitVisible(selDeleted, "the deleted message on the rights page")
	t.Logf("the rights page says: %q", rw.text(selDeleted))
	if rw.visible(selDataItem) {
		t.Error("after the deletion the rights page still shows data items")
	}

	// The first browser's widget learns it (Erased push) and forgets it.
	eventually(t, "the first browser's widget shows the conversation was deleted", func() (bool, string) {
		erased := slices.ContainsFunc(framesOf[*protocol.Erased](t, b.vrec, false), func(x *protocol.Erased) bool { return x.Conv == d.conv })
		return erased && w.visible(selDeleted), fmt.Sprintf("Erased push received %v; %s", erased, w.describeRights())
	})
	t.Logf("the first browser's widget says: %q", w.text(selDeleted))
	checkAgentDropped(t, b, d.conv, e.sentinels)

	b.reopenWidget(t)
	b.checkFreshChat(t, oldSeed, e.sentinels...)
	if l := relockAgent(t, b.actx, b.arec, r); listsConv(l, d.conv) {
		t.Errorf("after a reload the relay lists the deleted conversation to the agent: %+v", l.Entries)
	}
	checkHelloGone(t, r, codeID)

	// The code (the conversation's private keys) never reached the relay.
	seed := codeID.Seed()
	secrets := []string{code, strings.ReplaceAll(code, "-", ""), string(seed[:])}
	reportLeaks(t, searchFrames(t, secrets, drec, b.vrec))
	checkCompactionTime(t, waitCompaction(t, r, compactions, start))
	r.stop()
	relayLeaks, _ := searchRelay(t, r, secrets)
	reportLeaks(t, relayLeaks)
	checkGone(t, r, e)
	checkLog(t, r)
}

// otherSiteCode returns a well-formed code (valid checksum) with the same
// keys for another site.
func otherSiteCode(t *testing.T, code string) string {
	t.Helper()
	_, id := codeKeys(t, code)
	var other ids.SiteID
	copy(other[:], "another-site-123")
	seed, box := id.Seed(), id.BoxPrivate()
	return encodeCode(other, seed, box)
}

// TestOperatorDeletion: the agent deletes a conversation (after a
// confirmation): it leaves the agent page, the visitor's widget is told
// (Erased push) and shows that it was deleted, a reload there shows a fresh
// chat, and after the compaction nothing of it is in the relay's files.
func TestOperatorDeletion(t *testing.T) {
	b := startBotVisitWith(t, rightsFlags...)
	w, r := b.w, b.r
	text := "Bitte rufen Sie mich an " + newSentinel("Sentinel")
	conv := b.handOff(t, text)
	e := erasure{conv: conv, visitor: visitorKey(t, b.vrec), sentinels: []string{text}, reason: store.EraseAgent}
	oldSeed, ok := w.storedSeed(r.site)
	if !ok {
		t.Fatal("the widget stored no record for the conversation")
	}

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, conv)
	waitAgentMessage(t, b.actx, "visitor", text)
	e.envelopes = sentEnvelopes(t, b.vrec, conv)
	requireInDB(t, r, "the visitor's envelopes", e.envelopes...)

	do(t, b.actx, "click Delete", chromedp.Click(chromedp.CSS(selAgentDelete), chromedp.NodeVisible))
	do(t, b.actx, "the confirmation", chromedp.WaitVisible(chromedp.CSS(selAgentDeleteConfirm)))
	time.Sleep(300 * time.Millisecond)
	if n := len(framesOf[*protocol.Request](t, b.arec, true)); n != 0 {
		t.Fatalf("the agent page sent %d requests before the deletion was confirmed", n)
	}
	if listed, st := agentListed(t, b.actx, conv); !listed {
		t.Fatalf("before the confirmation the conversation left the agent page: %s", st)
	}
	compactions := len(relayLogLines(r, "msg=compacted"))
	do(t, b.actx, "confirm", chromedp.Click(chromedp.CSS(selAgentDeleteConfirm), chromedp.NodeVisible))
	start := time.Now()

	eventually(t, "the agent page drops the conversation", func() (bool, string) {
		listed, st := agentListed(t, b.actx, conv)
		page := agentPageText(t, b.actx)
		return !listed && !strings.Contains(page, text), fmt.Sprintf("%s; text on the page %v", st, strings.Contains(page, text))
	})
	reqs := framesOf[*protocol.Request](t, b.arec, true)
	if len(reqs) != 1 || reqs[0].Op != protocol.OpErase || reqs[0].Conv != conv {
		t.Errorf("the agent page sent %d requests, want one erase request: %+v", len(reqs), reqs)
	}

	// The visitor's widget is told.
	eventually(t, "the visitor's widget shows the conversation was deleted", func() (bool, string) {
		erased := slices.ContainsFunc(framesOf[*protocol.Erased](t, b.vrec, false), func(x *protocol.Erased) bool { return x.Conv == conv })
		return erased && w.visible(selDeleted), fmt.Sprintf("Erased push received %v; %s", erased, w.describeRights())
	})
	t.Logf("the widget says: %q", w.text(selDeleted))
	if keys := w.storageHolds(oldSeed); len(keys) > 0 {
		t.Errorf("after the deletion localStorage still holds the conversation key under %q", keys)
	}

	took := waitCompaction(t, r, compactions, start)
	checkCompactionTime(t, took)

	b.reopenWidget(t)
	b.checkFreshChat(t, oldSeed, text)
	if l := relockAgent(t, b.actx, b.arec, r); listsConv(l, conv) {
		t.Errorf("after a reload the relay lists the deleted conversation to the agent: %+v", l.Entries)
	}

	r.stop()
	checkGone(t, r, e)
	checkLog(t, r)
}
