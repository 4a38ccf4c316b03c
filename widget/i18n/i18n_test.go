package i18n

import (
	"reflect"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	cases := []struct {
		langs []string
		want  Lang
	}{
		{nil, German},
		{[]string{}, German},
		{[]string{"de-DE", "en"}, German},
		{[]string{"en-US", "de"}, English},
		{[]string{"EN"}, English},
		{[]string{"en"}, English},
		{[]string{"fr-FR", "en-GB"}, German},
		{[]string{"es", "en"}, German},
		{[]string{""}, German},
		{[]string{"eng"}, English},
	}
	for _, c := range cases {
		if got := Choose(c.langs); got != c.want {
			t.Errorf("Choose(%q) = %v, want %v", c.langs, got, c.want)
		}
	}
}

func TestTags(t *testing.T) {
	if German.Tag() != "de" || English.Tag() != "en" {
		t.Fatalf("tags: %q %q", German.Tag(), English.Tag())
	}
	if For(German).Lang != German || For(English).Lang != English {
		t.Fatal("For returns the wrong language")
	}
}

// Every text is present in both languages, and the two differ where words are
// language specific.
func TestComplete(t *testing.T) {
	for _, l := range []Lang{German, English} {
		v := reflect.ValueOf(*For(l))
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.String && v.Field(i).String() == "" {
				t.Errorf("%s: %s is empty", l.Tag(), f.Name)
			}
		}
	}
	same := map[string]bool{"Title": true, "AgentFallback": true}
	d, e := reflect.ValueOf(*For(German)), reflect.ValueOf(*For(English))
	for i := 0; i < d.NumField(); i++ {
		f := d.Type().Field(i)
		if f.Type.Kind() == reflect.String && !same[f.Name] && d.Field(i).String() == e.Field(i).String() {
			t.Errorf("%s is not translated: %q", f.Name, d.Field(i).String())
		}
	}
}

func TestRequiredTexts(t *testing.T) {
	de, en := For(German), For(English)
	checks := [][2]string{
		{de.Greeting, "Hallo! Wie können wir Ihnen helfen?"},
		{en.Greeting, "Hello! How can we help you?"},
		{de.StatePending, "Wird gesendet…"},
		{de.StateSent, "Gesendet"},
		{de.StateDelivered, "Zugestellt"},
		{en.StatePending, "Sending…"},
		{en.StateSent, "Sent"},
		{en.StateDelivered, "Delivered"},
		{de.AlertRoster, "Die Schlüssel dieser Website konnten nicht bestätigt werden. Es wird nichts gesendet."},
		{de.PresenceOnline, "Ein Mensch ist erreichbar"},
		{de.PresenceOffline, "Gerade ist niemand erreichbar"},
		{de.LeaveLabel, "Nachricht hinterlassen"},
		{de.AgentJoined("Anna"), "Anna ist jetzt für Sie da"},
		{en.AgentJoined("Anna"), "Anna is here for you now"},
		{de.Typing("Anna"), "Anna schreibt …"},
		{en.Typing("Anna"), "Anna is typing …"},
	}
	for _, s := range []*Strings{de, en} {
		if !strings.HasPrefix(s.LeaveMessage, s.PresenceOffline) {
			t.Errorf("%s: the leave-message notice does not say that nobody is available: %q", s.Lang.Tag(), s.LeaveMessage)
		}
	}
	if !strings.HasPrefix(de.Closed, "Das Gespräch wurde beendet") || !strings.HasPrefix(en.Closed, "The conversation has ended") {
		t.Errorf("Closed = %q / %q", de.Closed, en.Closed)
	}
	for _, c := range checks {
		if got, want := c[0], c[1]; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if got := de.TooLong(2000); got != "Die Nachricht ist zu lang: höchstens 2000 Zeichen." {
		t.Errorf("TooLong de = %q", got)
	}
	if got := en.TooLong(5); !strings.Contains(got, " 5 characters") {
		t.Errorf("TooLong en = %q", got)
	}
}
