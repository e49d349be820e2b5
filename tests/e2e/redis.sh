#!/usr/bin/env bash
# redis.sh BUILD - [state] store = redis through the real path: one real
# redis-server on a unix socket, and two "hosts", each its own nginx (on
# its own port), its own wxfcgi master and its own state_dir, sharing
# nothing but Redis.  A message and its retries, spread over both hosts,
# run the handler once and get one reply, byte for byte; with Redis
# stopped /wx still answers; a wrong password or address is refused at
# start with a clear message; a Redis that times out, refuses the password
# or turns read-only is each counted under its kind while /wx answers.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-redis.XXXXXX")
TOKEN=redistoken42
OPENID=oUserOpenId0123456789abcdef
PASS=e2e-redis-secret-7f3a
REDIS_PID=""
MASTERS=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTERS $REDIS_PID
    wx_nginx_stop "$T/a"
    wx_nginx_stop "$T/b"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
if [ ! -x "$REDIS_SERVER" ]; then
    nok "redis-server is installed (scripts/deps.sh test installs it)"
    echo "redis: $pass passed, $fail failed"
    exit 1
fi

redis_start() {
    "$REDIS_SERVER" --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
        --save '' --appendonly no --requirepass "$PASS" --dir "$T" \
        --logfile "$T/redis.log" &
    REDIS_PID=$!
    wx_wait_for "$T/redis.sock" 10 || { nok "redis-server starts"; cat "$T/redis.log"; exit 1; }
}
redis_stop() {
    wx_stop_pids $REDIS_PID
    REDIS_PID=""
}

# host_config NAME [STATE_EXTRA]: the config of host NAME (a or b).
host_config() {
    mkdir -p "$T/$1"
    cat > "$T/$1/wx.ini" <<CONF
[wx]
token = $TOKEN
[wxfcgi]
listen = unix:$T/$1/wxfcgi.sock
socket_mode = 0666
workers = 2
state_dir = $T/$1/state
reply_budget_ms = 3000
log = $T/$1/wxfcgi.log
log_level = info
[echo]
delay_ms = 1000
[state]
store = redis
redis = unix:$T/redis.sock
redis_password_file = $T/redis-password
timeout_ms = 300
${2:-}
CONF
}

host_start() { # NAME
    local port
    port=$(wx_free_port)
    echo "$port" > "$T/$1/port"
    "$build/wxfcgi" -c "$T/$1/wx.ini" 2>>"$T/$1/wxfcgi.log" &
    MASTERS="$MASTERS $!"
    wx_wait_for "$T/$1/wxfcgi.sock" 10 || { nok "host $1: wxfcgi starts"; cat "$T/$1/wxfcgi.log"; exit 1; }
    wx_nginx_render "$T/$1" "$port" "$T/$1/wxfcgi.sock"
    wx_nginx_start "$T/$1" || { nok "host $1: nginx starts"; exit 1; }
    wx_wait_for "tcp:$port" 10
}

q() {
    local ts n
    ts=$(date +%s) n=$RANDOM$RANDOM
    echo "signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n&openid=$OPENID"
}

# deliver HOST FILE OUT: one delivery, as WeChat makes it (a fresh
# signature each time); prints the status, the body in OUT.
deliver() {
    curl -s -o "$3" -w '%{http_code}' --max-time 10 --data-binary "@$2" \
        -H 'Content-Type: text/xml' "http://127.0.0.1:$(cat "$T/$1/port")/wx?$(q)"
}

# fresh FILE: FILE as a new message (a new MsgId and CreateTime).
fresh() {
    local out=$T/msg.$RANDOM$RANDOM.xml
    sed -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(date +%s)</CreateTime>:" \
        -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>$RANDOM$RANDOM$RANDOM</MsgId>:" "$1" > "$out"
    echo "$out"
}

# results RESULT: how many log lines of both hosts say result=RESULT.
results() { cat "$T/a/wxfcgi.log" "$T/b/wxfcgi.log" | grep -c "result=$1 "; }

