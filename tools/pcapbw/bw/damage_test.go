package bw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func TestNotACapture(t *testing.T) {
	pcapHead := pcapFile(t, layers.LinkTypeEthernet, false)
	badVersion := bytes.Clone(pcapHead)
	binary.LittleEndian.PutUint16(badVersion[4:], 3)
	ngHead := pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet})
	badOrder := bytes.Clone(ngHead)
	copy(badOrder[8:12], "XXXX") // the byte-order magic
	for _, tt := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "bw: not a capture: empty input"},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, "bw: not a capture: 3 bytes, shorter than any file header"},
		{"text", []byte("hello, world\n"), "bw: not a capture: unknown magic 68 65 6c 6c (neither pcap nor pcapng)"},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0}, "bw: not a capture: gzip-compressed input (decompress it first)"},
		{"pcap header cut", pcapHead[:20], "bw: not a capture: pcap file header: unexpected EOF"},
		{"pcap version 3", badVersion, "bw: not a capture: pcap file header: Unknown major version 3"},
		{"pcapng header cut", ngHead[:10], "bw: not a capture: pcapng section header: unexpected EOF"},
		{"pcapng byte order", badOrder, "bw: not a capture: pcapng section header: Wrong byte order value in Section Header"},
	} {
		rep, err := Analyze(bytes.NewReader(tt.input), Options{Ports: []uint16{7777}})
		if rep != nil || !errors.Is(err, ErrNotCapture) || err.Error() != tt.want {
			t.Errorf("%s: report %v, error %v, want %q", tt.name, rep != nil, err, tt.want)
		}
	}
}

// failingReader fails after its data.
type failingReader struct{ data []byte }

var errDisk = errors.New("disk on fire")

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errDisk
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadErrors(t *testing.T) {
	if _, err := Analyze(&failingReader{}, Options{Ports: []uint16{7777}}); !errors.Is(err, errDisk) {
		t.Errorf("failing reader at the start: %v", err)
	}
	recs := session(t)
	rep, err := Analyze(&failingReader{data: pcapFile(t, layers.LinkTypeEthernet, false, recs...)}, Options{Ports: []uint16{7777}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Capture.Error != "after 15 records: disk on fire" {
		t.Errorf("error %q", rep.Capture.Error)
	}
}

// recordEnds are the offsets in a pcap file after its header and after
// each record.
func recordEnds(capture []byte) []int {
	ends := []int{24}
	for off := 24; off+16 <= len(capture); {
		off += 16 + int(binary.LittleEndian.Uint32(capture[off+8:]))
		ends = append(ends, off)
	}
	return ends
}

// checkDamaged analyzes a damaged capture and checks that it holds exactly
// what the first n records hold and says why it stopped.
func checkDamaged(t *testing.T, name string, damaged, firstN []byte, n int, why string) {
	t.Helper()
	o := Options{Ports: []uint16{7777}}
	rep := analyze(t, damaged, o)
	want := analyze(t, firstN, o)
	if want.Capture.Error != "" {
		t.Fatalf("%s: the undamaged prefix has an error: %s", name, want.Capture.Error)
	}
	if rep.Capture.Records != uint64(n) || !strings.HasPrefix(rep.Capture.Error, "after ") || !strings.Contains(rep.Capture.Error, why) {
		t.Errorf("%s: %d records, error %q; want %d records and an error with %q", name, rep.Capture.Records, rep.Capture.Error, n, why)
	}
	rep.Capture.Error = ""
	sameJSON(t, name, rep, want)
}

func TestDamagedPcap(t *testing.T) {
	recs := session(t)
	full := pcapFile(t, layers.LinkTypeEthernet, false, recs...)
	ends := recordEnds(full)
	prefix := func(n int) []byte { return full[:ends[n]] }
	hugeRecord := binary.LittleEndian.AppendUint32(nil, uint32(t0.Unix()))
	hugeRecord = binary.LittleEndian.AppendUint32(hugeRecord, 0)
	hugeRecord = binary.LittleEndian.AppendUint32(hugeRecord, 0x7ffffff0)
	hugeRecord = binary.LittleEndian.AppendUint32(hugeRecord, 0x7ffffff0)
	for _, tt := range []struct {
		name    string
		damaged []byte
		n       int
		why     string
	}{
		{"cut in a record header", full[:ends[9]+7], 9, "the file ends inside a record"},
		{"cut after a record header", full[:ends[9]+16], 9, "the file ends inside a record"},
		{"cut in a record body", full[:ends[9]+16+20], 9, "the file ends inside a record"},
		{"cut in the last record", full[:len(full)-1], 14, "the file ends inside a record"},
		{"garbage after the records", append(bytes.Clone(full), bytes.Repeat([]byte{0xff}, 64)...), 15, "capture length exceeds snap length"},
		{"huge record length", append(bytes.Clone(prefix(3)), hugeRecord...), 3, "capture length exceeds snap length"},
		{"captured longer than original", append(bytes.Clone(prefix(3)), func() []byte {
			h := bytes.Clone(hugeRecord)
			binary.LittleEndian.PutUint32(h[8:], 100)
			binary.LittleEndian.PutUint32(h[12:], 50)
			return append(h, make([]byte, 100)...)
		}()...), 3, "capture length exceeds original packet length"},
	} {
		checkDamaged(t, tt.name, tt.damaged, prefix(tt.n), tt.n, tt.why)
	}
}

func TestDamagedPcapng(t *testing.T) {
	recs := session(t)
	links := []layers.LinkType{layers.LinkTypeEthernet}
	full := pcapngFile(t, links, recs...)
	first5 := pcapngFile(t, links, recs[:5]...)
	first6 := pcapngFile(t, links, recs[:6]...)
	badInterface := bytes.Clone(first6[len(first5):])
	binary.LittleEndian.PutUint32(badInterface[8:], 3) // interface 3 of 1
	hugeBlock := bytes.Clone(first6[len(first5):])
	binary.LittleEndian.PutUint32(hugeBlock[4:], 0xfffffff0)
	for _, tt := range []struct {
		name    string
		damaged []byte
		why     string
	}{
		{"cut in a block header", append(bytes.Clone(first5), first6[len(first5):len(first5)+6]...), "the file ends inside a record or block"},
		{"cut in a block", first6[:len(first6)-5], "the file ends inside a record or block"},
		{"record of a missing interface", append(bytes.Clone(first5), badInterface...), "Interface id 3 not present"},
		{"huge block length", append(bytes.Clone(first5), hugeBlock...), "the file ends inside a record or block"},
		{"garbage", append(bytes.Clone(first5), bytes.Repeat([]byte{0xff}, 64)...), "after 5 records"},
	} {
		checkDamaged(t, tt.name, tt.damaged, first5, 5, tt.why)
	}
	if rep := analyze(t, full, Options{Ports: []uint16{7777}}); rep.Capture.Error != "" || rep.Capture.Records != 15 {
		t.Errorf("undamaged: %+v", rep.Capture)
	}
}
