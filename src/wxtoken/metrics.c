/* metrics.c - wxtoken's counters (metrics.h). */
#include "wx/server/metrics.h"
#include "metrics.h"

#define WXT_MX_CODES 16

static struct {
    unsigned long long  ok, failed, reported;
    long                code[WXT_MX_CODES];     /* the errcodes seen, in order */
    unsigned long long  by_code[WXT_MX_CODES + 1];  /* the last: any other */
    unsigned            n_codes;
} mx;

void wxt_mx_refreshed(long errcode)
{
    unsigned i;

    if (errcode == 0) {
        mx.ok++;
        return;
    }
    mx.failed++;
    for (i = 0; i < mx.n_codes && mx.code[i] != errcode; i++)
        ;
    if (i == mx.n_codes && mx.n_codes < WXT_MX_CODES)
        mx.code[mx.n_codes++] = errcode;
    mx.by_code[i]++;
}

void wxt_mx_reported(void)
{
    mx.reported++;
}

int wxt_mx_write(wx_dynbuf_t *out, int have, unsigned long version, time_t expires)
{
    unsigned i;
    int rc = 0;

    rc |= wx_mx_gauge(out, "wxtoken", "token_version", "Version of the current token "
                      "(0: none).", have ? (double)version : 0);
    rc |= wx_mx_gauge(out, "wxtoken", "token_expiry_seconds", "Seconds until the current "
                      "token expires (0: none, or expired).",
                      have && expires > time(NULL) ? (double)(expires - time(NULL)) : 0);
    rc |= wx_mx_printf(out, "# HELP wxtoken_refreshes_total Token requests to WeChat, by "
                       "result.\n# TYPE wxtoken_refreshes_total counter\n"
                       "wxtoken_refreshes_total{result=\"ok\"} %llu\n"
                       "wxtoken_refreshes_total{result=\"failed\"} %llu\n", mx.ok, mx.failed);
    rc |= wx_mx_printf(out, "# HELP wxtoken_refresh_failures_total Failed token requests, by "
                       "errcode (-1: transport or an unusable answer).\n"
                       "# TYPE wxtoken_refresh_failures_total counter\n");
    for (i = 0; i < mx.n_codes; i++)
        rc |= wx_mx_printf(out, "wxtoken_refresh_failures_total{errcode=\"%ld\"} %llu\n",
                           mx.code[i], mx.by_code[i]);
    if (mx.by_code[WXT_MX_CODES])
        rc |= wx_mx_printf(out, "wxtoken_refresh_failures_total{errcode=\"other\"} %llu\n",
                           mx.by_code[WXT_MX_CODES]);
    rc |= wx_mx_printf(out, "# HELP wxtoken_rejected_reports_total Callers' reports that "
                       "WeChat rejected a token.\n# TYPE wxtoken_rejected_reports_total "
                       "counter\nwxtoken_rejected_reports_total %llu\n", mx.reported);
    return rc;
}
