#!/usr/bin/env bash
# hostile.sh BUILD - hostile input to the servers around /wx: wxproxy
# (huge headers, garbage and huge bodies, missing and wrong keys, 500
# calls at once), wxtoken's report socket (lines over the limit, binary,
# silent and dripping callers, 500 connections at once: none may delay
# another caller's STATUS by more than 100 ms), wxsim's API (malformed
# JSON, multipart without a boundary, huge uploads).  Each must give a
# clear error, stay up, and hold as many descriptors after as before.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-hostile.XXXXXX")
APPID=wx0123456789abcdef
SECRET=HoSecret0123456789abcdef0123456
KEY=hostilekey-0123456789abcdef
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
URL=http://127.0.0.1:$PORT/wxapi
SIM="" TOK="" PX=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $PX $TOK $SIM
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

cat > "$T/h.ini" <<CONF
[wx]
token = hostile42
appid = $APPID
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret = $SECRET
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
max_upload = 1m
data_dir = $T/simdata
log = $T/sim.log
[wxproxy]
listen = unix:$T/px.sock
workers = 3
api = $API
ca_file = $T/certs/ca.pem
timeout_ms = 5000
max_body = 1m
state_dir = $T/state
log = $T/px.log
[wxproxy.key.all]
key = $KEY
paths = /cgi-bin/*
rate = 100000
burst = 100000
CONF

# fds PID...: the descriptors the processes hold, together.
fds() {
    local p n=0
    for p in "$@"; do n=$((n + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l))); done
    echo "$n"
}
# with_children PID: PID and its children.
with_children() { echo "$1" $(pgrep -P "$1"); }
# settled_fds WANT PID...: the count, once it is back to WANT (up to 5 s:
# connections being closed), else the last count.
settled_fds() {
    local want=$1 i n
    shift
    for i in $(seq 1 50); do
        n=$(fds "$@")
        [ "$n" = "$want" ] && break
        sleep 0.1
    done
    echo "$n"
}
alive() { kill -0 "$1" 2>/dev/null; }

# px KEY METHOD PATH [curl args]: the status; the body in $T/body.
px() {
    local key=$1 method=$2 path=$3
    shift 3
    local args=(-s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$method")
    [ -n "$key" ] && args+=(-H "X-Wx-Key: $key")
    curl "${args[@]}" "$@" "$URL$path"
}
# own_error: wxproxy's own refusal in $T/body (errcode 990000 + status, an
# errmsg, an error word): the word, else what is wrong.
own_error() {
    jq -r --argjson st "$st" 'if .errcode == 990000 + $st and (.errmsg | type) == "string"
        and .errmsg != "" then .error else "not the error shape: \(tojson)" end' "$T/body" 2>&1
}
# errcode: the errcode of WeChat's (wxsim's) answer in $T/body, or "none".
errcode() { jq -r '.errcode // "none"' "$T/body" 2>/dev/null || echo "not JSON"; }
sim() { # PATH [curl args]: the status; the body in $T/body
    local path=$1
    shift
    curl -s -o "$T/body" -w '%{http_code}' --max-time 30 --cacert "$T/certs/ca.pem" "$@" "$API$path"
}

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store" "$T/state"
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/h.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/h.ini" >>"$T/tok.err" 2>&1 &
TOK=$!
wx_wait_for "$T/tok.sock" 10 >/dev/null || exit 1
for i in $(seq 1 50); do [ -s "$T/store/token" ] && break; sleep 0.1; done
"$build/wxproxy" -c "$T/h.ini" >>"$T/px.err" 2>&1 &
PX=$!
wx_wait_for "$T/px.sock" 20 >/dev/null || exit 1
TOKEN=$(awk '{ print $5 }' "$T/store/token")
[ -n "$TOKEN" ] && ok "set-up: wxsim, wxtoken (a token), wxproxy" || nok "set-up: no token"

# --- wxtoken's socket -------------------------------------------------------
echo "# wxtoken's report socket"
probe() { python3 "$top/tests/e2e/sockprobe.py" "$T/tok.sock" "$@"; }
tok_fds=$(fds "$TOK")
out=$(probe idle 30)
echo "$out" | sed 's/^/# /'
max_ms=$(awk '$1 == "status_max_ms" { printf "%d", $2 + 0.5 }' <<<"$out")
calls=$(awk '$1 == "status_calls" { print $2 }' <<<"$out")
check "30 silent callers and a dripping one: every STATUS answered with the token" \
    "$calls" "$(awk '$1 == "status_ok" { print $2 }' <<<"$out")"
check_le "... none delayed by more than 100 ms (the slowest, ms)" 100 "${max_ms:-999}"
check_match "a line over the limit: a clear error" "ERR -2 request line longer than 1024 bytes" \
    "$(probe long)"
check_match "binary bytes: a clear error" "ERR -2 binary request*" "$(probe binary)"
check "half a line, then the end: a clear error" "ERR -2 incomplete request" "$(probe partial)"
out=$(probe silent)
check "a silent caller: told so" "ERR -2 request timed out: one line expected at once" \
    "$(head -n 1 <<<"$out")"
ms=$(awk '$1 == "after_ms" { print $2 }' <<<"$out")
[ "${ms:-0}" -ge 1900 ] && [ "${ms:-0}" -le 4000 ] && ok "... after its 2 s ($ms ms)" ||
    nok "silent caller dropped at its deadline" "$ms ms"
check "500 connections at once: every one answered" "answered 500" "$(probe parallel 500)"
alive "$TOK" && ok "wxtoken is still up" || nok "wxtoken died"
check "wxtoken holds as many descriptors as before" "$tok_fds" "$(settled_fds "$tok_fds" "$TOK")"

# --- wxproxy ----------------------------------------------------------------
echo "# wxproxy ($SECONDS s in)"
# parallel N: N calls at once; their statuses in $T/par.out.
parallel() {
    seq 1 "$1" | xargs -P "$1" -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 \
        -H "X-Wx-Key: $KEY" "$URL/cgi-bin/getcallbackip" > "$T/par.out"
}
# Calls at once first, so that every worker has its connection to the
# API (curl keeps it) and the counts below are of a warmed-up pool.  On a
# loaded machine one round may leave a worker without a call (and the
# later burst gives it its connection): rounds until the count holds.
px_pids=$(with_children "$PX")
px_fds=-1
for _ in 1 2 3 4 5 6; do
    parallel 30
    # shellcheck disable=SC2086
    n=$(fds $px_pids)
    [ "$n" = "$px_fds" ] && break
    px_fds=$n
done
st=$(px "" GET /cgi-bin/getcallbackip)
check "no key: 401" 401 "$st"
check "... wxproxy's own error" unknown_key "$(own_error)"
st=$(px "wrong-key-0123456789abcdef" GET /cgi-bin/getcallbackip)
check "a wrong key: 401" 401 "$st"
check "... wxproxy's own error" unknown_key "$(own_error)"
st=$(px "$(head -c 3000 /dev/zero | tr '\0' k)" GET /cgi-bin/getcallbackip)
check "a 3000-byte key: 401" 401 "$st"
check "... wxproxy's own error" unknown_key "$(own_error)"
st=$(px "$KEY" GET /cgi-bin/getcallbackip -H "X-Big: $(head -c 65536 /dev/zero | tr '\0' x)")
check "a 64 KiB header: refused by nginx (400)" 400 "$st"
hdrs=()
for i in $(seq 1 200); do hdrs+=(-H "X-Many-$i: $i"); done
st=$(px "$KEY" GET /cgi-bin/getcallbackip "${hdrs[@]}")
check "200 headers: the call goes through" 200 "$st"
head -c 100000 /dev/urandom > "$T/garbage"
st=$(px "$KEY" POST /cgi-bin/menu/create --data-binary @"$T/garbage" -H 'Content-Type: application/json')
check "a garbage body: passed to WeChat, who answers (200)" 200 "$st"
check "... with its data-format error" 47001 "$(errcode)"
head -c 3000000 /dev/zero > "$T/big"
st=$(px "$KEY" POST /cgi-bin/menu/create --data-binary @"$T/big" -H 'Content-Type: application/json')
check "a 3 MB body over max_body (1m): 413" 413 "$st"
check "... wxproxy's own error" body_too_large "$(own_error)"
head -c 25000000 /dev/zero > "$T/huge"
st=$(px "$KEY" POST /cgi-bin/menu/create --data-binary @"$T/huge" -H 'Content-Type: application/json')
check "a 25 MB body: refused by nginx (413)" 413 "$st"
st=$(px "$KEY" POST /cgi-bin/menu/create -H 'Content-Length: 99999999999999999999' -d '{}')
[[ $st == 4* ]] && ok "an absurd Content-Length: a 4xx ($st)" || nok "absurd Content-Length" "$st"
t0=$SECONDS
parallel 500
echo "# 500 at once: $((SECONDS - t0)) s"
sort "$T/par.out" | uniq -c | sed 's/^/# 500 at once: /'
check "500 calls at once: all 500 answered 200" 500 "$(grep -c '^200$' "$T/par.out")"
alive "$PX" && ok "wxproxy is still up" || nok "wxproxy died"
check "... with the same workers" "$px_pids" "$(with_children "$PX")"
# shellcheck disable=SC2086
check "wxproxy holds as many descriptors as before" "$px_fds" "$(settled_fds "$px_fds" $px_pids)"

# --- wxsim's API ------------------------------------------------------------
echo "# wxsim's API ($SECONDS s in)"
sim_fds=$(fds "$SIM")
st=$(sim "/cgi-bin/menu/create?access_token=$TOKEN" -d '{"button":[{"type":"click",')
check "malformed JSON: 200 with an error" "200 47001" "$st $(errcode)"
st=$(sim "/cgi-bin/menu/create?access_token=$TOKEN" --data-binary @"$T/garbage")
check "binary garbage as JSON: 200 with an error" "200 47001" "$st $(errcode)"
st=$(sim "/cgi-bin/media/upload?access_token=$TOKEN&type=image" \
    -H 'Content-Type: multipart/form-data' --data-binary $'--x\r\n\r\nabc\r\n--x--\r\n')
ec=$(errcode)
[ "$st" = 200 ] && [ "$ec" != none ] && [ "$ec" != 0 ] &&
    ok "multipart without a boundary: an error ($ec)" || nok "multipart without a boundary" "$st $ec"
head -c 3000000 /dev/urandom > "$T/upload.jpg"
st=$(sim "/cgi-bin/media/upload?access_token=$TOKEN&type=image" -F "media=@$T/upload.jpg")
ec=$(errcode)
[ "$ec" != none ] && [ "$ec" != 0 ] &&
    ok "a 3 MB upload over max_upload (1m): an error ($st $ec)" || nok "3 MB upload" "$st $ec"
head -c 12000000 /dev/zero > "$T/huge.jpg"
st=$(sim "/cgi-bin/media/upload?access_token=$TOKEN&type=image" -F "media=@$T/huge.jpg")
check "a 12 MB upload: refused by nginx (413)" 413 "$st"
st=$(sim "/cgi-bin/media/upload?access_token=$TOKEN&type=image" \
    -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary @"$T/garbage")
ec=$(errcode)
[ "$ec" != none ] && [ "$ec" != 0 ] && ok "a multipart body of garbage: an error ($ec)" ||
    nok "garbage multipart" "$st $ec"
alive "$SIM" && ok "wxsim is still up" || nok "wxsim died"
st=$(sim "/cgi-bin/getcallbackip?access_token=$TOKEN")
check "... and answers" "200 none" "$st $(errcode)"
check "wxsim holds as many descriptors as before" "$sim_fds" "$(settled_fds "$sim_fds" "$SIM")"

echo "# done in $SECONDS s"
echo "hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
