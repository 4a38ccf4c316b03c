package flow

import (
	"errors"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"siegel/shared/ids"
)

// BinaryVersion is the first byte of a compiled flow.
const BinaryVersion = 1

// Errors of Decode.
var (
	// ErrMalformed: the bytes are not a canonical compiled flow.
	ErrMalformed = errors.New("flow: malformed compiled flow")
	// ErrUnsupportedVersion: the first byte is not BinaryVersion.
	ErrUnsupportedVersion = errors.New("flow: unsupported compiled flow version")
	// ErrConsent: a personal ask is reachable without an accepted consent.
	ErrConsent = errors.New("flow: personal ask reachable without consent")
)

// Compile encodes a flow returned by Parse (or Decode) in the binary form
// of docs/FLOWS.md. The result is deterministic. A flow that did not pass
// Parse may compile to bytes that Decode rejects.
func Compile(f *Flow) []byte {
	order := make([]string, 0, len(f.Steps))
	for id := range f.Steps {
		order = append(order, id)
	}
	slices.Sort(order)
	e := &encoder{f: f, steps: make(map[string]int, len(order)), vars: map[string]int{}}
	for i, id := range order {
		e.steps[id] = i
	}
	for i, v := range f.Variables {
		e.vars[v.Name] = i
	}
	e.b = append(e.b, BinaryVersion)
	e.uint(len(f.Languages))
	def := 0
	for i, l := range f.Languages {
		e.str(l)
		if l == f.DefaultLanguage {
			def = i
		}
	}
	e.uint(def)
	e.uint(e.steps[f.Start])
	e.optText(f.PrivacyPolicy)
	e.uint(len(f.Variables))
	for _, v := range f.Variables {
		e.str(v.Name)
		e.bool(v.Personal)
	}
	e.uint(len(f.FAQ))
	for _, q := range f.FAQ {
		e.str(q.ID)
		e.lists(q.Questions)
		e.lists(q.Keywords)
		e.text(q.Answer)
	}
	e.uint(len(order))
	for _, id := range order {
		e.str(id)
	}
	for _, id := range order {
		e.step(f.Steps[id])
	}
	return e.b
}

type encoder struct {
	b     []byte
	f     *Flow
	steps map[string]int
	vars  map[string]int
}

