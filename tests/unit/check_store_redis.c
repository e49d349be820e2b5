/* check_store_redis.c - the state store's operations on the redis backend
 * (wx/state/store.h), against a real redis-server started by each test on
 * a unix socket in a temporary directory: the operations of check_store.c,
 * then a wrong password, a server stopped and started mid-use, one that
 * never answers and one that answers garbage.  Without redis-server the
 * suite is skipped, with a message. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <string.h>

#include "tests.h"
#include "wx/core/log.h"
#include "wx/state/store.h"

static char dir[64], sock[96], fake_sock[96];
static pid_t server_pid = -1, fake_pid = -1;
static wx_store_t *st;
static wx_pool_t pool;
static wx_log_level_t saved_threshold;

static const wx_store_key_t k_a = { "test", "a", 1 };
static const wx_store_key_t k_rec = { "test", "", 0 };

static int wait_exit(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void stop_server(void)
{
    test_stop_pid(&server_pid);
    unlink(sock);
}

/* A failed assertion ends a forked test without its teardown: the
 * servers go with the process. */
static void at_exit(void)
{
    test_stop_pid(&server_pid);
    test_stop_pid(&fake_pid);
}

static wx_store_t *open_redis(const char *url, const char *password, char *err, size_t len)
{
    wx_store_conf_t conf = {
        .backend = "redis",
        .prefix = "t:",
        .lease.name = "lease table",
        .record.name = "record",
        .redis = url,
        .password = password,
        .timeout_ms = 200,
    };

    err[0] = '\0';
    return wx_store_open(&conf, err, len);
}

