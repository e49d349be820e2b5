/* check_msg.c - the SAX parser and struct wx_msg (PROTOCOL.md 2). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests.h"
#include "wx/core/err.h"
#include "wx/proto/msg.h"
#include "wx/proto/parse.h"

#define TO      "gh_0123456789ab"
#define FROM    "oUserOpenId0123456789abcdef"

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

static wx_err_t parse_str(const char *xml, wx_msg_t *m)
{
    wx_pool_reset(&pool);
    return wx_msg_parse(parser, &pool, xml, strlen(xml), m);
}

/* Parse and validate; both must succeed. */
static void parse_ok(const char *xml, wx_msg_t *m)
{
    wx_err_t rc = parse_str(xml, m);

    ck_assert_msg(rc == WX_OK, "parse: %s (%s)", wx_strerror(rc),
                  wx_parser_errmsg(parser));
    rc = wx_msg_validate(m);
    ck_assert_msg(rc == WX_OK, "validate: %s", wx_strerror(rc));
}

/* The n-th item (from 0) held by 'list', failing the test when absent. */
static const wx_msg_item_t *item_at(const wx_msg_t *m, const char *list,
                                    unsigned n)
{
    const wx_msg_item_t *it = wx_msg_next_item(m, NULL, list);
    unsigned i;

    for (i = 0; i < n && it; i++)
        it = wx_msg_next_item(m, it, list);
    ck_assert_msg(it != NULL, "no item %u in %s", n, list);
    return it;
}

static unsigned count_items(const wx_msg_t *m, const char *list)
{
    const wx_msg_item_t *it;
    unsigned n = 0;

    for (it = wx_msg_next_item(m, NULL, list); it; it = wx_msg_next_item(m, it, list))
        n++;
    return n;
}

/* ---- every fixture, field by field ----------------------------------- */

static void check_text(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->content, "this is a test");
    ck_assert_wx_str_eq(m->msg_id_s, "1234567890123456");
    ck_assert_wx_str_null(m->media_id);
}

static void check_image(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->pic_url,
        "http://mmbiz.qpic.cn/mmbiz_jpg/Qw3dC9HkZr0ia5Tn1yb8xJ2sL4uW6vE7fG/0");
    ck_assert_wx_str_eq(m->media_id, "img_K7sP2qX9vB4nM1cR6tY8wZ3hJ5dF0gLaUe");
    ck_assert_wx_str_null(m->content);
}

static void check_voice(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->media_id, "voice_R2mN8kQ4xT6bV1cZ9sW3pL7yH5dG0fJaEu");
    ck_assert_wx_str_eq(m->format, "amr");
    ck_assert_wx_str_eq(m->recognition, "腾讯微信团队");
}

static void check_video(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->media_id, "video_T5nB2vC8xZ1mK4qW7sR0pL3yH6dG9fJaEu");
    ck_assert_wx_str_eq(m->thumb_media_id, "thumb_V8cX1zM4nB7qW0sR3pL6yH9dG2fJ5kAeTu");
}

static void check_shortvideo(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->media_id, "short_P3oI6uY9tR2eW5qA8sD1fG4hJ7kL0zXcVb");
    ck_assert_wx_str_eq(m->thumb_media_id, "thumb_M6nB9vC2xZ5lK8jH1gF4dS7aQ0wE3rTyUi");
}

static void check_location(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->location_x, "23.134521");
    ck_assert_wx_str_eq(m->location_y, "113.358803");
    ck_assert_wx_str_eq(m->scale, "20");
    ck_assert_wx_str_eq(m->label, "位置信息");
    ck_assert_wx_str_null(m->sl_location_x);
    ck_assert_wx_str_null(m->sl_label);
}

static void check_link(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->title, "公众平台官网链接");
    ck_assert_wx_str_eq(m->description, "微信公众平台的官方网站");
    ck_assert_wx_str_eq(m->url, "https://mp.weixin.qq.com/");
}

static void check_miniprogrampage(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->title, "小程序卡片");
    ck_assert_wx_str_eq(m->app_id, "wx1234567890abcdef");
    ck_assert_wx_str_eq(m->page_path, "pages/index/index?id=42");
    ck_assert_wx_str_eq(m->thumb_url,
        "http://mmbiz.qpic.cn/mmbiz_jpg/Nn4pQ8rS2tU6vW0xY3zA7bC1dE5fG9hI/0");
    ck_assert_wx_str_eq(m->thumb_media_id, "thumb_A1sD4fG7hJ0kL3zX6cV9bN2mQ5wE8rTyUi");
}

static void check_subscribe(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_name, "subscribe");
    /* present but empty */
    ck_assert_ptr_nonnull(m->event_key.data);
    ck_assert_uint_eq(m->event_key.len, 0);
    ck_assert_wx_str_null(m->ticket);
}

#define TICKET "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw=="

static void check_subscribe_qrscene(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "qrscene_123123");
    ck_assert_wx_str_eq(m->ticket, TICKET);
}

static void check_unsubscribe(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_name, "unsubscribe");
    ck_assert_wx_str_null(m->event_key);
}

static void check_scan(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_name, "SCAN");
    ck_assert_wx_str_eq(m->event_key, "123123");
    ck_assert_wx_str_eq(m->ticket, TICKET);
}

static void check_event_location(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->latitude, "23.137466");
    ck_assert_wx_str_eq(m->longitude, "113.352425");
    ck_assert_wx_str_eq(m->precision, "119.385040");
    ck_assert_wx_str_null(m->location_x);
}

static void check_click(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "V1001_HELLO");
}

static void check_click_unknown(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "V9999_NONE");
}

static void check_view(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "https://www.qq.com/");
    ck_assert_wx_str_eq(m->menu_id, "208379533");
}

static void check_scancode_push(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "6");
    ck_assert_wx_str_eq(m->scan_type, "qrcode");
    ck_assert_wx_str_eq(m->scan_result, "1");
    ck_assert_uint_eq(m->n_items, 0);
}

static void check_scancode_waitmsg(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "7");
    ck_assert_wx_str_eq(m->scan_type, "barcode");
    ck_assert_wx_str_eq(m->scan_result, "EAN_13,6901234567892");
}

static void check_pics(const wx_msg_t *m, const char *count,
                       const char *const *md5, unsigned n)
{
    unsigned i;

    ck_assert_wx_str_eq(m->event_key, "6");
    ck_assert_wx_str_eq(m->pics_count, count);
    ck_assert_uint_eq(count_items(m, "PicList"), n);
    ck_assert_uint_eq(m->n_items, n);
    for (i = 0; i < n; i++) {
        const wx_msg_item_t *it = item_at(m, "PicList", i);

        ck_assert_wx_str_eq(it->list, "PicList");
        ck_assert_wx_str_eq(it->owner, "SendPicsInfo");
        ck_assert_wx_str_eq(wx_msg_item_get(it, "PicMd5Sum"), md5[i]);
        ck_assert_wx_str_null(wx_msg_item_get(it, "Count"));
    }
    ck_assert_ptr_null(wx_msg_next_item(m, item_at(m, "PicList", n - 1), "PicList"));
}

static void check_pic_sysphoto(const wx_msg_t *m)
{
    static const char *const md5[] = {
        "1b5f7c23b5bf75682a53e7b6d163e185", "5a75aaca956d97be686719218f275c6b",
    };

    check_pics(m, "2", md5, 2);
}

static void check_pic_photo_or_album(const wx_msg_t *m)
{
    static const char *const md5[] = { "5a75aaca956d97be686719218f275c6b" };

    check_pics(m, "1", md5, 1);
}

static void check_pic_weixin(const wx_msg_t *m)
{
    static const char *const md5[] = { "aa8ad3b2e7b6ef8e9bb23f8a5e5e3c10" };

    check_pics(m, "1", md5, 1);
}

