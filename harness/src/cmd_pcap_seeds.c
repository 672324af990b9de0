/* cmd_pcap_seeds.c - `netrig pcap seeds FILE DIR`: fuzz seeds.
 *
 * One file per conversation whose client sent anything, named
 * <basename of FILE without .pcap/.pcapng>-<conversation index>, holding
 * records [u8 conn_id][u8 action][u16 BE len][len bytes] with conn_id 0:
 * action 0 send (payloads > 65535 split), 1 half-close (the client's FIN),
 * 3 wait (after each client burst the server answered), and a final
 * 2 close. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_pcap.h"

enum { ACT_SEND = 0, ACT_SHUT = 1, ACT_CLOSE = 2, ACT_WAIT = 3 };

struct seedw {
    FILE *f;
    unsigned records;
    uint64_t bytes;
    int err;
};

static void rec(struct seedw *w, int action, const uint8_t *p, size_t len)
{
    uint8_t h[4] = { 0, (uint8_t)action, (uint8_t)(len >> 8), (uint8_t)len };
    if (fwrite(h, 1, 4, w->f) != 4 || (len && fwrite(p, 1, len, w->f) != len))
        w->err = 1;
    w->records++;
    w->bytes += len;
}

static void send_all(struct seedw *w, const uint8_t *p, uint64_t len)
{
    do {
        size_t n = len > 65535 ? 65535 : (size_t)len;
        rec(w, ACT_SEND, p, n);
        p += n;
        len -= n;
    } while (len);
}

static int client_sent(const struct nr_conn *c)
{
    for (size_t i = 0; i < c->nchunks; i++)
        if (c->chunks[i].dir == 0 && c->chunks[i].kind == NR_CHUNK_DATA)
            return 1;
    return 0;
}

static void write_seed(struct seedw *w, const struct nr_conn *c)
{
    int pending = 0;

    for (size_t i = 0; i < c->nchunks; i++) {
        const struct nr_chunk *k = &c->chunks[i];
        if (k->dir == 0 && k->kind == NR_CHUNK_DATA) {
            send_all(w, c->stream[0].data + k->off, k->len);
            pending = 1;
        } else if (k->dir == 0 && k->kind == NR_CHUNK_FIN) {
            rec(w, ACT_SHUT, NULL, 0);
            pending = 1;
        } else if (k->dir == 1 && k->kind == NR_CHUNK_DATA && pending) {
            rec(w, ACT_WAIT, NULL, 0);
            pending = 0;
        }
    }
    rec(w, ACT_CLOSE, NULL, 0);
}

static void base_name(const char *path, char *out, size_t outlen)
{
    const char *b = strrchr(path, '/'), *dot;
    size_t n;

    b = b ? b + 1 : path;
    dot = strrchr(b, '.');
    if (dot && (!strcmp(dot, ".pcap") || !strcmp(dot, ".pcapng") || !strcmp(dot, ".cap")))
        n = (size_t)(dot - b);
    else
        n = strlen(b);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

int cmd_pcap_seeds(struct cmd_pcap_args *a)
{
    struct nr_pktfile cap;
    char base[128], path[4096];
    size_t n, written = 0;
    int rc = PCAP_EXIT_OK;

    if (mkdir(a->pos[1], 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "netrig pcap seeds: %s: %s\n", a->pos[1], strerror(errno));
        return PCAP_EXIT_ERR;
    }
    if (cmd_pcap_load(a->pos[0], 1, &cap) < 0)
        return PCAP_EXIT_ERR;
    base_name(a->pos[0], base, sizeof(base));
    n = nr_flowtab_count(cap.ft);
    if (a->json)
        fputs("{\"seeds\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap.ft, i);
        struct seedw w = { 0 };
        int raw = a->dir == 1; /* --dir resp: the server's byte stream, raw */
        if (raw ? c->proto != IPPROTO_TCP || c->stream[1].len == 0 : !client_sent(c))
            continue;
        snprintf(path, sizeof(path), "%s/%s-%zu", a->pos[1], base, i);
        if (!(w.f = fopen(path, "wb"))) {
            fprintf(stderr, "netrig pcap seeds: %s: %s\n", path, strerror(errno));
            rc = PCAP_EXIT_ERR;
            break;
        }
        if (raw) {
            w.err = fwrite(c->stream[1].data, 1, c->stream[1].len, w.f) != c->stream[1].len;
            w.bytes = c->stream[1].len;
        } else {
            write_seed(&w, c);
        }
        if (fclose(w.f) != 0 || w.err) {
            fprintf(stderr, "netrig pcap seeds: %s: write failed\n", path);
            rc = PCAP_EXIT_ERR;
            break;
        }
        if (a->json) {
            printf("%s{\"file\":", written ? "," : "");
            cmd_pcap_json_str(stdout, path, strlen(path));
            printf(",\"conversation\":%zu,\"proto\":\"%s\",\"records\":%u,\"bytes\":%" PRIu64 "}",
                   i, cmd_pcap_conv_proto(c), w.records, w.bytes);
        } else {
            printf("%s: %s conversation %zu, %u records, %" PRIu64 " bytes\n", path,
                   cmd_pcap_conv_proto(c), i, w.records, w.bytes);
        }
        written++;
    }
    if (a->json)
        printf("],\"count\":%zu}\n", written);
    nr_pktfile_free(&cap);
    return rc;
}
