/*
 * template.c - wxctl template send: a template message (PROTOCOL.md 6.8)
 * from a JSON file, checked first; template list|add|delete|industry:
 * the account's private templates and its two industries (15).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxctl.h"

static int check_template(const json_t *t, char *err, size_t errlen)
{
    const json_t *data = json_object_get(t, "data"), *mp = json_object_get(t, "miniprogram"), *v;
    const char *key, *s;
    void *it;

    if ((s = wxctl_str(t, "touser")) == NULL || s[0] == '\0') {
        snprintf(err, errlen, "missing \"touser\" (the follower's OpenID)");
        return -1;
    }
    if ((s = wxctl_str(t, "template_id")) == NULL || s[0] == '\0') {
        snprintf(err, errlen, "missing \"template_id\"");
        return -1;
    }
    if (!json_is_object(data) || json_object_size(data) == 0) {
        snprintf(err, errlen, "\"data\" must be an object of {\"value\": TEXT} fields");
        return -1;
    }
    for (it = json_object_iter((json_t *)data); it != NULL;
         it = json_object_iter_next((json_t *)data, it)) {
        key = json_object_iter_key(it);
        v = json_object_iter_value(it);
        if (!json_is_string(json_object_get(v, "value"))) {
            snprintf(err, errlen, "data.%.64s: must be {\"value\": TEXT}", key);
            return -1;
        }
    }
    if (json_object_get(t, "url") && !json_is_string(json_object_get(t, "url"))) {
        snprintf(err, errlen, "\"url\" must be a string");
        return -1;
    }
    if (mp && ((s = wxctl_str(mp, "appid")) == NULL || s[0] == '\0')) {
        snprintf(err, errlen, "miniprogram: missing \"appid\"");
        return -1;
    }
    return 0;
}

static int tmpl_list(wxctl_t *ctl)
{
    json_t *ans = NULL, *t;
    size_t i;
    int rc = wxctl_call(ctl, "/cgi-bin/template/get_all_private_template", NULL, 0, &ans);

    json_array_foreach(rc == 0 && !wxctl_opts(ctl)->json ?
                       json_object_get(ans, "template_list") : NULL, i, t)
        printf("%s  %s (%s / %s)\n", wxctl_str(t, "template_id"), wxctl_str(t, "title"),
               wxctl_str(t, "primary_industry") ? wxctl_str(t, "primary_industry") : "",
               wxctl_str(t, "deputy_industry") ? wxctl_str(t, "deputy_industry") : "");
    json_decref(ans);
    return rc;
}

/* industry: show; industry ID1 ID2: set (1-41, different). */
static int tmpl_industry(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body = NULL, *ans = NULL, *p, *s;
    long a = 0, b = 0;
    int rc;

    if (argc == 2) {
        a = strtol(argv[0], NULL, 10);
        b = strtol(argv[1], NULL, 10);
        if (a < 1 || a > 41 || b < 1 || b > 41 || a == b)
            return wxctl_bad("industry takes two different industry codes of 1 to 41");
        body = json_pack("{s:s,s:s}", "industry_id1", argv[0], "industry_id2", argv[1]);
        rc = wxctl_call(ctl, "/cgi-bin/template/api_set_industry", body, 0, &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json)
            printf("industries set: %ld and %ld\n", a, b);
    } else if (argc == 0) {
        rc = wxctl_call(ctl, "/cgi-bin/template/get_industry", NULL, 0, &ans);
        p = json_object_get(ans, "primary_industry");
        s = json_object_get(ans, "secondary_industry");
        if (rc == 0 && !wxctl_opts(ctl)->json)
            printf("primary     %s / %s\nsecondary   %s / %s\n", wxctl_str(p, "first_class"),
                   wxctl_str(p, "second_class"), wxctl_str(s, "first_class"),
                   wxctl_str(s, "second_class"));
    } else {
        return wxctl_usage("template industry takes nothing (show) or ID1 ID2 (set)");
    }
    json_decref(ans);
    json_decref(body);
    return rc;
}

/* add SHORT_ID | delete TEMPLATE_ID */
static int tmpl_change(wxctl_t *ctl, int add, const char *id)
{
    json_t *body, *ans = NULL;
    int rc;

    if (add && strncmp(id, "TM", 2) != 0 && strncmp(id, "OPENTM", 6) != 0)
        return wxctl_bad("'%.40s': a library id is TM... or OPENTM...", id);
    body = json_pack("{s:s}", add ? "template_id_short" : "template_id", id);
    rc = wxctl_call(ctl, add ? "/cgi-bin/template/api_add_template" :
                    "/cgi-bin/template/del_private_template", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json && add)
        printf("template_id %s\n", wxctl_str(ans, "template_id"));
    else if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("template %s deleted\n", id);
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_template(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *ans = NULL;
    char err[256], buf[32];
    int rc;

    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return tmpl_list(ctl);
    if (argc >= 1 && strcmp(argv[0], "industry") == 0)
        return tmpl_industry(ctl, argc - 1, argv + 1);
    if (argc == 2 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "delete") == 0))
        return tmpl_change(ctl, argv[0][0] == 'a', argv[1]);
    if (argc != 2 || strcmp(argv[0], "send") != 0)
        return wxctl_usage("template takes send FILE.json, list, add SHORT_ID, delete ID, "
                           "industry [ID1 ID2]");
    if ((body = wxctl_load_json(argv[1])) == NULL)
        return WXCTL_EXIT_USAGE;
    if (check_template(body, err, sizeof(err)) != 0) {
        json_decref(body);
        return wxctl_bad("%s: %s", argv[1], err);
    }
    rc = wxctl_call(ctl, "/cgi-bin/message/template/send", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("msgid       %s\n", wxctl_text(ans, "msgid", buf, sizeof(buf)));
    json_decref(ans);
    json_decref(body);
    return rc;
}
