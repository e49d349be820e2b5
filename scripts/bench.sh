#!/usr/bin/env bash
# bench.sh BUILD - the benchmark of make bench.
#
# One nginx on a free loopback port serves FastCGI applications, each run
# by spawn-fcgi with the same number of processes:
#   /ceiling      wx-ceiling: reads the body and answers a fixed reply (the
#                 most any FastCGI application can do on this machine)
#   /wx           wxfcgi with the echo handler, plain mode
#   /ceilingsafe  wx-ceiling answering a real safe-mode envelope
#   /wxsafe       wxfcgi, safe mode
# wrk sends pre-signed text messages, every one with its own MsgId; each
# ceiling gets the same requests as the wxfcgi run it is compared with
# (plaintext, or encrypted) and answers as many bytes, so that the ratio
# is the cost of wxfcgi's own work, not of bigger messages.  Then callgrind
# counts the instructions of the gateway's own path (verify + parse +
# handler + reply, and AES in safe mode) per message.
#
# Environment: WX_BENCH_SECS (default 2) seconds per run, WX_BENCH_ROUNDS
# (default 9) rounds,
# WX_BENCH_CONNS (default 32) connections, WX_BENCH_WORKERS (default: the
# number of CPUs) FastCGI processes, WX_BENCH_THREADS (default 1) wrk
# threads; WX_BENCH_WXFCGI [wxfcgi] lines replacing the default
# "log_level = info" (a line per request) and "log_buffer = 32k".
# Exit status 0 when both modes reach their target ratio
# (plain 0.90, safe 0.85), 1 otherwise.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

secs=${WX_BENCH_SECS:-2}
rounds=${WX_BENCH_ROUNDS:-9}
conns=${WX_BENCH_CONNS:-32}
workers=${WX_BENCH_WORKERS:-$(nproc)}
threads=${WX_BENCH_THREADS:-1}
T=$(mktemp -d /tmp/wx-bench.XXXXXX)
# The retry table belongs on a tmpfs, as /run is on most systems: on a disk
# filesystem the kernel would write its pages back.
S=$(mktemp -d /dev/shm/wx-bench.XXXXXX 2>/dev/null || echo "$T")
PORT=$(wx_free_port)

cleanup() {
    for s in wx safe ceiling ceilingsafe redis; do
        [ -f "$T/$s.pid" ] || continue
        for p in $(grep -E '^[0-9]+$' "$T/$s.pid"); do kill -TERM "$p" 2>/dev/null || true; done
    done
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
state_dir = $S/state-$1
log = $T/wxfcgi-$1.log
${WX_BENCH_WXFCGI:-log_level = info
log_buffer = 32k}
[echo]
CONF
}

spawn() { # NAME BINARY [ARGS...]
    local name=$1
    shift
    rm -f "$T/$name.sock"
    spawn-fcgi -s "$T/$name.sock" -M 0600 -F "$workers" -P "$T/$name.pid" -- "$@" >/dev/null
    wx_wait_for "$T/$name.sock" 10
}

unspawn() { # NAME
    local p
    for p in $(grep -E '^[0-9]+$' "$T/$1.pid"); do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    rm -f "$T/$1.pid"
}

# The ceiling's location is wx.conf's, pointed at the other upstream, so
# that nginx does the same work for both.
loc() { # NAME
    sed -e "s|location = /wx |location = /$1 |" -e "s|fastcgi_pass wxfcgi;|fastcgi_pass $1;|" \
        "$top/nginx/wx.conf" | grep -v '^[[:space:]]*#' | tr '\n' ' '
}
wx_nginx_render "$T" "$PORT" "$T/wx.sock" /dev/null \
    "upstream ceiling { server unix:$T/ceiling.sock; } upstream wxsafe { server unix:$T/safe.sock; }
     upstream ceilingsafe { server unix:$T/ceilingsafe.sock; }" \
    "$(loc ceiling) $(loc wxsafe) $(loc ceilingsafe)"
wx_nginx_start "$T"

config plain
config safe
mkdir -p "$S/state-plain" "$S/state-safe"
echo "# generating requests"
# More than any run can send at the rates seen here; bench.lua reports
# a wrap-around if not.
# Each round replays its own slice of the file.
per=$(( secs * 22000 ))
nreq=$(( per * rounds ))
"$build/wx-bench-core" gen "$T/plain.ini" "$nreq" > "$T/plain.reqs"
# One more than the runs use: the last is the sample below.
"$build/wx-bench-core" gen "$T/safe.ini" "$((nreq + 1))" > "$T/safe.reqs"

