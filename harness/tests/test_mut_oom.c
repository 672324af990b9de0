/* Out-of-memory paths of harness/lib's scenario, template, step-log and
 * capture readers, with the fault injector armed inside this process
 * (targets/tests/fault_inproc.h): every allocation of one call is failed
 * in turn, and each time the call must fail as its comment says (exactly
 * -1, "out of memory" (or ENOMEM's text) in its message, nothing handed out) until a run with
 * no failure succeeds. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../targets/tests/fault_inproc.h"
#include "nr_err.h"
#include "nr_ladder.h"
#include "nr_pcapng.h"
#include "nr_pktfile.h"
#include "nr_scn.h"
#include "nr_scn_lex.h"
#include "pktgen.h"
#include "heap_exact.h"

static const char scenario[] = "set v = \"value\"\n"
                               "connect a = tcp 127.0.0.1:9 retry within 1s\n"
                               "send a \"x${v}y\" * 2\n"
                               "repeat 2\n"
                               "  expect a /re${v}/ within 10ms\n"
                               "end\n";

/* fn:k for k = 1, 2, ... until a call fails nothing: every failed call
 * returns -1 with "out of memory" in err; at least one was failed. */
#define EACH_ALLOC(fn, call, cleanup)                                                          \
    do {                                                                                       \
        unsigned k, failed = 0;                                                                \
        for (k = 1; k < 500; k++) {                                                            \
            char spec[32];                                                                     \
            int rc_;                                                                           \
            unsigned long hit;                                                                 \
            snprintf(spec, sizeof(spec), "%s:%u", fn, k);                                      \
            err[0] = '\0';                                                                     \
            fault_inproc_set(spec);                                                            \
            rc_ = (call);                                                                      \
            hit = fault_inproc_off();                                                          \
            if (!hit) {                                                                        \
                assert_int_equal(rc_, 0);                                                      \
                cleanup;                                                                       \
                break;                                                                         \
            }                                                                                  \
            failed++;                                                                          \
            if (rc_ != -1 || (!strstr(err, "out of memory") &&                                 \
                              !strstr(err, "Cannot allocate memory")))                         \
                fail_msg("%s: %d '%s'", spec, rc_, err);                                       \
        }                                                                                      \
        assert_true(failed > 0 || strcmp(fn, "calloc") == 0);                                  \
    } while (0)

static void read_file_oom(void **state)
{
    char path[] = "/tmp/nr-oom-XXXXXX", err[NR_ERRBUF_SIZE], want[64];
    uint8_t *buf = (uint8_t *)"keep";
    size_t len = 3;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, scenario, sizeof(scenario) - 1), (ssize_t)sizeof(scenario) - 1);
    close(fd);
    fault_inproc_set("realloc:1");
    assert_int_equal(nr_scn_read_file(path, &buf, &len, err), -1);
    assert_int_equal(fault_inproc_off(), 1);
    snprintf(want, sizeof(want), "%s: out of memory", path);
    assert_string_equal(err, want);
    assert_string_equal((const char *)buf, "keep");
    assert_int_equal(len, 3);
    unlink(path);
}

static int lookup(void *ctx, const char *name, const uint8_t **val, size_t *len)
{
    (void)name;
    *val = ctx;
    *len = strlen(ctx);
    return 0;
}

/* How many allocations (malloc, realloc or calloc) nr_tmpl_expand of t
 * makes, counted by failing each in turn (gcc may turn the first
 * realloc(NULL, n) into malloc(n)); each failure is -1, the run that fails
 * nothing gives want bytes of 'c' and a NUL. */
