# tap.sh - the result helpers of the end-to-end suites (TAP-like lines).
# Source it after setting pass=0 fail=0.

ok()  { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; [ $# -gt 1 ] && printf '#   %s\n' "$2"; }
check() { # NAME WANT GOT
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "want [$2], got [$3]"; fi
}
check_match() { # NAME GLOB GOT
    # shellcheck disable=SC2053
    if [[ $3 == $2 ]]; then ok "$1"; else nok "$1" "want [$2], got [$3]"; fi
}
check_le() { # NAME MAX GOT
    if [ "$3" -le "$2" ] 2>/dev/null; then ok "$1"; else nok "$1" "want <= $2, got [$3]"; fi
}
# contains GREP_ARGS...: grep -q that reads its whole input.  grep -q
# exits at its first match, and a writer with more to say then dies of
# SIGPIPE, which pipefail turns into a failed check.
contains() { grep "$@" >/dev/null; }
