package codec

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// Golden vectors pin the wire format. Each vector is a pair of files in
// testdata/golden: NAME.bin holds the exact bytes, NAME.json says what they
// encode (the baseline, the view, the checksum) in terms of schema.json, so
// that a decoder in another language can be tested against the same files.

type goldenField struct {
	Name  string `json:"name"`
	Min   int32  `json:"min"`
	Max   int32  `json:"max"`
	Delta uint8  `json:"delta,omitempty"`
	Wrap  bool   `json:"wrap,omitempty"`
}

type goldenKind struct {
	Name   string        `json:"name"`
	Fields []goldenField `json:"fields"`
	LOD    [][]string    `json:"lod,omitempty"` // field names carried at each tier
}

type goldenSchema struct {
	Entities []goldenKind `json:"entities"`
	Events   []goldenKind `json:"events"`
}

type goldenEntity struct {
	ID     uint32           `json:"id"`
	Kind   string           `json:"kind"`
	LOD    uint8            `json:"lod"`
	Fields map[string]int32 `json:"fields"`
}

type goldenEvent struct {
	Kind   string           `json:"kind"`
	Fields map[string]int32 `json:"fields"`
}

type goldenView struct {
	Entities []goldenEntity `json:"entities"`
	Events   []goldenEvent  `json:"events"`
}

type goldenVector struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Base        *goldenView `json:"base"` // null: full snapshot
	View        goldenView  `json:"view"`
	Checksum    string      `json:"checksum"` // 8 hex digits, the 32-bit view checksum
	Bytes       int         `json:"bytes"`
	Hex         string      `json:"hex"` // the same bytes as NAME.bin, for reading
}

func describeSchema(s *Schema) goldenSchema {
	var g goldenSchema
	kinds := func(ks []kindInfo, event bool) []goldenKind {
		var out []goldenKind
		for _, k := range ks {
			gk := goldenKind{Name: k.Name}
			for _, f := range k.Fields {
				gk.Fields = append(gk.Fields, goldenField{f.Name, f.Min, f.Max, f.Delta, f.Wrap})
			}
			if !event {
				for t := range NumLODs {
					names := []string{}
					for _, f := range k.present[t][:k.count[t]] {
						names = append(names, k.Fields[f].Name)
					}
					gk.LOD = append(gk.LOD, names)
				}
			}
			out = append(out, gk)
		}
		return out
	}
	g.Entities = kinds(s.entities, false)
	g.Events = kinds(s.events, true)
	return g
}

func describeView(s *Schema, v *View) goldenView {
	g := goldenView{Entities: []goldenEntity{}, Events: []goldenEvent{}}
	for _, e := range v.Entities {
		k := &s.entities[e.Kind]
		ge := goldenEntity{ID: e.ID, Kind: k.Name, LOD: e.LOD, Fields: map[string]int32{}}
		for _, f := range k.present[e.LOD][:k.count[e.LOD]] {
			ge.Fields[k.Fields[f].Name] = e.V[f]
		}
		g.Entities = append(g.Entities, ge)
	}
	for _, ev := range v.Events {
		k := &s.events[ev.Kind]
		gv := goldenEvent{Kind: k.Name, Fields: map[string]int32{}}
		for f := range k.Fields {
			gv.Fields[k.Fields[f].Name] = ev.V[f]
		}
		g.Events = append(g.Events, gv)
	}
	return g
}

func buildView(t *testing.T, s *Schema, g *goldenView) *View {
	t.Helper()
	kindOf := func(ks []kindInfo, name string) (uint8, *kindInfo) {
		for i := range ks {
			if ks[i].Name == name {
				return uint8(i), &ks[i]
			}
		}
		t.Fatalf("unknown kind %q", name)
		return 0, nil
	}
	fieldOf := func(k *kindInfo, name string) int {
		for i := range k.Fields {
			if k.Fields[i].Name == name {
				return i
			}
		}
		t.Fatalf("kind %s has no field %q", k.Name, name)
		return 0
	}
	v := &View{}
	for _, ge := range g.Entities {
		kn, k := kindOf(s.entities, ge.Kind)
		e := Entity{ID: ge.ID, Kind: kn, LOD: ge.LOD}
		for name, x := range ge.Fields {
			e.V[fieldOf(k, name)] = x
		}
		v.Entities = append(v.Entities, e)
	}
	for _, gv := range g.Events {
		kn, k := kindOf(s.events, gv.Kind)
		ev := Event{Kind: kn}
		for name, x := range gv.Fields {
			ev.V[fieldOf(k, name)] = x
		}
		v.Events = append(v.Events, ev)
	}
	return v
}

