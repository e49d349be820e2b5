#!/usr/bin/env bash
# run.sh BUILD - end-to-end tests of the /wx gateway through the real path:
# nginx on a free loopback port, wxfcgi under its own master and under
# spawn-fcgi, requests signed the way WeChat signs them.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-e2e.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=e2etoken42
OPENID=oUserOpenId0123456789abcdef
PORT=$(wx_free_port)
URL=http://127.0.0.1:$PORT/wx
MASTER=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER
    "$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null 2>&1
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config [WXFCGI_EXTRA] [WELCOME] [ECHO_EXTRA] [WX_EXTRA]
write_config() {
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
${4:-mode = plain}
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 3
; smaller than nginx's 64k, so that the worker's own limit is reached too
max_body = 32k
timestamp_window = 300
state_dir = $T/state
log = $T/wxfcgi.log
log_level = info
${1:-}
[echo]
welcome = ${2:-Welcome to the test account.}
${3:-}
[echo.click]
V1001_HELLO = Hello from the menu.
CONF
}

# q [TS] [NONCE] [TOKEN]: a signed query string.
q() {
    local ts=${1:-$(date +%s)} n=${2:-$RANDOM$RANDOM} tok=${3:-$TOKEN}
    echo "signature=$(wx_sign "$tok" "$ts" "$n")&timestamp=$ts&nonce=$n&openid=$OPENID"
}

# req METHOD QUERY [BODYFILE]: prints the status; the body is in $T/body.
req() {
    local args=(-s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1")
    [ $# -ge 3 ] && args+=(--data-binary "@$3" -H 'Content-Type: text/xml')
    curl "${args[@]}" "$URL?$2"
}

alive_check() { # NAME: a valid message still gets its reply
    local st
    st=$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")
    if [ "$st" = 200 ] && grep -q 'this is a test' "$T/body"; then ok "$1"
    else nok "$1" "status $st body $(head -c 200 "$T/body")"; fi
}

workers_of() { pgrep -P "$1" | sort; }

# fresh FILE: a copy of FILE as a new delivery (new CreateTime and MsgId),
# so that de-duplication does not answer it from an earlier test.
# It is called in $(...), so its counter lives in a file.
fresh() {
    local seq out
    seq=$(( $(cat "$T/fresh.seq" 2>/dev/null || echo 0) + 1 ))
    echo "$seq" > "$T/fresh.seq"
    out=$T/fresh.$seq.xml
    sed -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(( $(date +%s) * 1000 + seq ))</CreateTime>:" \
        -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>$RANDOM$RANDOM$seq</MsgId>:" "$1" > "$out"
    echo "$out"
}

start_master() {
    # WX_VALGRIND=1: the master and its workers under memcheck (scripts/lib.sh).
    # shellcheck disable=SC2046
    $(wx_valgrind "$T") "$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
    MASTER=$!
    wx_wait_for "$SOCK" 10 || { nok "master starts"; cat "$T/wxfcgi.log"; exit 1; }
}

stop_master() {
    kill -TERM "$MASTER" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.05; done
    MASTER=""
}

# --------------------------------------------------------------- startup --
echo "# wxfcgi end-to-end tests (nginx on 127.0.0.1:$PORT, run dir $T)"

out=$("$build/wxfcgi" --help); rc=$?
check "--help exits 0" 0 "$rc"
case "$out" in *"Usage: wxfcgi -c FILE"*) ok "--help prints the usage" ;; *) nok "--help prints the usage" ;; esac
"$build/wxfcgi" --bogus >/dev/null 2>&1; check "unknown option exits 2" 2 $?
"$build/wxfcgi" >/dev/null 2>&1; check "no -c exits 2" 2 $?
err=$("$build/wxfcgi" -c "$T/none.ini" 2>&1); rc=$?
check "missing config exits 1" 1 "$rc"
case "$err" in *"$T/none.ini"*"No such file"*) ok "missing config is named" ;; *) nok "missing config is named" "$err" ;; esac
write_config "workerz = 3"
err=$("$build/wxfcgi" -c "$T/wx.ini" 2>&1); rc=$?
check "unknown key exits 1" 1 "$rc"
case "$err" in *"wx.ini:"*"workerz"*) ok "unknown key is named with its line" ;; *) nok "unknown key is named with its line" "$err" ;; esac
write_config
sed -i "s/^token = .*/token = no/" "$T/wx.ini"
err=$("$build/wxfcgi" -t -c "$T/wx.ini" 2>&1)
case "$err" in *"token must be 3 to 32"*) ok "a bad token is refused at start" ;; *) nok "a bad token is refused at start" "$err" ;; esac
write_config
out=$(WX_TOKEN=fromenv123 "$build/wxfcgi" -t -c "$T/wx.ini" 2>&1); rc=$?
check "-t accepts a valid config" 0 "$rc"

