/* io.c - whole writes (wx/core/io.h). */
#include <errno.h>
#include <unistd.h>

#include "wx/core/io.h"

int wx_write_all(int fd, const void *p, size_t len)
{
    const char *s = p;

    while (len > 0) {
        ssize_t n = write(fd, s, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}
