package flow

// This file holds the graph analyses shared by Check and Decode. They need
// a flow whose targets all exist.

// pathStep is one step on a path through a flow; Declined marks a consent
// step left through its decline edge.
type pathStep struct {
	Step     string
	Declined bool
}

// violation is a personal ask step reachable without an accepted consent,
// with a shortest such path from the start.
type violation struct {
	Ask  string
	Path []pathStep
}

// consentViolations finds every personal ask that can be reached from the
// start without having passed the accept edge of a consent step. The state
// of a visit is (step, consented): the accept edge of a consent step sets
// consented, its decline edge clears it (the most recent decision counts),
// every other edge keeps it. Violations are in breadth-first order.
func consentViolations(f *Flow) []violation {
	type state struct {
		id        string
		consented bool
	}
	type back struct {
		prev     state
		declined bool // prev is a consent step left by its decline edge
		root     bool
	}
	start := state{f.Start, false}
	parent := map[state]back{start: {root: true}}
	queue := []state{start}
	var out []violation
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		st := f.Steps[s.id]
		if st == nil {
			continue
		}
		if st.Kind == KindAsk && st.Personal && !s.consented {
			var rev []pathStep
			cur, declinedHere := s, false
			for {
				p := parent[cur]
				rev = append(rev, pathStep{Step: cur.id, Declined: declinedHere})
				if p.root {
					break
				}
				cur, declinedHere = p.prev, p.declined
			}
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			out = append(out, violation{Ask: s.id, Path: rev})
		}
		visit := func(id string, consented, declined bool) {
			if id == "" {
				return
			}
			n := state{id, consented}
			if _, ok := parent[n]; ok {
				return
			}
			parent[n] = back{prev: s, declined: declined}
			queue = append(queue, n)
		}
		if st.Kind == KindConsent {
			visit(st.Accept, true, false)
			visit(st.Decline, false, true)
			continue
		}
		for _, t := range st.Targets() {
			visit(t, s.consented, false)
		}
	}
	return out
}

// loopsWithoutInput returns one cycle per strongly connected group of
// steps that do not wait for input (say, set, jump, branch) and can run in
// a circle. Each cycle starts and ends at the group's first step in order
// (the IDs of all steps, in the order problems should be reported).
func loopsWithoutInput(f *Flow, order []string) [][]string {
	rank := make(map[string]int, len(order))
	for i, id := range order {
		rank[id] = i
	}
	passive := func(id string) *Step {
		st := f.Steps[id]
		if st == nil || st.Kind.WaitsForInput() {
			return nil
		}
		return st
	}
	// Tarjan's algorithm over the passive steps.
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var groups [][]string
	var connect func(id string)
	connect = func(id string) {
		index[id] = len(index)
		low[id] = index[id]
		stack = append(stack, id)
		onStack[id] = true
		for _, t := range passive(id).Targets() {
			if passive(t) == nil {
				continue
			}
			if _, ok := index[t]; !ok {
				connect(t)
				low[id] = min(low[id], low[t])
			} else if onStack[t] {
				low[id] = min(low[id], index[t])
			}
		}
		if low[id] == index[id] {
			var g []string
			for {
				n := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[n] = false
				g = append(g, n)
				if n == id {
					break
				}
			}
			groups = append(groups, g)
		}
	}
	for _, id := range order {
		if passive(id) != nil {
			if _, ok := index[id]; !ok {
				connect(id)
			}
		}
	}
	var out [][]string
	for _, g := range groups {
		in := map[string]bool{}
		first := g[0]
		for _, id := range g {
			in[id] = true
			if rank[id] < rank[first] {
				first = id
			}
		}
		if len(g) == 1 && !contains(f.Steps[first].Targets(), first) {
			continue
		}
		// Shortest cycle through first, within the group.
		prev := map[string]string{}
		queue := []string{first}
		var last string
	search:
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, t := range f.Steps[id].Targets() {
				if t == first {
					last = id
					break search
				}
				if _, ok := prev[t]; !ok && in[t] {
					prev[t] = id
					queue = append(queue, t)
				}
			}
		}
		cyc := []string{first}
		for id := last; id != first; id = prev[id] {
			cyc = append(cyc, id)
		}
		cyc = append(cyc, first)
		for i, j := 1, len(cyc)-2; i < j; i, j = i+1, j-1 {
			cyc[i], cyc[j] = cyc[j], cyc[i]
		}
		out = append(out, cyc)
	}
	// Report in order of the first step.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && rank[out[j][0]] < rank[out[j-1][0]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
