package bw

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/flotilla/flotilla/netcode"
)

// outcome is what one record came to: counted (in, one keepalive of 14
// payload bytes) or skipped for a reason.
type outcome struct {
	counted bool
	skipped Skipped
}

var (
	counted     = outcome{counted: true}
	notIP       = outcome{skipped: Skipped{NotIP: 1}}
	notUDP      = outcome{skipped: Skipped{NotUDP: 1}}
	fragment    = outcome{skipped: Skipped{Fragment: 1}}
	malformed   = outcome{skipped: Skipped{Malformed: 1}}
	truncated   = outcome{skipped: Skipped{Truncated: 1}}
	unknownLink = outcome{skipped: Skipped{UnknownLink: 1}}
	otherPort   = outcome{skipped: Skipped{OtherPort: 1}}
	keepalive   = fl(netcode.TypeKeepalive, 14)
)

// checkOne analyzes a one-record pcap and checks its outcome.
func checkOne(t *testing.T, name string, lt layers.LinkType, r rec, want outcome) *Report {
	t.Helper()
	r.ts = at(0)
	rep := analyze(t, pcapFile(t, lt, false, r), Options{Ports: []uint16{7777}})
	if rep.Capture.Error != "" || rep.Capture.Records != 1 {
		t.Errorf("%s: capture %+v", name, rep.Capture)
	}
	if rep.Skipped != want.skipped {
		t.Errorf("%s: skipped %+v, want %+v", name, rep.Skipped, want.skipped)
	}
	if !want.counted {
		if rep.Total != (Counts{}) {
			t.Errorf("%s: counted %+v", name, rep.Total)
		}
		return rep
	}
	if want := c(1, 14, r.ci().Length); rep.In != want || rep.Total != want {
		t.Errorf("%s: in %+v, total %+v, want %+v", name, rep.In, rep.Total, want)
	}
	if len(rep.ByTypeIn) != 1 || rep.ByTypeIn[0].Type != "keepalive" || len(rep.Clients) != 1 {
		t.Errorf("%s: by type %+v, clients %d", name, rep.ByTypeIn, len(rep.Clients))
	}
	return rep
}

