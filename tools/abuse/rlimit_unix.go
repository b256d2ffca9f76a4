//go:build linux || darwin

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and reports
// an error unless need file descriptors fit under it. A soft limit that
// cannot be raised (macOS refuses an unlimited hard limit) is kept.
func raiseFileLimit(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("reading RLIMIT_NOFILE: %w", err)
	}
	if l.Cur < l.Max {
		raised := syscall.Rlimit{Cur: l.Max, Max: l.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			l = raised
		}
	}
	if l.Cur < need {
		return fmt.Errorf("need %d file descriptors but RLIMIT_NOFILE allows %d (hard limit %d): raise the hard limit (ulimit -Hn) or open fewer -sessions", need, l.Cur, l.Max)
	}
	return nil
}
