/*
 * wx/server/metrics.h - the counters of a server's pool, in shared memory,
 * and their Prometheus text exposition.
 *
 * The master maps one pool (anonymous, MAP_SHARED) before it forks: a
 * header the master alone writes (workers started, died, recycled,
 * reloads) and one cache-line-aligned slot per worker.  A worker owns
 * its slot: it is the only writer of its counters, which are plain
 * increments (no lock, no system call: the hot path's cost).  A scrape,
 * in any worker, sums every slot ever used.  A slot freed by a dead
 * worker keeps its counters and the next worker given it adds to them,
 * so a sum never goes backwards.  A child process a worker forks (a late
 * delivery) adds with an atomic increment: it shares the slot.
 *
 * Under spawn-fcgi there is no master: each worker has a pool of one
 * slot and a scrape shows the worker that answered it.
 *
 * wx_mx is the calling process's counters: its slot, or a private array
 * when it has none (unit tests, the master, a process without a pool),
 * so an increment is always safe.  Counters below WX_MX_APP are the
 * framework's (the request histogram); a program's start there.
 */
#ifndef WX_METRICS_H
#define WX_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wx/core/dynbuf.h"

#define WX_MX_MAX        8192   /* counters a program may declare, framework's included */
#define WX_MX_HIST_N     13     /* bounds of the framework's request histogram */
#define WX_MX_REQ_HIST   0      /* its buckets (WX_MX_HIST_N + 1, +Inf last), then the sum in us */
#define WX_MX_APP        (WX_MX_REQ_HIST + WX_MX_HIST_N + 2)

extern uint64_t *wx_mx;

static inline void wx_mx_inc(unsigned i)
{
    wx_mx[i]++;
}

/* For a child process that shares its worker's slot. */
static inline void wx_mx_inc_shared(unsigned i)
{
    __atomic_fetch_add(&wx_mx[i], 1, __ATOMIC_RELAXED);
}

/* Count 'us' microseconds into the histogram whose buckets start at 'base'
 * (bounds: wx_mx_bounds_us, 500 us to 5 s). */
void wx_mx_observe(unsigned base, uint64_t us);
/* The same for a WX_MT_HISTOGRAM_SHORT family (bounds 10 us to 100 ms):
 * work that takes microseconds, which the default bounds would all put
 * in their first bucket. */
void wx_mx_observe_short(unsigned base, uint64_t us);

typedef enum { WX_MT_COUNTER, WX_MT_HISTOGRAM, WX_MT_HISTOGRAM_SHORT } wx_mx_type_t;

typedef struct wx_mx_dim {
    const char          *label;
    const char *const   *values;
    unsigned             n;
} wx_mx_dim_t;

/* A family of counters: the counter of the labels (v0, v1, v2) is
 * base + (v0 * n1 + v1) * n2 + v2.  A histogram (of either kind) has no
 * labels and uses WX_MX_HIST_N + 2 counters. */
typedef struct wx_mx_family {
    const char     *name;           /* without the program's prefix */
    const char     *help;
    wx_mx_type_t    type;
    unsigned        base;
    wx_mx_dim_t     dims[3];
    unsigned        n_dims;
} wx_mx_family_t;

/* How many counters a family uses. */
unsigned wx_mx_family_size(const wx_mx_family_t *f);

typedef struct wx_mx_pool wx_mx_pool_t;

/* A pool of 'slots' slots of 'counters' counters (at most WX_MX_MAX), or
 * NULL (logged). */
wx_mx_pool_t *wx_mx_pool_new(unsigned slots, unsigned counters);
void wx_mx_pool_free(wx_mx_pool_t *p);

/* The pool of this process (set by wx_mx_enter), or NULL. */
wx_mx_pool_t *wx_mx_pool(void);

/* Master: a free slot for the next worker, or -1 when all are taken (that
 * worker then counts into its private array: logged). */
int wx_mx_claim(wx_mx_pool_t *p);
/* Master, after the fork: slot 'i' is pid's.  Child: make slot 'i' its
 * counters (wx_mx). */
void wx_mx_started(wx_mx_pool_t *p, int i, pid_t pid);
void wx_mx_enter(wx_mx_pool_t *p, int i);
/* Master: pid ended with wait status 'st' (recycled: exited 0); its slot
 * is free again. */
void wx_mx_ended(wx_mx_pool_t *p, pid_t pid, int st);
void wx_mx_reloaded(wx_mx_pool_t *p);

/* Worker: a request starts (its start in monotonic microseconds) and
 * ends (counted; timed into the request histogram unless 'timed' is 0):
 * the status page's state and age. */
uint64_t wx_mx_busy(void);
void wx_mx_idle(uint64_t t0, int timed);

/* Sum every used slot into 'sums' (the pool's counter count). */
void wx_mx_sum(const wx_mx_pool_t *p, uint64_t *sums);
unsigned wx_mx_counters(const wx_mx_pool_t *p);

/* The exposition: the framework's families (workers, reloads, the request
 * histogram) under 'prefix', then the program's; and a gauge line. */
int wx_mx_write_pool(wx_dynbuf_t *out, const wx_mx_pool_t *p, const char *prefix,
                     const uint64_t *sums);
int wx_mx_write(wx_dynbuf_t *out, const char *prefix, const wx_mx_family_t *f, size_t n,
                const uint64_t *sums);
int wx_mx_gauge(wx_dynbuf_t *out, const char *prefix, const char *name, const char *help,
                double value);
/* printf into 'out': 0, or -1 when it is full. */
int wx_mx_printf(wx_dynbuf_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The status page: each worker's pid, state, requests, start and the age
 * of its current request, as text or JSON. */
int wx_mx_status(wx_dynbuf_t *out, const wx_mx_pool_t *p, const char *prog, int json);

#endif