static void check_location_select(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "6");
    ck_assert_wx_str_eq(m->sl_location_x, "23");
    ck_assert_wx_str_eq(m->sl_location_y, "113");
    ck_assert_wx_str_eq(m->sl_scale, "15");
    /* the leading space is kept */
    ck_assert_wx_str_eq(m->sl_label, " 广州市海珠区客村艺苑路 106号");
    ck_assert_ptr_nonnull(m->sl_poiname.data);
    ck_assert_uint_eq(m->sl_poiname.len, 0);
    /* the nested elements do not land in the message's own fields */
    ck_assert_wx_str_null(m->location_x);
    ck_assert_wx_str_null(m->location_y);
    ck_assert_wx_str_null(m->scale);
    ck_assert_wx_str_null(m->label);
}

static void check_view_miniprogram(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_key, "pages/index/index");
    ck_assert_wx_str_eq(m->menu_id, "208379534");
}

static void check_masssend(const wx_msg_t *m)
{
    const wx_msg_item_t *it;

    ck_assert_wx_str_eq(m->msg_id_s, "1000001625");
    ck_assert_wx_str_eq(m->status, "err(30003)");
    ck_assert_wx_str_eq(m->total_count, "0");
    ck_assert_wx_str_eq(m->filter_count, "0");
    ck_assert_wx_str_eq(m->sent_count, "0");
    ck_assert_wx_str_eq(m->error_count, "0");
    ck_assert_wx_str_eq(m->copyright_count, "2");
    ck_assert_wx_str_eq(m->copyright_check_state, "2");
    ck_assert_wx_str_eq(m->article_url_count, "1");
    ck_assert_wx_str_null(m->pics_count);
    ck_assert_uint_eq(count_items(m, "ResultList"), 3);

    it = item_at(m, "ResultList", 0);
    ck_assert_wx_str_eq(it->owner, "CopyrightCheckResult");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "ArticleIdx"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "UserDeclareState"), "0");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "AuditState"), "2");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "OriginalArticleUrl"), "Url_1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "OriginalArticleType"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "CanReprint"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "NeedReplaceContent"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "NeedShowReprintSource"), "1");
    ck_assert_wx_str_null(wx_msg_item_get(it, "ArticleUrl"));

    it = item_at(m, "ResultList", 1);
    ck_assert_wx_str_eq(it->owner, "CopyrightCheckResult");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "ArticleIdx"), "2");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "OriginalArticleUrl"), "Url_2");

    it = item_at(m, "ResultList", 2);
    ck_assert_wx_str_eq(it->list, "ResultList");
    ck_assert_wx_str_eq(it->owner, "ArticleUrlResult");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "ArticleIdx"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "ArticleUrl"), "Url");
    ck_assert_wx_str_null(wx_msg_item_get(it, "OriginalArticleUrl"));
}

static void check_templatesend(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->msg_id_s, "200163836");
    ck_assert_wx_str_eq(m->status, "success");
    ck_assert_uint_eq(m->n_items, 0);
}

static void check_publish(const wx_msg_t *m)
{
    const wx_msg_item_t *it;

    ck_assert_wx_str_eq(m->publish_id, "2247503051");
    ck_assert_wx_str_eq(m->publish_status, "0");
    ck_assert_wx_str_eq(m->article_id, "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4");
    ck_assert_wx_str_eq(m->article_count, "2");
    ck_assert_uint_eq(count_items(m, "article_detail"), 2);
    ck_assert_uint_eq(count_items(m, "fail_idx"), 0);
    it = item_at(m, "article_detail", 0);
    ck_assert_wx_str_eq(it->owner, "PublishEventInfo");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "idx"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "article_url"),
                        "https://mp.weixin.qq.com/s/ARTICLE_URL_1");
    it = item_at(m, "article_detail", 1);
    ck_assert_wx_str_eq(wx_msg_item_get(it, "idx"), "2");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "article_url"),
                        "https://mp.weixin.qq.com/s/ARTICLE_URL_2");
    /* the count is a field of the message, not of an item */
    ck_assert_wx_str_null(wx_msg_item_get(it, "count"));
}

static void check_publish_fail(const wx_msg_t *m)
{
    const wx_msg_item_t *it;

    ck_assert_wx_str_eq(m->publish_id, "2247503052");
    ck_assert_wx_str_eq(m->publish_status, "2");
    ck_assert_wx_str_null(m->article_id);
    ck_assert_wx_str_null(m->article_count);
    ck_assert_uint_eq(count_items(m, "fail_idx"), 2);
    ck_assert_uint_eq(count_items(m, "article_detail"), 0);
    it = item_at(m, "fail_idx", 0);
    ck_assert_wx_str_eq(it->list, "fail_idx");
    ck_assert_wx_str_eq(it->owner, "PublishEventInfo");
    ck_assert_wx_str_eq(it->value, "1");
    ck_assert_ptr_null(it->fields);
    it = item_at(m, "fail_idx", 1);
    ck_assert_wx_str_eq(it->value, "2");
}

static void check_popup(const wx_msg_t *m)
{
    const wx_msg_item_t *it;

    ck_assert_uint_eq(count_items(m, "SubscribeMsgPopupEvent"), 2);
    it = item_at(m, "SubscribeMsgPopupEvent", 0);
    ck_assert_wx_str_eq(wx_msg_item_get(it, "TemplateId"),
                        "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "SubscribeStatusString"), "accept");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "PopupScene"), "2");
    it = item_at(m, "SubscribeMsgPopupEvent", 1);
    ck_assert_wx_str_eq(wx_msg_item_get(it, "TemplateId"),
                        "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "SubscribeStatusString"), "reject");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "PopupScene"), "2");
}

static void check_kf_switch(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->from_kf_account, "test1@test");
    ck_assert_wx_str_eq(m->to_kf_account, "test2@test");
    ck_assert_wx_str_null(m->kf_account);
}

static void check_event_unknown(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->event_name, "some_new_event");
    ck_assert_wx_str_eq(m->event_key, "whatever");
}

static void check_unknown_type(const wx_msg_t *m)
{
    ck_assert_wx_str_eq(m->msg_type, "some_new_type");
    ck_assert_wx_str_eq(m->content, "a type we do not know");
    ck_assert_wx_str_null(m->event_name);
}

