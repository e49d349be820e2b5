#!/usr/bin/env bash
# token.sh BUILD - end-to-end tests of wxtoken against wxsim through nginx
# and TLS (a private CA; verification on): refresh before expiry, one
# refresh for a burst of rejection reports, two instances on one store,
# backoff on -1, hard errors not retried in a loop, restart from the store,
# a damaged store not served, the stable_token grant, wxctl token.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-token.XXXXXX")
APPID=wx0123456789abcdef
SECRET=TokSecret0123456789abcdef012345
PORT=$(wx_free_port)
SIMPORT=$(wx_free_port)
while [ "$SIMPORT" = "$PORT" ]; do SIMPORT=$(wx_free_port); done
API=https://127.0.0.1:$SIMPORT
SIM="" TOK_A="" TOK_B=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $TOK_A $TOK_B $SIM
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

sim_curl() { curl -sS --cacert "$T/certs/ca.pem" --max-time 10 "$@"; }
sim_ctl() { # PATH [JSON]
    if [ $# -gt 1 ]; then sim_curl -d "$2" "$API/sim/$1"; else sim_curl "$API/sim/$1"; fi
}
# token_calls: the calls wxsim received on /cgi-bin/token and stable_token.
token_calls() {
    sim_ctl stats | grep -o '"/cgi-bin/'"${1:-token}"'": *[0-9]*' | grep -o '[0-9]*$'
}
fault() { sim_ctl fault "$1" >/dev/null; }
api_errcode() { # TOKEN: errcode of an API call made with it (0 when none)
    local out
    out=$(sim_curl "$API/cgi-bin/getcallbackip?access_token=$1")
    if [[ $out == *'"errcode"'* ]]; then
        grep -o '"errcode": *-\{0,1\}[0-9]*' <<<"$out" | grep -o -- '-\{0,1\}[0-9]*$'
    else
        echo 0
    fi
}

# write_config NAME [WXTOKEN EXTRA]: wxtoken instance NAME; both share the store.
write_config() {
    cat > "$T/$1.ini" <<CONF
[wx]
token = toktest42
appid = $APPID
[wxtoken]
api = $API
ca_file = $T/certs/ca.pem
appsecret_file = $T/secret
grant = token
store = $T/store/token
listen = unix:$T/$1.sock
refresh_margin = 12
timeout_ms = 3000
retry_min_ms = 200
retry_max_ms = 3000
log = $T/$1.log
log_level = info
${2:-}
[wxsim]
listen = unix:$T/sim.sock
appid = $APPID
appsecret = $SECRET
allow_ips = 127.0.0.1
token_ttl = ${SIM_TTL:-7200}
token_daily_limit = 100
data_dir = $T/simdata
log = $T/sim.log
CONF
}

start_tok() { # NAME: start instance NAME, wait until it answers; its pid in TOK_NAME
    "$build/wxtoken" -c "$T/$1.ini" >>"$T/$1.err" 2>&1 &
    if [ "$1" = a ]; then TOK_A=$!; else TOK_B=$!; fi
    # Not the socket file: one left by a killed instance is still there.
    tok_answers "$T/$1.sock" 10 || true
}

tok_answers() { # SOCKET SECS: until a STATUS request is answered
    # perl (perl-base) starts in milliseconds: the tests after a start time
    # what wxtoken does in its first seconds.
    perl -MIO::Socket::UNIX -e '
        my ($path, $end) = ($ARGV[0], time + $ARGV[1]);
        while (time < $end) {
            my $line = eval {
                local $SIG{ALRM} = sub { die "timeout\n" };
                alarm 2;
                my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
                    or die "connect\n";
                print $s "STATUS\n";
                my $l = <$s>;
                alarm 0;
                $l;
            };
            alarm 0;
            exit 0 if defined $line && $line =~ /\n\z/;
            select(undef, undef, undef, 0.1);
        }
        exit 1' "$1" "$2"
}

stop_pid() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

current() { WX_CONFIG=$T/a.ini "$build/wxctl" token --show 2>/dev/null; }
version() { WX_CONFIG=$T/a.ini "$build/wxctl" token 2>/dev/null | awk '$1 == "version" { print $2 }'; }

wait_version_above() { # N SECS
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ "$(version)" -gt "$1" ] 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# --- set-up: CA, wxsim under nginx with TLS ------------------------------
mkdir -p "$T/store"
printf '%s\n' "$SECRET" > "$T/secret"
SIM_TTL=20 write_config a
write_config b
wx_sim_stack "$T" "$build" "$PORT" "$SIMPORT" "$T/wx.sock" "$T/a.ini" || exit 1
SIM=$WX_SIM_PID

echo "# command line"
"$build/wxtoken" --help | contains 'REJECTED TOKEN' && ok "wxtoken --help documents the report protocol" ||
    nok "wxtoken --help"
"$build/wxtoken" -t -c "$T/a.ini" >/dev/null && ok "wxtoken -t accepts the config" || nok "wxtoken -t"
sed 's|^appsecret_file = .*||' "$T/a.ini" > "$T/nosecret.ini"
out=$("$build/wxtoken" -t -c "$T/nosecret.ini" 2>&1); rc=$?
check "a missing AppSecret stops it with status 1" 1 "$rc"
[[ $out == *"appsecret is missing"* ]] && ok "... and says which key" || nok "missing appsecret message" "$out"
"$build/wxtoken" -c "$T/a.ini" bogus >/dev/null 2>&1
check "an extra argument is a usage error (2)" 2 "$?"
out=$(WX_CONFIG=$T/a.ini "$build/wxctl" token 2>&1); rc=$?
check "wxctl token before any token: status 1" 1 "$rc"

echo "# first token, and refresh before expiry (ttl 20 s, margin 12 s)"
start_tok a
wait_version_above 0 10 && ok "wxtoken stored a token at start" || nok "no token stored"
t1=$(current)
check "the stored token works against the API" 0 "$(api_errcode "$t1")"
out=$(WX_CONFIG=$T/a.ini "$build/wxctl" token)
[[ $out == *"version   1"* && $out != *"$t1"* ]] && ok "wxctl token shows the version, never the whole token" ||
    nok "wxctl token output" "$out"
grep -q -- "$t1" "$T/a.log" "$T/a.err" && nok "the token appears in wxtoken's log" || ok "the token is not in wxtoken's log"
grep -q -- "$SECRET" "$T/a.log" "$T/a.err" "$T/sim.log" "$T/access.log" &&
    nok "the AppSecret appears in a log" || ok "the AppSecret is in no log"
# For 22 s a caller reads the store and calls the API every 0.3 s: no call
# may see an expired or rejected token while wxtoken refreshes it twice.
v0=$(version) bad=0 calls=0
end=$((SECONDS + 22))
while [ $SECONDS -lt $end ]; do
    tk=$(current) || { bad=$((bad + 1)); continue; }
    e=$(api_errcode "$tk")
    calls=$((calls + 1))
    [ "$e" = 0 ] || { bad=$((bad + 1)); echo "# call with token version $(version): errcode $e"; }
    sleep 0.3
done
check "no caller saw an expired or rejected token in $calls calls" 0 "$bad"
v1=$(version)
[ "$v1" -ge $((v0 + 2)) ] && ok "refreshed before expiry ($v0 -> $v1)" || nok "active refresh" "$v0 -> $v1"

echo "# a burst of 200 rejection reports: one refresh"
stop_pid "$TOK_A"
write_config a       # long-lived tokens from here on
kill -TERM "$SIM"; wait "$SIM" 2>/dev/null
"$build/wxsim" -c "$T/a.ini" 2>>"$T/sim.err" &
SIM=$!
wx_wait_for "$T/sim.sock" 10
start_tok a
"$build/wxctl" -c "$T/a.ini" token --refresh >/dev/null
cur=$(current)
n0=$(token_calls)
seq 1 200 | xargs -P 200 -I{} sh -c \
    "echo '$cur' | WX_CONFIG=$T/a.ini '$build/wxctl' token --rejected --show > '$T/burst.{}' 2>&1"
n1=$(token_calls)
check "200 concurrent reports caused exactly one upstream call" 1 $((n1 - n0))
new=$(current)
[ "$new" != "$cur" ] && ok "the rejected token was replaced" || nok "token not replaced"
check "all 200 callers got the new token" 200 "$(cat "$T"/burst.* | grep -cx -- "$new")"
check "the new token works" 0 "$(api_errcode "$new")"
echo "$new" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected >/dev/null
n2=$(token_calls)
check "a report of the current token refreshes it" 1 $((n2 - n1))
old=$new new=$(current)
n2=$(token_calls)
echo "$old" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected --show > "$T/late"
check "a late report of an old token gets the current one" "$new" "$(cat "$T/late")"
check "... without an upstream call" "$n2" "$(token_calls)"

echo "# two instances on one store"
start_tok b
cur=$(current)
n0=$(token_calls)
# wxsim answers slowly, so both instances would be refreshing at once.
fault '{"path":"/cgi-bin/token","kind":"slow","ms":1500,"count":2}'
for i in $(seq 1 40); do
    s=a; [ $((i % 2)) = 0 ] && s=b
    (echo "$cur" | WX_CONFIG=$T/$s.ini "$build/wxctl" token --rejected --show > "$T/two.$i" 2>&1) &
done
wait_jobs=$(jobs -p | grep -v -e "^$SIM$" -e "^$TOK_A$" -e "^$TOK_B$")
for j in $wait_jobs; do wait "$j" 2>/dev/null; done
n1=$(token_calls)
check "40 reports to two instances: one upstream call" 1 $((n1 - n0))
new=$(current)
check "callers of both instances got the same new token" 40 "$(cat "$T"/two.* | grep -cx -- "$new")"
fault '{"path":"/cgi-bin/token","kind":"slow","count":0}'
# Forced refreshes of both at once are serialised by the lock: their
# refresh intervals, as logged, never overlap.
( WX_CONFIG=$T/a.ini "$build/wxctl" token --refresh >/dev/null ) &
( WX_CONFIG=$T/b.ini "$build/wxctl" token --refresh >/dev/null ) &
wait %-1 %- 2>/dev/null; sleep 0.5
ivals=$( { grep -h 'refresh start\|refresh done\|refresh failed' "$T/a.log" | sed 's/^/a /'
           grep -h 'refresh start\|refresh done\|refresh failed' "$T/b.log" | sed 's/^/b /'; } |
         awk '{ print $2, $1, ($0 ~ /refresh start/ ? "start" : "end") }' | sort)
overlap=$(awk '$3 == "start" { if (open) bad = 1; open = 1 } $3 == "end" { open = 0 }
               END { print bad + 0 }' <<<"$ivals")
check "refreshes of the two instances never overlap in time" 0 "$overlap"
stop_pid "$TOK_B"; TOK_B=""

echo "# -1 (system busy) and transport errors: backoff"
cur=$(current)
n0=$(token_calls)
fault '{"path":"/cgi-bin/token","kind":"busy","count":3}'
echo "$cur" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected >/dev/null 2>&1
# The report's refresh failed: the old token is still valid, so wxtoken
# keeps serving it; the store expires in hours, so the retries come from
# the next reports.  Report until it goes through.
for i in $(seq 1 30); do
    sleep 0.3
    echo "$cur" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected --show 2>/dev/null |
        grep -qvx -- "$cur" && break
done
n1=$(token_calls)
[ "$(current)" != "$cur" ] && ok "after three -1 answers the token was refreshed" || nok "no refresh after -1"
check "four upstream calls: three refused, one served" 4 $((n1 - n0))
grep -q 'next attempt in' "$T/a.log" && ok "backoff is logged" || nok "backoff not logged"
# Empty store and WeChat busy for good: the attempts thin out.
stop_pid "$TOK_A"
rm -f "$T/store/token"
fault '{"path":"/cgi-bin/token","kind":"busy","count":1000}'
n0=$(token_calls)
start_tok a
sleep 5
n1=$(token_calls)
check_le "busy for 5 s: at most 7 attempts (backoff 200 ms doubling)" 7 $((n1 - n0))
[ $((n1 - n0)) -ge 3 ] && ok "... and it kept trying ($((n1 - n0)) attempts)" || nok "gave up" "$((n1 - n0))"
fault '{"path":"/cgi-bin/token","kind":"busy","count":0}'
wait_version_above 0 8 && ok "served again once WeChat answers" || nok "no token after busy"
fault '{"path":"/cgi-bin/token","kind":"drop","count":2}'
stop_pid "$TOK_A"; rm -f "$T/store/token"
start_tok a
wait_version_above 0 8 && ok "dropped connections are retried" || nok "no token after drops"
grep -q 'refresh failed.*Empty reply\|refresh failed.*transport\|refresh failed after' "$T/a.log" &&
    ok "the transport error is logged apart from API errors" || nok "transport error not logged"

# An answer slower than timeout_ms (3000) is a transport error, retried.
fault '{"path":"/cgi-bin/token","kind":"slow","ms":3600,"count":1}'
stop_pid "$TOK_A"; rm -f "$T/store/token"
: > "$T/a.log"
n0=$(token_calls)
start_tok a
wait_version_above 0 15 && ok "a timed-out call is retried and the token obtained" || nok "no token after a timeout"
grep -q 'refresh failed after [0-9]* ms: Timeout' "$T/a.log" && ok "the timeout is logged as a transport error" ||
    nok "timeout not logged" "$(grep 'refresh' "$T/a.log" | head -3)"
check "two upstream calls: the slow one and the retry" 2 $(( $(token_calls) - n0 ))

echo "# hard errors: reported loudly, not retried in a loop"
for code in 45009 40164; do
    stop_pid "$TOK_A"; rm -f "$T/store/token"
    fault "{\"path\":\"/cgi-bin/token\",\"kind\":\"errcode\",\"errcode\":$code,\"count\":1000}"
    n0=$(token_calls)
    : > "$T/a.log"
    start_tok a
    sleep 2
    n1=$(token_calls)
    check "$code: one attempt in 2 s (retry_max_ms 3000)" 1 $((n1 - n0))
    grep -q "error: refresh refused: errcode $code" "$T/a.log" && ok "$code is logged as an error" ||
        nok "$code not logged" "$(tail -3 "$T/a.log")"
    out=$(WX_CONFIG=$T/a.ini "$build/wxctl" token --refresh 2>&1); rc=$?
    check "$code: wxctl token --refresh fails with status 1" 1 "$rc"
    [[ $out == *"$code"* ]] && ok "... naming errcode $code" || nok "wxctl message" "$out"
    fault "{\"path\":\"/cgi-bin/token\",\"kind\":\"errcode\",\"errcode\":$code,\"count\":0}"
done
grep -q 'IP allow-list' "$T/a.log" && ok "40164 comes with the allow-list hint" || nok "no 40164 hint"

echo "# restart: the stored token is served, not fetched again"
stop_pid "$TOK_A"; rm -f "$T/store/token"
start_tok a
wait_version_above 0 8
cur=$(current)
kill -KILL "$TOK_A"; wait "$TOK_A" 2>/dev/null
n0=$(token_calls)
start_tok a
# A report of some other token is answered with wxtoken's current one.
st=$(echo "not-the-current-token" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected --show)
check "after SIGKILL and restart wxtoken serves the stored token" "$cur" "$st"
check "... with no upstream call" "$n0" "$(token_calls)"

echo "# a damaged store is detected, not served"
stop_pid "$TOK_A"
printf 'X' | dd of="$T/store/token" bs=1 seek=30 conv=notrunc 2>/dev/null
out=$(WX_CONFIG=$T/a.ini "$build/wxctl" token 2>&1); rc=$?
check "wxctl token refuses a damaged store (1)" 1 "$rc"
[[ $out == *damaged* ]] && ok "... and says it is damaged" || nok "damaged message" "$out"
: > "$T/a.log"
start_tok a
wait_version_above 0 8 && ok "wxtoken replaces a damaged store with a new token" || nok "damaged store kept"
grep -q 'damaged' "$T/a.log" && ok "... and logs it" || nok "damage not logged"
printf 'wxtoken1 1 2 3 tok' > "$T/store/token"
out=$(WX_CONFIG=$T/a.ini "$build/wxctl" token 2>&1); rc=$?
check "a truncated store is refused too" 1 "$rc"
stop_pid "$TOK_A"

echo "# the stable_token grant"
write_config a "grant = stable_token"
sed -i 's/^grant = token$//' "$T/a.ini"
rm -f "$T/store/token"
n0=$(token_calls stable_token)
start_tok a
wait_version_above 0 8 && ok "stable_token: a token at start" || nok "stable_token start"
cur=$(current)
check "stable_token: it works" 0 "$(api_errcode "$cur")"
echo "$cur" | WX_CONFIG=$T/a.ini "$build/wxctl" token --rejected --show > "$T/st"
new=$(cat "$T/st")
[ -n "$new" ] && [ "$new" != "$cur" ] && ok "stable_token: a rejected token is force-refreshed" ||
    nok "stable_token force refresh" "$(tail -3 "$T/a.log")"
check "stable_token: two upstream calls" 2 $(( $(token_calls stable_token) - n0 ))
stop_pid "$TOK_A"; TOK_A=""
wait "$SIM" 2>/dev/null &

echo
echo "token: $pass passed, $fail failed"
[ "$fail" = 0 ]
