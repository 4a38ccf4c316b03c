//go:build js

package main

import (
	"errors"
	"strconv"

	"siegel/shared/content"
	"siegel/widget/i18n"
	"siegel/widget/jsbridge"
	"siegel/widget/visitor"
)

// The "My data" panel: view, correct, export, the conversation code, delete
// and the privacy link. In the chat it is a dialog over the messages (opened
// from the header); on the rights page it is part of the page. Every text is
// set with textContent. The DOM is built with the small helpers below rather
// than with option closures: in WebAssembly every call site costs.

type el = jsbridge.Element

// panel is the "My data" panel over a Chat.
type panel struct {
	a     *app
	s     *i18n.Strings
	modal bool // a dialog over the chat (not the rights page)

	root, title, status                     el
	loading, offline                        el
	msgList, msgEmpty                       el
	dataList, dataEmpty                     el
	consentList, consentEmpty               el
	codeBox                                 el
	delBtn, confirmBox, confirmBtn, cancelB el

	editKey  string // the data entry being corrected ("" none)
	dirty    bool   // the view changed while an entry was being corrected
	deleting bool   // the visitor confirmed the deletion
}

// localZone is the browser's time zone.
var localZone visitor.Zone = jsbridge.ZoneOffset

// mk creates an element with a class, a test ID and a text (each may be
// ""), and further attributes as name, value pairs.
func mk(tag, class, testid, text string, attrs ...string) el {
	e := jsbridge.Create(tag)
	if class != "" {
		e.SetAttr("class", class)
	}
	if testid != "" {
		e.SetAttr("data-testid", testid)
	}
	if text != "" {
		e.SetText(text)
	}
	return set(e, attrs...)
}

// set sets attributes given as name, value pairs.
func set(e el, attrs ...string) el {
	for i := 0; i+1 < len(attrs); i += 2 {
		e.SetAttr(attrs[i], attrs[i+1])
	}
	return e
}

// button creates a button of type "button".
func button(class, testid, text string, attrs ...string) el {
	return set(mk("button", class, testid, text, attrs...), "type", "button")
}

// kids appends children and returns e.
func kids(e el, children ...el) el { return e.Append(children...) }

func setHidden(e el, hidden bool) { e.SetProp("hidden", hidden) }

// setData sets an attribute, or removes it for "".
func setData(e el, name, value string) {
	if value == "" {
		e.RemoveAttr(name)
	} else {
		e.SetAttr(name, value)
	}
}

func flag(on bool) string {
	if on {
		return "true"
	}
	return ""
}

func (p *panel) on(e el, f func()) { e.On("click", func(jsbridge.Event) { f() }) }

