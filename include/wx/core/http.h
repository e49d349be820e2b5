/*
 * wx/core/http.h - what the servers of the suite need of HTTP itself.
 */
#ifndef WX_HTTP_H
#define WX_HTTP_H

/* The reason phrase of a status line: "OK", "Not Found", ...  For a code
 * not in the table, "OK" below 400, "Error" from there.  Never NULL. */
const char *wx_http_reason(long status);

/* Append the header line 'line' to the libcurl list '*l'.  0, or -1 when
 * there is no memory: then the whole list is freed and '*l' is NULL, so a
 * request is never sent with some of its headers missing (a key, the
 * account a call acts for). */
struct curl_slist;
int wx_http_header_add(struct curl_slist **l, const char *line);

#endif
