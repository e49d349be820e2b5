#!/usr/bin/env bash
# suite.sh NAME BUILD - run the end-to-end suite tests/e2e/NAME.sh and make
# sure it left nothing running.
#
# The suite runs with its own TMPDIR (where it makes its run directory) and
# a WX_PROC_TAG that every process it starts inherits.  When it has
# finished, or when this script is interrupted (Ctrl-C, TERM), any process
# still carrying the tag or naming the directory on its command line (an
# nginx) is listed, stopped and counted as a failure.
set -uo pipefail

name=${1:?usage: suite.sh NAME BUILD}
build=${2:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

G=$(mktemp -d "${TMPDIR:-/tmp}/wx-suite-$name.XXXXXX")
tag=wx-suite-$name-$$-$RANDOM$RANDOM
child=""

finish() { # RC
    local rc=$1 left
    trap - INT TERM
    # An interrupted suite is stopped first; its own cleanup runs on TERM.
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    if ! left=$(wx_reap_tagged "$tag" "$G"); then
        echo "not ok - $name: every process the suite started is stopped"
        echo "#   left running (now killed):"
        printf '%s' "$left" | sed 's/^/#     /'; echo
        echo "$name: FAILED: processes left behind"
        [ "$rc" = 0 ] && rc=1
    fi
    # A failed suite keeps its directory for inspection.
    if [ "$rc" = 0 ]; then rm -rf "$G"; else echo "# $name: kept $G"; fi
    exit "$rc"
}
trap 'finish 130' INT
trap 'finish 143' TERM

TMPDIR=$G WX_PROC_TAG=$tag "$top/tests/e2e/$name.sh" "$build" &
child=$!
wait "$child"
rc=$?
child=""
finish "$rc"
