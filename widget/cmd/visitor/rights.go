//go:build js

package main

import (
	"errors"
	"strings"

	"siegel/shared/envelope"
	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/widget/i18n"
	"siegel/widget/jsbridge"
	"siegel/widget/session"
	"siegel/widget/visitor"
)

// rightsUI is the part of the app for the visitor's rights: the "My data"
// menu of the chat, the screen after an erasure, and the rights page (the
// same program, #siegel-root data-mode="rights"), where a conversation code
// opens the conversation from another device.
type rightsUI struct {
	rights  bool       // this is the rights page
	flow    *flow.Flow // the site's flow (validation of corrections), or nil
	privacy string     // the site's privacy-policy URL from the page, or ""
	panel   *panel

	myDataBtn  el // the header button that opens the panel
	deletedBox el // shown after an erasure
	restartBtn el

	// The rights page.
	codeInput, openBtn, rightsErr, rightsStatus, panelHost, forgetBtn el
	shown                                                             bool // the panel shows a conversation
}

// setupRights wires the chat for corrections after setup.
func (a *app) setupRights(f *flow.Flow, privacy string) {
	a.flow, a.privacy = f, privacy
	a.chat.SetCompiler(compileRegExp)
	a.chat.SetClock(jsbridge.Now)
	if f != nil && a.chat.Bot() == nil {
		a.chat.SetFlow(f, visitor.PickLang(f, jsbridge.Languages()))
	}
}

func (a *app) privacyURL() string {
	lang := a.s.Lang.Tag()
	if a.chat != nil && a.chat.Bot() != nil {
		lang = a.chat.Bot().Lang()
	}
	return visitor.PrivacyURL(a.privacy, a.flow, lang)
}

// code is the conversation code of the open conversation.
func (a *app) code() string {
	if a.id == nil {
		return ""
	}
	return visitor.Code{Site: a.site, Seed: a.id.Seed(), BoxPriv: a.id.BoxPrivate()}.String()
}

// online reports whether a connection is open or opening.
func (a *app) online() bool { return a.ws != nil }

// buildMyData adds the header button and the panel to the chat.
func (a *app) buildMyData(header, closeBtn el) {
	a.myDataBtn = button("siegel-mydata", "siegel-mydata", a.s.MyData, "aria-haspopup", "dialog",
		"aria-expanded", "false", "aria-controls", "siegel-mydata-panel")
	a.myDataBtn.On("click", func(jsbridge.Event) {
		if a.panelOpen() {
			a.closePanel(true)
		} else {
			a.openPanel()
		}
	})
	header.InsertBefore(a.myDataBtn, closeBtn)
	if a.chat == nil {
		setHidden(a.myDataBtn, true) // the chat is not set up: nothing to show
		return
	}
	a.panel = newPanel(a, true)
	a.root.Append(a.panel.root)
}

func (a *app) panelOpen() bool {
	return a.panel != nil && a.panel.modal && !a.panel.root.BoolProp("hidden")
}

// composer returns the chat's form.
func (a *app) composer() el { return a.root.Find("form.siegel-composer") }

// cover makes the chat behind the panel inert (no focus, hidden from
// assistive technology) or live again.
func (a *app) cover(on bool) {
	for _, e := range []el{a.alert, a.log, a.actions, a.composer()} {
		if e.Valid() {
			e.SetProp("inert", on)
		}
	}
}

func (a *app) openPanel() {
	if a.panel == nil || a.chat == nil {
		return
	}
	a.panel.opened()
	setHidden(a.panel.root, false)
	a.myDataBtn.SetAttr("aria-expanded", "true")
	a.root.AddClass("siegel--mydata")
	a.cover(true)
	a.panel.title.Focus()
	if a.chat.Shared() && a.ws == nil {
		a.connect() // the view comes from the relay's copy
		a.panel.render()
	}
}

// closePanel hides the panel; with focus the focus returns to its button.
func (a *app) closePanel(focus bool) {
	if !a.panelOpen() {
		return
	}
	setHidden(a.panel.root, true)
	a.myDataBtn.SetAttr("aria-expanded", "false")
	a.root.RemoveClass("siegel--mydata")
	a.cover(false)
	if focus {
		a.myDataBtn.Focus()
	}
}

// myDataUpdate shows an update in the panel; it reports whether the
// conversation was erased (then everything was wiped and nothing may be saved).
func (a *app) myDataUpdate(u visitor.Update) bool {
	if a.panel != nil {
		if u.Data && a.panelOpen() {
			a.panel.render()
		}
		a.panel.results(u.Results)
	}
	for _, r := range u.Results {
		if r.Outcome == visitor.OutcomeErased {
			a.wipe(a.panel != nil && a.panel.deleting)
			return true
		}
	}
	return false
}

// drop ends the connection and forgets the conversation's keys and state.
func (a *app) drop() {
	if a.ws != nil {
		ws := a.ws
		a.ws = nil
		ws.Close()
	}
	a.timer.Stop()
	a.timer = nil
	a.later.Stop()
	a.later = nil
	a.chat, a.sess, a.id = nil, nil, nil
	a.model = visitor.NewBotModel(a.s)
	a.saved = ""
	if a.panel != nil {
		a.panel.root.Remove()
		a.panel = nil
	}
}

