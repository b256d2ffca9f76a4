package batch

import (
	"net/netip"
	"testing"
)

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                "192.0.2.7",
		"::ffff:192.0.2.7":         "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::",
		"2001:db8:1:3::1":          "2001:db8:1:3::",
		"fe80::1234:5678:9abc:def": "fe80::",
	} {
		if got := AddrKey(netip.MustParseAddr(in)); got != netip.MustParseAddr(want) {
			t.Errorf("AddrKey(%s) = %s, want %s", in, got, want)
		}
	}
}
