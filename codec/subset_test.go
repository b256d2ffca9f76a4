package codec

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// subsetByHand is what AppendSubset promises to encode: base with the
// marked entities of cur, the others of cur as base holds them (or
// absent), the entities cur lacks removed.
func subsetByHand(base, cur *View, pick []bool, withEvents bool) *View {
	out := &View{}
	var old []Entity
	if base != nil {
		old = base.Entities
	}
	for i, e := range cur.Entities {
		j := -1
		for k := range old {
			if old[k].ID == e.ID {
				j = k
			}
		}
		switch {
		case pick[i]:
			out.Entities = append(out.Entities, e)
		case j >= 0:
			out.Entities = append(out.Entities, old[j])
		}
	}
	if withEvents {
		out.Events = append(out.Events, cur.Events...)
	}
	return out
}

// AppendSubset writes the bytes AppendDelta writes for the view it
// promises, and that view, over random views, baselines and marks.
func TestAppendSubsetIsAppendDeltaOfTheSubset(t *testing.T) {
	s := testSchema(t)
	rng := rand.New(rand.NewPCG(3, 4))
	sub, ref := NewCodec(s), NewCodec(s)
	sub.VerifyBaselines(true)
	for round := range 400 {
		var base *View
		if round%5 != 0 {
			base = randomView(rng, s, rng.IntN(200))
			if _, err := ref.AppendFull(make([]byte, 0, 1<<17), base); err != nil {
				t.Fatal(err)
			}
		}
		// cur shares some entities with base, changed or not, and has its
		// own.
		cur := &View{}
		if base != nil {
			for _, e := range base.Entities {
				if rng.IntN(4) == 0 {
					continue
				}
				if rng.IntN(3) == 0 {
					e.LOD = uint8(rng.IntN(NumLODs))
					randomEntity(rng, s, &e)
				}
				cur.Entities = append(cur.Entities, e)
			}
		}
		extra := randomView(rng, s, rng.IntN(100))
		cur.Entities = mergeByID(cur.Entities, extra.Entities)
		cur.Events = extra.Events
		pick := make([]bool, len(cur.Entities))
		for i := range pick {
			pick[i] = rng.IntN(3) == 0
		}
		withEvents := rng.IntN(2) == 0
		var out View
		got, err := sub.AppendSubset(make([]byte, 0, 1<<17), base, cur, pick, withEvents, &out)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want := subsetByHand(base, cur, pick, withEvents)
		if !s.Equal(&out, want) || len(out.Events) != len(want.Events) {
			t.Fatalf("round %d: the view built differs", round)
		}
		wantBytes, err := ref.AppendDelta(make([]byte, 0, 1<<17), base, want)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(wantBytes) {
			t.Fatalf("round %d: %d bytes, AppendDelta of the subset %d", round, len(got), len(wantBytes))
		}
		var dec View
		if err := ref.Decode(got, base, &dec); err != nil || !s.Equal(&dec, &out) {
			t.Fatalf("round %d: decode %v", round, err)
		}
	}
}

// mergeByID merges two id-sorted entity lists, keeping a's entity where
// both have the id.
func mergeByID(a, b []Entity) []Entity {
	var out []Entity
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].ID < b[j].ID):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].ID < a[i].ID:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func TestAppendSubsetRefusesBadInput(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(5, 6))
	cur := randomView(rng, s, 10)
	var out View
	if _, err := c.AppendSubset(nil, nil, cur, make([]bool, 9), false, &out); !errors.Is(err, ErrView) {
		t.Errorf("marks of the wrong length: %v", err)
	}
	if _, err := c.AppendSubset(nil, nil, cur, make([]bool, 10), false, cur); !errors.Is(err, ErrView) {
		t.Errorf("output aliasing cur: %v", err)
	}
	bad := &View{Entities: append([]Entity(nil), cur.Entities...)}
	bad.Entities[3].Kind = 9
	pick := make([]bool, 10)
	pick[3] = true
	if _, err := c.AppendSubset(make([]byte, 0, 4096), nil, bad, pick, false, &out); !errors.Is(err, ErrView) {
		t.Errorf("a picked entity of unknown kind: %v", err)
	}
}
