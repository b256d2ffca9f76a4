package protocol

import "testing"

func TestSentBaselineAcrossTheWrap(t *testing.T) {
	var s Sent[int]
	released := map[int]int{}
	rel := func(v *int) { released[*v]++ }
	// Sequences 65530..65535, 0..3: the 16-bit wrap inside the history.
	seq := uint16(65530)
	for i := range 10 {
		s.Record(seq+uint16(i), i, rel)
	}
	if b, _ := s.Baseline(seq + 10); b != nil {
		t.Fatalf("baseline %d before any ack", *b)
	}
	if !s.Ack(seq+7, rel) { // sequence 1, after the wrap
		t.Fatal("ack of a held snapshot refused")
	}
	if s.Ack(seq+7, rel) {
		t.Error("a second ack of the same snapshot reported new")
	}
	b, back := s.Baseline(seq + 10)
	if b == nil || *b != 7 || back != 3 {
		t.Fatalf("baseline %v back %d, want 7 back 3", b, back)
	}
	// Everything older than the newest ack is released once and gone.
	for i := range 7 {
		if released[i] != 1 || s.At(seq+uint16(i)) != nil {
			t.Errorf("snapshot %d: released %d times, still held %v", i, released[i], s.At(seq+uint16(i)) != nil)
		}
	}
	// An older ack after a newer one does not move the baseline back.
	if s.Ack(seq+6, rel) {
		t.Error("ack of a forgotten snapshot reported new")
	}
	// Out of reach: MaxBack sequences is the limit.
	if b, _ := s.Baseline(seq + 7 + MaxBack); b == nil {
		t.Error("baseline MaxBack back refused")
	}
	if b, _ := s.Baseline(seq + 7 + MaxBack + 1); b != nil {
		t.Error("baseline MaxBack+1 back given")
	}
	// Recording over the acknowledged slot loses the baseline.
	s.Record(seq+7+History, 99, rel)
	if b, _ := s.Baseline(seq + 8 + History); b != nil {
		t.Errorf("baseline %d survived being overwritten", *b)
	}
	if released[7] != 1 {
		t.Errorf("the overwritten baseline was released %d times", released[7])
	}
	s.Reset(rel)
	if released[99] != 1 || s.At(seq+7+History) != nil {
		t.Error("Reset kept or did not release a snapshot")
	}
}

func TestRingSlots(t *testing.T) {
	var r Ring[string]
	*r.Slot(65535) = "a"
	if r.At(65535) != nil {
		t.Error("a slot filled but not claimed is held")
	}
	r.Set(65535)
	if v := r.At(65535); v == nil || *v != "a" {
		t.Fatal("claimed slot not held")
	}
	if r.At(65535-History) != nil { // same slot, another sequence
		t.Error("a slot answered for another sequence")
	}
	r.Clear(65535)
	if r.At(65535) != nil {
		t.Error("cleared slot still held")
	}
}

// DropUnacked forgets the stale snapshots the receiver has not
// acknowledged, and keeps the acknowledged baseline whatever its age.
func TestSentDropUnacked(t *testing.T) {
	var s Sent[int]
	for seq := uint16(0); seq < 6; seq++ {
		s.Record(seq, int(seq), nil)
	}
	s.Ack(1, nil)
	var released []int
	s.DropUnacked(func(v *int) bool { return *v < 4 }, func(v *int) { released = append(released, *v) })
	if len(released) != 2 || released[0] != 2 || released[1] != 3 {
		t.Errorf("released %v, want [2 3]", released)
	}
	if b, _ := s.Baseline(6); b == nil || *b != 1 {
		t.Errorf("baseline %v after the drop, want 1", b)
	}
	if s.Ack(2, nil) {
		t.Error("an acknowledgement of a dropped snapshot was taken")
	}
	if !s.Ack(4, nil) {
		t.Error("a kept snapshot could not be acknowledged")
	}
}
