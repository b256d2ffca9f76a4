// Command gen writes the Go side of the Go↔JavaScript differential test
// (browser-bridge/js/test/differential.test.js): a seeded stream of random
// views of the demo game's schema, encoded as full and delta snapshots by
// codec, with the view the Go decoder rebuilds from each.
//
//	go run ./browser-bridge/js/testdata/gen -seed 1 -n 2000 -out /tmp/stream.json
//
// The JSON holds the schema's description (exactly the bytes a server
// serves) and, per snapshot in stream order: the payload (base64), the
// index of its baseline in the stream (-1 for a full snapshot; never more
// than 31 back, so that a snapshot head can name it), the checksum, and the
// decoded view as entities [id, kind, lod, value of each field of the kind]
// and events [kind, value of each field].
package main

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

type snapshot struct {
	Payload  string    `json:"payload"`
	Baseline int       `json:"baseline"`
	Checksum uint32    `json:"checksum"`
	Entities [][]int64 `json:"entities"`
	Events   [][]int64 `json:"events"`
}

type output struct {
	Seed       uint64     `json:"seed"`
	Schema     string     `json:"schema"` // codec.Schema.DescJSON, as a string
	SchemaHash string     `json:"schema_hash"`
	Snapshots  []snapshot `json:"snapshots"`
}

