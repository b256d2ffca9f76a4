package bw

import (
	"net/netip"
	"time"
)

// Direction is which way a packet went, seen from the server.
type Direction uint8

const (
	In  Direction = iota // client → server: the destination port is a server port
	Out                  // server → client: the source port is a server port
)

func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// MarshalText writes "in" or "out".
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Counts is what a set of packets adds up to. The two byte counts measure
// different things and are never mixed:
//   - UDPPayloadBytes is the UDP length field minus the 8-byte UDP header:
//     the bytes the application handed to its socket, what Flotilla's own
//     counters (netcode.Stats.TxBytes, batch.Stats.TxBytes) count.
//   - FrameBytes is the record's original length in the capture: the
//     capture's link header (Ethernet, Linux cooked, loopback) + IP header
//   - UDP header + payload. On loopback and cooked captures the link
//     header is the capture's own, not something a wire carried.
type Counts struct {
	Packets         uint64 `json:"packets"`
	UDPPayloadBytes uint64 `json:"udp_payload_bytes"`
	FrameBytes      uint64 `json:"frame_bytes"`
}

// Add counts one packet.
func (c *Counts) Add(payload, frame int) {
	c.Packets++
	c.UDPPayloadBytes += uint64(payload)
	c.FrameBytes += uint64(frame)
}

// Merge adds o to c.
func (c *Counts) Merge(o Counts) {
	c.Packets += o.Packets
	c.UDPPayloadBytes += o.UDPPayloadBytes
	c.FrameBytes += o.FrameBytes
}

// Type names beyond netcode's packet types (netcode.Type.String: "request",
// "challenge", "response", "accept", "disconnect", "reliable", "unreliable",
// "keepalive").
const (
	// TypeNonFlotilla is a UDP payload on a server port that is not a
	// Flotilla datagram: too short for the header, another protocol id, an
	// unknown version or an unknown packet type.
	TypeNonFlotilla = "non-flotilla"
	// TypeCut is a datagram the capture's snap length cut before its
	// header's type byte, so its type is unknown. Its sizes still count
	// (they come from the UDP length and the original frame length).
	TypeCut = "cut"
)

// TypeCounts is the share of one packet type.
type TypeCounts struct {
	Type string `json:"type"`
	Counts
}

// Sizes summarises UDP payload sizes, in bytes. Quantiles are exact (nearest
// rank over every packet).
type Sizes struct {
	P50 int `json:"p50"`
	P99 int `json:"p99"`
	Max int `json:"max"`
}

// Second is one second of a series: Counts for the packets whose timestamp
// falls in [t0+T s, t0+T+1 s), t0 being the first record's timestamp. That
// is Capture.First unless a later record is stamped earlier (a
// multi-interface pcapng out of order): such records count in second 0.
type Second struct {
	T int `json:"t"`
	Counts
}

