/* route_tmpl.c - text templates and news articles of static route replies
 * (wxfcgi/route_tmpl.h). */
#include <stdlib.h>
#include <string.h>

#include "wxfcgi/route_tmpl.h"

/* The short names of the common fields; every element of the message's
 * root (WX_MSG_FIELDS) may also be named as WeChat spells it. */
static const struct {
    const char *name;
    size_t      off;
} wx_tmpl_fields[] = {
    { "from",        offsetof(wx_msg_t, from_user) },
    { "to",          offsetof(wx_msg_t, to_user) },
    { "content",     offsetof(wx_msg_t, content) },
    { "type",        offsetof(wx_msg_t, msg_type) },
    { "event",       offsetof(wx_msg_t, event_name) },
    { "event_key",   offsetof(wx_msg_t, event_key) },
    { "msg_id",      offsetof(wx_msg_t, msg_id_s) },
    { "create_time", offsetof(wx_msg_t, create_time_s) },
    { "scene",       WX_TMPL_SCENE },
#define WX_TMPL_ROOT(parent, grand, name, member, json) \
    { (parent) == NULL ? (name) : "", offsetof(wx_msg_t, member) },
    WX_MSG_FIELDS(WX_TMPL_ROOT)
#undef WX_TMPL_ROOT
};

#define WX_TMPL_N_FIELDS (sizeof(wx_tmpl_fields) / sizeof(wx_tmpl_fields[0]))

const char *wx_tmpl_field_names(void)
{
    return "from, to, content, type, event, event_key, msg_id, create_time, scene, "
           "or an element of the message as WeChat spells it (FromUserName, Label, ...)";
}

static int field_off(const char *name, size_t len, size_t *off)
{
    size_t i;

    for (i = 0; i < WX_TMPL_N_FIELDS; i++)
        if (wx_tmpl_fields[i].name[0] && strlen(wx_tmpl_fields[i].name) == len &&
            memcmp(wx_tmpl_fields[i].name, name, len) == 0) {
            *off = wx_tmpl_fields[i].off;
            return 0;
        }
    return -1;
}

static int add_part(wx_tmpl_t *t, size_t *cap, size_t off, const char *lit, size_t len)
{
    if (off == WX_TMPL_LIT && len == 0)
        return 0;
    if (t->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 8;
        wx_tmpl_part_t *v = realloc(t->v, ncap * sizeof(*v));

        if (v == NULL)
            return -1;
        t->v = v;
        *cap = ncap;
    }
    t->v[t->n].off = off;
    t->v[t->n].lit = (wx_str_t){ len, lit };
    t->n++;
    if (off != WX_TMPL_LIT)
        t->fields = 1;
    return 0;
}

int wx_tmpl_compile(wx_tmpl_t *t, const char *src, char *err, size_t errlen)
{
    const char *p = src, *open, *close;
    size_t cap = 0, off;

    memset(t, 0, sizeof(*t));
    while ((open = strstr(p, "{{")) != NULL) {
        close = strstr(open + 2, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "'{{' without '}}'");
            goto fail;
        }
        if (field_off(open + 2, (size_t)(close - open - 2), &off) != 0) {
            snprintf(err, errlen, "unknown field {{%.*s}} (known: %s)",
                     (int)(close - open - 2 > 64 ? 64 : close - open - 2), open + 2,
                     wx_tmpl_field_names());
            goto fail;
        }
        if (add_part(t, &cap, WX_TMPL_LIT, p, (size_t)(open - p)) != 0 ||
            add_part(t, &cap, off, NULL, 0) != 0)
            goto nomem;
        p = close + 2;
    }
    if (add_part(t, &cap, WX_TMPL_LIT, p, strlen(p)) != 0)
        goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    wx_tmpl_free(t);
    return -1;
}

void wx_tmpl_free(wx_tmpl_t *t)
{
    free(t->v);
    memset(t, 0, sizeof(*t));
}

wx_str_t wx_tmpl_scene(const wx_msg_t *msg)
{
    static const char pre[] = "qrscene_";
    wx_str_t k = msg->event_key;

    if (msg->event == WX_EV_SCAN)
        return k;
    if (msg->event == WX_EV_SUBSCRIBE && k.len >= sizeof(pre) - 1 &&
        memcmp(k.data, pre, sizeof(pre) - 1) == 0)
        return (wx_str_t){ k.len - (sizeof(pre) - 1), k.data + sizeof(pre) - 1 };
    return WX_NULL_STR;
}

static wx_str_t part_value(const wx_tmpl_part_t *pt, const wx_msg_t *msg)
{
    if (pt->off == WX_TMPL_LIT)
        return pt->lit;
    if (pt->off == WX_TMPL_SCENE)
        return wx_tmpl_scene(msg);
    return *(const wx_str_t *)(const void *)((const char *)msg + pt->off);
}

wx_str_t wx_tmpl_render(const wx_tmpl_t *t, const wx_msg_t *msg, wx_pool_t *pool)
{
    size_t i, len = 0;
    char *dst, *d;

    for (i = 0; i < t->n; i++)
        len += part_value(&t->v[i], msg).len;
    d = dst = wx_pool_alloc(pool, len + 1);
    if (dst == NULL)
        return WX_NULL_STR;
    for (i = 0; i < t->n; i++) {
        wx_str_t v = part_value(&t->v[i], msg);

        if (v.len)
            memcpy(d, v.data, v.len);
        d += v.len;
    }
    *d = '\0';
    return (wx_str_t){ len, dst };
}

/* The next '|'-separated field of [*p, end), blanks around it trimmed. */
static wx_str_t next_field(char **p, char *end)
{
    char *s = *p, *bar, *e;

    bar = memchr(s, '|', (size_t)(end - s));
    e = bar ? bar : end;
    *p = bar ? bar + 1 : end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    return (wx_str_t){ (size_t)(e - s), s };
}

int wx_tmpl_articles(const char *src, wx_article_t **out, size_t *n, char **store,
                     char *err, size_t errlen)
{
    char *copy = strdup(src), *line, *next;
    wx_article_t *v = calloc(WX_REPLY_NEWS_MAX, sizeof(*v));
    size_t k = 0;

    if (copy == NULL || v == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (line = copy; *line; line = next) {
        char *end = strchr(line, '\n'), *p = line;

        next = end ? end + 1 : line + strlen(line);
        end = end ? end : next;
        if (line == end)
            continue;
        if (k == WX_REPLY_NEWS_MAX) {
            snprintf(err, errlen, "more than %d articles", WX_REPLY_NEWS_MAX);
            goto fail;
        }
        v[k].title = next_field(&p, end);
        v[k].description = next_field(&p, end);
        v[k].pic_url = next_field(&p, end);
        v[k].url = next_field(&p, end);
        if (p != end) {
            snprintf(err, errlen, "article %zu has more than 4 fields "
                     "(title | description | pic_url | url)", k + 1);
            goto fail;
        }
        if (v[k].title.len == 0) {
            snprintf(err, errlen, "article %zu has no title", k + 1);
            goto fail;
        }
        k++;
    }
    if (k == 0) {
        snprintf(err, errlen, "no article (title | description | pic_url | url)");
        goto fail;
    }
    *out = v;
    *n = k;
    *store = copy;
    return 0;
fail:
    free(copy);
    free(v);
    return -1;
}
