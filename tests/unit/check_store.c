/* check_store.c - the state store's operations on the local backend
 * (wx/state/store.h): leases, buckets, versioned records and their lock,
 * within one process and across processes, with owners that die. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/log.h"
#include "wx/state/store.h"

#define SEC 1000000LL

static char dir[64], lease_path[128], bucket_path[128], rec_path[128];
static wx_store_t *st;
static wx_pool_t pool;
static wx_log_level_t saved_threshold;

static const wx_store_key_t k_a = { "test", "a", 1 };

static wx_store_t *open_store(void)
{
    wx_store_conf_t conf = {
        .backend = "local",
        .lease = { lease_path, "lease table", 16, 512 },
        .bucket.path = bucket_path,
        .record = { rec_path, "record" },
    };
    char err[512] = "";
    wx_store_t *s = wx_store_open(&conf, err, sizeof(err));

    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

static void setup(void)
{
    /* The tables live in /tmp, not a tmpfs: no warning in the output. */
    saved_threshold = wx_log_threshold;
    wx_log_threshold = WX_LOG_ERROR;
    strcpy(dir, "/tmp/wx-ut-store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(lease_path, sizeof(lease_path), "%s/lease.shm", dir);
    snprintf(bucket_path, sizeof(bucket_path), "%s/bucket.shm", dir);
    snprintf(rec_path, sizeof(rec_path), "%s/rec", dir);
    ck_assert_int_eq(wx_pool_init(&pool, 1 << 16), WX_OK);
    st = open_store();
}

static void teardown(void)
{
    char cmd[160];

    wx_store_close(st);
    st = NULL;
    wx_pool_free(&pool);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    wx_log_threshold = saved_threshold;
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static wx_store_state_t claim(wx_store_t *s, const wx_store_key_t *k, unsigned lease_ms,
                              wx_store_claim_t *c)
{
    ck_assert_int_eq(wx_store_claim(s, k, lease_ms, &pool, c), WX_OK);
    return c->state;
}

static int wait_exit(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- leases -------------------------------------------------------------- */

START_TEST(test_lease_claim_finish_read)
{
    wx_store_claim_t c;
    unsigned used;
    unsigned long early;

    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    /* held by this (live) process: another claim waits */
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(c.owner, (long)getpid());
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("value a"), 30000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "value a");
    /* finished: a second finish is not ours to make */
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("again"), 30000), WX_ESTALE);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "value a");
    ck_assert_int_eq(wx_store_lease_stats(st, &used, &early), WX_OK);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(early, 0);
    /* past its keep_ms a done value is gone: the key is free again */
    {
        wx_store_key_t kt = { "test", "ttl", 3 };

        ck_assert_int_eq(claim(st, &kt, 60000, &c), WX_STORE_CLAIMED);
        ck_assert_int_eq(wx_store_finish(st, &kt, WX_STR("short"), 50), WX_OK);
        ck_assert_int_eq(claim(st, &kt, 60000, &c), WX_STORE_DONE);
        nap_ms(80);
        ck_assert_int_eq(claim(st, &kt, 60000, &c), WX_STORE_CLAIMED);
        ck_assert_int_eq(wx_store_finish(st, &kt, WX_STR("x"), 30000), WX_OK);
    }
    /* never claimed: nothing to finish */
    {
        wx_store_key_t other = { "test", "never", 5 };

        ck_assert_int_eq(wx_store_finish(st, &other, WX_STR("x"), 1000), WX_ESTALE);
    }
}
END_TEST

