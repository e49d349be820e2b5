/*
 * oauth.c - OAuth 2.0 web authorization (PROTOCOL.md 12): the browser's
 * /connect/oauth2/authorize, which signs a simulated follower in and
 * redirects with a code, and the /sns/ APIs that take the code, the web
 * access_token and the refresh_token.
 *
 * A code is valid 5 minutes and once (40163 on reuse, 40029 when unknown
 * or expired); a web token 7200 s, for the /sns/ calls only (the account's
 * access_token is not one: 40001); a refresh_token 30 days (40030).
 * snsapi_base gives the openid alone (userinfo: 48001); snsapi_userinfo
 * needs the follower's consent, given unless the request says
 * sim_consent=deny.  All of it lives in sim->oauth, a JSON object of
 * three maps (code, token, refresh: value -> grant), on the simulated
 * clock, emptied by /sim/reset.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wxsim.h"

#define CODE_TTL        300             /* 5 minutes */
#define WEB_TOKEN_TTL   7200
#define REFRESH_TTL     (30 * 86400)    /* 30 days */
#define CODE_LEN        32
#define REFRESH_LEN     86
#define OPENID_LEN      28
#define MAX_GRANTS      100000          /* per map: beyond, expired ones are dropped */
#define REDIRECT_MAX    380             /* fits the Location header line */

/* The map 'name' of sim->oauth, made on first use; NULL out of memory. */
static json_t *map(wxsim_t *sim, const char *name)
{
    json_t *m;

    if (sim->oauth == NULL && (sim->oauth = json_object()) == NULL)
        return NULL;
    m = json_object_get(sim->oauth, name);
    if (m == NULL && (m = json_object()) != NULL &&
        json_object_set_new(sim->oauth, name, m) != 0)
        m = NULL;
    return m;
}

static long long grant_int(const json_t *g, const char *key)
{
    return (long long)json_integer_value(json_object_get(g, key));
}

/* Put 'g' (taken) under a new random key of 'len' characters in 'm';
 * the key in 'key'.  -1 out of room. */
static int add_grant(wxsim_t *sim, json_t *m, json_t *g, char *key, size_t len)
{
    long long now = wxsim_now(sim);

    if (m != NULL && json_object_size(m) >= MAX_GRANTS) {
        const char *k;
        json_t *v;
        void *tmp;

        json_object_foreach_safe(m, tmp, k, v)
            if (grant_int(v, "expires") <= now)
                json_object_del(m, k);
    }
    if (m == NULL || g == NULL || json_object_size(m) >= MAX_GRANTS) {
        json_decref(g);
        return -1;
    }
    wxsim_random_id(key, len);
    return json_object_set_new(m, key, g);
}

/* The default follower of the simulated browser: one per start or reset. */
static const char *default_openid(wxsim_t *sim)
{
    char id[OPENID_LEN + 1];
    const char *have;

    if (sim->oauth == NULL && map(sim, "code") == NULL)
        return NULL;
    have = wxsim_json_str(sim->oauth, "follower");
    if (have != NULL)
        return have;
    wxsim_random_id(id, OPENID_LEN);
    id[0] = 'o';
    json_object_set_new(sim->oauth, "follower", json_string(id));
    return wxsim_json_str(sim->oauth, "follower");
}

static int word_ok(const char *s, size_t max)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    return n > 0 && n <= max && s[n] == '\0';
}

/* A query parameter, or "" when absent; NULL (after answering 40097)
 * when malformed or too long. */
static const char *param(wxsim_req_t *rq, const char *name, char *buf, size_t cap)
{
    long n = wxsim_query_get(rq->query, name, buf, cap);

    if (n == -1)
        buf[0] = '\0';
    if (n == -2) {
        wxsim_reply_err(rq, 40097, "invalid args: %s", name);
        return NULL;
    }
    return buf;
}

/* The checks of the authorize page, in order; 0 when it may go on. */
static int authorize_args(wxsim_t *sim, wxsim_req_t *rq, const char *appid, const char *uri,
                          const char *type, const char *scope, const char *state)
{
    if (appid[0] == '\0')
        wxsim_reply_err(rq, 10012, "appid missing");
    else if (strcmp(appid, sim->cfg->sim.appid) != 0)
        wxsim_reply_err(rq, 40013, "invalid appid");
    else if (uri[0] == '\0')
        wxsim_reply_err(rq, 10011, "redirect_uri missing");
    else if ((strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) ||
             strlen(uri) > REDIRECT_MAX || strpbrk(uri, " \r\n\t"))
        wxsim_reply_err(rq, 10003, "redirect_uri is not a usable http(s) URL");
    else if (strcmp(type, "code") != 0)
        wxsim_reply_err(rq, 40097, "invalid args: response_type must be code");
    else if (scope[0] == '\0')
        wxsim_reply_err(rq, 10010, "scope missing");
    else if (strcmp(scope, "snsapi_base") != 0 && strcmp(scope, "snsapi_userinfo") != 0)
        wxsim_reply_err(rq, 10005, "scope unauthorized");
    else if (state[0] != '\0' && !word_ok(state, 128))
        wxsim_reply_err(rq, 40097, "invalid args: state is up to 128 letters and digits");
    else
        return 0;
    return -1;
}

/* GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code
 * &scope&state[&sim_openid=OPENID][&sim_consent=deny]: 302 to
 * REDIRECT_URI?code=CODE&state=STATE. */
void wxsim_oauth_authorize(wxsim_t *sim, wxsim_req_t *rq)
{
    char appid[64], uri[REDIRECT_MAX + 2], type[16], scope[32], state[130], who[70];
    char consent[16], code[CODE_LEN + 1];
    const char *openid;
    size_t base;

    if (!param(rq, "appid", appid, sizeof(appid)) ||
        !param(rq, "redirect_uri", uri, sizeof(uri)) ||
        !param(rq, "response_type", type, sizeof(type)) ||
        !param(rq, "scope", scope, sizeof(scope)) || !param(rq, "state", state, sizeof(state)) ||
        !param(rq, "sim_openid", who, sizeof(who)) ||
        !param(rq, "sim_consent", consent, sizeof(consent)))
        return;
    if (authorize_args(sim, rq, appid, uri, type, scope, state) != 0)
        return;
    if (who[0] != '\0' && !word_ok(who, 64)) {
        wxsim_reply_err(rq, 40003, "invalid openid");
        return;
    }
    openid = who[0] ? who : default_openid(sim);
    if (strcmp(scope, "snsapi_userinfo") == 0 && strcmp(consent, "deny") == 0) {
        /* The follower closed the consent page: WeChat redirects nowhere. */
        snprintf(rq->note, sizeof(rq->note), "consent refused");
        wxsim_reply_bytes(rq, strdup("the follower declined the authorization\n"), 40,
                          "text/plain; charset=utf-8");
        return;
    }
    if (openid == NULL ||
        add_grant(sim, map(sim, "code"),
                  json_pack("{s:s,s:s,s:I,s:b}", "openid", openid, "scope", scope,
                            "expires", (json_int_t)(wxsim_now(sim) + CODE_TTL), "used", 0),
                  code, CODE_LEN) != 0) {
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    /* The code and state go before the page's own fragment. */
    base = strcspn(uri, "#");
    rq->status = 302;
    snprintf(rq->headers, sizeof(rq->headers), "Location: %.*s%ccode=%s&state=%s%s\r\n",
             (int)base, uri, memchr(uri, '?', base) ? '&' : '?', code, state, uri + base);
    snprintf(rq->note, sizeof(rq->note), "scope=%s", scope);
    wxsim_reply_bytes(rq, strdup("signed in: redirecting\n"), 23, "text/plain; charset=utf-8");
}

/* appid and (when 'secret' is not NULL) the AppSecret: 0 when good. */
static int app_ok(wxsim_t *sim, wxsim_req_t *rq, const char *appid, const char *secret)
{
    size_t n = strlen(sim->cfg->sim.appsecret);

    if (appid[0] == '\0')
        wxsim_reply_err(rq, 41002, "appid missing");
    else if (strcmp(appid, sim->cfg->sim.appid) != 0)
        wxsim_reply_err(rq, 40013, "invalid appid");
    else if (secret != NULL && secret[0] == '\0')
        wxsim_reply_err(rq, 41004, "appsecret missing");
    else if (secret != NULL &&
             (strlen(secret) != n || CRYPTO_memcmp(secret, sim->cfg->sim.appsecret, n) != 0))
        wxsim_reply_err(rq, 40125, "invalid appsecret");
    else
        return 0;
    return -1;
}

/* A new web token for the grant's openid and scope, answered with
 * 'refresh' (the refresh_token). */
static void issue(wxsim_t *sim, wxsim_req_t *rq, const char *openid, const char *scope,
                  const char *refresh)
{
    char tok[WXSIM_TOKEN_LEN + 1];
    long long now = wxsim_now(sim);

    if (add_grant(sim, map(sim, "token"),
                  json_pack("{s:s,s:s,s:I}", "openid", openid, "scope", scope,
                            "expires", (json_int_t)(now + WEB_TOKEN_TTL)),
                  tok, WXSIM_TOKEN_LEN) != 0) {
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    wxsim_mx_token(WXSIM_MX_OAUTH);
    wxsim_reply_json(rq, json_pack("{s:s,s:i,s:s,s:s,s:s}", "access_token", tok,
                                   "expires_in", WEB_TOKEN_TTL, "refresh_token", refresh,
                                   "openid", openid, "scope", scope));
    explicit_bzero(tok, sizeof(tok));
}

/* GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code */
void wxsim_sns_access_token(wxsim_t *sim, wxsim_req_t *rq)
{
    char appid[64], secret[128], code[128], grant[64], refresh[REFRESH_LEN + 1];
    json_t *g, *codes = map(sim, "code");
    const char *openid, *scope;

    if (!param(rq, "appid", appid, sizeof(appid)) ||
        !param(rq, "secret", secret, sizeof(secret)) ||
        !param(rq, "code", code, sizeof(code)) ||
        !param(rq, "grant_type", grant, sizeof(grant)))
        goto out;
    if (app_ok(sim, rq, appid, secret) != 0)
        goto out;
    if (code[0] == '\0') {
        wxsim_reply_err(rq, 41008, "missing code");
        goto out;
    }
    if (strcmp(grant, "authorization_code") != 0) {
        wxsim_reply_err(rq, 40002, "invalid grant_type");
        goto out;
    }
    g = json_object_get(codes, code);
    if (g == NULL || grant_int(g, "expires") <= wxsim_now(sim)) {
        wxsim_reply_err(rq, 40029, "invalid code");
        goto out;
    }
    if (json_is_true(json_object_get(g, "used"))) {
        wxsim_reply_err(rq, 40163, "code been used");
        goto out;
    }
    json_object_set_new(g, "used", json_true());
    openid = wxsim_json_str(g, "openid");
    scope = wxsim_json_str(g, "scope");
    if (add_grant(sim, map(sim, "refresh"),
                  json_pack("{s:s,s:s,s:I}", "openid", openid, "scope", scope, "expires",
                            (json_int_t)(wxsim_now(sim) + REFRESH_TTL)),
                  refresh, REFRESH_LEN) != 0) {
        wxsim_reply_err(rq, -1, "system error");
        goto out;
    }
    issue(sim, rq, openid, scope, refresh);
out:
    explicit_bzero(secret, sizeof(secret));
}

/* GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token */
void wxsim_sns_refresh(wxsim_t *sim, wxsim_req_t *rq)
{
    char appid[64], grant[64], refresh[256];
    json_t *g;

    if (!param(rq, "appid", appid, sizeof(appid)) ||
        !param(rq, "grant_type", grant, sizeof(grant)) ||
        !param(rq, "refresh_token", refresh, sizeof(refresh)))
        return;
    if (app_ok(sim, rq, appid, NULL) != 0)
        return;
    if (strcmp(grant, "refresh_token") != 0) {
        wxsim_reply_err(rq, 40002, "invalid grant_type");
        return;
    }
    if (refresh[0] == '\0') {
        wxsim_reply_err(rq, 41003, "refresh_token missing");
        return;
    }
    g = json_object_get(map(sim, "refresh"), refresh);
    if (g == NULL || grant_int(g, "expires") <= wxsim_now(sim)) {
        wxsim_reply_err(rq, 40030, "invalid refresh_token");
        return;
    }
    issue(sim, rq, wxsim_json_str(g, "openid"), wxsim_json_str(g, "scope"), refresh);
}

/* The web token of the call and its openid: the grant, or NULL after
 * answering 41001, 40001, 42001 or 40003. */
static const json_t *web_grant(wxsim_t *sim, wxsim_req_t *rq)
{
    char tok[600], openid[80];
    const json_t *g;

    if (!param(rq, "access_token", tok, sizeof(tok)) ||
        !param(rq, "openid", openid, sizeof(openid)))
        return NULL;
    if (tok[0] == '\0') {
        wxsim_reply_err(rq, 41001, "access_token missing");
        return NULL;
    }
    g = json_object_get(map(sim, "token"), tok);
    explicit_bzero(tok, sizeof(tok));
    if (g == NULL) {
        wxsim_reply_err(rq, 40001, "invalid credential, access_token is invalid or not latest");
        return NULL;
    }
    if (grant_int(g, "expires") <= wxsim_now(sim)) {
        wxsim_reply_err(rq, 42001, "access_token expired");
        return NULL;
    }
    if (strcmp(openid, wxsim_json_str(g, "openid")) != 0) {
        wxsim_reply_err(rq, 40003, "invalid openid");
        return NULL;
    }
    return g;
}

/* GET /sns/userinfo?access_token=WEB_TOKEN&openid&lang */
void wxsim_sns_userinfo(wxsim_t *sim, wxsim_req_t *rq)
{
    const json_t *g = web_grant(sim, rq);
    const char *openid;
    char nick[32], img[160];

    if (g == NULL)
        return;
    if (strcmp(wxsim_json_str(g, "scope"), "snsapi_userinfo") != 0) {
        wxsim_reply_err(rq, 48001, "api unauthorized");
        return;
    }
    openid = wxsim_json_str(g, "openid");
    snprintf(nick, sizeof(nick), "follower-%.6s", openid + (strlen(openid) > 6 ? 1 : 0));
    snprintf(img, sizeof(img), "https://thirdwx.qlogo.cn/mmopen/sim/%.64s/132", openid);
    wxsim_reply_json(rq, json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:[]}", "openid", openid,
                                   "nickname", nick, "sex", 0, "province", "Guangdong",
                                   "city", "Shenzhen", "country", "CN", "headimgurl", img,
                                   "privilege"));
}

/* GET /sns/auth?access_token=WEB_TOKEN&openid */
void wxsim_sns_auth(wxsim_t *sim, wxsim_req_t *rq)
{
    if (web_grant(sim, rq) != NULL)
        wxsim_reply_ok(rq);
}
