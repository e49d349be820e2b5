/* check_metrics.c - the pool's counters, their sums across slots and
 * workers that come and go, and the exposition text. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "wx/server/metrics.h"

static const char *const colours[] = { "red", "blue" };
static const wx_mx_family_t fam[] = {
    { "things_total", "Things.", WX_MT_COUNTER, WX_MX_APP, { { "colour", colours, 2 } }, 1 },
    { "wait_seconds", "Waits.", WX_MT_HISTOGRAM, WX_MX_APP + 2, { { NULL, NULL, 0 } }, 0 },
};

static char *scrape(wx_mx_pool_t *p)
{
    uint64_t sums[WX_MX_MAX];
    wx_dynbuf_t out;

    wx_dynbuf_init(&out, 1 << 20);
    wx_mx_sum(p, sums);
    ck_assert_int_eq(wx_mx_write_pool(&out, p, "t", sums), 0);
    ck_assert_int_eq(wx_mx_write(&out, "t", fam, 2, sums), 0);
    return wx_dynbuf_take(&out);
}

/* A worker that counts and exits with 'status' (or dies of 'sig'). */
static pid_t worker(wx_mx_pool_t *p, unsigned blue, int sig)
{
    int i = wx_mx_claim(p);
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wx_mx_enter(p, i);
        while (blue--)
            wx_mx_inc(WX_MX_APP + 1);
        wx_mx_observe(WX_MX_APP + 2, 700);      /* 0.0007 s: in le="0.001" */
        if (sig)
            raise(sig);
        _exit(0);
    }
    wx_mx_started(p, i, pid);
    return pid;
}

static void reap(wx_mx_pool_t *p, pid_t pid)
{
    int st;

    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    wx_mx_ended(p, pid, st);
}

START_TEST(test_pool_sums_survive_workers)
{
    wx_mx_pool_t *p = wx_mx_pool_new(2, WX_MX_APP + 2 + WX_MX_HIST_N + 2);
    char *text;

    ck_assert_ptr_nonnull(p);
    reap(p, worker(p, 3, 0));
    reap(p, worker(p, 4, SIGKILL));
    /* Both slots were freed and one is reused: the counts stay. */
    reap(p, worker(p, 5, 0));
    text = scrape(p);
    ck_assert_msg(strstr(text, "t_things_total{colour=\"blue\"} 12\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_things_total{colour=\"red\"} 0\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "# TYPE t_things_total counter\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_workers_started_total 3\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_workers_recycled_total 2\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_workers_died_total{signal=\"KILL\"} 1\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_workers_alive 0\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_wait_seconds_bucket{le=\"0.0005\"} 0\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_wait_seconds_bucket{le=\"0.001\"} 3\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_wait_seconds_bucket{le=\"+Inf\"} 3\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_wait_seconds_sum 0.002100\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "t_wait_seconds_count 3\n") != NULL, "%s", text);
    free(text);
    wx_mx_pool_free(p);
}
END_TEST

START_TEST(test_pool_full_and_status)
{
    wx_mx_pool_t *p = wx_mx_pool_new(1, WX_MX_APP + 2);
    wx_dynbuf_t out;
    int i;

    ck_assert_ptr_nonnull(p);
    i = wx_mx_claim(p);
    ck_assert_int_eq(i, 0);
    wx_mx_started(p, i, 4242);
    /* No slot left: the next worker counts into its private array. */
    ck_assert_int_eq(wx_mx_claim(p), -1);
    wx_dynbuf_init(&out, 1 << 16);
    ck_assert_int_eq(wx_mx_status(&out, p, "t", 1), 0);
    ck_assert_msg(strstr(out.data, "{\"pid\":4242,\"state\":\"idle\",\"requests\":0") != NULL,
                  "%s", out.data);
    wx_dynbuf_free(&out);
    ck_assert_int_eq(wx_mx_status(&out, p, "t", 0), 0);
    ck_assert_msg(strstr(out.data, "4242") != NULL, "%s", out.data);
    wx_dynbuf_free(&out);
    wx_mx_pool_free(p);
    ck_assert_ptr_null(wx_mx_pool_new(1, WX_MX_MAX + 1));
}
END_TEST

/* A short histogram: microsecond bounds, cumulative buckets, the sum in
 * seconds. */
START_TEST(test_short_histogram)
{
    static const wx_mx_family_t sh[] = {
        { "work_seconds", "Work.", WX_MT_HISTOGRAM_SHORT, WX_MX_APP, { { NULL, NULL, 0 } }, 0 },
    };
    uint64_t sums[WX_MX_MAX];
    wx_dynbuf_t out;
    unsigned i;

    /* The private array of a process without a pool. */
    ck_assert_ptr_null(wx_mx_pool());
    for (i = 0; i < WX_MX_HIST_N + 2; i++)
        wx_mx[WX_MX_APP + i] = 0;
    ck_assert_uint_eq(wx_mx_family_size(sh), WX_MX_HIST_N + 2);
    wx_mx_observe_short(WX_MX_APP, 7);          /* le="1e-05" */
    wx_mx_observe_short(WX_MX_APP, 10);         /* on the bound: le="1e-05" */
    wx_mx_observe_short(WX_MX_APP, 40);         /* le="5e-05" */
    wx_mx_observe_short(WX_MX_APP, 200000);     /* over 0.1 s: +Inf only */
    wx_mx_sum(NULL, sums);
    wx_dynbuf_init(&out, 1 << 16);
    ck_assert_int_eq(wx_mx_write(&out, "t", sh, 1, sums), 0);
    ck_assert_msg(strstr(out.data, "# TYPE t_work_seconds histogram\n") != NULL, "%s", out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_bucket{le=\"1e-05\"} 2\n") != NULL, "%s",
                  out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_bucket{le=\"2.5e-05\"} 2\n") != NULL, "%s",
                  out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_bucket{le=\"5e-05\"} 3\n") != NULL, "%s",
                  out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_bucket{le=\"0.1\"} 3\n") != NULL, "%s",
                  out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_bucket{le=\"+Inf\"} 4\n") != NULL, "%s",
                  out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_sum 0.200057\n") != NULL, "%s", out.data);
    ck_assert_msg(strstr(out.data, "t_work_seconds_count 4\n") != NULL, "%s", out.data);
    wx_dynbuf_free(&out);
    for (i = 0; i < WX_MX_HIST_N + 2; i++)
        wx_mx[WX_MX_APP + i] = 0;
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("pool");

    tcase_add_test(tc, test_pool_sums_survive_workers);
    tcase_add_test(tc, test_pool_full_and_status);
    tcase_add_test(tc, test_short_histogram);
    suite_add_tcase(s, tc);
    return s;
}
