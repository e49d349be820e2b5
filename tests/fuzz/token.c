/*
 * token.c - the readers of the access token: the token store's record
 * (wx_token_read on the local backend, the file as the input gives it)
 * and the answer line of wxtoken's socket as its callers read it
 * (parse_answer of src/lib/api/token_client.c, included for its static
 * function).  The first byte picks the reader.
 */
#include "fuzz.h"

#include "wx/state/store.h"
#include "wx/state/token.h"
#include "../../src/lib/api/token_client.c"

static char path[256];
static wx_store_t *st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wx_store_conf_t sc = { .backend = "local", .record.name = "token store" };
    char err[256];

    (void)argc;
    (void)argv;
    fuzz_quiet();
    fuzz_file(path, sizeof(path), "token", "", 0);
    sc.record.path = path;
    st = wx_store_open(&sc, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "fuzz_token: %s\n", err);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], line[WX_TOKEN_LINE + 2];
    wx_token_t tok;

    if (size < 1 || size > 8192)
        return 0;
    if (data[0] & 1) {
        fuzz_rewrite(path, data + 1, size - 1);
        if (wx_token_read(st, (time_t)1714112445, &tok, err, sizeof(err)) == WX_OK &&
            !wx_token_valid(tok.token))
            abort();
        return 0;
    }
    if (size - 1 > WX_TOKEN_LINE + 1)
        return 0;
    memcpy(line, data + 1, size - 1);
    line[size - 1] = '\0';
    if (parse_answer(line, size - 1, "fuzz.sock", &tok, err, sizeof(err)) == WX_OK &&
        !wx_token_valid(tok.token))
        abort();
    return 0;
}
