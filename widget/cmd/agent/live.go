//go:build js

package main

import (
	"strconv"

	"siegel/widget/agent"
	"siegel/widget/jsbridge"
)

// ---- creating a key ----

// genField is one input of the key generation form with its error line.
type genField struct {
	input, err el
	shown      string
}

func (v *view) newGenField(id, label, kind, autocomplete, hint string) (*genField, el) {
	f := &genField{}
	desc := "sa-gen-" + id + "-err"
	f.input = E("input", Attr("type", kind), Attr("id", "sa-gen-"+id), tid("agent-gen-"+id),
		Attr("autocomplete", autocomplete), Attr("required", ""))
	f.err = E("p", Class("sa-field-error"), Attr("id", desc), tid("agent-gen-"+id+"-error"))
	setHidden(f.err, true)
	row := E("div", Class("sa-field"), Kids(E("label", Attr("for", "sa-gen-"+id), Text(label)), f.input))
	if hint != "" {
		row.Append(E("p", Class("sa-hint"), Attr("id", "sa-gen-"+id+"-hint"), Text(hint)))
		desc = "sa-gen-" + id + "-hint " + desc
	}
	f.input.SetAttr("aria-describedby", desc)
	row.Append(f.err)
	return f, row
}

func (f *genField) setError(msg string) {
	if msg == f.shown {
		return
	}
	f.shown = msg
	f.err.SetText(msg)
	setHidden(f.err, msg == "")
	if msg != "" {
		f.input.SetAttr("aria-invalid", "true")
	} else {
		f.input.RemoveAttr("aria-invalid")
	}
}

func (v *view) buildGenerate() el {
	t, a := v.t, v.app
	site, owner := a.NewKeyDefaults()
	var nameRow, siteRow, ownerRow, passRow, pass2Row el
	v.gen.name, nameRow = v.newGenField("name", t.AgentName, "text", "name", "")
	v.gen.site, siteRow = v.newGenField("site", t.SiteField, "text", "off", "")
	v.gen.owner, ownerRow = v.newGenField("owner", t.OwnerField, "text", "off", t.OwnerHint)
	v.gen.pass, passRow = v.newGenField("pass", t.NewPass, "password", "new-password", t.NewPassHint)
	v.gen.pass2, pass2Row = v.newGenField("pass2", t.NewPassAgain, "password", "new-password", "")
	v.gen.name.input.SetAttr("maxlength", "64")
	v.gen.pass.input.SetAttr("minlength", strconv.Itoa(agent.MinPassphrase))
	v.gen.site.input.SetValue(site)
	v.gen.owner.input.SetValue(owner)
	v.gen.submit = E("button", Attr("type", "submit"), tid("agent-gen-submit"), Text(t.Create))
	v.gen.cancel = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-gen-cancel"), Text(t.Cancel))
	v.gen.busy = E("p", Class("sa-busy"), Attr("role", "status"), tid("agent-gen-busy"), Text(t.Generating))
	form := E("form", Attr("novalidate", ""), Kids(nameRow, siteRow, ownerRow, passRow, pass2Row,
		E("div", Class("sa-row"), Kids(v.gen.submit, v.gen.cancel)), v.gen.busy))
	form.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		a.Generate(agent.NewKey{Name: v.gen.name.input.Value(), Site: v.gen.site.input.Value(),
			Owner: v.gen.owner.input.Value(), Pass: v.gen.pass.input.Value(), Pass2: v.gen.pass2.input.Value()})
		v.focusGenError = true
	})
	v.gen.cancel.On("click", func(jsbridge.Event) { a.CancelGenerate() })
	form.On("keydown", func(ev jsbridge.Event) {
		if ev.Key() == "Escape" && a.Phase() == agent.PhaseGenerate {
			a.CancelGenerate()
		}
	})
	jsbridge.AfterFunc(0, func() { v.gen.name.input.Focus() })
	return E("section", Class("sa-unlock", "sa-generate"), Attr("aria-labelledby", "sa-gen-h"), tid("agent-gen-form"), Kids(
		E("h2", Attr("id", "sa-gen-h"), Text(t.GenerateTitle)),
		E("p", Class("sa-hint"), Text(t.GenerateHint)),
		form))
}

