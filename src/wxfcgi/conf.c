/* conf.c - wxfcgi's sections and the spec that loads them (wxfcgi/conf.h). */
#include <stdio.h>
#include <string.h>

#include "wxfcgi/acct.h"
#include "wxfcgi/conf.h"
#include "wxfcgi/route.h"

#define O(m)  offsetof(wxfcgi_section_t, m)
static const wx_setting_t wxfcgi_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, O(srv.listen), 0, 0, "unix:/run/wxfcgi/wxfcgi.sock"),
    WX_SETTING("socket_mode", WX_CONF_OCTAL, O(srv.socket_mode), 0, 0777, "0660"),
    WX_SETTING("workers", WX_CONF_UINT, O(srv.workers), 1, 256, "4"),
    WX_SETTING("max_body", WX_CONF_SIZE, O(max_body), 1024, 16UL << 20, "64k"),
    WX_SETTING("timestamp_window", WX_CONF_UINT, O(timestamp_window), 0, 86400, "300"),
    WX_SETTING("max_requests", WX_CONF_ULONG, O(srv.max_requests), 0, 4294967295UL, "0"),
    WX_SETTING("shutdown_timeout", WX_CONF_UINT, O(srv.shutdown_timeout), 1, 3600, "10"),
    WX_SETTING("log", WX_CONF_STR, O(srv.log), 0, 0, "stderr"),
    WX_SETTING("log_level", WX_CONF_LEVEL, O(srv.log_level), 0, 0, "info"),
    WX_SETTING("log_buffer", WX_CONF_SIZE, O(srv.log_buffer), 0, 1UL << 20, "0"),
    WX_SETTING("handler", WX_CONF_STR, O(handler), 0, 0, "echo"),
    WX_SETTING("state_dir", WX_CONF_STR, O(state_dir), 0, 0, "/run/wxfcgi"),
    WX_SETTING("dedup_slots", WX_CONF_UINT, O(dedup_slots), 0, 1U << 20, "8192"),
    WX_SETTING("metrics_path", WX_CONF_STR, O(srv.metrics_path), 0, 0, "/wxfcgi/metrics"),
    WX_SETTING("metrics_allow", WX_CONF_STR, O(srv.metrics_allow), 0, 0, "127.0.0.1 ::1"),
    WX_SETTING("reply_budget_ms", WX_CONF_UINT, O(reply_budget_ms), 100, 4900, "4000"),
};
#undef O

static int wxfcgi_validate(void *sec, char *err, size_t errlen)
{
    const wxfcgi_section_t *f = sec;

    if (wx_server_conf_check(&f->srv, "wxfcgi", err, errlen) != 0)
        return -1;
    if (f->state_dir[0] != '/') {
        snprintf(err, errlen, "[wxfcgi] state_dir '%s' is not an absolute path", f->state_dir);
        return -1;
    }
    return 0;
}

const wx_config_section_t wxfcgi_section = {
    "wxfcgi", WX_SECTION_ONE, wxfcgi_settings, WX_CONF_N(wxfcgi_settings),
    sizeof(wxfcgi_section_t), 1, wxfcgi_validate
};

#define E(m)  offsetof(wx_echo_conf_t, m)
static const wx_setting_t wx_echo_settings[] = {
    WX_SETTING("welcome", WX_CONF_TEXT, E(welcome), 0, 0, NULL),
    WX_SETTING("delay_ms", WX_CONF_UINT, E(delay_ms), 0, 60000, "0"),
};
#undef E

const wx_config_section_t wx_echo_section = {
    "echo", WX_SECTION_ONE, wx_echo_settings, WX_CONF_N(wx_echo_settings),
    sizeof(wx_echo_conf_t), 1, NULL
};

const wx_config_section_t wx_echo_click_section = {
    "echo.click", WX_SECTION_PAIRS, NULL, 0, sizeof(wx_conf_pair_t), WX_CONFIG_MAX_CLICKS, NULL
};

/* Across sections: the gateway checks every callback with its account's
 * token; "default" is [wx]'s name in routes and logs, not an account's. */
static int wxfcgi_spec_validate(const wx_config_t *cfg, char *err, size_t errlen)
{
    const wxfcgi_conf_t *c = wxfcgi_conf(cfg);
    const wx_account_t *a = c->accounts.v;
    size_t i;

    if (wx_account_need_token(&c->wx, err, errlen) != 0)
        return -1;
    for (i = 0; i < c->accounts.n; i++) {
        if (strcmp(a[i].name, WX_ACCT_DEFAULT) == 0) {
            snprintf(err, errlen, "[account.%s]: the name %s is [wx]'s (its callback URL "
                     "is /wx): choose another", a[i].name, WX_ACCT_DEFAULT);
            return -1;
        }
        if (a[i].wx.token == NULL || a[i].wx.token[0] == '\0') {
            snprintf(err, errlen, "[account.%s] token is missing: set token or token_file "
                     "(wxfcgi verifies its callbacks at /wx/%s with it)", a[i].name, a[i].name);
            return -1;
        }
    }
    return 0;
}

#define U(m)  offsetof(wxfcgi_conf_t, m)
static const wx_config_use_t wxfcgi_uses[] = {
    { &wx_account_section, U(wx) },
    { &wx_state_conf_section, U(state) },
    { &wxfcgi_section, U(fcgi) },
    { &wx_echo_section, U(echo) },
    { &wx_echo_click_section, U(echo.clicks) },
    { &wx_upstream_section, U(up) },
    { &wx_route_section, U(routes) },
    { &wx_account_named_section, U(accounts) },
};
#undef U

const wx_config_spec_t wxfcgi_spec = {
    "wxfcgi", sizeof(wxfcgi_conf_t), wxfcgi_uses, WX_CONF_N(wxfcgi_uses), wxfcgi_spec_validate
};
