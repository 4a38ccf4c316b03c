package visitor

import (
	"strconv"
	"testing"
)

func TestParseRevision(t *testing.T) {
	for _, s := range []string{"", "0", "1", "007", "42", "4294967295", "4294967296", "99999999999999999999",
		"-1", "+1", "1_0", " 1", "1x", "٣"} {
		got, ok := parseRevision(s)
		want, err := strconv.ParseUint(s, 10, 32)
		if ok != (err == nil) || ok && uint64(got) != want {
			t.Errorf("parseRevision(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	}
}
