/* conf.c - [wxctl] and the spec that loads what wxctl reads (wxctl.h). */
#include "wxctl.h"

#define O(m)  offsetof(wxctl_section_t, m)
static const wx_setting_t wxctl_settings[] = {
    WX_SETTING("proxy", WX_CONF_STR, O(proxy), 0, 0, "http://127.0.0.1:8080/wxapi"),
    WX_SECRET("proxy_key", O(proxy_key), "WX_PROXY_KEY"),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 100, 3600000, "120000"),
};
#undef O

/* The proxy and its key are checked when a command needs them
 * (wxctl_new): sign, encrypt, decrypt and token run without. */
static const wx_config_section_t wxctl_section = {
    "wxctl", WX_SECTION_ONE, wxctl_settings, WX_CONF_N(wxctl_settings),
    sizeof(wxctl_section_t), 1, NULL
};

#define S(m)  offsetof(wxctl_server_t, m)
static const wx_setting_t wxctl_fcgi_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, S(listen), 0, 0, "unix:/run/wxfcgi/wxfcgi.sock"),
    WX_SETTING("metrics_path", WX_CONF_STR, S(metrics_path), 0, 0, "/wxfcgi/metrics"),
};
static const wx_setting_t wxctl_proxy_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, S(listen), 0, 0, "unix:/run/wxfcgi/wxproxy.sock"),
    WX_SETTING("metrics_path", WX_CONF_STR, S(metrics_path), 0, 0, "/wxproxy/metrics"),
};
static const wx_setting_t wxctl_sim_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, S(listen), 0, 0, "unix:/run/wxfcgi/wxsim.sock"),
};
#undef S

/* Only where wxctl metrics and status find the servers. */
static const wx_config_section_t wxctl_fcgi_section = {
    "wxfcgi", WX_SECTION_PART, wxctl_fcgi_settings, WX_CONF_N(wxctl_fcgi_settings),
    sizeof(wxctl_server_t), 1, NULL
};
static const wx_config_section_t wxctl_proxy_section = {
    "wxproxy", WX_SECTION_PART, wxctl_proxy_settings, WX_CONF_N(wxctl_proxy_settings),
    sizeof(wxctl_server_t), 1, NULL
};
static const wx_config_section_t wxctl_sim_section = {
    "wxsim", WX_SECTION_PART, wxctl_sim_settings, WX_CONF_N(wxctl_sim_settings),
    sizeof(wxctl_server_t), 1, NULL
};

#define U(m)  offsetof(wxctl_conf_t, m)
static const wx_config_use_t wxctl_uses[] = {
    { &wx_account_section, U(wx) },
    { &wx_state_conf_section, U(state) },
    { &wxctl_section, U(ctl) },
    { &wx_token_conf_section, U(tok) },
    { &wxctl_fcgi_section, U(fcgi) },
    { &wxctl_proxy_section, U(proxy) },
    { &wxctl_sim_section, U(sim) },
    { &wx_account_ref_section, U(accounts) },
};
#undef U

const wx_config_spec_t wxctl_spec = {
    "wxctl", sizeof(wxctl_conf_t), wxctl_uses, WX_CONF_N(wxctl_uses), NULL
};
