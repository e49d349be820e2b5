/*
 * wx/banned.h - C library functions that the tree must not call.
 *
 * The Makefile force-includes this header in every file of src/ (-include),
 * so a call to one of these names fails to compile, and the error names
 * both the function and what to use instead:
 *
 *   error: 'wx_banned_sprintf_use_snprintf' undeclared
 *
 * Why each is banned:
 *   strcpy, strcat, sprintf, vsprintf, gets   write with no bound on the
 *       destination: use snprintf / vsnprintf, or memcpy with a length
 *       checked first (wx_buf_t, wx_dynbuf_t for what grows)
 *   atoi, atol   no error report and undefined behaviour on overflow: use
 *       strtol / strtoul with an end pointer and a range check
 *   strtok   hidden static state: use strtok_r, strcspn / strspn
 *
 * The declarations come first: the headers that declare these functions
 * (and the inline wrappers of _FORTIFY_SOURCE) are read here, before the
 * names become macros, and their include guards keep them from being read
 * again.  The macros are function-like, so only calls are caught: a member
 * or a string that holds the name is left alone.
 */
#ifndef WX_BANNED_H
#define WX_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WX_BANNED(name) wx_banned_##name

#undef strcpy
#define strcpy(dst, src)        WX_BANNED(strcpy_use_snprintf_or_memcpy)
#undef strcat
#define strcat(dst, src)        WX_BANNED(strcat_use_snprintf_or_memcpy)
#undef sprintf
#define sprintf(...)            WX_BANNED(sprintf_use_snprintf)
#undef vsprintf
#define vsprintf(...)           WX_BANNED(vsprintf_use_vsnprintf)
#undef gets
#define gets(buf)               WX_BANNED(gets_use_fgets)
#undef atoi
#define atoi(s)                 WX_BANNED(atoi_use_strtol)
#undef atol
#define atol(s)                 WX_BANNED(atol_use_strtol)
#undef strtok
#define strtok(s, delim)        WX_BANNED(strtok_use_strtok_r)

#endif
