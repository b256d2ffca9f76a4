#!/usr/bin/env bash
# `make capture`: a Flotilla server with in-process bots on loopback for a few
# seconds while tcpdump writes the traffic, then pcapbw's report of the
# capture next to the server's own socket counters.
#
#   BOTS      in-process bots (default 50)
#   DURATION  how long the server runs, whole seconds over 6 (default 10s;
#             the bots stop 3 s before the end, so the room reads their
#             goodbyes and counts everything the capture holds)
#   OUT       where the capture, logs and chart go (default ./capture)
#
# Needs tcpdump and the right to capture on lo (root or CAP_NET_RAW).
set -euo pipefail
cd "$(dirname "$0")/../.."

BOTS=${BOTS:-50}
DURATION=${DURATION:-10s}
OUT=${OUT:-capture}
PORT=7777
# A loopback address of its own (all of 127.0.0.0/8 is loopback): the filter
# sees this run's traffic only, and no other server shares the port.
HOST=127.$((64 + RANDOM % 64)).$((RANDOM % 256)).$((1 + RANDOM % 254))

# The binary shortens the bots' run by 3 s only when -duration is over 6 s;
# with less, bots still send as the room stops and the counts cannot agree.
if ! [[ $DURATION =~ ^([0-9]+)s$ ]] || (( BASH_REMATCH[1] <= 6 )); then
	echo "capture: DURATION=$DURATION: give whole seconds over 6, such as 10s" >&2
	exit 2
fi
command -v tcpdump >/dev/null || { echo "capture: tcpdump not found (apt-get install tcpdump)" >&2; exit 1; }
mkdir -p "$OUT"
go build -o "$OUT/flotilla" ./server/cmd/flotilla
go build -o "$OUT/pcapbw" ./tools/pcapbw

# --immediate-mode: packets reach tcpdump at once, none waits in the kernel
# at the end; -s 2048: in immediate mode the kernel buffer (-B, KiB) is a ring
# of snap-length slots, and at the default 262,144 B it holds 32 packets, too
# few for a tick's burst (a Flotilla datagram is at most 1,200 B); -Z root:
# keeps Debian's tcpdump from switching to its unprivileged user, who may not
# be allowed to write into $OUT.
tcpdump -i lo -n --immediate-mode -U -Z root -B 8192 -s 2048 -w "$OUT/run.pcap" "udp and host $HOST" 2>"$OUT/tcpdump.log" &
TCPDUMP=$!
trap 'kill $TCPDUMP 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	grep -q 'listening on' "$OUT/tcpdump.log" 2>/dev/null && break
	kill -0 $TCPDUMP 2>/dev/null || { echo "capture: tcpdump failed:" >&2; cat "$OUT/tcpdump.log" >&2; exit 1; }
	sleep 0.1
done
grep -q 'listening on' "$OUT/tcpdump.log" || { echo "capture: tcpdump did not start" >&2; exit 1; }

echo "== server $HOST:$PORT, $BOTS bots, $DURATION (log: $OUT/server.log)"
if ! "$OUT/flotilla" -listen "$HOST:$PORT" -admin "" -bots "$BOTS" -duration "$DURATION" 2>"$OUT/server.log" >"$OUT/bots.json"; then
	echo "capture: the server failed; the end of $OUT/server.log:" >&2
	tail -n 20 "$OUT/server.log" >&2
	exit 1
fi
sleep 0.3
kill -INT $TCPDUMP
wait $TCPDUMP || true
trap - EXIT
echo "== tcpdump"
grep -E 'packets? (captured|received|dropped)' "$OUT/tcpdump.log"
if ! grep -q '^0 packets dropped by kernel' "$OUT/tcpdump.log"; then
	echo "capture: the kernel dropped packets before tcpdump read them; the capture is incomplete" >&2
	exit 1
fi

echo "== pcapbw -r $OUT/run.pcap -port $PORT -plot $OUT/bandwidth.svg"
"$OUT/pcapbw" -r "$OUT/run.pcap" -port "$PORT" -plot "$OUT/bandwidth.svg"
"$OUT/pcapbw" -r "$OUT/run.pcap" -port "$PORT" -json >"$OUT/pcapbw.json"

echo "== the server's own socket counters (UDP payload bytes)"
grep 'flotilla stopped' "$OUT/server.log" | tr ' ' '\n' | grep '^udp_'

# The two views of the same run side by side (python3 reads the JSON).
if command -v python3 >/dev/null; then
	python3 - "$OUT/pcapbw.json" "$OUT/server.log" <<'PY'
import json, re, sys
rep = json.load(open(sys.argv[1]))
line = [l for l in open(sys.argv[2]) if "flotilla stopped" in l][-1]
srv = {k: int(v) for k, v in re.findall(r"(udp_\w+)=(\d+)", line)}
rows = [("in  datagrams", rep["in"]["packets"], srv["udp_rx_datagrams"]),
        ("in  payload B", rep["in"]["udp_payload_bytes"], srv["udp_rx_bytes"]),
        ("out datagrams", rep["out"]["packets"], srv["udp_tx_datagrams"]),
        ("out payload B", rep["out"]["udp_payload_bytes"], srv["udp_tx_bytes"])]
print("== pcapbw vs the server's socket")
for name, cap, s in rows:
    print(f"{name}  pcapbw {cap:>12,}  server {s:>12,}  {'equal' if cap == s else 'DIFFERENT'}")
if srv["udp_rx_dropped"] or srv["udp_tx_dropped"]:
    print(f"the socket dropped rx {srv['udp_rx_dropped']} tx {srv['udp_tx_dropped']} datagrams")
sys.exit(0 if all(cap == s for _, cap, s in rows) else 1)
PY
fi
