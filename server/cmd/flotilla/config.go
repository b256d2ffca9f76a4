package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
)

// setup is everything the flags configure: the room, its UDP transport's
// session settings and the demo game.
type setup struct {
	server.Config
	Net  netcode.Config
	Game demowire.GameConfig
	// PeerKey is the mesh's key (with Config.Mesh).
	PeerKey []byte
}

// roomFlags are the flags that make the room's Config.
var roomFlags = []string{
	"tick-hz", "snapshot-hz", "max-snapshot-hz", "bytes-per-sec", "max-bytes-per-sec",
	"input-delay", "max-clients", "max-pending-actions", "seed", "interest", "keepalive", "timeout",
	"max-unproven", "max-unproven-per-addr", "max-clients-per-addr", "proof-timeout", "ack-timeout", "workers", "max-view-entities",
	"mesh-self", "mesh-members", "mesh-key", "mesh-redirect-margin",
}

// maxTimeout is the longest session timeout netcode accepts.
const maxTimeout = time.Hour

// roomConfig returns the room's config, defaults applied and checked. An
// invalid config is reported with the flags that cause it.
func (o *options) roomConfig() (setup, error) {
	cfg := o.buildConfig("")
	err := checkConfig(cfg)
	if err == nil {
		return cfg, nil
	}
	// Blame the flags given whose default alone would make it valid; when
	// no one flag would, every room flag given.
	var blame, given []string
	for _, name := range roomFlags {
		if !o.set[name] {
			continue
		}
		given = append(given, "-"+name)
		if checkConfig(o.buildConfig(name)) == nil {
			blame = append(blame, "-"+name)
		}
	}
	if len(blame) == 0 {
		blame = given
	}
	if len(blame) == 0 {
		return cfg, err
	}
	return cfg, fmt.Errorf("%s: %w", strings.Join(blame, ", "), err)
}

// buildConfig makes the room's config from the options as if the flag
// named skip had not been given. The max snapshot rate defaults to the
// tick rate, and a default rate or budget follows its bound down: -tick-hz
// 10 alone lowers the default snapshot rate to 10 rather than failing.
func (o *options) buildConfig(skip string) setup {
	given := func(name string) bool { return o.set[name] && name != skip }
	pick := func(name string, v, def int) int {
		if given(name) {
			return v
		}
		return def
	}
	c := setup{Config: server.Config{
		TickHz:             pick("tick-hz", o.tickHz, server.DefaultTickHz),
		MaxSnapshotHz:      pick("max-snapshot-hz", o.maxSnapshotHz, 0),
		SnapshotHz:         pick("snapshot-hz", o.snapshotHz, server.DefaultSnapshotHz),
		MaxBytesPerSec:     pick("max-bytes-per-sec", o.maxBytesPerSec, server.DefaultMaxBytesPerSec),
		BytesPerSec:        pick("bytes-per-sec", o.bytesPerSec, server.DefaultBytesPerSec),
		InputDelay:         pick("input-delay", o.inputDelay, server.DefaultInputDelay),
		MaxClients:         pick("max-clients", o.maxClients, server.DefaultMaxClients),
		MaxPendingActions:  pick("max-pending-actions", o.maxPendingActions, server.DefaultMaxPendingActions),
		MaxUnproven:        pick("max-unproven", o.maxUnproven, server.DefaultMaxUnproven),
		MaxUnprovenPerAddr: pick("max-unproven-per-addr", o.maxUnprovenPerAddr, 0),
		MaxClientsPerAddr:  pick("max-clients-per-addr", o.maxClientsPerAddr, 0),
		Workers:            pick("workers", o.workers, 0),
		MaxViewEntities:    pick("max-view-entities", o.maxViewEntities, 0),
	}, Net: netcode.Config{
		Keepalive: defaultKeepalive,
		Timeout:   defaultTimeout,
	}, Game: demowire.GameConfig{Interest: demowire.DefaultInterest()}}
	if !given("max-snapshot-hz") {
		c.MaxSnapshotHz = c.TickHz
	}
	if !given("snapshot-hz") {
		c.SnapshotHz = min(c.SnapshotHz, c.MaxSnapshotHz)
	}
	if !given("bytes-per-sec") {
		c.BytesPerSec = min(c.BytesPerSec, c.MaxBytesPerSec)
	}
	if given("seed") {
		c.Game.Seed = o.seed
	}
	if given("interest") {
		c.Game.Interest = o.interest
	}
	if given("proof-timeout") {
		c.ProofTimeout = o.proofTimeout
	}
	if given("ack-timeout") {
		c.AckTimeout = o.ackTimeout
	}
	if given("keepalive") {
		c.Net.Keepalive = o.keepalive
	}
	if given("timeout") {
		c.Net.Timeout = o.timeout
	}
	c.Net.PeerAckDelay = server.PeerAckDelay(c.TickHz)
	if given("mesh-self") && o.meshSelf != 0 || given("mesh-members") || given("mesh-key") {
		c.Mesh = &server.MeshConfig{Self: uint16(min(o.meshSelf, 1<<16-1)), Members: o.meshMembers,
			RedirectMargin: pick("mesh-redirect-margin", o.meshRedirectMargin, server.DefaultRedirectMargin)}
		if given("mesh-key") {
			c.PeerKey = o.meshKey
		}
		if o.meshSelf > 1<<16-1 {
			c.Mesh.Self = 0 // refused by checkConfig
		}
	}
	c.Config = c.Config.WithDefaults()
	c.Game.Fleet.TickHz = c.TickHz
	return c
}

// checkConfig validates the room's config, and the transport settings the
// room's Validate leaves to netcode.NewServer, so that a bad flag fails
// before anything listens.
func checkConfig(c setup) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Mesh != nil && c.PeerKey == nil {
		return fmt.Errorf("a mesh needs its key (-mesh-key)")
	}
	if c.Mesh != nil && c.Mesh.RedirectMargin == 0 {
		// The room reads 0 as its default.
		return fmt.Errorf("redirect margin 0: 1 or more, or -1 to never redirect")
	}
	switch {
	case c.Net.Timeout > maxTimeout:
		return fmt.Errorf("session timeout %v over %v", c.Net.Timeout, maxTimeout)
	case c.Net.Keepalive >= c.Net.Timeout:
		return fmt.Errorf("keepalive %v not below the session timeout %v", c.Net.Keepalive, c.Net.Timeout)
	}
	return nil
}
