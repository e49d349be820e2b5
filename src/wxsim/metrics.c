/*
 * metrics.c - the figures of /sim/metrics in the Prometheus text format:
 * API calls by family and errcode and their duration, tokens and tickets
 * issued by kind, messages the API accepted by kind.
 *
 * The counters belong to the process, not to the simulated platform: a
 * /sim/reset forgets the platform's state but keeps them, so a scrape
 * never goes backwards while wxsim runs.  One process, one thread: plain
 * increments; the histogram and the fixed families live in libwx's
 * private counters (wx_mx, there is no pool), the errcodes seen in a
 * table of their own since they are not known in advance.
 */
#include <stdlib.h>
#include <string.h>

#include "wx/core/dynbuf.h"
#include "wx/server/metrics.h"
#include "wxsim.h"

#define MX_DURATION     WX_MX_APP                           /* the histogram */
#define MX_TOKENS       (MX_DURATION + WX_MX_HIST_N + 2)
#define MX_MESSAGES     (MX_TOKENS + WXSIM_MX_TOKEN__MAX)
#define MX_PAIRS_MAX    1024        /* family x errcode pairs kept apart */
#define MX_OUT_MAX      (1u << 20)

static const char *const token_kinds[WXSIM_MX_TOKEN__MAX] = {
    "access_token", "stable_token", "jsapi_ticket", "wx_card_ticket", "oauth_access_token"
};

enum { MSG_CUSTOM, MSG_TEMPLATE, MSG_MASS, MSG_PREVIEW, MSG_SUBSCRIBE, MSG__MAX };
static const char *const msg_kinds[MSG__MAX] = {
    "custom", "template", "mass", "preview", "subscribe"
};

/* The API paths by family: the first prefix that matches (a prefix ends
 * in '/'; anything else is a whole path). */
