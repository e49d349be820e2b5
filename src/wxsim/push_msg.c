/*
 * push_msg.c - a message as WeChat sends it and a reply as WeChat checks it
 * (push.h; PROTOCOL.md 1.2, 3, 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "wx/proto/sign.h"
#include "wxsim/push.h"

/* Replies whose CreateTime is further from now than this are wrong. */
#define PUSH_CLOCK_SLACK_S  300
#define PUSH_CRYPT_POOL     (256u << 10)

void push_openid(char *dst, unsigned i)
{
    snprintf(dst, PUSH_OPENID_LEN + 1, "oWxsimFollower%014u", i);
}

/* The text of <name> in 'xml' (CDATA or not) into dst; its length, or -1
 * when absent or too long. */
static long field(const char *xml, const char *name, char *dst, size_t cap)
{
    char open[64], close[64];
    const char *p, *e;
    size_t n;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if ((p = strstr(xml, open)) == NULL)
        return -1;
    p += strlen(open);
    if ((e = strstr(p, close)) == NULL)
        return -1;
    if (strncmp(p, "<![CDATA[", 9) == 0 && e - p >= 12 && strncmp(e - 3, "]]>", 3) == 0) {
        p += 9;
        e -= 3;
    }
    n = (size_t)(e - p);
    if (n >= cap)
        return -1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return (long)n;
}

/* 'xml' with the content of <name> replaced by 'value' (CDATA when 'cdata'),
 * or the element added before </xml> when absent.  A new string. */
static char *set_field(const char *xml, const char *name, const char *value, int cdata)
{
    char open[64], close[64], *out;
    const char *p, *e;
    int add = 0;
    size_t n;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    p = strstr(xml, open);
    e = p ? strstr(p, close) : NULL;
    if (p == NULL || e == NULL) {
        if ((p = e = strstr(xml, "</xml>")) == NULL)
            return NULL;
        add = 1;
    } else {
        p += strlen(open);
    }
    n = (size_t)(p - xml) + strlen(value) + strlen(e) + 2 * strlen(open) + 16;
    if ((out = malloc(n)) == NULL)
        return NULL;
    snprintf(out, n, "%.*s%s%s%s%s%s%s", (int)(p - xml), xml, add ? open : "",
             cdata ? "<![CDATA[" : "", value, cdata ? "]]>" : "", add ? close : "", e);
    return out;
}

static int replace(char **xml, const char *name, const char *value, int cdata)
{
    char *n = set_field(*xml, name, value, cdata);

    if (n == NULL)
        return -1;
    free(*xml);
    *xml = n;
    return 0;
}

int push_msg_fill(push_msg_t *m, const char *xml, const char *to, unsigned long long msgid)
{
    char type[32], ev[32], num[32];  /* kind: 6 + 31 < 40 */

    if ((m->xml = strdup(xml)) == NULL || field(xml, "MsgType", type, sizeof(type)) <= 0)
        return -1;
    snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
    if (replace(&m->xml, "ToUserName", to, 1) != 0 ||
        replace(&m->xml, "FromUserName", m->openid, 1) != 0 ||
        replace(&m->xml, "CreateTime", num, 0) != 0)
        return -1;
    if (strcmp(type, "event") == 0) {
        if (field(xml, "Event", ev, sizeof(ev)) <= 0)
            snprintf(ev, sizeof(ev), "?");
        snprintf(m->kind, sizeof(m->kind), "event/%s", ev);
        if (field(m->xml, "EventKey", m->id, sizeof(m->id)) < 0)
            snprintf(m->id, sizeof(m->id), "-");
        return 0;
    }
    snprintf(m->kind, sizeof(m->kind), "%s", type);
    snprintf(m->id, sizeof(m->id), "%llu", msgid);
    return replace(&m->xml, "MsgId", m->id, 0);
}

#define PUSH_HEAD "<xml><ToUserName></ToUserName><FromUserName></FromUserName>" \
                  "<CreateTime></CreateTime><MsgType><![CDATA["

