package codec

import (
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// Limits of the schema and of one view.
const (
	// MaxFields is the largest number of fields an entity or event kind may declare.
	MaxFields = 16
	// NumLODs is the number of level-of-detail tiers.
	NumLODs = 4
	// MaxKinds is the largest number of entity kinds (and of event kinds) in a schema.
	MaxKinds = 64
	// DefaultMaxEntities bounds the entities of one view unless the schema says otherwise.
	DefaultMaxEntities = 1 << 16
	// DefaultMaxEvents bounds the events of one view unless the schema says otherwise.
	DefaultMaxEvents = 4096
	// MaxViewEntities is the largest bound a schema may set on entities or
	// events per view.
	MaxViewEntities = 1 << 24
)

// Level-of-detail tiers. A kind declares which of its fields each tier carries.
const (
	LODFull   uint8 = 0 // everything a close observer needs
	LODMedium uint8 = 1 // farther away
	LODLow    uint8 = 2 // far away
	LODBlip   uint8 = 3 // a sensor contact: little more than presence
)

// FieldMask is a set of field indices of one kind: bit i is field i.
type FieldMask uint16

// Has reports whether field i is in the mask.
func (m FieldMask) Has(i int) bool { return m&(1<<i) != 0 }

// Field declares one quantized integer field. Its value on the wire lies in
// the inclusive range [Min, Max] and takes BitsFor(Max-Min) bits when sent whole.
type Field struct {
	Name     string
	Min, Max int32
	// Delta, when non-zero, lets a change against the baseline be sent as a
	// Delta-bit signed difference d with -2^(Delta-1) <= d < 2^(Delta-1).
	// Use it for slowly changing numbers (positions, counters); leave it zero
	// where changes are jumps. It must be smaller than the field's full width.
	Delta uint8
	// Wrap marks a modular field (angles): differences are taken modulo
	// Max-Min+1, so 359° -> 1° is a difference of 2°.
	Wrap bool
}

// Width is the number of bits the field takes when sent whole.
func (f *Field) Width() uint { return BitsFor(uint32(f.Max - f.Min)) }

// Kind declares an entity kind (or an event kind): its fields and, for
// entities, which fields each level of detail carries.
type Kind struct {
	Name   string
	Fields []Field
	// LOD[t] is the set of fields carried at tier t. Entity kinds must carry
	// at least one field at LODFull; the other tiers may be any subset,
	// including none (presence only). Ignored for event kinds, which always
	// carry every field.
	LOD [NumLODs]FieldMask
}

// AllFields returns the mask of every field of k.
func (k *Kind) AllFields() FieldMask { return FieldMask(1)<<len(k.Fields) - 1 }

// Schema is a validated set of entity and event kinds. It is immutable after
// NewSchema and safe for concurrent use.
type Schema struct {
	entities    []kindInfo
	events      []kindInfo
	kindBits    uint
	eventBits   uint
	maxEntities int
	maxEvents   int
	hash        uint64 // see Hash; computed by NewSchema
}

// kindInfo is a kind with its per-tier field lists precomputed.
type kindInfo struct {
	Kind
	present [NumLODs][MaxFields]uint8 // field indices carried at each tier, ascending
	count   [NumLODs]uint8
}

// SchemaConfig declares a schema.
type SchemaConfig struct {
	Entities []Kind // entity kinds; the index is the kind number on the wire
	Events   []Kind // event kinds; may be empty
	// MaxEntities and MaxEvents bound one view; a decoder rejects input that
	// claims more. Zero means DefaultMaxEntities / DefaultMaxEvents.
	MaxEntities int
	MaxEvents   int
}

// NewSchema validates cfg and returns the schema.
func NewSchema(cfg SchemaConfig) (*Schema, error) {
	if len(cfg.Entities) == 0 || len(cfg.Entities) > MaxKinds || len(cfg.Events) > MaxKinds {
		return nil, fmt.Errorf("%w: need 1..%d entity kinds and at most %d event kinds, have %d and %d",
			ErrSchema, MaxKinds, MaxKinds, len(cfg.Entities), len(cfg.Events))
	}
	s := &Schema{
		maxEntities: cfg.MaxEntities,
		maxEvents:   cfg.MaxEvents,
		kindBits:    BitsFor(uint32(len(cfg.Entities) - 1)),
	}
	if s.maxEntities <= 0 {
		s.maxEntities = DefaultMaxEntities
	}
	if s.maxEvents <= 0 {
		s.maxEvents = DefaultMaxEvents
	}
	if s.maxEntities > MaxViewEntities || s.maxEvents > MaxViewEntities {
		return nil, fmt.Errorf("%w: view bounds %d entities, %d events exceed %d",
			ErrSchema, s.maxEntities, s.maxEvents, MaxViewEntities)
	}
	if len(cfg.Events) > 0 {
		s.eventBits = BitsFor(uint32(len(cfg.Events) - 1))
	}
	for i := range cfg.Entities {
		ki, err := compileKind(cfg.Entities[i], false)
		if err != nil {
			return nil, fmt.Errorf("entity kind %d: %w", i, err)
		}
		s.entities = append(s.entities, ki)
	}
	for i := range cfg.Events {
		ki, err := compileKind(cfg.Events[i], true)
		if err != nil {
			return nil, fmt.Errorf("event kind %d: %w", i, err)
		}
		s.events = append(s.events, ki)
	}
	s.hash = s.computeHash()
	return s, nil
}

func compileKind(k Kind, event bool) (kindInfo, error) {
	if k.Name == "" {
		return kindInfo{}, fmt.Errorf("%w: kind without a name", ErrSchema)
	}
	if !utf8.ValidString(k.Name) {
		return kindInfo{}, fmt.Errorf("%w: kind name %q is not valid UTF-8", ErrSchema, k.Name)
	}
	if len(k.Fields) == 0 || len(k.Fields) > MaxFields {
		return kindInfo{}, fmt.Errorf("%w: kind %q has %d fields, want 1..%d", ErrSchema, k.Name, len(k.Fields), MaxFields)
	}
	k.Fields = append([]Field(nil), k.Fields...) // the schema owns its copy
	for i := range k.Fields {
		f := &k.Fields[i]
		if f.Name == "" {
			return kindInfo{}, fmt.Errorf("%w: kind %q field %d has no name", ErrSchema, k.Name, i)
		}
		if !utf8.ValidString(f.Name) {
			return kindInfo{}, fmt.Errorf("%w: kind %q field name %q is not valid UTF-8", ErrSchema, k.Name, f.Name)
		}
		for j := range i {
			if k.Fields[j].Name == f.Name {
				return kindInfo{}, fmt.Errorf("%w: kind %q declares field %q twice", ErrSchema, k.Name, f.Name)
			}
		}
		if f.Min > f.Max {
			return kindInfo{}, fmt.Errorf("%w: %s.%s: min %d > max %d", ErrSchema, k.Name, f.Name, f.Min, f.Max)
		}
		if f.Delta != 0 && uint(f.Delta) >= f.Width() {
			return kindInfo{}, fmt.Errorf("%w: %s.%s: delta of %d bits is not smaller than the %d-bit field",
				ErrSchema, k.Name, f.Name, f.Delta, f.Width())
		}
	}
	all := k.AllFields()
	if event {
		for t := range k.LOD {
			k.LOD[t] = all
		}
	} else if k.LOD[LODFull] == 0 {
		return kindInfo{}, fmt.Errorf("%w: kind %q carries no field at full detail", ErrSchema, k.Name)
	}
	ki := kindInfo{Kind: k}
	for t, m := range k.LOD {
		if m&^all != 0 {
			return kindInfo{}, fmt.Errorf("%w: kind %q tier %d names field %d, which does not exist",
				ErrSchema, k.Name, t, bits.Len16(uint16(m&^all))-1)
		}
		for i := range k.Fields {
			if m.Has(i) {
				ki.present[t][ki.count[t]] = uint8(i)
				ki.count[t]++
			}
		}
	}
	return ki, nil
}

// NumKinds reports the number of entity kinds.
func (s *Schema) NumKinds() int { return len(s.entities) }

// NumEventKinds reports the number of event kinds.
func (s *Schema) NumEventKinds() int { return len(s.events) }

// Kind returns entity kind k. The returned value must not be modified.
func (s *Schema) Kind(k uint8) *Kind { return &s.entities[k].Kind }

// EventKind returns event kind k. The returned value must not be modified.
func (s *Schema) EventKind(k uint8) *Kind { return &s.events[k].Kind }

// MaxEntities reports the bound on entities per view.
func (s *Schema) MaxEntities() int { return s.maxEntities }

// MaxEvents reports the bound on events per view.
func (s *Schema) MaxEvents() int { return s.maxEvents }
