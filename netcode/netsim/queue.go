package netsim

// ordered is an element of a minHeap.
type ordered[T any] interface {
	before(T) bool
}

// minHeap is a binary min-heap over a slice that keeps its capacity, so it
// allocates only while growing to its high-water mark.
type minHeap[T ordered[T]] struct{ items []T }

func (h *minHeap[T]) len() int { return len(h.items) }

// top is the least element; the heap must not be empty.
func (h *minHeap[T]) top() T { return h.items[0] }

func (h *minHeap[T]) push(x T) {
	h.items = append(h.items, x)
	i := len(h.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h.items[i].before(h.items[parent]) {
			break
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

// pop removes and returns the least element; the heap must not be empty.
func (h *minHeap[T]) pop() T {
	n := len(h.items) - 1
	x := h.items[0]
	h.items[0] = h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	i := 0
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && h.items[l].before(h.items[least]) {
			least = l
		}
		if r < n && h.items[r].before(h.items[least]) {
			least = r
		}
		if least == i {
			return x
		}
		h.items[i], h.items[least] = h.items[least], h.items[i]
		i = least
	}
}

// instant is a delivery time in nanoseconds on the network's clock.
type instant int64

func (a instant) before(b instant) bool { return a < b }

// fifo is a ring of packets that grows by doubling up to the caller's limit
// and then stays put: the arrived, unread datagrams of one endpoint.
type fifo struct {
	ring    []*packet
	head, n int
}

func (q *fifo) len() int { return q.n }

// push appends p; the caller keeps len below its limit, and limit bounds
// the ring's growth.
func (q *fifo) push(p *packet, limit int) {
	if q.n == len(q.ring) {
		grown := make([]*packet, min(max(2*len(q.ring), 16), limit))
		for i := range q.n {
			grown[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = grown, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = p
	q.n++
}

// pop removes and returns the oldest packet; the ring must not be empty.
func (q *fifo) pop() *packet {
	p := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return p
}
