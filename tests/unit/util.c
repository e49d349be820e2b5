/* util.c - helpers shared by the suites (see tests.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

const char *fx_dir(void)
{
    const char *d = getenv("WX_FIXTURES");

    return d && *d ? d : "tests/fixtures";
}

char *slurp_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap + 65536);

            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *fx_read(const char *rel, size_t *len)
{
    char path[1024];
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", fx_dir(), rel);
    buf = slurp_file(path, len);
    ck_assert_msg(buf != NULL, "cannot read fixture %s", path);
    return buf;
}

void write_temp(char *tmpl, const char *text)
{
    size_t len = strlen(text), off = 0;
    int fd = mkstemp(tmpl);

    ck_assert_msg(fd >= 0, "mkstemp %s failed", tmpl);
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        ck_assert_msg(w > 0, "write %s failed", tmpl);
        off += (size_t)w;
    }
    close(fd);
}

char *reply_with_now(const char *tmpl, long long now)
{
    static const char mark[] = "<CreateTime>NOW</CreateTime>";
    char num[64];
    size_t nlen, cap;
    const char *p, *hit;
    char *out, *o;

    nlen = (size_t)snprintf(num, sizeof(num), "<CreateTime>%lld</CreateTime>", now);
    cap = strlen(tmpl) * 2 + nlen + 1;
    out = o = malloc(cap);
    ck_assert_ptr_nonnull(out);
    for (p = tmpl; (hit = strstr(p, mark)) != NULL; p = hit + sizeof(mark) - 1) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, num, nlen);
        o += nlen;
    }
    strcpy(o, p);
    return out;
}
