/* cmd_pcap_follow.c - `netrig pcap follow`: one conversation's streams. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cmd_pcap.h"

static const char *const dirname_[2] = { "orig", "resp" };

static void hexdump(const uint8_t *p, uint64_t len, uint64_t base)
{
    for (uint64_t i = 0; i < len; i += 16) {
        printf("%08" PRIx64 "  ", base + i);
        for (uint64_t j = 0; j < 16; j++) {
            if (i + j < len)
                printf("%02x ", p[i + j]);
            else
                fputs("   ", stdout);
        }
        fputs(" |", stdout);
        for (uint64_t j = 0; j < 16 && i + j < len; j++)
            putchar(isprint(p[i + j]) ? p[i + j] : '.');
        fputs("|\n", stdout);
    }
}

static void ascii(const uint8_t *p, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        putchar(isprint(p[i]) || p[i] == '\n' || p[i] == '\t' ? p[i] : '.');
    if (len && p[len - 1] != '\n')
        putchar('\n');
}

static void json_hex(const uint8_t *p, uint64_t len)
{
    putchar('"');
    for (uint64_t i = 0; i < len; i++)
        printf("%02x", p[i]);
    putchar('"');
}

static void follow_json(const struct nr_conn *c, int dir)
{
    int first = 1;

    fputs("{\"conversation\":", stdout);
    cmd_pcap_json_conv(stdout, c);
    fputs(",\"chunks\":[", stdout);
    for (size_t i = 0; i < c->nchunks; i++) {
        const struct nr_chunk *k = &c->chunks[i];
        static const char *const kinds[] = { "data", "gap", "fin" };
        if (dir >= 0 && k->dir != dir)
            continue;
        printf("%s{\"dir\":\"%s\",\"kind\":\"%s\",\"offset\":%" PRIu64 ",\"len\":%" PRIu64
               ",\"time\":%.9f",
               first ? "" : ",", dirname_[k->dir], kinds[k->kind], k->soff, k->len,
               (double)k->ts_ns / 1e9);
        if (k->kind == NR_CHUNK_DATA) {
            fputs(",\"hex\":", stdout);
            json_hex(c->stream[k->dir].data + k->off, k->len);
            fputs(",\"text\":", stdout);
            cmd_pcap_json_str(stdout, (const char *)c->stream[k->dir].data + k->off, k->len);
        }
        putchar('}');
        first = 0;
    }
    printf("],\"orig_stream\":%zu,\"resp_stream\":%zu}\n", c->stream[0].len, c->stream[1].len);
}

static void follow_text(const struct nr_conn *c, int dir, int mode)
{
    char a[80], b[80];

    if (mode != 'r')
        printf("=== %s %s %s <-> %s (state %s)\n", cmd_pcap_conv_proto(c),
               c->proto == IPPROTO_TCP ? "stream" : "flow", nr_conn_endpoint(c, 0, a, sizeof(a)),
               nr_conn_endpoint(c, 1, b, sizeof(b)), nr_conn_state(c));
    for (size_t i = 0; i < c->nchunks; i++) {
        const struct nr_chunk *k = &c->chunks[i];
        const uint8_t *p = c->stream[k->dir].data + k->off;
        if (dir >= 0 && k->dir != dir)
            continue;
        if (mode == 'r') {
            if (k->kind == NR_CHUNK_DATA)
                fwrite(p, 1, k->len, stdout);
            continue;
        }
        if (k->kind == NR_CHUNK_GAP) {
            printf("--- %s: [gap: %" PRIu64 " bytes missing]\n", dirname_[k->dir], k->len);
        } else if (k->kind == NR_CHUNK_FIN) {
            printf("--- %s: [FIN]\n", dirname_[k->dir]);
        } else {
            printf("--- %s %s -> %s (%" PRIu64 " bytes)\n", dirname_[k->dir],
                   nr_conn_endpoint(c, k->dir, a, sizeof(a)),
                   nr_conn_endpoint(c, !k->dir, b, sizeof(b)), k->len);
            if (mode == 'x')
                hexdump(p, k->len, k->soff);
            else
                ascii(p, k->len);
        }
    }
}

/* Both directions in time order, each chunk headed by its capture time,
 * direction and endpoints, the way tcpflow -c and tshark's follow show a
 * conversation. */
static void follow_interleaved(const struct nr_conn *c, int dir, int mode)
{
    char a[80], b[80];

    for (size_t i = 0; i < c->nchunks; i++) {
        const struct nr_chunk *k = &c->chunks[i];
        const uint8_t *p = c->stream[k->dir].data + k->off;
        if (dir >= 0 && k->dir != dir)
            continue;
        printf("%.6f %s %s > %s", (double)k->ts_ns / 1e9, dirname_[k->dir],
               nr_conn_endpoint(c, k->dir, a, sizeof(a)),
               nr_conn_endpoint(c, !k->dir, b, sizeof(b)));
        if (k->kind == NR_CHUNK_GAP) {
            printf(" [gap: %" PRIu64 " bytes missing at offset %" PRIu64 "]\n", k->len, k->soff);
        } else if (k->kind == NR_CHUNK_FIN) {
            printf(" [FIN at offset %" PRIu64 "]\n", k->soff);
        } else {
            printf(": %" PRIu64 " bytes at offset %" PRIu64 "\n", k->len, k->soff);
            if (mode == 'x')
                hexdump(p, k->len, k->soff);
            else
                ascii(p, k->len);
        }
    }
}

int cmd_pcap_follow(struct cmd_pcap_args *a)
{
    struct nr_pktfile cap;
    struct nr_conn *c = NULL;
    size_t n;
    int rc = cmd_pcap_load_partial(a->pos[0], 1, &cap);

    if (rc < 0)
        return PCAP_EXIT_ERR;
    n = nr_flowtab_count(cap.ft);
    if (a->npos > 1) {
        c = cmd_pcap_find_conv(&cap, a->pos[1]);
    } else {
        for (size_t i = 0; i < n && !c; i++)
            if (nr_flowtab_conn(cap.ft, i)->proto == IPPROTO_TCP)
                c = nr_flowtab_conn(cap.ft, i);
    }
    if (!c) {
        fprintf(stderr, "netrig pcap follow: %s: no conversation %s (%zu in the capture)\n",
                a->pos[0], a->npos > 1 ? a->pos[1] : "over TCP", n);
        nr_pktfile_free(&cap);
        return PCAP_EXIT_ERR;
    }
    if (a->json)
        follow_json(c, a->dir);
    else if (a->interleaved && a->mode != 'r')
        follow_interleaved(c, a->dir, a->mode);
    else
        follow_text(c, a->dir, a->mode);
    nr_pktfile_free(&cap);
    return rc ? PCAP_EXIT_ERR : PCAP_EXIT_OK;
}
