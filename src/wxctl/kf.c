/*
 * kf.c - wxctl kf list|add|del|session|typing (PROTOCOL.md 15): the
 * customer-service accounts, a follower's session with one of them, and
 * the "typing" indicator.  Checked before sending: an account is
 * prefix@account (prefix: 1-10 letters, digits, '_'), a nickname 12
 * Latin or 6 Chinese characters at most.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "wxctl.h"

#define PREFIX_MAX      10
#define NICK_WIDTH_MAX  12

static int account_ok(const char *a)
{
    const char *at = strchr(a, '@'), *p;

    if (at == NULL || at == a || at - a > PREFIX_MAX || at[1] == '\0')
        return wxctl_bad("'%.80s': an account is PREFIX@ACCOUNT, PREFIX 1 to %d letters, "
                         "digits or '_'", a, PREFIX_MAX);
    for (p = a; p < at; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return wxctl_bad("'%.80s': the prefix has letters, digits or '_'", a);
    return 0;
}

static int nick_ok(const char *n)
{
    size_t w = 0;

    for (; *n; n++)
        w += ((unsigned char)*n < 0x80) ? 1 : ((unsigned char)*n & 0xC0) == 0xC0 ? 2 : 0;
    return w >= 1 && w <= NICK_WIDTH_MAX ? 0 :
           wxctl_bad("a nickname has 12 Latin or 6 Chinese characters at most");
}

/* GET path?name=value; the answer in *ans. */
static int get_with(wxctl_t *ctl, const char *path, const char *name, const char *value,
                    json_t **ans)
{
    char *esc = wxctl_escape(ctl, value), url[512];

    if (esc == NULL)
        return WXCTL_EXIT_USAGE;
    snprintf(url, sizeof(url), "%s?%s=%s", path, name, esc);
    curl_free(esc);
    return wxctl_call(ctl, url, NULL, 0, ans);
}

static int kf_list(wxctl_t *ctl)
{
    json_t *ans = NULL, *on = NULL, *k, *o;
    char buf[24];
    size_t i, j;
    int rc = wxctl_call(ctl, "/cgi-bin/customservice/getkflist", NULL, 0, &ans);

    if (rc == 0)
        rc = wxctl_call(ctl, "/cgi-bin/customservice/getonlinekflist", NULL, 0, &on);
    if (rc == 0 && !wxctl_opts(ctl)->json) {
        printf("%-8s %-32s %-8s %s\n", "ID", "ACCOUNT", "ONLINE", "NICKNAME");
        json_array_foreach(json_object_get(ans, "kf_list"), i, k) {
            const char *acc = wxctl_str(k, "kf_account"), *state = "no";

            json_array_foreach(json_object_get(on, "kf_online_list"), j, o)
                if (acc && wxctl_str(o, "kf_account") && strcmp(acc, wxctl_str(o, "kf_account")) == 0)
                    state = "yes";
            printf("%-8s %-32s %-8s %s\n", wxctl_text(k, "kf_id", buf, sizeof(buf)),
                   acc ? acc : "", state, wxctl_str(k, "kf_nick") ? wxctl_str(k, "kf_nick") : "");
        }
    }
    json_decref(on);
    json_decref(ans);
    return rc;
}

static int done(wxctl_t *ctl, int rc, json_t *ans, json_t *body, const char *what)
{
    if (rc == 0 && what && !wxctl_opts(ctl)->json)
        printf("%s\n", what);
    json_decref(ans);
    json_decref(body);
    return rc;
}

/* kf session OPENID | kf session open|close ACCOUNT OPENID */
static int kf_session(wxctl_t *ctl, int argc, char **argv)
{
    json_t *ans = NULL, *body;
    char t[32];
    int rc, open;

    if (argc == 1) {
        rc = get_with(ctl, "/customservice/kfsession/getsession", "openid", argv[0], &ans);
        if (rc == 0 && !wxctl_opts(ctl)->json) {
            const char *acc = wxctl_str(ans, "kf_account");

            if (acc && acc[0])
                printf("served by   %s since %s\n", acc, wxctl_time(json_integer_value(
                       json_object_get(ans, "createtime")), t, sizeof(t)));
            else
                printf("no session\n");
        }
        return done(ctl, rc, ans, NULL, NULL);
    }
    if (argc != 3 || (strcmp(argv[0], "open") != 0 && strcmp(argv[0], "close") != 0))
        return wxctl_usage("kf session takes OPENID, or open|close ACCOUNT OPENID");
    if ((rc = account_ok(argv[1])) != 0)
        return rc;
    open = strcmp(argv[0], "open") == 0;
    body = json_pack("{s:s,s:s}", "kf_account", argv[1], "openid", argv[2]);
    rc = wxctl_call(ctl, open ? "/customservice/kfsession/create" :
                    "/customservice/kfsession/close", body, 0, &ans);
    return done(ctl, rc, ans, body, open ? "session opened" : "session closed");
}

int wxctl_kf(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    json_t *body, *ans = NULL;
    int rc;

    if (strcmp(sub, "list") == 0 && argc == 1)
        return kf_list(ctl);
    if (strcmp(sub, "add") == 0 && argc == 3) {
        if ((rc = account_ok(argv[1])) != 0 || (rc = nick_ok(argv[2])) != 0)
            return rc;
        body = json_pack("{s:s,s:s}", "kf_account", argv[1], "nickname", argv[2]);
        rc = wxctl_call(ctl, "/customservice/kfaccount/add", body, 0, &ans);
        return done(ctl, rc, ans, body, "account added");
    }
    if (strcmp(sub, "del") == 0 && argc == 2) {
        if ((rc = account_ok(argv[1])) != 0)
            return rc;
        rc = get_with(ctl, "/customservice/kfaccount/del", "kf_account", argv[1], &ans);
        return done(ctl, rc, ans, NULL, "account deleted");
    }
    if (strcmp(sub, "session") == 0)
        return kf_session(ctl, argc - 1, argv + 1);
    if (strcmp(sub, "typing") == 0 && (argc == 2 || argc == 3)) {
        int stop = argc == 3 && strcmp(argv[2], "off") == 0;

        if (argc == 3 && !stop && strcmp(argv[2], "on") != 0)
            return wxctl_usage("kf typing takes OPENID [on|off]");
        body = json_pack("{s:s,s:s}", "touser", argv[1], "command", stop ? "CancelTyping" : "Typing");
        rc = wxctl_call(ctl, "/cgi-bin/message/custom/typing", body, 0, &ans);
        return done(ctl, rc, ans, body, stop ? "typing off" : "typing on");
    }
    return wxctl_usage("kf takes list, add ACCOUNT NICKNAME, del ACCOUNT, session ..., "
                       "typing OPENID [on|off]");
}
