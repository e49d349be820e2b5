/*
 * wx/api/api.h - the client of the WeChat API (libcurl + jansson).
 *
 * One wx_api_t per program (or thread): it keeps the connection to the API
 * open between calls.  TLS verification is always on; a private CA (the
 * simulator's, a corporate proxy's) is added with ca_file.  A call's
 * outcome has two layers kept apart: the transport (could we talk to the
 * API at all: WX_ETIMEOUT, WX_EUPSTREAM for connection, TLS, HTTP status
 * or JSON failures) and the API's own answer (errcode and errmsg of a
 * JSON reply that arrived whole).
 */
#ifndef WX_API_H
#define WX_API_H

#include <stddef.h>
#include <jansson.h>
#include "wx/core/err.h"

typedef struct wx_api wx_api_t;

/* Extra request header lines a client may add to every call. */
#define WX_API_HEADERS_MAX  2

typedef struct wx_api_opts {
    const char *base;           /* "https://api.weixin.qq.com" */
    const char *ca_file;        /* extra CA bundle, or NULL */
    const char *proxy;          /* proxy URL, or NULL for none */
    unsigned    timeout_ms;     /* whole call, connection included */
    /* Extra request header lines ("X-Wx-Key: ...", "X-Wx-Account: ..."),
     * copied; a NULL entry is skipped. */
    const char *headers[WX_API_HEADERS_MAX];
} wx_api_opts_t;

typedef struct wx_api_result {
    wx_err_t    transport;      /* WX_OK when a JSON answer arrived */
    char        why[256];       /* the transport failure, for the log */
    long        http_status;
    json_t     *json;           /* the answer (owned), or NULL */
    long        errcode;        /* the answer's errcode; 0 when absent */
    const char *errmsg;         /* points into json, "" when absent */
} wx_api_result_t;

/* NULL with 'err' set when libcurl cannot be set up. */
wx_api_t *wx_api_new(const wx_api_opts_t *opts, char *err, size_t errlen);
void wx_api_free(wx_api_t *api);

/* GET base + path_query, or POST 'json_body' (a JSON text) when it is not
 * NULL.  Returns r->transport.  Release the result with
 * wx_api_result_free() in any case.  The query string is never logged by
 * this module: it may hold a secret or a token. */
wx_err_t wx_api_call(wx_api_t *api, const char *path_query, const char *json_body,
                     wx_api_result_t *r);
void wx_api_result_free(wx_api_result_t *r);

#endif
