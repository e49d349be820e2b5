/*
 * wxfcgi/metrics.h - wxfcgi's counters (wx/server/metrics.h): requests by
 * method, message type and outcome, refusals by reason, the retry table
 * (and its evictions), handler errors, late deliveries, and the shared
 * store's errors by kind and fall-backs to the host's own table, and the
 * gateway's own time per request.  The indexes below are counters of
 * the worker's slot; wxfcgi_mx_count() sorts one answered request.
 */
#ifndef WXFCGI_METRICS_H
#define WXFCGI_METRICS_H

#include "wx/server/metrics.h"
#include "wxfcgi/gateway.h"

#define WXF_MX_METHODS   3       /* GET, POST, other */
#define WXF_MX_TYPES     11      /* wxf_mx_types */
#define WXF_MX_OUTCOMES  6       /* wxf_mx_outcomes */
#define WXF_MX_REASONS   16      /* wxf_mx_reasons */
#define WXF_MX_REDIS_KINDS 6     /* wx_store_fail_t up to OTHER: connect ... other */

enum {
    WXF_MX_REQUESTS = WX_MX_APP,
    WXF_MX_REFUSED = WXF_MX_REQUESTS + WXF_MX_METHODS * WXF_MX_TYPES * WXF_MX_OUTCOMES,
    WXF_MX_RETRY_HIT = WXF_MX_REFUSED + WXF_MX_REASONS,   /* the retry table's events, */
    WXF_MX_RETRY_WAIT,                                      /* in the order of */
    WXF_MX_RETRY_TAKEOVER,                                  /* wxf_mx_retry */
    WXF_MX_RETRY_TIMEOUT,
    WXF_MX_RETRY_CROWDED,
    WXF_MX_HANDLER_ERRORS,
    WXF_MX_LATE_SENT,                                       /* wxf_mx_late */
    WXF_MX_LATE_FAILED,
    WXF_MX_REDIS_ERRORS,                                    /* by wxf_mx_redis_kinds */
    WXF_MX_REDIS_FALLBACKS = WXF_MX_REDIS_ERRORS + WXF_MX_REDIS_KINDS,
    WXF_MX_RETRY_EVICTIONS,
    WXF_MX_GW_HIST,                                         /* the gateway's own time: */
    WXF_MX_GW_HIST_END = WXF_MX_GW_HIST + WX_MX_HIST_N + 1, /* buckets, then the sum */
    WXF_MX_N
};

/* Count one answered request of the gateway. */
void wxfcgi_mx_count(const wx_request_t *req, const wx_response_t *resp);
/* Time it: 'us' the worker's time on it, of which the handler waited
 * resp->waited_us on the business call; the rest is the gateway's. */
void wxfcgi_mx_time(const wx_response_t *resp, int64_t us);

/* The program's part of the fcgi app. */
unsigned wxfcgi_mx_counters(const wx_config_t *cfg);
int wxfcgi_mx_write(void *state, wx_dynbuf_t *out, const uint64_t *sums);

#endif