func TestLinkTypes(t *testing.T) {
	ip4 := ipUDP(t, client1, server, keepalive)
	ip6 := ipUDP(t, client6, server6, keepalive)
	le, be := binary.LittleEndian, binary.BigEndian
	qinq := slices.Concat(macB, macA, []byte{0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00}, ip4)
	for _, tt := range []struct {
		name string
		lt   layers.LinkType
		data []byte
		link string
		want outcome
	}{
		{"Ethernet IPv4", layers.LinkTypeEthernet, ethUDP(t, client1, server, keepalive, false), "Ethernet", counted},
		{"Ethernet IPv6", layers.LinkTypeEthernet, ethUDP(t, client6, server6, keepalive, false), "Ethernet", counted},
		{"Ethernet VLAN IPv6", layers.LinkTypeEthernet, ethUDP(t, client6, server6, keepalive, true), "Ethernet", counted},
		{"Ethernet QinQ", layers.LinkTypeEthernet, qinq, "Ethernet", counted},
		{"Ethernet ARP", layers.LinkTypeEthernet, ethARP(t), "Ethernet", notIP},
		{"SLL IPv4", layers.LinkTypeLinuxSLL, slices.Concat(sllHead(layers.EthernetTypeIPv4), ip4), "Linux SLL", counted},
		{"SLL IPv6", layers.LinkTypeLinuxSLL, slices.Concat(sllHead(layers.EthernetTypeIPv6), ip6), "Linux SLL", counted},
		{"SLL VLAN", layers.LinkTypeLinuxSLL, slices.Concat(sllHead(layers.EthernetTypeDot1Q), []byte{0, 1, 8, 0}, ip4), "Linux SLL", counted},
		{"SLL ARP", layers.LinkTypeLinuxSLL, slices.Concat(sllHead(layers.EthernetTypeARP), make([]byte, 28)), "Linux SLL", notIP},
		{"SLL2 IPv4", layers.LinkTypeLinuxSLL2, slices.Concat(sll2Head(layers.EthernetTypeIPv4), ip4), "Linux SLL2", counted},
		{"SLL2 IPv6", layers.LinkTypeLinuxSLL2, slices.Concat(sll2Head(layers.EthernetTypeIPv6), ip6), "Linux SLL2", counted},
		{"Null AF_INET little-endian", layers.LinkTypeNull, slices.Concat(family(2, le), ip4), "Null", counted},
		{"Null AF_INET big-endian", layers.LinkTypeNull, slices.Concat(family(2, be), ip4), "Null", counted},
		{"Null AF_INET6 Linux", layers.LinkTypeNull, slices.Concat(family(10, le), ip6), "Null", counted},
		{"Null AF_INET6 BSD", layers.LinkTypeNull, slices.Concat(family(24, le), ip6), "Null", counted},
		{"Null AF_INET6 FreeBSD", layers.LinkTypeNull, slices.Concat(family(28, le), ip6), "Null", counted},
		{"Null AF_INET6 Darwin", layers.LinkTypeNull, slices.Concat(family(30, le), ip6), "Null", counted},
		{"Null other family", layers.LinkTypeNull, slices.Concat(family(7, le), ip4), "Null", notIP},
		{"Loop AF_INET", layers.LinkTypeLoop, slices.Concat(family(2, be), ip4), "Loop", counted},
		{"Loop AF_INET6", layers.LinkTypeLoop, slices.Concat(family(24, be), ip6), "Loop", counted},
		{"Raw IPv4", layers.LinkTypeRaw, ip4, "Raw", counted},
		{"Raw IPv6", layers.LinkTypeRaw, ip6, "Raw", counted},
		{"Raw not IP", layers.LinkTypeRaw, slices.Concat([]byte{0x50}, ip4[1:]), "Raw", notIP},
		{"DLT_RAW 12", 12, ip4, "Raw", counted},
		{"IPv4 228", layers.LinkTypeIPv4, ip4, "Raw IPv4", counted},
		{"IPv6 229", layers.LinkTypeIPv6, ip6, "Raw IPv6", counted},
		{"IPv6 229 holding IPv4", layers.LinkTypeIPv6, slices.Concat(ip4, make([]byte, 40)), "Raw IPv6", malformed},
		{"unknown", 147, ip4, "unknown link type 147", unknownLink},
	} {
		rep := checkOne(t, tt.name, tt.lt, rec{data: tt.data}, tt.want)
		if !slices.Equal(rep.Capture.LinkTypes, []string{tt.link}) {
			t.Errorf("%s: link types %q, want [%q]", tt.name, rep.Capture.LinkTypes, tt.link)
		}
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	src, dst := client6.Addr(), server6.Addr()
	udp := udpBytes(client6.Port(), server6.Port(), keepalive)
	routing := []byte{byte(layers.IPProtocolIPv6Destination), 0, 0, 0, 0, 0, 0, 0}
	fragHeader := []byte{byte(layers.IPProtocolUDP), 0, 0, 1, 0, 0, 0, 7} // offset 0, more fragments
	tcp := make([]byte, 20)
	whole := ipv6With(t, src, dst, layers.IPProtocolIPv6HopByHop, slices.Concat(ext(layers.IPProtocolIPv6Routing), routing, ext(layers.IPProtocolUDP), udp))
	for _, tt := range []struct {
		name string
		r    rec
		want outcome
	}{
		{"hop-by-hop, routing, destination", rec{data: whole}, counted},
		{"routing", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6Routing, slices.Concat(routing, ext(layers.IPProtocolUDP), udp))}, counted},
		{"long destination options", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6Destination, slices.Concat([]byte{17, 1, 1, 12}, make([]byte, 12), udp))}, counted},
		{"fragment", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6Fragment, slices.Concat(fragHeader, udp))}, fragment},
		{"fragment after routing", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6Routing, slices.Concat([]byte{44, 0, 0, 0, 0, 0, 0, 0}, fragHeader, udp))}, fragment},
		{"TCP", rec{data: ipv6With(t, src, dst, layers.IPProtocolTCP, tcp)}, notUDP},
		{"TCP after destination options", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6Destination, slices.Concat(ext(layers.IPProtocolTCP), tcp))}, notUDP},
		{"no next header", rec{data: ipv6With(t, src, dst, layers.IPProtocolNoNextHeader, nil)}, notUDP},
		{"cut in hop-by-hop", rec{data: whole[:44], orig: len(whole)}, truncated},
		{"cut in routing", rec{data: whole[:52], orig: len(whole)}, truncated},
		{"cut in UDP", rec{data: whole[:len(whole)-len(udp)+4], orig: len(whole)}, truncated},
		{"cut after the type byte", rec{data: whole[:len(whole)-10], orig: len(whole)}, counted},
		{"hop-by-hop longer than the packet", rec{data: ipv6With(t, src, dst, layers.IPProtocolIPv6HopByHop, []byte{17, 2, 1, 4, 0, 0, 0, 0})}, malformed},
	} {
		checkOne(t, tt.name, layers.LinkTypeRaw, tt.r, tt.want)
	}
}

