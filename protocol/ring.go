package protocol

// Ring holds one value per snapshot sequence for the last History
// sequences, indexed by sequence mod History (65536 is a multiple of
// History, so the index survives the sequence's wrap). Both ends of a
// session keep one: the sender what each snapshot carried, the receiver the
// views it accepted. The zero Ring is empty. Not safe for concurrent use.
type Ring[T any] struct {
	slots [History]ringSlot[T]
}

type ringSlot[T any] struct {
	seq   uint16
	valid bool
	acked bool
	v     T
}

// At returns the value stored under seq, or nil when the slot holds
// another sequence or nothing.
func (r *Ring[T]) At(seq uint16) *T {
	s := &r.slots[seq%History]
	if !s.valid || s.seq != seq {
		return nil
	}
	return &s.v
}

// Slot returns seq's slot whatever it holds (the value of sequence
// seq−k·History, or a cleared value), for a caller that reuses what it
// holds. Put or Set then claims it for seq.
func (r *Ring[T]) Slot(seq uint16) *T { return &r.slots[seq%History].v }

// Set claims seq's slot for seq, keeping the value in it (filled through
// Slot). It is no longer acknowledged.
func (r *Ring[T]) Set(seq uint16) *T {
	s := &r.slots[seq%History]
	s.seq, s.valid, s.acked = seq, true, false
	return &s.v
}

// Clear empties seq's slot if it holds seq.
func (r *Ring[T]) Clear(seq uint16) {
	if s := &r.slots[seq%History]; s.valid && s.seq == seq {
		s.valid, s.acked = false, false
	}
}

// Each calls f with every valid slot's sequence and value, in slot order.
func (r *Ring[T]) Each(f func(seq uint16, v *T)) {
	for i := range r.slots {
		if s := &r.slots[i]; s.valid {
			f(s.seq, &s.v)
		}
	}
}

// Sent is a sender's history with its rules: what each snapshot sequence
// carried, which the receiver acknowledged, and the newest acknowledged
// one, the baseline of the next snapshot while it is at most MaxBack
// sequences back. The zero Sent is empty. Not safe for concurrent use.
type Sent[T any] struct {
	ring   Ring[T]
	acked  uint16 // newest acknowledged sequence, when hasAck
	hasAck bool
}

// Record stores what snapshot seq carries. The slot's previous value (of
// sequence seq−k·History, never a baseline again) is passed to release
// first, if the slot held one.
func (s *Sent[T]) Record(seq uint16, v T, release func(*T)) {
	sl := &s.ring.slots[seq%History]
	if sl.valid && release != nil {
		release(&sl.v)
	}
	if s.hasAck && s.acked == sl.seq && sl.valid {
		s.hasAck = false // the acknowledged baseline is overwritten
	}
	sl.seq, sl.valid, sl.acked, sl.v = seq, true, false, v
}

// Ack records that the receiver holds snapshot seq. A sequence no longer
// in the history is ignored. When seq is the newest acknowledged so far,
// every older snapshot can never be a baseline again: each is passed to
// release (if not nil) and forgotten. It reports whether seq was new.
func (s *Sent[T]) Ack(seq uint16, release func(*T)) bool {
	sl := &s.ring.slots[seq%History]
	if !sl.valid || sl.seq != seq || sl.acked {
		return false
	}
	sl.acked = true
	if s.hasAck && int16(seq-s.acked) <= 0 {
		return true
	}
	s.acked, s.hasAck = seq, true
	for i := range s.ring.slots {
		o := &s.ring.slots[i]
		if o.valid && int16(o.seq-seq) < 0 {
			if release != nil {
				release(&o.v)
			}
			o.valid, o.acked = false, false
		}
	}
	return true
}

// Acked reports whether the receiver acknowledged seq (while it is in the
// history).
func (s *Sent[T]) Acked(seq uint16) bool {
	sl := &s.ring.slots[seq%History]
	return sl.valid && sl.seq == seq && sl.acked
}

// HasAck reports whether any snapshot still in the history was
// acknowledged.
func (s *Sent[T]) HasAck() bool { return s.hasAck }

// Baseline returns the newest acknowledged snapshot and how many sequences
// before next it is, when it is 1..MaxBack back; otherwise nil.
func (s *Sent[T]) Baseline(next uint16) (*T, uint8) {
	if !s.hasAck {
		return nil, 0
	}
	back := next - s.acked
	if back == 0 || back > MaxBack {
		return nil, 0
	}
	sl := &s.ring.slots[s.acked%History]
	if !sl.valid || sl.seq != s.acked || !sl.acked {
		return nil, 0
	}
	return &sl.v, uint8(back)
}

// At returns what snapshot seq carried, or nil when it is no longer held.
func (s *Sent[T]) At(seq uint16) *T { return s.ring.At(seq) }

// Reset forgets everything, passing every held value to release (if not
// nil).
func (s *Sent[T]) Reset(release func(*T)) {
	for i := range s.ring.slots {
		o := &s.ring.slots[i]
		if o.valid && release != nil {
			release(&o.v)
		}
		o.valid, o.acked = false, false
	}
	s.hasAck = false
}

// DropUnacked forgets every snapshot not acknowledged for which stale
// reports true, passing each to release (if not nil) first: a sender that
// keeps what its snapshots carry bounds how long an unacknowledged one
// holds it. An acknowledgement of a forgotten sequence is ignored (Ack).
func (s *Sent[T]) DropUnacked(stale func(*T) bool, release func(*T)) {
	for i := range s.ring.slots {
		o := &s.ring.slots[i]
		if o.valid && !o.acked && stale(&o.v) {
			if release != nil {
				release(&o.v)
			}
			o.valid = false
		}
	}
}

// Forget empties seq's slot if it holds seq (a payload sent under seq that
// carries nothing to build on).
func (s *Sent[T]) Forget(seq uint16) {
	sl := &s.ring.slots[seq%History]
	if sl.valid && sl.seq == seq {
		if s.hasAck && s.acked == seq {
			s.hasAck = false
		}
		sl.valid, sl.acked = false, false
	}
}
