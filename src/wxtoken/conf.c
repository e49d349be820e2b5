/* conf.c - wxtoken's part of [wxtoken] and the spec that loads it (wxtoken.h). */
#include <stdio.h>
#include <string.h>

#include "wx/core/net.h"
#include "wxtoken.h"

#define O(m)  offsetof(wxtoken_section_t, m)
static const wx_setting_t wxtoken_settings[] = {
    WX_SETTING("api", WX_CONF_STR, O(api), 0, 0, "https://api.weixin.qq.com"),
    WX_SECRET("appsecret", O(appsecret), "WX_APPSECRET"),
    WX_SETTING("grant", WX_CONF_STR, O(grant), 0, 0, "stable_token"),
    WX_SETTING("refresh_margin", WX_CONF_UINT, O(refresh_margin), 10, 3600, "600"),
    WX_SETTING("retry_min_ms", WX_CONF_UINT, O(retry_min_ms), 10, 600000, "1000"),
    WX_SETTING("retry_max_ms", WX_CONF_UINT, O(retry_max_ms), 10, 86400000, "300000"),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 100, 60000, "5000"),
    WX_SETTING("ca_file", WX_CONF_STR, O(ca_file), 0, 0, NULL),
    WX_SETTING("proxy", WX_CONF_STR, O(proxy), 0, 0, NULL),
    WX_SETTING("log", WX_CONF_STR, O(log), 0, 0, "stderr"),
    WX_SETTING("log_level", WX_CONF_LEVEL, O(log_level), 0, 0, "info"),
};
#undef O

static int all_alnum(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

static int secret_ok(const char *s)
{
    return s != NULL && all_alnum(s) && strlen(s) >= 16 && strlen(s) <= 64;
}

static int wxtoken_validate(void *sec, char *err, size_t errlen)
{
    const wxtoken_section_t *t = sec;

    if (strcmp(t->grant, "token") != 0 && strcmp(t->grant, "stable_token") != 0) {
        snprintf(err, errlen, "[wxtoken] grant '%s' is not one of token, stable_token", t->grant);
        return -1;
    }
    if (!wx_url_is_http(t->api)) {
        snprintf(err, errlen, "[wxtoken] api '%s' is not an http(s):// URL", t->api);
        return -1;
    }
    if (!secret_ok(t->appsecret)) {
        snprintf(err, errlen, "[wxtoken] appsecret is %s: set appsecret_file or WX_APPSECRET",
                 t->appsecret == NULL ? "missing" : "not 16 to 64 letters and digits");
        return -1;
    }
    if (t->retry_min_ms > t->retry_max_ms) {
        snprintf(err, errlen, "[wxtoken] retry_min_ms is above retry_max_ms");
        return -1;
    }
    return 0;
}

const wx_config_section_t wxtoken_section = {
    "wxtoken", WX_SECTION_ONE, wxtoken_settings, WX_CONF_N(wxtoken_settings),
    sizeof(wxtoken_section_t), 1, wxtoken_validate
};

/* The accounts with an AppSecret get a token each: each needs its AppID,
 * and no two may share one (they would share the token's record). */
static int wxtoken_spec_validate(const wx_config_t *cfg, char *err, size_t errlen)
{
    const wxtoken_conf_t *c = wxtoken_conf(cfg);
    const wx_account_t *a = c->accounts.v;
    size_t i, j;

    if (c->wx.appid == NULL) {
        snprintf(err, errlen, "[wx] appid is missing");
        return -1;
    }
    for (i = 0; i < c->accounts.n; i++) {
        if (strcmp(a[i].name, "default") == 0) {
            snprintf(err, errlen, "[account.default]: 'default' names the account of [wx]");
            return -1;
        }
        if (a[i].appsecret == NULL)
            continue;
        if (!secret_ok(a[i].appsecret)) {
            snprintf(err, errlen, "[account.%s] appsecret is not 16 to 64 letters and digits",
                     a[i].name);
            return -1;
        }
        if (a[i].wx.appid == NULL) {
            snprintf(err, errlen, "[account.%s] appid is missing: wxtoken needs it with the "
                     "appsecret", a[i].name);
            return -1;
        }
        if (strcmp(a[i].wx.appid, c->wx.appid) == 0) {
            snprintf(err, errlen, "[account.%s] appid is the one of [wx]: an account has one "
                     "token, kept once", a[i].name);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (a[j].appsecret && a[j].wx.appid && strcmp(a[j].wx.appid, a[i].wx.appid) == 0) {
                snprintf(err, errlen, "[account.%s] appid is the one of [account.%s]",
                         a[i].name, a[j].name);
                return -1;
            }
    }
    return 0;
}

#define U(m)  offsetof(wxtoken_conf_t, m)
static const wx_config_use_t wxtoken_uses[] = {
    { &wx_account_section, U(wx) },
    { &wx_state_conf_section, U(state) },
    { &wx_token_conf_section, U(where) },
    { &wxtoken_section, U(tok) },
    { &wx_account_named_section, U(accounts) },
};
#undef U

const wx_config_spec_t wxtoken_spec = {
    "wxtoken", sizeof(wxtoken_conf_t), wxtoken_uses, WX_CONF_N(wxtoken_uses),
    wxtoken_spec_validate
};
