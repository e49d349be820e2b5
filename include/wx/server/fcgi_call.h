/*
 * wx/server/fcgi_call.h - one request to a FastCGI responder, as nginx
 * makes it: for the tools that ask a server of the suite on its own
 * socket (wxctl metrics and status, wxsim push --scan).
 *
 * The request carries REQUEST_METHOD, DOCUMENT_URI and SCRIPT_NAME (the
 * path), QUERY_STRING, REMOTE_ADDR 127.0.0.1 (whoever may open the socket
 * may ask) and, with a body, CONTENT_LENGTH and CONTENT_TYPE.  The answer
 * is read whole, up to WX_FCGI_CALL_MAX bytes; what the responder writes
 * on its stderr stream is passed to ours.
 */
#ifndef WX_FCGI_CALL_H
#define WX_FCGI_CALL_H

#include <stddef.h>

#define WX_FCGI_CALL_MAX    (16u << 20)     /* the answer, headers included */

typedef struct wx_fcgi_answer {
    int         status;     /* the Status: header, 200 when absent */
    char       *body;       /* malloc'd, NUL-terminated; the caller frees it */
    size_t      len;
} wx_fcgi_answer_t;

/* Ask the responder at 'listen' (unix:/path or tcp:host:port).  'query'
 * may be "", 'body' NULL (then no body).  Path and query are 200 bytes at
 * most, a body 1 MB.  0 with 'ans' filled in, or -1 with why in 'err'
 * (cannot connect, the answer broke off or has no header end, too long). */
int wx_fcgi_call(const char *listen, const char *method, const char *path, const char *query,
                 const char *body, size_t body_len, const char *ctype, wx_fcgi_answer_t *ans,
                 char *err, size_t errcap);

#endif
