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

for p in wxfcgi wxtoken wxproxy wxctl wxsim; do
    page=$top/src/$p/$p.1
    echo "# $p"
    [ -f "$page" ] || { nok "$p: src/$p/$p.1 exists"; continue; }
    if ! "$build/$p" --help > "$T/help.$p" 2>&1; then
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

echo
echo "help: $pass passed, $fail failed"
[ "$fail" = 0 ]
