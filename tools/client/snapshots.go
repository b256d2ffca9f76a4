package client

import (
	"errors"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
)

// slot is one accepted view of the history ring.
type slot struct {
	frame uint32
	view  codec.View
}

// history is the ring of accepted views by snapshot sequence
// (protocol.Ring), and the spare view decodes go into.
type history struct {
	ring   protocol.Ring[slot]
	spare  codec.View
	newest *slot // the last accepted; nil before the first
}

func (h *history) init(capacity int) {
	for i := range protocol.History {
		h.ring.Slot(uint16(i)).view = newView(capacity)
	}
	h.spare = newView(capacity)
}

func newView(capacity int) codec.View {
	return codec.View{
		Entities: make([]codec.Entity, 0, capacity),
		Events:   make([]codec.Event, 0, initialEvents),
	}
}

// episode is the current desync episode: from the first checksum mismatch
// to the next accepted snapshot.
type episode struct {
	active    bool
	permanent bool      // counted and reported as permanent
	start     time.Time // the first mismatch
	seq       uint16    // the last mismatching snapshot
	frame     uint32
}

// receive handles one snapshot payload and reports whether the client
// accepted it (and so acknowledges it), and its sequence. The snapshot's own
// sequence is in its head; the transport's is not used.
func (c *Client) receive(p []byte) (seq uint16, ok bool) {
	info := SnapshotInfo{Bytes: c.overhead + len(p)}
	c.st.snapshotDatagrams.Add(1)
	c.st.snapshotBytes.Add(uint64(info.Bytes))
	info.Refusal = c.decode(p, &info)
	if info.Refusal != Accepted {
		c.st.refused[info.Refusal].Add(1)
	}
	if c.cfg.OnSnapshot != nil {
		c.cfg.OnSnapshot(info)
	}
	return info.Seq, info.Refusal == Accepted
}

// decode rebuilds the view of the snapshot into its ring slot, or says why
// it cannot. A refused snapshot leaves the ring as it was.
func (c *Client) decode(p []byte, info *SnapshotInfo) Refusal {
	if c.codec == nil {
		return RefusedEarly
	}
	head, body, err := protocol.ParseSnapshotHead(p)
	if err != nil {
		return RefusedMalformed
	}
	seq := head.Seq
	info.Form, info.Seq = head.Form, seq
	var base *slot
	frame := head.Frame
	if head.Form != protocol.Full {
		if base = c.hist.ring.At(seq - uint16(head.Back)); base == nil {
			return RefusedMissingBaseline
		}
		frame = base.frame + head.Frame
	}
	// Back is at least 1, so dst is never base.
	dst := c.hist.ring.Slot(seq)
	switch head.Form {
	case protocol.Heartbeat:
		dst.view.CopyFrom(&base.view)
		dst.view.Events = dst.view.Events[:0]
	default:
		var bv *codec.View
		if base != nil {
			bv = &base.view
		}
		if err := c.codec.Decode(body, bv, &c.hist.spare); err != nil {
			if errors.Is(err, codec.ErrChecksum) {
				info.Frame = frame
				c.mismatch(seq, frame)
				return RefusedChecksum
			}
			return RefusedMalformed
		}
		// The decoded view takes the slot's place; the slot's old view
		// (sequence seq−History, never a baseline again) is the next spare.
		dst.view, c.hist.spare = c.hist.spare, dst.view
	}
	dst.frame = frame
	c.hist.ring.Set(seq)
	info.Frame = frame
	c.accepted(dst, head.Form)
	return Accepted
}

func (c *Client) accepted(s *slot, form protocol.Form) {
	c.hist.newest = s
	c.st.snapshots.Add(1)
	switch form {
	case protocol.Full:
		c.st.full.Add(1)
	case protocol.Delta:
		c.st.delta.Add(1)
	default:
		c.st.heartbeat.Add(1)
	}
	// Every accepted snapshot rests on a verified state (a heartbeat on a
	// baseline that passed its checksum), so it ends the episode.
	c.desync.active = false
	c.reachFrame(s.frame)
}

// mismatch records a checksum mismatch of snapshot seq at frame.
func (c *Client) mismatch(seq uint16, frame uint32) {
	e := &c.desync
	if !e.active {
		*e = episode{active: true, start: c.now}
		c.st.desyncEpisodes.Add(1)
		c.reportDesync(seq, frame, false)
	}
	e.seq, e.frame = seq, frame
	c.checkPermanent(c.now)
}

// checkPermanent counts and reports the episode as permanent once it has
// lasted more than DesyncAfter.
func (c *Client) checkPermanent(now time.Time) {
	e := &c.desync
	if !e.active || e.permanent || now.Sub(e.start) <= c.cfg.DesyncAfter {
		return
	}
	e.permanent = true
	c.st.desyncPermanent.Add(1)
	c.reportDesync(e.seq, e.frame, true)
}

// desyncDue is when checkPermanent must next run: just past the window of
// an episode not yet permanent.
func (c *Client) desyncDue() (time.Time, bool) {
	e := &c.desync
	if !e.active || e.permanent {
		return time.Time{}, false
	}
	return e.start.Add(c.cfg.DesyncAfter + time.Nanosecond), true
}

func (c *Client) reportDesync(seq uint16, frame uint32, permanent bool) {
	d := protocol.Desync{Seq: seq, Frame: frame, Permanent: permanent}
	// A failure means the session is over; Err says so.
	if c.tr.SendReliable(protocol.AppendDesync(c.buf[:0], &d)) == nil {
		c.st.desyncReports.Add(1)
	}
}
