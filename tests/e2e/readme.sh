#!/usr/bin/env bash
# readme.sh BUILD - the README's commands are its tests.
#
# A fenced block of README.md right after a line "<!-- test: NAME -->" holds
# commands that CI runs:
#
#   start   the two opening commands (make run, make test)
#   setup   what a bare system needs first, as root (make itself)
#   demo    commands against the running demo stack (make run)
#   stop    the documented way to stop it
#
# readme.sh --print NAME prints the commands of the blocks NAME, one a line
# (.ci/run runs them as they are, in a fresh Debian root).  readme.sh BUILD
# starts the demo stack (scripts/wx-stack, with wx.ini) on free ports in a
# run directory of its own, runs every demo command there (the ports, the
# config and build/ adapted, nothing else) and expects each to succeed,
# then stops the stack with wx-stack stop and expects nothing left.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
readme=$top/README.md

# blocks NAME: the lines of the fenced blocks marked NAME, comment lines
# and blank lines left out, continuation lines joined.
blocks() {
    awk -v name="$1" '
        $0 == "<!-- test: " name " -->" { armed = 1; next }
        armed && /^```/ { armed = 0; inside = 1; next }
        inside && /^```/ { inside = 0; next }
        inside {
            if (/^[ \t]*(#|$)/) next
            line = cont $0; cont = ""
            if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); next }
            print line
        }
        { armed = 0 }' "$readme"
}

if [ "${1:-}" = --print ]; then
    [ -n "${2:-}" ] || { echo "usage: readme.sh --print NAME" >&2; exit 2; }
    out=$(blocks "$2")
    [ -n "$out" ] || { echo "readme.sh: no block marked '<!-- test: $2 -->' in README.md" >&2; exit 1; }
    printf '%s\n' "$out"
    exit 0
fi

