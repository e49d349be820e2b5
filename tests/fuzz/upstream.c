/*
 * upstream.c - the reader of the business service's answer
 * (wx_upstream_reply_parse) and what is made of it: the customer-service
 * message of a late answer (wx_upstream_custom_json).
 */
#include "fuzz.h"

#include <jansson.h>

#include "wxfcgi/upstream_json.h"

static wx_pool_t pool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    if (wx_pool_init(&pool, 1 << 20) != 0)
        exit(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    wx_reply_t reply;
    json_t *cs;

    if (size > 64 << 10)
        return 0;
    if (wx_upstream_reply_parse((const char *)data, size, &pool, &reply, why,
                                sizeof(why)) == WX_OK) {
        cs = wx_upstream_custom_json(&reply, WX_STR("oFollowerOpenId0123456789ab"));
        if (cs != NULL) {
            char *s = json_dumps(cs, JSON_COMPACT);

            free(s);
            json_decref(cs);
        }
    }
    wx_pool_reset(&pool);
    return 0;
}
