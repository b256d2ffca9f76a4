package udpio

import (
	"sync/atomic"

	"github.com/flotilla/flotilla/netcode/batch"
)

// counters are a backend's Stats kept as atomics: the owner goroutine (and,
// for gnet, the event loop) adds, any goroutine reads.
type counters struct {
	rxDatagrams atomic.Uint64
	rxBytes     atomic.Uint64
	rxDropped   atomic.Uint64
	rxTruncated atomic.Uint64
	txDatagrams atomic.Uint64
	txBytes     atomic.Uint64
	txDropped   atomic.Uint64
}

// snapshot reads every counter once. The counters are read one by one, so a
// snapshot taken while traffic flows may mix counts from adjacent batches.
func (c *counters) snapshot() batch.Stats {
	return batch.Stats{
		RxDatagrams: c.rxDatagrams.Load(),
		RxBytes:     c.rxBytes.Load(),
		RxDropped:   c.rxDropped.Load(),
		RxTruncated: c.rxTruncated.Load(),
		TxDatagrams: c.txDatagrams.Load(),
		TxBytes:     c.txBytes.Load(),
		TxDropped:   c.txDropped.Load(),
	}
}

// addRx records one ReadBatch's result with one atomic add per counter.
func (c *counters) addRx(n, bytes, truncated int) {
	if n > 0 {
		c.rxDatagrams.Add(uint64(n))
		c.rxBytes.Add(uint64(bytes))
	}
	if truncated > 0 {
		c.rxTruncated.Add(uint64(truncated))
	}
}

// addTx records one WriteBatch's result with one atomic add per counter.
func (c *counters) addTx(n, bytes, dropped int) {
	if n > 0 {
		c.txDatagrams.Add(uint64(n))
		c.txBytes.Add(uint64(bytes))
	}
	if dropped > 0 {
		c.txDropped.Add(uint64(dropped))
	}
}
