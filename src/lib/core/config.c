/*
 * config.c - the INI file (inih), checked against the tables of the
 * sections the running program reads (wx/core/config.h).
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

const char *const wx_config_known_sections[] = {
    "wx", "wxfcgi", "echo", "echo.click", "upstream", "wxtoken", "wxsim",
    "wxproxy", "wxproxy.key.", "wxctl", "state", "redis", "route.", "account.",
    "wxsim.account.", NULL
};

/* One filled struct: a section's, or one item of a NAMED section. */
typedef struct wx_inst {
    const wx_config_section_t  *sec;
    const char                 *item;       /* NAMED: the item's name; else "" */
    void                       *base;
    unsigned char               seen[WX_CONF_MAX_SETTINGS];
    char                       *file[WX_CONF_MAX_SETTINGS];    /* NAME_file given */
} wx_inst_t;

typedef struct {
    wx_config_t    *cfg;
    char           *err;
    size_t          errlen;
    int             failed;
    wx_inst_t      *inst;
    size_t          n_inst, cap_inst;
} wx_load_t;

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

static void *use_slot(const wx_config_t *cfg, const wx_config_use_t *u)
{
    return (char *)cfg + u->off;
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

/* Append 'v' to the string in 'sp' after 'sep' (a continuation line). */
static int append(char **sp, char sep, const char *v)
{
    size_t a = strlen(*sp), b = strlen(v);
    char *copy = malloc(a + 1 + b + 1);

    if (copy == NULL)
        return -1;
    memcpy(copy, *sp, a);
    copy[a] = sep;
    memcpy(copy + a + 1, v, b + 1);
    free(*sp);
    *sp = copy;
    return 0;
}

static int set_enum(const wx_setting_t *s, void *slot, const char *v,
                    char *why, size_t whylen)
{
    size_t i, used = 0;

    for (i = 0; s->names[i]; i++) {
        if (strcmp(v, s->names[i]) == 0) {
            *(int *)slot = (int)i;
            return 0;
        }
    }
    used = (size_t)snprintf(why, whylen, "'%s' is not one of ", v);
    for (i = 0; s->names[i] && used < whylen; i++)
        used += (size_t)snprintf(why + used, whylen - used, "%s%s", i ? ", " : "",
                                 s->names[i]);
    return -1;
}

/* Store one value in the struct at 'base'; 0 on success, -1 with a
 * message (no location) set. */
static int set_value(void *base, const wx_setting_t *s, const char *v, int again,
                     char *why, size_t whylen)
{
    void *slot = (char *)base + s->off;
    unsigned long n;
    char **sp = slot, *copy;

    switch (s->type) {
    case WX_CONF_STR:
    case WX_CONF_TEXT:
    case WX_CONF_WORDS:
        if (again && s->type != WX_CONF_STR && *sp != NULL) {
            if (append(sp, s->type == WX_CONF_TEXT ? '\n' : ' ', v) != 0)
                goto nomem;
            return 0;
        }
        if ((copy = strdup(v)) == NULL)
            goto nomem;
        free(*sp);
        *sp = copy;
        return 0;
    case WX_CONF_UINT:
    case WX_CONF_ULONG:
    case WX_CONF_SIZE:
    case WX_CONF_OCTAL:
        if (parse_ulong(v, s->type == WX_CONF_OCTAL ? 8 : 10, &n) != 0 ||
            (s->type != WX_CONF_SIZE && (v[strlen(v) - 1] < '0' || v[strlen(v) - 1] > '9'))) {
            snprintf(why, whylen, "'%s' is not a %snumber", v,
                     s->type == WX_CONF_OCTAL ? "octal " :
                     s->type == WX_CONF_SIZE ? "size or " : "");
            return -1;
        }
        if (n < s->min || n > s->max) {
            snprintf(why, whylen, s->type == WX_CONF_OCTAL ?
                     "%lo is out of range (%lo..%lo)" : "%lu is out of range (%lu..%lu)",
                     n, s->min, s->max);
            return -1;
        }
        if (s->type == WX_CONF_SIZE)
            *(size_t *)slot = n;
        else if (s->type == WX_CONF_ULONG)
            *(unsigned long *)slot = n;
        else
            *(unsigned *)slot = (unsigned)n;
        return 0;
    case WX_CONF_LEVEL:
        if (wx_log_level_parse(v) < 0) {
            snprintf(why, whylen, "'%s' is not one of debug, info, warn, error", v);
            return -1;
        }
        *(wx_log_level_t *)slot = (wx_log_level_t)wx_log_level_parse(v);
        return 0;
    case WX_CONF_ENUM:
        return set_enum(s, slot, v, why, whylen);
    }
    return 0;
nomem:
    snprintf(why, whylen, "out of memory");
    return -1;
}

static int apply_defaults(wx_load_t *ld, const wx_config_section_t *sec, void *base)
{
    char why[160];
    size_t i;

    /* The loader's per-key bookkeeping (wx_inst_t) has room for so many. */
    if (sec->n_settings > WX_CONF_MAX_SETTINGS) {
        seterr(ld, "[%s] has more than %d settings in its table", sec->name,
               WX_CONF_MAX_SETTINGS);
        return -1;
    }
    for (i = 0; i < sec->n_settings; i++) {
        const wx_setting_t *s = &sec->settings[i];

        if (s->def && set_value(base, s, s->def, 0, why, sizeof(why)) != 0) {
            seterr(ld, "default of [%s] %s: %s", sec->name, s->name, why);
            return -1;
        }
    }
    return 0;
}

static wx_inst_t *add_inst(wx_load_t *ld, const wx_config_section_t *sec,
                           const char *item, void *base)
{
    wx_inst_t *in;

    if (ld->n_inst == ld->cap_inst) {
        size_t cap = ld->cap_inst ? 2 * ld->cap_inst : 16;

        in = realloc(ld->inst, cap * sizeof(*in));
        if (in == NULL)
            return NULL;
        ld->inst = in;
        ld->cap_inst = cap;
    }
    in = &ld->inst[ld->n_inst++];
    memset(in, 0, sizeof(*in));
    in->sec = sec;
    in->item = item;
    in->base = base;
    return in;
}

/* One key of a filled struct: 1 taken, 0 refused (error set), -1 not a
 * key of this section. */
static int set_key(wx_load_t *ld, wx_inst_t *in, const char *key, const char *v)
{
    const wx_config_section_t *sec = in->sec;
    size_t i, klen = strlen(key);
    char why[160];

    for (i = 0; i < sec->n_settings; i++) {
        const wx_setting_t *s = &sec->settings[i];

        if (s->secret && klen == strlen(s->name) + 5 &&
            strncmp(key, s->name, klen - 5) == 0 && strcmp(key + klen - 5, "_file") == 0) {
            free(in->file[i]);
            in->file[i] = strdup(v);
            if (in->file[i] == NULL)
                seterr(ld, "out of memory");
            return in->file[i] != NULL;
        }
        if (strcmp(s->name, key) != 0)
            continue;
        if (in->seen[i] && s->type != WX_CONF_TEXT && s->type != WX_CONF_WORDS) {
            seterr(ld, "[%s%s] %s is given twice", sec->name, in->item, key);
            return 0;
        }
        if (set_value(in->base, s, v, in->seen[i], why, sizeof(why)) != 0) {
            seterr(ld, "[%s%s] %s: %s", sec->name, in->item, key, why);
            return 0;
        }
        in->seen[i] = 1;
        return 1;
    }
    return -1;
}

/* [name] KEY = text; a repeated KEY is inih's way of passing a
 * continuation line. */
static int add_pair(wx_load_t *ld, const wx_config_section_t *sec, wx_conf_list_t *l,
                    const char *key, const char *text)
{
    wx_conf_pair_t *p = l->v;
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(p[i].name, key) != 0)
            continue;
        if (append(&p[i].text, '\n', text) != 0)
            goto nomem;
        return 1;
    }
    if (l->n == sec->max) {
        seterr(ld, "[%s] has more than %zu keys", sec->name, sec->max);
        return 0;
    }
    if (p == NULL && (p = l->v = calloc(sec->max, sizeof(*p))) == NULL)
        goto nomem;
    p[l->n].name = strdup(key);
    p[l->n].text = strdup(text);
    if (p[l->n].name == NULL || p[l->n].text == NULL) {
        free(p[l->n].name);
        free(p[l->n].text);
        p[l->n].name = p[l->n].text = NULL;
        goto nomem;
    }
    l->n++;
    return 1;
