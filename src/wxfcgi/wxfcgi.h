/* wxfcgi.h - the parts of the wxfcgi program. */
#ifndef WXFCGI_H
#define WXFCGI_H

#include "wx/server/fcgi.h"

/* The gateway as a FastCGI app (worker.c): run by wx_fcgi_run() under
 * spawn-fcgi or the standalone master. */
extern const wx_fcgi_app_t wxfcgi_app;

#endif
