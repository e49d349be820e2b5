/*
 * wx/state/token.h - the access-token store: one file, written by wxtoken alone,
 * read by every program that calls the WeChat API.
 *
 * The file is one line of text:
 *
 *     wxtoken1 VERSION OBTAINED EXPIRES TOKEN CHECK
 *
 * VERSION counts the tokens wxtoken has obtained (it only grows), OBTAINED
 * and EXPIRES are Unix seconds, CHECK is the SHA-1 (hex) of everything
 * before it.  It is written to a temporary file in the same directory,
 * fsync'ed and renamed over the old one, so a reader sees the old file or
 * the new one, never a mix; the check catches a file damaged any other way.
 * A reader never gets a token that has expired.
 *
 * Rejections are reported to wxtoken over a unix stream socket, one line
 * each way:
 *
 *     -> REJECTED TOKEN     the API refused TOKEN (40001, 40014, 42001)
 *     -> REFRESH            get a new token now (wxctl token --refresh)
 *     -> STATUS             nothing to do: just answer
 *     <- OK VERSION EXPIRES TOKEN
 *     <- ERR ERRCODE MESSAGE
 *
 * A REJECTED token that is no longer the current one is answered with the
 * current one at once: a burst of reports of one token causes one refresh.
 */
#ifndef WX_TOKEN_H
#define WX_TOKEN_H

#include <stddef.h>
#include <time.h>
#include "wx/core/err.h"

#define WX_TOKEN_MAX    512     /* PROTOCOL.md 5.1: reserve 512 characters */

typedef struct wx_token {
    unsigned long   version;
    time_t          obtained;
    time_t          expires;
    char            token[WX_TOKEN_MAX + 1];
} wx_token_t;

/* Read the store at 'path'.  WX_OK; WX_EMISSING when there is no file
 * yet; WX_EINVAL (with 'err' saying why) when it is damaged; WX_ESTALE
 * when the token has expired at 'now' (*tok is filled all the same, for
 * reports). */
wx_err_t wx_token_read(const char *path, time_t now, wx_token_t *tok,
                       char *err, size_t errlen);

/* Replace the store atomically (temporary file, fsync, rename, fsync of
 * the directory).  The file is made readable by its group only. */
wx_err_t wx_token_write(const char *path, const wx_token_t *tok,
                        char *err, size_t errlen);

/* A short, loggable form of a token: its first 6 characters and its
 * length.  Never the whole token. */
char *wx_token_brief(char *dst, size_t cap, const char *token);

/* Ask wxtoken at unix socket 'sock' ("/path", without "unix:") to
 * answer 'request' (a line of the protocol above, without newline);
 * the answer's token in *tok.  WX_OK; WX_EUPSTREAM with the ERR line in
 * 'err'; WX_ESYS or WX_ETIMEOUT when wxtoken cannot be reached in
 * 'timeout_ms'. */
wx_err_t wx_token_ask(const char *sock, const char *request, unsigned timeout_ms,
                      wx_token_t *tok, char *err, size_t errlen);

#endif
