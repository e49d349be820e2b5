/*
 * wx/core/shm.h - a table in a file-backed shared mapping, guarded by a
 * process-shared robust mutex: the building block of the state every
 * worker of the machine shares (the dedup table, the rate limiter).
 *
 * The mapping is of a file, not anonymous memory, so that unrelated
 * processes (as spawn-fcgi starts them) share it too.  The first process
 * to open the file sizes it and writes the header under an flock(2); the
 * others wait for it.  A file whose header names another layout (magic
 * zero, or another version or parameter) is cleared and initialised
 * again; one of another size or with another magic is refused.
 *
 * The mutex is robust: a process that dies holding it does not wedge the
 * others; the next locker gets it, and the table is at worst mid-update in
 * one entry, which every user must tolerate.
 */
#ifndef WX_SHM_H
#define WX_SHM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "wx/core/err.h"

/* The start of every table.  The user's own header fields follow it
 * (embed it as the first member). */
typedef struct wx_shm_hdr {
    uint32_t        magic;      /* written last: a reader that sees it sees a whole header */
    uint32_t        version;
    uint64_t        param;      /* the layout (a slot count, ...) */
    pthread_mutex_t lock;
} wx_shm_hdr_t;

typedef struct wx_shm_spec {
    const char *what;           /* "dedup table": names the table in messages */
    const char *size_hint;      /* said after "has another size (...)": what to do */
    uint32_t    magic;          /* non-zero */
    uint32_t    version;
    uint64_t    param;
    size_t      size;           /* the whole mapping, header included */
} wx_shm_spec_t;

typedef struct wx_shm {
    char           *map;        /* 'size' bytes, starting with the header */
    size_t          size;
    wx_shm_hdr_t   *hdr;
} wx_shm_t;

/* Map the table at 'path' (created with mode 0600 when missing), as
 * described by 'spec'.  WX_OK, or WX_ESYS / WX_EINVAL with 'err' naming
 * the path and the cause; *shm is then empty (wx_shm_close is harmless).
 * The creator warns, once, when the file is not on a tmpfs. */
wx_err_t wx_shm_open(wx_shm_t *shm, const char *path, const wx_shm_spec_t *spec,
                     char *err, size_t errlen);
void wx_shm_close(wx_shm_t *shm);

/* Take and release the table's mutex.  wx_shm_lock returns 1 when the
 * previous holder died holding it (the lock is made consistent again),
 * else 0. */
int wx_shm_lock(wx_shm_t *shm);
void wx_shm_unlock(wx_shm_t *shm);

#endif