# One pool per application, all behind the one nginx: /ceiling, /wx
# (plain mode) and /wxsafe (safe mode).  Idle pools cost nothing.
spawn ceiling "$build/wx-ceiling"
spawn wx "$build/wxfcgi" -c "$T/plain.ini"
spawn safe "$build/wxfcgi" -c "$T/safe.ini"
# A real encrypted reply (from a message that is not part of the runs) is
# what the safe-mode ceiling answers.
tail -n 1 "$T/safe.reqs" > "$T/sample.req"
curl -s -o "$T/safe.reply" --data-binary "$(cut -f2 "$T/sample.req")" \
    "http://127.0.0.1:$PORT/wxsafe?$(cut -f1 "$T/sample.req")"
grep -q '<Encrypt>' "$T/safe.reply" || { echo "bench: no safe-mode reply to copy" >&2; exit 1; }
spawn ceilingsafe "$build/wx-ceiling" "$T/safe.reply"

declare -A rps p50 p99 ratios
run() { # LABEL PATH REQS ROUND
    local out wrapped non2xx
    out=$(WX_BENCH_REQS=$3 WX_BENCH_PATH=$2 WX_BENCH_THREADS=$threads WX_BENCH_FROM=$(( ($4 - 1) * per )) WX_BENCH_COUNT=$per \
          wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$top/scripts/bench.lua" \
              "http://127.0.0.1:$PORT$2")
    rps[$1]=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50[$1]=$(awk '$1 == "p50" { print $2 }' <<<"$out")
    p99[$1]=$(awk '$1 == "p99" { print $2 }' <<<"$out")
    wrapped=$(awk '$1 == "wrapped" { print $2 }' <<<"$out")
    non2xx=$(awk '$1 == "non2xx" { print $2 }' <<<"$out")
    if [ "${non2xx:-1}" != 0 ]; then
        echo "bench: $1: $non2xx answers were not 2xx" >&2
        exit 1
    fi
    [ "${wrapped:-0}" = 0 ] || echo "# $1: the request file ran out; $wrapped requests were repeats"
    printf '%-10s %8.0f req/s   p50 %7.3f ms   p99 %7.3f ms\n' "$1" "${rps[$1]}" "${p50[$1]}" "${p99[$1]}"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# store = redis: the plain run again, with the retry table in a local
# redis-server on a unix socket, against the same ceiling in rounds of its
# own; then the Redis commands a message costs (a first delivery, and a
# retry of it), counted by the server.  Served on /wx once the local-store
# pool has gone.  Skipped, with a note, without redis-server.
bench_redis() {
    local r n0 n1 first retry line
    command -v redis-server >/dev/null || { echo "# no redis-server: no store = redis row"; return 0; }
    redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$T" --logfile "$T/redis.log" &
    echo $! > "$T/redis.pid"
    wx_wait_for "$T/redis.sock" 10
    { cat "$T/plain.ini"; printf '[state]\nstore = redis\nredis = unix:%s\n' "$T/redis.sock"; } \
        > "$T/redis.ini"
    spawn wx "$build/wxfcgi" -c "$T/redis.ini"
    for r in $(seq 1 "$rounds"); do
        run "ceilingr$r" /ceiling "$T/plain.reqs" "$r"
        run "redis$r" /wx "$T/plain.reqs" "$r"
        ratios[redis]+=" $(awk -v a="${rps[redis$r]}" -v c="${rps[ceilingr$r]}" 'BEGIN { print a / c }')"
    done
    # 200 messages not sent yet (the sample's neighbours), then their retries.
    tail -n 201 "$T/plain.reqs" | head -n 200 > "$T/cmds.reqs"
    # Round trips: the commands the clients sent (a script's own calls
    # inside Redis are counted apart by the server, not sent).
    count() {
        redis-cli -s "$T/redis.sock" INFO commandstats |
            awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" && $1 !~ /^cmdstat_(time|get|set|hmget|hset|pexpire|del)$/ { n += $3 }
                           END { print n + 0 }'
    }
    for pass in first retry; do
        n0=$(count)
        while IFS=$'\t' read -r q line; do
            curl -s -o /dev/null --data-binary "$line" "http://127.0.0.1:$PORT/wx?$q"
        done < "$T/cmds.reqs"
        n1=$(count)
        eval "$pass=$(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%.2f", (b - a) / 200 }')"
    done
    unspawn wx
    kill -TERM "$(cat "$T/redis.pid")" 2>/dev/null || true
    r_redis=$(printf '%.3f' "$(echo "${ratios[redis]}" | median)")
    c_redis="$first a first delivery, $retry a retry (EVALSHA)"
}

# The machine is shared and noisy: the three are measured in turn, round
# after round, and each round's ratio compares runs seconds apart.  The
# median over the rounds is the result.
echo "# $workers FastCGI processes each, nginx 1 worker, wrk $threads thread(s), $conns connections"
echo "# $rounds rounds of ${secs}s runs"
for r in $(seq 1 "$rounds"); do
    run "ceiling$r" /ceiling "$T/plain.reqs" "$r"
    run "plain$r" /wx "$T/plain.reqs" "$r"
    run "ceilingsafe$r" /ceilingsafe "$T/safe.reqs" "$r"
    run "safe$r" /wxsafe "$T/safe.reqs" "$r"
    ratios[plain]+=" $(awk -v a="${rps[plain$r]}" -v c="${rps[ceiling$r]}" 'BEGIN { print a / c }')"
    ratios[safe]+=" $(awk -v a="${rps[safe$r]}" -v c="${rps[ceilingsafe$r]}" 'BEGIN { print a / c }')"
done
hwm=$(for p in $(grep -hE '^[0-9]+$' "$T/wx.pid" "$T/safe.pid"); do
          awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null
      done | sort -n | tail -1)
unspawn wx
r_redis="" c_redis=""
bench_redis
unspawn safe
unspawn ceiling
unspawn ceilingsafe

med() { # LABEL-PREFIX ARRAY
    local r v=""
    for r in $(seq 1 "$rounds"); do v+=" $(eval echo "\${$2[$1$r]}")"; done
    echo "$v" | median
}
r_plain=$(printf '%.3f' "$(echo "${ratios[plain]}" | median)")
r_safe=$(printf '%.3f' "$(echo "${ratios[safe]}" | median)")

echo "# instructions of the gateway's path per message (callgrind, 2000 messages)"
ipm() { # MODE
    local tot
    valgrind --tool=callgrind --toggle-collect=wx_gw_handle --callgrind-out-file=/dev/null \
        "$build/wx-bench-core" run "$T/$1.ini" 2000 2>"$T/cg-$1.log" ||
        { cat "$T/cg-$1.log" >&2; exit 1; }
    tot=$(awk '/Collected :/ { print $NF }' "$T/cg-$1.log")
    echo $(( tot / 2000 ))
}
i_plain=$(ipm plain)
i_safe=$(ipm safe)

verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "ok" : "BELOW TARGET") }'; }
row() { # LABEL RATIO TARGET INSNS
    printf '| %-7s | %6.0f | %6.3f | %6.3f | %s | %s | %s |\n' "$1" "$(med "$1" rps)" \
        "$(med "$1" p50)" "$(med "$1" p99)" "$2" "$3" "$4"
}
echo
echo "Median of $rounds rounds; the ratio is each round's req/s over the same round's ceiling"
echo "(ceilingsafe: the ceiling fed the encrypted requests and answering an encrypted reply)."
echo
echo "| run     |  req/s | p50 ms | p99 ms | ratio to ceiling | target | instructions/msg |"
echo "|---------|-------:|-------:|-------:|-----------------:|-------:|-----------------:|"
row ceiling 1.000 "" ""
row plain "$r_plain" "0.90 $(verdict "$r_plain" 0.90)" "$i_plain"
row ceilingsafe 1.000 "" ""
row safe "$r_safe" "0.85 $(verdict "$r_safe" 0.85)" "$i_safe"
[ -z "$r_redis" ] || row redis "$r_redis (x$(awk -v a="$r_redis" -v b="$r_plain" 'BEGIN { printf "%.2f", a / b }') plain)" \
    "0.85 x plain $(verdict "$(awk -v a="$r_redis" -v b="$r_plain" 'BEGIN { print a / b }')" 0.85)" \
    "Redis commands/msg: $c_redis"
echo
echo "Peak RSS of a wxfcgi worker: ${hwm:-?} KiB"
[ "$(verdict "$r_plain" 0.90)" = ok ] && [ "$(verdict "$r_safe" 0.85)" = ok ]
