#!/usr/bin/env bash
# `make mixed`: what a browser session (WebRTC through the bridge) costs the
# server next to a native one (netcode over UDP).
#
# Builds the server and the bots into a temporary directory and makes four
# runs, each against a FRESH server on its own loopback address and ports
# (127.0.3.1 up, one a run; ports below Linux's ephemeral range that nothing
# listens on), every server with the same flags, its browser listener
# (-http) included:
#
#   idle     no bots, for IDLE seconds: the baseline;
#   native   NATIVE bots over UDP (-transport udp), bound from 127.16.0.1 up;
#   browser  BROWSER bots over WebRTC (-transport webrtc, pion), bound and
#            signaling from 127.32.0.1 up, 16 bots an address;
#   mixed    both at once.
#
# The bots start together and act until interrupted. The bridge answers 429
# to an address offering over 2 a second or with 4 peers connecting (503
# past 128 connecting; no flag changes these) and WebRTC bots offer again
# after a pause, so they take seconds to connect. The window starts once
# every bot is connected (at the latest CONNECT_TIMEOUT + 2 s after their
# start) and lasts DURATION s; then the bots get SIGINT, drain and report.
#
# For each run it records: when the last bot connected (the bots' -live
# lines, to the second) and the window started, bots connected, action-to-effect p50/p99, actions lost and
# snapshot bytes p50 (the bots' -json report; in the mixed run one value
# for each transport, native | browser); the room's tick p50/p99 (linear
# in the flotilla_tick_duration_seconds buckets, between /metrics scrapes
# at the start and end of the window) and mean; the means over the window
# of go_goroutines and go_memstats_heap_inuse_bytes (scraped every second)
# and of VmRSS (every 250 ms); the run's peak VmRSS; the CPU seconds of
# server and bots (/proc/PID/stat) in the window, the bots' whole life too,
# and of the whole machine (/proc/stat: other work skews every figure).
# It prints one table, the cost of a session (browser run minus idle, over
# the server's mean flotilla_clients; native likewise) and the tick p99 of
# the mixed run against the native one.
#
#   NATIVE           native bots (default 500)
#   BROWSER          WebRTC bots (default 500)
#   DURATION         seconds the bots act in the measured window (default 20)
#   IDLE             seconds of the idle run (default 5)
#   CONNECT_TIMEOUT  the bots' -connect-timeout in seconds, retries included
#                    (default 30)
#   OUT              keep every log, report and scrape here (default: a
#                    temporary directory, removed at the end)
#
# The server gets -max-clients and -max-unproven of NATIVE + BROWSER, or
# their defaults 400 and 512 if more. Needs go, curl, python3, ss, pgrep,
# timeout, Linux's /proc and loopback only. Every process it starts is
# bounded in time and killed by PID on exit. Exit status: 0 when every bot
# of every run connected and no action was lost, 1 otherwise or when a run
# could not be made, 2 for bad settings.
set -euo pipefail
cd "$(dirname "$0")/../.."

NATIVE=${NATIVE:-500}
BROWSER=${BROWSER:-500}
DURATION=${DURATION:-20}
IDLE=${IDLE:-5}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-30}

for v in NATIVE BROWSER DURATION IDLE CONNECT_TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "mixed: $v=${!v} is not a whole number" >&2; exit 2; }
done
((NATIVE >= 1 && BROWSER >= 1 && DURATION >= 1 && IDLE >= 1 && CONNECT_TIMEOUT >= 1)) ||
	{ echo "mixed: NATIVE, BROWSER, DURATION, IDLE and CONNECT_TIMEOUT must be positive" >&2; exit 2; }
((NATIVE <= 100000 && BROWSER <= 1024)) ||
	{ echo "mixed: NATIVE is at most 100000, BROWSER at most 1024 (the bridge's peers)" >&2; exit 2; }
for tool in go curl python3 ss pgrep timeout; do command -v $tool >/dev/null || { echo "mixed: $tool not found" >&2; exit 1; }; done

TOTAL=$((NATIVE + BROWSER))
MAX_CLIENTS=$((TOTAL > 400 ? TOTAL : 400))
MAX_UNPROVEN=$((TOTAL > 512 ? TOTAL : 512))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-mixed.XXXXXX")
OUT=${OUT:-}
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [[ -n $OUT ]]; then
		mkdir -p "$OUT" && cp -r "$WORK"/run-* "$OUT"/ 2>/dev/null || true
		echo "mixed: logs in $OUT" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# halt signals PID $1 with $2, waits up to $3 s, then KILLs it and reaps it;
