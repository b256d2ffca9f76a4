package netcode

import (
	"math/rand/v2"
	"testing"
)

type ackLog []uint16

func (l *ackLog) acked(seq uint16) { *l = append(*l, seq) }

// The receiver's report names exactly what it delivered, and the sender turns
// reports into one acknowledgement per delivered sequence, never more, across
// the 16-bit wrap and under loss and reordering.
func TestAcksReportExactlyWhatWasDelivered(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sw sendWindow
	var rh recvHistory
	sw.next = 65000 // cross the wrap
	var log ackLog
	delivered := map[uint16]bool{}
	var inFlight []uint16
	total := 0
	for i := 0; i < 20000; i++ {
		inFlight = append(inFlight, sw.take())
		// Deliver a random in-flight packet, lose some, keep a few back.
		for len(inFlight) > 3 {
			k := rng.IntN(len(inFlight))
			seq := inFlight[k]
			inFlight = append(inFlight[:k], inFlight[k+1:]...)
			if rng.IntN(5) == 0 {
				continue // lost
			}
			if rh.accept(seq) {
				if delivered[seq] {
					t.Fatalf("seq %d delivered twice", seq)
				}
				delivered[seq] = true
				total++
			}
		}
		// Reports get through 70% of the time.
		if rng.IntN(10) < 7 {
			sw.ack(rh.report(), &log)
		}
		if len(delivered) > 30000 { // before the sequence wraps onto itself
			check(t, delivered, log)
			delivered, log = map[uint16]bool{}, log[:0]
		}
	}
	check(t, delivered, log)
	if total < 5000 {
		t.Fatalf("only %d of 20000 delivered: the test lost its teeth", total)
	}
}

// check: every acknowledged sequence was delivered, acknowledged once, and
// nearly every delivered one was acknowledged (reports can only miss a
// sequence when 32 newer ones were delivered before any report got through).
func check(t *testing.T, delivered map[uint16]bool, log ackLog) {
	t.Helper()
	seen := map[uint16]int{}
	for _, s := range log {
		seen[s]++
	}
	for s, n := range seen {
		if n != 1 {
			t.Fatalf("seq %d acked %d times", s, n)
		}
		if !delivered[s] {
			t.Fatalf("seq %d acked but never delivered", s)
		}
	}
	if missed := len(delivered) - len(seen); missed > len(delivered)/100 {
		t.Fatalf("%d of %d delivered sequences never acked", missed, len(delivered))
	}
}

func TestAckFalsePositivesImpossible(t *testing.T) {
	var sw sendWindow
	var log ackLog
	// Nothing sent: any report is ignored, including the "nothing yet" one.
	sw.ack(Acks{Ack: noSeq, Bits: 0}, &log)
	sw.ack(Acks{Ack: 5, Bits: ^uint32(0)}, &log)
	if len(log) != 0 {
		t.Fatalf("acked %v before sending", log)
	}
	var rh recvHistory
	if rh.report().Ack != noSeq || rh.report().Bits != 0 {
		t.Fatal("empty history must report noSeq")
	}
	// Sequences skip noSeq.
	sw.next = noSeq - 1
	if a, b := sw.take(), sw.take(); a != noSeq-1 || b != 0 {
		t.Fatalf("took %d then %d", a, b)
	}
}

func TestRecvHistoryBits(t *testing.T) {
	var h recvHistory
	for _, s := range []uint16{10, 12, 11, 13, 45} {
		h.accept(s)
	}
	// 11 arrived after 12: it is stale and neither delivered nor acked.
	a := h.report()
	if a.Ack != 45 || a.Bits != 1<<(45-13-1) {
		t.Fatalf("report %+v", a)
	}
	if h.accept(45) || h.accept(44) {
		t.Fatal("duplicate or older accepted")
	}
}

// A report whose newest sequence was never sent is refused whole: a peer
// that receives nothing cannot acknowledge by naming sequences blindly,
// since a session's sequences start at a random value.
func TestAckOfUnsentSequenceRefused(t *testing.T) {
	var sw sendWindow
	var log ackLog
	if !sw.ack(Acks{Ack: noSeq}, &log) {
		t.Error("the empty report refused")
	}
	if sw.ack(Acks{Ack: 3}, &log) {
		t.Error("an ack before anything was sent accepted")
	}
	sw.start(noSeq - 3) // the sequences cross noSeq
	var sent []uint16
	for range 6 {
		sent = append(sent, sw.take())
	}
	for _, s := range sent {
		if !sw.plausible(s) {
			t.Errorf("sent sequence %d not plausible", s)
		}
	}
	for _, s := range []uint16{sent[0] - 1, sent[5] + 1, sent[5] + 1000, noSeq, sent[0] - 2} {
		if sw.plausible(s) {
			t.Errorf("unsent sequence %d plausible (sent %v)", s, sent)
		}
	}
	// Without crossing noSeq, the sequence before the first is refused too.
	var plain sendWindow
	plain.start(0x64)
	plain.take()
	if plain.plausible(0x63) || !plain.plausible(0x64) || plain.plausible(0x65) {
		t.Error("a window that sent 0x64 alone: only 0x64 is plausible")
	}
	if sw.ack(Acks{Ack: sent[5] + 1, Bits: ^uint32(0)}, &log) || len(log) != 0 {
		t.Errorf("a report naming an unsent newest sequence applied: %v", log)
	}
	if !sw.ack(Acks{Ack: sent[5], Bits: 1}, &log) || len(log) != 2 {
		t.Errorf("a true report: %v", log)
	}
}
