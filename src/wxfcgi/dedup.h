/*
 * wxfcgi/dedup.h - de-duplication of WeChat's retries, shared by every worker
 * process (PROTOCOL.md 3.1: up to three retries): the retry table's policy
 * over the leases of the state store (wx/state/store.h).
 *
 * Each message is keyed by a SHA-1 of its identity.  Its first delivery
 * claims the key with a lease and runs the handler; the reply, byte for
 * byte, finishes the claim.  A retry that finds the reply replays it; one
 * that finds the first delivery in progress waits for it up to the reply
 * budget, then answers "success" rather than run the handler twice.  A
 * claim whose worker died (killed mid-request) or whose lease ran out is
 * taken over by the next retry.  Replies are kept WX_DEDUP_TTL seconds
 * and never replayed after that; the store is never locked while a
 * handler runs.
 */
#ifndef WX_DEDUP_H
#define WX_DEDUP_H

#include "wx/core/err.h"
#include "wx/proto/msg.h"
#include "wx/core/str.h"
#include "wx/state/store.h"
#include "wxfcgi/conf.h"

#define WX_DEDUP_TTL        30          /* seconds an entry is kept and replayed */
#define WX_DEDUP_SLOT_SIZE  4096        /* the largest reply stored, plus a header */

typedef struct wx_dedup wx_dedup_t;

typedef enum wx_dedup_state {
    WX_DEDUP_CLAIMED,   /* first delivery (or a dead worker's): run the handler */
    WX_DEDUP_REPLAY,    /* done before: 'reply' holds the stored reply */
    WX_DEDUP_TIMEOUT    /* still in progress after the budget: answer success */
} wx_dedup_state_t;

/* The store of the retry table of 'cfg' in 'conf': [state]'s backend and
 * the local table of dedup_slots entries in STATE_DIR/dedup.shm ('path',
 * 'pathlen' bytes, holds its name; 'conf' points into it and into 'cfg').
 * The gateway and the business call's child (upstream_share.c) open the
 * same store through it. */
void wx_dedup_store_conf(const wxfcgi_conf_t *cfg, wx_store_conf_t *conf, char *path,
                         size_t pathlen);

/* Open the retry table on the store 'conf' describes.  NULL with 'err'
 * set on failure. */
wx_dedup_t *wx_dedup_open(const wx_store_conf_t *conf, char *err, size_t errlen);
void wx_dedup_close(wx_dedup_t *d);

/* The identity of a message of the account 'account' ("NAME:APPID" of an
 * [account.NAME], empty for [wx]: acct.h): FromUserName and MsgId for
 * messages; FromUserName, CreateTime, Event and EventKey for events.  Two
 * accounts never share a key. */
wx_err_t wx_dedup_key(const wx_msg_t *msg, wx_str_t account, unsigned char key[20]);

/* Claim 'key', or wait up to 'budget_ms' for the delivery in progress to
 * finish.  On WX_DEDUP_REPLAY the stored reply is copied into 'pool'.
 * A claim must be followed by wx_dedup_finish() in the same process. */
wx_dedup_state_t wx_dedup_begin(wx_dedup_t *d, const unsigned char key[20],
                                unsigned budget_ms, wx_pool_t *pool,
                                wx_str_t *reply);

/* Store the reply of a claimed key.  A reply too large for the store is
 * stored as "success" (and logged): a retry then gets nothing rather than
 * a second run of the handler.  A claim taken over meanwhile is left to
 * its new owner. */
void wx_dedup_finish(wx_dedup_t *d, const unsigned char key[20],
                     wx_str_t reply);

/* Count the last failure of the shared store 'st' in
 * wxfcgi_redis_errors_total, by its kind ('shared': from a process that
 * shares its worker's counters). */
void wx_dedup_count_error(const wx_store_t *st, int shared);

/* Entries in use and evicted before their TTL, for reports and tests. */
void wx_dedup_stats(wx_dedup_t *d, unsigned *used, unsigned long *early);

#endif