# ------------------------------------------------------ built-in master --
write_config
start_master
wx_nginx_render "$T" "$PORT" "$SOCK"
wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }
wx_wait_for "tcp:$PORT" 10

n=$(workers_of "$MASTER" | wc -l)
check "the master preforks 3 workers" 3 "$n"

echo "# GET verification (PROTOCOL.md 1.2)"
st=$(req GET "$(q)&echostr=4375120948345356249")
check "valid GET answers 200" 200 "$st"
check "valid GET echoes echostr" 4375120948345356249 "$(cat "$T/body")"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$URL?$(q)&echostr=1")
check "echostr is text/plain" "text/plain; charset=utf-8" "$ct"
st=$(req GET "$(q "" "" wrongtoken)&echostr=1"); check "GET with a bad signature: 403" 403 "$st"
ts=$(date +%s); st=$(req GET "signature=$(wx_sign $TOKEN "$ts" 1)&timestamp=$ts&echostr=1")
check "GET without nonce: 400" 400 "$st"
st=$(req GET "$(q)"); check "GET without echostr: 400" 400 "$st"
st=$(req GET "echostr=1"); check "GET without any signature: 400" 400 "$st"
st=$(req GET "$(q $(( $(date +%s) - 1000 )))&echostr=1"); check "stale timestamp: 403" 403 "$st"
st=$(req GET "$(q $(( $(date +%s) + 1000 )))&echostr=1"); check "future timestamp: 403" 403 "$st"
st=$(req GET "signature=$(wx_sign $TOKEN abc 1)&timestamp=abc&nonce=1&echostr=1"); check "non-numeric timestamp: 400" 400 "$st"
st=$(req GET "$(q)&echostr=1&echostr=2"); check "echostr given twice: 400" 400 "$st"
st=$(req GET "$(q)&echostr=%zz"); check "bad percent-escape: 400" 400 "$st"
sig=$(wx_sign $TOKEN "$(date +%s)" 7)
st=$(req GET "signature=$(echo "$sig" | tr a-f A-F)&timestamp=$(date +%s)&nonce=7&echostr=1")
check "upper-case signature: 403" 403 "$st"

echo "# methods"
st=$(req PUT "$(q)" "$top/tests/fixtures/msg/text.xml"); check "PUT: 405" 405 "$st"
st=$(req DELETE "$(q)"); check "DELETE: 405" 405 "$st"
allow=$(curl -s -D - -o /dev/null -X PATCH "$URL?$(q)" | tr -d '\r' | sed -n 's/^Allow: //p')
check "405 names the allowed methods" "GET, POST" "$allow"

echo "# POST: the signature is checked before the body is parsed"
st=$(req POST "$(q "" "" wrongtoken)" "$top/tests/fixtures/hostile/doctype_billion_laughs.xml")
check "bad signature with a hostile body: 403, not 400" 403 "$st"
st=$(req POST "timestamp=$(date +%s)&nonce=1" "$top/tests/fixtures/msg/text.xml")
check "POST without signature: 400" 400 "$st"
st=$(req POST "$(q $(( $(date +%s) - 301 )))" "$top/tests/fixtures/msg/text.xml")
check "POST with a stale timestamp: 403" 403 "$st"