nomem:
    seterr(ld, "out of memory");
    return 0;
}

/* [prefixNAME]: the item NAME, created with its defaults when new. */
static wx_inst_t *named_item(wx_load_t *ld, const wx_config_section_t *sec,
                             wx_conf_list_t *l, const char *name)
{
    wx_inst_t *in;
    char *item;
    size_t i;

    for (i = 0; i < ld->n_inst; i++)
        if (ld->inst[i].sec == sec && strcmp(ld->inst[i].item, name) == 0)
            return &ld->inst[i];
    if (*name == '\0') {
        seterr(ld, "[%s] needs a name: [%sNAME]", sec->name, sec->name);
        return NULL;
    }
    if (l->n == sec->max) {
        seterr(ld, "more than %zu [%s*] sections", sec->max, sec->name);
        return NULL;
    }
    if (l->v == NULL && (l->v = calloc(sec->max, sec->size)) == NULL)
        goto nomem;
    item = (char *)l->v + l->n * sec->size;
    if ((*(char **)item = strdup(name)) == NULL)
        goto nomem;
    l->n++;
    if (apply_defaults(ld, sec, item) != 0)
        return NULL;
    if ((in = add_inst(ld, sec, *(char **)item, item)) == NULL)
        goto nomem;
    return in;
nomem:
    seterr(ld, "out of memory");
    return NULL;
}

