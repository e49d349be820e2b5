#!/bin/sh
# deps.sh - install the Debian packages a make target needs, when missing.
#
#   scripts/deps.sh build [test] [run] [bench]
#
# As root the missing packages are installed with apt-get; otherwise the
# script says what to run and fails.
set -eu

pkgs_build="make gcc pkg-config libfcgi-dev libexpat1-dev libssl-dev libinih-dev libcurl4-openssl-dev libjansson-dev libhiredis-dev"
pkgs_test="check libsubunit-dev nginx-light spawn-fcgi libfcgi-bin curl openssl iproute2 procps cppcheck groff-base man-db bsdutils python3 redis-server"
pkgs_run="nginx-light spawn-fcgi curl openssl"
pkgs_bench="wrk valgrind nginx-light spawn-fcgi curl"

want=""
for group in "$@"; do
    case "$group" in
    build) want="$want $pkgs_build" ;;
    test)  want="$want $pkgs_test" ;;
    run)   want="$want $pkgs_run" ;;
    bench) want="$want $pkgs_bench" ;;
    *) echo "deps.sh: unknown group '$group' (build, test, run, bench)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $want; do
    case " $missing " in *" $p "*) continue ;; esac
    # nginx-light is enough, but any nginx flavour will do.
    if [ "$p" = nginx-light ] && command -v nginx >/dev/null 2>&1; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages:$missing" >&2
    echo "Install them as root, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "Installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts nginx on port 80 when it is installed; our stack runs its
# own instances on their own ports and does not need that one.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q nginx 2>/dev/null; then
    systemctl stop nginx || true
fi
