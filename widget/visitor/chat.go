package visitor

import (
	"errors"
	"time"

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
// still waiting to be sealed (the order is kept).
func (c *Chat) send(u *Update, text string) {
	c.share(u)
	if c.bot != nil && c.bot.Sealed() < c.bot.Settled() {
		u.merge(c.model, Changes{Alert: c.model.SetAlert(c.s.AlertOutboxFull, false)})
		return
	}
	evs, err := c.sess.Send(text)
	if err != nil {
		if errors.Is(err, session.ErrOutboxFull) {
			u.merge(c.model, Changes{Alert: c.model.SetAlert(c.s.AlertOutboxFull, false)})
		}
		return
	}
	u.merge(c.model, c.model.Apply(evs))
	u.Clear, u.Connect = true, true
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

// SetClock sets the clock for the times of corrections (nil: time.Now).
func (c *Chat) SetClock(now func() time.Time) { c.clock = now }

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
		queued, stop := false, false
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
		}
		if stop {
			break
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