// wipe removes every trace of the erased conversation from the browser: the
// stored record, the keys, the session, the chat and its DOM. own tells
// whether the visitor asked for it here.
func (a *app) wipe(own bool) {
	jsbridge.StorageRemove(a.key)
	a.closePanel(false)
	a.drop()
	a.msgs = map[int]msgView{}
	a.log.Clear()
	a.actions.Clear()
	a.alert.SetText("")
	a.input.SetValue("")
	a.hint.SetText("")
	a.field, a.fieldError, a.focusEl = el{}, el{}, el{}
	for _, e := range []el{a.alert, a.log, a.actions, a.composer(), a.myDataBtn} {
		setHidden(e, true)
	}
	msg := a.s.DeletedElsewhere
	if own {
		msg = a.s.Deleted
	}
	a.restartBtn = button("siegel-panel-btn", "siegel-restart", a.s.Restart)
	a.restartBtn.On("click", func(jsbridge.Event) { a.restart() })
	a.deletedBox = kids(mk("div", "siegel-deleted", "", ""),
		mk("p", "siegel-deleted-text", "siegel-deleted", msg, "role", "status"), a.restartBtn)
	a.root.Append(a.deletedBox)
	a.status.SetText(a.s.StatusIdle)
	a.focusEl = a.restartBtn
	a.restartBtn.Focus()
}

// restart begins a fresh conversation in place after an erasure.
func (a *app) restart() {
	if a.deletedBox.Valid() {
		a.deletedBox.Remove()
	}
	a.deletedBox, a.restartBtn, a.focusEl = el{}, el{}, el{}
	for _, e := range []el{a.alert, a.log, a.actions, a.composer(), a.myDataBtn} {
		setHidden(e, false)
	}
	a.stopped, a.warned, a.attempt, a.pending = false, false, 0, false
	a.input.SetProp("disabled", false)
	a.send.SetProp("disabled", false)
	if err := a.setup(); err != nil {
		a.model = visitor.NewModel(a.s)
		a.render(visitor.Changes{Alert: a.model.SetAlert(a.s.AlertSetup, true)})
		a.disable()
		return
	}
	if bot := a.chat.Bot(); bot != nil {
		a.model.SetStrings(i18n.For(i18n.Choose([]string{bot.Lang()})))
	}
	a.panel = newPanel(a, true)
	a.root.Append(a.panel.root)
	a.render(visitor.Changes{Messages: a.model.Messages(), Status: true, Alert: true})
	a.save()
	a.update(a.chat.Begin(), ctlNone)
	if !a.focusEl.Valid() {
		a.input.Focus()
	}
}

// ---- the rights page ----

// runRights builds the rights page: a field for the conversation code; a
// valid code opens the conversation (Hello with the keys from the code, which
// are never stored) and shows the same panel as the chat's "My data" menu.
func (a *app) runRights() {
	a.rights = true
	s := a.s
	jsbridge.Root().SetAttr("lang", s.Lang.Tag())
	data := func(name string) string { v, _ := a.root.Attr("data-" + name); return strings.TrimSpace(v) }
	setupErr := a.rightsSetup(data)

	a.codeInput = mk("input", "siegel-rights-input", "rights-code", "", "id", "rights-code", "type", "text",
		"autocomplete", "off", "autocapitalize", "characters", "spellcheck", "false",
		"aria-describedby", "rights-error", "aria-required", "true")
	a.openBtn = mk("button", "siegel-panel-btn", "rights-open", s.RightsOpen, "type", "submit")
	a.rightsErr = mk("p", "siegel-ask-error", "rights-error", "", "id", "rights-error", "role", "alert")
	a.rightsStatus = mk("p", "siegel-panel-note", "rights-status", "", "role", "status")
	form := kids(mk("form", "siegel-rights-form", "rights-form", "", "novalidate", ""),
		mk("label", "", "", s.RightsCodeLabel, "for", "rights-code"),
		kids(mk("div", "siegel-row", "", ""), a.codeInput, a.openBtn), a.rightsErr, a.rightsStatus)
	form.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		a.openCode(a.codeInput.Value())
	})
	a.forgetBtn = button("siegel-panel-btn", "rights-close", s.RightsClose)
	a.forgetBtn.On("click", func(jsbridge.Event) { a.closeCode("") })
	setHidden(a.forgetBtn, true)
	a.panelHost = mk("div", "siegel-rights-panel", "", "")
	a.root.Clear()
	a.root.AddClass("siegel")
	a.root.AddClass("siegel--page")
	a.root.Append(kids(mk("main", "siegel-rights", "", ""), mk("h1", "siegel-rights-title", "", s.MyData),
		mk("p", "", "", s.RightsIntro), form, a.panelHost, a.forgetBtn))
	if setupErr != nil {
		a.rightsErr.SetText(s.AlertSetup)
		a.codeInput.SetProp("disabled", true)
		a.openBtn.SetProp("disabled", true)
	} else {
		a.codeInput.Focus()
	}
	a.root.SetAttr("data-ready", "true")
}