static const struct fixture {
    const char     *name;
    wx_msg_type_t   type;
    wx_event_t      event;
    int64_t         create_time;
    uint64_t        msg_id;         /* 0: none */
    void          (*check)(const wx_msg_t *m);
} fixtures[] = {
    { "text",            WX_MSG_TEXT,   WX_EV_NONE, 1348831860, 1234567890123456ULL, check_text },
    { "image",           WX_MSG_IMAGE,  WX_EV_NONE, 1348831861, 1234567890123457ULL, check_image },
    { "voice",           WX_MSG_VOICE,  WX_EV_NONE, 1357290913, 1234567890123458ULL, check_voice },
    { "video",           WX_MSG_VIDEO,  WX_EV_NONE, 1357290914, 1234567890123459ULL, check_video },
    { "shortvideo",      WX_MSG_SHORTVIDEO, WX_EV_NONE, 1357290915, 1234567890123460ULL, check_shortvideo },
    { "location",        WX_MSG_LOCATION, WX_EV_NONE, 1351776360, 1234567890123461ULL, check_location },
    { "link",            WX_MSG_LINK,   WX_EV_NONE, 1351776361, 1234567890123462ULL, check_link },
    { "miniprogrampage", WX_MSG_MINIPROGRAMPAGE, WX_EV_NONE, 1482048670, 6362278457226539008ULL,
      check_miniprogrampage },
    { "event_subscribe", WX_MSG_EVENT, WX_EV_SUBSCRIBE, 1714112445, 0, check_subscribe },
    { "event_subscribe_qrscene", WX_MSG_EVENT, WX_EV_SUBSCRIBE, 1714112446, 0,
      check_subscribe_qrscene },
    { "event_unsubscribe", WX_MSG_EVENT, WX_EV_UNSUBSCRIBE, 1714112447, 0, check_unsubscribe },
    { "event_scan",      WX_MSG_EVENT, WX_EV_SCAN, 1714112448, 0, check_scan },
    { "event_location",  WX_MSG_EVENT, WX_EV_LOCATION, 1714112449, 0, check_event_location },
    { "event_click",     WX_MSG_EVENT, WX_EV_CLICK, 1714112450, 0, check_click },
    { "event_click_unknown", WX_MSG_EVENT, WX_EV_CLICK, 1714112451, 0, check_click_unknown },
    { "event_view",      WX_MSG_EVENT, WX_EV_VIEW, 1714112452, 0, check_view },
    { "event_scancode_push", WX_MSG_EVENT, WX_EV_SCANCODE_PUSH, 1408090502, 0,
      check_scancode_push },
    { "event_scancode_waitmsg", WX_MSG_EVENT, WX_EV_SCANCODE_WAITMSG, 1408090606, 0,
      check_scancode_waitmsg },
    { "event_pic_sysphoto", WX_MSG_EVENT, WX_EV_PIC_SYSPHOTO, 1408090651, 0,
      check_pic_sysphoto },
    { "event_pic_photo_or_album", WX_MSG_EVENT, WX_EV_PIC_PHOTO_OR_ALBUM, 1408090816, 0,
      check_pic_photo_or_album },
    { "event_pic_weixin", WX_MSG_EVENT, WX_EV_PIC_WEIXIN, 1408090817, 0, check_pic_weixin },
    { "event_location_select", WX_MSG_EVENT, WX_EV_LOCATION_SELECT, 1408091189, 0,
      check_location_select },
    { "event_view_miniprogram", WX_MSG_EVENT, WX_EV_VIEW_MINIPROGRAM, 1714112453, 0,
      check_view_miniprogram },
    { "event_masssendjobfinish", WX_MSG_EVENT, WX_EV_MASSSENDJOBFINISH, 1481013459,
      1000001625ULL, check_masssend },
    { "event_templatesendjobfinish", WX_MSG_EVENT, WX_EV_TEMPLATESENDJOBFINISH, 1395658920,
      200163836ULL, check_templatesend },
    { "event_publishjobfinish", WX_MSG_EVENT, WX_EV_PUBLISHJOBFINISH, 1481013460, 0,
      check_publish },
    { "event_publishjobfinish_fail", WX_MSG_EVENT, WX_EV_PUBLISHJOBFINISH, 1481013461, 0,
      check_publish_fail },
    { "event_subscribe_msg_popup_event", WX_MSG_EVENT, WX_EV_SUBSCRIBE_MSG_POPUP, 1610969440, 0,
      check_popup },
    { "event_kf_switch_session", WX_MSG_EVENT, WX_EV_KF_SWITCH_SESSION, 1399197672, 0,
      check_kf_switch },
    { "event_unknown",   WX_MSG_EVENT, WX_EV_UNKNOWN, 1714112454, 0, check_event_unknown },
    { "unknown_type",    WX_MSG_UNKNOWN, WX_EV_NONE, 1714112455, 1234567890123463ULL,
      check_unknown_type },
};
#define N_FIXTURES ((int)(sizeof(fixtures) / sizeof(fixtures[0])))

static char *read_msg_fixture(const char *name, size_t *len)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "msg/%s.xml", name);
    return fx_read(rel, len);
}

START_TEST(test_fixture)
{
    const struct fixture *f = &fixtures[_i];
    size_t len;
    char *xml = read_msg_fixture(f->name, &len);
    wx_msg_t m;
    wx_err_t rc;

    rc = wx_msg_parse(parser, &pool, xml, len, &m);
    ck_assert_msg(rc == WX_OK, "%s: %s (%s)", f->name, wx_strerror(rc),
                  wx_parser_errmsg(parser));
    rc = wx_msg_validate(&m);
    ck_assert_msg(rc == WX_OK, "%s: validate %s", f->name, wx_strerror(rc));

    ck_assert_wx_str_eq(m.to_user, TO);
    ck_assert_wx_str_eq(m.from_user, FROM);
    ck_assert_msg(m.type == f->type, "%s: type %d (%s), want %d", f->name,
                  m.type, wx_msg_type_name(m.type), f->type);
    ck_assert_msg(m.event == f->event, "%s: event %d (%s), want %d (%s)", f->name,
                  m.event, wx_event_name(m.event), f->event, wx_event_name(f->event));
    ck_assert_msg(m.create_time == f->create_time, "%s: create_time %lld",
                  f->name, (long long)m.create_time);
    if (f->msg_id) {
        ck_assert_msg(m.has_msg_id, "%s: no msg id", f->name);
        ck_assert_msg(m.msg_id == f->msg_id, "%s: msg_id %llu", f->name,
                      (unsigned long long)m.msg_id);
    } else {
        ck_assert_msg(!m.has_msg_id, "%s: unexpected msg id", f->name);
        ck_assert_wx_str_null(m.msg_id_s);
    }
    if (f->type == WX_MSG_EVENT)
        ck_assert_wx_str_eq(m.msg_type, "event");
    else
        ck_assert_wx_str_null(m.event_name);
    ck_assert_wx_str_null(m.encrypt);
    f->check(&m);
    free(xml);
}
END_TEST

/* Every message fixture on disk is in the table above, and has its .reply. */
START_TEST(test_fixture_dir_complete)
{
    char path[1024];
    DIR *d;
    struct dirent *de;
    int seen[sizeof(fixtures) / sizeof(fixtures[0])] = { 0 };
    int i, n = 0;

    snprintf(path, sizeof(path), "%s/msg", fx_dir());
    d = opendir(path);
    ck_assert_msg(d != NULL, "cannot open %s", path);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        int found = 0;

        if (len < 5 || strcmp(de->d_name + len - 4, ".xml") != 0)
            continue;
        n++;
        for (i = 0; i < N_FIXTURES; i++) {
            if (strlen(fixtures[i].name) == len - 4 &&
                strncmp(fixtures[i].name, de->d_name, len - 4) == 0) {
                seen[i] = found = 1;
            }
        }
        ck_assert_msg(found, "fixture %s is not checked by check_msg.c", de->d_name);
    }
    closedir(d);
    for (i = 0; i < N_FIXTURES; i++) {
        char rel[256];
        size_t rlen;
        char *reply;

        ck_assert_msg(seen[i], "fixture msg/%s.xml is missing", fixtures[i].name);
        snprintf(rel, sizeof(rel), "msg/%s.reply", fixtures[i].name);
        reply = fx_read(rel, &rlen);
        ck_assert_msg(rlen > 0 && reply[rlen - 1] != '\n',
                      "%s must not end in a newline", rel);
        free(reply);
    }
    ck_assert_int_eq(n, N_FIXTURES);
}
END_TEST

/* ---- streaming ------------------------------------------------------- */

#define FIRST_STR   offsetof(wx_msg_t, to_user)
/* every wx_str_t of the message: the fields from to_user up to the items */
#define N_STRS      ((offsetof(wx_msg_t, items) - FIRST_STR) / sizeof(wx_str_t))

static const wx_str_t *msg_strs(const wx_msg_t *m)
{
    return (const wx_str_t *)(const void *)((const char *)m + FIRST_STR);
}

