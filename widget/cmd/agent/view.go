//go:build js

package main

import (
	"slices"
	"strconv"
	"time"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/widget/agent"
	"siegel/widget/jsbridge"
)

// maxKeyFile is the largest key file accepted for import (a real one is
// under 300 bytes).
const maxKeyFile = 64 << 10

type el = jsbridge.Element

var (
	E     = jsbridge.El
	Class = jsbridge.Class
	Attr  = jsbridge.Attr
	Text  = jsbridge.Text
	Kids  = jsbridge.Children
)

func tid(id string) jsbridge.Option { return Attr("data-testid", id) }

func setHidden(e el, hidden bool) { e.SetProp("hidden", hidden) }

// mode is what the body of the page shows.
type mode uint8

const (
	modeNone mode = iota
	modeImport
	modeUnlock
	modeInbox
	modeGenerate
)

func modeOf(p agent.Phase) mode {
	switch p {
	case agent.PhaseNoKey, agent.PhaseLoadingKey:
		return modeImport
	case agent.PhaseLocked, agent.PhaseUnlocking:
		return modeUnlock
	case agent.PhaseGenerate, agent.PhaseGenerating:
		return modeGenerate
	}
	return modeInbox
}

type view struct {
	app *agent.App
	t   *agent.Text

	// header
	who, status, retry      el
	reconnect, export, lock el
	errBox, notice, body    el
	lastNotice              string
	mode                    mode
	lastPhase               agent.Phase
	lastErr, lastTitle      string
	lastStatus, lastState   string
	lastRetry, lastWho      string

	// import and unlock
	fileInput, demoBtn, importBusy el
	pass, unlockBtn, unlockBusy    el

	// inbox
	main, listEmpty, list     el
	items                     map[ids.ConvID]*convItem
	chatHead, chatTitle, back el
	placeholder, loading      el
	receipts, receiptList     el
	shownReceipts             []agent.Receipt
	log                       el
	msgs                      map[uint64]*msgItem
	shown                     ids.ConvID
	hasShown                  bool
	reply, replyForm          el
	focusChat                 bool
	drafts                    map[ids.ConvID]string // unsent reply text per conversation

	// deleting the open conversation
	listH, chatSec, delBtn, delBox, delConfirm, delCancel el
	confirming                                            bool // the confirmation is shown for the open conversation

	// creating a key (live.go)
	gen struct {
		name, site, owner, pass, pass2 *genField
		submit, cancel, busy           el
	}
	focusGenError bool
	// the public line
	pub, pubLine, pubCopy, pubStatus, pubBackup, pubBackupHint el
	shownPub                                                   string
	// notifications, removal
	notifyBtn, notifyNote, removedBox el
	lastRemoved                       string
	// live chat
	groups                                                    [len(agent.Groups)]*groupSec
	takeBtn, closeBtn, takenBy, typing, typingText, replySend el
	closeBox, closeConfirm, closeCancel                       el
	closing                                                   bool
	shownTaken, shownTyping                                   string
	shownVisitorTyping                                        bool
}

func newView(root el, app *agent.App) *view {
	v := &view{app: app, t: app.Text(), lastPhase: 255, drafts: map[ids.ConvID]string{}}
	t := v.t
	v.who = E("span", Class("sa-who"), tid("agent-who"))
	v.status = E("p", Class("sa-status"), tid("agent-status"), Attr("role", "status"), Attr("data-state", "idle"))
	v.retry = E("span", Class("sa-retry"), tid("agent-retry"))
	v.reconnect = E("button", Class("sa-secondary"), tid("agent-reconnect"), Attr("type", "button"), Text(t.Reconnect))
	v.export = E("button", Class("sa-secondary"), tid("agent-export"), Attr("type", "button"), Text(t.ExportKey))
	v.lock = E("button", Class("sa-secondary"), tid("agent-lock"), Attr("type", "button"), Text(t.Lock))
	v.notifyBtn = E("button", Class("sa-secondary"), tid("agent-notify"), Attr("type", "button"), Text(t.NotifyEnable))
	v.notifyNote = E("span", Class("sa-hint"), tid("agent-notify-status"), Attr("role", "status"))
	header := E("header", Class("sa-header"), Kids(
		E("h1", Text(t.Title)), v.who, E("span", Class("sa-spacer")),
		v.status, v.retry, v.reconnect, v.notifyBtn, v.notifyNote, v.export, v.lock))
	v.errBox = E("p", Class("sa-error"), tid("agent-error"), Attr("role", "alert"))
	v.removedBox = E("p", Class("sa-error", "sa-removed"), tid("agent-removed"), Attr("role", "alert"))
	v.notice = E("p", Class("sa-notice"), tid("agent-notice"), Attr("role", "status"))
	v.body = E("div", Class("sa-body"))
	root.Clear()
	root.Append(header, v.errBox, v.removedBox, v.notice, v.buildPub(), v.body)
	setHidden(v.removedBox, true)
	setHidden(v.notifyBtn, true)
	v.notifyBtn.On("click", func(jsbridge.Event) { v.askNotify() })
	setHidden(v.errBox, true)
	setHidden(v.reconnect, true)
	setHidden(v.export, true)
	setHidden(v.lock, true)

	v.reconnect.On("click", func(jsbridge.Event) { app.ReconnectNow() })
	v.export.On("click", func(jsbridge.Event) {
		if name, text, ok := app.Export(); ok {
			jsbridge.DownloadText(name, "text/plain", text)
		}
	})
	v.lock.On("click", func(jsbridge.Event) { app.Lock() })
	return v
}

