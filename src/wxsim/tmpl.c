/*
 * tmpl.c - template-message management (PROTOCOL.md 15): the account's
 * two industries (changed once in 30 days), and its private templates
 * added from the library by short id (TM... or OPENTM...), 25 at most.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxsim.h"

#define INDUSTRY_MAX        41          /* the platform's industry codes 1-41 */
#define INDUSTRY_EVERY      (30 * 86400)
#define PRIVATE_MAX         25

/* A small library: enough for tests to add, list and send. */
static const struct {
    const char *id, *title, *content, *example;
} library[] = {
    { "TM00015", "订单支付成功",
      "{{first.DATA}}\n支付金额：{{orderMoneySum.DATA}}\n商品信息：{{orderProductName.DATA}}\n{{remark.DATA}}",
      "我们已收到您的货款\n支付金额：30.00元\n商品信息：我是商品名字\n感谢您的光临" },
    { "TM00001", "购买成功通知",
      "{{first.DATA}}\n商品：{{product.DATA}}\n价格：{{price.DATA}}\n{{remark.DATA}}",
      "您好，您已购买成功\n商品：苹果\n价格：3元\n欢迎再次购买" },
    { "OPENTM207498902", "预约成功通知",
      "{{first.DATA}}\n预约时间：{{keyword1.DATA}}\n预约项目：{{keyword2.DATA}}\n{{remark.DATA}}",
      "预约成功\n预约时间：2024-05-01 10:00\n预约项目：体检\n请准时到达" },
};
#define N_LIBRARY (sizeof(library) / sizeof(library[0]))

static const char *const industry_names[][2] = {
    { "IT科技", "互联网/电子商务" }, { "IT科技", "IT软件与服务" }, { "IT科技", "IT硬件与设备" },
    { "IT科技", "电子技术" },
};

static json_t *industry_view(json_int_t id)
{
    size_t n = sizeof(industry_names) / sizeof(industry_names[0]);
    const char *const *names = industry_names[((size_t)id - 1) % n];

    return json_pack("{s:s,s:s}", "first_class", names[0], "second_class", names[1]);
}

/* "1".."41" (WeChat sends strings; a number is taken too): the id, or 0. */
static json_int_t industry_id(json_t *v)
{
    json_int_t id = 0;
    char *end;

    if (json_is_integer(v))
        id = json_integer_value(v);
    else if (json_is_string(v))
        id = strtoll(json_string_value(v), &end, 10) * (*end == '\0' && end != json_string_value(v));
    return id >= 1 && id <= INDUSTRY_MAX ? id : 0;
}

void wxsim_tmpl_set_industry(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    json_int_t a, b;

    if (body == NULL)
        return;
    a = industry_id(json_object_get(body, "industry_id1"));
    b = industry_id(json_object_get(body, "industry_id2"));
    if (a == 0 || b == 0 || a == b)
        wxsim_reply_err(rq, 47003, "argument invalid! industry_id1 and industry_id2: "
                        "two different industries of 1 to %d", INDUSTRY_MAX);
    else if (sim->industry &&
             wxsim_now(sim) - json_integer_value(json_object_get(sim->industry, "set_at")) <
             INDUSTRY_EVERY)
        wxsim_reply_err(rq, 43100, "change template too frequently");
    else {
        json_decref(sim->industry);
        sim->industry = json_pack("{s:I,s:I,s:I}", "industry_id1", a, "industry_id2", b,
                                  "set_at", (json_int_t)wxsim_now(sim));
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_tmpl_get_industry(wxsim_t *sim, wxsim_req_t *rq)
{
    if (sim->industry == NULL) {
        wxsim_reply_err(rq, 40102, "industry not set");
        return;
    }
    wxsim_reply_json(rq, json_pack("{s:o,s:o}", "primary_industry",
        industry_view(json_integer_value(json_object_get(sim->industry, "industry_id1"))),
        "secondary_industry",
        industry_view(json_integer_value(json_object_get(sim->industry, "industry_id2")))));
}

void wxsim_tmpl_add(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    const char *shortid;
    char id[44];
    size_t i;

    if (body == NULL)
        return;
    shortid = wxsim_json_str(body, "template_id_short");
    for (i = 0; shortid && i < N_LIBRARY && strcmp(library[i].id, shortid) != 0; i++)
        ;
    if (shortid == NULL || i == N_LIBRARY)
        wxsim_reply_err(rq, 40037, "invalid template_id");
    else if (sim->industry == NULL)
        wxsim_reply_err(rq, 40102, "industry not set");
    else if (json_array_size(sim->private_tmpl) >= PRIVATE_MAX)
        wxsim_reply_err(rq, 45026, "template size out of limit (%d at most)", PRIVATE_MAX);
    else {
        wxsim_random_id(id, 43);
        json_array_append_new(sim->private_tmpl,
            json_pack("{s:s,s:s,s:o,s:s,s:s}", "template_id", id, "title", library[i].title,
                      "industry", industry_view(json_integer_value(
                          json_object_get(sim->industry, "industry_id1"))),
                      "content", library[i].content, "example", library[i].example));
        wxsim_reply_json(rq, json_pack("{s:i,s:s,s:s}", "errcode", 0, "errmsg", "ok",
                                       "template_id", id));
    }
    json_decref(body);
}

void wxsim_tmpl_list(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array(), *t, *ind;
    size_t i;

    json_array_foreach(sim->private_tmpl, i, t) {
        ind = json_object_get(t, "industry");
        json_array_append_new(list, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}",
            "template_id", json_object_get(t, "template_id"), "title", json_object_get(t, "title"),
            "primary_industry", json_object_get(ind, "first_class"),
            "deputy_industry", json_object_get(ind, "second_class"),
            "content", json_object_get(t, "content"), "example", json_object_get(t, "example")));
    }
    wxsim_reply_json(rq, json_pack("{s:o}", "template_list", list));
}

void wxsim_tmpl_del(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *t;
    const char *id;
    size_t i;

    if (body == NULL)
        return;
    id = wxsim_json_str(body, "template_id");
    json_array_foreach(sim->private_tmpl, i, t) {
        if (id && strcmp(wxsim_json_str(t, "template_id"), id) == 0) {
            json_array_remove(sim->private_tmpl, i);
            wxsim_reply_ok(rq);
            goto out;
        }
    }
    wxsim_reply_err(rq, 40037, "invalid template_id");
out:
    json_decref(body);
}
