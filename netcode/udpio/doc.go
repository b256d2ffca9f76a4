// Package udpio implements batch.Conn on real UDP sockets, with three
// backends behind one constructor, Listen(kind, addr, opts), so that a binary
// can expose them as a -io flag:
//
//   - "gnet" (ListenGnet, the default): one gnet v2 event loop. gnet reads one
//     datagram per readable event (one recvfrom) and hands it to OnTraffic
//     with a gnet.Conn that dies when the callback returns; the backend copies
//     the payload into a preallocated hand-off ring at once, then drains the
//     rest of the socket's queue with recvmmsg straight into free ring slots
//     on the same event (Options.GnetSingleRead turns that off). ReadBatch
//     pops the ring on the owner's goroutine. WriteBatch sends with sendmmsg
//     on a dup of the listening socket (Engine.Dup wrapped as a *net.UDPConn):
//     gnet's Conn.SendTo may only be called on the loop's goroutine.
//   - "batched" (ListenBatched): a stdlib socket read and written with one
//     recvmmsg/sendmmsg per batch of up to Options.BatchSize datagrams, the
//     syscalls made through the socket's RawConn so the Go runtime's poller
//     still waits and keeps the deadlines.
//   - "naive" (ListenNaive): one ReadMsgUDPAddrPort or WriteToUDPAddrPort per
//     datagram, ReadBatch returning one datagram per call. It is the
//     benchmark's baseline and the portable fallback.
//
// Every backend listens on one netip.AddrPort: IPv4 (a v4-mapped address
// counts as IPv4) or IPv6, never dual-stack, so peers are reported as plain
// IPv4 addresses, never v4-mapped. IPv6 zones are not carried by the batched
// paths: a scoped link-local peer loses its zone.
//
// # One event loop
//
// The gnet backend runs one event loop (multicore off). More loops would need
// SO_REUSEPORT sockets, one per loop, with the sessions of each loop's peers
// kept on that loop; batch.Conn has one owner, so that is a job for a layer
// above (one GnetConn per loop), not for this package.
//
// gnet always sets SO_REUSEPORT on UDP sockets: binding a port that another
// socket of the same user holds with SO_REUSEPORT succeeds and silently
// shares its traffic. ListenGnet therefore binds the address exclusively
// first (without SO_REUSEPORT) and closes it again: a taken port fails with
// EADDRINUSE, and port 0 becomes a free port the kernel picked, which gnet
// then binds (gnet itself does not report the port it got for port 0;
// LocalAddr reads it from the socket). Between the probe and gnet's bind,
// and after it, a socket that binds with SO_REUSEPORT as the same user can
// still join.
//
// # Allocations
//
// In steady state (datagrams flowing) ReadBatch and WriteBatch allocate
// nothing in any backend; the tests assert it with testing.AllocsPerRun.
// What does allocate, measured and asserted:
//
//   - gnet's own read path: 5 objects per datagram it reads (the Sockaddr
//     and its buffer from unix.Recvfrom, a gnet.Conn, a *net.UDPAddr and its
//     net.IP), before OnTraffic runs. By default that is paid once per
//     readable event, not per datagram: the recvmmsg drain reads the rest of
//     the queue without allocating (under the echo benchmark, about 0.5
//     allocations per datagram: 40-60 B/op against 464 B/op with
//     GnetSingleRead).
//   - A ReadBatch that times out in the batched and naive backends: 1, the
//     *net.OpError the stdlib builds for an expired deadline. A poll (a
//     deadline already past) and a Wake allocate nothing; the gnet backend's
//     timeouts allocate nothing (its own reused timer).
//
// golang.org/x/net/ipv4's PacketConn.ReadBatch was measured at 2 allocations
// per message (a *net.UDPAddr and its net.IP), which is why the batched
// backend calls recvmmsg itself with preallocated mmsghdr, iovec and
// sockaddr arrays. x/net's WriteBatch can be made allocation-free, but only
// with a net.Addr per message; the same raw sendmmsg serves both backends.
//
// # Drops
//
// A datagram dropped inside a backend is counted, never an error: the gnet
// ring full (Stats.RxDropped); a datagram with no address or port, a length
// beyond its buffer, or an address the socket's family cannot reach
// (Stats.TxDropped); a full send buffer, which drops the rest of the batch
// (Stats.TxDropped; the naive backend waits instead, as the stdlib does).
// A datagram longer than the reader's buffer (for gnet, longer than
// min(cap(Buf), MaxDatagram)) arrives cut and is counted in RxTruncated.
//
// # Deadlines and Wake
//
// The stdlib backends map ReadBatch's deadline to SetReadDeadline and Wake to
// SetReadDeadline in the past, from any goroutine; each ReadBatch sets its
// own deadline again. The stdlib attempts no read at all under an expired
// deadline, so a deadline already past (a poll) clears the deadline and makes
// one non-blocking recvmmsg attempt (outside Linux it waits up to 1 ms). The
// gnet backend waits on a one-slot notify channel and a reused timer; the
// event loop signals only when ReadBatch has announced that it waits.
//
// # Throughput
//
// BenchmarkPPS echoes 64- and 200-byte datagrams through each backend over
// loopback with a closed-loop batched client (see its doc). On the 2-core VM
// this package was written on, over several runs, the batched and gnet
// backends moved between 1.0 and 1.4 times the naive backend's packets per
// second (naive 145-175 k/s, batched 157-222 k/s, gnet 144-215 k/s; a run
// moves by up to 20% with the host's load), far from the project's 2x goal;
// with GOMAXPROCS=1, gnet reached 1.6 times naive and the server's own CPU
// per datagram was 1.4 times lower batched than naive. What stands in the
// way is the kernel: sending one datagram over loopback cost about 3 µs of
// CPU there, sendmmsg or not, because the sender's syscall also runs the
// receiver's whole IP/UDP input, while a syscall itself cost 0.15 µs.
// Batching removes the per-call costs (syscall entry, the runtime's poller,
// fd locking), a small share of that: the profile of the batched echo is
// about 75% sendmmsg, 20% recvmmsg, a few percent Go. Client, server and
// gnet's event loop also share the two cores, and the client's cost is the
// same in every run, which flattens the ratios. With a real NIC the receive
// processing leaves the sender's CPU and the per-call share grows;
// same-destination bursts (mesh batches) could use UDP GSO, which this
// package does not do.
//
// # Platforms
//
// Everything above holds on Linux. Elsewhere recvmmsg and sendmmsg do not
// exist: the batched backend, and the gnet backend's sender, move one
// datagram per syscall through the stdlib, gnet's drain is off, socket
// buffer sizes are set but not read back, and polls wait up to 1 ms. The
// gnet backend also needs net.FilePacketConn, which Windows lacks.
package udpio
