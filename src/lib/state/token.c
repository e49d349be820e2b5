/* token.c - the access token as a record of the state store (wx/state/token.h). */
#include <stdio.h>
#include <string.h>

#include "wx/state/token.h"

#define WX_TOKEN_LEASE_MS   60000   /* a refresh takes seconds; a shared lock ends */

/* The token of the one account: the empty key. */
static const wx_store_key_t token_key = { "token", "", 0 };

wx_err_t wx_token_read(wx_store_t *st, time_t now, wx_token_t *tok,
                       char *err, size_t errlen)
{
    return wx_token_read_key(st, &token_key, "token", now, tok, err, errlen);
}

wx_err_t wx_token_read_key(wx_store_t *st, const wx_store_key_t *key, const char *what,
                           time_t now, wx_token_t *tok, char *err, size_t errlen)
{
    wx_store_rec_t rec;
    wx_err_t rc;

    memset(tok, 0, sizeof(*tok));
    rc = wx_store_rec_read(st, key, &rec, tok->token, sizeof(tok->token));
    if (rc == WX_ETOOBIG) {
        snprintf(err, errlen, "the %s store is damaged (a %s over %d characters)", what, what,
                 WX_TOKEN_MAX);
        memset(tok, 0, sizeof(*tok));
        return WX_EINVAL;
    }
    if (rc != WX_OK) {
        snprintf(err, errlen, "%s", wx_store_error(st));
        memset(tok, 0, sizeof(*tok));
        return rc;
    }
    if (!wx_token_valid(tok->token) || rec.expires <= rec.obtained) {
        snprintf(err, errlen, "the %s store is damaged (bad fields)", what);
        memset(tok, 0, sizeof(*tok));
        return WX_EINVAL;
    }
    tok->version = rec.version;
    tok->obtained = rec.obtained;
    tok->expires = rec.expires;
    if (tok->expires <= now) {
        snprintf(err, errlen, "the stored %s expired %lld s ago", what,
                 (long long)(now - tok->expires));
        return WX_ESTALE;
    }
    return WX_OK;
}

wx_err_t wx_token_write(wx_store_t *st, const wx_token_t *tok,
                        char *err, size_t errlen)
{
    return wx_token_write_key(st, &token_key, tok, err, errlen);
}

wx_err_t wx_token_write_key(wx_store_t *st, const wx_store_key_t *key, const wx_token_t *tok,
                            char *err, size_t errlen)
{
    wx_store_rec_t rec = {
        .version = tok->version,
        .obtained = tok->obtained,
        .expires = tok->expires,
    };
    wx_err_t rc;

    if (!wx_token_valid(tok->token)) {
        snprintf(err, errlen, "refusing to store a token with blanks or controls in it");
        return WX_EINVAL;
    }
    rec.value = wx_str_c(tok->token);
    rc = wx_store_rec_replace(st, key, &rec);
    if (rc != WX_OK)
        snprintf(err, errlen, "%s", wx_store_error(st));
    return rc;
}

wx_err_t wx_token_retire(wx_store_t *st, char *err, size_t errlen)
{
    return wx_token_retire_key(st, &token_key, "token", err, errlen);
}

wx_err_t wx_token_retire_key(wx_store_t *st, const wx_store_key_t *key, const char *what,
                             char *err, size_t errlen)
{
    time_t now = time(NULL);
    wx_token_t cur, dead = { 0 };
    wx_err_t rc = wx_token_read_key(st, key, what, 0, &cur, err, errlen);

    if (rc == WX_EMISSING || rc == WX_EINVAL)
        return WX_OK;
    if (rc != WX_OK)
        return rc;
    dead.version = cur.version + 1;
    dead.obtained = now - 1;
    dead.expires = now;
    snprintf(dead.token, sizeof(dead.token), "retired");
    rc = wx_token_write_key(st, key, &dead, err, errlen);
    explicit_bzero(&cur, sizeof(cur));
    return rc;
}

wx_err_t wx_token_lock(wx_store_t *st, char *err, size_t errlen)
{
    return wx_token_lock_key(st, &token_key, err, errlen);
}

wx_err_t wx_token_lock_key(wx_store_t *st, const wx_store_key_t *key, char *err, size_t errlen)
{
    wx_err_t rc = wx_store_lock(st, key, WX_TOKEN_LEASE_MS);

    if (rc != WX_OK)
        snprintf(err, errlen, "%s", wx_store_error(st));
    return rc;
}

void wx_token_unlock(wx_store_t *st)
{
    wx_store_unlock(st, &token_key);
}

void wx_token_unlock_key(wx_store_t *st, const wx_store_key_t *key)
{
    wx_store_unlock(st, key);
}
