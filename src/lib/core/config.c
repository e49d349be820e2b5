/*
 * config.c - the INI file (inih), checked against one table of settings
 * with their types, bounds and defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "wx/core/config.h"

#define WX_CONFIG_MAX_FILE  (1 << 20)
#define WX_SECRET_MAX       4096
/* inih's line buffer (INI_MAX_LINE in Debian's build): longer lines would
 * be split silently, so they are refused with a clear message instead. */
#define WX_INI_MAX_LINE     200

typedef enum {
    T_STR,          /* char *, copied */
    T_TEXT,         /* char *, indented continuation lines add "\n..." */
    T_UINT,         /* unsigned */
    T_ULONG,        /* unsigned long */
    T_SIZE,         /* size_t, with an optional k/K or m/M suffix */
    T_OCTAL,        /* unsigned, written in octal */
    T_MODE,         /* wx_mode_t */
    T_LEVEL         /* wx_log_level_t */
} wx_ctype_t;

typedef struct wx_setting {
    const char     *section;
    const char     *name;
    wx_ctype_t      type;
    size_t          off;
    unsigned long   min, max;
    const char     *def;        /* default, parsed like a file value */
} wx_setting_t;

#define O(m)  offsetof(wx_config_t, m)
static const wx_setting_t wx_settings[] = {
    { "wx",     "token",            T_STR,   O(token),            0, 0, NULL },
    { "wx",     "appid",            T_STR,   O(appid),            0, 0, NULL },
    { "wx",     "encoding_aes_key", T_STR,   O(encoding_aes_key), 0, 0, NULL },
    { "wx",     "encoding_aes_key_previous", T_STR, O(encoding_aes_key_previous), 0, 0, NULL },
    { "wx",     "mode",             T_MODE,  O(mode),             0, 0, "plain" },
    { "wxfcgi", "listen",           T_STR,   O(listen),           0, 0, "unix:/run/wxfcgi/wxfcgi.sock" },
    { "wxfcgi", "socket_mode",      T_OCTAL, O(socket_mode),      0, 0777, "0660" },
    { "wxfcgi", "workers",          T_UINT,  O(workers),          1, 256, "4" },
    { "wxfcgi", "max_body",         T_SIZE,  O(max_body),         1024, 16UL << 20, "64k" },
    { "wxfcgi", "timestamp_window", T_UINT,  O(timestamp_window), 0, 86400, "300" },
    { "wxfcgi", "max_requests",     T_ULONG, O(max_requests),     0, 4294967295UL, "0" },
    { "wxfcgi", "shutdown_timeout", T_UINT,  O(shutdown_timeout), 1, 3600, "10" },
    { "wxfcgi", "log",              T_STR,   O(log),              0, 0, "stderr" },
    { "wxfcgi", "log_level",        T_LEVEL, O(log_level),        0, 0, "info" },
    { "wxfcgi", "log_buffer",       T_SIZE,  O(log_buffer),       0, 1UL << 20, "0" },
    { "wxfcgi", "handler",          T_STR,   O(handler),          0, 0, "echo" },
    { "wxfcgi", "state_dir",        T_STR,   O(state_dir),        0, 0, "/run/wxfcgi" },
    { "wxfcgi", "dedup_slots",      T_UINT,  O(dedup_slots),      0, 1U << 20, "8192" },
    { "wxfcgi", "reply_budget_ms",  T_UINT,  O(reply_budget_ms),  100, 4900, "4000" },
    { "echo",   "welcome",          T_TEXT,  O(welcome),          0, 0, NULL },
    { "echo",   "delay_ms",         T_UINT,  O(delay_ms),         0, 60000, "0" },
    { "wxtoken", "api",             T_STR,   O(tok_api),          0, 0, "https://api.weixin.qq.com" },
    { "wxtoken", "appsecret",       T_STR,   O(tok_appsecret),    0, 0, NULL },
    { "wxtoken", "grant",           T_STR,   O(tok_grant),        0, 0, "stable_token" },
    { "wxtoken", "store",           T_STR,   O(tok_store),        0, 0, "/run/wxfcgi/token" },
    { "wxtoken", "listen",          T_STR,   O(tok_listen),       0, 0, "unix:/run/wxfcgi/wxtoken.sock" },
    { "wxtoken", "refresh_margin",  T_UINT,  O(tok_refresh_margin), 10, 3600, "600" },
    { "wxtoken", "retry_min_ms",    T_UINT,  O(tok_retry_min_ms), 10, 600000, "1000" },
    { "wxtoken", "retry_max_ms",    T_UINT,  O(tok_retry_max_ms), 10, 86400000, "300000" },
    { "wxtoken", "timeout_ms",      T_UINT,  O(tok_timeout_ms),   100, 60000, "5000" },
    { "wxtoken", "ca_file",         T_STR,   O(tok_ca_file),      0, 0, NULL },
    { "wxtoken", "proxy",           T_STR,   O(tok_proxy),        0, 0, NULL },
    { "wxtoken", "log",             T_STR,   O(tok_log),          0, 0, "stderr" },
    { "wxtoken", "log_level",       T_LEVEL, O(tok_log_level),    0, 0, "info" },
    { "wxsim",  "listen",           T_STR,   O(sim_listen),       0, 0, "unix:/run/wxfcgi/wxsim.sock" },
    { "wxsim",  "appid",            T_STR,   O(sim_appid),        0, 0, NULL },
    { "wxsim",  "appsecret",        T_STR,   O(sim_appsecret),    0, 0, NULL },
    { "wxsim",  "allow_ips",        T_STR,   O(sim_allow_ips),    0, 0, "" },
    { "wxsim",  "token_ttl",        T_UINT,  O(sim_token_ttl),    10, 86400, "7200" },
    { "wxsim",  "token_daily_limit", T_UINT, O(sim_token_daily_limit), 1, 1000000, "2000" },
    { "wxsim",  "max_upload",       T_SIZE,  O(sim_max_upload),   1024, 64UL << 20, "10m" },
    { "wxsim",  "data_dir",         T_STR,   O(sim_data_dir),     0, 0, "/run/wxfcgi/wxsim" },
    { "wxsim",  "log",              T_STR,   O(sim_log),          0, 0, "stderr" },
    { "wxsim",  "log_level",        T_LEVEL, O(sim_log_level),    0, 0, "info" },
    { "wxproxy", "listen",          T_STR,   O(px_listen),        0, 0, "unix:/run/wxfcgi/wxproxy.sock" },
    { "wxproxy", "workers",         T_UINT,  O(px_workers),       1, 256, "2" },
    { "wxproxy", "socket_mode",     T_OCTAL, O(px_socket_mode),   0, 0777, "0660" },
    { "wxproxy", "api",             T_STR,   O(px_api),           0, 0, "https://api.weixin.qq.com" },
    { "wxproxy", "ca_file",         T_STR,   O(px_ca_file),       0, 0, NULL },
    { "wxproxy", "proxy",           T_STR,   O(px_proxy),         0, 0, NULL },
    { "wxproxy", "timeout_ms",      T_UINT,  O(px_timeout_ms),    100, 600000, "30000" },
    { "wxproxy", "max_body",        T_SIZE,  O(px_max_body),      1024, 64UL << 20, "20m" },
    { "wxproxy", "state_dir",       T_STR,   O(px_state_dir),     0, 0, "/run/wxfcgi" },
    { "wxproxy", "log",             T_STR,   O(px_log),           0, 0, "stderr" },
    { "wxproxy", "log_level",       T_LEVEL, O(px_log_level),     0, 0, "info" },
    { "upstream", "url",            T_STR,   O(up_url),           0, 0, NULL },
    { "upstream", "timeout_ms",     T_UINT,  O(up_timeout_ms),    100, 600000, "30000" },
    { "upstream", "proxy",          T_STR,   O(up_proxy),         0, 0, NULL },
    { "upstream", "proxy_key",      T_STR,   O(up_proxy_key),     0, 0, NULL },
    { "wxctl",  "proxy",            T_STR,   O(ctl_proxy),        0, 0, "http://127.0.0.1:8080/wxapi" },
    { "wxctl",  "proxy_key",        T_STR,   O(ctl_proxy_key),    0, 0, NULL },
    { "wxctl",  "timeout_ms",       T_UINT,  O(ctl_timeout_ms),   100, 3600000, "120000" },
};
#undef O
#define N_SETTINGS (sizeof(wx_settings) / sizeof(wx_settings[0]))

