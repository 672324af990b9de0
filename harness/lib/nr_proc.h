/* nr_proc.h - child processes that cannot outlive their parent.
 *
 * A child is started in its own process group with a parent-death signal
 * (SIGKILL), its stdout and stderr redirected to files, and optionally a
 * listening socket handed over as fd 3 by socket activation (LISTEN_FDS=1).
 * Waiting is always bounded. */
#ifndef NR_PROC_H
#define NR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "nr_err.h"

struct nr_spawn {
    char *const *argv;       /* argv[0] is looked up in PATH */
    char *const *env_extra;  /* "K=V" strings added to the environment, or NULL */
    const char *stdout_path; /* file (truncated) for stdout, NULL: /dev/null */
    const char *stderr_path; /* file (truncated) for stderr, NULL: /dev/null */
    const char *stdin_path;  /* file for stdin, NULL: /dev/null */
    int activation_fd;       /* >= 0: passed as fd 3 with LISTEN_FDS=1 */
};

struct nr_proc {
    pid_t pid;      /* > 0 while running or not yet reaped */
    int pidfd;      /* pidfd for bounded waits, or -1 */
    int status;     /* wait status once reaped */
    int reaped;     /* 1 once status is valid */
};

/* Start a child as described.  Returns 0 and fills *p, or -1 with errbuf set
 * (exec failures are reported here too: the child reports errno through a
 * close-on-exec pipe). */
int nr_proc_spawn(const struct nr_spawn *s, struct nr_proc *p, char *errbuf);

/* Wait up to timeout_ms (<0: forever) for the child to exit and reap it.
 * Returns 1 when reaped (status in p->status), 0 on timeout, -1 on error. */
int nr_proc_wait(struct nr_proc *p, int timeout_ms);

/* Send sig to the child's whole process group (no-op once reaped). */
void nr_proc_signal(struct nr_proc *p, int sig);

/* Stop the child: SIGTERM to its group, wait grace_ms, then SIGKILL and reap.
 * Returns 1 if it exited within the grace period, 0 if it had to be killed. */
int nr_proc_stop(struct nr_proc *p, int grace_ms);

/* Release the pidfd. Does not signal or reap. */
void nr_proc_release(struct nr_proc *p);

/* Wait up to timeout_ms for a line starting with prefix to appear in file
 * path (written by a child).  Copies the line (without newline) into
 * line[linelen].  Returns 1 found, 0 timeout, -1 if the child p (may be NULL)
 * exited first. */
int nr_wait_file_line(const char *path, const char *prefix, char *line, size_t linelen,
                      struct nr_proc *p, int timeout_ms);

/* Describe a wait status ("exit 3", "signal 11 (Segmentation fault)"). */
void nr_status_str(int status, char *buf, size_t buflen);

#endif
