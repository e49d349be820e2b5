/*
 * parse.c - the streaming expat SAX parser that fills struct wx_msg.
 *
 * No DOM: element text is gathered in one scratch buffer and copied into
 * the request arena when its element ends, so memory is bounded by the
 * limits, not by the document.  One expat parser per worker, reset between
 * documents.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <expat.h>

#include "wx/proto/parse.h"

#define WX_NAME_MAX 48      /* longer element names match nothing we know */

struct wx_parser {
    XML_Parser          xp;
    wx_parse_limits_t   lim;
    unsigned long       salt;

    /* per document */
    wx_pool_t          *pool;
    wx_msg_t           *msg;
    wx_err_t            err;
    unsigned            depth;
    unsigned            elements;
    unsigned            group_depth;    /* depth of the open group, or 0 */
    wx_msg_item_t      *group;
    int                 has_child;      /* current element has children */
    char              (*names)[WX_NAME_MAX];    /* one per depth */
    char               *text;
    size_t              text_len;
    char                errmsg[160];
};

/* Scalar fields, by the element that holds them (NULL: the root <xml>). */
static const struct wx_field_map {
    const char *parent;
    const char *name;
    size_t      off;
} wx_fields[] = {
#define F(parent, grand, name, member, json) { parent, name, offsetof(wx_msg_t, member) },
    WX_MSG_FIELDS(F)
#undef F
};

/* Elements that open one member of a repeated (or nested) group. */
static const char *const wx_group_names[] = {
    "item", "List", "AroundBeacon", "ChosenBeacon",
};

/* Leaves that may repeat, each kept as an item of its own. */
static const char *const wx_repeated_leaves[] = {
    "fail_idx",
};

/* expat's memory, served from free lists by size class.  expat frees and
 * allocates the same few blocks for every document (the element types
 * it looks up, the encoding name): after the first documents a document
 * costs no malloc (none on the hot path), and each block costs a few
 * instructions instead of a trip through malloc.  The lists are the
 * thread's: a block may be freed by another thread than took it, as
 * every block is plain malloc()ed memory.  They keep what expat used at
 * its peak, no more. */
#define WX_XA_CLASSES   8           /* 16, 32, ..., 2048 bytes */
#define WX_XA_HDR       16          /* class and size; keeps the alignment */

typedef struct wx_xa_free {
    struct wx_xa_free  *next;
} wx_xa_free_t;

static _Thread_local wx_xa_free_t *wx_xa_lists[WX_XA_CLASSES];

static void *xa_malloc(size_t n)
{
    size_t *h, c = 0;

    while (c < WX_XA_CLASSES && ((size_t)16 << c) < n)
        c++;
    if (c < WX_XA_CLASSES && wx_xa_lists[c] != NULL) {
        h = (size_t *)(void *)wx_xa_lists[c];
        wx_xa_lists[c] = wx_xa_lists[c]->next;
    } else {
        if (n > SIZE_MAX - WX_XA_HDR)
            return NULL;
        h = malloc(WX_XA_HDR + (c < WX_XA_CLASSES ? (size_t)16 << c : n));
        if (h == NULL)
            return NULL;
    }
    h[0] = c;
    h[1] = c < WX_XA_CLASSES ? (size_t)16 << c : n;
    return (char *)h + WX_XA_HDR;
}

static void xa_free(void *ptr)
{
    size_t *h, c;

    if (ptr == NULL)
        return;
    h = (size_t *)(void *)((char *)ptr - WX_XA_HDR);
    if ((c = h[0]) < WX_XA_CLASSES) {
        wx_xa_free_t *f = (wx_xa_free_t *)(void *)h;    /* over the class */

        f->next = wx_xa_lists[c];
        wx_xa_lists[c] = f;
    } else {
        free(h);
    }
}

static void *xa_realloc(void *ptr, size_t n)
{
    size_t cap;
    void *q;

    if (ptr == NULL)
        return xa_malloc(n);
    cap = ((size_t *)(void *)((char *)ptr - WX_XA_HDR))[1];
    if (n <= cap)
        return ptr;
    if ((q = xa_malloc(n)) == NULL)
        return NULL;
    memcpy(q, ptr, cap);
    xa_free(ptr);
    return q;
}

static const XML_Memory_Handling_Suite wx_xa_suite = { xa_malloc, xa_realloc, xa_free };