/* Sections read by the other programs of the suite: not ours to check. */
static const char *const wx_foreign_sections[] = {
    "state", "redis",
};

/* Secrets that may come from a *_file key or the environment. */
static const struct {
    const char *section;
    const char *name;
    const char *env;
    size_t      off;
} wx_secrets[] = {
    { "wx", "token",            "WX_TOKEN",            offsetof(wx_config_t, token) },
    { "wx", "encoding_aes_key", "WX_ENCODING_AES_KEY", offsetof(wx_config_t, encoding_aes_key) },
    { "wx", "encoding_aes_key_previous", "WX_ENCODING_AES_KEY_PREVIOUS",
      offsetof(wx_config_t, encoding_aes_key_previous) },
    { "wxtoken", "appsecret",   "WX_APPSECRET",        offsetof(wx_config_t, tok_appsecret) },
    { "wxsim", "appsecret",     "WXSIM_APPSECRET",     offsetof(wx_config_t, sim_appsecret) },
    { "upstream", "proxy_key",  "WX_PROXY_KEY",        offsetof(wx_config_t, up_proxy_key) },
    { "wxctl", "proxy_key",     "WX_PROXY_KEY",        offsetof(wx_config_t, ctl_proxy_key) },
};
#define N_SECRETS (sizeof(wx_secrets) / sizeof(wx_secrets[0]))

