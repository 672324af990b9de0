/* The crafted-capture corpus (harness/tests/corpus/gen.py, python3-scapy):
 * every case's expected zeek conn_state, history and originator, stream
 * bytes, follow chunks and read errors, and on every capture tshark's TCP
 * analysis flags counted by netrig against tshark's own counts.  Each
 * check prints every mismatch and fails if there is one; a planted wrong
 * expectation shows the checker failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_pktfile.h"
#include "tshark.h"

static char dir[64];

/* One loaded case. */
struct loaded {
    char name[96];
    struct nr_pktfile cap;
    int rc;                     /* nr_pktfile_read_file's result */
    char err[NR_ERRBUF_SIZE];
};

static int capture_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.pcap", dir, name);
    if (access(buf, R_OK) == 0)
        return 0;
    snprintf(buf, len, "%s/%s.pcapng", dir, name);
    return access(buf, R_OK);
}

static void load(struct loaded *l, const char *name)
{
    char path[256];
    struct nr_pktfile_opts o = { .keep_data = 1, .partial_ok = 1 };

    if (strcmp(l->name, name) == 0)
        return;
    if (l->name[0] && l->rc >= 0)
        nr_pktfile_free(&l->cap);
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->err[0] = '\0';
    if (capture_path(name, path, sizeof(path)) < 0)
        fail_msg("%s: no capture", name);
    l->rc = nr_pktfile_read_file(path, &o, &l->cap, l->err);
}

static const char *hexof(const uint8_t *p, size_t n, char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < n && 2 * i + 2 < len; i++)
        snprintf(buf + 2 * i, 3, "%02x", p[i]);
    buf[2 * i] = '\0';
    return buf;
}

static void chunks_of(const struct nr_conn *c, char *buf, size_t len)
{
    static const char *const kinds[] = { "data", "gap", "fin" };
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->nchunks && at < len; i++) {
        const struct nr_chunk *k = &c->chunks[i];
        at += (size_t)snprintf(buf + at, len - at, "%s%s:%s:%llu:%llu", i ? "," : "",
                               k->dir ? "resp" : "orig", kinds[k->kind],
                               (unsigned long long)k->soff, (unsigned long long)k->len);
    }
}

