package agent

import (
	"io"
	"strings"
	"unicode/utf8"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/roster"
)

// PubPrefix starts the public line of an agent key (docs/PROTOCOL.md §5.1).
const PubPrefix = roster.AgentLinePrefix + " " + roster.AgentLineVersion

// MinPassphrase is the least number of characters of a new passphrase.
const MinPassphrase = 10

// PubLine is the public line of an agent key that the site owner adds to
// the roster (`relay roster add`, docs/PROTOCOL.md §5.1): the prefix, the
// agent ID, the Ed25519 and X25519 public keys (base64url without padding)
// and the name, separated by single spaces.
func PubLine(id ids.AgentID, sign, box ids.Key, name string) string {
	return roster.FormatAgentPublicLine(roster.Agent{ID: id, Name: name, Sign: sign, Box: box})
}

// NewKey is what the user entered to create a key.
type NewKey struct {
	Name, Site, Owner string
	Pass, Pass2       string
}

// NewKeyErrors are the problems of the fields of a NewKey ("" when fine).
type NewKeyErrors struct {
	Name, Site, Owner, Pass, Pass2 string
}

// OK reports whether there is no problem.
func (e NewKeyErrors) OK() bool { return e == NewKeyErrors{} }

// Check validates the fields of a new key.
func (t *Text) Check(k NewKey) (ids.SiteID, ids.Fingerprint, NewKeyErrors) {
	var e NewKeyErrors
	if !roster.ValidName(strings.TrimSpace(k.Name)) {
		e.Name = t.BadName
	}
	site, err := ids.ParseSiteID(strings.TrimSpace(k.Site))
	if err != nil {
		e.Site = t.BadSite
	}
	fp, err := ids.ParseFingerprint(strings.TrimSpace(k.Owner))
	if err != nil {
		e.Owner = t.BadOwner
	}
	if utf8.RuneCountInString(k.Pass) < MinPassphrase {
		e.Pass = t.PassShort
	} else if k.Pass != k.Pass2 {
		e.Pass2 = t.PassMismatch
	}
	return site, fp, e
}

// NewKeyDefaults are the site ID and owner fingerprint to prefill: from the
// page's data-site and data-owner attributes when they are valid.
func (a *App) NewKeyDefaults() (site, owner string) {
	if a.hasPageSite {
		site = a.pageSite.String()
	}
	if _, err := ids.ParseFingerprint(a.cfg.Owner); err == nil {
		owner = a.cfg.Owner
	}
	return site, owner
}

// StartGenerate shows the form to create a new key (only while no key is
// present).
func (a *App) StartGenerate() {
	if a.phase != PhaseNoKey {
		return
	}
	a.phase, a.err, a.keyErrs = PhaseGenerate, "", NewKeyErrors{}
	a.p.Changed()
}

// CancelGenerate goes back from the form.
func (a *App) CancelGenerate() {
	if a.phase != PhaseGenerate {
		return
	}
	a.phase, a.err, a.keyErrs = PhaseNoKey, "", NewKeyErrors{}
	a.p.Changed()
}

// KeyErrors are the problems found in the fields of the last Generate.
func (a *App) KeyErrors() NewKeyErrors { return a.keyErrs }

// Generate checks the fields and, when they are fine, creates the key after
// the browser painted "Creating key…": fresh Ed25519 and X25519 keys and a
// random agent ID, sealed under the passphrase (argon2id), stored in this
// browser. The page is then unlocked with it and shows the public line
// (PubLine) to hand to the site owner. It reports whether the fields were
// accepted.
func (a *App) Generate(k NewKey) bool {
	defer a.p.Changed()
	if a.phase != PhaseGenerate {
		return false
	}
	site, fp, errs := a.text.Check(k)
	a.keyErrs = errs
	if !errs.OK() {
		a.err = ""
		return false
	}
	if a.hasPageSite && site != a.pageSite {
		a.keyErrs.Site = a.text.ErrOtherSite
		return false
	}
	a.phase, a.err = PhaseGenerating, ""
	gen := a.gen
	name, pass := strings.TrimSpace(k.Name), k.Pass
	a.p.AfterPaint(func() {
		if gen == a.gen && a.phase == PhaseGenerating {
			a.finishGenerate(site, fp, name, pass)
		}
	})
	return true
}

func (a *App) finishGenerate(site ids.SiteID, fp ids.Fingerprint, name, pass string) {
	defer a.p.Changed()
	fail := func() { a.phase, a.err = PhaseGenerate, a.text.GenerateFailed }
	if a.cfg.Rand == nil {
		fail()
		return
	}
	id, err := envelope.NewIdentity(a.cfg.Rand)
	if err != nil {
		fail()
		return
	}
	sec := keyfile.Secret{Site: site, OwnerFP: fp, SignSeed: id.Seed(), BoxPriv: id.BoxPrivate(), Name: name}
	defer clear(sec.SignSeed[:])
	defer clear(sec.BoxPriv[:])
	if _, err := io.ReadFull(a.cfg.Rand, sec.AgentID[:]); err != nil {
		fail()
		return
	}
	params := keyfile.DefaultParams
	if a.cfg.KeyParams != (keyfile.Params{}) {
		params = a.cfg.KeyParams
	}
	text, err := keyfile.Seal(a.cfg.Rand, sec, pass, params)
	if err != nil {
		fail()
		return
	}
	a.keyText, a.stored, a.keyErrs, a.generated = string(text), false, NewKeyErrors{}, true
	a.start(sec)
}

// Generated reports whether the key in use was created in this page (the
// page then offers the backup download prominently).
func (a *App) Generated() bool { return a.generated }

// Pub returns the public line of the unlocked key ("" while locked).
func (a *App) Pub() string { return a.pub }
