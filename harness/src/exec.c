/* exec.c - the scenario executor's top: step dispatch, `parallel` and
 * `repeat` blocks, the watchdog, and run_scenario, the entry point for one
 * isolated scenario run (capture, steps, teardown, the wire judgement).
 * It calls the step modules and the services of exec_ctx.c; nothing calls
 * back into it but cmd_run.c. */
#define _GNU_SOURCE
#include "exec.h"
#include "run_capture.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_MARGIN_MS 1000  /* after the deadline, before the watchdog reports */
#define STRAGGLER_GRACE_MS 1000  /* for processes the targets left, after SIGTERM */

static int exec_steps(struct exec_ctx *c, const struct nr_steps *steps);

/* ---- blocks ------------------------------------------------------------ */

struct instance {
    struct exec_ctx ctx;
    const struct nr_steps *body;
    pthread_t thread;
    int started;
};

static void ctx_init(struct exec_ctx *c, struct exec_state *st, struct exec_ctx *outer,
                     long index, int in_parallel)
{
    memset(c, 0, sizeof(*c));
    c->st = st;
    c->outer = outer;
    c->index = index;
    c->in_parallel = in_parallel;
}

static void *instance_main(void *arg)
{
    struct instance *in = arg;

    exec_steps(&in->ctx, in->body);
    exec_conns_free(&in->ctx);
    return NULL;
}

/* Move the first failure among instances into c. */
static void adopt_failure(struct exec_ctx *c, struct exec_ctx *child)
{
    if (child->fail && !c->fail) {
        c->fail = child->fail;
        child->fail = NULL;
    }
    free(child->fail);
    child->fail = NULL;
}

static int run_parallel(struct exec_ctx *c, const struct nr_step *s)
{
    unsigned n = s->u.block.count;
    struct instance *in = calloc(n ? n : 1, sizeof(*in));
    int rc = 0;

    if (!in) {
        exec_fail(c, s, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        ctx_init(&in[i].ctx, c->st, NULL, (long)i, 1);
        in[i].body = &s->u.block.body;
        if (pthread_create(&in[i].thread, NULL, instance_main, &in[i]) != 0) {
            exec_fail(c, s, "cannot start instance %u of %u: %s", i, n, strerror(errno));
            rc = -1;
            break;
        }
        in[i].started = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!in[i].started)
            continue;
        pthread_join(in[i].thread, NULL);
        adopt_failure(c, &in[i].ctx);
    }
    free(in);
    return c->fail || rc ? -1 : 0;
}

