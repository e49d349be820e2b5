/* check_crypt.c - AES-256-CBC with WeChat's 32-byte PKCS#7 (PROTOCOL.md 4),
 * against the known-answer vectors of PROTOCOL.md 4.8. */
#include <stdlib.h>

#include "tests.h"
#include "wx/proto/crypt.h"
#include "wx/core/err.h"

#define KEY_A       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define APPID_A     "wxba5fad812f8e6fb9"
#define ENCRYPT_A   "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
#define MSG_A       "{\"ToUserName\":\"gh_97417a04a28d\",\"FromUserName\":\"o9AgO5Kd5ggOC-bXrbNODIiE3bGY\",\"CreateTime\":1714112445,\"MsgType\":\"event\",\"Event\":\"debug_demo\",\"debug_str\":\"hello world\"}"
#define REPLY_A     "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="

#define KEY_B       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#define APPID_B     "wx2c2769f8efd9abc2"
#define ENCRYPT_B   "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
#define MSG_B       "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n" \
                    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n" \
                    "<CreateTime>1409735668</CreateTime>\n" \
                    "<MsgType><![CDATA[text]]></MsgType>\n" \
                    "<Content><![CDATA[abcdteT]]></Content>\n" \
                    "<MsgId>6054768590064713728</MsgId>\n</xml>"

#define APPID_C     "wxb11529c136998cb6"
#define ENCRYPT_C   "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="

static wx_pool_t pool;

static void setup(void)
{
    ck_assert_int_eq(wx_pool_init(&pool, 64 << 10), WX_OK);
}

static void teardown(void)
{
    wx_pool_free(&pool);
}

static wx_err_t decrypt(const char *key, const char *appid, const char *b64, wx_str_t *msg)
{
    wx_crypt_t c;
    wx_err_t rc;

    ck_assert_int_eq(wx_crypt_init(&c, key, appid), WX_OK);
    rc = wx_crypt_decrypt(&c, wx_str_c(b64), &pool, msg);
    wx_crypt_clear(&c);
    return rc;
}

static void expect_encrypt(const char *key, const char *appid, const char *random16,
                           wx_str_t msg, const char *want)
{
    wx_crypt_t c;
    char mem[512];
    wx_buf_t out;

    ck_assert_int_eq(wx_crypt_init(&c, key, appid), WX_OK);
    wx_buf_init(&out, mem, sizeof(mem));
    ck_assert_int_eq(wx_crypt_encrypt(&c, msg, (const unsigned char *)random16, &pool, &out),
                     WX_OK);
    ck_assert_msg(out.len == strlen(want) && memcmp(mem, want, out.len) == 0,
                  "\n got: %.*s\nwant: %s", (int)out.len, mem, want);
    wx_crypt_clear(&c);
}

START_TEST(test_key_derivation)
{
    static const unsigned char key_b[32] = {
        0x69, 0xb7, 0x1d, 0x79, 0xf8, 0x21, 0x8a, 0x39, 0x25, 0x9a, 0x7a, 0x29,
        0xaa, 0xbb, 0x2d, 0xba, 0xfc, 0x31, 0xcb, 0x3d, 0x35, 0xdb, 0x7e, 0x39,
        0xeb, 0xbf, 0x3d, 0x00, 0x10, 0x83, 0x10, 0x51,
    };
    static const unsigned char zero[32];
    wx_crypt_t c;

    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, APPID_B), WX_OK);
    ck_assert_mem_eq(c.key, key_b, 32);
    ck_assert_str_eq(c.appid, APPID_B);
    ck_assert_uint_eq(c.appid_len, 18);
    wx_crypt_clear(&c);
    ck_assert_mem_eq(c.key, zero, 32);
    ck_assert_int_eq(wx_crypt_init(&c, KEY_A, APPID_A), WX_OK);
    ck_assert_mem_eq(c.key, zero, 32);
}
END_TEST

START_TEST(test_init_refusals)
{
    wx_crypt_t c;

    ck_assert_int_eq(wx_crypt_init(&c, NULL, APPID_B), WX_EINVAL);
    ck_assert_int_eq(wx_crypt_init(&c, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", APPID_B),
                     WX_EINVAL);                                /* 42 */
    ck_assert_int_eq(wx_crypt_init(&c, KEY_B "H", APPID_B), WX_EINVAL);     /* 44 */
    ck_assert_int_eq(wx_crypt_init(&c, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=", APPID_B),
                     WX_EINVAL);
    ck_assert_int_eq(wx_crypt_init(&c, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!", APPID_B),
                     WX_EINVAL);
    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, NULL), WX_EINVAL);
    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, ""), WX_EINVAL);
    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, "wx0123456789012345678901234567890"), WX_EINVAL);
}
END_TEST

