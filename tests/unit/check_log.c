/* check_log.c - cleaning untrusted text and shortening OpenIDs for logs. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/log.h"

static void expect_clean(size_t cap, wx_str_t in, const char *want)
{
    char dst[256];

    memset(dst, '#', sizeof(dst));
    ck_assert_ptr_eq(wx_log_clean(dst, cap, in), dst);
    ck_assert_msg(strcmp(dst, want) == 0, "clean(cap %zu) = \"%s\", want \"%s\"", cap,
                  dst, want);
    ck_assert_uint_le(strlen(dst), cap - 1);
    /* nothing written past cap */
    ck_assert_int_eq(dst[cap], '#');
}

START_TEST(test_clean_printable)
{
    expect_clean(64, WX_STR("hello world ~!"), "hello world ~!");
    expect_clean(64, WX_STR(""), "");
    expect_clean(64, WX_NULL_STR, "");
}
END_TEST

START_TEST(test_clean_escapes)
{
    expect_clean(64, WX_STR("a\nb"), "a\\x0ab");
    expect_clean(64, WX_STR("tab\there"), "tab\\x09here");
    expect_clean(64, WX_STR("\x1b[31m"), "\\x1b[31m");
    expect_clean(64, WX_STR("\x7f"), "\\x7f");
    expect_clean(64, WX_STR("\xe4\xbd\xa0"), "\\xe4\\xbd\\xa0");
    expect_clean(64, (wx_str_t){ 3, "a\0b" }, "a\\x00b");
    /* a backslash is escaped too, so that an escape cannot be forged */
    expect_clean(64, WX_STR("a\\x41"), "a\\x5cx41");
    expect_clean(64, WX_STR("\\"), "\\x5c");
}
END_TEST

START_TEST(test_clean_truncates)
{
    char dst[64];
    const char *longs = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n;

    wx_log_clean(dst, 16, wx_str_c(longs));
    n = strlen(dst);
    ck_assert_uint_le(n, 15);
    ck_assert_str_eq(dst + n - 3, "...");
    ck_assert_int_eq(strncmp(dst, longs, n - 3), 0);

    /* escapes are not cut in the middle */
    wx_log_clean(dst, 16, WX_STR("\n\n\n\n\n\n\n\n"));
    n = strlen(dst);
    ck_assert_uint_le(n, 15);
    ck_assert_str_eq(dst + n - 3, "...");
    ck_assert_uint_eq((n - 3) % 4, 0);
    ck_assert_int_eq(strncmp(dst, "\\x0a\\x0a", 8), 0);

    /* the smallest capacity allowed */
    wx_log_clean(dst, 8, wx_str_c(longs));
    ck_assert_uint_le(strlen(dst), 7);
    ck_assert_str_eq(dst + strlen(dst) - 3, "...");
}
END_TEST

/* wx/core/log.h: "Copy at most cap-1 bytes ... truncated with "..." when too
 * long": a string that fits in cap-1 bytes is copied whole. */
START_TEST(test_clean_fits_exactly)
{
    expect_clean(16, WX_STR("abcdefghijklmno"), "abcdefghijklmno");      /* 15 */
    expect_clean(16, WX_STR("abcdefghijklm"), "abcdefghijklm");          /* 13 */
    expect_clean(16, WX_STR("abc\ndefghij"), "abc\\x0adefghij");         /* 14 */
    /* one more than fits is cut */
    {
        char dst[16];

        wx_log_clean(dst, 16, WX_STR("abcdefghijklmnop"));
        ck_assert_str_eq(dst + strlen(dst) - 3, "...");
    }
}
END_TEST

START_TEST(test_openid_short_form)
{
    char dst[32];

    ck_assert_ptr_eq(wx_log_openid(dst, sizeof(dst), WX_STR("oUserOpenId0123456789abcdef")), dst);
    ck_assert_str_eq(dst, "oUse..ef");
    wx_log_openid(dst, sizeof(dst), WX_STR("o9AgO5Kd5ggOC-bXrbNODIiE3bGY"));
    ck_assert_str_eq(dst, "o9Ag..GY");
    /* the smallest capacity allowed */
    wx_log_openid(dst, 16, WX_STR("oUserOpenId0123456789abcdef"));
    ck_assert_str_eq(dst, "oUse..ef");
}
END_TEST