// newPanel builds the panel. The caller places p.root.
func newPanel(a *app, modal bool) *panel {
	s := a.s
	p := &panel{a: a, s: s, modal: modal}
	const sec, note = "siegel-panel-section", "siegel-panel-note"
	row := func(children ...el) el { return kids(mk("div", "siegel-panel-row", "", ""), children...) }
	btn := func(testid, text string) el { return button("siegel-panel-btn", testid, text) }

	p.title = mk("h2", "siegel-panel-title", "", s.MyData, "id", "siegel-mydata-title", "tabindex", "-1")
	p.status = mk("p", "siegel-panel-status", "siegel-mydata-status", "", "role", "status", "aria-live", "polite",
		"aria-label", s.MyDataStatus)
	head := kids(mk("div", "siegel-panel-head", "", ""), p.title)
	if modal {
		closeBtn := button("siegel-panel-close", "siegel-mydata-close", "×", "aria-label", s.MyDataClose,
			"title", s.MyDataClose)
		p.on(closeBtn, func() { a.closePanel(true) })
		head.Append(closeBtn)
	}
	p.loading = mk("p", note, "siegel-view-loading", s.ViewLoading)
	p.offline = mk("p", note, "", s.ViewOffline)
	p.msgList = mk("ol", "siegel-view-list", "siegel-view-messages", "", "aria-labelledby", "siegel-view-h")
	p.msgEmpty = mk("p", note, "", s.ViewEmpty)
	p.dataList = mk("ul", "siegel-data-list", "siegel-data", "", "aria-labelledby", "siegel-data-h")
	p.dataEmpty = mk("p", note, "", s.DataEmpty)
	p.consentList = mk("ul", "siegel-consent-list", "siegel-consents", "", "aria-labelledby", "siegel-consents-h")
	p.consentEmpty = mk("p", note, "", s.ConsentsEmpty)
	view := kids(mk("section", sec, "siegel-view", "", "aria-labelledby", "siegel-data-h"),
		p.loading, p.offline,
		mk("h3", "", "", s.DataTitle, "id", "siegel-data-h", "tabindex", "-1"), p.dataEmpty, p.dataList,
		mk("h3", "", "", s.ConsentsTitle, "id", "siegel-consents-h"), p.consentEmpty, p.consentList,
		mk("h3", "", "", s.ViewTitle, "id", "siegel-view-h"), p.msgEmpty, p.msgList)
	jsonBtn, htmlBtn := btn("siegel-export-json", s.ExportJSON), btn("siegel-export-html", s.ExportHTML)
	p.on(jsonBtn, func() { p.export(true) })
	p.on(htmlBtn, func() { p.export(false) })
	export := kids(mk("section", sec, "", "", "aria-labelledby", "siegel-export-h"),
		mk("h3", "", "", s.ExportTitle, "id", "siegel-export-h"), mk("p", note, "", s.ExportHint), row(jsonBtn, htmlBtn))
	p.codeBox = mk("textarea", "siegel-code", "siegel-code", "", "id", "siegel-code", "readonly", "", "rows", "4",
		"spellcheck", "false", "autocomplete", "off", "aria-describedby", "siegel-code-warning")
	copyBtn := btn("siegel-code-copy", s.CodeCopy)
	p.on(copyBtn, p.copyCode)
	p.codeBox.On("focus", func(jsbridge.Event) { jsbridge.SelectText(p.codeBox) })
	code := kids(mk("section", sec, "", "", "aria-labelledby", "siegel-code-h"),
		mk("h3", "", "", s.CodeTitle, "id", "siegel-code-h"), mk("p", note, "", s.CodeHint),
		mk("p", "siegel-warning", "siegel-code-warning", s.CodeWarning, "id", "siegel-code-warning"),
		mk("label", "siegel-sr", "", s.CodeLabel, "for", "siegel-code"),
		p.codeBox, row(copyBtn))
	const danger = "siegel-panel-btn siegel-danger"
	p.delBtn = button(danger, "siegel-delete", s.Delete, "aria-expanded", "false", "aria-controls", "siegel-delete-box")
	p.confirmBtn = button(danger, "siegel-delete-confirm", s.DeleteConfirm)
	p.cancelB = btn("siegel-delete-cancel", s.DeleteCancel)
	p.confirmBox = kids(mk("div", "siegel-confirm", "siegel-delete-box", "", "id", "siegel-delete-box", "role", "group",
		"aria-labelledby", "siegel-delete-h", "aria-describedby", "siegel-delete-warning", "tabindex", "-1"),
		mk("p", "siegel-warning", "siegel-delete-warning", s.DeleteWarning, "id", "siegel-delete-warning"),
		row(p.confirmBtn, p.cancelB))
	setHidden(p.confirmBox, true)
	p.on(p.delBtn, p.askDelete)
	p.on(p.cancelB, p.cancelDelete)
	p.on(p.confirmBtn, p.confirmDelete)
	del := kids(mk("section", sec, "", "", "aria-labelledby", "siegel-delete-h"),
		mk("h3", "", "", s.DeleteTitle, "id", "siegel-delete-h"), mk("p", note, "", s.DeleteHint), row(p.delBtn),
		p.confirmBox)
	body := kids(mk("div", "siegel-panel-body", "", ""), mk("p", "siegel-panel-intro", "", s.MyDataIntro),
		view, export, code, del)
	if u := a.privacyURL(); u != "" {
		link := kids(mk("a", "siegel-privacy", "siegel-mydata-privacy", "", "href", u, "target", "_blank",
			"rel", "noopener noreferrer"), mk("span", "", "", s.PrivacyLink), mk("span", "siegel-sr", "", s.NewTab))
		body.Append(kids(mk("p", "siegel-panel-privacy", "", ""), link))
	}
	p.root = kids(mk("section", "siegel-panel", "siegel-mydata-panel", "", "id", "siegel-mydata-panel",
		"aria-labelledby", "siegel-mydata-title"), head, p.status, body)
	if modal {
		set(p.root, "role", "dialog", "aria-modal", "true", "class", "siegel-panel siegel-panel--modal")
		setHidden(p.root, true)
	}
	return p
}

