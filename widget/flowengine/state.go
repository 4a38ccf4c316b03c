package flowengine

import (
	"errors"
	"math"
	"unicode/utf8"

	"siegel/shared/flow"
	"siegel/shared/sha2"
)

// Errors of RestoreState.
var (
	// ErrState: the bytes are not a state written by MarshalState.
	ErrState = errors.New("flowengine: malformed state")
	// ErrStateFlow: the state does not fit the flow (for example the flow
	// was changed since): start afresh.
	ErrStateFlow = errors.New("flowengine: state does not fit the flow")
)

// State format (all integers unsigned LEB128 varints in their shortest form,
// times zigzag-encoded, strings as length + UTF-8 bytes):
//
//	"SFE" 0x01
//	lang, status byte, current step, consent byte, handed-off byte (0 or 1)
//	[32-byte hash of the consent text shown: only when waiting at a consent step]
//	variable count, then (name, value) by ascending name
//	entry count, then per entry: who byte, flags byte (1 personal, 2 consent
//	record, 4 accepted), step, text, time, variable, faq
//	[, flow version, 32-byte text hash, time: with a consent record]
const (
	stateMagic    = "SFE\x01"
	minEntryBytes = 7 // who, flags and five empty fields
	maxString     = 64 << 10
	maxValue      = 4 * flow.MaxInputLength

	flagPersonal = 1
	flagConsent  = 2
	flagAccepted = 4
)

// MarshalState returns the engine's state (not the flow, clock or privacy
// URL) in a compact binary form for RestoreState.
func (e *Engine) MarshalState() []byte {
	b := []byte(stateMagic)
	b = appendString(b, e.lang)
	b = append(b, byte(e.status))
	b = appendString(b, e.cur)
	b = append(b, byte(e.consent))
	if e.handedOff {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if e.waiting(flow.KindConsent) != nil {
		b = append(b, e.shownHash[:]...)
	}
	names := make([]string, 0, len(e.vars))
	for k := range e.vars {
		names = append(names, k)
	}
	sortStrings(names)
	b = appendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendString(b, k)
		b = appendString(b, e.vars[k])
	}
	b = appendUvarint(b, uint64(len(e.transcript)))
	for i := range e.transcript {
		en := &e.transcript[i]
		var flags byte
		if en.Personal {
			flags |= flagPersonal
		}
		if en.Consent != nil {
			flags |= flagConsent
			if en.Consent.Accepted {
				flags |= flagAccepted
			}
		}
		b = append(b, byte(en.Who), flags)
		b = appendString(b, en.Step)
		b = appendString(b, en.Text)
		b = appendVarint(b, en.Time)
		b = appendString(b, en.Variable)
		b = appendString(b, en.FAQ)
		if c := en.Consent; c != nil {
			b = appendUvarint(b, uint64(c.FlowVersion))
			b = append(b, c.TextHash[:]...)
			b = appendVarint(b, c.Time)
		}
	}
	return b
}

