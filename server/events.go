package server

import "github.com/flotilla/flotilla/sim/fleet"

// eventLog keeps the combat events of the last len(frames) frames, so a
// snapshot can carry every event since the client's previous snapshot even
// when snapshots are rarer than frames. Bounds: frames is a ring of
// eventFrames frames; each frame keeps at most the game's
// MaxEventsPerFrame (the game already drops beyond that).
type eventLog struct {
	frames [eventFrames]frameEvents
}

// eventFrames is how far back a snapshot's events reach: a client whose
// previous snapshot is older than this gets only the last eventFrames
// frames' events (a client at 1 Hz on a 30 Hz room loses none).
const eventFrames = 32

type frameEvents struct {
	frame  uint32
	events []fleet.CombatEvent
}

// record keeps frame's events (copied).
func (l *eventLog) record(frame uint32, evs []fleet.CombatEvent) {
	s := &l.frames[frame%eventFrames]
	s.frame = frame
	s.events = append(s.events[:0], evs...)
}

// since appends to dst the events of frames after from, up to and including
// to, oldest frame first, and returns dst.
func (l *eventLog) since(dst []fleet.CombatEvent, from, to uint32) []fleet.CombatEvent {
	if to-from > eventFrames {
		from = to - eventFrames
	}
	for f := from + 1; f != to+1; f++ {
		if s := &l.frames[f%eventFrames]; s.frame == f {
			dst = append(dst, s.events...)
		}
	}
	return dst
}
