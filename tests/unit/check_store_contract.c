/* check_store_contract.c - the state store's contract (wx/state/store.h),
 * the same tests run against each backend: the local one (tables in a
 * temporary directory) and the redis one (a real redis-server on a unix
 * socket of a temporary directory, started by each test and stopped at its
 * end, or with the test process when an assertion ends it).  Without
 * redis-server the redis half is skipped, with a message saying so.
 *
 * What a caller may rely on whatever the backend: a claim's states and
 * owner, a value byte for byte, keep_ms, a lease that ended taken over by
 * another process, one claimer of many, finishes not ours refused, a value
 * too large refused with the claim still held, a finish not waited for,
 * the token bucket's bound, records' versions, the lock, bad input. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/log.h"
#include "wx/state/store.h"

enum { B_LOCAL, B_REDIS, B_COUNT };

static const char *const backend_names[B_COUNT] = { "local", "redis" };
static char dir[64], sock[96], lease_path[96], bucket_path[96], rec_path[96];
static pid_t server_pid = -1;
static wx_store_t *st;
static wx_pool_t pool;
static wx_log_level_t saved_threshold;

static const wx_store_key_t k_a = { "contract", "a", 1 };
static const wx_store_key_t k_rec = { "contract", "", 0 };

/* Everything a test started, also when an assertion ends it (exit()). */
static void stop_all(void)
{
    char cmd[160];

    wx_store_close(st);
    st = NULL;
    test_stop_pid(&server_pid);
    if (dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "store_contract: cannot remove %s\n", dir);
        dir[0] = '\0';
    }
}

/* The store of backend 'b' in a directory of its own. */
static wx_store_t *open_backend(int b)
{
    char url[128], err[512] = "";
    wx_store_conf_t conf = {
        .backend = backend_names[b],
        .prefix = "c:",
        .lease = { lease_path, "lease table", 64, 0 },
        .bucket.path = bucket_path,
        .record = { rec_path, "record" },
        .timeout_ms = 500,
    };
    wx_store_t *s;

    if (b == B_REDIS) {
        snprintf(url, sizeof(url), "unix:%s", sock);
        conf.redis = url;
    }
    s = wx_store_open(&conf, err, sizeof(err));
    ck_assert_msg(s != NULL, "open %s: %s", backend_names[b], err);
    ck_assert_str_eq(wx_store_backend(s), backend_names[b]);
    return s;
}

static void begin(int b)
{
    static int registered;

    if (!registered++)
        atexit(stop_all);
    saved_threshold = wx_log_threshold;
    wx_log_threshold = WX_LOG_ERROR;
    strcpy(dir, "/tmp/wx-ut-contract.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(lease_path, sizeof(lease_path), "%s/lease.shm", dir);
    snprintf(bucket_path, sizeof(bucket_path), "%s/bucket.shm", dir);
    snprintf(rec_path, sizeof(rec_path), "%s/rec", dir);
    ck_assert_int_eq(wx_pool_init(&pool, 1 << 22), WX_OK);
    if (b == B_REDIS)
        server_pid = test_redis_start(dir, sock, NULL);
    st = open_backend(b);
}

static void end(void)
{
    stop_all();
    wx_pool_free(&pool);
    wx_log_threshold = saved_threshold;
}

static wx_store_state_t claim(wx_store_t *s, const wx_store_key_t *k, unsigned lease_ms,
                              wx_store_claim_t *c)
{
    wx_err_t rc = wx_store_claim(s, k, lease_ms, &pool, c);

    ck_assert_msg(rc == WX_OK, "claim: %d %s", rc, wx_store_error(s));
    return c->state;
}

/* ---- leases -------------------------------------------------------------- */

/* Claimed, held (by us: our pid), done with the value byte for byte: a
 * small one, a large one with NULs, an empty one. */
START_TEST(test_claim_hold_finish)
{
    static const size_t sizes[] = { 5, 3000, 0 };
    wx_store_claim_t c;
    char big[3000], name[8];
    size_t i, j;

    begin(_i);
    for (j = 0; j < sizeof(big); j++)
        big[j] = (char)(j * 7);         /* NULs and every byte */
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        wx_store_key_t k = { "contract", name, (size_t)snprintf(name, sizeof(name), "v%zu", i) };
        wx_str_t v = { sizes[i], i == 0 ? "hello" : big };

        ck_assert_int_eq(claim(st, &k, 60000, &c), WX_STORE_CLAIMED);
        ck_assert_int_eq(claim(st, &k, 60000, &c), WX_STORE_HELD);
        ck_assert_int_eq(c.owner, getpid());
        ck_assert_int_eq(wx_store_finish(st, &k, v, 60000), WX_OK);
        ck_assert_int_eq(claim(st, &k, 60000, &c), WX_STORE_DONE);
        ck_assert_uint_eq(c.value.len, v.len);
        ck_assert(v.len == 0 || memcmp(c.value.data, v.data, v.len) == 0);
        /* a second finish: the claim is no longer held */
        ck_assert_int_eq(wx_store_finish(st, &k, v, 60000), WX_ESTALE);
    }
    end();
}
END_TEST

