/*
 * wx/core/net.h - the listening socket of a server of the suite, and the
 * syntax of the addresses and URLs in the config.
 */
#ifndef WX_NET_H
#define WX_NET_H

/* Open the listening socket described by 'listen': "unix:/path" (a stale
 * socket file left by a dead server is replaced, a live one is not; the
 * file gets permissions 'mode') or "tcp:host:port".  The descriptor, or -1
 * with a message logged. */
int wx_listen(const char *listen, unsigned mode);

/* Whether 'fd' is a listening socket: how a server started by spawn-fcgi
 * (which passes the socket as fd 0) knows it. */
int wx_is_listening_socket(int fd);

/* Whether 'listen' is an address wx_listen() takes: unix:/absolute/path
 * (short enough for sun_path) or tcp:host:port with a port 1..65535. */
int wx_listen_valid(const char *listen);

/* A connected stream socket to 'listen' (the syntax of wx_listen): the
 * descriptor (close-on-exec), or -1 with errno set. */
int wx_connect(const char *listen);

/* Whether 'url' begins with http:// or https://. */
int wx_url_is_http(const char *url);

#endif