func TestIPv4MappedIPv6(t *testing.T) {
	mapped := netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.2"), 5000)
	mappedServer := netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.1"), 7777)
	data := ipv6With(t, mapped.Addr(), mappedServer.Addr(), layers.IPProtocolUDP, udpBytes(5000, 7777, keepalive))
	rep := checkOne(t, "mapped", layers.LinkTypeRaw, rec{data: data}, counted)
	if f := rep.Clients[0]; f.Server != server || f.Client != client1 {
		t.Errorf("flow %v → %v, want the 4-byte forms %v → %v", f.Client, f.Server, client1, server)
	}
}

func TestMalformed(t *testing.T) {
	big := fl(netcode.TypeUnreliable, 100)
	frame := ethUDP(t, client1, server, big, false)
	raw := ipUDP(t, client1, server, keepalive)
	const ipAt, udpAt = 14, 14 + 20
	patch := func(off int, v uint16) []byte {
		b := slices.Clone(frame)
		binary.BigEndian.PutUint16(b[off:], v)
		return b
	}
	versionSix := slices.Clone(frame)
	versionSix[ipAt] = 0x65
	ihlFour := slices.Clone(frame)
	ihlFour[ipAt] = 0x44
	longSLL := slices.Concat(sllHead(layers.EthernetTypeIPv4), ipUDP(t, client1, server, keepalive))
	longSLL[5] = 20 // an address longer than the field: its first 8 bytes are there
	for _, tt := range []struct {
		name string
		lt   layers.LinkType
		r    rec
		want outcome
	}{
		{"UDP length below 8", layers.LinkTypeEthernet, rec{data: patch(udpAt+4, 4)}, malformed},
		{"UDP length 0", layers.LinkTypeEthernet, rec{data: patch(udpAt+4, 0)}, malformed},
		{"UDP length past IP", layers.LinkTypeEthernet, rec{data: patch(udpAt+4, 8+100+1)}, malformed},
		{"UDP length short of IP", layers.LinkTypeEthernet, rec{data: patch(udpAt+4, 8+100-1)}, malformed},
		{"IP length below the header", layers.LinkTypeEthernet, rec{data: patch(ipAt+2, 12)}, malformed},
		{"whole record shorter than IP", layers.LinkTypeEthernet, rec{data: frame[:len(frame)-2]}, malformed},
		{"cut record shorter than IP", layers.LinkTypeRaw, rec{data: raw[:len(raw)-2], orig: len(raw)}, counted},
		{"IPv4 EtherType, version 6", layers.LinkTypeEthernet, rec{data: versionSix}, malformed},
		{"IHL 4", layers.LinkTypeEthernet, rec{data: ihlFour}, malformed},
		{"whole record shorter than Ethernet", layers.LinkTypeEthernet, rec{data: frame[:10]}, malformed},
		{"cut in Ethernet", layers.LinkTypeEthernet, rec{data: frame[:10], orig: len(frame)}, truncated},
		{"cut in IPv4", layers.LinkTypeEthernet, rec{data: frame[:ipAt+10], orig: len(frame)}, truncated},
		{"cut after IPv4", layers.LinkTypeEthernet, rec{data: frame[:udpAt], orig: len(frame)}, truncated},
		{"whole record ends after IPv4", layers.LinkTypeEthernet, rec{data: frame[:udpAt]}, malformed},
		{"cut in a VLAN tag", layers.LinkTypeEthernet, rec{data: ethUDP(t, client1, server, big, true)[:16], orig: 200}, truncated},
		{"SLL address length 20", layers.LinkTypeLinuxSLL, rec{data: longSLL}, counted},
		{"loopback family 256", layers.LinkTypeNull, rec{data: slices.Concat([]byte{0, 1, 0, 0}, frame[ipAt:])}, malformed},
		{"IPv6 length 0", layers.LinkTypeRaw, rec{data: func() []byte {
			b := ipUDP(t, client6, server6, keepalive)
			b[4], b[5] = 0, 0
			return b
		}()}, malformed},
		{"empty raw record", layers.LinkTypeRaw, rec{data: []byte{}, orig: 1}, truncated},
		{"other port", layers.LinkTypeEthernet, rec{data: ethUDP(t, dns, client1, keepalive, false)}, otherPort},
	} {
		checkOne(t, tt.name, tt.lt, tt.r, tt.want)
	}
}

