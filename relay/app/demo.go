package app

import (
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
	"strconv"
	"time"

	"siegel/relay/store"
	"siegel/relay/web/views"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/roster"
)

// demoState is what `relay demo` creates once and keeps in the data folder
// (demo.json, mode 0600). It holds the demo owner's private key: demo only.
type demoState struct {
	Site       string `json:"site"`
	OwnerSeed  string `json:"owner_seed"`
	Passphrase string `json:"agent_passphrase"`
	AgentKey   string `json:"agent_key_file"`
	AgentID    string `json:"agent_id"`
	AgentSign  string `json:"agent_sign"`
	AgentBox   string `json:"agent_box"`
}

// rosterLifetime is how long a demo roster stays valid; it is re-signed on start
// when less than half of it is left.
const rosterLifetime = 365 * 24 * time.Hour

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	demoAddr := fs.String("demo-addr", "", "address of the demo host page (default: the port after -addr)")
	if err := parseFlags(fs, args, stderr); err != nil {
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
		addr:    f.addr,
		public:  pub,
		demoKey: []byte(state.AgentKey),
		extra:   []*http.Server{host},
		ready: func(string) {
			fmt.Fprintf(stdout, "demo page: %s/\n", hostOrigin)
			fmt.Fprintf(stdout, "agent page: %s/agent\n", relayOrigin)
			fmt.Fprintf(stdout, "agent passphrase: %s\n", state.Passphrase)
			fmt.Fprintf(stdout, "site: %s\nowner key fingerprint: %s\n", site, fp)
		},
	}
	return serve(ctx, st, cfg, stdout, newLogger(stderr))
}

// ensureDemo creates the demo site, owner key, agent key and roster once, and
// on later starts updates the allowed origin and re-signs an ageing roster.
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
		if state, err = newDemoState(now); err != nil {
			return nil, err
		}
		b, _ := json.MarshalIndent(state, "", "  ")
		if err := writeFileAtomic(path, b, 0o600); err != nil {
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

	rec, err := st.Site(site)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if errors.Is(err, store.ErrNotFound) || len(rec.Origins) != 1 || rec.Origins[0] != hostOrigin {
		if errors.Is(err, store.ErrNotFound) {
			rec = store.Site{ID: site, Name: "Bäckerei Sonnenschein (Demo)", Owner: owner, RetentionDays: 30, Created: now.Unix()}
		}
		rec.Origins = []string{hostOrigin}
		if err := st.PutSite(ctx, rec); err != nil {
			return nil, fmt.Errorf("store demo site: %w", err)
		}
	}
	version, raw, err := st.Roster(site)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		r, perr := roster.Parse(raw)
		if perr == nil && time.Unix(r.NotAfter, 0).Sub(now) > rosterLifetime/2 {
			return &state, nil
		}
	}
	agent, err := demoAgent(state)
	if err != nil {
		return nil, err
	}
	r := &roster.Roster{Site: site, Owner: owner, Version: version + 1, NotAfter: now.Add(rosterLifetime).Unix(), Agents: []roster.Agent{agent}}
	signed, err := r.Encode(ownerPriv)
	if err != nil {
		return nil, fmt.Errorf("sign demo roster: %w", err)
	}
	if err := st.PutRoster(ctx, site, r.Version, signed); err != nil {
		return nil, fmt.Errorf("store demo roster: %w", err)
	}
	return &state, nil
}

func demoAgent(s demoState) (roster.Agent, error) {
	var a roster.Agent
	id, err := base64.RawURLEncoding.DecodeString(s.AgentID)
	if err != nil || len(id) != len(a.ID) {
		return a, errors.New("demo.json: invalid agent id")
	}
	copy(a.ID[:], id)
	if a.Sign, err = ids.ParseKey(s.AgentSign); err != nil {
		return a, fmt.Errorf("demo.json: %w", err)
	}
	if a.Box, err = ids.ParseKey(s.AgentBox); err != nil {
		return a, fmt.Errorf("demo.json: %w", err)
	}
	a.Name = "Demo-Agentin"
	return a, nil
}

func newDemoState(now time.Time) (demoState, error) {
	var s demoState
	var site ids.SiteID
	var agentID ids.AgentID
	seed := make([]byte, ed25519.SeedSize)
	pass := make([]byte, 12)
	for _, b := range [][]byte{site[:], agentID[:], seed, pass} {
		if _, err := rand.Read(b); err != nil {
			return s, err
		}
	}
	ownerPub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	agent, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		return s, err
	}
	passphrase := base64.RawURLEncoding.EncodeToString(pass)
	file, err := keyfile.Seal(rand.Reader, keyfile.Secret{
		Site:     site,
		OwnerFP:  ids.OwnerFingerprint(ids.Key(ownerPub)),
		AgentID:  agentID,
		SignSeed: agent.Seed(),
		BoxPriv:  agent.BoxPrivate(),
		Name:     "Demo-Agentin",
	}, passphrase, keyfile.DefaultParams)
	if err != nil {
		return s, fmt.Errorf("seal demo agent key: %w", err)
	}
	_ = now
	return demoState{
		Site:       site.String(),
		OwnerSeed:  base64.RawURLEncoding.EncodeToString(seed),
		Passphrase: passphrase,
		AgentKey:   string(file),
		AgentID:    agentID.String(),
		AgentSign:  agent.SignKey().String(),
		AgentBox:   agent.BoxKey().String(),
	}, nil
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
