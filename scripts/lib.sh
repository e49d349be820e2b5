# lib.sh - shell helpers shared by wx-stack, bench.sh and the e2e tests.
# Source it; it defines functions only.

WX_TOP=${WX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# nginx and spawn-fcgi live in /usr/sbin, which is not on an ordinary
# user's PATH on Debian.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
case ":$PATH:" in *:/sbin:*) ;; *) PATH=$PATH:/sbin ;; esac
export PATH

# Every process a script starts carries WX_PROC_TAG in its environment,
# which its children inherit even when they leave the process group (as
# spawn-fcgi's and nginx's do), so that what is left behind can be found
# and stopped.  A script passes it to what it starts (WX_PROC_TAG=TAG
# program ...) and keeps it out of its own environment.  nginx overwrites
# its environment with its process title: an nginx is found by the run
# directory on its command line (nginx -p DIR), its workers as its
# children.
#
# wx_tagged TAG [DIR]: print the pids of the processes whose environment
# holds WX_PROC_TAG=TAG or whose command line names DIR, and of their
# children (other users' processes cannot be read, and are not ours).
wx_tagged() {
    local tag=$1 dir=${2:-} pid
    {
        grep -lzxF -- "WX_PROC_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null
        [ -z "$dir" ] || grep -lzF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null
        true
    } | cut -d/ -f3 | sort -un | while read -r pid; do
        [ "$pid" = "$$" ] || [ "$pid" = "${BASHPID:-}" ] && continue
        echo "$pid"
        pgrep -P "$pid" 2>/dev/null || true
    done | sort -un
}

# wx_reap_tagged TAG [DIR]: TERM the processes wx_tagged finds, wait up to
# 5 s for them to go, then KILL what is left.  Prints one line per process
# that was there ("pid command"); returns 1 when there was any.
wx_reap_tagged() {
    local tag=$1 dir=${2:-} pids p i left=""
    pids=$(wx_tagged "$tag" "$dir")
    [ -n "$pids" ] || return 0
    for p in $pids; do
        left="$left$p $(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline")
"
        kill -TERM "$p" 2>/dev/null || true
    done
    for i in $(seq 1 100); do
        [ -n "$(wx_tagged "$tag" "$dir")" ] || break
        sleep 0.05
    done
    for p in $(wx_tagged "$tag" "$dir"); do kill -KILL "$p" 2>/dev/null || true; done
    printf '%s' "$left"
    return 1
}

# wx_stop_pids PID...: TERM each process, wait up to 10 s for all of them
# to be gone (a master lets its workers finish), KILL what is left and wait
# for that too.  Children of the caller are reaped.  Returns 1 when one had
# to be killed.
wx_stop_pids() {
    local p i left rc=0
    [ $# -gt 0 ] || return 0
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 1 200); do
        left=""
        for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
        [ -n "$left" ] || break
        sleep 0.05
    done
    if [ -n "$left" ]; then
        rc=1
        for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
        for i in $(seq 1 100); do
            left=""
            for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
            [ -n "$left" ] || break
            sleep 0.05
        done
    fi
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
    return $rc
}

# wx_free_port: print a TCP port free on 127.0.0.1.  It is taken below the
# kernel's ephemeral range (ip_local_port_range), where no outgoing
# connection can be holding it, and is in no socket of any state.
wx_free_port() {
    local p i low=32768 high=60999 base span
    read -r low high < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    base=10000 span=$(( low - 10000 ))
    # A range that starts low: above its end instead.
    [ "$span" -gt 1000 ] || { base=$(( high + 1 )); span=$(( 65535 - high )); }
    [ "$span" -gt 0 ] || { echo "no port outside ip_local_port_range" >&2; return 1; }
    for i in $(seq 1 200); do
        p=$(( base + (RANDOM * 32768 + RANDOM) % span ))
        if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# wx_wait_for PATH|tcp:PORT SECONDS: wait until a socket answers.  A unix
# socket must accept a connection (with python3; without it, exist): the
# file a killed server left behind does not count.
wx_wait_for() {
    local what=$1 secs=${2:-10} i py
    py=$(command -v python3 || true)
    for i in $(seq 1 $((secs * 20))); do
        case "$what" in
        tcp:*) (exec 3<>"/dev/tcp/127.0.0.1/${what#tcp:}") 2>/dev/null && return 0 ;;
        *)     if [ -S "$what" ]; then
                   [ -z "$py" ] && return 0
                   "$py" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$what" 2>/dev/null && return 0
               fi ;;
        esac
        sleep 0.05
    done
    echo "timed out waiting for $what" >&2
    return 1
}

