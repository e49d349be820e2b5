/*
 * ceiling.c - wx-ceiling: the least a FastCGI application can do.
 *
 * It accepts on fd 0 (spawn-fcgi passes the socket there), reads and drops
 * the body, and answers a fixed passive reply: a text reply of the size the
 * echo handler writes, or the contents of the file given as argument (a
 * real safe-mode envelope, for the safe-mode comparison).  Run behind the
 * same nginx as wxfcgi and fed the same requests, its throughput is the
 * ceiling that no FastCGI application on this machine can pass; make bench
 * reports wxfcgi as a ratio of it.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: text/xml; charset=utf-8\r\n"
    "\r\n"
    "<xml><ToUserName><![CDATA[oBenchUser0123456789abcdefgh]]></ToUserName>"
    "<FromUserName><![CDATA[gh_0123456789ab]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[Hello, this is benchmark message 1.]]></Content></xml>";

static char custom[8192];

int main(int argc, char **argv)
{
    FCGX_Request rq;
    char drain[4096];
    const char *out = reply;
    int len = (int)sizeof(reply) - 1;

    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        int n, h;

        if (f == NULL)
            return 1;
        h = snprintf(custom, sizeof(custom), "Status: 200 OK\r\n"
                     "Content-Type: text/xml; charset=utf-8\r\n\r\n");
        n = (int)fread(custom + h, 1, sizeof(custom) - (size_t)h, f);
        fclose(f);
        out = custom;
        len = h + n;
    }
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&rq) >= 0) {
        while (FCGX_GetStr(drain, sizeof(drain), rq.in) > 0)
            ;
        FCGX_PutStr(out, len, rq.out);
        FCGX_Finish_r(&rq);
    }
    return 0;
}
