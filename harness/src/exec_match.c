/* exec_match.c - the matchers of `expect` and their failure messages: one
 * table row per kind (see exec_match.h).  A new kind of match is a row
 * here: its init, match and report functions (and report_dgram when it
 * applies to UDP); the wait loops need no change. */
#define _GNU_SOURCE
#include "exec_match.h"
#include "nr_cursor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define REGEX_WINDOW (1u << 20) /* bytes a regex may need before it matches */
#define DIFF_CONTEXT 48
#define RECEIVED_SHOWN 256      /* bytes of unconsumed input a failure shows */
#define DGRAM_SHOWN 256         /* bytes of a datagram a failure shows */
#define MATCH_PIECE 4096        /* bytes of the payload made at a time */

/* ---- shared pieces of the messages ---------------------------------------- */

/* Show up to RECEIVED_SHOWN unconsumed bytes in a failure message. */
static void show_received(FILE *f, const uint8_t *buf, size_t len, enum exec_in_end end)
{
    fprintf(f, "  received (%zu bytes unconsumed, %s):\n", len,
            end == EXEC_IN_EOF ? "then EOF" : end == EXEC_IN_RESET ? "then reset" : "still open");
    run_hexdiff(f, 0, NULL, 0, buf, len > RECEIVED_SHOWN ? RECEIVED_SHOWN : len);
}

/* "  <what>\n" and the unconsumed input, as one failure. */
static void fail_showing(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf,
                         size_t len, enum exec_in_end end, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void fail_showing(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf,
                         size_t len, enum exec_in_end end, const char *fmt, ...)
{
    FILE *f = exec_fail_begin(c, s);
    va_list ap;

    if (f) {
        fputs("  ", f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
        show_received(f, buf, len, end);
    }
    exec_fail_end(c);
}

void exec_fail_datagram(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf, size_t n,
                        const struct nr_addr *from, const char *fmt, ...)
{
    FILE *f = exec_fail_begin(c, s);
    char as[NR_ADDRSTR_SIZE];
    va_list ap;

    if (f) {
        fputs("  ", f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fprintf(f, "\n  the datagram (%zu bytes, from %s):\n", n,
                nr_addr_format((const struct sockaddr *)&from->ss, as, sizeof(as)));
        run_hexdiff(f, 0, NULL, 0, buf, n > DGRAM_SHOWN ? DGRAM_SHOWN : n);
    }
    exec_fail_end(c);
}

/* ---- bytes: exactly the payload, next ------------------------------------ */

static int bytes_init(struct exec_ctx *c, const struct nr_step *s, struct exec_match *m)
{
    if (exec_gen_init(c, s, &m->want->payload, &m->gen) < 0)
        return -1;
    m->have_gen = 1;
    return 0;
}

static enum exec_match_rc bytes_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                      enum exec_in_end end, size_t *used)
{
    uint8_t want[MATCH_PIECE];
    size_t off = 0;

    (void)end;
    while (off < len && m->done < m->gen.total) {
        size_t n = len - off, d = 0;
        if (n > m->gen.total - m->done)
            n = (size_t)(m->gen.total - m->done);
        if (n > sizeof(want))
            n = sizeof(want);
        exec_gen_fill(&m->gen, m->done, want, n);
        if (memcmp(want, buf + off, n) != 0) {
            while (want[d] == buf[off + d])
                d++;
            m->done += d;
            *used = off + d;
            m->why = "bytes differ";
            return EXEC_MATCH_FAIL;
        }
        off += n;
        m->done += n;
    }
    *used = off;
    return m->done == m->gen.total ? EXEC_MATCH_DONE : EXEC_MATCH_MORE;
}

/* The expected bytes from the generator against what arrived, around the
 * offset m->done (relative to this expect): the bytes before it matched
 * and were consumed, buf holds the rest. */
static void bytes_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                         const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    const struct exec_gen *g = &m->gen;
    uint64_t matched = m->done;
    uint64_t from = matched > DIFF_CONTEXT ? (matched - DIFF_CONTEXT) & ~(uint64_t)15 : 0;
    size_t back = (size_t)(matched - from), act_n = back + len, exp_n;
    uint8_t *exp, *act;
    FILE *f;

    (void)end;
    if (act_n > back + 4 * DIFF_CONTEXT)
        act_n = back + 4 * DIFF_CONTEXT;
    exp_n = (size_t)(g->total - from < back + 4 * DIFF_CONTEXT ? g->total - from
                                                                : back + 4 * DIFF_CONTEXT);
    exp = malloc(exp_n + 1);
    act = malloc(act_n + 1);
    f = exec_fail_begin(c, s);
    if (f && exp && act) {
        exec_gen_fill(g, from, exp, exp_n);
        memcpy(act, exp, back); /* bytes before `matched` were equal and consumed */
        memcpy(act + back, buf, act_n - back);
        fprintf(f, "  %s: expected %llu bytes, %llu matched, %zu more received\n", why,
                (unsigned long long)g->total, (unsigned long long)matched, len);
        run_hexdiff(f, from, exp, exp_n, act, act_n);
    } else if (f) {
        fprintf(f, "  %s\n", why);
    }
    exec_fail_end(c);
    free(exp);
    free(act);
}

static void bytes_report_dgram(struct exec_ctx *c, const struct nr_step *s,
                               const struct exec_match *m, const uint8_t *buf, size_t got,
                               size_t n, const struct nr_addr *from)
{
    const struct exec_gen *g = &m->gen;
    uint8_t *exp = malloc(g->total ? (size_t)g->total : 1);
    char as[NR_ADDRSTR_SIZE];
    FILE *f;

    if (!exp || g->total > UINT16_MAX + 1u) {
        free(exp);
        exec_fail(c, s, "expected datagram too large");
        return;
    }
    exec_gen_fill(g, 0, exp, (size_t)g->total);
    f = exec_fail_begin(c, s);
    if (f) {
        fprintf(f, "  datagram differs: expected %llu bytes, got %zu (from %s)\n",
                (unsigned long long)g->total, n,
                nr_addr_format((const struct sockaddr *)&from->ss, as, sizeof(as)));
        run_hexdiff(f, 0, exp, (size_t)g->total, buf, got);
    }
    exec_fail_end(c);
    free(exp);
}

/* ---- regex: through the end of the first match ----------------------------- */

static int regex_init(struct exec_ctx *c, const struct nr_step *s, struct exec_match *m)
{
    int rc;

    if (!(m->text = exec_expand(c, s, &m->want->text, &m->tlen)))
        return -1;
    rc = regcomp(&m->re, m->text, REG_EXTENDED);
    if (rc != 0) {
        char e[128];
        regerror(rc, &m->re, e, sizeof(e));
        exec_fail(c, s, "bad regex /%s/: %s", m->text, e);
        return -1;
    }
    m->have_re = 1;
    return 0;
}

/* A stream's regex waits for a first byte; a datagram's is tried on an
 * empty one too.  Past REGEX_WINDOW bytes without a match it gives up. */
static enum exec_match_rc regex_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                      enum exec_in_end end, size_t *used)
{
    regmatch_t rm = { .rm_so = 0, .rm_eo = (regoff_t)len };

