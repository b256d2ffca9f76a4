package bw

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/flotilla/flotilla/netcode"
)

// BenchmarkAnalyze analyzes a minute of 100 clients at 20 packets a
// second each way: 240,000 records.
func BenchmarkAnalyze(b *testing.B) {
	const clients, rate, seconds = 100, 20, 60
	var frames [clients][2][]byte
	for i := range clients {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(40000+i))
		frames[i][In] = ethUDP(b, c, server, fl(netcode.TypeUnreliable, 60+i), false)
		frames[i][Out] = ethUDP(b, server, c, fl(netcode.TypeUnreliable, 400+i), false)
	}
	var recs []rec
	for s := range seconds {
		for k := range rate {
			ms := s*1000 + k*1000/rate
			for i := range clients {
				recs = append(recs, rec{ts: at(ms), data: frames[i][In]}, rec{ts: at(ms), data: frames[i][Out]})
			}
		}
	}
	for _, format := range []string{"pcap", "pcapng"} {
		capture := pcapFile(b, layers.LinkTypeEthernet, false, recs...)
		if format == "pcapng" {
			capture = pcapngFile(b, []layers.LinkType{layers.LinkTypeEthernet}, recs...)
		}
		b.Run(fmt.Sprintf("%s/%d", format, len(recs)), func(b *testing.B) {
			b.SetBytes(int64(len(capture)))
			b.ReportAllocs()
			for b.Loop() {
				rep, err := Analyze(bytes.NewReader(capture), Options{Ports: []uint16{7777}})
				if err != nil || rep.Total.Packets != uint64(len(recs)) {
					b.Fatalf("%v, %d packets", err, rep.Total.Packets)
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
