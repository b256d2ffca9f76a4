#!/usr/bin/env bash
# `make abuse`: what half-open sessions cost a Flotilla room and its players.
#
# Builds the server, the bots and the abuse tool into a temporary directory
# and runs, each against a FRESH server on its own loopback address:
#
#   baseline  BOTS bots playing for DURATION seconds, alone;
#   attack    the same bots beside SESSIONS half-open sessions (abuse
#             -reconnect: a session the server sends away comes back
#             RECONNECT_DELAY later) from SOURCE_IPS source addresses. The
#             attack starts ATTACK_LEAD seconds before the bots and lasts
#             until they have finished, and at least DURATION seconds from
#             their start even if the server turned them all away.
#             SOURCE_IPS may list several counts ("100 1"): one attack run,
#             and one column, for each.
#
# For each run it records the server's RSS (VmRSS every 250 ms from
# /proc/PID/status: at the start, the peak, and the kernel's VmHWM), the
# room's tick (p99 interpolated in the flotilla_tick_duration_seconds
# buckets over the bots' run, the bucket it falls in, the mean, the share
# of ticks over 5 and 10 ms, the worst 1-s p99 of the server's -summary
# lines, frames stepped per second; the buckets are coarse, 2.5-5-10 ms,
# so the p99 moves in steps and the shares say more),
# the CPU time of server, bots and attacker, the bots' report (connected,
# action to effect p50/p99, actions sent/applied/fizzled/lost, snapshot
# bytes p50) and, for the attack, the abuse report (accepted, throttled,
# timed out, re-handshakes) and the server's flotilla_sent_away_total by
# reason, flotilla_net_refused_total and flotilla_unproven_sessions (mean
# and peak of 1-s scrapes). It prints one table, the attack/baseline
# ratios of tick p99 and action-to-effect p99, the RSS growth, and the
# check "RSS +50 MB at most, tick and action-to-effect p99 within 10%, no
# action lost, every bot connected".
#
#   BOTS             bots (default 100)
#   SESSIONS         half-open sessions (default 2000)
#   DURATION         seconds the bots act (default 20)
#   SOURCE_IPS       source addresses of the attack; a list runs one attack
#                    each (default 100)
#   RATE             the attack's handshakes a second, re-handshakes
#                    included (default 2000)
#   RECONNECT_DELAY  wait before a session starts over (default 100ms)
#   ATTACK_LEAD      seconds the attack starts before the bots (default 1);
#                    negative: that many seconds after them, once they play
#   ATTACK_SOURCES   the attack's address pool (default 127.200.0.1/16:
#                    apart from the bots, which bind 127.0.0.1 upward, 16 an
#                    address, so the per-address limit is the attacker's
#                    alone)
#   OUT              keep every log, report and scrape here (default: a
#                    temporary directory, removed at the end)
#   REPORT           a directory an earlier run kept (OUT): print its table
#                    again, with this script's rows, and run nothing
#
# Needs go, curl, python3, ss, pgrep and timeout, Linux's /proc, and
# loopback only. Every process it starts is bounded in time and killed by
# PID on exit. Exit status: 0 when every bot of every run connected and no action was lost,
# 1 otherwise or when a run could not be made, 2 for bad settings.
set -euo pipefail
cd "$(dirname "$0")/../.."

BOTS=${BOTS:-100}
SESSIONS=${SESSIONS:-2000}
DURATION=${DURATION:-20}
SOURCE_IPS=${SOURCE_IPS:-100}
RATE=${RATE:-2000}
RECONNECT_DELAY=${RECONNECT_DELAY:-100ms}
ATTACK_LEAD=${ATTACK_LEAD:-1}
ATTACK_SOURCES=${ATTACK_SOURCES:-127.200.0.1/16}

