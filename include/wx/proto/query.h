/*
 * wx/proto/query.h - the query string of a WeChat callback (PROTOCOL.md 1.3).
 *
 * Only the parameters WeChat sends are kept; others are ignored.  Values are
 * percent-decoded ('+' is a space, as in form encoding) into the arena.
 * A query longer than WX_QUERY_MAX, a bad %-escape, a decoded NUL or a known
 * parameter given twice is WX_EINVAL: a request that can be read two ways is
 * refused rather than guessed at.
 */
#ifndef WX_QUERY_H
#define WX_QUERY_H

#include "wx/core/err.h"
#include "wx/core/str.h"

#define WX_QUERY_MAX    4096

typedef struct wx_query {
    wx_str_t signature;
    wx_str_t timestamp;
    wx_str_t nonce;
    wx_str_t echostr;
    wx_str_t openid;
    wx_str_t encrypt_type;
    wx_str_t msg_signature;
} wx_query_t;

/* Parse 'len' bytes of 'qs' (no leading '?').  Absent parameters are left
 * as { 0, NULL }; present but empty ones have data != NULL and len 0. */
wx_err_t wx_query_parse(const char *qs, size_t len, wx_pool_t *pool,
                        wx_query_t *q);

/* Percent-decode 'len' bytes of 'src' into 'dst' (at least len bytes).
 * Returns the decoded length, or -1 on a bad escape or a decoded NUL. */
long wx_url_decode(char *dst, const char *src, size_t len);

/* Copy the value of parameter 'name' of the query 'qs' (no leading '?'),
 * percent-decoded, into 'dst' ('cap' bytes, NUL-terminated).  Its
 * length; -1 when absent; -2 when malformed or too long for 'cap'. */
long wx_query_get(const char *qs, const char *name, char *dst, size_t cap);

/* The CGI CONTENT_LENGTH: its value, or -1 when absent, empty, not all
 * digits or absurdly large. */
long long wx_content_length(const char *s);

#endif