/* Check one expectation line; returns 1 when it holds, else prints why. */
static int check_line(struct loaded *l, char *line)
{
    char *save = NULL, *name = strtok_r(line, " \n", &save), *what = strtok_r(NULL, " \n", &save);
    char a[80], b[80], buf[8192];
    const struct nr_conn *c;

    if (!name || !what)
        return 1;
    load(l, name);
    if (strcmp(what, "error") == 0) {
        const char *text = save ? save : "";
        text += strspn(text, " ");
        buf[0] = '\0';
        snprintf(buf, sizeof(buf), "%s", text);
        buf[strcspn(buf, "\n")] = '\0';
        if (l->rc != 1 || !strstr(l->err, buf)) {
            printf("%s: expected error containing '%s', got rc %d '%s'\n", name, buf, l->rc,
                   l->err);
            return 0;
        }
        return 1;
    }
    if (l->rc < 0) {
        printf("%s: read failed: %s\n", name, l->err);
        return 0;
    }
    if (strcmp(what, "conns") == 0) {
        size_t want = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
        if (nr_flowtab_count(l->cap.ft) != want) {
            printf("%s: %zu conversations, expected %zu\n", name, nr_flowtab_count(l->cap.ft),
                   want);
            return 0;
        }
        return 1;
    }
    if (strcmp(what, "frags") == 0) {
        const struct nr_fragstats *fs = &l->cap.st.frag;
        unsigned long long want[3], got[3] = { fs->reassembled,
                                               fs->timeouts + fs->overflows + fs->incomplete,
                                               l->cap.st.reasons[NR_R_BAD_FRAG] };
        for (int i = 0; i < 3; i++)
            want[i] = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
        if (memcmp(want, got, sizeof(got))) {
            printf("%s: fragments: %llu reassembled, %llu lost, %llu bad; expected %llu %llu %llu\n",
                   name, got[0], got[1], got[2], want[0], want[1], want[2]);
            return 0;
        }
        return 1;
    }
    if (strcmp(what, "start-positive") == 0) {
        c = nr_flowtab_conn(l->cap.ft, 0);
        if (!c || c->first_ns <= 0) {
            printf("%s: start time not positive\n", name);
            return 0;
        }
        return 1;
    }
    c = nr_flowtab_conn(l->cap.ft, strtoul(strtok_r(NULL, " \n", &save), NULL, 10));
    if (!c) {
        printf("%s: %s: no such conversation\n", name, what);
        return 0;
    }
    if (strcmp(what, "conn") == 0) {
        const char *orig = strtok_r(NULL, " \n", &save), *resp = strtok_r(NULL, " \n", &save);
        const char *st = strtok_r(NULL, " \n", &save), *hist = strtok_r(NULL, " \n", &save);
        const char *h = c->proto == IPPROTO_TCP ? c->history : "-";
        nr_conn_endpoint(c, 0, a, sizeof(a));
        nr_conn_endpoint(c, 1, b, sizeof(b));
        if (strcmp(a, orig) || strcmp(b, resp) || strcmp(nr_conn_state(c), st) ||
            strcmp(h, hist)) {
            printf("%s #%u: got %s %s %s %s, expected %s %s %s %s\n", name, c->index, a, b,
                   nr_conn_state(c), h, orig, resp, st, hist);
            return 0;
        }
        return 1;
    }
    if (strcmp(what, "stream") == 0 || strcmp(what, "gap") == 0) {
        int d = strcmp(strtok_r(NULL, " \n", &save), "resp") == 0;
        const char *want = strtok_r(NULL, " \n", &save);
        if (what[0] == 'g') {
            if (c->rs[d].gap_bytes != strtoull(want, NULL, 10)) {
                printf("%s: gap bytes %llu, expected %s\n", name,
                       (unsigned long long)c->rs[d].gap_bytes, want);
                return 0;
            }
            return 1;
        }
        hexof(c->stream[d].data, c->stream[d].len, buf, sizeof(buf));
        if (strcmp(buf, want)) {
            printf("%s: stream %s\n    got      %s\n    expected %s\n", name, d ? "resp" : "orig",
                   buf, want);
            return 0;
        }
        return 1;
    }
    if (strcmp(what, "chunks") == 0) {
        const char *want = strtok_r(NULL, " \n", &save);
        chunks_of(c, buf, sizeof(buf));
        if (strcmp(buf, want)) {
            printf("%s: chunks\n    got      %s\n    expected %s\n", name, buf, want);
            return 0;
        }
        return 1;
    }
    if (strcmp(what, "flag") == 0 || strcmp(what, "tshark-stream") == 0)
        return 1; /* checked with tshark */
    printf("%s: unknown expectation '%s'\n", name, what);
    return 0;
}

