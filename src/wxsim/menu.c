/*
 * menu.c - custom menus (PROTOCOL.md 6.1): the default menu, personalised
 * (conditional) menus and the button rules both share.
 *
 * The button error codes are those of WeChat's global error table
 * (40016-40027: button count, type, name, key and url sizes; top-level and
 * sub-menu variants).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxsim.h"

#define TOP_MAX         3
#define SUB_MAX         5
#define TOP_NAME_MAX    16
#define SUB_NAME_MAX    60
#define KEY_MAX         128
#define URL_MAX         1024

/* Which field each type needs (besides name). */
static const struct {
    const char *type;
    const char *field;
} button_types[] = {
    { "click", "key" }, { "scancode_push", "key" }, { "scancode_waitmsg", "key" },
    { "pic_sysphoto", "key" }, { "pic_photo_or_album", "key" }, { "pic_weixin", "key" },
    { "location_select", "key" }, { "view", "url" }, { "media_id", "media_id" },
    { "view_limited", "media_id" }, { "article_id", "article_id" },
    { "article_view_limited", "article_id" }, { "miniprogram", "url" },
};

/* Codes: [0] top level, [1] sub-menu. */
static const int e_size[2] = { 40016, 40023 }, e_type[2] = { 40017, 40024 };
static const int e_name[2] = { 40018, 40025 }, e_key[2] = { 40019, 40026 };
static const int e_url[2] = { 40020, 40027 };
static const char *const level[2] = { "button", "sub button" };

static int check_buttons(wxsim_req_t *rq, json_t *list, int sub);

