// Package mesh is the lockstep of a mesh of servers that step one world:
// which frame may run (every member's batch for it is in), and whether the
// members' worlds agree (their hashes of each frame). It holds no actions
// and no sockets: the room keeps the actions and the sessions, and asks the
// lockstep what it may do. It is not safe for concurrent use (the room's
// goroutine owns it).
//
// The protocol (STANDARD.md, section 6): every member sends every peer
// exactly one batch per frame, in chunks, over the peer session's reliable
// channel; frame F runs only when the batch of every member for F is in, so
// anyone who ran F held every batch of F. Each batch also carries the
// sender's world hash of the last frame it ran; a hash that differs from
// ours for the same frame is an alarm.
package mesh

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrDuplicate is Chunk's answer to a chunk of a batch the lockstep holds
// whole already, or of a frame that ran: what a peer resends after its
// session came back. The room ignores it.
var ErrDuplicate = errors.New("mesh: a batch held already")

// Lockstep tracks, for the frames from the next one the world runs to span
// frames ahead, which peers' batches are complete, and compares world
// hashes. Bounds: span frames of batch progress; hashRing frames of
// hashes.
type Lockstep struct {
	self  uint16
	peers []uint16 // the other members, sorted
	span  uint32
	next  uint32 // the next frame the world runs
	slots []slot // by frame % span
	// hashes holds, by frame % len, our world hash of each frame we ran
	// and the hashes our peers reported for it.
	hashes []hashSlot
	stats  []PeerStats // by peer index
	// last is, by peer index, the last frame of a member that left (0:
	// still a member): no frame after it waits for the member.
	last []uint32
	// A stall: since when the world waits for frame next, and for whom.
	waiting  bool
	since    time.Time
	blockers []int
}

type slot struct {
	frame uint32
	used  bool
	got   []uint8 // chunks in, by peer index
	of    []uint8 // chunks the batch has, by peer index (0: none in yet)
}

type hashSlot struct {
	frame uint32
	ours  bool
	hash  uint64
	peer  []peerHash // by peer index
}

type peerHash struct {
	ok   bool
	hash uint64
}

// PeerStats is what the lockstep counted for one peer.
type PeerStats struct {
	Member  uint16
	Batches uint64 // frames whose batch came in whole
	Chunks  uint64
	// FramesWaited counts the frames the world waited for this peer's
	// batch; Waited is the time it waited (a stall counts for every peer
	// whose batch was missing when it began).
	FramesWaited uint64
	Waited       time.Duration
	HashChecks   uint64 // frames whose hash was compared with ours
	Mismatches   uint64
}

// A Mismatch is a frame whose world hash differs between us and a peer.
type Mismatch struct {
	Frame       uint32
	Peer        uint16
	Ours, Their uint64
}

// New returns the lockstep of member self in a mesh of members (self among
// them), whose world runs frame first next, holding batches up to span
// frames ahead.
func New(self uint16, members []uint16, first uint32, span int) (*Lockstep, error) {
	if span < 1 || span > 1<<12 {
		return nil, fmt.Errorf("mesh: span %d outside 1..4096", span)
	}
	if !slices.Contains(members, self) {
		return nil, fmt.Errorf("mesh: member %d is not in the membership %v", self, members)
	}
	l := &Lockstep{self: self, span: uint32(span), next: first}
	for _, m := range members {
		if m == 0 {
			return nil, fmt.Errorf("mesh: member id 0 (ids start at 1)")
		}
		if m != self {
			l.peers = append(l.peers, m)
		}
	}
	slices.Sort(l.peers)
	if n := len(slices.Compact(slices.Clone(l.peers))); n != len(l.peers) {
		return nil, fmt.Errorf("mesh: a member id appears twice in %v", members)
	}
	l.slots = make([]slot, span)
	for i := range l.slots {
		l.slots[i].got = make([]uint8, len(l.peers))
		l.slots[i].of = make([]uint8, len(l.peers))
	}
	l.hashes = make([]hashSlot, 4*span+64)
	for i := range l.hashes {
		l.hashes[i].peer = make([]peerHash, len(l.peers))
	}
	for _, p := range l.peers {
		l.stats = append(l.stats, PeerStats{Member: p})
	}
	l.last = make([]uint32, len(l.peers))
	return l, nil
}

