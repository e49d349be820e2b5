/* upstream_call.c - the business call over HTTP (libcurl), made by the
 * child process of a message (upstream.h). */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "wx/core/http.h"
#include "wx/proto/account.h"
#include "wxfcgi/upstream.h"

int wx_up_call(const wx_upstream_conf_t *conf, const char *account, const char *json,
               wx_dynbuf_t *b, char *why, size_t whylen)
{
    char acct[sizeof("X-Wx-Account: ") + WX_ACCOUNT_NAME_MAX];
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    long status = 0;
    CURLcode cc;
    int rc = -1;

    if (c == NULL) {
        snprintf(why, whylen, "libcurl: out of memory");
        return -1;
    }
    snprintf(acct, sizeof(acct), "X-Wx-Account: %s", account);
    if (wx_http_header_add(&hdr, "Content-Type: application/json; charset=utf-8") != 0 ||
        wx_http_header_add(&hdr, "Accept: application/json") != 0 ||
        wx_http_header_add(&hdr, "Expect:") != 0 ||    /* no 100-continue round trip */
        wx_http_header_add(&hdr, acct) != 0) {
        snprintf(why, whylen, "libcurl: out of memory");
        curl_easy_cleanup(c);
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, conf->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PROXY, "");     /* never the environment's */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)conf->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)conf->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wxfcgi/" WX_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wx_dynbuf_curl_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        snprintf(why, whylen, "%s", b->too_big ? "answer over 64 KiB" : curl_easy_strerror(cc));
    else if (status != 200)
        snprintf(why, whylen, "HTTP status %ld", status);
    else
        rc = 0;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}
