/*
 * wx/server/conf.h - the settings every FastCGI server of the suite
 * shares, read by the server framework itself (the worker loop, the
 * prefork supervisor, the master) from the program's config.
 */
#ifndef WX_SERVER_CONF_H
#define WX_SERVER_CONF_H

#include <stddef.h>
#include "wx/core/log.h"

/* What every FastCGI server of the suite reads from its own section
 * ([wxfcgi], [wxproxy]): each program's table gives the keys it has and
 * their defaults; a program fills what it has no key for (wxproxy derives
 * shutdown_timeout from its timeout_ms) in its validator. */
typedef struct wx_server_conf {
    char           *listen;             /* unix:/path or tcp:host:port */
    unsigned        socket_mode;        /* permissions of a unix socket */
    unsigned        workers;            /* standalone mode */
    unsigned        shutdown_timeout;   /* seconds for in-flight work after TERM */
    char           *log;                /* stderr, syslog or a path */
    wx_log_level_t  log_level;
    size_t          log_buffer;         /* a worker's info lines in batches; 0 = each at once */
    unsigned long   max_requests;       /* per worker; 0 = unlimited */
    char           *metrics_path;       /* the scrape's and status page's path; "": off */
    char           *metrics_allow;      /* blank-separated REMOTE_ADDRs that may see it */
} wx_server_conf_t;

/* Are metrics on?  An empty metrics_path turns them off entirely: no
 * shared counters, no page, no timing or counting of requests. */
static inline int wx_server_metrics_on(const wx_server_conf_t *srv)
{
    return srv->metrics_path != NULL && srv->metrics_path[0] != '\0';
}

/* The checks every server section shares (listen, log), for the section
 * validators: 0, or -1 with 'err' naming [section]. */
int wx_server_conf_check(const wx_server_conf_t *srv, const char *section,
                         char *err, size_t errlen);

#endif
