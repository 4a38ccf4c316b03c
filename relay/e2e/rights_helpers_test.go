//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"siegel/relay/store"
	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/protocol"
)

// The tests in rights_test.go and retention_test.go check the visitor's rights
// in the chat window (view, correct, export, delete, the conversation code and
// the rights page), the operator's deletion and retention (DESIGN.md promises
// 5 and 6, docs/PROTOCOL.md §6.5) as a visitor and an agent would.

// Selectors of the "My data" menu (widget/cmd/visitor), the rights page and
// the agent page's deletion and correction marker.
const (
	selMyData        = `button[data-testid="siegel-mydata"]`
	selMyDataPanel   = `[data-testid="siegel-mydata-panel"]`
	selView          = `[data-testid="siegel-view"]`
	selDataItem      = `[data-testid="siegel-data-item"]`
	selConsentItem   = `[data-testid="siegel-consent-item"]`
	selCorrect       = `[data-testid="siegel-correct"]`
	selExportJSON    = `[data-testid="siegel-export-json"]`
	selExportHTML    = `[data-testid="siegel-export-html"]`
	selDelete        = `[data-testid="siegel-delete"]`
	selDeleteConfirm = `[data-testid="siegel-delete-confirm"]`
	selDeleted       = `[data-testid="siegel-deleted"]`
	selMyDataPrivacy = `a[data-testid="siegel-mydata-privacy"]`
	selCode          = `[data-testid="siegel-code"]`
	selCodeCopy      = `[data-testid="siegel-code-copy"]`

	selRightsCode  = `[data-testid="rights-code"]`
	selRightsOpen  = `[data-testid="rights-open"]`
	selRightsError = `[data-testid="rights-error"]`

	selAgentDelete        = `[data-testid="agent-delete"]`
	selAgentDeleteConfirm = `[data-testid="agent-delete-confirm"]`
	selAgentCorrected     = `[data-testid="agent-corrected"]`
)

// rightsFlags start `relay demo` with a short compaction bound and a short
// retention sweep interval, so that the tests see erased bytes leave the
// database file within seconds.
var rightsFlags = []string{"-compact-within", "2s", "-sweep-interval", "1s"}

// compactWithin is the bound given with rightsFlags.
const compactWithin = 2 * time.Second

// sharedData is what the visitor gave on the consent-accept path.
type sharedData struct {
	repair, day, name, email, phone string
	conv                            ids.ConvID
}

// sentinels returns the personal answers.
func (d sharedData) sentinels() []string { return []string{d.name, d.email, d.phone} }

// shareData goes the appointment path of the shipped flow with the personal
// answers name, email and phone (the anonymous ones are generated), accepts
// the consent and waits until the conversation is at the relay.
func (b *botVisit) shareData(t *testing.T, name, email, phone string) sharedData {
	t.Helper()
	w, f := b.w, b.f
	d := sharedData{repair: "Kette springt " + newSentinel("Sentinel"), day: futureDate(), name: name, email: email, phone: phone}
	b.toConsent(t, "Werkstatttermin", d.repair, d.day)
	do(t, b.vctx, "accept", chromedp.Click(chromedp.CSS(selAccept), chromedp.FromNode(w.node), chromedp.NodeVisible))
	w.waitMessage("bot", say(t, f, "name"))
	w.answer(name)
	w.waitMessage("visitor", name)
	w.waitMessage("bot", say(t, f, "email"))
	w.answer(email)
	w.waitMessage("visitor", email)
	w.waitMessage("bot", say(t, f, "phone"))
	w.answer(phone)
	w.waitMessage("visitor", phone)
	w.waitMessage("bot", say(t, f, "thanks"))
	d.conv = visitorConversation(t, b.vrec)
	// Every message of the visitor is acknowledged by the relay.
	eventually(t, "the relay acknowledges the visitor's envelopes", func() (bool, string) {
		sent, acked := countSendAck(t, b.vrec)
		return sent > 0 && acked >= sent, fmt.Sprintf("%d envelopes sent, %d acknowledged", sent, acked)
	})
	return d
}

