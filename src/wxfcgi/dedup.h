/*
 * wxfcgi/dedup.h - de-duplication of WeChat's retries, shared by every worker
 * process of the machine (PROTOCOL.md 3.1: up to three retries).
 *
 * A table in a file-backed shared mapping (so that unrelated processes,
 * as spawn-fcgi starts them, share it too), guarded by a process-shared
 * robust mutex: a worker that dies holding it cannot wedge the others.
 * The lock is held only to look up or update an entry, never while a
 * handler runs.
 *
 * Each entry is keyed by a SHA-1 of the message's identity and is either
 * in progress (with the pid of the worker running its handler) or done
 * (with the reply, byte for byte).  Entries live at least WX_DEDUP_TTL
 * seconds; a full neighbourhood gives up its oldest entry first.  An
 * in-progress entry whose worker died is taken over by the next retry.
 */
#ifndef WX_DEDUP_H
#define WX_DEDUP_H

#include "wx/core/err.h"
#include "wx/proto/msg.h"
#include "wx/core/str.h"

#define WX_DEDUP_TTL        30          /* seconds an entry is kept at least */
#define WX_DEDUP_SLOT_SIZE  4096        /* bytes per entry, reply included */

typedef struct wx_dedup wx_dedup_t;

typedef enum wx_dedup_state {
    WX_DEDUP_CLAIMED,   /* first delivery (or a dead worker's): run the handler */
    WX_DEDUP_REPLAY,    /* done before: 'reply' holds the stored reply */
    WX_DEDUP_TIMEOUT    /* still in progress after the budget: answer success */
} wx_dedup_state_t;

/* Open (creating if needed) the table at 'path' with 'slots' entries.
 * NULL with 'err' set on failure. */
wx_dedup_t *wx_dedup_open(const char *path, unsigned slots, char *err,
                          size_t errlen);
void wx_dedup_close(wx_dedup_t *d);

/* The identity of a message: MsgId for messages; FromUserName, CreateTime,
 * Event and EventKey for events. */
wx_err_t wx_dedup_key(const wx_msg_t *msg, unsigned char key[20]);

/* Claim 'key', or wait up to 'budget_ms' for the delivery in progress to
 * finish.  On WX_DEDUP_REPLAY the stored reply is copied into 'pool'.
 * A claim must be followed by wx_dedup_finish() in the same process. */
wx_dedup_state_t wx_dedup_begin(wx_dedup_t *d, const unsigned char key[20],
                                unsigned budget_ms, wx_pool_t *pool,
                                wx_str_t *reply);

/* Store the reply of a claimed key.  A reply too large for an entry is
 * stored as "success" (and logged): a retry then gets nothing rather than
 * a second run of the handler. */
void wx_dedup_finish(wx_dedup_t *d, const unsigned char key[20],
                     wx_str_t reply);

/* Entries in use and evicted before their TTL, for reports and tests. */
void wx_dedup_stats(wx_dedup_t *d, unsigned *used, unsigned long *early);

#endif
