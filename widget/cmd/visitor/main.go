//go:build js

// Command visitor is the chat widget that runs in the frame page
// (GOOS=js GOARCH=wasm). It reads the site, owner fingerprint, relay URL and the
// site's bot flow from #siegel-root, builds the chat UI inside it and wires the
// browser (jsbridge) to the chat logic. All logic lives in widget/visitor (the
// bot, what leaves the browser and when, the view-model), widget/flowengine and
// widget/session.
package main

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/widget/flowengine"
	"siegel/widget/i18n"
	"siegel/widget/jsbridge"
	"siegel/widget/session"
	"siegel/widget/visitor"
)

// control says which control the visitor used last (where a re-ask shows).
type control uint8

const (
	ctlNone control = iota
	ctlComposer
	ctlField
	ctlButton
)

type app struct {
	s      *i18n.Strings
	chat   *visitor.Chat
	model  *visitor.Model
	parent *jsbridge.Parent

	site  ids.SiteID
	owner ids.Fingerprint
	relay string
	key   string
	id    *envelope.Identity
	sess  *session.Session

	ws      *jsbridge.WebSocket
	timer   *jsbridge.Timer
	attempt int
	saved   string
	warned  bool // storage warning shown
	stopped bool // the session stopped: the composer is disabled
	keyHeld bool // Enter or Space is down
	pending bool // focusEl gets the focus when the key is released
	later   *jsbridge.Timer

	root, status, alert, log, actions, input, send, hint jsbridge.Element
	presence, notice, typing, label                      jsbridge.Element // live chat (live.go)
	typingTimer                                          *jsbridge.Timer
	field, fieldError                                    jsbridge.Element // the answer field of the current prompt
	focusEl                                              jsbridge.Element // where the current prompt wants the focus
	msgs                                                 map[int]msgView

	rightsUI // the "My data" menu and the rights page (mydata.go, rights.go)
}

type msgView struct {
	el, state, text jsbridge.Element
	shown           string // the text shown (a corrected answer changes it)
}

var errSetup = errors.New("visitor: bad frame page attributes")

func main() {
	root, ok := jsbridge.ByID("siegel-root")
	if !ok {
		return
	}
	a := &app{root: root, msgs: map[int]msgView{}}
	a.s = i18n.For(i18n.Choose(jsbridge.Languages()))
	if mode, _ := root.Attr("data-mode"); strings.TrimSpace(mode) == "rights" {
		a.runRights()
		select {}
	}
	err := a.setup()
	if err == nil {
		bot := a.chat.Bot()
		if bot != nil {
			a.s = i18n.For(i18n.Choose([]string{bot.Lang()}))
			a.model.SetStrings(a.s)
		}
	} else {
		a.model = visitor.NewModel(a.s)
	}
	jsbridge.Root().SetAttr("lang", a.s.Lang.Tag())
	a.build()
	a.parent = jsbridge.ListenParent(a.onParent)
	if err != nil {
		a.model.SetAlert(a.s.AlertSetup, true)
		a.render(visitor.Changes{Alert: true})
		a.disable()
		a.input.Focus()
	} else {
		a.save()
		a.update(a.chat.Begin(), ctlNone)
		if !a.focusEl.Valid() {
			a.input.Focus()
		}
	}
	root.SetAttr("data-ready", "true")
	select {}
}

// setup reads the frame page's attributes, restores or creates the
// conversation keys, the session and the bot.
func (a *app) setup() error {
	data := func(name string) string { v, _ := a.root.Attr("data-" + name); return strings.TrimSpace(v) }
	var err error
	if a.site, err = ids.ParseSiteID(data("site")); err != nil {
		return err
	}
	if a.owner, err = ids.ParseFingerprint(data("owner")); err != nil {
		return err
	}
	a.relay = data("relay")
	for strings.HasSuffix(a.relay, "/") {
		a.relay = a.relay[:len(a.relay)-1]
	}
	if !strings.HasPrefix(a.relay, "ws://") && !strings.HasPrefix(a.relay, "wss://") {
		return errSetup
	}
	a.key = visitor.StorageKey(a.site)
	// A flow that does not decode leaves the plain chat.
	f, revision, _ := visitor.LoadFlow(data("flow"), data("flow-revision"))

	var rec *visitor.Record
	if text, ok := jsbridge.StorageGet(a.key); ok {
		if r, err := visitor.DecodeRecordText(text); err == nil {
			if id, err := envelope.IdentityFromKeys(r.Seed, r.BoxPriv); err == nil {
				a.id, rec = id, r
			}
		}
	}
	if a.id == nil {
		if a.id, err = envelope.NewIdentity(jsbridge.Random); err != nil {
			return err
		}
	}
	cfg := session.Config{Role: protocol.RoleVisitor, Site: a.site, Owner: a.owner, Identity: a.id,
		Rand: jsbridge.Random, Now: jsbridge.Now}
	if rec != nil {
		cfg.State = rec.State
	}
	a.sess, err = session.New(cfg)
	if err != nil && rec != nil {
		// Unusable queue: keep the conversation, drop what waited.
		cfg.State.Outbox, cfg.State.Consents = nil, nil
		a.sess, err = session.New(cfg)
	}
	if err != nil {
		return err
	}

	var bot *visitor.Bot
	if f != nil {
		privacy := data("privacy")
		if rec != nil && rec.Bot.Revision != 0 {
			bot, _ = visitor.RestoreBot(f, revision, rec.Bot, privacy, jsbridge.Now)
		}
		// Without a usable bot state, a conversation the relay already knows
		// goes on as a plain chat; otherwise the flow starts afresh.
		if bot == nil && (rec == nil || rec.State.NextSeq <= 1) {
			bot = visitor.NewBot(f, revision, visitor.PickLang(f, jsbridge.Languages()), privacy, jsbridge.Now)
		}
		if bot != nil {
			bot.SetCompiler(compileRegExp)
		}
	}
	a.chat = visitor.NewChat(a.s, a.sess, bot)
	a.model = a.chat.Model()
	a.setupRights(f, data("privacy"))
	return nil
}

