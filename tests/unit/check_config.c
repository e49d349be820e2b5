/* check_config.c - the INI file, its defaults and its refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/config.h"
#include "wx/core/err.h"
#include "wxfcgi/conf.h"
#include "wxproxy/wxproxy.h"
#include "wxtoken/wxtoken.h"
#include "wxsim/wxsim.h"
#include "wxctl/wxctl.h"

/* wxfcgi's sections, and those of wxproxy and wxtoken besides: the loader
 * against every kind of section (one, named, pairs, part of another's). */
typedef struct test_conf {
    wxfcgi_conf_t       f;
    wx_conf_list_t      keys;
    wx_token_conf_t     where;
    wxtoken_section_t   tok;
} test_conf_t;

static wx_config_section_t tok_section;     /* wxtoken's, but for its validator */
/* wxfcgi's sections and three more, with room to grow */
static wx_config_use_t test_uses[16];
static wx_config_spec_t test_spec;

static char cfg_path[64];
static char extra_path[64];
static char err[512];
static wx_config_t *cfg;

#define C           ((const test_conf_t *)(const void *)cfg)
#define CLICK(i)    ((const wx_conf_pair_t *)C->f.echo.clicks.v + (i))
#define PXKEY(i)    ((const wx_proxy_key_t *)C->keys.v + (i))

static void make_spec(void)
{
    size_t i;

    /* The test's appsecret is a word, not an AppSecret: wxtoken's own
     * validator is tested through wxtoken. */
    tok_section = wxtoken_section;
    tok_section.validate = NULL;
    ck_assert_uint_le(wxfcgi_spec.n_uses + 3, sizeof(test_uses) / sizeof(test_uses[0]));
    for (i = 0; i < wxfcgi_spec.n_uses; i++)
        test_uses[i] = wxfcgi_spec.uses[i];
    test_uses[i++] = (wx_config_use_t){ &px_key_section, offsetof(test_conf_t, keys) };
    test_uses[i++] = (wx_config_use_t){ &wx_token_conf_section, offsetof(test_conf_t, where) };
    test_uses[i++] = (wx_config_use_t){ &tok_section, offsetof(test_conf_t, tok) };
    test_spec = (wx_config_spec_t){ "test", sizeof(test_conf_t), test_uses, i,
                                    wxfcgi_spec.validate };
}

static void setup(void)
{
    /* the environment must not decide the tests */
    unsetenv("WX_TOKEN");
    unsetenv("WX_ENCODING_AES_KEY");
    cfg_path[0] = extra_path[0] = '\0';
    make_spec();
    cfg = NULL;
    err[0] = '\0';
}

static void teardown(void)
{
    wx_config_free(cfg);
    cfg = NULL;
    if (cfg_path[0])
        unlink(cfg_path);
    if (extra_path[0])
        unlink(extra_path);
    unsetenv("WX_TOKEN");
    unsetenv("WX_ENCODING_AES_KEY");
}

/* 'text' in a new file, loaded as 'spec' reads it. */
static wx_config_t *load_as(const wx_config_spec_t *spec, const char *text)
{
    if (cfg_path[0])
        unlink(cfg_path);
    strcpy(cfg_path, "/tmp/wx-ut-cfg.XXXXXX");
    write_temp(cfg_path, text);
    err[0] = '\0';
    return wx_config_load(spec, cfg_path, err, sizeof(err));
}

static wx_err_t load(const char *text)
{
    if (cfg_path[0])
        unlink(cfg_path);
    strcpy(cfg_path, "/tmp/wx-ut-cfg.XXXXXX");
    write_temp(cfg_path, text);
    wx_config_free(cfg);
    err[0] = '\0';
    cfg = wx_config_load(&test_spec, cfg_path, err, sizeof(err));
    return cfg ? WX_OK : WX_ECONFIG;
}

static void load_ok(const char *text)
{
    wx_err_t rc = load(text);

    ck_assert_msg(rc == WX_OK, "config refused: %s", err);
}

/* Refused, with a message that names 'word' (a key or section) and the file. */
static void load_bad(const char *text, const char *word)
{
    wx_err_t rc = load(text);

    ck_assert_msg(rc == WX_ECONFIG, "config accepted, want a refusal naming %s", word);
    ck_assert_msg(strstr(err, word) != NULL, "message \"%s\" does not name %s", err, word);
    ck_assert_msg(strstr(err, cfg_path) != NULL, "message \"%s\" does not name the file", err);
    /* nothing to free is left behind */
    ck_assert_ptr_null(cfg);
}

