#!/usr/bin/env bash
# ops.sh BUILD - what an operator sees, through real nginx and the
# standalone master: the metrics of the whole pool after known requests,
# the status page, the 403 for an address not allowed, a worker's death
# by signal in the log and the counters, a reload that says what changed,
# the log reopened on HUP after logrotate's rename; wxproxy's calls by
# key, family and outcome, wxtoken's METRICS, wxctl metrics and status;
# the retry table's evictions, counted exactly on a table of 4 entries.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-ops.XXXXXX")
TOKEN=opstoken42
OPENID=oUserOpenId0123456789abcdef
APPID=wx2c2769f8efd9abc2
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
MASTER=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER
    wx_nginx_stop "$T"
    wx_nginx_stop "$T/px"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

PORT=$(wx_free_port)
URL=http://127.0.0.1:$PORT
write_config() { # [ALLOW]
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
mode = compat
appid = $APPID
encoding_aes_key = $KEY
[wxfcgi]
listen = unix:$T/wxfcgi.sock
socket_mode = 0666
workers = 2
state_dir = $T/state
log = $T/wxfcgi.log
dedup_slots = 4
${1:-}
CONF
}
wxctl() { "$build/wxctl" -c "$T/wx.ini" "$@"; }

q() {
    local ts=${1:-$(date +%s)} n=${2:-$RANDOM$RANDOM}
    echo "signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n&openid=$OPENID"
}
req() { # METHOD QUERY [BODYFILE]: the status; the body in $T/body
    local args=(-s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1")
    [ $# -ge 3 ] && args+=(--data-binary "@$3" -H 'Content-Type: text/xml')
    curl "${args[@]}" "$URL/wx?$2"
}
fresh() {
    local out=$T/msg.$RANDOM$RANDOM.xml
    sed -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(date +%s)</CreateTime>:" \
        -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>$RANDOM$RANDOM$RANDOM</MsgId>:" "$1" > "$out"
    echo "$out"
}
enc_req() { # FILE: an encrypted push with a valid msg_signature
    local ts n enc
    ts=$(date +%s); n=$RANDOM$RANDOM
    enc=$(sed -n 's:.*<Encrypt><!\[CDATA\[\([^]]*\)\]\]></Encrypt>.*:\1:p' "$1")
    req POST "$(q "$ts" "$n")&encrypt_type=aes&msg_signature=$(wxctl sign "$ts" "$n" "$enc")" "$1"
}
scrape() { curl -s --max-time 5 "$URL/wxfcgi/metrics${1:-}"; }
# metric SAMPLE: the value of one sample line of a fresh scrape (or "none").
metric() { scrape | awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }'; }

write_config
"$build/wxfcgi" -c "$T/wx.ini" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$T/wxfcgi.sock" 10 || { nok "wxfcgi starts"; cat "$T/wxfcgi.log"; exit 1; }
wx_nginx_render "$T" "$PORT" "$T/wxfcgi.sock"
wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }
wx_wait_for "tcp:$PORT" 10

echo "# known requests"
ts=$(date +%s)
check "the handshake: 200" 200 "$(req GET "$(q "$ts" 1)&echostr=hello")"
for i in 1 2 3; do
    check "text message $i: 200" 200 "$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")"
done
f=$(fresh "$top/tests/fixtures/msg/event_click.xml")
check "a click event: 200" 200 "$(req POST "$(q)" "$f")"
check "... its retry: 200" 200 "$(req POST "$(q)" "$f")"
check "a bad signature: 403" 403 "$(req POST "signature=00&timestamp=$ts&nonce=1" "$f")"
check "a stale timestamp: 403" 403 "$(req POST "$(q $((ts - 100000)))" "$f")"
check "a PUT: 405" 405 "$(req PUT "$(q)")"
sed "s/^appid = .*/appid = wx0000000000000000/" "$T/wx.ini" > "$T/other.ini"
"$build/wxctl" -c "$T/other.ini" encrypt "$(fresh "$top/tests/fixtures/msg/text.xml")" > "$T/otherapp.xml"
check "another AppID inside: 400" 400 "$(enc_req "$T/otherapp.xml")"
wxctl encrypt "$(fresh "$top/tests/fixtures/msg/text.xml")" > "$T/enc.xml"
sed 's:\]\]></Encrypt>:AAAA]]></Encrypt>:' "$T/enc.xml" > "$T/long.xml"
check "a ciphertext that is not Base64: 400" 400 "$(enc_req "$T/long.xml")"

