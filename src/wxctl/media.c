/*
 * media.c - wxctl media: temporary media (PROTOCOL.md 6.2, 6.3), and the
 * checks of an upload that permanent material shares (6.4): the type, the
 * file's format by its extension and its first bytes, its size.  A file
 * WeChat would refuse is refused here, before a byte is sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "wxctl.h"

#define MB  (1024u * 1024u)

static const struct {
    const char *name;
    size_t      max;
    const char *temp_ext;       /* 6.2 */
    const char *perm_ext;       /* 6.4 */
} types[] = {
    { "image", 10 * MB, "png jpeg jpg gif", "bmp png jpeg jpg gif" },
    { "voice", 2 * MB, "amr mp3", "mp3 wma wav amr" },
    { "video", 10 * MB, "mp4", "mp4" },
    { "thumb", 64 * 1024, "jpg jpeg", "jpg jpeg" },
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

/* The first bytes of each format. */
static int magic_ok(const char *ext, const unsigned char *h, size_t n)
{
    if (strcasecmp(ext, "jpg") == 0 || strcasecmp(ext, "jpeg") == 0)
        return n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff;
    if (strcasecmp(ext, "png") == 0)
        return n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (strcasecmp(ext, "gif") == 0)
        return n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0);
    if (strcasecmp(ext, "bmp") == 0)
        return n >= 2 && h[0] == 'B' && h[1] == 'M';
    if (strcasecmp(ext, "amr") == 0)
        return n >= 5 && memcmp(h, "#!AMR", 5) == 0;
    if (strcasecmp(ext, "mp3") == 0)
        return (n >= 3 && memcmp(h, "ID3", 3) == 0) ||
               (n >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0);
    if (strcasecmp(ext, "wav") == 0)
        return n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0;
    if (strcasecmp(ext, "wma") == 0)
        return n >= 8 && memcmp(h, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8) == 0;
    if (strcasecmp(ext, "mp4") == 0)
        return n >= 8 && memcmp(h + 4, "ftyp", 4) == 0;
    return 0;
}

static int in_list(const char *ext, const char *list)
{
    size_t n = strlen(ext);

    while (*list) {
        size_t len = strcspn(list, " ");

        if (len == n && strncasecmp(list, ext, n) == 0)
            return 1;
        list += len;
        list += strspn(list, " ");
    }
    return 0;
}

static void put_size(char *buf, size_t cap, size_t n)
{
    if (n >= MB)
        snprintf(buf, cap, "%zu MiB", n / MB);
    else
        snprintf(buf, cap, "%zu KiB", n / 1024);
}

int wxctl_media_check(const char *type, const char *path, int permanent)
{
    const char *ext = strrchr(path, '.'), *slash = strrchr(path, '/'), *list;
    unsigned char head[16];
    struct stat st;
    char lim[32];
    ssize_t n;
    size_t t;
    int fd;

    for (t = 0; t < N_TYPES; t++)
        if (strcmp(type, types[t].name) == 0)
            break;
    if (t == N_TYPES)
        return wxctl_usage("unknown media type '%s' (image, voice, video, thumb)", type);
    list = permanent ? types[t].perm_ext : types[t].temp_ext;
    if (ext == NULL || (slash && ext < slash) || !in_list(ext + 1, list))
        return wxctl_bad("%s: a %s %s must be one of: %s (by its extension)", path,
                         permanent ? "permanent" : "temporary", type, list);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wxctl_bad("%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return wxctl_bad("%s: not a regular file", path);
    }
    put_size(lim, sizeof(lim), types[t].max);
    if ((size_t)st.st_size > types[t].max) {
        close(fd);
        return wxctl_bad("%s: %lld bytes, over the %s limit of a %s", path,
                         (long long)st.st_size, lim, type);
    }
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n <= 0)
        return wxctl_bad("%s: empty", path);
    if (!magic_ok(ext + 1, head, (size_t)n))
        return wxctl_bad("%s: the content is not %s (the first bytes do not match)",
                         path, ext + 1);
    return WXCTL_EXIT_OK;
}

