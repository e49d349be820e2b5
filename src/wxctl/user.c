/*
 * user.c - wxctl user info|list|remark (PROTOCOL.md 9): one follower or
 * up to 100 at once, the follower list a page of 10 000 at a time (or
 * every page with --all), a follower's remark.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "wxctl.h"

#define BATCHGET_MAX    100
#define REMARK_MAX      30          /* characters, fewer than */
#define OPENID_MAX      64

json_t *wxctl_openids(int argc, char **argv, size_t max, const char *what)
{
    json_t *list;
    int i;

    if (argc < 1 || (size_t)argc > max) {
        wxctl_usage("%s takes 1 to %zu OpenIDs", what, max);
        return NULL;
    }
    list = json_array();
    for (i = 0; i < argc; i++) {
        if (argv[i][0] == '\0' || strlen(argv[i]) > OPENID_MAX) {
            json_decref(list);
            wxctl_usage("%s: '%.80s' is not an OpenID", what, argv[i]);
            return NULL;
        }
        json_array_append_new(list, json_string(argv[i]));
    }
    return list;
}

static void print_user(const json_t *u)
{
    char t[32], buf[32];
    const json_t *tags = json_object_get(u, "tagid_list"), *v;
    size_t i;

    printf("openid      %s\n", wxctl_str(u, "openid") ? wxctl_str(u, "openid") : "");
    if (!json_integer_value(json_object_get(u, "subscribe"))) {
        printf("subscribe   no (not following)\n");
        return;
    }
    printf("subscribe   since %s\n",
           wxctl_time(json_integer_value(json_object_get(u, "subscribe_time")), t, sizeof(t)));
    printf("scene       %s", wxctl_str(u, "subscribe_scene") ? wxctl_str(u, "subscribe_scene") : "");
    if (json_integer_value(json_object_get(u, "qr_scene")))
        printf(" (qr_scene %s)", wxctl_text(u, "qr_scene", buf, sizeof(buf)));
    if (wxctl_str(u, "qr_scene_str") && wxctl_str(u, "qr_scene_str")[0])
        printf(" (qr_scene_str %s)", wxctl_str(u, "qr_scene_str"));
    printf("\nremark      %s\ntags       ", wxctl_str(u, "remark") ? wxctl_str(u, "remark") : "");
    json_array_foreach(tags, i, v)
        printf(" %lld", (long long)json_integer_value(v));
    printf("\n");
}

static int user_info(wxctl_t *ctl, int argc, char **argv)
{
    json_t *ids, *body, *ans = NULL, *u;
    char *esc, path[256];
    size_t i;
    int rc;

    if ((ids = wxctl_openids(argc, argv, BATCHGET_MAX, "user info")) == NULL)
        return WXCTL_EXIT_USAGE;
    if (argc == 1) {
        if ((esc = wxctl_escape(ctl, argv[0])) == NULL) {
            json_decref(ids);
            return WXCTL_EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "/cgi-bin/user/info?openid=%s&lang=zh_CN", esc);
        curl_free(esc);
        rc = wxctl_call(ctl, path, NULL, 0, &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json)
            print_user(ans);
    } else {
        body = json_pack("{s:[]}", "user_list");
        json_array_foreach(ids, i, u)
            json_array_append_new(json_object_get(body, "user_list"),
                                  json_pack("{s:O,s:s}", "openid", u, "lang", "zh_CN"));
        rc = wxctl_call(ctl, "/cgi-bin/user/info/batchget", body, 0, &ans);
        json_decref(body);
        json_array_foreach(rc == 0 && !wxctl_opts(ctl)->json ?
                           json_object_get(ans, "user_info_list") : NULL, i, u) {
            if (i)
                printf("\n");
            print_user(u);
        }
    }
    json_decref(ans);
    json_decref(ids);
    return rc;
}

/* One page after 'next' (""): its OpenIDs appended to 'all'; *next set
 * to the page's next_openid, "" at the end. */
static int list_page(wxctl_t *ctl, char *next, size_t cap, json_t *all, long long *total)
{
    char path[256], *esc = wxctl_escape(ctl, next);
    json_t *ans = NULL, *ids;
    const char *n;
    int rc;

    if (esc == NULL)
        return WXCTL_EXIT_USAGE;
    snprintf(path, sizeof(path), "/cgi-bin/user/get%s%s", next[0] ? "?next_openid=" : "", esc);
    curl_free(esc);
    rc = wxctl_call(ctl, path, NULL, 1, &ans);
    if (rc != 0)
        return rc;
    *total = json_integer_value(json_object_get(ans, "total"));
    ids = json_object_get(json_object_get(ans, "data"), "openid");
    json_array_extend(all, ids);
    n = wxctl_str(ans, "next_openid");
    /* The end: no data, or no next page named (PROTOCOL.md 9). */
    snprintf(next, cap, "%s", json_array_size(ids) && n ? n : "");
    json_decref(ans);
    return 0;
}

static int user_list(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    char next[OPENID_MAX + 1] = "";
    json_t *all = json_array(), *v;
    long long total = 0;
    size_t i;
    int rc;

    if (argc > 1 || (argc == 1 && strlen(argv[0]) > OPENID_MAX)) {
        json_decref(all);
        return wxctl_usage("user list takes [NEXT_OPENID] [--all]");
    }
    if (argc == 1)
        snprintf(next, sizeof(next), "%s", argv[0]);
    do {
        size_t before = json_array_size(all);

        if ((rc = list_page(ctl, next, sizeof(next), all, &total)) != 0)
            break;
        /* A line a page that brought followers (the last call brings none). */
        if (o->all && !o->no_progress && json_array_size(all) > before)
            fprintf(stderr, "wxctl: followers %zu of %lld\n", json_array_size(all), total);
    } while (o->all && next[0]);
    if (rc == 0 && o->json) {
        json_t *out = json_pack("{s:I,s:I,s:{s:O},s:s}", "total", (json_int_t)total,
                                "count", (json_int_t)json_array_size(all), "data", "openid", all,
                                "next_openid", next);

        wxctl_print_json(out);
        json_decref(out);
    } else if (rc == 0) {
        json_array_foreach(all, i, v)
            printf("%s\n", json_string_value(v));
        fprintf(stderr, "(%zu of %lld followers%s%s)\n", json_array_size(all), total,
                next[0] ? "; next page: wxctl user list " : "", next);
    }
    json_decref(all);
    return rc;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int user_remark(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *ans = NULL;
    int rc;

    if (argc != 2)
        return wxctl_usage("user remark takes OPENID TEXT");
    if (utf8_chars(argv[1]) >= REMARK_MAX)
        return wxctl_bad("a remark has fewer than %d characters", REMARK_MAX);
    body = json_pack("{s:s,s:s}", "openid", argv[0], "remark", argv[1]);
    rc = wxctl_call(ctl, "/cgi-bin/user/info/updateremark", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("remark of %s set\n", argv[0]);
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_user(wxctl_t *ctl, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "info") == 0)
        return user_info(ctl, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return user_list(ctl, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "remark") == 0)
        return user_remark(ctl, argc - 1, argv + 1);
    return wxctl_usage("user takes info, list or remark");
}