// compileRegExp compiles the flow's patterns with the browser's RegExp, so
// that the widget does not link Go's regexp (docs/DECISIONS.md).
func compileRegExp(pattern string) (flowengine.Matcher, error) {
	re, err := jsbridge.CompileRegExp(pattern)
	if err != nil {
		return nil, err
	}
	return re, nil
}

func (a *app) build() {
	el, attr, class, text := jsbridge.El, jsbridge.Attr, jsbridge.Class, jsbridge.Text
	s := a.s
	a.status = el("p", class("siegel-status"), attr("data-testid", "siegel-status"), text(a.model.Status()))
	a.buildLive()
	closeBtn := el("button", class("siegel-close"), attr("type", "button"), attr("aria-label", s.Close),
		attr("title", s.Close), attr("data-testid", "siegel-close"), text("×"))
	header := el("header", class("siegel-header"),
		jsbridge.Children(
			el("div", class("siegel-heading"), jsbridge.Children(
				el("h1", class("siegel-title"), attr("id", "siegel-title"), text(s.Title)), a.status, a.presence)),
			closeBtn))
	a.alert = el("div", class("siegel-alert"), attr("role", "alert"), attr("data-testid", "siegel-alert"))
	a.log = el("div", class("siegel-messages"), attr("role", "log"), attr("aria-live", "polite"),
		attr("aria-relevant", "additions"), attr("aria-label", s.MessagesLabel),
		attr("data-testid", "siegel-messages"), attr("tabindex", "0"))
	a.actions = el("div", class("siegel-actions"), attr("data-testid", "siegel-actions"))
	a.input = el("textarea", class("siegel-input"), attr("id", "siegel-input"), attr("data-testid", "siegel-input"),
		attr("rows", "2"), attr("placeholder", s.Placeholder), attr("aria-describedby", "siegel-hint"),
		attr("autocomplete", "off"))
	a.send = el("button", class("siegel-send"), attr("type", "submit"), attr("data-testid", "siegel-send"), text(s.Send))
	a.hint = el("p", class("siegel-hint"), attr("id", "siegel-hint"), attr("aria-live", "polite"),
		attr("data-testid", "siegel-hint"))
	form := el("form", class("siegel-composer"), attr("novalidate", ""), jsbridge.Children(
		a.label,
		el("div", class("siegel-row"), jsbridge.Children(a.input, a.send)),
		a.hint))
	a.root.Clear()
	a.root.AddClass("siegel")
	a.root.Append(header, a.alert, a.notice, a.log, a.typing, a.actions, form)
	a.buildMyData(header, closeBtn)

	closeBtn.On("click", func(jsbridge.Event) { a.close() })
	form.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		a.submit()
	})
	a.input.On("keydown", func(ev jsbridge.Event) {
		if ev.Key() == "Enter" && !ev.Shift() && !ev.Composing() && !ev.Alt() && !ev.Ctrl() && !ev.Meta() {
			ev.PreventDefault()
			a.keyHeld = true // before the document's listener sees the key
			a.submit()
		}
	})
	a.input.On("input", func(jsbridge.Event) {
		a.checkLength(false)
		if a.chat != nil {
			a.chat.Typed(a.input.Value())
		}
	})
	a.input.On("blur", func(jsbridge.Event) {
		if a.chat != nil {
			a.chat.Blurred()
		}
	})
	jsbridge.OnDocument("keydown", func(ev jsbridge.Event) {
		switch ev.Key() {
		case "Escape":
			if a.panelOpen() {
				a.closePanel(true)
				return
			}
			a.close()
		case "Enter", " ":
			a.keyHeld = true
		}
	})
	// A key that made the bot show a new control must not also press it: the
	// focus moves there once the key is released.
	jsbridge.OnDocument("keyup", func(jsbridge.Event) {
		a.keyHeld = false
		a.focusPending()
	})
	a.render(visitor.Changes{Messages: a.model.Messages()})
}

