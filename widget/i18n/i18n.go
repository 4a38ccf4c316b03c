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

	// Live chat with a person
	PresenceOnline  string // header, once connected: a person is reachable
	PresenceOffline string // header, once connected: nobody is reachable
	LeaveMessage    string // notice after a handoff while nobody is reachable
	LeaveLabel      string // the composer's label (and placeholder) then
	Closed          string // notice: an agent ended the conversation

	// The "My data" menu and the rights page
	MyData           string // the header button and the panel's heading
	MyDataIntro      string
	MyDataClose      string // accessible name of the panel's close button
	MyDataStatus     string // accessible name of the panel's status line
	ViewTitle        string // heading of the whole conversation
	DataTitle        string // heading of the data the visitor gave
	ConsentsTitle    string // heading of the consent decisions
	ViewEmpty        string
	DataEmpty        string
	ConsentsEmpty    string
	ViewLoading      string // the relay's copy has not arrived yet
	ViewOffline      string // shared, but no connection: only the browser's part is shown
	WhereBrowser     string // marker of entries kept only in this browser
	WhereSending     string // marker of entries waiting to be sent
	PersonalMark     string // marker of personal data
	CorrectedMark    string // marker of a corrected answer
	HandoffPerson    string // a handoff entry: the visitor asked for a person
	HandoffMessage   string // a handoff entry: the visitor left a message
	Correct          string // button on a data entry
	CorrectLabel     string // label of the correction field, followed by the field's name
	CorrectSave      string
	CorrectCancel    string
	CorrectSending   string
	CorrectDone      string
	CorrectFailed    string
	InvalidEmpty     string // a correction was refused: why
	InvalidText      string
	InvalidTooShort  string
	InvalidTooLong   string
	InvalidEmail     string
	InvalidPhone     string
	InvalidNumber    string
	InvalidDate      string
	Unchanged        string // the corrected value equals the stored one
	ExportTitle      string
	ExportHint       string
	ExportJSON       string
	ExportHTML       string
	ExportDone       string
	ExportFailed     string
	CodeTitle        string
	CodeHint         string
	CodeWarning      string // whoever has the code can read and delete the conversation
	CodeLabel        string // accessible name of the code field
	CodeCopy         string
	CodeCopied       string
	CodeCopyFailed   string
	DeleteTitle      string
	DeleteHint       string
	Delete           string // the button that asks for the confirmation
	DeleteWarning    string // the consequences, shown with the confirmation
	DeleteConfirm    string
	DeleteCancel     string
	Deleting         string
	DeleteFailed     string
	Deleted          string // after the visitor's erasure
	DeletedElsewhere string // the conversation was erased by someone else (or retention)
	Restart          string // start a fresh conversation after an erasure
	RightsIntro      string // the rights page: what the code is for
	RightsCodeLabel  string
	RightsOpen       string
	RightsOpening    string
	RightsClose      string // forget the code and close the conversation
	RightsBadCode    string
	RightsChecksum   string
	RightsVersion    string
	RightsOtherSite  string
	RightsGone       string
	RightsFailed     string
	ExportHeading    string // the exported HTML file: its heading
	ExportSite       string
	ExportConv       string
	ExportedAt       string
	ExportField      string // the data table: the field's name
	ExportValue      string
	ExportTime       string
	ExportDecision   string
	ExportFlow       string // flow version
	ExportTextHash   string // SHA-256 of the consent text
	ExportNote       string // what the file is and where it came from

	tooLong [2]string
	joined  [2]string // around an agent's name: the agent took the conversation over
	typing  [2]string // around an agent's name: the agent is typing

	// Not comparable: no equality function for this large struct is linked
	// into the WebAssembly.
	_ [0]func()
}

// TooLong is the message shown when a text has more than n characters.
func (s *Strings) TooLong(n int) string { return s.tooLong[0] + strconv.Itoa(n) + s.tooLong[1] }

// AgentJoined is the notice shown when the agent named name takes the
// conversation over.
func (s *Strings) AgentJoined(name string) string { return s.joined[0] + name + s.joined[1] }

