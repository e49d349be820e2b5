/* config_diff.c - which keys two loads of a config differ in
 * (wx_config_diff in wx/core/config.h). */
#include <stdio.h>
#include <string.h>

#include "wx/core/config.h"

static int same_value(const wx_setting_t *s, const char *a, const char *b)
{
    const void *x = a + s->off, *y = b + s->off;

    switch (s->type) {
    case WX_CONF_STR:
    case WX_CONF_TEXT:
    case WX_CONF_WORDS: {
        const char *p = *(char *const *)x, *q = *(char *const *)y;

        return p == q || (p && q && strcmp(p, q) == 0);
    }
    case WX_CONF_ULONG:
        return *(const unsigned long *)x == *(const unsigned long *)y;
    case WX_CONF_SIZE:
        return *(const size_t *)x == *(const size_t *)y;
    case WX_CONF_LEVEL:
        return *(const wx_log_level_t *)x == *(const wx_log_level_t *)y;
    default:    /* UINT, OCTAL, ENUM */
        return *(const unsigned *)x == *(const unsigned *)y;
    }
}

static void add(char *out, size_t len, const char *sec, const char *key)
{
    size_t n = strlen(out);

    if (n + 1 < len)
        snprintf(out + n, len - n, "%s[%s]%s%s", n ? ", " : "", sec, key ? " " : "",
                 key ? key : "");
}

/* Every setting of one struct of 'sec'. */
static void diff_struct(const wx_config_section_t *sec, const char *a, const char *b,
                        char *out, size_t len)
{
    size_t i;

    for (i = 0; i < sec->n_settings; i++)
        if (!same_value(&sec->settings[i], a, b))
            add(out, len, sec->name, sec->settings[i].name);
}

static int same_list(const wx_config_section_t *sec, const wx_conf_list_t *x,
                     const wx_conf_list_t *y)
{
    size_t i, k;

    if (x->n != y->n)
        return 0;
    for (i = 0; i < x->n; i++) {
        const char *a = (const char *)x->v + i * sec->size;
        const char *b = (const char *)y->v + i * sec->size;

        if (sec->kind == WX_SECTION_PAIRS) {
            const wx_conf_pair_t *p = (const void *)a, *q = (const void *)b;

            if (strcmp(p->name, q->name) != 0 || strcmp(p->text ? p->text : "",
                                                        q->text ? q->text : "") != 0)
                return 0;
            continue;
        }
        if (strcmp(*(char *const *)(const void *)a, *(char *const *)(const void *)b) != 0)
            return 0;
        for (k = 0; k < sec->n_settings; k++)
            if (!same_value(&sec->settings[k], a, b))
                return 0;
    }
    return 1;
}

const char *wx_config_diff(const wx_config_t *old, const wx_config_t *cur, char *out,
                           size_t len)
{
    const wx_config_spec_t *spec = cur->spec;
    size_t u;

    out[0] = '\0';
    for (u = 0; u < spec->n_uses; u++) {
        const wx_config_section_t *sec = spec->uses[u].section;
        const char *a = (const char *)old + spec->uses[u].off;
        const char *b = (const char *)cur + spec->uses[u].off;

        if (sec->kind == WX_SECTION_ONE || sec->kind == WX_SECTION_PART)
            diff_struct(sec, a, b, out, len);
        else if (!same_list(sec, (const wx_conf_list_t *)(const void *)a,
                            (const wx_conf_list_t *)(const void *)b))
            add(out, len, sec->name, NULL);
    }
    return out[0] ? out : "nothing";
}