// RestoreState rebuilds an engine from MarshalState's bytes for the same
// flow. It is strict: every byte is checked (shortest varints, known enum
// values and flags, valid UTF-8, limits, no trailing bytes) and so is the fit
// to f (language, current step and its kind, declared variables, the hash of
// a consent text on screen, consent decisions). The result has the default
// clock, flow version and privacy URL: set them again.
func RestoreState(f *flow.Flow, data []byte) (*Engine, error) {
	if len(data) < len(stateMagic) || string(data[:len(stateMagic)]) != stateMagic {
		return nil, ErrState
	}
	r := reader{b: data[len(stateMagic):]}
	e := &Engine{f: f, vars: make(map[string]string)}
	e.lang = r.str(flow.MaxLangLength)
	e.status = Status(r.byte())
	e.cur = r.str(flow.MaxIDLength)
	e.consent = ConsentState(r.byte())
	handed := r.byte()
	if r.err != nil {
		return nil, r.err
	}
	if e.status > Failed || e.consent > ConsentDeclined || handed > 1 || e.status == HandedOff && handed == 0 {
		return nil, ErrState
	}
	e.handedOff = handed == 1
	if !contains(f.Languages, e.lang) {
		return nil, ErrStateFlow
	}
	st := f.Steps[e.cur]
	switch e.status {
	case NotStarted, Failed:
		if e.cur != "" {
			return nil, ErrState
		}
	case Waiting:
		if st == nil || !(st.Kind == flow.KindChoice || st.Kind == flow.KindAsk || st.Kind == flow.KindConsent || st.Kind == flow.KindFAQ) {
			return nil, ErrStateFlow
		}
	case HandedOff:
		if st == nil || st.Kind != flow.KindHandoff {
			return nil, ErrStateFlow
		}
	case Ended:
		if st == nil || st.Kind != flow.KindEnd {
			return nil, ErrStateFlow
		}
	}
	if e.status == Waiting && st.Kind == flow.KindConsent {
		copy(e.shownHash[:], r.bytes(32))
		if r.err == nil && e.shownHash != sha2.Sum256([]byte(st.Text.In(e.lang, f.DefaultLanguage))) {
			return nil, ErrStateFlow
		}
	}

	nv := r.count(flow.MaxVariables)
	prev := ""
	for i := 0; i < nv && r.err == nil; i++ {
		name := r.str(flow.MaxIDLength)
		val := r.str(maxValue)
		if r.err != nil {
			break
		}
		if i > 0 && name <= prev {
			return nil, ErrState
		}
		if _, ok := f.Variable(name); !ok {
			return nil, ErrStateFlow
		}
		prev = name
		e.vars[name] = val
	}

	n := r.count(len(r.b) / minEntryBytes) // no allocation beyond the input's size
	if r.err == nil && n > 0 {
		e.transcript = make([]Entry, 0, n)
	}
	last := ConsentNone
	for i := 0; i < n && r.err == nil; i++ {
		var en Entry
		en.Who = Who(r.byte())
		flags := r.byte()
		en.Step = r.str(flow.MaxIDLength)
		en.Text = r.str(maxString)
		en.Time = r.varint()
		en.Variable = r.str(flow.MaxIDLength)
		en.FAQ = r.str(flow.MaxIDLength)
		if r.err != nil {
			break
		}
		if en.Who != Bot && en.Who != Visitor || flags&^(flagPersonal|flagConsent|flagAccepted) != 0 ||
			flags&flagAccepted != 0 && flags&flagConsent == 0 || en.Step == "" {
			return nil, ErrState
		}
		en.Personal = flags&flagPersonal != 0
		if flags&flagConsent != 0 {
			c := &ConsentRecord{Accepted: flags&flagAccepted != 0}
			v := r.uvarint()
			copy(c.TextHash[:], r.bytes(32))
			c.Time = r.varint()
			if r.err != nil {
				break
			}
			if v > math.MaxUint32 {
				return nil, ErrState
			}
			c.FlowVersion = uint32(v)
			en.Consent = c
			last = ConsentDeclined
			if c.Accepted {
				last = ConsentAccepted
			}
		}
		// Only visitor answers carry a variable or the personal flag, only
		// visitor decisions a consent record, only bot lines an FAQ ID.
		if en.Who == Bot && (en.Variable != "" || en.Personal || en.Consent != nil) ||
			en.Who == Visitor && en.FAQ != "" ||
			en.Consent != nil && (en.Variable != "" || en.Personal) ||
			en.Personal && en.Variable == "" {
			return nil, ErrState
		}
		if en.Variable != "" {
			if _, ok := f.Variable(en.Variable); !ok {
				return nil, ErrStateFlow
			}
		}
		e.transcript = append(e.transcript, en)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, ErrState
	}
	if e.consent != last {
		return nil, ErrState
	}
	if e.status == NotStarted && (len(e.vars) != 0 || len(e.transcript) != 0 || e.handedOff) {
		return nil, ErrState
	}
	if e.status == Waiting && st.Kind == flow.KindAsk && e.personal(st) && e.consent != ConsentAccepted {
		return nil, ErrStateFlow
	}
	e.init()
	return e, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendVarint(b []byte, v int64) []byte {
	return appendUvarint(b, uint64(v<<1)^uint64(v>>63))
}

func appendString(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the state format; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = ErrState
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = ErrState
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// uvarint reads a varint in its shortest form.
func (r *reader) uvarint() uint64 {
	var v uint64
	for i := 0; ; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if i == 9 && c > 1 {
			r.err = ErrState
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				r.err = ErrState // not the shortest form
				return 0
			}
			return v
		}
	}
}

func (r *reader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *reader) count(limit int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(limit) {
		r.err = ErrState
	}
	return int(v)
}

func (r *reader) str(limit int) string {
	n := r.count(limit)
	p := r.bytes(n)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(p) {
		r.err = ErrState
		return ""
	}
	return string(p)
}

// sortStrings sorts the variable names (at most flow.MaxVariables): an
// insertion sort, as the generic sorts of sort and slices would add
// kilobytes to the widget.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
