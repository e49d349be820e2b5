/*
 * ctl.c - the /sim/ control interface that tests drive: the simulated
 * clock, injected faults, counters, reset, token invalidation and the
 * messages received.  JSON in and out; errors are HTTP 400 with errcode
 * 47001 so that they can never be mistaken for a simulated API answer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wxsim.h"

#define MAX_ADVANCE     (10LL * 366 * 86400)    /* ten years */
#define MAX_FAULT_MS    60000u

static const char *const fault_names[WXSIM_FAULT__MAX] = {
    "busy", "slow", "drop", "badjson", "errcode"
};

static void bad(wxsim_req_t *rq, const char *why)
{
    rq->status = 400;
    wxsim_reply_err(rq, 47001, "data format error: %s", why);
}

static void reply_clock(wxsim_t *sim, wxsim_req_t *rq)
{
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:I,s:I,s:b}", "errcode", 0, "errmsg", "ok",
                                   "now", (json_int_t)wxsim_now(sim),
                                   "offset", (json_int_t)sim->offset,
                                   "day", (json_int_t)wxsim_day(sim),
                                   "frozen", sim->frozen_at != 0));
}

static void ctl_clock(wxsim_t *sim, wxsim_req_t *rq, json_t *body)
{
    json_t *adv, *freeze;

    if (body) {
        adv = json_object_get(body, "advance");
        freeze = json_object_get(body, "freeze");
        if ((adv == NULL && freeze == NULL) || (freeze && !json_is_boolean(freeze)) ||
            (adv && (!json_is_integer(adv) || json_integer_value(adv) < 0 ||
                     json_integer_value(adv) > MAX_ADVANCE))) {
            bad(rq, "want {\"advance\":SECONDS} (0 to ten years) and/or {\"freeze\":BOOL}");
            return;
        }
        if (json_is_true(freeze) && !sim->frozen_at) {
            sim->frozen_at = (long long)time(NULL);
        } else if (json_is_false(freeze) && sim->frozen_at) {
            /* Run on from where it stood: simulated time never goes back. */
            sim->offset = wxsim_now(sim) - (long long)time(NULL);
            sim->frozen_at = 0;
        }
        /* Forward only: time going back would undo expiries. */
        if (adv)
            sim->offset += json_integer_value(adv);
    }
    reply_clock(sim, rq);
}

static int fault_kind(const char *s)
{
    int i;

    for (i = 0; s && i < WXSIM_FAULT__MAX; i++)
        if (strcmp(s, fault_names[i]) == 0)
            return i;
    return -1;
}

static void ctl_fault(wxsim_t *sim, wxsim_req_t *rq, json_t *body)
{
    const char *path = wxsim_json_str(body, "path");
    json_t *count = json_object_get(body, "count"), *ms = json_object_get(body, "ms");
    json_t *ec = json_object_get(body, "errcode");
    wxsim_fault_t *slot = NULL;
    int kind = fault_kind(wxsim_json_str(body, "kind"));
    size_t i;

    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(slot->path)) {
        bad(rq, "path must be an API path or \"*\"");
        return;
    }
    if (kind < 0) {
        bad(rq, "kind must be busy, slow, drop, badjson or errcode");
        return;
    }
    if ((count && (!json_is_integer(count) || json_integer_value(count) < 0 ||
                   json_integer_value(count) > 1000000)) ||
        (ms && (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
                json_integer_value(ms) > MAX_FAULT_MS))) {
        bad(rq, "count must be 0 to 1000000, ms 0 to 60000");
        return;
    }
    if (kind == WXSIM_FAULT_ERRCODE && !json_is_integer(ec)) {
        bad(rq, "kind errcode needs an integer errcode");
        return;
    }
    /* A new rule for a path and kind replaces the old one; count 0
     * removes it. */
    for (i = 0; i < WXSIM_MAX_FAULTS; i++) {
        wxsim_fault_t *f = &sim->faults[i];

        if (f->count && f->kind == kind && strcmp(f->path, path) == 0)
            slot = f;
        else if (slot == NULL && f->count == 0)
            slot = f;
    }
    if (slot == NULL) {
        bad(rq, "too many faults pending");
        return;
    }
    memset(slot, 0, sizeof(*slot));
    snprintf(slot->path, sizeof(slot->path), "%s", path);
    slot->kind = kind;
    slot->count = count ? (unsigned)json_integer_value(count) : 1;
    slot->ms = ms ? (unsigned)json_integer_value(ms) : 0;
    slot->errcode = ec ? (int)json_integer_value(ec) : 0;
    wxsim_reply_ok(rq);
}

