// Package leakcheck holds the test helper that fails a test whose goroutines outlive it.
package leakcheck

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Check fails the test if a goroutine of the project, or an HTTP
// server's, is still alive once what started it has stopped. Goroutines
// may take a moment to return after their stop signal, so it polls within
// a bound.
func Check(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines outlived their owner:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "leakedGoroutines"), // this one
			strings.Contains(g, "testing.(*M)."), strings.Contains(g, "testing.tRunner"), strings.Contains(g, "testing.(*T).Run"):
			continue
		case strings.Contains(g, "github.com/flotilla/flotilla/"),
			strings.Contains(g, "net/http.(*Server)"), strings.Contains(g, "net/http.(*conn)"):
			leaked = append(leaked, g)
		}
	}
	return leaked
}
