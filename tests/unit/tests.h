/*
 * tests.h - the suites of the unit-test runner and the helpers they share.
 *
 * Each check_*.c file tests one module of libwx and exports one suite
 * function; check_main.c runs them all.
 */
#ifndef WX_TESTS_H
#define WX_TESTS_H

#include <stddef.h>
#include <string.h>

#include <check.h>

#include "wx/core/str.h"

Suite *str_suite(void);
Suite *core_suite(void);
Suite *query_suite(void);
Suite *sign_suite(void);
Suite *msg_suite(void);
Suite *reply_suite(void);
Suite *crypt_suite(void);
Suite *log_suite(void);
Suite *config_suite(void);
Suite *signals_suite(void);
Suite *gateway_suite(void);
Suite *token_suite(void);
Suite *dedup_suite(void);
Suite *upstream_suite(void);
Suite *ratelimit_suite(void);
Suite *store_suite(void);
Suite *store_redis_suite(void);
Suite *store_contract_suite(void);
Suite *route_suite(void);
Suite *acct_suite(void);
Suite *jssdk_suite(void);
Suite *ticket_suite(void);
Suite *metrics_suite(void);

/* A counted string equals a C string, byte for byte. */
#define ck_assert_wx_str_eq(s, lit)                                         \
    do {                                                                    \
        wx_str_t s_ = (s);                                                  \
        const char *lit_ = (lit);                                           \
        ck_assert_msg(wx_str_eq(s_, lit_),                                  \
                      "%s is \"%.*s\" (%zu bytes), want \"%s\"", #s,        \
                      (int)s_.len, s_.data ? s_.data : "(null)", s_.len,    \
                      lit_);                                                \
    } while (0)

/* An element that was absent: { 0, NULL }. */
#define ck_assert_wx_str_null(s)                                            \
    do {                                                                    \
        wx_str_t s_ = (s);                                                  \
        ck_assert_msg(s_.data == NULL && s_.len == 0,                       \
                      "%s is \"%.*s\", want absent", #s, (int)s_.len,       \
                      s_.data ? s_.data : "");                              \
    } while (0)

/* The fixtures directory: $WX_FIXTURES, or tests/fixtures. */
const char *fx_dir(void);

/* The whole of $WX_FIXTURES/REL in a malloc'ed buffer (NUL-terminated, the
 * NUL not counted in *len).  Fails the test when it cannot be read. */
char *fx_read(const char *rel, size_t *len);

/* Read a whole file, or NULL. */
char *slurp_file(const char *path, size_t *len);

/* Write 'text' to a new file made by mkstemp from 'tmpl' (a template in
 * /tmp ending in XXXXXX, changed in place).  Fails the test on error. */
void write_temp(char *tmpl, const char *text);

/* Replace every "<CreateTime>NOW</CreateTime>" of 'tmpl' by the number
 * 'now'; a malloc'ed string. */
char *reply_with_now(const char *tmpl, long long now);

#endif
