// Package flow defines the bot flow of a site: the model (this file), the
// JSON document format with position-exact validation (Check, Parse; used by
// the relay and by "relay flow check"), and a compact binary form for the
// browser (Compile, Decode). docs/FLOWS.md is the normative description.
//
// The widget links only the model and Decode; the model carries no source
// positions, so a flow decoded from its binary form equals the parsed one.
package flow

// FormatVersion is the value of the document's "version" field.
const FormatVersion = 1

// DefaultLanguage is the language every flow must contain and the fallback
// of Text.In.
const DefaultLanguage = "de"

// Text is a per-language text: language code → text. In a valid flow every
// text of a step has every declared language, with a non-empty value.
// Optional texts that are absent are nil.
type Text map[string]string

// In returns the text in lang, else in def, else in DefaultLanguage, else "".
func (t Text) In(lang, def string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[def]; ok {
		return s
	}
	return t[DefaultLanguage]
}

// TextList is a per-language list of strings (FAQ question variants and
// keywords). Languages without entries are absent (never an empty slice).
type TextList map[string][]string

// Flow is a validated bot flow.
type Flow struct {
	Version         int      // FormatVersion
	Languages       []string // declared languages, in document order; contains DefaultLanguage
	DefaultLanguage string   // one of Languages ("de" unless the document says otherwise)
	Start           string   // ID of the first step

	// PrivacyPolicy is the privacy-policy URL per language shown by consent
	// steps; nil if the document has none. A URL configured for the site
	// overrides it.
	PrivacyPolicy Text

	Variables []Variable       // declared variables, in document order
	FAQ       []FAQEntry       // FAQ entries, in document order
	Steps     map[string]*Step // steps by ID; Step.ID equals the key
}

// Variable is a declared flow variable. Values are strings.
type Variable struct {
	Name string
	// Personal marks a variable holding personal data: declared so in the
	// document, or written by a personal ask step (Personal is the
	// effective value). Personal values never leave the browser unless the
	// visitor accepted a consent step.
	Personal bool
}

// FAQEntry is one question the bot can answer locally.
type FAQEntry struct {
	ID        string
	Questions TextList // question variants; at least one per declared language
	Keywords  TextList // optional keywords per language
	Answer    Text
}

// Kind is the kind of a step.
type Kind uint8

// Step kinds. The numeric values are part of the binary format.
const (
	KindSay     Kind = 1  // show Text, continue at Next
	KindChoice  Kind = 2  // show Text and one button per option
	KindAsk     Kind = 3  // show Text, read one validated input into Variable, continue at Next
	KindConsent Kind = 4  // show Text and the privacy link; Accept or Decline
	KindBranch  Kind = 5  // continue at the first case whose condition holds, else at Else
	KindSet     Kind = 6  // Variable = Value, continue at Next
	KindJump    Kind = 7  // continue at Next
	KindFAQ     Kind = 8  // show Text, read a question; answered → Next, not understood → Fallback
	KindHandoff Kind = 9  // show Text, hand the conversation to a person; then Next if given, else the flow is over
	KindEnd     Kind = 10 // show Text (optional); the flow is over
)

var kindNames = [...]string{"", "say", "choice", "ask", "consent", "branch", "set", "jump", "faq", "handoff", "end"}

// String returns the kind's name in the document format ("say", "ask", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "kind(" + itoa(int(k)) + ")"
}