static int same_str(wx_str_t a, wx_str_t b)
{
    if ((a.data == NULL) != (b.data == NULL))
        return 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static void assert_same_msg(const wx_msg_t *a, const wx_msg_t *b, const char *name)
{
    const wx_msg_item_t *ia, *ib;
    size_t i;

    ck_assert_int_eq((offsetof(wx_msg_t, items) - FIRST_STR) % sizeof(wx_str_t), 0);
    for (i = 0; i < N_STRS; i++)
        ck_assert_msg(same_str(msg_strs(a)[i], msg_strs(b)[i]),
                      "%s: string field %zu differs: \"%.*s\" vs \"%.*s\"", name, i,
                      (int)msg_strs(a)[i].len, msg_strs(a)[i].data ? msg_strs(a)[i].data : "",
                      (int)msg_strs(b)[i].len, msg_strs(b)[i].data ? msg_strs(b)[i].data : "");
    ck_assert_uint_eq(a->n_items, b->n_items);
    for (ia = a->items, ib = b->items; ia && ib; ia = ia->next, ib = ib->next) {
        const wx_msg_field_t *fa, *fb;

        ck_assert(same_str(ia->list, ib->list));
        ck_assert(same_str(ia->owner, ib->owner));
        ck_assert(same_str(ia->value, ib->value));
        for (fa = ia->fields, fb = ib->fields; fa && fb; fa = fa->next, fb = fb->next) {
            ck_assert(same_str(fa->name, fb->name));
            ck_assert(same_str(fa->value, fb->value));
        }
        ck_assert_msg(fa == NULL && fb == NULL, "%s: item field counts differ", name);
    }
    ck_assert_msg(ia == NULL && ib == NULL, "%s: item counts differ", name);
}

START_TEST(test_byte_at_a_time)
{
    const struct fixture *f = &fixtures[_i];
    size_t len, i;
    char *xml = read_msg_fixture(f->name, &len);
    wx_pool_t pool2;
    wx_parser_t *p2 = wx_parser_new(NULL);
    wx_msg_t whole, bytes;

    ck_assert_ptr_nonnull(p2);
    ck_assert_int_eq(wx_pool_init(&pool2, 1 << 20), WX_OK);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, xml, len, &whole), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&whole), WX_OK);

    ck_assert_int_eq(wx_parser_begin(p2, &pool2, &bytes), WX_OK);
    for (i = 0; i < len; i++)
        ck_assert_msg(wx_parser_feed(p2, xml + i, 1, 0) == WX_OK, "%s: byte %zu: %s",
                      f->name, i, wx_parser_errmsg(p2));
    ck_assert_int_eq(wx_parser_feed(p2, xml + len, 0, 1), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&bytes), WX_OK);

    ck_assert_int_eq(whole.type, bytes.type);
    ck_assert_int_eq(whole.event, bytes.event);
    ck_assert(whole.create_time == bytes.create_time);
    ck_assert(whole.msg_id == bytes.msg_id);
    assert_same_msg(&whole, &bytes, f->name);
    /* and the copy is right, not merely equal */
    f->check(&bytes);

    wx_parser_free(p2);
    wx_pool_free(&pool2);
    free(xml);
}
END_TEST

/* Fed through the parser's own buffer, in chunks of every size from 1 to
 * 7 bytes, every fixture parses as it does whole. */
START_TEST(test_parser_buffer)
{
    const struct fixture *f = &fixtures[_i];
    size_t len, i, step;
    char *xml = read_msg_fixture(f->name, &len);
    wx_pool_t pool2;
    wx_parser_t *p2 = wx_parser_new(NULL);
    wx_msg_t whole, fed;

    ck_assert_ptr_nonnull(p2);
    ck_assert_int_eq(wx_pool_init(&pool2, 1 << 20), WX_OK);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, xml, len, &whole), WX_OK);
    for (step = 1; step <= 7; step++) {
        wx_pool_reset(&pool2);
        ck_assert_int_eq(wx_parser_begin(p2, &pool2, &fed), WX_OK);
        for (i = 0; i < len; i += step) {
            size_t n = len - i < step ? len - i : step;
            char *b = wx_parser_buffer(p2, n);

            ck_assert_ptr_nonnull(b);
            memcpy(b, xml + i, n);
            ck_assert_msg(wx_parser_feed_buffer(p2, n, i + n == len) == WX_OK,
                          "%s: at %zu by %zu: %s", f->name, i, step, wx_parser_errmsg(p2));
        }
        ck_assert_int_eq(wx_msg_validate(&fed), WX_OK);
        assert_same_msg(&whole, &fed, f->name);
        f->check(&fed);
    }
    /* after an error: no buffer, and the error again */
    ck_assert_int_eq(wx_parser_begin(p2, &pool2, &fed), WX_OK);
    memcpy(wx_parser_buffer(p2, 6), "<html>", 6);
    ck_assert_int_eq(wx_parser_feed_buffer(p2, 6, 0), WX_EXML);
    ck_assert_ptr_null(wx_parser_buffer(p2, 6));
    ck_assert_int_eq(wx_parser_feed_buffer(p2, 0, 1), WX_EXML);
    wx_parser_free(p2);
    wx_pool_free(&pool2);
    free(xml);
}
END_TEST

START_TEST(test_last_chunk_with_data)
{
    /* the final call may carry data, or be empty */
    static const char doc[] = "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
                              "<CreateTime>1</CreateTime><MsgType>text</MsgType>"
                              "<Content>xyz</Content></xml>";
    wx_msg_t m;

    ck_assert_int_eq(wx_parser_begin(parser, &pool, &m), WX_OK);
    ck_assert_int_eq(wx_parser_feed(parser, doc, 20, 0), WX_OK);
    ck_assert_int_eq(wx_parser_feed(parser, doc + 20, sizeof(doc) - 1 - 20, 1), WX_OK);
    ck_assert_int_eq(wx_msg_validate(&m), WX_OK);
    ck_assert_wx_str_eq(m.content, "xyz");
    /* a document not finished when final is said is refused */
    ck_assert_int_eq(wx_parser_begin(parser, &pool, &m), WX_OK);
    ck_assert_int_eq(wx_parser_feed(parser, doc, 20, 0), WX_OK);
    ck_assert_int_eq(wx_parser_feed(parser, doc + 20, 0, 1), WX_EXML);
}
END_TEST

START_TEST(test_reuse_1000)
{
    char *docs[N_FIXTURES];
    size_t lens[N_FIXTURES];
    static const char dtd[] = "<!DOCTYPE xml><xml><ToUserName>a</ToUserName></xml>";
    static const char bad[] = "<xml><ToUserName>a</ToUser";
    int i;

    for (i = 0; i < N_FIXTURES; i++)
        docs[i] = read_msg_fixture(fixtures[i].name, &lens[i]);
    for (i = 0; i < 1000; i++) {
        const struct fixture *f = &fixtures[i % N_FIXTURES];
        wx_msg_t m;
        wx_err_t rc;

        wx_pool_reset(&pool);
        if (i % 7 == 3) {
            /* refusals in between do not poison the parser */
            rc = wx_msg_parse(parser, &pool, dtd, sizeof(dtd) - 1, &m);
            ck_assert_int_eq(rc, WX_EXML_DTD);
            rc = wx_msg_parse(parser, &pool, bad, sizeof(bad) - 1, &m);
            ck_assert_int_eq(rc, WX_EXML);
        }
        rc = wx_msg_parse(parser, &pool, docs[i % N_FIXTURES], lens[i % N_FIXTURES], &m);
        ck_assert_msg(rc == WX_OK, "document %d (%s): %s", i, f->name,
                      wx_parser_errmsg(parser));
        ck_assert_int_eq(wx_msg_validate(&m), WX_OK);
        ck_assert_int_eq(m.type, f->type);
        ck_assert_int_eq(m.event, f->event);
        ck_assert(m.create_time == f->create_time);
        if (i >= 1000 - N_FIXTURES)
            f->check(&m);
    }
    for (i = 0; i < N_FIXTURES; i++)
        free(docs[i]);
}
END_TEST

