#!/usr/bin/env bash
# accounts_api.sh BUILD - end-to-end tests of several accounts on the API
# side: wxsim simulating three accounts (its own AppID, secret and state
# each) behind nginx with TLS, wxtoken keeping a token per account (file
# store, then Redis), wxproxy choosing the account of a call by
# X-Wx-Account and refusing a key the account is not listed for, rate
# limits per key and account, wxctl --account / WX_ACCOUNT, and wxfcgi's
# business calls and late answers naming the account of their message.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-acctapi.XXXXXX")
APPID_A=wx0123456789abcdef
APPID_B=wxbbbbbbbbbbbbbbbb
APPID_C=wxcccccccccccccccc
SECRET_A=AaSecret0123456789abcdef0123456
SECRET_B=BbSecret0123456789abcdef0123456
SECRET_C=CcSecret0123456789abcdef0123456
SECRET_D=DdSecret0123456789abcdef0123456
KEY_A=akey-0123456789abcdef
KEY_B=bkey-0123456789abcdef
KEY_ALL=allkey-0123456789abcdef
KEY_CTL=ctlkey-0123456789abcdef
KEY_UP=upkey-0123456789abcdef
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
BIZPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
while [ "$BIZPORT" = "$PORT" ] || [ "$BIZPORT" = "$SIMPORT" ]; do BIZPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
URL=http://127.0.0.1:$PORT/wxapi
SIM="" TOK="" PX="" REDIS_PID="" MASTER="" BIZ=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER $BIZ $PX $TOK $REDIS_PID $SIM
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
# issued ACCOUNT: the tokens wxsim issued to ACCOUNT (default, b, c).
issued() { sim_curl "$API/sim/stats?account=$1" | jq -r '.tokens_issued.token'; }

# px KEY ACCOUNT METHOD PATH [curl args...]: a call through nginx (ACCOUNT
# "" sends no X-Wx-Account); prints the status, the body in $T/body.
px() {
    local key=$1 acct=$2 method=$3 path=$4
    shift 4
    local args=(-s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$method"
                -H "X-Wx-Key: $key")
    [ -n "$acct" ] && args+=(-H "X-Wx-Account: $acct")
    curl "${args[@]}" "$@" "$URL$path"
}
body() { cat "$T/body"; }
# own_error: the code of wxproxy's refusal in $T/body, after checking the
# shape (errcode 990000 + $st, errmsg).
own_error() {
    jq -r --argjson st "$st" 'if .errcode == 990000 + $st and (.errmsg | type) == "string"
        and .errmsg != "" then .error else "not the error shape: \(tojson)" end' \
        "$T/body" 2>&1
}
# rec N FILE: field N of a token record file (wxtoken1 version obtained expires token sum).
rec() { awk -v n="$1" '{ print $n }' "$2" 2>/dev/null; }

