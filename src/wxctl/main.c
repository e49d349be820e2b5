/*
 * main.c - wxctl, the command line of the suite.  This release has the
 * tools for testing a server the way WeChat does: sign, encrypt, decrypt.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wx/config.h"
#include "wx/crypt.h"
#include "wx/msg.h"
#include "wx/reply.h"
#include "wx/sign.h"
#include "wxctl.h"

#ifndef WX_VERSION
#define WX_VERSION "0.1.0"
#endif

#define WXCTL_MAX_INPUT (4u << 20)

static const char usage_text[] =
"Usage: wxctl [-c FILE] COMMAND [ARGS]\n"
"\n"
"The command line of wxfcgi.  Keys and tokens come from the config file\n"
"([wx] token, appid, encoding_aes_key) or the environment (WX_TOKEN,\n"
"WX_ENCODING_AES_KEY), never from the command line.\n"
"\n"
"Commands:\n"
"  sign TIMESTAMP NONCE [ENCRYPT]\n"
"        print the signature of a callback (PROTOCOL.md 1.2), or with\n"
"        ENCRYPT its msg_signature (4.5)\n"
"  encrypt [--compat] [--previous] [FILE]\n"
"        encrypt a plaintext message (FILE or standard input) the way WeChat\n"
"        pushes it in safe mode: <xml><ToUserName/><Encrypt/></xml>; with\n"
"        --compat, the plaintext with an <Encrypt> element added\n"
"  decrypt [--previous] [--no-verify] [FILE]\n"
"        decrypt an encrypted message or reply envelope (FILE or standard\n"
"        input) and print the plaintext; a reply's MsgSignature is checked\n"
"        unless --no-verify\n"
"  token [--show] [--refresh | --rejected]\n"
"        the access token in the store of wxtoken: its age and expiry, and\n"
"        only its first characters; --show prints the whole token alone;\n"
"        --refresh asks wxtoken for a new one first; --rejected reports the\n"
"        token read from standard input as rejected by WeChat (wxtoken\n"
"        refreshes it if it is still the current one)\n"
"\n"
"Options:\n"
"  -c, --config FILE   the config file (default: $WX_CONFIG, else wx.ini)\n"
"      --previous      use [wx] encoding_aes_key_previous\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Exit status: 0 on success, 1 on a failure (bad signature, a message that\n"
"does not decrypt, an unreadable file, no valid token, an error from\n"
"WeChat), 2 on a usage error, 3 when wxtoken cannot be reached.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("wxctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'wxctl --help' for more information.\n", stderr);
    return 2;
}

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

static int load_key(const wx_config_t *cfg, int previous, wx_crypt_t *key)
{
    const char *k = previous ? cfg->encoding_aes_key_previous : cfg->encoding_aes_key;

    if (k == NULL || cfg->appid == NULL) {
        fprintf(stderr, "wxctl: %s: [wx] appid and %s are needed\n", cfg->path,
                previous ? "encoding_aes_key_previous" : "encoding_aes_key");
        return -1;
    }
    if (wx_crypt_init(key, k, cfg->appid) != WX_OK) {
        fprintf(stderr, "wxctl: %s: the AES key is invalid\n", cfg->path);
        return -1;
    }
    return 0;
}

static int cmd_sign(const wx_config_t *cfg, int argc, char **argv)
{
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[4];
    int i;

    if (argc < 2 || argc > 3)
        return usage_error("%s", "sign takes TIMESTAMP NONCE [ENCRYPT]");
    parts[0] = wx_str_c(cfg->token);
    for (i = 0; i < argc; i++)
        parts[i + 1] = wx_str_c(argv[i]);
    if (wx_sign(parts, (size_t)argc + 1, hex) != WX_OK) {
        fputs("wxctl: signing failed\n", stderr);
        return 1;
    }
    puts(hex);
    return 0;
}

static int cmd_encrypt(const wx_config_t *cfg, int compat, int previous,
                       const char *path)
{
    wx_parser_t *p = NULL;
    wx_pool_t pool = { 0 };
    wx_crypt_t key;
    wx_buf_t b64;
    wx_msg_t msg;
    char *in = NULL, *end;
    size_t len = 0;
    int rc = 1;

    if (load_key(cfg, previous, &key) != 0)
        return 1;
    if ((in = read_input(path, &len)) == NULL)
        goto out;
    if (wx_pool_init(&pool, 4 * len + 4096) != WX_OK || (p = wx_parser_new(NULL)) == NULL)
        goto out;
    /* Parse it first: encrypting garbage would only move the error. */
    if (wx_msg_parse(p, &pool, in, len, &msg) != WX_OK) {
        fprintf(stderr, "wxctl: %s: not a message: %s\n", path ? path : "stdin",
                wx_parser_errmsg(p));
        goto out;
    }
    wx_buf_init(&b64, wx_pool_alloc(&pool, 2 * len + 256), 2 * len + 256);
    if (b64.data == NULL || wx_crypt_encrypt(&key, (wx_str_t){ len, in }, NULL, &pool, &b64) != WX_OK) {
        fputs("wxctl: encryption failed\n", stderr);
        goto out;
    }
    if (compat) {
        end = strstr(in, "</xml>");
        if (end == NULL) {
            fputs("wxctl: no </xml> to add <Encrypt> before\n", stderr);
            goto out;
        }
        printf("%.*s<Encrypt><![CDATA[%.*s]]></Encrypt>%s\n", (int)(end - in), in,
               (int)b64.len, b64.data, end);
    } else {
        printf("<xml><ToUserName><![CDATA[%s]]></ToUserName>"
               "<Encrypt><![CDATA[%.*s]]></Encrypt></xml>\n",
               msg.to_user.data ? msg.to_user.data : "", (int)b64.len, b64.data);
    }
    rc = 0;
