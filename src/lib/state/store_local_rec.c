/* store_local_rec.c - the local backend's records: one file each, one line
 * of text, replaced by rename(2); the lock an flock(2) of a file beside it
 * (see wx/state/store.h).
 *
 * The line is
 *
 *     wxtoken1 VERSION OBTAINED EXPIRES VALUE CHECK
 *
 * CHECK is the SHA-1 (hex) of everything before it: a file damaged in
 * any way but a rename is caught.  (The magic is the token store's, the
 * first record kept so: files written before the store keep working.)
 * The file is written to a temporary file beside it, fsync'ed, renamed
 * over the old one and the directory fsync'ed: a reader sees the old file
 * or the new one.  It is made readable by its group: the readers. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wx/core/dirhint.h"
#include "wx/core/io.h"
#include "wx/proto/sign.h"
#include "store_local.h"

#define REC_MAGIC   "wxtoken1"
#define REC_LINE    (WX_STORE_LOCAL_REC_MAX + 160)
#define REC_KEY_MAX 32

_Static_assert(WX_STORE_LOCAL_REC_MAX == 1024, "the sscanf width below is 1025");

/* A value travels in a line of text: printable ASCII without blanks. */
static int value_ok(wx_str_t v)
{
    size_t i;

    for (i = 0; i < v.len; i++)
        if (v.data[i] <= ' ' || v.data[i] > '~')
            return 0;
    return v.len > 0 && v.len <= WX_STORE_LOCAL_REC_MAX;
}

/* The file of the record of 'key' (with 'suffix'): the configured path
 * for the empty key, PATH.KEY for another. */
