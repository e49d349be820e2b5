/*
 * message.c - messages sent by the account: mass sending (PROTOCOL.md 6.6),
 * customer-service messages (6.7) and template messages (6.8).  Mass jobs
 * finish at once (SEND_SUCCESS); customer-service and template messages
 * are kept in order for GET /sim/custom and /sim/template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/core/log.h"
#include "wxsim.h"

#define MASS_TOUSER_MIN     2           /* 6.6: 2 - 10 000 OpenIDs */
#define MASS_TOUSER_MAX     10000
#define CLIENTMSGID_MAX     64
#define CLIENTMSGID_WINDOW  86400       /* dedupe within 24 h */

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* The object named by msgtype, checked for what that type needs.  0 when
 * valid, else -1 after answering. */
static int check_payload(wxsim_t *sim, wxsim_req_t *rq, json_t *body,
                         const char *const *allowed)
{
    const char *type = wxsim_json_str(body, "msgtype");
    json_t *obj;
    size_t i;

    for (i = 0; type && allowed[i]; i++)
        if (strcmp(type, allowed[i]) == 0)
            break;
    if (type == NULL || allowed[i] == NULL) {
        wxsim_reply_err(rq, 40008, "invalid message type");
        return -1;
    }
    obj = json_object_get(body, type);
    /* The current form of an image mass send is "msgtype":"image" with
     * {"images":{"media_ids":[...]}}; the legacy one {"image":{"media_id"}}
     * (PROTOCOL.md 6.6). */
    if (obj == NULL && strcmp(type, "image") == 0)
        obj = json_object_get(body, "images");
    if (!json_is_object(obj)) {
        wxsim_reply_err(rq, 47001, "data format error");
        return -1;
    }
    if (strcmp(type, "text") == 0) {
        if (!nonempty(wxsim_json_str(obj, "content"))) {
            wxsim_reply_err(rq, 44004, "empty content");
            return -1;
        }
    } else if (strcmp(type, "mpnews") == 0) {
        const char *id = wxsim_json_str(obj, "media_id");

        if (wxsim_draft_find(sim, id) == NULL && wxsim_material_find(sim, id) == NULL) {
            wxsim_reply_err(rq, 40007, "invalid media_id");
            return -1;
        }
    } else if (strcmp(type, "image") == 0 && json_object_get(obj, "media_ids")) {
        json_t *ids = json_object_get(obj, "media_ids");

        if (!json_is_array(ids) || json_array_size(ids) == 0) {
            wxsim_reply_err(rq, 40007, "invalid media_id");
            return -1;
        }
    } else if (strcmp(type, "news") == 0) {
        json_t *arts = json_object_get(obj, "articles");

        if (!json_is_array(arts) || json_array_size(arts) != 1) {
            wxsim_reply_err(rq, 47001, "data format error");
            return -1;
        }
    } else if (strcmp(type, "wxcard") == 0) {
        if (!nonempty(wxsim_json_str(obj, "card_id"))) {
            wxsim_reply_err(rq, 40056, "invalid card_id");
            return -1;
        }
    } else if (strcmp(type, "mpnewsarticle") == 0) {
        if (!nonempty(wxsim_json_str(obj, "article_id"))) {
            wxsim_reply_err(rq, 47001, "data format error");
            return -1;
        }
    } else if (strcmp(type, "miniprogrampage") == 0) {
        if (!nonempty(wxsim_json_str(obj, "appid")) || !nonempty(wxsim_json_str(obj, "pagepath"))) {
            wxsim_reply_err(rq, 47001, "data format error");
            return -1;
        }
    } else if (strcmp(type, "music") == 0 || strcmp(type, "msgmenu") == 0 ||
               strcmp(type, "link") == 0) {
        /* Free-form enough that any object is taken. */
    } else if (!nonempty(wxsim_json_str(obj, "media_id"))) {
        /* image, voice, video, mpvideo */
        wxsim_reply_err(rq, 40007, "invalid media_id");
        return -1;
    }
    return 0;
}

static const char *const mass_types[] = {
    "mpnews", "text", "voice", "image", "mpvideo", "wxcard", NULL
};

/* clientmsgid (6.6): too long 45067; the same id within 24 h 45065.
 * Returns 0 to go on. */