out:
    wx_crypt_clear(&key);
    wx_parser_free(p);
    wx_pool_free(&pool);
    free(in);
    return rc;
}

static int cmd_decrypt(const wx_config_t *cfg, int previous, int verify,
                       const char *path)
{
    wx_parser_t *p = NULL;
    wx_pool_t pool = { 0 };
    wx_str_t plain, parts[4];
    wx_crypt_t key;
    wx_msg_t msg;
    char *in = NULL;
    size_t len = 0;
    wx_err_t err;
    int rc = 1;

    if (load_key(cfg, previous, &key) != 0)
        return 1;
    if ((in = read_input(path, &len)) == NULL)
        goto out;
    if (wx_pool_init(&pool, 4 * len + 4096) != WX_OK || (p = wx_parser_new(NULL)) == NULL)
        goto out;
    if (wx_msg_parse(p, &pool, in, len, &msg) != WX_OK || msg.encrypt.data == NULL) {
        fprintf(stderr, "wxctl: %s: no <Encrypt> element\n", path ? path : "stdin");
        goto out;
    }
    if (verify && msg.env_signature.data != NULL) {
        parts[0] = wx_str_c(cfg->token);
        parts[1] = msg.env_timestamp;
        parts[2] = msg.env_nonce;
        parts[3] = msg.encrypt;
        if (wx_sign_verify(parts, 4, msg.env_signature) != WX_OK) {
            fputs("wxctl: MsgSignature does not match\n", stderr);
            goto out;
        }
    }
    err = wx_crypt_decrypt(&key, msg.encrypt, &pool, &plain);
    if (err != WX_OK) {
        fprintf(stderr, "wxctl: cannot decrypt: %s\n", wx_strerror(err));
        goto out;
    }
    fwrite(plain.data, 1, plain.len, stdout);
    putchar('\n');
    rc = 0;
out:
    wx_crypt_clear(&key);
    wx_parser_free(p);
    wx_pool_free(&pool);
    free(in);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config",    required_argument, NULL, 'c' },
        { "compat",    no_argument,       NULL, 'C' },
        { "previous",  no_argument,       NULL, 'P' },
        { "no-verify", no_argument,       NULL, 'N' },
        { "show",      no_argument,       NULL, 'S' },
        { "refresh",   no_argument,       NULL, 'R' },
        { "rejected",  no_argument,       NULL, 'J' },
        { "help",      no_argument,       NULL, 'h' },
        { "version",   no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = getenv("WX_CONFIG");
    int opt, compat = 0, previous = 0, verify = 1, show = 0, refresh = 0, rejected = 0, rc;
    wx_config_t cfg;
    char err[512];
    const char *cmd;

    while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("wxctl %s\n", WX_VERSION); return 0;
        default: return usage_error("%s", "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error("%s", "no command");
    cmd = argv[optind++];
    /* Options may also follow the command. */
    while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'C': compat = 1; break;
        case 'P': previous = 1; break;
        case 'N': verify = 0; break;
        case 'S': show = 1; break;
        case 'R': refresh = 1; break;
        case 'J': rejected = 1; break;
        default: return usage_error("%s", "unknown option");
        }
    }
    if (strcmp(cmd, "sign") != 0 && strcmp(cmd, "encrypt") != 0 &&
        strcmp(cmd, "decrypt") != 0 && strcmp(cmd, "token") != 0)
        return usage_error("unknown command '%s'", cmd);
    if (wx_config_load(&cfg, path ? path : "wx.ini", err, sizeof(err)) != WX_OK) {
        fprintf(stderr, "wxctl: %s\n", err);
        return 1;
    }
    if (strcmp(cmd, "token") == 0)
        rc = optind < argc ? usage_error("%s", "token takes no argument") :
             refresh && rejected ? usage_error("%s", "--refresh or --rejected, not both") :
             wxctl_token(&cfg, show, refresh, rejected);
    else if (strcmp(cmd, "sign") == 0)
        rc = cmd_sign(&cfg, argc - optind, argv + optind);
    else if (argc - optind > 1)
        rc = usage_error("%s", "one FILE at most");
    else if (strcmp(cmd, "encrypt") == 0)
        rc = cmd_encrypt(&cfg, compat, previous, optind < argc ? argv[optind] : NULL);
    else
        rc = cmd_decrypt(&cfg, previous, verify, optind < argc ? argv[optind] : NULL);
    wx_config_free(&cfg);
    return rc;
}
