package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"siegel/relay/store"
	"siegel/shared/ids"
	"siegel/shared/roster"
)

const rosterUsage = `Usage: relay roster -data DIR [-site ID] [-owner-seed-file FILE] COMMAND

Commands:
  list                            show the site's roster
  add -line "SIEGEL-AGENT-PUB 1 …"  add the agent of a public line from the agent page
  remove -agent ID                remove an agent

Without -site, the demo site of DIR/demo.json. Without -owner-seed-file, the
demo owner key of DIR/demo.json (demo site only). The relay must be stopped.
`

// errRelayRunning is the message when the database is locked by a running relay.
const errRelayRunning = "the relay is running: stop it first, then run relay roster"

// rosterFlags are the flags of relay roster, accepted before and after the command.
type rosterFlags struct {
	data, site, seedFile string
}

func (f *rosterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "folder of the database")
	fs.StringVar(&f.site, "site", "", "site `ID` (default: the demo site of DIR/demo.json)")
	fs.StringVar(&f.seedFile, "owner-seed-file", "", "`FILE` with the base64url of the owner's 32-byte Ed25519 seed (default: the demo owner)")
}

// rosterChange is the change a roster command makes.
type rosterChange struct {
	cmd   string // list, add or remove
	add   roster.Agent
	agent ids.AgentID
}

// cmdRoster runs relay roster and returns the exit code: 0 ok, 1 failure, 2 usage.
func cmdRoster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f rosterFlags
	fs := flag.NewFlagSet("roster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, rosterUsage); fs.PrintDefaults() }
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var ch rosterChange
	ch.cmd = fs.Arg(0)
	sub := flag.NewFlagSet("roster "+ch.cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	// Flags given before the command are the defaults after it (registering
	// resets the fields to the flag defaults).
	before := f
	f.register(sub)
	sub.Set("data", before.data)
	sub.Set("site", before.site)
	sub.Set("owner-seed-file", before.seedFile)
	var line, agent string
	switch ch.cmd {
	case "list":
	case "add":
		sub.StringVar(&line, "line", "", "the agent public line (SIEGEL-AGENT-PUB 1 …)")
	case "remove":
		sub.StringVar(&agent, "agent", "", "the agent `ID` to remove")
	default:
		fmt.Fprintf(stderr, "relay roster: unknown command %q\n\n", ch.cmd)
		fs.Usage()
		return 2
	}
	if err := parseFlags(sub, fs.Args()[1:], stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	switch ch.cmd {
	case "add":
		if line == "" {
			fmt.Fprintln(stderr, "relay roster add: -line is required")
			return 2
		}
		if ch.add, err = roster.ParseAgentPublicLine(strings.TrimRight(line, "\r\n")); err != nil {
			fmt.Fprintf(stderr, "relay roster add: invalid agent line: %v\n", err)
			return 1
		}
	case "remove":
		if agent == "" {
			fmt.Fprintln(stderr, "relay roster remove: -agent is required")
			return 2
		}
		// An agent ID has the length and text form of a site ID.
		sid, err := ids.ParseSiteID(agent)
		if err != nil {
			fmt.Fprintf(stderr, "relay roster remove: invalid agent ID %q\n", agent)
			return 2
		}
		ch.agent = ids.AgentID(sid)
	}
	if err := runRoster(ctx, f, ch, time.Now(), stdout); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "relay roster: %v\n", err)
			return 2
		}
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintln(stderr, errRelayRunning)
			return 1
		}
		fmt.Fprintf(stderr, "relay roster %s: %v\n", ch.cmd, err)
		return 1
	}
	return 0
}

// usageError is an error of the command line (exit code 2).
func usageError(msg string) error { return fmt.Errorf("%s: %w", msg, errUsage) }

