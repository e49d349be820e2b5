# redis_lib.sh - the fleet of the redis suites (sourced, not a suite): one
# WeChat (wxsim behind its own nginx, TLS), one business service that
# counts its calls, and "hosts" h1, h2, h3 on 127.0.0.11, .12, .13, each a
# full stack (nginx, wxfcgi with the upstream handler, wxproxy, and
# wxtoken on h1 and h2) with its own run directory and state_dir, sharing
# nothing but Redis.  The caller sets build, top, T, pass and fail, and
# sources scripts/lib.sh and tests/e2e/tap.sh first.
#
# Every process started here is listed in FLEET_PIDS (and nginx by its run
# directory); fleet_stop stops them all.

TOKEN=fleettoken42
APPID=wx0123456789abcdef
SECRET=FleetSecret0123456789abcdef0123
PXKEY=fleet-proxy-key-0123456789abcdef
LIMITKEY=fleet-limit-key-0123456789abcdef
OPENID=oFleetUser0123456789abcdefgh
PASS=e2e-fleet-redis-secret-51c2
BUDGET=${BUDGET:-3000}
FLEET_PIDS=""
FLEET_NGINX=""

fleet_stop() {
    local run
    # shellcheck disable=SC2086
    wx_stop_pids $FLEET_PIDS
    for run in $FLEET_NGINX; do wx_nginx_stop "$run"; done
}

# fleet_wait_tcp IP PORT SECS: until IP:PORT accepts a connection.
fleet_wait_tcp() {
    local i
    for i in $(seq 1 $(($3 * 20))); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for $1:$2" >&2
    return 1
}

# redis_run NAME PORT [ARGS...]: a redis-server on 127.0.0.1:PORT, its
# files in $T/NAME; its pid in REDIS_<NAME>.
redis_run() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$T/$name"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --requirepass "$PASS" --masterauth "$PASS" --dir "$T/$name" \
        --logfile "$T/$name/redis.log" "$@" &
    printf -v "REDIS_$name" '%s' "$!"
    FLEET_PIDS="$FLEET_PIDS $!"
    fleet_wait_tcp 127.0.0.1 "$port" 10
}

