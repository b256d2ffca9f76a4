package udpio

import (
	"fmt"
	"log/slog"
)

// slogLogger routes gnet's logging to slog: warnings and errors go through
// (gnet's fatal lines as errors: they must not exit the process), debug and
// info lines are dropped.
type slogLogger struct{ l *slog.Logger }

func (slogLogger) Debugf(string, ...any) {}
func (slogLogger) Infof(string, ...any)  {}

func (s slogLogger) Warnf(format string, args ...any) {
	s.l.Warn(fmt.Sprintf(format, args...), "component", "gnet")
}

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}

func (s slogLogger) Fatalf(format string, args ...any) {
	s.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
