package agent

import "strings"

// Lang is a user-interface language.
type Lang uint8

const (
	// German is the default language.
	German Lang = iota
	// English is used when the browser prefers it.
	English
)

// Code returns the BCP 47 code of the language ("de" or "en").
func (l Lang) Code() string {
	if l == English {
		return "en"
	}
	return "de"
}

// PickLang chooses the interface language from the browser's preferred
// languages (navigator.languages, most preferred first): the first entry that
// is German or English decides; German is the default.
func PickLang(prefs []string) Lang {
	for _, p := range prefs {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "de" || strings.HasPrefix(p, "de-") {
			return German
		}
		if p == "en" || strings.HasPrefix(p, "en-") {
			return English
		}
	}
	return German
}

// Text holds every user-visible string of the agent page in one language.
type Text struct {
	Lang Lang

	Title string

	// Unlock and key import.
	ImportTitle  string
	UnlockTitle  string
	NoKey        string
	ImportKey    string
	ImportHint   string
	LoadDemo     string
	LoadingKey   string
	Locked       string
	Passphrase   string
	Unlock       string
	Unlocking    string
	ExportKey    string
	ForgetKey    string
	ForgetAsk    string
	WrongPass    string
	EmptyPass    string
	BadKeyFile   string
	KeyVersion   string
	KeyLoadError string
	StorageError string
	LoggedInAs   string
	Lock         string

	// Connection.
	Connecting   string
	Online       string
	Offline      string
	RetryIn      string // followed by a number of seconds and Seconds
	Seconds      string
	Reconnect    string
	ErrRoster    string
	ErrNotAgent  string
	ErrSite      string
	ErrProtocol  string
	ErrServer    string
	ErrRate      string
	ErrTooLarge  string
	ErrLimit     string
	ErrNotFound  string
	ErrForbidden string
	ErrVersion   string
	ErrPage      string
	ErrOtherSite string

	// Conversations.
	Conversations   string
	NoConversations string
	Conversation    string
	Unread          string
	UnreadOne       string
	UnreadMany      string // follows the count
	Started         string
	LastActivity    string
	Select          string
	Loading         string
	Back            string

	// Transcript and reply.
	Transcript   string
	Visitor      string
	You          string
	Pending      string
	Sent         string
	Failed       string
	SendFailed   string
	NotSynced    string
	NoVisitorKey string
	OutboxFull   string
	Stopped      string
	Unreadable   string
	ReplyLabel   string
	ReplyHint    string
	Send         string
	EmptyReply   string
	TooLong      string
	SendOffline  string
	Today        string
	Yesterday    string
	UnknownAgent string

	// The bot's transcript.
	Bot             string
	Personal        string // marker of a personal answer
	PersonalLabel   string // its accessible explanation
	ConsentAccepted string
	ConsentDeclined string
	FlowVersion     string // followed by the number
	TextHash        string // followed by the first 8 hex digits of the text hash
	HandoffPerson   string
	HandoffMessage  string
	Waiting         string // conversation list: a handoff without an answer

	// Consent receipts of the relay.
	Receipts    string
	ReceiptsFor string // explanation of the receipts panel

	// Corrections and deletion.
	Corrected        string // marker of an answer the visitor corrected
	CorrectedLabel   string // its accessible explanation
	Delete           string // the button on an open conversation
	DeleteAsk        string // the consequences, shown with the confirmation
	DeleteConfirm    string
	DeleteCancel     string
	Deleting         string
	Deleted          string // this agent deleted the open conversation
	DeletedElsewhere string // deleted by someone else; "%s" stands for the short ID
	DeleteFailed     string
	ErrReplay        string // the relay refused a request counter
	ErrGone          string // the conversation no longer exists

	// Key generation.
	Generate       string
	GenerateTitle  string
	GenerateHint   string
	AgentName      string
	SiteField      string
	OwnerField     string
	OwnerHint      string
	NewPass        string
	NewPassAgain   string
	NewPassHint    string
	Create         string
	Cancel         string
	Generating     string
	BadName        string
	BadSite        string
	BadOwner       string
	PassShort      string
	PassMismatch   string
	GenerateFailed string
	PubTitle       string
	PubLabel       string
	PubHint        string // the site owner adds the line with `relay roster add`
	Copy           string
	Copied         string
	CopyFailed     string
	Backup         string
	BackupHint     string
	NotInRoster    string

	// Live chat.
	GroupWaiting   string
	GroupLive      string
	GroupBot       string
	GroupClosed    string
	By             string // followed by an agent's name: "von Bert"
	ByYou          string
	TakenBy        string // followed by an agent's name
	Takeover       string
	TakeoverFailed string
	EndConv        string
	EndAsk         string
	EndConfirm     string
	CloseFailed    string
	VisitorTyping  string
	AgentTyping    string // follows an agent's name
	NotifyEnable   string
	NotifyOn       string
	NotifyDenied   string
	NotifyTitle    string
	NotifyBody     string
	Removed        string

	fields []field // labels of well-known variable names
}

