/* check_reply.c - passive reply XML (PROTOCOL.md 3.2). */
#include <stdlib.h>

#include "tests.h"
#include "wx/core/err.h"
#include "wx/proto/reply.h"

/* The request as the reply sees it: To/From are swapped in the reply. */
static wx_msg_t req;
static char mem[16384];
static wx_buf_t out;

#define NOW     12345678
#define HEAD(type)  "<xml><ToUserName><![CDATA[toUser]]></ToUserName>" \
                    "<FromUserName><![CDATA[fromUser]]></FromUserName>" \
                    "<CreateTime>12345678</CreateTime>" \
                    "<MsgType><![CDATA[" type "]]></MsgType>"

static void setup(void)
{
    memset(&req, 0, sizeof(req));
    req.type = WX_MSG_TEXT;
    req.msg_type = WX_STR("text");
    req.from_user = WX_STR("toUser");
    req.to_user = WX_STR("fromUser");
    wx_buf_init(&out, mem, sizeof(mem));
}

static void expect_out(const char *want)
{
    ck_assert_int_eq(out.overflow, 0);
    ck_assert_msg(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0,
                  "\n got: %.*s\nwant: %s", (int)out.len, out.data, want);
}

static void expect_reply(const wx_reply_t *r, const char *want)
{
    wx_err_t rc = wx_reply_write(r, &req, NOW, &out);

    ck_assert_msg(rc == WX_OK, "wx_reply_write: %s", wx_strerror(rc));
    expect_out(want);
}

START_TEST(test_text)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = WX_STR("你好") };

    expect_reply(&r, HEAD("text") "<Content><![CDATA[你好]]></Content></xml>");
}
END_TEST

START_TEST(test_text_newlines_and_empty)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = WX_STR("line 1\nline 2\r\n\tend ") };

    expect_reply(&r, HEAD("text") "<Content><![CDATA[line 1\nline 2\r\n\tend ]]></Content></xml>");
    wx_buf_init(&out, mem, sizeof(mem));
    r.content = WX_STR("");
    expect_reply(&r, HEAD("text") "<Content><![CDATA[]]></Content></xml>");
}
END_TEST

START_TEST(test_image)
{
    wx_reply_t r = { .type = WX_REPLY_IMAGE, .media_id = WX_STR("media_id") };

    expect_reply(&r, HEAD("image") "<Image><MediaId><![CDATA[media_id]]></MediaId></Image></xml>");
}
END_TEST

START_TEST(test_voice)
{
    wx_reply_t r = { .type = WX_REPLY_VOICE, .media_id = WX_STR("media_id") };

    expect_reply(&r, HEAD("voice") "<Voice><MediaId><![CDATA[media_id]]></MediaId></Voice></xml>");
}
END_TEST

START_TEST(test_video)
{
    wx_reply_t r = { .type = WX_REPLY_VIDEO, .media_id = WX_STR("media_id"),
                     .title = WX_STR("title"), .description = WX_STR("description") };

    expect_reply(&r, HEAD("video") "<Video><MediaId><![CDATA[media_id]]></MediaId>"
                 "<Title><![CDATA[title]]></Title>"
                 "<Description><![CDATA[description]]></Description></Video></xml>");
}
END_TEST

START_TEST(test_video_optional)
{
    wx_reply_t r = { .type = WX_REPLY_VIDEO, .media_id = WX_STR("media_id") };

    /* Title and Description are optional: absent ones are not written */
    expect_reply(&r, HEAD("video") "<Video><MediaId><![CDATA[media_id]]></MediaId></Video></xml>");
    wx_buf_init(&out, mem, sizeof(mem));
    r.description = WX_STR("only a description");
    expect_reply(&r, HEAD("video") "<Video><MediaId><![CDATA[media_id]]></MediaId>"
                 "<Description><![CDATA[only a description]]></Description></Video></xml>");
}
END_TEST