START_TEST(test_vector_a_decrypt)
{
    wx_str_t msg;

    /* pad byte 19: more than AES's own block, PROTOCOL.md 4.4 */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, ENCRYPT_A, &msg), WX_OK);
    ck_assert_uint_eq(msg.len, 167);
    ck_assert_wx_str_eq(msg, MSG_A);
    ck_assert_int_eq(msg.data[msg.len], '\0');
}
END_TEST

START_TEST(test_vector_a_reply_encrypt)
{
    expect_encrypt(KEY_A, APPID_A, "707722b803182950", WX_STR("{\"demo_resp\":\"good luck\"}"),
                   REPLY_A);
}
END_TEST

START_TEST(test_vector_b_decrypt)
{
    wx_str_t msg;

    ck_assert_int_eq(decrypt(KEY_B, APPID_B, ENCRYPT_B, &msg), WX_OK);
    ck_assert_uint_eq(msg.len, 280);
    ck_assert_wx_str_eq(msg, MSG_B);
}
END_TEST

START_TEST(test_vector_b_round_trip)
{
    wx_str_t msg;

    /* the vector's own random prefix gives the vector's own ciphertext */
    expect_encrypt(KEY_B, APPID_B, "89465c840c5f116f", WX_STR(MSG_B), ENCRYPT_B);
    ck_assert_int_eq(decrypt(KEY_B, APPID_B, ENCRYPT_B, &msg), WX_OK);
}
END_TEST

START_TEST(test_vector_c_encrypt)
{
    wx_str_t msg;

    expect_encrypt(KEY_B, APPID_C, "aaaabbbbccccdddd", WX_STR("我是中文abcd123"), ENCRYPT_C);
    ck_assert_int_eq(decrypt(KEY_B, APPID_C, ENCRYPT_C, &msg), WX_OK);
    ck_assert_wx_str_eq(msg, "我是中文abcd123");
}
END_TEST

START_TEST(test_random_prefix)
{
    wx_crypt_t c;
    char m1[256], m2[256];
    wx_buf_t o1, o2;
    wx_str_t back;
    size_t len;

    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, APPID_B), WX_OK);
    wx_buf_init(&o1, m1, sizeof(m1));
    wx_buf_init(&o2, m2, sizeof(m2));
    ck_assert_int_eq(wx_crypt_encrypt(&c, WX_STR("hello"), NULL, &pool, &o1), WX_OK);
    ck_assert_int_eq(wx_crypt_encrypt(&c, WX_STR("hello"), NULL, &pool, &o2), WX_OK);
    /* fresh randomness each time, one line of Base64 */
    ck_assert_uint_eq(o1.len, o2.len);
    ck_assert(memcmp(m1, m2, o1.len) != 0);
    for (len = 0; len < o1.len; len++)
        ck_assert_int_ne(m1[len], '\n');
    ck_assert_int_eq(wx_crypt_decrypt(&c, wx_buf_str(&o1), &pool, &back), WX_OK);
    ck_assert_wx_str_eq(back, "hello");
    wx_crypt_clear(&c);
}
END_TEST

START_TEST(test_round_trip_lengths)
{
    wx_crypt_t c;
    char text[100], mem[512];
    size_t n;

    ck_assert_int_eq(wx_crypt_init(&c, KEY_B, APPID_B), WX_OK);
    memset(text, 'x', sizeof(text));
    /* every pad length 1..32 */
    for (n = 0; n < 70; n++) {
        wx_buf_t out;
        wx_str_t back;

        wx_buf_init(&out, mem, sizeof(mem));
        ck_assert_int_eq(wx_crypt_encrypt(&c, (wx_str_t){ n, text }, NULL, &pool, &out), WX_OK);
        ck_assert_int_eq(wx_crypt_decrypt(&c, wx_buf_str(&out), &pool, &back), WX_OK);
        ck_assert_uint_eq(back.len, n);
        ck_assert(n == 0 || memcmp(back.data, text, n) == 0);
        wx_pool_reset(&pool);
    }
    wx_crypt_clear(&c);
}
END_TEST

