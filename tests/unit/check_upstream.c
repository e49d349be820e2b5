/* check_upstream.c - the upstream handler's JSON, both ways (upstream_json.h):
 * the message as the business service gets it, its answer as a reply, and
 * a late answer as a customer-service message (PROTOCOL.md 6.7). */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests.h"
#include "wx/core/clock.h"
#include "wx/proto/parse.h"
#include "wxfcgi/handler.h"
#include "wxfcgi/upstream_json.h"

static wx_parser_t *parser;
static wx_pool_t pool;

static void setup(void)
{
    parser = wx_parser_new(NULL);
    ck_assert_ptr_nonnull(parser);
    ck_assert_int_eq(wx_pool_init(&pool, 1 << 20), WX_OK);
}

static void teardown(void)
{
    wx_parser_free(parser);
    wx_pool_free(&pool);
}

/* The JSON the business service gets for fixture msg/NAME.xml, compact
 * with sorted keys (malloc'ed). */
static char *fixture_json(const char *name)
{
    char rel[128], *xml, *text;
    wx_msg_t msg;
    size_t len;
    json_t *j;

    snprintf(rel, sizeof(rel), "msg/%s.xml", name);
    xml = fx_read(rel, &len);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, xml, len, &msg), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&msg), WX_OK);
    j = wx_upstream_msg_json(&msg);
    ck_assert_ptr_nonnull(j);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    free(xml);
    return text;
}

#define expect_json(got, want)                                              \
    do {                                                                    \
        char *g_ = (got);                                                   \
        ck_assert_msg(g_ && strcmp(g_, (want)) == 0, "\n got: %s\nwant: %s", \
                      g_ ? g_ : "(null)", (want));                          \
        free(g_);                                                           \
    } while (0)

START_TEST(test_msg_text)
{
    expect_json(fixture_json("text"),
                "{\"Content\":\"this is a test\",\"CreateTime\":1348831860,"
                "\"FromUserName\":\"oUserOpenId0123456789abcdef\",\"MsgId\":\"1234567890123456\","
                "\"MsgType\":\"text\",\"ToUserName\":\"gh_0123456789ab\"}");
}
END_TEST

START_TEST(test_msg_nested)
{
    char *j = fixture_json("event_pic_sysphoto");

    ck_assert_ptr_nonnull(strstr(j, "\"SendPicsInfo\":{\"Count\":\"2\",\"PicList\":{\"item\":"
                                    "[{\"PicMd5Sum\":\"1b5f7c23b5bf75682a53e7b6d163e185\"},"
                                    "{\"PicMd5Sum\":\"5a75aaca956d97be686719218f275c6b\"}]}}"));
    ck_assert_ptr_nonnull(strstr(j, "\"Event\":\"pic_sysphoto\",\"EventKey\":\"6\""));
    ck_assert_ptr_null(strstr(j, "MsgId"));
    free(j);

    j = fixture_json("event_publishjobfinish_fail");
    ck_assert_msg(strstr(j, "\"fail_idx\":[\"1\",\"2\"]") != NULL, "%s", j);
    ck_assert_msg(strstr(j, "\"PublishEventInfo\":{") != NULL, "%s", j);
    free(j);

    j = fixture_json("event_subscribe_msg_popup_event");
    ck_assert_msg(strstr(j, "\"SubscribeMsgPopupEvent\":{\"List\":[{") != NULL, "%s", j);
    ck_assert_msg(strstr(j, "\"TemplateId\":\"9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI\"") != NULL,
                  "%s", j);
    free(j);

    j = fixture_json("event_masssendjobfinish");
    ck_assert_msg(strstr(j, "\"CopyrightCheckResult\":{\"CheckState\":") != NULL, "%s", j);
    ck_assert_msg(strstr(j, "\"ResultList\":{\"item\":[{\"ArticleIdx\":\"1\"") != NULL, "%s", j);
    ck_assert_msg(strstr(j, "\"MsgId\":\"") != NULL, "MsgID comes as MsgId: %s", j);
    free(j);

    j = fixture_json("event_scancode_push");
    ck_assert_msg(strstr(j, "\"ScanCodeInfo\":{\"ScanResult\":") != NULL, "%s", j);
    free(j);
}
END_TEST

