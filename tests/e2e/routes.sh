#!/usr/bin/env bash
# routes.sh BUILD - replies declared in the config ([route.NAME]) through the
# real path: nginx on a free loopback port, wxfcgi's master, signed pushes,
# a business service for the routes that go upstream.  Every match key and
# every action; the checks at start; wxfcgi -t and -r; a reload that
# changes the table.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-routes.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=e2etoken42
PORT=$(wx_free_port)
BIZPORT=$(wx_free_port)
URL=http://127.0.0.1:$PORT/wx
FX=$top/tests/fixtures/msg
MASTER="" BIZ=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER $BIZ
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config ROUTES: the stack's config with the [route.*] text ROUTES.
write_config() {
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 2
state_dir = $T/state
log = $T/wxfcgi.log
[echo]
welcome = Welcome by the echo section.
[echo.click]
V1001_HELLO = Hello from the menu.
$1
CONF
}

ROUTES=$(cat <<CONF
[route.hello]
type = text
content = /^(hi|hello)[!.]?$/
action = text
text = Hi {{from}}, you said "{{content}}".
[route.help]
content = help
action = text
text = Send "price" for the prices.
[route.price]
content = price*
action = image
media_id = MEDIA_PRICES
[route.voice]
type = voice
action = voice
media_id = MEDIA_VOICE
[route.video]
type = shortvideo
action = video
media_id = MEDIA_VIDEO
title = Our video
[route.song]
event = CLICK
event_key = SONG_*
action = music
title = The song
thumb_media_id = THUMB1
music_url = http://music.example.com/song.mp3
[route.news]
event = CLICK
event_key = V1001_NEWS
action = news
articles = First | The first article | http://example.com/1.jpg | http://example.com/1
    Second | | | http://example.com/2
[route.welcome_qr]
scene = 123*
action = text
text = Welcome from scene {{scene}}.
[route.vip]
from = oVip0000000000000000000000001 oVip0000000000000000000000002
action = transfer
[route.biz]
content = ask*
action = upstream
url = http://127.0.0.1:$BIZPORT/
timeout_ms = 3000
[route.quiet]
priority = 500
event = unsubscribe
action = success
[route.mirror]
type = location
action = echo
[route.noimage]
type = image
action = success
CONF
)

q() {
    local ts n
    ts=$(date +%s) n=$RANDOM$RANDOM
    echo "signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n"
}

# push FILE [FROM]: the message of FILE (a new MsgId, sender FROM) pushed;
# the reply is in $T/body, the status printed.
seq=0
push() {
    local f=$T/push.xml
    seq=$((seq + 1))
    sed -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>7$RANDOM$seq</MsgId>:" \
        -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(date +%s)</CreateTime>:" "$1" > "$f"
    [ $# -ge 2 ] && sed -i "s:<FromUserName><!\[CDATA\[[^]]*\]\]></FromUserName>:<FromUserName><![CDATA[$2]]></FromUserName>:" "$f"
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X POST --data-binary "@$f" \
        -H 'Content-Type: text/xml' "$URL?$(q)"
}

# text_msg CONTENT: a text fixture with CONTENT.
text_msg() {
    sed "s:<Content><!\[CDATA\[[^]]*\]\]></Content>:<Content><![CDATA[$1]]></Content>:" \
        "$FX/text.xml" > "$T/text.xml"
    echo "$T/text.xml"
}

# expect NAME FILE GREP...: the push of FILE answers 200 with every pattern.
expect() {
    local name=$1 file=$2 st p; shift 2
    st=$(push "$file")
    [ "$st" = 200 ] || { nok "$name" "status $st: $(head -c 300 "$T/body")"; return; }
    for p in "$@"; do
        grep -q -- "$p" "$T/body" || { nok "$name" "no [$p] in $(head -c 400 "$T/body")"; return; }
    done
    ok "$name"
}

echo "# routes end-to-end (nginx on 127.0.0.1:$PORT, run dir $T)"

# ---------------------------------------------------------------- checks --
write_config "$ROUTES"
out=$("$build/wxfcgi" -t -c "$T/wx.ini" 2>&1); rc=$?
check "-t accepts the route table" 0 "$rc"
first=$(printf '%s\n' "$out" | awk '/routes, tried in this order/ { getline; print $2; exit }')
check "-t prints the table, first route first" route.hello "$first"
last=$(printf '%s\n' "$out" | tail -n 1 | awk '{ print $2 }')
check "-t prints the default last" default "$last"
case "$out" in *"echo.click.V1001_HELLO"*"echo.welcome"*) ok "-t shows [echo.click] and [echo] welcome as routes" ;;
    *) nok "-t shows the echo routes" "$out" ;; esac
