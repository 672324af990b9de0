/* run.h - internals of `netrig run`: options, scenario results, the step
 * executor, namespaces, reports.  Not a public API. */
#ifndef RUN_H
#define RUN_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "nr_net.h"
#include "nr_proc.h"
#include "nr_scn.h"

/* Command-line options that affect how scenarios execute. */
struct run_opts {
    const char *bindir;       /* where target programs are looked up first */
    const char *artifacts;    /* artifacts root directory */
    int jobs;                 /* parallel scenarios */
    int repeat;               /* runs of each scenario */
    int keep;                 /* keep artifacts of passing scenarios */
    int allow_remote;         /* allow non-loopback destinations */
    int no_netns;             /* do not create namespaces: host loopback */
    int no_capture;           /* do not capture packets */
    size_t capture_bytes;     /* kernel capture ring per scenario; 0: the default */
    int timeout_ms;           /* -1, or overrides every file's step timeout */
    int deadline_ms;          /* -1, or overrides every file's deadline */
    double time_scale;        /* multiplies all timeouts (slow machines, ASan) */
    int tap;                  /* TAP 14 on stdout */
    const char *junit;        /* JUnit XML file, or NULL */
    const char *filter;       /* substring or fnmatch pattern, or NULL */
    int verbose;              /* print step logs of failures in full */
    int color;                /* ANSI colour in the human summary */
};

enum run_status { RUN_PASS, RUN_FAIL, RUN_SKIP };

/* Outcome of one scenario run, as reported by its child process. */
struct run_result {
    char *name;               /* display name (path, plus " #k" when repeated) */
    char *path;               /* scenario file */
    char *artifacts;          /* its artifacts directory */
    enum run_status status;
    char *message;            /* why it failed or was skipped (owned, may be NULL) */
    double seconds;
};

/* Network isolation: put the calling process into a fresh network
 * namespace (a user+network namespace when not root) with loopback up.
 * Returns 0 on success, -1 with errbuf set when namespaces are unavailable. */
int run_ns_enter(char *errbuf);

/* Run one parsed scenario in the current process (already isolated) and
 * return its status; the failure message (malloc'd) goes to *msg.  Writes
 * the step log and target outputs into artdir. */
enum run_status run_scenario(const struct nr_scn *scn, const struct run_opts *o,
                             const char *artdir, int isolated, char **msg);

/* Side-by-side hexdump of expected vs actual around their first difference;
 * base is the stream offset of exp[0] and act[0], used for the offsets shown;
 * appended to the stream f. */
void run_hexdiff(FILE *f, uint64_t base, const uint8_t *exp, size_t elen, const uint8_t *act,
                 size_t alen);

/* Reports. */
void run_report_tap(FILE *f, const struct run_result *r, size_t n);
int run_report_junit(const char *path, const struct run_result *r, size_t n, char *errbuf);

#endif
