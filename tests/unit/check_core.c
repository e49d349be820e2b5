/* check_core.c - the small core modules: dynbuf, clock, io, http, utf8;
 * and the FastCGI client of the tools (wx_fcgi_call) against a responder
 * forked here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/clock.h"
#include "wx/core/dynbuf.h"
#include "wx/core/http.h"
#include "wx/core/io.h"
#include "wx/core/net.h"
#include "wx/server/fcgi_call.h"

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

static int read_n(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    ssize_t r;

    while (got < n && (r = read(fd, p + got, n - got)) > 0)
        got += (size_t)r;
    return got == n ? 0 : -1;
}

static void put_record(int fd, int type, const char *p, size_t len)
{
    unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
                           (unsigned char)len, 0, 0 };

    if (wx_write_all(fd, h, 8) != 0 || (len && wx_write_all(fd, p, len) != 0))
        _exit(3);
}

/* A responder of one request: it answers 201 with "bytes=N" (the stdin it
 * got) and 70000 bytes of 'x', in records of at most 60000 bytes. */
static void responder(int lfd)
{
    static unsigned char rec[65536 + 256];
    static char out[80000];
    unsigned char h[8];
    size_t in = 0, n, off;
    int c = accept(lfd, NULL, NULL);

    if (c < 0)
        _exit(3);
    for (;;) {
        size_t len;

        if (read_n(c, h, 8) != 0)
            _exit(3);
        len = (size_t)h[4] << 8 | h[5];
        if (read_n(c, rec, len + h[6]) != 0)
            _exit(3);
        if (h[1] == 5 && len == 0)
            break;
        if (h[1] == 5)
            in += len;
    }
    n = (size_t)snprintf(out, sizeof(out), "Status: 201 Created\r\nContent-Type: text/plain"
                         "\r\n\r\nbytes=%zu\n", in);
    memset(out + n, 'x', 70000);
    n += 70000;
    for (off = 0; off < n; off += 60000)
        put_record(c, 6, out + off, n - off > 60000 ? 60000 : n - off);
    put_record(c, 3, "\0\0\0\0\0\0\0\0", 8);
    close(c);
    _exit(0);
}

START_TEST(test_fcgi_call)
{
    char path[64], addr[80], err[128];
    char *body = malloc(100000);
    wx_fcgi_answer_t ans;
    int lfd, st;
    pid_t pid;

    snprintf(path, sizeof(path), "/tmp/wx-check-fcgi.%d", (int)getpid());
    snprintf(addr, sizeof(addr), "unix:%s", path);
    lfd = wx_listen(addr, 0600);
    ck_assert_int_ge(lfd, 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        responder(lfd);
    close(lfd);
    memset(body, 'b', 100000);
    /* 100 000 bytes go in two stdin records; the answer comes in two. */
    ck_assert_int_eq(wx_fcgi_call(addr, "POST", "/sim/scan", "", body, 100000, NULL, &ans,
                                  err, sizeof(err)), 0);
    ck_assert_int_eq(ans.status, 201);
    ck_assert_uint_eq(ans.len, strlen("bytes=100000\n") + 70000);
    ck_assert(strncmp(ans.body, "bytes=100000\nxxx", 16) == 0);
    ck_assert_int_eq(ans.body[ans.len], '\0');
    free(ans.body);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(path);
    /* Nobody there: -1, and why. */
    ck_assert_int_eq(wx_fcgi_call(addr, "GET", "/", "", NULL, 0, NULL, &ans, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, strerror(ENOENT));
    ck_assert_int_eq(wx_fcgi_call("udp:1", "GET", "/", "", NULL, 0, NULL, &ans, err,
                                  sizeof(err)), -1);
    free(body);
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
    tcase_add_test(tc, test_fcgi_call);
    suite_add_tcase(s, tc);
    return s;
}