func (a *app) save() {
	if a.chat == nil || a.rights {
		return
	}
	rec := a.chat.Record(a.id.Seed(), a.id.BoxPrivate())
	text := rec.EncodeText()
	if text == a.saved {
		return
	}
	if err := jsbridge.StorageSet(a.key, text); err != nil {
		if !a.warned {
			a.warned = true
			a.render(visitor.Changes{Alert: a.model.SetAlert(a.s.AlertStorage, false)})
		}
		return
	}
	a.saved = text
}

// apply feeds session events to the chat, renders the changes and persists.
func (a *app) apply(evs []session.Event) {
	if len(evs) == 0 || a.chat == nil {
		return
	}
	for _, ev := range evs {
		if st, ok := ev.(session.StatusEvent); ok {
			switch st.Status {
			case session.StatusReady:
				a.attempt = 0
			case session.StatusStopped:
				a.stopped = true
				a.disable()
			}
		}
	}
	a.update(a.chat.Apply(evs), ctlNone)
}

// update renders a chat update, persists and connects when asked to.
func (a *app) update(u visitor.Update, from control) {
	if a.rights {
		a.updateRights(u)
		return
	}
	a.render(u.Changes)
	if u.Prompt {
		a.renderPrompt()
	}
	switch {
	case u.Reask != "" && from == ctlField && a.field.Valid():
		a.field.SetAttr("aria-invalid", "true")
		a.fieldError.SetText(u.Reask)
		a.field.Focus()
	case u.Reask != "" && from == ctlComposer:
		a.input.SetAttr("aria-invalid", "true")
		a.hint.SetText(u.Reask)
	case u.Hint != "":
		a.hint.SetText(u.Hint)
	}
	if u.Clear {
		switch from {
		case ctlComposer:
			a.input.SetValue("")
			a.input.RemoveAttr("aria-invalid")
			a.hint.SetText("")
		case ctlField:
			if a.field.Valid() {
				a.field.SetValue("")
			}
		}
	}
	if len(u.Messages) > 0 && from != ctlNone {
		a.log.ScrollToEnd()
	}
	if a.myDataUpdate(u) {
		return // the conversation was erased and wiped
	}
	a.save()
	if u.Connect && a.timer == nil {
		a.connect()
	}
}

func (a *app) connect() {
	if a.ws != nil || a.sess == nil || a.sess.Stopped() {
		return
	}
	a.timer.Stop()
	a.timer = nil
	var ws *jsbridge.WebSocket
	sess := a.sess // a wiped conversation's socket reports nothing any more
	ws, err := jsbridge.DialWebSocket(a.relay+"/ws?site="+a.site.String(), jsbridge.SocketHandlers{
		OnOpen: func() {
			if a.sess == sess {
				a.apply(a.sess.Connect(ws))
			}
		},
		OnMessage: func(b []byte) {
			if a.sess == sess {
				a.apply(a.sess.Receive(ws, b))
			}
		},
		OnClose: func(int, string) {
			if a.ws == ws {
				a.ws = nil
			}
			if a.sess != sess {
				return
			}
			evs := a.sess.Disconnected(ws)
			if evs == nil && !a.sess.Stopped() {
				evs = []session.Event{session.StatusEvent{Status: session.StatusOffline}}
			}
			a.apply(evs)
			a.reconnectLater()
		},
	})
	if err != nil {
		a.render(visitor.Changes{Alert: a.model.SetAlert(a.s.AlertSetup, true)})
		a.disable()
		return
	}
	a.ws = ws
	if a.sess.Status() == session.StatusOffline {
		// Shown while the socket opens; a refused connection then counts as a failure.
		a.render(a.model.Apply([]session.Event{session.StatusEvent{Status: session.StatusConnecting}}))
	}
}

func (a *app) reconnectLater() {
	if a.sess.Stopped() || a.timer != nil || a.ws != nil {
		return
	}
	var b [4]byte
	jsbridge.Random.Read(b[:])
	d := visitor.Backoff(a.attempt, binary.BigEndian.Uint32(b[:]))
	a.attempt++
	a.timer = jsbridge.AfterFunc(d, func() {
		a.timer = nil
		a.connect()
	})
}