echo "# the scrape: the whole pool's counts"
check "GET echostr" 1 "$(metric 'wxfcgi_requests_total{method="GET",type="none",outcome="echostr"}')"
check "POST text answered" 3 "$(metric 'wxfcgi_requests_total{method="POST",type="text",outcome="answered"}')"
check "POST event answered success" 1 "$(metric 'wxfcgi_requests_total{method="POST",type="event",outcome="success"}')"
check "POST event replayed" 1 "$(metric 'wxfcgi_requests_total{method="POST",type="event",outcome="replay"}')"
check "retry-table hit" 1 "$(metric 'wxfcgi_retry_table_events_total{event="hit"}')"
check "refused: bad signature" 1 "$(metric 'wxfcgi_refusals_total{reason="bad_signature"}')"
check "refused: stale timestamp" 1 "$(metric 'wxfcgi_refusals_total{reason="stale_timestamp"}')"
check "refused: method" 1 "$(metric 'wxfcgi_refusals_total{reason="method"}')"
check "refused: decryption, appid" 1 "$(metric 'wxfcgi_refusals_total{reason="decrypt_appid"}')"
check "refused: decryption, base64" 1 "$(metric 'wxfcgi_refusals_total{reason="decrypt_base64"}')"
check "the histogram counts the 11 requests" 11 "$(metric 'wxfcgi_request_duration_seconds_count')"
check "... all under +Inf" 11 "$(metric 'wxfcgi_request_duration_seconds_bucket{le="+Inf"}')"
check "workers alive" 2 "$(metric 'wxfcgi_workers_alive')"
check "workers started" 2 "$(metric 'wxfcgi_workers_started_total')"
out=$(scrape)
n=$(printf '%s\n' "$out" | grep -c '^# TYPE wxfcgi_')
[ "$n" -ge 10 ] && ok "the families are typed ($n)" || nok "the families are typed" "$n"
printf '%s\n' "$out" | grep -v '^#' | contains -vE '^wxfcgi_[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' &&
    nok "every sample line is NAME{LABELS} VALUE" || ok "every sample line is NAME{LABELS} VALUE"

echo "# the gateway's own time: a histogram of the whole pool"
gw=wxfcgi_gateway_duration_seconds
check "it counts the 11 requests" 11 "$(metric "${gw}_count")"
c0=$(metric "${gw}_count")
for i in 1 2 3 4 5; do
    req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/image.xml")" >/dev/null
done
check "5 more (images): _count moved by 5" 5 "$(( $(metric "${gw}_count") - c0 ))"
scrape | awk -v b="${gw}_bucket" -v c="${gw}_count" -v s="${gw}_sum" '
    index($1, b "{le=") == 1 { n++; if ($2 < last) bad = bad " " $1 "<" last; last = $2; inf = $2 }
    $1 == c { count = $2 } $1 == s { sum = $2 }
    END {
        if (n != 14) bad = bad " buckets=" n
        if (inf != count) bad = bad " +Inf=" inf " count=" count
        if (!(sum > 0)) bad = bad " sum=" sum
        print bad == "" ? "ok" : bad
    }' > "$T/gwhist"
check "14 buckets, cumulative and monotone, +Inf = _count, _sum > 0" ok "$(cat "$T/gwhist")"

