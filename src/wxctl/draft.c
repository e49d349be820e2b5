/*
 * draft.c - wxctl draft and publish: the draft box and free publishing
 * (PROTOCOL.md 6.5).  A draft file is checked against the article rules
 * first, the error naming the article.
 */
#include <stdio.h>
#include <string.h>

#include "wx/core/str.h"
#include "wxctl.h"

#define ARTICLES_MAX    8
#define TITLE_MAX       32      /* characters */
#define AUTHOR_MAX      16
#define DIGEST_MAX      128
#define CONTENT_MAX     20000   /* characters, fewer than */
#define CONTENT_BYTES   (1u << 20)

static int check_article(const json_t *a, size_t i, char *err, size_t errlen)
{
    const char *type = wxctl_str(a, "article_type"), *v;
    static const struct {
        const char *field;
        size_t      max;
    } limits[] = { { "title", TITLE_MAX }, { "author", AUTHOR_MAX }, { "digest", DIGEST_MAX } };
    size_t k;

    if (!json_is_object(a)) {
        snprintf(err, errlen, "articles[%zu]: not an object", i);
        return -1;
    }
    if (json_object_get(a, "article_type") && (type == NULL ||
        (strcmp(type, "news") != 0 && strcmp(type, "newspic") != 0))) {
        snprintf(err, errlen, "articles[%zu]: article_type must be \"news\" or \"newspic\"", i);
        return -1;
    }
    if ((v = wxctl_str(a, "title")) == NULL || v[0] == '\0') {
        snprintf(err, errlen, "articles[%zu]: missing \"title\"", i);
        return -1;
    }
    for (k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        json_t *f = json_object_get(a, limits[k].field);

        if (f && !json_is_string(f)) {
            snprintf(err, errlen, "articles[%zu]: \"%s\" must be a string", i, limits[k].field);
            return -1;
        }
        if (f && wx_utf8_chars(json_string_value(f)) > limits[k].max) {
            snprintf(err, errlen, "articles[%zu]: \"%s\" is %zu characters, at most %zu", i,
                     limits[k].field, wx_utf8_chars(json_string_value(f)), limits[k].max);
            return -1;
        }
    }
    if ((v = wxctl_str(a, "content")) == NULL || v[0] == '\0') {
        snprintf(err, errlen, "articles[%zu]: missing \"content\"", i);
        return -1;
    }
    if (wx_utf8_chars(v) >= CONTENT_MAX || strlen(v) >= CONTENT_BYTES) {
        snprintf(err, errlen, "articles[%zu]: \"content\" is %zu characters, fewer than %d "
                 "(and under 1 MB) allowed", i, wx_utf8_chars(v), CONTENT_MAX);
        return -1;
    }
    if ((type == NULL || strcmp(type, "news") == 0) &&
        ((v = wxctl_str(a, "thumb_media_id")) == NULL || v[0] == '\0')) {
        snprintf(err, errlen, "articles[%zu]: missing \"thumb_media_id\" (a news article's "
                 "cover: a permanent image material, wxctl material add image FILE)", i);
        return -1;
    }
    return 0;
}

static int check_draft(const json_t *d, char *err, size_t errlen)
{
    const json_t *arts = json_object_get(d, "articles");
    size_t i, n = json_array_size(arts);

    if (!json_is_array(arts) || n == 0 || n > ARTICLES_MAX) {
        snprintf(err, errlen, "\"articles\" must be an array of 1 to %d articles", ARTICLES_MAX);
        return -1;
    }
    for (i = 0; i < n; i++)
        if (check_article(json_array_get(arts, i), i, err, errlen) != 0)
            return -1;
    return 0;
}

static void print_articles(const json_t *items)
{
    const json_t *a;
    size_t i;

    for (i = 0; (a = json_array_get(items, i)) != NULL; i++) {
        printf("[%zu] %s\n", i, wxctl_str(a, "title") ? wxctl_str(a, "title") : "");
        if (wxctl_str(a, "author") && *wxctl_str(a, "author"))
            printf("    author  %s\n", wxctl_str(a, "author"));
        if (wxctl_str(a, "digest") && *wxctl_str(a, "digest"))
            printf("    digest  %s\n", wxctl_str(a, "digest"));
        if (wxctl_str(a, "thumb_media_id"))
            printf("    cover   %s\n", wxctl_str(a, "thumb_media_id"));
        if (wxctl_str(a, "url") && *wxctl_str(a, "url"))
            printf("    url     %s\n", wxctl_str(a, "url"));
    }
}

static void print_list(const json_t *items)
{
    const json_t *it;
    char t[32];
    size_t i;

    printf("%-64s  %-16s  %s\n", "MEDIA_ID", "UPDATED", "TITLE");
    for (i = 0; (it = json_array_get(items, i)) != NULL; i++) {
        const json_t *news = json_object_get(json_object_get(it, "content"), "news_item");
        const char *title = wxctl_str(json_array_get(news, 0), "title");

        printf("%-64s  %-16s  %s", wxctl_str(it, "media_id") ? wxctl_str(it, "media_id") : "",
               wxctl_time(json_integer_value(json_object_get(it, "update_time")), t, sizeof(t)),
               title ? title : "");
        if (json_array_size(news) > 1)
            printf(" (+%zu)", json_array_size(news) - 1);
        putchar('\n');
    }
}