func (v *view) renderGenerate() {
	a := v.app
	busy := a.Phase() == agent.PhaseGenerating
	setHidden(v.gen.busy, !busy)
	fields := []*genField{v.gen.name, v.gen.site, v.gen.owner, v.gen.pass, v.gen.pass2}
	for _, f := range fields {
		f.input.SetProp("disabled", busy)
	}
	v.gen.submit.SetProp("disabled", busy)
	v.gen.cancel.SetProp("disabled", busy)
	e := a.KeyErrors()
	msgs := []string{e.Name, e.Site, e.Owner, e.Pass, e.Pass2}
	for i, f := range fields {
		f.setError(msgs[i])
	}
	if v.focusGenError {
		v.focusGenError = false
		for i, f := range fields {
			if msgs[i] != "" {
				f.input.Focus()
				break
			}
		}
	}
}

// ---- the public line ----

func (v *view) buildPub() el {
	t, a := v.t, v.app
	v.pubLine = E("textarea", Attr("id", "sa-publine"), tid("agent-publine"), Attr("readonly", ""),
		Attr("rows", "3"), Attr("spellcheck", "false"), Attr("aria-describedby", "sa-pub-hint"))
	v.pubCopy = E("button", Attr("type", "button"), tid("agent-publine-copy"), Text(t.Copy))
	v.pubStatus = E("span", Class("sa-hint"), Attr("role", "status"), tid("agent-publine-status"))
	v.pubBackup = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-backup"),
		Attr("aria-describedby", "sa-backup-hint"), Text(t.Backup))
	v.pubBackupHint = E("p", Class("sa-hint"), Attr("id", "sa-backup-hint"), Text(t.BackupHint))
	v.pubCopy.On("click", func(jsbridge.Event) {
		jsbridge.CopyText(a.Pub(), v.pubLine, func(ok bool) {
			if ok {
				v.pubStatus.SetText(t.Copied)
			} else {
				v.pubStatus.SetText(t.CopyFailed)
			}
		})
	})
	v.pubBackup.On("click", func(jsbridge.Event) {
		if name, text, ok := a.Export(); ok {
			jsbridge.DownloadText(name, "text/plain", text)
		}
	})
	v.pub = E("section", Class("sa-pub"), tid("agent-pub"), Attr("aria-labelledby", "sa-pub-h"), Kids(
		E("h2", Attr("id", "sa-pub-h"), Text(t.PubTitle)),
		E("label", Attr("for", "sa-publine"), Class("sa-visually-hidden"), Text(t.PubLabel)),
		v.pubLine,
		E("div", Class("sa-row"), Kids(v.pubCopy, v.pubStatus)),
		E("p", Class("sa-hint"), Attr("id", "sa-pub-hint"), Text(t.PubHint)),
		E("div", Class("sa-row"), Kids(v.pubBackup)),
		v.pubBackupHint))
	setHidden(v.pub, true)
	return v.pub
}

func (v *view) renderPub() {
	a := v.app
	show := a.Phase() == agent.PhaseReady && a.Pub() != "" && (a.Generated() || a.NotInRoster())
	setHidden(v.pub, !show)
	if !show {
		return
	}
	if p := a.Pub(); p != v.shownPub {
		v.shownPub = p
		v.pubLine.SetText(p)
		v.pubLine.SetValue(p)
		v.pubStatus.SetText("")
	}
	setHidden(v.pubBackup, !a.Generated())
	setHidden(v.pubBackupHint, !a.Generated())
}

// ---- notifications ----

func (v *view) renderNotify() {
	perm := jsbridge.NotificationPermission()
	setHidden(v.notifyBtn, v.app.Phase() != agent.PhaseReady || perm != "default")
}

func (v *view) askNotify() {
	jsbridge.RequestNotificationPermission(func(p string) {
		switch p {
		case "granted":
			v.notifyNote.SetText(v.t.NotifyOn)
		case "denied":
			v.notifyNote.SetText(v.t.NotifyDenied)
		}
		v.render()
	})
}

// ---- conversation groups ----

type groupSec struct {
	sec, head, list el
	count           int
}

func (v *view) buildGroups() el {
	t := v.t
	box := E("div", Class("sa-groups"), tid("agent-conversations"))
	for i, g := range agent.Groups {
		id := "sa-group-" + g.String()
		gs := &groupSec{count: -1}
		gs.head = E("h3", Attr("id", id), Text(t.GroupTitle(g)))
		gs.list = E("ul", Attr("aria-labelledby", id))
		gs.sec = E("section", Class("sa-group"), tid("agent-group-"+g.String()), Attr("data-group", g.String()),
			Attr("aria-labelledby", id), Kids(gs.head, gs.list))
		setHidden(gs.sec, true)
		v.groups[i] = gs
		box.Append(gs.sec)
	}
	return box
}

