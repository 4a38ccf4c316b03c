// Package i18n holds the texts of the visitor widget in German (the default) and
// English.
package i18n

import (
	"strconv"
	"strings"
)

// Lang is a language of the widget.
type Lang uint8

const (
	German Lang = iota
	English
)

// Tag returns the BCP 47 tag for the lang attribute.
func (l Lang) Tag() string {
	if l == English {
		return "en"
	}
	return "de"
}

// Choose picks the language from the browser's preferred languages (most preferred
// first): English if the first one is English, German otherwise.
func Choose(languages []string) Lang {
	if len(languages) > 0 {
		if l := strings.TrimSpace(languages[0]); len(l) >= 2 && l[0]|0x20 == 'e' && l[1]|0x20 == 'n' {
			return English
		}
	}
	return German
}

// Strings are the texts of the widget in one language.
type Strings struct {
	Lang Lang

	Title          string // chat header
	Close          string // accessible name of the close button
	MessagesLabel  string // accessible name of the message log
	InputLabel     string // label of the text box
	Placeholder    string
	Send           string
	BotName        string
	VisitorName    string // label of own messages (for screen readers)
	AgentFallback  string // name of an agent not (or no longer) named in the roster
	Greeting       string // the bot's local greeting; never sent anywhere
	StatePending   string
	StateSent      string
	StateDelivered string
	StateFailed    string

	StatusIdle         string // no connection needed yet
	StatusConnecting   string
	StatusConnected    string
	StatusReconnecting string
	StatusStopped      string

	AlertRoster      string // roster did not verify; nothing is sent
	AlertOffline     string // repeated connection failures
	AlertUnknownSite string // the relay does not know the site
	AlertSetup       string // the frame page's data attributes are wrong
	AlertRateLimited string
	AlertLimit       string // the conversation cannot take more messages
	AlertSendFailed  string // a message was refused
	AlertOutboxFull  string
	AlertStorage     string // storage unavailable: the chat is not kept after a reload
	AlertProblem     string // any other error reported by the server

	// Bot
	StatusLocal         string // bot-only conversation: nothing has left the browser
	QuestionPlaceholder string // composer placeholder while the bot waits for a question
	ChoicesLabel        string // accessible name of a group of choice buttons
	AskSubmit           string // button of an answer field
	LabelText           string // visible labels of answer fields, by input kind
	LabelEmail          string
	LabelPhone          string
	LabelNumber         string
	LabelDate           string
	ConsentTitle        string // heading of the consent dialog
	PrivacyLink         string // text of the privacy-policy link
	NewTab              string // appended to links that open a new tab (screen readers)
	ConsentAccepted     string // the visitor's decision as shown in the chat
	ConsentDeclined     string
	HintNoInput         string // composer text the bot cannot take now
	HintUseControls     string // composer text while buttons are expected

	tooLong [2]string
}

// TooLong is the message shown when a text has more than n characters.
func (s *Strings) TooLong(n int) string { return s.tooLong[0] + strconv.Itoa(n) + s.tooLong[1] }

