package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/roster"
)

// newDemoDir creates a demo data folder (site, demo.json, roster version 1
// with both demo agents) and returns it closed, as after a stopped relay.
func newDemoDir(t *testing.T) (string, demoState) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "siegel.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ensureDemo(context.Background(), st, dir, "http://127.0.0.1:9001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, *s
}

func runRosterCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), append([]string{"roster"}, args...), &o, &e)
	return code, o.String(), e.String()
}

// storedRoster opens the store, verifies its demo roster and closes it again.
func storedRoster(t *testing.T, dir string, s demoState) (uint64, *roster.Roster) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "siegel.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return checkDemoRoster(t, st, s, time.Now())
}

func TestRosterListRemoveAdd(t *testing.T) {
	dir, s := newDemoDir(t)

	code, out, errOut := runRosterCmd(t, "-data", dir, "list")
	want := "roster version 1: 2 agents\n"
	if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, s.AgentID+" Demo-Agentin\n") ||
		!strings.Contains(out, s.Agent2ID+" Demo-Agent 2\n") || strings.Count(out, "\n") != 3 {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	_, before := storedRoster(t, dir, s)
	a2, ok := before.AgentBySign(mustKey(t, s.Agent2Sign))
	if !ok {
		t.Fatal("agent 2 not in the demo roster")
	}

	// Remove agent 2 (flags also after the command).
	code, out, errOut = runRosterCmd(t, "remove", "-data", dir, "-agent", s.Agent2ID)
	if code != 0 || out != "roster version 2: 1 agents\n" {
		t.Fatalf("remove: %d %q %q", code, out, errOut)
	}
	v, r := storedRoster(t, dir, s) // verifies with the owner fingerprint
	if v != 2 || r.Version != 2 || len(r.Agents) != 1 || r.Agents[0].Sign != mustKey(t, s.AgentSign) {
		t.Fatalf("after remove: version %d, agents %+v", v, r.Agents)
	}
	if d := time.Until(time.Unix(r.NotAfter, 0)); d < rosterLifetime-time.Minute || d > rosterLifetime {
		t.Fatalf("not after in %v", d)
	}

	// A restart of the demo keeps agent 2 removed and the roster as it is.
	st := openDemoStore(t, dir)
	if _, err := ensureDemo(context.Background(), st, dir, "http://127.0.0.1:9001", time.Now()); err != nil {
		t.Fatal(err)
	}
	if v, r := checkDemoRoster(t, st, s, time.Now()); v != 2 || len(r.Agents) != 1 {
		t.Fatalf("after restart: version %d, %d agents", v, len(r.Agents))
	}
	// An ageing roster is re-signed with its current agents.
	later := time.Now().Add(rosterLifetime/2 + time.Hour)
	if _, err := ensureDemo(context.Background(), st, dir, "http://127.0.0.1:9001", later); err != nil {
		t.Fatal(err)
	}
	if v, r := checkDemoRoster(t, st, s, later); v != 3 || len(r.Agents) != 1 || r.Agents[0].Sign != mustKey(t, s.AgentSign) {
		t.Fatalf("after re-sign: version %d, agents %+v", v, r.Agents)
	}
	st.Close()

	// Add agent 2 back from its public line.
	code, out, errOut = runRosterCmd(t, "-data", dir, "add", "-line", roster.FormatAgentPublicLine(a2))
	if code != 0 || out != "roster version 4: 2 agents\n" {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if _, r := storedRoster(t, dir, s); len(r.Agents) != 2 {
		t.Fatalf("after add: %+v", r.Agents)
	} else if got, ok := r.AgentBySign(a2.Sign); !ok || got != a2 {
		t.Fatalf("agent 2 after add: %+v", got)
	}

	// Down to zero agents.
	for i, id := range []string{s.AgentID, s.Agent2ID} {
		code, out, errOut = runRosterCmd(t, "-data", dir, "remove", "-agent", id)
		if code != 0 || out != "roster version "+string(rune('5'+i))+": "+string(rune('1'-i))+" agents\n" {
			t.Fatalf("remove %d: %d %q %q", i, code, out, errOut)
		}
	}
	if v, r := storedRoster(t, dir, s); v != 6 || len(r.Agents) != 0 {
		t.Fatalf("empty roster: version %d, %d agents", v, len(r.Agents))
	}
}

func TestRosterOwnerSeedFile(t *testing.T) {
	dir, s := newDemoDir(t)
	good := filepath.Join(t.TempDir(), "owner.seed")
	if err := os.WriteFile(good, []byte(s.OwnerSeed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := newDemoState()
	if err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.seed")
	if err := os.WriteFile(wrong, []byte(other.OwnerSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runRosterCmd(t, "-data", dir, "-site", s.Site, "-owner-seed-file", wrong, "remove", "-agent", s.Agent2ID)
	if code != 1 || out != "" || !strings.Contains(errOut, "not the site owner") {
		t.Fatalf("wrong owner: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runRosterCmd(t, "-data", dir, "-site", s.Site, "-owner-seed-file", good, "remove", "-agent", s.Agent2ID)
	if code != 0 || out != "roster version 2: 1 agents\n" {
		t.Fatalf("seed file: %d %q %q", code, out, errOut)
	}
	// Another site without a seed file: usage error.
	code, _, errOut = runRosterCmd(t, "-data", dir, "-site", other.Site, "remove", "-agent", s.AgentID)
	if code != 2 || !strings.Contains(errOut, "-owner-seed-file") {
		t.Fatalf("other site without seed: %d %q", code, errOut)
	}
	if v, r := storedRoster(t, dir, s); v != 2 || len(r.Agents) != 1 {
		t.Fatalf("version %d, %d agents", v, len(r.Agents))
	}
}

func TestRosterRefusals(t *testing.T) {
	dir, s := newDemoDir(t)
	_, r := storedRoster(t, dir, s)
	a1, _ := r.AgentBySign(mustKey(t, s.AgentSign))
	newID := a1
	newID.ID[0] ^= 1 // same keys under another ID
	newKeys := a1
	newKeys.Sign[0] ^= 1
	newKeys.Box[0] ^= 1 // same ID, other keys
	sameBox := newID
	sameBox.Sign[0] ^= 1 // another ID and signing key, the same box key

	for _, c := range []struct {
		name    string
		args    []string
		code    int
		errText string
	}{
		{"unknown agent", []string{"remove", "-agent", "AAAAAAAAAAAAAAAAAAAAAA"}, 1, "not in the roster"},
		{"duplicate agent", []string{"add", "-line", roster.FormatAgentPublicLine(a1)}, 1, "already in the roster"},
		{"duplicate ID", []string{"add", "-line", roster.FormatAgentPublicLine(newKeys)}, 1, "already in the roster"},
		{"duplicate keys", []string{"add", "-line", roster.FormatAgentPublicLine(newID)}, 1, "already in the roster"},
		{"duplicate box key", []string{"add", "-line", roster.FormatAgentPublicLine(sameBox)}, 1, "already in the roster"},
		{"malformed line", []string{"add", "-line", "SIEGEL-AGENT-PUB 1 x y z name"}, 1, "invalid agent line"},
		{"other line version", []string{"add", "-line", strings.Replace(roster.FormatAgentPublicLine(newID), " 1 ", " 2 ", 1)}, 1, "unsupported"},
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"rename"}, 2, "unknown command"},
		{"add without line", []string{"add"}, 2, "-line is required"},
		{"remove without agent", []string{"remove"}, 2, "-agent is required"},
		{"bad agent ID", []string{"remove", "-agent", "nope"}, 2, "invalid agent ID"},
		{"extra argument", []string{"list", "more"}, 2, "unexpected arguments"},
	} {
		code, out, errOut := runRosterCmd(t, append([]string{"-data", dir}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.errText) || (code != 0 && out != "") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.name, code, out, errOut, c.code, c.errText)
		}
	}
	if v, r := storedRoster(t, dir, s); v != 1 || len(r.Agents) != 2 {
		t.Fatalf("refusals changed the roster: version %d, %d agents", v, len(r.Agents))
	}

	// No database in the folder: failure, and no database is created.
	empty := t.TempDir()
	if code, _, _ := runRosterCmd(t, "-data", empty, "-site", s.Site, "list"); code != 1 {
		t.Fatalf("empty folder: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(empty, "siegel.db")); err == nil {
		t.Fatal("a database was created")
	}
}

func TestRosterRelayRunning(t *testing.T) {
	dir, s := newDemoDir(t)
	st := openDemoStore(t, dir) // holds the lock as a running relay does
	code, out, errOut := runRosterCmd(t, "-data", dir, "remove", "-agent", s.Agent2ID)
	if code != 1 || out != "" || errOut != "the relay is running: stop it first, then run relay roster\n" {
		t.Fatalf("locked: %d %q %q", code, out, errOut)
	}
	if v, r := checkDemoRoster(t, st, s, time.Now()); v != 1 || len(r.Agents) != 2 {
		t.Fatalf("roster changed: version %d, %d agents", v, len(r.Agents))
	}
}
