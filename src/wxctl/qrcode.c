/*
 * qrcode.c - wxctl qrcode create (PROTOCOL.md 10), wxctl shorten (11)
 * and wxctl check callback (7.3).  Checked before sending: a temporary
 * code lives 1 s to 30 days and has a non-zero 32-bit scene_id, a
 * permanent one a scene_id of 1-100 000; a scene_str has 1-64 bytes;
 * short-key data 4 KB at most.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "wxctl.h"

#define EXPIRE_MAX      2592000
#define LIMIT_SCENE_MAX 100000
#define SCENE_STR_MAX   64
#define LONG_DATA_MAX   4096

/* The body of qrcode/create from the options: NULL after a usage error. */
static json_t *qr_body(const wxctl_opts_t *o)
{
    long long id = 0;
    char *end;

    if ((o->temp > 0) == (o->permanent != 0)) {
        wxctl_usage("qrcode create takes --temp SECS or --permanent");
        return NULL;
    }
    if ((o->scene != NULL) == (o->scene_str != NULL)) {
        wxctl_usage("qrcode create takes --scene N or --scene-str TEXT");
        return NULL;
    }
    if (o->temp > EXPIRE_MAX) {
        wxctl_bad("--temp: a temporary code lives %d seconds (30 days) at most", EXPIRE_MAX);
        return NULL;
    }
    if (o->scene_str) {
        if (o->scene_str[0] == '\0' || strlen(o->scene_str) > SCENE_STR_MAX) {
            wxctl_bad("--scene-str has 1 to %d bytes", SCENE_STR_MAX);
            return NULL;
        }
        return o->permanent ?
            json_pack("{s:s,s:{s:{s:s}}}", "action_name", "QR_LIMIT_STR_SCENE",
                      "action_info", "scene", "scene_str", o->scene_str) :
            json_pack("{s:I,s:s,s:{s:{s:s}}}", "expire_seconds", (json_int_t)o->temp,
                      "action_name", "QR_STR_SCENE", "action_info", "scene", "scene_str",
                      o->scene_str);
    }
    errno = 0;
    id = strtoll(o->scene, &end, 10);
    if (errno || *end || end == o->scene ||
        (o->permanent ? id < 1 || id > LIMIT_SCENE_MAX : id == 0 || id < -2147483648LL ||
                                                          id > 4294967295LL)) {
        wxctl_bad(o->permanent ? "--scene of a permanent code: 1 to 100000" :
                  "--scene of a temporary code: a non-zero 32-bit number");
        return NULL;
    }
    return o->permanent ?
        json_pack("{s:s,s:{s:{s:I}}}", "action_name", "QR_LIMIT_SCENE", "action_info", "scene",
                  "scene_id", (json_int_t)id) :
        json_pack("{s:I,s:s,s:{s:{s:I}}}", "expire_seconds", (json_int_t)o->temp, "action_name",
                  "QR_SCENE", "action_info", "scene", "scene_id", (json_int_t)id);
}

/* The image of 'ticket' to o->png (showqrcode; the ticket is Base64 and
 * must be percent-encoded). */
static int qr_png(wxctl_t *ctl, const char *ticket)
{
    char *esc = wxctl_escape(ctl, ticket), path[512], name[256];
    json_t *ans = NULL;
    size_t got = 0;
    int rc;

    if (esc == NULL)
        return WXCTL_EXIT_USAGE;
    snprintf(path, sizeof(path), "/cgi-bin/showqrcode?ticket=%s", esc);
    curl_free(esc);
    rc = wxctl_download(ctl, path, NULL, wxctl_opts(ctl)->png, &ans, name, sizeof(name), &got);
    if (rc == 0 && ans != NULL) {
        fprintf(stderr, "wxctl: showqrcode answered no image\n");
        rc = WXCTL_EXIT_TRANSPORT;
    } else if (rc == 0 && strcmp(wxctl_opts(ctl)->png, "-") != 0) {
        fprintf(stderr, "image       %s (%zu bytes)\n", wxctl_opts(ctl)->png, got);
    }
    json_decref(ans);
    return rc;
}

