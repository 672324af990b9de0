/* exec_target.c - target programs in a scenario: start (readiness line or
 * socket activation), exit status, stdout/stderr content, files they write,
 * and the end-of-scenario judgement (crashes, sanitizer reports, leaks). */
#define _GNU_SOURCE
#include "exec.h"
#include "nr_sockinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STOP_GRACE_MS 1000
#define SHOW_STDERR 2048
#define KILL_WAIT_MS 5000

static struct exec_target *find_target(struct exec_state *st, const char *name)
{
    for (size_t i = 0; i < st->ntargets; i++)
        if (strcmp(st->targets[i].name, name) == 0)
            return &st->targets[i];
    return NULL;
}

/* The activation socket the runner binds and hands over as fd 3. */
static int activation_socket(struct exec_ctx *c, const struct nr_step *s, int *fd)
{
    char errbuf[NR_ERRBUF_SIZE], *text = exec_expand(c, s, &s->u.target.act_addr, NULL);
    struct nr_addr a, local;
    int type = s->u.target.act_proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;

    if (!text)
        return -1;
    if (nr_addr_parse(text, &a, errbuf) < 0 ||
        (*fd = nr_bind_socket(&a, type, 128, errbuf)) < 0) {
        free(text);
        exec_fail(c, s, "activation socket: %s", errbuf);
        return -1;
    }
    free(text);
    if (nr_local_addr(*fd, &local, NULL) == 0) {
        char as[NR_ADDRSTR_SIZE];
        nr_addr_format((struct sockaddr *)&local.ss, as, sizeof(as));
        exec_setvar(c->st, s->name, as, strlen(as));
    }
    return 0;
}

/* Expand argv and env; returns 0 or -1.  Arrays are NULL-terminated. */
static int expand_all(struct exec_ctx *c, const struct nr_step *s, char ***argv, char ***env)
{
    size_t na = s->u.target.nargv, ne = s->u.target.nenv;

    *argv = calloc(na + 1, sizeof(char *));
    *env = calloc(ne + 1, sizeof(char *));
    if (!*argv || !*env)
        return -1;
    for (size_t i = 0; i < na; i++)
        if (!((*argv)[i] = exec_expand(c, s, &s->u.target.argv[i], NULL)))
            return -1;
    for (size_t i = 0; i < ne; i++)
        if (!((*env)[i] = exec_expand(c, s, &s->u.target.env[i], NULL)))
            return -1;
    return 0;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The signal that stops t: its `stop-signal`, else SIGTERM. */
static int stop_signal(const struct exec_target *t)
{
    return t->step->u.target.stop_sig ? t->step->u.target.stop_sig : SIGTERM;
}

/* "SIGTERM", or "signal 40" for a signal without a name. */
static const char *sig_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);

    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
    return buf;
}

/* Did the wait status end as e says (EXIT or SIGNAL)? */
static int end_matches(const struct nr_end *e, int status)
{
    if (e->kind == NR_END_SIGNAL)
        return WIFSIGNALED(status) && WTERMSIG(status) == e->code;
    return WIFEXITED(status) && WEXITSTATUS(status) == e->code;
}

/* Is the wait status in t's clean set, for a stop by signal sig?  The
 * default set is exit 0, exit 128+sig and death by sig; `clean` options
 * replace it. */
static int is_clean(const struct exec_target *t, int sig, int status)
{
    const struct nr_step *ts = t->step;

    if (ts->u.target.nclean == 0)
        return (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 128 + sig))
               || (WIFSIGNALED(status) && WTERMSIG(status) == sig);
    for (size_t i = 0; i < ts->u.target.nclean; i++)
        if (end_matches(&ts->u.target.clean[i], status))
            return 1;
    return 0;
}

/* Describe one outcome into buf: "exit 3", "SIGKILL". */
static const char *end_str(enum nr_end_kind kind, int code, char *buf, size_t len)
{
    if (kind == NR_END_SIGNAL)
        return sig_name(code, buf, len);
    snprintf(buf, len, "exit %d", code);
    return buf;
}

/* Describe t's clean set for a stop by sig into buf: "exit 0, exit 143 or
 * SIGTERM". */
