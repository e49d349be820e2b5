/*
 * ticket.c - wxtoken's JS-SDK tickets (PROTOCOL.md 13): the jsapi_ticket
 * and the card api_ticket, managed as the token is.
 *
 * A ticket is fetched with the current access token when a caller first
 * asks for it (TICKET TYPE on the socket: wxproxy, when the store has
 * none), kept in the state store (wx/state/ticket.h) with a version, and
 * from then on refreshed refresh_margin seconds before it expires, or at
 * once on TICKET TYPE REFRESH.  getticket's quota is very small: callers
 * are answered one after the other, so a burst of requests finds the
 * ticket the first one fetched and costs one call; after a failure no
 * call is made before the backoff ends (the failure is answered).  A token
 * refused by getticket (40001, 40014, 42001) is refreshed once, as a
 * REJECTED report would.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/core/str.h"
#include "wxtoken.h"

static void failed(wxtoken_ext_t *x, wxtoken_ticket_t *k, long code, const char *why)
{
    unsigned ms = k->backoff_ms ? k->backoff_ms : x->cfg->tok.retry_min_ms;

    k->backoff_ms = ms >= x->cfg->tok.retry_max_ms / 2 ? x->cfg->tok.retry_max_ms : ms * 2;
    k->retry_at = (time_t)((wx_wall_ms() + ms + 999) / 1000);
    k->last_errcode = code;
    snprintf(k->last_error, sizeof(k->last_error), "%s", why);
}

/* Take in what the store holds (another wxtoken may have written it). */
static void load(wxtoken_ext_t *x, wx_ticket_type_t type)
{
    wxtoken_ticket_t *k = &x->tk[type];
    char err[256];
    wx_err_t rc = wx_ticket_read(x->st, type, time(NULL), &k->cur, err, sizeof(err));

    k->have = rc == WX_OK;
    if (rc != WX_OK && rc != WX_EMISSING && rc != WX_ESTALE)
        wx_log(WX_LOG_ERROR, "%s", err);
}

/* One getticket call with 'tok'; 0 with the ticket in '*out'. */
static int call(wxtoken_ext_t *x, wx_ticket_type_t type, const char *tok, wx_token_t *out,
                long *errcode, char *why, size_t whylen)
{
    char path[WX_TOKEN_MAX + 96];
    wx_api_result_t r;
    json_t *t, *e;
    int rc = -1;

    snprintf(path, sizeof(path), "/cgi-bin/ticket/getticket?access_token=%s&type=%s", tok,
             wx_ticket_name(type));
    wx_api_call(x->api, path, NULL, &r);
    explicit_bzero(path, sizeof(path));
    *errcode = r.transport == WX_OK ? r.errcode : -1;
    t = json_object_get(r.json, "ticket");
    e = json_object_get(r.json, "expires_in");
    if (r.transport != WX_OK) {
        snprintf(why, whylen, "transport: %.140s", r.why);
    } else if (r.errcode != 0) {
        wx_log_clean(why, whylen, wx_str_c(r.errmsg));
    } else if (!json_is_string(t) || !wx_token_valid(json_string_value(t)) ||
               !json_is_integer(e) || json_integer_value(e) <= 0) {
        *errcode = -1;
        snprintf(why, whylen, "answer without a usable ticket");
    } else {
        memset(out, 0, sizeof(*out));
        memcpy(out->token, json_string_value(t), json_string_length(t) + 1);
        out->obtained = time(NULL);
        out->expires = out->obtained + (time_t)json_integer_value(e);
        rc = 0;
    }
    wx_api_result_free(&r);
    return rc;
}

/* Keep 'fresh' as the next version, under the ticket's lock.  0, or -1
 * when the store refuses it. */
static int keep(wxtoken_ext_t *x, wx_ticket_type_t type, wx_token_t *fresh)
{
    wxtoken_ticket_t *k = &x->tk[type];
    char err[256];
    wx_token_t old;

    fresh->version = (k->have ? k->cur.version : 0) + 1;
    if (!k->have && wx_ticket_read(x->st, type, 0, &old, err, sizeof(err)) == WX_OK)
        fresh->version = old.version + 1;       /* versions only grow */
    explicit_bzero(&old, sizeof(old));
    if (wx_ticket_write(x->st, type, fresh, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "%s", err);
        return -1;
    }
    k->cur = *fresh;
    k->have = 1;
    k->backoff_ms = 0;
    k->retry_at = 0;
    k->last_errcode = 0;
    k->last_error[0] = '\0';
    return 0;
}

/* Fetch a new ticket unless the store holds one that will do: one that
 * is not due ('force': one newer than what we had).  The check and the
 * call under the ticket's lock, so that two wxtoken processes on one
 * store do not both fetch; the token is had before the lock is taken, as
 * refreshing it takes the token's lock (one lock a handle at a time).  A
 * token that getticket refuses (40001, 40014, 42001) is refreshed and the
 * call made once more. */
