/*
 * media.c - temporary media (PROTOCOL.md 6.2, 6.3) and permanent material
 * (6.4).  The bytes are kept in [wxsim] data_dir under the media_id, which
 * the simulator generated itself: no path is ever built from the request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wx/core/log.h"
#include "wxsim.h"

#define TEMP_LIFETIME   (3 * 86400)     /* 6.2: kept 3 days */
#define MB              (1024u * 1024u)

static const struct {
    const char *name;
    size_t      max;                    /* 6.2 and 6.4 */
    const char *temp_ext;               /* accepted extensions, blank-separated */
    const char *perm_ext;
} types[WXSIM_MEDIA__MAX] = {
    [WXSIM_IMAGE] = { "image", 10 * MB, "png jpeg jpg gif", "bmp png jpeg jpg gif" },
    [WXSIM_VOICE] = { "voice", 2 * MB, "amr mp3", "mp3 wma wav amr" },
    [WXSIM_VIDEO] = { "video", 10 * MB, "mp4", "mp4" },
    [WXSIM_THUMB] = { "thumb", 64 * 1024, "jpg jpeg", "jpg jpeg" },
};

static int type_of(const char *s)
{
    int i;

    for (i = 0; s && i < WXSIM_MEDIA__MAX; i++)
        if (strcmp(s, types[i].name) == 0)
            return i;
    return -1;
}

static int ext_ok(const char *filename, const char *list)
{
    const char *dot = strrchr(filename, '.'), *p = list;
    size_t n;

    if (dot == NULL || dot[1] == '\0')
        return 0;
    dot++;
    n = strlen(dot);
    while (*p) {
        size_t len = strcspn(p, " ");

        if (len == n && strncasecmp(p, dot, n) == 0)
            return 1;
        p += len;
        p += strspn(p, " ");
    }
    return 0;
}

static void file_path(const wxsim_t *sim, const char *id, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s/%s", sim->cfg->sim.data_dir, id);
}

static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0)
        return -1;
    if (wx_write_all(fd, data, len) != 0) {
        int e = errno;

        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    return close(fd);
}

static void free_media(wxsim_t *sim, wxsim_media_t *m)
{
    char path[4200];

    file_path(sim, m->id, path, sizeof(path));
    unlink(path);
    free(m->filename);
    free(m->title);
    free(m->description);
}

static void remove_at(wxsim_t *sim, size_t i)
{
    free_media(sim, &sim->media[i]);
    memmove(&sim->media[i], &sim->media[i + 1], (sim->n_media - i - 1) * sizeof(*sim->media));
    sim->n_media--;
}

static int expired(const wxsim_t *sim, const wxsim_media_t *m)
{
    return !m->permanent && wxsim_now(sim) >= m->created + TEMP_LIFETIME;
}

static wxsim_media_t *find(const wxsim_t *sim, const char *id, int permanent)
{
    size_t i;

    for (i = 0; id && i < sim->n_media; i++) {
        wxsim_media_t *m = &sim->media[i];

        if (m->permanent == permanent && strcmp(m->id, id) == 0)
            return expired(sim, m) ? NULL : m;
    }
    return NULL;
}

const wxsim_media_t *wxsim_material_find(const wxsim_t *sim, const char *id)
{
    return find(sim, id, 1);
}

void wxsim_media_clear(wxsim_t *sim)
{
    size_t i;

    for (i = 0; i < sim->n_media; i++)
        free_media(sim, &sim->media[i]);
    free(sim->media);
    sim->media = NULL;
    sim->n_media = sim->cap_media = 0;
}

/* A slot for one more record, dropping expired temporary media first
 * when the table is full.  NULL when there is no room. */
