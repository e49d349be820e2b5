/*
 * web.c - what web pages need of the proxy, answered without calling
 * WeChat with the account's token on the page's behalf:
 *
 *   GET /cgi-bin/ticket/getticket?type=jsapi|wx_card
 *       the ticket wxtoken keeps in the store (wx/state/ticket.h), in
 *       WeChat's shape; wxtoken is asked only when the store has none,
 *       and fetches one for any number of callers (PROTOCOL.md 13);
 *   GET /jssdk/config?url=URL
 *       {appId, timestamp, nonceStr, signature} for wx.config() on the
 *       page URL (its fragment dropped: wx/proto/jssdk.h);
 *   GET /sns/oauth2/access_token?code=CODE
 *       the code exchanged by wxtoken, the holder of the AppSecret
 *       (OAUTH CODE); WeChat's answer passed back as it is (PROTOCOL.md 12).
 *
 * /sns/userinfo, /sns/auth and /sns/oauth2/refresh_token carry the
 * follower's web token: forward.c sends them on with the caller's query
 * (px_web_token_path).  The key, its path list and its rate are checked
 * before any of these, as for every call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "wx/api/token_client.h"
#include "wx/core/log.h"
#include "wx/proto/jssdk.h"
#include "wx/proto/query.h"
#include "wx/state/ticket.h"
#include "wxproxy.h"
#include "forward.h"

#define PX_OAUTH_LINE   4096    /* wxtoken's JSON answer to OAUTH CODE */

int px_web_token_path(const char *path)
{
    return strcmp(path, "/sns/userinfo") == 0 || strcmp(path, "/sns/auth") == 0 ||
           strcmp(path, "/sns/oauth2/refresh_token") == 0;
}

static unsigned ask_ms(const px_conf_t *cfg)
{
    return cfg->px.timeout_ms < PX_ASK_MAX_MS ? cfg->px.timeout_ms : PX_ASK_MAX_MS;
}

/* Answer 200 with the JSON object 'j' (taken). */
static void send_json(FCGX_Request *rq, px_call_t *c, json_t *j)
{
    char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char head[256];
    int n;

    json_decref(j);
    if (body == NULL) {
        px_refuse(rq, c, 500, "internal", "", "out of memory");
        return;
    }
    n = snprintf(head, sizeof(head), "Status: 200 OK\r\n"
                 "Content-Type: application/json; encoding=utf-8\r\n"
                 "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n", strlen(body));
    FCGX_PutStr(head, n, rq->out);
    FCGX_PutS(body, rq->out);
    OPENSSL_cleanse(body, strlen(body));
    free(body);
    c->status = 200;
    c->has_errcode = 1;
    c->errcode = 0;
}

/* The query parameter 'name' of the call into 'buf': 0, or -1 after
 * refusing (400) a missing or malformed one. */
static int need_param(FCGX_Request *rq, px_call_t *c, const char *name, char *buf, size_t cap)
{
    const char *qs = FCGX_GetParam("QUERY_STRING", rq->envp);
    long n = wx_query_get(qs ? qs : "", name, buf, cap);

    if (n > 0)
        return 0;
    px_refuse(rq, c, 400, "bad_request", "", n == -1 || n == 0 ? "%s is missing" :
              "%s is malformed or too long", name);
    return -1;
}

/* The ticket of 'type': the store's, else wxtoken's.  0, or -1 after
 * refusing (503 no_ticket). */
static int get_ticket(px_t *px, FCGX_Request *rq, px_call_t *c, wx_ticket_type_t type,
                      wx_token_t *t)
{
    const px_conf_t *cfg = px->cfg;
    char err[512], what[32], req[64 + WX_ACCOUNT_NAME_MAX];
    wx_err_t rc = wx_ticket_read(c->acct->st, type, time(NULL), t, err, sizeof(err));

    if (rc == WX_OK)
        return 0;
    if (rc != WX_EMISSING && rc != WX_ESTALE)
        wx_log(WX_LOG_WARN, "account %s: ticket store: %s", c->acct->name, err);
    snprintf(what, sizeof(what), "TICKET %s", wx_ticket_name(type));
    px_account_line(c, what, req, sizeof(req));
    rc = wx_token_ask(wx_token_conf_sock(&cfg->tok), req, ask_ms(cfg), t, err, sizeof(err));
    if (rc == WX_OK && t->token[0])
        return 0;
    wx_log(WX_LOG_ERROR, "no %s ticket: the store has none and wxtoken gave none: %s",
           wx_ticket_name(type), err);
    px_refuse(rq, c, 503, "no_ticket", "Retry-After: 1\r\n",
              "no %s ticket: the store has none and wxtoken could not get one",
              wx_ticket_name(type));
    return -1;
}

