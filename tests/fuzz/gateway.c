/*
 * gateway.c - the whole /wx request path (wx_gw_handle) on one input.
 *
 * The input: one byte of flags, then the query string up to the first
 * newline, then the body.  Flags:
 *   bit 0  put a valid signature, timestamp and nonce before the query, so
 *          that the input gets past the signature check into the parser;
 *   bit 1  GET instead of POST (the URL check: echostr);
 *   bit 2  (safe mode) encrypt the body with the account's key into an
 *          envelope with a valid msg_signature, so that the input reaches
 *          the decryption and the inner parse; otherwise the body is the
 *          envelope as given.
 * Built twice: fuzz_gateway (plain mode) and, with -DWX_FUZZ_SAFE,
 * fuzz_gateway_safe (mode = safe, a fixed EncodingAESKey).
 */
#include "fuzz.h"

#include "wx/core/config.h"
#include "wx/proto/crypt.h"
#include "wx/proto/sign.h"
#include "wxfcgi/gateway.h"

#define F_TOKEN     "fuzztoken"
#define F_APPID     "wx2c2769f8efd9abc2"
#define F_KEY       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#define F_TS        "1714112445"
#define F_NONCE     "415670741"
#define F_NOW       ((time_t)1714112445)
#define F_MAX       (256 << 10)

static wx_gw_t *gw;
static wx_crypt_t crypt_ctx;
static wx_pool_t pool;
static volatile unsigned sink;

typedef struct { const char *p; size_t len, pos; } fuzz_body_t;

static long body_read(void *ctx, char *buf, size_t len)
{
    fuzz_body_t *b = ctx;
    size_t n = b->len - b->pos;

    if (n > len)
        n = len;
    memcpy(buf, b->p + b->pos, n);
    b->pos += n;
    return (long)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char text[] =
        "[wx]\ntoken = " F_TOKEN "\nappid = " F_APPID "\n"
#ifdef WX_FUZZ_SAFE
        "encoding_aes_key = " F_KEY "\nmode = safe\n"
#endif
        "[wxfcgi]\ntimestamp_window = 300\nmax_body = 65536\nhandler = echo\n"
        "dedup_slots = 0\n[echo]\nwelcome = Welcome.\n[echo.click]\nV1001 = Hello.\n";
    char path[256], err[256];
    wx_config_t *cfg;

    (void)argc;
    (void)argv;
    fuzz_quiet();
    fuzz_file(path, sizeof(path), "gw", text, sizeof(text) - 1);
    cfg = wx_config_load(&wxfcgi_spec, path, err, sizeof(err));
    unlink(path);
    if (cfg == NULL || (gw = wx_gw_new(wxfcgi_conf(cfg), err, sizeof(err))) == NULL ||
        wx_crypt_init(&crypt_ctx, F_KEY, F_APPID) != WX_OK || wx_pool_init(&pool, F_MAX * 2) != 0) {
        fprintf(stderr, "fuzz_gateway: %s\n", err);
        exit(1);
    }
    return 0;   /* cfg lives as long as the process, as in a worker */
}

/* The body as an envelope of safe mode: encrypted, with its signature
 * added to 'q'. */
static int seal(const char *body, size_t len, wx_buf_t *q, fuzz_body_t *b)
{
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_buf_t enc, env;
    wx_str_t parts[4];

    if (wx_buf_from_pool(&enc, &pool, F_MAX) != 0 ||
        wx_crypt_encrypt(&crypt_ctx, (wx_str_t){ len, body }, (const unsigned char *)
                         "0123456789abcdef", &pool, &enc) != WX_OK || enc.overflow)
        return -1;
    wx_buf_commit(&enc, &pool);
    parts[0] = WX_STR(F_TOKEN);
    parts[1] = WX_STR(F_TS);
    parts[2] = WX_STR(F_NONCE);
    parts[3] = wx_buf_str(&enc);
    if (wx_sign(parts, 4, hex) != WX_OK || wx_buf_from_pool(&env, &pool, F_MAX) != 0)
        return -1;
    wx_buf_adds(&env, "<xml><ToUserName><![CDATA[gh_fuzz]]></ToUserName><Encrypt><![CDATA[");
    wx_buf_addstr(&env, wx_buf_str(&enc));
    wx_buf_adds(&env, "]]></Encrypt></xml>");
    if (env.overflow)
        return -1;
    wx_buf_commit(&env, &pool);
    wx_buf_adds(q, "&encrypt_type=aes&msg_signature=");
    wx_buf_adds(q, hex);
    b->p = env.data;
    b->len = env.len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data + 1, *nl;
    char qmem[8192], hex[WX_SIGN_HEX_LEN + 1];
    fuzz_body_t b = { 0 };
    wx_request_t req = { 0 };
    wx_response_t resp;
    wx_buf_t q;
    size_t qlen;
    unsigned flags;

    if (size < 1 || size > F_MAX)
        return 0;
    flags = data[0];
    size--;
    nl = memchr(in, '\n', size);
    qlen = nl ? (size_t)(nl - in) : size;
    b.p = nl ? nl + 1 : in + size;
    b.len = nl ? size - qlen - 1 : 0;
    wx_buf_init(&q, qmem, sizeof(qmem));
    if (flags & 1) {
        wx_str_t parts[3] = { WX_STR(F_TOKEN), WX_STR(F_TS), WX_STR(F_NONCE) };

        wx_sign(parts, 3, hex);
        wx_buf_adds(&q, "signature=");
        wx_buf_adds(&q, hex);
        wx_buf_adds(&q, "&timestamp=" F_TS "&nonce=" F_NONCE "&");
    }
    wx_buf_add(&q, in, qlen);
#ifdef WX_FUZZ_SAFE
    if ((flags & 4) && seal(b.p, b.len, &q, &b) != 0)
        goto out;
#else
    (void)seal;
#endif
    if (q.overflow)
        goto out;
    req.method = (flags & 2) ? WX_STR("GET") : WX_STR("POST");
    req.query = wx_buf_str(&q);
    req.content_length = (flags & 2) ? -1 : (long long)b.len;
    req.read = body_read;
    req.read_ctx = &b;
    wx_gw_handle(gw, &req, F_NOW, &resp);
    /* Everything the worker would send must be readable (ASan checks). */
    for (size_t i = 0; i < resp.body.len; i++)
        sink += (unsigned char)resp.body.data[i];
    wx_gw_done(gw);
out:
    wx_pool_reset(&pool);
    return 0;
}