static wxsim_media_t *new_slot(wxsim_t *sim)
{
    size_t i;

    if (sim->n_media >= WXSIM_MAX_MEDIA) {
        for (i = sim->n_media; i-- > 0; )
            if (expired(sim, &sim->media[i]))
                remove_at(sim, i);
        if (sim->n_media >= WXSIM_MAX_MEDIA)
            return NULL;
    }
    if (sim->n_media == sim->cap_media) {
        size_t cap = sim->cap_media ? sim->cap_media * 2 : 16;
        wxsim_media_t *m = realloc(sim->media, cap * sizeof(*m));

        if (m == NULL)
            return NULL;
        sim->media = m;
        sim->cap_media = cap;
    }
    return memset(&sim->media[sim->n_media], 0, sizeof(*sim->media));
}

/* The checks and the storing shared by media/upload and add_material.
 * Returns the new record, or NULL after answering. */
static wxsim_media_t *store_upload(wxsim_t *sim, wxsim_req_t *rq, int permanent)
{
    wxsim_part_t parts[WXSIM_MAX_PARTS];
    const wxsim_part_t *media = NULL;
    char tname[16], path[4200];
    wxsim_media_t *m;
    int t, n, i;
    size_t max;

    t = wxsim_query_get(rq->query, "type", tname, sizeof(tname)) > 0 ? type_of(tname) : -1;
    if (t < 0) {
        wxsim_reply_err(rq, 40004, "invalid media type");
        return NULL;
    }
    if (rq->body_state == WXSIM_BODY_TOOBIG) {
        wxsim_reply_err(rq, 45001, "media size out of limit");
        return NULL;
    }
    n = wxsim_multipart_parse(rq, parts, WXSIM_MAX_PARTS);
    for (i = 0; i < n; i++)
        if (strcmp(parts[i].name, "media") == 0 && parts[i].has_filename)
            media = &parts[i];
    if (media == NULL || media->len == 0) {
        wxsim_reply_err(rq, 41005, "media data missing");
        return NULL;
    }
    max = types[t].max < sim->cfg->sim.max_upload ? types[t].max : sim->cfg->sim.max_upload;
    if (media->len > max) {
        wxsim_reply_err(rq, 45001, "media size out of limit");
        return NULL;
    }
    if (!ext_ok(media->filename, permanent ? types[t].perm_ext : types[t].temp_ext)) {
        wxsim_reply_err(rq, 40005, "invalid file type");
        return NULL;
    }
    m = new_slot(sim);
    if (m == NULL) {
        wxsim_reply_err(rq, -1, "system error");
        return NULL;
    }
    wxsim_random_id(m->id, WXSIM_ID_LEN);
    file_path(sim, m->id, path, sizeof(path));
    m->filename = strdup(media->filename);
    if (m->filename == NULL || write_file(path, media->data, media->len) != 0) {
        wx_log(WX_LOG_ERROR, "cannot store an upload in %s: %s", sim->cfg->sim.data_dir,
               strerror(errno));
        free(m->filename);
        wxsim_reply_err(rq, -1, "system error");
        return NULL;
    }
    m->type = (wxsim_media_type_t)t;
    m->permanent = permanent;
    m->size = media->len;
    m->created = wxsim_now(sim);
    sim->n_media++;
    snprintf(rq->note, sizeof(rq->note), "%s %zu bytes", types[t].name, m->size);
    return m;
}

void wxsim_media_upload(wxsim_t *sim, wxsim_req_t *rq)
{
    wxsim_media_t *m = store_upload(sim, rq, 0);

    if (m)
        wxsim_reply_json(rq, json_pack("{s:s,s:s,s:I}", "type", types[m->type].name,
                                       "media_id", m->id, "created_at", (json_int_t)m->created));
}

static const char *content_type(const wxsim_media_t *m)
{
    const char *dot = strrchr(m->filename, '.');

    if (dot && strcasecmp(dot, ".png") == 0)
        return "image/png";
    if (dot && strcasecmp(dot, ".gif") == 0)
        return "image/gif";
    if (dot && strcasecmp(dot, ".bmp") == 0)
        return "image/bmp";
    if (dot && strcasecmp(dot, ".mp3") == 0)
        return "audio/mpeg";
    if (m->type == WXSIM_VOICE)
        return "audio/amr";
    return "image/jpeg";
}

