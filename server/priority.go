package server

import (
	"slices"

	"github.com/flotilla/flotilla/codec"
)

// prioEntry is one entity's accumulated priority for one client: it grows
// each time the entity is left out of a snapshot that could not carry
// everything, and drops to zero when the entity is sent.
type prioEntry struct {
	id  uint32
	acc uint32
}

// Priority weights: what one left-out snapshot adds, by tier. The client's
// avatar (its own ship in the demo) outranks everything.
var tierWeight = [codec.NumLODs]uint32{16, 8, 4, 2}

const ownShipWeight = 1 << 24

// prioritize builds, for a client whose snapshot would not fit room bytes,
// a view of its own: the baseline (what the client holds) brought up to
// date for the entities of highest accumulated priority, as many as fit;
// entities that left the view are removed. The others keep their baseline
// state and gain priority, so they come first next time. It returns the
// view's states (a known: one hold, owned by the caller) and its encoding,
// valid until the next call. The view itself is the worker's scratch: the
// known names the states it took from cur (prepared) and from the
// baseline, stored once for the room.
//
// Sizes come from the codec's price list (codec.EntityBits, IDBits,
// FrameBits), whose sum is exactly what the encoder writes: entities are
// priced one by one in priority order until the room is full, so a crowd
// of a thousand entities costs a price for the hundred or so that fit, one
// exact sum over the view and one encoding, not repeated measurements of
// the whole view.
func (w *worker) prioritize(c *client, cur *view, base *known, room int) (*known, []byte) {
	r := w.r
	ents := cur.v.Entities
	c.prio = w.accumulate(c, ents)
	n := len(ents)
	sc := &w.sc
	// Order of preference: highest priority first, then lower index (id).
	// Keys sort ascending as (^acc, index).
	keys := sc.keys[:0]
	for i := range ents {
		keys = append(keys, uint64(^c.prio[i].acc)<<32|uint64(i))
	}
	sc.keys = keys
	// Only the front of the order is ever read in order: sort a prefix
	// about twice what fit last time, and more only if the fill reaches
	// its end.
	sorted := sortFront(keys, 0, max(64, 2*c.lastFill))
	if cap(sc.pick) < n {
		sc.pick = make([]bool, n, 2*n)
		sc.cost = make([]int32, n, 2*n)
		sc.inBase = make([]int32, n, 2*n)
	}
	pick, cost, inBase := sc.pick[:n], sc.cost[:n], sc.inBase[:n]
	clear(pick)

	var bv *codec.View
	var be []codec.Entity
	if base != nil {
		bv = w.load(base)
		be = bv.Entities
	}
	delta := bv != nil
	// Where each current entity is in the baseline (-1: not there).
	j := 0
	for i := range ents {
		for j < len(be) && be[j].ID < ents[i].ID {
			j++
		}
		inBase[i] = -1
		if j < len(be) && be[j].ID == ents[i].ID {
			inBase[i] = int32(j)
			j++
		}
	}
	roomBits := 8 * room
	// Events ride along when they fit beside the removals alone.
	evView := &cur.v
	total := w.priceView(ents, be, pick, cost, evView)
	events := total <= roomBits
	if !events {
		evView = &sc.noEvents
		total = w.priceView(ents, be, pick, cost, evView)
	}
	// Fill: price entities in priority order, each with an id code of
	// idGuess bits, until one does not fit; then sum exactly and go on
	// with what is left, or give back the last picks if the guesses were
	// short. The exact sum decides; a few rounds settle it.
	const idGuess = 8
	next := 0               // the next entity in priority order to consider
	picked := sc.picked[:0] // picks with a record, in the order they were made
	for round := 0; round < 16; round++ {
		slack := roomBits - total
		if slack < 0 {
			// Give back the lowest-priority picks until their price covers
			// the excess.
			for slack < 0 && len(picked) > 0 {
				i := picked[len(picked)-1]
				picked = picked[:len(picked)-1]
				pick[i] = false
				slack += int(cost[i]) + idGuess
			}
			next = n // nothing more is added after giving back
		} else {
			for next < n {
				if next == sorted {
					sorted = sortFront(keys, sorted, 2*sorted)
				}
				i := int32(uint32(keys[next]))
				b := (*codec.Entity)(nil)
				if inBase[i] >= 0 {
					b = &be[inBase[i]]
				}
				cost[i] = int32(w.codec.EntityBits(b, &ents[i], delta))
				if cost[i] == 0 {
					pick[i] = true // already up to date: free
					next++
					continue
				}
				if int(cost[i])+idGuess > slack {
					break
				}
				slack -= int(cost[i]) + idGuess
				pick[i] = true
				picked = append(picked, i)
				next++
			}
		}
		total = w.priceView(ents, be, pick, cost, evView)
		r.stats.measures.Add(1)
		if total <= roomBits && (next == n || roomBits-total < int(cost[uint32(keys[next])])+idGuess) {
			break
		}
	}
	sc.picked = picked
	c.lastFill = next
	if total > roomBits {
		// Even with no entity brought up to date, the removals do not
		// fit: skip this snapshot. The baseline ages until it can no
		// longer be named, and the full snapshot that follows has no
		// removals.
		r.stats.prioritySkips.Add(1)
		return nil, nil
	}
	// Entities the client already holds as they are cost nothing: mark
	// them sent, so their priority starts over.
	for _, k := range keys[next:] {
		i := uint32(k)
		if b := inBase[i]; b >= 0 && !pick[i] && r.schema.SameEntity(&be[b], &ents[i]) {
			pick[i] = true
		}
	}
	deferred := 0
	for i := range pick {
		if pick[i] {
			c.prio[i].acc = 0
		} else {
			deferred++
		}
	}
	if !events {
		r.stats.eventsDropped.Add(uint64(len(cur.v.Events)))
	}
	r.stats.entitiesDeferred.Add(uint64(deferred))
	c.crowded = deferred > 0

	// out: the baseline brought up to date for the picked entities, the
	// entities that left the view removed; encoded without comparing the
	// others (codec.AppendSubset).
	out := &sc.out
	body, err := w.codec.AppendSubset(sc.body[:0], bv, &cur.v, pick, events, out)
	if err != nil || len(body) > room {
		// The price list is exact (codec's TestPriceEqualsMeasure), so
		// this does not happen; if it did, the client skips a snapshot
		// and the miss is counted (tests require none).
		r.stats.priceMisses.Add(1)
		return nil, nil
	}
	return w.ownKnown(cur, base, pick, inBase, out), body
}

