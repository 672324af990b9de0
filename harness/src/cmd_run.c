/* cmd_run.c - `netrig run`: find scenario files, parse them all (nothing
 * runs if one is malformed), run each in a child process of its own, in its
 * own network namespace, up to -j at a time, and report. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmds.h"
#include "run.h"
#include "run_capture.h"

#define SCN_SUFFIX ".scn"
#define KILL_GRACE_MS 5000

struct job {
    struct nr_scn scn;
    struct run_result *res;
    pid_t pid;
    int pipe_fd;
    char *out;            /* result text from the child */
    size_t outlen;
    int64_t started, deadline;
    int exclusive;        /* binds a fixed port: alone when sharing the host */
};

static volatile sig_atomic_t interrupted;

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
            "  -k, --keep            keep artifacts of passing scenarios too\n"
            "  -a, --artifacts DIR   artifacts root (default netrig-artifacts)\n"
            "  -t, --timeout DUR     default per-step timeout for every file (e.g. 5s)\n"
            "  -d, --deadline DUR    whole-scenario deadline for every file\n"
            "      --time-scale X    multiply every timeout by X (slow or sanitizer builds)\n"
            "      --tap             TAP on stdout (human summary on stderr): version 14, or\n"
            "                        13 under prove (HARNESS_ACTIVE), which rejects 14\n"
            "      --junit FILE      JUnit XML report\n"
            "      --bin DIR         where target programs are looked up first\n"
            "                        (default: the directory of netrig itself)\n"
            "      --no-netns        do not create network namespaces; use host loopback\n"
            "      --no-capture      do not capture packets (wire steps are skipped)\n"
            "      --capture-buffer SIZE  kernel capture ring per scenario (e.g. 8M, 512K)\n"
            "      --allow-remote    permit non-loopback destinations\n"
            "  -v, --verbose         print the full step log of failing scenarios\n"
            "Exit status: 0 all passed, 1 some failed, 2 usage or malformed scenario.\n");
}

/* Parse "200ms", "2s", "1.5s", "2m". Returns ms or -1. */
static int parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        return v > INT_MAX ? -1 : (int)v;
    if (strcmp(end, "s") == 0 || *end == '\0')
        return v * 1000 > INT_MAX ? -1 : (int)(v * 1000);
    if (strcmp(end, "m") == 0)
        return v * 60000 > INT_MAX ? -1 : (int)(v * 60000);
    return -1;
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

/* Does a scenario bind a fixed port (listen, or a target's activation)?
 * In its own namespace that is safe; on the shared host loopback two such
 * scenarios could collide, so they then run one at a time. */
static int binds_fixed_port(const struct nr_steps *steps)
{
    for (size_t i = 0; i < steps->n; i++) {
        const struct nr_step *s = &steps->v[i];
        if ((s->kind == NR_S_LISTEN && fixed_port(&s->u.sock.addr)) ||
            (s->kind == NR_S_TARGET && s->u.target.activate && fixed_port(&s->u.target.act_addr)) ||
            ((s->kind == NR_S_PARALLEL || s->kind == NR_S_REPEAT) &&
             binds_fixed_port(&s->u.block.body)))
            return 1;
    }
    return 0;
}

/* ---- one scenario in a child ------------------------------------------ */

