package mesh

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// A frame runs only when every peer's batch for it is in whole, whatever
// order the peers' chunks come in; a stall is counted against the peers it
// waited for.
func TestFrameRunsWhenEveryBatchIsIn(t *testing.T) {
	l, err := New(2, []uint16{3, 1, 2}, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Peers(), []uint16{1, 3}) {
		t.Fatalf("peers %v", l.Peers())
	}
	t0 := time.Unix(100, 0)
	if l.Ready() {
		t.Fatal("frame 1 ready with no batch")
	}
	l.Wait(t0)
	mustChunk(t, l, 3, 1, 0, 2, false)
	mustChunk(t, l, 1, 1, 0, 1, true)
	if l.Ready() {
		t.Fatal("frame 1 ready with half of member 3's batch")
	}
	if got := l.Missing(nil); !slices.Equal(got, []uint16{3}) {
		t.Fatalf("missing %v, want [3]", got)
	}
	mustChunk(t, l, 3, 2, 0, 1, true) // a later frame's batch meanwhile
	mustChunk(t, l, 3, 1, 1, 2, true)
	if !l.Ready() {
		t.Fatal("frame 1 not ready with every batch in")
	}
	l.Ran(t0.Add(40*time.Millisecond), 0xaa, nil)
	if l.Next() != 2 || l.Ready() {
		t.Fatalf("next %d, ready %v: frame 2 lacks member 1's batch", l.Next(), l.Ready())
	}
	st := l.Stats(nil)
	if st[0].FramesWaited != 1 || st[0].Waited != 40*time.Millisecond || st[1].FramesWaited != 1 || st[1].Batches != 2 || st[1].Chunks != 3 {
		t.Errorf("stats %+v", st)
	}
}

// A batch that breaks the protocol is refused with a reason, and changes
// nothing.
func TestBatchesThatBreakTheProtocol(t *testing.T) {
	l, _ := New(1, []uint16{1, 2}, 10, 4)
	mustChunk(t, l, 2, 10, 0, 2, false)
	for _, tc := range []struct {
		peer          uint16
		frame         uint32
		chunk, chunks uint8
		want          string
	}{
		{3, 10, 0, 1, "not a peer"},
		{1, 10, 0, 1, "not a peer"},  // ourselves
		{2, 9, 0, 1, "held already"}, // already run: a resend, ignored (ErrDuplicate)
		{2, 14, 0, 1, "outside"},     // beyond the span
		{2, 10, 1, 3, "2 chunks, then 3"},
		{2, 10, 0, 2, "expected 1"},
		{2, 11, 1, 2, "expected 0"},
		{2, 11, 0, 0, "chunk 0 of 0"},
	} {
		_, err := l.Chunk(tc.peer, tc.frame, tc.chunk, tc.chunks)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Chunk(%d, %d, %d/%d): %v, want %q", tc.peer, tc.frame, tc.chunk, tc.chunks, err, tc.want)
		}
	}
	mustChunk(t, l, 2, 10, 1, 2, true)
	if _, err := l.Chunk(2, 10, 0, 2); err == nil {
		t.Error("a second batch for the same frame was taken")
	}
	if !l.Ready() {
		t.Error("the refused chunks changed the batch")
	}
}

// World hashes are compared whichever side reports first; a difference is
// a mismatch naming the frame and the peer.
func TestHashesAreCompared(t *testing.T) {
	l, _ := New(1, []uint16{1, 2, 3}, 1, 4)
	now := time.Unix(0, 0)
	for f := uint32(1); f <= 3; f++ {
		mustChunk(t, l, 2, f, 0, 1, true)
		mustChunk(t, l, 3, f, 0, 1, true)
	}
	// Member 2 is ahead: its hash of frame 1 comes before we run it.
	if m := l.Hash(2, 1, 0x11, nil); len(m) != 0 {
		t.Fatalf("mismatch before we ran the frame: %v", m)
	}
	if m := l.Ran(now, 0x11, nil); len(m) != 0 {
		t.Fatalf("equal hashes reported: %v", m)
	}
	// Member 3 is behind: its hash comes after.
	if m := l.Hash(3, 1, 0x12, nil); len(m) != 1 || m[0] != (Mismatch{Frame: 1, Peer: 3, Ours: 0x11, Their: 0x12}) {
		t.Fatalf("mismatch %v, want frame 1 with member 3", m)
	}
	l.Hash(2, 2, 0x99, nil)
	if m := l.Ran(now, 0x22, nil); len(m) != 1 || m[0].Peer != 2 || m[0].Frame != 2 {
		t.Fatalf("mismatch %v, want frame 2 with member 2", m)
	}
	st := l.Stats(nil)
	if st[0].HashChecks != 2 || st[0].Mismatches != 1 || st[1].HashChecks != 1 || st[1].Mismatches != 1 {
		t.Errorf("stats %+v", st)
	}
	// A hash far behind the ring is ignored, not compared with another
	// frame's.
	for f := uint32(3); f < 200; f++ {
		mustChunk(t, l, 2, f+1, 0, 1, true)
		mustChunk(t, l, 3, f+1, 0, 1, true)
		l.Ran(now, uint64(f), nil)
	}
	if m := l.Hash(2, 4, 0x1234, nil); len(m) != 0 {
		t.Errorf("a hash of an old frame compared: %v", m)
	}
}

