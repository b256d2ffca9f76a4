package sim

import (
	"cmp"
	"slices"
)

// Action is one client command, stamped with the frame it applies to.
// Kind and Args are defined by the game.
type Action struct {
	Frame  uint32   // frame the action applies to
	Origin uint16   // server that accepted it (mesh); 0 on a single server
	Client uint32   // client id within the origin
	Seq    uint32   // client's action sequence number
	Kind   uint16   // game-defined
	Args   [4]int32 // game-defined
}

// Status says what became of an action.
type Status uint8

const (
	// StatusApplied means the action changed the world as asked.
	StatusApplied Status = 0
	// StatusFizzled means the action was rejected; Result.Reason says why.
	StatusFizzled Status = 1
)

// Common fizzle reasons. Games define their own reasons from ReasonGameBase up.
const (
	// ReasonNone is the reason of an applied action.
	ReasonNone uint8 = 0
	// ReasonWrongFrame: the action was stamped for another frame.
	ReasonWrongFrame uint8 = 1
	// ReasonUnknownKind: the game does not know the action's Kind.
	ReasonUnknownKind uint8 = 2
	// ReasonBadArgs: an argument is out of its range.
	ReasonBadArgs uint8 = 3
	// ReasonNotOwner: the action names an entity the client does not own.
	ReasonNotOwner uint8 = 4
	// ReasonFull: the world has no room for what the action asks for.
	ReasonFull uint8 = 5
	// ReasonNoEntity: the action names an entity that does not exist.
	ReasonNoEntity uint8 = 6
	// ReasonGameBase is the first reason value a game may define.
	ReasonGameBase uint8 = 32
)

// Result reports the outcome of one action back to its client.
type Result struct {
	Origin uint16
	Client uint32
	Seq    uint32
	Status Status
	Reason uint8 // game-defined when fizzled (0 when applied)
}

// SortActions sorts a in place by (Frame, Origin, Client, Seq), the order in
// which actions apply. Remaining ties are broken by Kind and then Args, so the
// order is total: any permutation of the same actions sorts to the same
// sequence. It does not allocate.
func SortActions(a []Action) { slices.SortFunc(a, compareActions) }

// compareActions is the total order used by SortActions.
func compareActions(x, y Action) int {
	if c := cmp.Compare(x.Frame, y.Frame); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Origin, y.Origin); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Client, y.Client); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Seq, y.Seq); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Kind, y.Kind); c != 0 {
		return c
	}
	for i := range x.Args {
		if c := cmp.Compare(x.Args[i], y.Args[i]); c != 0 {
			return c
		}
	}
	return 0
}
