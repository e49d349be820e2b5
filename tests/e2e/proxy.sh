#!/usr/bin/env bash
# proxy.sh BUILD - end-to-end tests of wxproxy: wxsim behind nginx with TLS
# (a private CA), wxtoken against it, wxproxy standalone with 3 workers and
# under spawn-fcgi -F 3, and nginx serving /wxapi/ with nginx/wxproxy.conf.
# Keys, path rules and rate limits shared by every worker; multipart
# uploads and binary downloads; WeChat's answers passed through unchanged;
# one token refresh for a burst of rejected calls; upstream faults; no
# secret in a log; a killed worker restarted.
#
# PROXY_WRAPPER runs wxproxy under a wrapper, e.g.
#   PROXY_WRAPPER="valgrind --leak-check=full --log-file=/tmp/vg.%p" tests/e2e/proxy.sh build
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-proxy.XXXXXX")
APPID=wx0123456789abcdef
SECRET=PxSecret0123456789abcdef0123456
KEY_MENU=menukey-0123456789abcdef
KEY_LIMITED=limitkey-0123456789abcdef
KEY_NARROW=narrowkey-0123456789abcdef
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
URL=http://127.0.0.1:$PORT/wxapi
WRAP=${PROXY_WRAPPER:-}
# Under valgrind everything is slower: give the upstream more time.
TIMEOUT_MS=2000
[ -n "$WRAP" ] && TIMEOUT_MS=4000
SIM="" TOK="" PX=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2046,SC2086
    wx_stop_pids $PX $([ -f "$T/spawn.pid" ] && grep -E '^[0-9]+$' "$T/spawn.pid") $TOK $SIM
    wx_nginx_stop "$T"
    [ "$STATE" != "$T/state" ] && rm -rf "$STATE"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
