/* check_query.c - the query string of a WeChat callback. */
#include <stdlib.h>

#include "tests.h"
#include "wx/core/err.h"
#include "wx/proto/query.h"

static wx_pool_t pool;

static void setup(void)
{
    ck_assert_int_eq(wx_pool_init(&pool, 64 << 10), WX_OK);
}

static void teardown(void)
{
    wx_pool_free(&pool);
}

static wx_err_t parse(const char *qs, wx_query_t *q)
{
    return wx_query_parse(qs, strlen(qs), &pool, q);
}

/* wx_url_decode of 'src' gives 'want' (NULL: refused). */
static void expect_decode(const char *src, const char *want, size_t wantlen)
{
    char dst[256];
    long n;

    memset(dst, 0x7f, sizeof(dst));
    n = wx_url_decode(dst, src, strlen(src));
    if (want == NULL) {
        ck_assert_msg(n == -1, "decode \"%s\": %ld, want -1", src, n);
        return;
    }
    ck_assert_msg(n == (long)wantlen, "decode \"%s\": length %ld, want %zu",
                  src, n, wantlen);
    ck_assert_msg(memcmp(dst, want, wantlen) == 0, "decode \"%s\": \"%.*s\"",
                  src, (int)n, dst);
}

START_TEST(test_decode)
{
    expect_decode("", "", 0);
    expect_decode("abc", "abc", 3);
    expect_decode("a%2Bb", "a+b", 3);
    expect_decode("a%2bb", "a+b", 3);
    expect_decode("a+b", "a b", 3);
    expect_decode("%20", " ", 1);
    expect_decode("%2F%3d%26", "/=&", 3);
    expect_decode("%E4%BD%A0%E5%A5%BD", "\xe4\xbd\xa0\xe5\xa5\xbd", 6);
    expect_decode("%ff", "\xff", 1);
    expect_decode("100%25", "100%", 4);
    expect_decode("%2525", "%25", 3);      /* decoded once only */
    /* bad escapes */
    expect_decode("%G1", NULL, 0);
    expect_decode("%1G", NULL, 0);
    expect_decode("a%", NULL, 0);
    expect_decode("a%4", NULL, 0);
    expect_decode("%", NULL, 0);
    expect_decode("%%41", NULL, 0);
    expect_decode("%-1", NULL, 0);
    expect_decode("% 1", NULL, 0);
    /* a decoded NUL */
    expect_decode("%00", NULL, 0);
    expect_decode("abc%00def", NULL, 0);
}
END_TEST

START_TEST(test_decode_counted)
{
    char dst[8];

    /* only 'len' bytes are read: the '%' past it does not count */
    ck_assert_int_eq(wx_url_decode(dst, "ab%", 2), 2);
    ck_assert_mem_eq(dst, "ab", 2);
    /* an escape cut by 'len' is bad even if the bytes follow */
    ck_assert_int_eq(wx_url_decode(dst, "a%41", 3), -1);
}
END_TEST

