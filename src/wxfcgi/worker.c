/*
 * worker.c - one wxfcgi worker: the gateway on the shared FastCGI loop
 * (wx/server/fcgi.h).  Each request goes through wx_gw_handle(); the answer is
 * written with its status line and logged.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "wx/core/http.h"
#include "wx/server/fcgi.h"
#include "wxfcgi/gateway.h"
#include "wxfcgi/metrics.h"
#include "wx/proto/query.h"
#include "wxfcgi.h"

typedef struct {
    FCGX_Stream *in;
} wx_fcgi_body_t;

static long fcgi_read(void *ctx, char *buf, size_t len)
{
    wx_fcgi_body_t *b = ctx;
    int n = FCGX_GetStr(buf, len > 1 << 30 ? 1 << 30 : (int)len, b->in);

    if (n == 0 && FCGX_GetError(b->in) != 0)
        return -1;
    return n;
}

/* The head is written without printf, fixed pieces around the few
 * variable ones (snprintf cost some 2k instructions a request). */
static void respond(FCGX_Request *rq, const wx_response_t *resp)
{
    char head[256];
    wx_buf_t h;

    wx_buf_init(&h, head, sizeof(head));
    wx_buf_addlit(&h, "Status: ");
    wx_buf_addi64(&h, resp->status);
    wx_buf_addlit(&h, " ");
    wx_buf_adds(&h, wx_http_reason(resp->status));
    wx_buf_addlit(&h, "\r\nContent-Type: ");
    wx_buf_adds(&h, resp->content_type);
    wx_buf_addlit(&h, "\r\nContent-Length: ");
    wx_buf_addu64(&h, resp->body.len);
    if (resp->status == 405)
        wx_buf_addlit(&h, "\r\nAllow: GET, POST");
    wx_buf_addlit(&h, "\r\n\r\n");
    if (h.overflow) {
        /* Cannot happen with the fixed types and reasons: never half a head. */
        static const char broken[] = "Status: 500 Internal Server Error\r\n\r\n";

        wx_log(WX_LOG_ERROR, "response head over %zu bytes: answering 500", sizeof(head));
        FCGX_PutStr(broken, (int)sizeof(broken) - 1, rq->out);
        return;
    }
    FCGX_PutStr(head, (int)h.len, rq->out);
    if (resp->body.len)
        FCGX_PutStr(resp->body.data, (int)resp->body.len, rq->out);
}

static long elapsed_us(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000L;
}

/* The same instant as wx_now_ms() would give, without a second read. */
static int64_t ms_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/* The path that names the account (/wx/NAME): nginx's DOCUMENT_URI (the
 * normalised path), else SCRIPT_NAME, else REQUEST_URI up to its query. */
static wx_str_t request_path(FCGX_Request *rq)
{
    const char *p = FCGX_GetParam("DOCUMENT_URI", rq->envp);
    wx_str_t s;

    if (p == NULL || p[0] == '\0')
        p = FCGX_GetParam("SCRIPT_NAME", rq->envp);
    if (p && p[0])
        return wx_str_c(p);
    p = FCGX_GetParam("REQUEST_URI", rq->envp);
    s = wx_str_c(p ? p : "");
    if (p && strchr(p, '?'))
        s.len = (size_t)(strchr(p, '?') - p);
    return s;
}

static void serve_one(wx_gw_t *gw, FCGX_Request *rq)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
    const char *query = FCGX_GetParam("QUERY_STRING", rq->envp);
    wx_fcgi_body_t body = { rq->in };
    wx_request_t req;
    wx_response_t resp;
    struct timespec t0;
    long us;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    req.method = wx_str_c(method ? method : "");
    req.query = wx_str_c(query ? query : "");
    req.path = request_path(rq);
    req.content_length = wx_content_length(FCGX_GetParam("CONTENT_LENGTH", rq->envp));
    req.read = fcgi_read;
    req.read_ctx = &body;
    req.arrived_ms = ms_of(&t0);        /* the reply budget counts from here */

    wx_gw_handle(gw, &req, time(NULL), &resp);
    respond(rq, &resp);
    /* One pair of clock reads times the request for the log line and the
     * gateway's histogram alike. */
    us = elapsed_us(&t0);
    wx_gw_log(&req, &resp, us);
    /* No pool: metrics are off (an empty metrics_path). */
    if (wx_mx_pool() != NULL) {
        wxfcgi_mx_count(&req, &resp);
        wxfcgi_mx_time(&resp, us);
    }
}

static void *gw_open(const wx_config_t *cfg, char *err, size_t errlen)
{
    return wx_gw_new(wxfcgi_conf(cfg), err, errlen);
}

static void gw_close(void *state)
{
    wx_gw_free(state);
}

static void gw_serve(void *state, FCGX_Request *rq)
{
    serve_one(state, rq);
}

static void gw_done(void *state)
{
    wx_gw_done(state);
}

static unsigned gw_reap(void *state)
{
    return wx_gw_reap(state);
}

const wx_fcgi_app_t wxfcgi_app = {
    .name = "wxfcgi",
    .spec = &wxfcgi_spec,
    .server_off = offsetof(wxfcgi_conf_t, fcgi.srv),
    .open = gw_open,
    .close = gw_close,
    .serve = gw_serve,
    .done = gw_done,
    /* A handler may run its work in children (upstream does). */
    .reap = gw_reap,
    .mx_prefix = "wxfcgi",
    .mx_counters = wxfcgi_mx_counters,
    .mx_write = wxfcgi_mx_write,
};
