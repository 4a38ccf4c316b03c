package store

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"siegel/shared/ids"
)

// The crash test runs the test binary again as a helper process that appends
// envelopes from many goroutines and prints every acknowledged one, kills it with
// SIGKILL under load, reopens the database and checks that every acknowledged
// envelope is there with identical bytes (Promise 7).

const (
	crashEnv      = "SIEGEL_STORE_CRASH_DB"      // set: run as the helper on this database
	crashCompact  = "SIEGEL_STORE_CRASH_COMPACT" // set: the helper also erases and compacts
	crashWorkers  = 24                           // goroutines, each its own sender
	crashConvs    = 6                            // conversations shared by the workers
	crashEnvBytes = 1024
)

func crashSite() ids.SiteID             { return siteID(0x42) }
func crashConv(w int) ids.ConvID        { return convID(byte(w % crashConvs)) }
func crashSender(w int) ids.Key         { return ids.Key{0: 0xc0, 1: byte(w), 31: 1} }
func crashVisitor(c ids.ConvID) ids.Key { return ids.Key{0: 0xd0, 1: c[0], 31: 1} }

// crashEnvelope is the deterministic content of worker w's envelope seq.
func crashEnvelope(w int, seq uint64) []byte {
	b := make([]byte, 0, crashEnvBytes)
	var in [16]byte
	binary.BigEndian.PutUint64(in[:], uint64(w))
	binary.BigEndian.PutUint64(in[8:], seq)
	h := sha256.Sum256(in[:])
	for len(b) < crashEnvBytes {
		b = append(b, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return b[:crashEnvBytes]
}

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashHelper(path) // never returns
	}
	os.Exit(m.Run())
}

// crashHelper is the helper process: it appends until it is killed.
func crashHelper(path string) {
	s, err := Open(Options{Path: path})
	if err != nil {
		crashFail("open: " + err.Error())
	}
	site := testSite(0x42)
	site.ID = crashSite()
	if err := s.PutSite(bg, site); err != nil {
		crashFail("put site: " + err.Error())
	}
	for c := range crashConvs {
		conv := crashConv(c)
		if _, _, err := s.EnsureConversation(bg, crashSite(), conv, crashVisitor(conv)); err != nil {
			crashFail("ensure conversation: " + err.Error())
		}
	}
	var out sync.Mutex
	ack := func(line string) {
		out.Lock()
		os.Stdout.WriteString(line) // unbuffered: on the pipe as soon as it is acknowledged
		out.Unlock()
	}
	ack("ready\n")
	if os.Getenv(crashCompact) != "" {
		go crashCompactor(s, ack)
	}
	for w := range crashWorkers {
		go func() {
			seq, err := s.LastSeq(crashSite(), crashConv(w), crashSender(w))
			if err != nil {
				crashFail("last seq: " + err.Error())
			}
			for {
				seq++
				a, err := s.Append(bg, crashSite(), crashConv(w), crashSender(w), seq, crashEnvelope(w, seq))
				if err != nil || a.Duplicate {
					crashFail("append: " + strconv.FormatBool(a.Duplicate) + " " + errString(err))
				}
				ack("ack " + strconv.Itoa(w) + " " + strconv.FormatUint(seq, 10) + " " +
					strconv.FormatUint(a.Pos, 10) + "\n")
			}
		}()
	}
	time.Sleep(time.Minute) // killed long before
	crashFail("not killed")
}

