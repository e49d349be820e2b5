/* shm.c - file-backed shared tables with a robust mutex (see wx/core/shm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "wx/core/dirhint.h"
#include "wx/core/log.h"
#include "wx/core/shm.h"

static int init_header(wx_shm_hdr_t *h, const wx_shm_spec_t *spec)
{
    pthread_mutexattr_t a;
    int rc;

    if (pthread_mutexattr_init(&a) != 0)
        return -1;
    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
         pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
         pthread_mutex_init(&h->lock, &a);
    pthread_mutexattr_destroy(&a);
    if (rc)
        return -1;
    h->version = spec->version;
    h->param = spec->param;
    __atomic_store_n(&h->magic, spec->magic, __ATOMIC_RELEASE);
    return 0;
}

wx_err_t wx_shm_open(wx_shm_t *shm, const char *path, const wx_shm_spec_t *spec,
                     char *err, size_t errlen)
{
    wx_err_t rc = WX_ESYS;
    struct stat st;
    int fd;

    memset(shm, 0, sizeof(*shm));
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        char hint[512];
        int e = errno;

        snprintf(err, errlen, "%s %s: %s%s", spec->what, path, strerror(e),
                 wx_dir_hint(path, 0, e, hint, sizeof(hint)));
        return WX_ESYS;
    }
    /* One process initialises; the others wait on the file lock. */
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", spec->what, path, strerror(errno));
        goto out;
    }
    if ((size_t)st.st_size != spec->size && st.st_size != 0) {
        snprintf(err, errlen, "%s %s has another size (%lld bytes, want %zu): %s",
                 spec->what, path, (long long)st.st_size, spec->size,
                 spec->size_hint ? spec->size_hint : "remove it");
        rc = WX_EINVAL;
        goto out;
    }
    if (st.st_size == 0) {
        struct statfs fs;

        if (ftruncate(fd, (off_t)spec->size) != 0) {
            snprintf(err, errlen, "%s %s: %s", spec->what, path, strerror(errno));
            goto out;
        }
        /* Said once, by the process that creates the table. */
        if (fstatfs(fd, &fs) == 0 && fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC)
            wx_log(WX_LOG_WARN, "%s %s is not on a tmpfs: the kernel will write "
                   "its pages back to disk; a directory under /run or /dev/shm is faster",
                   spec->what, path);
    }
    shm->map = mmap(NULL, spec->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shm->map == MAP_FAILED) {
        shm->map = NULL;
        snprintf(err, errlen, "%s %s: mmap: %s", spec->what, path, strerror(errno));
        goto out;
    }
    shm->size = spec->size;
    shm->hdr = (wx_shm_hdr_t *)shm->map;
    if (shm->hdr->magic != spec->magic || shm->hdr->version != spec->version ||
        shm->hdr->param != spec->param) {
        if (shm->hdr->magic != 0 && shm->hdr->magic != spec->magic) {
            snprintf(err, errlen, "%s %s is not a %s", spec->what, path, spec->what);
            rc = WX_EINVAL;
            goto out;
        }
        memset(shm->map, 0, spec->size);
        if (init_header(shm->hdr, spec) != 0) {
            snprintf(err, errlen, "%s %s: cannot create its lock", spec->what, path);
            goto out;
        }
    }
    rc = WX_OK;
out:
    flock(fd, LOCK_UN);
    close(fd);
    if (rc != WX_OK)
        wx_shm_close(shm);
    return rc;
}

void wx_shm_close(wx_shm_t *shm)
{
    if (shm->map)
        munmap(shm->map, shm->size);
    memset(shm, 0, sizeof(*shm));
}

int wx_shm_lock(wx_shm_t *shm)
{
    int rc = pthread_mutex_lock(&shm->hdr->lock);

    /* The holder died: the table may be mid-update in one entry, which is
     * at worst a lost entry.  Mark the lock usable again. */
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&shm->hdr->lock);
        return 1;
    }
    return 0;
}

void wx_shm_unlock(wx_shm_t *shm)
{
    pthread_mutex_unlock(&shm->hdr->lock);
}