// TestDirectionByPorts counts a datagram whose destination is not a server
// port but whose source is as out, and one between two server ports as in.
func TestDirectionByPorts(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:7000")
	b := netip.MustParseAddrPort("10.0.0.2:7001")
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false,
		rec{ts: at(0), data: ethUDP(t, a, client1, keepalive, false)},
		rec{ts: at(1), data: ethUDP(t, a, b, keepalive, false)},
	), Options{Ports: []uint16{7000, 7001}})
	if rep.In.Packets != 1 || rep.Out.Packets != 1 || len(rep.Clients) != 2 {
		t.Fatalf("in %+v out %+v clients %+v", rep.In, rep.Out, rep.Clients)
	}
	// Sorted by server: 10.0.0.1:7000 (out to client1) before 10.0.0.2:7001.
	if f := rep.Clients[0]; f.Server != a || f.Client != client1 || f.Direction != Out {
		t.Errorf("first flow %+v", f)
	}
	if f := rep.Clients[1]; f.Server != b || f.Client != a || f.Direction != In {
		t.Errorf("second flow %+v", f)
	}
}

func TestClientsOrder(t *testing.T) {
	s2 := netip.MustParseAddrPort("10.0.0.1:7778")
	var recs []rec
	for i, p := range []struct{ src, dst netip.AddrPort }{
		{server6, client6}, {client2, s2}, {client2, server}, {server, client2}, {client1, server}, {server, client1},
	} {
		recs = append(recs, rec{ts: at(i), data: ethUDP(t, p.src, p.dst, keepalive, false)})
	}
	rep := analyze(t, pcapFile(t, layers.LinkTypeEthernet, false, recs...), Options{Ports: []uint16{7777, 7778}})
	var got []string
	for _, f := range rep.Clients {
		got = append(got, f.Server.String()+" "+f.Client.String()+" "+f.Direction.String())
	}
	want := []string{
		"10.0.0.1:7777 10.0.0.2:5000 in", "10.0.0.1:7777 10.0.0.2:5000 out",
		"10.0.0.1:7777 10.0.0.3:5001 in", "10.0.0.1:7777 10.0.0.3:5001 out",
		"10.0.0.1:7778 10.0.0.3:5001 in",
		"[2001:db8::1]:7777 [2001:db8::2]:6000 out",
	}
	if !slices.Equal(got, want) {
		t.Errorf("clients\n%q\nwant\n%q", got, want)
	}
}