echo "# every fixture replayed, each reply checked (wx-replay --expect)"
for f in "$top"/tests/fixtures/msg/*.xml; do
    name=$(basename "$f" .xml)
    if out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -e -q "$URL" "$f" 2>&1); then
        ok "master: $name"
    else
        nok "master: $name" "$out"
    fi
done
ct=$(curl -s -o /dev/null -w '%{content_type}' --data-binary @"$top/tests/fixtures/msg/text.xml" "$URL?$(q)")
check "a reply is text/xml; charset=utf-8" "text/xml; charset=utf-8" "$ct"
st=$(req POST "$(q)" "$top/tests/fixtures/msg/event_unsubscribe.xml")
check "unsubscribe answers exactly 'success'" "200 success" "$st $(cat "$T/body")"

echo "# wx-replay itself notices wrong replies"
printf '<xml><ToUserName>a</ToUserName></xml>' > "$T/wrong.reply"
cp "$top/tests/fixtures/msg/text.xml" "$T/wrong.xml"
WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -e -q "$URL" "$T/wrong.xml" >/dev/null 2>&1
check "wx-replay exits 1 on a reply that differs" 1 $?
WX_TOKEN=wrongtoken "$top/scripts/wx-replay" -q "$URL" "$top/tests/fixtures/msg/text.xml" >/dev/null 2>&1
check "wx-replay exits 1 on a refused request" 1 $?
"$top/scripts/wx-replay" -q "http://127.0.0.1:1/wx" "$top/tests/fixtures/msg/text.xml" >/dev/null 2>&1
check "wx-replay without a token exits 2" 2 $?
WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -q "http://127.0.0.1:1/wx" "$top/tests/fixtures/msg/text.xml" >/dev/null 2>&1
check "wx-replay exits 1 when no reply comes" 1 $?
# The openid goes into the URL encoded: a sender with blanks, '&', '=' and
# bytes that are not UTF-8 still reaches the server, which answers.
printf '<xml><ToUserName>gh_1</ToUserName><FromUserName>o a&amp;b=\xff\xfe%%</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>77</MsgId></xml>' > "$T/odd_sender.xml"
out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" "$URL" "$T/odd_sender.xml" 2>&1)
check_match "wx-replay URL-encodes the openid (the server's answer, not 'no reply')" "*HTTP 400*" "$out"
out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" "$URL" "$top/tests/fixtures/hostile/invalid_utf8.xml" 2>&1)
check_match "wx-replay of invalid UTF-8: the server's 400" "*HTTP 400*" "$out"
if WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -q -r 3 "$URL" "$top/tests/fixtures/msg/image.xml" >/dev/null 2>&1; then
    ok "wx-replay --retries resends the same body"
else nok "wx-replay --retries resends the same body"; fi

echo "# hostile input: each gets its status, and the workers go on"
hostile_status() {
    case "$1" in
    *) echo 400 ;;
    esac
}
for f in "$top"/tests/fixtures/hostile/*.xml; do
    name=$(basename "$f" .xml)
    st=$(req POST "$(q)" "$f")
    check "hostile $name: $(hostile_status "$name")" "$(hostile_status "$name")" "$st"
done
alive_check "workers answer after the hostile inputs"

head -c 40000 /dev/zero | tr '\0' a > "$T/big40k.xml"
st=$(req POST "$(q)" "$T/big40k.xml"); check "40 KB body over max_body (32k): 413 from the worker" 413 "$st"
head -c 100000 /dev/zero | tr '\0' a > "$T/big100k.xml"
st=$(req POST "$(q)" "$T/big100k.xml"); check "100 KB body over nginx's limit: 413" 413 "$st"
{ printf '<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>%s</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>' "$OPENID"
  head -c 30000 /dev/zero | tr '\0' x; printf '</Content><MsgId>9</MsgId></xml>'; } > "$T/long_text.xml"
st=$(req POST "$(q)" "$T/long_text.xml")
check "a 30 KB text (under max_body) is echoed whole" "200 30000" "$st $(sed -n 's:.*<Content><!\[CDATA\[\(x*\)\]\]></Content>.*:\1:p' "$T/body" | tr -d '\n' | wc -c)"
printf '<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>%s</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content><![CDATA[a]]]]><![CDATA[>b]]></Content><MsgId>10</MsgId></xml>' "$OPENID" > "$T/cdata.xml"
st=$(req POST "$(q)" "$T/cdata.xml")
case "$(cat "$T/body")" in *"<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>"*) ok "']]>' in echoed text is split across CDATA sections" ;;
*) nok "']]>' in echoed text is split across CDATA sections" "$(cat "$T/body")" ;; esac
alive_check "workers answer after the oversize bodies"

echo "# concurrency"
jobs_=()
for i in $(seq 1 60); do
    f=$(fresh "$top/tests/fixtures/msg/text.xml")
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
        --data-binary @"$f" "$URL?$(q)" > "$T/parallel.$i" &
    jobs_+=($!)
done
# Not a bare wait: the master is a child of this shell too.
wait "${jobs_[@]}"
cat "$T"/parallel.[0-9]* > "$T/parallel.out"
check "60 parallel requests all answered 200" 60 "$(grep -c '^200$' "$T/parallel.out")"

echo "# the log: one line per request, no secret, no whole openid"
grep -q "POST type=text from=oUse..ef result=text status=200 us=[0-9]*" "$T/wxfcgi.log" && ok "a request is logged with type, result, status, latency" \
    || nok "a request is logged with type, result, status, latency" "$(tail -3 "$T/wxfcgi.log")"
if grep -q "$OPENID" "$T/wxfcgi.log"; then nok "no whole openid in the log"; else ok "no whole openid in the log"; fi
if grep -q "$TOKEN" "$T/wxfcgi.log"; then nok "the token is never logged"; else ok "the token is never logged"; fi
grep -q 'refused status=400 .*DOCTYPE refused' "$T/wxfcgi.log" && ok "a DOCTYPE refusal is logged with its reason" || nok "a DOCTYPE refusal is logged with its reason"

echo "# a worker killed with SIGKILL is replaced"
before=$(workers_of "$MASTER")
victim=$(echo "$before" | head -n 1)
kill -KILL "$victim"
for _ in $(seq 1 100); do
    now=$(workers_of "$MASTER")
    [ "$(echo "$now" | wc -l)" = 3 ] && ! echo "$now" | contains -x "$victim" && break
    sleep 0.05
done
now=$(workers_of "$MASTER")
if [ "$(echo "$now" | wc -l)" = 3 ] && ! echo "$now" | contains -x "$victim"; then ok "the killed worker is replaced"
else nok "the killed worker is replaced" "before: $before; now: $now"; fi
alive_check "the next request is answered after the kill"
grep -q "worker $victim killed by signal 9; restarting" "$T/wxfcgi.log" && ok "the crash is logged" || nok "the crash is logged"

echo "# HUP reloads the config without dropping a request"
files=()
for i in $(seq 1 150); do files+=("$(fresh "$top/tests/fixtures/msg/text.xml")"); done
( for f in "${files[@]}"; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --data-binary @"$f" "$URL?$(q)"
  done > "$T/during_reload.out" ) &
loader=$!
sleep 0.2
old=$(workers_of "$MASTER")
write_config "" "Welcome after the reload."
sed -i 's/^workers = 3/workers = 2/' "$T/wx.ini"
kill -HUP "$MASTER"
wait "$loader"
check "all 150 requests during the reload answered 200" 150 "$(grep -c '^200$' "$T/during_reload.out")"
sleep 0.5
new=$(workers_of "$MASTER")
check "the new generation has 2 workers" 2 "$(echo "$new" | wc -l)"
if [ -z "$(comm -12 <(echo "$old") <(echo "$new"))" ]; then ok "the old workers have left"; else nok "the old workers have left"; fi
st=$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/event_subscribe.xml")")
case "$(cat "$T/body")" in *"Welcome after the reload."*) ok "the reloaded welcome text is served" ;; *) nok "the reloaded welcome text is served" "$(cat "$T/body")" ;; esac
sed -i 's/^token = .*/token = x/' "$T/wx.ini"
kill -HUP "$MASTER"; sleep 0.5
alive_check "a reload with a broken config keeps the old one"
grep -q "reload failed, keeping the old config" "$T/wxfcgi.log" && ok "the failed reload is logged" || nok "the failed reload is logged"