// Peers returns the other members, sorted.
func (l *Lockstep) Peers() []uint16 { return l.peers }

// Next is the next frame the world runs.
func (l *Lockstep) Next() uint32 { return l.next }

// Span is how many frames ahead of the world batches are held.
func (l *Lockstep) Span() int { return int(l.span) }

// peerIndex returns p's index in peers, or -1.
func (l *Lockstep) peerIndex(p uint16) int {
	i, ok := slices.BinarySearch(l.peers, p)
	if !ok {
		return -1
	}
	return i
}

// Chunk records chunk (of chunks) of peer's batch for frame, before the
// room adds its actions, and reports whether that completes the batch. An
// error is a breach of the protocol by the peer (a frame already run or
// beyond the span, a chunk out of order, a chunk count that changed): the
// room ends that peer session. Nothing is recorded then.
func (l *Lockstep) Chunk(peer uint16, frame uint32, chunk, chunks uint8) (bool, error) {
	pi := l.peerIndex(peer)
	if pi < 0 {
		return false, fmt.Errorf("mesh: batch from %d, not a peer", peer)
	}
	if int32(frame-l.next) < 0 {
		return false, ErrDuplicate
	}
	if frame-l.next >= l.span {
		return false, fmt.Errorf("mesh: member %d sent a batch for frame %d, outside %d..%d", peer, frame, l.next, l.next+l.span-1)
	}
	if chunks == 0 || chunk >= chunks {
		return false, fmt.Errorf("mesh: member %d sent chunk %d of %d", peer, chunk, chunks)
	}
	if l.last[pi] != 0 && int32(frame-l.last[pi]) > 0 {
		return false, fmt.Errorf("mesh: member %d sent a batch for frame %d after leaving at %d", peer, frame, l.last[pi])
	}
	s := l.slot(frame)
	if s.of[pi] != 0 && s.got[pi] == s.of[pi] {
		return false, ErrDuplicate
	}
	switch {
	case s.of[pi] != 0 && s.of[pi] != chunks:
		return false, fmt.Errorf("mesh: member %d's batch for frame %d has %d chunks, then %d", peer, frame, s.of[pi], chunks)
	case s.got[pi] == chunks && s.of[pi] != 0:
		return false, fmt.Errorf("mesh: member %d sent frame %d's batch twice", peer, frame)
	case chunk != s.got[pi]:
		return false, fmt.Errorf("mesh: member %d sent chunk %d of frame %d, expected %d", peer, chunk, frame, s.got[pi])
	}
	s.of[pi] = chunks
	s.got[pi]++
	l.stats[pi].Chunks++
	if s.got[pi] == chunks {
		l.stats[pi].Batches++
		return true, nil
	}
	return false, nil
}

// slot returns frame's slot (within the span), claiming it for frame.
func (l *Lockstep) slot(frame uint32) *slot {
	s := &l.slots[frame%l.span]
	if !s.used || s.frame != frame {
		s.frame, s.used = frame, true
		clear(s.got)
		clear(s.of)
	}
	return s
}

// Forget drops what the lockstep holds of peer's batches that are not in
// whole (its session ended: the peer resends them from their first chunk)
// and appends their frames to dst, so the room drops their actions too.
func (l *Lockstep) Forget(peer uint16, dst []uint32) []uint32 {
	pi := l.peerIndex(peer)
	if pi < 0 {
		return dst
	}
	for f := l.next; f-l.next < l.span; f++ {
		s := &l.slots[f%l.span]
		if s.used && s.frame == f && s.got[pi] != 0 && s.got[pi] != s.of[pi] {
			s.got[pi], s.of[pi] = 0, 0
			dst = append(dst, f)
		}
	}
	return dst
}

// Ready reports whether every peer's batch for the next frame is in.
func (l *Lockstep) Ready() bool {
	s := l.slot(l.next)
	for i := range l.peers {
		if l.awaits(s, i) {
			return false
		}
	}
	return true
}

// awaits reports whether slot s (the next frame's) still waits for peer
// i's batch: i is a member at that frame and its batch is not in whole.
func (l *Lockstep) awaits(s *slot, i int) bool {
	if l.last[i] != 0 && int32(s.frame-l.last[i]) > 0 {
		return false
	}
	return s.of[i] == 0 || s.got[i] != s.of[i]
}