func (v *view) render() {
	a := v.app
	phase := a.Phase()

	// Header.
	if s := a.StatusText(); s != v.lastStatus {
		v.lastStatus = s
		v.status.SetText(s)
	}
	if s := a.StatusState(); s != v.lastState {
		v.lastState = s
		v.status.SetAttr("data-state", s)
	}
	if s := a.RetryText(); s != v.lastRetry {
		v.lastRetry = s
		v.retry.SetText(s)
	}
	setHidden(v.reconnect, a.Conn() != agent.ConnWaiting)
	setHidden(v.export, !a.HasKey())
	setHidden(v.lock, phase != agent.PhaseReady)
	who := ""
	if phase == agent.PhaseReady && a.Name() != "" {
		who = v.t.LoggedInAs + " " + a.Name()
	}
	if who != v.lastWho {
		v.lastWho = who
		v.who.SetText(who)
	}
	if e := a.Error(); e != v.lastErr {
		v.lastErr = e
		v.errBox.SetText(e)
		setHidden(v.errBox, e == "")
	}
	if n := a.Notice(); n != v.lastNotice {
		v.lastNotice = n
		v.notice.SetText(n)
	}
	if r := a.RemovedText(); r != v.lastRemoved {
		v.lastRemoved = r
		v.removedBox.SetText(r)
		setHidden(v.removedBox, r == "")
	}
	v.renderNotify()
	v.renderPub()

	// Body.
	m := modeOf(phase)
	rebuilt := m != v.mode
	if rebuilt {
		v.build(m)
	}
	switch m {
	case modeImport:
		busy := phase == agent.PhaseLoadingKey
		setHidden(v.importBusy, !busy)
		v.fileInput.SetProp("disabled", busy)
		if v.demoBtn.Valid() {
			v.demoBtn.SetProp("disabled", busy)
		}
	case modeUnlock:
		busy := phase == agent.PhaseUnlocking
		setHidden(v.unlockBusy, !busy)
		v.pass.SetProp("disabled", busy)
		v.unlockBtn.SetProp("disabled", busy)
		if busy {
			v.unlockBtn.SetAttr("aria-busy", "true")
		} else {
			v.unlockBtn.RemoveAttr("aria-busy")
		}
		if rebuilt || (v.lastPhase == agent.PhaseUnlocking && !busy) {
			v.pass.Focus()
			if !rebuilt {
				v.pass.SetProp("selectionStart", 0)
				v.pass.SetProp("selectionEnd", len(v.pass.Value()))
			}
		}
	case modeGenerate:
		v.renderGenerate()
	case modeInbox:
		v.renderList()
		v.renderChat()
	}
	v.lastPhase = phase

	title := a.PageTitle()
	if title != v.lastTitle {
		v.lastTitle = title
		jsbridge.SetTitle(title)
	}
}

// build replaces the body for a new mode.
func (v *view) build(m mode) {
	v.mode = m
	v.body.Clear()
	v.items, v.msgs, v.hasShown = nil, nil, false
	clear(v.drafts) // typed text does not outlive a lock
	switch m {
	case modeImport:
		v.body.Append(v.buildImport())
	case modeUnlock:
		v.body.Append(v.buildUnlock())
	case modeInbox:
		v.body.Append(v.buildInbox())
	case modeGenerate:
		v.body.Append(v.buildGenerate())
	}
}

