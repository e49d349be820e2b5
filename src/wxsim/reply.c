/*
 * reply.c - reading a request's parameters and writing WeChat-shaped
 * answers: JSON objects, {"errcode","errmsg"} errors with a rid, raw bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "wx/proto/query.h"
#include "wxsim.h"

/* WeChat's JSON content type, spelled as it spells it. */
static const char json_ctype[] = "application/json; encoding=utf-8";

long wxsim_query_get(const char *qs, const char *name, char *dst, size_t cap)
{
    return wx_query_get(qs, name, dst, cap);
}

static void set_out(wxsim_req_t *rq, char *data, size_t len, const char *ctype)
{
    free(rq->out);
    rq->out = data;
    rq->out_len = len;
    rq->ctype = ctype;
}

void wxsim_reply_json(wxsim_req_t *rq, json_t *obj)
{
    json_t *ec = json_object_get(obj, "errcode");
    char *s;

    rq->errcode = json_is_integer(ec) ? (int)json_integer_value(ec) : 0;
    s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (s == NULL) {
        /* Out of memory: the smallest honest answer. */
        rq->status = 500;
        set_out(rq, NULL, 0, json_ctype);
        rq->errcode = -1;
        return;
    }
    set_out(rq, s, strlen(s), json_ctype);
}

void wxsim_reply_err(wxsim_req_t *rq, int code, const char *fmt, ...)
{
    unsigned char r[12];
    char msg[WXSIM_ERRMSG_MAX], full[WXSIM_ERRMSG_MAX + 40];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Every error WeChat returns ends with a request id ("rid") that its
     * support can look up; clients must tolerate it in errmsg. */
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    snprintf(full, sizeof(full), "%s rid: %02x%02x%02x%02x-%02x%02x%02x%02x-%02x%02x%02x%02x",
             msg, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
    wxsim_reply_json(rq, json_pack("{s:i,s:s}", "errcode", code, "errmsg", full));
}

void wxsim_reply_ok(wxsim_req_t *rq)
{
    wxsim_reply_json(rq, json_pack("{s:i,s:s}", "errcode", 0, "errmsg", "ok"));
}

void wxsim_reply_bytes(wxsim_req_t *rq, char *data, size_t len, const char *ctype)
{
    set_out(rq, data, len, ctype);
    rq->errcode = 0;
}

json_t *wxsim_req_json(wxsim_req_t *rq)
{
    json_error_t jerr;
    json_t *obj;

    if (rq->body_state == WXSIM_BODY_TOOBIG) {
        wxsim_reply_err(rq, 45002, "content size out of limit");
        return NULL;
    }
    if (rq->body_state != WXSIM_BODY_OK || rq->body_len == 0) {
        wxsim_reply_err(rq, 44002, "empty post data");
        return NULL;
    }
    /* Duplicate keys are refused: a body that reads two ways is not
     * guessed at.  Embedded NULs are refused by jansson by default. */
    obj = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL || !json_is_object(obj)) {
        json_decref(obj);
        snprintf(rq->note, sizeof(rq->note), "bad json");
        wxsim_reply_err(rq, 47001, "data format error");
        return NULL;
    }
    return obj;
}

const char *wxsim_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}
