/*
 * gateway.c - the request path of /wx (DESIGN.md, "the hot path"):
 * query -> signature and timestamp -> body streamed into the SAX parser ->
 * handler -> reply written into the arena.  No malloc, no file I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/proto/crypt.h"
#include "wxfcgi/acct.h"
#include "wxfcgi/dedup.h"
#include "wxfcgi/gateway.h"
#include "wxfcgi/route.h"
#include "wxfcgi/metrics.h"
#include "wx/core/log.h"
#include "wx/proto/msg.h"
#include "wx/proto/parse.h"
#include "wx/proto/query.h"
#include "wx/proto/reply.h"
#include "wx/proto/sign.h"

#define WX_READ_CHUNK   8192

struct wx_gw {
    const wxfcgi_conf_t *cfg;
    const wx_handler_t *handler;
    void               *hctx;
    wx_parser_t        *parser;
    wx_pool_t           pool;
    wx_msg_t            msg;
    wx_query_t          query;
    /* The accounts (acct.h): each one's token, and keys of safe and
     * compatible mode (PROTOCOL.md 4) */
    wx_accts_t          accts;
    const wx_acct_t    *acct;           /* this request's */
    const wx_crypt_t   *used;           /* the key that decrypted this request */
    wx_dedup_t         *dedup;          /* retries, shared by all workers */
    char                why[192];       /* a refusal's detail that names its cause */
};

/* OpenSSL sets itself up on first use (reads openssl.cnf, loads its
 * provider, fetches AES, seeds its generator): some 10 million
 * instructions, paid here, not by the worker's first encrypted message. */
static wx_err_t warm_crypto(wx_gw_t *gw)
{
    char mem[256];
    wx_buf_t b64;
    wx_str_t back;
    wx_err_t rc = WX_OK;
    size_t i;

    for (i = 0; i < gw->accts.n && rc == WX_OK; i++) {
        const wx_crypt_t *k = &gw->accts.v[i].keys[0];

        if (gw->accts.v[i].n_keys == 0)
            continue;
        wx_buf_init(&b64, mem, sizeof(mem));
        rc = wx_crypt_encrypt(k, WX_STR("warm-up"), NULL, &gw->pool, &b64);
        if (rc == WX_OK)
            rc = wx_crypt_decrypt(k, wx_buf_str(&b64), &gw->pool, &back);
        wx_pool_reset(&gw->pool);
    }
    return rc;
}

wx_gw_t *wx_gw_new(const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    wx_parse_limits_t lim = WX_PARSE_LIMITS_DEFAULT;
    wx_gw_t *gw = calloc(1, sizeof(*gw));

    if (gw == NULL)
        goto nomem;
    gw->cfg = cfg;
    /* The routes pick the handler of each message ([wxfcgi] handler for
     * what no route takes): route.h. */
    gw->handler = &wx_handler_router;
    lim.max_text = cfg->fcgi.max_body;
    gw->parser = wx_parser_new(&lim);
    /* Room for the copied fields and items of the largest body, the
     * query, and a reply that may quote the whole body with CDATA splits. */
    if (gw->parser == NULL || wx_pool_init(&gw->pool, 8 * cfg->fcgi.max_body + (128 << 10)) != WX_OK)
        goto nomem;
    {
        unsigned char md[20];

        /* OpenSSL sets itself up (reads openssl.cnf, fetches SHA-1) on
         * the first digest: here, not in the first request. */
        if (wx_sha1_parts(NULL, 0, md) != WX_OK) {
            snprintf(err, errlen, "OpenSSL: no SHA-1");
            goto fail;
        }
    }
    if (wx_accts_init(&gw->accts, cfg, err, errlen) != 0)
        goto fail;
    gw->acct = &gw->accts.v[0];
    if (warm_crypto(gw) != WX_OK) {
        snprintf(err, errlen, "OpenSSL: AES-256-CBC unusable");
        goto fail;
    }
    if (cfg->fcgi.dedup_slots) {
        char path[4096];
        wx_store_conf_t sc;

        wx_dedup_store_conf(cfg, &sc, path, sizeof(path));
        gw->dedup = wx_dedup_open(&sc, err, errlen);
        if (gw->dedup == NULL)
            goto fail;
    }
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
    wx_dedup_close(gw->dedup);
    wx_accts_free(&gw->accts);
    free(gw);
}