// handOff asks the bot for a person and writes text: the quickest way to a
// conversation at the relay.
func (b *botVisit) handOff(t *testing.T, text string) ids.ConvID {
	t.Helper()
	w, f := b.w, b.f
	w.choose("Mit einem Menschen sprechen")
	w.waitMessage("bot", say(t, f, "handoff_person"))
	conv := visitorConversation(t, b.vrec)
	w.send(text)
	w.waitMessage("visitor", text, "sent", "delivered")
	return conv
}

// countSendAck counts the Send frames of a browser and the Acks it received.
func countSendAck(t *testing.T, rec *recorder) (sent, acked int) {
	t.Helper()
	for _, f := range decodedFrames(t, rec, true) {
		if _, ok := f.(*protocol.Send); ok {
			sent++
		}
	}
	for _, f := range decodedFrames(t, rec, false) {
		if _, ok := f.(*protocol.Ack); ok {
			acked++
		}
	}
	return sent, acked
}

// reopenWidget reloads the host page and opens the chat again.
func (b *botVisit) reopenWidget(t *testing.T) {
	t.Helper()
	do(t, b.vctx, "reload the demo page", chromedp.Reload())
	do(t, b.vctx, "wait for the launcher after the reload", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
	b.w = openWidget(t, b.vctx, b.r)
}

// ---- The "My data" menu -------------------------------------------------

// click clicks the first visible element matching sel in the widget, with the
// mouse (a real user gesture).
func (w *widget) click(sel, what string) {
	w.t.Helper()
	w.waitVisible(sel, what)
	do(w.t, w.ctx, what, chromedp.Click(chromedp.CSS(sel), chromedp.FromNode(w.node), chromedp.NodeVisible))
}

// waitVisible waits until an element matching sel is rendered in the widget.
func (w *widget) waitVisible(sel, what string) {
	w.t.Helper()
	eventually(w.t, what+": "+sel+" is shown", func() (bool, string) {
		var ok bool
		if err := w.frame.eval(`Array.from(document.querySelectorAll(`+jsString(sel)+`)).some(e => e.getClientRects().length > 0)`, &ok); err != nil {
			return false, err.Error()
		}
		return ok, w.describeRights()
	})
}

// visible reports whether an element matching sel is rendered in the widget.
func (w *widget) visible(sel string) bool {
	w.t.Helper()
	var ok bool
	if err := w.frame.eval(`Array.from(document.querySelectorAll(`+jsString(sel)+`)).some(e => e.getClientRects().length > 0)`, &ok); err != nil {
		w.t.Fatalf("look for %s: %v", sel, err)
	}
	return ok
}

// text returns the trimmed text of the first element matching sel ("" if none).
func (w *widget) text(sel string) string {
	w.t.Helper()
	var s string
	if err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(sel)+`);
		return e ? ((e.value !== undefined && e.tagName !== "BUTTON" ? e.value : "") || e.innerText || e.textContent || "").trim() : ""; })()`, &s); err != nil {
		w.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// describeRights is describe plus what the "My data" panel shows.
func (w *widget) describeRights() string {
	var st struct{ Panel, Body string }
	err := w.frame.eval(`(() => { const p = document.querySelector(`+jsString(selMyDataPanel)+`);
		const vis = e => e && e.getClientRects().length > 0;
		return {Panel: vis(p) ? (p.innerText || "").slice(0, 1500) : "(not shown)",
			Body: document.body ? (document.body.innerText || "").slice(0, 600) : ""}; })()`, &st)
	if err != nil {
		return "frame: " + err.Error()
	}
	return fmt.Sprintf("My data panel %q; page text %q", st.Panel, st.Body)
}

// openMyData opens the "My data" menu (if it is not open) and waits for its panel.
func (w *widget) openMyData() {
	w.t.Helper()
	if w.visible(selMyDataPanel) {
		return
	}
	w.click(selMyData, "open My data")
	w.waitVisible(selMyDataPanel, "the My data panel")
}

// rightsItem is one item (a piece of data or a consent decision) of the view.
type rightsItem struct {
	Text  string
	Attrs map[string]string
}

func (i rightsItem) String() string { return jsString(strings.Join(strings.Fields(i.Text), " ")) }

// rightsView is what the view of the "My data" menu shows.
type rightsView struct {
	Text     string // the whole view's text (the conversation and the lists)
	Data     []rightsItem
	Consents []rightsItem
}

func (v rightsView) dataWith(sub string) (rightsItem, bool) {
	for _, d := range v.Data {
		if strings.Contains(d.Text, sub) {
			return d, true
		}
	}
	return rightsItem{}, false
}

func (v rightsView) String() string {
	return fmt.Sprintf("data items %v; consent items %v; text %q", v.Data, v.Consents, tail([]byte(v.Text), 1200))
}

// readView reads the view (the element siegel-view, the data and consent items).
func (w *widget) readView() (rightsView, error) {
	var v rightsView
	err := w.frame.eval(`(() => { const vis = e => e && e.getClientRects().length > 0;
		const items = s => Array.from(document.querySelectorAll(s)).filter(vis).map(e => {
			const a = {}; for (const x of e.attributes) a[x.name] = x.value;
			return {Text: e.innerText || e.textContent || "", Attrs: a}; });
		const view = Array.from(document.querySelectorAll(`+jsString(selView)+`)).find(e => vis(e) && e.tagName !== "BUTTON");
		return {Text: view ? (view.innerText || "") : "", Data: items(`+jsString(selDataItem)+`), Consents: items(`+jsString(selConsentItem)+`)}; })()`, &v)
	return v, err
}

// showView opens the view of the "My data" menu (clicking siegel-view when it
// is a button) and waits until it lists the data items holding each of want
// and at least one consent decision.
func (w *widget) showView(want ...string) rightsView {
	w.t.Helper()
	w.openMyData()
	var isButton bool
	if err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(selView)+`);
		return !!e && (e.tagName === "BUTTON" || e.getAttribute("role") === "button" || e.tagName === "SUMMARY"); })()`, &isButton); err != nil {
		w.t.Fatal(err)
	}
	if isButton {
		w.click(selView, "open the view")
	}
	var v rightsView
	eventually(w.t, fmt.Sprintf("the view lists the data %q and a consent decision", want), func() (bool, string) {
		var err error
		if v, err = w.readView(); err != nil {
			return false, err.Error()
		}
		for _, s := range want {
			if _, ok := v.dataWith(s); !ok {
				return false, fmt.Sprintf("no data item with %q; %v", s, v)
			}
		}
		return len(v.Consents) > 0, v.String()
	})
	return v
}

// ---- Downloads -----------------------------------------------------------

// allowDownloads lets the tab's browser context save downloads into a fresh
// folder and returns it.
func allowDownloads(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	c := chromedp.FromContext(ctx)
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: c.BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    new(true),
	})
	if err != nil {
		t.Fatalf("Browser.setDownloadBehavior: %v", err)
	}
	return dir
}

