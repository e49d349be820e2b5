/*
 * forward.c - one call through the proxy.
 *
 *   key (X-Wx-Key, constant time) -> path allowed for the key -> the
 *   key's token bucket (shared by every worker of the machine) -> body
 *   read, up to max_body, into memory (1 MiB) or an unlinked temporary
 *   file -> token from the store (or from wxtoken when the store has
 *   none) -> the call, streamed both ways by libcurl -> on 40001, 42001
 *   or 40014 (PROTOCOL.md 5.3) the token is reported to wxtoken and the
 *   call made once more with the token it hands back.
 *
 * WeChat's answer is returned unchanged: status, Content-Type,
 * Content-Disposition and body.  The first PX_PEEK bytes are held back
 * to look for a token error (such an answer is a few dozen bytes); a
 * larger answer (a media file) is streamed to the caller as it arrives.
 * The proxy's own refusals are JSON in the platform's error shape,
 * {"errcode":990000+STATUS,"errmsg":TEXT,"error":CODE}, with our status.
 *
 * Nothing secret is logged: not the key (its name is), not the token, not
 * the query string (the path is).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "wx/core/dirhint.h"
#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/state/ratelimit.h"
#include "wx/state/token.h"
#include "wx/api/token_client.h"
#include "wxproxy.h"
#include "forward.h"
#include "metrics.h"

/* ---- set-up ---------------------------------------------------------------- */

px_t *px_new(const px_conf_t *cfg, char *err, size_t errlen)
{
    static int curl_ready;
    px_t *px = calloc(1, sizeof(*px));
    size_t i;

    if (px == NULL)
        goto oom;
    px->cfg = cfg;
    if (mkdir(cfg->px.state_dir, 0700) != 0 && errno != EEXIST) {
        char hint[512];
        int e = errno;

        snprintf(err, errlen, "[wxproxy] state_dir %s: %s%s", cfg->px.state_dir,
                 strerror(e), wx_dir_hint(cfg->px.state_dir, 1, e, hint, sizeof(hint)));
        goto fail;
    }
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl initialisation failed");
            goto fail;
        }
        curl_ready = 1;
    }
    px->curl = curl_easy_init();
    if (px->curl == NULL)
        goto oom;
    if (cfg->keys.n) {
        px->key_md = calloc(cfg->keys.n, sizeof(*px->key_md));
        if (px->key_md == NULL)
            goto oom;
    }
    for (i = 0; i < cfg->keys.n; i++) {
        const char *key = px_key(cfg, i)->key;

        SHA256((const unsigned char *)key, strlen(key), px->key_md[i]);
    }
    snprintf(px->ratelimit, sizeof(px->ratelimit), "%s/ratelimit.shm", cfg->px.state_dir);
    if (px_accounts_new(px, err, errlen) != 0)
        goto fail;
    /* The default account's store now: a bad store stops the start. */
    if (px_accounts_open_default(px, err, errlen) != 0)
        goto fail;
    return px;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    px_free(px);
    return NULL;
}

void px_free(px_t *px)
{
    if (px == NULL)
        return;
    if (px->curl)
        curl_easy_cleanup(px->curl);
    if (px->key_md) {
        OPENSSL_cleanse(px->key_md, px->cfg->keys.n * sizeof(*px->key_md));
        free(px->key_md);
    }
    px_accounts_free(px);
    free(px);
}

static int retry_code(long errcode)
{
    /* PROTOCOL.md 5.3: the token is invalid, not the latest, or expired. */
    return errcode == 40001 || errcode == 42001 || errcode == 40014;
}

static unsigned ask_timeout(const px_conf_t *cfg)
{
    return cfg->px.timeout_ms < PX_ASK_MAX_MS ? cfg->px.timeout_ms : PX_ASK_MAX_MS;
}

/* The token to call with: the store's, else whatever wxtoken answers. */
static int get_token(px_t *px, px_call_t *c, wx_token_t *tok, char *err, size_t errlen)
{
    const px_conf_t *cfg = px->cfg;
    px_acct_t *a = c->acct;
    time_t now = time(NULL);
    wx_err_t rc = wx_token_read(a->st, now, tok, err, errlen);
    char req[64 + WX_ACCOUNT_NAME_MAX];

    if (rc == WX_OK) {
        a->last = *tok;
        return 0;
    }
    if ((rc == WX_ESYS || rc == WX_ECONFIG) && a->last.token[0] && a->last.expires > now) {
        /* A shared store down: the token read last is still good. */
        *tok = a->last;
        return 0;
    }
    if (rc != WX_EMISSING && rc != WX_ESTALE)
        wx_log(WX_LOG_WARN, "account %s: token store: %s", a->name, err);
    px_account_line(c, "STATUS", req, sizeof(req));
    rc = wx_token_ask(wx_token_conf_sock(&cfg->tok), req, ask_timeout(cfg), tok, err, errlen);
    return rc == WX_OK && tok->token[0] ? 0 : -1;
}

