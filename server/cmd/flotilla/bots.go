package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/flotilla/flotilla/tools/bots/botrun"
)

// botsDrain is how long before the end of -duration in-process bots stop
// acting, so they can collect their last results before the room stops.
const botsDrain = 3 * time.Second

// botsCompanion runs n in-process bots against the server (for `make run`
// and demos): each is a real client on its own loopback UDP socket. They
// act until the room stops or, with -duration, until botsDrain before it;
// their report goes to stdout as one JSON line.
func botsCompanion(n int, duration time.Duration, seed uint64, stdout io.Writer) companion {
	return func(ctx context.Context, s *instance) error {
		cfg := botrun.Config{Server: s.Addr, Clients: n, Seed: seed, Ramp: time.Second}
		if duration > 2*botsDrain {
			cfg.Duration = duration - botsDrain
		}
		s.Log.Info("starting in-process bots", "bots", n, "server", s.Addr.String())
		rep, err := botrun.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("bots: %w", err)
		}
		line, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("bots: %w", err)
		}
		fmt.Fprintf(stdout, "bots: %s\n", line)
		s.Log.Info("bots done", "connected", rep.Connected, "desync_permanent", rep.DesyncPermanent,
			"actions_lost", rep.ActionsLost, "bytes_per_client_tick_p50", rep.BytesPerClientTickP50)
		return nil
	}
}
