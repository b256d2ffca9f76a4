package codec

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// smallSchemaConfig is the fixed schema whose canonical bytes and hash are
// pinned by TestSchemaHashGolden. Each call returns a fresh copy.
func smallSchemaConfig() SchemaConfig {
	return SchemaConfig{
		Entities: []Kind{{
			Name: "ship",
			Fields: []Field{
				{Name: "x", Min: -512, Max: 511, Delta: 4},
				{Name: "hd", Min: 0, Max: 255, Delta: 3, Wrap: true},
			},
			LOD: [NumLODs]FieldMask{0b11, 0b01, 0b01, 0},
		}},
		Events: []Kind{{
			Name:   "hit",
			Fields: []Field{{Name: "dmg", Min: 0, Max: 100}},
		}},
		MaxEntities: 256,
		MaxEvents:   16,
	}
}

// hashTestConfig is a schema with two kinds of each sort, so that kind order
// can change. Each call returns a fresh copy.
func hashTestConfig() SchemaConfig {
	return SchemaConfig{
		Entities: []Kind{{
			Name: "ship",
			Fields: []Field{
				{Name: "x", Min: -4096, Max: 4095, Delta: 6},
				{Name: "y", Min: -4096, Max: 4095, Delta: 6},
				{Name: "heading", Min: 0, Max: 1023, Delta: 5, Wrap: true},
			},
			LOD: [NumLODs]FieldMask{0b111, 0b011, 0b011, 0b001},
		}, {
			Name: "rock",
			Fields: []Field{
				{Name: "x", Min: -4096, Max: 4095, Delta: 6},
				{Name: "y", Min: -4096, Max: 4095, Delta: 6},
				{Name: "heading", Min: 0, Max: 1023, Delta: 5, Wrap: true},
			},
			LOD: [NumLODs]FieldMask{0b111, 0b011, 0b011, 0b001},
		}},
		Events: []Kind{{
			Name:   "hit",
			Fields: []Field{{Name: "target", Min: 0, Max: 1<<16 - 1}, {Name: "damage", Min: 0, Max: 255}},
		}, {
			Name:   "boom",
			Fields: []Field{{Name: "target", Min: 0, Max: 1<<16 - 1}, {Name: "damage", Min: 0, Max: 255}},
		}},
	}
}

