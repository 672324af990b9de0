/* Cross-check of the packet analysis library against tshark on the same
 * captures: conversation counts (-z conv,tcp / conv,udp), frames and bytes
 * per direction (-T fields), and reassembled streams (-z follow,tcp,raw,N).
 * Captures: one crafted here with out-of-order, retransmitted, overlapping
 * segments, resets and UDP; one of real loopback traffic taken with tcpdump
 * (skipped with a reason when capturing is not permitted).  Skipped as a
 * whole when tshark is not installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"
#include "nr_pktfile.h"
#include "nr_proc.h"
#include "pktgen.h"

#define MAXCONV 64

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* Run tshark -r file args... with stdout into dir/tshark.out; returns a
 * FILE* on that output (caller closes). */
static FILE *tshark(const char *file, ...)
{
    char *argv[16], op[128], ebuf[NR_ERRBUF_SIZE];
    struct nr_proc p;
    va_list ap;
    int n = 0;

    argv[n++] = (char *)"tshark";
    argv[n++] = (char *)"-r";
    argv[n++] = (char *)file;
    va_start(ap, file);
    for (const char *a = va_arg(ap, const char *); a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    path_of(op, sizeof(op), "tshark.out");
    struct nr_spawn s = { .argv = argv, .stdout_path = op, .activation_fd = -1 };
    if (nr_proc_spawn(&s, &p, ebuf) < 0)
        fail_msg("tshark: %s", ebuf);
    if (nr_proc_wait(&p, 60000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("tshark did not finish");
    }
    nr_proc_release(&p);
    return fopen(op, "r");
}

static int have_tshark(void)
{
    return system("command -v tshark >/dev/null 2>&1") == 0;
}

static size_t count_lines_with(FILE *f, const char *needle)
{
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static size_t count_proto(const struct nr_pktfile *cap, int proto)
{
    size_t n = 0;
    for (size_t i = 0; i < nr_flowtab_count(cap->ft); i++)
        n += nr_flowtab_conn(cap->ft, i)->proto == proto;
    return n;
}

/* The i-th conversation of proto. */
static const struct nr_conn *nth(const struct nr_pktfile *cap, int proto, size_t k)
{
    for (size_t i = 0; i < nr_flowtab_count(cap->ft); i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        if (c->proto == proto && k-- == 0)
            return c;
    }
    return NULL;
}

/* Frames and bytes per stream and direction from tshark -T fields. */
static void cmp_counts(const char *file, const struct nr_pktfile *cap, int proto)
{
    static uint64_t frames[MAXCONV][2], bytes[MAXCONV][2];
    const char *pn = proto == IPPROTO_TCP ? "tcp" : "udp";
    char f_stream[32], f_port[32], line[256];
    unsigned stream, port, len;
    size_t n = count_proto(cap, proto);
    FILE *f;

    memset(frames, 0, sizeof(frames));
    memset(bytes, 0, sizeof(bytes));
    snprintf(f_stream, sizeof(f_stream), "%s.stream", pn);
    snprintf(f_port, sizeof(f_port), "%s.srcport", pn);
    f = tshark(file, "-Y", pn, "-T", "fields", "-e", f_stream, "-e", f_port, "-e", "frame.len",
               NULL);
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        const struct nr_conn *c;
        if (sscanf(line, "%u %u %u", &stream, &port, &len) != 3)
            continue;
        assert_true(stream < n && stream < MAXCONV);
        c = nth(cap, proto, stream);
        int d = port == c->port[0] ? 0 : 1;
        frames[stream][d]++;
        bytes[stream][d] += len;
    }
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nth(cap, proto, i);
        for (int d = 0; d < 2; d++)
            if (frames[i][d] != c->pkts[d] || bytes[i][d] != c->bytes[d])
                fail_msg("%s %s #%zu dir %d: tshark %llu frames %llu bytes, netrig %llu/%llu",
                         file, pn, i, d, (unsigned long long)frames[i][d],
                         (unsigned long long)bytes[i][d], (unsigned long long)c->pkts[d],
                         (unsigned long long)c->bytes[d]);
    }
}

static int unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    unsigned v;
    while (s[0] && s[1] && s[0] != '\n') {
        if (n >= max || sscanf(s, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return (int)n;
}

/* Reassembled streams of TCP stream k vs tshark's follow,tcp,raw,k. */
static void cmp_follow(const char *file, const struct nr_pktfile *cap, size_t k)
{
    static uint8_t got[2][1 << 20];
    static char line[1 << 16];
    size_t len[2] = { 0, 0 };
    char spec[64], node0[80] = "", ep[80];
    const struct nr_conn *c = nth(cap, 6, k);
    int node0_dir, in_data = 0;
    FILE *f;

    snprintf(spec, sizeof(spec), "follow,tcp,raw,%zu", k);
    f = tshark(file, "-q", "-z", spec, NULL);
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "Node 0: ", 8)) {
            size_t l = strcspn(line + 8, "\n");
            if (l >= sizeof(node0))
                l = sizeof(node0) - 1;
            memcpy(node0, line + 8, l);
            node0[l] = '\0';
        } else if (!strncmp(line, "Node 1: ", 8)) {
            in_data = 1;
        } else if (in_data && line[0] == '=') {
            in_data = 0;
        } else if (in_data) {
            int node = line[0] == '\t';
            int n = unhex(line + node, got[node] + len[node], sizeof(got[0]) - len[node]);
            assert_true(n >= 0);
            len[node] += (size_t)n;
        }
    }
    fclose(f);
    nr_conn_endpoint(c, 0, ep, sizeof(ep));
    node0_dir = strcmp(ep, node0) == 0 ? 0 : 1;
    for (int node = 0; node < 2; node++) {
        const struct nr_bytes *s = &c->stream[node ? !node0_dir : node0_dir];
        if (s->len != len[node] || (len[node] && memcmp(s->data, got[node], len[node])))
            fail_msg("%s tcp stream %zu node %d: tshark %zu bytes, netrig %zu (or content differs)",
                     file, k, node, len[node], s->len);
    }
}

