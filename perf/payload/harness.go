package payload

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/flotilla/flotilla/sim/fleet"
)

// Config says what Run measures.
type Config struct {
	Scenario string // one of fleet.ScenarioNames()
	Seed     uint64 // scenario seed
	Ticks    int    // ticks measured (after the observer's warm-up and the lag history), >= 1
	Runs     int    // timing repetitions; timings are the median of the runs, >= 1
	// Timed is the number of ticks, out of Ticks, that are timed: whole
	// windows spread evenly over the run (every tick is still encoded,
	// decoded, checked and counted in the sizes). 0 or more than Ticks
	// means all of them.
	Timed   int
	Formats []string // formats to measure; empty means all, in FormatNames order
	// Window is the number of ticks held in memory and timed as one batch;
	// 0 means DefaultWindow. It changes timings slightly, never sizes.
	Window int
}

// DefaultWindow is the number of ticks measured as one batch.
const DefaultWindow = 16

// Scenario describes the stream measured for one scenario.
type Scenario struct {
	Name     string  `json:"scenario"`
	Hz       int     `json:"hz"`
	Seed     uint64  `json:"seed"`
	Ticks    int     `json:"ticks"`
	Timed    int     `json:"timed_ticks"`
	Runs     int     `json:"runs"`
	Warm     int     `json:"warm_frames"`
	TileQ    int32   `json:"observer_q"`
	TileR    int32   `json:"observer_r"`
	Interest string  `json:"interest"`
	LagTicks int     `json:"lag_ticks"`
	Entities float64 `json:"entities_mean"` // entities in view per tick
	Events   float64 `json:"events_mean"`   // events in view per tick
}

// Result is one format's figures for one scenario: bytes per client per
// tick, and per-tick encode and decode time and allocations.
type Result struct {
	Scenario string `json:"scenario"`
	Format   string `json:"format"`
	// Bytes per client per tick over the measured ticks. P50 and P99 are
	// the sizes at ranks n/2 and 99n/100 (0-based) of the sorted sizes.
	BytesMean float64 `json:"bytes_mean"`
	BytesP50  int     `json:"bytes_p50"`
	BytesP99  int     `json:"bytes_p99"`
	BytesMax  int     `json:"bytes_max"`
	// Nanoseconds per tick to encode and to decode one client's view: the
	// median over the runs of the total time over the timed ticks, divided
	// by their number. Decoding includes rebuilding the view (or the naive
	// records).
	EncodeNs float64 `json:"encode_ns"`
	DecodeNs float64 `json:"decode_ns"`
	// Heap allocations per tick (encode + decode), and each side: the median
	// over the runs of runtime.MemStats.Mallocs counted over the timed ticks.
	Allocs       float64 `json:"allocs"`
	AllocsEncode float64 `json:"allocs_encode"`
	AllocsDecode float64 `json:"allocs_decode"`
	// VsFlatBuffers and VsNaive are BytesMean over the flatbuffers and the
	// naive rows' BytesMean of the same scenario (0 when that row is absent).
	VsFlatBuffers float64 `json:"vs_flatbuffers,omitempty"`
	VsNaive       float64 `json:"vs_naive,omitempty"`
	// BaselineTicks is the age of the acknowledged baseline a delta format
	// encodes against; 0 for a format without a baseline.
	BaselineTicks int `json:"baseline_ticks"`
	Ticks         int `json:"ticks"`
	TimedTicks    int `json:"timed_ticks"`
	// Sizes are the byte counts of every measured tick, in tick order.
	Sizes []int `json:"-"`
}