# it returns the process's status and drops it from the cleanup list.
halt() {
	local pid=$1 rc=0 i keep=() p
	kill -"$2" "$pid" 2>/dev/null || true
	for ((i = 0; i < $3 * 10; i++)); do kill -0 "$pid" 2>/dev/null && sleep 0.1 || break; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	return $rc
}

echo "== building into $WORK" >&2
go build -o "$WORK/flotilla" ./server/cmd/flotilla
go build -o "$WORK/bots" ./tools/bots

# unused prints a port that no UDP or TCP socket holds (gnet binds with
# SO_REUSEPORT, so a port in use would be shared, not refused).
unused() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		[[ -n $(ss -Hanu "sport = :$p" 2>/dev/null) || -n $(ss -Hant "sport = :$p" 2>/dev/null) ]] || { echo "$p" && return; }
	done
	echo "mixed: no free port" >&2
	exit 1
}

TICKS=$(getconf CLK_TCK)
# cputime prints the user+system seconds of the PIDs given (gone ones: 0).
cputime() {
	local pid
	for pid in "$@"; do cat "/proc/$pid/stat" 2>/dev/null || true; done |
		awk -v t="$TICKS" '{ sub(/^.*\) /, ""); s += $12 + $13 } END { printf "%.2f\n", s / t }'
}
now() { date +%s.%N; }

# probe writes, until $1/stop appears or the server $2 ends, "time VmRSS_kB"
# every 250 ms to rss.txt and "time goroutines heap_inuse clients" every
# second to gauges.txt, from http://$3/metrics.
probe() {
	local dir=$1 pid=$2 admin=$3 n=0 rss m
	while [[ ! -e $dir/stop ]] && kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || break
		echo "$(now) $rss" >>"$dir/rss.txt"
		if ((n++ % 4 == 0)); then
			# Stamped once read: a scrape stamped inside the window saw it.
			m=$(curl -s --max-time 1 "http://$admin/metrics" 2>/dev/null) || true
			awk -v t="$(now)" '$1 == "go_goroutines" { g = $2 } $1 == "go_memstats_heap_inuse_bytes" { h = $2 }
				$1 == "flotilla_clients" { c = $2 } END { if (g != "") print t, g, h, c }' <<<"$m" >>"$dir/gauges.txt"
		fi
		sleep 0.25
	done
}

# scrape saves the server's /metrics in $2, or ends the measurement.
scrape() {
	curl -sf --max-time 5 "http://$1/metrics" >"$2" ||
		{ echo "mixed: cannot read http://$1/metrics: is the server still up?" >&2; exit 1; }
}

# connected prints the bots connected by the last -live line of each log.
connected() { awk '/^bots [0-9]+\// { split($2, n, "/"); last[FILENAME] = n[1] } END { for (f in last) s += last[f]; print s + 0 }' "$@"; }