static int in_list(const char *name, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (name[0] == list[i][0] && strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static void fail(wx_parser_t *p, wx_err_t err, const char *why)
{
    if (p->err == WX_OK) {
        p->err = err;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s at line %lu",
                 why, (unsigned long)XML_GetCurrentLineNumber(p->xp));
    }
    XML_StopParser(p->xp, XML_FALSE);
}

static wx_str_t pool_str(wx_parser_t *p, const char *s, size_t len)
{
    char *d = wx_pool_strndup(p->pool, s, len);

    if (d == NULL) {
        fail(p, WX_ENOMEM, "request arena full");
        return WX_NULL_STR;
    }
    return (wx_str_t){ len, d };
}

static wx_msg_item_t *new_item(wx_parser_t *p, const char *list,
                               const char *owner)
{
    wx_msg_item_t *it = wx_pool_alloc(p->pool, sizeof(*it));

    if (it == NULL) {
        fail(p, WX_ENOMEM, "request arena full");
        return NULL;
    }
    memset(it, 0, sizeof(*it));
    it->list = pool_str(p, list, strlen(list));
    it->owner = pool_str(p, owner, strlen(owner));
    if (p->msg->items_tail)
        p->msg->items_tail->next = it;
    else
        p->msg->items = it;
    p->msg->items_tail = it;
    p->msg->n_items++;
    return it;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len);

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **attrs)
{
    wx_parser_t *p = ud;
    size_t nlen = strlen(name);

    (void)attrs;
    if (p->err != WX_OK)
        return;
    if (++p->depth > p->lim.max_depth) {
        fail(p, WX_EXML_LIMIT, "nesting too deep");
        return;
    }
    if (++p->elements > p->lim.max_elements) {
        fail(p, WX_EXML_LIMIT, "too many elements");
        return;
    }
    if (p->depth == 1 && strcmp(name, "xml") != 0) {
        fail(p, WX_EXML, "root element is not <xml>");
        return;
    }
    /* A name we cannot store matches nothing: keep it as an empty slot. */
    if (nlen < WX_NAME_MAX)
        memcpy(p->names[p->depth - 1], name, nlen + 1);
    else
        p->names[p->depth - 1][0] = '\0';

    p->has_child = 0;
    p->text_len = 0;
    /* Only an element without children holds a value: its text is
     * gathered from here to its end, and no other text reaches us. */
    XML_SetCharacterDataHandler(p->xp, on_text);

    if (p->depth >= 3 && p->group_depth == 0 &&
        in_list(name, wx_group_names,
                sizeof(wx_group_names) / sizeof(wx_group_names[0]))) {
        /* A group's list is the element that holds it; directly under the
         * root (ChosenBeacon) the group names itself. */
        const char *list = p->names[p->depth - 2];
        const char *owner = p->depth >= 4 ? p->names[p->depth - 3] : "xml";

        p->group = new_item(p, list, owner);
        p->group_depth = p->depth;
    }
}

static void add_group_field(wx_parser_t *p, const char *name, wx_str_t value)
{
    wx_msg_field_t *f = wx_pool_alloc(p->pool, sizeof(*f)), **tail;

    if (f == NULL) {
        fail(p, WX_ENOMEM, "request arena full");
        return;
    }
    f->name = pool_str(p, name, strlen(name));
    f->value = value;
    f->next = NULL;
    for (tail = &p->group->fields; *tail; tail = &(*tail)->next)
        ;
    *tail = f;
}

static void leaf(wx_parser_t *p, const char *name, wx_str_t value)
{
    const char *parent = p->depth >= 3 ? p->names[p->depth - 2] : NULL;
    size_t i;

    if (p->group_depth && p->depth > p->group_depth) {
        add_group_field(p, name, value);
        return;
    }
    if (in_list(name, wx_repeated_leaves,
                sizeof(wx_repeated_leaves) / sizeof(wx_repeated_leaves[0]))) {
        wx_msg_item_t *it = new_item(p, name, parent ? parent : "xml");

        if (it)
            it->value = value;
        return;
    }
    for (i = 0; i < sizeof(wx_fields) / sizeof(wx_fields[0]); i++) {
        const struct wx_field_map *m = &wx_fields[i];

        /* The first byte before strcmp: most names differ there, and this
         * loop runs for every element of every message. */
        if (m->name[0] != name[0] || strcmp(m->name, name) != 0)
            continue;
        if ((m->parent == NULL) != (parent == NULL))
            continue;
        if (m->parent && strcmp(m->parent, parent) != 0)
            continue;
        *(wx_str_t *)((char *)p->msg + m->off) = value;
        return;
    }
    /* Unknown elements are ignored (PROTOCOL.md 2.1: parse by name). */
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    wx_parser_t *p = ud;

    XML_SetCharacterDataHandler(p->xp, NULL);
    if (p->err != WX_OK)
        return;
    if (!p->has_child && p->depth >= 2) {
        wx_str_t v = pool_str(p, p->text, p->text_len);

        if (p->err != WX_OK)
            return;
        leaf(p, name, v);
    }
    if (p->group_depth == p->depth) {
        p->group_depth = 0;
        p->group = NULL;
    }
    p->depth--;
    /* The parent now has a child: its own text is not a value. */
    p->has_child = 1;
    p->text_len = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    wx_parser_t *p = ud;

    if (p->err != WX_OK || len <= 0)
        return;
    if ((size_t)len > p->lim.max_text - p->text_len) {
        fail(p, WX_EXML_LIMIT, "element text too long");
        return;
    }
    memcpy(p->text + p->text_len, s, (size_t)len);
    p->text_len += (size_t)len;
}

