/* nr_proc.h - child processes that cannot outlive their parent.
 *
 * A child is started in its own process group with a parent-death signal
 * (SIGKILL), its stdout and stderr redirected to files, and optionally a
 * listening socket handed over as fd 3 by socket activation (LISTEN_FDS=1).
 * Everything the child needs (program path, environment, open files) is
 * prepared before fork(); between fork and exec the child only makes
 * async-signal-safe calls, so spawning from a threaded program is safe.
 * Waiting is always bounded.  Errors follow nr_err.h: spawning and finding
 * a program return -1 with a line in errbuf; the waits are tri-state and
 * return -errno on failure. */
#ifndef NR_PROC_H
#define NR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "nr_err.h"

struct nr_spawn {
    char *const *argv;       /* argv[0]: a path when it contains '/', else looked up
                                in bindir, then in the PATH of the child's environment */
    char *const *env_extra;  /* "K=V" strings that override the environment (the last
                                of a name wins; "K" alone removes K), or NULL */
    const char *bindir;      /* directories (':'-separated) searched before PATH, or NULL */
    const char *cwd;         /* the child's working directory, or NULL: the caller's
                                (a program path with '/' is then relative to it) */
    const char *stdout_path; /* file (truncated) for stdout, NULL: /dev/null */
    const char *stderr_path; /* file (truncated) for stderr, NULL: /dev/null */
    const char *stdin_path;  /* file for stdin, NULL: /dev/null */
    int activation_fd;       /* >= 0: passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID */
};

struct nr_proc {
    pid_t pid;      /* > 0 while running or not yet reaped */
    int pidfd;      /* pidfd for bounded waits, or -1 */
    int status;     /* wait status once reaped */
    int reaped;     /* 1 once status is valid */
};

/* Start a child as described.  Returns 0 and fills *p, or -1 with errbuf set:
 * a program that is not found (the message names where it was looked for),
 * files that cannot be opened, and exec failures (the child reports errno
 * through a close-on-exec pipe).  The child starts with every signal at its
 * default disposition and none blocked. */
int nr_proc_spawn(const struct nr_spawn *s, struct nr_proc *p, char *errbuf);

/* Find the program `name` as nr_proc_spawn does: used as is when it contains
 * '/'; else DIR/name for each DIR of the ':'-separated bindir (may be NULL),
 * else each directory of path
 * (NULL: "/bin:/usr/bin"; an empty entry is the current directory); only an
 * executable regular file counts.  Writes it into out[outlen] and returns 0,
 * or returns -1 with errbuf naming where it looked. */
int nr_proc_find(const char *name, const char *bindir, const char *path, char *out,
                 size_t outlen, char *errbuf);

/* Wait up to timeout_ms (<0: forever) for the child to exit and reap it.
 * Tri-state: returns 1 when reaped (status in p->status; also when it was
 * reaped before), 0 on timeout, or -errno when waitpid fails (-ECHILD: not
 * a child of this process). */
int nr_proc_wait(struct nr_proc *p, int timeout_ms);

/* Send sig to the child itself, not its group (no-op once reaped): a server
 * shuts its own children down; signalling them too would race it. */
void nr_proc_signal_main(struct nr_proc *p, int sig);

/* Send sig to the child's whole process group (no-op once reaped). */
void nr_proc_signal(struct nr_proc *p, int sig);

/* SIGKILL the child's whole process group and reap the child, waiting up
 * to timeout_ms.  Returns 1 when reaped, 0 if not (timed out, or waitpid
 * failed: an outcome for the caller to report, not an error code). */
int nr_proc_kill(struct nr_proc *p, int timeout_ms);

/* Stop the child: SIGTERM to its group, wait grace_ms for the child itself;
 * when it has not exited by then, SIGKILL its group and reap it.  Other
 * members of the group are left alone when the child exited in time (a
 * forking server's children finish their own shutdown).  Returns 1 if it
 * exited within the grace period, 0 if it had to be killed. */
int nr_proc_stop(struct nr_proc *p, int grace_ms);

/* Release the pidfd. Does not signal or reap. */
void nr_proc_release(struct nr_proc *p);

/* Wait up to timeout_ms for a complete line starting with prefix to appear
 * in file path (written by a child), reading the file incrementally from
 * where the last read stopped, so output of any size before the line is
 * fine; a line longer than linelen-1 is cut.  Copies the line (without
 * newline) into line[linelen].  Tri-state: returns 1 found, 0 timed out, or
 * negative: -ECHILD when the child p (may be NULL) exited without printing
 * it (its output is read to the end first), -ENOMEM, -EINVAL (linelen 0). */
int nr_wait_file_line(const char *path, const char *prefix, char *line, size_t linelen,
                      struct nr_proc *p, int timeout_ms);

/* The parent of process pid, from /proc/PID/stat (as the caller's /proc
 * shows it).  Returns the parent's pid (0 for a namespace's init), or
 * -errno: -ENOENT when pid is gone, -EIO when its stat does not parse. */
pid_t nr_proc_parent(pid_t pid);

/* Describe a wait status ("exit 3", "signal 11 (Segmentation fault)"). */
void nr_status_str(int status, char *buf, size_t buflen);

#endif
