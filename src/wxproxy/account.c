/*
 * account.c - the account a call acts for (forward.h).
 *
 * A stack may serve several accounts: [wx] (named "default") and each
 * [account.NAME].  A call names its account with the header
 * X-Wx-Account: NAME; without it, the call acts for the one account its
 * key may act for (a key without 'accounts' acts for default alone), and
 * a key of several accounts must name one.  Each account has its own
 * store handle (its token, tickets and the buckets of its calls, apart
 * from every other account's: wx/state/account_store.h), opened at its
 * first call, so a worker of a stack of many accounts holds only the
 * handles it uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wx/core/log.h"
#include "forward.h"

int px_accounts_new(px_t *px, char *err, size_t errlen)
{
    const px_conf_t *cfg = px->cfg;
    const wx_account_ref_t *a = cfg->accounts.v;
    size_t i;

    px->acct = calloc(1 + cfg->accounts.n, sizeof(*px->acct));
    if (px->acct == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    px->acct[0].name = "default";
    px->acct[0].appid = cfg->wx.appid;
    for (i = 0; i < cfg->accounts.n; i++) {
        px->acct[1 + i].name = a[i].name;
        px->acct[1 + i].appid = a[i].appid;
    }
    px->n_acct = 1 + cfg->accounts.n;
    return 0;
}

void px_accounts_free(px_t *px)
{
    size_t i;

    for (i = 0; px->acct && i < px->n_acct; i++) {
        wx_store_close(px->acct[i].st);
        OPENSSL_cleanse(&px->acct[i].last, sizeof(px->acct[i].last));
    }
    free(px->acct);
    px->acct = NULL;
}

/* Open the store of account 'a' (index 'i': 0 is the default one). */
static int open_store(px_t *px, px_acct_t *a, size_t i, char *err, size_t errlen)
{
    const px_conf_t *cfg = px->cfg;
    wx_store_conf_t sc = { .backend = "local", .bucket.path = px->ratelimit,
                           .record.name = "token store" };

    if (wx_account_store_conf(&cfg->state, cfg->tok.store, i ? a->name : NULL, a->appid,
                              &a->where, &sc) != 0) {
        snprintf(err, errlen, "account %s: the store's path or key prefix is too long",
                 a->name);
        return -1;
    }
    a->st = wx_store_open(&sc, err, errlen);
    return a->st ? 0 : -1;
}

int px_accounts_open_default(px_t *px, char *err, size_t errlen)
{
    return open_store(px, &px->acct[0], 0, err, errlen);
}

/* The key may act for the 'len' bytes at 'name'. */
static int key_allows(const wx_proxy_key_t *pk, const char *name, size_t len)
{
    const char *p = pk->accounts ? pk->accounts : "default";

    while (*p) {
        size_t n;

        p += strspn(p, " \t");
        n = strcspn(p, " \t");
        if (n == 0)
            break;
        if (n == len && strncmp(p, name, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* The key's one account into *name, *len; 0 when it lists several. */
static int key_only(const wx_proxy_key_t *pk, const char **name, size_t *len)
{
    const char *p = pk->accounts ? pk->accounts : "default";

    p += strspn(p, " \t");
    *name = p;
    *len = strcspn(p, " \t");
    p += *len;
    return p[strspn(p, " \t")] == '\0';
}

int px_pick_account(px_t *px, FCGX_Request *rq, const wx_proxy_key_t *pk, px_call_t *c)
{
    const char *name = FCGX_GetParam("HTTP_X_WX_ACCOUNT", rq->envp);
    char err[512];
    size_t len, i;

    if (name == NULL || *name == '\0') {
        if (!key_only(pk, &name, &len)) {
            px_refuse(rq, c, 400, "account_required", "", "key %s acts for several accounts: "
                      "name one with X-Wx-Account", c->key);
            return -1;
        }
    } else {
        len = strlen(name);
    }
    for (i = 0; i < px->n_acct; i++)
        if (strlen(px->acct[i].name) == len && memcmp(px->acct[i].name, name, len) == 0)
            break;
    if (i == px->n_acct) {
        px_refuse(rq, c, 400, "unknown_account", "", "X-Wx-Account names no account of "
                  "this stack: default or an [account.NAME]");
        return -1;
    }
    if (!key_allows(pk, name, len)) {
        px_refuse(rq, c, 403, "account_not_allowed", "", "key %s may not act for account %s",
                  c->key, px->acct[i].name);
        return -1;
    }
    c->acct = &px->acct[i];
    if (c->acct->st == NULL && open_store(px, c->acct, i, err, sizeof(err)) != 0) {
        wx_log(WX_LOG_ERROR, "account %s: %s", c->acct->name, err);
        px_refuse(rq, c, 503, "no_store", "Retry-After: 1\r\n",
                  "the state store of account %s cannot be opened", c->acct->name);
        return -1;
    }
    return 0;
}

void px_account_line(const px_call_t *c, const char *req, char *out, size_t cap)
{
    if (c->acct == NULL || strcmp(c->acct->name, "default") == 0)
        snprintf(out, cap, "%s", req);
    else
        snprintf(out, cap, "ACCOUNT %s %s", c->acct->name, req);
}
