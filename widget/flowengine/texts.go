package flowengine

import (
	"strconv"
	"strings"

	"siegel/shared/flow"
)

// builtin holds the engine's own texts in one language: German for language
// tags starting with "de", English for every other.
type builtin struct {
	notUnderstood, askQuestion, chooseOption, useConsentButtons string
	accept, decline                                             string
	empty, invalidText, tooShort, tooLong, noMatch              string
	email, phone, number, numberMin, numberMax, numberBetween   string
	date, failed                                                string
}

var builtinDE = builtin{
	notUnderstood:     "Das habe ich leider nicht verstanden.",
	askQuestion:       "Bitte stellen Sie Ihre Frage.",
	chooseOption:      "Bitte wählen Sie eine der Möglichkeiten.",
	useConsentButtons: "Bitte stimmen Sie zu oder lehnen Sie ab.",
	accept:            "Einverstanden",
	decline:           "Ablehnen",
	empty:             "Bitte geben Sie etwas ein.",
	invalidText:       "Diese Eingabe kann ich leider nicht annehmen. Bitte versuchen Sie es noch einmal.",
	tooShort:          "Die Eingabe ist zu kurz: mindestens {n} Zeichen.",
	tooLong:           "Die Eingabe ist zu lang: höchstens {n} Zeichen.",
	noMatch:           "Die Eingabe hat nicht das erwartete Format. Bitte versuchen Sie es noch einmal.",
	email:             "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@example.com.",
	phone:             "Bitte geben Sie eine gültige Telefonnummer ein (6 bis 15 Ziffern, Leerzeichen und + sind erlaubt).",
	number:            "Bitte geben Sie eine Zahl ein.",
	numberMin:         "Bitte geben Sie eine Zahl ab {min} ein.",
	numberMax:         "Bitte geben Sie eine Zahl bis {max} ein.",
	numberBetween:     "Bitte geben Sie eine Zahl von {min} bis {max} ein.",
	date:              "Bitte geben Sie ein gültiges Datum ein (JJJJ-MM-TT).",
	failed:            "Hier kann ich leider nicht weiterhelfen.",
}

var builtinEN = builtin{
	notUnderstood:     "Sorry, I did not understand that.",
	askQuestion:       "Please type your question.",
	chooseOption:      "Please choose one of the options.",
	useConsentButtons: "Please accept or decline.",
	accept:            "Accept",
	decline:           "Decline",
	empty:             "Please enter something.",
	invalidText:       "Sorry, I cannot accept this input. Please try again.",
	tooShort:          "That is too short: at least {n} characters.",
	tooLong:           "That is too long: at most {n} characters.",
	noMatch:           "That is not in the expected format. Please try again.",
	email:             "Please enter a valid email address, for example name@example.com.",
	phone:             "Please enter a valid phone number (6 to 15 digits; spaces and + are allowed).",
	number:            "Please enter a number.",
	numberMin:         "Please enter a number of at least {min}.",
	numberMax:         "Please enter a number of at most {max}.",
	numberBetween:     "Please enter a number from {min} to {max}.",
	date:              "Please enter a valid date (YYYY-MM-DD).",
	failed:            "Sorry, I cannot help any further here.",
}

func texts(lang string) *builtin {
	if len(lang) >= 2 && lang[0]|0x20 == 'd' && lang[1]|0x20 == 'e' {
		return &builtinDE
	}
	return &builtinEN
}

// retryText is the message shown when Validate refused an input.
func (e *Engine) retryText(st *flow.Step, err error) string {
	if st.Retry != nil {
		return e.text(st.Retry)
	}
	b := texts(e.lang)
	switch err {
	case ErrEmpty:
		return b.empty
	case ErrTooShort:
		if st.Input == flow.InputText {
			return strings.ReplaceAll(b.tooShort, "{n}", strconv.Itoa(st.MinLength))
		}
	case ErrTooLong:
		if st.Input == flow.InputText || st.Input == 0 {
			n := st.MaxLength
			if n == 0 {
				n = flow.MaxInputLength
			}
			return strings.ReplaceAll(b.tooLong, "{n}", strconv.Itoa(n))
		}
	case ErrPattern:
		return b.noMatch
	}
	switch st.Input {
	case flow.InputEmail:
		return b.email
	case flow.InputPhone:
		return b.phone
	case flow.InputNumber:
		num := func(p *float64) string { return strconv.FormatFloat(*p, 'f', -1, 64) }
		switch {
		case st.Min != nil && st.Max != nil:
			return strings.ReplaceAll(strings.ReplaceAll(b.numberBetween, "{min}", num(st.Min)), "{max}", num(st.Max))
		case st.Min != nil:
			return strings.ReplaceAll(b.numberMin, "{min}", num(st.Min))
		case st.Max != nil:
			return strings.ReplaceAll(b.numberMax, "{max}", num(st.Max))
		}
		return b.number
	case flow.InputDate:
		return b.date
	}
	return b.invalidText
}
