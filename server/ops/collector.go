package ops

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/server"
)

// Collector exports a room's counters to Prometheus. It reads Room.Stats
// and Room.Net, and its CollectorSources, once per scrape, so the numbers
// are as fresh as the scrape and cost the room nothing between scrapes.
// Safe for concurrent scrapes.
type Collector struct {
	room        Room
	net         func() netcode.Stats
	socket      func() batch.Stats
	kernelDrops func() (uint64, error)
	transport   func() map[string]uint64
	mesh        func() server.MeshStats
	log         *slog.Logger
	kernelErrs  atomic.Uint64 // failed reads of kernelDrops

	clients, frame, liveViews          *prometheus.Desc
	tickSeconds, snapshotBytes         *prometheus.Desc
	rxBytes, txBytes                   *prometheus.Desc
	rxPackets, txPackets               *prometheus.Desc
	packetsByType                      *prometheus.Desc
	drops, refused                     *prometheus.Desc
	connects, disconnects              *prometheus.Desc
	snapshots, actions, actionsBusy    *prometheus.Desc
	budgetSkips, prioritized, deferred *prometheus.Desc
	eventsDropped                      *prometheus.Desc
	prioritySkips, priceMisses         *prometheus.Desc
	encodes, encodesShared             *prometheus.Desc
	desyncs, desyncsPermanent          *prometheus.Desc
	badMessages, framesSkipped         *prometheus.Desc
	socketDrops, socketTruncated       *prometheus.Desc
	udpKernelDrops, udpKernelErrors    *prometheus.Desc
	unproven, freeViewBytes            *prometheus.Desc
	storedStates, knownViews           *prometheus.Desc
	oldestStore                        *prometheus.Desc
	sentAway, proofSeconds             *prometheus.Desc
	actionsReserved, joinsFizzled      *prometheus.Desc
	evicted, transportDrops            *prometheus.Desc
	// The mesh's, by peer member.
	meshPeerUp, meshBatches, meshBytes *prometheus.Desc
	meshWaited, meshWaitSeconds        *prometheus.Desc
	meshRTT                            *prometheus.Desc
	meshHashChecks, meshMismatches     *prometheus.Desc
	meshStalled, meshMembers           *prometheus.Desc
	meshRedirects                      *prometheus.Desc
}

// CollectorSources are a Collector's optional inputs beside its room. Each
// func is called once per scrape on the scrape's goroutine, and concurrent
// scrapes may call it at the same time.
type CollectorSources struct {
	// Net, when set, reads the UDP transport's counters (server.UDP.Stats).
	Net func() netcode.Stats
	// Socket, when set, reads the UDP backend's own counters
	// (batch.Conn.Stats) to export the datagrams the backend dropped.
	Socket func() batch.Stats
	// KernelDrops, when set, reads the datagrams the kernel dropped at the
	// UDP socket's receive queue before the backend read them (in the
	// binary, udpio.KernelDrops of the room's address). A scrape it fails
	// leaves flotilla_udp_kernel_drops_total out, counts the failure in
	// flotilla_udp_kernel_drops_read_errors_total and logs it: the first
	// failure at warn level, later ones at debug.
	KernelDrops func() (uint64, error)
	// TransportDrops, when set, reads the transports' own drops by reason
	// (a fixed set of names: bounded cardinality).
	TransportDrops func() map[string]uint64
	// Mesh, when set, reads the room's mesh figures (labels: the peers'
	// member ids, at most mesh.MaxMembers).
	Mesh func() server.MeshStats
	// Log receives KernelDrops' errors; nil discards them.
	Log *slog.Logger
}