    *used = 0;
    if ((len > 0 || end == EXEC_IN_DATAGRAM) &&
        regexec(&m->re, (const char *)buf, 1, &rm, REG_STARTEND) == 0) {
        *used = (size_t)rm.rm_eo;
        return EXEC_MATCH_DONE;
    }
    if (len > REGEX_WINDOW) {
        m->why = "over 1 MiB without a match";
        return EXEC_MATCH_FAIL;
    }
    return EXEC_MATCH_MORE;
}

static void regex_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                         const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    fail_showing(c, s, buf, len, end, "no match for /%s/ (%s)", m->text, why);
}

static void regex_report_dgram(struct exec_ctx *c, const struct nr_step *s,
                               const struct exec_match *m, const uint8_t *buf, size_t got,
                               size_t n, const struct nr_addr *from)
{
    exec_fail_datagram(c, s, buf, got, from, "datagram of %zu bytes does not match /%s/", n, m->text);
}

/* ---- until: through the delimiter ----------------------------------------- */

static int until_init(struct exec_ctx *c, const struct nr_step *s, struct exec_match *m)
{
    m->text = exec_expand(c, s, &m->want->text, &m->tlen);
    return m->text ? 0 : -1;
}

static enum exec_match_rc until_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                      enum exec_in_end end, size_t *used)
{
    struct nr_cursor cur;
    long at;

    (void)end;
    nr_cur_init(&cur, buf, len);
    at = nr_cur_find(&cur, m->text, m->tlen);
    *used = at >= 0 ? (size_t)at + m->tlen : 0;
    return at >= 0 ? EXEC_MATCH_DONE : EXEC_MATCH_MORE;
}

static void until_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                         const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    (void)m;
    fail_showing(c, s, buf, len, end, "delimiter not seen (%s)", why);
}

/* ---- length: any N bytes ---------------------------------------------------- */

static enum exec_match_rc length_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                       enum exec_in_end end, size_t *used)
{
    uint64_t need = m->want->length - m->done;

    (void)buf;
    (void)end;
    *used = len < need ? len : (size_t)need;
    m->done += *used;
    return m->done == m->want->length ? EXEC_MATCH_DONE : EXEC_MATCH_MORE;
}

static void length_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                          const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    (void)buf;
    (void)len;
    (void)end;
    exec_fail(c, s, "got %llu of %llu bytes (%s)", (unsigned long long)m->done,
              (unsigned long long)m->want->length, why);
}