int() { [[ $2 =~ ^-?[0-9]+$ ]] || { echo "measure: $1=$2 is not a whole number" >&2; exit 2; }; }
int BOTS "$BOTS"
int SESSIONS "$SESSIONS"
int DURATION "$DURATION"
int RATE "$RATE"
int ATTACK_LEAD "$ATTACK_LEAD"
for n in $SOURCE_IPS; do int SOURCE_IPS "$n"; done
(( BOTS >= 1 && SESSIONS >= 1 && DURATION >= 1 )) || { echo "measure: BOTS, SESSIONS and DURATION must be positive" >&2; exit 2; }
for tool in go curl python3 ss pgrep timeout; do
	command -v $tool >/dev/null || { echo "measure: $tool not found" >&2; exit 1; }
done

# table prints the runs kept in $1 side by side and exits 1 when a bot of
# any run did not connect or lost an action.
table() {
	python3 - "$1" <<'PY'
import glob, json, math, os, re, sys

work = sys.argv[1]
settings = dict(l.split(" ", 1) for l in (open(os.path.join(work, "settings")).read().splitlines() if os.path.exists(os.path.join(work, "settings")) else []))
def setting(key, env, default):
    return settings.get(key, os.environ.get(env, default))
bots, sessions, duration = setting("bots", "BOTS", "100"), setting("sessions", "SESSIONS", "2000"), setting("duration", "DURATION", "20")
rate, delay, lead = setting("rate", "RATE", "2000"), setting("delay", "RECONNECT_DELAY", "100ms"), setting("lead", "ATTACK_LEAD", "1")
sources, revision = setting("sources", "ATTACK_SOURCES", "127.200.0.1/16"), settings.get("revision", "unknown")

def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default

def metrics(path):
    """Prometheus text: {(name, frozenset(labels)): value}."""
    out = {}
    for line in (read(path, "") or "").splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out

def by_label(m, name, label):
    return {dict(k[1]).get(label): v for k, v in m.items() if k[0] == name}

def hist(m, name):
    """Cumulative buckets [(le, count)], sorted, +Inf last."""
    b = [(float(dict(k[1])["le"]), v) for k, v in m.items() if k[0] == name + "_bucket"]
    return sorted(b)

def hist_delta(m0, m1, name):
    h0, h1 = dict(hist(m0, name)), hist(m1, name)
    return [(le, c - h0.get(le, 0)) for le, c in h1]

def quantile(buckets, q):
    """Prometheus' histogram_quantile: linear inside the bucket. Returns
    (value, bucket upper bound)."""
    if not buckets or buckets[-1][1] <= 0:
        return None, None
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if math.isinf(le):
                return prev_le, le
            if c == prev_c:
                return le, le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c), le
        prev_le, prev_c = le, c
    return prev_le, buckets[-1][0]

def num(s, default=0.0):
    try:
        return float(s)
    except (TypeError, ValueError):
        return default