echo "# TERM: the request in flight finishes, then everything stops"
write_config
# Talk FastCGI to the socket directly, feeding the body slowly, so that the
# worker is mid-request when the master is told to stop.
body=$top/tests/fixtures/msg/text.xml
len=$(wc -c < "$body")
( head -c 40 "$body"; sleep 1.5; tail -c +41 "$body" ) |
    env -i REQUEST_METHOD=POST QUERY_STRING="$(q)" CONTENT_LENGTH="$len" CONTENT_TYPE=text/xml \
    cgi-fcgi -bind -connect "$SOCK" > "$T/inflight.out" 2>&1 &
client=$!
sleep 0.5
mpid=$MASTER
kill -TERM "$mpid"
wait "$client"
grep -q 'this is a test' "$T/inflight.out" && ok "the in-flight request got its full reply" \
    || nok "the in-flight request got its full reply" "$(cat "$T/inflight.out")"
for _ in $(seq 1 100); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$mpid" 2>/dev/null; then nok "the master exits after TERM"; else ok "the master exits after TERM"; fi
[ -e "$SOCK" ] && nok "the socket is removed on exit" || ok "the socket is removed on exit"
MASTER=""

echo "# max_requests recycles workers"
write_config "max_requests = 3"
sed -i 's/^workers = 3/workers = 1/' "$T/wx.ini"
start_master
first=$(workers_of "$MASTER")
okc=0
for i in $(seq 1 10); do [ "$(req POST "$(q)" "$body")" = 200 ] && okc=$((okc + 1)); done
check "10 requests through a worker recycled every 3" 10 "$okc"
[ "$(workers_of "$MASTER")" != "$first" ] && ok "the worker was replaced" || nok "the worker was replaced"
grep -q "worker recycled after 3 requests" "$T/wxfcgi.log" && ok "the recycling is logged" || nok "the recycling is logged"
stop_master

echo "# log_buffer: lines in batches, none lost"
write_config "log_buffer = 8k"
start_master
: > "$T/wxfcgi.log"
pids=""
for i in $(seq 1 30); do req POST "$(q)" "$body" >/dev/null & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
for i in $(seq 1 5); do req GET "$(q)&echostr=e$i" >/dev/null; done
sleep 0.3
check "35 requests, 35 request lines once the workers are idle" 35 \
    "$(grep -c ' status=' "$T/wxfcgi.log")"
