package netsim

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Listen, wrapped with the address; match with errors.Is.
var (
	// ErrAddrInUse: an open endpoint already listens at the address.
	ErrAddrInUse = errors.New("netsim: address already in use")
	// ErrAddr: the address is invalid, unspecified (no wildcard binds), or
	// has no free port left to choose.
	ErrAddr = errors.New("netsim: address not usable")
)

// firstEphemeral is where Listen starts looking for a port when given port 0.
const firstEphemeral = 49152

// Network is one simulated network: its endpoints, its directed links and
// the pool of datagram copies in flight. All its methods are safe to call
// from any goroutine.
type Network struct {
	seed       uint64
	def        params
	recvBuffer int
	maxLinks   int
	epoch      time.Time
	pool       pool
	gen        atomic.Uint64 // bumped under mu whenever a route changes

	mu        sync.RWMutex
	endpoints map[netip.AddrPort]*Endpoint
	isolated  map[netip.AddrPort]bool
	links     map[linkKey]*link
	nextPort  uint16
}

type linkKey struct{ from, to netip.AddrPort }

// New returns a network in which every link behaves as cfg says. Its clock
// starts now, so inside a synctest bubble it must be made in the bubble.
// New panics if cfg is invalid (see Config.Validate): a test that asks for
// 150% loss has a bug.
func New(cfg Config) *Network {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	n := &Network{
		seed:       cfg.Seed,
		def:        resolve(cfg.Link()),
		recvBuffer: cmp.Or(cfg.RecvBuffer, DefaultRecvBuffer),
		maxLinks:   cmp.Or(cfg.MaxLinks, DefaultMaxLinks),
		epoch:      time.Now(),
		endpoints:  make(map[netip.AddrPort]*Endpoint),
		isolated:   make(map[netip.AddrPort]bool),
		links:      make(map[linkKey]*link),
		nextPort:   firstEphemeral,
	}
	n.pool.limit = cmp.Or(cfg.MaxPending, DefaultMaxPending)
	n.gen.Store(1)
	return n
}

// now is the network clock: nanoseconds since New.
func (n *Network) now() int64 { return int64(time.Since(n.epoch)) }

