package flow

import (
	"strings"
	"testing"
)

// doc builds a German-only flow document around the given steps.
func doc(vars, steps string) []byte {
	return []byte(`{
  "version": 1,
  "languages": ["de"],
  "start": "start",
  "variables": [` + vars + `],
  "steps": {
` + steps + `
  }
}
`)
}

const (
	vEmail = `{"name": "topic"}, {"name": "email"}, {"name": "name", "personal": true}, {"name": "mood"}`
	sEnd   = `    "end": {"kind": "end"}`
)

func say(id, next string) string {
	return `    "` + id + `": {"kind": "say", "text": {"de": "Text ` + id + `"}, "next": "` + next + `"},`
}
func consent(id, accept, decline string) string {
	return `    "` + id + `": {"kind": "consent", "text": {"de": "Einverstanden?"}, "accept": "` + accept + `", "decline": "` + decline + `"},`
}
func askEmail(id, next string) string {
	return `    "` + id + `": {"kind": "ask", "text": {"de": "E-Mail?"}, "input": "email", "variable": "email", "next": "` + next + `"},`
}
func askName(id, next string) string {
	return `    "` + id + `": {"kind": "ask", "text": {"de": "Name?"}, "variable": "name", "next": "` + next + `"},`
}
func askTopic(id, next string) string {
	return `    "` + id + `": {"kind": "ask", "text": {"de": "Thema?"}, "variable": "topic", "next": "` + next + `"},`
}
func choice(id string, targets ...string) string {
	var opts []string
	for i, t := range targets {
		opts = append(opts, `{"label": {"de": "Option `+string(rune('A'+i))+`"}, "next": "`+t+`"}`)
	}
	return `    "` + id + `": {"kind": "choice", "text": {"de": "Was?"}, "options": [` + strings.Join(opts, ", ") + `]},`
}
func branch(id, cond, then, els string) string {
	return `    "` + id + `": {"kind": "branch", "cases": [{"when": ` + cond + `, "next": "` + then + `"}], "else": "` + els + `"},`
}

// consentProblems returns the consent problems of a document as
// "ask-step: path" strings and fails on any other problem.
func consentProblems(t *testing.T, src []byte) []string {
	t.Helper()
	var out []string
	for _, p := range Check("t.json", src) {
		const prefix = "personal ask reachable without consent (path: "
		if !strings.HasPrefix(p.Msg, prefix) {
			t.Fatalf("unexpected problem %s in\n%s", p, src)
		}
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(p.Msg, prefix), ")"))
	}
	return out
}