START_TEST(test_music)
{
    wx_reply_t r = { .type = WX_REPLY_MUSIC, .title = WX_STR("TITLE"),
                     .description = WX_STR("DESCRIPTION"), .music_url = WX_STR("MUSIC_Url"),
                     .hq_music_url = WX_STR("HQ_MUSIC_Url"),
                     .thumb_media_id = WX_STR("media_id") };

    expect_reply(&r, HEAD("music") "<Music><Title><![CDATA[TITLE]]></Title>"
                 "<Description><![CDATA[DESCRIPTION]]></Description>"
                 "<MusicUrl><![CDATA[MUSIC_Url]]></MusicUrl>"
                 "<HQMusicUrl><![CDATA[HQ_MUSIC_Url]]></HQMusicUrl>"
                 "<ThumbMediaId><![CDATA[media_id]]></ThumbMediaId></Music></xml>");
}
END_TEST

START_TEST(test_music_minimal)
{
    wx_reply_t r = { .type = WX_REPLY_MUSIC, .thumb_media_id = WX_STR("media_id") };

    expect_reply(&r, HEAD("music") "<Music>"
                 "<ThumbMediaId><![CDATA[media_id]]></ThumbMediaId></Music></xml>");
}
END_TEST

static const wx_article_t articles[10] = {
    { WX_STR("title1"), WX_STR("description1"), WX_STR("picurl"), WX_STR("url") },
    { WX_STR("title2"), WX_STR("description2"), WX_STR("picurl2"), WX_STR("url2") },
    { WX_STR("title3"), WX_STR("d3"), WX_STR("p3"), WX_STR("u3") },
    { WX_STR("title4"), WX_STR("d4"), WX_STR("p4"), WX_STR("u4") },
    { WX_STR("title5"), WX_STR("d5"), WX_STR("p5"), WX_STR("u5") },
    { WX_STR("title6"), WX_STR("d6"), WX_STR("p6"), WX_STR("u6") },
    { WX_STR("title7"), WX_STR("d7"), WX_STR("p7"), WX_STR("u7") },
    { WX_STR("title8"), WX_STR("d8"), WX_STR("p8"), WX_STR("u8") },
    { WX_STR("title9"), WX_STR("d9"), WX_STR("p9"), WX_STR("u9") },
    { WX_STR("title10"), WX_STR("d10"), WX_STR("p10"), WX_STR("u10") },
};

START_TEST(test_news)
{
    wx_reply_t r = { .type = WX_REPLY_NEWS, .articles = articles, .n_articles = 1 };

    expect_reply(&r, HEAD("news") "<ArticleCount>1</ArticleCount><Articles><item>"
                 "<Title><![CDATA[title1]]></Title>"
                 "<Description><![CDATA[description1]]></Description>"
                 "<PicUrl><![CDATA[picurl]]></PicUrl>"
                 "<Url><![CDATA[url]]></Url></item></Articles></xml>");
}
END_TEST

