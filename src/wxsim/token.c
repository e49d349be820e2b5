/*
 * token.c - the access-token rules of PROTOCOL.md 5: /cgi-bin/token,
 * /cgi-bin/stable_token and the check every other API makes.
 *
 * A new token supersedes the current one, which stays valid WXSIM_OVERLAP
 * (300) seconds more, never past its own expiry (5.1: "保证在5分钟内，新老
 * access_token都可用").  The two families are separate (5.2: "completely
 * isolated") but both are accepted by the APIs.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wx/core/log.h"
#include "wxsim.h"

#define STABLE_DAILY_LIMIT  500000u     /* 5.2 */
#define FORCE_DAILY_LIMIT   20u         /* 5.2: force mode 20/day */
#define FORCE_INTERVAL      30          /* 5.2: >= 30 s between forces */

static int token_valid(const wxsim_token_t *t, long long now)
{
    return t->value[0] != '\0' && now < t->expires &&
           (t->revoked == 0 || now < t->revoked + WXSIM_OVERLAP);
}

/* The counters are per simulated day. */
static void roll_day(wxsim_t *sim, wxsim_family_t *f)
{
    long long d = wxsim_day(sim);

    if (f->day != d) {
        f->day = d;
        f->day_calls = 0;
        f->day_forced = 0;
    }
}

static void issue(wxsim_t *sim, wxsim_family_t *f, long long now)
{
    if (f->cur.value[0] != '\0' && token_valid(&f->cur, now)) {
        f->prev = f->cur;
        f->prev.revoked = now;
    } else {
        /* A dead current token is not worth remembering. */
        explicit_bzero(&f->prev, sizeof(f->prev));
    }
    wxsim_random_id(f->cur.value, WXSIM_TOKEN_LEN);
    f->cur.issued = now;
    f->cur.expires = now + sim->cfg->sim.token_ttl;
    f->cur.revoked = 0;
    f->issued++;
    wxsim_mx_token(f == &sim->stable ? WXSIM_MX_STABLE : WXSIM_MX_ACCESS);
}

/* 300 s before expiry (5.2); a short test ttl gets its last quarter
 * instead, or every call in normal mode would renew. */
static long long renew_window(const wxsim_t *sim)
{
    long long ttl = sim->cfg->sim.token_ttl;

    return ttl >= 4 * WXSIM_OVERLAP ? WXSIM_OVERLAP : ttl / 4;
}

static void reply_token(wxsim_req_t *rq, const wxsim_token_t *t, long long now,
                        int fresh)
{
    char shortened[24];

    wx_log_openid(shortened, sizeof(shortened), wx_str_c(t->value));
    snprintf(rq->note, sizeof(rq->note), "%s token=%s", fresh ? "issued" : "same",
             shortened);
    wxsim_reply_json(rq, json_pack("{s:s,s:I}", "access_token", t->value,
                                   "expires_in", (json_int_t)(t->expires - now)));
}

static int secret_eq(const char *given, const char *want)
{
    size_t n = strlen(want);

    return strlen(given) == n && CRYPTO_memcmp(given, want, n) == 0;
}

/* 40164 unless the caller's address is in [wxsim] allow_ips ("" = any). */
static int ip_allowed(wxsim_t *sim, wxsim_req_t *rq)
{
    const char *list = sim->cfg->sim.allow_ips, *ip = rq->remote_addr, *p;
    size_t iplen;

    if (list == NULL || list[strspn(list, " \t,")] == '\0')
        return 1;
    if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.'))
        ip += 7;
    iplen = strlen(ip);
    for (p = list; *p; ) {
        size_t len;

        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (len && len == iplen && memcmp(p, ip, len) == 0)
            return 1;
        p += len;
    }
    /* WeChat's wording, which callers' logs and docs quote. */
    if (strchr(ip, ':'))
        wxsim_reply_err(rq, 40164, "invalid ip %.64s ipv6 %.64s, not in whitelist", ip, ip);
    else
        wxsim_reply_err(rq, 40164, "invalid ip %.64s ipv6 ::ffff:%.64s, not in whitelist",
                        ip, ip);
    return 0;
}

/* The credentials, in the order WeChat checks them.  1 when good, else 0
 * after answering. */
static int credentials_ok(wxsim_t *sim, wxsim_req_t *rq, const char *grant,
                          const char *appid, const char *secret)
{
    if (grant == NULL || strcmp(grant, "client_credential") != 0) {
        wxsim_reply_err(rq, 40002, "invalid grant_type");
        return 0;
    }
    if (appid == NULL || appid[0] == '\0') {
        wxsim_reply_err(rq, 41002, "appid missing");
        return 0;
    }
    if (strcmp(appid, sim->cfg->sim.appid) != 0) {
        wxsim_reply_err(rq, 40013, "invalid appid");
        return 0;
    }
    if (secret == NULL || secret[0] == '\0') {
        wxsim_reply_err(rq, 41004, "appsecret missing");
        return 0;
    }
    if (!secret_eq(secret, sim->cfg->sim.appsecret)) {
        wxsim_reply_err(rq, 40125, "invalid appsecret");
        return 0;
    }
    return ip_allowed(sim, rq);
}

