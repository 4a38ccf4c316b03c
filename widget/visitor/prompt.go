package visitor

import (
	"strconv"

	"siegel/shared/flow"
	"siegel/widget/flowengine"
	"siegel/widget/i18n"
)

// PromptKind is the kind of control the bot waits at.
type PromptKind uint8

const (
	PromptNone     PromptKind = iota // no bot control (plain chat, or the flow does not wait)
	PromptChoices                    // one button per option
	PromptField                      // an answer field (text, email, phone, number, date)
	PromptQuestion                   // a free question for the FAQ: the composer takes it
	PromptConsent                    // the consent dialog
)

// Prompt is the bot control to show.
type Prompt struct {
	Kind       PromptKind
	Step       string
	Options    []string // choices: the labels; consent: accept, decline
	Text       string   // consent: the exact consent text
	PrivacyURL string   // consent: the privacy-policy link ("" none)
	Field      Field    // answer field
}

// Field describes an answer field for the DOM.
type Field struct {
	Type         string // the input's type: text, email, tel, number, date
	InputMode    string // inputmode: text, email, tel, decimal ("" none)
	Autocomplete string // autocomplete: email, tel, name, … or "off"
	Label        string // the visible label
	Min, Max     string // number bounds ("" none)
	Step         string // number: "any" (decimals allowed)
	MaxLength    int    // text: maxlength (0 none)
	Personal     bool
}

// promptOf turns the engine's output for a waiting step (of the given kind)
// into a Prompt.
func promptOf(o *flowengine.Output, kind flow.Kind, s *i18n.Strings) Prompt {
	p := Prompt{Step: o.Step}
	switch o.Kind {
	case flowengine.OutChoices:
		p.Kind, p.Options = PromptChoices, append([]string(nil), o.Options...)
	case flowengine.OutConsent:
		p.Kind, p.Options, p.Text, p.PrivacyURL = PromptConsent, append([]string(nil), o.Options...), o.Text, safeURL(o.PrivacyURL)
	case flowengine.OutAsk:
		if kind == flow.KindFAQ {
			p.Kind = PromptQuestion
			return p
		}
		p.Kind, p.Field = PromptField, fieldOf(o, s)
	}
	return p
}

func fieldOf(o *flowengine.Output, s *i18n.Strings) Field {
	f := Field{Type: "text", InputMode: "text", Autocomplete: o.Autocomplete, Label: s.LabelText,
		Personal: o.Personal}
	switch o.Input {
	case flow.InputEmail:
		f.Type, f.InputMode, f.Label = "email", "email", s.LabelEmail
	case flow.InputPhone:
		f.Type, f.InputMode, f.Label = "tel", "tel", s.LabelPhone
	case flow.InputNumber:
		f.Type, f.InputMode, f.Label, f.Step = "number", "decimal", s.LabelNumber, "any"
		if o.Min != nil {
			f.Min = strconv.FormatFloat(*o.Min, 'f', -1, 64)
		}
		if o.Max != nil {
			f.Max = strconv.FormatFloat(*o.Max, 'f', -1, 64)
		}
	case flow.InputDate:
		f.Type, f.InputMode, f.Label = "date", "", s.LabelDate
	default:
		f.MaxLength = o.MaxLength
	}
	if o.HTMLType != "" {
		f.Type = o.HTMLType
	}
	if f.Autocomplete == "" {
		f.Autocomplete = "off"
	}
	return f
}

// safeURL keeps only http and https links ("" otherwise).
func safeURL(u string) string {
	if len(u) > 8 && (u[:7] == "http://" || u[:8] == "https://") {
		return u
	}
	return ""
}
