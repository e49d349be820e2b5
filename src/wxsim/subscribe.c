/*
 * subscribe.c - subscription messages (PROTOCOL.md 14): the template
 * library (categories, titles, their keywords), the account's own
 * templates made from it, and bizsend, which needs one opt-in of the
 * follower per message (43101 otherwise) and values that keep their
 * keyword's rule (47003).  Opt-ins come from /sim/subscribe, as the
 * follower's popup would give them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxsim.h"

#define SUB_MAX     50

static const struct {
    int         id;
    const char *name;
} categories[] = { { 616, "公交" }, { 672, "餐饮" } };

static const struct {
    int         tid, category;
    const char *title;
    struct { int kid; const char *name, *example, *rule; } kw[4];
} titles[] = {
    { 99, 672, "付款成功通知", { { 1, "物品名称", "咖啡", "thing" }, { 2, "付款金额", "25.00元", "amount" },
                                 { 3, "付款时间", "2024年5月1日 12:00", "time" }, { 4, "单号", "A1234", "character_string" } } },
    { 214, 616, "乘车提醒", { { 1, "线路", "1路", "thing" }, { 2, "到站时间", "12:00", "time" },
                             { 3, "状态", "即将到站", "phrase" }, { 0, NULL, NULL, NULL } } },
};
#define N_TITLES (sizeof(titles) / sizeof(titles[0]))

void wxsim_sub_category(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array();
    size_t i;

    (void)sim;
    for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
        json_array_append_new(list, json_pack("{s:i,s:s}", "id", categories[i].id,
                                              "name", categories[i].name));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:o}", "errcode", 0, "errmsg", "ok", "data", list));
}

void wxsim_sub_titles(wxsim_t *sim, wxsim_req_t *rq)
{
    char ids[128] = "", buf[24], *p;
    json_t *list = json_array();
    size_t i;

    (void)sim;
    wxsim_query_get(rq->query, "ids", ids, sizeof(ids));
    for (i = 0; i < N_TITLES; i++) {
        snprintf(buf, sizeof(buf), "%d", titles[i].category);
        /* ids: comma-separated categories; absent = all. */
        if (ids[0] && ((p = strstr(ids, buf)) == NULL ||
                       (p != ids && p[-1] != ',') || (p[strlen(buf)] && p[strlen(buf)] != ',')))
            continue;
        json_array_append_new(list, json_pack("{s:i,s:s,s:i,s:s}", "tid", titles[i].tid,
                                              "title", titles[i].title, "type", 2,
                                              "categoryId", buf));
    }
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:o}", "errcode", 0, "errmsg", "ok",
                                   "count", (json_int_t)json_array_size(list), "data", list));
}

static int title_index(long tid)
{
    size_t i;

    for (i = 0; i < N_TITLES; i++)
        if (titles[i].tid == tid)
            return (int)i;
    return -1;
}

void wxsim_sub_keywords(wxsim_t *sim, wxsim_req_t *rq)
{
    char tid[16];
    json_t *list;
    int t = -1, k;

    (void)sim;
    if (wxsim_query_get(rq->query, "tid", tid, sizeof(tid)) > 0)
        t = title_index(strtol(tid, NULL, 10));
    if (t < 0) {
        wxsim_reply_err(rq, 47003, "argument invalid! tid");
        return;
    }
    list = json_array();
    for (k = 0; k < 4 && titles[t].kw[k].name; k++)
        json_array_append_new(list, json_pack("{s:i,s:s,s:s,s:s}", "kid", titles[t].kw[k].kid,
                                              "name", titles[t].kw[k].name,
                                              "example", titles[t].kw[k].example,
                                              "rule", titles[t].kw[k].rule));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:o}", "errcode", 0, "errmsg", "ok",
                                   "count", (json_int_t)json_array_size(list), "data", list));
}

/* The template's content and its keys ("thing1" ...) from kidList: 0, or
 * -1 when a kid is not the title's. */
static int compose(int t, json_t *kids, char *content, size_t cap, json_t *keys)
{
    size_t i, len = 0;
    char key[48];
    json_t *v;
    int k;

    json_array_foreach(kids, i, v) {
        for (k = 0; k < 4 && titles[t].kw[k].name; k++)
            if (json_integer_value(v) == titles[t].kw[k].kid)
                break;
        if (k == 4 || titles[t].kw[k].name == NULL)
            return -1;
        snprintf(key, sizeof(key), "%s%d", titles[t].kw[k].rule, titles[t].kw[k].kid);
        json_object_set_new(keys, key, json_string(titles[t].kw[k].rule));
        len += (size_t)snprintf(content + len, len < cap ? cap - len : 0, "%s:{{%s.DATA}}\n",
                                titles[t].kw[k].name, key);
    }
    return len < cap ? 0 : -1;
}