// waitDownload waits for a completed file whose name ends in suffix in dir
// (one that was not there before) and returns its name and bytes.
func waitDownload(t *testing.T, dir, suffix string, before map[string]bool) (string, []byte) {
	t.Helper()
	var name string
	var b []byte
	eventually(t, "a downloaded *"+suffix+" file in the download folder", func() (bool, string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, err.Error()
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
			if before[e.Name()] || !strings.HasSuffix(e.Name(), suffix) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || len(data) == 0 {
				continue
			}
			name, b = e.Name(), data
			return true, ""
		}
		return false, fmt.Sprintf("files %q", names)
	})
	return name, b
}

// ---- The agent page -------------------------------------------------------

// agentListed reports whether the agent page lists conv.
func agentListed(t *testing.T, ctx context.Context, conv ids.ConvID) (bool, string) {
	t.Helper()
	type st struct {
		Listed bool
		Convs  []string
	}
	s, err := evalJS[st](ctx, `(() => { const all = Array.from(document.querySelectorAll(`+jsString(selAgentConv)+`));
		return {Listed: all.some(e => e.getAttribute("data-conv") === `+jsString(conv.String())+`),
			Convs: all.map(e => e.getAttribute("data-conv") || "")}; })()`)
	if err != nil {
		return false, err.Error()
	}
	return s.Listed, fmt.Sprintf("the agent page lists %q", s.Convs)
}

