#!/usr/bin/env bash
# push.sh BUILD - WeChat's pushing side under load and faults: wxsim push
# through real nginx and the real wxfcgi master (4 workers, handler =
# upstream, scripts/example-business.py counting its calls), with wxproxy ->
# wxsim (TLS) for late answers.  Each case: no follower sees the error, the
# business runs once per message, a follower gets one answer (passive or
# customer-service, never both): steady load, a worker SIGKILLed every 2 s,
# SIGHUP every 3 s with max_requests = 50, a business answering after 7 s,
# safe mode with a key rotation in the middle.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-push.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=pushtoken42
APPID=wx0123456789abcdef
SECRET=PushSecret0123456789abcdef01234
KEY1=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
KEY2=ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut
PXKEY=push-proxy-key-0123456789abcdef
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
BIZPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
while [ "$BIZPORT" = "$PORT" ] || [ "$BIZPORT" = "$SIMPORT" ]; do BIZPORT=$(wx_free_port); done
URL=http://127.0.0.1:$PORT/wx
API=https://127.0.0.1:$SIMPORT
# The rate each load case offers (WX_PUSH_RATE): low enough for a loaded
# 2-core CI machine that runs nginx, 4 workers, a child per business call,
# the business service in Python and the pusher itself.
RATE=${WX_PUSH_RATE:-5}
# The retry table on a tmpfs: on a disk, the writeback of its pages stalls
# the workers.
STATE=$(mktemp -d /dev/shm/wx-push.XXXXXX 2>/dev/null || { mkdir -p "$T/state" && echo "$T/state"; })
BUDGET=1500
MASTER="" BIZ="" SIM="" TOK="" PX="" HUPPER=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $HUPPER $MASTER $BIZ $PX $TOK $SIM
    wx_nginx_stop "$T"
    rm -rf "$STATE"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config [WX_EXTRA] [WXFCGI_EXTRA]
