/*
 * wxfcgi/upstream.h - the upstream handler: each message goes to a business
 * service over HTTP as JSON, its JSON answer comes back as the reply.
 *
 * [wxfcgi] handler = upstream, [upstream] url = http://host:port/path.
 * The JSON both ways is upstream_json.h.
 *
 * The budget: the worker waits at most [wxfcgi] reply_budget_ms from the
 * request's arrival (less a 100 ms margin to send the answer).  A business
 * service that is slower gets "success" sent for it at once; its answer,
 * when it comes within [upstream] timeout_ms, is sent to the follower as a
 * customer-service message (PROTOCOL.md 6.7) through wxproxy
 * ([upstream] proxy and proxy_key).  Exactly once: retries of the message
 * get the stored "success" from the retry table and never reach the
 * business service.
 *
 * The module, one job a file:
 *   upstream.c         the handler: a child per message, the wait for its
 *                      record within the budget, the reap
 *   upstream_child.c   the child process: the call, the record, the
 *                      acknowledgement
 *   upstream_call.c    the business call over HTTP (libcurl)
 *   upstream_late.c    a late answer: the window rules, the send through
 *                      wxproxy
 *   upstream_share.c   one business call per message even when a worker
 *                      dies in it: the retry's child waits for the dead
 *                      worker's child and adopts its answer
 *   upstream_json.c    the JSON codec
 * This header joins them; outside the module only the handler
 * (wx_handler_upstream, handler.h) and the codec (upstream_json.h) are seen.
 */
#ifndef WX_UPSTREAM_H
#define WX_UPSTREAM_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "wx/core/dynbuf.h"
#include "wx/core/str.h"
#include "wx/proto/msg.h"
#include "wxfcgi/conf.h"

/* The largest business answer read; a longer one is an error. */
#define WX_UP_MAX_ANSWER        (64u << 10)
/* Business calls in flight per worker (in time or late); beyond it a
 * message is answered "success" and not forwarded (logged). */
#define WX_UP_MAX_PENDING       256
/* Time kept from the budget to write and send the answer. */
#define WX_UP_MARGIN_MS         100
/* One customer-service call through wxproxy. */
#define WX_UP_SEND_TIMEOUT_MS   10000
/* The child's record: a kind byte ('A' answer, 'E' error, 'S' the answer
 * is delivered by another call of the same message: answer "success")
 * then the body or the reason. */
#define WX_UP_REC_MAX           (WX_UP_MAX_ANSWER + 512)

/* The handler's state, one per worker. */
typedef struct wx_up {
    const wxfcgi_conf_t *cfg;
    char               *key_header;     /* "X-Wx-Key: ..." or NULL */
    /* The business calls in flight of this worker. */
    pid_t               pids[WX_UP_MAX_PENDING];
    unsigned            npending;
    /* The record of the child being waited for (WX_UP_REC_MAX bytes,
     * allocated once): one request at a time per worker. */
    char               *rec;
} wx_up_t;

/* One message's business call, as its child process sees it.  Every
 * pointer is the worker's request's, valid in the child for its life. */
typedef struct wx_up_job {
    const wx_msg_t *msg;
    unsigned        account;        /* 0: [wx]; i: the i-th [account.NAME] */
    const char     *account_name;   /* "default" or NAME: X-Wx-Account */
    wx_pool_t      *pool;
    time_t          arrived;        /* the wall-clock time the message arrived */
    const char     *what;           /* the message, for the logs */
} wx_up_job_t;

/* upstream_child.c: run the business call of 'job' in the child, write
 * the record to 'fd' and deliver the answer late when the worker does not
 * take it.  'json' is the request body.  Never returns. */
void wx_up_child_run(const wx_up_t *up, int fd, const char *json,
                     const wx_up_job_t *job) __attribute__((noreturn));

/* upstream_call.c: POST 'json' to [upstream] url, naming the message's
 * account with the header X-Wx-Account: 'account' (a business service of
 * several accounts tells them apart by it, and passes it on to wxproxy).
 * 0 with the answer in 'b' (a buffer of at most WX_UP_MAX_ANSWER bytes),
 * or -1 with the reason in 'why'. */
int wx_up_call(const wx_upstream_conf_t *conf, const char *account, const char *json,
               wx_dynbuf_t *b, char *why, size_t whylen);

/* upstream_late.c: the answer body[0..len) came after the worker had
 * answered "success": send it as a customer-service message of the job's
 * account (X-Wx-Account to wxproxy) if the window of PROTOCOL.md 6.7 is
 * still open.  Everything is logged. */
void wx_up_deliver_late(const wx_up_t *up, const char *body, size_t len,
                        const wx_up_job_t *job);

/* upstream_share.c: the business call of one message, shared through the
 * retry table's store by the children of its deliveries. */
typedef struct wx_up_share wx_up_share_t;

typedef enum wx_up_share_state {
    WX_UP_SHARE_CALL,   /* no call of it is in flight: call (the lease is ours) */
    WX_UP_SHARE_WAIT,   /* a live child calls: wait for its record */
    WX_UP_SHARE_DONE    /* a child has called: its record, to adopt */
} wx_up_share_state_t;

/* In the child: the shared call of 'msg', or NULL when there is none
 * (dedup_slots = 0, the store fails: logged); then call as before. */
wx_up_share_t *wx_up_share_open(const wxfcgi_conf_t *cfg, const wx_msg_t *msg,
                                unsigned account);
void wx_up_share_close(wx_up_share_t *sh);

/* Claim the call; on WX_UP_SHARE_DONE 'rec' is its record (in 'pool'). */
wx_up_share_state_t wx_up_share_begin(wx_up_share_t *sh, wx_pool_t *pool, wx_str_t *rec);

/* The call made: publish its record for a retry to adopt. */
void wx_up_share_finish(wx_up_share_t *sh, const char *rec, size_t len);

/* Whether the caller delivers the answer (1: the first to ask) or another
 * call of the message does (0).  Asked once per child, before it hands an
 * answer to its worker. */
int wx_up_share_deliver(wx_up_share_t *sh, wx_pool_t *pool);

#endif