void wx_gw_done(wx_gw_t *gw)
{
    wx_pool_reset(&gw->pool);
}

unsigned wx_gw_reap(wx_gw_t *gw)
{
    return gw->handler->reap ? gw->handler->reap(gw->hctx) : 0;
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
    rc = wx_sign_check_time(q->timestamp, now, gw->cfg->fcgi.timestamp_window);
    if (rc != WX_OK) {
        *detail = rc == WX_ESTALE ? "timestamp outside window" : "timestamp not a number";
        return rc;
    }
    parts[0] = gw->acct->token;
    parts[1] = q->timestamp;
    parts[2] = q->nonce;
    rc = wx_sign_verify(parts, 3, q->signature);
    if (rc == WX_ESIGNATURE)
        *detail = "signature mismatch";
    return rc;
}

/* Stream the body into the parser: never held whole, never more than
 * max_body bytes read, read straight into the parser's buffer. */
static wx_err_t read_body(wx_gw_t *gw, const wx_request_t *req,
                          const char **detail)
{
    size_t total = 0, want;
    wx_err_t rc;

    if (req->content_length < 0) {
        *detail = "no Content-Length";
        return WX_EINVAL;
    }
    if ((unsigned long long)req->content_length > gw->cfg->fcgi.max_body) {
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
        size_t n = want - total < WX_READ_CHUNK ? want - total : WX_READ_CHUNK;
        char *buf = wx_parser_buffer(gw->parser, n);
        long got;

        if (buf == NULL)
            return WX_ENOMEM;
        got = req->read(req->read_ctx, buf, n);
        if (got < 0) {
            *detail = "body read error";
            return WX_EINVAL;
        }
        if (got == 0) {
            *detail = "body shorter than Content-Length";
            return WX_EINVAL;
        }
        total += (size_t)got;
        rc = wx_parser_feed_buffer(gw->parser, (size_t)got, total == want);
        if (rc != WX_OK) {
            *detail = wx_parser_errmsg(gw->parser);
            return rc;
        }
    }
    return WX_OK;
}

/* Safe and compatible mode: check msg_signature over Encrypt, decrypt with
 * the current key or else the previous one, and parse the inner message in
 * place of the envelope (PROTOCOL.md 4.5, 4.6).  Only Encrypt is signed, so
 * the decrypted copy wins over any plaintext fields (DESIGN.md). */
static wx_err_t unwrap(wx_gw_t *gw, const char **detail)
{
    const wx_query_t *q = &gw->query;
    wx_str_t parts[4], inner, encrypt = gw->msg.encrypt;
    wx_err_t rc = WX_EINVAL, first = WX_OK, second = WX_OK;
    unsigned i;

    if (gw->acct->n_keys == 0) {
        *detail = "encrypted push but no encoding_aes_key configured";
        return WX_EINVAL;
    }
    if (encrypt.data == NULL) {
        *detail = "no Encrypt element";
        return WX_EMISSING;
    }
    if (q->msg_signature.data == NULL) {
        *detail = "msg_signature missing";
        return WX_EMISSING;
    }
    parts[0] = gw->acct->token;
    parts[1] = q->timestamp;
    parts[2] = q->nonce;
    parts[3] = encrypt;
    rc = wx_sign_verify(parts, 4, q->msg_signature);
    if (rc != WX_OK) {
        *detail = "msg_signature mismatch";
        return rc;
    }
    for (i = 0; i < gw->acct->n_keys; i++) {
        rc = wx_crypt_decrypt(&gw->acct->keys[i], encrypt, &gw->pool, &inner);
        if (rc == WX_OK)
            break;
        if (i == 0)
            first = rc;
        else
            second = rc;
        if (wx_err_class(rc) != WX_ERRCLASS_INPUT)
            break;
    }
    if (rc != WX_OK) {
        /* Report why the current key failed: that is the one to fix. */
        rc = wx_err_class(rc) == WX_ERRCLASS_INPUT ? first : rc;
        if (gw->acct->n_keys > 1 && second != WX_OK)
            snprintf(gw->why, sizeof(gw->why), "decryption failed: %s with "
                     "encoding_aes_key, %s with encoding_aes_key_previous",
                     wx_strerror(first), wx_strerror(second));
        else
            snprintf(gw->why, sizeof(gw->why), "decryption failed: %s with "
                     "encoding_aes_key", wx_strerror(rc));
        *detail = gw->why;
        return rc;
    }
    if (i > 0)
        wx_log(WX_LOG_INFO, "message decrypted with encoding_aes_key_previous");
    gw->used = &gw->acct->keys[i];
    rc = wx_msg_parse(gw->parser, &gw->pool, inner.data, inner.len, &gw->msg);
    if (rc != WX_OK)
        *detail = wx_parser_errmsg(gw->parser);
    return rc;
}