runs = []
for d in sorted(glob.glob(os.path.join(work, "run-*")), key=lambda d: num(read(os.path.join(d, "t_start")))):
    name, ips = read(os.path.join(d, "about")).split()
    m0, m1 = metrics(os.path.join(d, "metrics0.txt")), metrics(os.path.join(d, "metrics1.txt"))
    m2 = metrics(os.path.join(d, "metrics2.txt")) or m1
    t_bots, t_end = num(read(os.path.join(d, "t_bots"))), num(read(os.path.join(d, "t_end")))
    r = {"name": name, "ips": int(ips)}
    rss = [(float(t), int(v)) for t, v in (l.split() for l in (read(os.path.join(d, "rss.txt"), "") or "").splitlines() if len(l.split()) == 2)]
    r["rss_start"] = num(read(os.path.join(d, "rss_start"))) / 1024
    t_m1 = num(read(os.path.join(d, "t_m1")))
    r["rss_peak"] = max((v for t, v in rss if t <= t_m1), default=0) / 1024
    r["rss_hwm"] = num(read(os.path.join(d, "rss_hwm"))) / 1024
    tick = hist_delta(m0, m1, "flotilla_tick_duration_seconds")
    r["tick_p99"], r["tick_p99_le"] = quantile(tick, 0.99)
    r["tick_p50"], _ = quantile(tick, 0.50)
    total = tick[-1][1] if tick else 0
    over = lambda s: 100 * (total - dict(tick).get(s, total)) / total if total else None
    r["tick_over5"], r["tick_over10"] = over(0.005), over(0.01)
    ts = m1.get(("flotilla_tick_duration_seconds_sum", frozenset()), 0) - m0.get(("flotilla_tick_duration_seconds_sum", frozenset()), 0)
    tc = m1.get(("flotilla_tick_duration_seconds_count", frozenset()), 0) - m0.get(("flotilla_tick_duration_seconds_count", frozenset()), 0)
    r["tick_mean"] = ts / tc if tc else None
    wall = max(t_end - t_bots, 1e-9)  # the bots' run
    span = max(num(read(os.path.join(d, "t_m1"))) - num(read(os.path.join(d, "t_m0"))), 1e-9)  # between the scrapes
    frames = m1.get(("flotilla_frame", frozenset()), 0) - m0.get(("flotilla_frame", frozenset()), 0)
    r["hz"] = frames / span
    r["skipped"] = m1.get(("flotilla_frames_skipped_total", frozenset()), 0) - m0.get(("flotilla_frames_skipped_total", frozenset()), 0)
    worst = 0.0
    for l in (read(os.path.join(d, "summary.txt"), "") or "").splitlines():
        mm = re.search(r"tick_p99(<=|>)(\S+)", l)
        if mm:
            v = mm.group(2)
            s = sum(float(x) * {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1}[u] for x, u in re.findall(r"([\d.]+)(ns|µs|us|ms|s)", v))
            worst = max(worst, s)
    r["tick_worst_1s"] = worst
    r["cpu_server"] = (num(read(os.path.join(d, "cpu1"))) - num(read(os.path.join(d, "cpu0")))) / span * 100
    r["cpu_bots"] = num(read(os.path.join(d, "cpu_bots"))) / wall * 100
    r["cpu_abuse"] = None
    if r["ips"]:
        alive = num(read(os.path.join(d, "t_abuse_end"))) - num(read(os.path.join(d, "t_abuse")))
        r["cpu_abuse"] = num(read(os.path.join(d, "cpu_abuse"))) / max(alive, 1e-9) * 100
    b = json.loads(read(os.path.join(d, "bots.json"), "") or "{}")
    r["bots"] = b
    r["bots_rc"] = int(num(read(os.path.join(d, "bots_rc")), 1))
    r["sent_away"] = {k: v - by_label(m0, "flotilla_sent_away_total", "reason").get(k, 0)
                      for k, v in by_label(m2, "flotilla_sent_away_total", "reason").items()}
    r["refused"] = {k: v - by_label(m0, "flotilla_net_refused_total", "reason").get(k, 0)
                    for k, v in by_label(m2, "flotilla_net_refused_total", "reason").items()}
    r["proofs"] = by_label(m2, "flotilla_snapshots_total", "form").get("proof", 0) - by_label(m0, "flotilla_snapshots_total", "form").get("proof", 0)
    rx = m1.get(("flotilla_net_received_packets_total", frozenset()), 0) - m0.get(("flotilla_net_received_packets_total", frozenset()), 0)
    tx = m1.get(("flotilla_net_sent_packets_total", frozenset()), 0) - m0.get(("flotilla_net_sent_packets_total", frozenset()), 0)
    r["pps_in"], r["pps_out"] = rx / span, tx / span
    unp = [float(l.split()[1]) for l in (read(os.path.join(d, "gauges.txt"), "") or "").splitlines() if l.startswith("flotilla_unproven_sessions ")]
    r["unproven_mean"] = sum(unp) / len(unp) if unp else 0
    r["unproven_max"] = max(unp, default=0)
    a = json.loads(read(os.path.join(d, "abuse.json"), "") or "null") if r["ips"] else None
    r["abuse"] = a
    runs.append(r)

