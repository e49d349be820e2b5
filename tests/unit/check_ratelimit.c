/* check_ratelimit.c - the shared token buckets (wx/state/ratelimit.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/log.h"
#include "wx/state/ratelimit.h"
#include "wx/core/shm.h"

#define SEC 1000000LL

static char dir[64];
static char path[128];
static wx_store_t *rl;
static wx_log_level_t saved_threshold;

/* The rate limiter's buckets, in a local store of their own. */
static wx_store_t *rl_open(const char *p, char *err, size_t errlen)
{
    wx_store_conf_t conf = { .backend = "local", .bucket.path = p };

    return wx_store_open(&conf, err, errlen);
}

static void setup(void)
{
    char err[512] = "";

    /* The tables live in /tmp, not a tmpfs: no warning in the output. */
    saved_threshold = wx_log_threshold;
    wx_log_threshold = WX_LOG_ERROR;
    strcpy(dir, "/tmp/wx-ut-rl.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ratelimit.shm", dir);
    rl = rl_open(path, err, sizeof(err));
    ck_assert_msg(rl != NULL, "open %s: %s", path, err);
}

static void teardown(void)
{
    wx_store_close(rl);
    rl = NULL;
    unlink(path);
    rmdir(dir);
    wx_log_threshold = saved_threshold;
}

/* Calls allowed out of 'n' at time 'now'. */
static int take_n(wx_store_t *t, const char *name, unsigned rate, unsigned burst,
                  int64_t now, int n)
{
    unsigned retry;
    int i, ok = 0;

    for (i = 0; i < n; i++)
        ok += wx_ratelimit_take(t, name, rate, burst, now, &retry);
    return ok;
}

START_TEST(test_burst_then_refused)
{
    unsigned retry = 0;
    int64_t t = 1000 * SEC;

    ck_assert_int_eq(take_n(rl, "a", 5, 10, t, 10), 10);
    ck_assert_int_eq(wx_ratelimit_take(rl, "a", 5, 10, t, &retry), 0);
    /* one token at 5/s: 200 ms */
    ck_assert_uint_eq(retry, 200);
    ck_assert_int_eq(wx_ratelimit_level(rl, "a"), 0);
}
END_TEST

START_TEST(test_refill_continuous)
{
    unsigned retry = 0;
    int64_t t = 1000 * SEC;

    ck_assert_int_eq(take_n(rl, "a", 5, 5, t, 5), 5);
    /* 100 ms later: half a token; 100 ms to wait */
    ck_assert_int_eq(wx_ratelimit_take(rl, "a", 5, 5, t + SEC / 10, &retry), 0);
    ck_assert_uint_eq(retry, 100);
    ck_assert_int_eq(wx_ratelimit_take(rl, "a", 5, 5, t + SEC / 5, &retry), 1);
    /* a second later: five more, no more than the burst */
    ck_assert_int_eq(take_n(rl, "a", 5, 5, t + 10 * SEC, 20), 5);
    /* rate 1/s: a full second to wait */
    ck_assert_int_eq(take_n(rl, "slow", 1, 1, t, 3), 1);
    ck_assert_int_eq(wx_ratelimit_take(rl, "slow", 1, 1, t, &retry), 0);
    ck_assert_uint_eq(retry, 1000);
}
END_TEST

/* Over any window the calls let through are at most burst + rate * time. */
START_TEST(test_sustained_rate)
{
    int64_t t = 1000 * SEC, end = t + 10 * SEC;
    int ok = 0;

    for (; t < end; t += SEC / 100)      /* 100 attempts a second for 10 s */
        ok += take_n(rl, "a", 7, 3, t, 1);
    ck_assert_int_ge(ok, 3 + 7 * 10 - 1);
    ck_assert_int_le(ok, 3 + 7 * 10);
}
END_TEST

