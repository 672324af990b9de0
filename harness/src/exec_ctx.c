/* exec_ctx.c - the executor's service layer: what every step module calls
 * and nothing here calls back: failure messages, the step log, variables
 * and template expansion, time budgets and the scenario deadline, pacing
 * senders behind the capture, and the lookup of connections by name.
 *
 * Layers (ci/import-cycles.py checks that no module calls upwards):
 *   exec.c                      dispatch, blocks, the scenario's life
 *   exec_conn*.c exec_target.c exec_wire.c exec_proxy.c   the steps
 *   exec_match.c exec_gen.c     expectations and payloads
 *   exec_ctx.c exec_hash.c      services */
#define _GNU_SOURCE
#include "exec.h"

#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACE_MAX_MS 200          /* one wait for the capture, at most */
#define PACE_GIVE_UP_MS 2000     /* waited this long with nothing captured: stop waiting */

/* ---- messages ---------------------------------------------------------- */

const char *exec_step_text(const struct nr_step *s)
{
    return s->text ? s->text : "";
}

/* The file a step is written in (an included one, or the scenario). */
const char *exec_step_file(const struct exec_state *st, const struct nr_step *s)
{
    return s->file < st->scn->nfiles ? st->scn->files[s->file] : st->scn->path;
}

FILE *exec_fail_begin(struct exec_ctx *c, const struct nr_step *s)
{
    /* The first failing step wins; findings at the end of the scenario
     * (s == NULL: a crashed target, a bad capture) are added to it. */
    if (c->fstream || (c->fail && s))
        return NULL;
    c->fstream = open_memstream(&c->fbuf, &c->flen);
    if (!c->fstream)
        return NULL;
    if (c->index >= 0 && c->in_parallel)
        fprintf(c->fstream, "[instance %ld] ", c->index);
    if (s)
        fprintf(c->fstream, "%s:%u: %s\n", exec_step_file(c->st, s), s->line, exec_step_text(s));
    else
        fprintf(c->fstream, "%s: at the end of the scenario:\n", c->st->scn->path);
    return c->fstream;
}

void exec_fail_end(struct exec_ctx *c)
{
    char *joined;

    if (!c->fstream)
        return;
    fclose(c->fstream);
    c->fstream = NULL;
    if (!c->fail) {
        c->fail = c->fbuf;
    } else if (asprintf(&joined, "%s%s", c->fail, c->fbuf) >= 0) {
        free(c->fail);
        c->fail = joined;
    }
    if (c->fail != c->fbuf)
        free(c->fbuf);
    c->fbuf = NULL;
}

void exec_fail(struct exec_ctx *c, const struct nr_step *s, const char *fmt, ...)
{
    FILE *f = exec_fail_begin(c, s);
    va_list ap;

    if (!f)
        return;
    fputs("  ", f);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    exec_fail_end(c);
}

int64_t exec_log_us(const struct exec_state *st)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* nr_now_ms's clock */
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - st->t0 * 1000;
}

void exec_log(struct exec_state *st, const char *fmt, ...)
{
    va_list ap;

    if (!st->log)
        return;
    pthread_mutex_lock(&st->lock);
    fprintf(st->log, "%10.6f ", (double)exec_log_us(st) / 1e6);
    va_start(ap, fmt);
    vfprintf(st->log, fmt, ap);
    va_end(ap);
    fputc('\n', st->log);
    pthread_mutex_unlock(&st->lock);
}

/* ---- time -------------------------------------------------------------- */

int exec_deadline_passed(struct exec_ctx *c)
{
    return nr_ms_left(c->st->deadline) == 0;
}

int exec_wait_budget(struct exec_ctx *c, const struct nr_step *s, int64_t started)
{
    int left = nr_ms_left(c->st->deadline), budget;
    int64_t limit = s->timeout_ms >= 0 ? s->timeout_ms : c->st->step_timeout;
    int64_t rest = started + limit - nr_now_ms();

    budget = rest < 0 ? 0 : rest > INT32_MAX ? INT32_MAX : (int)rest;
    return budget < left ? budget : left;
}

/* ---- pacing ------------------------------------------------------------ */

void exec_pace_init(struct exec_ctx *c, struct exec_pacer *p, uint64_t io)
{
    memset(p, 0, sizeof(*p));
    p->cap = atomic_load(&c->st->pace_cap);
    if (!p->cap)
        return;
    p->base_cap = run_capture_payload(p->cap);
    p->base_io = io;
    /* a quarter of the ring: what is in flight in the socket buffers when the
     * sender stops must still fit */
    p->limit = run_capture_ring(p->cap) / 4;
}

