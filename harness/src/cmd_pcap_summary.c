/* cmd_pcap_summary.c - `netrig pcap summary` (text, JSON, zeek conn.log) and
 * `netrig pcap check`. */
#include <inttypes.h>
#include <string.h>

#include "cmd_pcap.h"

static void text_summary(const struct nr_pktfile *cap)
{
    size_t n = nr_flowtab_count(cap->ft), ntcp = 0;
    char a[80], b[80];

    printf("%-4s %-5s %-24s %-24s %8s %10s %8s %10s %10s %10s %12s %-6s %s\n", "#", "proto",
           "orig", "resp", "pkts>", "bytes>", "pkts<", "bytes<", "payload>", "payload<",
           "duration", "state", "history");
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        ntcp += c->proto == IPPROTO_TCP;
        printf("%-4zu %-5s %-24s %-24s %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %10" PRIu64
               " %10" PRIu64 " %10" PRIu64 " %12.6f %-6s %s\n",
               i, cmd_pcap_conv_proto(c), nr_conn_endpoint(c, 0, a, sizeof(a)),
               nr_conn_endpoint(c, 1, b, sizeof(b)), c->pkts[0], c->bytes[0], c->pkts[1],
               c->bytes[1], c->payload[0], c->payload[1],
               (double)(c->last_ns - c->first_ns) / 1e9, nr_conn_state(c),
               c->proto == IPPROTO_TCP ? c->history : "-");
    }
    printf("%zu TCP connections, %zu UDP flows; %" PRIu64 " frames (%" PRIu64 " TCP, %" PRIu64
           " UDP, %" PRIu64 " other), %" PRIu64 " truncated, %" PRIu64 " malformed",
           ntcp, n - ntcp, cap->st.frames, cap->st.tcp, cap->st.udp,
           cap->st.nonip + cap->st.other_l4, cap->st.truncated, cap->st.malformed);
    if (cap->st.fragments)
        printf("; %" PRIu64 " IP fragments, %" PRIu64 " datagrams reassembled from them",
               cap->st.fragments, cap->st.frag.reassembled);
    putchar('\n');
}

/* An optional count field of conn.log: "-" when unset. */
static void zeek_count(int set, uint64_t v)
{
    if (set)
        printf("\t%" PRIu64, v);
    else
        fputs("\t-", stdout);
}

/* zeek's conn.log (base/protocols/conn/main.zeek Conn::Info, TSV writer):
 * duration and the byte sizes only when the duration is positive, as
 * set_conn does; uid is C + the conversation number (zeek's are random). */
static void zeek_summary(const struct nr_pktfile *cap)
{
    size_t n = nr_flowtab_count(cap->ft);
    char a[80], b[80];

    fputs("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
          "#path\tconn\n"
          "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
          "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\t"
          "history\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n"
          "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
          "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n",
          stdout);
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        int64_t dur = c->last_ns - c->first_ns;
        int tcp = c->proto == IPPROTO_TCP;
        nr_conn_endpoint(c, 0, a, sizeof(a));
        nr_conn_endpoint(c, 1, b, sizeof(b));
        *strrchr(a, ':') = '\0'; /* addresses without the port (and brackets) */
        *strrchr(b, ':') = '\0';
        printf("%" PRId64 ".%06" PRId64 "\tC%zu\t%s\t%u\t%s\t%u\t%s\t-", c->first_ns / 1000000000,
               (c->first_ns % 1000000000) / 1000, i, a[0] == '[' ? a + 1 : a, c->port[0],
               b[0] == '[' ? b + 1 : b, c->port[1], tcp ? "tcp" : "udp");
        if (dur > 0)
            printf("\t%" PRId64 ".%06" PRId64, dur / 1000000000, (dur % 1000000000) / 1000);
        else
            fputs("\t-", stdout);
        zeek_count(dur > 0, nr_conn_zeek_size(c, 0));
        zeek_count(dur > 0, nr_conn_zeek_size(c, 1));
        printf("\t%s\t-\t-", nr_conn_state(c));
        zeek_count(1, tcp ? c->rs[0].gap_bytes + c->rs[1].gap_bytes : 0);
        printf("\t%s", tcp && c->hist_len ? c->history : "-");
        for (int d = 0; d < 2; d++) {
            zeek_count(1, c->pkts[d]);
            zeek_count(1, c->ip_bytes[d]);
        }
        printf("\t-\t%u\n", c->proto);
    }
}

int cmd_pcap_summary(struct cmd_pcap_args *a)
{
    struct nr_pktfile cap;
    size_t n;
    int rc = cmd_pcap_load_partial(a->pos[0], 0, &cap);

    if (rc < 0)
        return PCAP_EXIT_ERR;
    if (a->zeek) {
        zeek_summary(&cap);
    } else if (!a->json) {
        text_summary(&cap);
    } else {
        n = nr_flowtab_count(cap.ft);
        fputs("{\"file\":", stdout);
        cmd_pcap_json_str(stdout, a->pos[0], strlen(a->pos[0]));
        fputs(",\"stats\":", stdout);
        cmd_pcap_json_stats(stdout, &cap);
        fputs(",\"conversations\":[", stdout);
        for (size_t i = 0; i < n; i++) {
            if (i)
                putchar(',');
            cmd_pcap_json_conv(stdout, nr_flowtab_conn(cap.ft, i));
        }
        fputs("]}\n", stdout);
    }
    nr_pktfile_free(&cap);
    return rc ? PCAP_EXIT_ERR : PCAP_EXIT_OK;
}

