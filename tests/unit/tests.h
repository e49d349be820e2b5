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
#include <sys/types.h>

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

/* redis_server.c: a real redis-server for the store suites.
 * test_redis_bin: its path, or NULL when none is installed (the suite is
 * then skipped, saying so).  test_redis_start: one on the unix socket
 * 'sock' ('password' NULL: none), its log in 'dir'; returns when it
 * answers (the test fails after 10 s), killed with the test process.
 * test_stop_pid: SIGKILL and reap *pid when it is > 0; then it is -1. */
const char *test_redis_bin(void);
pid_t test_redis_start(const char *dir, const char *sock, const char *password);
void test_stop_pid(pid_t *pid);
void test_nap_ms(long ms);
long long test_mono_ms(void);
int test_can_connect(const char *path);

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
