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
    char **defines;           /* "NAME=VALUE": the values of `param NAME` (NULL-terminated) */
    int allow_skip;           /* skipped scenarios do not fail the run */
    int fail_fast;            /* start nothing more after a failure or error */
    uint64_t seed;            /* --seed N: the fault proxies' seed (with seed_given) */
    int seed_given;           /* 0: each scenario's seed derives from its path */
    int tap;                  /* TAP 14 on stdout */
    const char *junit;        /* JUnit XML file, or NULL */
    const char *html;         /* HTML report file (run_html.c), or NULL */
    const char *filter;       /* substring or fnmatch pattern, or NULL */
    int verbose;              /* print step logs of failures in full */
    int color;                /* ANSI colour in the human summary */
    const char *json;         /* JSON Lines events to this file ("-": stdout), or NULL */
    int github;               /* GitHub Actions annotations and step summary */
};

/* Every scenario ends as exactly one of these. */
enum run_status {
    RUN_PASS,    /* ran, and every claim held */
    RUN_FAIL,    /* ran, and a claim was false (or it overran its deadline) */
    RUN_ERROR,   /* could not be judged: malformed file, harness fault, partial capture */
    RUN_SKIP,    /* not run for a stated reason (no capture, no IPv6) */
    RUN_NOTRUN,  /* not run: the run was interrupted, or stopped by --fail-fast */
};

/* Lower-case word for a status ("pass", "fail", "error", "skip", "not run"). */
const char *run_status_word(enum run_status st);

/* Outcome of one scenario run, as reported by its child process. */
struct run_result {
    char *name;               /* display name (path, plus " #k" when repeated) */
    char *path;               /* scenario file */
    char *artifacts;          /* its artifacts directory */
    enum run_status status;
    char *message;            /* why it failed or was skipped (owned, may be NULL) */
    double seconds;
    int64_t started_wall_ms;  /* wall clock (ms since the epoch) at its start; 0: never started */
    int kept;                 /* its artifacts directory exists after the run */
};

/* --- run_ns.c: the scenario process's namespaces and duties ------------- */

/* Like fork(), from a single-threaded caller, but the child starts in fresh
 * network, PID and mount namespaces (and a user namespace mapping the
 * caller to root when not root), as the init of its PID namespace, with
 * loopback up and mounts private.  Returns the child's pid in the parent,
 * or -1 with errbuf set (no child) when namespaces are unavailable; 0 in the
 * child, with errbuf empty, or holding why the setup inside failed. */
pid_t run_ns_fork(char *errbuf);

/* In the init of a new PID namespace: mount a /proc that shows it.
 * Returns 0, or -1 with errbuf set. */
int run_ns_proc(char *errbuf);

/* Make orphaned descendants come to the caller (a no-op for the init of a
 * PID namespace, which gets them anyway).  Returns 0 / -1. */
int run_ns_adopt_orphans(void);

/* Stop every other process of the scenario and reap it: SIGTERM, up to
 * grace_ms for all to exit, then SIGKILL until none is left.  As a PID
 * namespace's init that is every process in it; otherwise every descendant
 * (with run_ns_adopt_orphans called at the start).  *killed is set when
 * SIGKILL was needed.  Returns 0, or -1 when some process did not go. */
int run_ns_reap_all(int grace_ms, int *killed);

/* --- run_result.c: a scenario's verdict, from its process to netrig ------ */

/* Send status and message (may be NULL) on fd; a message of any length.
 * Returns 0 / -1. */
int run_result_send(int fd, enum run_status st, const char *msg);

/* Parse what run_result_send wrote (buf is NUL-terminated).  Returns 0 and
 * sets *st and *msg (malloc'd, or NULL), or -1 when buf is incomplete. */
int run_result_parse(const char *buf, enum run_status *st, char **msg);

/* --- exec.c -------------------------------------------------------------- */

/* Run one parsed scenario in the current process (already isolated) and
 * return its status; the message (malloc'd) goes to *msg.  Writes the step
 * log and target outputs into artdir.  result_fd is where a scenario that
 * overruns its deadline in a step that does not return reports itself
 * before the process exits (the watchdog). */
enum run_status run_scenario(const struct nr_scn *scn, const struct run_opts *o,
                             const char *artdir, int isolated, int result_fd, char **msg);

/* The deadline this run gives scenario scn: --deadline when given, else the
 * file's.  Returns it in ms as written; *scaled_ms gets it times
 * --time-scale (what the clock is held to). */
int64_t run_deadline_ms(const struct run_opts *o, const struct nr_scn *scn, int64_t *scaled_ms);

