/* store_redis_conn.c - the redis backend's connection (see store_redis.h):
 * the server's address, connect (directly or through Sentinel), AUTH,
 * SELECT, a master check, and one command or script at a time (or one sent
 * without waiting, its answer read before the next), with the connection
 * dropped on any failure and opened again after a backoff.  Each failure
 * is sorted into a kind (wx_store_fail_t) for the caller's metrics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wx/core/proc.h"
#include "store_redis.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  2000

/* ---- keys ---------------------------------------------------------------- */

/* PREFIX NS SEP KEY into 'buf'; its length, or 0 when too long. */
size_t wx_redis_make_key(const wx_store_redis_t *r, const wx_store_key_t *key,
                       const char *sep, char *buf)
{
    size_t p = strlen(r->prefix), n = strlen(key->ns), s = strlen(sep);

    if (p + n + s + key->len > WX_STORE_REDIS_KEY_MAX)
        return 0;
    memcpy(buf, r->prefix, p);
    memcpy(buf + p, key->ns, n);
    memcpy(buf + p + n, sep, s);
    if (key->len)
        memcpy(buf + p + n + s, key->data, key->len);
    return p + n + s + key->len;
}

wx_err_t wx_redis_key1(wx_store_t *st, const wx_store_key_t *key, const char *sep)
{
    wx_store_redis_t *r = st->be;

    r->k1len = wx_redis_make_key(r, key, sep, r->k1);
    if (r->k1len == 0)
        return wx_store_fail(st, WX_EINVAL, "redis: a key of %zu bytes is too long",
                             key->len);
    return WX_OK;
}

/* ---- the connection ------------------------------------------------------ */

void wx_redis_drop(wx_store_redis_t *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    r->pending = 0;
}

/* The kind of an I/O failure of 'c' (errno 'e'): a read past SO_RCVTIMEO
 * fails with EAGAIN, a connect past its timeout with ETIMEDOUT. */
static wx_store_fail_t io_kind(const redisContext *c, int e)
{
    if (c->err == REDIS_ERR_PROTOCOL)
        return WX_STORE_FAIL_PROTOCOL;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT || e == EINPROGRESS ||
        strstr(c->errstr, "temporarily unavailable") || strstr(c->errstr, "timed out"))
        return WX_STORE_FAIL_TIMEOUT;
    return WX_STORE_FAIL_CONNECT;
}

/* The kind of an error reply. */
static wx_store_fail_t reply_kind(const char *s)
{
    if (strncmp(s, "NOAUTH", 6) == 0 || strncmp(s, "WRONGPASS", 9) == 0 ||
        strstr(s, "invalid password") || strstr(s, "invalid username"))
        return WX_STORE_FAIL_AUTH;
    if (strncmp(s, "READONLY", 8) == 0 || strncmp(s, "MASTERDOWN", 10) == 0)
        return WX_STORE_FAIL_READONLY;
    return WX_STORE_FAIL_OTHER;
}

void wx_redis_set_owner(wx_store_redis_t *r)
{
    static unsigned long counter;
    char host[64] = "";

    /* The counter starts at the time: a pid reused on this host (a
     * restarted container) is another owner. */
    if (counter == 0)
        counter = (unsigned long)wx_wall_ms();
    gethostname(host, sizeof(host) - 1);
    snprintf(r->owner, sizeof(r->owner), "%s:%ld:%lu", host, (long)wx_pid(), counter++);
    r->pid = wx_pid();
}

static redisContext *dial(wx_store_redis_t *r, const char *host, int port, char *err,
                          size_t errlen)
{
    struct timeval tv = { r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000 };
    redisContext *c = host ? redisConnectWithTimeout(host, port, tv)
                           : redisConnectUnixWithTimeout(r->path, tv);

    if (c == NULL) {
        r->fail = WX_STORE_FAIL_OTHER;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (c->err == 0 && redisSetTimeout(c, tv) != REDIS_OK)
        c->err = REDIS_ERR_IO;
    if (c->err) {
        r->fail = io_kind(c, errno);
        snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr : strerror(errno));
        redisFree(c);
        return NULL;
    }
    return c;
}

