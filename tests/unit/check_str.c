/* check_str.c - counted strings, the arena and fixed-capacity buffers. */
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests.h"
#include "wx/core/err.h"
#include "wx/core/str.h"

/* ---- counted strings ------------------------------------------------- */

START_TEST(test_str_eq)
{
    ck_assert(wx_str_eq(WX_STR("abc"), "abc"));
    ck_assert(!wx_str_eq(WX_STR("abc"), "abd"));
    ck_assert(!wx_str_eq(WX_STR("abc"), "ab"));
    ck_assert(!wx_str_eq(WX_STR("ab"), "abc"));
    ck_assert(wx_str_eq(WX_NULL_STR, ""));
    ck_assert(!wx_str_eq(WX_NULL_STR, "a"));
    ck_assert_uint_eq(wx_str_c(NULL).len, 0);
    ck_assert_ptr_null(wx_str_c(NULL).data);
    ck_assert_uint_eq(wx_str_c("hello").len, 5);
}
END_TEST

START_TEST(test_str_cmp)
{
    ck_assert_int_lt(wx_str_cmp(WX_STR("a"), WX_STR("b")), 0);
    ck_assert_int_gt(wx_str_cmp(WX_STR("b"), WX_STR("a")), 0);
    ck_assert_int_eq(wx_str_cmp(WX_STR("abc"), WX_STR("abc")), 0);
    /* shorter first on a common prefix, as strcmp */
    ck_assert_int_lt(wx_str_cmp(WX_STR("ab"), WX_STR("abc")), 0);
    ck_assert_int_gt(wx_str_cmp(WX_STR("abc"), WX_STR("ab")), 0);
    ck_assert_int_eq(wx_str_cmp(WX_NULL_STR, WX_STR("")), 0);
    ck_assert_int_lt(wx_str_cmp(WX_NULL_STR, WX_STR("a")), 0);
    /* byte-wise, unsigned: 0x80 sorts after 'z', '+' before '0' */
    ck_assert_int_gt(wx_str_cmp(WX_STR("\x80"), WX_STR("z")), 0);
    ck_assert_int_lt(wx_str_cmp(WX_STR("+abc"), WX_STR("0abc")), 0);
    /* counted: bytes after len do not take part */
    ck_assert_int_eq(wx_str_cmp((wx_str_t){ 2, "abX" }, (wx_str_t){ 2, "abY" }), 0);
}
END_TEST

/* ---- the arena ------------------------------------------------------- */

START_TEST(test_pool_init_free)
{
    wx_pool_t pool;

    ck_assert_int_eq(wx_pool_init(&pool, 1024), WX_OK);
    ck_assert_ptr_nonnull(pool.base);
    ck_assert_uint_eq(pool.size, 1024);
    ck_assert_uint_eq(pool.used, 0);
    ck_assert_uint_eq(wx_pool_avail(&pool), 1024);
    wx_pool_free(&pool);
    ck_assert_ptr_null(pool.base);
    ck_assert_uint_eq(pool.size, 0);
    /* may be initialised again */
    ck_assert_int_eq(wx_pool_init(&pool, 64), WX_OK);
    ck_assert_uint_eq(pool.size, 64);
    wx_pool_free(&pool);
}
END_TEST

START_TEST(test_pool_alloc_alignment)
{
    wx_pool_t pool;
    size_t sizes[] = { 1, 3, 8, 7, 16, 5, 1, 24, 2 };
    size_t i;
    char *prev = NULL;

    ck_assert_int_eq(wx_pool_init(&pool, 4096), WX_OK);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *p = wx_pool_alloc(&pool, sizes[i]);

        ck_assert_ptr_nonnull(p);
        ck_assert_msg((uintptr_t)p % alignof(uint64_t) == 0,
                      "alloc %zu: %p not aligned for uint64_t", i, (void *)p);
        ck_assert_msg((uintptr_t)p % alignof(void *) == 0,
                      "alloc %zu: %p not aligned for a pointer", i, (void *)p);
        ck_assert_msg((uintptr_t)p % alignof(double) == 0,
                      "alloc %zu: %p not aligned for double", i, (void *)p);
        ck_assert(p >= pool.base && p + sizes[i] <= pool.base + pool.size);
        if (prev)
            ck_assert((const char *)(p) > (const char *)(prev));
        memset(p, 0xa5, sizes[i]);
        prev = p;
    }
    wx_pool_free(&pool);
}
END_TEST