def f(v, fmt="{:.1f}"):
    return "-" if v is None else fmt.format(v)

def ms(v):
    return "-" if v is None else f"{v * 1000:.2f} ms"

rows = [
    ("server RSS start (MB)", lambda r: f(r["rss_start"])),
    ("server RSS peak (MB)", lambda r: f(r["rss_peak"])),
    ("server RSS growth (MB)", lambda r: f(r["rss_peak"] - r["rss_start"])),
    ("server VmHWM (MB)", lambda r: f(r["rss_hwm"])),
    ("tick p99 (interpolated)", lambda r: ms(r["tick_p99"])),
    ("tick p99 bucket (<=)", lambda r: ms(r["tick_p99_le"])),
    ("tick p50 (interpolated)", lambda r: ms(r["tick_p50"])),
    ("tick mean", lambda r: ms(r["tick_mean"])),
    ("ticks over 5 ms / 10 ms (%)", lambda r: f(r["tick_over5"], "{:.2f}") + " / " + f(r["tick_over10"], "{:.2f}")),
    ("worst 1-s tick p99 (summary)", lambda r: ms(r["tick_worst_1s"])),
    ("frames/s (30 asked)", lambda r: f(r["hz"])),
    ("frames skipped", lambda r: f(r["skipped"], "{:.0f}")),
    ("server CPU (% of a core)", lambda r: f(r["cpu_server"], "{:.0f}")),
    ("bots CPU (% of a core)", lambda r: f(r["cpu_bots"], "{:.0f}")),
    ("attacker CPU (% of a core)", lambda r: f(r["cpu_abuse"], "{:.0f}")),
    ("server datagrams in/s", lambda r: f(r["pps_in"], "{:.0f}")),
    ("server datagrams out/s", lambda r: f(r["pps_out"], "{:.0f}")),
    ("bots connected", lambda r: f"{r['bots'].get('connected', 0)}/{r['bots'].get('clients', bots)}"),
    ("action->effect p50 (ms)", lambda r: f(r["bots"].get("action_to_effect_ms_p50"))),
    ("action->effect p99 (ms)", lambda r: f(r["bots"].get("action_to_effect_ms_p99"))),
    ("actions sent", lambda r: f(r["bots"].get("actions_sent"), "{:.0f}")),
    ("actions applied", lambda r: f(r["bots"].get("actions_applied"), "{:.0f}")),
    ("actions fizzled", lambda r: f(r["bots"].get("actions_fizzled"), "{:.0f}")),
    ("actions lost", lambda r: f(r["bots"].get("actions_lost"), "{:.0f}")),
    ("snapshot bytes p50", lambda r: f(r["bots"].get("bytes_per_client_tick_p50"), "{:.0f}")),
    ("bot errors (first, its end)", lambda r: (r["bots"].get("errors") or ["-"])[0].split(": ")[-1][:32]),
    ("abuse: sessions / sources", lambda r: f"{r['abuse']['sessions']} / {r['abuse']['sources']}" if r["abuse"] else "-"),
    ("abuse: handshakes accepted", lambda r: f(r["abuse"]["accepted"], "{:.0f}") if r["abuse"] else "-"),
    ("abuse: re-handshakes", lambda r: f(r["abuse"]["rehandshakes"], "{:.0f}") if r["abuse"] else "-"),
    ("abuse: sent away throttled", lambda r: f(r["abuse"]["disconnected"].get("throttled", 0), "{:.0f}") if r["abuse"] else "-"),
    ("abuse: sent away timeout", lambda r: f(r["abuse"]["disconnected"].get("timeout", 0), "{:.0f}") if r["abuse"] else "-"),
    ("abuse: refused (netcode)", lambda r: " ".join(f"{k} {v}" for k, v in sorted(r["abuse"]["refused"].items())) or "0" if r["abuse"] else "-"),
    ("abuse: handshakes timed out", lambda r: f(r["abuse"]["handshake_timed_out"], "{:.0f}") if r["abuse"] else "-"),
    ("abuse: live at the end", lambda r: f(r["abuse"]["live"], "{:.0f}") if r["abuse"] else "-"),
    ("abuse: accept->timeout median", lambda r: f(r["abuse"]["accepted_to_disconnect_ms_by_reason"].get("timeout", {}).get("median"), "{:.0f} ms") if r["abuse"] and r["abuse"]["accepted_to_disconnect_ms_by_reason"] else "-"),
    ("server sent_away throttled", lambda r: f(r["sent_away"].get("throttled", 0), "{:.0f}")),
    ("server sent_away timeout", lambda r: f(r["sent_away"].get("timeout", 0), "{:.0f}")),
    ("server sent_away other", lambda r: " ".join(f"{k} {v:.0f}" for k, v in sorted(r["sent_away"].items()) if v and k not in ("throttled", "timeout")) or "0"),
    ("server net_refused", lambda r: " ".join(f"{k} {v:.0f}" for k, v in sorted(r["refused"].items()) if v) or "0"),
    ("server proof snapshots", lambda r: f(r["proofs"], "{:.0f}")),
    ("server unproven mean / max", lambda r: f"{r['unproven_mean']:.0f} / {r['unproven_max']:.0f}"),
]