static wx_store_t *open_store(void)
{
    char url[160], err[512];
    wx_store_t *s;

    snprintf(url, sizeof(url), "unix:%s", sock);
    s = open_redis(url, NULL, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

static void setup(void)
{
    static int registered;

    saved_threshold = wx_log_threshold;
    wx_log_threshold = WX_LOG_ERROR;
    if (!registered++)
        atexit(at_exit);
    strcpy(dir, "/tmp/wx-ut-redis.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(fake_sock, sizeof(fake_sock), "%s/fake.sock", dir);
    ck_assert_int_eq(wx_pool_init(&pool, 1 << 22), WX_OK);
    server_pid = test_redis_start(dir, sock, NULL);
    st = open_store();
}

static void teardown(void)
{
    char cmd[160];

    wx_store_close(st);
    st = NULL;
    stop_server();
    test_stop_pid(&fake_pid);
    wx_pool_free(&pool);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
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

START_TEST(test_lease_claim_finish_read)
{
    static const char bin[] = { 'k', 0, 'e', 0, 'y' };
    wx_store_key_t kb = { "test", bin, sizeof(bin) }, kb2 = { "test", bin, 3 };
    wx_store_key_t other = { "test", "never", 5 };
    wx_store_claim_t c;
    unsigned used;
    unsigned long early;
    size_t big_len = 300 * 1024;
    char *big = malloc(WX_STORE_REDIS_VALUE_MAX + 1);

    ck_assert_str_eq(wx_store_backend(st), "redis");
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(c.owner, (long)getpid());
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("value a"), 30000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "value a");
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("again"), 30000), WX_ESTALE);
    ck_assert_int_eq(wx_store_finish(st, &other, WX_STR("x"), 1000), WX_ESTALE);
    ck_assert_int_eq(wx_store_lease_stats(st, &used, &early), WX_ECONFIG);
    /* binary keys, another namespace */
    ck_assert_int_eq(claim(st, &kb, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &kb2, 60000, &c), WX_STORE_CLAIMED);
    {
        wx_store_key_t ns = { "other", "a", 1 };

        ck_assert_int_eq(claim(st, &ns, 60000, &c), WX_STORE_CLAIMED);
    }
    /* values of any bytes and size up to the bound; over it, refused and
     * the claim still held */
    ck_assert_ptr_nonnull(big);
    memset(big, 0, WX_STORE_REDIS_VALUE_MAX + 1);
    memcpy(big + 1000, "\xff\r\n", 3);
    ck_assert_int_eq(wx_store_finish(st, &kb, (wx_str_t){ WX_STORE_REDIS_VALUE_MAX + 1, big },
                                     1000), WX_ETOOBIG);
    ck_assert_int_eq(claim(st, &kb, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(wx_store_finish(st, &kb, (wx_str_t){ big_len, big }, 10000), WX_OK);
    ck_assert_int_eq(claim(st, &kb, 60000, &c), WX_STORE_DONE);
    ck_assert_uint_eq(c.value.len, big_len);
    ck_assert_int_eq(memcmp(c.value.data, big, big_len), 0);
    ck_assert_int_eq(claim(st, &kb2, 60000, &c), WX_STORE_HELD);
    free(big);
    /* a done value is gone after keep_ms: the key is free again */
    ck_assert_int_eq(wx_store_finish(st, &kb2, WX_STR("short"), 100), WX_OK);
    test_nap_ms(150);
    ck_assert_int_eq(claim(st, &kb2, 60000, &c), WX_STORE_CLAIMED);
}
END_TEST

/* A live owner whose lease ran out is taken over; its finish is refused. */
START_TEST(test_lease_expires)
{
    enum { LEASE = 300 };
    wx_store_claim_t c;
    int up[2], down[2];
    pid_t pid;
    char b;

    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_t *mine = open_store();
        wx_store_claim_t cc;
        int rc;

        if (wx_store_claim(mine, &k_a, LEASE, &pool, &cc) != WX_OK ||
            cc.state != WX_STORE_CLAIMED || write(up[1], "c", 1) != 1 ||
            read(down[0], &b, 1) != 1)
            _exit(2);
        rc = wx_store_finish(mine, &k_a, WX_STR("late"), 1000);
        _exit(rc == WX_ESTALE ? 0 : 1);
    }
    ck_assert_int_eq(read(up[0], &b, 1), 1);
    if (claim(st, &k_a, 60000, &c) == WX_STORE_HELD) {
        ck_assert_int_eq(c.owner, (long)pid);
        test_nap_ms(LEASE + 50);
        ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_TAKEN);
    }
    ck_assert_int_eq(c.state, WX_STORE_TAKEN);
    ck_assert_int_eq(c.owner, (long)pid);
    ck_assert_int_eq(write(down[1], "f", 1), 1);
    ck_assert_int_eq(wait_exit(pid), 0);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("mine"), 1000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "mine");
}
END_TEST

/* A caller killed with SIGKILL holding a lease: held until the lease
 * ends (no pid check across hosts), then taken over. */
START_TEST(test_lease_owner_killed)
{
    enum { LEASE = 400 };
    wx_store_claim_t c;
    long long t0;
    int p[2];
    pid_t pid;
    char b;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_t *mine = open_store();
        wx_store_claim_t cc;

        if (wx_store_claim(mine, &k_a, LEASE, &pool, &cc) != WX_OK ||
            cc.state != WX_STORE_CLAIMED || write(p[1], "c", 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(p[0], &b, 1), 1);
    t0 = test_mono_ms();
    kill(pid, SIGKILL);
    ck_assert_int_eq(wait_exit(pid), 128 + SIGKILL);
    while (claim(st, &k_a, 60000, &c) == WX_STORE_HELD) {
        ck_assert_int_eq(c.owner, (long)pid);
        ck_assert_int_lt(test_mono_ms() - t0, LEASE + 1000);
        test_nap_ms(20);
    }
    ck_assert_int_eq(c.state, WX_STORE_TAKEN);
    ck_assert_int_eq(c.owner, (long)pid);
    ck_assert_int_ge(test_mono_ms() - t0, LEASE - 100);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(c.owner, (long)getpid());
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("after"), 1000), WX_OK);
}
END_TEST

