// Package hub keeps the relay's live connections and fans envelopes out to them.
//
// A Hub knows, per site, the connected agents and, per conversation, the
// connected visitors. Publishing never blocks: each client has a bounded queue,
// and a client that cannot keep up is disconnected (it resumes from its last
// position when it reconnects, so nothing is lost).
package hub

import (
	"sync"

	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// queueSize is the number of frames a client may lag behind before it is dropped.
const queueSize = 1024

// maxGone is the number of erased conversations a Hub remembers, so that a
// push racing with an erasure (an envelope committed just before it) is dropped.
const maxGone = 1024

// Hub is the registry of connected clients. The zero value is not usable; use New.
type Hub struct {
	mu    sync.Mutex
	sites map[ids.SiteID]*siteSubs
	// gone holds the most recently erased conversations (oldest first in
	// goneOrder, at most maxGone); publishing for them does nothing.
	gone      map[siteConv]struct{}
	goneOrder []siteConv
}

type siteConv struct {
	site ids.SiteID
	conv ids.ConvID
}

type siteSubs struct {
	agents   map[*client]struct{}
	visitors map[ids.ConvID]map[*client]struct{}
	// keys counts the connections per agent signing key; len(keys) is the
	// number of distinct agents online (Presence).
	keys map[ids.Key]int
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{sites: make(map[ids.SiteID]*siteSubs), gone: make(map[siteConv]struct{})}
}

func (h *Hub) subs(site ids.SiteID) *siteSubs {
	s := h.sites[site]
	if s == nil {
		s = &siteSubs{agents: map[*client]struct{}{}, visitors: map[ids.ConvID]map[*client]struct{}{}, keys: map[ids.Key]int{}}
		h.sites[site] = s
	}
	return s
}

// addAgent subscribes the agent connection c with signing key key. When it is
// the first agent of the site online, the site's visitors get a Presence push.
func (h *Hub) addAgent(site ids.SiteID, key ids.Key, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.subs(site)
	if _, ok := s.agents[c]; ok {
		return
	}
	c.agentKey = key
	s.agents[c] = struct{}{}
	s.keys[key]++
	if len(s.keys) == 1 && s.keys[key] == 1 {
		s.pushPresence()
	}
}

// removeAgent unsubscribes c; it reports whether c was subscribed. The last
// agent of the site going offline pushes Presence 0 to the visitors. The
// caller holds h.mu.
func (s *siteSubs) removeAgent(c *client) bool {
	if _, ok := s.agents[c]; !ok {
		return false
	}
	delete(s.agents, c)
	if s.keys[c.agentKey]--; s.keys[c.agentKey] <= 0 {
		delete(s.keys, c.agentKey)
		if len(s.keys) == 0 {
			s.pushPresence()
		}
	}
	return true
}

// pushPresence sends the number of agents online to every visitor of the
// site. The caller holds h.mu, so that presence frames reach each visitor in
// the order of the changes.
func (s *siteSubs) pushPresence() {
	frame := protocol.Encode(0, &protocol.Presence{Online: online(len(s.keys))})
	for _, m := range s.visitors {
		for c := range m {
			// push, not send: a visitor still in its Welcome and replay gets
			// the frame after them (it is held back until the replay ends).
			c.push(ids.ConvID{}, 0, frame)
		}
	}
}

func online(n int) uint16 {
	if n > 0xffff {
		return 0xffff
	}
	return uint16(n)
}

// sendPresence sends c (a visitor whose replay has ended) the number of the
// site's agents online, under the hub's lock so that no change pushed to c
// later is overtaken by this answer.
func (h *Hub) sendPresence(site ids.SiteID, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	if s := h.sites[site]; s != nil {
		n = len(s.keys)
	}
	c.send(protocol.Encode(0, &protocol.Presence{Online: online(n)}))
}

// Online reports the number of distinct agent keys connected for site.
func (h *Hub) Online(site ids.SiteID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sites[site]; s != nil {
		return len(s.keys)
	}
	return 0
}

// RosterChanged tells the connected clients of site that raw, a signed roster
// just stored for it, is the site's roster now: every connection of the site
// (agents and visitors) gets a RosterUpdate, and every agent connection whose
// key is not in the roster is closed with 1008 (policy violation) after that
// frame. Their Hello and requests are refused from then on because the
// sessions read the stored roster. Call it after the roster is committed. It
// fails (and does nothing) when raw does not parse.
func (h *Hub) RosterChanged(site ids.SiteID, raw []byte) error {
	r, err := roster.Parse(raw)
	if err != nil {
		return err
	}
	if r.Site != site {
		return roster.ErrWrongSite
	}
	frame := protocol.Encode(0, &protocol.RosterUpdate{Roster: raw})
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sites[site]
	if s == nil {
		return nil
	}
	for c := range s.agents {
		c.send(frame)
		if _, ok := r.AgentBySign(c.agentKey); !ok {
			s.removeAgent(c)
			c.revoke()
		}
	}
	for _, m := range s.visitors {
		for c := range m {
			c.send(frame)
		}
	}
	if len(s.agents) == 0 && len(s.visitors) == 0 {
		delete(h.sites, site)
	}
	return nil
}

// publishState queues frame (a ConvState or TypingPush of conv) for the site's
// agents and the conversation's visitors, except the connection except (the
// one that caused it and got its own answer). With agentsOnly the
// conversation's visitors are left out.
func (h *Hub) publishState(site ids.SiteID, conv ids.ConvID, frame []byte, except *client, agentsOnly bool) {
	h.mu.Lock()
	s := h.sites[site]
	var targets []*client
	if _, gone := h.gone[siteConv{site, conv}]; s != nil && !gone {
		for c := range s.agents {
			if c != except {
				targets = append(targets, c)
			}
		}
		if !agentsOnly {
			for c := range s.visitors[conv] {
				if c != except {
					targets = append(targets, c)
				}
			}
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.push(conv, 0, frame)
	}
}

// addVisitor subscribes c to conv; it reports false (and subscribes nothing)
// when conv was erased.
func (h *Hub) addVisitor(site ids.SiteID, conv ids.ConvID, c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.gone[siteConv{site, conv}]; ok {
		return false
	}
	s := h.subs(site)
	m := s.visitors[conv]
	if m == nil {
		m = map[*client]struct{}{}
		s.visitors[conv] = m
	}
	m[c] = struct{}{}
	return true
}

func (h *Hub) remove(site ids.SiteID, conv ids.ConvID, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sites[site]
	if s == nil {
		return
	}
	s.removeAgent(c)
	if m := s.visitors[conv]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.visitors, conv)
		}
	}
	if len(s.agents) == 0 && len(s.visitors) == 0 {
		delete(h.sites, site)
	}
}

