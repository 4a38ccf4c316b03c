package visitor

import (
	"testing"

	"siegel/shared/content"
	"siegel/shared/roster"
	"siegel/widget/session"
)

func ownContent(pos uint64, t content.Type, c []byte) session.MessageEvent {
	return session.MessageEvent{Pos: pos, Seq: pos, Own: true, From: session.FromVisitor, Type: t, Content: c, Time: int64(pos) * 1000}
}

func answerEvent(pos uint64, variable, value string) session.MessageEvent {
	return ownContent(pos, content.TypeAnswer, content.EncodeAnswer(content.Answer{Variable: variable, Kind: content.InputText, Value: value}))
}

func correctionEvent(pos, orig uint64, variable, value string) session.MessageEvent {
	return ownContent(pos, content.TypeCorrection, content.EncodeCorrection(content.Correction{Pos: orig,
		Answer: content.Answer{Variable: variable, Kind: content.InputText, Value: value}}))
}

func TestHistory(t *testing.T) {
	var h History
	evs := []session.Event{
		ownContent(1, content.TypeBot, []byte("Wie heißen Sie?")),
		answerEvent(2, "name", "Alt"),
		ownContent(3, content.TypeBot, []byte("Ihre Stadt?")),
		answerEvent(4, "city", "Köln"),
		session.MessageEvent{Pos: 5, From: session.FromAgent, Agent: roster.Agent{Name: "Anna"}, Type: content.TypeText, Content: []byte("Hallo")},
		ownContent(6, content.TypeConsent, content.EncodeConsent(content.Consent{FlowVersion: 2, Accepted: true, Time: 7})),
		ownContent(7, content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffPerson})),
		session.MessageEvent{Pos: 8, Own: true, Type: content.TypeAnswer, Content: []byte{9, 9}}, // does not decode
		session.MessageEvent{Pending: true, Own: true, Type: content.TypeText, Content: []byte("pending")},
	}
	changed := 0
	for _, ev := range evs {
		if h.Apply(ev) {
			changed++
		}
	}
	if changed != 7 {
		t.Fatalf("%d changes, want 7", changed)
	}
	if h.Fetched() || !h.Apply(session.FetchedEvent{LastPos: 8}) || !h.Fetched() || h.Apply(session.FetchedEvent{LastPos: 8}) {
		t.Fatal("fetched")
	}
	order := func() string {
		s := ""
		for _, e := range h.Entries() {
			l := LineOf(i18nDE(), &e)
			s += l.Text + "|"
		}
		return s
	}
	if got := order(); got != "Wie heißen Sie?|Alt|Ihre Stadt?|Köln|Hallo|Zugestimmt|"+i18nDE().HandoffPerson+"|" {
		t.Fatalf("order %q", got)
	}
	// A correction takes the original's place; so does a correction of it.
	h.Apply(correctionEvent(9, 2, "name", "Neu"))
	h.Apply(session.ReplacedEvent{Old: 2, New: 9})
	if got := order(); got != "Wie heißen Sie?|Neu|Ihre Stadt?|Köln|Hallo|Zugestimmt|"+i18nDE().HandoffPerson+"|" {
		t.Fatalf("after correction %q", got)
	}
	h.Apply(correctionEvent(10, 9, "name", "Neuer"))
	es := h.Entries()
	if es[1].Answer.Value != "Neuer" || !es[1].Corrected || es[1].Pos != 10 || es[1].Original != 2 || len(es) != 7 {
		t.Fatalf("second correction %+v", es[1])
	}
	// Replaced alone (the correction not seen yet) drops the old entry.
	if !h.Apply(session.ReplacedEvent{Old: 4, New: 11}) || h.Apply(session.ReplacedEvent{Old: 4, New: 11}) {
		t.Fatal("replaced")
	}
	for _, e := range h.Entries() {
		if e.Answer.Value == "Köln" || e.Answer.Value == "Alt" {
			t.Fatal("replaced value still held")
		}
	}
	if !h.Apply(session.ErasedEvent{}) || len(h.Entries()) != 0 || h.Fetched() {
		t.Fatal("erased")
	}
}

func TestViewSplitsDataAndConsents(t *testing.T) {
	var v View
	v.add(Entry{Type: content.TypeBot, Text: "x"})
	v.add(Entry{Type: content.TypeAnswer, Answer: content.Answer{Kind: content.InputChoice, Value: "Ja"}})
	v.add(Entry{Type: content.TypeAnswer, Answer: content.Answer{Variable: "topic", Kind: content.InputText, Value: "a"}})
	v.add(Entry{Type: content.TypeAnswer, Answer: content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "b"}})
	v.add(Entry{Type: content.TypeConsent})
	if len(v.Entries) != 5 || len(v.Data) != 2 || len(v.Consents) != 1 {
		t.Fatalf("%d entries, %d data, %d consents", len(v.Entries), len(v.Data), len(v.Consents))
	}
	for _, e := range []Entry{
		{Type: content.TypeAnswer, Where: WhereSending, Answer: content.Answer{Variable: "a", Kind: content.InputText, Value: "x"}},
		{Type: content.TypeAnswer, Where: WhereRelay, Answer: content.Answer{Variable: "a", Kind: content.InputText, Value: "x"}},
		{Type: content.TypeAnswer, Where: WhereBrowser, Index: -1, Answer: content.Answer{Variable: "a", Kind: content.InputText, Value: "x"}},
	} {
		if e.Correctable() {
			t.Fatalf("correctable: %+v", e)
		}
	}
	if e := (Entry{Type: content.TypeAnswer, Where: WhereRelay, Pos: 3, Answer: content.Answer{Variable: "a", Kind: content.InputText, Value: "x"}}); !e.Correctable() {
		t.Fatal("stored data not correctable")
	}
}