int exec_pace(struct exec_ctx *c, struct exec_pacer *p, uint64_t io)
{
    int64_t until = nr_now_ms() + PACE_MAX_MS;
    uint64_t before = p->cap ? run_capture_payload(p->cap) : 0;
    int waited = 0;

    /* the capture counts every flow's payload, so its side can only be too
     * large: a wait means the capture is really behind */
    while (p->cap && atomic_load(&c->st->pace_cap) == p->cap &&
           io - p->base_io > run_capture_payload(p->cap) - p->base_cap + p->limit &&
           nr_ms_left(until) > 0 && !exec_deadline_passed(c)) {
        poll(NULL, 0, 1);
        waited++;
    }
    if (waited)
        atomic_fetch_add(&c->st->paced_ms, (uint64_t)waited);
    if (waited && atomic_load(&c->st->pace_cap) == p->cap) {
        /* waits in a row without one captured byte: the capture is not
         * draining at all (its end will say why); waiting more only slows */
        p->stalled_ms = run_capture_payload(p->cap) == before ? p->stalled_ms + waited : 0;
        if (p->stalled_ms >= PACE_GIVE_UP_MS) {
            exec_log(c->st, "the capture took nothing in %d ms: this send stops waiting for it",
                     p->stalled_ms);
            p->cap = NULL;
        }
    }
    return waited > 0;
}

/* ---- variables ------------------------------------------------------- */

int exec_setvar(struct exec_state *st, const char *name, const void *val, size_t len)
{
    struct exec_var *v = NULL, *nv;
    uint8_t *copy = malloc(len + 1);

    if (!copy)
        return -1;
    memcpy(copy, val, len);
    copy[len] = '\0';
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->nvars; i++)
        if (strcmp(st->vars[i].name, name) == 0)
            v = &st->vars[i];
    if (!v) {
        nv = realloc(st->vars, (st->nvars + 1) * sizeof(*nv));
        if (!nv) {
            pthread_mutex_unlock(&st->lock);
            free(copy);
            return -1;
        }
        st->vars = nv;
        v = &st->vars[st->nvars++];
        memset(v, 0, sizeof(*v));
        snprintf(v->name, sizeof(v->name), "%s", name);
    }
    free(v->val);
    v->val = copy;
    v->len = len;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

/* Find a variable's value; variables are only added, never removed, while
 * steps run, and values are replaced only by `set` outside parallel blocks. */
static const struct exec_var *getvar(struct exec_state *st, const char *name, size_t nlen)
{
    const struct exec_var *found = NULL;

    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->nvars; i++)
        if (strlen(st->vars[i].name) == nlen && memcmp(st->vars[i].name, name, nlen) == 0)
            found = &st->vars[i];
    pthread_mutex_unlock(&st->lock);
    return found;
}

/* Variable lookup for nr_tmpl_expand, which splits `.host`/`.port` itself
 * and so only asks for base names. */
static int lookup(void *arg, const char *name, const uint8_t **val, size_t *len)
{
    struct exec_ctx *c = arg;
    const struct exec_var *v;

    if (strcmp(name, "i") == 0) {
        if (c->index < 0)
            return -1;
        snprintf(c->scratch, sizeof(c->scratch), "%ld", c->index);
        *val = (const uint8_t *)c->scratch;
        *len = strlen(c->scratch);
        return 0;
    }
    if (strcmp(name, "tmp") == 0) {
        *val = (const uint8_t *)c->st->tmpdir;
        *len = strlen(c->st->tmpdir);
        return 0;
    }
    if (strcmp(name, "dir") == 0) {
        *val = (const uint8_t *)c->st->scndir;
        *len = strlen(c->st->scndir);
        return 0;
    }
    if (strcmp(name, "bin") == 0) {
        *val = (const uint8_t *)c->st->o->bindir;
        *len = strlen(c->st->o->bindir);
        return 0;
    }
    v = getvar(c->st, name, strlen(name));
    if (!v)
        return -1;
    *val = v->val;
    *len = v->len;
    return 0;
}

char *exec_expand(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                  size_t *len)
{
    char errbuf[NR_ERRBUF_SIZE];
    uint8_t *out = NULL, *z;
    size_t n = 0;

    if (nr_tmpl_expand(t, lookup, c, &out, &n, errbuf) < 0) {
        exec_fail(c, s, "%s", errbuf);
        return NULL;
    }
    z = realloc(out, n + 1);
    if (!z) {
        free(out);
        exec_fail(c, s, "out of memory");
        return NULL;
    }
    z[n] = '\0';
    if (len)
        *len = n;
    return (char *)z;
}

/* ---- connections --------------------------------------------------------- */

struct exec_conn *exec_find_conn(struct exec_ctx *c, const char *name)
{
    for (; c; c = c->outer)
        for (size_t i = 0; i < c->nconns; i++)
            if (strcmp(c->conns[i].rec.name, name) == 0)
                return &c->conns[i];
    return NULL;
}
