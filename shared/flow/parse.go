package flow

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Problem is one problem found in a flow document.
type Problem struct {
	File      string // the name given to Check or Parse
	Line, Col int    // 1-based; Col counts bytes
	Msg       string
}

// String returns "FILE:LINE:COL: message".
func (p Problem) String() string {
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) + ": " + p.Msg
}

// Check validates the flow document src and returns its problems sorted by
// position (nil if the flow is valid). name is used as Problem.File.
func Check(name string, src []byte) []Problem {
	_, probs := Parse(name, src)
	return probs
}

// Parse validates the flow document src and returns the flow, or nil and
// the problems sorted by position.
func Parse(name string, src []byte) (*Flow, []Problem) {
	b := &builder{file: name, src: src}
	b.run(src)
	if len(b.probs) == 0 {
		return b.f, nil
	}
	slices.SortStableFunc(b.probs, func(p, q Problem) int {
		if p.Line != q.Line {
			return p.Line - q.Line
		}
		if p.Col != q.Col {
			return p.Col - q.Col
		}
		return strings.Compare(p.Msg, q.Msg)
	})
	out := b.probs[:0]
	for i, p := range b.probs {
		if i > 0 && p == b.probs[i-1] {
			continue
		}
		p.File = name
		out = append(out, p)
	}
	return nil, out
}

// ref is a use of a step ID or variable name at a position.
type ref struct {
	from string // step the reference is in ("" for "start")
	id   string
	pos  srcPos
}

type builder struct {
	file  string
	src   []byte
	f     *Flow
	probs []Problem

	langs   []string // declared languages (nil if the declaration is broken)
	langsOK bool

	vars    map[string]bool   // declared variables
	stepPos map[string]srcPos // step ID → position of its key
	badIDs  map[string]bool   // step keys reported as invalid IDs (not dangling)
	// notPersonal: asks with an explicit "personal": false, by step ID
	notPersonal map[string]srcPos
	order       []string // step IDs in document order
	targets     []ref
	varRefs     []ref
	graphOK     bool // every step's kind and edges are well-formed
	hasFAQ      bool
	faqSteps    []srcPos
}

func (b *builder) add(p srcPos, msg string) {
	b.probs = append(b.probs, Problem{Line: p.Line, Col: p.Col, Msg: msg})
}

func (b *builder) run(src []byte) {
	if len(src) > MaxSourceSize {
		b.add(srcPos{1, 1}, "document larger than "+strconv.Itoa(MaxSourceSize)+" bytes")
		return
	}
	root, dups, serr := parseJSON(src)
	b.probs = append(b.probs, dups...)
	if serr != nil {
		b.add(serr.pos, serr.msg)
		return
	}
	b.f = &Flow{DefaultLanguage: DefaultLanguage}
	b.vars = map[string]bool{}
	b.stepPos = map[string]srcPos{}
	b.graphOK = true

	top := b.fields(root, "flow", "version", "languages", "default_language", "start",
		"privacy_policy", "variables", "faq", "steps")
	if top == nil {
		return
	}
	// version
	if m := b.need(root, top, "version", "flow"); m != nil {
		if n, ok := b.integer(m.val, `"version"`); ok {
			if n != FormatVersion {
				b.add(m.val.pos, "unsupported version "+strconv.Itoa(n)+" (expected "+strconv.Itoa(FormatVersion)+")")
			}
			b.f.Version = FormatVersion
		}
	}
	b.languages(root, top)
	if m := top["default_language"]; m != nil {
		if s, ok := b.str(m.val, `"default_language"`); ok {
			b.f.DefaultLanguage = s
			if b.langsOK && !contains(b.langs, s) {
				b.add(m.val.pos, "default language "+quote(s)+" is not declared in \"languages\"")
			}
		}
	}
	if m := b.need(root, top, "start", "flow"); m != nil {
		if s, ok := b.str(m.val, `"start"`); ok {
			b.f.Start = s
			b.targets = append(b.targets, ref{id: s, pos: m.val.pos})
		} else {
			b.graphOK = false
		}
	} else {
		b.graphOK = false
	}
	if m := top["privacy_policy"]; m != nil {
		b.f.PrivacyPolicy = b.text(m.val, `"privacy_policy"`)
		for _, mm := range m.val.mem {
			if u, ok := b.f.PrivacyPolicy[mm.key]; ok && u == mm.val.str && !validURL(u) {
				b.add(mm.val.pos, "invalid privacy-policy URL "+quote(mm.val.str)+" (expected an absolute http or https URL)")
			}
		}
	}
	if m := top["variables"]; m != nil {
		b.variables(m.val)
	}
	if m := top["faq"]; m != nil {
		b.faq(m.val)
	}
	if m := b.need(root, top, "steps", "flow"); m != nil {
		b.steps(m.val)
	} else {
		b.graphOK = false
	}
	for _, r := range b.varRefs {
		if !b.vars[r.id] {
			b.add(r.pos, "undeclared variable "+quote(r.id))
		}
	}
	for _, p := range b.faqSteps {
		if !b.hasFAQ {
			b.add(p, "faq step, but the flow has no FAQ entries")
		}
	}
	b.graph()
}

