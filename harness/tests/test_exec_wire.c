/* Unit tests: the automatic wire check (exec_wire_judge) against crafted
 * captures and runner socket records.  Each part of its claim (the bytes
 * the runner sent are on the wire exactly; the bytes it received are a
 * prefix of what the peer sent; every datagram once, in order, with its
 * size; the connection is in the capture without holes; of several
 * connections on one port pair, the one carrying the socket's bytes) is
 * shown holding, then falsified alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../src/exec.h"
#include "heap_exact.h"
#include "pktgen.h"
#include "../../targets/tests/fault_inproc.h"

#define S NR_TCP_SYN
#define A NR_TCP_ACK
#define F NR_TCP_FIN

static char pcap_path[64];
static struct pg_sink sink;

static int setup(void **state)
{
    int fd;
    (void)state;
    memset(&sink, 0, sizeof(sink));
    snprintf(pcap_path, sizeof(pcap_path), "/tmp/nr-exec-wire.XXXXXX");
    if ((fd = mkstemp(pcap_path)) < 0)
        return -1;
    close(fd);
    return pg_open_file(&sink, pcap_path);
}

static int teardown(void **state)
{
    (void)state;
    pg_close_file(&sink);
    unlink(pcap_path);
    return 0;
}

static uint64_t fnv(const char *s, size_t n)
{
    return exec_hash(s, n);
}

/* A runner socket 127.0.0.1:lport -> 127.0.0.1:pport that sent and
 * received the given bytes. */
static struct exec_record rec(int proto, uint16_t lport, uint16_t pport,
                              const char *sent, const char *received)
{
    struct exec_record r;
    char a[32], errbuf[NR_ERRBUF_SIZE];

    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "a");
    r.proto = proto;
    snprintf(a, sizeof(a), "127.0.0.1:%u", lport);
    assert_int_equal(nr_addr_parse(a, &r.local, errbuf), 0);
    snprintf(a, sizeof(a), "127.0.0.1:%u", pport);
    assert_int_equal(nr_addr_parse(a, &r.peer, errbuf), 0);
    r.have_peer = 1;
    r.sent = strlen(sent);
    r.received = strlen(received);
    r.sent_hash = fnv(sent, r.sent);
    r.recv_hash = fnv(received, r.received);
    return r;
}

static char *rlog; /* the step log of the last judge() */
static size_t rloglen;

/* Judge the capture written so far against records; returns the failure
 * message (owned) or NULL. */
static char *judge(struct exec_record *records, size_t n)
{
    struct nr_scn scn = { .path = (char *)"t.scn" };
    struct exec_state st;
    struct exec_ctx c;

    pg_close_file(&sink);
    memset(&st, 0, sizeof(st));
    st.scn = &scn;
    st.records = records;
    st.nrecords = n;
    free(rlog);
    rlog = NULL;
    st.log = open_memstream(&rlog, &rloglen);
    pthread_mutex_init(&st.lock, NULL);
    memset(&c, 0, sizeof(c));
    c.st = &st;
    c.index = -1;
    exec_wire_judge(&c, pcap_path);
    fclose(st.log);
    pthread_mutex_destroy(&st.lock);
    return c.fail;
}

#define assert_passes(records, n)                                                                \
    do {                                                                                         \
        char *f_ = judge(records, n);                                                            \
        if (f_)                                                                                  \
            fail_msg("expected the wire check to pass, it said:\n%s", f_);                       \
    } while (0)

#define assert_fails_with(records, n, text)                                                      \
    do {                                                                                         \
        char *f_ = judge(records, n);                                                            \
        if (!f_ || !strstr(f_, text))                                                            \
            fail_msg("expected a failure with '%s', got:\n%s", text, f_ ? f_ : "(passed)");      \
        free(f_);                                                                                \
    } while (0)

/* 40000 -> 80: "hello" up, "hello" back, both closed. */
static void echo_conn(uint16_t cport, uint32_t isn)
{
    struct pg_conn k;

    pg_conn_init(&k, &sink, cport, 80, isn, 7000);
    pg_handshake(&k);
    pg_seg(&k, 0, A, "hello", 5);
    pg_seg(&k, 1, A, "hello", 5);
    pg_close(&k, 0);
}

static void tcp_bytes_as_sent_pass(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello", "hello") };
    (void)st;
    echo_conn(40000, 1000);
    assert_passes(r, 1);
}

static void tcp_received_prefix_passes(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello", "hel") };
    (void)st;
    echo_conn(40000, 1000);
    assert_passes(r, 1);
}

static void tcp_sent_more_than_the_wire_fails(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello!", "hello") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "the runner sent 6 bytes, the wire carried 5");
}

static void tcp_sent_fewer_than_the_wire_fails(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hell", "hello") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "the runner sent 4 bytes, the wire carried 5");
}

/* A reset connection may have lost unsent bytes: fewer on the wire pass,
 * more do not. */
static void tcp_cut_connection_allows_fewer_only(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello!", "hello") };
    (void)st;
    r[0].cut = 1;
    echo_conn(40000, 1000);
    assert_passes(r, 1);
    r[0] = rec(IPPROTO_TCP, 40000, 80, "hell", "hello");
    r[0].cut = 1;
    assert_fails_with(r, 1, "the runner sent 4 bytes, the wire carried 5");
}

static void tcp_other_bytes_on_the_wire_fail(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "jello", "hello") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "the 5 bytes on the wire differ from the bytes the runner sent");
}

static void tcp_received_other_bytes_fail(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello", "help") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "the runner received 4 bytes that are not what the peer put on the wire");
}

static void tcp_received_more_than_the_wire_fails(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello", "hello!") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "the runner received 6 bytes that are not what the peer put on the wire");
}

static void tcp_connection_absent_fails(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 81, "hello", "hello") };
    (void)st;
    echo_conn(40000, 1000);
    assert_fails_with(r, 1, "is not in the capture");
}

static void tcp_hole_fails(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "hello world", "") };
    struct pg_conn k;
    (void)st;
    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_handshake(&k);
    k.seq[0] += 6; /* "hello " never captured */
    pg_seg(&k, 0, A, "world", 5);
    pg_close(&k, 0);
    assert_fails_with(r, 1, "has holes in the capture (6 + 0 bytes)");
}

/* A connection that carried no byte (a connect and a close). */
static void tcp_empty_connection_passes(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "", "") };
    struct pg_conn k;
    (void)st;
    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_handshake(&k);
    pg_close(&k, 0);
    assert_passes(r, 1);
    r[0] = rec(IPPROTO_TCP, 40000, 80, "x", "");
    assert_fails_with(r, 1, "the runner sent 1 bytes, the wire carried 0");
}