START_TEST(test_openid_never_whole)
{
    char id[64], dst[32];
    size_t len, i;

    for (len = 1; len < sizeof(id); len++) {
        for (i = 0; i < len; i++)
            id[i] = (char)('A' + i % 26);
        id[len] = '\0';
        wx_log_openid(dst, sizeof(dst), (wx_str_t){ len, id });
        ck_assert_msg(strstr(dst, id) == NULL, "openid of %zu chars logged whole: %s",
                      len, dst);
        ck_assert_uint_le(strlen(dst), 15);
    }
}
END_TEST

START_TEST(test_openid_short_ones)
{
    char dst[32];

    wx_log_openid(dst, sizeof(dst), WX_STR("abc"));
    ck_assert_str_eq(dst, "(3 chars)");
    wx_log_openid(dst, sizeof(dst), WX_STR("abcdefgh"));
    ck_assert_str_eq(dst, "(8 chars)");
    /* nine is long enough to shorten: 6 of 9 shown */
    wx_log_openid(dst, sizeof(dst), WX_STR("abcdefghi"));
    ck_assert_str_eq(dst, "abcd..hi");
}
END_TEST

START_TEST(test_openid_absent)
{
    char dst[32];

    wx_log_openid(dst, sizeof(dst), WX_NULL_STR);
    ck_assert_str_eq(dst, "-");
    wx_log_openid(dst, sizeof(dst), WX_STR(""));
    ck_assert_str_eq(dst, "-");
}
END_TEST

START_TEST(test_openid_cleaned)
{
    char dst[32];

    wx_log_openid(dst, sizeof(dst), WX_STR("\n\x1b" "bcdefghij\\\x7f"));
    ck_assert_str_eq(dst, "\\x0a\\x1bbc..\\x5c\\x7f");
    ck_assert_ptr_null(strchr(dst, '\n'));
}
END_TEST

START_TEST(test_level_parse)
{
    ck_assert_int_eq(wx_log_level_parse("debug"), WX_LOG_DEBUG);
    ck_assert_int_eq(wx_log_level_parse("info"), WX_LOG_INFO);
    ck_assert_int_eq(wx_log_level_parse("warn"), WX_LOG_WARN);
    ck_assert_int_eq(wx_log_level_parse("error"), WX_LOG_ERROR);
    ck_assert_int_eq(wx_log_level_parse("warning"), -1);
    ck_assert_int_eq(wx_log_level_parse("INFO"), -1);
    ck_assert_int_eq(wx_log_level_parse(""), -1);
}
END_TEST