// Listen opens an endpoint at addr; in a synctest bubble, call it in the
// bubble that uses the endpoint. Port 0 picks a free port from 49152 up.
// An IPv4-mapped IPv6 address is the IPv4 address. The error wraps
// ErrAddrInUse if an open endpoint has the address, ErrAddr if the address
// cannot be used.
func (n *Network) Listen(addr netip.AddrPort) (*Endpoint, error) {
	addr = unmap(addr)
	if !addr.IsValid() || addr.Addr().IsUnspecified() {
		return nil, fmt.Errorf("netsim: listen %s: %w", addr, ErrAddr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr.Port() == 0 {
		free, ok := n.freePort(addr.Addr())
		if !ok {
			return nil, fmt.Errorf("netsim: listen %s: no free port: %w", addr, ErrAddr)
		}
		addr = free
	}
	if _, taken := n.endpoints[addr]; taken {
		return nil, fmt.Errorf("netsim: listen %s: %w", addr, ErrAddrInUse)
	}
	e := newEndpoint(n, addr)
	n.endpoints[addr] = e
	n.gen.Add(1)
	return e, nil
}

// freePort finds an unused ephemeral port on ip; n.mu is held.
func (n *Network) freePort(ip netip.Addr) (netip.AddrPort, bool) {
	for range 1<<16 - firstEphemeral {
		port := n.nextPort
		n.nextPort++
		if n.nextPort == 0 {
			n.nextPort = firstEphemeral
		}
		ap := netip.AddrPortFrom(ip, port)
		if _, taken := n.endpoints[ap]; !taken {
			return ap, true
		}
	}
	return netip.AddrPort{}, false
}

// unlisten removes e from the routing table if it still owns its address.
func (n *Network) unlisten(e *Endpoint) {
	n.mu.Lock()
	if n.endpoints[e.addr] == e {
		delete(n.endpoints, e.addr)
		n.gen.Add(1)
	}
	n.mu.Unlock()
}

// link returns the directed link from -> to, creating it with the default
// behaviour, or nil if MaxLinks links exist already.
func (n *Network) link(from, to netip.AddrPort) *link {
	k := linkKey{from, to}
	n.mu.RLock()
	l := n.links[k]
	n.mu.RUnlock()
	if l != nil {
		return l
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if l = n.links[k]; l != nil {
		return l
	}
	if len(n.links) >= n.maxLinks {
		return nil
	}
	l = &link{net: n, from: from, to: to, p: n.def, rand: linkRNG(n.seed, from, to)}
	n.links[k] = l
	return l
}

// existing returns the link from -> to if any datagram or setting made it.
func (n *Network) existing(from, to netip.AddrPort) *link {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.links[linkKey{unmap(from), unmap(to)}]
}

// SetLink makes the directed link from -> to behave as lc from its next
// datagram on; datagrams already in flight keep their fate. It panics if lc
// is invalid (see LinkConfig.Validate) or MaxLinks links exist already.
func (n *Network) SetLink(from, to netip.AddrPort, lc LinkConfig) {
	if err := lc.Validate(); err != nil {
		panic(err)
	}
	l := n.mustLink(from, to)
	l.mu.Lock()
	l.p = resolve(lc)
	l.mu.Unlock()
}

// Link returns the behaviour of the directed link from -> to.
func (n *Network) Link(from, to netip.AddrPort) LinkConfig {
	l := n.existing(from, to)
	if l == nil {
		return n.def.orig
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lc := l.p.orig
	lc.Down = l.p.down
	return lc
}

// Partition takes both directions between a and b down (Cut) until Heal;
// everything else about the links stays as it is. Datagrams already in
// flight still arrive.
func (n *Network) Partition(a, b netip.AddrPort) {
	n.setDown(a, b, true)
	n.setDown(b, a, true)
}

// Heal brings both directions between a and b back up.
func (n *Network) Heal(a, b netip.AddrPort) {
	n.setDown(a, b, false)
	n.setDown(b, a, false)
}

func (n *Network) setDown(from, to netip.AddrPort, down bool) {
	l := n.mustLink(from, to)
	l.mu.Lock()
	l.p.down = down
	l.mu.Unlock()
}

func (n *Network) mustLink(from, to netip.AddrPort) *link {
	l := n.link(unmap(from), unmap(to))
	if l == nil {
		panic(fmt.Sprintf("netsim: link %s -> %s: MaxLinks links exist", from, to))
	}
	return l
}

// Isolate cuts addr off: every datagram sent to or from it, on any link,
// present or future, is dropped (Cut) until Rejoin. It models a dead peer or
// a pulled cable; the endpoint at addr stays open. Datagrams already in
// flight still arrive.
func (n *Network) Isolate(addr netip.AddrPort) {
	n.mu.Lock()
	n.isolated[unmap(addr)] = true
	n.gen.Add(1)
	n.mu.Unlock()
}

// Rejoin undoes Isolate.
func (n *Network) Rejoin(addr netip.AddrPort) {
	n.mu.Lock()
	delete(n.isolated, unmap(addr))
	n.gen.Add(1)
	n.mu.Unlock()
}

// LinkStats returns the counters of the directed link from -> to; zero if
// nothing was ever sent or set on it.
func (n *Network) LinkStats(from, to netip.AddrPort) LinkStats {
	l := n.existing(from, to)
	if l == nil {
		return LinkStats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Totals returns the counters of all links added together.
func (n *Network) Totals() LinkStats {
	n.mu.RLock()
	links := make([]*link, 0, len(n.links))
	for _, l := range n.links {
		links = append(links, l)
	}
	n.mu.RUnlock()
	var sum LinkStats
	for _, l := range links {
		l.mu.Lock()
		sum.add(l.stats)
		l.mu.Unlock()
	}
	return sum
}

// unmap makes an IPv4-mapped IPv6 address the IPv4 address it maps.
func unmap(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}