/* One connection 40000 -> 80 with the ISN given: up, then down, closed. */
static void conn_of_pair(uint32_t isn, const char *up, const char *down)
{
    struct pg_conn k;

    pg_conn_init(&k, &sink, 40000, 80, isn, isn + 7000);
    pg_handshake(&k);
    pg_seg(&k, 0, A, up, strlen(up));
    pg_seg(&k, 1, A, down, strlen(down));
    pg_close(&k, 0);
}

/* The kernel reuses a port pair in TIME_WAIT: the socket's connection is
 * the one that carries its bytes, whichever comes first; the bytes each
 * way decide alone. */
static void tcp_reused_port_pair_finds_the_right_connection(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "world", "ok") };
    (void)st;
    conn_of_pair(1000, "hello", "ok"); /* differs only in what was sent */
    conn_of_pair(50000, "world", "ok");
    assert_passes(r, 1);
    r[0] = rec(IPPROTO_TCP, 40000, 80, "third", "ok");
    assert_fails_with(r, 1, "the 5 bytes on the wire differ"); /* then the first is judged */
}

static void tcp_reused_port_pair_by_received_bytes(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "same", "bbbb") };
    (void)st;
    conn_of_pair(1000, "same", "aaaa"); /* differs only in what was received */
    conn_of_pair(50000, "same", "bbbb");
    assert_passes(r, 1);
    r[0] = rec(IPPROTO_TCP, 40000, 80, "same", "cccc");
    assert_fails_with(r, 1, "the runner received 4 bytes that are not what the peer put");
}

static void udp(uint16_t sport, uint16_t dport, const char *data)
{
    static uint8_t f[200];
    pg_emit(&sink, f, pg_udp4(f, 0x7f000001, sport, 0x7f000001, dport, data, strlen(data)));
}

static void udp_datagrams_in_order_with_their_sizes(void **st)
{
    uint32_t sent[] = { 3, 5 }, recv[] = { 4 };
    struct exec_record r[] = { rec(IPPROTO_UDP, 5000, 53, "", "") };
    (void)st;
    r[0].dg_sent = sent;
    r[0].n_dg_sent = 2;
    r[0].dg_recv = recv;
    r[0].n_dg_recv = 1;
    r[0].sent = 8;
    r[0].received = 4;
    udp(5000, 53, "abc");
    udp(53, 5000, "ABCD");
    udp(5000, 53, "defgh");
    udp(53, 5000, "more"); /* the peer may send more than was read */
    assert_passes(r, 1);
    sent[1] = 6;
    assert_fails_with(r, 1, "datagram 1 on the wire has 5 bytes, the runner sent another size");
    sent[1] = 5;
    recv[0] = 3;
    assert_fails_with(r, 1, "datagram 0 from the peer has 4 bytes on the wire, 3 at the socket");
    recv[0] = 4;
    r[0].n_dg_sent = 1;
    assert_fails_with(r, 1, "datagram 1 on the wire has 5 bytes, the runner sent fewer datagrams");
}

static void udp_datagram_missing_from_the_wire_fails(void **st)
{
    uint32_t sent[] = { 3, 5 };
    struct exec_record r[] = { rec(IPPROTO_UDP, 5000, 53, "", "") };
    (void)st;
    r[0].dg_sent = sent;
    r[0].n_dg_sent = 2;
    r[0].sent = 8;
    udp(5000, 53, "abc");
    assert_fails_with(r, 1, "1 of 2 datagrams sent and 0 of 0 received appear on the wire");
}

/* The fault proxy's two legs of one connection, relayed without hashes:
 * the client leg 127.0.0.1:9000 (the proxy) <- 40000 (the client) and the
 * upstream leg 40001 -> 80.  Each sent what the other received. */
static void relay_legs(struct exec_record r[2], const char *up, const char *down)
{
    r[0] = rec(IPPROTO_TCP, 9000, 40000, down, up);
    r[1] = rec(IPPROTO_TCP, 40001, 80, up, down);
    r[0].relay = r[1].relay = 7;
    r[0].sent_hash = r[0].recv_hash = r[1].sent_hash = r[1].recv_hash = 0; /* not kept */
}

/* The wire of a relayed connection: client -> proxy carries c_up, the
 * proxy -> upstream u_up; upstream -> proxy u_down, proxy -> client c_down. */
static void relay_wire(const char *c_up, const char *u_up, const char *u_down,
                       const char *c_down)
{
    struct pg_conn kc, ku;

    pg_conn_init(&kc, &sink, 40000, 9000, 1000, 7000);
    pg_conn_init(&ku, &sink, 40001, 80, 3000, 9000);
    pg_handshake(&kc);
    pg_handshake(&ku);
    pg_seg(&kc, 0, A, c_up, strlen(c_up));
    pg_seg(&ku, 0, A, u_up, strlen(u_up));
    pg_seg(&ku, 1, A, u_down, strlen(u_down));
    pg_seg(&kc, 1, A, c_down, strlen(c_down));
    pg_close(&kc, 0);
    pg_close(&ku, 0);
}

static void relay_legs_carrying_the_same_bytes_pass(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hello", "hello", "world", "world");
    assert_passes(r, 2);
}

/* The proxy put other bytes on the upstream leg than it read from the
 * client: same count, other bytes; reordered; and the same the other way. */
static void relay_leg_with_other_bytes_fails(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hello", "jello", "world", "world");
    assert_fails_with(r, 2, "'a' (127.0.0.1:40001 -> 127.0.0.1:80): the 5 bytes on the wire are "
                            "not the bytes the proxy's other leg received");
}

static void relay_leg_reordered_fails(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hello", "hello", "world", "wrold");
    assert_fails_with(r, 2, "'a' (127.0.0.1:9000 -> 127.0.0.1:40000): the 5 bytes on the wire "
                            "are not the bytes the proxy's other leg received");
}

/* The counts are the relay's: a leg that says it sent more or fewer than
 * its wire carried fails, and so does one that sent more than the other
 * leg received on the wire. */
static void relay_leg_count_differs_fails(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hello", "hello", "world", "world");
    r[1].sent = 4;
    assert_fails_with(r, 2, "the runner sent 4 bytes, the wire carried 5");
    relay_legs(r, "hello", "world");
    r[1].sent = 6;
    assert_fails_with(r, 2, "the runner sent 6 bytes, the wire carried 5");
}

static void relay_leg_sent_more_than_the_other_received_fails(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hell", "hello", "world", "world"); /* the client sent only 4 */
    r[0].received = 4;
    assert_fails_with(r, 2, "'a' (127.0.0.1:40001 -> 127.0.0.1:80): the 5 bytes on the wire are "
                            "not the bytes the proxy's other leg received");
}

