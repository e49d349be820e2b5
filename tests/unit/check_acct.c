/* check_acct.c - the accounts of a gateway: the account a request path
 * names, the lookup by name, the retry table's namespace and the routes an
 * account is served by (wxfcgi/acct.h, wxfcgi/route.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/config.h"
#include "wx/core/log.h"
#include "wxfcgi/acct.h"
#include "wxfcgi/dedup.h"
#include "wxfcgi/gateway.h"
#include "wx/proto/sign.h"
#include "wxfcgi/route.h"

static const char accounts_text[] =
    "[wx]\n"
    "token = testtoken\n"
    "appid = wx0123456789abcdef\n"
    "[wxfcgi]\n"
    "dedup_slots = 0\n"
    "[account.shop]\n"
    "token = shoptoken\n"
    "original_id = gh_0123456789ab\n"
    "[account.news-2]\n"
    "token = newstoken\n"
    "appid = wxfedcba9876543210\n"
    "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n"
    "mode = safe\n"
    "[route.shop_hi]\n"
    "account = shop\n"
    "content = hi\n"
    "action = success\n"
    "[route.both]\n"
    "account = default news-2\n"
    "content = hi\n"
    "action = echo\n";

static char cfg_path[64];
static wx_config_t *cfg;

static wx_config_t *load(const char *text, char *err, size_t errlen)
{
    strcpy(cfg_path, "/tmp/wx-ut-acct.XXXXXX");
    write_temp(cfg_path, text);
    return wx_config_load(&wxfcgi_spec, cfg_path, err, errlen);
}

static void setup(void)
{
    char err[512];

    wx_log_threshold = WX_LOG__MAX;
    cfg = load(accounts_text, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
}

static void teardown(void)
{
    wx_config_free(cfg);
    unlink(cfg_path);
}

/* The name wx_acct_path() finds in 'path', "" for [wx], or "!" refused. */
static const char *path_name(const char *path)
{
    static char out[64];
    wx_str_t name;

    if (wx_acct_path(wx_str_c(path), &name) != 0)
        return "!";
    snprintf(out, sizeof(out), "%.*s", (int)name.len, name.data ? name.data : "");
    return out;
}

START_TEST(test_path)
{
    ck_assert_str_eq(path_name(""), "");
    ck_assert_str_eq(path_name("/wx"), "");
    ck_assert_str_eq(path_name("/wx/"), "");
    ck_assert_str_eq(path_name("/wxy"), "");
    ck_assert_str_eq(path_name("/wx/shop"), "shop");
    ck_assert_str_eq(path_name("/wx/shop/"), "shop");
    ck_assert_str_eq(path_name("/api/wx/news-2"), "news-2");
    ck_assert_str_eq(path_name("/wx/a_b-C9"), "a_b-C9");
    /* what follows /wx/ is one name or nothing */
    ck_assert_str_eq(path_name("/wx/shop/x"), "!");
    ck_assert_str_eq(path_name("/wx/shop//"), "!");
    ck_assert_str_eq(path_name("/wx/a.b"), "!");
    ck_assert_str_eq(path_name("/wx/%73hop"), "!");
    ck_assert_str_eq(path_name("/wx/0123456789012345678901234567890123"), "!");
    ck_assert_str_eq(path_name("/wx/01234567890123456789012345678901"),
                     "01234567890123456789012345678901");
}
END_TEST

START_TEST(test_lookup)
{
    const wxfcgi_conf_t *c = wxfcgi_conf(cfg);
    wx_accts_t t;
    const wx_acct_t *a;
    char err[256];

    ck_assert_int_eq(wx_accts_init(&t, c, err, sizeof(err)), 0);
    ck_assert_uint_eq(t.n, 3);
    a = wx_accts_for_path(&t, WX_STR("/wx"));
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->name, "default");
    ck_assert_uint_eq(a->index, 0);
    ck_assert_uint_eq(a->n_keys, 0);
    a = wx_accts_for_path(&t, WX_STR("/wx/shop"));
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->index, 1);
    ck_assert(wx_str_eq(a->token, "shoptoken"));
    ck_assert(wx_str_eq(a->original_id, "gh_0123456789ab"));
    a = wx_accts_for_path(&t, WX_STR("/wx/news-2"));
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->index, 2);
    ck_assert_int_eq(a->wx->mode, WX_MODE_SAFE);
    ck_assert_uint_eq(a->n_keys, 1);
    ck_assert_ptr_null(a->original_id.data);
    /* unknown, a prefix of a name, a name with more after it */
    ck_assert_ptr_null(wx_accts_for_path(&t, WX_STR("/wx/nope")));
    ck_assert_ptr_null(wx_accts_for_path(&t, WX_STR("/wx/sho")));
    ck_assert_ptr_null(wx_accts_for_path(&t, WX_STR("/wx/shopx")));
    ck_assert_ptr_null(wx_accts_for_path(&t, WX_STR("/wx/default")));
    ck_assert_ptr_null(wx_accts_for_path(&t, WX_STR("/wx/shop/x")));

    ck_assert_int_eq(wx_accts_index(c, "default", 7), 0);
    ck_assert_int_eq(wx_accts_index(c, "shop", 4), 1);
    ck_assert_int_eq(wx_accts_index(c, "news-2 x", 6), 2);
    ck_assert_int_eq(wx_accts_index(c, "news", 4), -1);
    ck_assert_int_eq(wx_accts_index(c, "defaults", 8), -1);
    wx_accts_free(&t);
}
END_TEST