# wx_nginx_render RUN PORT SOCKET [ACCESS_LOG] [EXTRA_UPSTREAMS] [EXTRA_LOCATIONS]
# Write RUN/nginx.conf (with wx.conf and fastcgi_params beside it).
# WX_NGINX_WORKERS (default 1) nginx workers, WX_NGINX_KEEPALIVE (default
# 16) the upstream's keepalive connections per nginx worker.
wx_nginx_render() {
    local run=$1 port=$2 sock=$3 access=${4:-$1/nginx-access.log}
    local ups=${5:-} locs=${6:-} user=""
    mkdir -p "$run/tmp"
    cp "$WX_TOP/nginx/wx.conf" "$run/wx.conf"
    cp /etc/nginx/fastcgi_params "$run/fastcgi_params"
    # As root nginx would run its workers as nobody, who cannot reach a
    # socket in a private directory; locally we keep the caller's user.
    [ "$(id -u)" = 0 ] && user="user root;"
    awk -v run="$run" -v port="$port" -v sock="$sock" -v access="$access" \
        -v user="$user" -v ups="$ups" -v locs="$locs" \
        -v workers="${WX_NGINX_WORKERS:-1}" -v keep="${WX_NGINX_KEEPALIVE:-16}" '
        { gsub(/@NGINX_WORKERS@/, workers); gsub(/@KEEPALIVE@/, keep); gsub(/@RUN@/, run); gsub(/@PORT@/, port); gsub(/@SOCKET@/, sock);
          gsub(/@ACCESS_LOG@/, access); gsub(/@USER@/, user);
          gsub(/@EXTRA_UPSTREAMS@/, ups); gsub(/@EXTRA_LOCATIONS@/, locs); print }' \
        "$WX_TOP/nginx/nginx.conf.in" > "$run/nginx.conf"
}

wx_nginx_start() {
    local run=$1
    nginx -p "$run" -c "$run/nginx.conf" -e "$run/nginx-error.log" -t -q ||
        { cat "$run/nginx-error.log" >&2; return 1; }
    nginx -p "$run" -c "$run/nginx.conf" -e "$run/nginx-error.log"
}

wx_nginx_stop() {
    local run=$1 pid i
    [ -f "$run/nginx.pid" ] || return 0
    pid=$(cat "$run/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# wx_sign TOKEN TIMESTAMP NONCE: the signature of PROTOCOL.md 1.2.
wx_sign() {
    printf '%s\n' "$@" | LC_ALL=C sort | tr -d '\n' | sha1sum | cut -d' ' -f1
}

# wx_sim_server PORT CERTDIR SOCKET: print wxsim's HTTPS server block
# (nginx/wxsim.conf.in filled in), for the http{} context: pass it to
# wx_nginx_render as EXTRA_UPSTREAMS.
wx_sim_server() {
    sed -e "s|@SIM_PORT@|$1|g" -e "s|@SIM_CERT@|$2/server.pem|g" \
        -e "s|@SIM_KEY@|$2/server.key|g" -e "s|@SIM_SOCKET@|$3|g" \
        -e 's/[[:space:]]*#.*$//' "$WX_TOP/nginx/wxsim.conf.in" | grep -v '^[[:space:]]*$'
}

# wx_sim_stack RUN BUILD PORT SIMPORT SOCKET CONFIG [EXTRA_UPSTREAMS] [EXTRA_LOCATIONS]
# The offline WeChat API of the tests: a private CA and certificate in
# RUN/certs, wxsim -c CONFIG (whose [wxsim] listen must be RUN/sim.sock;
# stderr to RUN/sim.err, pid in WX_SIM_PID), and nginx serving /wx on PORT
# (to SOCKET, with the extras) and wxsim over HTTPS on SIMPORT.
wx_sim_stack() {
    local run=$1 build=$2 port=$3 simport=$4 sock=$5 config=$6
    "$WX_TOP/scripts/wx-certs" "$run/certs" >/dev/null 2>&1 ||
        { echo "wx-certs failed" >&2; return 1; }
    "$build/wxsim" -c "$config" 2>>"$run/sim.err" &
    WX_SIM_PID=$!
    wx_nginx_render "$run" "$port" "$sock" "$run/access.log" \
        "$(wx_sim_server "$simport" "$run/certs" "$run/sim.sock")
    ${7:-}" "${8:-}"
    wx_wait_for "$run/sim.sock" 10 >/dev/null || return 1
    wx_nginx_start "$run" || return 1
    wx_wait_for "tcp:$port" 10 >/dev/null || return 1
    wx_wait_for "tcp:$simport" 10 >/dev/null
}

# wx_valgrind DIR: when WX_VALGRIND=1, print the words that run a program
# under valgrind memcheck, one log a process in DIR/vg.PID.log (valgrind
# follows fork: the master's workers get their own); else nothing.  Use it
# unquoted before the program: $(wx_valgrind "$T") "$build/wxfcgi" ...
# Errors are invalid reads and writes, uses of uninitialised values and
# memory definitely lost at exit.
wx_valgrind() {
    [ "${WX_VALGRIND:-0}" = 1 ] || return 0
    echo "valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite" \
        "--show-leak-kinds=definite --log-file=$1/vg.%p.log"
}

# wx_valgrind_errors DIR: the errors in the logs of wx_valgrind DIR, as
# "LOG: N errors" lines for the logs with any; exit 1 if there is any (or
# no log at all).
wx_valgrind_errors() {
    local f n bad=0 seen=0
    for f in "$1"/vg.*.log; do
        [ -e "$f" ] || continue
        seen=1
        n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
        if [ "${n:-x}" != 0 ]; then
            echo "$(basename "$f"): ${n:-no summary (still running?)} errors"
            bad=1
        fi
    done
    [ "$seen" = 1 ] || { echo "no valgrind log in $1"; return 1; }
    return $bad
}