// NewCollector returns a collector of room's counters and of the sources
// in src that are set.
func NewCollector(room Room, src CollectorSources) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("flotilla_"+name, help, labels, nil)
	}
	log := src.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{
		room:        room,
		net:         src.Net,
		socket:      src.Socket,
		kernelDrops: src.KernelDrops,
		transport:   src.TransportDrops,
		mesh:        src.Mesh,
		log:         log,

		clients: d("clients", "Clients in the room's world: sessions that acknowledged a snapshot."),

		unproven:        d("unproven_sessions", "Sessions that have not yet acknowledged a snapshot: no avatar, no view of their own."),
		freeViewBytes:   d("free_view_bytes", "Memory kept in idle snapshot views for reuse (bounded by the room's MaxFreeViewBytes)."),
		storedStates:    d("stored_states", "Entity states the room keeps for what its clients hold, each distinct state a worker met in a tick once (72 bytes each)."),
		oldestStore:     d("state_store_oldest_frames", "Age in frames of the oldest state store a client history still names: how far back what the clients hold reaches."),
		knownViews:      d("known_views", "Snapshots the clients' histories keep, as references to stored states (4 bytes an entity; shared where clients got the same view)."),
		sentAway:        d("sent_away_total", "Sessions the room ended, by reason (throttled: too many unproven sessions overall or from one address; timeout: acknowledged nothing in time).", "reason"),
		proofSeconds:    d("proof_duration_seconds", "Time from a session's arrival to its first acknowledged snapshot."),
		actionsReserved: d("actions_reserved_total", "Client actions of a kind reserved to the server (join, leave), fizzled; also counted in flotilla_actions_total{result=\"fizzled\"}."),
		joinsFizzled:    d("joins_fizzled_total", "Proven clients the game refused a place in the world."),
		transportDrops:  d("transport_drops_total", "Datagrams or messages a transport dropped outside netcode's counts, by reason (unreliable payloads from native clients, browsers' malformed acks, WebRTC datagrams the bridge fell behind on), and browsers the bridge turned away before they were sessions (webrtc_refused_full, _throttled, _bad_offer, _too_large, _open_timeout).", "reason"),
		evicted:         d("unproven_evicted_total", "Oldest unproven sessions sent away (throttled) to make room for a new one when the unproven pool was full."),
		frame:           d("frame", "Last frame the room stepped."),
		liveViews:       d("live_views", "Snapshot views alive between ticks: the game's views live one tick, so this is the proof view; what client histories hold is flotilla_known_views."),

		tickSeconds:   d("tick_duration_seconds", "Wall time of one room tick: actions, world step and every snapshot sent."),
		snapshotBytes: d("snapshot_size_bytes", "UDP payload bytes of one snapshot datagram: the bytes one client receives for one snapshot."),

		rxBytes:       d("net_received_bytes_total", "UDP payload bytes received, including datagrams then dropped."),
		txBytes:       d("net_sent_bytes_total", "UDP payload bytes sent."),
		rxPackets:     d("net_received_packets_total", "Datagrams received, including those then dropped."),
		txPackets:     d("net_sent_packets_total", "Datagrams sent."),
		packetsByType: d("net_packets_by_type_total", "Datagrams by direction (in: accepted; out: sent) and netcode packet type.", "direction", "type"),
		drops:         d("net_dropped_packets_total", "Received datagrams ignored by the transport, by reason.", "reason"),
		refused:       d("net_refused_total", "Connection attempts answered with a disconnect, by reason.", "reason"),
		connects:      d("connects_total", "Clients that connected."),
		disconnects:   d("disconnects_total", "Sessions that ended, by reason.", "reason"),

		snapshots:     d("snapshots_total", "Snapshots sent to clients, by form: full, delta against an acknowledged baseline, a heartbeat saying nothing changed, or the shared proof snapshot an unproven session must acknowledge.", "form"),
		actions:       d("actions_total", "Client actions resolved, by result: applied, or fizzled (including those refused as busy).", "result"),
		actionsBusy:   d("actions_busy_total", "Client actions fizzled on receipt because too many were pending; also counted in flotilla_actions_total{result=\"fizzled\"}."),
		budgetSkips:   d("budget_skips_total", "Snapshots not sent because the client's byte budget was spent."),
		prioritized:   d("prioritized_snapshots_total", "Snapshots cut down by the priority accumulator to fit the client's budget."),
		deferred:      d("deferred_entity_updates_total", "Entity updates the priority accumulator left out of a snapshot."),
		eventsDropped: d("events_dropped_total", "Combat events that did not fit in a snapshot."),
		prioritySkips: d("priority_skips_total", "Snapshots not sent because the baseline's removals alone did not fit the client's room."),
		priceMisses:   d("price_misses_total", "Prioritized snapshots skipped because their encoding did not fit its price (a bug: should stay 0)."),
		encodes:       d("encodes_total", "Snapshot encodings made."),
		encodesShared: d("encodes_shared_total", "Snapshot sends that reused another client's encoding."),

		desyncs:          d("desync_reports_total", "Checksum mismatches reported by clients."),
		desyncsPermanent: d("desync_permanent_total", "Reported desyncs that outlived the client's repair window."),
		badMessages:      d("bad_messages_total", "Client messages that broke the protocol."),
		framesSkipped:    d("frames_skipped_total", "Frames dropped because the room fell behind its clock."),

		socketDrops:     d("socket_dropped_packets_total", "Datagrams the UDP backend dropped (in: its receive ring was full; out: the socket refused them).", "direction"),
		socketTruncated: d("socket_truncated_packets_total", "Received datagrams longer than the receive buffer, cut short by the socket."),

		meshPeerUp:      d("mesh_peer_up", "1 while a session with the mesh peer is up and said Hello, else 0.", "member"),
		meshBatches:     d("mesh_batches_total", "Frames whose batch came in whole from the mesh peer.", "member"),
		meshBytes:       d("mesh_batch_bytes_total", "Bytes of batch messages to or from the peer, as reliable messages (before KCP and netcode headers).", "member", "direction"),
		meshWaited:      d("mesh_frames_waited_total", "Frames that waited for the peer's batch.", "member"),
		meshRTT:         d("mesh_peer_rtt_seconds", "Smoothed round trip of this member's pings answered in the peer's batches: the network's plus the peer's wait for its next batch (absent until the first answer).", "member"),
		meshWaitSeconds: d("mesh_wait_seconds_total", "Time frames waited for the peer's batch (a wait counts for every peer it waited for).", "member"),
		meshHashChecks:  d("mesh_hash_checks_total", "Frames whose world hash was compared with the peer's.", "member"),
		meshMismatches:  d("mesh_hash_mismatches_total", "Frames whose world hash differed from the peer's: an alarm, each logged as an error.", "member"),
		meshStalled:     d("mesh_stalled_ticks_total", "Ticks that could not run a frame because a peer's batch was missing."),
		meshRedirects:   d("mesh_redirects_total", "Connecting clients sent to a less loaded member: native ones by a Redirect, browsers' offers by an HTTP redirect.", "client"),
		meshMembers:     d("mesh_members", "Members of the mesh, this one included, as configured."),

		udpKernelDrops:  d("udp_kernel_drops_total", "Datagrams the kernel dropped at the socket's receive queue before the server read them."),
		udpKernelErrors: d("udp_kernel_drops_read_errors_total", "Scrapes that could not read the kernel's drops and left flotilla_udp_kernel_drops_total out."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.clients, c.frame, c.liveViews, c.tickSeconds, c.snapshotBytes,
		c.unproven, c.freeViewBytes, c.storedStates, c.knownViews, c.oldestStore, c.sentAway, c.proofSeconds, c.actionsReserved, c.joinsFizzled, c.evicted,
		c.connects, c.snapshots, c.actions, c.actionsBusy, c.budgetSkips, c.prioritized, c.deferred,
		c.eventsDropped, c.prioritySkips, c.priceMisses, c.encodes, c.encodesShared,
		c.desyncs, c.desyncsPermanent, c.badMessages, c.framesSkipped,
	} {
		ch <- d
	}
	if c.net != nil {
		for _, d := range []*prometheus.Desc{c.rxBytes, c.txBytes, c.rxPackets, c.txPackets, c.packetsByType, c.drops, c.refused, c.disconnects} {
			ch <- d
		}
	}
	if c.socket != nil {
		ch <- c.socketDrops
		ch <- c.socketTruncated
	}
	if c.kernelDrops != nil {
		ch <- c.udpKernelDrops
		ch <- c.udpKernelErrors
	}
	if c.transport != nil {
		ch <- c.transportDrops
	}
	if c.mesh != nil {
		for _, d := range []*prometheus.Desc{c.meshPeerUp, c.meshBatches, c.meshBytes, c.meshWaited, c.meshWaitSeconds, c.meshRTT, c.meshHashChecks, c.meshMismatches, c.meshStalled, c.meshMembers, c.meshRedirects} {
			ch <- d
		}
	}
}