func TestNewRefusesBadMemberships(t *testing.T) {
	for _, tc := range []struct {
		self    uint16
		members []uint16
	}{
		{4, []uint16{1, 2, 3}},
		{1, []uint16{0, 1}},
		{1, []uint16{1, 2, 2}},
	} {
		if _, err := New(tc.self, tc.members, 1, 4); err == nil {
			t.Errorf("member %d of %v taken", tc.self, tc.members)
		}
	}
}

func mustChunk(t *testing.T, l *Lockstep, peer uint16, frame uint32, chunk, chunks uint8, whole bool) {
	t.Helper()
	done, err := l.Chunk(peer, frame, chunk, chunks)
	if err != nil || done != whole {
		t.Fatalf("Chunk(%d, %d, %d/%d) = %v, %v; want %v", peer, frame, chunk, chunks, done, err, whole)
	}
}

func TestParseMembers(t *testing.T) {
	ms, err := ParseMembers(" 2=127.0.0.1:7001, 1=127.0.0.1:7000,3=[::1]:7002")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatMembers(ms); got != "1=127.0.0.1:7000,2=127.0.0.1:7001,3=[::1]:7002" {
		t.Errorf("parsed as %s", got)
	}
	again, _ := ParseMembers(FormatMembers(ms))
	if MembershipHash(again) != MembershipHash(ms) {
		t.Error("the same membership hashes otherwise")
	}
	other, _ := ParseMembers("1=127.0.0.1:7000,2=127.0.0.1:7001,3=[::1]:7003")
	if MembershipHash(other) == MembershipHash(ms) {
		t.Error("another membership hashes the same")
	}
	// A member's HTTP address (for browsers) travels with it and leaves
	// the hash alone.
	web, err := ParseMembers("1=127.0.0.1:7000/127.0.0.1:8000,2=127.0.0.1:7001,3=[::1]:7002/game.example:443")
	if err != nil {
		t.Fatal(err)
	}
	if web[0].HTTP != "127.0.0.1:8000" || web[1].HTTP != "" || web[2].HTTP != "game.example:443" {
		t.Errorf("HTTP addresses %q %q %q", web[0].HTTP, web[1].HTTP, web[2].HTTP)
	}
	if got := FormatMembers(web); got != "1=127.0.0.1:7000/127.0.0.1:8000,2=127.0.0.1:7001,3=[::1]:7002/game.example:443" {
		t.Errorf("formatted as %s", got)
	}
	if MembershipHash(web) != MembershipHash(ms) {
		t.Error("HTTP addresses changed the membership hash")
	}
	for _, bad := range []string{"", "1", "0=127.0.0.1:1", "x=127.0.0.1:1", "1=nowhere", "1=127.0.0.1:1,1=127.0.0.1:2", "1=127.0.0.1:1,2=127.0.0.1:1",
		"1=127.0.0.1:1/", "1=127.0.0.1:1/nowhere", "1=127.0.0.1:1/h:0", "1=127.0.0.1:1/a@b:80", "1=127.0.0.1:1/:80"} {
		if _, err := ParseMembers(bad); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
}

// A member that leaves after frame F is waited for up to F, and never
// after; a batch of it beyond F breaks the protocol.
func TestLeaveTakesEffectAfterItsFrame(t *testing.T) {
	l, _ := New(1, []uint16{1, 2, 3}, 1, 8)
	now := time.Unix(0, 0)
	if err := l.Leave(3, 2); err != nil {
		t.Fatal(err)
	}
	if err := l.Leave(3, 4); err == nil {
		t.Error("a second leave was taken")
	}
	mustChunk(t, l, 2, 1, 0, 1, true)
	if l.Ready() {
		t.Fatal("frame 1 ran without the leaving member's batch")
	}
	mustChunk(t, l, 3, 1, 0, 1, true)
	mustChunk(t, l, 3, 2, 0, 1, true)
	if _, err := l.Chunk(3, 3, 0, 1); err == nil {
		t.Error("a batch after the member's last frame was taken")
	}
	l.Ran(now, 1, nil)
	mustChunk(t, l, 2, 2, 0, 1, true)
	l.Ran(now, 2, nil)
	if l.Members() != 2 {
		t.Errorf("%d members after the leave, want 2", l.Members())
	}
	mustChunk(t, l, 2, 3, 0, 1, true)
	if !l.Ready() {
		t.Errorf("frame 3 waits for %v", l.Missing(nil))
	}
}

// A session that ends halfway through a batch: Forget drops the chunks in,
// the peer resends the batch from its first chunk, and what the lockstep
// holds whole already comes back as ErrDuplicate.
func TestForgetAndResend(t *testing.T) {
	l, _ := New(1, []uint16{1, 2}, 1, 8)
	mustChunk(t, l, 2, 1, 0, 1, true)
	mustChunk(t, l, 2, 2, 0, 3, false)
	mustChunk(t, l, 2, 2, 1, 3, false)
	if got := l.Forget(2, nil); !slices.Equal(got, []uint32{2}) {
		t.Fatalf("forgot frames %v, want [2]", got)
	}
	if _, err := l.Chunk(2, 1, 0, 1); !errors.Is(err, ErrDuplicate) {
		t.Errorf("a resent whole batch: %v", err)
	}
	for c := range uint8(3) {
		mustChunk(t, l, 2, 2, c, 3, c == 2)
	}
	l.Ran(time.Unix(0, 0), 1, nil)
	if _, err := l.Chunk(2, 1, 0, 1); !errors.Is(err, ErrDuplicate) {
		t.Errorf("a resent batch of a frame that ran: %v", err)
	}
	if !l.Ready() {
		t.Error("frame 2 not ready after the resend")
	}
}
