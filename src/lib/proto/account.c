/* account.c - the [wx] section (wx/proto/account.h). */
#include <stdio.h>
#include <string.h>

#include "wx/proto/account.h"

static const char *const wx_mode_names[] = { "plain", "compat", "safe", NULL };

#define O(m)  offsetof(wx_account_conf_t, m)
static const wx_setting_t wx_account_settings[] = {
    WX_SECRET("token", O(token), "WX_TOKEN"),
    WX_SETTING("appid", WX_CONF_STR, O(appid), 0, 0, NULL),
    WX_SECRET("encoding_aes_key", O(encoding_aes_key), "WX_ENCODING_AES_KEY"),
    WX_SECRET("encoding_aes_key_previous", O(encoding_aes_key_previous),
              "WX_ENCODING_AES_KEY_PREVIOUS"),
    WX_ENUM("mode", O(mode), wx_mode_names, "plain"),
};
#undef O

const char *wx_mode_name(wx_mode_t mode)
{
    return mode <= WX_MODE_SAFE ? wx_mode_names[mode] : "?";
}

static int all_alnum(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

static int check_aes(const char *key, const char *name, char *err, size_t errlen)
{
    if (key && (strlen(key) != 43 || !all_alnum(key))) {
        snprintf(err, errlen, "[wx] %s must be 43 letters and digits (%zu characters given)",
                 name, strlen(key));
        return -1;
    }
    return 0;
}

static int wx_account_validate(void *sec, char *err, size_t errlen)
{
    const wx_account_conf_t *a = sec;
    size_t n;

    if (a->token) {
        n = strlen(a->token);
        /* The platform accepts 3 to 32 letters and digits (PROTOCOL.md 1.1). */
        if (n < 3 || n > 32 || !all_alnum(a->token)) {
            snprintf(err, errlen, "[wx] token must be 3 to 32 letters and digits "
                     "(%zu characters given)", n);
            return -1;
        }
    }
    if (a->appid && (strlen(a->appid) != 18 ||
                     strncmp(a->appid, "wx", 2) != 0 || !all_alnum(a->appid))) {
        snprintf(err, errlen, "[wx] appid '%s' is not an AppID (wx and 16 letters or digits)",
                 a->appid);
        return -1;
    }
    if (check_aes(a->encoding_aes_key, "encoding_aes_key", err, errlen) != 0 ||
        check_aes(a->encoding_aes_key_previous, "encoding_aes_key_previous", err, errlen) != 0)
        return -1;
    if (a->mode != WX_MODE_PLAIN && a->appid == NULL) {
        snprintf(err, errlen, "[wx] appid is missing: mode %s needs it", wx_mode_name(a->mode));
        return -1;
    }
    if (a->mode != WX_MODE_PLAIN && a->encoding_aes_key == NULL) {
        snprintf(err, errlen, "[wx] encoding_aes_key is missing: mode %s needs it "
                 "(or encoding_aes_key_file, or WX_ENCODING_AES_KEY)", wx_mode_name(a->mode));
        return -1;
    }
    return 0;
}

const wx_config_section_t wx_account_section = {
    "wx", WX_SECTION_ONE, wx_account_settings, WX_CONF_N(wx_account_settings),
    sizeof(wx_account_conf_t), 1, wx_account_validate
};

int wx_account_need_token(const wx_account_conf_t *a, char *err, size_t errlen)
{
    if (a->token == NULL || a->token[0] == '\0') {
        snprintf(err, errlen, "[wx] token is missing: set token, token_file or the "
                 "environment variable WX_TOKEN");
        return -1;
    }
    return 0;
}