// Collect reads the room's counters and sends them.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.room.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.clients, float64(s.Clients))
	gauge(c.unproven, float64(s.Unproven))
	gauge(c.freeViewBytes, float64(s.FreeViewBytes))
	gauge(c.storedStates, float64(s.StoredStates))
	gauge(c.knownViews, float64(s.LiveKnowns))
	gauge(c.oldestStore, float64(s.OldestStoreFrames))
	for r := server.Reason(1); int(r) < len(s.SentAway); r++ {
		counter(c.sentAway, s.SentAway[r], r.String())
	}
	ch <- constHistogram(c.proofSeconds, s.ProofSeconds)
	counter(c.actionsReserved, s.Reserved)
	counter(c.joinsFizzled, s.JoinsFizzled)
	counter(c.evicted, s.Evicted)
	if c.mesh != nil {
		m := c.mesh()
		gauge(c.meshMembers, float64(len(m.Peers)+1))
		counter(c.meshStalled, m.StalledTicks)
		counter(c.meshRedirects, m.Redirects, "native")
		counter(c.meshRedirects, m.BrowserRedirects, "browser")
		for _, p := range m.Peers {
			id := strconv.Itoa(int(p.Member))
			up := 0.0
			if p.Up {
				up = 1
			}
			gauge(c.meshPeerUp, up, id)
			counter(c.meshBatches, p.Batches, id)
			counter(c.meshBytes, p.SentBytes, id, "sent")
			counter(c.meshBytes, p.GotBytes, id, "received")
			counter(c.meshWaited, p.FramesWaited, id)
			ch <- prometheus.MustNewConstMetric(c.meshWaitSeconds, prometheus.CounterValue, p.Waited.Seconds(), id)
			counter(c.meshHashChecks, p.HashChecks, id)
			counter(c.meshMismatches, p.Mismatches, id)
			if p.RTT > 0 {
				gauge(c.meshRTT, p.RTT.Seconds(), id)
			}
		}
	}
	gauge(c.frame, float64(s.Frame))
	gauge(c.liveViews, float64(s.LiveViews))
	ch <- constHistogram(c.tickSeconds, s.TickSeconds)
	ch <- constHistogram(c.snapshotBytes, s.SnapshotBytes)

	if c.net != nil {
		n := c.net()
		counter(c.rxBytes, n.RxBytes)
		counter(c.txBytes, n.TxBytes)
		counter(c.rxPackets, n.RxPackets)
		counter(c.txPackets, n.TxPackets)
		for t := range n.RxByType {
			counter(c.packetsByType, n.RxByType[t], "in", netcode.Type(t).String())
			counter(c.packetsByType, n.TxByType[t], "out", netcode.Type(t).String())
		}
		for r, v := range n.Drops {
			counter(c.drops, v, netcode.Drop(r).String())
		}
		for r := range n.Refused {
			counter(c.refused, n.Refused[r], netcode.Reason(r).String())
			counter(c.disconnects, n.Disconnects[r], netcode.Reason(r).String())
		}
	}
	counter(c.connects, s.Connects)

	counter(c.snapshots, s.Fulls, "full")
	counter(c.snapshots, s.Deltas, "delta")
	counter(c.snapshots, s.Heartbeats, "heartbeat")
	counter(c.snapshots, s.Proofs, "proof")
	counter(c.actions, s.Applied, "applied")
	counter(c.actions, s.Fizzled, "fizzled")
	counter(c.actionsBusy, s.Busy)
	counter(c.budgetSkips, s.BudgetSkips)
	counter(c.prioritized, s.Prioritized)
	counter(c.deferred, s.Deferred)
	counter(c.eventsDropped, s.EventsDropped)
	counter(c.prioritySkips, s.PrioritySkips)
	counter(c.priceMisses, s.PriceMisses)
	counter(c.encodes, s.Encodes)
	counter(c.encodesShared, s.EncodesShared)
	counter(c.desyncs, s.DesyncReports)
	counter(c.desyncsPermanent, s.DesyncPermanent)
	counter(c.badMessages, s.BadMessages)
	counter(c.framesSkipped, s.FramesSkipped)

	if c.socket != nil {
		b := c.socket()
		counter(c.socketDrops, b.RxDropped, "in")
		counter(c.socketDrops, b.TxDropped, "out")
		counter(c.socketTruncated, b.RxTruncated)
	}
	if c.kernelDrops != nil {
		c.collectKernelDrops(ch)
	}
	if c.transport != nil {
		for reason, v := range c.transport() {
			counter(c.transportDrops, v, reason)
		}
	}
}