static int refresh(wxtoken_ext_t *x, wx_ticket_type_t type, int force)
{
    wxtoken_ticket_t *k = &x->tk[type];
    unsigned long v0 = k->have ? k->cur.version : 0;
    char why[160] = "no access token", err[256];
    long long t0 = wx_wall_ms();
    wx_token_t tok, fresh;
    long code = -1;
    int tries, rc = -1;

    memset(&tok, 0, sizeof(tok));
    for (tries = 0; tries < 2; tries++) {
        if (x->token(x->self, tries ? tok.token : NULL, &tok) != 0)
            break;
        if (wx_ticket_lock(x->st, type, err, sizeof(err)) != WX_OK) {
            snprintf(why, sizeof(why), "%.150s", err);
            break;
        }
        load(x, type);
        if (k->have && (force ? k->cur.version > v0 :
                        k->cur.expires - time(NULL) > (time_t)x->cfg->tok.refresh_margin)) {
            rc = 0;         /* another instance has fetched it */
        } else if ((rc = call(x, type, tok.token, &fresh, &code, why, sizeof(why))) == 0) {
            wx_log(WX_LOG_INFO, "%sticket %s: fetched in %lld ms, expires in %lld s",
                   x->tag, wx_ticket_name(type), wx_wall_ms() - t0,
                   (long long)(fresh.expires - fresh.obtained));
            if ((rc = keep(x, type, &fresh)) != 0)
                snprintf(why, sizeof(why), "cannot write the store");
        }
        wx_ticket_unlock(x->st, type);
        if (rc == 0 || (code != 40001 && code != 40014 && code != 42001))
            break;
        wx_log(WX_LOG_INFO, "%sgetticket %s: errcode %ld for the token: refreshing it",
               x->tag, wx_ticket_name(type), code);
    }
    explicit_bzero(&tok, sizeof(tok));
    explicit_bzero(&fresh, sizeof(fresh));
    if (rc != 0) {
        wx_log(WX_LOG_WARN, "%sticket %s: fetch failed: errcode %ld (%s)", x->tag,
               wx_ticket_name(type),
               code, why);
        failed(x, k, code, why);
    }
    return rc;
}

void wxtoken_ticket_load(wxtoken_ext_t *x)
{
    int i;

    for (i = 0; i < WX_TICKET__MAX; i++)
        load(x, (wx_ticket_type_t)i);
}

int wxtoken_ticket_retire(wxtoken_ext_t *x)
{
    char err[256];
    int i, rc = 0;

    for (i = 0; i < WX_TICKET__MAX; i++) {
        wx_ticket_type_t type = (wx_ticket_type_t)i;
        wxtoken_ticket_t *k = &x->tk[i];
        int bad = wx_ticket_lock(x->st, type, err, sizeof(err)) != WX_OK;

        if (!bad) {
            bad = wx_ticket_retire(x->st, type, err, sizeof(err)) != WX_OK;
            wx_ticket_unlock(x->st, type);
        }
        if (bad) {
            wx_log(WX_LOG_ERROR, "%sticket %s: cannot retire it: %s", x->tag,
                   wx_ticket_name(type), err);
            rc = -1;
        }
        explicit_bzero(&k->cur, sizeof(k->cur));
        k->have = 0;
    }
    return rc;
}

/* Only tickets someone asked for are kept fresh: the quota is small. */
time_t wxtoken_ticket_due(const wxtoken_ext_t *x)
{
    time_t due = 0;
    int i;

    for (i = 0; i < WX_TICKET__MAX; i++) {
        const wxtoken_ticket_t *k = &x->tk[i];
        time_t d;

        if (!k->cur.token[0])
            continue;
        d = k->cur.expires - (time_t)x->cfg->tok.refresh_margin;
        if (d < k->retry_at)
            d = k->retry_at;
        if (due == 0 || d < due)
            due = d;
    }
    return due;
}

void wxtoken_ticket_tick(wxtoken_ext_t *x)
{
    time_t now = time(NULL);
    int i;

    for (i = 0; i < WX_TICKET__MAX; i++) {
        wxtoken_ticket_t *k = &x->tk[i];

        if (k->cur.token[0] && now >= k->retry_at &&
            k->cur.expires - now <= (time_t)x->cfg->tok.refresh_margin)
            refresh(x, (wx_ticket_type_t)i, 0);
    }
}

int wxtoken_ticket_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap)
{
    char name[16], extra[16];
    int n, type, force;
    wxtoken_ticket_t *k;

    if (strncmp(line, "TICKET ", 7) != 0)
        return 0;
    n = sscanf(line + 7, "%15s %15s", name, extra);
    type = n >= 1 ? wx_ticket_type(name) : -1;
    force = n == 2 && strcmp(extra, "REFRESH") == 0;
    if (type < 0 || (n == 2 && !force)) {
        snprintf(reply, cap, "ERR -2 TICKET jsapi|wx_card [REFRESH]\n");
        return 1;
    }
    k = &x->tk[type];
    load(x, (wx_ticket_type_t)type);
    if (time(NULL) >= k->retry_at && (force || !k->have))
        refresh(x, (wx_ticket_type_t)type, force);
    if (k->have && k->cur.expires > time(NULL))
        snprintf(reply, cap, "OK %lu %lld %s\n", k->cur.version, (long long)k->cur.expires,
                 k->cur.token);
    else
        snprintf(reply, cap, "ERR %ld %s\n", k->last_errcode ? k->last_errcode : -1,
                 k->last_error[0] ? k->last_error : "no ticket yet");
    return 1;
}

int wxtoken_ext_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap)
{
    return wxtoken_ticket_request(x, line, reply, cap) ||
           wxtoken_oauth_request(x, line, reply, cap);
}