START_TEST(test_lease_one_claimer_wins)
{
    enum { ROUNDS = 20, PROCS = 3 };
    int go[2], i, r;

    for (r = 0; r < ROUNDS; r++) {
        wx_store_key_t k = { "race", &r, sizeof(r) };
        pid_t pids[PROCS];
        int won = 0;

        ck_assert_int_eq(pipe(go), 0);
        for (i = 0; i < PROCS; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                wx_store_t *mine = open_store();
                wx_store_claim_t cc;
                char b;

                close(go[1]);
                if (read(go[0], &b, 1) != 0)
                    _exit(3);
                if (wx_store_claim(mine, &k, 60000, &pool, &cc) != WX_OK)
                    _exit(2);
                if (cc.state == WX_STORE_HELD || cc.state == WX_STORE_DONE)
                    _exit(1);
                _exit(cc.state == WX_STORE_CLAIMED &&
                      wx_store_finish(mine, &k, WX_STR("won"), 10000) == WX_OK ? 0 : 2);
            }
        }
        close(go[0]);
        close(go[1]);
        for (i = 0; i < PROCS; i++) {
            int code = wait_exit(pids[i]);

            ck_assert_int_le(code, 1);
            won += code == 0;
        }
        ck_assert_int_eq(won, 1);
    }
}
END_TEST

/* ---- buckets ------------------------------------------------------------- */

START_TEST(test_bucket_take)
{
    int64_t level;
    unsigned retry = 0;
    int granted, i, n = 0;

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(wx_store_take(st, &k_a, 2, 3, 0, &granted, &retry), WX_OK);
        n += granted;
    }
    ck_assert_int_eq(n, 3);
    /* about half a second to the next token, less what passed */
    ck_assert_uint_le(retry, 500);
    ck_assert_uint_ge(retry, 300);
    ck_assert_int_eq(wx_store_level(st, &k_a, &level), WX_OK);
    ck_assert_int_lt(level, 1000000);
    test_nap_ms(retry + 20);
    ck_assert_int_eq(wx_store_take(st, &k_a, 2, 3, 0, &granted, &retry), WX_OK);
    ck_assert_int_eq(granted, 1);
    ck_assert_int_eq(wx_store_take(st, &k_a, 0, 3, 0, &granted, &retry), WX_OK);
    ck_assert_int_eq(granted, 0);
    ck_assert_uint_eq(retry, 1000);
    {
        wx_store_key_t k = { "other", "a", 1 };

        ck_assert_int_eq(wx_store_level(st, &k, &level), WX_EMISSING);
    }
}
END_TEST

/* Four processes take as fast as they can: never more than the burst
 * plus what the rate adds over the time it took. */
START_TEST(test_bucket_bound_across_processes)
{
    enum { PROCS = 4, TAKES = 150 };
    wx_store_key_t k = { "bound", "real", 4 };
    pid_t pids[PROCS];
    long long t0, t1;
    int i, total = 0;

    t0 = test_mono_ms();
    for (i = 0; i < PROCS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            wx_store_t *mine = open_store();
            unsigned retry;
            int n = 0, j, granted;

            for (j = 0; j < TAKES; j++) {
                if (wx_store_take(mine, &k, 50, 20, 0, &granted, &retry) != WX_OK)
                    _exit(255);
                n += granted;
            }
            _exit(n > 254 ? 254 : n);
        }
    }
    for (i = 0; i < PROCS; i++) {
        int code = wait_exit(pids[i]);

        ck_assert_int_lt(code, 255);
        total += code;
    }
    t1 = test_mono_ms();
    ck_assert_int_ge(total, 20);
    ck_assert_int_le(total, 20 + 50 * (t1 - t0 + 999) / 1000);
}
END_TEST

/* ---- records ------------------------------------------------------------- */

static wx_store_rec_t rec(unsigned long version, const char *value)
{
    wx_store_rec_t r = { version, 1700000000, 1700007200, wx_str_c(value) };

    return r;
}

