/*
 * menu.c - wxctl menu: create (default or conditional), get, delete,
 * try-match; the menu file is checked here against PROTOCOL.md 6.1 before
 * anything is sent, so that a mistake names its button instead of coming
 * back as WeChat's 40016-40027.
 */
#include <stdio.h>
#include <string.h>

#include "wxctl.h"

#define TOP_MAX         3
#define SUB_MAX         5
#define TOP_NAME_MAX    16      /* bytes */
#define SUB_NAME_MAX    60
#define KEY_MAX         128
#define URL_MAX         1024

/* The fields each type needs besides name (6.1). */
static const struct {
    const char *type;
    const char *need[3];
    size_t      max;            /* of need[0], 0 = no limit */
} button_types[] = {
    { "click",                { "key" }, KEY_MAX },
    { "scancode_push",        { "key" }, KEY_MAX },
    { "scancode_waitmsg",     { "key" }, KEY_MAX },
    { "pic_sysphoto",         { "key" }, KEY_MAX },
    { "pic_photo_or_album",   { "key" }, KEY_MAX },
    { "pic_weixin",           { "key" }, KEY_MAX },
    { "location_select",      { "key" }, KEY_MAX },
    { "view",                 { "url" }, URL_MAX },
    { "miniprogram",          { "url", "appid", "pagepath" }, URL_MAX },
    { "media_id",             { "media_id" }, 0 },
    { "view_limited",         { "media_id" }, 0 },
    { "article_id",           { "article_id" }, 0 },
    { "article_view_limited", { "article_id" }, 0 },
};
#define N_TYPES (sizeof(button_types) / sizeof(button_types[0]))

static int check_list(const json_t *list, const char *where, int sub, char *err, size_t errlen);

static int check_button(const json_t *b, const char *where, int sub, char *err, size_t errlen)
{
    const char *name = wxctl_str(b, "name"), *type = wxctl_str(b, "type"), *v;
    const json_t *subs = json_object_get(b, "sub_button");
    size_t i, k, max = sub ? SUB_NAME_MAX : TOP_NAME_MAX;
    char here[128];

    if (!json_is_object(b)) {
        snprintf(err, errlen, "%s: not an object", where);
        return -1;
    }
    if (type)
        snprintf(here, sizeof(here), "%.64s (type %.24s)", where, type);
    else
        snprintf(here, sizeof(here), "%.64s", where);
    if (name == NULL || name[0] == '\0') {
        snprintf(err, errlen, "%s: missing \"name\"", here);
        return -1;
    }
    if (strlen(name) > max) {
        snprintf(err, errlen, "%s: \"name\" is %zu bytes, at most %zu %s", here, strlen(name),
                 max, sub ? "in a sub-menu" : "at the top level");
        return -1;
    }
    if (subs != NULL) {
        char list[80];

        if (sub) {
            snprintf(err, errlen, "%s: a sub-menu button cannot have \"sub_button\"", here);
            return -1;
        }
        if (type) {
            snprintf(err, errlen, "%s: \"type\" and \"sub_button\" exclude each other", here);
            return -1;
        }
        snprintf(list, sizeof(list), "%.64s.sub_button", where);
        return check_list(subs, list, 1, err, errlen);
    }
    if (type == NULL) {
        snprintf(err, errlen, "%s: missing \"type\" (or \"sub_button\")", here);
        return -1;
    }
    for (i = 0; i < N_TYPES; i++)
        if (strcmp(type, button_types[i].type) == 0)
            break;
    if (i == N_TYPES) {
        snprintf(err, errlen, "%s: unknown type (click, view, miniprogram, scancode_push, "
                 "scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, "
                 "location_select, media_id, view_limited, article_id, article_view_limited)",
                 here);
        return -1;
    }
    for (k = 0; k < 3 && button_types[i].need[k]; k++) {
        const char *field = button_types[i].need[k];

        v = wxctl_str(b, field);
        if (v == NULL || v[0] == '\0') {
            snprintf(err, errlen, "%s: missing \"%s\"", here, field);
            return -1;
        }
        if (k == 0 && button_types[i].max && strlen(v) > button_types[i].max) {
            snprintf(err, errlen, "%s: \"%s\" is %zu bytes, at most %zu", here, field,
                     strlen(v), button_types[i].max);
            return -1;
        }
    }
    return 0;
}