func (e *encoder) uint(n int) {
	x := uint64(n)
	for x >= 0x80 {
		e.b = append(e.b, byte(x)|0x80)
		x >>= 7
	}
	e.b = append(e.b, byte(x))
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) str(s string) {
	e.uint(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) float(x float64) {
	u := math.Float64bits(x)
	for i := 0; i < 8; i++ {
		e.b = append(e.b, byte(u>>(8*i)))
	}
}

func (e *encoder) text(t Text) {
	for _, l := range e.f.Languages {
		e.str(t[l])
	}
}

func (e *encoder) optText(t Text) {
	e.bool(t != nil)
	if t != nil {
		e.text(t)
	}
}

func (e *encoder) lists(t TextList) {
	for _, l := range e.f.Languages {
		e.uint(len(t[l]))
		for _, s := range t[l] {
			e.str(s)
		}
	}
}

func (e *encoder) target(id string) { e.uint(e.steps[id]) }

func (e *encoder) optTarget(id string) {
	if id == "" {
		e.uint(0)
		return
	}
	e.uint(e.steps[id] + 1)
}

const (
	askPersonal = 1 << iota
	askMin
	askMax
	askRetry
)

func (e *encoder) step(s *Step) {
	e.b = append(e.b, byte(s.Kind))
	switch s.Kind {
	case KindSay:
		e.text(s.Text)
		e.target(s.Next)
	case KindChoice:
		e.text(s.Text)
		e.uint(len(s.Options))
		for _, o := range s.Options {
			e.text(o.Label)
			e.target(o.Next)
		}
	case KindAsk:
		e.text(s.Text)
		e.b = append(e.b, byte(s.Input))
		e.uint(e.vars[s.Variable])
		var flags byte
		if s.Personal {
			flags |= askPersonal
		}
		if s.Min != nil {
			flags |= askMin
		}
		if s.Max != nil {
			flags |= askMax
		}
		if s.Retry != nil {
			flags |= askRetry
		}
		e.b = append(e.b, flags)
		if s.Min != nil {
			e.float(*s.Min)
		}
		if s.Max != nil {
			e.float(*s.Max)
		}
		e.uint(s.MinLength)
		e.uint(s.MaxLength)
		e.str(s.Pattern)
		if s.Retry != nil {
			e.text(s.Retry)
		}
		e.target(s.Next)
	case KindConsent:
		e.text(s.Text)
		e.target(s.Accept)
		e.target(s.Decline)
	case KindBranch:
		e.uint(len(s.Cases))
		for _, c := range s.Cases {
			e.cond(c.When)
			e.target(c.Next)
		}
		e.target(s.Else)
	case KindSet:
		e.uint(e.vars[s.Variable])
		e.str(s.Value)
		e.target(s.Next)
	case KindJump:
		e.target(s.Next)
	case KindFAQ:
		e.text(s.Text)
		e.target(s.Next)
		e.target(s.Fallback)
		e.float(s.Threshold)
	case KindHandoff:
		e.text(s.Text)
		e.optTarget(s.Next)
	case KindEnd:
		e.optText(s.Text)
	}
}

func (e *encoder) cond(c Cond) {
	e.b = append(e.b, byte(c.Op))
	switch c.Op {
	case CondEquals, CondContains, CondMatches:
		e.uint(e.vars[c.Var])
		e.str(c.Value)
	case CondIsSet:
		e.uint(e.vars[c.Var])
	case CondAll, CondAny:
		e.uint(len(c.Subs))
		for _, s := range c.Subs {
			e.cond(s)
		}
	case CondNot:
		if len(c.Subs) > 0 {
			e.cond(c.Subs[0])
		} else {
			e.cond(Cond{})
		}
	}
}

// Decode parses a compiled flow strictly: canonical encoding only, every
// limit enforced, every reference resolved, and the consent rule checked
// again (ErrConsent). Patterns are not compiled.
func Decode(b []byte) (*Flow, error) {
	if len(b) == 0 {
		return nil, ids.Wrap("empty input", ErrMalformed)
	}
	if b[0] != BinaryVersion {
		return nil, ErrUnsupportedVersion
	}
	if len(b) > MaxBinarySize {
		return nil, ids.Wrap("too large", ErrMalformed)
	}
	d := &decoder{b: b, off: 1}
	f := d.flow()
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(b) {
		return nil, ids.Wrap("trailing bytes", ErrMalformed)
	}
	if v := consentViolations(f); len(v) > 0 {
		return nil, ids.Wrap("step "+quote(v[0].Ask), ErrConsent)
	}
	return f, nil
}

type decoder struct {
	b     []byte
	off   int
	err   error
	f     *Flow
	ids   []string
	nvars int
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = ids.Wrap("byte "+itoa(d.off)+": "+what, ErrMalformed)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// uint reads a canonical (shortest) unsigned varint no larger than max.
func (d *decoder) uint(max int) int {
	var x uint64
	for i := 0; ; i++ {
		if d.err != nil {
			return 0
		}
		if i == 4 { // max ≤ 1<<21 fits in 3 groups; more is never needed
			d.fail("varint too long")
			return 0
		}
		c := d.byte()
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				d.fail("non-canonical varint")
				return 0
			}
			break
		}
	}
	if x > uint64(max) {
		d.fail("value out of range")
		return 0
	}
	return int(x)
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("invalid boolean")
	return false
}

func (d *decoder) str(max int) string {
	n := d.uint(max)
	if d.err != nil {
		return ""
	}
	if len(d.b)-d.off < n {
		d.fail("string runs past the end")
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	if !utf8.ValidString(s) {
		d.fail("invalid UTF-8")
		return ""
	}
	d.off += n
	return s
}

func (d *decoder) id() string {
	s := d.str(MaxIDLength)
	if d.err == nil && !validID(s) {
		d.fail("invalid identifier")
	}
	return s
}

func (d *decoder) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("unexpected end")
		return 0
	}
	var u uint64
	for i := 0; i < 8; i++ {
		u |= uint64(d.b[d.off+i]) << (8 * i)
	}
	d.off += 8
	x := math.Float64frombits(u)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		d.fail("number not finite")
	}
	return x
}

