/* http.c - HTTP status reason phrases (wx/core/http.h). */
#include <curl/curl.h>

#include "wx/core/http.h"

const char *wx_http_reason(long status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return status < 400 ? "OK" : "Error";
    }
}

int wx_http_header_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);

    if (n == NULL) {
        curl_slist_free_all(*l);
        *l = NULL;
        return -1;
    }
    *l = n;
    return 0;
}
