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

static void respond(FCGX_Request *rq, const wx_response_t *resp)
{
    char head[256];
    int n;

    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "\r\n",
                 resp->status, wx_http_reason(resp->status), resp->content_type, resp->body.len,
                 resp->status == 405 ? "Allow: GET, POST\r\n" : "");
    FCGX_PutStr(head, n, rq->out);
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
    wx_gw_log(&req, &resp, elapsed_us(&t0));
    wxfcgi_mx_count(&req, &resp);
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
