/* ctl.c - the context every command gets: the options and the client of
 * wxproxy (wxctl.h). */
#include <stdio.h>
#include <stdlib.h>

#include "wxctl.h"

wxctl_t *wxctl_new(const wxctl_conf_t *cfg, const wxctl_opts_t *opts)
{
    wxctl_t *ctl = calloc(1, sizeof(*ctl));

    if (ctl == NULL) {
        fputs("wxctl: out of memory\n", stderr);
        return NULL;
    }
    ctl->cfg = cfg;
    ctl->o = *opts;
    ctl->http = wxctl_http_new(cfg, opts->account);
    if (ctl->http == NULL) {
        free(ctl);
        return NULL;
    }
    return ctl;
}

void wxctl_free(wxctl_t *ctl)
{
    if (ctl == NULL)
        return;
    wxctl_http_free(ctl->http);
    free(ctl);
}

const wxctl_opts_t *wxctl_opts(const wxctl_t *ctl)
{
    return &ctl->o;
}
