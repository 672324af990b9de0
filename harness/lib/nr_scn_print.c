/* nr_scn_print.c - a parsed scenario written back as scenario text, in one
 * canonical form: every step on one line, templates as "strings" (words
 * only where the grammar takes nothing else), durations in ms, signals as
 * numbers, every default spelled out where the grammar has a word for it.
 * Reading the text back gives the same steps; the scenario fuzz harness
 * checks that printing, parsing and printing again gives the same text. */
#include "nr_scn.h"

#include <stdio.h>

/* A template's segments: variables as ${name}, literal bytes as lit
 * writes them. */
static void put_segs(FILE *f, const struct nr_tmpl *t,
                     void (*lit)(FILE *f, const uint8_t *p, size_t n))
{
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct nr_seg *g = &t->segs[i];
        if (g->is_var)
            fprintf(f, "${%s}", (const char *)g->data);
        else
            lit(f, g->data, g->len);
    }
}

/* Literal bytes of a "string": quotes, backslashes and $ escaped, control
 * and non-ASCII bytes as \xHH. */
static void str_lit(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint8_t c = p[k];
        if (c == '"' || c == '\\' || c == '$')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

/* Literal bytes of a bare word (a port, an index: digits), as they are. */
static void word_lit(FILE *f, const uint8_t *p, size_t n)
{
    fwrite(p, 1, n, f);
}

/* Literal bytes of a /regex/: a slash as \/, a newline, CR or tab as
 * \n \r \t, backslash pairs as they are. */
static void regex_lit(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (p[k] == '/')
            fputs("\\/", f);
        else if (p[k] == '\n')
            fputs("\\n", f);
        else if (p[k] == '\r')
            fputs("\\r", f);
        else if (p[k] == '\t')
            fputs("\\t", f);
        else if (p[k] == '\\' && k + 1 < n) {
            fputc('\\', f);
            fputc(p[++k], f);
        } else
            fputc(p[k], f);
    }
}

static void put_str(FILE *f, const struct nr_tmpl *t)
{
    fputc('"', f);
    put_segs(f, t, str_lit);
    fputc('"', f);
}

static void put_word(FILE *f, const struct nr_tmpl *t)
{
    put_segs(f, t, word_lit);
}

static void put_regex(FILE *f, const struct nr_tmpl *t)
{
    fputc('/', f);
    put_segs(f, t, regex_lit);
    fputc('/', f);
}

static void put_payload(FILE *f, const struct nr_payload *p)
{
    if (p->kind == NR_PL_PATTERN)
        fprintf(f, "pattern %llu", (unsigned long long)p->count);
    else if (p->kind == NR_PL_FILE)
        fputs("file ", f), put_str(f, &p->tmpl);
    else
        put_str(f, &p->tmpl);
    if (p->repeat > 1)
        fprintf(f, " * %llu", (unsigned long long)p->repeat);
}

static void put_match(FILE *f, const struct nr_match *m)
{
    switch (m->kind) {
    case NR_M_BYTES:
        put_payload(f, &m->payload);
        break;
    case NR_M_REGEX:
        put_regex(f, &m->text);
        break;
    case NR_M_LENGTH:
        fprintf(f, "length %llu", (unsigned long long)m->length);
        break;
    case NR_M_UNTIL:
        fputs("until ", f);
        put_str(f, &m->text);
        break;
    case NR_M_EOF:
        fputs("eof", f);
        break;
    case NR_M_RESET:
        fputs("reset", f);
        break;
    case NR_M_NOTHING:
        fputs("nothing", f);
        break;
    }
}

static void put_end(FILE *f, const struct nr_end *e)
{
    if (e->kind == NR_END_CLEAN)
        fputs("clean", f);
    else if (e->kind == NR_END_SIGNAL)
        fprintf(f, "signal %d", e->code);
    else
        fprintf(f, "%d", e->code);
}

static const char *proto_word(int proto, int is_unix)
{
    if (is_unix)
        return proto == IPPROTO_TCP ? "unix" : "unixgram";
    return proto == IPPROTO_TCP ? "tcp" : "udp";
}

static const char *dirs_word(unsigned dirs)
{
    return dirs == NR_DIR_UP ? "up" : dirs == NR_DIR_DOWN ? "down" : "both";
}

