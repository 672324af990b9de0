/* fault_inproc.h - fail the Nth allocation (or any other call the fault
 * injector, preload/fault.c, knows) inside this test program, around one
 * call of the code under test:
 *
 *     int main(int argc, char **argv) { fault_inproc_init(argv); ... }
 *     fault_inproc_set("malloc:2");        the 2nd malloc from here fails
 *     r = nr_something(...);
 *     n = fault_inproc_off();              disarm; n calls were failed
 *
 * fault_inproc_init re-executes the program with libnr-fault.so (built next
 * to the test programs) preloaded when it is not loaded yet.  Disarm before
 * the test framework's checks: they allocate too.  Header-only. */
#ifndef FAULT_INPROC_H
#define FAULT_INPROC_H

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int (*fault_inproc_set_fn)(const char *);
static unsigned long (*fault_inproc_injected_fn)(void);

/* Make sure the injector is loaded: if it is not, re-execute this program
 * (same argv) with LD_PRELOAD naming libnr-fault.so in the program's own
 * directory, and ASan told not to mind the order.  Returns only with the
 * injector loaded; exits 1 with a message when it cannot be. */
static inline void fault_inproc_init(char **argv)
{
    char exe[PATH_MAX], lib[PATH_MAX + 32], asan[1024];
    const char *opts = getenv("ASAN_OPTIONS");
    ssize_t n;
    char *slash;

    fault_inproc_set_fn = (int (*)(const char *))dlsym(RTLD_DEFAULT, "nr_fault_set");
    fault_inproc_injected_fn = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "nr_fault_injected");
    if (fault_inproc_set_fn && fault_inproc_injected_fn)
        return;
    if (getenv("NR_FAULT_INPROC_REEXEC")) {
        fprintf(stderr, "%s: libnr-fault.so is preloaded but has no nr_fault_set\n", argv[0]);
        exit(1);
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0 || !(slash = memrchr(exe, '/', (size_t)n))) {
        perror("fault_inproc: /proc/self/exe");
        exit(1);
    }
    *slash = '\0';
    snprintf(lib, sizeof(lib), "%s/libnr-fault.so", exe);
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "%s: %s not built (make tests)\n", argv[0], lib);
        exit(1);
    }
    snprintf(asan, sizeof(asan), "%s%sverify_asan_link_order=0", opts ? opts : "",
             opts && *opts ? ":" : "");
    setenv("LD_PRELOAD", lib, 1);
    setenv("ASAN_OPTIONS", asan, 1);
    setenv("NR_FAULT_INPROC_REEXEC", "1", 1);
    *slash = '/';
    execv("/proc/self/exe", argv);
    perror("fault_inproc: execv");
    exit(1);
}

/* Replace the injector's rules with spec (NR_FAULT's syntax, e.g.
 * "malloc:1", "realloc:2+", "calloc:1,malloc:3") and zero its counters:
 * calls from here on are counted and the named ones fail.  Returns the
 * number of rules taken (a malformed one is reported and left out). */
static inline int fault_inproc_set(const char *spec)
{
    return fault_inproc_set_fn(spec);
}

/* Disarm (nothing fails from here on); returns how many calls were failed
 * since fault_inproc_set. */
static inline unsigned long fault_inproc_off(void)
{
    unsigned long n = fault_inproc_injected_fn();

    fault_inproc_set_fn(NULL);
    return n;
}

#endif