// setStatus shows a message in the panel's status line.
func (p *panel) setStatus(text string) { p.status.SetText(text) }

// opened prepares the panel for showing: the code, the current view.
func (p *panel) opened() {
	p.editKey, p.dirty = "", false
	p.cancelDelete()
	p.setStatus("")
	code := p.a.code()
	p.codeBox.SetText(code)
	p.codeBox.SetValue(code)
	p.render()
}

// render rebuilds the lists from the chat's view (deferred while an entry is
// being corrected, so that the field is not replaced under the visitor).
func (p *panel) render() {
	chat := p.a.chat
	if chat == nil {
		return
	}
	if p.editKey != "" {
		p.dirty = true
		return
	}
	p.dirty = false
	v := chat.MyData()
	setHidden(p.loading, !v.Loading || !p.a.online())
	setHidden(p.offline, !v.Loading || p.a.online())
	p.root.SetAttr("aria-busy", strconv.FormatBool(v.Loading))
	p.msgList.Clear()
	p.dataList.Clear()
	p.consentList.Clear()
	for i := range v.Entries {
		p.msgList.Append(p.msgItem(&v.Entries[i]))
	}
	for i := range v.Data {
		p.dataList.Append(p.dataItem(&v.Data[i]))
	}
	for i := range v.Consents {
		p.consentList.Append(p.consentItem(&v.Consents[i]))
	}
	setHidden(p.msgEmpty, len(v.Entries) > 0 || v.Loading)
	setHidden(p.dataEmpty, len(v.Data) > 0 || v.Loading)
	setHidden(p.consentEmpty, len(v.Consents) > 0 || v.Loading)
	setHidden(p.msgList, len(v.Entries) == 0)
	setHidden(p.dataList, len(v.Data) == 0)
	setHidden(p.consentList, len(v.Consents) == 0)
}

func entryKey(e *visitor.Entry) string {
	if e.Where == visitor.WhereBrowser {
		return "b" + strconv.Itoa(e.Index)
	}
	return "r" + strconv.FormatUint(e.Pos, 10)
}

// item creates a list item for an entry: its test ID, where it is stored,
// its position, and its markers as text (class cls) after the content.
func (p *panel) item(class, testid string, e *visitor.Entry) el {
	li := mk("li", class, testid, "", "data-stored", e.Where.String())
	if e.Where == visitor.WhereRelay && e.Pos > 0 {
		li.SetAttr("data-pos", strconv.FormatUint(e.Pos, 10))
	}
	setData(li, "data-corrected", flag(e.Corrected))
	return li
}

func (p *panel) msgItem(e *visitor.Entry) el {
	l := visitor.LineOf(p.s, e)
	meta := l.Who
	if t := visitor.FormatTime(p.s, e.Time, localZone); t != "" {
		meta += " · " + t
	}
	body := l.Text
	if l.Field != "" {
		body = l.Field + ": " + body
	}
	li := kids(set(p.item("siegel-view-msg", "siegel-view-msg", e), "data-from", e.From.String(),
		"data-type", typeName(e.Type)), mk("p", "siegel-view-meta", "", meta), mk("p", "siegel-view-text", "", body))
	if m := visitor.Marks(p.s, e); m != "" {
		li.Append(mk("p", "siegel-view-marks", "", m))
	}
	return li
}