START_TEST(test_burst_zero_is_rate)
{
    ck_assert_int_eq(take_n(rl, "a", 4, 0, 50 * SEC, 10), 4);
}
END_TEST

START_TEST(test_rate_zero_refuses)
{
    unsigned retry = 0;

    ck_assert_int_eq(wx_ratelimit_take(rl, "a", 0, 5, 50 * SEC, &retry), 0);
    ck_assert_uint_eq(retry, 1000);
}
END_TEST

START_TEST(test_names_apart)
{
    int64_t t = 1000 * SEC;

    ck_assert_int_eq(take_n(rl, "a", 2, 2, t, 5), 2);
    ck_assert_int_eq(take_n(rl, "b", 3, 3, t, 5), 3);
    ck_assert_int_eq(take_n(rl, "a", 2, 2, t, 1), 0);
    ck_assert_int_eq(wx_ratelimit_level(rl, "never"), -1);
}
END_TEST

/* A reload that lowers the burst cuts a fuller bucket down at once. */
START_TEST(test_new_burst_applies)
{
    int64_t t = 1000 * SEC;

    ck_assert_int_eq(take_n(rl, "a", 1, 100, t, 1), 1);
    ck_assert_int_eq(take_n(rl, "a", 1, 3, t, 10), 3);
}
END_TEST

/* A time before the last call (a table from an earlier boot): full again. */
START_TEST(test_clock_backwards)
{
    ck_assert_int_eq(take_n(rl, "a", 1, 4, 5000 * SEC, 10), 4);
    ck_assert_int_eq(take_n(rl, "a", 1, 4, 10 * SEC, 10), 4);
}
END_TEST

/* Workers read the clock before they take the lock, so a call may come
 * with a time a little before the last one: that is no refill (it was
 * one, and let a burst of concurrent callers through). */
START_TEST(test_clock_race_no_refill)
{
    int64_t t = 1000 * SEC;

    ck_assert_int_eq(take_n(rl, "a", 5, 5, t, 10), 5);
    ck_assert_int_eq(take_n(rl, "a", 5, 5, t - 1000, 10), 0);
    ck_assert_int_eq(take_n(rl, "a", 5, 5, t - 300000, 10), 0);
    /* and the time of the last call does not go back either */
    ck_assert_int_eq(take_n(rl, "a", 5, 5, t + SEC / 5, 10), 1);
}
END_TEST

/* Two handles on one file (two processes' mappings) share the bucket. */
START_TEST(test_shared_between_handles)
{
    char err[512];
    wx_store_t *other = rl_open(path, err, sizeof(err));
    int64_t t = 1000 * SEC;

    ck_assert_msg(other != NULL, "%s", err);
    ck_assert_int_eq(take_n(rl, "a", 1, 6, t, 4), 4);
    ck_assert_int_eq(take_n(other, "a", 1, 6, t, 4), 2);
    ck_assert_int_eq(take_n(rl, "a", 1, 6, t, 4), 0);
    wx_store_close(other);
}
END_TEST

/* Eight processes hammer one bucket at once: exactly the burst gets through
 * (the clock is frozen for the test, so nothing refills). */