print()
print(f"# {bots} bots for {duration} s; attack: {sessions} half-open sessions, -reconnect (delay {delay}), rate {rate}/s, lead {lead} s, sources {sources}; server at {revision}")
names = [r["name"] for r in runs]
w0 = max(len(n) for n, _ in rows)
cells = [[fn(r) for r in runs] for _, fn in rows]
ws = [max(len(names[i]), *(len(c[i]) for c in cells)) for i in range(len(runs))]
print(f"{'':<{w0}}  " + "  ".join(f"{n:>{ws[i]}}" for i, n in enumerate(names)))
for (label, _), c in zip(rows, cells):
    print(f"{label:<{w0}}  " + "  ".join(f"{v:>{ws[i]}}" for i, v in enumerate(c)))

base = runs[0]
print()
bad = False
for r in runs:
    b = r["bots"]
    if b.get("connected", 0) < b.get("clients", int(bots)) or b.get("actions_lost", 0) > 0 or not b:
        bad = True
for r in runs[1:]:
    def ratio(a, b):
        return "-" if not a or not b else f"{a / b:.2f}x"
    tick = ratio(r["tick_p99"], base["tick_p99"])
    a2e = ratio(r["bots"].get("action_to_effect_ms_p99"), base["bots"].get("action_to_effect_ms_p99"))
    growth = r["rss_peak"] - r["rss_start"]
    print(f"{r['name']}: tick p99 {tick} of baseline, action->effect p99 {a2e}, RSS +{growth:.1f} MB "
          f"(baseline +{base['rss_peak'] - base['rss_start']:.1f} MB)")
    b = r["bots"]
    fails = []
    if growth > 50:
        fails.append(f"RSS grew {growth:.1f} MB > 50")
    for label, v, bv in (("tick p99", r["tick_p99"], base["tick_p99"]),
                         ("action->effect p99", b.get("action_to_effect_ms_p99"), base["bots"].get("action_to_effect_ms_p99"))):
        if not v or not bv:
            fails.append(f"{label}: no measure")
        elif v > 1.10 * bv:
            fails.append(f"{label} {v / bv:.2f}x > 1.10x")
    if b.get("actions_lost", 0):
        fails.append(f"{b['actions_lost']} actions lost")
    if b.get("connected", 0) < b.get("clients", int(bots)):
        fails.append(f"{b.get('connected', 0)}/{b.get('clients', bots)} bots connected")
    print(f"  check (RSS +50 MB at most, p99s within 10%, 0 lost, all connected): {'met' if not fails else 'NOT met: ' + '; '.join(fails)}")