/* A toxic swallowed "hello " (timeout) before "world" went on: the skip
 * names it; without it, or one byte off, the legs differ. */
static void relay_leg_with_a_swallowed_range(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "world", "");
    r[0].received = 11;
    r[1].relay_skip[0] = (struct exec_skip){ 0, 6 };
    r[1].n_relay_skip = 1;
    relay_wire("hello world", "world", "", "");
    assert_passes(r, 2);
    r[1].n_relay_skip = 0;
    assert_fails_with(r, 2, "the 5 bytes on the wire are not the bytes the proxy's other leg");
    r[1].relay_skip[0] = (struct exec_skip){ 0, 5 };
    r[1].n_relay_skip = 1;
    assert_fails_with(r, 2, "the 5 bytes on the wire are not the bytes the proxy's other leg");
}

/* A relayed leg whose other leg was never recorded has nothing to be
 * compared with: it fails once it sent a byte. */
static void relay_leg_without_its_other_leg_fails(void **st)
{
    struct exec_record r[2];
    (void)st;
    relay_legs(r, "hello", "world");
    relay_wire("hello", "hello", "world", "world");
    assert_fails_with(&r[1], 1, "the 5 bytes on the wire are not the bytes the proxy's other leg");
}


/* ---- wire steps: each claim, each side ------------------------------------ */

/* The parsed scenario of the claims below, and the step log. */
static struct nr_scn wscn;
static char *wlog;
static size_t wloglen;
static const char *wvar = "0"; /* the value of ${n} when judged */
static struct exec_record *wscn_records; /* records judged with a claim, or NULL */
static const char *wfault;  /* armed around exec_wire_judge (fault_inproc_set), or NULL */
static unsigned long whit;  /* calls it failed */

/* Judge the capture against one claim step (the last of "set n = 0\nconnect
 * a = PROTO 127.0.0.1:80\nCLAIM", ${n} being wvar) about record r (its sides from r's ports), or,
 * with r NULL, the steps of text noted by exec_wire_note (flows and their
 * claims); no records.  Returns the failure (owned) or NULL. */
static char *judge_text(const char *text, const struct exec_record *r)
{
    struct exec_state st;
    struct exec_ctx c;
    struct exec_wire w;
    struct exec_var n = { .name = "n", .val = (uint8_t *)wvar, .len = strlen(wvar) };
    char errbuf[NR_ERRBUF_SIZE];

    pg_close_file(&sink);
    memset(&wscn, 0, sizeof(wscn));
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &wscn, errbuf) < 0)
        fail_msg("%s", errbuf);
    memset(&st, 0, sizeof(st));
    st.scn = &wscn;
    st.vars = &n;
    st.nvars = 1;
    free(wlog);
    wlog = NULL;
    st.log = open_memstream(&wlog, &wloglen);
    pthread_mutex_init(&st.lock, NULL);
    memset(&c, 0, sizeof(c));
    c.st = &st;
    c.index = -1;
    if (r) {
        memset(&w, 0, sizeof(w));
        w.step = &wscn.steps.v[wscn.steps.n - 1];
        w.what = EXEC_WIRE_CONN;
        w.rec = *r;
        w.index = -1;
        st.wires = &w;
        st.nwires = 1;
        if (wscn_records) {
            st.records = wscn_records;
            st.nrecords = 1;
        }
    } else {
        for (size_t i = 0; i < wscn.steps.n; i++)
            if (exec_wire_note(&c, &wscn.steps.v[i]) != 0) /* 0 or -1 (exec.h) */
                fail_msg("exec_wire_note of step %zu: not 0, failure: %s", i,
                         c.fail ? c.fail : "(none)");
    }
    if (wfault)
        fault_inproc_set(wfault);
    exec_wire_judge(&c, pcap_path);
    if (wfault)
        whit = fault_inproc_off();
    fclose(st.log);
    if (!r)
        free(st.wires);
    free(c.flows);
    pthread_mutex_destroy(&st.lock);
    nr_scn_free(&wscn);
    return c.fail;
}

/* A claim about 'a', the runner's socket 127.0.0.1:lport -> :pport. */
static char *judge_claim(int proto, uint16_t lport, uint16_t pport, const char *claim)
{
    struct exec_record r = rec(proto, lport, pport, "", "");
    char *text, *f;

    assert_true(asprintf(&text, "set n = 0\nconnect a = %s 127.0.0.1:80\n%s\n",
                         proto == IPPROTO_TCP ? "tcp" : "udp", claim) > 0);
    f = judge_text(text, &r);
    free(text);
    return f;
}

/* The runner as the client (40000 -> 80) or as the server (80 -> 40000)
 * of the same capture connection: the sides swap. */
#define CLIENT 40000, 80
#define SERVER 80, 40000

#define claim_passes(proto, ends, claim)                                                         \
    do {                                                                                         \
        char *f_ = judge_claim(proto, ends, claim);                                              \
        if (f_)                                                                                  \
            fail_msg("'%s' should pass, it failed:\n%s", claim, f_);                            \
    } while (0)

/* The failure names the step (t.scn:3) and says exactly `text`. */
#define claim_fails(proto, ends, claim, text)                                                    \
    do {                                                                                         \
        char *f_ = judge_claim(proto, ends, claim);                                              \
        if (!f_ || !strstr(f_, "t.scn:3: ") || !strstr(f_, text))                                \
            fail_msg("'%s' should fail with '%s', got:\n%s", claim, text, f_ ? f_ : "(passed)"); \
        free(f_);                                                                                \
    } while (0)

#define R NR_TCP_RST

/* 40000 -> 80: "hello" up, "hi" down, FIN from dir fin_dir first (-1:
 * none), RST from the directions in rst_mask (bit 0 client, bit 1 server). */
static void conn_ending(int fin_dir, unsigned rst_mask)
{
    struct pg_conn k;

    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_handshake(&k);
    pg_seg(&k, 0, A, "hello", 5);
    pg_seg(&k, 1, A, "hi", 2);
    if (fin_dir >= 0)
        pg_close(&k, fin_dir);
    for (int d = 0; d < 2; d++)
        if (rst_mask & (1u << d))
            pg_seg(&k, d, R | A, NULL, 0);
}

static void wire_first_fin_each_side(void **st)
{
    (void)st;
    conn_ending(0, 0); /* the client's FIN first */
    claim_passes(IPPROTO_TCP, CLIENT, "wire a first-fin us");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a first-fin peer",
                "  wire: first FIN from us, expected peer (history ShADdFf)\n");
    claim_passes(IPPROTO_TCP, SERVER, "wire a first-fin peer");
    claim_fails(IPPROTO_TCP, SERVER, "wire a first-fin us",
                "  wire: first FIN from peer, expected us (history ShADdFf)\n");
}

