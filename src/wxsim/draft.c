/*
 * draft.c - drafts and free publishing (PROTOCOL.md 6.5).  Publishing is
 * synchronous here: a submitted draft is published at once (status 0), and
 * the draft stays in the box.
 */
#include <stdio.h>
#include <string.h>

#include "wx/core/str.h"
#include "wxsim.h"

#define ARTICLES_MAX    8
#define TITLE_MAX       32      /* characters */
#define AUTHOR_MAX      16
#define DIGEST_MAX      128
#define CONTENT_MAX     20000

/* 0 when the article is valid, else -1 after answering. */
static int check_article(wxsim_t *sim, wxsim_req_t *rq, json_t *a)
{
    const char *type = wxsim_json_str(a, "article_type");
    const char *title = wxsim_json_str(a, "title"), *content = wxsim_json_str(a, "content");
    const char *author = wxsim_json_str(a, "author"), *digest = wxsim_json_str(a, "digest");
    const char *thumb = wxsim_json_str(a, "thumb_media_id");

    if (!json_is_object(a) || (type && strcmp(type, "news") != 0 && strcmp(type, "newspic") != 0) ||
        title == NULL || title[0] == '\0') {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    if (wx_utf8_chars(title) > TITLE_MAX) {
        wxsim_reply_err(rq, 45003, "title size out of limit");
        return -1;
    }
    if (author && wx_utf8_chars(author) > AUTHOR_MAX) {
        wxsim_reply_err(rq, 45110, "author size out of limit");
        return -1;
    }
    if (digest && wx_utf8_chars(digest) > DIGEST_MAX) {
        wxsim_reply_err(rq, 45004, "description size out of limit");
        return -1;
    }
    if (content == NULL || content[0] == '\0') {
        wxsim_reply_err(rq, 44004, "empty content");
        return -1;
    }
    if (wx_utf8_chars(content) >= CONTENT_MAX) {
        wxsim_reply_err(rq, 45002, "content size out of limit");
        return -1;
    }
    /* A news article needs a cover that is a permanent material. */
    if ((type == NULL || strcmp(type, "news") == 0) && wxsim_material_find(sim, thumb) == NULL) {
        wxsim_reply_err(rq, 40007, "invalid media_id");
        return -1;
    }
    return 0;
}

json_t *wxsim_draft_find(const wxsim_t *sim, const char *id)
{
    json_t *d;
    size_t i;

    for (i = 0; (d = json_array_get(sim->drafts, i)) != NULL; i++)
        if (id && strcmp(wxsim_json_str(d, "media_id"), id) == 0)
            return d;
    return NULL;
}

void wxsim_draft_add(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *arts, *a;
    char id[WXSIM_ID_LEN + 1];
    size_t i, n;

    if (body == NULL)
        return;
    arts = json_object_get(body, "articles");
    n = json_is_array(arts) ? json_array_size(arts) : 0;
    if (n == 0 || n > ARTICLES_MAX) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    for (i = 0; (a = json_array_get(arts, i)) != NULL; i++)
        if (check_article(sim, rq, a) != 0)
            goto out;
    if (json_array_size(sim->drafts) >= WXSIM_MAX_DRAFTS) {
        wxsim_reply_err(rq, 45009, "reach max api daily quota limit");
        goto out;
    }
    wxsim_random_id(id, WXSIM_ID_LEN);
    json_array_append_new(sim->drafts, json_pack("{s:s,s:O,s:I}", "media_id", id,
                                                 "news_item", arts,
                                                 "update_time", (json_int_t)wxsim_now(sim)));
    wxsim_reply_json(rq, json_pack("{s:s}", "media_id", id));
out:
    json_decref(body);
}

/* The draft named by the body's media_id, or NULL after answering. */
static json_t *draft_of(wxsim_t *sim, wxsim_req_t *rq, json_t **body, size_t *index)
{
    const char *id;
    json_t *d;
    size_t i;

    *body = wxsim_req_json(rq);
    if (*body == NULL)
        return NULL;
    id = wxsim_json_str(*body, "media_id");
    for (i = 0; (d = json_array_get(sim->drafts, i)) != NULL; i++) {
        if (id && strcmp(wxsim_json_str(d, "media_id"), id) == 0) {
            *index = i;
            return d;
        }
    }
    wxsim_reply_err(rq, 40007, "invalid media_id");
    return NULL;
}

void wxsim_draft_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body, *d;
    size_t i;

    d = draft_of(sim, rq, &body, &i);
    if (d)
        wxsim_reply_json(rq, json_pack("{s:O}", "news_item", json_object_get(d, "news_item")));
    json_decref(body);
}