func (v *view) buildImport() el {
	t, a := v.t, v.app
	v.fileInput = E("input", Attr("type", "file"), Attr("id", "sa-keyfile"), tid("agent-keyfile"),
		Attr("accept", ".key,.txt,text/plain"), Attr("aria-describedby", "sa-keyfile-hint"))
	v.fileInput.On("change", func(jsbridge.Event) {
		input := v.fileInput
		jsbridge.ReadFileText(input, maxKeyFile, func(_, text string, err error) {
			input.SetValue("")
			if err != nil {
				a.KeyUnreadable()
				return
			}
			a.ImportKey(text)
		})
	})
	v.importBusy = E("p", Class("sa-busy"), Attr("role", "status"), Text(t.LoadingKey))
	sec := E("section", Class("sa-unlock"), Attr("aria-labelledby", "sa-import-h"), Kids(
		E("h2", Attr("id", "sa-import-h"), Text(t.ImportTitle)),
		E("p", Text(t.NoKey)),
		E("p", Class("sa-file"), Kids(
			E("label", Attr("for", "sa-keyfile"), Text(t.ImportKey)),
			E("br"),
			v.fileInput)),
		E("p", Class("sa-hint"), Attr("id", "sa-keyfile-hint"), Text(t.ImportHint))))
	genBtn := E("button", Attr("type", "button"), tid("agent-generate"), Text(t.Generate))
	genBtn.On("click", func(jsbridge.Event) { a.StartGenerate() })
	row := E("div", Class("sa-row"), Kids(genBtn))
	v.demoBtn = el{}
	if a.HasDemo() {
		v.demoBtn = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-load-demo"), Text(t.LoadDemo))
		v.demoBtn.On("click", func(jsbridge.Event) { a.LoadDemo() })
		row.Append(v.demoBtn)
	}
	sec.Append(row)
	sec.Append(v.importBusy)
	return sec
}

func (v *view) buildUnlock() el {
	t, a := v.t, v.app
	v.pass = E("input", Attr("type", "password"), Attr("id", "sa-pass"), tid("agent-passphrase"),
		Attr("autocomplete", "current-password"), Attr("required", ""))
	v.unlockBtn = E("button", Attr("type", "submit"), tid("agent-unlock"), Text(t.Unlock))
	v.unlockBusy = E("p", Class("sa-busy"), Attr("role", "status"), tid("agent-unlocking"), Text(t.Unlocking))
	form := E("form", Attr("novalidate", ""), Kids(
		E("label", Attr("for", "sa-pass"), Text(t.Passphrase)),
		v.pass,
		E("div", Class("sa-row"), Kids(v.unlockBtn)),
		v.unlockBusy))
	form.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		a.Unlock(v.pass.Value())
	})
	forget := E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-forget"), Text(t.ForgetKey))
	forget.On("click", func(jsbridge.Event) {
		if jsbridge.Confirm(t.ForgetAsk) {
			a.Forget()
		}
	})
	demo := el{}
	if a.HasDemo() {
		demo = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-load-demo"), Text(t.LoadDemo))
		demo.On("click", func(jsbridge.Event) { a.LoadDemo() })
	}
	row := E("div", Class("sa-row"), Kids(forget))
	if demo.Valid() {
		row.Append(demo)
	}
	return E("section", Class("sa-unlock"), Attr("aria-labelledby", "sa-unlock-h"), Kids(
		E("h2", Attr("id", "sa-unlock-h"), Text(t.UnlockTitle)),
		E("p", Text(t.Locked)),
		form, row))
}