// Typing is the indicator shown while the agent named name is typing.
func (s *Strings) Typing(name string) string { return s.typing[0] + name + s.typing[1] }

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

	PresenceOnline:  "Ein Mensch ist erreichbar",
	PresenceOffline: "Gerade ist niemand erreichbar",
	LeaveMessage:    "Gerade ist niemand erreichbar. Sie können eine Nachricht hinterlassen – sie wartet, bis jemand da ist.",
	LeaveLabel:      "Nachricht hinterlassen",
	Closed:          "Das Gespräch wurde beendet. Mit einer neuen Nachricht beginnen Sie es wieder.",

	MyData:           "Meine Daten",
	MyDataIntro:      "Hier sehen Sie alles, was dieses Gespräch enthält. Sie können Ihre Angaben korrigieren, alles herunterladen oder das Gespräch löschen.",
	MyDataClose:      "„Meine Daten“ schließen",
	MyDataStatus:     "Meldungen",
	ViewTitle:        "Das ganze Gespräch",
	DataTitle:        "Ihre Angaben",
	ConsentsTitle:    "Ihre Einwilligungen",
	ViewEmpty:        "Noch keine Nachrichten.",
	DataEmpty:        "Sie haben keine Angaben gemacht.",
	ConsentsEmpty:    "Sie haben über keine Einwilligung entschieden.",
	ViewLoading:      "Das Gespräch wird vom Server geladen …",
	ViewOffline:      "Keine Verbindung: Es wird nur angezeigt, was dieser Browser gespeichert hat.",
	WhereBrowser:     "nur in diesem Browser",
	WhereSending:     "wird gesendet",
	PersonalMark:     "personenbezogen",
	CorrectedMark:    "korrigiert",
	HandoffPerson:    "Sie haben um ein Gespräch mit einem Menschen gebeten.",
	HandoffMessage:   "Sie haben eine Nachricht hinterlassen.",
	Correct:          "Korrigieren",
	CorrectLabel:     "Neuer Wert für",
	CorrectSave:      "Speichern",
	CorrectCancel:    "Abbrechen",
	CorrectSending:   "Die Korrektur wird gesendet …",
	CorrectDone:      "Ihre Angabe wurde korrigiert.",
	CorrectFailed:    "Die Korrektur ist fehlgeschlagen. Ihre Angabe ist unverändert. Bitte versuchen Sie es erneut.",
	InvalidEmpty:     "Bitte geben Sie einen Wert ein.",
	InvalidText:      "Diese Eingabe hat nicht das erwartete Format.",
	InvalidTooShort:  "Die Eingabe ist zu kurz.",
	InvalidTooLong:   "Die Eingabe ist zu lang.",
	InvalidEmail:     "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@example.com.",
	InvalidPhone:     "Bitte geben Sie eine gültige Telefonnummer ein (6 bis 15 Ziffern).",
	InvalidNumber:    "Bitte geben Sie eine Zahl im erlaubten Bereich ein.",
	InvalidDate:      "Bitte geben Sie ein gültiges Datum ein (JJJJ-MM-TT).",
	Unchanged:        "Der Wert ist unverändert.",
	ExportTitle:      "Herunterladen",
	ExportHint:       "Eine Kopie des Gesprächs, Ihrer Angaben und Einwilligungen. Die Datei entsteht in Ihrem Browser.",
	ExportJSON:       "Als JSON-Datei (maschinenlesbar)",
	ExportHTML:       "Als HTML-Datei (zum Lesen)",
	ExportDone:       "Die Datei wurde erstellt.",
	ExportFailed:     "Die Datei konnte nicht erstellt werden.",
	CodeTitle:        "Gesprächscode",
	CodeHint:         "Mit diesem Code können Sie Ihr Gespräch auch auf einem anderen Gerät ansehen, herunterladen, korrigieren oder löschen.",
	CodeWarning:      "Achtung: Wer diesen Code hat, kann Ihr Gespräch lesen und löschen. Geben Sie ihn nicht weiter.",
	CodeLabel:        "Ihr Gesprächscode",
	CodeCopy:         "Code kopieren",
	CodeCopied:       "Der Code wurde kopiert.",
	CodeCopyFailed:   "Kopieren ist nicht möglich. Bitte markieren und kopieren Sie den Code selbst.",
	DeleteTitle:      "Alles löschen",
	DeleteHint:       "Löscht das ganze Gespräch – auf dem Server und in diesem Browser.",
	Delete:           "Alles löschen …",
	DeleteWarning:    "Das Gespräch, alle Ihre Angaben und Einwilligungen werden endgültig gelöscht: auf dem Server, für die Mitarbeitenden und in diesem Browser. Das lässt sich nicht rückgängig machen, und Ihr Gesprächscode wird ungültig.",
	DeleteConfirm:    "Endgültig löschen",
	DeleteCancel:     "Abbrechen",
	Deleting:         "Wird gelöscht …",
	DeleteFailed:     "Das Löschen ist fehlgeschlagen. Es wurde nichts gelöscht. Bitte versuchen Sie es erneut.",
	Deleted:          "Ihre Daten wurden gelöscht.",
	DeletedElsewhere: "Dieses Gespräch wurde gelöscht.",
	Restart:          "Neues Gespräch beginnen",
	RightsIntro:      "Geben Sie den Gesprächscode ein, den Sie im Chat unter „Meine Daten“ erhalten haben. Der Code wird nicht gespeichert.",
	RightsCodeLabel:  "Gesprächscode",
	RightsOpen:       "Öffnen",
	RightsOpening:    "Verbindung wird hergestellt …",
	RightsClose:      "Schließen und Code vergessen",
	RightsBadCode:    "Das ist kein gültiger Gesprächscode. Bitte prüfen Sie Ihre Eingabe.",
	RightsChecksum:   "Der Code enthält einen Tipp- oder Kopierfehler. Bitte prüfen Sie ihn.",
	RightsVersion:    "Dieser Code stammt aus einer anderen Version und kann hier nicht verwendet werden.",
	RightsOtherSite:  "Dieser Code gehört zu einer anderen Website.",
	RightsGone:       "Dieses Gespräch gibt es nicht mehr: Es wurde gelöscht.",
	RightsFailed:     "Die Verbindung ist fehlgeschlagen. Bitte versuchen Sie es später erneut.",
	ExportHeading:    "Ihr Chat-Gespräch",
	ExportSite:       "Website",
	ExportConv:       "Gespräch",
	ExportedAt:       "Erstellt am",
	ExportField:      "Angabe",
	ExportValue:      "Wert",
	ExportTime:       "Zeit",
	ExportDecision:   "Entscheidung",
	ExportFlow:       "Flow-Version",
	ExportTextHash:   "Einwilligungstext (SHA-256)",
	ExportNote:       "Diese Datei hat Ihr Browser aus dem Ende-zu-Ende-verschlüsselten Gespräch erstellt.",

	tooLong: [2]string{"Die Nachricht ist zu lang: höchstens ", " Zeichen."},
	joined:  [2]string{"", " ist jetzt für Sie da"},
	typing:  [2]string{"", " schreibt …"},
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

	PresenceOnline:  "A person is available",
	PresenceOffline: "Nobody is available right now",
	LeaveMessage:    "Nobody is available right now. You can leave a message – it waits until someone is there.",
	LeaveLabel:      "Leave a message",
	Closed:          "The conversation has ended. Send a new message to start it again.",

	MyData:           "My data",
	MyDataIntro:      "Here you see everything this conversation holds. You can correct your data, download everything or delete the conversation.",
	MyDataClose:      "Close “My data”",
	MyDataStatus:     "Messages",
	ViewTitle:        "The whole conversation",
	DataTitle:        "Data you gave",
	ConsentsTitle:    "Your consent decisions",
	ViewEmpty:        "No messages yet.",
	DataEmpty:        "You have not given any data.",
	ConsentsEmpty:    "You have not decided on any consent.",
	ViewLoading:      "Loading the conversation from the server …",
	ViewOffline:      "No connection: only what this browser stored is shown.",
	WhereBrowser:     "only in this browser",
	WhereSending:     "being sent",
	PersonalMark:     "personal",
	CorrectedMark:    "corrected",
	HandoffPerson:    "You asked to talk to a person.",
	HandoffMessage:   "You left a message.",
	Correct:          "Correct",
	CorrectLabel:     "New value for",
	CorrectSave:      "Save",
	CorrectCancel:    "Cancel",
	CorrectSending:   "Sending the correction …",
	CorrectDone:      "Your data has been corrected.",
	CorrectFailed:    "The correction failed. Your data is unchanged. Please try again.",
	InvalidEmpty:     "Please enter a value.",
	InvalidText:      "This is not in the expected format.",
	InvalidTooShort:  "That is too short.",
	InvalidTooLong:   "That is too long.",
	InvalidEmail:     "Please enter a valid email address, for example name@example.com.",
	InvalidPhone:     "Please enter a valid phone number (6 to 15 digits).",
	InvalidNumber:    "Please enter a number in the allowed range.",
	InvalidDate:      "Please enter a valid date (YYYY-MM-DD).",
	Unchanged:        "The value is unchanged.",
	ExportTitle:      "Download",
	ExportHint:       "A copy of the conversation, your data and your consent decisions. The file is made in your browser.",
	ExportJSON:       "As a JSON file (machine-readable)",
	ExportHTML:       "As an HTML file (to read)",
	ExportDone:       "The file has been created.",
	ExportFailed:     "The file could not be created.",
	CodeTitle:        "Conversation code",
	CodeHint:         "With this code you can view, download, correct or delete your conversation on another device as well.",
	CodeWarning:      "Caution: whoever has this code can read and delete your conversation. Do not share it.",
	CodeLabel:        "Your conversation code",
	CodeCopy:         "Copy code",
	CodeCopied:       "The code has been copied.",
	CodeCopyFailed:   "Copying is not possible. Please select and copy the code yourself.",
	DeleteTitle:      "Delete everything",
	DeleteHint:       "Deletes the whole conversation – on the server and in this browser.",
	Delete:           "Delete everything …",
	DeleteWarning:    "The conversation, all your data and consent decisions will be deleted for good: on the server, for the staff and in this browser. This cannot be undone, and your conversation code stops working.",
	DeleteConfirm:    "Delete for good",
	DeleteCancel:     "Cancel",
	Deleting:         "Deleting …",
	DeleteFailed:     "Deleting failed. Nothing was deleted. Please try again.",
	Deleted:          "Your data has been deleted.",
	DeletedElsewhere: "This conversation has been deleted.",
	Restart:          "Start a new conversation",
	RightsIntro:      "Enter the conversation code you got in the chat under “My data”. The code is not stored.",
	RightsCodeLabel:  "Conversation code",
	RightsOpen:       "Open",
	RightsOpening:    "Connecting …",
	RightsClose:      "Close and forget the code",
	RightsBadCode:    "This is not a valid conversation code. Please check what you entered.",
	RightsChecksum:   "The code contains a typing or copying mistake. Please check it.",
	RightsVersion:    "This code is from another version and cannot be used here.",
	RightsOtherSite:  "This code belongs to another website.",
	RightsGone:       "This conversation no longer exists: it has been deleted.",
	RightsFailed:     "The connection failed. Please try again later.",
	ExportHeading:    "Your chat conversation",
	ExportSite:       "Site",
	ExportConv:       "Conversation",
	ExportedAt:       "Created at",
	ExportField:      "Field",
	ExportValue:      "Value",
	ExportTime:       "Time",
	ExportDecision:   "Decision",
	ExportFlow:       "Flow version",
	ExportTextHash:   "Consent text (SHA-256)",
	ExportNote:       "Your browser made this file from the end-to-end encrypted conversation.",

	tooLong: [2]string{"The message is too long: at most ", " characters."},
	joined:  [2]string{"", " is here for you now"},
	typing:  [2]string{"", " is typing …"},
}

// For returns the texts of a language.
func For(l Lang) *Strings {
	if l == English {
		return &en
	}
	return &de
}