START_TEST(test_dedup_namespace)
{
    const wxfcgi_conf_t *c = wxfcgi_conf(cfg);
    char ns[WX_ACCT_NS_MAX];
    unsigned char k0[20], k1[20], k2[20], again[20];
    wx_msg_t m;

    wx_acct_ns(c, 0, ns, sizeof(ns));
    ck_assert_str_eq(ns, "");
    wx_acct_ns(c, 1, ns, sizeof(ns));
    ck_assert_str_eq(ns, "shop:");
    wx_acct_ns(c, 2, ns, sizeof(ns));
    ck_assert_str_eq(ns, "news-2:wxfedcba9876543210");

    memset(&m, 0, sizeof(m));
    m.type = WX_MSG_TEXT;
    m.from_user = WX_STR("oUserOpenId0123456789abcdef");
    m.msg_id_s = WX_STR("1234567890123456");
    m.has_msg_id = 1;
    /* the same MsgId of the same openid: one message per account */
    ck_assert_int_eq(wx_dedup_key(&m, WX_NULL_STR, k0), WX_OK);
    ck_assert_int_eq(wx_dedup_key(&m, WX_STR("shop:"), k1), WX_OK);
    ck_assert_int_eq(wx_dedup_key(&m, WX_STR("shop:wx0123456789abcdef"), k2), WX_OK);
    ck_assert(memcmp(k0, k1, 20) != 0);
    ck_assert(memcmp(k1, k2, 20) != 0);
    ck_assert(memcmp(k0, k2, 20) != 0);
    ck_assert_int_eq(wx_dedup_key(&m, WX_STR("shop:"), again), WX_OK);
    ck_assert(memcmp(k1, again, 20) == 0);
}
END_TEST

START_TEST(test_routes_per_account)
{
    char err[512];
    wx_router_t *r = wx_router_new(wxfcgi_conf(cfg), err, sizeof(err));
    wx_msg_t m;

    ck_assert_msg(r != NULL, "%s", err);
    memset(&m, 0, sizeof(m));
    m.type = WX_MSG_TEXT;
    m.msg_type = WX_STR("text");
    m.content = WX_STR("hi");
    ck_assert_str_eq(wx_router_match(r, &m), "route.both");
    ck_assert_str_eq(wx_router_match_account(r, &m, 0), "route.both");
    ck_assert_str_eq(wx_router_match_account(r, &m, 1), "route.shop_hi");
    ck_assert_str_eq(wx_router_match_account(r, &m, 2), "route.both");
    m.content = WX_STR("bye");
    ck_assert_str_eq(wx_router_match_account(r, &m, 1), "default");
    wx_router_free(r);
}
END_TEST

/* Load accounts_text + 'extra' and build its router: the error, or "". */
static const char *refused(const char *extra)
{
    static char err[512];
    char text[2048];
    wx_config_t *c;
    wx_router_t *r;

    snprintf(text, sizeof(text), "%s%s", accounts_text, extra);
    err[0] = '\0';
    c = load(text, err, sizeof(err));
    unlink(cfg_path);
    if (c == NULL)
        return err;
    r = wx_router_new(wxfcgi_conf(c), err, sizeof(err));
    wx_router_free(r);
    wx_config_free(c);
    return r ? "" : err;
}

