//go:build js

package main

import (
	"strconv"

	"siegel/widget/jsbridge"
	"siegel/widget/visitor"
)

// renderPrompt replaces the bot control (choices, answer field, consent
// dialog) with the chat's current prompt and moves the focus to it: the first
// button, the field, the dialog, or the composer for a question.
func (a *app) renderPrompt() {
	el, attr, class, text := jsbridge.El, jsbridge.Attr, jsbridge.Class, jsbridge.Text
	s := a.s
	p := a.chat.Prompt()
	a.actions.Clear()
	a.field, a.fieldError, a.focusEl = jsbridge.Element{}, jsbridge.Element{}, jsbridge.Element{}
	a.input.SetAttr("placeholder", a.placeholder())
	switch p.Kind {
	case visitor.PromptChoices:
		group := el("div", class("siegel-choices"), attr("role", "group"), attr("aria-label", s.ChoicesLabel),
			attr("data-testid", "siegel-choices"))
		for i, label := range p.Options {
			i := i
			b := el("button", class("siegel-choice"), attr("type", "button"), attr("data-testid", "siegel-choice"),
				text(label))
			b.On("click", func(jsbridge.Event) { a.update(a.chat.Choose(i), ctlButton) })
			group.Append(b)
			if i == 0 {
				a.focusEl = b
			}
		}
		a.actions.Append(group)

	case visitor.PromptField:
		f := p.Field
		a.field = el("input", class("siegel-ask-input"), attr("id", "siegel-field"), attr("data-testid", "siegel-field"),
			attr("name", "siegel-field"), attr("type", f.Type), attr("autocomplete", f.Autocomplete),
			attr("aria-describedby", "siegel-field-error"), attr("aria-required", "true"))
		if f.InputMode != "" {
			a.field.SetAttr("inputmode", f.InputMode)
		}
		if f.Min != "" {
			a.field.SetAttr("min", f.Min)
		}
		if f.Max != "" {
			a.field.SetAttr("max", f.Max)
		}
		if f.Step != "" {
			a.field.SetAttr("step", f.Step)
		}
		if f.MaxLength > 0 {
			a.field.SetAttr("maxlength", strconv.Itoa(f.MaxLength))
		}
		a.fieldError = el("p", class("siegel-ask-error"), attr("id", "siegel-field-error"),
			attr("data-testid", "siegel-field-error"), attr("role", "alert"))
		form := el("form", class("siegel-ask"), attr("novalidate", ""), attr("data-testid", "siegel-ask"),
			jsbridge.Children(
				el("label", class("siegel-ask-label"), attr("for", "siegel-field"), text(f.Label)),
				el("div", class("siegel-row"), jsbridge.Children(a.field,
					el("button", class("siegel-ask-submit"), attr("type", "submit"),
						attr("data-testid", "siegel-field-submit"), text(s.AskSubmit)))),
				a.fieldError))
		field := a.field
		form.On("submit", func(ev jsbridge.Event) {
			ev.PreventDefault()
			a.update(a.chat.Answer(field.Value()), ctlField)
		})
		a.actions.Append(form)
		a.focusEl = a.field

	case visitor.PromptConsent:
		dialog := el("div", class("siegel-consent"), attr("role", "dialog"), attr("aria-modal", "false"),
			attr("aria-labelledby", "siegel-consent-title"), attr("aria-describedby", "siegel-consent-text"),
			attr("data-testid", "siegel-consent"), attr("tabindex", "-1"), jsbridge.Children(
				el("h2", class("siegel-consent-title"), attr("id", "siegel-consent-title"), text(s.ConsentTitle)),
				el("p", class("siegel-consent-text"), attr("id", "siegel-consent-text"),
					attr("data-testid", "siegel-consent-text"), text(p.Text))))
		if p.PrivacyURL != "" {
			dialog.Append(el("a", class("siegel-privacy"), attr("href", p.PrivacyURL), attr("target", "_blank"),
				attr("rel", "noopener noreferrer"), attr("data-testid", "siegel-privacy"),
				jsbridge.Children(el("span", text(s.PrivacyLink)), el("span", class("siegel-sr"), text(s.NewTab)))))
		}
		labels := [2]string{s.ConsentAccepted, s.ConsentDeclined}
		copy(labels[:], p.Options)
		// Equal weight: the same element, class and size for both decisions.
		accept := el("button", class("siegel-consent-btn"), attr("type", "button"),
			attr("data-testid", "siegel-consent-accept"), text(labels[0]))
		decline := el("button", class("siegel-consent-btn"), attr("type", "button"),
			attr("data-testid", "siegel-consent-decline"), text(labels[1]))
		accept.On("click", func(jsbridge.Event) { a.update(a.chat.Consent(true), ctlButton) })
		decline.On("click", func(jsbridge.Event) { a.update(a.chat.Consent(false), ctlButton) })
		dialog.Append(el("div", class("siegel-consent-buttons"), jsbridge.Children(accept, decline)))
		a.actions.Append(dialog)
		a.focusEl = dialog

	case visitor.PromptQuestion:
		a.input.SetAttr("placeholder", s.QuestionPlaceholder)
	}
	switch {
	case a.focusEl.Valid():
		a.focus(a.focusEl)
	case !a.stopped:
		a.focus(a.input)
	}
}
