//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"siegel/relay/store"
	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// Selectors of the bot's controls in the chat frame (widget/cmd/visitor):
// the current prompt is rendered into siegel-actions.
const (
	selActions     = `[data-testid="siegel-actions"]`
	selChoice      = `[data-testid="siegel-choices"] button[data-testid="siegel-choice"]`
	selField       = `[data-testid="siegel-ask"] input[data-testid="siegel-field"]`
	selFieldLabel  = `[data-testid="siegel-ask"] label`
	selFieldSubmit = `[data-testid="siegel-ask"] button[data-testid="siegel-field-submit"]`
	selFieldError  = `[data-testid="siegel-field-error"]`
	selConsent     = `[data-testid="siegel-consent"]`
	selConsentText = `[data-testid="siegel-consent-text"]`
	selPrivacy     = `a[data-testid="siegel-privacy"]`
	selAccept      = `button[data-testid="siegel-consent-accept"]`
	selDecline     = `button[data-testid="siegel-consent-decline"]`
	selHint        = `[data-testid="siegel-hint"]`
	selAlert       = `[data-testid="siegel-alert"]`

	// The agent page's transcript items (agent-msg, agent-consent,
	// agent-handoff) and the relay's consent receipts.
	selAgentItem    = `[data-testid="agent-transcript"] > li`
	selAgentConv    = `[data-testid="agent-conv"]`
	selAgentReceipt = `[data-testid="agent-receipts"] [data-testid="agent-receipt"]`
)

// shippedFlow is the flow `relay demo` serves by default, parsed, so that the
// tests wait for the exact texts a visitor sees.
func shippedFlow(t *testing.T) *flow.Flow {
	t.Helper()
	f, problems := flow.Parse(flow.ShippedName, flow.Shipped())
	if len(problems) > 0 {
		t.Fatalf("the shipped flow has problems: %v", problems)
	}
	return f
}

// say returns the German text of a step of f.
func say(t *testing.T, f *flow.Flow, step string) string {
	t.Helper()
	st := f.Step(step)
	if st == nil || st.Text["de"] == "" {
		t.Fatalf("the flow has no step %q with a German text", step)
	}
	return st.Text["de"]
}

// faqAnswer returns the German answer of the FAQ entry id of f.
func faqAnswer(t *testing.T, f *flow.Flow, id string) string {
	t.Helper()
	for _, e := range f.FAQ {
		if e.ID == id {
			return e.Answer["de"]
		}
	}
	t.Fatalf("the flow has no FAQ entry %q", id)
	return ""
}

// newPhoneSentinel returns a unique, valid German phone number.
func newPhoneSentinel() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e7))
	return fmt.Sprintf("+49 221 %08d", n.Int64()+1e7)
}

// describe returns what the chat frame shows, for failure messages: the
// last messages, the bot's current control, the composer hint and the alert.
func (w *widget) describe() string {
	var st struct {
		Msgs                  []message
		Actions, Hint, Alert  string
		Field, Error, Invalid string
	}
	err := w.frame.eval(`(() => { const q = s => document.querySelector(s);
		const text = s => { const e = q(s); return e ? (e.innerText || e.textContent || "").trim() : ""; };
		const f = q(`+jsString(selField)+`);
		return {Msgs: `+messagesJS(selMsg)+`, Actions: text(`+jsString(selActions)+`),
			Hint: text(`+jsString(selHint)+`), Alert: text(`+jsString(selAlert)+`),
			Field: f ? f.type + " " + JSON.stringify(f.value) : "", Error: text(`+jsString(selFieldError)+`),
			Invalid: f ? (f.getAttribute("aria-invalid") || "") : ""}; })()`, &st)
	if err != nil {
		return "frame: " + err.Error()
	}
	msgs := st.Msgs
	if len(msgs) > 8 {
		msgs = msgs[len(msgs)-8:]
	}
	return fmt.Sprintf("last messages %v; bot control %q; field %s (aria-invalid %q, error %q); hint %q; alert %q",
		msgs, st.Actions, st.Field, st.Invalid, st.Error, st.Hint, st.Alert)
}

