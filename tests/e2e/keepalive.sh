#!/usr/bin/env bash
# keepalive.sh BUILD - FastCGI keep-alive through the real path: nginx with
# nginx/wx.conf (fastcgi_keep_conn on) and an upstream "keepalive N", in
# front of wxfcgi under its own master and under spawn-fcgi.
#
# The pool is smaller than what nginx keeps: 3 workers, 4 nginx workers
# each keeping up to 32 idle connections, 64 clients.  A worker that sat
# on an idle kept connection would leave new connections waiting until
# nginx's keepalive_timeout; the worker loop gives the kept connection up
# as soon as a new one waits, so every request is answered at once.
#
# What nginx does when a worker dies holding a kept connection (from its
# source, ngx_http_upstream_next, and checked here): an idle kept
# connection that ends is dropped from nginx's cache when nginx sees its
# end, and the next request takes a new connection.  A request nginx has
# already sent on it fails with a reset or an early end; as the connection
# was a kept one, nginx sends the request again on a new connection
# (wx.conf's "fastcgi_next_upstream error non_idempotent"; with the one
# server of the upstream, no other failure is retried).
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-e2e.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=e2etoken42
PORT=$(wx_free_port)
MASTER=""
STOPPED=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    [ -z "$STOPPED" ] || kill -CONT $STOPPED 2>/dev/null
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER
    "$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null 2>&1
    wx_nginx_stop "$T"
    wait 2>/dev/null
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
mode = plain
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 3
state_dir = $T/state
log = $T/wxfcgi.log
log_level = info
[echo]
CONF

# load N CONCURRENCY: N signed text messages (each its own MsgId) from
# CONCURRENCY clients, each on its own HTTP keep-alive connection.  Prints
# "answered SLOWEST_MS" (answered: a 200 with the echoed text).
load() {
    python3 - "$PORT" "$TOKEN" "$1" "$2" <<'PY'
import hashlib, http.client, random, sys, threading, time
port, token, total, conc = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = ("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        "<FromUserName><![CDATA[oUserOpenId0123456789abcdef]]></FromUserName>"
        "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[keepalive %d]]></Content><MsgId>%d</MsgId></xml>")
base = random.randrange(1 << 40)
lock, nxt, good, slowest = threading.Lock(), [0], [0], [0.0]

def client():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        with lock:
            i = nxt[0]
            nxt[0] += 1
        if i >= total:
            break
        ts, nonce = str(int(time.time())), str(random.randrange(1 << 30))
        sig = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
        t0 = time.monotonic()
        try:
            conn.request("POST", "/wx?signature=%s&timestamp=%s&nonce=%s" % (sig, ts, nonce),
                         body % (int(ts), i, base + i), {"Content-Type": "text/xml"})
            r = conn.getresponse()
            ok = r.status == 200 and (b"keepalive %d]" % i) in r.read()
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        dt = time.monotonic() - t0
        with lock:
            good[0] += ok
            slowest[0] = max(slowest[0], dt)
    conn.close()

ts = [threading.Thread(target=client) for _ in range(conc)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(good[0], int(slowest[0] * 1000))
PY
}

# msg [FILE]: POST one fresh text message; prints "STATUS SECONDS", the
# reply in $T/body.
seq=0
msg() {
    local ts n
    seq=$((seq + 1))
    ts=$(date +%s) n=$RANDOM$RANDOM
    sed -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>$ts$seq$RANDOM</MsgId>:" \
        -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$ts</CreateTime>:" \
        "$top/tests/fixtures/msg/text.xml" > "$T/msg.xml"
    curl -s -o "${1:-$T/body}" -w '%{http_code} %{time_total}' --max-time 10 \
        --data-binary "@$T/msg.xml" -H 'Content-Type: text/xml' \
        "http://127.0.0.1:$PORT/wx?signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n"
}

# answered NAME: one message gets its echo, within a second.
answered() {
    local out
    out=$(msg)
    if [ "${out% *}" = 200 ] && grep -q 'this is a test' "$T/body" &&
        awk -v t="${out#* }" 'BEGIN { exit !(t < 1) }'; then ok "$1"
    else nok "$1" "status and seconds: $out"; fi
}

# nginx_up WORKERS: (re)start nginx with WORKERS workers, each keeping up
# to 32 idle connections.  With one worker a curl's request goes to the
# one cache of kept connections, which the kill tests rely on.
nginx_up() {
    wx_nginx_stop "$T"
    WX_NGINX_WORKERS=$1 WX_NGINX_KEEPALIVE=32 wx_nginx_render "$T" "$PORT" "$SOCK" "$T/access.log"
    wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }
    wx_wait_for "tcp:$PORT" 10 >/dev/null
}