START_TEST(test_record_versions)
{
    wx_store_rec_t in = rec(1, "one"), out;
    char buf[64];

    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_EMISSING);
    in = rec(0, "zero");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    in = rec(1, "one");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(out.version, 1);
    ck_assert_int_eq((long)out.obtained, 1700000000);
    ck_assert_int_eq((long)out.expires, 1700007200);
    ck_assert_wx_str_eq(out.value, "one");
    in = rec(1, "uno");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    in = rec(1, "one");
    in.expires += 100;
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_int_eq((long)out.expires, 1700007300);
    in = rec(0, "zero");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    /* 10 > 9 as numbers, not as strings */
    in = rec(9, "nine");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    in = rec(10, "two words and \x01 bytes");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    in = rec(9, "nine");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(out.version, 10);
    ck_assert_wx_str_eq(out.value, "two words and \x01 bytes");
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, 3), WX_ETOOBIG);
}
END_TEST

START_TEST(test_record_one_writer_wins)
{
    enum { ROUNDS = 15 };
    int go[2], i, r;

    for (r = 1; r <= ROUNDS; r++) {
        pid_t pids[2];
        int won = -1;
        wx_store_rec_t out;
        char buf[64], want[32];

        ck_assert_int_eq(pipe(go), 0);
        for (i = 0; i < 2; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                wx_store_t *mine = open_store();
                char value[32], b;
                wx_store_rec_t in;
                wx_err_t rc;

                snprintf(value, sizeof(value), "w%d-r%d", i, r);
                in = rec((unsigned long)r, value);
                close(go[1]);
                if (read(go[0], &b, 1) != 0)
                    _exit(3);
                rc = wx_store_rec_replace(mine, &k_rec, &in);
                _exit(rc == WX_OK ? 0 : rc == WX_ESTALE ? 1 : 2);
            }
        }
        close(go[0]);
        close(go[1]);
        for (i = 0; i < 2; i++) {
            int code = wait_exit(pids[i]);

            ck_assert_int_le(code, 1);
            if (code == 0) {
                ck_assert_int_eq(won, -1);
                won = i;
            }
        }
        ck_assert_int_ge(won, 0);
        ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
        ck_assert_uint_eq(out.version, (unsigned long)r);
        snprintf(want, sizeof(want), "w%d-r%d", won, r);
        ck_assert_wx_str_eq(out.value, want);
    }
}
END_TEST

/* The lock keeps a second holder out until the first lets go or its
 * lease ends; a holder whose lease ran out cannot write (fencing) nor
 * release the new holder's lock. */
START_TEST(test_record_lock_fencing)
{
    wx_store_rec_t in;
    wx_store_t *other = open_store();
    long long t0;
    int p[2];
    pid_t pid;
    char b;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_t *mine = open_store();

        if (wx_store_lock(mine, &k_rec, 60000) != WX_OK || write(p[1], "l", 1) != 1)
            _exit(2);
        test_nap_ms(300);
        wx_store_unlock(mine, &k_rec);
        _exit(0);
    }
    ck_assert_int_eq(read(p[0], &b, 1), 1);
    t0 = test_mono_ms();
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 60000), WX_OK);
    ck_assert_int_ge(test_mono_ms() - t0, 200);
    ck_assert_int_eq(wait_exit(pid), 0);
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 60000), WX_EINVAL);
    in = rec(1, "locked");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    wx_store_unlock(st, &k_rec);

    /* a short lease runs out; another takes the lock */
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 150), WX_OK);
    t0 = test_mono_ms();
    ck_assert_int_eq(wx_store_lock(other, &k_rec, 60000), WX_OK);
    ck_assert_int_ge(test_mono_ms() - t0, 100);
    in = rec(2, "late");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    ck_assert_ptr_nonnull(strstr(wx_store_error(st), "lock"));
    wx_store_unlock(st, &k_rec);        /* not ours any more: left alone */
    in = rec(2, "fenced");
    ck_assert_int_eq(wx_store_rec_replace(other, &k_rec, &in), WX_OK);
    /* its fenced write proves the stale unlock left its lock alone */
    wx_store_unlock(other, &k_rec);
    ck_assert_int_eq(wx_store_lock(st, &k_rec, 150), WX_OK);
    wx_store_unlock(st, &k_rec);
    wx_store_close(other);
}
END_TEST

