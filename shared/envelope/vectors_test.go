package envelope

import (
	"bytes"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"

	"siegel/shared/ids"
)

//go:embed testdata/vectors
var vectorFS embed.FS

type vecParty struct {
	Name       string `json:"name"`
	SignSeed   string `json:"sign_seed"`
	BoxPrivate string `json:"box_private"`
	SignPublic string `json:"sign_public"`
	BoxPublic  string `json:"box_public"`
}

type validVector struct {
	Description string     `json:"description"`
	Sender      vecParty   `json:"sender"`
	Recipients  []vecParty `json:"recipients"`
	Site        string     `json:"site"`
	Conv        string     `json:"conversation"`
	Seq         uint64     `json:"seq"`
	Type        uint8      `json:"content_type"`
	Time        int64      `json:"time"`
	Content     string     `json:"content"`
	Random      string     `json:"random"`
	Envelope    string     `json:"envelope"`
}

type invalidVector struct {
	Description string   `json:"description"`
	Envelope    string   `json:"envelope"`
	Recipient   vecParty `json:"recipient"`
	Site        string   `json:"site"`
	Conv        string   `json:"conversation"`
	Error       string   `json:"error"`
}

// classes maps the error class names of the vectors to the sentinels.
var classes = map[string]error{
	"malformed":           ErrMalformed,
	"unsupported version": ErrUnsupportedVersion,
	"bad signature":       ErrBadSignature,
	"wrong conversation":  ErrWrongConversation,
	"not a recipient":     ErrNotRecipient,
	"weak key":            ErrWeakKey,
	"stanza":              ErrStanza,
	"body":                ErrBody,
	"header mismatch":     ErrHeaderMismatch,
	"duplicate":           ErrDuplicate,
	"too many recipients": ErrTooManyRecipients,
}

// assertClass fails unless err wraps want and no other error class.
func assertClass(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want class %v", err, want)
	}
	for name, c := range classes {
		if c != want && errors.Is(err, c) {
			t.Fatalf("error %v is also of class %q", err, name)
		}
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex32(t testing.TB, s string) (k [32]byte) {
	t.Helper()
	if b := unhex(t, s); len(b) != 32 || copy(k[:], b) != 32 {
		t.Fatalf("want 32 bytes of hex, got %q", s)
	}
	return k
}

func (p vecParty) identity(t testing.TB) *Identity {
	t.Helper()
	id, err := IdentityFromKeys(unhex32(t, p.SignSeed), unhex32(t, p.BoxPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if id.SignKey() != ids.Key(unhex32(t, p.SignPublic)) || id.BoxKey() != ids.Key(unhex32(t, p.BoxPublic)) {
		t.Fatalf("public keys of %s do not match the vector", p.Name)
	}
	return id
}

func siteConv(t testing.TB, site, conv string) (s ids.SiteID, c ids.ConvID) {
	t.Helper()
	if copy(s[:], unhex(t, site)) != 16 || copy(c[:], unhex(t, conv)) != 16 {
		t.Fatal("bad site or conversation in vector")
	}
	return s, c
}

func loadVectors[V any](t testing.TB, dir string) map[string]V {
	t.Helper()
	ents, err := fs.ReadDir(vectorFS, dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]V{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := vectorFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var v V
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = v
	}
	if len(out) == 0 {
		t.Fatalf("no vectors found in %s", dir)
	}
	return out
}

func validVectors(t testing.TB) map[string]validVector {
	return loadVectors[validVector](t, "testdata/vectors")
}

func TestVectorsValid(t *testing.T) {
	vs := validVectors(t)
	for _, want := range []string{"text-1-recipient", "text-3-recipients", "text-bucket-256-full", "text-bucket-512-first"} {
		if _, ok := vs[want]; !ok {
			t.Errorf("vector %s missing", want)
		}
	}
	for name, v := range vs {
		t.Run(name, func(t *testing.T) {
			sender := v.Sender.identity(t)
			site, conv := siteConv(t, v.Site, v.Conv)
			var rks []ids.Key
			for _, r := range v.Recipients {
				rks = append(rks, ids.Key(unhex32(t, r.BoxPublic)))
			}
			m := Message{Site: site, Conv: conv, Seq: v.Seq, Type: ContentType(v.Type), Time: v.Time, Content: unhex(t, v.Content)}
			rnd := bytes.NewReader(unhex(t, v.Random))
			got, err := Seal(rnd, sender, rks, m)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, v.Envelope)
			if !bytes.Equal(got, want) {
				t.Fatalf("Seal:\n got %x\nwant %x", got, want)
			}
			if rnd.Len() != 0 {
				t.Fatalf("Seal left %d of the random bytes unread", rnd.Len())
			}
			e, err := Verify(want)
			if err != nil {
				t.Fatal(err)
			}
			if e.Site != site || e.Conv != conv || e.Seq != v.Seq || e.SenderSign != sender.SignKey() ||
				e.SenderBox != sender.BoxKey() || len(e.Recipients) != len(rks) {
				t.Fatalf("parsed header differs: %+v", e)
			}
			if !bytes.Equal(e.Nonce[:], unhex(t, v.Random)[32:]) {
				t.Fatal("nonce is not the second part of the random bytes")
			}
			for _, r := range v.Recipients {
				o, err := Open(want, r.identity(t), site, conv)
				if err != nil {
					t.Fatalf("open as %s: %v", r.Name, err)
				}
				if o.Site != site || o.Conv != conv || o.Seq != m.Seq || o.Type != m.Type || o.Time != m.Time ||
					!bytes.Equal(o.Content, m.Content) || o.SenderSign != sender.SignKey() || o.SenderBox != sender.BoxKey() {
					t.Fatalf("open as %s: got %+v", r.Name, o)
				}
			}
		})
	}
}

func TestVectorsInvalid(t *testing.T) {
	vs := loadVectors[invalidVector](t, "testdata/vectors/invalid")
	seen := map[string]bool{}
	for name, v := range vs {
		t.Run(name, func(t *testing.T) {
			class, ok := classes[v.Error]
			if !ok {
				t.Fatalf("unknown error class %q", v.Error)
			}
			seen[v.Error] = true
			site, conv := siteConv(t, v.Site, v.Conv)
			o, err := Open(unhex(t, v.Envelope), v.Recipient.identity(t), site, conv)
			if o != nil {
				t.Fatal("Open returned a message with an error")
			}
			assertClass(t, err, class)
		})
	}
	for _, c := range []string{"malformed", "unsupported version", "bad signature", "wrong conversation",
		"not a recipient", "weak key", "stanza", "body", "header mismatch"} {
		if !seen[c] {
			t.Errorf("no invalid vector of class %q", c)
		}
	}
}
