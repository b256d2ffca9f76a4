package bw

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flotilla/flotilla/netcode"
)

// The tests' addresses: one server, two clients.
var (
	server  = netip.MustParseAddrPort("10.0.0.1:7777")
	client1 = netip.MustParseAddrPort("10.0.0.2:5000")
	client2 = netip.MustParseAddrPort("10.0.0.3:5001")
	dns     = netip.MustParseAddrPort("10.0.0.9:53")
	server6 = netip.MustParseAddrPort("[2001:db8::1]:7777")
	client6 = netip.MustParseAddrPort("[2001:db8::2]:6000")

	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}

	// t0 is the tests' clock origin.
	t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// fl is a Flotilla datagram of type t and size bytes: the 8 header bytes
// written by hand (STANDARD.md 3.1), then filler.
func fl(t netcode.Type, size int) []byte {
	b := make([]byte, size)
	b[0], b[1] = 0x46, 0x4C // protocol id 0x4C46, little-endian
	b[2] = netcode.Version
	b[3] = byte(t)
	binary.LittleEndian.PutUint32(b[4:], 0xC0FFEE)
	for i := netcode.HeaderSize; i < size; i++ {
		b[i] = byte(i)
	}
	return b
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// ipLayer is the IPv4 or IPv6 header from src to dst carrying proto.
func ipLayer(src, dst netip.Addr, proto layers.IPProtocol) gopacket.NetworkLayer {
	if src.Is4() {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

// udpLayers are IP, UDP and payload from src to dst.
func udpLayers(src, dst netip.AddrPort, payload []byte) []gopacket.SerializableLayer {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	return []gopacket.SerializableLayer{ip.(gopacket.SerializableLayer), udp, gopacket.Payload(payload)}
}

// ipUDP is an IP packet carrying a UDP datagram.
func ipUDP(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	return serialize(t, udpLayers(src, dst, payload)...)
}

// ethUDP is an Ethernet frame carrying a UDP datagram; vlan puts it behind
// an 802.1Q tag.
func ethUDP(t testing.TB, src, dst netip.AddrPort, payload []byte, vlan bool) []byte {
	et := layers.EthernetTypeIPv4
	if src.Addr().Is6() {
		et = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}
	ls := []gopacket.SerializableLayer{eth}
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 42, Type: et})
	}
	return serialize(t, append(ls, udpLayers(src, dst, payload)...)...)
}

// ethTCP is an Ethernet frame carrying a TCP segment.
func ethTCP(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), ACK: true, Window: 1024}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	return serialize(t, eth, ip.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload))
}

// ethARP is an ARP request.
func ethARP(t testing.TB) []byte {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: macA, SourceProtAddress: client1.Addr().AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: server.Addr().AsSlice(),
	}
	return serialize(t, eth, arp)
}

// ethFragment is the first fragment of a UDP datagram (more fragments set).
func ethFragment(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	ls := udpLayers(src, dst, payload)
	ls[0].(*layers.IPv4).Flags = layers.IPv4MoreFragments
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	return serialize(t, append([]gopacket.SerializableLayer{eth}, ls...)...)
}

// udpBytes is a UDP header (checksum 0, which means none) and payload.
func udpBytes(src, dst uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// ext is an 8-byte IPv6 extension header (hop-by-hop, routing or
// destination options, padded with a PadN option) followed by next.
func ext(next layers.IPProtocol) []byte {
	return []byte{byte(next), 0, 1, 4, 0, 0, 0, 0}
}

// ipv6With is an IPv6 packet from src to dst with the given first next
// header and raw payload (extension headers, then the transport header).
func ipv6With(t testing.TB, src, dst netip.Addr, first layers.IPProtocol, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: first, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	return serialize(t, ip, gopacket.Payload(payload))
}

// sllHead is a Linux cooked capture header for an outgoing packet.
func sllHead(et layers.EthernetType) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[0:], 4) // outgoing
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], macA)
	binary.BigEndian.PutUint16(b[14:], uint16(et))
	return b
}

