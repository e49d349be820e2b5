#!/usr/bin/env bash
# fuzz.sh FUZZBUILD SECONDS [TARGET...] - run the libFuzzer targets of
# tests/fuzz/ (built by make fuzz into FUZZBUILD as fuzz_NAME), each for
# SECONDS, one process at a time.
#
# Seeds come from tests/fixtures (rebuilt each run in FUZZBUILD/seeds/NAME);
# what a target learns is kept in FUZZBUILD/corpus/NAME for the next run.
# A crash stops that target and leaves its input in FUZZBUILD/crashes/;
# the script fails if any target crashed.  One line a target at the end:
# executions, coverage (edges: cov, features: ft) and the corpus size.
# FUZZ_FORK=1 runs each target under -fork=1 (a crash does not end the run).
set -uo pipefail

fb=${1:?usage: fuzz.sh FUZZBUILD SECONDS [TARGET...]}
secs=${2:-60}
shift 2 || true
top=$(cd "$(dirname "$0")/.." && pwd)
fx=$top/tests/fixtures
fb=$(cd "$fb" && pwd)
targets=${*:-gateway gateway_safe decrypt query config token answers upstream}

# seed DIR NAME PREFIX-BYTES CONTENT-FILE: one seed, PREFIX (printf format) + file
seed() { { printf "$3"; cat "$4"; } > "$1/$2"; }

seeds() { # TARGET DIR
    local d=$2 f n=0 q='openid=oUserOpenId0123456789abcdef\n'
    case $1 in
    gateway|gateway_safe)
        for f in "$fx"/msg/*.xml "$fx"/hostile/*.xml; do
            n=$((n + 1))
            seed "$d" "s$n" "\\001$q" "$f"
            [ "$1" = gateway_safe ] && seed "$d" "e$n" "\\005$q" "$f"
        done
        printf '\003echostr=hello\n' > "$d/get" ;;
    decrypt)
        # FullStr before encryption: random(16), length, message, AppID,
        # PKCS#7 padding to 32 (tests/fuzz/decrypt.c encrypts it).
        python3 - "$d" "$fx"/msg/*.xml <<'PY'
import struct, sys
for i, path in enumerate(sys.argv[2:]):
    msg = open(path, "rb").read()
    full = b"0123456789abcdef" + struct.pack(">I", len(msg)) + msg + b"wx2c2769f8efd9abc2"
    pad = 32 - len(full) % 32
    open("%s/f%d" % (sys.argv[1], i), "wb").write(b"\x01" + full + bytes([pad]) * pad)
PY
        printf 'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+' > "$d/b64" ;;
    query)
        printf 'signature=16120ec1b8dbb870f510d87ce6bc2463eae6ca1a&timestamp=1409735669&nonce=1320562132&openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs&encrypt_type=aes&msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa' > "$d/safe"
        printf 'echostr=a%%20b%%2Fc&x=%%zz&&=&signature=' > "$d/escapes" ;;
    config)
        for f in "$top"/wx.ini "$top"/wx.production.ini; do
            for n in 0 1 2 3 4; do seed "$d" "$(basename "$f")-$n" "\\00$n" "$f"; done
        done ;;
    token)
        printf '\001wxtoken1 3 1714110000 1714117200 ACCESS_TOKEN_0123456789abcdef\n' > "$d/store"
        printf '\000OK 3 1714117200 ACCESS_TOKEN_0123456789abcdef\n' > "$d/ok"
        printf '\000ERR -1 no token yet\n' > "$d/err" ;;
    answers)
        printf '\000{"access_token":"ACCESS_TOKEN_0123","expires_in":7200}' > "$d/token"
        printf '\000{"errcode":40013,"errmsg":"invalid appid"}' > "$d/hard"
        printf '\001{"errcode":42001,"errmsg":"access_token expired"}' > "$d/px"
        for f in "$fx"/ctl/menu*.json "$fx"/sim/*.json; do
            n=$((n + 1)); seed "$d" "m$n" '\002' "$f"; seed "$d" "a$n" '\000' "$f"
        done ;;
    upstream)
        printf '{"type":"text","content":"hi \\u4f60\\u597d"}' > "$d/text"
        printf '{"type":"news","articles":[{"title":"T","description":"D","url":"https://a","picurl":"https://b"}]}' > "$d/news"
        printf '{"type":"music","title":"T","music_url":"u","hq_music_url":"h","thumb_media_id":"M"}' > "$d/music"
        printf '{"type":"video","media_id":"V","title":"T"}' > "$d/video"
        printf '{"type":"transfer_customer_service","kf_account":"k@t"}' > "$d/kf"
        printf '{"type":"success"}' > "$d/success" ;;
    esac
}

rc=0 summary=""
# The targets rewrite a file for each input: on a tmpfs when there is one.
work=$(mktemp -d /dev/shm/wx-fuzz.XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/wx-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$fb/crashes"
for t in $targets; do
    bin=$fb/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: $bin is missing (make fuzz builds it)" >&2; rc=1; continue; }
    rm -rf "$fb/seeds/$t"
    mkdir -p "$fb/seeds/$t" "$fb/corpus/$t"
    seeds "$t" "$fb/seeds/$t"
    echo "=== fuzz: $t for $secs s"
    extra=()
    [ "${FUZZ_FORK:-0}" = 1 ] && extra=(-fork=1 -ignore_crashes=1)
    # The targets write their temporary files under TMPDIR.
    TMPDIR=$work "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$fb/crashes/$t-" "${extra[@]}" \
        "$fb/corpus/$t" "$fb/seeds/$t" > "$work/$t.log" 2>&1
    trc=$?
    last=$(grep -E '^#[0-9]+' "$work/$t.log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -n 1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*')
    line=$(printf '%-13s %10s execs  cov %5s  ft %6s  corpus %5s' "$t" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "$(find "$fb/corpus/$t" -type f | wc -l)")
    if [ "$trc" != 0 ] || grep -q -E '^==[0-9]+==ERROR|SUMMARY: (Address|Undefined)|crash-|deadly signal' "$work/$t.log"; then
        rc=1
        line="$line  FAILED (exit $trc)"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|artifact_prefix' "$work/$t.log" | head -n 20 >&2
        cp "$work/$t.log" "$fb/crashes/$t.log"
    fi
    echo "$line"
    summary="$summary$line"$'\n'
done
echo "=== fuzz: summary ($secs s each)"
printf '%s' "$summary"
exit "$rc"
