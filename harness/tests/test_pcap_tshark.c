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
#include "tshark.h"

#define MAXCONV 64

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
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

/* What one tshark run says about a capture. */
struct answer {
    uint64_t frames[2][MAXCONV][2], bytes[2][MAXCONV][2]; /* [tcp/udp][stream][dir] */
    size_t conv_lines[2];                                 /* "<->" lines of conv,tcp / conv,udp */
    struct tshark_follow *fol;
    long nfol;
};

/* One -T fields row: tcp.stream, udp.stream, tcp.srcport, udp.srcport,
 * frame.len; counted per stream and direction (netrig's orig port). */
static void count_row(char *line, const struct nr_pktfile *cap, struct answer *a)
{
    char *fld[5];
    int u;

    if (tshark_fields(line, fld, 5) != 5 || (!fld[0][0] && !fld[1][0]))
        return;
    u = fld[0][0] == '\0';
    unsigned long stream = strtoul(fld[u], NULL, 10), port = strtoul(fld[2 + u], NULL, 10);
    const struct nr_conn *c = nth(cap, u ? IPPROTO_UDP : IPPROTO_TCP, stream);
    if (!c || stream >= MAXCONV)
        fail_msg("tshark's %s stream %lu: netrig has no such conversation", u ? "udp" : "tcp",
                 stream);
    int d = port == c->port[0] ? 0 : 1;
    a->frames[u][stream][d]++;
    a->bytes[u][stream][d] += strtoul(fld[4], NULL, 10);
}

/* One tshark run over file: frames and bytes per stream and direction
 * (-T fields), the conversation tables (-z conv,tcp and conv,udp) and the
 * reassembled TCP streams (-z follow,tcp,raw,K for every netrig TCP
 * connection). */
static void ask_tshark(const char *file, const struct nr_pktfile *cap, struct answer *a)
{
    static char zs[MAXCONV][40];
    const char *args[TSHARK_MAX_ARGS] = { "-T", "fields", "-e", "tcp.stream", "-e", "udp.stream",
                                          "-e", "tcp.srcport", "-e", "udp.srcport", "-e",
                                          "frame.len", "-z", "conv,tcp", "-z", "conv,udp" };
    char out[128], err[NR_ERRBUF_SIZE], *line = NULL;
    size_t cap_len = 0, ntcp = count_proto(cap, IPPROTO_TCP);
    int n = 16, table = -1;
    FILE *f;

    for (size_t k = 0; k < ntcp && k < MAXCONV; k++) {
        snprintf(zs[k], sizeof(zs[k]), "follow,tcp,raw,%zu", k);
        args[n++] = "-z";
        args[n++] = zs[k];
    }
    args[n] = NULL;
    memset(a, 0, sizeof(*a));
    path_of(out, sizeof(out), "tshark.out");
    if (!(f = tshark_run(file, out, args, 0, err)))
        fail_msg("%s", err);
    while (getline(&line, &cap_len, f) > 0) {
        if (table < 0 && line[0] != '=')
            count_row(line, cap, a);
        else if (strncmp(line, "TCP Conversations", 17) == 0)
            table = 0;
        else if (strncmp(line, "UDP Conversations", 17) == 0)
            table = 1;
        else if (strncmp(line, "Follow:", 7) == 0)
            table = 2;
        else if (table == 0 || table == 1)
            a->conv_lines[table] += strstr(line, "<->") != NULL;
        if (line[0] == '=' && table < 0)
            table = 3; /* the rows end where the statistics begin */
    }
    free(line);
    rewind(f);
    a->nfol = tshark_follows(f, &a->fol);
    fclose(f);
    assert_true(a->nfol >= 0);
}

/* Frames and bytes per stream and direction against netrig's counts. */
static void cmp_counts(const char *file, const struct nr_pktfile *cap, const struct answer *a,
                       int proto)
{
    int u = proto == IPPROTO_UDP;

    for (size_t i = 0; i < count_proto(cap, proto) && i < MAXCONV; i++) {
        const struct nr_conn *c = nth(cap, proto, i);
        for (int d = 0; d < 2; d++)
            if (a->frames[u][i][d] != c->pkts[d] || a->bytes[u][i][d] != c->bytes[d])
                fail_msg("%s %s #%zu dir %d: tshark %llu frames %llu bytes, netrig %llu/%llu",
                         file, u ? "udp" : "tcp", i, d, (unsigned long long)a->frames[u][i][d],
                         (unsigned long long)a->bytes[u][i][d], (unsigned long long)c->pkts[d],
                         (unsigned long long)c->bytes[d]);
    }
}

/* Reassembled streams of TCP stream k vs tshark's follow,tcp,raw,k. */
static void cmp_follow(const char *file, const struct nr_pktfile *cap, const struct answer *a,
                       size_t k)
{
    const struct tshark_follow *fo = tshark_follow_of(a->fol, a->nfol, (long)k);
    const struct nr_conn *c = nth(cap, IPPROTO_TCP, k);
    char ep[80];
    int node0_dir;

    if (!fo)
        fail_msg("%s: tshark did not follow tcp stream %zu", file, k);
    nr_conn_endpoint(c, 0, ep, sizeof(ep));
    node0_dir = strcmp(ep, fo->node[0]) == 0 ? 0 : 1;
    for (int node = 0; node < 2; node++) {
        const struct nr_bytes *s = &c->stream[node ? !node0_dir : node0_dir];
        if (s->len != fo->len[node] || (s->len && memcmp(s->data, fo->data[node], s->len)))
            fail_msg("%s tcp stream %zu node %d: tshark %zu bytes, netrig %zu (or content differs)",
                     file, k, node, fo->len[node], s->len);
    }
}

static void cross_check(const char *file)
{
    static struct answer a;
    char ebuf[NR_ERRBUF_SIZE];
    struct nr_pktfile cap;
    struct nr_pktfile_opts o = { .keep_data = 1 };
    size_t ntcp;

    if (nr_pktfile_read_file(file, &o, &cap, ebuf) < 0)
        fail_msg("%s", ebuf);
    ntcp = count_proto(&cap, IPPROTO_TCP);
    assert_true(ntcp > 0 && ntcp <= MAXCONV);
    ask_tshark(file, &cap, &a);
    assert_int_equal(a.conv_lines[0], ntcp);
    assert_int_equal(a.conv_lines[1], count_proto(&cap, IPPROTO_UDP));
    cmp_counts(file, &cap, &a, IPPROTO_TCP);
    cmp_counts(file, &cap, &a, IPPROTO_UDP);
    for (size_t k = 0; k < ntcp; k++)
        cmp_follow(file, &cap, &a, k);
    tshark_follows_free(a.fol, a.nfol);
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
    if (!tshark_available())
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
    if (!tshark_available() || system("command -v tcpdump >/dev/null 2>&1") != 0) {
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
    return tshark_tmpdir(dir, "nr-pcap-tshark");
}

static int teardown(void **state)
{
    (void)state;
    return tshark_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crafted_capture),
        cmocka_unit_test(loopback_capture),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
