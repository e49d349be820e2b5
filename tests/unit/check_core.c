/* check_core.c - the small core modules: dynbuf, clock, io, http, utf8. */
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/clock.h"
#include "wx/core/dynbuf.h"
#include "wx/core/http.h"
#include "wx/core/io.h"

START_TEST(test_dynbuf_grows_to_max)
{
    wx_dynbuf_t b;
    char chunk[100];
    int i;

    memset(chunk, 'x', sizeof(chunk));
    wx_dynbuf_init(&b, 1000);
    ck_assert_ptr_null(b.data);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(wx_dynbuf_add(&b, chunk, sizeof(chunk)), 0);
    ck_assert_uint_eq(b.len, 1000);
    ck_assert_uint_le(b.cap, 1001);
    ck_assert_int_eq(b.data[1000], '\0');
    ck_assert_int_eq(b.too_big, 0);
    /* One byte more is refused whole, and marks the buffer. */
    ck_assert_int_eq(wx_dynbuf_add(&b, "y", 1), -1);
    ck_assert_int_eq(b.too_big, 1);
    ck_assert_uint_eq(b.len, 1000);
    wx_dynbuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_dynbuf_refuses_whole_piece)
{
    wx_dynbuf_t b;
    char *t;

    wx_dynbuf_init(&b, 10);
    ck_assert_int_eq(wx_dynbuf_add(&b, "hello", 5), 0);
    ck_assert_int_eq(wx_dynbuf_add(&b, "world!", 6), -1);
    ck_assert_str_eq(b.data, "hello");
    /* A size that would overflow len + n is refused, not wrapped. */
    ck_assert_int_eq(wx_dynbuf_add(&b, "x", (size_t)-1), -1);
    ck_assert_uint_eq(wx_dynbuf_curl_sink((char *)"abcde", 1, 5, &b), 5);
    ck_assert_uint_eq(wx_dynbuf_curl_sink((char *)"z", 1, 1, &b), 0);
    t = wx_dynbuf_take(&b);
    ck_assert_str_eq(t, "helloabcde");
    ck_assert_ptr_null(b.data);
    free(t);
}
END_TEST

START_TEST(test_dynbuf_reserve)
{
    wx_dynbuf_t b;
    char *before;

    wx_dynbuf_init(&b, 4096);
    ck_assert_int_eq(wx_dynbuf_reserve(&b), 0);
    before = b.data;
    ck_assert_uint_eq(b.cap, 4097);
    ck_assert_int_eq(wx_dynbuf_add(&b, "abc", 3), 0);
    ck_assert_ptr_eq(b.data, before);
    wx_dynbuf_free(&b);
}
END_TEST

START_TEST(test_http_reason)
{
    ck_assert_str_eq(wx_http_reason(200), "OK");
    ck_assert_str_eq(wx_http_reason(405), "Method Not Allowed");
    ck_assert_str_eq(wx_http_reason(500), "Internal Server Error");
    ck_assert_str_eq(wx_http_reason(504), "Gateway Timeout");
    ck_assert_str_eq(wx_http_reason(204), "OK");
    ck_assert_str_eq(wx_http_reason(418), "Error");
}
END_TEST

START_TEST(test_utf8_chars)
{
    ck_assert_uint_eq(wx_utf8_chars(""), 0);
    ck_assert_uint_eq(wx_utf8_chars("abc"), 3);
    ck_assert_uint_eq(wx_utf8_chars("\xe4\xbd\xa0\xe5\xa5\xbd"), 2);
    ck_assert_uint_eq(wx_utf8_chars("a\xf0\x9f\x98\x80z"), 3);
}
END_TEST

START_TEST(test_write_all_and_clock)
{
    int fd[2];
    char got[8] = { 0 };
    int64_t t0 = wx_now_ms();

    ck_assert_int_eq(pipe(fd), 0);
    ck_assert_int_eq(wx_write_all(fd[1], "abcdef", 6), 0);
    ck_assert_int_eq(read(fd[0], got, sizeof(got)), 6);
    ck_assert_str_eq(got, "abcdef");
    close(fd[0]);
    close(fd[1]);
    ck_assert_int_eq(wx_write_all(fd[1], "x", 1), -1);
    ck_assert_int_ge(wx_now_ms(), t0);
    ck_assert_int_gt(wx_wall_ms(), (int64_t)1700000000 * 1000);
}
END_TEST

Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_dynbuf_grows_to_max);
    tcase_add_test(tc, test_dynbuf_refuses_whole_piece);
    tcase_add_test(tc, test_dynbuf_reserve);
    tcase_add_test(tc, test_http_reason);
    tcase_add_test(tc, test_utf8_chars);
    tcase_add_test(tc, test_write_all_and_clock);
    suite_add_tcase(s, tc);
    return s;
}
