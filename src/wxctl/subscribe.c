/*
 * subscribe.c - wxctl subscribe send|templates|add|delete (PROTOCOL.md
 * 14): a subscription message from a JSON file (checked first: touser,
 * template_id, data of {"value": TEXT} keyed <rule><n>), and the
 * account's own templates made from the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxctl.h"

static int check_send(const json_t *m, char *err, size_t errlen)
{
    const json_t *data = json_object_get(m, "data"), *v;
    const char *s, *key;

    if ((s = wxctl_str(m, "touser")) == NULL || s[0] == '\0') {
        snprintf(err, errlen, "missing \"touser\" (the follower's OpenID)");
        return -1;
    }
    if ((s = wxctl_str(m, "template_id")) == NULL || s[0] == '\0') {
        snprintf(err, errlen, "missing \"template_id\" (a priTmplId)");
        return -1;
    }
    if (!json_is_object(data) || json_object_size(data) == 0) {
        snprintf(err, errlen, "\"data\" must be an object of {\"value\": TEXT} fields");
        return -1;
    }
    json_object_foreach((json_t *)data, key, v) {
        size_t n = strcspn(key, "0123456789");

        if (n == 0 || key[n] == '\0' || !json_is_string(json_object_get(v, "value"))) {
            snprintf(err, errlen, "data.%.64s: a key is RULE+NUMBER (thing1) and its value "
                     "{\"value\": TEXT}", key);
            return -1;
        }
    }
    return 0;
}

static int sub_send(wxctl_t *ctl, const char *file)
{
    json_t *body, *ans = NULL;
    char err[256];
    int rc;

    if ((body = wxctl_load_json(file)) == NULL)
        return WXCTL_EXIT_USAGE;
    if (check_send(body, err, sizeof(err)) != 0) {
        json_decref(body);
        return wxctl_bad("%s: %s", file, err);
    }
    rc = wxctl_call(ctl, "/cgi-bin/message/subscribe/bizsend", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("subscription message sent\n");
    json_decref(ans);
    json_decref(body);
    return rc;
}

static int sub_templates(wxctl_t *ctl)
{
    json_t *ans = NULL, *t;
    size_t i;
    int rc = wxctl_call(ctl, "/wxaapi/newtmpl/gettemplate", NULL, 0, &ans);

    json_array_foreach(rc == 0 && !wxctl_opts(ctl)->json ? json_object_get(ans, "data") : NULL,
                       i, t) {
        const char *c = wxctl_str(t, "content");

        printf("%s  %s\n", wxctl_str(t, "priTmplId"), wxctl_str(t, "title"));
        /* The content's keys, one line each, indented. */
        for (; c && *c; c += strcspn(c, "\n") + (c[strcspn(c, "\n")] != '\0'))
            printf("    %.*s\n", (int)strcspn(c, "\n"), c);
    }
    json_decref(ans);
    return rc;
}

/* add TID KID... [--description SCENE] */
static int sub_add(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *kids = json_array(), *ans = NULL;
    char *end;
    int i, rc;

    for (i = 1; i < argc; i++) {
        long k = strtol(argv[i], &end, 10);

        if (*end || end == argv[i] || k < 1) {
            json_decref(kids);
            return wxctl_usage("subscribe add: '%.40s' is not a keyword id", argv[i]);
        }
        json_array_append_new(kids, json_integer(k));
    }
    if (argc < 3 || argc > 6) {
        json_decref(kids);
        return wxctl_usage("subscribe add takes TID and 2 to 5 keyword ids (KID)");
    }
    body = json_pack("{s:s,s:o,s:s}", "tid", argv[0], "kidList", kids, "sceneDesc",
                     wxctl_opts(ctl)->description ? wxctl_opts(ctl)->description : "");
    rc = wxctl_call(ctl, "/wxaapi/newtmpl/addtemplate", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("priTmplId   %s\n", wxctl_str(ans, "priTmplId"));
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_subscribe(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    json_t *body, *ans = NULL;
    int rc;

    if (strcmp(sub, "send") == 0 && argc == 2)
        return sub_send(ctl, argv[1]);
    if (strcmp(sub, "templates") == 0 && argc == 1)
        return sub_templates(ctl);
    if (strcmp(sub, "add") == 0)
        return sub_add(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "delete") == 0 && argc == 2) {
        body = json_pack("{s:s}", "priTmplId", argv[1]);
        rc = wxctl_call(ctl, "/wxaapi/newtmpl/deltemplate", body, 0, &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json)
            printf("template %s deleted\n", argv[1]);
        json_decref(ans);
        json_decref(body);
        return rc;
    }
    return wxctl_usage("subscribe takes send FILE.json, templates, add TID KID..., delete ID");
}
