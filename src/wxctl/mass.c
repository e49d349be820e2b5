/*
 * mass.c - wxctl mass: mass sending (群发, PROTOCOL.md 6.6) by tag, to
 * every follower or to a list of OpenIDs; preview, status, delete and the
 * sending speed.  A send reaches followers and cannot be taken back (only
 * an article can be deleted afterwards): it is confirmed on a terminal,
 * and refused without --yes elsewhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wxctl.h"

#define TOUSER_MIN      2       /* 6.6: 2 - 10 000 OpenIDs */
#define TOUSER_MAX      10000
#define CLIENTMSGID_MAX 64

/* Add the message of TYPE with its arguments to 'body' (msgtype and the
 * object of that name).  The kind for the prompt in *kind.  0, or a usage
 * status after printing why. */
static int add_payload(json_t *body, int argc, char **argv, const char **kind)
{
    const char *type = argc > 0 ? argv[0] : "";
    json_t *ids;
    int i;

    *kind = type;
    if (strcmp(type, "text") == 0) {
        if (argc != 2 || argv[1][0] == '\0')
            return wxctl_usage("text takes one TEXT");
        json_object_set_new(body, "msgtype", json_string("text"));
        json_object_set_new(body, "text", json_pack("{s:s}", "content", argv[1]));
    } else if (strcmp(type, "image") == 0) {
        if (argc < 2)
            return wxctl_usage("image takes MEDIA_ID...");
        json_object_set_new(body, "msgtype", json_string("image"));
        if (argc == 2) {
            /* One image: the form every version of the API takes. */
            json_object_set_new(body, "image", json_pack("{s:s}", "media_id", argv[1]));
        } else {
            ids = json_array();
            for (i = 1; i < argc; i++)
                json_array_append_new(ids, json_string(argv[i]));
            json_object_set_new(body, "images", json_pack("{s:o}", "media_ids", ids));
        }
    } else if (strcmp(type, "voice") == 0 || strcmp(type, "video") == 0 ||
               strcmp(type, "news") == 0) {
        /* video is sent as mpvideo, news (a draft or material) as mpnews. */
        const char *mt = type[0] == 'v' && type[1] == 'o' ? "voice" :
                         type[0] == 'v' ? "mpvideo" : "mpnews";

        if (argc != 2)
            return wxctl_usage("%s takes one MEDIA_ID", type);
        json_object_set_new(body, "msgtype", json_string(mt));
        json_object_set_new(body, mt, json_pack("{s:s}", "media_id", argv[1]));
    } else {
        return wxctl_usage("unknown message type '%s' (text, image, voice, video, news)", type);
    }
    return WXCTL_EXIT_OK;
}

/* --to-file: one OpenID a line, blank lines and # comments skipped. */
static int read_openids(const char *path, json_t *list)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[256];
    size_t n;

    if (f == NULL)
        return wxctl_bad("%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        n = strcspn(line, "\r\n");
        line[n] = '\0';
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        json_array_append_new(list, json_string(line));
    }
    if (f != stdin)
        fclose(f);
    return WXCTL_EXIT_OK;
}

static int add_openids(const char *csv, json_t *list)
{
    const char *p = csv;

    while (*p) {
        size_t n = strcspn(p, ", ");

        if (n > 0)
            json_array_append_new(list, json_stringn(p, n));
        p += n;
        p += strspn(p, ", ");
    }
    return WXCTL_EXIT_OK;
}

/* The audience of a mass send: a tag, every follower, or a list of
 * OpenIDs (PROTOCOL.md 6.6).  Sets the API path and the question asked
 * before sending. */