func typeName(t content.Type) string {
	switch t {
	case content.TypeBot:
		return "bot"
	case content.TypeAnswer:
		return "answer"
	case content.TypeConsent:
		return "consent"
	case content.TypeHandoff:
		return "handoff"
	}
	return "text"
}

func (p *panel) dataItem(e *visitor.Entry) el {
	s := p.s
	li := kids(set(p.item("siegel-data-item", "siegel-data-item", e), "data-variable", e.Answer.Variable),
		mk("span", "siegel-data-field", "", e.Answer.Variable+": "),
		mk("span", "siegel-data-value", "siegel-data-value", e.Answer.Value))
	setData(li, "data-personal", flag(e.Answer.Personal))
	if m := visitor.Marks(s, e); m != "" {
		li.Append(mk("span", "siegel-data-marks", "", " ("+m+")"))
	}
	if !e.Correctable() {
		return li
	}
	entry := *e
	btn := button("siegel-link-btn", "siegel-correct", s.Correct, "aria-label", s.Correct+": "+e.Answer.Variable)
	p.on(btn, func() { p.edit(li, btn, entry) })
	li.Append(btn)
	return li
}

func (p *panel) consentItem(e *visitor.Entry) el {
	c := &e.Consent
	d, words := "declined", p.s.ConsentDeclined
	if c.Accepted {
		d, words = "accepted", p.s.ConsentAccepted
	}
	if t := visitor.FormatTime(p.s, c.Time, localZone); t != "" {
		words += " · " + t
	}
	li := set(p.item("siegel-consent-item", "siegel-consent-item", e), "data-decision", d,
		"data-flow-version", strconv.FormatUint(uint64(c.FlowVersion), 10))
	return li.SetText(words)
}

// fieldType is the input type for correcting an answer of the given kind.
func fieldType(k content.InputKind) (typ, mode string) {
	switch k {
	case content.InputEmail:
		return "email", "email"
	case content.InputPhone:
		return "tel", "tel"
	case content.InputNumber:
		return "text", "decimal"
	case content.InputDate:
		return "date", "numeric"
	}
	return "text", "text"
}

// edit opens the correction field of a data entry in place of its button.
func (p *panel) edit(li, btn el, e visitor.Entry) {
	s := p.s
	if p.editKey != "" {
		return
	}
	p.editKey = entryKey(&e)
	typ, mode := fieldType(e.Answer.Kind)
	input := mk("input", "siegel-correct-input", "siegel-correct-input", "", "id", "siegel-correct-input",
		"type", typ, "autocomplete", "off", "aria-describedby", "siegel-correct-error", "aria-required", "true",
		"inputmode", mode).SetValue(e.Answer.Value)
	problem := mk("p", "siegel-ask-error", "siegel-correct-error", "", "id", "siegel-correct-error", "role", "alert")
	save := mk("button", "siegel-panel-btn", "siegel-correct-save", s.CorrectSave, "type", "submit")
	cancel := button("siegel-panel-btn", "siegel-correct-cancel", s.CorrectCancel)
	form := kids(mk("form", "siegel-correct-form", "siegel-correct-form", "", "novalidate", ""),
		mk("label", "", "", s.CorrectLabel+" "+e.Answer.Variable, "for", "siegel-correct-input"),
		kids(mk("div", "siegel-row", "", ""), input, save, cancel), problem)
	done := func() {
		p.editKey = ""
		form.Remove()
		setHidden(btn, false)
		if p.dirty {
			p.render()
		}
		p.focusData(e.Answer.Variable, btn)
	}
	form.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		u, r, err := p.a.chat.Correct(e, input.Value())
		switch {
		case errors.Is(err, visitor.ErrInvalid), errors.Is(err, visitor.ErrUnchanged):
			if r.Problem == "" {
				r.Problem = s.Unchanged
			}
			input.SetAttr("aria-invalid", "true")
			problem.SetText(r.Problem)
			input.Focus()
			return
		case err != nil:
			p.setStatus(s.CorrectFailed)
			done()
			return
		}
		if !r.Local {
			p.setStatus(s.CorrectSending)
		}
		p.dirty = true
		done()
		p.a.update(u, ctlNone)
	})
	p.on(cancel, done)
	form.On("keydown", func(ev jsbridge.Event) {
		if ev.Key() == "Escape" {
			ev.StopPropagation()
			done()
		}
	})
	setHidden(btn, true)
	li.Append(form)
	input.Focus()
	jsbridge.SelectText(input)
}

