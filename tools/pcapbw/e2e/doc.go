// Package e2e holds the end-to-end test of tools/pcapbw: a real server and
// real bots over loopback UDP while tcpdump captures the traffic, then
// pcapbw's analysis of that capture against the server's own counters. It
// has no code of its own; the test needs tcpdump and the right to capture on
// the loopback interface (root, or CAP_NET_RAW).
package e2e