static int is_known(const char *section)
{
    size_t i, n;

    for (i = 0; wx_config_known_sections[i]; i++) {
        n = strlen(wx_config_known_sections[i]);
        if (n && wx_config_known_sections[i][n - 1] == '.' ?
            strncmp(section, wx_config_known_sections[i], n) == 0 :
            strcmp(section, wx_config_known_sections[i]) == 0)
            return 1;
    }
    return 0;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
    wx_load_t *ld = user;
    const wx_config_spec_t *spec = ld->cfg->spec;
    size_t i, j;
    int matched = 0, strict = 0, rc;

    for (i = 0; i < spec->n_uses; i++) {
        const wx_config_use_t *u = &spec->uses[i];
        const wx_config_section_t *sec = u->section;
        size_t plen = strlen(sec->name);
        wx_inst_t *in = NULL;

        if (WX_SECTION_IS_NAMED(sec->kind)) {
            if (strncmp(section, sec->name, plen) != 0)
                continue;
            if ((in = named_item(ld, sec, use_slot(ld->cfg, u), section + plen)) == NULL)
                return 0;
        } else if (strcmp(section, sec->name) != 0) {
            continue;
        } else if (sec->kind == WX_SECTION_PAIRS) {
            return add_pair(ld, sec, use_slot(ld->cfg, u), name, value);
        }
        for (j = 0; in == NULL && j < ld->n_inst; j++)
            if (ld->inst[j].sec == sec && ld->inst[j].base == use_slot(ld->cfg, u))
                in = &ld->inst[j];
        matched = 1;
        strict |= sec->kind != WX_SECTION_PART && sec->kind != WX_SECTION_NAMED_PART;
        if ((rc = set_key(ld, in, name, value)) >= 0)
            return rc;
    }
    if (strict)
        seterr(ld, "[%s] has no setting '%s'", section, name);
    else if (!matched && !is_known(section))
        seterr(ld, "unknown section [%s]", section);
    return !ld->failed;
}