// waitCount waits until the chat shows at least n messages from `from`
// containing sub (for texts the bot says more than once).
func (w *widget) waitCount(from, sub string, n int) {
	w.t.Helper()
	eventually(w.t, fmt.Sprintf("the chat shows %d messages from %s with %q", n, from, sub), func() (bool, string) {
		msgs, err := w.messages()
		if err != nil {
			return false, err.Error()
		}
		c := 0
		for _, m := range msgs {
			if m.From == from && strings.Contains(m.Text, sub) {
				c++
			}
		}
		return c >= n, fmt.Sprintf("%d of them; %s", c, w.describe())
	})
}

// clickNth clicks, with the mouse, the i-th element matching sel in the frame.
func (w *widget) clickNth(sel string, i int, what string) {
	w.t.Helper()
	nodes := run(w.t, w.ctx, what, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.FromNode(w.node), chromedp.AtLeast(i+1)))
	do(w.t, w.ctx, what, chromedp.MouseClickNode(nodes[i]))
}

// choices returns the labels of the choice buttons shown (visible and enabled).
func (w *widget) choices() ([]string, error) {
	var labels []string
	err := w.frame.eval(`Array.from(document.querySelectorAll(`+jsString(selChoice)+`))
		.filter(b => !b.disabled && b.getClientRects().length > 0).map(b => (b.textContent || "").trim())`, &labels)
	return labels, err
}

// choose clicks the choice button labelled label once it is shown.
func (w *widget) choose(label string) {
	w.t.Helper()
	idx := -1
	eventually(w.t, "the chat offers the button "+jsString(label), func() (bool, string) {
		var r struct {
			Index  int
			Labels []string
		}
		err := w.frame.eval(`(() => { const bs = Array.from(document.querySelectorAll(`+jsString(selChoice)+`));
			return {Labels: bs.map(b => (b.textContent || "").trim()),
				Index: bs.findIndex(b => (b.textContent || "").trim() === `+jsString(label)+` && !b.disabled && b.getClientRects().length > 0)}; })()`, &r)
		if err != nil {
			return false, err.Error()
		}
		idx = r.Index
		return idx >= 0, fmt.Sprintf("buttons %q; %s", r.Labels, w.describe())
	})
	w.clickNth(selChoice, idx, "click the button "+label)
}

// fieldView is the answer field of an ask step as the visitor sees it.
type fieldView struct {
	Type, InputMode, Autocomplete, Label string
	Invalid                              string // aria-invalid
	Error                                string // the visible error text next to the field ("" if none shown)
	Value                                string
}

// field waits for the visible answer field and returns what it shows.
func (w *widget) field() fieldView {
	w.t.Helper()
	var f fieldView
	eventually(w.t, "the chat shows an answer field", func() (bool, string) {
		var r struct {
			OK bool
			F  fieldView
		}
		err := w.frame.eval(`(() => { const f = document.querySelector(`+jsString(selField)+`);
			if (!f || f.getClientRects().length === 0 || f.disabled) return {OK: false, F: {}};
			const l = document.querySelector(`+jsString(selFieldLabel)+`);
			const e = document.querySelector(`+jsString(selFieldError)+`);
			return {OK: true, F: {Type: f.type, InputMode: f.getAttribute("inputmode") || "",
				Autocomplete: f.getAttribute("autocomplete") || "", Label: l ? l.textContent.trim() : "",
				Invalid: f.getAttribute("aria-invalid") || "", Value: f.value,
				Error: e && e.getClientRects().length > 0 ? (e.textContent || "").trim() : ""}}; })()`, &r)
		if err != nil {
			return false, err.Error()
		}
		f = r.F
		return r.OK, w.describe()
	})
	return f
}

// answer types text into the answer field and submits it.
func (w *widget) answer(text string) {
	w.t.Helper()
	w.field()
	do(w.t, w.ctx, "type into the answer field",
		chromedp.SendKeys(chromedp.CSS(selField), text, chromedp.FromNode(w.node), chromedp.NodeVisible))
	w.submitField()
}

// answerDate picks a date (YYYY-MM-DD) in the date field, as the browser's
// date picker does, and submits it. (Typing into a date input depends on the
// browser's locale.)
func (w *widget) answerDate(date string) {
	w.t.Helper()
	if f := w.field(); f.Type != "date" {
		w.t.Fatalf("the date question shows an input of type %q, want date", f.Type)
	}
	w.setField(date)
	w.submitField()
}