func (v *view) buildInbox() el {
	t, a := v.t, v.app
	v.items = map[ids.ConvID]*convItem{}
	v.msgs = map[uint64]*msgItem{}
	v.list = v.buildGroups()
	v.listEmpty = E("p", Class("sa-empty"), Text(t.NoConversations))
	listH := E("h2", Attr("id", "sa-list-h"), Attr("tabindex", "-1"), Text(t.Conversations))
	v.listH = listH
	nav := E("nav", Class("sa-list"), Attr("aria-labelledby", "sa-list-h"), Kids(listH, v.listEmpty, v.list))

	v.back = E("button", Attr("type", "button"), Class("sa-secondary", "sa-back"), tid("agent-back"), Text(t.Back))
	v.back.On("click", func(jsbridge.Event) {
		sel, ok := a.Inbox().Selected()
		a.Deselect()
		if ok {
			id := sel.ID
			jsbridge.AfterFunc(0, func() {
				if it := v.items[id]; it != nil {
					it.btn.Focus()
				}
			})
		}
	})
	v.chatTitle = E("h2", Attr("id", "sa-chat-h"), Attr("tabindex", "-1"))
	v.delBtn = E("button", Attr("type", "button"), Class("sa-secondary", "sa-danger"), tid("agent-delete"),
		Attr("aria-expanded", "false"), Attr("aria-controls", "sa-delete-box"), Text(t.Delete))
	v.reply = E("textarea", Attr("id", "sa-reply"), tid("agent-reply"), Attr("rows", "3"),
		Attr("aria-describedby", "sa-reply-hint sa-typing"), Attr("maxlength", strconv.Itoa(16384)))
	v.buildLive()
	v.chatHead = E("div", Class("sa-chat-head"), Kids(v.back, v.chatTitle, E("span", Class("sa-spacer")),
		v.takeBtn, v.closeBtn, v.delBtn))
	v.delConfirm = E("button", Attr("type", "button"), Class("sa-danger-solid"), tid("agent-delete-confirm"),
		Text(t.DeleteConfirm))
	v.delCancel = E("button", Attr("type", "button"), Class("sa-secondary"), tid("agent-delete-cancel"),
		Text(t.DeleteCancel))
	v.delBox = E("div", Class("sa-confirm"), Attr("id", "sa-delete-box"), Attr("role", "group"),
		Attr("aria-labelledby", "sa-delete-ask"), Attr("tabindex", "-1"), tid("agent-delete-box"), Kids(
			E("p", Attr("id", "sa-delete-ask"), Text(t.DeleteAsk)),
			E("div", Class("sa-row"), Kids(v.delConfirm, v.delCancel))))
	setHidden(v.delBox, true)
	v.delBtn.On("click", func(jsbridge.Event) {
		v.confirming = true
		v.renderDelete(true)
		v.delBox.Focus()
	})
	v.delCancel.On("click", func(jsbridge.Event) {
		v.confirming = false
		v.renderDelete(true)
		v.delBtn.Focus()
	})
	v.delConfirm.On("click", func(jsbridge.Event) {
		if c, ok := a.Inbox().Selected(); ok {
			a.Delete(c.ID)
		}
	})
	v.delBox.On("keydown", func(ev jsbridge.Event) {
		if ev.Key() == "Escape" {
			ev.StopPropagation()
			v.confirming = false
			v.renderDelete(true)
			v.delBtn.Focus()
		}
	})
	v.placeholder = E("p", Class("sa-placeholder"), Text(t.Select))
	v.loading = E("p", Class("sa-loading"), Attr("role", "status"), tid("agent-loading"), Text(t.Loading))
	v.log = v.newLog()
	v.receiptList = E("ul")
	v.receipts = E("section", Class("sa-receipts"), tid("agent-receipts"), Attr("aria-labelledby", "sa-receipts-h"),
		Attr("aria-describedby", "sa-receipts-hint"), Kids(
			E("h3", Attr("id", "sa-receipts-h"), Text(t.Receipts)),
			E("p", Class("sa-hint"), Attr("id", "sa-receipts-hint"), Text(t.ReceiptsFor)),
			v.receiptList))
	setHidden(v.receipts, true)

	send := E("button", Attr("type", "submit"), tid("agent-send"), Text(t.Send))
	v.replySend = send
	v.typing.SetAttr("id", "sa-typing")
	v.replyForm = E("form", Class("sa-reply"), Kids(
		v.typing,
		E("label", Attr("for", "sa-reply"), Text(t.ReplyLabel)),
		v.reply, send,
		E("p", Class("sa-hint"), Attr("id", "sa-reply-hint"), Text(t.ReplyHint))))
	doSend := func() {
		if a.Reply(v.reply.Value()) {
			v.reply.SetValue("")
		}
		v.reply.Focus()
	}
	v.replyForm.On("submit", func(ev jsbridge.Event) {
		ev.PreventDefault()
		doSend()
	})
	plainEnter := func(ev jsbridge.Event) bool {
		return ev.Key() == "Enter" && !ev.Shift() && !ev.Ctrl() && !ev.Alt() && !ev.Meta() && !ev.Composing()
	}
	v.reply.On("keydown", func(ev jsbridge.Event) {
		if plainEnter(ev) {
			ev.PreventDefault()
			doSend()
		}
	})
	// Some input sources (automation, a few keyboards) deliver the line break
	// as a separate keypress even when keydown was cancelled: drop it too.
	v.reply.On("keypress", func(ev jsbridge.Event) {
		if plainEnter(ev) {
			ev.PreventDefault()
		}
	})
	chat := E("section", Class("sa-chat"), Attr("aria-labelledby", "sa-chat-h"), Kids(
		v.chatHead, v.takenBy, v.closeBox, v.delBox, v.placeholder, v.loading, v.receipts, v.log, v.replyForm))
	v.chatSec = chat
	v.main = E("div", Class("sa-main"), Attr("data-view", "list"), Kids(nav, chat))
	jsbridge.AfterFunc(0, func() {
		// A key just created: its public line is what to do next.
		if a.Generated() && !v.pub.BoolProp("hidden") {
			v.pubLine.Focus()
			return
		}
		listH.Focus()
	})
	return v.main
}

