package main

import (
	"fmt"
	"net/netip"
	"strings"
)

// defaultSources is the -sources pool for a server on IPv4 loopback: from
// 127.0.0.1 up, within 127.0.0.0/16.
const defaultSources = "127.0.0.1/16"

// parseSources returns the first n addresses of a -sources list: items
// separated by commas, each an address (that address) or ADDR/BITS (the
// addresses from ADDR upward that stay inside the prefix ADDR/BITS, so
// 127.0.5.1/16 runs from 127.0.5.1 to 127.0.255.254). IPv4 addresses whose
// last byte is 0 or 255 are skipped. An address listed twice is an error,
// and so is a list with fewer than n addresses.
func parseSources(list string, n int) ([]netip.Addr, error) {
	if n < 1 {
		return nil, fmt.Errorf("-source-ips %d must be at least 1", n)
	}
	out := make([]netip.Addr, 0, min(n, 1<<16))
	seen := make(map[netip.Addr]bool, cap(out))
	add := func(a netip.Addr) error {
		if seen[a] {
			return fmt.Errorf("-sources %q: %v listed twice", list, a)
		}
		seen[a] = true
		out = append(out, a)
		return nil
	}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("-sources: %w", err)
			}
			if len(out) < n {
				if err := add(a.Unmap()); err != nil {
					return nil, err
				}
			}
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("-sources: %w", err)
		}
		for a := p.Addr().Unmap(); a.IsValid() && p.Contains(a) && len(out) < n; a = a.Next() {
			if usable(a) {
				if err := add(a); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("-sources %q holds %d usable addresses; -source-ips asks for %d", list, len(out), n)
	}
	return out, nil
}

// usable skips the IPv4 addresses that end in 0 or 255, which a /24 reserves.
func usable(a netip.Addr) bool {
	if !a.Is4() {
		return true
	}
	last := a.As4()[3]
	return last != 0 && last != 255
}
