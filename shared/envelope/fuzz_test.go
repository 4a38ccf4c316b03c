package envelope

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"siegel/shared/content"
)

// encodeParsed rebuilds the bytes of a parsed envelope from its fields.
func encodeParsed(e *Envelope) []byte {
	var b []byte
	b = append(b, Version)
	b = append(b, e.Site[:]...)
	b = append(b, e.Conv[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = append(b, e.SenderSign[:]...)
	b = append(b, e.SenderBox[:]...)
	b = append(b, e.Nonce[:]...)
	b = append(b, byte(len(e.Recipients)))
	for i, r := range e.Recipients {
		b = append(b, r[:]...)
		b = append(b, e.wrapped(i)...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.body)))
	b = append(b, e.body...)
	return append(b, e.raw[len(e.raw)-sigLen:]...)
}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			if e != nil {
				t.Fatal("envelope and error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("parse error of another class: %v", err)
			}
			return
		}
		if len(b) > MaxEnvelopeSize || len(e.Recipients) < 1 || len(e.Recipients) > MaxStanzas || e.Seq == 0 {
			t.Fatal("parsed an envelope out of bounds")
		}
		for i := 1; i < len(e.Recipients); i++ {
			if bytes.Compare(e.Recipients[i-1][:], e.Recipients[i][:]) >= 0 {
				t.Fatal("recipients not strictly ascending")
			}
		}
		if !isBucket(uint64(len(e.body) - boxOverhead)) {
			t.Fatal("body not a bucket")
		}
		if !bytes.Equal(encodeParsed(e), b) {
			t.Fatal("parsed envelope does not re-encode to its input")
		}
		err = e.Verify()
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verify error of another class: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	vs := validVectors(f)
	v := vs["text-3-recipients"]
	var me *Identity
	for _, r := range v.Recipients {
		if r.Name == "visitor" {
			me = r.identity(f)
		}
	}
	if me == nil {
		f.Fatal("no visitor in the vector")
	}
	site, conv := siteConv(f, v.Site, v.Conv)
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		o, err := Open(b, me, site, conv)
		if !bytes.Equal(in, b) {
			t.Fatal("Open modified its input")
		}
		if err != nil {
			if o != nil {
				t.Fatal("message and error")
			}
			n := 0
			for _, c := range classes {
				if errors.Is(err, c) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v is of %d classes", err, n)
			}
			return
		}
		if o.Site != site || o.Conv != conv || o.Seq == 0 || content.Check(content.Type(o.Type), o.Content) != nil || o.Time < 0 {
			t.Fatalf("opened an invalid message: %+v", o)
		}
	})
}