/* Side-by-side hexdump of expected vs actual around their first difference;
 * base is the stream offset of exp[0] and act[0], used for the offsets shown;
 * appended to the stream f. */
void run_hexdiff(FILE *f, uint64_t base, const uint8_t *exp, size_t elen, const uint8_t *act,
                 size_t alen);

/* --- run_result.c: what the report writers read of a result --------------- */

/* Where a result's message points: the file and line of the first
 * "FILE:LINE:" in its first line.  Returns the line (> 0) and sets *file
 * (malloc'd, the caller frees) or returns 0 (no line; *file = NULL). */
int run_result_where(const struct run_result *r, char **file);

/* s (len bytes, any bytes) as valid UTF-8 (malloc'd; NULL when out of
 * memory): each byte that is not part of a valid UTF-8 sequence (as
 * nr_markup_utf8_len decides: U+FFFE and U+FFFF are not either), and with
 * xml set each control character XML 1.0 forbids, becomes the four
 * characters \xNN (a backslash itself stays as it is). */
char *run_utf8(const char *s, size_t len, int xml);

/* --- run_report.c: the reports, each written as scenarios end ------------ */

/* Every report of one run: opened by run_report_open, fed as scenarios start
 * and end, closed by run_report_close.  Owns its files, not the results. */
struct run_report;

/* Open the reports o asks for (TAP on tap_f when o->tap, JSON Lines, GitHub
 * annotations on ann_f) for n scenarios and write their headers.  Returns 0
 * and *rep (free it with run_report_close), or -1 with errbuf set. */
int run_report_open(struct run_report **rep, const struct run_opts *o, FILE *tap_f, FILE *ann_f,
                    size_t n, const char *shard, char *errbuf);

/* A scenario has started (JSON scenario_start event). */
void run_report_started(struct run_report *rep, const struct run_result *r);

/* A scenario has ended (or was judged without running: malformed, not run):
 * its TAP line, its JSON events and its annotation, written and flushed now. */
void run_report_ended(struct run_report *rep, const struct run_result *r);

/* The run is over: the JSON run_end event (exit status rc), the JUnit file
 * and the GitHub step summary over all n results, then free rep.  Returns 0,
 * or -1 with errbuf set when a report could not be written. */
int run_report_close(struct run_report *rep, const struct run_result *r, size_t n, int rc,
                     char *errbuf);

/* Write the JUnit XML report of n results to path (atomically, through
 * path.tmp).  Returns 0, or -1 with errbuf set. */
int run_report_junit(const char *path, const struct run_result *r, size_t n, char *errbuf);

/* --- run_json.c: JSON Lines events (harness/doc/run-json.md) ------------- */

/* Each writes one event as one line on f and flushes it.  Return 0 / -1. */
int run_json_run_start(FILE *f, size_t n, int jobs, const char *shard);
int run_json_scenario_start(FILE *f, const struct run_result *r);
int run_json_scenario_end(FILE *f, const struct run_result *r);
int run_json_run_end(FILE *f, const struct run_result *r, size_t n, int rc);

/* --- run_github.c: GitHub Actions ---------------------------------------- */

/* The ::error (failure, error) or ::warning (skipped, not run) workflow
 * command for one result on f; nothing for a pass. */
void run_github_annotate(FILE *f, const struct run_result *r);

/* Append the markdown summary of n results (a counts line and a table of
 * what did not pass) to path ($GITHUB_STEP_SUMMARY).  Returns 0, or -1 with
 * errbuf set. */
int run_github_summary(const char *path, const struct run_result *r, size_t n, char *errbuf);

/* --- run_shard.c: splitting a suite over CI jobs --------------------------- */

/* Parse "K/N" (1 <= K <= N).  Returns 0 and sets *k, *nshards, or -1. */
int run_shard_parse(const char *s, unsigned *k, unsigned *nshards);

/* Which shard (0..nshards-1) each of the n paths (sorted, the same on every
 * machine) belongs to, into shard_of[]: round-robin over the sorted list,
 * or, with durations (seconds per path, < 0 when unknown), longest first
 * onto the least loaded shard (ties: the lowest shard).  Deterministic for
 * the same inputs.  Returns 0, or -1 when out of memory. */
int run_shard_assign(char *const *paths, const double *durations, size_t n, unsigned nshards,
                     unsigned *shard_of);

/* Read a timing file (the JSON Lines of an earlier `--json` run, or lines
 * "SECONDS PATH") and set durations[i] for each of the n paths it names
 * (others stay as they are).  Returns 0, or -1 with errbuf set. */
int run_shard_timings(const char *file, char *const *paths, size_t n, double *durations,
                      char *errbuf);

#endif