int wxctl_qrcode(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    json_t *body, *ans = NULL;
    char buf[32];
    int rc;

    if (argc != 1 || strcmp(argv[0], "create") != 0)
        return wxctl_usage("qrcode takes create (--temp SECS | --permanent) "
                           "(--scene N | --scene-str TEXT) [--png FILE]");
    if ((body = qr_body(o)) == NULL)
        return WXCTL_EXIT_USAGE;
    rc = wxctl_call(ctl, "/cgi-bin/qrcode/create", body, 0, &ans);
    if (rc == 0 && !o->json) {
        printf("ticket      %s\nurl         %s\n", wxctl_str(ans, "ticket"), wxctl_str(ans, "url"));
        if (json_object_get(ans, "expire_seconds"))
            printf("expires in  %s s\n", wxctl_text(ans, "expire_seconds", buf, sizeof(buf)));
    }
    if (rc == 0 && o->png)
        rc = qr_png(ctl, wxctl_str(ans, "ticket"));
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_shorten(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    int fetch = argc == 2 && strcmp(argv[0], "fetch") == 0;
    json_t *body, *ans = NULL;
    char t[32], buf[32];
    int rc;

    if (argc != 1 && !fetch)
        return wxctl_usage("shorten takes DATA [--temp SECS], or fetch KEY");
    if (!fetch && (argv[0][0] == '\0' || strlen(argv[0]) > LONG_DATA_MAX))
        return wxctl_bad("short-key data has 1 to %d bytes", LONG_DATA_MAX);
    if (!fetch && o->temp > EXPIRE_MAX)
        return wxctl_bad("--temp: a short key lives %d seconds (30 days) at most", EXPIRE_MAX);
    body = fetch ? json_pack("{s:s}", "short_key", argv[1]) :
           json_pack("{s:s,s:I}", "long_data", argv[0], "expire_seconds",
                     (json_int_t)(o->temp > 0 ? o->temp : EXPIRE_MAX));
    rc = wxctl_call(ctl, fetch ? "/cgi-bin/shorten/fetch" : "/cgi-bin/shorten/gen", body, 0, &ans);
    if (rc == 0 && !o->json && fetch)
        printf("long_data   %s\ncreated     %s\nexpires in  %s s\n", wxctl_str(ans, "long_data"),
               wxctl_time(json_integer_value(json_object_get(ans, "create_time")), t, sizeof(t)),
               wxctl_text(ans, "expire_seconds", buf, sizeof(buf)));
    else if (rc == 0 && !o->json)
        printf("short_key   %s\n", wxctl_str(ans, "short_key"));
    json_decref(ans);
    json_decref(body);
    return rc;
}

static void print_check(const json_t *ans)
{
    const json_t *e;
    size_t i;

    json_array_foreach(json_object_get(ans, "dns"), i, e)
        printf("dns   %-15s %s\n", wxctl_str(e, "ip"), wxctl_str(e, "real_operator"));
    json_array_foreach(json_object_get(ans, "ping"), i, e)
        printf("ping  %-15s %s loss %s time %s\n", wxctl_str(e, "ip"),
               wxctl_str(e, "from_operator"), wxctl_str(e, "package_loss"), wxctl_str(e, "time"));
}

int wxctl_check(wxctl_t *ctl, int argc, char **argv)
{
    static const char *const ops[] = { "CHINANET", "UNICOM", "CAP", "DEFAULT", NULL };
    const char *action = argc > 1 ? argv[1] : "all", *op = argc > 2 ? argv[2] : "DEFAULT";
    json_t *body, *ans = NULL;
    size_t i;
    int rc;

    if (argc < 1 || argc > 3 || strcmp(argv[0], "callback") != 0)
        return wxctl_usage("check takes callback [dns|ping|all [OPERATOR]]");
    for (i = 0; ops[i] && strcmp(ops[i], op) != 0; i++)
        ;
    if (strcmp(action, "dns") != 0 && strcmp(action, "ping") != 0 && strcmp(action, "all") != 0)
        return wxctl_usage("check callback: the action is dns, ping or all");
    if (ops[i] == NULL)
        return wxctl_usage("check callback: the operator is CHINANET, UNICOM, CAP or DEFAULT");
    body = json_pack("{s:s,s:s}", "action", action, "check_operator", op);
    rc = wxctl_call(ctl, "/cgi-bin/callback/check", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        print_check(ans);
    json_decref(ans);
    json_decref(body);
    return rc;
}
