/* cmd_pcap_common.c - what the `netrig pcap` subcommands share: argument
 * parsing, loading a capture (what a damaged one held, then the error with
 * its offset), the JSON writers and the conversation lookup.  It calls no
 * subcommand: cmd_pcap.c dispatches to them, they call this. */
#include "cmd_pcap.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int cmd_pcap_parse_args(int argc, char **argv, struct cmd_pcap_args *a, int maxpos)
{
    memset(a, 0, sizeof(*a));
    a->mode = 'a';
    a->dir = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(s, "--ascii") == 0) {
            a->mode = 'a';
        } else if (strcmp(s, "--hex") == 0) {
            a->mode = 'x';
        } else if (strcmp(s, "--raw") == 0) {
            a->mode = 'r';
        } else if (strcmp(s, "--interleaved") == 0) {
            a->interleaved = 1;
        } else if (strcmp(s, "--format") == 0 && i + 1 < argc) {
            s = argv[++i];
            if (strcmp(s, "zeek") == 0) {
                a->zeek = 1;
            } else if (strcmp(s, "json") == 0) {
                a->json = 1;
            } else if (strcmp(s, "text") != 0) {
                fprintf(stderr, "netrig pcap %s: --format wants text, json or zeek\n", argv[0]);
                return -1;
            }
        } else if (strcmp(s, "--dir") == 0 && i + 1 < argc) {
            s = argv[++i];
            if (strcmp(s, "both") == 0) {
                a->dir = -1;
            } else if (strcmp(s, "orig") == 0) {
                a->dir = 0;
            } else if (strcmp(s, "resp") == 0) {
                a->dir = 1;
            } else {
                fprintf(stderr, "netrig pcap %s: --dir wants both, orig or resp\n", argv[0]);
                return -1;
            }
        } else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "netrig pcap %s: unknown option '%s'\n", argv[0], s);
            return -1;
        } else if (a->npos < maxpos) {
            a->pos[a->npos++] = s;
        } else {
            fprintf(stderr, "netrig pcap %s: unexpected argument '%s'\n", argv[0], s);
            return -1;
        }
    }
    return 0;
}

static int load(const char *path, int keep_data, int partial, struct nr_pktfile *cap)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_pktfile_opts o = { .keep_data = keep_data, .partial_ok = partial };
    int rc = nr_pktfile_read_file(path, &o, cap, err);

    if (rc != 0)
        fprintf(stderr, "netrig pcap: %s\n", err);
    return rc;
}

int cmd_pcap_load(const char *path, int keep_data, struct nr_pktfile *cap)
{
    return load(path, keep_data, 0, cap);
}

int cmd_pcap_load_partial(const char *path, int keep_data, struct nr_pktfile *cap)
{
    return load(path, keep_data, 1, cap);
}

/* Length of the valid UTF-8 sequence (2-4 bytes) at s[0..left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    uint32_t cp;

    if (!n || n > left || s[0] > 0xf4)
        return 0;
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cmd_pcap_json_str(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        size_t u = ch >= 0x80 ? utf8_len((const unsigned char *)s + i, len - i) : 0;
        if (u) { /* valid UTF-8 passes through */
            fwrite(s + i, 1, u, f);
            i += u - 1;
        } else if (ch == '"' || ch == '\\') {
            putc('\\', f);
            putc(ch, f);
        } else if (ch == '\n') {
            fputs("\\n", f);
        } else if (ch == '\t') {
            fputs("\\t", f);
        } else if (ch == '\r') {
            fputs("\\r", f);
        } else if (ch < 0x20 || ch >= 0x7f) {
            fprintf(f, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
        } else {
            putc(ch, f);
        }
    }
    putc('"', f);
}

void cmd_pcap_json_record(FILE *f, const char *idx_key, long idx, const char *k1, const char *v1,
                 const char *k2, const char *v2)
{
    fprintf(f, "{\"%s\":", idx_key);
    if (idx < 0)
        fputs("null", f);
    else
        fprintf(f, "%ld", idx);
    fprintf(f, ",\"%s\":", k1);
    cmd_pcap_json_str(f, v1, strlen(v1));
    fprintf(f, ",\"%s\":", k2);
    cmd_pcap_json_str(f, v2, strlen(v2));
    putc('}', f);
}

const char *cmd_pcap_conv_proto(const struct nr_conn *c)
{
    return c->proto == IPPROTO_TCP ? "tcp" : "udp";
}

static const char *dir_name(int d)
{
    return d < 0 ? NULL : d ? "resp" : "orig";
}

static void json_dir_or_null(FILE *f, const char *key, int d)
{
    fprintf(f, ",\"%s\":", key);
    if (d < 0)
        fputs("null", f);
    else
        cmd_pcap_json_str(f, dir_name(d), strlen(dir_name(d)));
}