START_TEST(test_processes_share)
{
    int *total = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int i, st;

    ck_assert_ptr_ne(total, MAP_FAILED);
    *total = 0;
    for (i = 0; i < 8; i++) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char err[512];
            wx_store_t *mine = rl_open(path, err, sizeof(err));
            int ok;

            if (mine == NULL)
                _exit(2);
            ok = take_n(mine, "shared", 10, 25, 1000 * SEC, 100);
            __atomic_add_fetch(total, ok, __ATOMIC_SEQ_CST);
            wx_store_close(mine);
            _exit(0);
        }
    }
    for (i = 0; i < 8; i++) {
        ck_assert_int_gt(wait(&st), 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_int_eq(*total, 25);
    munmap(total, sizeof(int));
}
END_TEST

/* wx/core/shm.h: a process killed while it holds a table's lock does not
 * wedge it; the next locker is told. */
START_TEST(test_shm_dead_holder)
{
    wx_shm_spec_t spec = { "test table", NULL, 0x74657374U, 1, 7, 4096 };
    char shm_path[160], err[512];
    wx_shm_t shm;
    int p[2], st;
    pid_t pid;
    char c;

    snprintf(shm_path, sizeof(shm_path), "%s/test.shm", dir);
    ck_assert_int_eq(wx_shm_open(&shm, shm_path, &spec, err, sizeof(err)), WX_OK);
    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_shm_lock(&shm);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_int_eq(wx_shm_lock(&shm), 1);
    wx_shm_unlock(&shm);
    ck_assert_int_eq(wx_shm_lock(&shm), 0);
    wx_shm_unlock(&shm);
    /* another parameter: the same file is cleared and set up again */
    wx_shm_close(&shm);
    spec.param = 8;
    ck_assert_int_eq(wx_shm_open(&shm, shm_path, &spec, err, sizeof(err)), WX_OK);
    ck_assert_uint_eq(shm.hdr->param, 8);
    wx_shm_close(&shm);
    /* another magic: refused */
    spec.magic = 0x6f746865U;
    ck_assert_int_eq(wx_shm_open(&shm, shm_path, &spec, err, sizeof(err)), WX_EINVAL);
    ck_assert_msg(strstr(err, "is not a test table") != NULL, "err \"%s\"", err);
    unlink(shm_path);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* More names than slots: the least recently used bucket is given up. */
START_TEST(test_more_names_than_slots)
{
    char name[32];
    int64_t t = 1000 * SEC;
    int i;

    for (i = 0; i < WX_RATELIMIT_SLOTS + 50; i++) {
        snprintf(name, sizeof(name), "key%d", i);
        ck_assert_int_eq(take_n(rl, name, 1, 1, t + i, 2), 1);
    }
    /* the newest names are still there, exhausted */
    ck_assert_int_eq(take_n(rl, name, 1, 1, t + i, 1), 0);
}
END_TEST

START_TEST(test_open_errors)
{
    char bad[200], err[512];
    wx_store_t *t;
    FILE *f;

    snprintf(bad, sizeof(bad), "%s/no/such/dir/ratelimit.shm", dir);
    strcpy(err, "unchanged");
    ck_assert_ptr_null(rl_open(bad, err, sizeof(err)));
    ck_assert_msg(strstr(err, bad) != NULL, "err \"%s\" does not name the path", err);
    ck_assert_msg(strstr(err, strerror(ENOENT)) != NULL, "err \"%s\"", err);
    /* a file of another size is refused, not overwritten */
    snprintf(bad, sizeof(bad), "%s/other", dir);
    f = fopen(bad, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a table", f);
    fclose(f);
    ck_assert_ptr_null(t = rl_open(bad, err, sizeof(err)));
    ck_assert_msg(strstr(err, "another size") != NULL, "err \"%s\"", err);
    unlink(bad);
}
END_TEST

Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("buckets");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_burst_then_refused);
    tcase_add_test(tc, test_refill_continuous);
    tcase_add_test(tc, test_sustained_rate);
    tcase_add_test(tc, test_burst_zero_is_rate);
    tcase_add_test(tc, test_rate_zero_refuses);
    tcase_add_test(tc, test_names_apart);
    tcase_add_test(tc, test_new_burst_applies);
    tcase_add_test(tc, test_clock_backwards);
    tcase_add_test(tc, test_clock_race_no_refill);
    tcase_add_test(tc, test_shared_between_handles);
    tcase_add_test(tc, test_processes_share);
    tcase_add_test(tc, test_shm_dead_holder);
    tcase_add_test(tc, test_more_names_than_slots);
    tcase_add_test(tc, test_open_errors);
    suite_add_tcase(s, tc);
    return s;
}
