package payload

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// quick runs a short measurement; Run itself fails on any round trip that
// does not give back the sent tick.
func quick(t *testing.T, scenario string, seed uint64, ticks int) (*Scenario, []Result) {
	t.Helper()
	info, res, err := Run(Config{Scenario: scenario, Seed: seed, Ticks: ticks, Runs: 1, Window: 8})
	if err != nil {
		t.Fatal(err)
	}
	return info, res
}

// TestEveryFormatRoundTrips runs every format on every scenario for a few
// ticks: each tick is encoded, decoded and compared with what was sent.
func TestEveryFormatRoundTrips(t *testing.T) {
	for _, sc := range ScenarioNames() {
		info, res := quick(t, sc, 7, 10)
		if info.Entities == 0 {
			t.Errorf("%s: the observer sees nothing", sc)
		}
		var names []string
		for _, r := range res {
			names = append(names, r.Format)
			if r.Ticks != 10 || len(r.Sizes) != 10 || r.BytesP50 <= 0 || r.BytesMean <= 0 {
				t.Errorf("%s %s: %d ticks, sizes %v", sc, r.Format, r.Ticks, r.Sizes)
			}
			if r.EncodeNs <= 0 || r.DecodeNs <= 0 {
				t.Errorf("%s %s: encode %.0f ns, decode %.0f ns", sc, r.Format, r.EncodeNs, r.DecodeNs)
			}
		}
		if !slices.Equal(names, FormatNames()) {
			t.Errorf("%s: formats %v, want %v", sc, names, FormatNames())
		}
	}
}

