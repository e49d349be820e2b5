/* check_ticket.c - the JS-SDK tickets in the state store (wx/state/ticket.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "wx/state/ticket.h"

static char dir[64], path[128], file[160];
static char err[512];
static wx_store_t *store;

static void setup(void)
{
    wx_store_conf_t conf = { .backend = "local", .record.name = "token store" };

    strcpy(dir, "/tmp/wx-ut-tkt.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/token", dir);
    conf.record.path = path;
    store = wx_store_open(&conf, err, sizeof(err));
    ck_assert_msg(store != NULL, "open %s: %s", path, err);
}

static void teardown(void)
{
    char cmd[160];

    wx_store_close(store);
    store = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static wx_token_t ticket(unsigned long version, const char *value)
{
    wx_token_t t;

    memset(&t, 0, sizeof(t));
    t.version = version;
    t.obtained = 1700000000;
    t.expires = 1700007200;
    snprintf(t.token, sizeof(t.token), "%s", value);
    return t;
}

START_TEST(test_types)
{
    ck_assert_int_eq(wx_ticket_type("jsapi"), WX_TICKET_JSAPI);
    ck_assert_int_eq(wx_ticket_type("wx_card"), WX_TICKET_WX_CARD);
    ck_assert_int_eq(wx_ticket_type("card"), -1);
    ck_assert_int_eq(wx_ticket_type(""), -1);
    ck_assert_str_eq(wx_ticket_name(WX_TICKET_WX_CARD), "wx_card");
}
END_TEST

START_TEST(test_beside_the_token_apart)
{
    wx_token_t j = ticket(1, "JSAPI-ticket_1"), c = ticket(1, "CARD-ticket_1"), out;

    ck_assert_int_eq(wx_ticket_write(store, WX_TICKET_JSAPI, &j, err, sizeof(err)), WX_OK);
    ck_assert_int_eq(wx_ticket_write(store, WX_TICKET_WX_CARD, &c, err, sizeof(err)), WX_OK);
    snprintf(file, sizeof(file), "%s.jsapi_ticket", path);
    ck_assert_int_eq(access(file, F_OK), 0);
    snprintf(file, sizeof(file), "%s.wx_card_ticket", path);
    ck_assert_int_eq(access(file, F_OK), 0);
    /* Neither is the token. */
    ck_assert_int_eq(wx_token_read(store, 1700000100, &out, err, sizeof(err)), WX_EMISSING);
    ck_assert_int_eq(wx_ticket_read(store, WX_TICKET_JSAPI, 1700000100, &out, err, sizeof(err)),
                     WX_OK);
    ck_assert_str_eq(out.token, "JSAPI-ticket_1");
    ck_assert_int_eq(wx_ticket_read(store, WX_TICKET_WX_CARD, 1700000100, &out, err,
                                    sizeof(err)), WX_OK);
    ck_assert_str_eq(out.token, "CARD-ticket_1");
}
END_TEST

START_TEST(test_versions_and_expiry)
{
    wx_token_t a = ticket(2, "TICKET-two"), b = ticket(1, "TICKET-one"), out;

    ck_assert_int_eq(wx_ticket_write(store, WX_TICKET_JSAPI, &a, err, sizeof(err)), WX_OK);
    /* Versions only grow: an older writer loses. */
    ck_assert_int_eq(wx_ticket_write(store, WX_TICKET_JSAPI, &b, err, sizeof(err)), WX_ESTALE);
    ck_assert_int_eq(wx_ticket_read(store, WX_TICKET_JSAPI, 1700000100, &out, err, sizeof(err)),
                     WX_OK);
    ck_assert_uint_eq(out.version, 2);
    /* An expired ticket is never served, but said to be there. */
    ck_assert_int_eq(wx_ticket_read(store, WX_TICKET_JSAPI, 1700007200, &out, err, sizeof(err)),
                     WX_ESTALE);
    ck_assert_msg(strstr(err, "ticket") != NULL, "the message names the ticket: %s", err);
}
END_TEST

START_TEST(test_lock)
{
    ck_assert_int_eq(wx_ticket_lock(store, WX_TICKET_JSAPI, err, sizeof(err)), WX_OK);
    /* One lock a handle: the token's cannot be taken meanwhile. */
    ck_assert_int_ne(wx_token_lock(store, err, sizeof(err)), WX_OK);
    wx_ticket_unlock(store, WX_TICKET_JSAPI);
    ck_assert_int_eq(wx_token_lock(store, err, sizeof(err)), WX_OK);
    wx_token_unlock(store);
}
END_TEST

Suite *ticket_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_beside_the_token_apart);
    tcase_add_test(tc, test_versions_and_expiry);
    tcase_add_test(tc, test_lock);
    suite_add_tcase(s, tc);
    return s;
}