static const char *clean_set_str(const struct exec_target *t, int sig, char *buf, size_t len)
{
    const struct nr_step *ts = t->step;
    size_t n = ts->u.target.nclean, o = 0;
    char one[32];

    if (n == 0) {
        snprintf(buf, len, "exit 0, exit %d or %s", 128 + sig, sig_name(sig, one, sizeof(one)));
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                              end_str(ts->u.target.clean[i].kind, ts->u.target.clean[i].code, one,
                                      sizeof(one)));
    return buf;
}

/* Read a whole file (bounded by cap) into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t cap, size_t *len, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf;
    size_t got = 0;
    ssize_t n;

    *err = 0;
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf && got < cap && (n = nr_read(fd, buf + got, cap - got)) > 0)
        got += (size_t)n;
    close(fd);
    if (buf)
        buf[got] = '\0';
    *len = got;
    return buf;
}

/* The last SHOW_STDERR bytes of t's stderr, after a header line. */
static void put_stderr_tail(FILE *f, const struct exec_target *t)
{
    uint8_t *buf;
    size_t len = 0;
    int err;

    fprintf(f, "  stderr (%s):\n", t->err);
    buf = slurp(t->err, 1u << 20, &len, &err);
    if (buf) {
        const char *from = (const char *)buf;
        if (len > SHOW_STDERR)
            from += len - SHOW_STDERR;
        fprintf(f, "%s%s\n", len > SHOW_STDERR ? "  ...\n" : "", from);
    }
    free(buf);
}

/* What a target waits for, in words, for messages. */
static void ready_what(const struct nr_step *s, const char *text, char *buf, size_t len)
{
    const char *stream = s->u.target.ready_stderr ? "stderr" : "stdout";

    switch (s->u.target.ready_kind) {
    case NR_READY_LINE:
        snprintf(buf, len, "a line starting with '%s' on %s", text, stream);
        break;
    case NR_READY_REGEX:
        snprintf(buf, len, "a match of /%s/ on %s", text, stream);
        break;
    case NR_READY_PORT:
        if (text[0])
            snprintf(buf, len, "a listening socket on port %s", text);
        else
            snprintf(buf, len, "a listening socket of its own");
        break;
    case NR_READY_FILE:
        snprintf(buf, len, "the file %s", text);
        break;
    }
}

/* One look for a readiness condition other than a line.  Returns 1 ready
 * (*value set, malloc'd), 0 not yet, -1 after exec_fail. */
static int ready_poll(struct exec_ctx *c, const struct nr_step *s, struct exec_target *t,
                      const char *text, const regex_t *re, char **value)
{
    char errbuf[NR_ERRBUF_SIZE], addr[NR_ADDRSTR_SIZE];
    struct stat sb;
    regmatch_t m[2];
    uint8_t *buf;
    size_t len = 0;
    int err, r;

    switch (s->u.target.ready_kind) {
    case NR_READY_REGEX:
        buf = slurp(s->u.target.ready_stderr ? t->err : t->out, 16u << 20, &len, &err);
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)len;
        r = buf && regexec(re, (const char *)buf, 2, m, REG_STARTEND) == 0;
        if (r) {
            int g = re->re_nsub >= 1 && m[1].rm_so >= 0 ? 1 : 0;
            *value = strndup((const char *)buf + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
        }
        free(buf);
        return r;
    case NR_READY_PORT:
        r = nr_sock_find_server(text[0] ? atoi(text) : 0, t->proc.pid, addr, sizeof(addr), errbuf);
        if (r < 0) {
            exec_fail(c, s, "%s", errbuf);
            return -1;
        }
        if (r)
            *value = strdup(addr);
        return r;
    case NR_READY_FILE:
        if (stat(text, &sb) < 0)
            return 0;
        *value = strdup("");
        return 1;
    case NR_READY_LINE:
        break;
    }
    return 0;
}

/* Wait for the target's readiness condition (step timeout, or `within`):
 * sets ${NAME}; a target that ends first fails the step at once with its
 * status and stderr tail. */