echo "# the logs say why"
grep -q 'status=400 us=[0-9]* account=default (decryption failed: appid mismatch with encoding_aes_key)' "$T/wxfcgi.log" &&
    ok "the decryption refusal names the check and the key" ||
    nok "the decryption refusal names the check and the key" "$(grep decryption "$T/wxfcgi.log")"
grep -q "$OPENID" "$T/wxfcgi.log" && nok "no whole openid in the log" || ok "no whole openid in the log"
grep -q "$TOKEN\|$KEY" "$T/wxfcgi.log" && nok "no secret in the log" || ok "no secret in the log"

echo "# the status page"
st=$(scrape "?status")
check "?status lists 2 workers" 2 "$(printf '%s\n' "$st" | grep -cE '^[0-9]+ +(idle|busy) ')"
js=$(scrape "?json")
check "?json is JSON with 2 workers" 2 \
    "$(printf '%s' "$js" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["workers"]))')"
served=$(printf '%s' "$js" | python3 -c 'import json,sys; print(sum(w["requests"] for w in json.load(sys.stdin)["workers"]))')
[ "$served" -ge 10 ] && ok "the workers' requests add up to >= 10 ($served)" ||
    nok "the workers' requests add up to >= 10" "$served"

echo "# a worker killed by a signal"
victim=$(printf '%s\n' "$st" | awk '$2 == "idle" || $2 == "busy" { print $1; exit }')
kill -KILL "$victim"
for _ in $(seq 1 50); do
    [ "$(metric 'wxfcgi_workers_started_total')" = 3 ] && break
    sleep 0.1
done
check "died by KILL" 1 "$(metric 'wxfcgi_workers_died_total{signal="KILL"}')"
check "... and replaced" 3 "$(metric 'wxfcgi_workers_started_total')"
check "the counters do not go backwards" 3 \
    "$(metric 'wxfcgi_requests_total{method="POST",type="text",outcome="answered"}')"
grep -q "worker $victim killed by signal 9" "$T/wxfcgi.log" &&
    ok "the log names the signal" || nok "the log names the signal" "$(tail -3 "$T/wxfcgi.log")"

echo "# reload: says what changed; metrics_allow refuses others"
mv "$T/wxfcgi.log" "$T/wxfcgi.log.1"
write_config "metrics_allow = 192.0.2.1"
kill -HUP "$MASTER"
for _ in $(seq 1 50); do [ -s "$T/wxfcgi.log" ] && grep -q "reloaded" "$T/wxfcgi.log" && break; sleep 0.1; done
[ -s "$T/wxfcgi.log" ] && ok "HUP reopens the log after a rename (logrotate)" ||
    nok "HUP reopens the log after a rename (logrotate)"
grep -q "metrics_allow" "$T/wxfcgi.log" && ok "the reload names the changed key" ||
    nok "the reload names the changed key" "$(cat "$T/wxfcgi.log")"
sleep 0.5
check "an address not in metrics_allow: 403" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/wxfcgi/metrics")"
write_config
kill -HUP "$MASTER"
for _ in $(seq 1 50); do [ "$(metric 'wxfcgi_reloads_total')" = 2 ] && break; sleep 0.1; done
check "reloads counted" 2 "$(metric 'wxfcgi_reloads_total')"
check "counts survive reloads" 3 \
    "$(metric 'wxfcgi_requests_total{method="POST",type="text",outcome="answered"}')"

echo "# wxctl metrics and status ask on the socket"
out=$(wxctl metrics)
check_match "wxctl metrics: wxfcgi's text" "*wxfcgi_requests_total{method=\"GET\",type=\"none\",outcome=\"echostr\"} 1*" "$out"
check "wxctl status: the 2 workers" 2 "$(wxctl status | grep -cE '^[0-9]+ +(idle|busy) ')"
check "wxctl status --json" 2 \
    "$(wxctl status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["workers"]))')"

