//go:build linux

package udpio

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flotilla/flotilla/netcode/batch"
)

// BenchmarkPPS measures datagrams per second through each backend over real
// loopback, in one run so the figures are comparable:
//
//	go test -run '^$' -bench PPS -benchtime 300000x -count 3 ./netcode/udpio
//
// One op is one datagram echoed. The load is closed-loop: a client (always
// the batched backend, so its cost is the same for every backend under test)
// keeps up to benchWindow datagrams of 64 and 200 bytes in flight, sending in
// sendmmsg batches of 64; the backend under test echoes each one back with
// ReadBatch then WriteBatch on one goroutine, as a server's I/O loop would.
// Echo measures both directions of a backend (a server receives inputs and
// sends snapshots) and a closed loop never overruns a socket buffer, so
// nothing is lost and every backend is measured at its own pace rather than
// at the sender's. Client, server and gnet's event loop share the machine's
// cores; pkts/s counts echoed datagrams (each is one receive and one send at
// the server). allocs/op counts every goroutine's allocations per datagram,
// gnet's event loop included.
//
// gnet-single-read is the gnet backend with Options.GnetSingleRead: gnet's own
// one recvfrom per readable event, for comparison.
//
// pkts/s also pays for the client, which is the same for every backend and
// so flattens the ratios between them. Two CPU metrics separate the costs;
// they depend less than pkts/s on how much of the machine other processes
// take. cpu-ns/op is the whole process's CPU time (user and
// system) per datagram. srv-cpu-ns/op is that minus the client's: the client
// goroutine is locked to its thread, whose CPU clock is read on its own. It
// is the backend's cost per echoed datagram (its receive, its send, the Go
// runtime), except that on loopback the kernel's receive processing of each
// datagram runs in the sender's syscall: the client is charged for the
// server's IP/UDP input and the server for the client's, and the Go
// scheduler's spinning threads count as the server's.
func BenchmarkPPS(b *testing.B) {
	for _, kind := range []string{KindNaive, KindBatched, KindGnet, gnetSingle} {
		b.Run(kind, func(b *testing.B) { benchEcho(b, kind) })
	}
}

// cpuTime reads a CPU clock: the process's or the calling thread's.
func cpuTime(b *testing.B, clock int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

const (
	benchWindow = 256                    // datagrams in flight
	benchStall  = 200 * time.Millisecond // no echo for this long: count the window lost
)

func benchEcho(b *testing.B, kind string) {
	opts := Options{}
	if kind == gnetSingle {
		kind, opts.GnetSingleRead = KindGnet, true
	}
	srv, err := Listen(kind, loopback, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var reads atomic.Uint64
	done := make(chan error, 1)
	go func() {
		ds := batch.NewBuffers(DefaultBatchSize)
		for {
			n, err := srv.ReadBatch(ds, time.Time{})
			if err != nil {
				done <- err
				return
			}
			reads.Add(1)
			if _, err := srv.WriteBatch(ds[:n]); err != nil {
				done <- err
				return
			}
		}
	}()
	cl, err := ListenBatched(loopback, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()

	tx := batch.NewBuffers(DefaultBatchSize)
	for i := range tx {
		tx[i].Addr = srv.LocalAddr()
		tx[i].N = 64
		if i%2 == 1 {
			tx[i].N = 200
		}
	}
	rx := batch.NewBuffers(DefaultBatchSize)

	run := func(total int) (echoed, lost int) {
		sent, settled := 0, 0 // settled = echoed + lost
		for settled < total {
			for sent < total && sent-settled < benchWindow {
				k := min(len(tx), benchWindow-(sent-settled), total-sent)
				n, err := cl.WriteBatch(tx[:k])
				if err != nil {
					b.Fatal(err)
				}
				sent += k
				lost += k - n
				settled += k - n
			}
			n, err := cl.ReadBatch(rx, time.Now().Add(benchStall))
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 { // the window went missing: count it and go on
				lost += sent - settled
				settled = sent
				continue
			}
			echoed += n
			settled += n
		}
		return echoed, lost
	}

	run(10 * benchWindow) // warm up: sockets, ring, caches
	srvStart, readsStart := srv.Stats(), reads.Load()
	b.ReportAllocs()
	b.ResetTimer()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	cpuStart, clientStart := cpuTime(b, unix.CLOCK_PROCESS_CPUTIME_ID), cpuTime(b, unix.CLOCK_THREAD_CPUTIME_ID)
	echoed, lost := run(b.N)
	cpu, client := cpuTime(b, unix.CLOCK_PROCESS_CPUTIME_ID)-cpuStart, cpuTime(b, unix.CLOCK_THREAD_CPUTIME_ID)-clientStart
	elapsed := time.Since(start)
	b.StopTimer()

	st := srv.Stats()
	b.ReportMetric(float64(echoed)/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64((cpu-client).Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
	if r := reads.Load() - readsStart; r > 0 {
		b.ReportMetric(float64(st.RxDatagrams-srvStart.RxDatagrams)/float64(r), "dgrams/read")
	}
	if lost > 0 {
		b.ReportMetric(float64(lost), "lost")
	}
	srv.Close()
	if err := <-done; !errors.Is(err, batch.ErrClosed) {
		b.Fatalf("server loop: %v", err)
	}
}
