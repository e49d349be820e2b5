#!/usr/bin/env bash
# accounts.sh BUILD - several accounts on one stack ([account.NAME] at
# /wx/NAME) through the real path: nginx on a free loopback port, wxfcgi's
# master, wxsim push signing (and encrypting) as each account.  Three
# accounts in plain, compat and safe mode beside [wx]; each one's pushes
# verified with its own token and key and answered by its own routes; a
# push signed for another account, an unknown account and a ToUserName
# that is not the account's refused; retries de-duplicated per account; a
# reload that adds, changes and removes accounts while the others answer;
# the message fixtures replayed per account; wxsim push addressing each
# account by its original_id or --to.
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
export WX_TOP=$top
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/wx-accounts.XXXXXX")
SOCK=$T/wxfcgi.sock
PORT=$(wx_free_port)
BASE=http://127.0.0.1:$PORT
FX=$top/tests/fixtures/msg
KEY_B=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
KEY_C=ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut
MASTER="" LOADER=""
pass=0 fail=0

cleanup() {
    # shellcheck disable=SC2086
    wx_stop_pids $LOADER $MASTER
    wx_nginx_stop "$T"
    if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/e2e/tap.sh
. "$top/tests/e2e/tap.sh"

# write_config [EXTRA]: [wx], accounts a (plain, with the original ID wxsim
# pushes to), b (compat) and c (safe), their routes, and EXTRA.
write_config() {
    cat > "$T/wx.ini.new" <<CONF
[wx]
token = deftoken42
[wxfcgi]
listen = unix:$SOCK
socket_mode = 0666
workers = 2
state_dir = $T/state
log = $T/wxfcgi.log
[account.a]
token = ${TOKEN_A:-atoken42}
original_id = gh_0123456789ab
[account.b]
token = btoken42
appid = wx0123456789abcdef
encoding_aes_key = $KEY_B
mode = compat
[account.c]
token = ctoken42
appid = wxfedcba9876543210
encoding_aes_key = $KEY_C
mode = safe
[route.a_hi]
account = a
content = hi
action = text
text = A says hi to {{from}}.
[route.bc_hi]
account = b c
content = hi
action = text
text = B or C says hi.
[route.wx_hi]
account = default
content = hi
action = text
text = The default account says hi.
[route.c_image]
account = c
type = image
action = success
${1:-}
CONF
    mv "$T/wx.ini.new" "$T/wx.ini"
}

# sign TOKEN: a signed query string.
sign() {
    local ts n
    ts=$(date +%s) n=$RANDOM$RANDOM
    echo "signature=$(wx_sign "$1" "$ts" "$n")&timestamp=$ts&nonce=$n"
}

# post PATH TOKEN FILE: a plaintext push; the status printed, the body in
# $BODY ($T/body).
post() {
    curl -s -o "${BODY:-$T/body}" -w '%{http_code}' --max-time 10 -X POST --data-binary "@$3" \
        -H 'Content-Type: text/xml' "$BASE$1?$(sign "$2")"
}

# text_msg CONTENT [TO]: a text fixture with CONTENT (to TO), a fresh MsgId;
# its file's name is the calling shell's (a $(...) of its own).
n_msg=0
text_msg() {
    local f=$T/text-$BASHPID-$n_msg.xml
    n_msg=$((n_msg + 1))
    sed -e "s:<Content><!\[CDATA\[[^]]*\]\]></Content>:<Content><![CDATA[$1]]></Content>:" \
        -e "s:gh_0123456789ab:${2:-gh_0123456789ab}:" \
        -e "s:<MsgId>[0-9]*</MsgId>:<MsgId>8${BASHPID}0$RANDOM$n_msg</MsgId>:" \
        -e "s:<CreateTime>[0-9]*</CreateTime>:<CreateTime>$(date +%s)</CreateTime>:" \
        "$FX/text.xml" > "$f"
    echo "$f"
}

# sim [ACCOUNT] ARGS...: wxsim push as ACCOUNT ("" for [wx]) to its URL.
sim() {
    local acct=$1; shift
    "$build/wxsim" push -c "$T/wx.ini" --url "$BASE/wx" ${acct:+--account "$acct"} "$@"
}

scrape() { curl -s --max-time 5 "$BASE/wxfcgi/metrics"; }
metric() { scrape | awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }'; }

echo "# accounts end-to-end (nginx on 127.0.0.1:$PORT, run dir $T)"

# ---------------------------------------------------------------- checks --
write_config
out=$("$build/wxfcgi" -t -c "$T/wx.ini" 2>&1); rc=$?
check "-t accepts three accounts and their routes" 0 "$rc"
case "$out" in *"  a        /wx/a  mode plain  original_id gh_0123456789ab"*"/wx/b  mode compat"*"/wx/c  mode safe"*)
    ok "-t lists the accounts, their URLs and modes" ;; *) nok "-t lists the accounts" "$out" ;; esac