// fields checks that v is an object with only the allowed keys and returns
// its members by key (nil if v is not an object).
func (b *builder) fields(v *jval, what string, allowed ...string) map[string]*jmember {
	if v.kind != jObj {
		b.add(v.pos, what+": expected an object, found "+jkindNames[v.kind])
		return nil
	}
	m := make(map[string]*jmember, len(v.mem))
	for i := range v.mem {
		mm := &v.mem[i]
		if !contains(allowed, mm.key) {
			b.add(mm.keyPos, "unknown field "+quote(mm.key)+" in "+what)
			continue
		}
		m[mm.key] = mm
	}
	return m
}

// need returns the member key of obj, reporting it as missing if absent.
func (b *builder) need(obj *jval, m map[string]*jmember, key, what string) *jmember {
	if mm := m[key]; mm != nil {
		return mm
	}
	b.add(obj.pos, "missing field "+quote(key)+" in "+what)
	return nil
}

func (b *builder) typeErr(v *jval, label, want string) {
	msg := "expected " + want + ", found " + jkindNames[v.kind]
	if label != "" {
		msg = label + ": " + msg
	}
	b.add(v.pos, msg)
}

func (b *builder) str(v *jval, label string) (string, bool) {
	if v.kind != jStr {
		b.typeErr(v, label, "a string")
		return "", false
	}
	if len(v.str) > MaxTextLength {
		b.add(v.pos, "string longer than "+strconv.Itoa(MaxTextLength)+" bytes")
		return "", false
	}
	return v.str, true
}

func (b *builder) boolean(v *jval, label string) (bool, bool) {
	if v.kind != jBool {
		b.typeErr(v, label, "true or false")
		return false, false
	}
	return v.b, true
}

func (b *builder) number(v *jval, label string) (float64, bool) {
	if v.kind != jNum {
		b.typeErr(v, label, "a number")
		return 0, false
	}
	x, err := strconv.ParseFloat(v.str, 64)
	if err != nil || math.IsInf(x, 0) {
		b.add(v.pos, label+": number out of range")
		return 0, false
	}
	return x, true
}

func (b *builder) integer(v *jval, label string) (int, bool) {
	x, ok := b.number(v, label)
	if !ok {
		return 0, false
	}
	if x != math.Trunc(x) || x < -1e9 || x > 1e9 {
		b.add(v.pos, label+": expected a whole number")
		return 0, false
	}
	return int(x), true
}

func (b *builder) array(v *jval, label string, max int) []*jval {
	if v.kind != jArr {
		b.typeErr(v, label, "an array")
		return nil
	}
	if len(v.arr) > max {
		b.add(v.pos, label+": more than "+strconv.Itoa(max)+" entries")
		b.graphOK = false
		return v.arr[:max]
	}
	return v.arr
}

// id checks an identifier (step ID, FAQ ID, variable name).
func (b *builder) id(v *jval, label string) (string, bool) {
	s, ok := b.str(v, label)
	if !ok {
		return "", false
	}
	if !validID(s) {
		b.add(v.pos, "invalid "+label+" "+quote(s)+" (use 1 to "+strconv.Itoa(MaxIDLength)+" letters, digits, '_', '-' or '.')")
		return "", false
	}
	return s, true
}

