/*
 * wx/proto/parse.h - the streaming parser that fills a wx_msg_t
 * (wx/proto/msg.h) from the XML body of a push.
 *
 * The parser is expat in SAX mode: the body is fed chunk by chunk as it is
 * read, and each element's text lands in a field of struct wx_msg (the
 * map is WX_MSG_FIELDS).  All strings point into the arena given to
 * wx_parser_begin() and live until that arena is reset.
 *
 * Refused (the parser stops at once): a DOCTYPE of any kind, an entity
 * declaration, nesting deeper than max_depth, more than max_elements
 * elements, the text of an element over max_text bytes (of an element
 * without children so far: the text after a child is never a value, and
 * is not gathered), a root that is not <xml>,
 * and anything expat finds not well-formed, including invalid UTF-8.
 * The document encoding is always UTF-8, whatever the prolog says.
 */
#ifndef WX_PARSE_H
#define WX_PARSE_H

#include <stddef.h>
#include "wx/core/err.h"
#include "wx/core/str.h"
#include "wx/proto/msg.h"

typedef struct wx_parse_limits {
    unsigned    max_depth;      /* <xml> is depth 1 */
    unsigned    max_elements;
    size_t      max_text;       /* bytes of one element's text */
} wx_parse_limits_t;

#define WX_PARSE_LIMITS_DEFAULT { 8, 512, 65536 }

typedef struct wx_parser wx_parser_t;

/* One parser per worker, reused for every request.  NULL on ENOMEM. */
wx_parser_t *wx_parser_new(const wx_parse_limits_t *limits);
void wx_parser_free(wx_parser_t *p);

/* Start a document: 'msg' is zeroed and filled as data is fed. */
wx_err_t wx_parser_begin(wx_parser_t *p, wx_pool_t *pool, wx_msg_t *msg);

/* Feed the next 'len' bytes; 'final' on the last call (len may be 0).
 * WX_OK, WX_EXML, WX_EXML_DTD, WX_EXML_LIMIT, WX_ETOOBIG or WX_ENOMEM.
 * After an error, further calls return the same error. */
wx_err_t wx_parser_feed(wx_parser_t *p, const char *buf, size_t len,
                        int final);

/* The same without a copy: a buffer inside the parser for the next 'len'
 * bytes (NULL: no memory, 'len' over 1 GiB, or the document already
 * failed or ended), to be filled and then parsed with
 * wx_parser_feed_buffer(p, n, final), n <= len, before any other call on
 * 'p'.  The buffer is the parser's and is reused. */
char *wx_parser_buffer(wx_parser_t *p, size_t len);
wx_err_t wx_parser_feed_buffer(wx_parser_t *p, size_t len, int final);

/* A short description of the last error (expat's, with line and column,
 * or ours), for logs.  Never NULL. */
const char *wx_parser_errmsg(const wx_parser_t *p);

/* Parse a whole document held in memory: begin + feed(final). */
wx_err_t wx_msg_parse(wx_parser_t *p, wx_pool_t *pool, const char *buf,
                      size_t len, wx_msg_t *msg);

#endif