// TestSizesAreDeterministic: the same seed gives the same byte count for
// every tick in every format, whichever formats run alongside; another seed
// gives another stream.
func TestSizesAreDeterministic(t *testing.T) {
	for _, sc := range []string{"combat100", "cubes901"} {
		_, a := quick(t, sc, 7, 12)
		_, b := quick(t, sc, 7, 12)
		_, c := quick(t, sc, 8, 12)
		differs := false
		for i := range a {
			if !slices.Equal(a[i].Sizes, b[i].Sizes) {
				t.Errorf("%s %s: sizes %v then %v with the same seed", sc, a[i].Format, a[i].Sizes, b[i].Sizes)
			}
			differs = differs || !slices.Equal(a[i].Sizes, c[i].Sizes)
		}
		if !differs {
			t.Errorf("%s: seeds 7 and 8 give the same sizes in every format", sc)
		}
		// A format measured alone sees the same ticks.
		_, alone, err := Run(Config{Scenario: sc, Seed: 7, Ticks: 12, Runs: 1, Formats: []string{FormatDelta}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(alone[0].Sizes, a[0].Sizes) {
			t.Errorf("%s: bitpack-delta alone %v, with the others %v", sc, alone[0].Sizes, a[0].Sizes)
		}
	}
}

// TestCheckCatchesADifference: check is not vacuous; a tick decoded and
// compared with another tick fails.
func TestCheckCatchesADifference(t *testing.T) {
	src, err := newSource("combat100", 7)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := newFormats(nil, src.wire, src.sc.Hz)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFormats(fs)
	w := &window{frames: make([]tick, 8)}
	for i := range w.frames {
		if err := src.next(&w.frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	const k = 7
	for _, f := range fs {
		out, err := f.encode(nil, w, k)
		if err != nil {
			t.Fatalf("%s: %v", f.name(), err)
		}
		if err := f.decode(out, w, k); err != nil {
			t.Fatalf("%s: %v", f.name(), err)
		}
		if err := f.check(w, k); err != nil {
			t.Errorf("%s: %v", f.name(), err)
		}
		if err := f.check(w, k-1); err == nil {
			t.Errorf("%s: tick %d's decoding passes as tick %d", f.name(), k, k-1)
		}
		if len(out) > 1 {
			if err := f.decode(out[:len(out)/2], w, k); err == nil {
				if f.check(w, k) == nil {
					t.Errorf("%s: half the bytes decode to the whole tick", f.name())
				}
			}
		}
	}
}

func TestJSONHasTheRequiredKeys(t *testing.T) {
	_, res := quick(t, "combat100", 7, 4)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(FormatNames()) {
		t.Fatalf("%d rows, want %d", len(rows), len(FormatNames()))
	}
	for _, row := range rows {
		for _, key := range []string{"scenario", "format", "bytes_mean", "bytes_p50", "bytes_p99", "encode_ns", "decode_ns", "allocs"} {
			if _, ok := row[key]; !ok {
				t.Errorf("row %v lacks %q", row["format"], key)
			}
		}
		if row["scenario"] != "combat100" {
			t.Errorf("scenario %v", row["scenario"])
		}
	}
}

func TestMarkdownListsEveryRowAndGoal(t *testing.T) {
	info, res := quick(t, "combat100", 7, 4)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, []*Scenario{info}, res); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, f := range FormatNames() {
		if !strings.Contains(out, "| combat100 | "+f+" |") {
			t.Errorf("no row for %s in\n%s", f, out)
		}
	}
	if !strings.Contains(out, "combat100 bitpack-delta p50 <= 300 B: **met**") {
		t.Errorf("goal line missing or not met:\n%s", out)
	}
	if !strings.Contains(out, "cubes901 bitpack-delta <= 1% of naive (mean bytes): not measured") {
		t.Errorf("the cubes901 goal should read as not measured:\n%s", out)
	}
}

func TestGoals(t *testing.T) {
	res := []Result{
		{Scenario: "combat100", Format: FormatDelta, BytesMean: 100, BytesP50: 301, VsFlatBuffers: 0.1},
		{Scenario: "combat100", Format: FormatFlatBuffers, BytesMean: 1000, BytesP50: 1000, VsFlatBuffers: 1},
		{Scenario: "cubes901", Format: FormatDelta, BytesMean: 100, VsNaive: 0.02},
		{Scenario: "cubes901", Format: FormatNaive, BytesMean: 5000, VsNaive: 1},
	}
	g := Goals(res)
	if len(g) != 3 || g[0].Met || !g[1].Met || g[2].Met || !g[0].Known || !g[1].Known || !g[2].Known {
		t.Errorf("goals %+v", g)
	}
}

func TestLagTicks(t *testing.T) {
	for hz, want := range map[int]int{30: 3, 60: 6, 10: 1, 1: 1} {
		if got := lagTicks(hz); got != want {
			t.Errorf("lagTicks(%d) = %d, want %d", hz, got, want)
		}
	}
}

func TestUnknownNamesAreRejected(t *testing.T) {
	if _, _, err := Run(Config{Scenario: "combat100", Seed: 1, Ticks: 1, Runs: 1, Formats: []string{"xml"}}); err == nil ||
		!strings.Contains(err.Error(), "bitpack-delta") {
		t.Errorf("unknown format: %v", err)
	}
	if _, _, err := Run(Config{Scenario: "nope", Seed: 1, Ticks: 1, Runs: 1}); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, _, err := Run(Config{Scenario: "combat100", Seed: 1}); err == nil {
		t.Error("zero ticks accepted")
	}
}

// TestFlatBuffersTypesHoldEveryWorld: the integer types of codec/fbs hold
// the demo schema's ranges for every world fleet accepts, up to the largest.
func TestFlatBuffersTypesHoldEveryWorld(t *testing.T) {
	tested := 0
	for _, r := range []int64{1, 100, 8192, 1 << 16, 1 << 20} {
		for _, size := range []int64{1, 64, 1024, 1 << 14, 1 << 20} {
			cfg := fleet.DefaultConfig()
			cfg.WorldRadius, cfg.TileSize = sim.FromInt(r), sim.FromInt(size)
			if cfg.Validate() != nil {
				continue
			}
			w, err := demowire.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkTypes(w.Schema, FormatFlatBuffers, fbsTypes); err != nil {
				t.Errorf("radius %d, tile %d: %v", r, size, err)
			}
			tested++
		}
	}
	if tested < 8 {
		t.Fatalf("only %d worlds tested", tested)
	}
}