/* The encrypted reply envelope of PROTOCOL.md 4.6, with its own TimeStamp
 * and the request's nonce, encrypted with the key that decrypted it. */
static wx_err_t wrap(wx_gw_t *gw, wx_str_t plain, time_t now, wx_str_t *body)
{
    const wx_crypt_t *key = gw->used;
    char tsmem[24], sig[WX_SIGN_HEX_LEN + 1];
    size_t b64cap = 4 * ((plain.len + 20 + key->appid_len + 32 + 2) / 3) + 4;
    wx_str_t parts[4];
    wx_buf_t b64, ts, out;
    char *mem;
    wx_err_t rc;

    mem = wx_pool_alloc(&gw->pool, b64cap);
    if (mem == NULL)
        return WX_ENOMEM;
    wx_buf_init(&b64, mem, b64cap);
    rc = wx_crypt_encrypt(key, plain, NULL, &gw->pool, &b64);
    if (rc != WX_OK)
        return rc;
    wx_buf_init(&ts, tsmem, sizeof(tsmem));
    wx_buf_addi64(&ts, (long long)now);
    parts[0] = gw->acct->token;
    parts[1] = wx_buf_str(&ts);
    parts[2] = gw->query.nonce;
    parts[3] = wx_buf_str(&b64);
    rc = wx_sign(parts, 4, sig);
    if (rc != WX_OK)
        return rc;
    rc = wx_buf_from_pool(&out, &gw->pool, (size_t)-1);
    if (rc != WX_OK)
        return rc;
    /* Base64 and hex cannot hold "]]>" or a control: no scan needed. */
    wx_buf_addlit(&out, "<xml><Encrypt><![CDATA[");
    wx_buf_add(&out, b64.data, b64.len);
    wx_buf_addlit(&out, "]]></Encrypt><MsgSignature><![CDATA[");
    wx_buf_add(&out, sig, WX_SIGN_HEX_LEN);
    wx_buf_addlit(&out, "]]></MsgSignature><TimeStamp>");
    wx_buf_add(&out, ts.data, ts.len);
    wx_buf_addlit(&out, "</TimeStamp><Nonce>");
    wx_xml_cdata(&out, gw->query.nonce);
    wx_buf_addlit(&out, "</Nonce></xml>");
    if (out.overflow)
        return WX_ENOMEM;
    wx_buf_commit(&out, &gw->pool);
    *body = wx_buf_str(&out);
    return WX_OK;
}

/* Write the reply (encrypted when the request was); '*plain' is what a
 * retry of this message will be answered with. */
static void answer(wx_gw_t *gw, const wx_reply_t *reply, time_t now,
                   wx_response_t *resp, wx_str_t *plain)
{
    wx_buf_t out;
    wx_err_t rc;

    *plain = WX_STR("success");
    rc = wx_buf_from_pool(&out, &gw->pool, (size_t)-1);
    if (rc == WX_OK)
        rc = wx_reply_write(reply, &gw->msg, now, &out);
    if (rc == WX_OK) {
        wx_buf_commit(&out, &gw->pool);
        resp->body = *plain = wx_buf_str(&out);
        /* "success" is never encrypted (PROTOCOL.md 3.1). */
        if (gw->used && reply->type != WX_REPLY_SUCCESS)
            rc = wrap(gw, wx_buf_str(&out), now, &resp->body);
    }
    if (rc != WX_OK) {
        wx_log(WX_LOG_ERROR, "reply %s not written: %s; answering success",
               wx_reply_type_name(reply->type), wx_strerror(rc));
        *plain = WX_STR("success");
        resp->result = "success";
        resp->err = rc;
        resp->content_type = "text/plain; charset=utf-8";
        resp->body = WX_STR("success");
        return;
    }
    if (reply->type == WX_REPLY_SUCCESS) {
        resp->result = "success";
        resp->content_type = "text/plain; charset=utf-8";
    } else {
        resp->result = wx_reply_type_name(reply->type);
        resp->content_type = "text/xml; charset=utf-8";
    }
    resp->encrypted = gw->used != NULL && reply->type != WX_REPLY_SUCCESS;
}

