/*
 * wx/api/token_client.h - the client of wxtoken's report socket.
 *
 * A caller whose token WeChat refused reports it to wxtoken, which
 * refreshes it once however many callers report it.  One line each way on
 * a unix stream socket:
 *
 *     -> REJECTED TOKEN     the API refused TOKEN (40001, 40014, 42001)
 *     -> REFRESH            get a new token now (wxctl token --refresh)
 *     -> STATUS             nothing to do: just answer
 *     -> TICKET TYPE [REFRESH]  a JS-SDK ticket, answered as a token
 *     -> OAUTH CODE         <- JSON {...}: a web-authorization code exchanged
 *     <- OK VERSION EXPIRES TOKEN
 *     <- ERR ERRCODE MESSAGE
 *
 * A REJECTED token that is no longer the current one is answered with the
 * current one at once: a burst of reports of one token causes one refresh.
 */
#ifndef WX_TOKEN_CLIENT_H
#define WX_TOKEN_CLIENT_H

#include <stddef.h>
#include "wx/core/err.h"
#include "wx/proto/token.h"

/* Ask wxtoken at unix socket 'sock' ("/path", without "unix:") to
 * answer 'request' (a line of the protocol above, without newline);
 * the answer's token in *tok (version, expires and token; obtained 0).
 * WX_OK; WX_EUPSTREAM with the ERR line in 'err'; WX_ESYS or WX_ETIMEOUT
 * when wxtoken cannot be reached in 'timeout_ms'. */
wx_err_t wx_token_ask(const char *sock, const char *request, unsigned timeout_ms,
                      wx_token_t *tok, char *err, size_t errlen);

/* The same exchange, the answer line left as it came: at most cap - 1
 * bytes into 'buf' (NUL-terminated; the newline kept, when it came), its
 * length in *got.  For the requests whose answer is not a token (OAUTH
 * CODE answers "JSON {...}").  WX_OK when something was read; WX_EINVAL
 * for a 'cap' under WX_TOKEN_MAX + 32; WX_ESYS, WX_ETIMEOUT. */
wx_err_t wx_token_ask_line(const char *sock, const char *request, unsigned timeout_ms,
                           char *buf, size_t cap, size_t *got, char *err, size_t errlen);

#endif