// agentPageText is the agent page's text and markup.
func agentPageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := evalJS[string](ctx, `document.documentElement.outerHTML + "\n" + document.body.innerText`)
	if err != nil {
		t.Fatalf("read the agent page: %v", err)
	}
	return s
}

// relockAgent reloads the agent page, unlocks the stored key with the printed
// passphrase and waits for a new conversation list from the relay.
func relockAgent(t *testing.T, ctx context.Context, rec *recorder, r *relayProc) *protocol.Conversations {
	t.Helper()
	n := len(framesOf[*protocol.Conversations](t, rec, false))
	do(t, ctx, "reload the agent page", chromedp.Reload())
	do(t, ctx, "unlock the stored key with the printed passphrase",
		chromedp.SendKeys(chromedp.CSS(selPassphrase), r.passphrase, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(selUnlock), chromedp.NodeVisible))
	do(t, ctx, "the conversation list after unlocking", chromedp.WaitVisible(chromedp.CSS(selConversations)))
	var list *protocol.Conversations
	eventually(t, "the agent's browser receives a new conversation list", func() (bool, string) {
		all := framesOf[*protocol.Conversations](t, rec, false)
		if len(all) > n {
			list = all[len(all)-1]
		}
		return list != nil, fmt.Sprintf("%d lists before the reload, %d now", n, len(all))
	})
	return list
}

// framesOf returns the decoded frames of type F a browser sent or received.
func framesOf[F protocol.Frame](t *testing.T, rec *recorder, sent bool) []F {
	t.Helper()
	var out []F
	for _, f := range decodedFrames(t, rec, sent) {
		if x, ok := f.(F); ok {
			out = append(out, x)
		}
	}
	return out
}

// listsConv reports whether a Conversations frame lists conv.
func listsConv(l *protocol.Conversations, conv ids.ConvID) bool {
	return slices.ContainsFunc(l.Entries, func(e protocol.ConvInfo) bool { return e.Conv == conv })
}