/* A finish without a claim is refused; a done value is kept keep_ms and
 * then gone (never replayed), the key free again. */
START_TEST(test_unclaimed_and_keep)
{
    wx_store_claim_t c;

    begin(_i);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("x"), 60000), WX_ESTALE);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("x"), 150), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    test_nap_ms(400);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    end();
}
END_TEST

/* A lease that ended is taken over by another process, which learns
 * whose it was; the first owner's finish is then refused. */
START_TEST(test_lease_ended_taken_over)
{
    wx_store_claim_t c;
    pid_t pid;
    int status;

    begin(_i);
    ck_assert_int_eq(claim(st, &k_a, 100, &c), WX_STORE_CLAIMED);
    test_nap_ms(300);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_t *s = open_backend(_i);
        int ok = wx_store_claim(s, &k_a, 60000, &pool, &c) == WX_OK &&
                 c.state == WX_STORE_TAKEN && c.owner == getppid() &&
                 wx_store_finish(s, &k_a, WX_STR("theirs"), 60000) == WX_OK;

        wx_store_close(s);
        server_pid = -1;        /* the parent's */
        dir[0] = '\0';
        st = NULL;
        _exit(ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the takeover failed");
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("mine"), 60000), WX_ESTALE);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_str_eq(c.value.data, "theirs");
    end();
}
END_TEST

/* Of many processes claiming one key at once, exactly one gets it. */
START_TEST(test_one_claimer_of_many)
{
    enum { N = 8 };
    pid_t pids[N];
    int i, status, won = 0, held = 0;

    begin(_i);
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            wx_store_t *s = open_backend(_i);
            wx_store_claim_t c;
            int code = 3;

            if (wx_store_claim(s, &k_a, 60000, &pool, &c) == WX_OK)
                code = c.state == WX_STORE_CLAIMED ? 0 : c.state == WX_STORE_HELD ? 1 : 2;
            /* hold the key until every claimer has tried */
            test_nap_ms(300);
            wx_store_close(s);
            server_pid = -1;
            dir[0] = '\0';
            st = NULL;
            _exit(code);
        }
    }
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        won += WEXITSTATUS(status) == 0;
        held += WEXITSTATUS(status) == 1;
    }
    ck_assert_int_eq(won, 1);
    ck_assert_int_eq(held, N - 1);
    end();
}
END_TEST

/* A value larger than the backend takes is refused, the claim still held,
 * so that the caller may finish it with less. */
START_TEST(test_too_big)
{
    size_t n = WX_STORE_REDIS_VALUE_MAX + 1;
    char *big = calloc(1, n);
    wx_store_claim_t c;

    begin(_i);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(st, &k_a, (wx_str_t){ n, big }, 60000), WX_ETOOBIG);
    ck_assert_int_eq(wx_store_finish_nowait(st, &k_a, (wx_str_t){ n, big }, 60000), WX_ETOOBIG);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("less"), 60000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_str_eq(c.value.data, "less");
    free(big);
    end();
}
END_TEST

/* A finish not waited for: the next claim, on this handle or another,
 * sees the value; nothing lost. */
START_TEST(test_finish_nowait)
{
    wx_store_claim_t c;
    wx_store_t *other;

    begin(_i);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish_nowait(st, &k_a, WX_STR("sent"), 60000), WX_OK);
    other = open_backend(_i);
    c.state = WX_STORE_HELD;
    {
        long long t0 = test_mono_ms();

        /* the other handle may get there first: held, then done */
        while (claim(other, &k_a, 60000, &c) == WX_STORE_HELD && test_mono_ms() - t0 < 2000)
            test_nap_ms(5);
    }
    ck_assert_int_eq(c.state, WX_STORE_DONE);
    ck_assert_str_eq(c.value.data, "sent");
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_uint_eq(wx_store_lost(st), 0);
    wx_store_close(other);
    end();
}
END_TEST