int wxctl_draft(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    int json = wxctl_opts(ctl)->json, rc;
    json_t *ans = NULL, *body;
    char err[512], buf[32];

    if (strcmp(sub, "add") == 0) {
        if (argc != 2)
            return wxctl_usage("draft add takes FILE.json");
        if ((body = wxctl_load_json(argv[1])) == NULL)
            return WXCTL_EXIT_USAGE;
        if (check_draft(body, err, sizeof(err)) != 0) {
            json_decref(body);
            return wxctl_bad("%s: %s", argv[1], err);
        }
        rc = wxctl_call(ctl, "/cgi-bin/draft/add", body, 0, &ans);
        if (rc == 0 && !json)
            printf("media_id    %s\n", wxctl_text(ans, "media_id", buf, sizeof(buf)));
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) {
        if (argc != 2)
            return wxctl_usage("draft %s takes MEDIA_ID", sub);
        body = json_pack("{s:s}", "media_id", argv[1]);
        rc = wxctl_call(ctl, sub[0] == 'g' ? "/cgi-bin/draft/get" : "/cgi-bin/draft/delete",
                        body, 0, &ans);
        if (rc == 0 && !json) {
            if (sub[0] == 'g')
                print_articles(json_object_get(ans, "news_item"));
            else
                printf("draft %s deleted\n", argv[1]);
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "count") == 0) {
        if (argc != 1)
            return wxctl_usage("draft count takes no argument");
        rc = wxctl_call(ctl, "/cgi-bin/draft/count", NULL, 0, &ans);
        if (rc == 0 && !json)
            printf("%s\n", wxctl_text(ans, "total_count", buf, sizeof(buf)));
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "list") == 0) {
        if (argc != 1)
            return wxctl_usage("draft list takes no argument");
        body = json_pack("{s:i}", "no_content", 1);
        rc = wxctl_list(ctl, "/cgi-bin/draft/batchget", body, "drafts", &ans);
        if (rc == 0 && !json) {
            print_list(json_object_get(ans, "item"));
            wxctl_print_count(ans);
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    return wxctl_usage("draft takes add, get, delete, count or list");
}

/* freepublish/get's publish_status (6.5). */
static const char *publish_status(long s)
{
    static const char *const names[] = {
        "published", "publishing", "failed: originality check", "failed",
        "failed: platform review", "deleted after publishing", "banned after publishing",
    };

    return s >= 0 && s < (long)(sizeof(names) / sizeof(names[0])) ? names[s] : "unknown";
}

int wxctl_publish(wxctl_t *ctl, int argc, char **argv)
{
    int json = wxctl_opts(ctl)->json, rc;
    json_t *ans = NULL, *body, *items, *it;
    char buf[32], buf2[32];
    size_t i;

    if (argc == 2 && strcmp(argv[0], "status") == 0) {
        body = json_pack("{s:s}", "publish_id", argv[1]);
        rc = wxctl_call(ctl, "/cgi-bin/freepublish/get", body, 0, &ans);
        if (rc == 0 && !json) {
            long s = (long)json_integer_value(json_object_get(ans, "publish_status"));

            printf("publish_id  %s\n", wxctl_text(ans, "publish_id", buf, sizeof(buf)));
            printf("status      %ld (%s)\n", s, publish_status(s));
            if (wxctl_str(ans, "article_id"))
                printf("article_id  %s\n", wxctl_str(ans, "article_id"));
            items = json_object_get(json_object_get(ans, "article_detail"), "item");
            for (i = 0; (it = json_array_get(items, i)) != NULL; i++)
                printf("article %s   %s\n", wxctl_text(it, "idx", buf2, sizeof(buf2)),
                       wxctl_str(it, "article_url") ? wxctl_str(it, "article_url") : "");
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    if (argc != 1 || strcmp(argv[0], "status") == 0)
        return wxctl_usage("publish takes DRAFT_ID, or status PUBLISH_ID");
    body = json_pack("{s:s}", "media_id", argv[0]);
    rc = wxctl_call(ctl, "/cgi-bin/freepublish/submit", body, 0, &ans);
    if (rc == 0 && !json) {
        const char *pid = wxctl_text(ans, "publish_id", buf, sizeof(buf));

        printf("publish_id  %s\n", pid);
        if (json_object_get(ans, "msg_data_id"))
            printf("msg_data_id %s\n", wxctl_text(ans, "msg_data_id", buf2, sizeof(buf2)));
        fprintf(stderr, "wxctl: publishing is asynchronous: the result comes as the event "
                "PUBLISHJOBFINISH, or see wxctl publish status %s\n", pid);
    }
    json_decref(body);
    json_decref(ans);
    return rc;
}
