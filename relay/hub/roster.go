package hub

import (
	"bytes"
	"sync"
	"time"

	"siegel/shared/ids"
	"siegel/shared/roster"
)

// rosterCache keeps the parsed roster of each site, so that the owner's
// signature over a roster is verified once per stored roster, not on every
// agent frame. The stored bytes are read on every use and compared, so a
// newly stored roster takes effect at once.
type rosterCache struct {
	mu sync.Mutex
	m  map[ids.SiteID]cachedRoster
}

type cachedRoster struct {
	raw []byte
	r   *roster.Roster
}

// parsed returns the parsed and signature-checked form of raw, the site's
// stored roster.
func (c *rosterCache) parsed(site ids.SiteID, raw []byte) (*roster.Roster, error) {
	c.mu.Lock()
	e, ok := c.m[site]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.r, nil
	}
	r, err := roster.Parse(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[ids.SiteID]cachedRoster{}
	}
	c.m[site] = cachedRoster{raw: bytes.Clone(raw), r: r}
	c.mu.Unlock()
	return r, nil
}

// agentRefusal says why key may not act as an agent under roster r at now:
// "" when it may, else the reason for the error frame (notMember when the
// key is not in the roster).
func agentRefusal(r *roster.Roster, key ids.Key, now time.Time, notMember string) string {
	if time.Unix(r.NotAfter, 0).Before(now) {
		return "roster expired"
	}
	if _, ok := r.AgentBySign(key); !ok {
		return notMember
	}
	return ""
}
