package visitor

import (
	"errors"
	"strings"
	"time"

	"siegel/shared/content"
	"siegel/shared/flow"
	"siegel/widget/flowengine"
	"siegel/widget/i18n"
	"siegel/widget/session"
)

// Update tells the view what to change after a Chat call.
type Update struct {
	Changes
	Prompt  bool   // the bot control changed: show Chat.Prompt() (and move the focus to it)
	Reask   string // the input was refused: why (show it at the control that was used)
	Hint    string // a hint for the composer
	Clear   bool   // the input was taken: empty the control it came from
	Connect bool   // something waits for the relay: connect unless connected
	Data    bool   // what the "My data" menu shows changed (see Chat.MyData)
	// Results of the visitor's requests (corrections, the erasure).
	Results []Result
}

func (u *Update) merge(m *Model, c Changes) {
	for _, msg := range c.Messages {
		u.add(msg)
	}
	u.Status = u.Status || c.Status
	u.Alert = u.Alert || c.Alert
	u.Data = u.Data || len(c.Messages) > 0
	u.Unread = u.Unread || c.Unread
	u.Live = u.Live || c.Live
	u.Typing = u.Typing || c.Typing
	m.order(&u.Changes)
}

// Chat is the visitor widget's logic without the DOM. It routes the visitor's
// actions to the bot flow or to the session, shares the bot's transcript with
// the relay when the flow allows it (see Bot), and turns all of it into view
// changes. With a nil Bot it is the plain chat: everything typed is sent.
type Chat struct {
	s      *i18n.Strings
	model  *Model
	bot    *Bot
	sess   *session.Session
	prompt Prompt
	shown  int // transcript entries shown so far (from local state or the session)

	// The visitor's rights (rights.go).
	hist      History
	remote    bool // the relay knows the conversation whatever this browser holds
	erased    bool // the conversation was erased
	connected bool // a connection reached Ready in this page load
	flow      *flow.Flow
	lang      string
	clock     func() time.Time
	compile   flowengine.Compiler

	typingOn   bool      // the relay was told that the visitor types
	typingSent time.Time // when it was told last
}

// NewChat returns the chat for a session and an optional bot.
func NewChat(s *i18n.Strings, sess *session.Session, bot *Bot) *Chat {
	c := &Chat{s: s, sess: sess, bot: bot}
	if bot == nil {
		c.model = NewModel(s)
	} else {
		c.model = NewBotModel(s)
	}
	return c
}

// Model returns the view-model.
func (c *Chat) Model() *Model { return c.model }

// Bot returns the bot (nil for the plain chat).
func (c *Chat) Bot() *Bot { return c.bot }

// Prompt returns the bot control to show.
func (c *Chat) Prompt() Prompt { return c.prompt }

// Record returns what to persist.
func (c *Chat) Record(seed, boxPriv [32]byte) Record {
	r := Record{Seed: seed, BoxPriv: boxPriv, State: c.sess.State()}
	if c.bot != nil {
		r.Bot = c.bot.State()
	}
	return r
}

// Begin shows what the visitor saw before a reload (queued own messages, then
// the transcript entries kept in the browser) and starts or resumes the flow.
// Connect is set when the conversation already involves the relay.
func (c *Chat) Begin() Update {
	var u Update
	u.merge(c.model, c.model.Apply(c.sess.Queued()))
	st := c.sess.State()
	u.Connect = st.NextSeq > 1 || len(st.Consents) > 0
	if c.bot == nil {
		return u
	}
	c.shown = c.bot.Sealed()
	if c.bot.Status() == flowengine.NotStarted {
		c.handle(&u, c.bot.Start())
	} else {
		c.handle(&u, c.bot.Prompt())
	}
	u.Prompt = true
	return u
}

// Choose picks button i of the current choice step.
func (c *Chat) Choose(i int) Update {
	var u Update
	if c.bot != nil && c.prompt.Kind == PromptChoices {
		c.handle(&u, c.bot.Choose(i))
	}
	return u
}

