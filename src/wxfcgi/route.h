/*
 * wxfcgi/route.h - replies declared in the config: [route.NAME] sections,
 * each a set of match keys and one action, tried in order.
 *
 * The table is built once per worker (at start and at each reload) from
 * the config, in this order:
 *
 *   1. the [route.NAME] sections, by 'priority' (lower first, default
 *      100), then in file order;
 *   2. routes built from [echo.click] (one per EventKey) and [echo]
 *      welcome (subscribe), as the echo handler always answered them;
 *   3. the default: [wxfcgi] handler (echo or upstream) for the rest.
 *
 * A route serves the accounts its 'account' key names (every account
 * without it): one table, one order for all, so a route several accounts
 * share is written once.  Which accounts it serves is a bit of a mask,
 * the first test of a match.
 *
 * A route with no match key and no account key matches everything: nothing after it is ever
 * tried, so a declared catch-all must be the last declared route (checked
 * at load).  Everything a message is matched against is compiled at load:
 * literals are compared in place, a regex (content = /ERE/) is compiled
 * with regcomp(3) once, a 'from' list is sorted for a binary search, a
 * text template is split into literal and field parts.  Matching and a
 * static reply allocate nothing but the reply's text in the request arena.
 *
 * The table is the handler the gateway runs (wx_handler_router): it owns
 * the states of the handlers its routes name, one per distinct upstream.
 */
#ifndef WXFCGI_ROUTE_H
#define WXFCGI_ROUTE_H

#include <stddef.h>
#include <stdio.h>

#include "wxfcgi/conf.h"
#include "wxfcgi/handler.h"

#define WX_ROUTE_MAX        256     /* [route.NAME] sections */
#define WX_ROUTE_TEXT_MAX   2048    /* bytes of a rendered text reply */

/* [route.NAME] as the loader fills it; route_conf.c checks each key's
 * syntax, route.c compiles the whole. */
typedef struct wx_route_conf {
    char       *name;
    unsigned    priority;
    char       *account;        /* the accounts it serves ("default": [wx]); NULL: all */
    /* match keys; NULL: any */
    char       *type;           /* text, image, ..., event */
    char       *event;          /* subscribe, CLICK, ... (any case) */
    char       *event_key;      /* exact, or PREFIX* */
    char       *content;        /* exact, PREFIX*, or /ERE/ */
    char       *from;           /* openids, blank-separated */
    char       *from_file;      /* a file of openids, one a line */
    char       *scene;          /* a QR scene: exact or PREFIX* */
    /* the action */
    char       *action;         /* text image voice video music news transfer
                                 * echo success upstream */
    char       *text;           /* text: with {{field}} parts */
    char       *media_id;       /* image, voice, video */
    char       *title, *description;                    /* video, music */
    char       *music_url, *hq_music_url, *thumb_media_id;  /* music */
    char       *articles;       /* news: "title | description | pic_url | url" a line */
    char       *kf_account;     /* transfer: optional */
    char       *url;            /* upstream: the business service */
    unsigned    timeout_ms;     /* upstream: 0 = [upstream] timeout_ms */
} wx_route_conf_t;

extern const wx_config_section_t wx_route_section;

typedef struct wx_router wx_router_t;

/* The router of 'cfg' (which it keeps a pointer to): NULL with 'err'
 * naming the section and key on a bad route, an unknown handler or a
 * handler that cannot start. */
wx_router_t *wx_router_new(const wxfcgi_conf_t *cfg, char *err, size_t errlen);
void wx_router_free(wx_router_t *r);

/* The name of the route that answers 'msg' ("default" for the last): of
 * [wx], and of the account of index 'account' (acct.h). */
const char *wx_router_match(const wx_router_t *r, const wx_msg_t *msg);
const char *wx_router_match_account(const wx_router_t *r, const wx_msg_t *msg,
                                    unsigned account);

/* Print the table, one route a line, in the order it is tried. */
void wx_router_print(const wx_router_t *r, FILE *out);

/* The gateway's handler: create() is wx_router_new. */
extern const wx_handler_t wx_handler_router;

#endif