echo "# the retry table evicts replies to make room (dedup_slots = 4)"
for i in 1 2 3 4; do req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")" >/dev/null; done
e0=$(metric 'wxfcgi_retry_table_evictions_total')
st=""
for i in 1 2 3 4 5; do st="$st$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")"; done
check "5 more messages on a full table: all 200" 200200200200200 "$st"
check "... each evicted one reply kept less than its 30 s" 5 \
    "$(( $(metric 'wxfcgi_retry_table_evictions_total') - e0 ))"
echo "# an empty metrics_path: no metrics at all"
wx_stop_pids $MASTER
MASTER=""
write_config "metrics_path ="
"$build/wxfcgi" -c "$T/wx.ini" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$T/wxfcgi.sock" 10 || nok "wxfcgi starts without metrics"
check "a text message is answered: 200" 200 "$(req POST "$(q)" "$(fresh "$top/tests/fixtures/msg/text.xml")")"
scrape > "$T/off.txt"
grep -q '^wxfcgi_' "$T/off.txt" && nok "no page at the old path" "$(head -3 "$T/off.txt")" ||
    ok "no page at the old path"
wxctl metrics > "$T/off.out" 2>&1
check "wxctl metrics: a usage error (exit 2)" 2 "$?"
check_match "... that says the path is empty" "*metrics_path is empty*" "$(cat "$T/off.out")"
pid=$(pgrep -P "$MASTER" | head -1)
grep -q '/dev/zero (deleted)' "/proc/$pid/maps" 2>/dev/null &&
    nok "a worker maps no shared counters" "$(grep zero "/proc/$pid/maps")" ||
    ok "a worker maps no shared counters"