// demoAgentIdentity fetches the demo agent's key file from the relay and opens
// it with the printed passphrase: the tests read the envelopes as the agent.
func demoAgentIdentity(t *testing.T, r *relayProc) *envelope.Identity {
	t.Helper()
	resp, err := http.Get(r.origin() + "/demo/agent.key")
	if err != nil {
		t.Fatalf("fetch the demo key: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fetch the demo key: HTTP %d, %v", resp.StatusCode, err)
	}
	sec, err := keyfile.Open(b, r.passphrase)
	if err != nil {
		t.Fatalf("open the demo key with the printed passphrase: %v", err)
	}
	id, err := envelope.IdentityFromKeys(sec.SignSeed, sec.BoxPriv)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// openedEnv is an envelope a browser sent, opened.
type openedEnv struct {
	raw []byte
	msg *envelope.Opened
}

// answer decodes the envelope's answer (an Answer, or a Correction's answer).
func (e openedEnv) answer() (content.Answer, bool) {
	switch content.Type(e.msg.Type) {
	case content.TypeAnswer:
		a, err := content.DecodeAnswer(e.msg.Content)
		return a, err == nil
	case content.TypeCorrection:
		c, err := content.DecodeCorrection(e.msg.Content)
		return c.Answer, err == nil
	}
	return content.Answer{}, false
}

// sentOpened opens, as id, every envelope of conv that the browser sent, in
// Send frames and in the bodies of correct requests.
func sentOpened(t *testing.T, rec *recorder, site ids.SiteID, conv ids.ConvID, id *envelope.Identity) []openedEnv {
	t.Helper()
	var raws [][]byte
	for _, f := range decodedFrames(t, rec, true) {
		switch f := f.(type) {
		case *protocol.Send:
			raws = append(raws, bytes.Clone(f.Envelope))
		case *protocol.Request:
			if f.Op == protocol.OpCorrect && len(f.Body) > 8 {
				raws = append(raws, bytes.Clone(f.Body[8:]))
			}
		}
	}
	var out []openedEnv
	for _, raw := range raws {
		m, err := envelope.Open(raw, id, site, conv)
		if err != nil {
			t.Errorf("%s sent an envelope the agent cannot open: %v", rec.name, err)
			continue
		}
		out = append(out, openedEnv{raw: raw, msg: m})
	}
	return out
}

// findAnswer returns the sent envelope with the answer of variable whose value is value.
func findAnswer(t *testing.T, envs []openedEnv, typ content.Type, variable, value string) openedEnv {
	t.Helper()
	for _, e := range envs {
		if a, ok := e.answer(); ok && content.Type(e.msg.Type) == typ && a.Variable == variable && a.Value == value {
			return e
		}
	}
	t.Fatalf("no sent envelope of type %d holds the answer %s = %q (%d envelopes)", typ, variable, value, len(envs))
	return openedEnv{}
}

// ---- The relay's files ----------------------------------------------------

// slices32 returns 32-byte pieces of an envelope that belong to it alone:
// its nonce (with what follows), the wrapped key of each stanza, pieces of
// its body (ciphertext) spread over it, and its signature. (The header —
// site, conversation, sequence, sender keys — and the recipients' keys are
// shared with the conversation's other envelopes.) Docs/PROTOCOL.md §1:
// version, site, conversation, seq, two keys (105 bytes); nonce (24); count
// (1); count × (key 32, wrapped key 48); body length (4); body; signature (64).
func slices32(t *testing.T, raw []byte) [][]byte {
	t.Helper()
	env, err := envelope.Parse(raw)
	if err != nil {
		t.Fatalf("parse an envelope to cut it into pieces: %v", err)
	}
	const n = 32
	stanzas := 105 + 24 + 1
	bodyStart := stanzas + 80*len(env.Recipients) + 4
	bodyEnd := len(raw) - 64
	if bodyEnd-bodyStart < n {
		t.Fatalf("envelope of %d bytes with %d recipients has no body", len(raw), len(env.Recipients))
	}
	out := [][]byte{raw[105 : 105+n]}
	for i := range env.Recipients {
		w := stanzas + 80*i + 32
		out = append(out, raw[w:w+n])
	}
	for off := bodyStart; off+n <= bodyEnd; off += max(n, (bodyEnd-bodyStart)/8) {
		out = append(out, raw[off:off+n])
	}
	return append(out, raw[bodyEnd-n:bodyEnd], raw[bodyEnd:bodyEnd+n], raw[len(raw)-n:])
}

// dataFilesWith returns the files of the data folder (path: offset) that
// hold any of the pieces.
func dataFilesWith(t *testing.T, dir string, pieces [][]byte) []string {
	t.Helper()
	var found []string
	for path, b := range dirFiles(t, dir) {
		for i, p := range pieces {
			if j := bytes.Index(b, p); j >= 0 {
				found = append(found, fmt.Sprintf("%s: piece %d at byte %d", path, i, j))
			}
		}
	}
	slices.Sort(found)
	return found
}

// liveDB reads the running relay's database file (committed pages are in it).
func liveDB(t *testing.T, r *relayProc) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dataDir, "siegel.db"))
	if err != nil {
		t.Fatalf("read the database file: %v", err)
	}
	return b
}

// requireInDB: each envelope is in the running relay's database file (the
// positive control of the later search for its bytes).
func requireInDB(t *testing.T, r *relayProc, what string, envs ...[]byte) {
	t.Helper()
	eventually(t, what+" are in the database file", func() (bool, string) {
		db := liveDB(t, r)
		for i, e := range envs {
			if !bytes.Contains(db, e) {
				return false, fmt.Sprintf("envelope %d of %d (%d bytes) is not in the %d-byte file", i+1, len(envs), len(e), len(db))
			}
		}
		return true, ""
	})
}