func validID(s string) bool {
	if s == "" || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validVarName: variable names travel in transcript entries
// (docs/PROTOCOL.md §3.3): ASCII letters, digits and '_'.
func validVarName(s string) bool {
	if s == "" || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validLang(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func validURL(s string) bool {
	var rest string
	switch {
	case strings.HasPrefix(s, "https://"):
		rest = s[8:]
	case strings.HasPrefix(s, "http://"):
		rest = s[7:]
	default:
		return false
	}
	if rest == "" || rest[0] == '/' {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' || r == '\\' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (b *builder) languages(root *jval, top map[string]*jmember) {
	m := b.need(root, top, "languages", "flow")
	if m == nil {
		return
	}
	arr := b.array(m.val, `"languages"`, MaxLanguages)
	if m.val.kind != jArr {
		return
	}
	ok := len(m.val.arr) <= MaxLanguages
	for _, e := range arr {
		s, good := b.str(e, "language")
		if !good {
			ok = false
			continue
		}
		if !validLang(s) {
			b.add(e.pos, "invalid language code "+quote(s)+" (expected 2 or 3 lowercase letters)")
			ok = false
			continue
		}
		if contains(b.langs, s) {
			b.add(e.pos, "duplicate language "+quote(s))
			continue
		}
		b.langs = append(b.langs, s)
	}
	if !contains(b.langs, DefaultLanguage) {
		if ok {
			b.add(m.val.pos, "\"languages\" must include "+quote(DefaultLanguage))
		}
		ok = false
	}
	b.langsOK = ok
	b.f.Languages = b.langs
}

// text reads a per-language text object; every declared language is
// required and non-empty.
func (b *builder) text(v *jval, label string) Text {
	if v.kind != jObj {
		b.typeErr(v, label, "an object of translations")
		return nil
	}
	t := Text{}
	for _, m := range v.mem {
		if b.langsOK && !contains(b.langs, m.key) {
			b.add(m.keyPos, "undeclared language "+quote(m.key))
			continue
		}
		s, ok := b.str(m.val, "")
		if !ok {
			continue
		}
		if isBlank(s) {
			b.add(m.val.pos, "empty translation "+quote(m.key))
			continue
		}
		t[m.key] = s
	}
	if b.langsOK {
		for _, l := range b.langs {
			if _, ok := v.get(l); !ok {
				b.add(v.pos, "missing translation "+quote(l))
			}
		}
	}
	return t
}

// textList reads a per-language list of strings; if required, every
// declared language needs at least one entry.
func (b *builder) textList(v *jval, label string, required bool) TextList {
	if v.kind != jObj {
		b.typeErr(v, label, "an object of lists per language")
		return nil
	}
	t := TextList{}
	for _, m := range v.mem {
		if b.langsOK && !contains(b.langs, m.key) {
			b.add(m.keyPos, "undeclared language "+quote(m.key))
			continue
		}
		var list []string
		for _, e := range b.array(m.val, "", MaxVariants) {
			s, ok := b.str(e, "")
			if !ok {
				continue
			}
			if isBlank(s) {
				b.add(e.pos, "empty string")
				continue
			}
			list = append(list, s)
		}
		if len(list) > 0 {
			t[m.key] = list
		}
	}
	if required && b.langsOK {
		for _, l := range b.langs {
			if mm, ok := v.get(l); !ok {
				b.add(v.pos, "missing translation "+quote(l))
			} else if mm.val.kind == jArr && len(mm.val.arr) == 0 {
				b.add(mm.val.pos, "no entries for "+quote(l))
			}
		}
	}
	if len(t) == 0 {
		return nil
	}
	return t
}

func (v *jval) get(key string) (*jmember, bool) {
	for i := range v.mem {
		if v.mem[i].key == key {
			return &v.mem[i], true
		}
	}
	return nil, false
}

func (b *builder) variables(v *jval) {
	for _, e := range b.array(v, `"variables"`, MaxVariables) {
		m := b.fields(e, "variable", "name", "personal")
		if m == nil {
			continue
		}
		var nv Variable
		if mm := b.need(e, m, "name", "variable"); mm != nil {
			name, ok := b.str(mm.val, `"name"`)
			if !ok {
				continue
			}
			if !validVarName(name) {
				b.add(mm.val.pos, "invalid variable name "+quote(name)+" (use 1 to "+strconv.Itoa(MaxIDLength)+" letters, digits or '_')")
				continue
			}
			if b.vars[name] {
				b.add(mm.val.pos, "duplicate variable "+quote(name))
				continue
			}
			b.vars[name] = true
			nv.Name = name
		} else {
			continue
		}
		if mm := m["personal"]; mm != nil {
			nv.Personal, _ = b.boolean(mm.val, `"personal"`)
		}
		b.f.Variables = append(b.f.Variables, nv)
	}
}

func (b *builder) faq(v *jval) {
	seen := map[string]bool{}
	for _, e := range b.array(v, `"faq"`, MaxFAQ) {
		m := b.fields(e, "FAQ entry", "id", "questions", "keywords", "answer")
		if m == nil {
			continue
		}
		b.hasFAQ = true
		var fe FAQEntry
		if mm := b.need(e, m, "id", "FAQ entry"); mm != nil {
			if id, ok := b.id(mm.val, "FAQ id"); ok {
				if seen[id] {
					b.add(mm.val.pos, "duplicate FAQ id "+quote(id))
				}
				seen[id] = true
				fe.ID = id
			}
		}
		if mm := b.need(e, m, "questions", "FAQ entry"); mm != nil {
			fe.Questions = b.textList(mm.val, `"questions"`, true)
		}
		if mm := m["keywords"]; mm != nil {
			fe.Keywords = b.textList(mm.val, `"keywords"`, false)
		}
		if mm := b.need(e, m, "answer", "FAQ entry"); mm != nil {
			fe.Answer = b.text(mm.val, `"answer"`)
		}
		b.f.FAQ = append(b.f.FAQ, fe)
	}
}

// stepFields lists the fields each step kind allows (besides "kind").
var stepFields = [...][]string{
	KindSay:     {"kind", "text", "next"},
	KindChoice:  {"kind", "text", "options"},
	KindAsk:     {"kind", "text", "input", "variable", "personal", "min", "max", "min_length", "max_length", "pattern", "retry", "next"},
	KindConsent: {"kind", "text", "accept", "decline"},
	KindBranch:  {"kind", "cases", "else"},
	KindSet:     {"kind", "variable", "value", "next"},
	KindJump:    {"kind", "next"},
	KindFAQ:     {"kind", "text", "next", "fallback", "threshold"},
	KindHandoff: {"kind", "text", "next"},
	KindEnd:     {"kind", "text"},
}

func (b *builder) steps(v *jval) {
	if v.kind != jObj {
		b.typeErr(v, `"steps"`, "an object of steps by ID")
		b.graphOK = false
		return
	}
	b.f.Steps = map[string]*Step{}
	if len(v.mem) == 0 {
		b.add(v.pos, "\"steps\": no steps")
		b.graphOK = false
	}
	if len(v.mem) > MaxSteps {
		b.add(v.pos, "\"steps\": more than "+strconv.Itoa(MaxSteps)+" steps")
		b.graphOK = false
		return
	}
	var personalVars []string
	for i := range v.mem {
		m := &v.mem[i]
		if !validID(m.key) {
			b.add(m.keyPos, "invalid step ID "+quote(m.key)+" (use 1 to "+strconv.Itoa(MaxIDLength)+" letters, digits, '_', '-' or '.')")
			b.graphOK = false
			if b.badIDs == nil {
				b.badIDs = map[string]bool{}
			}
			b.badIDs[m.key] = true
			continue
		}
		st := &Step{ID: m.key}
		b.f.Steps[m.key] = st
		b.stepPos[m.key] = m.keyPos
		b.order = append(b.order, m.key)
		b.step(st, m.val)
		if st.Kind == KindAsk && st.Personal && st.Variable != "" {
			personalVars = append(personalVars, st.Variable)
		}
	}
	for i := range b.f.Variables {
		if contains(personalVars, b.f.Variables[i].Name) {
			b.f.Variables[i].Personal = true
		}
	}
	// An ask writing a variable that holds personal data is personal too.
	for _, id := range b.order {
		st := b.f.Steps[id]
		if st.Kind != KindAsk || st.Personal || !contains(personalVars, st.Variable) {
			continue
		}
		st.Personal = true
		if p, ok := b.notPersonal[id]; ok {
			b.add(p, "\"personal\": variable "+quote(st.Variable)+" is written by a personal ask")
		}
	}
}

func (b *builder) step(st *Step, v *jval) {
	if v.kind != jObj {
		b.typeErr(v, "step "+quote(st.ID), "an object")
		b.graphOK = false
		return
	}
	km, ok := v.get("kind")
	if !ok {
		b.add(v.pos, "missing field \"kind\" in step "+quote(st.ID))
		b.graphOK = false
		return
	}
	ks, ok := b.str(km.val, `"kind"`)
	if !ok {
		b.graphOK = false
		return
	}
	kind, ok := ParseKind(ks)
	if !ok {
		b.add(km.val.pos, "unknown step kind "+quote(ks))
		b.graphOK = false
		return
	}
	st.Kind = kind
	what := ks + " step"
	m := b.fields(v, what, stepFields[kind]...)

	textField := func(required bool) {
		if mm := m["text"]; mm != nil {
			st.Text = b.text(mm.val, `"text"`)
		} else if required {
			b.need(v, m, "text", what)
		}
	}
	target := func(key string, required bool) string {
		mm := m[key]
		if mm == nil {
			if required {
				b.need(v, m, key, what)
				b.graphOK = false
			}
			return ""
		}
		s, ok := b.str(mm.val, quote(key))
		if !ok {
			b.graphOK = false
			return ""
		}
		b.targets = append(b.targets, ref{from: st.ID, id: s, pos: mm.val.pos})
		return s
	}
	variable := func() string {
		mm := b.need(v, m, "variable", what)
		if mm == nil {
			return ""
		}
		s, ok := b.str(mm.val, `"variable"`)
		if !ok {
			return ""
		}
		b.varRefs = append(b.varRefs, ref{from: st.ID, id: s, pos: mm.val.pos})
		return s
	}

	switch kind {
	case KindSay:
		textField(true)
		st.Next = target("next", true)
	case KindChoice:
		textField(true)
		b.options(st, v, m)
	case KindAsk:
		textField(true)
		b.ask(st, v, m, variable)
		st.Next = target("next", true)
	case KindConsent:
		textField(true)
		st.Accept = target("accept", true)
		st.Decline = target("decline", true)
	case KindBranch:
		if mm := b.need(v, m, "cases", what); mm != nil {
			arr := b.array(mm.val, `"cases"`, MaxCases)
			if mm.val.kind == jArr && len(mm.val.arr) == 0 {
				b.add(mm.val.pos, "\"cases\": no cases")
				b.graphOK = false
			}
			for _, e := range arr {
				cm := b.fields(e, "case", "when", "next")
				if cm == nil {
					b.graphOK = false
					continue
				}
				var c Case
				if wm := b.need(e, cm, "when", "case"); wm != nil {
					c.When = b.cond(wm.val, st.ID, 1)
				}
				if nm := b.need(e, cm, "next", "case"); nm != nil {
					if s, ok := b.str(nm.val, `"next"`); ok {
						c.Next = s
						b.targets = append(b.targets, ref{from: st.ID, id: s, pos: nm.val.pos})
					} else {
						b.graphOK = false
					}
				} else {
					b.graphOK = false
				}
				st.Cases = append(st.Cases, c)
			}
		} else {
			b.graphOK = false
		}
		st.Else = target("else", true)
	case KindSet:
		st.Variable = variable()
		if mm := b.need(v, m, "value", what); mm != nil {
			st.Value, _ = b.str(mm.val, `"value"`)
		}
		st.Next = target("next", true)
	case KindJump:
		st.Next = target("next", true)
	case KindFAQ:
		textField(true)
		st.Next = target("next", true)
		st.Fallback = target("fallback", true)
		if mm := m["threshold"]; mm != nil {
			if x, ok := b.number(mm.val, `"threshold"`); ok {
				if !(x > 0 && x <= 1) {
					b.add(mm.val.pos, "\"threshold\" must be greater than 0 and at most 1")
				} else {
					st.Threshold = x
				}
			}
		}
		b.faqSteps = append(b.faqSteps, v.pos)
	case KindHandoff:
		textField(true)
		st.Next = target("next", false)
	case KindEnd:
		textField(false)
	}
}

func (b *builder) options(st *Step, v *jval, m map[string]*jmember) {
	mm := b.need(v, m, "options", "choice step")
	if mm == nil {
		b.graphOK = false
		return
	}
	arr := b.array(mm.val, `"options"`, MaxOptions)
	if mm.val.kind == jArr && len(mm.val.arr) == 0 {
		b.add(mm.val.pos, "\"options\": no options")
		b.graphOK = false
	}
	seen := map[string]bool{} // lang + "\x00" + label
	for _, e := range arr {
		om := b.fields(e, "option", "label", "next")
		if om == nil {
			b.graphOK = false
			continue
		}
		var o Option
		if lm := b.need(e, om, "label", "option"); lm != nil {
			o.Label = b.text(lm.val, `"label"`)
			for _, tm := range lm.val.mem {
				s, ok := o.Label[tm.key]
				if !ok {
					continue
				}
				k := tm.key + "\x00" + labelKey(s)
				if seen[k] {
					b.add(tm.val.pos, "duplicate option label "+quote(s))
				}
				seen[k] = true
			}
		}
		if nm := b.need(e, om, "next", "option"); nm != nil {
			if s, ok := b.str(nm.val, `"next"`); ok {
				o.Next = s
				b.targets = append(b.targets, ref{from: st.ID, id: s, pos: nm.val.pos})
			} else {
				b.graphOK = false
			}
		} else {
			b.graphOK = false
		}
		st.Options = append(st.Options, o)
	}
}

func (b *builder) ask(st *Step, v *jval, m map[string]*jmember, variable func() string) {
	st.Input = InputText
	if mm := m["input"]; mm != nil {
		if s, ok := b.str(mm.val, `"input"`); ok {
			k, ok := ParseInputKind(s)
			if !ok {
				b.add(mm.val.pos, "unknown input kind "+quote(s)+" (expected text, email, phone, number or date)")
			} else {
				st.Input = k
			}
		}
	}
	st.Variable = variable()
	declaredPersonal := false
	for _, vv := range b.f.Variables {
		if vv.Name == st.Variable && vv.Personal {
			declaredPersonal = true
		}
	}
	implied := st.Input == InputEmail || st.Input == InputPhone
	st.Personal = implied || declaredPersonal
	if mm := m["personal"]; mm != nil {
		if p, ok := b.boolean(mm.val, `"personal"`); ok {
			if p {
				st.Personal = true
			} else if implied {
				b.add(mm.val.pos, "\"personal\": an "+st.Input.String()+" input is always personal")
			} else if declaredPersonal {
				b.add(mm.val.pos, "\"personal\": variable "+quote(st.Variable)+" is declared personal")
			} else {
				if b.notPersonal == nil {
					b.notPersonal = map[string]srcPos{}
				}
				b.notPersonal[st.ID] = mm.val.pos
			}
		}
	}
	only := func(key string, kind InputKind) *jmember {
		mm := m[key]
		if mm != nil && st.Input != kind {
			b.add(mm.keyPos, "field "+quote(key)+" is only allowed for "+kind.String()+" input")
			return nil
		}
		return mm
	}
	var minPos srcPos
	if mm := only("min", InputNumber); mm != nil {
		if x, ok := b.number(mm.val, `"min"`); ok {
			st.Min = &x
			minPos = mm.val.pos
		}
	}
	if mm := only("max", InputNumber); mm != nil {
		if x, ok := b.number(mm.val, `"max"`); ok {
			st.Max = &x
		}
	}
	if st.Min != nil && st.Max != nil && *st.Min > *st.Max {
		b.add(minPos, "\"min\" is greater than \"max\"")
	}
	length := func(key string) (int, srcPos) {
		mm := only(key, InputText)
		if mm == nil {
			return 0, srcPos{}
		}
		n, ok := b.integer(mm.val, quote(key))
		if !ok {
			return 0, srcPos{}
		}
		if n < 1 || n > MaxInputLength {
			b.add(mm.val.pos, quote(key)+" must be between 1 and "+strconv.Itoa(MaxInputLength))
			return 0, srcPos{}
		}
		return n, mm.val.pos
	}
	var lenPos srcPos
	st.MinLength, lenPos = length("min_length")
	st.MaxLength, _ = length("max_length")
	if st.MinLength > 0 && st.MaxLength > 0 && st.MinLength > st.MaxLength {
		b.add(lenPos, "\"min_length\" is greater than \"max_length\"")
	}
	if mm := only("pattern", InputText); mm != nil {
		if s, ok := b.str(mm.val, `"pattern"`); ok {
			if b.regex(mm.val, s) {
				st.Pattern = s
			}
		}
	}
	if mm := m["retry"]; mm != nil {
		st.Retry = b.text(mm.val, `"retry"`)
	}
}

// regex checks a pattern: the subset of RE2 that ECMAScript reads alike
// (CheckPattern), reported at the offending construct, and then, in
// native builds, that Go's regexp compiles it (re2Check).
func (b *builder) regex(v *jval, s string) bool {
	if s == "" {
		b.add(v.pos, "empty regex")
		return false
	}
	if err := CheckPattern(s); err != nil {
		pe := err.(*PatternError)
		b.add(strPos(b.src, v, pe.Offset), "invalid regex: "+pe.Msg)
		return false
	}
	if msg := re2Check(s); msg != "" {
		b.add(v.pos, "invalid regex: "+msg)
		return false
	}
	return true
}

var condOps = [...]string{CondEquals: "equals", CondContains: "contains", CondMatches: "matches",
	CondIsSet: "is_set", CondAll: "all", CondAny: "any", CondNot: "not"}

func (b *builder) cond(v *jval, from string, depth int) Cond {
	if depth > MaxCondDepth {
		b.add(v.pos, "conditions nested more than "+strconv.Itoa(MaxCondDepth)+" deep")
		return Cond{}
	}
	m := b.fields(v, "condition", "var", "equals", "contains", "matches", "is_set", "all", "any", "not")
	if m == nil {
		return Cond{}
	}
	var c Cond
	var om *jmember
	n := 0
	for op := CondEquals; op <= CondNot; op++ {
		if mm := m[condOps[op]]; mm != nil {
			n++
			if om == nil {
				c.Op, om = op, mm
			}
		}
	}
	if n != 1 {
		b.add(v.pos, "condition needs exactly one of \"equals\", \"contains\", \"matches\", \"is_set\", \"all\", \"any\", \"not\"")
		return Cond{}
	}
	if c.Op <= CondIsSet {
		vm := b.need(v, m, "var", "condition")
		if vm != nil {
			if s, ok := b.str(vm.val, `"var"`); ok {
				c.Var = s
				b.varRefs = append(b.varRefs, ref{from: from, id: s, pos: vm.val.pos})
			}
		}
	} else if vm := m["var"]; vm != nil {
		b.add(vm.keyPos, "field \"var\" is not allowed with "+quote(condOps[c.Op]))
	}
	label := quote(condOps[c.Op])
	switch c.Op {
	case CondEquals, CondContains:
		c.Value, _ = b.str(om.val, label)
	case CondMatches:
		if s, ok := b.str(om.val, label); ok && b.regex(om.val, s) {
			c.Value = s
		}
	case CondIsSet:
		if t, ok := b.boolean(om.val, label); ok && !t {
			b.add(om.val.pos, "\"is_set\" must be true (use \"not\" for an unset variable)")
		}
	case CondAll, CondAny:
		arr := b.array(om.val, label, MaxCondSubs)
		if om.val.kind == jArr && len(om.val.arr) == 0 {
			b.add(om.val.pos, label+": no conditions")
		}
		for _, e := range arr {
			c.Subs = append(c.Subs, b.cond(e, from, depth+1))
		}
	case CondNot:
		c.Subs = []Cond{b.cond(om.val, from, depth+1)}
	}
	return c
}

// graph runs the checks on the step graph: dangling targets, unreachable
// steps, loops without input and the consent rule.
func (b *builder) graph() {
	steps := b.f.Steps
	if len(steps) == 0 {
		return
	}
	for _, r := range b.targets {
		if _, ok := steps[r.id]; !ok && !b.badIDs[r.id] {
			b.add(r.pos, "dangling target: no step "+quote(r.id))
			b.graphOK = false
		}
	}
	if !b.graphOK {
		return
	}
	// Unreachable steps.
	seen := map[string]bool{b.f.Start: true}
	queue := []string{b.f.Start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, t := range steps[id].Targets() {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, id := range b.order {
		if !seen[id] {
			b.add(b.stepPos[id], "unreachable step "+quote(id))
		}
	}
	for _, cyc := range loopsWithoutInput(b.f, b.order) {
		b.add(b.stepPos[cyc[0]], "loop without input: "+strings.Join(cyc, " -> "))
	}
	for _, v := range consentViolations(b.f) {
		b.add(b.stepPos[v.Ask], "personal ask reachable without consent (path: "+formatPath(v.Path)+")")
	}
}

func formatPath(p []pathStep) string {
	var sb strings.Builder
	for i, s := range p {
		if i > 0 {
			sb.WriteString(" -> ")
		}
		sb.WriteString(s.Step)
		if s.Declined {
			sb.WriteString(" (declined)")
		}
	}
	return sb.String()
}
