#!/usr/bin/env bash
# bench.sh BUILD [PNG] - the benchmark of make bench.
#
# One nginx on a free loopback port serves FastCGI applications run by
# spawn-fcgi, in two configurations:
#   conn   one connection per request (fastcgi_keep_conn off), WX_BENCH_WORKERS
#          (default 4) processes per pool
#   ka     keep-alive as nginx/wx.conf ships it (upstream keepalive =
#          connections), WX_BENCH_KA_WORKERS (default: the connections)
#          processes: the ceiling is a plain libfcgi loop, which sits on a
#          kept connection, so it needs a process per connection
# and in each the targets of the table below ("target" lines):
#   ceiling      wx-ceiling: reads the body and answers a fixed reply (the
#                most any FastCGI application can do on this machine)
#   plain        wxfcgi with the echo handler, plain mode
#   ceilingsafe  wx-ceiling answering a real safe-mode envelope
#   safe         wxfcgi, safe mode
#   nometrics    plain with metrics off (an empty metrics_path): its req/s
#                and CPU beside plain's are what the metrics cost
#   accounts     plain with three [account.NAME] beside [wx] and 20 routes
#                that the messages go through without a match (the worst
#                case: every route tried), then echo: beside plain, the
#                cost of the account lookup and of the routes
# and, when npm can install wechat@2.1.0 (into WX_BENCH_NODE, default
# /tmp/wx-bench-node, outside the tree), the node peer: its middleware in
# 2 processes, wrk straight at it.
#
# wrk sends pre-signed text messages, every one with its own MsgId; each
# ceiling gets the same requests as the wxfcgi run it is compared with and
# answers as many bytes, so that the ratio is the cost of wxfcgi's own
# work.  The runs take turns, round after round, and each round's ratio
# compares runs seconds apart; the median over the rounds is the result.
# Per run: req/s, p50/p99 and the latency distribution (wrk), the pool's
# CPU time per request (utime + stime of its processes in /proc/PID/stat),
# the largest Private_Dirty of a process (smaps_rollup).  Then callgrind
# counts the instructions of the gateway's path per message.  The table
# goes to stdout, the plot (req/s as bars, the latency distributions) to
# PNG (default BUILD/bench.png) when gnuplot is installed.
#
# Environment: WX_BENCH_SECS (default 2) seconds per run, WX_BENCH_ROUNDS
# (default 5) rounds, WX_BENCH_CONNS (default 32) connections,
# WX_BENCH_THREADS (default 1) wrk threads; WX_BENCH_TARGETS the rows to
# run, blank-separated (default all; keep each row's ceiling); WX_BENCH_WXFCGI [wxfcgi] lines
# replacing the default "log_level = info" (a line per request) and
# "log_buffer = 32k"; WX_BENCH_NODE as above, "" to leave node out.
# Exit status 0 when every target of the table is reached, 1 otherwise.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
png=${2:-$build/bench.png}
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

secs=${WX_BENCH_SECS:-2}
rounds=${WX_BENCH_ROUNDS:-5}
conns=${WX_BENCH_CONNS:-32}
threads=${WX_BENCH_THREADS:-1}
declare -A workers=([conn]=${WX_BENCH_WORKERS:-4} [ka]=${WX_BENCH_KA_WORKERS:-$conns})
node_dir=${WX_BENCH_NODE-/tmp/wx-bench-node}
tck=$(getconf CLK_TCK)
T=$(mktemp -d /tmp/wx-bench.XXXXXX)
# The retry table belongs on a tmpfs, as /run is on most systems: on a disk
# filesystem the kernel would write its pages back.
S=$(mktemp -d /dev/shm/wx-bench.XXXXXX 2>/dev/null || echo "$T")
PORT=$(wx_free_port)
NODE_PID=""

