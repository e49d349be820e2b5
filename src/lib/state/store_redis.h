/*
 * store_redis.h - the redis backend of the state store, shared by its two
 * files: store_redis.c (the scripts and the operations) and
 * store_redis_conn.c (the address, the connection, a command's round
 * trip).  Private to src/lib/state/.
 *
 * The connection belongs to the process that opened it (pid): a child of
 * fork() drops its copy and connects anew.  Every failed call leaves a
 * message in st->error; an I/O error, a timeout or a reply of the wrong
 * shape drop the connection, and no connect is tried again before
 * retry_at (a backoff doubling from 100 ms to 2 s): a down server costs
 * one timeout a backoff period, then fails at once.
 */
#ifndef WX_STORE_REDIS_H
#define WX_STORE_REDIS_H

#include <sys/types.h>
#include <hiredis/hiredis.h>

#include "wx/proto/sign.h"
#include "store_impl.h"

enum { S_CLAIM, S_FINISH, S_TAKE, S_REPLACE, S_UNLOCK, S_COUNT };

typedef struct wx_store_redis {
    redisContext   *c;              /* NULL: not connected */
    pid_t           pid;            /* the process 'c' and 'owner' belong to */
    unsigned        pending;        /* answers not read yet (wx_redis_send) */
    wx_store_fail_t fail;           /* the kind of the last connect's failure */
    int             no_setget;      /* the server refused SET NX GET (< 7.0) */
    int64_t         retry_at;       /* wx_now_ms(): no connect before */
    unsigned        backoff;        /* ms; 0 after a success */
    unsigned        timeout_ms;
    char            down[256];      /* why the last connect failed */
    /* the server: a socket path, or host and port, or the Sentinels */
    char            path[256];
    char            host[256];
    int             port;
    int             db;
    char            user[64];
    char            password[256];
    char            sentinels[512];
    char            master[128];
    char            where[512];     /* for messages: no password */
    char            prefix[96];     /* [state] key_prefix (64) and an AppID and ":" */
    char            lease_name[64];
    char            rec_name[64];
    char            owner[128];     /* host:pid:counter, per process */
    unsigned long   fences;         /* lock acquisitions */
    char            sha[S_COUNT][WX_SIGN_HEX_LEN + 1];
    char            k1[WX_STORE_REDIS_KEY_MAX], k2[WX_STORE_REDIS_KEY_MAX];
    size_t          k1len, k2len;
    /* The lease key the last claim found held: asking for it again (a
     * retry waiting) goes to the script at once, one round trip, where
     * SET NX GET would only say "held" again. */
    char            held[WX_STORE_REDIS_KEY_MAX];
    size_t          held_len;
    /* the record lock held: its key and fencing value */
    char            lock_key[WX_STORE_REDIS_KEY_MAX];
    size_t          lock_klen;      /* 0: none */
    char            fence[160];
} wx_store_redis_t;

/* PREFIX NS SEP KEY into 'buf' (WX_STORE_REDIS_KEY_MAX bytes): its
 * length, 0 when too long.  wx_redis_key1(): into r->k1, or WX_EINVAL. */
size_t wx_redis_make_key(const wx_store_redis_t *r, const wx_store_key_t *key,
                         const char *sep, char *buf);
wx_err_t wx_redis_key1(wx_store_t *st, const wx_store_key_t *key, const char *sep);

/* Fill r from 'conf' (the address, password, prefix, names, timeout). */
wx_err_t wx_redis_conf(wx_store_redis_t *r, const wx_store_conf_t *conf, char *err,
                       size_t errlen);
/* This process's owner token (host:pid:counter) into r->owner. */
void wx_redis_set_owner(wx_store_redis_t *r);
/* The connection, opened if need be (not before retry_at): WX_OK or WX_ESYS. */
wx_err_t wx_redis_conn(wx_store_t *st);
void wx_redis_drop(wx_store_redis_t *r);
/* Fail with WX_ESYS (of 'kind') and drop the connection. */
wx_err_t wx_redis_broken(wx_store_t *st, wx_store_fail_t kind, const char *what);
/* The same, freeing 'rep' first: a reply of the wrong shape. */
wx_err_t wx_redis_bad_reply(wx_store_t *st, redisReply *rep, const char *what);
/* One command (binary-safe): its reply, never an error reply; NULL with
 * st->error set.  wx_redis_eval(): EVALSHA 'sha' with r->k1 (and r->k2
 * when 'nkeys' is 2) and 'nargs' arguments, EVAL 'script' on NOSCRIPT. */
redisReply *wx_redis_call(wx_store_t *st, int argc, const char **argv, const size_t *lens);
redisReply *wx_redis_eval(wx_store_t *st, const char *script, const char *sha, int nkeys,
                          int nargs, const char **args, const size_t *alens);
/* Send one command without reading its answer: WX_OK once written.  The
 * answer is read before the next command (wx_redis_call) or by
 * wx_redis_settle(); an error answer is counted in st->lost. */
wx_err_t wx_redis_send(wx_store_t *st, int argc, const char **argv, const size_t *lens);
void wx_redis_settle(wx_store_t *st);

#endif
