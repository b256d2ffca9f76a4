package mesh

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Member is one server of a mesh: its id (1 and up; it is the origin of
// its clients' actions), the UDP address its clients and peers reach, and,
// when it serves browsers, the host:port of its public HTTP listener (where
// a member sends a browser it redirects).
type Member struct {
	ID   uint16
	Addr netip.AddrPort
	HTTP string
}

// MaxMembers bounds a mesh.
const MaxMembers = 64

// ParseMembers reads a membership: comma-separated id=address pairs, as in
// "1=127.0.0.1:7000,2=127.0.0.1:7001", where an address may be followed by
// a slash and the member's public HTTP host:port ("1=127.0.0.1:7000/
// 127.0.0.1:8000", without the space). The result is sorted by id; ids and
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
		addr, web, slash := strings.Cut(addr, "/")
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return nil, fmt.Errorf("mesh: member %d: %w", n, err)
		}
		if slash {
			if err := checkHostPort(web); err != nil {
				return nil, fmt.Errorf("mesh: member %d: HTTP address: %w", n, err)
			}
		}
		ms = append(ms, Member{ID: uint16(n), Addr: ap, HTTP: web})
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
		if m.HTTP != "" {
			parts[i] += "/" + m.HTTP
		}
	}
	return strings.Join(parts, ",")
}

// checkHostPort accepts host:port with a host and a port 1..65535.
func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %q is not 1..65535", port)
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return fmt.Errorf("host %q is not a host name or address", host)
	}
	return nil
}

// MembershipHash is the hash members compare in their Hello: of the ids
// and UDP addresses, in id order (whatever order ms is in). HTTP addresses
// are not in it: they are where browsers are sent, not what the lockstep
// is made of.
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
