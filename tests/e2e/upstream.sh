#!/usr/bin/env bash
# upstream.sh BUILD - end-to-end tests of the upstream handler: wxfcgi with
# handler = upstream behind nginx, scripts/example-business.py as the
# business service, and for late answers wxproxy -> wxsim (TLS, a private
# CA) with wxtoken keeping the token.  A fast business gives a passive reply
# of every type; a slow one gives "success" within reply_budget_ms, retries
# meanwhile do not call it again, and its answer arrives once as a
# customer-service message; a business that is down or answers garbage gives
# "success" and a logged reason; safe mode works unchanged.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-upstream.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=uptoken42
APPID=wx0123456789abcdef
SECRET=UpSecret0123456789abcdef0123456
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
PXKEY=upstream-proxy-key-0123456789abcdef
OPENID=oUpstreamUser0123456789abcd
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
BIZPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
while [ "$BIZPORT" = "$PORT" ] || [ "$BIZPORT" = "$SIMPORT" ]; do BIZPORT=$(wx_free_port); done
URL=http://127.0.0.1:$PORT/wx
API=https://127.0.0.1:$SIMPORT
BUDGET=1500
MASTER="" BIZ="" SIM="" TOK="" PX=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER $BIZ $PX $TOK $SIM
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config [WX_EXTRA] [UPSTREAM_EXTRA]
write_config() {
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
appid = $APPID
encoding_aes_key = $KEY
${1:-mode = plain}
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 2
state_dir = $T/state
log = $T/wxfcgi.log
log_level = info
handler = upstream
reply_budget_ms = $BUDGET
[upstream]
url = http://127.0.0.1:$BIZPORT/hook
timeout_ms = 15000
proxy = http://127.0.0.1:$PORT/wxapi
proxy_key = $PXKEY
${2:-}
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
rate = 50
CONF
}

# --- helpers ----------------------------------------------------------------
q() { # [TS] [NONCE]: a signed query string
    local ts=${1:-$(date +%s)} n=${2:-$RANDOM$RANDOM}
    echo "signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n&openid=$OPENID"
}
# post QUERY FILE [OUT]: status and time in ms ("200 123"); the body in OUT ($T/body)
post() {
    curl -s -o "${3:-$T/body}" -w '%{http_code} %{time_total}' --max-time 10 \
        --data-binary "@$2" -H 'Content-Type: text/xml' "$URL?$1" |
        awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}