/* -------------------------------------------------------- commands -- */

static int media_upload(wxctl_t *ctl, const char *type, const char *path)
{
    char q[64], t1[32], t2[32];
    json_t *ans = NULL;
    long long at;
    int rc;

    if ((rc = wxctl_media_check(type, path, 0)) != 0)
        return rc;
    snprintf(q, sizeof(q), "/cgi-bin/media/upload?type=%s", type);
    rc = wxctl_upload(ctl, q, path, NULL, &ans);
    if (rc == 0 && !wxctl_opts(ctl)->json) {
        at = json_integer_value(json_object_get(ans, "created_at"));
        printf("media_id    %s\n", wxctl_str(ans, "media_id") ? wxctl_str(ans, "media_id") : "");
        printf("type        %s\n", wxctl_str(ans, "type") ? wxctl_str(ans, "type") : type);
        printf("created_at  %s\n", wxctl_time(at, t1, sizeof(t1)));
        printf("expires     %s (temporary media are kept 3 days)\n",
               wxctl_time(at ? at + 3 * 86400 : 0, t2, sizeof(t2)));
    }
    json_decref(ans);
    return rc;
}

int wxctl_fetch(wxctl_t *ctl, const char *path_query, const json_t *body, const char *what)
{
    const wxctl_opts_t *o = wxctl_opts(ctl);
    char name[256];
    json_t *ans = NULL;
    size_t got = 0;
    int rc;

    if (o->out == NULL)
        return wxctl_usage("%s needs -o FILE (or -o - for standard output)", what);
    rc = wxctl_download(ctl, path_query, body, o->out, &ans, name, sizeof(name), &got);
    if (rc != 0)
        return rc;
    if (ans != NULL) {
        /* A video (6.3, 6.4): its link and description, nothing written. */
        if (!o->json) {
            const char *k;
            json_t *v;
            void *it;

            for (it = json_object_iter(ans); it != NULL; it = json_object_iter_next(ans, it)) {
                k = json_object_iter_key(it);
                v = json_object_iter_value(it);
                if (json_is_string(v))
                    printf("%-12s %s\n", k, json_string_value(v));
            }
            if (json_object_get(ans, "news_item"))
                wxctl_print_json(json_object_get(ans, "news_item"));
        }
        json_decref(ans);
        return WXCTL_EXIT_OK;
    }
    if (strcmp(o->out, "-") == 0)
        return WXCTL_EXIT_OK;
    if (o->json) {
        json_t *j = json_pack("{s:s,s:I,s:s}", "file", o->out, "bytes", (json_int_t)got,
                              "filename", name);

        wxctl_print_json(j);
        json_decref(j);
    } else {
        printf("%s: %zu bytes%s%s%s\n", o->out, got, name[0] ? " (" : "", name,
               name[0] ? ")" : "");
    }
    return WXCTL_EXIT_OK;
}

int wxctl_media(wxctl_t *ctl, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    char *id, q[512];
    int rc;

    if (strcmp(sub, "upload") == 0) {
        if (argc != 3)
            return wxctl_usage("media upload takes TYPE FILE");
        return media_upload(ctl, argv[1], argv[2]);
    }
    if (strcmp(sub, "get") == 0) {
        if (argc != 2)
            return wxctl_usage("media get takes MEDIA_ID -o FILE");
        if ((id = wxctl_escape(ctl, argv[1])) == NULL || strlen(id) > 400) {
            curl_free(id);
            return wxctl_bad("media_id too long");
        }
        snprintf(q, sizeof(q), "/cgi-bin/media/get?media_id=%s", id);
        curl_free(id);
        rc = wxctl_fetch(ctl, q, NULL, "media get");
        return rc;
    }
    return wxctl_usage("media takes upload or get");
}
