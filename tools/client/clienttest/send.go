package clienttest

import (
	"fmt"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
)

// Plan says how Send encodes a view. The zero Plan is what a correct server
// does: a delta against the newest snapshot the session acknowledged within
// the last protocol.MaxBack sequences, a heartbeat when the view carries no
// events and its entities equal that baseline's (whatever events the
// baseline carried), a full snapshot when there is none.
type Plan struct {
	// Full forces a full snapshot.
	Full bool
	// Back, if not zero, names the snapshot Back sequences before this one
	// as the baseline, acknowledged or not.
	Back uint8
	// Against, if set (with Back), is the view the delta is encoded
	// against instead of the named baseline's: the client, holding another
	// view, rebuilds something else and fails the checksum. With Against,
	// Back may name a sequence sent with SendRaw or never sent; the head
	// then says the frame advanced by one.
	Against *codec.View
	// NoHeartbeat sends an unchanged view as a delta.
	NoHeartbeat bool
}

// Send encodes v for ss as plan says and sends it as the session's next
// unreliable payload at the current frame. It returns the sequence and the
// form sent. v is only read (its checksum record aside, see codec.View).
func (s *Server) Send(ss *Session, v *codec.View, plan Plan) (uint16, protocol.Form, error) {
	seq, err := s.nc.NextSeq(ss.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("clienttest: %w", err)
	}
	var delta *protocol.SnapshotHead
	var against *codec.View
	switch {
	case plan.Full:
	case plan.Back != 0:
		if plan.Back > protocol.MaxBack {
			return 0, 0, fmt.Errorf("clienttest: back %d over %d", plan.Back, protocol.MaxBack)
		}
		at := seq - uint16(plan.Back)
		baseFrame := s.frame - 1
		if sn := ss.sent.At(at); sn != nil {
			against, baseFrame = &sn.view, sn.frame
		}
		if plan.Against != nil {
			against = plan.Against
		}
		if against == nil {
			return 0, 0, fmt.Errorf("clienttest: no snapshot %d to name as the baseline", at)
		}
		delta = &protocol.SnapshotHead{Form: protocol.Delta, Back: plan.Back, Seq: seq, Frame: s.frame - baseFrame}
	default:
		if base, back := ss.sent.Baseline(seq); base != nil {
			against = &base.view
			delta = &protocol.SnapshotHead{Form: protocol.Delta, Back: back, Seq: seq, Frame: s.frame - base.frame}
		}
	}
	head := protocol.SnapshotHead{Form: protocol.Full, Seq: seq, Frame: s.frame}
	if delta != nil {
		head = *delta
		if !plan.NoHeartbeat && plan.Against == nil && len(v.Events) == 0 && sameEntities(s.wire.Schema, against, v) {
			head.Form = protocol.Heartbeat
		}
	}
	p, ok := protocol.AppendSnapshotHead(s.pay[:0], head)
	if !ok {
		// The advance is too long for the head: a full snapshot.
		head = protocol.SnapshotHead{Form: protocol.Full, Seq: seq, Frame: s.frame}
		against = nil
		p, _ = protocol.AppendSnapshotHead(s.pay[:0], head)
	}
	switch head.Form {
	case protocol.Full:
		p, err = s.codec.AppendFull(p, v)
	case protocol.Delta:
		p, err = s.codec.AppendDelta(p, against, v)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("clienttest: encode snapshot %d: %w", seq, err)
	}
	if err := s.send(ss, p); err != nil {
		return 0, 0, err
	}
	sn := sent{frame: s.frame}
	sn.view.CopyFrom(v)
	ss.sent.Record(seq, sn, nil)
	return seq, head.Form, nil
}

// SendRaw sends payload as the session's next unreliable payload and
// returns its sequence; nothing is recorded as a baseline.
func (s *Server) SendRaw(ss *Session, payload []byte) (uint16, error) {
	seq, err := s.nc.NextSeq(ss.ID)
	if err != nil {
		return 0, fmt.Errorf("clienttest: %w", err)
	}
	if err := s.send(ss, payload); err != nil {
		return 0, err
	}
	ss.sent.Forget(seq)
	return seq, nil
}

func (s *Server) send(ss *Session, p []byte) error {
	if _, err := s.nc.SendUnreliable(ss.ID, p); err != nil {
		return fmt.Errorf("clienttest: send snapshot: %w", err)
	}
	return nil
}

// NextSeq is the sequence the session's next snapshot will carry.
func (s *Server) NextSeq(ss *Session) uint16 {
	seq, _ := s.nc.NextSeq(ss.ID) // 0 for a session that ended
	return seq
}

// Sent returns the view and frame sent to ss under seq, if the server still
// remembers it.
func (s *Server) Sent(ss *Session, seq uint16) (*codec.View, uint32, bool) {
	sn := ss.sent.At(seq)
	if sn == nil {
		return nil, 0, false
	}
	return &sn.view, sn.frame, true
}

// Acked reports whether the session acknowledged snapshot seq.
func (s *Server) Acked(ss *Session, seq uint16) bool {
	return ss.sent.Acked(seq)
}

// sameEntities reports whether a and b hold the same entities, events aside.
func sameEntities(s *codec.Schema, a, b *codec.View) bool {
	x, y := codec.View{Entities: a.Entities}, codec.View{Entities: b.Entities}
	return s.Equal(&x, &y)
}
