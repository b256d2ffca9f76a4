package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The launcher builds the server, starts a mesh of two on loopback, plays 6
// bots on it and reports: the mesh formed, hashes were compared and none
// differed, every bot connected and nothing acknowledged was lost.
func TestLauncherRunsAMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary and runs a mesh for 6 s")
	}
	if err := os.Chdir("../.."); err != nil { // the launcher builds ./server/cmd/flotilla
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), rand.IntN(250), 1+rand.IntN(250))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-servers", "2", "-bots", "6", "-duration", "6s", "-host", host,
		"-port", fmt.Sprint(20000 + rand.IntN(20000)), "-logs", t.TempDir()}, &stdout, &stderr)
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, no report (%v): %s", code, err, stderr.String())
	}
	if code != 0 || !rep.OK {
		t.Fatalf("exit %d, report %+v\n%s", code, rep, stderr.String())
	}
	if rep.Checks < 100 || len(rep.Servers) != 2 {
		t.Errorf("%v hashes compared over %d servers", rep.Checks, len(rep.Servers))
	}
	if !strings.Contains(stderr.String(), "server 2: clients") {
		t.Errorf("no live lines: %s", stderr.String())
	}
}

func TestLauncherRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-servers", "0"}, {"-servers", "65"}, {"-bots", "-1"}, {"-duration", "1s"}, {"-host", "nowhere"}, {"-port", "65500"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
