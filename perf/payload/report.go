package payload

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Goal is one of the bandwidth goals of issue [W1-4], judged on results.
type Goal struct {
	Text string // what is asked
	Got  string // what was measured
	Met  bool
	// Known is false when the results lack a row the goal needs.
	Known bool
}

// Goals judges the bandwidth goals on results: bitpack-delta on combat100
// at most 300 B at p50 and at most 15% of flatbuffers (mean bytes), and on
// cubes901 at most 1% of naive (mean bytes).
func Goals(results []Result) []Goal {
	find := func(scenario, format string) *Result {
		for i := range results {
			if results[i].Scenario == scenario && results[i].Format == format {
				return &results[i]
			}
		}
		return nil
	}
	var goals []Goal
	if r := find("combat100", FormatDelta); r != nil {
		goals = append(goals, Goal{Text: "combat100 bitpack-delta p50 <= 300 B", Known: true,
			Got: fmt.Sprintf("%d B", r.BytesP50), Met: r.BytesP50 <= 300})
	} else {
		goals = append(goals, Goal{Text: "combat100 bitpack-delta p50 <= 300 B"})
	}
	if r := find("combat100", FormatDelta); r != nil && r.VsFlatBuffers > 0 {
		fb := find("combat100", FormatFlatBuffers)
		goals = append(goals, Goal{Text: "combat100 bitpack-delta <= 15% of flatbuffers (mean bytes)", Known: true,
			Got: fmt.Sprintf("%.1f%% (%.1f B vs %.1f B; p50 %d vs %d B)", 100*r.VsFlatBuffers, r.BytesMean, fb.BytesMean,
				r.BytesP50, fb.BytesP50), Met: r.VsFlatBuffers <= 0.15})
	} else {
		goals = append(goals, Goal{Text: "combat100 bitpack-delta <= 15% of flatbuffers (mean bytes)"})
	}
	if r := find("cubes901", FormatDelta); r != nil && r.VsNaive > 0 {
		nv := find("cubes901", FormatNaive)
		goals = append(goals, Goal{Text: "cubes901 bitpack-delta <= 1% of naive (mean bytes)", Known: true,
			Got: fmt.Sprintf("%.2f%% (%.1f B vs %.0f B)", 100*r.VsNaive, r.BytesMean, nv.BytesMean), Met: r.VsNaive <= 0.01})
	} else {
		goals = append(goals, Goal{Text: "cubes901 bitpack-delta <= 1% of naive (mean bytes)"})
	}
	return goals
}

// WriteMarkdown writes the scenarios, the results table and the goals as
// Markdown.
func WriteMarkdown(w io.Writer, scenarios []*Scenario, results []Result) error {
	var b strings.Builder
	b.WriteString("## Streams\n\n")
	b.WriteString("| scenario | Hz | seed | ticks | timed ticks × runs | observer tile | view | entities in view | events per tick | 100 ms lag |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |\n")
	for _, s := range scenarios {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d × %d | (%d, %d) after %d frames | %s | %.1f | %.2f | %d ticks |\n",
			s.Name, s.Hz, s.Seed, s.Ticks, s.Timed, s.Runs, s.TileQ, s.TileR, s.Warm, s.Interest, s.Entities, s.Events, s.LagTicks)
	}
	b.WriteString("\n## Bytes per client per tick and codec cost per tick\n\n")
	b.WriteString("| scenario | format | bytes mean | p50 | p99 | encode ns | decode ns | allocs/op | vs flatbuffers | vs naive |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %.1f | %d | %d | %s | %s | %s | %s | %s |\n",
			r.Scenario, r.Format, r.BytesMean, r.BytesP50, r.BytesP99,
			group(r.EncodeNs), group(r.DecodeNs), allocs(r.Allocs), percent(r.VsFlatBuffers), percent(r.VsNaive))
	}
	b.WriteString("\n## Goals\n\n")
	for _, g := range Goals(results) {
		switch {
		case !g.Known:
			fmt.Fprintf(&b, "- %s: not measured in this run\n", g.Text)
		case g.Met:
			fmt.Fprintf(&b, "- %s: **met**, %s\n", g.Text, g.Got)
		default:
			fmt.Fprintf(&b, "- %s: **not met**, %s\n", g.Text, g.Got)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes results as a JSON array of objects with the keys
// scenario, format, bytes_mean, bytes_p50, bytes_p99, encode_ns, decode_ns
// and allocs, and more (see Result).
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// group formats a nanosecond count with thousands separators.
func group(ns float64) string {
	s := fmt.Sprintf("%.0f", ns)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func allocs(a float64) string {
	if a == float64(int64(a)) {
		return fmt.Sprintf("%d", int64(a))
	}
	return fmt.Sprintf("%.2f", a)
}

func percent(r float64) string {
	switch {
	case r == 0:
		return ""
	case r < 0.01:
		return fmt.Sprintf("%.2f%%", 100*r)
	default:
		return fmt.Sprintf("%.1f%%", 100*r)
	}
}