var de = Strings{
	Lang:           German,
	Title:          "Chat",
	Close:          "Chat schließen",
	MessagesLabel:  "Nachrichten",
	InputLabel:     "Ihre Nachricht",
	Placeholder:    "Nachricht schreiben …",
	Send:           "Senden",
	BotName:        "Assistent",
	VisitorName:    "Sie",
	AgentFallback:  "Support",
	Greeting:       "Hallo! Wie können wir Ihnen helfen?",
	StatePending:   "Wird gesendet…",
	StateSent:      "Gesendet",
	StateDelivered: "Zugestellt",
	StateFailed:    "Nicht gesendet",

	StatusIdle:         "Ende-zu-Ende-verschlüsselt",
	StatusConnecting:   "Verbindung wird hergestellt …",
	StatusConnected:    "Verbunden · Ende-zu-Ende-verschlüsselt",
	StatusReconnecting: "Verbindung unterbrochen, neuer Versuch …",
	StatusStopped:      "Nicht verbunden",

	AlertRoster:      "Die Schlüssel dieser Website konnten nicht bestätigt werden. Es wird nichts gesendet.",
	AlertOffline:     "Keine Verbindung zum Chat. Ihre Nachrichten werden gesendet, sobald die Verbindung wieder steht.",
	AlertUnknownSite: "Dieser Chat ist nicht (mehr) eingerichtet. Es wird nichts gesendet.",
	AlertSetup:       "Dieser Chat ist falsch eingerichtet. Es wird nichts gesendet.",
	AlertRateLimited: "Zu viele Nachrichten in kurzer Zeit. Bitte warten Sie einen Moment.",
	AlertLimit:       "Dieses Gespräch kann keine weiteren Nachrichten aufnehmen.",
	AlertSendFailed:  "Eine Nachricht konnte nicht gesendet werden.",
	AlertOutboxFull:  "Zu viele Nachrichten warten auf den Versand. Bitte warten Sie, bis die Verbindung wieder steht.",
	AlertStorage:     "Ihr Browser erlaubt diesem Chat keine Speicherung. Nach dem Neuladen der Seite ist das Gespräch nicht mehr sichtbar.",
	AlertProblem:     "Beim Chat ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",

	StatusLocal:         "Bleibt in Ihrem Browser · nichts wird gesendet",
	QuestionPlaceholder: "Ihre Frage …",
	ChoicesLabel:        "Antwortmöglichkeiten",
	AskSubmit:           "Antworten",
	LabelText:           "Ihre Antwort",
	LabelEmail:          "Ihre E-Mail-Adresse",
	LabelPhone:          "Ihre Telefonnummer",
	LabelNumber:         "Ihre Antwort (Zahl)",
	LabelDate:           "Datum",
	ConsentTitle:        "Ihre Einwilligung",
	PrivacyLink:         "Datenschutzerklärung",
	NewTab:              " (öffnet in neuem Tab)",
	ConsentAccepted:     "Zugestimmt",
	ConsentDeclined:     "Abgelehnt",
	HintNoInput:         "Der Assistent erwartet gerade keine Texteingabe.",
	HintUseControls:     "Bitte nutzen Sie die Schaltflächen oben.",

	tooLong: [2]string{"Die Nachricht ist zu lang: höchstens ", " Zeichen."},
}

var en = Strings{
	Lang:           English,
	Title:          "Chat",
	Close:          "Close chat",
	MessagesLabel:  "Messages",
	InputLabel:     "Your message",
	Placeholder:    "Write a message …",
	Send:           "Send",
	BotName:        "Assistant",
	VisitorName:    "You",
	AgentFallback:  "Support",
	Greeting:       "Hello! How can we help you?",
	StatePending:   "Sending…",
	StateSent:      "Sent",
	StateDelivered: "Delivered",
	StateFailed:    "Not sent",

	StatusIdle:         "End-to-end encrypted",
	StatusConnecting:   "Connecting …",
	StatusConnected:    "Connected · end-to-end encrypted",
	StatusReconnecting: "Connection lost, trying again …",
	StatusStopped:      "Not connected",

	AlertRoster:      "The keys of this website could not be confirmed. Nothing will be sent.",
	AlertOffline:     "No connection to the chat. Your messages will be sent as soon as the connection is back.",
	AlertUnknownSite: "This chat is not (or no longer) set up. Nothing will be sent.",
	AlertSetup:       "This chat is set up incorrectly. Nothing will be sent.",
	AlertRateLimited: "Too many messages in a short time. Please wait a moment.",
	AlertLimit:       "This conversation cannot take any more messages.",
	AlertSendFailed:  "A message could not be sent.",
	AlertOutboxFull:  "Too many messages are waiting to be sent. Please wait until the connection is back.",
	AlertStorage:     "Your browser does not let this chat store anything. After reloading the page the conversation will no longer be shown.",
	AlertProblem:     "Something went wrong in the chat. Please try again later.",

	StatusLocal:         "Stays in your browser · nothing is sent",
	QuestionPlaceholder: "Your question …",
	ChoicesLabel:        "Options",
	AskSubmit:           "Answer",
	LabelText:           "Your answer",
	LabelEmail:          "Your email address",
	LabelPhone:          "Your phone number",
	LabelNumber:         "Your answer (a number)",
	LabelDate:           "Date",
	ConsentTitle:        "Your consent",
	PrivacyLink:         "Privacy policy",
	NewTab:              " (opens in a new tab)",
	ConsentAccepted:     "Accepted",
	ConsentDeclined:     "Declined",
	HintNoInput:         "The assistant is not expecting text right now.",
	HintUseControls:     "Please use the buttons above.",

	tooLong: [2]string{"The message is too long: at most ", " characters."},
}

// For returns the texts of a language.
func For(l Lang) *Strings {
	if l == English {
		return &en
	}
	return &de
}