# run N NAME NATIVE BROWSER: one run on a fresh server at 127.0.3.N; its
# files go to $WORK/run-N-NAME.
run() {
	local host=127.0.3.$1 name=$2 nat=$3 brw=$4 dir=$WORK/run-$1-$2 port admin web srv prb i
	local -a bots=() logs=() kids=()
	local bound=$((CONNECT_TIMEOUT + DURATION + IDLE + 60)) act=$((CONNECT_TIMEOUT + DURATION + 30))
	mkdir -p "$dir"
	port=$(unused) admin=$host:$(unused) web=$host:$(unused)
	echo "$name $nat $brw" >"$dir/about"
	"$WORK/flotilla" -listen "$host:$port" -admin "$admin" -http "$web" -duration "${bound}s" \
		-max-clients "$MAX_CLIENTS" -max-unproven "$MAX_UNPROVEN" >"$dir/server.out" 2>"$dir/server.log" &
	srv=$! && PIDS+=("$srv")
	for ((i = 0; i < 100; i++)); do
		curl -s --max-time 1 "http://$admin/healthz" >/dev/null 2>&1 && break
		kill -0 "$srv" 2>/dev/null || { echo "mixed: the server did not start:" >&2; tail "$dir/server.log" >&2; exit 1; }
		sleep 0.1
	done
	probe "$dir" "$srv" "$admin" &
	prb=$! && PIDS+=("$prb")
	sleep 1
	echo "== $name: server $host:$port (http $web, admin $admin), $nat native + $brw browser bots" >&2

	# The bots act until interrupted below; their own -duration and the
	# timeout only bound them.
	start() { # start KIND COUNT FLAGS...
		local kind=$1 count=$2
		shift 2
		timeout --signal=INT --kill-after=10 $((act + 40)) "$WORK/bots" "$@" -clients "$count" \
			-duration "${act}s" -connect-timeout "${CONNECT_TIMEOUT}s" -json -live \
			>"$dir/bots-$kind.json" 2>"$dir/bots-$kind.log" &
		bots+=($!)
		PIDS+=($!)
		logs+=("$dir/bots-$kind.log")
	}
	now >"$dir/t_bots"
	((nat == 0)) || start native "$nat" -server "$host:$port" -bind 127.16.0.1
	((brw == 0)) || start browser "$brw" -transport webrtc -rtc "http://$web/rtc" -bind 127.32.0.1 -seed 2
	# The play window: once every bot is connected (or the connect bound
	# has passed, or a bots process ended), for DURATION seconds; IDLE
	# seconds without bots.
	local want=$((nat + brw)) deadline=$((SECONDS + CONNECT_TIMEOUT + 2)) b p
	if ((want > 0)); then
		while ((SECONDS < deadline)); do
			(($(connected "${logs[@]}") < want)) || break
			for b in "${bots[@]}"; do kill -0 "$b" 2>/dev/null || break 2; done
			sleep 0.25
		done
		for b in "${bots[@]}"; do
			p=$(pgrep -P "$b" -x bots || true)
			[[ -z $p ]] || kids+=("$p")
		done
		awk -v s="$(cat "$dir/t_bots")" -v n="$(now)" 'BEGIN { printf "%.1f\n", n - s }' >"$dir/connect_s"
		echo "   $(connected "${logs[@]}")/$want connected after $(cat "$dir/connect_s") s" >&2
	fi
	now >"$dir/t_m0"
	scrape "$admin" "$dir/metrics0.txt"
	cputime "$srv" >"$dir/cpu_srv0"
	cputime "${kids[@]}" >"$dir/cpu_bots0"
	grep '^cpu ' /proc/stat >"$dir/stat0"
	sleep $((want > 0 ? DURATION : IDLE))
	scrape "$admin" "$dir/metrics1.txt"
	cputime "$srv" >"$dir/cpu_srv1"
	cputime "${kids[@]}" >"$dir/cpu_bots1"
	grep '^cpu ' /proc/stat >"$dir/stat1"
	now >"$dir/t_m1"
	for p in "${kids[@]}"; do kill -0 "$p" 2>/dev/null || echo "$p" >>"$dir/ended_early"; done
	# SIGINT goes to the bots themselves: timeout would pass it on twice
	# (to its child, then to its process group), and a second one kills
	# them before they report. Each one's CPU over its life is read until
	# it exits.
	for p in "${kids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	local alive=1 c
	deadline=$((SECONDS + 60))
	while ((alive && SECONDS < deadline)); do
		alive=0
		for p in "${kids[@]}"; do
			c=$(cputime "$p")
			[[ $c == 0.00 ]] || { echo "$c" >"$dir/cpu_life.$p" && alive=1; }
		done
		sleep 0.2
	done
	for b in "${bots[@]}"; do halt "$b" INT 1 || echo "$?" >>"$dir/bots_rc"; done
	touch "$dir/stop"
	halt "$prb" TERM 2 || true
	halt "$srv" TERM 10 || echo "mixed: the server exited with status $?" >&2
}

run 1 idle 0 0
run 2 native "$NATIVE" 0
run 3 browser 0 "$BROWSER"
run 4 mixed "$NATIVE" "$BROWSER"

REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- server netcode protocol codec sim 'browser-bridge/*.go' tools/client 'tools/bots/*.go' 2>/dev/null || REV+=+edits
python3 - "$WORK" "$DURATION" "$REV" <<'PY'
import glob, json, os, re, sys

work, duration, rev = sys.argv[1], sys.argv[2], sys.argv[3]

def text(path, default=""):
    return open(path).read() if os.path.exists(path) else default

def number(path, default=0.0):
    try:
        return float(text(path).split()[0])
    except (IndexError, ValueError):
        return default

def series(path):
    """Rows of floats of a whitespace-separated file (complete rows only)."""
    return [[float(x) for x in l.split()] for l in text(path).splitlines() if re.fullmatch(r"[\d. e+-]+", l)]

def prom(path):
    """Prometheus text: {name + labels as written: value}."""
    lines = (l.rpartition(" ") for l in text(path).splitlines() if l and not l.startswith("#"))
    return {key: float(value) for key, _, value in lines}

def tick_buckets(before, after):
    """The tick histogram's cumulative counts over the window: [(le, count)]."""
    bucket = re.compile(r'flotilla_tick_duration_seconds_bucket\{le="([^"]+)"\}')
    return sorted((float(m.group(1)), count - before.get(key, 0.0))
                  for key, count in after.items() if (m := bucket.fullmatch(key)))