var textDE = Text{
	Lang:  German,
	Title: "Siegel – Posteingang",

	ImportTitle:  "Agenten-Schlüssel einrichten",
	UnlockTitle:  "Schlüssel entsperren",
	NoKey:        "In diesem Browser ist noch kein Agenten-Schlüssel gespeichert.",
	ImportKey:    "Schlüsseldatei importieren",
	ImportHint:   "Wählen Sie die Schlüsseldatei, die Sie vom Website-Betreiber erhalten oder als Sicherung exportiert haben.",
	LoadDemo:     "Demo-Schlüssel laden",
	LoadingKey:   "Lade Schlüssel…",
	Locked:       "Ihr Schlüssel ist mit einer Passphrase geschützt.",
	Passphrase:   "Passphrase",
	Unlock:       "Entsperren",
	Unlocking:    "Entsperre…",
	ExportKey:    "Schlüsseldatei sichern",
	ForgetKey:    "Schlüssel aus diesem Browser entfernen",
	ForgetAsk:    "Schlüssel wirklich aus diesem Browser entfernen? Ohne Sicherung ist er verloren.",
	WrongPass:    "Die Passphrase ist falsch. Bitte versuchen Sie es noch einmal.",
	EmptyPass:    "Bitte geben Sie Ihre Passphrase ein.",
	BadKeyFile:   "Das ist keine gültige Siegel-Schlüsseldatei.",
	KeyVersion:   "Diese Schlüsseldatei stammt aus einer neueren Version und wird nicht unterstützt.",
	KeyLoadError: "Die Schlüsseldatei konnte nicht geladen werden.",
	StorageError: "Der Schlüssel konnte in diesem Browser nicht gespeichert werden.",
	LoggedInAs:   "Angemeldet als",
	Lock:         "Sperren",

	Connecting:   "Verbinde…",
	Online:       "Verbunden",
	Offline:      "Keine Verbindung.",
	RetryIn:      "Neuer Versuch in",
	Seconds:      "s",
	Reconnect:    "Jetzt verbinden",
	ErrRoster:    "Die Agentenliste der Website ist ungültig oder nicht vom Eigentümer signiert. Aus Sicherheitsgründen wird nichts angezeigt.",
	ErrNotAgent:  "Ihr Schlüssel steht nicht (mehr) in der Agentenliste dieser Website.",
	ErrSite:      "Die Website ist dem Server unbekannt.",
	ErrProtocol:  "Der Server hat unerwartet geantwortet.",
	ErrServer:    "Fehler auf dem Server. Bitte später erneut versuchen.",
	ErrRate:      "Zu viele Anfragen. Bitte kurz warten.",
	ErrTooLarge:  "Die Nachricht ist zu groß.",
	ErrLimit:     "Das Gespräch hat die Höchstzahl an Nachrichten erreicht.",
	ErrNotFound:  "Dieses Gespräch gibt es nicht mehr.",
	ErrForbidden: "Das ist mit Ihrem Schlüssel nicht erlaubt.",
	ErrVersion:   "Der Server spricht eine andere Protokollversion. Bitte laden Sie die Seite neu.",
	ErrPage:      "Die Seite ist fehlerhaft eingerichtet (ungültige Website-Kennung).",
	ErrOtherSite: "Dieser Schlüssel gehört zu einer anderen Website.",

	Conversations:   "Gespräche",
	NoConversations: "Noch keine Gespräche.",
	Conversation:    "Gespräch",
	Unread:          "ungelesen",
	UnreadOne:       "1 ungelesene Nachricht",
	UnreadMany:      "ungelesene Nachrichten",
	Started:         "begonnen",
	LastActivity:    "zuletzt aktiv",
	Select:          "Wählen Sie links ein Gespräch aus.",
	Loading:         "Lade Gespräch…",
	Back:            "Zurück zur Liste",

	Transcript:   "Verlauf",
	Visitor:      "Besucher",
	You:          "Sie",
	Pending:      "wird gesendet…",
	Sent:         "gesendet",
	Failed:       "nicht gesendet",
	SendFailed:   "Die Antwort wurde nicht angenommen und nicht gesendet.",
	NotSynced:    "Das Gespräch wird noch geladen. Bitte senden Sie gleich noch einmal.",
	NoVisitorKey: "Der Besucher hat noch nichts geschrieben; eine Antwort ist noch nicht möglich.",
	OutboxFull:   "Zu viele Antworten warten auf die Verbindung. Bitte warten Sie, bis sie gesendet sind.",
	Stopped:      "Die Verbindung wurde aus Sicherheitsgründen beendet; es wird nichts gesendet.",
	Unreadable:   "Unlesbare Nachricht: Sie konnte nicht entschlüsselt oder gelesen werden.",
	ReplyLabel:   "Antwort",
	ReplyHint:    "Enter sendet, Umschalt+Enter beginnt eine neue Zeile.",
	Send:         "Senden",
	EmptyReply:   "Bitte geben Sie eine Antwort ein.",
	TooLong:      "Die Antwort ist zu lang.",
	SendOffline:  "Keine Verbindung – die Antwort wird gesendet, sobald die Verbindung steht.",
	Today:        "heute",
	Yesterday:    "gestern",
	UnknownAgent: "Agent",

	Bot:             "Bot",
	Personal:        "personenbezogen",
	PersonalLabel:   "Personenbezogene Angabe, nach Einwilligung gesendet",
	ConsentAccepted: "Einwilligung erteilt",
	ConsentDeclined: "Einwilligung abgelehnt",
	FlowVersion:     "Flow-Version",
	TextHash:        "Text",
	HandoffPerson:   "Der Besucher möchte mit einem Menschen sprechen",
	HandoffMessage:  "Der Besucher hat eine Nachricht hinterlassen",
	Waiting:         "wartet auf Antwort",

	Receipts:    "Einwilligungsnachweise",
	ReceiptsFor: "Nachweis beim Server, ohne personenbezogene Daten: wann der Besucher welcher Fassung des Einwilligungstexts (Flow-Version, Prüfsumme) zugestimmt oder sie abgelehnt hat.",

	Corrected:        "korrigiert",
	CorrectedLabel:   "Vom Besucher korrigierte Angabe; der alte Wert ist gelöscht",
	Delete:           "Gespräch löschen",
	DeleteAsk:        "Das Gespräch wird endgültig gelöscht: alle Nachrichten, Angaben und Einwilligungsnachweise – auf dem Server, auf allen Agentenseiten und beim Besucher. Das lässt sich nicht rückgängig machen.",
	DeleteConfirm:    "Endgültig löschen",
	DeleteCancel:     "Abbrechen",
	Deleting:         "Wird gelöscht…",
	Deleted:          "Das Gespräch wurde gelöscht.",
	DeletedElsewhere: "Das Gespräch %s wurde gelöscht.",
	DeleteFailed:     "Das Gespräch wurde nicht gelöscht.",
	ErrReplay:        "Der Server hat die Anfrage als Wiederholung abgelehnt. Bitte versuchen Sie es erneut.",
	ErrGone:          "Das Gespräch gibt es nicht mehr.",

	Generate:       "Neuen Schlüssel erzeugen",
	GenerateTitle:  "Neuen Agenten-Schlüssel erzeugen",
	GenerateHint:   "Der Schlüssel entsteht in diesem Browser; der private Teil verlässt ihn nur verschlüsselt als Sicherungsdatei.",
	AgentName:      "Ihr Name (sehen Besucher und Kollegen)",
	SiteField:      "Website-Kennung",
	OwnerField:     "Fingerabdruck des Eigentümer-Schlüssels",
	OwnerHint:      "Steht im Einbettungscode der Website (data-owner-key) und in der Ausgabe von „relay site“.",
	NewPass:        "Passphrase (mindestens 10 Zeichen)",
	NewPassAgain:   "Passphrase wiederholen",
	NewPassHint:    "Die Passphrase schützt Ihren Schlüssel. Ohne sie lässt er sich nicht wiederherstellen.",
	Create:         "Schlüssel erzeugen",
	Cancel:         "Abbrechen",
	Generating:     "Erzeuge Schlüssel…",
	BadName:        "Bitte geben Sie einen Namen mit 1 bis 64 Bytes ohne Steuerzeichen ein.",
	BadSite:        "Die Website-Kennung ist ungültig.",
	BadOwner:       "Der Fingerabdruck des Eigentümer-Schlüssels ist ungültig.",
	PassShort:      "Die Passphrase muss mindestens 10 Zeichen lang sein.",
	PassMismatch:   "Die beiden Passphrasen stimmen nicht überein.",
	GenerateFailed: "Der Schlüssel konnte nicht erzeugt werden.",
	PubTitle:       "Ihr öffentlicher Schlüssel",
	PubLabel:       "Öffentliche Schlüsselzeile",
	PubHint:        "Senden Sie diese Zeile dem Website-Betreiber. Er nimmt Sie mit „relay roster add“ ins Team auf; erst dann können Sie sich verbinden.",
	Copy:           "Kopieren",
	Copied:         "Kopiert.",
	CopyFailed:     "Kopieren nicht möglich – die Zeile ist markiert, bitte kopieren Sie sie von Hand.",
	Backup:         "Sicherungsdatei herunterladen",
	BackupHint:     "Bewahren Sie die Sicherungsdatei auf; mit ihr und der Passphrase richten Sie den Schlüssel in einem anderen Browser ein.",
	NotInRoster:    "Ihr Schlüssel steht noch nicht in der Agentenliste dieser Website (not in roster). Bitten Sie den Betreiber, Ihre öffentliche Schlüsselzeile mit „relay roster add“ aufzunehmen, und laden Sie die Seite danach neu.",

	GroupWaiting:   "Wartet auf einen Menschen",
	GroupLive:      "Live",
	GroupBot:       "Nur Bot",
	GroupClosed:    "Beendet",
	By:             "von",
	ByYou:          "von Ihnen",
	TakenBy:        "übernommen von",
	Takeover:       "Übernehmen",
	TakeoverFailed: "Das Gespräch konnte nicht übernommen werden.",
	EndConv:        "Gespräch beenden",
	EndAsk:         "Gespräch wirklich beenden? Der Besucher sieht, dass es beendet ist; fragt er erneut nach einem Menschen, wartet es wieder.",
	EndConfirm:     "Beenden",
	CloseFailed:    "Das Gespräch konnte nicht beendet werden.",
	VisitorTyping:  "Besucher tippt …",
	AgentTyping:    "tippt …",
	NotifyEnable:   "Benachrichtigungen aktivieren",
	NotifyOn:       "Benachrichtigungen sind aktiv.",
	NotifyDenied:   "Benachrichtigungen sind im Browser blockiert.",
	NotifyTitle:    "Siegel: Ein Besucher wartet",
	NotifyBody:     "Ein Besucher möchte mit einem Menschen sprechen",
	Removed:        "Sie wurden aus dem Team entfernt. Ihr Schlüssel steht nicht mehr in der Agentenliste dieser Website; es wird keine Verbindung mehr aufgebaut.",

	fields: []field{
		{namesEmail, "E-Mail"},
		{namesPhone, "Telefon"},
		{namesName, "Name"},
		{namesFirst, "Vorname"},
		{namesLast, "Nachname"},
		{namesDate, "Datum"},
		{namesAppt, "Termin"},
		{namesTime, "Uhrzeit"},
		{namesMessage, "Nachricht"},
		{namesCompany, "Firma"},
	},
}

