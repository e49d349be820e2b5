/*
 * store_local.h - the local backend of the state store, shared by its two
 * files: store_local.c (the lease and bucket tables in shared memory,
 * the operations table) and store_local_rec.c (records in files).
 * Private to src/lib/state/.
 */
#ifndef WX_STORE_LOCAL_H
#define WX_STORE_LOCAL_H

#include "wx/core/shm.h"
#include "store_impl.h"

#define WX_LOCAL_PATH_MAX   4096

typedef struct wx_store_local {
    wx_shm_t    lease;              /* map NULL: no lease table */
    char        lease_name[64];
    unsigned    slots;              /* entries, of WX_STORE_LOCAL_ENTRY bytes */
    unsigned    slot_size;          /* bytes of a large slot */
    unsigned    large;              /* large slots */
    wx_shm_t    bucket;             /* map NULL: no bucket table */
    char        rec_path[WX_LOCAL_PATH_MAX];    /* "": no records */
    char        rec_name[64];
    int         lock_fd;            /* the record lock held, or -1 */
} wx_store_local_t;

wx_err_t wx_local_rec_read(wx_store_t *st, const wx_store_key_t *key,
                           wx_store_rec_t *rec, char *buf, size_t cap);
wx_err_t wx_local_rec_replace(wx_store_t *st, const wx_store_key_t *key,
                              const wx_store_rec_t *rec);
wx_err_t wx_local_lock(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms);
void wx_local_unlock(wx_store_t *st, const wx_store_key_t *key);

#endif