static int run_repeat(struct exec_ctx *c, const struct nr_step *s)
{
    for (unsigned i = 0; i < s->u.block.count && !c->fail; i++) {
        struct exec_ctx child;
        ctx_init(&child, c->st, c, (long)i, c->in_parallel);
        exec_steps(&child, &s->u.block.body);
        exec_conns_free(&child);
        adopt_failure(c, &child);
    }
    return c->fail ? -1 : 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static int sleep_step(struct exec_ctx *c, const struct nr_step *s)
{
    int64_t ms = s->u.sleep.ms;
    int left = nr_ms_left(c->st->deadline);
    struct timespec ts;

    if (ms > left) {
        exec_fail(c, s, "sleep would pass the scenario deadline");
        return -1;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

/* The value `netrig run -D NAME=VALUE` gives a param, or NULL. */
static const char *param_override(const struct exec_state *st, const char *name)
{
    size_t n = strlen(name);

    for (char *const *d = st->o->defines; d && *d; d++)
        if (strncmp(*d, name, n) == 0 && (*d)[n] == '=')
            return *d + n + 1;
    return NULL;
}

static int set_step(struct exec_ctx *c, const struct nr_step *s)
{
    const char *given = s->u.set.is_param ? param_override(c->st, s->name) : NULL;
    size_t len;
    char *v = given ? strdup(given) : exec_expand(c, s, &s->u.set.value, &len);
    int r;

    if (given && v)
        len = strlen(v);
    if (!v) {
        if (given)
            exec_fail(c, s, "out of memory");
        return -1;
    }
    if (given)
        exec_log(c->st, "param %s = %s (-D)", s->name, given);
    r = exec_setvar(c->st, s->name, v, len);
    free(v);
    if (r < 0)
        exec_fail(c, s, "out of memory");
    return r;
}

static int connect_step(struct exec_ctx *c, const struct nr_step *s)
{
    return exec_connect(c, s) < 0 ? -1 : exec_proxy_connected(c, s);
}

static int close_step(struct exec_ctx *c, const struct nr_step *s)
{
    return exec_close(c, s, 0);
}

static int abort_step(struct exec_ctx *c, const struct nr_step *s)
{
    return exec_close(c, s, 1);
}

/* Every kind of step: the function that runs it (in its module), and
 * whether it may run inside a parallel block.  A new step is a row here. */
static const struct {
    int (*run)(struct exec_ctx *c, const struct nr_step *s);
    int not_in_parallel;
} step_table[] = {
    [NR_S_TARGET] = { exec_target_start, 1 },
    [NR_S_EXIT] = { exec_target_exit, 1 },
    [NR_S_STOP] = { exec_target_exit, 1 },
    [NR_S_OUTPUT] = { exec_target_output, 0 },
    [NR_S_FILE] = { exec_file, 0 },
    [NR_S_CONNECT] = { connect_step, 0 },
    [NR_S_LISTEN] = { exec_listen, 0 },
    [NR_S_ACCEPT] = { exec_accept, 0 },
    [NR_S_SEND] = { exec_send, 0 },
    [NR_S_EXPECT] = { exec_expect, 0 },
    [NR_S_SHUTDOWN] = { exec_shutdown, 0 },
    [NR_S_CLOSE] = { close_step, 0 },
    [NR_S_ABORT] = { abort_step, 0 },
    [NR_S_SLEEP] = { sleep_step, 0 },
    [NR_S_SET] = { set_step, 1 },
    [NR_S_PARALLEL] = { run_parallel, 0 },
    [NR_S_REPEAT] = { run_repeat, 0 },
    [NR_S_WIRE] = { exec_wire_note, 0 }, /* judged after the capture is complete */
    [NR_S_PROXY] = { exec_proxy_start, 1 },
    [NR_S_FAULT] = { exec_proxy_fault, 0 },
    [NR_S_LEDGER] = { exec_proxy_ledger, 0 },
};

static int exec_step(struct exec_ctx *c, const struct nr_step *s)
{
    if ((size_t)s->kind >= sizeof(step_table) / sizeof(step_table[0]) || !step_table[s->kind].run) {
        exec_fail(c, s, "unknown step kind %d", (int)s->kind);
        return -1;
    }
    if (step_table[s->kind].not_in_parallel && c->in_parallel) {
        exec_fail(c, s, "this step is not allowed inside a parallel block");
        return -1;
    }
    return step_table[s->kind].run(c, s);
}

/* A step that ended after the scenario's deadline: the deadline is why a
 * failed wait gave up (say so), and a step that only completed after it
 * fails. */
static void deadline_note(struct exec_ctx *c, const struct nr_step *s, int r)
{
    char *joined;

    if (r == 0) {
        exec_fail(c, s, "scenario deadline (%s) exceeded during this step", c->st->deadline_text);
        return;
    }
    if (!c->fail || c->fstream || strstr(c->fail, "scenario deadline"))
        return;
    if (asprintf(&joined, "%s  (the scenario deadline of %s had passed: it cut this wait)\n",
                 c->fail, c->st->deadline_text) >= 0) {
        free(c->fail);
        c->fail = joined;
    }
}

static int exec_steps(struct exec_ctx *c, const struct nr_steps *steps)
{
    for (size_t i = 0; i < steps->n && !c->fail; i++) {
        const struct nr_step *s = &steps->v[i];
        int64_t t = exec_log_us(c->st);
        int r;

        if (exec_deadline_passed(c)) {
            exec_fail(c, s, "scenario deadline (%s) exceeded before this step", c->st->deadline_text);
            break;
        }
        atomic_store(&c->st->current, s);
        c->seq = steps;
        c->seq_at = i;
        r = exec_step(c, s);
        if (exec_deadline_passed(c))
            deadline_note(c, s, r);
        if (s->kind != NR_S_PARALLEL && s->kind != NR_S_REPEAT)
            exec_log(c->st, "%s%u: %s  [%s, %.3f ms]", c->index >= 0 ? "  " : "", s->line,
                     exec_step_text(s), r == 0 ? "ok" : "FAILED", (double)(exec_log_us(c->st) - t) / 1e3);
    }
    return c->fail ? -1 : 0;
}

/* ---- scenario lifecycle -------------------------------------------------- */

/* ${tmp} and ${dir} as absolute paths (a target may resolve relative ones
 * against its own directory), and where programs are looked up. */
static void scenario_paths(struct exec_state *st, const char *artdir)
{
    char *abs = realpath(artdir, NULL), *copy = strdup(st->scn->path), *sdir;

    snprintf(st->tmpdir, sizeof(st->tmpdir), "%s/tmp", abs ? abs : artdir);
    mkdir(st->tmpdir, 0755);
    free(abs);
    abs = copy ? realpath(dirname(copy), NULL) : NULL;
    sdir = abs ? abs : ".";
    snprintf(st->scndir, sizeof(st->scndir), "%s", sdir);
    if (asprintf(&st->progdirs, "%s:%s", st->scndir, st->o->bindir) < 0)
        st->progdirs = NULL;
    free(abs);
    free(copy);
}

static void state_free(struct exec_state *st)
{
    for (size_t i = 0; i < st->nrecords; i++) {
        free(st->records[i].dg_sent);
        free(st->records[i].dg_recv);
    }
    free(st->records);
    free(st->wires);
    for (size_t i = 0; i < st->nvars; i++)
        free(st->vars[i].val);
    free(st->vars);
    free(st->progdirs);
    if (st->log)
        fclose(st->log);
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->wd_lock);
    pthread_cond_destroy(&st->wd_cond);
}

/* 1 for a `wire` step (a claim on the capture), at any depth. */
static int is_wire_step(const struct nr_step *s, unsigned depth, unsigned when, void *arg)
{
    (void)depth;
    (void)when;
    (void)arg;
    return s->kind == NR_S_WIRE;
}

static int is_proxy_step(const struct nr_step *s, unsigned depth, unsigned when, void *arg)
{
    (void)depth;
    (void)when;
    (void)arg;
    return s->kind == NR_S_PROXY;
}

/* Start capturing into artdir/capture.pcap when isolated.  When capture is
 * impossible a scenario that asserts on packets is skipped (*skip set). */
static struct run_capture *start_capture(struct exec_state *st, const char *path, char **skip)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct run_capture *cap = NULL;

    *skip = NULL;
    if (st->o->no_capture)
        snprintf(errbuf, sizeof(errbuf), "capture disabled (--no-capture)");
    else if (!st->isolated)
        snprintf(errbuf, sizeof(errbuf), "no own network namespace to capture in");
    else {
        size_t ring = st->o->capture_bytes ? st->o->capture_bytes : RUN_CAPTURE_RING_DEFAULT;
        if (run_capture_start_sized("lo", path, ring, &cap, errbuf) == 0) {
            exec_log(st, "capturing on lo into %s (kernel ring %zu KiB)", path, ring >> 10);
            return cap;
        }
    }
    exec_log(st, "no capture: %s", errbuf);
    if (nr_steps_walk(&st->scn->steps, NR_WALK_BEFORE, is_wire_step, NULL) &&
        asprintf(skip, "packet capture unavailable: %s", errbuf) < 0)
        *skip = NULL;
    return NULL;
}

/* Finish the capture; dropped packets or an undrained ring fail the run.
 * Returns 0 when the capture file is complete evidence. */
static int stop_capture(struct exec_ctx *c, struct run_capture *cap)
{
    struct run_capture_stats cs;
    struct rusage ru;
    char errbuf[NR_ERRBUF_SIZE];

    if (run_capture_stop(cap, &cs, errbuf) < 0) {
        exec_fail(c, NULL, "capture incomplete: %s", errbuf);
        return -1;
    }
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        ru.ru_maxrss = 0;
    exec_log(c->st, "capture: %llu packets, %llu dropped by the kernel; peak RSS so far %ld KiB",
             (unsigned long long)cs.packets, (unsigned long long)cs.kernel_drops, ru.ru_maxrss);
    if (cs.kernel_drops > 0) {
        size_t ring = c->st->o->capture_bytes ? c->st->o->capture_bytes : RUN_CAPTURE_RING_DEFAULT;
        exec_fail(c, NULL, "capture lost %llu packets (kernel drops): no verdict on partial evidence "
                  "(the capture could not keep up with a %zu KiB kernel ring: --capture-buffer "
                  "sets a larger one)", (unsigned long long)cs.kernel_drops, ring >> 10);
        return -1;
    }
    return 0;
}

/* ---- watchdog ------------------------------------------------------------ */

/* A step that does not return (a wait the deadline cannot reach) would let
 * netrig kill the scenario's process with nothing said.  The watchdog
 * reports it first: at the deadline plus a margin, if the steps have not
 * finished, it names the step, completes the step log and the capture,
 * sends the verdict, stops every process of the scenario and exits. */
static void *watchdog_main(void *arg)
{
    struct exec_state *st = arg;
    struct timespec ts;
    const struct nr_step *s;
    char *msg = NULL, seed[128] = "";
    int killed;
    int64_t at = st->deadline + (int64_t)(WATCHDOG_MARGIN_MS * st->o->time_scale);

    ts.tv_sec = (time_t)(at / 1000);
    ts.tv_nsec = (long)(at % 1000) * 1000000L;
    pthread_mutex_lock(&st->wd_lock);
    while (!st->steps_done)
        if (pthread_cond_timedwait(&st->wd_cond, &st->wd_lock, &ts) == ETIMEDOUT)
            break;
    if (st->steps_done) {
        pthread_mutex_unlock(&st->wd_lock);
        return NULL;
    }
    /* Fired; holding wd_lock keeps the steps' thread out of the teardown. */
    atomic_store(&st->pace_cap, NULL);
    s = atomic_load(&st->current);
    /* the seed, as every failure of a scenario with fault proxies says it */
    if (nr_steps_walk(&st->scn->steps, NR_WALK_BEFORE, is_proxy_step, NULL))
        snprintf(seed, sizeof(seed), "  (fault proxies' seed %llu: netrig run --seed %llu "
                 "replays their choices)\n", (unsigned long long)st->seed,
                 (unsigned long long)st->seed);
    if (asprintf(&msg, "%s:%u: %s\n  scenario deadline (%s) exceeded: this step was still "
                       "running %lld ms after it, so the scenario was stopped\n%s",
                 s ? exec_step_file(st, s) : st->scn->path, s ? s->line : 0,
                 s ? exec_step_text(s) : "(before the first step)",
                 st->deadline_text, (long long)(nr_now_ms() - st->deadline), seed) < 0)
        msg = NULL;
    exec_log(st, "watchdog: %s", msg ? msg : "scenario deadline exceeded");
    if (st->capture) {
        struct run_capture_stats cs;
        char errbuf[NR_ERRBUF_SIZE];
        if (run_capture_stop(st->capture, &cs, errbuf) == 0)
            exec_log(st, "capture: %llu packets, %llu dropped by the kernel (until the watchdog)",
                     (unsigned long long)cs.packets, (unsigned long long)cs.kernel_drops);
        else
            exec_log(st, "capture: %s", errbuf);
        st->capture = NULL;
    }
    run_ns_reap_all(0, &killed);
    exec_log(st, "FAILED");
    run_result_send(st->result_fd, RUN_FAIL, msg);
    _exit(0);
}

/* Tell the watchdog the steps are done (the teardown bounds itself); waits
 * if it has fired, which ends the process. */
static void watchdog_stop(struct exec_state *st)
{
    pthread_mutex_lock(&st->wd_lock);
    st->steps_done = 1;
    pthread_cond_signal(&st->wd_cond);
    pthread_mutex_unlock(&st->wd_lock);
    pthread_join(st->watchdog, NULL);
}

/* Stop every process of the scenario that the targets left behind (forked
 * children, workers, daemons) and reap it, so the capture's drain comes
 * after every FIN or RST they send. */
static void reap_stragglers(struct exec_ctx *c)
{
    int killed = 0;
    int r = run_ns_reap_all((int)(STRAGGLER_GRACE_MS * c->st->o->time_scale), &killed);

    if (r < 0)
        exec_log(c->st, "some processes of the scenario did not end even after SIGKILL");
    else if (killed)
        exec_log(c->st, "processes left by the targets did not end on SIGTERM: killed");
}

/* For the report's ladder diagram (harness/doc/report.md): the name of
 * every socket the runner used and of every target's address, so lanes get
 * the scenario's names ("endpoint NAME tcp|udp LOCAL PEER|-", "endpoint
 * NAME target ADDR"). */
static void log_endpoints(struct exec_state *st)
{
    char l[NR_ADDRSTR_SIZE], p[NR_ADDRSTR_SIZE];

    for (size_t i = 0; i < st->nrecords; i++) {
        const struct exec_record *r = &st->records[i];
        if (r->is_unix)
            continue;
        nr_addr_format((const struct sockaddr *)&r->local.ss, l, sizeof(l));
        if (r->have_peer)
            nr_addr_format((const struct sockaddr *)&r->peer.ss, p, sizeof(p));
        exec_log(st, "endpoint %s %s %s %s", r->name, r->proto == IPPROTO_UDP ? "udp" : "tcp", l,
                 r->have_peer ? p : "-");
    }
    for (size_t i = 0; i < st->ntargets; i++)
        for (size_t k = 0; k < st->nvars; k++)
            if (!strcmp(st->vars[k].name, st->targets[i].name) && st->vars[k].len < sizeof(l) &&
                !memchr(st->vars[k].val, '\n', st->vars[k].len))
                exec_log(st, "endpoint %s target %.*s", st->targets[i].name,
                         (int)st->vars[k].len, (const char *)st->vars[k].val);
}

int64_t run_deadline_ms(const struct run_opts *o, const struct nr_scn *scn, int64_t *scaled_ms)
{
    int64_t ms = o->deadline_ms >= 0 ? o->deadline_ms : scn->deadline_ms;

    *scaled_ms = (int64_t)((double)ms * o->time_scale);
    return ms;
}

enum run_status run_scenario(const struct nr_scn *scn, const struct run_opts *o,
                             const char *artdir, int isolated, int result_fd, char **msg)
{
    struct exec_state st;
    struct exec_ctx c;
    struct run_capture *capture;
    pthread_condattr_t ca;
    char path[600], capture_path[600], *skip = NULL;
    enum run_status verdict;
    int had_fail, watchdog = 0;
    int step_ms = o->timeout_ms >= 0 ? o->timeout_ms : scn->step_timeout_ms;
    int64_t deadline_scaled, deadline_ms = run_deadline_ms(o, scn, &deadline_scaled);

    memset(&st, 0, sizeof(st));
    pthread_mutex_init(&st.lock, NULL);
    pthread_mutex_init(&st.wd_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st.wd_cond, &ca);
    pthread_condattr_destroy(&ca);
    st.result_fd = result_fd;
    st.scn = scn;
    st.o = o;
    st.artdir = artdir;
    st.isolated = isolated;
    st.seed = o->seed_given ? o->seed : exec_proxy_default_seed(scn->path);
    st.t0 = nr_now_ms();
    st.step_timeout = (int)(step_ms * o->time_scale);
    st.deadline = st.t0 + deadline_scaled;
    snprintf(st.deadline_text, sizeof(st.deadline_text), "%g s%s", (double)deadline_ms / 1000.0,
             o->time_scale != 1.0 ? " scaled" : "");
    scenario_paths(&st, artdir);
    snprintf(path, sizeof(path), "%s/steps.log", artdir);
    st.log = fopen(path, "w");
    if (st.log)
        setvbuf(st.log, NULL, _IOLBF, 0);
    exec_log(&st, "scenario %s (%s)", scn->path,
             isolated ? "own network namespace" : "host loopback");
    {   /* the capture's clock (packet times) at time 0 of this log */
        struct timespec rt;
        long long us;
        clock_gettime(CLOCK_REALTIME, &rt);
        us = (long long)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - exec_log_us(&st);
        exec_log(&st, "clock: 0 is %lld.%06lld s wall clock", us / 1000000, us % 1000000);
    }

    ctx_init(&c, &st, NULL, -1, 0);
    snprintf(capture_path, sizeof(capture_path), "%s/capture.pcap", artdir);
    capture = start_capture(&st, capture_path, &skip);
    if (skip) {
        exec_log(&st, "skipped: %s", skip);
        state_free(&st);
        *msg = skip;
        return RUN_SKIP;
    }
    st.capture = capture;
    atomic_store(&st.pace_cap, capture);
    watchdog = pthread_create(&st.watchdog, NULL, watchdog_main, &st) == 0;
    exec_steps(&c, &scn->steps);
    if (watchdog)
        watchdog_stop(&st);
    atomic_store(&st.pace_cap, NULL);
    if (atomic_load(&st.paced_ms))
        exec_log(&st, "senders waited %llu ms in all for the capture to catch up",
                 (unsigned long long)atomic_load(&st.paced_ms));
    exec_targets_note_end(&st);
    exec_conns_free(&c);
    exec_targets_finish(&c);
    exec_proxies_stop(&c);
    reap_stragglers(&c);
    log_endpoints(&st);
    had_fail = c.fail != NULL;
    verdict = c.fail ? RUN_FAIL : RUN_PASS;
    if (capture && stop_capture(&c, capture) == 0)
        exec_wire_judge(&c, capture_path);
    else if (capture && !had_fail)
        verdict = RUN_ERROR; /* no verdict on partial evidence */
    if (verdict == RUN_PASS && c.fail)
        verdict = RUN_FAIL;
    {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            exec_log(&st, "peak RSS of the scenario process: %ld KiB", ru.ru_maxrss);
    }
    exec_log(&st, "%s", verdict == RUN_PASS ? "passed" : verdict == RUN_ERROR ? "ERROR" : "FAILED");
    if (c.fail && st.log)
        fprintf(st.log, "%s", c.fail);
    state_free(&st);
    *msg = c.fail;
    return verdict;
}
