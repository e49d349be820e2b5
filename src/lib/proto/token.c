/* token.c - the access token's checks and loggable form (wx/proto/token.h). */
#include <stdio.h>
#include <string.h>

#include "wx/proto/token.h"

int wx_token_valid(const char *t)
{
    size_t n = 0;

    for (; *t; t++, n++)
        if (*t <= ' ' || *t > '~')
            return 0;
    return n > 0 && n <= WX_TOKEN_MAX;
}

char *wx_token_brief(char *dst, size_t cap, const char *token)
{
    size_t n = strlen(token);

    snprintf(dst, cap, "%.6s...(%zu chars)", n > 12 ? token : "", n);
    return dst;
}