void wxsim_draft_delete(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body, *d;
    size_t i;

    d = draft_of(sim, rq, &body, &i);
    if (d) {
        json_array_remove(sim->drafts, i);
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_draft_count(wxsim_t *sim, wxsim_req_t *rq)
{
    wxsim_reply_json(rq, json_pack("{s:I}", "total_count",
                                   (json_int_t)json_array_size(sim->drafts)));
}

/* Without "content" when no_content is 1, as the platform lists them. */
static json_t *listed(json_t *d, int no_content)
{
    json_t *items = json_deep_copy(json_object_get(d, "news_item")), *a;
    size_t i;

    if (no_content)
        for (i = 0; (a = json_array_get(items, i)) != NULL; i++)
            json_object_del(a, "content");
    return json_pack("{s:O,s:{s:o},s:O}", "media_id", json_object_get(d, "media_id"),
                     "content", "news_item", items,
                     "update_time", json_object_get(d, "update_time"));
}

void wxsim_draft_batchget(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *off, *cnt, *nc, *items;
    json_int_t offset, count, i, total;

    if (body == NULL)
        return;
    off = json_object_get(body, "offset");
    cnt = json_object_get(body, "count");
    nc = json_object_get(body, "no_content");
    if (!json_is_integer(off) || json_integer_value(off) < 0 ||
        !json_is_integer(cnt) || json_integer_value(cnt) < 1 || json_integer_value(cnt) > 20 ||
        (nc && !json_is_integer(nc))) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    offset = json_integer_value(off);
    count = json_integer_value(cnt);
    total = (json_int_t)json_array_size(sim->drafts);
    items = json_array();
    /* Newest first. */
    for (i = total - 1 - offset; i >= 0 && (json_int_t)json_array_size(items) < count; i--)
        json_array_append_new(items, listed(json_array_get(sim->drafts, (size_t)i),
                                            nc && json_integer_value(nc) == 1));
    wxsim_reply_json(rq, json_pack("{s:I,s:I,s:o}", "total_count", total,
                                   "item_count", (json_int_t)json_array_size(items),
                                   "item", items));
out:
    json_decref(body);
}

void wxsim_publish_submit(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body, *d;
    char pid[24], article[WXSIM_ID_LEN + 1], mdid[24];
    size_t i;

    d = draft_of(sim, rq, &body, &i);
    if (d == NULL)
        goto out;
    snprintf(pid, sizeof(pid), "%lld", sim->next_publish);
    snprintf(mdid, sizeof(mdid), "%lld", sim->next_publish + 1000000000LL);
    sim->next_publish++;
    wxsim_random_id(article, WXSIM_ID_LEN);
    json_array_append_new(sim->published, json_pack("{s:s,s:s,s:O}", "publish_id", pid,
                                                    "article_id", article, "news_item",
                                                    json_object_get(d, "news_item")));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:s,s:s}", "errcode", 0, "errmsg", "ok",
                                   "publish_id", pid, "msg_data_id", mdid));
out:
    json_decref(body);
}

void wxsim_publish_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *idv, *p, *items;
    char id[24] = "";
    size_t i, j, n;

    if (body == NULL)
        return;
    idv = json_object_get(body, "publish_id");
    if (json_is_integer(idv))
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(idv));
    else if (json_is_string(idv) && json_string_length(idv) < sizeof(id))
        snprintf(id, sizeof(id), "%s", json_string_value(idv));
    for (i = 0; (p = json_array_get(sim->published, i)) != NULL; i++) {
        if (strcmp(wxsim_json_str(p, "publish_id"), id) != 0)
            continue;
        n = json_array_size(json_object_get(p, "news_item"));
        items = json_array();
        for (j = 0; j < n; j++) {
            char url[200];

            snprintf(url, sizeof(url), "http://mp.weixin.qq.com/s/%s_%zu",
                     wxsim_json_str(p, "article_id"), j + 1);
            json_array_append_new(items, json_pack("{s:I,s:s}", "idx", (json_int_t)(j + 1),
                                                   "article_url", url));
        }
        wxsim_reply_json(rq, json_pack("{s:s,s:i,s:s,s:{s:I,s:o},s:[]}", "publish_id", id,
                                       "publish_status", 0,
                                       "article_id", wxsim_json_str(p, "article_id"),
                                       "article_detail", "count", (json_int_t)n,
                                       "item", items, "fail_idx"));
        goto out;
    }
    wxsim_reply_err(rq, 40007, "invalid publish_id");
out:
    json_decref(body);
}
