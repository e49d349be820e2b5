/* handler.c - the handlers a config may name in [wxfcgi] handler. */
#include <string.h>

#include "wxfcgi/handler.h"
#include "wxfcgi/upstream.h"

static const wx_handler_t *const wx_handlers[] = {
    &wx_handler_echo,
    &wx_handler_upstream,
};

const wx_handler_t *wx_handler_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(wx_handlers) / sizeof(wx_handlers[0]); i++)
        if (strcmp(wx_handlers[i]->name, name) == 0)
            return wx_handlers[i];
    return NULL;
}