# --- the targets: a row is one line --------------------------------------
# target NAME REQUESTS CEILING GOAL_CONN GOAL_KA COMMAND...
#   REQUESTS  plain or safe: the request file it is fed
#   CEILING   the row its ratio is taken of ("-" for a ceiling itself)
#   GOAL_*    the least ratio in each configuration ("-": none)
targets=()
declare -A t_reqs t_ceil t_goal t_cmd
target() {
    targets+=("$1")
    t_reqs[$1]=$2 t_ceil[$1]=$3 t_goal[conn.$1]=$4 t_goal[ka.$1]=$5
    t_cmd[$1]=${*:6}
}
target ceiling     plain -           -    -    "$build/wx-ceiling"
target plain       plain ceiling     0.92 0.85 "$build/wxfcgi" -c "$T/plain.ini"
target ceilingsafe safe  -           -    -    "$build/wx-ceiling" "$T/safe.reply"
target safe        safe  ceilingsafe 0.85 0.75 "$build/wxfcgi" -c "$T/safe.ini"
# store = redis: plain with the retry table in a local redis-server over a
# unix socket (started below); the goal is 0.85 of the local store's ratio.
command -v redis-server >/dev/null &&
    target redis   plain ceiling     -    -    "$build/wxfcgi" -c "$T/redis.ini"
# Plain with metrics off: no goal of its own; beside plain it shows what the
# metrics cost (per-worker counters, a clock read pair, the path check).
target nometrics   plain ceiling     -    -    "$build/wxfcgi" -c "$T/nometrics.ini"
# Three accounts and 20 routes, no goal of its own: beside plain, what they cost.
target accounts    plain ceiling     -    -    "$build/wxfcgi" -c "$T/accounts.ini"
# nginx gets a location for every row (the safe sample below needs its own).
all_targets=("${targets[@]}")
if [ -n "${WX_BENCH_TARGETS:-}" ]; then
    kept=()
    for n in "${targets[@]}"; do
        [[ " $WX_BENCH_TARGETS " == *" $n "* ]] && kept+=("$n")
    done
    targets=("${kept[@]}")
fi
# The worker's CPU per request against its ceiling's, keep-alive.
cpu_goal=1.4 cpu_row=plain

