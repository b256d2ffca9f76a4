package sim

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Game is what a game developer implements to replace the demo.
// Implementations must be deterministic: integer math only, no clock, no map
// iteration order, randomness only from a Rand kept in the state.
type Game interface {
	// Apply applies one action at the start of the current frame and says
	// whether it applied; the uint8 is the fizzle reason (0 when applied).
	Apply(a *Action) (Status, uint8)
	// Step advances the world by one frame.
	Step(frame uint32)
	// AppendState appends the canonical little-endian encoding of the whole
	// state (including its random generator) to b, with no map order in it.
	AppendState(b []byte) []byte
}

// ErrFrameOrder is returned by World.Step for any frame other than the next one.
var ErrFrameOrder = errors.New("sim: frame out of order")

// World steps a Game frame by frame and hashes its state. It is not safe for
// concurrent use.
type World struct {
	game    Game
	frame   uint32
	scratch []byte
}

// NewWorld returns a World at frame 0 around g.
func NewWorld(g Game) *World { return &World{game: g} }

// Game returns the game the world steps.
func (w *World) Game() Game { return w.game }

// Frame returns the last stepped frame (0 before the first Step).
func (w *World) Frame() uint32 { return w.frame }

// Step runs frame w.Frame()+1: it sorts actions in place (SortActions),
// applies those stamped for this frame in that order, fizzles any stamped for
// another frame with ReasonWrongFrame, then steps the game. One Result per
// action, in sorted order, is appended to dst. It returns an error wrapping
// ErrFrameOrder, and changes nothing, if frame != w.Frame()+1. It does not
// allocate once dst has room for the results.
func (w *World) Step(frame uint32, actions []Action, dst []Result) ([]Result, error) {
	if frame != w.frame+1 {
		return dst, fmt.Errorf("sim: step frame %d after frame %d: %w", frame, w.frame, ErrFrameOrder)
	}
	SortActions(actions)
	for i := range actions {
		a := &actions[i]
		st, reason := StatusFizzled, ReasonWrongFrame
		if a.Frame == frame {
			st, reason = w.game.Apply(a)
			if st == StatusApplied {
				reason = ReasonNone
			}
		}
		dst = append(dst, Result{Origin: a.Origin, Client: a.Client, Seq: a.Seq, Status: st, Reason: reason})
	}
	w.game.Step(frame)
	w.frame = frame
	return dst, nil
}

// AppendState appends the world's canonical state to b: the frame number
// (uint32 little-endian) followed by Game.AppendState.
func (w *World) AppendState(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, w.frame)
	return w.game.AppendState(b)
}

// Hash returns the xxhash64 of AppendState. It reuses an internal buffer and
// does not allocate once that buffer has grown to the state's size.
func (w *World) Hash() uint64 {
	w.scratch = w.AppendState(w.scratch[:0])
	return xxhash.Sum64(w.scratch)
}
