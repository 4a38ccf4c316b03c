package store

import (
	"crypto/rand"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkCompact50MB measures a compaction of a database of about 50 MB (1 KB
// envelopes) while 16 writers keep appending with fsync: the whole compaction, the
// longest pause of the writer, and the append latency (p99, max) during the
// compactions compared with the same writers in one second without.
func BenchmarkCompact50MB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "relay.db")
	s, err := Open(Options{Path: path, NoSync: true, MaxEnvelopesPerConversation: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	mustPutSite(b, s, testSite(1))
	const convs, perConv = 500, 90 // 45,000 × 1 KB envelopes + overhead ≈ 50 MB
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw := make([]byte, 1024)
			for c := g; c < convs; c += 8 {
				conv := ids.ConvID{0: byte(c >> 8), 1: byte(c), 15: 1}
				sender := ids.Key{0: byte(c >> 8), 1: byte(c), 31: 1}
				if _, _, err := s.EnsureConversation(bg, siteID(1), conv, sender); err != nil {
					b.Error(err)
					return
				}
				for seq := uint64(1); seq <= perConv; seq++ {
					rand.Read(raw)
					if _, err := s.Append(bg, siteID(1), conv, sender, seq, raw); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	s = openTest(b, Options{Path: path, MaxEnvelopesPerConversation: 1 << 30})

	stop := make(chan struct{})
	var latMu sync.Mutex
	var lats []time.Duration
	record := func(d time.Duration) {
		latMu.Lock()
		lats = append(lats, d)
		latMu.Unlock()
	}
	take := func() []time.Duration {
		latMu.Lock()
		defer latMu.Unlock()
		l := lats
		lats = nil
		slices.Sort(l)
		return l
	}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw := make([]byte, 1024)
			conv := ids.ConvID{0: 0xff, 1: byte(w), 15: 2}
			sender := ids.Key{0: 0xff, 1: byte(w), 31: 2}
			if _, _, err := s.EnsureConversation(bg, siteID(1), conv, sender); err != nil {
				b.Error(err)
				return
			}
			for seq := uint64(1); ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				rand.Read(raw)
				start := time.Now()
				if _, err := s.Append(bg, siteID(1), conv, sender, seq, raw); err != nil {
					b.Error(err)
					return
				}
				record(time.Since(start))
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	take()
	time.Sleep(time.Second)
	idle := take()
	var pause, total time.Duration
	var size int64
	b.ResetTimer()
	for range b.N {
		st, err := s.Compact(bg)
		if err != nil {
			b.Fatal(err)
		}
		pause = max(pause, st.Pause)
		total += st.Duration
		size = st.SizeBefore
	}
	b.StopTimer()
	during := take()
	close(stop)
	wg.Wait()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	p99 := func(l []time.Duration) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[len(l)*99/100]
	}
	b.ReportMetric(float64(size)/(1<<20), "MB-file")
	b.ReportMetric(ms(total)/float64(b.N), "ms-compaction")
	b.ReportMetric(ms(pause), "ms-max-pause")
	b.ReportMetric(ms(p99(during)), "ms-p99-append")
	b.ReportMetric(ms(p99(idle)), "ms-p99-append-idle")
	b.ReportMetric(ms(during[len(during)-1]), "ms-max-append")
	b.ReportMetric(ms(idle[len(idle)-1]), "ms-max-append-idle")
}