static int check_clientmsgid(wxsim_t *sim, wxsim_req_t *rq, const char *cid)
{
    long long now = wxsim_now(sim);
    size_t i;

    if (cid == NULL)
        return 0;
    if (strlen(cid) > CLIENTMSGID_MAX) {
        wxsim_reply_err(rq, 45067, "clientmsgid size out of limit");
        return -1;
    }
    for (i = 0; i < sim->n_mass; i++) {
        const wxsim_mass_t *m = &sim->mass[i];

        if (m->clientmsgid && strcmp(m->clientmsgid, cid) == 0 &&
            now - m->created < CLIENTMSGID_WINDOW) {
            /* The duplicate is answered with the job it repeats. */
            wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I}", "errcode", 45065,
                                           "errmsg", "clientmsgid exist",
                                           "msg_id", (json_int_t)m->msg_id));
            return -1;
        }
    }
    return 0;
}

static void mass_record(wxsim_t *sim, wxsim_req_t *rq, const char *cid)
{
    wxsim_mass_t *m;

    if (sim->n_mass >= WXSIM_MAX_MASS) {
        wxsim_reply_err(rq, 45028, "has no masssend quota");
        return;
    }
    if (sim->n_mass == sim->cap_mass) {
        size_t cap = sim->cap_mass ? sim->cap_mass * 2 : 16;
        wxsim_mass_t *a = realloc(sim->mass, cap * sizeof(*a));

        if (a == NULL) {
            wxsim_reply_err(rq, -1, "system error");
            return;
        }
        sim->mass = a;
        sim->cap_mass = cap;
    }
    m = &sim->mass[sim->n_mass];
    memset(m, 0, sizeof(*m));
    m->clientmsgid = cid ? strdup(cid) : NULL;
    m->msg_id = sim->next_msg_id++;
    m->msg_data_id = m->msg_id + 2000000000LL;
    m->created = wxsim_now(sim);
    m->status = "SEND_SUCCESS";
    sim->n_mass++;
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:I}", "errcode", 0,
                                   "errmsg", "send job submission success",
                                   "msg_id", (json_int_t)m->msg_id,
                                   "msg_data_id", (json_int_t)m->msg_data_id));
}

void wxsim_mass_sendall(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *filter, *all;
    const char *cid;

    if (body == NULL)
        return;
    filter = json_object_get(body, "filter");
    all = json_object_get(filter, "is_to_all");
    cid = wxsim_json_str(body, "clientmsgid");
    if (!json_is_object(filter) || (all && !json_is_boolean(all)) ||
        (!json_is_true(all) && !json_is_integer(json_object_get(filter, "tag_id")))) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    if (!json_is_true(all) &&
        !wxsim_tag_exists(sim, json_integer_value(json_object_get(filter, "tag_id")))) {
        wxsim_reply_err(rq, 45159, "invalid tag id");
        goto out;
    }
    if (check_payload(sim, rq, body, mass_types) == 0 && check_clientmsgid(sim, rq, cid) == 0)
        mass_record(sim, rq, cid);
out:
    json_decref(body);
}

void wxsim_mass_send(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *to, *u;
    const char *cid;
    size_t i, n;

    if (body == NULL)
        return;
    to = json_object_get(body, "touser");
    n = json_is_array(to) ? json_array_size(to) : 0;
    cid = wxsim_json_str(body, "clientmsgid");
    if (n < MASS_TOUSER_MIN || n > MASS_TOUSER_MAX) {
        wxsim_reply_err(rq, 40130, "invalid openid list size, at least two openid");
        goto out;
    }
    for (i = 0; (u = json_array_get(to, i)) != NULL; i++) {
        if (!json_is_string(u) || json_string_length(u) == 0) {
            wxsim_reply_err(rq, 40003, "invalid openid");
            goto out;
        }
    }
    if (check_payload(sim, rq, body, mass_types) == 0 && check_clientmsgid(sim, rq, cid) == 0)
        mass_record(sim, rq, cid);
out:
    json_decref(body);
}

void wxsim_mass_preview(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq);

    if (body == NULL)
        return;
    if (!nonempty(wxsim_json_str(body, "touser")) && !nonempty(wxsim_json_str(body, "towxname")))
        wxsim_reply_err(rq, 40003, "invalid openid");
    else if (check_payload(sim, rq, body, mass_types) == 0)
        wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I}", "errcode", 0, "errmsg", "preview success",
                                       "msg_id", (json_int_t)sim->next_msg_id++));
    json_decref(body);
}

/* The mass job named by the body's msg_id (number or string), or NULL
 * after answering. */