// collectKernelDrops sends the kernel's drop count and the count of the
// scrapes that could not read it. A failed read leaves the drop count out
// of this scrape rather than failing the whole scrape or sending a zero.
func (c *Collector) collectKernelDrops(ch chan<- prometheus.Metric) {
	drops, err := c.kernelDrops()
	if err != nil {
		failures := c.kernelErrs.Add(1)
		level := slog.LevelDebug
		if failures == 1 {
			level = slog.LevelWarn
		}
		c.log.Log(context.Background(), level, "ops: cannot read the kernel's UDP drops", "err", err, "failures", failures)
	} else {
		ch <- prometheus.MustNewConstMetric(c.udpKernelDrops, prometheus.CounterValue, float64(drops))
	}
	ch <- prometheus.MustNewConstMetric(c.udpKernelErrors, prometheus.CounterValue, float64(c.kernelErrs.Load()))
}

// constHistogram turns a room histogram (per-bucket counts, the last one
// above every bound) into a Prometheus one (cumulative counts per upper
// bound, +Inf implied by the count). The count is the sum of the buckets
// rather than h.Count: the room reads its buckets one by one while it may
// be observing, and a histogram must never count fewer observations than
// its buckets hold.
func constHistogram(d *prometheus.Desc, h server.HistogramSnapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var acc uint64
	for i, c := range h.Counts {
		acc += c
		if i < len(h.Bounds) {
			buckets[h.Bounds[i]] = acc
		}
	}
	return prometheus.MustNewConstHistogram(d, acc, h.Sum, buckets)
}
