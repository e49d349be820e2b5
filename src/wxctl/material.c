/*
 * material.c - wxctl material: permanent material (PROTOCOL.md 6.4):
 * add (a video with its title and introduction), get, delete, count and
 * the paged list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxctl.h"

static int material_add(wxctl_t *ctl, const char *type, const char *path)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    wxctl_field_t extra[2] = { { NULL, NULL }, { NULL, NULL } };
    json_t *ans = NULL, *desc = NULL;
    char q[64], *text = NULL;
    int rc;

    if ((rc = wxctl_media_check(type, path, 1)) != 0)
        return rc;
    if (strcmp(type, "video") == 0) {
        if (o->title == NULL || o->title[0] == '\0')
            return wxctl_usage("material add video needs --title TEXT (and --introduction TEXT)");
        /* A form field "description" = {"title","introduction"} (6.4). */
        desc = json_pack("{s:s,s:s}", "title", o->title, "introduction",
                         o->introduction ? o->introduction : "");
        if (desc == NULL || (text = json_dumps(desc, JSON_COMPACT)) == NULL) {
            json_decref(desc);
            return wxctl_bad("--title and --introduction must be UTF-8");
        }
        extra[0].name = "description";
        extra[0].value = text;
    } else if (o->title || o->introduction) {
        return wxctl_usage("--title and --introduction are for a video");
    }
    snprintf(q, sizeof(q), "/cgi-bin/material/add_material?type=%s", type);
    rc = wxctl_upload(ctl, q, path, extra, &ans);
    if (rc == 0 && !o->json) {
        printf("media_id    %s\n", wxctl_str(ans, "media_id") ? wxctl_str(ans, "media_id") : "");
        if (wxctl_str(ans, "url"))
            printf("url         %s\n", wxctl_str(ans, "url"));
    }
    json_decref(ans);
    json_decref(desc);
    free(text);
    return rc;
}

static void print_items(const json_t *list)
{
    const json_t *it;
    char t[32], b[32];
    size_t i;

    printf("%-64s  %-16s  %s\n", "MEDIA_ID", "UPDATED", "NAME");
    for (i = 0; (it = json_array_get(list, i)) != NULL; i++) {
        const char *name = wxctl_str(it, "name");

        /* News materials carry their titles in content.news_item[]. */
        if (name == NULL)
            name = wxctl_str(json_array_get(json_object_get(json_object_get(it, "content"),
                                                            "news_item"), 0), "title");
        printf("%-64s  %-16s  %s\n", wxctl_text(it, "media_id", b, sizeof(b)),
               wxctl_time(json_integer_value(json_object_get(it, "update_time")), t, sizeof(t)),
               name ? name : "");
    }
}

int wxctl_material(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    int json = wxctl_opts(ctl)->json, rc;
    json_t *ans = NULL, *body;

    if (strcmp(sub, "add") == 0) {
        if (argc != 3)
            return wxctl_usage("material add takes TYPE FILE");
        return material_add(ctl, argv[1], argv[2]);
    }
    if (strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) {
        if (argc != 2)
            return wxctl_usage("material %s takes MEDIA_ID", sub);
        body = json_pack("{s:s}", "media_id", argv[1]);
        if (sub[0] == 'g') {
            rc = wxctl_fetch(ctl, "/cgi-bin/material/get_material", body, "material get");
        } else {
            rc = wxctl_call(ctl, "/cgi-bin/material/del_material", body, 0, &ans);
            if (rc == 0 && !json)
                printf("material %s deleted\n", argv[1]);
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "count") == 0) {
        if (argc != 1)
            return wxctl_usage("material count takes no argument");
        rc = wxctl_call(ctl, "/cgi-bin/material/get_materialcount", NULL, 0, &ans);
        if (rc == 0 && !json) {
            static const char *const kinds[] = { "image", "voice", "video", "news" };
            char key[32], buf[32];
            size_t i;

            for (i = 0; i < 4; i++) {
                snprintf(key, sizeof(key), "%s_count", kinds[i]);
                printf("%-6s %s\n", kinds[i], wxctl_text(ans, key, buf, sizeof(buf)));
            }
        }
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "list") == 0) {
        if (argc != 2)
            return wxctl_usage("material list takes TYPE (image, voice, video, news)");
        if (strcmp(argv[1], "image") != 0 && strcmp(argv[1], "voice") != 0 &&
            strcmp(argv[1], "video") != 0 && strcmp(argv[1], "news") != 0)
            return wxctl_usage("unknown material type '%s' (image, voice, video, news)", argv[1]);
        body = json_pack("{s:s}", "type", argv[1]);
        rc = wxctl_list(ctl, "/cgi-bin/material/batchget_material", body, argv[1], &ans);
        if (rc == 0 && !json) {
            print_items(json_object_get(ans, "item"));
            wxctl_print_count(ans);
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    return wxctl_usage("material takes add, get, delete, count or list");
}
