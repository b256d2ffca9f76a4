// Package bw measures the bandwidth of a Flotilla server in a packet capture.
//
// Analyze reads one pcap or pcapng capture (the format is told by the first
// four bytes: pcap in either byte order with micro- or nanosecond
// timestamps, or pcapng's Section Header Block) and counts the UDP datagrams
// to or from the server's ports: totals per direction, per packet type
// (STANDARD.md, 3.2), per client flow and per second of the capture, with
// the median, 99th percentile and largest UDP payload.
//
// # Two byte measures
//
// Every count holds two byte measures that are never mixed:
//
//   - UDP payload bytes: the UDP length field minus the 8-byte UDP header,
//     what the application handed to its socket and what Flotilla's own
//     counters count. It comes from the header, so a record the snap length
//     cut still counts its true size.
//   - Frame bytes: the record's original length, the capture's link-layer
//     header included (the captured length when a damaged record claims an
//     original length shorter than what it holds).
//
// # What a record is
//
// Link types: Ethernet (with any number of 802.1Q or 802.1ad tags), Linux
// cooked capture SLL (113) and SLL2 (276), BSD loopback Null (0) and
// OpenBSD Loop (108) with the address family in either byte order, and raw
// IP (101, 12, 228 for IPv4 only, 229 for IPv6 only). A pcapng file may mix
// interfaces of different link types; each record is decoded with its own
// interface's. Above the link layer: IPv4, or IPv6 with hop-by-hop, routing
// and destination options extension headers, then UDP.
//
// A record is counted when it is a UDP datagram whose destination port is a
// server port (direction in: the server is the destination, the client the
// source) or, failing that, whose source port is one (direction out). Its
// type is the netcode type name when the payload starts with a Flotilla
// header of the current version and a valid type, TypeCut when the payload
// is at least a header long but the capture holds less than its first four
// bytes, and TypeNonFlotilla otherwise (a payload shorter than the 8-byte
// header is TypeNonFlotilla whether it was cut or not).
//
// Any other record is skipped and counted in Report.Skipped under one
// reason. Decoding goes layer by layer (link, IP, IPv6 extension headers,
// UDP) and the first layer that fails gives the reason:
//
//   - unknown_link: a link type this package does not decode;
//   - truncated: the snap length cut the record inside this layer's header
//     (for UDP: before the 8-byte header ended);
//   - malformed: the header does not decode (a bad IP version, a header
//     length out of range, an IPv6 jumbogram), or a header the record does
//     not hold although it was not cut, or lengths that disagree (a UDP
//     length below 8 or other than what the IP header leaves for it, a
//     record that was not cut but is shorter than its IP length);
//   - not_ip: the link layer carries neither IPv4 nor IPv6 (ARP, LLC,
//     another address family);
//   - fragment: an IPv4 fragment (more fragments set or a non-zero offset)
//     or an IPv6 packet with a Fragment header (fragments are not
//     reassembled);
//   - not_udp: IP carrying another protocol, or an IPv6 extension header
//     this package does not walk (AH, ESP, ...);
//   - other_port: a whole UDP header with neither port a server port.
//
// So a record cut inside its IP header is truncated even if it carried
// TCP, and a UDP datagram whose lengths disagree is malformed whatever its
// ports.
//
// # Time
//
// Capture.First and Capture.Last are the earliest and latest timestamps of
// all records. The per-second series count from the timestamp of the first
// record (Capture.Origin): second s holds the packets stamped in
// [t0+s s, t0+s+1 s). That is Capture.First unless a later record carries an earlier timestamp, which
// happens when a multi-interface pcapng interleaves its interfaces out of
// order; such a record counts in second 0. A record without a timestamp (a
// pcapng Simple Packet Block, or a timestamp outside the years 0 to 9999,
// which JSON cannot hold and only a damaged pcapng interface produces) also
// counts in second 0 and moves neither First nor Last nor its flow's.
//
// # Bounds
//
// Options bound what is kept: at most MaxFlows flows (default 65,536) and
// MaxSeconds seconds of series (default 86,400). A packet beyond either is
// still in Total, In, Out and the by-type counts, and is counted once in
// Report.Overflow. Sizes are kept as a count per distinct payload size (at
// most 65,528 of them per flow), so the quantiles are exact. A flow's series
// costs one entry per second in which it had packets. So memory grows with
// the input's distinct flows, seconds and sizes, never with its packets, up
// to those limits; the limits together are far more than a machine holds
// (every flow active every second of a day), so a hostile capture is bounded
// in practice by its own size: each kept entry needed a record. Records out
// of time order cost O(log n) each, not O(n).
//
// # Damage
//
// Analyze returns an error only when the input is not a capture (empty,
// unknown magic, unreadable file header) or the Options are invalid. Damage
// after the file header (a record cut short by the end of the file, a
// corrupt block, trailing garbage) stops the reading; everything read before
// it is in the report and Capture.Error says what happened and after how
// many records.
//
// # Allocation
//
// Records are read with the readers' zero-copy calls and decoded in place
// with gopacket's layer types, so once its flows exist the per-record loop
// does not allocate, with three exceptions inside gopacket: an IPv6 hop-by-hop
// header allocates its options, a pcapng record whose interface has a link
// type above 255 (SLL2) allocates two bytes to carry the link type, and a
// record longer than 256 KiB is read into a fresh buffer.
package bw