def percentile(buckets, q):
    """q-quantile in seconds, linear between a bucket's bounds (the lowest
    bucket from 0); the +Inf bucket answers its lower bound."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    want = q * buckets[-1][1]
    lo_bound, lo_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= want:
            if bound == float("inf"):
                return lo_bound
            if count == lo_count:
                return bound
            return lo_bound + (bound - lo_bound) * (want - lo_count) / (count - lo_count)
        lo_bound, lo_count = bound, count
    return lo_bound

mean = lambda xs: sum(xs) / len(xs) if xs else None
runs = []
for d in sorted(glob.glob(os.path.join(work, "run-*"))):
    at = lambda name: os.path.join(d, name)
    name, nat, brw = text(at("about")).split()
    t0, t1 = number(at("t_m0")), number(at("t_m1"))
    gauges = [g for g in series(at("gauges.txt")) if len(g) >= 3 and t0 <= g[0] <= t1]
    rss = [r for r in series(at("rss.txt")) if len(r) == 2]
    m0, m1 = prom(at("metrics0.txt")), prom(at("metrics1.txt"))
    delta = lambda key: m1.get(key, 0) - m0.get(key, 0)
    reports = {}
    for kind, n in (("native", int(nat)), ("browser", int(brw))):
        if n:
            out = text(at(f"bots-{kind}.json")).strip()
            reports[kind] = {"clients": n, **(json.loads(out) if out.startswith("{") else {})}
            # The -live lines come one a second: the first with the final
            # count says when the last bot connected, to the second.
            live = [int(m) for m in re.findall(r"^bots (\d+)/", text(at(f"bots-{kind}.log")), re.M)]
            reports[kind]["last_connect_s"] = live.index(max(live)) + 1 if live and max(live) else None
    # /proc/stat: user nice system idle iowait irq softirq steal, in ticks.
    st = [[float(x) for x in text(at(f"stat{i}"), "cpu" + " 0" * 8).split()[1:9]] for i in (0, 1)]
    ticks = [(b - a) / os.sysconf("SC_CLK_TCK") for a, b in zip(*st)]
    buckets, count = tick_buckets(m0, m1), delta("flotilla_tick_duration_seconds_count")
    runs.append({
        "name": name, "reports": reports, "span": max(t1 - t0, 1e-9), "early": os.path.exists(at("ended_early")),
        "connect": number(at("connect_s"), None) if reports else None,
        "tick50": percentile(buckets, 0.50), "tick99": percentile(buckets, 0.99),
        "tick_mean": delta("flotilla_tick_duration_seconds_sum") / count if count else None,
        "goroutines": mean([g[1] for g in gauges]), "heap": mean([g[2] / 2**20 for g in gauges]),
        "clients": mean([g[3] for g in gauges if len(g) > 3]),
        "rss": mean([r[1] / 1024 for r in rss if t0 <= r[0] <= t1]), "rss_peak": max((r[1] for r in rss), default=0) / 1024,
        "cpu_srv": number(at("cpu_srv1")) - number(at("cpu_srv0")), "cpu_bots": number(at("cpu_bots1")) - number(at("cpu_bots0")),
        "cpu_bots_life": sum(number(f) for f in glob.glob(at("cpu_life.*"))),
        "busy": sum(ticks[i] for i in (0, 1, 2, 5, 6)), "steal": ticks[7],
    })

def fmt(v, spec="{:.1f}"):
    return "-" if v is None else spec.format(v)

def per_bot(r, key, spec="{:.1f}"):
    """A bots' report value, the mixed run's as native | browser."""
    return " | ".join(fmt(rep.get(key), spec) for rep in r["reports"].values()) or "-"

def connected(r):
    return " | ".join(f"{rep.get('connected', 0)}/{rep['clients']}" for rep in r["reports"].values()) or "-"

rows = [
    ("bots connected", connected),
    ("last bot connected by (s)", lambda r: per_bot(r, "last_connect_s", "{:.0f}")),
    ("window starts after (s)", lambda r: fmt(r["connect"])),
    ("action->effect p50 (ms)", lambda r: per_bot(r, "action_to_effect_ms_p50")),
    ("action->effect p99 (ms)", lambda r: per_bot(r, "action_to_effect_ms_p99")),
    ("actions sent", lambda r: per_bot(r, "actions_sent", "{:.0f}")),
    ("sessions lost after connecting", lambda r: per_bot(r, "sessions_lost", "{:.0f}")),
    ("server clients (mean)", lambda r: fmt(r["clients"], "{:.0f}")),
    ("actions lost", lambda r: per_bot(r, "actions_lost", "{:.0f}")),
    ("snapshot bytes p50", lambda r: per_bot(r, "bytes_per_client_tick_p50", "{:.0f}")),
    ("bot errors (first)", lambda r: " | ".join(((rep.get("errors") or ["-"])[0].split(": ")[-1])[:28] for rep in r["reports"].values()) or "-"),
    ("tick p50 (ms)", lambda r: fmt(r["tick50"] and r["tick50"] * 1000, "{:.2f}")),
    ("tick p99 (ms)", lambda r: fmt(r["tick99"] and r["tick99"] * 1000, "{:.2f}")),
    ("tick mean (ms)", lambda r: fmt(r["tick_mean"] and r["tick_mean"] * 1000, "{:.2f}")),
    ("goroutines (mean)", lambda r: fmt(r["goroutines"], "{:.0f}")),
    ("heap in use (MB, mean)", lambda r: fmt(r["heap"])),
    ("RSS (MB, mean)", lambda r: fmt(r["rss"])),
    ("RSS peak (MB)", lambda r: fmt(r["rss_peak"])),
    ("server CPU s (window)", lambda r: f"{r['cpu_srv']:.1f} ({100 * r['cpu_srv'] / r['span']:.0f}%)"),
    ("bots CPU s (window)", lambda r: f"{r['cpu_bots']:.1f} ({100 * r['cpu_bots'] / r['span']:.0f}%)" if r["reports"] else "-"),
    ("bots CPU s (whole life)", lambda r: fmt(r["cpu_bots_life"]) if r["reports"] else "-"),
    ("machine busy s (window)", lambda r: f"{r['busy']:.1f} ({100 * r['busy'] / r['span']:.0f}%)"),
    ("  others (not server, bots) s", lambda r: f"{r['busy'] - r['cpu_srv'] - r['cpu_bots']:.1f}"),
    ("  steal s", lambda r: f"{r['steal']:.1f}"),
]
print()
print(f"# window {duration} s of play once every bot connected or could not (idle: its own); server at {rev}; "
      f"mixed run: native | browser; CPU % of one core ({os.cpu_count()} here)")
cells = [[fn(r) for r in runs] for _, fn in rows]
w0 = max(len(label) for label, _ in rows)
ws = [max(len(r["name"]), *(len(c[i]) for c in cells)) for i, r in enumerate(runs)]
print(" " * w0 + "  " + "  ".join(f"{r['name']:>{ws[i]}}" for i, r in enumerate(runs)))
for (label, _), c in zip(rows, cells):
    print(f"{label:<{w0}}  " + "  ".join(f"{v:>{ws[i]}}" for i, v in enumerate(c)))

by = {r["name"]: r for r in runs}
idle = by["idle"]
print()
for name in ("browser", "native"):
    r = by[name]  # per session: over the server's clients (flotilla_clients), the bots that stayed
    n = r["clients"]
    if not n or None in (r["goroutines"], r["heap"], r["rss"], idle["goroutines"], idle["heap"], idle["rss"]):
        print(f"per {name} session: no measure ({n} clients)")
        continue
    print(f"per {name} session ({n:.0f} server clients): {(r['goroutines'] - idle['goroutines']) / n:.2f} goroutines, "
          f"{(r['heap'] - idle['heap']) * 1024 / n:.1f} KB heap in use, {(r['rss'] - idle['rss']) * 1024 / n:.1f} KB RSS "
          f"(mean; peak RSS {(r['rss_peak'] - idle['rss_peak']) * 1024 / n:.1f} KB), "
          f"{1000 * (r['cpu_srv'] / r['span'] - idle['cpu_srv'] / idle['span']) / n:.2f} ms server CPU a second")
mixed, native = by["mixed"], by["native"]
ratio = f"{mixed['tick99'] / native['tick99']:.2f}x" if mixed["tick99"] and native["tick99"] else "-"
print(f"tick p99: mixed {fmt(mixed['tick99'] and mixed['tick99'] * 1000, '{:.2f}')} ms vs native "
      f"{fmt(native['tick99'] and native['tick99'] * 1000, '{:.2f}')} ms ({ratio})")
bad = [f"{r['name']} {kind}: {rep.get('connected', 0)}/{rep['clients']} connected, {rep.get('actions_lost', '?')} lost"
       for r in runs for kind, rep in r["reports"].items()
       if rep.get("connected", 0) < rep["clients"] or rep.get("actions_lost", 1) != 0]
bad += [f"{r['name']}: bots ended before the window did" for r in runs if r["early"]]
print("check (every bot connected, no action lost): " + ("met" if not bad else "NOT met: " + "; ".join(bad)))
sys.exit(1 if bad else 0)
PY