sys.exit(1 if bad else 0)
PY
}
if [[ -n ${REPORT:-} ]]; then
	table "$REPORT"
	exit
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-abuse.XXXXXX")
OUT=${OUT:-}
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $OUT ]]; then
		mkdir -p "$OUT" && cp -r "$WORK"/run-* "$WORK"/settings "$OUT"/ 2>/dev/null || true
		echo "measure: logs in $OUT" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget removes a PID that has been waited for from the cleanup list.
forget() {
	local keep=() pid
	for pid in "${PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
	PIDS=("${keep[@]}")
}

# stop ends a process: signal $2 (INT or TERM), then KILL if it has not
# exited within $3 seconds. It returns the process's exit status.
stop() {
	local pid=$1 sig=$2 grace=$3 rc=0 i
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	forget "$pid"
	return $rc
}

echo "== building into $WORK" >&2
go build -o "$WORK/flotilla" ./server/cmd/flotilla
go build -o "$WORK/bots" ./tools/bots
go build -o "$WORK/abuse" ./tools/abuse

# A loopback address of its own for the server (all of 127.0.0.0/8 is
# loopback, 127.64/10 is clear of the bots and the attack), and ports below
# Linux's ephemeral range that nothing listens on.
HOST=127.$((64 + RANDOM % 64)).$((RANDOM % 256)).$((1 + RANDOM % 254))
freeport() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		if [[ -z $(ss -Hlnu "sport = :$p" 2>/dev/null) && -z $(ss -Hlnt "sport = :$p" 2>/dev/null) ]]; then
			echo $p
			return
		fi
	done
	echo "measure: no free port" >&2
	exit 1
}

