package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"siegel/relay/store"
	"siegel/relay/web/views"
	"siegel/shared/envelope"
	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/roster"
)

// demoState is what `relay demo` creates once and keeps in the data folder
// (demo.json, mode 0600). It holds the demo owner's private key: demo only.
// Files written before the second agent existed lack the agent2_* fields; the
// second agent is then created with the same passphrase.
type demoState struct {
	Site       string `json:"site"`
	OwnerSeed  string `json:"owner_seed"`
	Passphrase string `json:"agent_passphrase"`
	AgentKey   string `json:"agent_key_file"`
	AgentID    string `json:"agent_id"`
	AgentSign  string `json:"agent_sign"`
	AgentBox   string `json:"agent_box"`
	Agent2Key  string `json:"agent2_key_file,omitempty"`
	Agent2ID   string `json:"agent2_id,omitempty"`
	Agent2Sign string `json:"agent2_sign,omitempty"`
	Agent2Box  string `json:"agent2_box,omitempty"`
}

// The demo site and its agents.
const (
	demoSiteName   = "Fahrradwerkstatt Sonnenschein (Demo)"
	demoAgentName  = "Demo-Agentin"
	demoAgent2Name = "Demo-Agent 2"
	demoPrivacy    = "/datenschutz" // path of the demo privacy page on the host page's origin
)

// rosterLifetime is how long a demo roster stays valid; it is re-signed on start
// when less than half of it is left.
const rosterLifetime = 365 * 24 * time.Hour

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	demoAddr := fs.String("demo-addr", "", "address of the demo host page (default: the port after -addr)")
	flowFile := fs.String("flow", "", "bot flow document (JSON, docs/FLOWS.md) to run instead of the shipped one")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	// The flow is checked before anything is opened or written.
	flowName, compiled, err := demoFlow(*flowFile, stderr)
	if err != nil {
		return err
	}
	if *demoAddr == "" {
		host, port, err := net.SplitHostPort(f.addr)
		if err != nil {
			return fmt.Errorf("invalid -addr %q: %w", f.addr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p <= 0 || p >= 65535 {
			return fmt.Errorf("invalid -addr %q: give -demo-addr explicitly", f.addr)
		}
		*demoAddr = net.JoinHostPort(host, strconv.Itoa(p+1))
	}
	pub, err := f.public()
	if err != nil {
		return err
	}
	st, err := openStore(f.data, f.noSync)
	if err != nil {
		return err
	}
	defer st.Close()
	hostOrigin := "http://" + *demoAddr
	state, err := ensureDemo(ctx, st, f.data, hostOrigin, time.Now())
	if err != nil {
		return fmt.Errorf("prepare demo site: %w", err)
	}
	site, _ := ids.ParseSiteID(state.Site)
	if f.retentionDays > 0 {
		if err := setRetention(ctx, st, f.retentionDays, site); err != nil {
			return err
		}
	}
	rec, err := st.Site(site)
	if err != nil {
		return fmt.Errorf("read demo site: %w", err)
	}
	revision, err := st.PutFlow(ctx, site, compiled)
	if err != nil {
		return fmt.Errorf("store demo flow: %w", err)
	}
	seed, _ := base64.RawURLEncoding.DecodeString(state.OwnerSeed)
	owner := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	fp := ids.OwnerFingerprint(ids.Key(owner))
	relayOrigin := pub.Scheme + "://" + pub.Host
	host := demoHostServer(*demoAddr, views.DemoPage{
		LoaderURL: relayOrigin + "/loader.js",
		Site:      site.String(),
		Owner:     fp.String(),
		AgentURL:  relayOrigin + "/agent",
	})
	cfg := relayConfig{
		addr:     f.addr,
		public:   pub,
		demoKey:  []byte(state.AgentKey),
		demoKey2: []byte(state.Agent2Key),
		extra:    []*http.Server{host},
		sweep:    f.sweepConfig(),
		ready: func(string) {
			fmt.Fprintf(stdout, "demo page: %s/\n", hostOrigin)
			fmt.Fprintf(stdout, "agent page: %s/agent\n", relayOrigin)
			fmt.Fprintf(stdout, "agent key files: %s/demo/agent.key (%s), %s/demo/agent2.key (%s)\n",
				relayOrigin, demoAgentName, relayOrigin, demoAgent2Name)
			fmt.Fprintf(stdout, "agent passphrase: %s\n", state.Passphrase)
			fmt.Fprintf(stdout, "flow: %s (revision %d)\n", flowName, revision)
			fmt.Fprintf(stdout, "rights page: %s/rights?site=%s&owner=%s\n", relayOrigin, site, fp)
			fmt.Fprintf(stdout, "retention: %d days\n", int(rec.Retention()/(24*time.Hour)))
			fmt.Fprintf(stdout, "site: %s\nowner key fingerprint: %s\n", site, fp)
		},
	}
	return serve(ctx, st, cfg, stdout, newLogger(stderr))
}

// demoFlow returns the name and the compiled form of the demo's bot flow: the
// document in file, or the shipped flow if file is empty. A document with
// problems is refused; its problems are printed to w as FILE:LINE:COL: message.
func demoFlow(file string, w io.Writer) (string, []byte, error) {
	name, src := flow.ShippedName, flow.Shipped()
	if file != "" {
		var err error
		if src, err = readFlowFile(file); err != nil {
			return "", nil, fmt.Errorf("read flow: %w", err)
		}
		name = file
	}
	f, problems := flow.Parse(name, src)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(w, p.String())
		}
		return "", nil, fmt.Errorf("flow %s: %d problem(s)", name, len(problems))
	}
	return name, flow.Compile(f), nil
}