static void put_target(FILE *f, const struct nr_step *s)
{
    static const char *const ready_how[] = { "", "", "port ", "file " };

    fprintf(f, "target %s", s->name);
    if (s->u.target.nowait)
        fputs(" nowait", f);
    if (s->u.target.ready_kind != NR_READY_LINE || s->u.target.ready.nsegs > 0) {
        fputs(" ready ", f);
        if (s->u.target.ready_kind == NR_READY_LINE || s->u.target.ready_kind == NR_READY_REGEX)
            fputs(s->u.target.ready_stderr ? "stderr " : "stdout ", f);
        fputs(ready_how[s->u.target.ready_kind], f);
        if (s->u.target.ready_kind == NR_READY_REGEX)
            put_regex(f, &s->u.target.ready);
        else if (s->u.target.ready_kind == NR_READY_PORT)
            put_word(f, &s->u.target.ready);
        else
            put_str(f, &s->u.target.ready);
    }
    if (s->u.target.cwd.nsegs > 0)
        fputs(" cwd ", f), put_str(f, &s->u.target.cwd);
    if (s->u.target.activate) {
        fprintf(f, " activate %s ", proto_word(s->u.target.act_proto, 0));
        put_str(f, &s->u.target.act_addr);
    }
    for (size_t i = 0; i < s->u.target.nenv; i++)
        fputs(" env ", f), put_str(f, &s->u.target.env[i]);
    if (s->u.target.stop_sig)
        fprintf(f, " stop-signal %d", s->u.target.stop_sig);
    for (size_t i = 0; i < s->u.target.nclean; i++)
        fputs(" clean ", f), put_end(f, &s->u.target.clean[i]);
    fputs(" =", f);
    for (size_t i = 0; i < s->u.target.nargv; i++)
        fputc(' ', f), put_str(f, &s->u.target.argv[i]);
}

static void put_wire(FILE *f, const struct nr_step *s)
{
    static const char *const props[] = { "state", "handshake", "first-fin", "no-rst", "rst",
                                         "no-retransmissions", "datagrams", "bytes" };

    if (s->u.wire.kind == NR_WIRE_CLAIM) {
        fprintf(f, "wire %s %s", s->name, props[s->u.wire.prop]);
        if (s->u.wire.prop == NR_WP_FIRST_FIN || s->u.wire.prop == NR_WP_RST ||
            s->u.wire.prop == NR_WP_BYTES)
            fprintf(f, " %s", s->u.wire.on_flow ? (s->u.wire.theirs ? "server" : "client")
                                                : (s->u.wire.theirs ? "peer" : "us"));
        if (s->u.wire.value.nsegs > 0)
            fputc(' ', f), put_str(f, &s->u.wire.value);
        return;
    }
    if (s->u.wire.kind == NR_WIRE_FLOW)
        fprintf(f, "flow %s = %s", s->name, proto_word(s->u.wire.proto, 0));
    else
        fprintf(f, "flows %s", proto_word(s->u.wire.proto, 0));
    if (s->u.wire.to.nsegs > 0)
        fputs(" to ", f), put_str(f, &s->u.wire.to);
    if (s->u.wire.from.nsegs > 0)
        fputs(" from ", f), put_str(f, &s->u.wire.from);
    if (s->u.wire.kind == NR_WIRE_COUNT)
        fprintf(f, " count %llu", (unsigned long long)s->u.wire.count);
    else if (s->u.wire.index.nsegs > 0)
        fputs(" index ", f), put_word(f, &s->u.wire.index);
}

static void put_toxic(FILE *f, const struct nr_toxic *t)
{
    fputs(nr_tox_name(t->kind), f);
    switch (t->kind) {
    case NR_TOX_LATENCY:
    case NR_TOX_DELAY:
        fprintf(f, " %llums", (unsigned long long)t->ms);
        if (t->jitter_ms)
            fprintf(f, " jitter %llums", (unsigned long long)t->jitter_ms);
        break;
    case NR_TOX_BANDWIDTH:
    case NR_TOX_LIMIT_DATA:
    case NR_TOX_TRUNCATE:
        fprintf(f, " %llu", (unsigned long long)t->bytes);
        break;
    case NR_TOX_SLICER:
        fprintf(f, " %llu var %llu delay %llums", (unsigned long long)t->bytes,
                (unsigned long long)t->var, (unsigned long long)t->ms);
        break;
    case NR_TOX_RESET_PEER:
        if (t->by_bytes)
            fprintf(f, " after %llu", (unsigned long long)t->bytes);
        else if (t->by_time)
            fprintf(f, " after %llums", (unsigned long long)t->ms);
        break;
    case NR_TOX_TIMEOUT:
    case NR_TOX_SLOW_CLOSE:
        fprintf(f, " %llums", (unsigned long long)t->ms);
        break;
    case NR_TOX_REORDER:
        fprintf(f, " %u.%02u%% gap %llu", t->bp / 100, t->bp % 100, (unsigned long long)t->gap);
        break;
    case NR_TOX_DROP:
    case NR_TOX_DUPLICATE:
    case NR_TOX_CORRUPT:
        fprintf(f, " %u.%02u%%", t->bp / 100, t->bp % 100);
        break;
    case NR_TOX_HALF_CLOSE:
    case NR_TOX_STALL:
    case NR_TOX_COUNT:
        break;
    }
}

/* One step in canonical form; a block's `end` (after its body) with the
 * block's `within`. */