START_TEST(test_refused)
{
    ck_assert_str_eq(refused(""), "");
    ck_assert_ptr_nonnull(strstr(refused("[route.x]\naccount = shop zz\naction = success\n"),
                                 "[route.x] account 'zz' is not an account"));
    ck_assert_ptr_nonnull(strstr(refused("[account.x]\nappid = wx0123456789abcdef\n"),
                                 "[account.x] token is missing"));
    ck_assert_ptr_nonnull(strstr(refused("[account.default]\ntoken = abcdef\n"),
                                 "the name default is [wx]'s"));
    /* a route with only an account key is no catch-all: others may follow */
    ck_assert_str_eq(refused("[route.all_shop]\npriority = 1\naccount = shop\n"
                             "action = success\n"), "");
}
END_TEST

/* ---- the gateway: the account of the path verifies and answers ---------- */

typedef struct {
    const char *data;
    size_t      len, off;
} acct_body_t;

static long acct_read(void *ctx, char *buf, size_t len)
{
    acct_body_t *b = ctx;
    size_t n = b->len - b->off < len ? b->len - b->off : len;

    memcpy(buf, b->data + b->off, n);
    b->off += n;
    return (long)n;
}

/* POST 'to' (a ToUserName) as a text to 'path', signed with 'token'. */
static void push(wx_gw_t *gw, const char *path, const char *token, const char *to,
                 wx_response_t *resp)
{
    static char xml[512], q[256];
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[3] = { wx_str_c(token), WX_STR("1714112445"), WX_STR("415670741") };
    acct_body_t b;
    wx_request_t req;

    snprintf(xml, sizeof(xml), "<xml><ToUserName><![CDATA[%s]]></ToUserName>"
             "<FromUserName><![CDATA[oUserOpenId0123456789abcdef]]></FromUserName>"
             "<CreateTime>1714112440</CreateTime><MsgType><![CDATA[text]]></MsgType>"
             "<Content><![CDATA[hi]]></Content><MsgId>1234567890123456</MsgId></xml>", to);
    ck_assert_int_eq(wx_sign(parts, 3, hex), WX_OK);
    snprintf(q, sizeof(q), "signature=%s&timestamp=1714112445&nonce=415670741", hex);
    b.data = xml;
    b.len = strlen(xml);
    b.off = 0;
    memset(&req, 0, sizeof(req));
    req.method = WX_STR("POST");
    req.query = wx_str_c(q);
    req.path = wx_str_c(path);
    req.content_length = (long long)b.len;
    req.read = acct_read;
    req.read_ctx = &b;
    wx_gw_handle(gw, &req, (time_t)1714112445, resp);
}

START_TEST(test_gateway)
{
    char err[256];
    wx_gw_t *gw = wx_gw_new(wxfcgi_conf(cfg), err, sizeof(err));
    wx_response_t resp;

    ck_assert_msg(gw != NULL, "%s", err);
    push(gw, "/wx/shop", "shoptoken", "gh_0123456789ab", &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.account, "shop");
    ck_assert_str_eq(resp.result, "success");       /* route.shop_hi */
    wx_gw_done(gw);
    push(gw, "", "testtoken", "gh_0123456789ab", &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.account, "default");
    ck_assert_str_eq(resp.result, "text");          /* route.both: echo */
    wx_gw_done(gw);
    /* another account's token */
    push(gw, "/wx/shop", "testtoken", "gh_0123456789ab", &resp);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_int_eq(resp.err, WX_ESIGNATURE);
    wx_gw_done(gw);
    push(gw, "/wx", "shoptoken", "gh_0123456789ab", &resp);
    ck_assert_int_eq(resp.status, 403);
    wx_gw_done(gw);
    /* no such account */
    push(gw, "/wx/nope", "shoptoken", "gh_0123456789ab", &resp);
    ck_assert_int_eq(resp.status, 404);
    ck_assert_str_eq(resp.reason, "unknown_account");
    ck_assert_ptr_null(resp.account);
    wx_gw_done(gw);
    /* shop checks ToUserName; news-2 is safe: plaintext refused */
    push(gw, "/wx/shop", "shoptoken", "gh_somebodyelse", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_str_eq(resp.reason, "original_id");
    wx_gw_done(gw);
    push(gw, "/wx/news-2", "newstoken", "gh_somebodyelse", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(resp.err, WX_EPLAINTEXT);
    wx_gw_done(gw);
    wx_gw_free(gw);
}
END_TEST

Suite *acct_suite(void)
{
    Suite *s = suite_create("acct");
    TCase *tc = tcase_create("acct");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_path);
    tcase_add_test(tc, test_lookup);
    tcase_add_test(tc, test_dedup_namespace);
    tcase_add_test(tc, test_routes_per_account);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_gateway);
    suite_add_tcase(s, tc);
    return s;
}