func mustSchema(t testing.TB, cfg SchemaConfig) *Schema {
	t.Helper()
	s, err := NewSchema(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaHashStable(t *testing.T) {
	a, b := mustSchema(t, hashTestConfig()), mustSchema(t, hashTestConfig())
	if a.Hash() != b.Hash() {
		t.Fatalf("two builds of one schema hash to %x and %x", a.Hash(), b.Hash())
	}
	if string(a.DescJSON()) != string(b.DescJSON()) {
		t.Fatalf("two builds of one schema describe differently:\n%s\n%s", a.DescJSON(), b.DescJSON())
	}
	if a.Hash() != a.computeHash() {
		t.Fatal("Hash is not the hash of the canonical bytes")
	}
}

// TestSchemaHashChanges changes one thing that alters the wire (or what a
// decoder accepts, or a name) at a time: every variant must hash differently
// from the base and from every other variant.
func TestSchemaHashChanges(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *SchemaConfig)
	}{
		{"base", func(*SchemaConfig) {}},
		{"field max", func(c *SchemaConfig) { c.Entities[0].Fields[1].Max = 4094 }},
		{"field min", func(c *SchemaConfig) { c.Entities[0].Fields[1].Min = -4095 }},
		{"range shifted, same width", func(c *SchemaConfig) { c.Entities[0].Fields[1].Min, c.Entities[0].Fields[1].Max = -4095, 4096 }},
		{"event field range", func(c *SchemaConfig) { c.Events[1].Fields[1].Max = 254 }},
		{"delta width", func(c *SchemaConfig) { c.Entities[1].Fields[0].Delta = 7 }},
		{"delta off", func(c *SchemaConfig) { c.Entities[1].Fields[0].Delta = 0 }},
		{"event delta width", func(c *SchemaConfig) { c.Events[0].Fields[0].Delta = 2 }},
		{"wrap flag", func(c *SchemaConfig) { c.Entities[0].Fields[2].Wrap = false }},
		{"wrap on", func(c *SchemaConfig) { c.Entities[0].Fields[0].Wrap = true }},
		{"lod mask", func(c *SchemaConfig) { c.Entities[0].LOD[LODBlip] = 0b010 }},
		{"lod mask empty", func(c *SchemaConfig) { c.Entities[1].LOD[LODBlip] = 0 }},
		{"lod masks swapped", func(c *SchemaConfig) {
			c.Entities[0].LOD[LODMedium], c.Entities[0].LOD[LODBlip] = c.Entities[0].LOD[LODBlip], c.Entities[0].LOD[LODMedium]
		}},
		{"entity kind order", func(c *SchemaConfig) { c.Entities[0], c.Entities[1] = c.Entities[1], c.Entities[0] }},
		{"event kind order", func(c *SchemaConfig) { c.Events[0], c.Events[1] = c.Events[1], c.Events[0] }},
		{"field order", func(c *SchemaConfig) {
			f := c.Entities[0].Fields
			f[1], f[2] = f[2], f[1]
		}},
		{"field names swapped", func(c *SchemaConfig) {
			f := c.Entities[0].Fields
			f[0].Name, f[1].Name = f[1].Name, f[0].Name
		}},
		{"kind renamed", func(c *SchemaConfig) { c.Entities[1].Name = "asteroid" }},
		{"field added", func(c *SchemaConfig) {
			c.Entities[1].Fields = append(c.Entities[1].Fields, Field{Name: "hp", Min: 0, Max: 7})
		}},
		{"entity kind dropped", func(c *SchemaConfig) { c.Entities = c.Entities[:1] }},
		{"event kind dropped", func(c *SchemaConfig) { c.Events = c.Events[:1] }},
		{"no events", func(c *SchemaConfig) { c.Events = nil }},
		{"max entities", func(c *SchemaConfig) { c.MaxEntities = 1000 }},
		{"max events", func(c *SchemaConfig) { c.MaxEvents = 1000 }},
	}
	seen := map[uint64]string{}
	for _, tc := range cases {
		cfg := hashTestConfig()
		tc.change(&cfg)
		h := mustSchema(t, cfg).Hash()
		if prev, ok := seen[h]; ok {
			t.Errorf("%q and %q both hash to %016x", tc.name, prev, h)
		}
		seen[h] = tc.name
	}
	// Defaults resolve before hashing: an explicit default is the same schema.
	cfg := hashTestConfig()
	cfg.MaxEntities, cfg.MaxEvents = DefaultMaxEntities, DefaultMaxEvents
	if mustSchema(t, cfg).Hash() != mustSchema(t, hashTestConfig()).Hash() {
		t.Error("explicit default view bounds change the hash")
	}
}