/* ---- the connection ------------------------------------------------------ */

/* A child of fork() does not use the parent's connection: it connects
 * anew, and the parent's keeps working. */
START_TEST(test_fork_handle)
{
    wx_store_claim_t c;
    pid_t pid;

    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_claim_t cc;
        wx_store_key_t kc = { "test", "child", 5 };

        if (wx_store_claim(st, &k_a, 60000, &pool, &cc) != WX_OK ||
            cc.state != WX_STORE_HELD || cc.owner != (long)getppid())
            _exit(1);
        if (wx_store_claim(st, &kc, 60000, &pool, &cc) != WX_OK ||
            cc.state != WX_STORE_CLAIMED ||
            wx_store_finish(st, &kc, WX_STR("from child"), 10000) != WX_OK)
            _exit(2);
        _exit(0);
    }
    ck_assert_int_eq(wait_exit(pid), 0);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("parent"), 10000), WX_OK);
    {
        wx_store_key_t kc = { "test", "child", 5 };

        ck_assert_int_eq(claim(st, &kc, 60000, &c), WX_STORE_DONE);
        ck_assert_wx_str_eq(c.value, "from child");
    }
}
END_TEST

START_TEST(test_bad_config_and_password)
{
    char err[512], url[160];
    wx_store_conf_t conf = { .backend = "redis" };
    wx_store_t *s;

    ck_assert_ptr_null(wx_store_open(&conf, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "sentinels"));
    ck_assert_ptr_null(open_redis("http://localhost/", NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "redis://"));
    ck_assert_ptr_null(open_redis("redis://:sekret@localhost:notaport", NULL, err,
                                  sizeof(err)));
    ck_assert_ptr_null(strstr(err, "sekret"));
    /* nobody there: told at open, without the password */
    ck_assert_ptr_null(open_redis("redis://:sekret@127.0.0.1:1/0", NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "127.0.0.1:1"));
    ck_assert_ptr_null(strstr(err, "sekret"));

    stop_server();
    server_pid = test_redis_start(dir, sock, "right-one");
    snprintf(url, sizeof(url), "unix:%s", sock);
    ck_assert_ptr_null(open_redis(url, NULL, err, sizeof(err)));
    ck_assert_msg(strstr(err, "AUTH failed") != NULL, "%s", err);
    ck_assert_ptr_null(open_redis(url, "wrong-one", err, sizeof(err)));
    ck_assert_msg(strstr(err, "AUTH failed") != NULL, "%s", err);
    ck_assert_ptr_null(strstr(err, "wrong-one"));
    s = open_redis(url, "right-one", err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    {
        wx_store_claim_t c;

        ck_assert_int_eq(claim(s, &k_a, 1000, &c), WX_STORE_CLAIMED);
    }
    wx_store_close(s);
    /* the URL's db */
    snprintf(url, sizeof(url), "unix:%s?db=3", sock);
    s = open_redis(url, "right-one", err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    wx_store_close(s);
    snprintf(url, sizeof(url), "unix:%s?db=99", sock);
    ck_assert_ptr_null(open_redis(url, "right-one", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "SELECT"));
    /* the server back with another password: an AUTH failure */
    snprintf(url, sizeof(url), "unix:%s", sock);
    s = open_redis(url, "right-one", err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    stop_server();
    server_pid = test_redis_start(dir, sock, "another-one");
    {
        wx_store_claim_t c;

        ck_assert_int_eq(wx_store_claim(s, &k_a, 1000, &pool, &c), WX_ESYS);
        ck_assert_msg(wx_store_fail_kind(s) == WX_STORE_FAIL_AUTH, "%d: %s",
                      wx_store_fail_kind(s), wx_store_error(s));
    }
    wx_store_close(s);
}
END_TEST

/* The server stopped mid-use: WX_ESYS within the timeout, then at once
 * (backoff); started again: the same handle works again by itself. */
START_TEST(test_server_stopped_and_back)
{
    wx_store_claim_t c;
    long long t0, dt;
    wx_err_t rc;
    int granted;
    unsigned retry;

    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    stop_server();
    t0 = test_mono_ms();
    ck_assert_int_eq(wx_store_claim(st, &k_a, 60000, &pool, &c), WX_ESYS);
    ck_assert_int_lt(test_mono_ms() - t0, 600);
    ck_assert_int_eq(wx_store_fail_kind(st), WX_STORE_FAIL_CONNECT);
    t0 = test_mono_ms();
    ck_assert_int_eq(wx_store_take(st, &k_a, 5, 5, 0, &granted, &retry), WX_ESYS);
    ck_assert_int_eq(granted, 0);
    ck_assert_int_lt(test_mono_ms() - t0, 600);
    /* nothing tried in the backoff: no new failure of the server's */
    ck_assert_int_eq(wx_store_fail_kind(st), WX_STORE_FAIL_BACKOFF);
    ck_assert_ptr_nonnull(strstr(wx_store_error(st), "redis"));
    server_pid = test_redis_start(dir, sock, NULL);
    t0 = test_mono_ms();
    do {
        test_nap_ms(20);
        rc = wx_store_claim(st, &k_a, 60000, &pool, &c);
        dt = test_mono_ms() - t0;
    } while (rc != WX_OK && dt < 5000);
    ck_assert_msg(rc == WX_OK, "still failing after %lld ms: %s", dt, wx_store_error(st));
    /* the server restarted empty: the key is free */
    ck_assert_int_eq(c.state, WX_STORE_CLAIMED);
    /* the server turned replica (a failover): a write is refused */
    {
        redisContext *adm = redisConnectUnix(sock);
        redisReply *rep;

        ck_assert_ptr_nonnull(adm);
        rep = redisCommand(adm, "REPLICAOF 127.0.0.1 1");
        ck_assert_ptr_nonnull(rep);
        freeReplyObject(rep);
        redisFree(adm);
    }
    ck_assert_int_eq(wx_store_claim(st, &k_rec, 60000, &pool, &c), WX_ESYS);
    ck_assert_msg(wx_store_fail_kind(st) == WX_STORE_FAIL_READONLY, "%d: %s",
                  wx_store_fail_kind(st), wx_store_error(st));
}
END_TEST

/* A fake server on 'fake_sock': for each connection, the replies of
 * 'script' in turn, one a read; after the last, silence. */
static void start_fake(const char *const *script, int n)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int lfd;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", fake_sock);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    fake_pid = fork();
    ck_assert_int_ge(fake_pid, 0);
    if (fake_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
            int fd = accept(lfd, NULL, NULL), i = 0;
            char buf[4096];

            while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0 && i < n) {
                if (write(fd, script[i], strlen(script[i])) < 0)
                    break;
                i++;
            }
            while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
                ;
            if (fd >= 0)
                close(fd);
        }
    }
    close(lfd);
}