int push_msg_make(push_msg_t *m, unsigned kind, const char *to, unsigned long long msgid)
{
    char xml[512];

    if (kind == 0)
        snprintf(xml, sizeof(xml), PUSH_HEAD "text]]></MsgType><Content><![CDATA[message %u]]>"
                 "</Content><MsgId></MsgId></xml>", m->seq);
    else if (kind == 1)
        snprintf(xml, sizeof(xml), PUSH_HEAD "image]]></MsgType><PicUrl><![CDATA["
                 "http://mmbiz.example/%u.jpg]]></PicUrl><MediaId><![CDATA[media_%u]]>"
                 "</MediaId><MsgId></MsgId></xml>", m->seq, m->seq);
    else    /* unique keys: two clicks of one second would be one event */
        snprintf(xml, sizeof(xml), PUSH_HEAD "event]]></MsgType><Event><![CDATA[CLICK]]>"
                 "</Event><EventKey><![CDATA[KEY_%llu]]></EventKey></xml>", msgid);
    return push_msg_fill(m, xml, to, msgid);
}

static void nonce(char *dst, size_t len)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[32];
    size_t i;

    RAND_bytes(r, (int)len);
    for (i = 0; i < len; i++)
        dst[i] = al[r[i] % (sizeof(al) - 1)];
    dst[len] = '\0';
}

/* The body of safe and compat mode, and its msg_signature. */
static int encrypt_body(push_msg_t *m, const push_opts_t *o, const push_account_t *a,
                        const char *ts,
                        const char *nc, char sig[WX_SIGN_HEX_LEN + 1])
{
    wx_pool_t pool;
    wx_buf_t out;
    int rc = -1;
    size_t n;

    if (wx_pool_init(&pool, PUSH_CRYPT_POOL + 2 * strlen(m->xml)) != 0)
        return -1;
    if (wx_buf_from_pool(&out, &pool, PUSH_CRYPT_POOL + 2 * strlen(m->xml)) == 0 &&
        wx_crypt_encrypt(&a->keys[0], wx_str_c(m->xml), NULL, &pool, &out) == WX_OK &&
        !out.overflow) {
        wx_str_t parts[4] = { wx_str_c(a->token), wx_str_c(ts), wx_str_c(nc),
                              wx_buf_str(&out) };

        n = out.len + 256;
        if (wx_sign(parts, 4, sig) == WX_OK && (m->body = malloc(n)) != NULL) {
            snprintf(m->body, n, "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt>"
                     "<![CDATA[%.*s]]></Encrypt></xml>", o->to, (int)out.len, out.data);
            rc = 0;
        }
    }
    wx_pool_free(&pool);
    return rc;
}

int push_msg_sign(push_msg_t *m, const push_opts_t *o, const push_account_t *a)
{
    char ts[24], nc[17], sig[WX_SIGN_HEX_LEN + 1], msig[WX_SIGN_HEX_LEN + 1];
    wx_str_t parts[3];
    size_t n;

    free(m->url);
    free(m->body);
    m->url = m->body = NULL;
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    nonce(nc, 16);
    parts[0] = wx_str_c(a->token);
    parts[1] = wx_str_c(ts);
    parts[2] = wx_str_c(nc);
    if (wx_sign(parts, 3, sig) != WX_OK)
        return -1;
    if (o->mode == WX_MODE_PLAIN)
        m->body = strdup(m->xml);
    else if (encrypt_body(m, o, a, ts, nc, msig) != 0)
        return -1;
    if (m->body == NULL)
        return -1;
    n = strlen(o->url) + 256;
    if ((m->url = malloc(n)) == NULL)
        return -1;
    snprintf(m->url, n, "%s%ssignature=%s&timestamp=%s&nonce=%s&openid=%s%s%s", o->url,
             strchr(o->url, '?') ? "&" : "?", sig, ts, nc, m->openid,
             o->mode == WX_MODE_PLAIN ? "" : "&encrypt_type=aes&msg_signature=",
             o->mode == WX_MODE_PLAIN ? "" : msig);
    return 0;
}

/* An encrypted reply: its signature checked, decrypted with a key of the
 * account into 'plain' (malloc).  NULL with m->desc saying why. */