# rcli PORT ARGS...: redis-cli on 127.0.0.1:PORT with the password.
rcli() {
    local port=$1
    shift
    REDISCLI_AUTH=$PASS redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# sim_start: wxsim behind nginx on 127.0.0.1:SIMPORT (HTTPS), run dir $T/sim.
sim_start() {
    mkdir -p "$T/sim"
    SIMPORT=$(wx_free_port)
    API=https://127.0.0.1:$SIMPORT
    cat > "$T/sim/sim.ini" <<CONF
[wx]
token = $TOKEN
appid = $APPID
[wxsim]
listen = unix:$T/sim/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
token_daily_limit = 1000
data_dir = $T/sim/data
log = $T/sim/sim.log
CONF
    FLEET_NGINX="$FLEET_NGINX $T/sim"
    wx_sim_stack "$T/sim" "$build" "$(wx_free_port)" "$SIMPORT" "$T/sim/none.sock" \
        "$T/sim/sim.ini" || return 1
    FLEET_PIDS="$FLEET_PIDS $WX_SIM_PID"
}
sim_curl() { curl -sS --cacert "$T/sim/certs/ca.pem" --max-time 10 "$@"; }
# token_calls: the calls WeChat (wxsim) received on /cgi-bin/token.
token_calls() {
    local n
    n=$(sim_curl "$API/sim/stats" | grep -o '"/cgi-bin/token": *[0-9]*' | grep -o '[0-9]*$')
    echo "${n:-0}"
}

# biz_start NAME [ARGS...]: the business service NAME, counting its calls
# in $T/NAME.calls; its URL in BIZ_<NAME>.
biz_start() {
    local name=$1 port
    shift
    port=$(wx_free_port)
    : > "$T/$name.calls"
    python3 "$top/scripts/example-business.py" --port "$port" --calls "$T/$name.calls" "$@" \
        2>>"$T/$name.err" &
    FLEET_PIDS="$FLEET_PIDS $!"
    printf -v "BIZ_$name" '%s' "http://127.0.0.1:$port/hook"
    fleet_wait_tcp 127.0.0.1 "$port" 10
}
calls() { wc -l < "$T/$1.calls"; }

# biz_killer N: a business service that, called, kills host hN with
# SIGKILL (every process of it: its programs, their workers and the
# workers' children, nginx) while hN's worker waits for the answer, and
# then never answers: a machine lost mid-message, whatever the load of
# the machine running the test.  Counts its calls in $T/killer.calls; its
# URL in BIZ_killer.
biz_killer() {
    local port
    port=$(wx_free_port)
    : > "$T/killer.calls"
    python3 - "$port" "$T/killer.calls" "$T/h$1" 2>>"$T/killer.err" <<'PY' &
import http.server, os, signal, sys, time

port, calls, run = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def tree(roots):
    kids = {}
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (ValueError, OSError, IndexError):
            pass
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(calls, "a") as f:
            f.write("call\n")
        with open(run + "/pids") as f:
            roots = [int(x) for x in f.read().split()]
        with open(run + "/nginx.pid") as f:
            roots.append(int(f.read()))
        for p in tree(roots):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(30)
    def log_message(self, *a):
        pass

signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    FLEET_PIDS="$FLEET_PIDS $!"
    BIZ_killer=http://127.0.0.1:$port/hook
    fleet_wait_tcp 127.0.0.1 "$port" 10
}

# host_config N STATE [BIZ]: the config of host hN; STATE is the [state]
# section's body; BIZ the business service's URL.
host_config() {
    local d=$T/h$1
    mkdir -p "$d/state"
    cat > "$d/wx.ini" <<CONF
[wx]
token = $TOKEN
appid = $APPID
[wxfcgi]
listen = unix:$d/wxfcgi.sock
socket_mode = 0666
workers = 2
state_dir = $d/state
reply_budget_ms = $BUDGET
log = $d/wxfcgi.log
log_level = info
handler = upstream
[upstream]
url = ${3:-$BIZ_fast}
timeout_ms = 15000
[wxtoken]
api = $API
ca_file = $T/sim/certs/ca.pem
appsecret_file = $T/secret
grant = token
store = $d/state/token
listen = unix:$d/tok.sock
timeout_ms = 3000
retry_min_ms = 200
retry_max_ms = 2000
log = $d/tok.log
log_level = info
[wxproxy]
listen = unix:$d/px.sock
workers = 2
api = $API
ca_file = $T/sim/certs/ca.pem
timeout_ms = 15000
state_dir = $d/state
log = $d/px.log
log_level = info
[wxproxy.key.all]
key = $PXKEY
paths = /cgi-bin/*
rate = 1000
[wxproxy.key.limited]
key = $LIMITKEY
paths = /cgi-bin/getcallbackip
rate = 10
burst = 10
[state]
$2
CONF
}

# host_start N [tok]: start host hN (127.0.0.1N): wxfcgi, wxproxy, with
# "tok" wxtoken too, and nginx in front of them.
host_start() {
    local d=$T/h$1 ip=127.0.0.1$1 port pid
    port=$(wx_free_port)
    echo "$port" > "$d/port"
    : > "$d/pids"
    if [ "${2:-}" = tok ]; then
        "$build/wxtoken" -c "$d/wx.ini" 2>>"$d/tok.err" &
        echo $! >> "$d/pids"
    fi
    "$build/wxproxy" -c "$d/wx.ini" 2>>"$d/px.err" &
    echo $! >> "$d/pids"
    "$build/wxfcgi" -c "$d/wx.ini" 2>>"$d/wxfcgi.log" &
    echo $! >> "$d/pids"
    for pid in $(cat "$d/pids"); do FLEET_PIDS="$FLEET_PIDS $pid"; done
    wx_wait_for "$d/wxfcgi.sock" 10 >/dev/null || { cat "$d/wxfcgi.log"; return 1; }
    wx_wait_for "$d/px.sock" 10 >/dev/null || { cat "$d/px.err"; return 1; }
    cp "$top/nginx/wxproxy.conf" "$d/wxproxy.conf"
    wx_nginx_render "$d" "$port" "$d/wxfcgi.sock" "$d/access.log" \
        "upstream wxproxy { server unix:$d/px.sock; }" "include wxproxy.conf;"
    # This host's own address, as on a machine of its own.
    sed -i "s/listen 127.0.0.1:$port;/listen $ip:$port;/" "$d/nginx.conf"
    FLEET_NGINX="$FLEET_NGINX $d"
    wx_nginx_start "$d" || return 1
    fleet_wait_tcp "$ip" "$port" 10
}

# host_stop N: stop host hN's processes, as an operator would.
host_stop() {
    # shellcheck disable=SC2046
    wx_stop_pids $(cat "$T/h$1/pids")
    wx_nginx_stop "$T/h$1"
}

# host_kill N: SIGKILL every process of host hN at once (a machine lost):
# its programs, their workers and their workers' children, and nginx.
host_kill() {
    local all="" p more
    more="$(cat "$T/h$1/pids") $(cat "$T/h$1/nginx.pid" 2>/dev/null)"
    while [ -n "${more// }" ]; do
        all="$all $more"
        # shellcheck disable=SC2086
        more=$(for p in $more; do pgrep -P "$p"; done | tr '\n' ' ')
    done
    # shellcheck disable=SC2086
    kill -KILL $all 2>/dev/null
    # shellcheck disable=SC2086
    wx_stop_pids $all
}

# host_alive N: how many of host hN's programs still run (zombies not).
host_alive() {
    local p n=0
    for p in $(cat "$T/h$1/pids"); do
        [ -r "/proc/$p/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" && n=$((n + 1))
    done
    echo "$n"
}

q() {
    local ts n
    ts=$(date +%s) n=$RANDOM$RANDOM
    echo "signature=$(wx_sign "$TOKEN" "$ts" "$n")&timestamp=$ts&nonce=$n&openid=$OPENID"
}

# deliver N FILE OUT: one delivery to host hN, as WeChat makes it (a fresh
# signature each time, 5 s to answer); prints the status, the body in OUT.
deliver() {
    curl -s -o "$3" -w '%{http_code}' --max-time 5 --data-binary "@$2" \
        -H 'Content-Type: text/xml' "http://127.0.0.1$1:$(cat "$T/h$1/port")/wx?$(q)"
}

# fresh: a new text message (a new MsgId, now) in a file; prints its path.
fresh() {
    local out=$T/msg.$RANDOM$RANDOM.xml
    sed -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(date +%s)</CreateTime>:" \
        -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>$RANDOM$RANDOM$RANDOM</MsgId>:" \
        -e "s:<FromUserName><!\[CDATA\[[^]]*\]\]>:<FromUserName><![CDATA[$OPENID]]>:" \
        "$top/tests/fixtures/msg/text.xml" > "$out"
    echo "$out"
}

# same FILES...: 1 when every file is byte for byte the first, and that
# is a business reply.
same() {
    local f first=$1
    grep -q 'You said' "$first" || { echo 0; return; }
    for f in "$@"; do cmp -s "$first" "$f" || { echo 0; return; }; done
    echo 1
}

# px N KEY PATH: a call through host hN's wxproxy; prints the status.
px() {
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "X-Wx-Key: $2" \
        "http://127.0.0.1$1:$(cat "$T/h$1/port")/wxapi$3"
}
