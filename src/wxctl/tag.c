/*
 * tag.c - wxctl tag list|create|rename|delete|add|remove|of and wxctl
 * blacklist (PROTOCOL.md 9).  Checked before sending: names of 1-30
 * bytes, the built-in tags 0, 1 and 2 left alone, 50 followers a tagging
 * call and 20 a blacklist call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxctl.h"

#define TAG_NAME_MAX    30
#define TAGGING_MAX     50
#define BLACK_MAX       20

static int parse_id(const char *s, long long *id)
{
    char *end;

    errno = 0;
    *id = strtoll(s, &end, 10);
    if (errno || *end || end == s || *id < 0)
        return wxctl_usage("'%.40s' is not a tag id", s);
    return 0;
}

/* A tag that may be renamed or deleted. */
static int tag_id(const char *s, long long *id)
{
    int rc = parse_id(s, id);

    if (rc != 0)
        return rc;
    if (*id <= 2)
        return wxctl_bad("tags 0, 1 and 2 are the platform's and cannot be changed");
    return 0;
}

static int name_ok(const char *name)
{
    if (name[0] == '\0' || strlen(name) > TAG_NAME_MAX)
        return wxctl_bad("a tag name has 1 to %d bytes", TAG_NAME_MAX);
    return 0;
}

/* POST 'body' (taken) to 'path'; on success print 'done'. */
static int post(wxctl_t *ctl, const char *path, json_t *body, const char *done)
{
    json_t *ans = NULL;
    int rc = wxctl_call(ctl, path, body, 0, &ans);

    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("%s\n", done);
    json_decref(ans);
    json_decref(body);
    return rc;
}

static int tag_list(wxctl_t *ctl)
{
    json_t *ans = NULL, *t;
    char id[24], n[24];
    size_t i;
    int rc = wxctl_call(ctl, "/cgi-bin/tags/get", NULL, 0, &ans);

    if (rc == 0 && !wxctl_opts(ctl)->json) {
        printf("%-6s %-8s %s\n", "ID", "COUNT", "NAME");
        json_array_foreach(json_object_get(ans, "tags"), i, t)
            printf("%-6s %-8s %s\n", wxctl_text(t, "id", id, sizeof(id)),
                   wxctl_text(t, "count", n, sizeof(n)), wxctl_str(t, "name"));
    }
    json_decref(ans);
    return rc;
}

static int tag_members(wxctl_t *ctl, int add, int argc, char **argv)
{
    long long id;
    json_t *ids;
    char done[96];
    int rc;

    if (argc < 2)
        return wxctl_usage("tag %s takes ID OPENID...", add ? "add" : "remove");
    if ((rc = parse_id(argv[0], &id)) != 0)
        return rc;
    if (id <= 1)
        return wxctl_bad("tag %lld cannot be given (tag 1 is the blacklist: use wxctl "
                         "blacklist)", id);
    if ((ids = wxctl_openids(argc - 1, argv + 1, TAGGING_MAX, add ? "tag add" : "tag remove")) == NULL)
        return WXCTL_EXIT_USAGE;
    snprintf(done, sizeof(done), "%d followers %s tag %lld", argc - 1,
             add ? "added to" : "removed from", id);
    return post(ctl, add ? "/cgi-bin/tags/members/batchtagging" :
                "/cgi-bin/tags/members/batchuntagging",
                json_pack("{s:o,s:I}", "openid_list", ids, "tagid", (json_int_t)id), done);
}

static int tag_of(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *ans = NULL, *v;
    size_t i;
    int rc;

    if (argc != 1)
        return wxctl_usage("tag of takes OPENID");
    body = json_pack("{s:s}", "openid", argv[0]);
    rc = wxctl_call(ctl, "/cgi-bin/tags/getidlist", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json) {
        json_array_foreach(json_object_get(ans, "tagid_list"), i, v)
            printf("%s%lld", i ? " " : "", (long long)json_integer_value(v));
        printf("\n");
    }
    json_decref(ans);
    json_decref(body);
    return rc;
}

static int tag_create(wxctl_t *ctl, int argc, char **argv)
{
    json_t *body, *ans = NULL;
    char id[24];
    int rc;

    if (argc != 1)
        return wxctl_usage("tag create takes NAME");
    if ((rc = name_ok(argv[0])) != 0)
        return rc;
    body = json_pack("{s:{s:s}}", "tag", "name", argv[0]);
    rc = wxctl_call(ctl, "/cgi-bin/tags/create", body, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json)
        printf("tag %s created: %s\n",
               wxctl_text(json_object_get(ans, "tag"), "id", id, sizeof(id)), argv[0]);
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_tag(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    long long id;
    char done[96];
    int rc;

    if (strcmp(sub, "list") == 0 && argc == 1)
        return tag_list(ctl);
    if (strcmp(sub, "create") == 0)
        return tag_create(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "rename") == 0 && argc == 3) {
        if ((rc = tag_id(argv[1], &id)) != 0 || (rc = name_ok(argv[2])) != 0)
            return rc;
        snprintf(done, sizeof(done), "tag %lld renamed", id);
        return post(ctl, "/cgi-bin/tags/update",
                    json_pack("{s:{s:I,s:s}}", "tag", "id", (json_int_t)id, "name", argv[2]), done);
    }
    if (strcmp(sub, "delete") == 0 && argc == 2) {
        if ((rc = tag_id(argv[1], &id)) != 0)
            return rc;
        snprintf(done, sizeof(done), "tag %lld deleted", id);
        return post(ctl, "/cgi-bin/tags/delete",
                    json_pack("{s:{s:I}}", "tag", "id", (json_int_t)id), done);
    }
    if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0)
        return tag_members(ctl, sub[0] == 'a', argc - 1, argv + 1);
    if (strcmp(sub, "of") == 0)
        return tag_of(ctl, argc - 1, argv + 1);
    return wxctl_usage("tag takes list, create NAME, rename ID NAME, delete ID, "
                       "add|remove ID OPENID..., of OPENID");
}

static int black_list(wxctl_t *ctl)
{
    json_t *body = json_pack("{s:s}", "begin_openid", ""), *ans = NULL, *v;
    size_t i;
    int rc = wxctl_call(ctl, "/cgi-bin/tags/members/getblacklist", body, 0, &ans);

    if (rc == 0 && !wxctl_opts(ctl)->json) {
        json_array_foreach(json_object_get(json_object_get(ans, "data"), "openid"), i, v)
            printf("%s\n", json_string_value(v));
        fprintf(stderr, "(%lld blacklisted)\n",
                (long long)json_integer_value(json_object_get(ans, "total")));
    }
    json_decref(ans);
    json_decref(body);
    return rc;
}

int wxctl_blacklist(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "list";
    int add = strcmp(sub, "add") == 0;
    json_t *ids;
    char done[64];

    if (strcmp(sub, "list") == 0 && argc <= 1)
        return black_list(ctl);
    if (!add && strcmp(sub, "remove") != 0)
        return wxctl_usage("blacklist takes list, add OPENID... or remove OPENID...");
    if ((ids = wxctl_openids(argc - 1, argv + 1, BLACK_MAX, add ? "blacklist add" :
                             "blacklist remove")) == NULL)
        return WXCTL_EXIT_USAGE;
    snprintf(done, sizeof(done), "%d followers %s the blacklist", argc - 1,
             add ? "added to" : "removed from");
    return post(ctl, add ? "/cgi-bin/tags/members/batchblacklist" :
                "/cgi-bin/tags/members/batchunblacklist",
                json_pack("{s:o}", "openid_list", ids), done);
}