check "-r: a CLICK of [echo.click]" echo.click.V1001_HELLO \
    "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/event_click.xml" 2>/dev/null)"
check "-r: a subscribe with a QR scene" route.welcome_qr \
    "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/event_subscribe_qrscene.xml" 2>/dev/null)"
check "-r: an unsubscribe takes the route of priority 500" route.quiet \
    "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/event_unsubscribe.xml" 2>/dev/null)"
out=$("$build/wxfcgi" -t -c "$T/wx.ini" -r "$FX/location.xml" 2>/dev/null)
check "-t -r: the table, then the route" "route.mirror" "$(printf '%s\n' "$out" | tail -n 1)"
case "$out" in *"routes, tried in this order"*) ok "-t -r prints the table too" ;; *) nok "-t -r prints the table" "$out" ;; esac
check "-r: a text no route takes" default \
    "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/text.xml" 2>/dev/null)"
"$build/wxfcgi" -c "$T/wx.ini" -r "$T/none.xml" >/dev/null 2>&1
check "-r: a missing file exits 1" 1 $?

bad_case() { # NAME ROUTE-TEXT WANT: the master refuses to start, saying WANT
    write_config "$2"
    err=$(timeout 10 "$build/wxfcgi" -c "$T/wx.ini" 2>&1); rc=$?
    if [ "$rc" = 1 ] && [[ $err == *"$3"* ]]; then ok "$1"; else nok "$1" "rc $rc: $err"; fi
}
bad_case "a bad regex stops the start, naming section and key" \
    $'[route.x]\ncontent = /(/\naction = success' "[route.x] content: bad regex"
bad_case "an action without its text stops the start" \
    $'[route.x]\naction = text' "[route.x] text is missing"
bad_case "a catch-all before other routes stops the start" \
    $'[route.all]\naction = echo\n[route.x]\ntype = text\naction = success' "[route.all] matches every message"
bad_case "an unknown key in a route stops the start, with its line" \
    $'[route.x]\naction = success\nevnt = CLICK' "evnt"
[ -S "$SOCK" ] && nok "no socket was made by a refused config" || ok "no socket was made by a refused config"

# ----------------------------------------------------------------- serve --
write_config "$ROUTES"
python3 "$top/scripts/example-business.py" --port "$BIZPORT" --calls "$T/calls" 2>>"$T/biz.log" &
BIZ=$!
wx_wait_for "tcp:$BIZPORT" 10 >/dev/null || nok "the business service starts"
"$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$SOCK" 10 || { nok "master starts"; cat "$T/wxfcgi.log"; exit 1; }
wx_nginx_render "$T" "$PORT" "$SOCK"
wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }

expect "content regex: a text template with the message's fields" "$(text_msg 'hello!')" \
    '<MsgType><!\[CDATA\[text\]\]></MsgType>' 'Hi oUserOpenId0123456789abcdef, you said "hello!".'
expect "content exact" "$(text_msg help)" 'Send "price" for the prices.'
expect "content prefix: an image reply" "$(text_msg 'price list')" \
    '<MsgType><!\[CDATA\[image\]\]></MsgType>' 'MEDIA_PRICES'
expect "content exact does not take a longer text: echo" "$(text_msg 'help me')" \
    '<Content><!\[CDATA\[help me\]\]></Content>'
expect "type voice: a voice reply" "$FX/voice.xml" '<Voice><MediaId><!\[CDATA\[MEDIA_VOICE'
expect "type shortvideo: a video reply" "$FX/shortvideo.xml" '<Video><MediaId><!\[CDATA\[MEDIA_VIDEO' \
    '<Title><!\[CDATA\[Our video'
sed 's:V1001_HELLO:SONG_1:' "$FX/event_click.xml" > "$T/song.xml"
expect "event + event_key prefix: a music reply" "$T/song.xml" '<MsgType><!\[CDATA\[music' \
    '<ThumbMediaId><!\[CDATA\[THUMB1' 'song.mp3'