// ownKnown is the known of the view prioritize built in out: for each
// entity of cur, the state cur has when picked, else the one the baseline
// has if it has one (out's order). A baseline state stored more than
// maxStateAge frames ago is stored again in this tick's store, so that a
// state an entity keeps for long does not pin an old tick's store.
func (w *worker) ownKnown(cur *view, base *known, pick []bool, inBase []int32, out *codec.View) *known {
	r := w.r
	k := r.states.getKnown(len(out.Entities))
	in := &w.in
	in.beginKnown()
	for i := range pick {
		var ref stateRef
		switch {
		case pick[i]:
			ref = cur.known.refs[i]
		case inBase[i] >= 0:
			ref = base.refs[inBase[i]]
			if s := r.states.lookup(ref.store()); r.frame-s.frame > maxStateAge {
				e := s.at(ref.slot())
				var ok bool
				if ref, ok = w.intern(e, r.schema.EntityHash(e)); !ok {
					ref = base.refs[inBase[i]] // no store to be had: keep it pinned
				}
				r.stats.statesRestored.Add(1)
			}
		default:
			continue
		}
		k.refs = append(k.refs, ref)
		in.note(k, ref)
	}
	if len(k.refs) != len(out.Entities) {
		panic("server: a prioritized view and its known disagree")
	}
	k.sum, _ = out.Checksum()
	r.states.seal(k)
	return k
}

