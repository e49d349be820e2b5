/*
 * push_report.c - what wxsim push tells (push.h): a line per message on
 * stdout, the progress and the summary on stderr, the figures as JSON
 * (--report) and as a picture (--plot, gnuplot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "wxsim/push.h"

static const char *const names[PUSH__OUTCOMES] = {
    "pending", "answered", "success", "error shown", "malformed"
};

const char *push_outcome_name(push_outcome_t o)
{
    return names[o];
}

void push_report_line(const push_msg_t *m, const push_opts_t *o)
{
    if (o->quiet)
        return;
    if (o->json) {
        json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "seq", (json_int_t)m->seq,
                              "follower", m->openid, "kind", m->kind, "id", m->id, "outcome",
                              names[m->outcome], "attempts", (json_int_t)m->attempts,
                              "latency_ms", (json_int_t)m->latency_ms, "saw", m->desc);

        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            putchar('\n');
            json_decref(j);
        }
        return;
    }
    printf("%u %s %s %s: %s after %u attempt%s, %lld ms: %s\n", m->seq, m->openid, m->kind,
           m->id, names[m->outcome], m->attempts, m->attempts == 1 ? "" : "s", m->latency_ms,
           m->desc);
}

void push_report_progress(const push_stats_t *st, size_t inflight, double secs)
{
    if (!isatty(2))
        return;
    fprintf(stderr, "\r%6.1f s  sent %lu  in flight %zu  answered %lu  success %lu  "
            "error shown %lu  retries %lu  ", secs, st->attempts - st->retries, inflight,
            st->outcomes[PUSH_ANSWERED], st->outcomes[PUSH_SUCCESS],
            st->outcomes[PUSH_ERROR_SHOWN], st->retries);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

static long long pct(const long long *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Two messages of one follower and one id with different replies. */
static unsigned long duplicates(push_msg_t **msgs, size_t n)
{
    unsigned long d = 0;
    size_t i, j;

    for (i = 0; i < n && n < 4096; i++)
        for (j = i + 1; j < n; j++)
            if (strcmp(msgs[i]->id, "-") != 0 && strcmp(msgs[i]->id, msgs[j]->id) == 0 &&
                strcmp(msgs[i]->openid, msgs[j]->openid) == 0 &&
                msgs[i]->outcome == PUSH_ANSWERED && msgs[j]->outcome == PUSH_ANSWERED &&
                strcmp(msgs[i]->desc, msgs[j]->desc) != 0)
                d++;
    return d;
}

static json_t *seconds_json(push_msg_t **msgs, size_t n, const push_stats_t *st, FILE *dat)
{
    size_t secs = (size_t)st->elapsed_s + 1, i, s;
    json_t *arr = json_array();
    long long *lat = malloc(n * sizeof(*lat));

    for (s = 0; arr && lat && s < secs; s++) {
        unsigned long c[PUSH__OUTCOMES] = { 0 };
        size_t k = 0;

        for (i = 0; i < n; i++) {
            const push_msg_t *m = msgs[i];

            if ((size_t)((m->due_ms - st->t0_ms) / 1000) != s)
                continue;
            c[m->outcome]++;
            lat[k++] = m->latency_ms;
        }
        qsort(lat, k, sizeof(*lat), cmp_ll);
        json_array_append_new(arr, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "second",
            (json_int_t)s, "sent", (json_int_t)k, "answered", (json_int_t)c[PUSH_ANSWERED],
            "error_shown", (json_int_t)c[PUSH_ERROR_SHOWN], "p50_ms",
            (json_int_t)pct(lat, k, .5), "p99_ms", (json_int_t)pct(lat, k, .99),
            "max_ms", (json_int_t)(k ? lat[k - 1] : 0)));
        if (dat)
            fprintf(dat, "%zu %lld %lld %lld %lu %lu %lu\n", s, pct(lat, k, .5),
                    pct(lat, k, .9), pct(lat, k, .99), c[PUSH_ANSWERED], c[PUSH_SUCCESS],
                    c[PUSH_ERROR_SHOWN] + c[PUSH_MALFORMED]);
    }
    free(lat);
    return arr;
}

