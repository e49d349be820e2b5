/*
 * wxfcgi/handler.h - what answers a message once it is verified and parsed,
 * and the registry of the handlers a config may name ([wxfcgi] handler).
 *
 * A handler turns a wx_msg_t into a wx_reply_t.  It may allocate from the
 * request arena; it must not keep pointers into it after returning.  A
 * handler that has nothing to say leaves reply->type WX_REPLY_SUCCESS.
 * An error return is logged and answered with "success": WeChat's follower
 * never sees our failures as a broken reply.
 *
 * Everything a handler learns of the request comes through
 * wx_handle_req_t: there is no other channel between the worker and a
 * handler.  Its state (the ctx of create) is one per worker process.
 */
#ifndef WX_HANDLER_H
#define WX_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wxfcgi/conf.h"
#include "wx/core/err.h"
#include "wx/core/str.h"
#include "wx/proto/msg.h"
#include "wx/proto/reply.h"

/* One message to answer.  Valid for the call only. */
typedef struct wx_handle_req {
    const wx_msg_t *msg;            /* verified, decrypted, validated */
    wx_pool_t      *pool;           /* the request arena */
    /* When the request arrived, on the monotonic clock (wx_now_ms()):
     * the reply budget counts from here.  0 when the caller does not know
     * (a handler then counts from its own start). */
    int64_t         arrived_ms;
    time_t          now;            /* the wall clock at arrival */
    /* Where a handler adds the microseconds it waited on work outside the
     * worker (the business call), so that the gateway's own time can be
     * told from it (wxfcgi_gateway_duration_seconds); NULL: not kept. */
    int64_t        *waited_us;
    unsigned        account;        /* 0: [wx]; i: the i-th [account.NAME] (acct.h) */
} wx_handle_req_t;

typedef wx_err_t (*wx_handle_fn)(void *ctx, const wx_handle_req_t *req,
                                 wx_reply_t *reply);

typedef struct wx_handler {
    const char     *name;
    /* Build the handler's state from the config; NULL with 'err' set on
     * failure.  May be NULL when the handler has no state. */
    void         *(*create)(const wxfcgi_conf_t *cfg, char *err, size_t errlen);
    void          (*destroy)(void *ctx);
    wx_handle_fn    handle;
    /* Collect the child processes of the handler that have ended, without
     * blocking: called when SIGCHLD arrives and when the worker leaves.
     * Returns how many still run.  NULL for a handler that starts none. */
    unsigned      (*reap)(void *ctx);
} wx_handler_t;

/* The handler called 'name', or NULL. */
const wx_handler_t *wx_handler_find(const char *name);

/* The names of every handler, "echo, upstream", into dst[cap] (cut at a
 * name that does not fit), for messages.  Returns dst. */
char *wx_handler_names(char *dst, size_t cap);

/* The handlers (handler.c lists them): echo, the default (text back as
 * text, image as the same image, ...), and upstream (upstream.h). */
extern const wx_handler_t wx_handler_echo;
extern const wx_handler_t wx_handler_upstream;

#endif
