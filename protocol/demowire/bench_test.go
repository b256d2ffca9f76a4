package demowire

import (
	"testing"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim/fleet"
)

// benchFrames are consecutive combat100 views of one observer (its tile and
// the 6 neighbours), each to be encoded against the one before.
func benchFrames(b *testing.B) (*Wire, []codec.View) {
	return frames(b, "combat100", 300, 65, TileInterest())
}

func reportPer100(b *testing.B, views []codec.View) {
	var n int
	for _, v := range views[1:] {
		n += len(v.Entities)
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	avg := float64(n) / float64(len(views)-1)
	b.ReportMetric(avg, "entities/view")
	b.ReportMetric(perOp*100/avg, "ns/100entities")
}

// BenchmarkCombat100EncodeDelta: one op encodes one tick's delta for one
// client (its tile and neighbours) against the one-tick-old baseline,
// checksum included.
func BenchmarkCombat100EncodeDelta(b *testing.B) {
	w, views := benchFrames(b)
	c := codec.NewCodec(w.Schema)
	buf := make([]byte, 0, 64<<10)
	var bytes int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := 1 + i%(len(views)-1)
		out, err := c.AppendDelta(buf, &views[k-1], &views[k])
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(out)
		i++
	}
	reportPer100(b, views)
	b.ReportMetric(float64(bytes)/float64(i), "bytes/tick")
}

// BenchmarkCombat100DecodeDelta: one op decodes one such delta into a
// reused view and verifies its checksum.
func BenchmarkCombat100DecodeDelta(b *testing.B) {
	w, views := benchFrames(b)
	c := codec.NewCodec(w.Schema)
	enc := make([][]byte, len(views))
	for k := 1; k < len(views); k++ {
		out, err := c.AppendDelta(make([]byte, 0, 64<<10), &views[k-1], &views[k])
		if err != nil {
			b.Fatal(err)
		}
		enc[k] = out
	}
	got := codec.View{Entities: make([]codec.Entity, 0, 4096), Events: make([]codec.Event, 0, 256)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := 1 + i%(len(views)-1)
		if err := c.Decode(enc[k], &views[k-1], &got); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportPer100(b, views)
}

// BenchmarkCombat100BuildView: one op builds one client's view from the world.
func BenchmarkCombat100BuildView(b *testing.B) {
	sc, w := benchWorld(b)
	center := busiestTile(sc.Game)
	v := codec.View{Entities: make([]codec.Entity, 0, 4096), Events: make([]codec.Event, 0, 256)}
	b.ReportAllocs()
	for b.Loop() {
		v.Reset()
		w.AppendView(&v, sc.Game, center, TileInterest())
	}
}

func benchWorld(b *testing.B) (*fleet.Scenario, *Wire) {
	sc, err := fleet.NewScenario("combat100", 7)
	if err != nil {
		b.Fatal(err)
	}
	for range 300 {
		if err := sc.Step(); err != nil {
			b.Fatal(err)
		}
	}
	w, err := New(sc.Game.Config())
	if err != nil {
		b.Fatal(err)
	}
	return sc, w
}