// Consent gives the visitor's decision in the consent dialog.
func (c *Chat) Consent(accept bool) Update {
	var u Update
	if c.bot != nil && c.prompt.Kind == PromptConsent {
		c.handle(&u, c.bot.Consent(accept))
	}
	return u
}

// Answer takes the text of the answer field.
func (c *Chat) Answer(text string) Update {
	var u Update
	if c.bot != nil && c.prompt.Kind == PromptField {
		c.handle(&u, c.bot.Input(text))
		u.Clear = u.Reask == ""
	}
	return u
}

// Compose takes the composer's text. Without a bot, and after the flow handed
// the conversation to a person, it is a message (sent); before that it goes to
// the flow — a question at an faq step, the answer at an ask step, a label at a
// choice step — and is otherwise refused with a hint.
func (c *Chat) Compose(raw string) Update {
	var u Update
	text, err := PrepareText(raw)
	switch {
	case errors.Is(err, ErrEmpty):
		return u
	case errors.Is(err, ErrTooLong):
		u.Hint = c.s.TooLong(MaxChars)
		return u
	}
	if c.bot == nil || c.bot.HandedOff() {
		c.send(&u, text)
		return u
	}
	if c.prompt.Kind == PromptNone {
		u.Hint = c.s.HintNoInput
		return u
	}
	c.handle(&u, c.bot.Input(text))
	u.Clear = u.Reask == "" && u.Hint == ""
	return u
}

// send queues the visitor's text for the person, after every transcript entry
// still waiting to be sealed (the order is kept). While nobody is reachable
// after a handoff the first text is left as a message: a handoff envelope
// (reason 2, no note) marks it, and the text follows as a text envelope; a
// text to a closed conversation, or the first one of the plain chat, asks for
// a person again (WantPerson).
func (c *Chat) send(u *Update, text string) {
	c.share(u)
	if c.bot != nil && c.bot.Sealed() < c.bot.Settled() {
		u.merge(c.model, Changes{Alert: c.model.SetAlert(c.s.AlertOutboxFull, false)})
		return
	}
	want := c.model.ConvState() == session.StateClosed || c.bot == nil && c.sess.State().NextSeq <= 1
	var evs []session.Event
	if c.model.LeaveMode() {
		// Room for both first, so that the text does not stay behind the marker.
		if c.sess.Room() < 2 {
			u.merge(c.model, Changes{Alert: c.model.SetAlert(c.s.AlertOutboxFull, false)})
			return
		}
		out, err := c.sess.SendContent(content.TypeHandoff,
			content.EncodeHandoff(content.Handoff{Reason: content.HandoffMessage}), c.now())
		if err != nil {
			return
		}
		evs = out
	}
	out, err := c.sess.Send(text)
	if err != nil {
		if errors.Is(err, session.ErrOutboxFull) {
			u.merge(c.model, Changes{Alert: c.model.SetAlert(c.s.AlertOutboxFull, false)})
		}
		if len(evs) > 0 {
			u.merge(c.model, c.model.Apply(evs)) // the marker went out: leave mode ends
		}
		return
	}
	evs = append(evs, out...)
	c.stopTyping()
	if want {
		c.sess.WantPerson() // fails only when the session has stopped: nothing is sent then anyway
	}
	u.merge(c.model, c.model.Apply(evs))
	u.Clear, u.Connect = true, true
}

// Typed tells the chat that the composer now holds text (at the chat's
// clock). After the visitor asked for a person, and while connected, the
// relay is told that the visitor types — at most every TypingInterval — and
// that they stopped when the composer is empty again. Before the handoff
// nothing is sent: a conversation with the bot stays in the browser.
func (c *Chat) Typed(text string) {
	if strings.TrimSpace(text) == "" {
		c.stopTyping()
		return
	}
	if c.bot != nil && !c.bot.HandedOff() || !c.model.Asked() || c.sess.Status() != session.StatusReady {
		return
	}
	now := time.UnixMilli(c.now())
	if c.typingOn && now.Sub(c.typingSent) < TypingInterval {
		return
	}
	c.typingOn = c.sess.Typing(c.sess.Conv(), true) == nil
	c.typingSent = now
}