static void cross_check(const char *file)
{
    char ebuf[NR_ERRBUF_SIZE];
    struct nr_pktfile cap;
    struct nr_pktfile_opts o = { .keep_data = 1 };
    size_t ntcp;

    if (nr_pktfile_read_file(file, &o, &cap, ebuf) < 0)
        fail_msg("%s", ebuf);
    ntcp = count_proto(&cap, 6);
    assert_true(ntcp > 0);
    assert_int_equal(count_lines_with(tshark(file, "-q", "-z", "conv,tcp", NULL), "<->"), ntcp);
    assert_int_equal(count_lines_with(tshark(file, "-q", "-z", "conv,udp", NULL), "<->"),
                     count_proto(&cap, 17));
    cmp_counts(file, &cap, 6);
    cmp_counts(file, &cap, 17);
    for (size_t k = 0; k < ntcp; k++)
        cmp_follow(file, &cap, k);
    nr_pktfile_free(&cap);
}

/* Several connections: out-of-order, retransmitted and overlapping
 * segments, a multi-segment body in shuffled order, a reset, UDP. */
static void write_crafted(const char *path)
{
    static uint8_t body[20000], f[300];
    struct pg_sink s = { 0 };
    struct pg_conn c;
    uint32_t base;

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)('a' + (i * 7 + i / 13) % 26);
    assert_int_equal(pg_open_file(&s, path), 0);
    for (int k = 0; k < 4; k++) {
        pg_conn_init(&c, &s, (uint16_t)(50000 + k), 8080, 1000u * (uint32_t)k + 0xffff0000u,
                     0xfffffc00u + (uint32_t)k);
        pg_handshake(&c);
        pg_seg(&c, 0, NR_TCP_ACK, "request\n", 8);
        base = c.seq[1];
        /* 20 segments of 1000 bytes: pairs swapped, every 5th resent */
        for (uint32_t i = 0; i < 20; i += 2) {
            pg_seg_at(&c, 1, NR_TCP_ACK, base + (i + 1) * 1000, body + (i + 1) * 1000, 1000);
            pg_seg_at(&c, 1, NR_TCP_ACK, base + i * 1000, body + i * 1000, 1000);
            if (i % 5 == 0)
                pg_seg_at(&c, 1, NR_TCP_ACK, base + i * 1000 + 500, body + i * 1000 + 500, 1000);
        }
        c.seq[1] = base + 20000;
        pg_seg(&c, 0, NR_TCP_ACK, "thanks\n", 7);
        if (k == 3)
            pg_seg(&c, 0, NR_TCP_RST | NR_TCP_ACK, NULL, 0);
        else
            pg_close(&c, k & 1);
        pg_emit(&s, f, pg_udp4(f, 0x7f000001, (uint16_t)(6000 + k), 0x7f000001, 53, "q", 1));
        pg_emit(&s, f, pg_udp4(f, 0x7f000001, 53, 0x7f000001, (uint16_t)(6000 + k), "ans", 3));
    }
    pg_close_file(&s);
}