/* DESIGN.md: a DOCTYPE of any kind is refused, even an empty one.  This
 * fires before the internal subset is read, so no entity is ever declared,
 * let alone expanded. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    (void)name; (void)sysid; (void)pubid; (void)has_internal_subset;
    fail(ud, WX_EXML_DTD, "DOCTYPE refused");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_pe,
                                   const XML_Char *value, int value_len,
                                   const XML_Char *base, const XML_Char *sysid,
                                   const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name; (void)is_pe; (void)value; (void)value_len; (void)base;
    (void)sysid; (void)pubid; (void)notation;
    fail(ud, WX_EXML_DTD, "entity declaration refused");
}

static void setup(wx_parser_t *p)
{
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
    XML_SetEntityDeclHandler(p->xp, on_entity_decl);
    XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    /* A salt of our own: otherwise expat asks the kernel for one per
     * document, a syscall on the hot path. */
    XML_SetHashSalt(p->xp, p->salt);
}

wx_parser_t *wx_parser_new(const wx_parse_limits_t *limits)
{
    static const wx_parse_limits_t defaults = WX_PARSE_LIMITS_DEFAULT;
    wx_parser_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->lim = limits ? *limits : defaults;
    if (p->lim.max_depth == 0 || p->lim.max_text == 0)
        goto fail;
    p->names = calloc(p->lim.max_depth, sizeof(*p->names));
    p->text = malloc(p->lim.max_text);
    /* Forcing UTF-8 overrides any encoding the prolog claims: WeChat
     * sends UTF-8 only, and it keeps expat's encoding handlers out. */
    p->xp = XML_ParserCreate_MM("UTF-8", &wx_xa_suite, NULL);
    if (p->names == NULL || p->text == NULL || p->xp == NULL)
        goto fail;
    if (getrandom(&p->salt, sizeof(p->salt), 0) != (ssize_t)sizeof(p->salt))
        p->salt = (unsigned long)(uintptr_t)p ^ 0x9e3779b97f4a7c15UL;
    return p;
fail:
    wx_parser_free(p);
    return NULL;
}

void wx_parser_free(wx_parser_t *p)
{
    if (p == NULL)
        return;
    if (p->xp)
        XML_ParserFree(p->xp);
    free(p->names);
    free(p->text);
    free(p);
}

wx_err_t wx_parser_begin(wx_parser_t *p, wx_pool_t *pool, wx_msg_t *msg)
{
    if (!XML_ParserReset(p->xp, "UTF-8"))
        return WX_ENOMEM;
    setup(p);
    memset(msg, 0, sizeof(*msg));
    p->pool = pool;
    p->msg = msg;
    p->err = WX_OK;
    p->depth = p->elements = p->group_depth = 0;
    p->group = NULL;
    p->has_child = 0;
    p->text_len = 0;
    p->errmsg[0] = '\0';
    return WX_OK;
}

/* After XML_Parse() or XML_ParseBuffer(): WX_OK, or the error, kept. */
static wx_err_t parsed(wx_parser_t *p, enum XML_Status st)
{
    if (st != XML_STATUS_OK && p->err == WX_OK) {
        p->err = WX_EXML;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s at line %lu col %lu",
                 XML_ErrorString(XML_GetErrorCode(p->xp)),
                 (unsigned long)XML_GetCurrentLineNumber(p->xp),
                 (unsigned long)XML_GetCurrentColumnNumber(p->xp));
    }
    return p->err;
}

wx_err_t wx_parser_feed(wx_parser_t *p, const char *buf, size_t len,
                        int final)
{
    if (p->err != WX_OK)
        return p->err;
    while (len > 0 || final) {
        int chunk = len > (size_t)1 << 30 ? 1 << 30 : (int)len;
        int last = final && (size_t)chunk == len;

        if (parsed(p, XML_Parse(p->xp, buf, chunk, last)) != WX_OK)
            return p->err;
        buf += chunk;
        len -= (size_t)chunk;
        if (last)
            break;
    }
    return WX_OK;
}

char *wx_parser_buffer(wx_parser_t *p, size_t len)
{
    if (p->err != WX_OK || len > (size_t)1 << 30)
        return NULL;
    return XML_GetBuffer(p->xp, (int)len);
}

wx_err_t wx_parser_feed_buffer(wx_parser_t *p, size_t len, int final)
{
    if (p->err != WX_OK)
        return p->err;
    return parsed(p, XML_ParseBuffer(p->xp, (int)len, final));
}

const char *wx_parser_errmsg(const wx_parser_t *p)
{
    return p->errmsg[0] ? p->errmsg : "no error";
}

wx_err_t wx_msg_parse(wx_parser_t *p, wx_pool_t *pool, const char *buf,
                      size_t len, wx_msg_t *msg)
{
    wx_err_t rc = wx_parser_begin(p, pool, msg);

    if (rc != WX_OK)
        return rc;
    return wx_parser_feed(p, buf, len, 1);
}