func main() {
	seed := flag.Uint64("seed", 1, "random seed")
	n := flag.Int("n", 2000, "number of snapshots")
	out := flag.String("out", "", "output file (default: standard output)")
	flag.Parse()
	if err := run(*seed, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(seed uint64, n int, path string) error {
	w, err := demowire.New(fleet.DefaultConfig())
	if err != nil {
		return err
	}
	s := w.Schema
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x666c6f74)), s: s}
	enc, dec := codec.NewCodec(s), codec.NewCodec(s)
	res := output{Seed: seed, Schema: string(s.DescJSON()), SchemaHash: codec.FormatSchemaHash(s.Hash())}
	sent := make([]*codec.View, 0, n)    // what the sender encoded
	decoded := make([]*codec.View, 0, n) // what the Go receiver rebuilt
	buf := make([]byte, 0, 1<<20)
	for i := range n {
		v := g.next()
		base := -1
		if i > 0 && g.rng.IntN(10) != 0 {
			base = i - 1 - g.rng.IntN(min(i, 4)) // mostly the previous one
			if g.rng.IntN(8) == 0 {
				base = i - 1 - g.rng.IntN(min(i, 31))
			}
		}
		var bs, bd *codec.View
		if base >= 0 {
			bs, bd = sent[base], decoded[base]
		}
		p, err := enc.AppendDelta(buf[:0], bs, v)
		if err != nil {
			return fmt.Errorf("snapshot %d: encode: %w", i, err)
		}
		got := &codec.View{}
		if err := dec.Decode(p, bd, got); err != nil {
			return fmt.Errorf("snapshot %d: decode: %w", i, err)
		}
		if !s.Equal(got, v) {
			return fmt.Errorf("snapshot %d: decoded view differs from the encoded one", i)
		}
		sent, decoded = append(sent, v), append(decoded, got)
		res.Snapshots = append(res.Snapshots, snapshot{
			Payload:  base64.StdEncoding.EncodeToString(p),
			Baseline: base,
			Checksum: s.Checksum(got),
			Entities: entitiesOf(s, got),
			Events:   eventsOf(s, got),
		})
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if path == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func entitiesOf(s *codec.Schema, v *codec.View) [][]int64 {
	out := make([][]int64, 0, len(v.Entities))
	for _, e := range v.Entities {
		row := []int64{int64(e.ID), int64(e.Kind), int64(e.LOD)}
		for f := range s.Kind(e.Kind).Fields {
			row = append(row, int64(e.V[f]))
		}
		out = append(out, row)
	}
	return out
}

func eventsOf(s *codec.Schema, v *codec.View) [][]int64 {
	out := make([][]int64, 0, len(v.Events))
	for _, ev := range v.Events {
		row := []int64{int64(ev.Kind)}
		for f := range s.EventKind(ev.Kind).Fields {
			row = append(row, int64(ev.V[f]))
		}
		out = append(out, row)
	}
	return out
}

// gen evolves a random world: entities with every field's value kept (the
// view carries those of the entity's tier), moving a little each step.
type gen struct {
	rng    *rand.Rand
	s      *codec.Schema
	world  []codec.Entity // by increasing id; V holds every field
	nextID uint32
	seq    int32 // combat event sequence
}

// next steps the world and returns the view of it.
func (g *gen) next() *codec.View {
	r := g.rng
	// Remove a few entities, change the rest, add a few.
	kept := g.world[:0]
	for _, e := range g.world {
		if r.IntN(40) == 0 {
			continue
		}
		g.step(&e)
		kept = append(kept, e)
	}
	g.world = kept
	target := 20 + r.IntN(100)
	if r.IntN(50) == 0 {
		target = r.IntN(3) // now and then an (almost) empty view
	}
	for len(g.world) < target && r.IntN(6) != 0 {
		g.fresh()
	}
	if r.IntN(200) == 0 && g.nextID < 1<<32-10 {
		g.nextID = 1<<32 - 10 // ids near the top of the 32-bit range
	}
	v := &codec.View{}
	for _, e := range g.world {
		v.Entities = append(v.Entities, g.carried(e))
	}
	for range r.IntN(7) * r.IntN(2) {
		v.Events = append(v.Events, g.event())
	}
	return v
}

// fresh adds a new entity to the world: its id mostly just above the
// others, with gaps of every id code row, and once the ids reach the top of
// the 32-bit range, anywhere free.
func (g *gen) fresh() {
	r := g.rng
	gap := uint64(1)
	switch r.IntN(10) {
	case 0:
		gap += uint64(r.IntN(300))
	case 1:
		gap += uint64(r.IntN(100000))
	}
	var id uint32
	if uint64(g.nextID)+gap-1 <= 1<<32-1 {
		id = g.nextID + uint32(gap-1)
		g.nextID = id + 1
		if id == 1<<32-1 {
			g.nextID = id // full to the top: the next ids go anywhere free
		}
	} else {
		id = r.Uint32()
	}
	i, found := slices.BinarySearchFunc(g.world, id, func(e codec.Entity, id uint32) int { return cmp.Compare(e.ID, id) })
	if found {
		return
	}
	e := codec.Entity{ID: id, Kind: uint8(r.IntN(g.s.NumKinds())), LOD: uint8(r.IntN(codec.NumLODs))}
	for f, fd := range g.s.Kind(e.Kind).Fields {
		e.V[f] = g.value(fd)
	}
	g.world = slices.Insert(g.world, i, e)
}

// step changes an entity as a game would: fields with a delta width drift
// (now and then they jump), others change rarely; the tier sometimes moves.
func (g *gen) step(e *codec.Entity) {
	r := g.rng
	if r.IntN(25) == 0 {
		e.LOD = uint8(r.IntN(codec.NumLODs))
	}
	if r.IntN(4) == 0 {
		return // unchanged this step
	}
	for f, fd := range g.s.Kind(e.Kind).Fields {
		e.V[f] = g.change(e.V[f], fd)
	}
}

// change returns the next value of a field whose value is v.
func (g *gen) change(v int32, fd codec.Field) int32 {
	r := g.rng
	switch {
	case fd.Delta > 0 && r.IntN(10) != 0:
		reach := int64(1) << fd.Delta // up to twice the small form's reach
		x := int64(v) + r.Int64N(reach) - reach/2
		if fd.Wrap {
			m := int64(fd.Max) - int64(fd.Min) + 1
			return int32(((x-int64(fd.Min))%m+m)%m + int64(fd.Min))
		}
		return int32(max(int64(fd.Min), min(int64(fd.Max), x)))
	case r.IntN(6) == 0:
		return g.value(fd)
	}
	return v
}

// value returns a random value of a field, its ends now and then.
func (g *gen) value(fd codec.Field) int32 {
	r := g.rng
	switch r.IntN(12) {
	case 0:
		return fd.Min
	case 1:
		return fd.Max
	}
	return int32(int64(fd.Min) + r.Int64N(int64(fd.Max)-int64(fd.Min)+1))
}

// carried returns e as a view carries it: the fields of its tier, the
// others zero (as demowire's builder leaves them).
func (g *gen) carried(e codec.Entity) codec.Entity {
	mask := g.s.Kind(e.Kind).LOD[e.LOD]
	for f := range codec.MaxFields {
		if !mask.Has(f) {
			e.V[f] = 0
		}
	}
	return e
}

// event returns a combat event: sequence numbers that mostly increase by
// one, entity ids from the world, other fields random in range.
func (g *gen) event() codec.Event {
	r := g.rng
	k := g.s.EventKind(demowire.EventCombat)
	ev := codec.Event{Kind: demowire.EventCombat}
	for f, fd := range k.Fields {
		ev.V[f] = g.value(fd)
	}
	g.seq = (g.seq + 1 + int32(r.IntN(2))) & (1<<31 - 1)
	ev.V[demowire.EvSeq] = g.seq
	if len(g.world) > 0 {
		for _, f := range []int{demowire.EvSource, demowire.EvTarget} {
			id := g.world[r.IntN(len(g.world))].ID
			ev.V[f] = int32(min(id, demowire.MaxEntityID))
		}
	}
	return ev
}