cleanup() {
    local f
    for f in "$T"/*.pid; do
        [ -f "$f" ] || continue
        for p in $(grep -E '^[0-9]+$' "$f"); do kill -TERM "$p" 2>/dev/null || true; done
    done
    [ -z "$NODE_PID" ] || wx_stop_pids "$NODE_PID" || true
    wx_nginx_stop "$T"
    rm -rf "$T" "$S"
}
trap cleanup EXIT

config() { # MODE
    cat > "$T/$1.ini" <<CONF
[wx]
token = benchtoken
appid = wx0123456789abcdef
encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
mode = $1
[wxfcgi]
; the requests are signed once, before runs that may take many minutes
timestamp_window = 86400
state_dir = $S/state-$1
log = $T/wxfcgi-$1.log
${WX_BENCH_WXFCGI:-log_level = info
log_buffer = 32k}
[echo]
CONF
    mkdir -p "$S/state-$1"
}

spawn() { # CONFIG NAME
    local c=$1 n=$2
    rm -f "$T/$c-$n.sock"
    # shellcheck disable=SC2086
    spawn-fcgi -s "$T/$c-$n.sock" -M 0600 -F "${workers[$c]}" -P "$T/$c-$n.pid" -- ${t_cmd[$n]} >/dev/null
    wx_wait_for "$T/$c-$n.sock" 10
}

unspawn() { # CONFIG NAME
    local p
    for p in $(grep -E '^[0-9]+$' "$T/$1-$2.pid"); do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    rm -f "$T/$1-$2.pid"
}

pool() { # CONFIG NAME: the pids of its processes
    if [ "$1" = node ]; then pgrep -P "$NODE_PID" || true; else grep -hE '^[0-9]+$' "$T/$1-$2.pid"; fi
}
cpu_ticks() { # PID...: their utime + stime, in clock ticks
    local p
    for p in "$@"; do
        # The command name (field 2) may hold blanks: count from after it.
        sed -e 's/^.*) //' "/proc/$p/stat" 2>/dev/null || true
    done | awk '{ t += $12 + $13 } END { print t + 0 }'
}
private_kib() { # PID...: the largest Private_Dirty among them
    local p
    for p in "$@"; do awk '/^Private_Dirty:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true; done |
        sort -n | tail -1
}

# Each configuration's location is wx.conf's, pointed at its own upstream,
# so that nginx does the same work for every target.
loc() { # CONFIG NAME KEEP(on|off)
    # /wx's block only: the metrics and /wx/NAME locations are not measured.
    sed -e '/^location = \/wxfcgi\/metrics/,/^}/d' -e '/^location \/wx\/ /,/^}/d' \
        -e "s|location = /wx |location = /$1/$2 |" -e "s|fastcgi_pass wxfcgi;|fastcgi_pass $1_$2;|" \
        -e "s|fastcgi_keep_conn on;|fastcgi_keep_conn $3;|" \
        "$top/nginx/wx.conf" | grep -v '^[[:space:]]*#' | tr '\n' ' '
}
ups="" locs=""
for n in "${all_targets[@]}"; do
    ups+="upstream conn_$n { server unix:$T/conn-$n.sock; }
    upstream ka_$n { server unix:$T/ka-$n.sock; keepalive $conns; }
    "
    locs+="$(loc conn "$n" off) $(loc ka "$n" on) "
done
WX_NGINX_KEEPALIVE=$conns wx_nginx_render "$T" "$PORT" "$T/none.sock" /dev/null "$ups" "$locs"
wx_nginx_start "$T"

config plain
config safe
# Its own retry table and log: it is fed the same messages as plain.
sed -e 's/^\[wxfcgi\]$/[wxfcgi]\nmetrics_path =/' -e "s|state-plain|state-nometrics|" \
    -e "s|wxfcgi-plain.log|wxfcgi-nometrics.log|" "$T/plain.ini" > "$T/nometrics.ini"
mkdir -p "$S/state-nometrics"
# routes20: 20 routes of every match key, for [wx] and the accounts, none
# of which a benchmark message ("Hello, this is benchmark message N.")
# matches; the last falls through to the echo handler.
routes20() {
    local i
    printf '[account.a]\ntoken = atoken42\noriginal_id = gh_0123456789ab\n'
    printf '[account.b]\ntoken = btoken42\n[account.c]\ntoken = ctoken42\n'
    for i in 1 2 3 4; do
        printf '[route.kw%s]\ncontent = keyword %s\naction = text\ntext = Hi {{from}}\n' "$i" "$i"
        printf '[route.pre%s]\naccount = default a\ncontent = order %s*\naction = success\n' "$i" "$i"
        printf '[route.re%s]\ncontent = /^(track|status) [0-9]{%s}$/\naction = success\n' "$i" "$((i + 5))"
        printf '[route.click%s]\ntype = event\nevent = CLICK\nevent_key = MENU_%s*\naction = success\n' "$i" "$i"
        printf '[route.acct%s]\naccount = b c\ntype = text\naction = success\n' "$i"
    done
}
sed -e "s|state-plain|state-accounts|" -e "s|wxfcgi-plain.log|wxfcgi-accounts.log|" \
    "$T/plain.ini" > "$T/accounts.ini"
routes20 >> "$T/accounts.ini"
mkdir -p "$S/state-accounts"
"$build/wxfcgi" -t -c "$T/accounts.ini" >/dev/null
if [ -n "${t_cmd[redis]:-}" ]; then
    redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$T" --logfile "$T/redis.log" &
    echo $! > "$T/redis.pid"
    wx_wait_for "$T/redis.sock" 10
    { cat "$T/plain.ini"; printf '[state]\nstore = redis\nredis = unix:%s\n' "$T/redis.sock"; } \
        > "$T/redis.ini"
else
    echo "# no redis-server: no store = redis row"
fi
echo "# generating requests"
# More than any run can send at the rates seen here; bench.lua reports a
# wrap-around if not.  Each round replays its own slice.
per=$(( secs * 30000 ))
# A slice more than the rounds: the warm-up's.
nreq=$(( per * (rounds + 1) ))
"$build/wx-bench-core" gen "$T/plain.ini" "$nreq" > "$T/plain.reqs"
# One more than the runs use: the last is the sample below.
"$build/wx-bench-core" gen "$T/safe.ini" "$((nreq + 1))" > "$T/safe.reqs"
# A file per round (wrk's Lua reads the whole file it is given):
# MODE.reqs.ROUND.
for m in plain safe; do
    split -l "$per" -a 3 --numeric-suffixes=1 "$T/$m.reqs" "$T/$m.reqs."
done

# A real encrypted reply (from a message that is not part of the runs) is
# what the safe-mode ceiling answers.
spawn conn safe
tail -n 1 "$T/safe.reqs" > "$T/sample.req"
curl -s -o "$T/safe.reply" --data-binary "$(cut -f2 "$T/sample.req")" \
    "http://127.0.0.1:$PORT/conn/safe?$(cut -f1 "$T/sample.req")"
unspawn conn safe
grep -q '<Encrypt>' "$T/safe.reply" || { echo "bench: no safe-mode reply to copy" >&2; exit 1; }

# The node peer, when npm can fetch it.
node_port=""
if [ -n "$node_dir" ] && command -v node >/dev/null && command -v npm >/dev/null; then
    if [ -d "$node_dir/node_modules/wechat" ] ||
        { mkdir -p "$node_dir" && (cd "$node_dir" && timeout 180 npm install --no-audit --no-fund \
              --no-save wechat@2.1.0 >"$T/npm.log" 2>&1); }; then
        node_port=$(wx_free_port)
        NODE_PATH=$node_dir/node_modules node "$top/scripts/bench.js" "$node_port" benchtoken 2 \
            2>"$T/node.log" &
        NODE_PID=$!
        wx_wait_for "tcp:$node_port" 10 || { cat "$T/node.log" >&2; exit 1; }
    else
        echo "# node: npm install wechat@2.1.0 failed, the row is left out ($(tail -1 "$T/npm.log"))"
    fi
else
    echo "# node: node or npm is not installed, or WX_BENCH_NODE is empty: the row is left out"
fi

declare -A rps p50 p99 cpu mem ratios
run() { # CONFIG NAME ROUND
    local c=$1 n=$2 r=$3 out wrapped non2xx reqs t0 t1 url pids
    url=http://127.0.0.1:$PORT/$c/$n
    [ "$c" = node ] && url=http://127.0.0.1:$node_port/wx
    # shellcheck disable=SC2046
    pids=$(pool "$c" "$n" | tr '\n' ' ')
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    out=$(WX_BENCH_REQS=$T/${t_reqs[$n]}.reqs.$(printf %03d "$r") WX_BENCH_PATH=/${url#http://*/} \
          WX_BENCH_THREADS=$threads WX_BENCH_COUNT=$per \
          wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$top/scripts/bench.lua" "$url")
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    rps[$c.$n.$r]=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50[$c.$n.$r]=$(awk '$1 == "p50" { print $2 }' <<<"$out")
    p99[$c.$n.$r]=$(awk '$1 == "p99" { print $2 }' <<<"$out")
    reqs=$(awk '$1 == "requests" { print $2 }' <<<"$out")
    cpu[$c.$n.$r]=$(awk -v d=$((t1 - t0)) -v n="$reqs" -v t="$tck" 'BEGIN { printf "%.1f", d * 1e6 / t / n }')
    # shellcheck disable=SC2086
    mem[$c.$n]=$(printf '%s\n' "${mem[$c.$n]:-0}" "$(private_kib $pids)" | sort -n | tail -1)
    awk '$1 == "dist" { print $2, $3 }' <<<"$out" > "$T/dist-$c-$n.dat"
    wrapped=$(awk '$1 == "wrapped" { print $2 }' <<<"$out")
    non2xx=$(awk '$1 == "non2xx" { print $2 }' <<<"$out")
    if [ "${non2xx:-1}" != 0 ]; then
        echo "bench: $c $n: $non2xx answers were not 2xx" >&2
        exit 1
    fi
    [ "${wrapped:-0}" = 0 ] || echo "# $c $n: the request file ran out; $wrapped requests were repeats"
    printf '%-5s %-12s %8.0f req/s   p50 %7.3f ms   p99 %7.3f ms   %6s us CPU/req\n' \
        "$c" "$n" "${rps[$c.$n.$r]}" "${p50[$c.$n.$r]}" "${p99[$c.$n.$r]}" "${cpu[$c.$n.$r]}"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
