#!/usr/bin/env bash
# redis_failover.sh BUILD - two hosts (127.0.0.11, .12; tests/e2e/redis_lib.sh)
# when Redis fails: a wrong password, an address nobody listens on and a
# server that speaks garbage are refused by wxfcgi -t with a clear message
# and crash nothing at run time; Redis stopped under load, /wx answers
# every message within 5 s with no 5xx, and once Redis is back retries
# are de-duplicated across hosts again without a restart; with a master, a
# replica and three Sentinels, the master killed under load, writes follow
# the promoted replica within 10 s and a retry on another host is still
# answered once.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-redis-failover.XXXXXX")
pass=0 fail=0
GARBAGE=""

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"
# shellcheck source=tests/e2e/redis_lib.sh
. "$top/tests/e2e/redis_lib.sh"

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $GARBAGE
    fleet_stop
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

for p in redis-server redis-sentinel; do
    if ! command -v "$p" >/dev/null; then
        nok "$p is installed (scripts/deps.sh test installs it)"
        echo "redis_failover: $pass passed, $fail failed"
        exit 1
    fi
done

# garbage_start PORT: a server on 127.0.0.1:PORT that answers anything
# with text that is no Redis reply.
garbage_start() {
    python3 - "$1" <<'PY' 2>>"$T/garbage.err" &
import signal, socketserver, sys

class H(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(4096):
            self.request.sendall(b"HTTP/1.0 200 OK\r\n\r\n<html>not redis</html>\r\n")

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    GARBAGE=$!
    fleet_wait_tcp 127.0.0.1 "$1" 10
}

# load SECS OUT: until SECS have passed, fresh messages to h1 and h2 in
# turn; a line "STATUS MS" each in OUT.
load() {
    local end=$(( $(date +%s) + $1 )) h=1 f s0 st
    while [ "$(date +%s)" -lt "$end" ]; do
        f=$(fresh)
        s0=$(date +%s%N)
        st=$(deliver "$h" "$f" /dev/null)
        echo "$st $(( ($(date +%s%N) - s0) / 1000000 ))" >> "$2"
        h=$((3 - h))
    done
}

# retry_once LABEL: a message on h1, its retries on h2 and h1: the
# business service called once, three identical replies.
retry_once() {
    local f c0 st
    f=$(fresh)
    c0=$(calls fast)
    st="$(deliver 1 "$f" "$T/once.1")$(deliver 2 "$f" "$T/once.2")$(deliver 1 "$f" "$T/once.3")"
    check "$1: a message on A, its retries on B and A: all 200" 200200200 "$st"
    check "$1: ... the business service called once, three identical replies" "1 1" \
        "$(( $(calls fast) - c0 )) $(same "$T"/once.?)"
}

RPORT=$(wx_free_port)
printf '%s\n' "$SECRET" > "$T/secret"
printf '%s\n' "$PASS" > "$T/redis-password"
chmod 600 "$T/redis-password"
direct() { # PORT [PASSWORD_LINE]
    echo "store = redis
redis = redis://127.0.0.1:$1/0
${2:-redis_password_file = $T/redis-password}
key_prefix = fo:
timeout_ms = 1000"
}

echo "# Redis, WeChat, a counting business service (run dir $T)"
redis_run r "$RPORT" || { nok "redis-server starts"; exit 1; }
sim_start || { nok "wxsim starts"; exit 1; }
biz_start fast || { nok "the business service starts"; exit 1; }

echo "# wxfcgi -t: a clear message for a store it cannot use"
GPORT=$(wx_free_port)
garbage_start "$GPORT" || { nok "the garbage server starts"; exit 1; }
NOPORT=$(wx_free_port)
host_config 1 "$(direct "$RPORT" "redis_password = not-the-password-9d1")"
err=$("$build/wxfcgi" -t -c "$T/h1/wx.ini" 2>&1); rc=$?
check "a wrong password: exits 1" 1 "$rc"
check_match "... saying that AUTH failed, naming the server" "*127.0.0.1:$RPORT*AUTH*" "$err"
case "$err" in *not-the-password*) nok "... without the password" "$err" ;; *) ok "... without the password" ;; esac
host_config 1 "$(direct "$NOPORT")"
err=$("$build/wxfcgi" -t -c "$T/h1/wx.ini" 2>&1); rc=$?
check "an address nobody listens on: exits 1" 1 "$rc"
check_match "... naming it and saying why" "*127.0.0.1:$NOPORT*refused*" "$err"
host_config 1 "$(direct "$GPORT")"
err=$("$build/wxfcgi" -t -c "$T/h1/wx.ini" 2>&1); rc=$?
check "a server that answers garbage: exits 1" 1 "$rc"
check_match "... naming it and asking whether it is Redis" "*127.0.0.1:$GPORT*Redis server?*" "$err"
wx_stop_pids "$GARBAGE"
GARBAGE=""

