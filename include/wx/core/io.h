/*
 * wx/core/io.h - whole writes to a file descriptor.
 */
#ifndef WX_IO_H
#define WX_IO_H

#include <stddef.h>

/* Write all 'len' bytes of 'p' to 'fd', again after a short write or
 * EINTR.  0, or -1 with errno set (a write of 0 bytes sets EIO).  A pipe
 * or socket whose reader is gone raises SIGPIPE unless it is ignored. */
int wx_write_all(int fd, const void *p, size_t len);

#endif
