package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts of the ops HTTP server. Its requests are small and its answers
// are produced at once, so the bounds are tight enough that slow or idle
// clients cannot pile up connections.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 16 << 10
)

// Server serves an ops handler on a TCP address.
type Server struct {
	http *http.Server
	ln   net.Listener
	done chan error // Serve's result

	once sync.Once
	err  error // Shutdown's result
}

// Listen binds addr (host:port; port 0 picks one) and serves h on it from
// a goroutine of its own until Shutdown. Listen returns once the address
// is bound, so Addr is known and a bind error is reported at once.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	s := &Server{
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on. Safe from any goroutine.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting connections, waits for the requests in flight
// until ctx ends, then closes what is left. It returns once the serving
// goroutine has returned, with the errors met. Safe from any goroutine;
// later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		if err := s.http.Shutdown(ctx); err != nil {
			s.err = errors.Join(fmt.Errorf("ops: shutdown: %w", err), s.http.Close())
		}
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			s.err = errors.Join(s.err, fmt.Errorf("ops: serve: %w", err))
		}
	})
	return s.err
}