static int check_file(const char *file)
{
    struct loaded l = { .name = "" };
    char line[8192];
    int bad = 0;
    FILE *f = fopen(file, "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        bad += !check_line(&l, line);
    fclose(f);
    if (l.name[0] && l.rc >= 0)
        nr_pktfile_free(&l.cap);
    return bad;
}

static void corpus_meets_its_expectations(void **state)
{
    char p[128];
    int bad;

    (void)state;
    snprintf(p, sizeof(p), "%s/expect.txt", dir);
    bad = check_file(p);
    if (bad)
        fail_msg("%d expectations of the corpus do not hold", bad);
}

/* The checker itself fails on a wrong expectation. */
static void a_wrong_expectation_fails(void **state)
{
    char p[128];
    FILE *f;

    (void)state;
    snprintf(p, sizeof(p), "%s/wrong.txt", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("time-wait-reuse conns 1\n"
          "syn-retry-new-isn conn 0 10.0.0.1:40000 10.0.0.2:8080 S0 SS\n"
          "late-hole-fill stream 0 orig 41\n"
          "follow-fin-after-gap chunks 0 orig:fin:0:0\n"
          "ipv4-frag-lost frags 1 0 0\n",
          f);
    fclose(f);
    assert_int_equal(check_file(p), 5);
}

/* tshark's answers for one case: its flag counts and its TCP streams. */
struct case_ts {
    char name[96];
    unsigned long first, nframes; /* its frames in tshark/all.pcapng (nframes 0: not there) */
    unsigned long flags[NR_TA_COUNT];
    long streams[16];             /* tcp.stream numbers, in order of first appearance */
    int nstreams;
};

/* Read once for all the tests: one tshark run over tshark/all.pcapng (every
 * undamaged case, see gen.py) for the flags of every frame and the
 * follow,tcp,raw of every stream, and one run for each damaged capture. */
static struct {
    int state; /* 0 not read, 1 read, -1 failed: err */
    char err[NR_ERRBUF_SIZE + 64];
    struct case_ts cases[128];
    size_t ncases;
    struct tshark_follow *fol;
    long nfol;
} ts;

static struct case_ts *case_named(const char *name)
{
    for (size_t i = 0; i < ts.ncases; i++)
        if (strcmp(ts.cases[i].name, name) == 0)
            return &ts.cases[i];
    return NULL;
}

/* Account one -T fields row (frame.number, tcp.stream, the flags) to the
 * case holding that frame, or to one_case. */
static void tshark_row(char *line, struct case_ts *one_case)
{
    char *fld[2 + NR_TA_COUNT];
    struct case_ts *c = one_case;
    unsigned long frame;
    long stream;
    int i, n = tshark_fields(line, fld, 2 + NR_TA_COUNT);

    frame = strtoul(fld[0], NULL, 10);
    for (size_t k = 0; !c && k < ts.ncases; k++)
        if (ts.cases[k].nframes && frame >= ts.cases[k].first &&
            frame < ts.cases[k].first + ts.cases[k].nframes)
            c = &ts.cases[k];
    if (!c || n < 2)
        return;
    for (int k = 0; k < NR_TA_COUNT && 2 + k < n; k++)
        c->flags[k] += fld[2 + k][0] != '\0';
    if (!fld[1][0])
        return;
    stream = strtol(fld[1], NULL, 10);
    for (i = 0; i < c->nstreams && c->streams[i] != stream; i++)
        ;
    if (i == c->nstreams && i < (int)(sizeof(c->streams) / sizeof(c->streams[0])))
        c->streams[c->nstreams++] = stream;
}

/* tshark -r file -T fields (frame.number, tcp.stream, the analysis flags)
 * and -z follow,tcp,raw,K for K < nfollow.  Rows go to the case of their
 * frame (one_case: all to it, and the capture may be damaged); the follow
 * blocks to ts.fol.  Returns 0 or -1 (ts.err). */
static int tshark_read(const char *file, unsigned long nfollow, struct case_ts *one_case)
{
    static char names[NR_TA_COUNT][64], zs[TSHARK_MAX_ARGS / 2][40];
    const char *args[TSHARK_MAX_ARGS + 1];
    char out[300], err[NR_ERRBUF_SIZE], *line = NULL;
    size_t cap = 0;
    int n = 0;
    FILE *f;

    args[n++] = "-T";
    args[n++] = "fields";
    args[n++] = "-E";
    args[n++] = "separator=/t";
    args[n++] = "-e";
    args[n++] = "frame.number";
    args[n++] = "-e";
    args[n++] = "tcp.stream";
    for (int k = 0; k < NR_TA_COUNT; k++) {
        snprintf(names[k], sizeof(names[k]), "tcp.analysis.%s", nr_ta_name(k));
        args[n++] = "-e";
        args[n++] = names[k];
    }
    for (unsigned long k = 0; k < nfollow && n + 2 < TSHARK_MAX_ARGS; k++) {
        snprintf(zs[k], sizeof(zs[k]), "follow,tcp,raw,%lu", k);
        args[n++] = "-z";
        args[n++] = zs[k];
    }
    args[n] = NULL;
    snprintf(out, sizeof(out), "%s/tshark/out", dir);
    if (!(f = tshark_run(file, out, args, one_case ? 2 : 0, err))) {
        snprintf(ts.err, sizeof(ts.err), "%s", err);
        return -1;
    }
    while (getline(&line, &cap, f) > 0 && line[0] != '=')
        if (line[0] >= '0' && line[0] <= '9')
            tshark_row(line, one_case);
    free(line);
    if (nfollow) {
        rewind(f);
        ts.nfol = tshark_follows(f, &ts.fol);
    }
    fclose(f);
    if (ts.nfol < 0) {
        snprintf(ts.err, sizeof(ts.err), "out of memory");
        return -1;
    }
    return 0;
}

/* The cases from the manifest, then the damaged captures (not in it). */
static int tshark_answers(void)
{
    char p[400], cmd[256], name[256];
    struct nr_pktfile cap;
    struct nr_pktfile_opts o = { 0 };
    unsigned long ntcp = 0;
    FILE *m, *ls;

    if (ts.state)
        return ts.state;
    ts.state = -1;
    snprintf(p, sizeof(p), "%s/tshark/all.txt", dir);
    if (!(m = fopen(p, "r"))) {
        snprintf(ts.err, sizeof(ts.err), "%.250s: missing", p);
        return -1;
    }
    while (ts.ncases < sizeof(ts.cases) / sizeof(ts.cases[0]) &&
           fscanf(m, "%95s %lu %lu", ts.cases[ts.ncases].name, &ts.cases[ts.ncases].first,
                  &ts.cases[ts.ncases].nframes) == 3)
        ts.ncases++;
    fclose(m);
    /* tshark splits a 4-tuple into fewer streams than zeek (netrig) does */
    snprintf(p, sizeof(p), "%s/tshark/all.pcapng", dir);
    if (nr_pktfile_read_file(p, &o, &cap, ts.err) < 0)
        return -1;
    for (size_t i = 0; i < nr_flowtab_count(cap.ft); i++)
        ntcp += nr_flowtab_conn(cap.ft, i)->proto == IPPROTO_TCP;
    nr_pktfile_free(&cap);
    if (tshark_read(p, ntcp, NULL) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "cd '%s' && ls *.pcap *.pcapng", dir);
    if (!(ls = popen(cmd, "r")))
        return -1;
    while (fgets(name, sizeof(name), ls)) {
        struct case_ts *c;
        name[strcspn(name, "\n")] = '\0';
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        name[strcspn(name, ".")] = '\0';
        if (case_named(name) || ts.ncases == sizeof(ts.cases) / sizeof(ts.cases[0]))
            continue;
        c = &ts.cases[ts.ncases++];
        snprintf(c->name, sizeof(c->name), "%.95s", name);
        if (tshark_read(p, 0, c) < 0)
            break;
    }
    if (pclose(ls) == 0 && !ts.err[0])
        ts.state = 1;
    return ts.state;
}

static void tshark_flags_agree_on_every_capture(void **state)
{
    char path[400];
    int bad = 0;

    (void)state;
    if (!tshark_available())
        skip();
    if (tshark_answers() < 0)
        fail_msg("tshark: %s", ts.err);
    for (size_t i = 0; i < ts.ncases; i++) {
        unsigned long nr[NR_TA_COUNT] = { 0 };
        const struct case_ts *c = &ts.cases[i];
        struct nr_pktfile cap;
        struct nr_pktfile_opts o = { .partial_ok = 1 };
        char err[NR_ERRBUF_SIZE];
        assert_int_equal(capture_path(c->name, path, sizeof(path)), 0);
        if (nr_pktfile_read_file(path, &o, &cap, err) < 0) {
            printf("%s: %s\n", c->name, err);
            bad++;
            continue;
        }
        for (size_t k = 0; k < nr_flowtab_count(cap.ft); k++)
            for (int f = 0; f < NR_TA_COUNT; f++)
                nr[f] += nr_flowtab_conn(cap.ft, k)->ta[0][f] + nr_flowtab_conn(cap.ft, k)->ta[1][f];
        nr_pktfile_free(&cap);
        for (int f = 0; f < NR_TA_COUNT; f++) {
            if (c->flags[f] != nr[f]) {
                printf("%s: %s: tshark %lu, netrig %lu\n", c->name, nr_ta_name(f), c->flags[f],
                       nr[f]);
                bad++;
            }
        }
    }
    if (bad)
        fail_msg("%d flag counts differ from tshark's", bad);
}

/* expect.txt opened for reading, once tshark's answers are in (skips the
 * test without tshark, fails it when tshark failed). */
static FILE *expectations_with_tshark(void)
{
    char p[128];
    FILE *f;

    if (!tshark_available())
        skip();
    if (tshark_answers() < 0)
        fail_msg("tshark: %s", ts.err);
    snprintf(p, sizeof(p), "%s/expect.txt", dir);
    f = fopen(p, "r");
    assert_non_null(f);
    return f;
}

/* Every "flag" line names a flag tshark really raises on that case. */
static void every_flag_case_exercises_its_flag(void **state)
{
    char line[512];
    int bad = 0;
    FILE *f;

    (void)state;
    f = expectations_with_tshark();
    while (fgets(line, sizeof(line), f)) {
        char name[128], kind[64];
        const struct case_ts *c;
        int k;
        if (sscanf(line, "%127s flag %63s", name, kind) != 2)
            continue;
        for (k = 0; k < NR_TA_COUNT && strcmp(nr_ta_name(k), kind); k++)
            ;
        if (!(c = case_named(name)) || k == NR_TA_COUNT || !c->flags[k]) {
            printf("%s: tshark raises no %s\n", name, kind);
            bad++;
        }
    }
    fclose(f);
    if (bad)
        fail_msg("%d flag cases do not exercise their flag", bad);
}

/* Check a "tshark-stream K DIR HEX" line against tshark's follow of that
 * case's K-th TCP stream; returns 1 when it holds, else prints why. */
static int check_tshark_stream(const char *line)
{
    static char name[128], hex[8192], got[8192];
    char dirname[16];
    unsigned k;
    const struct case_ts *c;
    const struct tshark_follow *fo;
    int node;

    if (sscanf(line, "%127s tshark-stream %u %15s %8191s", name, &k, dirname, hex) != 4)
        return 1;
    node = strcmp(dirname, "resp") == 0;
    if (!(c = case_named(name)) || k >= (unsigned)c->nstreams) {
        printf("%s: tshark has no TCP stream %u\n", name, k);
        return 0;
    }
    if (!(fo = tshark_follow_of(ts.fol, ts.nfol, c->streams[k]))) {
        printf("%s: no follow of tcp.stream %ld\n", name, c->streams[k]);
        return 0;
    }
    hexof(fo->data[node], fo->len[node], got, sizeof(got));
    if (strcmp(got, hex)) {
        printf("%s: tshark's stream %u %s\n    got      %s\n    expected %s\n", name, k, dirname,
               got, hex);
        return 0;
    }
    return 1;
}

/* tshark reassembles each tshark-stream case as expected (the IP
 * fragment cases), and the check fails on a wrong expectation. */
static void tshark_streams_meet_their_expectations(void **state)
{
    char line[8192];
    int bad = 0, n = 0;
    FILE *f;

    (void)state;
    f = expectations_with_tshark();
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, " tshark-stream "))
            continue;
        n++;
        bad += !check_tshark_stream(line);
    }
    fclose(f);
    assert_true(n > 0);
    if (bad)
        fail_msg("%d of %d tshark streams differ from their expectation", bad, n);
    assert_int_equal(check_tshark_stream("ipv4-frag-udp tshark-stream 0 orig 00"), 0);
    assert_int_equal(check_tshark_stream("ipv4-frag-tcp-reordered tshark-stream 0 orig 41"), 0);
}

static int setup(void **state)
{
    char cmd[256];

    (void)state;
    if (tshark_tmpdir(dir, "nr-pcap-corpus") < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 harness/tests/corpus/gen.py '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tshark_follows_free(ts.fol, ts.nfol);
    return tshark_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_meets_its_expectations),
        cmocka_unit_test(a_wrong_expectation_fails),
        cmocka_unit_test(tshark_flags_agree_on_every_capture),
        cmocka_unit_test(every_flag_case_exercises_its_flag),
        cmocka_unit_test(tshark_streams_meet_their_expectations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