var textEN = Text{
	Lang:  English,
	Title: "Siegel – Inbox",

	ImportTitle:  "Set up your agent key",
	UnlockTitle:  "Unlock your key",
	NoKey:        "No agent key is stored in this browser yet.",
	ImportKey:    "Import key file",
	ImportHint:   "Choose the key file you received from the site owner or exported as a backup.",
	LoadDemo:     "Load demo key",
	LoadingKey:   "Loading key…",
	Locked:       "Your key is protected by a passphrase.",
	Passphrase:   "Passphrase",
	Unlock:       "Unlock",
	Unlocking:    "Unlocking…",
	ExportKey:    "Back up key file",
	ForgetKey:    "Remove key from this browser",
	ForgetAsk:    "Really remove the key from this browser? Without a backup it is lost.",
	WrongPass:    "The passphrase is wrong. Please try again.",
	EmptyPass:    "Please enter your passphrase.",
	BadKeyFile:   "This is not a valid Siegel key file.",
	KeyVersion:   "This key file comes from a newer version and is not supported.",
	KeyLoadError: "The key file could not be loaded.",
	StorageError: "The key could not be stored in this browser.",
	LoggedInAs:   "Signed in as",
	Lock:         "Lock",

	Connecting:   "Connecting…",
	Online:       "Connected",
	Offline:      "No connection.",
	RetryIn:      "Retrying in",
	Seconds:      "s",
	Reconnect:    "Connect now",
	ErrRoster:    "The site's agent list is invalid or not signed by the owner. For your safety nothing is shown.",
	ErrNotAgent:  "Your key is not (or no longer) in this site's agent list.",
	ErrSite:      "The server does not know this site.",
	ErrProtocol:  "The server answered unexpectedly.",
	ErrServer:    "Server error. Please try again later.",
	ErrRate:      "Too many requests. Please wait a moment.",
	ErrTooLarge:  "The message is too large.",
	ErrLimit:     "The conversation has reached the maximum number of messages.",
	ErrNotFound:  "This conversation no longer exists.",
	ErrForbidden: "Your key is not allowed to do that.",
	ErrVersion:   "The server speaks another protocol version. Please reload the page.",
	ErrPage:      "The page is set up incorrectly (invalid site ID).",
	ErrOtherSite: "This key belongs to another site.",

	Conversations:   "Conversations",
	NoConversations: "No conversations yet.",
	Conversation:    "Conversation",
	Unread:          "unread",
	UnreadOne:       "1 unread message",
	UnreadMany:      "unread messages",
	Started:         "started",
	LastActivity:    "last active",
	Select:          "Choose a conversation on the left.",
	Loading:         "Loading conversation…",
	Back:            "Back to the list",

	Transcript:   "Transcript",
	Visitor:      "Visitor",
	You:          "You",
	Pending:      "sending…",
	Sent:         "sent",
	Failed:       "not sent",
	SendFailed:   "The reply was refused and not sent.",
	NotSynced:    "The conversation is still loading. Please send again in a moment.",
	NoVisitorKey: "The visitor has not written anything yet; a reply is not possible yet.",
	OutboxFull:   "Too many replies are waiting for the connection. Please wait until they are sent.",
	Stopped:      "The connection was ended for security reasons; nothing is sent.",
	Unreadable:   "Unreadable message: it could not be decrypted or read.",
	ReplyLabel:   "Reply",
	ReplyHint:    "Enter sends, Shift+Enter starts a new line.",
	Send:         "Send",
	EmptyReply:   "Please type a reply.",
	TooLong:      "The reply is too long.",
	SendOffline:  "No connection – the reply will be sent as soon as the connection is back.",
	Today:        "today",
	Yesterday:    "yesterday",
	UnknownAgent: "Agent",

	Bot:             "Bot",
	Personal:        "personal data",
	PersonalLabel:   "Personal data, sent after consent",
	ConsentAccepted: "Consent given",
	ConsentDeclined: "Consent declined",
	FlowVersion:     "flow version",
	TextHash:        "text",
	HandoffPerson:   "The visitor wants to talk to a person",
	HandoffMessage:  "The visitor left a message",
	Waiting:         "waiting for a reply",

	Receipts:    "Consent receipts",
	ReceiptsFor: "Evidence kept by the server, without personal data: when the visitor accepted or declined which version of the consent text (flow version, checksum).",

	Corrected:        "corrected",
	CorrectedLabel:   "Corrected by the visitor; the old value is deleted",
	Delete:           "Delete conversation",
	DeleteAsk:        "The conversation will be deleted for good: all messages, data and consent receipts – on the server, on every agent page and for the visitor. This cannot be undone.",
	DeleteConfirm:    "Delete for good",
	DeleteCancel:     "Cancel",
	Deleting:         "Deleting…",
	Deleted:          "The conversation has been deleted.",
	DeletedElsewhere: "Conversation %s has been deleted.",
	DeleteFailed:     "The conversation was not deleted.",
	ErrReplay:        "The server refused the request as a repetition. Please try again.",
	ErrGone:          "The conversation no longer exists.",

	Generate:       "Create a new key",
	GenerateTitle:  "Create a new agent key",
	GenerateHint:   "The key is made in this browser; its private part leaves it only encrypted, as a backup file.",
	AgentName:      "Your name (shown to visitors and colleagues)",
	SiteField:      "Site ID",
	OwnerField:     "Owner key fingerprint",
	OwnerHint:      "It is in the site's embed code (data-owner-key) and in the output of “relay site”.",
	NewPass:        "Passphrase (at least 10 characters)",
	NewPassAgain:   "Repeat the passphrase",
	NewPassHint:    "The passphrase protects your key. Without it the key cannot be recovered.",
	Create:         "Create key",
	Cancel:         "Cancel",
	Generating:     "Creating key…",
	BadName:        "Please enter a name of 1 to 64 bytes without control characters.",
	BadSite:        "The site ID is invalid.",
	BadOwner:       "The owner key fingerprint is invalid.",
	PassShort:      "The passphrase must be at least 10 characters long.",
	PassMismatch:   "The two passphrases do not match.",
	GenerateFailed: "The key could not be created.",
	PubTitle:       "Your public key",
	PubLabel:       "Public key line",
	PubHint:        "Send this line to the site owner. They add you to the team with “relay roster add”; only then can you connect.",
	Copy:           "Copy",
	Copied:         "Copied.",
	CopyFailed:     "Copying is not possible – the line is selected, please copy it by hand.",
	Backup:         "Download backup file",
	BackupHint:     "Keep the backup file; with it and the passphrase you set up the key in another browser.",
	NotInRoster:    "Your key is not in this site's agent list yet (not in roster). Ask the site owner to add your public key line with “relay roster add”, then reload this page.",

	GroupWaiting:   "Waiting for a person",
	GroupLive:      "Live",
	GroupBot:       "Bot only",
	GroupClosed:    "Closed",
	By:             "by",
	ByYou:          "by you",
	TakenBy:        "taken over by",
	Takeover:       "Take over",
	TakeoverFailed: "The conversation could not be taken over.",
	EndConv:        "End conversation",
	EndAsk:         "Really end the conversation? The visitor sees that it ended; if they ask for a person again, it is waiting again.",
	EndConfirm:     "End",
	CloseFailed:    "The conversation could not be ended.",
	VisitorTyping:  "Visitor is typing …",
	AgentTyping:    "is typing …",
	NotifyEnable:   "Enable notifications",
	NotifyOn:       "Notifications are on.",
	NotifyDenied:   "Notifications are blocked in the browser.",
	NotifyTitle:    "Siegel: a visitor is waiting",
	NotifyBody:     "A visitor wants to talk to a person",
	Removed:        "You were removed from the team. Your key is no longer in this site's agent list; no connection is made any more.",

	fields: []field{
		{namesEmail, "Email"},
		{namesPhone, "Phone"},
		{namesName, "Name"},
		{namesFirst, "First name"},
		{namesLast, "Last name"},
		{namesDate, "Date"},
		{namesAppt, "Appointment"},
		{namesTime, "Time"},
		{namesMessage, "Message"},
		{namesCompany, "Company"},
	},
}

// Strings returns the texts of the given language.
func Strings(l Lang) *Text {
	if l == English {
		return &textEN
	}
	return &textDE
}

// UnreadLabel is the accessible description of an unread count.
func (t *Text) UnreadLabel(n int) string {
	if n == 1 {
		return t.UnreadOne
	}
	return itoa(n) + " " + t.UnreadMany
}