/* Read a NAME_file secret into 'slot': -1 with the error set.  A relative
 * path is taken relative to the config file. */
static int read_secret(wx_load_t *ld, const wx_inst_t *in, size_t i, char **slot)
{
    const char *file = in->file[i], *slash = strrchr(ld->cfg->path, '/');
    size_t dlen = file[0] == '/' || slash == NULL ? 0 : (size_t)(slash - ld->cfg->path) + 1;
    size_t len = 0, flen = strlen(file);
    char *path = malloc(dlen + flen + 1), *v;
    int err = 0;

    if (path == NULL)
        return -1;
    memcpy(path, ld->cfg->path, dlen);
    memcpy(path + dlen, file, flen + 1);
    v = slurp(path, WX_SECRET_MAX, &len, &err);
    if (v == NULL) {
        seterr(ld, "[%s%s] %s_file: cannot read %s: %s", in->sec->name, in->item,
               in->sec->settings[i].name, path, strerror(err));
        free(path);
        return -1;
    }
    free(path);
    /* Files written by editors and echo end in a newline. */
    while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
        v[--len] = '\0';
    free(*slot);
    *slot = v;
    return 0;
}

static int load_secrets(wx_load_t *ld)
{
    size_t k, i;

    for (k = 0; k < ld->n_inst; k++) {
        const wx_inst_t *in = &ld->inst[k];

        for (i = 0; i < in->sec->n_settings; i++) {
            const wx_setting_t *s = &in->sec->settings[i];
            char **slot = (char **)((char *)in->base + s->off);
            const char *env = s->env ? getenv(s->env) : NULL;

            if (!s->secret)
                continue;
            if (in->file[i] && *slot) {
                seterr(ld, "[%s%s] %s and %s_file are both set: keep one",
                       in->sec->name, in->item, s->name, s->name);
                return -1;
            }
            if (env && *env) {
                free(*slot);
                if ((*slot = strdup(env)) == NULL)
                    return -1;
            } else if (in->file[i] && read_secret(ld, in, i, slot) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int validate(wx_load_t *ld)
{
    const wx_config_spec_t *spec = ld->cfg->spec;
    size_t i, j;

    for (i = 0; i < spec->n_uses; i++) {
        const wx_config_section_t *sec = spec->uses[i].section;
        wx_conf_list_t *l = use_slot(ld->cfg, &spec->uses[i]);

        if (sec->validate == NULL)
            continue;
        if (!WX_SECTION_IS_NAMED(sec->kind)) {
            if (sec->validate(l, ld->err, ld->errlen) != 0)
                goto bad;
            continue;
        }
        for (j = 0; j < l->n; j++)
            if (sec->validate((char *)l->v + j * sec->size, ld->err, ld->errlen) != 0)
                goto bad;
    }
    if (spec->validate == NULL || spec->validate(ld->cfg, ld->err, ld->errlen) == 0)
        return 0;
bad:
    ld->failed = 1;
    return -1;
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

/* Prefix the message with where it happened: "FILE:LINE: " or "FILE: ". */
static void locate(char *err, size_t errlen, const char *path, int line)
{
    char tmp[256];

    snprintf(tmp, sizeof(tmp), "%s", err);
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s", path, line, tmp);
    else
        snprintf(err, errlen, "%s: %s", path, tmp);
}

static int parse(wx_load_t *ld, const char *path)
{
    char *text;
    size_t len;
    int rc, e = 0;

    text = slurp(path, WX_CONFIG_MAX_FILE, &len, &e);
    if (text == NULL) {
        seterr(ld, "cannot read config %s: %s", path, strerror(e));
        return -1;
    }
    if (check_lines(ld, text) != 0) {
        free(text);
        return -1;
    }
    rc = ini_parse_string(text, on_ini, ld);
    free(text);
    if (rc == 0)
        return 0;
    if (ld->failed)
        locate(ld->err, ld->errlen, path, rc);
    else
        seterr(ld, "%s:%d: syntax error (expected [section] or key = value)", path, rc);
    return -1;
}

wx_config_t *wx_config_load(const wx_config_spec_t *spec, const char *path,
                            char *err, size_t errlen)
{
    wx_load_t ld;
    size_t i, k;

    memset(&ld, 0, sizeof(ld));
    ld.err = err;
    ld.errlen = errlen;
    ld.cfg = calloc(1, spec->size);
    if (ld.cfg == NULL || (ld.cfg->path = strdup(path)) == NULL) {
        seterr(&ld, "out of memory");
        goto fail;
    }
    ld.cfg->spec = spec;
    for (i = 0; i < spec->n_uses; i++) {
        const wx_config_section_t *sec = spec->uses[i].section;
        void *slot = use_slot(ld.cfg, &spec->uses[i]);

        if (WX_SECTION_IS_NAMED(sec->kind) || sec->kind == WX_SECTION_PAIRS)
            continue;
        if (apply_defaults(&ld, sec, slot) != 0)
            goto fail;
        if (add_inst(&ld, sec, "", slot) == NULL) {
            seterr(&ld, "out of memory");
            goto fail;
        }
    }
    if (parse(&ld, path) != 0)
        goto fail;
    if (load_secrets(&ld) != 0 || validate(&ld) != 0) {
        if (!ld.failed)
            seterr(&ld, "out of memory");
        /* Name the file too, for messages that were not about a line. */
        if (strncmp(err, path, strlen(path)) != 0)
            locate(err, errlen, path, 0);
        goto fail;
    }
    goto out;
fail:
    wx_config_free(ld.cfg);
    ld.cfg = NULL;
out:
    for (k = 0; k < ld.n_inst; k++)
        for (i = 0; i < WX_CONF_MAX_SETTINGS; i++)
            free(ld.inst[k].file[i]);
    free(ld.inst);
    return ld.cfg;
}

static void free_struct(const wx_config_section_t *sec, void *base)
{
    size_t i;

    for (i = 0; i < sec->n_settings; i++) {
        const wx_setting_t *s = &sec->settings[i];
        char **sp = (char **)((char *)base + s->off);

        if (s->type != WX_CONF_STR && s->type != WX_CONF_TEXT && s->type != WX_CONF_WORDS)
            continue;
        /* Secrets do not linger in freed memory. */
        if (s->secret && *sp)
            explicit_bzero(*sp, strlen(*sp));
        free(*sp);
        *sp = NULL;
    }
}

static void free_list(const wx_config_section_t *sec, wx_conf_list_t *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        char *item = (char *)l->v + i * (sec->kind == WX_SECTION_PAIRS ?
                                         sizeof(wx_conf_pair_t) : sec->size);

        if (sec->kind == WX_SECTION_PAIRS)
            free(((wx_conf_pair_t *)(void *)item)->text);
        else
            free_struct(sec, item);
        free(*(char **)item);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void wx_config_free(wx_config_t *cfg)
{
    const wx_config_spec_t *spec;
    size_t i;

    if (cfg == NULL)
        return;
    spec = cfg->spec;
    for (i = 0; spec && i < spec->n_uses; i++) {
        const wx_config_section_t *sec = spec->uses[i].section;
        void *slot = use_slot(cfg, &spec->uses[i]);

        if (WX_SECTION_IS_NAMED(sec->kind) || sec->kind == WX_SECTION_PAIRS)
            free_list(sec, slot);
        else
            free_struct(sec, slot);
    }
    free(cfg->path);
    free(cfg);
}