echo "# two hosts sharing one Redis (run dir $T)"
printf '%s\n' "$PASS" > "$T/redis-password"
chmod 600 "$T/redis-password"
redis_start

echo "# refused at start with a clear message"
host_config a
sed -i "s|^redis_password_file = .*|redis_password = wrong-password|" "$T/a/wx.ini"
err=$("$build/wxfcgi" -t -c "$T/a/wx.ini" 2>&1); rc=$?
check "a wrong password: wxfcgi -t exits 1" 1 "$rc"
check_match "... saying that AUTH failed" "*AUTH*" "$err"
case "$err" in *wrong-password*) nok "... without the password" "$err" ;; *) ok "... without the password" ;; esac
host_config a
sed -i "s|^redis = .*|redis = unix:$T/nowhere.sock|" "$T/a/wx.ini"
err=$("$build/wxfcgi" -t -c "$T/a/wx.ini" 2>&1); rc=$?
check "an address nobody listens on: wxfcgi -t exits 1" 1 "$rc"
check_match "... naming it" "*$T/nowhere.sock*" "$err"
host_config a
sed -i "s|^redis = .*|redis = http://example|" "$T/a/wx.ini"
err=$("$build/wxfcgi" -t -c "$T/a/wx.ini" 2>&1); rc=$?
check "a URL that is no Redis address: exits 1" 1 "$rc"
check_match "... saying what it takes" "*redis://*unix:*" "$err"

host_config a
host_config b
out=$("$build/wxfcgi" -t -c "$T/a/wx.ini" 2>&1); rc=$?
check "the right password: wxfcgi -t exits 0" 0 "$rc"
host_start a
host_start b