// setField sets the answer field's value as a picker or clearing it would,
// with the input and change events.
func (w *widget) setField(value string) {
	w.t.Helper()
	var got string
	err := w.frame.eval(`(() => { const f = document.querySelector(`+jsString(selField)+`);
		f.focus(); f.value = `+jsString(value)+`;
		f.dispatchEvent(new Event("input", {bubbles: true}));
		f.dispatchEvent(new Event("change", {bubbles: true}));
		return f.value; })()`, &got)
	if err != nil || got != value {
		w.t.Fatalf("set the answer field to %q: it holds %q (%v)", value, got, err)
	}
}

func (w *widget) submitField() {
	w.t.Helper()
	do(w.t, w.ctx, "submit the answer field",
		chromedp.Click(chromedp.CSS(selFieldSubmit), chromedp.FromNode(w.node), chromedp.NodeVisible))
}

// composerUsable reports whether the chat's text box is shown and enabled.
func (w *widget) composerUsable() bool {
	w.t.Helper()
	var ok bool
	if err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(selInput)+`);
		return !!e && !e.disabled && e.getClientRects().length > 0; })()`, &ok); err != nil {
		w.t.Fatalf("look at the chat's text box: %v", err)
	}
	return ok
}

// clearComposer empties the chat's text box as a visitor deleting the text would.
func (w *widget) clearComposer() {
	w.t.Helper()
	var left string
	err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(selInput)+`);
		e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); return e.value; })()`, &left)
	if err != nil || left != "" {
		w.t.Fatalf("clear the chat's text box: %q, %v", left, err)
	}
}

// box is an element's bounding box.
type box struct{ X, Y, W, H float64 }

// consentView is the consent dialog as the visitor sees it.
type consentView struct {
	Visible                bool
	Role                   string
	Text                   string // the consent text element
	DialogText             string
	Href, Target, Rel      string // the privacy-policy link
	LinkText               string
	LinkVisible            bool
	AcceptLabel            string
	DeclineLabel           string
	Accept, Decline        box
	AcceptStyle            map[string]string
	DeclineStyle           map[string]string
	AcceptTag, DeclineTag  string
	AcceptType, DeclineTyp string
}

// buttonStyle lists the computed style properties that decide how much weight
// a button has visually; both consent buttons must agree on all of them.
var buttonStyle = []string{"font-size", "font-weight", "font-family", "color", "background-color",
	"border-top-width", "border-top-style", "border-top-color", "padding-top", "padding-left", "opacity", "text-decoration-line"}