START_TEST(test_minimal_defaults)
{
    load_ok("[wx]\ntoken = testtoken\n");
    ck_assert_str_eq(C->f.wx.token, "testtoken");
    ck_assert_str_eq(C->f.base.path, cfg_path);
    ck_assert_ptr_null(C->f.wx.appid);
    ck_assert_ptr_null(C->f.wx.encoding_aes_key);
    ck_assert_int_eq(C->f.wx.mode, WX_MODE_PLAIN);
    ck_assert_str_eq(C->f.fcgi.srv.listen, "unix:/run/wxfcgi/wxfcgi.sock");
    ck_assert_uint_eq(C->f.fcgi.srv.socket_mode, 0660);
    ck_assert_uint_eq(C->f.fcgi.srv.workers, 4);
    ck_assert_uint_eq(C->f.fcgi.max_body, 65536);
    ck_assert_uint_eq(C->f.fcgi.timestamp_window, 300);
    ck_assert_uint_eq(C->f.fcgi.srv.max_requests, 0);
    ck_assert_uint_eq(C->f.fcgi.srv.shutdown_timeout, 10);
    ck_assert_str_eq(C->f.fcgi.srv.log, "stderr");
    ck_assert_int_eq(C->f.fcgi.srv.log_level, WX_LOG_INFO);
    ck_assert_str_eq(C->f.fcgi.handler, "echo");
    ck_assert_ptr_null(C->f.echo.welcome);
    ck_assert_uint_eq(C->f.echo.clicks.n, 0);
    ck_assert_str_eq(wx_mode_name(C->f.wx.mode), "plain");
}
END_TEST

