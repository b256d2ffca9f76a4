package client

import (
	"sync/atomic"

	"github.com/flotilla/flotilla/netcode"
)

// DatagramOverhead is what netcode adds to a snapshot payload in its UDP
// datagram: the header, the acks and the sequence (16 bytes).
const DatagramOverhead = netcode.MaxPacket - netcode.MaxUnreliablePayload

// Refusal says why a snapshot was refused. Every refused snapshot is counted
// under exactly one.
type Refusal uint8

// Refusal reasons, in the order the client checks them.
const (
	// Accepted: not refused.
	Accepted Refusal = iota
	// RefusedEarly: it came before the Welcome, so there is no schema to
	// decode it with.
	RefusedEarly
	// RefusedMalformed: a bad head, or a body the codec rejects for any
	// reason but the checksum.
	RefusedMalformed
	// RefusedMissingBaseline: a delta or heartbeat whose baseline the ring
	// does not hold under exactly sequence seq−Back.
	RefusedMissingBaseline
	// RefusedChecksum: the rebuilt view does not match the sender's checksum.
	RefusedChecksum
	numRefusals
)

var refusalNames = [numRefusals]string{"accepted", "early", "malformed", "missing baseline", "checksum"}

func (r Refusal) String() string {
	if r < numRefusals {
		return refusalNames[r]
	}
	return "unknown"
}

// Stats are a client's cumulative counters. Stats() reads them atomically
// one by one: they are safe to read from any goroutine, each exact, but not
// one consistent cut.
type Stats struct {
	// Snapshots counts accepted snapshots; Full, Delta and Heartbeat split
	// them by form.
	Snapshots, Full, Delta, Heartbeat uint64
	// Refused counts refused snapshots (Early + Malformed + MissingBaseline
	// + ChecksumMismatch).
	Refused, Early, Malformed, MissingBaseline uint64
	// ChecksumMismatch counts snapshots refused because the rebuilt view did
	// not match the sender's checksum, whether or not a later one repaired
	// the state.
	ChecksumMismatch uint64
	// DesyncEpisodes counts desync episodes begun (an episode runs from a
	// mismatch to the next accepted snapshot); DesyncPermanent those that
	// lasted more than Config.DesyncAfter. DesyncReports counts the protocol.Desync messages
	// sent (at most two per episode).
	DesyncEpisodes, DesyncPermanent, DesyncReports uint64
	// SnapshotDatagrams and SnapshotBytes count every snapshot datagram
	// received, accepted or refused; bytes are UDP payload bytes (the
	// snapshot payload and the transport's overhead, as SnapshotInfo.Bytes).
	SnapshotDatagrams, SnapshotBytes uint64
	// ActionsSent counts actions queued by Act; ActionsApplied and
	// ActionsFizzled their results. InFlight is how many await a result.
	ActionsSent, ActionsApplied, ActionsFizzled uint64
	InFlight                                    int
	// Effects counts applied actions whose frame an accepted snapshot has
	// reached; EffectsDropped those forgotten because more than
	// Config.MaxInFlight waited for one.
	Effects, EffectsDropped uint64
	// UnknownResults counts results naming no action in flight (a duplicate,
	// or a sequence never sent); BadMessages reliable messages that failed
	// to parse, came twice (a second Welcome) or have a type a client never
	// receives.
	UnknownResults, BadMessages uint64
	// QueueDrops counts snapshot messages dropped because the queue from
	// pion's goroutines to Poll was full (WebRTC only; always 0 over
	// netcode).
	QueueDrops uint64
	// Redirects counts the times a server pointed the client to another
	// member of its mesh, and the client went there.
	Redirects uint64
}

// counters are the live Stats, written by the owner goroutine only (but
// queueDrops).
type counters struct {
	snapshots, full, delta, heartbeat                   atomic.Uint64
	refused                                             [numRefusals]atomic.Uint64
	desyncEpisodes, desyncPermanent, desyncReports      atomic.Uint64
	snapshotDatagrams, snapshotBytes                    atomic.Uint64
	actionsSent, actionsApplied, actionsFizzled         atomic.Uint64
	inFlight                                            atomic.Int64
	effects, effectsDropped, unknownResults, badMessage atomic.Uint64
	queueDrops                                          atomic.Uint64 // written by pion's goroutines
	redirects                                           atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Snapshots:         c.snapshots.Load(),
		Full:              c.full.Load(),
		Delta:             c.delta.Load(),
		Heartbeat:         c.heartbeat.Load(),
		Early:             c.refused[RefusedEarly].Load(),
		Malformed:         c.refused[RefusedMalformed].Load(),
		MissingBaseline:   c.refused[RefusedMissingBaseline].Load(),
		ChecksumMismatch:  c.refused[RefusedChecksum].Load(),
		DesyncEpisodes:    c.desyncEpisodes.Load(),
		DesyncPermanent:   c.desyncPermanent.Load(),
		DesyncReports:     c.desyncReports.Load(),
		SnapshotDatagrams: c.snapshotDatagrams.Load(),
		SnapshotBytes:     c.snapshotBytes.Load(),
		ActionsSent:       c.actionsSent.Load(),
		ActionsApplied:    c.actionsApplied.Load(),
		ActionsFizzled:    c.actionsFizzled.Load(),
		InFlight:          int(c.inFlight.Load()),
		Effects:           c.effects.Load(),
		EffectsDropped:    c.effectsDropped.Load(),
		UnknownResults:    c.unknownResults.Load(),
		BadMessages:       c.badMessage.Load(),
		QueueDrops:        c.queueDrops.Load(),
		Redirects:         c.redirects.Load(),
	}
	s.Refused = s.Early + s.Malformed + s.MissingBaseline + s.ChecksumMismatch
	return s
}
