/*
 * upstream_share.c - one business call per message, across a worker's
 * death (upstream.h).
 *
 * A worker killed during a business call leaves its child running: the
 * call is still in flight, and its answer will come.  WeChat's retry finds
 * the dead worker's claim in the retry table and takes it over; without
 * more, its handler would call the business service a second time and the
 * follower would get two answers (the new passive reply, and the first
 * child's answer as a customer-service message).
 *
 * So each child, in the retry table's store, holds a lease of its own on
 * the message ("upcall", owned by the child's pid, which outlives the
 * worker) while it calls, and finishes it with its record.  A retry's
 * child that finds that lease held waits for it; when it is done it adopts
 * the record instead of calling again.  Who delivers an answer, as the
 * passive reply or as a customer-service message, is decided by a second
 * key ("updeliver") that only its first claimer gets: the first child
 * claims it before it hands the answer to its worker, an adopting child
 * before it hands it to its own.  The loser answers "success".
 *
 * Without a retry table (dedup_slots = 0) or when the store fails, a
 * child calls as before: the message is answered, perhaps twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/core/log.h"
#include "wxfcgi/acct.h"
#include "wxfcgi/dedup.h"
#include "wxfcgi/upstream.h"

#define WX_UP_NS_CALL       "upcall"
#define WX_UP_NS_DELIVER    "updeliver"
/* Kept as long as the retry table keeps a reply: WeChat's retries come
 * within it. */
#define WX_UP_SHARE_KEEP_MS (WX_DEDUP_TTL * 1000)

struct wx_up_share {
    wx_store_t     *st;
    unsigned char   key[20];
    unsigned        lease_ms;
};

wx_up_share_t *wx_up_share_open(const wxfcgi_conf_t *cfg, const wx_msg_t *msg,
                                unsigned account)
{
    wx_store_conf_t sc;
    wx_up_share_t *sh;
    char path[4096], err[256], ns[WX_ACCT_NS_MAX];

    if (cfg->fcgi.dedup_slots == 0)
        return NULL;
    sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return NULL;
    wx_dedup_store_conf(cfg, &sc, path, sizeof(path));
    /* The call may last timeout_ms; the handing over and a late send
     * follow it. */
    sh->lease_ms = cfg->up.timeout_ms + 2 * WX_UP_SEND_TIMEOUT_MS;
    wx_acct_ns(cfg, account, ns, sizeof(ns));
    if (wx_dedup_key(msg, wx_str_c(ns), sh->key) != WX_OK ||
        (sh->st = wx_store_open(&sc, err, sizeof(err))) == NULL) {
        wx_log(WX_LOG_WARN, "upstream: retry table not shared with the business call: %s",
               sh->st ? "no message key" : err);
        free(sh);
        return NULL;
    }
    return sh;
}

void wx_up_share_close(wx_up_share_t *sh)
{
    if (sh == NULL)
        return;
    wx_store_close(sh->st);
    free(sh);
}

wx_up_share_state_t wx_up_share_begin(wx_up_share_t *sh, wx_pool_t *pool, wx_str_t *rec)
{
    wx_store_key_t k = { WX_UP_NS_CALL, sh->key, sizeof(sh->key) };
    wx_store_claim_t c;
    wx_err_t rc = wx_store_claim(sh->st, &k, sh->lease_ms, pool, &c);

    if (rc == WX_OK && c.state == WX_STORE_HELD)
        return WX_UP_SHARE_WAIT;
    if (c.state == WX_STORE_DONE && rc == WX_OK && c.value.len > 0) {
        *rec = c.value;
        return WX_UP_SHARE_DONE;
    }
    if (c.state == WX_STORE_DONE) {
        /* Done, but its record is not readable here: the first call
         * answers; this one must not call again. */
        *rec = WX_STR("S");
        return WX_UP_SHARE_DONE;
    }
    if (rc == WX_ESYS)
        wx_dedup_count_error(sh->st, 1);
    if (rc != WX_OK)
        wx_log(WX_LOG_WARN, "upstream: %s: calling without the shared record",
               wx_store_error(sh->st));
    else if (c.state == WX_STORE_TAKEN)
        wx_log(WX_LOG_WARN, "upstream: business call %ld of this message died; calling again",
               c.owner);
    return WX_UP_SHARE_CALL;
}

void wx_up_share_finish(wx_up_share_t *sh, const char *rec, size_t len)
{
    wx_store_key_t k = { WX_UP_NS_CALL, sh->key, sizeof(sh->key) };
    wx_err_t rc = wx_store_finish(sh->st, &k, (wx_str_t){ len, rec }, WX_UP_SHARE_KEEP_MS);

    /* Too large to share: a retry then answers "success" and leaves the
     * delivery to this call. */
    if (rc == WX_ETOOBIG)
        rc = wx_store_finish(sh->st, &k, WX_STR("S"), WX_UP_SHARE_KEEP_MS);
    if (rc == WX_ESYS)
        wx_dedup_count_error(sh->st, 1);
    if (rc != WX_OK && rc != WX_ESTALE)
        wx_log(WX_LOG_ERROR, "upstream: %s", wx_store_error(sh->st));
}

int wx_up_share_deliver(wx_up_share_t *sh, wx_pool_t *pool)
{
    wx_store_key_t k = { WX_UP_NS_DELIVER, sh->key, sizeof(sh->key) };
    wx_store_claim_t c;
    wx_err_t rc = wx_store_claim(sh->st, &k, sh->lease_ms, pool, &c);

    if (rc == WX_ESYS)
        wx_dedup_count_error(sh->st, 1);
    if (rc != WX_OK || c.state == WX_STORE_NOROOM)
        return 1;               /* cannot tell: an answer rather than none */
    if (c.state == WX_STORE_HELD || c.state == WX_STORE_DONE)
        return 0;
    if (wx_store_finish(sh->st, &k, WX_STR("1"), WX_UP_SHARE_KEEP_MS) != WX_OK)
        wx_log(WX_LOG_ERROR, "upstream: %s", wx_store_error(sh->st));
    return 1;
}