/* wx/core/str.h: "'n' bytes aligned for any scalar" - long double included,
 * i.e. the alignment of max_align_t, as malloc gives. */
START_TEST(test_pool_alloc_any_scalar)
{
    wx_pool_t pool;
    int i;

    ck_assert_int_eq(wx_pool_init(&pool, 4096), WX_OK);
    for (i = 0; i < 8; i++) {
        char *c = wx_pool_alloc(&pool, 1);
        long double *ld = wx_pool_alloc(&pool, sizeof(long double));

        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_nonnull(ld);
        ck_assert_msg((uintptr_t)ld % alignof(max_align_t) == 0,
                      "%p is not aligned for max_align_t (%zu)", (void *)ld,
                      (size_t)alignof(max_align_t));
        *ld = 1.5L;
    }
    wx_pool_free(&pool);
}
END_TEST

START_TEST(test_pool_exhaustion)
{
    wx_pool_t pool;
    char *p;

    ck_assert_int_eq(wx_pool_init(&pool, 64), WX_OK);
    p = wx_pool_alloc(&pool, 64);
    ck_assert_ptr_eq(p, pool.base);
    ck_assert_uint_eq(wx_pool_avail(&pool), 0);
    ck_assert_ptr_null(wx_pool_alloc(&pool, 1));
    ck_assert_ptr_null(wx_pool_strndup(&pool, "", 0));
    /* a failed allocation takes nothing */
    ck_assert_uint_eq(pool.used, 64);

    wx_pool_reset(&pool);
    ck_assert_ptr_null(wx_pool_alloc(&pool, 65));
    ck_assert_ptr_null(wx_pool_alloc(&pool, SIZE_MAX));
    ck_assert_ptr_null(wx_pool_alloc(&pool, SIZE_MAX - 7));
    ck_assert_uint_eq(pool.used, 0);
    /* alignment padding counts: after 1 byte, the next allocation starts
     * at the alignment of max_align_t */
    ck_assert_ptr_nonnull(wx_pool_alloc(&pool, 1));
    ck_assert_ptr_null(wx_pool_alloc(&pool, 64 - alignof(max_align_t) + 1));
    ck_assert_ptr_nonnull(wx_pool_alloc(&pool, 64 - alignof(max_align_t)));
    ck_assert_uint_eq(pool.used, 64);
    wx_pool_free(&pool);
}
END_TEST

START_TEST(test_pool_reset_peak)
{
    wx_pool_t pool;
    char *a, *b;

    ck_assert_int_eq(wx_pool_init(&pool, 256), WX_OK);
    a = wx_pool_alloc(&pool, 100);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(pool.peak, 0);
    wx_pool_reset(&pool);
    ck_assert_uint_eq(pool.used, 0);
    ck_assert_uint_eq(pool.peak, 100);
    ck_assert_uint_eq(wx_pool_avail(&pool), 256);
    /* the space is handed out again from the start */
    b = wx_pool_alloc(&pool, 10);
    ck_assert_ptr_eq(a, b);
    wx_pool_reset(&pool);
    /* peak keeps the highest */
    ck_assert_uint_eq(pool.peak, 100);
    ck_assert_ptr_nonnull(wx_pool_alloc(&pool, 200));
    wx_pool_reset(&pool);
    ck_assert_uint_eq(pool.peak, 200);
    wx_pool_free(&pool);
}
END_TEST