// TestSchemaHashGolden pins the canonical bytes and the hash of a small fixed
// schema, and the hash of the test schema of testdata/golden/schema.json
// (STANDARD.md 2.1): a change to either is a change to the format.
func TestSchemaHashGolden(t *testing.T) {
	s := mustSchema(t, smallSchemaConfig())
	const wantBytes = "" +
		"01000000" + "00010000" + "10000000" + // version 1, 256 entities, 16 events
		"01" + "01" + // one entity kind, one event kind
		"04000000" + "73686970" + "02" + // "ship", 2 fields
		"01000000" + "78" + "00feffff" + "ff010000" + "04" + "00" + // x -512..511 delta 4
		"02000000" + "6864" + "00000000" + "ff000000" + "03" + "01" + // hd 0..255 delta 3 wrap
		"0300" + "0100" + "0100" + "0000" + // tier masks
		"03000000" + "686974" + "01" + // "hit", 1 field
		"03000000" + "646d67" + "00000000" + "64000000" + "00" + "00" // dmg 0..100
	if got := hex.EncodeToString(s.appendCanonical(nil)); got != wantBytes {
		t.Errorf("canonical bytes changed:\n got %s\nwant %s", got, wantBytes)
	}
	const wantHash = "5c10944666165a1f"
	if got := FormatSchemaHash(s.Hash()); got != wantHash {
		t.Errorf("small schema hash %s, want %s", got, wantHash)
	}
	const wantJSON = `{"version":1,"hash":"` + wantHash + `","max_entities":256,"max_events":16,` +
		`"entities":[{"name":"ship","fields":[` +
		`{"name":"x","min":-512,"max":511,"width":10,"delta":4,"wrap":false},` +
		`{"name":"hd","min":0,"max":255,"width":8,"delta":3,"wrap":true}],` +
		`"lod":[["x","hd"],["x"],["x"],[]]}],` +
		`"events":[{"name":"hit","fields":[{"name":"dmg","min":0,"max":100,"width":7,"delta":0,"wrap":false}]}]}`
	if got := string(s.DescJSON()); got != wantJSON {
		t.Errorf("description changed:\n got %s\nwant %s", got, wantJSON)
	}
	const wantTestSchemaHash = "f128b767ceb38a9d"
	if got := FormatSchemaHash(testSchema(t).Hash()); got != wantTestSchemaHash {
		t.Errorf("test schema hash %s, want %s", got, wantTestSchemaHash)
	}
}

// TestSchemaDescRoundTrip serves a schema as JSON, builds a client schema from
// it, and checks that both hash alike and encode views to the same bytes.
func TestSchemaDescRoundTrip(t *testing.T) {
	for _, indent := range []bool{false, true} {
		server := testSchema(t)
		var data []byte
		var err error
		if indent {
			data, err = json.MarshalIndent(server.Describe(), "", "  ")
		} else {
			data, err = json.Marshal(server.Describe())
		}
		if err != nil {
			t.Fatal(err)
		}
		client, err := ParseSchemaDesc(data)
		if err != nil {
			t.Fatal(err)
		}
		if client.Hash() != server.Hash() {
			t.Fatalf("hash %x after the round trip, %x before", client.Hash(), server.Hash())
		}
		if a, b := client.DescJSON(), server.DescJSON(); string(a) != string(b) {
			t.Fatalf("description changed in the round trip:\n%s\n%s", a, b)
		}
		if !indent && string(data) != string(server.DescJSON()) {
			t.Fatal("DescJSON is not json.Marshal of Describe")
		}
		cs, cc := NewCodec(server), NewCodec(client)
		rng := rand.New(rand.NewPCG(7, 8))
		base := randomView(rng, server, 60)
		next := mutate(rng, server, base)
		for _, pair := range [][2]*View{{nil, base}, {base, next}, {nil, next}} {
			b1, err := cs.AppendDelta(make([]byte, 0, 1<<14), copyView(pair[0]), copyView(pair[1]))
			if err != nil {
				t.Fatal(err)
			}
			b2, err := cc.AppendDelta(make([]byte, 0, 1<<14), copyView(pair[0]), copyView(pair[1]))
			if err != nil {
				t.Fatal(err)
			}
			if string(b1) != string(b2) {
				t.Fatalf("encodings differ:\nserver %x\nclient %x", b1, b2)
			}
			var got View
			if err := cc.Decode(b1, copyView(pair[0]), &got); err != nil {
				t.Fatalf("client decodes the server's snapshot: %v", err)
			}
			if !client.Equal(&got, pair[1]) {
				t.Fatal("client decoded a different view")
			}
		}
	}
}

func copyView(v *View) *View {
	if v == nil {
		return nil
	}
	c := &View{}
	c.CopyFrom(v)
	c.Invalidate()
	return c
}