// ensureDemo creates the demo site, owner key, agent keys and roster once, and
// on later starts brings the site settings up to date (name, allowed origin,
// privacy-policy URL), adds the second agent to a demo.json written before it
// existed, and re-signs the roster (with the next version) when it is missing,
// not valid for the demo site and owner, or ageing (less than half of its
// lifetime left). A valid roster keeps its agents: an agent the owner removed
// with relay roster stays removed. The roster of a demo.json upgraded to two
// agents gets the second agent.
func ensureDemo(ctx context.Context, st *store.Store, dir, hostOrigin string, now time.Time) (*demoState, error) {
	path := filepath.Join(dir, "demo.json")
	var state demoState
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &state); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		if state, err = newDemoState(); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	site, err := ids.ParseSiteID(state.Site)
	if err != nil {
		return nil, fmt.Errorf("demo.json: %w", err)
	}
	seed, err := base64.RawURLEncoding.DecodeString(state.OwnerSeed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("demo.json: invalid owner seed")
	}
	ownerPriv := ed25519.NewKeyFromSeed(seed)
	owner := ids.Key(ownerPriv.Public().(ed25519.PublicKey))
	upgraded := state.Agent2ID == ""
	if upgraded {
		if err := addSecondAgent(&state, site, ids.OwnerFingerprint(owner)); err != nil {
			return nil, err
		}
	}
	if !bytes.Equal(b, mustJSON(state)) {
		if err := writeFileAtomic(path, mustJSON(state), 0o600); err != nil {
			return nil, err
		}
	}

	rec, err := st.Site(site)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	privacy := hostOrigin + demoPrivacy
	if errors.Is(err, store.ErrNotFound) || rec.Name != demoSiteName || len(rec.Origins) != 1 ||
		rec.Origins[0] != hostOrigin || rec.PrivacyURL != privacy {
		if errors.Is(err, store.ErrNotFound) {
			rec = store.Site{ID: site, Owner: owner, RetentionDays: 30, Created: now.Unix()}
		}
		rec.Name, rec.Origins, rec.PrivacyURL = demoSiteName, []string{hostOrigin}, privacy
		if err := st.PutSite(ctx, rec); err != nil {
			return nil, fmt.Errorf("store demo site: %w", err)
		}
	}

	agents := make([]roster.Agent, 0, 2)
	for _, x := range []struct{ id, sign, box, name string }{
		{state.AgentID, state.AgentSign, state.AgentBox, demoAgentName},
		{state.Agent2ID, state.Agent2Sign, state.Agent2Box, demoAgent2Name},
	} {
		a, err := demoAgent(x.id, x.sign, x.box, x.name)
		if err != nil {
			return nil, err
		}
		agents = append(agents, a)
	}
	version, raw, err := st.Roster(site)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		// A valid roster keeps its agents (the owner may have changed them with
		// relay roster); only the second agent of an upgraded demo.json joins.
		r, perr := roster.Parse(raw)
		if perr == nil && r.Site == site && r.Owner == owner {
			resign := time.Unix(r.NotAfter, 0).Sub(now) <= rosterLifetime/2
			if upgraded && !hasAgent(r.Agents, agents[1]) {
				r.Agents = append(r.Agents, agents[1])
				resign = true
			}
			if !resign {
				return &state, nil
			}
			agents = r.Agents
		}
	}
	r := &roster.Roster{Site: site, Owner: owner, Version: version + 1, NotAfter: now.Add(rosterLifetime).Unix(), Agents: agents}
	signed, err := r.Encode(ownerPriv)
	if err != nil {
		return nil, fmt.Errorf("sign demo roster: %w", err)
	}
	if err := st.PutRoster(ctx, site, r.Version, signed); err != nil {
		return nil, fmt.Errorf("store demo roster: %w", err)
	}
	return &state, nil
}