stop_master

echo "# a TERM right after workers are forked stops them without SIGKILL"
# HUP forks a new generation of 16 workers; a TERM on its heels reaches
# workers that have just been forked and may not have their own signal
# handlers yet.  None may lose it: every stop must be quick, and no worker
# may be left for the KILL after shutdown_timeout.
write_config "shutdown_timeout = 3"
sed -i 's/^workers = 3/workers = 16/' "$T/wx.ini"
slow=0
for i in $(seq 1 12); do
    start_master
    for _ in $(seq 1 100); do
        [ "$(workers_of "$MASTER" | wc -l)" -ge 16 ] && break; sleep 0.05
    done
    t0=$(date +%s%N)
    kill -HUP "$MASTER"
    case $((i % 4)) in
    1) ;;
    2) sleep 0.001 ;;
    3) sleep 0.003 ;;
    0) sleep 0.006 ;;
    esac
    kill -TERM "$MASTER"
    for _ in $(seq 1 200); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.02; done
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 2500 ] && slow=$((slow + 1))
    MASTER=""
done
check "12 stops right after a HUP: none waited for shutdown_timeout" 0 "$slow"
check "... and no worker was killed" 0 "$(grep -c 'shutdown_timeout passed' "$T/wxfcgi.log")"

# ------------------------------------------------------------ spawn-fcgi --
echo "# under spawn-fcgi"
write_config
out=$("$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 2 -m 0666 -p "$T/spawn.pid" -b "$build/wxfcgi" 2>&1)
check "wx-spawn start" 0 $?
wx_wait_for "$SOCK" 5
"$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid" >/dev/null; check "wx-spawn status: all alive" 0 $?
check "spawn-fcgi started 2 workers" 2 "$(grep -c . "$T/spawn.pid")"
for f in "$top"/tests/fixtures/msg/*.xml; do
    name=$(basename "$f" .xml)
    if out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -e -q "$URL" "$f" 2>&1); then ok "spawn-fcgi: $name"
    else nok "spawn-fcgi: $name" "$out"; fi
done
st=$(req GET "$(q)&echostr=abc"); check "spawn-fcgi: GET verification" "200 abc" "$st $(cat "$T/body")"
for f in "$top"/tests/fixtures/hostile/doctype_billion_laughs.xml "$top"/tests/fixtures/hostile/nul_byte.xml; do
    st=$(req POST "$(q)" "$f"); check "spawn-fcgi: hostile $(basename "$f" .xml): 400" 400 "$st"
done
alive_check "spawn-fcgi: workers answer after hostile input"
write_config "" "Welcome, reloaded in place."
"$top/scripts/wx-spawn" reload -s "$SOCK" -p "$T/spawn.pid" >/dev/null
sleep 0.3
good=0
for i in 1 2 3 4; do
    req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/event_subscribe.xml")" >/dev/null
    grep -q "Welcome, reloaded in place." "$T/body" && good=$((good + 1))
done
check "spawn-fcgi: HUP reloads the config in every worker" 4 "$good"
pids=$(cat "$T/spawn.pid")
"$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null
left=0; for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "wx-spawn stop ends every worker" 0 "$left"
"$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid" >/dev/null; check "wx-spawn status after stop: 3" 3 $?

echo "# wx-spawn tells the truth"
"$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 3 -m 0666 -p "$T/spawn.pid" -b "$build/wxfcgi" >/dev/null
check "wx-spawn start: 3 workers" 0 $?
victim=$(head -n 1 "$T/spawn.pid")
kill -KILL "$victim"; while kill -0 "$victim" 2>/dev/null; do sleep 0.05; done
out=$("$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid"); rc=$?
check "wx-spawn status with a worker killed: 1" "1 wx-spawn: 2 of 3 workers running" "$rc $out"
"$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null
# Workers that pass the config check but die at start (a binary that says
# so on stderr): start fails with their words, and nothing is left.
mkdir -p "$T/fake"
printf '#!/bin/sh\n[ "$1" = -t ] && exit 0\necho "worker: cannot open the retry table" >&2\nexit 1\n' > "$T/fake/wxfcgi"
chmod +x "$T/fake/wxfcgi"
out=$("$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 3 -m 0666 -p "$T/spawn.pid" \
      -l "$T/spawn.log" -b "$T/fake/wxfcgi" 2>&1); rc=$?
check "wx-spawn start fails when the workers die" 1 "$rc"
check_match "... saying so, with what they said" "*died at start*cannot open the retry table*" "$out"
"$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid" -b "$T/fake/wxfcgi" >/dev/null
check "... and status says none runs" 3 $?
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    # A state directory of root's, as a run as root leaves it: the check
    # runs as the workers' user, and says whose the directory is.
    # In a directory of its own that nobody may enter (the run directory
    # may not be).
    N=$(mktemp -d /tmp/wx-e2e-nobody.XXXXXX); chmod 0755 "$N"
    mkdir -p "$N/rootstate"; chmod 0700 "$N/rootstate"
    sed "s|^state_dir = .*|state_dir = $N/rootstate|" "$T/wx.ini" > "$N/nobody.ini"
    chmod 0644 "$N/nobody.ini"
    # The build directory may be out of nobody's reach (/root/...).
    install -m 0755 "$build/wxfcgi" "$N/wxfcgi"
    out=$("$top/scripts/wx-spawn" start -c "$N/nobody.ini" -s "$SOCK" -n 2 -m 0666 -p "$T/spawn.pid" \
          -u nobody -b "$N/wxfcgi" 2>&1); rc=$?
    check "wx-spawn -u nobody with root's state directory fails" 1 "$rc"
    check_match "... naming the path, the user and the fix" \
        "*$N/rootstate/dedup.shm: Permission denied (running as nobody; the directory $N/rootstate is owned by root: remove it or chown it to nobody)*" "$out"
    rm -rf "$N"
else
    echo "# (not root: the wx-spawn -u check is not run)"
fi

# ------------------------------------------------- retries (PROTOCOL.md 3.1) --
log_lines() { wc -l < "$T/wxfcgi.log"; }
log_since() { tail -n +"$(( $1 + 1 ))" "$T/wxfcgi.log"; }
count_results() { log_since "$1" | grep -c "result=$2 "; }   # FROM_LINE RESULT

dedup_parallel() { # LABEL: the same message 3 times at once to a pool
    local f l0 i a p1 p2 p3
    f=$(fresh "$top/tests/fixtures/msg/text.xml")
    l0=$(log_lines)
    curl -s -o "$T/par.1" -w '%{http_code}' --max-time 10 --data-binary @"$f" "$URL?$(q)" > "$T/par.1.st" & p1=$!
    curl -s -o "$T/par.2" -w '%{http_code}' --max-time 10 --data-binary @"$f" "$URL?$(q)" > "$T/par.2.st" & p2=$!
    curl -s -o "$T/par.3" -w '%{http_code}' --max-time 10 --data-binary @"$f" "$URL?$(q)" > "$T/par.3.st" & p3=$!
    wait "$p1" "$p2" "$p3"
    a=$(cat "$T/par.1.st" "$T/par.2.st" "$T/par.3.st")
    check "$1: 3 parallel deliveries all answered 200" 200200200 "$a"
    if cmp -s "$T/par.1" "$T/par.2" && cmp -s "$T/par.1" "$T/par.3" && grep -q 'this is a test' "$T/par.1"; then
        ok "$1: the 3 replies are identical, byte for byte"
    else nok "$1: the 3 replies are identical, byte for byte" "$(cat "$T/par.1"; echo; cat "$T/par.2")"; fi
    sleep 0.2
    check "$1: the handler ran once (1 reply, 2 replays)" "1 2" "$(count_results "$l0" text) $(count_results "$l0" replay)"
}

echo "# retries: the handler runs once per message"
write_config "" "" "delay_ms = 1000"
start_master
f=$(fresh "$top/tests/fixtures/msg/text.xml")
l0=$(log_lines)
for i in 1 2 3; do req POST "$(q)" "$f" > /dev/null; cp "$T/body" "$T/seq.$i"; done
if cmp -s "$T/seq.1" "$T/seq.2" && cmp -s "$T/seq.1" "$T/seq.3" && grep -q 'this is a test' "$T/seq.1"; then
    ok "3 sequential deliveries get identical replies"
else nok "3 sequential deliveries get identical replies"; fi
check "sequential: the handler ran once (1 reply, 2 replays)" "1 2" "$(count_results "$l0" text) $(count_results "$l0" replay)"
dedup_parallel "master"
f=$(fresh "$top/tests/fixtures/msg/event_click.xml")
req POST "$(q)" "$f" >/dev/null; cp "$T/body" "$T/ev.1"
req POST "$(q)" "$f" >/dev/null
if cmp -s "$T/ev.1" "$T/body" && grep -q 'Hello from the menu' "$T/body"; then ok "an event's retry (same sender and CreateTime) gets the stored reply"
else nok "an event's retry (same sender and CreateTime) gets the stored reply"; fi
stop_master

echo "# a retry while the first delivery is still in progress"
write_config "reply_budget_ms = 300" "" "delay_ms = 1500"
start_master
f=$(fresh "$top/tests/fixtures/msg/text.xml")
curl -s -o "$T/first" --max-time 10 --data-binary @"$f" "$URL?$(q)" &
firstp=$!
sleep 0.3
t0=$(date +%s%N)
st=$(req POST "$(q)" "$f")
t1=$(date +%s%N)
check "a retry during the first delivery is answered success" "200 success" "$st $(cat "$T/body")"
if [ $(( (t1 - t0) / 1000000 )) -lt 1100 ]; then ok "... within the reply budget, without waiting for the handler"
else nok "... within the reply budget, without waiting for the handler" "$(( (t1 - t0) / 1000000 )) ms"; fi
wait "$firstp"
req POST "$(q)" "$f" >/dev/null
if cmp -s "$T/first" "$T/body" && grep -q 'this is a test' "$T/body"; then ok "a later retry gets the first delivery's reply"
else nok "a later retry gets the first delivery's reply" "$(cat "$T/first") / $(cat "$T/body")"; fi

no_upstream_failures() { # NAME FROM_LINE
    if tail -n +"$(( $2 + 1 ))" "$T/nginx-error.log" | grep -E "upstream prematurely closed|connect\(\) to unix.* failed" >/dev/null; then
        nok "$1" "$(grep upstream "$T/nginx-error.log" | head -3)"
    else ok "$1"; fi
}
no_upstream_failures "no upstream failures in nginx's log so far" 0

echo "# a worker killed in the middle of a request"
f=$(fresh "$top/tests/fixtures/msg/text.xml")
l0=$(log_lines)
curl -s -o /dev/null --max-time 10 --data-binary @"$f" "$URL?$(q)" &
firstp=$!
sleep 0.5
for w in $(workers_of "$MASTER"); do kill -KILL "$w"; done
wait "$firstp"
sleep 0.4
st=$(req POST "$(q)" "$f"); cp "$T/body" "$T/after1"
check "the retry after the kill is answered 200" 200 "$st"
grep -q 'this is a test' "$T/after1" && ok "... with the real reply" || nok "... with the real reply" "$(cat "$T/after1")"
log_since "$l0" | contains "died in a request; its retry takes over" && ok "the dead worker's entry is taken over, not stuck" \
    || nok "the dead worker's entry is taken over, not stuck"
req POST "$(q)" "$f" >/dev/null
cmp -s "$T/after1" "$T/body" && ok "the next retry gets the same stored reply" || nok "the next retry gets the same stored reply"
stop_master
ngx_mark=$(wc -l < "$T/nginx-error.log")

echo "# retries across spawn-fcgi's separate processes"
write_config "" "" "delay_ms = 1000"
"$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 3 -m 0666 -p "$T/spawn.pid" -b "$build/wxfcgi" >/dev/null
wx_wait_for "$SOCK" 5
dedup_parallel "spawn-fcgi"
"$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null

# ------------------------------------------- safe and compat mode (PROTOCOL.md 4) --
APPID=wx2c2769f8efd9abc2
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
OLDKEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
export WXCTL=$build/wxctl
wxctl() { "$build/wxctl" -c "$T/wx.ini" "$@"; }

# enc_req FILE [TAMPER]: POST FILE, already encrypted, with a valid
# msg_signature over its Encrypt; prints the status.
enc_req() {
    local ts n enc
    ts=$(date +%s); n=$RANDOM$RANDOM
    enc=$(sed -n 's:.*<Encrypt><!\[CDATA\[\([^]]*\)\]\]></Encrypt>.*:\1:p' "$1")
    req POST "$(q "$ts" "$n")&encrypt_type=aes&msg_signature=$(wxctl sign "$ts" "$n" "$enc")" "$1"
}

replay_all() { # MODE LABEL
    local f ff name out
    for f in "$top"/tests/fixtures/msg/*.xml; do
        name=$(basename "$f" .xml)
        ff=$(fresh "$f")
        [ -f "${f%.xml}.reply" ] && cp "${f%.xml}.reply" "${ff%.xml}.reply"
        if out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -c "$T/wx.ini" -m "$1" -e -q "$URL" "$ff" 2>&1); then ok "$2: $name"
        else nok "$2: $name" "$out"; fi
    done
}

echo "# safe mode: every fixture encrypted, each reply's signature checked and decrypted"
write_config "" "" "" "mode = safe
appid = $APPID
encoding_aes_key = $KEY
encoding_aes_key_previous = $OLDKEY"
start_master
replay_all safe safe
st=$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")
check "safe mode refuses a plaintext push: 400" "400" "$st"
f=$(fresh "$top/tests/fixtures/msg/text.xml")
wxctl encrypt "$f" > "$T/enc.xml"
st=$(enc_req "$T/enc.xml"); check "an encrypted push is answered" 200 "$st"
grep -q '<MsgSignature>' "$T/body" && ok "... with an encrypted envelope" || nok "... with an encrypted envelope" "$(cat "$T/body")"
if wxctl decrypt "$T/body" | contains 'this is a test'; then ok "... whose MsgSignature verifies and which decrypts to the echo"
else nok "... whose MsgSignature verifies and which decrypts to the echo"; fi
ts=$(date +%s)
st=$(req POST "$(q "$ts" 5)&encrypt_type=aes&msg_signature=0000000000000000000000000000000000000000" "$T/enc.xml")
check "a wrong msg_signature: 403" 403 "$st"
st=$(req POST "$(q "$ts" 5)&encrypt_type=aes" "$T/enc.xml"); check "no msg_signature: 400" 400 "$st"
# Tampered ciphertexts, each with a valid signature over the bad Encrypt.
sed 's:<Encrypt><!\[CDATA\[\(.\)\(.\):<Encrypt><![CDATA[\2\1:' "$T/enc.xml" > "$T/swap.xml"
st=$(enc_req "$T/swap.xml"); check "a tampered ciphertext: 400" 400 "$st"
sed 's:\]\]></Encrypt>:AAAA]]></Encrypt>:' "$T/enc.xml" > "$T/long.xml"
st=$(enc_req "$T/long.xml"); check "a ciphertext not a multiple of 32: 400" 400 "$st"
sed 's:.\{5\}\]\]></Encrypt>:]]></Encrypt>:' "$T/enc.xml" > "$T/trunc.xml"
st=$(enc_req "$T/trunc.xml"); check "truncated Base64: 400" 400 "$st"
sed "s/^appid = .*/appid = wx0000000000000000/" "$T/wx.ini" > "$T/other.ini"
"$build/wxctl" -c "$T/other.ini" encrypt "$(fresh "$top/tests/fixtures/msg/text.xml")" > "$T/otherapp.xml"
st=$(enc_req "$T/otherapp.xml"); check "another AppID inside: 400" 400 "$st"
log_since 0 | contains "refused status=400 .*decryption failed" && ok "decryption failures are logged with their reason" \
    || nok "decryption failures are logged with their reason"
wxctl encrypt --previous "$(fresh "$top/tests/fixtures/msg/text.xml")" > "$T/prev.xml"
st=$(enc_req "$T/prev.xml"); check "key rotation: a push under the previous key is answered" 200 "$st"
if wxctl decrypt --previous "$T/body" | contains 'this is a test'; then ok "... and its reply is encrypted with the previous key"
else nok "... and its reply is encrypted with the previous key"; fi
f=$(fresh "$top/tests/fixtures/msg/image.xml")
cp "$top/tests/fixtures/msg/image.reply" "${f%.xml}.reply"
if WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -c "$T/wx.ini" -e -q -r 3 "$URL" "$f" >/dev/null 2>&1; then
    ok "safe mode: 3 retries get the stored reply in fresh envelopes"
else nok "safe mode: 3 retries get the stored reply in fresh envelopes"; fi
alive_enc=$(fresh "$top/tests/fixtures/msg/text.xml"); wxctl encrypt "$alive_enc" > "$T/alive.xml"
check "workers answer after the hostile ciphertexts" 200 "$(enc_req "$T/alive.xml")"
stop_master

echo "# compatible mode: plaintext and encrypted both answered"
write_config "" "" "" "mode = compat
appid = $APPID
encoding_aes_key = $KEY"
start_master
replay_all compat compat
st=$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")
check "compat: a plaintext push gets a plaintext reply" "200 <xml>" "$st $(head -c 5 "$T/body")"
# The plaintext fields say one thing, the signed ciphertext another.
f=$(fresh "$top/tests/fixtures/msg/text.xml")
wxctl encrypt --compat "$f" | sed 's:<Content><!\[CDATA\[this is a test\]\]>:<Content><![CDATA[forged]]>:' > "$T/forged.xml"
st=$(enc_req "$T/forged.xml")
if wxctl decrypt "$T/body" | contains 'this is a test'; then ok "compat: the decrypted copy wins over forged plaintext fields"
else nok "compat: the decrypted copy wins over forged plaintext fields" "$st $(cat "$T/body")"; fi
stop_master

echo "# nginx error log has no worker failures (but for the one killed on purpose)"
no_upstream_failures "no upstream failures in nginx's log after the kill" "$ngx_mark"

echo
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