// publish queues frame (a Deliver or Receipt for conversation conv at position
// pos) for the site's agents and the conversation's visitors.
func (h *Hub) publish(site ids.SiteID, conv ids.ConvID, pos uint64, frame []byte) {
	h.mu.Lock()
	s := h.sites[site]
	var targets []*client
	if _, gone := h.gone[siteConv{site, conv}]; s != nil && !gone {
		targets = make([]*client, 0, len(s.agents)+len(s.visitors[conv]))
		for c := range s.agents {
			targets = append(targets, c)
		}
		for c := range s.visitors[conv] {
			targets = append(targets, c)
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.push(conv, pos, frame)
	}
}

// publishAgents queues frame (a push of conversation conv that belongs to no
// position, such as ConsentReceipts) for the site's agents only.
func (h *Hub) publishAgents(site ids.SiteID, conv ids.ConvID, frame []byte) {
	h.mu.Lock()
	s := h.sites[site]
	var targets []*client
	if _, gone := h.gone[siteConv{site, conv}]; s != nil && !gone {
		targets = make([]*client, 0, len(s.agents))
		for c := range s.agents {
			targets = append(targets, c)
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.push(conv, 0, frame)
	}
}

// Erased tells the connected clients that conv was erased other than by a
// signed request (by the retention sweeper): it pushes Erased to the site's
// agents and the conversation's visitors and drops the visitors'
// subscriptions, exactly as after an erase request.
func (h *Hub) Erased(site ids.SiteID, conv ids.ConvID) {
	h.erase(site, conv, protocol.Encode(0, &protocol.Erased{Conv: conv}))
}

// erase queues frame (an Erased push) for the site's agents and the
// conversation's visitors, then drops the conversation's visitor
// subscriptions. Nothing of conv is pushed after it: the hub and each of
// those clients remember conv as erased.
func (h *Hub) erase(site ids.SiteID, conv ids.ConvID, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := siteConv{site, conv}
	if _, ok := h.gone[key]; !ok {
		if len(h.goneOrder) >= maxGone {
			delete(h.gone, h.goneOrder[0])
			h.goneOrder = append(h.goneOrder[:0], h.goneOrder[1:]...)
		}
		h.gone[key] = struct{}{}
		h.goneOrder = append(h.goneOrder, key)
	}
	s := h.sites[site]
	if s == nil {
		return
	}
	// Each client remembers conv as erased, so that a publish that collected
	// its targets before this cannot reach them after their Erased frame.
	for c := range s.agents {
		c.erase(conv, frame)
	}
	for c := range s.visitors[conv] {
		c.erase(conv, frame)
	}
	delete(s.visitors, conv)
	if len(s.agents) == 0 && len(s.visitors) == 0 {
		delete(h.sites, site)
	}
}

// Counts reports the number of connected agents and visitors (for metrics).
func (h *Hub) Counts() (agents, visitors int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sites {
		agents += len(s.agents)
		for _, m := range s.visitors {
			visitors += len(m)
		}
	}
	return agents, visitors
}

// client is one connection's outgoing side.
type client struct {
	// The outgoing queue grows on demand (an idle connection holds no
	// buffer) up to queueSize frames; notify wakes the writer.
	qmu    sync.Mutex
	queue  [][]byte
	notify chan struct{}
	kick   func() // closes the connection; safe to call more than once

	agentKey ids.Key // the agent's signing key (agents; set by addAgent under the hub's lock)

	mu        sync.Mutex
	replaying int                     // > 0 while history is being replayed
	held      []heldFrame             // pushes held back during a replay
	replayed  map[ids.ConvID]uint64   // last position replayed per conversation
	gone      map[ids.ConvID]struct{} // erased conversations: no more pushes
}

type heldFrame struct {
	conv  ids.ConvID
	pos   uint64
	frame []byte
	final bool // the Erased frame of conv
}

func newClient(kick func()) *client {
	return &client{notify: make(chan struct{}, 1), kick: kick}
}

// send queues a reply frame; it reports false when the client is too slow and was kicked.
func (c *client) send(frame []byte) bool {
	c.qmu.Lock()
	if len(c.queue) >= queueSize {
		c.qmu.Unlock()
		c.kick()
		return false
	}
	c.queue = append(c.queue, frame)
	c.qmu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return true
}

// revoke queues the end of the connection: the writer closes it with 1008
// (policy violation) after the frames queued before. It bypasses the queue
// limit.
func (c *client) revoke() {
	c.qmu.Lock()
	c.queue = append(c.queue, nil)
	c.qmu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// take removes and returns every queued frame, in order. A nil frame is the
// mark of revoke.
func (c *client) take() [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// push queues a pushed frame, holding it back while a replay is running so that
// the client sees every position once and in order. Pushes for an erased
// conversation are dropped.
func (c *client) push(conv ids.ConvID, pos uint64, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.gone[conv]; gone {
		return
	}
	if c.replaying > 0 {
		c.held = append(c.held, heldFrame{conv: conv, pos: pos, frame: frame})
		return
	}
	if last, ok := c.replayed[conv]; ok && pos != 0 && pos <= last {
		return
	}
	c.send(frame)
}

// erase queues frame (Erased) as the last push of conv: held pushes of conv
// are dropped, and so are later ones.
func (c *client) erase(conv ids.ConvID, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.gone[conv]; gone {
		return
	}
	if c.gone == nil {
		c.gone = map[ids.ConvID]struct{}{}
	}
	c.gone[conv] = struct{}{}
	if c.replaying > 0 {
		kept := c.held[:0]
		for _, f := range c.held {
			if f.conv != conv {
				kept = append(kept, f)
			}
		}
		c.held = append(kept, heldFrame{conv: conv, frame: frame, final: true})
		return
	}
	c.send(frame)
}

func (c *client) beginReplay() {
	c.mu.Lock()
	c.replaying++
	c.mu.Unlock()
}

// endReplay records the last replayed position of conv and releases held pushes
// that the replay did not already cover.
func (c *client) endReplay(conv ids.ConvID, last uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replayed == nil {
		c.replayed = map[ids.ConvID]uint64{}
	}
	if last > c.replayed[conv] {
		c.replayed[conv] = last
	}
	c.replaying--
	if c.replaying > 0 {
		return
	}
	held := c.held
	c.held = nil
	for _, f := range held {
		if f.final {
			c.send(f.frame)
			continue
		}
		if f.pos != 0 && f.pos <= c.replayed[f.conv] {
			continue
		}
		c.send(f.frame)
	}
}