static int wait_ready(struct exec_ctx *c, const struct nr_step *s, struct exec_target *t)
{
    enum nr_ready_kind kind = s->u.target.ready_kind;
    char line[512], *text = NULL, *value = NULL, status[64], what[640];
    int64_t started = nr_now_ms();
    int r = 0, budget = exec_wait_budget(c, s, started), have_re = 0;
    size_t tlen;
    regex_t re;
    FILE *f;

    if (s->u.target.ready.nsegs > 0)
        text = exec_expand(c, s, &s->u.target.ready, &tlen);
    else
        text = strdup(kind == NR_READY_LINE ? "listening on " : "");
    if (!text)
        return -1;
    if (kind == NR_READY_REGEX) {
        if (regcomp(&re, text, REG_EXTENDED | REG_NEWLINE) != 0) {
            exec_fail(c, s, "bad regex /%s/", text);
            free(text);
            return -1;
        }
        have_re = 1;
    }
    if (kind == NR_READY_LINE) {
        r = nr_wait_file_line(s->u.target.ready_stderr ? t->err : t->out, text, line,
                              sizeof(line), &t->proc, budget);
        if (r == 1 && !(value = strdup(line + strlen(text))))
            r = -2;
    } else {
        /* poll: the program may write, bind or create at any moment */
        while ((r = ready_poll(c, s, t, text, have_re ? &re : NULL, &value)) == 0) {
            if (nr_proc_wait(&t->proc, 0) == 1) {
                r = ready_poll(c, s, t, text, have_re ? &re : NULL, &value) == 1 ? 1 : -1;
                break;
            }
            if (exec_wait_budget(c, s, started) == 0)
                break;
            poll(NULL, 0, 5);
        }
        if (r == -1 && c->fail)
            r = -2; /* ready_poll failed the step */
    }
    if (r == 1) {
        exec_setvar(c->st, s->name, value, strlen(value));
    } else if (r != -2 && (f = exec_fail_begin(c, s))) {
        ready_what(s, text, what, sizeof(what));
        if (r == 0) {
            fprintf(f, "  '%s' not ready within %d ms (waiting for %s)\n", t->name, budget, what);
        } else {
            nr_status_str(t->proc.status, status, sizeof(status));
            fprintf(f, "  '%s' ended (%s) before it was ready (waiting for %s)\n", t->name,
                    status, what);
        }
        put_stderr_tail(f, t);
        exec_fail_end(c);
    }
    if (r < 0 && nr_proc_wait(&t->proc, 0) == 1)
        t->status_checked = 1; /* this step reported its end */
    if (have_re)
        regfree(&re);
    free(text);
    free(value);
    return r == 1 ? 0 : -1;
}

int exec_target_start(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_state *st = c->st;
    char errbuf[NR_ERRBUF_SIZE], **argv = NULL, **env = NULL, *cwd = NULL;
    struct exec_target *t;
    int actfd = -1, r = -1;

    if (find_target(st, s->name) || st->ntargets == EXEC_MAX_TARGETS) {
        exec_fail(c, s, "target '%s' already started, or more than %d targets", s->name,
                  EXEC_MAX_TARGETS);
        return -1;
    }
    if (s->u.target.activate && activation_socket(c, s, &actfd) < 0)
        return -1;
    if (expand_all(c, s, &argv, &env) < 0) {
        exec_fail(c, s, "cannot expand the command line");
        goto out;
    }
    t = &st->targets[st->ntargets];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", s->name);
    snprintf(t->out, sizeof(t->out), "%s/%s.stdout", st->artdir, s->name);
    snprintf(t->err, sizeof(t->err), "%s/%s.stderr", st->artdir, s->name);
    t->line = s->line;
    t->step = s;
    if (s->u.target.cwd.nsegs > 0 && !(cwd = exec_expand(c, s, &s->u.target.cwd, NULL)))
        goto out;
    struct nr_spawn sp = { .argv = argv, .env_extra = env,
                           .bindir = st->progdirs ? st->progdirs : st->o->bindir, .cwd = cwd,
                           .stdout_path = t->out, .stderr_path = t->err, .activation_fd = actfd };
    if (nr_proc_spawn(&sp, &t->proc, errbuf) < 0) {
        exec_fail(c, s, "%s", errbuf);
        goto out;
    }
    st->ntargets++;
    exec_log(st, "started %s (pid %d): %s", t->name, (int)t->proc.pid, argv[0]);
    r = 0;
    if (!s->u.target.nowait && (!s->u.target.activate || s->u.target.ready.nsegs > 0 ||
                                s->u.target.ready_kind != NR_READY_LINE))
        r = wait_ready(c, s, t);
out:
    free(cwd);
    if (actfd >= 0)
        close(actfd);
    free_strv(argv);
    free_strv(env);
    return r;
}

