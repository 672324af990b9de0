/* runner_util.h - helpers for tests of `netrig run` as a user meets it:
 * scenario files written to a temp dir, netrig spawned from $NR_BIN with a
 * bounded wait, its stdout/stderr and files read back.
 *
 * Each test program that includes this gets its own temp dir (ru_setup /
 * ru_teardown as the cmocka group fixtures). */
#ifndef RUNNER_UTIL_H
#define RUNNER_UTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bin_dir.h"
#include "nr_proc.h"

#define RU_UNUSED __attribute__((unused))

static char ru_dir[64];   /* the temp dir, also the cwd of the tests */
static char ru_bin[512];  /* absolute path of the built programs */

/* Write text to dir/name. */
static RU_UNUSED void ru_write(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", ru_dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Read a file (relative to the cwd) into a static buffer of 1 MiB; returns
 * NULL when it cannot be opened.  The next call overwrites the buffer. */
static RU_UNUSED char *ru_read(const char *path)
{
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY);
    size_t got = 0;
    ssize_t n;

    if (fd < 0)
        return NULL;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    return buf;
}

/* Start netrig with argv (NULL-terminated, argv[0] is ignored and replaced by
 * the netrig path), stdout/stderr into dir/out and dir/err.  Returns 0 and
 * fills *p, or fails the test. */
static RU_UNUSED void ru_spawn(char **argv, struct nr_proc *p)
{
    char out[128], err[128], errbuf[NR_ERRBUF_SIZE];
    static char netrig_path[600];

    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", ru_bin);
    argv[0] = netrig_path;
    snprintf(out, sizeof(out), "%s/out", ru_dir);
    snprintf(err, sizeof(err), "%s/err", ru_dir);
    struct nr_spawn sp = { .argv = argv, .stdout_path = out, .stderr_path = err,
                           .activation_fd = -1 };
    if (nr_proc_spawn(&sp, p, errbuf) < 0)
        fail_msg("%s", errbuf);
}

/* Run netrig with the given arguments (NULL-terminated) from the temp dir
 * and wait up to 120 s; returns its exit status, or -1 when a signal ended
 * it.  stdout/stderr are in dir/out and dir/err. */
static RU_UNUSED int ru_netrig(const char *first, ...)
{
    char *argv[40];
    struct nr_proc p;
    int argc = 1;
    va_list ap;

    argv[argc++] = (char *)first;
    va_start(ap, first);
    for (char *a; (a = va_arg(ap, char *)) && argc < 38;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    ru_spawn(argv, &p);
    if (nr_proc_wait(&p, 120000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("netrig did not finish");
    }
    nr_proc_release(&p);
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

/* Write text as file name and run it alone, keeping its artifacts in
 * art/NAME; returns netrig's exit status (NRTEST_VERBOSE=1 shows the
 * output of every run). */
static RU_UNUSED int ru_run_scn(const char *name, const char *text);

/* netrig's last stdout / stderr. */
static RU_UNUSED char *ru_out(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/out", ru_dir);
    return ru_read(path);
}

static RU_UNUSED char *ru_err(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/err", ru_dir);
    return ru_read(path);
}

static RU_UNUSED int ru_run_scn(const char *name, const char *text)
{
    int rc;

    ru_write(name, text);
    rc = ru_netrig("run", "-k", "-a", "art", name, NULL);
    if (getenv("NRTEST_VERBOSE"))
        fprintf(stderr, "%s: exit %d\n%s", name, rc, ru_out());
    return rc;
}

/* Does haystack contain needle?  Fails the test with both shown when not. */
#define ru_assert_contains(haystack, needle)                                                     \
    do {                                                                                         \
        const char *ru_h_ = (haystack), *ru_n_ = (needle);                                       \
        if (!ru_h_ || !strstr(ru_h_, ru_n_))                                                     \
            fail_msg("expected to find '%s' in:\n%s", ru_n_, ru_h_ ? ru_h_ : "(null)");          \
    } while (0)

/* Group fixtures: a fresh temp dir as the cwd; removed afterwards. */
static RU_UNUSED int ru_setup(void **state)
{
    char dir[PATH_MAX], abs[PATH_MAX];

    (void)state;
    if (!realpath(bin_dir(dir), abs) || strlen(abs) >= sizeof(ru_bin))
        return -1;
    memcpy(ru_bin, abs, strlen(abs) + 1);
    snprintf(ru_dir, sizeof(ru_dir), "/tmp/nrtest.XXXXXX");
    if (!mkdtemp(ru_dir) || chdir(ru_dir) < 0)
        return -1;
    return 0;
}

static RU_UNUSED int ru_teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", ru_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
