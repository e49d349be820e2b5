/*
 * wx/core/http.h - what the servers of the suite need of HTTP itself.
 */
#ifndef WX_HTTP_H
#define WX_HTTP_H

/* The reason phrase of a status line: "OK", "Not Found", ...  For a code
 * not in the table, "OK" below 400, "Error" from there.  Never NULL. */
const char *wx_http_reason(long status);

#endif