// Missing appends to dst the peers whose batch for the next frame is not
// in.
func (l *Lockstep) Missing(dst []uint16) []uint16 {
	s := l.slot(l.next)
	for i, p := range l.peers {
		if l.awaits(s, i) {
			dst = append(dst, p)
		}
	}
	return dst
}

// Leave records that peer leaves the mesh after frame last (its in-band
// CmdLeave, in its batch for last): no frame after last waits for it. It
// reports an error for a member that is not a peer, or left already.
func (l *Lockstep) Leave(peer uint16, last uint32) error {
	pi := l.peerIndex(peer)
	switch {
	case pi < 0:
		return fmt.Errorf("mesh: %d, not a peer, leaves", peer)
	case l.last[pi] != 0:
		return fmt.Errorf("mesh: member %d leaves twice", peer)
	case last == 0:
		return fmt.Errorf("mesh: member %d leaves after frame 0", peer)
	}
	l.last[pi] = last
	return nil
}

// Members reports how many members the mesh has at the next frame, this
// one included.
func (l *Lockstep) Members() int {
	n := 1
	for i := range l.peers {
		if l.last[i] == 0 || int32(l.next-l.last[i]) <= 0 {
			n++
		}
	}
	return n
}

// Wait records that the world could not run the next frame at now (it
// waits for Missing); the stall ends at the next Ran.
func (l *Lockstep) Wait(now time.Time) {
	if l.waiting {
		return
	}
	l.waiting, l.since = true, now
	l.blockers = l.blockers[:0]
	s := l.slot(l.next)
	for i := range l.peers {
		if l.awaits(s, i) {
			l.blockers = append(l.blockers, i)
			l.stats[i].FramesWaited++
		}
	}
}

// Ran records that the world ran the next frame at now, with world hash
// hash, and appends to dst every peer whose reported hash of that frame
// differs.
func (l *Lockstep) Ran(now time.Time, hash uint64, dst []Mismatch) []Mismatch {
	if !l.Ready() {
		panic("mesh: a frame ran without every batch")
	}
	frame := l.next
	if l.waiting {
		for _, i := range l.blockers {
			l.stats[i].Waited += now.Sub(l.since)
		}
		l.waiting = false
	}
	l.slot(frame).used = false
	l.next++
	h := l.hashSlot(frame)
	h.ours, h.hash = true, hash
	for i := range h.peer {
		if h.peer[i].ok {
			dst = l.compare(frame, i, h.peer[i].hash, dst)
		}
	}
	return dst
}

// Hash records peer's world hash of frame and appends a mismatch to dst if
// we ran frame with another. A hash of a frame too old to compare (beyond
// the ring) is ignored.
func (l *Lockstep) Hash(peer uint16, frame uint32, hash uint64, dst []Mismatch) []Mismatch {
	pi := l.peerIndex(peer)
	if pi < 0 || frame == 0 {
		return dst
	}
	if d := int64(l.next) - int64(frame); d > int64(len(l.hashes))/2 || -d > int64(len(l.hashes))/2 {
		return dst // too far from our frame to keep
	}
	h := l.hashSlot(frame)
	if h.ours {
		return l.compare(frame, pi, hash, dst)
	}
	h.peer[pi] = peerHash{ok: true, hash: hash}
	return dst
}

func (l *Lockstep) compare(frame uint32, pi int, theirs uint64, dst []Mismatch) []Mismatch {
	h := l.hashSlot(frame)
	h.peer[pi].ok = false
	l.stats[pi].HashChecks++
	if theirs != h.hash {
		l.stats[pi].Mismatches++
		dst = append(dst, Mismatch{Frame: frame, Peer: l.peers[pi], Ours: h.hash, Their: theirs})
	}
	return dst
}

// hashSlot returns frame's hash slot, claiming it for frame.
func (l *Lockstep) hashSlot(frame uint32) *hashSlot {
	h := &l.hashes[frame%uint32(len(l.hashes))]
	if h.frame != frame {
		h.frame, h.ours = frame, false
		for i := range h.peer {
			h.peer[i] = peerHash{}
		}
	}
	return h
}

// Stats appends to dst what was counted for each peer, in member order.
func (l *Lockstep) Stats(dst []PeerStats) []PeerStats { return append(dst, l.stats...) }
