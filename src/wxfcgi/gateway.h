/*
 * wxfcgi/gateway.h - the request path of /wx, free of any transport.
 *
 * wx_gw_handle() takes a request (method, query string, body reader) and
 * produces a response: verify the signature, stream the body through the
 * SAX parser, run the handler and write the reply.  The FastCGI worker,
 * the unit tests and the benchmark all drive this same function.
 *
 * One wx_gw_t per worker process.  It owns the per-request arena: the
 * response body points into it and stays valid until wx_gw_done().
 */
#ifndef WX_GATEWAY_H
#define WX_GATEWAY_H

#include <stdint.h>
#include <time.h>
#include "wxfcgi/conf.h"
#include "wx/core/err.h"
#include "wxfcgi/handler.h"
#include "wx/core/str.h"

/* Read up to 'len' body bytes: the count, 0 at the end, -1 on error. */
typedef long (*wx_read_fn)(void *ctx, char *buf, size_t len);

typedef struct wx_request {
    wx_str_t    method;
    wx_str_t    query;
    /* The request's path (DOCUMENT_URI): /wx/NAME names an account, /wx
     * or an empty path [wx] (acct.h). */
    wx_str_t    path;
    long long   content_length;     /* -1: absent or not a number */
    wx_read_fn  read;
    void       *read_ctx;
    /* When it arrived, wx_now_ms(): the handler's reply budget counts
     * from here.  0: unknown (the handler counts from its own start). */
    int64_t     arrived_ms;
} wx_request_t;

typedef struct wx_response {
    int         status;
    const char *content_type;
    wx_str_t    body;

    /* for the access log */
    wx_err_t    err;
    const char *result;             /* "text", "success", "echostr", ... */
    int         encrypted;          /* the reply is an AES envelope */
    const char *detail;             /* why, for refusals and failures */
    const char *account;            /* its name, "default" for [wx]; NULL: unknown */
    const char *reason;             /* a refusal's metric reason the error does not tell */
    wx_str_t    msg_type;           /* as received (untrusted) */
    wx_str_t    event;              /* as received (untrusted) */
    wx_str_t    openid;             /* sender, to be shortened */
    int64_t     waited_us;          /* the handler's wait on the business call */
} wx_response_t;

typedef struct wx_gw wx_gw_t;

/* A gateway for 'cfg', which must outlive it.  NULL with 'err' set. */
wx_gw_t *wx_gw_new(const wxfcgi_conf_t *cfg, char *err, size_t errlen);
void wx_gw_free(wx_gw_t *gw);

void wx_gw_handle(wx_gw_t *gw, const wx_request_t *req, time_t now,
                  wx_response_t *resp);

/* Release the request's memory (the arena).  Call after the response has
 * been sent. */
void wx_gw_done(wx_gw_t *gw);

/* Collect the handler's child processes that have ended, without blocking
 * (the handler's reap); how many still run.  0 for a handler without
 * children. */
unsigned wx_gw_reap(wx_gw_t *gw);

/* The access-log line for one request: method, type, result, status and
 * latency in microseconds; the sender shortened, untrusted text cleaned. */
void wx_gw_log(const wx_request_t *req, const wx_response_t *resp,
               long usec);

#endif