/* 0 when the button is valid, else -1 after answering. */
static int check_button(wxsim_req_t *rq, json_t *b, int sub)
{
    const char *name = wxsim_json_str(b, "name"), *type = wxsim_json_str(b, "type"), *v;
    json_t *subs = json_object_get(b, "sub_button");
    size_t i, n = sizeof(button_types) / sizeof(button_types[0]);

    if (!json_is_object(b)) {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    if (name == NULL || name[0] == '\0' || strlen(name) > (sub ? SUB_NAME_MAX : TOP_NAME_MAX)) {
        wxsim_reply_err(rq, e_name[sub], "invalid %s name size", level[sub]);
        return -1;
    }
    /* A top-level button either opens a sub-menu or acts, never both. */
    if (subs != NULL && !sub && type == NULL)
        return check_buttons(rq, subs, 1);
    for (i = 0; type && i < n; i++)
        if (strcmp(type, button_types[i].type) == 0)
            break;
    if (type == NULL || i == n || subs != NULL) {
        wxsim_reply_err(rq, e_type[sub], "invalid %s type", level[sub]);
        return -1;
    }
    v = wxsim_json_str(b, button_types[i].field);
    if (strcmp(button_types[i].field, "key") == 0) {
        if (v == NULL || v[0] == '\0' || strlen(v) > KEY_MAX) {
            wxsim_reply_err(rq, e_key[sub], "invalid %s key size", level[sub]);
            return -1;
        }
    } else if (strcmp(button_types[i].field, "url") == 0) {
        if (v == NULL || v[0] == '\0' || strlen(v) > URL_MAX) {
            wxsim_reply_err(rq, e_url[sub], "invalid %s url size", level[sub]);
            return -1;
        }
        if (strcmp(type, "miniprogram") == 0 &&
            (wxsim_json_str(b, "appid") == NULL || wxsim_json_str(b, "pagepath") == NULL)) {
            wxsim_reply_err(rq, 47001, "data format error");
            return -1;
        }
    } else if (v == NULL || v[0] == '\0') {
        wxsim_reply_err(rq, 40007, "invalid media_id");
        return -1;
    }
    return 0;
}

static int check_buttons(wxsim_req_t *rq, json_t *list, int sub)
{
    size_t i, n = json_is_array(list) ? json_array_size(list) : 0;

    if (n == 0 || n > (size_t)(sub ? SUB_MAX : TOP_MAX)) {
        wxsim_reply_err(rq, e_size[sub], "invalid %s size", level[sub]);
        return -1;
    }
    for (i = 0; i < n; i++)
        if (check_button(rq, json_array_get(list, i), sub) != 0)
            return -1;
    return 0;
}

void wxsim_menu_create(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *buttons;

    if (body == NULL)
        return;
    buttons = json_object_get(body, "button");
    if (check_buttons(rq, buttons, 0) == 0) {
        json_decref(sim->menu);
        sim->menu = json_deep_copy(buttons);
        sim->menuid = sim->next_menuid++;
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_menu_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *out;

    if (sim->menu == NULL) {
        wxsim_reply_err(rq, 46003, "menu no exist");
        return;
    }
    out = json_pack("{s:{s:O,s:I}}", "menu", "button", sim->menu,
                    "menuid", (json_int_t)sim->menuid);
    if (json_array_size(sim->conditional) > 0)
        json_object_set(out, "conditionalmenu", sim->conditional);
    wxsim_reply_json(rq, out);
}

void wxsim_menu_delete(wxsim_t *sim, wxsim_req_t *rq)
{
    /* Deletes the default and every personalised menu (6.1). */
    json_decref(sim->menu);
    sim->menu = NULL;
    json_array_clear(sim->conditional);
    wxsim_reply_ok(rq);
}

/* The "current configuration" form: sub-menus are {"list":[...]}. */
void wxsim_menu_current(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *buttons = json_array(), *b;
    size_t i;

    for (i = 0; (b = json_array_get(sim->menu, i)) != NULL; i++) {
        json_t *copy = json_deep_copy(b), *subs = json_object_get(copy, "sub_button");

        if (subs)
            json_object_set_new(copy, "sub_button", json_pack("{s:O}", "list", subs));
        json_array_append_new(buttons, copy);
    }
    wxsim_reply_json(rq, json_pack("{s:i,s:{s:o}}", "is_menu_open", sim->menu ? 1 : 0,
                                   "selfmenu_info", "button", buttons));
}

/* Only tag_id and client_platform_type remain; the retired fields are
 * refused with 65320 (6.1). */
static int check_matchrule(wxsim_req_t *rq, json_t *rule)
{
    static const char *const retired[] = { "sex", "country", "province", "city", "language" };
    const char *platform;
    size_t i;

    if (!json_is_object(rule)) {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++) {
        if (json_object_get(rule, retired[i])) {
            wxsim_reply_err(rq, 65320, "matchrule field %s is no longer supported", retired[i]);
            return -1;
        }
    }
    platform = wxsim_json_str(rule, "client_platform_type");
    if (wxsim_json_str(rule, "tag_id") == NULL && platform == NULL) {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    if (platform && strcmp(platform, "1") != 0 && strcmp(platform, "2") != 0 &&
        strcmp(platform, "3") != 0) {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    return 0;
}

void wxsim_menu_addconditional(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *buttons, *rule;
    char id[24];

    if (body == NULL)
        return;
    buttons = json_object_get(body, "button");
    rule = json_object_get(body, "matchrule");
    if (check_buttons(rq, buttons, 0) != 0 || check_matchrule(rq, rule) != 0)
        goto out;
    if (wxsim_json_str(rule, "tag_id") &&
        !wxsim_tag_exists(sim, strtoll(wxsim_json_str(rule, "tag_id"), NULL, 10))) {
        wxsim_reply_err(rq, 45159, "invalid tag id");
        goto out;
    }
    if (sim->menu == NULL) {
        wxsim_reply_err(rq, 65303, "there is no selfmenu, please create selfmenu first");
        goto out;
    }
    snprintf(id, sizeof(id), "%lld", sim->next_menuid++);
    json_array_append_new(sim->conditional, json_pack("{s:O,s:O,s:s}", "button", buttons,
                                                      "matchrule", rule, "menuid", id));
    wxsim_reply_json(rq, json_pack("{s:s}", "menuid", id));
out:
    json_decref(body);
}

void wxsim_menu_delconditional(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *m, *idv;
    char id[24];
    size_t i;

    if (body == NULL)
        return;
    /* WeChat writes the id as a string; a number is accepted too. */
    idv = json_object_get(body, "menuid");
    if (json_is_integer(idv))
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(idv));
    else if (json_is_string(idv) && json_string_length(idv) < sizeof(id))
        snprintf(id, sizeof(id), "%s", json_string_value(idv));
    else {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    for (i = 0; (m = json_array_get(sim->conditional, i)) != NULL; i++) {
        if (strcmp(wxsim_json_str(m, "menuid"), id) == 0) {
            json_array_remove(sim->conditional, i);
            wxsim_reply_ok(rq);
            goto out;
        }
    }
    wxsim_reply_err(rq, 65301, "no such menuid");
out:
    json_decref(body);
}

/* The buttons a user sees: the newest conditional menu whose tag_id the
 * follower carries, else the default menu. */
static json_t *match_menu(const wxsim_t *sim, const char *openid)
{
    json_t *u = wxsim_user_follower(sim, openid), *m;
    const char *tag;
    size_t i = json_array_size(sim->conditional);

    while (u && i-- > 0) {
        m = json_array_get(sim->conditional, i);
        tag = wxsim_json_str(json_object_get(m, "matchrule"), "tag_id");
        if (tag && wxsim_user_has_tag(u, strtoll(tag, NULL, 10)))
            return json_object_get(m, "button");
    }
    return sim->menu;
}

void wxsim_menu_trymatch(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    const char *user;

    if (body == NULL)
        return;
    user = wxsim_json_str(body, "user_id");
    if (user == NULL || user[0] == '\0')
        wxsim_reply_err(rq, 40003, "invalid openid");
    else if (sim->menu == NULL)
        wxsim_reply_err(rq, 46003, "menu no exist");
    else
        wxsim_reply_json(rq, json_pack("{s:O}", "button", match_menu(sim, user)));
    json_decref(body);
}