med() { # KEY-PREFIX ARRAY: the median over the rounds
    local r v=""
    for r in $(seq 1 "$rounds"); do v+=" $(eval echo "\${$2[$1.$r]:-}")"; done
    echo "$v" | median
}
ratio() { awk -v a="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.3f", a / c; else printf "nan" }'; }

configs=(conn ka)
for c in "${configs[@]}"; do
    echo "# $c: ${workers[$c]} FastCGI processes per pool, nginx 1 worker, wrk $threads thread(s), $conns connections, $rounds rounds of ${secs}s"
    for n in "${targets[@]}"; do spawn "$c" "$n"; done
    # A first run of each, not counted: page faults of a fresh retry
    # table, node's JIT.
    for n in "${targets[@]}"; do run "$c" "$n" $((rounds + 1)) >/dev/null; done
    [ "$c" != ka ] || [ -z "$node_port" ] || { t_reqs[node]=plain; run node node $((rounds + 1)) >/dev/null; }
    for r in $(seq 1 "$rounds"); do
        for n in "${targets[@]}"; do run "$c" "$n" "$r"; done
        for n in "${targets[@]}"; do
            [ "${t_ceil[$n]}" = - ] && continue
            ratios[$c.$n]+=" $(ratio "${rps[$c.$n.$r]}" "${rps[$c.${t_ceil[$n]}.$r]}")"
            ratios[cpu.$c.$n]+=" $(ratio "${cpu[$c.$n.$r]}" "${cpu[$c.${t_ceil[$n]}.$r]}")"
        done
        # The peer is measured within the same rounds as the keep-alive
        # ceiling it is shown against.
        if [ "$c" = ka ] && [ -n "$node_port" ]; then
            t_reqs[node]=plain
            run node node "$r"
            ratios[node.node]+=" $(ratio "${rps[node.node.$r]}" "${rps[ka.ceiling.$r]}")"
        fi
    done
    for n in "${targets[@]}"; do unspawn "$c" "$n"; done