START_TEST(test_pool_strndup)
{
    wx_pool_t pool;
    char *s, *t, *u;

    ck_assert_int_eq(wx_pool_init(&pool, 32), WX_OK);
    s = wx_pool_strndup(&pool, "hello world", 5);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "hello");
    ck_assert_uint_eq(pool.used, 6);
    /* packed, not aligned */
    t = wx_pool_strndup(&pool, "ab", 2);
    ck_assert_ptr_eq(t, s + 6);
    ck_assert_str_eq(t, "ab");
    /* an empty string is a valid (non-NULL) copy */
    u = wx_pool_strndup(&pool, NULL, 0);
    ck_assert_ptr_nonnull(u);
    ck_assert_str_eq(u, "");
    /* embedded NUL bytes are copied as they are */
    u = wx_pool_strndup(&pool, "a\0b", 3);
    ck_assert_ptr_nonnull(u);
    ck_assert_mem_eq(u, "a\0b\0", 4);
    ck_assert_uint_eq(pool.used, 6 + 3 + 1 + 4);
    /* 18 bytes left: 17 + NUL fit, 18 + NUL do not */
    ck_assert_ptr_null(wx_pool_strndup(&pool, "xxxxxxxxxxxxxxxxxx", 18));
    ck_assert_ptr_nonnull(wx_pool_strndup(&pool, "xxxxxxxxxxxxxxxxx", 17));
    ck_assert_uint_eq(wx_pool_avail(&pool), 0);
    ck_assert_ptr_null(wx_pool_strndup(&pool, "x", SIZE_MAX));
    /* the earlier copies are untouched */
    ck_assert_str_eq(s, "hello");
    ck_assert_str_eq(t, "ab");
    wx_pool_free(&pool);
}
END_TEST

/* ---- buffers --------------------------------------------------------- */

START_TEST(test_buf_append)
{
    char mem[16];
    wx_buf_t b;

    wx_buf_init(&b, mem, sizeof(mem));
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(b.overflow, 0);
    wx_buf_adds(&b, "abc");
    wx_buf_addstr(&b, WX_STR("def"));
    wx_buf_add(&b, "ghi", 2);
    wx_buf_add(&b, NULL, 0);
    wx_buf_addstr(&b, WX_NULL_STR);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_mem_eq(b.data, "abcdefgh", 8);
    ck_assert_int_eq(b.overflow, 0);
    ck_assert_uint_eq(wx_buf_str(&b).len, 8);
    ck_assert_ptr_eq(wx_buf_str(&b).data, mem);
}
END_TEST

