package bw

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// reason is why a record was skipped; reasonNone means it holds a UDP
// datagram.
type reason uint8

const (
	reasonNone reason = iota
	reasonUnknownLink
	reasonNotIP
	reasonFragment
	reasonNotUDP
	reasonTruncated
	reasonMalformed
)

// datagram is one decoded UDP datagram. payload borrows the record's buffer
// and is valid until the next record is read.
type datagram struct {
	src, dst netip.AddrPort
	size     int    // UDP payload size from the UDP length field
	payload  []byte // the part of the payload the capture holds
}

// decoder decodes records in place with gopacket's layer types. It calls
// their DecodeFromBytes itself rather than through a DecodingLayerParser so
// that it knows at which layer and why decoding stopped: that is the skip
// reason. Each call reuses the same layer values, so decoding allocates
// nothing (but see the package doc on IPv6 hop-by-hop headers). A decoder is
// owned by one goroutine.
type decoder struct {
	eth  layers.Ethernet
	vlan layers.Dot1Q
	loop layers.Loopback
	ip4  layers.IPv4
	ip6  layers.IPv6
	ext  layers.IPv6ExtensionSkipper
	udp  layers.UDP
}

// Header sizes checked before each layer is decoded, so that a short header
// is told apart from a bad one.
const (
	ethernetHeader = 14
	vlanTag        = 4
	sllHeader      = 16
	sll2Header     = 20
	loopbackHeader = 4
	ipv4Header     = 20
	ipv6Header     = 40
	udpHeader      = 8
)

// short is the reason for a header the record does not hold in full: the
// snap length cut it, or, when the record is whole, the header is bad.
func short(cut bool) reason {
	if cut {
		return reasonTruncated
	}
	return reasonMalformed
}

// decode decodes one record of link kind k. cut says the record is shorter
// than the packet was on the wire. It never panics: a panic inside gopacket
// on hostile input makes the record malformed.
func (d *decoder) decode(k linkKind, data []byte, cut bool) (g datagram, why reason) {
	defer func() {
		if recover() != nil {
			g, why = datagram{}, reasonMalformed
		}
	}()
	var ip []byte
	var v4 bool
	switch k {
	case linkEthernet:
		if len(data) < ethernetHeader {
			return g, short(cut)
		}
		if d.eth.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return g, reasonMalformed
		}
		ip, v4, why = d.ethertype(d.eth.EthernetType, d.eth.Payload, cut)
	case linkSLL:
		// Linux cooked v1: packet type, ARPHRD type, address length, 8
		// address bytes (a longer address is cut to 8, so its length
		// field may exceed 8), protocol. Read at fixed offsets:
		// gopacket refuses address lengths over 8.
		if len(data) < sllHeader {
			return g, short(cut)
		}
		ip, v4, why = d.ethertype(layers.EthernetType(binary.BigEndian.Uint16(data[14:])), data[sllHeader:], cut)
	case linkSLL2:
		// Linux cooked v2: protocol first, then reserved, interface
		// index, ARPHRD type, packet type, address length and 8 address
		// bytes, as in v1.
		if len(data) < sll2Header {
			return g, short(cut)
		}
		ip, v4, why = d.ethertype(layers.EthernetType(binary.BigEndian.Uint16(data)), data[sll2Header:], cut)
	case linkLoopback:
		if len(data) < loopbackHeader {
			return g, short(cut)
		}
		if d.loop.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return g, reasonMalformed
		}
		switch d.loop.Family {
		case layers.ProtocolFamilyIPv4:
			ip, v4 = d.loop.Payload, true
		case layers.ProtocolFamilyIPv6Linux, layers.ProtocolFamilyIPv6BSD,
			layers.ProtocolFamilyIPv6FreeBSD, layers.ProtocolFamilyIPv6Darwin:
			ip = d.loop.Payload
		default:
			return g, reasonNotIP
		}
	case linkRaw:
		if len(data) == 0 {
			return g, short(cut)
		}
		switch data[0] >> 4 {
		case 4:
			ip, v4 = data, true
		case 6:
			ip = data
		default:
			return g, reasonNotIP
		}
	case linkIPv4:
		ip, v4 = data, true
	case linkIPv6:
		ip = data
	default:
		return g, reasonUnknownLink
	}
	if why != reasonNone {
		return g, why
	}
	if v4 {
		return d.ipv4(ip, cut)
	}
	return d.ipv6(ip, cut)
}

