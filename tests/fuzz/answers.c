/*
 * answers.c - the readers of WeChat's JSON answers in the programs that
 * call the API; the first byte of the input picks one, the rest is the
 * answer's body:
 *   0  libwx's reader (take_json of src/lib/api/api.c: JSON object,
 *      errcode, errmsg), then wxtoken's reading of a token answer
 *      (take_answer of src/wxtoken/main.c);
 *   1  wxproxy's look at a held-back answer for its errcode
 *      (px_answer_errcode);
 *   2  wxctl's reading of a menu, as the answer of menu/get (print_menu of
 *      src/wxctl/menu.c) and as a file to create (wxctl_menu_check).
 * The static readers are reached by including their files.
 */
#include "fuzz.h"

#include <jansson.h>

#include "../../src/lib/api/api.c"
#define main wxtoken_main
#include "../../src/wxtoken/main.c"
#undef main
#include "wxproxy/forward.h"
#include "../../src/wxctl/menu.c"

static wxtoken_t tok;
static wx_config_t *tok_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char text[] =
        "[wx]\nappid = wx2c2769f8efd9abc2\ntoken = fuzztoken\n"
        "[wxtoken]\nappsecret = FuzzSecret0123456789abcdef0123\napi = https://127.0.0.1:9\n";
    char path[256], err[256];

    (void)argc;
    (void)argv;
    fuzz_quiet();
    if (freopen("/dev/null", "w", stdout) == NULL)
        exit(1);
    unsetenv("WX_APPSECRET");
    fuzz_file(path, sizeof(path), "answers", text, sizeof(text) - 1);
    tok_cfg = wx_config_load(&wxtoken_spec, path, err, sizeof(err));
    unlink(path);
    if (tok_cfg == NULL) {
        fprintf(stderr, "fuzz_answers: %s\n", err);
        exit(1);
    }
    tok.cfg = wxtoken_conf(tok_cfg);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data + 1;
    char err[512];

    if (size < 1 || size > 64 << 10)
        return 0;
    size--;
    switch (data[0] % 3) {
    case 0: {
        wx_api_result_t r;
        wx_token_t out;

        memset(&r, 0, sizeof(r));
        r.errmsg = "";
        take_json(&r, body, size);
        (void)take_answer(&tok, &r, 0, &out);
        wx_api_result_free(&r);
        break;
    }
    case 1: {
        px_answer_t a;
        long code;

        memset(&a, 0, sizeof(a));
        a.peek = malloc(size ? size : 1);
        if (a.peek == NULL)
            return 0;
        memcpy(a.peek, body, size);
        a.len = size;
        (void)px_answer_errcode(&a, &code);
        free(a.peek);
        break;
    }
    default: {
        json_t *j = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);

        if (j != NULL) {
            print_menu(j);
            (void)wxctl_menu_check(j, err, sizeof(err));
            json_decref(j);
        }
        break;
    }
    }
    return 0;
}