case "$out" in *"route.bc_hi"*"account=b c"*) ok "-t shows the accounts of a route" ;;
    *) nok "-t shows the accounts of a route" "$out" ;; esac
hi=$(text_msg hi)
check "-r -a a: account a's route" route.a_hi "$("$build/wxfcgi" -c "$T/wx.ini" -r "$hi" -a a 2>&1)"
check "-r -a c: the route b and c share" route.bc_hi "$("$build/wxfcgi" -c "$T/wx.ini" -r "$hi" --account c 2>&1)"
check "-r without -a: [wx]'s route" route.wx_hi "$("$build/wxfcgi" -c "$T/wx.ini" -r "$hi" 2>&1)"
check "-r -a default: [wx]'s route" route.wx_hi "$("$build/wxfcgi" -c "$T/wx.ini" -r "$hi" -a default 2>&1)"
check "-r -a c: an image takes c's route" route.c_image \
    "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/image.xml" -a c 2>&1)"
check "-r -a b: an image is not c's" default "$("$build/wxfcgi" -c "$T/wx.ini" -r "$FX/image.xml" -a b 2>&1)"
"$build/wxfcgi" -c "$T/wx.ini" -r "$hi" -a nope >/dev/null 2>&1
check "-r -a with an unknown account exits 1" 1 $?

bad_case() { # NAME EXTRA WANT: the master refuses to start, saying WANT
    write_config "$2"
    err=$(timeout 10 "$build/wxfcgi" -c "$T/wx.ini" 2>&1); rc=$?
    if [ "$rc" = 1 ] && [[ $err == *"$3"* ]]; then ok "$1"; else nok "$1" "rc $rc: $err"; fi
}
bad_case "a route naming an unknown account stops the start" \
    $'[route.x]\naccount = a zz\naction = success' "[route.x] account 'zz' is not an account"
bad_case "an account without a token stops the start" \
    $'[account.d]\nappid = wx0123456789abcdef' "[account.d] token is missing"
bad_case "an account named default stops the start" \
    $'[account.default]\ntoken = dtoken42' "the name default is [wx]'s"
bad_case "a bad account name stops the start" \
    $'[account.a.b]\ntoken = dtoken42' "[account.a.b]"
[ -S "$SOCK" ] && nok "no socket was made by a refused config" || ok "no socket was made by a refused config"

# ----------------------------------------------------------------- serve --
write_config
"$build/wxfcgi" -c "$T/wx.ini" -p "$T/master.pid" 2>>"$T/wxfcgi.log" &
MASTER=$!
wx_wait_for "$SOCK" 10 || { nok "master starts"; cat "$T/wxfcgi.log"; exit 1; }
wx_nginx_render "$T" "$PORT" "$SOCK"
wx_nginx_start "$T" || { nok "nginx starts"; exit 1; }
wx_wait_for "tcp:$PORT" 10

