/*
 * user.c - the account's users (PROTOCOL.md 9): user info one at a time
 * or 100 at most at once, the follower list in pages of 10 000 that
 * follow next_openid, remarks; and the followers themselves, which tests
 * create through /sim/followers (the platform has no API to follow).
 */
#include <stdio.h>
#include <string.h>

#include "wxsim.h"

#define BATCHGET_MAX    100
#define PAGE_MAX        10000
#define REMARK_MAX      30          /* characters, fewer than (9) */
#define OPENID_MAX      64
#define FOLLOWERS_ADD_MAX 200000    /* one /sim/followers call */

json_t *wxsim_user_follower(const wxsim_t *sim, const char *openid)
{
    json_t *u = openid ? json_object_get(sim->users, openid) : NULL;

    return json_is_true(json_object_get(u, "subscribe")) ? u : NULL;
}

json_t *wxsim_user_follow(wxsim_t *sim, const char *openid, const char *scene)
{
    json_t *u = json_object_get(sim->users, openid);

    if (u == NULL) {
        u = json_pack("{s:b,s:s,s:[],s:b}", "subscribe", 0, "remark", "", "tagid_list",
                      "black", 0);
        if (u == NULL || json_object_set_new(sim->users, openid, u) != 0)
            return NULL;
    }
    /* subscribe_time is the last time the user followed (9). */
    json_object_set_new(u, "subscribe", json_true());
    json_object_set_new(u, "subscribe_time", json_integer(wxsim_now(sim)));
    json_object_set_new(u, "subscribe_scene", json_string(scene ? scene : "ADD_SCENE_OTHERS"));
    json_object_set_new(u, "qr_scene", json_integer(0));
    json_object_set_new(u, "qr_scene_str", json_string(""));
    return u;
}

/* The answer's user object: the placeholders of the 2021 change for the
 * fields no longer given; an unfollowed user has the short form. */
static json_t *user_view(const char *openid, json_t *u)
{
    if (!json_is_true(json_object_get(u, "subscribe")))
        return json_pack("{s:i,s:s,s:[]}", "subscribe", 0, "openid", openid, "tagid_list");
    return json_pack("{s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:O,s:O,s:i,s:O,s:O,s:O,s:O}",
                     "subscribe", 1, "openid", openid, "nickname", "", "sex", 0,
                     "language", "zh_CN", "city", "", "province", "", "country", "",
                     "headimgurl", "", "subscribe_time", json_object_get(u, "subscribe_time"),
                     "remark", json_object_get(u, "remark"), "groupid", 0,
                     "tagid_list", json_object_get(u, "tagid_list"),
                     "subscribe_scene", json_object_get(u, "subscribe_scene"),
                     "qr_scene", json_object_get(u, "qr_scene"),
                     "qr_scene_str", json_object_get(u, "qr_scene_str"));
}

void wxsim_user_info(wxsim_t *sim, wxsim_req_t *rq)
{
    char openid[OPENID_MAX + 1];
    json_t *u;

    if (wxsim_query_get(rq->query, "openid", openid, sizeof(openid)) <= 0 ||
        (u = json_object_get(sim->users, openid)) == NULL) {
        wxsim_reply_err(rq, 40003, "invalid openid");
        return;
    }
    wxsim_reply_json(rq, user_view(openid, u));
}

void wxsim_user_batchget(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *list, *e, *out = NULL, *u;
    const char *openid;
    size_t i;

    if (body == NULL)
        return;
    list = json_object_get(body, "user_list");
    if (!json_is_array(list) || json_array_size(list) == 0) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    if (json_array_size(list) > BATCHGET_MAX) {
        wxsim_reply_err(rq, 40032, "invalid openid list size (%d at most)", BATCHGET_MAX);
        goto out;
    }
    out = json_array();
    json_array_foreach(list, i, e) {
        openid = wxsim_json_str(e, "openid");
        if (openid == NULL || (u = json_object_get(sim->users, openid)) == NULL) {
            wxsim_reply_err(rq, 40003, "invalid openid: user_list[%zu]", i);
            goto out;
        }
        json_array_append_new(out, user_view(openid, u));
    }
    wxsim_reply_json(rq, json_pack("{s:O}", "user_info_list", out));
out:
    json_decref(out);
    json_decref(body);
}

static int is_follower(json_t *u, long long arg)
{
    (void)arg;
    return json_is_true(json_object_get(u, "subscribe"));
}