static void wire_first_fin_server_and_nobody(void **st)
{
    (void)st;
    conn_ending(1, 0);
    claim_passes(IPPROTO_TCP, CLIENT, "wire a first-fin peer");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a first-fin us", "first FIN from peer, expected us");
    claim_passes(IPPROTO_TCP, SERVER, "wire a first-fin us");
    pg_open_file(&sink, pcap_path);
    conn_ending(-1, 0);
    claim_fails(IPPROTO_TCP, CLIENT, "wire a first-fin us", "first FIN from nobody, expected us");
    claim_fails(IPPROTO_TCP, SERVER, "wire a first-fin peer",
                "first FIN from nobody, expected peer");
}

static void wire_rst_each_side(void **st)
{
    (void)st;
    conn_ending(-1, 2); /* a RST from the server only */
    claim_passes(IPPROTO_TCP, CLIENT, "wire a rst peer");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a rst us", "  wire: no RST from us, RST from peer (");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a no-rst", "  wire: RST from peer (history");
    claim_passes(IPPROTO_TCP, SERVER, "wire a rst us");
    claim_fails(IPPROTO_TCP, SERVER, "wire a rst peer", "  wire: no RST from peer, RST from us (");
    claim_fails(IPPROTO_TCP, SERVER, "wire a no-rst", "  wire: RST from us (history");
}

static void wire_rst_both_and_none(void **st)
{
    (void)st;
    conn_ending(-1, 3);
    claim_passes(IPPROTO_TCP, CLIENT, "wire a rst us");
    claim_passes(IPPROTO_TCP, CLIENT, "wire a rst peer");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a no-rst", "  wire: RST from us and peer (history");
    pg_open_file(&sink, pcap_path);
    conn_ending(0, 0);
    claim_passes(IPPROTO_TCP, CLIENT, "wire a no-rst");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a rst us", "  wire: no RST from us, RST from nobody (");
    claim_fails(IPPROTO_TCP, SERVER, "wire a rst peer",
                "  wire: no RST from peer, RST from nobody (");
}

static void wire_state_and_handshake(void **st)
{
    struct pg_conn k;
    (void)st;
    conn_ending(0, 0);
    claim_passes(IPPROTO_TCP, CLIENT, "wire a state SF");
    claim_passes(IPPROTO_TCP, CLIENT, "wire a handshake");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a state S1",
                "  wire: state is SF (history ShADdFf), expected S1\n");
    pg_open_file(&sink, pcap_path);
    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_seg(&k, 0, S, NULL, 0);
    pg_seg(&k, 1, S | A, NULL, 0); /* no final ACK */
    claim_fails(IPPROTO_TCP, CLIENT, "wire a handshake",
                "  wire: no complete handshake: SYN seen, SYN-ACK seen, final ACK not seen");
    pg_open_file(&sink, pcap_path);
    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_seg(&k, 1, S | A, NULL, 0); /* a SYN-ACK alone */
    claim_fails(IPPROTO_TCP, CLIENT, "wire a handshake", "SYN not seen, SYN-ACK seen, final ACK");
}

static void wire_retransmissions_each_side(void **st)
{
    struct pg_conn k;
    (void)st;
    conn_ending(0, 0);
    claim_passes(IPPROTO_TCP, CLIENT, "wire a no-retransmissions");
    pg_open_file(&sink, pcap_path);
    pg_conn_init(&k, &sink, 40000, 80, 1000, 7000);
    pg_handshake(&k);
    pg_seg(&k, 0, A, "hello", 5);
    pg_seg_at(&k, 0, A, k.seq[0] - 5, "hello", 5); /* the client sends it again */
    pg_close(&k, 0);
    claim_fails(IPPROTO_TCP, CLIENT, "wire a no-retransmissions",
                "  wire: retransmitted segments: 1 from us, 0 from peer (history");
    claim_fails(IPPROTO_TCP, SERVER, "wire a no-retransmissions",
                "  wire: retransmitted segments: 0 from us, 1 from peer (history");
}

static void wire_bytes_each_side(void **st)
{
    (void)st;
    conn_ending(0, 0); /* 5 bytes from the client, 2 from the server */
    claim_passes(IPPROTO_TCP, CLIENT, "wire a bytes us 5");
    claim_passes(IPPROTO_TCP, CLIENT, "wire a bytes peer 2");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a bytes us 2",
                "  wire: 5 payload bytes from us (2 from peer), expected 2\n");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a bytes peer 5",
                "  wire: 2 payload bytes from peer (5 from us), expected 5\n");
    claim_fails(IPPROTO_TCP, CLIENT, "wire a bytes us 6", "5 payload bytes from us (2 from peer), expected 6");
    claim_passes(IPPROTO_TCP, SERVER, "wire a bytes us 2");
    claim_passes(IPPROTO_TCP, SERVER, "wire a bytes peer 5");
    claim_fails(IPPROTO_TCP, SERVER, "wire a bytes us 5",
                "  wire: 2 payload bytes from us (5 from peer), expected 5\n");
}

static void wire_datagrams_and_bytes_udp(void **st)
{
    (void)st;
    udp(40000, 80, "abc");
    udp(80, 40000, "Hello");
    udp(40000, 80, "de");
    claim_passes(IPPROTO_UDP, CLIENT, "wire a datagrams 3");
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams 2",
                "  wire: 3 datagrams (2 from us, 1 from peer), expected 2\n");
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams 4", "3 datagrams (2 from us, 1 from peer)");
    claim_fails(IPPROTO_UDP, SERVER, "wire a datagrams 2",
                "  wire: 3 datagrams (1 from us, 2 from peer), expected 2\n");
    claim_passes(IPPROTO_UDP, CLIENT, "wire a bytes us 5");
    claim_passes(IPPROTO_UDP, CLIENT, "wire a bytes peer 5");
    claim_fails(IPPROTO_UDP, SERVER, "wire a bytes us 6",
                "  wire: 5 payload bytes from us (5 from peer), expected 6\n");
}

/* A count is digits, at most 19 of them (a literal one is checked when
 * parsed, one from a variable when judged). */