START_TEST(test_full_file)
{
    load_ok("; a comment\n"
            "# another\n"
            "[wx]\n"
            "token = Abc123xyz\n"
            "appid = wx2c2769f8efd9abc2\n"
            "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n"
            "mode = safe\n"
            "\n"
            "[wxfcgi]\n"
            "listen = tcp:127.0.0.1:9000\n"
            "socket_mode = 0600\n"
            "workers = 256\n"
            "max_body = 1M\n"
            "timestamp_window = 0\n"
            "max_requests = 10000\n"
            "shutdown_timeout = 30\n"
            "log = /var/log/wxfcgi.log\n"
            "log_level = debug\n"
            "handler = echo\n"
            "[redis]\n"
            "anything = goes here\n"
            "[wxproxy.key.ops]\n"
            "key = 0123456789abcdefXYZ\n"
            "paths = /cgi-bin/menu/* /cgi-bin/message/custom/send\n"
            "rate = 5\n"
            "[wxtoken]\n"
            "grant = token\n"
            "appsecret = s3cret\n"
            "[echo]\n"
            "welcome = Hi!\n");
    ck_assert_str_eq(C->f.wx.token, "Abc123xyz");
    ck_assert_str_eq(C->f.wx.appid, "wx2c2769f8efd9abc2");
    ck_assert_str_eq(C->f.wx.encoding_aes_key, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    ck_assert_int_eq(C->f.wx.mode, WX_MODE_SAFE);
    ck_assert_str_eq(C->f.fcgi.srv.listen, "tcp:127.0.0.1:9000");
    ck_assert_str_eq(C->tok.grant, "token");
    ck_assert_str_eq(C->tok.appsecret, "s3cret");
    ck_assert_uint_eq(C->tok.refresh_margin, 600);
    ck_assert_uint_eq(C->keys.n, 1);
    ck_assert_str_eq(PXKEY(0)->name, "ops");
    ck_assert_str_eq(PXKEY(0)->key, "0123456789abcdefXYZ");
    ck_assert_str_eq(PXKEY(0)->paths, "/cgi-bin/menu/* /cgi-bin/message/custom/send");
    ck_assert_uint_eq(PXKEY(0)->rate, 5);
    ck_assert_uint_eq(PXKEY(0)->burst, 0);
    ck_assert_uint_eq(C->f.fcgi.srv.socket_mode, 0600);
    ck_assert_uint_eq(C->f.fcgi.srv.workers, 256);
    ck_assert_uint_eq(C->f.fcgi.max_body, 1048576);
    ck_assert_uint_eq(C->f.fcgi.timestamp_window, 0);
    ck_assert_uint_eq(C->f.fcgi.srv.max_requests, 10000);
    ck_assert_uint_eq(C->f.fcgi.srv.shutdown_timeout, 30);
    ck_assert_str_eq(C->f.fcgi.srv.log, "/var/log/wxfcgi.log");
    ck_assert_int_eq(C->f.fcgi.srv.log_level, WX_LOG_DEBUG);
    ck_assert_str_eq(C->f.echo.welcome, "Hi!");
    ck_assert_str_eq(wx_mode_name(WX_MODE_COMPAT), "compat");
    ck_assert_str_eq(wx_mode_name(WX_MODE_SAFE), "safe");
}
END_TEST

START_TEST(test_token_missing)
{
    load_bad("[wxfcgi]\nworkers = 2\n", "token");
    load_bad("[wx]\ntoken =\n", "token");
    load_bad("", "token");
}
END_TEST

START_TEST(test_token_bad)
{
    load_bad("[wx]\ntoken = ab\n", "token");
    load_bad("[wx]\ntoken = abc-def\n", "token");
    load_bad("[wx]\ntoken = abc def\n", "token");
    load_bad("[wx]\ntoken = tok_en\n", "token");
    load_bad("[wx]\ntoken = 0123456789012345678901234567890123\n", "token");  /* 34 */
    load_bad("[wx]\ntoken = t\xc3\xa9st\n", "token");
    /* the bounds themselves are fine */
    load_ok("[wx]\ntoken = abc\n");
    load_ok("[wx]\ntoken = 01234567890123456789012345678901\n");           /* 32 */
}
END_TEST

START_TEST(test_unknown_key)
{
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkerz = 3\n", "workerz");
    /* with the line */
    ck_assert_ptr_nonnull(strstr(err, ":4:"));
    load_bad("[wx]\ntoken = testtoken\ntokn = x\n", "tokn");
    load_bad("[wx]\ntoken = testtoken\n[echo]\nwelcom = hi\n", "welcom");
    /* a *_file key for something that is not a secret */
    load_bad("[wx]\ntoken = testtoken\nappid_file = x\n", "appid_file");
}
END_TEST

START_TEST(test_unknown_section)
{
    load_bad("[wx]\ntoken = testtoken\n[bogus]\nkey = 1\n", "bogus");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi2]\nworkers = 1\n", "wxfcgi2");
    /* a key before any section */
    ck_assert_int_eq(load("token = testtoken\n"), WX_ECONFIG);
}
END_TEST

START_TEST(test_workers_range)
{
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 0\n", "workers");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 257\n", "workers");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = -1\n", "workers");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = four\n", "workers");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 4k\n", "workers");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 99999999999999999999999\n",
             "workers");
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 1\n");
    ck_assert_uint_eq(C->f.fcgi.srv.workers, 1);
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 256\n");
    ck_assert_uint_eq(C->f.fcgi.srv.workers, 256);
}
END_TEST

START_TEST(test_given_twice)
{
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nworkers = 2\nworkers = 3\n", "workers");
}
END_TEST

START_TEST(test_max_body)
{
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 64k\n");
    ck_assert_uint_eq(C->f.fcgi.max_body, 65536);
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 64K\n");
    ck_assert_uint_eq(C->f.fcgi.max_body, 65536);
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 2m\n");
    ck_assert_uint_eq(C->f.fcgi.max_body, 2097152);
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 32768\n");
    ck_assert_uint_eq(C->f.fcgi.max_body, 32768);
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 1024\n");
    ck_assert_uint_eq(C->f.fcgi.max_body, 1024);
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 1023\n", "max_body");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 17m\n", "max_body");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = 64x\n", "max_body");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nmax_body = k\n", "max_body");
}
END_TEST

START_TEST(test_socket_mode_octal)
{
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nsocket_mode = 0666\n");
    ck_assert_uint_eq(C->f.fcgi.srv.socket_mode, 0666);
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nsocket_mode = 0999\n", "socket_mode");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nsocket_mode = 01777\n", "socket_mode");
}
END_TEST

START_TEST(test_bad_mode)
{
    load_bad("[wx]\ntoken = testtoken\nmode = secret\n", "mode");
    load_bad("[wx]\ntoken = testtoken\nmode = SAFE\n", "mode");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlog_level = verbose\n", "log_level");
}
END_TEST

