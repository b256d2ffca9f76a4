// Package netsim is a seeded, in-process network simulator: the default
// transport of Flotilla's protocol tests. A Network carries datagrams between
// Endpoints, each of which implements batch.Conn, so protocol code runs over
// it exactly as it runs over a UDP socket. No sockets, no tc netem.
//
// # Links
//
// Every ordered pair of addresses (from, to) is a directed link with its own
// impairments (LinkConfig: latency, jitter, loss, duplication, reordering,
// a bandwidth cap, a bounded queue, or down), taken from Config unless
// overridden by SetLink, Partition or Isolate. Each link draws from its own
// PRNG stream, derived from Config.Seed and both addresses, so traffic on one
// link never changes the random draws of another, whichever goroutines drive
// them.
//
// # The fate of a datagram
//
// WriteBatch hands each datagram to its link (Stats.TxDatagrams counts it,
// whatever happens next). The link then decides, in this order:
//
//  1. It draws exactly five numbers from the link's stream, whatever the
//     outcome, so the n-th datagram sent on a link always gets the n-th set
//     of draws: loss, duplicate, reorder, jitter, duplicate's jitter.
//  2. The link is down, partitioned, or one end is isolated: dropped (Cut).
//  3. Nobody listens at the destination: dropped (Unrouted).
//  4. The loss draw is under Loss: dropped (Lost). A lost datagram uses no
//     queue space and no bandwidth.
//  5. QueueLimit copies are already in flight on the link: dropped
//     (QueueDropped). A copy is in flight from its send until its delivery
//     time.
//  6. With a bandwidth cap, the link is a FIFO bottleneck serialising
//     BandwidthBps bytes per second. If the bytes waiting to be serialised
//     plus this datagram exceed BufferBytes, it is dropped
//     (BandwidthDropped, drop-tail). Otherwise it leaves the bottleneck when
//     its last byte is serialised.
//  7. Its delivery time is departure + Latency + a uniform jitter in
//     [-Jitter, +Jitter] (clamped at zero delay). If the reorder draw is under
//     Reorder it is held back by ReorderDelay more (Reordered).
//  8. The network-wide pool of datagram copies (Config.MaxPending) is full:
//     dropped (PoolDropped). Otherwise the payload is copied and the copy is
//     on its way (Delivered).
//  9. If the duplicate draw is under Duplicate, a second copy follows, with
//     its own jitter, no hold-back and no bandwidth cost (Duplicated),
//     subject to steps 5 and 8.
//
// The draws, and so the loss, duplication, jitter and hold-back of every
// datagram, depend only on the seed, the two addresses and the datagram's
// index on its link. Steps 5 and 6 also depend on when datagrams were sent
// on the link, which a test controls exactly inside a synctest bubble. Step 8
// alone depends on the rest of the network; with the default MaxPending it
// happens only when a test holds tens of thousands of copies at once.
//
// At the destination, copies arrive in order of delivery time (ties broken by
// source address, then by send order on the link). The endpoint's receive
// buffer holds at most Config.RecvBuffer arrived, unread datagrams; a copy
// arriving at a full buffer is dropped and counted in the endpoint's
// Stats.RxDropped, as a kernel does when a socket buffer overflows. That one
// drop depends on how fast the receiver reads.
//
// # Time
//
// The simulator reads time.Now and waits with time.Timer, so it runs in real
// time, and inside a testing/synctest bubble on the bubble's virtual clock,
// where a 100 ms latency costs no wall time. A ReadBatch with nothing to
// return waits in a select on channels and a timer, which is durably blocking
// in a bubble: time advances straight to the next delivery.
//
// In a bubble, create the Network and its Endpoints inside the bubble and use
// them only from the bubble's goroutines (Wake and Close included): endpoint
// channels and timers belong to the bubble that created them, and the
// Network's clock starts at New.
package netsim
