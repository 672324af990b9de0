/* nr_err.c - error buffer helpers. */
#include "nr_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int nr_seterr(char *errbuf, const char *fmt, ...)
{
    va_list ap;
    if (!errbuf)
        return -1;
    va_start(ap, fmt);
    vsnprintf(errbuf, NR_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
    return -1;
}

int nr_seterr_errno(char *errbuf, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    if (!errbuf)
        return -1;
    va_start(ap, fmt);
    vsnprintf(errbuf, NR_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
    n = strlen(errbuf);
    snprintf(errbuf + n, NR_ERRBUF_SIZE - n, ": %s", strerror(errnum));
    return -1;
}
