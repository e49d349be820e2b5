/*
 * tag.c - tags and the blacklist (PROTOCOL.md 9): at most 100 tags of
 * names up to 30 bytes, unique; tags 0, 1 and 2 are the platform's and
 * cannot change; a follower carries at most 20 tags; tagging and
 * untagging take 50 followers a call, the blacklist 20.  Tag 1 (黑名单)
 * counts the blacklisted followers.
 */
#include <stdlib.h>
#include <string.h>

#include "wxsim.h"

#define TAGS_MAX        100         /* the account's own tags */
#define TAG_NAME_MAX    30          /* bytes of UTF-8 */
#define USER_TAGS_MAX   20
#define TAGGING_MAX     50
#define BLACK_MAX       20
#define PAGE_MAX        10000
#define DELETE_MAX      100000      /* more followers: untag them first (45057) */
#define TAG_BLACK       1

json_t *wxsim_tag_defaults(void)
{
    return json_pack("[{s:i,s:s},{s:i,s:s}]", "id", 1, "name", "黑名单", "id", 2, "name", "星标组");
}

static json_t *tag_find(const wxsim_t *sim, long long id, size_t *index)
{
    json_t *t;
    size_t i;

    json_array_foreach(sim->tags, i, t) {
        if (json_integer_value(json_object_get(t, "id")) == id) {
            if (index)
                *index = i;
            return t;
        }
    }
    return NULL;
}

int wxsim_tag_exists(const wxsim_t *sim, long long id)
{
    return tag_find(sim, id, NULL) != NULL;
}

int wxsim_user_has_tag(const json_t *user, long long id)
{
    json_t *v;
    size_t i;

    if (id == TAG_BLACK)
        return json_is_true(json_object_get(user, "black"));
    json_array_foreach(json_object_get(user, "tagid_list"), i, v)
        if (json_integer_value(v) == id)
            return 1;
    return 0;
}

static int has_tag(json_t *u, long long id)
{
    return json_is_true(json_object_get(u, "subscribe")) && wxsim_user_has_tag(u, id);
}

static size_t tag_count(const wxsim_t *sim, long long id)
{
    const char *k;
    json_t *u;
    size_t n = 0;

    json_object_foreach(sim->users, k, u)
        n += has_tag(u, id);
    return n;
}

/* The name of {"tag":{"name"}}: 45157 empty or taken (by another tag
 * than 'self'), 45158 over 30 bytes.  NULL after answering. */
static const char *check_name(const wxsim_t *sim, wxsim_req_t *rq, json_t *tag, long long self)
{
    const char *name = wxsim_json_str(tag, "name");
    json_t *t;
    size_t i;

    if (name == NULL || name[0] == '\0') {
        wxsim_reply_err(rq, 45157, "invalid tag name");
        return NULL;
    }
    if (strlen(name) > TAG_NAME_MAX) {
        wxsim_reply_err(rq, 45158, "tag name too long (%d bytes at most)", TAG_NAME_MAX);
        return NULL;
    }
    json_array_foreach(sim->tags, i, t) {
        if (strcmp(wxsim_json_str(t, "name"), name) == 0 &&
            json_integer_value(json_object_get(t, "id")) != self) {
            wxsim_reply_err(rq, 45157, "invalid tag name: the name is taken");
            return NULL;
        }
    }
    return name;
}

void wxsim_tag_create(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *tag;
    const char *name;
    long long id;

    if (body == NULL)
        return;
    tag = json_object_get(body, "tag");
    if (!json_is_object(tag))
        wxsim_reply_err(rq, 47001, "data format error");
    else if ((name = check_name(sim, rq, tag, -1)) == NULL)
        ;
    else if (json_array_size(sim->tags) >= TAGS_MAX + 2)
        wxsim_reply_err(rq, 45056, "too many tags now, no need to add new (%d at most)", TAGS_MAX);
    else {
        id = sim->next_tagid++;
        json_array_append_new(sim->tags, json_pack("{s:I,s:s}", "id", (json_int_t)id,
                                                   "name", name));
        wxsim_reply_json(rq, json_pack("{s:{s:I,s:s}}", "tag", "id", (json_int_t)id,
                                       "name", name));
    }
    json_decref(body);
}