/* A retry of a message already answered: the stored reply, byte for byte
 * (in a fresh envelope when encrypted). */
static void replay(wx_gw_t *gw, wx_str_t stored, time_t now,
                   wx_response_t *resp)
{
    int is_success = wx_str_eq(stored, "success");

    resp->result = "replay";
    resp->detail = "retry of an answered message";
    resp->content_type = is_success ? "text/plain; charset=utf-8" : "text/xml; charset=utf-8";
    resp->body = stored;
    if (gw->used && !is_success) {
        wx_err_t rc = wrap(gw, stored, now, &resp->body);

        if (rc != WX_OK) {
            wx_log(WX_LOG_ERROR, "stored reply not encrypted: %s; answering success",
                   wx_strerror(rc));
            resp->content_type = "text/plain; charset=utf-8";
            resp->body = WX_STR("success");
            return;
        }
        resp->encrypted = 1;
    }
}

/* Read, decrypt and check the message of a verified POST; WX_OK, or the
 * refusal written to 'resp'. */
static wx_err_t read_msg(wx_gw_t *gw, const wx_request_t *req, wx_response_t *resp)
{
    int encrypted = wx_str_eq(gw->query.encrypt_type, "aes");
    const char *detail = NULL;
    wx_mode_t mode = gw->acct->wx->mode;
    wx_err_t rc;

    rc = read_body(gw, req, &detail);
    if (rc == WX_OK && mode == WX_MODE_SAFE && !encrypted) {
        rc = WX_EPLAINTEXT;
        detail = "plaintext push refused: the account's mode is safe";
    }
    if (rc == WX_OK && encrypted && mode != WX_MODE_PLAIN)
        rc = unwrap(gw, &detail);
    if (rc == WX_OK) {
        rc = wx_msg_validate(&gw->msg);
        if (rc != WX_OK && encrypted && mode == WX_MODE_PLAIN)
            detail = "encrypted push but the account's mode is plain";
        else
            detail = rc == WX_EMISSING ? "required element missing" : "bad CreateTime or MsgId";
    }
    /* A push for another account that reached this URL (a platform set
     * up with the wrong URL) is not answered as this one. */
    if (rc == WX_OK && gw->acct->original_id.data &&
        wx_str_cmp(gw->msg.to_user, gw->acct->original_id) != 0) {
        rc = WX_EINVAL;
        detail = "ToUserName is not the account's original_id";
        resp->reason = "original_id";
    }
    resp->msg_type = gw->msg.msg_type;
    resp->event = gw->msg.event_name;
    resp->openid = gw->msg.from_user;
    if (rc != WX_OK)
        refuse(resp, rc, detail);
    return rc;
}

/* Answer a checked message: the stored reply of a retry, or the handler's,
 * remembered for the retries to come. */