static void ctl_faults_list(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < WXSIM_MAX_FAULTS; i++) {
        const wxsim_fault_t *f = &sim->faults[i];

        if (f->count)
            json_array_append_new(list, json_pack("{s:s,s:s,s:i,s:i,s:i}", "path", f->path,
                                                  "kind", fault_names[f->kind],
                                                  "count", (int)f->count, "ms", (int)f->ms,
                                                  "errcode", f->errcode));
    }
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:o}", "errcode", 0, "errmsg", "ok",
                                   "faults", list));
}

static void ctl_stats(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *calls = json_object();
    size_t i;

    for (i = 0; i < sim->n_calls; i++)
        json_object_set_new(calls, wxsim_api_route_path(i), json_integer((json_int_t)sim->calls[i]));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:o,s:{s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:I}",
        "errcode", 0, "errmsg", "ok",
        "calls", calls,
        "tokens_issued",
            "token", (json_int_t)sim->token.issued,
            "stable_token", (json_int_t)sim->stable.issued,
        "token_calls_today", (json_int_t)(sim->token.day == wxsim_day(sim) ?
                                          sim->token.day_calls : 0),
        "custom_messages", (json_int_t)json_array_size(sim->custom),
        "template_messages", (json_int_t)json_array_size(sim->templates),
        "mass_messages", (json_int_t)sim->n_mass,
        "media", (json_int_t)sim->n_media,
        "drafts", (json_int_t)json_array_size(sim->drafts)));
}

static void ctl_list(wxsim_req_t *rq, json_t *list)
{
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:I,s:O}", "errcode", 0, "errmsg", "ok",
                                   "count", (json_int_t)json_array_size(list),
                                   "messages", list));
}

void wxsim_ctl_handle(wxsim_t *sim, wxsim_req_t *rq)
{
    int post = strcmp(rq->method, "POST") == 0;
    int get = strcmp(rq->method, "GET") == 0;
    const char *what = rq->path + 5;
    json_t *body = NULL;

    rq->errcode = -2;
    /* Every POST of the control interface takes a JSON object; an empty
     * body stands for {}. */
    if (post && rq->body_len > 0) {
        body = wxsim_req_json(rq);
        if (body == NULL) {
            rq->status = 400;
            return;
        }
    }
    if (strcmp(what, "clock") == 0 && (get || post)) {
        ctl_clock(sim, rq, post ? body : NULL);
    } else if (strcmp(what, "fault") == 0 && post) {
        ctl_fault(sim, rq, body);
    } else if (strcmp(what, "fault") == 0 && get) {
        ctl_faults_list(sim, rq);
    } else if (strcmp(what, "stats") == 0 && get) {
        ctl_stats(sim, rq);
    } else if (strcmp(what, "reset") == 0 && post) {
        wxsim_state_clear(sim);
        wxsim_reply_ok(rq);
    } else if (strcmp(what, "invalidate") == 0 && post) {
        wxsim_token_invalidate(sim);
        wxsim_reply_ok(rq);
    } else if (strcmp(what, "custom") == 0 && get) {
        ctl_list(rq, sim->custom);
    } else if (strcmp(what, "template") == 0 && get) {
        ctl_list(rq, sim->templates);
    } else if (strcmp(what, "scan") == 0 && post) {
        wxsim_qrcode_scan(sim, rq, body);
    } else if (strcmp(what, "metrics") == 0 && get) {
        wxsim_mx_answer(rq);
    } else if (wxsim_user_ctl(sim, rq, what, body)) {
        /* /sim/followers, /sim/kf, /sim/subscribe */
    } else if (strcmp(what, "clock") == 0 || strcmp(what, "fault") == 0 ||
               strcmp(what, "stats") == 0 || strcmp(what, "reset") == 0 ||
               strcmp(what, "invalidate") == 0 || strcmp(what, "custom") == 0 ||
               strcmp(what, "template") == 0 || strcmp(what, "scan") == 0 ||
               strcmp(what, "metrics") == 0) {
        rq->status = 405;
        wxsim_reply_err(rq, 43001, "method %.16s not allowed here", rq->method);
    } else {
        rq->status = 404;
        wxsim_reply_err(rq, 40066, "invalid url");
    }
    json_decref(body);
    rq->errcode = -2;
}