CLK_TCK=$(getconf CLK_TCK)
# cpu prints a process's user+system CPU seconds, or 0 once it is gone.
cpu() { awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# scrape saves the server's /metrics in $2, or ends the measurement.
scrape() {
	curl -sf --max-time 5 "http://$1/metrics" >"$2" || { echo "measure: cannot read http://$1/metrics: is the server still up?" >&2; exit 1; }
}

# sample writes "seconds rss_kB" every 250 ms and a scrape of the room's
# gauges every second, until the server exits or $1/stop appears.
sample() {
	local dir=$1 pid=$2 admin=$3 i=0 rss
	while kill -0 "$pid" 2>/dev/null && [[ ! -e $dir/stop ]]; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || break
		echo "$(date +%s.%N) $rss" >>"$dir/rss.txt"
		if ((i++ % 4 == 0)); then
			curl -s --max-time 1 "http://$admin/metrics" 2>/dev/null |
				grep -E '^flotilla_(unproven_sessions|clients) ' >>"$dir/gauges.txt" || true
		fi
		sleep 0.25
	done
}

# run NAME SOURCE_IPS: one run on a fresh server; SOURCE_IPS 0 is the
# baseline (no attack). Its files go to $WORK/run-NAME.
run() {
	local name=$1 ips=$2 dir=$WORK/run-$1 port admin srv smp bots abuse="" rc=0 i lead=$ATTACK_LEAD
	mkdir -p "$dir"
	port=$(freeport)
	admin=$HOST:$(freeport)
	date +%s.%N >"$dir/t_start"
	echo "$name $ips" >"$dir/about"
	# Every process has its own bound: the server's -duration, the bots'
	# timeout, the attack's -duration; each is also stopped below.
	local bound=$((DURATION + ${lead#-} + 60))
	"$WORK/flotilla" -listen "$HOST:$port" -admin "$admin" -summary 1s -duration "${bound}s" \
		>"$dir/summary.txt" 2>"$dir/server.log" &
	srv=$!
	PIDS+=("$srv")
	for ((i = 0; i < 100; i++)); do
		curl -s --max-time 1 "http://$admin/healthz" >/dev/null 2>&1 && break
		kill -0 "$srv" 2>/dev/null || { echo "measure: the server did not start:" >&2; tail "$dir/server.log" >&2; exit 1; }
		sleep 0.1
	done
	sample "$dir" "$srv" "$admin" &
	smp=$!
	PIDS+=("$smp")
	sleep 0.5
	awk '/^VmRSS:/ { print $2 }' "/proc/$srv/status" >"$dir/rss_start"
	date +%s.%N >"$dir/t_m0"
	scrape "$admin" "$dir/metrics0.txt"
	cpu "$srv" >"$dir/cpu0"

	echo "== $name: server $HOST:$port (admin $admin), $BOTS bots for ${DURATION}s$( ((ips > 0)) && echo ", $SESSIONS half-open sessions -reconnect from $ips source addresses, lead ${lead}s")" >&2
	start_abuse() {
		"$WORK/abuse" -server "$HOST:$port" -sessions "$SESSIONS" -source-ips "$ips" -sources "$ATTACK_SOURCES" \
			-rate "$RATE" -reconnect -reconnect-delay "$RECONNECT_DELAY" -duration "${bound}s" -json \
			>"$dir/abuse.json" 2>"$dir/abuse.log" &
		abuse=$!
		PIDS+=("$abuse")
		date +%s.%N >"$dir/t_abuse"
	}
	if ((ips > 0 && lead >= 0)); then
		start_abuse
		sleep "$lead"
	fi
	date +%s.%N >"$dir/t_bots"
	timeout --signal=INT --kill-after=10 $((DURATION + 40)) \
		"$WORK/bots" -server "$HOST:$port" -clients "$BOTS" -duration "${DURATION}s" -json \
		>"$dir/bots.json" 2>"$dir/bots.log" &
	bots=$!
	PIDS+=("$bots")
	if ((ips > 0 && lead < 0)); then
		sleep "${lead#-}"
		start_abuse
	fi
	# The bots' CPU is read just before they exit: their process is a child
	# of timeout, found by its parent.
	local bpid="" bcpu=0
	while kill -0 "$bots" 2>/dev/null; do
		[[ -n $bpid ]] || bpid=$(pgrep -P "$bots" -x bots || true)
		[[ -z $bpid ]] || bcpu=$(cpu "$bpid")
		[[ $bcpu == 0 ]] || echo "$bcpu" >"$dir/cpu_bots"
		sleep 0.25
	done
	wait "$bots" || rc=$?
	forget "$bots"
	date +%s.%N >"$dir/t_end"
	echo "$rc" >"$dir/bots_rc"
	# Bots the server turned away end at once; the attack still lasts
	# DURATION from their start, so its cost to the server is measured.
	if [[ -n $abuse ]]; then
		local left
		left=$(awk -v s="$(cat "$dir/t_bots")" -v d="$DURATION" -v n="$(date +%s.%N)" 'BEGIN { l = s + d - n; print (l > 0 ? l : 0) }')
		sleep "$left"
	fi
	scrape "$admin" "$dir/metrics1.txt"
	cpu "$srv" >"$dir/cpu1"
	date +%s.%N >"$dir/t_m1"
	if [[ -n $abuse ]]; then
		cpu "$abuse" >"$dir/cpu_abuse"
		date +%s.%N >"$dir/t_abuse_end"
		stop "$abuse" INT 10 || echo "measure: abuse exited with status $?" >&2
		scrape "$admin" "$dir/metrics2.txt"
	fi
	awk '/^VmHWM:/ { print $2 }' "/proc/$srv/status" >"$dir/rss_hwm"
	touch "$dir/stop"
	stop "$smp" TERM 2 || true
	stop "$srv" TERM 10 || echo "measure: the server exited with status $?" >&2
}

printf '%s\n' "bots $BOTS" "sessions $SESSIONS" "duration $DURATION" "rate $RATE" \
	"delay $RECONNECT_DELAY" "lead $ATTACK_LEAD" "sources $ATTACK_SOURCES" "revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- server netcode protocol codec sim 2>/dev/null || echo +edits)" >"$WORK/settings"
run baseline 0
for ips in $SOURCE_IPS; do
	run "attack-$ips" "$ips"
done

table "$WORK"
