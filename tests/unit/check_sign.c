/* check_sign.c - signatures and the timestamp window (PROTOCOL.md 1.2, 4.5). */
#include <openssl/evp.h>

#include "tests.h"
#include "wx/core/err.h"
#include "wx/proto/sign.h"

/* Vector A: the official safe-mode example, token AAAAA. */
#define A_TOKEN     "AAAAA"
#define A_TS        "1714112445"
#define A_NONCE     "415670741"
#define A_SIG       "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
#define A_MSG_SIG   "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
#define A_ENCRYPT   "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="

/* Vector B: Tencent's WXBizMsgCrypt sample, token spamtest. */
#define B_TOKEN     "spamtest"
#define B_TS        "1409735669"
#define B_NONCE     "1320562132"
#define B_SIG       "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
#define B_MSG_SIG   "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
#define B_ENCRYPT   "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="

static void expect_sign(const wx_str_t *parts, size_t n, const char *want)
{
    char hex[WX_SIGN_HEX_LEN + 1];

    memset(hex, 'X', sizeof(hex));
    ck_assert_int_eq(wx_sign(parts, n, hex), WX_OK);
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(wx_sign_verify(parts, n, wx_str_c(want)), WX_OK);
}

START_TEST(test_vector_a_signature)
{
    wx_str_t p[3] = { WX_STR(A_TOKEN), WX_STR(A_TS), WX_STR(A_NONCE) };

    expect_sign(p, 3, A_SIG);
}
END_TEST

START_TEST(test_vector_a_msg_signature)
{
    /* Encrypt starts with '+', which sorts before the digits */
    wx_str_t p[4] = { WX_STR(A_TOKEN), WX_STR(A_TS), WX_STR(A_NONCE),
                      WX_STR(A_ENCRYPT) };

    expect_sign(p, 4, A_MSG_SIG);
}
END_TEST

START_TEST(test_vector_b_signature)
{
    wx_str_t p[3] = { WX_STR(B_TOKEN), WX_STR(B_TS), WX_STR(B_NONCE) };

    expect_sign(p, 3, B_SIG);
}
END_TEST

START_TEST(test_vector_b_msg_signature)
{
    wx_str_t p[4] = { WX_STR(B_TOKEN), WX_STR(B_TS), WX_STR(B_NONCE),
                      WX_STR(B_ENCRYPT) };

    expect_sign(p, 4, B_MSG_SIG);
}
END_TEST

