/*
 * wxfcgi/route_tmpl.h - the parts of a route's static reply that are
 * compiled at load: a text with {{field}} parts, and news articles.
 *
 * A template is a list of parts, each a literal (pointing into the
 * template's source, which must outlive it) or a field of the message.
 * Rendering allocates the text in the request arena and nothing else.
 */
#ifndef WXFCGI_ROUTE_TMPL_H
#define WXFCGI_ROUTE_TMPL_H

#include <stddef.h>

#include "wx/core/str.h"
#include "wx/proto/msg.h"
#include "wx/proto/reply.h"

typedef struct wx_tmpl_part {
    size_t      off;        /* of a wx_str_t in wx_msg_t, or a WX_TMPL_ value */
    wx_str_t    lit;        /* off == WX_TMPL_LIT */
} wx_tmpl_part_t;

#define WX_TMPL_LIT     ((size_t)-1)
#define WX_TMPL_SCENE   ((size_t)-2)    /* the QR scene of the EventKey */

typedef struct wx_tmpl {
    wx_tmpl_part_t *v;      /* malloc'ed */
    size_t          n;
    int             fields; /* has a field part: rendered per message */
} wx_tmpl_t;

/* Compile 'src' ({{from}}, {{content}}, {{FromUserName}}, ...).  0, or -1
 * with 'err' saying what ("unknown field {{x}}") for the caller to name
 * the section and key. */
int wx_tmpl_compile(wx_tmpl_t *t, const char *src, char *err, size_t errlen);
void wx_tmpl_free(wx_tmpl_t *t);

/* The text for 'msg', in 'pool' (NUL-terminated); { 0, NULL } when the
 * arena is full. */
wx_str_t wx_tmpl_render(const wx_tmpl_t *t, const wx_msg_t *msg, wx_pool_t *pool);

/* The scene of a QR event: the EventKey of SCAN, or of subscribe after
 * "qrscene_"; { 0, NULL } for anything else. */
wx_str_t wx_tmpl_scene(const wx_msg_t *msg);

/* The fields a template may name, ", "-separated, for messages. */
const char *wx_tmpl_field_names(void);

/* News articles, one a line "title | description | pic_url | url" (the
 * last three may be empty), into '*out' (malloc'ed; the strings point
 * into '*store', a malloc'ed copy of 'src').  0, or -1 with 'err'. */
int wx_tmpl_articles(const char *src, wx_article_t **out, size_t *n, char **store,
                     char *err, size_t errlen);

#endif
