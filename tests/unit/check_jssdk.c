/* check_jssdk.c - the JS-SDK page signature (PROTOCOL.md 13). */
#include "tests.h"
#include "wx/core/err.h"
#include "wx/proto/jssdk.h"

/* The official worked example: both versions that circulated. */
#define J_TICKET    "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
#define J_NONCE     "Wm3WZYTPz0wzccnW"
#define J_TS        1414587457LL

START_TEST(test_known_answer_params)
{
    char hex[WX_JSSDK_SIG_LEN + 1];

    ck_assert_int_eq(wx_jssdk_sign(J_TICKET, J_NONCE, J_TS,
                                   "http://mp.weixin.qq.com?params=value", hex), WX_OK);
    ck_assert_str_eq(hex, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
}
END_TEST

START_TEST(test_known_answer_bare)
{
    char hex[WX_JSSDK_SIG_LEN + 1];

    ck_assert_int_eq(wx_jssdk_sign(J_TICKET, J_NONCE, J_TS, "http://mp.weixin.qq.com", hex),
                     WX_OK);
    ck_assert_str_eq(hex, "f4d90daf4b3bca3078ab155816175ba34c443a7b");
}
END_TEST

START_TEST(test_sign_refuses)
{
    char hex[WX_JSSDK_SIG_LEN + 1];

    ck_assert_int_eq(wx_jssdk_sign("", J_NONCE, J_TS, "http://a/", hex), WX_EINVAL);
    ck_assert_int_eq(wx_jssdk_sign(J_TICKET, "", J_TS, "http://a/", hex), WX_EINVAL);
    /* An '&' would make another string1 with the same signature. */
    ck_assert_int_eq(wx_jssdk_sign("a&url=x", J_NONCE, J_TS, "http://a/", hex), WX_EINVAL);
}
END_TEST

static void expect_url(const char *in, const char *want)
{
    char out[WX_JSSDK_URL_MAX + 2];

    ck_assert_int_eq(wx_jssdk_url(in, out, sizeof(out)), WX_OK);
    ck_assert_str_eq(out, want);
}

START_TEST(test_url_fragment_dropped)
{
    expect_url("https://h5.example.com/page?a=1&b=2#top", "https://h5.example.com/page?a=1&b=2");
    expect_url("https://h5.example.com/p#", "https://h5.example.com/p");
    expect_url("https://h5.example.com/p", "https://h5.example.com/p");
}
END_TEST

START_TEST(test_url_bare_host)
{
    expect_url("http://qq.com", "http://qq.com/");
    expect_url("http://qq.com#x", "http://qq.com/");
    expect_url("http://mp.weixin.qq.com?params=value", "http://mp.weixin.qq.com/?params=value");
}
END_TEST

START_TEST(test_url_refused)
{
    char out[64], longer[WX_JSSDK_URL_MAX + 16];

    ck_assert_int_eq(wx_jssdk_url("ftp://x/", out, sizeof(out)), WX_EINVAL);
    ck_assert_int_eq(wx_jssdk_url("https://", out, sizeof(out)), WX_EINVAL);
    ck_assert_int_eq(wx_jssdk_url("https:///path", out, sizeof(out)), WX_EINVAL);
    ck_assert_int_eq(wx_jssdk_url("https://a b/", out, sizeof(out)), WX_EINVAL);
    ck_assert_int_eq(wx_jssdk_url("/relative", out, sizeof(out)), WX_EINVAL);
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "https://x/", 10);
    ck_assert_int_eq(wx_jssdk_url(longer, out, sizeof(out)), WX_ETOOBIG);
    ck_assert_int_eq(wx_jssdk_url("https://example.com/a-rather-long-path/for/this-buffer",
                                  out, 20), WX_ETOOBIG);
}
END_TEST

START_TEST(test_nonce)
{
    char a[WX_JSSDK_NONCE_LEN + 1], b[WX_JSSDK_NONCE_LEN + 1];
    size_t i;

    ck_assert_int_eq(wx_jssdk_nonce(a), WX_OK);
    ck_assert_int_eq(wx_jssdk_nonce(b), WX_OK);
    ck_assert_uint_eq(strlen(a), WX_JSSDK_NONCE_LEN);
    for (i = 0; i < WX_JSSDK_NONCE_LEN; i++)
        ck_assert_msg((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'z') ||
                      (a[i] >= 'A' && a[i] <= 'Z'), "nonce %s has '%c'", a, a[i]);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *jssdk_suite(void)
{
    Suite *s = suite_create("jssdk");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_known_answer_params);
    tcase_add_test(tc, test_known_answer_bare);
    tcase_add_test(tc, test_sign_refuses);
    tcase_add_test(tc, test_url_fragment_dropped);
    tcase_add_test(tc, test_url_bare_host);
    tcase_add_test(tc, test_url_refused);
    tcase_add_test(tc, test_nonce);
    suite_add_tcase(s, tc);
    return s;
}
