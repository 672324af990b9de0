/* heap_exact.h - make mallinfo2() exact for leak checks in a unit test:
 * glibc's per-thread cache keeps freed blocks counted as in use, so a test
 * that compares mallinfo2().uordblks before and after calls
 * heap_exact_init(argv) first in main.  Header-only. */
#ifndef HEAP_EXACT_H
#define HEAP_EXACT_H

#include <stdlib.h>
#include <unistd.h>

/* Re-execute this program (same argv) with glibc's per-thread cache off,
 * unless GLIBC_TUNABLES is set already (by that re-execution or by the
 * caller).  Returns only when it is set. */
static inline void heap_exact_init(char **argv)
{
    if (!getenv("GLIBC_TUNABLES")) {
        setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
        execv("/proc/self/exe", argv);
    }
}

#endif