/* ---- refusals -------------------------------------------------------- */

#define HEAD "<ToUserName>gh_0123456789ab</ToUserName>" \
             "<FromUserName>oUserOpenId0123456789abcdef</FromUserName>" \
             "<CreateTime>1348831860</CreateTime><MsgType>text</MsgType>"

static wx_err_t parse_err(const char *xml)
{
    wx_msg_t m;

    return parse_str(xml, &m);
}

START_TEST(test_doctype_refused)
{
    ck_assert_int_eq(parse_err("<!DOCTYPE xml><xml>" HEAD "</xml>"), WX_EXML_DTD);
    ck_assert_str_ne(wx_parser_errmsg(parser), "no error");
    ck_assert_int_eq(parse_err("<?xml version=\"1.0\"?>\n<!DOCTYPE xml []>\n<xml>"
                               HEAD "</xml>"), WX_EXML_DTD);
    ck_assert_int_eq(parse_err("<!DOCTYPE xml SYSTEM \"http://127.0.0.1:9/evil.dtd\">"
                               "<xml>" HEAD "</xml>"), WX_EXML_DTD);
    ck_assert_int_eq(parse_err("<!DOCTYPE xml PUBLIC \"-//X//Y\" \"x.dtd\">"
                               "<xml>" HEAD "</xml>"), WX_EXML_DTD);
}
END_TEST

START_TEST(test_billion_laughs_refused)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE xml [\n"
        "  <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
        "  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        "  <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
        "  <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
        "  <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
        "  <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
        "  <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
        "]>\n"
        "<xml>" HEAD "<Content>&g;</Content><MsgId>1</MsgId></xml>";
    wx_msg_t m;

    ck_assert_int_eq(parse_str(doc, &m), WX_EXML_DTD);
    ck_assert_wx_str_null(m.content);
    /* refused at the DOCTYPE: nothing was expanded into the arena */
    ck_assert_uint_lt(pool.used, 4096);
}
END_TEST

START_TEST(test_external_entity_refused)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE xml [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
        "<xml>" HEAD "<Content>&xxe;</Content><MsgId>1</MsgId></xml>";
    wx_msg_t m;

    ck_assert_int_eq(parse_str(doc, &m), WX_EXML_DTD);
    ck_assert_wx_str_null(m.content);
    ck_assert_int_eq(parse_err("<!DOCTYPE xml [ <!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p; ]>"
                               "<xml>" HEAD "</xml>"), WX_EXML_DTD);
}
END_TEST

START_TEST(test_entities_without_dtd)
{
    wx_msg_t m;

    /* the predefined entities and character references are plain XML */
    parse_ok("<xml>" HEAD "<Content>a&amp;b&lt;c&gt;d&quot;e&apos;f&#20320;&#x597D;</Content>"
             "</xml>", &m);
    ck_assert_wx_str_eq(m.content, "a&b<c>d\"e'f你好");
    /* an undeclared entity is not well-formed */
    ck_assert_int_eq(parse_err("<xml>" HEAD "<Content>&xxe;</Content></xml>"), WX_EXML);
}
END_TEST

/* '<xml>' + (depth - 1) nested elements, the innermost holding text. */
static char *nested(unsigned depth)
{
    size_t cap = 64 + 16 * depth + sizeof(HEAD);
    char *s = malloc(cap), *p = s;
    unsigned i;

    ck_assert_ptr_nonnull(s);
    p += sprintf(p, "<xml>" HEAD);
    for (i = 1; i < depth; i++)
        p += sprintf(p, "<a>");
    p += sprintf(p, "deep");
    for (i = 1; i < depth; i++)
        p += sprintf(p, "</a>");
    sprintf(p, "</xml>");
    return s;
}

START_TEST(test_depth_limit)
{
    char *ok = nested(8), *deep = nested(9), *deeper = nested(100);
    wx_msg_t m;

    parse_ok(ok, &m);
    ck_assert_int_eq(parse_err(deep), WX_EXML_LIMIT);
    ck_assert_int_eq(parse_err(deeper), WX_EXML_LIMIT);
    free(ok);
    free(deep);
    free(deeper);
}
END_TEST

/* '<xml>' with the 4 header elements and 'extra' empty ones: 5 + extra. */
static char *many(unsigned extra)
{
    char *s = malloc(64 + sizeof(HEAD) + 4 * extra), *p = s;
    unsigned i;

    ck_assert_ptr_nonnull(s);
    p += sprintf(p, "<xml>" HEAD);
    for (i = 0; i < extra; i++)
        p += sprintf(p, "<e/>");
    sprintf(p, "</xml>");
    return s;
}

START_TEST(test_element_limit)
{
    wx_parse_limits_t def = WX_PARSE_LIMITS_DEFAULT;
    char *at = many(def.max_elements - 5), *over = many(def.max_elements - 4);
    char *far = many(5000);
    wx_msg_t m;

    parse_ok(at, &m);
    ck_assert_int_eq(parse_err(over), WX_EXML_LIMIT);
    ck_assert_int_eq(parse_err(far), WX_EXML_LIMIT);
    free(at);
    free(over);
    free(far);
}
END_TEST

static char *long_text(size_t n)
{
    char *s = malloc(n + 256), *p = s;

    ck_assert_ptr_nonnull(s);
    p += sprintf(p, "<xml>" HEAD "<Content><![CDATA[");
    memset(p, 'x', n);
    p += n;
    sprintf(p, "]]></Content></xml>");
    return s;
}

START_TEST(test_text_limit)
{
    wx_parse_limits_t def = WX_PARSE_LIMITS_DEFAULT;
    char *at = long_text(def.max_text), *over = long_text(def.max_text + 1);
    wx_msg_t m;

    parse_ok(at, &m);
    ck_assert_uint_eq(m.content.len, def.max_text);
    ck_assert_int_eq(parse_err(over), WX_EXML_LIMIT);
    free(at);
    free(over);
}
END_TEST

START_TEST(test_custom_limits)
{
    wx_parse_limits_t lim = { 3, 10, 16 };
    wx_parser_t *p = wx_parser_new(&lim);
    wx_msg_t m;
    static const char ok[] = "<xml><a><b>0123456789abcdef</b></a></xml>";
    static const char deep[] = "<xml><a><b><c>x</c></b></a></xml>";
    static const char text[] = "<xml><a>0123456789abcdefg</a></xml>";
    static const char count[] = "<xml><a/><a/><a/><a/><a/><a/><a/><a/><a/><a/></xml>";

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(wx_msg_parse(p, &pool, ok, sizeof(ok) - 1, &m), WX_OK);
    ck_assert_int_eq(wx_msg_parse(p, &pool, deep, sizeof(deep) - 1, &m), WX_EXML_LIMIT);
    ck_assert_int_eq(wx_msg_parse(p, &pool, text, sizeof(text) - 1, &m), WX_EXML_LIMIT);
    ck_assert_int_eq(wx_msg_parse(p, &pool, count, sizeof(count) - 1, &m), WX_EXML_LIMIT);
    ck_assert_int_eq(wx_msg_parse(p, &pool, count + 5, sizeof(count) - 1 - 5 - 6, &m),
                     WX_EXML);     /* no root: <a/> is not <xml> */
    wx_parser_free(p);

    /* limits that cannot work are refused */
    lim.max_depth = 0;
    ck_assert_ptr_null(wx_parser_new(&lim));
    lim.max_depth = 8;
    lim.max_text = 0;
    ck_assert_ptr_null(wx_parser_new(&lim));
    wx_parser_free(NULL);
}
END_TEST