// sll2Head is a Linux cooked capture v2 header.
func sll2Head(et layers.EthernetType) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], uint16(et))
	binary.BigEndian.PutUint32(b[4:], 2) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10] = 0                            // to us
	b[11] = 6
	copy(b[12:], macA)
	return b
}

// family is a loopback header: the address family in the given order.
func family(af uint32, order binary.AppendByteOrder) []byte {
	return order.AppendUint32(nil, af)
}

// rec is one capture record; orig 0 means the whole frame was captured.
type rec struct {
	ts    time.Time
	data  []byte
	orig  int
	iface int
}

func (r rec) ci() gopacket.CaptureInfo {
	orig := r.orig
	if orig == 0 {
		orig = len(r.data)
	}
	return gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: orig, InterfaceIndex: r.iface}
}

// pcapFile is a little-endian pcap capture, microsecond or nanosecond.
func pcapFile(t testing.TB, lt layers.LinkType, nanos bool, recs ...rec) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if nanos {
		w = pcapgo.NewWriterNanos(&b)
	}
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WritePacket(r.ci(), r.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// swapPcap turns a little-endian pcap file into the same file big-endian.
func swapPcap(le []byte) []byte {
	be := bytes.Clone(le)
	swap32 := func(off int) {
		binary.BigEndian.PutUint32(be[off:], binary.LittleEndian.Uint32(le[off:]))
	}
	swap16 := func(off int) {
		binary.BigEndian.PutUint16(be[off:], binary.LittleEndian.Uint16(le[off:]))
	}
	swap32(0)
	swap16(4)
	swap16(6)
	for _, off := range []int{8, 12, 16, 20} {
		swap32(off)
	}
	for off := 24; off+16 <= len(le); {
		n := int(binary.LittleEndian.Uint32(le[off+8:]))
		for i := range 4 {
			swap32(off + 4*i)
		}
		off += 16 + n
	}
	return be
}

// pcapngFile is a pcapng capture with one interface per link type.
func pcapngFile(t testing.TB, links []layers.LinkType, recs ...rec) []byte {
	t.Helper()
	var b bytes.Buffer
	var w *pcapgo.NgWriter
	var err error
	if len(links) == 1 {
		w, err = pcapgo.NewNgWriter(&b, links[0])
	} else {
		w, err = pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{Name: "if0", LinkType: links[0], SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range links[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: "if" + string(rune('1'+i)), LinkType: lt, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		if err := w.WritePacket(r.ci(), r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// simplePacketBlock is a pcapng Simple Packet Block (no interface id, no
// timestamp) holding data.
func simplePacketBlock(data []byte) []byte {
	pad := (4 - len(data)%4) % 4
	total := 16 + len(data) + pad
	b := binary.LittleEndian.AppendUint32(nil, 3)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	b = append(b, make([]byte, pad)...)
	return binary.LittleEndian.AppendUint32(b, uint32(total))
}

func analyze(t testing.TB, capture []byte, o Options) *Report {
	t.Helper()
	rep, err := Analyze(bytes.NewReader(capture), o)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return rep
}

// sameJSON fails t unless got and want marshal to the same JSON.
func sameJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
		for i := range max(len(gl), len(wl)) {
			var a, b string
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				t.Errorf("%s: first difference at line %d:\n got: %s\nwant: %s", what, i+1, a, b)
				break
			}
		}
		t.Logf("%s got:\n%s", what, g)
	}
}

// c is a Counts literal.
func c(packets, payload, frame int) Counts {
	return Counts{Packets: uint64(packets), UDPPayloadBytes: uint64(payload), FrameBytes: uint64(frame)}
}

// tc is a TypeCounts literal.
func tc(typ string, packets, payload, frame int) TypeCounts {
	return TypeCounts{Type: typ, Counts: c(packets, payload, frame)}
}
