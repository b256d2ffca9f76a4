package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite sim/testdata/simcheck_golden.txt")

const goldenPath = "../../sim/testdata/simcheck_golden.txt"

// goldenRuns are the short runs recorded in the golden file.
var goldenRuns = [][]string{
	{"-scenario", "combat100", "-seed", "7", "-frames", "2000", "-every", "1000"},
	{"-scenario", "cubes901", "-seed", "7", "-frames", "2000", "-every", "1000"},
	{"-scenario", "crowd10k", "-seed", "7", "-frames", "300", "-every", "100"},
}

// buildSimcheck compiles this command into a temporary directory.
func buildSimcheck(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "simcheck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("simcheck %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// TestAcrossProcesses runs the built binary twice and against the golden
// file: separate processes (and, for the golden file, other machines) must
// print the same hashes.
func TestAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildSimcheck(t)
	args := []string{"-scenario", "combat100", "-seed", "7", "-frames", "3000", "-every", "1000"}
	a, b := runBin(t, bin, args...), runBin(t, bin, args...)
	if a != b || strings.Count(a, "\n") != 3 {
		t.Fatalf("two runs differ or are short:\n%s---\n%s", a, b)
	}
	var got strings.Builder
	for _, r := range goldenRuns {
		got.WriteString("# simcheck " + strings.Join(r, " ") + "\n")
		got.WriteString(runBin(t, bin, r...))
	}
	if *update {
		if err := os.WriteFile(goldenPath, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./tools/simcheck -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("simcheck output differs from %s:\n%s\nwant:\n%s", goldenPath, got.String(), want)
	}
}

func TestRunOutputAndErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"-scenario", "combat100", "-frames", "20", "-every", "10"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "frame 10 ") || len(lines[1]) != len("frame 20 ")+16 {
		t.Errorf("output %q", out.String())
	}
	err := run([]string{"-scenario", "nope"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "combat100, cubes901, crowd10k") {
		t.Errorf("unknown scenario error %v", err)
	}
	if err := run([]string{"-every", "0"}, &out, &errb); err == nil {
		t.Error("-every 0 accepted")
	}
	errb.Reset()
	if err := run([]string{"--help"}, &out, &errb); err != flag.ErrHelp || !strings.Contains(errb.String(), "-every") {
		t.Errorf("--help: %v %q", err, errb.String())
	}
}