done

echo "# instructions of the gateway's path per message (callgrind, 2000 messages)"
declare -A insns
ipm() { # MODE
    local tot
    valgrind --tool=callgrind --toggle-collect=wx_gw_handle --callgrind-out-file=/dev/null \
        "$build/wx-bench-core" run "$T/$1.ini" 2000 2>"$T/cg-$1.log" ||
        { cat "$T/cg-$1.log" >&2; exit 1; }
    tot=$(awk '/Collected :/ { print $NF }' "$T/cg-$1.log")
    echo $(( tot / 2000 ))
}
insns[plain]=$(ipm plain)
insns[safe]=$(ipm safe)
insns[accounts]=$(ipm accounts)

verdict() { awk -v r="$1" -v t="$2" -v up="${3:-0}" 'BEGIN {
    print ((up ? r <= t : r >= t) ? "ok" : "BELOW TARGET") }'; }
met=1
row() { # CONFIG NAME
    local c=$1 n=$2 r="1.000" goal="" cr="" v
    if [ "$c" = node ]; then
        r=$(echo "${ratios[node.node]}" | median)
    elif [ "${t_ceil[$n]}" != - ]; then
        r=$(echo "${ratios[$c.$n]}" | median)
        cr=$(echo "${ratios[cpu.$c.$n]}" | median)
        if [ "${t_goal[$c.$n]}" != - ]; then
            v=$(verdict "$r" "${t_goal[$c.$n]}")
            goal=">= ${t_goal[$c.$n]} $v"
            [ "$v" = ok ] || met=0
        fi
        if [ "$c" = ka ] && [ "$n" = "$cpu_row" ]; then
            v=$(verdict "$cr" "$cpu_goal" 1)
            cr="$cr (<= $cpu_goal $v)"
            [ "$v" = ok ] || met=0
        fi
    fi
    printf '| %-4s | %-11s | %6.0f | %6.3f | %6.3f | %5s | %-16s | %6s | %-18s | %6s | %6s |\n' \
        "$c" "$n" "$(med "$c.$n" rps)" "$(med "$c.$n" p50)" "$(med "$c.$n" p99)" "$r" "$goal" \
        "$(med "$c.$n" cpu)" "$cr" "${mem[$c.$n]:-?}" "${insns[$n]:-}"
}
echo
echo "Median of $rounds rounds of ${secs} s, wrk $conns connections; conn: one connection per"
echo "request, ${workers[conn]} processes a pool; ka: keep-alive, ${workers[ka]} processes a pool;"
echo "node: wechat@2.1.0, 2 processes, no nginx (its ratio is to the keep-alive ceiling)."
echo "ratio: req/s over the same round's ceiling; CPU: the pool's CPU time per request;"
echo "memory: the largest Private_Dirty of a process; insns: callgrind, the gateway's path."
echo
echo "| conf | target      |  req/s | p50 ms | p99 ms | ratio | target           | CPU us/req | CPU vs ceiling     | priv KiB | insns/msg |"
echo "|------|-------------|-------:|-------:|-------:|------:|------------------|-----------:|--------------------|---------:|----------:|"
for c in "${configs[@]}"; do
    for n in "${targets[@]}"; do row "$c" "$n"; done