START_TEST(test_proxy_keys)
{
    static const char head[] = "[wx]\ntoken = testtoken\n";
    char text[512];

    snprintf(text, sizeof(text), "%s[wxproxy.key.app]\nkey = short\npaths = /cgi-bin/*\n", head);
    load_bad(text, "wxproxy.key.app");
    snprintf(text, sizeof(text), "%s[wxproxy.key.app]\nkey = 0123456789abcdef\n", head);
    load_bad(text, "paths");
    snprintf(text, sizeof(text), "%s[wxproxy.key.app]\nkey = 0123456789abcdef\n"
             "paths = /x\nrate = 0\n", head);
    load_bad(text, "rate");
    snprintf(text, sizeof(text), "%s[wxproxy.key.app]\nkey = 0123456789abcdef\n"
             "paths = /x\nlimit = 3\n", head);
    load_bad(text, "limit");
    snprintf(text, sizeof(text), "%s[wxproxy.key.app]\nkey_file = /nonexistent/key\n"
             "paths = /x\n", head);
    load_bad(text, "key_file");
    snprintf(text, sizeof(text), "%s[wxproxy.key.a]\nkey = 0123456789abcdef\npaths = /x\n"
             "[wxproxy.key.b]\nkey = fedcba9876543210\npaths = /y /z*\n  /w\nburst = 7\n", head);
    load_ok(text);
    ck_assert_uint_eq(C->keys.n, 2);
    ck_assert_str_eq(PXKEY(1)->name, "b");
    ck_assert_uint_eq(PXKEY(1)->rate, 10);
    ck_assert_uint_eq(PXKEY(1)->burst, 7);
    ck_assert_str_eq(PXKEY(1)->paths, "/y /z* /w");
}
END_TEST

START_TEST(test_bad_listen)
{
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = localhost:9000\n", "listen");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = unix:relative.sock\n", "listen");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = tcp:127.0.0.1\n", "listen");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = tcp:127.0.0.1:0\n", "listen");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = tcp:127.0.0.1:65536\n", "listen");
    load_bad("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = tcp::9000\n", "listen");
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = tcp:[::1]:9000\n");
    ck_assert_str_eq(C->f.fcgi.srv.listen, "tcp:[::1]:9000");
    load_ok("[wx]\ntoken = testtoken\n[wxfcgi]\nlisten = unix:/tmp/wx.sock\n");
}
END_TEST

START_TEST(test_token_and_token_file)
{
    strcpy(extra_path, "/tmp/wx-ut-tok.XXXXXX");
    write_temp(extra_path, "filetoken123\n");
    {
        char text[256];

        snprintf(text, sizeof(text), "[wx]\ntoken = testtoken\ntoken_file = %s\n", extra_path);
        load_bad(text, "token_file");
    }
}
END_TEST

START_TEST(test_token_file)
{
    char text[256];
    const char *base;

    strcpy(extra_path, "/tmp/wx-ut-tok.XXXXXX");
    write_temp(extra_path, "filetoken123\r\n\n");
    /* relative: resolved against the directory of the config file */
    base = strrchr(extra_path, '/') + 1;
    snprintf(text, sizeof(text), "[wx]\ntoken_file = %s\n", base);
    load_ok(text);
    ck_assert_str_eq(C->f.wx.token, "filetoken123");
    /* absolute */
    snprintf(text, sizeof(text), "[wx]\ntoken_file = %s\n", extra_path);
    load_ok(text);
    ck_assert_str_eq(C->f.wx.token, "filetoken123");
}
END_TEST

START_TEST(test_token_file_unreadable)
{
    load_bad("[wx]\ntoken_file = /nonexistent/wx-token\n", "token_file");
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/wx-token"));
}
END_TEST

START_TEST(test_token_file_invalid)
{
    char text[256];

    strcpy(extra_path, "/tmp/wx-ut-tok.XXXXXX");
    write_temp(extra_path, "two words\n");
    snprintf(text, sizeof(text), "[wx]\ntoken_file = %s\n", extra_path);
    load_bad(text, "token");
}
END_TEST

