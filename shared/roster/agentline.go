package roster

import (
	"strings"

	"siegel/shared/ids"
)

// AgentLinePrefix starts an agent public line (docs/PROTOCOL.md §5.1).
const AgentLinePrefix = "SIEGEL-AGENT-PUB"

// AgentLineVersion is the version of the agent public line.
const AgentLineVersion = "1"

// FormatAgentPublicLine returns the agent public line of a (docs/PROTOCOL.md
// §5.1): what the agent page exports for the owner to add the agent to the
// roster. An agent whose name breaks the roster rules gives a line that
// ParseAgentPublicLine refuses.
func FormatAgentPublicLine(a Agent) string {
	return AgentLinePrefix + " " + AgentLineVersion + " " + a.ID.String() + " " +
		a.Sign.String() + " " + a.Box.String() + " " + a.Name
}

// ParseAgentPublicLine parses an agent public line strictly: exactly the
// output of FormatAgentPublicLine for an agent with a valid name, without a
// line break. Another line version gives ErrUnsupportedVersion, anything else
// that is not such a line an error wrapping ErrMalformed.
func ParseAgentPublicLine(s string) (Agent, error) {
	var a Agent
	rest, ok := strings.CutPrefix(s, AgentLinePrefix+" ")
	if !ok {
		return a, ids.Wrap("agent line: no "+AgentLinePrefix+" prefix", ErrMalformed)
	}
	version, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return a, ids.Wrap("agent line: short", ErrMalformed)
	}
	if version != AgentLineVersion {
		if version == "" || strings.Trim(version, "0123456789") != "" {
			return a, ids.Wrap("agent line: bad version", ErrMalformed)
		}
		return a, ids.Wrap("agent line", ErrUnsupportedVersion)
	}
	id, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return a, ids.Wrap("agent line: short", ErrMalformed)
	}
	sign, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return a, ids.Wrap("agent line: short", ErrMalformed)
	}
	box, name, ok := strings.Cut(rest, " ")
	if !ok {
		return a, ids.Wrap("agent line: short", ErrMalformed)
	}
	// An agent ID has the length of a site ID, and the same text form.
	sid, err := ids.ParseSiteID(id)
	if err != nil {
		return a, ids.Wrap("agent line: agent ID", ErrMalformed)
	}
	a.ID = ids.AgentID(sid)
	if a.Sign, err = ids.ParseKey(sign); err != nil {
		return Agent{}, ids.Wrap("agent line: signing key", ErrMalformed)
	}
	if a.Box, err = ids.ParseKey(box); err != nil {
		return Agent{}, ids.Wrap("agent line: box key", ErrMalformed)
	}
	if !ValidName(name) {
		return Agent{}, ids.Wrap("agent line: invalid name", ErrMalformed)
	}
	a.Name = name
	return a, nil
}