echo "# a message on host A, its retries on B, A, B (sequential)"
f=$(fresh "$top/tests/fixtures/msg/text.xml")
t0=$(results text) r0=$(results replay)
st=""
for h in a b a b; do st="$st$(deliver "$h" "$f" "$T/seq.$h.$((${#st} / 3))")"; done
check "4 deliveries over two hosts: all 200" 200200200200 "$st"
same=1
for o in "$T"/seq.*; do cmp -s "$T/seq.a.0" "$o" || same=0; done
if [ "$same" = 1 ] && grep -q 'this is a test' "$T/seq.a.0"; then ok "... the same reply, byte for byte, on both hosts"
else nok "... the same reply, byte for byte, on both hosts" "$(head -c 300 "$T"/seq.*)"; fi
check "... the handler ran once (1 reply, 3 replays)" "1 3" "$(( $(results text) - t0 )) $(( $(results replay) - r0 ))"

# ncmds CMD...: the calls of these commands since Redis started (INFO
# commandstats; a script's own calls count as its commands too).
ncmds() {
    redis-cli -s "$T/redis.sock" --no-auth-warning -a "$PASS" INFO commandstats |
        awk -F'[=,:]' -v want=" $* " 'index(want, " " substr($1, 9) " ") { n += $3 }
            END { print n + 0 }'
}
echo "# the same, four deliveries at once over both hosts"
f=$(fresh "$top/tests/fixtures/msg/text.xml")
t0=$(results text) r0=$(results replay)
c0=$(ncmds set evalsha eval)
pids=""
for i in 1 2 3 4; do
    h=a; [ $((i % 2)) = 0 ] && h=b
    deliver "$h" "$f" "$T/par.$i" > "$T/par.$i.st" &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
check "4 parallel deliveries: all 200" 200200200200 "$(cat "$T"/par.?.st)"
if cmp -s "$T/par.1" "$T/par.2" && cmp -s "$T/par.1" "$T/par.3" && cmp -s "$T/par.1" "$T/par.4" &&
   grep -q 'this is a test' "$T/par.1"; then ok "... the same reply, byte for byte"
else nok "... the same reply, byte for byte" "$(head -c 300 "$T"/par.?)"; fi
check "... the handler ran once (1 reply, 3 replays)" "1 3" "$(( $(results text) - t0 )) $(( $(results replay) - r0 ))"
# A retry that finds its message in progress asks again with a backoff
# (5 ms doubled to 50 ms), each time one round trip (the claim script: SET
# NX GET would only say "held" again): the 3 retries wait out a handler of
# 1 s at some 25 claims each (76 in all, measured; slower on a loaded
# machine, as the waits stretch).  Pub/sub would cost a PUBLISH on every
# message's finish and a subscribing connection per waiter; polling costs
# only while a retry waits.
n=$(( $(ncmds set evalsha eval) - c0 ))
echo "# claims and finishes sent to Redis for a message and 3 retries waiting 1 s: $n"
check_le "... far from polling every 5 ms (some 1,200)" 250 "$n"

echo "# two followers' messages with the same MsgId are two messages"
f=$(fresh "$top/tests/fixtures/msg/text.xml")
g=$T/other-sender.xml
sed 's:<FromUserName><!\[CDATA\[[^]]*\]\]></FromUserName>:<FromUserName><![CDATA[oAnotherFollower0123456789ab]]></FromUserName>:' "$f" > "$g"
deliver a "$f" "$T/one" >/dev/null
deliver b "$g" "$T/two" >/dev/null
if grep -q 'oAnotherFollower0123456789ab' "$T/two" && ! grep -q 'oAnotherFollower' "$T/one"; then
    ok "each follower gets the reply addressed to them"
else nok "each follower gets the reply addressed to them" "$(cat "$T/one" "$T/two")"; fi

echo "# Redis stopped: /wx still answers, within the budget"
redis_stop
mx() { # HOST SAMPLE: one sample of the host's metrics (or "none")
    "$build/wxctl" -c "$T/$1/wx.ini" metrics |
        awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }'
}
f0=$(mx a wxfcgi_redis_fallbacks_total)
pids=""
for i in 1 2 3 4; do
    f=$(fresh "$top/tests/fixtures/msg/text.xml")
    ( s0=$(date +%s%N); st=$(deliver a "$f" "$T/down.$i")
      echo "$st $(( ($(date +%s%N) - s0) / 1000000 ))" > "$T/down.$i.st" ) &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
check "4 messages at once while Redis is down: all 200" "200 200 200 200" \
    "$(cut -d' ' -f1 "$T"/down.?.st | tr '\n' ' ' | sed 's/ $//')"
check_match "... with their replies" "*this is a test*" "$(cat "$T/down.4")"
check "... each within 5 s" 0 "$(awk '$2 > 5000' "$T"/down.?.st | wc -l)"
check "... the fall-back to this host's table logged once on the host (2 workers)" 1 \
    "$(grep -c 'de-duplicated on this host alone until' "$T/a/wxfcgi.log")"
check "... counted: wxfcgi_redis_fallbacks_total" 4 $(( $(mx a wxfcgi_redis_fallbacks_total) - f0 ))
e=$(mx a 'wxfcgi_redis_errors_total{kind="connect"}')
[ "$e" -ge 1 ] && [ "$e" -le 4 ] && ok "... and the failed connects, by kind ($e)" ||
    nok "... and the failed connects, by kind" "$e"
check "... no error of another kind" "0 0 0 0 0" "$(for k in timeout protocol auth readonly other; do
    mx a "wxfcgi_redis_errors_total{kind=\"$k\"}"; done | tr '\n' ' ' | sed 's/ $//')"
grep -qF "$PASS" "$T/a/wxfcgi.log" "$T/b/wxfcgi.log" &&
    nok "no password in the logs" || ok "no password in the logs"

echo "# Redis back: de-duplication across hosts again, without a restart"
redis_start
sleep 2.5    # past the store's reconnect backoff (at most 2 s)
f=$(fresh "$top/tests/fixtures/msg/text.xml")
t0=$(results text) r0=$(results replay)
deliver a "$f" "$T/back.1" >/dev/null
deliver b "$f" "$T/back.2" >/dev/null
cmp -s "$T/back.1" "$T/back.2" && grep -q 'this is a test' "$T/back.1" &&
    ok "a retry on the other host gets the same reply" || nok "a retry on the other host gets the same reply"
check "... the handler ran once (1 reply, 1 replay)" "1 1" "$(( $(results text) - t0 )) $(( $(results replay) - r0 ))"
check "... the return logged once on the host, with the count meanwhile" 1 \
    "$(grep -c 'answers again; 4 message(s) were de-duplicated on this host alone' "$T/a/wxfcgi.log")"
check "... and not on the host that saw no outage" 0 "$(grep -c 'answers again' "$T/b/wxfcgi.log")"

# kind_case NAME KIND: two messages on host A while Redis fails as NAME
# says: both answered 200 with their replies within the budget, counted
# as fall-backs and as errors of KIND only.
kind_case() {
    local f0 e0 k others="" i st
    f0=$(mx a wxfcgi_redis_fallbacks_total)
    e0=$(mx a "wxfcgi_redis_errors_total{kind=\"$2\"}")
    for k in connect timeout protocol auth readonly other; do
        [ "$k" = "$2" ] || others="$others $(mx a "wxfcgi_redis_errors_total{kind=\"$k\"}")"
    done
    st=""
    for i in 1 2; do
        f=$(fresh "$top/tests/fixtures/msg/text.xml")
        st="$st $(deliver a "$f" "$T/kind.$i")"
    done
    check "$1: two messages answered" " 200 200" "$st"
    check_match "... with their replies" "*this is a test*" "$(cat "$T/kind.2")"
    check "... counted as fall-backs" 2 $(( $(mx a wxfcgi_redis_fallbacks_total) - f0 ))
    e=$(( $(mx a "wxfcgi_redis_errors_total{kind=\"$2\"}") - e0 ))
    [ "$e" -ge 1 ] && ok "... as errors of kind $2 ($e)" || nok "... as errors of kind $2" "$e"
    local now=""
    for k in connect timeout protocol auth readonly other; do
        [ "$k" = "$2" ] || now="$now $(mx a "wxfcgi_redis_errors_total{kind=\"$k\"}")"
    done
    check "... and of no other kind" "$others" "$now"
}
# back_again: after the store's reconnect backoff, a retry on host B gets
# host A's reply, byte for byte.
back_again() {
    sleep 2.5
    f=$(fresh "$top/tests/fixtures/msg/text.xml")
    deliver a "$f" "$T/again.1" >/dev/null
    deliver b "$f" "$T/again.2" >/dev/null
    cmp -s "$T/again.1" "$T/again.2" && grep -q 'this is a test' "$T/again.1" &&
        ok "$1" || nok "$1" "$(head -c 200 "$T/again.1" "$T/again.2")"
}
rcli() { redis-cli -s "$T/redis.sock" --no-auth-warning -a "${RPASS:-$PASS}" "$@"; }

echo "# a Redis that stops answering (SIGSTOP): timeouts"
kill -STOP "$REDIS_PID"
kind_case "Redis stopped (SIGSTOP)" timeout
kill -CONT "$REDIS_PID"
back_again "Redis going again: de-duplication across hosts again"

echo "# the password changed on the server: AUTH fails on reconnect"
rcli CONFIG SET requirepass "$PASS-rotated" >/dev/null
RPASS=$PASS-rotated rcli CLIENT KILL TYPE normal >/dev/null
kind_case "a password that no longer opens Redis" auth
grep -qF "$PASS" "$T/a/wxfcgi.log" && nok "... and no password in the log" ||
    ok "... and no password in the log"
RPASS=$PASS-rotated rcli CONFIG SET requirepass "$PASS" >/dev/null
back_again "the password back: de-duplication across hosts again"

echo "# Redis turned into a replica: writes refused (READONLY)"
rcli REPLICAOF 127.0.0.1 1 >/dev/null
kind_case "a read-only replica" readonly
rcli REPLICAOF NO ONE >/dev/null
back_again "a master again: de-duplication across hosts again"

echo "redis: $pass passed, $fail failed"
[ "$fail" = 0 ]
