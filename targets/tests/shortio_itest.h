/* shortio_itest.h - run a target under the short-I/O injector
 * (preload/shortio.c, built as libnr-shortio.so next to the test programs):
 * every socket write and read it makes moves at most 1..max bytes, and
 * half the calls on a non-blocking socket fail with EAGAIN.  After the
 * target exited, shortio_expect_active checks from the injector's counters
 * that it really ran (a test that passes because nothing was injected
 * proves nothing).  Header-only: each test program includes it once. */
#ifndef SHORTIO_ITEST_H
#define SHORTIO_ITEST_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../harness/tests/bin_dir.h"

/* The environment of one injected run. */
struct shortio {
    char preload[PATH_MAX + 16];
    char stats[64];             /* temp file the injector writes at exit */
    char max[32];
    char asan[1024];
    char *env[5];
};

/* Counters the injector wrote at exit. */
struct shortio_stats {
    unsigned long writes, short_writes, write_eagains, reads, short_reads, read_eagains;
};

/* Write "LD_PRELOAD=<absolute path of bin_dir()/../tests/LIB>" (bin_dir.h:
 * $NR_BIN, or the bin/ of this test program's build) into
 * preload[PATH_MAX + 16] and the ASAN_OPTIONS a sanitized target needs to
 * accept it (the caller's plus verify_asan_link_order=0: ASan refuses a
 * library preloaded before its runtime) into asan[1024]. */
static inline void preload_env(const char *lib, char *preload, char *asan)
{
    const char *opts = getenv("ASAN_OPTIONS");
    char dir[PATH_MAX], rel[PATH_MAX + 64], abs[PATH_MAX];

    snprintf(rel, sizeof(rel), "%s/../tests/%s", bin_dir(dir), lib);
    if (!realpath(rel, abs))
        fail_msg("%s: not built", rel);
    snprintf(preload, PATH_MAX + 16, "LD_PRELOAD=%s", abs);
    snprintf(asan, 1024, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", opts ? opts : "",
             opts && *opts ? ":" : "");
}

/* Fill *io with the environment that preloads the injector with a cap of
 * max bytes per call, and return it (for itest_env or nr_spawn.env_extra).
 * The library is bin_dir()/../tests/libnr-shortio.so. */
static inline char *const *shortio_env(struct shortio *io, int max)
{
    int fd;

    preload_env("libnr-shortio.so", io->preload, io->asan);
    snprintf(io->stats, sizeof(io->stats), "/tmp/shortio.XXXXXX");
    fd = mkstemp(io->stats);
    assert_true(fd >= 0);
    close(fd);
    memmove(io->stats + strlen("NR_SHORTIO_STATS="), io->stats, strlen(io->stats) + 1);
    memcpy(io->stats, "NR_SHORTIO_STATS=", strlen("NR_SHORTIO_STATS="));
    snprintf(io->max, sizeof(io->max), "NR_SHORTIO_MAX=%d", max);
    io->env[0] = io->preload;
    io->env[1] = io->stats;
    io->env[2] = io->max;
    io->env[3] = io->asan;
    io->env[4] = NULL;
    return io->env;
}

/* What shortio_expect_active requires to have happened at least once. */
#define SIO_SHORT_W 1  /* a write cut short */
#define SIO_SHORT_R 2  /* a read cut short */
#define SIO_EAGAIN_W 4 /* a write failed with EAGAIN */
#define SIO_EAGAIN_R 8 /* a read failed with EAGAIN */

/* Read the counters of the run (the target must have exited), remove the
 * file, and assert that each injection named in `want` (SIO_* bits)
 * happened at least once. */
static inline void shortio_expect_active(struct shortio *io, struct shortio_stats *st, int want)
{
    const char *path = io->stats + strlen("NR_SHORTIO_STATS=");
    FILE *f = fopen(path, "r");
    int n;

    assert_non_null(f);
    memset(st, 0, sizeof(*st));
    n = fscanf(f, "writes=%lu short_writes=%lu write_eagains=%lu reads=%lu short_reads=%lu "
               "read_eagains=%lu", &st->writes, &st->short_writes, &st->write_eagains,
               &st->reads, &st->short_reads, &st->read_eagains);
    fclose(f);
    unlink(path);
    if (n != 6)
        fail_msg("the injector wrote no counters: was it preloaded?");
    print_message("injected: %lu/%lu writes short, %lu EAGAIN; %lu/%lu reads short, %lu EAGAIN\n",
                  st->short_writes, st->writes, st->write_eagains, st->short_reads, st->reads,
                  st->read_eagains);
    if (((want & SIO_SHORT_W) && !st->short_writes) || ((want & SIO_SHORT_R) && !st->short_reads) ||
        ((want & SIO_EAGAIN_W) && !st->write_eagains) || ((want & SIO_EAGAIN_R) && !st->read_eagains))
        fail_msg("the injector did not do everything asked of it (0x%x)", want);
}

#endif