static void crafted_capture(void **state)
{
    char p[128];
    (void)state;
    if (!have_tshark())
        skip();
    path_of(p, sizeof(p), "crafted.pcap");
    write_crafted(p);
    cross_check(p);
}

/* Real loopback traffic: 3 TCP connections with a request/response each
 * and one UDP exchange, captured with tcpdump -i lo. */
static int loopback_traffic(const struct nr_addr *srv, int lfd, int ufd)
{
    char buf[4096];
    for (int k = 0; k < 3; k++) {
        int c = nr_connect_tcp(srv, 2000, NULL, NULL, NULL), a;
        if (c < 0 || (a = accept(lfd, NULL, NULL)) < 0)
            return -1;
        memset(buf, 'A' + k, sizeof(buf));
        if (nr_write_all(c, buf, 3000 + (size_t)k, 2000) < 0)
            return -1;
        for (size_t got = 0; got < 3000 + (size_t)k;) {
            ssize_t n = nr_wait_fd(a, POLLIN, 2000) > 0 ? nr_read(a, buf, sizeof(buf)) : -1;
            if (n <= 0)
                return -1;
            got += (size_t)n;
        }
        if (nr_write_all(a, "ok\n", 3, 2000) < 0)
            return -1;
        if (nr_wait_fd(c, POLLIN, 2000) <= 0 || nr_read(c, buf, sizeof(buf)) != 3)
            return -1;
        close(c);
        close(a);
    }
    return sendto(ufd, "ping", 4, 0, (const struct sockaddr *)&srv->ss, srv->len) == 4 ? 0 : -1;
}

static void loopback_capture(void **state)
{
    char p[128], ep[128], filter[64], port[16], line[256], ebuf[NR_ERRBUF_SIZE];
    struct nr_addr any, srv;
    struct nr_proc tp;
    int lfd, ufd, rc;
    (void)state;
    if (!have_tshark() || system("command -v tcpdump >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skip: tshark or tcpdump not installed\n");
        skip();
    }
    assert_int_equal(nr_addr_from_host("127.0.0.1", 0, &any, ebuf), 0);
    lfd = nr_bind_socket(&any, SOCK_STREAM, 8, ebuf);
    assert_true(lfd >= 0);
    assert_int_equal(nr_local_addr(lfd, &srv, ebuf), 0);
    ufd = nr_bind_socket(&srv, SOCK_DGRAM, 0, ebuf);
    assert_true(ufd >= 0);
    snprintf(port, sizeof(port), "%d", nr_addr_port((struct sockaddr *)&srv.ss));
    snprintf(filter, sizeof(filter), "port %s", port);
    path_of(p, sizeof(p), "lo.pcap");
    path_of(ep, sizeof(ep), "tcpdump.err");
    char *argv[] = { "tcpdump", "-i", "lo", "-U", "-n", "--immediate-mode", "-w", p, filter, NULL };
    struct nr_spawn s = { .argv = argv, .stderr_path = ep, .activation_fd = -1 };
    assert_int_equal(nr_proc_spawn(&s, &tp, ebuf), 0);
    if (nr_wait_file_line(ep, "tcpdump: listening on", line, sizeof(line), &tp, 5000) != 1) {
        nr_proc_stop(&tp, 500);
        nr_proc_release(&tp);
        close(lfd);
        close(ufd);
        fprintf(stderr, "skip: tcpdump cannot capture on lo (no permission?)\n");
        skip();
    }
    rc = loopback_traffic(&srv, lfd, ufd);
    usleep(300000); /* let tcpdump see the last packets before stopping it */
    nr_proc_signal(&tp, SIGINT);
    nr_proc_wait(&tp, 5000);
    nr_proc_stop(&tp, 500);
    nr_proc_release(&tp);
    close(lfd);
    close(ufd);
    assert_int_equal(rc, 0);
    cross_check(p);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/nr-pcap-tshark-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
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
        cmocka_unit_test(crafted_capture),
        cmocka_unit_test(loopback_capture),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