// goldenCases builds the vectors from scratch; only -update uses it.
func goldenCases(s *Schema) []struct {
	name, desc string
	base, view *View
} {
	ship := func(id uint32, lod uint8, x, y, vx, vy, hd, hull, team, bx, by int32) Entity {
		return Entity{ID: id, Kind: 0, LOD: lod, V: [MaxFields]int32{x, y, vx, vy, hd, hull, team, bx, by}}
	}
	body := func(id uint32, lod uint8, x, y, z, rot int32) Entity {
		return Entity{ID: id, Kind: 1, LOD: lod, V: [MaxFields]int32{x, y, z, rot}}
	}
	hit := func(seq, src, dst, dmg int32) Event { return Event{V: [MaxFields]int32{seq, src, dst, dmg}} }
	clearAbsent := func(v *View, s *Schema) *View {
		for i := range v.Entities {
			e := &v.Entities[i]
			k := &s.entities[e.Kind]
			for f := range MaxFields {
				if !k.LOD[e.LOD].Has(f) {
					e.V[f] = 0
				}
			}
		}
		return v
	}
	small := clearAbsent(&View{Entities: []Entity{
		ship(1, LODFull, 1000, -2000, 12, -3, 1020, 900, 1, 0, 0),
		ship(2, LODMedium, -5000, 7000, 0, 0, 512, 1000, 2, 0, 0),
		body(7, LODFull, 100, 200, 5, 123456789),
		ship(300, LODBlip, 0, 0, 0, 0, 0, 0, 0, -300, 411),
		ship(100000, LODLow, 131071, -131072, 0, 0, 0, 0, 3, 0, 0),
	}}, s)
	moved := &View{}
	moved.CopyFrom(small)
	moved.Entities[0].V[0] += 12  // x: small delta
	moved.Entities[0].V[1] -= 3   // y: small delta
	moved.Entities[0].V[4] = 4    // heading 1020 -> 4 wraps: delta +8
	moved.Entities[0].V[5] = 400  // hull jump: whole value
	moved.Entities[2].V[3] = 9999 // rotation: no delta width, whole value
	reshuffled := &View{}
	reshuffled.CopyFrom(moved)
	reshuffled.Entities = append(reshuffled.Entities[:1], reshuffled.Entities[2:]...) // ship 2 gone
	reshuffled.Entities[2] = ship(300, LODLow, 0, 0, 0, 0, 0, 0, 2, 0, 0)             // blip becomes low detail
	reshuffled.Entities = append(reshuffled.Entities, ship(100001, LODFull, 5, 6, 7, 8, 9, 10, 1, 0, 0))
	clearAbsent(reshuffled, s)
	withEvents := &View{}
	withEvents.CopyFrom(moved)
	withEvents.Events = []Event{hit(41, 1, 7, 30), hit(42, 1, 7, 30), hit(43, 100000, 1, 255)}
	return []struct {
		name, desc string
		base, view *View
	}{
		{"full_empty", "full snapshot of an empty view", nil, &View{}},
		{"full_small", "full snapshot: ships at four tiers and a body", nil, small},
		{"delta_unchanged", "delta of full_small against itself", small, small},
		{"delta_moves", "small position deltas, heading wrap-around, whole-value jumps", small, moved},
		{"delta_add_remove_tier", "removal, tier change, addition with a large id gap", moved, reshuffled},
		{"delta_events", "events with sequence numbers delta-coded against the previous event", small, withEvents},
	}
}

func TestGoldenVectors(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeJSON(t, filepath.Join(dir, "schema.json"), describeSchema(s))
		for _, gc := range goldenCases(s) {
			buf, err := c.AppendDelta(make([]byte, 0, 4096), gc.base, gc.view)
			if err != nil {
				t.Fatalf("%s: %v", gc.name, err)
			}
			gv := goldenVector{Name: gc.name, Description: gc.desc, View: describeView(s, gc.view),
				Checksum: fmt.Sprintf("%08x", s.Checksum(gc.view)), Bytes: len(buf), Hex: hex.EncodeToString(buf)}
			if gc.base != nil {
				b := describeView(s, gc.base)
				gv.Base = &b
			}
			writeJSON(t, filepath.Join(dir, gc.name+".json"), gv)
			if err := os.WriteFile(filepath.Join(dir, gc.name+".bin"), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	var schemaJSON goldenSchema
	readJSON(t, filepath.Join(dir, "schema.json"), &schemaJSON)
	want := describeSchema(s)
	if a, b := mustJSON(t, schemaJSON), mustJSON(t, want); a != b {
		t.Fatalf("schema.json does not describe the test schema:\n%s\n%s", a, b)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.bin"))
	if len(files) < 6 {
		t.Fatalf("found %d golden vectors, want at least 6 (run go test ./codec -run Golden -update)", len(files))
	}
	for _, bin := range files {
		name := bin[:len(bin)-len(".bin")]
		raw, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		var gv goldenVector
		readJSON(t, name+".json", &gv)
		var base *View
		if gv.Base != nil {
			base = buildView(t, s, gv.Base)
		}
		view := buildView(t, s, &gv.View)
		if hex.EncodeToString(raw) != gv.Hex || len(raw) != gv.Bytes {
			t.Errorf("%s: .bin and .json disagree", gv.Name)
		}
		enc, err := c.AppendDelta(make([]byte, 0, 4096), base, view)
		if err != nil {
			t.Fatalf("%s: encode: %v", gv.Name, err)
		}
		if string(enc) != string(raw) {
			t.Errorf("%s: encoding changed:\n got %x\nwant %x", gv.Name, enc, raw)
		}
		var got View
		if err := c.Decode(raw, base, &got); err != nil {
			t.Fatalf("%s: decode: %v", gv.Name, err)
		}
		if !s.Equal(&got, view) {
			t.Errorf("%s: decoded view differs from the description", gv.Name)
		}
		if sum := fmt.Sprintf("%08x", s.Checksum(view)); sum != gv.Checksum {
			t.Errorf("%s: checksum %s, file says %s", gv.Name, sum, gv.Checksum)
		}
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