func (v *view) newLog() el {
	return E("ol", Class("sa-transcript"), tid("agent-transcript"), Attr("role", "log"),
		Attr("aria-live", "polite"), Attr("aria-label", v.t.Transcript), Attr("tabindex", "0"))
}

// ---- conversation list ----

type convItem struct {
	li, btn, id, time, badge, waiting el
	holder                            el
	label, timeText, iso, holderText  string
	unread                            int
	current, isWaiting                bool
	state                             string
}

func (v *view) newConvItem(id ids.ConvID) *convItem {
	it := &convItem{unread: -1}
	short := agent.ShortID(id)
	it.id = E("span", Class("sa-conv-id"), Text(short))
	it.time = E("time", Class("sa-conv-time"))
	it.badge = E("span", Class("sa-badge"), tid("agent-unread"), Attr("aria-hidden", "true"))
	it.waiting = E("span", Class("sa-waiting"), Attr("aria-hidden", "true"), Text(v.t.Waiting))
	setHidden(it.waiting, true)
	it.holder = E("span", Class("sa-holder"), tid("agent-conv-holder"), Attr("aria-hidden", "true"))
	setHidden(it.holder, true)
	it.btn = E("button", Attr("type", "button"), Class("sa-conv"), tid("agent-conv"),
		Attr("data-conv", id.String()), Kids(it.id, it.time, it.badge, it.waiting, it.holder))
	it.li = E("li", Kids(it.btn))
	it.btn.On("click", func(jsbridge.Event) {
		v.focusChat = true
		v.app.Select(id)
	})
	return it
}

func (v *view) renderList() {
	a, t := v.app, v.t
	now := time.Now()
	convs := a.Inbox().Sorted()
	sel, hasSel := a.Inbox().Selected()
	setHidden(v.listEmpty, len(convs) > 0)

	active := jsbridge.Active()
	var focused *convItem
	keep := make(map[ids.ConvID]bool, len(convs))
	var order [len(agent.Groups)][]el
	for _, c := range convs {
		keep[c.ID] = true
		it := v.items[c.ID]
		if it == nil {
			it = v.newConvItem(c.ID)
			v.items[c.ID] = it
		}
		if it.btn.Is(active) {
			focused = it
		}
		// The time of the last message when one is known, else the start.
		var at time.Time
		prefix := t.LastActivity
		if ls := c.LastStored(); ls != 0 {
			at = time.Unix(ls, 0)
		} else if c.Created != 0 {
			at, prefix = time.Unix(c.Created, 0), t.Started
		}
		tt := t.FormatTime(at, now)
		shown := tt
		if tt != "" && prefix == t.Started {
			shown = t.Started + " " + tt
		}
		if shown != it.timeText {
			it.timeText = shown
			it.time.SetText(shown)
			it.time.SetAttr("datetime", agent.ISOTime(at))
		}
		n := c.Unread()
		if n != it.unread {
			it.unread = n
			it.badge.SetText(strconv.Itoa(n))
			setHidden(it.badge, n == 0)
			it.btn.SetAttr("data-unread", strconv.Itoa(n))
		}
		waiting := c.Waiting()
		if waiting != it.isWaiting {
			it.isWaiting = waiting
			setHidden(it.waiting, !waiting)
			setData(it.btn, "data-waiting", flag(waiting))
			if waiting {
				setData(it.waiting, "data-testid", "agent-waiting")
			} else {
				setData(it.waiting, "data-testid", "")
			}
		}
		label := t.Conversation + " " + agent.ShortID(c.ID)
		if tt != "" {
			label += ", " + prefix + " " + tt
		}
		if n > 0 {
			label += ", " + t.UnreadLabel(n)
		}
		if waiting {
			label += ", " + t.Waiting
		}
		holder := a.HolderText(c)
		if holder != it.holderText {
			it.holderText = holder
			it.holder.SetText(holder)
			setHidden(it.holder, holder == "")
		}
		if holder != "" {
			label += ", " + t.GroupLive + " " + holder
		}
		g := agent.GroupOf(c.State)
		if st := g.String(); st != it.state {
			it.state = st
			it.btn.SetAttr("data-state", st)
		}
		if label != it.label {
			it.label = label
			it.btn.SetAttr("aria-label", label)
		}
		cur := hasSel && sel.ID == c.ID
		if cur != it.current {
			it.current = cur
			if cur {
				it.btn.SetAttr("aria-current", "true")
			} else {
				it.btn.RemoveAttr("aria-current")
			}
		}
		order[g] = append(order[g], it.li)
	}
	for id, it := range v.items {
		if !keep[id] {
			it.li.Remove()
			delete(v.items, id)
		}
	}
	for i, gs := range v.groups {
		reorder(gs.list, order[i])
		if n := len(order[i]); n != gs.count {
			gs.count = n
			gs.head.SetText(t.GroupTitle(agent.Groups[i]) + " (" + strconv.Itoa(n) + ")")
			gs.sec.SetAttr("data-count", strconv.Itoa(n))
			setHidden(gs.sec, n == 0)
		}
	}
	if focused != nil && !focused.btn.Is(jsbridge.Active()) {
		focused.btn.Focus()
	}
}