START_TEST(test_log_to_file)
{
    char path[] = "/tmp/wx-ut-log.XXXXXX";
    char *text;
    size_t len;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(wx_log_open(path, "ut", WX_LOG_INFO), 0);
    wx_log(WX_LOG_DEBUG, "hidden %d", 1);
    wx_log(WX_LOG_INFO, "shown %d", 2);
    wx_log(WX_LOG_ERROR, "also %s", "shown");
    wx_log_close();
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, "hidden"));
    ck_assert_ptr_nonnull(strstr(text, "ut["));
    ck_assert_ptr_nonnull(strstr(text, "info: shown 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "error: also shown\n"));
    /* one line each */
    ck_assert_int_eq(text[len - 1], '\n');
    ck_assert_ptr_eq(strchr(text, '\n'), strstr(text, "shown 2\n") + 7);
    free(text);
    unlink(path);
    /* a file that cannot be opened keeps the old target */
    ck_assert_int_eq(wx_log_open("/nonexistent-dir/x.log", "ut", WX_LOG_INFO), -1);
}
END_TEST

/* Both ways of writing a line give the same prefix, "YYYY-MM-DDTHH:MM:SS.mmmZ
 * ident[pid] level: ", and a line too long is cut, still one line. */
START_TEST(test_log_text_lines)
{
    char path[] = "/tmp/wx-ut-log.XXXXXX";
    char want[64], *text, *nl, *long_text;
    size_t len, i;
    int fd = mkstemp(path);
    unsigned y, mo, d, h, mi, sec, ms;
    char z, ident[8];
    long pid;

    ck_assert_int_ge(fd, 0);
    close(fd);
    long_text = malloc(5000);
    ck_assert_ptr_nonnull(long_text);
    memset(long_text, 'L', 5000);
    ck_assert_int_eq(wx_log_open(path, "ut", WX_LOG_INFO), 0);
    wx_log_text(WX_LOG_INFO, "made text", 9);
    wx_log_write(WX_LOG_WARN, "made %s", "by printf");
    wx_log_text(WX_LOG_INFO, long_text, 5000);
    wx_log_close();
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(text);
    for (i = 0, nl = text; i < 3; i++, nl = strchr(nl, '\n') + 1) {
        ck_assert_int_eq(sscanf(nl, "%4u-%2u-%2uT%2u:%2u:%2u.%3u%c %2[a-z][%ld]", &y, &mo, &d,
                                &h, &mi, &sec, &ms, &z, ident, &pid), 10);
        ck_assert_int_eq(z, 'Z');
        ck_assert_str_eq(ident, "ut");
        ck_assert_int_eq(pid, (long)getpid());
        ck_assert_ptr_nonnull(strchr(nl, '\n'));
    }
    snprintf(want, sizeof(want), "ut[%ld] info: made text\n", (long)getpid());
    ck_assert_ptr_nonnull(strstr(text, want));
    ck_assert_ptr_nonnull(strstr(text, "warn: made by printf\n"));
    /* the long one: cut to 1023 bytes and its newline */
    nl = strrchr(text, '\n');
    *nl = '\0';
    nl = strrchr(text, '\n') + 1;
    ck_assert_uint_eq(strlen(nl), 1023);
    ck_assert_int_eq(nl[1022], 'L');
    free(text);
    free(long_text);
    unlink(path);
}
END_TEST

START_TEST(test_log_buffered)
{
    char path[] = "/tmp/wx-ut-log.XXXXXX";
    char *text;
    size_t len;
    int fd = mkstemp(path), i;

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(wx_log_open(path, "ut", WX_LOG_INFO), 0);
    ck_assert_int_eq(wx_log_buffer(4096), 0);
    wx_log(WX_LOG_INFO, "first");
    wx_log(WX_LOG_INFO, "second");
    text = slurp_file(path, &len);
    ck_assert_uint_eq(len, 0);          /* held back */
    free(text);
    /* a warning goes out at once, after the lines before it */
    wx_log(WX_LOG_WARN, "third");
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "first"));
    ck_assert_ptr_nonnull(strstr(text, "third"));
    ck_assert(strstr(text, "first") < strstr(text, "second"));
    ck_assert(strstr(text, "second") < strstr(text, "third"));
    free(text);
    /* a full buffer is written, nothing is lost */
    for (i = 0; i < 200; i++)
        wx_log(WX_LOG_INFO, "line %03d of a batch", i);
    wx_log_flush();
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "line 000 of"));
    ck_assert_ptr_nonnull(strstr(text, "line 199 of"));
    free(text);
    wx_log(WX_LOG_INFO, "at close");
    ck_assert_int_eq(wx_log_buffer(0), 0);
    wx_log_close();
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "at close"));
    free(text);
    unlink(path);
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");

    tcase_add_test(tc, test_clean_printable);
    tcase_add_test(tc, test_clean_escapes);
    tcase_add_test(tc, test_clean_truncates);
    tcase_add_test(tc, test_clean_fits_exactly);
    tcase_add_test(tc, test_openid_short_form);
    tcase_add_test(tc, test_openid_never_whole);
    tcase_add_test(tc, test_openid_short_ones);
    tcase_add_test(tc, test_openid_absent);
    tcase_add_test(tc, test_openid_cleaned);
    tcase_add_test(tc, test_level_parse);
    tcase_add_test(tc, test_log_to_file);
    tcase_add_test(tc, test_log_buffered);
    tcase_add_test(tc, test_log_text_lines);
    suite_add_tcase(s, tc);
    return s;
}
