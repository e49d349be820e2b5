/* acct.c - the gateway's accounts, and the account of a request path
 * (wxfcgi/acct.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxfcgi/acct.h"

void wx_acct_ns(const wxfcgi_conf_t *cfg, unsigned index, char *buf, size_t cap)
{
    const wx_account_t *named = cfg->accounts.v;

    if (index == 0)
        buf[0] = '\0';
    else
        snprintf(buf, cap, "%s:%s", named[index - 1].name,
                 named[index - 1].wx.appid ? named[index - 1].wx.appid : "");
}

const char *wx_acct_name(const wxfcgi_conf_t *cfg, unsigned index)
{
    const wx_account_t *named = cfg->accounts.v;

    return index == 0 ? WX_ACCT_DEFAULT : named[index - 1].name;
}

static int acct_init(wx_acct_t *a, const wxfcgi_conf_t *cfg, const char *name,
                     unsigned index, const wx_account_conf_t *wx, const char *original_id,
                     char *err, size_t errlen)
{
    size_t n = WX_ACCT_NS_MAX;

    a->name = name;
    a->index = index;
    a->wx = wx;
    a->token = wx_str_c(wx->token);
    a->original_id = original_id ? wx_str_c(original_id) : WX_NULL_STR;
    a->dedup_ns_store = malloc(n);
    if (a->dedup_ns_store == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    wx_acct_ns(cfg, index, a->dedup_ns_store, n);
    a->dedup_ns = wx_str_c(a->dedup_ns_store);
    if (wx->encoding_aes_key && wx->appid) {
        const char *label = index ? "account." : "wx";

        if (wx_crypt_init(&a->keys[0], wx->encoding_aes_key, wx->appid) != WX_OK) {
            snprintf(err, errlen, "[%s%s] encoding_aes_key or appid is invalid", label,
                     index ? name : "");
            return -1;
        }
        a->n_keys = 1;
        if (wx->encoding_aes_key_previous) {
            if (wx_crypt_init(&a->keys[1], wx->encoding_aes_key_previous, wx->appid) != WX_OK) {
                snprintf(err, errlen, "[%s%s] encoding_aes_key_previous is invalid", label,
                         index ? name : "");
                return -1;
            }
            a->n_keys = 2;
        }
    }
    return 0;
}

int wx_accts_init(wx_accts_t *t, const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    const wx_account_t *named = cfg->accounts.v;
    size_t i;

    t->n = 0;
    t->v = calloc(cfg->accounts.n + 1, sizeof(*t->v));
    if (t->v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->n = cfg->accounts.n + 1;
    if (acct_init(&t->v[0], cfg, WX_ACCT_DEFAULT, 0, &cfg->wx, NULL, err, errlen) != 0)
        return -1;
    for (i = 0; i < cfg->accounts.n; i++)
        if (acct_init(&t->v[i + 1], cfg, named[i].name, (unsigned)i + 1, &named[i].wx,
                      named[i].original_id, err, errlen) != 0)
            return -1;
    return 0;
}

void wx_accts_free(wx_accts_t *t)
{
    size_t i;

    for (i = 0; t->v && i < t->n; i++) {
        wx_crypt_clear(&t->v[i].keys[0]);
        wx_crypt_clear(&t->v[i].keys[1]);
        free(t->v[i].dedup_ns_store);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int name_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_';
}

int wx_acct_path(wx_str_t path, wx_str_t *name)
{
    size_t i, start = 0, end = path.len;
    int found = 0;

    name->data = NULL;
    name->len = 0;
    for (i = path.len; i >= 4; i--)
        if (memcmp(path.data + i - 4, "/wx/", 4) == 0) {
            start = i;
            found = 1;
            break;
        }
    if (!found)
        return 0;
    if (end > start && path.data[end - 1] == '/')
        end--;
    if (end - start > WX_ACCOUNT_NAME_MAX)
        return -1;
    for (i = start; i < end; i++)
        if (!name_char(path.data[i]))
            return -1;
    name->data = path.data + start;
    name->len = end - start;
    return 0;
}

const wx_acct_t *wx_accts_for_path(const wx_accts_t *t, wx_str_t path)
{
    wx_str_t name;
    size_t i;

    if (wx_acct_path(path, &name) != 0)
        return NULL;
    if (name.len == 0)
        return &t->v[0];
    for (i = 1; i < t->n; i++)
        if (wx_str_eq(name, t->v[i].name))
            return &t->v[i];
    return NULL;
}

int wx_accts_index(const wxfcgi_conf_t *cfg, const char *name, size_t len)
{
    const wx_account_t *a;

    if (len == sizeof(WX_ACCT_DEFAULT) - 1 && memcmp(name, WX_ACCT_DEFAULT, len) == 0)
        return 0;
    a = wx_account_find(&cfg->accounts, name, len);
    return a ? (int)(a - (const wx_account_t *)cfg->accounts.v) + 1 : -1;
}