// crashCompactor erases throwaway conversations and compacts, over and over,
// announcing each compaction before it starts.
func crashCompactor(s *Store, say func(string)) {
	for i := 0; ; i++ {
		var c ids.ConvID
		rand.Read(c[:])
		if _, _, err := s.EnsureConversation(bg, crashSite(), c, crashVisitor(c)); err != nil {
			crashFail("compactor: " + err.Error())
		}
		if _, err := s.Append(bg, crashSite(), c, crashVisitor(c), 1, crashEnvelope(1000+i, 1)); err != nil {
			crashFail("compactor: " + err.Error())
		}
		if err := s.Erase(bg, crashSite(), c, EraseRetention, nil); err != nil {
			crashFail("compactor: " + err.Error())
		}
		say("compacting\n")
		if _, err := s.Compact(bg); err != nil {
			crashFail("compact: " + err.Error())
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func crashFail(msg string) {
	os.Stdout.WriteString("fail " + msg + "\n")
	os.Exit(3)
}

type crashAck struct {
	w        int
	seq, pos uint64
}

func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	var all []crashAck
	for round := 1; round <= 3; round++ {
		acks := runCrashHelper(t, path, false)
		if len(acks) == 0 {
			t.Fatalf("round %d: nothing acknowledged", round)
		}
		all = append(all, acks...)
		verifyCrashAcks(t, path, all)
		t.Logf("round %d: %d envelopes acknowledged before SIGKILL, %d in all verified", round, len(acks), len(all))
	}
}

// TestCrashDuringCompaction kills the helper while it appends, erases and compacts,
// shortly after a compaction has started: the database opens with either the old
// or the new file complete, every acknowledged envelope is there, Check passes, and
// no compaction file is left.
func TestCrashDuringCompaction(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	var all []crashAck
	for round := 1; round <= 3; round++ {
		acks := runCrashHelper(t, path, true)
		if len(acks) == 0 {
			t.Fatalf("round %d: nothing acknowledged", round)
		}
		_, err := os.Stat(compactPath(path))
		all = append(all, acks...)
		verifyCrashAcks(t, path, all)
		if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("compaction file left after reopen: %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%d files in the data folder after reopen", len(entries))
		}
		t.Logf("round %d: %d envelopes acknowledged before SIGKILL (compaction file present at the kill: %v)",
			round, len(acks), err == nil)
	}
}

// runCrashHelper starts the helper, lets it append for about a second after its first
// acknowledgement, kills it with SIGKILL and returns what it acknowledged. With
// compact, the helper also erases and compacts, and the kill comes a random few
// milliseconds after a compaction has started.
func runCrashHelper(t *testing.T, path string, compact bool) []crashAck {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	if compact {
		cmd.Env = append(cmd.Env, crashCompact+"=1")
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks []crashAck
	var failure string
	first := make(chan struct{})
	readDone := make(chan struct{})
	compacting := make(chan struct{}, 1)
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		gotFirst := false
		for sc.Scan() {
			line := sc.Text()
			f := strings.Fields(line)
			switch {
			case len(f) == 4 && f[0] == "ack":
				w, err1 := strconv.Atoi(f[1])
				seq, err2 := strconv.ParseUint(f[2], 10, 64)
				pos, err3 := strconv.ParseUint(f[3], 10, 64)
				if err1 != nil || err2 != nil || err3 != nil {
					failure = "bad line " + line
					continue
				}
				acks = append(acks, crashAck{w, seq, pos})
				if !gotFirst {
					gotFirst = true
					close(first)
				}
			case line == "compacting":
				select {
				case compacting <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "fail "):
				failure = line
			}
		}
		if !gotFirst {
			close(first)
		}
	}()
	select {
	case <-first:
		time.Sleep(time.Second)
	case <-time.After(30 * time.Second):
		t.Error("helper acknowledged nothing within 30 s")
	}
	if compact {
		select {
		case <-compacting: // drop an old announcement
		default:
		}
		select {
		case <-compacting:
			var r [1]byte
			rand.Read(r[:])
			time.Sleep(time.Duration(r[0]%40) * time.Millisecond)
		case <-time.After(30 * time.Second):
			t.Error("helper started no compaction within 30 s")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-readDone // the pipe keeps what was written before the kill
	err = cmd.Wait()
	if failure != "" {
		t.Fatalf("helper: %s", failure)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die by SIGKILL: %v", err)
	}
	return acks
}

// verifyCrashAcks reopens the database and checks it and every acknowledgement.
func verifyCrashAcks(t *testing.T, path string, acks []crashAck) {
	t.Helper()
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatalf("Check after kill: %v", err)
	}
	// Read each conversation once.
	stored := map[ids.ConvID]map[uint64][]byte{}
	for c := range crashConvs {
		conv := crashConv(c)
		m := map[uint64][]byte{}
		if err := s.Envelopes(crashSite(), conv, 0, func(pos uint64, _ int64, raw []byte) error {
			m[pos] = raw
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		stored[conv] = m
	}
	lastAck := map[int]uint64{}
	for _, a := range acks {
		raw, ok := stored[crashConv(a.w)][a.pos]
		if !ok {
			t.Fatalf("acknowledged envelope lost: worker %d seq %d pos %d", a.w, a.seq, a.pos)
		}
		if !bytes.Equal(raw, crashEnvelope(a.w, a.seq)) {
			t.Fatalf("acknowledged envelope changed: worker %d seq %d pos %d", a.w, a.seq, a.pos)
		}
		lastAck[a.w] = max(lastAck[a.w], a.seq)
	}
	for w, seq := range lastAck {
		got, err := s.LastSeq(crashSite(), crashConv(w), crashSender(w))
		if err != nil || got < seq {
			t.Fatalf("worker %d: LastSeq %d %v, acknowledged %d", w, got, err, seq)
		}
	}
}