# The server ends of the connections to the socket: "inode pid" a line.
kept() {
    ss -xpnH state established 2>/dev/null | awk -v s="$SOCK" '$4 == s {
        pid = "-"; if (match($0, /pid=[0-9]+/)) pid = substr($0, RSTART + 4, RLENGTH - 4)
        print $5, pid }'
}

# sent INODE: wait (5 s at most) until a request is queued, unread, on
# the kept connection INODE.
sent() {
    for _ in $(seq 1 100); do
        ss -xnH state established 2>/dev/null |
            awk -v s="$SOCK" -v i="$1" '$4 == s && $5 == i && $2 > 0 { f = 1 } END { exit !f }' &&
            return 0
        sleep 0.05
    done
    return 1
}

# load_check LABEL: 500 messages from 64 clients, all answered within 1 s.
load_check() {
    local out
    out=$(load 500 64)
    echo "# $1: $out (answered, slowest ms)"
    check "$1: 500 messages from 64 clients all answered" 500 "${out% *}"
    check_le "$1: none slower than 1 s (ms)" 999 "${out#* }"
}

# kill_idle LABEL: SIGKILL the worker that holds the one kept connection.
kill_idle() {
    local k pid
    nginx_up 1    # one cache of kept connections, empty
    answered "$1: a message before"
    k=$(kept)
    check "$1: one kept connection after a request" 1 "$(grep -c . <<<"$k")"
    pid=$(awk 'NR == 1 { print $2 }' <<<"$k")
    answered "$1: the next message"
    check "$1: the next message came on the same connection" "$k" "$(kept)"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
    answered "$1: a worker killed holding an idle kept connection: the next message is answered"
}

# kill_busy LABEL: a message nginx has sent on a kept connection whose
# worker is stopped, then killed: nginx sends it again on a new connection.
kill_busy() {
    local k pid out retries
    nginx_up 1    # one cache of kept connections, empty
    answered "$1: a message before"
    k=$(kept)
    pid=$(awk 'NR == 1 { print $2 }' <<<"$k")
    retries=$(grep -c 'while reading response header from upstream' "$T/nginx-error.log")
    kill -STOP "$pid"; STOPPED=$pid
    msg "$T/busy.body" > "$T/busy.out" &
    sent "${k%% *}" || nok "$1: nginx sends the message on the kept connection"
    kill -KILL "$pid"; STOPPED=""
    wait $!
    out=$(cat "$T/busy.out")
    if [ "${out% *}" = 200 ] && grep -q 'this is a test' "$T/busy.body"; then
        ok "$1: a message sent on the kept connection of a worker that dies is answered"
    else nok "$1: a message sent on the kept connection of a worker that dies is answered" "$out"; fi
    check "$1: nginx retried it after the failure on the kept connection" 1 \
        "$(( $(grep -c 'while reading response header from upstream' "$T/nginx-error.log") - retries ))"
}