/* A free key's claim and a done key's read are one command (SET NX GET,
 * no script); a finish waited for is its script named by its SHA-1 (sent
 * whole once, on the server's first sight of it); a finish not waited for
 * is sent whole (EVAL: a script the server lost cannot fail it unseen),
 * its answer read before the next command. */
START_TEST(test_one_round_trip)
{
    redisContext *rc = redisConnectUnix(sock);
    redisReply *rep;
    wx_store_claim_t c;
    char key[8];
    int i;
    const char *p;

    ck_assert_ptr_nonnull(rc);
    ck_assert_int_eq(rc->err, 0);
    for (i = 0; i < 20; i++) {
        wx_store_key_t k = { "sha", key, (size_t)snprintf(key, sizeof(key), "k%d", i) };

        ck_assert_int_eq(claim(st, &k, 60000, &c), WX_STORE_CLAIMED);
        if (i < 10)
            ck_assert_int_eq(wx_store_finish(st, &k, WX_STR("v"), 10000), WX_OK);
        else
            ck_assert_int_eq(wx_store_finish_nowait(st, &k, WX_STR("w"), 10000), WX_OK);
    }
    for (i = 0; i < 20; i++) {
        wx_store_key_t k = { "sha", key, (size_t)snprintf(key, sizeof(key), "k%d", i) };

        ck_assert_int_eq(claim(st, &k, 60000, &c), WX_STORE_DONE);
        ck_assert_str_eq(c.value.data, i < 10 ? "v" : "w");
    }
    ck_assert_uint_eq(wx_store_lost(st), 0);
    rep = redisCommand(rc, "INFO commandstats");
    ck_assert_ptr_nonnull(rep);
    ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
    /* 40 claims, and the 20 finishes' own SET inside their script */
    ck_assert_msg(strstr(rep->str, "cmdstat_set:calls=60,") != NULL, "SET: %.200s",
                  strstr(rep->str, "cmdstat_set:") ? strstr(rep->str, "cmdstat_set:") : "none");
    /* the waited finishes: one miss, 9 hits */
    p = strstr(rep->str, "cmdstat_evalsha:calls=10,");
    ck_assert_msg(p != NULL, "EVALSHA: %.200s", strstr(rep->str, "cmdstat_evalsha") ?
                  strstr(rep->str, "cmdstat_evalsha") : "none");
    ck_assert_msg(strncmp(strstr(p, "failed_calls="), "failed_calls=1\r", 15) == 0,
                  "EVALSHA missed: %.120s", p);
    /* the miss's EVAL, and the 10 finishes not waited for */
    ck_assert_msg(strstr(rep->str, "cmdstat_eval:calls=11,") != NULL, "EVAL: %.200s",
                  strstr(rep->str, "cmdstat_eval:") ? strstr(rep->str, "cmdstat_eval:") : "none");
    freeReplyObject(rep);
    redisFree(rc);
}
END_TEST

