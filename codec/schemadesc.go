package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SchemaDesc describes a schema as plain data, so that a server can serve its
// game's schema and a client can build the same Schema from it. Its JSON is
// canonical: objects are structs whose keys come in declaration order, lists
// keep kind, field and tier order, and there are no maps, so one schema
// always marshals to the same bytes (Schema.DescJSON).
type SchemaDesc struct {
	// Version is SchemaFormatVersion; a reader refuses any other.
	Version int `json:"version"`
	// Hash is Schema.Hash as 16 lowercase hex digits (a string, since a JSON
	// number loses precision above 2^53 in JavaScript). It must match the
	// schema the rest of the description builds.
	Hash string `json:"hash"`
	// MaxEntities and MaxEvents bound one view (1..MaxViewEntities).
	MaxEntities int `json:"max_entities"`
	MaxEvents   int `json:"max_events"`
	// Entities and Events list the kinds in kind-number order.
	Entities []KindDesc `json:"entities"`
	Events   []KindDesc `json:"events"`
}

// KindDesc describes an entity or event kind.
type KindDesc struct {
	Name   string      `json:"name"`
	Fields []FieldDesc `json:"fields"` // in field-number order
	// LOD lists, for an entity kind, the names of the fields each of the
	// NumLODs tiers carries, in field order (an empty list: presence only).
	// Event kinds carry every field and have no LOD.
	LOD [][]string `json:"lod,omitempty"`
}

// FieldDesc describes a field: the attributes of Field, plus its width.
type FieldDesc struct {
	Name string `json:"name"`
	Min  int32  `json:"min"`
	Max  int32  `json:"max"`
	// Width is the number of bits the field takes when sent whole,
	// BitsFor(Max-Min). It is redundant and must agree with the range.
	Width uint8 `json:"width"`
	Delta uint8 `json:"delta"`
	Wrap  bool  `json:"wrap"`
}

// Describe returns a description of s from which NewSchemaFromDesc builds an
// equal schema (same Hash, same bytes for every view). The result is the
// caller's. Describe is safe for concurrent use.
func (s *Schema) Describe() SchemaDesc {
	d := SchemaDesc{
		Version:     SchemaFormatVersion,
		Hash:        FormatSchemaHash(s.hash),
		MaxEntities: s.maxEntities,
		MaxEvents:   s.maxEvents,
		Entities:    make([]KindDesc, 0, len(s.entities)),
		Events:      make([]KindDesc, 0, len(s.events)),
	}
	for i := range s.entities {
		d.Entities = append(d.Entities, describeKind(&s.entities[i], true))
	}
	for i := range s.events {
		d.Events = append(d.Events, describeKind(&s.events[i], false))
	}
	return d
}

func describeKind(k *kindInfo, entity bool) KindDesc {
	kd := KindDesc{Name: k.Name, Fields: make([]FieldDesc, 0, len(k.Fields))}
	for i := range k.Fields {
		f := &k.Fields[i]
		kd.Fields = append(kd.Fields, FieldDesc{
			Name: f.Name, Min: f.Min, Max: f.Max, Width: uint8(f.Width()), Delta: f.Delta, Wrap: f.Wrap,
		})
	}
	if entity {
		kd.LOD = make([][]string, NumLODs)
		for t := range NumLODs {
			names := make([]string, 0, k.count[t])
			for _, f := range k.present[t][:k.count[t]] {
				names = append(names, k.Fields[f].Name)
			}
			kd.LOD[t] = names
		}
	}
	return kd
}

// DescJSON returns the canonical JSON of s.Describe(): compact, the form a
// server serves. The returned slice is the caller's. DescJSON is safe for
// concurrent use.
func (s *Schema) DescJSON() []byte {
	b, err := json.Marshal(s.Describe())
	if err != nil { // a SchemaDesc holds only strings, integers and lists
		panic("codec: marshal schema description: " + err.Error())
	}
	return b
}

// FormatSchemaHash formats a schema hash as SchemaDesc.Hash does: 16
// lowercase hex digits.
func FormatSchemaHash(h uint64) string { return fmt.Sprintf("%016x", h) }

// ParseSchemaDesc builds a schema from the JSON of a SchemaDesc. It refuses,
// with an error wrapping ErrSchema, input that is not one JSON object, a
// format version other than SchemaFormatVersion, unknown keys, and any
// description NewSchemaFromDesc refuses. It never panics on any input.
func ParseSchemaDesc(data []byte) (*Schema, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: description: %w", ErrSchema, err)
	}
	if head.Version == nil {
		return nil, fmt.Errorf("%w: description has no format version", ErrSchema)
	}
	if *head.Version != SchemaFormatVersion {
		return nil, fmt.Errorf("%w: description has format version %d, this build reads %d",
			ErrSchema, *head.Version, SchemaFormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data)) // data is one valid JSON value: Unmarshal checked it
	dec.DisallowUnknownFields()
	var d SchemaDesc
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: description: %w", ErrSchema, err)
	}
	return NewSchemaFromDesc(d)
}