typedef struct {
    wx_config_t    *cfg;
    char           *err;
    size_t          errlen;
    int             failed;
    unsigned char   seen[N_SETTINGS];
    char           *secret_file[N_SECRETS];
} wx_load_t;

static void seterr(wx_load_t *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void seterr(wx_load_t *ld, const char *fmt, ...)
{
    va_list ap;

    if (ld->failed)
        return;
    ld->failed = 1;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
}

const char *wx_mode_name(wx_mode_t mode)
{
    switch (mode) {
    case WX_MODE_PLAIN:  return "plain";
    case WX_MODE_COMPAT: return "compat";
    case WX_MODE_SAFE:   return "safe";
    }
    return "?";
}

static int parse_ulong(const char *v, int base, unsigned long *out)
{
    char *end;
    unsigned long n;

    if (*v == '\0' || *v == '-' || *v == '+' || isspace((unsigned char)*v))
        return -1;
    errno = 0;
    n = strtoul(v, &end, base);
    if (errno != 0 || end == v)
        return -1;
    if (*end == 'k' || *end == 'K' || *end == 'm' || *end == 'M') {
        unsigned long mul = (*end == 'k' || *end == 'K') ? 1024UL : 1048576UL;

        if (base != 10 || n > (unsigned long)-1 / mul)
            return -1;
        n *= mul;
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
    }
    if (*end != '\0')
        return -1;
    *out = n;
    return 0;
}

/* Store one value; 0 on success, -1 with a message (no location) set. */
static int set_value(wx_load_t *ld, const wx_setting_t *s, const char *v,
                     int again, char *why, size_t whylen)
{
    void *slot = (char *)ld->cfg + s->off;
    unsigned long n;
    char **sp, *copy;

    switch (s->type) {
    case T_STR:
    case T_TEXT:
        sp = slot;
        if (again && s->type == T_TEXT && *sp != NULL) {
            size_t a = strlen(*sp), b = strlen(v);

            copy = malloc(a + 1 + b + 1);
            if (copy == NULL)
                goto nomem;
            memcpy(copy, *sp, a);
            copy[a] = '\n';
            memcpy(copy + a + 1, v, b + 1);
        } else if ((copy = strdup(v)) == NULL) {
            goto nomem;
        }
        free(*sp);
        *sp = copy;
        return 0;
    case T_UINT:
    case T_ULONG:
    case T_SIZE:
    case T_OCTAL:
        if (parse_ulong(v, s->type == T_OCTAL ? 8 : 10, &n) != 0 ||
            (s->type != T_SIZE && (v[strlen(v) - 1] < '0' || v[strlen(v) - 1] > '9'))) {
            snprintf(why, whylen, "'%s' is not a %snumber", v,
                     s->type == T_OCTAL ? "octal " : s->type == T_SIZE ? "size or " : "");
            return -1;
        }
        if (n < s->min || n > s->max) {
            snprintf(why, whylen, s->type == T_OCTAL ?
                     "%lo is out of range (%lo..%lo)" : "%lu is out of range (%lu..%lu)",
                     n, s->min, s->max);
            return -1;
        }
        if (s->type == T_SIZE)
            *(size_t *)slot = n;
        else if (s->type == T_ULONG)
            *(unsigned long *)slot = n;
        else
            *(unsigned *)slot = (unsigned)n;
        return 0;
    case T_MODE:
        if (strcmp(v, "plain") == 0)
            *(wx_mode_t *)slot = WX_MODE_PLAIN;
        else if (strcmp(v, "compat") == 0)
            *(wx_mode_t *)slot = WX_MODE_COMPAT;
        else if (strcmp(v, "safe") == 0)
            *(wx_mode_t *)slot = WX_MODE_SAFE;
        else {
            snprintf(why, whylen, "'%s' is not one of plain, compat, safe", v);
            return -1;
        }
        return 0;
    case T_LEVEL:
        if (wx_log_level_parse(v) < 0) {
            snprintf(why, whylen, "'%s' is not one of debug, info, warn, error", v);
            return -1;
        }
        *(wx_log_level_t *)slot = (wx_log_level_t)wx_log_level_parse(v);
        return 0;
    }
    return 0;
nomem:
    snprintf(why, whylen, "out of memory");
    return -1;
}

static int add_click(wx_load_t *ld, const char *key, const char *text)
{
    wx_config_t *cfg = ld->cfg;
    wx_click_reply_t *c;
    size_t i;

    /* A repeated key is inih's way of passing a continuation line. */
    for (i = 0; i < cfg->n_clicks; i++) {
        if (strcmp(cfg->clicks[i].key, key) == 0) {
            size_t a = strlen(cfg->clicks[i].text), b = strlen(text);
            char *t = malloc(a + b + 2);

            if (t == NULL)
                return -1;
            memcpy(t, cfg->clicks[i].text, a);
            t[a] = '\n';
            memcpy(t + a + 1, text, b + 1);
            free(cfg->clicks[i].text);
            cfg->clicks[i].text = t;
            return 0;
        }
    }
    if (cfg->n_clicks == WX_CONFIG_MAX_CLICKS)
        return -2;
    if (cfg->clicks == NULL) {
        cfg->clicks = calloc(WX_CONFIG_MAX_CLICKS, sizeof(*cfg->clicks));
        if (cfg->clicks == NULL)
            return -1;
    }
    c = &cfg->clicks[cfg->n_clicks];
    c->key = strdup(key);
    c->text = strdup(text);
    if (c->key == NULL || c->text == NULL) {
        free(c->key);
        free(c->text);
        return -1;
    }
    cfg->n_clicks++;
    return 0;
}

static char *slurp(const char *path, size_t max, size_t *len, int *err);
static char *resolve(const char *cfgpath, const char *p);

/* [wxproxy.key.NAME] key|key_file|paths|rate|burst */
static int add_proxy_key(wx_load_t *ld, const char *name, const char *k, const char *v)
{
    wx_config_t *cfg = ld->cfg;
    wx_proxy_key_t *pk = NULL;
    char **slot = NULL, *copy;
    unsigned long n;
    size_t i;

    for (i = 0; i < cfg->n_px_keys; i++)
        if (strcmp(cfg->px_keys[i].name, name) == 0)
            pk = &cfg->px_keys[i];
    if (pk == NULL) {
        if (*name == '\0') {
            seterr(ld, "[wxproxy.key.] needs a name: [wxproxy.key.NAME]");
            return 0;
        }
        if (cfg->n_px_keys == WX_CONFIG_MAX_PROXY_KEYS) {
            seterr(ld, "more than %d [wxproxy.key.*] sections", WX_CONFIG_MAX_PROXY_KEYS);
            return 0;
        }
        if (cfg->px_keys == NULL &&
            (cfg->px_keys = calloc(WX_CONFIG_MAX_PROXY_KEYS, sizeof(*cfg->px_keys))) == NULL)
            goto nomem;
        pk = &cfg->px_keys[cfg->n_px_keys];
        if ((pk->name = strdup(name)) == NULL)
            goto nomem;
        pk->rate = 10;
        cfg->n_px_keys++;
    }
    if (strcmp(k, "rate") == 0 || strcmp(k, "burst") == 0) {
        if (parse_ulong(v, 10, &n) != 0 || n > 1000000 || (n == 0 && k[0] == 'r')) {
            seterr(ld, "[wxproxy.key.%s] %s: '%s' is not a number (%s..1000000)", name, k, v,
                   k[0] == 'r' ? "1" : "0");
            return 0;
        }
        *(k[0] == 'r' ? &pk->rate : &pk->burst) = (unsigned)n;
        return 1;
    }
    if (strcmp(k, "paths") == 0 && pk->paths != NULL) {
        /* An indented continuation line adds more paths. */
        size_t a = strlen(pk->paths), b = strlen(v);

        if ((copy = malloc(a + 1 + b + 1)) == NULL)
            goto nomem;
        memcpy(copy, pk->paths, a);
        copy[a] = ' ';
        memcpy(copy + a + 1, v, b + 1);
        free(pk->paths);
        pk->paths = copy;
        return 1;
    }
    if (strcmp(k, "key") == 0 || strcmp(k, "paths") == 0) {
        slot = k[0] == 'k' ? &pk->key : &pk->paths;
        if ((copy = strdup(v)) == NULL)
            goto nomem;
        if (*slot)
            explicit_bzero(*slot, strlen(*slot));
        free(*slot);
        *slot = copy;
        return 1;
    }
    if (strcmp(k, "key_file") == 0) {
        char *path = resolve(cfg->path, v);
        size_t len = 0;
        int e = 0;

        if (path == NULL)
            goto nomem;
        copy = slurp(path, WX_SECRET_MAX, &len, &e);
        if (copy == NULL) {
            seterr(ld, "[wxproxy.key.%s] key_file: cannot read %s: %s", name, path, strerror(e));
            free(path);
            return 0;
        }
        free(path);
        while (len && (copy[len - 1] == '\n' || copy[len - 1] == '\r'))
            copy[--len] = '\0';
        free(pk->key);
        pk->key = copy;
        return 1;
    }
    seterr(ld, "[wxproxy.key.%s] has no setting '%s' (key, key_file, paths, rate, burst)",
           name, k);
    return 0;
nomem:
    seterr(ld, "out of memory");
    return 0;
}

static int is_foreign(const char *section)
{
    size_t i;

    for (i = 0; i < sizeof(wx_foreign_sections) / sizeof(wx_foreign_sections[0]); i++)
        if (strcmp(section, wx_foreign_sections[i]) == 0)
            return 1;
    return 0;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
    wx_load_t *ld = user;
    char why[160];
    size_t i, nlen = strlen(name);

    if (strncmp(section, "wxproxy.key.", 12) == 0)
        return add_proxy_key(ld, section + 12, name, value);
    if (strcmp(section, "echo.click") == 0) {
        int rc = add_click(ld, name, value);

        if (rc == -2)
            seterr(ld, "[echo.click] has more than %d keys", WX_CONFIG_MAX_CLICKS);
        else if (rc != 0)
            seterr(ld, "out of memory");
        return rc == 0;
    }
    if (nlen > 5 && strcmp(name + nlen - 5, "_file") == 0) {
        for (i = 0; i < N_SECRETS; i++) {
            if (strcmp(wx_secrets[i].section, section) == 0 &&
                strlen(wx_secrets[i].name) == nlen - 5 &&
                strncmp(wx_secrets[i].name, name, nlen - 5) == 0) {
                free(ld->secret_file[i]);
                ld->secret_file[i] = strdup(value);
                return ld->secret_file[i] != NULL;
            }
        }
    }
    for (i = 0; i < N_SETTINGS; i++) {
        const wx_setting_t *s = &wx_settings[i];

        if (strcmp(s->section, section) != 0 || strcmp(s->name, name) != 0)
            continue;
        if (ld->seen[i] && s->type != T_TEXT) {
            seterr(ld, "[%s] %s is given twice", section, name);
            return 0;
        }
        if (set_value(ld, s, value, ld->seen[i], why, sizeof(why)) != 0) {
            seterr(ld, "[%s] %s: %s", section, name, why);
            return 0;
        }
        ld->seen[i] = 1;
        return 1;
    }
    if (is_foreign(section))
        return 1;
    for (i = 0; i < N_SETTINGS; i++)
        if (strcmp(wx_settings[i].section, section) == 0)
            break;
    if (i == N_SETTINGS && strcmp(section, "wx") != 0)
        seterr(ld, "unknown section [%s]", section);
    else
        seterr(ld, "[%s] has no setting '%s'", section, name);
    return 0;
}

/* Read a whole small file into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t max, size_t *len, int *err)
{
    char *buf = NULL;
    size_t n = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        *err = ENOMEM;
        goto out;
    }
    while ((r = read(fd, buf + n, max + 1 - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            goto fail;
        }
        n += (size_t)r;
        if (n > max) {
            *err = EFBIG;
            goto fail;
        }
    }
    buf[n] = '\0';
    *len = n;
    goto out;
fail:
    free(buf);
    buf = NULL;
out:
    close(fd);
    return buf;
}

/* A relative *_file path is taken relative to the config file. */
static char *resolve(const char *cfgpath, const char *p)
{
    const char *slash = strrchr(cfgpath, '/');
    size_t dlen;
    char *out;

    if (p[0] == '/' || slash == NULL)
        return strdup(p);
    dlen = (size_t)(slash - cfgpath) + 1;
    out = malloc(dlen + strlen(p) + 1);
    if (out) {
        memcpy(out, cfgpath, dlen);
        strcpy(out + dlen, p);
    }
    return out;
}

static int load_secrets(wx_load_t *ld)
{
    size_t i;

    for (i = 0; i < N_SECRETS; i++) {
        char **slot = (char **)((char *)ld->cfg + wx_secrets[i].off);
        const char *env = getenv(wx_secrets[i].env);

        if (ld->secret_file[i] && *slot) {
            seterr(ld, "[%s] %s and %s_file are both set: keep one",
                   wx_secrets[i].section, wx_secrets[i].name, wx_secrets[i].name);
            return -1;
        }
        if (env && *env) {
            free(*slot);
            *slot = strdup(env);
            if (*slot == NULL)
                return -1;
        } else if (ld->secret_file[i]) {
            char *path = resolve(ld->cfg->path, ld->secret_file[i]);
            size_t len = 0;
            int err = 0;
            char *v;

            if (path == NULL)
                return -1;
            v = slurp(path, WX_SECRET_MAX, &len, &err);
            if (v == NULL) {
                seterr(ld, "[%s] %s_file: cannot read %s: %s",
                       wx_secrets[i].section, wx_secrets[i].name, path, strerror(err));
                free(path);
                return -1;
            }
            free(path);
            /* Files written by editors and echo end in a newline. */
            while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
                v[--len] = '\0';
            free(*slot);
            *slot = v;
        }
    }
    return 0;
}

static int all_alnum(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return 0;
    return 1;
}

static int check_listen(const char *l)
{
    if (strncmp(l, "unix:", 5) == 0)
        return l[5] == '/' && strlen(l + 5) < 108 ? 0 : -1;
    if (strncmp(l, "tcp:", 4) == 0) {
        const char *colon = strrchr(l + 4, ':');
        unsigned long port;

        if (colon == NULL || colon == l + 4 ||
            parse_ulong(colon + 1, 10, &port) != 0 || port == 0 || port > 65535)
            return -1;
        return 0;
    }
    return -1;
}

static int validate(wx_load_t *ld)
{
    wx_config_t *cfg = ld->cfg;
    size_t n;

    if (cfg->token == NULL || cfg->token[0] == '\0') {
        seterr(ld, "[wx] token is missing: set token, token_file or the "
                   "environment variable WX_TOKEN");
        return -1;
    }
    n = strlen(cfg->token);
    /* The platform accepts 3 to 32 letters and digits (PROTOCOL.md 1.1). */
    if (n < 3 || n > 32 || !all_alnum(cfg->token)) {
        seterr(ld, "[wx] token must be 3 to 32 letters and digits (%zu characters given)", n);
        return -1;
    }
    if (cfg->appid && (strlen(cfg->appid) != 18 ||
                       strncmp(cfg->appid, "wx", 2) != 0 || !all_alnum(cfg->appid))) {
        seterr(ld, "[wx] appid '%s' is not an AppID (wx and 16 letters or digits)",
               cfg->appid);
        return -1;
    }
    if (cfg->encoding_aes_key &&
        (strlen(cfg->encoding_aes_key) != 43 || !all_alnum(cfg->encoding_aes_key))) {
        seterr(ld, "[wx] encoding_aes_key must be 43 letters and digits (%zu characters given)",
               strlen(cfg->encoding_aes_key));
        return -1;
    }
    if (cfg->encoding_aes_key_previous &&
        (strlen(cfg->encoding_aes_key_previous) != 43 ||
         !all_alnum(cfg->encoding_aes_key_previous))) {
        seterr(ld, "[wx] encoding_aes_key_previous must be 43 letters and digits "
                   "(%zu characters given)", strlen(cfg->encoding_aes_key_previous));
        return -1;
    }
    if (cfg->mode != WX_MODE_PLAIN) {
        if (cfg->appid == NULL) {
            seterr(ld, "[wx] appid is missing: mode %s needs it", wx_mode_name(cfg->mode));
            return -1;
        }
        if (cfg->encoding_aes_key == NULL) {
            seterr(ld, "[wx] encoding_aes_key is missing: mode %s needs it "
                       "(or encoding_aes_key_file, or WX_ENCODING_AES_KEY)",
                   wx_mode_name(cfg->mode));
            return -1;
        }
    }
    if (check_listen(cfg->listen) != 0) {
        seterr(ld, "[wxfcgi] listen '%s' is not unix:/absolute/path or tcp:host:port",
               cfg->listen);
        return -1;
    }
    if (cfg->state_dir[0] != '/') {
        seterr(ld, "[wxfcgi] state_dir '%s' is not an absolute path", cfg->state_dir);
        return -1;
    }
    if (cfg->log[0] == '\0') {
        seterr(ld, "[wxfcgi] log is empty: use stderr, syslog or a file path");
        return -1;
    }
    if (check_listen(cfg->tok_listen) != 0 || strncmp(cfg->tok_listen, "unix:", 5) != 0) {
        seterr(ld, "[wxtoken] listen '%s' is not unix:/absolute/path", cfg->tok_listen);
        return -1;
    }
    if (cfg->tok_store[0] != '/') {
        seterr(ld, "[wxtoken] store '%s' is not an absolute path", cfg->tok_store);
        return -1;
    }
    if (strcmp(cfg->tok_grant, "token") != 0 && strcmp(cfg->tok_grant, "stable_token") != 0) {
        seterr(ld, "[wxtoken] grant '%s' is not one of token, stable_token", cfg->tok_grant);
        return -1;
    }
    if (strncmp(cfg->tok_api, "https://", 8) != 0 && strncmp(cfg->tok_api, "http://", 7) != 0) {
        seterr(ld, "[wxtoken] api '%s' is not an http(s):// URL", cfg->tok_api);
        return -1;
    }
    for (n = 0; n < cfg->n_px_keys; n++) {
        const wx_proxy_key_t *pk = &cfg->px_keys[n];

        if (pk->key == NULL || strlen(pk->key) < 16) {
            seterr(ld, "[wxproxy.key.%s] key is %s: at least 16 characters (or key_file)",
                   pk->name, pk->key ? "too short" : "missing");
            return -1;
        }
        if (pk->paths == NULL || strspn(pk->paths, " \t") == strlen(pk->paths)) {
            seterr(ld, "[wxproxy.key.%s] paths is missing: the API paths it may call",
                   pk->name);
            return -1;
        }
    }
    if (check_listen(cfg->px_listen) != 0) {
        seterr(ld, "[wxproxy] listen '%s' is not unix:/absolute/path or tcp:host:port",
               cfg->px_listen);
        return -1;
    }
    if (check_listen(cfg->sim_listen) != 0) {
        seterr(ld, "[wxsim] listen '%s' is not unix:/absolute/path or tcp:host:port",
               cfg->sim_listen);
        return -1;
    }
    return 0;
}

/* inih cannot say that a line was too long; find such lines ourselves. */
static int check_lines(wx_load_t *ld, const char *text)
{
    unsigned line = 1;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len >= WX_INI_MAX_LINE - 1) {
            seterr(ld, "%s:%u: line longer than %d bytes: continue a long "
                       "value on indented lines", ld->cfg->path, line,
                   WX_INI_MAX_LINE - 2);
            return -1;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
        line++;
    }
    return 0;
}

