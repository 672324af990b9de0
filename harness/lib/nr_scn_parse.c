/* nr_scn_parse.c - parser of the scenario language: lines into steps,
 * blocks, and the scope checks of names and variables. */
#include "nr_scn.h"
#include "nr_scn_lex.h"

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_err.h"
#include "nr_net.h"

#define DEFAULT_STEP_MS 2000
#define DEFAULT_DEADLINE_MS 60000
#define DUR_MAX_MS 86400000u /* 24 h */
#define PARALLEL_MAX 1024
#define REPEAT_MAX 1000000

/* Kinds of names; SOCKET, DGRAM_OK, PARAM and WIRE_OK are only asked for: by
 * take_use, a step on "a socket" (close, abort) also takes a listener, a
 * step on datagrams (send, expect) also takes a UDP listener, which answers
 * its last sender, and `wire` takes a connection or a flow; by take_new, a
 * param is a variable that may not be defined before.  A flow (`flow NAME
 * = ...`) names a conversation of the capture and has no ${NAME} value. */
enum sym_kind { SYM_TARGET, SYM_LISTENER, SYM_CONN, SYM_VAR, SYM_SOCKET, SYM_DGRAM_OK, SYM_PARAM,
                SYM_FLOW, SYM_WIRE_OK, SYM_PROXY };

static const char *const sym_what[] = { "a target",   "a listener",
                                        "a connection", "a variable",
                                        "a connection or listener",
                                        "a connection or UDP listener", "a param",
                                        "a flow", "a connection or flow", "a proxy" };


/* A name defined by a step, visible until the end of its block. */
struct sym {
    char name[NR_SCN_NAME_MAX];
    enum sym_kind kind;
    int proto;
    unsigned depth;  /* block depth of the definition (0: top level) */
    unsigned line;   /* line of the definition */
    unsigned closed; /* line of the close/abort of a connection; 0: open */
    int is_unix;     /* a unix-domain socket (its traffic is not captured) */
};

/* Does a name of kind y satisfy a request for `want`? */
static int sym_fits(enum sym_kind want, const struct sym *y)
{
    if (y->kind == want)
        return 1;
    if (want == SYM_SOCKET)
        return y->kind == SYM_CONN || y->kind == SYM_LISTENER;
    if (want == SYM_DGRAM_OK)
        return y->kind == SYM_CONN || (y->kind == SYM_LISTENER && y->proto == IPPROTO_UDP);
    if (want == SYM_WIRE_OK)
        return y->kind == SYM_CONN || y->kind == SYM_FLOW;
    return 0;
}

/* An open step list: the top level or the body of a block. */
struct frame {
    struct nr_steps *list;
    const struct nr_step *block; /* the parallel/repeat step; NULL at top */
};

struct parser {
    struct lx lx;                /* first: the variable check gets the parser */
    struct lx_tok tok;           /* the current token */
    struct nr_scn *scn;
    nr_scn_reader read;          /* serves `include`, or NULL */
    unsigned file;               /* index in scn->files of the file being read */
    unsigned include_depth;
    unsigned include_stack[NR_SCN_INCLUDE_MAX + 1]; /* files being read, outermost first */
    struct frame stack[NR_SCN_DEPTH_MAX + 1];
    unsigned depth;
    struct sym *syms;
    size_t nsyms;
    size_t nsteps;
};

static void tmpls_free(struct nr_tmpl *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nr_tmpl_free(&v[i]);
    free(v);
}

static void match_free(struct nr_match *m)
{
    nr_tmpl_free(&m->payload.tmpl);
    nr_tmpl_free(&m->text);
    nr_tmpl_free(&m->from);
}

/* What one step owns, its body's steps already freed (the walk visits
 * them first): the parser owns the tree it built, so it may write to it. */
static int step_free_own(const struct nr_step *cs, unsigned depth, unsigned when, void *arg)
{
    struct nr_step *s = (struct nr_step *)cs;

    (void)depth;
    (void)when;
    (void)arg;
    free(s->text);
    s->text = NULL;
    switch (s->kind) {
    case NR_S_TARGET:
        tmpls_free(s->u.target.argv, s->u.target.nargv);
        tmpls_free(s->u.target.env, s->u.target.nenv);
        free(s->u.target.clean);
        nr_tmpl_free(&s->u.target.ready);
        nr_tmpl_free(&s->u.target.cwd);
        nr_tmpl_free(&s->u.target.act_addr);
        break;
    case NR_S_CONNECT:
    case NR_S_LISTEN:
        nr_tmpl_free(&s->u.sock.addr);
        break;
    case NR_S_SEND:
        nr_tmpl_free(&s->u.send.payload.tmpl);
        nr_tmpl_free(&s->u.send.to);
        break;
    case NR_S_EXPECT:
        match_free(&s->u.expect);
        break;
    case NR_S_OUTPUT:
        match_free(&s->u.output.match);
        break;
    case NR_S_FILE:
        nr_tmpl_free(&s->u.file.path);
        match_free(&s->u.file.match);
        break;
    case NR_S_SET:
        nr_tmpl_free(&s->u.set.value);
        break;
    case NR_S_PARALLEL:
    case NR_S_REPEAT:
        free(s->u.block.body.v);
        s->u.block.body.v = NULL;
        s->u.block.body.n = 0;
        break;
    case NR_S_WIRE:
        nr_tmpl_free(&s->u.wire.value);
        nr_tmpl_free(&s->u.wire.to);
        nr_tmpl_free(&s->u.wire.from);
        nr_tmpl_free(&s->u.wire.index);
        break;
    case NR_S_PROXY:
        nr_tmpl_free(&s->u.proxy.upstream);
        break;
    default:
        break;
    }
    return 0;
}

/* Free a step and, for a block, its body. */
static void step_free(struct nr_step *s)
{
    nr_step_walk(s, NR_WALK_AFTER, step_free_own, NULL);
}

static void steps_free(struct nr_steps *st)
{
    nr_steps_walk(st, NR_WALK_AFTER, step_free_own, NULL);
    free(st->v);
    st->v = NULL;
    st->n = 0;
}

