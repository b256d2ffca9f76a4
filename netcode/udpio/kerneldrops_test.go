package udpio

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// procUDP4 is a /proc/net/udp as a little-endian host prints it: two
// SO_REUSEPORT sockets on 127.0.0.1:8080 (0100007F:1F90), one on
// 0.0.0.0:8080, one on 192.168.1.1:8080, one on 127.0.0.1:8081, and lines
// no kernel prints.
const procUDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
  123: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 41001 2 0000000000000000 11000
  124: 0100007F:1F90 00000000:0000 07 00000000:00034000 00:00000000 00000000  1000        0 41002 2 0000000000000000 732
  125: 00000000:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 41003 2 0000000000000000 5
  126: 0101A8C0:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 41004 2 0000000000000000 7
  127: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 41005 2 0000000000000000 99

  128: 0100007F:1F90 short line
  129: zz
  130: 0100007F 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 41006 2 0000000000000000 1000000
`

// procUDP6 is a /proc/net/udp6 from the same host: two sockets on
// [::1]:8080, one on [::]:8080, one on [2001:db8::5]:8080, one on
// [::ffff:127.0.0.1]:8080.
const procUDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  200: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 42001 2 0000000000000000 40
  201: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 42002 2 0000000000000000 2
  202: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 42003 2 0000000000000000 3
  203: B80D0120000000000000000005000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 42004 2 0000000000000000 4
  204: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 42005 2 0000000000000000 50
`

func TestProcDropsSumsSocketsOfOneAddress(t *testing.T) {
	for _, c := range []struct {
		table, local   string
		drops, sockets int
	}{
		{procUDP4, "127.0.0.1:8080", 11732, 2},
		{procUDP4, "0.0.0.0:8080", 5, 1},
		{procUDP4, "192.168.1.1:8080", 7, 1},
		{procUDP4, "127.0.0.1:8081", 99, 1},
		{procUDP4, "127.0.0.1:9", 0, 0},
		{procUDP4, "10.0.0.1:8080", 0, 0},
		{procUDP6, "[::1]:8080", 42, 2},
		{procUDP6, "[::]:8080", 3, 1},
		{procUDP6, "[2001:db8::5]:8080", 4, 1},
		{procUDP6, "[::ffff:127.0.0.1]:8080", 50, 1},
		{procUDP6, "[::1]:8081", 0, 0},
		{procUDP6, "127.0.0.1:8080", 0, 0}, // an IPv4 socket is not in udp6
	} {
		local := netip.MustParseAddrPort(c.local)
		drops, sockets, err := procDrops(strings.NewReader(c.table), local, binary.LittleEndian)
		if err != nil || drops != uint64(c.drops) || sockets != c.sockets {
			t.Errorf("%s: %d drops over %d sockets, %v; want %d over %d", c.local, drops, sockets, err, c.drops, c.sockets)
		}
	}
}

func TestProcDropsRejectsUnreadableDrops(t *testing.T) {
	table := procUDP4 + "  131: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 41007 2 0000000000000000 -1\n"
	if _, _, err := procDrops(strings.NewReader(table), netip.MustParseAddrPort("127.0.0.1:8080"), binary.LittleEndian); err == nil {
		t.Error("a matching line with drops -1 was accepted")
	}
	// The same line on another address is none of our business.
	if _, _, err := procDrops(strings.NewReader(table), netip.MustParseAddrPort("127.0.0.1:8081"), binary.LittleEndian); err != nil {
		t.Errorf("an unrelated bad line failed the read: %v", err)
	}
}

func TestParseProcAddr(t *testing.T) {
	for _, c := range []struct {
		in    string
		order binary.ByteOrder
		want  string // "" for not ok
	}{
		{"0100007F:1F90", binary.LittleEndian, "127.0.0.1:8080"},
		{"7F000001:1F90", binary.BigEndian, "127.0.0.1:8080"},
		{"0100007f:1f90", binary.LittleEndian, "127.0.0.1:8080"},
		{"00000000:0000", binary.LittleEndian, "0.0.0.0:0"},
		{"00000000000000000000000001000000:FFFF", binary.LittleEndian, "[::1]:65535"},
		{"20010DB8000000000000000000000005:0035", binary.BigEndian, "[2001:db8::5]:53"},
		{"", nil, ""},
		{":", nil, ""},
		{"0100007F", nil, ""},
		{"0100007F:", nil, ""},
		{"0100007F:10000", nil, ""},
		{"0100007F:-1", nil, ""},
		{"0100007F:1F90:1", nil, ""},
		{"100007F:1F90", nil, ""},
		{"0x00007F:1F90", nil, ""},
		{"+100007F:1F90", nil, ""},
		{"0100007G:1F90", nil, ""},
		{"0100007F01:1F90", nil, ""},
		{"0100007F0100007F:1F90", nil, ""},
	} {
		order := c.order
		if order == nil {
			order = binary.LittleEndian
		}
		got, ok := parseProcAddr(c.in, order)
		switch {
		case c.want == "" && ok:
			t.Errorf("parseProcAddr(%q) = %v, want not ok", c.in, got)
		case c.want != "" && (!ok || got != netip.MustParseAddrPort(c.want)):
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", c.in, got, ok, c.want)
		}
	}
}

func TestKernelDropsRejectsUnboundAddress(t *testing.T) {
	for _, ap := range []netip.AddrPort{{}, netip.MustParseAddrPort("127.0.0.1:0")} {
		if _, err := KernelDrops(ap); err == nil || errors.Is(err, ErrNoSocket) {
			t.Errorf("KernelDrops(%v) = %v, want an address error", ap, err)
		}
	}
}

// FuzzProcDrops feeds any text to the table reader: it must not panic, and
// it never counts more sockets than lines.
func FuzzProcDrops(f *testing.F) {
	f.Add(procUDP4, "127.0.0.1:8080")
	f.Add(procUDP6, "[::1]:8080")
	f.Fuzz(func(t *testing.T, table, local string) {
		ap, err := netip.ParseAddrPort(local)
		if err != nil {
			return
		}
		_, sockets, err := procDrops(strings.NewReader(table), ap, binary.LittleEndian)
		if err == nil && sockets > strings.Count(table, "\n")+1 {
			t.Fatalf("%d sockets from %d lines", sockets, strings.Count(table, "\n")+1)
		}
	})
}
