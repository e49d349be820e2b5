/* api.c - the WeChat API client: libcurl for HTTPS, jansson for JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "wx/api/api.h"
#include "wx/core/dynbuf.h"
#include "wx/core/http.h"
#include "wx/core/log.h"

/* An answer larger than this is not one the API sends: refuse it rather
 * than buffer it. */
#define WX_API_MAX_ANSWER   (4u << 20)

struct wx_api {
    CURL       *curl;
    char       *headers[WX_API_HEADERS_MAX];   /* the extra header lines, or NULL */
    char       *base;
    char       *url;            /* base + path, rebuilt for each call */
    size_t      urlcap;
};

wx_api_t *wx_api_new(const wx_api_opts_t *o, char *err, size_t errlen)
{
    static int global_done;
    wx_api_t *api;
    size_t i;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl initialisation failed");
            return NULL;
        }
        global_done = 1;
    }
    api = calloc(1, sizeof(*api));
    if (api == NULL || (api->base = strdup(o->base)) == NULL ||
        (api->curl = curl_easy_init()) == NULL)
        goto nomem;
    for (i = 0; i < WX_API_HEADERS_MAX; i++)
        if (o->headers[i] && (api->headers[i] = strdup(o->headers[i])) == NULL)
            goto nomem;
    /* Never follow a redirect off the API, never skip verification. */
    curl_easy_setopt(api->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(api->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(api->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(api->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(api->curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(api->curl, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(api->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(api->curl, CURLOPT_USERAGENT, "wxfcgi/" WX_VERSION);
    curl_easy_setopt(api->curl, CURLOPT_WRITEFUNCTION, wx_dynbuf_curl_sink);
    if (o->ca_file && *o->ca_file)
        curl_easy_setopt(api->curl, CURLOPT_CAINFO, o->ca_file);
    /* An explicit proxy, or none at all: the environment's proxy variables
     * must not silently divert calls that carry the AppSecret. */
    curl_easy_setopt(api->curl, CURLOPT_PROXY, o->proxy ? o->proxy : "");
    return api;

nomem:
    snprintf(err, errlen, "out of memory");
    wx_api_free(api);
    return NULL;
}

void wx_api_free(wx_api_t *api)
{
    size_t i;

    if (api == NULL)
        return;
    if (api->curl)
        curl_easy_cleanup(api->curl);
    free(api->base);
    for (i = 0; i < WX_API_HEADERS_MAX; i++) {
        if (api->headers[i] == NULL)
            continue;
        /* It may carry a key. */
        explicit_bzero(api->headers[i], strlen(api->headers[i]));
        free(api->headers[i]);
    }
    if (api->url) {
        /* The URL may have held the AppSecret. */
        memset(api->url, 0, api->urlcap);
        free(api->url);
    }
    free(api);
}

void wx_api_result_free(wx_api_result_t *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* Read a 200 answer's body 'data' ('len' bytes) into 'r': its JSON, errcode
 * and errmsg, or a transport failure when it is no JSON object. */
static void take_json(wx_api_result_t *r, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *code, *msg;

    r->json = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (r->json == NULL || !json_is_object(r->json)) {
        r->transport = WX_EUPSTREAM;
        snprintf(r->why, sizeof(r->why), "the answer is not a JSON object (%s)",
                 r->json ? "another JSON value" : jerr.text);
        json_decref(r->json);
        r->json = NULL;
        return;
    }
    code = json_object_get(r->json, "errcode");
    msg = json_object_get(r->json, "errmsg");
    if (code != NULL && !json_is_integer(code)) {
        r->transport = WX_EUPSTREAM;
        snprintf(r->why, sizeof(r->why), "errcode is not a number");
        return;
    }
    r->errcode = code ? (long)json_integer_value(code) : 0;
    r->errmsg = json_is_string(msg) ? json_string_value(msg) : "";
}

/* The reason of an answer that is not 200: its status, and the errmsg of
 * a JSON body when there is one (wxproxy's refusals say which rule). */
static void status_why(wx_api_result_t *r, const char *data, size_t len)
{
    json_t *j = json_loadb(data, len, 0, NULL), *msg = json_object_get(j, "errmsg");
    char clean[160];

    if (json_is_string(msg) && json_string_length(msg) > 0)
        snprintf(r->why, sizeof(r->why), "HTTP status %ld: %s", r->http_status,
                 wx_log_clean(clean, sizeof(clean),
                              (wx_str_t){ json_string_length(msg), json_string_value(msg) }));
    else
        snprintf(r->why, sizeof(r->why), "HTTP status %ld", r->http_status);
    json_decref(j);
}

wx_err_t wx_api_call(wx_api_t *api, const char *path_query, const char *json_body,
                     wx_api_result_t *r)
{
    wx_dynbuf_t body;
    struct curl_slist *hdr = NULL;
    size_t need, i;
    CURLcode cc;

    wx_dynbuf_init(&body, WX_API_MAX_ANSWER);
    memset(r, 0, sizeof(*r));
    r->errmsg = "";
    need = strlen(api->base) + strlen(path_query) + 1;
    if (need > api->urlcap) {
        char *nu = realloc(api->url, need);

        if (nu == NULL) {
            r->transport = WX_ENOMEM;
            snprintf(r->why, sizeof(r->why), "out of memory");
            return r->transport;
        }
        api->url = nu;
        api->urlcap = need;
    }
    snprintf(api->url, api->urlcap, "%s%s", api->base, path_query);
    curl_easy_setopt(api->curl, CURLOPT_URL, api->url);
    curl_easy_setopt(api->curl, CURLOPT_WRITEDATA, &body);
    for (i = 0; i < WX_API_HEADERS_MAX; i++)
        if (api->headers[i] && wx_http_header_add(&hdr, api->headers[i]) != 0)
            goto nomem;
    if (json_body) {
        if (wx_http_header_add(&hdr, "Content-Type: application/json; charset=utf-8") != 0)
            goto nomem;
        curl_easy_setopt(api->curl, CURLOPT_POSTFIELDS, json_body);
        curl_easy_setopt(api->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(json_body));
    } else {
        curl_easy_setopt(api->curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, hdr);
    cc = curl_easy_perform(api->curl);
    curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdr);
    curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &r->http_status);
    if (cc != CURLE_OK) {
        r->transport = cc == CURLE_OPERATION_TIMEDOUT ? WX_ETIMEOUT : WX_EUPSTREAM;
        snprintf(r->why, sizeof(r->why), "%s", body.too_big ? "answer too large" :
                 curl_easy_strerror(cc));
        goto out;
    }
    if (r->http_status != 200) {
        r->transport = WX_EUPSTREAM;
        status_why(r, body.data ? body.data : "", body.len);
        goto out;
    }
    take_json(r, body.data ? body.data : "", body.len);
out:
    wx_dynbuf_free(&body);
    return r->transport;

nomem:
    r->transport = WX_ENOMEM;
    snprintf(r->why, sizeof(r->why), "out of memory");
    goto out;
}