// consent waits for the consent dialog and returns what it shows.
func (w *widget) consent() consentView {
	w.t.Helper()
	var c consentView
	props := jsStrings(buttonStyle)
	// The pointer stays where the last click was, which may now be over one of
	// the buttons (:hover): move it to a corner of the host page first.
	do(w.t, w.ctx, "move the mouse away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
	eventually(w.t, "the chat shows the consent dialog", func() (bool, string) {
		err := w.frame.eval(`(() => { const q = s => document.querySelector(s);
			const d = q(`+jsString(selConsent)+`);
			if (!d || d.getClientRects().length === 0) return {Visible: false};
			const t = q(`+jsString(selConsentText)+`), a = q(`+jsString(selPrivacy)+`);
			const ok = q(`+jsString(selAccept)+`), no = q(`+jsString(selDecline)+`);
			const bx = e => { if (!e) return {}; const r = e.getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; };
			const st = e => { const o = {}; if (!e) return o; const cs = getComputedStyle(e); for (const p of `+props+`) o[p] = cs.getPropertyValue(p); return o; };
			return {Visible: !!(ok && no), Role: d.getAttribute("role") || "",
				Text: t ? t.textContent : "", DialogText: d.innerText || "",
				Href: a ? a.href : "", Target: a ? a.target : "", Rel: a ? a.rel : "",
				LinkText: a ? (a.textContent || "").trim() : "", LinkVisible: !!a && a.getClientRects().length > 0,
				AcceptLabel: ok ? ok.textContent.trim() : "", DeclineLabel: no ? no.textContent.trim() : "",
				Accept: bx(ok), Decline: bx(no), AcceptStyle: st(ok), DeclineStyle: st(no),
				AcceptTag: ok ? ok.tagName : "", DeclineTag: no ? no.tagName : "",
				AcceptType: ok ? ok.type : "", DeclineTyp: no ? no.type : ""}; })()`, &c)
		if err != nil {
			return false, err.Error()
		}
		return c.Visible, w.describe()
	})
	return c
}

// jsStrings is a JavaScript array literal of strings.
func jsStrings(v []string) string {
	parts := make([]string, len(v))
	for i, s := range v {
		parts[i] = jsString(s)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// checkConsentDialog checks the consent dialog against the consent step's
// text and the site's privacy-policy URL: text shown, the link opens the
// privacy policy in a new tab without giving it a handle on the chat, and the
// two decisions have equal weight (same size, same look).
func checkConsentDialog(t *testing.T, c consentView, text, privacyURL string) {
	t.Helper()
	if strings.TrimSpace(c.Text) != text {
		t.Errorf("consent dialog text %q, want the consent step's text %q", c.Text, text)
	}
	if c.Role != "dialog" && c.Role != "alertdialog" {
		t.Errorf("consent dialog has role %q, want dialog", c.Role)
	}
	if c.Href != privacyURL {
		t.Errorf("privacy-policy link points to %q, want the site's privacy-policy URL %q", c.Href, privacyURL)
	}
	if !c.LinkVisible || c.LinkText == "" {
		t.Errorf("privacy-policy link is not shown with a text (visible %v, text %q)", c.LinkVisible, c.LinkText)
	}
	if c.Target != "_blank" {
		t.Errorf("privacy-policy link has target %q, want _blank (a new tab)", c.Target)
	}
	if !strings.Contains(" "+c.Rel+" ", " noopener ") {
		t.Errorf("privacy-policy link has rel %q, want it to contain noopener", c.Rel)
	}
	if c.AcceptLabel == "" || c.DeclineLabel == "" || c.AcceptLabel == c.DeclineLabel {
		t.Errorf("consent buttons labelled %q and %q, want two different non-empty labels", c.AcceptLabel, c.DeclineLabel)
	}
	if c.AcceptTag != "BUTTON" || c.DeclineTag != "BUTTON" || c.AcceptType != c.DeclineTyp {
		t.Errorf("consent buttons are %s/%s and %s/%s, want the same kind of button", c.AcceptTag, c.AcceptType, c.DeclineTag, c.DeclineTyp)
	}
	const eps = 0.5
	if c.Accept.W < 24 || c.Accept.H < 24 {
		t.Errorf("accept button is %.1f×%.1f px, too small to be a real choice", c.Accept.W, c.Accept.H)
	}
	if math.Abs(c.Accept.W-c.Decline.W) > eps || math.Abs(c.Accept.H-c.Decline.H) > eps {
		t.Errorf("consent buttons differ in size: accept %.1f×%.1f px, decline %.1f×%.1f px (want equal weight)",
			c.Accept.W, c.Accept.H, c.Decline.W, c.Decline.H)
	}
	for _, p := range buttonStyle {
		if c.AcceptStyle[p] != c.DeclineStyle[p] {
			t.Errorf("consent buttons differ in %s: accept %q, decline %q (want equal weight)", p, c.AcceptStyle[p], c.DeclineStyle[p])
		}
	}
	t.Logf("consent dialog: accept %q %.0f×%.0f px, decline %q %.0f×%.0f px; link %q → %s (target %s, rel %q)",
		c.AcceptLabel, c.Accept.W, c.Accept.H, c.DeclineLabel, c.Decline.W, c.Decline.H, c.LinkText, c.Href, c.Target, c.Rel)
}

// textHash is the SHA-256 of a consent text, in hex (docs/PROTOCOL.md §6.4).
func textHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// checkNoRelayContact: the visitor's browser opened no WebSocket, sent and
// received no frame and made no request for /ws.
func checkNoRelayContact(t *testing.T, rec *recorder, when string) {
	t.Helper()
	requests, sockets, frames := rec.snapshot()
	if len(sockets) > 0 || len(frames) > 0 {
		t.Errorf("%s: the visitor's browser opened WebSockets %q and exchanged %d frames; the bot alone must not contact the relay", when, sockets, len(frames))
	}
	for _, u := range requests {
		if strings.Contains(u, "/ws") {
			t.Errorf("%s: the visitor's browser requested %s", when, u)
		}
	}
}

// unlockAgent opens the agent page, loads the demo key, unlocks it with the
// printed passphrase and waits for the conversation list and the relay's
// answer to the list request.
func unlockAgent(t *testing.T, ctx context.Context, rec *recorder, r *relayProc) {
	t.Helper()
	do(t, ctx, "open the agent page", chromedp.Navigate(r.agentURL))
	do(t, ctx, "load the demo key", chromedp.Click(chromedp.CSS(selLoadDemo), chromedp.NodeVisible))
	unlockLoaded(t, ctx, rec, r)
}

// unlockLoaded unlocks the key the agent page has loaded with the printed
// passphrase and waits for the conversation list and the relay's answer to
// the list request.
func unlockLoaded(t *testing.T, ctx context.Context, rec *recorder, r *relayProc) {
	t.Helper()
	do(t, ctx, "unlock with the printed passphrase",
		chromedp.SendKeys(chromedp.CSS(selPassphrase), r.passphrase, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(selUnlock), chromedp.NodeVisible))
	do(t, ctx, "the conversation list after unlocking", chromedp.WaitVisible(chromedp.CSS(selConversations)))
	agentConversations(t, rec)
}

// agentConversations waits for the relay's Conversations frame to the agent's
// browser and returns the last one.
func agentConversations(t *testing.T, rec *recorder) *protocol.Conversations {
	t.Helper()
	var list *protocol.Conversations
	eventually(t, "the agent's browser receives the conversation list", func() (bool, string) {
		for _, f := range decodedFrames(t, rec, false) {
			if c, ok := f.(*protocol.Conversations); ok {
				list = c
			}
		}
		_, sockets, frames := rec.snapshot()
		return list != nil, fmt.Sprintf("websockets %q, %d frames", sockets, len(frames))
	})
	return list
}

// openAgentConversation opens a conversation on the unlocked agent page.
func openAgentConversation(t *testing.T, ctx context.Context, conv ids.ConvID) {
	t.Helper()
	sel := selAgentConv + `[data-conv="` + conv.String() + `"]`
	do(t, ctx, "open the visitor's conversation", chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	do(t, ctx, "the transcript", chromedp.WaitVisible(chromedp.CSS(selTranscript)))
}

// agentItem is one line of the agent's transcript.
type agentItem struct {
	TID, From, Kind, Decision, Personal, Variable, Reason, Hash, Text string
}

func (i agentItem) String() string {
	s := i.TID + "/" + i.From
	if i.Kind != "" {
		s += "/" + i.Kind
	}
	for _, a := range []struct{ k, v string }{{"decision", i.Decision}, {"personal", i.Personal}, {"variable", i.Variable}, {"reason", i.Reason}} {
		if a.v != "" {
			s += " " + a.k + "=" + a.v
		}
	}
	text := strings.Join(strings.Fields(i.Text), " ")
	if len(text) > 90 {
		text = text[:90] + "…"
	}
	return "{" + s + " " + jsString(text) + "}"
}

// agentItems lists the agent's transcript.
func agentItems(ctx context.Context) ([]agentItem, error) {
	return evalJS[[]agentItem](ctx, `Array.from(document.querySelectorAll(`+jsString(selAgentItem)+`)).map(e => ({
		TID: e.getAttribute("data-testid") || "", From: e.getAttribute("data-from") || "",
		Kind: e.getAttribute("data-kind") || "", Decision: e.getAttribute("data-decision") || "",
		Personal: e.getAttribute("data-personal") || "", Variable: e.getAttribute("data-variable") || "",
		Reason: e.getAttribute("data-reason") || "", Hash: e.getAttribute("data-text-hash") || "",
		Text: e.textContent || ""}))`)
}

// itemWant describes an expected transcript line; empty fields match anything.
type itemWant struct {
	TID, From, Decision, Personal, Variable, Text string
}

func (w itemWant) match(i agentItem) bool {
	return (w.TID == "" || w.TID == i.TID) && (w.From == "" || w.From == i.From) &&
		(w.Decision == "" || w.Decision == i.Decision) && (w.Variable == "" || w.Variable == i.Variable) &&
		(w.Personal == "" || w.Personal == i.Personal || w.Personal == "false" && i.Personal == "") &&
		strings.Contains(i.Text, w.Text)
}

func (w itemWant) String() string {
	return fmt.Sprintf("{%s %s decision=%q personal=%q variable=%q %q}", w.TID, w.From, w.Decision, w.Personal, w.Variable, w.Text)
}

// inOrder reports the index of the first of wants that items do not hold in
// this order (as a subsequence), or -1.
func inOrder(items []agentItem, wants []itemWant) int {
	j := 0
	for k, w := range wants {
		for j < len(items) && !w.match(items[j]) {
			j++
		}
		if j == len(items) {
			return k
		}
		j++
	}
	return -1
}

// waitAgentTranscript waits until the agent's transcript holds wants in order
// and returns it.
func waitAgentTranscript(t *testing.T, ctx context.Context, wants []itemWant) []agentItem {
	t.Helper()
	var items []agentItem
	eventually(t, "the agent's transcript shows the conversation in order", func() (bool, string) {
		var err error
		items, err = agentItems(ctx)
		if err != nil {
			return false, err.Error()
		}
		if i := inOrder(items, wants); i >= 0 {
			return false, fmt.Sprintf("missing (in order) %v; the transcript has %d lines: %v", wants[i], len(items), items)
		}
		return true, ""
	})
	return items
}

// checkWholeTranscript: every message the chat frame shows from the bot and
// from the visitor is, in the same order, a line of the agent's transcript.
func checkWholeTranscript(t *testing.T, w *widget, items []agentItem) {
	t.Helper()
	msgs, err := w.messages()
	if err != nil {
		t.Fatalf("read the chat: %v", err)
	}
	var wants []itemWant
	for _, m := range msgs {
		body := strings.TrimSpace(m.Body)
		switch {
		case m.From != "bot" && m.From != "visitor":
			continue
		// The chat shows the visitor's consent decision as their message
		// (German strings of widget/i18n); the agent page as a consent line.
		case m.From == "visitor" && body == "Zugestimmt":
			wants = append(wants, itemWant{TID: "agent-consent", Decision: "accepted"})
		case m.From == "visitor" && body == "Abgelehnt":
			wants = append(wants, itemWant{TID: "agent-consent", Decision: "declined"})
		default:
			wants = append(wants, itemWant{From: m.From, Text: body})
		}
	}
	if len(wants) < 3 {
		t.Fatalf("the chat shows only %d messages from the bot and the visitor: %v", len(wants), msgs)
	}
	if i := inOrder(items, wants); i >= 0 {
		t.Errorf("the agent's transcript lacks (in the chat's order) the chat message %v;\nchat: %v\nagent: %v", wants[i], msgs, items)
	}
}

// relayStore opens a copy of the stopped relay's database (so that the data
// folder stays as the relay left it).
func relayStore(t *testing.T, r *relayProc) *store.Store {
	t.Helper()
	if !r.hasExited() {
		t.Fatal("relayStore: stop the relay first")
	}
	src, err := os.Open(filepath.Join(r.dataDir, "siegel.db"))
	if err != nil {
		t.Fatalf("open the relay's database: %v", err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "copy.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Path: path, NoSync: true})
	if err != nil {
		t.Fatalf("open a copy of the relay's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// relayLogLines returns the lines of the relay's output that contain sub
// (case-insensitive).
func relayLogLines(r *relayProc, sub string) []string {
	var out []string
	for _, l := range strings.Split(string(r.output()), "\n") {
		if strings.Contains(strings.ToLower(l), strings.ToLower(sub)) {
			out = append(out, l)
		}
	}
	return out
}

// futureDate is a date two weeks from now, as a date input yields it.
func futureDate() string { return time.Now().AddDate(0, 0, 14).Format("2006-01-02") }