echo "# each account: its token, its key, its mode, its routes"
out=$(sim a --retries 0 "$(text_msg hi)" 2>&1)
check_match "a (plain): answered by a's route" '*answered after 1 attempt*A says hi to oWxsim*' "$out"
out=$(sim b --retries 0 "$(text_msg hi)" 2>&1)
check_match "b (compat): encrypted, answered by the route of b and c" '*answered after 1 attempt*B or C says hi.*' "$out"
out=$(sim c --retries 0 "$(text_msg hi)" 2>&1)
check_match "c (safe): encrypted, answered by the route of b and c" '*answered after 1 attempt*B or C says hi.*' "$out"
out=$(sim "" --retries 0 "$(text_msg hi)" 2>&1)
check_match "[wx] at /wx: its own route" '*answered after 1 attempt*The default account says hi.*' "$out"
out=$(sim c --retries 0 "$FX/image.xml" 2>&1)
check_match "c: an image takes c's route (success)" '*: success after 1 attempt*' "$out"
out=$(sim b --retries 0 "$FX/image.xml" 2>&1)
check_match "b: an image is echoed (c's route is not b's)" '*answered after 1 attempt*image*' "$out"
out=$(sim c --mode plain --retries 0 "$(text_msg hi)" 2>&1)
check_match "c is safe: a plaintext push refused (400)" '*error shown*HTTP 400*' "$out"
out=$(sim b --mode plain --retries 0 "$(text_msg hi)" 2>&1)
check_match "b is compat: a plaintext push answered" '*answered after 1 attempt*B or C says hi.*' "$out"

echo "# refusals"
out=$("$build/wxsim" push -c "$T/wx.ini" --account a --url "$BASE/wx/b" --retries 0 "$(text_msg hi)" 2>&1)
check_match "a push signed with a's token to /wx/b: 403" '*error shown*HTTP 403*' "$out"
check "... and with a's token to /wx/c (plaintext): 403" 403 "$(post /wx/c atoken42 "$(text_msg hi)")"
check "... and with b's token to /wx: 403" 403 "$(post /wx btoken42 "$(text_msg hi)")"
check "an unknown account: 404" 404 "$(post /wx/nope atoken42 "$(text_msg hi)")"
check "a path that is no account name: 404" 404 "$(post /wx/a.b atoken42 "$(text_msg hi)")"
check "a ToUserName that is not a's original_id: 400" 400 "$(post /wx/a atoken42 "$(text_msg hi gh_somebodyelse)")"
check "... the same message to its original_id: 200" 200 "$(post /wx/a atoken42 "$(text_msg hi)")"
out=$(sim a --to gh_somebodyelse --retries 0 "$(text_msg hi)" 2>&1)
check_match "wxsim push --to another original ID: 400" '*error shown*HTTP 400*' "$out"
# wxsim push addresses an account as WeChat does: to its original_id.
sed 's/^original_id = gh_0123456789ab$/original_id = gh_a1234567890a/' "$T/wx.ini" > "$T/push-a.ini"
out=$("$build/wxsim" push -c "$T/push-a.ini" --url "$BASE/wx" --account a --retries 0 "$(text_msg hi)" 2>&1)
check_match "wxsim push --account: ToUserName is the account's original_id (not the server's: 400)" \
    '*error shown*HTTP 400*' "$out"
out=$("$build/wxsim" push -c "$T/push-a.ini" --url "$BASE/wx" --account a --to gh_0123456789ab \
    --retries 0 "$(text_msg hi)" 2>&1)
check_match "... --to overrides it (answered, the reply from that ID)" '*answered after 1 attempt*A says hi*' "$out"
out=$("$build/wxsim" push -c "$T/wx.ini" --url "$BASE/wx" --to gh_bad.id "$(text_msg hi)" 2>&1)
check "wxsim push --to that is no original ID: exit 2" 2 "$?"
check_match "... saying so" "*--to takes an original ID*" "$out"
check "an account without original_id takes any ToUserName" 200 \
    "$(post /wx/b btoken42 "$(text_msg hi gh_somebodyelse)")"
