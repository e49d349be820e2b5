/*
 * gateway.c - the request path of /wx (DESIGN.md, "the hot path"):
 * query -> signature and timestamp -> body streamed into the SAX parser ->
 * handler -> reply written into the arena.  No malloc, no file I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/gateway.h"
#include "wx/log.h"
#include "wx/msg.h"
#include "wx/query.h"
#include "wx/reply.h"
#include "wx/sign.h"

#define WX_READ_CHUNK   8192

struct wx_gw {
    const wx_config_t  *cfg;
    const wx_handler_t *handler;
    void               *hctx;
    wx_parser_t        *parser;
    wx_pool_t           pool;
    wx_msg_t            msg;
    wx_query_t          query;
};

wx_gw_t *wx_gw_new(const wx_config_t *cfg, char *err, size_t errlen)
{
    wx_parse_limits_t lim = WX_PARSE_LIMITS_DEFAULT;
    wx_gw_t *gw = calloc(1, sizeof(*gw));

    if (gw == NULL)
        goto nomem;
    gw->cfg = cfg;
    gw->handler = wx_handler_find(cfg->handler);
    if (gw->handler == NULL) {
        snprintf(err, errlen, "[wxfcgi] handler '%s' is unknown (known: echo)",
                 cfg->handler);
        goto fail;
    }
    lim.max_text = cfg->max_body;
    gw->parser = wx_parser_new(&lim);
    /* Room for the copied fields and items of the largest body, the
     * query, and a reply that may quote the whole body with CDATA splits. */
    if (gw->parser == NULL || wx_pool_init(&gw->pool, 8 * cfg->max_body + (128 << 10)) != WX_OK)
        goto nomem;
    if (gw->handler->create) {
        err[0] = '\0';
        gw->hctx = gw->handler->create(cfg, err, errlen);
        if (gw->hctx == NULL) {
            if (err[0] == '\0')
                snprintf(err, errlen, "handler %s: out of memory", gw->handler->name);
            goto fail;
        }
    }
    return gw;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    wx_gw_free(gw);
    return NULL;
}

void wx_gw_free(wx_gw_t *gw)
{
    if (gw == NULL)
        return;
    if (gw->hctx && gw->handler->destroy)
        gw->handler->destroy(gw->hctx);
    wx_parser_free(gw->parser);
    wx_pool_free(&gw->pool);
    free(gw);
}

void wx_gw_done(wx_gw_t *gw)
{
    wx_pool_reset(&gw->pool);
}

static void refuse(wx_response_t *resp, wx_err_t err, const char *detail)
{
    const char *text = wx_strerror(err);

    resp->err = err;
    resp->status = wx_err_status(err);
    resp->result = wx_err_class(err) == WX_ERRCLASS_INPUT ? "refused" : "failed";
    resp->detail = detail ? detail : text;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = wx_str_c(text);
}

/* Signature and timestamp of PROTOCOL.md 1.2, checked before any body byte
 * is read. */
static wx_err_t verify(wx_gw_t *gw, const wx_query_t *q, time_t now,
                       const char **detail)
{
    wx_str_t parts[3];
    wx_err_t rc;

    if (q->signature.data == NULL || q->timestamp.data == NULL ||
        q->nonce.data == NULL) {
        *detail = "signature, timestamp or nonce missing";
        return WX_EMISSING;
    }
    rc = wx_sign_check_time(q->timestamp, now, gw->cfg->timestamp_window);
    if (rc != WX_OK) {
        *detail = rc == WX_ESTALE ? "timestamp outside window" : "timestamp not a number";
        return rc;
    }
    parts[0] = wx_str_c(gw->cfg->token);
    parts[1] = q->timestamp;
    parts[2] = q->nonce;
    rc = wx_sign_verify(parts, 3, q->signature);
    if (rc == WX_ESIGNATURE)
        *detail = "signature mismatch";
    return rc;
}

/* Stream the body into the parser: never held whole, never more than
 * max_body bytes read. */
static wx_err_t read_body(wx_gw_t *gw, const wx_request_t *req,
                          const char **detail)
{
    char chunk[WX_READ_CHUNK];
    size_t total = 0, want;
    wx_err_t rc;

    if (req->content_length < 0) {
        *detail = "no Content-Length";
        return WX_EINVAL;
    }
    if ((unsigned long long)req->content_length > gw->cfg->max_body) {
        *detail = "Content-Length over max_body";
        return WX_ETOOBIG;
    }
    if (req->content_length == 0) {
        *detail = "empty body";
        return WX_EXML;
    }
    want = (size_t)req->content_length;
    rc = wx_parser_begin(gw->parser, &gw->pool, &gw->msg);
    if (rc != WX_OK)
        return rc;
    while (total < want) {
        size_t n = want - total < sizeof(chunk) ? want - total : sizeof(chunk);
        long got = req->read(req->read_ctx, chunk, n);

        if (got < 0) {
            *detail = "body read error";
            return WX_EINVAL;
        }
        if (got == 0) {
            *detail = "body shorter than Content-Length";
            return WX_EINVAL;
        }
        total += (size_t)got;
        rc = wx_parser_feed(gw->parser, chunk, (size_t)got, total == want);
        if (rc != WX_OK) {
            *detail = wx_parser_errmsg(gw->parser);
            return rc;
        }
    }
    return WX_OK;
}

