package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/server"
)

// Collector exports a room's counters to Prometheus. It reads Room.Stats
// and Room.Net once per scrape, so the numbers are as fresh as the scrape
// and cost the room nothing between scrapes. Safe for concurrent scrapes.
type Collector struct {
	room   Room
	socket func() batch.Stats

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
}

// NewCollector returns a collector of room's counters. socket, when not
// nil, reads the UDP backend's own counters (batch.Conn.Stats) and adds the
// datagrams the backend dropped.
func NewCollector(room Room, socket func() batch.Stats) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("flotilla_"+name, help, labels, nil)
	}
	return &Collector{
		room:   room,
		socket: socket,

		clients:   d("clients", "Clients connected to the room."),
		frame:     d("frame", "Last frame the room stepped."),
		liveViews: d("live_views", "Snapshot views held by client histories and the tick's cache."),

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

		snapshots:     d("snapshots_total", "Snapshots sent to clients, by form: full, delta against an acknowledged baseline, or a heartbeat saying nothing changed.", "form"),
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
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.clients, c.frame, c.liveViews, c.tickSeconds, c.snapshotBytes,
		c.rxBytes, c.txBytes, c.rxPackets, c.txPackets, c.packetsByType,
		c.drops, c.refused, c.connects, c.disconnects,
		c.snapshots, c.actions, c.actionsBusy, c.budgetSkips, c.prioritized, c.deferred,
		c.eventsDropped, c.prioritySkips, c.priceMisses, c.encodes, c.encodesShared,
		c.desyncs, c.desyncsPermanent, c.badMessages, c.framesSkipped,
	} {
		ch <- d
	}
	if c.socket != nil {
		ch <- c.socketDrops
		ch <- c.socketTruncated
	}
}

// Collect reads the room's counters and sends them.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s, n := c.room.Stats(), c.room.Net()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.clients, float64(s.Clients))
	gauge(c.frame, float64(s.Frame))
	gauge(c.liveViews, float64(s.LiveViews))
	ch <- constHistogram(c.tickSeconds, s.TickSeconds)
	ch <- constHistogram(c.snapshotBytes, s.SnapshotBytes)

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
	counter(c.connects, s.Connects)

	counter(c.snapshots, s.Fulls, "full")
	counter(c.snapshots, s.Deltas, "delta")
	counter(c.snapshots, s.Heartbeats, "heartbeat")
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
