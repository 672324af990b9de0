/* fault_itest.h - run a target under the fault injector (preload/fault.c,
 * built as libnr-fault.so next to the test programs): the Nth call of an
 * allocation or system call fails (NR_FAULT="FN:N[+][/E],...").  After the
 * target exited, fault_calls and fault_injected read the injector's
 * counters, so a test can find N from an undisturbed run (fault_baseline)
 * and check that the fault it meant really happened.  Header-only: each
 * test program includes it once, after itest.h. */
#ifndef FAULT_ITEST_H
#define FAULT_ITEST_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shortio_itest.h" /* preload_env */

/* The environment of one injected run. */
struct fault {
    char preload[PATH_MAX + 16];
    char spec[128];             /* NR_FAULT=... */
    char arm[64];               /* NR_FAULT_ARM=... */
    char stats[64];             /* NR_FAULT_STATS=temp file the injector writes at exit */
    char asan[1024];
    char *env[6];
};

/* Fill *f with the environment that preloads the injector with NR_FAULT =
 * spec ("" injects nothing, only counts) counted from the first accepted
 * connection when after_accept, from the start otherwise, and return it
 * (for itest_env or nr_spawn.env_extra).  The library is
 * bin_dir()/../tests/libnr-fault.so (bin_dir.h: $NR_BIN, or this build's bin/). */
static inline char *const *fault_env(struct fault *f, const char *spec, int after_accept)
{
    int fd;

    preload_env("libnr-fault.so", f->preload, f->asan);
    snprintf(f->spec, sizeof(f->spec), "NR_FAULT=%s", spec);
    snprintf(f->stats, sizeof(f->stats), "NR_FAULT_STATS=/tmp/fault.XXXXXX");
    fd = mkstemp(f->stats + strlen("NR_FAULT_STATS="));
    assert_true(fd >= 0);
    close(fd);
    f->env[0] = f->preload;
    f->env[1] = f->spec;
    f->env[2] = f->stats;
    f->env[3] = f->asan;
    snprintf(f->arm, sizeof(f->arm), "NR_FAULT_ARM=accept");
    f->env[4] = after_accept ? f->arm : NULL;
    f->env[5] = NULL;
    return f->env;
}

/* The counter `name` ("close", "realloc"..., or "injected") of the run
 * (the target must have exited); fails the test when the injector wrote
 * none (it was not preloaded, or the target did not exit normally). */
static inline unsigned long fault_count(struct fault *f, const char *name)
{
    const char *path = f->stats + strlen("NR_FAULT_STATS=");
    char line[512], key[64];
    unsigned long v = 0;
    FILE *fp = fopen(path, "r");
    int found = 0;

    assert_non_null(fp);
    if (!fgets(line, sizeof(line), fp))
        line[0] = '\0';
    fclose(fp);
    for (char *p = line; *p;) {
        unsigned long n;
        int used = 0;
        if (sscanf(p, " %63[a-z_]=%lu%n", key, &n, &used) != 2 || used == 0)
            break;
        if (!strcmp(key, name)) {
            v = n;
            found = 1;
        }
        p += used;
    }
    if (!found)
        fail_msg("the fault injector wrote no '%s' counter ('%s'): was it preloaded?", name, line);
    return v;
}

/* Remove the counters' file. */
static inline void fault_done(struct fault *f)
{
    unlink(f->stats + strlen("NR_FAULT_STATS="));
}

#endif