/* Artifact directory name: the scenario path with '/' turned into '_'. */
static char *artifact_dir(const char *root, const char *path, int rep)
{
    char *d, *p;

    if (asprintf(&d, "%s/%s%s%.0d", root, path, rep ? "#" : "", rep) < 0)
        return NULL;
    for (p = d + strlen(root) + 1; *p; p++)
        if (*p == '/')
            *p = '_';
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

static void rm_rf(const char *path)
{
    struct dirent *e;
    DIR *d = opendir(path);

    if (!d) {
        unlink(path);
        return;
    }
    while ((e = readdir(d))) {
        char sub[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}


/* Child side: isolate, run, write "<status>\n<message>" to fd, exit. */
static void child_run(const struct nr_scn *scn, const struct run_opts *o, const char *artdir,
                      int fd)
{
    char errbuf[NR_ERRBUF_SIZE], *msg = NULL, head[64];
    enum run_status st;
    int isolated = 0;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (!o->no_netns) {
        if (run_ns_enter(errbuf) == 0)
            isolated = 1;
        else
            fprintf(stderr, "netrig: no network namespace (%s): using host loopback\n", errbuf);
    }
    if (scn->needs_ipv6 && isolated) {
        int s = socket(AF_INET6, SOCK_STREAM, 0);
        if (s < 0) {
            snprintf(head, sizeof(head), "skip\nIPv6 unavailable: %s", strerror(errno));
            nr_write_all(fd, head, strlen(head), -1);
            _exit(0);
        }
        close(s);
    }
    st = run_scenario(scn, o, artdir, isolated, &msg);
    snprintf(head, sizeof(head), "%s\n", st == RUN_PASS ? "pass" : st == RUN_SKIP ? "skip" : "fail");
    nr_write_all(fd, head, strlen(head), -1);
    if (msg)
        nr_write_all(fd, msg, strlen(msg), -1);
    free(msg);
    _exit(0);
}

static int job_start(struct job *j, const struct run_opts *o)
{
    int p[2];
    int64_t deadline_ms = o->deadline_ms >= 0 ? o->deadline_ms : j->scn.deadline_ms;

    if (mkdir_p(j->res->artifacts) < 0) {
        fprintf(stderr, "netrig: cannot create %s: %s\n", j->res->artifacts, strerror(errno));
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    j->pid = fork();
    if (j->pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (j->pid == 0) {
        close(p[0]);
        child_run(&j->scn, o, j->res->artifacts, p[1]);
    }
    close(p[1]);
    j->pipe_fd = p[0];
    j->started = nr_now_ms();
    j->deadline = j->started + (int64_t)(deadline_ms * o->time_scale) + KILL_GRACE_MS;
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

/* Child finished (or was killed): fill in the result. */
static void job_finish(struct job *j, const struct run_opts *o, int killed)
{
    struct run_result *r = j->res;
    char status[64], *nl;
    int ws = 0;

    close(j->pipe_fd);
    if (killed)
        kill(-j->pid, SIGKILL), kill(j->pid, SIGKILL);
    while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    r->seconds = (double)(nr_now_ms() - j->started) / 1000.0;
    if (killed) {
        r->status = RUN_FAIL;
        if (asprintf(&r->message, "%s: scenario deadline exceeded: killed", r->path) < 0)
            r->message = NULL;
    } else if (!j->out || !(nl = strchr(j->out, '\n'))) {
        nr_status_str(ws, status, sizeof(status));
        r->status = RUN_FAIL;
        if (asprintf(&r->message, "%s: runner process ended with %s before reporting", r->path,
                     status) < 0)
            r->message = NULL;
    } else {
        *nl = '\0';
        r->status = strcmp(j->out, "pass") == 0 ? RUN_PASS
                    : strcmp(j->out, "skip") == 0 ? RUN_SKIP : RUN_FAIL;
        r->message = nl[1] ? strdup(nl + 1) : NULL;
    }
    free(j->out);
    j->out = NULL;
    if (r->status == RUN_PASS && !o->keep) {
        rm_rf(r->artifacts);
    }
}

/* ---- human output -------------------------------------------------------- */

static void print_result(FILE *f, const struct run_result *r, const struct run_opts *o)
{
    const char *word = r->status == RUN_PASS ? "PASS" : r->status == RUN_SKIP ? "SKIP" : "FAIL";
    const char *col = r->status == RUN_PASS ? "\033[32m" : r->status == RUN_SKIP ? "\033[33m"
                                                                                 : "\033[31m";

    fprintf(f, "%s%s%s  %-56s %6.2fs\n", o->color ? col : "", word, o->color ? "\033[0m" : "",
            r->name, r->seconds);
    if (r->status != RUN_PASS && r->message) {
        fprintf(f, "%s", r->message);
        if (r->message[0] && r->message[strlen(r->message) - 1] != '\n')
            fputc('\n', f);
    }
    if (r->status == RUN_FAIL) {
        fprintf(f, "  artifacts: %s\n", r->artifacts);
        if (o->verbose) {
            char cmd[PATH_MAX + 32];
            snprintf(cmd, sizeof(cmd), "cat '%s/steps.log' >&2", r->artifacts);
            fflush(f);
            if (system(cmd) < 0)
                perror("system");
        }
    }
}

/* ---- scheduling ------------------------------------------------------- */

static int run_jobs(struct job *jobs, size_t n, const struct run_opts *o, FILE *human)
{
    size_t next = 0, running = 0;
    int alone = 0; /* an exclusive job is running */
    struct pollfd *pf = calloc(n ? n : 1, sizeof(*pf));
    size_t *idx = calloc(n ? n : 1, sizeof(*idx));

    if (!pf || !idx) {
        free(pf);
        free(idx);
        return -1;
    }
    while ((next < n || running > 0) && !interrupted) {
        size_t np = 0;
        int64_t soonest = -1;
        while (next < n && running < (size_t)o->jobs && !alone) {
            int excl = o->no_netns && jobs[next].exclusive;
            if (excl && running > 0)
                break; /* wait until it can run alone */
            if (job_start(&jobs[next], o) < 0) {
                jobs[next].res->status = RUN_FAIL;
                jobs[next].res->message = strdup("cannot start the scenario process");
                jobs[next].pid = 0;
            } else {
                running++;
                alone = excl;
            }
            next++;
        }
        for (size_t i = 0; i < next; i++) {
            if (jobs[i].pid <= 0)
                continue;
            pf[np] = (struct pollfd){ .fd = jobs[i].pipe_fd, .events = POLLIN };
            idx[np++] = i;
            if (soonest < 0 || jobs[i].deadline < soonest)
                soonest = jobs[i].deadline;
        }
        if (np == 0)
            continue;
        if (poll(pf, np, nr_ms_left(soonest)) < 0 && errno != EINTR)
            break;
        for (size_t k = 0; k < np; k++) {
            struct job *j = &jobs[idx[k]];
            int done = 0, killed = 0;
            if (pf[k].revents)
                done = job_read(j);
            if (!done && nr_ms_left(j->deadline) == 0)
                done = killed = 1;
            if (done) {
                job_finish(j, o, killed);
                j->pid = 0;
                running--;
                if (j->exclusive)
                    alone = 0;
                print_result(human, j->res, o);
            }
        }
    }
    for (size_t i = 0; i < next; i++) /* interrupted: kill what still runs */
        if (jobs[i].pid > 0) {
            kill(-jobs[i].pid, SIGKILL);
            kill(jobs[i].pid, SIGKILL);
            waitpid(jobs[i].pid, NULL, 0);
            close(jobs[i].pipe_fd);
        }
    free(pf);
    free(idx);
    return 0;
}

/* ---- isolation probe ----------------------------------------------------- */

/* In a throwaway child: can we have a namespace, and capture in it?
 * Writes "ns:<reason>" or "cap:<reason>" to fd when not; nothing when yes. */
static void probe_child(const struct run_opts *o, int fd)
{
    char errbuf[NR_ERRBUF_SIZE], msg[NR_ERRBUF_SIZE + 8];
    struct run_capture *cap;
    struct run_capture_stats cs;

    if (run_ns_enter(errbuf) < 0) {
        snprintf(msg, sizeof(msg), "ns:%s", errbuf);
    } else if (o->no_capture) {
        _exit(0);
    } else if (run_capture_start("lo", "/dev/null", &cap, errbuf) < 0 ||
               run_capture_stop(cap, &cs, errbuf) < 0) {
        snprintf(msg, sizeof(msg), "cap:%s", errbuf);
    } else {
        _exit(0);
    }
    nr_write_all(fd, msg, strlen(msg), -1);
    _exit(0);
}

/* Find out once whether scenarios can be isolated and captured, and say
 * so once when they cannot. */
static void probe_isolation(struct run_opts *o)
{
    char msg[NR_ERRBUF_SIZE + 8] = "";
    int p[2], ws;
    ssize_t n;
    pid_t pid;

    if (o->no_netns || pipe2(p, O_CLOEXEC) < 0)
        return;
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        probe_child(o, p[1]);
    }
    close(p[1]);
    n = pid > 0 ? nr_read(p[0], msg, sizeof(msg) - 1) : -1;
    close(p[0]);
    if (pid > 0)
        waitpid(pid, &ws, 0);
    msg[n > 0 ? n : 0] = '\0';
    if (strncmp(msg, "ns:", 3) == 0) {
        fprintf(stderr, "netrig: network namespaces unavailable (%s): scenarios run on the host "
                        "loopback with ephemeral ports, without capture; scenarios with wire "
                        "steps are skipped\n", msg + 3);
        o->no_netns = 1;
    } else if (strncmp(msg, "cap:", 4) == 0) {
        fprintf(stderr, "netrig: packet capture unavailable (%s): no wire checks; scenarios "
                        "with wire steps are skipped\n", msg + 4);
        o->no_capture = 1;
    }
}

/* ---- main -------------------------------------------------------------- */

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
    return dir;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    enum { O_TAP = 256, O_JUNIT, O_BIN, O_NONETNS, O_REMOTE, O_SCALE, O_NOCAP, O_CAPBUF };
    static const struct option longopts[] = {
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
        { "help", no_argument, NULL, 'h' },           { 0 } };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int opt;

    *o = (struct run_opts){ .artifacts = "netrig-artifacts", .jobs = ncpu > 0 ? (int)ncpu : 1,
                            .repeat = 1, .timeout_ms = -1, .deadline_ms = -1, .time_scale = 1.0,
                            .bindir = default_bindir() };
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:f:r:ka:t:d:vh", longopts, NULL)) != -1) {
        switch (opt) {
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
        case O_BIN: o->bindir = optarg; break;
        case O_NONETNS: o->no_netns = 1; break;
        case O_NOCAP: o->no_capture = 1; break;
        case O_CAPBUF: if (!(o->capture_bytes = parse_size(optarg))) goto bad; break;
        case O_REMOTE: o->allow_remote = 1; break;
        case O_SCALE: o->time_scale = atof(optarg); if (o->time_scale <= 0) goto bad; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "netrig run: no scenario files or directories given\n");
        usage(stderr);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "netrig run: bad value for -%c: '%s'\n", opt, optarg);
    return -1;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct pathlist paths = { 0 };
    struct job *jobs = NULL;
    struct run_result *res = NULL;
    size_t n = 0, npass = 0, nfail = 0, nskip = 0;
    char errbuf[NR_ERRBUF_SIZE];
    FILE *human;
    int rc = 2, pr = parse_opts(argc, argv, &o);

    if (pr != 0)
        return pr > 0 ? 0 : 2;
    human = o.tap ? stderr : stdout;
    o.color = isatty(fileno(human)) && !getenv("NO_COLOR");
    for (int i = optind; i < argc; i++)
        if (collect(&paths, argv[i]) < 0)
            goto out;
    jobs = calloc(paths.n * (size_t)o.repeat + 1, sizeof(*jobs));
    res = calloc(paths.n * (size_t)o.repeat + 1, sizeof(*res));
    if (!jobs || !res)
        goto out;
    for (size_t i = 0; i < paths.n; i++) {
        struct nr_scn scn;
        if (!matches_filter(paths.v[i], o.filter))
            continue;
        if (nr_scn_load(paths.v[i], &scn, errbuf) < 0) {
            fprintf(stderr, "%s\n", errbuf);
            goto out; /* nothing runs when any scenario is malformed */
        }
        for (int k = 0; k < o.repeat; k++) {
            struct nr_scn copy;
            if (k == 0) {
                copy = scn;
            } else if (nr_scn_load(paths.v[i], &copy, errbuf) < 0) {
                fprintf(stderr, "%s\n", errbuf);
                goto out;
            }
            jobs[n].scn = copy;
            jobs[n].exclusive = binds_fixed_port(&copy.steps);
            jobs[n].res = &res[n];
            res[n].path = strdup(paths.v[i]);
            if (o.repeat > 1) {
                if (asprintf(&res[n].name, "%s #%d", paths.v[i], k + 1) < 0)
                    res[n].name = NULL;
            } else {
                res[n].name = strdup(paths.v[i]);
            }
            res[n].artifacts = artifact_dir(o.artifacts, paths.v[i], o.repeat > 1 ? k + 1 : 0);
            if (!res[n].path || !res[n].name || !res[n].artifacts)
                goto out;
            n++;
        }
    }
    if (n == 0) {
        fprintf(stderr, "netrig run: no scenarios to run\n");
        goto out;
    }
    probe_isolation(&o);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    run_jobs(jobs, n, &o, human);
    for (size_t i = 0; i < n; i++) {
        npass += res[i].status == RUN_PASS;
        nfail += res[i].status == RUN_FAIL;
        nskip += res[i].status == RUN_SKIP;
    }
    if (o.tap)
        run_report_tap(stdout, res, n);
    if (o.junit && run_report_junit(o.junit, res, n, errbuf) < 0)
        fprintf(stderr, "netrig: %s\n", errbuf);
    fprintf(human, "\nscenarios: %zu passed, %zu failed, %zu skipped%s\n", npass, nfail, nskip,
            interrupted ? " (interrupted)" : "");
    if (nfail && !o.keep)
        fprintf(human, "artifacts of failures: %s/\n", o.artifacts);
    rc = interrupted ? 130 : nfail ? 1 : 0;
out:
    for (size_t i = 0; i < n; i++) {
        nr_scn_free(&jobs[i].scn);
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
    return rc;
}