static int mass_audience(const wxctl_opts_t *o, json_t *body, const char *kind,
                         char *question, size_t qlen, const char **path)
{
    json_t *to;
    char *end;
    long tag;
    int rc = WXCTL_EXIT_OK;

    if (o->tag) {
        errno = 0;
        tag = strtol(o->tag, &end, 10);
        if (errno || *end || end == o->tag || tag < 0)
            return wxctl_usage("--tag takes a tag id (a number)");
        json_object_set_new(body, "filter", json_pack("{s:b,s:I}", "is_to_all", 0,
                                                      "tag_id", (json_int_t)tag));
        snprintf(question, qlen, "Send to tag %ld (%s)?", tag, kind);
        *path = "/cgi-bin/message/mass/sendall";
        return WXCTL_EXIT_OK;
    }
    if (o->to_all) {
        json_object_set_new(body, "filter", json_pack("{s:b}", "is_to_all", 1));
        snprintf(question, qlen, "Send to ALL followers (%s)?", kind);
        *path = "/cgi-bin/message/mass/sendall";
        return WXCTL_EXIT_OK;
    }
    to = json_array();
    if (o->to)
        add_openids(o->to, to);
    if (o->to_file && (rc = read_openids(o->to_file, to)) != 0)
        goto out;
    if (json_array_size(to) < TOUSER_MIN || json_array_size(to) > TOUSER_MAX) {
        rc = wxctl_bad("mass send to a list takes %d to %d OpenIDs, not %zu (for one "
                       "follower: wxctl mass preview or wxctl send)", TOUSER_MIN,
                       TOUSER_MAX, json_array_size(to));
        goto out;
    }
    json_object_set(body, "touser", to);
    snprintf(question, qlen, "Send to %zu followers (%s)?", json_array_size(to), kind);
    *path = "/cgi-bin/message/mass/send";
out:
    json_decref(to);
    return rc;
}

/* A mass send cannot be undone: ask, or insist on --yes when nobody can
 * be asked. */
static int mass_confirm(const wxctl_opts_t *o, const char *question)
{
    if (o->yes)
        return WXCTL_EXIT_OK;
    if (!isatty(STDIN_FILENO))
        return wxctl_bad("mass send reaches followers and cannot be undone: pass --yes "
                         "when standard input is not a terminal");
    if (!wxctl_confirm(question))
        return wxctl_bad("not sent");
    return WXCTL_EXIT_OK;
}

static int mass_send(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    json_t *body = json_object(), *ans = NULL;
    const char *path = NULL, *kind;
    char question[160], buf[32];
    int targets = (o->tag != NULL) + o->to_all + (o->to != NULL || o->to_file != NULL), rc;

    if (targets != 1) {
        rc = wxctl_usage("mass send needs one of --tag ID, --to-all, --to OPENID,... or "
                         "--to-file FILE");
        goto out;
    }
    if ((rc = add_payload(body, argc, argv, &kind)) != 0)
        goto out;
    if ((rc = mass_audience(o, body, kind, question, sizeof(question), &path)) != 0)
        goto out;
    if (o->clientmsgid) {
        if (strlen(o->clientmsgid) > CLIENTMSGID_MAX) {
            rc = wxctl_bad("--clientmsgid is at most %d bytes", CLIENTMSGID_MAX);
            goto out;
        }
        json_object_set_new(body, "clientmsgid", json_string(o->clientmsgid));
    }
    json_object_set_new(body, "send_ignore_reprint", json_integer(o->ignore_reprint));
    if ((rc = mass_confirm(o, question)) != 0)
        goto out;
    rc = wxctl_call(ctl, path, body, 0, &ans);
    if (rc == 0 && !o->json) {
        printf("msg_id      %s\n", wxctl_text(ans, "msg_id", buf, sizeof(buf)));
        if (json_object_get(ans, "msg_data_id"))
            printf("msg_data_id %s\n", wxctl_text(ans, "msg_data_id", buf, sizeof(buf)));
        fprintf(stderr, "wxctl: keep the msg_id: wxctl mass status %s; the result also "
                "comes as the event MASSSENDJOBFINISH\n",
                wxctl_text(ans, "msg_id", buf, sizeof(buf)));
    }
out:
    json_decref(ans);
    json_decref(body);
    return rc;
}