static void respond_msg(wx_gw_t *gw, const wx_request_t *req, time_t now,
                        wx_response_t *resp)
{
    wx_handle_req_t hreq;
    unsigned char key[20];
    wx_reply_t reply;
    wx_str_t plain;
    wx_err_t rc;

    if (gw->dedup) {
        wx_dedup_state_t st;
        wx_str_t stored;

        if (wx_dedup_key(&gw->msg, gw->acct->dedup_ns, key) != WX_OK) {
            refuse(resp, WX_ECRYPTO, "cannot compute the message key");
            return;
        }
        st = wx_dedup_begin(gw->dedup, key, gw->cfg->fcgi.reply_budget_ms, &gw->pool, &stored);
        if (st == WX_DEDUP_REPLAY) {
            replay(gw, stored, now, resp);
            return;
        }
        if (st == WX_DEDUP_TIMEOUT) {
            /* The first delivery is still being answered; WeChat needs an
             * answer now, and the handler must not run twice. */
            resp->result = "success";
            resp->detail = "retry while the first delivery is in progress";
            resp->content_type = "text/plain; charset=utf-8";
            resp->body = WX_STR("success");
            return;
        }
    }

    memset(&reply, 0, sizeof(reply));
    hreq.msg = &gw->msg;
    hreq.account = gw->acct->index;
    hreq.pool = &gw->pool;
    hreq.arrived_ms = req->arrived_ms;
    hreq.now = now;
    hreq.waited_us = &resp->waited_us;
    rc = gw->handler->handle(gw->hctx, &hreq, &reply);
    if (rc != WX_OK) {
        wx_log(WX_LOG_ERROR, "handler %s failed: %s; answering success",
               gw->handler->name, wx_strerror(rc));
        wx_mx_inc(WXF_MX_HANDLER_ERRORS);
        memset(&reply, 0, sizeof(reply));
    }
    answer(gw, &reply, now, resp, &plain);
    if (gw->dedup)
        wx_dedup_finish(gw->dedup, key, plain);
}

void wx_gw_handle(wx_gw_t *gw, const wx_request_t *req, time_t now,
                  wx_response_t *resp)
{
    const char *detail = NULL;
    int is_get;
    wx_err_t rc;

    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    /* Nothing of the previous request may show through an early refusal. */
    memset(&gw->msg, 0, sizeof(gw->msg));
    gw->used = NULL;
    gw->acct = wx_accts_for_path(&gw->accts, req->path);
    if (gw->acct == NULL) {
        gw->acct = &gw->accts.v[0];
        refuse(resp, WX_EINVAL, "no such account");
        resp->status = 404;
        resp->reason = "unknown_account";
        return;
    }
    resp->account = gw->acct->name;

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

    if (read_msg(gw, req, resp) == WX_OK)
        respond_msg(gw, req, now, resp);
}

void wx_gw_log(const wx_request_t *req, const wx_response_t *resp, long usec)
{
    char method[16], type[48], event[48], who[32], line[512];
    const char *detail = resp->detail ? resp->detail : "";
    wx_buf_t b;

    if (WX_LOG_INFO < wx_log_threshold)
        return;
    wx_log_clean(method, sizeof(method), req->method);
    wx_log_clean(type, sizeof(type), resp->msg_type);
    wx_log_clean(event, sizeof(event), resp->event);
    wx_log_openid(who, sizeof(who), resp->openid);
    /* "POST type=text[/EVENT] from=oAbc..yz result=text[+aes] status=200
     * us=123 account=NAME[ (detail)]", made without printf: a line a
     * request (no account: refused before one was known). */
    wx_buf_init(&b, line, sizeof(line));
    wx_buf_adds(&b, method);
    wx_buf_adds(&b, " type=");
    wx_buf_adds(&b, type[0] ? type : "-");
    if (event[0]) {
        wx_buf_add(&b, "/", 1);
        wx_buf_adds(&b, event);
    }
    wx_buf_adds(&b, " from=");
    wx_buf_adds(&b, who);
    wx_buf_adds(&b, " result=");
    wx_buf_adds(&b, resp->result ? resp->result : "-");
    if (resp->encrypted)
        wx_buf_adds(&b, "+aes");
    wx_buf_adds(&b, " status=");
    wx_buf_addi64(&b, resp->status);
    wx_buf_adds(&b, " us=");
    wx_buf_addi64(&b, usec);
    if (resp->account) {
        wx_buf_adds(&b, " account=");
        wx_buf_adds(&b, resp->account);
    }
    if (detail[0]) {
        wx_buf_adds(&b, " (");
        wx_buf_add(&b, detail, strnlen(detail, 159));
        wx_buf_add(&b, ")", 1);
    }
    wx_log_text(WX_LOG_INFO, line, b.len);
}