check "a trailing slash names the same account" 200 "$(post /wx/a/ atoken42 "$(text_msg hi)")"
check "metrics: refusals for an unknown account" 2 "$(metric 'wxfcgi_refusals_total{reason="unknown_account"}')"
check "metrics: refusals for the original ID (post, --to, the push config's)" 3 "$(metric 'wxfcgi_refusals_total{reason="original_id"}')"
grep -q 'POST type=text from=oUse..ef result=text status=200 us=[0-9]* account=a$' "$T/wxfcgi.log" &&
    ok "the access log names the account" || nok "the access log names the account" "$(tail -n 3 "$T/wxfcgi.log")"

echo "# retries: de-duplicated per account"
same=$(text_msg "retry me")
check "a message to [wx]" 200 "$(post /wx deftoken42 "$same")"
check "the same MsgId and sender to a" 200 "$(post /wx/a atoken42 "$same")"
check "... and to b" 200 "$(post /wx/b btoken42 "$same")"
check "a retry to a" 200 "$(post /wx/a atoken42 "$same")"
sleep 0.2
seen=$(grep 'POST type=text' "$T/wxfcgi.log" | tail -n 4 |
       sed -n 's/.*result=\([a-z]*\).* account=\([a-z]*\).*/\1 \2/p' | paste -sd, -)
check "each account ran it once, the retry to a was a's replay" \
    "text default,text a,text b,replay a" "$seen"

echo "# the message fixtures, per account"
for acct in "" a b c; do
    sim "$acct" --retries 0 "$FX"/*.xml > "$T/fx-$acct.out" 2>&1
    check "every fixture to ${acct:-[wx]} answered ($(ls "$FX"/*.xml | wc -l) messages)" 0 $?
done
n=$(grep -c 'answered after 1 attempt' "$T/fx-c.out")
[ "$n" -ge 1 ] && ok "... c's replies verified and decrypted ($n answered)" ||
    nok "... c's replies answered" "$(head -n 5 "$T/fx-c.out")"

echo "# reload: add, change and remove accounts while the others answer"
: > "$T/load.out"
( i=0 BODY=$T/load.body
  while [ ! -e "$T/load.stop" ]; do
      i=$((i + 1))
      echo "a $(post /wx/a atoken42 "$(text_msg "load $i")")"
      echo "wx $(post /wx deftoken42 "$(text_msg "load $i")")"
  done >> "$T/load.out" ) &
LOADER=$!
sleep 1
write_config $'[account.d]\ntoken = dtoken42\n[route.d_hi]\naccount = d\ncontent = hi\naction = text\ntext = D is new.'
kill -HUP "$MASTER"
st=""
for _ in $(seq 1 100); do
    st=$(post /wx/d dtoken42 "$(text_msg hi)")
    [ "$st" = 200 ] && break
    sleep 0.1
done
check "HUP: an added account answers at /wx/d" 200 "$st"
grep -q 'D is new.' "$T/body" && ok "... with its own route" || nok "... with its own route" "$(cat "$T/body")"
sleep 1
touch "$T/load.stop"
wait "$LOADER"
LOADER=""
total=$(wc -l < "$T/load.out")
bad=$(grep -vc ' 200$' "$T/load.out")
[ "$total" -ge 4 ] && ok "... $total pushes made" || nok "... enough pushes" "$total"
check "... and every one answered 200" 0 "$bad"

TOKEN_A=atoken43 write_config
kill -HUP "$MASTER"
for _ in $(seq 1 100); do
    st=$(post /wx/d dtoken42 "$(text_msg hi)")
    [ "$st" = 404 ] && break
    sleep 0.1
done
check "HUP: a removed account is unknown (404)" 404 "$st"
check "... a changed token: the new one is taken" 200 "$(post /wx/a atoken43 "$(text_msg hi)")"
check "... and the old one refused" 403 "$(post /wx/a atoken42 "$(text_msg hi)")"
check "... b untouched" 200 "$(post /wx/b btoken42 "$(text_msg hi)")"

echo "# accounts: $pass passed, $fail failed"
[ "$fail" = 0 ]