static wxsim_mass_t *mass_of(wxsim_t *sim, wxsim_req_t *rq, json_t **body)
{
    json_t *v;
    long long id = -1;
    size_t i;

    *body = wxsim_req_json(rq);
    if (*body == NULL)
        return NULL;
    v = json_object_get(*body, "msg_id");
    if (json_is_integer(v))
        id = json_integer_value(v);
    else if (json_is_string(v))
        id = strtoll(json_string_value(v), NULL, 10);
    for (i = 0; i < sim->n_mass; i++)
        if (sim->mass[i].msg_id == id)
            return &sim->mass[i];
    wxsim_reply_err(rq, 40007, "invalid msg_id");
    return NULL;
}

void wxsim_mass_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body;
    wxsim_mass_t *m = mass_of(sim, rq, &body);

    if (m)
        wxsim_reply_json(rq, json_pack("{s:I,s:s}", "msg_id", (json_int_t)m->msg_id,
                                       "msg_status", m->status));
    json_decref(body);
}

void wxsim_mass_delete(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body;
    wxsim_mass_t *m = mass_of(sim, rq, &body);

    if (m) {
        m->status = "DELETE";
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_mass_speed_get(wxsim_t *sim, wxsim_req_t *rq)
{
    /* 6.6: levels 0-4 are 80, 60, 45, 30 and 10 (x 10 000 per minute). */
    static const int real[5] = { 80, 60, 45, 30, 10 };

    wxsim_reply_json(rq, json_pack("{s:i,s:i}", "speed", sim->mass_speed,
                                   "realspeed", real[sim->mass_speed]));
}

void wxsim_mass_speed_set(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *s;

    if (body == NULL)
        return;
    s = json_object_get(body, "speed");
    if (!json_is_integer(s) || json_integer_value(s) < 0 || json_integer_value(s) > 4) {
        wxsim_reply_err(rq, 45083, "speed out of range");
    } else {
        sim->mass_speed = (int)json_integer_value(s);
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

/* Keep a received message, stamped, for the tests.  0 on success. */
static int keep(wxsim_t *sim, wxsim_req_t *rq, json_t *list, json_t *body)
{
    if (json_array_size(list) >= WXSIM_MAX_MESSAGES) {
        wxsim_reply_err(rq, 45047, "out of send limit");
        return -1;
    }
    json_object_set_new(body, "received_at", json_integer((json_int_t)wxsim_now(sim)));
    if (json_array_append(list, body) != 0) {
        wxsim_reply_err(rq, -1, "system error");
        return -1;
    }
    return 0;
}

void wxsim_custom_send(wxsim_t *sim, wxsim_req_t *rq)
{
    static const char *const kinds[] = {
        "text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle",
        "msgmenu", "wxcard", "miniprogrampage", "link", NULL
    };
    json_t *body = wxsim_req_json(rq);

    if (body == NULL)
        return;
    if (!nonempty(wxsim_json_str(body, "touser"))) {
        wxsim_reply_err(rq, 40003, "invalid openid");
    } else if (check_payload(sim, rq, body, kinds) == 0 && keep(sim, rq, sim->custom, body) == 0) {
        char who[24];

        wx_log_openid(who, sizeof(who), wx_str_c(wxsim_json_str(body, "touser")));
        snprintf(rq->note, sizeof(rq->note), "to=%s type=%.20s", who,
                 wxsim_json_str(body, "msgtype"));
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

/* Every data entry is {"value": string} (6.8). */
static int check_template_data(json_t *data)
{
    void *it;

    if (!json_is_object(data) || json_object_size(data) == 0)
        return -1;
    for (it = json_object_iter(data); it; it = json_object_iter_next(data, it))
        if (!json_is_string(json_object_get(json_object_iter_value(it), "value")))
            return -1;
    return 0;
}

void wxsim_template_send(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *mp;
    long long msgid;

    if (body == NULL)
        return;
    mp = json_object_get(body, "miniprogram");
    if (!nonempty(wxsim_json_str(body, "touser"))) {
        wxsim_reply_err(rq, 40003, "invalid openid");
    } else if (!nonempty(wxsim_json_str(body, "template_id"))) {
        wxsim_reply_err(rq, 40037, "invalid template_id");
    } else if (check_template_data(json_object_get(body, "data")) != 0 ||
               (json_object_get(body, "url") && !wxsim_json_str(body, "url")) ||
               (mp && !nonempty(wxsim_json_str(mp, "appid")))) {
        wxsim_reply_err(rq, 47001, "data format error");
    } else {
        msgid = sim->next_template_msgid++;
        json_object_set_new(body, "msgid", json_integer((json_int_t)msgid));
        if (keep(sim, rq, sim->templates, body) == 0)
            wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I}", "errcode", 0, "errmsg", "ok",
                                           "msgid", (json_int_t)msgid));
    }
    json_decref(body);
}