sim_ctl() { # PATH [JSON]
    if [ $# -gt 1 ]; then sim_curl -d "$2" "$API/sim/$1"; else sim_curl "$API/sim/$1"; fi
}
sim_calls() { # PATH: calls wxsim received on /cgi-bin/PATH
    local n
    n=$(sim_ctl stats | grep -o '"/cgi-bin/'"$1"'": *[0-9]*' | grep -o '[0-9]*$')
    echo "${n:-0}"
}
fault() { sim_ctl fault "$1" >/dev/null; }
token_now() { awk '{ print $5 }' "$T/store/token" 2>/dev/null; }

# px KEY METHOD PATH [curl args...]: call through nginx; prints the status,
# the body in $T/body, the headers in $T/head.
px() {
    local key=$1 method=$2 path=$3
    shift 3
    local args=(-s -o "${PXOUT:-$T/body}" -D "$T/head" -w '%{http_code}' --max-time 20 -X "$method")
    [ -n "$key" ] && args+=(-H "X-Wx-Key: $key")
    curl "${args[@]}" "$@" "$URL$path"
}
body() { cat "$T/body"; }
header() { grep -i "^$1:" "$T/head" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
# own_error: the reason of wxproxy's own refusal in $T/body, after checking
# its shape (PROTOCOL.md 8a): errcode 990000 + the status ($st) and a
# non-empty errmsg; else what is wrong with it.
own_error() {
    jq -r --argjson st "$st" 'if .errcode == 990000 + $st and (.errmsg | type) == "string"
        and .errmsg != "" then .error else "not the error shape: \(tojson)" end' \
        "$T/body" 2>&1
}
# sdk_error: what a client that looks only at errcode (as most SDKs do)
# makes of $T/body: "error N" or "success".
sdk_error() { jq -r 'if (.errcode // 0) != 0 then "error \(.errcode)" else "success" end' "$T/body" 2>&1; }

write_config() {
    cat > "$T/px.ini" <<CONF
[wx]
token = pxtest42
appid = $APPID
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret_file = $T/secret
grant = token
store = $T/store/token
listen = unix:$T/tok.sock
timeout_ms = 3000
log = $T/tok.log
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
token_daily_limit = 1000
data_dir = $T/simdata
log = $T/sim.log
[wxproxy]
listen = unix:$T/px.sock
workers = 3
api = $API
ca_file = $T/certs/ca.pem
timeout_ms = $TIMEOUT_MS
max_body = 3m
state_dir = $STATE
log = $T/px.log
log_level = info
[wxproxy.key.menu]
key = $KEY_MENU
paths = /cgi-bin/menu/* /cgi-bin/getcallbackip /cgi-bin/media/* /cgi-bin/token
rate = 1000
burst = 1000
[wxproxy.key.limited]
key = $KEY_LIMITED
paths = /cgi-bin/getcallbackip
rate = 5
burst = 5
[wxproxy.key.narrow]
key = $KEY_NARROW
paths = /cgi-bin/menu/get
rate = 100
CONF
}

start_px() { # standalone master, 3 workers
    rm -f "$T/px.sock"
    # shellcheck disable=SC2086
    $WRAP "$build/wxproxy" -c "$T/px.ini" >>"$T/px.err" 2>&1 &
    PX=$!
    wx_wait_for "$T/px.sock" 20 >/dev/null
}
stop_px() {
    [ -n "$PX" ] || return 0
    kill -TERM "$PX" 2>/dev/null; wait "$PX" 2>/dev/null; PX=""
}
workers_of() { pgrep -P "$1" | sort; }

# parallel N KEY PATH OUTFILE: N calls at once; statuses in OUTFILE.
parallel() {
    seq 1 "$1" | xargs -P "$1" -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
        -H "X-Wx-Key: $2" "$URL$3" > "$4"
}

# rate_check LABEL: 40 calls at once on the 5/s key: the successes add up to
# the bucket (5) plus 5 a second, whatever the number of workers.
rate_check() {
    local t0 t1 ms okn limited bound
    t0=$(date +%s%N)
    parallel 40 "$KEY_LIMITED" /cgi-bin/getcallbackip "$T/rate.out"
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    okn=$(grep -c '^200$' "$T/rate.out")
    limited=$(grep -c '^429$' "$T/rate.out")
    bound=$(( 5 + (5 * ms + 999) / 1000 ))
    echo "# $1: 40 calls in $ms ms: $okn answered, $limited refused (bound $bound)"
    check "$1: every call answered 200 or 429" 40 $((okn + limited))
    check_le "$1: successes <= burst + rate * elapsed ($bound), not 3 times" "$bound" "$okn"
    [ "$okn" -ge 5 ] && ok "$1: the whole burst (5) went through" || nok "$1: burst" "$okn"
}

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store"
# The rate-limit table belongs on a tmpfs; /tmp may not be one.
STATE=$T/state
[ -d /dev/shm ] && [ -w /dev/shm ] && STATE=$(mktemp -d /dev/shm/wx-proxy.XXXXXX)
printf '%s\n' "$SECRET" > "$T/secret"
write_config
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/px.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/px.ini" >>"$T/tok.err" 2>&1 &
TOK=$!
wx_wait_for "$T/tok.sock" 10 || exit 1
for i in $(seq 1 50); do [ -s "$T/store/token" ] && break; sleep 0.1; done

echo "# command line"
help=$("$build/wxproxy" --help)
[[ $help == *X-Wx-Key* ]] && ok "wxproxy --help documents the key header" || nok "wxproxy --help"
[[ $help == *upstream_timeout* ]] && ok "... and its error codes" || nok "--help error codes"
out=$("$build/wxproxy" -t -c "$T/px.ini"); rc=$?
check "wxproxy -t accepts the config" 0 "$rc"
[[ $out == *"3 workers"* && $out == *"key limited: rate 5/s, burst 5"* ]] &&
    ok "... and prints a summary with the keys" || nok "-t summary" "$out"
[[ $out != *"$KEY_MENU"* ]] && ok "... without the keys themselves" || nok "-t shows a key"
"$build/wxproxy" -c "$T/px.ini" bogus >/dev/null 2>&1
check "an extra argument is a usage error (2)" 2 "$?"
[[ $("$build/wxproxy" -V) == "wxproxy "* ]] && ok "wxproxy -V" || nok "wxproxy -V"
sed 's|^key = menukey.*|key = short|' "$T/px.ini" > "$T/bad.ini"
"$build/wxproxy" -t -c "$T/bad.ini" >/dev/null 2>&1
check "a key under 16 characters stops it (1)" 1 "$?"

echo "# standalone, 3 workers"
start_px
for i in $(seq 1 100); do [ "$(workers_of "$PX" | grep -c .)" = 3 ] && break; sleep 0.1; done
check "the master started 3 workers" 3 "$(workers_of "$PX" | grep -c .)"

echo "# keys and paths"
st=$(px "$KEY_MENU" POST /cgi-bin/menu/create -H 'Content-Type: application/json' \
    --data-binary '{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"}]}')
check "menu/create through the proxy: 200" 200 "$st"
check_match "... WeChat's answer" '*"errcode":*0*' "$(body)"
st=$(px "$KEY_MENU" GET /cgi-bin/menu/get)
check "menu/get: 200" 200 "$st"
check_match "... returns the menu created" '*V1001_TODAY_MUSIC*' "$(body)"
check_match "... with WeChat's Content-Type" 'application/json*' "$(header Content-Type)"
st=$(px "$KEY_NARROW" GET /cgi-bin/menu/get)
check "a key allowed one exact path: 200" 200 "$st"
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "getcallbackip: 200" 200 "$st"
check_match "... with the IP list" '*ip_list*' "$(body)"
st=$(px "$KEY_MENU" GET '/cgi-bin/getcallbackip?access_token=forged')
check "a caller's access_token is dropped (the call works)" 200 "$st"
check_match "... with the IP list" '*ip_list*' "$(body)"
st=$(px "" GET /cgi-bin/menu/get)
check "no key: 401" 401 "$st"
check "... error unknown_key" unknown_key "$(own_error)"
check "... which a client reading only errcode sees as an error" "error 990401" "$(sdk_error)"
check "... as JSON, with the platform's Content-Type" 'application/json; encoding=utf-8' \
    "$(header Content-Type)"
st=$(px "${KEY_MENU}x" GET /cgi-bin/menu/get)
check "a wrong key: 401" 401 "$st"
st=$(px "${KEY_MENU:0:10}" GET /cgi-bin/menu/get)
check "a prefix of a key: 401" 401 "$st"
st=$(px "$KEY_NARROW" POST /cgi-bin/menu/create -H 'Content-Type: application/json' -d '{}')
check "a path not allowed to the key: 403" 403 "$st"
check "... error path_not_allowed" path_not_allowed "$(own_error)"
check "... which a client reading only errcode sees as an error" "error 990403" "$(sdk_error)"
st=$(px "$KEY_NARROW" GET /cgi-bin/menu/get/../delete)
check "'..' resolved by nginx first: menu/delete is not allowed (403)" 403 "$st"
st=$(px "$KEY_MENU" GET '/cgi-bin/token?grant_type=client_credential')
check "/cgi-bin/token is never forwarded, even when listed (403)" 403 "$st"
st=$(px "$KEY_MENU" PUT /cgi-bin/menu/get)
check "PUT: 405" 405 "$st"
check "... error method_not_allowed" method_not_allowed "$(own_error)"
check "... with Allow" "GET, POST" "$(header Allow)"
st=$(px "$KEY_MENU" GET '/cgi-bin/menu/get%20x')
check "a path with a blank: 400" 400 "$st"
st=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/wxapi")
check_match "/wxapi without a path is not the proxy's (nginx's 301)" '30[1-8]' "$st"

echo "# WeChat's answers unchanged"
st=$(px "$KEY_MENU" GET '/cgi-bin/media/get?media_id=nosuchmedia')
check "an API error comes back with WeChat's status (200)" 200 "$st"
check_match "... and its errcode (40007)" '*"errcode":*40007*' "$(body)"
direct=$(sim_curl "$API/cgi-bin/media/get?access_token=$(token_now)&media_id=nosuchmedia")
check "... byte for byte what WeChat answers (but the rid)" "${direct% rid:*}" "$(body | sed 's/ rid:.*//')"
check_match "... ending as WeChat's does" '* rid: *"}' "$(body)"
st=$(px "$KEY_MENU" GET /cgi-bin/menu/nosuch)
check "an unknown API path: WeChat's 404 passed through" 404 "$st"
check_match "... with errcode 40066" '*40066*' "$(body)"

echo "# multipart upload and binary download"
head -c 1500000 /dev/urandom > "$T/photo.jpg"
st=$(px "$KEY_MENU" POST '/cgi-bin/media/upload?type=image' -F "media=@$T/photo.jpg")
check "media/upload of 1.5 MB (spooled to a file): 200" 200 "$st"
mid=$(grep -o '"media_id": *"[^"]*"' "$T/body" | cut -d'"' -f4)
[ -n "$mid" ] && ok "... with a media_id" || nok "no media_id" "$(body)"
st=$(PXOUT=$T/got.jpg px "$KEY_MENU" GET "/cgi-bin/media/get?media_id=$mid")
check "media/get: 200" 200 "$st"
cmp -s "$T/photo.jpg" "$T/got.jpg" && ok "... the same bytes came back" ||
    nok "media/get bytes differ" "$(wc -c < "$T/got.jpg") bytes"
check "... image/jpeg" image/jpeg "$(header Content-Type)"
check_match "... with WeChat's Content-Disposition" '*filename="photo.jpg"*' "$(header Content-Disposition)"
head -c 20000 /dev/urandom > "$T/small.png"
st=$(px "$KEY_MENU" POST '/cgi-bin/media/upload?type=image' -F "media=@$T/small.png")
check "a small upload (in memory): 200" 200 "$st"
mid=$(grep -o '"media_id": *"[^"]*"' "$T/body" | cut -d'"' -f4)
PXOUT=$T/got.png px "$KEY_MENU" GET "/cgi-bin/media/get?media_id=$mid" >/dev/null
cmp -s "$T/small.png" "$T/got.png" && ok "... and back, the same bytes" || nok "small media bytes"
head -c 3500000 /dev/zero > "$T/big.bin"
st=$(px "$KEY_MENU" POST /cgi-bin/menu/create -H 'Content-Type: application/json' \
    --data-binary "@$T/big.bin")
check "a body over max_body (3m): 413" 413 "$st"
check "... error body_too_large" body_too_large "$(own_error)"

echo "# rate limit shared by the workers"
rate_check standalone
# Starting 40 curls takes a while, and the bucket refills meanwhile: call
# until it is empty again.
for i in $(seq 1 20); do
    st=$(px "$KEY_LIMITED" GET /cgi-bin/getcallbackip)
    [ "$st" = 429 ] && break
done
check "over the rate: 429" 429 "$st"
check "... error rate_limited" rate_limited "$(own_error)"
check_match "... with Retry-After in seconds" '[1-9]*' "$(header Retry-After)"
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "another key is not limited by it" 200 "$st"
sleep 1.2
st=$(px "$KEY_LIMITED" GET /cgi-bin/getcallbackip)
check "a second later the key works again" 200 "$st"

echo "# a rejected token: one refresh, then the call succeeds"
old=$(token_now)
n0=$(sim_calls token)
sim_ctl invalidate "{}" >/dev/null
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "after /sim/invalidate the call succeeds" 200 "$st"
check_match "... with WeChat's answer, not the rejection" '*ip_list*' "$(body)"
check "... after one token call" 1 $(( $(sim_calls token) - n0 ))
[ "$(token_now)" != "$old" ] && ok "... and the store holds a new token" || nok "token not replaced"
grep -q 'path=/cgi-bin/getcallbackip status=200 errcode=0 .*retried=1' "$T/px.log" &&
    ok "the retry is in the access log" || nok "retry not logged"
n0=$(sim_calls token)
sim_ctl invalidate "{}" >/dev/null
parallel 30 "$KEY_MENU" /cgi-bin/getcallbackip "$T/burst.out"
check "a burst of 30 after invalidation: all 200" 30 "$(grep -c '^200$' "$T/burst.out")"
check "... with exactly one token call" 1 $(( $(sim_calls token) - n0 ))
# The clock past the ttl: 42001 (expired), refreshed the same way.
n0=$(sim_calls token)
sim_ctl clock '{"advance":7300}' >/dev/null
st=$(px "$KEY_MENU" GET /cgi-bin/menu/get)
check "after the sim clock passed the ttl the call succeeds" 200 "$st"
check_match "... with the menu" '*V1001*' "$(body)"
[ $(( $(sim_calls token) - n0 )) -ge 1 ] && ok "... after a refresh" || nok "no refresh after expiry"

echo "# upstream faults"
fault '{"path":"/cgi-bin/getcallbackip","kind":"slow","ms":'$((TIMEOUT_MS + 1500))',"count":1}'
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "slower than timeout_ms: 504" 504 "$st"
check "... error upstream_timeout" upstream_timeout "$(own_error)"
sleep 2
fault '{"path":"/cgi-bin/getcallbackip","kind":"drop","count":1}'
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "a dropped connection: 502" 502 "$st"
check "... error upstream_failed" upstream_failed "$(own_error)"
fault '{"path":"/cgi-bin/getcallbackip","kind":"badjson","count":1}'
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "a truncated JSON answer is WeChat's: passed through (200)" 200 "$st"
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/body" 2>/dev/null; then
    nok "... unchanged (it parsed)" "$(body)"
else
    ok "... unchanged (still not JSON)"
fi
fault '{"path":"/cgi-bin/getcallbackip","kind":"busy","count":1}'
st=$(px "$KEY_MENU" GET /cgi-bin/getcallbackip)
check "errcode -1 is passed through, not retried" 200 "$st"
check_match "... as WeChat sent it" '*"errcode":*-1*' "$(body)"

echo "# a worker killed"
victim=$(workers_of "$PX" | head -1)
kill -KILL "$victim"
sleep 0.3
st=$(px "$KEY_MENU" GET /cgi-bin/menu/get)
check "the next call is answered after SIGKILL of a worker" 200 "$st"
for i in $(seq 1 40); do
    now=$(workers_of "$PX")
    [ "$(echo "$now" | grep -c .)" = 3 ] && ! echo "$now" | contains -x "$victim" && break
    sleep 0.1
done
check "the killed worker is replaced (3 workers)" 3 "$(workers_of "$PX" | grep -c .)"
grep -q "worker $victim killed by signal 9; restarting" "$T/px.log" && ok "the crash is logged" ||
    nok "the crash is not logged"

echo "# nginx: /wxapi/ is for loopback and configured networks only"
conf=$(nginx -p "$T" -c "$T/nginx.conf" -T 2>/dev/null | sed -n '/location \/wxapi\//,/^}/p')
[[ $conf == *"allow 127.0.0.1;"* && $conf == *"allow ::1;"* ]] && ok "nginx -T: allow loopback" ||
    nok "allow lines" "$conf"
grep -Eo '^[[:space:]]*(allow|deny)[^;]*;' <<<"$conf" | tail -1 | contains 'deny all' &&
    ok "nginx -T: deny all after the allow lines" || nok "deny all"

echo "# logs"
grep -q 'key=menu path=/cgi-bin/menu/create status=200 errcode=0 ms=[0-9]*' "$T/px.log" &&
    ok "a call is logged with key name, path, status, errcode, latency" ||
    nok "access-log line" "$(grep 'menu/create' "$T/px.log" | head -2)"
grep -q 'key=- path=/cgi-bin/menu/get status=401 errcode=- error=unknown_key' "$T/px.log" &&
    ok "a refusal is logged with its error code" || nok "401 line"
grep -q 'error=rate_limited' "$T/px.log" && ok "a 429 is logged" || nok "429 line"
leaks=0
for secret in "$KEY_MENU" "$KEY_LIMITED" "$KEY_NARROW" "$SECRET" "$old" "$(token_now)"; do
    [ -n "$secret" ] || continue
    # nginx-error.log also has lines of the wxsim server (WeChat's side,
    # where the token is in the query by the protocol): only /wxapi/ ones.
    if grep -qF -- "$secret" "$T/px.log" "$T/px.err" "$T/access.log" ||
       grep /wxapi/ "$T/nginx-error.log" | contains -F -- "$secret"; then
        leaks=$((leaks + 1)); echo "# found in a log: ${secret:0:6}..."
    fi
done
check "no key, token or AppSecret in the proxy's or nginx's logs" 0 "$leaks"
grep -q 'nosuchmedia\|forged' "$T/px.log" && nok "a query string is in the proxy's log" ||
    ok "no query string in the proxy's log (nginx's access log has the caller's own)"

stop_px
check "TERM stops the master" "" "$(pgrep -f "$build/wxproxy -c $T/px.ini" || true)"

echo "# under spawn-fcgi -F 3"
if command -v spawn-fcgi >/dev/null; then
    rm -f "$T/px.sock"
    # shellcheck disable=SC2086
    spawn-fcgi -s "$T/px.sock" -F 3 -M 0660 -P "$T/spawn.pid" -- $WRAP "$build/wxproxy" \
        -c "$T/px.ini" >/dev/null 2>>"$T/px.err"
    wx_wait_for "$T/px.sock" 10 >/dev/null
    check "spawn-fcgi started 3 workers" 3 "$(grep -c . "$T/spawn.pid")"
    # The workers are ready (slow under valgrind) and the bucket refilled.
    for i in $(seq 1 100); do
        [ "$(px "$KEY_MENU" GET /cgi-bin/menu/get)" = 200 ] && break
        sleep 0.2
    done
    sleep 1.5
    st=$(px "$KEY_MENU" GET /cgi-bin/menu/get)
    check "spawn-fcgi: menu/get 200" 200 "$st"
    rate_check spawn-fcgi
    n0=$(sim_calls token)
    sim_ctl invalidate "{}" >/dev/null
    parallel 30 "$KEY_MENU" /cgi-bin/getcallbackip "$T/burst.out"
    check "spawn-fcgi: a burst of 30 after invalidation: all 200" 30 "$(grep -c '^200$' "$T/burst.out")"
    check "... with exactly one token call" 1 $(( $(sim_calls token) - n0 ))
    # One pid a line, the last without a newline (read would miss it: the
    # third worker was left running).
    spids=$(grep -E '^[0-9]+$' "$T/spawn.pid")
    check "spawn.pid lists the 3 workers" 3 "$(wc -w <<<"$spids")"
    for p in $spids; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 1 100); do
        alive=0
        for p in $spids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    check "spawn-fcgi workers stop on TERM" 0 "$alive"
    rm -f "$T/spawn.pid"
else
    nok "spawn-fcgi is not installed"
fi

if [ -n "$WRAP" ]; then
    echo "# under: $WRAP"
    vlogs=$(ls "$T"/vg.* 2>/dev/null)
    if [ -n "$vlogs" ]; then
        errs=$(grep -h 'ERROR SUMMARY' $vlogs | grep -vc 'ERROR SUMMARY: 0 errors')
        check "valgrind: no errors in any process" 0 "$errs"
        lost=$(grep -h 'definitely lost:\|indirectly lost:' $vlogs | grep -vc ' 0 bytes in 0 blocks')
        check "valgrind: nothing definitely or indirectly lost" 0 "$lost"
    fi
fi

echo
echo "proxy: $pass passed, $fail failed"
[ "$fail" = 0 ]