/* One command at connect time: its reply, or NULL with 'err' and r->fail
 * set. */
static redisReply *hello_cmd(wx_store_redis_t *r, redisContext *c, char *err, size_t errlen,
                             int argc, const char **argv, const char *what)
{
    redisReply *rep;

    errno = 0;
    rep = redisCommandArgv(c, argc, argv, NULL);
    if (rep == NULL) {
        r->fail = io_kind(c, errno);
        snprintf(err, errlen, "%s: %s%s", what, c->errstr[0] ? c->errstr : "no answer",
                 c->err == REDIS_ERR_PROTOCOL ? " (is this a Redis server?)" : "");
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        r->fail = reply_kind(rep->str);
        if (strcmp(what, "AUTH") == 0)
            r->fail = WX_STORE_FAIL_AUTH;
        if (strncmp(rep->str, "NOAUTH", 6) == 0)
            snprintf(err, errlen, "AUTH failed: the server wants a password and none is set");
        else
            snprintf(err, errlen, "%s failed: %.*s", what, (int)rep->len, rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* AUTH, SELECT and a check that the server is a master that answers. */
static int greet(wx_store_redis_t *r, redisContext *c, char *err, size_t errlen)
{
    char db[16];
    const char *auth[] = { "AUTH", r->user, r->password };
    const char *sel[] = { "SELECT", db };
    const char *role[] = { "ROLE" };
    redisReply *rep;
    int ok;

    if (r->password[0]) {
        /* AUTH PASSWORD, or AUTH USER PASSWORD (Redis 6 ACLs) */
        if (r->user[0] == '\0')
            auth[1] = r->password;
        if ((rep = hello_cmd(r, c, err, errlen, r->user[0] ? 3 : 2, auth, "AUTH")) == NULL)
            return -1;
        freeReplyObject(rep);
    }
    if (r->db) {
        snprintf(db, sizeof(db), "%d", r->db);
        if ((rep = hello_cmd(r, c, err, errlen, 2, sel, "SELECT")) == NULL)
            return -1;
        freeReplyObject(rep);
    }
    /* ROLE answers [role, ...]: a replica would refuse every write. */
    if ((rep = hello_cmd(r, c, err, errlen, 1, role, "ROLE")) == NULL)
        return -1;
    ok = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
         rep->element[0]->type == REDIS_REPLY_STRING &&
         strcmp(rep->element[0]->str, "master") == 0;
    if (!ok) {
        r->fail = WX_STORE_FAIL_READONLY;
        snprintf(err, errlen, "ROLE: not a master");
    }
    freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* Ask the Sentinels in turn for the master's address: its connection. */
static redisContext *via_sentinel(wx_store_redis_t *r, char *err, size_t errlen)
{
    const char *argv[] = { "SENTINEL", "get-master-addr-by-name", r->master };
    char list[sizeof(r->sentinels)], host[256], *save = NULL, *tok;
    redisContext *c = NULL;

    snprintf(list, sizeof(list), "%s", r->sentinels);
    snprintf(err, errlen, "no Sentinel answered");
    r->fail = WX_STORE_FAIL_CONNECT;
    for (tok = strtok_r(list, " \t,", &save); tok && c == NULL;
         tok = strtok_r(NULL, " \t,", &save)) {
        char *colon = strrchr(tok, ':'), *end;
        redisContext *s;
        redisReply *rep;
        long port;

        if (colon == NULL || (port = strtol(colon + 1, &end, 10)) <= 0 || *end)
            continue;
        *colon = '\0';
        if ((s = dial(r, tok, (int)port, err, errlen)) == NULL)
            continue;
        rep = hello_cmd(r, s, err, errlen, 3, argv, "SENTINEL get-master-addr-by-name");
        redisFree(s);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_STRING &&
            rep->element[1]->type == REDIS_REPLY_STRING) {
            snprintf(host, sizeof(host), "%s", rep->element[0]->str);
            port = strtol(rep->element[1]->str, NULL, 10);
            snprintf(r->where, sizeof(r->where), "%.200s:%ld (master %.100s)", host, port, r->master);
            c = dial(r, host, (int)port, err, errlen);
        } else if (rep) {
            r->fail = WX_STORE_FAIL_OTHER;
            snprintf(err, errlen, "Sentinel %s knows no master %s", tok, r->master);
        }
        freeReplyObject(rep);
    }
    return c;
}

/* The handle's connection, opened if need be.  WX_ESYS while the server
 * is down: a connect is tried at most once a backoff period. */
wx_err_t wx_redis_conn(wx_store_t *st)
{
    wx_store_redis_t *r = st->be;
    char err[256];
    int64_t now;

    if (r->pid != wx_pid()) {
        /* A forked child: the socket is the parent's; closing our copy
         * leaves the parent's connection alone. */
        wx_redis_drop(r);
        wx_redis_set_owner(r);
        r->retry_at = 0;
        r->backoff = 0;
        r->lock_klen = 0;       /* the parent's lock, not ours */
    }
    if (r->c)
        return WX_OK;
    now = wx_now_ms();
    if (now < r->retry_at) {
        wx_store_fail(st, WX_ESYS, "redis %s: down (%s); next try in %lld ms",
                      r->where, r->down, (long long)(r->retry_at - now));
        st->kind = WX_STORE_FAIL_BACKOFF;
        return WX_ESYS;
    }
    r->c = r->sentinels[0] ? via_sentinel(r, err, sizeof(err))
                           : dial(r, r->path[0] ? NULL : r->host, r->port, err, sizeof(err));
    if (r->c && greet(r, r->c, err, sizeof(err)) != 0)
        wx_redis_drop(r);
    if (r->c == NULL) {
        r->backoff = r->backoff ? r->backoff * 2 : BACKOFF_MIN_MS;
        if (r->backoff > BACKOFF_MAX_MS)
            r->backoff = BACKOFF_MAX_MS;
        r->retry_at = wx_now_ms() + r->backoff;
        snprintf(r->down, sizeof(r->down), "%s", err);
        wx_store_fail(st, WX_ESYS, "redis %s: %s", r->where, err);
        st->kind = r->fail;
        return WX_ESYS;
    }
    r->backoff = 0;
    return WX_OK;
}

/* The connection failed mid-call: drop it; the next call reconnects. */
wx_err_t wx_redis_broken(wx_store_t *st, wx_store_fail_t kind, const char *what)
{
    wx_store_redis_t *r = st->be;

    wx_store_fail(st, WX_ESYS, "redis %s: %s", r->where, what);
    st->kind = kind;
    snprintf(r->down, sizeof(r->down), "%s", what);
    wx_redis_drop(r);
    return WX_ESYS;
}

/* An error reply: a master turned replica (a failover) or a server not
 * ready or that forgot our AUTH (a restart) makes the next call connect
 * again, through Sentinel if so set. */
static void error_reply(wx_store_t *st, const redisReply *rep)
{
    wx_store_redis_t *r = st->be;

    if (strncmp(rep->str, "READONLY", 8) == 0 || strncmp(rep->str, "LOADING", 7) == 0 ||
        strncmp(rep->str, "NOAUTH", 6) == 0)
        wx_redis_drop(r);
    wx_store_fail(st, WX_ESYS, "redis %s: %.*s", r->where, (int)rep->len, rep->str);
    st->kind = reply_kind(rep->str);
}

/* Read the answers of the commands sent without waiting (they came while
 * the process did other work: no wait as a rule).  One that failed is
 * counted in st->lost; a connection that fails here is dropped, and its
 * finishes are lost with it. */
static void drain(wx_store_t *st)
{
    wx_store_redis_t *r = st->be;
    void *p;

    while (r->c && r->pending) {
        redisReply *rep;

        if (redisGetReply(r->c, &p) != REDIS_OK || p == NULL) {
            st->lost += r->pending;
            wx_redis_drop(r);
            return;
        }
        r->pending--;
        rep = p;
        if (rep->type == REDIS_REPLY_ERROR) {
            st->lost++;
            if (strncmp(rep->str, "READONLY", 8) == 0 || strncmp(rep->str, "LOADING", 7) == 0 ||
                strncmp(rep->str, "NOAUTH", 6) == 0)
                wx_redis_drop(r);
        }
        freeReplyObject(rep);
    }
}

wx_err_t wx_redis_send(wx_store_t *st, int argc, const char **argv, const size_t *lens)
{
    wx_store_redis_t *r = st->be;
    int done = 0;

    if (wx_redis_conn(st) != WX_OK)
        return WX_ESYS;
    if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK)
        return wx_redis_broken(st, WX_STORE_FAIL_OTHER, "out of memory");
    errno = 0;
    while (!done)
        if (redisBufferWrite(r->c, &done) != REDIS_OK)
            return wx_redis_broken(st, io_kind(r->c, errno),
                                   r->c->errstr[0] ? r->c->errstr : "cannot send");
    r->pending++;
    return WX_OK;
}

void wx_redis_settle(wx_store_t *st)
{
    wx_store_redis_t *r = st->be;

    if (r->pid == wx_pid())
        drain(st);
}

/* A connection that was made before the server went away (a restart, a
 * failover): its first write fails with EPIPE, or its read finds the
 * socket closed.  Not a timeout: a slow server may still run the command. */
static int stale(const redisContext *c, int e)
{
    return c->err == REDIS_ERR_EOF ||
           (c->err == REDIS_ERR_IO && (e == EPIPE || e == ECONNRESET));
}

/* Run one command; the reply, never an error reply (NULL: st->error). */
redisReply *wx_redis_call(wx_store_t *st, int argc, const char **argv, const size_t *lens)
{
    wx_store_redis_t *r = st->be;
    redisReply *rep;
    int had;

    if (r->pid == wx_pid())
        drain(st);
    had = r->c != NULL && r->pid == wx_pid();
    if (wx_redis_conn(st) != WX_OK)
        return NULL;
    errno = 0;
    rep = redisCommandArgv(r->c, argc, argv, lens);
    if (rep == NULL && had && stale(r->c, errno)) {
        /* The server that closed it never ran the command: once more, on
         * a new connection, rather than answer this caller with a failure
         * (every worker would lose one message after each restart). */
        wx_redis_drop(r);
        if (wx_redis_conn(st) != WX_OK)
            return NULL;
        rep = redisCommandArgv(r->c, argc, argv, lens);
    }
    if (rep == NULL) {
        wx_redis_broken(st, io_kind(r->c, errno),
                        r->c->err == REDIS_ERR_PROTOCOL ? "garbage in a reply (not Redis?)"
                        : r->c->errstr[0] ? r->c->errstr : "no answer");
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        error_reply(st, rep);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* EVALSHA 'script' (its SHA-1 'sha') with 'nkeys' keys (k1, k2) and 'nargs' arguments;
 * the script itself with EVAL when the server does not have it. */
redisReply *wx_redis_eval(wx_store_t *st, const char *script, const char *sha, int nkeys,
                          int nargs, const char **args, const size_t *alens)
{
    wx_store_redis_t *r = st->be;
    const char *argv[12];
    size_t lens[12];
    redisReply *rep;
    int i, n = 0;

    argv[n] = "EVALSHA", lens[n++] = 7;
    argv[n] = sha, lens[n++] = WX_SIGN_HEX_LEN;
    argv[n] = nkeys == 1 ? "1" : "2", lens[n++] = 1;
    argv[n] = r->k1, lens[n++] = r->k1len;
    if (nkeys == 2)
        argv[n] = r->k2, lens[n++] = r->k2len;
    for (i = 0; i < nargs; i++)
        argv[n] = args[i], lens[n++] = alens[i];
    rep = wx_redis_call(st, n, argv, lens);
    if (rep == NULL && strstr(st->error, "NOSCRIPT") != NULL) {
        argv[0] = "EVAL", lens[0] = 4;
        argv[1] = script, lens[1] = strlen(script);
        rep = wx_redis_call(st, n, argv, lens);
    }
    return rep;
}

wx_err_t wx_redis_bad_reply(wx_store_t *st, redisReply *rep, const char *what)
{
    freeReplyObject(rep);
    return wx_redis_broken(st, WX_STORE_FAIL_PROTOCOL, what);
}

/* ---- open and close ------------------------------------------------------ */

/* "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" or "unix:/PATH[?db=N]". */
static int parse_url(wx_store_redis_t *r, const char *url)
{
    const char *p, *at, *slash, *colon, *q;
    char *end;
    long n;

    r->port = 6379;
    if (strncmp(url, "unix:", 5) == 0) {
        p = url + 5;
        q = strstr(p, "?db=");
        n = q ? (long)(q - p) : (long)strlen(p);
        if (n == 0 || n >= (long)sizeof(r->path))
            return -1;
        memcpy(r->path, p, (size_t)n);
        r->path[n] = '\0';
        if (q && ((r->db = (int)strtol(q + 4, &end, 10)) < 0 || *end || end == q + 4))
            return -1;
        snprintf(r->where, sizeof(r->where), "unix:%s", r->path);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return -1;
    p = url + 8;
    slash = strchr(p, '/');
    at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
    if (at) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL || (size_t)(colon - p) >= sizeof(r->user) ||
            (size_t)(at - colon - 1) >= sizeof(r->password))
            return -1;
        memcpy(r->user, p, (size_t)(colon - p));
        memcpy(r->password, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    n = slash ? (long)(slash - p) : (long)strlen(p);
    if (n <= 0 || n >= (long)sizeof(r->host))
        return -1;
    memcpy(r->host, p, (size_t)n);
    if ((colon = strrchr(r->host, ':')) != NULL) {
        n = strtol(colon + 1, &end, 10);
        if (*end || n <= 0 || n > 65535)
            return -1;
        r->port = (int)n;
        *(char *)colon = '\0';
    }
    if (slash && slash[1] && ((r->db = (int)strtol(slash + 1, &end, 10)) < 0 || *end))
        return -1;
    snprintf(r->where, sizeof(r->where), "%s:%d", r->host, r->port);
    return 0;
}

wx_err_t wx_redis_conf(wx_store_redis_t *r, const wx_store_conf_t *conf, char *err,
                           size_t errlen)
{
    if (conf->redis && conf->redis[0]) {
        if (parse_url(r, conf->redis) != 0) {
            /* Not the URL itself: it may hold a password. */
            snprintf(err, errlen, "[state] redis: not redis://[:PASSWORD@]HOST:PORT/DB "
                     "nor unix:/PATH[?db=N]");
            return WX_ECONFIG;
        }
    } else if (conf->sentinels && conf->sentinels[0] && conf->sentinel_master &&
               conf->sentinel_master[0]) {
        snprintf(r->sentinels, sizeof(r->sentinels), "%s", conf->sentinels);
        snprintf(r->master, sizeof(r->master), "%s", conf->sentinel_master);
        snprintf(r->where, sizeof(r->where), "master %s", r->master);
    } else {
        snprintf(err, errlen, "[state] store = redis: set redis, or sentinels and "
                 "sentinel_master");
        return WX_ECONFIG;
    }
    if (conf->password && conf->password[0])
        snprintf(r->password, sizeof(r->password), "%s", conf->password);
    snprintf(r->prefix, sizeof(r->prefix), "%s", conf->prefix ? conf->prefix : "");
    snprintf(r->lease_name, sizeof(r->lease_name), "%s",
             conf->lease.name ? conf->lease.name : "lease");
    snprintf(r->rec_name, sizeof(r->rec_name), "%s",
             conf->record.name ? conf->record.name : "record");
    r->timeout_ms = conf->timeout_ms ? conf->timeout_ms : WX_STORE_REDIS_TIMEOUT;
    return WX_OK;
}

