/*
 * upstream_json.c - the JSON of the upstream handler, both ways
 * (contract: upstream_json.h): the message to the business service, its
 * answer to a reply, a reply to a customer-service message.  Pure: no
 * process, no network, no clock.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "wxfcgi/upstream_json.h"

/* --- the message as JSON ------------------------------------------------ */

struct wx_up_field {
    const char *parent, *grand;     /* enclosing elements, or NULL */
    const char *name;
    size_t      off;
    int         json;               /* 0: the parser's alone */
};

#define F(parent, grand, name, member, json) \
    { parent, grand, name, offsetof(wx_msg_t, member), json },
static const struct wx_up_field wx_up_fields[] = {
    WX_MSG_FIELDS(F)
};
#undef F

/* Leaves that repeat (parse.c keeps each as an item whose list is itself). */
static int is_repeated_leaf(wx_str_t list)
{
    return wx_str_eq(list, "fail_idx");
}

/* The element that opens each member of the group held by 'list' (parse.c
 * records the holder, not the member). */
static const char *member_name(wx_str_t list)
{
    if (wx_str_eq(list, "AroundBeacons"))
        return "AroundBeacon";
    if (list.len > 12 && memcmp(list.data, "SubscribeMsg", 12) == 0)
        return "List";
    return "item";
}

/* obj[name] as an object, created when absent; NULL on ENOMEM. */
static json_t *sub(json_t *obj, const char *name)
{
    json_t *o = json_object_get(obj, name);

    if (json_is_object(o))
        return o;
    o = json_object();
    if (o == NULL || json_object_set_new(obj, name, o) != 0)
        return NULL;
    return o;
}

/* obj[name] as an array, created when absent; NULL on ENOMEM. */
static json_t *sub_array(json_t *obj, const char *name)
{
    json_t *a = json_object_get(obj, name);

    if (json_is_array(a))
        return a;
    a = json_array();
    if (a == NULL || json_object_set_new(obj, name, a) != 0)
        return NULL;
    return a;
}

static json_t *jstr(wx_str_t v)
{
    return json_stringn(v.data ? v.data : "", v.len);
}

/* A counted string as a C string for jansson's keys (names come from our
 * own table or from parse.c's bounded element names). */
static int cname(char *dst, size_t cap, wx_str_t s)
{
    if (s.data == NULL || s.len == 0 || s.len >= cap)
        return -1;
    memcpy(dst, s.data, s.len);
    dst[s.len] = '\0';
    return 0;
}

static int put_items(json_t *root, const wx_msg_t *msg)
{
    const wx_msg_item_t *it;

    for (it = msg->items; it; it = it->next) {
        char owner[64], list[64];
        json_t *o = root, *a, *v;
        const wx_msg_field_t *f;

        if (cname(list, sizeof(list), it->list) != 0)
            continue;
        if (!wx_str_eq(it->owner, "xml")) {
            if (cname(owner, sizeof(owner), it->owner) != 0)
                continue;
            if ((o = sub(root, owner)) == NULL)
                return -1;
        }
        if (is_repeated_leaf(it->list)) {
            if ((a = sub_array(o, list)) == NULL ||
                json_array_append_new(a, jstr(it->value)) != 0)
                return -1;
            continue;
        }
        if ((o = sub(o, list)) == NULL || (a = sub_array(o, member_name(it->list))) == NULL)
            return -1;
        if ((v = json_object()) == NULL || json_array_append_new(a, v) != 0)
            return -1;
        for (f = it->fields; f; f = f->next) {
            char name[64];

            if (cname(name, sizeof(name), f->name) == 0 &&
                json_object_set_new(v, name, jstr(f->value)) != 0)
                return -1;
        }
    }
    return 0;
}

json_t *wx_upstream_msg_json(const wx_msg_t *msg)
{
    json_t *root = json_object();
    size_t i;

    if (root == NULL)
        return NULL;
    for (i = 0; i < sizeof(wx_up_fields) / sizeof(wx_up_fields[0]); i++) {
        const struct wx_up_field *m = &wx_up_fields[i];
        wx_str_t v = *(const wx_str_t *)((const char *)msg + m->off);
        json_t *o = root;

        if (!m->json || v.data == NULL)
            continue;
        if (m->grand && (o = sub(o, m->grand)) == NULL)
            goto nomem;
        if (m->parent && (o = sub(o, m->parent)) == NULL)
            goto nomem;
        if (json_object_set_new(o, m->name, jstr(v)) != 0)
            goto nomem;
    }
    if (msg->create_time_s.data &&
        json_object_set_new(root, "CreateTime", json_integer(msg->create_time)) != 0)
        goto nomem;
    if (put_items(root, msg) != 0)
        goto nomem;
    return root;
nomem:
    json_decref(root);
    return NULL;
}