static const struct { const char *path, *family; } families[] = {
    { "/cgi-bin/token", "token" },                  { "/cgi-bin/stable_token", "token" },
    { "/cgi-bin/getcallbackip", "ip" },             { "/cgi-bin/get_api_domain_ip", "ip" },
    { "/cgi-bin/menu/", "menu" },                   { "/cgi-bin/get_current_selfmenu_info", "menu" },
    { "/cgi-bin/media/", "media" },                 { "/cgi-bin/material/", "material" },
    { "/cgi-bin/draft/", "draft" },                 { "/cgi-bin/freepublish/", "draft" },
    { "/cgi-bin/message/mass/", "mass" },           { "/cgi-bin/message/custom/typing", "kf" },
    { "/cgi-bin/message/custom/", "custom" },       { "/cgi-bin/message/template/", "template" },
    { "/cgi-bin/message/subscribe/", "subscribe" }, { "/wxaapi/newtmpl/", "subscribe" },
    { "/connect/oauth2/", "oauth" },                { "/sns/", "oauth" },
    { "/cgi-bin/ticket/", "ticket" },               { "/cgi-bin/callback/", "callback" },
    { "/cgi-bin/user/tag/", "tag" },                { "/cgi-bin/user/", "user" },
    { "/cgi-bin/tags/members/getblacklist", "blacklist" },
    { "/cgi-bin/tags/members/batchblacklist", "blacklist" },
    { "/cgi-bin/tags/members/batchunblacklist", "blacklist" },
    { "/cgi-bin/tags/", "tag" },                    { "/cgi-bin/qrcode/", "qrcode" },
    { "/cgi-bin/showqrcode", "qrcode" },            { "/cgi-bin/shorten/", "shorten" },
    { "/cgi-bin/shorturl", "shorten" },             { "/customservice/", "kf" },
    { "/cgi-bin/customservice/", "kf" },            { "/cgi-bin/template/", "template" },
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* The messages the API accepts (errcode 0) by path. */
static const struct { const char *path; unsigned kind; } messages[] = {
    { "/cgi-bin/message/custom/send", MSG_CUSTOM },
    { "/cgi-bin/message/template/send", MSG_TEMPLATE },
    { "/cgi-bin/message/mass/sendall", MSG_MASS },
    { "/cgi-bin/message/mass/send", MSG_MASS },
    { "/cgi-bin/message/mass/preview", MSG_PREVIEW },
    { "/cgi-bin/message/subscribe/bizsend", MSG_SUBSCRIBE },
};

typedef struct mx_pair {
    const char     *family;         /* static */
    int             errcode;        /* -2: not a JSON answer */
    unsigned long   calls;
} mx_pair_t;

static mx_pair_t pairs[MX_PAIRS_MAX];
static size_t n_pairs;
static unsigned long pairs_overflow;

static const char *family_of(const char *path)
{
    size_t i, n;

    for (i = 0; i < N_FAMILIES; i++) {
        n = strlen(families[i].path);
        if (families[i].path[n - 1] == '/' ? strncmp(path, families[i].path, n) == 0 :
                                             strcmp(path, families[i].path) == 0)
            return families[i].family;
    }
    return "other";
}

void wxsim_mx_call(const char *path, int errcode, long us)
{
    const char *family = family_of(path);
    size_t i;

    wx_mx_observe(MX_DURATION, us > 0 ? (uint64_t)us : 0);
    for (i = 0; errcode == 0 && i < sizeof(messages) / sizeof(messages[0]); i++)
        if (strcmp(path, messages[i].path) == 0)
            wx_mx_inc(MX_MESSAGES + messages[i].kind);
    for (i = 0; i < n_pairs; i++) {
        if (pairs[i].family == family && pairs[i].errcode == errcode) {
            pairs[i].calls++;
            return;
        }
    }
    if (n_pairs == MX_PAIRS_MAX) {
        pairs_overflow++;
        return;
    }
    pairs[n_pairs].family = family;
    pairs[n_pairs].errcode = errcode;
    pairs[n_pairs++].calls = 1;
}

void wxsim_mx_token(wxsim_mx_token_t kind)
{
    wx_mx_inc(MX_TOKENS + (unsigned)kind);
}

static int write_calls(wx_dynbuf_t *out)
{
    size_t i;
    int rc;

    rc = wx_mx_printf(out, "# HELP wxsim_api_calls_total API calls by family and the errcode "
                      "answered (none: not a JSON answer: bytes, a redirect, a dropped "
                      "connection).\n# TYPE wxsim_api_calls_total counter\n");
    for (i = 0; i < n_pairs; i++) {
        if (pairs[i].errcode == -2)
            rc |= wx_mx_printf(out, "wxsim_api_calls_total{family=\"%s\",errcode=\"none\"} "
                               "%lu\n", pairs[i].family, pairs[i].calls);
        else
            rc |= wx_mx_printf(out, "wxsim_api_calls_total{family=\"%s\",errcode=\"%d\"} "
                               "%lu\n", pairs[i].family, pairs[i].errcode, pairs[i].calls);
    }
    if (pairs_overflow)
        rc |= wx_mx_printf(out, "wxsim_api_calls_total{family=\"other\",errcode=\"other\"} "
                           "%lu\n", pairs_overflow);
    return rc;
}

void wxsim_mx_answer(wxsim_req_t *rq)
{
    static const wx_mx_family_t fam[] = {
        { "api_call_duration_seconds", "Time of an API call, from routing to the answer "
          "built.", WX_MT_HISTOGRAM, MX_DURATION, { { NULL, NULL, 0 } }, 0 },
        { "tokens_issued_total", "Tokens and tickets issued, by kind.", WX_MT_COUNTER,
          MX_TOKENS, { { "kind", token_kinds, WXSIM_MX_TOKEN__MAX } }, 1 },
        { "messages_received_total", "Messages the API accepted (errcode 0), by kind.",
          WX_MT_COUNTER, MX_MESSAGES, { { "kind", msg_kinds, MSG__MAX } }, 1 },
    };
    uint64_t *sums = malloc(WX_MX_MAX * sizeof(*sums));
    wx_dynbuf_t out;
    size_t len;

    wx_dynbuf_init(&out, MX_OUT_MAX);
    if (sums == NULL) {
        rq->status = 500;
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    wx_mx_sum(NULL, sums);
    if (write_calls(&out) != 0 || wx_mx_write(&out, "wxsim", fam, 3, sums) != 0 ||
        out.data == NULL) {
        wx_dynbuf_free(&out);
        free(sums);
        rq->status = 500;
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    free(sums);
    len = out.len;
    wxsim_reply_bytes(rq, wx_dynbuf_take(&out), len, "text/plain; version=0.0.4");
    rq->errcode = -2;
}
