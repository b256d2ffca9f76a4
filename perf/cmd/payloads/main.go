// Command payloads is the payload benchmark harness: for each scenario it
// measures the bytes per client per tick, and the encode and decode cost, of
// Flotilla's bit-packed snapshots and of reference formats, and prints a
// Markdown table (or JSON with -json). See perf/README.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/flotilla/flotilla/perf/payload"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "payloads:", err)
		os.Exit(1)
	}
}

// Defaults of the flags: the default run takes about a minute of CPU on the
// 2-core development machine (json-zstd on crowd10k is most of it).
const (
	defaultTicks = 1500
	defaultRuns  = 3
	defaultSeed  = 7
	defaultTimed = 240
)

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("payloads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenarios := fs.String("scenario", strings.Join(payload.ScenarioNames(), ","), "comma-separated scenarios to measure")
	formats := fs.String("formats", "", "comma-separated formats to measure (default all: "+strings.Join(payload.FormatNames(), ",")+")")
	ticks := fs.Int("ticks", defaultTicks, "ticks measured per scenario, after the observer's warm-up")
	seed := fs.Uint64("seed", defaultSeed, "scenario seed")
	runs := fs.Int("runs", defaultRuns, "timing repetitions; times and allocations are the median of the runs")
	timed := fs.Int("timed", defaultTimed, "ticks timed per scenario, in batches spread over the run (0: every tick); every tick is still encoded, decoded, checked and sized")
	asJSON := fs.Bool("json", false, "print a JSON array of results instead of Markdown")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: go run ./perf/cmd/payloads [flags]

For each scenario, one observer's view is built every tick and encoded in
every format (bitpack-delta against the previous tick, bitpack-delta against
a baseline ~100 ms old, bitpack-full, zstd-19 over the bitpack-delta bytes,
flatbuffers, protobuf, json-zstd, naive floats), decoded back and checked.
It prints bytes per client per tick (mean, p50, p99), encode and decode ns
per tick (median of the runs), allocations per tick and ratios to
flatbuffers and naive. Byte counts are deterministic for a seed; times are
wall-clock on a possibly noisy machine.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var names []string
	if *formats != "" {
		names = strings.Split(*formats, ",")
	}
	var infos []*payload.Scenario
	var results []payload.Result
	for _, sc := range strings.Split(*scenarios, ",") {
		start := time.Now()
		info, res, err := payload.Run(payload.Config{Scenario: sc, Seed: *seed, Ticks: *ticks, Runs: *runs, Timed: *timed, Formats: names})
		if err != nil {
			return err
		}
		if !*quiet {
			fmt.Fprintf(stderr, "payloads: %s: %d ticks x %d runs in %.1fs\n", sc, *ticks, *runs, time.Since(start).Seconds())
		}
		infos = append(infos, info)
		results = append(results, res...)
	}
	if *asJSON {
		return payload.WriteJSON(stdout, results)
	}
	cmd := strings.Join(append([]string{"go run ./perf/cmd/payloads"}, args...), " ")
	fmt.Fprintf(stdout, "# Payload formats\n\n`%s` (%s %s/%s, %d CPUs). Byte counts are deterministic "+
		"for the seed; times are wall-clock medians of %d runs on a possibly noisy machine.\n\n",
		cmd, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *runs)
	return payload.WriteMarkdown(stdout, infos, results)
}