// Blurred tells the chat that the composer lost the focus: a visitor who
// was typing stopped.
func (c *Chat) Blurred() { c.stopTyping() }

func (c *Chat) stopTyping() {
	if c.typingOn {
		c.typingOn = false
		c.sess.Typing(c.sess.Conv(), false) // without a connection the relay drops the indicator itself
	}
}

// Apply handles session events (from the connection) and seals what the freed
// outbox room allows.
func (c *Chat) Apply(evs []session.Event) Update {
	var u Update
	u.merge(c.model, c.model.Apply(evs))
	c.rights(&u, evs)
	if c.bot != nil && !c.erased {
		c.share(&u)
	}
	return u
}

// SetClock sets the clock for the times of corrections, left messages and
// typing, and the model's (nil: time.Now).
func (c *Chat) SetClock(now func() time.Time) {
	c.clock = now
	c.model.SetClock(now)
}

// handle shows the engine's new transcript entries, takes the prompt, reask
// and errors from its outputs and shares what may be shared.
func (c *Chat) handle(u *Update, outs []flowengine.Output) {
	var ch Changes
	for n, t := c.bot.Settled(), c.bot.Transcript(); c.shown < n; c.shown++ {
		c.model.AddEntry(&ch, c.shown, &t[c.shown])
	}
	set := false
	for i := range outs {
		o := &outs[i]
		switch o.Kind {
		case flowengine.OutChoices, flowengine.OutAsk, flowengine.OutConsent:
			c.prompt, set = promptOf(o, c.stepKind(o.Step), c.s), true
		case flowengine.OutReask:
			u.Reask = o.Text
		case flowengine.OutError:
			if o.Fatal {
				if o.Text != "" {
					c.model.AddNote(&ch, o.Text)
				}
			} else {
				u.Hint = c.s.HintNoInput
			}
		}
	}
	if set {
		u.Prompt = true
	} else if c.bot.Status() != flowengine.Waiting && c.prompt.Kind != PromptNone {
		c.prompt, u.Prompt = Prompt{}, true
	}
	u.merge(c.model, ch)
	c.share(u)
}

func (c *Chat) stepKind(id string) flow.Kind {
	if st := c.bot.Flow().Step(id); st != nil {
		return st.Kind
	}
	return 0
}

// share seals the transcript entries the bot releases, in order, as long as
// the outbox has room, and links them to their messages.
func (c *Chat) share(u *Update) {
	var evs []session.Event
	for {
		it, ok := c.bot.Next()
		if !ok {
			break
		}
		if c.sess.Room() < len(it.Envelopes) || it.Consent != nil && c.sess.Consents() >= session.MaxConsents {
			break // later, when the relay has acknowledged some
		}
		queued, stop, handoff := false, false, false
		for k, e := range it.Envelopes {
			out, err := c.sess.SendContent(e.Type, e.Content, e.Time)
			if err != nil {
				stop = !queued // nothing of this entry went out: try again later
				break
			}
			if k == 0 {
				for _, ev := range out {
					if m, ok := ev.(session.MessageEvent); ok && m.Own {
						c.model.Link(it.Index, m.Seq)
					}
				}
			}
			evs = append(evs, out...)
			queued = true
			handoff = handoff || e.Type == content.TypeHandoff
		}
		if stop {
			break
		}
		if handoff {
			c.sess.WantPerson() // with the handoff envelope; fails only when stopped
		}
		if it.Consent != nil {
			out, err := c.sess.SendConsent(session.Consent{FlowVersion: it.Consent.FlowVersion,
				TextHash: it.Consent.TextHash, Accepted: it.Consent.Accepted})
			if err == nil {
				evs = append(evs, out...)
			}
		}
		c.bot.Done()
		u.Connect = true
	}
	ch := c.model.Apply(evs)
	ch.Status = c.model.SetLocal(!c.bot.Shared()) || ch.Status
	u.merge(c.model, ch)
}