static void getticket(px_t *px, FCGX_Request *rq, px_call_t *c)
{
    char type[16];
    wx_token_t t;
    int ty;

    if (need_param(rq, c, "type", type, sizeof(type)) != 0)
        return;
    if ((ty = wx_ticket_type(type)) < 0) {
        px_refuse(rq, c, 400, "bad_request", "", "type must be jsapi or wx_card");
        return;
    }
    if (get_ticket(px, rq, c, (wx_ticket_type_t)ty, &t) != 0)
        return;
    send_json(rq, c, json_pack("{s:i,s:s,s:s,s:I}", "errcode", 0, "errmsg", "ok", "ticket",
                               t.token, "expires_in", (json_int_t)(t.expires - time(NULL))));
    OPENSSL_cleanse(&t, sizeof(t));
}

static void jssdk_config(px_t *px, FCGX_Request *rq, px_call_t *c)
{
    const char *appid = c->acct->appid;
    char page[WX_JSSDK_URL_MAX + 8], url[WX_JSSDK_URL_MAX + 8];
    char nonce[WX_JSSDK_NONCE_LEN + 1], sig[WX_JSSDK_SIG_LEN + 1];
    long long now = (long long)time(NULL);
    wx_token_t t;
    wx_err_t rc;

    if (need_param(rq, c, "url", page, sizeof(page)) != 0)
        return;
    if ((rc = wx_jssdk_url(page, url, sizeof(url))) != WX_OK) {
        px_refuse(rq, c, 400, "bad_request", "", "url must be the page's http(s):// URL%s",
                  rc == WX_ETOOBIG ? ", of at most 2048 characters" : "");
        return;
    }
    if (appid == NULL) {
        px_refuse(rq, c, 500, "no_appid", "", "account %s has no appid", c->acct->name);
        return;
    }
    if (get_ticket(px, rq, c, WX_TICKET_JSAPI, &t) != 0)
        return;
    if (wx_jssdk_nonce(nonce) != WX_OK ||
        wx_jssdk_sign(t.token, nonce, now, url, sig) != WX_OK) {
        OPENSSL_cleanse(&t, sizeof(t));
        px_refuse(rq, c, 500, "internal", "", "the signature could not be made");
        return;
    }
    OPENSSL_cleanse(&t, sizeof(t));
    send_json(rq, c, json_pack("{s:i,s:s,s:s,s:I,s:s,s:s,s:s}", "errcode", 0, "errmsg", "ok",
                               "appId", appid, "timestamp", (json_int_t)now, "nonceStr", nonce,
                               "signature", sig, "url", url));
}

static void oauth_code(px_t *px, FCGX_Request *rq, px_call_t *c)
{
    const px_conf_t *cfg = px->cfg;
    char code[160], what[200], req[200 + 16 + WX_ACCOUNT_NAME_MAX], line[PX_OAUTH_LINE];
    char err[512];
    size_t got = 0;
    wx_err_t rc;

    if (need_param(rq, c, "code", code, sizeof(code)) != 0)
        return;
    snprintf(what, sizeof(what), "OAUTH %s", code);
    px_account_line(c, what, req, sizeof(req));
    OPENSSL_cleanse(what, sizeof(what));
    rc = wx_token_ask_line(wx_token_conf_sock(&cfg->tok), req, ask_ms(cfg), line,
                           sizeof(line), &got, err, sizeof(err));
    OPENSSL_cleanse(req, sizeof(req));
    if (rc != WX_OK || got == 0 || line[got - 1] != '\n') {
        wx_log(WX_LOG_ERROR, "oauth code: wxtoken did not answer: %s", rc ? err : "no answer");
        px_refuse(rq, c, 503, "wxtoken_unavailable", "Retry-After: 1\r\n",
                  "wxtoken, which exchanges the code, is not answering");
    } else if (strncmp(line, "JSON ", 5) == 0) {
        json_t *j = json_loadb(line + 5, got - 6, 0, NULL);
        json_t *e = json_object_get(j, "errcode");

        if (!json_is_object(j)) {
            json_decref(j);
            px_refuse(rq, c, 502, "upstream_failed", "", "WeChat's answer is not usable");
        } else {
            /* WeChat's answer (its errcode, 40029 or 40163, too). */
            long ec = json_is_integer(e) ? (long)json_integer_value(e) : 0;

            send_json(rq, c, j);
            c->errcode = ec;
        }
    } else {
        line[got - 1] = '\0';
        px_refuse(rq, c, 502, "upstream_failed", "", "the code exchange failed: %.200s",
                  strncmp(line, "ERR ", 4) == 0 ? line + 4 : "unexpected answer");
    }
    OPENSSL_cleanse(line, sizeof(line));
}

int px_web_route(px_t *px, FCGX_Request *rq, px_call_t *c)
{
    void (*fn)(px_t *, FCGX_Request *, px_call_t *);

    if (strcmp(c->path, "/cgi-bin/ticket/getticket") == 0)
        fn = getticket;
    else if (strcmp(c->path, "/jssdk/config") == 0)
        fn = jssdk_config;
    else if (strcmp(c->path, "/sns/oauth2/access_token") == 0)
        fn = oauth_code;
    else
        return 0;
    fn(px, rq, c);
    return 1;
}