static unsigned expand_allocs(const struct nr_tmpl *t, size_t want)
{
    static const char *const fns[] = { "malloc", "realloc", "calloc" };
    char err[NR_ERRBUF_SIZE], spec[32];
    unsigned n = 0;

    for (size_t f = 0; f < 3; f++) {
        for (unsigned k = 1; k < 100; k++) {
            uint8_t *out;
            size_t outlen;
            snprintf(spec, sizeof(spec), "%s:%u", fns[f], k);
            fault_inproc_set(spec);
            int rc = nr_tmpl_expand(t, lookup, NULL, &out, &outlen, err);
            if (fault_inproc_off() == 0) {
                assert_int_equal(rc, 0);
                assert_int_equal(outlen, want);
                for (size_t i = 0; i < want; i++)
                    assert_int_equal(out[i], 'c');
                assert_int_equal(out[want], 0);
                free(out);
                break;
            }
            assert_int_equal(rc, -1);
            n++;
        }
    }
    return n;
}

static void template_oom(void **state)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_tmpl t = { 0 };
    uint8_t *out = NULL;
    size_t outlen = 0;
    uint64_t *v = NULL;
    static char big[300];

    (void)state;
    memset(big, 'b', sizeof(big) - 1);
    fault_inproc_set("malloc:1");
    assert_int_equal(nr_tmpl_add_var(&t, "v", 1), -1);
    fault_inproc_off();
    assert_int_equal(t.nsegs, 0);
    fault_inproc_set("realloc:1");
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"ab", 2), -1); /* the segment table */
    fault_inproc_off();
    assert_int_equal(t.nsegs, 0);
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"ab", 2), 0);
    fault_inproc_set("realloc:1");
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"cd", 2), -1); /* the literal grows */
    fault_inproc_off();
    assert_int_equal(t.segs[0].len, 2);
    assert_string_equal((const char *)t.segs[0].data, "ab");
    assert_int_equal(nr_tmpl_add_var(&t, "v", 1), 0);
    EACH_ALLOC("realloc", nr_tmpl_expand(&t, lookup, big, &out, &outlen, err),
               free(out));
    assert_int_equal(outlen, 2 + 299);
    nr_tmpl_free(&t);
    /* the result grows by doubling from 64 bytes, room for its NUL
     * included: 63 bytes take one allocation, 64 take two */
    {
        static uint8_t lit[64];
        memset(lit, 'c', sizeof(lit));
        assert_int_equal(nr_tmpl_add_lit(&t, lit, 63), 0);
        assert_int_equal(expand_allocs(&t, 63), 1);
        assert_int_equal(nr_tmpl_add_lit(&t, lit, 1), 0);
        assert_int_equal(expand_allocs(&t, 64), 2);
        nr_tmpl_free(&t);
    }
    fault_inproc_set("realloc:1");
    assert_int_equal(nr_scn_grow((void **)&v, 0, sizeof(*v)), -1);
    fault_inproc_off();
    assert_null(v);
}

static int lex_one(struct lx *l, struct lx_tok *t, const char *line)
{
    lx_line(l, (const uint8_t *)line, strlen(line), 1);
    return lx_next(l, t, 0);
}

/* lx_next of a quoted string: 0, or exactly -1 with "t.scn:1:1: out of
 * memory" when an allocation fails, the token left with nothing to free. */
static void lexer_oom(void **state)
{
    char err[NR_ERRBUF_SIZE];
    uint8_t *scratch = malloc(NR_SCN_LINE_MAX);
    struct lx l = { .path = "t.scn", .errbuf = err };
    struct lx_tok t;

    (void)state;
    assert_non_null(scratch);
    l.scratch = scratch;
    EACH_ALLOC("malloc", lex_one(&l, &t, "\"ab\""), lx_tok_clear(&t));
    EACH_ALLOC("realloc", lex_one(&l, &t, "\"ab\""), lx_tok_clear(&t));
    assert_int_equal(lex_one(&l, &t, "\"ab\""), 0);
    assert_int_equal(t.kind, LX_STRING);
    assert_int_equal(t.tmpl.nsegs, 1);
    assert_string_equal((const char *)t.tmpl.segs[0].data, "ab");
    lx_tok_clear(&t);
    free(scratch);
}

