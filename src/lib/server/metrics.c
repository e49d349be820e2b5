/* metrics.c - the pool's counters and their exposition (see wx/server/metrics.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/server/metrics.h"

#define WX_MX_LINE      64
#define WX_MX_SIGNALS   32

enum { WX_MX_FREE, WX_MX_IDLE, WX_MX_BUSY };

/* The status of a slot's worker: written by the worker (state, requests,
 * since_ms) and by the master (pid, started, state on claim and end). */
typedef struct wx_mx_worker {
    int32_t     pid;
    uint32_t    state;
    uint32_t    used;           /* ever given to a worker: summed by a scrape */
    uint32_t    pad;
    uint64_t    requests;       /* served by this worker */
    int64_t     started_wall_ms;
    int64_t     since_ms;       /* monotonic: when the current request began */
} wx_mx_worker_t;

/* Written by the master alone. */
typedef struct wx_mx_head {
    uint64_t    started, recycled, reloads, died_exit;
    uint64_t    died_signal[WX_MX_SIGNALS];
    int64_t     master_started_wall_ms;
    int32_t     master_pid;
} wx_mx_head_t;

struct wx_mx_pool {
    unsigned        n_slots, n_counters;
    size_t          slot_size, size;
    char           *map;        /* head, then the slots, each WX_MX_LINE-aligned */
};

static uint64_t wx_mx_private[WX_MX_MAX];
static wx_mx_worker_t wx_mx_private_worker;
uint64_t *wx_mx = wx_mx_private;
static wx_mx_worker_t *wx_mx_me = &wx_mx_private_worker;
static wx_mx_pool_t *wx_mx_current;

/* Upper bounds of the request histogram, in microseconds. */
static const uint64_t wx_mx_bounds_us[WX_MX_HIST_N] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000
};

/* Those of a WX_MT_HISTOGRAM_SHORT family. */
static const uint64_t wx_mx_short_bounds_us[WX_MX_HIST_N] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000
};

static size_t round_line(size_t n)
{
    return (n + WX_MX_LINE - 1) / WX_MX_LINE * WX_MX_LINE;
}

static wx_mx_head_t *head(const wx_mx_pool_t *p)
{
    return (wx_mx_head_t *)(void *)p->map;
}

static wx_mx_worker_t *slot(const wx_mx_pool_t *p, unsigned i)
{
    return (wx_mx_worker_t *)(void *)(p->map + round_line(sizeof(wx_mx_head_t)) +
                                      (size_t)i * p->slot_size);
}

static uint64_t *counters(const wx_mx_pool_t *p, unsigned i)
{
    return (uint64_t *)(void *)((char *)slot(p, i) + round_line(sizeof(wx_mx_worker_t)));
}

static void observe(const uint64_t *bounds, unsigned base, uint64_t us)
{
    unsigned b = 0;

    while (b < WX_MX_HIST_N && us > bounds[b])
        b++;
    wx_mx[base + b]++;
    wx_mx[base + WX_MX_HIST_N + 1] += us;
}

void wx_mx_observe(unsigned base, uint64_t us)
{
    observe(wx_mx_bounds_us, base, us);
}

void wx_mx_observe_short(unsigned base, uint64_t us)
{
    observe(wx_mx_short_bounds_us, base, us);
}

unsigned wx_mx_family_size(const wx_mx_family_t *f)
{
    unsigned i, n = 1;

    if (f->type != WX_MT_COUNTER)
        return WX_MX_HIST_N + 2;
    for (i = 0; i < f->n_dims; i++)
        n *= f->dims[i].n;
    return n;
}

wx_mx_pool_t *wx_mx_pool_new(unsigned slots, unsigned n)
{
    wx_mx_pool_t *p;

    if (n > WX_MX_MAX || slots == 0) {
        wx_log(WX_LOG_ERROR, "metrics: %u counters in %u slots: at most %u counters, "
               "one slot at least", n, slots, WX_MX_MAX);
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto fail;
    p->n_slots = slots;
    p->n_counters = n;
    p->slot_size = round_line(sizeof(wx_mx_worker_t)) + round_line(n * sizeof(uint64_t));
    p->size = round_line(sizeof(wx_mx_head_t)) + slots * p->slot_size;
    p->map = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p->map == MAP_FAILED)
        goto fail;
    head(p)->master_pid = (int32_t)getpid();
    head(p)->master_started_wall_ms = wx_wall_ms();
    return p;
fail:
    wx_log(WX_LOG_ERROR, "metrics: no shared memory for %u slots of %u counters", slots, n);
    free(p);
    return NULL;
}