// reorder makes the children of parent exactly order, moving as few elements
// as it can (walking from the end, each element must precede the next one).
func reorder(parent el, order []el) {
	next := el{}
	for i := len(order) - 1; i >= 0; i-- {
		e := order[i]
		if !e.Parent().Is(parent) || !e.Next().Is(next) {
			parent.InsertBefore(e, next)
		}
		next = e
	}
}

// ---- transcript ----

// msgItem is one entry of the transcript: a message bubble (text, bot text,
// answer) or a system line (consent decision, handoff). Every string is set
// as text.
type msgItem struct {
	li, meta, name, time, state, marker el
	corrected                           el
	text, label, value, detail          el
	pos                                 uint64
	kind                                agent.Kind
	from                                agent.From
	own, personal, unreadable, init     bool
	tid, decision, reason, variable     string
	st, timeText                        string
	shown                               agent.Shown
}

func (v *view) newMsgItem(m *agent.Message) *msgItem {
	it := &msgItem{pos: ^uint64(0)}
	it.name = E("span", Class("sa-name"))
	it.time = E("time")
	it.state = E("span", Class("sa-state"), tid("agent-msg-state"))
	it.marker = E("span", Class("sa-personal"), Attr("title", v.t.PersonalLabel))
	it.corrected = E("span", Class("sa-corrected"), Attr("title", v.t.CorrectedLabel))
	it.label = E("span", Class("sa-label"))
	it.value = E("span", Class("sa-value"))
	it.text = E("p", Class("sa-text"), Kids(it.label, it.value))
	it.detail = E("p", Class("sa-detail"))
	it.meta = E("div", Class("sa-meta"), Kids(it.name, it.time, it.state, it.marker, it.corrected))
	it.li = E("li", Class("sa-msg"), tid("agent-msg"), Kids(it.meta, it.text, it.detail))
	setHidden(it.marker, true)
	setHidden(it.corrected, true)
	setHidden(it.detail, true)
	return it
}

func (v *view) renderChat() {
	a, t := v.app, v.t
	c, ok := a.Inbox().Selected()
	if ok {
		v.main.SetAttr("data-view", "chat")
	} else {
		v.main.SetAttr("data-view", "list")
	}
	setHidden(v.placeholder, ok)
	setHidden(v.chatHead, !ok)
	setHidden(v.log, !ok)
	setHidden(v.replyForm, !ok)
	if !ok {
		setHidden(v.loading, true)
		v.renderReceipts(nil)
		if v.hasShown && a.Inbox().Get(v.shown) == nil {
			v.purgeShown()
		}
		v.saveDraft()
		v.hasShown = false
		v.confirming = false
		v.renderDelete(false)
		v.closing = false
		v.renderLive()
		return
	}
	if !v.hasShown || v.shown != c.ID {
		if v.hasShown && a.Inbox().Get(v.shown) == nil {
			v.purgeShown()
		}
		v.confirming, v.closing = false, false
		v.saveDraft()
		// A fresh live region, so that the history is not announced.
		fresh := v.newLog()
		v.log.Parent().InsertBefore(fresh, v.log)
		v.log.Remove()
		v.log = fresh
		v.msgs = map[uint64]*msgItem{}
		v.shown, v.hasShown = c.ID, true
		v.chatTitle.SetText(t.Conversation + " " + agent.ShortID(c.ID))
		v.reply.SetValue(v.drafts[c.ID])
		delete(v.drafts, c.ID)
	}
	setHidden(v.loading, !c.Loading)
	v.renderReceipts(c.Receipts)
	v.renderDelete(false)
	v.renderLive()

	atEnd := v.log.AtEnd()
	added := false
	now := time.Now()
	keep := make(map[uint64]bool, len(c.Messages))
	order := make([]el, len(c.Messages))
	for i := range c.Messages {
		m := &c.Messages[i]
		keep[m.ID] = true
		it := v.msgs[m.ID]
		if it == nil {
			it = v.newMsgItem(m)
			v.msgs[m.ID] = it
			added = true
		}
		v.updateMsg(it, m, now)
		order[i] = it.li
	}
	for id, it := range v.msgs {
		if !keep[id] {
			it.li.Remove()
			delete(v.msgs, id)
		}
	}
	reorder(v.log, order)
	if (added && atEnd) || (len(v.msgs) > 0 && v.focusChat) {
		v.log.ScrollToEnd()
	}
	if v.focusChat {
		v.focusChat = false
		// On narrow screens the list is now hidden: move the focus along.
		if sel := v.items[c.ID]; sel == nil || !sel.btn.Displayed() {
			v.chatTitle.Focus()
		}
	}
}

