/*
 * crypt.c - wxctl sign, encrypt, decrypt: the tools for testing a server
 * the way WeChat calls it (PROTOCOL.md 1.2, 4).  The keys come from the
 * config or the environment, never from the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/proto/crypt.h"
#include "wx/proto/msg.h"
#include "wx/proto/parse.h"
#include "wx/proto/reply.h"
#include "wx/proto/sign.h"
#include "wxctl.h"

#define WXCTL_MAX_INPUT (4u << 20)

static char *read_input(const char *path, size_t *len)
{
    FILE *f = path && strcmp(path, "-") != 0 ? fopen(path, "rb") : stdin;
    char *buf = NULL;
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "wxctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = malloc(WXCTL_MAX_INPUT + 1);
    if (buf == NULL)
        goto out;
    n = fread(buf, 1, WXCTL_MAX_INPUT + 1, f);
    if (ferror(f) || n > WXCTL_MAX_INPUT) {
        fprintf(stderr, "wxctl: %s: %s\n", path ? path : "stdin",
                ferror(f) ? strerror(errno) : "larger than 4 MiB");
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    *len = n;
out:
    if (f != stdin)
        fclose(f);
    return buf;
}

static int load_key(const wxctl_conf_t *cfg, int previous, wx_crypt_t *key)
{
    const char *k = previous ? cfg->wx.encoding_aes_key_previous : cfg->wx.encoding_aes_key;

    if (k == NULL || cfg->wx.appid == NULL) {
        fprintf(stderr, "wxctl: %s: [wx] appid and %s are needed\n", cfg->base.path,
                previous ? "encoding_aes_key_previous" : "encoding_aes_key");
        return -1;
    }
    if (wx_crypt_init(key, k, cfg->wx.appid) != WX_OK) {
        fprintf(stderr, "wxctl: %s: the AES key is invalid\n", cfg->base.path);
        return -1;
    }
    return 0;
}

/* wxctl starts without a token: only what signs needs it. */
static int need_token(const wxctl_conf_t *cfg)
{
    char err[200];

    if (wx_account_need_token(&cfg->wx, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "wxctl: %s: %s\n", cfg->base.path, err);
    return -1;
}

int wxctl_sign(const wxctl_conf_t *cfg, int argc, char **argv)
{
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[4];
    int i;

    if (argc < 2 || argc > 3)
        return wxctl_usage("sign takes TIMESTAMP NONCE [ENCRYPT]");
    if (need_token(cfg) != 0)
        return 1;
    parts[0] = wx_str_c(cfg->wx.token);
    for (i = 0; i < argc; i++)
        parts[i + 1] = wx_str_c(argv[i]);
    if (wx_sign(parts, (size_t)argc + 1, hex) != WX_OK) {
        fputs("wxctl: signing failed\n", stderr);
        return 1;
    }
    puts(hex);
    return 0;
}

/* What encrypt and decrypt start from: the key, the input read whole and
 * parsed as a message (in its own pool).  in_close() releases it all and
 * wipes the key; it is safe on a zeroed crypt_in_t. */
typedef struct crypt_in {
    wx_parser_t *p;
    wx_pool_t    pool;
    wx_crypt_t   key;
    wx_msg_t     msg;
    char        *in;
    size_t       len;
} crypt_in_t;

/* Load the key and read the input into 'c': 0, or 1 after saying why
 * (in_close() then releases what was done). */
static int in_open(crypt_in_t *c, const wxctl_conf_t *cfg, int previous, const char *path)
{
    memset(c, 0, sizeof(*c));
    if (load_key(cfg, previous, &c->key) != 0)
        return 1;
    if ((c->in = read_input(path, &c->len)) == NULL)
        return 1;
    if (wx_pool_init(&c->pool, 4 * c->len + 4096) != WX_OK ||
        (c->p = wx_parser_new(NULL)) == NULL)
        return 1;
    return 0;
}

static void in_close(crypt_in_t *c)
{
    wx_crypt_clear(&c->key);
    wx_parser_free(c->p);
    wx_pool_free(&c->pool);
    free(c->in);
}

int wxctl_encrypt(const wxctl_conf_t *cfg, int compat, int previous,
                  const char *path)
{
    crypt_in_t c;
    wx_buf_t b64;
    char *end;
    int rc = 1;

    if (in_open(&c, cfg, previous, path) != 0)
        goto out;
    /* Parse it first: encrypting garbage would only move the error. */
    if (wx_msg_parse(c.p, &c.pool, c.in, c.len, &c.msg) != WX_OK) {
        fprintf(stderr, "wxctl: %s: not a message: %s\n", path ? path : "stdin",
                wx_parser_errmsg(c.p));
        goto out;
    }
    wx_buf_init(&b64, wx_pool_alloc(&c.pool, 2 * c.len + 256), 2 * c.len + 256);
    if (b64.data == NULL ||
        wx_crypt_encrypt(&c.key, (wx_str_t){ c.len, c.in }, NULL, &c.pool, &b64) != WX_OK) {
        fputs("wxctl: encryption failed\n", stderr);
        goto out;
    }
    if (compat) {
        end = strstr(c.in, "</xml>");
        if (end == NULL) {
            fputs("wxctl: no </xml> to add <Encrypt> before\n", stderr);
            goto out;
        }
        printf("%.*s<Encrypt><![CDATA[%.*s]]></Encrypt>%s\n", (int)(end - c.in), c.in,
               (int)b64.len, b64.data, end);
    } else {
        printf("<xml><ToUserName><![CDATA[%s]]></ToUserName>"
               "<Encrypt><![CDATA[%.*s]]></Encrypt></xml>\n",
               c.msg.to_user.data ? c.msg.to_user.data : "", (int)b64.len, b64.data);
    }
    rc = 0;
out:
    in_close(&c);
    return rc;
}

int wxctl_decrypt(const wxctl_conf_t *cfg, int previous, int verify,
                  const char *path)
{
    wx_str_t plain, parts[4];
    crypt_in_t c;
    wx_err_t err;
    int rc = 1;

    if (in_open(&c, cfg, previous, path) != 0)
        goto out;
    if (wx_msg_parse(c.p, &c.pool, c.in, c.len, &c.msg) != WX_OK || c.msg.encrypt.data == NULL) {
        fprintf(stderr, "wxctl: %s: no <Encrypt> element\n", path ? path : "stdin");
        goto out;
    }
    if (verify && c.msg.env_signature.data != NULL) {
        if (need_token(cfg) != 0)
            goto out;
        parts[0] = wx_str_c(cfg->wx.token);
        parts[1] = c.msg.env_timestamp;
        parts[2] = c.msg.env_nonce;
        parts[3] = c.msg.encrypt;
        if (wx_sign_verify(parts, 4, c.msg.env_signature) != WX_OK) {
            fputs("wxctl: MsgSignature does not match\n", stderr);
            goto out;
        }
    }
    err = wx_crypt_decrypt(&c.key, c.msg.encrypt, &c.pool, &plain);
    if (err != WX_OK) {
        fprintf(stderr, "wxctl: cannot decrypt: %s\n", wx_strerror(err));
        goto out;
    }
    fwrite(plain.data, 1, plain.len, stdout);
    putchar('\n');
    rc = 0;
out:
    in_close(&c);
    return rc;
}

