#!/usr/bin/env bash
# package.sh BUILD - what is shipped to run the stack: the systemd units
# (systemd-analyze verify and security), the readiness and watchdog
# messages the master sends to $NOTIFY_SOCKET, the logrotate file run by
# the real logrotate against a running master, and make deb: its
# contents, an unpack into a throwaway root with dpkg --root, and lintian.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-package.XXXXXX")
PIDS=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $PIDS
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

VERSION=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
UNITS="wxfcgi.service wxproxy.service wxtoken.service wxfcgi@.service"

echo "# systemd units"
if ! command -v systemd-analyze >/dev/null; then
    ok "# SKIP systemd-analyze is not installed (scripts/deps.sh test installs systemd)"
else
    # The units name /usr/sbin: verify them against the programs just built.
    mkdir -p "$T/units"
    for u in $UNITS; do
        v=$u
        [ "$u" = wxfcgi@.service ] && v=wxfcgi@main.service
        sed "s|/usr/sbin/|$build/|g" "$top/scripts/systemd/$u" > "$T/units/$v"
    done
    for u in $UNITS; do
        v=$u
        [ "$u" = wxfcgi@.service ] && v=wxfcgi@main.service
        out=$(cd "$T/units" && systemd-analyze verify --man=no "./$v" 2>&1); rc=$?
        if [ $rc != 0 ] && [[ $out == *"chroot"* || $out == *"Failed to connect"* ]]; then
            ok "# SKIP systemd-analyze verify cannot run here: $out"
            continue
        fi
        check "systemd-analyze verify $u: clean" "0 " "$rc $out"
        sec=$(cd "$T/units" && systemd-analyze security --offline=true "./$v" 2>&1 | tail -1)
        score=$(sed -n 's/.*exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$sec")
        if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
            ok "systemd-analyze security $u: exposure $score (at most 2.0)"
        else
            nok "systemd-analyze security $u: exposure at most 2.0" "$sec"
        fi
    done
fi
for u in wxfcgi.service wxproxy.service; do
    grep -q '^Type=notify' "$top/scripts/systemd/$u" && grep -q '^WatchdogSec=' "$top/scripts/systemd/$u" &&
        ok "$u: Type=notify with a watchdog" || nok "$u: Type=notify with a watchdog"
done

echo "# sd_notify: ready, watchdog, reloading, stopping"
cat > "$T/wx.ini" <<CONF
[wx]
token = pkgtoken42
[wxfcgi]
listen = unix:$T/wxfcgi.sock
workers = 2
state_dir = $T/state
log = $T/log/wxfcgi.log
CONF
mkdir -p "$T/log"
python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(4096).decode().replace("\n", " ")
    print("%s %.3f" % (m, time.monotonic()), flush=True)
' "$T/notify.sock" > "$T/notify.out" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 "$build/wxfcgi" -c "$T/wx.ini" -p "$T/wxfcgi.pid" &
MASTER=$!
PIDS="$PIDS $MASTER"
wx_wait_for "$T/wxfcgi.sock" 10 >/dev/null
sleep 1
grep -q '^READY=1' "$T/notify.out" && ok "the master says READY=1" || nok "READY=1" "$(cat "$T/notify.out")"
# Every 0.2 s (half of WATCHDOG_USEC): a few a second, not a flood.
rate=$(awk '/^WATCHDOG=1/ { n++; if (!a) a = $2; b = $2 }
            END { if (n > 2) printf "%d %.0f", n, (b - a) / (n - 1) * 1000 }' "$T/notify.out")
n=${rate% *} gap=${rate#* }
[ -n "$rate" ] && [ "$gap" -ge 150 ] && [ "$gap" -le 1000 ] &&
    ok "... and WATCHDOG=1 every half WatchdogSec ($n, about ${gap} ms apart)" ||
    nok "WATCHDOG=1 every half WatchdogSec" "$rate"
kill -HUP "$MASTER"
for _ in $(seq 1 50); do [ "$(grep -c '^READY=1' "$T/notify.out")" -ge 2 ] && break; sleep 0.1; done
grep -q '^RELOADING=1' "$T/notify.out" && [ "$(grep -c '^READY=1' "$T/notify.out")" -ge 2 ] &&
    ok "HUP: RELOADING=1, then READY=1" || nok "HUP: RELOADING=1, then READY=1" "$(cat "$T/notify.out")"

echo "# logrotate: the shipped file, HUP in postrotate"
if ! command -v logrotate >/dev/null && [ ! -x /usr/sbin/logrotate ]; then
    nok "logrotate is installed (scripts/deps.sh test installs it)"
else
    echo "a line before the rotation" >> "$T/log/wxfcgi.log"
    sed -e "s|/var/log/wxfcgi|$T/log|g" -e '/^ *su /d' \
        -e "/^ *postrotate/,/^ *endscript/{/postrotate\|endscript/!d}" \
        -e "s|^\( *\)postrotate|&\n\1    kill -HUP \$(cat $T/wxfcgi.pid)|" \
        "$top/scripts/wxfcgi.logrotate" > "$T/logrotate.conf"
    PATH=$PATH:/usr/sbin logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" 2>"$T/logrotate.err"
    check "logrotate -f with the shipped file: exit 0" "0 " "$? $(cat "$T/logrotate.err")"
    [ -f "$T/log/wxfcgi.log.1" ] && grep -q "a line before" "$T/log/wxfcgi.log.1" &&
        ok "the old log is wxfcgi.log.1" || nok "the old log is wxfcgi.log.1" "$(ls "$T/log")"
    for _ in $(seq 1 50); do grep -qs "config reloaded" "$T/log/wxfcgi.log" && break; sleep 0.1; done
    grep -qs "config reloaded" "$T/log/wxfcgi.log" &&
        ok "after postrotate's HUP the master writes to a new wxfcgi.log" ||
        nok "a new wxfcgi.log after HUP" "$(ls -l "$T/log")"
fi
kill -TERM "$MASTER"
wait "$MASTER" 2>/dev/null
grep -q '^STOPPING=1' "$T/notify.out" && ok "TERM: STOPPING=1" || nok "STOPPING=1" "$(cat "$T/notify.out")"

echo "# make deb"
deb=$("$top/scripts/make-deb" "$build" "$VERSION" 2>"$T/deb.err")
check "make-deb builds wxfcgi_${VERSION}_amd64.deb" "$build/wxfcgi_${VERSION}_amd64.deb" "$deb"
[ -s "$T/deb.err" ] && echo "# make-deb said: $(cat "$T/deb.err")"
if [ -f "$deb" ]; then
    dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' > "$T/contents"
    missing=""
    for f in /usr/sbin/wxfcgi /usr/sbin/wxproxy /usr/sbin/wxtoken /usr/bin/wxctl /usr/bin/wxsim \
             /usr/bin/wx-spawn /etc/wxfcgi/wx.ini /etc/logrotate.d/wxfcgi \
             /lib/systemd/system/wxfcgi.service /lib/systemd/system/wxfcgi@.service \
             /lib/systemd/system/wxproxy.service /lib/systemd/system/wxtoken.service \
             /usr/share/wxfcgi/nginx/wx.conf /usr/share/wxfcgi/nginx/wxproxy.conf \
             /usr/share/man/man1/wxfcgi.1.gz /usr/share/man/man5/wx.ini.5.gz \
             /usr/share/doc/wxfcgi/copyright; do
        grep -qx "$f" "$T/contents" || missing="$missing $f"
    done
    check "the package holds the programs, config, units, logrotate, nginx, man pages" "" "${missing# }"
    check "conffiles: wx.ini and the logrotate file" "/etc/wxfcgi/wx.ini /etc/logrotate.d/wxfcgi" \
        "$(dpkg-deb -I "$deb" conffiles | tr '\n' ' ' | sed 's/ $//')"
    deps=$(dpkg-deb -f "$deb" Depends)
    check_match "Depends names the libraries and adduser" "*libfcgi0ldbl*libsystemd0*adduser*" "$deps"

    R=$T/root
    mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
    : > "$R/var/lib/dpkg/status"
    # Unpacked only: the maintainer scripts would run in the throwaway
    # root, which has no shell; postinst is checked for syntax instead.
    out=$(dpkg --root="$R" --force-depends --unpack "$deb" 2>&1)
    check "dpkg --root unpacks it into a throwaway root" 0 "$?"
    [ -x "$R/usr/sbin/wxfcgi" ] && "$R/usr/sbin/wxfcgi" -t -c "$T/wx.ini" >/dev/null &&
        ok "the unpacked wxfcgi runs (-t)" || nok "the unpacked wxfcgi runs" "$out"
    check "dpkg knows its conffiles" 2 \
        "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}\n' wxfcgi | grep -c '^ /etc/')"
    sh -n "$R/var/lib/dpkg/info/wxfcgi.postinst" && sh -n "$R/var/lib/dpkg/info/wxfcgi.postrm" &&
        ok "postinst and postrm parse" || nok "postinst and postrm parse"
    if command -v lintian >/dev/null; then
        lintian --tag-display-limit 0 "$deb" > "$T/lintian.out" 2>&1
        sed -e '/running with root privileges/d' -e 's/^/# lintian: /' "$T/lintian.out"
        check "lintian: no error" "" "$(grep '^E:' "$T/lintian.out")"
        check "lintian: no warning" "" "$(grep '^W:' "$T/lintian.out")"
    else
        nok "lintian is installed (scripts/deps.sh test installs it)"
    fi
fi

echo "package: $pass passed, $fail failed"
[ "$fail" = 0 ]