// renderReceipts shows the relay's consent receipts of the open
// conversation; the panel is hidden when there are none.
func (v *view) renderReceipts(rs []agent.Receipt) {
	if slices.Equal(rs, v.shownReceipts) && (len(rs) > 0 || v.receipts.BoolProp("hidden")) {
		return
	}
	v.shownReceipts = slices.Clone(rs)
	v.receiptList.Clear()
	loc := time.Now().Location()
	for _, r := range rs {
		d := "declined"
		if r.Accepted {
			d = "accepted"
		}
		v.receiptList.Append(E("li", tid("agent-receipt"), Attr("data-decision", d),
			Attr("data-flow-version", strconv.FormatUint(uint64(r.FlowVersion), 10)),
			Attr("data-text-hash", agent.HashHex(r.TextHash)),
			Text(v.t.ReceiptLine(r, loc))))
	}
	setHidden(v.receipts, len(rs) == 0)
}

// saveDraft keeps the reply being typed for the conversation shown so far.
func (v *view) saveDraft() {
	if !v.hasShown {
		return
	}
	if d := v.reply.Value(); d != "" {
		v.drafts[v.shown] = d
	} else {
		delete(v.drafts, v.shown)
	}
}

// flag is the value of a boolean data attribute: "true" or "" (absent).
func flag(on bool) string {
	if on {
		return "true"
	}
	return ""
}

// setData sets the attribute to value, or removes it when value is "".
func setData(e el, name, value string) {
	if value == "" {
		e.RemoveAttr(name)
	} else {
		e.SetAttr(name, value)
	}
}

