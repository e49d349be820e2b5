#!/usr/bin/env bash
# valgrind.sh BUILD - the fixture replay with the master and its worker
# under valgrind memcheck (WX_VALGRIND=1, scripts/lib.sh), in compatible
# mode: every message of tests/fixtures/msg through nginx encrypted, each
# reply checked (wx-replay --expect), and the hostile fixtures in plain
# text, each answered; then a clean stop, and no memcheck error (bad read
# or write, uninitialised value, memory definitely lost) in any process.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
export WX_VALGRIND=1

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-valgrind.XXXXXX")
SOCK=$T/wxfcgi.sock
TOKEN=vgtoken42
APPID=wx2c2769f8efd9abc2
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
PORT=$(wx_free_port)
URL=http://127.0.0.1:$PORT/wx
MASTER=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $MASTER
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

command -v valgrind >/dev/null || { nok "valgrind is installed (scripts/deps.sh test)"; exit 1; }

write_config() { # MODE
    cat > "$T/wx.ini" <<CONF
[wx]
token = $TOKEN
appid = $APPID
encoding_aes_key = $KEY
mode = $1
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 1
timestamp_window = 300
state_dir = $T/state
log = $T/wxfcgi.log
[echo]
welcome = Welcome to the test account.
[echo.click]
V1001_HELLO = Hello from the menu.
CONF
}

# run_mode MODE: start the master under memcheck, replay, stop.
run_mode() {
    local mode=$1 f name out n=0 bad=0 st
    mkdir -p "$T/vg-$mode"
    write_config "$mode"
    rm -f "$SOCK"
    # shellcheck disable=SC2046
    $(wx_valgrind "$T/vg-$mode") "$build/wxfcgi" -c "$T/wx.ini" 2>>"$T/wxfcgi.err" &
    MASTER=$!
    wx_wait_for "$SOCK" 60 >/dev/null || { nok "$mode: the master starts under valgrind"; return; }
    for f in "$top"/tests/fixtures/msg/*.xml; do
        name=$(basename "$f" .xml)
        n=$((n + 1))
        if ! out=$(WX_TOKEN=$TOKEN "$top/scripts/wx-replay" -c "$T/wx.ini" -m "$mode" -e -q \
                "$URL" "$f" 2>&1); then
            bad=$((bad + 1))
            echo "#   $mode $name: $out"
        fi
    done
    check "$mode: every fixture answered right under memcheck ($n)" 0 "$bad"
    n=0 bad=0
    for f in "$top"/tests/fixtures/hostile/*.xml; do
        n=$((n + 1))
        st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --data-binary @"$f" \
            "$URL?signature=$(wx_sign "$TOKEN" "$(date +%s)" 7)&timestamp=$(date +%s)&nonce=7")
        [[ $st == [2-5]?? ]] || { bad=$((bad + 1)); echo "#   hostile $(basename "$f"): $st"; }
    done
    check "$mode: every hostile fixture answered ($n)" 0 "$bad"
    kill -TERM "$MASTER" 2>/dev/null
    wait "$MASTER"
    check "$mode: the master stops cleanly" 0 "$?"
    MASTER=""
    n=$(find "$T/vg-$mode" -name 'vg.*.log' | wc -l)
    [ "$n" -ge 2 ] && ok "$mode: logs of the master and its worker ($n)" || nok "$mode: valgrind logs" "$n"
    if out=$(wx_valgrind_errors "$T/vg-$mode"); then
        ok "$mode: no memcheck error in any process"
    else
        nok "$mode: memcheck errors" "$out"
        for f in "$T/vg-$mode"/vg.*.log; do sed -n '/== [A-Z].*\(Invalid\|uninitialised\|definitely\)/,/^==[0-9]*== $/p' "$f" | head -n 40; done
    fi
}

mkdir -p "$T/state"
wx_nginx_render "$T" "$PORT" "$SOCK" "$T/access.log"
wx_nginx_start "$T" || exit 1
wx_wait_for "tcp:$PORT" 10 >/dev/null || exit 1
run_mode compat
echo "valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