done
[ -z "$node_port" ] || row node node

# The plot: req/s as bars (a cluster per target, a bar per configuration)
# and each run's latency distribution (the last round's).
if command -v gnuplot >/dev/null; then
    {
        echo "# target conn ka direct"
        for n in "${targets[@]}"; do echo "$n $(med "conn.$n" rps) $(med "ka.$n" rps) -"; done
        [ -z "$node_port" ] || echo "node - - $(med node.node rps)"
    } > "$T/rps.dat"
    {
        echo "set terminal png size 1400,560 font ',10'"
        echo "set output '$png'"
        echo "set multiplot layout 1,2 title 'make bench, $(date -u +%Y-%m-%d), $(nproc) CPUs, wrk -c$conns'"
        echo "set datafile missing '-'"
        echo "set style data histogram; set style histogram cluster gap 1; set style fill solid 0.8 border -1"
        echo "set ylabel 'requests/s'; set yrange [0:*]; set key top right; set grid ytics"
        echo "plot '$T/rps.dat' using 2:xtic(1) title 'one connection per request', '' using 3 title 'keep-alive', '' using 4 title 'direct (node)'"
        echo "set style data linespoints; set xlabel 'percentile'; set ylabel 'latency ms'"
        echo "set logscale y; set xtics ('1' 0, '50' 1, '90' 2, '99' 3, '99.9' 4, '99.99' 5); set xrange [0:5]; set yrange [*:*]; set key top left"
        echo "map(p) = p < 50 ? p / 50.0 : p < 90 ? 1 + (p - 50) / 40.0 : p < 99 ? 2 + (p - 90) / 9.0 : p < 99.9 ? 3 + (p - 99) / 0.9 : 4 + (p - 99.9) / 0.09"
        printf 'plot '
        sep=""
        for f in "$T"/dist-*.dat; do
            name=$(basename "$f" .dat); name=${name#dist-}
            printf "%s'%s' using (map(\$1)):2 title '%s'" "$sep" "$f" "${name/-/ }"
            sep=", "
        done
        echo
        echo "unset multiplot"
    } > "$T/plot.gp"
    gnuplot "$T/plot.gp" && echo && echo "Plot: $png"
else
    echo "# gnuplot is not installed (apt-get install gnuplot-nox): no plot"
fi
[ "$met" = 1 ]