static unsigned count_of(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;
    unsigned c = 0;

    for (i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            c++;
    return c;
}

START_TEST(test_news_limit_to_message)
{
    wx_reply_t r = { .type = WX_REPLY_NEWS, .articles = articles, .n_articles = 3 };

    /* answering a message the follower sent: one article only */
    ck_assert_uint_eq(wx_reply_news_limit(&req), WX_REPLY_NEWS_MAX_TO_MSG);
    ck_assert_uint_eq(WX_REPLY_NEWS_MAX_TO_MSG, 1);
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
    ck_assert_uint_eq(count_of(out.data, out.len, "<item>"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "<ArticleCount>1</ArticleCount>"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "title1"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "title2"), 0);

    /* every normal message type gets the same limit */
    req.type = WX_MSG_IMAGE;
    ck_assert_uint_eq(wx_reply_news_limit(&req), 1);
    req.type = WX_MSG_VOICE;
    ck_assert_uint_eq(wx_reply_news_limit(&req), 1);
    req.type = WX_MSG_LOCATION;
    ck_assert_uint_eq(wx_reply_news_limit(&req), 1);
}
END_TEST

START_TEST(test_news_limit_to_event)
{
    wx_reply_t r = { .type = WX_REPLY_NEWS, .articles = articles, .n_articles = 10 };

    req.type = WX_MSG_EVENT;
    req.event = WX_EV_CLICK;
    ck_assert_uint_eq(wx_reply_news_limit(&req), WX_REPLY_NEWS_MAX);
    ck_assert_uint_eq(WX_REPLY_NEWS_MAX, 8);
    ck_assert_uint_eq(wx_reply_news_limit(NULL), 8);
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
    ck_assert_uint_eq(count_of(out.data, out.len, "<item>"), 8);
    ck_assert_uint_eq(count_of(out.data, out.len, "</item>"), 8);
    ck_assert_uint_eq(count_of(out.data, out.len, "<ArticleCount>8</ArticleCount>"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "<![CDATA[title8]]>"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "<![CDATA[title9]]>"), 0);
    ck_assert_uint_eq(count_of(out.data, out.len, "title10"), 0);

    /* fewer than the limit: all of them, in order */
    wx_buf_init(&out, mem, sizeof(mem));
    r.n_articles = 3;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
    ck_assert_uint_eq(count_of(out.data, out.len, "<ArticleCount>3</ArticleCount>"), 1);
    ck_assert_uint_eq(count_of(out.data, out.len, "<item>"), 3);
    mem[out.len] = '\0';
    ck_assert(strstr(mem, "title1") < strstr(mem, "title2"));
    ck_assert(strstr(mem, "title2") < strstr(mem, "title3"));
}
END_TEST

START_TEST(test_transfer)
{
    wx_reply_t r = { .type = WX_REPLY_TRANSFER, .kf_account = WX_STR("test1@test") };

    expect_reply(&r, HEAD("transfer_customer_service")
                 "<TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo></xml>");
    wx_buf_init(&out, mem, sizeof(mem));
    r.kf_account = WX_NULL_STR;
    expect_reply(&r, HEAD("transfer_customer_service") "</xml>");
}
END_TEST

START_TEST(test_success)
{
    wx_reply_t r;

    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(r.type, WX_REPLY_SUCCESS);
    expect_reply(&r, "success");
    ck_assert_uint_eq(out.len, 7);
    /* no request is needed to say success */
    wx_buf_init(&out, mem, sizeof(mem));
    ck_assert_int_eq(wx_reply_write(&r, NULL, NOW, &out), WX_OK);
    expect_out("success");
}
END_TEST

START_TEST(test_create_time)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = WX_STR("x") };

    ck_assert_int_eq(wx_reply_write(&r, &req, 1714112445, &out), WX_OK);
    ck_assert_uint_eq(count_of(out.data, out.len, "<CreateTime>1714112445</CreateTime>"), 1);
    wx_buf_init(&out, mem, sizeof(mem));
    ck_assert_int_eq(wx_reply_write(&r, &req, 0, &out), WX_OK);
    ck_assert_uint_eq(count_of(out.data, out.len, "<CreateTime>0</CreateTime>"), 1);
}
END_TEST

START_TEST(test_addresses_escaped)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = WX_STR("x") };

    /* the ids come from the request: they are quoted like any text */
    req.from_user = WX_STR("a]]>b");
    req.to_user = WX_STR("gh_\x01x");
    expect_reply(&r, "<xml><ToUserName><![CDATA[a]]]]><![CDATA[>b]]></ToUserName>"
                 "<FromUserName><![CDATA[gh_x]]></FromUserName>"
                 "<CreateTime>12345678</CreateTime>"
                 "<MsgType><![CDATA[text]]></MsgType>"
                 "<Content><![CDATA[x]]></Content></xml>");
}
END_TEST

/* ---- CDATA ----------------------------------------------------------- */

static void expect_cdata(wx_str_t in, const char *want)
{
    wx_buf_init(&out, mem, sizeof(mem));
    wx_xml_cdata(&out, in);
    expect_out(want);
}