START_TEST(test_other_official_examples)
{
    /* GET handshake: the nonce sorts before the timestamp */
    wx_str_t get[3] = { WX_STR("AAAAA"), WX_STR("1714036504"), WX_STR("1514711492") };
    /* plaintext POST */
    wx_str_t post[3] = { WX_STR("AAAAA"), WX_STR("1714037059"), WX_STR("486452656") };
    /* the reply half of vector A */
    wx_str_t reply[4] = { WX_STR("AAAAA"), WX_STR("1713424427"), WX_STR("415670741"),
        WX_STR("ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==") };

    expect_sign(get, 3, "f464b24fc39322e44b38aa78f5edd27bd1441696");
    expect_sign(post, 3, "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    expect_sign(reply, 4, "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1");
}
END_TEST

START_TEST(test_order_does_not_matter)
{
    wx_str_t p1[4] = { WX_STR(A_ENCRYPT), WX_STR(A_NONCE), WX_STR(A_TOKEN), WX_STR(A_TS) };
    wx_str_t p2[4] = { WX_STR(A_NONCE), WX_STR(A_TS), WX_STR(A_ENCRYPT), WX_STR(A_TOKEN) };
    wx_str_t p3[3] = { WX_STR(A_NONCE), WX_STR(A_TOKEN), WX_STR(A_TS) };

    expect_sign(p1, 4, A_MSG_SIG);
    expect_sign(p2, 4, A_MSG_SIG);
    expect_sign(p3, 3, A_SIG);
}
END_TEST

START_TEST(test_sha1_plain)
{
    /* one part: plain SHA-1 (FIPS 180 "abc"; the empty string) */
    wx_str_t abc = WX_STR("abc"), empty = WX_STR("");

    expect_sign(&abc, 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    expect_sign(&empty, 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
END_TEST

START_TEST(test_counted_parts)
{
    /* parts are counted strings: bytes past len are not hashed */
    wx_str_t p[3] = { { 5, "AAAAAxyz" }, { 10, A_TS "999" }, { 9, A_NONCE "0" } };

    expect_sign(p, 3, A_SIG);
}
END_TEST

/* The reference: one SHA-1 over the bytes as given. */
static void sha1_ref(const char *data, size_t len, unsigned char md[20])
{
    unsigned int n = 0;

    ck_assert_int_eq(EVP_Digest(data, len, md, &n, EVP_sha1(), NULL), 1);
    ck_assert_uint_eq(n, 20);
}

/* Parts short and long, around the size gathered before hashing, hash
 * as their concatenation does (sorted for a signature; with a 0x1f after
 * each for wx_sha1_parts). */
START_TEST(test_long_parts)
{
    static const size_t lens[][4] = {
        { 1, 2, 3, 4 }, { 500, 5, 6, 1 }, { 510, 1, 0, 0 }, { 511, 1, 1, 1 },
        { 512, 3, 2, 1 }, { 200, 200, 200, 200 }, { 5000, 1, 700, 3 }, { 0, 0, 0, 0 },
    };
    static char bytes[4][5001], cat[8000];
    unsigned char md[20], want[20];
    char hex[WX_SIGN_HEX_LEN + 1], want_hex[WX_SIGN_HEX_LEN + 1];
    size_t t, i, n;

    for (i = 0; i < 4; i++)
        memset(bytes[i], 'a' + (int)i, sizeof(bytes[i]));
    for (t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
        wx_str_t p[4];

        /* the parts are in sorted order ('a' < 'b' < ...), so a signature
         * is their plain concatenation */
        for (i = 0, n = 0; i < 4; i++) {
            p[i] = (wx_str_t){ lens[t][i], bytes[i] };
            memcpy(cat + n, bytes[i], lens[t][i]);
            n += lens[t][i];
        }
        sha1_ref(cat, n, want);
        for (i = 0; i < 20; i++)
            snprintf(want_hex + 2 * i, 3, "%02x", want[i]);
        ck_assert_int_eq(wx_sign(p, 4, hex), WX_OK);
        ck_assert_msg(strcmp(hex, want_hex) == 0, "signature of case %zu", t);
        for (i = 0, n = 0; i < 4; i++) {
            memcpy(cat + n, bytes[i], lens[t][i]);
            n += lens[t][i];
            cat[n++] = 0x1f;
        }
        sha1_ref(cat, n, want);
        ck_assert_int_eq(wx_sha1_parts(p, 4, md), WX_OK);
        ck_assert_msg(memcmp(md, want, 20) == 0, "digest of case %zu", t);
    }
}
END_TEST

START_TEST(test_bad_count)
{
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t p[5] = { WX_STR("a"), WX_STR("b"), WX_STR("c"), WX_STR("d"), WX_STR("e") };

    ck_assert_int_eq(wx_sign(p, 0, hex), WX_EINVAL);
    ck_assert_int_eq(wx_sign(p, 5, hex), WX_EINVAL);
    ck_assert_int_eq(wx_sign_verify(p, 5, WX_STR(A_SIG)), WX_EINVAL);
}
END_TEST

START_TEST(test_verify_refusals)
{
    wx_str_t p[3] = { WX_STR(A_TOKEN), WX_STR(A_TS), WX_STR(A_NONCE) };
    char sig[WX_SIGN_HEX_LEN + 2];
    size_t i;

    /* wrong length: one short, one long, empty, absent */
    ck_assert_int_eq(wx_sign_verify(p, 3, (wx_str_t){ 39, A_SIG }), WX_ESIGNATURE);
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_STR(A_SIG "0")), WX_ESIGNATURE);
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_STR("")), WX_ESIGNATURE);
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_NULL_STR), WX_ESIGNATURE);
    /* upper case hex is not the signature */
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_STR("6C5C811B55CC85E0E1B54100749188C20BEB3F5D")),
                     WX_ESIGNATURE);
    /* each position changed by one character */
    for (i = 0; i < WX_SIGN_HEX_LEN; i++) {
        memcpy(sig, A_SIG, WX_SIGN_HEX_LEN + 1);
        sig[i] = sig[i] == '0' ? '1' : '0';
        ck_assert_msg(wx_sign_verify(p, 3, wx_str_c(sig)) == WX_ESIGNATURE,
                      "signature changed at %zu accepted", i);
    }
    /* the right signature for other inputs */
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_STR(B_SIG)), WX_ESIGNATURE);
    /* another token */
    p[0] = WX_STR("AAAAB");
    ck_assert_int_eq(wx_sign_verify(p, 3, WX_STR(A_SIG)), WX_ESIGNATURE);
    /* splitting differently: same concatenation, other parts */
    {
        wx_str_t q[3] = { WX_STR("AAAA"), WX_STR("A" A_TS), WX_STR(A_NONCE) };

        /* sorted and joined: "415670741A1714112445AAAA", not
         * "1714112445415670741AAAAA" */
        ck_assert_int_eq(wx_sign_verify(q, 3, WX_STR(A_SIG)), WX_ESIGNATURE);
    }
}
END_TEST