# ----------------------------------------------- wxproxy and wxtoken --------
echo "# wxproxy and wxtoken against wxsim"
P=$T/px
mkdir -p "$P/store"
SIMPORT=$(wx_free_port)
PXPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PXPORT" ]; do PXPORT=$(wx_free_port); done
SECRET=OpsSecret0123456789abcdef012345
KEY_MENU=menukey-0123456789abcdef
KEY_NARROW=narrowkey-0123456789abcdef
printf '%s\n' "$SECRET" > "$P/secret"
cat > "$P/px.ini" <<CONF
[wx]
token = pxtest42
appid = $APPID
[wxtoken]
api = https://127.0.0.1:$SIMPORT
ca_file = $P/certs/ca.pem
appsecret_file = $P/secret
grant = token
store = $P/store/token
listen = unix:$P/tok.sock
log = $P/tok.log
[wxsim]
listen = unix:$P/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
data_dir = $P/simdata
log = $P/sim.log
[wxproxy]
listen = unix:$P/px.sock
workers = 2
api = https://127.0.0.1:$SIMPORT
ca_file = $P/certs/ca.pem
state_dir = $P/state
log = $P/px.log
[wxproxy.key.menu]
key = $KEY_MENU
paths = /cgi-bin/menu/* /cgi-bin/getcallbackip
[wxproxy.key.narrow]
key = $KEY_NARROW
paths = /cgi-bin/menu/get
CONF
# 62 more keys: 64, the most a config may hold, must still leave the pool
# its metrics (the keys past the counters' room count as "-").
for i in $(seq 10 71); do
    printf '[wxproxy.key.k%s]\nkey = filler-key-%s-0123456789abcdef\npaths = /cgi-bin/menu/get\n' \
        "$i" "$i" >> "$P/px.ini"
done
cp "$top/nginx/wxproxy.conf" "$P/wxproxy.conf"
wx_sim_stack "$P" "$build" "$PXPORT" "$SIMPORT" "$P/none.sock" "$P/px.ini" \
    "upstream wxproxy { server unix:$P/px.sock; }" "include wxproxy.conf;" ||
    { nok "the wxsim stack starts"; exit 1; }
MASTER="$MASTER $WX_SIM_PID"
"$build/wxtoken" -c "$P/px.ini" 2>>"$P/tok.err" &
TOKPID=$!
MASTER="$MASTER $TOKPID"
wx_wait_for "$P/tok.sock" 10 || { nok "wxtoken starts"; exit 1; }
for _ in $(seq 1 50); do [ -s "$P/store/token" ] && break; sleep 0.1; done
"$build/wxproxy" -c "$P/px.ini" 2>>"$P/px.err" &
MASTER="$MASTER $!"
wx_wait_for "$P/px.sock" 10 || { nok "wxproxy starts"; exit 1; }
pxc() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${1:+-H "X-Wx-Key: $1"} \
    "http://127.0.0.1:$PXPORT/wxapi$2"; }
check "menu key, getcallbackip: 200" 200 "$(pxc "$KEY_MENU" /cgi-bin/getcallbackip)"
check "... again: 200" 200 "$(pxc "$KEY_MENU" /cgi-bin/getcallbackip)"
check "no key: 401" 401 "$(pxc "" /cgi-bin/getcallbackip)"
check "narrow key, a path not its own: 403" 403 "$(pxc "$KEY_NARROW" /cgi-bin/getcallbackip)"
pm() { curl -s --max-time 5 "http://127.0.0.1:$PXPORT/wxproxy/metrics" |
    awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }'; }
check "calls ok by key and family" 2 "$(pm 'wxproxy_calls_total{key="menu",family="other",outcome="ok"}')"
check "calls without a key" 1 "$(pm 'wxproxy_calls_total{key="-",family="other",outcome="unknown_key"}')"
check "calls refused for the path" 1 "$(pm 'wxproxy_calls_total{key="narrow",family="other",outcome="path_not_allowed"}')"
check "upstream latency: 2 calls timed" 2 "$(pm 'wxproxy_upstream_duration_seconds_count')"
check "wxproxy's pool: 2 workers alive" 2 "$(pm 'wxproxy_workers_alive')"
check "with 64 keys, no metrics error in wxproxy's log" 0 "$(grep -c 'error: metrics:' "$P/px.log")"
check_match "... but a warning naming the first key counted as -" \
    '*warn: metrics: room for the calls of 50 keys by key; the calls of the other 14 (from [[]wxproxy.key.k58] on) count under key="-"*' \
    "$(grep 'warn: metrics:' "$P/px.log")"
pxctl() { "$build/wxctl" -c "$P/px.ini" "$@"; }
check "wxctl status wxproxy: 2 workers" 2 "$(pxctl status wxproxy | grep -cE '^[0-9]+ +(idle|busy) ')"
out=$(pxctl metrics wxtoken)
check_match "wxctl metrics wxtoken: the version" "*wxtoken_token_version{account=\"default\"} 1*" "$out"
check_match "... a refresh that succeeded" "*wxtoken_refreshes_total{account=\"default\",result=\"ok\"} 1*" "$out"
exp=$(printf '%s\n' "$out" | awk '$1 == "wxtoken_token_expiry_seconds{account=\"default\"}" { print $2 }')
[ "${exp:-0}" -gt 600 ] && ok "... seconds to expiry ($exp)" || nok "seconds to expiry" "$exp"
printf 'x\n' | pxctl token --rejected >/dev/null 2>&1
check_match "a report counted" "*wxtoken_rejected_reports_total{account=\"default\"} 1*" "$(pxctl metrics wxtoken)"
mv "$P/tok.log" "$P/tok.log.1"
kill -HUP "$TOKPID"
for _ in $(seq 1 50); do grep -qs "log reopened" "$P/tok.log" && break; sleep 0.1; done
grep -qs "log reopened" "$P/tok.log" && ok "wxtoken reopens its log on HUP" ||
    nok "wxtoken reopens its log on HUP"
kill -0 "$TOKPID" 2>/dev/null && ok "... and keeps running" || nok "wxtoken survives HUP"
wx_nginx_stop "$P"

echo "ops: $pass passed, $fail failed"
[ "$fail" = 0 ]