START_TEST(test_all_params)
{
    wx_query_t q;

    ck_assert_int_eq(parse("signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d"
                           "&timestamp=1714112445&nonce=415670741"
                           "&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes"
                           "&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
                           "&echostr=4375120948345356249", &q), WX_OK);
    ck_assert_wx_str_eq(q.signature, "6c5c811b55cc85e0e1b54100749188c20beb3f5d");
    ck_assert_wx_str_eq(q.timestamp, "1714112445");
    ck_assert_wx_str_eq(q.nonce, "415670741");
    ck_assert_wx_str_eq(q.openid, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
    ck_assert_wx_str_eq(q.encrypt_type, "aes");
    ck_assert_wx_str_eq(q.msg_signature, "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3");
    ck_assert_wx_str_eq(q.echostr, "4375120948345356249");
    /* copies in the arena are NUL-terminated */
    ck_assert_int_eq(q.nonce.data[q.nonce.len], '\0');
    ck_assert((const char *)(q.nonce.data) >= (const char *)(pool.base));
    ck_assert((const char *)(q.nonce.data) < (const char *)(pool.base + pool.size));
}
END_TEST

START_TEST(test_absent_params)
{
    wx_query_t q;

    memset(&q, 0x5a, sizeof(q));
    ck_assert_int_eq(parse("timestamp=1", &q), WX_OK);
    ck_assert_wx_str_eq(q.timestamp, "1");
    ck_assert_wx_str_null(q.signature);
    ck_assert_wx_str_null(q.nonce);
    ck_assert_wx_str_null(q.echostr);
    ck_assert_wx_str_null(q.openid);
    ck_assert_wx_str_null(q.encrypt_type);
    ck_assert_wx_str_null(q.msg_signature);

    ck_assert_int_eq(parse("", &q), WX_OK);
    ck_assert_wx_str_null(q.timestamp);
    ck_assert_int_eq(wx_query_parse("", 0, &pool, &q), WX_OK);
}
END_TEST

START_TEST(test_decoding_in_values)
{
    wx_query_t q;

    ck_assert_int_eq(parse("echostr=a%2Bb+c%2fd&nonce=%31%32", &q), WX_OK);
    ck_assert_wx_str_eq(q.echostr, "a+b c/d");
    ck_assert_wx_str_eq(q.nonce, "12");
}
END_TEST

START_TEST(test_bad_escapes_refused)
{
    wx_query_t q;

    ck_assert_int_eq(parse("echostr=%G1", &q), WX_EINVAL);
    ck_assert_int_eq(parse("nonce=1&echostr=abc%", &q), WX_EINVAL);
    ck_assert_int_eq(parse("echostr=abc%4&nonce=1", &q), WX_EINVAL);
    ck_assert_int_eq(parse("signature=%00", &q), WX_EINVAL);
    ck_assert_int_eq(parse("timestamp=1%000", &q), WX_EINVAL);
}
END_TEST

START_TEST(test_duplicates_refused)
{
    wx_query_t q;

    ck_assert_int_eq(parse("echostr=1&echostr=2", &q), WX_EINVAL);
    ck_assert_int_eq(parse("echostr=1&echostr=1", &q), WX_EINVAL);
    ck_assert_int_eq(parse("signature=a&nonce=1&signature=b", &q), WX_EINVAL);
    ck_assert_int_eq(parse("timestamp=&timestamp=1", &q), WX_EINVAL);
    ck_assert_int_eq(parse("nonce&nonce=1", &q), WX_EINVAL);
    ck_assert_int_eq(parse("msg_signature=a&msg_signature=a", &q), WX_EINVAL);
    /* unknown parameters may repeat: they are not ours */
    ck_assert_int_eq(parse("x=1&x=2&nonce=3", &q), WX_OK);
    ck_assert_wx_str_eq(q.nonce, "3");
}
END_TEST

START_TEST(test_unknown_ignored)
{
    wx_query_t q;

    ck_assert_int_eq(parse("foo=bar&nonce=7&signatures=x&Nonce=8&sig=y"
                           "&echostr2=z&_=1", &q), WX_OK);
    ck_assert_wx_str_eq(q.nonce, "7");
    ck_assert_wx_str_null(q.signature);
    ck_assert_wx_str_null(q.echostr);
}
END_TEST

START_TEST(test_empty_values)
{
    wx_query_t q;

    ck_assert_int_eq(parse("echostr=&nonce=", &q), WX_OK);
    ck_assert_ptr_nonnull(q.echostr.data);
    ck_assert_uint_eq(q.echostr.len, 0);
    ck_assert_ptr_nonnull(q.nonce.data);
    ck_assert_uint_eq(q.nonce.len, 0);
    ck_assert_wx_str_null(q.timestamp);
}
END_TEST

START_TEST(test_without_equals)
{
    wx_query_t q;

    /* a known name without '=' is present and empty */
    ck_assert_int_eq(parse("echostr&nonce=5", &q), WX_OK);
    ck_assert_ptr_nonnull(q.echostr.data);
    ck_assert_uint_eq(q.echostr.len, 0);
    ck_assert_wx_str_eq(q.nonce, "5");
    ck_assert_int_eq(parse("nonce=5&openid", &q), WX_OK);
    ck_assert_ptr_nonnull(q.openid.data);
    ck_assert_uint_eq(q.openid.len, 0);
    /* empty pieces between '&' are harmless */
    ck_assert_int_eq(parse("&&nonce=6&&", &q), WX_OK);
    ck_assert_wx_str_eq(q.nonce, "6");
    /* only the first '=' separates: the rest belongs to the value */
    ck_assert_int_eq(parse("echostr=a=b==", &q), WX_OK);
    ck_assert_wx_str_eq(q.echostr, "a=b==");
}
END_TEST

START_TEST(test_too_long)
{
    wx_query_t q;
    char *qs = malloc(WX_QUERY_MAX + 2);
    size_t i;

    ck_assert_ptr_nonnull(qs);
    memcpy(qs, "echostr=", 8);
    for (i = 8; i < WX_QUERY_MAX + 1; i++)
        qs[i] = 'a';
    qs[WX_QUERY_MAX + 1] = '\0';
    /* WX_QUERY_MAX + 1 bytes: refused */
    ck_assert_int_eq(wx_query_parse(qs, WX_QUERY_MAX + 1, &pool, &q), WX_EINVAL);
    /* WX_QUERY_MAX bytes: accepted */
    ck_assert_int_eq(wx_query_parse(qs, WX_QUERY_MAX, &pool, &q), WX_OK);
    ck_assert_uint_eq(q.echostr.len, WX_QUERY_MAX - 8);
    free(qs);
}
END_TEST

START_TEST(test_counted_input)
{
    wx_query_t q;

    /* only 'len' bytes are the query: the rest is not read */
    ck_assert_int_eq(wx_query_parse("nonce=12&echostr=x", 8, &pool, &q), WX_OK);
    ck_assert_wx_str_eq(q.nonce, "12");
    ck_assert_wx_str_null(q.echostr);
}
END_TEST

START_TEST(test_pool_exhausted)
{
    wx_pool_t small;
    wx_query_t q;

    ck_assert_int_eq(wx_pool_init(&small, 8), WX_OK);
    ck_assert_int_eq(wx_query_parse("echostr=0123456789abcdef", 24, &small, &q),
                     WX_ENOMEM);
    wx_pool_free(&small);
}
END_TEST

Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_decode_counted);
    tcase_add_test(tc, test_all_params);
    tcase_add_test(tc, test_absent_params);
    tcase_add_test(tc, test_decoding_in_values);
    tcase_add_test(tc, test_bad_escapes_refused);
    tcase_add_test(tc, test_duplicates_refused);
    tcase_add_test(tc, test_unknown_ignored);
    tcase_add_test(tc, test_empty_values);
    tcase_add_test(tc, test_without_equals);
    tcase_add_test(tc, test_too_long);
    tcase_add_test(tc, test_counted_input);
    tcase_add_test(tc, test_pool_exhausted);
    suite_add_tcase(s, tc);
    return s;
}
