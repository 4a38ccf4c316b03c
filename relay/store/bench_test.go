package store

import (
	"crypto/rand"
	"sync/atomic"
	"testing"

	"siegel/shared/ids"
)

// BenchmarkAppendParallel appends 1 KB envelopes from many goroutines (each its own
// conversation and sender, like visitors), with fsync and without. Compare the two
// for the cost of durability; envelopes/s is the throughput.
func BenchmarkAppendParallel(b *testing.B) {
	for _, bc := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openTest(b, Options{NoSync: bc.noSync, MaxEnvelopesPerConversation: 1 << 30})
			mustPutSite(b, s, testSite(1))
			raw := make([]byte, 1024)
			rand.Read(raw)
			var next atomic.Uint32
			b.SetParallelism(32) // × GOMAXPROCS goroutines
			b.SetBytes(int64(len(raw)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := next.Add(1)
				var conv ids.ConvID
				var sender ids.Key
				conv[0], conv[1] = byte(n>>8), byte(n)
				sender[0], sender[1], sender[31] = byte(n>>8), byte(n), 1
				if _, _, err := s.EnsureConversation(bg, siteID(1), conv, sender); err != nil {
					b.Error(err)
					return
				}
				for seq := uint64(1); pb.Next(); seq++ {
					if _, err := s.Append(bg, siteID(1), conv, sender, seq, raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envelopes/s")
		})
	}
}
