package netcode

// The unreliable channel is sequenced: each payload carries a 16-bit sequence
// number, the receiver delivers only payloads newer than the newest it has
// delivered, and it reports what it delivered in every packet it sends (the
// newest sequence and a 32-bit history). The sender matches those reports
// against what it sent and reports each sequence acknowledged exactly once.

// sendWindowSize bounds how many sent sequences are remembered: twice what a
// report can name (33), 3.2 s of snapshots at 20 Hz. A report about a sequence
// older than this, or one never sent, is ignored.
const sendWindowSize = 64

type sentSlot struct {
	seq   uint16
	state uint8 // 0 free, 1 sent, 2 acknowledged
}

type sendWindow struct {
	next uint16
	// span counts the sequence values passed since the first, the skipped
	// noSeq included, saturating at 1<<16: the sequences sent are exactly
	// the span values back from next, noSeq aside.
	span  uint32
	slots [sendWindowSize]sentSlot
}

// start makes first the session's first sequence. A session's sequences
// start at a random value, so that a peer cannot acknowledge payloads it
// never received by naming sequences blindly (see plausible).
func (w *sendWindow) start(first uint16) {
	if first == noSeq {
		first = 0
	}
	w.next = first
}

// noSeq is never sent: a receiver that has delivered nothing reports it, and
// no sender can take it for an acknowledgement.
const noSeq = 0xFFFF

// take returns the sequence for the next payload and remembers it. Sequences
// count up from the first and wrap, skipping noSeq.
func (w *sendWindow) take() uint16 {
	s := w.next
	w.next++
	w.span++
	if w.next == noSeq {
		w.next = 0
		w.span++
	}
	w.span = min(w.span, 1<<16)
	w.slots[s%sendWindowSize] = sentSlot{seq: s, state: 1}
	return s
}

// acker is told of each sequence acknowledged for the first time.
type acker interface{ acked(seq uint16) }

// plausible reports whether seq is one this window has sent: fewer
// values back from next than the span of sequences taken, within half the
// sequence space, and never noSeq.
func (w *sendWindow) plausible(seq uint16) bool {
	if seq == noSeq {
		return false
	}
	back := uint32(w.next - seq) // 1 for the newest sent
	return back >= 1 && back <= w.span && back <= 1<<15
}

// ack applies a peer's report, telling to of each sequence it acknowledges for
// the first time, oldest first. It reports false, applying nothing, when the
// report's newest sequence is one never sent: the peer names what it did not
// receive.
func (w *sendWindow) ack(a Acks, to acker) bool {
	if a.Ack == noSeq {
		return true // nothing received yet (its history is empty)
	}
	if !w.plausible(a.Ack) {
		return false
	}
	for i := 31; i >= 0; i-- {
		if a.Bits&(1<<uint(i)) != 0 {
			w.mark(a.Ack-uint16(i)-1, to)
		}
	}
	w.mark(a.Ack, to)
	return true
}

func (w *sendWindow) mark(seq uint16, to acker) {
	sl := &w.slots[seq%sendWindowSize]
	if sl.state != 1 || sl.seq != seq {
		return
	}
	// A report may only name sequences already sent: one within the last
	// window before next.
	if d := uint16(w.next - seq); d == 0 || d > sendWindowSize {
		return
	}
	sl.state = 2
	to.acked(seq)
}

// recvHistory is what the receiver tells the sender.
type recvHistory struct {
	acks Acks
	any  bool // a payload was delivered
}

// newer reports whether seq is newer than every sequence delivered so far.
func (h *recvHistory) newer(seq uint16) bool {
	return !h.any || int16(seq-h.acks.Ack) > 0
}

// accept records seq as delivered. It reports false, recording nothing,
// unless seq is newer than every sequence delivered so far.
func (h *recvHistory) accept(seq uint16) bool {
	if !h.any {
		h.any = true
		h.acks = Acks{Ack: seq}
		return true
	}
	d := int16(seq - h.acks.Ack)
	if d <= 0 {
		return false
	}
	// Shifting a uint32 by 32 or more gives 0 in Go, so a jump past the
	// history's reach clears it without a special case.
	bits := h.acks.Bits<<uint(d) | 1<<uint(d-1)
	h.acks = Acks{Ack: seq, Bits: bits}
	return true
}

// report is the ack state to put in a packet: noSeq and an empty history
// until something was delivered.
func (h *recvHistory) report() Acks {
	if !h.any {
		return Acks{Ack: noSeq}
	}
	return h.acks
}
