/* check_gateway.c - the request path of /wx, driven in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/config.h"
#include "wx/proto/crypt.h"
#include "wx/core/err.h"
#include "wxfcgi/gateway.h"
#include "wx/core/log.h"
#include "wx/proto/msg.h"
#include "wx/proto/parse.h"
#include "wx/proto/sign.h"

#define TOKEN       "testtoken"
#define NOW         ((time_t)1714112445)
#define MAX_BODY    65536

static const char config_text[] =
    "[wx]\n"
    "token = " TOKEN "\n"
    "[wxfcgi]\n"
    "timestamp_window = 300\n"
    "max_body = 65536\n"
    "handler = echo\n"
    "dedup_slots = 0\n"
    "[echo]\n"
    "welcome = Welcome to the test account.\n"
    "[echo.click]\n"
    "V1001_HELLO = Hello from the menu.\n";

static char cfg_path[64];
static wx_config_t *cfg;
static wx_gw_t *gw;

/* ---- an in-memory body ----------------------------------------------- */

typedef struct body {
    const char *data;
    size_t      len;
    size_t      pos;
    size_t      max_chunk;      /* 0: as much as asked */
    int         fail_after;     /* calls before returning -1; < 0: never */
    unsigned    calls;
} body_t;

static long body_read(void *ctx, char *buf, size_t len)
{
    body_t *b = ctx;
    size_t n = b->len - b->pos;

    b->calls++;
    if (b->fail_after >= 0 && (int)b->calls > b->fail_after)
        return -1;
    if (n > len)
        n = len;
    if (b->max_chunk && n > b->max_chunk)
        n = b->max_chunk;
    memcpy(buf, b->data + b->pos, n);
    b->pos += n;
    return (long)n;
}

static void body_init(body_t *b, const char *data, size_t len)
{
    memset(b, 0, sizeof(*b));
    b->data = data;
    b->len = len;
    b->fail_after = -1;
}

