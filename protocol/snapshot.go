package protocol

import (
	"encoding/binary"
	"fmt"
)

// Form says how a snapshot payload relates to the client's state.
type Form uint8

// Snapshot forms.
const (
	// Full: the codec's full encoding; no baseline.
	Full Form = 0
	// Delta: the codec's delta against the baseline Back sequences ago.
	Delta Form = 1
	// Heartbeat: the view is exactly the baseline's; only the frame moved.
	Heartbeat Form = 2
)

// History is the number of snapshots each side remembers, by snapshot
// sequence mod History. A baseline is 1..History-1 sequences back.
const History = 32

// MaxBack is the largest Back a snapshot may name.
const MaxBack = History - 1

// MaxHeartbeat is the largest heartbeat payload: the head byte, the
// sequence and a frame advance of at most three varint bytes.
const MaxHeartbeat = 6

// MaxHead is the largest snapshot head of any form.
const MaxHead = 7

// maxFrameAdvance is the largest frame advance a delta or heartbeat carries
// (three varint bytes).
const maxFrameAdvance = 1<<21 - 1

// SnapshotHead is the header of an unreliable snapshot payload:
//
//	[head] (u8)  bits 0..4 Back (0 for Full), bits 5..6 Form, bit 7 zero
//	[seq] (u16)  the snapshot's sequence, the room's own (not a transport's)
//	Full:      [frame] (u32)                 then the codec's full encoding
//	Delta:     [frame advance] (uvarint)     then the codec's delta encoding
//	Heartbeat: [frame advance] (uvarint)     and nothing after it
//
// The baseline of a Delta or Heartbeat is the snapshot the client accepted
// with sequence Seq−Back (16-bit arithmetic); its frame plus the advance is
// this snapshot's frame.
type SnapshotHead struct {
	Form  Form
	Back  uint8  // Delta, Heartbeat: 1..MaxBack
	Seq   uint16 // the room's snapshot sequence for this client
	Frame uint32 // Full: the frame; otherwise the advance over the baseline's frame
}

// AppendSnapshotHead appends h to b. It reports false, appending nothing,
// for a head the format cannot carry (Back out of range, an advance over
// 2^21−1 frames): the caller sends a full snapshot instead.
func AppendSnapshotHead(b []byte, h SnapshotHead) ([]byte, bool) {
	switch h.Form {
	case Full:
		b = append(b, byte(Full)<<5)
		b = binary.LittleEndian.AppendUint16(b, h.Seq)
		return binary.LittleEndian.AppendUint32(b, h.Frame), true
	case Delta, Heartbeat:
		if h.Back == 0 || h.Back > MaxBack || h.Frame > maxFrameAdvance {
			return b, false
		}
		b = append(b, byte(h.Form)<<5|h.Back)
		b = binary.LittleEndian.AppendUint16(b, h.Seq)
		return binary.AppendUvarint(b, uint64(h.Frame)), true
	}
	return b, false
}

// ParseSnapshotHead decodes the head of a snapshot payload and returns the
// codec bytes after it (empty for a heartbeat).
func ParseSnapshotHead(p []byte) (SnapshotHead, []byte, error) {
	var h SnapshotHead
	if len(p) < 3 {
		return h, nil, fmt.Errorf("snapshot: %w: head of %d bytes", ErrMalformed, len(p))
	}
	h.Form, h.Back = Form(p[0]>>5), p[0]&MaxBack
	h.Seq = binary.LittleEndian.Uint16(p[1:])
	p = p[3:]
	switch h.Form {
	case Full:
		if h.Back != 0 || len(p) < 4 {
			return h, nil, fmt.Errorf("snapshot: %w: full head", ErrMalformed)
		}
		h.Frame = binary.LittleEndian.Uint32(p)
		return h, p[4:], nil
	case Delta, Heartbeat:
		if h.Back == 0 {
			return h, nil, fmt.Errorf("snapshot: %w: no baseline", ErrMalformed)
		}
		v, n := binary.Uvarint(p)
		if n <= 0 || v > maxFrameAdvance {
			return h, nil, fmt.Errorf("snapshot: %w: frame advance", ErrMalformed)
		}
		h.Frame = uint32(v)
		rest := p[n:]
		if h.Form == Heartbeat && len(rest) != 0 {
			return h, nil, fmt.Errorf("snapshot: %w: heartbeat with a body", ErrMalformed)
		}
		if h.Form == Delta && len(rest) == 0 {
			return h, nil, fmt.Errorf("snapshot: %w: delta without a body", ErrMalformed)
		}
		return h, rest, nil
	}
	return h, nil, fmt.Errorf("snapshot: %w: form %d", ErrMalformed, h.Form)
}
