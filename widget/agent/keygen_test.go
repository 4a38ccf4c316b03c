package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/roster"
)

var fastParams = keyfile.Params{Time: 1, MemoryKiB: 8192, Threads: 1}

func (w *world) ownerFP() ids.Fingerprint {
	return ids.OwnerFingerprint(ids.Key(w.owner.Public().(ed25519.PublicKey)))
}

func TestPubLine(t *testing.T) {
	id := ids.AgentID{0xfb, 0xff}
	sign, box := ids.Key{1, 2, 3}, ids.Key{0xff, 0xfe}
	got := PubLine(id, sign, box, "Anna Beispiel")
	want := "SIEGEL-AGENT-PUB 1 " + id.String() + " " + sign.String() + " " + box.String() + " Anna Beispiel"
	if got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	f := strings.Fields(got)
	if len(f) != 7 || len(f[2]) != 22 || len(f[3]) != 43 || len(f[4]) != 43 || strings.ContainsAny(got, "+/=") {
		t.Errorf("fields %q", f)
	}
	a, err := roster.ParseAgentPublicLine(got)
	if err != nil || a.ID != id || a.Sign != sign || a.Box != box || a.Name != "Anna Beispiel" {
		t.Errorf("parsed %+v, %v", a, err)
	}
}

func TestCheckNewKey(t *testing.T) {
	de := Strings(German)
	site, fp := ids.SiteID{1}.String(), ids.Fingerprint{2}.String()
	ok := NewKey{Name: "Anna", Site: site, Owner: fp, Pass: "zehn Zeich", Pass2: "zehn Zeich"}
	if _, _, e := de.Check(ok); !e.OK() {
		t.Fatalf("valid fields refused: %+v", e)
	}
	cases := []struct {
		k    NewKey
		want NewKeyErrors
	}{
		{NewKey{Name: " ", Site: site, Owner: fp, Pass: "1234567890", Pass2: "1234567890"}, NewKeyErrors{Name: de.BadName}},
		{NewKey{Name: "A\x07", Site: site, Owner: fp, Pass: "1234567890", Pass2: "1234567890"}, NewKeyErrors{Name: de.BadName}},
		{NewKey{Name: strings.Repeat("ä", 33), Site: site, Owner: fp, Pass: "1234567890", Pass2: "1234567890"}, NewKeyErrors{Name: de.BadName}},
		{NewKey{Name: "A", Site: "x", Owner: fp, Pass: "1234567890", Pass2: "1234567890"}, NewKeyErrors{Site: de.BadSite}},
		{NewKey{Name: "A", Site: site, Owner: site, Pass: "1234567890", Pass2: "1234567890"}, NewKeyErrors{Owner: de.BadOwner}},
		{NewKey{Name: "A", Site: site, Owner: fp, Pass: "äöüäöüäöü", Pass2: "äöüäöüäöü"}, NewKeyErrors{Pass: de.PassShort}},
		{NewKey{Name: "A", Site: site, Owner: fp, Pass: "1234567890", Pass2: "1234567891"}, NewKeyErrors{Pass2: de.PassMismatch}},
	}
	for i, c := range cases {
		if _, _, e := de.Check(c.k); e != c.want {
			t.Errorf("case %d: %+v, want %+v", i, e, c.want)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	w := newWorld(t)
	w.app = New(w.p, Config{Lang: German, Relay: "ws://relay.test/", Site: w.site.String(),
		Owner: w.ownerFP().String(), Rand: rand.Reader, KeyParams: fastParams})
	w.app.Start()
	if s, o := w.app.NewKeyDefaults(); s != w.site.String() || o != w.ownerFP().String() {
		t.Errorf("defaults %q %q", s, o)
	}
	w.app.Generate(NewKey{}) // not in the form yet
	if w.app.Phase() != PhaseNoKey {
		t.Fatal("generated without the form")
	}
	w.app.StartGenerate()
	if w.app.Phase() != PhaseGenerate {
		t.Fatal("no form")
	}
	k := NewKey{Name: " Clara ", Site: w.site.String(), Owner: w.ownerFP().String(), Pass: "geheim genug", Pass2: "geheim genau"}
	if w.app.Generate(k) || w.app.KeyErrors().Pass2 == "" || w.app.Phase() != PhaseGenerate {
		t.Fatalf("mismatch accepted: %+v", w.app.KeyErrors())
	}
	other := k
	other.Site, other.Pass2 = ids.SiteID{9}.String(), k.Pass
	if w.app.Generate(other) || w.app.KeyErrors().Site != Strings(German).ErrOtherSite {
		t.Fatalf("other site accepted: %+v", w.app.KeyErrors())
	}
	k.Pass2 = k.Pass
	if !w.app.Generate(k) || w.app.Phase() != PhaseGenerating {
		t.Fatalf("refused: %+v %q", w.app.KeyErrors(), w.app.Error())
	}
	if len(w.p.storage[StorageKey]) != 0 {
		t.Fatal("stored before the paint")
	}
	w.p.runPaint()
	if w.app.Phase() != PhaseReady || !w.app.Generated() {
		t.Fatalf("phase %d err %q", w.app.Phase(), w.app.Error())
	}
	stored := w.p.storage[StorageKey]
	sec, err := keyfile.Open([]byte(stored), k.Pass)
	if err != nil {
		t.Fatalf("stored key does not open: %v", err)
	}
	if sec.Name != "Clara" || sec.Site != w.site || sec.OwnerFP != w.ownerFP() || sec.AgentID == (ids.AgentID{}) {
		t.Errorf("secret %+v", sec)
	}
	id, _ := envelope.IdentityFromKeys(sec.SignSeed, sec.BoxPriv)
	if want := PubLine(sec.AgentID, id.SignKey(), id.BoxKey(), "Clara"); w.app.Pub() != want {
		t.Errorf("pub %q, want %q", w.app.Pub(), want)
	}
	if _, err := keyfile.Open([]byte(stored), "falsch falsch"); err == nil {
		t.Error("opens with a wrong passphrase")
	}
	if name, text, ok := w.app.Export(); !ok || text != stored || !strings.HasSuffix(name, ".key") {
		t.Error("backup not offered")
	}
	// The relay does not know the key yet: a clear message, no retries.
	w.relay.pump()
	if !w.app.NotInRoster() || w.app.Error() != Strings(German).NotInRoster || w.app.Conn() != ConnStopped {
		t.Errorf("not in roster %v err %q conn %d", w.app.NotInRoster(), w.app.Error(), w.app.Conn())
	}
	// After the owner added it, a reload unlocks the stored key and connects.
	w.relay.agents[id.SignKey()] = true
	w.relay.roster = w.rosterWith(2, w.anna(), w.bert("Bert"),
		rosterAgent(sec.AgentID, "Clara", id))
	w.app = New(w.p, Config{Lang: German, Relay: "ws://relay.test/", Rand: rand.Reader})
	w.app.Start()
	if w.app.Phase() != PhaseLocked {
		t.Fatalf("phase after reload %d", w.app.Phase())
	}
	w.app.Unlock(k.Pass)
	w.p.runPaint()
	w.relay.pump()
	if w.app.Conn() != ConnOnline || w.app.Name() != "Clara" || w.app.NotInRoster() {
		t.Errorf("conn %d name %q err %q", w.app.Conn(), w.app.Name(), w.app.Error())
	}
}

func TestGenerateCancel(t *testing.T) {
	w := newWorld(t)
	w.app.Start()
	w.app.StartGenerate()
	w.app.CancelGenerate()
	if w.app.Phase() != PhaseNoKey {
		t.Errorf("phase %d", w.app.Phase())
	}
	w.app.ImportKey(w.keyText)
	w.app.StartGenerate() // a key is present: no form
	if w.app.Phase() != PhaseLocked {
		t.Errorf("phase %d", w.app.Phase())
	}
}