wx_err_t wx_config_load(wx_config_t *cfg, const char *path,
                        char *err, size_t errlen)
{
    wx_load_t ld;
    char why[160], *text = NULL;
    size_t i, len;
    int rc, e = 0;

    memset(cfg, 0, sizeof(*cfg));
    memset(&ld, 0, sizeof(ld));
    ld.cfg = cfg;
    ld.err = err;
    ld.errlen = errlen;

    cfg->path = strdup(path);
    if (cfg->path == NULL) {
        seterr(&ld, "out of memory");
        goto fail;
    }
    for (i = 0; i < N_SETTINGS; i++) {
        if (wx_settings[i].def &&
            set_value(&ld, &wx_settings[i], wx_settings[i].def, 0, why, sizeof(why)) != 0) {
            seterr(&ld, "default of [%s] %s: %s", wx_settings[i].section,
                   wx_settings[i].name, why);
            goto fail;
        }
    }

    text = slurp(path, WX_CONFIG_MAX_FILE, &len, &e);
    if (text == NULL) {
        seterr(&ld, "cannot read config %s: %s", path, strerror(e));
        goto fail;
    }
    if (check_lines(&ld, text) != 0)
        goto fail;
    rc = ini_parse_string(text, on_ini, &ld);
    if (rc != 0) {
        if (ld.failed) {
            /* Prefix the message with where it happened. */
            char tmp[256];

            snprintf(tmp, sizeof(tmp), "%s", err);
            snprintf(err, errlen, "%s:%d: %s", path, rc, tmp);
        } else {
            seterr(&ld, "%s:%d: syntax error (expected [section] or key = value)",
                   path, rc);
        }
        goto fail;
    }
    if (load_secrets(&ld) != 0 || validate(&ld) != 0) {
        if (!ld.failed)
            seterr(&ld, "out of memory");
        /* Name the file too, for messages that were not about a line. */
        if (strncmp(err, path, strlen(path)) != 0) {
            char tmp[256];

            snprintf(tmp, sizeof(tmp), "%s", err);
            snprintf(err, errlen, "%s: %s", path, tmp);
        }
        goto fail;
    }
    for (i = 0; i < N_SECRETS; i++)
        free(ld.secret_file[i]);
    free(text);
    return WX_OK;

fail:
    for (i = 0; i < N_SECRETS; i++)
        free(ld.secret_file[i]);
    free(text);
    wx_config_free(cfg);
    return WX_ECONFIG;
}

void wx_config_free(wx_config_t *cfg)
{
    size_t i;

    /* Secrets do not linger in freed memory. */
    for (i = 0; i < N_SECRETS; i++) {
        char *v = *(char **)((char *)cfg + wx_secrets[i].off);

        if (v)
            explicit_bzero(v, strlen(v));
    }
    for (i = 0; i < N_SETTINGS; i++)
        if (wx_settings[i].type == T_STR || wx_settings[i].type == T_TEXT)
            free(*(char **)((char *)cfg + wx_settings[i].off));
    for (i = 0; i < cfg->n_clicks; i++) {
        free(cfg->clicks[i].key);
        free(cfg->clicks[i].text);
    }
    free(cfg->clicks);
    for (i = 0; i < cfg->n_px_keys; i++) {
        if (cfg->px_keys[i].key)
            explicit_bzero(cfg->px_keys[i].key, strlen(cfg->px_keys[i].key));
        free(cfg->px_keys[i].name);
        free(cfg->px_keys[i].key);
        free(cfg->px_keys[i].paths);
    }
    free(cfg->px_keys);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}
