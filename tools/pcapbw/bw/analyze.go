package bw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Errors of Analyze, matched with errors.Is; the message says more.
var (
	// ErrNotCapture: the input is empty, starts with neither magic or has
	// a file header that does not read.
	ErrNotCapture = errors.New("bw: not a capture")
	// ErrOptions: Options are invalid.
	ErrOptions = errors.New("bw: invalid options")
)

// Defaults of Options.
const (
	DefaultMaxFlows   = 65536
	DefaultMaxSeconds = 86400
)

// First four bytes of a capture file, read little-endian.
const (
	magicPcapMicro        = 0xA1B2C3D4
	magicPcapMicroSwapped = 0xD4C3B2A1
	magicPcapNano         = 0xA1B23C4D
	magicPcapNanoSwapped  = 0x4D3CB2A1
	magicPcapng           = 0x0A0D0D0A // a Section Header Block's type, the same both ways
	magicGzip             = 0x8B1F     // first two bytes only
)

// Analyze reads one pcap or pcapng capture from r and counts the UDP
// traffic of the server ports in o. It reads r to its end (or to the first
// damage) and keeps nothing of it after returning.
//
// It returns an error only for invalid options (matching ErrOptions), an
// input that is not a capture at all (matching ErrNotCapture), or r failing
// before the first four bytes (wrapping r's error). Damage after the file
// header, r failing included, ends the reading: the report then holds every
// record before it and says what happened in Capture.Error. Analyze never
// panics. The report shares nothing with r or o; Report.Ports is o.Ports
// sorted. Calls on different readers may run in parallel.
func Analyze(r io.Reader, o Options) (*Report, error) {
	ports, maxFlows, maxSeconds, err := o.check()
	if err != nil {
		return nil, err
	}
	src, format, err := open(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return nil, err
	}
	a := newAnalyzer(ports, maxFlows, maxSeconds)
	stop := a.read(src)
	rep := a.report(format, ports, o.Peers)
	rep.Capture.Error = stop
	return rep, nil
}

// check validates o and returns its ports, sorted, and its bounds with the
// defaults filled in.
func (o Options) check() (ports []uint16, maxFlows, maxSeconds int, err error) {
	if len(o.Ports) == 0 {
		return nil, 0, 0, fmt.Errorf("%w: no server port", ErrOptions)
	}
	ports = slices.Clone(o.Ports)
	slices.Sort(ports)
	for i, p := range ports {
		if p == 0 {
			return nil, 0, 0, fmt.Errorf("%w: port 0 cannot be a server port", ErrOptions)
		}
		if i > 0 && p == ports[i-1] {
			return nil, 0, 0, fmt.Errorf("%w: port %d given twice", ErrOptions, p)
		}
	}
	if o.MaxFlows < 0 {
		return nil, 0, 0, fmt.Errorf("%w: MaxFlows %d is negative", ErrOptions, o.MaxFlows)
	}
	if o.MaxSeconds < 0 {
		return nil, 0, 0, fmt.Errorf("%w: MaxSeconds %d is negative", ErrOptions, o.MaxSeconds)
	}
	maxFlows, maxSeconds = o.MaxFlows, o.MaxSeconds
	if maxFlows == 0 {
		maxFlows = DefaultMaxFlows
	}
	if maxSeconds == 0 {
		maxSeconds = DefaultMaxSeconds
	}
	return ports, maxFlows, maxSeconds, nil
}

// source yields a capture's records. data is valid until the next call.
// io.EOF is the clean end of the capture.
type source interface {
	next() (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error)
}

// open tells the format by the magic and reads the file header. br must be
// at least 4,096 bytes so that pcapgo reads through it without another
// buffer.
func open(br *bufio.Reader) (source, string, error) {
	head, err := br.Peek(4)
	switch {
	case len(head) == 0 && err == io.EOF:
		return nil, "", fmt.Errorf("%w: empty input", ErrNotCapture)
	case len(head) < 4 && err == io.EOF:
		return nil, "", fmt.Errorf("%w: %d bytes, shorter than any file header", ErrNotCapture, len(head))
	case err != nil:
		return nil, "", fmt.Errorf("bw: reading the capture: %w", err)
	}
	switch magic := binary.LittleEndian.Uint32(head); magic {
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("%w: pcap file header: %w", ErrNotCapture, err)
		}
		return &pcapSource{r: r, lt: r.LinkType()}, "pcap", nil
	case magicPcapng:
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, "", fmt.Errorf("%w: pcapng section header: %w", ErrNotCapture, err)
		}
		return &ngSource{r: r}, "pcapng", nil
	default:
		if binary.LittleEndian.Uint16(head) == magicGzip {
			return nil, "", fmt.Errorf("%w: gzip-compressed input (decompress it first)", ErrNotCapture)
		}
		return nil, "", fmt.Errorf("%w: unknown magic % x (neither pcap nor pcapng)", ErrNotCapture, head)
	}
}

type pcapSource struct {
	r  *pcapgo.Reader
	lt layers.LinkType
}

func (s *pcapSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err == io.EOF && ci.CaptureLength > 0 {
		// The record header was read but not a byte of its data: the file
		// ends inside the record, not between records.
		err = io.ErrUnexpectedEOF
	}
	return data, ci, s.lt, err
}

type ngSource struct {
	r *pcapgo.NgReader
}

// next reads the link type of the record's own interface, which the reader
// puts in AncillaryData when WantMixedLinkType is set (it stays right when
// a new section renumbers the interfaces).
func (s *ngSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, 0, err
	}
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			return data, ci, lt, nil
		}
	}
	intf, err := s.r.Interface(ci.InterfaceIndex)
	return data, ci, intf.LinkType, err
}

// read counts records until the end of the capture or the first damage,
// and returns what stopped it: "" at the clean end.
func (a *analyzer) read(src source) string {
	for {
		data, ci, lt, err := nextRecord(src)
		if err == io.EOF {
			return ""
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Sprintf("after %d records: the file ends inside a record or block (%v)", a.records, err)
			}
			return fmt.Sprintf("after %d records: %v", a.records, err)
		}
		a.links.add(lt)
		a.record(linkKindOf(lt), data, ci)
	}
}

// nextRecord is src.next, with a panic in the reader on hostile input made
// an error.
func nextRecord(src source) (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fmt.Errorf("reader failed: %v", p)
		}
	}()
	return src.next()
}
