// Command simcheck steps a seeded fleet scenario and prints the world hash
// every N frames, so that two machines (or two builds) can prove they
// simulate the same bytes:
//
//	go run ./tools/simcheck -scenario combat100 -seed 7 -frames 20000
//
// It prints one line "frame <n> <hash as 16 lowercase hex digits>" after each
// frame n that is a multiple of -every, and nothing else on stdout. Errors go
// to stderr with a non-zero exit status.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flotilla/flotilla/sim/fleet"
)

// options are the command-line flags.
type options struct {
	scenario string
	seed     uint64
	frames   uint64
	every    uint64
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "simcheck:", err)
		os.Exit(1)
	}
}

// run parses args, runs the scenario and writes the hash lines to stdout.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.scenario, "scenario", "combat100", "scenario to run: "+strings.Join(fleet.ScenarioNames(), ", "))
	fs.Uint64Var(&o.seed, "seed", 1, "scenario seed")
	fs.Uint64Var(&o.frames, "frames", 20000, "number of frames to step")
	fs.Uint64Var(&o.every, "every", 1000, "print the world hash after every N-th frame (N > 0)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: simcheck [flags]\n\n"+
			"Steps a seeded fleet scenario and prints \"frame <n> <xxhash64>\" after every\n"+
			"N-th frame, so runs on different machines can be compared line by line.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.every == 0 {
		return errors.New("-every must be positive")
	}
	if o.frames > 1<<32-1 {
		return fmt.Errorf("-frames %d exceeds the 32-bit frame counter", o.frames)
	}
	s, err := fleet.NewScenario(o.scenario, o.seed)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for f := uint64(1); f <= o.frames; f++ {
		if err := s.Step(); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		if f%o.every == 0 {
			fmt.Fprintf(w, "frame %d %016x\n", f, s.World.Hash())
		}
	}
	return w.Flush()
}
