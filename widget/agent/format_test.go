package agent

import (
	"testing"
	"time"

	"siegel/shared/ids"
)

func TestPickLang(t *testing.T) {
	cases := []struct {
		in   []string
		want Lang
	}{
		{nil, German},
		{[]string{"fr-FR", "it"}, German},
		{[]string{"en-US", "de"}, English},
		{[]string{"EN"}, English},
		{[]string{"de-AT", "en"}, German},
		{[]string{"fr", "en-GB", "de"}, English},
		{[]string{"ena"}, German},
	}
	for _, c := range cases {
		if got := PickLang(c.in); got != c.want {
			t.Errorf("PickLang(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if German.Code() != "de" || English.Code() != "en" {
		t.Error("codes")
	}
}

func TestStringsComplete(t *testing.T) {
	// Every text field is set in both languages.
	for _, l := range []Lang{German, English} {
		tx := Strings(l)
		fields := []string{tx.Title, tx.ImportTitle, tx.UnlockTitle, tx.NoKey, tx.ImportKey, tx.ImportHint, tx.LoadDemo, tx.LoadingKey,
			tx.Locked, tx.Passphrase, tx.Unlock, tx.Unlocking, tx.ExportKey, tx.ForgetKey, tx.ForgetAsk,
			tx.WrongPass, tx.EmptyPass, tx.BadKeyFile, tx.KeyVersion, tx.KeyLoadError, tx.StorageError,
			tx.LoggedInAs, tx.Lock, tx.Connecting, tx.Online, tx.Offline, tx.RetryIn, tx.Seconds,
			tx.Reconnect, tx.ErrRoster, tx.ErrNotAgent, tx.ErrSite, tx.ErrProtocol, tx.ErrServer,
			tx.ErrRate, tx.ErrTooLarge, tx.Conversations, tx.NoConversations, tx.Conversation,
			tx.Unread, tx.UnreadOne, tx.UnreadMany, tx.Started, tx.LastActivity, tx.Select, tx.Loading,
			tx.Back, tx.Transcript, tx.Visitor, tx.You, tx.Pending, tx.Sent, tx.Failed, tx.Unreadable,
			tx.ReplyLabel, tx.ReplyHint, tx.Send, tx.EmptyReply, tx.TooLong, tx.SendOffline, tx.Today,
			tx.Yesterday, tx.UnknownAgent, tx.ErrLimit, tx.ErrNotFound, tx.ErrForbidden, tx.ErrVersion,
			tx.ErrPage, tx.ErrOtherSite, tx.SendFailed, tx.NotSynced, tx.NoVisitorKey, tx.OutboxFull, tx.Stopped,
			tx.Bot, tx.Personal, tx.PersonalLabel, tx.ConsentAccepted, tx.ConsentDeclined, tx.FlowVersion,
			tx.TextHash, tx.HandoffPerson, tx.HandoffMessage, tx.Waiting, tx.Receipts, tx.ReceiptsFor,
			tx.Corrected, tx.CorrectedLabel, tx.Delete, tx.DeleteAsk, tx.DeleteConfirm, tx.DeleteCancel,
			tx.Deleting, tx.Deleted, tx.DeletedElsewhere, tx.DeleteFailed, tx.ErrReplay, tx.ErrGone}
		for i, f := range fields {
			if f == "" {
				t.Errorf("%s: field %d empty", l.Code(), i)
			}
		}
	}
	if Strings(German).Unlock != "Entsperren" || Strings(English).Unlock != "Unlock" {
		t.Error("unlock labels")
	}
	if Strings(German).LoadDemo != "Demo-Schlüssel laden" || Strings(English).LoadDemo != "Load demo key" {
		t.Error("demo labels")
	}
	if len(Strings(German).fields) != len(Strings(English).fields) {
		t.Error("variable labels differ between the languages")
	}
	if Strings(German).UnreadLabel(1) != "1 ungelesene Nachricht" || Strings(English).UnreadLabel(3) != "3 unread messages" {
		t.Error("unread label")
	}
}

func TestShortID(t *testing.T) {
	var c ids.ConvID
	for i := range c {
		c[i] = byte(i * 17)
	}
	s := ShortID(c)
	if len(s) != 8 || s != c.String()[:8] {
		t.Errorf("ShortID = %q", s)
	}
}

func TestFormatTime(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	now := time.Date(2025, 11, 28, 15, 30, 0, 0, loc)
	de, en := Strings(German), Strings(English)
	cases := []struct {
		at     time.Time
		de, en string
	}{
		{time.Time{}, "", ""},
		{time.Date(2025, 11, 28, 9, 5, 0, 0, loc), "09:05", "09:05"},
		{time.Date(2025, 11, 28, 8, 5, 0, 0, time.UTC), "09:05", "09:05"}, // converted to now's zone
		{time.Date(2025, 11, 27, 23, 59, 0, 0, loc), "gestern 23:59", "yesterday 23:59"},
		{time.Date(2025, 3, 3, 7, 0, 0, 0, loc), "03.03. 07:00", "Mar 3, 07:00"},
		{time.Date(2024, 12, 31, 7, 0, 0, 0, loc), "31.12.2024", "2024-12-31"},
	}
	for _, c := range cases {
		if got := de.FormatTime(c.at, now); got != c.de {
			t.Errorf("de %v: %q, want %q", c.at, got, c.de)
		}
		if got := en.FormatTime(c.at, now); got != c.en {
			t.Errorf("en %v: %q, want %q", c.at, got, c.en)
		}
	}
	// Yesterday across a month boundary.
	now = time.Date(2025, 12, 1, 0, 10, 0, 0, loc)
	if got := de.FormatTime(time.Date(2025, 11, 30, 22, 0, 0, 0, loc), now); got != "gestern 22:00" {
		t.Errorf("month boundary: %q", got)
	}
	if ISOTime(time.Unix(0, 0)) != "1970-01-01T00:00:00Z" || ISOTime(time.Time{}) != "" {
		t.Error("ISOTime")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 8 * time.Second}
	want := []time.Duration{1, 2, 4, 8, 8, 8}
	for i, w := range want {
		if d := b.Next(0); d != w*time.Second {
			t.Errorf("step %d: %v, want %v", i, d, w*time.Second)
		}
	}
	if b.Attempts() != len(want) {
		t.Errorf("attempts %d", b.Attempts())
	}
	b.Reset()
	if d := b.Next(0); d != time.Second {
		t.Errorf("after reset %v", d)
	}
	// Maximal jitter takes off just under a quarter.
	b.Reset()
	d := b.Next(^uint32(0))
	if d <= 750*time.Millisecond || d > time.Second {
		t.Errorf("jitter %v", d)
	}
	// Zero value: 1 s … 30 s, and it never overflows.
	var z Backoff
	for i := 0; i < 100; i++ {
		d = z.Next(uint32(i * 7919))
		if d <= 0 || d > 30*time.Second {
			t.Fatalf("zero value step %d: %v", i, d)
		}
	}
	if d < 22*time.Second {
		t.Errorf("zero value does not reach max: %v", d)
	}
}