// runRoster opens the store, applies the change to the site's roster and
// stores it signed with the next version (list changes nothing).
func runRoster(ctx context.Context, f rosterFlags, ch rosterChange, now time.Time, stdout io.Writer) error {
	demo, err := readDemoFile(f.data)
	if err != nil {
		return err
	}
	var site ids.SiteID
	switch {
	case f.site != "":
		if site, err = ids.ParseSiteID(f.site); err != nil {
			return usageError("invalid -site " + f.site)
		}
	case demo != nil:
		if site, err = ids.ParseSiteID(demo.Site); err != nil {
			return fmt.Errorf("demo.json: %w", err)
		}
	default:
		return usageError("no -site given and no demo.json in " + f.data)
	}
	var seed []byte
	if ch.cmd != "list" {
		if seed, err = ownerSeed(f, demo, site); err != nil {
			return err
		}
	}

	path := filepath.Join(f.data, "siegel.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database: %w", err)
	}
	st, err := store.Open(store.Options{Path: path})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	rec, err := st.Site(site)
	if err != nil {
		return fmt.Errorf("site %s: %w", site, err)
	}
	version, raw, err := st.Roster(site)
	var cur *roster.Roster
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur = &roster.Roster{Site: site, Owner: rec.Owner}
	case err != nil:
		return fmt.Errorf("read roster: %w", err)
	default:
		if cur, err = roster.Parse(raw); err != nil {
			return fmt.Errorf("stored roster: %w", err)
		}
		if cur.Site != site || cur.Owner != rec.Owner || cur.Version != version {
			return errors.New("stored roster does not belong to the site")
		}
	}

	if ch.cmd == "list" {
		fmt.Fprintf(stdout, "roster version %d: %d agents\n", version, len(cur.Agents))
		for _, a := range cur.Agents {
			fmt.Fprintf(stdout, "%s %s\n", a.ID, a.Name)
		}
		return nil
	}

	priv := ed25519.NewKeyFromSeed(seed)
	if ids.Key(priv.Public().(ed25519.PublicKey)) != rec.Owner {
		return errors.New("the owner seed is not the site owner's key")
	}
	agents, err := applyRosterChange(cur.Agents, ch)
	if err != nil {
		return err
	}
	next := &roster.Roster{Site: site, Owner: rec.Owner, Version: version + 1,
		NotAfter: now.Add(rosterLifetime).Unix(), Agents: agents}
	signed, err := next.Encode(priv)
	if err != nil {
		return fmt.Errorf("sign roster: %w", err)
	}
	if err := st.PutRoster(ctx, site, next.Version, signed); err != nil {
		return fmt.Errorf("store roster: %w", err)
	}
	fmt.Fprintf(stdout, "roster version %d: %d agents\n", next.Version, len(agents))
	return nil
}

// applyRosterChange returns the agents after an add or remove.
func applyRosterChange(agents []roster.Agent, ch rosterChange) ([]roster.Agent, error) {
	switch ch.cmd {
	case "add":
		a := ch.add
		for _, o := range agents {
			switch {
			case o.ID == a.ID:
				return nil, fmt.Errorf("agent %s is already in the roster", a.ID)
			case o.Sign == a.Sign || o.Box == a.Box || o.Sign == a.Box || o.Box == a.Sign:
				return nil, fmt.Errorf("a key of agent %s is already in the roster (agent %s)", a.ID, o.ID)
			}
		}
		if len(agents) >= roster.MaxAgents {
			return nil, fmt.Errorf("the roster is full (%d agents)", roster.MaxAgents)
		}
		return append(slices.Clone(agents), a), nil
	case "remove":
		i := slices.IndexFunc(agents, func(a roster.Agent) bool { return a.ID == ch.agent })
		if i < 0 {
			return nil, fmt.Errorf("agent %s is not in the roster", ch.agent)
		}
		return slices.Delete(slices.Clone(agents), i, i+1), nil
	}
	return nil, usageError("unknown roster command " + ch.cmd)
}

// readDemoFile reads DIR/demo.json, or returns nil if there is none.
func readDemoFile(dir string) (*demoState, error) {
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s demoState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read demo.json: %w", err)
	}
	return &s, nil
}

// ownerSeed returns the owner's Ed25519 seed: from -owner-seed-file, or from
// demo.json for the demo site.
func ownerSeed(f rosterFlags, demo *demoState, site ids.SiteID) ([]byte, error) {
	var text string
	switch {
	case f.seedFile != "":
		b, err := os.ReadFile(f.seedFile)
		if err != nil {
			return nil, fmt.Errorf("read owner seed: %w", err)
		}
		text = string(bytes.TrimSpace(b))
	case demo != nil && demo.Site == site.String():
		text = demo.OwnerSeed
	default:
		return nil, usageError("-owner-seed-file is required for a site other than the demo site")
	}
	seed, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("invalid owner seed: want the base64url of 32 bytes")
	}
	return seed, nil
}