sed 's:V1001_HELLO:V1001_NEWS:' "$FX/event_click.xml" > "$T/news.xml"
expect "event_key exact: a news reply with two articles" "$T/news.xml" '<ArticleCount>2</ArticleCount>' \
    'The first article' 'http://example.com/2'
expect "[echo.click] still answers as a route" "$FX/event_click.xml" 'Hello from the menu.'
expect "scene: subscribe through a QR code" "$FX/event_subscribe_qrscene.xml" 'Welcome from scene 123'
expect "scene: SCAN of the same code" "$FX/event_scan.xml" 'Welcome from scene 123123.'
expect "[echo] welcome still answers a plain subscribe" "$FX/event_subscribe.xml" 'Welcome by the echo section.'
st=$(push "$FX/event_view.xml" oVip0000000000000000000000001)
grep -q '<MsgType><!\[CDATA\[transfer_customer_service' "$T/body" &&
    ok "from: a listed follower goes to customer service" ||
    nok "from: a listed follower goes to customer service" "$st $(cat "$T/body")"
st=$(push "$FX/event_view.xml" oVip0000000000000000000000002)
grep -q transfer_customer_service "$T/body" && ok "from: the second listed openid too" ||
    nok "from: the second openid" "$st $(cat "$T/body")"
push "$FX/event_view.xml" oSomeoneElse000000000000000 >/dev/null
check "from: anyone else takes the default (success for VIEW)" success "$(cat "$T/body")"
push "$FX/event_unsubscribe.xml" >/dev/null
check "action success (an event)" success "$(cat "$T/body")"
push "$FX/image.xml" >/dev/null
check "action success: an image the default would echo" success "$(cat "$T/body")"
: > "$T/calls"
expect "action upstream: the business service answers" "$(text_msg 'ask me')" 'You said: ask me'
check "... called once, with the message" 1 "$(grep -c 'ask me' "$T/calls")"
expect "no route: the default handler (echo)" "$(text_msg 'anything else')" 'anything else'

# ---------------------------------------------------------------- reload --
write_config "$ROUTES
[route.new]
priority = 1
content = anything else
action = text
text = A route added by a reload."
kill -HUP "$MASTER"
for _ in $(seq 1 100); do
    push "$(text_msg 'anything else')" >/dev/null
    grep -q 'A route added by a reload.' "$T/body" && break
    sleep 0.1
done
grep -q 'A route added by a reload.' "$T/body" && ok "HUP: a new route answers" ||
    nok "HUP: a new route answers" "$(cat "$T/body")"
write_config $'[route.x]\ncontent = /(/\naction = success'
kill -HUP "$MASTER"
for _ in $(seq 1 100); do
    grep -q '\[route.x\] content: bad regex' "$T/wxfcgi.log" && break
    sleep 0.1
done
grep -q '\[route.x\] content: bad regex' "$T/wxfcgi.log" && ok "HUP with a bad route: the refusal is logged" ||
    nok "the refused reload is logged" "$(tail -n 5 "$T/wxfcgi.log")"
expect "... and the running table keeps answering" "$(text_msg 'anything else')" 'A route added by a reload.'

# The default handler changed by a reload: the business service answers
# what no route takes, and the echo action is the route's own.
write_config "$ROUTES
[upstream]
url = http://127.0.0.1:$BIZPORT/"
sed -i 's/^\[wxfcgi\]$/[wxfcgi]\nhandler = upstream/' "$T/wx.ini"
kill -HUP "$MASTER"
for _ in $(seq 1 100); do
    push "$(text_msg 'anything else')" >/dev/null
    grep -q 'You said: anything else' "$T/body" && break
    sleep 0.1
done
grep -q 'You said: anything else' "$T/body" && ok "HUP to handler = upstream: the default is the business service" ||
    nok "the default is the business service" "$(cat "$T/body")"
expect "action echo: a location described by echo, not the business" "$FX/location.xml" 'Location: '
expect "a route still answers before the default" "$(text_msg help)" 'Send "price" for the prices.'

echo "# routes: $pass passed, $fail failed"
[ "$fail" = 0 ]