void wx_mx_pool_free(wx_mx_pool_t *p)
{
    if (p == NULL)
        return;
    if (wx_mx_current == p) {
        wx_mx = wx_mx_private;
        wx_mx_me = &wx_mx_private_worker;
        wx_mx_current = NULL;
    }
    munmap(p->map, p->size);
    free(p);
}

wx_mx_pool_t *wx_mx_pool(void)
{
    return wx_mx_current;
}

int wx_mx_claim(wx_mx_pool_t *p)
{
    unsigned i;

    if (p == NULL)
        return -1;
    for (i = 0; i < p->n_slots; i++) {
        wx_mx_worker_t *w = slot(p, i);

        if (w->state == WX_MX_FREE) {
            w->pid = 0;
            w->requests = 0;
            w->since_ms = 0;
            w->started_wall_ms = wx_wall_ms();
            w->used = 1;
            w->state = WX_MX_IDLE;
            return (int)i;
        }
    }
    wx_log(WX_LOG_WARN, "metrics: all %u slots are taken: the next worker is not counted",
           p->n_slots);
    return -1;
}

void wx_mx_started(wx_mx_pool_t *p, int i, pid_t pid)
{
    if (p == NULL)
        return;
    head(p)->started++;
    if (i >= 0)
        slot(p, (unsigned)i)->pid = (int32_t)pid;
}

void wx_mx_enter(wx_mx_pool_t *p, int i)
{
    if (p == NULL || i < 0)
        return;
    wx_mx_current = p;
    wx_mx_me = slot(p, (unsigned)i);
    wx_mx_me->pid = (int32_t)getpid();
    wx_mx = counters(p, (unsigned)i);
}

void wx_mx_ended(wx_mx_pool_t *p, pid_t pid, int st)
{
    wx_mx_head_t *h;
    unsigned i;

    if (p == NULL)
        return;
    h = head(p);
    if (WIFSIGNALED(st))
        h->died_signal[WTERMSIG(st) < WX_MX_SIGNALS ? WTERMSIG(st) : 0]++;
    else if (WEXITSTATUS(st) != 0)
        h->died_exit++;
    else
        h->recycled++;
    for (i = 0; i < p->n_slots; i++) {
        wx_mx_worker_t *w = slot(p, i);

        if (w->state != WX_MX_FREE && w->pid == (int32_t)pid) {
            w->state = WX_MX_FREE;
            return;
        }
    }
}

void wx_mx_reloaded(wx_mx_pool_t *p)
{
    if (p)
        head(p)->reloads++;
}

/* CLOCK_MONOTONIC through the vDSO: no system call. */
static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t wx_mx_busy(void)
{
    uint64_t t0 = now_us();

    wx_mx_me->since_ms = (int64_t)(t0 / 1000);
    wx_mx_me->state = WX_MX_BUSY;
    return t0;
}

void wx_mx_idle(uint64_t t0, int timed)
{
    wx_mx_me->requests++;
    wx_mx_me->state = WX_MX_IDLE;
    if (timed)
        wx_mx_observe(WX_MX_REQ_HIST, now_us() - t0);
}

unsigned wx_mx_counters(const wx_mx_pool_t *p)
{
    return p ? p->n_counters : WX_MX_MAX;
}

void wx_mx_sum(const wx_mx_pool_t *p, uint64_t *sums)
{
    unsigned i, k;

    if (p == NULL) {
        memcpy(sums, wx_mx_private, sizeof(wx_mx_private));
        return;
    }
    memset(sums, 0, p->n_counters * sizeof(*sums));
    for (i = 0; i < p->n_slots; i++) {
        const uint64_t *c = counters(p, i);

        /* A slot never used was never touched: its pages stay unmapped. */
        if (!slot(p, i)->used)
            continue;
        for (k = 0; k < p->n_counters; k++)
            sums[k] += __atomic_load_n(&c[k], __ATOMIC_RELAXED);
    }
}

