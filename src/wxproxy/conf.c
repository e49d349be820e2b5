/* conf.c - wxproxy's sections and the spec that loads them (wxproxy.h). */
#include <stdio.h>
#include <string.h>

#include "wx/core/net.h"
#include "wxproxy.h"

#define O(m)  offsetof(px_section_t, m)
static const wx_setting_t px_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, O(srv.listen), 0, 0, "unix:/run/wxfcgi/wxproxy.sock"),
    WX_SETTING("workers", WX_CONF_UINT, O(srv.workers), 1, 256, "2"),
    WX_SETTING("socket_mode", WX_CONF_OCTAL, O(srv.socket_mode), 0, 0777, "0660"),
    WX_SETTING("api", WX_CONF_STR, O(api), 0, 0, "https://api.weixin.qq.com"),
    WX_SETTING("ca_file", WX_CONF_STR, O(ca_file), 0, 0, NULL),
    WX_SETTING("proxy", WX_CONF_STR, O(proxy), 0, 0, NULL),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 100, 600000, "30000"),
    WX_SETTING("max_body", WX_CONF_SIZE, O(max_body), 1024, 64UL << 20, "20m"),
    WX_SETTING("state_dir", WX_CONF_STR, O(state_dir), 0, 0, "/run/wxfcgi"),
    WX_SETTING("log", WX_CONF_STR, O(srv.log), 0, 0, "stderr"),
    WX_SETTING("log_level", WX_CONF_LEVEL, O(srv.log_level), 0, 0, "info"),
    WX_SETTING("metrics_path", WX_CONF_STR, O(srv.metrics_path), 0, 0, "/wxproxy/metrics"),
    WX_SETTING("metrics_allow", WX_CONF_STR, O(srv.metrics_allow), 0, 0, "127.0.0.1 ::1"),
};
#undef O

static int px_validate(void *sec, char *err, size_t errlen)
{
    px_section_t *px = sec;

    if (wx_server_conf_check(&px->srv, "wxproxy", err, errlen) != 0)
        return -1;
    if (!wx_url_is_http(px->api)) {
        snprintf(err, errlen, "[wxproxy] api '%s' is not an http(s):// URL", px->api);
        return -1;
    }
    /* No key of its own: a call may take two attempts and a token report. */
    px->srv.shutdown_timeout = 2 * px->timeout_ms / 1000 + 12;
    return 0;
}

const wx_config_section_t px_section = {
    "wxproxy", WX_SECTION_ONE, px_settings, WX_CONF_N(px_settings),
    sizeof(px_section_t), 1, px_validate
};

#define K(m)  offsetof(wx_proxy_key_t, m)
static const wx_setting_t px_key_settings[] = {
    { "key", WX_CONF_STR, K(key), 0, 0, NULL, 1, NULL, NULL },
    WX_SETTING("paths", WX_CONF_WORDS, K(paths), 0, 0, NULL),
    WX_SETTING("rate", WX_CONF_UINT, K(rate), 1, 1000000, "10"),
    WX_SETTING("burst", WX_CONF_UINT, K(burst), 0, 1000000, "0"),
    WX_SETTING("accounts", WX_CONF_WORDS, K(accounts), 0, 0, NULL),
};
#undef K

static int px_key_validate(void *sec, char *err, size_t errlen)
{
    const wx_proxy_key_t *pk = sec;

    if (pk->key == NULL || strlen(pk->key) < 16) {
        snprintf(err, errlen, "[wxproxy.key.%s] key is %s: at least 16 characters (or key_file)",
                 pk->name, pk->key ? "too short" : "missing");
        return -1;
    }
    if (pk->paths == NULL || strspn(pk->paths, " \t") == strlen(pk->paths)) {
        snprintf(err, errlen, "[wxproxy.key.%s] paths is missing: the API paths it may call",
                 pk->name);
        return -1;
    }
    return 0;
}

const wx_config_section_t px_key_section = {
    "wxproxy.key.", WX_SECTION_NAMED, px_key_settings, WX_CONF_N(px_key_settings),
    sizeof(wx_proxy_key_t), WX_CONFIG_MAX_PROXY_KEYS, px_key_validate
};

#define U(m)  offsetof(px_conf_t, m)
static const wx_config_use_t px_uses[] = {
    { &px_section, U(px) },
    { &wx_state_conf_section, U(state) },
    { &px_key_section, U(keys) },
    { &wx_token_conf_section, U(tok) },
    { &wx_account_section, U(wx) },
    { &wx_account_ref_section, U(accounts) },
};
#undef U

/* Every name in a key's accounts is "default" or an [account.NAME]: a
 * typo would leave a key that can never act. */
static int px_spec_validate(const wx_config_t *cfg, char *err, size_t errlen)
{
    const px_conf_t *c = px_conf(cfg);
    size_t i;

    for (i = 0; i < c->keys.n; i++) {
        const char *p = px_key(c, i)->accounts;

        while (p && *p) {
            size_t n;

            p += strspn(p, " \t");
            n = strcspn(p, " \t");
            if (n == 0)
                break;
            if (!(n == 7 && strncmp(p, "default", 7) == 0) &&
                wx_account_ref_find(&c->accounts, p, n) == NULL) {
                snprintf(err, errlen, "[wxproxy.key.%s] accounts: '%.*s' is neither default "
                         "nor an [account.NAME]", px_key(c, i)->name, (int)(n > 64 ? 64 : n),
                         p);
                return -1;
            }
            p += n;
        }
    }
    return 0;
}

const wx_config_spec_t px_spec = {
    "wxproxy", sizeof(px_conf_t), px_uses, WX_CONF_N(px_uses), px_spec_validate
};