int exec_target_exit(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_target *t = find_target(c->st, s->name);
    const struct nr_end *want = &s->u.exit.expect;
    char status[64], sb[32], set[160];
    int r, budget, sig, ok;
    FILE *f;

    if (!t) {
        exec_fail(c, s, "no target named '%s'", s->name);
        return -1;
    }
    sig = s->u.exit.sig ? s->u.exit.sig : stop_signal(t);
    if (s->kind == NR_S_STOP) {
        nr_proc_signal_main(&t->proc, sig);
        exec_log(c->st, "sent %s to %s", sig_name(sig, sb, sizeof(sb)), t->name);
    }
    budget = exec_wait_budget(c, s, nr_now_ms());
    r = nr_proc_wait(&t->proc, budget);
    if (r != 1) {
        exec_fail(c, s, "'%s' still running after %d ms%s%s", t->name, budget,
                  s->kind == NR_S_STOP ? " of " : "",
                  s->kind == NR_S_STOP ? sig_name(sig, sb, sizeof(sb)) : "");
        return -1;
    }
    t->status_checked = 1;
    ok = want->kind == NR_END_CLEAN ? is_clean(t, sig, t->proc.status)
                                    : end_matches(want, t->proc.status);
    if (ok)
        return 0;
    f = exec_fail_begin(c, s);
    if (f) {
        nr_status_str(t->proc.status, status, sizeof(status));
        if (want->kind == NR_END_CLEAN)
            fprintf(f, "  '%s' ended with %s, expected a clean end (%s)\n", t->name, status,
                    clean_set_str(t, sig, set, sizeof(set)));
        else
            fprintf(f, "  '%s' ended with %s, expected %s\n", t->name, status,
                    end_str(want->kind, want->code, set, sizeof(set)));
        put_stderr_tail(f, t);
    }
    exec_fail_end(c);
    return -1;
}

/* Match content against an output/file expectation: BYTES means "contains"
 * for outputs and "equals" for files; REGEX searches. Returns 1 on match. */
static int content_matches(struct exec_ctx *c, const struct nr_step *s, const struct nr_match *m,
                           const uint8_t *buf, size_t len, int whole, uint8_t **exp_out,
                           size_t *exp_len)
{
    if (m->kind == NR_M_REGEX) {
        char *pat = exec_expand(c, s, &m->text, NULL);
        regex_t re;
        regmatch_t rm = { .rm_so = 0, .rm_eo = (regoff_t)len };
        int ok = 0;
        if (!pat)
            return -1;
        if (regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE) != 0) {
            exec_fail(c, s, "bad regex /%s/", pat);
            free(pat);
            return -1;
        }
        ok = regexec(&re, (const char *)buf, 1, &rm, REG_STARTEND) == 0;
        regfree(&re);
        free(pat);
        return ok;
    }
    if (m->kind == NR_M_BYTES) {
        struct exec_gen g;
        uint8_t *exp;
        int ok;
        if (exec_gen_init(c, s, &m->payload, &g) < 0)
            return -1;
        exp = malloc(g.total + 1);
        if (!exp) {
            exec_gen_free(&g);
            return -1;
        }
        exec_gen_fill(&g, 0, exp, (size_t)g.total);
        ok = whole ? g.total == len && memcmp(exp, buf, len) == 0
                   : g.total == 0 || memmem(buf, len, exp, (size_t)g.total) != NULL;
        *exp_out = exp;
        *exp_len = (size_t)g.total;
        exec_gen_free(&g);
        return ok;
    }
    exec_fail(c, s, "only bytes or /regex/ can be matched here");
    return -1;
}

