/*
 * jssdk.c - wxctl jssdk config URL: what a page passes to wx.config()
 * (PROTOCOL.md 13), from wxproxy's /jssdk/config, which signs with the
 * jsapi_ticket wxtoken keeps.  The URL is checked here first, with the
 * rule the proxy signs by (wx/proto/jssdk.h): an http(s) URL; its
 * fragment is not part of what is signed.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "wx/proto/jssdk.h"
#include "wxctl.h"

int wxctl_jssdk(wxctl_t *ctl, int argc, char **argv)
{
    char url[WX_JSSDK_URL_MAX + 8], path[3 * WX_JSSDK_URL_MAX + 64], buf[32];
    json_t *ans = NULL;
    wx_err_t e;
    char *enc;
    int rc;

    if (argc != 2 || strcmp(argv[0], "config") != 0)
        return wxctl_usage("jssdk takes config URL");
    if ((e = wx_jssdk_url(argv[1], url, sizeof(url))) != WX_OK)
        return wxctl_bad("'%.200s' is not a page URL (http:// or https://, a host, no blanks%s)",
                         argv[1], e == WX_ETOOBIG ? ", at most 2048 characters" : "");
    if ((enc = wxctl_escape(ctl, url)) == NULL) {
        fputs("wxctl: out of memory\n", stderr);
        return WXCTL_EXIT_TRANSPORT;
    }
    snprintf(path, sizeof(path), "/jssdk/config?url=%s", enc);
    curl_free(enc);
    rc = wxctl_call(ctl, path, NULL, 0, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json) {
        printf("appId       %s\n", wxctl_text(ans, "appId", buf, sizeof(buf)));
        printf("timestamp   %s\n", wxctl_text(ans, "timestamp", buf, sizeof(buf)));
        printf("nonceStr    %s\n", wxctl_text(ans, "nonceStr", buf, sizeof(buf)));
        printf("signature   %s\n", wxctl_str(ans, "signature") ? wxctl_str(ans, "signature") : "");
        printf("url         %s\n", url);
    }
    json_decref(ans);
    return rc;
}