// nonEmpty reads a string that must contain a non-space character.
func (d *decoder) nonEmpty() string {
	s := d.str(MaxTextLength)
	if d.err == nil && isBlank(s) {
		d.fail("empty text")
	}
	return s
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func (d *decoder) text() Text {
	t := make(Text, len(d.f.Languages))
	for _, l := range d.f.Languages {
		t[l] = d.nonEmpty()
	}
	return t
}

func (d *decoder) optText() Text {
	if d.bool() {
		return d.text()
	}
	return nil
}

func (d *decoder) lists(required bool) TextList {
	var t TextList
	for _, l := range d.f.Languages {
		min := 0
		if required {
			min = 1
		}
		n := d.uint(MaxVariants)
		if d.err == nil && n < min {
			d.fail("no entries")
		}
		if n == 0 || d.err != nil {
			continue
		}
		list := make([]string, n)
		for i := range list {
			list[i] = d.nonEmpty()
		}
		if t == nil {
			t = TextList{}
		}
		t[l] = list
	}
	return t
}

func (d *decoder) target() string {
	return d.ids[d.uint(len(d.ids)-1)]
}

func (d *decoder) variable() string {
	if d.nvars == 0 {
		d.fail("no variables")
		return ""
	}
	return d.f.Variables[d.uint(d.nvars-1)].Name
}

func (d *decoder) flow() *Flow {
	f := &Flow{Version: FormatVersion}
	d.f = f
	nl := d.uint(MaxLanguages)
	if d.err == nil && nl == 0 {
		d.fail("no languages")
	}
	for i := 0; i < nl && d.err == nil; i++ {
		l := d.str(MaxLangLength)
		if d.err == nil && (!validLang(l) || contains(f.Languages, l)) {
			d.fail("invalid or duplicate language")
		}
		f.Languages = append(f.Languages, l)
	}
	if d.err == nil && !contains(f.Languages, DefaultLanguage) {
		d.fail("no language " + quote(DefaultLanguage))
	}
	if d.err != nil {
		return nil
	}
	f.DefaultLanguage = f.Languages[d.uint(nl-1)]
	start := d.uint(MaxSteps - 1)
	f.PrivacyPolicy = d.optText()
	for _, u := range f.PrivacyPolicy {
		if d.err == nil && !validURL(u) {
			d.fail("invalid privacy-policy URL")
		}
	}
	d.nvars = d.uint(MaxVariables)
	for i := 0; i < d.nvars && d.err == nil; i++ {
		v := Variable{Name: d.str(MaxIDLength), Personal: d.bool()}
		if d.err == nil && !validVarName(v.Name) {
			d.fail("invalid variable name")
		}
		if _, dup := f.Variable(v.Name); dup {
			d.fail("duplicate variable")
		}
		f.Variables = append(f.Variables, v)
	}
	nfaq := d.uint(MaxFAQ)
	for i := 0; i < nfaq && d.err == nil; i++ {
		q := FAQEntry{ID: d.id()}
		for _, o := range f.FAQ {
			if o.ID == q.ID {
				d.fail("duplicate FAQ id")
			}
		}
		q.Questions = d.lists(true)
		q.Keywords = d.lists(false)
		q.Answer = d.text()
		f.FAQ = append(f.FAQ, q)
	}
	n := d.uint(MaxSteps)
	if d.err == nil && n == 0 {
		d.fail("no steps")
	}
	for i := 0; i < n && d.err == nil; i++ {
		id := d.id()
		if d.err == nil && i > 0 && id <= d.ids[i-1] {
			d.fail("step IDs not in ascending order")
		}
		d.ids = append(d.ids, id)
	}
	if d.err == nil && start >= n {
		d.fail("start step out of range")
	}
	if d.err != nil {
		return nil
	}
	f.Start = d.ids[start]
	f.Steps = make(map[string]*Step, n)
	for _, id := range d.ids {
		s := d.step(id)
		if d.err != nil {
			return nil
		}
		f.Steps[id] = s
	}
	// Personal flags must be the effective ones.
	for _, s := range f.Steps {
		if s.Kind != KindAsk {
			continue
		}
		v, _ := f.Variable(s.Variable)
		implied := s.Input == InputEmail || s.Input == InputPhone
		if s.Personal != (implied || v.Personal) || (s.Personal && !v.Personal) {
			d.fail("inconsistent personal flags")
			return nil
		}
	}
	if faqSteps := d.hasFAQStep(); faqSteps && len(f.FAQ) == 0 {
		d.fail("faq step without FAQ entries")
		return nil
	}
	return f
}

func (d *decoder) hasFAQStep() bool {
	for _, s := range d.f.Steps {
		if s.Kind == KindFAQ {
			return true
		}
	}
	return false
}

func (d *decoder) step(id string) *Step {
	s := &Step{ID: id, Kind: Kind(d.byte())}
	switch s.Kind {
	case KindSay:
		s.Text = d.text()
		s.Next = d.target()
	case KindChoice:
		s.Text = d.text()
		n := d.uint(MaxOptions)
		if d.err == nil && n == 0 {
			d.fail("no options")
		}
		seen := map[string]bool{}
		for i := 0; i < n && d.err == nil; i++ {
			o := Option{Label: d.text(), Next: d.target()}
			for l, x := range o.Label {
				k := l + "\x00" + labelKey(x)
				if seen[k] {
					d.fail("duplicate option label")
				}
				seen[k] = true
			}
			s.Options = append(s.Options, o)
		}
	case KindAsk:
		s.Text = d.text()
		s.Input = InputKind(d.byte())
		if d.err == nil && (s.Input < InputText || s.Input > InputDate) {
			d.fail("unknown input kind")
		}
		s.Variable = d.variable()
		flags := d.byte()
		if flags&^(askPersonal|askMin|askMax|askRetry) != 0 {
			d.fail("unknown ask flags")
		}
		s.Personal = flags&askPersonal != 0
		if flags&askMin != 0 {
			x := d.float()
			s.Min = &x
		}
		if flags&askMax != 0 {
			x := d.float()
			s.Max = &x
		}
		s.MinLength = d.uint(MaxInputLength)
		s.MaxLength = d.uint(MaxInputLength)
		s.Pattern = d.str(MaxTextLength)
		if flags&askRetry != 0 {
			s.Retry = d.text()
		}
		s.Next = d.target()
		if d.err == nil {
			if (s.Min != nil || s.Max != nil) && s.Input != InputNumber ||
				(s.MinLength != 0 || s.MaxLength != 0 || s.Pattern != "") && s.Input != InputText ||
				s.Min != nil && s.Max != nil && *s.Min > *s.Max ||
				s.MinLength != 0 && s.MaxLength != 0 && s.MinLength > s.MaxLength {
				d.fail("invalid ask constraints")
			}
		}
	case KindConsent:
		s.Text = d.text()
		s.Accept = d.target()
		s.Decline = d.target()
	case KindBranch:
		n := d.uint(MaxCases)
		if d.err == nil && n == 0 {
			d.fail("no cases")
		}
		for i := 0; i < n && d.err == nil; i++ {
			c := Case{When: d.cond(1)}
			c.Next = d.target()
			s.Cases = append(s.Cases, c)
		}
		s.Else = d.target()
	case KindSet:
		s.Variable = d.variable()
		s.Value = d.str(MaxTextLength)
		s.Next = d.target()
	case KindJump:
		s.Next = d.target()
	case KindFAQ:
		s.Text = d.text()
		s.Next = d.target()
		s.Fallback = d.target()
		s.Threshold = d.float()
		if d.err == nil && !(s.Threshold > 0 && s.Threshold <= 1) && s.Threshold != 0 {
			d.fail("threshold out of range")
		}
		if d.err == nil && s.Threshold == 0 && math.Signbit(s.Threshold) {
			d.fail("non-canonical threshold")
		}
	case KindHandoff:
		s.Text = d.text()
		if t := d.uint(len(d.ids)); t > 0 {
			s.Next = d.ids[t-1]
		}
	case KindEnd:
		s.Text = d.optText()
	default:
		d.fail("unknown step kind")
	}
	return s
}

func (d *decoder) cond(depth int) Cond {
	if depth > MaxCondDepth {
		d.fail("conditions nested too deeply")
		return Cond{}
	}
	c := Cond{Op: CondOp(d.byte())}
	switch c.Op {
	case CondEquals, CondContains, CondMatches:
		c.Var = d.variable()
		c.Value = d.str(MaxTextLength)
		if d.err == nil && c.Op == CondMatches && c.Value == "" {
			d.fail("empty pattern")
		}
	case CondIsSet:
		c.Var = d.variable()
	case CondAll, CondAny:
		n := d.uint(MaxCondSubs)
		if d.err == nil && n == 0 {
			d.fail("no conditions")
		}
		for i := 0; i < n && d.err == nil; i++ {
			c.Subs = append(c.Subs, d.cond(depth+1))
		}
	case CondNot:
		c.Subs = []Cond{d.cond(depth + 1)}
	default:
		d.fail("unknown condition")
	}
	return c
}

// labelKey is the form of an option label compared for duplicates.
func labelKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