int wxsim_user_page(wxsim_req_t *rq, json_t *users, const char *after, size_t max,
                    int with_total, int (*keep)(json_t *user, long long arg), long long arg)
{
    json_t *ids = json_array(), *ans;
    const char *last = "";
    size_t total = 0;
    void *it;
    int started = after == NULL || after[0] == '\0';

    if (!started && json_object_get(users, after) == NULL) {
        json_decref(ids);
        wxsim_reply_err(rq, 40003, "invalid next_openid");
        return -1;
    }
    for (it = json_object_iter(users); it; it = json_object_iter_next(users, it)) {
        const char *id = json_object_iter_key(it);
        json_t *u = json_object_iter_value(it);

        if (!keep(u, arg))
            continue;
        total++;
        if (started && json_array_size(ids) < max) {
            json_array_append_new(ids, json_string(id));
            last = id;
        }
        if (!started && strcmp(id, after) == 0)
            started = 1;
        if (!with_total && json_array_size(ids) == max)
            break;
    }
    /* After the last page: count 0, no data, next_openid "" (9). */
    if (json_array_size(ids) == 0) {
        ans = json_pack("{s:i,s:s}", "count", 0, "next_openid", "");
        json_decref(ids);
    } else {
        ans = json_pack("{s:I,s:{s:o},s:s}", "count", (json_int_t)json_array_size(ids),
                        "data", "openid", ids, "next_openid", last);
    }
    if (with_total && ans)
        json_object_set_new(ans, "total", json_integer((json_int_t)total));
    wxsim_reply_json(rq, ans);
    return 0;
}

void wxsim_user_get(wxsim_t *sim, wxsim_req_t *rq)
{
    char next[OPENID_MAX + 1] = "";

    if (wxsim_query_get(rq->query, "next_openid", next, sizeof(next)) == -2) {
        wxsim_reply_err(rq, 40003, "invalid next_openid");
        return;
    }
    wxsim_user_page(rq, sim->users, next, PAGE_MAX, 1, is_follower, 0);
}

/* Characters of UTF-8 text (continuation bytes not counted). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

void wxsim_user_remark(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *u;
    const char *remark;

    if (body == NULL)
        return;
    remark = wxsim_json_str(body, "remark");
    if ((u = wxsim_user_follower(sim, wxsim_json_str(body, "openid"))) == NULL)
        wxsim_reply_err(rq, 40003, "invalid openid");
    else if (remark == NULL)
        wxsim_reply_err(rq, 47001, "data format error");
    else if (utf8_chars(remark) >= REMARK_MAX)
        wxsim_reply_err(rq, 47003, "argument invalid! remark: fewer than %d characters",
                        REMARK_MAX);
    else {
        json_object_set_new(u, "remark", json_string(remark));
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

/* /sim/followers: POST {"count":N[,"tagid":ID]} adds N followers named
 * oSIM + 24 digits (tagged ID when given), {"openid":X} follows X,
 * {"unfollow":X} unfollows X; GET the number of followers. */
static void ctl_followers(wxsim_t *sim, wxsim_req_t *rq, json_t *body, int post)
{
    json_int_t n = json_integer_value(json_object_get(body, "count"));
    json_int_t tag = json_integer_value(json_object_get(body, "tagid"));
    const char *one = wxsim_json_str(body, "openid"), *gone = wxsim_json_str(body, "unfollow");
    char id[OPENID_MAX + 1];
    json_t *u;
    size_t total = 0;
    void *it;

    if (post && (n < 0 || n > FOLLOWERS_ADD_MAX || (one && strlen(one) > OPENID_MAX) ||
                 (tag && !wxsim_tag_exists(sim, tag)))) {
        rq->status = 400;
        wxsim_reply_err(rq, 47001, "count 0 to %d, openid of %d bytes at most, tagid known",
                        FOLLOWERS_ADD_MAX, OPENID_MAX);
        return;
    }
    for (; post && n > 0; n--) {
        snprintf(id, sizeof(id), "oSIM%024lu", sim->next_follower++);
        if ((u = wxsim_user_follow(sim, id, NULL)) != NULL && tag)
            json_array_append_new(json_object_get(u, "tagid_list"), json_integer(tag));
    }
    if (post && one && one[0])
        wxsim_user_follow(sim, one, NULL);
    if (post && gone && (u = json_object_get(sim->users, gone)) != NULL) {
        json_object_set_new(u, "subscribe", json_false());
        json_array_clear(json_object_get(u, "tagid_list"));
        json_object_set_new(u, "black", json_false());
    }
    for (it = json_object_iter(sim->users); it; it = json_object_iter_next(sim->users, it))
        total += is_follower(json_object_iter_value(it), 0);
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I}", "errcode", 0, "errmsg", "ok",
                                   "followers", (json_int_t)total));
}

int wxsim_user_ctl(wxsim_t *sim, wxsim_req_t *rq, const char *what, json_t *body)
{
    int post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;

    if (strcmp(what, "followers") == 0 && (get || post))
        ctl_followers(sim, rq, body, post);
    else if (strcmp(what, "kf") == 0 && post)
        wxsim_kf_ctl(sim, rq, body);
    else if (strcmp(what, "subscribe") == 0 && (get || post))
        wxsim_sub_ctl(sim, rq, post ? body : NULL);
    else
        return 0;
    return 1;
}
