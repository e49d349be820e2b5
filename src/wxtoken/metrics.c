/* metrics.c - wxtoken's counters (metrics.h). */
#include "wx/server/metrics.h"
#include "metrics.h"

void wxt_mx_refreshed(wxt_mx_t *mx, long errcode)
{
    unsigned i;

    if (errcode == 0) {
        mx->ok++;
        return;
    }
    mx->failed++;
    for (i = 0; i < mx->n_codes && mx->code[i] != errcode; i++)
        ;
    if (i == mx->n_codes && mx->n_codes < WXT_MX_CODES)
        mx->code[mx->n_codes++] = errcode;
    mx->by_code[i]++;
}

void wxt_mx_reported(wxt_mx_t *mx)
{
    mx->reported++;
}

int wxt_mx_write(wx_dynbuf_t *out, const wxt_mx_view_t *v, size_t n)
{
    time_t now = time(NULL);
    unsigned i;
    size_t a;
    int rc = 0;

    rc |= wx_mx_printf(out, "# HELP wxtoken_token_version Version of the current token "
                       "(0: none).\n# TYPE wxtoken_token_version gauge\n");
    for (a = 0; a < n; a++)
        rc |= wx_mx_printf(out, "wxtoken_token_version{account=\"%s\"} %lu\n", v[a].account,
                           v[a].have ? v[a].version : 0);
    rc |= wx_mx_printf(out, "# HELP wxtoken_token_expiry_seconds Seconds until the current "
                       "token expires (0: none, or expired).\n"
                       "# TYPE wxtoken_token_expiry_seconds gauge\n");
    for (a = 0; a < n; a++)
        rc |= wx_mx_printf(out, "wxtoken_token_expiry_seconds{account=\"%s\"} %lld\n",
                           v[a].account, v[a].have && v[a].expires > now ?
                           (long long)(v[a].expires - now) : 0LL);
    rc |= wx_mx_printf(out, "# HELP wxtoken_refreshes_total Token requests to WeChat, by "
                       "result.\n# TYPE wxtoken_refreshes_total counter\n");
    for (a = 0; a < n; a++)
        rc |= wx_mx_printf(out, "wxtoken_refreshes_total{account=\"%s\",result=\"ok\"} %llu\n"
                           "wxtoken_refreshes_total{account=\"%s\",result=\"failed\"} %llu\n",
                           v[a].account, v[a].mx->ok, v[a].account, v[a].mx->failed);
    rc |= wx_mx_printf(out, "# HELP wxtoken_refresh_failures_total Failed token requests, by "
                       "errcode (-1: transport or an unusable answer).\n"
                       "# TYPE wxtoken_refresh_failures_total counter\n");
    for (a = 0; a < n; a++) {
        const wxt_mx_t *mx = v[a].mx;

        for (i = 0; i < mx->n_codes; i++)
            rc |= wx_mx_printf(out, "wxtoken_refresh_failures_total{account=\"%s\","
                               "errcode=\"%ld\"} %llu\n", v[a].account, mx->code[i],
                               mx->by_code[i]);
        if (mx->by_code[WXT_MX_CODES])
            rc |= wx_mx_printf(out, "wxtoken_refresh_failures_total{account=\"%s\","
                               "errcode=\"other\"} %llu\n", v[a].account,
                               mx->by_code[WXT_MX_CODES]);
    }
    rc |= wx_mx_printf(out, "# HELP wxtoken_rejected_reports_total Callers' reports that "
                       "WeChat rejected a token.\n# TYPE wxtoken_rejected_reports_total "
                       "counter\n");
    for (a = 0; a < n; a++)
        rc |= wx_mx_printf(out, "wxtoken_rejected_reports_total{account=\"%s\"} %llu\n",
                           v[a].account, v[a].mx->reported);
    return rc;
}
