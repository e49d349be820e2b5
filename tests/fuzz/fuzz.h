/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each target is one file with LLVMFuzzerTestOneInput(); the Makefile
 * builds it with clang -fsanitize=fuzzer,address,undefined against libwx
 * built the same way (make fuzz).  A target must not leak, keep state
 * from one input to the next, or log: the logger is silenced here.
 */
#ifndef WX_FUZZ_H
#define WX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A file under $TMPDIR (or /tmp) that holds 'text'; its path in 'path'
 * (a template of at least 64 bytes).  Exits on failure: the target cannot
 * run without it. */
static inline void fuzz_file(char *path, size_t cap, const char *tag,
                             const void *text, size_t len)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(path, cap, "%s/wx-fuzz-%s.XXXXXX", dir && *dir ? dir : "/tmp", tag);
    fd = mkstemp(path);
    if (fd < 0 || (len && write(fd, text, len) != (ssize_t)len)) {
        perror(path);
        exit(1);
    }
    close(fd);
}

/* Replace the file's contents with 'len' bytes of 'data'. */
static inline void fuzz_rewrite(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || (len && fwrite(data, 1, len, f) != len)) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* No log lines: a fuzzer runs millions of inputs. */
static inline void fuzz_quiet(void)
{
    wx_log_threshold = WX_LOG__MAX;
}

#endif
