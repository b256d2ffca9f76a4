package codec

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// testSchema is a small schema in the shape of a real game's: a ship with
// positions and angles, a rigid body, and a hit event.
func testSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := NewSchema(SchemaConfig{
		Entities: []Kind{{
			Name: "ship",
			Fields: []Field{
				{Name: "x", Min: -131072, Max: 131071, Delta: 8},
				{Name: "y", Min: -131072, Max: 131071, Delta: 8},
				{Name: "vx", Min: -256, Max: 255, Delta: 4},
				{Name: "vy", Min: -256, Max: 255, Delta: 4},
				{Name: "heading", Min: 0, Max: 1023, Delta: 6, Wrap: true},
				{Name: "hull", Min: 0, Max: 1000, Delta: 6},
				{Name: "team", Min: 0, Max: 3},
				{Name: "bx", Min: -512, Max: 511},
				{Name: "by", Min: -512, Max: 511},
			},
			LOD: [NumLODs]FieldMask{0b001111111, 0b001110011, 0b001000011, 0b111000000},
		}, {
			Name: "body",
			Fields: []Field{
				{Name: "x", Min: -4096, Max: 4095, Delta: 5},
				{Name: "y", Min: -4096, Max: 4095, Delta: 5},
				{Name: "z", Min: 0, Max: 1023, Delta: 5},
				{Name: "rot", Min: 0, Max: 1<<29 - 1},
			},
			LOD: [NumLODs]FieldMask{0b1111, 0b1111, 0b0111, 0b0011},
		}},
		Events: []Kind{{
			Name: "hit",
			Fields: []Field{
				{Name: "seq", Min: 0, Max: 1<<24 - 1, Delta: 3},
				{Name: "source", Min: 0, Max: 1<<20 - 1},
				{Name: "target", Min: 0, Max: 1<<20 - 1},
				{Name: "damage", Min: 0, Max: 255},
			},
		}},
		MaxEntities: 4096,
		MaxEvents:   64,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randomEntity fills the fields e carries with in-range values.
func randomEntity(rng *rand.Rand, s *Schema, e *Entity) {
	k := &s.entities[e.Kind]
	e.V = [MaxFields]int32{}
	for _, f := range k.present[e.LOD][:k.count[e.LOD]] {
		fd := &k.Fields[f]
		e.V[f] = int32(int64(fd.Min) + rng.Int64N(int64(fd.Max)-int64(fd.Min)+1))
	}
}

func randomView(rng *rand.Rand, s *Schema, n int) *View {
	v := &View{}
	id := uint32(rng.IntN(5))
	for range n {
		id += 1 + uint32(rng.IntN(40))
		if rng.IntN(50) == 0 {
			id += uint32(rng.IntN(100000))
		}
		e := Entity{ID: id, Kind: uint8(rng.IntN(2)), LOD: uint8(rng.IntN(NumLODs))}
		randomEntity(rng, s, &e)
		v.Entities = append(v.Entities, e)
	}
	seq := int32(rng.IntN(1000))
	for range rng.IntN(6) {
		seq += 1 + int32(rng.IntN(3))
		v.Events = append(v.Events, Event{V: [MaxFields]int32{seq, int32(rng.IntN(1 << 20)), int32(rng.IntN(1 << 20)), int32(rng.IntN(256))}})
	}
	return v
}

// mutate derives the next tick's view from v: moves, field changes, tier
// changes, removals and additions, like a world seen by a moving observer.
func mutate(rng *rand.Rand, s *Schema, v *View) *View {
	out := &View{}
	for _, e := range v.Entities {
		switch r := rng.IntN(100); {
		case r < 5: // gone
			continue
		case r < 10: // tier change
			e.LOD = uint8(rng.IntN(NumLODs))
			randomEntity(rng, s, &e)
		case r < 40: // small moves
			k := &s.entities[e.Kind]
			for _, f := range k.present[e.LOD][:k.count[e.LOD]] {
				fd := &k.Fields[f]
				if rng.IntN(2) == 0 {
					continue
				}
				x := int64(e.V[f]) + int64(rng.IntN(41)-20)
				if rng.IntN(10) == 0 {
					x = int64(fd.Min) + rng.Int64N(int64(fd.Max)-int64(fd.Min)+1)
				}
				if fd.Wrap {
					m := int64(fd.Max) - int64(fd.Min) + 1
					x = ((x-int64(fd.Min))%m+m)%m + int64(fd.Min)
				}
				e.V[f] = int32(max(int64(fd.Min), min(int64(fd.Max), x)))
			}
		}
		out.Entities = append(out.Entities, e)
	}
	// Additions between and after existing ids.
	for range rng.IntN(5) {
		id := uint32(rng.IntN(1 << 16))
		if out.Find(id) >= 0 {
			continue
		}
		e := Entity{ID: id, Kind: uint8(rng.IntN(2)), LOD: uint8(rng.IntN(NumLODs))}
		randomEntity(rng, s, &e)
		i := 0
		for i < len(out.Entities) && out.Entities[i].ID < id {
			i++
		}
		out.Entities = append(out.Entities, Entity{})
		copy(out.Entities[i+1:], out.Entities[i:])
		out.Entities[i] = e
	}
	if len(v.Events) > 0 && rng.IntN(2) == 0 {
		out.Events = append(out.Events, v.Events[len(v.Events)-1])
		out.Events[0].V[0]++
	}
	return out
}

func roundTrip(t *testing.T, c *Codec, base, v *View) []byte {
	t.Helper()
	bits, err := c.MeasureDelta(base, v)
	if err != nil {
		t.Fatalf("measure: %v", err)
	}
	buf, err := c.AppendDelta(make([]byte, 0, (bits+7)/8), base, v)
	if err != nil {
		t.Fatalf("encode (measured %d bits): %v", bits, err)
	}
	if len(buf) != (bits+7)/8 {
		t.Fatalf("measured %d bits, wrote %d bytes", bits, len(buf))
	}
	if IsDelta(buf) != (base != nil) {
		t.Fatalf("IsDelta = %v with base %v", IsDelta(buf), base != nil)
	}
	var got View
	if err := c.Decode(buf, base, &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !c.schema.Equal(&got, v) {
		t.Fatalf("round trip changed the view:\n got %+v\nwant %+v", got.Entities, v.Entities)
	}
	for name, x := range map[string]*View{"encoder": v, "decoder": &got} {
		if !x.sumOK || x.sum != c.schema.entitySum(x) {
			t.Fatalf("%s recorded checksum %x (ok %v), from scratch %x", name, x.sum, x.sumOK, c.schema.entitySum(x))
		}
	}
	return buf
}

func TestFullSnapshotRoundTrip(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(3, 4))
	roundTrip(t, c, nil, &View{})
	for range 200 {
		roundTrip(t, c, nil, randomView(rng, s, rng.IntN(300)))
	}
}

func TestDeltaAgainstAckedBaseline(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50 {
		v := randomView(rng, s, rng.IntN(200))
		for range 20 {
			next := mutate(rng, s, v)
			delta := roundTrip(t, c, v, next)
			full := roundTrip(t, c, nil, next)
			if len(delta) > len(full)+8 {
				t.Fatalf("delta %d bytes, full %d", len(delta), len(full))
			}
			v = next
		}
	}
}

func TestUnchangedViewCostsAlmostNothing(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	v := randomView(rand.New(rand.NewPCG(7, 8)), s, 500)
	v.Events = nil
	buf := roundTrip(t, c, v, v)
	// mode bit, record count 0 (8-bit varint), event count 0 (8-bit
	// varint), 32-bit checksum: 49 bits.
	if len(buf) != 7 {
		t.Fatalf("unchanged 500-entity view: %d bytes, want 7", len(buf))
	}
}

func TestDeltaAgainstWrongBaselineIsDetected(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(9, 10))
	v := randomView(rng, s, 100)
	next := mutate(rng, s, v)
	buf, err := c.AppendDelta(make([]byte, 0, 4096), v, next)
	if err != nil {
		t.Fatal(err)
	}
	wrong := &View{}
	wrong.CopyFrom(v)
	// Same ids, one field of an entity the delta does not mention differs:
	// only the checksum can tell.
	flipped := false
	for i := range wrong.Entities {
		e := &wrong.Entities[i]
		if j := next.Find(e.ID); j >= 0 && next.Entities[j] == *e && e.Kind == 0 && e.LOD == LODFull {
			e.V[6] ^= 1 // team
			flipped = true
			break
		}
	}
	if !flipped {
		t.Fatal("no unchanged full-detail ship to corrupt; change the seed")
	}
	var got View
	if err := c.Decode(buf, wrong, &got); !errors.Is(err, ErrChecksum) {
		t.Fatalf("got %v, want ErrChecksum", err)
	}
	if err := c.Decode(buf, nil, &got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("delta without baseline: got %v, want ErrCorrupt", err)
	}
	if err := c.Decode(buf, v, v); !errors.Is(err, ErrView) {
		t.Fatalf("aliased output: got %v, want ErrView", err)
	}
}

func TestTruncatedSnapshotsFailCleanly(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(11, 12))
	v := randomView(rng, s, 60)
	next := mutate(rng, s, v)
	for _, base := range []*View{nil, v} {
		buf, err := c.AppendDelta(make([]byte, 0, 4096), base, next)
		if err != nil {
			t.Fatal(err)
		}
		var got View
		for n := range len(buf) {
			if err := c.Decode(buf[:n], base, &got); err == nil {
				t.Fatalf("decoded a %d-byte prefix of %d bytes", n, len(buf))
			}
		}
		if err := c.Decode(append(buf[:len(buf):len(buf)], 0), base, &got); !errors.Is(err, ErrTrailing) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
}

func TestEncoderRejectsInvalidViews(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	buf := make([]byte, 0, 1024)
	cases := map[string]*View{
		"ids out of order": {Entities: []Entity{{ID: 5}, {ID: 3}}},
		"duplicate ids":    {Entities: []Entity{{ID: 5}, {ID: 5}}},
		"unknown kind":     {Entities: []Entity{{ID: 1, Kind: 9}}},
		"unknown tier":     {Entities: []Entity{{ID: 1, LOD: 4}}},
		"unknown event":    {Events: []Event{{Kind: 3}}},
	}
	for name, v := range cases {
		if _, err := c.AppendFull(buf, v); !errors.Is(err, ErrView) {
			t.Errorf("%s: got %v, want ErrView", name, err)
		}
	}
	v := &View{Entities: []Entity{{ID: 1, V: [MaxFields]int32{0, 0, 0, 0, 0, 0, 7}}}} // team 7 > 3
	if _, err := c.AppendFull(buf, v); !errors.Is(err, ErrWriteRange) {
		t.Errorf("out-of-range field: got %v, want ErrWriteRange", err)
	}
	if _, err := c.AppendFull(make([]byte, 0, 2), randomView(rand.New(rand.NewPCG(1, 1)), s, 10)); !errors.Is(err, ErrOverflow) {
		t.Errorf("small buffer: got %v, want ErrOverflow", err)
	}
}

func TestSchemaValidation(t *testing.T) {
	f := Field{Name: "a", Min: 0, Max: 15}
	cases := map[string]SchemaConfig{
		"no kinds":        {},
		"no name":         {Entities: []Kind{{Fields: []Field{f}, LOD: [4]FieldMask{1}}}},
		"no fields":       {Entities: []Kind{{Name: "k", LOD: [4]FieldMask{1}}}},
		"min > max":       {Entities: []Kind{{Name: "k", Fields: []Field{{Name: "a", Min: 2, Max: 1}}, LOD: [4]FieldMask{1}}}},
		"duplicate field": {Entities: []Kind{{Name: "k", Fields: []Field{f, f}, LOD: [4]FieldMask{1}}}},
		"delta too wide":  {Entities: []Kind{{Name: "k", Fields: []Field{{Name: "a", Max: 15, Delta: 4}}, LOD: [4]FieldMask{1}}}},
		"empty full tier": {Entities: []Kind{{Name: "k", Fields: []Field{f}}}},
		"unknown field":   {Entities: []Kind{{Name: "k", Fields: []Field{f}, LOD: [4]FieldMask{1, 2}}}},
		"huge view bound": {Entities: []Kind{{Name: "k", Fields: []Field{f}, LOD: [4]FieldMask{1}}}, MaxEntities: 1 << 32},
	}
	for name, cfg := range cases {
		if _, err := NewSchema(cfg); !errors.Is(err, ErrSchema) {
			t.Errorf("%s: got %v, want ErrSchema", name, err)
		}
	}
}

func TestDecodeEnforcesViewBound(t *testing.T) {
	s := testSchema(t) // MaxEntities 4096
	small, err := NewSchema(SchemaConfig{Entities: []Kind{s.entities[0].Kind, s.entities[1].Kind}, Events: []Kind{s.events[0].Kind}, MaxEntities: 10})
	if err != nil {
		t.Fatal(err)
	}
	v := randomView(rand.New(rand.NewPCG(1, 2)), s, 11)
	buf, err := NewCodec(s).AppendFull(make([]byte, 0, 1024), v)
	if err != nil {
		t.Fatal(err)
	}
	var got View
	if err := NewCodec(small).Decode(buf, nil, &got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

func TestSnapshotCodecAllocatesNothing(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(13, 14))
	base := randomView(rng, s, 400)
	next := mutate(rng, s, base)
	buf := make([]byte, 0, 64<<10)
	out := &View{Entities: make([]Entity, 0, 1024), Events: make([]Event, 0, 64)}
	var enc []byte
	allocs := testing.AllocsPerRun(50, func() {
		var err error
		enc, err = c.AppendDelta(buf, base, next)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Decode(enc, base, out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per encode+decode", allocs)
	}
}

// TestChecksumFollowsDeltaChains decodes a chain of deltas, each against the
// previous decoded view, so the receiver's checksum is only ever updated from
// records: it must stay equal to the checksum computed from scratch.
func TestChecksumFollowsDeltaChains(t *testing.T) {
	s := testSchema(t)
	enc, dec := NewCodec(s), NewCodec(s)
	rng := rand.New(rand.NewPCG(15, 16))
	sent := randomView(rng, s, 150)
	buf, err := enc.AppendFull(make([]byte, 0, 1<<16), sent)
	if err != nil {
		t.Fatal(err)
	}
	held := &View{}
	if err := dec.Decode(buf, nil, held); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		next := mutate(rng, s, sent)
		buf, err := enc.AppendDelta(make([]byte, 0, 1<<16), sent, next)
		if err != nil {
			t.Fatal(err)
		}
		got := &View{}
		if err := dec.Decode(buf, held, got); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !got.sumOK || got.sum != s.entitySum(got) || uint32(s.eventHash(got)+got.sum) != s.Checksum(next) {
			t.Fatalf("step %d: incremental checksum drifted", i)
		}
		sent, held = next, got
	}
}

// TestStaleBaselineRecordIsCaught: a sender that changes a baseline in place
// after encoding it, without Invalidate, is stopped by VerifyBaselines.
func TestStaleBaselineRecordIsCaught(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	c.VerifyBaselines(true)
	rng := rand.New(rand.NewPCG(17, 18))
	base := randomView(rng, s, 50)
	if _, err := c.AppendFull(make([]byte, 0, 1<<16), base); err != nil {
		t.Fatal(err)
	}
	base.Entities[10].V[0] ^= 1 // in place: the recorded checksum is now stale
	next := &View{}
	next.CopyFrom(base)
	next.Entities[20].V[0] ^= 1
	next.Invalidate() // changed after CopyFrom took base's record
	if _, err := c.AppendDelta(make([]byte, 0, 1<<16), base, next); !errors.Is(err, ErrView) {
		t.Fatalf("got %v, want ErrView", err)
	}
	base.Invalidate() // the documented fix
	if _, err := c.AppendDelta(make([]byte, 0, 1<<16), base, next); err != nil {
		t.Fatal(err)
	}
	// The view encoded, changed in place after its record: caught too (an
	// encoder trusts a view's record, so it would send a stale checksum).
	next.Entities[30].V[0] ^= 1
	if _, err := c.AppendDelta(make([]byte, 0, 1<<16), base, next); !errors.Is(err, ErrView) {
		t.Fatalf("a view changed in place after its encoding: got %v, want ErrView", err)
	}
}

// TestSmallChangesOutOfRangeAreRefused: a value just outside its range next
// to an in-range baseline would fit the small-change form; the encoder must
// refuse it rather than send what the receiver will reject.
func TestSmallChangesOutOfRangeAreRefused(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	buf := make([]byte, 0, 1024)
	ship := func(hull, heading int32) *View {
		return &View{Entities: []Entity{{ID: 1, V: [MaxFields]int32{0, 0, 0, 0, heading, hull}}}}
	}
	base := ship(1000, 1023)
	for name, v := range map[string]*View{
		"hull 1001 (max 1000)":    ship(1001, 1023),
		"heading 1024 (max 1023)": ship(1000, 1024),
		"heading -1 (min 0)":      ship(1000, -1),
	} {
		if _, err := c.AppendDelta(buf, base, v); !errors.Is(err, ErrWriteRange) {
			t.Errorf("%s: got %v, want ErrWriteRange", name, err)
		}
	}
	events := &View{Events: []Event{{V: [MaxFields]int32{1<<24 - 1}}, {V: [MaxFields]int32{1 << 24}}}}
	if _, err := c.AppendFull(buf, events); !errors.Is(err, ErrWriteRange) {
		t.Errorf("event seq past max: got %v, want ErrWriteRange", err)
	}
}

// TestStaleReceiverRecordRecovers: a receiver that changed its held view in
// place (say, for interpolation) still accepts a delta that matches the view
// it actually holds.
func TestStaleReceiverRecordRecovers(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(19, 20))
	base := randomView(rng, s, 40)
	buf, err := c.AppendFull(make([]byte, 0, 1<<16), base)
	if err != nil {
		t.Fatal(err)
	}
	held := &View{}
	if err := c.Decode(buf, nil, held); err != nil {
		t.Fatal(err)
	}
	// Both sides change entity 0 in place, and only the sender invalidates.
	for _, v := range []*View{base, held} {
		v.Entities[0].LOD = LODFull
		v.Entities[0].Kind = 0
		v.Entities[0].V = [MaxFields]int32{1, 2, 3, 4, 5, 6, 1}
	}
	base.Invalidate()
	next := mutate(rng, s, base)
	buf, err = c.AppendDelta(make([]byte, 0, 1<<16), base, next)
	if err != nil {
		t.Fatal(err)
	}
	got := &View{}
	if err := c.Decode(buf, held, got); err != nil {
		t.Fatalf("stale receiver record: %v", err)
	}
	if !s.Equal(got, next) || got.sum != s.entitySum(got) {
		t.Fatal("decoded view or its checksum record is wrong")
	}
}

func TestDecodeRefusesSharedBacking(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	base := randomView(rand.New(rand.NewPCG(1, 2)), s, 5)
	buf, err := c.AppendDelta(make([]byte, 0, 1024), base, base)
	if err != nil {
		t.Fatal(err)
	}
	out := &View{Entities: base.Entities[:0]}
	if err := c.Decode(buf, base, out); !errors.Is(err, ErrView) {
		t.Fatalf("got %v, want ErrView", err)
	}
}

// A sealed view is only read by encoders: several goroutines, each with
// its own Codec, encode it against the same baseline at once (the race
// detector watches) and write the same bytes, which decode to it.
func TestSealedViewEncodesFromManyGoroutines(t *testing.T) {
	s := testSchema(t)
	rng := rand.New(rand.NewPCG(1, 2))
	base := randomView(rng, s, 300)
	cur := &View{}
	cur.CopyFrom(base)
	for i := range cur.Entities {
		if i%7 == 0 {
			randomEntity(rng, s, &cur.Entities[i])
		}
	}
	cur.Invalidate()
	if _, err := NewCodec(s).AppendFull(make([]byte, 0, 1<<16), base); err != nil { // records base's checksum
		t.Fatal(err)
	}
	s.Seal(cur)
	const n = 4
	outs := make([][]byte, n)
	done := make(chan error, n)
	for g := range n {
		go func() {
			out, err := NewCodec(s).AppendDelta(make([]byte, 0, 1<<16), base, cur)
			outs[g] = out
			done <- err
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for g := 1; g < n; g++ {
		if string(outs[g]) != string(outs[0]) {
			t.Fatalf("goroutine %d wrote other bytes", g)
		}
	}
	var got View
	if err := NewCodec(s).Decode(outs[0], base, &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !s.Equal(&got, cur) {
		t.Fatal("decoded view differs")
	}
}