START_TEST(test_decrypt_refusals)
{
    wx_str_t msg;

    /* the AppID after the message is not ours */
    ck_assert_int_eq(decrypt(KEY_A, "wxba5fad812f8e6fb8", ENCRYPT_A, &msg), WX_EAPPID);
    ck_assert_int_eq(decrypt(KEY_A, "wxba5fad812f8e6fb", ENCRYPT_A, &msg), WX_EAPPID);
    /* another key: garbage padding or length */
    ck_assert_int_ne(decrypt(KEY_B, APPID_A, ENCRYPT_A, &msg), WX_OK);
    /* Base64 */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "abc", &msg), WX_EBASE64);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "ab=c", &msg), WX_EBASE64);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "ab c", &msg), WX_EBASE64);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "Q===", &msg), WX_EBASE64);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "ab-_", &msg), WX_EBASE64);
    /* length: empty, 16 bytes, 33 bytes */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "", &msg), WX_ECIPHERLEN);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "AAAAAAAAAAAAAAAAAAAAAA==", &msg), WX_ECIPHERLEN);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                             &msg), WX_ECIPHERLEN);
    /* padding: a pad byte of 0, of 33, and pad bytes that disagree */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A,
        "uMMzGtqcnpOzXOYBwDQNrVnD9NyP1eUzVgEsQe3N4L0fes4XvA+tmrYeLTa546wT78vqAmveTcqqzOIAGuof0Q==",
        &msg), WX_EPADDING);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A,
        "uMMzGtqcnpOzXOYBwDQNrVnD9NyP1eUzVgEsQe3N4L0fes4XvA+tmrYeLTa546wTgLgkOe5PNrPI75feiGMUkg==",
        &msg), WX_EPADDING);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A,
        "uMMzGtqcnpOzXOYBwDQNrVnD9NyP1eUzVgEsQe3N4L0fes4XvA+tmrYeLTa546wTFSXgW/IcmzH9Mhs0mnn+Cg==",
        &msg), WX_EPADDING);
    /* msg_len past the end; nothing but padding; no room for msg_len */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A,
        "uMMzGtqcnpOzXOYBwDQNrUHzPuj3K38RmoRbjExJDuHc4GcomM96Apc4I62VUaF/1nT9Vrj/+BGojfYiM/6gfA==",
        &msg), WX_EMSGLEN);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "B0PriUAtglvWiCBPOZZjADfYO1LTPcB0i39CJF48CQo=", &msg),
                     WX_EMSGLEN);
    ck_assert_int_eq(decrypt(KEY_A, APPID_A, "uMMzGtqcnpOzXOYBwDQNrVtDlTebR8N+s2WFYZZ/ggA=", &msg),
                     WX_EMSGLEN);
    /* an empty message is fine */
    ck_assert_int_eq(decrypt(KEY_A, APPID_A,
        "uMMzGtqcnpOzXOYBwDQNrQwPwvCC1D1OC0xVfygm1PcFAcOtg1rjh1lhPdssBi9s9uwNUZTN1HkOPDbmqFwMyA==",
        &msg), WX_OK);
    ck_assert_uint_eq(msg.len, 0);
}
END_TEST

START_TEST(test_encrypt_overflow)
{
    wx_crypt_t c;
    char mem[64];
    wx_buf_t out;

    ck_assert_int_eq(wx_crypt_init(&c, KEY_A, APPID_A), WX_OK);
    /* 25 bytes of message make 64 bytes of ciphertext, 88 of Base64 */
    wx_buf_init(&out, mem, sizeof(mem));
    ck_assert_int_eq(wx_crypt_encrypt(&c, WX_STR("{\"demo_resp\":\"good luck\"}"),
                                      (const unsigned char *)"707722b803182950", &pool, &out),
                     WX_ENOMEM);
    ck_assert_int_ne(out.overflow, 0);
    wx_crypt_clear(&c);
}
END_TEST

START_TEST(test_base64_decode)
{
    unsigned char dst[16];

    ck_assert_int_eq(wx_base64_decode(dst, "TWFu", 4), 3);
    ck_assert_mem_eq(dst, "Man", 3);
    ck_assert_int_eq(wx_base64_decode(dst, "TWE=", 4), 2);
    ck_assert_mem_eq(dst, "Ma", 2);
    ck_assert_int_eq(wx_base64_decode(dst, "TQ==", 4), 1);
    ck_assert_mem_eq(dst, "M", 1);
    ck_assert_int_eq(wx_base64_decode(dst, "+/+/", 4), 3);
    ck_assert_mem_eq(dst, "\xfb\xff\xbf", 3);
    ck_assert_int_eq(wx_base64_decode(dst, "", 0), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "TWF", 3), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "T=Fu", 4), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "TW u", 4), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "TWFu\n", 5), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "Q===", 4), -1);
    ck_assert_int_eq(wx_base64_decode(dst, "====", 4), -1);
}
END_TEST

Suite *crypt_suite(void)
{
    Suite *s = suite_create("crypt");
    TCase *tc = tcase_create("crypt");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_key_derivation);
    tcase_add_test(tc, test_init_refusals);
    tcase_add_test(tc, test_vector_a_decrypt);
    tcase_add_test(tc, test_vector_a_reply_encrypt);
    tcase_add_test(tc, test_vector_b_decrypt);
    tcase_add_test(tc, test_vector_b_round_trip);
    tcase_add_test(tc, test_vector_c_encrypt);
    tcase_add_test(tc, test_random_prefix);
    tcase_add_test(tc, test_round_trip_lengths);
    tcase_add_test(tc, test_decrypt_refusals);
    tcase_add_test(tc, test_encrypt_overflow);
    tcase_add_test(tc, test_base64_decode);
    suite_add_tcase(s, tc);
    return s;
}
