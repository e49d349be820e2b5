/* fcgi_metrics.c - the metrics and status page of a FastCGI server
 * (wx_fcgi_metrics in wx/server/fcgi.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/server/fcgi.h"
#include "wx/server/metrics.h"

#define WX_MX_PAGE_MAX  (1 << 20)

/* Is 'addr' one of the blank-separated words of 'allow'? */
static int allowed(const char *allow, const char *addr)
{
    size_t n = addr ? strlen(addr) : 0;
    const char *p = allow;

    if (n == 0 || allow == NULL)
        return 0;
    while (*p) {
        size_t w;

        p += strspn(p, " \t,");
        w = strcspn(p, " \t,");
        if (w == n && strncmp(p, addr, n) == 0)
            return 1;
        p += w;
    }
    return 0;
}

static void reply(FCGX_Request *rq, int status, const char *type, const char *body, size_t len)
{
    char head[256];
    int n;

    /* libfcgi's own printf knows no %zu: the head is formatted here. */
    n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n", status,
                 status == 200 ? "OK" : status == 403 ? "Forbidden" : "Internal Server Error",
                 type, len);
    FCGX_PutStr(head, n, rq->out);
    if (len)
        FCGX_PutStr(body, (int)len, rq->out);
}

static int page(const wx_fcgi_app_t *app, void *state, const char *query, wx_dynbuf_t *out)
{
    const wx_mx_pool_t *p = wx_mx_pool();
    uint64_t *sums;
    int rc;

    if (strcmp(query, "status") == 0)
        return wx_mx_status(out, p, app->name, 0);
    if (strcmp(query, "json") == 0 || strcmp(query, "status&json") == 0)
        return wx_mx_status(out, p, app->name, 1);
    sums = calloc(WX_MX_MAX, sizeof(*sums));
    if (sums == NULL)
        return -1;
    wx_mx_sum(p, sums);
    rc = wx_mx_write_pool(out, p, app->mx_prefix, sums);
    if (rc == 0 && app->mx_write)
        rc = app->mx_write(state, out, sums);
    free(sums);
    return rc;
}

int wx_fcgi_metrics(const wx_fcgi_app_t *app, const wx_config_t *cfg, void *state,
                    FCGX_Request *rq)
{
    const wx_server_conf_t *srv = wx_server_conf(app, cfg);
    const char *uri, *query, *addr;
    wx_dynbuf_t out;

    /* Every request comes through here: the path alone is looked up
     * (each lookup walks the params) until it is the scrape's. */
    if (app->mx_prefix == NULL || srv->metrics_path == NULL)
        return 0;
    if ((uri = FCGX_GetParam("DOCUMENT_URI", rq->envp)) == NULL)
        uri = FCGX_GetParam("SCRIPT_NAME", rq->envp);
    if (uri == NULL || strcmp(uri, srv->metrics_path) != 0)
        return 0;
    query = FCGX_GetParam("QUERY_STRING", rq->envp);
    addr = FCGX_GetParam("REMOTE_ADDR", rq->envp);
    if (!allowed(srv->metrics_allow, addr)) {
        wx_log(WX_LOG_WARN, "%s refused to %s: not in metrics_allow", srv->metrics_path,
               addr ? addr : "an unknown address");
        reply(rq, 403, "text/plain; charset=utf-8", "forbidden\n", 10);
        return 1;
    }
    wx_dynbuf_init(&out, WX_MX_PAGE_MAX);
    if (page(app, state, query ? query : "", &out) != 0 || out.data == NULL)
        reply(rq, 500, "text/plain; charset=utf-8", "metrics page too large\n", 23);
    else
        reply(rq, 200, strstr(query ? query : "", "json") ? "application/json" :
              "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    wx_dynbuf_free(&out);
    return 1;
}