// sortFront sorts keys[from:to] in place so that it holds, in order, the
// smallest keys of keys[from:] (keys[:from] is already sorted and smaller
// than the rest), and returns the new sorted length, min(to, len(keys)).
// It selects with quickselect and sorts only the selected part: a client
// that can take a hundred entity updates of a thousand does not pay for
// ordering the nine hundred it cannot.
func sortFront(keys []uint64, from, to int) int {
	to = min(to, len(keys))
	if to <= from {
		return from
	}
	rest := keys[from:]
	k := to - from
	lo, hi := 0, len(rest)-1
	for lo < hi {
		// Median of three as the pivot, then a Hoare partition.
		mid := lo + (hi-lo)/2
		if rest[mid] < rest[lo] {
			rest[mid], rest[lo] = rest[lo], rest[mid]
		}
		if rest[hi] < rest[lo] {
			rest[hi], rest[lo] = rest[lo], rest[hi]
		}
		if rest[hi] < rest[mid] {
			rest[hi], rest[mid] = rest[mid], rest[hi]
		}
		pivot := rest[mid]
		i, j := lo, hi
		for i <= j {
			for rest[i] < pivot {
				i++
			}
			for rest[j] > pivot {
				j--
			}
			if i <= j {
				rest[i], rest[j] = rest[j], rest[i]
				i++
				j--
			}
		}
		// rest[lo..j] ≤ pivot ≤ rest[i..hi]; between them, equal to it.
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			lo = hi // the k-th smallest is in the middle: done
		}
	}
	slices.Sort(rest[:k])
	return to
}

// priceView is the exact size in bits of the snapshot that partial would
// build from pick, against the baseline be: the removals (baseline entities
// the view no longer has), the picked entities with a record (cost > 0, as
// priced), the frame and evView's events. With no baseline (be empty) it
// prices a full snapshot: no removals and no op codes (cost holds full
// prices).
func (w *worker) priceView(ents, be []codec.Entity, pick []bool, cost []int32, evView *codec.View) int {
	bits, records, prev, j := 0, 0, int64(-1), 0
	for i := range ents {
		id := ents[i].ID
		for j < len(be) && be[j].ID < id {
			bits += codec.IDBits(be[j].ID, prev) + codec.RemoveBits
			prev = int64(be[j].ID)
			records++
			j++
		}
		if j < len(be) && be[j].ID == id {
			j++
		}
		if pick[i] && cost[i] > 0 {
			bits += codec.IDBits(id, prev) + int(cost[i])
			prev = int64(id)
			records++
		}
	}
	for ; j < len(be); j++ {
		bits += codec.IDBits(be[j].ID, prev) + codec.RemoveBits
		prev = int64(be[j].ID)
		records++
	}
	return bits + w.codec.FrameBits(records, evView)
}

// accumulate returns c's priorities for the entities of ents (sorted by
// id), each raised by its weight: entries of entities no longer in view are
// dropped, new ones start from zero.
func (w *worker) accumulate(c *client, ents []codec.Entity) []prioEntry {
	old := c.prio
	next := w.sc.prio[:0]
	j := 0
	for i := range ents {
		e := &ents[i]
		for j < len(old) && old[j].id < e.ID {
			j++
		}
		p := prioEntry{id: e.ID}
		if j < len(old) && old[j].id == e.ID {
			p.acc = old[j].acc
		}
		w := tierWeight[e.LOD&(codec.NumLODs-1)]
		if e.ID == c.avatar && c.avatar != 0 {
			w = ownShipWeight
		}
		p.acc = min(p.acc+w, 1<<31)
		next = append(next, p)
	}
	// Swap buffers: the client keeps next, the scratch keeps old's array.
	w.sc.prio = old[:0]
	return next
}