// focusData moves the focus to the correct button of the data entry with the
// variable (its element is new after a re-render), else to fallback.
func (p *panel) focusData(variable string, fallback el) {
	for it := p.dataList.First(); it.Valid(); it = it.Next() {
		if v, _ := it.Attr("data-variable"); v == variable {
			if b := it.Find("[data-testid=siegel-correct]"); b.Valid() {
				b.Focus()
				return
			}
		}
	}
	if fallback.Parent().Valid() {
		fallback.Focus()
	}
}

// results shows what became of the visitor's requests.
func (p *panel) results(rs []visitor.Result) {
	for _, r := range rs {
		switch r.Outcome {
		case visitor.OutcomeCorrected:
			p.setStatus(p.s.CorrectDone)
		case visitor.OutcomeCorrectFailed:
			p.setStatus(p.s.CorrectFailed)
		case visitor.OutcomeDeleteFailed:
			p.deleting = false
			p.confirmBtn.SetProp("disabled", false)
			p.cancelB.SetProp("disabled", false)
			p.setStatus(p.s.DeleteFailed)
		}
	}
}

func (p *panel) export(asJSON bool) {
	chat := p.a.chat
	if chat == nil {
		return
	}
	v := chat.MyData()
	if v.Loading {
		p.setStatus(p.s.ViewLoading)
		p.a.connect()
		return
	}
	x := &visitor.Export{Site: p.a.site, Conv: p.a.sess.Conv(), At: jsbridge.Now(), View: v}
	name, mime := x.FileName("html"), "text/html;charset=utf-8"
	var text string
	if asJSON {
		name, mime, text = x.FileName("json"), "application/json", visitor.ExportJSON(x)
	} else {
		text = visitor.ExportHTML(x, p.s, localZone)
	}
	msg := p.s.ExportDone
	if jsbridge.DownloadText(name, mime, text) != nil {
		msg = p.s.ExportFailed
	}
	p.setStatus(msg)
}

func (p *panel) copyCode() {
	jsbridge.CopyText(p.a.code(), p.codeBox, func(ok bool) {
		msg := p.s.CodeCopyFailed
		if ok {
			msg = p.s.CodeCopied
		}
		p.setStatus(msg)
	})
}

func (p *panel) askDelete() {
	setHidden(p.confirmBox, false)
	p.delBtn.SetAttr("aria-expanded", "true")
	p.confirmBox.Focus()
}

func (p *panel) cancelDelete() {
	if p.deleting {
		return
	}
	wasOpen := !p.confirmBox.BoolProp("hidden")
	setHidden(p.confirmBox, true)
	p.delBtn.SetAttr("aria-expanded", "false")
	if wasOpen && p.root.Contains(jsbridge.Active()) {
		p.delBtn.Focus()
	}
}

func (p *panel) confirmDelete() {
	if p.deleting || p.a.chat == nil {
		return
	}
	u, err := p.a.chat.Delete()
	if err != nil {
		p.setStatus(p.s.DeleteFailed)
		return
	}
	p.deleting = true
	p.confirmBtn.SetProp("disabled", true)
	p.cancelB.SetProp("disabled", true)
	p.setStatus(p.s.Deleting)
	p.a.update(u, ctlNone)
}
