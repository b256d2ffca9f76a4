//go:build race

package netcode

// raceEnabled: under the race detector sync.Pool drops items at random, so
// kcp-go's buffer pool allocates more and allocation counts vary.
const raceEnabled = true