// NewSchemaFromDesc builds the schema d describes, validated as NewSchema
// validates a SchemaConfig. It also refuses, with an error wrapping
// ErrSchema: a Version other than SchemaFormatVersion; view bounds outside
// 1..MaxViewEntities; a Width that disagrees with its range; an entity kind
// without exactly NumLODs tiers; a tier naming an unknown field, or naming
// fields out of field order or twice; an event kind with tiers; and a Hash
// other than the built schema's.
func NewSchemaFromDesc(d SchemaDesc) (*Schema, error) {
	if d.Version != SchemaFormatVersion {
		return nil, fmt.Errorf("%w: description has format version %d, this build reads %d",
			ErrSchema, d.Version, SchemaFormatVersion)
	}
	if d.MaxEntities < 1 || d.MaxEntities > MaxViewEntities || d.MaxEvents < 1 || d.MaxEvents > MaxViewEntities {
		return nil, fmt.Errorf("%w: description bounds views to %d entities and %d events, want 1..%d each",
			ErrSchema, d.MaxEntities, d.MaxEvents, MaxViewEntities)
	}
	if len(d.Entities) > MaxKinds || len(d.Events) > MaxKinds {
		return nil, fmt.Errorf("%w: description has %d entity and %d event kinds, want at most %d each",
			ErrSchema, len(d.Entities), len(d.Events), MaxKinds)
	}
	cfg := SchemaConfig{
		Entities:    make([]Kind, len(d.Entities)),
		Events:      make([]Kind, len(d.Events)),
		MaxEntities: d.MaxEntities,
		MaxEvents:   d.MaxEvents,
	}
	for i := range d.Entities {
		if err := kindFromDesc(&cfg.Entities[i], &d.Entities[i], true); err != nil {
			return nil, fmt.Errorf("entity kind %d: %w", i, err)
		}
	}
	for i := range d.Events {
		if err := kindFromDesc(&cfg.Events[i], &d.Events[i], false); err != nil {
			return nil, fmt.Errorf("event kind %d: %w", i, err)
		}
	}
	s, err := NewSchema(cfg)
	if err != nil {
		return nil, err
	}
	if want := FormatSchemaHash(s.hash); d.Hash != want {
		return nil, fmt.Errorf("%w: description says hash %q, its content hashes to %q", ErrSchema, d.Hash, want)
	}
	return s, nil
}

// kindFromDesc fills k from kd, checking what NewSchema cannot see: widths
// and tier lists. NewSchema checks the rest.
func kindFromDesc(k *Kind, kd *KindDesc, entity bool) error {
	if len(kd.Fields) > MaxFields {
		return fmt.Errorf("%w: kind %q has %d fields, want 1..%d", ErrSchema, kd.Name, len(kd.Fields), MaxFields)
	}
	k.Name = kd.Name
	k.Fields = make([]Field, len(kd.Fields))
	for i := range kd.Fields {
		fd := &kd.Fields[i]
		f := &k.Fields[i]
		*f = Field{Name: fd.Name, Min: fd.Min, Max: fd.Max, Delta: fd.Delta, Wrap: fd.Wrap}
		if fd.Min <= fd.Max && uint(fd.Width) != f.Width() {
			return fmt.Errorf("%w: %s.%s: width %d, but the range %d..%d takes %d bits",
				ErrSchema, kd.Name, fd.Name, fd.Width, fd.Min, fd.Max, f.Width())
		}
	}
	if !entity {
		if len(kd.LOD) != 0 {
			return fmt.Errorf("%w: event kind %q declares tiers", ErrSchema, kd.Name)
		}
		return nil
	}
	if len(kd.LOD) != NumLODs {
		return fmt.Errorf("%w: kind %q declares %d tiers, want %d", ErrSchema, kd.Name, len(kd.LOD), NumLODs)
	}
	for t, names := range kd.LOD {
		next := 0 // the lowest field number the tier may name next
		for _, name := range names {
			i := next
			for i < len(k.Fields) && k.Fields[i].Name != name {
				i++
			}
			if i == len(k.Fields) {
				return fmt.Errorf("%w: kind %q tier %d names %q, which is not a field or is out of field order",
					ErrSchema, kd.Name, t, name)
			}
			k.LOD[t] |= 1 << i
			next = i + 1
		}
	}
	return nil
}
