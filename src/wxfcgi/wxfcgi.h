/* wxfcgi.h - the parts of the wxfcgi program: master and worker. */
#ifndef WXFCGI_H
#define WXFCGI_H

#include <sys/types.h>
#include "wx/config.h"

/* Serve requests on 'listen_fd' until told to stop.  'master' is the pid of
 * the supervising master, or 0 under spawn-fcgi (then HUP reloads the
 * config in place).  Returns the process exit status. */
int wxfcgi_worker_run(int listen_fd, wx_config_t *cfg, pid_t master);

/* Bind cfg->listen, prefork cfg->workers workers and supervise them until
 * TERM or INT.  'cfg' is owned by the master from here on.  Returns the
 * process exit status. */
int wxfcgi_master_run(wx_config_t *cfg, const char *pidfile);


#endif