static void wire_count_from_a_variable(void **st)
{
    (void)st;
    udp(40000, 80, "abc");
    wvar = "1";
    claim_passes(IPPROTO_UDP, CLIENT, "wire a datagrams ${n}");
    wvar = "3";
    claim_passes(IPPROTO_UDP, CLIENT, "wire a bytes us ${n}");
    wvar = "1x";
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams ${n}",
                "  wire: expected a count (digits, at most 19), got '1x'\n");
    claim_fails(IPPROTO_UDP, CLIENT, "wire a bytes us ${n}",
                "  wire: expected a count (digits, at most 19), got '1x'\n");
    wvar = "";
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams 0${n}", "expected 0"); /* "0": a count */
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams ${n}", "got ''");
    wvar = "0000000000000000001"; /* 19 digits */
    claim_passes(IPPROTO_UDP, CLIENT, "wire a datagrams ${n}");
    wvar = "00000000000000000001";
    claim_fails(IPPROTO_UDP, CLIENT, "wire a datagrams ${n}", "got '00000000000000000001'");
    wvar = "SF";
    claim_fails(IPPROTO_UDP, CLIENT, "wire a state ${n}", "  wire: state is S0 (history");
    wvar = "0";
}

/* Flows: the capture's connections picked by protocol, ends and index,
 * sides client (the originator) and server. */
static void flows_two(void)
{
    struct pg_conn k;

    conn_ending(0, 0);               /* #0 40000 -> 80, FIN from the client */
    pg_conn_init(&k, &sink, 40001, 80, 3000, 9000);
    pg_handshake(&k);
    pg_seg(&k, 1, R | A, NULL, 0);   /* #1 40001 -> 80, reset by the server */
    udp(40002, 80, "x");             /* #2 udp */
}

#define flow_passes(text)                                                                        \
    do {                                                                                         \
        char *f_ = judge_text(text, NULL);                                                       \
        if (f_)                                                                                  \
            fail_msg("'%s' should pass, it failed:\n%s", text, f_);                             \
    } while (0)

#define flow_fails(text, line, msg)                                                              \
    do {                                                                                         \
        char *f_ = judge_text(text, NULL);                                                       \
        if (!f_ || !strstr(f_, "t.scn:" #line ": ") || !strstr(f_, msg))                         \
            fail_msg("'%s' should fail at line %d with '%s', got:\n%s", text, line, msg,         \
                     f_ ? f_ : "(passed)");                                                      \
        free(f_);                                                                                \
    } while (0)

static void flow_claims_by_side(void **st)
{
    (void)st;
    flows_two();
    flow_passes("flow f = tcp to 80 index 0\nwire f first-fin client\n");
    if (!wlog || !strstr(wlog, " flow f = tcp to 80 index 0 (judged on the capture)\n"))
        fail_msg("the flow is not in the step log:\n%s", wlog ? wlog : "");
    flow_fails("flow f = tcp to 80 index 0\nwire f first-fin server\n", 2,
               "  wire: first FIN from client, expected server (history");
    flow_passes("flow f = tcp to 80 index 1\nwire f rst server\n");
    flow_fails("flow f = tcp to 80 index 1\nwire f rst client\n", 2,
               "  wire: no RST from client, RST from server (");
    flow_fails("flow f = tcp to 80 index 0\nwire f bytes server 5\n", 2,
               "  wire: 2 payload bytes from server (5 from client), expected 5\n");
    flow_passes("flow f = tcp from 40001\nwire f rst server\n");
    flow_passes("flow f = tcp to 127.0.0.1:80 from 127.0.0.1:40000\nwire f state SF\n");
    flow_passes("flow f = udp to 80\nwire f datagrams 1\n");
    flow_fails("flow f = udp to 80\nwire f datagrams 2\n", 2,
               "  wire: 1 datagrams (1 from client, 0 from server), expected 2\n");
}

static void flow_selection_fails(void **st)
{
    (void)st;
    flows_two();
    flow_fails("flow f = tcp to 80\nwire f state SF\n", 2,
               "  wire: flow 'f' (tcp to 80): 2 flows match: pick one with 'index N' (0-1, in "
               "capture order)\n");
    flow_fails("flow f = tcp to 80 index 2\nwire f state SF\n", 2,
               "  wire: flow 'f' (tcp to 80 index 2): only 2 flows match, so no index 2\n");
    flow_fails("flow f = tcp to 81\nwire f state SF\n", 2,
               "  wire: flow 'f' (tcp to 81): no such flow in the capture\n");
    flow_fails("flow f = tcp to 127.0.0.2:80\nwire f state SF\n", 2, "no such flow");
    flow_fails("flow f = tcp to [::1]:80\nwire f state SF\n", 2, "no such flow");
    flow_fails("flow f = tcp from 80\nwire f state SF\n", 2, "no such flow");
    flow_fails("flow f = tcp to 80 from 40002\nwire f state SF\n", 2,
               "  wire: flow 'f' (tcp to 80 from 40002): no such flow in the capture\n");
    flow_fails("flow f = tcp to 80 index 0\nwire f state SF\nwire f state S0\n", 3,
               "state is SF");
}

/* IPv6 flows: an end given as [ADDR]:PORT matches a flow on that address
 * (all 16 bytes of it) and port only, never an IPv4 flow whose address
 * starts with the same bytes. */
static void udp6(const char *src, uint16_t sport, const char *dst, uint16_t dport, const char *data)
{
    static uint8_t f[200];
    uint8_t s6[16], d6[16];

    assert_int_equal(inet_pton(AF_INET6, src, s6), 1);
    assert_int_equal(inet_pton(AF_INET6, dst, d6), 1);
    pg_emit(&sink, f, pg_udp6(f, s6, sport, d6, dport, data, strlen(data)));
}

static void flow_over_ipv6(void **st)
{
    (void)st;
    udp6("::1", 40005, "::1", 80, "v6");          /* #0 [::1]:40005 -> [::1]:80 */
    udp6("::1", 40006, "7f00:1::", 80, "other"); /* #1 to an address starting 127.0.0.1 */
    udp(40007, 80, "v4");                         /* #2 127.0.0.1:40007 -> 127.0.0.1:80 */
    flow_passes("flow f = udp to [::1]:80\nwire f datagrams 1\nwire f bytes client 2\n");
    flow_passes("flow f = udp to [::1]:80 from [::1]:40005\nwire f bytes client 2\n");
    flow_passes("flow f = udp to [7f00:1::]:80\nwire f bytes client 5\n");
    flow_passes("flow f = udp to 127.0.0.1:80\nwire f bytes client 2\n");
    flow_passes("flows udp to 80 count 3\nflows udp to [::1]:80 count 1\n"
                "flows udp to 127.0.0.1:80 count 1\nflows udp from [::1]:40006 count 1\n");
    flow_fails("flow f = udp to [::2]:80\nwire f datagrams 1\n", 2,
               "  wire: flow 'f' (udp to [::2]:80): no such flow in the capture\n");
    flow_fails("flow f = udp to [::1]:81\nwire f datagrams 1\n", 2, "no such flow");
    flow_fails("flow f = udp to [::1]:80 from [::1]:40006\nwire f datagrams 1\n", 2,
               "no such flow");
    flow_fails("flow f = tcp to [::1]:80\nwire f datagrams 1\n", 2, "no such flow");
    flow_fails("flows udp to [::1]:80 count 2\n", 1,
               "  wire: 1 flows udp to [::1]:80, expected 2\n");
}

static void flows_count(void **st)
{
    (void)st;
    flows_two();
    flow_passes("flows tcp to 80 count 2\nflows udp to 80 count 1\nflows tcp from 40001 count 1\n");
    flow_fails("flows tcp to 80 count 3\n", 1,
               "  wire: 2 flows tcp to 80, expected 3\n"
               "  flows seen (3; client -> server, state, history):\n"
               "    #0 tcp 127.0.0.1:40000 -> 127.0.0.1:80 SF ShADdFf  (matches)\n");
    flow_fails("flows tcp to 80 count 1\n", 1, "    #2 udp 127.0.0.1:40002 -> 127.0.0.1:80 S0 -\n");
    flow_fails("flows udp to 80 count 0\n", 1, "  wire: 1 flows udp to 80, expected 0\n");
    pg_open_file(&sink, pcap_path);
    for (int i = 0; i < 33; i++)
        udp((uint16_t)(41000 + i), 53, "q");
    flow_fails("flows udp to 53 count 32\n", 1,
               "  wire: 33 flows udp to 53, expected 32\n  flows seen (33; client -> server, "
               "state, history):\n    #0 udp 127.0.0.1:41000 -> 127.0.0.1:53 S0 -  (matches)\n");
    flow_fails("flows udp to 53 count 32\n", 1,
               "    #31 udp 127.0.0.1:41031 -> 127.0.0.1:53 S0 -  (matches)\n    ... and 1 more\n");
}


/* A flow whose ends or index (from variables) are not what they must be:
 * exec_wire_note fails with -1 and says what it got. */
static void flow_definition_from_bad_variables(void **st)
{
    static const struct {
        const char *value, *text, *msg;
    } cases[] = {
        { "x", "flow f = tcp to ${n}\n", "expected a port 1-65535 or an address HOST:PORT, got 'x'" },
        { "0", "flow f = tcp to ${n}\n", "got '0'" },
        { "65536", "flow f = tcp from ${n}\n", "got '65536'" },
        { "127.0.0.1:0", "flow f = tcp to ${n}\n", "got '127.0.0.1:0'" },
        { "", "flow f = tcp to 80 index 1${n}x\n", "expected an index 0-4294967295, got '1x'" },
        { "", "flow f = tcp to 80 index ${n}\n", "got ''" },
        { "4294967296", "flow f = tcp to 80 index ${n}\n", "got '4294967296'" },
        { "10000000000", "flow f = tcp to 80 index ${n}\n", "got '10000000000'" },
        { "", "flows tcp to ${n}x count 1\n", "got 'x'" },
        { "123456", "flow f = tcp to ${n}\n", "got '123456'" },
        { "8a", "flow f = tcp to ${n}\n", "got '8a'" },
        { "[::1]:0", "flow f = tcp to ${n}\n", "got '[::1]:0'" },
    };
    char errbuf[NR_ERRBUF_SIZE];
    (void)st;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exec_var n = { .name = "n", .val = (uint8_t *)cases[i].value,
                              .len = strlen(cases[i].value) };
        struct exec_state st_ = { .vars = &n, .nvars = 1, .scn = &wscn };
        struct exec_ctx c = { .st = &st_, .index = -1 };
        char *text;
        int r;
        assert_true(asprintf(&text, "set n = 1\n%s", cases[i].text) > 0);
        memset(&wscn, 0, sizeof(wscn));
        if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &wscn, errbuf) < 0)
            fail_msg("%s", errbuf);
        free(text);
        pthread_mutex_init(&st_.lock, NULL);
        r = exec_wire_note(&c, &wscn.steps.v[1]);
        if (r != -1 || !c.fail || !strstr(c.fail, "t.scn:2: ") || !strstr(c.fail, cases[i].msg))
            fail_msg("case %zu: returned %d, failure: %s", i, r, c.fail ? c.fail : "(none)");
        assert_int_equal(c.nflows, 0);
        assert_int_equal(st_.nwires, 0);
        free(c.fail);
        free(c.flows);
        pthread_mutex_destroy(&st_.lock);
        nr_scn_free(&wscn);
    }
}

