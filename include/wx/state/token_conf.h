/*
 * wx/state/token_conf.h - where the token store is: the part of [wxtoken]
 * that every reader of the token reads (wxproxy, wxctl; wxtoken too).
 *
 * The rest of [wxtoken] (the AppSecret above all) belongs to wxtoken and
 * is never loaded by the readers: their section is WX_SECTION_PART.
 */
#ifndef WX_TOKEN_CONF_H
#define WX_TOKEN_CONF_H

#include "wx/core/config.h"

typedef struct wx_token_conf {
    char           *store;      /* the token file every caller reads (absolute) */
    char           *listen;     /* unix:/path of wxtoken's report socket */
} wx_token_conf_t;

extern const wx_config_section_t wx_token_conf_section;

/* The path of the report socket (listen without "unix:"). */
static inline const char *wx_token_conf_sock(const wx_token_conf_t *t)
{
    return t->listen + 5;
}

#endif
