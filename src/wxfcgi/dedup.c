/* dedup.c - the retry table's policy over the store's leases (see
 * wxfcgi/dedup.h). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wxfcgi/dedup.h"
#include "wxfcgi/metrics.h"
#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/core/shm.h"
#include "wx/proto/sign.h"
#include "wx/state/state_conf.h"

#define WX_DEDUP_NS         "dedup"
/* A retry that finds its message in progress asks again after 5 ms, then
 * twice as long each time up to 50 ms: a reply that comes within the
 * wait is passed on at most 50 ms late, and a retry waiting out a slow
 * handler costs a shared store some 20 claims a second, not 200.  (Pub/sub
 * would wake it at once, but costs a PUBLISH on every message's finish,
 * whether or not anyone waits, and a second connection per waiter;
 * retries that wait are rare: WeChat retries after 5 s.) */
#define WX_DEDUP_POLL_MS        5
#define WX_DEDUP_POLL_MAX_MS    50
/* How long a claim holds a message.  A worker answers within
 * reply_budget_ms (at most 4900 ms) and finishes its claim then, and
 * WeChat sends a retry only after waiting 5 s for an answer (PROTOCOL.md
 * 3.1): a claim still held when a retry arrives belongs to a worker, or
 * a host, that died.  A shared store cannot see that a process on another
 * host died, so the lease alone ends the claim: at 5 s the first retry
 * takes the message over and answers it, where a longer lease would have
 * all three retries answer "success" and the message go unanswered.  (The
 * local store also takes over at once a claim whose process is gone.) */
#define WX_DEDUP_LEASE_MS   5000

_Static_assert(WXF_MX_REDIS_KINDS == WX_STORE_FAIL_OTHER + 1,
               "a counter for each kind of failure");

/* Whether the shared store is down, for every worker of the host: in a
 * file beside the local table (STATE_DIR/dedup.shm.outage), so that the
 * fall-back and the return are logged once a host, not once a worker,
 * under the master and under spawn-fcgi alike.  Atomic words: no lock.
 * The flag is an epoch, odd while down: a worker whose command began
 * before an outage was marked and answered after it is no proof that the
 * server came back, so only one that read the epoch odd before its command
 * and still finds it so after ends the outage. */
#define WX_OUTAGE_MAGIC     0x7778646fU
#define WX_OUTAGE_VERSION   1U

typedef struct wx_outage {
    wx_shm_hdr_t    shm;
    uint64_t        epoch;      /* odd: down (the fall-back logged, not the return) */
    uint64_t        fallbacks;  /* messages on the local tables meanwhile */
} wx_outage_t;

struct wx_dedup {
    wx_store_t         *st;         /* the configured store */
    wx_store_t         *local;      /* redis: this host's table, while redis fails */
    wx_store_t         *cur;        /* the store of the claim in progress */
    wx_shm_t            map;        /* the outage flag's file */
    wx_outage_t        *out;        /* in 'map', or 'own' when it cannot be mapped */
    wx_outage_t         own;
    unsigned long       lost;       /* wx_store_lost(st) seen */
    unsigned long       evicted;    /* wx_store_evictions() counted, both stores */
};

void wx_dedup_store_conf(const wxfcgi_conf_t *cfg, wx_store_conf_t *conf, char *path,
                         size_t pathlen)
{
    memset(conf, 0, sizeof(*conf));
    conf->backend = "local";
    wx_state_store_conf(&cfg->state, conf);
    snprintf(path, pathlen, "%s/dedup.shm", cfg->fcgi.state_dir);
    conf->lease.path = path;
    conf->lease.name = "dedup table";
    conf->lease.slots = cfg->fcgi.dedup_slots;
    conf->lease.slot_size = WX_DEDUP_SLOT_SIZE;
}

static void outage_open(wx_dedup_t *d, const char *table)
{
    wx_shm_spec_t spec = { "retry table's outage flag", "remove it", WX_OUTAGE_MAGIC,
                           WX_OUTAGE_VERSION, 0, sizeof(wx_outage_t) };
    char path[4200], err[512];

    d->out = &d->own;
    snprintf(path, sizeof(path), "%s.outage", table ? table : "dedup.shm");
    if (wx_shm_open(&d->map, path, &spec, err, sizeof(err)) != WX_OK)
        wx_log(WX_LOG_WARN, "dedup: %s: an outage is logged by each worker", err);
    else
        d->out = (wx_outage_t *)(void *)d->map.map;
}

wx_dedup_t *wx_dedup_open(const wx_store_conf_t *conf, char *err, size_t errlen)
{
    wx_dedup_t *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        snprintf(err, errlen, "dedup: out of memory");
        return NULL;
    }
    d->st = wx_store_open(conf, err, errlen);
    if (d->st == NULL) {
        free(d);
        return NULL;
    }
    if (strcmp(wx_store_backend(d->st), "local") != 0) {
        wx_store_conf_t lc = *conf;

        /* When the shared store fails, this host's own table still keeps
         * the retries that land here from running the handler twice. */
        lc.backend = "local";
        d->local = wx_store_open(&lc, err, errlen);
        if (d->local == NULL) {
            wx_dedup_close(d);
            return NULL;
        }
        outage_open(d, conf->lease.path);
    }
    d->cur = d->st;
    return d;
}

