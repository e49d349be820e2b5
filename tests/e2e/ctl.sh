#!/usr/bin/env bash
# ctl.sh BUILD - end-to-end tests of wxctl's management commands: wxctl ->
# nginx /wxapi/ -> wxproxy (keys, paths, rate limits) -> nginx with TLS ->
# wxsim, with wxtoken keeping the token.  Every subcommand's success path,
# and the errors: bad JSON, invalid menus naming the button, oversize and
# mistyped uploads, WeChat's errcodes with their hints, wxproxy's 401, 403
# and 429, transport failures, an unconfirmed mass send.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-ctl.XXXXXX")
FX=$top/tests/fixtures/ctl
APPID=wx0123456789abcdef
SECRET=CtlSecret0123456789abcdef0123456
KEY=ctl-key-0123456789abcdef-secret
MENU_KEY=menu-key-0123456789abcdef-secret
SLOW_KEY=slow-key-0123456789abcdef-secret
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
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

[ -x "$build/wxproxy" ] || { echo "ctl: $build/wxproxy is missing"; exit 1; }

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
sim_ctl() { # PATH [JSON]
    if [ $# -gt 1 ]; then sim_curl -d "$2" "$API/sim/$1"; else sim_curl "$API/sim/$1"; fi
}
fault() { sim_ctl fault "$1" >/dev/null; }
sim_calls() { # PATH: the calls wxsim received on /cgi-bin/PATH
    sim_ctl stats | tr -d ' \n' | grep -o "\"/cgi-bin/$1\":[0-9]*" | grep -o '[0-9]*$'
}

# ctl ARGS...: run wxctl; its stdout in $out, stderr in $err, status in $rc.
# Everything it printed is also kept, to check that no key ever shows.
ctl() {
    "$build/wxctl" -c "$T/ctl.ini" "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    out=$(cat "$T/out") err=$(cat "$T/err")
    cat "$T/out" "$T/err" >> "$T/all-output"
}
# field NAME: the value of "NAME  VALUE" in $out
field() { awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"; }

# --- set-up -----------------------------------------------------------------
mkdir -p "$T/store" "$T/pxstate"
printf '%s\n' "$SECRET" > "$T/secret"
printf '%s\n' "$KEY" > "$T/ctlkey"
cat > "$T/ctl.ini" <<CONF
[wx]
token = ctltest42
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
timeout_ms = 5000
state_dir = $T/pxstate
log = $T/px.log
[wxproxy.key.ctl]
key = $KEY
paths = /cgi-bin/*
rate = 1000
burst = 1000
[wxproxy.key.menu]
key = $MENU_KEY
paths = /cgi-bin/menu/*
rate = 100
[wxproxy.key.slow]
key = $SLOW_KEY
paths = /cgi-bin/*
rate = 1
burst = 1
[wxctl]
proxy = http://127.0.0.1:$PORT/wxapi
proxy_key_file = $T/ctlkey
timeout_ms = 8000
CONF
cp "$top/nginx/wxproxy.conf" "$T/wxproxy.conf"
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/ctl.ini" \
    "upstream wxproxy { server unix:$T/px.sock; }" "include wxproxy.conf;" || exit 1
SIM=$WX_SIM_PID
"$build/wxtoken" -c "$T/ctl.ini" 2>>"$T/tok.err" &
TOK=$!
wx_wait_for "$T/tok.sock" 10 || exit 1
for i in $(seq 1 100); do [ -s "$T/store/token" ] && break; sleep 0.1; done
"$build/wxproxy" -c "$T/ctl.ini" 2>>"$T/px.err" &
PX=$!
wx_wait_for "$T/px.sock" 10 || exit 1

# Media files, generated: the first bytes of each format, then noise.
mk() { # FILE MAGIC(printf) SIZE
    { printf "$2"; head -c "$3" /dev/urandom; } > "$T/$1"
}
mk pic.jpg '\xff\xd8\xff\xe0\x00\x10JFIF\x00' 50000
mk pic.png '\x89PNG\r\n\x1a\n' 30000
mk voice.amr '#!AMR\n' 20000
mk clip.mp4 '\x00\x00\x00\x18ftypmp42' 200000
mk thumb.jpg '\xff\xd8\xff\xe0' 20000
mk bigthumb.jpg '\xff\xd8\xff\xe0' 70000
printf 'not an image at all' > "$T/fake.png"
printf 'plain text' > "$T/notes.txt"
{ printf '\xff\xd8\xff\xe0'; } > "$T/huge.jpg"
truncate -s $((10 * 1024 * 1024 + 1)) "$T/huge.jpg"

echo "# command line"
"$build/wxctl" --help > "$T/help"
for w in "menu create" "media upload" "material list" "draft add" "publish status" \
         "mass send" "mass speed" "send text" "template send" "--json" "--yes" "--all" \
         "Exit status"; do
    grep -q -- "$w" "$T/help" || nok "--help mentions $w"
done
ok "wxctl --help documents every command family"
ctl frobnicate
check "an unknown command is a usage error (2)" 2 "$rc"
ctl menu
check "menu without a subcommand: 2" 2 "$rc"
ctl material list --count 21 image
check "--count over 20: 2" 2 "$rc"
sed 's|^proxy_key_file = .*||' "$T/ctl.ini" > "$T/nokey.ini"
WX_PROXY_KEY="" "$build/wxctl" -c "$T/nokey.ini" menu get >/dev/null 2>"$T/err"; rc=$?
check "no proxy key: 2" 2 "$rc"
grep -q 'proxy_key' "$T/err" && ok "... and says which setting" || nok "no-key message" "$(cat "$T/err")"

echo "# menus"
ctl menu create "$FX/menu.json"
check "menu create: 0" 0 "$rc"
check "... says so" "menu created" "$out"
ctl menu get
check "menu get: 0" 0 "$rc"
[[ $out == *"今日歌曲"*click*V1001_TODAY_MUSIC* && $out == *"搜索"*view*"http://www.soso.com/"* ]] &&
    ok "menu get shows the buttons as a table" || nok "menu get table" "$out"
# wxctl needs no callback token but to sign: a config without one starts.
sed '/^token = /d' "$T/ctl.ini" > "$T/notoken.ini"
WX_TOKEN="" "$build/wxctl" -c "$T/notoken.ini" menu get >"$T/out" 2>"$T/err"; rc=$?
check "a config without [wx] token: menu get: 0" 0 "$rc"
WX_TOKEN="" "$build/wxctl" -c "$T/notoken.ini" sign 1714112445 nonce >/dev/null 2>"$T/err"; rc=$?
check "... sign needs the token: 1" 1 "$rc"
grep -q '\[wx\] token is missing' "$T/err" && ok "... and says so" || nok "sign without token" "$(cat "$T/err")"
ctl --json menu get
[[ $out == *'"menu"'*'"button"'* ]] && ok "menu get --json prints WeChat's JSON" || nok "menu get --json" "$out"
ctl menu create "$FX/menu-conditional.json"
check "conditional menu create: 0" 0 "$rc"
menuid=$(grep -o 'menuid [0-9]*' <<<"$out" | grep -o '[0-9]*')
[ -n "$menuid" ] && ok "... prints its menuid ($menuid)" || nok "conditional menuid" "$out"
ctl menu get
[[ $out == *"conditional menu (menuid $menuid; tag_id 2"*"会员专区"* ]] &&
    ok "menu get shows the conditional menu" || nok "conditional in menu get" "$out"
ctl menu try-match oUSER0000000000000000000001
check "menu try-match: 0" 0 "$rc"
[[ $out == *"今日歌曲"* ]] && ok "... shows the matched menu" || nok "try-match output" "$out"
ctl menu current
[[ $rc == 0 && $out == *"menu open"*"赞一下我们"* ]] && ok "menu current" || nok "menu current" "$out $err"
ctl menu delete "$menuid"
check "menu delete MENUID (conditional): 0" 0 "$rc"
ctl menu delete
check "menu delete: 0" 0 "$rc"
ctl menu get
check "menu get after delete: WeChat error, 1" 1 "$rc"
[[ $err == *"WeChat error 46003"* ]] && ok "... with errcode 46003 on stderr" || nok "46003 message" "$err"
[ -z "$out" ] && ok "... and nothing on stdout" || nok "stdout on error" "$out"

echo "# invalid menus: refused before sending, naming the button"
n0=$(sim_calls menu/create)
bad_menu() { # FILE EXPECTED-TEXT
    ctl menu create "$FX/$1"
    check "$1: status 2" 2 "$rc"
    [[ $err == *"$2"* ]] && ok "... $2" || nok "$1 message" "$err"
}
bad_menu menu-bad-missing-url.json 'menu-bad-missing-url.json: button[1].sub_button[2] (type view): missing "url"'
bad_menu menu-bad-too-many.json 'button: 4 buttons, must be 1 to 3'
bad_menu menu-bad-subs.json 'button[0].sub_button: 6 buttons, must be 1 to 5'
bad_menu menu-bad-name.json 'button[0] (type click): "name" is 24 bytes, at most 16'
bad_menu menu-bad-type.json 'button[1] (type clik): unknown type'
bad_menu menu-bad-miniprogram.json 'button[0] (type miniprogram): missing "pagepath"'
bad_menu menu-bad-matchrule.json 'matchrule: "sex" is not supported'
bad_menu menu-bad-json.json 'menu-bad-json.json:3:'
[[ $err == *"invalid JSON"* ]] && ok "... invalid JSON" || nok "bad JSON message" "$err"
ctl menu create "$T/no-such-file.json"
check "a missing file: 2" 2 "$rc"
check "no invalid menu reached WeChat" "$n0" "$(sim_calls menu/create)"

echo "# temporary media"
ctl media upload image "$T/pic.jpg"
check "media upload image: 0" 0 "$rc"
img=$(field media_id)
[ -n "$img" ] && ok "... prints the media_id" || nok "media_id" "$out"
[[ $out == *"expires"* ]] && ok "... and when it expires" || nok "expiry" "$out"
ctl media get "$img" -o "$T/got.jpg"
check "media get -o: 0" 0 "$rc"
cmp -s "$T/pic.jpg" "$T/got.jpg" && ok "... the bytes equal the uploaded file" || nok "downloaded bytes differ"
[ ! -e "$T/got.jpg.part" ] && ok "... no .part file left" || nok ".part left"
ctl media get "$img" -o - --no-progress
"$build/wxctl" -c "$T/ctl.ini" media get "$img" -o - > "$T/got2.jpg" 2>/dev/null
cmp -s "$T/pic.jpg" "$T/got2.jpg" && ok "media get -o - writes the bytes to stdout" || nok "-o -"
# An ID after "--", as one that begins with '-' must be given.
"$build/wxctl" -c "$T/ctl.ini" media get -o "$T/got3.jpg" -- "$img" 2>/dev/null
check "media get -o FILE -- ID: 0" 0 "$?"
cmp -s "$T/pic.jpg" "$T/got3.jpg" && ok "... the same bytes" || nok "-- ID: bytes differ"
ctl media upload voice "$T/voice.amr"
check "media upload voice (amr): 0" 0 "$rc"
ctl media upload video "$T/clip.mp4"
check "media upload video (mp4): 0" 0 "$rc"
vid=$(field media_id)
ctl media get "$vid" -o "$T/video.out"
[[ $rc == 0 && $out == *video_url* ]] && ok "media get of a video prints its link" || nok "video get" "$out $err"
[ ! -e "$T/video.out" ] && ok "... and writes no file" || nok "video wrote a file"
ctl media upload thumb "$T/thumb.jpg"
check "media upload thumb: 0" 0 "$rc"
ctl --json media upload image "$T/pic.png"
[[ $rc == 0 && $out == *'"media_id"'* && $out == *'"created_at"'* ]] &&
    ok "media upload --json prints WeChat's JSON" || nok "upload --json" "$out"
ctl media get "nosuchmedia" -o "$T/none.jpg"
check "media get of an unknown id: 1" 1 "$rc"
[[ $err == *"WeChat error 40007"*hint* ]] && ok "... 40007 with a hint" || nok "40007" "$err"
[ ! -e "$T/none.jpg" ] && [ ! -e "$T/none.jpg.part" ] && ok "... and no file" || nok "file after error"
ctl media get "$img"
check "media get without -o: 2" 2 "$rc"

echo "# uploads checked before sending"
n0=$(sim_calls media/upload)
ctl media upload image "$T/huge.jpg"
check "an image over 10 MiB: 2" 2 "$rc"
[[ $err == *"over the 10 MiB limit of a image"* ]] && ok "... says the limit" || nok "oversize message" "$err"
ctl media upload thumb "$T/bigthumb.jpg"
check "a thumb over 64 KiB: 2" 2 "$rc"
ctl media upload audio "$T/voice.amr"
check "an unknown media type: 2" 2 "$rc"
[[ $err == *"unknown media type 'audio'"* ]] && ok "... names it" || nok "unknown type message" "$err"
ctl media upload image "$T/fake.png"
check "a .png that is not a PNG: 2" 2 "$rc"
[[ $err == *"not png"* ]] && ok "... says the content does not match" || nok "magic message" "$err"
ctl media upload image "$T/notes.txt"
check "an image with a .txt name: 2" 2 "$rc"
ctl media upload voice "$T/pic.jpg"
check "a jpg as voice: 2" 2 "$rc"
ctl media upload image "$T/missing.jpg"
check "a missing file: 2" 2 "$rc"
check "none of them reached WeChat" "$n0" "$(sim_calls media/upload)"

echo "# permanent material"
ctl material add image "$T/pic.jpg"
check "material add image: 0" 0 "$rc"
mimg=$(field media_id)
[[ -n $mimg && $out == *"url "* ]] && ok "... prints media_id and url" || nok "material add output" "$out"
ctl material add video "$T/clip.mp4"
check "material add video without --title: 2" 2 "$rc"
ctl material add video "$T/clip.mp4" --title "测试视频" --introduction "一段介绍"
check "material add video --title --introduction: 0" 0 "$rc"
mvid=$(field media_id)
ctl material get "$mvid" -o "$T/v.out"
[[ $rc == 0 && $out == *"测试视频"* && $out == *"一段介绍"* && $out == *down_url* ]] &&
    ok "material get of a video: title, introduction and link" || nok "material get video" "$out $err"
ctl material get "$mimg" -o "$T/mgot.jpg"
check "material get image -o: 0" 0 "$rc"
cmp -s "$T/pic.jpg" "$T/mgot.jpg" && ok "... the bytes equal the upload" || nok "material bytes differ"
ctl material add thumb "$T/thumb.jpg"
thumb=$(field media_id)
ctl material add voice "$T/voice.amr"
check "material add voice: 0" 0 "$rc"
mvoice=$(field media_id)
ctl material count
check "material count: 0" 0 "$rc"
[[ $(awk '$1 == "image" { print $2 }' <<<"$out") == 2 && $(awk '$1 == "video" { print $2 }' <<<"$out") == 1 ]] &&
    ok "... image 2 (image + thumb), video 1" || nok "count" "$out"
ctl material delete "$mvoice"
check "material delete: 0" 0 "$rc"
ctl material delete "$mvoice"
check "material delete again: 1" 1 "$rc"
# 24 more images: 25 in all (the thumb is listed apart), two pages of 20.
for i in $(seq 1 24); do
    "$build/wxctl" -c "$T/ctl.ini" material add image "$T/pic.png" >/dev/null 2>&1 || nok "material add #$i"
done
ctl material list image
check "material list: 0" 0 "$rc"
check "... one page of 20" 20 "$(grep -c '^[0-9a-zA-Z_-]\{20,\} ' <<<"$out")"
[[ $out == *"(20 of 25)"* ]] && ok "... of 25" || nok "page footer" "$(tail -1 <<<"$out")"
n0=$(sim_calls material/batchget_material)
ctl material list image --all
check "material list --all: every item" 25 "$(grep -c '^[0-9a-zA-Z_-]\{20,\} ' <<<"$out")"
check "... in two calls" 2 $(( $(sim_calls material/batchget_material) - n0 ))
ctl --json material list image --all
check "--json --all: one combined answer" 25 "$(grep -c '"media_id"' <<<"$out")"
[[ $out == *'"item_count": 25'* ]] && ok "... item_count 25" || nok "combined item_count" "$out"
if command -v script >/dev/null 2>&1; then
    script -qec "'$build/wxctl' -c '$T/ctl.ini' material list image --all" /dev/null > "$T/tty.out" 2>&1
    grep -q 'image .*100%' "$T/tty.out" && ok "on a terminal --all shows a progress bar" ||
        nok "--all progress bar" "$(tail -c 300 "$T/tty.out")"
    script -qec "'$build/wxctl' -c '$T/ctl.ini' media upload image '$T/pic.jpg'" /dev/null > "$T/tty.out" 2>&1
    grep -q 'pic.jpg .*100%' "$T/tty.out" && ok "... and so does an upload" ||
        nok "upload progress bar" "$(tail -c 300 "$T/tty.out")"
    script -qec "'$build/wxctl' -c '$T/ctl.ini' media upload image '$T/pic.jpg' --no-progress" /dev/null \
        > "$T/tty.out" 2>&1
    grep -q '100%' "$T/tty.out" && nok "--no-progress still shows a bar" || ok "... unless --no-progress"
fi
ctl media upload image "$T/pic.jpg"
[[ $out != *"%"* && $err != *"%"* ]] && ok "no progress bar when stdout is not a terminal" || nok "bar off a tty" "$err"
ctl material list image --offset 20 --count 3
check "--offset 20 --count 3" 3 "$(grep -c '^[0-9a-zA-Z_-]\{20,\} ' <<<"$out")"
ctl material list sticker
check "material list of an unknown type: 2" 2 "$rc"

echo "# drafts and publishing"
sed "s/@THUMB@/$mimg/g" "$FX/draft.json" > "$T/draft.json"
ctl draft add "$T/draft.json"
check "draft add: 0" 0 "$rc"
draft=$(field media_id)
[ -n "$draft" ] && ok "... prints the media_id" || nok "draft media_id" "$out"
ctl draft add "$FX/draft-bad-thumb.json"
check "a news article without a cover: 2" 2 "$rc"
[[ $err == *'articles[0]: missing "thumb_media_id"'* ]] && ok "... names the article" || nok "draft message" "$err"
ctl draft add "$FX/draft-bad-title.json"
[[ $rc == 2 && $err == *'"title" is 33 characters, at most 32'* ]] && ok "a title over 32 characters: 2" ||
    nok "draft title" "$rc $err"
ctl draft get "$draft"
[[ $rc == 0 && $out == *"[0] 第一篇"* && $out == *"[1] 第二篇"* ]] && ok "draft get lists its articles" ||
    nok "draft get" "$out $err"
ctl draft count
check "draft count" 1 "$out"
ctl draft list
[[ $rc == 0 && $out == *"$draft"*"第一篇 (+1)"* ]] && ok "draft list" || nok "draft list" "$out $err"
ctl draft list --all --json
[[ $rc == 0 && $out == *'"total_count": 1'* ]] && ok "draft list --all --json" || nok "draft list --json" "$out"
ctl publish "$draft"
check "publish: 0" 0 "$rc"
pid=$(field publish_id)
[ -n "$pid" ] && ok "... prints the publish_id" || nok "publish_id" "$out"
ctl publish status "$pid"
[[ $rc == 0 && $out == *"status      0 (published)"* && $out == *"article 1"* ]] &&
    ok "publish status" || nok "publish status" "$out $err"
ctl publish status 999999
check "publish status of an unknown id: 1" 1 "$rc"

echo "# mass sending"
ctl mass send --tag 2 text "你好，各位"
check "mass send without --yes, stdin not a terminal: 2" 2 "$rc"
[[ $err == *"--yes"* ]] && ok "... and says to pass --yes" || nok "--yes message" "$err"
n0=$(sim_calls message/mass/sendall)
check "... nothing was sent" 0 "$n0"
ctl mass send --tag 2 text "你好，各位" --yes
check "mass send --tag text --yes: 0" 0 "$rc"
msg=$(field msg_id)
[ -n "$msg" ] && ok "... prints the msg_id ($msg)" || nok "msg_id" "$out"
[[ $err == *"keep the msg_id"* ]] && ok "... and says to keep it" || nok "keep msg_id" "$err"
if command -v script >/dev/null 2>&1; then
    printf 'y\n' | script -qec "'$build/wxctl' -c '$T/ctl.ini' mass send --tag 2 text hello" /dev/null \
        > "$T/tty.out" 2>&1
    grep -q 'Send to tag 2 (text)? \[y/N\]' "$T/tty.out" && grep -q 'msg_id' "$T/tty.out" &&
        ok "on a terminal it asks 'Send to tag 2 (text)? [y/N]' and sends on y" ||
        nok "terminal prompt" "$(cat "$T/tty.out")"
    printf 'n\n' | script -qec "'$build/wxctl' -c '$T/ctl.ini' mass send --to-all text hello" /dev/null \
        > "$T/tty.out" 2>&1
    grep -q 'Send to ALL followers (text)?' "$T/tty.out" && grep -q 'not sent' "$T/tty.out" &&
        ok "... and sends nothing on n" || nok "terminal prompt, no" "$(cat "$T/tty.out")"
fi
ctl mass send --to oUSER1,oUSER2 image "$img" --yes
check "mass send --to image: 0" 0 "$rc"
ctl mass send --to-file "$FX/openids.txt" voice "$mvoice" --yes
check "mass send --to-file voice: 0" 0 "$rc"
ctl mass send --to-all video "$mvid" --yes
check "mass send --to-all video (mpvideo): 0" 0 "$rc"
ctl mass send --tag 2 news "$draft" --yes --clientmsgid "ctl-test-1"
check "mass send news (mpnews) with a clientmsgid: 0" 0 "$rc"
ctl mass send --tag 2 news "$draft" --yes --clientmsgid "ctl-test-1"
[[ $rc == 1 && $err == *"45065"* ]] && ok "the same clientmsgid again: WeChat's 45065" || nok "45065" "$rc $err"
ctl mass send --to oUSER1 text hi --yes
check "mass send to one OpenID: 2" 2 "$rc"
ctl mass send text hi --yes
check "mass send without followers: 2" 2 "$rc"
ctl mass send --tag 2 sticker x --yes
check "mass send of an unknown type: 2" 2 "$rc"
ctl mass status "$msg"
[[ $rc == 0 && $out == *"SEND_SUCCESS"* ]] && ok "mass status" || nok "mass status" "$out $err"
ctl mass delete "$msg"
check "mass delete: 0" 0 "$rc"
ctl mass status "$msg"
[[ $out == *"DELETE"* ]] && ok "... status DELETE" || nok "status after delete" "$out"
ctl mass preview oUSER0000000000000000000001 text "preview"
check "mass preview: 0" 0 "$rc"
ctl mass preview --wxname somebody news "$draft"
check "mass preview --wxname: 0" 0 "$rc"
ctl mass speed set 2
check "mass speed set: 0" 0 "$rc"
ctl mass speed get
[[ $rc == 0 && $(field speed) == 2 ]] && ok "mass speed get" || nok "speed get" "$out"
ctl mass speed set 7
check "mass speed set 7: 2" 2 "$rc"

echo "# customer-service and template messages"
c0=$(sim_ctl stats | tr -d ' \n' | grep -o '"custom_messages":[0-9]*' | grep -o '[0-9]*$')
ctl send text oUSER0000000000000000000001 "你好"
check "send text: 0" 0 "$rc"
ctl send image oUSER0000000000000000000001 "$img"
check "send image: 0" 0 "$rc"
ctl send voice oUSER0000000000000000000001 "$mvoice"
check "send voice: 0" 0 "$rc"
ctl send video oUSER0000000000000000000001 "$vid" --title "clip" --description "a clip" --thumb "$thumb"
check "send video: 0" 0 "$rc"
ctl send news oUSER0000000000000000000001 "A title" https://example.com/a --description "d" --picurl https://example.com/p.jpg
check "send news: 0" 0 "$rc"
ctl send mpnews oUSER0000000000000000000001 "$draft" --kf test1@kftest
check "send mpnews --kf: 0" 0 "$rc"
c1=$(sim_ctl stats | tr -d ' \n' | grep -o '"custom_messages":[0-9]*' | grep -o '[0-9]*$')
check "wxsim received the 6 messages" 6 $((c1 - c0))
sim_ctl custom | contains '"content": *"你好"' && ok "... the text as raw UTF-8" || nok "custom text"
ctl send text oUSER1
check "send text without TEXT: 2" 2 "$rc"
ctl template send "$FX/template.json"
check "template send: 0" 0 "$rc"
[ -n "$(field msgid)" ] && ok "... prints the msgid" || nok "template msgid" "$out"
ctl template send "$FX/template-bad.json"
[[ $rc == 2 && $err == *"data.keyword2: must be {\"value\": TEXT}"* ]] &&
    ok "an invalid template: 2, naming the field" || nok "template-bad" "$rc $err"

echo "# WeChat's errors, with their hints"
wx_error() { # CODE PATH HINT-TEXT ARGS...
    local code=$1 path=$2 hint=$3
    shift 3
    fault "{\"path\":\"/cgi-bin/$path\",\"kind\":\"errcode\",\"errcode\":$code}"
    ctl "$@"
    check "$code: status 1" 1 "$rc"
    [[ $err == *"WeChat error $code: simulated error $code"*"(hint: "*"$hint"* ]] &&
        ok "... errcode, errmsg and hint on stderr" || nok "$code message" "$err"
}
ctl menu create "$FX/menu.json"
wx_error 40164 menu/get "IP白名单" menu get
wx_error 45009 material/get_materialcount "quota" material count
wx_error 48001 message/mass/sendall "unauthorized API" mass send --tag 2 text hi --yes
fault '{"path":"/cgi-bin/menu/get","kind":"errcode","errcode":40001,"count":2}'
ctl menu get
[[ $rc == 1 && $err == *"WeChat error 40001"*"wxtoken"* ]] && ok "40001 (after wxproxy's retry): 1, with a hint" ||
    nok "40001" "$rc $err"
fault '{"path":"/cgi-bin/menu/get","kind":"errcode","errcode":40164}'
ctl --json menu get
[[ $rc == 1 && $out == *'"errcode": 40164'* ]] && ok "--json prints WeChat's error answer on stdout too" ||
    nok "--json on error" "$out"
fault '{"path":"/cgi-bin/menu/get","kind":"badjson"}'
ctl menu get
[[ $rc == 3 && $err == *"not a JSON object"* ]] && ok "a broken answer: 3" || nok "badjson" "$rc $err"
fault '{"path":"/cgi-bin/menu/get","kind":"busy"}'
ctl menu get
[[ $rc == 1 && $err == *"WeChat error -1"*"retry"* ]] && ok "-1 system busy: 1, with a hint" || nok "busy" "$rc $err"

echo "# wxproxy's refusals"
WX_PROXY_KEY=$MENU_KEY ctl menu get
check "a key limited to /cgi-bin/menu/*: menu get works" 0 "$rc"
WX_PROXY_KEY=$MENU_KEY ctl material count
check "... material count: 1 (403)" 1 "$rc"
[[ $err == *"wxproxy refused: path_not_allowed"*"HTTP 403"*hint* ]] && ok "... path_not_allowed, with a hint" ||
    nok "403 message" "$err"
WX_PROXY_KEY=not-a-key-0123456789abcdef ctl menu get
[[ $rc == 1 && $err == *"unknown_key"* ]] && ok "an unknown key: 1 (401 unknown_key)" || nok "401" "$rc $err"
WX_PROXY_KEY=$SLOW_KEY ctl menu get
WX_PROXY_KEY=$SLOW_KEY ctl menu get
WX_PROXY_KEY=$SLOW_KEY ctl menu get
[[ $rc == 1 && $err == *"wxproxy refused: rate_limited"*"HTTP 429"* ]] && ok "over the key's rate: 1 (429 rate_limited)" ||
    nok "429" "$rc $err"
[[ $err == *"retry after "* ]] && ok "... with Retry-After" || nok "Retry-After" "$err"

echo "# transport failures"
# wxproxy may try a dropped call once more: drop them all.
fault '{"path":"/cgi-bin/menu/get","kind":"drop","count":5}'
ctl menu get
fault '{"path":"/cgi-bin/menu/get","kind":"drop","count":0}'
[[ $rc == 3 && $err == *"upstream_failed"* ]] && ok "WeChat drops the connection: 3 (502 upstream_failed)" ||
    nok "drop" "$rc $err"
sed "s|^timeout_ms = 8000|timeout_ms = 500|" "$T/ctl.ini" > "$T/fast.ini"
fault '{"path":"/cgi-bin/menu/get","kind":"slow","ms":1500}'
"$build/wxctl" -c "$T/fast.ini" menu get >/dev/null 2>"$T/err"; rc=$?
[[ $rc == 3 && $(cat "$T/err") == *"no answer within 500 ms"* ]] && ok "no answer in timeout_ms: 3" ||
    nok "timeout" "$rc $(cat "$T/err")"
sleep 1.2
kill -TERM "$PX"; wait "$PX" 2>/dev/null; PX=""
ctl menu get
check "wxproxy down (nginx answers 502): 3" 3 "$rc"
[[ $err == *"HTTP 502"* ]] && ok "... says HTTP 502" || nok "502 message" "$err"
sed "s|^proxy = .*|proxy = http://127.0.0.1:1/wxapi|" "$T/ctl.ini" > "$T/down.ini"
"$build/wxctl" -c "$T/down.ini" menu get >/dev/null 2>"$T/err"; rc=$?
check "nothing listening: 3" 3 "$rc"
grep -q 'cannot reach wxproxy' "$T/err" && ok "... cannot reach wxproxy" || nok "refused message" "$(cat "$T/err")"

echo "# secrets"
grep -qF -e "$KEY" -e "$MENU_KEY" -e "$SLOW_KEY" "$T/all-output" &&
    nok "a key appears in wxctl's output" || ok "no key in anything wxctl printed"
tok=$(WX_CONFIG=$T/ctl.ini "$build/wxctl" token --show 2>/dev/null)
[ -n "$tok" ] && grep -qF -- "$tok" "$T/all-output" && nok "the token appears in wxctl's output" ||
    ok "no token in anything wxctl printed"
grep -qF -e "$KEY" "$T/access.log" "$T/px.log" && nok "the key is in a log" || ok "the key is in no log"

echo
echo "ctl: $pass passed, $fail failed"
[ "$fail" = 0 ]