// Flow is one client's traffic in one direction with one server address.
type Flow struct {
	Server    netip.AddrPort `json:"server"`
	Client    netip.AddrPort `json:"client"`
	Direction Direction      `json:"direction"`
	Counts
	Size  Sizes     `json:"size"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// ByType has an entry per type seen, netcode's types in their numeric
	// order, then TypeCut, then TypeNonFlotilla.
	ByType []TypeCounts `json:"by_type"`
	// Series has an entry per second in which the flow had packets, in
	// time order (seconds without packets are left out).
	Series []Second `json:"series"`
}

// Skipped counts capture records that are not UDP traffic of a server
// port, by reason. None of them is in any Counts of the report.
type Skipped struct {
	OtherPort   uint64 `json:"other_port"`   // UDP, neither port a server port
	NotUDP      uint64 `json:"not_udp"`      // IP, but not UDP (TCP, ICMP, ...)
	NotIP       uint64 `json:"not_ip"`       // not IPv4 or IPv6 (ARP, ...)
	Fragment    uint64 `json:"fragment"`     // an IP fragment (not reassembled)
	Malformed   uint64 `json:"malformed"`    // headers that do not decode, or lengths that disagree
	Truncated   uint64 `json:"truncated"`    // cut by the snap length before the UDP header ended
	UnknownLink uint64 `json:"unknown_link"` // a link type this tool does not decode
}

// Capture describes the file that was read.
type Capture struct {
	Format    string    `json:"format"`     // "pcap" or "pcapng"
	LinkTypes []string  `json:"link_types"` // each link type seen, e.g. "Ethernet", "Linux SLL", "Null"
	Records   uint64    `json:"records"`    // packet records read
	First     time.Time `json:"first"`      // earliest timestamp read (zero without records)
	// Origin is where second 0 of every series starts: the first
	// record's timestamp in file order. It is First unless the records
	// are out of time order.
	Origin time.Time `json:"origin"`
	Last   time.Time `json:"last"` // latest timestamp read
	// Error says why reading stopped before the end of the file: a
	// truncated last record or a damaged block. Everything before it is
	// in the report. Empty when the whole file was read.
	Error string `json:"error,omitempty"`
}

// Report is what Analyze found.
type Report struct {
	Capture Capture  `json:"capture"`
	Ports   []uint16 `json:"ports"` // Options.Ports, ascending
	// Total is every packet to or from a server port, both directions.
	Total Counts `json:"total"`
	In    Counts `json:"in"`
	Out   Counts `json:"out"`
	// SizeIn and SizeOut summarise UDP payload sizes per direction.
	SizeIn  Sizes `json:"size_in"`
	SizeOut Sizes `json:"size_out"`
	// ByTypeIn and ByTypeOut are per packet type, ordered as Flow.ByType.
	ByTypeIn  []TypeCounts `json:"by_type_in"`
	ByTypeOut []TypeCounts `json:"by_type_out"`
	// SeriesIn and SeriesOut are dense: index s holds second s of the
	// capture (as Second.T counts them), through the last second with a
	// packet to or from a server port; both have the same length.
	SeriesIn  []Counts `json:"series_in"`
	SeriesOut []Counts `json:"series_out"`
	// Clients is one entry per (server, client, direction), ordered by
	// server, then client, then direction (in before out).
	Clients []Flow `json:"clients"`
	// Mesh is one entry per (server, peer, direction) with Options.Peers,
	// ordered as Clients; MeshIn and MeshOut total it per direction.
	Mesh    []Flow  `json:"mesh"`
	MeshIn  Counts  `json:"mesh_in"`
	MeshOut Counts  `json:"mesh_out"`
	Skipped Skipped `json:"skipped"`
	// Overflow counts packets that are in Total, In, Out and the by-type
	// counts but in no Flow (beyond Options.MaxFlows) or in no series
	// (beyond Options.MaxSeconds); a packet beyond both counts once.
	Overflow uint64 `json:"overflow"`
}

// Options says what Analyze looks for and how much it keeps.
type Options struct {
	// Ports are the server's UDP ports (at least one). A packet whose
	// destination port is one of them is In; else one whose source port is
	// one of them is Out.
	Ports []uint16
	// MaxFlows bounds Clients (default 65,536). Packets of flows beyond it
	// are counted in Total, In, Out, the by-type counts and the series, and
	// in Report.Overflow, but get no Flow.
	MaxFlows int
	// MaxSeconds bounds the series (default 86,400, a day). Packets later
	// than that are counted in Total, In, Out, the by-type counts and their
	// Flow's totals, and in Report.Overflow, but in no series.
	MaxSeconds int
	// Peers are the addresses of the servers' mesh peers (STANDARD.md
	// section 6): flows with them are mesh traffic, reported in
	// Report.Mesh (per peer and direction, with their packet types) and
	// totalled in MeshIn and MeshOut, not among Clients. Total, In and Out
	// still count everything.
	Peers []netip.AddrPort
}