// ParseKind returns the kind named s in the document format.
func ParseKind(s string) (Kind, bool) {
	for i := 1; i < len(kindNames); i++ {
		if kindNames[i] == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// WaitsForInput reports whether a step of this kind waits for the visitor
// before the flow continues (choice, ask, consent, faq). A cycle of steps
// that do not wait is rejected by Check ("loop without input").
func (k Kind) WaitsForInput() bool {
	switch k {
	case KindChoice, KindAsk, KindConsent, KindFAQ:
		return true
	}
	return false
}

// InputKind is the kind of input an ask step reads.
type InputKind uint8

// Input kinds. The numeric values are part of the binary format.
const (
	InputText   InputKind = 1
	InputEmail  InputKind = 2 // always personal
	InputPhone  InputKind = 3 // always personal
	InputNumber InputKind = 4
	InputDate   InputKind = 5 // stored as YYYY-MM-DD
)

var inputNames = [...]string{"", "text", "email", "phone", "number", "date"}

// String returns the input kind's name in the document format.
func (k InputKind) String() string {
	if int(k) < len(inputNames) && k != 0 {
		return inputNames[k]
	}
	return "input(" + itoa(int(k)) + ")"
}

// ParseInputKind returns the input kind named s in the document format.
func ParseInputKind(s string) (InputKind, bool) {
	for i := 1; i < len(inputNames); i++ {
		if inputNames[i] == s {
			return InputKind(i), true
		}
	}
	return 0, false
}

// Step is one step of a flow. Which fields are used depends on Kind; unused
// fields are zero (nil for texts and slices, "" for targets).
type Step struct {
	ID   string
	Kind Kind

	// Text: say, choice, ask, consent, faq (the prompt), handoff: required;
	// end: optional (nil if absent).
	Text Text

	// Next: say, ask, set, jump, faq (after an answer): required;
	// handoff: optional ("" = the flow ends with the handoff).
	Next string

	// choice
	Options []Option

	// ask
	Input     InputKind
	Variable  string   // ask: the variable the input is stored in; set: the variable written
	Personal  bool     // ask: effective flag (declared, implied by email/phone, or by a personal variable)
	Min, Max  *float64 // ask number: inclusive bounds, nil if absent
	MinLength int      // ask text: minimum length in characters (runes), 0 if absent
	MaxLength int      // ask text: maximum length in characters (runes), 0 if absent
	Pattern   string   // ask text: pattern (CheckPattern) the whole input must match ("" if absent); compile lazily
	Retry     Text     // ask: shown on invalid input before asking again; nil = built-in message

	// consent
	Accept  string // target after the visitor accepts
	Decline string // target after the visitor declines

	// branch
	Cases []Case
	Else  string

	// set
	Value string

	// faq
	Fallback  string  // target when no entry matched with enough confidence
	Threshold float64 // minimum confidence in (0, 1]; 0 = the matcher's default
}

// Option is one button of a choice step.
type Option struct {
	Label Text
	Next  string
}

// Case is one case of a branch step.
type Case struct {
	When Cond
	Next string
}

// CondOp is the operator of a condition.
type CondOp uint8

// Condition operators. The numeric values are part of the binary format.
const (
	CondEquals   CondOp = 1 // variable Var equals Value (case-insensitive, surrounding space ignored)
	CondContains CondOp = 2 // variable Var contains Value (case-insensitive)
	CondMatches  CondOp = 3 // variable Var matches the pattern Value (CheckPattern; unanchored)
	CondIsSet    CondOp = 4 // variable Var has been set (to any value, even "")
	CondAll      CondOp = 5 // every condition in Subs holds (Subs non-empty)
	CondAny      CondOp = 6 // at least one condition in Subs holds (Subs non-empty)
	CondNot      CondOp = 7 // Subs[0] does not hold (exactly one sub-condition)
)

// Cond is a condition on variables. An unset variable equals, contains and
// matches nothing.
type Cond struct {
	Op    CondOp
	Var   string // equals, contains, matches, is_set
	Value string // equals, contains: the operand; matches: the pattern
	Subs  []Cond // all, any, not
}

// Step returns the step with the given ID, or nil.
func (f *Flow) Step(id string) *Step {
	return f.Steps[id]
}

// Variable returns the declared variable with the given name.
func (f *Flow) Variable(name string) (Variable, bool) {
	for _, v := range f.Variables {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// itoa formats a small integer without strconv (keeps this file dependency-free).
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Limits. Check rejects documents beyond them and Decode rejects binary
// forms beyond them, so every flow that passes Check compiles and decodes.
const (
	MaxSourceSize  = 1 << 20 // bytes of a JSON document
	MaxBinarySize  = 2 << 20 // bytes of a compiled flow
	MaxLanguages   = 8
	MaxVariables   = 256
	MaxFAQ         = 512  // FAQ entries
	MaxVariants    = 64   // question variants or keywords per entry and language
	MaxSteps       = 1024 // steps of a flow
	MaxOptions     = 16   // options of a choice step
	MaxCases       = 64   // cases of a branch step
	MaxCondDepth   = 8    // nesting of all/any/not
	MaxCondSubs    = 32   // conditions in one all/any
	MaxIDLength    = 64   // bytes of a step ID, FAQ ID or variable name
	MaxTextLength  = 8192 // bytes of one text, label, value, pattern or URL
	MaxLangLength  = 8    // bytes of a language code
	MaxInputLength = 4096 // characters the widget accepts in any ask input
)

// Targets returns the step IDs this step can continue at, in a fixed order
// (Next, option targets, Accept, Decline, case targets, Else, Fallback),
// without empty ones; a target may appear more than once.
func (s *Step) Targets() []string {
	var t []string
	add := func(id string) {
		if id != "" {
			t = append(t, id)
		}
	}
	add(s.Next)
	for _, o := range s.Options {
		add(o.Next)
	}
	add(s.Accept)
	add(s.Decline)
	for _, c := range s.Cases {
		add(c.Next)
	}
	add(s.Else)
	add(s.Fallback)
	return t
}