static int mass_preview(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    json_t *body = json_object(), *ans = NULL;
    const char *kind;
    char buf[32];
    int rc;

    if (o->wxname) {
        json_object_set_new(body, "towxname", json_string(o->wxname));
    } else {
        if (argc < 1) {
            json_decref(body);
            return wxctl_usage("mass preview takes OPENID TYPE ... (or --wxname WECHAT_ID TYPE ...)");
        }
        json_object_set_new(body, "touser", json_string(argv[0]));
        argc--;
        argv++;
    }
    if ((rc = add_payload(body, argc, argv, &kind)) == 0) {
        rc = wxctl_call(ctl, "/cgi-bin/message/mass/preview", body, 0, &ans);
        if (rc == 0 && !o->json)
            printf("preview sent (%s)%s%s\n", kind, json_object_get(ans, "msg_id") ?
                   ", msg_id " : "", json_object_get(ans, "msg_id") ?
                   wxctl_text(ans, "msg_id", buf, sizeof(buf)) : "");
    }
    json_decref(ans);
    json_decref(body);
    return rc;
}

static int parse_id(const char *s, long long *id)
{
    char *end;

    errno = 0;
    *id = strtoll(s, &end, 10);
    return errno || *end || end == s || *id < 0 ? -1 : 0;
}

int wxctl_mass(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    const wxctl_opts_t *o = wxctl_opts(ctl);
    json_t *ans = NULL, *body = NULL;
    char buf[32];
    long long id;
    int rc;

    if (strcmp(sub, "send") == 0)
        return mass_send(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "preview") == 0)
        return mass_preview(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0 || strcmp(sub, "delete") == 0) {
        if (argc != 2 || parse_id(argv[1], &id) != 0)
            return wxctl_usage("mass %s takes MSG_ID (a number)", sub);
        if (sub[0] == 's') {
            body = json_pack("{s:s}", "msg_id", argv[1]);
            rc = wxctl_call(ctl, "/cgi-bin/message/mass/get", body, 0, &ans);
            if (rc == 0 && !o->json) {
                printf("msg_id      %s\n", wxctl_text(ans, "msg_id", buf, sizeof(buf)));
                printf("status      %s\n", wxctl_str(ans, "msg_status") ?
                       wxctl_str(ans, "msg_status") : "");
            }
        } else {
            body = json_pack("{s:I}", "msg_id", (json_int_t)id);
            if (o->index >= 0)
                json_object_set_new(body, "article_idx", json_integer(o->index));
            rc = wxctl_call(ctl, "/cgi-bin/message/mass/delete", body, 0, &ans);
            if (rc == 0 && !o->json)
                printf("mass message %s deleted\n", argv[1]);
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    if (strcmp(sub, "speed") == 0) {
        if (argc == 2 && strcmp(argv[1], "get") == 0) {
            body = json_object();
            rc = wxctl_call(ctl, "/cgi-bin/message/mass/speed/get", body, 0, &ans);
            if (rc == 0 && !o->json) {
                printf("speed       %s (0 fastest - 4 slowest)\n",
                       wxctl_text(ans, "speed", buf, sizeof(buf)));
                printf("realspeed   %s (x 10 000 messages a minute)\n",
                       wxctl_text(ans, "realspeed", buf, sizeof(buf)));
            }
        } else if (argc == 3 && strcmp(argv[1], "set") == 0) {
            if (parse_id(argv[2], &id) != 0 || id > 4)
                return wxctl_usage("mass speed set takes a level 0 (80 x 10 000 a minute) "
                                   "to 4 (10 x 10 000)");
            body = json_pack("{s:I}", "speed", (json_int_t)id);
            rc = wxctl_call(ctl, "/cgi-bin/message/mass/speed/set", body, 0, &ans);
            if (rc == 0 && !o->json)
                printf("speed set to %lld\n", id);
        } else {
            return wxctl_usage("mass speed takes get, or set LEVEL");
        }
        json_decref(body);
        json_decref(ans);
        return rc;
    }
    return wxctl_usage("mass takes send, preview, status, delete or speed");
}
