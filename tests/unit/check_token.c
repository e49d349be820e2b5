/* check_token.c - the access-token store file (wx/state/token.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "wx/api/token_client.h"
#include "wx/state/token.h"

static char dir[64], path[128];
static char err[512];
static wx_store_t *store;

static void setup(void)
{
    strcpy(dir, "/tmp/wx-ut-tok.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/token", dir);
    {
        wx_store_conf_t conf = { .backend = "local", .record.path = path,
                                 .record.name = "token store" };

        store = wx_store_open(&conf, err, sizeof(err));
        ck_assert_msg(store != NULL, "open %s: %s", path, err);
    }
}

static void teardown(void)
{
    char cmd[160];

    wx_store_close(store);
    store = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static wx_token_t sample(void)
{
    wx_token_t t;

    memset(&t, 0, sizeof(t));
    t.version = 7;
    t.obtained = 1700000000;
    t.expires = 1700007200;
    strcpy(t.token, "ACCESS_TOKEN-abc_123");
    return t;
}

START_TEST(test_round_trip)
{
    wx_token_t in = sample(), out;
    struct stat st;

    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_OK);
    ck_assert_int_eq(wx_token_read(store, 1700000100, &out, err, sizeof(err)), WX_OK);
    ck_assert_uint_eq(out.version, 7);
    ck_assert_int_eq((long)out.obtained, 1700000000);
    ck_assert_int_eq((long)out.expires, 1700007200);
    ck_assert_str_eq(out.token, "ACCESS_TOKEN-abc_123");
    /* readable by the group (the callers), by no one else */
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    /* rewritten in place: no temporary file is left */
    in.version = 8;
    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_OK);
    {
        char cmd[200];

        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
        ck_assert_msg(system(cmd) == 0, "a temporary file was left in %s", dir);
    }
    ck_assert_int_eq(wx_token_read(store, 1700000100, &out, err, sizeof(err)), WX_OK);
    ck_assert_uint_eq(out.version, 8);
}
END_TEST

START_TEST(test_expired_never_served_as_valid)
{
    wx_token_t in = sample(), out;

    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_OK);
    ck_assert_int_eq(wx_token_read(store, 1700007200, &out, err, sizeof(err)), WX_ESTALE);
    ck_assert_ptr_nonnull(strstr(err, "expired"));
    ck_assert_int_eq(wx_token_read(store, 1700007199, &out, err, sizeof(err)), WX_OK);
}
END_TEST

START_TEST(test_missing)
{
    wx_token_t out;

    ck_assert_int_eq(wx_token_read(store, 0, &out, err, sizeof(err)), WX_EMISSING);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

static void write_raw(const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_damage_detected)
{
    wx_token_t in = sample(), out;
    char *buf;
    size_t len, i;

    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_OK);
    buf = slurp_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    /* Any single changed byte is caught. */
    for (i = 0; i + 1 < len; i++) {
        char saved = buf[i];

        buf[i] = saved == 'x' ? 'y' : 'x';
        write_raw(buf);
        ck_assert_msg(wx_token_read(store, 1700000100, &out, err, sizeof(err)) == WX_EINVAL,
                      "byte %zu changed, not detected", i);
        ck_assert_ptr_nonnull(strstr(err, "damaged"));
        buf[i] = saved;
    }
    /* Truncated anywhere. */
    for (i = 0; i + 1 < len; i++) {
        char saved = buf[i];

        buf[i] = '\0';
        write_raw(buf);
        ck_assert_int_eq(wx_token_read(store, 1700000100, &out, err, sizeof(err)), WX_EINVAL);
        buf[i] = saved;
    }
    write_raw("");
    ck_assert_int_eq(wx_token_read(store, 0, &out, err, sizeof(err)), WX_EINVAL);
    free(buf);
}
END_TEST

START_TEST(test_bad_tokens_refused)
{
    wx_token_t in = sample();

    strcpy(in.token, "two words");
    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_EINVAL);
    strcpy(in.token, "line\nbreak");
    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_EINVAL);
    in.token[0] = '\0';
    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_EINVAL);
    ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_longest_token)
{
    wx_token_t in = sample(), out;

    memset(in.token, 'T', WX_TOKEN_MAX);
    in.token[WX_TOKEN_MAX] = '\0';
    ck_assert_int_eq(wx_token_write(store, &in, err, sizeof(err)), WX_OK);
    ck_assert_int_eq(wx_token_read(store, 1700000001, &out, err, sizeof(err)), WX_OK);
    ck_assert_uint_eq(strlen(out.token), WX_TOKEN_MAX);
}
END_TEST

START_TEST(test_brief_hides_token)
{
    char b[64];

    wx_token_brief(b, sizeof(b), "abcdefghijklmnopqrstuvwxyz");
    ck_assert_str_eq(b, "abcdef...(26 chars)");
    wx_token_brief(b, sizeof(b), "short");
    ck_assert_ptr_null(strstr(b, "short"));
}
END_TEST

START_TEST(test_ask_unreachable)
{
    wx_token_t out;
    char sock[160];

    snprintf(sock, sizeof(sock), "%s/nobody.sock", dir);
    ck_assert_int_eq(wx_token_ask(sock, "STATUS", 500, &out, err, sizeof(err)), WX_ESYS);
    ck_assert_ptr_nonnull(strstr(err, sock));
}
END_TEST

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("store");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_expired_never_served_as_valid);
    tcase_add_test(tc, test_missing);
    tcase_add_test(tc, test_damage_detected);
    tcase_add_test(tc, test_bad_tokens_refused);
    tcase_add_test(tc, test_longest_token);
    tcase_add_test(tc, test_brief_hides_token);
    tcase_add_test(tc, test_ask_unreachable);
    suite_add_tcase(s, tc);
    return s;
}
