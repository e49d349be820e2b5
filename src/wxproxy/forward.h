/*
 * forward.h - the parts of one call through the proxy, shared by the
 * files of the forwarder (forward.c: the call and its retry; request.c:
 * what the caller asks; body.c: the caller's body; answer.c: the attempt
 * and WeChat's answer).  Private to src/wxproxy/.
 */
#ifndef WXPROXY_FORWARD_H
#define WXPROXY_FORWARD_H

#include <stddef.h>
#include <curl/curl.h>
#include <fcgiapp.h>
#include <openssl/sha.h>

#include "wx/proto/token.h"
#include "wx/state/account_store.h"
#include "wx/state/store.h"
#include "wxproxy.h"

#define PX_PREFIX       "/wxapi"
#define PX_PATH_MAX     256
#define PX_KEY_MAX      1024            /* a longer X-Wx-Key is no key */
#define PX_QUERY_MAX    8192
#define PX_MEM_BODY     (1u << 20)      /* bodies above this spool to a file */
#define PX_PEEK         (64u << 10)     /* answer bytes held back for the errcode */
#define PX_HDR_MAX      512             /* Content-Type, Content-Disposition */
#define PX_ASK_MAX_MS   10000           /* the longest wait for wxtoken */

/* One account as a worker sees it: its records (token, tickets) and the
 * rate buckets of the calls made for it, in a store handle of its own,
 * opened at the first call that names it (account.c). */
typedef struct px_acct {
    const char         *name;           /* "default" ([wx]) or NAME */
    const char         *appid;          /* for /jssdk/config; may be NULL */
    wx_store_t         *st;             /* NULL until first used */
    wx_account_store_t  where;          /* the record's file, the Redis prefix */
    wx_token_t          last;           /* the token read last: served while
                                         * the store is down, until it expires */
} px_acct_t;

struct px {
    const px_conf_t    *cfg;
    px_acct_t          *acct;           /* [0]: the default account ([wx]), then
                                         * each [account.NAME] in file order */
    size_t              n_acct;
    char                ratelimit[4200];    /* the local bucket table's file */
    CURL               *curl;
    unsigned char     (*key_md)[SHA256_DIGEST_LENGTH];
};

/* The caller's body, replayable for the retry. */
typedef struct px_body {
    char           *mem;
    size_t          len;
    int             fd;             /* spooled: -1 when in memory */
    size_t          off;            /* read position of the current attempt */
} px_body_t;

/* One attempt's answer. */
typedef struct px_answer {
    FCGX_Request   *rq;
    long            status;
    char            ctype[PX_HDR_MAX];
    char            disp[PX_HDR_MAX];
    char           *peek;           /* PX_PEEK bytes */
    size_t          len;
    int             streaming;      /* headers sent; the rest goes straight out */
    int             upstream_5xx;   /* too big to hold and a server error */
    size_t          sent;
} px_answer_t;

/* What the access-log line says. */
typedef struct px_call {
    const char     *key;            /* the key's name, or "-" */
    px_acct_t      *acct;           /* the account it acts for (account.c) */
    char            path[PX_PATH_MAX + 8];
    int             status;
    long            errcode;
    int             has_errcode;
    int             retried;
    const char     *error;          /* own error code, or NULL */
} px_call_t;

/* The errcode of wxproxy's own refusals: this plus the HTTP status
 * (990400 ... 990504), a range no WeChat API answers with. */
#define PX_ERRCODE_BASE 990000

/* ---- request.c ---------------------------------------------------------- */

/* Refuse: status and {"errcode":PX_ERRCODE_BASE+status,"errmsg":text,
 * "error":code} (PROTOCOL.md 8a, so that a client that looks only at
 * errcode sees an error); 'extra' is more header lines
 * ("Retry-After: 1\r\n") or "". */
void px_refuse(FCGX_Request *rq, px_call_t *c, int status, const char *code,
               const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The WeChat path of the request (DOCUMENT_URI without /wxapi), checked;
 * 0, or -1 when it is not one. */
int px_api_path(FCGX_Request *rq, char *out, size_t cap);

/* The index of the key presented (compared in constant time), or -1. */
int px_find_key(px_t *px, const char *presented);

/* 'path' is in the key's list (never the token APIs). */
int px_path_allowed(const wx_proxy_key_t *k, const char *path);

/* The query can go into a URL as it is; append it without any
 * access_token (-1 when 'url' has no room). */
int px_query_ok(const char *query);
int px_append_query(char *url, size_t cap, const char *query);

/* ---- account.c ---------------------------------------------------------- */

/* Set up px->acct from the config (no store opened but the default
 * account's).  0, or -1 with 'err' set. */
int px_accounts_new(px_t *px, char *err, size_t errlen);
/* Open the default account's store (at start: a bad store stops it). */
int px_accounts_open_default(px_t *px, char *err, size_t errlen);
void px_accounts_free(px_t *px);

/* The account the call acts for: the header X-Wx-Account, else the one
 * account key 'pk' may act for; refused (400 account_required,
 * 400 unknown_account, 403 account_not_allowed, 503 no_store) with -1.
 * 0 with c->acct set and its store open. */
int px_pick_account(px_t *px, FCGX_Request *rq, const wx_proxy_key_t *pk, px_call_t *c);

/* 'req' as a line for wxtoken about c's account: "ACCOUNT NAME REQ" for
 * a named one, REQ for the default one. */
void px_account_line(const px_call_t *c, const char *req, char *out, size_t cap);

/* ---- web.c -------------------------------------------------------------- */

/* The routes answered without WeChat's access token (checked key, path
 * and rate first): the JS-SDK ticket from the store, /jssdk/config, the
 * OAuth code exchanged by wxtoken.  1 when 'c->path' was one of them and
 * is answered, 0 to forward it. */
int px_web_route(px_t *px, FCGX_Request *rq, px_call_t *c);

/* /sns/ calls other than the code exchange carry the follower's web
 * token: forwarded with the caller's query as it is, never the account's
 * token, never retried on a token error. */
int px_web_token_path(const char *path);

/* ---- body.c ------------------------------------------------------------- */

/* Read the caller's body into 'b' (memory, or an unlinked file past
 * PX_MEM_BODY).  0, or the status it was refused with (px_refuse done). */
int px_read_body(px_t *px, FCGX_Request *rq, px_call_t *c, px_body_t *b);

/* libcurl's read callback over a px_body_t, from b->off. */
size_t px_on_read(char *buf, size_t size, size_t n, void *user);

/* ---- answer.c ----------------------------------------------------------- */

/* One attempt with 'token' (NULL: the caller's query as it is, for the
 * web-token paths).  The curl code (CURLE_OK: 'a' holds the answer, or
 * has streamed it); 'why' says what failed otherwise. */
CURLcode px_attempt(px_t *px, FCGX_Request *rq, const char *path, const char *token,
                    const char *method, px_body_t *b, px_answer_t *a,
                    char *why, size_t whylen);

/* Send the held-back answer's head (Status, Content-Type, ...). */
void px_send_head(px_answer_t *a, int with_length);

/* The errcode of a held-back JSON answer: 1 with *errcode set (0 when
 * the JSON has none), 0 when it is no JSON object. */
int px_answer_errcode(const px_answer_t *a, long *errcode);

#endif
