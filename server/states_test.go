package server

import (
	"testing"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
)

// statesRoom is a room with no client, whose worker 0 the tests drive by
// hand.
func statesRoom(t *testing.T) (*Room, *worker) {
	t.Helper()
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{}, game, nil, NewInbox(64, 1<<16))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, r.workers[0]
}

// testView is a view of n ships at LOD 0 whose values start at base.
func testView(r *Room, n int, base int32) *view {
	v := r.pool.get(r.frame, n)
	for i := range n {
		e := codec.Entity{ID: uint32(10 + 3*i)}
		for f := range e.V {
			e.V[f] = base + int32(i*f)
		}
		v.v.Entities = append(v.v.Entities, e)
	}
	return v
}

// A view's states are stored once however many views hold them, a known
// gives back exactly the states and checksum of its view, and a store is
// emptied once no known names it and its worker's tick is over.
func TestStatesAreStoredOnceAndGivenBack(t *testing.T) {
	r, w := statesRoom(t)
	k0 := r.states.liveKnowns
	a, b := testView(r, 100, 7), testView(r, 100, 7)
	b.v.Entities[50].V[0]++ // one state differs
	w.prepare(a)
	w.prepare(b)
	if r.states.liveStores != 1 || w.in.cur.n != 101 {
		t.Fatalf("%d stores, %d states for two views of 100 sharing 99", r.states.liveStores, w.in.cur.n)
	}
	for i := range a.known.refs {
		if same := a.known.refs[i] == b.known.refs[i]; same != (i != 50) {
			t.Errorf("entity %d: refs %x and %x", i, a.known.refs[i], b.known.refs[i])
		}
	}
	for _, v := range []*view{a, b} {
		got := w.load(v.known)
		if !r.schema.Equal(got, &v.v) {
			t.Fatal("a loaded known differs from its view")
		}
		sum, _ := got.Checksum()
		want := v.v
		want.Invalidate()
		r.schema.Seal(&want)
		if ws, _ := want.Checksum(); sum != ws {
			t.Errorf("loaded checksum %x, view's %x", sum, ws)
		}
	}
	held := r.states.hold(a.known) // a history keeps a's states
	r.pool.release(a)
	r.pool.release(b)
	w.endTick()
	r.states.endTick() // the tick took a store: one is kept idle
	if r.states.liveStores != 1 || r.states.liveKnowns != k0+1 {
		t.Fatalf("%d stores, %d knowns while a history holds one", r.states.liveStores, r.states.liveKnowns)
	}
	if got := w.load(held); !r.schema.Equal(got, &testView(r, 100, 7).v) {
		t.Error("a held known's states changed after its view went")
	}
	r.states.release(held)
	if r.states.liveStores != 0 || r.states.liveKnowns != k0 || r.states.stored != 0 {
		t.Errorf("%d stores, %d knowns, %d states left once nothing holds them", r.states.liveStores, r.states.liveKnowns, r.states.stored)
	}
	if len(r.states.idle) == 0 {
		t.Error("the emptied store was not kept for reuse")
	}
}

// A prioritized view's known takes picked states from the current view
// and the others from the baseline; a baseline state older than
// maxStateAge frames is stored again in the tick's store, so it no longer
// pins the old one.
func TestOldStatesAreStoredAgain(t *testing.T) {
	r, w := statesRoom(t)
	old := testView(r, 4, 1)
	w.prepare(old)
	base := r.states.hold(old.known)
	r.pool.release(old)
	w.endTick()
	oldStore := base.refs[0].store()

	r.frame += maxStateAge + 1
	cur := testView(r, 4, 2)
	w.prepare(cur)
	pick := []bool{true, false, false, true}
	inBase := []int32{0, 1, 2, 3}
	var out codec.View
	for i, p := range pick {
		if p {
			out.Entities = append(out.Entities, cur.v.Entities[i])
		} else {
			out.Entities = append(out.Entities, w.load(base).Entities[i])
		}
	}
	r.schema.Seal(&out)
	k := w.ownKnown(cur, base, pick, inBase, &out)
	if got := w.load(k); !r.schema.Equal(got, &out) {
		t.Fatal("the prioritized known differs from the view it stands for")
	}
	for i, ref := range k.refs {
		if ref.store() == oldStore {
			t.Errorf("entity %d still names the old store", i)
		}
	}
	if n := r.stats.statesRestored.Load(); n != 2 {
		t.Errorf("%d states stored again, want the 2 left out", n)
	}
	r.states.release(base) // the old store goes: k does not need it
	r.pool.release(cur)
	w.endTick()
	if r.states.liveStores != 1 {
		t.Errorf("%d stores live, want the one k names", r.states.liveStores)
	}
	if got := w.load(k); !r.schema.Equal(got, &out) {
		t.Error("the prioritized known changed when the old store went")
	}
	r.states.release(k)
}

// Knowns are reused for views of their size class, and classes cover
// every size.
func TestRefClasses(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 100, 1000, 1 << 16} {
		c := refClass(n)
		if refClassSize(c) < n || (c > 0 && refClassSize(c-1) >= n) {
			t.Errorf("refClass(%d) = %d of size %d", n, c, refClassSize(c))
		}
		if n > 64 && refClassSize(c) > n+n/4 {
			t.Errorf("refClass(%d) wastes: size %d", n, refClassSize(c))
		}
	}
	if refClass(1<<16) >= numRefClasses {
		t.Error("the largest view has no class")
	}
}