// waitCompaction waits until the relay logs `compacted` more than n times and
// returns how long that took from start.
func waitCompaction(t *testing.T, r *relayProc, n int, start time.Time) time.Duration {
	t.Helper()
	eventually(t, "the relay compacts the database (log line \"compacted\")", func() (bool, string) {
		lines := relayLogLines(r, "msg=compacted")
		return len(lines) > n, fmt.Sprintf("%d compactions logged, %d before: %q", len(lines), n, lines)
	})
	return time.Since(start)
}

// checkCompactionTime: the compaction came within the configured bound (with
// a margin for a loaded machine and the polling).
func checkCompactionTime(t *testing.T, took time.Duration) {
	t.Helper()
	t.Logf("compaction logged %v after the deletion (bound %v)", took.Round(10*time.Millisecond), compactWithin)
	if limit := compactWithin + 3*time.Second; took > limit {
		t.Errorf("compaction came %v after the deletion, want within %v (-compact-within %v plus a margin)", took, limit, compactWithin)
	}
}

// checkNoCompactLeftover: no half-written compaction file is left in the data folder.
func checkNoCompactLeftover(t *testing.T, r *relayProc) {
	t.Helper()
	for path := range dirFiles(t, r.dataDir) {
		if strings.HasSuffix(path, ".compact") {
			t.Errorf("a compaction file is left in the data folder: %s", path)
		}
	}
}

// checkErased: the stopped relay's database no longer has conv, its
// receipts are gone, a tombstone blocks it and the audit log holds one
// erasure with the reason (and nothing that names the conversation).
func checkErased(t *testing.T, r *relayProc, conv ids.ConvID, reason store.EraseReason) {
	t.Helper()
	st := relayStore(t, r)
	if c, err := st.Conversation(r.site, conv); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the erasure the database has the conversation: %+v, %v", c, err)
	}
	if convs, err := st.Conversations(r.site, 0); err != nil || slices.ContainsFunc(convs, func(c store.Conversation) bool { return c.ID == conv }) {
		t.Errorf("after the erasure the conversation is listed: %+v, %v", convs, err)
	}
	if rs, err := st.ConsentReceipts(r.site, conv); err == nil && len(rs) > 0 {
		t.Errorf("after the erasure the database holds %d consent receipts of the conversation", len(rs))
	}
	if ok, err := st.Tombstoned(r.site, conv); err != nil || !ok {
		t.Errorf("no tombstone for the erased conversation (tombstoned %v, err %v)", ok, err)
	}
	audit, err := st.Audit(r.site)
	if err != nil {
		t.Fatalf("read the audit log: %v", err)
	}
	n := 0
	for _, a := range audit {
		if a.Reason == reason {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the audit log holds %d erasures by %s, want 1: %+v", n, reason, audit)
	}
	// The tombstone is a keyed hash: the conversation ID is nowhere in clear.
	var id []byte = conv[:]
	for path, b := range dirFiles(t, r.dataDir) {
		if i := bytes.Index(b, id); i >= 0 {
			t.Errorf("the erased conversation's ID is in %s at byte %d", path, i)
		}
		for _, f := range []string{conv.String(), base64.StdEncoding.EncodeToString(id)} {
			if i := bytes.Index(b, []byte(f)); i >= 0 {
				t.Errorf("the erased conversation's ID (as %q) is in %s at byte %d", f, path, i)
			}
		}
	}
}

// ---- Visitor storage --------------------------------------------------------

// visitorRecordKey is the localStorage key of the widget's record (widget/visitor).
func visitorRecordKey(site ids.SiteID) string { return "siegel.v1." + site.String() }