/* ---- the timestamp window -------------------------------------------- */

START_TEST(test_time_inside)
{
    time_t now = 1714112445;

    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112445"), now, 300), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112145"), now, 300), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112745"), now, 300), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112444"), now, 1), WX_OK);
}
END_TEST

START_TEST(test_time_outside)
{
    time_t now = 1714112445;

    /* past */
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112144"), now, 300), WX_ESTALE);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("0"), now, 300), WX_ESTALE);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1"), now, 86400), WX_ESTALE);
    /* future */
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112746"), now, 300), WX_ESTALE);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("9223372036854775807"), now, 300),
                     WX_ESTALE);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112446"), now, 1), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1714112447"), now, 1), WX_ESTALE);
}
END_TEST

START_TEST(test_time_window_off)
{
    time_t now = 1714112445;

    ck_assert_int_eq(wx_sign_check_time(WX_STR("0"), now, 0), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("1"), now, 0), WX_OK);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("9223372036854775807"), now, 0), WX_OK);
    /* still a number, though */
    ck_assert_int_eq(wx_sign_check_time(WX_STR("abc"), now, 0), WX_EINVAL);
    ck_assert_int_eq(wx_sign_check_time(WX_STR("12345678901234567890"), now, 0),
                     WX_EINVAL);
}
END_TEST

START_TEST(test_time_not_a_number)
{
    static const char *const bad[] = {
        "", "abc", "12a", "a12", "-5", "+5", " 5", "5 ", "1.5", "0x10",
        "1714112445\n", "17141124４5",
        "12345678901234567890",                 /* 20 digits */
        "00000000000000000001714112445",        /* 29 digits */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(wx_sign_check_time(wx_str_c(bad[i]), 1714112445, 300) == WX_EINVAL,
                      "timestamp \"%s\" not refused as WX_EINVAL", bad[i]);
    ck_assert_int_eq(wx_sign_check_time(WX_NULL_STR, 1714112445, 300), WX_EINVAL);
    /* a 19-digit number that does not fit in 64 bits is refused too */
    ck_assert_int_ne(wx_sign_check_time(WX_STR("9999999999999999999"), 1714112445, 300),
                     WX_OK);
    /* leading zeros are still a decimal number of at most 19 digits */
    ck_assert_int_eq(wx_sign_check_time(WX_STR("0001714112445"), 1714112445, 300), WX_OK);
}
END_TEST

START_TEST(test_time_counted)
{
    /* only 'len' bytes are the timestamp */
    ck_assert_int_eq(wx_sign_check_time((wx_str_t){ 10, "1714112445junk" }, 1714112445, 300),
                     WX_OK);
}
END_TEST

Suite *sign_suite(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("signature");
    TCase *tt = tcase_create("timestamp");

    tcase_add_test(tc, test_vector_a_signature);
    tcase_add_test(tc, test_vector_a_msg_signature);
    tcase_add_test(tc, test_vector_b_signature);
    tcase_add_test(tc, test_vector_b_msg_signature);
    tcase_add_test(tc, test_other_official_examples);
    tcase_add_test(tc, test_order_does_not_matter);
    tcase_add_test(tc, test_sha1_plain);
    tcase_add_test(tc, test_counted_parts);
    tcase_add_test(tc, test_long_parts);
    tcase_add_test(tc, test_bad_count);
    tcase_add_test(tc, test_verify_refusals);
    suite_add_tcase(s, tc);

    tcase_add_test(tt, test_time_inside);
    tcase_add_test(tt, test_time_outside);
    tcase_add_test(tt, test_time_window_off);
    tcase_add_test(tt, test_time_not_a_number);
    tcase_add_test(tt, test_time_counted);
    suite_add_tcase(s, tt);
    return s;
}