// ethertype follows 802.1Q/802.1ad tags from an EtherType and its payload
// to IPv4 or IPv6.
func (d *decoder) ethertype(t layers.EthernetType, payload []byte, cut bool) (ip []byte, v4 bool, why reason) {
	for t == layers.EthernetTypeDot1Q || t == layers.EthernetTypeQinQ {
		if len(payload) < vlanTag {
			return nil, false, short(cut)
		}
		if d.vlan.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) != nil {
			return nil, false, reasonMalformed
		}
		t, payload = d.vlan.Type, d.vlan.Payload
	}
	switch t {
	case layers.EthernetTypeIPv4:
		return payload, true, reasonNone
	case layers.EthernetTypeIPv6:
		return payload, false, reasonNone
	}
	return nil, false, reasonNotIP
}

func (d *decoder) ipv4(b []byte, cut bool) (datagram, reason) {
	if len(b) < ipv4Header {
		return datagram{}, short(cut)
	}
	if b[0]>>4 != 4 || b[0]&0x0f < 5 {
		return datagram{}, reasonMalformed
	}
	if len(b) < int(b[0]&0x0f)*4 {
		return datagram{}, short(cut)
	}
	if d.ip4.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
		return datagram{}, reasonMalformed
	}
	if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
		return datagram{}, reasonFragment
	}
	if d.ip4.Protocol != layers.IPProtocolUDP {
		return datagram{}, reasonNotUDP
	}
	header := int(d.ip4.IHL) * 4
	total := int(d.ip4.Length)
	if !cut && len(b) < total {
		return datagram{}, reasonMalformed
	}
	src := netip.AddrFrom4([4]byte(d.ip4.SrcIP))
	dst := netip.AddrFrom4([4]byte(d.ip4.DstIP))
	return d.udpOver(src, dst, d.ip4.Payload, total-header, cut)
}

func (d *decoder) ipv6(b []byte, cut bool) (datagram, reason) {
	if len(b) < ipv6Header {
		return datagram{}, short(cut)
	}
	if b[0]>>4 != 6 {
		return datagram{}, reasonMalformed
	}
	if binary.BigEndian.Uint16(b[4:]) == 0 && layers.IPProtocol(b[6]) == layers.IPProtocolNoNextHeader {
		return datagram{}, reasonNotUDP // an empty packet, which layers.IPv6 refuses
	}
	// layers.IPv6 decodes a hop-by-hop header itself: check first that the
	// capture holds it.
	if layers.IPProtocol(b[6]) == layers.IPProtocolIPv6HopByHop && !holdsExtension(b[ipv6Header:]) {
		return datagram{}, short(cut)
	}
	if d.ip6.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil || d.ip6.Length == 0 {
		// Length 0 is a jumbogram: no Flotilla datagram is one.
		return datagram{}, reasonMalformed
	}
	next, rest, headers := d.ip6.NextHeader, d.ip6.Payload, 0
	if d.ip6.HopByHop != nil {
		next, headers = d.ip6.HopByHop.NextHeader, d.ip6.HopByHop.ActualLength
	}
	for next != layers.IPProtocolUDP {
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
		case layers.IPProtocolIPv6Fragment:
			return datagram{}, reasonFragment
		default:
			return datagram{}, reasonNotUDP
		}
		if !holdsExtension(rest) {
			return datagram{}, short(cut)
		}
		if d.ext.DecodeFromBytes(rest, gopacket.NilDecodeFeedback) != nil {
			return datagram{}, reasonMalformed
		}
		next, rest = d.ext.NextHeader, d.ext.Payload
		headers += len(d.ext.Contents)
	}
	payload := int(d.ip6.Length)
	if !cut && len(b) < ipv6Header+payload {
		return datagram{}, reasonMalformed
	}
	src := netip.AddrFrom16([16]byte(d.ip6.SrcIP)).Unmap()
	dst := netip.AddrFrom16([16]byte(d.ip6.DstIP)).Unmap()
	return d.udpOver(src, dst, rest, payload-headers, cut)
}

// holdsExtension reports whether b holds a whole IPv6 extension header:
// next header, length in 8-byte units beyond the first 8, then the rest.
func holdsExtension(b []byte) bool {
	return len(b) >= 2 && len(b) >= (int(b[1])+1)*8
}

// udpOver decodes the UDP header at the start of b, the IP payload after
// any extension headers, which IP says is want bytes long.
func (d *decoder) udpOver(src, dst netip.Addr, b []byte, want int, cut bool) (datagram, reason) {
	if len(b) < udpHeader {
		return datagram{}, short(cut)
	}
	if d.udp.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
		return datagram{}, reasonMalformed
	}
	if int(d.udp.Length) < udpHeader || int(d.udp.Length) != want {
		return datagram{}, reasonMalformed
	}
	return datagram{
		src:     netip.AddrPortFrom(src, uint16(d.udp.SrcPort)),
		dst:     netip.AddrPortFrom(dst, uint16(d.udp.DstPort)),
		size:    int(d.udp.Length) - udpHeader,
		payload: d.udp.Payload,
	}, reasonNone
}