/* Undo the CDATA sections of 'xml' (sections only, nothing between). */
static size_t uncdata(const char *xml, size_t len, char *dst)
{
    size_t i = 0, o = 0;

    while (i < len) {
        const char *end;

        ck_assert_msg(len - i >= 12 && memcmp(xml + i, "<![CDATA[", 9) == 0,
                      "not a CDATA section at %zu: %.*s", i, (int)(len - i), xml + i);
        i += 9;
        end = strstr(xml + i, "]]>");
        ck_assert_ptr_nonnull(end);
        memcpy(dst + o, xml + i, (size_t)(end - (xml + i)));
        o += (size_t)(end - (xml + i));
        i = (size_t)(end - xml) + 3;
    }
    return o;
}

START_TEST(test_cdata_split)
{
    expect_cdata(WX_STR("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    expect_cdata(WX_STR("]]>"), "<![CDATA[]]]]><![CDATA[>]]>");
    expect_cdata(WX_STR("]]>start"), "<![CDATA[]]]]><![CDATA[>start]]>");
    expect_cdata(WX_STR("end]]>"), "<![CDATA[end]]]]><![CDATA[>]]>");
    expect_cdata(WX_STR("]]]>"), "<![CDATA[]]]]]><![CDATA[>]]>");
    expect_cdata(WX_STR("]]>]]>"), "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>");
    /* not a terminator: left alone */
    expect_cdata(WX_STR("]]"), "<![CDATA[]]]]>");
    expect_cdata(WX_STR("]>"), "<![CDATA[]>]]>");
    expect_cdata(WX_STR("] ]>"), "<![CDATA[] ]>]]>");
    expect_cdata(WX_STR("<a>&amp;</a>"), "<![CDATA[<a>&amp;</a>]]>");
    expect_cdata(WX_STR(""), "<![CDATA[]]>");
    expect_cdata(WX_NULL_STR, "<![CDATA[]]>");
}
END_TEST

START_TEST(test_cdata_round_trip)
{
    static const char *const inputs[] = {
        "a]]>b", "]]>", "]]]>", "]]]]>>", "]]>]]>]]>", "x]]", "]", "]]", ">",
        "]]>\n]]>", "<![CDATA[x]]>", "你好]]>世界",
    };
    char back[512];
    size_t i;

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t n;

        wx_buf_init(&out, mem, sizeof(mem));
        wx_xml_cdata(&out, wx_str_c(inputs[i]));
        ck_assert_int_eq(out.overflow, 0);
        mem[out.len] = '\0';
        n = uncdata(out.data, out.len, back);
        ck_assert_msg(n == strlen(inputs[i]) && memcmp(back, inputs[i], n) == 0,
                      "\"%s\" came back as \"%.*s\" from %s", inputs[i], (int)n, back, mem);
    }
}
END_TEST

START_TEST(test_cdata_controls)
{
    static const char mixed[] = "a\x01" "b\0c\td\ne\rf\x1f" "g";
    char all[32];
    int c;

    /* C0 controls dropped, tab, LF and CR kept */
    expect_cdata((wx_str_t){ sizeof(mixed) - 1, mixed }, "<![CDATA[abc\td\ne\rfg]]>");
    expect_cdata((wx_str_t){ 3, "\0\0\0" }, "<![CDATA[]]>");
    expect_cdata(WX_STR("\x1b[31mred\x1b[0m"), "<![CDATA[[31mred[0m]]>");
    /* DEL and non-ASCII are not C0 */
    expect_cdata(WX_STR("\x7f\xc3\xa9"), "<![CDATA[\x7f\xc3\xa9]]>");
    /* every C0 byte in one string */
    for (c = 0; c < 32; c++)
        all[c] = (char)c;
    expect_cdata((wx_str_t){ 32, all }, "<![CDATA[\t\n\r]]>");
}
END_TEST

/* Dropping a control must not make a terminator out of what is around it:
 * "]]\x01>" is "]]>" once the control is gone, and must be split too. */
START_TEST(test_cdata_control_inside_terminator)
{
    static const char *const inputs[] = { "]]\x01>", "]\x02]>", "]]\x01\x02>", "x]]\x1f>y" };
    char back[16];
    size_t i, n;

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        wx_buf_init(&out, mem, sizeof(mem));
        wx_xml_cdata(&out, wx_str_c(inputs[i]));
        ck_assert_int_eq(out.overflow, 0);
        mem[out.len] = '\0';
        n = uncdata(out.data, out.len, back);
        back[n] = '\0';
        ck_assert_msg(strstr(back, "]]>") != NULL && n == strlen(inputs[i]) - (i == 2 ? 2 : 1),
                      "input %zu written as %s", i, mem);
    }
}
END_TEST