static void setup(void)
{
    char err[256];

    unsetenv("WX_TOKEN");
    strcpy(cfg_path, "/tmp/wx-ut-gw.XXXXXX");
    write_temp(cfg_path, config_text);
    cfg = wx_config_load(&wxfcgi_spec, cfg_path, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
    gw = wx_gw_new(wxfcgi_conf(cfg), err, sizeof(err));
    ck_assert_msg(gw != NULL, "wx_gw_new: %s", err);
    /* requests are logged only at info: keep the test output quiet */
    wx_log_threshold = WX_LOG__MAX;
}

static void teardown(void)
{
    wx_gw_free(gw);
    wx_config_free(cfg);
    unlink(cfg_path);
}

/* A signed query: "signature=...&timestamp=TS&nonce=NONCE" + extra. */
static char *signed_query(const char *token, const char *ts, const char *nonce,
                          const char *extra)
{
    static char q[8192];
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[3] = { wx_str_c(token), wx_str_c(ts), wx_str_c(nonce) };

    ck_assert_int_eq(wx_sign(parts, 3, hex), WX_OK);
    snprintf(q, sizeof(q), "signature=%s&timestamp=%s&nonce=%s%s", hex, ts, nonce,
             extra ? extra : "");
    return q;
}

static const char *good_query(void)
{
    return signed_query(TOKEN, "1714112445", "415670741",
                        "&openid=oUserOpenId0123456789abcdef");
}

static void handle(const char *method, const char *query, body_t *b,
                   long long content_length, wx_response_t *resp)
{
    wx_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = wx_str_c(method);
    req.query = wx_str_c(query);
    req.content_length = content_length;
    req.read = body_read;
    req.read_ctx = b;
    wx_gw_handle(gw, &req, NOW, resp);
}

static void post(const char *query, const char *xml, size_t len, body_t *b,
                 wx_response_t *resp)
{
    body_init(b, xml, len);
    handle("POST", query, b, (long long)len, resp);
}

#define ck_assert_body(resp, want)                                          \
    do {                                                                    \
        const char *w_ = (want);                                            \
        ck_assert_msg((resp).body.len == strlen(w_) &&                      \
                      memcmp((resp).body.data, w_, (resp).body.len) == 0,  \
                      "\n body: %.*s\n want: %s", (int)(resp).body.len,     \
                      (resp).body.data ? (resp).body.data : "", w_);        \
    } while (0)

static const char text_xml[] =
    "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
    "<FromUserName><![CDATA[oUserOpenId0123456789abcdef]]></FromUserName>"
    "<CreateTime>1714112440</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>";

static const char text_reply[] =
    "<xml><ToUserName><![CDATA[oUserOpenId0123456789abcdef]]></ToUserName>"
    "<FromUserName><![CDATA[gh_0123456789ab]]></FromUserName>"
    "<CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[this is a test]]></Content></xml>";

/* ---- GET: the verification handshake -------------------------------- */

START_TEST(test_get_echostr)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, NULL, 0);
    handle("GET", signed_query(TOKEN, "1714112445", "415670741",
                               "&echostr=4375120948345356249"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    ck_assert_body(resp, "4375120948345356249");
    ck_assert_str_eq(resp.result, "echostr");
    ck_assert_int_eq(resp.err, WX_OK);
    ck_assert_uint_eq(b.calls, 0);
}
END_TEST

START_TEST(test_get_independent_signature)
{
    wx_response_t resp;
    body_t b;
    /* sha1("12345" "1700000000" "testtoken"), computed outside libwx */
    wx_request_t req = {
        .method = WX_STR("GET"),
        .query = WX_STR("signature=9fa955bf79a1e8a2a7e27398c146068de8f407c1"
                        "&timestamp=1700000000&nonce=12345&echostr=hello"),
        .content_length = -1, .read = body_read, .read_ctx = &b,
    };

    body_init(&b, NULL, 0);
    wx_gw_handle(gw, &req, (time_t)1700000100, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_body(resp, "hello");
}
END_TEST

START_TEST(test_get_echostr_decoded)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, NULL, 0);
    handle("GET", signed_query(TOKEN, "1714112445", "1", "&echostr=a%2Bb+c%26d"), &b, -1,
           &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_body(resp, "a+b c&d");
}
END_TEST

START_TEST(test_get_bad_signature)
{
    wx_response_t resp;
    body_t b;
    char *q;

    body_init(&b, NULL, 0);
    handle("GET", signed_query("wrongtoken", "1714112445", "415670741", "&echostr=1"), &b, -1,
           &resp);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_int_eq(resp.err, WX_ESIGNATURE);
    ck_assert_str_eq(resp.result, "refused");
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    /* the echostr is never echoed to a caller that cannot sign */
    ck_assert(!(resp.body.len == 1 && resp.body.data[0] == '1'));
    wx_gw_done(gw);

    /* upper-case hex */
    q = signed_query(TOKEN, "1714112445", "415670741", "&echostr=1");
    for (char *p = q + 10; *p && *p != '&'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    handle("GET", q, &b, -1, &resp);
    ck_assert_int_eq(resp.status, 403);
    wx_gw_done(gw);

    /* the signature of other parameters */
    q = signed_query(TOKEN, "1714112445", "415670741", "&echostr=1");
    q[strlen("signature=") + 40 + strlen("&timestamp=1714112445&nonce=41567074")] = '2';
    handle("GET", q, &b, -1, &resp);
    ck_assert_int_eq(resp.status, 403);
}
END_TEST

START_TEST(test_get_missing_params)
{
    wx_response_t resp;
    body_t b;
    char q[256];
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[3] = { WX_STR(TOKEN), WX_STR("1714112445"), WX_STR("") };

    body_init(&b, NULL, 0);
    /* no nonce (signed as if it were empty) */
    ck_assert_int_eq(wx_sign(parts, 3, hex), WX_OK);
    snprintf(q, sizeof(q), "signature=%s&timestamp=1714112445&echostr=1", hex);
    handle("GET", q, &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(resp.err, WX_EMISSING);
    wx_gw_done(gw);
    /* no signature at all */
    handle("GET", "timestamp=1714112445&nonce=1&echostr=1", &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    handle("GET", "", &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    /* no echostr */
    handle("GET", signed_query(TOKEN, "1714112445", "7", NULL), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    /* a bad query string */
    handle("GET", signed_query(TOKEN, "1714112445", "7", "&echostr=1&echostr=2"), &b, -1,
           &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    handle("GET", signed_query(TOKEN, "1714112445", "7", "&echostr=%zz"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
}
END_TEST

START_TEST(test_get_stale)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, NULL, 0);
    /* 301 s in the past, 301 s in the future */
    handle("GET", signed_query(TOKEN, "1714112144", "1", "&echostr=1"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_int_eq(resp.err, WX_ESTALE);
    wx_gw_done(gw);
    handle("GET", signed_query(TOKEN, "1714112746", "1", "&echostr=1"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 403);
    wx_gw_done(gw);
    /* the edges of the window */
    handle("GET", signed_query(TOKEN, "1714112145", "1", "&echostr=1"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 200);
    wx_gw_done(gw);
    handle("GET", signed_query(TOKEN, "1714112745", "1", "&echostr=1"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 200);
    wx_gw_done(gw);
    /* not a number: malformed, not stale */
    handle("GET", signed_query(TOKEN, "abc", "1", "&echostr=1"), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
}
END_TEST

START_TEST(test_methods)
{
    static const char *const methods[] = { "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS",
                                           "get", "post", "" };
    wx_response_t resp;
    body_t b;
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        body_init(&b, text_xml, sizeof(text_xml) - 1);
        handle(methods[i], good_query(), &b, sizeof(text_xml) - 1, &resp);
        ck_assert_msg(resp.status == 405, "%s: %d", methods[i], resp.status);
        ck_assert_int_eq(resp.err, WX_EMETHOD);
        ck_assert_uint_eq(b.calls, 0);
        wx_gw_done(gw);
    }
}
END_TEST

/* ---- POST: messages -------------------------------------------------- */

START_TEST(test_post_text)
{
    wx_response_t resp;
    body_t b;

    post(good_query(), text_xml, sizeof(text_xml) - 1, &b, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "text/xml; charset=utf-8");
    ck_assert_body(resp, text_reply);
    ck_assert_str_eq(resp.result, "text");
    ck_assert_int_eq(resp.err, WX_OK);
    ck_assert_wx_str_eq(resp.msg_type, "text");
    ck_assert_wx_str_eq(resp.openid, "oUserOpenId0123456789abcdef");
    ck_assert_uint_eq(resp.event.len, 0);
    ck_assert_uint_eq(b.pos, b.len);
}
END_TEST

START_TEST(test_post_in_small_reads)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, text_xml, sizeof(text_xml) - 1);
    b.max_chunk = 1;
    handle("POST", good_query(), &b, sizeof(text_xml) - 1, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_body(resp, text_reply);
    ck_assert_uint_ge(b.calls, sizeof(text_xml) - 1);
}
END_TEST

START_TEST(test_post_unsubscribe_success)
{
    wx_response_t resp;
    body_t b;
    size_t len;
    char *xml = fx_read("msg/event_unsubscribe.xml", &len);

    post(good_query(), xml, len, &b, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_body(resp, "success");
    ck_assert_uint_eq(resp.body.len, 7);
    ck_assert_str_eq(resp.result, "success");
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    ck_assert_wx_str_eq(resp.msg_type, "event");
    ck_assert_wx_str_eq(resp.event, "unsubscribe");
    free(xml);
}
END_TEST

START_TEST(test_post_too_big)
{
    wx_response_t resp;
    body_t b;

    /* refused on Content-Length alone: the body is never read */
    body_init(&b, text_xml, sizeof(text_xml) - 1);
    handle("POST", good_query(), &b, MAX_BODY + 1, &resp);
    ck_assert_int_eq(resp.status, 413);
    ck_assert_int_eq(resp.err, WX_ETOOBIG);
    ck_assert_uint_eq(b.calls, 0);
    wx_gw_done(gw);
    handle("POST", good_query(), &b, 1LL << 40, &resp);
    ck_assert_int_eq(resp.status, 413);
    ck_assert_uint_eq(b.calls, 0);
}
END_TEST

START_TEST(test_post_exactly_max_body)
{
    static const char head[] =
        "<xml><ToUserName>gh_0123456789ab</ToUserName>"
        "<FromUserName>oUserOpenId0123456789abcdef</FromUserName>"
        "<CreateTime>1714112440</CreateTime><MsgType>text</MsgType><Content>";
    static const char tail[] = "</Content><MsgId>9</MsgId></xml>";
    char *xml = malloc(MAX_BODY);
    size_t fill = MAX_BODY - (sizeof(head) - 1) - (sizeof(tail) - 1);
    wx_response_t resp;
    body_t b;

    ck_assert_ptr_nonnull(xml);
    memcpy(xml, head, sizeof(head) - 1);
    memset(xml + sizeof(head) - 1, 'x', fill);
    memcpy(xml + sizeof(head) - 1 + fill, tail, sizeof(tail) - 1);
    post(good_query(), xml, MAX_BODY, &b, &resp);
    ck_assert_int_eq(resp.status, 200);
    /* the whole text comes back */
    ck_assert_uint_gt(resp.body.len, fill);
    ck_assert_ptr_nonnull(memmem(resp.body.data, resp.body.len, xml + sizeof(head) - 1, fill));
    free(xml);
}
END_TEST

START_TEST(test_post_bad_signature_body_unread)
{
    wx_response_t resp;
    body_t b;
    size_t len;
    char *xml = fx_read("hostile/doctype_billion_laughs.xml", &len);

    /* the signature is checked before any body byte is read */
    post(signed_query("wrongtoken", "1714112445", "1", NULL), xml, len, &b, &resp);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_uint_eq(b.calls, 0);
    wx_gw_done(gw);
    post(signed_query(TOKEN, "1714100000", "1", NULL), xml, len, &b, &resp);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_uint_eq(b.calls, 0);
    free(xml);
}
END_TEST

START_TEST(test_post_short_body)
{
    wx_response_t resp;
    body_t b;

    /* the body ends before Content-Length says */
    body_init(&b, text_xml, 40);
    handle("POST", good_query(), &b, sizeof(text_xml) - 1, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_str_eq(resp.result, "refused");
}
END_TEST

START_TEST(test_post_read_error)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, text_xml, sizeof(text_xml) - 1);
    b.fail_after = 0;
    handle("POST", good_query(), &b, sizeof(text_xml) - 1, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    /* after some bytes */
    body_init(&b, text_xml, sizeof(text_xml) - 1);
    b.max_chunk = 10;
    b.fail_after = 3;
    handle("POST", good_query(), &b, sizeof(text_xml) - 1, &resp);
    ck_assert_int_eq(resp.status, 400);
}
END_TEST

START_TEST(test_post_no_length)
{
    wx_response_t resp;
    body_t b;

    body_init(&b, text_xml, sizeof(text_xml) - 1);
    handle("POST", good_query(), &b, -1, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(gw);
    handle("POST", good_query(), &b, 0, &resp);
    ck_assert_int_eq(resp.status, 400);
}
END_TEST

static void expect_post_status(const char *xml, int status)
{
    wx_response_t resp;
    body_t b;

    post(good_query(), xml, strlen(xml), &b, &resp);
    ck_assert_msg(resp.status == status, "status %d, want %d for %s", resp.status, status, xml);
    ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
    ck_assert_ptr_nonnull(resp.detail);
    wx_gw_done(gw);
}

START_TEST(test_post_refusals)
{
    /* malformed */
    expect_post_status("<xml><ToUserName>a</ToUserName>", 400);
    expect_post_status("not xml at all", 400);
    expect_post_status("<message><ToUserName>a</ToUserName></message>", 400);
    /* DOCTYPE */
    expect_post_status("<!DOCTYPE xml><xml><ToUserName>gh_0123456789ab</ToUserName>"
                       "<FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
                       "<MsgType>text</MsgType></xml>", 400);
    /* missing fields */
    expect_post_status("<xml><ToUserName>gh_0123456789ab</ToUserName>"
                       "<CreateTime>1</CreateTime><MsgType>text</MsgType></xml>", 400);
    expect_post_status("<xml><ToUserName>gh_0123456789ab</ToUserName>"
                       "<FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
                       "<MsgType>event</MsgType></xml>", 400);
    /* bad numbers */
    expect_post_status("<xml><ToUserName>gh_0123456789ab</ToUserName>"
                       "<FromUserName>o</FromUserName><CreateTime>now</CreateTime>"
                       "<MsgType>text</MsgType></xml>", 400);
    /* deep nesting */
    expect_post_status("<xml><a><a><a><a><a><a><a><a><a>x</a></a></a></a></a></a></a></a></a>"
                       "</xml>", 400);
}
END_TEST

START_TEST(test_post_dtd_detail)
{
    wx_response_t resp;
    body_t b;
    static const char xml[] = "<!DOCTYPE xml><xml></xml>";

    post(good_query(), xml, sizeof(xml) - 1, &b, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(resp.err, WX_EXML_DTD);
    ck_assert_ptr_nonnull(strstr(resp.detail, "DOCTYPE"));
}
END_TEST

START_TEST(test_hostile_fixtures)
{
    static const char *const names[] = {
        "bad_createtime", "deep_nesting", "doctype_billion_laughs", "doctype_empty",
        "doctype_external_entity", "event_without_event", "external_dtd",
        "invalid_utf8", "many_elements", "missing_fields", "not_xml", "nul_byte",
        "truncated", "two_roots", "wrong_root", "empty",
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char rel[128];
        size_t len;
        char *xml;
        wx_response_t resp;
        body_t b;

        snprintf(rel, sizeof(rel), "hostile/%s.xml", names[i]);
        xml = fx_read(rel, &len);
        post(good_query(), xml, len, &b, &resp);
        ck_assert_msg(resp.status == 400, "%s: status %d", names[i], resp.status);
        wx_gw_done(gw);
        free(xml);
    }
    /* and the next message is answered */
    {
        wx_response_t resp;
        body_t b;

        post(good_query(), text_xml, sizeof(text_xml) - 1, &b, &resp);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_body(resp, text_reply);
    }
}
END_TEST

START_TEST(test_thousand_requests)
{
    int i;

    for (i = 0; i < 1000; i++) {
        wx_response_t resp;
        body_t b;

        post(good_query(), text_xml, sizeof(text_xml) - 1, &b, &resp);
        ck_assert_msg(resp.status == 200, "request %d: status %d (%s)", i, resp.status,
                      resp.detail ? resp.detail : "");
        ck_assert_body(resp, text_reply);
        wx_gw_done(gw);
        if (i % 10 == 0) {
            body_init(&b, NULL, 0);
            handle("GET", signed_query(TOKEN, "1714112445", "1", "&echostr=abc"), &b, -1,
                   &resp);
            ck_assert_int_eq(resp.status, 200);
            wx_gw_done(gw);
        }
    }
}
END_TEST

/* Each message fixture gets the reply of its .reply twin. */
START_TEST(test_fixture_replies)
{
    static const char *const names[] = {
        "text", "image", "voice", "video", "shortvideo", "location", "link",
        "miniprogrampage", "event_subscribe", "event_subscribe_qrscene",
        "event_unsubscribe", "event_scan", "event_location", "event_click",
        "event_click_unknown", "event_view", "event_scancode_push",
        "event_scancode_waitmsg", "event_pic_sysphoto", "event_pic_photo_or_album",
        "event_pic_weixin", "event_location_select", "event_view_miniprogram",
        "event_masssendjobfinish", "event_templatesendjobfinish",
        "event_publishjobfinish", "event_publishjobfinish_fail",
        "event_subscribe_msg_popup_event", "event_kf_switch_session", "event_unknown",
        "unknown_type",
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char rel[128];
        size_t len, rlen;
        char *xml, *tmpl, *want;
        wx_response_t resp;
        body_t b;

        snprintf(rel, sizeof(rel), "msg/%s.xml", names[i]);
        xml = fx_read(rel, &len);
        snprintf(rel, sizeof(rel), "msg/%s.reply", names[i]);
        tmpl = fx_read(rel, &rlen);
        want = reply_with_now(tmpl, (long long)NOW);
        post(good_query(), xml, len, &b, &resp);
        ck_assert_msg(resp.status == 200, "%s: status %d (%s)", names[i], resp.status,
                      resp.detail ? resp.detail : "");
        ck_assert_msg(resp.body.len == strlen(want) &&
                      memcmp(resp.body.data, want, resp.body.len) == 0,
                      "%s:\n got: %.*s\nwant: %s", names[i], (int)resp.body.len,
                      resp.body.data, want);
        ck_assert_str_eq(resp.content_type, strcmp(tmpl, "success") == 0 ?
                         "text/plain; charset=utf-8" : "text/xml; charset=utf-8");
        wx_gw_done(gw);
        free(xml);
        free(tmpl);
        free(want);
    }
}
END_TEST

START_TEST(test_echo_without_welcome)
{
    static const char no_welcome[] = "[wx]\ntoken = " TOKEN "\n[wxfcgi]\ndedup_slots = 0\n";
    char path[] = "/tmp/wx-ut-gw2.XXXXXX";
    char err[256];
    wx_config_t *c2;
    wx_gw_t *g2;
    size_t len;
    char *xml = fx_read("msg/event_subscribe.xml", &len);
    wx_response_t resp;
    body_t b;
    wx_request_t req;

    write_temp(path, no_welcome);
    c2 = wx_config_load(&wxfcgi_spec, path, err, sizeof(err));
    ck_assert_ptr_nonnull(c2);
    g2 = wx_gw_new(wxfcgi_conf(c2), err, sizeof(err));
    ck_assert_ptr_nonnull(g2);
    body_init(&b, xml, len);
    memset(&req, 0, sizeof(req));
    req.method = WX_STR("POST");
    req.query = wx_str_c(good_query());
    req.content_length = (long long)len;
    req.read = body_read;
    req.read_ctx = &b;
    wx_gw_handle(g2, &req, NOW, &resp);
    /* no welcome configured: nothing to say */
    ck_assert_int_eq(resp.status, 200);
    ck_assert_body(resp, "success");
    wx_gw_done(g2);
    wx_gw_free(g2);
    wx_config_free(c2);
    unlink(path);
    free(xml);
}
END_TEST

START_TEST(test_unknown_handler)
{
    char err[256];
    wxfcgi_conf_t *fc = (wxfcgi_conf_t *)(void *)cfg;
    char *saved = fc->fcgi.handler;
    wx_gw_t *g2;

    fc->fcgi.handler = (char *)"nope";
    err[0] = '\0';
    g2 = wx_gw_new(fc, err, sizeof(err));
    fc->fcgi.handler = saved;
    ck_assert_ptr_null(g2);
    ck_assert_ptr_nonnull(strstr(err, "nope"));
    ck_assert_ptr_nonnull(wx_handler_find("echo"));
    ck_assert_ptr_null(wx_handler_find("nope"));
}
END_TEST

START_TEST(test_access_log)
{
    char path[] = "/tmp/wx-ut-access.XXXXXX";
    wx_request_t req;
    wx_response_t resp;
    body_t b;
    char *text;
    size_t len;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(wx_log_open(path, "ut", WX_LOG_INFO), 0);
    body_init(&b, text_xml, sizeof(text_xml) - 1);
    memset(&req, 0, sizeof(req));
    req.method = WX_STR("POST");
    req.query = wx_str_c(good_query());
    req.content_length = (long long)(sizeof(text_xml) - 1);
    req.read = body_read;
    req.read_ctx = &b;
    wx_gw_handle(gw, &req, NOW, &resp);
    wx_gw_log(&req, &resp, 123);
    wx_log_close();
    text = slurp_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "POST type=text from=oUse..ef result=text status=200 us=123")
                  != NULL, "log: %s", text);
    ck_assert_ptr_null(strstr(text, "oUserOpenId0123456789abcdef"));
    ck_assert_ptr_null(strstr(text, TOKEN));
    free(text);
    unlink(path);
}
END_TEST


/* ---- safe and compatible mode (PROTOCOL.md 4), vector B ------------- */

#define B_TOKEN     "spamtest"
#define B_KEY       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#define B_APPID     "wx2c2769f8efd9abc2"
#define B_NOW       ((time_t)1409735669)
#define B_QUERY     "signature=16120ec1b8dbb870f510d87ce6bc2463eae6ca1a&timestamp=1409735669" \
                    "&nonce=1320562132&openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs&encrypt_type=aes" \
                    "&msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa"
#define B_ENCRYPT   "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
#define B_ENVELOPE  "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>" \
                    "<Encrypt><![CDATA[" B_ENCRYPT "]]></Encrypt></xml>"
#define B_REPLY     "<xml><ToUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></ToUserName>" \
                    "<FromUserName><![CDATA[gh_10f6c3c3ac5a]]></FromUserName>" \
                    "<CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType>" \
                    "<Content><![CDATA[abcdteT]]></Content></xml>"

static char mode_path[64];
static wx_config_t *mode_cfg;
static wx_gw_t *mode_gw;

static void mode_gw_open(const char *wx_section)
{
    char text[1024], err[256];

    snprintf(text, sizeof(text), "[wx]\ntoken = " B_TOKEN "\nappid = " B_APPID "\n%s"
             "[wxfcgi]\ndedup_slots = 0\n", wx_section);
    strcpy(mode_path, "/tmp/wx-ut-gw-aes.XXXXXX");
    write_temp(mode_path, text);
    mode_cfg = wx_config_load(&wxfcgi_spec, mode_path, err, sizeof(err));
    ck_assert_msg(mode_cfg != NULL, "%s", err);
    mode_gw = wx_gw_new(wxfcgi_conf(mode_cfg), err, sizeof(err));
    ck_assert_msg(mode_gw != NULL, "wx_gw_new: %s", err);
}

static void mode_teardown(void)
{
    wx_gw_free(mode_gw);
    mode_gw = NULL;
    wx_config_free(mode_cfg);
    mode_cfg = NULL;
    if (mode_path[0])
        unlink(mode_path);
    mode_path[0] = '\0';
}

static void mode_post(const char *query, const char *xml, wx_response_t *resp)
{
    static body_t b;
    wx_request_t req;

    body_init(&b, xml, strlen(xml));
    memset(&req, 0, sizeof(req));
    req.method = WX_STR("POST");
    req.query = wx_str_c(query);
    req.content_length = (long long)strlen(xml);
    req.read = body_read;
    req.read_ctx = &b;
    wx_gw_handle(mode_gw, &req, B_NOW, resp);
}

/* Open the encrypted reply: check its signature and return its plaintext
 * (a malloc'ed copy). */
static char *open_envelope(const wx_response_t *resp, const char *key)
{
    wx_parser_t *p = wx_parser_new(NULL);
    wx_pool_t pool;
    wx_msg_t env;
    wx_crypt_t c;
    wx_str_t plain, parts[4];
    char *copy;

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(wx_pool_init(&pool, 64 << 10), WX_OK);
    ck_assert_int_eq(wx_msg_parse(p, &pool, resp->body.data, resp->body.len, &env), WX_OK);
    ck_assert_wx_str_eq(env.env_timestamp, "1409735669");
    ck_assert_wx_str_eq(env.env_nonce, "1320562132");
    ck_assert_uint_eq(env.env_signature.len, WX_SIGN_HEX_LEN);
    parts[0] = WX_STR(B_TOKEN);
    parts[1] = env.env_timestamp;
    parts[2] = env.env_nonce;
    parts[3] = env.encrypt;
    ck_assert_int_eq(wx_sign_verify(parts, 4, env.env_signature), WX_OK);
    ck_assert_int_eq(wx_crypt_init(&c, key, B_APPID), WX_OK);
    ck_assert_int_eq(wx_crypt_decrypt(&c, env.encrypt, &pool, &plain), WX_OK);
    copy = strndup(plain.data, plain.len);
    ck_assert_ptr_nonnull(copy);
    wx_crypt_clear(&c);
    wx_parser_free(p);
    wx_pool_free(&pool);
    return copy;
}

START_TEST(test_safe_mode_vector_b)
{
    wx_response_t resp;
    char *plain;

    mode_gw_open("encoding_aes_key = " B_KEY "\nmode = safe\n");
    mode_post(B_QUERY, B_ENVELOPE, &resp);
    ck_assert_msg(resp.status == 200, "status %d (%s)", resp.status,
                  resp.detail ? resp.detail : "");
    ck_assert_int_ne(resp.encrypted, 0);
    ck_assert_str_eq(resp.content_type, "text/xml; charset=utf-8");
    ck_assert_wx_str_eq(resp.msg_type, "text");
    ck_assert_wx_str_eq(resp.openid, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    /* the envelope carries no plaintext */
    ck_assert_ptr_null(memmem(resp.body.data, resp.body.len, "abcdteT", 7));
    plain = open_envelope(&resp, B_KEY);
    ck_assert_str_eq(plain, B_REPLY);
    free(plain);
}
END_TEST

START_TEST(test_safe_mode_refusals)
{
    wx_response_t resp;
    char q[1024];

    mode_gw_open("encoding_aes_key = " B_KEY "\nmode = safe\n");
    /* a plaintext push */
    mode_post("signature=16120ec1b8dbb870f510d87ce6bc2463eae6ca1a&timestamp=1409735669"
              "&nonce=1320562132", text_xml, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(resp.err, WX_EPLAINTEXT);
    wx_gw_done(mode_gw);
    /* msg_signature of something else */
    strcpy(q, B_QUERY);
    q[strlen(q) - 1] = 'b';
    mode_post(q, B_ENVELOPE, &resp);
    ck_assert_int_eq(resp.status, 403);
    wx_gw_done(mode_gw);
    /* msg_signature missing */
    snprintf(q, sizeof(q), "%.*s", (int)(strstr(B_QUERY, "&msg_signature") - B_QUERY), B_QUERY);
    mode_post(q, B_ENVELOPE, &resp);
    ck_assert_int_eq(resp.status, 400);
    wx_gw_done(mode_gw);
    /* no Encrypt element */
    mode_post(B_QUERY, "<xml><ToUserName>gh_10f6c3c3ac5a</ToUserName></xml>", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(resp.err, WX_EMISSING);
}
END_TEST

START_TEST(test_safe_mode_previous_key)
{
    wx_response_t resp;
    char *plain;

    /* the key was changed on the platform; the push still used the old one */
    mode_gw_open("encoding_aes_key = ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq\n"
                 "encoding_aes_key_previous = " B_KEY "\nmode = safe\n");
    mode_post(B_QUERY, B_ENVELOPE, &resp);
    ck_assert_msg(resp.status == 200, "status %d (%s)", resp.status,
                  resp.detail ? resp.detail : "");
    /* answered with the key that decrypted it */
    plain = open_envelope(&resp, B_KEY);
    ck_assert_str_eq(plain, B_REPLY);
    free(plain);
}
END_TEST

START_TEST(test_compat_mode_decrypted_copy_wins)
{
    wx_response_t resp;
    char *plain;

    mode_gw_open("encoding_aes_key = " B_KEY "\nmode = compat\n");
    /* the plaintext siblings are not signed: they say something else */
    mode_post(B_QUERY, "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
              "<FromUserName><![CDATA[oAttacker0000000000000000000]]></FromUserName>"
              "<CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>"
              "<Content><![CDATA[tampered]]></Content><MsgId>6054768590064713728</MsgId>"
              "<Encrypt><![CDATA[" B_ENCRYPT "]]></Encrypt></xml>", &resp);
    ck_assert_msg(resp.status == 200, "status %d (%s)", resp.status,
                  resp.detail ? resp.detail : "");
    plain = open_envelope(&resp, B_KEY);
    ck_assert_str_eq(plain, B_REPLY);
    free(plain);
    wx_gw_done(mode_gw);
    /* a plaintext push is still answered in compat mode, in plaintext */
    mode_post("signature=16120ec1b8dbb870f510d87ce6bc2463eae6ca1a&timestamp=1409735669"
              "&nonce=1320562132", text_xml, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq(resp.encrypted, 0);
    ck_assert_ptr_nonnull(memmem(resp.body.data, resp.body.len, "this is a test", 14));
}
END_TEST

static void aes_teardown(void)
{
    mode_teardown();
    teardown();
}

/* ---- retries (dedup) ------------------------------------------------- */

static char state_dir[64];

START_TEST(test_retry_replayed)
{
    char text[512], err[256], shm[128];
    wx_response_t resp;
    wx_str_t first;
    char *first_copy;
    body_t b;

    strcpy(state_dir, "/tmp/wx-ut-state.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(state_dir));
    snprintf(text, sizeof(text), "[wx]\ntoken = " TOKEN "\n[wxfcgi]\nstate_dir = %s\n"
             "dedup_slots = 64\n", state_dir);
    strcpy(mode_path, "/tmp/wx-ut-gw-dd.XXXXXX");
    write_temp(mode_path, text);
    mode_cfg = wx_config_load(&wxfcgi_spec, mode_path, err, sizeof(err));
    ck_assert_msg(mode_cfg != NULL, "%s", err);
    mode_gw = wx_gw_new(wxfcgi_conf(mode_cfg), err, sizeof(err));
    ck_assert_msg(mode_gw != NULL, "wx_gw_new: %s", err);

    body_init(&b, text_xml, sizeof(text_xml) - 1);
    {
        wx_request_t req = { .method = WX_STR("POST"), .query = wx_str_c(good_query()),
                             .content_length = sizeof(text_xml) - 1, .read = body_read,
                             .read_ctx = &b };

        wx_gw_handle(mode_gw, &req, NOW, &resp);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_str_eq(resp.result, "text");
        first = resp.body;
        first_copy = strndup(first.data, first.len);
        wx_gw_done(mode_gw);
        /* the same message again, a second later: the stored reply */
        body_init(&b, text_xml, sizeof(text_xml) - 1);
        wx_gw_handle(mode_gw, &req, NOW + 1, &resp);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_str_eq(resp.result, "replay");
        ck_assert_body(resp, first_copy);
        wx_gw_done(mode_gw);
    }
    free(first_copy);
    snprintf(shm, sizeof(shm), "%s/dedup.shm", state_dir);
    mode_teardown();
    unlink(shm);
    rmdir(state_dir);
}
END_TEST

Suite *gateway_suite(void)
{
    Suite *s = suite_create("gateway");
    TCase *tg = tcase_create("get");
    TCase *tp = tcase_create("post");
    TCase *ta = tcase_create("aes");

    tcase_add_checked_fixture(tg, setup, teardown);
    tcase_add_test(tg, test_get_echostr);
    tcase_add_test(tg, test_get_independent_signature);
    tcase_add_test(tg, test_get_echostr_decoded);
    tcase_add_test(tg, test_get_bad_signature);
    tcase_add_test(tg, test_get_missing_params);
    tcase_add_test(tg, test_get_stale);
    tcase_add_test(tg, test_methods);
    suite_add_tcase(s, tg);

    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_test(tp, test_post_text);
    tcase_add_test(tp, test_post_in_small_reads);
    tcase_add_test(tp, test_post_unsubscribe_success);
    tcase_add_test(tp, test_post_too_big);
    tcase_add_test(tp, test_post_exactly_max_body);
    tcase_add_test(tp, test_post_bad_signature_body_unread);
    tcase_add_test(tp, test_post_short_body);
    tcase_add_test(tp, test_post_read_error);
    tcase_add_test(tp, test_post_no_length);
    tcase_add_test(tp, test_post_refusals);
    tcase_add_test(tp, test_post_dtd_detail);
    tcase_add_test(tp, test_hostile_fixtures);
    tcase_add_test(tp, test_thousand_requests);
    tcase_add_test(tp, test_fixture_replies);
    tcase_add_test(tp, test_echo_without_welcome);
    tcase_add_test(tp, test_unknown_handler);
    tcase_add_test(tp, test_access_log);
    tcase_set_timeout(tp, 60);
    suite_add_tcase(s, tp);

    tcase_add_checked_fixture(ta, setup, aes_teardown);
    tcase_add_test(ta, test_safe_mode_vector_b);
    tcase_add_test(ta, test_safe_mode_refusals);
    tcase_add_test(ta, test_safe_mode_previous_key);
    tcase_add_test(ta, test_compat_mode_decrypted_copy_wins);
    tcase_add_test(ta, test_retry_replayed);
    suite_add_tcase(s, ta);
    return s;
}