func (a *app) rightsSetup(data func(string) string) error {
	var err error
	if a.site, err = ids.ParseSiteID(data("site")); err != nil {
		return err
	}
	if a.owner, err = ids.ParseFingerprint(data("owner")); err != nil {
		return err
	}
	a.relay = strings.TrimRight(data("relay"), "/")
	if !strings.HasPrefix(a.relay, "ws://") && !strings.HasPrefix(a.relay, "wss://") {
		return errSetup
	}
	a.flow, _, _ = visitor.LoadFlow(data("flow"), data("flow-revision"))
	a.privacy = data("privacy")
	return nil
}

// openCode opens the conversation of a code.
func (a *app) openCode(text string) {
	s := a.s
	if a.chat != nil {
		return
	}
	a.rightsErr.SetText("")
	a.rightsStatus.SetText("")
	if a.deletedBox.Valid() {
		a.deletedBox.Remove()
		a.deletedBox = el{}
	}
	c, err := visitor.ParseCode(text)
	switch {
	case errors.Is(err, visitor.ErrCodeChecksum):
		a.codeError(s.RightsChecksum)
		return
	case errors.Is(err, visitor.ErrCodeVersion):
		a.codeError(s.RightsVersion)
		return
	case err != nil:
		a.codeError(s.RightsBadCode)
		return
	case c.Site != a.site:
		a.codeError(s.RightsOtherSite)
		return
	}
	id, err := envelope.IdentityFromKeys(c.Seed, c.BoxPriv)
	clear(c.Seed[:])
	clear(c.BoxPriv[:])
	if err != nil {
		a.codeError(s.RightsBadCode)
		return
	}
	sess, err := session.New(session.Config{Role: protocol.RoleVisitor, Site: a.site, Owner: a.owner, Identity: id,
		Rand: jsbridge.Random, Now: jsbridge.Now})
	if err != nil {
		a.codeError(s.RightsBadCode)
		return
	}
	a.codeInput.RemoveAttr("aria-invalid")
	a.codeInput.SetValue("") // the code lives on only as the keys in memory
	a.codeInput.SetProp("disabled", true)
	a.openBtn.SetProp("disabled", true)
	a.id, a.sess = id, sess
	a.chat = visitor.NewChat(s, sess, nil)
	a.model = a.chat.Model()
	a.chat.SetRemote()
	a.setupRights(a.flow, a.privacy)
	a.panel = newPanel(a, false)
	setHidden(a.panel.root, true)
	a.panelHost.Append(a.panel.root)
	a.shown, a.attempt = false, 0
	a.rightsStatus.SetText(s.RightsOpening)
	u := a.chat.Begin()
	u.Connect = true
	a.update(u, ctlNone)
}

func (a *app) codeError(msg string) {
	a.rightsErr.SetText(msg)
	a.codeInput.SetAttr("aria-invalid", "true")
	a.codeInput.Focus()
}

// closeCode forgets the open conversation and shows the code field again,
// with msg as an error ("" none).
func (a *app) closeCode(msg string) {
	a.drop()
	a.shown = false
	setHidden(a.forgetBtn, true)
	a.rightsStatus.SetText("")
	a.rightsErr.SetText(msg)
	a.codeInput.SetProp("disabled", false)
	a.openBtn.SetProp("disabled", false)
	a.codeInput.Focus()
}

// updateRights shows an update on the rights page.
func (a *app) updateRights(u visitor.Update) {
	if a.chat == nil {
		return
	}
	for _, r := range u.Results {
		if r.Outcome != visitor.OutcomeErased {
			continue
		}
		if a.panel != nil && a.panel.deleting {
			a.closeCode("")
			a.showRightsDeleted()
		} else {
			a.closeCode(a.s.RightsGone)
		}
		return
	}
	if a.panel != nil {
		if !a.shown && !a.chat.MyData().Loading {
			a.shown = true
			a.panel.opened()
			setHidden(a.panel.root, false)
			setHidden(a.forgetBtn, false)
			a.rightsStatus.SetText("")
			a.panel.title.Focus()
		} else if u.Data && a.shown {
			a.panel.render()
		}
		a.panel.results(u.Results)
	}
	if u.Alert {
		if t := a.model.Alert(); t != "" {
			a.rightsStatus.SetText(t)
		}
	}
	if a.sess != nil && a.sess.Stopped() && !a.shown {
		a.closeCode(a.s.RightsFailed)
		return
	}
	if u.Connect && a.timer == nil {
		a.connect()
	}
}

// showRightsDeleted tells that the conversation opened with the code was
// erased.
func (a *app) showRightsDeleted() {
	if a.deletedBox.Valid() {
		a.deletedBox.Remove()
	}
	a.deletedBox = mk("p", "siegel-deleted-text", "siegel-deleted", a.s.Deleted, "role", "status")
	a.panelHost.Append(a.deletedBox)
}
