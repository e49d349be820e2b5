/* handler.c - the registry of the handlers a config may name in
 * [wxfcgi] handler (handler.h).  A new handler is one line here. */
#include <string.h>

#include "wxfcgi/handler.h"

static const wx_handler_t *const wx_handlers[] = {
    &wx_handler_echo,
    &wx_handler_upstream,
};

#define WX_N_HANDLERS   (sizeof(wx_handlers) / sizeof(wx_handlers[0]))

const wx_handler_t *wx_handler_find(const char *name)
{
    size_t i;

    for (i = 0; i < WX_N_HANDLERS; i++)
        if (strcmp(wx_handlers[i]->name, name) == 0)
            return wx_handlers[i];
    return NULL;
}

char *wx_handler_names(char *dst, size_t cap)
{
    size_t i, n = 0;

    if (cap == 0)
        return dst;
    for (i = 0; i < WX_N_HANDLERS; i++) {
        size_t len = strlen(wx_handlers[i]->name);

        if (n + 2 + len >= cap)
            break;
        if (i > 0) {
            memcpy(dst + n, ", ", 2);
            n += 2;
        }
        memcpy(dst + n, wx_handlers[i]->name, len);
        n += len;
    }
    dst[n] = '\0';
    return dst;
}
