/* cmd_pcap_summary.c - `netrig pcap summary` and `netrig pcap check`. */
#include <inttypes.h>
#include <string.h>

#include "cmd_pcap.h"

static void text_summary(const struct nr_capture *cap)
{
    size_t n = nr_flowtab_count(cap->ft), ntcp = 0;
    char a[80], b[80];

    printf("%-4s %-5s %-24s %-24s %8s %10s %8s %10s %10s %10s %12s %-6s %s\n", "#", "proto",
           "orig", "resp", "pkts>", "bytes>", "pkts<", "bytes<", "payload>", "payload<",
           "duration", "state", "history");
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        ntcp += c->proto == 6;
        printf("%-4zu %-5s %-24s %-24s %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %10" PRIu64
               " %10" PRIu64 " %10" PRIu64 " %12.6f %-6s %s\n",
               i, conv_proto(c), nr_conn_endpoint(c, 0, a, sizeof(a)),
               nr_conn_endpoint(c, 1, b, sizeof(b)), c->pkts[0], c->bytes[0], c->pkts[1],
               c->bytes[1], c->payload[0], c->payload[1],
               (double)(c->last_ns - c->first_ns) / 1e9, nr_conn_state(c),
               c->proto == 6 ? c->history : "-");
    }
    printf("%zu TCP connections, %zu UDP flows; %" PRIu64 " frames (%" PRIu64 " TCP, %" PRIu64
           " UDP, %" PRIu64 " other), %" PRIu64 " truncated, %" PRIu64 " malformed\n",
           ntcp, n - ntcp, cap->st.frames, cap->st.tcp, cap->st.udp,
           cap->st.nonip + cap->st.other_l4, cap->st.truncated, cap->st.malformed);
}

int pcap_summary(struct pcap_args *a)
{
    struct nr_capture cap;
    size_t n;

    if (pcap_load(a->pos[0], 0, &cap) < 0)
        return PCAP_EXIT_ERR;
    if (!a->json) {
        text_summary(&cap);
    } else {
        n = nr_flowtab_count(cap.ft);
        fputs("{\"file\":", stdout);
        json_str(stdout, a->pos[0], strlen(a->pos[0]));
        fputs(",\"stats\":", stdout);
        json_stats(stdout, &cap);
        fputs(",\"conversations\":[", stdout);
        for (size_t i = 0; i < n; i++) {
            if (i)
                putchar(',');
            json_conv(stdout, nr_flowtab_conn(cap.ft, i));
        }
        fputs("]}\n", stdout);
    }
    nr_capture_free(&cap);
    return PCAP_EXIT_OK;
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
        json_record(stdout, "conversation", conv, "kind", kind, "detail", detail);
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

    if (c->proto != 6)
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
    for (int dir = 0; dir < 2; dir++) {
        if (c->retrans[dir]) {
            snprintf(d, sizeof(d), "%" PRIu32 " retransmitted segments from the %s",
                     c->retrans[dir], who[dir]);
            anomaly(o, i, "retransmission", d);
        }
        if (c->ooo[dir]) {
            snprintf(d, sizeof(d), "%" PRIu32 " out-of-order segments from the %s", c->ooo[dir],
                     who[dir]);
            anomaly(o, i, "out-of-order", d);
        }
        if (c->zero_win[dir]) {
            snprintf(d, sizeof(d), "%" PRIu32 " zero-window advertisements from the %s",
                     c->zero_win[dir], who[dir]);
            anomaly(o, i, "zero-window", d);
        }
        if (c->rs[dir].gap_bytes) {
            snprintf(d, sizeof(d), "%" PRIu64 " bytes missing from the %s's stream in %" PRIu32
                     " gaps", c->rs[dir].gap_bytes, who[dir], c->rs[dir].gaps);
            anomaly(o, i, "gap", d);
        }
    }
}

int pcap_check(struct pcap_args *a)
{
    struct nr_capture cap;
    struct anomaly_out o = { .json = a->json };
    size_t n;
    char d[256];

    if (pcap_load(a->pos[0], 0, &cap) < 0)
        return PCAP_EXIT_ERR;
    if (a->json) {
        fputs("{\"file\":", stdout);
        json_str(stdout, a->pos[0], strlen(a->pos[0]));
        fputs(",\"stats\":", stdout);
        json_stats(stdout, &cap);
        fputs(",\"anomalies\":[", stdout);
    }
    for (int r = 1; r < NR_R_COUNT; r++) {
        if (!cap.st.reasons[r])
            continue;
        snprintf(d, sizeof(d), "%" PRIu64 " packets", cap.st.reasons[r]);
        anomaly(&o, -1, nr_pkt_reason_name(r), d);
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
    nr_capture_free(&cap);
    return o.count ? PCAP_EXIT_FOUND : PCAP_EXIT_OK;
}