START_TEST(test_not_well_formed)
{
    static const char *const docs[] = {
        "",                                                 /* empty */
        "   \n",                                            /* blank */
        "<xml>" HEAD "<Content>this is a te",               /* truncated */
        "<xml>" HEAD "<Content>x</Content>",                /* unclosed root */
        "<xml>" HEAD "<Content>x</Conten></xml>",           /* mismatched */
        "{\"ToUserName\":\"gh_0123456789ab\",\"MsgType\":\"text\"}",   /* JSON */
        "ToUserName=gh_0123456789ab&MsgType=text",          /* form */
        "<xml>" HEAD "</xml><xml>second root</xml>",        /* two roots */
        "<xml>" HEAD "</xml>trailing",                      /* junk after */
        "<xml>" HEAD "<Content>a < b</Content></xml>",      /* bare '<' */
        "<xml>" HEAD "<Content>a & b</Content></xml>",      /* bare '&' */
        "<xml>" HEAD "<Content><![CDATA[x]]</Content></xml>",  /* bad CDATA */
        "<xml>" HEAD "<Content>\xff\xfe utf-8 \xc3\x28</Content></xml>",   /* bad UTF-8 */
        "<xml>" HEAD "<Content>\xc0\xaf</Content></xml>",   /* overlong UTF-8 */
        "<xml>" HEAD "<Content>\xed\xa0\x80</Content></xml>",   /* a surrogate */
        "<xml>" HEAD "<Content>bell \x07</Content></xml>",  /* C0 control */
        "<xml>" HEAD "<Content>&#0;</Content></xml>",       /* NUL reference */
        "<xml>" HEAD "<Content>&#1;</Content></xml>",       /* C0 reference */
    };
    size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        wx_err_t rc = parse_err(docs[i]);

        ck_assert_msg(rc == WX_EXML, "document %zu: %s, want malformed xml", i,
                      wx_strerror(rc));
        ck_assert_str_ne(wx_parser_errmsg(parser), "no error");
    }
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char doc[] = "<xml>" HEAD "<Content>nul \0 byte</Content></xml>";
    wx_msg_t m;

    wx_pool_reset(&pool);
    ck_assert_int_eq(wx_msg_parse(parser, &pool, doc, sizeof(doc) - 1, &m), WX_EXML);
}
END_TEST

START_TEST(test_wrong_root)
{
    ck_assert_int_eq(parse_err("<message>" HEAD "</message>"), WX_EXML);
    ck_assert_int_eq(parse_err("<XML>" HEAD "</XML>"), WX_EXML);
    ck_assert_int_eq(parse_err("<xmlx>" HEAD "</xmlx>"), WX_EXML);
    ck_assert_int_eq(parse_err("<a:xml xmlns:a=\"u\">" HEAD "</a:xml>"), WX_EXML);
}
END_TEST

START_TEST(test_error_is_sticky)
{
    static const char good[] = "<xml>" HEAD "</xml>";
    wx_msg_t m;

    ck_assert_int_eq(wx_parser_begin(parser, &pool, &m), WX_OK);
    ck_assert_int_eq(wx_parser_feed(parser, "<!DOCTYPE xml>", 14, 0), WX_EXML_DTD);
    ck_assert_int_eq(wx_parser_feed(parser, good, sizeof(good) - 1, 0), WX_EXML_DTD);
    ck_assert_int_eq(wx_parser_feed(parser, "", 0, 1), WX_EXML_DTD);
    /* until the next document */
    ck_assert_int_eq(wx_parser_begin(parser, &pool, &m), WX_OK);
    ck_assert_str_eq(wx_parser_errmsg(parser), "no error");
    ck_assert_int_eq(wx_parser_feed(parser, good, sizeof(good) - 1, 1), WX_OK);
}
END_TEST

START_TEST(test_prolog_encoding_ignored)
{
    wx_msg_t m;

    /* UTF-8 bytes under a Latin-1 prolog are read as UTF-8, not re-encoded */
    parse_ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
             "<xml>" HEAD "<Content>你好 é</Content></xml>", &m);
    ck_assert_wx_str_eq(m.content, "你好 é");
    parse_ok("<?xml version=\"1.0\" encoding=\"GB2312\"?><xml>" HEAD
             "<Content>中文</Content></xml>", &m);
    ck_assert_wx_str_eq(m.content, "中文");
    parse_ok("<?xml version=\"1.0\" encoding=\"UTF-16\"?><xml>" HEAD
             "<Content>abc</Content></xml>", &m);
    ck_assert_wx_str_eq(m.content, "abc");
    /* a UTF-8 byte order mark is fine */
    parse_ok("\xef\xbb\xbf<xml>" HEAD "<Content>bom</Content></xml>", &m);
    ck_assert_wx_str_eq(m.content, "bom");
}
END_TEST

START_TEST(test_text_forms)
{
    wx_msg_t m;

    /* CDATA and bare text, split by a comment, several CDATA sections,
     * whitespace kept as it is, attributes ignored */
    parse_ok("<xml>" HEAD "<Content a=\"1\">ab<!-- c -->cd<![CDATA[<e>]]>"
             "<![CDATA[]]]]><![CDATA[>]]> \n</Content>"
             "<MsgId>7</MsgId><Unknown>ignored</Unknown>"
             "<Deeper><Content>not the message's</Content></Deeper></xml>", &m);
    ck_assert_wx_str_eq(m.content, "abcd<e>]]> \n");
    ck_assert_int_eq(m.content.data[m.content.len], '\0');
    ck_assert((const char *)(m.content.data) >= (const char *)(pool.base));
    ck_assert((const char *)(m.content.data) < (const char *)(pool.base + pool.size));
    ck_assert(m.msg_id == 7);
    /* an empty element and a self-closing one are present and empty */
    parse_ok("<xml>" HEAD "<Content></Content><PicUrl/></xml>", &m);
    ck_assert_ptr_nonnull(m.content.data);
    ck_assert_uint_eq(m.content.len, 0);
    ck_assert_ptr_nonnull(m.pic_url.data);
    ck_assert_uint_eq(m.pic_url.len, 0);
    ck_assert_wx_str_null(m.media_id);
}
END_TEST

START_TEST(test_msg_data_id_and_idx)
{
    wx_msg_t m;

    parse_ok("<xml>" HEAD "<Content>comment</Content><MsgId>1234567890123456</MsgId>"
             "<MsgDataId>2247483650</MsgDataId><Idx>2</Idx></xml>", &m);
    ck_assert_wx_str_eq(m.msg_data_id, "2247483650");
    ck_assert_wx_str_eq(m.idx, "2");
}
END_TEST

START_TEST(test_encrypt_envelope)
{
    wx_msg_t m;

    ck_assert_int_eq(parse_str("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                               "<Encrypt><![CDATA[+qdx1OKCy+5JPCBF/Ww70tm0fJGb2Q==]]></Encrypt>"
                               "</xml>", &m), WX_OK);
    ck_assert_wx_str_eq(m.encrypt, "+qdx1OKCy+5JPCBF/Ww70tm0fJGb2Q==");
    /* an envelope alone is not a message */
    ck_assert_int_eq(wx_msg_validate(&m), WX_EMISSING);
}
END_TEST

START_TEST(test_pool_too_small)
{
    wx_pool_t small;
    wx_msg_t m;
    size_t len;
    char *xml = read_msg_fixture("event_masssendjobfinish", &len);

    ck_assert_int_eq(wx_pool_init(&small, 200), WX_OK);
    ck_assert_int_eq(wx_msg_parse(parser, &small, xml, len, &m), WX_ENOMEM);
    ck_assert_uint_le(small.used, small.size);
    wx_pool_free(&small);
    free(xml);
}
END_TEST

