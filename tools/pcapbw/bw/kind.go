package bw

import "github.com/flotilla/flotilla/netcode"

// A kind is a datagram's entry in the by-type counts: netcode's types 1..8
// at 0..7, then kindCut, then kindNonFlotilla, the order of Flow.ByType.
const (
	numNetcodeTypes = int(netcode.TypeKeepalive)
	kindCut         = numNetcodeTypes
	kindNonFlotilla = numNetcodeTypes + 1
	numKinds        = numNetcodeTypes + 2
)

// kindNames are the TypeCounts.Type of each kind.
var kindNames = func() [numKinds]string {
	var n [numKinds]string
	for k := range numNetcodeTypes {
		n[k] = netcode.Type(k + 1).String()
	}
	n[kindCut] = TypeCut
	n[kindNonFlotilla] = TypeNonFlotilla
	return n
}()

// kindOf classifies a datagram of size payload bytes of which the capture
// holds payload. A payload shorter than a header cannot be Flotilla's, cut
// or not; one that is long enough but cut before its type byte is kindCut.
func kindOf(payload []byte, size int) int {
	if size < netcode.HeaderSize {
		return kindNonFlotilla
	}
	if len(payload) < 4 {
		return kindCut
	}
	// The type is in the first four bytes; a capture cut inside the session
	// id still tells it. Copying into a full header lets ParseHeader judge.
	var head [netcode.HeaderSize]byte
	copy(head[:], payload)
	h, err := netcode.ParseHeader(head[:])
	if err != nil || h.Version != netcode.Version || h.Type < netcode.TypeRequest || h.Type > netcode.TypeKeepalive {
		return kindNonFlotilla
	}
	return int(h.Type) - 1
}

// typeList is counts as the report lists them: an entry per kind with
// packets, in kind order; empty, not nil, when there are none.
func typeList(counts *[numKinds]Counts) []TypeCounts {
	list := []TypeCounts{}
	for k := range counts {
		if counts[k].Packets > 0 {
			list = append(list, TypeCounts{Type: kindNames[k], Counts: counts[k]})
		}
	}
	return list
}