static void length_report_dgram(struct exec_ctx *c, const struct nr_step *s,
                                const struct exec_match *m, const uint8_t *buf, size_t got,
                                size_t n, const struct nr_addr *from)
{
    exec_fail_datagram(c, s, buf, got, from, "datagram of %zu bytes, expected %llu", n,
                  (unsigned long long)m->want->length);
}

/* ---- eof, reset, nothing: how the stream ends -------------------------------- */

/* eof and nothing: any byte fails them, m->why saying what it was. */
static int data_fails(struct exec_match *m, size_t len, const char *what, size_t *used)
{
    *used = 0;
    if (len > 0)
        m->why = what;
    return len > 0;
}

static enum exec_match_rc eof_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                    enum exec_in_end end, size_t *used)
{
    (void)buf;
    if (data_fails(m, len, "more data", used))
        return EXEC_MATCH_FAIL;
    return end == EXEC_IN_EOF ? EXEC_MATCH_DONE : EXEC_MATCH_MORE;
}

static void eof_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                       const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    (void)m;
    if (len > 0)
        fail_showing(c, s, buf, len, end, "expected EOF, got %s", why);
    else
        exec_fail(c, s, "expected EOF, got %s", why);
}

/* Data queued before the RST is not judged: it is consumed. */
static enum exec_match_rc reset_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                      enum exec_in_end end, size_t *used)
{
    (void)m;
    (void)buf;
    *used = len;
    return end == EXEC_IN_RESET ? EXEC_MATCH_DONE : EXEC_MATCH_MORE;
}

static void reset_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                         const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    (void)m;
    (void)buf;
    (void)len;
    (void)end;
    exec_fail(c, s, "expected a reset, got %s", why);
}

/* Nothing at all: a byte, an end or an error is something. */
static enum exec_match_rc nothing_match(struct exec_match *m, const uint8_t *buf, size_t len,
                                        enum exec_in_end end, size_t *used)
{
    (void)buf;
    if (data_fails(m, len, "data", used))
        return EXEC_MATCH_FAIL;
    return end == EXEC_IN_OPEN ? EXEC_MATCH_MORE : EXEC_MATCH_FAIL;
}

static void nothing_report(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                           const uint8_t *buf, size_t len, enum exec_in_end end, const char *why)
{
    (void)m;
    fail_showing(c, s, buf, len, end, "expected nothing, got %s", why);
}

/* ---- the table ------------------------------------------------------------ */

static const struct exec_matcher matchers[] = {
    [NR_M_BYTES] = { NR_M_BYTES, bytes_init, bytes_match, bytes_report, bytes_report_dgram,
                     EXEC_BUDGET_STALL, .paced = 1, .deadline_cut = 1, .whole = 1 },
    [NR_M_REGEX] = { NR_M_REGEX, regex_init, regex_match, regex_report, regex_report_dgram,
                     EXEC_BUDGET_STALL },
    [NR_M_LENGTH] = { NR_M_LENGTH, NULL, length_match, length_report, length_report_dgram,
                      EXEC_BUDGET_STALL, .paced = 1, .whole = 1, .sizes_only = 1 },
    [NR_M_UNTIL] = { NR_M_UNTIL, until_init, until_match, until_report, NULL,
                     EXEC_BUDGET_STALL },
    [NR_M_EOF] = { NR_M_EOF, NULL, eof_match, eof_report, NULL, EXEC_BUDGET_START },
    [NR_M_RESET] = { NR_M_RESET, NULL, reset_match, reset_report, NULL, EXEC_BUDGET_START },
    [NR_M_NOTHING] = { NR_M_NOTHING, NULL, nothing_match, nothing_report, NULL,
                       EXEC_BUDGET_QUIET },
};

const struct exec_matcher *exec_matcher(enum nr_match_kind kind)
{
    if ((size_t)kind >= sizeof(matchers) / sizeof(matchers[0]) || !matchers[kind].match)
        return NULL;
    return &matchers[kind];
}

int exec_match_init(struct exec_ctx *c, const struct nr_step *s, const struct nr_match *want,
                    struct exec_match *m)
{
    memset(m, 0, sizeof(*m));
    m->want = want;
    m->row = exec_matcher(want->kind);
    if (!m->row) {
        exec_fail(c, s, "unknown match kind %d", (int)want->kind);
        return -1;
    }
    if (m->row->init && m->row->init(c, s, m) < 0) {
        exec_match_free(m);
        return -1;
    }
    return 0;
}

void exec_match_free(struct exec_match *m)
{
    if (m->have_gen)
        exec_gen_free(&m->gen);
    if (m->have_re)
        regfree(&m->re);
    free(m->text);
    m->text = NULL;
    m->have_gen = m->have_re = 0;
}