START_TEST(test_env_token_wins)
{
    char text[256];

    ck_assert_int_eq(setenv("WX_TOKEN", "envtoken456", 1), 0);
    load_ok("[wx]\ntoken = filetoken123\n");
    ck_assert_str_eq(C->f.wx.token, "envtoken456");
    /* no token in the file at all */
    load_ok("[wxfcgi]\nworkers = 2\n");
    ck_assert_str_eq(C->f.wx.token, "envtoken456");
    /* over token_file too */
    strcpy(extra_path, "/tmp/wx-ut-tok.XXXXXX");
    write_temp(extra_path, "filetoken789\n");
    snprintf(text, sizeof(text), "[wx]\ntoken_file = %s\n", extra_path);
    load_ok(text);
    ck_assert_str_eq(C->f.wx.token, "envtoken456");
    /* and it is checked like any token */
    ck_assert_int_eq(setenv("WX_TOKEN", "bad token!", 1), 0);
    load_bad("[wx]\ntoken = filetoken123\n", "token");
    /* an empty variable does not count */
    ck_assert_int_eq(setenv("WX_TOKEN", "", 1), 0);
    load_ok("[wx]\ntoken = filetoken123\n");
    ck_assert_str_eq(C->f.wx.token, "filetoken123");
    unsetenv("WX_TOKEN");
    load_ok("[wx]\ntoken = filetoken123\n");
    ck_assert_str_eq(C->f.wx.token, "filetoken123");
}
END_TEST

static char *line_of(size_t len)
{
    /* "welcome = " and then 'x' up to 'len' bytes (without the newline) */
    char *s = malloc(len + 64);

    ck_assert_ptr_nonnull(s);
    strcpy(s, "[wx]\ntoken = testtoken\n[echo]\nwelcome = ");
    memset(s + strlen(s), 'x', len - 10);
    strcpy(s + strlen("[wx]\ntoken = testtoken\n[echo]\nwelcome = ") + len - 10, "\n");
    return s;
}

START_TEST(test_long_line)
{
    char *ok = line_of(198), *bad = line_of(199), *worse = line_of(5000);

    /* the longest line inih reads whole is kept whole */
    load_ok(ok);
    ck_assert_uint_eq(strlen(C->f.echo.welcome), 198 - 10);
    /* one more byte is refused with a message, not split silently */
    ck_assert_int_eq(load(bad), WX_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "line"));
    ck_assert_ptr_nonnull(strstr(err, ":4:"));
    ck_assert_ptr_nonnull(strstr(err, cfg_path));
    ck_assert_int_eq(load(worse), WX_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "line"));
    free(ok);
    free(bad);
    free(worse);
}
END_TEST

START_TEST(test_welcome_continued)
{
    load_ok("[wx]\ntoken = testtoken\n[echo]\n"
            "welcome = Welcome to the test account.\n"
            "  Reply with anything: it comes back.\n"
            "\tSecond indented line\n"
            "[echo.click]\n"
            "V1001_HELLO = Hello from the menu.\n");
    ck_assert_str_eq(C->f.echo.welcome, "Welcome to the test account.\n"
                     "Reply with anything: it comes back.\nSecond indented line");
    ck_assert_uint_eq(C->f.echo.clicks.n, 1);
}
END_TEST

START_TEST(test_clicks)
{
    load_ok("[wx]\ntoken = testtoken\n"
            "[echo.click]\n"
            "V1001_HELLO = Hello from the menu.\n"
            "V1002_HELP = Help:\n"
            "  send any text\n"
            "V1003_EMPTY_KEY_TEXT = 42\n");
    ck_assert_uint_eq(C->f.echo.clicks.n, 3);
    ck_assert_str_eq(CLICK(0)->name, "V1001_HELLO");
    ck_assert_str_eq(CLICK(0)->text, "Hello from the menu.");
    ck_assert_str_eq(CLICK(1)->name, "V1002_HELP");
    ck_assert_str_eq(CLICK(1)->text, "Help:\nsend any text");
    ck_assert_str_eq(CLICK(2)->name, "V1003_EMPTY_KEY_TEXT");
    ck_assert_str_eq(CLICK(2)->text, "42");
    ck_assert_ptr_null(C->f.echo.welcome);
}
END_TEST