#define OUTPUT_CAP (16u << 20)

int exec_target_output(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_target *t = find_target(c->st, s->name);
    int64_t started = nr_now_ms();
    uint8_t *buf = NULL, *exp = NULL;
    size_t len = 0, elen = 0;
    int ok = 0, err;

    if (!t) {
        exec_fail(c, s, "no target named '%s'", s->name);
        return -1;
    }
    for (;;) { /* output may still be on its way: poll until it matches */
        free(buf);
        free(exp);
        exp = NULL;
        buf = slurp(s->u.output.is_stderr ? t->err : t->out, OUTPUT_CAP, &len, &err);
        ok = buf ? content_matches(c, s, &s->u.output.match, buf, len, 0, &exp, &elen) : 0;
        if (ok != 0 || exec_wait_budget(c, s, started) == 0 || nr_proc_wait(&t->proc, 0) == 1)
            break;
        poll(NULL, 0, 10);
    }
    if (ok == 0) {
        FILE *f = exec_fail_begin(c, s);
        if (f) {
            fprintf(f, "  %s of '%s' (%zu bytes) does not contain the expected %s\n",
                    s->u.output.is_stderr ? "stderr" : "stdout", t->name, len,
                    s->u.output.match.kind == NR_M_REGEX ? "pattern" : "bytes");
            if (exp)
                run_hexdiff(f, 0, exp, elen, buf ? buf : (const uint8_t *)"",
                            len > 512 ? 512 : len);
        }
        exec_fail_end(c);
    }
    free(buf);
    free(exp);
    return ok == 1 ? 0 : -1;
}

int exec_file(struct exec_ctx *c, const struct nr_step *s)
{
    char *path = exec_expand(c, s, &s->u.file.path, NULL);
    int64_t started = nr_now_ms();
    uint8_t *buf = NULL, *exp = NULL;
    size_t len = 0, elen = 0;
    struct stat sb;
    int ok = -1, err = 0;

    if (!path)
        return -1;
    if (s->u.file.absent) {
        if (stat(path, &sb) == 0)
            exec_fail(c, s, "%s exists (%lld bytes) but must be absent", path,
                      (long long)sb.st_size);
        else
            ok = 1;
        goto out;
    }
    for (;;) { /* a target may still be writing it: poll until it matches */
        free(buf);
        free(exp);
        exp = NULL;
        buf = slurp(path, OUTPUT_CAP, &len, &err);
        ok = buf ? content_matches(c, s, &s->u.file.match, buf, len, 1, &exp, &elen) : 0;
        if (ok != 0 || exec_wait_budget(c, s, started) == 0)
            break;
        poll(NULL, 0, 10);
    }
    if (!buf) {
        exec_fail(c, s, "%s: %s", path, strerror(err));
    } else if (ok == 0) {
        FILE *f = exec_fail_begin(c, s);
        if (f) {
            fprintf(f, "  %s (%zu bytes) differs from what was expected\n", path, len);
            if (exp)
                run_hexdiff(f, 0, exp, elen, buf, len);
        }
        exec_fail_end(c);
    }
out:
    free(path);
    free(buf);
    free(exp);
    return ok == 1 ? 0 : -1;
}

/* Sanitizer or crash report in a target's stderr? */
static const char *sanitizer_report(const uint8_t *buf, size_t len)
{
    static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error:", "ERROR: ThreadSanitizer",
                                         "WARNING: ThreadSanitizer" };
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (memmem(buf, len, marks[i], strlen(marks[i])))
            return marks[i];
    return NULL;
}

static void fail_target(struct exec_ctx *c, struct exec_target *t, const char *what)
{
    FILE *f = exec_fail_begin(c, NULL);

    if (!f)
        return;
    fprintf(f, "  target '%s' (line %u): %s\n", t->name, t->line, what);
    put_stderr_tail(f, t);
    exec_fail_end(c);
}

/* Judge how target t ended; running: it was still running at the end and
 * got its stop signal; stopped: it then exited within the grace period. */
