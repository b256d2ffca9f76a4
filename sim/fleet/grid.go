package fleet

import "github.com/flotilla/flotilla/sim"

// gridShape is the dense tile rectangle covering the world:
// Q in [-qmax, qmax], R in [-rmax, rmax].
type gridShape struct{ qmax, rmax int32 }

// newGridShape bounds the tiles of every position within the world square.
func newGridShape(c Config) gridShape {
	r, size := int64(c.WorldRadius), int64(c.TileSize)
	rmax := 2*r/(3*size) + 2
	qmax := r*10/17/size + rmax/2 + 2 // 10/17 > 1/√3
	return gridShape{qmax: int32(qmax), rmax: int32(rmax)}
}

// cells returns the number of tiles in the rectangle.
func (s gridShape) cells() int { return int(2*s.qmax+1) * int(2*s.rmax+1) }

// cell returns the dense index of h, or -1 if h is outside the rectangle.
func (s gridShape) cell(h sim.Hex) int {
	if h.Q < -s.qmax || h.Q > s.qmax || h.R < -s.rmax || h.R > s.rmax {
		return -1
	}
	return int(h.R+s.rmax)*int(2*s.qmax+1) + int(h.Q+s.qmax)
}

// tileIndex lists the ships of each tile (indices into Game.ships, ascending)
// in compressed rows: the ships of cell c are items[start[c]:start[c+1]].
// It is derived state, rebuilt lazily after anything moves ships.
type tileIndex struct {
	shape gridShape
	start []int32
	items []int32
	dirty bool
}

func newTileIndex(s gridShape) tileIndex {
	return tileIndex{shape: s, start: make([]int32, s.cells()+2), dirty: true}
}

// rebuild fills the index from ships with a counting sort (O(ships + tiles)).
func (t *tileIndex) rebuild(ships []Ship) {
	clear(t.start)
	for i := range ships {
		t.start[t.shape.cell(ships[i].Tile)+2]++
	}
	for c := 2; c < len(t.start); c++ {
		t.start[c] += t.start[c-1]
	}
	if cap(t.items) < len(ships) {
		t.items = make([]int32, len(ships), len(ships)+len(ships)/4)
	}
	t.items = t.items[:len(ships)]
	for i := range ships {
		c := t.shape.cell(ships[i].Tile) + 1
		t.items[t.start[c]] = int32(i)
		t.start[c]++
	}
	t.dirty = false
}

// ShipsInTile returns the indices into Ships() of the ships whose Tile is h,
// ascending (so in ID order). The slice is owned by the game, valid until the
// next Apply, Step or setup call, and must not be modified. It does not
// allocate in steady state.
func (g *Game) ShipsInTile(h sim.Hex) []int32 {
	t := &g.index
	if t.dirty {
		t.rebuild(g.ships)
	}
	c := t.shape.cell(h)
	if c < 0 {
		return nil
	}
	return t.items[t.start[c]:t.start[c+1]]
}
