#!/usr/bin/env bash
# families.sh BUILD - end-to-end tests of the API families users, tags,
# blacklist, QR codes, short keys, callback check, subscription messages,
# customer service and template management: wxctl (or curl with a key) ->
# nginx /wxapi/ -> wxproxy -> nginx with TLS -> wxsim, with wxtoken keeping
# the token.  Every wxctl command of these families, and every rule's
# errcode as it comes back through the whole path.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-fam.XXXXXX")
APPID=wx0123456789abcdef
SECRET=FamSecret0123456789abcdef012345
KEY=fam-key-0123456789abcdef-secret
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
SIM="" TOK="" PX="" GW=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $GW $PX $TOK $SIM
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 30 "$@"; }
sim_ctl() { # PATH [JSON]
    if [ $# -gt 1 ]; then sim_curl -d "$2" "$API/sim/$1"; else sim_curl "$API/sim/$1"; fi
}
# api METHOD PATH [JSON]: a call through nginx and wxproxy, as an SDK makes it
api() {
    if [ "$1" = POST ]; then
        curl -sS --max-time 30 -H "X-Wx-Key: $KEY" -d "$3" "http://127.0.0.1:$PORT/wxapi$2"
    else
        curl -sS --max-time 30 -H "X-Wx-Key: $KEY" "http://127.0.0.1:$PORT/wxapi$2"
    fi
}
# errcode NAME WANT METHOD PATH [JSON]: the errcode the platform answers
errcode() {
    local name=$1 want=$2 got
    shift 2
    got=$(api "$@" | jq -r '.errcode // 0')
    check "$name: errcode $want" "$want" "$got"
}

ctl() {
    "$build/wxctl" -c "$T/fam.ini" "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    out=$(cat "$T/out") err=$(cat "$T/err")
}
field() { awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"; }

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store" "$T/pxstate"
printf '%s\n' "$SECRET" > "$T/secret"
printf '%s\n' "$KEY" > "$T/key"
cat > "$T/fam.ini" <<CONF
[wx]
token = famtest42
appid = $APPID
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret_file = $T/secret
grant = token
store = $T/store/token
listen = unix:$T/tok.sock
log = $T/tok.log
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
data_dir = $T/simdata
log = $T/sim.log
[wxproxy]
listen = unix:$T/px.sock
workers = 2
api = $API
ca_file = $T/certs/ca.pem
timeout_ms = 20000
state_dir = $T/pxstate
log = $T/px.log
[wxproxy.key.fam]
key = $KEY
paths = /cgi-bin/* /customservice/* /wxaapi/*
rate = 1000
burst = 1000
[wxfcgi]
listen = unix:$T/wx.sock
workers = 1
state_dir = $T/gwstate
log = $T/gw.log
[route.qr]
scene = *
action = text
text = QR {{scene}} {{event}}
[wxctl]
proxy = http://127.0.0.1:$PORT/wxapi
proxy_key_file = $T/key
timeout_ms = 20000
CONF
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/fam.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/fam.ini" 2>>"$T/tok.err" &
TOK=$!
wx_wait_for "$T/tok.sock" 10 || exit 1
for i in $(seq 1 100); do [ -s "$T/store/token" ] && break; sleep 0.1; done
"$build/wxproxy" -c "$T/fam.ini" 2>>"$T/px.err" &
PX=$!
wx_wait_for "$T/px.sock" 10 || exit 1
# The gateway, /wx, for the events of QR scans.
"$build/wxfcgi" -c "$T/fam.ini" 2>>"$T/gw.err" &
GW=$!
wx_wait_for "$T/wx.sock" 10 || exit 1

U1=oSIM000000000000000000000001
U2=oSIM000000000000000000000002
U3=oSIM000000000000000000000003
NOBODY=oNOBODY00000000000000000000x

echo "# users"
n=$(sim_ctl followers '{"count":25001}' | jq -r .followers)
check "25001 followers made in wxsim" 25001 "$n"
ctl user info "$U1"
check "user info: 0" 0 "$rc"
[[ $out == *"openid      $U1"*"subscribe   since"*"ADD_SCENE_OTHERS"* ]] && ok "... shown as a table" || nok "user info table" "$out"
ctl --json user info "$U1"
check "user info --json: the 2021 placeholders" '"" 0' "$(jq -r '"\"\(.nickname)\" \(.sex)"' <<<"$out")"
ctl user info "$U1" "$U2" "$U3"
check "user info of 3 (batchget): 0" 0 "$rc"
check "... 3 users" 3 "$(grep -c '^openid' <<<"$out")"
ctl user info "$NOBODY"
check "user info of a stranger: 1" 1 "$rc"
[[ $err == *"40003"* ]] && ok "... WeChat error 40003" || nok "40003" "$err"
ctl user info $(for i in $(seq 1 101); do printf 'o%027d ' "$i"; done)
check "user info of 101: refused before sending (2)" 2 "$rc"
list=$(jq -nc '{user_list:[range(101) | {openid:"oSIM000000000000000000000001"}]}')
errcode "batchget of 101" 40032 POST /cgi-bin/user/info/batchget "$list"
errcode "batchget of a stranger" 40003 POST /cgi-bin/user/info/batchget '{"user_list":[{"openid":"x"}]}'
ctl user list
check "user list: 0" 0 "$rc"
check "... one page of 10000" 10000 "$(wc -l <<<"$out")"
[[ $err == *"10000 of 25001 followers; next page: wxctl user list oSIM000000000000000000010000"* ]] &&
    ok "... and says where the next page starts" || nok "user list next" "$err"
ctl user list --all
check "user list --all: 0" 0 "$rc"
check "... every follower once" 25001 "$(sort -u <<<"$out" | wc -l)"
check "... a progress line a page" 3 "$(grep -c '^wxctl: followers' <<<"$err")"
[[ $err == *"followers 25001 of 25001"* ]] && ok "... the last one says all of them" || nok "progress" "$err"
ctl --json user list --all
check "user list --all --json: one combined answer" 25001 "$(jq '.data.openid | length' <<<"$out")"
last=$(api GET "/cgi-bin/user/get?next_openid=oSIM000000000000000000025001")
check "after the last page: count 0, no data, next_openid \"\"" '0 false ""' \
    "$(jq -c '.count, has("data"), .next_openid' <<<"$last" | tr '\n' ' ' | sed 's/ $//')"
errcode "user/get after a stranger" 40003 GET "/cgi-bin/user/get?next_openid=$NOBODY"
ctl user remark "$U1" "VIP 客户"
check "user remark: 0" 0 "$rc"
ctl --json user info "$U1"
check "... the remark is kept" "VIP 客户" "$(jq -r .remark <<<"$out")"
ctl user remark "$U1" "$(printf '长%.0s' $(seq 1 30))"
check "a remark of 30 characters: refused before sending (2)" 2 "$rc"
errcode "updateremark of 30 characters" 47003 POST /cgi-bin/user/info/updateremark \
    "{\"openid\":\"$U1\",\"remark\":\"$(printf 'x%.0s' $(seq 1 30))\"}"
errcode "updateremark of a stranger" 40003 POST /cgi-bin/user/info/updateremark \
    "{\"openid\":\"$NOBODY\",\"remark\":\"a\"}"

echo "# tags"
ctl tag list
check "tag list: 0" 0 "$rc"
[[ $out == *"1 "*"黑名单"* && $out == *"2 "*"星标组"* ]] && ok "... the built-in tags 1 and 2" || nok "tag list" "$out"
ctl tag create 广东
check "tag create: 0" 0 "$rc"
TAG=$(grep -o 'tag [0-9]* created' <<<"$out" | grep -o '[0-9]*')
[ -n "$TAG" ] && ok "... prints its id ($TAG)" || nok "tag id" "$out"
ctl tag create 广东
check "tag create of a taken name: 1" 1 "$rc"
[[ $err == *45157* ]] && ok "... 45157" || nok "45157" "$err"
ctl tag create "$(printf 'a%.0s' $(seq 1 31))"
check "a name of 31 bytes: refused before sending (2)" 2 "$rc"
errcode "tags/create of 31 bytes (11 Chinese characters)" 45158 POST /cgi-bin/tags/create \
    '{"tag":{"name":"一二三四五六七八九十一"}}'
errcode "tags/create of an empty name" 45157 POST /cgi-bin/tags/create '{"tag":{"name":""}}'
ctl tag rename "$TAG" 广东人
check "tag rename: 0" 0 "$rc"
ctl tag rename 2 x
check "tag rename 2: refused before sending (2)" 2 "$rc"
errcode "tags/update of tag 2" 45058 POST /cgi-bin/tags/update '{"tag":{"id":2,"name":"x"}}'
errcode "tags/delete of tag 1" 45058 POST /cgi-bin/tags/delete '{"tag":{"id":1}}'
errcode "tags/update of an unknown tag" 45159 POST /cgi-bin/tags/update '{"tag":{"id":9999,"name":"x"}}'
ctl tag add "$TAG" "$U1" "$U2"
check "tag add: 0" 0 "$rc"
ctl tag of "$U1"
check "tag of: the tag" "$TAG" "$out"
ctl tag list
[[ $out == *"$TAG"*" 2 "*"广东人"* ]] && ok "tag list counts 2 followers" || nok "tag count" "$out"
tagusers=$(api POST /cgi-bin/user/tag/get "{\"tagid\":$TAG,\"next_openid\":\"\"}")
check "user/tag/get: the 2 followers" "$U1 $U2" "$(jq -r '.data.openid | join(" ")' <<<"$tagusers")"
ctl tag remove "$TAG" "$U2"
check "tag remove: 0" 0 "$rc"
ctl tag add "$TAG" $(for i in $(seq 1 51); do printf 'oSIM%024d ' "$i"; done)
check "tag add of 51 followers: refused before sending (2)" 2 "$rc"
many=$(jq -nc --argjson t "$TAG" '{tagid:$t, openid_list:[range(1;52) | "oSIM\(. | tostring | ("000000000000000000000000" + .)[-24:])"]}')
errcode "batchtagging of 51" 40032 POST /cgi-bin/tags/members/batchtagging "$many"
errcode "batchtagging of a stranger" 40003 POST /cgi-bin/tags/members/batchtagging \
    "{\"tagid\":$TAG,\"openid_list\":[\"$NOBODY\"]}"
errcode "batchtagging with an unknown tag" 45159 POST /cgi-bin/tags/members/batchtagging \
    "{\"tagid\":9999,\"openid_list\":[\"$U1\"]}"
# 20 tags at most a follower: U3 gets 20, the 21st is refused.
for i in $(seq 1 20); do
    id=$(api POST /cgi-bin/tags/create "{\"tag\":{\"name\":\"t$i\"}}" | jq -r .tag.id)
    api POST /cgi-bin/tags/members/batchtagging "{\"tagid\":$id,\"openid_list\":[\"$U3\"]}" >/dev/null
done
check "a follower with 20 tags" 20 "$(api POST /cgi-bin/tags/getidlist "{\"openid\":\"$U3\"}" | jq '.tagid_list | length')"
ctl tag add "$TAG" "$U3"
check "a 21st tag: 1" 1 "$rc"
[[ $err == *45059* ]] && ok "... 45059" || nok "45059" "$err"
# 100 tags at most: 21 made so far.
for i in $(seq 21 99); do api POST /cgi-bin/tags/create "{\"tag\":{\"name\":\"t$i\"}}" >/dev/null; done
errcode "the 101st tag" 45056 POST /cgi-bin/tags/create '{"tag":{"name":"one too many"}}'
ctl tag delete "$TAG"
check "tag delete: 0" 0 "$rc"
ctl tag of "$U1"
check "... and it is gone from its followers" "" "$out"
# A tag of more than 100 000 followers cannot be deleted.
BIG=$(api POST /cgi-bin/tags/get '' | jq -r '.tags[] | select(.name == "t99") | .id')
sim_ctl followers "{\"count\":100001,\"tagid\":$BIG}" >/dev/null
errcode "tags/delete of a tag of 100001 followers" 45057 POST /cgi-bin/tags/delete "{\"tag\":{\"id\":$BIG}}"

echo "# mass send by tag, conditional menus by tag"
errcode "mass sendall to an unknown tag" 45159 POST /cgi-bin/message/mass/sendall \
    '{"filter":{"is_to_all":false,"tag_id":9999},"text":{"content":"hi"},"msgtype":"text"}'
ctl mass send --tag 2 --yes text "hello"
check "mass send --tag 2 (built in): 0" 0 "$rc"
ctl menu create "$top/tests/fixtures/ctl/menu.json"
VIP=$(api POST /cgi-bin/tags/create '{"tag":{"name":"vip"}}' | jq -r .tag.id)
api POST /cgi-bin/tags/members/batchtagging "{\"tagid\":$VIP,\"openid_list\":[\"$U2\"]}" >/dev/null
cond=$(jq -c --arg t "$VIP" '.matchrule = {tag_id:$t} | .button = [{type:"click",name:"VIP",key:"VIP"}]' \
    "$top/tests/fixtures/ctl/menu.json")
mid=$(api POST /cgi-bin/menu/addconditional "$cond" | jq -r .menuid)
[ "$mid" != null ] && ok "a conditional menu for a tag" || nok "addconditional" "$mid"
errcode "a conditional menu for an unknown tag" 45159 POST /cgi-bin/menu/addconditional \
    "$(jq -c '.matchrule = {tag_id:"9999"}' <<<"$cond")"
check "try-match: the tagged follower sees it" VIP \
    "$(api POST /cgi-bin/menu/trymatch "{\"user_id\":\"$U2\"}" | jq -r '.button[0].name')"
check "try-match: another follower sees the default" 今日歌曲 \
    "$(api POST /cgi-bin/menu/trymatch "{\"user_id\":\"$U1\"}" | jq -r '.button[0].name')"

echo "# blacklist"
ctl blacklist add "$U1" "$U2"
check "blacklist add: 0" 0 "$rc"
ctl blacklist
check "blacklist: the two" "$U1 $U2" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
check "... tag 1 counts them" 2 "$(api GET /cgi-bin/tags/get | jq '.tags[] | select(.id == 1) | .count')"
ctl blacklist remove "$U2"
check "blacklist remove: 0" 0 "$rc"
ctl blacklist add $(for i in $(seq 1 21); do printf 'oSIM%024d ' "$i"; done)
check "blacklist add of 21: refused before sending (2)" 2 "$rc"
many=$(jq -nc '{openid_list:[range(1;22) | "oSIM\(. | tostring | ("000000000000000000000000" + .)[-24:])"]}')
errcode "batchblacklist of 21" 40032 POST /cgi-bin/tags/members/batchblacklist "$many"
errcode "batchblacklist of a stranger" 49003 POST /cgi-bin/tags/members/batchblacklist \
    "{\"openid_list\":[\"$NOBODY\"]}"
errcode "getblacklist from a stranger" 49003 POST /cgi-bin/tags/members/getblacklist \
    "{\"begin_openid\":\"$NOBODY\"}"

echo "# QR codes"
ctl qrcode create --temp 600 --scene 123 --png "$T/qr.png"
check "qrcode create --temp --png: 0" 0 "$rc"
ticket=$(field ticket) url=$(field url)
[[ $out == *"expires in  600 s"* ]] && ok "... lives 600 s" || nok "expire" "$out"
[[ $(head -c 8 "$T/qr.png" | od -An -c | tr -d ' ') == '211PNG\r\n032\n' ]] && ok "... the image is a PNG" ||
    nok "png magic" "$(head -c 8 "$T/qr.png" | od -An -c)"
check "... which a reader decodes to the ticket's URL" "$url" "$(zbarimg -q --raw "$T/qr.png" 2>/dev/null)"
ctl qrcode create --permanent --scene-str shop-7
check "qrcode create --permanent --scene-str: 0" 0 "$rc"
[[ $out != *"expires"* ]] && ok "... a permanent code does not expire" || nok "permanent expiry" "$out"
t1=$(field ticket)
ctl qrcode create --permanent --scene-str shop-7
check "... the same scene gives the same ticket" "$t1" "$(field ticket)"
ctl qrcode create --permanent --scene 100001
check "--permanent --scene 100001: refused before sending (2)" 2 "$rc"
ctl qrcode create --temp 60 --scene 0
check "--temp --scene 0: refused before sending (2)" 2 "$rc"
ctl qrcode create --scene 1
check "neither --temp nor --permanent: 2" 2 "$rc"
ctl qrcode create --permanent --scene-str "$(printf 'x%.0s' $(seq 1 65))"
check "a scene_str of 65 bytes: 2" 2 "$rc"
errcode "QR_LIMIT_SCENE 100001" 40053 POST /cgi-bin/qrcode/create \
    '{"action_name":"QR_LIMIT_SCENE","action_info":{"scene":{"scene_id":100001}}}'
errcode "QR_SCENE 0" 40053 POST /cgi-bin/qrcode/create \
    '{"expire_seconds":60,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":0}}}'
errcode "QR_STR_SCENE of 65 bytes" 40053 POST /cgi-bin/qrcode/create \
    "{\"action_name\":\"QR_STR_SCENE\",\"action_info\":{\"scene\":{\"scene_str\":\"$(printf 'x%.0s' $(seq 1 65))\"}}}"
errcode "an unknown action_name" 40052 POST /cgi-bin/qrcode/create \
    '{"action_name":"QR_FOREVER","action_info":{"scene":{"scene_id":1}}}'
def=$(api POST /cgi-bin/qrcode/create '{"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":5}}}')
check "a temporary code without expire_seconds lives 60 s" 60 "$(jq .expire_seconds <<<"$def")"
long=$(api POST /cgi-bin/qrcode/create '{"expire_seconds":9999999,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":5}}}')
check "... and asked for more than 30 days, 30 days" 2592000 "$(jq .expire_seconds <<<"$long")"

echo "# scanning a code: wxsim push --scan delivers the event to /wx"
# scan TICKET [OPENID]: wxsim push --scan, its JSON line in $out
scan() {
    local from=()
    [ $# -gt 1 ] && from=(--from "$2")
    "$build/wxsim" push -c "$T/fam.ini" --url "http://127.0.0.1:$PORT/wx" --json --scan "$1" \
        "${from[@]}" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    out=$(cat "$T/out") err=$(cat "$T/err")
}
seen() { jq -r '"\(.kind) \(.id) \(.outcome) \(.saw)"' <<<"$out"; }
S1=oScanner000000000000000000001
ctl qrcode create --temp 600 --scene-str promo-9
tstr=$(field ticket)
ctl qrcode create --permanent --scene 42
tid=$(field ticket)
scan "$ticket" "$S1"
check "a stranger scans the temporary code of scene 123: 0" 0 "$rc"
check "... subscribe with qrscene_123, answered by [route.qr]" \
    'event/subscribe qrscene_123 answered text "QR 123 subscribe"' "$(seen)"
ctl --json user info "$S1"
check "... and follows through the code" "1 ADD_SCENE_QR_CODE 123" \
    "$(jq -r '"\(.subscribe) \(.subscribe_scene) \(.qr_scene)"' <<<"$out")"
scan "$ticket" "$S1"
check "scanning it again: SCAN with the scene alone" 'event/SCAN 123 answered text "QR 123 SCAN"' "$(seen)"
scan "$tstr" "$S1"
check "a follower scans a temporary string scene: SCAN promo-9" \
    'event/SCAN promo-9 answered text "QR promo-9 SCAN"' "$(seen)"
scan "$tid"
check "someone new scans the permanent code of scene 42: subscribe" \
    'event/subscribe qrscene_42 answered text "QR 42 subscribe"' "$(seen)"
newbie=$(jq -r .follower <<<"$out")
[[ $newbie == oSIM* ]] && ok "... a new follower ($newbie)" || nok "new follower" "$out"
scan "$tid" "$newbie"
check "... who scans it again: SCAN 42" 'event/SCAN 42 answered text "QR 42 SCAN"' "$(seen)"
scan "$t1" "$newbie"
check "the permanent string scene: SCAN shop-7" 'event/SCAN shop-7 answered text "QR shop-7 SCAN"' "$(seen)"
S2=oScanner000000000000000000002
scan "$t1" "$S2"
check "a stranger and the permanent string scene: subscribe qrscene_shop-7" \
    'event/subscribe qrscene_shop-7 answered text "QR shop-7 subscribe"' "$(seen)"
ev=$(sim_curl -d "{\"ticket\":\"$t1\",\"openid\":\"$S2\"}" "$API/sim/scan")
check "/sim/scan answers the event and its XML" "SCAN shop-7 $S2" \
    "$(jq -r '"\(.event) \(.event_key) \(.openid)"' <<<"$ev")"
[[ $(jq -r .xml <<<"$ev") == *"<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[shop-7]]></EventKey><Ticket><![CDATA[$t1]]></Ticket>"* ]] &&
    ok "... the XML carries Event, EventKey and Ticket" || nok "scan xml" "$ev"
check "/sim/scan of an unknown ticket: HTTP 400 and 40097" "400 40097" \
    "$(sim_curl -o "$T/scan.json" -w '%{http_code}' -d '{"ticket":"nope"}' "$API/sim/scan") $(jq .errcode "$T/scan.json")"
check "/sim/scan without a ticket: 400 and 47001" "400 47001" \
    "$(sim_curl -o "$T/scan.json" -w '%{http_code}' -d '{"openid":"x"}' "$API/sim/scan") $(jq .errcode "$T/scan.json")"
check "/sim/scan with a bad openid: 400 and 47001" "400 47001" \
    "$(sim_curl -o "$T/scan.json" -w '%{http_code}' -d "{\"ticket\":\"$t1\",\"openid\":\"a]]>b\"}" "$API/sim/scan") $(jq .errcode "$T/scan.json")"
odd=$(api POST /cgi-bin/qrcode/create '{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"a]]>b<c"}}}' | jq -r .ticket)
ev=$(sim_curl -d "{\"ticket\":\"$odd\"}" "$API/sim/scan")
check "a scene_str holding ]]> reads back whole from the event's XML" "qrscene_a]]>b<c" \
    "$(jq -r .xml <<<"$ev" | python3 -c 'import sys, xml.etree.ElementTree as E; print(E.fromstring(sys.stdin.read()).findtext("EventKey"))')"
check "GET /sim/scan: 405" 405 "$(sim_curl -o /dev/null -w '%{http_code}' "$API/sim/scan")"
sed "s|^listen = unix:$T/sim.sock|listen = unix:$T/nowhere.sock|" "$T/fam.ini" > "$T/nosim.ini"
"$build/wxsim" push -c "$T/nosim.ini" --url "http://127.0.0.1:$PORT/wx" --scan "$t1" >/dev/null 2>"$T/err"
check "push --scan with no wxsim at [wxsim] listen: 1" 1 "$?"
[[ $(cat "$T/err") == *"wxsim at unix:$T/nowhere.sock: No such file"* ]] && ok "... saying where it looked" ||
    nok "no wxsim said" "$(cat "$T/err")"
scan nope "$S1"
check "push --scan of an unknown ticket: 1" 1 "$rc"
[[ $err == *40097* ]] && ok "... wxsim's 40097 said" || nok "scan 40097" "$err"
[ -z "$out" ] && ok "... and nothing delivered" || nok "nothing delivered" "$out"
"$build/wxsim" push -c "$T/fam.ini" --url "http://127.0.0.1:$PORT/wx" --scan "$t1" --scenario menu \
    >/dev/null 2>&1
check "push --scan with a scenario: 2" 2 "$?"
"$build/wxsim" push -c "$T/fam.ini" --url "http://127.0.0.1:$PORT/wx" --from 'bad id' --scenario menu \
    >/dev/null 2>&1
check "push --from with a bad openid: 2" 2 "$?"
"$build/wxsim" push -c "$T/fam.ini" --url "http://127.0.0.1:$PORT/wx" --json --from "$S2" --scenario menu \
    >"$T/out" 2>/dev/null
check "push --from: the messages come from that follower" "$S2 $S2" "$(jq -r .follower "$T/out" | tr '\n' ' ' | sed 's/ $//')"
sim_ctl clock '{"advance":601}' >/dev/null
scan "$ticket" "$S2"
check "push --scan of an expired ticket: 1 (40097)" "1 40097" "$rc $(grep -o 40097 <<<"$err" | head -1)"
scan "$tid" "$S2"
check "... while the permanent code still works" 'event/SCAN 42 answered text "QR 42 SCAN"' "$(seen)"
errcode "showqrcode of an expired ticket" 40097 GET "/cgi-bin/showqrcode?ticket=$(jq -rn --arg t "$ticket" '$t|@uri')"
errcode "showqrcode of an unknown ticket" 40097 GET "/cgi-bin/showqrcode?ticket=nope"

echo "# short keys, shorturl, callback check"
ctl shorten "page=1&scene=7" --temp 3600
check "shorten: 0" 0 "$rc"
key=$(field short_key)
[[ $key =~ ^[0-9A-Za-z]{15}$ ]] && ok "... a 15-character base62 key" || nok "short key" "$key"
sim_ctl clock '{"advance":100}' >/dev/null
ctl shorten fetch "$key"
check "shorten fetch: 0" 0 "$rc"
left=$(awk '$1 == "expires" { print $3 }' <<<"$out")
[[ $out == *"long_data   page=1&scene=7"* && $left -le 3500 && $left -ge 3490 ]] &&
    ok "... the data and the seconds left ($left)" || nok "fetch" "$out"
ctl shorten "$(head -c 4097 /dev/zero | tr '\0' x)"
check "4097 bytes: refused before sending (2)" 2 "$rc"
errcode "shorten/gen of 4097 bytes" 9410010 POST /cgi-bin/shorten/gen \
    "{\"long_data\":\"$(head -c 4097 /dev/zero | tr '\0' x)\"}"
errcode "shorten/gen of 30 days + 1 s" 9410011 POST /cgi-bin/shorten/gen '{"long_data":"a","expire_seconds":2592001}'
errcode "shorten/gen without long_data" 47003 POST /cgi-bin/shorten/gen '{"expire_seconds":60}'
errcode "shorten/gen with no body" 44002 POST /cgi-bin/shorten/gen ''
sim_ctl clock '{"advance":3600}' >/dev/null
ctl shorten fetch "$key"
check "an expired key: 1" 1 "$rc"
[[ $err == *9410012* ]] && ok "... 9410012" || nok "9410012" "$err"
errcode "the retired shorturl" 45103 POST /cgi-bin/shorturl '{"action":"long2short","long_url":"http://a.b/"}'
ctl check callback
check "check callback: 0" 0 "$rc"
[[ $out == *"dns   127.0.0.1"*"ping  127.0.0.1"* ]] && ok "... dns and ping" || nok "check callback" "$out"
ctl check callback trace
check "check callback with a bad action: 2" 2 "$rc"
errcode "callback/check with a bad action" 40202 POST /cgi-bin/callback/check '{"action":"x","check_operator":"DEFAULT"}'
errcode "callback/check with a bad operator" 40203 POST /cgi-bin/callback/check '{"action":"all","check_operator":"X"}'

echo "# subscription messages"
check "getcategory" 616 "$(api GET /wxaapi/newtmpl/getcategory | jq '.data[0].id')"
check "getpubtemplatetitles of category 672" 99 "$(api GET '/wxaapi/newtmpl/getpubtemplatetitles?ids=672&start=0&limit=30' | jq '.data[0].tid')"
check "getpubtemplatekeywords" thing "$(api GET '/wxaapi/newtmpl/getpubtemplatekeywords?tid=99' | jq -r '.data[0].rule')"
errcode "getpubtemplatekeywords of an unknown tid" 47003 GET '/wxaapi/newtmpl/getpubtemplatekeywords?tid=1'
ctl subscribe add 99 1 2 3
check "subscribe add: 0" 0 "$rc"
PRI=$(field priTmplId)
ctl subscribe templates
[[ $rc == 0 && $out == *"$PRI  付款成功通知"*"{{thing1.DATA}}"* ]] && ok "subscribe templates" || nok "templates" "$out"
errcode "addtemplate with a keyword not of the title" 47003 POST /wxaapi/newtmpl/addtemplate '{"tid":"99","kidList":[1,9]}'
jq -n --arg u "$U3" --arg t "$PRI" '{touser:$u, template_id:$t, page:"https://example.com/",
    data:{thing1:{value:"咖啡"}, amount2:{value:"25.00元"}, time3:{value:"2024年5月1日"}}}' > "$T/sub.json"
ctl subscribe send "$T/sub.json"
check "subscribe send without an opt-in: 1" 1 "$rc"
[[ $err == *43101* ]] && ok "... 43101" || nok "43101" "$err"
sim_ctl subscribe "{\"openid\":\"$U3\",\"template_id\":\"$PRI\"}" >/dev/null
ctl subscribe send "$T/sub.json"
check "subscribe send after one opt-in: 0" 0 "$rc"
ctl subscribe send "$T/sub.json"
check "... a second one uses no opt-in: 1" 1 "$rc"
check "wxsim received one" 1 "$(sim_ctl subscribe | jq .count)"
jq '.data.thing1.value = "一二三四五六七八九十一二三四五六七八九十一"' "$T/sub.json" > "$T/sub-long.json"
sim_ctl subscribe "{\"openid\":\"$U3\",\"template_id\":\"$PRI\"}" >/dev/null
errcode "bizsend with a thing of 21 characters" 47003 POST /cgi-bin/message/subscribe/bizsend "$(cat "$T/sub-long.json")"
errcode "bizsend to a stranger" 40003 POST /cgi-bin/message/subscribe/bizsend "$(jq -c --arg u "$NOBODY" '.touser = $u' "$T/sub.json")"
errcode "bizsend of an unknown template" 40037 POST /cgi-bin/message/subscribe/bizsend "$(jq -c '.template_id = "nope"' "$T/sub.json")"
jq 'del(.touser)' "$T/sub.json" > "$T/sub-bad.json"
ctl subscribe send "$T/sub-bad.json"
check "a message without touser: refused before sending (2)" 2 "$rc"
ctl subscribe delete "$PRI"
check "subscribe delete: 0" 0 "$rc"
errcode "deltemplate of an unknown template" 40037 POST /wxaapi/newtmpl/deltemplate '{"priTmplId":"nope"}'

echo "# customer service"
ctl kf add agent1@gh_test 小王
check "kf add: 0" 0 "$rc"
ctl kf add agent1@gh_test 小王
check "kf add twice: 1" 1 "$rc"
[[ $err == *65406* ]] && ok "... 65406" || nok "65406" "$err"
ctl kf add "bad name@gh" x
check "kf add of a bad account: refused before sending (2)" 2 "$rc"
ctl kf add agent2@gh_test 一二三四五六七
check "a nickname of 7 Chinese characters: 2" 2 "$rc"
errcode "kfaccount/add of a bad account" 65404 POST /customservice/kfaccount/add '{"kf_account":"no-at-sign","nickname":"a"}'
errcode "kfaccount/add of a long nickname" 65403 POST /customservice/kfaccount/add '{"kf_account":"a2@gh","nickname":"abcdefghijklm"}'
errcode "kfaccount/update of an unknown account" 65401 POST /customservice/kfaccount/update '{"kf_account":"zz@gh","nickname":"a"}'
ctl kf list
[[ $rc == 0 && $out == *"1001"*"agent1@gh_test"*"yes"*"小王"* ]] && ok "kf list" || nok "kf list" "$out"
ctl kf session open agent1@gh_test "$U1"
check "kf session open: 0" 0 "$rc"
ctl kf session "$U1"
[[ $out == "served by   agent1@gh_test since"* ]] && ok "kf session OPENID" || nok "session" "$out"
check "getsessionlist" "$U1" "$(api GET '/customservice/kfsession/getsessionlist?kf_account=agent1@gh_test' | jq -r '.sessionlist[0].openid')"
check "getwaitcase" 0 "$(api GET /customservice/kfsession/getwaitcase | jq .count)"
api POST /customservice/kfaccount/add '{"kf_account":"agent2@gh_test","nickname":"b"}' >/dev/null
errcode "a session with another agent's follower" 65414 POST /customservice/kfsession/create \
    "{\"kf_account\":\"agent2@gh_test\",\"openid\":\"$U1\"}"
sim_ctl kf '{"kf_account":"agent2@gh_test","online":false}' >/dev/null
errcode "a session with an agent offline" 65415 POST /customservice/kfsession/create \
    "{\"kf_account\":\"agent2@gh_test\",\"openid\":\"$U2\"}"
sim_ctl kf '{"kf_account":"agent2@gh_test","bound":false}' >/dev/null
errcode "a session with an unbound agent" 65402 POST /customservice/kfsession/create \
    "{\"kf_account\":\"agent2@gh_test\",\"openid\":\"$U2\"}"
errcode "a session with an unknown agent" 65401 POST /customservice/kfsession/create \
    "{\"kf_account\":\"zz@gh\",\"openid\":\"$U2\"}"
errcode "a session with a stranger" 40003 POST /customservice/kfsession/create \
    "{\"kf_account\":\"agent1@gh_test\",\"openid\":\"$NOBODY\"}"
ctl kf session close agent1@gh_test "$U1"
check "kf session close: 0" 0 "$rc"
ctl kf session close agent1@gh_test "$U1"
check "closing it again: 1" 1 "$rc"
[[ $err == *65413* ]] && ok "... 65413" || nok "65413" "$err"
ctl kf typing "$U1"
check "kf typing: 0" 0 "$rc"
ctl kf typing "$U1" off
check "kf typing off: 0" 0 "$rc"
ctl kf typing "$NOBODY"
check "kf typing to a stranger: 1 (40003)" "1 40003" "$rc $(grep -o 40003 <<<"$err" | head -1)"
errcode "typing with a bad command" 47003 POST /cgi-bin/message/custom/typing "{\"touser\":\"$U1\",\"command\":\"Talking\"}"
ctl kf del agent1@gh_test
check "kf del: 0" 0 "$rc"
ctl kf del agent1@gh_test
check "kf del again: 1 (65401)" "1 65401" "$rc $(grep -o 65401 <<<"$err" | head -1)"

echo "# template management"
ctl template add TM00015
check "template add before the industry: 1 (40102)" "1 40102" "$rc $(grep -o 40102 <<<"$err" | head -1)"
ctl template industry 1 4
check "template industry ID1 ID2: 0" 0 "$rc"
ctl template industry
[[ $rc == 0 && $out == *"primary     IT科技 / 互联网/电子商务"* ]] && ok "template industry" || nok "industry" "$out"
ctl template industry 2 3
check "a second change within 30 days: 1 (43100)" "1 43100" "$rc $(grep -o 43100 <<<"$err" | head -1)"
ctl template industry 1 1
check "the same industry twice: refused before sending (2)" 2 "$rc"
errcode "api_set_industry of 42" 47003 POST /cgi-bin/template/api_set_industry '{"industry_id1":"42","industry_id2":"1"}'
ctl template add TM00015
check "template add: 0" 0 "$rc"
TID=$(field template_id)
ctl template list
[[ $rc == 0 && $out == *"$TID  订单支付成功"* ]] && ok "template list" || nok "template list" "$out"
ctl template add XX1
check "a short id not TM...: 2" 2 "$rc"
errcode "api_add_template of an unknown id" 40037 POST /cgi-bin/template/api_add_template '{"template_id_short":"TM99999"}'
for i in $(seq 2 25); do api POST /cgi-bin/template/api_add_template '{"template_id_short":"TM00001"}' >/dev/null; done
errcode "the 26th private template" 45026 POST /cgi-bin/template/api_add_template '{"template_id_short":"TM00001"}'
ctl template delete "$TID"
check "template delete: 0" 0 "$rc"
ctl template delete "$TID"
check "template delete again: 1 (40037)" "1 40037" "$rc $(grep -o 40037 <<<"$err" | head -1)"

echo "# none of these paths is unknown to wxsim"
for p in user/info user/get tags/get qrcode/create showqrcode shorten/gen callback/check \
         customservice/getkflist template/get_industry message/subscribe/bizsend; do
    c=$(api GET "/cgi-bin/$p" | jq -r .errcode)
    [ "$c" != 40066 ] || nok "/cgi-bin/$p answered 40066"
done
for p in /customservice/kfsession/getwaitcase /wxaapi/newtmpl/gettemplate; do
    [ "$(api GET "$p" | jq -r .errcode)" != 40066 ] || nok "$p answered 40066"
done
ok "wxsim serves every path of these families"

echo "# wxsim's metrics: the counts move by exactly the calls made"
# mval TEXT SAMPLE: the value of SAMPLE in the scrape TEXT (0 when absent)
mval() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' <<<"$1"; }
# moved SAMPLE: how much SAMPLE moved from scrape m0 to m1
moved() { echo $(( $(mval "$m1" "$1") - $(mval "$m0" "$1") )); }
ctl metrics wxsim
check "wxctl metrics wxsim: 0" 0 "$rc"
m0=$out
for f in api_calls_total api_call_duration_seconds tokens_issued_total messages_received_total; do
    grep -q "^# TYPE wxsim_$f " <<<"$m0" && ok "... family wxsim_$f" || nok "family wxsim_$f" "$m0"
done
[ "$(sim_curl "$API/sim/metrics")" = "$m0" ] && ok "... the same text as GET /sim/metrics" ||
    nok "/sim/metrics through nginx"
custom="{\"touser\":\"$U2\",\"msgtype\":\"text\",\"text\":{\"content\":\"hi\"}}"
for i in 1 2 3; do api POST /cgi-bin/message/custom/send "$custom" >/dev/null; done
api POST /cgi-bin/message/custom/send '{"msgtype":"text","text":{"content":"hi"}}' >/dev/null
tmpl="{\"touser\":\"$U2\",\"template_id\":\"T1\",\"data\":{\"a\":{\"value\":\"1\"}}}"
for i in 1 2; do api POST /cgi-bin/message/template/send "$tmpl" >/dev/null; done
api POST /cgi-bin/message/mass/sendall \
    '{"filter":{"is_to_all":true},"text":{"content":"hi"},"msgtype":"text"}' >/dev/null
# Tokens and a ticket straight from wxsim, last: a new token retires wxtoken's.
tq="grant_type=client_credential&appid=$APPID&secret=$SECRET"
sim_curl "$API/cgi-bin/token?$tq" >/dev/null
at=$(sim_curl "$API/cgi-bin/token?$tq" | jq -r .access_token)
sim_curl "$API/cgi-bin/ticket/getticket?access_token=$at&type=jsapi" >/dev/null
sim_curl "$API/cgi-bin/token?grant_type=client_credential&appid=$APPID&secret=wrong" >/dev/null
ctl metrics wxsim
m1=$out
check "custom: 3 accepted (errcode 0), 1 refused (40003)" "3 1 3" \
    "$(moved 'wxsim_api_calls_total{family="custom",errcode="0"}') $(moved 'wxsim_api_calls_total{family="custom",errcode="40003"}') $(moved 'wxsim_messages_received_total{kind="custom"}')"
check "template: 2 calls, 2 messages" "2 2" \
    "$(moved 'wxsim_api_calls_total{family="template",errcode="0"}') $(moved 'wxsim_messages_received_total{kind="template"}')"
check "mass: 1 call, 1 message" "1 1" \
    "$(moved 'wxsim_api_calls_total{family="mass",errcode="0"}') $(moved 'wxsim_messages_received_total{kind="mass"}')"
check "tokens: 2 issued, 1 refused (40125); 1 jsapi ticket" "2 2 1 1" \
    "$(moved 'wxsim_tokens_issued_total{kind="access_token"}') $(moved 'wxsim_api_calls_total{family="token",errcode="0"}') $(moved 'wxsim_api_calls_total{family="token",errcode="40125"}') $(moved 'wxsim_tokens_issued_total{kind="jsapi_ticket"}')"
check "the duration histogram counted the 11 calls" 11 "$(moved wxsim_api_call_duration_seconds_count)"
check "... each in its +Inf bucket" 11 "$(moved 'wxsim_api_call_duration_seconds_bucket{le="+Inf"}')"
check "nothing else moved: no stable token, no subscribe message" "0 0" \
    "$(moved 'wxsim_tokens_issued_total{kind="stable_token"}') $(moved 'wxsim_messages_received_total{kind="subscribe"}')"
ctl status wxsim
check "wxctl status wxsim: a usage error (2)" 2 "$rc"

echo "1..$((pass + fail))"
echo "# families: $pass passed, $fail failed"
[ "$fail" = 0 ]
