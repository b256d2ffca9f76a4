package bw

import (
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

// linkKind is how a record's link layer is decoded.
type linkKind uint8

const (
	linkUnknown  linkKind = iota
	linkEthernet          // Ethernet II or 802.3, then 802.1Q tags
	linkSLL               // Linux cooked capture, 16-byte header
	linkSLL2              // Linux cooked capture v2, 20-byte header
	linkLoopback          // Null and Loop: a 4-byte address family
	linkRaw               // raw IP: the version nibble tells IPv4 from IPv6
	linkIPv4              // raw IPv4 only
	linkIPv6              // raw IPv6 only
)

// linkTypeRawDLT is DLT_RAW as most systems number it; some writers put it
// in files instead of LINKTYPE_RAW (101).
const linkTypeRawDLT layers.LinkType = 12

func linkKindOf(lt layers.LinkType) linkKind {
	switch lt {
	case layers.LinkTypeEthernet:
		return linkEthernet
	case layers.LinkTypeLinuxSLL:
		return linkSLL
	case layers.LinkTypeLinuxSLL2:
		return linkSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return linkLoopback
	case layers.LinkTypeRaw, linkTypeRawDLT:
		return linkRaw
	case layers.LinkTypeIPv4:
		return linkIPv4
	case layers.LinkTypeIPv6:
		return linkIPv6
	}
	return linkUnknown
}

// linkName is the name Capture.LinkTypes uses for lt.
func linkName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeEthernet:
		return "Ethernet"
	case layers.LinkTypeLinuxSLL:
		return "Linux SLL"
	case layers.LinkTypeLinuxSLL2:
		return "Linux SLL2"
	case layers.LinkTypeNull:
		return "Null"
	case layers.LinkTypeLoop:
		return "Loop"
	case layers.LinkTypeRaw, linkTypeRawDLT:
		return "Raw"
	case layers.LinkTypeIPv4:
		return "Raw IPv4"
	case layers.LinkTypeIPv6:
		return "Raw IPv6"
	}
	return "unknown link type " + strconv.Itoa(int(lt))
}

// linkSet remembers which link types were seen, in first-seen order, with
// one name per entry (12 and 101 are both "Raw").
type linkSet struct {
	seen  [1 << 16 / 64]uint64
	last  layers.LinkType
	any   bool
	names []string
}

func (s *linkSet) add(lt layers.LinkType) {
	if s.any && lt == s.last {
		return
	}
	s.any, s.last = true, lt
	w, bit := uint16(lt)/64, uint64(1)<<(uint16(lt)%64)
	if s.seen[w]&bit != 0 {
		return
	}
	s.seen[w] |= bit
	name := linkName(lt)
	for _, n := range s.names {
		if n == name {
			return
		}
	}
	s.names = append(s.names, name)
}
