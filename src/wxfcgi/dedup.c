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
#include "wx/proto/sign.h"

#define WX_DEDUP_NS         "dedup"
#define WX_DEDUP_POLL_MS    5
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

struct wx_dedup {
    wx_store_t         *st;         /* the configured store */
    wx_store_t         *local;      /* redis: this host's table, while redis fails */
    wx_store_t         *cur;        /* the store of the claim in progress */
    unsigned long       fallbacks;  /* messages on 'local' since redis failed */
    int                 down;       /* redis failed; not yet back */
};

void wx_dedup_conf(wx_store_conf_t *conf, const char *path, unsigned slots)
{
    conf->lease.path = path;
    conf->lease.name = "dedup table";
    conf->lease.slots = slots;
    conf->lease.slot_size = WX_DEDUP_SLOT_SIZE;
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

/* The shared store failed: this message and the next go to this host's
 * table.  Logged once an outage, not once a message; the store itself
 * tries the server again at most once a backoff period (a connect bounded
 * by timeout_ms), so a message meanwhile costs no wait. */
static wx_store_t *fall_back(wx_dedup_t *d)
{
    if (!d->down)
        wx_log(WX_LOG_ERROR, "dedup: %s: retries are de-duplicated on this host "
               "alone until it answers again", wx_store_error(d->st));
    d->down = 1;
    d->fallbacks++;
    return d->local;
}

static void back(wx_dedup_t *d)
{
    if (!d->down)
        return;
    wx_log(WX_LOG_INFO, "dedup: the %s store answers again; %lu message(s) were "
           "de-duplicated on this host alone meanwhile", wx_store_backend(d->st),
           d->fallbacks);
    d->down = 0;
    d->fallbacks = 0;
}

wx_dedup_state_t wx_dedup_begin(wx_dedup_t *d, const unsigned char key[20],
                                unsigned budget_ms, wx_pool_t *pool,
                                wx_str_t *reply)
{
    struct timespec nap = { 0, WX_DEDUP_POLL_MS * 1000000L };
    wx_store_key_t k = { WX_DEDUP_NS, key, 20 };
    wx_store_t *st = d->st;
    wx_store_claim_t c;
    wx_err_t rc;
    int waited = 0;
    /* The budget is measured on the monotonic clock: a step of the wall
     * clock must not stretch or cut a wait. */
    int64_t t0 = wx_now_ms();

    for (;;) {
        rc = wx_store_claim(st, &k, WX_DEDUP_LEASE_MS, pool, &c);
        if (rc == WX_ESYS && st == d->st && d->local) {
            st = fall_back(d);
            continue;
        }
        if (rc == WX_OK && st == d->st)
            back(d);
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
        if (wx_now_ms() - t0 >= (int64_t)budget_ms) {
            wx_mx_inc(WXF_MX_RETRY_TIMEOUT);
            return WX_DEDUP_TIMEOUT;
        }
        if (!waited++)
            wx_mx_inc(WXF_MX_RETRY_WAIT);
        nanosleep(&nap, NULL);
    }
}

void wx_dedup_finish(wx_dedup_t *d, const unsigned char key[20],
                     wx_str_t reply)
{
    wx_store_key_t k = { WX_DEDUP_NS, key, 20 };
    wx_store_t *st = d->cur;
    wx_err_t rc = wx_store_finish(st, &k, reply, WX_DEDUP_TTL * 1000);

    if (rc == WX_ETOOBIG) {
        wx_log(WX_LOG_WARN, "dedup: a %zu-byte reply is too large to store; "
               "a retry of it gets success", reply.len);
        rc = wx_store_finish(st, &k, WX_STR("success"), WX_DEDUP_TTL * 1000);
    }
    /* WX_ESTALE: taken over (our lease ran out); the new owner answers.
     * The shared store failing now is its outage, logged once. */
    if (rc == WX_ESYS && st == d->st && d->local)
        fall_back(d);
    else if (rc != WX_OK && rc != WX_ESTALE)
        wx_log(WX_LOG_ERROR, "dedup: %s", wx_store_error(st));
}

void wx_dedup_stats(wx_dedup_t *d, unsigned *used, unsigned long *early)
{
    wx_store_lease_stats(d->st, used, early);
}