static char *open_reply(push_msg_t *m, const push_account_t *a)
{
    char *enc = malloc(m->ans_len + 1), sig[64], ts[32], nc[64], *plain = NULL;
    wx_pool_t pool;
    unsigned i;

    if (enc == NULL || field(m->ans, "Encrypt", enc, m->ans_len + 1) <= 0 ||
        field(m->ans, "MsgSignature", sig, sizeof(sig)) <= 0 ||
        field(m->ans, "TimeStamp", ts, sizeof(ts)) <= 0 ||
        field(m->ans, "Nonce", nc, sizeof(nc)) <= 0) {
        snprintf(m->desc, sizeof(m->desc), "encrypted reply without Encrypt, MsgSignature, "
                 "TimeStamp or Nonce");
        goto out;
    }
    {
        wx_str_t parts[4] = { wx_str_c(a->token), wx_str_c(ts), wx_str_c(nc), wx_str_c(enc) };

        if (wx_sign_verify(parts, 4, wx_str_c(sig)) != WX_OK) {
            snprintf(m->desc, sizeof(m->desc), "reply MsgSignature does not verify");
            goto out;
        }
    }
    if (wx_pool_init(&pool, 2 * m->ans_len + 4096) != 0)
        goto out;
    for (i = 0; i < a->n_keys && plain == NULL; i++) {
        wx_str_t s;

        wx_pool_reset(&pool);
        if (wx_crypt_decrypt(&a->keys[i], wx_str_c(enc), &pool, &s) == WX_OK)
            plain = strndup(s.data, s.len);
    }
    wx_pool_free(&pool);
    if (plain == NULL)
        snprintf(m->desc, sizeof(m->desc), "reply does not decrypt with the account's keys");
out:
    free(enc);
    return plain;
}

/* Check a plaintext reply XML: addressed back (from the account 'o->to'),
 * a MsgType, a current CreateTime; what the follower sees into m->desc. */
static push_outcome_t check_reply(push_msg_t *m, const push_opts_t *o, const char *xml)
{
    char to[PUSH_OPENID_LEN + 8], from[WX_ORIGINAL_ID_MAX + 8], type[32], ct[32], text[64];
    long long t;

    if (field(xml, "ToUserName", to, sizeof(to)) < 0 || strcmp(to, m->openid) != 0 ||
        field(xml, "FromUserName", from, sizeof(from)) < 0 || strcmp(from, o->to) != 0) {
        snprintf(m->desc, sizeof(m->desc), "reply not addressed back to the follower");
        return PUSH_MALFORMED;
    }
    if (field(xml, "MsgType", type, sizeof(type)) <= 0 ||
        field(xml, "CreateTime", ct, sizeof(ct)) <= 0) {
        snprintf(m->desc, sizeof(m->desc), "reply without MsgType or CreateTime");
        return PUSH_MALFORMED;
    }
    t = atoll(ct);
    if (t < (long long)time(NULL) - PUSH_CLOCK_SLACK_S ||
        t > (long long)time(NULL) + PUSH_CLOCK_SLACK_S) {
        snprintf(m->desc, sizeof(m->desc), "reply CreateTime %s is not current", ct);
        return PUSH_MALFORMED;
    }
    if (strcmp(type, "text") == 0 && field(xml, "Content", text, sizeof(text)) >= 0)
        snprintf(m->desc, sizeof(m->desc), "text \"%s\"", text);
    else
        snprintf(m->desc, sizeof(m->desc), "%s", type);
    return PUSH_ANSWERED;
}

push_outcome_t push_msg_judge(push_msg_t *m, const push_opts_t *o, const push_account_t *a)
{
    push_outcome_t r;
    char *plain;

    if (m->ans_len == 0 || (m->ans_len == 7 && memcmp(m->ans, "success", 7) == 0)) {
        snprintf(m->desc, sizeof(m->desc), "nothing (%s)", m->ans_len ? "success" : "empty");
        return PUSH_SUCCESS;
    }
    if (strstr(m->ans, "<Encrypt>") == NULL) {
        if (o->mode == WX_MODE_SAFE) {
            snprintf(m->desc, sizeof(m->desc), "a plaintext reply in safe mode");
            return PUSH_MALFORMED;
        }
        return check_reply(m, o, m->ans);
    }
    if (o->mode == WX_MODE_PLAIN) {
        snprintf(m->desc, sizeof(m->desc), "an encrypted reply in plain mode");
        return PUSH_MALFORMED;
    }
    if ((plain = open_reply(m, a)) == NULL)
        return PUSH_MALFORMED;
    r = check_reply(m, o, plain);
    free(plain);
    return r;
}

void push_msg_free(push_msg_t *m)
{
    if (m->easy)
        curl_easy_cleanup(m->easy);
    curl_slist_free_all(m->hdr);
    free(m->url);
    free(m->body);
    free(m->ans);
    free(m->xml);
    m->easy = NULL;
    m->hdr = NULL;
    m->url = m->body = m->ans = m->xml = NULL;
    m->ans_len = m->ans_cap = 0;
}