/* WeChat rejected '*tok' (retry_code): report it.  wxtoken refreshes it
 * once however many workers report it, and hands back the current one.
 * 1 with '*tok' replaced when there is another token to try. */
static int swap_token(px_t *px, px_call_t *c, wx_token_t *tok)
{
    const px_conf_t *cfg = px->cfg;
    char err[512], brief[64], line[WX_TOKEN_MAX + 16];
    char req[WX_TOKEN_MAX + 32 + WX_ACCOUNT_NAME_MAX];
    wx_token_t fresh;
    int swapped = 0;

    if (strcmp(c->acct->last.token, tok->token) == 0)
        OPENSSL_cleanse(&c->acct->last, sizeof(c->acct->last));   /* never served again */
    wx_token_brief(brief, sizeof(brief), tok->token);
    snprintf(line, sizeof(line), "REJECTED %s", tok->token);
    px_account_line(c, line, req, sizeof(req));
    OPENSSL_cleanse(line, sizeof(line));
    if (wx_token_ask(wx_token_conf_sock(&cfg->tok), req, ask_timeout(cfg), &fresh,
                     err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_WARN, "%s: errcode %ld for token %s, and wxtoken gave no "
               "other: %s", c->path, c->errcode, brief, err);
    } else if (strcmp(fresh.token, tok->token) == 0) {
        wx_log(WX_LOG_WARN, "%s: errcode %ld for token %s, which wxtoken still "
               "holds current", c->path, c->errcode, brief);
    } else {
        wx_log(WX_LOG_INFO, "%s: errcode %ld for token %s: retrying with version %lu",
               c->path, c->errcode, brief, fresh.version);
        *tok = fresh;
        swapped = 1;
    }
    OPENSSL_cleanse(req, sizeof(req));
    OPENSSL_cleanse(&fresh, sizeof(fresh));
    return swapped;
}

static void forward(px_t *px, FCGX_Request *rq, px_call_t *c, const char *method,
                    px_body_t *b)
{
    const px_conf_t *cfg = px->cfg;
    char err[512], why[CURL_ERROR_SIZE + 64];
    px_answer_t a;
    wx_token_t tok;
    CURLcode rc;
    int64_t t_up;
    int tries, web = px_web_token_path(c->path);

    memset(&a, 0, sizeof(a));
    memset(&tok, 0, sizeof(tok));
    a.rq = rq;
    a.peek = malloc(PX_PEEK);
    if (a.peek == NULL) {
        px_refuse(rq, c, 500, "internal", "", "out of memory");
        return;
    }
    if (!web && get_token(px, c, &tok, err, sizeof(err)) != 0) {
        wx_log(WX_LOG_ERROR, "no token: the store has none and wxtoken did not answer: %s",
               err);
        px_refuse(rq, c, 503, "no_token", "Retry-After: 1\r\n",
                  "no access token: the store has none and wxtoken is not answering");
        goto out;
    }
    for (tries = 0;; tries++) {
        t_up = wx_now_ms();
        rc = px_attempt(px, rq, c->path, web ? NULL : tok.token, method, b, &a, why,
                        sizeof(why));
        wx_mx_observe(PX_MX_UPSTREAM, (uint64_t)(wx_now_ms() - t_up) * 1000);
        if (a.streaming) {
            /* Passed through already. */
            if (rc != CURLE_OK)
                wx_log(WX_LOG_WARN, "%s: the answer broke off after %zu bytes: %s",
                       c->path, a.sent, why);
            c->status = (int)a.status;
            break;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            wx_log(WX_LOG_WARN, "%s: upstream timeout: %s", c->path, why);
            px_refuse(rq, c, 504, "upstream_timeout", "",
                      "WeChat did not answer within %u ms", cfg->px.timeout_ms);
            break;
        }
        if (rc != CURLE_OK || a.upstream_5xx || a.status >= 500 || a.status < 100) {
            if (rc == CURLE_OK || a.upstream_5xx)
                snprintf(why, sizeof(why), "HTTP status %ld", a.status);
            wx_log(WX_LOG_WARN, "%s: upstream failed: %s", c->path, why);
            px_refuse(rq, c, 502, "upstream_failed", "", "WeChat's answer is not usable: %s",
                      why);
            break;
        }
        c->has_errcode = px_answer_errcode(&a, &c->errcode);
        if (tries == 0 && !web && c->has_errcode && retry_code(c->errcode)) {
            if (swap_token(px, c, &tok)) {
                c->retried = 1;
                continue;
            }
        }
        /* WeChat's answer, unchanged. */
        px_send_head(&a, 1);
        if (a.len)
            FCGX_PutStr(a.peek, (int)a.len, rq->out);
        c->status = (int)a.status;
        break;
    }
out:
    OPENSSL_cleanse(&tok, sizeof(tok));
    free(a.peek);
}


