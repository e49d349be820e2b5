#!/usr/bin/env bash
# soak.sh BUILD [SECONDS] - the soak test of make soak: steady load through
# the whole stack for SECONDS (default 600), failing when a worker grows.
#
# nginx on a free loopback port, the wxfcgi master with WX_SOAK_WORKERS
# (default 2) workers in safe mode (echo handler, a retry table of 1024
# slots), and wrk
# sending pre-signed, encrypted text messages (wx-bench-core gen, each its
# own MsgId) at a steady rate: WX_SOAK_CONNS connections (default 4), each
# waiting WX_SOAK_DELAY_MS (default 40) between requests, about 100
# messages a second in all.  The clock starts at the first request
# (wrk reads its messages first, which takes a while).  Every 30 s each worker's resident size
# (VmRSS), private dirty memory (Private_Dirty of smaps_rollup) and open
# descriptors are sampled; the test fails when any of them ends more than
# 10 % above its value over the first minute (the largest of the samples at
# 30 and 60 s), when a worker was replaced, or when an answer was not 2xx.
# It prints the samples and, per worker, the first and the last figures.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
secs=${2:-600}
top=$(cd "$(dirname "$0")/.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

workers=${WX_SOAK_WORKERS:-2}
conns=${WX_SOAK_CONNS:-4}
delay=${WX_SOAK_DELAY_MS:-40}
every=30
[ "$secs" -ge 120 ] || { echo "soak: SECONDS must be at least 120 (a first minute and more)" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/wx-soak.XXXXXX")
S=$(mktemp -d /dev/shm/wx-soak.XXXXXX 2>/dev/null || echo "$T")
PORT=$(wx_free_port)
MASTER="" WRK=""

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $WRK $MASTER
    wx_nginx_stop "$T"
    rm -rf "$T" "$S"
}
trap cleanup EXIT

cat > "$T/wx.ini" <<CONF
[wx]
token = soaktoken
appid = wx0123456789abcdef
encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
mode = safe
[wxfcgi]
listen = unix:$T/wx.sock
workers = $workers
; the messages are signed before the run starts: no window on their age
timestamp_window = 0
; a retry table small enough to be all in use within the first minute, so
; that what it maps is in the first minute's figures
dedup_slots = 1024
state_dir = $S
log = $T/wxfcgi.log
log_level = info
log_buffer = 32k
[echo]
CONF

# One message a request: the rate for the whole run, and a tenth more.
n=$(( (conns * 1000 / delay) * secs * 11 / 10 ))
echo "# soak: $secs s, $workers workers (safe mode), $conns connections every $delay ms;" \
     "generating $n messages"
"$build/wx-bench-core" gen "$T/wx.ini" "$n" > "$T/reqs"
wx_nginx_render "$T" "$PORT" "$T/wx.sock" "$T/access.log"
wx_nginx_start "$T"
"$build/wxfcgi" -c "$T/wx.ini" 2>>"$T/wxfcgi.err" &
MASTER=$!
wx_wait_for "$T/wx.sock" 10 >/dev/null || { echo "soak: the master did not start" >&2; exit 1; }
sleep 0.5
pids=$(pgrep -P "$MASTER" | sort -n | tr '\n' ' ')

WX_BENCH_REQS=$T/reqs WX_BENCH_PATH=/wx WX_BENCH_DELAY_MS=$delay \
    wrk -t1 -c"$conns" -d"$((secs + 900))s" --timeout 10s -s "$top/scripts/bench.lua" \
    "http://127.0.0.1:$PORT/wx" > "$T/wrk.out" 2>&1 &
WRK=$!
for i in $(seq 1 9000); do [ -s "$T/access.log" ] && break; sleep 0.1; done
[ -s "$T/access.log" ] || { echo "soak: no request arrived in 900 s" >&2; exit 1; }

# sample PID: "RSS_KB PRIVATE_DIRTY_KB FDS"
sample() {
    local rss pd fds
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
    pd=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
    fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    echo "${rss:-0} ${pd:-0} $fds"
}

declare -A first last base
printf '# %6s %8s %10s %12s %4s\n' time worker rss_kb private_kb fds
t0=$(date +%s)
for (( t = every; t <= secs; t += every )); do
    sleep $(( t0 + t - $(date +%s) > 0 ? t0 + t - $(date +%s) : 0 ))
    for p in $pids; do
        s=$(sample "$p")
        printf '  %6s %8s %10s %12s %4s\n' "${t}s" "$p" $s
        [ -n "${first[$p]:-}" ] || first[$p]=$s
        last[$p]=$s
        if [ "$t" -le 60 ]; then
            # The first minute's value: the largest of its samples.
            base[$p]=$(awk -v a="${base[$p]:-0 0 0}" -v b="$s" 'BEGIN {
                split(a, x, " "); split(b, y, " ");
                for (i = 1; i <= 3; i++) printf "%s%d", (i > 1 ? " " : ""), (x[i] > y[i] ? x[i] : y[i]) }')
        fi
    done
done
# wrk prints its figures when interrupted.
kill -INT "$WRK" 2>/dev/null
wait "$WRK" || true
WRK=""

rc=0
echo "# soak: per worker, first sample -> last (the first minute's value; limit +10 %)"
for p in $pids; do
    read -r r1 d1 f1 <<<"${first[$p]}"
    read -r r2 d2 f2 <<<"${last[$p]}"
    read -r rb db fb <<<"${base[$p]}"
    verdict=ok
    for pair in "rss $r2 $rb" "private_dirty $d2 $db" "fds $f2 $fb"; do
        read -r what now was <<<"$pair"
        if [ $(( now * 100 )) -gt $(( was * 110 )) ]; then
            verdict=FAIL rc=1
            echo "soak: worker $p: $what grew from $was to $now (more than 10 %)" >&2
        fi
    done
    printf '  worker %-7s rss %6s -> %6s kB (%s)  private_dirty %6s -> %6s kB (%s)  fds %3s -> %3s (%s)  %s\n' \
        "$p" "$r1" "$r2" "$rb" "$d1" "$d2" "$db" "$f1" "$f2" "$fb" "$verdict"
done
now_pids=$(pgrep -P "$MASTER" | sort -n | tr '\n' ' ')
if [ "$now_pids" != "$pids" ]; then
    echo "soak: the workers changed ($pids -> $now_pids): one died" >&2
    rc=1
fi
reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
non2xx=$(awk '$1 == "non2xx" { print $2 }' "$T/wrk.out")
wrapped=$(awk '$1 == "wrapped" { print $2 }' "$T/wrk.out")
p99=$(awk '$1 == "p99" { print $2 }' "$T/wrk.out")
echo "# soak: ${reqs:-?} requests in $secs s, non-2xx ${non2xx:-?}, p99 ${p99:-?} ms, repeats ${wrapped:-?}"
if [ "${non2xx:-1}" != 0 ] || [ -z "$reqs" ]; then
    echo "soak: answers that were not 2xx, or no load:" >&2
    tail -n 20 "$T/wrk.out" >&2
    rc=1
fi
[ "$rc" = 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit "$rc"