/* The shared hostile fixtures: each refused where it should be. */
START_TEST(test_hostile_fixtures)
{
    static const struct {
        const char *name;
        wx_err_t    parse;
        wx_err_t    validate;       /* when parse is WX_OK */
    } cases[] = {
        { "bad_createtime",          WX_OK,         WX_EINVAL },
        { "deep_nesting",            WX_EXML_LIMIT, WX_OK },
        { "doctype_billion_laughs",  WX_EXML_DTD,   WX_OK },
        { "doctype_empty",           WX_EXML_DTD,   WX_OK },
        { "doctype_external_entity", WX_EXML_DTD,   WX_OK },
        { "empty",                   WX_EXML,       WX_OK },
        { "event_without_event",     WX_OK,         WX_EMISSING },
        { "external_dtd",            WX_EXML_DTD,   WX_OK },
        { "invalid_utf8",            WX_EXML,       WX_OK },
        { "many_elements",           WX_EXML_LIMIT, WX_OK },
        { "missing_fields",          WX_OK,         WX_EMISSING },
        { "not_xml",                 WX_EXML,       WX_OK },
        { "nul_byte",                WX_EXML,       WX_OK },
        { "truncated",               WX_EXML,       WX_OK },
        { "two_roots",               WX_EXML,       WX_OK },
        { "wrong_root",              WX_EXML,       WX_OK },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char rel[256];
        size_t len;
        char *xml;
        wx_msg_t m;
        wx_err_t rc;

        snprintf(rel, sizeof(rel), "hostile/%s.xml", cases[i].name);
        xml = fx_read(rel, &len);
        wx_pool_reset(&pool);
        rc = wx_msg_parse(parser, &pool, xml, len, &m);
        ck_assert_msg(rc == cases[i].parse, "%s: parse %s, want %s", cases[i].name,
                      wx_strerror(rc), wx_strerror(cases[i].parse));
        if (rc == WX_OK) {
            rc = wx_msg_validate(&m);
            ck_assert_msg(rc == cases[i].validate, "%s: validate %s, want %s",
                          cases[i].name, wx_strerror(rc), wx_strerror(cases[i].validate));
        }
        free(xml);
    }
}
END_TEST

/* ---- wx_msg_validate ------------------------------------------------- */

static wx_err_t validate_xml(const char *xml, wx_msg_t *m)
{
    wx_err_t rc = parse_str(xml, m);

    ck_assert_msg(rc == WX_OK, "parse: %s", wx_parser_errmsg(parser));
    return wx_msg_validate(m);
}

#define T_TO    "<ToUserName>gh_0123456789ab</ToUserName>"
#define T_FROM  "<FromUserName>oUserOpenId0123456789abcdef</FromUserName>"
#define T_TIME  "<CreateTime>1348831860</CreateTime>"
#define T_TYPE  "<MsgType>text</MsgType>"

START_TEST(test_validate_missing)
{
    wx_msg_t m;

    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME T_TYPE "</xml>", &m), WX_OK);
    ck_assert_int_eq(validate_xml("<xml>" T_FROM T_TIME T_TYPE "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_TIME T_TYPE "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TYPE "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml></xml>", &m), WX_EMISSING);
    /* empty counts as missing */
    ck_assert_int_eq(validate_xml("<xml><ToUserName></ToUserName>" T_FROM T_TIME T_TYPE
                                  "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO "<FromUserName><![CDATA[]]></FromUserName>"
                                  T_TIME T_TYPE "</xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM "<CreateTime/>" T_TYPE "</xml>", &m),
                     WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "<MsgType></MsgType></xml>", &m),
                     WX_EMISSING);
    /* the header elements count only directly under the root */
    ck_assert_int_eq(validate_xml("<xml><Wrap>" T_TO "</Wrap>" T_FROM T_TIME T_TYPE "</xml>",
                                  &m), WX_EMISSING);
}
END_TEST

START_TEST(test_validate_event)
{
    wx_msg_t m;

    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "<MsgType>event</MsgType></xml>",
                                  &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "<MsgType>event</MsgType>"
                                  "<Event></Event></xml>", &m), WX_EMISSING);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "<MsgType>event</MsgType>"
                                  "<Event>subscribe</Event></xml>", &m), WX_OK);
    ck_assert_int_eq(m.type, WX_MSG_EVENT);
    ck_assert_int_eq(m.event, WX_EV_SUBSCRIBE);
    /* a normal message has no event, even with an Event element */
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME T_TYPE "<Event>CLICK</Event>"
                                  "</xml>", &m), WX_OK);
    ck_assert_int_eq(m.type, WX_MSG_TEXT);
    ck_assert_int_eq(m.event, WX_EV_NONE);
}
END_TEST

START_TEST(test_validate_numbers)
{
    static const char *const bad_time[] = {
        "yesterday", "-1", "+1", "1.5", " 1348831860", "1348831860 ", "0x10",
        "99999999999999999999999",
    };
    static const char *const bad_id[] = {
        "abc", "-1", "12 34", "1e5", "", "18446744073709551616", "123456789012345678901",
    };
    char doc[512];
    wx_msg_t m;
    size_t i;

    for (i = 0; i < sizeof(bad_time) / sizeof(bad_time[0]); i++) {
        snprintf(doc, sizeof(doc), "<xml>" T_TO T_FROM "<CreateTime>%s</CreateTime>"
                 T_TYPE "</xml>", bad_time[i]);
        ck_assert_msg(validate_xml(doc, &m) == WX_EINVAL, "CreateTime \"%s\" accepted",
                      bad_time[i]);
    }
    for (i = 0; i < sizeof(bad_id) / sizeof(bad_id[0]); i++) {
        snprintf(doc, sizeof(doc), "<xml>" T_TO T_FROM T_TIME T_TYPE "<MsgId>%s</MsgId></xml>",
                 bad_id[i]);
        ck_assert_msg(validate_xml(doc, &m) == WX_EINVAL, "MsgId \"%s\" accepted", bad_id[i]);
    }
    /* MsgID (JOBFINISH events) is checked the same way */
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME "<MsgType>event</MsgType>"
                                  "<Event>TEMPLATESENDJOBFINISH</Event><MsgID>x1</MsgID></xml>",
                                  &m), WX_EINVAL);

    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM "<CreateTime>0</CreateTime>" T_TYPE
                                  "</xml>", &m), WX_OK);
    ck_assert(m.create_time == 0);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM "<CreateTime>123456789012345678</CreateTime>"
                                  T_TYPE "</xml>", &m), WX_OK);
    ck_assert(m.create_time == 123456789012345678LL);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME T_TYPE
                                  "<MsgId>18446744073709551615</MsgId></xml>", &m), WX_OK);
    ck_assert(m.has_msg_id);
    ck_assert(m.msg_id == 18446744073709551615ULL);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME T_TYPE
                                  "<MsgId><![CDATA[6054768590064713728]]></MsgId></xml>", &m),
                     WX_OK);
    ck_assert(m.msg_id == 6054768590064713728ULL);
    ck_assert_int_eq(validate_xml("<xml>" T_TO T_FROM T_TIME T_TYPE "</xml>", &m), WX_OK);
    ck_assert(!m.has_msg_id);
    ck_assert(m.msg_id == 0);
}
END_TEST

