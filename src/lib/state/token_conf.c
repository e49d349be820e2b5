/* token_conf.c - [wxtoken] store and listen (wx/state/token_conf.h). */
#include <stdio.h>
#include <string.h>

#include "wx/core/net.h"
#include "wx/state/token_conf.h"

#define O(m)  offsetof(wx_token_conf_t, m)
static const wx_setting_t wx_token_conf_settings[] = {
    WX_SETTING("store", WX_CONF_STR, O(store), 0, 0, "/run/wxfcgi/token"),
    WX_SETTING("listen", WX_CONF_STR, O(listen), 0, 0, "unix:/run/wxfcgi/wxtoken.sock"),
};
#undef O

static int wx_token_conf_validate(void *sec, char *err, size_t errlen)
{
    const wx_token_conf_t *t = sec;

    if (!wx_listen_valid(t->listen) || strncmp(t->listen, "unix:", 5) != 0) {
        snprintf(err, errlen, "[wxtoken] listen '%s' is not unix:/absolute/path", t->listen);
        return -1;
    }
    if (t->store[0] != '/') {
        snprintf(err, errlen, "[wxtoken] store '%s' is not an absolute path", t->store);
        return -1;
    }
    return 0;
}

const wx_config_section_t wx_token_conf_section = {
    "wxtoken", WX_SECTION_PART, wx_token_conf_settings, WX_CONF_N(wx_token_conf_settings),
    sizeof(wx_token_conf_t), 1, wx_token_conf_validate
};
