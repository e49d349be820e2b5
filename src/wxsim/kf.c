/*
 * kf.c - customer-service accounts and sessions (PROTOCOL.md 15): an
 * account is prefix@account with a nickname of at most 12 Latin or 6
 * Chinese characters, 100 at most; a session ties a follower to one
 * online agent bound to a WeChat user.  New accounts are bound and online;
 * /sim/kf changes that, as the agent's own client would.  Typing is shown
 * to followers only.
 */
#include <stdio.h>
#include <string.h>

#include "wxsim.h"

#define KF_MAX          100
#define NICK_WIDTH_MAX  12          /* a Chinese character counts 2 */
#define PREFIX_MAX      10

/* prefix@account: letters, digits and '_' before the '@', 10 at most. */
static int account_ok(const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    const char *p;

    if (at == NULL || at == a || at - a > PREFIX_MAX || at[1] == '\0')
        return 0;
    for (p = a; p < at; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int nick_ok(const char *n)
{
    size_t w = 0;

    if (n == NULL || n[0] == '\0')
        return 0;
    for (; *n; n++) {
        unsigned char c = (unsigned char)*n;

        if (c < 0x80)
            w++;
        else if ((c & 0xC0) == 0xC0)
            w += 2;
    }
    return w <= NICK_WIDTH_MAX;
}

/* add (update 0) and update (1) share the body and its checks. */
static void kf_write(wxsim_t *sim, wxsim_req_t *rq, int update)
{
    json_t *body = wxsim_req_json(rq), *k;
    const char *acc, *nick;

    if (body == NULL)
        return;
    acc = wxsim_json_str(body, "kf_account");
    nick = wxsim_json_str(body, "nickname");
    k = acc ? json_object_get(sim->kf, acc) : NULL;
    if (!account_ok(acc))
        wxsim_reply_err(rq, 65404, "illegal custom service account");
    else if (!nick_ok(nick))
        wxsim_reply_err(rq, 65403, "illegal nickname");
    else if (update && k == NULL)
        wxsim_reply_err(rq, 65401, "invalid custom service account");
    else if (!update && k != NULL)
        wxsim_reply_err(rq, 65406, "custom service account exists");
    else if (!update && json_object_size(sim->kf) >= KF_MAX)
        wxsim_reply_err(rq, 65405, "custom service account number reach limit");
    else {
        if (update) {
            json_object_set_new(k, "kf_nick", json_string(nick));
        } else {
            char id[24];

            snprintf(id, sizeof(id), "%lld", sim->next_kf_id++);
            json_object_set_new(sim->kf, acc, json_pack("{s:s,s:s,s:b,s:b}", "kf_nick", nick,
                                                        "kf_id", id, "online", 1, "bound", 1));
        }
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_kf_add(wxsim_t *sim, wxsim_req_t *rq)
{
    kf_write(sim, rq, 0);
}

void wxsim_kf_update(wxsim_t *sim, wxsim_req_t *rq)
{
    kf_write(sim, rq, 1);
}

void wxsim_kf_del(wxsim_t *sim, wxsim_req_t *rq)
{
    char acc[128];
    const char *o;
    json_t *s;
    void *it;

    if (wxsim_query_get(rq->query, "kf_account", acc, sizeof(acc)) <= 0 ||
        json_object_get(sim->kf, acc) == NULL) {
        wxsim_reply_err(rq, 65401, "invalid custom service account");
        return;
    }
    json_object_del(sim->kf, acc);
    /* Its sessions end with it. */
    json_object_foreach_safe(sim->kf_sessions, it, o, s)
        if (strcmp(wxsim_json_str(s, "kf_account"), acc) == 0)
            json_object_del(sim->kf_sessions, o);
    wxsim_reply_ok(rq);
}

void wxsim_kf_list(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array(), *k;
    const char *acc;

    json_object_foreach(sim->kf, acc, k)
        json_array_append_new(list, json_pack("{s:s,s:O,s:O,s:s}", "kf_account", acc,
                                              "kf_nick", json_object_get(k, "kf_nick"),
                                              "kf_id", json_object_get(k, "kf_id"),
                                              "kf_headimgurl", ""));
    wxsim_reply_json(rq, json_pack("{s:o}", "kf_list", list));
}

static size_t accepted(const wxsim_t *sim, const char *acc)
{
    const char *o;
    json_t *s;
    size_t n = 0;

    json_object_foreach(sim->kf_sessions, o, s)
        n += strcmp(wxsim_json_str(s, "kf_account"), acc) == 0;
    return n;
}

void wxsim_kf_online(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array(), *k;
    const char *acc;

    json_object_foreach(sim->kf, acc, k) {
        if (!json_is_true(json_object_get(k, "online")))
            continue;
        json_array_append_new(list, json_pack("{s:s,s:i,s:O,s:I}", "kf_account", acc,
                                              "status", 1, "kf_id", json_object_get(k, "kf_id"),
                                              "accepted_case", (json_int_t)accepted(sim, acc)));
    }
    wxsim_reply_json(rq, json_pack("{s:o}", "kf_online_list", list));
}

/* create (1) and close (0): the account and the follower checked. */
static void session(wxsim_t *sim, wxsim_req_t *rq, int create)
{
    json_t *body = wxsim_req_json(rq), *k, *s;
    const char *acc, *openid;

    if (body == NULL)
        return;
    acc = wxsim_json_str(body, "kf_account");
    openid = wxsim_json_str(body, "openid");
    k = acc ? json_object_get(sim->kf, acc) : NULL;
    s = openid ? json_object_get(sim->kf_sessions, openid) : NULL;
    if (k == NULL)
        wxsim_reply_err(rq, 65401, "invalid custom service account");
    else if (!json_is_true(json_object_get(k, "bound")))
        wxsim_reply_err(rq, 65402, "the custom service account need to bind a user");
    else if (wxsim_user_follower(sim, openid) == NULL)
        wxsim_reply_err(rq, 40003, "invalid openid");
    else if (create && !json_is_true(json_object_get(k, "online")))
        wxsim_reply_err(rq, 65415, "custom service account is not online");
    else if (s && strcmp(wxsim_json_str(s, "kf_account"), acc) != 0)
        wxsim_reply_err(rq, 65414, "the user is being served by another agent");
    else if (!create && s == NULL)
        wxsim_reply_err(rq, 65413, "no session for the user");
    else {
        if (create && s == NULL)
            json_object_set_new(sim->kf_sessions, openid,
                                json_pack("{s:s,s:I}", "kf_account", acc,
                                          "createtime", (json_int_t)wxsim_now(sim)));
        else if (!create)
            json_object_del(sim->kf_sessions, openid);
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_kf_session_create(wxsim_t *sim, wxsim_req_t *rq)
{
    session(sim, rq, 1);
}

void wxsim_kf_session_close(wxsim_t *sim, wxsim_req_t *rq)
{
    session(sim, rq, 0);
}

void wxsim_kf_session_get(wxsim_t *sim, wxsim_req_t *rq)
{
    char openid[65];
    json_t *s;

    if (wxsim_query_get(rq->query, "openid", openid, sizeof(openid)) <= 0 ||
        wxsim_user_follower(sim, openid) == NULL) {
        wxsim_reply_err(rq, 40003, "invalid openid");
        return;
    }
    s = json_object_get(sim->kf_sessions, openid);
    /* kf_account "" = nobody serving (15). */
    wxsim_reply_json(rq, json_pack("{s:I,s:s}", "createtime",
                                   (json_int_t)json_integer_value(json_object_get(s, "createtime")),
                                   "kf_account", s ? wxsim_json_str(s, "kf_account") : ""));
}

void wxsim_kf_session_list(wxsim_t *sim, wxsim_req_t *rq)
{
    char acc[128];
    const char *o;
    json_t *list, *s;

    if (wxsim_query_get(rq->query, "kf_account", acc, sizeof(acc)) <= 0 ||
        json_object_get(sim->kf, acc) == NULL) {
        wxsim_reply_err(rq, 65401, "invalid custom service account");
        return;
    }
    list = json_array();
    json_object_foreach(sim->kf_sessions, o, s)
        if (strcmp(wxsim_json_str(s, "kf_account"), acc) == 0)
            json_array_append_new(list, json_pack("{s:O,s:s}", "createtime",
                                                  json_object_get(s, "createtime"), "openid", o));
    wxsim_reply_json(rq, json_pack("{s:o}", "sessionlist", list));
}

void wxsim_kf_waitcase(wxsim_t *sim, wxsim_req_t *rq)
{
    (void)sim;
    /* Every session is created by the API at once: nobody waits. */
    wxsim_reply_json(rq, json_pack("{s:i,s:[]}", "count", 0, "waitcaselist"));
}

void wxsim_kf_typing(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    const char *cmd;

    if (body == NULL)
        return;
    cmd = wxsim_json_str(body, "command");
    if (wxsim_user_follower(sim, wxsim_json_str(body, "touser")) == NULL)
        wxsim_reply_err(rq, 40003, "invalid openid");
    else if (cmd == NULL || (strcmp(cmd, "Typing") != 0 && strcmp(cmd, "CancelTyping") != 0))
        wxsim_reply_err(rq, 47003, "argument invalid! command: Typing or CancelTyping");
    else
        wxsim_reply_ok(rq);
    json_decref(body);
}

void wxsim_kf_ctl(wxsim_t *sim, wxsim_req_t *rq, json_t *body)
{
    const char *acc = wxsim_json_str(body, "kf_account");
    json_t *k = acc ? json_object_get(sim->kf, acc) : NULL, *v;

    if (k == NULL) {
        rq->status = 404;
        wxsim_reply_err(rq, 65401, "invalid custom service account");
        return;
    }
    if (json_is_boolean(v = json_object_get(body, "online")))
        json_object_set(k, "online", v);
    if (json_is_boolean(v = json_object_get(body, "bound")))
        json_object_set(k, "bound", v);
    wxsim_reply_ok(rq);
}