/* Judge how a target ended.  alive: it still ran when the steps ended;
 * signalled: it still ran at the teardown and got its stop signal;
 * stopped: it ended within the grace period. */
static void judge_end(struct exec_ctx *c, struct exec_target *t, int alive, int signalled,
                      int stopped, int grace_ms)
{
    char status[64], what[512], sb[32], set[160];
    uint8_t *err;
    size_t len = 0;
    int e, sig = stop_signal(t);
    const char *mark;

    if (t->proc.reaped)
        nr_status_str(t->proc.status, status, sizeof(status));
    else
        snprintf(status, sizeof(status), "not reaped");
    err = slurp(t->err, 1u << 20, &len, &e);
    mark = err ? sanitizer_report(err, len) : NULL;
    free(err);
    if (mark)
        snprintf(what, sizeof(what), "sanitizer report (%s), %s", mark, status);
    else if (!alive && !t->status_checked)
        snprintf(what, sizeof(what),
                 "%s%s before the end of the scenario, and no 'exit' or 'stop' step expected it",
                 WIFSIGNALED(t->proc.status) ? "crashed: " : "ended by itself with ", status);
    else if (signalled && !stopped)
        snprintf(what, sizeof(what), "did not stop within %d ms of %s: killed", grace_ms,
                 sig_name(sig, sb, sizeof(sb)));
    else if (alive && !t->status_checked && !is_clean(t, sig, t->proc.status))
        snprintf(what, sizeof(what), "ended with %s %s %s at the end of the scenario (clean: %s)",
                 status, signalled ? "after" : "before", sig_name(sig, sb, sizeof(sb)),
                 clean_set_str(t, sig, set, sizeof(set)));
    else
        return;
    fail_target(c, t, what);
}

int exec_targets_finish(struct exec_ctx *c)
{
    struct exec_state *st = c->st;
    int running[EXEC_MAX_TARGETS], stopped[EXEC_MAX_TARGETS];
    int grace = (int)(STOP_GRACE_MS * st->o->time_scale);
    int64_t deadline;
    char sb[32];

    /* targets that ended by themselves are judged as they are */
    for (size_t i = 0; i < st->ntargets; i++)
        running[i] = nr_proc_wait(&st->targets[i].proc, 0) != 1;
    /* every other one gets its stop signal at once, then one shared grace period */
    for (size_t i = 0; i < st->ntargets; i++)
        if (running[i]) {
            nr_proc_signal_main(&st->targets[i].proc, stop_signal(&st->targets[i]));
            exec_log(st, "sent %s to %s at the end",
                     sig_name(stop_signal(&st->targets[i]), sb, sizeof(sb)),
                     st->targets[i].name);
        }
    deadline = nr_now_ms() + grace;
    for (size_t i = 0; i < st->ntargets; i++)
        stopped[i] = !running[i] || nr_proc_wait(&st->targets[i].proc, nr_ms_left(deadline)) == 1;
    /* only where the main process itself did not exit is its group killed; the
     * children of one that did exit finish their own shutdown */
    for (size_t i = 0; i < st->ntargets; i++)
        if (!stopped[i] && !nr_proc_kill(&st->targets[i].proc, KILL_WAIT_MS))
            exec_log(st, "%s not reaped %d ms after SIGKILL", st->targets[i].name,
                     KILL_WAIT_MS);
    for (size_t i = 0; i < st->ntargets; i++) {
        struct exec_target *t = &st->targets[i];
        char status[64];

        nr_proc_release(&t->proc);
        nr_status_str(t->proc.status, status, sizeof(status));
        exec_log(st, "%s ended: %s%s", t->name, t->proc.reaped ? status : "not reaped",
                 !running[i] ? "" : stopped[i] ? " (stopped at end)" : " (killed at end)");
        judge_end(c, t, running[i] || t->alive_at_end, running[i], stopped[i], grace);
    }
    return c->fail ? -1 : 0;
}

void exec_targets_note_end(struct exec_state *st)
{
    for (size_t i = 0; i < st->ntargets; i++)
        st->targets[i].alive_at_end = nr_proc_wait(&st->targets[i].proc, 0) != 1;
}
