package payload

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flotilla/flotilla/protocol/demowire"
)

// The naive format is the 100% line: what a server sends that puts every
// entity of the view on the wire each tick with its whole state in plain
// 4-byte words, no quantization, no level of detail, no delta, no
// compression. Layout, little-endian:
//
//	[entity count] (uint32) [event count] (uint32)
//	per entity, in id order: [id] (uint32) [kind] (uint8) then the kind's words:
//	  ship (10 words, 45 bytes a record):
//	    [x] [y] (float32, units) [vx] [vy] (float32, units per tick)
//	    [heading] (float32, radians) [hull] [shield] [team] [class] [status] (uint32)
//	  torpedo (5 words, 25 bytes): [x] [y] [vx] [vy] (float32) [target] (uint32)
//	  body (7 words, 33 bytes): [x] [y] [z] (float32, units)
//	    [qx] [qy] [qz] [qw] (float32, the rotation quaternion)
//	per event: [kind] (uint8) then 10 words (41 bytes):
//	  [seq] [source] [target] [card] [type] [cell q] [cell r] [damage] [hp] [status] (int32)
//
// The floats are the simulation's 16.16 fixed-point values converted to
// float32 (world units; angles in radians), so the format carries the
// full-precision state, not the quantized view.

// naiveMaxWords is the most 4-byte words one naive record holds.
const naiveMaxWords = 10

// naiveEventKind stands for the combat event in naiveWords.
const naiveEventKind = 0xff

// naiveWords returns the number of words of a record of the given entity
// kind (or naiveEventKind), or 0 for an unknown kind.
func naiveWords(kind uint8) int {
	switch kind {
	case demowire.KindShip, naiveEventKind:
		return 10
	case demowire.KindTorpedo:
		return 5
	case demowire.KindBody:
		return 7
	}
	return 0
}

// naiveRecord is one entity or event of the naive format: W holds float32
// bits or integers, per the layout of its kind; unused words are zero.
type naiveRecord struct {
	ID   uint32 // entities only
	Kind uint8
	W    [naiveMaxWords]uint32
}

// naiveFrame is one tick in the naive format.
type naiveFrame struct {
	Entities []naiveRecord
	Events   []naiveRecord
}

// errNaive is wrapped by every naive decoding error.
var errNaive = errors.New("payload: bad naive frame")

// naive encodes and decodes the naive format. Not safe for concurrent use.
type naive struct {
	out naiveFrame
}

func (*naive) name() string { return FormatNaive }

func (*naive) encode(dst []byte, w *window, k int) ([]byte, error) {
	n := &w.frames[k].Naive
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, uint32(len(n.Entities)))
	dst = le.AppendUint32(dst, uint32(len(n.Events)))
	for i := range n.Entities {
		r := &n.Entities[i]
		dst = le.AppendUint32(dst, r.ID)
		dst = append(dst, r.Kind)
		for _, x := range r.W[:naiveWords(r.Kind)] {
			dst = le.AppendUint32(dst, x)
		}
	}
	for i := range n.Events {
		r := &n.Events[i]
		dst = append(dst, r.Kind)
		for _, x := range r.W[:naiveWords(naiveEventKind)] {
			dst = le.AppendUint32(dst, x)
		}
	}
	return dst, nil
}

func (f *naive) decode(src []byte, _ *window, _ int) error {
	le := binary.LittleEndian
	if len(src) < 8 {
		return fmt.Errorf("%w: %d bytes", errNaive, len(src))
	}
	ne, nv := le.Uint32(src), le.Uint32(src[4:])
	src = src[8:]
	// Every entity takes at least 5 bytes and every event 41: bound the
	// counts by the input before trusting them.
	if uint64(ne)*5+uint64(nv)*41 > uint64(len(src)) {
		return fmt.Errorf("%w: %d entities and %d events in %d bytes", errNaive, ne, nv, len(src))
	}
	f.out.Entities = f.out.Entities[:0]
	f.out.Events = f.out.Events[:0]
	for range ne {
		if len(src) < 5 {
			return fmt.Errorf("%w: truncated entity", errNaive)
		}
		r := naiveRecord{ID: le.Uint32(src), Kind: src[4]}
		src = src[5:]
		words := naiveWords(r.Kind)
		if words == 0 || len(src) < 4*words {
			return fmt.Errorf("%w: entity %d: kind %d, %d bytes left", errNaive, r.ID, r.Kind, len(src))
		}
		for j := range words {
			r.W[j] = le.Uint32(src[4*j:])
		}
		src = src[4*words:]
		f.out.Entities = append(f.out.Entities, r)
	}
	for range nv {
		words := naiveWords(naiveEventKind)
		if len(src) < 1+4*words {
			return fmt.Errorf("%w: truncated event", errNaive)
		}
		r := naiveRecord{Kind: src[0]}
		for j := range words {
			r.W[j] = le.Uint32(src[1+4*j:])
		}
		src = src[1+4*words:]
		f.out.Events = append(f.out.Events, r)
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errNaive, len(src))
	}
	return nil
}

func (f *naive) check(w *window, k int) error {
	want := &w.frames[k].Naive
	if len(f.out.Entities) != len(want.Entities) || len(f.out.Events) != len(want.Events) {
		return fmt.Errorf("naive: decoded %d entities and %d events, sent %d and %d",
			len(f.out.Entities), len(f.out.Events), len(want.Entities), len(want.Events))
	}
	for i := range want.Entities {
		if f.out.Entities[i] != want.Entities[i] {
			return fmt.Errorf("naive: entity %d decoded differently", want.Entities[i].ID)
		}
	}
	for i := range want.Events {
		if f.out.Events[i] != want.Events[i] {
			return fmt.Errorf("naive: event %d decoded differently", i)
		}
	}
	return nil
}