void px_serve(px_t *px, FCGX_Request *rq)
{
    const px_conf_t *cfg = px->cfg;
    const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
    const wx_proxy_key_t *pk;
    px_body_t body = { NULL, 0, -1, 0 };
    px_call_t c;
    int64_t t0 = wx_now_ms();
    char errcode[24] = "-", bucket[256];
    unsigned retry_ms;
    int k = -1;

    memset(&c, 0, sizeof(c));
    c.key = "-";
    snprintf(c.path, sizeof(c.path), "-");

    if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)) {
        px_refuse(rq, &c, 405, "method_not_allowed", "Allow: GET, POST\r\n",
                  "only GET and POST are forwarded");
        goto log;
    }
    if (px_api_path(rq, c.path, sizeof(c.path)) != 0) {
        snprintf(c.path, sizeof(c.path), "-");
        px_refuse(rq, &c, 400, "bad_request", "", "not an API path: /wxapi/cgi-bin/...");
        goto log;
    }
    k = px_find_key(px, FCGX_GetParam("HTTP_X_WX_KEY", rq->envp));
    if (k < 0) {
        px_refuse(rq, &c, 401, "unknown_key", "", "missing or unknown X-Wx-Key");
        goto log;
    }
    pk = px_key(cfg, k);
    c.key = pk->name;
    if (!px_path_allowed(pk, c.path)) {
        px_refuse(rq, &c, 403, "path_not_allowed", "", "key %s may not call %s", c.key, c.path);
        goto log;
    }
    if (!px_query_ok(FCGX_GetParam("QUERY_STRING", rq->envp))) {
        px_refuse(rq, &c, 400, "bad_request", "", "malformed query string");
        goto log;
    }
    if (px_pick_account(px, rq, pk, &c) != 0)
        goto log;
    /* Each account's calls have their own bucket: KEY@NAME. */
    snprintf(bucket, sizeof(bucket), "%s@%s", c.key, c.acct->name);
    if (!wx_ratelimit_take(c.acct->st, bucket, pk->rate, pk->burst,
                           wx_ratelimit_now(), &retry_ms)) {
        char hdr[48];
        unsigned secs = (retry_ms + 999) / 1000;

        snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n", secs ? secs : 1);
        px_refuse(rq, &c, 429, "rate_limited", hdr, "key %s is over %u calls a second "
                  "for account %s", c.key, pk->rate, c.acct->name);
        goto log;
    }
    if (px_web_route(px, rq, &c))     /* ticket, jssdk, OAuth code: web.c */
        goto log;
    if (strcmp(method, "POST") == 0 && px_read_body(px, rq, &c, &body) != 0)
        goto log;
    forward(px, rq, &c, method, &body);
log:
    px_mx_count(px, k, &c);
    if (c.has_errcode)
        snprintf(errcode, sizeof(errcode), "%ld", c.errcode);
    wx_log(WX_LOG_INFO, "key=%s path=%s status=%d errcode=%s%s%s ms=%ld%s%s%s", c.key, c.path,
           c.status, errcode, c.error ? " error=" : "", c.error ? c.error : "",
           (long)(wx_now_ms() - t0), c.retried ? " retried=1" : "",
           c.acct ? " account=" : "", c.acct ? c.acct->name : "");
    if (body.fd >= 0)
        close(body.fd);
    free(body.mem);
}

