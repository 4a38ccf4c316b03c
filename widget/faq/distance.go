package faq

// maxEdits is the typo tolerance for words whose shorter form has n letters:
// none below 4, one edit from 4, two edits from 8.
func maxEdits(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

// distance returns the Damerau-Levenshtein distance (optimal string alignment:
// insertions, deletions, substitutions and transpositions of adjacent letters)
// between a and b, or limit+1 if it exceeds limit.
func distance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	if len(a) == 0 || len(b) == 0 {
		return max(len(a), len(b))
	}
	// Three rows: two back (for transpositions), previous, current.
	w := len(b) + 1
	rows := make([]int, 3*w)
	pp, prev, cur := rows[:w], rows[w:2*w], rows[2*w:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, pp[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > limit {
			return limit + 1
		}
		pp, prev, cur = prev, cur, pp
	}
	if d := prev[len(b)]; d <= limit {
		return d
	}
	return limit + 1
}