// ---- live controls of the open conversation ----

func (v *view) buildLive() {
	t, a := v.t, v.app
	v.takeBtn = E("button", Attr("type", "button"), tid("agent-takeover"), Text(t.Takeover))
	v.closeBtn = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-close"),
		Attr("aria-expanded", "false"), Attr("aria-controls", "sa-close-box"), Text(t.EndConv))
	v.takenBy = E("p", Class("sa-taken"), tid("agent-taken-by"), Attr("role", "status"))
	// The live region stays rendered (so that it is announced); the text
	// inside it is hidden while nobody types.
	v.typingText = E("span", tid("agent-typing"))
	setHidden(v.typingText, true)
	v.typing = E("p", Class("sa-typing"), Attr("aria-live", "polite"), Kids(v.typingText))
	v.closeConfirm = E("button", Attr("type", "button"), tid("agent-close-confirm"), Text(t.EndConfirm))
	v.closeCancel = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-close-cancel"), Text(t.Cancel))
	v.closeBox = E("div", Class("sa-confirm"), Attr("id", "sa-close-box"), Attr("role", "group"),
		Attr("aria-labelledby", "sa-close-ask"), Attr("tabindex", "-1"), tid("agent-close-box"), Kids(
			E("p", Attr("id", "sa-close-ask"), Text(t.EndAsk)),
			E("div", Class("sa-row"), Kids(v.closeConfirm, v.closeCancel))))
	setHidden(v.closeBox, true)
	setHidden(v.takenBy, true)
	v.takeBtn.On("click", func(jsbridge.Event) {
		if c, ok := a.Inbox().Selected(); ok && a.Takeover(c.ID) {
			v.reply.Focus()
		}
	})
	hideClose := func() {
		v.closing = false
		v.renderLive()
		v.closeBtn.Focus()
	}
	v.closeBtn.On("click", func(jsbridge.Event) {
		v.closing = true
		v.renderLive()
		v.closeBox.Focus()
	})
	v.closeCancel.On("click", func(jsbridge.Event) { hideClose() })
	v.closeBox.On("keydown", func(ev jsbridge.Event) {
		if ev.Key() == "Escape" {
			ev.StopPropagation()
			hideClose()
		}
	})
	v.closeConfirm.On("click", func(jsbridge.Event) {
		if c, ok := a.Inbox().Selected(); ok && a.CloseConv(c.ID) {
			v.closing = false
			v.renderLive()
			v.chatTitle.Focus()
		}
	})
	v.reply.On("input", func(jsbridge.Event) { a.ReplyInput(v.reply.Value()) })
	v.reply.On("blur", func(jsbridge.Event) { a.ReplyBlur() })
}

func (v *view) renderLive() {
	a := v.app
	c, ok := a.Inbox().Selected()
	setHidden(v.takeBtn, !ok || !a.CanTakeover(c))
	canClose := ok && a.CanClose(c)
	setHidden(v.closeBtn, !canClose)
	if !canClose {
		v.closing = false
	}
	setHidden(v.closeBox, !v.closing)
	v.closeBtn.SetAttr("aria-expanded", strconv.FormatBool(v.closing))
	taken := ""
	typing := ""
	state := ""
	if ok {
		taken = a.TakenByText(c)
		typing = v.t.TypingText(c)
		state = agent.GroupOf(c.State).String()
	}
	if taken != v.shownTaken {
		v.shownTaken = taken
		v.takenBy.SetText(taken)
		setHidden(v.takenBy, taken == "")
	}
	if typing != v.shownTyping {
		v.shownTyping = typing
		v.typingText.SetText(typing)
		setHidden(v.typingText, typing == "")
	}
	if vt := ok && c.VisitorTyping(); vt != v.shownVisitorTyping {
		v.shownVisitorTyping = vt
		setData(v.typingText, "data-visitor", flag(vt))
	}
	setData(v.chatSec, "data-state", state)
	removed := a.Removed()
	v.reply.SetProp("disabled", removed)
	v.replySend.SetProp("disabled", removed)
}