/* --- answers ------------------------------------------------------------ */

static wx_reply_t reply;
static char why[256];

static wx_err_t parse(const char *body)
{
    wx_pool_reset(&pool);
    return wx_upstream_reply_parse(body, strlen(body), &pool, &reply, why, sizeof(why));
}

START_TEST(test_answer_types)
{
    ck_assert_int_eq(parse("{\"type\":\"text\",\"content\":\"hi \\u4f60\\u597d\"}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_TEXT);
    ck_assert_wx_str_eq(reply.content, "hi 你好");

    ck_assert_int_eq(parse("{\"type\":\"image\",\"media_id\":\"M1\",\"extra\":1}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_IMAGE);
    ck_assert_wx_str_eq(reply.media_id, "M1");

    ck_assert_int_eq(parse("{\"type\":\"voice\",\"media_id\":\"V1\"}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_VOICE);

    ck_assert_int_eq(parse("{\"type\":\"video\",\"media_id\":\"V\",\"title\":\"T\"}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_VIDEO);
    ck_assert_wx_str_eq(reply.title, "T");
    ck_assert_wx_str_null(reply.description);

    ck_assert_int_eq(parse("{\"type\":\"music\",\"thumb_media_id\":\"TH\",\"music_url\":\"u\","
                           "\"hq_music_url\":\"h\",\"description\":null}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_MUSIC);
    ck_assert_wx_str_eq(reply.music_url, "u");
    ck_assert_wx_str_eq(reply.hq_music_url, "h");
    ck_assert_wx_str_null(reply.description);

    ck_assert_int_eq(parse("{\"type\":\"news\",\"articles\":[{\"title\":\"A\",\"picurl\":\"p\","
                           "\"url\":\"u\"},{\"title\":\"B\"}]}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_NEWS);
    ck_assert_uint_eq(reply.n_articles, 2);
    ck_assert_wx_str_eq(reply.articles[0].pic_url, "p");
    ck_assert_wx_str_eq(reply.articles[1].title, "B");

    ck_assert_int_eq(parse("{\"type\":\"transfer_customer_service\"}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_TRANSFER);
    ck_assert_wx_str_null(reply.kf_account);
    ck_assert_int_eq(parse("{\"type\":\"transfer_customer_service\",\"kf_account\":\"k@t\"}"), WX_OK);
    ck_assert_wx_str_eq(reply.kf_account, "k@t");

    ck_assert_int_eq(parse("{\"type\":\"success\"}"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_SUCCESS);
    ck_assert_int_eq(parse(""), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_SUCCESS);
    ck_assert_int_eq(parse(" \r\n"), WX_OK);
    ck_assert_int_eq(reply.type, WX_REPLY_SUCCESS);
}
END_TEST

START_TEST(test_news_capped)
{
    char body[2048] = "{\"type\":\"news\",\"articles\":[";
    int i;

    for (i = 0; i < 12; i++)
        strcat(body, i ? ",{\"title\":\"x\"}" : "{\"title\":\"x\"}");
    strcat(body, "]}");
    ck_assert_int_eq(parse(body), WX_OK);
    ck_assert_uint_eq(reply.n_articles, WX_REPLY_NEWS_MAX);
}
END_TEST

static void expect_bad(const char *body, const char *reason)
{
    ck_assert_int_eq(parse(body), WX_EUPSTREAM);
    ck_assert_msg(strstr(why, reason) != NULL, "%s: why is \"%s\", want \"%s\"", body, why,
                  reason);
    ck_assert_int_eq(reply.type, WX_REPLY_SUCCESS);
}

START_TEST(test_answer_bad)
{
    expect_bad("{\"type\":\"text\",\"content\":", "not JSON");
    expect_bad("<xml>hello</xml>", "not JSON");
    expect_bad("[1,2]", "not a JSON object");
    expect_bad("\"text\"", "not a JSON object");
    expect_bad("{}", "\"type\" is missing");
    expect_bad("{\"type\":7}", "\"type\" is not a string");
    expect_bad("{\"type\":\"hologram\"}", "unknown type \"hologram\"");
    expect_bad("{\"type\":\"text\"}", "\"content\" is missing for type text");
    expect_bad("{\"type\":\"text\",\"content\":3}", "\"content\" is not a string");
    expect_bad("{\"type\":\"image\",\"media_id\":\"\"}", "\"media_id\" is empty");
    expect_bad("{\"type\":\"voice\"}", "\"media_id\" is missing");
    expect_bad("{\"type\":\"music\",\"title\":\"t\"}", "\"thumb_media_id\" is missing");
    expect_bad("{\"type\":\"news\"}", "\"articles\" is not a non-empty array");
    expect_bad("{\"type\":\"news\",\"articles\":[]}", "non-empty array");
    expect_bad("{\"type\":\"news\",\"articles\":[\"x\"]}", "article 1 is not an object");
    expect_bad("{\"type\":\"news\",\"articles\":[{\"title\":1}]}", "\"title\" is not a string");
    expect_bad("{\"type\":\"text\",\"content\":\"a\",\"content\":\"b\"}", "not JSON");
}
END_TEST

/* --- late answers as customer-service messages ---------------------------- */

static void expect_custom(const char *answer, const char *want)
{
    char *text;
    json_t *j;

    ck_assert_int_eq(parse(answer), WX_OK);
    j = wx_upstream_custom_json(&reply, WX_STR("oUser"));
    if (want == NULL) {
        ck_assert_ptr_null(j);
        return;
    }
    ck_assert_ptr_nonnull(j);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    expect_json(text, want);
}

START_TEST(test_custom)
{
    expect_custom("{\"type\":\"text\",\"content\":\"hi\"}",
                  "{\"msgtype\":\"text\",\"text\":{\"content\":\"hi\"},\"touser\":\"oUser\"}");
    expect_custom("{\"type\":\"image\",\"media_id\":\"M\"}",
                  "{\"image\":{\"media_id\":\"M\"},\"msgtype\":\"image\",\"touser\":\"oUser\"}");
    expect_custom("{\"type\":\"voice\",\"media_id\":\"V\"}",
                  "{\"msgtype\":\"voice\",\"touser\":\"oUser\",\"voice\":{\"media_id\":\"V\"}}");
    expect_custom("{\"type\":\"video\",\"media_id\":\"V\",\"thumb_media_id\":\"T\",\"title\":\"t\"}",
                  "{\"msgtype\":\"video\",\"touser\":\"oUser\",\"video\":{\"media_id\":\"V\","
                  "\"thumb_media_id\":\"T\",\"title\":\"t\"}}");
    expect_custom("{\"type\":\"music\",\"thumb_media_id\":\"T\",\"music_url\":\"m\","
                  "\"hq_music_url\":\"h\",\"title\":\"t\",\"description\":\"d\"}",
                  "{\"msgtype\":\"music\",\"music\":{\"description\":\"d\",\"hqmusicurl\":\"h\","
                  "\"musicurl\":\"m\",\"thumb_media_id\":\"T\",\"title\":\"t\"},"
                  "\"touser\":\"oUser\"}");
    expect_custom("{\"type\":\"news\",\"articles\":[{\"title\":\"A\",\"description\":\"d\","
                  "\"picurl\":\"p\",\"url\":\"u\"},{\"title\":\"B\"}]}",
                  "{\"msgtype\":\"news\",\"news\":{\"articles\":[{\"description\":\"d\","
                  "\"picurl\":\"p\",\"title\":\"A\",\"url\":\"u\"}]},\"touser\":\"oUser\"}");
    expect_custom("{\"type\":\"success\"}", NULL);
    expect_custom("{\"type\":\"transfer_customer_service\"}", NULL);
}
END_TEST

/* The handler validates its config at start, naming the key. */
START_TEST(test_create)
{
    wxfcgi_conf_t cfg;
    char err[256] = "";
    void *ctx;

    memset(&cfg, 0, sizeof(cfg));
    cfg.fcgi.reply_budget_ms = 4000;
    cfg.up.timeout_ms = 30000;
    ctx = wx_handler_upstream.create(&cfg, err, sizeof(err));
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "[upstream] url is missing") != NULL, "%s", err);
    cfg.up.url = "ftp://x/";
    ck_assert_ptr_null(wx_handler_upstream.create(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "http:// or https://") != NULL, "%s", err);
    cfg.up.url = "http://127.0.0.1:9/";
    cfg.up.proxy = "http://127.0.0.1:8080/wxapi";
    ck_assert_ptr_null(wx_handler_upstream.create(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "proxy_key is missing") != NULL, "%s", err);
    cfg.up.proxy_key = "k";
    ctx = wx_handler_upstream.create(&cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(ctx);
    wx_handler_upstream.destroy(ctx);
    ck_assert_ptr_eq(wx_handler_find("upstream"), &wx_handler_upstream);
}
END_TEST

/* One registry names every handler; only upstream has children to reap. */
START_TEST(test_registry)
{
    char names[64];

    ck_assert_str_eq(wx_handler_names(names, sizeof(names)), "echo, upstream");
    ck_assert_str_eq(wx_handler_names(names, 8), "echo");
    ck_assert_ptr_eq(wx_handler_find("echo"), &wx_handler_echo);
    ck_assert_ptr_null(wx_handler_echo.reap);
    ck_assert_ptr_nonnull(wx_handler_upstream.reap);
}
END_TEST

/* The reply budget counts from the arrival the request carries: a request
 * that arrived a budget ago is answered at once, though the business
 * service (a socket that never answers) is still being called. */
START_TEST(test_budget_from_arrival)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    char url[64], err[256] = "";
    wx_handle_req_t rq;
    wxfcgi_conf_t cfg;
    wx_reply_t out;
    wx_msg_t msg;
    char *xml;
    size_t len;
    int64_t t0;
    void *ctx;
    int lfd, tries;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/wx", (unsigned)ntohs(sa.sin_port));
    memset(&cfg, 0, sizeof(cfg));
    cfg.fcgi.reply_budget_ms = 4000;
    cfg.up.timeout_ms = 300;
    cfg.up.url = url;
    ctx = wx_handler_upstream.create(&cfg, err, sizeof(err));
    ck_assert_msg(ctx != NULL, "%s", err);
    xml = fx_read("msg/text.xml", &len);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, xml, len, &msg), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&msg), WX_OK);
    memset(&out, 0, sizeof(out));
    rq.msg = &msg;
    rq.pool = &pool;
    rq.now = time(NULL);
    rq.waited_us = NULL;
    t0 = wx_now_ms();
    rq.arrived_ms = t0 - 5000;
    ck_assert_int_eq(wx_handler_upstream.handle(ctx, &rq, &out), WX_OK);
    ck_assert_int_lt(wx_now_ms() - t0, 1000);
    ck_assert_int_eq(out.type, WX_REPLY_SUCCESS);
    /* The child ends within [upstream] timeout_ms and is reaped. */
    for (tries = 0; tries < 100 && wx_handler_upstream.reap(ctx) > 0; tries++)
        usleep(50 * 1000);
    ck_assert_uint_eq(wx_handler_upstream.reap(ctx), 0);
    wx_handler_upstream.destroy(ctx);
    free(xml);
    close(lfd);
}
END_TEST

Suite *upstream_suite(void)
{
    Suite *s = suite_create("upstream");
    TCase *tc = tcase_create("json");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_msg_text);
    tcase_add_test(tc, test_msg_nested);
    tcase_add_test(tc, test_answer_types);
    tcase_add_test(tc, test_news_capped);
    tcase_add_test(tc, test_answer_bad);
    tcase_add_test(tc, test_custom);
    tcase_add_test(tc, test_create);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_budget_from_arrival);
    suite_add_tcase(s, tc);
    return s;
}
