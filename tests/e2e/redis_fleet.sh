#!/usr/bin/env bash
# redis_fleet.sh BUILD - three hosts on 127.0.0.11, .12, .13 sharing one
# Redis (tests/e2e/redis_lib.sh): a message and its three retries over
# hosts A, B, C, A (one after the other and all at once) call the business
# service once and get four identical replies; the host running a slow
# handler killed with SIGKILL, the next retry takes the message over; 200
# rejection reports over the two wxtoken instances cost one token call and
# all get the new token; 3 hosts x 30 calls on a key of rate 10, burst 10
# let at most 10 + 10 a second through, in all.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-redis-fleet.XXXXXX")
pass=0 fail=0

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"
# shellcheck source=tests/e2e/redis_lib.sh
. "$top/tests/e2e/redis_lib.sh"

cleanup() {
    fleet_stop
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

if ! command -v redis-server >/dev/null; then
    nok "redis-server is installed (scripts/deps.sh test installs it)"
    echo "redis_fleet: $pass passed, $fail failed"
    exit 1
fi

RPORT=$(wx_free_port)
printf '%s\n' "$SECRET" > "$T/secret"
printf '%s\n' "$PASS" > "$T/redis-password"
chmod 600 "$T/redis-password"
STATE="store = redis
redis = redis://127.0.0.1:$RPORT/0
redis_password_file = $T/redis-password
key_prefix = fleet:
timeout_ms = 1000"

echo "# Redis, WeChat, a counting business service, three hosts (run dir $T)"
redis_run r "$RPORT" || { nok "redis-server starts"; exit 1; }
sim_start || { nok "wxsim starts"; exit 1; }
biz_start fast || { nok "the business service starts"; exit 1; }
for n in 1 2 3; do host_config "$n" "$STATE"; done
host_start 1 tok && host_start 2 tok && host_start 3 ||
    { nok "three hosts start"; exit 1; }
ok "three hosts up on 127.0.0.11, .12, .13"
for i in $(seq 1 50); do [ -n "$(rcli "$RPORT" --no-auth-warning HGET fleet:token: val)" ] && break; sleep 0.1; done
check "the token is in Redis, fetched once for the fleet" 1 "$(token_calls)"

echo "# a message on host A, its retries on B, C, A, one after the other"
f=$(fresh)
c0=$(calls fast)
st=""
i=0
for h in 1 2 3 1; do i=$((i + 1)); st="$st$(deliver "$h" "$f" "$T/seq.$i")"; done
check "4 deliveries on hosts A, B, C, A: all 200" 200200200200 "$st"
check "... the business service was called once" 1 $(( $(calls fast) - c0 ))
check "... the four replies are identical, byte for byte" 1 "$(same "$T"/seq.?)"

echo "# the same, the four deliveries at once"
f=$(fresh)
c0=$(calls fast)
pids=""
i=0
for h in 1 2 3 1; do
    i=$((i + 1))
    deliver "$h" "$f" "$T/par.$i" > "$T/par.$i.st" &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
check "4 deliveries at once on A, B, C, A: all 200" 200200200200 "$(cat "$T"/par.?.st)"
check "... the business service was called once" 1 $(( $(calls fast) - c0 ))
check "... the four replies are identical, byte for byte" 1 "$(same "$T"/par.?)"

echo "# 200 rejection reports at once over the wxtoken of two hosts"
cur=$(WX_CONFIG=$T/h1/wx.ini "$build/wxctl" token --show 2>/dev/null)
n0=$(token_calls)
seq 1 200 | xargs -P 200 -I{} sh -c '
    h=$(( {} % 2 + 1 ))
    echo "$1" | WX_CONFIG=$2/h$h/wx.ini "$3/wxctl" token --rejected --show > "$2/rep.{}" 2>&1' \
    _ "$cur" "$T" "$build"
n1=$(token_calls)
new=$(WX_CONFIG=$T/h3/wx.ini "$build/wxctl" token --show 2>/dev/null)
check "one call to WeChat's token endpoint for 200 reports" 1 $((n1 - n0))
[ -n "$new" ] && [ "$new" != "$cur" ] && ok "... the rejected token was replaced" ||
    nok "... the rejected token was replaced" "$cur -> $new"
check "... every caller got the new token" 200 "$(cat "$T"/rep.* | grep -cx -- "$new")"
check "... and host C, with no wxtoken, reads it from Redis" 200 \
    "$(px 3 "$PXKEY" /cgi-bin/getcallbackip)"

echo "# 3 hosts x 30 calls at once on a key of rate 10, burst 10"
t0=$(date +%s%N)
pids=""
for h in 1 2 3; do
    # One curl of 30 transfers at once: a process each would be slower to
    # start than the bucket refills on a busy machine.
    args=()
    for i in $(seq 1 30); do
        args+=(-o /dev/null "http://127.0.0.1$h:$(cat "$T/h$h/port")/wxapi/cgi-bin/getcallbackip")
    done
    curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max 30 --max-time 20 \
        -w '%{http_code}\n' -H "X-Wx-Key: $LIMITKEY" "${args[@]}" > "$T/rate.$h" &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
okn=$(cat "$T"/rate.? | grep -c '^200$')
refused=$(cat "$T"/rate.? | grep -c '^429$')
bound=$(( 10 + (10 * ms + 999) / 1000 ))
echo "# 90 calls in $ms ms: $okn passed, $refused refused (bound $bound)"
check "every call answered 200 or 429" 90 $((okn + refused))
check_le "... at most 10 + 10 x seconds elapsed passed, over the three hosts" "$bound" "$okn"
[ "$okn" -ge 10 ] && ok "... the whole burst (10) passed" || nok "... the whole burst (10) passed" "$okn"

echo "# the host running a slow handler killed with SIGKILL"
# Host A now calls a business service that kills host A while A waits for
# its answer (so the kill falls inside the handler, whatever the load).
host_stop 1
biz_killer 1 || { nok "the killing business service starts"; exit 1; }
host_config 1 "$STATE" "$BIZ_killer"
host_start 1 tok || { nok "host A restarts"; exit 1; }
f=$(fresh)
c0=$(calls fast)
s0=$(date +%s%N)
st=$(deliver 1 "$f" "$T/kill.0")
check "host A's handler ran (the business called) and A died in it" "1 0" \
    "$(calls killer) $(host_alive 1)"
[ "$st" != 200 ] && ok "... WeChat got no answer from host A" ||
    nok "... WeChat got no answer from host A" "$st"
# WeChat retries after its 5 s wait.
sleep "$(awk -v t="$(( ($(date +%s%N) - s0) / 1000000 ))" 'BEGIN { w = 5000 - t; print (w > 0 ? w : 0) / 1000 }')"
st="$(deliver 2 "$f" "$T/kill.1")$(deliver 3 "$f" "$T/kill.2")$(deliver 2 "$f" "$T/kill.3")"
check "its retries on B, C, B: all 200" 200200200 "$st"
# Host A's business call was made and died with A.  A shared store cannot
# tell that call from a slow one: either the retry calls again (once), or
# it waits for the first call and the log says the message may be lost.
n=$(( $(calls fast) - c0 ))
if [ "$n" = 1 ]; then
    ok "... the first retry took the message over and called the business once"
    check "... the three replies are identical, byte for byte" 1 "$(same "$T"/kill.[123])"
elif [ "$n" = 0 ] && grep -q 'if its host died the message is lost' "$T/h2/wxfcgi.log"; then
    ok "... the retry waited for the first call and logged the message as lost"
    cmp -s "$T/kill.1" "$T/kill.2" && cmp -s "$T/kill.1" "$T/kill.3" &&
        ok "... the three replies are identical, byte for byte" ||
        nok "... the three replies are identical" "$(cat "$T"/kill.[123])"
else
    nok "... handled once or reported lost" "$n calls after the kill"
fi
grep -q 'its retry takes over' "$T/h2/wxfcgi.log" && ok "... host B logged the takeover" ||
    nok "... host B logged the takeover"

grep -qF "$PASS" "$T"/h?/*.log "$T"/h?/*.err && nok "no Redis password in any log" ||
    ok "no Redis password in any log"

echo "redis_fleet: $pass passed, $fail failed"
[ "$fail" = 0 ]