START_TEST(test_too_many_clicks)
{
    size_t cap = 64 + 32 * (WX_CONFIG_MAX_CLICKS + 1), i;
    char *text = malloc(cap), *p = text;

    ck_assert_ptr_nonnull(text);
    p += sprintf(p, "[wx]\ntoken = testtoken\n[echo.click]\n");
    for (i = 0; i < WX_CONFIG_MAX_CLICKS; i++)
        p += sprintf(p, "K%zu = t%zu\n", i, i);
    load_ok(text);
    ck_assert_uint_eq(C->f.echo.clicks.n, WX_CONFIG_MAX_CLICKS);
    ck_assert_str_eq(CLICK(WX_CONFIG_MAX_CLICKS - 1)->text, "t255");
    sprintf(p, "K%d = one too many\n", WX_CONFIG_MAX_CLICKS);
    load_bad(text, "echo.click");
    free(text);
}
END_TEST

START_TEST(test_safe_mode_needs_keys)
{
    load_bad("[wx]\ntoken = testtoken\nmode = safe\n", "appid");
    load_bad("[wx]\ntoken = testtoken\nmode = safe\nappid = wx2c2769f8efd9abc2\n",
             "encoding_aes_key");
    load_bad("[wx]\ntoken = testtoken\nmode = compat\n"
             "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n", "appid");
    /* the key from the environment is enough */
    ck_assert_int_eq(setenv("WX_ENCODING_AES_KEY",
                            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", 1), 0);
    load_ok("[wx]\ntoken = testtoken\nmode = safe\nappid = wx2c2769f8efd9abc2\n");
    ck_assert_str_eq(C->f.wx.encoding_aes_key, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    unsetenv("WX_ENCODING_AES_KEY");
    /* plain mode needs neither */
    load_ok("[wx]\ntoken = testtoken\nmode = plain\n");
}
END_TEST

START_TEST(test_bad_appid_and_key)
{
    load_bad("[wx]\ntoken = testtoken\nappid = wx123\n", "appid");
    load_bad("[wx]\ntoken = testtoken\nappid = xx2c2769f8efd9abc2\n", "appid");
    load_bad("[wx]\ntoken = testtoken\nappid = wx2c2769f8efd9abc!\n", "appid");
    load_bad("[wx]\ntoken = testtoken\n"
             "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEF\n",
             "encoding_aes_key");
    load_bad("[wx]\ntoken = testtoken\n"
             "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDE+\n",
             "encoding_aes_key");
}
END_TEST

START_TEST(test_missing_file)
{
    cfg = wx_config_load(&test_spec, "/nonexistent/wx.ini", err, sizeof(err));

    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/wx.ini"));
}
END_TEST

START_TEST(test_syntax_error)
{
    ck_assert_int_eq(load("[wx]\ntoken = testtoken\nthis line has no equals sign\n"),
                     WX_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, ":3:"));
    ck_assert_int_eq(load("[wx\ntoken = testtoken\n"), WX_ECONFIG);
}
END_TEST

/* A program validates what it reads: wxctl and wxsim need no callback
 * token, and the sections they do not read are not theirs to check. */
START_TEST(test_no_token_needed)
{
    static const char text[] =
        "[wx]\nappid = wx2c2769f8efd9abc2\n"
        "[wxfcgi]\nworkers = 0\nnot_a_key = 1\n"
        "[wxtoken]\nstore = /tmp/wx-token\nappsecret = short\n"
        "[wxsim]\nappid = wx2c2769f8efd9abc2\nappsecret = s3cret\n"
        "[wxctl]\nproxy = http://127.0.0.1:8080/wxapi\n";
    const wxctl_conf_t *ctl;
    const wxsim_conf_t *sim;
    wx_config_t *other;

    /* wxfcgi refuses it (and would without the bad [wxfcgi] too) */
    load_bad(text, "workers");
    other = load_as(&wxctl_spec, text);
    ck_assert_msg(other != NULL, "wxctl refused it: %s", err);
    ctl = (const wxctl_conf_t *)(const void *)other;
    ck_assert_ptr_null(ctl->wx.token);
    ck_assert_str_eq(ctl->wx.appid, "wx2c2769f8efd9abc2");
    ck_assert_str_eq(ctl->tok.store, "/tmp/wx-token");
    ck_assert_str_eq(ctl->ctl.proxy, "http://127.0.0.1:8080/wxapi");
    wx_config_free(other);
    other = load_as(&wxsim_spec, text);
    ck_assert_msg(other != NULL, "wxsim refused it: %s", err);
    sim = (const wxsim_conf_t *)(const void *)other;
    ck_assert_str_eq(sim->sim.appsecret, "s3cret");
    wx_config_free(other);
    /* still strict in what it reads; a typo in [wxctl] is not wxfcgi's */
    load_ok("[wx]\ntoken = testtoken\n[wxctl]\nproxy_kee = x\n");
    ck_assert_ptr_null(load_as(&wxctl_spec, "[wxctl]\nproxy_kee = x\n"));
    ck_assert_ptr_nonnull(strstr(err, "proxy_kee"));
    ck_assert_ptr_null(load_as(&wxsim_spec, "[wxsimm]\nappid = x\n"));
    ck_assert_ptr_nonnull(strstr(err, "unknown section [wxsimm]"));
}
END_TEST

/* [account.NAME]: the keys of [wx] with the same checks, named. */
typedef struct acct_conf {
    wx_config_t         base;
    wx_conf_list_t      accounts;
} acct_conf_t;

static const wx_config_use_t acct_uses[] = {
    { &wx_account_named_section, offsetof(acct_conf_t, accounts) },
};
static const wx_config_spec_t acct_spec = { "test", sizeof(acct_conf_t), acct_uses, 1, NULL };

START_TEST(test_accounts)
{
    const acct_conf_t *ac;
    const wx_account_t *a;
    wx_config_t *other;

    setenv("WX_TOKEN", "fromenv", 1);   /* [wx]'s variable is not an account's */
    other = load_as(&acct_spec,
                    "[account.sub]\ntoken = subtoken\noriginal_id = gh_0123456789ab\n"
                    "[account.svc-2]\ntoken = svctoken\nappid = wx2c2769f8efd9abc2\nmode = safe\n"
                    "encoding_aes_key = abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n"
                    "appsecret = s3cretS3cretS3cret\ngrant = token\n");
    ck_assert_msg(other != NULL, "refused: %s", err);
    ac = (const acct_conf_t *)(const void *)other;
    ck_assert_uint_eq(ac->accounts.n, 2);
    a = wx_account_find(&ac->accounts, "svc-2/x", 5);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->wx.token, "svctoken");
    ck_assert_int_eq(a->wx.mode, WX_MODE_SAFE);
    ck_assert_str_eq(a->appsecret, "s3cretS3cretS3cret");
    ck_assert_str_eq(a->grant, "token");
    a = wx_account_find(&ac->accounts, "sub", 3);
    ck_assert_str_eq(a->wx.token, "subtoken");
    ck_assert_str_eq(a->original_id, "gh_0123456789ab");
    ck_assert_ptr_null(a->grant);
    ck_assert_ptr_null(wx_account_find(&ac->accounts, "su", 2));
    wx_config_free(other);
    unsetenv("WX_TOKEN");

    ck_assert_ptr_null(load_as(&acct_spec, "[account.a/b]\ntoken = abc\n"));
    ck_assert_ptr_nonnull(strstr(err, "the name must be"));
    ck_assert_ptr_null(load_as(&acct_spec, "[account.x]\ntoken = a!\n"));
    ck_assert_ptr_nonnull(strstr(err, "[account.x] token must be"));
    ck_assert_ptr_null(load_as(&acct_spec, "[account.x]\nmode = compat\n"));
    ck_assert_ptr_nonnull(strstr(err, "[account.x] appid is missing"));
    ck_assert_ptr_null(load_as(&acct_spec, "[account.x]\noriginal_id = wx123\n"));
    ck_assert_ptr_nonnull(strstr(err, "original_id 'wx123'"));
    ck_assert_ptr_null(load_as(&acct_spec, "[account.x]\ngrant = code\n"));
    ck_assert_ptr_nonnull(strstr(err, "grant 'code'"));
    ck_assert_ptr_null(load_as(&acct_spec, "[account.x]\nsecret = 1\n"));
    ck_assert_ptr_nonnull(strstr(err, "has no setting 'secret'"));
    ck_assert_int_eq(wx_account_name_ok(""), 0);
    ck_assert_int_eq(wx_account_name_ok("0123456789012345678901234567890123"), 0);
    ck_assert_int_eq(wx_account_name_ok("Shop_2-b"), 1);
}
END_TEST

/* [account.NAME] as the callers of the API read it (NAMED_PART): the name
 * and the AppID; the AppSecret is not theirs, not even its file. */
START_TEST(test_account_refs)
{
    static const char text[] =
        "[account.b]\nappid = wxbbbbbbbbbbbbbbbb\nappsecret_file = /nonexistent/secret\n"
        "token = tokenofb\noriginal_id = gh_0123\n"
        "[account.c]\nappid = wxcccccccccccccccc\nappsecret = s3cretS3cretS3cret\n"
        "[wxsim]\nappid = wx2c2769f8efd9abc2\nappsecret = s3cret\n"
        "[wxsim.account.b]\nappid = wxbbbbbbbbbbbbbbbb\nappsecret = s3cretb\n";
    const wxctl_conf_t *ctl;
    const wxsim_conf_t *sim;
    const wx_account_ref_t *r;
    wx_config_t *other;

    other = load_as(&wxctl_spec, text);
    ck_assert_msg(other != NULL, "wxctl refused it: %s", err);
    ctl = (const wxctl_conf_t *)(const void *)other;
    ck_assert_uint_eq(ctl->accounts.n, 2);
    r = wx_account_ref_find(&ctl->accounts, "c", 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->appid, "wxcccccccccccccccc");
    ck_assert_ptr_null(wx_account_ref_find(&ctl->accounts, "d", 1));
    wx_config_free(other);
    /* the owners still check the section: wxtoken reads the secret's file */
    ck_assert_ptr_null(load_as(&wxtoken_spec, text));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/secret"));
    ck_assert_ptr_null(load_as(&wxctl_spec, "[account.default]\nappid = wxbbbbbbbbbbbbbbbb\n"));
    ck_assert_ptr_nonnull(strstr(err, "'default' names the account of [wx]"));
    ck_assert_ptr_null(load_as(&wxctl_spec, "[account.a.b]\nappid = wxbbbbbbbbbbbbbbbb\n"));
    ck_assert_ptr_nonnull(strstr(err, "the name must be"));

    other = load_as(&wxsim_spec, text);
    ck_assert_msg(other != NULL, "wxsim refused it: %s", err);
    sim = (const wxsim_conf_t *)(const void *)other;
    ck_assert_uint_eq(sim->accounts.n, 1);
    ck_assert_str_eq(((const wxsim_account_conf_t *)sim->accounts.v)[0].appsecret, "s3cretb");
    wx_config_free(other);
    ck_assert_ptr_null(load_as(&wxsim_spec, "[wxsim]\nappid = wx2c2769f8efd9abc2\n"
                               "appsecret = s\n[wxsim.account.x]\n"
                               "appid = wx2c2769f8efd9abc2\nappsecret = t\n"));
    ck_assert_ptr_nonnull(strstr(err, "[wxsim.account.x] appid is the one of [wxsim]"));
}
END_TEST

START_TEST(test_free_twice)
{
    load_ok("[wx]\ntoken = testtoken\n[echo.click]\nA = b\n");
    ck_assert_uint_eq(C->f.echo.clicks.n, 1);
    wx_config_free(cfg);
    cfg = NULL;
    /* and NULL is a config to free too */
    wx_config_free(cfg);
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_minimal_defaults);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_token_missing);
    tcase_add_test(tc, test_token_bad);
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_unknown_section);
    tcase_add_test(tc, test_workers_range);
    tcase_add_test(tc, test_given_twice);
    tcase_add_test(tc, test_max_body);
    tcase_add_test(tc, test_socket_mode_octal);
    tcase_add_test(tc, test_bad_mode);
    tcase_add_test(tc, test_bad_listen);
    tcase_add_test(tc, test_proxy_keys);
    tcase_add_test(tc, test_token_and_token_file);
    tcase_add_test(tc, test_token_file);
    tcase_add_test(tc, test_token_file_unreadable);
    tcase_add_test(tc, test_token_file_invalid);
    tcase_add_test(tc, test_env_token_wins);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_welcome_continued);
    tcase_add_test(tc, test_clicks);
    tcase_add_test(tc, test_too_many_clicks);
    tcase_add_test(tc, test_safe_mode_needs_keys);
    tcase_add_test(tc, test_bad_appid_and_key);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_accounts);
    tcase_add_test(tc, test_account_refs);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_no_token_needed);
    tcase_add_test(tc, test_free_twice);
    suite_add_tcase(s, tc);
    return s;
}