START_TEST(test_validate_event_case)
{
    static const struct {
        const char *name;
        wx_event_t  ev;
    } cases[] = {
        { "CLICK", WX_EV_CLICK }, { "click", WX_EV_CLICK }, { "Click", WX_EV_CLICK },
        { "subscribe", WX_EV_SUBSCRIBE }, { "SUBSCRIBE", WX_EV_SUBSCRIBE },
        { "scan", WX_EV_SCAN }, { "Location", WX_EV_LOCATION }, { "view", WX_EV_VIEW },
        { "masssendjobfinish", WX_EV_MASSSENDJOBFINISH },
        { "Scancode_Push", WX_EV_SCANCODE_PUSH },
        { "wificonnected", WX_EV_WIFICONNECTED },
        { "clic", WX_EV_UNKNOWN }, { "CLICKS", WX_EV_UNKNOWN }, { " CLICK", WX_EV_UNKNOWN },
        { "unknown", WX_EV_UNKNOWN },
    };
    char doc[512];
    wx_msg_t m;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(doc, sizeof(doc), "<xml>" T_TO T_FROM T_TIME "<MsgType>event</MsgType>"
                 "<Event><![CDATA[%s]]></Event></xml>", cases[i].name);
        ck_assert_int_eq(validate_xml(doc, &m), WX_OK);
        ck_assert_msg(m.event == cases[i].ev, "Event \"%s\": %s", cases[i].name,
                      wx_event_name(m.event));
        /* carried by name, as received */
        ck_assert_wx_str_eq(m.event_name, cases[i].name);
    }
}
END_TEST

START_TEST(test_names)
{
    int t, e;

    for (t = WX_MSG_UNKNOWN + 1; t < WX_MSG__MAX; t++)
        ck_assert_int_eq(wx_msg_type_lookup(wx_str_c(wx_msg_type_name((wx_msg_type_t)t))), t);
    ck_assert_str_eq(wx_msg_type_name(WX_MSG_UNKNOWN), "unknown");
    ck_assert_str_eq(wx_msg_type_name(WX_MSG_SHORTVIDEO), "shortvideo");
    ck_assert_str_eq(wx_msg_type_name(WX_MSG__MAX), "unknown");
    ck_assert_int_eq(wx_msg_type_lookup(WX_STR("some_new_type")), WX_MSG_UNKNOWN);
    ck_assert_int_eq(wx_msg_type_lookup(WX_STR("")), WX_MSG_UNKNOWN);
    ck_assert_int_eq(wx_msg_type_lookup(WX_STR("unknown")), WX_MSG_UNKNOWN);
    ck_assert_int_eq(wx_msg_type_lookup(WX_STR("tex")), WX_MSG_UNKNOWN);

    for (e = WX_EV_SUBSCRIBE; e < WX_EV__MAX; e++)
        ck_assert_msg((int)wx_event_lookup(wx_str_c(wx_event_name((wx_event_t)e))) == e,
                      "event %d (%s) does not round-trip", e, wx_event_name((wx_event_t)e));
    ck_assert_str_eq(wx_event_name(WX_EV_NONE), "");
    ck_assert_str_eq(wx_event_name(WX_EV_CLICK), "CLICK");
    ck_assert_str_eq(wx_event_name(WX_EV_SUBSCRIBE), "subscribe");
    ck_assert_str_eq(wx_event_name(WX_EV_SUBSCRIBE_MSG_POPUP), "subscribe_msg_popup_event");
    ck_assert_str_eq(wx_event_name(WX_EV__MAX), "unknown");
    ck_assert_int_eq(wx_event_lookup(WX_NULL_STR), WX_EV_NONE);
    ck_assert_int_eq(wx_event_lookup(WX_STR("some_new_event")), WX_EV_UNKNOWN);
}
END_TEST

START_TEST(test_items_api)
{
    wx_msg_t m;
    const wx_msg_item_t *it;

    parse_ok("<xml>" HEAD "</xml>", &m);
    ck_assert_ptr_null(m.items);
    ck_assert_uint_eq(m.n_items, 0);
    ck_assert_ptr_null(wx_msg_next_item(&m, NULL, "PicList"));

    /* items of several lists, interleaved, each list in document order */
    parse_ok("<xml>" HEAD "<A><PicList><item><k>1</k><k>dup</k><j>x</j></item></PicList>"
             "<fail_idx>9</fail_idx></A>"
             "<B><PicList><item><k>2</k></item></PicList></B></xml>", &m);
    ck_assert_uint_eq(m.n_items, 3);
    it = wx_msg_next_item(&m, NULL, "PicList");
    ck_assert_ptr_nonnull(it);
    ck_assert_wx_str_eq(it->owner, "A");
    /* the first field of that name */
    ck_assert_wx_str_eq(wx_msg_item_get(it, "k"), "1");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "j"), "x");
    ck_assert_wx_str_null(wx_msg_item_get(it, "K"));
    it = wx_msg_next_item(&m, it, "PicList");
    ck_assert_ptr_nonnull(it);
    ck_assert_wx_str_eq(it->owner, "B");
    ck_assert_wx_str_eq(wx_msg_item_get(it, "k"), "2");
    ck_assert_ptr_null(wx_msg_next_item(&m, it, "PicList"));
    it = wx_msg_next_item(&m, NULL, "fail_idx");
    ck_assert_ptr_nonnull(it);
    ck_assert_wx_str_eq(it->value, "9");
    ck_assert_wx_str_eq(it->owner, "A");
    ck_assert_ptr_null(wx_msg_next_item(&m, NULL, "ResultList"));
}
END_TEST

Suite *msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tf = tcase_create("fixtures");
    TCase *ts = tcase_create("stream");
    TCase *th = tcase_create("hostile");
    TCase *tv = tcase_create("validate");

    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_loop_test(tf, test_fixture, 0, N_FIXTURES);
    tcase_add_test(tf, test_fixture_dir_complete);
    tcase_add_test(tf, test_text_forms);
    tcase_add_test(tf, test_msg_data_id_and_idx);
    tcase_add_test(tf, test_encrypt_envelope);
    tcase_add_test(tf, test_items_api);
    suite_add_tcase(s, tf);

    tcase_add_checked_fixture(ts, setup, teardown);
    tcase_add_loop_test(ts, test_byte_at_a_time, 0, N_FIXTURES);
    tcase_add_loop_test(ts, test_parser_buffer, 0, N_FIXTURES);
    tcase_add_test(ts, test_last_chunk_with_data);
    tcase_add_test(ts, test_reuse_1000);
    tcase_set_timeout(ts, 60);
    suite_add_tcase(s, ts);

    tcase_add_checked_fixture(th, setup, teardown);
    tcase_add_test(th, test_doctype_refused);
    tcase_add_test(th, test_billion_laughs_refused);
    tcase_add_test(th, test_external_entity_refused);
    tcase_add_test(th, test_entities_without_dtd);
    tcase_add_test(th, test_depth_limit);
    tcase_add_test(th, test_element_limit);
    tcase_add_test(th, test_text_limit);
    tcase_add_test(th, test_custom_limits);
    tcase_add_test(th, test_not_well_formed);
    tcase_add_test(th, test_nul_byte);
    tcase_add_test(th, test_wrong_root);
    tcase_add_test(th, test_error_is_sticky);
    tcase_add_test(th, test_prolog_encoding_ignored);
    tcase_add_test(th, test_pool_too_small);
    tcase_add_test(th, test_hostile_fixtures);
    suite_add_tcase(s, th);

    tcase_add_checked_fixture(tv, setup, teardown);
    tcase_add_test(tv, test_validate_missing);
    tcase_add_test(tv, test_validate_event);
    tcase_add_test(tv, test_validate_numbers);
    tcase_add_test(tv, test_validate_event_case);
    tcase_add_test(tv, test_names);
    suite_add_tcase(s, tv);
    return s;
}
