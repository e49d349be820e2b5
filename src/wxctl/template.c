/*
 * template.c - wxctl template send: a template message (PROTOCOL.md 6.8)
 * from a JSON file, checked first.
 */
#include <stdio.h>
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

int wxctl_template(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *ans = NULL;
    char err[256], buf[32];
    int rc;

    if (argc != 2 || strcmp(argv[0], "send") != 0)
        return wxctl_usage("template takes send FILE.json");
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