func (v *view) updateMsg(it *msgItem, m *agent.Message, now time.Time) {
	t := v.t
	first := !it.init
	it.init = true
	kind := m.Kind
	if m.Unreadable {
		kind = agent.KindText
	}
	if first || kind != it.kind {
		it.kind = kind
		it.li.SetAttr("data-kind", kind.String())
		it.li.ToggleClass("sa-msg", !kind.System())
		it.li.ToggleClass("sa-sys", kind.System())
		// A consent line carries its own date and time in the detail.
		setHidden(it.meta, kind == agent.KindConsent)
	}
	id := "agent-msg"
	switch kind {
	case agent.KindConsent:
		id = "agent-consent"
	case agent.KindHandoff:
		id = "agent-handoff"
	}
	if id != it.tid {
		it.tid = id
		it.li.SetAttr("data-testid", id)
	}
	if first || m.From != it.from {
		it.from = m.From
		it.li.SetAttr("data-from", m.From.String())
	}
	if first || m.Own != it.own {
		it.own = m.Own
		setData(it.li, "data-own", flag(m.Own))
	}
	if m.Pos != it.pos {
		it.pos = m.Pos
		if m.Pos == 0 {
			it.li.RemoveAttr("data-pos")
		} else {
			it.li.SetAttr("data-pos", strconv.FormatUint(m.Pos, 10))
		}
	}
	var decision, reason, variable string
	personal := false
	if !m.Unreadable {
		switch kind {
		case agent.KindConsent:
			decision = "declined"
			if m.Consent.Accepted {
				decision = "accepted"
			}
		case agent.KindHandoff:
			reason = "person"
			if m.Reason == content.HandoffMessage {
				reason = "message"
			}
		case agent.KindAnswer:
			variable, personal = m.Variable, m.Personal
		}
	}
	if decision != it.decision {
		it.decision = decision
		setData(it.li, "data-decision", decision)
		if decision != "" {
			it.li.SetAttr("data-text-hash", agent.HashHex(m.Consent.TextHash))
		} else {
			it.li.RemoveAttr("data-text-hash")
		}
	}
	if reason != it.reason {
		it.reason = reason
		setData(it.li, "data-reason", reason)
	}
	if variable != it.variable {
		it.variable = variable
		setData(it.li, "data-variable", variable)
	}
	if first || personal != it.personal {
		it.personal = personal
		setData(it.li, "data-personal", flag(personal))
	}

	sh := t.Show(m, now.Location())
	if first || sh.Name != it.shown.Name {
		it.name.SetText(sh.Name)
		setHidden(it.name, sh.Name == "")
	}
	if first || sh.Label != it.shown.Label {
		if sh.Label != "" {
			it.label.SetText(sh.Label + ": ")
		} else {
			it.label.SetText("")
		}
		setHidden(it.label, sh.Label == "")
	}
	if first || sh.Text != it.shown.Text {
		it.value.SetText(sh.Text)
	}
	if first || sh.Detail != it.shown.Detail {
		it.detail.SetText(sh.Detail)
		setHidden(it.detail, sh.Detail == "")
	}
	if first || sh.Corrected != it.shown.Corrected {
		it.corrected.SetText(sh.Corrected)
		setHidden(it.corrected, sh.Corrected == "")
		setData(it.li, "data-corrected", flag(sh.Corrected != ""))
		// The test ID only while shown, so that it counts corrected answers.
		if sh.Corrected != "" {
			setData(it.corrected, "data-testid", "agent-corrected")
		} else {
			setData(it.corrected, "data-testid", "")
		}
	}
	if first || sh.Marker != it.shown.Marker {
		it.marker.SetText(sh.Marker)
		setHidden(it.marker, sh.Marker == "")
		// The test ID only while shown, so that it counts personal answers.
		if sh.Marker != "" {
			setData(it.marker, "data-testid", "agent-personal")
		} else {
			setData(it.marker, "data-testid", "")
		}
	}
	it.shown = sh

	var at time.Time
	switch {
	case m.Time != 0:
		at = time.UnixMilli(m.Time)
	case m.Stored != 0:
		at = time.Unix(m.Stored, 0)
	}
	tt := t.FormatTime(at, now)
	if tt != it.timeText {
		it.timeText = tt
		it.time.SetText(tt)
		it.time.SetAttr("datetime", agent.ISOTime(at))
	}
	st := m.State()
	if st != it.st {
		it.st = st
		it.li.SetAttr("data-state", st)
		label := ""
		if m.Own {
			switch st {
			case "pending":
				label = t.Pending
			case "failed":
				label = t.Failed
			default:
				label = t.Sent
			}
		}
		it.state.SetText(label)
	}
	if first || m.Unreadable != it.unreadable {
		it.unreadable = m.Unreadable
		setData(it.li, "data-unreadable", flag(m.Unreadable))
	}
}

// renderDelete shows the delete button of the open conversation and, when
// asked for, its confirmation.
func (v *view) renderDelete(bool) {
	t := v.t
	c, ok := v.app.Inbox().Selected()
	deleting := ok && c.Deleting
	open := v.confirming && ok
	setHidden(v.delBox, !open)
	v.delBtn.SetAttr("aria-expanded", strconv.FormatBool(open))
	v.delBtn.SetProp("disabled", deleting)
	v.delConfirm.SetProp("disabled", deleting)
	v.delCancel.SetProp("disabled", deleting)
	label := t.DeleteConfirm
	if deleting {
		label = t.Deleting
		v.delConfirm.SetAttr("aria-busy", "true")
	} else {
		v.delConfirm.RemoveAttr("aria-busy")
	}
	if v.delConfirm.Text() != label {
		v.delConfirm.SetText(label)
	}
}

// purgeShown removes everything the page shows of the conversation that was
// open and no longer exists (deleted here or elsewhere): its messages, its
// receipts, the reply being typed.
func (v *view) purgeShown() {
	hadFocus := v.chatSec.Contains(jsbridge.Active()) || jsbridge.Active().Is(jsbridge.Body())
	delete(v.drafts, v.shown)
	v.reply.SetValue("")
	fresh := v.newLog()
	setHidden(fresh, v.log.BoolProp("hidden"))
	v.log.Parent().InsertBefore(fresh, v.log)
	v.log.Remove()
	v.log = fresh
	v.msgs = map[uint64]*msgItem{}
	v.shownReceipts = nil
	v.receiptList.Clear()
	v.chatTitle.SetText("")
	v.hasShown = false
	if hadFocus {
		v.listH.Focus()
	}
}