void wxsim_token_get(wxsim_t *sim, wxsim_req_t *rq)
{
    char grant[64], appid[64], secret[256];
    long long now = wxsim_now(sim);
    wxsim_family_t *f = &sim->token;
    int ok;

    ok = credentials_ok(sim, rq,
                        wxsim_query_get(rq->query, "grant_type", grant, sizeof(grant)) >= 0
                            ? grant : NULL,
                        wxsim_query_get(rq->query, "appid", appid, sizeof(appid)) >= 0
                            ? appid : NULL,
                        wxsim_query_get(rq->query, "secret", secret, sizeof(secret)) >= 0
                            ? secret : NULL);
    explicit_bzero(secret, sizeof(secret));
    if (!ok)
        return;
    roll_day(sim, f);
    if (f->day_calls >= sim->cfg->sim.token_daily_limit) {
        wxsim_reply_err(rq, 45009, "reach max api daily quota limit");
        return;
    }
    f->day_calls++;
    issue(sim, f, now);
    reply_token(rq, &f->cur, now, 1);
}

void wxsim_token_stable(wxsim_t *sim, wxsim_req_t *rq)
{
    long long now = wxsim_now(sim);
    wxsim_family_t *f = &sim->stable;
    json_t *body, *force;
    int fresh = 0;

    if (strcmp(rq->method, "POST") != 0) {
        wxsim_reply_err(rq, 43002, "require POST method");
        return;
    }
    body = wxsim_req_json(rq);
    if (body == NULL)
        return;
    force = json_object_get(body, "force_refresh");
    if (force != NULL && !json_is_boolean(force)) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    if (!credentials_ok(sim, rq, wxsim_json_str(body, "grant_type"),
                        wxsim_json_str(body, "appid"), wxsim_json_str(body, "secret")))
        goto out;
    roll_day(sim, f);
    if (f->day_calls >= STABLE_DAILY_LIMIT) {
        wxsim_reply_err(rq, 45009, "reach max api daily quota limit");
        goto out;
    }
    if (json_is_true(force)) {
        if (f->day_forced >= FORCE_DAILY_LIMIT) {
            wxsim_reply_err(rq, 45009, "reach max api daily quota limit");
            goto out;
        }
        if (f->last_forced && now - f->last_forced < FORCE_INTERVAL) {
            wxsim_reply_err(rq, 45011, "api minute-quota reach limit mustslower "
                                       "retry next minute");
            goto out;
        }
        f->day_forced++;
        f->last_forced = now;
        issue(sim, f, now);
        fresh = 1;
    } else if (!token_valid(&f->cur, now) || f->cur.expires - now <= renew_window(sim)) {
        /* Normal mode renews in the last 5 minutes, so every token it
         * returns has expires_in > 300 and the old one lives out its
         * remaining minutes. */
        issue(sim, f, now);
        fresh = 1;
    }
    f->day_calls++;
    reply_token(rq, &f->cur, now, fresh);
out:
    json_decref(body);
}

static int check_one(wxsim_req_t *rq, const wxsim_token_t *t, const char *tok,
                     long long now)
{
    if (t->value[0] == '\0' || strcmp(t->value, tok) != 0)
        return 1;                       /* not this one: go on */
    if (token_valid(t, now))
        return 0;
    if (now >= t->expires && (t->revoked == 0 || t->expires <= t->revoked + WXSIM_OVERLAP))
        wxsim_reply_err(rq, 42001, "access_token expired");
    else
        wxsim_reply_err(rq, 40001, "invalid credential, access_token is invalid or not latest");
    return -1;
}

int wxsim_token_check(wxsim_t *sim, wxsim_req_t *rq)
{
    const wxsim_token_t *slots[4] = {
        &sim->token.cur, &sim->token.prev, &sim->stable.cur, &sim->stable.prev
    };
    long long now = wxsim_now(sim);
    char tok[600];
    long n;
    int i, rc;

    n = wxsim_query_get(rq->query, "access_token", tok, sizeof(tok));
    if (n == -1 || n == 0) {
        wxsim_reply_err(rq, 41001, "access_token missing");
        return -1;
    }
    if (n > 0) {
        for (i = 0; i < 4; i++) {
            rc = check_one(rq, slots[i], tok, now);
            if (rc <= 0)
                return rc;
        }
    }
    wxsim_reply_err(rq, 40001, "invalid credential, access_token is invalid or not latest");
    return -1;
}

void wxsim_token_invalidate(wxsim_t *sim)
{
    explicit_bzero(&sim->token.cur, sizeof(sim->token.cur));
    explicit_bzero(&sim->token.prev, sizeof(sim->token.prev));
    explicit_bzero(&sim->stable.cur, sizeof(sim->stable.cur));
    explicit_bzero(&sim->stable.prev, sizeof(sim->stable.prev));
}