void wxsim_tag_get(wxsim_t *sim, wxsim_req_t *rq)
{
    /* One pass over the followers counts every tag: ids are below
     * next_tagid. */
    size_t *count = calloc((size_t)sim->next_tagid, sizeof(*count)), i, j;
    json_t *out = json_array(), *t, *u, *v;
    const char *k;

    if (count == NULL || out == NULL) {
        free(count);
        json_decref(out);
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    json_object_foreach(sim->users, k, u) {
        if (!json_is_true(json_object_get(u, "subscribe")))
            continue;
        count[TAG_BLACK] += json_is_true(json_object_get(u, "black"));
        json_array_foreach(json_object_get(u, "tagid_list"), j, v)
            if (json_integer_value(v) > 0 && json_integer_value(v) < sim->next_tagid)
                count[json_integer_value(v)]++;
    }
    json_array_foreach(sim->tags, i, t) {
        json_int_t id = json_integer_value(json_object_get(t, "id"));

        json_array_append_new(out, json_pack("{s:I,s:O,s:I}", "id", id,
                                             "name", json_object_get(t, "name"),
                                             "count", (json_int_t)count[id]));
    }
    free(count);
    wxsim_reply_json(rq, json_pack("{s:o}", "tags", out));
}

/* The tag of {"tag":{"id"}} that may change: 45058 for 0, 1, 2, 45159
 * unknown.  NULL after answering. */
static json_t *changeable(wxsim_t *sim, wxsim_req_t *rq, json_t *tag, size_t *index)
{
    json_t *idv = json_object_get(tag, "id"), *t;

    if (!json_is_integer(idv)) {
        wxsim_reply_err(rq, 47001, "data format error");
        return NULL;
    }
    if (json_integer_value(idv) >= 0 && json_integer_value(idv) <= 2) {
        wxsim_reply_err(rq, 45058, "can't modify sys tag");
        return NULL;
    }
    if ((t = tag_find(sim, json_integer_value(idv), index)) == NULL)
        wxsim_reply_err(rq, 45159, "invalid tag id");
    return t;
}

void wxsim_tag_update(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *tag, *t;
    const char *name;

    if (body == NULL)
        return;
    tag = json_object_get(body, "tag");
    if ((t = changeable(sim, rq, tag, NULL)) != NULL &&
        (name = check_name(sim, rq, tag, json_integer_value(json_object_get(t, "id")))) != NULL) {
        json_object_set_new(t, "name", json_string(name));
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_tag_delete(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *t, *u, *list, *v;
    const char *k;
    long long id;
    size_t i, j;

    if (body == NULL)
        return;
    if ((t = changeable(sim, rq, json_object_get(body, "tag"), &i)) == NULL)
        goto out;
    id = json_integer_value(json_object_get(t, "id"));
    if (tag_count(sim, id) > DELETE_MAX) {
        wxsim_reply_err(rq, 45057, "can't delete the tag that has too many fans");
        goto out;
    }
    json_object_foreach(sim->users, k, u) {
        list = json_object_get(u, "tagid_list");
        json_array_foreach(list, j, v) {
            if (json_integer_value(v) == id) {
                json_array_remove(list, j);
                break;
            }
        }
    }
    json_array_remove(sim->tags, i);
    wxsim_reply_ok(rq);
out:
    json_decref(body);
}

void wxsim_tag_users(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *idv;

    if (body == NULL)
        return;
    idv = json_object_get(body, "tagid");
    if (!json_is_integer(idv))
        wxsim_reply_err(rq, 47001, "data format error");
    else if (!wxsim_tag_exists(sim, json_integer_value(idv)))
        wxsim_reply_err(rq, 45159, "invalid tag id");
    else
        wxsim_user_page(rq, sim->users, wxsim_json_str(body, "next_openid"), PAGE_MAX, 0,
                        has_tag, json_integer_value(idv));
    json_decref(body);
}

/* The followers of 'list' (1..max entries; 40032 otherwise), each one
 * known (bad_openid otherwise): an array of user objects, or NULL after
 * answering. */
static json_t *members(wxsim_t *sim, wxsim_req_t *rq, json_t *list, size_t max, int bad_openid)
{
    json_t *out, *v, *u;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > max) {
        wxsim_reply_err(rq, 40032, "invalid openid list size (1 to %zu)", max);
        return NULL;
    }
    out = json_array();
    json_array_foreach(list, i, v) {
        if ((u = wxsim_user_follower(sim, json_string_value(v))) == NULL) {
            wxsim_reply_err(rq, bad_openid, "invalid openid: openid_list[%zu]", i);
            json_decref(out);
            return NULL;
        }
        json_array_append(out, u);
    }
    return out;
}

/* batchtagging (add 1) and batchuntagging (add 0). */
static void tagging(wxsim_t *sim, wxsim_req_t *rq, int add)
{
    json_t *body = wxsim_req_json(rq), *idv, *us = NULL, *u, *list;
    long long id;
    size_t i, j;

    if (body == NULL)
        return;
    idv = json_object_get(body, "tagid");
    if (!json_is_integer(idv)) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    id = json_integer_value(idv);
    if (id == TAG_BLACK || !wxsim_tag_exists(sim, id)) {
        wxsim_reply_err(rq, 45159, "invalid tag id");
        goto out;
    }
    if ((us = members(sim, rq, json_object_get(body, "openid_list"), TAGGING_MAX, 40003)) == NULL)
        goto out;
    /* All or nothing: the 20-tag rule is checked for everyone first. */
    json_array_foreach(us, i, u) {
        if (add && !wxsim_user_has_tag(u, id) &&
            json_array_size(json_object_get(u, "tagid_list")) >= USER_TAGS_MAX) {
            wxsim_reply_err(rq, 45059, "fans own too many tags (%d at most): openid_list[%zu]",
                            USER_TAGS_MAX, i);
            goto out;
        }
    }
    json_array_foreach(us, i, u) {
        list = json_object_get(u, "tagid_list");
        if (add && !wxsim_user_has_tag(u, id))
            json_array_append_new(list, json_integer(id));
        for (j = 0; !add && j < json_array_size(list); j++)
            if (json_integer_value(json_array_get(list, j)) == id)
                json_array_remove(list, j);
    }
    wxsim_reply_ok(rq);
out:
    json_decref(us);
    json_decref(body);
}

void wxsim_tag_batchtag(wxsim_t *sim, wxsim_req_t *rq)
{
    tagging(sim, rq, 1);
}

void wxsim_tag_batchuntag(wxsim_t *sim, wxsim_req_t *rq)
{
    tagging(sim, rq, 0);
}

void wxsim_tag_idlist(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *u;

    if (body == NULL)
        return;
    if ((u = wxsim_user_follower(sim, wxsim_json_str(body, "openid"))) == NULL)
        wxsim_reply_err(rq, 40003, "invalid openid");
    else
        wxsim_reply_json(rq, json_pack("{s:O}", "tagid_list", json_object_get(u, "tagid_list")));
    json_decref(body);
}

static int blacklisted(json_t *u, long long arg)
{
    (void)arg;
    return json_is_true(json_object_get(u, "black"));
}

void wxsim_black_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);
    const char *begin;

    if (body == NULL)
        return;
    begin = wxsim_json_str(body, "begin_openid");
    if (begin && begin[0] && json_object_get(sim->users, begin) == NULL)
        wxsim_reply_err(rq, 49003, "not match openid with appid");
    else
        wxsim_user_page(rq, sim->users, begin, PAGE_MAX, 1, blacklisted, 0);
    json_decref(body);
}

static void blacking(wxsim_t *sim, wxsim_req_t *rq, int black)
{
    json_t *body = wxsim_req_json(rq), *us, *u;
    size_t i;

    if (body == NULL)
        return;
    us = members(sim, rq, json_object_get(body, "openid_list"), BLACK_MAX, 49003);
    if (us != NULL) {
        json_array_foreach(us, i, u)
            json_object_set_new(u, "black", json_boolean(black));
        wxsim_reply_ok(rq);
    }
    json_decref(us);
    json_decref(body);
}

void wxsim_black_add(wxsim_t *sim, wxsim_req_t *rq)
{
    blacking(sim, rq, 1);
}

void wxsim_black_remove(wxsim_t *sim, wxsim_req_t *rq)
{
    blacking(sim, rq, 0);
}