void wxsim_sub_add(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *kids, *keys = NULL, *tidv;
    char content[512], id[44];
    long tid;
    int t;

    if (body == NULL)
        return;
    tidv = json_object_get(body, "tid");
    tid = json_is_string(tidv) ? strtol(json_string_value(tidv), NULL, 10) :
          (long)json_integer_value(tidv);
    kids = json_object_get(body, "kidList");
    if ((t = title_index(tid)) < 0) {
        wxsim_reply_err(rq, 47003, "argument invalid! tid");
        goto out;
    }
    keys = json_object();
    if (!json_is_array(kids) || json_array_size(kids) < 2 || json_array_size(kids) > 5 ||
        compose(t, kids, content, sizeof(content), keys) != 0) {
        wxsim_reply_err(rq, 47003, "argument invalid! kidList: 2 to 5 keywords of the title");
        goto out;
    }
    if (json_array_size(sim->sub_tmpl) >= SUB_MAX) {
        wxsim_reply_err(rq, 45026, "template size out of limit (%d at most)", SUB_MAX);
        goto out;
    }
    wxsim_random_id(id, 43);
    json_array_append_new(sim->sub_tmpl, json_pack("{s:s,s:s,s:s,s:s,s:i,s:O}", "priTmplId", id,
                                                   "title", titles[t].title, "content", content,
                                                   "example", "", "type", 2, "keys", keys));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:s}", "errcode", 0, "errmsg", "ok", "priTmplId", id));
out:
    json_decref(keys);
    json_decref(body);
}

void wxsim_sub_list(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array(), *t;
    size_t i;

    json_array_foreach(sim->sub_tmpl, i, t)
        json_array_append_new(list, json_pack("{s:O,s:O,s:O,s:O,s:O}",
                                              "priTmplId", json_object_get(t, "priTmplId"),
                                              "title", json_object_get(t, "title"),
                                              "content", json_object_get(t, "content"),
                                              "example", json_object_get(t, "example"),
                                              "type", json_object_get(t, "type")));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:o}", "errcode", 0, "errmsg", "ok", "data", list));
}

static json_t *sub_find(const wxsim_t *sim, const char *id, size_t *index)
{
    json_t *t;
    size_t i;

    json_array_foreach(sim->sub_tmpl, i, t) {
        if (id && strcmp(wxsim_json_str(t, "priTmplId"), id) == 0) {
            if (index)
                *index = i;
            return t;
        }
    }
    return NULL;
}

void wxsim_sub_del(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    size_t i;

    if (body == NULL)
        return;
    if (sub_find(sim, wxsim_json_str(body, "priTmplId"), &i) == NULL) {
        wxsim_reply_err(rq, 40037, "invalid template_id");
    } else {
        json_array_remove(sim->sub_tmpl, i);
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A value that keeps its rule: thing 20 characters, phrase 5,
 * character_string and number 32 of their alphabets, others 20. */
static int value_ok(const char *rule, const char *v)
{
    size_t n = utf8_chars(v);

    if (n == 0)
        return 0;
    if (strcmp(rule, "phrase") == 0)
        return n <= 5;
    if (strcmp(rule, "number") == 0)
        return n <= 32 && strspn(v, "0123456789.") == strlen(v);
    if (strcmp(rule, "character_string") == 0)
        return n <= 32 && strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == strlen(v);
    return n <= 20;
}

/* data against the template's keys: 0, or -1 after answering 47003. */
static int check_data(wxsim_req_t *rq, json_t *keys, json_t *data)
{
    const char *k, *v;
    json_t *e;

    if (!json_is_object(data)) {
        wxsim_reply_err(rq, 47001, "data format error: data");
        return -1;
    }
    json_object_foreach(keys, k, e) {
        v = wxsim_json_str(json_object_get(data, k), "value");
        if (v == NULL || !value_ok(json_string_value(e), v)) {
            wxsim_reply_err(rq, 47003, "argument invalid! data.%s.value breaks rule %s", k,
                            json_string_value(e));
            return -1;
        }
    }
    return 0;
}

void wxsim_sub_send(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *t, *left;
    const char *to, *tid;
    char key[192];

    if (body == NULL)
        return;
    to = wxsim_json_str(body, "touser");
    tid = wxsim_json_str(body, "template_id");
    if (wxsim_user_follower(sim, to) == NULL) {
        wxsim_reply_err(rq, 40003, "invalid openid");
        goto out;
    }
    if ((t = sub_find(sim, tid, NULL)) == NULL) {
        wxsim_reply_err(rq, 40037, "invalid template_id");
        goto out;
    }
    if (check_data(rq, json_object_get(t, "keys"), json_object_get(body, "data")) != 0)
        goto out;
    snprintf(key, sizeof(key), "%.64s %.64s", to, tid);
    left = json_object_get(sim->sub_optin, key);
    if (json_integer_value(left) <= 0) {
        wxsim_reply_err(rq, 43101, "user refuse to accept the msg");
        goto out;
    }
    json_integer_set(left, json_integer_value(left) - 1);
    json_array_append(sim->sub_sent, body);
    wxsim_reply_ok(rq);
out:
    json_decref(body);
}

void wxsim_sub_ctl(wxsim_t *sim, wxsim_req_t *rq, json_t *body)
{
    const char *to, *tid;
    char key[192];
    json_t *left;

    if (body == NULL) {
        wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:O}", "errcode", 0, "errmsg", "ok",
                                       "count", (json_int_t)json_array_size(sim->sub_sent),
                                       "messages", sim->sub_sent));
        return;
    }
    to = wxsim_json_str(body, "openid");
    tid = wxsim_json_str(body, "template_id");
    if (wxsim_user_follower(sim, to) == NULL || sub_find(sim, tid, NULL) == NULL) {
        rq->status = 400;
        wxsim_reply_err(rq, 47003, "an opt-in needs a follower and a template of the account");
        return;
    }
    snprintf(key, sizeof(key), "%.64s %.64s", to, tid);
    left = json_object_get(sim->sub_optin, key);
    json_object_set_new(sim->sub_optin, key, json_integer(json_integer_value(left) + 1));
    wxsim_reply_ok(rq);
}