seq_n=0
msgfile() { # CONTENT: a new text message from OPENID (fresh MsgId); its path in $f, its MsgId in $mid
    seq_n=$((seq_n + 1))
    mid=$(( $(date +%s) * 1000 + seq_n ))
    f=$T/msg.$seq_n.xml
    printf '<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>' \
        "$OPENID" "$(date +%s)" "$1" "$mid" > "$f"
}
ask() { # CONTENT: post a new text message; sets st (status), ms, f, mid; body in $T/body
    local r
    msgfile "$1"
    r=$(post "$(q)" "$f")
    st=${r% *} ms=${r#* }
}
calls_for() { # MSGID: how many times the business saw this message
    grep -c "\"MsgId\": \"$1\"" "$T/calls" 2>/dev/null || true
}
log_lines() { wc -l < "$T/wxfcgi.log"; }
log_since() { tail -n +"$(( $1 + 1 ))" "$T/wxfcgi.log"; }
sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
custom_count() { # messages wxsim received for OPENID
    sim_curl "$API/sim/custom" | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d if isinstance(d, list) else next((v for v in d.values() if isinstance(v, list)), [])
print(sum(1 for m in items if m.get("touser") == sys.argv[1]))' "$OPENID" 2>/dev/null || echo "?"
}
custom_last() { # the last customer-service message, compact JSON
    sim_curl "$API/sim/custom" | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d if isinstance(d, list) else next((v for v in d.values() if isinstance(v, list)), [])
m = items[-1] if items else {}
m.pop("received_at", None)
print(json.dumps(m, sort_keys=True, ensure_ascii=False, separators=(",", ":")))' 2>/dev/null
}
wait_custom() { # N SECS: until wxsim holds N messages for OPENID
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ "$(custom_count)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
start_biz() { # [OPTIONS]: (re)start the business service on BIZPORT
    stop_biz
    python3 "$top/scripts/example-business.py" --port "$BIZPORT" --calls "$T/calls" --raw "$@" \
        2>>"$T/biz.log" &
    BIZ=$!
    wx_wait_for "tcp:$BIZPORT" 10 >/dev/null || nok "the business service starts"
}
stop_biz() {
    [ -n "$BIZ" ] || return 0
    kill -TERM "$BIZ" 2>/dev/null; wait "$BIZ" 2>/dev/null; BIZ=""
}
start_master() {
    "$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
    MASTER=$!
    wx_wait_for "$SOCK" 10 >/dev/null || { nok "wxfcgi starts"; tail "$T/wxfcgi.log"; exit 1; }
}
stop_master() {
    kill -TERM "$MASTER" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.05; done
    MASTER=""
}
workers() { pgrep -P "$MASTER" -x wxfcgi; }
zombies() { # defunct children of the workers
    local w n=0
    for w in $(workers); do
        n=$((n + $(ps -o stat= --ppid "$w" 2>/dev/null | grep -c '^Z')))
    done
    echo "$n"
}

# --- set-up: CA, wxsim (TLS) and wxproxy behind nginx, wxtoken ---------------
echo "# upstream handler end-to-end tests (nginx on 127.0.0.1:$PORT, run dir $T)"
mkdir -p "$T/store" "$T/state" "$T/pxstate"
printf '%s\n' "$SECRET" > "$T/secret"
write_config
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$SOCK" "$T/wx.ini" \
    "upstream wxproxy { server unix:$T/wxproxy.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/wx.ini" 2>>"$T/wxtoken.err" &
TOK=$!
wx_wait_for "$T/wxtoken.sock" 10 >/dev/null
have_proxy=0
if [ -x "$build/wxproxy" ]; then
    "$build/wxproxy" -c "$T/wx.ini" 2>>"$T/wxproxy.err" &
    PX=$!
    wx_wait_for "$T/wxproxy.sock" 10 >/dev/null && have_proxy=1
fi
[ "$have_proxy" = 1 ] && ok "wxproxy runs" || nok "wxproxy runs ($build/wxproxy): late answers cannot be delivered"

echo "# configuration"
sed 's|^url = .*||' "$T/wx.ini" > "$T/nourl.ini"
out=$("$build/wxfcgi" -t -c "$T/nourl.ini" 2>&1); rc=$?
check "handler = upstream without [upstream] url: status 1" 1 "$rc"
[[ $out == *"[upstream] url is missing"* ]] && ok "... and the message names the key" || nok "missing url message" "$out"
sed 's|^url = .*|url = ftp://127.0.0.1/x|' "$T/wx.ini" > "$T/badurl.ini"
out=$("$build/wxfcgi" -t -c "$T/badurl.ini" 2>&1)
[[ $out == *"url must start with http"* ]] && ok "a url that is not http(s) is refused" || nok "bad url message" "$out"
sed 's|^proxy_key = .*||' "$T/wx.ini" > "$T/nokey.ini"
out=$(env -u WX_PROXY_KEY "$build/wxfcgi" -t -c "$T/nokey.ini" 2>&1)
[[ $out == *"proxy_key is missing"* ]] && ok "a proxy without proxy_key is refused" || nok "no proxy_key message" "$out"
"$build/wxfcgi" -t -c "$T/wx.ini" >/dev/null 2>&1; check "-t accepts the upstream config" 0 $?

start_master

echo "# a fast business service: passive replies"
start_biz --delay 0.1
ask "hello upstream"
check "a text gets 200" 200 "$st"
grep -q '<MsgType><!\[CDATA\[text\]\]></MsgType><Content><!\[CDATA\[You said: hello upstream\]\]></Content>' "$T/body" &&
    ok "... the business's text as a passive reply" || nok "passive text reply" "$(cat "$T/body")"
grep -q "<ToUserName><!\[CDATA\[$OPENID\]\]></ToUserName>" "$T/body" && ok "... addressed to the follower" ||
    nok "reply address" "$(cat "$T/body")"
check_le "... within the budget ($ms ms)" $BUDGET "$ms"
line=$(grep "\"MsgId\": \"$mid\"" "$T/calls")
[[ $line == *"\"FromUserName\": \"$OPENID\""* && $line == *"\"MsgType\": \"text\""* &&
   $line == *"\"Content\": \"hello upstream\""* && $line == *"\"CreateTime\": "[0-9]* ]] &&
    ok "the business got the message as JSON (names of the XML, CreateTime a number, MsgId a string)" ||
    nok "business request JSON" "$line"
st=$(post "$(q)" "$top/tests/fixtures/msg/event_pic_sysphoto.xml")
grep -q '"SendPicsInfo": {"Count": "2", "PicList": {"item": \[{"PicMd5Sum": "1b5f7c23b5bf75682a53e7b6d163e185"}, {"PicMd5Sum": "5a75aaca956d97be686719218f275c6b"}\]}}' "$T/calls" &&
    ok "nested elements become objects, repeated ones arrays" || nok "nested JSON" "$(tail -1 "$T/calls")"
check "an event the business answers success for: 'success'" "200 success" "${st% *} $(cat "$T/body")"
st=$(post "$(q)" "$top/tests/fixtures/msg/event_subscribe.xml")
grep -q 'Welcome! Send me anything.' "$T/body" && ok "subscribe gets the business's welcome" || nok "welcome" "$(cat "$T/body")"

echo "# every reply type"
reply_is() { # NAME JSON GLOB: the answer JSON gives a reply matching GLOB
    ask "!raw $2"
    check_match "$1" "$3" "$st $(tr -d '\n' < "$T/body")"
}
reply_is "image" '{"type":"image","media_id":"MEDIA_1"}' \
    '200 *<MsgType><![[]CDATA[[]image]]></MsgType><Image><MediaId><![[]CDATA[[]MEDIA_1]]></MediaId></Image></xml>'
reply_is "voice" '{"type":"voice","media_id":"VOICE_1"}' '200 *<Voice><MediaId><![[]CDATA[[]VOICE_1]]></MediaId></Voice></xml>'
reply_is "video" '{"type":"video","media_id":"V1","title":"T","description":"D"}' \
    '200 *<Video><MediaId><![[]CDATA[[]V1]]></MediaId><Title><![[]CDATA[[]T]]></Title><Description><![[]CDATA[[]D]]></Description></Video></xml>'
reply_is "music" '{"type":"music","thumb_media_id":"TH","title":"Song","music_url":"http://m/1.mp3","hq_music_url":"http://m/hq.mp3"}' \
    '200 *<Music><Title><![[]CDATA[[]Song]]></Title>*<MusicUrl><![[]CDATA[[]http://m/1.mp3]]></MusicUrl><HQMusicUrl><![[]CDATA[[]http://m/hq.mp3]]></HQMusicUrl><ThumbMediaId><![[]CDATA[[]TH]]></ThumbMediaId></Music></xml>'
reply_is "news (one article kept for a message)" \
    '{"type":"news","articles":[{"title":"A1","description":"d1","picurl":"http://p/1.jpg","url":"http://u/1"},{"title":"A2"}]}' \
    '200 *<ArticleCount>1</ArticleCount><Articles><item><Title><![[]CDATA[[]A1]]></Title><Description><![[]CDATA[[]d1]]></Description><PicUrl><![[]CDATA[[]http://p/1.jpg]]></PicUrl><Url><![[]CDATA[[]http://u/1]]></Url></item></Articles></xml>'
reply_is "transfer_customer_service" '{"type":"transfer_customer_service","kf_account":"kf1@test"}' \
    '200 *<MsgType><![[]CDATA[[]transfer_customer_service]]></MsgType><TransInfo><KfAccount><![[]CDATA[[]kf1@test]]></KfAccount></TransInfo></xml>'
reply_is "text with a ]]> and a newline" '{"type":"text","content":"a\u005d]>b\nc"}' \
    '200 *<Content><![[]CDATA[[]a]]]]><![[]CDATA[[]>b*c]]></Content></xml>'
reply_is '{"type":"success"}' '{"type":"success"}' '200 success'
reply_is "an empty answer" '' '200 success'

echo "# answers that are not usable: success and a logged reason"
l0=$(log_lines)
reply_is "broken JSON" '{"type":"text","content":' '200 success'
reply_is "an unknown type" '{"type":"hologram"}' '200 success'
reply_is "a missing field" '{"type":"image"}' '200 success'
reply_is "a field that is not a string" '{"type":"text","content":42}' '200 success'
reply_is "not an object" '["text"]' '200 success'
sleep 0.2
log_since "$l0" | contains 'business answer for text [0-9]* from oUps..cd unusable: not JSON' &&
    ok "broken JSON is logged as such" || nok "broken JSON log" "$(log_since "$l0" | head -3)"
log_since "$l0" | contains 'unusable: unknown type "hologram"' && ok "an unknown type is logged" || nok "unknown type log"
log_since "$l0" | contains 'unusable: "media_id" is missing for type image' && ok "a missing field is logged" || nok "missing field log"
log_since "$l0" | contains 'unusable: "content" is not a string' && ok "a wrong field type is logged" || nok "field type log"

echo "# the business service is down"
stop_biz
l0=$(log_lines)
ask "anyone there?"
check "nothing listening: 200 success" "200 success" "$st $(cat "$T/body")"
check_le "... at once ($ms ms)" $BUDGET "$ms"
sleep 0.2
log_since "$l0" | contains "error: upstream: business call for text $mid from oUps..cd failed: .*; answering success" &&
    ok "... and the failure is logged" || nok "down log" "$(log_since "$l0")"
grep -q ' 50[0-9] ' "$T/access.log" && nok "nginx answered a 5xx" "$(grep ' 50[0-9] ' "$T/access.log" | head -2)" ||
    ok "no 5xx to WeChat so far"

echo "# a slow business service (7 s, budget $BUDGET ms): success now, a customer-service message later"
start_biz --delay 7
c0=$(custom_count)
l0=$(log_lines)
# waited: the pool's request time less the gateway's own (seconds): the
# waits on the business.
waited() {
    "$build/wxctl" -c "$T/wx.ini" metrics 2>/dev/null | awk '
        $1 == "wxfcgi_request_duration_seconds_sum" { r = $2 }
        $1 == "wxfcgi_gateway_duration_seconds_sum" { g = $2 }
        END { printf "%.3f\n", r - g }'
}
w0=$(waited)
msgfile "take your time"
qs=$(q)
r1=$(post "$qs" "$f" "$T/slow.1")
check "the first delivery gets 'success'" "200 success" "${r1% *} $(cat "$T/slow.1")"
check_le "... within the budget (${r1#* } ms)" $BUDGET "${r1#* }"
w1=$(waited)
check "... its wait is not the gateway's time (>= 1 s of it left out: $w0 -> $w1)" yes \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN { print (b - a >= 1.0) ? "yes" : "no" }')"
# WeChat's retries: in parallel with a first delivery, then one after another.
msgfile "retries meanwhile"
slow_mid=$mid slow_f=$f
qs=$(q)
post "$qs" "$f" "$T/par.1" > "$T/par.1.st" &
p1=$!
sleep 0.3
r2=$(post "$qs" "$f" "$T/par.2")
wait "$p1"
r3=$(post "$qs" "$f" "$T/par.3")
r4=$(post "$qs" "$f" "$T/par.4")
check "a first delivery and 3 retries: all 'success'" "200 success|200 success|200 success|200 success" \
    "$(cut -d' ' -f1 "$T/par.1.st") $(cat "$T/par.1")|${r2% *} $(cat "$T/par.2")|${r3% *} $(cat "$T/par.3")|${r4% *} $(cat "$T/par.4")"
sleep 0.5
check "the retries did not call the business again" 1 "$(calls_for "$slow_mid")"
check "zombies among the workers' children" 0 "$(zombies)"
if [ "$have_proxy" = 1 ]; then
    wait_custom $((c0 + 2)) 12 && ok "two late answers: two customer-service messages in wxsim" ||
        nok "late answers delivered" "custom messages for the follower: $(custom_count), want $((c0 + 2)); $(grep -h 'late answer' "$T/wxfcgi.log" | tail -2)"
    check "... with the right touser and content" \
        "{\"msgtype\":\"text\",\"text\":{\"content\":\"You said: retries meanwhile\"},\"touser\":\"$OPENID\"}" \
        "$(custom_last)"
    sleep 2
    check "... and exactly one each, even after the retries" $((c0 + 2)) "$(custom_count)"
    log_since "$l0" | contains "late answer for text $slow_mid from oUps..cd sent as a customer-service message" &&
        ok "the delivery is logged" || nok "delivery log" "$(log_since "$l0" | grep upstream | tail -3)"
else
    nok "two late answers: two customer-service messages in wxsim" "wxproxy is not built"
    nok "... with the right touser and content" "wxproxy is not built"
    nok "... and exactly one each, even after the retries" "wxproxy is not built"
    nok "the delivery is logged" "wxproxy is not built"
fi
sleep 0.5
check "zombies among the workers' children once the deliveries ended" 0 "$(zombies)"
grep -q "$PXKEY" "$T"/*.log && nok "the proxy key appears in a log" || ok "the proxy key is in no log"
grep -q "$OPENID" "$T/wxfcgi.log" && nok "a whole OpenID appears in wxfcgi's log" || ok "OpenIDs are shortened in the log"

echo "# WeChat refuses the late message: 45015 and 45047 are logged, not retried"
for code in 45015 45047; do
    sim_curl -d "{\"path\":\"/cgi-bin/message/custom/send\",\"kind\":\"errcode\",\"errcode\":$code,\"count\":1}" \
        "$API/sim/fault" >/dev/null
    c0=$(custom_count)
    l0=$(log_lines)
    ask "late $code"
    check "$code: the delivery gets 'success'" "200 success" "$st $(cat "$T/body")"
    for _ in $(seq 1 120); do log_since "$l0" | contains "late answer for text $mid" && break; sleep 0.1; done
    sleep 0.3
    if [ "$have_proxy" = 1 ]; then
        log_since "$l0" | contains "error: upstream: late answer for text $mid from oUps..cd not sent: errcode $code" &&
            ok "$code is logged as an error" || nok "$code log" "$(log_since "$l0" | grep upstream | tail -2)"
        check "$code: nothing stored, nothing sent again" "$c0 0" \
            "$(custom_count) $(log_since "$l0" | grep -c 'trying again')"
    else
        nok "$code is logged as an error" "wxproxy is not built"
        nok "$code: nothing stored, nothing sent again" "wxproxy is not built"
    fi
done
sim_curl -d '{"path":"/cgi-bin/message/custom/send","kind":"errcode","count":0}' "$API/sim/fault" >/dev/null

echo "# a worker that stops leaves its late delivery to finish"
c0=$(custom_count)
ask "still there after TERM?"
check "the delivery gets 'success'" "200 success" "$st $(cat "$T/body")"
stop_master
if [ "$have_proxy" = 1 ]; then
    wait_custom $((c0 + 1)) 12 && ok "the answer was delivered after wxfcgi stopped" ||
        nok "delivery after TERM" "$(custom_count) messages, want $((c0 + 1))"
else
    nok "the answer was delivered after wxfcgi stopped" "wxproxy is not built"
fi

echo "# safe mode: an encrypted push, an encrypted passive reply from the business's answer"
write_config "mode = safe"
start_biz --delay 0.1
start_master
msgfile "secret hello"
out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -c "$T/wx.ini" "$URL" "$f" 2>&1); rc=$?
check "wx-replay -m safe: the reply verifies and decrypts" 0 "$rc"
[[ $out == *"You said: secret hello"* ]] && ok "... to the business's text" || nok "safe reply" "$out"
grep -q '"Content": "secret hello"' "$T/calls" && ok "the business got the decrypted message" ||
    nok "business saw" "$(tail -1 "$T/calls")"
grep -q '"Encrypt"' "$T/calls" && nok "the business got the envelope" || ok "... and not the envelope"
stop_master
stop_biz

echo
echo "upstream: $pass passed, $fail failed"
[ "$fail" = 0 ]
