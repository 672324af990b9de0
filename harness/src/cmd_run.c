/* cmd_run.c - `netrig run`: find scenario files, parse them all (each
 * malformed one is reported as an error, the others still run), run each in
 * a child process of its own, in its own namespaces, up to -j at a time,
 * and report every scenario as exactly one of passed, failed, error,
 * skipped or not run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmds.h"
#include "run.h"
#include "run_capture.h"
#include "run_html.h"

#define SCN_SUFFIX ".scn"
#define STOP_GRACE_MS 1000   /* teardown grace, as exec_target.c and exec.c use it */
#define DRAIN_MARGIN_MS 3000 /* the capture's final drain */
#define KILL_MARGIN_MS 3000  /* for the scenario's watchdog to report first */
#define HEARTBEAT_MS 10000   /* default --heartbeat: a "still running" line this often */

struct job {
    struct nr_scn scn;
    struct run_result *res;
    pid_t pid;
    int pipe_fd;
    char *out;            /* result text from the child */
    size_t outlen;
    int64_t started, deadline;
    int64_t beat;         /* when its next "still running" line is due */
    int reported;         /* its result went to the reports */
    int exclusive;        /* binds a fixed port: alone when sharing the host */
    int runnable;         /* parsed: to be run (a malformed file is not) */
    int scn_shared;       /* scn is another run's of the same file (--repeat, -D
                             combinations): not freed with this job */
    char **defines;       /* "NAME=VALUE" of its params from -D (owned, NULL-terminated) */
};

static volatile sig_atomic_t interrupted;

/* What the run shows as scenarios end: the human stream with [n/N] and the
 * time since the start, and the reports. */
struct live {
    FILE *human;
    size_t done, total;
    int64_t t0;
    int beat_ms;          /* --heartbeat; 0: none */
    struct run_report *rep;
};

static void on_signal(int sig)
{
    interrupted = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: netrig run [options] PATH...\n"
            "Run scenario files (*.scn) and directories of them.\n"
            "  -j, --jobs N          scenarios at once (default: number of CPUs)\n"
            "  -f, --filter PAT      only scenarios whose path contains PAT, or matches the\n"
            "                        glob PAT (whole path or a tail after a '/')\n"
            "  -r, --repeat N        run each scenario N times\n"
            "  -D NAME=VALUE         the value of `param NAME` in the scenarios; NAME=V1,V2,...\n"
            "                        runs each scenario that declares it once per value\n"
            "                        (write \\, for a comma inside a value)\n"
            "  -k, --keep            keep artifacts of passing scenarios too\n"
            "  -a, --artifacts DIR   artifacts root (default netrig-artifacts)\n"
            "  -t, --timeout DUR     default per-step timeout for every file (e.g. 5s)\n"
            "  -d, --deadline DUR    whole-scenario deadline for every file\n"
            "      --time-scale X    multiply every timeout by X (slow or sanitizer builds)\n"
            "      --tap             TAP on stdout (human summary on stderr): version 14, or\n"
            "                        13 under prove (HARNESS_ACTIVE), which rejects 14\n"
            "      --junit FILE      JUnit XML report\n"
            "      --html FILE       HTML report: every scenario, its steps, targets' stderr\n"
            "                        and a ladder diagram of its traffic (harness/doc/report.md)\n"
            "      --json FILE|-     JSON Lines events (harness/doc/run-json.md)\n"
            "      --github          GitHub Actions annotations and step summary (the default\n"
            "                        when GITHUB_ACTIONS=true)\n"
            "      --color WHEN      auto (a terminal, without NO_COLOR), always or never\n"
            "      --shard K/N       run only the K-th of N parts of the scenario files\n"
            "      --timings FILE    balance --shard by durations: an earlier run's --json\n"
            "                        file, or \"SECONDS PATH\" lines\n"
            "      --list            print the scenario runs and their params; run nothing\n"
            "      --heartbeat DUR   a line for each scenario still running, this often\n"
            "                        (default 10s; 0: never)\n"
            "      --bin DIR         where target programs are looked up first\n"
            "                        (default: the directory of netrig itself)\n"
            "      --no-netns        do not create network namespaces; use host loopback\n"
            "      --no-capture      do not capture packets (wire steps are skipped)\n"
            "      --capture-buffer SIZE  kernel capture ring per scenario (e.g. 8M, 512K)\n"
            "      --allow-remote    permit non-loopback destinations\n"
            "      --allow-skip      skipped scenarios do not fail the run\n"
            "      --fail-fast       start no more scenarios after a failure or error\n"
            "      --seed N          seed of the fault proxies' random choices (default: one\n"
            "                        per scenario, from its path; every failure prints it)\n"
            "  -v, --verbose         print the full step log of failing scenarios\n"
            "Every scenario ends as passed, failed, error (could not be judged), skipped\n"
            "or not run (interrupted, --fail-fast).\n"
            "Exit status: 0 all passed (and skipped, with --allow-skip); 1 some failed, erred,\n"
            "were skipped or not run; 2 usage error, unwritable report or malformed scenario\n"
            "(the well-formed ones still run); 128+N interrupted by signal N.\n");
}

/* A duration as scenario files write them (nr_scn_dur: 0, 200ms, 1.5s,
 * 2m; a bare number has no unit and is refused).  Returns ms or -1. */
static int parse_duration(const char *s)
{
    int ms;

    return nr_scn_dur((const uint8_t *)s, strlen(s), &ms) == 0 ? ms : -1;
}

/* Parse "65536", "512K", "8M", "1G" (binary units). Returns bytes or 0. */
static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;

    if (end == s || *s == '-')
        return 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end != '\0' || v == 0 || v > (SIZE_MAX >> 1) >> shift)
        return 0;
    return (size_t)(v << shift);
}

/* ---- discovery --------------------------------------------------------- */

struct pathlist {
    char **v;
    size_t n;
};

static int add_path(struct pathlist *l, const char *p)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

    if (!nv || !(nv[l->n] = strdup(p)))
        return -1;
    l->v = nv;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);

    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Add path, or every *.scn below it, sorted. */