echo "# two hosts"
for n in 1 2; do host_config "$n" "$(direct "$RPORT")"; done
host_start 1 && host_start 2 || { nok "two hosts start"; exit 1; }
retry_once "Redis up"

echo "# a server that answers garbage in Redis's place: no crash"
wx_stop_pids "$REDIS_r"
garbage_start "$RPORT" || { nok "the garbage server starts on Redis's port"; exit 1; }
st=""
for h in 1 2 1 2; do st="$st$(deliver "$h" "$(fresh)" /dev/null)"; done
check "4 messages: all 200" 200200200200 "$st"
check "... both programs of both hosts still run" "2 2" "$(host_alive 1) $(host_alive 2)"
grep -q 'garbage in a reply\|Protocol error' "$T"/h?/wxfcgi.log && ok "... and the log says why" ||
    nok "... and the log says why" "$(tail -3 "$T/h1/wxfcgi.log")"
mx() { # N SAMPLE: one sample of host hN's wxfcgi metrics (or "none")
    "$build/wxctl" -c "$T/h$1/wx.ini" metrics |
        awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }'
}
for n in 1 2; do
    e=$(mx "$n" 'wxfcgi_redis_errors_total{kind="protocol"}')
    [ "$e" -ge 1 ] 2>/dev/null && ok "host $n: the garbage counted as protocol errors ($e)" ||
        nok "host $n: the garbage counted as protocol errors" "$e"
    check "host $n: ... and its 2 messages as fall-backs" 2 "$(mx "$n" wxfcgi_redis_fallbacks_total)"
done
wx_stop_pids "$GARBAGE"
GARBAGE=""

redis_run r "$RPORT" || { nok "redis-server starts again"; exit 1; }
sleep 2.5   # past the store's reconnect backoff (at most 2 s)
retry_once "Redis back after the garbage"

echo "# Redis stopped under load"
o1=$(wc -l < "$T/h1/wxfcgi.log") o2=$(wc -l < "$T/h2/wxfcgi.log")
since() { tail -n "+$((o1 + 1))" "$T/h1/wxfcgi.log"; tail -n "+$((o2 + 1))" "$T/h2/wxfcgi.log"; }
: > "$T/load.1"; : > "$T/load.2"
load 8 "$T/load.1" & l1=$!
load 8 "$T/load.2" & l2=$!
sleep 2
wx_stop_pids "$REDIS_r"
wait "$l1" "$l2"
n=$(cat "$T"/load.? | wc -l)
echo "# $n messages in 8 s, Redis stopped after 2 s; slowest $(sort -k2 -n "$T"/load.? | tail -1 | cut -d' ' -f2) ms"
check "every message answered 200 (no 5xx)" "$n" "$(cat "$T"/load.? | grep -c '^200 ')"
check "... each within 5 s" 0 "$(awk '$2 > 5000' "$T"/load.? | wc -l)"
f=$(fresh)
c0=$(calls fast)
st="$(deliver 1 "$f" "$T/down.1")$(deliver 1 "$f" "$T/down.2")"
check "Redis down: a retry on the same host is still answered once" "200200 1 1" \
    "$st $(( $(calls fast) - c0 )) $(same "$T"/down.?)"
check "the fall-back to the host's own table is logged once on each host (2 workers each)" "1 1" \
    "$(tail -n "+$((o1 + 1))" "$T/h1/wxfcgi.log" | grep -c 'de-duplicated on this host alone until') $(
       tail -n "+$((o2 + 1))" "$T/h2/wxfcgi.log" | grep -c 'de-duplicated on this host alone until')"