void nr_scn_free(struct nr_scn *s)
{
    steps_free(&s->steps);
    for (size_t i = 1; i < s->nfiles; i++) /* files[0] is path */
        free(s->files[i]);
    free(s->files);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

/* --- tokens ------------------------------------------------------------ */

/* Read the next token; regex_ok: a '/' there starts a regex. */
static int adv(struct parser *p, int regex_ok)
{
    lx_tok_clear(&p->tok);
    return lx_next(&p->lx, &p->tok, regex_ok);
}

static int is_kw(const struct parser *p, const char *kw)
{
    size_t n = strlen(kw);
    return p->tok.kind == LX_WORD && p->tok.rawlen == n && memcmp(p->tok.raw, kw, n) == 0;
}

/* "expected WHAT, got '<current token>'". Returns -1. */
static int err_got(struct parser *p, const char *what)
{
    return lx_err_got(&p->lx, p->tok.col, what, p->tok.raw, p->tok.rawlen);
}

/* The current token must be the keyword kw; read the next one. */
static int want_kw(struct parser *p, const char *kw, const char *what)
{
    if (!is_kw(p, kw))
        return err_got(p, what);
    return adv(p, 0);
}

static int want_eol(struct parser *p, const char *what)
{
    return p->tok.kind == LX_EOL ? 0 : err_got(p, what);
}

/* Move the template of the current token (a word or string) into *out. */
static int take_tmpl(struct parser *p, struct nr_tmpl *out, const char *what, int next_re)
{
    if (p->tok.kind != LX_WORD && p->tok.kind != LX_STRING)
        return err_got(p, what);
    *out = p->tok.tmpl;
    memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
    return adv(p, next_re);
}

/* The literal text of the current token, when it has no ${var}. */
static const struct nr_seg *tok_literal(const struct parser *p)
{
    const struct nr_seg *g = p->tok.tmpl.segs;

    return p->tok.tmpl.nsegs == 1 && !g->is_var ? g : NULL;
}

/* Like take_tmpl, noting IPv6 literals in the scenario. */
static int take_addr_text(struct parser *p, struct nr_tmpl *out, const char *what)
{
    if (take_tmpl(p, out, what, 0) < 0)
        return -1;
    for (size_t i = 0; i < out->nsegs; i++) {
        const struct nr_seg *s = &out->segs[i];
        if (!s->is_var && (memchr(s->data, '[', s->len) || strstr((const char *)s->data, "::")))
            p->scn->needs_ipv6 = 1;
    }
    return 0;
}

/* An address HOST:PORT; one without ${var} must be an address here (no
 * host names: `localhost` would depend on the machine's resolver). */
static int take_addr(struct parser *p, struct nr_tmpl *out)
{
    static const char what[] = "an address like 127.0.0.1:0, [::1]:8080 or ${name}";
    const struct nr_seg *g = tok_literal(p);
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a;

    if ((p->tok.kind == LX_WORD || p->tok.kind == LX_STRING) && g &&
        nr_addr_parse((const char *)g->data, &a, errbuf) < 0)
        return err_got(p, what);
    return take_addr_text(p, out, what);
}

static int take_u64(struct parser *p, uint64_t *v, const char *what)
{
    uint64_t x = 0;

    if (p->tok.kind != LX_WORD || p->tok.rawlen == 0)
        return err_got(p, what);
    for (size_t i = 0; i < p->tok.rawlen; i++) {
        unsigned d = (unsigned)p->tok.raw[i] - '0';
        if (d > 9)
            return err_got(p, what);
        if (x > (UINT64_MAX - d) / 10)
            return err_got(p, "a number below 2^64");
        x = x * 10 + d;
    }
    *v = x;
    return adv(p, 0);
}

/* A number in [lo, hi]; what names it in the message. */
static int take_range(struct parser *p, uint64_t *v, uint64_t lo, uint64_t hi, const char *what)
{
    unsigned col = p->tok.col;
    const uint8_t *raw = p->tok.raw;
    size_t rawlen = p->tok.rawlen;

    if (take_u64(p, v, what) < 0)
        return -1;
    if (*v < lo || *v > hi)
        return lx_err_got(&p->lx, col, what, raw, rawlen);
    return 0;
}

/* A duration: "0", or digits with an optional fraction and a unit ms, s or
 * m; rounded down to whole milliseconds, at most 24 h. */
int nr_scn_dur(const uint8_t *r, size_t n, int *ms)
{
    size_t i = 0, nd = 0;
    uint64_t ip = 0, frac = 0, scale = 1, unit;

    if (n == 1 && r[0] == '0') {
        *ms = 0;
        return 0;
    }
    for (; i < n && r[i] >= '0' && r[i] <= '9' && i < 9; i++)
        ip = ip * 10 + (r[i] - '0');
    if (i == 0)
        return -1;
    if (i < n && r[i] == '.') {
        for (i++; i < n && r[i] >= '0' && r[i] <= '9' && nd < 6; i++, nd++) {
            frac = frac * 10 + (r[i] - '0');
            scale *= 10;
        }
        if (nd == 0)
            return -1;
    }
    if (n - i == 2 && r[i] == 'm' && r[i + 1] == 's')
        unit = 1;
    else if (n - i == 1 && r[i] == 's')
        unit = 1000;
    else if (n - i == 1 && r[i] == 'm')
        unit = 60000;
    else
        return -1;
    if (ip * unit + frac * unit / scale > DUR_MAX_MS)
        return -2;
    *ms = (int)(ip * unit + frac * unit / scale);
    return 0;
}

static int take_dur(struct parser *p, int *ms)
{
    int rc = p->tok.kind == LX_WORD ? nr_scn_dur(p->tok.raw, p->tok.rawlen, ms) : -1;

    if (rc == -2)
        return err_got(p, "a duration of at most 86400s");
    if (rc < 0)
        return err_got(p, "a duration like 200ms or 1s");
    return adv(p, 0);
}

/* tcp | udp, and where is_unix is given also unix (a stream socket) |
 * unixgram (datagrams), which set *is_unix. */
static int take_proto_of(struct parser *p, int *proto, int *is_unix)
{
    if (is_kw(p, "tcp") || (is_unix && is_kw(p, "unix")))
        *proto = IPPROTO_TCP;
    else if (is_kw(p, "udp") || (is_unix && is_kw(p, "unixgram")))
        *proto = IPPROTO_UDP;
    else
        return err_got(p, is_unix ? "'tcp', 'udp', 'unix' or 'unixgram'" : "'tcp' or 'udp'");
    if (is_unix)
        *is_unix = is_kw(p, "unix") || is_kw(p, "unixgram");
    return adv(p, 0);
}

static int take_proto(struct parser *p, int *proto)
{
    return take_proto_of(p, proto, NULL);
}

/* A unix socket's address: a path, or @name in the abstract namespace. */
static int take_unix_addr(struct parser *p, struct nr_tmpl *out)
{
    const struct nr_seg *g = p->tok.tmpl.segs;

    if ((p->tok.kind == LX_WORD || p->tok.kind == LX_STRING) && p->tok.tmpl.nsegs == 1 &&
        !g->is_var && (g->len == 0 || g->len >= NR_SCN_UNIX_PATH_MAX))
        return err_got(p, "a socket path of 1-107 bytes or @name");
    return take_tmpl(p, out, "a socket path or @name", 0);
}

/* PROTO ADDR of connect and listen. */
static int take_sock(struct parser *p, struct nr_step *s)
{
    if (take_proto_of(p, &s->u.sock.proto, &s->u.sock.is_unix) < 0)
        return -1;
    return s->u.sock.is_unix ? take_unix_addr(p, &s->u.sock.addr)
                             : take_addr(p, &s->u.sock.addr);
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT },   { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "BUS", SIGBUS },     { "FPE", SIGFPE },
    { "KILL", SIGKILL }, { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },   { "CHLD", SIGCHLD },
    { "CONT", SIGCONT }, { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
    { "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "SYS", SIGSYS },
};

/* A signal: a name like TERM or SIGTERM, or a number 1-64. */
static int take_sig(struct parser *p, int *sig)
{
    static const char what[] = "a signal like TERM, KILL, SEGV or a number 1-64";
    const uint8_t *r = p->tok.raw;
    size_t n = p->tok.rawlen;
    uint64_t v;

    if (p->tok.kind == LX_WORD && n > 0 && r[0] >= '0' && r[0] <= '9') {
        if (take_range(p, &v, 1, 64, what) < 0)
            return -1;
        *sig = (int)v;
        return 0;
    }
    if (p->tok.kind == LX_WORD && n > 3 && memcmp(r, "SIG", 3) == 0) {
        r += 3;
        n -= 3;
    }
    for (size_t i = 0; p->tok.kind == LX_WORD && i < sizeof(signals) / sizeof(signals[0]); i++)
        if (strlen(signals[i].name) == n && memcmp(signals[i].name, r, n) == 0) {
            *sig = signals[i].sig;
            return adv(p, 0);
        }
    return err_got(p, what);
}

/* An outcome: an exit code 0-255, `signal SIG`, or (when clean_ok) `clean`. */
static int take_end(struct parser *p, struct nr_end *e, int clean_ok)
{
    const char *what = clean_ok ? "an exit code 0-255, 'signal SIG' or 'clean'"
                                : "an exit code 0-255 or 'signal SIG'";
    uint64_t code;

    if (is_kw(p, "signal")) {
        e->kind = NR_END_SIGNAL;
        return adv(p, 0) < 0 ? -1 : take_sig(p, &e->code);
    }
    if (clean_ok && is_kw(p, "clean")) {
        e->kind = NR_END_CLEAN;
        return adv(p, 0);
    }
    if (take_range(p, &code, 0, 255, what) < 0)
        return -1;
    e->kind = NR_END_EXIT;
    e->code = (int)code;
    return 0;
}

/* --- names ------------------------------------------------------------- */

static int is_name(const uint8_t *r, size_t n)
{
    if (n == 0 || !((r[0] >= 'a' && r[0] <= 'z') || (r[0] >= 'A' && r[0] <= 'Z') || r[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z') || r[i] == '_' ||
              (r[i] >= '0' && r[i] <= '9')))
            return 0;
    return 1;
}

static int is_builtin(const char *name)
{
    return strcmp(name, "tmp") == 0 || strcmp(name, "bin") == 0 || strcmp(name, "dir") == 0 ||
           strcmp(name, "i") == 0;
}

/* The visible symbol called name, the latest definition first. */
static struct sym *sym_find(struct parser *p, const char *name)
{
    for (size_t i = p->nsyms; i-- > 0;)
        if (strcmp(p->syms[i].name, name) == 0)
            return &p->syms[i];
    return NULL;
}

/* Copy the current token, a name, into out (does not advance). */
static int name_of(struct parser *p, char out[NR_SCN_NAME_MAX], const char *what)
{
    if (p->tok.kind != LX_WORD || !is_name(p->tok.raw, p->tok.rawlen))
        return err_got(p, what);
    if (p->tok.rawlen >= NR_SCN_NAME_MAX)
        return err_got(p, "a name of at most 31 characters");
    memcpy(out, p->tok.raw, p->tok.rawlen);
    out[p->tok.rawlen] = 0;
    return 0;
}

/* The current token names a new target, listener, connection or variable
 * (kind): check that it is free, copy it into out, advance. */
static int take_new(struct parser *p, char out[NR_SCN_NAME_MAX], enum sym_kind kind)
{
    const struct sym *old;

    if (name_of(p, out, "a name (a letter or _, then letters, digits, _)") < 0)
        return -1;
    if (is_builtin(out))
        return lx_errf(&p->lx, p->tok.col, "expected a new name, got '%s' (a builtin variable)",
                       out);
    old = sym_find(p, out);
    if (old && !old->closed && !(kind == SYM_VAR && old->kind == SYM_VAR))
        return lx_errf(&p->lx, p->tok.col,
                       "expected a new name, got '%s' (%s defined at line %u)", out,
                       sym_what[old->kind], old->line);
    return adv(p, 0);
}

/* Record a definition made by a step that parsed completely. */
static int sym_add(struct parser *p, const struct nr_step *s, enum sym_kind kind,
                   int proto)
{
    struct sym *y = sym_find(p, s->name);

    if (kind == SYM_VAR && y && y->kind == SYM_VAR)
        return 0; /* `set` again: the same variable */
    if (nr_scn_grow((void **)&p->syms, p->nsyms, sizeof(*p->syms)) < 0)
        return lx_errf(&p->lx, s->col, "out of memory");
    y = &p->syms[p->nsyms++];
    memset(y, 0, sizeof(*y));
    memcpy(y->name, s->name, sizeof(y->name));
    y->kind = kind;
    y->proto = proto;
    y->depth = p->depth;
    y->line = s->line;
    y->closed = 0;
    return 0;
}

/* The current token names an existing symbol of the given kind: copy it
 * into out, return it through *found, advance (regex_ok for the next). */
static int take_use(struct parser *p, char out[NR_SCN_NAME_MAX], enum sym_kind kind,
                    struct sym **found, int next_re)
{
    struct sym *y;
    char what[64];

    snprintf(what, sizeof(what), "the name of %s", sym_what[kind]);
    if (name_of(p, out, what) < 0)
        return -1;
    y = sym_find(p, out);
    if (!y)
        return lx_errf(&p->lx, p->tok.col, "expected %s defined earlier, got '%s'",
                       sym_what[kind], out);
    if (!sym_fits(kind, y))
        return lx_errf(&p->lx, p->tok.col, "expected %s, got '%s' (%s defined at line %u)",
                       sym_what[kind], out, sym_what[y->kind], y->line);
    if (y->closed)
        return lx_errf(&p->lx, p->tok.col,
                       "expected an open connection, got '%s' (closed at line %u)", out,
                       y->closed);
    if (found)
        *found = y;
    return adv(p, next_re);
}

/* The lexer's check of a ${ref}: a builtin or a visible name. */
static int varcheck(void *ctx, const char *ref, unsigned col, char *errbuf)
{
    struct parser *p = ctx;
    const struct sym *y;
    char base[NR_SCN_NAME_MAX];
    const char *dot = strchr(ref, '.');
    size_t n = dot ? (size_t)(dot - ref) : strlen(ref);

    (void)errbuf;
    memcpy(base, ref, n);
    base[n] = 0;
    if (is_builtin(base)) {
        if (strcmp(base, "i") == 0 && p->depth == 0)
            return lx_errf(&p->lx, col, "expected ${i} only inside a parallel or repeat block, "
                                        "got it outside");
        if (dot)
            return lx_errf(&p->lx, col, "expected ${%s} without a field, got '${%s}'", base, ref);
        return 0;
    }
    y = sym_find(p, base);
    if (!y)
        return lx_errf(&p->lx, col, "expected a variable defined earlier, got '${%s}'", ref);
    if (y->kind == SYM_FLOW)
        return lx_errf(&p->lx, col, "expected a variable with a value, got '${%s}' (a flow has "
                                    "none)", ref);
    return 0;
}

/* --- payloads and matches ---------------------------------------------- */

static int starts_payload(const struct parser *p)
{
    return p->tok.kind == LX_STRING || p->tok.kind == LX_HEX || is_kw(p, "file") ||
           is_kw(p, "pattern");
}

/* PAYLOAD ['*' N]; the current token starts it (starts_payload). */
static int parse_payload(struct parser *p, struct nr_payload *pl)
{
    pl->repeat = 1;
    if (p->tok.kind == LX_STRING || p->tok.kind == LX_HEX) {
        pl->kind = NR_PL_BYTES;
        pl->tmpl = p->tok.tmpl;
        memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
        if (adv(p, 0) < 0)
            return -1;
    } else if (is_kw(p, "file")) {
        pl->kind = NR_PL_FILE;
        if (adv(p, 0) < 0 || take_tmpl(p, &pl->tmpl, "a file path", 0) < 0)
            return -1;
    } else {
        pl->kind = NR_PL_PATTERN;
        if (adv(p, 0) < 0 || take_u64(p, &pl->count, "a byte count") < 0)
            return -1;
    }
    if (p->tok.kind != LX_STAR)
        return 0;
    return adv(p, 0) < 0 ? -1 : take_range(p, &pl->repeat, 1, UINT64_MAX, "a repeat count >= 1");
}

/* A /regex/ token without ${var} must compile (POSIX ERE, as the runner
 * uses it): else an error at the regex. */
static int check_regex(struct parser *p)
{
    const struct nr_seg *g = tok_literal(p);
    char msg[160];
    regex_t re;
    int rc;

    if (!g || memchr(g->data, '\0', g->len))
        return 0;
    rc = regcomp(&re, (const char *)g->data, REG_EXTENDED);
    if (rc == 0) {
        regfree(&re);
        return 0;
    }
    regerror(rc, &re, msg, sizeof(msg));
    return lx_errf(&p->lx, p->tok.col, "expected a valid regular expression (POSIX extended): "
                                       "%s, got /%s/", msg, (const char *)g->data);
}

/* MATCH of expect (full) or of stdout/stderr/file (payload or regex). */
static int parse_match(struct parser *p, struct nr_match *m, int full)
{
    if (p->tok.kind == LX_REGEX) {
        if (check_regex(p) < 0)
            return -1;
        m->kind = NR_M_REGEX;
        m->text = p->tok.tmpl;
        memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
        return adv(p, 0);
    }
    if (starts_payload(p)) {
        m->kind = NR_M_BYTES;
        return parse_payload(p, &m->payload);
    }
    if (!full)
        return err_got(p, "\"string\", x\"hex\", file PATH, pattern N or /regex/");
    if (is_kw(p, "length")) {
        m->kind = NR_M_LENGTH;
        return adv(p, 0) < 0 ? -1 : take_u64(p, &m->length, "a byte count");
    }
    if (is_kw(p, "until")) {
        m->kind = NR_M_UNTIL;
        if (adv(p, 0) < 0)
            return -1;
        if ((p->tok.kind != LX_STRING && p->tok.kind != LX_HEX) ||
            (p->tok.tmpl.nsegs == 1 && p->tok.tmpl.segs[0].len == 0))
            return err_got(p, "a non-empty \"delimiter\"");
        m->text = p->tok.tmpl;
        memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
        return adv(p, 0);
    }
    if (is_kw(p, "eof"))
        m->kind = NR_M_EOF;
    else if (is_kw(p, "reset"))
        m->kind = NR_M_RESET;
    else if (is_kw(p, "nothing"))
        m->kind = NR_M_NOTHING;
    else
        return err_got(p, "\"string\", x\"hex\", file, pattern, /regex/, length, until, eof, "
                          "reset or nothing");
    return adv(p, 0);
}

/* Optional `within DUR` (when allowed), then the end of the line. */
static int finish(struct parser *p, struct nr_step *s, int within_ok)
{
    if (within_ok && is_kw(p, "within")) {
        if (adv(p, 0) < 0 || take_dur(p, &s->timeout_ms) < 0)
            return -1;
        return want_eol(p, "end of line");
    }
    return want_eol(p, within_ok ? "'within DUR' or end of line" : "end of line");
}

/* --- steps ------------------------------------------------------------- */

/* Append the current token (word or string) to a template array. */
static int push_tmpl(struct parser *p, struct nr_tmpl **v, size_t *n, const char *what)
{
    if (p->tok.kind != LX_WORD && p->tok.kind != LX_STRING)
        return err_got(p, what);
    if (nr_scn_grow((void **)v, *n, sizeof(**v)) < 0)
        return lx_errf(&p->lx, p->tok.col, "out of memory");
    (*v)[(*n)++] = p->tok.tmpl;
    memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
    return adv(p, 0);
}

/* env NAME=VALUE: the template must begin with a literal "NAME=". */
static int push_env(struct parser *p, struct nr_step *s)
{
    static const char what[] = "an environment setting NAME=VALUE";
    const struct nr_seg *g = p->tok.tmpl.segs;
    const uint8_t *eq;

    if ((p->tok.kind != LX_WORD && p->tok.kind != LX_STRING) || p->tok.tmpl.nsegs == 0 ||
        g->is_var || !(eq = memchr(g->data, '=', g->len)) ||
        !is_name(g->data, (size_t)(eq - g->data)))
        return err_got(p, what);
    return push_tmpl(p, &s->u.target.env, &s->u.target.nenv, what);
}

/* clean OUTCOME (a target option): one more outcome of its clean set. */
static int push_clean(struct parser *p, struct nr_step *s)
{
    struct nr_end e;

    if (take_end(p, &e, 0) < 0)
        return -1;
    if (nr_scn_grow((void **)&s->u.target.clean, s->u.target.nclean,
                    sizeof(*s->u.target.clean)) < 0)
        return lx_errf(&p->lx, p->tok.col, "out of memory");
    s->u.target.clean[s->u.target.nclean++] = e;
    return 0;
}

/* The port of `ready port`: a literal 1-65535 or a word with a variable. */
static int take_ready_port(struct parser *p, struct nr_tmpl *out)
{
    const struct nr_seg *g = p->tok.tmpl.segs;
    uint64_t v = 0;

    if (p->tok.kind != LX_WORD || p->tok.tmpl.nsegs == 0)
        return err_got(p, "a port 1-65535");
    if (p->tok.tmpl.nsegs == 1 && !g->is_var) {
        for (size_t i = 0; i < g->len; i++) {
            if (g->data[i] < '0' || g->data[i] > '9' || (v = v * 10 + (g->data[i] - '0')) > 65535)
                return err_got(p, "a port 1-65535");
        }
        if (v == 0)
            return err_got(p, "a port 1-65535");
    }
    return take_tmpl(p, out, "a port 1-65535", 0);
}

/* Does the current token look like a port (digits, or begins with a variable)? */
static int at_port(const struct parser *p)
{
    const struct nr_seg *g = p->tok.tmpl.segs;

    return p->tok.kind == LX_WORD && p->tok.tmpl.nsegs > 0 &&
           (g->is_var || (g->len > 0 && g->data[0] >= '0' && g->data[0] <= '9'));
}

/* ready [stdout|stderr] (TEXT | /REGEX/) | ready port [PORT] | ready file PATH
 * (a target option; the token after `ready` was read with regexes allowed). */
static int take_ready(struct parser *p, struct nr_step *s)
{
    static const char what[] = "a \"readiness text\", /regex/, port or file";

    if (is_kw(p, "port")) {
        s->u.target.ready_kind = NR_READY_PORT;
        if (adv(p, 0) < 0)
            return -1;
        return at_port(p) ? take_ready_port(p, &s->u.target.ready) : 0;
    }
    if (is_kw(p, "file")) {
        s->u.target.ready_kind = NR_READY_FILE;
        if (adv(p, 0) < 0)
            return -1;
        return is_kw(p, "=") ? err_got(p, "a file path")
                             : take_tmpl(p, &s->u.target.ready, "a file path", 0);
    }
    if (is_kw(p, "stdout") || is_kw(p, "stderr")) {
        s->u.target.ready_stderr = is_kw(p, "stderr");
        if (adv(p, 1) < 0)
            return -1;
    }
    if (p->tok.kind == LX_REGEX) {
        if (check_regex(p) < 0)
            return -1;
        s->u.target.ready_kind = NR_READY_REGEX;
        s->u.target.ready = p->tok.tmpl;
        memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
        return adv(p, 0);
    }
    if (is_kw(p, "="))
        return err_got(p, what);
    return take_tmpl(p, &s->u.target.ready, what, 0);
}

static int st_target(struct parser *p, struct nr_step *s)
{
    int ready = 0;
    static const char opts[] = "'=' or an option: nowait, ready [stdout|stderr] \"TEXT\"|/RE/, "
                               "ready port [PORT], ready file PATH, activate tcp|udp ADDR, "
                               "env NAME=VALUE, cwd DIR, stop-signal SIG, clean CODE|signal SIG";
    int rc;

    if (take_new(p, s->name, SYM_TARGET) < 0)
        return -1;
    while (!is_kw(p, "=")) {
        if (is_kw(p, "nowait")) {
            s->u.target.nowait = 1;
            rc = adv(p, 0);
        } else if (is_kw(p, "ready") && !ready) {
            ready = 1;
            rc = adv(p, 1) < 0 ? -1 : take_ready(p, s);
        } else if (is_kw(p, "cwd") && s->u.target.cwd.nsegs == 0) {
            rc = adv(p, 0) < 0     ? -1
                 : is_kw(p, "=") ? err_got(p, "a directory")
                                 : take_tmpl(p, &s->u.target.cwd, "a directory", 0);
        } else if (is_kw(p, "activate") && !s->u.target.activate) {
            s->u.target.activate = 1;
            rc = adv(p, 0) < 0 || take_proto(p, &s->u.target.act_proto) < 0
                     ? -1
                     : take_addr(p, &s->u.target.act_addr);
        } else if (is_kw(p, "env")) {
            rc = adv(p, 0) < 0 ? -1 : push_env(p, s);
        } else if (is_kw(p, "stop-signal") && s->u.target.stop_sig == 0) {
            rc = adv(p, 0) < 0 ? -1 : take_sig(p, &s->u.target.stop_sig);
        } else if (is_kw(p, "clean")) {
            rc = adv(p, 0) < 0 ? -1 : push_clean(p, s);
        } else {
            rc = err_got(p, opts);
        }
        if (rc < 0)
            return -1;
    }
    if (adv(p, 0) < 0)
        return -1;
    if (p->tok.kind == LX_EOL)
        return err_got(p, "a program and its arguments after '='");
    while (p->tok.kind != LX_EOL)
        if (push_tmpl(p, &s->u.target.argv, &s->u.target.nargv,
                      "a program argument (a word or \"string\")") < 0)
            return -1;
    return sym_add(p, s, SYM_TARGET, IPPROTO_TCP);
}

static int st_connect(struct parser *p, struct nr_step *s)
{
    if (take_new(p, s->name, SYM_CONN) < 0 || want_kw(p, "=", "'='") < 0 ||
        take_sock(p, s) < 0)
        return -1;
    if (is_kw(p, "refused")) {
        s->u.sock.refused = 1;
        if (adv(p, 0) < 0)
            return -1;
    } else if (is_kw(p, "retry")) {
        if (s->u.sock.proto != IPPROTO_TCP)
            return err_got(p, "'within DUR' or end of line ('retry' is for TCP: a UDP connect "
                              "is never refused)");
        s->u.sock.retry = 1;
        if (adv(p, 0) < 0)
            return -1;
    }
    if (finish(p, s, 1) < 0 || sym_add(p, s, SYM_CONN, s->u.sock.proto) < 0)
        return -1;
    p->syms[p->nsyms - 1].is_unix = s->u.sock.is_unix;
    if (s->u.sock.refused)
        p->syms[p->nsyms - 1].closed = s->line; /* never open: only ${NAME} remains */
    return 0;
}

static int st_listen(struct parser *p, struct nr_step *s)
{
    if (take_new(p, s->name, SYM_LISTENER) < 0 || want_kw(p, "=", "'='") < 0 ||
        take_sock(p, s) < 0 || finish(p, s, 0) < 0)
        return -1;
    if (sym_add(p, s, SYM_LISTENER, s->u.sock.proto) < 0)
        return -1;
    p->syms[p->nsyms - 1].is_unix = s->u.sock.is_unix;
    return 0;
}

static int st_accept(struct parser *p, struct nr_step *s)
{
    struct sym *l;
    unsigned col;
    int is_unix;

    if (take_new(p, s->name, SYM_CONN) < 0 || want_kw(p, "=", "'='") < 0)
        return -1;
    col = p->tok.col;
    if (take_use(p, s->u.accept.listener, SYM_LISTENER, &l, 0) < 0)
        return -1;
    if (l->proto != IPPROTO_TCP)
        return lx_errf(&p->lx, col, "expected a %s listener, got '%s' (a %s listener)",
                       l->is_unix ? "unix" : "TCP", s->u.accept.listener,
                       l->is_unix ? "unixgram" : "UDP");
    is_unix = l->is_unix; /* sym_add may move the table l points into */
    if (finish(p, s, 1) < 0 || sym_add(p, s, SYM_CONN, IPPROTO_TCP) < 0)
        return -1;
    p->syms[p->nsyms - 1].is_unix = is_unix;
    return 0;
}

static int st_send(struct parser *p, struct nr_step *s)
{
    struct sym *y;
    int rc, udp_listener;

    if (take_use(p, s->name, SYM_DGRAM_OK, &y, 0) < 0)
        return -1;
    udp_listener = y->kind == SYM_LISTENER; /* DGRAM_OK: only UDP listeners */
    if (!starts_payload(p))
        return err_got(p, "a payload: \"string\", x\"hex\", file PATH or pattern N");
    if (parse_payload(p, &s->u.send.payload) < 0)
        return -1;
    for (;;) {
        if (is_kw(p, "chunk"))
            rc = adv(p, 0) < 0 ? -1
                               : take_range(p, &s->u.send.chunk, 1, UINT64_MAX,
                                            "a chunk size >= 1");
        else if (is_kw(p, "delay"))
            rc = adv(p, 0) < 0 ? -1 : take_dur(p, &s->u.send.delay_ms);
        else
            break;
        if (rc < 0)
            return -1;
    }
    if (is_kw(p, "to") && udp_listener) {
        if (adv(p, 0) < 0 || take_addr(p, &s->u.send.to) < 0)
            return -1;
        return finish(p, s, 1);
    }
    if (is_kw(p, "to"))
        return err_got(p, "'chunk N', 'delay DUR', 'within DUR' or end of line ('to ADDR' is "
                          "for a UDP listener)");
    if (p->tok.kind != LX_EOL && !is_kw(p, "within"))
        return err_got(p, udp_listener
                              ? "'chunk N', 'delay DUR', 'to ADDR', 'within DUR' or end of line"
                              : "'chunk N', 'delay DUR', 'within DUR' or end of line");
    return finish(p, s, 1);
}

/* expect CONN MATCH [from ADDR] [within DUR]; `from` only on UDP. */
static int st_expect(struct parser *p, struct nr_step *s)
{
    struct sym *y;

    if (take_use(p, s->name, SYM_DGRAM_OK, &y, 1) < 0 || parse_match(p, &s->u.expect, 1) < 0)
        return -1;
    if (is_kw(p, "from")) {
        if (y->proto != IPPROTO_UDP)
            return err_got(p, "'within DUR' or end of line ('from ADDR' is for UDP)");
        if (s->u.expect.kind == NR_M_NOTHING)
            return err_got(p, "'within DUR' or end of line ('from' does not apply to nothing)");
        if (adv(p, 0) < 0 || take_addr(p, &s->u.expect.from) < 0)
            return -1;
    }
    return finish(p, s, 1);
}

static int st_shutdown(struct parser *p, struct nr_step *s)
{
    if (take_use(p, s->name, SYM_CONN, NULL, 0) < 0 ||
        want_kw(p, "write", "'write' (only the sending side can be shut down)") < 0)
        return -1;
    return finish(p, s, 0);
}

/* close CONN / abort CONN: the connection is gone from here on. */
static int st_close(struct parser *p, struct nr_step *s)
{
    struct sym *y;

    if (take_use(p, s->name, SYM_SOCKET, &y, 0) < 0 || finish(p, s, 0) < 0)
        return -1;
    y->closed = s->line;
    return 0;
}

static int st_sleep(struct parser *p, struct nr_step *s)
{
    if (take_dur(p, &s->u.sleep.ms) < 0)
        return -1;
    return finish(p, s, 0);
}

/* exit TARGET CODE | signal SIG | clean */
static int st_exit(struct parser *p, struct nr_step *s)
{
    if (take_use(p, s->name, SYM_TARGET, NULL, 0) < 0 || take_end(p, &s->u.exit.expect, 1) < 0)
        return -1;
    return finish(p, s, 1);
}

/* stop TARGET [signal SIG] [expect OUTCOME]: the outcome defaults to clean. */
static int st_stop(struct parser *p, struct nr_step *s)
{
    int have_sig = 0, have_expect = 0;

    if (take_use(p, s->name, SYM_TARGET, NULL, 0) < 0)
        return -1;
    s->u.exit.expect.kind = NR_END_CLEAN;
    if (is_kw(p, "signal")) {
        have_sig = 1;
        if (adv(p, 0) < 0 || take_sig(p, &s->u.exit.sig) < 0)
            return -1;
    }
    if (is_kw(p, "expect")) {
        have_expect = 1;
        if (adv(p, 0) < 0 || take_end(p, &s->u.exit.expect, 1) < 0)
            return -1;
    }
    if (p->tok.kind == LX_EOL || is_kw(p, "within"))
        return finish(p, s, 1);
    if (!have_expect && p->tok.kind == LX_WORD && p->tok.rawlen > 0 && p->tok.raw[0] >= '0' &&
        p->tok.raw[0] <= '9')
        return err_got(p, "'expect CODE' (the outcome stop waits for follows 'expect')");
    return err_got(p, have_expect ? "'within DUR' or end of line"
                      : have_sig  ? "'expect OUTCOME', 'within DUR' or end of line"
                                  : "'signal SIG', 'expect OUTCOME', 'within DUR' or end of line");
}

static int st_output(struct parser *p, struct nr_step *s)
{
    s->u.output.is_stderr = p->tok.raw[3] == 'e'; /* "stderr" vs "stdout" */
    if (adv(p, 0) < 0 || take_use(p, s->name, SYM_TARGET, NULL, 1) < 0 ||
        parse_match(p, &s->u.output.match, 0) < 0)
        return -1;
    return finish(p, s, 1);
}

static int st_file(struct parser *p, struct nr_step *s)
{
    if (take_tmpl(p, &s->u.file.path, "a file path", 1) < 0)
        return -1;
    if (is_kw(p, "absent")) {
        s->u.file.absent = 1;
        if (adv(p, 0) < 0)
            return -1;
    } else if (parse_match(p, &s->u.file.match, 0) < 0) {
        return -1;
    }
    return finish(p, s, 1);
}

static int st_set(struct parser *p, struct nr_step *s)
{
    if (p->tok.raw[0] == 'p') { /* param */
        if (p->depth > 0)
            return lx_errf(&p->lx, p->tok.col, "expected 'param' outside blocks, got it in a "
                                               "block (a block may use it: declare it before)");
        s->u.set.is_param = 1;
    }
    /* a param is declared once: -D could not say which declaration it means */
    if (adv(p, 0) < 0 ||
        take_new(p, s->name, s->u.set.is_param ? SYM_PARAM : SYM_VAR) < 0 ||
        want_kw(p, "=", "'='") < 0)
        return -1;
    if (p->tok.kind == LX_HEX) {
        s->u.set.value = p->tok.tmpl;
        memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
        if (adv(p, 0) < 0)
            return -1;
    } else if (take_tmpl(p, &s->u.set.value, "a value (a word or \"string\")", 0) < 0) {
        return -1;
    }
    if (finish(p, s, 0) < 0)
        return -1;
    return sym_add(p, s, SYM_VAR, IPPROTO_TCP);
}

static int st_block(struct parser *p, struct nr_step *s)
{
    uint64_t n;

    if (p->depth >= NR_SCN_DEPTH_MAX)
        return lx_errf(&p->lx, s->col, "expected at most %d nested blocks, got one more",
                       NR_SCN_DEPTH_MAX);
    if (s->kind == NR_S_PARALLEL ? take_range(p, &n, 1, PARALLEL_MAX, "an instance count 1-1024")
                                 : take_range(p, &n, 1, REPEAT_MAX, "a repeat count 1-1000000"))
        return -1;
    s->u.block.count = (unsigned)n;
    return finish(p, s, 0);
}

/* The `wire` properties: their words and what follows each. */
static const struct {
    const char *name;
    enum nr_wire_prop prop;
    int side;   /* a SIDE follows */
    int value;  /* then a value: 1 a state, 2 a count */
} wire_props[] = {
    { "state", NR_WP_STATE, 0, 1 },         { "handshake", NR_WP_HANDSHAKE, 0, 0 },
    { "first-fin", NR_WP_FIRST_FIN, 1, 0 }, { "no-rst", NR_WP_NO_RST, 0, 0 },
    { "rst", NR_WP_RST, 1, 0 },             { "no-retransmissions", NR_WP_NO_RETRANS, 0, 0 },
    { "datagrams", NR_WP_DATAGRAMS, 0, 2 }, { "bytes", NR_WP_BYTES, 1, 2 },
};

/* zeek's conn_state values, as `wire NAME state S` takes them. */
static const char *const wire_states[] = { "S0", "S1", "SF",   "REJ",    "S2",  "S3",  "RSTO",
                                           "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH" };

/* Is the current token's template literal text equal to one of words? */
static int tok_in(const struct parser *p, const char *const *words, size_t n)
{
    const struct nr_seg *g = tok_literal(p);

    if (!g)
        return 1; /* ${var}: judged when it runs */
    for (size_t i = 0; i < n; i++)
        if (g->len == strlen(words[i]) && memcmp(g->data, words[i], g->len) == 0)
            return 1;
    return 0;
}

/* wire NAME PROPERTY [SIDE] [VALUE]: a claim judged on the capture; the
 * sides of a connection are us|peer, of a flow client|server. */
static int st_wire(struct parser *p, struct nr_step *s)
{
    static const char props[] = "a wire property (state S, handshake, first-fin SIDE, no-rst, "
                                "rst SIDE, no-retransmissions, datagrams N, bytes SIDE N)";
    static const char *const conn_sides[] = { "us", "peer" }, *const flow_sides[] = { "client", "server" };
    const char *const *sides;
    size_t k = 0, np = sizeof(wire_props) / sizeof(wire_props[0]);
    struct sym *y;
    unsigned col = p->tok.col;
    char what[64];

    s->u.wire.kind = NR_WIRE_CLAIM;
    if (take_use(p, s->name, SYM_WIRE_OK, &y, 0) < 0)
        return -1;
    if (y->is_unix)
        return lx_errf(&p->lx, col, "expected a TCP or UDP connection or a flow, got '%s' (a "
                                    "unix socket: its traffic is not in the capture)", s->name);
    s->u.wire.on_flow = y->kind == SYM_FLOW;
    sides = s->u.wire.on_flow ? flow_sides : conn_sides;
    while (k < np && !is_kw(p, wire_props[k].name))
        k++;
    if (k == np)
        return err_got(p, props);
    s->u.wire.prop = wire_props[k].prop;
    if (adv(p, 0) < 0)
        return -1;
    if (wire_props[k].side) {
        snprintf(what, sizeof(what), "a side: %s or %s", sides[0], sides[1]);
        if (!is_kw(p, sides[0]) && !is_kw(p, sides[1]))
            return err_got(p, what);
        s->u.wire.theirs = is_kw(p, sides[1]);
        if (adv(p, 0) < 0)
            return -1;
    }
    if (wire_props[k].value == 1) {
        if ((p->tok.kind != LX_WORD && p->tok.kind != LX_STRING) ||
            !tok_in(p, wire_states, sizeof(wire_states) / sizeof(wire_states[0])))
            return err_got(p, "a zeek state (S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH)");
        if (take_tmpl(p, &s->u.wire.value, "a state", 0) < 0)
            return -1;
    } else if (wire_props[k].value == 2) {
        const struct nr_seg *g = p->tok.tmpl.segs;
        if ((p->tok.kind != LX_WORD && p->tok.kind != LX_STRING) || p->tok.tmpl.nsegs == 0 ||
            (p->tok.tmpl.nsegs == 1 && !g->is_var &&
             (g->len == 0 || g->len > 19 || strspn((const char *)g->data, "0123456789") != g->len)))
            return err_got(p, "a count (digits, at most 19)");
        if (take_tmpl(p, &s->u.wire.value, "a count", 0) < 0)
            return -1;
    }
    return finish(p, s, 0);
}

/* One end of a flow (after `to` / `from`): a port 1-65535 or an address
 * HOST:PORT, checked here when it has no variables (else when it runs). */
static int take_endpoint(struct parser *p, struct nr_tmpl *out)
{
    static const char what[] = "a port 1-65535 or an address like 127.0.0.1:80";
    const struct nr_seg *g = p->tok.tmpl.segs;
    char errbuf[NR_ERRBUF_SIZE], text[NR_ADDRSTR_SIZE];
    struct nr_addr a;

    if ((p->tok.kind != LX_WORD && p->tok.kind != LX_STRING) || p->tok.tmpl.nsegs == 0)
        return err_got(p, what);
    if (p->tok.tmpl.nsegs == 1 && !g->is_var) {
        size_t digits = strspn((const char *)g->data, "0123456789");
        if (digits == g->len) {
            if (g->len == 0 || g->len > 5 || atoi((const char *)g->data) < 1 ||
                atoi((const char *)g->data) > 65535)
                return err_got(p, what);
        } else if (g->len >= sizeof(text) ||
                   (snprintf(text, sizeof(text), "%s", (const char *)g->data),
                    nr_addr_parse(text, &a, errbuf) < 0)) {
            return err_got(p, what);
        }
    }
    return take_addr_text(p, out, what);
}

/* flow NAME = PROTO FLOWSPEC [index N] / flows PROTO FLOWSPEC count N, where
 * FLOWSPEC is `to EP` and/or `from EP` (each once, either order). */
static int st_flow(struct parser *p, struct nr_step *s)
{
    int is_count = p->tok.rawlen == 5; /* "flows" vs "flow" */
    const char *tail = is_count ? "'count N'" : "'index N' or end of line";
    char what[96];
    uint64_t v = 0;

    s->u.wire.kind = is_count ? NR_WIRE_COUNT : NR_WIRE_FLOW;
    if (adv(p, 0) < 0)
        return -1;
    if (!is_count && (take_new(p, s->name, SYM_FLOW) < 0 || want_kw(p, "=", "'='") < 0))
        return -1;
    if (take_proto(p, &s->u.wire.proto) < 0)
        return -1;
    if (!is_kw(p, "to") && !is_kw(p, "from"))
        return err_got(p, "'to PORT|ADDR' or 'from PORT|ADDR'");
    for (;;) {
        int to = is_kw(p, "to");
        struct nr_tmpl *t = to ? &s->u.wire.to : &s->u.wire.from;
        if ((!to && !is_kw(p, "from")) || t->nsegs > 0)
            break;
        if (adv(p, 0) < 0 || take_endpoint(p, t) < 0)
            return -1;
    }
    if (is_count && is_kw(p, "count")) {
        if (adv(p, 0) < 0 || take_u64(p, &s->u.wire.count, "a flow count") < 0)
            return -1;
        return finish(p, s, 0);
    }
    if (!is_count && is_kw(p, "index")) {
        static const char iwhat[] = "an index 0-4294967295 (0: the first match)";
        if (adv(p, 0) < 0)
            return -1;
        if (p->tok.kind != LX_WORD || p->tok.tmpl.nsegs == 0)
            return err_got(p, iwhat);
        if (p->tok.tmpl.nsegs == 1 && !p->tok.tmpl.segs[0].is_var) {
            unsigned col = p->tok.col;
            const uint8_t *raw = p->tok.raw;
            size_t rawlen = p->tok.rawlen;
            struct nr_tmpl keep = p->tok.tmpl;
            memset(&p->tok.tmpl, 0, sizeof(p->tok.tmpl));
            if (take_u64(p, &v, iwhat) < 0 || v > UINT32_MAX) {
                nr_tmpl_free(&keep);
                return v > UINT32_MAX ? lx_err_got(&p->lx, col, iwhat, raw, rawlen) : -1;
            }
            s->u.wire.index = keep;
        } else if (take_tmpl(p, &s->u.wire.index, iwhat, 0) < 0) {
            return -1;
        }
        if (finish(p, s, 0) < 0)
            return -1;
        return sym_add(p, s, SYM_FLOW, s->u.wire.proto);
    }
    if (!is_count && p->tok.kind == LX_EOL)
        return sym_add(p, s, SYM_FLOW, s->u.wire.proto);
    snprintf(what, sizeof(what), "%s%s%s",
             s->u.wire.to.nsegs == 0 ? "'to PORT|ADDR', " : "",
             s->u.wire.from.nsegs == 0 ? "'from PORT|ADDR', " : "", tail);
    if (is_count) /* "'from PORT|ADDR' or 'count N'" */
        snprintf(what, sizeof(what), "%s%s%s",
                 s->u.wire.to.nsegs == 0 ? "'to PORT|ADDR' or " : "",
                 s->u.wire.from.nsegs == 0 ? "'from PORT|ADDR' or " : "", tail);
    return err_got(p, what);
}

/* --- fault proxy: proxy, fault, heal, ledger ------------------------------- */

#define TOX_DUR_MAX_MS 600000u       /* a toxic's durations: at most 10 min */
#define TOX_RATE_MAX 1000000000u     /* bandwidth: at most 1 GB/s */
#define TOX_SLICE_MAX (1u << 20)     /* slicer sizes */
#define TOX_GAP_MAX 1000             /* reorder gap */

/* A toxic's duration: a duration of at most TOX_DUR_MAX_MS. */
static int take_tox_dur(struct parser *p, uint64_t *ms)
{
    unsigned col = p->tok.col;
    const uint8_t *raw = p->tok.raw;
    size_t rawlen = p->tok.rawlen;
    int v;

    if (take_dur(p, &v) < 0)
        return -1;
    if ((unsigned)v > TOX_DUR_MAX_MS)
        return lx_err_got(&p->lx, col, "a toxic duration of at most 600s", raw, rawlen);
    *ms = (uint64_t)v;
    return 0;
}

/* A probability: 0-100 with up to two decimals and a '%' (30%, 0.5%), in
 * basis points. */
static int take_percent(struct parser *p, unsigned *bp)
{
    static const char what[] = "a percentage 0-100% like 30% or 0.5%";
    const uint8_t *r = p->tok.raw;
    size_t n = p->tok.rawlen, i = 0, nd = 0;
    uint64_t v = 0;

    if (p->tok.kind != LX_WORD || n < 2 || r[n - 1] != '%')
        return err_got(p, what);
    for (; i < n - 1 && r[i] >= '0' && r[i] <= '9' && i < 4; i++)
        v = v * 10 + (r[i] - '0');
    if (i == 0)
        return err_got(p, what);
    v *= 100;
    if (i < n - 1 && r[i] == '.') {
        uint64_t scale = 10;
        for (i++; i < n - 1 && r[i] >= '0' && r[i] <= '9' && nd < 2; i++, nd++, scale /= 10)
            v += (uint64_t)(r[i] - '0') * scale;
        if (nd == 0)
            return err_got(p, what);
    }
    if (i != n - 1 || v > 10000)
        return err_got(p, what);
    *bp = (unsigned)v;
    return adv(p, 0);
}

/* The optional direction of fault, heal and ledger: up, down or both. */
static int take_dirs(struct parser *p, unsigned *dirs)
{
    *dirs = NR_DIR_UP | NR_DIR_DOWN;
    if (is_kw(p, "up"))
        *dirs = NR_DIR_UP;
    else if (is_kw(p, "down"))
        *dirs = NR_DIR_DOWN;
    else if (!is_kw(p, "both"))
        return 0;
    return adv(p, 0);
}

/* reset_peer [after N [bytes] | after DUR] */
static int take_reset_after(struct parser *p, struct nr_toxic *t)
{
    const uint8_t *r = p->tok.raw;
    size_t n = p->tok.rawlen;

    if (!is_kw(p, "after"))
        return 0;
    if (adv(p, 0) < 0)
        return -1;
    r = p->tok.raw;
    n = p->tok.rawlen;
    if (p->tok.kind == LX_WORD && n > 0 && strspn((const char *)r, "0123456789") == n) {
        t->by_bytes = 1;
        if (take_u64(p, &t->bytes, "a byte count") < 0)
            return -1;
        return is_kw(p, "bytes") ? adv(p, 0) : 0;
    }
    t->by_time = 1;
    return take_tox_dur(p, &t->ms);
}

/* The arguments of a toxic, after its name. */
static int take_tox_args(struct parser *p, struct nr_toxic *t)
{
    switch (t->kind) {
    case NR_TOX_LATENCY:
    case NR_TOX_DELAY:
        if (take_tox_dur(p, &t->ms) < 0)
            return -1;
        if (!is_kw(p, "jitter"))
            return 0;
        return adv(p, 0) < 0 ? -1 : take_tox_dur(p, &t->jitter_ms);
    case NR_TOX_BANDWIDTH:
        return take_range(p, &t->bytes, 1, TOX_RATE_MAX, "a rate of 1-1000000000 bytes/s");
    case NR_TOX_SLICER:
        if (take_range(p, &t->bytes, 1, TOX_SLICE_MAX, "a slice size of 1-1048576 bytes") < 0)
            return -1;
        for (;;) {
            int rc;
            if (is_kw(p, "var"))
                rc = adv(p, 0) < 0 ? -1 : take_range(p, &t->var, 0, TOX_SLICE_MAX,
                                                     "a size variation of 0-1048576 bytes");
            else if (is_kw(p, "delay"))
                rc = adv(p, 0) < 0 ? -1 : take_tox_dur(p, &t->ms);
            else
                return 0;
            if (rc < 0)
                return -1;
        }
    case NR_TOX_LIMIT_DATA:
        return take_u64(p, &t->bytes, "a byte count");
    case NR_TOX_TRUNCATE:
        return take_range(p, &t->bytes, 0, 65535, "a datagram size of 0-65535 bytes");
    case NR_TOX_RESET_PEER:
        return take_reset_after(p, t);
    case NR_TOX_TIMEOUT:
    case NR_TOX_SLOW_CLOSE:
        return take_tox_dur(p, &t->ms);
    case NR_TOX_HALF_CLOSE:
    case NR_TOX_STALL:
        return 0;
    case NR_TOX_REORDER:
        if (take_percent(p, &t->bp) < 0)
            return -1;
        t->gap = 1;
        if (!is_kw(p, "gap"))
            return 0;
        return adv(p, 0) < 0 ? -1 : take_range(p, &t->gap, 1, TOX_GAP_MAX,
                                               "a gap of 1-1000 datagrams");
    case NR_TOX_DROP:
    case NR_TOX_DUPLICATE:
    case NR_TOX_CORRUPT:
        return take_percent(p, &t->bp);
    case NR_TOX_COUNT:
        break;
    }
    return err_got(p, "a toxic");
}

/* The name of a toxic for a proxy of protocol proto (kind into *kind). */
static int take_tox_name(struct parser *p, int proto, int *kind)
{
    static const char tcp[] = "a TCP toxic: latency, bandwidth, slicer, limit_data, reset_peer, "
                              "timeout, slow_close, half_close or stall";
    static const char udp[] = "a UDP toxic: drop, duplicate, reorder, corrupt, delay or truncate";
    int k = p->tok.kind == LX_WORD ? nr_tox_lookup((const char *)p->tok.raw, p->tok.rawlen) : -1;

    if (k < 0 || nr_tox_is_udp((enum nr_tox_kind)k) != (proto == IPPROTO_UDP))
        return err_got(p, proto == IPPROTO_UDP ? udp : tcp);
    *kind = k;
    return adv(p, 0);
}

/* proxy NAME = tcp|udp UPSTREAM */
static int st_proxy(struct parser *p, struct nr_step *s)
{
    if (take_new(p, s->name, SYM_PROXY) < 0 || want_kw(p, "=", "'='") < 0 ||
        take_proto(p, &s->u.proxy.proto) < 0 || take_addr(p, &s->u.proxy.upstream) < 0 ||
        finish(p, s, 0) < 0)
        return -1;
    return sym_add(p, s, SYM_PROXY, s->u.proxy.proto);
}

/* fault PROXY [up|down|both] TOXIC ARGS / heal PROXY [up|down|both] [TOXIC] */
static int st_fault(struct parser *p, struct nr_step *s)
{
    struct sym *y;
    int kind = 0;

    s->u.fault.heal = p->tok.raw[0] == 'h';
    if (adv(p, 0) < 0 || take_use(p, s->name, SYM_PROXY, &y, 0) < 0 ||
        take_dirs(p, &s->u.fault.dirs) < 0)
        return -1;
    if (s->u.fault.heal && p->tok.kind == LX_EOL) {
        s->u.fault.all = 1;
        return 0;
    }
    if (take_tox_name(p, y->proto, &kind) < 0)
        return -1;
    s->u.fault.tox.kind = (enum nr_tox_kind)kind;
    if (!s->u.fault.heal && take_tox_args(p, &s->u.fault.tox) < 0)
        return -1;
    return finish(p, s, 0);
}

/* A ledger item's name. */
static int take_ledger_item(struct parser *p, enum nr_ledger_item *out)
{
    int item = p->tok.kind == LX_WORD
                   ? nr_ledger_lookup((const char *)p->tok.raw, p->tok.rawlen) : -1;

    if (item < 0)
        return err_got(p, "a ledger item: bytes_in, bytes_out, delayed, slices, cut, resets, "
                          "closes, stalls, conns, refused, datagrams_in, datagrams_out, dropped, "
                          "duplicated, reordered, corrupted, truncated or datagrams_delayed");
    *out = (enum nr_ledger_item)item;
    return adv(p, 0);
}

/* ledger PROXY [DIR] ITEM (N | N..M | = [DIR] ITEM) [within DUR] */
static int st_ledger(struct parser *p, struct nr_step *s)
{
    static const char what[] = "a count N, a range N..M or '= [up|down] ITEM'";
    const uint8_t *r;
    size_t n, dots;

    if (take_use(p, s->name, SYM_PROXY, NULL, 0) < 0 || take_dirs(p, &s->u.ledger.dirs) < 0 ||
        take_ledger_item(p, &s->u.ledger.item) < 0)
        return -1;
    if (is_kw(p, "=")) {
        s->u.ledger.rel = 1;
        if (adv(p, 0) < 0 || take_dirs(p, &s->u.ledger.rel_dirs) < 0 ||
            take_ledger_item(p, &s->u.ledger.rel_item) < 0)
            return -1;
        return finish(p, s, 1);
    }
    r = p->tok.raw;
    n = p->tok.rawlen;
    if (p->tok.kind != LX_WORD || n == 0)
        return err_got(p, what);
    dots = strspn((const char *)r, "0123456789");
    if (dots + 2 < n && r[dots] == '.' && r[dots + 1] == '.' && dots > 0) {
        char lo[24], hi[24];
        size_t hn = n - dots - 2;
        if (dots >= sizeof(lo) || hn >= sizeof(hi) ||
            strspn((const char *)r + dots + 2, "0123456789") != hn)
            return err_got(p, what);
        memcpy(lo, r, dots);
        lo[dots] = 0;
        memcpy(hi, r + dots + 2, hn);
        hi[hn] = 0;
        s->u.ledger.lo = strtoull(lo, NULL, 10);
        s->u.ledger.hi = strtoull(hi, NULL, 10);
        if (s->u.ledger.hi < s->u.ledger.lo || dots > 19 || hn > 19)
            return err_got(p, "a range N..M with N <= M below 2^63");
        if (adv(p, 0) < 0)
            return -1;
    } else {
        if (take_u64(p, &s->u.ledger.lo, what) < 0)
            return -1;
        s->u.ledger.hi = s->u.ledger.lo;
    }
    return finish(p, s, 1);
}

/* timeout DUR / deadline DUR: scenario settings, before the first step. */
static int st_directive(struct parser *p, struct nr_step *s)
{
    int is_timeout = p->tok.raw[0] == 't';
    unsigned col = p->tok.col;
    int ms;

    if (p->depth > 0 || p->nsteps > 0)
        return lx_errf(&p->lx, col, "expected '%s' only before the first step, got it later",
                       is_timeout ? "timeout" : "deadline");
    if (adv(p, 0) < 0 || take_dur(p, &ms) < 0 || finish(p, s, 0) < 0)
        return -1;
    if (is_timeout)
        p->scn->step_timeout_ms = ms;
    else
        p->scn->deadline_ms = ms;
    return 0;
}

#define DIRECTIVE (-1)

static const struct {
    const char *kw;
    int kind;     /* enum nr_step_kind, or DIRECTIVE */
    int self_adv; /* the handler reads the keyword itself */
    int (*fn)(struct parser *, struct nr_step *);
} steps[] = {
    { "target", NR_S_TARGET, 0, st_target },       { "connect", NR_S_CONNECT, 0, st_connect },
    { "listen", NR_S_LISTEN, 0, st_listen },       { "accept", NR_S_ACCEPT, 0, st_accept },
    { "send", NR_S_SEND, 0, st_send },             { "expect", NR_S_EXPECT, 0, st_expect },
    { "shutdown", NR_S_SHUTDOWN, 0, st_shutdown }, { "close", NR_S_CLOSE, 0, st_close },
    { "abort", NR_S_ABORT, 0, st_close },          { "sleep", NR_S_SLEEP, 0, st_sleep },
    { "exit", NR_S_EXIT, 0, st_exit },             { "stop", NR_S_STOP, 0, st_stop },
    { "stdout", NR_S_OUTPUT, 1, st_output },       { "stderr", NR_S_OUTPUT, 1, st_output },
    { "file", NR_S_FILE, 0, st_file },             { "set", NR_S_SET, 1, st_set },
    { "param", NR_S_SET, 1, st_set },
    { "parallel", NR_S_PARALLEL, 0, st_block },    { "repeat", NR_S_REPEAT, 0, st_block },
    { "wire", NR_S_WIRE, 0, st_wire },             { "timeout", DIRECTIVE, 1, st_directive },
    { "flow", NR_S_WIRE, 1, st_flow },             { "flows", NR_S_WIRE, 1, st_flow },
    { "deadline", DIRECTIVE, 1, st_directive },
    { "proxy", NR_S_PROXY, 0, st_proxy },          { "fault", NR_S_FAULT, 1, st_fault },
    { "heal", NR_S_FAULT, 1, st_fault },           { "ledger", NR_S_LEDGER, 0, st_ledger },
};

/* Add a parsed step to the open list; a block opens its body. */
static int append(struct parser *p, struct nr_step *s)
{
    struct nr_steps *list = p->stack[p->depth].list;
    struct nr_step *dst;

    if (p->nsteps >= NR_SCN_STEPS_MAX)
        return lx_errf(&p->lx, s->col, "expected at most %d steps, got more", NR_SCN_STEPS_MAX);
    if (nr_scn_grow((void **)&list->v, list->n, sizeof(*list->v)) < 0)
        return lx_errf(&p->lx, s->col, "out of memory");
    dst = &list->v[list->n++];
    *dst = *s;
    p->nsteps++;
    if (s->kind == NR_S_PARALLEL || s->kind == NR_S_REPEAT) {
        p->depth++;
        p->stack[p->depth].list = &dst->u.block.body;
        p->stack[p->depth].block = dst;
    }
    return 0;
}

/* `end`: close the innermost block and forget the names it defined. */
static int end_block(struct parser *p)
{
    if (p->depth == 0)
        return err_got(p, "a step ('end' closes a parallel or repeat block, none is open)");
    if (adv(p, 0) < 0 || want_eol(p, "end of line after 'end'") < 0)
        return -1;
    while (p->nsyms > 0 && p->syms[p->nsyms - 1].depth == p->depth)
        p->nsyms--;
    p->depth--;
    return 0;
}

/* A step's source line for messages: without leading blanks or a final CR. */
static char *step_source(const uint8_t *line, size_t len)
{
    while (len > 0 && (*line == ' ' || *line == '\t'))
        line++, len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    return strndup((const char *)line, len);
}

static int parse_buffer(struct parser *p, const uint8_t *buf, size_t len);

/* The path of an included file: relative to the including file's directory. */
static char *include_path(const char *from, const uint8_t *name, size_t n)
{
    const char *slash = strrchr(from, '/');
    char *out;

    if (n > 0 && name[0] == '/')
        return strndup((const char *)name, n);
    if (!slash)
        return strndup((const char *)name, n);
    out = malloc((size_t)(slash - from) + 1 + n + 1);
    if (out)
        sprintf(out, "%.*s/%.*s", (int)(slash - from), from, (int)n, (const char *)name);
    return out;
}

/* `include FILE`: the steps of FILE, here, as if written in place; its names
 * join this scope.  Errors point into FILE, then say where it was included. */
static int include(struct parser *p)
{
    unsigned col = p->tok.col, line = p->lx.line, from = p->file;
    const struct nr_seg *g;
    uint8_t *buf = NULL;
    size_t len = 0;
    char *path = NULL, **nf;
    int rc = -1;

    if (adv(p, 0) < 0)
        return -1;
    g = p->tok.tmpl.segs;
    if ((p->tok.kind != LX_WORD && p->tok.kind != LX_STRING) || p->tok.tmpl.nsegs != 1 ||
        g->is_var || g->len == 0)
        return err_got(p, "a file to include (a path without variables)");
    if (!p->read)
        return lx_errf(&p->lx, col, "expected no 'include' here (files cannot be read)");
    if (p->include_depth >= NR_SCN_INCLUDE_MAX)
        return lx_errf(&p->lx, col, "expected includes nested at most %d deep, got more",
                       NR_SCN_INCLUDE_MAX);
    path = include_path(p->scn->files[from], g->data, g->len);
    if (!path)
        return lx_errf(&p->lx, col, "out of memory");
    for (unsigned i = 0; i <= p->include_depth; i++)
        if (strcmp(p->scn->files[p->include_stack[i]], path) == 0) {
            lx_errf(&p->lx, p->tok.col, "expected a file that does not include itself, got "
                                        "'%s' (an include cycle)", path);
            goto out;
        }
    if (adv(p, 0) < 0 || want_eol(p, "end of line after the included file") < 0)
        goto out;
    if (p->read(path, &buf, &len, p->lx.errbuf) < 0) {
        char why[NR_ERRBUF_SIZE];
        snprintf(why, sizeof(why), "%s", p->lx.errbuf);
        lx_errf(&p->lx, col, "expected a file to include: %s", why);
        goto out;
    }
    nf = realloc(p->scn->files, (p->scn->nfiles + 1) * sizeof(*nf));
    if (!nf) {
        lx_errf(&p->lx, col, "out of memory");
        goto out;
    }
    p->scn->files = nf;
    p->scn->files[p->scn->nfiles] = path;
    path = NULL;
    p->file = (unsigned)p->scn->nfiles++;
    p->include_stack[++p->include_depth] = p->file;
    rc = parse_buffer(p, buf, len);
    p->include_depth--;
    if (rc < 0) {
        size_t used = strlen(p->lx.errbuf);
        snprintf(p->lx.errbuf + used, NR_ERRBUF_SIZE - used, " (included from %s:%u)",
                 p->scn->files[from], line);
    }
    p->file = from;
    p->lx.path = p->scn->files[from];
    p->lx.line = line;
out:
    free(path);
    free(buf);
    return rc;
}

static int parse_line(struct parser *p, const uint8_t *line, size_t len, unsigned lineno)
{
    const uint8_t *nul = memchr(line, 0, len);
    struct nr_step s;
    size_t i;

    lx_line(&p->lx, line, len, lineno);
    if (len > NR_SCN_LINE_MAX)
        return lx_errf(&p->lx, NR_SCN_LINE_MAX + 1, "expected a line of at most %d bytes, got a "
                                                    "longer one", NR_SCN_LINE_MAX);
    if (nul)
        return lx_errf(&p->lx, (unsigned)(nul - line) + 1, "expected text, got a NUL byte");
    if (adv(p, 0) < 0)
        return -1;
    if (p->tok.kind == LX_EOL)
        return 0;
    if (is_kw(p, "end"))
        return end_block(p);
    if (is_kw(p, "include"))
        return include(p);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (is_kw(p, steps[i].kw))
            break;
    if (i == sizeof(steps) / sizeof(steps[0]))
        return err_got(p, "a step like target, connect, send, expect, close (see 'netrig help "
                          "scenario')");
    memset(&s, 0, sizeof(s));
    s.kind = steps[i].kind == DIRECTIVE ? NR_S_SLEEP : (enum nr_step_kind)steps[i].kind;
    s.file = p->file;
    s.text = step_source(line, len);
    if (!s.text)
        return lx_errf(&p->lx, p->tok.col, "out of memory");
    s.line = lineno;
    s.col = p->tok.col;
    s.timeout_ms = -1;
    if ((!steps[i].self_adv && adv(p, 0) < 0) || steps[i].fn(p, &s) < 0 ||
        (steps[i].kind != DIRECTIVE && append(p, &s) < 0)) {
        step_free(&s);
        return -1;
    }
    if (steps[i].kind == DIRECTIVE)
        step_free(&s); /* a setting, not a step: nothing keeps its text */
    return 0;
}

/* Parse buf[0..len) as the file p->file: every line, then the check that
 * the blocks it opened are closed.  Returns 0 / -1 with errbuf set. */
static int parse_buffer(struct parser *p, const uint8_t *buf, size_t len)
{
    struct nr_cursor cur;
    const uint8_t *line = NULL, *nl;
    unsigned lineno = 0, depth = p->depth;
    size_t n;

    p->lx.path = p->scn->files[p->file];
    nr_cur_init(&cur, buf, len);
    while (nr_cur_left(&cur) > 0) {
        nl = memchr(nr_cur_ptr(&cur), '\n', nr_cur_left(&cur));
        n = nl ? (size_t)(nl - nr_cur_ptr(&cur)) : nr_cur_left(&cur);
        nr_cur_bytes(&cur, n, &line);
        nr_cur_skip(&cur, nl ? 1 : 0);
        if (lineno == UINT32_MAX - 1)
            return nr_seterr(p->lx.errbuf, "%s: too many lines", p->lx.path);
        if (parse_line(p, line, n, ++lineno) < 0)
            return -1;
    }
    if (p->depth > depth) {
        const struct nr_step *b = p->stack[p->depth].block;
        p->lx.line = b->line;
        return lx_errf(&p->lx, b->col, "expected 'end' to close this %s block, got end of file",
                       b->kind == NR_S_PARALLEL ? "parallel" : "repeat");
    }
    return 0;
}

int nr_scn_parse_with(const uint8_t *buf, size_t len, const char *path, nr_scn_reader read,
                      struct nr_scn *out, char *errbuf)
{
    struct parser *p = calloc(1, sizeof(*p));
    uint8_t *scratch = malloc(NR_SCN_LINE_MAX);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->path = strdup(path ? path : "<scenario>");
    out->files = calloc(1, sizeof(*out->files));
    if (!p || !scratch || !out->path || !out->files) {
        nr_seterr(errbuf, "%s: out of memory", path ? path : "<scenario>");
        goto out;
    }
    out->files[0] = out->path;
    out->nfiles = 1;
    out->step_timeout_ms = DEFAULT_STEP_MS;
    out->deadline_ms = DEFAULT_DEADLINE_MS;
    p->scn = out;
    p->read = read;
    p->stack[0].list = &out->steps;
    p->lx.errbuf = errbuf;
    p->lx.varcheck = varcheck;
    p->lx.ctx = p;
    p->lx.scratch = scratch;
    rc = parse_buffer(p, buf, len);
out:
    if (p) {
        lx_tok_clear(&p->tok);
        free(p->syms);
    }
    free(p);
    free(scratch);
    if (rc < 0)
        nr_scn_free(out);
    return rc;
}

int nr_scn_parse(const uint8_t *buf, size_t len, const char *path, struct nr_scn *out,
                 char *errbuf)
{
    return nr_scn_parse_with(buf, len, path, NULL, out, errbuf);
}
