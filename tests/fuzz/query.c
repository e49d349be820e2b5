/*
 * query.c - the query-string parser (wx_query_parse), percent-decoding
 * (wx_url_decode) and CONTENT_LENGTH (wx_content_length) on one input.
 */
#include "fuzz.h"

#include "wx/proto/query.h"

static wx_pool_t pool;
static volatile unsigned sink;

static void touch(wx_str_t s)
{
    for (size_t i = 0; i < s.len; i++)
        sink += (unsigned char)s.data[i];
}

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
    wx_query_t q;
    char *copy;
    long n;

    if (size > 64 << 10)
        return 0;
    if (wx_query_parse((const char *)data, size, &pool, &q) == WX_OK) {
        touch(q.signature);
        touch(q.timestamp);
        touch(q.nonce);
        touch(q.echostr);
        touch(q.openid);
        touch(q.encrypt_type);
        touch(q.msg_signature);
    }
    wx_pool_reset(&pool);
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    n = wx_url_decode(copy, (const char *)data, size);
    if (n > (long)size || (n >= 0 && memchr(copy, 0, (size_t)n) != NULL))
        abort();
    /* CONTENT_LENGTH comes as a C string. */
    memcpy(copy, data, size);
    copy[size] = '\0';
    sink += (unsigned)wx_content_length(copy);
    free(copy);
    return 0;
}