static int put_step(const struct nr_step *s, unsigned depth, unsigned when, void *arg)
{
    FILE *f = arg;
    int block = s->kind == NR_S_PARALLEL || s->kind == NR_S_REPEAT;

    if (when == NR_WALK_AFTER && !block)
        return 0;
    for (unsigned i = 0; i < depth; i++)
        fputs("  ", f);
    if (when == NR_WALK_AFTER) {
        fputs("end", f);
        goto within;
    }
    switch (s->kind) {
    case NR_S_TARGET:
        put_target(f, s);
        break;
    case NR_S_CONNECT:
    case NR_S_LISTEN:
        fprintf(f, "%s %s = %s ", s->kind == NR_S_CONNECT ? "connect" : "listen", s->name,
                proto_word(s->u.sock.proto, s->u.sock.is_unix));
        put_str(f, &s->u.sock.addr);
        if (s->u.sock.refused)
            fputs(" refused", f);
        if (s->u.sock.retry)
            fputs(" retry", f);
        break;
    case NR_S_ACCEPT:
        fprintf(f, "accept %s = %s", s->name, s->u.accept.listener);
        break;
    case NR_S_SEND:
        fprintf(f, "send %s ", s->name);
        put_payload(f, &s->u.send.payload);
        if (s->u.send.chunk)
            fprintf(f, " chunk %llu", (unsigned long long)s->u.send.chunk);
        if (s->u.send.delay_ms)
            fprintf(f, " delay %dms", s->u.send.delay_ms);
        if (s->u.send.to.nsegs > 0)
            fputs(" to ", f), put_str(f, &s->u.send.to);
        break;
    case NR_S_EXPECT:
        fprintf(f, "expect %s ", s->name);
        put_match(f, &s->u.expect);
        if (s->u.expect.from.nsegs > 0)
            fputs(" from ", f), put_str(f, &s->u.expect.from);
        break;
    case NR_S_SHUTDOWN:
        fprintf(f, "shutdown %s write", s->name);
        break;
    case NR_S_CLOSE:
    case NR_S_ABORT:
        fprintf(f, "%s %s", s->kind == NR_S_CLOSE ? "close" : "abort", s->name);
        break;
    case NR_S_SLEEP:
        fprintf(f, "sleep %dms", s->u.sleep.ms);
        break;
    case NR_S_EXIT:
        fprintf(f, "exit %s ", s->name);
        put_end(f, &s->u.exit.expect);
        break;
    case NR_S_STOP:
        fprintf(f, "stop %s", s->name);
        if (s->u.exit.sig)
            fprintf(f, " signal %d", s->u.exit.sig);
        fputs(" expect ", f);
        put_end(f, &s->u.exit.expect);
        break;
    case NR_S_OUTPUT:
        fprintf(f, "%s %s ", s->u.output.is_stderr ? "stderr" : "stdout", s->name);
        put_match(f, &s->u.output.match);
        break;
    case NR_S_FILE:
        fputs("file ", f);
        put_str(f, &s->u.file.path);
        fputc(' ', f);
        if (s->u.file.absent)
            fputs("absent", f);
        else
            put_match(f, &s->u.file.match);
        break;
    case NR_S_SET:
        fprintf(f, "%s %s = ", s->u.set.is_param ? "param" : "set", s->name);
        put_str(f, &s->u.set.value);
        break;
    case NR_S_PARALLEL:
    case NR_S_REPEAT:
        fprintf(f, "%s %u\n", s->kind == NR_S_PARALLEL ? "parallel" : "repeat",
                s->u.block.count);
        return 0; /* the body, then `end` */
    case NR_S_WIRE:
        put_wire(f, s);
        break;
    case NR_S_PROXY:
        fprintf(f, "proxy %s = %s ", s->name, proto_word(s->u.proxy.proto, 0));
        put_str(f, &s->u.proxy.upstream);
        break;
    case NR_S_FAULT:
        fprintf(f, "%s %s %s", s->u.fault.heal ? "heal" : "fault", s->name,
                dirs_word(s->u.fault.dirs));
        if (!s->u.fault.all) {
            fputc(' ', f);
            if (s->u.fault.heal)
                fputs(nr_tox_name(s->u.fault.tox.kind), f);
            else
                put_toxic(f, &s->u.fault.tox);
        }
        break;
    case NR_S_LEDGER:
        fprintf(f, "ledger %s %s %s ", s->name, dirs_word(s->u.ledger.dirs),
                nr_ledger_name(s->u.ledger.item));
        if (s->u.ledger.rel)
            fprintf(f, "= %s %s", dirs_word(s->u.ledger.rel_dirs),
                    nr_ledger_name(s->u.ledger.rel_item));
        else
            fprintf(f, "%llu..%llu", (unsigned long long)s->u.ledger.lo,
                    (unsigned long long)s->u.ledger.hi);
        break;
    }
within:
    if (s->timeout_ms >= 0)
        fprintf(f, " within %dms", s->timeout_ms);
    fputc('\n', f);
    return 0;
}

int nr_scn_print(FILE *f, const struct nr_scn *s)
{
    fprintf(f, "timeout %dms\ndeadline %dms\n", s->step_timeout_ms, s->deadline_ms);
    nr_steps_walk(&s->steps, NR_WALK_BEFORE | NR_WALK_AFTER, put_step, f);
    return ferror(f) ? -1 : 0;
}