void wx_dedup_close(wx_dedup_t *d)
{
    if (d == NULL)
        return;
    wx_store_close(d->st);
    wx_store_close(d->local);
    wx_shm_close(&d->map);
    free(d);
}

wx_err_t wx_dedup_key(const wx_msg_t *msg, wx_str_t account, unsigned char key[20])
{
    wx_str_t parts[7], *p = parts + 2;
    size_t n = 2;

    /* PROTOCOL.md 3.1: messages by MsgId, events by sender and time (and,
     * as two events can share a second, their name and key).  A MsgId is
     * unique per sender only: two followers' messages may share one, so
     * the sender is part of a message's identity too. */
    /* An [account.NAME]'s messages ("NAME:APPID", no '\n' in it, first):
     * two accounts' followers have their own openids and MsgIds, which
     * may meet.  [wx]'s (no namespace) keep the keys of a stack of one
     * account, and its cost: the namespace takes SHA-1 a block further. */
    parts[0] = account;
    parts[1] = WX_STR("\n");
    if (account.len == 0) {
        p = parts;
        n = 0;
    }
    if (msg->type != WX_MSG_EVENT && msg->has_msg_id) {
        p[0] = WX_STR("m");
        p[1] = msg->from_user;
        p[2] = WX_STR("\n");
        p[3] = msg->msg_id_s;
        return wx_sha1_parts(parts, n + 4, key);
    }
    p[0] = WX_STR("e");
    p[1] = msg->from_user;
    p[2] = msg->create_time_s;
    p[3] = msg->event_name;
    p[4] = msg->event_key;
    return wx_sha1_parts(parts, n + 5, key);
}

/* Count a failure of the shared store 'st' (by its kind; one not even
 * tried, in a backoff, is no new error); 'shared': from a child process
 * that shares its worker's counters. */
void wx_dedup_count_error(const wx_store_t *st, int shared)
{
    wx_store_fail_t kind = wx_store_fail_kind(st);

    if (kind > WX_STORE_FAIL_OTHER || strcmp(wx_store_backend(st), "local") == 0)
        return;
    if (shared)
        wx_mx_inc_shared(WXF_MX_REDIS_ERRORS + kind);
    else
        wx_mx_inc(WXF_MX_REDIS_ERRORS + kind);
}

/* The evictions of both stores since the last look, counted. */
static void count_evictions(wx_dedup_t *d)
{
    unsigned long n = wx_store_evictions(d->st) + (d->local ? wx_store_evictions(d->local) : 0);

    for (; d->evicted < n; d->evicted++)
        wx_mx_inc(WXF_MX_RETRY_EVICTIONS);
}

/* The shared store failed: this message goes to this host's table.  The
 * fall-back is logged once an outage on this host, by the first worker
 * whose command failed (a worker in its backoff, which tried nothing,
 * neither logs nor marks an outage: it may be the last to see the
 * server back); the store itself tries the server again at most once a
 * backoff period (a connect bounded by timeout_ms), so a message
 * meanwhile costs no wait. */