/* ---- buckets, records, locks, bad input ---------------------------------- */

/* burst tokens at once, then a refusal that says how long to wait. */
START_TEST(test_bucket)
{
    wx_store_key_t k = { "contract", "b", 1 };
    int granted, i;
    unsigned retry;
    int64_t level;

    begin(_i);
    ck_assert_int_eq(wx_store_level(st, &k, &level), WX_EMISSING);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(wx_store_take(st, &k, 1, 3, test_mono_ms() * 1000, &granted, &retry), WX_OK);
        ck_assert_int_eq(granted, 1);
    }
    ck_assert_int_eq(wx_store_take(st, &k, 1, 3, test_mono_ms() * 1000, &granted, &retry), WX_OK);
    ck_assert_int_eq(granted, 0);
    ck_assert_uint_ge(retry, 1);
    ck_assert_uint_le(retry, 1000);
    ck_assert_int_eq(wx_store_level(st, &k, &level), WX_OK);
    ck_assert_int_lt(level, 1000000);
    end();
}
END_TEST

/* Versions only grow; the same version again only with the same value. */
START_TEST(test_record)
{
    wx_store_rec_t r, w = { 1, 100, 200, WX_STR("one") };
    char buf[64];

    begin(_i);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &r, buf, sizeof(buf)), WX_EMISSING);
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &w), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &r, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(r.version, 1);
    ck_assert_int_eq(r.obtained, 100);
    ck_assert_int_eq(r.expires, 200);
    ck_assert_str_eq(r.value.data, "one");
    w.expires = 300;
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &w), WX_OK);
    w.value = WX_STR("other");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &w), WX_ESTALE);
    w.version = 0;
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &w), WX_ESTALE);
    w.version = 2;
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &w), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &r, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(r.version, 2);
    ck_assert_int_eq(r.expires, 300);
    ck_assert_str_eq(r.value.data, "other");
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &r, buf, 3), WX_ETOOBIG);
    end();
}
END_TEST

/* One lock a handle; released, taken again. */
START_TEST(test_lock)
{
    begin(_i);
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 5000), WX_OK);
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 5000), WX_EINVAL);
    wx_store_unlock(st, &k_rec);
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 5000), WX_OK);
    wx_store_unlock(st, &k_rec);
    end();
}
END_TEST

START_TEST(test_bad_input)
{
    wx_store_key_t no_ns = { "", "a", 1 }, no_data = { "contract", NULL, 3 };
    wx_store_claim_t c;
    int granted;
    unsigned retry;

    begin(_i);
    ck_assert_int_eq(wx_store_claim(st, &no_ns, 1000, &pool, &c), WX_EINVAL);
    ck_assert_int_eq(wx_store_fail_kind(st), WX_STORE_FAIL_OTHER);
    ck_assert_int_eq(wx_store_claim(st, &no_data, 1000, &pool, &c), WX_EINVAL);
    ck_assert_int_eq(wx_store_finish(st, &k_a, (wx_str_t){ 3, NULL }, 1000), WX_EINVAL);
    ck_assert_int_eq(wx_store_take(st, &no_ns, 1, 1, 0, &granted, &retry), WX_EINVAL);
    ck_assert_str_ne(wx_store_error(st), "");
    ck_assert_uint_eq(wx_store_evictions(st), 0);
    end();
}
END_TEST

Suite *store_contract_suite(void)
{
    Suite *s = suite_create("store_contract");
    TCase *tc = tcase_create("contract");
    int n = B_COUNT;

    if (test_redis_bin() == NULL) {
        fprintf(stderr, "store_contract: the redis half SKIPPED: no redis-server installed "
                "(scripts/deps.sh build test installs it)\n");
        n = B_REDIS;
    }
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_claim_hold_finish, 0, n);
    tcase_add_loop_test(tc, test_unclaimed_and_keep, 0, n);
    tcase_add_loop_test(tc, test_lease_ended_taken_over, 0, n);
    tcase_add_loop_test(tc, test_one_claimer_of_many, 0, n);
    tcase_add_loop_test(tc, test_too_big, 0, n);
    tcase_add_loop_test(tc, test_finish_nowait, 0, n);
    tcase_add_loop_test(tc, test_bucket, 0, n);
    tcase_add_loop_test(tc, test_record, 0, n);
    tcase_add_loop_test(tc, test_lock, 0, n);
    tcase_add_loop_test(tc, test_bad_input, 0, n);
    suite_add_tcase(s, tc);
    return s;
}