/* A claim about a name that is neither an open connection nor a flow. */
static void claim_about_nothing_known(void **st)
{
    struct exec_state st_ = { .scn = &wscn };
    struct exec_ctx c = { .st = &st_, .index = -1 };
    char errbuf[NR_ERRBUF_SIZE];
    const char *text = "connect a = tcp 127.0.0.1:80\nwire a no-rst\n";
    (void)st;
    memset(&wscn, 0, sizeof(wscn));
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &wscn, errbuf) < 0)
        fail_msg("%s", errbuf);
    pthread_mutex_init(&st_.lock, NULL);
    assert_int_equal(exec_wire_note(&c, &wscn.steps.v[1]), -1);
    if (!c.fail || !strstr(c.fail, "t.scn:2: wire a no-rst\n  no open connection or flow named 'a'\n"))
        fail_msg("got: %s", c.fail ? c.fail : "(none)");
    free(c.fail);
    pthread_mutex_destroy(&st_.lock);
    nr_scn_free(&wscn);
}


/* ---- out of memory: a failed allocation never passes the check ------------- */

/* Judge an echo connection and a true claim about it with the Nth call of
 * fn failing, for every N until one is past the last call.  A failure then
 * blames the memory, never the connection (no "the wire carried 0 bytes"
 * for a digest that could not be made); a fallback (the C library's) may
 * pass.  The first calloc and the first malloc are the judge's own (its
 * probes, the relay pairs): they fail it. */
/* Judge claim with the Nth call of fn failing, for every N until one is
 * past the last call; every failure must blame the memory, and with
 * judges_first the first call (the judge's own) must fail it.  Returns how
 * many failed; *reading (if not NULL) counts those that failed while
 * reading the capture. */