func TestConsentRule(t *testing.T) {
	cases := []struct {
		name  string
		steps []string
		want  []string // paths of the rejected asks, in position order
	}{{
		name:  "direct",
		steps: []string{say("start", "mail"), askEmail("mail", "end")},
		want:  []string{"start -> mail"},
	}, {
		name:  "accepted consent first",
		steps: []string{say("start", "c"), consent("c", "mail", "end"), askEmail("mail", "end")},
	}, {
		name:  "anonymous ask needs no consent",
		steps: []string{askTopic("start", "end")},
	}, {
		name:  "personal variable makes a text ask personal",
		steps: []string{say("start", "n"), askName("n", "end")},
		want:  []string{"start -> n"},
	}, {
		name: "explicit personal flag",
		steps: []string{say("start", "p"),
			`    "p": {"kind": "ask", "text": {"de": "Wohnort?"}, "variable": "topic", "personal": true, "next": "end"},`},
		want: []string{"start -> p"},
	}, {
		name:  "decline edge leads to the ask",
		steps: []string{say("start", "c"), consent("c", "end", "mail"), askEmail("mail", "end")},
		want:  []string{"start -> c (declined) -> mail"},
	}, {
		name: "both edges of the consent join before the ask",
		steps: []string{say("start", "c"), consent("c", "j", "j"),
			`    "j": {"kind": "jump", "next": "mail"},`, askEmail("mail", "end")},
		want: []string{"start -> c (declined) -> j -> mail"},
	}, {
		name: "branch skips the consent",
		steps: []string{askTopic("start", "b"), branch("b", `{"var": "topic", "equals": "termin"}`, "c", "mail"),
			consent("c", "mail", "end"), askEmail("mail", "end")},
		want: []string{"start -> b -> mail"},
	}, {
		name: "branch on both sides after the accept",
		steps: []string{say("start", "c"), consent("c", "b", "end"),
			branch("b", `{"any": [{"var": "topic", "is_set": true}, {"not": {"var": "mood", "matches": "^gut"}}]}`, "mail", "n"),
			askEmail("mail", "n"), askName("n", "end")},
	}, {
		name: "loop back to before the consent, other option skips it",
		steps: []string{choice("start", "c", "n", "end"), consent("c", "mail", "start"),
			askEmail("mail", "start"), askName("n", "start")},
		want: []string{"start -> n"},
	}, {
		name: "consent inside a loop",
		steps: []string{choice("start", "c", "end"), consent("c", "mail", "start"),
			askEmail("mail", "n"), askName("n", "start")},
	}, {
		name: "consent inside a loop, declined then back into the personal part",
		steps: []string{choice("start", "c", "end"), consent("c", "mail", "menu2"),
			askEmail("mail", "n"), askName("n", "start"), choice("menu2", "start", "n")},
		want: []string{"start -> c (declined) -> menu2 -> n"},
	}, {
		name: "a later decline counts, not the earlier accept",
		steps: []string{say("start", "c1"), consent("c1", "c2", "end"), consent("c2", "mail", "n"),
			askEmail("mail", "end"), askName("n", "end")},
		want: []string{"start -> c1 -> c2 (declined) -> n"},
	}, {
		name: "faq fallback and handoff edges are followed",
		steps: []string{`    "start": {"kind": "faq", "text": {"de": "Frage?"}, "next": "end", "fallback": "h"},`,
			`    "h": {"kind": "handoff", "text": {"de": "Moment"}, "next": "mail"},`, askEmail("mail", "end")},
		want: []string{"start -> h -> mail"},
	}, {
		name: "a text ask into a variable an email ask writes is personal, after consent",
		steps: []string{say("start", "c"), consent("c", "mail", "end"), askEmail("mail", "again"),
			`    "again": {"kind": "ask", "text": {"de": "Andere Adresse?"}, "variable": "email", "next": "end"},`},
	}, {
		name: "a text ask into a variable an email ask writes is personal, before consent",
		steps: []string{say("start", "again"),
			`    "again": {"kind": "ask", "text": {"de": "Adresse?"}, "variable": "email", "next": "c"},`,
			consent("c", "mail", "end"), askEmail("mail", "end")},
		want: []string{"start -> again"},
	}, {
		name:  "every reachable personal ask is reported once",
		steps: []string{choice("start", "mail", "n"), askEmail("mail", "n"), askName("n", "end")},
		want:  []string{"start -> mail", "start -> n"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := doc(vEmail, strings.Join(append(c.steps, sEnd), "\n"))
			if strings.Contains(string(src), `"faq"`) {
				src = []byte(strings.Replace(string(src), `"steps": {`,
					`"faq": [{"id": "q", "questions": {"de": ["Wann?"]}, "answer": {"de": "Jetzt."}}],
  "steps": {`, 1))
			}
			got := consentProblems(t, src)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got %q, want %q\n%s", got, c.want, src)
			}
			// Decode repeats the check on the compiled form.
			if len(c.want) == 0 {
				f, probs := Parse("t.json", src)
				if f == nil {
					t.Fatal(probs)
				}
				if _, err := Decode(Compile(f)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeRejectsUnconsentedFlow checks that the consent rule does not
// depend on the relay's check: a compiled flow with a personal ask reachable
// without consent is refused by Decode.
func TestDecodeRejectsUnconsentedFlow(t *testing.T) {
	src := doc(vEmail, strings.Join([]string{say("start", "c"), consent("c", "mail", "end"), askEmail("mail", "end"), sEnd}, "\n"))
	f, probs := Parse("t.json", src)
	if f == nil {
		t.Fatal(probs)
	}
	f.Steps["c"].Decline = "mail" // tamper after validation
	if _, err := Decode(Compile(f)); err == nil || !strings.Contains(err.Error(), "consent") {
		t.Fatalf("Decode accepted a flow that asks for an email after a decline: %v", err)
	}
}

func TestLoops(t *testing.T) {
	cases := []struct {
		name  string
		steps []string
		want  []string
	}{{
		name:  "say jump cycle",
		steps: []string{say("start", "a"), `    "a": {"kind": "jump", "next": "start"},`},
		want:  []string{"loop without input: start -> a -> start"},
	}, {
		name: "branch cycle through set",
		steps: []string{say("start", "s"), `    "s": {"kind": "set", "variable": "mood", "value": "x", "next": "b"},`,
			branch("b", `{"var": "mood", "equals": "x"}`, "s", "end")},
		want: []string{"loop without input: s -> b -> s"},
	}, {
		name:  "handoff does not wait",
		steps: []string{say("start", "h"), `    "h": {"kind": "handoff", "text": {"de": "Moment"}, "next": "start"},`},
		want:  []string{"loop without input: start -> h -> start"},
	}, {
		name:  "a choice in the cycle is fine",
		steps: []string{say("start", "m"), choice("m", "start", "end")},
	}, {
		name:  "a faq step in the cycle is fine",
		steps: []string{say("start", "q"), `    "q": {"kind": "faq", "text": {"de": "Frage?"}, "next": "start", "fallback": "q"},`},
	}, {
		name: "two separate loops",
		steps: []string{choice("start", "a", "b"), say("a", "a2"), say("a2", "a"),
			`    "b": {"kind": "jump", "next": "b"},`},
		want: []string{"loop without input: a -> a2 -> a", "loop without input: b -> b"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := string(doc(vEmail, strings.Join(append(c.steps, sEnd), "\n")))
			if strings.Contains(src, `"faq"`) {
				src = strings.Replace(src, `"steps": {`, `"faq": [{"id": "q", "questions": {"de": ["Wann?"]}, "answer": {"de": "Jetzt."}}],
  "steps": {`, 1)
			}
			var got []string
			for _, p := range Check("t.json", []byte(src)) {
				if strings.HasPrefix(p.Msg, "unreachable step") {
					continue
				}
				got = append(got, p.Msg)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got %q, want %q\n%s", got, c.want, src)
			}
		})
	}
}
