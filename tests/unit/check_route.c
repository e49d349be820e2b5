/* check_route.c - the route table: what matches, what it answers, and the
 * configs it refuses (wxfcgi/route.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/config.h"
#include "wx/core/log.h"
#include "wx/proto/parse.h"
#include "wxfcgi/route.h"

static const char base_text[] =
    "[wx]\n"
    "token = testtoken\n"
    "[wxfcgi]\n"
    "dedup_slots = 0\n"
    "[echo]\n"
    "welcome = Welcome!\n"
    "[echo.click]\n"
    "V1001_HELLO = Hello from the menu.\n";

static const char routes_text[] =
    "[route.hello]\n"
    "type = text\n"
    "content = /^(hi|hello)( there)?$/\n"
    "action = text\n"
    "text = Hi {{from}}, you said \"{{content}}\" to {{ToUserName}}.\n"
    "[route.price]\n"
    "content = price*\n"
    "action = image\n"
    "media_id = MEDIA_PRICE\n"
    "[route.exact]\n"
    "content = help\n"
    "action = success\n"
    "[route.command]\n"
    "content = \\/start\n"
    "action = text\n"
    "text = started\n"
    "[route.star]\n"
    "content = \\a*\n"
    "action = success\n"
    "[route.promo]\n"
    "scene = promo*\n"
    "action = news\n"
    "articles = Welcome {{x}} | Our offer | http://example.com/p.jpg | http://example.com/p\n"
    "    Second | | |\n"
    "[route.menu]\n"
    "event = click\n"
    "event_key = V2*\n"
    "action = music\n"
    "title = Song\n"
    "thumb_media_id = THUMB\n"
    "[route.vip]\n"
    "from = oVip2 oVip1\n"
    "action = transfer\n"
    "kf_account = kf1@test\n"
    "[route.quiet]\n"
    "priority = 200\n"
    "event = unsubscribe\n"
    "action = success\n"
    "[route.first]\n"
    "priority = 1\n"
    "type = location\n"
    "action = text\n"
    "text = You are at {{Label}}.\n";

static char cfg_path[64];
static wx_config_t *cfg;
static wx_router_t *router;
static wx_parser_t *parser;
static wx_pool_t pool;

/* Load base_text + 'extra'; NULL with 'err' set when it is refused. */
static wx_router_t *load(const char *extra, char *err, size_t errlen)
{
    char *text = malloc(strlen(base_text) + strlen(extra) + 1);

    ck_assert_ptr_nonnull(text);
    memcpy(text, base_text, strlen(base_text));
    memcpy(text + strlen(base_text), extra, strlen(extra) + 1);
    strcpy(cfg_path, "/tmp/wx-ut-route.XXXXXX");
    write_temp(cfg_path, text);
    free(text);
    cfg = wx_config_load(&wxfcgi_spec, cfg_path, err, errlen);
    if (cfg == NULL)
        return NULL;
    return wx_router_new(wxfcgi_conf(cfg), err, errlen);
}

static void setup(void)
{
    char err[512];
    wx_parse_limits_t lim = WX_PARSE_LIMITS_DEFAULT;

    wx_log_threshold = WX_LOG__MAX;
    parser = wx_parser_new(&lim);
    ck_assert_ptr_nonnull(parser);
    ck_assert_int_eq(wx_pool_init(&pool, 1 << 20), WX_OK);
    router = load(routes_text, err, sizeof(err));
    ck_assert_msg(router != NULL, "%s", err);
}

static void teardown(void)
{
    wx_router_free(router);
    router = NULL;
    wx_config_free(cfg);
    cfg = NULL;
    unlink(cfg_path);
    wx_parser_free(parser);
    wx_pool_free(&pool);
}

/* A message of 'type' with the XML elements 'rest'. */
static wx_msg_t *msg_of(const char *from, const char *type, const char *rest)
{
    static wx_msg_t msg;
    char xml[2048];

    snprintf(xml, sizeof(xml), "<xml><ToUserName>gh_test</ToUserName>"
             "<FromUserName>%s</FromUserName><CreateTime>1714112445</CreateTime>"
             "<MsgType>%s</MsgType>%s</xml>", from, type, rest);
    wx_pool_reset(&pool);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, xml, strlen(xml), &msg), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&msg), WX_OK);
    return &msg;
}