START_TEST(test_controls_in_reply)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = { 9, "a\0b\x02" "c]]>d" } };

    expect_reply(&r, HEAD("text") "<Content><![CDATA[abc]]]]><![CDATA[>d]]></Content></xml>");
}
END_TEST

/* ---- refusals -------------------------------------------------------- */

START_TEST(test_missing_required)
{
    wx_reply_t r;

    memset(&r, 0, sizeof(r));
    r.type = WX_REPLY_TEXT;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY_IMAGE;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.media_id = WX_STR("");
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY_VOICE;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY_VIDEO;
    r.title = WX_STR("a title is not enough");
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY_MUSIC;
    r.music_url = WX_STR("http://x/y.mp3");
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY_NEWS;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.articles = articles;
    r.n_articles = 0;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.articles = NULL;
    r.n_articles = 2;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = WX_REPLY__MAX;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    r.type = (wx_reply_type_t)-1;
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_EINVAL);
    /* nothing was written */
    ck_assert_uint_eq(out.len, 0);
}
END_TEST

START_TEST(test_overflow)
{
    wx_reply_t r = { .type = WX_REPLY_TEXT, .content = WX_STR("this is a test") };
    char small[64];
    size_t need;

    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
    need = out.len;

    wx_buf_init(&out, small, sizeof(small));
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_ENOMEM);
    ck_assert_int_ne(out.overflow, 0);
    ck_assert_uint_le(out.len, sizeof(small));

    /* one byte short, and exactly enough */
    {
        char *exact = malloc(need);

        ck_assert_ptr_nonnull(exact);
        wx_buf_init(&out, exact, need - 1);
        ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_ENOMEM);
        wx_buf_init(&out, exact, need);
        ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
        ck_assert_uint_eq(out.len, need);
        free(exact);
    }

    /* success needs its 7 bytes */
    memset(&r, 0, sizeof(r));
    wx_buf_init(&out, small, 6);
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_ENOMEM);
    wx_buf_init(&out, small, 7);
    ck_assert_int_eq(wx_reply_write(&r, &req, NOW, &out), WX_OK);
    ck_assert_mem_eq(small, "success", 7);
}
END_TEST

START_TEST(test_type_names)
{
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_SUCCESS), "success");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_TEXT), "text");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_IMAGE), "image");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_VOICE), "voice");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_VIDEO), "video");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_MUSIC), "music");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_NEWS), "news");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY_TRANSFER), "transfer_customer_service");
    ck_assert_str_eq(wx_reply_type_name(WX_REPLY__MAX), "unknown");
}
END_TEST

Suite *reply_suite(void)
{
    Suite *s = suite_create("reply");
    TCase *tc = tcase_create("reply");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_text_newlines_and_empty);
    tcase_add_test(tc, test_image);
    tcase_add_test(tc, test_voice);
    tcase_add_test(tc, test_video);
    tcase_add_test(tc, test_video_optional);
    tcase_add_test(tc, test_music);
    tcase_add_test(tc, test_music_minimal);
    tcase_add_test(tc, test_news);
    tcase_add_test(tc, test_news_limit_to_message);
    tcase_add_test(tc, test_news_limit_to_event);
    tcase_add_test(tc, test_transfer);
    tcase_add_test(tc, test_success);
    tcase_add_test(tc, test_create_time);
    tcase_add_test(tc, test_addresses_escaped);
    tcase_add_test(tc, test_cdata_split);
    tcase_add_test(tc, test_cdata_round_trip);
    tcase_add_test(tc, test_cdata_controls);
    tcase_add_test(tc, test_cdata_control_inside_terminator);
    tcase_add_test(tc, test_controls_in_reply);
    tcase_add_test(tc, test_missing_required);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_type_names);
    suite_add_tcase(s, tc);
    return s;
}