static int collect(struct pathlist *l, const char *path)
{
    struct stat sb;
    struct dirent *e;
    DIR *d;
    size_t first = l->n;

    if (stat(path, &sb) < 0) {
        fprintf(stderr, "netrig: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return add_path(l, path);
    if (strlen(path) > 1 && path[strlen(path) - 1] == '/') { /* "dir/" -> "dir" */
        char trimmed[PATH_MAX];
        snprintf(trimmed, sizeof(trimmed), "%.*s", (int)strlen(path) - 1, path);
        return collect(l, trimmed);
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "netrig: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char sub[PATH_MAX];
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (stat(sub, &sb) < 0)
            continue;
        if (S_ISDIR(sb.st_mode) ? collect(l, sub) < 0
                                : has_suffix(sub, SCN_SUFFIX) && add_path(l, sub) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof(char *), cmp_str);
    return 0;
}

/* A plain filter matches a substring of the path; a glob matches the path
 * or any of its tails after a '/' ("udp-echo/?*.scn" matches
 * "harness/scenarios/udp-echo/one.scn"). */
static int matches_filter(const char *path, const char *filter)
{
    if (!filter)
        return 1;
    if (!strpbrk(filter, "*?["))
        return strstr(path, filter) != NULL;
    for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
        if (fnmatch(filter, p, 0) == 0)
            return 1;
    return 0;
}

/* ---- fixed ports ------------------------------------------------------- */

/* Does the address template name a fixed (literal, non-zero) port? */
static int fixed_port(const struct nr_tmpl *t)
{
    char text[NR_ADDRSTR_SIZE];
    struct nr_addr a;

    if (t->nsegs != 1 || t->segs[0].is_var || t->segs[0].len >= sizeof(text))
        return 0;
    memcpy(text, t->segs[0].data, t->segs[0].len);
    text[t->segs[0].len] = '\0';
    return nr_addr_parse(text, &a, NULL) == 0 && nr_addr_port((struct sockaddr *)&a.ss) > 0;
}

/* Does a step bind a fixed port (listen, or a target's activation)?  In
 * its own namespace that is safe; on the shared host loopback two such
 * scenarios could collide, so they then run one at a time. */
static int binds_fixed_port(const struct nr_step *s, unsigned depth, unsigned when, void *arg)
{
    (void)depth;
    (void)when;
    (void)arg;
    return (s->kind == NR_S_LISTEN && fixed_port(&s->u.sock.addr)) ||
           (s->kind == NR_S_TARGET && s->u.target.activate && fixed_port(&s->u.target.act_addr));
}

/* ---- one scenario in a child ------------------------------------------ */

/* A scenario's artifacts directory: root, then the scenario's path mirrored
 * below it, part by part ("./" and empty parts dropped, ".." as "__", a part
 * that starts with '.' gets a '_' first: never hidden, never outside root),
 * then "#k" for the k-th repeat. */
static char *artifact_dir(const char *root, const char *path, int rep)
{
    size_t cap = strlen(root) + 2 * strlen(path) + 32, at;
    char *d = malloc(cap);

    if (!d)
        return NULL;
    at = (size_t)snprintf(d, cap, "%s", root);
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            at += (size_t)snprintf(d + at, cap - at, "/__");
        else if (len > 0 && !(len == 1 && p[0] == '.'))
            at += (size_t)snprintf(d + at, cap - at, "/%s%.*s", p[0] == '.' ? "_" : "", (int)len, p);
        p += len + (p[len] == '/');
    }
    if (rep)
        snprintf(d + at, cap - at, "#%d", rep);
    return d;
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void rm_rf(const char *path);
static int empty_dir(const char *path);

/* Remove a passing scenario's artifacts and the directories above them
 * that this leaves empty, up to (not including) root. */
static void rm_artifacts(const char *root, const char *dir)
{
    char up[PATH_MAX], *slash;
    size_t rl = strlen(root);

    rm_rf(dir);
    snprintf(up, sizeof(up), "%s", dir);
    while ((slash = strrchr(up, '/')) && (size_t)(slash - up) > rl) {
        *slash = '\0';
        if (rmdir(up) < 0)
            break;
    }
}

/* Remove what directory path holds (never path itself, nor a file at
 * path; a symbolic link is not followed: a target may leave one to / in
 * its ${tmp}).  Returns 0, also when path does not exist; -1 when it is
 * not a directory. */
static int empty_dir(const char *path)
{
    struct dirent *e;
    struct stat sb;
    DIR *d;

    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode) || !(d = opendir(path)))
        return -1;
    while ((e = readdir(d))) {
        char sub[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    return 0;
}

static void rm_rf(const char *path)
{
    if (empty_dir(path) < 0)
        unlink(path);
    else
        rmdir(path);
}

/* The process that runs the scenario (the init of its PID namespace, or
 * the subreaper of its processes on the host): run, report, exit. */
static void scenario_main(const struct nr_scn *scn, const struct run_opts *o, const char *artdir,
                          int fd, int isolated)
{
    char *msg = NULL;
    enum run_status st;

    if (scn->needs_ipv6 && isolated) {
        int s = socket(AF_INET6, SOCK_STREAM, 0);
        if (s < 0) {
            if (asprintf(&msg, "IPv6 unavailable: %s", strerror(errno)) < 0)
                msg = NULL;
            run_result_send(fd, RUN_SKIP, msg);
            _exit(0);
        }
        close(s);
    }
    st = run_scenario(scn, o, artdir, isolated, fd, &msg);
    run_result_send(fd, st, msg);
    free(msg);
    _exit(0);
}

/* Has netrig, which reads the other end of the result pipe, gone? */
static int reader_gone(int wfd)
{
    struct pollfd p = { .fd = wfd, .events = POLLOUT };

    return poll(&p, 1, 0) > 0 && (p.revents & POLLERR);
}

/* The scenario's process, from its first instruction: it dies with netrig
 * (also when netrig died before this could be armed), takes default
 * signals, and runs the scenario; in its own namespaces (the init of its
 * PID namespace, so every process the scenario starts dies with it) or,
 * without them, as the subreaper of whatever it starts.  Never returns. */
static void child_run(const struct nr_scn *scn, const struct run_opts *o, const char *artdir,
                      int fd, int isolated, const char *setup_err)
{
    char errbuf[NR_ERRBUF_SIZE], *msg = NULL;
    sigset_t none;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (reader_gone(fd))
        _exit(1);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setup_err && setup_err[0]) { /* a namespace it could not set up: unjudgeable */
        if (asprintf(&msg, "%s: cannot set up the scenario's namespaces: %s", scn->path,
                     setup_err) < 0)
            msg = NULL;
        run_result_send(fd, RUN_ERROR, msg);
        _exit(0);
    }
    if (!isolated)
        run_ns_adopt_orphans();
    else if (run_ns_proc(errbuf) < 0)
        fprintf(stderr, "netrig: %s: processes see the host's /proc\n", errbuf);
    scenario_main(scn, o, artdir, fd, isolated);
}

/* How long after its deadline a scenario process is killed: the teardown it
 * may still do (targets' grace, stragglers' grace, the capture drain) plus
 * a margin.  The scenario reports its own overrun before that. */
static int64_t kill_after_deadline_ms(const struct run_opts *o)
{
    return (int64_t)(2 * STOP_GRACE_MS * o->time_scale) + DRAIN_MARGIN_MS + KILL_MARGIN_MS;
}

static int job_start(struct job *j, const struct run_opts *shared)
{
    struct run_opts own = *shared, *o = &own;
    int p[2];
    int64_t deadline_ms;
    char errbuf[NR_ERRBUF_SIZE];

    /* what an earlier run left there (its ${tmp}, capture, logs) is not
     * this run's: a scenario starts with an empty folder */
    if (empty_dir(j->res->artifacts) < 0 || mkdir_p(j->res->artifacts) < 0) {
        fprintf(stderr, "netrig: cannot create %s: %s\n", j->res->artifacts, strerror(errno));
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    j->pid = o->no_netns ? fork() : run_ns_fork(errbuf);
    if (j->pid < 0 && !o->no_netns) /* the probe said yes: a resource limit, say */
        fprintf(stderr, "netrig: %s: %s\n", j->res->name, errbuf);
    if (j->pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (j->pid == 0) {
        close(p[0]);
        own.defines = j->defines;
        child_run(&j->scn, o, j->res->artifacts, p[1], !o->no_netns, o->no_netns ? NULL : errbuf);
    }
    close(p[1]);
    j->pipe_fd = p[0];
    j->started = nr_now_ms();
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        j->res->started_wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    run_deadline_ms(o, &j->scn, &deadline_ms);
    j->deadline = j->started + deadline_ms + kill_after_deadline_ms(o);
    return 0;
}

/* Read the child's report; returns 1 when the pipe reached EOF. */
static int job_read(struct job *j)
{
    char buf[4096];
    ssize_t n = nr_read(j->pipe_fd, buf, sizeof(buf));
    char *nb;

    if (n > 0) {
        nb = realloc(j->out, j->outlen + (size_t)n + 1);
        if (!nb)
            return 1;
        j->out = nb;
        memcpy(j->out + j->outlen, buf, (size_t)n);
        j->outlen += (size_t)n;
        j->out[j->outlen] = '\0';
        return 0;
    }
    return 1;
}

/* Kill a scenario's process (and with it its namespace) and reap it. */
static int job_kill(struct job *j)
{
    int ws = 0;

    kill(-j->pid, SIGKILL);
    kill(j->pid, SIGKILL);
    while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    close(j->pipe_fd);
    j->pid = 0;
    return ws;
}

/* The last step line of a scenario's steps.log (else its last line),
 * without its time stamp, or a note that there is none, into buf. */
static void last_logged(const char *artdir, char *buf, size_t len)
{
    char path[PATH_MAX], line[512];
    int step = 0; /* buf holds a step's line */
    FILE *f;

    snprintf(buf, len, "(no steps.log)");
    snprintf(path, sizeof(path), "%s/steps.log", artdir);
    if (!(f = fopen(path, "re")))
        return;
    while (fgets(line, sizeof(line), f)) {
        char *t = line + strspn(line, " "), *u; /* "   1.234 " then the text */
        t += strspn(t, "0123456789.");
        t += *t == ' ';
        line[strcspn(line, "\n")] = '\0';
        u = t + strspn(t, " ");
        u += strspn(u, "0123456789");
        /* a step's line ("3: sleep 1s  [ok, ...]") wins over what the
         * scenario's teardown logged after it (the capture's end, say) */
        if (*t && (!step || (u > t + strspn(t, " ") && *u == ':'))) {
            snprintf(buf, len, "%s", t);
            step = u > t + strspn(t, " ") && *u == ':';
        }
    }
    fclose(f);
}

/* Does the result's artifacts directory exist (the reports name only those)? */
static void set_kept(struct run_result *r)
{
    struct stat sb;

    r->kept = r->artifacts && stat(r->artifacts, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Child finished (or was killed at its deadline): fill in the result. */
static void job_finish(struct job *j, const struct run_opts *o, int killed)
{
    struct run_result *r = j->res;
    char status[64];
    int ws = 0;

    if (killed) {
        job_kill(j);
    } else {
        close(j->pipe_fd);
        while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR)
            ;
        j->pid = 0;
    }
    r->seconds = (double)(nr_now_ms() - j->started) / 1000.0;
    if (j->out && run_result_parse(j->out, &r->status, &r->message) == 0) {
        /* reported, possibly by its watchdog just before the kill */
    } else if (killed) {
        char last[512];
        r->status = RUN_FAIL;
        last_logged(r->artifacts, last, sizeof(last));
        if (asprintf(&r->message, "%s: scenario deadline exceeded; its process did not report "
                     "and was killed\n  last in steps.log: %s", r->path, last) < 0)
            r->message = NULL;
    } else {
        nr_status_str(ws, status, sizeof(status));
        r->status = RUN_ERROR;
        if (asprintf(&r->message, "%s: the scenario's process ended with %s before reporting",
                     r->path, status) < 0)
            r->message = NULL;
    }
    free(j->out);
    j->out = NULL;
    if (r->status == RUN_PASS && !o->keep)
        rm_artifacts(o->artifacts, r->artifacts);
}

/* ---- human output -------------------------------------------------------- */

/* Copy a file to f (the step log of a failure, with -v). */
static void print_file(FILE *f, const char *path)
{
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return;
    while ((n = nr_read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, f);
    close(fd);
}

static void print_result(FILE *f, const struct run_result *r, const struct run_opts *o,
                         const char *progress)
{
    static const char *const word[] = { [RUN_PASS] = "PASS", [RUN_FAIL] = "FAIL",
                                        [RUN_ERROR] = "ERROR", [RUN_SKIP] = "SKIP",
                                        [RUN_NOTRUN] = "NOT RUN" };
    static const char *const col[] = { [RUN_PASS] = "\033[32m", [RUN_FAIL] = "\033[31m",
                                       [RUN_ERROR] = "\033[35m", [RUN_SKIP] = "\033[33m",
                                       [RUN_NOTRUN] = "\033[33m" };

    fprintf(f, "%s%s%s  %-56s %6.2fs%s\n", o->color ? col[r->status] : "", word[r->status],
            o->color ? "\033[0m" : "", r->name, r->seconds, progress);
    if (r->status != RUN_PASS && r->message) {
        fprintf(f, "%s", r->message);
        if (r->message[0] && r->message[strlen(r->message) - 1] != '\n')
            fputc('\n', f);
    }
    if ((r->status == RUN_FAIL || r->status == RUN_ERROR) && r->kept) {
        char path[PATH_MAX];
        fprintf(f, "  artifacts: %s\n", r->artifacts);
        if (o->verbose) {
            snprintf(path, sizeof(path), "%s/steps.log", r->artifacts);
            print_file(f, path);
        }
    }
    fflush(f);
}

/* A scenario's result is known: its line with "[n/N, elapsed]" on the
 * human stream, then every report, each flushed at once. */
static void report_end(struct live *lv, struct job *j, const struct run_opts *o, int show)
{
    char progress[64];

    if (j->reported)
        return;
    j->reported = 1;
    lv->done++;
    set_kept(j->res);
    if (show) {
        snprintf(progress, sizeof(progress), "  [%zu/%zu %.0fs]", lv->done, lv->total,
                 (double)(nr_now_ms() - lv->t0) / 1000.0);
        print_result(lv->human, j->res, o, progress);
    }
    run_report_ended(lv->rep, j->res);
}

/* Every --heartbeat (HEARTBEAT_MS) of a scenario's run, a line that says it is still
 * running and the last step it logged: a long scenario is never silent. */
static void heartbeat(struct live *lv, struct job *jobs, size_t n)
{
    int64_t now = nr_now_ms();
    char last[512];

    for (size_t i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        if (j->pid <= 0 || now < j->beat)
            continue;
        last_logged(j->res->artifacts, last, sizeof(last));
        fprintf(lv->human, "....  %s still running (%.0fs); last step: %s\n", j->res->name,
                (double)(now - j->started) / 1000.0, last);
        fflush(lv->human);
        j->beat += lv->beat_ms;
    }
}

/* ---- scheduling ------------------------------------------------------- */

/* Mark jobs[from..n) that were to run as not run, saying why. */
static void mark_not_run(struct job *jobs, size_t from, size_t n, const char *why)
{
    for (size_t i = from; i < n; i++)
        if (jobs[i].runnable) {
            jobs[i].res->status = RUN_NOTRUN;
            jobs[i].res->message = strdup(why);
        }
}

static int run_jobs(struct job *jobs, size_t n, const struct run_opts *o, struct live *lv,
                    const sigset_t *waitmask)
{
    size_t next = 0, running = 0;
    int alone = 0, stopping = 0; /* an exclusive job runs; --fail-fast tripped */
    struct pollfd *pf = calloc(n ? n : 1, sizeof(*pf));
    size_t *idx = calloc(n ? n : 1, sizeof(*idx));
    char why[96];

    if (!pf || !idx) {
        free(pf);
        free(idx);
        return -1;
    }
    while ((next < n || running > 0) && !interrupted) {
        size_t np = 0;
        int64_t soonest = -1;
        while (next < n && !stopping && running < (size_t)o->jobs && !alone) {
            struct job *j = &jobs[next];
            int excl = o->no_netns && j->exclusive;
            if (!j->runnable) {
                next++;
                continue;
            }
            if (excl && running > 0)
                break; /* wait until it can run alone */
            if (job_start(j, o) < 0) {
                j->res->status = RUN_ERROR;
                j->res->message = strdup("cannot start the scenario's process");
                j->pid = 0;
                report_end(lv, j, o, 1);
            } else {
                j->beat = lv->beat_ms ? j->started + lv->beat_ms : INT64_MAX;
                run_report_started(lv->rep, j->res);
                running++;
                alone = excl;
            }
            next++;
        }
        if (stopping && running == 0)
            break;
        for (size_t i = 0; i < next; i++) {
            if (jobs[i].pid <= 0)
                continue;
            pf[np] = (struct pollfd){ .fd = jobs[i].pipe_fd, .events = POLLIN };
            idx[np++] = i;
            if (soonest < 0 || jobs[i].deadline < soonest)
                soonest = jobs[i].deadline;
            if (jobs[i].beat < soonest)
                soonest = jobs[i].beat;
        }
        if (np == 0)
            continue;
        {
            int left = nr_ms_left(soonest);
            struct timespec ts = { left / 1000, (left % 1000) * 1000000L };
            if (ppoll(pf, np, &ts, waitmask) < 0 && errno != EINTR)
                break;
        }
        if (interrupted)
            break;
        heartbeat(lv, jobs, next);
        for (size_t k = 0; k < np; k++) {
            struct job *j = &jobs[idx[k]];
            int done = 0, killed = 0;
            if (pf[k].revents)
                done = job_read(j);
            if (!done && nr_ms_left(j->deadline) == 0)
                done = killed = 1;
            if (done) {
                job_finish(j, o, killed);
                running--;
                if (j->exclusive)
                    alone = 0;
                report_end(lv, j, o, 1);
                if (o->fail_fast && (j->res->status == RUN_FAIL || j->res->status == RUN_ERROR))
                    stopping = 1;
            }
        }
    }
    if (interrupted) { /* what still runs is killed: not judged, so not run */
        snprintf(why, sizeof(why), "interrupted by SIG%s: not finished", sigabbrev_np(interrupted));
        for (size_t i = 0; i < next; i++)
            if (jobs[i].pid > 0) {
                jobs[i].res->seconds = (double)(nr_now_ms() - jobs[i].started) / 1000.0;
                job_kill(&jobs[i]);
                free(jobs[i].out);
                jobs[i].out = NULL;
                jobs[i].res->status = RUN_NOTRUN;
                jobs[i].res->message = strdup(why);
            }
        snprintf(why, sizeof(why), "interrupted by SIG%s: not run", sigabbrev_np(interrupted));
    } else {
        snprintf(why, sizeof(why), "not run: --fail-fast after a failure");
    }
    mark_not_run(jobs, next, n, why);
    free(pf);
    free(idx);
    return 0;
}

/* ---- isolation probe ----------------------------------------------------- */

/* In a throwaway child, made as a scenario's is: can it have namespaces,
 * its /proc and a capture?  Writes "ns:<reason>", "proc:<reason>",
 * "cap:<reason>" lines to fd for what it cannot have. */
static void probe_child(const struct run_opts *o, int fd, const char *setup_err)
{
    char errbuf[NR_ERRBUF_SIZE], msg[NR_ERRBUF_SIZE + 8];
    struct run_capture *cap;
    struct run_capture_stats cs;

    if (setup_err[0]) {
        snprintf(msg, sizeof(msg), "ns:%s", setup_err);
        nr_write_all(fd, msg, strlen(msg), -1);
        _exit(0);
    }
    if (run_ns_proc(errbuf) < 0) {
        snprintf(msg, sizeof(msg), "proc:%s\n", errbuf);
        nr_write_all(fd, msg, strlen(msg), -1);
    }
    if (!o->no_capture && (run_capture_start("lo", "/dev/null", &cap, errbuf) < 0 ||
                           run_capture_stop(cap, &cs, errbuf) < 0)) {
        snprintf(msg, sizeof(msg), "cap:%s", errbuf);
        nr_write_all(fd, msg, strlen(msg), -1);
    }
    _exit(0);
}

/* Find out once whether scenarios can be isolated and captured, and say
 * so once when they cannot. */
static void probe_isolation(struct run_opts *o)
{
    char msg[2 * NR_ERRBUF_SIZE + 16] = "", errbuf[NR_ERRBUF_SIZE], *p;
    int fds[2];
    ssize_t n = -1, got = 0;
    pid_t pid;

    if (o->no_netns || pipe2(fds, O_CLOEXEC) < 0)
        return;
    pid = run_ns_fork(errbuf);
    if (pid == 0) {
        close(fds[0]);
        probe_child(o, fds[1], errbuf);
    }
    if (pid < 0) /* no namespaces at all */
        got = snprintf(msg, sizeof(msg), "ns:%s", errbuf);
    close(fds[1]);
    while (pid > 0 && (n = nr_read(fds[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
        got += n;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    msg[got] = '\0';
    if (strncmp(msg, "ns:", 3) == 0) {
        fprintf(stderr, "netrig: namespaces unavailable (%s): scenarios run on the host "
                        "loopback with ephemeral ports, without capture; scenarios with wire "
                        "steps are skipped\n", msg + 3);
        o->no_netns = 1;
        return;
    }
    if (strncmp(msg, "proc:", 5) == 0)
        fprintf(stderr, "netrig: %.*s: targets see the host's /proc\n",
                (int)strcspn(msg + 5, "\n"), msg + 5);
    if ((p = strstr(msg, "cap:"))) {
        fprintf(stderr, "netrig: packet capture unavailable (%s): no wire checks; scenarios "
                        "with wire steps are skipped\n", p + 4);
        o->no_capture = 1;
    }
}

/* ---- main -------------------------------------------------------------- */

/* A `-D NAME=V1,V2...` setting: one value, or several (a matrix). */
struct define {
    char *name;
    char **values;
    size_t nvalues;
    int used;             /* some scenario declares `param NAME` */
};

struct defines {
    struct define *v;
    size_t n;
};

/* Parse "NAME=V1,V2" into d (appended).  Returns 0 / -1 (bad form). */
static int add_define(struct defines *d, const char *arg)
{
    const char *eq = strchr(arg, '='), *p;
    struct define *nv, *x;

    if (!eq || eq == arg || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_") != (size_t)(eq - arg) ||
        (arg[0] >= '0' && arg[0] <= '9'))
        return -1;
    nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    d->v = nv;
    x = &d->v[d->n++];
    memset(x, 0, sizeof(*x));
    x->name = strndup(arg, (size_t)(eq - arg));
    for (p = eq + 1;;) { /* values split at ',', where "\," is a comma in a value */
        char **vv = realloc(x->values, (x->nvalues + 1) * sizeof(*vv));
        char *v = malloc(strlen(p) + 1), *o = v;
        if (!vv || !x->name || !v) {
            free(v);
            return -1;
        }
        x->values = vv;
        x->values[x->nvalues++] = v;
        for (; *p && *p != ','; p++)
            *o++ = p[0] == '\\' && p[1] == ',' ? *++p : *p;
        *o = '\0';
        if (!*p++)
            break;
    }
    return 0;
}

static void defines_free(struct defines *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (size_t k = 0; k < d->v[i].nvalues; k++)
            free(d->v[i].values[k]);
        free(d->v[i].values);
        free(d->v[i].name);
    }
    free(d->v);
}

static const char *default_bindir(void)
{
    static char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    char *slash;

    if (n <= 0)
        return ".";
    dir[n] = '\0';
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (slash && slash > dir) { /* installed: PREFIX/bin/netrig, targets in PREFIX/libexec/netrig */
        static char libexec[PATH_MAX + 32];
        struct stat sb;
        char *up;
        snprintf(libexec, sizeof(libexec), "%s", dir);
        up = strrchr(libexec, '/');
        if (up && strcmp(up, "/bin") == 0) {
            strcpy(up, "/libexec/netrig");
            if (stat(libexec, &sb) == 0 && S_ISDIR(sb.st_mode))
                return libexec;
        }
    }
    return dir;
}

/* --seed N: a decimal number below 2^64.  Returns 0 / -1. */
static int parse_seed(const char *text, uint64_t *seed)
{
    char *end;

    errno = 0;
    *seed = strtoull(text, &end, 10);
    return *text >= '0' && *text <= '9' && !*end && errno == 0 ? 0 : -1;
}

/* --time-scale X: a finite number above 0, nothing after it (atof took
 * "inf", "nan" and "2x").  Returns 0 / -1. */
static int parse_scale(const char *text, double *scale)
{
    char *end;

    errno = 0;
    *scale = strtod(text, &end);
    return end != text && !*end && errno == 0 && isfinite(*scale) && *scale > 0 ? 0 : -1;
}

/* Options of the command itself rather than of how scenarios run. */
struct run_cli {
    unsigned shard_k, shard_n; /* --shard K/N; shard_n 0: every scenario */
    const char *shard;         /* its text */
    const char *timings;       /* --timings FILE */
    int list;                  /* --list */
    int color;                 /* --color: -1 auto, 0 never, 1 always */
    int heartbeat_ms;          /* --heartbeat DUR (0: none) */
};

static int parse_opts(int argc, char **argv, struct run_opts *o, struct defines *defs,
                      struct run_cli *cli)
{
    enum { O_TAP = 256, O_JUNIT, O_BIN, O_NONETNS, O_REMOTE, O_SCALE, O_NOCAP, O_CAPBUF,
           O_ALLOWSKIP, O_FAILFAST, O_SEED, O_JSON, O_GITHUB, O_COLOR, O_SHARD, O_TIMINGS,
           O_LIST, O_HEARTBEAT };
    enum { O_HTML = 1000 }; /* past the others */
    static const struct option longopts[] = {
        { "html", required_argument, NULL, O_HTML },
        { "jobs", required_argument, NULL, 'j' },     { "filter", required_argument, NULL, 'f' },
        { "repeat", required_argument, NULL, 'r' },   { "keep", no_argument, NULL, 'k' },
        { "artifacts", required_argument, NULL, 'a' }, { "timeout", required_argument, NULL, 't' },
        { "deadline", required_argument, NULL, 'd' }, { "verbose", no_argument, NULL, 'v' },
        { "tap", no_argument, NULL, O_TAP },          { "junit", required_argument, NULL, O_JUNIT },
        { "bin", required_argument, NULL, O_BIN },    { "no-netns", no_argument, NULL, O_NONETNS },
        { "allow-remote", no_argument, NULL, O_REMOTE },
        { "time-scale", required_argument, NULL, O_SCALE },
        { "no-capture", no_argument, NULL, O_NOCAP },
        { "capture-buffer", required_argument, NULL, O_CAPBUF },
        { "allow-skip", no_argument, NULL, O_ALLOWSKIP },
        { "fail-fast", no_argument, NULL, O_FAILFAST },
        { "seed", required_argument, NULL, O_SEED },
        { "json", required_argument, NULL, O_JSON },  { "github", no_argument, NULL, O_GITHUB },
        { "color", required_argument, NULL, O_COLOR },
        { "colour", required_argument, NULL, O_COLOR },
        { "shard", required_argument, NULL, O_SHARD },
        { "timings", required_argument, NULL, O_TIMINGS },
        { "list", no_argument, NULL, O_LIST },
        { "heartbeat", required_argument, NULL, O_HEARTBEAT },
        { "help", no_argument, NULL, 'h' },           { 0 } };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int opt, li = -1;

    *o = (struct run_opts){ .artifacts = "netrig-artifacts", .jobs = ncpu > 0 ? (int)ncpu : 1,
                            .repeat = 1, .timeout_ms = -1, .deadline_ms = -1, .time_scale = 1.0,
                            .bindir = default_bindir() };
    o->github = getenv("GITHUB_ACTIONS") && strcmp(getenv("GITHUB_ACTIONS"), "true") == 0;
    *cli = (struct run_cli){ .color = -1, .heartbeat_ms = HEARTBEAT_MS };
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:f:r:ka:t:d:D:vh", longopts, &li)) != -1) {
        switch (opt) {
        case 'D': if (add_define(defs, optarg) < 0) goto bad; break;
        case 'j': o->jobs = atoi(optarg); if (o->jobs < 1) goto bad; break;
        case 'f': o->filter = optarg; break;
        case 'r': o->repeat = atoi(optarg); if (o->repeat < 1) goto bad; break;
        case 'k': o->keep = 1; break;
        case 'a': o->artifacts = optarg; break;
        case 't': if ((o->timeout_ms = parse_duration(optarg)) < 0) goto bad; break;
        case 'd': if ((o->deadline_ms = parse_duration(optarg)) < 0) goto bad; break;
        case 'v': o->verbose = 1; break;
        case O_TAP: o->tap = 1; break;
        case O_JUNIT: o->junit = optarg; break;
        case O_HTML: o->html = optarg; break;
        case O_BIN: o->bindir = optarg; break;
        case O_NONETNS: o->no_netns = 1; break;
        case O_NOCAP: o->no_capture = 1; break;
        case O_CAPBUF: if (!(o->capture_bytes = parse_size(optarg))) goto bad; break;
        case O_ALLOWSKIP: o->allow_skip = 1; break;
        case O_FAILFAST: o->fail_fast = 1; break;
        case O_JSON: o->json = optarg; break;
        case O_GITHUB: o->github = 1; break;
        case O_COLOR:
            cli->color = strcmp(optarg, "always") == 0 ? 1 : strcmp(optarg, "never") == 0 ? 0
                         : strcmp(optarg, "auto") == 0 ? -1 : -2;
            if (cli->color == -2)
                goto bad;
            break;
        case O_SHARD:
            if (run_shard_parse(optarg, &cli->shard_k, &cli->shard_n) < 0)
                goto bad;
            cli->shard = optarg;
            break;
        case O_TIMINGS: cli->timings = optarg; break;
        case O_LIST: cli->list = 1; break;
        case O_HEARTBEAT: if ((cli->heartbeat_ms = parse_duration(optarg)) < 0) goto bad; break;
        case O_SEED: if (parse_seed(optarg, &o->seed) < 0) goto bad; o->seed_given = 1; break;
        case O_REMOTE: o->allow_remote = 1; break;
        case O_SCALE: if (parse_scale(optarg, &o->time_scale) < 0) goto bad; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
        li = -1;
    }
    if (optind >= argc) {
        fprintf(stderr, "netrig run: no scenario files or directories given\n");
        usage(stderr);
        return -1;
    }
    return 0;
bad:
    if (li >= 0)
        fprintf(stderr, "netrig run: bad value for --%s: '%s'\n", longopts[li].name, optarg);
    else
        fprintf(stderr, "netrig run: bad value for -%c: '%s'\n", opt, optarg);
    return -1;
}

/* Can a report be written at path?  Tried before anything runs, so that a
 * run whose report would be lost does not happen.  Returns 0 / -1. */
static int check_writable(const char *path, char *errbuf)
{
    char tmp[PATH_MAX];
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        fd = open(tmp, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return nr_seterr_errno(errbuf, errno, "cannot write the report %s", path);
    close(fd);
    unlink(tmp);
    return 0;
}

/* Does the scenario declare `param name` (at its top level, where params are)? */
static int declares_param(const struct nr_scn *scn, const char *name)
{
    for (size_t i = 0; i < scn->steps.n; i++)
        if (scn->steps.v[i].kind == NR_S_SET && scn->steps.v[i].u.set.is_param &&
            strcmp(scn->steps.v[i].name, name) == 0)
            return 1;
    return 0;
}

/* Growable arrays of jobs and their results (jobs[i].res is set at the end). */
struct plan {
    struct job *jobs;
    struct run_result *res;
    size_t n, cap;
};

static struct job *plan_add(struct plan *pl)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 64;
        struct job *nj = realloc(pl->jobs, cap * sizeof(*nj));
        struct run_result *nr;
        if (!nj)
            return NULL;
        pl->jobs = nj;
        nr = realloc(pl->res, cap * sizeof(*nr));
        if (!nr)
            return NULL;
        pl->res = nr;
        pl->cap = cap;
    }
    memset(&pl->jobs[pl->n], 0, sizeof(pl->jobs[0]));
    memset(&pl->res[pl->n], 0, sizeof(pl->res[0]));
    return &pl->jobs[pl->n++];
}

/* One run of a scenario: fill the job and its result.  scn is the file
 * parsed once (NULL: malformed, errbuf says why); the first run of a file
 * owns it (shared 0), the others share it read-only.  combo names the -D
 * values of this run ("" for none) and vals their "NAME=VALUE" list (moved
 * into the job).  Returns 1 when the file is malformed (an error result),
 * 0, or -1. */
static int add_run(struct plan *pl, const char *path, const struct run_opts *o, int rep,
                   const char *combo, char **vals, const struct nr_scn *scn, int shared,
                   const char *errbuf)
{
    struct job *j = plan_add(pl);
    struct run_result *r;
    char *art;

    if (!j)
        return -1;
    r = &pl->res[pl->n - 1];
    j->defines = vals;
    r->path = strdup(path);
    if (!scn) {
        r->name = strdup(path);
        r->status = RUN_ERROR;
        r->message = strdup(errbuf);
        return r->path && r->name && r->message ? 1 : -1;
    }
    j->scn = *scn;
    j->scn_shared = shared;
    j->runnable = 1;
    j->exclusive = nr_steps_walk(&j->scn.steps, NR_WALK_BEFORE, binds_fixed_port, NULL) != 0;
    if (asprintf(&r->name, "%s%s%s%s%.0d", path, combo[0] ? " " : "", combo, rep ? " #" : "",
                 rep) < 0)
        r->name = NULL;
    art = artifact_dir(o->artifacts, path, rep);
    if (art && combo[0]) { /* "x.scn[a=1 b=2]": '/' and ' ' are kept out of the name */
        char *full;
        if (asprintf(&full, "%s%s", art, combo) < 0)
            full = NULL;
        for (char *p = full ? full + strlen(art) : NULL; p && *p; p++)
            if (*p == '/' || *p == ' ')
                *p = *p == '/' ? '_' : ',';
        free(art);
        art = full;
    }
    r->artifacts = art;
    return r->path && r->name && r->artifacts ? 0 : -1;
}

/* Add the runs of one scenario file: one per combination of the -D values
 * of the params it declares, times --repeat; or one error result when the
 * file is malformed.  Returns 1 when malformed, 0 when parsed, -1 on
 * allocation failure. */
static int add_scenario(struct plan *pl, const char *path, const struct run_opts *o,
                        struct defines *d)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_scn scn;
    size_t mine[64], nmine = 0, combos = 1;
    int rc = 0, owned = 0;

    if (nr_scn_load(path, &scn, errbuf) < 0)
        return add_run(pl, path, o, 0, "", NULL, NULL, 0, errbuf);
    nr_scn_scale(&scn, o->time_scale); /* once: the runs share it */
    for (size_t i = 0; i < d->n && nmine < 64; i++)
        if (declares_param(&scn, d->v[i].name)) {
            d->v[i].used = 1;
            mine[nmine++] = i;
            combos *= d->v[i].nvalues;
        }
    for (size_t c = 0; c < combos && rc == 0; c++) {
        char combo[1024] = "", **vals = calloc(nmine + 1, sizeof(char *));
        size_t at = 0, rest = c;
        if (!vals)
            return -1;
        for (size_t k = 0; k < nmine; k++) { /* the c-th combination, first param slowest */
            const struct define *x = &d->v[mine[k]];
            size_t below = 1, vi;
            for (size_t m = k + 1; m < nmine; m++)
                below *= d->v[mine[m]].nvalues;
            vi = rest / below;
            rest %= below;
            if (asprintf(&vals[k], "%s=%s", x->name, x->values[vi]) < 0)
                vals[k] = NULL;
            if (x->nvalues > 1 && at < sizeof(combo))
                at += (size_t)snprintf(combo + at, sizeof(combo) - at, "%s%s", at ? " " : "[",
                                       vals[k] ? vals[k] : "?");
        }
        if (at > 0 && at < sizeof(combo))
            snprintf(combo + at, sizeof(combo) - at, "]");
        for (int k = 0; k < o->repeat && rc == 0; k++) {
            char **mine_vals = vals;
            if (k + 1 < o->repeat) { /* each job owns its list */
                mine_vals = calloc(nmine + 1, sizeof(char *));
                for (size_t m = 0; mine_vals && m < nmine; m++)
                    mine_vals[m] = vals[m] ? strdup(vals[m]) : NULL;
            }
            size_t before = pl->n;
            rc = add_run(pl, path, o, o->repeat > 1 ? k + 1 : 0, combo, mine_vals, &scn, owned,
                         NULL);
            owned |= pl->n > before; /* the first job added owns the parsed scenario */
        }
    }
    if (!owned)
        nr_scn_free(&scn);
    return rc;
}

/* Keep the paths that pass --filter and, with --shard K/N, only the K-th
 * part of them (run_shard.c).  Returns 0, or -1 with errbuf set. */
static int select_paths(struct pathlist *l, const struct run_opts *o, const struct run_cli *cli,
                        char *errbuf)
{
    unsigned *shard_of = NULL;
    double *secs = NULL;
    size_t kept = 0;
    int rc = -1;

    for (size_t i = 0; i < l->n; i++) {
        if (matches_filter(l->v[i], o->filter))
            l->v[kept++] = l->v[i];
        else
            free(l->v[i]);
    }
    l->n = kept;
    if (!cli->shard_n)
        return 0;
    shard_of = calloc(l->n ? l->n : 1, sizeof(*shard_of));
    secs = malloc((l->n ? l->n : 1) * sizeof(*secs));
    if (!shard_of || !secs) {
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l->n; i++)
        secs[i] = -1;
    if (cli->timings && run_shard_timings(cli->timings, l->v, l->n, secs, errbuf) < 0)
        goto out;
    if (run_shard_assign(l->v, cli->timings ? secs : NULL, l->n, cli->shard_n, shard_of) < 0) {
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (shard_of[i] == cli->shard_k - 1)
            l->v[kept++] = l->v[i];
        else
            free(l->v[i]);
    }
    l->n = kept;
    rc = 0;
out:
    free(shard_of);
    free(secs);
    return rc;
}

/* --list: each run's name and the params its scenario declares, with the
 * value it would get (from -D, or the file's default).  Returns the exit
 * status: 0, or 2 when a file is malformed. */
static int list_runs(FILE *f, const struct job *jobs, size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        const struct job *j = &jobs[i];
        fprintf(f, "%s\n", j->res->name);
        if (!j->runnable) {
            const char *m = j->res->message ? j->res->message : "";
            fprintf(f, "    malformed: %.*s\n", (int)strcspn(m, "\n"), m);
            rc = 2;
            continue;
        }
        for (size_t k = 0; k < j->scn.steps.n; k++) {
            const struct nr_step *s = &j->scn.steps.v[k];
            const char *given = NULL;
            size_t nl;
            if (s->kind != NR_S_SET || !s->u.set.is_param)
                continue;
            nl = strlen(s->name);
            for (char **d = j->defines; d && *d; d++)
                if (strncmp(*d, s->name, nl) == 0 && (*d)[nl] == '=')
                    given = *d + nl + 1;
            fprintf(f, "    param %s = ", s->name);
            if (given) {
                fprintf(f, "%s (-D)\n", given);
                continue;
            }
            for (size_t g = 0; g < s->u.set.value.nsegs; g++) {
                const struct nr_seg *sg = &s->u.set.value.segs[g];
                fprintf(f, sg->is_var ? "${%.*s}" : "%.*s", (int)sg->len, (const char *)sg->data);
            }
            fputc('\n', f);
        }
    }
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct run_cli cli;
    struct live lv = { 0 };
    struct pathlist paths = { 0 };
    struct plan pl = { 0 };
    struct defines defs = { 0 };
    struct job *jobs = NULL;
    struct run_result *res = NULL;
    size_t n = 0, count[RUN_NOTRUN + 1] = { 0 }, malformed = 0;
    char errbuf[NR_ERRBUF_SIZE];
    const char *nocolor = getenv("NO_COLOR");
    sigset_t block, waitmask;
    FILE *human;
    int rc = 2, kept_failures = 0, pr = parse_opts(argc, argv, &o, &defs, &cli);

    if (pr != 0) {
        defines_free(&defs);
        return pr > 0 ? 0 : 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* every line as it is written, into a pipe too */
    human = o.tap || (o.json && strcmp(o.json, "-") == 0) ? stderr : stdout;
    o.color = cli.color >= 0 ? cli.color : isatty(fileno(human)) && !(nocolor && *nocolor);
    if (o.tap && o.json && strcmp(o.json, "-") == 0) {
        fprintf(stderr, "netrig run: --tap and --json - both want stdout\n");
        goto out;
    }
    if ((o.junit && check_writable(o.junit, errbuf) < 0) ||
        (o.json && strcmp(o.json, "-") != 0 && check_writable(o.json, errbuf) < 0)) {
        fprintf(stderr, "netrig run: %s\n", errbuf);
        goto out;
    }
    if (o.html && check_writable(o.html, errbuf) < 0) {
        fprintf(stderr, "netrig run: %s\n", errbuf);
        goto out;
    }
    for (int i = optind; i < argc; i++)
        if (collect(&paths, argv[i]) < 0)
            goto out;
    if (select_paths(&paths, &o, &cli, errbuf) < 0) {
        fprintf(stderr, "netrig run: %s\n", errbuf);
        goto out;
    }
    for (size_t i = 0; i < paths.n; i++) {
        int r = add_scenario(&pl, paths.v[i], &o, &defs);
        malformed += r > 0 ? (size_t)r : 0;
        if (r < 0) {
            jobs = pl.jobs, res = pl.res, n = pl.n;
            goto out;
        }
    }
    jobs = pl.jobs;
    res = pl.res;
    n = pl.n;
    for (size_t i = 0; i < n; i++)
        jobs[i].res = &res[i];
    for (size_t i = 0; i < defs.n; i++)
        if (!defs.v[i].used && !malformed && !cli.shard_n) {
            fprintf(stderr, "netrig run: -D %s: no scenario declares 'param %s'\n",
                    defs.v[i].name, defs.v[i].name);
            goto out;
        }
    if (cli.list) {
        rc = list_runs(stdout, jobs, n);
        goto out;
    }
    if (n == 0 && cli.shard_n) { /* more shards than scenario files: nothing is not a failure */
        fprintf(stderr, "netrig run: shard %s has no scenarios\n", cli.shard);
        rc = 0;
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "netrig run: no scenarios to run\n");
        goto out;
    }
    lv = (struct live){ .human = human, .total = n, .t0 = nr_now_ms(),
                        .beat_ms = cli.heartbeat_ms };
    if (run_report_open(&lv.rep, &o, stdout, human, n, cli.shard, errbuf) < 0) {
        fprintf(stderr, "netrig run: %s\n", errbuf);
        goto out;
    }
    /* Signals are taken only inside ppoll: none is lost between the check
     * of `interrupted` and the wait. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGHUP);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].runnable) /* malformed: shown before anything runs */
            report_end(&lv, &jobs[i], &o, 1);
    if (malformed && o.fail_fast) {
        mark_not_run(jobs, 0, n, "not run: --fail-fast and a malformed scenario");
    } else {
        if (mkdir_p(o.artifacts) < 0) {
            fprintf(stderr, "netrig run: cannot create %s: %s\n", o.artifacts, strerror(errno));
            goto out;
        }
        probe_isolation(&o);
        run_jobs(jobs, n, &o, &lv, &waitmask);
    }
    for (size_t i = 0; i < n; i++) /* not run: in the reports, counted in the summary */
        report_end(&lv, &jobs[i], &o, 0);
    for (size_t i = 0; i < n; i++) {
        count[res[i].status]++;
        kept_failures |= (res[i].status == RUN_FAIL || res[i].status == RUN_ERROR) && res[i].kept;
    }
    rc = 0;
    if (interrupted)
        rc = 128 + interrupted;
    else if (malformed)
        rc = 2;
    else if (count[RUN_FAIL] || count[RUN_ERROR] || count[RUN_NOTRUN] ||
             (count[RUN_SKIP] && !o.allow_skip))
        rc = 1;
    if (run_report_close(lv.rep, res, n, rc, errbuf) < 0) {
        fprintf(stderr, "netrig run: %s\n", errbuf);
        rc = interrupted ? rc : 2;
    }
    lv.rep = NULL;
    if (o.html) {
        int64_t t = nr_now_ms();
        if (run_report_html(o.html, res, n, errbuf) < 0) {
            fprintf(stderr, "netrig run: %s\n", errbuf);
            rc = interrupted ? rc : 2;
        } else {
            fprintf(human, "html report: %s (written in %.2f s)\n", o.html,
                    (double)(nr_now_ms() - t) / 1000.0);
        }
    }
    fprintf(human, "\nscenarios: %zu passed, %zu failed, %zu errors, %zu skipped, %zu not run",
            count[RUN_PASS], count[RUN_FAIL], count[RUN_ERROR], count[RUN_SKIP],
            count[RUN_NOTRUN]);
    if (interrupted)
        fprintf(human, " (interrupted by SIG%s)", sigabbrev_np(interrupted));
    fputc('\n', human);
    if (count[RUN_SKIP] && !o.allow_skip)
        fprintf(human, "skipped scenarios fail the run (--allow-skip accepts them)\n");
    if (kept_failures && !o.keep)
        fprintf(human, "artifacts of failures: %s/\n", o.artifacts);
    rmdir(o.artifacts); /* only when empty: nothing was kept */
out:
    if (lv.rep) /* stopped before the end: the reports are closed as they stand */
        run_report_close(lv.rep, res, 0, rc, errbuf);
    for (size_t i = 0; i < n; i++) {
        if (!jobs[i].scn_shared)
            nr_scn_free(&jobs[i].scn);
        for (char **d = jobs[i].defines; d && *d; d++)
            free(*d);
        free(jobs[i].defines);
        free(res[i].name);
        free(res[i].path);
        free(res[i].artifacts);
        free(res[i].message);
    }
    free(jobs);
    free(res);
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    defines_free(&defs);
    return rc;
}