// storedSeed returns the Ed25519 seed of the widget's stored record (the
// conversation key) and whether there is a record.
func (w *widget) storedSeed(site ids.SiteID) ([]byte, bool) {
	w.t.Helper()
	var v *string
	if err := w.frame.eval(`localStorage.getItem(`+jsString(visitorRecordKey(site))+`)`, &v); err != nil {
		w.t.Fatalf("read the widget's record: %v", err)
	}
	if v == nil {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(*v)
	if err != nil || len(b) < 33 {
		w.t.Fatalf("the widget's record is not base64 of a record (%d bytes, %v)", len(b), err)
	}
	return b[1:33], true
}

// storageHolds reports the localStorage keys of the frame's origin whose
// value holds seed (raw, or in base64 of a record).
func (w *widget) storageHolds(seed []byte) []string {
	w.t.Helper()
	var all map[string]string
	if err := w.frame.eval(`Object.fromEntries(Object.keys(localStorage).map(k => [k, localStorage.getItem(k)]))`, &all); err != nil {
		w.t.Fatalf("read localStorage: %v", err)
	}
	var out []string
	for k, v := range all {
		if b, err := base64.StdEncoding.DecodeString(v); (err == nil && bytes.Contains(b, seed)) || strings.Contains(v, string(seed)) {
			out = append(out, k)
		}
	}
	return out
}

// checkFreshChat: the widget (after a reload) shows a new chat: the bot's
// greeting and menu, none of the old texts, and no stored record with the old
// conversation key.
func (b *botVisit) checkFreshChat(t *testing.T, oldSeed []byte, old ...string) {
	t.Helper()
	w := b.w
	w.waitMessage("bot", say(t, b.f, "greeting"))
	w.waitMessage("bot", say(t, b.f, "menu"))
	msgs, err := w.messages()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, s := range old {
			if strings.Contains(m.Text, s) {
				t.Errorf("the fresh chat shows the old message %v", m)
			}
		}
	}
	if n := countMessages(msgs, "bot", say(t, b.f, "greeting")); n != 1 {
		t.Errorf("the fresh chat shows the greeting %d times, want once: %v", n, msgs)
	}
	if keys := w.storageHolds(oldSeed); len(keys) > 0 {
		t.Errorf("after the deletion the frame's localStorage still holds the old conversation key under %q", keys)
	}
}

// ---- Conversation code ------------------------------------------------------

// codeKeys decodes a conversation code ("SIEGEL1-" and base32 in groups of
// five: site, Ed25519 seed, X25519 private key, 4 checksum bytes), so that
// the test can act with it as a native client.
func codeKeys(t *testing.T, code string) (ids.SiteID, *envelope.Identity) {
	t.Helper()
	s := strings.TrimSpace(code)
	if !strings.HasPrefix(s, "SIEGEL1-") {
		t.Fatalf("the conversation code %q does not start with SIEGEL1-", s)
	}
	body := strings.NewReplacer("-", "", " ", "", "\n", "").Replace(s[len("SIEGEL1-"):])
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(body))
	if err != nil || len(b) != 84 {
		t.Fatalf("the conversation code does not decode to 84 bytes: %d, %v", len(b), err)
	}
	var site ids.SiteID
	var seed, box [32]byte
	copy(site[:], b[:16])
	copy(seed[:], b[16:48])
	copy(box[:], b[48:80])
	id, err := envelope.IdentityFromKeys(seed, box)
	if err != nil {
		t.Fatal(err)
	}
	return site, id
}

// encodeCode writes a conversation code as the widget does: "SIEGEL1-" and
// base32 (RFC 4648, no padding) of site ‖ seed ‖ box private key ‖ the first
// 4 bytes of SHA-256("siegel/code/v1" ‖ site ‖ seed ‖ box private key), in
// groups of five characters joined by "-".
func encodeCode(site ids.SiteID, seed, box [32]byte) string {
	payload := slices.Concat(site[:], seed[:], box[:])
	h := sha256.New()
	h.Write([]byte("siegel/code/v1"))
	h.Write(payload)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(append(payload, h.Sum(nil)[:4]...))
	var groups []string
	for i := 0; i < len(s); i += 5 {
		groups = append(groups, s[i:min(i+5, len(s))])
	}
	return "SIEGEL1-" + strings.Join(groups, "-")
}

// corruptCode changes one character of the code's body (keeping the alphabet):
// the checksum no longer matches.
func corruptCode(code string) string {
	b := []byte(code)
	for i := len(b) / 2; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] = 'A' + (b[i]-'A'+1)%26
			return string(b)
		}
	}
	return code + "A"
}