// TestSchemaDescDescribe checks the description's shape for the test schema:
// kinds in order, widths, and tier lists by name in field order.
func TestSchemaDescDescribe(t *testing.T) {
	d := testSchema(t).Describe()
	if d.Version != SchemaFormatVersion || d.MaxEntities != 4096 || d.MaxEvents != 64 {
		t.Fatalf("header %+v", d)
	}
	if len(d.Entities) != 2 || d.Entities[0].Name != "ship" || d.Entities[1].Name != "body" ||
		len(d.Events) != 1 || d.Events[0].Name != "hit" {
		t.Fatalf("kinds %+v", d)
	}
	if f := d.Entities[0].Fields[4]; f != (FieldDesc{Name: "heading", Min: 0, Max: 1023, Width: 10, Delta: 6, Wrap: true}) {
		t.Errorf("ship.heading described as %+v", f)
	}
	if got := strings.Join(d.Entities[0].LOD[LODBlip], ","); got != "team,bx,by" {
		t.Errorf("ship blip tier %s", got)
	}
	if d.Events[0].LOD != nil {
		t.Errorf("event kind has tiers %v", d.Events[0].LOD)
	}
	noEvents := mustSchema(t, SchemaConfig{Entities: smallSchemaConfig().Entities}).DescJSON()
	if !strings.Contains(string(noEvents), `"events":[]`) {
		t.Errorf("a schema without events describes them as %s", noEvents)
	}
}