static int judge_each_failure(const char *fn, int proto, uint16_t lport, uint16_t pport,
                              const char *claim, int judges_first, int *reading)
{
    int failed = 0, n;
    for (n = 1; n < 400; n++) {
        char spec[32], *f;
        size_t before;
        free(wlog); /* the step log of the judgement before */
        wlog = NULL;
        pg_close_file(&sink); /* the capture is written */
        before = mallinfo2().uordblks;
        snprintf(spec, sizeof(spec), "%s:%d", fn, n);
        wfault = spec;
        f = judge_claim(proto, lport, pport, claim);
        wfault = NULL;
        if (!whit) {
            free(f);
            break;
        }
        if (f && !strstr(f, "out of memory") && !strstr(f, "Cannot allocate memory"))
            fail_msg("%s: a failure that does not blame the memory:\n%s", spec, f);
        if (n == 1 && judges_first && (!f || !strstr(f, "  wire: out of memory\n")))
            fail_msg("%s: got %s", spec, f ? f : "(passed)");
        if (reading && f && strstr(f, "  wire: out of memory while reading the capture\n"))
            ++*reading;
        failed += f != NULL;
        free(f);
        free(wlog);
        wlog = NULL;
        if (mallinfo2().uordblks != before)
            fail_msg("%s: the judgement left %lld heap bytes", spec,
                     (long long)mallinfo2().uordblks - (long long)before);
    }
    if (n == 400) /* the sweep must reach a judgement with no allocation left to fail */
        fail_msg("%s: still failing allocations after 399 of them", fn);
    return failed;
}

static void out_of_memory_fails_the_check(void **st)
{
    static const char *const fns[] = { "malloc", "calloc", "realloc" };
    struct exec_record r = rec(IPPROTO_TCP, 40000, 80, "hello", "hi");
    char *f;
    int failed = 0;
    (void)st;
    conn_ending(0, 0);
    wscn_records = &r;
    f = judge_claim(IPPROTO_TCP, CLIENT, "wire a bytes us 5");
    if (f)
        fail_msg("%s", f);
    for (size_t i = 0; i < 3; i++)
        failed += judge_each_failure(fns[i], IPPROTO_TCP, CLIENT, "wire a bytes us 5", i < 2, NULL);
    wscn_records = NULL;
    assert_true(failed >= 10);
}

/* The same for a UDP flow, whose datagrams are listed (realloc'd) as they
 * are read: a failed realloc there is "out of memory while reading the
 * capture", never a crash. */
static void out_of_memory_udp_fails_the_check(void **st)
{
    int reading = 0;
    (void)st;
    udp(40000, 80, "abc");
    udp(80, 40000, "Hello");
    judge_each_failure("realloc", IPPROTO_UDP, CLIENT, "wire a datagrams 2", 0, &reading);
    assert_true(reading >= 1);
}

/* Judging frees all it made: 40 judgements of a TCP connection leave the
 * heap where one left it (the first sets up the C library's own). */
static void judge_frees_its_digests(void **st)
{
    size_t before;
    char *f;
    (void)st;
    conn_ending(0, 0);
    f = judge_claim(IPPROTO_TCP, CLIENT, "wire a bytes us 5");
    if (f)
        fail_msg("%s", f);
    before = mallinfo2().uordblks;
    for (int i = 0; i < 40; i++)
        assert_null(judge_claim(IPPROTO_TCP, CLIENT, "wire a bytes us 5"));
    if (mallinfo2().uordblks > before + 4096)
        fail_msg("40 judgements left %zu bytes", mallinfo2().uordblks - before);
}


/* Sockets the capture cannot or need not show: a unix socket (logged), a
 * listener, one without a peer, a UDP socket that carried nothing. */
static void records_not_in_the_capture(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 81, "x", "y"),
                               rec(IPPROTO_TCP, 40001, 81, "x", "y"),
                               rec(IPPROTO_TCP, 40002, 81, "x", "y"),
                               rec(IPPROTO_UDP, 40003, 81, "", "") };
    (void)st;
    snprintf(r[0].name, sizeof(r[0].name), "u");
    r[0].is_unix = 1;
    r[1].listener = 1;
    r[2].have_peer = 0;
    echo_conn(40000, 1000);
    assert_passes(r, 4);
    if (!rlog || !strstr(rlog, " wire: u is a unix socket: not in the capture, not checked\n") ||
        !strstr(rlog, " capture: 8 frames, 1 connections/flows\n"))
        fail_msg("no log line for the capture or the unix socket:\n%s", rlog ? rlog : "");
    r[3].sent = 1; /* a UDP socket that sent must be there */
    assert_fails_with(r, 4, "wire: connection 'a' (127.0.0.1:40003 -> 127.0.0.1:81) is not in the "
                            "capture");
    r[3] = rec(IPPROTO_UDP, 40003, 81, "", "");
    r[3].received = 1;
    assert_fails_with(r, 4, "is not in the capture");
    r[2].have_peer = 1;
    assert_fails_with(r, 3, "wire: connection 'a' (127.0.0.1:40002 -> 127.0.0.1:81) is not in");
}


/* The largest index; a flow of the enclosing context (a repeat's body sees
 * the scenario's flows), the claim noted with the instance's index. */
static void flow_names_latest_and_outer(void **st)
{
    (void)st;
    flows_two();
    flow_fails("flow f = tcp to 80 index 4294967295\nwire f state S0\n", 2,
               "only 2 flows match, so no index 4294967295");
    {
        struct exec_state st_ = { .scn = &wscn };
        struct exec_ctx outer = { .st = &st_, .index = -1 }, inner = { .st = &st_, .index = 2,
                                                                       .outer = &outer };
        const char *text = "flow f = tcp to 80 index 1\nwire f rst server\n";
        char errbuf[NR_ERRBUF_SIZE];
        memset(&wscn, 0, sizeof(wscn));
        assert_int_equal(nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &wscn, errbuf), 0);
        pthread_mutex_init(&st_.lock, NULL);
        assert_int_equal(exec_wire_note(&outer, &wscn.steps.v[0]), 0);
        assert_int_equal(exec_wire_note(&inner, &wscn.steps.v[1]), 0);
        assert_int_equal(st_.nwires, 1);
        assert_int_equal(st_.wires[0].index, 2);
        assert_int_equal(st_.wires[0].sel.index, 1);
        assert_string_equal(st_.wires[0].sel.text, "tcp to 80 index 1");
        exec_wire_judge(&outer, pcap_path);
        if (outer.fail)
            fail_msg("%s", outer.fail);
        free(st_.wires);
        free(outer.flows);
        pthread_mutex_destroy(&st_.lock);
        nr_scn_free(&wscn);
    }
}

/* Noting a flow or a count whose Nth allocation fails (its ends' text,
 * its list) fails with -1, for every N. */