# term_inflight LABEL SIGNAL PID...: a message sent on the kept connection
# of a stopped worker; SIGNAL to PIDs; the worker continues and answers it
# itself before it leaves.
term_inflight() {
    local label=$1 sig=$2 k pid out before
    shift 2
    nginx_up 1    # one cache of kept connections, empty
    answered "$label: a message before"
    k=$(kept)
    pid=$(awk 'NR == 1 { print $2 }' <<<"$k")
    before=$(grep -c "wxfcgi\[$pid\] info: POST type=text.*status=200" "$T/wxfcgi.log")
    kill -STOP "$pid"; STOPPED=$pid
    msg "$T/busy.body" > "$T/busy.out" &
    sent "${k%% *}" || nok "$label: nginx sends the message on the kept connection"
    kill "-$sig" "$@"
    sleep 0.3
    kill -CONT "$pid"; STOPPED=""
    wait $!
    out=$(cat "$T/busy.out")
    check "$label: the message in flight on a kept connection is answered" 200 "${out% *}"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then nok "$label: the worker leaves at once"; else ok "$label: the worker leaves at once"; fi
    check "$label: the worker it was sent to answered it before it left" 1 \
        "$(( $(grep -c "wxfcgi\[$pid\] info: POST type=text.*status=200" "$T/wxfcgi.log") - before ))"
}

# all_answered LABEL: no request got an error from nginx (the access log
# has only 200s); the retries nginx made on kept connections are counted.
all_answered() {
    check "$1: nginx answered every request 200" 0 "$(awk '$9 != 200' "$T/access.log" | wc -l)"
    echo "# $1: $(grep -c 'from upstream' "$T/nginx-error.log") failures on kept connections, retried"
}

echo "# keep-alive end-to-end tests (nginx on 127.0.0.1:$PORT, run dir $T)"

# ------------------------------------------------------ built-in master --
echo "# under the master: 3 workers; 4 nginx workers keeping up to 32 connections each"
"$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$SOCK" 10 || { nok "master starts"; exit 1; }
nginx_up 4
load_check master
nginx_up 1
kill_idle master
kill_busy master
load_check "master, one nginx worker"
all_answered master

echo "# HUP: a new generation; the old one answers what it was sent and closes"
term_inflight "HUP" HUP "$MASTER"
answered "HUP: the new generation answers"
sleep 1
old=$(kept | while read -r _ p; do [ "$(ps -o ppid= "$p" | tr -d ' ')" = "$MASTER" ] || echo "$p"; done)
check "HUP: no kept connection is left with an old worker" "" "$old"
load_check "after HUP"

echo "# TERM with kept connections open"
term_inflight "TERM" TERM "$MASTER"
for _ in $(seq 1 100); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$MASTER" 2>/dev/null; then nok "TERM: the master and its workers leave"
else ok "TERM: the master and its workers leave"; fi
wait "$MASTER" 2>/dev/null
MASTER=""
check "TERM: no connection is left open" "" "$(kept)"
all_answered "master, HUP and TERM"

# ------------------------------------------------------------ spawn-fcgi --
echo "# under spawn-fcgi (the listening socket is fd 0)"
"$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 3 -m 0666 -p "$T/spawn.pid" \
    -b "$build/wxfcgi" >/dev/null 2>&1
check "spawn-fcgi: 3 workers" 3 "$(grep -cE '^[0-9]+$' "$T/spawn.pid")"
nginx_up 4
load_check spawn-fcgi
nginx_up 1
answered "spawn-fcgi: a message before HUP"
k=$(kept)
pids=$(grep -E '^[0-9]+$' "$T/spawn.pid" | tr '\n' ' ')
# shellcheck disable=SC2086
kill -HUP $pids
sleep 0.5
answered "spawn-fcgi: a message after HUP"
check "spawn-fcgi: the kept connection outlives a reload in place" "$k" "$(kept | grep -F "${k%% *}")"
kill_busy spawn-fcgi
kill_idle spawn-fcgi
pids=$(grep -E '^[0-9]+$' "$T/spawn.pid" | while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done | tr '\n' ' ')
# shellcheck disable=SC2086
term_inflight "spawn-fcgi TERM" TERM $pids
for p in $pids; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
done
left=0
for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "spawn-fcgi TERM: every worker leaves" 0 "$left"
check "spawn-fcgi TERM: no connection is left open" "" "$(kept)"
all_answered "master and spawn-fcgi"

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