START_TEST(test_lease_namespaces_and_long_keys)
{
    static const char long_key[] = "a key of more than twenty bytes, kept as its digest";
    wx_store_key_t other_ns = { "other", "a", 1 };
    wx_store_key_t lk = { "test", long_key, sizeof(long_key) - 1 };
    wx_store_key_t lk2 = { "test", long_key, sizeof(long_key) - 2 };
    wx_store_key_t empty = { "test", NULL, 0 };
    wx_store_claim_t c;

    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &other_ns, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &lk, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &lk2, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(claim(st, &empty, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(st, &other_ns, WX_STR("other"), 1000), WX_OK);
    ck_assert_int_eq(wx_store_finish(st, &lk, WX_STR("long"), 1000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(claim(st, &lk2, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(claim(st, &other_ns, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "other");
    ck_assert_int_eq(claim(st, &lk, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "long");
}
END_TEST

/* A value larger than an entry is refused and the claim stays held. */
START_TEST(test_lease_value_too_big)
{
    char big[512];
    wx_store_claim_t c;

    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(st, &k_a, (wx_str_t){ sizeof(big), big }, 1000),
                     WX_ETOOBIG);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(wx_store_finish(st, &k_a, (wx_str_t){ 400, big }, 1000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_uint_eq(c.value.len, 400);
}
END_TEST

/* An owner that is alive but whose lease ran out is taken over; its
 * finish afterwards is refused and stores nothing. */
START_TEST(test_lease_expires)
{
    enum { LEASE = 300 };
    wx_store_claim_t c;
    int up[2], down[2];
    long long t0;
    pid_t pid;
    char b;

    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    t0 = mono_ms();
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
    /* Within the lease, the live owner holds it (a machine too slow for
     * that to be sure has let the lease end: then it is taken). */
    if (claim(st, &k_a, 60000, &c) == WX_STORE_HELD) {
        ck_assert_int_eq(c.owner, (long)pid);
        nap_ms(LEASE + 50);
        ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_TAKEN);
    } else {
        ck_assert_int_eq(c.state, WX_STORE_TAKEN);
        ck_assert_int_ge(mono_ms() - t0, LEASE);
    }
    ck_assert_int_eq(c.owner, (long)pid);
    ck_assert_int_eq(write(down[1], "f", 1), 1);
    ck_assert_int_eq(wait_exit(pid), 0);
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("mine"), 1000), WX_OK);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_DONE);
    ck_assert_wx_str_eq(c.value, "mine");
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
}
END_TEST

/* A caller killed while it holds a long lease: the next claimer sees no
 * process with its pid and takes over at once. */
START_TEST(test_lease_owner_killed)
{
    wx_store_claim_t c;
    int p[2];
    pid_t pid;
    char b;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_store_t *mine = open_store();
        wx_store_claim_t cc;

        if (wx_store_claim(mine, &k_a, 600000, &pool, &cc) != WX_OK ||
            cc.state != WX_STORE_CLAIMED || write(p[1], "c", 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(p[0], &b, 1), 1);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    kill(pid, SIGKILL);
    ck_assert_int_eq(wait_exit(pid), 128 + SIGKILL);
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_TAKEN);
    ck_assert_int_eq(c.owner, (long)pid);
    /* now ours: held against others, finished by us */
    ck_assert_int_eq(claim(st, &k_a, 60000, &c), WX_STORE_HELD);
    ck_assert_int_eq(c.owner, (long)getpid());
    ck_assert_int_eq(wx_store_finish(st, &k_a, WX_STR("after"), 1000), WX_OK);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* Two processes claim the same free key at once, many times: exactly
 * one gets it each time. */
START_TEST(test_lease_one_claimer_wins)
{
    enum { ROUNDS = 40 };
    int go[2], i, r;

    for (r = 0; r < ROUNDS; r++) {
        wx_store_key_t k = { "race", &r, sizeof(r) };
        pid_t pids[2];
        int won = 0;

        ck_assert_int_eq(pipe(go), 0);
        for (i = 0; i < 2; i++) {
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
                    _exit(1);       /* the other one has it, or had it */
                /* finished, so that later rounds find room (a done
                 * entry gives way), and kept past the other's claim */
                if (cc.state != WX_STORE_CLAIMED ||
                    wx_store_finish(mine, &k, WX_STR("won"), 60000) != WX_OK)
                    _exit(2);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]);           /* both start */
        for (i = 0; i < 2; i++) {
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
    int64_t t = 100 * SEC, level;
    unsigned retry;
    int granted, i, n = 0;

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(wx_store_take(st, &k_a, 2, 3, t, &granted, &retry), WX_OK);
        n += granted;
    }
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(retry, 500);
    ck_assert_int_eq(wx_store_level(st, &k_a, &level), WX_OK);
    ck_assert_int_eq(level, 0);
    /* half a second: one more token */
    ck_assert_int_eq(wx_store_take(st, &k_a, 2, 3, t + SEC / 2, &granted, &retry), WX_OK);
    ck_assert_int_eq(granted, 1);
    /* rate 0 grants nothing */
    ck_assert_int_eq(wx_store_take(st, &k_a, 0, 3, t + 10 * SEC, &granted, &retry), WX_OK);
    ck_assert_int_eq(granted, 0);
    ck_assert_uint_eq(retry, 1000);
    /* another namespace, another bucket */
    {
        wx_store_key_t k = { "other", "a", 1 };

        ck_assert_int_eq(wx_store_level(st, &k, &level), WX_EMISSING);
    }
}
END_TEST

/* Takes from four processes at once, at one instant and over real time:
 * never more than the bucket holds plus what it gains. */
START_TEST(test_bucket_bound_across_processes)
{
    enum { PROCS = 4, TAKES = 300 };
    struct timespec ts;
    long long t0, t1;
    int64_t start;
    pid_t pids[PROCS];
    int i, total = 0, round;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    start = (int64_t)ts.tv_sec * SEC + ts.tv_nsec / 1000;
    for (round = 0; round < 2; round++) {
        wx_store_key_t k = { "bound", round ? "real" : "instant", round ? 4 : 7 };

        total = 0;
        t0 = mono_ms();
        for (i = 0; i < PROCS; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                wx_store_t *mine = open_store();
                unsigned retry;
                int n = 0, j, granted;

                for (j = 0; j < TAKES; j++) {
                    int64_t now = start;

                    if (round) {
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        now = (int64_t)ts.tv_sec * SEC + ts.tv_nsec / 1000;
                    }
                    if (wx_store_take(mine, &k, 50, 20, now, &granted, &retry) != WX_OK)
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
        t1 = mono_ms();
        if (round == 0)
            ck_assert_int_eq(total, 20);     /* at one instant: the burst */
        else
            ck_assert_int_le(total, 20 + 50 * (t1 - t0 + 999) / 1000);
    }
}
END_TEST

/* ---- records ------------------------------------------------------------- */

static wx_store_rec_t rec(unsigned long version, const char *value)
{
    wx_store_rec_t r = { version, 1700000000, 1700007200, wx_str_c(value) };

    return r;
}

static const wx_store_key_t k_rec = { "test", "", 0 };

START_TEST(test_record_versions)
{
    wx_store_rec_t in = rec(1, "one"), out;
    char buf[64];
    struct stat sb;

    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_EMISSING);
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(out.version, 1);
    ck_assert_int_eq((long)out.obtained, 1700000000);
    ck_assert_int_eq((long)out.expires, 1700007200);
    ck_assert_wx_str_eq(out.value, "one");
    ck_assert_str_eq(buf, "one");
    ck_assert_int_eq(stat(rec_path, &sb), 0);
    /* the same version with another value: refused */
    in = rec(1, "uno");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    /* the same version and value, new times: taken */
    in = rec(1, "one");
    in.expires += 100;
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_int_eq((long)out.expires, 1700007300);
    /* an older version: refused */
    in = rec(0, "zero");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_ESTALE);
    in = rec(2, "two");
    ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(out.version, 2);
    ck_assert_wx_str_eq(out.value, "two");
    /* a buffer too small for the value */
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, 3), WX_ETOOBIG);
}
END_TEST

START_TEST(test_record_keys_and_values)
{
    wx_store_key_t acct = { "test", "acct_2", 6 }, bad = { "test", "../x", 4 };
    wx_store_rec_t in = rec(5, "five"), out;
    char buf[64], path[160];

    ck_assert_int_eq(wx_store_rec_replace(st, &acct, &in), WX_OK);
    snprintf(path, sizeof(path), "%s.acct_2", rec_path);
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(wx_store_rec_read(st, &k_rec, &out, buf, sizeof(buf)), WX_EMISSING);
    ck_assert_int_eq(wx_store_rec_replace(st, &bad, &in), WX_EINVAL);
    in = rec(6, "two words");
    ck_assert_int_eq(wx_store_rec_replace(st, &acct, &in), WX_EINVAL);
    in = rec(6, "");
    ck_assert_int_eq(wx_store_rec_replace(st, &acct, &in), WX_EINVAL);
    ck_assert_int_eq(wx_store_rec_read(st, &acct, &out, buf, sizeof(buf)), WX_OK);
    ck_assert_uint_eq(out.version, 5);
    ck_assert_ptr_nonnull(strstr(wx_store_error(st), "blanks"));
}
END_TEST

/* Two processes write the same next version at once, many times: one
 * wins, the other is told, and the record holds the winner's value. */
START_TEST(test_record_one_writer_wins)
{
    enum { ROUNDS = 25 };
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

/* The lock keeps a second holder out until the first lets go, or dies. */
START_TEST(test_record_lock)
{
    int p[2], round;
    long long t0;
    pid_t pid;
    char b;

    for (round = 0; round < 2; round++) {
        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            wx_store_t *mine = open_store();

            if (wx_store_lock(mine, &k_rec, 60000) != WX_OK || write(p[1], "l", 1) != 1)
                _exit(2);
            if (round == 1)
                pause();        /* killed holding it */
            nap_ms(300);
            wx_store_unlock(mine, &k_rec);
            _exit(0);
        }
        ck_assert_int_eq(read(p[0], &b, 1), 1);
        t0 = mono_ms();
        if (round == 1)
            kill(pid, SIGKILL);
        ck_assert_int_eq(wx_store_lock(st, &k_rec, 60000), WX_OK);
        if (round == 0)
            ck_assert_int_ge(mono_ms() - t0, 200);
        /* one lock a handle */
        ck_assert_int_eq(wx_store_lock(st, &k_rec, 60000), WX_EINVAL);
        /* a replace does not wait for the lock the caller holds */
        {
            wx_store_rec_t in = rec((unsigned long)round + 1, "locked");

            ck_assert_int_eq(wx_store_rec_replace(st, &k_rec, &in), WX_OK);
        }
        wx_store_unlock(st, &k_rec);
        ck_assert_int_eq(wait_exit(pid), round == 0 ? 0 : 128 + SIGKILL);
        close(p[0]);
        close(p[1]);
    }
}
END_TEST

/* ---- open and bad input -------------------------------------------------- */

START_TEST(test_open_and_bad_input)
{
    wx_store_conf_t conf = { .backend = "memcache" };
    wx_store_key_t no_ns = { NULL, "a", 1 };
    wx_store_claim_t c;
    wx_store_rec_t r;
    int64_t level;
    unsigned used;
    unsigned long early;
    char err[512] = "", buf[8];
    wx_store_t *bare;

    ck_assert_ptr_null(wx_store_open(&conf, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "memcache"));
    /* a store with no families: each operation says so */
    conf.backend = NULL;
    bare = wx_store_open(&conf, err, sizeof(err));
    ck_assert_ptr_nonnull(bare);
    ck_assert_str_eq(wx_store_backend(bare), "local");
    ck_assert_int_eq(wx_store_claim(bare, &k_a, 1000, &pool, &c), WX_ECONFIG);
    ck_assert_int_eq(wx_store_finish(bare, &k_a, WX_STR("x"), 1000), WX_ECONFIG);
    ck_assert_int_eq(wx_store_lease_stats(bare, &used, &early), WX_ECONFIG);
    ck_assert_int_eq(wx_store_level(bare, &k_a, &level), WX_ECONFIG);
    ck_assert_int_eq(wx_store_rec_read(bare, &k_rec, &r, buf, sizeof(buf)), WX_ECONFIG);
    ck_assert_int_eq(wx_store_lock(bare, &k_rec, 1000), WX_ECONFIG);
    ck_assert_ptr_nonnull(strstr(wx_store_error(bare), "without"));
    wx_store_close(bare);
    /* a key without a namespace is bad input */
    ck_assert_int_eq(wx_store_claim(st, &no_ns, 1000, &pool, &c), WX_EINVAL);
    ck_assert_int_eq(wx_store_rec_read(st, &no_ns, &r, buf, sizeof(buf)), WX_EINVAL);
    /* no slots */
    conf.lease.path = lease_path;
    conf.lease.slots = 0;
    ck_assert_ptr_null(wx_store_open(&conf, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "slots"));
    wx_store_close(NULL);
}
END_TEST

/* ---- the lease table's layout ------------------------------------------- */

enum { T_SLOTS = 32, T_LARGE = T_SLOTS / 16, T_SLOT = 4096 };

/* A table of T_SLOTS entries with T_LARGE large slots of T_SLOT bytes. */
static wx_store_t *open_table(void)
{
    wx_store_conf_t conf = {
        .backend = "local",
        .lease = { lease_path, "lease table", T_SLOTS, T_SLOT },
    };
    char err[512] = "";
    wx_store_t *s;

    /* the fixture's table has another layout: a file of its own */
    snprintf(lease_path, sizeof(lease_path), "%s/table.shm", dir);
    s = wx_store_open(&conf, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

static void put(wx_store_t *s, unsigned i, wx_str_t v)
{
    wx_store_key_t k = { "test", &i, sizeof(i) };
    wx_store_claim_t c;

    ck_assert_int_eq(claim(s, &k, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(s, &k, v, 60000), WX_OK);
}

/* 'i' replays 'v' (v.data NULL: 'i' is free: claimed, then let go). */
static void expect_value(wx_store_t *s, unsigned i, wx_str_t v)
{
    wx_store_key_t k = { "test", &i, sizeof(i) };
    wx_store_claim_t c;

    wx_pool_reset(&pool);
    if (v.data == NULL) {
        ck_assert_int_eq(claim(s, &k, 1, &c), WX_STORE_CLAIMED);
        return;
    }
    ck_assert_int_eq(claim(s, &k, 60000, &c), WX_STORE_DONE);
    ck_assert_uint_eq(c.value.len, v.len);
    ck_assert(memcmp(c.value.data, v.data, v.len) == 0);
}

static void expect_lease_stats(wx_store_t *s, unsigned used, unsigned long early)
{
    unsigned u;
    unsigned long e;

    ck_assert_int_eq(wx_store_lease_stats(s, &u, &e), WX_OK);
    ck_assert_uint_eq(u, used);
    ck_assert_uint_eq(e, early);
}

/* The default table maps at most 8 MiB; the file is as large as the
 * layout says. */
START_TEST(test_table_default_size)
{
    wx_store_conf_t conf = {
        .backend = "local",
        .lease = { lease_path, "lease table", 8192, 0 },
    };
    char err[512] = "";
    struct stat sb;
    wx_store_t *s;

    snprintf(lease_path, sizeof(lease_path), "%s/default.shm", dir);
    s = wx_store_open(&conf, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    ck_assert_int_eq(stat(lease_path, &sb), 0);
    ck_assert_int_eq(sb.st_size, 4096 + 8192 * WX_STORE_LOCAL_ENTRY + 512 * WX_STORE_SLOT_SIZE);
    ck_assert_int_le(sb.st_size, 8 << 20);
    wx_store_close(s);
}
END_TEST

/* Values up to an entry's room stay in it, larger ones up to the large
 * slot's room go to a large slot, whole, byte for byte; one more byte is
 * refused. */
START_TEST(test_table_value_sizes)
{
    static char buf[T_SLOT];
    /* T_LARGE (2) values that need a large slot: none is given up */
    size_t sizes[] = { 0, 1, WX_STORE_LOCAL_ENTRY - 64, WX_STORE_LOCAL_ENTRY - 56,
                       WX_STORE_LOCAL_ENTRY - 55, T_SLOT - 56 };
    wx_store_t *s = open_table();
    wx_store_key_t k = { "test", "big", 3 };
    wx_store_claim_t c;
    unsigned i;

    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (char)(i * 7 + i / 251);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        put(s, i, (wx_str_t){ sizes[i], buf + i });
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        expect_value(s, i, (wx_str_t){ sizes[i], buf + i });
    ck_assert_int_eq(claim(s, &k, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(s, &k, (wx_str_t){ T_SLOT - 55, buf }, 1000), WX_ETOOBIG);
    ck_assert_int_eq(claim(s, &k, 60000, &c), WX_STORE_HELD);
    expect_lease_stats(s, sizeof(sizes) / sizeof(sizes[0]) + 1, 0);
    wx_store_close(s);
}
END_TEST

/* Large values take the large slots in turn: one more than there are
 * gives up the done entry that took the first (an early eviction), and
 * the small entries are not touched. */
START_TEST(test_table_large_eviction)
{
    static char big[T_LARGE + 1][2000];
    wx_store_t *s = open_table();
    unsigned i;

    put(s, 100, WX_STR("small before"));
    for (i = 0; i <= T_LARGE; i++) {
        memset(big[i], 'a' + (int)i, sizeof(big[i]));
        put(s, i, (wx_str_t){ sizeof(big[i]), big[i] });
    }
    put(s, 101, WX_STR("small after"));
    expect_value(s, 0, WX_NULL_STR);       /* given up, and free again */
    for (i = 1; i <= T_LARGE; i++)
        expect_value(s, i, (wx_str_t){ sizeof(big[i]), big[i] });
    expect_value(s, 100, WX_STR("small before"));
    expect_value(s, 101, WX_STR("small after"));
    expect_lease_stats(s, T_LARGE + 3, 1);
    wx_store_close(s);
}
END_TEST

/* An entry that gives up its large value (past its time, claimed again
 * and finished small) frees its large slot: the next large value takes
 * it without giving up anything. */
START_TEST(test_table_large_released)
{
    static char big[3][3000];
    wx_store_t *s = open_table();
    unsigned a = 0;
    wx_store_key_t ka = { "test", &a, sizeof(a) };
    wx_store_claim_t c;
    unsigned i;

    for (i = 0; i < 3; i++)
        memset(big[i], 'A' + (int)i, sizeof(big[i]));
    ck_assert_int_eq(claim(s, &ka, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(s, &ka, (wx_str_t){ sizeof(big[0]), big[0] }, 30), WX_OK);
    nap_ms(60);
    ck_assert_int_eq(claim(s, &ka, 60000, &c), WX_STORE_CLAIMED);
    ck_assert_int_eq(wx_store_finish(s, &ka, WX_STR("small now"), 60000), WX_OK);
    for (i = 1; i <= T_LARGE; i++)
        put(s, i, (wx_str_t){ sizeof(big[i]), big[i] });
    expect_value(s, 0, WX_STR("small now"));
    for (i = 1; i <= T_LARGE; i++)
        expect_value(s, i, (wx_str_t){ sizeof(big[i]), big[i] });
    expect_lease_stats(s, T_LARGE + 1, 0);
    wx_store_close(s);
}
END_TEST

/* A full table: every entry held, a new key is not recorded (NOROOM) and
 * nothing is given up; once they are done, a new key takes the place of
 * the oldest. */
START_TEST(test_table_full)
{
    static char big[1000];
    wx_store_t *s = open_table();
    wx_store_claim_t c;
    unsigned i, extra = 1000;
    wx_store_key_t kx = { "test", &extra, sizeof(extra) };

    memset(big, 'z', sizeof(big));
    for (i = 0; i < T_SLOTS; i++) {
        wx_store_key_t k = { "test", &i, sizeof(i) };

        ck_assert_int_eq(claim(s, &k, 60000, &c), WX_STORE_CLAIMED);
    }
    ck_assert_int_eq(claim(s, &kx, 60000, &c), WX_STORE_NOROOM);
    expect_lease_stats(s, T_SLOTS, 0);
    for (i = 0; i < T_SLOTS; i++) {
        wx_store_key_t k = { "test", &i, sizeof(i) };

        ck_assert_int_eq(wx_store_finish(s, &k, i % 2 ? WX_STR("odd") :
                                         (wx_str_t){ sizeof(big), big }, 60000), WX_OK);
        nap_ms(2);
    }
    /* T_SLOTS / 2 large values for T_LARGE slots: the newest remain */
    for (i = 0; i < T_SLOTS; i += 2)
        expect_value(s, i, i >= T_SLOTS - 2 * T_LARGE ? (wx_str_t){ sizeof(big), big }
                                                       : WX_NULL_STR);
    expect_lease_stats(s, T_SLOTS, T_SLOTS / 2 - T_LARGE);
    wx_store_close(s);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("local");

    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lease_claim_finish_read);
    tcase_add_test(tc, test_lease_namespaces_and_long_keys);
    tcase_add_test(tc, test_lease_value_too_big);
    tcase_add_test(tc, test_lease_expires);
    tcase_add_test(tc, test_lease_owner_killed);
    tcase_add_test(tc, test_lease_one_claimer_wins);
    tcase_add_test(tc, test_bucket_take);
    tcase_add_test(tc, test_bucket_bound_across_processes);
    tcase_add_test(tc, test_record_versions);
    tcase_add_test(tc, test_record_keys_and_values);
    tcase_add_test(tc, test_record_one_writer_wins);
    tcase_add_test(tc, test_record_lock);
    tcase_add_test(tc, test_open_and_bad_input);
    tcase_add_test(tc, test_table_default_size);
    tcase_add_test(tc, test_table_value_sizes);
    tcase_add_test(tc, test_table_large_eviction);
    tcase_add_test(tc, test_table_large_released);
    tcase_add_test(tc, test_table_full);
    suite_add_tcase(s, tc);
    return s;
}
