/* account.c - the [wx] section and the [account.NAME] sections
 * (wx/proto/account.h). */
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

int wx_original_id_ok(const char *id)
{
    return strncmp(id, "gh_", 3) == 0 && strlen(id) >= 4 && strlen(id) <= WX_ORIGINAL_ID_MAX &&
           all_alnum(id + 3);
}

static int check_aes(const char *sec, const char *key, const char *name, char *err,
                     size_t errlen)
{
    if (key && (strlen(key) != 43 || !all_alnum(key))) {
        snprintf(err, errlen, "[%s] %s must be 43 letters and digits (%zu characters given)",
                 sec, name, strlen(key));
        return -1;
    }
    return 0;
}

/* The checks of [wx] and of each [account.NAME]; 'sec' names the section. */
static int check_conf(const wx_account_conf_t *a, const char *sec, char *err, size_t errlen)
{
    size_t n;

    if (a->token) {
        n = strlen(a->token);
        /* The platform accepts 3 to 32 letters and digits (PROTOCOL.md 1.1). */
        if (n < 3 || n > 32 || !all_alnum(a->token)) {
            snprintf(err, errlen, "[%s] token must be 3 to 32 letters and digits "
                     "(%zu characters given)", sec, n);
            return -1;
        }
    }
    if (a->appid && (strlen(a->appid) != 18 ||
                     strncmp(a->appid, "wx", 2) != 0 || !all_alnum(a->appid))) {
        snprintf(err, errlen, "[%s] appid '%s' is not an AppID (wx and 16 letters or digits)",
                 sec, a->appid);
        return -1;
    }
    if (check_aes(sec, a->encoding_aes_key, "encoding_aes_key", err, errlen) != 0 ||
        check_aes(sec, a->encoding_aes_key_previous, "encoding_aes_key_previous", err,
                  errlen) != 0)
        return -1;
    if (a->mode != WX_MODE_PLAIN && a->appid == NULL) {
        snprintf(err, errlen, "[%s] appid is missing: mode %s needs it", sec,
                 wx_mode_name(a->mode));
        return -1;
    }
    if (a->mode != WX_MODE_PLAIN && a->encoding_aes_key == NULL) {
        snprintf(err, errlen, "[%s] encoding_aes_key is missing: mode %s needs it "
                 "(or encoding_aes_key_file%s)", sec, wx_mode_name(a->mode),
                 strcmp(sec, "wx") == 0 ? ", or WX_ENCODING_AES_KEY" : "");
        return -1;
    }
    return 0;
}

static int wx_account_validate(void *sec, char *err, size_t errlen)
{
    return check_conf(sec, "wx", err, errlen);
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

/* [account.NAME]: the same keys, and what only a named account has.  The
 * secrets have no environment variable: one variable cannot hold the
 * token of every account. */
#define A(m)  offsetof(wx_account_t, m)
static const wx_setting_t wx_account_named_settings[] = {
    WX_SECRET("token", A(wx.token), NULL),
    WX_SETTING("appid", WX_CONF_STR, A(wx.appid), 0, 0, NULL),
    WX_SECRET("encoding_aes_key", A(wx.encoding_aes_key), NULL),
    WX_SECRET("encoding_aes_key_previous", A(wx.encoding_aes_key_previous), NULL),
    WX_ENUM("mode", A(wx.mode), wx_mode_names, "plain"),
    WX_SETTING("original_id", WX_CONF_STR, A(original_id), 0, 0, NULL),
    WX_SECRET("appsecret", A(appsecret), NULL),
    WX_SETTING("grant", WX_CONF_STR, A(grant), 0, 0, NULL),
};
#undef A

int wx_account_name_ok(const char *name)
{
    size_t n = 0;

    for (; name[n]; n++)
        if (!((name[n] >= '0' && name[n] <= '9') || (name[n] >= 'a' && name[n] <= 'z') ||
              (name[n] >= 'A' && name[n] <= 'Z') || name[n] == '-' || name[n] == '_'))
            return 0;
    return n >= 1 && n <= WX_ACCOUNT_NAME_MAX;
}

static int wx_account_named_validate(void *sec, char *err, size_t errlen)
{
    const wx_account_t *a = sec;
    char label[16 + WX_ACCOUNT_NAME_MAX + 1];

    if (!wx_account_name_ok(a->name)) {
        snprintf(err, errlen, "[account.%.64s]: the name must be 1 to %d letters, digits, "
                 "'-' or '_' (it is a path of the callback URL and part of store keys)",
                 a->name, WX_ACCOUNT_NAME_MAX);
        return -1;
    }
    snprintf(label, sizeof(label), "account.%s", a->name);
    if (check_conf(&a->wx, label, err, errlen) != 0)
        return -1;
    if (a->original_id && !wx_original_id_ok(a->original_id)) {
        snprintf(err, errlen, "[%s] original_id '%s' is not an original ID (gh_ and "
                 "letters or digits)", label, a->original_id);
        return -1;
    }
    if (a->grant && strcmp(a->grant, "token") != 0 && strcmp(a->grant, "stable_token") != 0) {
        snprintf(err, errlen, "[%s] grant '%s' is not one of token, stable_token", label,
                 a->grant);
        return -1;
    }
    return 0;
}

const wx_config_section_t wx_account_named_section = {
    "account.", WX_SECTION_NAMED, wx_account_named_settings,
    WX_CONF_N(wx_account_named_settings), sizeof(wx_account_t), WX_ACCOUNT_MAX,
    wx_account_named_validate
};

const wx_account_t *wx_account_find(const wx_conf_list_t *accounts, const char *name,
                                    size_t len)
{
    const wx_account_t *a = accounts->v;
    size_t i;

    for (i = 0; i < accounts->n; i++)
        if (strlen(a[i].name) == len && memcmp(a[i].name, name, len) == 0)
            return &a[i];
    return NULL;
}
