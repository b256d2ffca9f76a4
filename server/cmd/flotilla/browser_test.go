package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// TestRunServesThePage: with -http, the binary logs the page's URL and
// serves there the page, the JavaScript library and the game's schema.
func TestRunServesThePage(t *testing.T) {
	w, err := demowire.New(fleet.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := string(w.Schema.DescJSON())
	var stdout, stderr syncBuffer
	check := func(ctx context.Context, s *instance) error {
		m := regexp.MustCompile(`open the page" url=(http://\S+/)`).FindStringSubmatch(stderr.String())
		if m == nil {
			return fmt.Errorf("no page URL logged; stderr:\n%s", stderr.String())
		}
		for _, c := range []struct{ path, has string }{
			{"", "<canvas"},
			{"app.js", "Connection"},
			{"js/flotilla/index.js", "SnapshotHistory"},
			{"schema", want},
		} {
			code, body, err := httpGet(m[1] + c.path)
			if err != nil || code != http.StatusOK || !strings.Contains(body, c.has) {
				return fmt.Errorf("GET /%s: %d %v, body lacks %.40q", c.path, code, err, c.has)
			}
		}
		if code, _, err := httpGet(m[1] + "nothing.js"); err != nil || code != http.StatusNotFound {
			return fmt.Errorf("GET /nothing.js: %d %v, want 404", code, err)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"-listen", "127.0.0.1:0", "-admin", "", "-http", "127.0.0.1:0", "-io", "naive", "-duration", "300ms"}
	if code := runWith(ctx, args, noEnv, &stdout, &stderr, check); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
}