/* Answer the stored bytes, with the headers WeChat sends for a file. */
static void reply_file(wxsim_t *sim, wxsim_req_t *rq, const wxsim_media_t *m)
{
    char path[4200], *data;
    size_t got = 0;
    int fd;

    file_path(sim, m->id, path, sizeof(path));
    data = malloc(m->size ? m->size : 1);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (data == NULL || fd < 0)
        goto fail;
    while (got < m->size) {
        ssize_t n = read(fd, data + got, m->size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        got += (size_t)n;
    }
    close(fd);
    snprintf(rq->headers, sizeof(rq->headers),
             "Content-disposition: attachment; filename=\"%.200s\"\r\n", m->filename);
    wxsim_reply_bytes(rq, data, m->size, content_type(m));
    return;
fail:
    wx_log(WX_LOG_ERROR, "cannot read %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(data);
    wxsim_reply_err(rq, -1, "system error");
}

void wxsim_media_get(wxsim_t *sim, wxsim_req_t *rq)
{
    char id[WXSIM_ID_LEN + 2], url[160];
    const wxsim_media_t *m = NULL;

    if (wxsim_query_get(rq->query, "media_id", id, sizeof(id)) > 0)
        m = find(sim, id, 0);
    if (m == NULL) {
        wxsim_reply_err(rq, 40007, "invalid media_id");
        return;
    }
    /* 6.3: a video comes as a link, everything else as bytes. */
    if (m->type == WXSIM_VIDEO) {
        snprintf(url, sizeof(url), "http://wxsim.invalid/video/%s", m->id);
        wxsim_reply_json(rq, json_pack("{s:s}", "video_url", url));
        return;
    }
    reply_file(sim, rq, m);
}

/* A video's description: a form field or (as wechatpy sends it) a query
 * parameter, JSON {"title","introduction"}. */
static int video_description(wxsim_req_t *rq, wxsim_media_t *m)
{
    wxsim_part_t parts[WXSIM_MAX_PARTS];
    char q[2048];
    json_t *d = NULL;
    int n, i;

    n = wxsim_multipart_parse(rq, parts, WXSIM_MAX_PARTS);
    for (i = 0; i < n && d == NULL; i++)
        if (strcmp(parts[i].name, "description") == 0 && !parts[i].has_filename)
            d = json_loadb(parts[i].data, parts[i].len, 0, NULL);
    if (d == NULL && wxsim_query_get(rq->query, "description", q, sizeof(q)) > 0)
        d = json_loads(q, 0, NULL);
    if (wxsim_json_str(d, "title") == NULL || wxsim_json_str(d, "title")[0] == '\0') {
        json_decref(d);
        return -1;
    }
    m->title = strdup(wxsim_json_str(d, "title"));
    m->description = strdup(wxsim_json_str(d, "introduction") ?
                            wxsim_json_str(d, "introduction") : "");
    json_decref(d);
    return m->title && m->description ? 0 : -1;
}

void wxsim_material_add(wxsim_t *sim, wxsim_req_t *rq)
{
    wxsim_media_t *m = store_upload(sim, rq, 1);
    char url[160];

    if (m == NULL)
        return;
    if (m->type == WXSIM_VIDEO && video_description(rq, m) != 0) {
        remove_at(sim, sim->n_media - 1);
        wxsim_reply_err(rq, 47001, "data format error");
        return;
    }
    if (m->type == WXSIM_IMAGE) {
        snprintf(url, sizeof(url), "http://mmbiz.qpic.cn/wxsim/%s/0", m->id);
        wxsim_reply_json(rq, json_pack("{s:s,s:s}", "media_id", m->id, "url", url));
    } else {
        wxsim_reply_json(rq, json_pack("{s:s}", "media_id", m->id));
    }
}

/* The material named by the body's media_id, or NULL after answering. */
static wxsim_media_t *material_of(wxsim_t *sim, wxsim_req_t *rq, json_t **body)
{
    wxsim_media_t *m;

    *body = wxsim_req_json(rq);
    if (*body == NULL)
        return NULL;
    m = find(sim, wxsim_json_str(*body, "media_id"), 1);
    if (m == NULL)
        wxsim_reply_err(rq, 40007, "invalid media_id");
    return m;
}

void wxsim_material_get(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body;
    wxsim_media_t *m = material_of(sim, rq, &body);
    char url[160];

    if (m && m->type == WXSIM_VIDEO) {
        snprintf(url, sizeof(url), "http://wxsim.invalid/video/%s", m->id);
        wxsim_reply_json(rq, json_pack("{s:s,s:s,s:s}", "title", m->title,
                                       "description", m->description, "down_url", url));
    } else if (m) {
        reply_file(sim, rq, m);
    }
    json_decref(body);
}

void wxsim_material_del(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body;
    wxsim_media_t *m = material_of(sim, rq, &body);

    if (m) {
        remove_at(sim, (size_t)(m - sim->media));
        wxsim_reply_ok(rq);
    }
    json_decref(body);
}

void wxsim_material_count(wxsim_t *sim, wxsim_req_t *rq)
{
    json_int_t count[WXSIM_MEDIA__MAX] = { 0 };
    size_t i;

    for (i = 0; i < sim->n_media; i++)
        if (sim->media[i].permanent)
            count[sim->media[i].type]++;
    wxsim_reply_json(rq, json_pack("{s:I,s:I,s:I,s:I}", "voice_count", count[WXSIM_VOICE],
                                   "video_count", count[WXSIM_VIDEO],
                                   "image_count", count[WXSIM_IMAGE] + count[WXSIM_THUMB],
                                   "news_count", (json_int_t)0));
}

void wxsim_material_batchget(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *off, *cnt, *items;
    const char *tname;
    json_int_t total = 0, offset, count;
    size_t i;
    int t;

    if (body == NULL)
        return;
    tname = wxsim_json_str(body, "type");
    off = json_object_get(body, "offset");
    cnt = json_object_get(body, "count");
    t = type_of(tname);
    if (t < 0 && (tname == NULL || strcmp(tname, "news") != 0)) {
        wxsim_reply_err(rq, 40004, "invalid media type");
        goto out;
    }
    if (!json_is_integer(off) || json_integer_value(off) < 0 ||
        !json_is_integer(cnt) || json_integer_value(cnt) < 1 || json_integer_value(cnt) > 20) {
        wxsim_reply_err(rq, 47001, "data format error");
        goto out;
    }
    offset = json_integer_value(off);
    count = json_integer_value(cnt);
    items = json_array();
    /* Newest first, as the platform lists them.  News materials are
     * retired (6.5): that list is always empty. */
    for (i = sim->n_media; t >= 0 && i-- > 0; ) {
        const wxsim_media_t *m = &sim->media[i];
        char url[160];
        json_t *it;

        if (!m->permanent || (int)m->type != t)
            continue;
        if (total++ < offset || (json_int_t)json_array_size(items) >= count)
            continue;
        it = json_pack("{s:s,s:s,s:I}", "media_id", m->id, "name", m->filename,
                       "update_time", (json_int_t)m->created);
        if (m->type == WXSIM_IMAGE) {
            snprintf(url, sizeof(url), "http://mmbiz.qpic.cn/wxsim/%s/0", m->id);
            json_object_set_new(it, "url", json_string(url));
        }
        json_array_append_new(items, it);
    }
    wxsim_reply_json(rq, json_pack("{s:I,s:I,s:o}", "total_count", total,
                                   "item_count", (json_int_t)json_array_size(items),
                                   "item", items));
out:
    json_decref(body);
}
