/* upstream_conf.c - the [upstream] section (wxfcgi/conf.h). */
#include <stdio.h>
#include <string.h>

#include "wx/core/net.h"
#include "wxfcgi/conf.h"

#define O(m)  offsetof(wx_upstream_conf_t, m)
static const wx_setting_t wx_upstream_settings[] = {
    WX_SETTING("url", WX_CONF_STR, O(url), 0, 0, NULL),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 100, 600000, "30000"),
    WX_SETTING("proxy", WX_CONF_STR, O(proxy), 0, 0, NULL),
    WX_SECRET("proxy_key", O(proxy_key), "WX_PROXY_KEY"),
};
#undef O

int wx_upstream_conf_check(const wx_upstream_conf_t *up, int need_url,
                           char *err, size_t errlen)
{
    if (need_url && (up->url == NULL || up->url[0] == '\0')) {
        snprintf(err, errlen, "[upstream] url is missing "
                 "(the business service, e.g. http://127.0.0.1:9000/wx)");
        return -1;
    }
    if (up->url && !wx_url_is_http(up->url)) {
        snprintf(err, errlen, "[upstream] url must start with http:// or https://");
        return -1;
    }
    if (up->proxy && !wx_url_is_http(up->proxy)) {
        snprintf(err, errlen, "[upstream] proxy must start with http:// or https://");
        return -1;
    }
    if (up->proxy && (up->proxy_key == NULL || up->proxy_key[0] == '\0')) {
        snprintf(err, errlen, "[upstream] proxy is set but proxy_key is "
                 "missing (proxy_key, proxy_key_file or WX_PROXY_KEY)");
        return -1;
    }
    if (up->proxy_key && strpbrk(up->proxy_key, "\r\n")) {
        snprintf(err, errlen, "[upstream] proxy_key holds a line break");
        return -1;
    }
    return 0;
}

static int wx_upstream_validate(void *sec, char *err, size_t errlen)
{
    return wx_upstream_conf_check(sec, 0, err, errlen);
}

const wx_config_section_t wx_upstream_section = {
    "upstream", WX_SECTION_ONE, wx_upstream_settings, WX_CONF_N(wx_upstream_settings),
    sizeof(wx_upstream_conf_t), 1, wx_upstream_validate
};
