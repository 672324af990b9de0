/* Tests of `netrig pcap` on captures crafted here with pcap_dump: summary,
 * follow, check, diff, seeds, --json validity, and malformed files (exit 2
 * with the byte offset).  Also reads captures from memory, cut at every
 * length. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bin_dir.h"
#include "nr_pktfile.h"
#include "nr_proc.h"
#include "pktgen.h"

#define S NR_TCP_SYN
#define A NR_TCP_ACK
#define F NR_TCP_FIN
#define R NR_TCP_RST

static char dir[64];
static char netrig[512];
static char out[1 << 16], err[1 << 12];

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static size_t slurp(const char *path, char *buf, size_t max)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, max - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return n;
}

/* Run netrig with args (NULL-terminated); stdout into out[], stderr into
 * err[].  Returns the exit status. */
static int run(const char *first, ...)
{
    char *argv[16], op[128], ep[128], ebuf[NR_ERRBUF_SIZE];
    struct nr_proc p;
    va_list ap;
    int n = 0;

    argv[n++] = netrig;
    argv[n++] = (char *)"pcap";
    va_start(ap, first);
    for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    path_of(op, sizeof(op), "stdout");
    path_of(ep, sizeof(ep), "stderr");
    struct nr_spawn s = { .argv = argv, .stdout_path = op, .stderr_path = ep,
                          .activation_fd = -1 };
    if (nr_proc_spawn(&s, &p, ebuf) < 0)
        fail_msg("spawn: %s", ebuf);
    if (nr_proc_wait(&p, 20000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("netrig pcap %s did not finish", first);
    }
    nr_proc_release(&p);
    slurp(op, out, sizeof(out));
    slurp(ep, err, sizeof(err));
    assert_true(WIFEXITED(p.status));
    return WEXITSTATUS(p.status);
}

/* The reference capture: an SF connection with an out-of-order and a
 * retransmitted segment, a rejected connection, a UDP exchange.  The
 * ports and ISNs vary with `variant`; `payload_byte` changes one byte. */
static void write_capture(const char *name, int variant, char payload_byte)
{
    char path[128], req[] = "GET /index.html HTTP/1.0\r\n\r\n";
    static uint8_t f[300];
    struct pg_sink s = { 0 };
    struct pg_conn c, r;

    path_of(path, sizeof(path), name);
    req[4] = payload_byte;
    assert_int_equal(pg_open_file(&s, path), 0);
    pg_conn_init(&c, &s, (uint16_t)(41000 + variant), 8080, 100 + 7777u * (uint32_t)variant,
                 0xfffffff8u - (uint32_t)variant);
    pg_handshake(&c);
    pg_seg(&c, 0, A, req, 10);
    pg_seg_at(&c, 0, A, c.seq[0] + 10, req + 20, sizeof(req) - 21); /* ahead of a hole */
    pg_seg(&c, 0, A, req + 10, 10);                                  /* fills it */
    c.seq[0] += sizeof(req) - 21;
    pg_seg_at(&c, 0, A, c.seq[0] - 8, req + 19, 8);                  /* retransmission */
    pg_seg(&c, 1, A, "HTTP/1.0 200 OK\r\n\r\nhello", 24);
    pg_seg(&c, 0, A, "more", 4);
    pg_seg(&c, 1, A, "bye", 3);
    pg_close(&c, 1);
    pg_conn_init(&r, &s, (uint16_t)(42000 + variant), 9, 5, 0);
    pg_seg(&r, 0, S, NULL, 0);
    pg_seg(&r, 1, R | A, NULL, 0);
    pg_emit(&s, f, pg_udp4(f, 0x7f000001, (uint16_t)(43000 + variant), 0x7f000001, 53, "q1", 2));
    pg_emit(&s, f, pg_udp4(f, 0x7f000001, 53, 0x7f000001, (uint16_t)(43000 + variant), "a1!", 3));
    pg_close_file(&s);
}

static int setup(void **state)
{
    char bin[PATH_MAX];

    (void)state;
    if (snprintf(netrig, sizeof(netrig), "%s/netrig", bin_dir(bin)) >= (int)sizeof(netrig)) {
        fprintf(stderr, "%s/netrig: path too long\n", bin);
        return -1;
    }
    if (access(netrig, X_OK) != 0) {
        fprintf(stderr, "cannot run %s: %s\n", netrig, strerror(errno));
        return -1;
    }
    strcpy(dir, "/tmp/nr-pcap-cmd-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_capture("a.pcap", 0, '/');
    write_capture("b.pcap", 1, '/');
    write_capture("c.pcap", 0, '!');
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* 1 when python3 says file is valid JSON, 0 when not, -1 without python3. */
static int json_valid(const char *text)
{
    char p[128], cmd[400];
    FILE *f;
    int rc;

    path_of(p, sizeof(p), "out.json");
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (system("command -v python3 >/dev/null 2>&1") != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s", p);
    rc = system(cmd);
    return rc == 0;
}

static void summary(void **state)
{
    char a[128];
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    assert_int_equal(run("summary", a, NULL), 0);
    assert_non_null(strstr(out, "127.0.0.1:41000"));
    assert_non_null(strstr(out, " SF "));
    assert_non_null(strstr(out, " REJ "));
    assert_non_null(strstr(out, "2 TCP connections, 1 UDP flows"));
    assert_int_equal(run("summary", "--json", a, NULL), 0);
    assert_int_not_equal(json_valid(out), 0);
    assert_non_null(strstr(out, "\"state\":\"SF\""));
    assert_non_null(strstr(out, "\"history\":\"ShADTdfFa\""));
}

/* zeek's conn.log, zeek's meaning of orig_bytes in JSON, a UTF-8 file
 * name kept as it is, follow --interleaved. */
static void zeek_formats(void **state)
{
    char a[128], u[128], cmd[512];
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    assert_int_equal(run("summary", "--format", "zeek", a, NULL), 0);
    assert_non_null(strstr(out, "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p"));
    assert_non_null(strstr(out, "\tC0\t127.0.0.1\t41000\t127.0.0.1\t8080\ttcp\t-\t0.012000\t32\t27\tSF"
                                "\t-\t-\t0\tShADTdfFa\t8\t"));
    assert_non_null(strstr(out, "\tREJ\t"));
    assert_int_equal(run("summary", "--json", a, NULL), 0);
    assert_non_null(strstr(out, "\"orig_bytes\":32,\"orig_ip_bytes\":"));
    path_of(u, sizeof(u), "caf\xc3\xa9.pcap");
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", a, u);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run("summary", "--json", u, NULL), 0);
    assert_non_null(strstr(out, "caf\xc3\xa9.pcap\""));
    assert_int_equal(run("follow", "--interleaved", a, NULL), 0);
    assert_non_null(strstr(out, " orig 127.0.0.1:41000 > 127.0.0.1:8080: 28 bytes at offset 0\n"));
    assert_non_null(strstr(out, " resp 127.0.0.1:8080 > 127.0.0.1:41000 [FIN at offset 27]\n"));
    assert_int_equal(run("summary", "--format", "xml", a, NULL), 2);
}

static void follow(void **state)
{
    char a[128];
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    assert_int_equal(run("follow", "--raw", "--dir", "orig", a, "0", NULL), 0);
    assert_string_equal(out, "GET /index.html HTTP/1.0\r\n\r\nmore");
    assert_int_equal(run("follow", "--raw", "--dir", "resp", a,
                         "127.0.0.1:8080-127.0.0.1:41000", NULL), 0);
    assert_string_equal(out, "HTTP/1.0 200 OK\r\n\r\nhellobye");
    assert_int_equal(run("follow", a, NULL), 0);
    assert_non_null(strstr(out, "--- resp 127.0.0.1:8080 -> 127.0.0.1:41000 (24 bytes)"));
    assert_int_equal(run("follow", "--hex", a, "2", NULL), 0);
    assert_non_null(strstr(out, "71 31"));
    assert_int_equal(run("follow", "--json", a, NULL), 0);
    assert_int_not_equal(json_valid(out), 0);
    assert_int_equal(run("follow", a, "9", NULL), 2);
    assert_non_null(strstr(err, "no conversation 9"));
}

static void check(void **state)
{
    char a[128], clean[128];
    struct pg_sink s = { 0 };
    struct pg_conn c;
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    assert_int_equal(run("check", a, NULL), 1);
    assert_non_null(strstr(out, "#0: retransmission: 1 from the originator, 0 from the responder "
                                "(tshark tcp.analysis.retransmission)"));
    assert_non_null(strstr(out, "#0: out_of_order: 1 from the originator"));
    assert_non_null(strstr(out, "#0: lost_segment: 1 from the originator"));
    assert_non_null(strstr(out, "#1: rst: reset by responder"));
    assert_non_null(strstr(out, "#1: unfinished-handshake"));
    assert_int_equal(run("check", "--json", a, NULL), 1);
    assert_int_not_equal(json_valid(out), 0);
    assert_non_null(strstr(out, "\"clean\":false"));

    path_of(clean, sizeof(clean), "clean.pcap");
    assert_int_equal(pg_open_file(&s, clean), 0);
    pg_conn_init(&c, &s, 1234, 80, 1, 2);
    pg_handshake(&c);
    pg_seg(&c, 0, A, "x", 1);
    pg_close(&c, 0);
    pg_close_file(&s);
    assert_int_equal(run("check", clean, NULL), 0);
    assert_non_null(strstr(out, "clean"));

    /* a first IPv4 fragment (more-fragments set) whose datagram never completes: never quietly lost */
    path_of(clean, sizeof(clean), "frag.pcap");
    assert_int_equal(pg_open_file(&s, clean), 0);
    {
        static uint8_t f[200];
        size_t len = pg_tcp4(f, 0x7f000001, 1234, 0x7f000001, 80, 1, 0, S, 512, NULL, 0);
        f[20] = 0x20; /* IPv4 flags: MF */
        pg_emit(&s, f, len);
    }
    pg_close_file(&s);
    assert_int_equal(run("check", clean, NULL), 1);
    assert_non_null(strstr(out, "file: ip-fragments: 1 IP datagrams not reassembled (0 timed out, 0 dropped over the 8 MiB cap, 1 incomplete at the end)"));
}

static void diff(void **state)
{
    char a[128], b[128], c[128];
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    path_of(b, sizeof(b), "b.pcap");
    path_of(c, sizeof(c), "c.pcap");
    assert_int_equal(run("diff", a, b, NULL), 0); /* other ports and ISNs */
    assert_non_null(strstr(out, "equal"));
    assert_int_equal(run("diff", a, c, NULL), 1);
    assert_non_null(strstr(out, "tcp connection 0: client->server stream: first difference at byte 4"));
    assert_int_equal(run("diff", "--json", a, c, NULL), 1);
    assert_int_not_equal(json_valid(out), 0);
    assert_non_null(strstr(out, "\"equal\":false"));
}

/* An exit status compared in decimal, with what netrig printed. */
#define assert_exit(status, want)                                                                \
    do {                                                                                         \
        int ae_s_ = (status);                                                                    \
        if (ae_s_ != (want))                                                                     \
            fail_msg("%s exited %d, want %d; stdout:\n%s\nstderr:\n%s", #status, ae_s_, (want),  \
                     out, err);                                                                  \
    } while (0)

/* One SF connection carrying req and resp, then a UDP flow of ndg
 * datagrams "d0", "d1" ... from the client. */
static void write_exchange(const char *name, const char *req, const char *resp, int ndg)
{
    char path[128], d[16];
    static uint8_t f[300];
    struct pg_sink s = { 0 };
    struct pg_conn c;

    path_of(path, sizeof(path), name);
    assert_int_equal(pg_open_file(&s, path), 0);
    pg_conn_init(&c, &s, 45000, 7000, 10, 20);
    pg_handshake(&c);
    pg_seg(&c, 0, A, req, strlen(req));
    pg_seg(&c, 1, A, resp, strlen(resp));
    pg_close(&c, 0);
    for (int i = 0; i < ndg; i++) {
        snprintf(d, sizeof(d), "d%d", i);
        pg_emit(&s, f, pg_udp4(f, 0x7f000001, 46000, 0x7f000001, 53, d, strlen(d)));
    }
    pg_close_file(&s);
}

/* A stream (or a datagram sequence) that is a prefix of the other one is
 * a difference, whichever capture holds the longer one. */
static void diff_prefix_is_a_difference(void **state)
{
    char full[128], part[128], resp[128], udp[128];
    (void)state;
    write_exchange("full.pcap", "hello world", "ok", 2);
    write_exchange("part.pcap", "hello", "ok", 2);
    write_exchange("resp.pcap", "hello world", "o", 2);
    write_exchange("udp.pcap", "hello world", "ok", 1);
    path_of(full, sizeof(full), "full.pcap");
    path_of(part, sizeof(part), "part.pcap");
    path_of(resp, sizeof(resp), "resp.pcap");
    path_of(udp, sizeof(udp), "udp.pcap");
    assert_exit(run("diff", full, full, NULL), 0);
    assert_exit(run("diff", full, part, NULL), 1);
    assert_non_null(strstr(out, "tcp connection 0: client->server stream: lengths 11 vs 5 "
                                "(one is a prefix of the other)"));
    assert_null(strstr(out, "server->client"));
    assert_exit(run("diff", part, full, NULL), 1);
    assert_non_null(strstr(out, "client->server stream: lengths 5 vs 11"));
    assert_exit(run("diff", resp, full, NULL), 1);
    assert_non_null(strstr(out, "tcp connection 0: server->client stream: lengths 1 vs 2"));
    assert_null(strstr(out, "client->server"));
    assert_exit(run("diff", full, udp, NULL), 1);
    assert_non_null(strstr(out, "udp connection 0: datagrams: orig datagram 1 exists only in "
                                "the first capture"));
    assert_exit(run("diff", "--json", udp, full, NULL), 1);
    assert_non_null(strstr(out, "\"equal\":false"));
    assert_non_null(strstr(out, "exists only in the second capture"));
}

static void seeds(void **state)
{
    char a[128], sd[128], seed[160];
    static uint8_t buf[4096];
    size_t n, off = 0;
    int acts[32], na = 0;
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    path_of(sd, sizeof(sd), "seeds");
    assert_int_equal(run("seeds", a, sd, NULL), 0);
    snprintf(seed, sizeof(seed), "%s/a-0", sd);
    n = slurp(seed, (char *)buf, sizeof(buf));
    while (off + 4 <= n && na < 32) {
        size_t len = (size_t)buf[off + 2] << 8 | buf[off + 3];
        assert_int_equal(buf[off], 0);
        acts[na++] = buf[off + 1];
        if (na == 1) {
            assert_int_equal(len, 28);
            assert_memory_equal(buf + off + 4, "GET /index.html", 15);
        }
        off += 4 + len;
    }
    assert_int_equal(off, n);
    /* send, wait, send, wait, half-close, close */
    assert_int_equal(na, 6);
    assert_int_equal(acts[0], 0);
    assert_int_equal(acts[1], 3);
    assert_int_equal(acts[2], 0);
    assert_int_equal(acts[3], 3);
    assert_int_equal(acts[4], 1);
    assert_int_equal(acts[5], 2);
    snprintf(seed, sizeof(seed), "%s/a-1", sd); /* REJ: the client sent nothing */
    assert_int_not_equal(access(seed, F_OK), 0);
    snprintf(seed, sizeof(seed), "%s/a-2", sd); /* UDP: send q1, wait, close */
    n = slurp(seed, (char *)buf, sizeof(buf));
    assert_int_equal(n, 6 + 4 + 4);
    assert_memory_equal(buf, "\0\0\0\2q1\0\3\0\0\0\2\0\0", 14);
    assert_int_equal(run("seeds", "--json", a, sd, NULL), 0);
    assert_int_not_equal(json_valid(out), 0);
}

static void write_bytes(const char *name, const uint8_t *b, size_t len, char *path, size_t plen)
{
    FILE *f;
    path_of(path, plen, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

static void malformed_files(void **state)
{
    char a[128], p[128];
    static uint8_t buf[8192];
    size_t n;
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    n = slurp(a, (char *)buf, sizeof(buf));
    assert_true(n > 200);

    write_bytes("short.pcap", buf, 10, p, sizeof(p));
    assert_int_equal(run("summary", p, NULL), 2);
    assert_non_null(strstr(err, "truncated global header: 10 of 24 bytes at offset 0"));

    write_bytes("empty.pcap", buf, 0, p, sizeof(p));
    assert_int_equal(run("check", p, NULL), 2);
    assert_non_null(strstr(err, "0 of 24 bytes"));

    memcpy(buf + n, buf, 4);
    buf[0] = 'X';
    write_bytes("magic.pcap", buf, n, p, sizeof(p));
    assert_int_equal(run("summary", p, NULL), 2);
    assert_non_null(strstr(err, "bad magic"));
    memcpy(buf, buf + n, 4);

    /* the first record starts at 24; make the second (at 24+16+74) claim a
     * caplen above the snaplen (262144) */
    buf[24 + 16 + 54 + 8] = 0;
    buf[24 + 16 + 54 + 9] = 0;
    buf[24 + 16 + 54 + 10] = 0x10;
    buf[24 + 16 + 54 + 11] = 0;
    write_bytes("snap.pcap", buf, n, p, sizeof(p));
    assert_int_equal(run("summary", p, NULL), 2);
    assert_non_null(strstr(err, "record at offset 94: caplen 1048576 exceeds snaplen 262144"));
    /* with a larger snaplen in the file header, libpcap's own maximum
     * (262144) still applies: named at the record, not where libpcap was */
    memcpy(buf + 16, "\xff\xff\xff\x7f", 4);
    buf[24 + 16 + 54 + 10] = 0x05; /* caplen 327680 */
    write_bytes("big.pcap", buf, n, p, sizeof(p));
    assert_int_equal(run("summary", p, NULL), 2);
    assert_non_null(strstr(err, "record at offset 94: caplen 327680 exceeds libpcap's maximum of "
                                "262144"));
    assert_non_null(strstr(out, "1 TCP connections")); /* the first record was read */
    memcpy(buf + 16, "\x00\x00\x04\x00", 4);
    buf[24 + 16 + 54 + 10] = 0;
    buf[24 + 16 + 54 + 8] = 54;

    write_bytes("cut.pcap", buf, n - 5, p, sizeof(p));
    assert_int_equal(run("follow", p, NULL), 2);
    assert_non_null(strstr(err, "truncated record"));
    /* what came before the damage is printed, the error too (exit 2), and
     * a pipe names the same record as the file */
    assert_int_equal(run("summary", p, NULL), 2);
    assert_non_null(strstr(out, "TCP connections"));
    {
        char cmd[1024], ep[128], perr[sizeof(err)];
        const char *at = strstr(err, "record at offset");
        assert_non_null(at);
        path_of(ep, sizeof(ep), "pipe.err");
        snprintf(cmd, sizeof(cmd), "cat '%s' | '%s' pcap summary - >/dev/null 2>'%s'", p, netrig,
                 ep);
        assert_int_equal(WEXITSTATUS(system(cmd)), 2);
        slurp(ep, perr, sizeof(perr));
        if (!strstr(perr, at))
            fail_msg("pipe: '%s', file: '%s'", perr, at);
    }

    write_bytes("cuthdr.pcap", buf, 24 + 16 + 54 + 7, p, sizeof(p));
    assert_int_equal(run("diff", p, a, NULL), 2);
    assert_non_null(strstr(err, "record at offset 94: truncated header (7 of 16 bytes)"));

    assert_int_equal(run("summary", "/nonexistent.pcap", NULL), 2);
    assert_int_equal(run("bogus", NULL), 2);
    assert_int_equal(run("--help", NULL), 0);
    assert_non_null(strstr(out, "seeds FILE DIR"));
}

/* Reading from memory: the whole capture gives the same table as the file;
 * every prefix either reads or fails cleanly. */
static void memory_reader_every_prefix(void **state)
{
    char a[128], ebuf[NR_ERRBUF_SIZE];
    static uint8_t buf[8192];
    struct nr_pktfile cap;
    struct nr_pktfile_opts o = { .keep_data = 1 };
    size_t n, fails = 0;
    (void)state;
    path_of(a, sizeof(a), "a.pcap");
    n = slurp(a, (char *)buf, sizeof(buf));
    assert_int_equal(nr_pktfile_read_mem(buf, n, &o, &cap, ebuf), 0);
    assert_int_equal(nr_flowtab_count(cap.ft), 3);
    assert_int_equal(cap.st.frames, 17);
    nr_pktfile_free(&cap);
    for (size_t len = 0; len < n; len++) {
        if (nr_pktfile_read_mem(buf, len, &o, &cap, ebuf) == 0)
            nr_pktfile_free(&cap);
        else
            fails++;
    }
    assert_true(fails > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary),
        cmocka_unit_test(zeek_formats),
        cmocka_unit_test(follow),
        cmocka_unit_test(check),
        cmocka_unit_test(diff),
        cmocka_unit_test(diff_prefix_is_a_difference),
        cmocka_unit_test(seeds),
        cmocka_unit_test(malformed_files),
        cmocka_unit_test(memory_reader_every_prefix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
