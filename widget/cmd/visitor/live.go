//go:build js

package main

import (
	"siegel/widget/jsbridge"
	"siegel/widget/visitor"
)

// buildLive creates the live-chat elements: presence in the header, the
// notice (leave a message, an agent joined, closed), the agent's typing
// indicator and the composer's label.
func (a *app) buildLive() {
	el, attr, class, text := jsbridge.El, jsbridge.Attr, jsbridge.Class, jsbridge.Text
	a.presence = el("p", class("siegel-presence"), attr("data-testid", "siegel-presence"), attr("hidden", ""))
	a.notice = el("div", class("siegel-notice"), attr("role", "status"), attr("data-testid", "siegel-notice"))
	// Its text is set once per burst, so that it is announced once.
	a.typing = el("p", class("siegel-typing"), attr("aria-live", "polite"), attr("data-testid", "siegel-typing"),
		attr("hidden", ""))
	a.label = el("label", class("siegel-sr"), attr("for", "siegel-input"), attr("data-testid", "siegel-input-label"),
		text(a.s.InputLabel))
}

var noticeIDs = [...]string{visitor.NoticeLeave: "siegel-leave-message", visitor.NoticeJoined: "siegel-agent-joined",
	visitor.NoticeClosed: "siegel-closed"}

// renderLive applies the live-chat changes.
func (a *app) renderLive(c visitor.Changes) {
	m := a.model
	if c.Live {
		known, online := m.Presence()
		if known {
			t, v := a.s.PresenceOffline, "false"
			if online {
				t, v = a.s.PresenceOnline, "true"
			}
			a.presence.SetText(t)
			a.presence.SetAttr("data-online", v)
			a.presence.RemoveAttr("hidden")
		} else {
			a.presence.SetAttr("hidden", "")
			a.presence.RemoveAttr("data-online")
		}
		a.notice.Clear()
		if n, t := m.Notice(); n != visitor.NoticeNone {
			a.notice.Append(jsbridge.El("p", jsbridge.Class("siegel-notice-text"),
				jsbridge.Attr("data-testid", noticeIDs[n]), jsbridge.Text(t)))
		}
		label := a.s.InputLabel
		if m.LeaveMode() {
			label = a.s.LeaveLabel
		}
		a.label.SetText(label)
		if a.chat != nil && a.chat.Prompt().Kind == visitor.PromptNone {
			a.input.SetAttr("placeholder", a.placeholder())
		}
	}
	if c.Typing {
		a.typingTimer.Stop()
		a.typingTimer = nil
		if t := m.Typing(); t != "" {
			a.typing.SetText(t)
			a.typing.RemoveAttr("hidden")
		} else {
			a.typing.SetAttr("hidden", "")
			a.typing.SetText("")
		}
	}
	if m.Typing() != "" {
		// Dropped after TypingTimeout without a refresh.
		a.typingTimer.Stop()
		a.typingTimer = jsbridge.AfterFunc(m.TypingUntil().Sub(jsbridge.Now()), func() {
			a.typingTimer = nil
			if m.ExpireTyping(jsbridge.Now()) {
				a.render(visitor.Changes{Typing: true})
			}
		})
	}
}

// placeholder is the composer's placeholder outside a bot question.
func (a *app) placeholder() string {
	if a.model.LeaveMode() {
		return a.s.LeaveLabel + " …"
	}
	return a.s.Placeholder
}