func (a *app) submit() {
	if a.chat == nil {
		return
	}
	if errors.Is(a.checkLength(true), visitor.ErrTooLong) {
		a.input.Focus()
		return
	}
	a.update(a.chat.Compose(a.input.Value()), ctlComposer)
}

// focus moves the keyboard focus to el, after the key that is down (if any)
// has been released (or half a second has passed).
func (a *app) focus(el jsbridge.Element) {
	if !a.keyHeld {
		a.pending = false
		el.Focus()
		el.ScrollIntoView()
		return
	}
	a.pending = true
	a.later.Stop()
	a.later = jsbridge.AfterFunc(500*time.Millisecond, func() {
		a.later = nil
		a.keyHeld = false
		a.focusPending()
	})
}

// focusPending moves the focus where the current prompt wants it, if a move
// waits for a key release.
func (a *app) focusPending() {
	if !a.pending {
		return
	}
	a.pending = false
	a.later.Stop()
	a.later = nil
	if a.focusEl.Valid() {
		a.focusEl.Focus()
		a.focusEl.ScrollIntoView()
	} else if !a.stopped {
		a.input.Focus()
	}
}

// checkLength shows the too-long hint while the text is over the limit.
func (a *app) checkLength(submitted bool) error {
	_, err := visitor.PrepareText(a.input.Value())
	if errors.Is(err, visitor.ErrTooLong) {
		a.input.SetAttr("aria-invalid", "true")
		a.hint.SetText(a.s.TooLong(visitor.MaxChars))
		return err
	}
	if !submitted {
		a.input.RemoveAttr("aria-invalid")
		a.hint.SetText("")
	}
	return err
}

func (a *app) disable() {
	if a.rights {
		return
	}
	a.input.SetProp("disabled", true)
	a.send.SetProp("disabled", true)
}

func (a *app) close() {
	a.model.SetHidden(true)
	a.parent.Post("close")
}

func (a *app) onParent(typ string) {
	switch typ {
	case "open":
		if a.model.SetHidden(false) {
			a.parent.PostCount("unread", 0)
		}
		if a.focusEl.Valid() {
			a.focusEl.Focus()
		} else {
			a.input.Focus()
		}
	case "close":
		a.model.SetHidden(true)
	}
}

// render applies model changes to the DOM.
func (a *app) render(c visitor.Changes) {
	if a.rights || a.model == nil {
		return
	}
	if c.Status {
		a.status.SetText(a.model.Status())
	}
	if c.Alert {
		a.alert.SetText(a.model.Alert())
	}
	a.renderLive(c)
	if c.Unread && a.model.Hidden() {
		a.parent.PostCount("unread", a.model.Unread())
	}
	if len(c.Messages) == 0 {
		return
	}
	atEnd := a.log.AtEnd()
	for i := len(c.Messages) - 1; i >= 0; i-- {
		msg := c.Messages[i]
		v := a.view(msg)
		var ref jsbridge.Element
		if next := a.model.After(msg); next != nil {
			ref = a.msgs[next.ID].el
		}
		if !v.el.Parent().Valid() || !sameElement(v.el.Next(), ref) {
			a.log.InsertBefore(v.el, ref)
		}
	}
	if atEnd {
		a.log.ScrollToEnd()
	}
}

func sameElement(x, y jsbridge.Element) bool {
	if !x.Valid() || !y.Valid() {
		return x.Valid() == y.Valid()
	}
	return x.Is(y)
}

// view creates or updates the element of a message.
func (a *app) view(msg *visitor.Message) msgView {
	v, ok := a.msgs[msg.ID]
	if !ok {
		el, attr, class, text := jsbridge.El, jsbridge.Attr, jsbridge.Class, jsbridge.Text
		from := msg.From.String()
		name := el("span", class("siegel-msg-name"), text(msg.Name))
		if msg.From == visitor.FromVisitor {
			name.AddClass("siegel-sr")
		}
		v.text = el("p", class("siegel-msg-text"), text(msg.Text))
		v.shown = msg.Text
		v.el = el("div", class("siegel-msg", "siegel-msg--"+from), attr("data-testid", "siegel-msg"),
			attr("data-from", from), jsbridge.Children(name, v.text))
		if msg.From == visitor.FromVisitor {
			v.state = el("span", class("siegel-msg-state"))
			v.el.Append(v.state)
		}
		a.msgs[msg.ID] = v
	}
	if v.state.Valid() {
		v.el.SetAttr("data-state", msg.State.String())
		v.state.SetText(a.model.StateText(msg))
	}
	if msg.Text != v.shown {
		v.shown = msg.Text
		v.text.SetText(msg.Text)
		a.msgs[msg.ID] = v
	}
	if msg.Corrected {
		v.el.SetAttr("data-corrected", "true")
	}
	return v
}
