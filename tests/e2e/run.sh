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

T=$(mktemp -d /tmp/wx-e2e.XXXXXX)
SOCK=$T/wxfcgi.sock
TOKEN=e2etoken42
OPENID=oUserOpenId0123456789abcdef
PORT=$(wx_free_port)
URL=http://127.0.0.1:$PORT/wx
MASTER=""
pass=0 fail=0

cleanup() {
    [ -n "$MASTER" ] && kill -TERM "$MASTER" 2>/dev/null
    "$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null 2>&1
    wx_nginx_stop "$T"
    sleep 0.2
    [ -n "$MASTER" ] && kill -KILL "$MASTER" 2>/dev/null
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

ok()  { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; [ $# -gt 1 ] && printf '#   %s\n' "$2"; }
check() { # NAME WANT GOT
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "want [$2], got [$3]"; fi
}

write_config() { # [extra lines for [wxfcgi]] [welcome]
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
mode = plain
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 3
; smaller than nginx's 64k, so that the worker's own limit is reached too
max_body = 32k
timestamp_window = 300
log = $T/wxfcgi.log
log_level = info
${1:-}
[echo]
welcome = ${2:-Welcome to the test account.}
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
    st=$(req POST "$(q)" "$top/tests/fixtures/msg/text.xml")
    if [ "$st" = 200 ] && grep -q 'this is a test' "$T/body"; then ok "$1"
    else nok "$1" "status $st body $(head -c 200 "$T/body")"; fi
}

workers_of() { pgrep -P "$1" | sort; }

start_master() {
    "$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
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
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
        --data-binary @"$top/tests/fixtures/msg/text.xml" "$URL?$(q)" > "$T/parallel.$i" &
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
    [ "$(echo "$now" | wc -l)" = 3 ] && ! echo "$now" | grep -qx "$victim" && break
    sleep 0.05
done
now=$(workers_of "$MASTER")
if [ "$(echo "$now" | wc -l)" = 3 ] && ! echo "$now" | grep -qx "$victim"; then ok "the killed worker is replaced"
else nok "the killed worker is replaced" "before: $before; now: $now"; fi
alive_check "the next request is answered after the kill"
grep -q "worker $victim killed by signal 9; restarting" "$T/wxfcgi.log" && ok "the crash is logged" || nok "the crash is logged"

echo "# HUP reloads the config without dropping a request"
( for i in $(seq 1 150); do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --data-binary @"$top/tests/fixtures/msg/text.xml" "$URL?$(q)"
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
WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -q "$URL" "$top/tests/fixtures/msg/event_subscribe.xml" >/dev/null
st=$(req POST "$(q)" "$top/tests/fixtures/msg/event_subscribe.xml")
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

# ------------------------------------------------------------ spawn-fcgi --
echo "# under spawn-fcgi"
write_config
out=$("$top/scripts/wx-spawn" start -c "$T/wx.ini" -s "$SOCK" -n 2 -m 0666 -p "$T/spawn.pid" -b "$build/wxfcgi" 2>&1)
check "wx-spawn start" 0 $?
wx_wait_for "$SOCK" 5
"$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid" >/dev/null; check "wx-spawn status: all alive" 0 $?
check "spawn-fcgi started 2 workers" 2 "$(wc -l < "$T/spawn.pid")"
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
    req POST "$(q)" "$top/tests/fixtures/msg/event_subscribe.xml" >/dev/null
    grep -q "Welcome, reloaded in place." "$T/body" && good=$((good + 1))
done
check "spawn-fcgi: HUP reloads the config in every worker" 4 "$good"
pids=$(cat "$T/spawn.pid")
"$top/scripts/wx-spawn" stop -s "$SOCK" -p "$T/spawn.pid" >/dev/null
left=0; for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "wx-spawn stop ends every worker" 0 "$left"
"$top/scripts/wx-spawn" status -s "$SOCK" -p "$T/spawn.pid" >/dev/null; check "wx-spawn status after stop: 3" 3 $?

echo "# nginx error log has no worker failures"
if grep -E "upstream prematurely closed|connect\(\) to unix.* failed" "$T/nginx-error.log" | grep -v "while connecting" >/dev/null; then
    nok "no upstream failures in nginx's log" "$(grep upstream "$T/nginx-error.log" | head -3)"
else ok "no upstream failures in nginx's log"; fi

echo
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
