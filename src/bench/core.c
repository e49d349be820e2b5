/*
 * core.c - wx-bench-core: the benchmark's messages, and the gateway driven
 * in-process so that callgrind can count its instructions.
 *
 *   wx-bench-core gen CONFIG N   N signed requests, one a line:
 *                                "QUERY<TAB>BODY", for wrk (bench.lua)
 *   wx-bench-core run CONFIG N   the same N requests through wx_gw_handle
 *
 * The requests are text messages with distinct MsgIds, signed with the
 * config's token at the current time and, in safe mode, encrypted with its
 * key: what WeChat would send.  "run" is meant for
 *   valgrind --tool=callgrind --toggle-collect=wx_gw_handle
 * which counts the verify + parse + handler + reply path alone, without
 * the generation of the requests or the FastCGI transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "wx/core/config.h"
#include "wx/proto/crypt.h"
#include "wxfcgi/gateway.h"
#include "wx/proto/sign.h"

#define BODY_MAX    4096
#define QUERY_MAX   512

typedef struct {
    char    query[QUERY_MAX];
    char    body[BODY_MAX];
    size_t  body_len;
} bench_req_t;

typedef struct {
    const char *data;
    size_t      len, off;
} bench_body_t;

static long body_read(void *ctx, char *buf, size_t len)
{
    bench_body_t *b = ctx;
    size_t n = b->len - b->off < len ? b->len - b->off : len;

    memcpy(buf, b->data + b->off, n);
    b->off += n;
    return (long)n;
}

/* Request number 'i': a text message as a follower sends it. */
static int make_req(const wxfcgi_conf_t *cfg, const wx_crypt_t *key,
                    unsigned long i, time_t now, bench_req_t *r)
{
    char ts[24], nonce[24], sig[WX_SIGN_HEX_LEN + 1], msig[WX_SIGN_HEX_LEN + 1];
    char xml[1024];
    char mem[BODY_MAX * 2];
    /* The first half is the encryption's scratch arena, the second the
     * Base64 output. */
    wx_pool_t pool = { .base = mem, .size = BODY_MAX };
    wx_str_t parts[4];
    wx_buf_t b64;
    int n;

    n = snprintf(xml, sizeof(xml),
                 "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                 "<FromUserName><![CDATA[oBenchUser0123456789abcdefgh]]></FromUserName>"
                 "<CreateTime>%lld</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 "<Content><![CDATA[Hello, this is benchmark message %lu.]]></Content>"
                 "<MsgId>%lu</MsgId></xml>",
                 (long long)now, i, 24000000000000000UL + i);
    snprintf(ts, sizeof(ts), "%lld", (long long)now);
    snprintf(nonce, sizeof(nonce), "%lu", 100000000UL + i);
    parts[0] = wx_str_c(cfg->wx.token);
    parts[1] = wx_str_c(ts);
    parts[2] = wx_str_c(nonce);
    if (wx_sign(parts, 3, sig) != WX_OK)
        return -1;
    if (key == NULL) {
        memcpy(r->body, xml, (size_t)n);
        r->body_len = (size_t)n;
        snprintf(r->query, sizeof(r->query), "signature=%s&timestamp=%s&nonce=%s&openid="
                 "oBenchUser0123456789abcdefgh", sig, ts, nonce);
        return 0;
    }
    wx_buf_init(&b64, mem + BODY_MAX, BODY_MAX);
    if (wx_crypt_encrypt(key, (wx_str_t){ (size_t)n, xml }, NULL, &pool, &b64) != WX_OK ||
        b64.overflow)
        return -1;
    parts[3] = (wx_str_t){ b64.len, b64.data };
    if (wx_sign(parts, 4, msig) != WX_OK)
        return -1;
    n = snprintf(r->body, sizeof(r->body),
                 "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                 "<Encrypt><![CDATA[%.*s]]></Encrypt></xml>", (int)b64.len, b64.data);
    if (n < 0 || (size_t)n >= sizeof(r->body))
        return -1;
    r->body_len = (size_t)n;
    snprintf(r->query, sizeof(r->query), "signature=%s&timestamp=%s&nonce=%s&openid="
             "oBenchUser0123456789abcdefgh&encrypt_type=aes&msg_signature=%s",
             sig, ts, nonce, msig);
    return 0;
}

static int run(const wxfcgi_conf_t *cfg, const wx_crypt_t *key, unsigned long n)
{
    char err[256];
    wx_gw_t *gw = wx_gw_new(cfg, err, sizeof(err));
    bench_req_t *reqs;
    unsigned long i, bad = 0;
    time_t now = time(NULL);

    if (gw == NULL) {
        fprintf(stderr, "wx-bench-core: %s\n", err);
        return 1;
    }
    /* All requests first, so that the measured loop does nothing else. */
    reqs = calloc(n, sizeof(*reqs));
    if (reqs == NULL) {
        wx_gw_free(gw);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (make_req(cfg, key, i, now, &reqs[i]) != 0) {
            fputs("wx-bench-core: cannot make a request\n", stderr);
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        bench_body_t body = { reqs[i].body, reqs[i].body_len, 0 };
        wx_request_t rq = {
            .method = WX_STR("POST"),
            .query = wx_str_c(reqs[i].query),
            .content_length = (long long)reqs[i].body_len,
            .read = body_read,
            .read_ctx = &body,
        };
        wx_response_t resp;

        wx_gw_handle(gw, &rq, now, &resp);
        /* The echo handler answers every text; anything else is a bug
         * that would make the count meaningless. */
        if (resp.status != 200 || resp.body.len < 100)
            bad++;
        wx_gw_done(gw);
    }
    if (bad)
        fprintf(stderr, "wx-bench-core: %lu of %lu requests were not answered\n", bad, n);
out:
    free(reqs);
    wx_gw_free(gw);
    return bad || i < n ? 1 : 0;
}

static int gen(const wxfcgi_conf_t *cfg, const wx_crypt_t *key, unsigned long n)
{
    time_t now = time(NULL);
    bench_req_t r;
    unsigned long i;

    for (i = 0; i < n; i++) {
        if (make_req(cfg, key, i, now, &r) != 0) {
            fputs("wx-bench-core: cannot make a request\n", stderr);
            return 1;
        }
        printf("%s\t%.*s\n", r.query, (int)r.body_len, r.body);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const wxfcgi_conf_t *c;
    wx_config_t *cfg;
    wx_crypt_t key;
    char err[512];
    unsigned long n;
    char *end;
    int rc;

    if (argc != 4 || (strcmp(argv[1], "gen") != 0 && strcmp(argv[1], "run") != 0)) {
        fputs("usage: wx-bench-core gen|run CONFIG N\n", stderr);
        return 2;
    }
    n = strtoul(argv[3], &end, 10);
    if (*end != '\0' || n == 0) {
        fprintf(stderr, "wx-bench-core: '%s' is not a positive count\n", argv[3]);
        return 2;
    }
    if ((cfg = wx_config_load(&wxfcgi_spec, argv[2], err, sizeof(err))) == NULL) {
        fprintf(stderr, "wx-bench-core: %s\n", err);
        return 1;
    }
    c = wxfcgi_conf(cfg);
    if (c->wx.mode != WX_MODE_PLAIN &&
        wx_crypt_init(&key, c->wx.encoding_aes_key, c->wx.appid) != WX_OK) {
        fputs("wx-bench-core: bad encoding_aes_key or appid\n", stderr);
        wx_config_free(cfg);
        return 1;
    }
    if (strcmp(argv[1], "gen") == 0)
        rc = gen(c, c->wx.mode == WX_MODE_PLAIN ? NULL : &key, n);
    else
        rc = run(c, c->wx.mode == WX_MODE_PLAIN ? NULL : &key, n);
    if (c->wx.mode != WX_MODE_PLAIN)
        wx_crypt_clear(&key);
    wx_config_free(cfg);
    return rc;
}
