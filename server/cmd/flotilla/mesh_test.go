package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/tools/bots/botrun"
)

// Three servers of the binary form a mesh on loopback from their flags
// alone, each with in-process bots: they step one world (every compared
// hash agrees), every bot's view converges and no acknowledged action is
// lost. Then one is stopped the way SIGTERM stops it: it leaves the mesh
// and the other two go on without it.
func TestMeshOfThreeServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers and 12 bots for 6 s")
	}
	// Addresses no other test uses: a loopback /24 of its own.
	net := fmt.Sprintf("127.%d.%d", 100+rand.IntN(100), rand.IntN(250))
	var members []string
	for i := 1; i <= 3; i++ {
		members = append(members, fmt.Sprintf("%d=%s.%d:7000", i, net, i))
	}
	key := strings.Repeat("5a", 32)
	type result struct {
		code   int
		stdout *syncBuffer
		stderr *syncBuffer
		stats  server.MeshStats
		frame  uint64
	}
	results := make([]result, 3)
	ctxs := make([]context.CancelFunc, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		ctxs[i] = cancel
		results[i].stdout, results[i].stderr = &syncBuffer{}, &syncBuffer{}
		args := []string{"-listen", fmt.Sprintf("%s.%d:7000", net, i+1), "-admin", "", "-io", "naive",
			"-mesh-self", fmt.Sprint(i + 1), "-mesh-members", strings.Join(members, ","), "-mesh-key", key,
			"-input-delay", "3", "-bots", "4", "-log-format", "json"}
		if i < 2 {
			args = append(args, "-duration", "8s")
		}
		record := func(ctx context.Context, s *instance) error {
			<-ctx.Done() // the room has stopped
			results[i].stats = s.Room.MeshStats()
			results[i].frame = s.Room.Stats().Frame
			return nil
		}
		wg.Go(func() {
			results[i].code = runWith(ctx, args, noEnv, results[i].stdout, results[i].stderr, record)
		})
	}
	// Server 3 leaves after 5 s, as SIGTERM makes it.
	time.Sleep(5 * time.Second)
	ctxs[2]()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the servers did not stop")
	}
	for _, c := range ctxs {
		c()
	}
	for i, r := range results {
		if r.code != exitOK {
			t.Errorf("server %d exited %d: %s", i+1, r.code, tail(r.stderr.String()))
		}
		if !r.stats.Formed || r.stats.Mismatches != 0 {
			t.Errorf("server %d: formed %v, %d hash mismatches", i+1, r.stats.Formed, r.stats.Mismatches)
		}
		for _, p := range r.stats.Peers {
			if p.HashChecks < 30 {
				t.Errorf("server %d compared %d hashes with member %d", i+1, p.HashChecks, p.Member)
			}
		}
		line, ok := strings.CutPrefix(strings.TrimSpace(lastLine(r.stdout.String(), "bots: ")), "bots: ")
		var rep botrun.Report
		if !ok || json.Unmarshal([]byte(line), &rep) != nil {
			t.Errorf("server %d: no bots report in %q", i+1, tail(r.stdout.String()))
			continue
		}
		t.Logf("server %d: frame %d, stalled ticks %d; bots connected %d, desyncs %d, actions sent %d lost %d, p99 action→effect %.0f ms",
			i+1, r.frame, r.stats.StalledTicks, rep.Connected, rep.DesyncPermanent, rep.ActionsSent, rep.ActionsLost, rep.ActionToEffectMsP99)
		if rep.Connected != 4 || rep.DesyncPermanent != 0 {
			t.Errorf("server %d's bots: %d connected, %d permanent desyncs", i+1, rep.Connected, rep.DesyncPermanent)
		}
		if i < 2 && rep.ActionsLost != 0 {
			t.Errorf("server %d's bots lost %d acknowledged actions", i+1, rep.ActionsLost)
		}
	}
	if !strings.Contains(results[2].stderr.String(), "leaving the mesh") {
		t.Errorf("server 3 did not leave the mesh: %s", tail(results[2].stderr.String()))
	}
	if results[0].frame <= results[2].frame+30 {
		t.Errorf("server 1 ran to frame %d, server 3 left at %d: the others did not go on", results[0].frame, results[2].frame)
	}
}

// lastLine returns the last line of s that starts with prefix.
func lastLine(s, prefix string) string {
	last := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			last = l
		}
	}
	return last
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// Bots that all know one server are spread across the mesh: once the
// server's load is 8 above the mean (the default margin), it points the
// next ones to its peer, and they go.
func TestMeshPointsClientsToALessLoadedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers and 30 bots for 7 s")
	}
	net := fmt.Sprintf("127.%d.%d", 100+rand.IntN(100), rand.IntN(250))
	members := fmt.Sprintf("1=%s.1:7000,2=%s.2:7000", net, net)
	key := strings.Repeat("c3", 32)
	var stats [2]server.StatsSnapshot
	var mstats [2]server.MeshStats
	var outs [2]*syncBuffer
	var codes [2]int
	var wg sync.WaitGroup
	for i := range 2 {
		args := []string{"-listen", fmt.Sprintf("%s.%d:7000", net, i+1), "-admin", "", "-io", "naive",
			"-mesh-self", fmt.Sprint(i + 1), "-mesh-members", members, "-mesh-key", key, "-duration", "7s", "-log-format", "json"}
		if i == 0 {
			args = append(args, "-bots", "30")
		}
		outs[i] = &syncBuffer{}
		record := func(ctx context.Context, s *instance) error {
			if i == 0 {
				time.Sleep(1500 * time.Millisecond) // the mesh forms and the peer says its load before the bots come
			}
			<-ctx.Done()
			stats[i], mstats[i] = s.Room.Stats(), s.Room.MeshStats()
			return nil
		}
		wg.Go(func() { codes[i] = runWith(context.Background(), args, noEnv, outs[i], &syncBuffer{}, record) })
	}
	wg.Wait()
	line, _ := strings.CutPrefix(strings.TrimSpace(lastLine(outs[0].String(), "bots: ")), "bots: ")
	var rep botrun.Report
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("no bots report: %q", outs[0].String())
	}
	t.Logf("redirects %d (server 1 counted %d); bots connected %d, lost %d, desyncs %d; server 2 peak frame %d",
		rep.Redirects, mstats[0].Redirects, rep.Connected, rep.ActionsLost, rep.DesyncPermanent, stats[1].Frame)
	if codes != [2]int{exitOK, exitOK} || rep.Connected != 30 || rep.DesyncPermanent != 0 || rep.ActionsLost != 0 {
		t.Errorf("exit %v; bots %+v", codes, rep)
	}
	if rep.Redirects == 0 || mstats[0].Redirects == 0 {
		t.Errorf("no bot was pointed to server 2 (bots followed %d, server 1 sent %d)", rep.Redirects, mstats[0].Redirects)
	}
	if mstats[0].Mismatches != 0 || mstats[1].Mismatches != 0 {
		t.Errorf("hash mismatches: %d, %d", mstats[0].Mismatches, mstats[1].Mismatches)
	}
}
