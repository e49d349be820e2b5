#!/usr/bin/env bash
# sim.sh BUILD - end-to-end tests of wxsim, the simulated api.weixin.qq.com,
# through the real path: a private CA (scripts/wx-certs), nginx serving
# HTTPS on free loopback ports, wxsim standalone (instance a) and under
# spawn-fcgi (instance b, whose IP whitelist excludes us), curl with TLS
# verification on.
#
# WXSIM_WRAPPER is put in front of every wxsim, e.g.
#   WXSIM_WRAPPER="valgrind --error-exitcode=1 --leak-check=full" tests/e2e/sim.sh build
# An instance's exit status (0 after TERM) is a test of its own.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-sim.XXXXXX")
FIX=$top/tests/fixtures/sim
APPID=wx0123456789abcdef
SECRET=SimSecret0123456789abcdef012345
OPENID=oUserOpenId0123456789abcdef
read -r -a WRAP <<< "${WXSIM_WRAPPER:-}"
# spawn-fcgi does not search PATH.
[ ${#WRAP[@]} -gt 0 ] && WRAP[0]=$(command -v "${WRAP[0]}")
PORT_A=$(wx_free_port)
PORT_B=$(wx_free_port)
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B=$(wx_free_port); done
BASE=https://127.0.0.1:$PORT_A
BASE_B=https://127.0.0.1:$PORT_B
SIM_A=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2046,SC2086
    wx_stop_pids $SIM_A $([ -f "$T/b.pid" ] && grep -E '^[0-9]+$' "$T/b.pid")
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config NAME ALLOW_IPS: instance NAME's config.
write_config() {
    cat > "$T/$1.ini" <<CONF
[wx]
token = simtest42
[wxsim]
listen = unix:$T/$1.sock
appid = $APPID
appsecret = $SECRET
allow_ips = $2
token_ttl = 7200
token_daily_limit = 6
max_upload = 256k
data_dir = $T/data-$1
log = $T/$1.log
log_level = info
CONF
}

# render_nginx: one server per instance from nginx/wxsim.conf.in, inside a
# minimal http{} of our own.
render_nginx() {
    local user="" n port
    mkdir -p "$T/tmp"
    cp /etc/nginx/fastcgi_params "$T/fastcgi_params"
    [ "$(id -u)" = 0 ] && user="user root;"
    for n in a b; do
        port=$PORT_A; [ "$n" = b ] && port=$PORT_B
        sed -e "s|@SIM_PORT@|$port|g" -e "s|@SIM_CERT@|$T/certs/server.pem|g" \
            -e "s|@SIM_KEY@|$T/certs/server.key|g" -e "s|@SIM_SOCKET@|$T/$n.sock|g" \
            "$top/nginx/wxsim.conf.in" > "$T/wxsim-$n.conf"
    done
    cat > "$T/nginx.conf" <<CONF
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
$user
events { worker_connections 256; }
http {
    access_log $T/nginx-access.log;
    client_body_temp_path $T/tmp/body;
    fastcgi_temp_path $T/tmp/fastcgi;
    proxy_temp_path $T/tmp/proxy;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;
    server_tokens off;
    include $T/wxsim-a.conf;
    include $T/wxsim-b.conf;
}
CONF
}

# call METHOD PATH [JSON|@FILE]: prints the HTTP status; the body is in
# $T/body, curl's exit status in $T/curl.rc.
call_at() {
    local base=$1 m=$2 p=$3 rc
    shift 3
    local args=(-s --cacert "$T/certs/ca.pem" -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m")
    [ $# -gt 0 ] && args+=(-H 'Content-Type: application/json' --data-binary "$1")
    curl "${args[@]}" "$base$p"; rc=$?
    echo "$rc" > "$T/curl.rc"
}
call() { call_at "$BASE" "$@"; }
# upload PATH FIELD...: a multipart POST (curl -F), status printed.
upload() {
    local p=$1
    shift
    local args=(-s --cacert "$T/certs/ca.pem" -o "$T/body" -w '%{http_code}' --max-time 30)
    for f in "$@"; do args+=(-F "$f"); done
    curl "${args[@]}" "$BASE$p"
}
ec() { jq -r 'if type == "object" then (.errcode // 0) else "not-an-object" end' "$T/body" 2>/dev/null || echo "not-json"; }
field() { jq -r "$1" "$T/body" 2>/dev/null; }
ctl() { local b='{}'; [ $# -gt 1 ] && b=$2; call POST "/sim/$1" "$b" >/dev/null; }
advance() { ctl clock "{\"advance\":$1}"; }
tok_q() { echo "grant_type=client_credential&appid=$APPID&secret=$SECRET"; }
new_token() { call GET "/cgi-bin/token?$(tok_q)" >/dev/null; field .access_token; }
stable() { # FORCE: prints the body
    call POST /cgi-bin/stable_token \
        "{\"grant_type\":\"client_credential\",\"appid\":\"$APPID\",\"secret\":\"$SECRET\",\"force_refresh\":$1}" >/dev/null
    cat "$T/body"
}
api_ok() { # TOKEN: errcode of getcallbackip with it
    call GET "/cgi-bin/getcallbackip?access_token=$1" >/dev/null
    ec
}

# A clean slate whose simulated day has just begun (01:00 Beijing time),
# so that no day boundary falls inside a test, on a frozen clock, so that
# every second counted is exact.
fresh() {
    local now
    ctl reset
    ctl clock '{"freeze":true}'
    call GET /sim/clock >/dev/null
    now=$(field .now)
    advance $(( 86400 - (now + 28800) % 86400 + 3600 ))
}

# ---------------------------------------------------------------- setup --
echo "# wxsim end-to-end tests (https://127.0.0.1:$PORT_A and :$PORT_B, run dir $T)"
[ ${#WRAP[@]} -gt 0 ] && echo "# wrapper: ${WRAP[*]}"

out=$("$build/wxsim" --help); rc=$?
check "--help exits 0" 0 "$rc"
case "$out" in *"Usage: wxsim -c FILE"*"/sim/fault"*"Exit status"*) ok "--help documents usage, /sim/ and exit codes" ;;
*) nok "--help documents usage, /sim/ and exit codes" ;; esac
"$build/wxsim" --bogus >/dev/null 2>&1; check "unknown option exits 2" 2 $?
"$build/wxsim" >/dev/null 2>&1; check "no -c exits 2" 2 $?
printf '[wx]\ntoken = simtest42\n[wxsim]\nappsecret = x\n' > "$T/noappid.ini"
err=$("$build/wxsim" -c "$T/noappid.ini" 2>&1); rc=$?
check "a config without [wxsim] appid exits 1" 1 "$rc"
check_match "the missing key is named" "*appid is missing*" "$err"

# wxsim reads [wxsim] alone: a [wx] without a token (or none) is no concern of it.
printf '[wx]\nappid = wx0123456789abcdef\n[wxfcgi]\nworkers = 1\n[wxsim]\nlisten = unix:%s\nappid = wx0123456789abcdef\nappsecret = x\ndata_dir = %s\nlog = %s\n' \
    "$T/notoken.sock" "$T/notoken-data" "$T/notoken.log" > "$T/notoken.ini"
err=$(WX_TOKEN="" "$build/wxsim" -c "$T/notoken.ini" -t 2>&1); rc=$?
check "a config without [wx] token: -t exits 0" 0 "$rc"
WX_TOKEN="" "$build/wxsim" -c "$T/notoken.ini" 2>>"$T/notoken.log" &
nt=$!
if wx_wait_for "$T/notoken.sock" 10; then ok "... and wxsim starts on it"; else nok "... and wxsim starts on it" "$(cat "$T/notoken.log")"; fi
kill -TERM "$nt" 2>/dev/null; wait "$nt"
check "... and stops on TERM with 0" 0 $?

if ! "$top/scripts/wx-certs" "$T/certs"; then nok "wx-certs makes the CA and the certificate"; exit 1; fi
ok "wx-certs makes the CA and the certificate"
sum=$(md5sum < "$T/certs/server.pem")
"$top/scripts/wx-certs" "$T/certs"
check "wx-certs is idempotent" "$sum" "$(md5sum < "$T/certs/server.pem")"

write_config a "127.0.0.1 ::1"
write_config b "10.9.8.7 192.0.2.1"
# Instance b takes its secret from the environment, as documented.
sed -i '/^appsecret/d' "$T/b.ini"
out=$("$build/wxsim" -c "$T/a.ini" -t); rc=$?
check "-t accepts the config" 0 "$rc"

"${WRAP[@]}" "$build/wxsim" -c "$T/a.ini" 2>>"$T/a.stderr" &
SIM_A=$!
# spawn-fcgi closes the child's stderr: valgrind must write to a file.
WRAP_B=("${WRAP[@]}")
[ ${#WRAP[@]} -gt 0 ] && [ "${WRAP[0]##*/}" = valgrind ] && WRAP_B+=("--log-file=$T/b.stderr")
WXSIM_APPSECRET=$SECRET spawn-fcgi -s "$T/b.sock" -M 0660 -F 1 -P "$T/b.pid" \
    -- "${WRAP_B[@]}" "$build/wxsim" -c "$T/b.ini" >/dev/null 2>>"$T/b.stderr"
check "spawn-fcgi starts wxsim b" 0 $?
wx_wait_for "$T/a.sock" 60 || { nok "wxsim a starts"; cat "$T/a.log" "$T/a.stderr"; exit 1; }
wx_wait_for "$T/b.sock" 60 || { nok "wxsim b starts under spawn-fcgi"; cat "$T/b.stderr"; exit 1; }
render_nginx
wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }
wx_wait_for "tcp:$PORT_A" 10 && wx_wait_for "tcp:$PORT_B" 10
ok "wxsim (standalone and under spawn-fcgi) and nginx start"

# -------------------------------------------------------------------- TLS --
echo "# TLS: the certificate verifies against the test CA only"
curl -s -o /dev/null --max-time 10 "$BASE/sim/clock"; rc=$?
check "without the CA curl refuses the certificate (exit 60)" 60 "$rc"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/certs/ca.pem" --max-time 10 \
     --resolve "localhost:$PORT_A:127.0.0.1" "https://localhost:$PORT_A/sim/clock")
check "with the CA, https://localhost verifies" 200 "$st"

# ----------------------------------------------------------------- clock --
echo "# the simulated clock"
call GET /sim/clock >/dev/null
check "GET /sim/clock: runs with the real clock" "false yes" \
    "$(field .frozen) $([ $(( $(field .now) - $(date +%s) )) -le 1 ] && echo yes)"
ctl clock '{"freeze":true}'
c0=$(field .now)
sleep 1.1
call GET /sim/clock >/dev/null
check "a frozen clock stands still" "$c0" "$(field .now)"
ctl clock '{"advance":3600}'
check "advance moves it" $((c0 + 3600)) "$(field .now)"
ctl clock '{"freeze":false}'
check "unfrozen, it runs on from there" yes "$([ "$(field .now)" -ge $((c0 + 3600)) ] && echo yes)"
check "... and is no longer frozen" false "$(field .frozen)"

# ------------------------------------------------------------ /cgi-bin/token --
echo "# /cgi-bin/token (PROTOCOL.md 5.1)"
fresh
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
T1=$(field .access_token)
check "token: expires_in is the ttl" 7200 "$(field .expires_in)"
check_match "token: 64+ characters of [A-Za-z0-9_-]" "yes" \
    "$([[ $T1 =~ ^[A-Za-z0-9_-]{64,}$ ]] && echo yes || echo "no: $T1")"
call GET "/cgi-bin/token?appid=$APPID&secret=$SECRET" >/dev/null
check "token: grant_type missing -> 40002" 40002 "$(ec)"
call GET "/cgi-bin/token?grant_type=password&appid=$APPID&secret=$SECRET" >/dev/null
check "token: bad grant_type -> 40002" 40002 "$(ec)"
call GET "/cgi-bin/token?grant_type=client_credential&secret=$SECRET" >/dev/null
check "token: appid missing -> 41002" 41002 "$(ec)"
call GET "/cgi-bin/token?grant_type=client_credential&appid=wxffffffffffffffff&secret=$SECRET" >/dev/null
check "token: bad appid -> 40013" 40013 "$(ec)"
check_match "token: errmsg carries a rid" "invalid appid rid: *" "$(field .errmsg)"
call GET "/cgi-bin/token?grant_type=client_credential&appid=$APPID" >/dev/null
check "token: secret missing -> 41004" 41004 "$(ec)"
call GET "/cgi-bin/token?grant_type=client_credential&appid=$APPID&secret=wrong" >/dev/null
check "token: bad secret -> 40125" 40125 "$(ec)"
call_at "$BASE_B" GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "token: caller IP not in allow_ips -> 40164" 40164 "$(ec)"
check_match "token: 40164 errmsg names the IP as WeChat does" \
    "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: *" "$(field .errmsg)"
call_at "$BASE_B" POST /cgi-bin/stable_token \
    "{\"grant_type\":\"client_credential\",\"appid\":\"$APPID\",\"secret\":\"$SECRET\"}" >/dev/null
check "stable_token: caller IP not in allow_ips -> 40164 (secret from WXSIM_APPSECRET)" 40164 "$(ec)"

echo "# token use: 41001, 40001, the 5-minute overlap, 42001"
check "a fresh token works" 0 "$(api_ok "$T1")"
call GET /cgi-bin/getcallbackip >/dev/null
check "no access_token -> 41001" 41001 "$(ec)"
check "an unknown token -> 40001" 40001 "$(api_ok "not-a-token")"
check "a bad %-escape in access_token -> 40001" 40001 "$(api_ok "%zz")"
call GET "/cgi-bin/getcallbackip?access_token=$T1" >/dev/null
check "getcallbackip lists IPs" 127.0.0.1 "$(field '.ip_list[0]')"
call GET "/cgi-bin/get_api_domain_ip?access_token=$T1" >/dev/null
check "get_api_domain_ip lists IPs" 3 "$(field '.ip_list | length')"
T2=$(new_token)
check "a second token differs from the first" yes "$([ "$T1" != "$T2" ] && echo yes)"
check "overlap: the old token still works" 0 "$(api_ok "$T1")"
check "overlap: the new token works" 0 "$(api_ok "$T2")"
advance 299
check "overlap: old token works at 299 s" 0 "$(api_ok "$T1")"
advance 2
check "overlap: old token -> 40001 after 301 s" 40001 "$(api_ok "$T1")"
check "overlap: new token still works" 0 "$(api_ok "$T2")"
advance $((7200 - 301))
check "expiry: token -> 42001 after ttl" 42001 "$(api_ok "$T2")"
check_match "expiry: errmsg" "access_token expired rid: *" "$(field .errmsg)"

echo "# daily quota (token_daily_limit = 6)"
fresh
for i in 1 2 3 4 5 6; do new_token >/dev/null; done
check "6 tokens a day are granted" 0 "$(ec)"
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "the 7th -> 45009" 45009 "$(ec)"
advance 86400
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "the next simulated day grants again" 7200 "$(field .expires_in)"

echo "# /cgi-bin/stable_token (PROTOCOL.md 5.2)"
fresh
call GET /cgi-bin/stable_token >/dev/null
check "stable_token: GET -> 43002" 43002 "$(ec)"
call POST /cgi-bin/stable_token "@$FIX/broken.json" >/dev/null
check "stable_token: broken JSON -> 47001" 47001 "$(ec)"
call POST /cgi-bin/stable_token >/dev/null
check "stable_token: empty body -> 44002" 44002 "$(ec)"
call POST /cgi-bin/stable_token "{\"grant_type\":\"client_credential\",\"appid\":\"$APPID\",\"secret\":\"no\"}" >/dev/null
check "stable_token: bad secret -> 40125" 40125 "$(ec)"
call POST /cgi-bin/stable_token "{\"grant_type\":\"client_credential\",\"appid\":\"$APPID\",\"secret\":\"$SECRET\",\"force_refresh\":\"yes\"}" >/dev/null
check "stable_token: force_refresh not a boolean -> 47001" 47001 "$(ec)"
S1=$(stable false | jq -r .access_token)
check "stable_token: a new token lives the ttl" 7200 "$(field .expires_in)"
advance 100
check "stable_token: normal mode returns the same token" "$S1" "$(stable false | jq -r .access_token)"
check "stable_token: ... with the remaining lifetime" 7100 "$(field .expires_in)"
check "a stable token works on the APIs" 0 "$(api_ok "$S1")"
T1=$(new_token)
check "a /cgi-bin/token token does not supersede the stable one" 0 "$(api_ok "$S1")"
advance 6850
S2=$(stable false | jq -r .access_token)
check "stable_token: renewed in the last 5 minutes" yes "$([ "$S2" != "$S1" ] && echo yes)"
check "stable_token: the renewed token lives the ttl" 7200 "$(field .expires_in)"
check "stable_token: hand-over: the old one still works" 0 "$(api_ok "$S1")"
advance 251
check "stable_token: the old one expires at its time -> 42001" 42001 "$(api_ok "$S1")"
check "stable_token: the new one works" 0 "$(api_ok "$S2")"
S3=$(stable true | jq -r .access_token)
check "force_refresh: a new token" yes "$([ -n "$S3" ] && [ "$S3" != null ] && [ "$S3" != "$S2" ] && echo yes)"
stable true >/dev/null
check "force_refresh: again within 30 s -> 45011" 45011 "$(ec)"
check "force_refresh: the superseded token works for 5 minutes" 0 "$(api_ok "$S2")"
advance 301
check "force_refresh: ... and not after -> 40001" 40001 "$(api_ok "$S2")"
for i in $(seq 2 20); do advance 31; stable true >/dev/null; done
check "force_refresh: 20 a day granted" 7200 "$(field .expires_in)"
advance 31
stable true >/dev/null
check "force_refresh: the 21st -> 45009" 45009 "$(ec)"
S21=$(stable false | jq -r .access_token)
check "the newest stable token works" 0 "$(api_ok "$S21")"
ctl invalidate
check "/sim/invalidate: the current token stops working" 40001 "$(api_ok "$S21")"

# -------------------------------------------------------------- faults --
echo "# faults injected through /sim/fault"
fresh
ctl fault '{"path":"/cgi-bin/token","kind":"busy","count":2}'
call GET "/cgi-bin/token?$(tok_q)" >/dev/null; a=$(ec)
call GET "/cgi-bin/token?$(tok_q)" >/dev/null; b=$(ec)
check "busy: the next 2 calls -> -1" "-1 -1" "$a $b"
check "busy: errmsg system error" "system error" "$(field .errmsg)"
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "busy: the 3rd call is served" 7200 "$(field .expires_in)"
ctl fault '{"path":"/cgi-bin/token","kind":"slow","ms":1200}'
t0=$(date +%s%N)
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "slow: answered" 7200 "$(field .expires_in)"
check "slow: after the delay" yes "$([ "$ms" -ge 1150 ] && echo yes || echo "no: $ms ms")"
ctl fault '{"path":"/cgi-bin/token","kind":"drop"}'
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "drop: curl sees no reply (exit 52)" 52 "$(cat "$T/curl.rc")"
ctl fault '{"path":"/cgi-bin/token","kind":"badjson"}'
call GET "/cgi-bin/token?$(tok_q)" >/dev/null
check "badjson: the answer does not parse" not-json "$(ec)"
ctl fault '{"path":"/cgi-bin/menu/get","kind":"errcode","errcode":48001}'
T1=$(new_token)
call GET "/cgi-bin/menu/get?access_token=$T1" >/dev/null
check "errcode: the chosen errcode" 48001 "$(ec)"
ctl fault '{"path":"*","kind":"errcode","errcode":45011,"count":3}'
call GET /sim/fault >/dev/null
check "GET /sim/fault lists the pending rule" "* 3" "$(field '.faults[0] | "\(.path) \(.count)"')"
ctl fault '{"path":"*","kind":"errcode","errcode":45011,"count":0}'
call GET /sim/fault >/dev/null
check "count 0 removes the rule" 0 "$(field '.faults | length')"
st=$(call POST /sim/fault '{"path":"/cgi-bin/token","kind":"explode"}')
check "a bad fault kind -> 400" "400 47001" "$st $(ec)"

echo "# /sim/stats"
fresh
for i in 1 2 3; do T1=$(new_token); done
api_ok "$T1" >/dev/null
call GET /cgi-bin/no/such/api >/dev/null
call GET /sim/stats >/dev/null
check "stats: token calls" 3 "$(field '.calls["/cgi-bin/token"]')"
check "stats: getcallbackip calls" 1 "$(field '.calls["/cgi-bin/getcallbackip"]')"
check "stats: unknown paths" 1 "$(field '.calls.other')"
check "stats: tokens issued" 3 "$(field .tokens_issued.token)"
check "stats: calls today" 3 "$(field .token_calls_today)"

# ------------------------------------------------------------- menus --
echo "# menus (PROTOCOL.md 6.1)"
fresh
TK=$(new_token)
A="access_token=$TK"
call GET "/cgi-bin/menu/get?$A" >/dev/null
check "menu/get without a menu -> 46003" 46003 "$(ec)"
call POST "/cgi-bin/menu/create?$A" "@$FIX/menu.json" >/dev/null
check "menu/create" 0 "$(ec)"
call GET "/cgi-bin/menu/get?$A" >/dev/null
check "menu/get returns the menu" "今日歌曲 wxa" "$(field '"\(.menu.button[0].name) \(.menu.button[1].sub_button[1].name)"')"
call POST "/cgi-bin/menu/create?$A" "@$FIX/menu_too_many.json" >/dev/null
check "menu/create: 4 buttons -> 40016" 40016 "$(ec)"
call POST "/cgi-bin/menu/create?$A" "@$FIX/menu_bad_type.json" >/dev/null
check "menu/create: unknown type -> 40017" 40017 "$(ec)"
call POST "/cgi-bin/menu/create?$A" '{"button":[{"type":"click","name":"a name much longer than sixteen bytes","key":"K"}]}' >/dev/null
check "menu/create: long name -> 40018" 40018 "$(ec)"
call POST "/cgi-bin/menu/create?$A" '{"button":[{"name":"m","sub_button":[]}]}' >/dev/null
check "menu/create: empty sub-menu -> 40023" 40023 "$(ec)"
call GET "/cgi-bin/menu/create?$A" >/dev/null
check "menu/create: GET -> 43002" 43002 "$(ec)"
call GET "/cgi-bin/get_current_selfmenu_info?$A" >/dev/null
check "get_current_selfmenu_info" "1 3" "$(field '"\(.is_menu_open) \(.selfmenu_info.button[1].sub_button.list | length)"')"
call POST "/cgi-bin/menu/addconditional?$A" "@$FIX/menu_conditional.json" >/dev/null
MID=$(field .menuid)
check_match "addconditional returns a menuid" "[0-9]*" "$MID"
call POST "/cgi-bin/menu/addconditional?$A" "@$FIX/menu_conditional_sex.json" >/dev/null
check "addconditional: a retired rule field -> 65320" 65320 "$(ec)"
call GET "/cgi-bin/menu/get?$A" >/dev/null
check "menu/get lists the conditional menu" "$MID" "$(field '.conditionalmenu[0].menuid')"
call POST "/cgi-bin/menu/trymatch?$A" "{\"user_id\":\"$OPENID\"}" >/dev/null
check "trymatch" V1001_TODAY_MUSIC "$(field '.button[0].key')"
call POST "/cgi-bin/menu/trymatch?$A" '{}' >/dev/null
check "trymatch: no user_id -> 40003" 40003 "$(ec)"
call POST "/cgi-bin/menu/delconditional?$A" "{\"menuid\":\"$MID\"}" >/dev/null
check "delconditional" 0 "$(ec)"
call POST "/cgi-bin/menu/delconditional?$A" "{\"menuid\":\"$MID\"}" >/dev/null
check "delconditional: again -> 65301" 65301 "$(ec)"
call GET "/cgi-bin/menu/delete?$A" >/dev/null
check "menu/delete" 0 "$(ec)"
call GET "/cgi-bin/menu/get?$A" >/dev/null
check "menu/get after delete -> 46003" 46003 "$(ec)"

# --------------------------------------------------- media and material --
echo "# temporary media and permanent material (PROTOCOL.md 6.2-6.4)"
head -c 5000 /dev/urandom > "$T/pic.png"
head -c 70000 /dev/urandom > "$T/big.jpg"
head -c 300000 /dev/urandom > "$T/huge.png"
head -c 3000 /dev/urandom > "$T/clip.mp4"
upload "/cgi-bin/media/upload?$A&type=image" "media=@$T/pic.png" >/dev/null
MEDIA=$(field .media_id)
check "media/upload: type and created_at" "image yes" "$(field .type) $([ "$(field .created_at)" -gt 0 ] && echo yes)"
st=$(curl -s --cacert "$T/certs/ca.pem" -o "$T/got.png" -D "$T/headers" -w '%{http_code}' \
     "$BASE/cgi-bin/media/get?$A&media_id=$MEDIA")
check "media/get returns the same bytes" "200 same" "$st $(cmp -s "$T/pic.png" "$T/got.png" && echo same)"
check_match "media/get sends a file name" "*filename=\"pic.png\"*" "$(tr -d '\r' < "$T/headers" | tr '\n' ' ')"
call GET "/cgi-bin/media/get?$A&media_id=nope" >/dev/null
check "media/get: unknown media_id -> 40007" 40007 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=sticker" "media=@$T/pic.png" >/dev/null
check "media/upload: bad type -> 40004" 40004 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=voice" "media=@$T/pic.png" >/dev/null
check "media/upload: wrong format -> 40005" 40005 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=thumb" "media=@$T/big.jpg" >/dev/null
check "media/upload: thumb over 64 KB -> 45001" 45001 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=image" "media=@$T/huge.png" >/dev/null
check "media/upload: over max_upload -> 45001" 45001 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=image" "other=@$T/pic.png" >/dev/null
check "media/upload: no media field -> 41005" 41005 "$(ec)"
call POST "/cgi-bin/media/upload?$A&type=image" '{"not":"multipart"}' >/dev/null
check "media/upload: not multipart -> 41005" 41005 "$(ec)"
upload "/cgi-bin/media/upload?$A&type=video" "media=@$T/clip.mp4" >/dev/null
VID=$(field .media_id)
call GET "/cgi-bin/media/get?$A&media_id=$VID" >/dev/null
check_match "media/get: a video comes as a link" "http*" "$(field .video_url)"
advance $((3 * 86400))
TK=$(new_token); A="access_token=$TK"
call GET "/cgi-bin/media/get?$A&media_id=$MEDIA" >/dev/null
check "media/get: gone after 3 days -> 40007" 40007 "$(ec)"

upload "/cgi-bin/material/add_material?$A&type=image" "media=@$T/pic.png" >/dev/null
IMG=$(field .media_id)
check_match "add_material: image gets a media_id and a url" "http*" "$(field .url)"
upload "/cgi-bin/material/add_material?$A&type=video" "media=@$T/clip.mp4" >/dev/null
check "add_material: video without description -> 47001" 47001 "$(ec)"
upload "/cgi-bin/material/add_material?$A&type=video" "media=@$T/clip.mp4" \
    'description={"title":"A clip","introduction":"for the tests"}' >/dev/null
PVID=$(field .media_id)
call POST "/cgi-bin/material/get_material?$A" "{\"media_id\":\"$PVID\"}" >/dev/null
check "get_material: video" "A clip" "$(field .title)"
curl -s --cacert "$T/certs/ca.pem" -o "$T/got2.png" -H 'Content-Type: application/json' \
    --data-binary "{\"media_id\":\"$IMG\"}" "$BASE/cgi-bin/material/get_material?$A"
check "get_material: image bytes" same "$(cmp -s "$T/pic.png" "$T/got2.png" && echo same)"
call GET "/cgi-bin/material/get_materialcount?$A" >/dev/null
check "get_materialcount" "1 1 0" "$(field '"\(.image_count) \(.video_count) \(.voice_count)"')"
call POST "/cgi-bin/material/batchget_material?$A" '{"type":"image","offset":0,"count":20}' >/dev/null
check "batchget_material" "1 $IMG" "$(field '"\(.total_count) \(.item[0].media_id)"')"
call POST "/cgi-bin/material/batchget_material?$A" '{"type":"image","offset":0,"count":21}' >/dev/null
check "batchget_material: count 21 -> 47001" 47001 "$(ec)"
call POST "/cgi-bin/material/del_material?$A" "{\"media_id\":\"$PVID\"}" >/dev/null
check "del_material" 0 "$(ec)"
call POST "/cgi-bin/material/del_material?$A" "{\"media_id\":\"$PVID\"}" >/dev/null
check "del_material: again -> 40007" 40007 "$(ec)"

# -------------------------------------------------- drafts, publishing --
echo "# drafts and publishing (PROTOCOL.md 6.5)"
art() { # TITLE THUMB
    echo "{\"articles\":[{\"title\":\"$1\",\"author\":\"sim\",\"content\":\"<p>hello</p>\",\"thumb_media_id\":\"$2\"}]}"
}
call POST "/cgi-bin/draft/add?$A" "$(art "First post" "$IMG")" >/dev/null
DRAFT=$(field .media_id)
check "draft/add" yes "$([ -n "$DRAFT" ] && [ "$DRAFT" != null ] && echo yes)"
call POST "/cgi-bin/draft/add?$A" "$(art "No cover" nope)" >/dev/null
check "draft/add: unknown thumb_media_id -> 40007" 40007 "$(ec)"
call POST "/cgi-bin/draft/add?$A" "$(art "$(printf 'x%.0s' $(seq 1 33))" "$IMG")" >/dev/null
check "draft/add: title over 32 characters -> 45003" 45003 "$(ec)"
call POST "/cgi-bin/draft/get?$A" "{\"media_id\":\"$DRAFT\"}" >/dev/null
check "draft/get" "First post" "$(field '.news_item[0].title')"
call GET "/cgi-bin/draft/count?$A" >/dev/null
check "draft/count" 1 "$(field .total_count)"
call POST "/cgi-bin/draft/batchget?$A" '{"offset":0,"count":10,"no_content":1}' >/dev/null
check "draft/batchget without content" "1 null" "$(field '"\(.item_count) \(.item[0].content.news_item[0].content)"')"
call POST "/cgi-bin/freepublish/submit?$A" "{\"media_id\":\"$DRAFT\"}" >/dev/null
PUB=$(field .publish_id)
check "freepublish/submit" 0 "$(ec)"
call POST "/cgi-bin/freepublish/get?$A" "{\"publish_id\":\"$PUB\"}" >/dev/null
check "freepublish/get" "0 1" "$(field '"\(.publish_status) \(.article_detail.count)"')"
call POST "/cgi-bin/freepublish/submit?$A" '{"media_id":"nope"}' >/dev/null
check "freepublish/submit: unknown draft -> 40007" 40007 "$(ec)"
call POST "/cgi-bin/draft/delete?$A" "{\"media_id\":\"$DRAFT\"}" >/dev/null
check "draft/delete" 0 "$(ec)"
call POST "/cgi-bin/draft/get?$A" "{\"media_id\":\"$DRAFT\"}" >/dev/null
check "draft/get after delete -> 40007" 40007 "$(ec)"

# --------------------------------------------------------- mass sending --
echo "# mass sending (PROTOCOL.md 6.6)"
call POST "/cgi-bin/message/mass/sendall?$A" \
    '{"filter":{"is_to_all":true},"text":{"content":"hello all"},"msgtype":"text","clientmsgid":"job-1"}' >/dev/null
MSG=$(field .msg_id)
check "mass/sendall" "send job submission success" "$(field .errmsg)"
call POST "/cgi-bin/message/mass/sendall?$A" \
    '{"filter":{"is_to_all":true},"text":{"content":"hello all"},"msgtype":"text","clientmsgid":"job-1"}' >/dev/null
check "mass/sendall: same clientmsgid -> 45065 with the msg_id" "45065 $MSG" "$(ec) $(field .msg_id)"
call POST "/cgi-bin/message/mass/sendall?$A" \
    '{"filter":{"is_to_all":true},"msgtype":"image","images":{"media_ids":["m1","m2"]}}' >/dev/null
check "mass/sendall: several images in the current form" "send job submission success" "$(field .errmsg)"
call POST "/cgi-bin/message/mass/sendall?$A" \
    '{"filter":{"is_to_all":true},"msgtype":"image","images":{"media_ids":[]}}' >/dev/null
check "mass/sendall: images without media_ids -> 40007" 40007 "$(ec)"
call POST "/cgi-bin/message/mass/sendall?$A" '{"filter":{"is_to_all":true},"msgtype":"fax","fax":{}}' >/dev/null
check "mass/sendall: unknown msgtype -> 40008" 40008 "$(ec)"
call POST "/cgi-bin/message/mass/send?$A" "{\"touser\":[\"$OPENID\"],\"msgtype\":\"text\",\"text\":{\"content\":\"hi\"}}" >/dev/null
check "mass/send: one OpenID -> 40130" 40130 "$(ec)"
call POST "/cgi-bin/message/mass/send?$A" "{\"touser\":[\"$OPENID\",\"oOther0123456789\"],\"msgtype\":\"text\",\"text\":{\"content\":\"hi\"}}" >/dev/null
check "mass/send: two OpenIDs" 0 "$(ec)"
call POST "/cgi-bin/message/mass/preview?$A" "{\"touser\":\"$OPENID\",\"msgtype\":\"text\",\"text\":{\"content\":\"hi\"}}" >/dev/null
check "mass/preview" "preview success" "$(field .errmsg)"
call POST "/cgi-bin/message/mass/get?$A" "{\"msg_id\":\"$MSG\"}" >/dev/null
check "mass/get" SEND_SUCCESS "$(field .msg_status)"
call POST "/cgi-bin/message/mass/delete?$A" "{\"msg_id\":$MSG,\"article_idx\":0}" >/dev/null
call POST "/cgi-bin/message/mass/get?$A" "{\"msg_id\":$MSG}" >/dev/null
check "mass/delete then get" DELETE "$(field .msg_status)"
call POST "/cgi-bin/message/mass/speed/set?$A" '{"speed":5}' >/dev/null
check "mass/speed/set: 5 -> 45083" 45083 "$(ec)"
call POST "/cgi-bin/message/mass/speed/set?$A" '{"speed":1}' >/dev/null
call POST "/cgi-bin/message/mass/speed/get?$A" '{}' >/dev/null
check "mass/speed set then get" "1 60" "$(field '"\(.speed) \(.realspeed)"')"

# ------------------------------------------ customer service, templates --
echo "# customer-service and template messages (PROTOCOL.md 6.7, 6.8)"
for i in 1 2 3; do
    call POST "/cgi-bin/message/custom/send?$A" \
        "{\"touser\":\"$OPENID\",\"msgtype\":\"text\",\"text\":{\"content\":\"message $i\"}}" >/dev/null
done
check "custom/send" 0 "$(ec)"
call POST "/cgi-bin/message/custom/send?$A" '{"msgtype":"text","text":{"content":"x"}}' >/dev/null
check "custom/send: no touser -> 40003" 40003 "$(ec)"
call POST "/cgi-bin/message/custom/send?$A" "{\"touser\":\"$OPENID\",\"msgtype\":\"text\",\"text\":{\"content\":\"\"}}" >/dev/null
check "custom/send: empty text -> 44004" 44004 "$(ec)"
call POST "/cgi-bin/message/custom/send?$A" "{\"touser\":\"$OPENID\",\"msgtype\":\"image\",\"image\":{}}" >/dev/null
check "custom/send: image without media_id -> 40007" 40007 "$(ec)"
call GET /sim/custom >/dev/null
check "/sim/custom: the messages received, in order" "3 message 1,message 2,message 3" \
    "$(field '"\(.count) \([.messages[].text.content] | join(","))"')"
call POST "/cgi-bin/message/template/send?$A" "@$FIX/template.json" >/dev/null
check "template/send" "0 yes" "$(ec) $([ "$(field .msgid)" -gt 0 ] && echo yes)"
call POST "/cgi-bin/message/template/send?$A" "{\"touser\":\"$OPENID\",\"data\":{}}" >/dev/null
check "template/send: no template_id -> 40037" 40037 "$(ec)"
call POST "/cgi-bin/message/template/send?$A" "{\"touser\":\"$OPENID\",\"template_id\":\"t\",\"data\":{\"k\":\"v\"}}" >/dev/null
check "template/send: data entries are {value} -> 47001" 47001 "$(ec)"
call GET /sim/template >/dev/null
check "/sim/template" "1 巧克力" "$(field '"\(.count) \(.messages[0].data.keyword1.value)"')"

# ---------------------------------------------------------- hostile input --
echo "# hostile input"
CS="/cgi-bin/message/custom/send?$A"
for f in broken duplicate_keys invalid_utf8 nul_escape not_object deep_nesting; do
    call POST "$CS" "@$FIX/$f.json" >/dev/null
    check "custom/send: $f.json -> 47001" 47001 "$(ec)"
done
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' 'a' > "$T/big.json"
call POST "$CS" "@$T/big.json" >/dev/null
check "a 3 MB JSON body -> 45002 (not read)" 45002 "$(ec)"
curl -s --cacert "$T/certs/ca.pem" -o "$T/body" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
    --data-binary "{\"touser\":\"$OPENID\",\"msgtype\":\"text\",\"text\":{\"content\":\"chunked\"}}" "$BASE$CS"
check "a chunked body is read too" 0 "$(ec)"
curl -s --cacert "$T/certs/ca.pem" -o "$T/body" -H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json" "$BASE$CS"
check "a chunked 3 MB body -> 45002" 45002 "$(ec)"
st=$(call GET /cgi-bin/no/such/api)
check "unknown path -> 404 with errcode 40066" "404 40066" "$st $(ec)"
st=$(call PUT "/cgi-bin/menu/get?$A")
check "PUT on a GET API -> 405 with errcode 43001" "405 43001" "$st $(ec)"
st=$(call DELETE "/cgi-bin/menu/create?$A")
check "DELETE on a POST API -> 405 with errcode 43002" "405 43002" "$st $(ec)"
printf -- '--xyz\r\nContent-Disposition: form-data; name="media"; filename="../../etc/x.png"\r\n\r\nunterminated' > "$T/bad.form"
st=$(curl -s --cacert "$T/certs/ca.pem" -o "$T/body" -w '%{http_code}' -H 'Content-Type: multipart/form-data; boundary=xyz' \
     --data-binary "@$T/bad.form" "$BASE/cgi-bin/media/upload?$A&type=image")
check "a truncated multipart body -> 41005" "200 41005" "$st $(ec)"
printf -- '--xyz\r\nContent-Disposition: form-data; name="media"; filename="../../etc/x.png"\r\n\r\nPNG\r\n--xyz--\r\n' > "$T/path.form"
curl -s --cacert "$T/certs/ca.pem" -o "$T/body" -H 'Content-Type: multipart/form-data; boundary=xyz' \
     --data-binary "@$T/path.form" "$BASE/cgi-bin/media/upload?$A&type=image"
PM=$(field .media_id)
curl -s --cacert "$T/certs/ca.pem" -o /dev/null -D "$T/headers" "$BASE/cgi-bin/media/get?$A&media_id=$PM"
check_match "a path in the filename is reduced to its last part" "*filename=\"x.png\"*" "$(tr -d '\r' < "$T/headers" | tr '\n' ' ')"
check "nothing was written outside data_dir" "" "$(find "$T" -name x.png)"
head -c $((12 * 1024 * 1024)) /dev/zero > "$T/over.bin"
st=$(curl -s --cacert "$T/certs/ca.pem" -o /dev/null -w '%{http_code}' -F "media=@$T/over.bin;filename=o.png" \
     "$BASE/cgi-bin/media/upload?$A&type=image")
check "over nginx's client_max_body_size -> 413" 413 "$st"
st=$(call POST /sim/clock '{"advance":-5}')
check "/sim/clock: going back -> 400" "400 47001" "$st $(ec)"
st=$(call GET /sim/nothing)
check "/sim/ unknown -> 404" 404 "$st"
st=$(call GET /sim/reset)
check "/sim/reset by GET -> 405" 405 "$st"
check "wxsim still answers after all that" 0 "$(api_ok "$TK")"

# ----------------------------------------------------------------- logs --
echo "# logs and shutdown"
check_match "a log line per request with the errcode and latency" \
    "*GET /cgi-bin/token errcode=0 status=200 us=*" "$(grep 'cgi-bin/token errcode=0' "$T/a.log" | head -1)"
check "the log never carries the secret" 0 "$(grep -cF -- "$SECRET" "$T/a.log")"
check "the log never carries a whole token" 0 "$(grep -cF -- "$TK" "$T/a.log")"
uploads=$(find "$T/data-a" -type f | wc -l)
check "uploads are kept in data_dir" yes "$([ "$uploads" -gt 0 ] && echo yes)"

kill -TERM "$SIM_A"
wait "$SIM_A"; rc=$?
SIM_A=""
check "wxsim a exits 0 on TERM${WRAP:+ (and ${WRAP[0]##*/} found no error)}" 0 "$rc"
check "its uploads are removed" 0 "$(find "$T/data-a" -type f | wc -l)"
check "its socket is removed" no "$([ -e "$T/a.sock" ] && echo yes || echo no)"
bpid=$(cat "$T/b.pid" 2>/dev/null || echo 0)
[ "$bpid" != 0 ] && kill -TERM "$bpid"
for _ in $(seq 1 200); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.05; done
check "wxsim b (spawn-fcgi) stops on TERM" no "$(kill -0 "$bpid" 2>/dev/null && echo yes || echo no)"
rm -f "$T/b.pid"
if [ ${#WRAP[@]} -gt 0 ] && [ "${WRAP[0]##*/}" = valgrind ]; then
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$T/a.stderr" "$T/b.stderr" | sed 's/^/# /'
    check "valgrind: wxsim b (spawn-fcgi) ends with no error and no leak" 1 \
        "$(grep -c 'ERROR SUMMARY: 0 errors' "$T/b.stderr")"
fi

echo
echo "sim: $pass passed, $fail failed"
[ "$fail" = 0 ]
