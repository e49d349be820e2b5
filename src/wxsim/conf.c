/* conf.c - [wxsim] and the spec that loads it (wxsim.h). */
#include <stdio.h>
#include <string.h>

#include "wx/proto/account.h"

#include "wx/core/net.h"
#include "wxsim.h"

#define O(m)  offsetof(wxsim_section_t, m)
static const wx_setting_t wxsim_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, O(listen), 0, 0, "unix:/run/wxfcgi/wxsim.sock"),
    WX_SETTING("appid", WX_CONF_STR, O(appid), 0, 0, NULL),
    WX_SECRET("appsecret", O(appsecret), "WXSIM_APPSECRET"),
    WX_SETTING("allow_ips", WX_CONF_STR, O(allow_ips), 0, 0, ""),
    WX_SETTING("token_ttl", WX_CONF_UINT, O(token_ttl), 10, 86400, "7200"),
    WX_SETTING("token_daily_limit", WX_CONF_UINT, O(token_daily_limit), 1, 1000000, "2000"),
    WX_SETTING("max_upload", WX_CONF_SIZE, O(max_upload), 1024, 64UL << 20, "10m"),
    WX_SETTING("data_dir", WX_CONF_STR, O(data_dir), 0, 0, "/run/wxfcgi/wxsim"),
    WX_SETTING("log", WX_CONF_STR, O(log), 0, 0, "stderr"),
    WX_SETTING("log_level", WX_CONF_LEVEL, O(log_level), 0, 0, "info"),
};
#undef O

static int wxsim_validate(void *sec, char *err, size_t errlen)
{
    const wxsim_section_t *s = sec;

    if (!wx_listen_valid(s->listen)) {
        snprintf(err, errlen, "[wxsim] listen '%s' is not unix:/absolute/path or tcp:host:port",
                 s->listen);
        return -1;
    }
    if (s->appid == NULL || s->appid[0] == '\0') {
        snprintf(err, errlen, "[wxsim] appid is missing");
        return -1;
    }
    if (s->appsecret == NULL || s->appsecret[0] == '\0') {
        snprintf(err, errlen, "[wxsim] appsecret is missing: set appsecret, "
                 "appsecret_file or the environment variable WXSIM_APPSECRET");
        return -1;
    }
    if (s->data_dir[0] != '/') {
        snprintf(err, errlen, "[wxsim] data_dir '%s' is not an absolute path", s->data_dir);
        return -1;
    }
    return 0;
}

static const wx_config_section_t wxsim_section = {
    "wxsim", WX_SECTION_ONE, wxsim_settings, WX_CONF_N(wxsim_settings),
    sizeof(wxsim_section_t), 1, wxsim_validate
};

#define A(m)  offsetof(wxsim_account_conf_t, m)
static const wx_setting_t wxsim_account_settings[] = {
    WX_SETTING("appid", WX_CONF_STR, A(appid), 0, 0, NULL),
    WX_SECRET("appsecret", A(appsecret), NULL),
};
#undef A

static int wxsim_account_validate(void *sec, char *err, size_t errlen)
{
    const wxsim_account_conf_t *a = sec;

    if (!wx_account_name_ok(a->name)) {
        snprintf(err, errlen, "[wxsim.account.%.64s]: the name must be 1 to %d letters, "
                 "digits, '-' or '_'", a->name, WX_ACCOUNT_NAME_MAX);
        return -1;
    }
    if (a->appid == NULL || a->appsecret == NULL) {
        snprintf(err, errlen, "[wxsim.account.%s] %s is missing", a->name,
                 a->appid == NULL ? "appid" : "appsecret");
        return -1;
    }
    return 0;
}

static const wx_config_section_t wxsim_account_section = {
    "wxsim.account.", WX_SECTION_NAMED, wxsim_account_settings,
    WX_CONF_N(wxsim_account_settings), sizeof(wxsim_account_conf_t), WXSIM_ACCOUNTS_MAX,
    wxsim_account_validate
};

/* Two accounts of one AppID could not be told apart. */
static int wxsim_spec_validate(const wx_config_t *cfg, char *err, size_t errlen)
{
    const wxsim_conf_t *c = (const wxsim_conf_t *)(const void *)cfg;
    const wxsim_account_conf_t *a = c->accounts.v;
    size_t i, j;

    for (i = 0; i < c->accounts.n; i++) {
        if (strcmp(a[i].appid, c->sim.appid) == 0) {
            snprintf(err, errlen, "[wxsim.account.%s] appid is the one of [wxsim]", a[i].name);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (strcmp(a[i].appid, a[j].appid) == 0) {
                snprintf(err, errlen, "[wxsim.account.%s] appid is the one of "
                         "[wxsim.account.%s]", a[i].name, a[j].name);
                return -1;
            }
    }
    return 0;
}

static const wx_config_use_t wxsim_uses[] = {
    { &wxsim_section, offsetof(wxsim_conf_t, sim) },
    { &wxsim_account_section, offsetof(wxsim_conf_t, accounts) },
};

const wx_config_spec_t wxsim_spec = {
    "wxsim", sizeof(wxsim_conf_t), wxsim_uses, WX_CONF_N(wxsim_uses), wxsim_spec_validate
};