echo "# Redis back: de-duplication across hosts again, without a restart"
redis_run r "$RPORT" || { nok "redis-server starts again"; exit 1; }
sleep 2.5   # past the store's reconnect backoff (at most 2 s)
retry_once "Redis back"
check "... the return logged once on each host, with the count of messages meanwhile" "1 1" \
    "$(tail -n "+$((o1 + 1))" "$T/h1/wxfcgi.log" | grep -c 'answers again; [0-9]* message(s) were de-duplicated on this host alone') $(
       tail -n "+$((o2 + 1))" "$T/h2/wxfcgi.log" | grep -c 'answers again; [0-9]* message(s) were de-duplicated on this host alone')"

echo "# Sentinel: a master, a replica, three Sentinels; the master killed under load"
host_stop 1; host_stop 2
wx_stop_pids "$REDIS_r"
MPORT=$(wx_free_port) RRPORT=$(wx_free_port)
redis_run m "$MPORT" || { nok "the master starts"; exit 1; }
redis_run s "$RRPORT" --replicaof 127.0.0.1 "$MPORT" || { nok "the replica starts"; exit 1; }
SENTINELS=""
for i in 1 2 3; do
    p=$(wx_free_port)
    mkdir -p "$T/sentinel$i"
    cat > "$T/sentinel$i/sentinel.conf" <<CONF
bind 127.0.0.1
port $p
dir $T/sentinel$i
logfile $T/sentinel$i/sentinel.log
sentinel monitor wxm 127.0.0.1 $MPORT 2
sentinel auth-pass wxm $PASS
sentinel down-after-milliseconds wxm 1000
sentinel failover-timeout wxm 5000
CONF
    redis-sentinel "$T/sentinel$i/sentinel.conf" &
    FLEET_PIDS="$FLEET_PIDS $!"
    SENTINELS="$SENTINELS 127.0.0.1:$p"
    fleet_wait_tcp 127.0.0.1 "$p" 10
done
s1=${SENTINELS# }; s1=${s1%% *}; s1=${s1#*:}
for i in $(seq 1 100); do
    [ "$(redis-cli -p "$s1" SENTINEL replicas wxm | grep -c "^127.0.0.1:$RRPORT$")" = 1 ] &&
    [ "$(redis-cli -p "$s1" SENTINEL sentinels wxm | grep -c '^name$')" = 2 ] && break
    sleep 0.2
done
check "the Sentinels know the replica and each other" 1 \
    "$(redis-cli -p "$s1" SENTINEL replicas wxm | grep -c "^127.0.0.1:$RRPORT$")"
for n in 1 2; do host_config "$n" "store = redis
sentinels =$SENTINELS
sentinel_master = wxm
redis_password_file = $T/redis-password
key_prefix = fo:
timeout_ms = 1000"; done
host_start 1 && host_start 2 || { nok "two hosts start on Sentinel"; exit 1; }
retry_once "through Sentinel"
: > "$T/load.1"; : > "$T/load.2"
load 14 "$T/load.1" & l1=$!
load 14 "$T/load.2" & l2=$!
sleep 1
kill -KILL "$REDIS_m"
t0=$(date +%s%N)
wx_stop_pids "$REDIS_m"
k0=$(rcli "$RRPORT" DBSIZE)
followed=""
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 20000 ]; do
    if [ "$(rcli "$RRPORT" ROLE | head -1)" = master ] && [ "$(rcli "$RRPORT" DBSIZE)" -gt "$k0" ]; then
        followed=$(( ($(date +%s%N) - t0) / 1000000 ))
        break
    fi
    sleep 0.1
done
echo "# the master killed: writes on the promoted replica after ${followed:-(never)} ms"
check_le "writes follow the promoted replica within 10 s (ms)" 10000 "${followed:-99999}"
wait "$l1" "$l2"
n=$(cat "$T"/load.? | wc -l)
check "under the load, every message answered 200 (no 5xx)" "$n" "$(cat "$T"/load.? | grep -c '^200 ')"
check "... each within 5 s" 0 "$(awk '$2 > 5000' "$T"/load.? | wc -l)"
retry_once "after the failover"

grep -qF "$PASS" "$T"/h?/*.log "$T"/h?/*.err && nok "no Redis password in any log" ||
    ok "no Redis password in any log"

echo "redis_failover: $pass passed, $fail failed"
[ "$fail" = 0 ]
