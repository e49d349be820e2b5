/* metrics.c - wxfcgi's counters and their families (wxfcgi/metrics.h). */
#include <string.h>

#include "wxfcgi/metrics.h"

static const char *const methods[WXF_MX_METHODS] = { "GET", "POST", "other" };
static const char *const types[WXF_MX_TYPES] = {
    "text", "image", "voice", "video", "shortvideo", "location", "link", "event",
    "file", "other", "none"
};
static const char *const outcomes[WXF_MX_OUTCOMES] = {
    "answered", "success", "replay", "echostr", "refused", "failed"
};
static const char *const reasons[WXF_MX_REASONS] = {
    "bad_signature", "stale_timestamp", "malformed", "too_large", "method", "plaintext",
    "decrypt_signature", "decrypt_length", "decrypt_padding", "decrypt_msg_len",
    "decrypt_appid", "decrypt_base64", "missing", "other", "unknown_account", "original_id"
};
static const char *const retry[] = { "hit", "wait", "takeover", "timeout", "crowded" };
static const char *const late[] = { "sent", "failed" };
static const char *const none[] = { "" };
static const char *const redis_kinds[WXF_MX_REDIS_KINDS] = {
    "connect", "timeout", "protocol", "auth", "readonly", "other"
};

static const wx_mx_family_t families[] = {
    { "requests_total", "Requests by method, message type and outcome.", WX_MT_COUNTER,
      WXF_MX_REQUESTS, { { "method", methods, WXF_MX_METHODS }, { "type", types, WXF_MX_TYPES },
                         { "outcome", outcomes, WXF_MX_OUTCOMES } }, 3 },
    { "refusals_total", "Requests refused (4xx), by reason.", WX_MT_COUNTER,
      WXF_MX_REFUSED, { { "reason", reasons, WXF_MX_REASONS } }, 1 },
    { "retry_table_events_total", "Retry-table events: a retry answered from the table "
      "(hit), one that waited for the first delivery, took over a dead worker's, timed "
      "out waiting, or found the table crowded.", WX_MT_COUNTER,
      WXF_MX_RETRY_HIT, { { "event", retry, 5 } }, 1 },
    { "handler_errors_total", "Handler failures (answered success instead).", WX_MT_COUNTER,
      WXF_MX_HANDLER_ERRORS, { { NULL, none, 1 } }, 0 },
    { "late_deliveries_total", "Late business answers sent as customer-service messages.",
      WX_MT_COUNTER, WXF_MX_LATE_SENT, { { "result", late, 2 } }, 1 },
    { "redis_errors_total", "Failed commands of the retry table's shared store (store = "
      "redis), by kind.", WX_MT_COUNTER, WXF_MX_REDIS_ERRORS,
      { { "kind", redis_kinds, WXF_MX_REDIS_KINDS } }, 1 },
    { "redis_fallbacks_total", "Messages de-duplicated on this host's own table because "
      "the shared store failed.", WX_MT_COUNTER, WXF_MX_REDIS_FALLBACKS, { { NULL, none, 1 } }, 0 },
    { "retry_table_evictions_total", "Replies the local retry table gave up before their "
      "time to make room (raise dedup_slots).", WX_MT_COUNTER, WXF_MX_RETRY_EVICTIONS,
      { { NULL, none, 1 } }, 0 },
    { "gateway_duration_seconds", "The gateway's own work per request: the worker's time "
      "from reading the request to its answer written, less the wait on the business call "
      "(upstream).", WX_MT_HISTOGRAM_SHORT, WXF_MX_GW_HIST, { { NULL, NULL, 0 } }, 0 },
};

static unsigned type_of(wx_str_t t)
{
    unsigned i;

    if (t.len == 0)
        return WXF_MX_TYPES - 1;
    for (i = 0; i < WXF_MX_TYPES - 2; i++)
        if (wx_str_eq(t, types[i]))
            return i;
    return WXF_MX_TYPES - 2;
}

static unsigned outcome_of(const char *r)
{
    unsigned i;

    for (i = 1; r && i < WXF_MX_OUTCOMES; i++)
        if (strcmp(r, outcomes[i]) == 0)
            return i;
    return 0;
}

static unsigned reason_of(const wx_response_t *resp)
{
    unsigned i;

    /* The gateway names the reasons its error codes do not tell apart. */
    for (i = 0; resp->reason && i < WXF_MX_REASONS; i++)
        if (strcmp(resp->reason, reasons[i]) == 0)
            return i;
    switch (resp->err) {
    case WX_ESIGNATURE:
        return resp->detail && strncmp(resp->detail, "msg_signature", 13) == 0 ? 6 : 0;
    case WX_ESTALE:     return 1;
    case WX_EINVAL:
    case WX_EXML:       return 2;
    case WX_ETOOBIG:    return 3;
    case WX_EMETHOD:    return 4;
    case WX_EPLAINTEXT: return 5;
    case WX_ECIPHERLEN: return 7;
    case WX_EPADDING:   return 8;
    case WX_EMSGLEN:    return 9;
    case WX_EAPPID:     return 10;
    case WX_EBASE64:    return 11;
    case WX_EMISSING:   return 12;
    default:            return 13;
    }
}

void wxfcgi_mx_count(const wx_request_t *req, const wx_response_t *resp)
{
    unsigned m = wx_str_eq(req->method, "GET") ? 0 : wx_str_eq(req->method, "POST") ? 1 : 2;
    unsigned o = outcome_of(resp->result);

    wx_mx_inc(WXF_MX_REQUESTS + (m * WXF_MX_TYPES + type_of(resp->msg_type)) *
              WXF_MX_OUTCOMES + o);
    if (o == 4)
        wx_mx_inc(WXF_MX_REFUSED + reason_of(resp));
}

void wxfcgi_mx_time(const wx_response_t *resp, int64_t us)
{
    int64_t own = us - resp->waited_us;

    wx_mx_observe_short(WXF_MX_GW_HIST, own > 0 ? (uint64_t)own : 0);
}

unsigned wxfcgi_mx_counters(const wx_config_t *cfg)
{
    (void)cfg;
    return WXF_MX_N;
}

int wxfcgi_mx_write(void *state, wx_dynbuf_t *out, const uint64_t *sums)
{
    (void)state;
    return wx_mx_write(out, "wxfcgi", families, sizeof(families) / sizeof(families[0]), sums);
}
