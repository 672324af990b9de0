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
    if (strcmp(what, "flag") == 0)
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
          "follow-fin-after-gap chunks 0 orig:fin:0:0\n",
          f);
    fclose(f);
    assert_int_equal(check_file(p), 4);
}

/* tshark's flag counts of one capture: counts[flag] summed over the file.
 * Each capture is read by tshark once (its start-up dominates the cost of
 * this test); later calls get the remembered counts. */
static int tshark_flags(const char *path, unsigned long counts[NR_TA_COUNT])
{
    static struct {
        char path[400];
        unsigned long c[NR_TA_COUNT];
    } cache[64];
    static size_t ncache;
    char cmd[2048], line[1024];
    FILE *f;
    size_t at;

    for (size_t i = 0; i < ncache; i++) {
        if (strcmp(cache[i].path, path) == 0) {
            memcpy(counts, cache[i].c, sizeof(cache[i].c));
            return 0;
        }
    }
    at = (size_t)snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -E separator=/t", path);
    for (int k = 0; k < NR_TA_COUNT; k++)
        at += (size_t)snprintf(cmd + at, sizeof(cmd) - at, " -e tcp.analysis.%s", nr_ta_name(k));
    snprintf(cmd + at, sizeof(cmd) - at, " 2>/dev/null");
    memset(counts, 0, NR_TA_COUNT * sizeof(*counts));
    f = popen(cmd, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *s = line;
        for (int k = 0; k < NR_TA_COUNT && s; k++) {
            char *tab = strchr(s, '\t');
            if (*s && *s != '\t' && *s != '\n')
                counts[k]++;
            s = tab ? tab + 1 : NULL;
        }
    }
    pclose(f);
    if (ncache < sizeof(cache) / sizeof(cache[0])) {
        snprintf(cache[ncache].path, sizeof(cache[ncache].path), "%s", path);
        memcpy(cache[ncache].c, counts, sizeof(cache[ncache].c));
        ncache++;
    }
    return 0;
}

static void tshark_flags_agree_on_every_capture(void **state)
{
    char cmd[256], path[400], name[256];
    int bad = 0;
    FILE *ls;

    (void)state;
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        skip();
    snprintf(cmd, sizeof(cmd), "cd '%s' && ls *.pcap *.pcapng", dir);
    ls = popen(cmd, "r");
    assert_non_null(ls);
    while (fgets(name, sizeof(name), ls)) {
        unsigned long ts[NR_TA_COUNT], nr[NR_TA_COUNT] = { 0 };
        struct nr_pktfile cap;
        struct nr_pktfile_opts o = { .partial_ok = 1 };
        char err[NR_ERRBUF_SIZE];
        name[strcspn(name, "\n")] = '\0';
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (nr_pktfile_read_file(path, &o, &cap, err) < 0) {
            printf("%s: %s\n", name, err);
            bad++;
            continue;
        }
        for (size_t i = 0; i < nr_flowtab_count(cap.ft); i++)
            for (int k = 0; k < NR_TA_COUNT; k++)
                nr[k] += nr_flowtab_conn(cap.ft, i)->ta[0][k] + nr_flowtab_conn(cap.ft, i)->ta[1][k];
        nr_pktfile_free(&cap);
        assert_int_equal(tshark_flags(path, ts), 0);
        for (int k = 0; k < NR_TA_COUNT; k++) {
            if (ts[k] != nr[k]) {
                printf("%s: %s: tshark %lu, netrig %lu\n", name, nr_ta_name(k), ts[k], nr[k]);
                bad++;
            }
        }
    }
    pclose(ls);
    if (bad)
        fail_msg("%d flag counts differ from tshark's", bad);
}

/* Every "flag" line names a flag tshark really raises on that case. */
static void every_flag_case_exercises_its_flag(void **state)
{
    char p[128], line[512], path[300];
    int bad = 0;
    FILE *f;

    (void)state;
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        skip();
    snprintf(p, sizeof(p), "%s/expect.txt", dir);
    f = fopen(p, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char name[128], kind[64];
        unsigned long ts[NR_TA_COUNT];
        int k;
        if (sscanf(line, "%127s flag %63s", name, kind) != 2)
            continue;
        assert_int_equal(capture_path(name, path, sizeof(path)), 0);
        assert_int_equal(tshark_flags(path, ts), 0);
        for (k = 0; k < NR_TA_COUNT && strcmp(nr_ta_name(k), kind); k++)
            ;
        if (k == NR_TA_COUNT || !ts[k]) {
            printf("%s: tshark raises no %s\n", name, kind);
            bad++;
        }
    }
    fclose(f);
    if (bad)
        fail_msg("%d flag cases do not exercise their flag", bad);
}

static int setup(void **state)
{
    char cmd[256];

    (void)state;
    strcpy(dir, "/tmp/nr-pcap-corpus-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 harness/tests/corpus/gen.py '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_meets_its_expectations),
        cmocka_unit_test(a_wrong_expectation_fails),
        cmocka_unit_test(tshark_flags_agree_on_every_capture),
        cmocka_unit_test(every_flag_case_exercises_its_flag),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
