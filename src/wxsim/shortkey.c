/*
 * shortkey.c - short keys (PROTOCOL.md 11): data of up to 4 KB kept
 * under a 15-character base62 key for up to 30 days; the retired
 * shorturl API (45103); and callback/check (7.3), WeChat's DNS and ping
 * test of the callback URL, answered from fixed addresses.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "wxsim.h"

#define LONG_DATA_MAX   4096
#define EXPIRE_MAX      2592000
#define KEY_LEN         15

static void base62_key(char key[KEY_LEN + 1])
{
    static const char digits[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    unsigned char r[KEY_LEN];
    size_t i;

    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();
    /* 248 = 4 * 62: bytes past it are redrawn, so no digit is favoured. */
    for (i = 0; i < KEY_LEN; i++) {
        while (r[i] >= 248)
            if (RAND_bytes(&r[i], 1) != 1)
                abort();
        key[i] = digits[r[i] % 62];
    }
    key[KEY_LEN] = '\0';
}

void wxsim_shorten_gen(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *ev;
    const char *data;
    json_int_t expire = EXPIRE_MAX;
    char key[KEY_LEN + 1];

    if (body == NULL)
        return;
    data = wxsim_json_str(body, "long_data");
    ev = json_object_get(body, "expire_seconds");
    if (data == NULL || data[0] == '\0') {
        wxsim_reply_err(rq, 47003, "argument invalid! long_data is missing");
        goto out;
    }
    if (strlen(data) > LONG_DATA_MAX) {
        wxsim_reply_err(rq, 9410010, "long_data too long (%d bytes at most)", LONG_DATA_MAX);
        goto out;
    }
    if (ev && (!json_is_integer(ev) || json_integer_value(ev) <= 0)) {
        wxsim_reply_err(rq, 47001, "data format error: expire_seconds");
        goto out;
    }
    if (ev && json_integer_value(ev) > EXPIRE_MAX) {
        wxsim_reply_err(rq, 9410011, "expire_seconds too long (%d at most)", EXPIRE_MAX);
        goto out;
    }
    if (ev)
        expire = json_integer_value(ev);
    do
        base62_key(key);
    while (json_object_get(sim->shortkeys, key));
    json_object_set_new(sim->shortkeys, key,
                        json_pack("{s:s,s:I,s:I}", "long_data", data,
                                  "create_time", (json_int_t)wxsim_now(sim),
                                  "expire_at", (json_int_t)wxsim_now(sim) + expire));
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:s}", "errcode", 0, "errmsg", "ok",
                                   "short_key", key));
out:
    json_decref(body);
}

void wxsim_shorten_fetch(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *k;
    const char *key;
    json_int_t left;

    if (body == NULL)
        return;
    key = wxsim_json_str(body, "short_key");
    if (key == NULL) {
        wxsim_reply_err(rq, 47001, "data format error: short_key");
        goto out;
    }
    k = json_object_get(sim->shortkeys, key);
    left = json_integer_value(json_object_get(k, "expire_at")) - wxsim_now(sim);
    if (k == NULL || left <= 0) {
        wxsim_reply_err(rq, 9410012, "short_key not exist or expired");
        goto out;
    }
    /* expire_seconds is what remains, not what was asked (11). */
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:O,s:O,s:I}", "errcode", 0, "errmsg", "ok",
                                   "long_data", json_object_get(k, "long_data"),
                                   "create_time", json_object_get(k, "create_time"),
                                   "expire_seconds", left));
out:
    json_decref(body);
}

void wxsim_shorturl(wxsim_t *sim, wxsim_req_t *rq)
{
    (void)sim;
    wxsim_reply_err(rq, 45103, "This API has been unsupported");
}

void wxsim_callback_check(wxsim_t *sim, wxsim_req_t *rq)
{
    static const char *const operators[] = { "CHINANET", "UNICOM", "CAP", "DEFAULT", NULL };
    json_t *body = wxsim_req_json(rq), *ans;
    const char *action, *op;
    size_t i;

    (void)sim;
    if (body == NULL)
        return;
    action = wxsim_json_str(body, "action");
    op = wxsim_json_str(body, "check_operator");
    for (i = 0; op && operators[i] && strcmp(op, operators[i]) != 0; i++)
        ;
    if (action == NULL || (strcmp(action, "dns") != 0 && strcmp(action, "ping") != 0 &&
                           strcmp(action, "all") != 0)) {
        wxsim_reply_err(rq, 40202, "invalid action");
        goto out;
    }
    if (op == NULL || operators[i] == NULL) {
        wxsim_reply_err(rq, 40203, "invalid check operator");
        goto out;
    }
    /* The simulator has no callback to test: it reports loopback, found
     * and answering, from the operator asked (UNICOM for DEFAULT). */
    op = strcmp(op, "DEFAULT") == 0 ? "UNICOM" : op;
    ans = json_object();
    if (strcmp(action, "ping") != 0)
        json_object_set_new(ans, "dns", json_pack("[{s:s,s:s}]", "ip", "127.0.0.1",
                                                  "real_operator", op));
    if (strcmp(action, "dns") != 0)
        json_object_set_new(ans, "ping", json_pack("[{s:s,s:s,s:s,s:s}]", "ip", "127.0.0.1",
                                                   "from_operator", op, "package_loss", "0%",
                                                   "time", "0.120ms"));
    wxsim_reply_json(rq, ans);
out:
    json_decref(body);
}