static void answer(wx_gw_t *gw, const wx_reply_t *reply, time_t now,
                   wx_response_t *resp)
{
    wx_buf_t out;
    wx_err_t rc;

    rc = wx_buf_from_pool(&out, &gw->pool, (size_t)-1);
    if (rc == WX_OK)
        rc = wx_reply_write(reply, &gw->msg, now, &out);
    if (rc != WX_OK) {
        wx_log(WX_LOG_ERROR, "reply %s not written: %s; answering success",
               wx_reply_type_name(reply->type), wx_strerror(rc));
        resp->result = "success";
        resp->err = rc;
        resp->content_type = "text/plain; charset=utf-8";
        resp->body = WX_STR("success");
        return;
    }
    wx_buf_commit(&out, &gw->pool);
    resp->body = wx_buf_str(&out);
    if (reply->type == WX_REPLY_SUCCESS) {
        resp->result = "success";
        resp->content_type = "text/plain; charset=utf-8";
    } else {
        resp->result = wx_reply_type_name(reply->type);
        resp->content_type = "text/xml; charset=utf-8";
    }
}

void wx_gw_handle(wx_gw_t *gw, const wx_request_t *req, time_t now,
                  wx_response_t *resp)
{
    const char *detail = NULL;
    wx_reply_t reply;
    int is_get;
    wx_err_t rc;

    memset(resp, 0, sizeof(*resp));
    resp->status = 200;

    is_get = wx_str_eq(req->method, "GET");
    if (!is_get && !wx_str_eq(req->method, "POST")) {
        refuse(resp, WX_EMETHOD, NULL);
        return;
    }
    rc = wx_query_parse(req->query.data, req->query.len, &gw->pool, &gw->query);
    if (rc != WX_OK) {
        refuse(resp, rc, "bad query string");
        return;
    }
    rc = verify(gw, &gw->query, now, &detail);
    if (rc != WX_OK) {
        refuse(resp, rc, detail);
        return;
    }

    if (is_get) {
        /* The verification handshake: echo echostr (PROTOCOL.md 1.2). */
        if (gw->query.echostr.data == NULL) {
            refuse(resp, WX_EMISSING, "echostr missing");
            return;
        }
        resp->result = "echostr";
        resp->content_type = "text/plain; charset=utf-8";
        resp->body = gw->query.echostr;
        return;
    }

    rc = read_body(gw, req, &detail);
    if (rc == WX_OK) {
        rc = wx_msg_validate(&gw->msg);
        detail = rc == WX_EMISSING ? "required element missing" : "bad CreateTime or MsgId";
    }
    resp->msg_type = gw->msg.msg_type;
    resp->event = gw->msg.event_name;
    resp->openid = gw->msg.from_user;
    if (rc != WX_OK) {
        refuse(resp, rc, detail);
        return;
    }

    memset(&reply, 0, sizeof(reply));
    rc = gw->handler->handle(gw->hctx, &gw->msg, &gw->pool, &reply);
    if (rc != WX_OK) {
        wx_log(WX_LOG_ERROR, "handler %s failed: %s; answering success",
               gw->handler->name, wx_strerror(rc));
        memset(&reply, 0, sizeof(reply));
    }
    answer(gw, &reply, now, resp);
}

void wx_gw_log(const wx_request_t *req, const wx_response_t *resp, long usec)
{
    char method[16], type[48], event[48], who[32], detail[160];

    if (WX_LOG_INFO < wx_log_threshold)
        return;
    wx_log_clean(method, sizeof(method), req->method);
    wx_log_clean(type, sizeof(type), resp->msg_type);
    wx_log_clean(event, sizeof(event), resp->event);
    wx_log_openid(who, sizeof(who), resp->openid);
    snprintf(detail, sizeof(detail), "%s", resp->detail ? resp->detail : "");
    wx_log_write(WX_LOG_INFO,
                 "%s type=%s%s%s from=%s result=%s status=%d us=%ld%s%s%s",
                 method, type[0] ? type : "-", event[0] ? "/" : "", event,
                 who, resp->result ? resp->result : "-", resp->status, usec,
                 detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
}
