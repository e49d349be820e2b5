/*
 * wx/proto/token.h - the access token as every program passes it around
 * (PROTOCOL.md 5.1): the token itself, the version wxtoken gave it and
 * its times.  Kept by the token store (wx/state/token.h), handed out by
 * wxtoken over its report socket (wx/api/token_client.h).
 *
 * A token travels in lines of text (the store file, the socket): only
 * printable ASCII without blanks may be in it.
 */
#ifndef WX_PROTO_TOKEN_H
#define WX_PROTO_TOKEN_H

#include <stddef.h>
#include <time.h>

#define WX_TOKEN_MAX    512     /* PROTOCOL.md 5.1: reserve 512 characters */

typedef struct wx_token {
    unsigned long   version;    /* counts the tokens wxtoken obtained; only grows */
    time_t          obtained;   /* Unix seconds */
    time_t          expires;
    char            token[WX_TOKEN_MAX + 1];
} wx_token_t;

/* 1 when 't' may be stored and sent: 1..WX_TOKEN_MAX printable ASCII
 * characters, no blanks. */
int wx_token_valid(const char *t);

/* A short, loggable form of a token: its first 6 characters and its
 * length.  Never the whole token. */
char *wx_token_brief(char *dst, size_t cap, const char *token);

#endif
