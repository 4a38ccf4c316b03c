package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/roster"
)

func openDemoStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "siegel.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func readDemoState(t *testing.T, dir string) demoState {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s demoState
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkDemoRoster verifies the stored roster with the demo owner key and returns it.
func checkDemoRoster(t *testing.T, st *store.Store, s demoState, now time.Time) (uint64, *roster.Roster) {
	t.Helper()
	site, _ := ids.ParseSiteID(s.Site)
	seed, _ := base64.RawURLEncoding.DecodeString(s.OwnerSeed)
	owner := ids.Key(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	v, raw, err := st.Roster(site)
	if err != nil {
		t.Fatal(err)
	}
	r, err := roster.Verify(raw, ids.OwnerFingerprint(owner), site, now, v)
	if err != nil {
		t.Fatal(err)
	}
	return v, r
}

func TestEnsureDemo(t *testing.T) {
	dir := t.TempDir()
	st := openDemoStore(t, dir)
	ctx := context.Background()
	now := time.Now()
	const origin = "http://127.0.0.1:9001"

	s1, err := ensureDemo(ctx, st, dir, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	site, _ := ids.ParseSiteID(s1.Site)
	rec, err := st.Site(site)
	if err != nil || rec.Name != "Fahrradwerkstatt Sonnenschein (Demo)" || rec.PrivacyURL != origin+"/datenschutz" ||
		len(rec.Origins) != 1 || rec.Origins[0] != origin {
		t.Fatalf("demo site %+v %v", rec, err)
	}
	v, r := checkDemoRoster(t, st, *s1, now)
	if v != 1 || len(r.Agents) != 2 {
		t.Fatalf("roster version %d with %d agents", v, len(r.Agents))
	}
	names := map[string]bool{}
	for _, a := range r.Agents {
		names[a.Name] = true
	}
	if !names["Demo-Agentin"] || !names["Demo-Agent 2"] {
		t.Fatalf("roster agents %+v", r.Agents)
	}
	// Both key files open with the one passphrase and hold the roster's keys.
	for _, k := range []struct{ file, name, sign string }{
		{s1.AgentKey, "Demo-Agentin", s1.AgentSign},
		{s1.Agent2Key, "Demo-Agent 2", s1.Agent2Sign},
	} {
		sec, err := keyfile.Open([]byte(k.file), s1.Passphrase)
		if err != nil || sec.Name != k.name || sec.Site != site {
			t.Fatalf("key file of %s: %+v %v", k.name, sec.Name, err)
		}
		if _, ok := r.AgentBySign(mustKey(t, k.sign)); !ok {
			t.Fatalf("%s not in the roster", k.name)
		}
	}
	if got := readDemoState(t, dir); got != *s1 {
		t.Fatal("demo.json differs from the returned state")
	}

	// A second start changes nothing.
	s2, err := ensureDemo(ctx, st, dir, origin, now.Add(time.Hour))
	if err != nil || *s2 != *s1 {
		t.Fatalf("second start: %v", err)
	}
	if v, _ := checkDemoRoster(t, st, *s2, now); v != 1 {
		t.Fatalf("second start bumped the roster to %d", v)
	}
	// Another host origin updates the site.
	if _, err := ensureDemo(ctx, st, dir, "http://127.0.0.1:9005", now); err != nil {
		t.Fatal(err)
	}
	if rec, _ := st.Site(site); rec.Origins[0] != "http://127.0.0.1:9005" || rec.PrivacyURL != "http://127.0.0.1:9005/datenschutz" {
		t.Fatalf("site after origin change %+v", rec)
	}
}

// A demo.json and database from before the second agent: the second agent is
// added with the same passphrase, the roster re-signed with the next version,
// the site renamed, and the first agent kept as it was.
func TestEnsureDemoUpgradesOldState(t *testing.T) {
	dir := t.TempDir()
	st := openDemoStore(t, dir)
	ctx := context.Background()
	now := time.Now()
	const origin = "http://127.0.0.1:9001"

	old, err := newDemoState()
	if err != nil {
		t.Fatal(err)
	}
	old.Agent2Key, old.Agent2ID, old.Agent2Sign, old.Agent2Box = "", "", "", ""
	b, _ := json.MarshalIndent(old, "", "  ")
	if bytes.Contains(b, []byte("agent2")) {
		t.Fatalf("old-format state has agent2 fields: %s", b)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	site, _ := ids.ParseSiteID(old.Site)
	seed, _ := base64.RawURLEncoding.DecodeString(old.OwnerSeed)
	ownerPriv := ed25519.NewKeyFromSeed(seed)
	owner := ids.Key(ownerPriv.Public().(ed25519.PublicKey))
	if err := st.PutSite(ctx, store.Site{ID: site, Name: "Bäckerei Sonnenschein (Demo)", Owner: owner,
		Origins: []string{origin}, RetentionDays: 30, Created: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	a1, err := demoAgent(old.AgentID, old.AgentSign, old.AgentBox, "Demo-Agentin")
	if err != nil {
		t.Fatal(err)
	}
	r := &roster.Roster{Site: site, Owner: owner, Version: 3, NotAfter: now.Add(rosterLifetime).Unix(), Agents: []roster.Agent{a1}}
	raw, err := r.Encode(ownerPriv)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutRoster(ctx, site, 3, raw); err != nil {
		t.Fatal(err)
	}

	s, err := ensureDemo(ctx, st, dir, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Site != old.Site || s.AgentKey != old.AgentKey || s.AgentSign != old.AgentSign || s.Passphrase != old.Passphrase {
		t.Fatal("the first agent or the site changed")
	}
	if s.Agent2Key == "" || s.Agent2Sign == "" {
		t.Fatal("no second agent")
	}
	if got := readDemoState(t, dir); got != *s {
		t.Fatal("demo.json was not updated")
	}
	if sec, err := keyfile.Open([]byte(s.Agent2Key), old.Passphrase); err != nil || sec.Name != "Demo-Agent 2" {
		t.Fatalf("second key file: %v", err)
	}
	v, nr := checkDemoRoster(t, st, *s, now)
	if v != 4 || len(nr.Agents) != 2 {
		t.Fatalf("roster version %d with %d agents, want 4 with 2", v, len(nr.Agents))
	}
	if rec, _ := st.Site(site); rec.Name != "Fahrradwerkstatt Sonnenschein (Demo)" || rec.PrivacyURL != origin+"/datenschutz" {
		t.Fatalf("site not updated: %+v", rec)
	}
}

func mustKey(t *testing.T, s string) ids.Key {
	t.Helper()
	k, err := ids.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDemoFlow(t *testing.T) {
	var out bytes.Buffer
	name, compiled, err := demoFlow("", &out)
	if err != nil || name != flow.ShippedName || len(compiled) == 0 || out.Len() != 0 {
		t.Fatalf("shipped flow: %q %d bytes %v %q", name, len(compiled), err, out.String())
	}
	if _, err := flow.Decode(compiled); err != nil {
		t.Fatalf("compiled shipped flow does not decode: %v", err)
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, flow.Shipped(), 0o600)
	name, compiled2, err := demoFlow(good, &out)
	if err != nil || name != good || !bytes.Equal(compiled2, compiled) {
		t.Fatalf("flow file: %q %v", name, err)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"version\": 1,\n  \"steps\": 5\n}\n"), 0o600)
	out.Reset()
	if _, _, err := demoFlow(bad, &out); err == nil {
		t.Fatal("a bad flow was accepted")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) == 0 || out.Len() == 0 {
		t.Fatal("no problems printed")
	}
	for _, l := range lines {
		// FILE:LINE:COL: message
		rest, ok := strings.CutPrefix(l, bad+":")
		parts := strings.SplitN(rest, ":", 3)
		if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || !strings.HasPrefix(parts[2], " ") {
			t.Errorf("problem line %q is not FILE:LINE:COL: message", l)
		}
	}
	if _, _, err := demoFlow(filepath.Join(dir, "missing.json"), &out); err == nil {
		t.Fatal("a missing flow file was accepted")
	}
}

// relay demo --flow with a bad file exits 1 before creating anything.
func TestDemoBadFlowExits(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{}"), 0o600)
	var stdout, stderr bytes.Buffer
	data := filepath.Join(dir, "data")
	code := Main(context.Background(), []string{"demo", "--flow", bad, "-data", data, "-addr", "127.0.0.1:0", "-demo-addr", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), bad+":1:1: ") {
		t.Fatalf("stderr %q does not start with a problem line", stderr.String())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("data folder created for a bad flow: %v", err)
	}
}