static int check_list(const json_t *list, const char *where, int sub, char *err, size_t errlen)
{
    size_t i, n, max = sub ? SUB_MAX : TOP_MAX;
    char here[112];

    if (!json_is_array(list)) {
        snprintf(err, errlen, "%s: must be an array of buttons", where);
        return -1;
    }
    n = json_array_size(list);
    if (n == 0 || n > max) {
        snprintf(err, errlen, "%s: %zu buttons, must be 1 to %zu", where, n, max);
        return -1;
    }
    for (i = 0; i < n; i++) {
        snprintf(here, sizeof(here), "%.80s[%zu]", where, i);
        if (check_button(json_array_get(list, i), here, sub, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Personalised menus: only tag_id and client_platform_type remain (6.1). */
static int check_matchrule(const json_t *rule, char *err, size_t errlen)
{
    const char *key, *p;
    json_t *v;
    void *it;

    if (!json_is_object(rule) || json_object_size(rule) == 0) {
        snprintf(err, errlen, "matchrule: must be an object with tag_id and/or "
                 "client_platform_type");
        return -1;
    }
    for (it = json_object_iter((json_t *)rule); it != NULL;
         it = json_object_iter_next((json_t *)rule, it)) {
        key = json_object_iter_key(it);
        v = json_object_iter_value(it);
        if (strcmp(key, "tag_id") != 0 && strcmp(key, "client_platform_type") != 0) {
            snprintf(err, errlen, "matchrule: \"%.32s\" is not supported any more (WeChat "
                     "answers 65320): only tag_id and client_platform_type", key);
            return -1;
        }
        if (!json_is_string(v) && !json_is_integer(v)) {
            snprintf(err, errlen, "matchrule: \"%s\" must be a string", key);
            return -1;
        }
    }
    p = wxctl_str(rule, "client_platform_type");
    v = json_object_get(rule, "client_platform_type");
    if ((p && strcmp(p, "1") != 0 && strcmp(p, "2") != 0 && strcmp(p, "3") != 0) ||
        (json_is_integer(v) && (json_integer_value(v) < 1 || json_integer_value(v) > 3))) {
        snprintf(err, errlen, "matchrule: client_platform_type must be \"1\" (iOS), "
                 "\"2\" (Android) or \"3\" (other)");
        return -1;
    }
    return 0;
}

int wxctl_menu_check(const json_t *menu, char *err, size_t errlen)
{
    const json_t *rule = json_object_get(menu, "matchrule"), *b = json_object_get(menu, "button");

    if (b == NULL) {
        snprintf(err, errlen, "missing \"button\"");
        return -1;
    }
    if (check_list(b, "button", 0, err, errlen) != 0)
        return -1;
    return rule ? check_matchrule(rule, err, errlen) : 0;
}

/* WeChat wants the rule's values as strings. */
static void rule_as_strings(json_t *rule)
{
    const char *key;
    json_t *v;
    char buf[32];
    void *it;

    for (it = json_object_iter(rule); it != NULL; it = json_object_iter_next(rule, it)) {
        key = json_object_iter_key(it);
        v = json_object_iter_value(it);
        if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
            json_object_set_new(rule, key, json_string(buf));
        }
    }
}

/* ---------------------------------------------------------- printing -- */

static void print_button(const json_t *b, int depth)
{
    const char *type = wxctl_str(b, "type"), *what = NULL;
    const json_t *subs = json_object_get(b, "sub_button");
    size_t i;

    if (type && (what = wxctl_str(b, "key")) == NULL && (what = wxctl_str(b, "url")) == NULL &&
        (what = wxctl_str(b, "media_id")) == NULL)
        what = wxctl_str(b, "article_id");
    printf("%*s%-*s  %-20s %s\n", depth * 2, "", 24 - depth * 2,
           wxctl_str(b, "name") ? wxctl_str(b, "name") : "?",
           type ? type : subs ? "(sub-menu)" : "", what ? what : "");
    /* The "current configuration" form wraps the list: {"list":[...]}. */
    if (json_is_object(subs))
        subs = json_object_get(subs, "list");
    for (i = 0; i < json_array_size(subs); i++)
        print_button(json_array_get(subs, i), depth + 1);
}

static void print_buttons(const json_t *list, int depth)
{
    size_t i;

    for (i = 0; i < json_array_size(list); i++)
        print_button(json_array_get(list, i), depth);
}

static void print_menu(const json_t *ans)
{
    const json_t *menu = json_object_get(ans, "menu"), *conds = json_object_get(ans, "conditionalmenu");
    char buf[32], buf2[32], buf3[32];
    size_t i;

    printf("default menu (menuid %s)\n", wxctl_text(menu, "menuid", buf, sizeof(buf)));
    print_buttons(json_object_get(menu, "button"), 1);
    for (i = 0; i < json_array_size(conds); i++) {
        const json_t *c = json_array_get(conds, i), *rule = json_object_get(c, "matchrule");
        const char *tag = wxctl_text(rule, "tag_id", buf2, sizeof(buf2));
        const char *platform = wxctl_text(rule, "client_platform_type", buf3, sizeof(buf3));

        printf("conditional menu (menuid %s; tag_id %s, client_platform_type %s)\n",
               wxctl_text(c, "menuid", buf, sizeof(buf)), *tag ? tag : "any",
               *platform ? platform : "any");
        print_buttons(json_object_get(c, "button"), 1);
    }
}

/* --------------------------------------------------------- commands -- */

static int menu_create(wxctl_t *ctl, const char *path)
{
    json_t *menu = wxctl_load_json(path), *ans = NULL, *rule;
    char err[512], buf[32];
    int rc;

    if (menu == NULL)
        return WXCTL_EXIT_USAGE;
    if (wxctl_menu_check(menu, err, sizeof(err)) != 0) {
        json_decref(menu);
        return wxctl_bad("%s: %s", path, err);
    }
    rule = json_object_get(menu, "matchrule");
    if (rule) {
        rule_as_strings(rule);
        rc = wxctl_call(ctl, "/cgi-bin/menu/addconditional", menu, 0, &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json)
            printf("conditional menu created: menuid %s\n",
                   wxctl_text(ans, "menuid", buf, sizeof(buf)));
    } else {
        rc = wxctl_call(ctl, "/cgi-bin/menu/create", menu, 0, &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json)
            puts("menu created");
    }
    json_decref(ans);
    json_decref(menu);
    return rc;
}

int wxctl_menu(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    int json = wxctl_opts(ctl)->json, rc;
    json_t *ans = NULL, *body;

    if (strcmp(sub, "create") == 0) {
        if (argc != 2)
            return wxctl_usage("menu create takes FILE.json");
        return menu_create(ctl, argv[1]);
    }
    if (strcmp(sub, "get") == 0 || strcmp(sub, "current") == 0) {
        if (argc != 1)
            return wxctl_usage("menu %s takes no argument", sub);
        if (sub[0] == 'g') {
            rc = wxctl_call(ctl, "/cgi-bin/menu/get", NULL, 0, &ans);
            if (rc == 0 && !json)
                print_menu(ans);
        } else {
            rc = wxctl_call(ctl, "/cgi-bin/get_current_selfmenu_info", NULL, 0, &ans);
            if (rc == 0 && !json) {
                printf("menu %s\n", json_integer_value(json_object_get(ans, "is_menu_open")) ?
                       "open" : "closed");
                print_buttons(json_object_get(json_object_get(ans, "selfmenu_info"), "button"), 1);
            }
        }
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "delete") == 0) {
        if (argc > 2)
            return wxctl_usage("menu delete takes [MENUID]");
        if (argc == 1) {
            rc = wxctl_call(ctl, "/cgi-bin/menu/delete", NULL, 0, &ans);
            if (rc == 0 && !json)
                puts("menu deleted (the default and every conditional menu)");
        } else {
            body = json_pack("{s:s}", "menuid", argv[1]);
            rc = wxctl_call(ctl, "/cgi-bin/menu/delconditional", body, 0, &ans);
            json_decref(body);
            if (rc == 0 && !json)
                printf("conditional menu %s deleted\n", argv[1]);
        }
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "try-match") == 0) {
        if (argc != 2)
            return wxctl_usage("menu try-match takes USER (an OpenID or a WeChat ID)");
        body = json_pack("{s:s}", "user_id", argv[1]);
        rc = wxctl_call(ctl, "/cgi-bin/menu/trymatch", body, 0, &ans);
        json_decref(body);
        if (rc == 0 && !json) {
            printf("menu for %s\n", argv[1]);
            print_buttons(json_object_get(ans, "button"), 1);
        }
        json_decref(ans);
        return rc;
    }
    return wxctl_usage("menu takes create, get, current, delete or try-match");
}
