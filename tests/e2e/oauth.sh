#!/usr/bin/env bash
# oauth.sh BUILD - end-to-end tests of web pages' part of the API: OAuth 2.0
# web authorization and the JS-SDK, through nginx, wxproxy, wxtoken and
# wxsim over TLS (PROTOCOL.md 12, 13); and every refusal of wxproxy read by a
# client that looks only at errcode, as most SDKs do (PROTOCOL.md 8a).
#
#   - the whole OAuth flow with curl following the redirect: wxsim's
#     authorize page signs a follower in and redirects to wxproxy's
#     /sns/oauth2/access_token, which has wxtoken exchange the code; the
#     web token then works for /sns/userinfo and /sns/auth, never the
#     account's token; a code is valid once (40163) and 5 minutes (40029);
#   - 200 ticket requests at once cause one getticket call; the ticket is
#     in the store with a version, refreshed before it expires;
#     /jssdk/config's signature is SHA-1 of the documented string.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-oauth.XXXXXX")
APPID=wx0123456789abcdef
SECRET=OaSecret0123456789abcdef0123456
KEY_WEB=webkey-0123456789abcdef
KEY_NARROW=narrowkey-0123456789abcdef
KEY_LIMITED=limitkey-0123456789abcdef
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
URL=http://127.0.0.1:$PORT/wxapi
TIMEOUT_MS=2000
# Tokens and tickets live 7200 s in wxsim; for the timed refresh of a
# ticket wxsim is restarted with token_ttl 30, and wxtoken refreshes 20 s
# before the end.
TTL=30
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

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
sim_ctl() { # PATH [JSON]
    if [ $# -gt 1 ]; then sim_curl -d "$2" "$API/sim/$1"; else sim_curl "$API/sim/$1"; fi
}
sim_calls() { # PATH: the calls wxsim received on PATH
    sim_ctl stats | jq -r --arg p "$1" '.calls[$p] // 0'
}
# px KEY PATH [curl args...]: GET through nginx and wxproxy; prints the
# status, the body in $T/body, the headers in $T/head.
px() {
    local key=$1 path=$2
    shift 2
    local args=(-s -o "$T/body" -D "$T/head" -w '%{http_code}' --max-time 20)
    [ -n "$key" ] && args+=(-H "X-Wx-Key: $key")
    curl "${args[@]}" "$@" "$URL$path"
}
body() { cat "$T/body"; }
field() { jq -r ".$1 // empty" "$T/body"; }
# sdk: what a client that reads only errcode (of any status) makes of
# $T/body: "error N" or "success".
sdk() { jq -r 'if (.errcode // 0) != 0 then "error \(.errcode)" else "success" end' \
    "$T/body" 2>/dev/null || echo "not JSON"; }
ctl() { WX_CONFIG=$T/oa.ini "$build/wxctl" "$@"; }
ask_wxtoken() { # LINE: one request on wxtoken's socket, the answer line
    python3 - "$T/tok.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().rstrip("\n"))
PY
}
stored() { # FILE FIELD: a field of a store record ("wxst1 VERSION OBTAINED EXPIRES VALUE ...")
    awk -v f="$2" '{ print $f }' "$T/store/$1" 2>/dev/null
}

write_config() {
    cat > "$T/oa.ini" <<CONF
[wx]
token = oatest42
appid = $APPID
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret_file = $T/secret
grant = token
store = $T/store/token
listen = unix:$T/tok.sock
refresh_margin = 20
timeout_ms = 3000
log = $T/tok.log
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
token_ttl = 7200
token_daily_limit = 1000
data_dir = $T/simdata
log = $T/sim.log
[wxproxy]
listen = unix:$T/px.sock
workers = 3
api = $API
ca_file = $T/certs/ca.pem
timeout_ms = $TIMEOUT_MS
max_body = 64k
state_dir = $T/state
log = $T/px.log
[wxproxy.key.web]
key = $KEY_WEB
paths = /sns/* /jssdk/config /cgi-bin/ticket/getticket /cgi-bin/getcallbackip
rate = 1000
burst = 1000
[wxproxy.key.narrow]
key = $KEY_NARROW
paths = /cgi-bin/menu/get
rate = 100
[wxproxy.key.limited]
key = $KEY_LIMITED
paths = /cgi-bin/getcallbackip
rate = 1
burst = 1
[wxctl]
proxy = $URL
proxy_key = $KEY_WEB
timeout_ms = 20000
CONF
}

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store" "$T/state"
printf '%s\n' "$SECRET" > "$T/secret"
write_config
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/oa.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/oa.ini" >>"$T/tok.err" 2>&1 &
TOK=$!
wx_wait_for "$T/tok.sock" 10 >/dev/null || exit 1
for i in $(seq 1 50); do [ -s "$T/store/token" ] && break; sleep 0.1; done
"$build/wxproxy" -c "$T/oa.ini" >>"$T/px.err" 2>&1 &
PX=$!
wx_wait_for "$T/px.sock" 20 >/dev/null || exit 1

echo "# wxctl oauth url"
u=$(ctl oauth url --redirect 'https://h5.example.com/cb?x=1&y=2' --scope snsapi_userinfo --state s1)
check "the authorize URL, parameters in the documented order, redirect_uri encoded" \
    "https://open.weixin.qq.com/connect/oauth2/authorize?appid=$APPID&redirect_uri=https%3A%2F%2Fh5.example.com%2Fcb%3Fx%3D1%26y%3D2&response_type=code&scope=snsapi_userinfo&state=s1#wechat_redirect" "$u"
ctl oauth url --redirect https://h5.example.com/ --scope snsapi_all >/dev/null 2>&1
check "an unknown scope is a usage error (2)" 2 "$?"
ctl oauth url --redirect ftp://h5.example.com/ --scope snsapi_base >/dev/null 2>&1
check "a redirect that is not http(s) is refused (2)" 2 "$?"
ctl oauth url --scope snsapi_base >/dev/null 2>&1
check "--redirect is required (2)" 2 "$?"

echo "# the flow, curl following the redirect"
# The page the follower is sent back to is wxproxy's code exchange itself,
# so that following the redirect ends in the follower's web token.
CB="http://127.0.0.1:$PORT/wxapi/sns/oauth2/access_token"
auth=$(ctl oauth url --redirect "$CB" --scope snsapi_userinfo --state st42 --base "$API")
st=$(curl -sS -L --cacert "$T/certs/ca.pem" --max-time 20 -H "X-Wx-Key: $KEY_WEB" \
    -o "$T/body" -D "$T/head" -w '%{http_code} %{num_redirects}' "$auth")
check "authorize -> 302 -> wxproxy -> wxtoken -> the web token (one redirect)" "200 1" "$st"
check_match "... the redirect carried the code and the state" "*Location: $CB?code=*&state=st42*" \
    "$(tr -d '\r' < "$T/head")"
WT=$(field access_token) RT=$(field refresh_token) OID=$(field openid)
[ -n "$WT" ] && [ -n "$RT" ] && [[ $OID == o* ]] && ok "... access_token, refresh_token, openid" ||
    nok "token answer" "$(body)"
check "... scope snsapi_userinfo, expires_in 7200" "snsapi_userinfo 7200" \
    "$(field scope) $(field expires_in)"
CODE=$(tr -d '\r' < "$T/head" | sed -n 's/^Location: .*code=\([^&]*\)&.*/\1/p')
st=$(px "$KEY_WEB" "/sns/oauth2/access_token?code=$CODE")
check "the same code again: 40163 (code been used)" "200 error 40163" "$st $(sdk)"
st=$(px "$KEY_WEB" "/sns/oauth2/access_token?code=NoSuchCode123")
check "an unknown code: 40029" "200 error 40029" "$st $(sdk)"
st=$(px "$KEY_WEB" "/sns/userinfo?access_token=$WT&openid=$OID&lang=zh_CN")
check "userinfo with the web token: 200" 200 "$st"
check "... the follower's profile" "$OID follower-" "$(field openid) $(field nickname | cut -c1-9)"
st=$(px "$KEY_WEB" "/sns/auth?access_token=$WT&openid=$OID")
check "sns/auth: the web token is valid" "200 success" "$st $(sdk)"
st=$(px "$KEY_WEB" "/sns/auth?access_token=$WT&openid=oSomeoneElse")
check "sns/auth for another openid: 40003" "error 40003" "$(sdk)"
st=$(px "$KEY_WEB" "/sns/userinfo?openid=$OID")
check "userinfo without a web token: 41001 (the account's token is never added)" \
    "error 41001" "$(sdk)"
acct=$(awk '{ print $5 }' "$T/store/token")
st=$(px "$KEY_WEB" "/sns/userinfo?access_token=$acct&openid=$OID")
check "userinfo with the account's access_token: 40001" "error 40001" "$(sdk)"
st=$(px "$KEY_WEB" "/sns/userinfo?access_token=bogus&openid=$OID")
grep -q 'reported rejected' "$T/tok.log" || contains 'path=/sns/userinfo.*retried=1' "$T/px.log" &&
    nok "a refused web token was reported as the account's" ||
    ok "... and a refused web token is never reported as the account's, nor retried"
st=$(px "$KEY_WEB" "/sns/oauth2/refresh_token?appid=$APPID&grant_type=refresh_token&refresh_token=$RT")
WT2=$(field access_token)
[ "$st" = 200 ] && [ -n "$WT2" ] && [ "$WT2" != "$WT" ] && ok "refresh_token: a new web token" ||
    nok "refresh_token" "$st $(body)"
st=$(px "$KEY_WEB" "/sns/userinfo?access_token=$WT2&openid=$OID")
check "... which works for userinfo" "$OID" "$(field openid)"
st=$(px "$KEY_WEB" "/sns/oauth2/refresh_token?appid=$APPID&grant_type=refresh_token&refresh_token=nosuch")
check "an unknown refresh_token: 40030" "error 40030" "$(sdk)"

echo "# the JS-SDK ticket: a burst of 200 requests, one fetch"
check "no ticket fetched yet" 0 "$(sim_calls /cgi-bin/ticket/getticket)"
t0=$(date +%s%N)
seq 1 200 | xargs -P 100 -I{} curl -s --max-time 30 -H "X-Wx-Key: $KEY_WEB" \
    "$URL/cgi-bin/ticket/getticket?type=jsapi" > "$T/burst.out"
check "200 answers" 200 "$(jq -c . "$T/burst.out" | grep -c '"errcode":0')"
check "... all the same ticket" 1 "$(jq -r .ticket "$T/burst.out" | sort -u | grep -c .)"
check "... from one getticket call" 1 "$(sim_calls /cgi-bin/ticket/getticket)"
echo "# burst: 200 requests (100 at a time) in $(( ($(date +%s%N) - t0) / 1000000 )) ms:" \
    "$(sim_calls /cgi-bin/ticket/getticket) getticket call"
TICKET=$(jq -r .ticket "$T/burst.out" | head -1)
check "the store holds it, version 1" "1 $TICKET" \
    "$(stored token.jsapi_ticket 2) $(stored token.jsapi_ticket 5)"
st=$(px "$KEY_WEB" "/cgi-bin/ticket/getticket?type=jsapi")
check "getticket later: from the store, no new call" "200 $TICKET 1" \
    "$st $(field ticket) $(sim_calls /cgi-bin/ticket/getticket)"
left=$(field expires_in)
[ "$left" -gt 0 ] && [ "$left" -le 7200 ] && ok "... with the time left ($left s)" ||
    nok "expires_in" "$left"
st=$(px "$KEY_WEB" "/cgi-bin/ticket/getticket?type=wx_card")
CARD=$(field ticket)
[ "$st" = 200 ] && [ -n "$CARD" ] && [ "$CARD" != "$TICKET" ] &&
    ok "the wx_card ticket is another, kept apart" || nok "wx_card" "$st $(body)"
check "... in its own record" "$CARD" "$(stored token.wx_card_ticket 5)"
st=$(px "$KEY_WEB" "/cgi-bin/ticket/getticket?type=other")
check "another type: 400 in the error shape" "400 error 990400" "$st $(sdk)"
a=$(ask_wxtoken "TICKET jsapi REFRESH")
v=$(stored token.jsapi_ticket 2)
[[ $a == "OK 2 "* ]] && [ "$v" = 2 ] && ok "TICKET jsapi REFRESH: a new ticket now, version 2" ||
    nok "ticket refresh on demand" "$a / $v"
TICKET=$(stored token.jsapi_ticket 5)

echo "# /jssdk/config"
PAGE='https://h5.example.com/page?a=1&b=two#section'
out=$(ctl jssdk config "$PAGE")
ts=$(awk '$1 == "timestamp" { print $2 }' <<< "$out")
nonce=$(awk '$1 == "nonceStr" { print $2 }' <<< "$out")
sig=$(awk '$1 == "signature" { print $2 }' <<< "$out")
want=$(printf 'jsapi_ticket=%s&noncestr=%s&timestamp=%s&url=%s' "$TICKET" "$nonce" "$ts" \
    'https://h5.example.com/page?a=1&b=two' | sha1sum | cut -d' ' -f1)
check "wxctl jssdk config: SHA-1 of the sorted string, the URL without its fragment" "$want" "$sig"
check_match "... with the appId" "*appId*$APPID*" "$out"
now=$(date +%s)
[ $((now - ts)) -ge 0 ] && [ $((now - ts)) -le 60 ] && ok "... a current timestamp" ||
    nok "timestamp" "$ts"
[[ $nonce =~ ^[A-Za-z0-9]{16}$ ]] && ok "... a 16-character nonceStr" || nok "nonceStr" "$nonce"
st=$(px "$KEY_WEB" "/jssdk/config?url=http%3A%2F%2Fmp.weixin.qq.com")
check "/jssdk/config: a bare host is signed with its '/'" "http://mp.weixin.qq.com/" "$(field url)"
want=$(printf 'jsapi_ticket=%s&noncestr=%s&timestamp=%s&url=%s' "$TICKET" "$(field nonceStr)" \
    "$(field timestamp)" 'http://mp.weixin.qq.com/' | sha1sum | cut -d' ' -f1)
check "... and that signature" "$want" "$(field signature)"
ctl jssdk config 'ftp://h5.example.com/' >/dev/null 2>&1
check "wxctl jssdk config: a URL that is no page is refused before sending (2)" 2 "$?"
st=$(px "$KEY_WEB" "/jssdk/config")
check "/jssdk/config without url: 400" "400 error 990400" "$st $(sdk)"
check "getticket calls so far: the burst's, wx_card's, the refresh" 3 \
    "$(sim_calls /cgi-bin/ticket/getticket)"

echo "# scopes, consent, expiry"
base=$(ctl oauth url --redirect "$CB" --scope snsapi_base --base "$API")
curl -sS -L --cacert "$T/certs/ca.pem" --max-time 20 -H "X-Wx-Key: $KEY_WEB" -o "$T/body" "$base"
check "snsapi_base: silently signed in" snsapi_base "$(field scope)"
BWT=$(field access_token) BOID=$(field openid)
st=$(px "$KEY_WEB" "/sns/userinfo?access_token=$BWT&openid=$BOID")
check "... userinfo with a base token: 48001" "error 48001" "$(sdk)"
st=$(sim_curl -o /dev/null -w '%{http_code}' -D "$T/head" "${auth%%#*}&sim_consent=deny")
check "snsapi_userinfo declined: no redirect" 200 "$st"
grep -qi '^Location:' "$T/head" && nok "... and no code" || ok "... and no code"
st=$(sim_curl -o /dev/null -w '%{http_code}' -D "$T/head" "${auth%%#*}&sim_openid=oChosenFollower1")
check "the authorize page answers 302" 302 "$st"
CODE=$(tr -d '\r' < "$T/head" | sed -n 's/^Location: .*code=\([^&]*\)&.*/\1/p')
sim_ctl clock '{"advance":301}' >/dev/null
st=$(px "$KEY_WEB" "/sns/oauth2/access_token?code=$CODE")
check "a code unused for 5 minutes: 40029" "error 40029" "$(sdk)"
st=$(sim_curl -o /dev/null -w '%{http_code}' -D "$T/head" "${auth%%#*}&sim_openid=oChosenFollower1")
CODE=$(tr -d '\r' < "$T/head" | sed -n 's/^Location: .*code=\([^&]*\)&.*/\1/p')
sim_ctl clock '{"advance":290}' >/dev/null
st=$(px "$KEY_WEB" "/sns/oauth2/access_token?code=$CODE")
check "... within 5 minutes it works, for the follower signed in" "oChosenFollower1" "$(field openid)"
st=$(sim_curl "$API/sns/oauth2/access_token?appid=$APPID&secret=wrongsecret0123456789&code=x&grant_type=authorization_code")
check_match "wxsim: a wrong AppSecret: 40125" '*"errcode":40125*' "$st"
st=$(sim_curl "$API/connect/oauth2/authorize?appid=wxnotthisone&redirect_uri=https%3A%2F%2Fa%2F&response_type=code&scope=snsapi_base")
check_match "wxsim: the authorize page for another appid: 40013" '*"errcode":40013*' "$st"
grep -q "$SECRET" "$T/px.log" "$T/tok.log" "$T/sim.log" "$T"/*.log 2>/dev/null &&
    nok "the AppSecret is in a log" || ok "the AppSecret is in no log"
grep -q "$WT" "$T/px.log" "$T/tok.log" "$T/sim.log" && nok "a web token is in a log" ||
    ok "no web token in wxproxy's, wxtoken's or wxsim's log"

echo "# the ticket refreshed before it expires (wxsim restarted: ttl $TTL s; margin 20 s)"
wx_stop_pids $SIM; SIM=""
sed -i "s/^token_ttl = .*/token_ttl = $TTL/" "$T/oa.ini"
rm -f "$T/sim.sock"
"$build/wxsim" -c "$T/oa.ini" 2>>"$T/sim.err" &
SIM=$!
wx_wait_for "$T/sim.sock" 10 >/dev/null
v0=$(stored token.jsapi_ticket 2)
a=$(ask_wxtoken "TICKET jsapi REFRESH")
check_match "a new wxsim knows no old token: the ticket comes after a token refresh" \
    "OK $((v0 + 1)) *" "$a"
for i in $(seq 1 200); do [ "$(stored token.jsapi_ticket 2)" -gt $((v0 + 1)) ] && break; sleep 0.1; done
v=$(stored token.jsapi_ticket 2)
exp=$(stored token.jsapi_ticket 4)
[ "$v" -gt $((v0 + 1)) ] && [ "$exp" -gt "$(date +%s)" ] &&
    ok "wxtoken replaced it before its end: version $v" ||
    nok "timed ticket refresh" "version $v, expires $exp"

echo "# every refusal of wxproxy, read by a client that looks only at errcode"
refusal() { # NAME STATUS ERROR: the last answer, as an SDK sees it
    local want="$2 error $((990000 + $2)) $3"
    check "$1: an error to an errcode-only client" "$want" "$st $(sdk) $(field error)"
}
st=$(px "" /cgi-bin/getcallbackip); refusal "no key" 401 unknown_key
st=$(px "wrongkey-0123456789abcdef" /cgi-bin/getcallbackip); refusal "unknown key" 401 unknown_key
st=$(px "$KEY_NARROW" "/sns/oauth2/access_token?code=x"); refusal "path not allowed" 403 path_not_allowed
for i in 1 2 3 4 5; do st=$(px "$KEY_LIMITED" /cgi-bin/getcallbackip); [ "$st" = 429 ] && break; done
refusal "rate limited" 429 rate_limited
check_match "... with Retry-After" '*Retry-After: [1-9]*' "$(tr -d '\r' < "$T/head")"
head -c 70000 /dev/zero > "$T/big.bin"
st=$(px "$KEY_WEB" /sns/userinfo -H 'Content-Type: application/json' --data-binary "@$T/big.bin")
refusal "body too large" 413 body_too_large
sim_ctl fault '{"path":"/cgi-bin/getcallbackip","kind":"slow","ms":'$((TIMEOUT_MS + 1000))',"count":1}' >/dev/null
st=$(px "$KEY_WEB" /cgi-bin/getcallbackip); refusal "upstream timeout" 504 upstream_timeout
sleep 1.5
# Twice: libcurl tries a reused connection that closes unanswered once more.
sim_ctl fault '{"path":"/cgi-bin/getcallbackip","kind":"drop","count":2}' >/dev/null
st=$(px "$KEY_WEB" /cgi-bin/getcallbackip); refusal "upstream unreachable" 502 upstream_failed
st=$(px "$KEY_WEB" /cgi-bin/getcallbackip -X PUT); refusal "method not allowed" 405 method_not_allowed
st=$(px "$KEY_WEB" '/cgi-bin/get%20callbackip'); refusal "not an API path" 400 bad_request
# Without wxtoken and its store: no token, no ticket, no code exchange.
wx_stop_pids $TOK; TOK=""
rm -f "$T"/store/token*
st=$(px "$KEY_WEB" /cgi-bin/getcallbackip); refusal "token unavailable" 503 no_token
check_match "... with Retry-After" '*Retry-After: [1-9]*' "$(tr -d '\r' < "$T/head")"
st=$(px "$KEY_WEB" "/cgi-bin/ticket/getticket?type=jsapi"); refusal "ticket unavailable" 503 no_ticket
st=$(px "$KEY_WEB" "/sns/oauth2/access_token?code=abc"); refusal "code exchange unavailable" 503 wxtoken_unavailable
check_match "... WeChat's own answers keep their Content-Type" 'application/json; encoding=utf-8' \
    "$(grep -i '^Content-Type:' "$T/head" | cut -d' ' -f2- | tr -d '\r')"

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