void cmd_pcap_json_conv(FILE *f, const struct nr_conn *c)
{
    char a[80], b[80];
    const char *st = nr_conn_state(c);

    nr_conn_endpoint(c, 0, a, sizeof(a));
    nr_conn_endpoint(c, 1, b, sizeof(b));
    fprintf(f, "{\"index\":%" PRIu32 ",\"proto\":\"%s\",\"orig\":", c->index, cmd_pcap_conv_proto(c));
    cmd_pcap_json_str(f, a, strlen(a));
    fputs(",\"resp\":", f);
    cmd_pcap_json_str(f, b, strlen(b));
    for (int d = 0; d < 2; d++)
        fprintf(f,
                ",\"%s_pkts\":%" PRIu64 ",\"%s_bytes\":%" PRIu64 ",\"%s_ip_bytes\":%" PRIu64
                ",\"%s_frame_bytes\":%" PRIu64 ",\"%s_payload\":%" PRIu64,
                dir_name(d), c->pkts[d], dir_name(d), nr_conn_zeek_size(c, d), dir_name(d),
                c->ip_bytes[d], dir_name(d), c->bytes[d], dir_name(d), c->payload[d]);
    fprintf(f, ",\"start\":%.9f,\"duration\":%.9f,\"state\":\"%s\"",
            (double)c->first_ns / 1e9, (double)(c->last_ns - c->first_ns) / 1e9, st);
    if (c->proto != IPPROTO_TCP) {
        putc('}', f);
        return;
    }
    fputs(",\"history\":", f);
    cmd_pcap_json_str(f, c->history, c->hist_len);
    fprintf(f, ",\"handshake\":%s", c->handshake ? "true" : "false");
    json_dir_or_null(f, "first_fin", c->first_fin);
    json_dir_or_null(f, "first_rst", c->first_rst);
    fprintf(f,
            ",\"retransmissions\":[%" PRIu32 ",%" PRIu32 "],\"out_of_order\":[%" PRIu32
            ",%" PRIu32 "],\"zero_windows\":[%" PRIu32 ",%" PRIu32 "],\"gap_bytes\":[%" PRIu64
            ",%" PRIu64 "],\"stream_bytes\":[%" PRIu64 ",%" PRIu64 "],\"junk_segments\":[%" PRIu32
            ",%" PRIu32 "],\"reassembly_overflows\":[%" PRIu32 ",%" PRIu32 "],\"tcp_analysis\":{",
            c->retrans[0], c->retrans[1], c->ooo[0], c->ooo[1], c->zero_win[0], c->zero_win[1],
            c->rs[0].gap_bytes, c->rs[1].gap_bytes, c->rs[0].delivered, c->rs[1].delivered,
            c->rs[0].junk, c->rs[1].junk, c->rs[0].overflows, c->rs[1].overflows);
    for (int k = 0, first = 1; k < NR_TA_COUNT; k++) {
        if (!c->ta[0][k] && !c->ta[1][k])
            continue;
        fprintf(f, "%s\"%s\":[%" PRIu32 ",%" PRIu32 "]", first ? "" : ",", nr_ta_name(k),
                c->ta[0][k], c->ta[1][k]);
        first = 0;
    }
    fputs("}}", f);
}

void cmd_pcap_json_stats(FILE *f, const struct nr_pktfile *cap)
{
    const struct nr_capstats *s = &cap->st;
    const char *dn = nr_pktfile_dlt_name(cap->dlt);

    fputs("{\"link_type\":", f);
    cmd_pcap_json_str(f, dn, strlen(dn));
    fprintf(f,
            ",\"frames\":%" PRIu64 ",\"frame_bytes\":%" PRIu64 ",\"tcp\":%" PRIu64
            ",\"udp\":%" PRIu64 ",\"non_ip\":%" PRIu64 ",\"other_l4\":%" PRIu64
            ",\"fragments\":%" PRIu64 ",\"reassembled\":%" PRIu64 ",\"frag_timeouts\":%" PRIu64
            ",\"frag_overflows\":%" PRIu64 ",\"frag_incomplete\":%" PRIu64
            ",\"truncated\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"reasons\":{",
            s->frames, s->frame_bytes, s->tcp, s->udp, s->nonip, s->other_l4, s->fragments,
            s->frag.reassembled, s->frag.timeouts, s->frag.overflows, s->frag.incomplete,
            s->truncated, s->malformed);
    for (int r = 1, first = 1; r < NR_R_COUNT; r++) {
        if (!s->reasons[r])
            continue;
        fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", nr_pkt_reason_name(r), s->reasons[r]);
        first = 0;
    }
    fputs("}}", f);
}

struct nr_conn *cmd_pcap_find_conv(const struct nr_pktfile *cap, const char *spec)
{
    size_t n = nr_flowtab_count(cap->ft);
    char *end, a[80], b[80];
    const char *dash = NULL;
    int depth = 0;
    unsigned long idx = strtoul(spec, &end, 10);

    if (*spec && !*end)
        return idx < n ? nr_flowtab_conn(cap->ft, idx) : NULL;
    for (const char *p = spec; *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
        else if (*p == '-' && depth == 0 && !dash)
            dash = p;
    }
    if (!dash)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        size_t l1 = (size_t)(dash - spec);
        nr_conn_endpoint(c, 0, a, sizeof(a));
        nr_conn_endpoint(c, 1, b, sizeof(b));
        if ((strlen(a) == l1 && !strncmp(spec, a, l1) && !strcmp(dash + 1, b)) ||
            (strlen(b) == l1 && !strncmp(spec, b, l1) && !strcmp(dash + 1, a)))
            return c;
    }
    return NULL;
}