// Run measures the formats of cfg on one scenario. It steps the scenario,
// builds the observer's view every tick, encodes it in every format,
// decodes it back and checks the result against what was sent, and times
// encoding and decoding. It fails on the first round trip that does not
// give back the sent tick. It is not safe to run two at once with timings
// that mean anything.
func Run(cfg Config) (*Scenario, []Result, error) {
	if cfg.Ticks < 1 || cfg.Runs < 1 {
		return nil, nil, fmt.Errorf("payload: need ticks >= 1 and runs >= 1, have %d and %d", cfg.Ticks, cfg.Runs)
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	src, err := newSource(cfg.Scenario, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	hz := src.sc.Hz
	formats, err := newFormats(cfg.Formats, src.wire, hz)
	if err != nil {
		return nil, nil, err
	}
	defer closeFormats(formats)

	// The history is the lagged baseline's age whatever the formats, so
	// that tick i is the same world frame in every run of a scenario.
	maxAge := lagTicks(hz)
	info := &Scenario{
		Name: cfg.Scenario, Hz: hz, Seed: cfg.Seed, Ticks: cfg.Ticks, Runs: cfg.Runs,
		Warm: src.obs.Warm, TileQ: src.center.Q, TileR: src.center.R, Interest: src.obs.InterestName,
		LagTicks: maxAge,
	}

	m := newMeter(formats, cfg.Runs, cfg.Ticks)
	windows := (cfg.Ticks + cfg.Window - 1) / cfg.Window
	stride := 1
	if cfg.Timed > 0 && cfg.Timed < cfg.Ticks {
		stride = max(1, windows*cfg.Window/cfg.Timed)
	}
	w := &window{frames: make([]tick, maxAge+cfg.Window)}
	for i := range maxAge {
		if err := src.next(&w.frames[i]); err != nil {
			return nil, nil, err
		}
	}
	runtime.GC()
	for wi, done := 0, 0; done < cfg.Ticks; wi++ {
		n := min(cfg.Window, cfg.Ticks-done)
		for k := maxAge; k < maxAge+n; k++ {
			if err := src.next(&w.frames[k]); err != nil {
				return nil, nil, err
			}
			info.Entities += float64(len(w.frames[k].View.Entities))
			info.Events += float64(len(w.frames[k].View.Events))
		}
		if err := m.measure(w, maxAge, maxAge+n, done, wi%stride == 0); err != nil {
			return nil, nil, fmt.Errorf("payload: %s: %w", cfg.Scenario, err)
		}
		// Keep the newest maxAge frames as the next window's baselines.
		for i := range maxAge {
			w.frames[i], w.frames[n+i] = w.frames[n+i], w.frames[i]
		}
		done += n
	}
	info.Timed = m.timed
	info.Entities /= float64(cfg.Ticks)
	info.Events /= float64(cfg.Ticks)
	return info, m.results(cfg.Scenario), nil
}

// meter holds the measurements of every format over a run.
type meter struct {
	formats []format
	bufs    [][][]byte // per format, per window slot: the encoded tick
	timed   int        // ticks timed
	sizes   [][]int    // per format, per tick
	encNs   [][]int64  // per format, per run: total over all ticks
	decNs   [][]int64
	encA    [][]uint64 // per format, per run: mallocs over all ticks
	decA    [][]uint64
	ms      runtime.MemStats
}

func newMeter(formats []format, runs, ticks int) *meter {
	m := &meter{formats: formats}
	for range formats {
		m.bufs = append(m.bufs, nil)
		m.sizes = append(m.sizes, make([]int, 0, ticks))
		m.encNs = append(m.encNs, make([]int64, runs))
		m.decNs = append(m.decNs, make([]int64, runs))
		m.encA = append(m.encA, make([]uint64, runs))
		m.decA = append(m.decA, make([]uint64, runs))
	}
	return m
}

// measure handles ticks [lo, hi) of w (tick number first for lo). First,
// untimed, every format encodes each tick, records its size, decodes it and
// checks it; then, if timed, each run times every format's encoding of all
// these ticks, then its decoding, formats interleaved within a run.
func (m *meter) measure(w *window, lo, hi, first int, timed bool) error {
	for fi, f := range m.formats {
		for len(m.bufs[fi]) < hi {
			m.bufs[fi] = append(m.bufs[fi], make([]byte, 0, 1024))
		}
		for k := lo; k < hi; k++ {
			out, err := f.encode(m.bufs[fi][k][:0], w, k)
			if err != nil {
				return fmt.Errorf("%s: tick %d: encode: %w", f.name(), first+k-lo, err)
			}
			m.bufs[fi][k] = out
			m.sizes[fi] = append(m.sizes[fi], len(out))
			if err := f.decode(out, w, k); err != nil {
				return fmt.Errorf("%s: tick %d: decode: %w", f.name(), first+k-lo, err)
			}
			if err := f.check(w, k); err != nil {
				return fmt.Errorf("tick %d: %w", first+k-lo, err)
			}
		}
	}
	if !timed {
		return nil
	}
	m.timed += hi - lo
	for r := range m.encNs[0] {
		for fi, f := range m.formats {
			bufs := m.bufs[fi]
			var err error
			a0 := m.mallocs()
			t0 := time.Now()
			for k := lo; k < hi && err == nil; k++ {
				bufs[k], err = f.encode(bufs[k][:0], w, k)
			}
			t1 := time.Now()
			a1 := m.mallocs()
			t2 := time.Now()
			for k := lo; k < hi && err == nil; k++ {
				err = f.decode(bufs[k], w, k)
			}
			t3 := time.Now()
			a2 := m.mallocs()
			if err != nil {
				return fmt.Errorf("%s: timed run: %w", f.name(), err)
			}
			m.encNs[fi][r] += t1.Sub(t0).Nanoseconds()
			m.decNs[fi][r] += t3.Sub(t2).Nanoseconds()
			m.encA[fi][r] += a1 - a0
			m.decA[fi][r] += a2 - a1
		}
	}
	return nil
}

func (m *meter) mallocs() uint64 {
	runtime.ReadMemStats(&m.ms)
	return m.ms.Mallocs
}

// results computes every format's figures and the ratios between them.
func (m *meter) results(scenario string) []Result {
	out := make([]Result, len(m.formats))
	for fi, f := range m.formats {
		sizes := m.sizes[fi]
		n := len(sizes)
		sorted := slices.Clone(sizes)
		slices.Sort(sorted)
		var sum float64
		for _, s := range sizes {
			sum += float64(s)
		}
		enc, dec := median(m.encA[fi]), median(m.decA[fi])
		t := float64(m.timed)
		out[fi] = Result{
			Scenario: scenario, Format: f.name(),
			BytesMean: sum / float64(n), BytesP50: sorted[n/2], BytesP99: sorted[n*99/100], BytesMax: sorted[n-1],
			EncodeNs: median(m.encNs[fi]) / t, DecodeNs: median(m.decNs[fi]) / t,
			AllocsEncode: enc / t, AllocsDecode: dec / t, Allocs: (enc + dec) / t,
			BaselineTicks: baselineAge(f), Ticks: n, TimedTicks: m.timed, Sizes: sizes,
		}
	}
	var fb, naive float64
	for _, r := range out {
		switch r.Format {
		case FormatFlatBuffers:
			fb = r.BytesMean
		case FormatNaive:
			naive = r.BytesMean
		}
	}
	for i := range out {
		if fb > 0 {
			out[i].VsFlatBuffers = out[i].BytesMean / fb
		}
		if naive > 0 {
			out[i].VsNaive = out[i].BytesMean / naive
		}
	}
	return out
}

// median returns the median of xs (the mean of the middle two for an even
// count) as a float64.
func median[T int64 | uint64](xs []T) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// ScenarioNames returns the scenarios Run accepts, in report order.
func ScenarioNames() []string { return fleet.ScenarioNames() }