static void note_out_of_memory(void **st)
{
    static const char *const texts[] = { "flow f = tcp to 80\n", "flows tcp to 80 count 1\n" };
    char errbuf[NR_ERRBUF_SIZE];
    (void)st;
    for (size_t i = 0; i < 2; i++)
        for (int n = 1;; n++) {
            struct exec_state st_ = { .scn = &wscn };
            struct exec_ctx c = { .st = &st_, .index = -1 };
            char spec[32];
            unsigned long hit;
            int r;
            memset(&wscn, 0, sizeof(wscn));
            assert_int_equal(nr_scn_parse((const uint8_t *)texts[i], strlen(texts[i]), "t.scn",
                                          &wscn, errbuf), 0);
            pthread_mutex_init(&st_.lock, NULL);
            snprintf(spec, sizeof(spec), "realloc:%d", n);
            fault_inproc_set(spec);
            r = exec_wire_note(&c, &wscn.steps.v[0]);
            hit = fault_inproc_off();
            if (hit && (r != -1 || !c.fail || !strstr(c.fail, "t.scn:1: ") ||
                        !strstr(c.fail, "\n  out of memory")))
                fail_msg("%s: %d, %s", spec, r, c.fail ? c.fail : "(no failure)");
            if (hit)
                assert_int_equal(c.nflows + st_.nwires, 0);
            free(c.fail);
            free(c.flows);
            free(st_.wires);
            pthread_mutex_destroy(&st_.lock);
            nr_scn_free(&wscn);
            if (!hit) {
                assert_int_equal(r, 0);
                assert_true(n > 1);
                break;
            }
        }
}


/* Three connections on one port pair: the one that carries the socket's
 * bytes is picked, in the middle too. */
static void tcp_reused_port_pair_three_times(void **st)
{
    struct exec_record r[] = { rec(IPPROTO_TCP, 40000, 80, "two", "ok") };
    (void)st;
    conn_of_pair(1000, "one", "ok");
    conn_of_pair(50000, "two", "ok");
    conn_of_pair(90000, "six", "ok");
    assert_passes(r, 1);
}

/* A hole in the other leg's stream breaks the relayed leg's comparison:
 * judged first, the relayed leg fails, not only the leg with the hole. */
static void relay_other_leg_with_a_hole_fails(void **st)
{
    struct exec_record r[2], t;
    struct pg_conn kc, ku;
    (void)st;
    relay_legs(r, "hello world", "");
    t = r[0]; /* the upstream leg first */
    r[0] = r[1];
    r[1] = t;
    pg_conn_init(&kc, &sink, 40000, 9000, 1000, 7000);
    pg_conn_init(&ku, &sink, 40001, 80, 3000, 9000);
    pg_handshake(&kc);
    pg_handshake(&ku);
    pg_seg(&kc, 0, A, "hello", 5);
    kc.seq[0] += 1; /* " " never captured */
    pg_seg(&kc, 0, A, "world", 5);
    pg_seg(&ku, 0, A, "hello world", 11);
    pg_close(&kc, 0);
    pg_close(&ku, 0);
    assert_fails_with(r, 2, "'a' (127.0.0.1:40001 -> 127.0.0.1:80): the 11 bytes on the wire are "
                            "not the bytes the proxy's other leg received");
}

/* 18 connections one after another (capture connections 0..17, past the
 * first 16 digests the check keeps before it grows its table): connection
 * 16's socket is judged by its own bytes, right and wrong. */
static void tcp_eighteen_connections(void **st)
{
    struct exec_record r[1];
    char up[16];
    (void)st;
    for (int i = 0; i < 18; i++) {
        struct pg_conn k;
        snprintf(up, sizeof(up), "conn %02d", i);
        pg_conn_init(&k, &sink, (uint16_t)(40000 + i), 80, 1000 + 100000 * (uint32_t)i, 7000);
        pg_handshake(&k);
        pg_seg(&k, 0, A, up, strlen(up));
        pg_seg(&k, 1, A, up, strlen(up));
        pg_close(&k, 0);
    }
    r[0] = rec(IPPROTO_TCP, 40016, 80, "conn 16", "conn 16");
    assert_passes(r, 1);
    r[0] = rec(IPPROTO_TCP, 40016, 80, "conn 17", "conn 16");
    assert_fails_with(r, 1, "the 7 bytes on the wire differ");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(tcp_bytes_as_sent_pass),
        T(tcp_received_prefix_passes),
        T(tcp_sent_more_than_the_wire_fails),
        T(tcp_sent_fewer_than_the_wire_fails),
        T(tcp_cut_connection_allows_fewer_only),
        T(tcp_other_bytes_on_the_wire_fail),
        T(tcp_received_other_bytes_fail),
        T(tcp_received_more_than_the_wire_fails),
        T(tcp_connection_absent_fails),
        T(tcp_hole_fails),
        T(tcp_empty_connection_passes),
        T(tcp_reused_port_pair_finds_the_right_connection),
        T(tcp_reused_port_pair_by_received_bytes),
        T(udp_datagrams_in_order_with_their_sizes),
        T(udp_datagram_missing_from_the_wire_fails),
        T(relay_legs_carrying_the_same_bytes_pass),
        T(relay_leg_with_other_bytes_fails),
        T(relay_leg_reordered_fails),
        T(relay_leg_count_differs_fails),
        T(relay_leg_sent_more_than_the_other_received_fails),
        T(relay_leg_with_a_swallowed_range),
        T(relay_leg_without_its_other_leg_fails),
        T(wire_first_fin_each_side),
        T(wire_first_fin_server_and_nobody),
        T(wire_rst_each_side),
        T(wire_rst_both_and_none),
        T(wire_state_and_handshake),
        T(wire_retransmissions_each_side),
        T(wire_bytes_each_side),
        T(wire_datagrams_and_bytes_udp),
        T(wire_count_from_a_variable),
        T(flow_claims_by_side),
        T(flow_selection_fails),
        T(flows_count),
        T(flow_over_ipv6),
        T(flow_definition_from_bad_variables),
        T(claim_about_nothing_known),
        T(out_of_memory_fails_the_check),
        T(out_of_memory_udp_fails_the_check),
        T(judge_frees_its_digests),
        T(records_not_in_the_capture),
        T(flow_names_latest_and_outer),
        T(note_out_of_memory),
        T(tcp_reused_port_pair_three_times),
        T(relay_other_leg_with_a_hole_fails),
        T(tcp_eighteen_connections),
    };
    int r;
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: failed judgements are checked for leaks */
    fault_inproc_init(argv);
    r = cmocka_run_group_tests(tests, NULL, NULL);
    free(wlog);
    free(rlog);
    return r;
}