write_config() {
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
appid = $APPID
encoding_aes_key = $KEY1
${1:-mode = plain}
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 4
state_dir = $STATE
log = $T/wxfcgi.log
log_level = info
handler = upstream
reply_budget_ms = $BUDGET
${2:-}
[upstream]
url = http://127.0.0.1:$BIZPORT/hook
timeout_ms = 15000
proxy = http://127.0.0.1:$PORT/wxapi
proxy_key = $PXKEY
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret_file = $T/secret
store = $T/store/token
listen = unix:$T/wxtoken.sock
log = $T/wxtoken.log
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
data_dir = $T/simdata
log = $T/sim.log
[wxproxy]
listen = unix:$T/wxproxy.sock
workers = 2
api = $API
ca_file = $T/certs/ca.pem
state_dir = $T/pxstate
log = $T/wxproxy.log
[wxproxy.key.upstream]
key = $PXKEY
paths = /cgi-bin/message/custom/send
rate = 500
CONF
}

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
# The customer-service texts wxsim received, one a line: "OPENID CONTENT".
custom_texts() {
    sim_curl "$API/sim/custom" |
        jq -r '(if type == "array" then . else [.[] | arrays][0] end)[] | "\(.touser) \(.text.content // "")"'
}
start_biz() { # [OPTIONS]
    stop_biz
    : > "$T/calls"
    python3 "$top/scripts/example-business.py" --port "$BIZPORT" --calls "$T/calls" "$@" \
        2>>"$T/biz.log" &
    BIZ=$!
    wx_wait_for "tcp:$BIZPORT" 10 >/dev/null || nok "the business service starts"
}
stop_biz() {
    [ -n "$BIZ" ] || return 0
    kill -TERM "$BIZ" 2>/dev/null; wait "$BIZ" 2>/dev/null; BIZ=""
}
start_master() {
    rm -f "$STATE/dedup.shm"
    "$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
    MASTER=$!
    wx_wait_for "$SOCK" 10 >/dev/null || { nok "wxfcgi starts"; tail "$T/wxfcgi.log"; exit 1; }
}
stop_master() {
    [ -n "$MASTER" ] || return 0
    kill -TERM "$MASTER" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.05; done
    MASTER=""
}
nworkers() { pgrep -P "$MASTER" -x wxfcgi | wc -l; }
# figure PATH: a number of the last run's report (jq path without the dot)
figure() { jq -r ".$1" "$T/report.json"; }
# business calls per message: "<max> <min> <distinct>" over MsgId or EventKey
calls_per_msg() {
    jq -r '[.FromUserName, (.MsgId // .EventKey)] | join(" ")' "$T/calls" | sort | uniq -c |
        awk 'NR == 1 { mx = $1; mn = $1 } { if ($1 > mx) mx = $1; if ($1 < mn) mn = $1 }
             END { print mx + 0, mn + 0, NR }'
}
# push NAME ARGS...: a load run, its lines in $T/NAME.out, the summary in $T/NAME.err
push() {
    local name=$1; shift
    a0=$(wc -l < "$T/access.log" 2>/dev/null || echo 0)
    "$build/wxsim" push -c "$T/wx.ini" --url "$URL" --report "$T/report.json" "$@" \
        > "$T/$name.out" 2> "$T/$name.err"
    prc=$?
    echo "# $name: $(tail -1 "$T/$name.err")"
}
# Every message decided, none shown the error nor malformed; the business ran
# once per message; with a third argument, no 5xx either.  NAME N [no5xx]
proof() {
    local n=$2 calls
    check "$1: exit status 0" 0 "$prc"
    check "$1: $n messages, every one decided" "$n $n" \
        "$(figure messages) $(( $(figure answered) + $(figure success) ))"
    check "$1: none error shown, none malformed" "0 0" "$(figure error_shown) $(figure malformed)"
    calls=$(calls_per_msg)
    check "$1: the business called exactly once for each of the $n messages" "1 1 $n" "$calls"
    [ $# -lt 3 ] ||
        check "$1: no 5xx reached the pusher" 0 "$(tail -n +$((a0 + 1)) "$T/access.log" | grep -c ' 50[0-9] ')"
}
# No follower got both a passive answer and a customer-service message.
one_answer() {
    local both=0 seq
    while read -r _ text; do
        seq=${text#You said: message }
        grep -q "^$seq [^ ]* text [0-9]*: answered" "$T/$1.out" && both=$((both + 1))
    done < <(custom_texts)
    check "$1: no message answered both passively and as a customer-service message" 0 "$both"
}

# --- set-up: CA, wxsim (TLS) and wxproxy behind nginx, wxtoken ---------------
echo "# wxsim push end-to-end (nginx on 127.0.0.1:$PORT, $RATE messages/s, run dir $T)"
mkdir -p "$T/store" "$T/pxstate"
printf '%s\n' "$SECRET" > "$T/secret"
write_config
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$SOCK" "$T/wx.ini" \
    "upstream wxproxy { server unix:$T/wxproxy.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/wx.ini" 2>>"$T/wxtoken.err" &
TOK=$!
wx_wait_for "$T/wxtoken.sock" 10 >/dev/null
"$build/wxproxy" -c "$T/wx.ini" 2>>"$T/wxproxy.err" &
PX=$!
wx_wait_for "$T/wxproxy.sock" 10 >/dev/null && ok "wxproxy runs" || nok "wxproxy runs"

echo "# usage"
"$build/wxsim" push --url "$URL" x.xml >/dev/null 2>&1; check "no --config: status 2" 2 $?
out=$("$build/wxsim" push -c "$T/wx.ini" --url "$URL" --retries 4 x.xml 2>&1)
check_match "--retries 4 is refused by name" "*--retries takes 0 to 3*" "$out"
"$build/wxsim" push --help | contains -- '--kill-every MS' && ok "--help names the load options" ||
    nok "--help"

start_biz --delay 0.02
start_master

echo "# one message, a scenario"
"$build/wxsim" push -c "$T/wx.ini" --url "$URL" "$top/tests/fixtures/msg/text.xml" > "$T/one.out" 2>&1
check "a fixture: exit status 0" 0 $?
check_match "... the follower's view: answered after 1 attempt with the business's text" \
    "1 oWxsimFollower* text *: answered after 1 attempt, * ms: text \"You said: *" "$(head -1 "$T/one.out")"
"$build/wxsim" push -c "$T/wx.ini" --url "$URL" --json --scenario qr-subscribe > "$T/qr.out" 2>&1
check "scenario qr-subscribe: exit status 0" 0 $?
check_match "... subscribe with qrscene_ answered with the welcome" \
    '*"kind":"event/subscribe","id":"qrscene_123123","outcome":"answered"*Welcome*' "$(sed -n 1p "$T/qr.out")"
check_match "... then SCAN: success" '*"kind":"event/SCAN","id":"123123","outcome":"success"*' \
    "$(sed -n 2p "$T/qr.out")"
"$build/wxsim" push -c "$T/wx.ini" --url "$URL" --scenario location > "$T/loc.out" 2>&1
check "scenario location: exit status 0" 0 $?
"$build/wxsim" push -c "$T/wx.ini" --url "http://127.0.0.1:$PORT/nowhere" --timeout-ms 500 \
    --scenario menu > "$T/err.out" 2>&1
check "a URL that answers 404: exit status 1" 1 $?
check_match "... the follower sees the error after 4 attempts" \
    "*CLICK V1001_TODAY_MUSIC: error shown after 4 attempts*HTTP 404*" "$(head -1 "$T/err.out")"

N=$((RATE * 15))
echo "# steady load: $RATE messages/s for 15 s"
start_biz --delay 0.02
push steady --followers 50 --rate "$RATE" --duration 15 --quiet
proof steady "$N" no5xx
check "steady: no retry was needed" 0 "$(figure retries)"

echo "# the same while a random worker gets SIGKILL every 2 s (business calls of 0.3 s)"
start_biz --delay 0.3
c0=$(custom_texts | wc -l)
push kill --followers 50 --rate "$RATE" --duration 15 --kill-every 2000 --kill-pids "$T/master.pid" \
    --plot "$T/kill.png"
proof kill "$N"
check_match "kill: kills happened" "[4-9]" "$(figure kills)"
check "kill: --plot drew a PNG of the run" PNG "$(head -c 4 "$T/kill.png" 2>/dev/null | tail -c 3)"
echo "# kill: $(tail -n +$((a0 + 1)) "$T/access.log" | grep -c ' 502 ') attempts cut by a kill (502), retried"
check "kill: the pool has its 4 workers" 4 "$(nworkers)"
sleep 1
one_answer kill
grep -q 'restarting in' "$T/wxfcgi.log" && nok "kill: a healthy worker's slot backed off" \
    "$(grep 'restarting in' "$T/wxfcgi.log" | head -2)" || ok "kill: every killed worker restarted at once"
echo "# kill: $(grep -c 'its retry takes over' "$T/wxfcgi.log") takeovers, $(grep -c 'answered by the business call of a dead' "$T/wxfcgi.log") adopted, $(( $(custom_texts | wc -l) - c0 )) customer-service"

echo "# a worker killed during a business call: its retry waits for the call, no second one"
# A 2 s call within a 4 s budget: time to find the worker, on a loaded machine too.
stop_master
BUDGET=4000 write_config
start_master
start_biz --delay 2
c0=$(custom_texts | wc -l)
"$build/wxsim" push -c "$T/wx.ini" --url "$URL" "$top/tests/fixtures/msg/text.xml" > "$T/mid.out" 2>&1 &
P1=$!
victim=""
for _ in $(seq 1 200); do
    for w in $(pgrep -P "$MASTER" -x wxfcgi); do
        if pgrep -P "$w" -x wxfcgi-upstream >/dev/null; then
            victim=$w
            kill -KILL "$w"
            break 2
        fi
    done
    sleep 0.02
done
wait "$P1"; rc=$?
check "mid-call kill: the follower sees no error" 0 "$rc"
case $(head -1 "$T/mid.out") in
*": answered after 2 attempts"* | *": success after 2 attempts"*) ok "... a second attempt decided it" ;;
*) nok "... a second attempt decided it" "$(head -1 "$T/mid.out")" ;;
esac
check "... the business was called once" 1 "$(wc -l < "$T/calls")"
grep -q "worker $victim died in a request; its retry takes over" "$T/wxfcgi.log" &&
    ok "... the retry took the dead worker's message over" || nok "takeover logged" "victim [$victim]"
for _ in $(seq 1 100); do [ "$(( $(custom_texts | wc -l) - c0 ))" -ge 1 ] && break; sleep 0.1; done
sleep 0.5
if [[ $(head -1 "$T/mid.out") == *": answered after"* ]]; then
    check "... answered passively: no customer-service message" 0 "$(( $(custom_texts | wc -l) - c0 ))"
else
    check "... success: the first call's answer came once as a customer-service message" 1 \
        "$(( $(custom_texts | wc -l) - c0 ))"
fi

echo "# SIGHUP to the master every 3 s, workers recycled every 50 requests"
stop_master
write_config "mode = plain" "max_requests = 50"
start_master
start_biz --delay 0.02
( while sleep 3; do kill -HUP "$MASTER" 2>/dev/null || exit 0; done ) &
HUPPER=$!
push hup --followers 50 --rate "$RATE" --duration 15 --quiet
kill "$HUPPER" 2>/dev/null; wait "$HUPPER" 2>/dev/null; HUPPER=""
proof hup "$N" no5xx

echo "# a business answering after 7 s: success in time, one customer-service message each"
stop_master
write_config
start_master
start_biz --delay 7
c0=$(custom_texts | wc -l)
push slow --followers 5 --rate 2 --duration 3 --mix text=1
check "slow: exit status 0" 0 "$prc"
check "slow: every message got success, none error shown" "6 6 0" \
    "$(figure messages) $(figure success) $(figure error_shown)"
check_le "slow: ... in time (p99 latency ms)" 1600 "$(figure latency_ms.p99)"
for _ in $(seq 1 150); do [ "$(( $(custom_texts | wc -l) - c0 ))" -ge 6 ] && break; sleep 0.1; done
sleep 1
check "slow: the 6 late answers arrived as 6 customer-service messages" 6 "$(( $(custom_texts | wc -l) - c0 ))"
check "slow: one per message" 6 "$(custom_texts | tail -6 | sort -u | wc -l)"

echo "# safe mode under load, the key rotated in the middle"
stop_master
write_config "mode = safe"
cp "$T/wx.ini" "$T/k1.ini"
start_master
start_biz --delay 0.02
"$build/wxsim" push -c "$T/k1.ini" --url "$URL" --followers 20 --rate "$RATE" --duration 8 \
    --quiet --report "$T/k1.json" 2> "$T/k1.err" &
P1=$!
sleep 3
# The server gets the new key, the old one kept as the previous, while the
# pusher still encrypts with the old one; then WeChat switches.
sed -e "s|^encoding_aes_key = .*|encoding_aes_key = $KEY2\nencoding_aes_key_previous = $KEY1|" "$T/k1.ini" > "$T/wx.ini"
kill -HUP "$MASTER"
wait "$P1"; r1=$?
"$build/wxsim" push -c "$T/wx.ini" --url "$URL" --followers 20 --rate "$RATE" --duration 8 \
    --quiet --report "$T/k2.json" 2> "$T/k2.err"
r2=$?
echo "# rotate (old key): $(tail -1 "$T/k1.err")"
echo "# rotate (new key): $(tail -1 "$T/k2.err")"
check "rotation: both pushers exit 0" "0 0" "$r1 $r2"
cp "$T/k1.json" "$T/report.json"
check "rotation: old key, none error shown nor malformed" "0 0" "$(figure error_shown) $(figure malformed)"
cp "$T/k2.json" "$T/report.json"
check "rotation: new key, none error shown nor malformed" "0 0" "$(figure error_shown) $(figure malformed)"
check "rotation: the business once per message" "1 1 $((RATE * 16))" "$(calls_per_msg)"
stop_master
stop_biz

echo
echo "push: $pass passed, $fail failed"
[ "$fail" = 0 ]