write_config() { # FILE STATE_SECTION STORE LISTEN
    cat > "$1" <<CONF
[wx]
token = acctapi42
appid = $APPID_A
[account.b]
appid = $APPID_B
appsecret_file = $T/secret_b
token = btoken42
[account.c]
appid = $APPID_C
appsecret = $SECRET_C
grant = stable_token
token = ctoken42
[account.cb]
appid = wxdddddddddddddddd
token = onlycallbacks1
$2
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret = $SECRET_A
grant = token
store = $3
listen = unix:$4
timeout_ms = 3000
log = $T/tok.log
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID_A
appsecret = $SECRET_A
data_dir = $T/simdata
log = $T/sim.log
[wxsim.account.b]
appid = $APPID_B
appsecret = $SECRET_B
[wxsim.account.c]
appid = $APPID_C
appsecret = $SECRET_C
[wxsim.account.d]
appid = wxdddddddddddddddd
appsecret = $SECRET_D
[wxproxy]
listen = unix:$T/px.sock
workers = 2
api = $API
ca_file = $T/certs/ca.pem
state_dir = $T/state
log = $T/px.log
[wxproxy.key.a]
key = $KEY_A
paths = /cgi-bin/menu/* /cgi-bin/getcallbackip
rate = 1000
[wxproxy.key.b]
key = $KEY_B
paths = /cgi-bin/menu/* /cgi-bin/getcallbackip
accounts = b
rate = 1000
[wxproxy.key.all]
key = $KEY_ALL
paths = /cgi-bin/menu/* /cgi-bin/getcallbackip
accounts = default b c
rate = 1
burst = 3
[wxproxy.key.ctl]
key = $KEY_CTL
paths = /cgi-bin/menu/* /cgi-bin/ticket/getticket
accounts = b c
rate = 1000
[wxproxy.key.up]
key = $KEY_UP
paths = /cgi-bin/message/custom/send
accounts = default b
rate = 1000
[wxctl]
proxy = $URL
proxy_key = $KEY_CTL
[wxfcgi]
listen = unix:$T/wx.sock
socket_mode = 0666
workers = 2
state_dir = $T/fstate
log = $T/wxfcgi.log
log_level = info
handler = upstream
reply_budget_ms = 800
[upstream]
url = http://127.0.0.1:$BIZPORT/hook
timeout_ms = 15000
proxy = $URL
proxy_key = $KEY_UP
CONF
}

wait_store() { # FILE: until it holds a token
    local i
    for i in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done
    return 1
}

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store" "$T/rstore" "$T/state"
printf '%s\n' "$SECRET_B" > "$T/secret_b"
write_config "$T/wx.ini" "" "$T/store/token" "$T/tok.sock"
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/wx.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID

echo "# config"
out=$("$build/wxtoken" -t -c "$T/wx.ini"); rc=$?
check "wxtoken -t accepts three accounts" 0 "$rc"
check_match "... names account b and its store STORE@b" "*account b: appid $APPID_B*token@b*" "$out"
[[ $out != *"account cb"* ]] && ok "... not the account without an appsecret" ||
    nok "an account without appsecret got a token" "$out"
sed "s/^appid = $APPID_C/appid = $APPID_B/" "$T/wx.ini" > "$T/bad.ini"
out=$("$build/wxtoken" -t -c "$T/bad.ini" 2>&1); rc=$?
check "two accounts of one AppID stop wxtoken (1)" 1 "$rc"
check_match "... naming both" "*account.c*account.b*" "$out"
sed 's/^accounts = b$/accounts = b nosuch/' "$T/wx.ini" > "$T/bad.ini"
out=$("$build/wxproxy" -t -c "$T/bad.ini" 2>&1); rc=$?
check "a key listing an unknown account stops wxproxy (1)" 1 "$rc"
check_match "... naming it" "*wxproxy.key.b*nosuch*" "$out"

echo "# wxtoken: a token per account"
"$build/wxtoken" -c "$T/wx.ini" >>"$T/tok.err" 2>&1 &
TOK=$!
wx_wait_for "$T/tok.sock" 10 >/dev/null || { nok "wxtoken starts"; exit 1; }
wait_store "$T/store/token" && wait_store "$T/store/token@b" && wait_store "$T/store/token@c" &&
    ok "each account has its store record: token, token@b, token@c" ||
    nok "store records" "$(ls "$T/store")"
[ ! -e "$T/store/token@cb" ] && ok "... none for the account without an appsecret" ||
    nok "token@cb exists"
ta=$(rec 5 "$T/store/token") tb=$(rec 5 "$T/store/token@b") tc=$(rec 5 "$T/store/token@c")
[ -n "$ta" ] && [ "$ta" != "$tb" ] && [ "$tb" != "$tc" ] && [ "$ta" != "$tc" ] &&
    ok "three different tokens" || nok "tokens differ" "$ta / $tb / $tc"
check "wxsim issued one token to the default account" 1 "$(issued default)"
check "... one to b (by its AppID and secret)" 1 "$(issued b)"
st=$(sim_curl "$API/sim/stats?account=c" | jq -r '.tokens_issued.stable_token')
check "... and one stable token to c (its own grant)" 1 "$st"
ctl() { "$build/wxctl" -c "$T/wx.ini" "$@"; }
check "wxctl --account b token --show: b's token" "$tb" "$(ctl --account b token --show)"
check "WX_ACCOUNT=c wxctl token --show: c's token" "$tc" "$(WX_ACCOUNT=c ctl token --show)"
check "wxctl token --show: the default one" "$ta" "$(ctl token --show)"
ctl --account nosuch token >/dev/null 2>&1
check "wxctl --account of no account: exit 2" 2 "$?"
ctl --account 'b/../x' token >/dev/null 2>&1
check "wxctl --account with a bad name: exit 2" 2 "$?"
# tok_req LINE: wxtoken's answer to one request line on its socket.
tok_req() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n"); print(s.recv(4096).decode().strip())' "$T/tok.sock" "$1" 2>&1
}
check_match "wxtoken: ACCOUNT of an unknown name is refused" "ERR -2 unknown account*" \
    "$(tok_req "ACCOUNT nosuch STATUS")"

echo "# one account's refresh leaves the others alone"
va=$(rec 2 "$T/store/token") vc=$(rec 2 "$T/store/token@c")
out=$(ctl --account b token --refresh); rc=$?
check "wxctl --account b token --refresh" 0 "$rc"
check "b's version went up" 2 "$(rec 2 "$T/store/token@b")"
[ "$(rec 5 "$T/store/token@b")" != "$tb" ] && ok "... with a new token" || nok "b's token unchanged"
check "the default account's version is untouched" "$va" "$(rec 2 "$T/store/token")"
check "... and its token" "$ta" "$(rec 5 "$T/store/token")"
check "c's version is untouched" "$vc" "$(rec 2 "$T/store/token@c")"
check "... and its token" "$tc" "$(rec 5 "$T/store/token@c")"
check "wxsim issued b a second token" 2 "$(issued b)"
check "... and the default account none" 1 "$(issued default)"
tb=$(rec 5 "$T/store/token@b")
out=$(ctl metrics wxtoken)
check_match "METRICS: b's version, labelled" '*wxtoken_token_version{account="b"} 2*' "$out"
check_match "... the default's" '*wxtoken_token_version{account="default"} 1*' "$out"
check_match "... b's refreshes" '*wxtoken_refreshes_total{account="b",result="ok"} 2*' "$out"
check_match "... c's" '*wxtoken_refreshes_total{account="c",result="ok"} 1*' "$out"
grep -q "account b: refresh done" "$T/tok.log" && ok "the log names the account of a refresh" ||
    nok "account in the log"
! grep -qE "$SECRET_A|$SECRET_B|$SECRET_C" "$T/tok.log" "$T/tok.err" &&
    ok "no AppSecret in wxtoken's log" || nok "a secret in the log"

echo "# wxtoken: HUP adds, removes and keeps accounts"
va=$(rec 2 "$T/store/token") vb=$(rec 2 "$T/store/token@b") tc=$(rec 5 "$T/store/token@c")
cp "$T/wx.ini" "$T/wx.ini.orig"
# cb gets an appsecret (wxsim's account d), c loses its own.
awk -v s="$SECRET_D" '{ print } /^token = onlycallbacks1$/ { print "appsecret = " s }' \
    "$T/wx.ini.orig" | sed "/^appsecret = $SECRET_C\$/d" > "$T/wx.ini"
l0=$(wc -l < "$T/tok.log")
tok_log() { tail -n +"$((l0 + 1))" "$T/tok.log"; }
wait_log() { # PATTERN: until wxtoken's log since l0 has it (10 s)
    local i
    for i in $(seq 1 100); do tok_log | contains "$1" && return 0; sleep 0.1; done
    return 1
}
kill -HUP "$TOK"
wait_log "config reloaded" && ok "HUP: the config reloaded" || nok "HUP reload" "$(tok_log)"
check_match "... the log says what changed and how many accounts" \
    "*changed: *account.*; 3 accounts*" "$(tok_log | grep 'config reloaded')"
tok_log | contains "account cb added" && ok "... account cb added" || nok "cb added" "$(tok_log)"
tok_log | contains "account c removed" && ok "... account c removed" || nok "c removed" "$(tok_log)"
wait_store "$T/store/token@cb" && ok "cb got its token (its store record token@cb)" ||
    nok "token@cb" "$(ls "$T/store")"
check_match "ACCOUNT cb STATUS answers" "OK 1 *" "$(tok_req "ACCOUNT cb STATUS")"
check_match "ACCOUNT c is unknown now" "ERR -2 unknown account*" "$(tok_req "ACCOUNT c STATUS")"
check "the default account kept its token (same version, no new fetch)" "$va 1" \
    "$(rec 2 "$T/store/token") $(issued default)"
check "b kept its token" "$vb 2" "$(rec 2 "$T/store/token@b") $(issued b)"
check "wxsim issued account d (cb's AppID) one token" 1 "$(issued d)"
kill -0 "$TOK" 2>/dev/null && ok "wxtoken still runs" || nok "wxtoken died on HUP"
l0=$(wc -l < "$T/tok.log")
sed "s|^store = $T/store/token\$|store = $T/elsewhere/token|" "$T/wx.ini" > "$T/wx.ini.new" &&
    mv "$T/wx.ini.new" "$T/wx.ini"
kill -HUP "$TOK"
wait_log "reload failed" && ok "HUP with another [wxtoken] store: refused" || nok "store change" "$(tok_log)"
check_match "... saying it needs a restart" "*wxtoken] store changed, which needs a restart*" \
    "$(tok_log | grep 'reload failed')"
check_match "... and the old config serves on" "OK 1 *" "$(tok_req "ACCOUNT cb STATUS")"
l0=$(wc -l < "$T/tok.log")
printf '[account.broken\n' >> "$T/wx.ini"
kill -HUP "$TOK"
wait_log "reload failed" && ok "HUP with a broken config: refused, logged" || nok "broken" "$(tok_log)"
check_match "... the default account still answers" "OK * * *" "$(tok_req "STATUS")"
l0=$(wc -l < "$T/tok.log")
cp "$T/wx.ini.orig" "$T/wx.ini"
kill -HUP "$TOK"
wait_log "config reloaded" && ok "HUP back to the first config" || nok "reload back" "$(tok_log)"
tok_log | contains "account c added" && tok_log | contains "account cb removed" &&
    ok "... c added again, cb removed" || nok "c back" "$(tok_log)"
check "c's token comes from its store record: the same, no new fetch" "$tc 1" \
    "$(tok_req "ACCOUNT c STATUS" | awk '{ print $4 }') $(sim_curl "$API/sim/stats?account=c" |
        jq -r '.tokens_issued.stable_token')"
# b takes another AppID (wxsim's account d): its record is where the old
# one's was, so the old AppID's token must not be served from it.
l0=$(wc -l < "$T/tok.log")
d0=$(issued d) tb2=$(rec 5 "$T/store/token@b")
sed -e "s/^appid = $APPID_B\$/appid = wxdddddddddddddddd/" \
    -e "s|^appsecret_file = $T/secret_b\$|appsecret = $SECRET_D|" "$T/wx.ini.orig" > "$T/wx.ini"
kill -HUP "$TOK"
wait_log "config reloaded" && ok "HUP: b with a new AppID" || nok "HUP new AppID" "$(tok_log)"
wait_log "account b has a new AppID: its stored token and tickets are retired" &&
    ok "... logged, and its token fetched at once" || nok "new AppID log" "$(tok_log)"
check "... from the new AppID (wxsim's account d issued one more)" $((d0 + 1)) "$(issued d)"
nb=$(rec 5 "$T/store/token@b")
[ -n "$nb" ] && [ "$nb" != "$tb2" ] && ok "... the record holds the new token, not the old AppID's" ||
    nok "b's record after the AppID change" "$tb2 -> $nb"
check_match "... and ACCOUNT b serves it" "OK * * $nb" "$(tok_req "ACCOUNT b STATUS")"
# An AppID WeChat does not know: the fetch fails, and the old token is
# served by no one (retired in the store), rather than as b's.
l0=$(wc -l < "$T/tok.log")
sed -e "s/^appid = $APPID_B\$/appid = wxeeeeeeeeeeeeeeee/" "$T/wx.ini.orig" > "$T/wx.ini"
kill -HUP "$TOK"
wait_log "config reloaded" && wait_log "account b: refresh failed\|account b: .*errcode" &&
    ok "HUP: b with an AppID WeChat refuses, the fetch fails" || nok "bad AppID" "$(tok_log)"
check_match "... ACCOUNT b answers an error, not the last AppID's token" "ERR *" \
    "$(tok_req "ACCOUNT b STATUS")"
out=$(ctl --account b token --show 2>&1); rc=$?
[ "$rc" != 0 ] && [[ $out != *"$nb"* ]] && ok "... and wxctl, reading the store, gets no token ($rc)" ||
    nok "wxctl after a retired token" "$rc $out"
l0=$(wc -l < "$T/tok.log")
cp "$T/wx.ini.orig" "$T/wx.ini"
kill -HUP "$TOK"
wait_log "config reloaded" && wait_log "account b has a new AppID" &&
    ok "HUP: b back to its own AppID, fetched again" || nok "b back" "$(tok_log)"
check_match "... and served" "OK * * *" "$(tok_req "ACCOUNT b STATUS")"

echo "# wxproxy: the account of a call"
"$build/wxproxy" -c "$T/wx.ini" >>"$T/px.err" 2>&1 &
PX=$!
wx_wait_for "$T/px.sock" 20 >/dev/null || { nok "wxproxy starts"; exit 1; }
st=$(px "$KEY_B" b POST /cgi-bin/menu/create -H 'Content-Type: application/json' \
    --data-binary '{"button":[{"type":"click","name":"B","key":"MENU_OF_B"}]}')
check "key b creates b's menu" 200 "$st"
check_match "... WeChat's answer" '*"errcode":*0*' "$(body)"
st=$(px "$KEY_B" "" GET /cgi-bin/menu/get)
check "key b without X-Wx-Account acts for its one account" 200 "$st"
check_match "... and sees b's menu" '*MENU_OF_B*' "$(body)"
st=$(px "$KEY_A" "" GET /cgi-bin/menu/get)
check "key a (no accounts: default alone) reads the default account" 200 "$st"
check_match "... which has no menu (b's state is b's)" '*46003*' "$(body)"
st=$(px "$KEY_CTL" c GET /cgi-bin/menu/get)
check_match "key ctl for c: c's own state, no menu" '*46003*' "$(body)"
grep -q "MENU_OF_B" <<<"$(px "$KEY_CTL" b GET /cgi-bin/menu/get >/dev/null; body)" &&
    ok "key ctl for b: b's menu" || nok "key ctl for b" "$(body)"
st=$(px "$KEY_B" default GET /cgi-bin/menu/get)
check "key b for default: 403" 403 "$st"
check "... account_not_allowed, errcode 990403" account_not_allowed "$(own_error)"
st=$(px "$KEY_B" c GET /cgi-bin/menu/get)
check "key b for c: 403" 403 "$st"
check "... account_not_allowed" account_not_allowed "$(own_error)"
st=$(px "$KEY_A" b GET /cgi-bin/menu/get)
check "key a for b: 403" 403 "$st"
st=$(px "$KEY_ALL" "" GET /cgi-bin/menu/get)
check "key of several accounts without X-Wx-Account: 400" 400 "$st"
check "... account_required, errcode 990400" account_required "$(own_error)"
st=$(px "$KEY_ALL" nosuch GET /cgi-bin/menu/get)
check "an unknown account: 400" 400 "$st"
check "... unknown_account" unknown_account "$(own_error)"
st=$(px "$KEY_B" 'b x' GET /cgi-bin/menu/get)
check "a malformed account name: 400 unknown_account" "400 unknown_account" "$st $(own_error)"
grep -q 'key=b path=/cgi-bin/menu/get status=200.* account=b' "$T/px.log" &&
    ok "the access log names the account" || nok "account in the access log"
check "wxsim saw b's calls with b's current token (no retry)" 0 \
    "$(grep -c 'retried=1' "$T/px.log")"
pm() { ctl metrics wxproxy | awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }
mb=$(pm 'wxproxy_account_calls_total{account="b",outcome="ok"}')
mc=$(pm 'wxproxy_account_calls_total{account="c",outcome="ok"}')
mr=$(pm 'wxproxy_account_calls_total{account="-",outcome="refused"}')
mk=$(pm 'wxproxy_calls_total{key="b",family="menu",outcome="account_not_allowed"}')
px "$KEY_B" b GET /cgi-bin/menu/get >/dev/null
px "$KEY_B" c GET /cgi-bin/menu/get >/dev/null
check "metrics: a call for b counts under account=\"b\", outcome ok" $((mb + 1)) \
    "$(pm 'wxproxy_account_calls_total{account="b",outcome="ok"}')"
check "... not under c" "$mc" "$(pm 'wxproxy_account_calls_total{account="c",outcome="ok"}')"
check "... a key refused for c counts under account=\"-\", refused" $((mr + 1)) \
    "$(pm 'wxproxy_account_calls_total{account="-",outcome="refused"}')"
check "... and under its key as account_not_allowed" $((mk + 1)) \
    "$(pm 'wxproxy_calls_total{key="b",family="menu",outcome="account_not_allowed"}')"
check_match "... every account has its series" '*account="default"*account="b"*account="c"*account="cb"*' \
    "$(ctl metrics wxproxy | grep '^wxproxy_account_calls_total' | tr '\n' ' ')"

st=$(px "$KEY_CTL" b GET '/cgi-bin/ticket/getticket?type=jsapi')
check "b's JS-SDK ticket through the proxy" 200 "$st"
kb=$(jq -r .ticket "$T/body")
st=$(px "$KEY_CTL" c GET '/cgi-bin/ticket/getticket?type=jsapi')
kc=$(jq -r .ticket "$T/body")
[ -n "$kb" ] && [ "$kb" != null ] && [ "$kb" != "$kc" ] && ok "... and c's, another one" ||
    nok "tickets per account" "$kb / $kc"
check "b's ticket is kept in b's record (STORE@b.jsapi_ticket)" "$kb" \
    "$(rec 5 "$T/store/token@b.jsapi_ticket")"
[ ! -e "$T/store/token.jsapi_ticket" ] && ok "... and the default account fetched none" ||
    nok "a default ticket was fetched"

echo "# HUP: wxproxy and wxtoken take a new account while b's calls go on"
st=$(px "$KEY_CTL" cb GET /cgi-bin/menu/get)
check "before: key ctl may not act for cb (403)" "403 account_not_allowed" "$st $(own_error)"
# cb gets an appsecret (wxsim's account d) and key ctl may act for it.
awk -v s="$SECRET_D" '{ print } /^token = onlycallbacks1$/ { print "appsecret = " s }' \
    "$T/wx.ini.orig" | sed 's/^accounts = b c$/accounts = b c cb/' > "$T/wx.ini"
( for i in $(seq 1 40); do px "$KEY_B" b GET /cgi-bin/menu/get; echo; sleep 0.05; done ) \
    > "$T/during.st" 2>&1 &
during=$!
l0=$(wc -l < "$T/tok.log")
kill -HUP "$TOK"
wait_log "account cb added" && ok "wxtoken: cb added" || nok "wxtoken cb" "$(tok_log)"
wait_store "$T/store/token@cb" || nok "cb's token" "$(ls "$T/store")"
kill -HUP "$PX"
for i in $(seq 1 100); do
    [ "$(px "$KEY_CTL" cb GET /cgi-bin/menu/get)" = 200 ] && break
    sleep 0.1
done
check "after HUP: key ctl acts for cb" 200 "$(px "$KEY_CTL" cb GET /cgi-bin/menu/get)"
check_match "... with cb's own state (no menu)" '*46003*' "$(body)"
wait "$during"
check "b's 40 calls during both reloads: all 200" 40 "$(grep -c '^200$' "$T/during.st")"
cp "$T/wx.ini.orig" "$T/wx.ini"
kill -HUP "$PX"
for i in $(seq 1 100); do
    [ "$(px "$KEY_CTL" cb GET /cgi-bin/menu/get)" = 403 ] && break
    sleep 0.1
done
check "HUP back: cb is no longer the key's (403)" 403 "$(px "$KEY_CTL" cb GET /cgi-bin/menu/get)"
l0=$(wc -l < "$T/tok.log")
kill -HUP "$TOK"
wait_log "account cb removed" && ok "... and wxtoken removed cb" || nok "cb removed" "$(tok_log)"

echo "# rate limits per key and account (KEY@NAME)"
n=0 limited=0
for i in $(seq 1 12); do
    st=$(px "$KEY_ALL" b GET /cgi-bin/getcallbackip)
    n=$((n + 1))
    [ "$st" = 429 ] && { limited=1; break; }
done
check "key all for b is limited after its burst" 1 "$limited"
check_match "... the refusal names the account" '*for account b*' "$(body)"
t0=$(date +%s%N) okc=0
for i in 1 2 3; do [ "$(px "$KEY_ALL" c GET /cgi-bin/getcallbackip)" = 200 ] && okc=$((okc + 1)); done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# b limited after $n calls; then 3 calls for c in $ms ms"
check "key all for c still has its own burst (3 of 3)" 3 "$okc"
check "... and for default too" 200 "$(px "$KEY_ALL" default GET /cgi-bin/getcallbackip)"

echo "# wxctl --account and WX_ACCOUNT"
out=$(ctl --account b menu get --json); rc=$?
check "wxctl --account b menu get" 0 "$rc"
check_match "... b's menu" '*MENU_OF_B*' "$out"
out=$(WX_ACCOUNT=b ctl menu get --json); rc=$?
check "WX_ACCOUNT=b wxctl menu get: b's menu" "0 yes" "$rc $([[ $out == *MENU_OF_B* ]] && echo yes)"
out=$(WX_ACCOUNT=b ctl --account c menu get --json 2>&1); rc=$?
check_match "--account wins over WX_ACCOUNT (c: no menu)" '*46003*' "$out"
out=$(ctl menu get 2>&1); rc=$?
check "wxctl without an account, key of several: exit 1" 1 "$rc"
check_match "... wxproxy's account_required" '*account_required*' "$out"

echo "# wxfcgi: the business call and the late answer name the message's account"
python3 "$top/scripts/example-business.py" --port "$BIZPORT" --calls "$T/calls" --delay 2 \
    2>>"$T/biz.log" &
BIZ=$!
"$build/wxfcgi" -c "$T/wx.ini" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$T/wx.sock" 10 >/dev/null && wx_wait_for "tcp:$BIZPORT" 10 >/dev/null ||
    { nok "wxfcgi and the business service start" "$(tail -3 "$T/wxfcgi.log")"; exit 1; }
# custom ACCOUNT OPENID: the customer-service messages wxsim holds for
# OPENID in ACCOUNT's state.
custom() {
    sim_curl "$API/sim/custom?account=$1" |
        jq -r --arg o "$2" '[(if type == "array" then . else [.[] | arrays] | add end)[]
            | select(.touser == $o) | .text.content] | join("|")'
}
# push_late ACCOUNT OPENID TEXT: a text to ACCOUNT's URL, answered late
# (the business takes 2 s, the budget is 0.8 s); prints wxsim's outcome.
push_late() {
    printf '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content></xml>' \
        "$3" > "$T/late.xml"
    "$build/wxsim" push -c "$T/wx.ini" --url "http://127.0.0.1:$PORT/wx" \
        ${1:+--account "$1"} --from "$2" --retries 0 "$T/late.xml" 2>/dev/null |
        awk '{ print $NF }'
}
wait_custom() { # ACCOUNT OPENID WANT: until wxsim holds WANT for them (12 s)
    local i
    for i in $(seq 1 120); do [ "$(custom "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done
    return 1
}
OB=oLateFollowerOfB00000000000 OD=oLateFollowerOfDefault00000
out=$(push_late b "$OB" "for b")
check_match "a push to /wx/b answered 'success' within the budget" "*success*" "$out"
wait_custom b "$OB" "You said: for b" &&
    ok "... the late answer reached b's follower as b's customer-service message" ||
    nok "late answer in b's state" "b: $(custom b "$OB"); default: $(custom default "$OB");
$(grep 'late answer' "$T/wxfcgi.log" | tail -2)"
check "... and nothing reached the default account's state" "" "$(custom default "$OB")"
grep -q '"FromUserName": "'"$OB"'".*"X-Wx-Account": "b"' "$T/calls" &&
    ok "the business call named account b (X-Wx-Account: b)" ||
    nok "X-Wx-Account on the business call" "$(grep "$OB" "$T/calls")"
grep -q 'key=up path=/cgi-bin/message/custom/send status=200.* account=b' "$T/px.log" &&
    ok "wxproxy sent it for account b" || nok "wxproxy account of the late answer" \
    "$(grep 'custom/send' "$T/px.log" | tail -2)"
out=$(push_late "" "$OD" "for default")
check_match "a push to /wx: 'success'" "*success*" "$out"
wait_custom default "$OD" "You said: for default" &&
    ok "... its late answer went to the default account" ||
    nok "late answer in the default state" "$(custom default "$OD") / b: $(custom b "$OD")"
check "... not to b" "" "$(custom b "$OD")"
grep -q '"FromUserName": "'"$OD"'".*"X-Wx-Account": "default"' "$T/calls" &&
    ok "the business call of [wx] named account default" ||
    nok "X-Wx-Account default" "$(grep "$OD" "$T/calls")"
out=$(push_late c oLateFollowerOfC000000000000 "for c")
check_match "a push to /wx/c: 'success'" "*success*" "$out"
for _ in $(seq 1 120); do grep -q 'late answer for text .* not sent' "$T/wxfcgi.log" && break; sleep 0.1; done
grep -q 'late answer for text .* not sent: .*wxproxy refused\|late answer for text .* not sent: .*may not' \
    "$T/wxfcgi.log" && ok "c's late answer is refused: the key may not act for c (logged)" ||
    nok "c's late answer refused" "$(grep 'late answer' "$T/wxfcgi.log" | tail -2)"
check "... and nothing reached c" "" "$(custom c oLateFollowerOfC000000000000)"
wx_stop_pids $MASTER $BIZ; MASTER="" BIZ=""

echo "# Redis: the accounts' records apart"
wx_stop_pids $PX $TOK; PX="" TOK=""
REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
if [ ! -x "$REDIS_SERVER" ]; then
    nok "redis-server is installed (scripts/deps.sh test installs it)"
else
    "$REDIS_SERVER" --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
        --save '' --appendonly no --dir "$T" --logfile "$T/redis.log" &
    REDIS_PID=$!
    wx_wait_for "$T/redis.sock" 10 >/dev/null || { nok "redis-server starts"; exit 1; }
    write_config "$T/r.ini" "[state]
store = redis
redis = unix:$T/redis.sock
key_prefix = wxt:" "$T/rstore/token" "$T/rtok.sock"
    "$build/wxtoken" -c "$T/r.ini" >>"$T/rtok.err" 2>&1 &
    TOK=$!
    wx_wait_for "$T/rtok.sock" 10 >/dev/null || { nok "wxtoken on redis starts"; exit 1; }
    rctl() { "$build/wxctl" -c "$T/r.ini" "$@"; }
    for i in $(seq 1 100); do
        rctl --account c token >/dev/null 2>&1 && rctl --account b token >/dev/null 2>&1 &&
            rctl token >/dev/null 2>&1 && break
        sleep 0.1
    done
    keys=$(redis-cli -s "$T/redis.sock" --scan --pattern 'wxt:*' | sort | tr '\n' ' ')
    check_match "the default token under the plain prefix" "*wxt:token:*" "$keys"
    check_match "b's under KEY_PREFIX APPID:" "*wxt:$APPID_B:token:*" "$keys"
    check_match "c's too" "*wxt:$APPID_C:token:*" "$keys"
    ra=$(rctl token --show) rb=$(rctl --account b token --show) rc_=$(rctl --account c token --show)
    [ -n "$ra" ] && [ -n "$rb" ] && [ "$ra" != "$rb" ] && [ "$rb" != "$rc_" ] &&
        ok "three tokens in Redis, each its own" || nok "redis tokens" "$ra / $rb / $rc_"
    rv=$(rctl token | awk '/^version/ { print $2 }')
    rctl --account c token --refresh >/dev/null
    check "a refresh of c leaves the default token in Redis" "$ra" "$(rctl token --show)"
    check "... and its version" "$rv" "$(rctl token | awk '/^version/ { print $2 }')"
    check "... and b's token" "$rb" "$(rctl --account b token --show)"
    [ "$(rctl --account c token --show)" != "$rc_" ] && ok "... while c's is new" ||
        nok "c's token unchanged"
    [ ! -e "$T/rstore/token@b" ] && ok "nothing in the file store with Redis" ||
        nok "file records with redis"
fi

echo "accounts_api: $pass passed, $fail failed"
[ "$fail" = 0 ]
