#!/usr/bin/env bash
# help.sh BUILD - the man page of each program against its --help: every
# option --help names is in the man page and every long option of the man
# page is in --help; each page renders with groff and man without a
# warning.
set -uo pipefail
# The pages have Chinese text: render them in a UTF-8 locale whatever the
# caller's (C.UTF-8 is in every Debian's libc).
export LC_ALL=C.UTF-8

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/wx-help.XXXXXX")
pass=0 fail=0
trap 'rm -rf "$T"' EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

command -v groff >/dev/null || { echo "help: groff is missing (Debian: groff-base)"; exit 1; }

# options FILE: the options a text names (-x, --long-name), one a line.
options() {
    grep -oE '(^|[^[:alnum:]_/-])--?[[:alpha:]][[:alnum:]-]*' "$1" |
        sed -E 's/^[^-]*//' | sort -u
}
# The roff source as text: \- is -, fonts and escapes dropped.
plain() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\(em/--/g' \
        -e 's/\\&//g' -e 's/\\~/ /g' "$1"
}

# The programs' pages are beside their sources, the scripts' beside them.
for p in wxfcgi wxtoken wxproxy wxctl wxsim wx-replay wx-spawn wx-certs; do
    case "$p" in
    wx-*) page=$top/scripts/$p.1 prog=$top/scripts/$p ;;
    *)    page=$top/src/$p/$p.1 prog=$build/$p ;;
    esac
    echo "# $p"
    [ -f "$page" ] || { nok "$p: ${page#"$top"/} exists"; continue; }
    if ! "$prog" --help > "$T/help.$p" 2>&1; then
        nok "$p --help exits 0"
        continue
    fi
    plain "$page" > "$T/page.$p"
    missing=""
    for o in $(options "$T/help.$p"); do
        grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" "$T/page.$p" || missing="$missing $o"
    done
    check "$p: every option of --help is in the man page" "" "${missing# }"
    extra=""
    for o in $(options "$T/page.$p" | grep -- '^--'); do
        grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" "$T/help.$p" || extra="$extra $o"
    done
    check "$p: every long option of the man page is in --help" "" "${extra# }"
    grep -q "^\.TH $(tr '[:lower:]' '[:upper:]' <<<"$p") 1 " "$page" &&
        ok "$p: .TH names the page $p(1)" || nok "$p: .TH line" "$(grep '^\.TH' "$page")"
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS"; do
        grep -q "^\.SH \"\{0,1\}$s" "$page" || nok "$p: section $s"
    done
    ok "$p: the usual sections are there"
    warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    check "$p: groff -man -Tutf8 -ww renders it without a warning" "" "$warn"
    if command -v man >/dev/null; then
        out=$(MANWIDTH=80 MAN_KEEP_FORMATTING=0 man --warnings -l "$page" 2>"$T/man.err" | col -b)
        check "man -l: no warning" "" "$(cat "$T/man.err")"
        [[ $out == *"$p"* && $(wc -l <<<"$out") -gt 20 ]] && ok "man -l renders it" ||
            nok "man -l output" "$(head -3 <<<"$out")"
    fi
done

echo "# wx.ini(5)"
page=$top/wx.ini.5
if [ -f "$page" ]; then
    grep -q '^\.TH WX\.INI 5 ' "$page" && ok "wx.ini.5: .TH names the page wx.ini(5)" ||
        nok "wx.ini.5: .TH line" "$(grep '^\.TH' "$page")"
    plain "$page" > "$T/page.ini"
    # Every key of the example configs and every key the loader knows.
    keys=$( { sed -n 's/^[;[:space:]]*\([a-z_]\{2,\}\)[[:space:]]*=.*/\1/p' "$top/wx.ini" "$top/wx.production.ini"
              grep -rhoE 'WX_(SETTING|SECRET|ENUM)\("[a-z_]+"' "$top/src" | sed -E 's/.*\("//; s/"$//'
              echo key key_file paths rate burst token_file encoding_aes_key_file appsecret_file proxy_key_file
            } | tr ' ' '\n' | grep . | sort -u)
    missing=""
    for k in $keys; do
        grep -qE "(^|[^[:alnum:]_])$k([^[:alnum:]_]|\$)" "$T/page.ini" || missing="$missing $k"
    done
    check "wx.ini.5: every key of wx.ini, wx.production.ini and the loader is described" "" "${missing# }"
    for sec in wx wxfcgi echo upstream wxtoken wxproxy wxproxy.key.NAME wxctl wxsim state; do
        grep -qF "[$sec]" "$T/page.ini" || nok "wx.ini.5: section [$sec]"
    done
    ok "wx.ini.5: every section is there"
    warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    check "wx.ini.5: groff renders it without a warning" "" "$warn"
    if command -v man >/dev/null; then
        out=$(MANWIDTH=80 MAN_KEEP_FORMATTING=0 man --warnings -l "$page" 2>"$T/man.err" | col -b)
        check "wx.ini.5: man -l, no warning" "" "$(cat "$T/man.err")"
        [[ $(wc -l <<<"$out") -gt 50 ]] && ok "wx.ini.5: man -l renders it" || nok "wx.ini.5: man -l output"
    fi
else
    nok "wx.ini.5 exists"
fi

echo "# make install DESTDIR=... puts the pages, the scripts and the config in place"
D=$T/dest
if make -C "$top" --no-print-directory -s install BUILD="$build" DESTDIR="$D" PREFIX=/usr/local >"$T/install.out" 2>&1; then
    ok "make install DESTDIR"
    for f in bin/wx-replay bin/wx-spawn bin/wx-certs bin/wxfcgi share/man/man1/wx-spawn.1 \
             share/man/man1/wx-replay.1 share/man/man1/wx-certs.1 share/man/man1/wxfcgi.1 \
             share/man/man5/wx.ini.5 share/doc/wxfcgi/wx.production.ini; do
        [ -e "$D/usr/local/$f" ] || nok "installed: /usr/local/$f"
    done
    ok "installed: the programs, the scripts, their pages, wx.ini(5)"
    cmp -s "$top/wx.production.ini" "$D/etc/wxfcgi/wx.ini" && ok "/etc/wxfcgi/wx.ini is wx.production.ini" ||
        nok "/etc/wxfcgi/wx.ini is wx.production.ini"
    echo "; changed by the admin" >> "$D/etc/wxfcgi/wx.ini"
    make -C "$top" --no-print-directory -s install BUILD="$build" DESTDIR="$D" PREFIX=/usr/local >"$T/install.out" 2>&1
    grep -q "changed by the admin" "$D/etc/wxfcgi/wx.ini" && ok "a second install keeps an existing wx.ini" ||
        nok "a second install keeps an existing wx.ini"
    make -C "$top" --no-print-directory -s uninstall BUILD="$build" DESTDIR="$D" PREFIX=/usr/local >"$T/install.out" 2>&1
    check "make uninstall removes what install put, but the changed config" "etc/wxfcgi/wx.ini" \
        "$(cd "$D" && find . -type f | sed 's|^\./||')"
else
    nok "make install DESTDIR" "$(tail -n 5 "$T/install.out")"
fi

echo
echo "help: $pass passed, $fail failed"
[ "$fail" = 0 ]