/* --- the answer as a reply ---------------------------------------------- */

typedef struct {
    json_t     *obj;
    const char *type;
    wx_pool_t  *pool;
    char       *why;
    size_t      whylen;
    wx_err_t    rc;
} wx_up_parse_t;

/* obj[name] into *out: 0, or -1 with the reason (absent and required,
 * not a string, or empty and required). */
static int field(wx_up_parse_t *p, json_t *obj, const char *name, int required,
                 wx_str_t *out)
{
    json_t *v = json_object_get(obj, name);
    char *d;

    *out = WX_NULL_STR;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(p->why, p->whylen, "\"%s\" is missing for type %s", name, p->type);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    if (!json_is_string(v)) {
        snprintf(p->why, p->whylen, "\"%s\" is not a string", name);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    if (required > 1 && json_string_length(v) == 0) {
        snprintf(p->why, p->whylen, "\"%s\" is empty for type %s", name, p->type);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    d = wx_pool_strndup(p->pool, json_string_value(v), json_string_length(v));
    if (d == NULL) {
        snprintf(p->why, p->whylen, "request arena full");
        p->rc = WX_ENOMEM;
        return -1;
    }
    *out = (wx_str_t){ json_string_length(v), d };
    return 0;
}

#define OPTIONAL    0
#define REQUIRED    1       /* present, may be empty */
#define NONEMPTY    2

static int parse_news(wx_up_parse_t *p, wx_reply_t *r)
{
    json_t *arts = json_object_get(p->obj, "articles");
    wx_article_t *a;
    size_t i, n;

    if (!json_is_array(arts) || json_array_size(arts) == 0) {
        snprintf(p->why, p->whylen, "\"articles\" is not a non-empty array");
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    /* Extras beyond the protocol's most are dropped here; the reply writer
     * cuts further to 1 for a follower's message (PROTOCOL.md 3.2). */
    n = json_array_size(arts);
    if (n > WX_REPLY_NEWS_MAX)
        n = WX_REPLY_NEWS_MAX;
    a = wx_pool_alloc(p->pool, n * sizeof(*a));
    if (a == NULL) {
        snprintf(p->why, p->whylen, "request arena full");
        p->rc = WX_ENOMEM;
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_t *o = json_array_get(arts, i);

        if (!json_is_object(o)) {
            snprintf(p->why, p->whylen, "article %zu is not an object", i + 1);
            p->rc = WX_EUPSTREAM;
            return -1;
        }
        if (field(p, o, "title", OPTIONAL, &a[i].title) ||
            field(p, o, "description", OPTIONAL, &a[i].description) ||
            field(p, o, "picurl", OPTIONAL, &a[i].pic_url) ||
            field(p, o, "url", OPTIONAL, &a[i].url))
            return -1;
    }
    r->articles = a;
    r->n_articles = n;
    return 0;
}

static int parse_typed(wx_up_parse_t *p, wx_reply_t *r)
{
    const char *t = p->type;
    json_t *o = p->obj;

    if (strcmp(t, "success") == 0)
        return 0;
    if (strcmp(t, "text") == 0) {
        r->type = WX_REPLY_TEXT;
        return field(p, o, "content", REQUIRED, &r->content);
    }
    if (strcmp(t, "image") == 0 || strcmp(t, "voice") == 0) {
        r->type = t[0] == 'i' ? WX_REPLY_IMAGE : WX_REPLY_VOICE;
        return field(p, o, "media_id", NONEMPTY, &r->media_id);
    }
    if (strcmp(t, "video") == 0) {
        r->type = WX_REPLY_VIDEO;
        return field(p, o, "media_id", NONEMPTY, &r->media_id) ||
               field(p, o, "title", OPTIONAL, &r->title) ||
               field(p, o, "description", OPTIONAL, &r->description) ||
               field(p, o, "thumb_media_id", OPTIONAL, &r->thumb_media_id);
    }
    if (strcmp(t, "music") == 0) {
        r->type = WX_REPLY_MUSIC;
        return field(p, o, "thumb_media_id", NONEMPTY, &r->thumb_media_id) ||
               field(p, o, "title", OPTIONAL, &r->title) ||
               field(p, o, "description", OPTIONAL, &r->description) ||
               field(p, o, "music_url", OPTIONAL, &r->music_url) ||
               field(p, o, "hq_music_url", OPTIONAL, &r->hq_music_url);
    }
    if (strcmp(t, "news") == 0) {
        r->type = WX_REPLY_NEWS;
        return parse_news(p, r);
    }
    if (strcmp(t, "transfer_customer_service") == 0) {
        r->type = WX_REPLY_TRANSFER;
        return field(p, o, "kf_account", OPTIONAL, &r->kf_account);
    }
    snprintf(p->why, p->whylen, "unknown type \"%.40s\"", t);
    p->rc = WX_EUPSTREAM;
    return -1;
}

wx_err_t wx_upstream_reply_parse(const char *body, size_t len, wx_pool_t *pool,
                                 wx_reply_t *reply, char *why, size_t whylen)
{
    wx_up_parse_t p = { NULL, "", pool, why, whylen, WX_OK };
    json_error_t jerr;
    json_t *type;
    size_t i;

    memset(reply, 0, sizeof(*reply));
    why[0] = '\0';
    for (i = 0; i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
            break;
    if (i == len)
        return WX_OK;           /* an empty answer: no reply */
    p.obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (p.obj == NULL) {
        snprintf(why, whylen, "not JSON: %s at line %d", jerr.text, jerr.line);
        return WX_EUPSTREAM;
    }
    if (!json_is_object(p.obj)) {
        snprintf(why, whylen, "the answer is not a JSON object");
        p.rc = WX_EUPSTREAM;
        goto out;
    }
    type = json_object_get(p.obj, "type");
    if (!json_is_string(type)) {
        snprintf(why, whylen, "\"type\" is %s", type ? "not a string" : "missing");
        p.rc = WX_EUPSTREAM;
        goto out;
    }
    p.type = json_string_value(type);
    if (parse_typed(&p, reply) != 0)
        memset(reply, 0, sizeof(*reply));
out:
    json_decref(p.obj);
    return p.rc;
}

/* --- the reply as a customer-service message ---------------------------- */

static int set_str(json_t *o, const char *name, wx_str_t v)
{
    if (v.data == NULL)
        return 0;
    return json_object_set_new(o, name, jstr(v));
}

json_t *wx_upstream_custom_json(const wx_reply_t *r, wx_str_t touser)
{
    const char *kind;
    json_t *root, *body;
    int bad = 0;

    switch (r->type) {
    case WX_REPLY_TEXT:  kind = "text";  break;
    case WX_REPLY_IMAGE: kind = "image"; break;
    case WX_REPLY_VOICE: kind = "voice"; break;
    case WX_REPLY_VIDEO: kind = "video"; break;
    case WX_REPLY_MUSIC: kind = "music"; break;
    case WX_REPLY_NEWS:  kind = "news";  break;
    default:             return NULL;   /* success, transfer: nothing */
    }
    root = json_object();
    body = json_object();
    if (root == NULL || body == NULL) {
        json_decref(root);
        json_decref(body);
        return NULL;
    }
    bad |= json_object_set_new(root, "touser", jstr(touser));
    bad |= json_object_set_new(root, "msgtype", json_string(kind));
    bad |= json_object_set_new(root, kind, body);
    switch (r->type) {
    case WX_REPLY_TEXT:
        bad |= json_object_set_new(body, "content", jstr(r->content));
        break;
    case WX_REPLY_IMAGE:
    case WX_REPLY_VOICE:
        bad |= set_str(body, "media_id", r->media_id);
        break;
    case WX_REPLY_VIDEO:
        bad |= set_str(body, "media_id", r->media_id);
        bad |= set_str(body, "thumb_media_id", r->thumb_media_id);
        bad |= set_str(body, "title", r->title);
        bad |= set_str(body, "description", r->description);
        break;
    case WX_REPLY_MUSIC:
        bad |= set_str(body, "title", r->title);
        bad |= set_str(body, "description", r->description);
        bad |= set_str(body, "musicurl", r->music_url);
        bad |= set_str(body, "hqmusicurl", r->hq_music_url);
        bad |= set_str(body, "thumb_media_id", r->thumb_media_id);
        break;
    case WX_REPLY_NEWS: {
        /* One article: the limit of a customer-service news message. */
        json_t *arts = json_array(), *a = json_object();

        bad |= arts == NULL || a == NULL;
        if (!bad && r->n_articles > 0) {
            bad |= set_str(a, "title", r->articles[0].title);
            bad |= set_str(a, "description", r->articles[0].description);
            bad |= set_str(a, "url", r->articles[0].url);
            bad |= set_str(a, "picurl", r->articles[0].pic_url);
            bad |= json_array_append(arts, a);
        }
        json_decref(a);
        bad |= json_object_set_new(body, "articles", arts);
        break;
    }
    default:
        break;
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