/* One anomaly: conversation index (-1: whole file), kind, detail text. */
struct anomaly_out {
    int json;
    int count;
};

static void anomaly(struct anomaly_out *o, long conv, const char *kind, const char *detail)
{
    if (o->json) {
        fputs(o->count ? "," : "", stdout);
        cmd_pcap_json_record(stdout, "conversation", conv, "kind", kind, "detail", detail);
    } else if (conv < 0) {
        printf("file: %s: %s\n", kind, detail);
    } else {
        printf("#%ld: %s: %s\n", conv, kind, detail);
    }
    o->count++;
}

static void check_conn(struct anomaly_out *o, const struct nr_conn *c)
{
    static const char *const who[2] = { "originator", "responder" };
    char d[256], a[80], b[80];
    long i = (long)c->index;
    const char *st = nr_conn_state(c);

    if (c->proto != IPPROTO_TCP)
        return;
    if (!c->handshake) {
        snprintf(d, sizeof(d), "%s -> %s: handshake not completed (state %s, history %s)",
                 nr_conn_endpoint(c, 0, a, sizeof(a)), nr_conn_endpoint(c, 1, b, sizeof(b)), st,
                 c->history);
        anomaly(o, i, "unfinished-handshake", d);
    }
    if (c->rst_dirs) {
        snprintf(d, sizeof(d), "reset by %s%s (state %s)", who[c->first_rst],
                 c->rst_dirs == 3 ? " and then the other side" : "", st);
        anomaly(o, i, "rst", d);
    }
    for (int k = 0; k < NR_TA_COUNT; k++) {
        if (k == NR_TA_WIN_UPDATE || (!c->ta[0][k] && !c->ta[1][k]))
            continue; /* a window update is not an anomaly (tshark: chat) */
        snprintf(d, sizeof(d), "%" PRIu32 " from the originator, %" PRIu32
                 " from the responder (tshark tcp.analysis.%s)", c->ta[0][k], c->ta[1][k],
                 nr_ta_name(k));
        anomaly(o, i, nr_ta_name(k), d);
    }
    for (int dir = 0; dir < 2; dir++) {
        const struct nr_reasm *r = &c->rs[dir];
        if (r->gap_bytes) {
            snprintf(d, sizeof(d), "%" PRIu64 " bytes missing from the %s's stream in %" PRIu32
                     " gaps", r->gap_bytes, who[dir], r->gaps);
            anomaly(o, i, "gap", d);
        }
        if (r->junk) {
            snprintf(d, sizeof(d), "%" PRIu32 " segments from the %s more than %u bytes ahead "
                     "of the stream, ignored", r->junk, who[dir], NR_REASM_WINDOW);
            anomaly(o, i, "junk", d);
        }
        if (r->overflows) {
            snprintf(d, sizeof(d), "%" PRIu32 " holes in the %s's stream skipped: more than %u "
                     "bytes held out of order", r->overflows, who[dir], NR_REASM_MAX_BYTES);
            anomaly(o, i, "reassembly-overflow", d);
        }
    }
}

int cmd_pcap_check(struct cmd_pcap_args *a)
{
    struct nr_pktfile cap;
    struct anomaly_out o = { .json = a->json };
    uint64_t lost;
    size_t n;
    char d[256];
    int rc = cmd_pcap_load_partial(a->pos[0], 0, &cap);

    if (rc < 0)
        return PCAP_EXIT_ERR;
    if (a->json) {
        fputs("{\"file\":", stdout);
        cmd_pcap_json_str(stdout, a->pos[0], strlen(a->pos[0]));
        fputs(",\"stats\":", stdout);
        cmd_pcap_json_stats(stdout, &cap);
        fputs(",\"anomalies\":[", stdout);
    }
    for (int r = 1; r < NR_R_COUNT; r++) {
        if (!cap.st.reasons[r])
            continue;
        snprintf(d, sizeof(d), "%" PRIu64 " packets", cap.st.reasons[r]);
        anomaly(&o, -1, nr_pkt_reason_name(r), d);
    }
    lost = cap.st.frag.timeouts + cap.st.frag.overflows + cap.st.frag.incomplete;
    if (lost) { /* datagrams whose bytes are missing from the streams */
        snprintf(d, sizeof(d), "%" PRIu64 " IP datagrams not reassembled (%" PRIu64
                 " timed out, %" PRIu64 " dropped over the %u MiB cap, %" PRIu64
                 " incomplete at the end)", lost, cap.st.frag.timeouts, cap.st.frag.overflows,
                 NR_FRAG_MAX_BYTES >> 20, cap.st.frag.incomplete);
        anomaly(&o, -1, "ip-fragments", d);
    }
    n = nr_flowtab_count(cap.ft);
    for (size_t i = 0; i < n; i++)
        check_conn(&o, nr_flowtab_conn(cap.ft, i));
    if (a->json)
        printf("],\"clean\":%s}\n", o.count ? "false" : "true");
    else if (!o.count)
        printf("clean: %zu conversations, %" PRIu64 " frames, no anomalies\n", n, cap.st.frames);
    else
        printf("%d anomalies\n", o.count);
    nr_pktfile_free(&cap);
    if (rc)
        return PCAP_EXIT_ERR;
    return o.count ? PCAP_EXIT_FOUND : PCAP_EXIT_OK;
}
