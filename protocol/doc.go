// Package protocol is the game session protocol that runs on netcode's two
// channels: the messages of the reliable channel (actions up; welcome,
// action results and desync reports across) and the header of the snapshot
// payloads of the unreliable channel. STANDARD.md section 4 specifies every
// byte; this package is the one implementation the server, the bots and the
// native client library share.
//
// Every decoder works on a borrowed byte slice, never allocates, never keeps
// the slice, and never panics: malformed input returns an error wrapping
// ErrMalformed.
package protocol
