/* bin_dir.h - where a test program finds the programs it tests (netrig, the
 * targets): $NR_BIN when set and not empty (ci/run-tests.sh sets it), else the
 * bin/ directory of the build the test program itself belongs to.  The
 * Makefile puts a test program in $(B)/tests/<name> and the programs in
 * $(B)/bin, so that is /proc/self/exe's directory + "/../bin", resolved: a
 * test of `make B=build-x` run directly, from any directory, runs build-x's
 * programs (a fixed "build/bin" ran another build's from the top of the
 * tree, and none from anywhere else).  Header-only. */
#ifndef BIN_DIR_H
#define BIN_DIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directory of the programs under test: $NR_BIN as it is, or else the
 * absolute path of <directory of /proc/self/exe>/../bin written into
 * dir[PATH_MAX] (left unresolved when it does not exist, or
 * "/proc/self/exe/../bin" when /proc/self/exe cannot be read, so that the
 * failure to run a program there names the path tried).  Returns the
 * environment's string or dir; never NULL. */
static inline const char *bin_dir(char *dir)
{
    const char *env = getenv("NR_BIN");
    char exe[PATH_MAX], up[PATH_MAX];
    ssize_t n;

    if (env && *env)
        return env;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0'; /* an absolute path: there is a '/' */
    } else {
        snprintf(exe, sizeof(exe), "/proc/self/exe");
    }
    if (snprintf(up, sizeof(up), "%s/../bin", exe) >= (int)sizeof(up) || !realpath(up, dir))
        snprintf(dir, PATH_MAX, "%s", up);
    return dir;
}

#endif
