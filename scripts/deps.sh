#!/bin/sh
# deps.sh - install the Debian packages a make target needs, when missing.
#
#   scripts/deps.sh [--check] build [test] [run] [bench]
#
# As root the missing packages are installed with apt-get; otherwise the
# script prints the one command to run as root, and fails.  With --check
# nothing is installed, even as root: the missing packages are named and
# the script fails (plain `make` uses it for the build dependencies).
#
# The lists are what a minimal Debian 12 (debootstrap --variant=minbase)
# lacks; recommended packages are not installed, so everything needed is
# named here (ca-certificates for curl's HTTPS, for example).
set -eu

pkgs_build="make gcc libc6-dev pkg-config libfcgi-dev libexpat1-dev libssl-dev libinih-dev libcurl4-openssl-dev libjansson-dev libhiredis-dev libqrencode-dev libpng-dev libsystemd-dev"
pkgs_test="check libsubunit-dev nginx-light spawn-fcgi libfcgi-bin curl ca-certificates openssl jq iproute2 procps cppcheck groff-base man-db bsdextrautils python3 redis-server zbar-tools gnuplot-nox clang libclang-rt-14-dev valgrind systemd lintian logrotate redis-sentinel"
pkgs_run="nginx-light spawn-fcgi libfcgi-bin curl ca-certificates openssl iproute2 procps"
pkgs_bench="wrk valgrind nginx-light spawn-fcgi curl ca-certificates iproute2 procps gnuplot-nox"

check_only=0
[ "${1:-}" = --check ] && { check_only=1; shift; }
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

# Not a Debian system: nothing to check, the build says what is missing.
command -v dpkg-query >/dev/null 2>&1 || exit 0

missing=""
for p in $want; do
    case " $missing " in *" $p "*) continue ;; esac
    # nginx-light is enough, but any nginx flavour will do.
    if [ "$p" = nginx-light ] && { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; }; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

line="apt-get update && apt-get install -y --no-install-recommends$missing"
if [ "$check_only" = 1 ] || [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages:$missing" >&2
    if [ "$(id -u)" = 0 ]; then
        echo "Install them, then run make again:" >&2
        echo "    $line" >&2
    else
        echo "Install them as root, then run make again (with sudo if you have it):" >&2
        echo "    su -c '$line'" >&2
    fi
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
