/*
 * ceiling.c - wx-ceiling: the least a FastCGI application can do.
 *
 * It accepts on fd 0 (spawn-fcgi passes the socket there), reads and drops
 * the body, and answers a fixed passive reply of the size the echo handler
 * writes.  Run behind the same nginx as wxfcgi, its throughput is the
 * ceiling that no FastCGI application on this machine can pass; make bench
 * reports wxfcgi as a ratio of it.
 */
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

int main(void)
{
    FCGX_Request rq;
    char drain[4096];

    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&rq) >= 0) {
        while (FCGX_GetStr(drain, sizeof(drain), rq.in) > 0)
            ;
        FCGX_PutStr(reply, (int)sizeof(reply) - 1, rq.out);
        FCGX_Finish_r(&rq);
    }
    return 0;
}