build=$(cd "${1:-build}" && pwd)
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"
pass=0 fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/wx-readme.XXXXXX")
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
stack() {
    WX_CONFIG=$T/wx.ini WX_PORT=$PORT WX_SIM_PORT=$SIMPORT WX_RUN=$T/run WX_BUILD=$build \
        "$top/scripts/wx-stack" "$@"
}
cleanup() { stack stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

echo "# the README's blocks are there"
for b in start setup demo stop; do
    [ -n "$(blocks "$b")" ] && ok "README.md has a '$b' block" || nok "README.md has a '$b' block"
done
check "the README begins with the two commands" "make run|make test" \
    "$(awk '/^```/ { n++; next } n == 1 { sub(/[ \t]*#.*/, ""); print } n > 1 { exit }' "$readme" | paste -sd'|')"
check "... marked as the start block" "make run|make test" "$(blocks start | sed 's/[ \t]*#.*//' | paste -sd'|')"

# The demo config as it is, but for its ports and its run directory.
sed -e "s|/tmp/wxfcgi|$T/run|g" -e "s|127.0.0.1:8443|127.0.0.1:$SIMPORT|g" \
    -e "s|127.0.0.1:8080|127.0.0.1:$PORT|g" "$top/wx.ini" > "$T/wx.ini"
adapt() { # COMMAND: the README's command for this stack
    sed -e "s|127.0.0.1:8080|127.0.0.1:$PORT|g" -e "s|127.0.0.1:8443|127.0.0.1:$SIMPORT|g" \
        -e "s|-c wx.ini|-c $T/wx.ini|g" -e "s|\(^\|[ ;&|(]\)build/|\1$build/|g" <<<"$1"
}

echo "# the demo stack (wx-stack start, as make run does)"
if ! out=$(stack start 2>&1); then
    nok "the demo stack starts" "$out"
    exit 1
fi
ok "the demo stack starts"
# wxtoken's first token, which the wxctl examples need.
for _ in $(seq 1 200); do [ -s "$T/run/token" ] && break; sleep 0.05; done
[ -s "$T/run/token" ] && ok "wxtoken got its first token" || nok "wxtoken got its first token"

echo "# every demo command of the README succeeds"
n=0
while IFS= read -r cmd; do
    n=$((n + 1))
    if out=$(cd "$top" && bash -c "set -eo pipefail; $(adapt "$cmd")" 2>&1 </dev/null); then
        ok "README: $cmd"
    else
        nok "README: $cmd" "$(tail -n 5 <<<"$out")"
    fi
done < <(blocks demo)
[ "$n" -ge 5 ] && ok "$n demo commands" || nok "at least 5 demo commands" "$n"

echo "# the documented stop"
check "the README's stop is make stop" "make stop" "$(blocks stop | sed 's/[ \t]*#.*//')"
out=$(stack stop 2>&1); rc=$?
check "wx-stack stop (make stop) exits 0" 0 "$rc"
check "... and leaves no process" "" "$(wx_tagged "wx-stack:$T/run" "$T/run")"
out=$(stack clean 2>&1)
[ ! -e "$T/run" ] && ok "wx-stack clean (make clean-run) removes the run directory" ||
    nok "wx-stack clean removes the run directory" "$out"

echo "# make run in the foreground, then Ctrl-C: everything stops, the tail too"
# As on a terminal: its own process group, SIGINT not ignored (a background
# job of a script would ignore it), and INT sent to the whole group.
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' env WX_CONFIG="$T/wx.ini" WX_PORT="$PORT" WX_SIM_PORT="$SIMPORT" \
    WX_RUN="$T/run" WX_BUILD="$build" "$top/scripts/wx-stack" run > "$T/run.out" 2>&1 &
fg=$!
for _ in $(seq 1 400); do grep -q '^Press Ctrl-C' "$T/run.out" && break; sleep 0.05; done
check "wx-stack run (make run) is up" 0 "$(stack status >/dev/null; echo $?)"
tailpid=$(pgrep -f "tail -n 0 -F $T/run/wxfcgi.log" || true)
[ -n "$tailpid" ] && ok "... and follows the log" || nok "... and follows the log"
kill -INT -- "-$fg"
wait "$fg"; rc=$?
check "Ctrl-C: it exits 0" 0 "$rc"
check "... and leaves no process, the tail of the log neither" "" "$(wx_tagged "wx-stack:$T/run" "$T/run")"
[ -z "$tailpid" ] || check "... (the tail, pid $tailpid, is gone)" 1 "$(kill -0 "$tailpid" 2>/dev/null; echo $?)"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    echo "# a run directory of another user is refused, saying whose it is"
    mkdir -p "$T/run"; chown nobody "$T/run"
    out=$(stack start 2>&1); rc=$?
    check "wx-stack start with nobody's run directory fails" 1 "$rc"
    check_match "... naming it, its owner and the fix" "*$T/run belongs to nobody (running as root)*remove*" "$out"
    check "... and starts nothing" "" "$(wx_tagged "wx-stack:$T/run" "$T/run")"
    rm -rf "$T/run"
fi

echo "# wx.production.ini, as Going live sets it up, passes every program's check"
P=$T/prod
mkdir -p "$P/etc/keys" "$P/run" "$P/lib"
echo prodtoken123 > "$P/etc/token"
echo ProdSecret0123456789abcdef0123 > "$P/etc/appsecret"
echo ops-key-0123456789abcdef > "$P/etc/keys/ops"
sed -e "s|/etc/wxfcgi|$P/etc|g" -e "s|/run/wxfcgi|$P/run|g" -e "s|/var/lib/wxfcgi|$P/lib|g" \
    "$top/wx.production.ini" > "$P/wx.ini"
for p in wxfcgi wxtoken wxproxy; do
    out=$("$build/$p" -t -c "$P/wx.ini" 2>&1); rc=$?
    check "$p -t -c wx.production.ini" 0 "$rc"
done
grep -qE '^[[:space:]]*(token|appsecret|key|encoding_aes_key|proxy_key)[[:space:]]*=' "$top/wx.production.ini" &&
    nok "wx.production.ini holds no secret itself" || ok "wx.production.ini holds no secret itself"
check_match "its API is WeChat's" "*api = https://api.weixin.qq.com*" "$(cat "$top/wx.production.ini")"

echo
echo "readme: $pass passed, $fail failed"
[ "$fail" = 0 ]