func mustJSON(s demoState) []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // only strings: cannot fail
	}
	return append(b, '\n')
}

// hasAgent reports whether agents holds a, or an agent with its ID or a key of it.
func hasAgent(agents []roster.Agent, a roster.Agent) bool {
	return slices.ContainsFunc(agents, func(o roster.Agent) bool {
		return o.ID == a.ID || o.Sign == a.Sign || o.Box == a.Box
	})
}

func demoAgent(id, sign, box, name string) (roster.Agent, error) {
	a := roster.Agent{Name: name}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != len(a.ID) {
		return a, errors.New("demo.json: invalid agent id")
	}
	copy(a.ID[:], raw)
	if a.Sign, err = ids.ParseKey(sign); err != nil {
		return a, fmt.Errorf("demo.json: %w", err)
	}
	if a.Box, err = ids.ParseKey(box); err != nil {
		return a, fmt.Errorf("demo.json: %w", err)
	}
	return a, nil
}

// newDemoKey creates an agent identity and its key file sealed with passphrase.
func newDemoKey(site ids.SiteID, ownerFP ids.Fingerprint, name, passphrase string) (key []byte, id ids.AgentID, agent *envelope.Identity, err error) {
	if _, err = rand.Read(id[:]); err != nil {
		return nil, id, nil, err
	}
	if agent, err = envelope.NewIdentity(rand.Reader); err != nil {
		return nil, id, nil, err
	}
	key, err = keyfile.Seal(rand.Reader, keyfile.Secret{
		Site:     site,
		OwnerFP:  ownerFP,
		AgentID:  id,
		SignSeed: agent.Seed(),
		BoxPriv:  agent.BoxPrivate(),
		Name:     name,
	}, passphrase, keyfile.DefaultParams)
	if err != nil {
		return nil, id, nil, fmt.Errorf("seal demo agent key: %w", err)
	}
	return key, id, agent, nil
}

// addSecondAgent creates the second demo agent, with the same passphrase as the first.
func addSecondAgent(s *demoState, site ids.SiteID, ownerFP ids.Fingerprint) error {
	key, id, agent, err := newDemoKey(site, ownerFP, demoAgent2Name, s.Passphrase)
	if err != nil {
		return err
	}
	s.Agent2Key, s.Agent2ID = string(key), id.String()
	s.Agent2Sign, s.Agent2Box = agent.SignKey().String(), agent.BoxKey().String()
	return nil
}

func newDemoState() (demoState, error) {
	var site ids.SiteID
	seed := make([]byte, ed25519.SeedSize)
	pass := make([]byte, 12)
	for _, b := range [][]byte{site[:], seed, pass} {
		if _, err := rand.Read(b); err != nil {
			return demoState{}, err
		}
	}
	ownerPub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	passphrase := base64.RawURLEncoding.EncodeToString(pass)
	key, id, agent, err := newDemoKey(site, ids.OwnerFingerprint(ids.Key(ownerPub)), demoAgentName, passphrase)
	if err != nil {
		return demoState{}, err
	}
	s := demoState{
		Site:       site.String(),
		OwnerSeed:  base64.RawURLEncoding.EncodeToString(seed),
		Passphrase: passphrase,
		AgentKey:   string(key),
		AgentID:    id.String(),
		AgentSign:  agent.SignKey().String(),
		AgentBox:   agent.BoxKey().String(),
	}
	err = addSecondAgent(&s, site, ids.OwnerFingerprint(ids.Key(ownerPub)))
	return s, err
}

// writeFileAtomic writes b to path through a synced temporary file and a rename.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
