/*
 * metrics.h - wxtoken's counters and its answer to METRICS: per account
 * (the label account="NAME", "default" for [wx]), the token's version and
 * seconds to expiry, refreshes by result, failures by errcode (-1:
 * transport or an unusable answer), and reports of a rejected token.
 * wxtoken is one process: plain counters, no shared memory.
 */
#ifndef WXTOKEN_METRICS_H
#define WXTOKEN_METRICS_H

#include <time.h>

#include "wx/core/dynbuf.h"

#define WXT_MX_CODES 16

/* One account's counters, kept in its state (main.c). */
typedef struct wxt_mx {
    unsigned long long  ok, failed, reported;
    long                code[WXT_MX_CODES];     /* the errcodes seen, in order */
    unsigned long long  by_code[WXT_MX_CODES + 1];  /* the last: any other */
    unsigned            n_codes;
} wxt_mx_t;

/* What METRICS shows of one account. */
typedef struct wxt_mx_view {
    const char         *account;
    const wxt_mx_t     *mx;
    int                 have;           /* there is a token: its version, expires */
    unsigned long       version;
    time_t              expires;
} wxt_mx_view_t;

/* A refresh ended: errcode 0 on success. */
void wxt_mx_refreshed(wxt_mx_t *mx, long errcode);
void wxt_mx_reported(wxt_mx_t *mx);

/* The Prometheus text of the 'n' accounts into 'out'.  0, or -1 when
 * 'out' is full. */
int wxt_mx_write(wx_dynbuf_t *out, const wxt_mx_view_t *v, size_t n);

#endif