int wx_mx_printf(wx_dynbuf_t *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    return wx_dynbuf_add(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int write_head(wx_dynbuf_t *out, const char *prefix, const char *name,
                      const char *help, const char *type)
{
    return wx_mx_printf(out, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", prefix, name, help,
                        prefix, name, type);
}

static int write_histogram(wx_dynbuf_t *out, const char *prefix, const char *name,
                           const uint64_t *bounds, const uint64_t *c)
{
    uint64_t cum = 0;
    unsigned b;
    int rc = 0;

    for (b = 0; b <= WX_MX_HIST_N; b++) {
        cum += c[b];
        if (b < WX_MX_HIST_N)
            rc |= wx_mx_printf(out, "%s_%s_bucket{le=\"%g\"} %llu\n", prefix, name,
                               (double)bounds[b] / 1e6, (unsigned long long)cum);
        else
            rc |= wx_mx_printf(out, "%s_%s_bucket{le=\"+Inf\"} %llu\n", prefix, name,
                               (unsigned long long)cum);
    }
    rc |= wx_mx_printf(out, "%s_%s_sum %.6f\n%s_%s_count %llu\n", prefix, name,
                       (double)c[WX_MX_HIST_N + 1] / 1e6, prefix, name,
                       (unsigned long long)cum);
    return rc;
}

/* One sample line of a labelled counter: the labels of index 'k'. */
static int write_sample(wx_dynbuf_t *out, const char *prefix, const wx_mx_family_t *f,
                        unsigned k, uint64_t v)
{
    char labels[256];
    size_t len = 0;
    unsigned d, rest = k, div = wx_mx_family_size(f);

    labels[0] = '\0';
    for (d = 0; d < f->n_dims; d++) {
        unsigned at;

        div /= f->dims[d].n;
        at = rest / div;
        rest %= div;
        len += (size_t)snprintf(labels + len, sizeof(labels) - len, "%s%s=\"%s\"",
                                d ? "," : "", f->dims[d].label, f->dims[d].values[at]);
        if (len >= sizeof(labels))
            return -1;
    }
    return wx_mx_printf(out, "%s_%s%s%s%s %llu\n", prefix, f->name, f->n_dims ? "{" : "",
                        labels, f->n_dims ? "}" : "", (unsigned long long)v);
}

int wx_mx_write(wx_dynbuf_t *out, const char *prefix, const wx_mx_family_t *f, size_t n,
                const uint64_t *sums)
{
    size_t i;
    unsigned k;
    int rc = 0;

    for (i = 0; i < n; i++) {
        unsigned size = wx_mx_family_size(&f[i]);

        rc |= write_head(out, prefix, f[i].name, f[i].help,
                         f[i].type == WX_MT_COUNTER ? "counter" : "histogram");
        if (f[i].type != WX_MT_COUNTER) {
            rc |= write_histogram(out, prefix, f[i].name, f[i].type == WX_MT_HISTOGRAM ?
                                  wx_mx_bounds_us : wx_mx_short_bounds_us, sums + f[i].base);
            continue;
        }
        for (k = 0; k < size; k++)
            rc |= write_sample(out, prefix, &f[i], k, sums[f[i].base + k]);
    }
    return rc;
}

int wx_mx_gauge(wx_dynbuf_t *out, const char *prefix, const char *name, const char *help,
                double value)
{
    return write_head(out, prefix, name, help, "gauge") |
           wx_mx_printf(out, "%s_%s %.15g\n", prefix, name, value);
}

int wx_mx_write_pool(wx_dynbuf_t *out, const wx_mx_pool_t *p, const char *prefix,
                     const uint64_t *sums)
{
    static const wx_mx_head_t none;
    const wx_mx_head_t *h = p ? head(p) : &none;
    unsigned i, alive = 0;
    int rc = 0;

    for (i = 0; p && i < p->n_slots; i++)
        alive += slot(p, i)->state != WX_MX_FREE;
    if (p == NULL)
        alive = 1;
    rc |= wx_mx_gauge(out, prefix, "workers_alive", "Worker processes running.", alive);
    rc |= write_head(out, prefix, "workers_started_total", "Workers the master started.",
                     "counter");
    rc |= wx_mx_printf(out, "%s_workers_started_total %llu\n", prefix,
                       (unsigned long long)h->started);
    rc |= write_head(out, prefix, "workers_recycled_total",
                     "Workers that left after max_requests (exit status 0).", "counter");
    rc |= wx_mx_printf(out, "%s_workers_recycled_total %llu\n", prefix,
                       (unsigned long long)h->recycled);
    rc |= write_head(out, prefix, "workers_died_total",
                     "Workers that died: by signal, or exit for a non-zero status.", "counter");
    rc |= wx_mx_printf(out, "%s_workers_died_total{signal=\"none\"} %llu\n", prefix,
                       (unsigned long long)h->died_exit);
    for (i = 1; i < WX_MX_SIGNALS; i++)
        if (h->died_signal[i] || i == 6 || i == 9 || i == 11)
            rc |= wx_mx_printf(out, "%s_workers_died_total{signal=\"%s\"} %llu\n", prefix,
                               sigabbrev_np((int)i) ? sigabbrev_np((int)i) : "?",
                               (unsigned long long)h->died_signal[i]);
    rc |= write_head(out, prefix, "reloads_total", "Reloads (HUP) that took a new config.",
                     "counter");
    rc |= wx_mx_printf(out, "%s_reloads_total %llu\n", prefix, (unsigned long long)h->reloads);
    rc |= write_head(out, prefix, "request_duration_seconds",
                     "Time from accepting a request to its answer written.", "histogram");
    rc |= write_histogram(out, prefix, "request_duration_seconds", wx_mx_bounds_us,
                          sums + WX_MX_REQ_HIST);
    return rc;
}

static const char *state_name(uint32_t st)
{
    return st == WX_MX_BUSY ? "busy" : st == WX_MX_IDLE ? "idle" : "free";
}

int wx_mx_status(wx_dynbuf_t *out, const wx_mx_pool_t *p, const char *prog, int json)
{
    const wx_mx_head_t *h = p ? head(p) : NULL;
    int64_t now = (int64_t)(now_us() / 1000);
    unsigned i, n = p ? p->n_slots : 1, listed = 0;
    int rc = 0;

    if (json)
        rc |= wx_mx_printf(out, "{\"program\":\"%s\",\"master_pid\":%ld,\"started_ms\":%lld,"
                           "\"workers\":[", prog, h ? (long)h->master_pid : 0L,
                           h ? (long long)h->master_started_wall_ms : 0LL);
    else
        rc |= wx_mx_printf(out, "program: %s\nmaster pid: %ld\n%-8s %-5s %10s %-24s %s\n",
                           prog, h ? (long)h->master_pid : 0L, "pid", "state", "requests",
                           "started", "request age ms");
    for (i = 0; i < n; i++) {
        const wx_mx_worker_t *w = p ? slot(p, i) : wx_mx_me;
        long long age = w->state == WX_MX_BUSY ? (long long)(now - w->since_ms) : 0;
        char when[32];
        time_t t;
        struct tm tm;

        if (p && w->state == WX_MX_FREE)
            continue;
        t = (time_t)(w->started_wall_ms / 1000);
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (json)
            rc |= wx_mx_printf(out, "%s{\"pid\":%ld,\"state\":\"%s\",\"requests\":%llu,"
                               "\"started\":\"%s\",\"request_age_ms\":%lld}",
                               listed ? "," : "", (long)w->pid, state_name(w->state),
                               (unsigned long long)w->requests, when, age);
        else
            rc |= wx_mx_printf(out, "%-8ld %-5s %10llu %-24s %lld\n", (long)w->pid,
                               state_name(w->state), (unsigned long long)w->requests, when,
                               age);
        listed++;
    }
    if (json)
        rc |= wx_mx_printf(out, "]}\n");
    return rc;
}
