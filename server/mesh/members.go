package mesh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Member is one server of a mesh: its id (1 and up; it is the origin of
// its clients' actions) and the UDP address its clients and peers reach.
type Member struct {
	ID   uint16
	Addr netip.AddrPort
}

// MaxMembers bounds a mesh.
const MaxMembers = 64

// ParseMembers reads a membership: comma-separated id=address pairs, as in
// "1=127.0.0.1:7000,2=127.0.0.1:7001". The result is sorted by id; ids and
// addresses are unique.
func ParseMembers(spec string) ([]Member, error) {
	var ms []Member
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, addr, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mesh: member %q is not id=host:port", part)
		}
		n, err := strconv.ParseUint(id, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("mesh: member id %q is not 1..65535", id)
		}
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return nil, fmt.Errorf("mesh: member %d: %w", n, err)
		}
		ms = append(ms, Member{ID: uint16(n), Addr: ap})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("mesh: no members in %q", spec)
	}
	if len(ms) > MaxMembers {
		return nil, fmt.Errorf("mesh: %d members, at most %d", len(ms), MaxMembers)
	}
	slices.SortFunc(ms, func(a, b Member) int { return int(a.ID) - int(b.ID) })
	for i := 1; i < len(ms); i++ {
		if ms[i].ID == ms[i-1].ID {
			return nil, fmt.Errorf("mesh: member id %d appears twice", ms[i].ID)
		}
	}
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if ms[i].Addr == ms[j].Addr {
				return nil, fmt.Errorf("mesh: members %d and %d share the address %v", ms[i].ID, ms[j].ID, ms[i].Addr)
			}
		}
	}
	return ms, nil
}

// FormatMembers writes a membership as ParseMembers reads it.
func FormatMembers(ms []Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%d=%v", m.ID, m.Addr)
	}
	return strings.Join(parts, ",")
}

// MembershipHash is the hash members compare in their Hello: of the ids
// and addresses, in id order (whatever order ms is in).
func MembershipHash(ms []Member) uint64 {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b Member) int { return int(a.ID) - int(b.ID) })
	var b []byte
	for _, m := range ms {
		b = binary.LittleEndian.AppendUint16(b, m.ID)
		b = append(b, m.Addr.String()...)
		b = append(b, 0)
	}
	return xxhash.Sum64(b)
}

// IDs returns the members' ids, in order.
func IDs(ms []Member) []uint16 {
	ids := make([]uint16, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}
