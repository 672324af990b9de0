/* heap_exact.h - make mallinfo2() exact for leak checks in a unit test:
 * glibc's per-thread cache keeps freed blocks counted as in use, so a test
 * that compares mallinfo2().uordblks before and after calls
 * heap_exact_init(argv) first in main.  Header-only.
 *
 * Every case of a cmocka group checked for leaks (heap bytes in use in the
 * main arena, and open descriptors, the same after the case as before it):
 *
 *     heap_exact_init(argv);
 *     const struct CMUnitTest tests[] = { heap_exact_test(case_a), ... };
 *
 * A case that leaks fails with the bytes and descriptors it left.  A case
 * whose environment keeps memory by design (setenv's copies are never
 * freed) checks its descriptors only: heap_exact_fds_test(case). */
#ifndef HEAP_EXACT_H
#define HEAP_EXACT_H

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void *heap_exact_idle(void *arg)
{
    return arg;
}

/* Re-execute this program (same argv) with glibc's per-thread cache off,
 * unless GLIBC_TUNABLES turns it off already (that re-execution did, or
 * the caller); the caller's other tunables are kept. */
static inline void heap_exact_init(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES");
    pthread_t th;

    if (!t || !strstr(t, "glibc.malloc.tcache_count=0")) {
        char v[1024];
        if (getenv("HEAP_EXACT_REEXECUTED")) { /* once only: no loop */
            fprintf(stderr, "heap_exact: GLIBC_TUNABLES lost its tcache_count=0\n");
            exit(1);
        }
        if ((size_t)snprintf(v, sizeof(v), "%s%sglibc.malloc.tcache_count=0", t ? t : "",
                             t && *t ? ":" : "") >= sizeof(v)) {
            fprintf(stderr, "heap_exact: GLIBC_TUNABLES too long to add tcache_count=0\n");
            exit(1);
        }
        setenv("GLIBC_TUNABLES", v, 1);
        setenv("HEAP_EXACT_REEXECUTED", "1", 1);
        execv("/proc/self/exe", argv);
        perror("heap_exact: re-executing with the per-thread cache off");
        exit(1);
    }
    /* the first thread's TLS block is kept with its cached stack: taken
     * here, not in the first case that starts a thread */
    if (pthread_create(&th, NULL, heap_exact_idle, NULL) == 0)
        pthread_join(th, NULL);
}

/* Open descriptors of this process (the listing's own not counted);
 * -1 when /proc/self/fd cannot be read. */
static inline int heap_exact_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* Heap bytes in use: the main arena's chunks and the mmap'd ones (large
 * blocks, which uordblks leaves out). */
static inline size_t heap_exact_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

static size_t heap_exact_bytes_at_start;
static int heap_exact_fds_at_start, heap_exact_bytes_checked;

/* cmocka setup: note the heap bytes in use and the open descriptors. */
static inline int heap_exact_begin(void **state)
{
    (void)state;
    heap_exact_fds_at_start = heap_exact_fds(); /* its opendir gives back all it took */
    heap_exact_bytes_at_start = heap_exact_bytes();
    heap_exact_bytes_checked = 1;
    return 0;
}

/* cmocka setup of a case whose heap is not checked: note its descriptors. */
static inline int heap_exact_begin_fds(void **state)
{
    heap_exact_begin(state);
    heap_exact_bytes_checked = 0;
    return 0;
}

/* cmocka teardown: fails (-1, with a message) when the case left heap
 * bytes in use or descriptors open that were not there before it. */
static inline int heap_exact_end(void **state)
{
    size_t bytes = heap_exact_bytes();
    int fds = heap_exact_fds();

    (void)state;
    if (fds < 0 || heap_exact_fds_at_start < 0) {
        fprintf(stderr, "heap_exact: /proc/self/fd cannot be read: descriptors not checked\n");
        return -1;
    }
    if (!heap_exact_bytes_checked)
        bytes = heap_exact_bytes_at_start;
    if (bytes == heap_exact_bytes_at_start && fds == heap_exact_fds_at_start)
        return 0;
    fprintf(stderr, "heap_exact: the case left %lld heap bytes and %d descriptors\n",
            (long long)bytes - (long long)heap_exact_bytes_at_start,
            fds - heap_exact_fds_at_start);
    return -1;
}

#define heap_exact_test(f) cmocka_unit_test_setup_teardown(f, heap_exact_begin, heap_exact_end)
#define heap_exact_fds_test(f) \
    cmocka_unit_test_setup_teardown(f, heap_exact_begin_fds, heap_exact_end)

#endif