/* A finish not waited for whose claim was taken over is no loss (the new
 * owner answers); one the server refuses is counted lost, found by the
 * next command. */
START_TEST(test_finish_nowait_outcomes)
{
    redisContext *rc = redisConnectUnix(sock);
    redisReply *rep;
    wx_store_claim_t c;

    ck_assert_ptr_nonnull(rc);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    /* another owner's claim now (its lease on: more than the grace left) */
    rep = redisCommand(rc, "SET t:test:a hsomeone:1:1 PX 90000");
    ck_assert_ptr_nonnull(rep);
    freeReplyObject(rep);
    ck_assert_int_eq(wx_store_finish_nowait(st, &k_a, WX_STR("mine"), 10000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(c.owner, 1);
    ck_assert_uint_eq(wx_store_lost(st), 0);
    /* the server refuses writes (a replica would say READONLY) */
    ck_assert_int_eq(claim(st, &k_rec, 60000, &c), WX_STORE_CLAIMED);
    rep = redisCommand(rc, "CONFIG SET maxmemory 1");
    ck_assert_ptr_nonnull(rep);
    freeReplyObject(rep);
    ck_assert_int_eq(wx_store_finish_nowait(st, &k_rec, WX_STR("v"), 10000), WX_OK);
    rep = redisCommand(rc, "CONFIG SET maxmemory 0");
    ck_assert_ptr_nonnull(rep);
    freeReplyObject(rep);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_uint_eq(wx_store_lost(st), 1);
    redisFree(rc);
}
END_TEST

START_TEST(test_garbage_server)
{
    static const char *const script[] = {
        "*1\r\n$6\r\nmaster\r\n",       /* ROLE: a master */
        ":42\r\n",                      /* a claim answered with a number */
    };
    static const char *const nonsense[] = { "HTTP/1.1 400 Bad Request\r\n\r\n" };
    char url[160], err[512];
    wx_store_claim_t c;
    wx_store_rec_t r;
    wx_store_t *s;
    long long t0;
    char buf[16];
    int granted;
    unsigned retry;

    snprintf(url, sizeof(url), "unix:%s", fake_sock);
    start_fake(script, 2);
    s = open_redis(url, NULL, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(wx_store_claim(s, &k_a, 1000, &pool, &c), WX_ESYS);
    ck_assert_ptr_nonnull(strstr(wx_store_error(s), "shape"));
    ck_assert_int_eq(wx_store_fail_kind(s), WX_STORE_FAIL_PROTOCOL);
    /* dropped: the next connection answers ROLE, then a number again */
    test_nap_ms(150);
    t0 = test_mono_ms();
    ck_assert_int_eq(wx_store_take(s, &k_a, 1, 1, 0, &granted, &retry), WX_ESYS);
    ck_assert_int_lt(test_mono_ms() - t0, 800);
    ck_assert_int_eq(wx_store_fail_kind(s), WX_STORE_FAIL_PROTOCOL);
    ck_assert_int_eq(wx_store_rec_read(s, &k_rec, &r, buf, sizeof(buf)), WX_ESYS);
    wx_store_close(s);
    test_stop_pid(&fake_pid);
    unlink(fake_sock);

    /* nonsense from the first byte: refused at open, clearly */
    start_fake(nonsense, 1);
    ck_assert_ptr_null(open_redis(url, NULL, err, sizeof(err)));
    ck_assert_msg(strstr(err, fake_sock) != NULL, "%s", err);
    test_stop_pid(&fake_pid);
    unlink(fake_sock);

    /* silence: open gives up after the timeout */
    start_fake(script, 0);
    t0 = test_mono_ms();
    ck_assert_ptr_null(open_redis(url, NULL, err, sizeof(err)));
    ck_assert_int_lt(test_mono_ms() - t0, 800);
    test_stop_pid(&fake_pid);
    unlink(fake_sock);

    /* ROLE answered, then silence: a command's timeout */
    start_fake(script, 1);
    s = open_redis(url, NULL, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_int_eq(wx_store_claim(s, &k_a, 1000, &pool, &c), WX_ESYS);
    ck_assert_msg(wx_store_fail_kind(s) == WX_STORE_FAIL_TIMEOUT, "%d: %s",
                  wx_store_fail_kind(s), wx_store_error(s));
    wx_store_close(s);
}
END_TEST

Suite *store_redis_suite(void)
{
    Suite *s = suite_create("store_redis");
    TCase *tc;

    if (test_redis_bin() == NULL) {
        fprintf(stderr, "store_redis: SKIPPED: no redis-server installed "
                "(scripts/deps.sh build test installs it)\n");
        return s;
    }
    tc = tcase_create("redis");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lease_claim_finish_read);
    tcase_add_test(tc, test_lease_expires);
    tcase_add_test(tc, test_lease_owner_killed);
    tcase_add_test(tc, test_lease_one_claimer_wins);
    tcase_add_test(tc, test_bucket_take);
    tcase_add_test(tc, test_bucket_bound_across_processes);
    tcase_add_test(tc, test_record_versions);
    tcase_add_test(tc, test_record_one_writer_wins);
    tcase_add_test(tc, test_record_lock_fencing);
    tcase_add_test(tc, test_fork_handle);
    tcase_add_test(tc, test_bad_config_and_password);
    tcase_add_test(tc, test_server_stopped_and_back);
    tcase_add_test(tc, test_garbage_server);
    tcase_add_test(tc, test_one_round_trip);
    tcase_add_test(tc, test_finish_nowait_outcomes);
    suite_add_tcase(s, tc);
    return s;
}
