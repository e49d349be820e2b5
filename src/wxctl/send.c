/*
 * send.c - wxctl send: customer-service messages (客服消息, PROTOCOL.md
 * 6.7) to one follower who wrote to the account recently.
 */
#include <stdio.h>
#include <string.h>

#include "wxctl.h"

/* The message object of each kind: its msgtype and how many words of
 * arguments follow the OpenID. */
static json_t *message(const wxctl_opts_t *o, const char *kind, int argc, char **argv,
                       const char **msgtype)
{
    *msgtype = kind;
    if (strcmp(kind, "text") == 0 && argc == 1)
        return json_pack("{s:s}", "content", argv[0]);
    if ((strcmp(kind, "image") == 0 || strcmp(kind, "voice") == 0 ||
         strcmp(kind, "mpnews") == 0) && argc == 1)
        return json_pack("{s:s}", "media_id", argv[0]);
    if (strcmp(kind, "article") == 0 && argc == 1) {
        *msgtype = "mpnewsarticle";
        return json_pack("{s:s}", "article_id", argv[0]);
    }
    if (strcmp(kind, "video") == 0 && argc == 1) {
        json_t *v = json_pack("{s:s}", "media_id", argv[0]);

        if (o->thumb)
            json_object_set_new(v, "thumb_media_id", json_string(o->thumb));
        if (o->title)
            json_object_set_new(v, "title", json_string(o->title));
        if (o->description)
            json_object_set_new(v, "description", json_string(o->description));
        return v;
    }
    if (strcmp(kind, "news") == 0 && argc == 2) {
        json_t *a = json_pack("{s:s,s:s}", "title", argv[0], "url", argv[1]);

        if (o->description)
            json_object_set_new(a, "description", json_string(o->description));
        if (o->picurl)
            json_object_set_new(a, "picurl", json_string(o->picurl));
        return json_pack("{s:[o]}", "articles", a);
    }
    return NULL;
}

int wxctl_send(wxctl_t *ctl, int argc, char **argv)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    json_t *body, *obj, *ans = NULL;
    const char *msgtype;
    int rc;

    if (argc < 2)
        return wxctl_usage("send takes KIND OPENID ...");
    obj = message(o, argv[0], argc - 2, argv + 2, &msgtype);
    if (obj == NULL)
        return wxctl_usage("send: text OPENID TEXT, image|voice|video|mpnews OPENID MEDIA_ID, "
                           "article OPENID ARTICLE_ID or news OPENID TITLE URL");
    body = json_pack("{s:s,s:s,s:o}", "touser", argv[1], "msgtype", msgtype, msgtype, obj);
    if (body == NULL)
        return wxctl_bad("the arguments must be UTF-8");
    if (o->kf)
        json_object_set_new(body, "customservice", json_pack("{s:s}", "kf_account", o->kf));
    rc = wxctl_call(ctl, "/cgi-bin/message/custom/send", body, 0, &ans);
    if (rc == 0 && !o->json)
        printf("sent (%s)\n", msgtype);
    json_decref(ans);
    json_decref(body);
    return rc;
}