static wx_msg_t *text_msg(const char *content)
{
    char rest[512];

    snprintf(rest, sizeof(rest), "<Content>%s</Content><MsgId>1</MsgId>", content);
    return msg_of("oUser", "text", rest);
}

static wx_msg_t *event_msg(const char *from, const char *event, const char *key)
{
    char rest[512];

    snprintf(rest, sizeof(rest), "<Event>%s</Event><EventKey>%s</EventKey>", event, key);
    return msg_of(from, "event", rest);
}

/* Load 'text' in place of the fixture's routes. */
static void reload(const char *text, char *err, size_t errlen)
{
    wx_router_free(router);
    wx_config_free(cfg);
    cfg = NULL;
    unlink(cfg_path);
    router = load(text, err, errlen);
}

START_TEST(test_order_and_match)
{
    ck_assert_str_eq(wx_router_match(router, text_msg("hi")), "route.hello");
    ck_assert_str_eq(wx_router_match(router, text_msg("hello there")), "route.hello");
    ck_assert_str_eq(wx_router_match(router, text_msg("hi you")), "default");
    ck_assert_str_eq(wx_router_match(router, text_msg("price of tea")), "route.price");
    ck_assert_str_eq(wx_router_match(router, text_msg("help")), "route.exact");
    ck_assert_str_eq(wx_router_match(router, text_msg("help me")), "default");
    /* a backslash: the rest exactly, a '/' or a '*' taken as it is */
    ck_assert_str_eq(wx_router_match(router, text_msg("/start")), "route.command");
    ck_assert_str_eq(wx_router_match(router, text_msg("/started")), "default");
    ck_assert_str_eq(wx_router_match(router, text_msg("a*")), "route.star");
    ck_assert_str_eq(wx_router_match(router, text_msg("ab")), "default");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "subscribe", "qrscene_promo7")),
                     "route.promo");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "SCAN", "promo8")), "route.promo");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "subscribe", "")), "echo.welcome");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "CLICK", "V2_SONG")), "route.menu");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "CLICK", "V1001_HELLO")),
                     "echo.click.V1001_HELLO");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "VIEW", "V2_SONG")), "default");
    /* from: the sorted list, both ends */
    ck_assert_str_eq(wx_router_match(router, event_msg("oVip1", "VIEW", "x")), "route.vip");
    ck_assert_str_eq(wx_router_match(router, event_msg("oVip2", "VIEW", "x")), "route.vip");
    ck_assert_str_eq(wx_router_match(router, event_msg("oVip3", "VIEW", "x")), "default");
    /* priority 200 comes after the routes of the default 100 */
    ck_assert_str_eq(wx_router_match(router, event_msg("oVip1", "unsubscribe", "")), "route.vip");
    ck_assert_str_eq(wx_router_match(router, event_msg("oU", "unsubscribe", "")), "route.quiet");
}
END_TEST

static void answer(const wx_msg_t *msg, wx_reply_t *reply)
{
    wx_handle_req_t rq = { msg, &pool, 0, 1714112445, NULL, 0 };

    memset(reply, 0, sizeof(*reply));
    ck_assert_int_eq(wx_handler_router.handle(router, &rq, reply), WX_OK);
}