static void outage(wx_dedup_t *d)
{
    uint64_t e = __atomic_load_n(&d->out->epoch, __ATOMIC_ACQUIRE);

    wx_dedup_count_error(d->st, 0);
    if (wx_store_fail_kind(d->st) != WX_STORE_FAIL_BACKOFF && e % 2 == 0 &&
        __atomic_compare_exchange_n(&d->out->epoch, &e, e + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        wx_log(WX_LOG_ERROR, "dedup: %s: retries are de-duplicated on this host "
               "alone until it answers again", wx_store_error(d->st));
}

static wx_store_t *fall_back(wx_dedup_t *d)
{
    outage(d);
    wx_mx_inc(WXF_MX_REDIS_FALLBACKS);
    __atomic_fetch_add(&d->out->fallbacks, 1, __ATOMIC_RELAXED);
    return d->local;
}

/* The shared store answered a command begun at epoch 'seen': the return
 * is logged by the first worker of the host to see it.  Two loads a
 * message otherwise. */
static void back(wx_dedup_t *d, uint64_t seen)
{
    unsigned long lost;

    if (seen % 2 == 1 &&
        __atomic_compare_exchange_n(&d->out->epoch, &seen, seen + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        wx_log(WX_LOG_INFO, "dedup: the %s store answers again; %llu message(s) were "
               "de-duplicated on this host alone meanwhile", wx_store_backend(d->st),
               (unsigned long long)__atomic_exchange_n(&d->out->fallbacks, 0,
                                                       __ATOMIC_RELAXED));
    /* A reply sent without waiting, found not stored (the server failed
     * after it was sent): a retry on another host runs the handler. */
    if ((lost = wx_store_lost(d->st)) != d->lost) {
        wx_log(WX_LOG_WARN, "dedup: %lu reply(ies) sent to the %s store were not stored; "
               "a retry of them on another host runs the handler again",
               lost - d->lost, wx_store_backend(d->st));
        d->lost = lost;
    }
}

wx_dedup_state_t wx_dedup_begin(wx_dedup_t *d, const unsigned char key[20],
                                unsigned budget_ms, wx_pool_t *pool,
                                wx_str_t *reply)
{
    long nap_ms = WX_DEDUP_POLL_MS;
    int64_t left;
    wx_store_key_t k = { WX_DEDUP_NS, key, 20 };
    wx_store_t *st = d->st;
    wx_store_claim_t c;
    wx_err_t rc;
    uint64_t seen = 0;
    int waited = 0;
    /* The budget is measured on the monotonic clock: a step of the wall
     * clock must not stretch or cut a wait. */
    int64_t t0 = wx_now_ms();

    for (;;) {
        if (d->local)
            seen = __atomic_load_n(&d->out->epoch, __ATOMIC_ACQUIRE);
        rc = wx_store_claim(st, &k, WX_DEDUP_LEASE_MS, pool, &c);
        if (rc == WX_ESYS && st == d->st && d->local) {
            st = fall_back(d);
            continue;
        }
        if (rc == WX_OK && st == d->st && d->local)
            back(d, seen);
        count_evictions(d);
        d->cur = st;
        if (c.state == WX_STORE_DONE && (rc == WX_OK || rc == WX_ENOMEM)) {
            /* The caller's pool cannot hold the reply: "success" is
             * still better than a second run. */
            *reply = rc == WX_OK ? c.value : WX_STR("success");
            wx_mx_inc(WXF_MX_RETRY_HIT);
            return WX_DEDUP_REPLAY;
        }
        if (rc != WX_OK) {
            wx_log(WX_LOG_ERROR, "dedup: %s: answering without de-duplication",
                   wx_store_error(st));
            return WX_DEDUP_CLAIMED;
        }
        switch (c.state) {
        case WX_STORE_CLAIMED:
        case WX_STORE_DONE:
            return WX_DEDUP_CLAIMED;
        case WX_STORE_TAKEN:
            /* (or its host did: a shared store's lease ended) */
            wx_mx_inc(WXF_MX_RETRY_TAKEOVER);
            wx_log(WX_LOG_WARN, "dedup: worker %ld died in a request; its retry takes over",
                   c.owner);
            return WX_DEDUP_CLAIMED;
        case WX_STORE_NOROOM:
            wx_mx_inc(WXF_MX_RETRY_CROWDED);
            /* Every nearby entry is in progress: de-duplication cannot
             * help this one, but the message is still answered. */
            wx_log(WX_LOG_WARN, "dedup table crowded: raise dedup_slots");
            return WX_DEDUP_CLAIMED;
        case WX_STORE_HELD:
            break;
        }
        left = (int64_t)budget_ms - (wx_now_ms() - t0);
        if (left <= 0) {
            wx_mx_inc(WXF_MX_RETRY_TIMEOUT);
            return WX_DEDUP_TIMEOUT;
        }
        if (!waited++)
            wx_mx_inc(WXF_MX_RETRY_WAIT);
        {
            long ms = left < nap_ms ? (long)left : nap_ms;
            struct timespec nap = { ms / 1000, (ms % 1000) * 1000000L };

            nanosleep(&nap, NULL);
        }
        nap_ms = nap_ms * 2 > WX_DEDUP_POLL_MAX_MS ? WX_DEDUP_POLL_MAX_MS : nap_ms * 2;
    }
}

void wx_dedup_finish(wx_dedup_t *d, const unsigned char key[20],
                     wx_str_t reply)
{
    wx_store_key_t k = { WX_DEDUP_NS, key, 20 };
    wx_store_t *st = d->cur;
    /* Not waited for: nothing but a log line would follow the answer (the
     * claim ends with its lease anyway), and the message's one blocking
     * round trip is then its claim.  Read before the next command. */
    wx_err_t rc = wx_store_finish_nowait(st, &k, reply, WX_DEDUP_TTL * 1000);

    if (rc == WX_ETOOBIG) {
        wx_log(WX_LOG_WARN, "dedup: a %zu-byte reply is too large to store; "
               "a retry of it gets success", reply.len);
        rc = wx_store_finish_nowait(st, &k, WX_STR("success"), WX_DEDUP_TTL * 1000);
    }
    count_evictions(d);
    /* WX_ESTALE: taken over (our lease ran out); the new owner answers.
     * The shared store failing now is its outage, logged once. */
    if (rc == WX_ESYS && st == d->st && d->local)
        outage(d);
    else if (rc != WX_OK && rc != WX_ESTALE)
        wx_log(WX_LOG_ERROR, "dedup: %s", wx_store_error(st));
}

void wx_dedup_stats(wx_dedup_t *d, unsigned *used, unsigned long *early)
{
    wx_store_lease_stats(d->st, used, early);
}
