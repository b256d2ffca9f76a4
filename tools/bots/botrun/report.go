package botrun

import (
	"fmt"
	"io"
	"time"
)

// Report is the outcome of a run. It marshals to the JSON object the bots
// print; the first twelve keys are a fixed contract (scripts and the perf
// harness read them), the rest come after them.
//
// Definitions:
//   - Connected: bots that completed the handshake and got their ship within
//     the connect timeout.
//   - Snapshots: snapshots accepted, over all bots.
//   - BytesPerClientTickP50/P99: over every snapshot datagram any bot
//     received (accepted or refused), its UDP payload size: netcode's
//     16-byte unreliable header plus the snapshot payload (over WebRTC,
//     the bridge's 65 bytes of DTLS and SCTP instead). Exact (bytes).
//   - ChecksumMismatch: snapshots refused because the rebuilt view did not
//     match the server's checksum (each one, repaired or not).
//     DesyncPermanent: desync episodes not repaired by an accepted snapshot
//     within the client's 1 s window (once per episode).
//   - ActionsLost: for each bot at the end of its drain, sent − applied −
//     fizzled − its reliable segments still unacknowledged (Pending: each
//     action is one KCP segment, over WebRTC one SCTP message), summed
//     (never below zero per bot): actions the server's reliable channel
//     took and never answered.
//   - ActionToEffectMsP99: over applied actions, the time from Act to the
//     later of the result's arrival and the arrival of the first accepted
//     snapshot at or past the result's frame; at most 3% above the exact
//     value (log-linear histogram).
type Report struct {
	Clients               int     `json:"clients"`
	Connected             int     `json:"connected"`
	Snapshots             uint64  `json:"snapshots"`
	DesyncPermanent       uint64  `json:"desync_permanent"`
	ChecksumMismatch      uint64  `json:"checksum_mismatch"`
	BytesPerClientTickP50 uint64  `json:"bytes_per_client_tick_p50"`
	BytesPerClientTickP99 uint64  `json:"bytes_per_client_tick_p99"`
	ActionsSent           uint64  `json:"actions_sent"`
	ActionsApplied        uint64  `json:"actions_applied"`
	ActionsFizzled        uint64  `json:"actions_fizzled"`
	ActionsLost           uint64  `json:"actions_lost"`
	ActionToEffectMsP99   float64 `json:"action_to_effect_ms_p99"`

	// Extras.
	ActionToEffectMsP50 float64 `json:"action_to_effect_ms_p50"`
	ActionsUnanswered   uint64  `json:"actions_unanswered"` // awaiting a result at the end, lost or not
	ActionsUnacked      uint64  `json:"actions_unacked"`    // reliable segments unacknowledged at the end
	DesyncEpisodes      uint64  `json:"desync_episodes"`
	SnapshotsRefused    uint64  `json:"snapshots_refused"` // early + missing baseline + checksum mismatch + malformed
	Early               uint64  `json:"snapshots_early"`   // came before the Welcome
	MissingBaseline     uint64  `json:"missing_baseline"`
	Malformed           uint64  `json:"snapshots_malformed"`
	SnapshotDatagrams   uint64  `json:"snapshot_datagrams"`
	SnapshotBytes       uint64  `json:"snapshot_bytes"`
	ConnectFailures     int     `json:"connect_failures"`
	SessionsLost        int     `json:"sessions_lost"` // sessions that ended before the bot closed them
	Redirects           uint64  `json:"redirects"`     // times a server of a mesh pointed a bot to another, which it followed
	DurationSeconds     float64 `json:"duration_s"`
	// Errors holds the first few distinct bot failures (connect, session).
	Errors []string `json:"errors,omitempty"`
}

// OK reports whether the run met the bar the bots' exit status checks:
// every bot connected, no permanent desync, no action lost.
func (r *Report) OK() bool {
	return r.Connected == r.Clients && r.DesyncPermanent == 0 && r.ActionsLost == 0
}

// WriteText writes a readable multi-line summary.
func (r *Report) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, `bots: %d/%d connected in %.1f s (%d connect failures, %d sessions lost)
snapshots: %d accepted of %d datagrams, %d refused (%d early, %d missing baseline, %d checksum mismatch, %d malformed)
desyncs: %d episodes, %d permanent
bytes per client tick: p50 %d, p99 %d (UDP payload, header included); %d bytes in all
actions: %d sent, %d applied, %d fizzled, %d lost (%d unanswered, %d unacknowledged)
action to effect: p50 %.1f ms, p99 %.1f ms
`,
		r.Connected, r.Clients, r.DurationSeconds, r.ConnectFailures, r.SessionsLost,
		r.Snapshots, r.SnapshotDatagrams, r.SnapshotsRefused, r.Early, r.MissingBaseline, r.ChecksumMismatch, r.Malformed,
		r.DesyncEpisodes, r.DesyncPermanent,
		r.BytesPerClientTickP50, r.BytesPerClientTickP99, r.SnapshotBytes,
		r.ActionsSent, r.ActionsApplied, r.ActionsFizzled, r.ActionsLost, r.ActionsUnanswered, r.ActionsUnacked,
		r.ActionToEffectMsP50, r.ActionToEffectMsP99)
	if err != nil {
		return err
	}
	for _, e := range r.Errors {
		if _, err := fmt.Fprintf(w, "error: %s\n", e); err != nil {
			return err
		}
	}
	return nil
}

// Live is a running total over the bots, for a once-a-second line.
type Live struct {
	Clients, Connected                          int
	Snapshots, SnapshotBytes, SnapshotDatagrams uint64
	ChecksumMismatch, DesyncPermanent           uint64
	ActionsSent, ActionsApplied, ActionsFizzled uint64
	InFlight                                    int
	Elapsed                                     time.Duration
}

// String is the one-line summary.
func (l Live) String() string {
	avg := uint64(0)
	if l.SnapshotDatagrams > 0 {
		avg = l.SnapshotBytes / l.SnapshotDatagrams
	}
	return fmt.Sprintf("bots %d/%d, snapshots %d (avg %d B), checksum mismatches %d, permanent desyncs %d, actions %d sent %d applied %d fizzled %d in flight",
		l.Connected, l.Clients, l.Snapshots, avg, l.ChecksumMismatch, l.DesyncPermanent,
		l.ActionsSent, l.ActionsApplied, l.ActionsFizzled, l.InFlight)
}