static wx_err_t rec_path(wx_store_t *st, const wx_store_key_t *key, const char *suffix,
                         char *path, size_t cap)
{
    wx_store_local_t *l = st->be;
    const char *k = key->data;
    size_t i;

    if (l->rec_path[0] == '\0')
        return wx_store_fail(st, WX_ECONFIG, "state store: opened without records");
    if (key->len > REC_KEY_MAX)
        return wx_store_fail(st, WX_EINVAL, "%s: a key of %zu bytes", l->rec_name, key->len);
    for (i = 0; i < key->len; i++)
        if (!(k[i] == '-' || k[i] == '_' || (k[i] >= '0' && k[i] <= '9') ||
              (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z')))
            return wx_store_fail(st, WX_EINVAL, "%s: a key may hold letters, digits, "
                                 "'-' and '_'", l->rec_name);
    if ((size_t)snprintf(path, cap, "%s%s%.*s%s", l->rec_path, key->len ? "." : "",
                         (int)key->len, key->len ? k : "", suffix) >= cap)
        return wx_store_fail(st, WX_EINVAL, "%s path too long", l->rec_name);
    return WX_OK;
}

static void check_hex(const char *text, size_t len, char hex[WX_SIGN_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    wx_str_t part = { len, text };
    unsigned char md[20];
    int i;

    if (wx_sha1_parts(&part, 1, md) != WX_OK) {
        hex[0] = '\0';
        return;
    }
    for (i = 0; i < 20; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[WX_SIGN_HEX_LEN] = '\0';
}

/* Read and check the line of 'path' into 'line'; its fields separated. */
static wx_err_t read_line(wx_store_t *st, const char *path, char *line, size_t cap)
{
    const char *name = ((wx_store_local_t *)st->be)->rec_name;
    char want[WX_SIGN_HEX_LEN + 1];
    size_t len;
    ssize_t n;
    char *sp;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wx_store_fail(st, errno == ENOENT ? WX_EMISSING : WX_ESYS, "%s %s: %s",
                             name, path, strerror(errno));
    n = read(fd, line, cap - 1);
    close(fd);
    if (n < 0)
        return wx_store_fail(st, WX_ESYS, "%s %s: %s", name, path, strerror(errno));
    line[n] = '\0';
    len = (size_t)n;
    if (len == 0 || line[len - 1] != '\n' || strlen(line) != len)
        return wx_store_fail(st, WX_EINVAL, "%s %s is damaged (not one complete line)",
                             name, path);
    line[--len] = '\0';
    /* The check covers everything before the last space. */
    sp = strrchr(line, ' ');
    if (sp == NULL || strlen(sp + 1) != WX_SIGN_HEX_LEN)
        return wx_store_fail(st, WX_EINVAL, "%s %s is damaged (no check)", name, path);
    check_hex(line, (size_t)(sp - line), want);
    if (strcmp(sp + 1, want) != 0)
        return wx_store_fail(st, WX_EINVAL, "%s %s is damaged (check mismatch)", name, path);
    *sp = '\0';
    return WX_OK;
}

static wx_err_t read_file(wx_store_t *st, const char *path, wx_store_rec_t *rec,
                          char *buf, size_t cap)
{
    const char *name = ((wx_store_local_t *)st->be)->rec_name;
    char line[REC_LINE + 2], magic[16], value[WX_STORE_LOCAL_REC_MAX + 2];
    unsigned long version;
    long long obtained, expires;
    wx_err_t rc;
    int end = 0;
    size_t len;

    if ((rc = read_line(st, path, line, sizeof(line))) != WX_OK)
        return rc;
    if (sscanf(line, "%15s %lu %lld %lld %1025s%n", magic, &version, &obtained, &expires,
               value, &end) != 5 || line[end] != '\0' || strcmp(magic, REC_MAGIC) != 0 ||
        !value_ok(wx_str_c(value)))
        return wx_store_fail(st, WX_EINVAL, "%s %s is damaged (bad fields)", name, path);
    len = strlen(value);
    if (len >= cap)
        return wx_store_fail(st, WX_ETOOBIG, "%s %s: a %zu-byte value", name, path, len);
    memcpy(buf, value, len + 1);
    rec->version = version;
    rec->obtained = (time_t)obtained;
    rec->expires = (time_t)expires;
    rec->value = (wx_str_t){ len, buf };
    return WX_OK;
}

wx_err_t wx_local_rec_read(wx_store_t *st, const wx_store_key_t *key,
                           wx_store_rec_t *rec, char *buf, size_t cap)
{
    char path[WX_LOCAL_PATH_MAX];
    wx_err_t rc;

    if ((rc = rec_path(st, key, "", path, sizeof(path))) != WX_OK)
        return rc;
    return read_file(st, path, rec, buf, cap);
}

static wx_err_t write_file(wx_store_t *st, const char *path, const wx_store_rec_t *rec)
{
    char line[REC_LINE + 64], hex[WX_SIGN_HEX_LEN + 1], tmp[WX_LOCAL_PATH_MAX + 16];
    char dir[WX_LOCAL_PATH_MAX];
    const char *name = ((wx_store_local_t *)st->be)->rec_name;
    wx_err_t rc = WX_ESYS;
    int fd, dfd, n;

    n = snprintf(line, sizeof(line), "%s %lu %lld %lld %.*s", REC_MAGIC, rec->version,
                 (long long)rec->obtained, (long long)rec->expires, (int)rec->value.len,
                 rec->value.data);
    check_hex(line, (size_t)n, hex);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %s\n", hex);
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        char hint[512];
        int e = errno;

        return wx_store_fail(st, WX_ESYS, "%s %s: %s%s", name, tmp, strerror(e),
                             wx_dir_hint(path, 0, e, hint, sizeof(hint)));
    }
    if (fchmod(fd, 0640) != 0 || wx_write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0) {
        wx_store_fail(st, rc, "%s %s: %s", name, tmp, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) != 0) {
        wx_store_fail(st, rc, "%s %s: %s", name, tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        wx_store_fail(st, rc, "%s %s: rename: %s", name, path, strerror(errno));
        goto out;
    }
    /* The rename itself is durable once the directory is. */
    snprintf(dir, sizeof(dir), "%s", path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = WX_OK;
out:
    if (rc != WX_OK)
        unlink(tmp);
    return rc;
}

/* Under the record's lock: the check of the version and the write. */
static wx_err_t replace_locked(wx_store_t *st, const char *path, const wx_store_rec_t *rec)
{
    const char *name = ((wx_store_local_t *)st->be)->rec_name;
    char buf[WX_STORE_LOCAL_REC_MAX + 1];
    wx_store_rec_t cur;
    unsigned long stored = 0;
    wx_err_t rc;

    memset(&cur, 0, sizeof(cur));
    rc = read_file(st, path, &cur, buf, sizeof(buf));
    if (rc == WX_OK)
        stored = cur.version;
    else if (rc != WX_EMISSING && rc != WX_EINVAL)
        return rc;                      /* unreadable: do not guess */
    if (rec->version < stored || (rec->version == stored &&
                                  (rc != WX_OK || wx_str_cmp(cur.value, rec->value) != 0)))
        return wx_store_fail(st, WX_ESTALE, "%s %s holds version %lu: version %lu is not next",
                             name, path, stored, rec->version);
    return write_file(st, path, rec);
}

wx_err_t wx_local_rec_replace(wx_store_t *st, const wx_store_key_t *key,
                              const wx_store_rec_t *rec)
{
    wx_store_local_t *l = st->be;
    char path[WX_LOCAL_PATH_MAX], dir[WX_LOCAL_PATH_MAX];
    wx_err_t rc;
    int dfd;

    if ((rc = rec_path(st, key, "", path, sizeof(path))) != WX_OK)
        return rc;
    if (!value_ok(rec->value))
        return wx_store_fail(st, WX_EINVAL, "refusing to store a %s value with blanks or "
                             "controls in it, empty or over %d bytes", l->rec_name,
                             WX_STORE_LOCAL_REC_MAX);
    /* The check and the write under an flock of the directory: it leaves
     * no file behind, and is not the refresh lock, which the caller may
     * hold. */
    snprintf(dir, sizeof(dir), "%s", path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || flock(dfd, LOCK_EX) != 0) {
        rc = wx_store_fail(st, WX_ESYS, "%s %s: lock: %s", l->rec_name, path,
                           strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return rc;
    }
    rc = replace_locked(st, path, rec);
    flock(dfd, LOCK_UN);
    close(dfd);
    return rc;
}

wx_err_t wx_local_lock(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms)
{
    wx_store_local_t *l = st->be;
    char path[WX_LOCAL_PATH_MAX];
    wx_err_t rc;
    int fd;

    (void)lease_ms;     /* the kernel drops an flock when its holder dies */
    if ((rc = rec_path(st, key, ".lock", path, sizeof(path))) != WX_OK)
        return rc;
    if (l->lock_fd >= 0)
        return wx_store_fail(st, WX_EINVAL, "%s: a lock is held already", l->rec_name);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        char hint[512];
        int e = errno;

        rc = wx_store_fail(st, WX_ESYS, "lock %s: %s%s", path, strerror(e),
                           wx_dir_hint(path, 0, e, hint, sizeof(hint)));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    l->lock_fd = fd;
    return WX_OK;
}

void wx_local_unlock(wx_store_t *st, const wx_store_key_t *key)
{
    wx_store_local_t *l = st->be;

    (void)key;
    if (l->lock_fd < 0)
        return;
    flock(l->lock_fd, LOCK_UN);
    close(l->lock_fd);
    l->lock_fd = -1;
}