static void scenario_oom(void **state)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;

    (void)state;
    EACH_ALLOC("malloc", nr_scn_parse((const uint8_t *)scenario, sizeof(scenario) - 1, "o.scn",
                                      &s, err), nr_scn_free(&s));
    EACH_ALLOC("realloc", nr_scn_parse((const uint8_t *)scenario, sizeof(scenario) - 1, "o.scn",
                                       &s, err), nr_scn_free(&s));
    EACH_ALLOC("calloc", nr_scn_parse((const uint8_t *)scenario, sizeof(scenario) - 1, "o.scn",
                                      &s, err), nr_scn_free(&s));
}

/* nr_ladder_log_parse: -1 when out of memory, nothing to free. */
static void ladder_log_oom(void **state)
{
    static const char text[] = "  0.1 endpoint a tcp 127.0.0.1:1 127.0.0.1:2\n"
                               "  0.2 3: send a \"x\"  [ok, 1 ms]\n";
    struct nr_ladder_log log;
    const char *fns[] = { "realloc:1", "realloc:2", "malloc:1" };
    unsigned hits = 0;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        fault_inproc_set(fns[i]);
        int rc = nr_ladder_log_parse((const uint8_t *)text, sizeof(text) - 1, &log);
        unsigned long hit = fault_inproc_off();
        if (!hit) { /* ASan's strndup does not call malloc */
            assert_int_equal(rc, 0);
            nr_ladder_log_free(&log);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(log.nsteps, 0);
        assert_int_equal(log.nnames, 0);
        assert_null(log.steps);
        assert_null(log.names);
        hits++;
    }
    assert_true(hits >= 2);
}

/* nr_ladder_read of a small capture with each realloc failed in turn (the
 * ladder's own tables grow with realloc; stdio copes with a failed
 * buffer malloc by itself):
 * -1 and "out of memory", nothing to free. */
static void ladder_read_oom(void **state)
{
    char path[] = "/tmp/nr-oom-ladder-XXXXXX", err[NR_ERRBUF_SIZE];
    struct pg_sink s = { .t_ns = 1000000000000LL };
    struct pg_conn c;
    struct nr_ladder l;
    struct nr_ladder_opts o = { .band_min = 3 };
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pg_open_file(&s, path), 0);
    pg_conn_init(&c, &s, 40000, 80, 1, 2);
    pg_handshake(&c);
    for (int i = 0; i < 6; i++)
        pg_seg(&c, 0, NR_TCP_ACK, "data", 4);
    pg_close(&c, 0);
    pg_close_file(&s);
    EACH_ALLOC("realloc", nr_ladder_read(path, NULL, 0, &o, NULL, &l, err), nr_ladder_free(&l));
    unlink(path);
}

/* A pcapng interface that cannot be added: -1, "out of memory", the
 * table as it was. */
static void pcapng_interface_oom(void **state)
{
    /* an interface description block: link type 1, snaplen 0, 20 bytes */
    static const uint8_t idb[] = { 1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0,
                                   0, 0, 0, 0, 20, 0, 0, 0 };
    struct nr_pcapng g = { .in_section = 1 };
    struct nr_pcapng_pkt pkt;
    char err[NR_ERRBUF_SIZE] = "";
    int rc;

    (void)state;
    fault_inproc_set("realloc:1");
    rc = nr_pcapng_block(&g, idb, sizeof(idb), &pkt, err);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(rc, -1);
    assert_string_equal(err, "out of memory");
    assert_int_equal(g.nifs, 0);
    assert_int_equal(nr_pcapng_block(&g, idb, sizeof(idb), &pkt, err), 0);
    assert_int_equal(g.nifs, 1);
    nr_pcapng_free(&g);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(read_file_oom),
        heap_exact_test(template_oom),
        heap_exact_test(lexer_oom),
        heap_exact_test(scenario_oom),
        heap_exact_test(ladder_log_oom),
        heap_exact_test(ladder_read_oom),
        heap_exact_test(pcapng_interface_oom),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