func TestParseSchemaDescErrors(t *testing.T) {
	good := mustSchema(t, smallSchemaConfig()).DescJSON()
	edit := func(f func(d *SchemaDesc)) string {
		var d SchemaDesc
		if err := json.Unmarshal(good, &d); err != nil {
			t.Fatal(err)
		}
		f(&d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct{ name, data string }{
		{"empty", ""},
		{"not json", "{"},
		{"null", "null"},
		{"array", "[]"},
		{"trailing data", string(good) + "{}"},
		{"no version", `{"hash":"0000000000000000"}`},
		{"version 0", edit(func(d *SchemaDesc) { d.Version = 0 })},
		{"version 2", edit(func(d *SchemaDesc) { d.Version = 2 })},
		{"version string", `{"version":"1"}`},
		{"unknown key", strings.Replace(string(good), `"version":1,`, `"version":1,"extra":true,`, 1)},
		{"unknown field key", strings.Replace(string(good), `"wrap":false}`, `"wrap":false,"scale":2}`, 1)},
		{"hash missing", edit(func(d *SchemaDesc) { d.Hash = "" })},
		{"hash wrong", edit(func(d *SchemaDesc) { d.Hash = "0123456789abcdef" })},
		{"hash upper case", edit(func(d *SchemaDesc) { d.Hash = strings.ToUpper(d.Hash) })},
		{"range changed", edit(func(d *SchemaDesc) { d.Entities[0].Fields[0].Max = 510 })},
		{"min over int32", strings.Replace(string(good), `"min":-512`, `"min":-2147483649`, 1)},
		{"width wrong", edit(func(d *SchemaDesc) { d.Entities[0].Fields[0].Width = 11 })},
		{"min above max", edit(func(d *SchemaDesc) { d.Entities[0].Fields[0].Min = 600 })},
		{"delta too wide", edit(func(d *SchemaDesc) { d.Entities[0].Fields[0].Delta = 10 })},
		{"max entities zero", edit(func(d *SchemaDesc) { d.MaxEntities = 0 })},
		{"max events too many", edit(func(d *SchemaDesc) { d.MaxEvents = MaxViewEntities + 1 })},
		{"no entity kinds", edit(func(d *SchemaDesc) { d.Entities = nil })},
		{"kind without name", edit(func(d *SchemaDesc) { d.Entities[0].Name = "" })},
		{"field without name", edit(func(d *SchemaDesc) { d.Events[0].Fields[0].Name = "" })},
		{"no fields", edit(func(d *SchemaDesc) { d.Events[0].Fields = nil })},
		{"too many fields", edit(func(d *SchemaDesc) {
			for len(d.Events[0].Fields) <= MaxFields {
				d.Events[0].Fields = append(d.Events[0].Fields, FieldDesc{Name: "f" + strings.Repeat("x", len(d.Events[0].Fields)), Max: 1, Width: 1})
			}
		})},
		{"too many kinds", edit(func(d *SchemaDesc) {
			for len(d.Events) <= MaxKinds {
				d.Events = append(d.Events, d.Events[0])
			}
		})},
		{"three tiers", edit(func(d *SchemaDesc) { d.Entities[0].LOD = d.Entities[0].LOD[:3] })},
		{"no tiers", edit(func(d *SchemaDesc) { d.Entities[0].LOD = nil })},
		{"tier names unknown field", edit(func(d *SchemaDesc) { d.Entities[0].LOD[1] = []string{"z"} })},
		{"tier out of field order", edit(func(d *SchemaDesc) { d.Entities[0].LOD[0] = []string{"hd", "x"} })},
		{"tier names a field twice", edit(func(d *SchemaDesc) { d.Entities[0].LOD[1] = []string{"x", "x"} })},
		{"nothing at full detail", edit(func(d *SchemaDesc) { d.Entities[0].LOD[0] = []string{} })},
		{"event kind with tiers", edit(func(d *SchemaDesc) { d.Events[0].LOD = [][]string{{"dmg"}, {}, {}, {}} })},
		{"duplicate field", edit(func(d *SchemaDesc) { d.Events[0].Fields = append(d.Events[0].Fields, d.Events[0].Fields[0]) })},
		{"null kind", strings.Replace(string(good), `"events":[`, `"events":[null,`, 1)},
	}
	for _, tc := range cases {
		s, err := ParseSchemaDesc([]byte(tc.data))
		if err == nil {
			t.Errorf("%s: accepted (hash %x)", tc.name, s.Hash())
			continue
		}
		if !errors.Is(err, ErrSchema) {
			t.Errorf("%s: error %v does not wrap ErrSchema", tc.name, err)
		}
	}
	if _, err := ParseSchemaDesc(good); err != nil {
		t.Fatalf("the unedited description: %v", err)
	}
}

func TestSchemaNamesMustBeUTF8(t *testing.T) {
	cfg := smallSchemaConfig()
	cfg.Entities[0].Name = "sh\xffp"
	if _, err := NewSchema(cfg); !errors.Is(err, ErrSchema) {
		t.Errorf("kind name not UTF-8: %v", err)
	}
	cfg = smallSchemaConfig()
	cfg.Events[0].Fields[0].Name = "\xc0"
	if _, err := NewSchema(cfg); !errors.Is(err, ErrSchema) {
		t.Errorf("field name not UTF-8: %v", err)
	}
}

// FuzzSchemaDesc feeds arbitrary bytes to ParseSchemaDesc. It must never
// panic, must refuse with ErrSchema, and whatever it accepts must describe
// itself to JSON that parses back to the same hash and the same JSON.
func FuzzSchemaDesc(f *testing.F) {
	f.Add(testSchema(f).DescJSON())
	f.Add(mustSchema(f, smallSchemaConfig()).DescJSON())
	f.Add(mustSchema(f, hashTestConfig()).DescJSON())
	indented, err := json.MarshalIndent(testSchema(f).Describe(), "", "\t")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(indented)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchemaDesc(data)
		if err != nil {
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("error %v does not wrap ErrSchema", err)
			}
			return
		}
		again := s.DescJSON()
		s2, err := ParseSchemaDesc(again)
		if err != nil {
			t.Fatalf("accepted schema's own description is refused: %v\n%s", err, again)
		}
		if s2.Hash() != s.Hash() {
			t.Fatalf("hash %x after re-describing, %x before", s2.Hash(), s.Hash())
		}
		if string(s2.DescJSON()) != string(again) {
			t.Fatalf("description not canonical:\n%s\n%s", s2.DescJSON(), again)
		}
	})
}