START_TEST(test_replies)
{
    wx_reply_t r;

    answer(text_msg("hi"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_TEXT);
    ck_assert_wx_str_eq(r.content, "Hi oUser, you said \"hi\" to gh_test.");
    answer(text_msg("price"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_IMAGE);
    ck_assert_wx_str_eq(r.media_id, "MEDIA_PRICE");
    answer(text_msg("help"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_SUCCESS);
    answer(event_msg("oU", "SCAN", "promo1"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_NEWS);
    ck_assert_uint_eq(r.n_articles, 2);
    ck_assert_wx_str_eq(r.articles[0].title, "Welcome {{x}}");
    ck_assert_wx_str_eq(r.articles[0].pic_url, "http://example.com/p.jpg");
    ck_assert_wx_str_eq(r.articles[1].title, "Second");
    ck_assert_uint_eq(r.articles[1].url.len, 0);
    answer(event_msg("oU", "CLICK", "V2"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_MUSIC);
    ck_assert_wx_str_eq(r.thumb_media_id, "THUMB");
    answer(event_msg("oVip1", "VIEW", ""), &r);
    ck_assert_int_eq(r.type, WX_REPLY_TRANSFER);
    ck_assert_wx_str_eq(r.kf_account, "kf1@test");
    answer(msg_of("oU", "location", "<Location_X>1</Location_X><Location_Y>2</Location_Y>"
                  "<Scale>3</Scale><Label>Home</Label><MsgId>2</MsgId>"), &r);
    ck_assert_wx_str_eq(r.content, "You are at Home.");
    /* the default: echo */
    answer(text_msg("anything"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_TEXT);
    ck_assert_wx_str_eq(r.content, "anything");
    answer(event_msg("oU", "CLICK", "V1001_HELLO"), &r);
    ck_assert_wx_str_eq(r.content, "Hello from the menu.");
}
END_TEST

/* Each bad route stops the load, naming its section and key. */
START_TEST(test_refused)
{
    static const struct { const char *text, *want; } bad[] = {
        { "[route.a]\naction = shout\n", "[route.a] action 'shout' is unknown" },
        { "[route.a]\ntype = text\n", "[route.a] action is missing" },
        { "[route.a]\naction = text\n", "[route.a] text is missing" },
        { "[route.a]\naction = image\nmedia_id = M\ntext = t\n", "[route.a] text is not used" },
        { "[route.a]\ncontent = /a(/\naction = success\n", "[route.a] content: bad regex" },
        { "[route.a]\ntype = bogus\naction = success\n", "[route.a] type 'bogus' is unknown" },
        { "[route.a]\ntype = image\ncontent = x\naction = success\n",
          "[route.a] content matches text messages only" },
        { "[route.a]\nevent = CLICK\nscene = 1\naction = success\n",
          "[route.a] scene comes with subscribe and SCAN" },
        { "[route.a]\naction = echo\n[route.b]\ntype = text\naction = success\n",
          "[route.a] matches every message, so [route.b]" },
        { "[route.a]\naction = text\ntext = {{nope}}\n", "[route.a] text: unknown field {{nope}}" },
        { "[route.a]\naction = news\narticles = a|b|c|d|e\n", "[route.a] articles: article 1" },
        { "[route.a]\naction = upstream\nurl = ftp://x\n", "[route.a] url must start" },
        { "[route.a]\nfrom_file = /nonexistent/openids\naction = success\n",
          "[route.a] from_file /nonexistent/openids" },
        { "[route.a]\nfrom = a\nfrom_file = b\naction = success\n", "[route.a] from and from_file" },
        { "[route.a]\naction = success\ncolour = red\n", "colour" },
        { "[route.a]\ncontent = /start\naction = success\n", "write \\/start" },
        { "[route.a]\ncontent = \\\naction = success\n", "[route.a] content is only" },
    };
    char err[512];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reload(bad[i].text, err, sizeof(err));
        ck_assert_msg(router == NULL, "case %zu is refused", i);
        ck_assert_msg(strstr(err, bad[i].want) != NULL, "case %zu: '%s' says '%s'", i,
                      err, bad[i].want);
    }
}
END_TEST

/* A declared catch-all replaces the default; from_file is read. */
START_TEST(test_catch_all_and_file)
{
    char err[512], list[64] = "/tmp/wx-ut-openids.XXXXXX", text[512];
    wx_reply_t r;

    write_temp(list, "# the testers\noT1\n  oT2  # second\n\n");
    snprintf(text, sizeof(text), "[route.testers]\nfrom_file = %s\naction = text\n"
             "text = tester\n[route.rest]\npriority = 1000\naction = success\n", list);
    reload(text, err, sizeof(err));
    unlink(list);
    ck_assert_msg(router != NULL, "%s", err);
    ck_assert_str_eq(wx_router_match(router, event_msg("oT2", "VIEW", "")), "route.testers");
    ck_assert_str_eq(wx_router_match(router, event_msg("oT3", "CLICK", "V1001_HELLO")),
                     "default");
    answer(text_msg("hi"), &r);
    ck_assert_int_eq(r.type, WX_REPLY_SUCCESS);
}
END_TEST

Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("route");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order_and_match);
    tcase_add_test(tc, test_replies);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_catch_all_and_file);
    suite_add_tcase(s, tc);
    return s;
}