static int plot(const char *png, const char *dat, const push_stats_t *st)
{
    FILE *g = popen("gnuplot", "w");
    size_t i;

    if (g == NULL)
        return -1;
    fprintf(g, "set terminal pngcairo size 1000,600\nset output '%s'\n"
            "set multiplot layout 2,1\nset grid\nset ylabel 'latency (ms)'\n", png);
    for (i = 0; i < st->n_kills_at; i++)
        fprintf(g, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead lc rgb 'red'\n",
                (double)st->kill_at_ms[i] / 1000.0, (double)st->kill_at_ms[i] / 1000.0);
    fprintf(g, "plot '%s' u 1:2 w l t 'p50', '' u 1:3 w l t 'p90', '' u 1:4 w l t 'p99'\n"
            "set ylabel 'messages'\nset xlabel 'second (red: a kill)'\n"
            "plot '%s' u 1:5 w l t 'answered', '' u 1:6 w l t 'success', "
            "'' u 1:7 w l t 'error shown'\nunset multiplot\n", dat, dat);
    return pclose(g) == 0 ? 0 : -1;
}

static int write_files(push_msg_t **msgs, size_t n, const push_stats_t *st, const push_opts_t *o,
                       json_t *rep)
{
    char dat[] = "/tmp/wxsim-push.XXXXXX";
    FILE *df = NULL;
    int fd = -1, rc = 0;

    if (o->plot && ((fd = mkstemp(dat)) < 0 || (df = fdopen(fd, "w")) == NULL)) {
        fprintf(stderr, "wxsim push: cannot write the plot's data\n");
        rc = -1;
    }
    json_object_set_new(rep, "per_second", seconds_json(msgs, n, st, df));
    if (df) {
        fclose(df);
        if (plot(o->plot, dat, st) != 0) {
            fprintf(stderr, "wxsim push: gnuplot failed to draw %s\n", o->plot);
            rc = -1;
        }
        unlink(dat);
    } else if (fd >= 0) {
        close(fd);
        unlink(dat);
    }
    if (o->report && json_dump_file(rep, o->report, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "wxsim push: cannot write %s\n", o->report);
        rc = -1;
    }
    return rc;
}

int push_report_end(push_msg_t **msgs, size_t n, const push_stats_t *st, const push_opts_t *o)
{
    long long *lat = malloc((n ? n : 1) * sizeof(*lat));
    unsigned long dup = duplicates(msgs, n) + st->duplicates;
    json_t *rep;
    size_t i;
    int rc = 0;

    if (lat == NULL)
        return -1;
    for (i = 0; i < n; i++)
        lat[i] = msgs[i]->latency_ms;
    qsort(lat, n, sizeof(*lat), cmp_ll);
    if (isatty(2) && o->rate > 0)
        fputc('\n', stderr);
    fprintf(stderr, "wxsim push: %lu messages in %.1f s (%.1f/s), %lu attempts, %lu retries; "
            "answered %lu, success %lu, error shown %lu, malformed %lu; duplicates %lu; "
            "kills %lu; latency ms p50 %lld p90 %lld p99 %lld max %lld\n", st->messages,
            st->elapsed_s, st->elapsed_s > 0 ? (double)st->messages / st->elapsed_s : 0.0,
            st->attempts, st->retries, st->outcomes[PUSH_ANSWERED], st->outcomes[PUSH_SUCCESS],
            st->outcomes[PUSH_ERROR_SHOWN], st->outcomes[PUSH_MALFORMED], dup, st->kills,
            pct(lat, n, .5), pct(lat, n, .9), pct(lat, n, .99), n ? lat[n - 1] : 0);
    if (o->report || o->plot) {
        rep = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:{s:I,s:I,s:I,s:I}}",
            "messages", (json_int_t)st->messages, "attempts", (json_int_t)st->attempts,
            "retries", (json_int_t)st->retries,
            "answered", (json_int_t)st->outcomes[PUSH_ANSWERED],
            "success", (json_int_t)st->outcomes[PUSH_SUCCESS],
            "error_shown", (json_int_t)st->outcomes[PUSH_ERROR_SHOWN],
            "malformed", (json_int_t)st->outcomes[PUSH_MALFORMED],
            "duplicates", (json_int_t)dup, "kills", (json_int_t)st->kills,
            "seconds", st->elapsed_s, "rate", o->rate,
            "latency_ms", "p50", (json_int_t)pct(lat, n, .5), "p90", (json_int_t)pct(lat, n, .9),
            "p99", (json_int_t)pct(lat, n, .99), "max", (json_int_t)(n ? lat[n - 1] : 0));
        rc = rep ? write_files(msgs, n, st, o, rep) : -1;
        json_decref(rep);
    }
    free(lat);
    return rc;
}
