/* metrics.c - wxproxy's counters: calls by key, path family and outcome,
 * and the upstream latency (wx/server/metrics.h). */
#include <stdlib.h>
#include <string.h>

#include "wx/core/log.h"
#include "wx/server/metrics.h"
#include "wxproxy.h"
#include "forward.h"
#include "metrics.h"

static const char *const families[PX_MX_FAMILIES] = {
    "message", "menu", "media", "material", "user", "template", "draft", "other"
};
/* Every error code of px_refuse(); "internal" last, for any other. */
static const char *const outcomes[PX_MX_OUTCOMES] = {
    "ok", "api_error", "bad_request", "unknown_key", "path_not_allowed",
    "method_not_allowed", "body_too_large", "rate_limited", "no_token",
    "upstream_timeout", "upstream_failed", "account_required", "unknown_account",
    "account_not_allowed", "no_store", "no_appid", "no_ticket", "wxtoken_unavailable",
    "internal"
};
/* An account's calls, coarser: its figures are multiplied by 66 accounts. */
static const char *const classes[PX_MX_CLASSES] = { "ok", "api_error", "refused", "failed" };

/* The keys a pool made for 'cfg' has room for: its keys and "-" (no key). */
static unsigned key_dim(const px_conf_t *cfg)
{
    return (unsigned)cfg->keys.n + 1;
}

/* At most WX_MX_MAX: the keys beyond the room count as "-" (px_mx_count)
 * rather than leave the pool without metrics. */
unsigned px_mx_counters(const wx_config_t *cfg)
{
    unsigned n = PX_MX_CALLS + key_dim(px_conf(cfg)) * PX_MX_FAMILIES * PX_MX_OUTCOMES;
    unsigned room = (WX_MX_MAX - PX_MX_CALLS) / (PX_MX_FAMILIES * PX_MX_OUTCOMES);

    if (n <= WX_MX_MAX)
        return n;
    wx_log(WX_LOG_WARN, "metrics: room for the calls of %u keys by key; the calls of the "
           "other %u (from [wxproxy.key.%s] on) count under key=\"-\"", room - 1,
           key_dim(px_conf(cfg)) - room, px_key(px_conf(cfg), room - 1)->name);
    return WX_MX_MAX;
}

/* "/cgi-bin/menu/get" -> menu; "/cgi-bin/message/custom/send" -> message. */
static unsigned family_of(const char *path)
{
    const char *p = strncmp(path, "/cgi-bin/", 9) == 0 ? path + 9 : path + 1;
    size_t n = strcspn(p, "/?");
    unsigned i;

    for (i = 0; i < PX_MX_FAMILIES - 1; i++)
        if (strlen(families[i]) == n && strncmp(p, families[i], n) == 0)
            return i;
    return PX_MX_FAMILIES - 1;
}

static unsigned outcome_of(const px_call_t *c)
{
    unsigned i;

    if (c->error == NULL)
        return c->has_errcode && c->errcode != 0 ? 1 : 0;
    for (i = 2; i < PX_MX_OUTCOMES; i++)
        if (strcmp(c->error, outcomes[i]) == 0)
            return i;
    return PX_MX_OUTCOMES - 1;
}

void px_mx_count(const px_t *px, int k, const px_call_t *c)
{
    /* A key added by a reload has no room in the pool the master made
     * for the keys it started with: it counts as "-". */
    unsigned room = (wx_mx_counters(wx_mx_pool()) - PX_MX_CALLS) /
                    (PX_MX_FAMILIES * PX_MX_OUTCOMES);
    unsigned key = k >= 0 && (unsigned)k + 1 < room ? (unsigned)k + 1 : 0;
    unsigned acct = c->acct ? (unsigned)(c->acct - px->acct) + 1 : 0;
    unsigned outcome = outcome_of(c);
    /* The proxy's own refusals are 4xx; 5xx: it could not get an answer. */
    unsigned cls = outcome < 2 ? outcome : c->status < 500 ? 2 : 3;

    if (acct >= PX_MX_ACCOUNTS)
        acct = 0;
    wx_mx_inc(PX_MX_ACCT + acct * PX_MX_CLASSES + cls);
    wx_mx_inc(PX_MX_CALLS + (key * PX_MX_FAMILIES + family_of(c->path)) * PX_MX_OUTCOMES +
              outcome);
}

int px_mx_write(void *state, wx_dynbuf_t *out, const uint64_t *sums)
{
    const px_t *px = state;
    unsigned room = (wx_mx_counters(wx_mx_pool()) - PX_MX_CALLS) /
                    (PX_MX_FAMILIES * PX_MX_OUTCOMES), i, n = key_dim(px->cfg);
    const char **keys, *accts[PX_MX_ACCOUNTS];
    unsigned na = 1;
    int rc;

    if (n > room)
        n = room;
    keys = calloc(n, sizeof(*keys));
    if (keys == NULL)
        return -1;
    keys[0] = "-";
    for (i = 1; i < n; i++)
        keys[i] = px_key(px->cfg, i - 1)->name;
    accts[0] = "-";
    for (i = 0; i < px->n_acct && na < PX_MX_ACCOUNTS; i++)
        accts[na++] = px->acct[i].name;
    {
        const wx_mx_family_t fam[] = {
            { "upstream_duration_seconds", "Time of the calls to the WeChat API, each "
              "attempt.", WX_MT_HISTOGRAM, PX_MX_UPSTREAM, { { NULL, NULL, 0 } }, 0 },
            { "account_calls_total", "Calls by the account they act for (- when refused "
              "before one was known) and outcome: ok, api_error (an errcode from WeChat), "
              "refused (by the proxy, 4xx), failed (5xx).", WX_MT_COUNTER, PX_MX_ACCT,
              { { "account", accts, na }, { "outcome", classes, PX_MX_CLASSES } }, 2 },
            { "calls_total", "Calls by key, API path family and outcome (ok, api_error: "
              "an errcode from WeChat, or the proxy's own refusal).", WX_MT_COUNTER,
              PX_MX_CALLS, { { "key", keys, n }, { "family", families, PX_MX_FAMILIES },
                             { "outcome", outcomes, PX_MX_OUTCOMES } }, 3 },
        };

        rc = wx_mx_write(out, "wxproxy", fam, 3, sums);
    }
    free(keys);
    return rc;
}