START_TEST(test_buf_overflow_sticky)
{
    char mem[8];
    wx_buf_t b;

    wx_buf_init(&b, mem, sizeof(mem));
    wx_buf_adds(&b, "12345678");        /* exactly full */
    ck_assert_uint_eq(b.len, 8);
    ck_assert_int_eq(b.overflow, 0);
    wx_buf_adds(&b, "9");
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_uint_eq(b.len, 8);

    wx_buf_init(&b, mem, sizeof(mem));
    wx_buf_adds(&b, "12345");
    wx_buf_adds(&b, "6789");            /* does not fit: nothing written */
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_uint_eq(b.len, 5);
    /* sticky: later appends that would fit are ignored too */
    wx_buf_adds(&b, "a");
    wx_buf_addu64(&b, 1);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_mem_eq(mem, "12345", 5);
    /* init clears the flag */
    wx_buf_init(&b, mem, sizeof(mem));
    ck_assert_int_eq(b.overflow, 0);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_buf_zero_capacity)
{
    wx_buf_t b;
    char mem[1];

    wx_buf_init(&b, mem, 0);
    wx_buf_add(&b, "", 0);
    ck_assert_int_eq(b.overflow, 0);
    wx_buf_adds(&b, "x");
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

static void expect_num(void (*add)(wx_buf_t *, long long), long long v,
                       const char *want)
{
    char mem[32];
    wx_buf_t b;

    wx_buf_init(&b, mem, sizeof(mem));
    add(&b, v);
    ck_assert_int_eq(b.overflow, 0);
    ck_assert_msg(b.len == strlen(want) && memcmp(mem, want, b.len) == 0,
                  "got \"%.*s\", want \"%s\"", (int)b.len, mem, want);
}

static void addi64(wx_buf_t *b, long long v)
{
    wx_buf_addi64(b, v);
}

START_TEST(test_buf_addu64)
{
    static const struct {
        unsigned long long v;
        const char *s;
    } cases[] = {
        { 0, "0" }, { 1, "1" }, { 9, "9" }, { 10, "10" },
        { 1348831860ULL, "1348831860" },
        { 4294967296ULL, "4294967296" },
        { 18446744073709551615ULL, "18446744073709551615" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char mem[32];
        wx_buf_t b;

        wx_buf_init(&b, mem, sizeof(mem));
        wx_buf_adds(&b, "<");
        wx_buf_addu64(&b, cases[i].v);
        wx_buf_adds(&b, ">");
        ck_assert_int_eq(b.overflow, 0);
        ck_assert_uint_eq(b.len, strlen(cases[i].s) + 2);
        ck_assert_mem_eq(mem + 1, cases[i].s, strlen(cases[i].s));
        ck_assert_int_eq(mem[b.len - 1], '>');
    }
}
END_TEST

START_TEST(test_buf_addi64)
{
    expect_num(addi64, 0, "0");
    expect_num(addi64, 7, "7");
    expect_num(addi64, -1, "-1");
    expect_num(addi64, -10, "-10");
    expect_num(addi64, 1714112445LL, "1714112445");
    expect_num(addi64, -1714112445LL, "-1714112445");
    expect_num(addi64, LLONG_MAX, "9223372036854775807");
    expect_num(addi64, LLONG_MIN, "-9223372036854775808");
}
END_TEST

START_TEST(test_buf_number_overflow)
{
    char mem[4];
    wx_buf_t b;

    wx_buf_init(&b, mem, sizeof(mem));
    wx_buf_addu64(&b, 12345);
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_uint_eq(b.len, 0);

    wx_buf_init(&b, mem, sizeof(mem));
    wx_buf_addi64(&b, -1234);       /* "-" fits, the digits do not */
    ck_assert_int_ne(b.overflow, 0);
    ck_assert_uint_le(b.len, sizeof(mem));
}
END_TEST

START_TEST(test_buf_from_pool)
{
    wx_pool_t pool;
    wx_buf_t b;
    char *before, *after;

    ck_assert_int_eq(wx_pool_init(&pool, 128), WX_OK);
    before = wx_pool_strndup(&pool, "keep", 4);
    ck_assert_ptr_nonnull(before);

    /* capped by 'max' */
    ck_assert_int_eq(wx_buf_from_pool(&b, &pool, 16), WX_OK);
    ck_assert_uint_eq(b.cap, 16);
    ck_assert_ptr_eq(b.data, pool.base + pool.used);
    wx_buf_adds(&b, "0123456789abcdefX");
    ck_assert_int_ne(b.overflow, 0);

    /* the rest of the arena */
    ck_assert_int_eq(wx_buf_from_pool(&b, &pool, (size_t)-1), WX_OK);
    ck_assert_uint_eq(b.cap, 128 - 5);
    wx_buf_adds(&b, "reply");
    wx_buf_commit(&b, &pool);
    ck_assert_uint_eq(pool.used, 5 + 5);
    ck_assert_mem_eq(b.data, "reply", 5);

    /* the next allocation does not overwrite the committed bytes */
    after = wx_pool_alloc(&pool, 8);
    ck_assert_ptr_nonnull(after);
    ck_assert((const char *)(after) >= (const char *)(b.data + 5));
    memset(after, 'z', 8);
    ck_assert_mem_eq(b.data, "reply", 5);
    ck_assert_str_eq(before, "keep");

    /* a full arena has no room for a buffer */
    {
        static const char fill[128];

        ck_assert_uint_le(wx_pool_avail(&pool), sizeof(fill));
        ck_assert_ptr_nonnull(wx_pool_strndup(&pool, fill, wx_pool_avail(&pool) - 1));
    }
    ck_assert_uint_eq(wx_pool_avail(&pool), 0);
    ck_assert_int_eq(wx_buf_from_pool(&b, &pool, 100), WX_ENOMEM);
    wx_pool_free(&pool);
}
END_TEST

Suite *str_suite(void)
{
    Suite *s = suite_create("str");
    TCase *tc = tcase_create("str");

    tcase_add_test(tc, test_str_eq);
    tcase_add_test(tc, test_str_cmp);
    tcase_add_test(tc, test_pool_init_free);
    tcase_add_test(tc, test_pool_alloc_alignment);
    tcase_add_test(tc, test_pool_alloc_any_scalar);
    tcase_add_test(tc, test_pool_exhaustion);
    tcase_add_test(tc, test_pool_reset_peak);
    tcase_add_test(tc, test_pool_strndup);
    tcase_add_test(tc, test_buf_append);
    tcase_add_test(tc, test_buf_overflow_sticky);
    tcase_add_test(tc, test_buf_zero_capacity);
    tcase_add_test(tc, test_buf_addu64);
    tcase_add_test(tc, test_buf_addi64);
    tcase_add_test(tc, test_buf_number_overflow);
    tcase_add_test(tc, test_buf_from_pool);
    suite_add_tcase(s, tc);
    return s;
}
