/* conf.c - the checks every server section shares (wx/server/conf.h). */
#include <stdio.h>

#include "wx/core/net.h"
#include "wx/server/conf.h"

int wx_server_conf_check(const wx_server_conf_t *srv, const char *section,
                         char *err, size_t errlen)
{
    if (!wx_listen_valid(srv->listen)) {
        snprintf(err, errlen, "[%s] listen '%s' is not unix:/absolute/path or tcp:host:port",
                 section, srv->listen);
        return -1;
    }
    if (srv->log[0] == '\0') {
        snprintf(err, errlen, "[%s] log is empty: use stderr, syslog or a file path", section);
        return -1;
    }
    if (wx_server_metrics_on(srv) && srv->metrics_path[0] != '/') {
        snprintf(err, errlen, "[%s] metrics_path '%s' does not start with / (empty: no "
                 "metrics)", section, srv->metrics_path);
        return -1;
    }
    return 0;
}
