/* nr_pktfile.c - capture reading with offset-precise validation. */
#define _GNU_SOURCE
#include "nr_pktfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nr_cursor.h"
#include "nr_pcapng.h"

#define MAX_CAPLEN 262144u /* libpcap refuses larger records (max_snaplen_for_dlt) */
#define STDIO_BUF (256u << 10)

enum { MODE_GLOBAL, MODE_CLASSIC };

/* The byte source behind the stdio cookie, and the record walker. */
struct src {
    int fd;                  /* >= 0: read from fd */
    const uint8_t *mem;      /* else from memory */
    size_t memlen, mempos;
    uint64_t pos;            /* bytes handed to libpcap */
    uint64_t size;           /* total size when size_known */
    int size_known;
    int mode;
    int swapped;
    uint32_t snaplen;
    uint64_t rec_off;        /* offset of the next record header */
    uint8_t hdr[24];         /* global or record header being collected */
    size_t have;
    int failed;              /* err holds the message */
    uint64_t stop_at;        /* hand out no bytes from here on */
    uint8_t pre[4];          /* bytes read ahead to tell pcapng from pcap */
    size_t npre, prepos;
    uint64_t cur_off;        /* offset and caplen of the last record header */
    uint32_t cur_caplen;
    char err[NR_ERRBUF_SIZE];
};

static void src_fail(struct src *s, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void src_fail(struct src *s, uint64_t at, const char *fmt, ...)
{
    va_list ap;
    if (s->failed)
        return;
    s->failed = 1;
    s->stop_at = at;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

static uint32_t rd32(const uint8_t *p, int swapped)
{
    struct nr_cursor c;
    uint32_t v = 0;
    nr_cur_init(&c, p, 4);
    if (swapped)
        nr_cur_be32(&c, &v);
    else
        nr_cur_le32(&c, &v);
    return v;
}

static void global_header(struct src *s)
{
    uint32_t le = rd32(s->hdr, 0);

    s->mode = MODE_CLASSIC;
    if (le == 0xa1b2c3d4u || le == 0xa1b23c4du) {
        s->swapped = 0;
    } else if (le == 0xd4c3b2a1u || le == 0x4d3cb2a1u) {
        s->swapped = 1;
    } else {
        src_fail(s, 0, "bad magic 0x%08" PRIx32 " at offset 0: not a pcap or pcapng file", le);
        return;
    }
    s->snaplen = rd32(s->hdr + 16, s->swapped);
    s->rec_off = 24;
}

static void record_header(struct src *s)
{
    uint32_t caplen = rd32(s->hdr + 8, s->swapped);
    uint64_t off = s->rec_off;

    s->cur_off = off;
    s->cur_caplen = caplen;
    if (s->snaplen && caplen > s->snaplen)
        src_fail(s, off, "record at offset %" PRIu64 ": caplen %" PRIu32 " exceeds snaplen %" PRIu32,
                 off, caplen, s->snaplen);
    else if (caplen > MAX_CAPLEN)
        src_fail(s, off,
                 "record at offset %" PRIu64 ": caplen %" PRIu32 " exceeds libpcap's maximum of %u",
                 off, caplen, MAX_CAPLEN);
    else if (s->size_known && off + 16 + caplen > s->size)
        src_fail(s, off,
                 "record at offset %" PRIu64 ": caplen %" PRIu32 " but only %" PRIu64
                 " bytes left in the file (truncated record)",
                 off, caplen, s->size - off - 16);
    s->rec_off = off + 16 + caplen;
}

/* Walk the bytes [s->pos, s->pos + n) of buf through the header parser;
 * returns how many of them may be handed out. */
static size_t walk(struct src *s, const uint8_t *buf, size_t n)
{
    size_t i = 0;

    while (i < n && !s->failed) {
        uint64_t at = s->pos + i;
        size_t want, take;
        if (s->mode == MODE_CLASSIC && at < s->rec_off) {
            uint64_t skip = s->rec_off - at;
            i += skip < n - i ? (size_t)skip : n - i;
            continue;
        }
        want = s->mode == MODE_GLOBAL ? 24 : 16;
        take = want - s->have < n - i ? want - s->have : n - i;
        memcpy(s->hdr + s->have, buf + i, take);
        s->have += take;
        i += take;
        if (s->have < want)
            break;
        s->have = 0;
        if (s->mode == MODE_GLOBAL)
            global_header(s);
        else
            record_header(s);
    }
    if (s->failed && s->stop_at < s->pos + n)
        return s->stop_at > s->pos ? (size_t)(s->stop_at - s->pos) : 0;
    return n;
}

/* End of input: complain about a header or record cut short. */
static void at_eof(struct src *s)
{
    if (s->failed)
        return;
    if (s->mode == MODE_GLOBAL)
        src_fail(s, 0, "truncated global header: %" PRIu64 " of 24 bytes at offset 0", s->pos);
    else if (s->mode == MODE_CLASSIC && s->have)
        src_fail(s, s->rec_off, "record at offset %" PRIu64 ": truncated header (%zu of 16 bytes)",
                 s->rec_off, s->have);
    else if (s->mode == MODE_CLASSIC && s->pos < s->rec_off)
        src_fail(s, s->cur_off,
                 "record at offset %" PRIu64 ": caplen %" PRIu32 " but only %" PRIu64
                 " bytes left in the file (truncated record)",
                 s->cur_off, s->cur_caplen, s->pos - s->cur_off - 16);
}

/* Up to size bytes from the source (read-ahead bytes first); 0 at the
 * end, -1 on a read error. */
static ssize_t raw_read(struct src *s, uint8_t *buf, size_t size)
{
    ssize_t n;

    if (s->prepos < s->npre) {
        size_t k = s->npre - s->prepos < size ? s->npre - s->prepos : size;
        memcpy(buf, s->pre + s->prepos, k);
        s->prepos += k;
        n = k < size ? raw_read(s, buf + k, size - k) : 0;
        return n < 0 ? (ssize_t)k : (ssize_t)k + n;
    }
    if (s->fd >= 0) {
        do
            n = read(s->fd, buf, size);
        while (n < 0 && errno == EINTR);
        return n;
    }
    n = (ssize_t)(size < s->memlen - s->mempos ? size : s->memlen - s->mempos);
    memcpy(buf, s->mem + s->mempos, (size_t)n);
    s->mempos += (size_t)n;
    return n;
}

/* Exactly n bytes unless the input ends; returns how many were read, or
 * -1 on a read error. */
static ssize_t read_full(struct src *s, uint8_t *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = raw_read(s, buf + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ssize_t src_read(void *cookie, char *buf, size_t size)
{
    struct src *s = cookie;
    ssize_t n;
    size_t ok;

    if (s->failed && s->pos >= s->stop_at) {
        errno = EIO;
        return -1;
    }
    n = raw_read(s, (uint8_t *)buf, size);
    if (n < 0)
        return -1;
    if (n == 0) {
        at_eof(s);
        return 0;
    }
    ok = walk(s, (const uint8_t *)buf, (size_t)n);
    s->pos += ok;
    if (ok == 0) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)ok;
}

static void count(struct nr_capstats *st, int status, const struct nr_pkt *p)
{
    switch (status) {
    case NR_PKT_TCP: st->tcp++; break;
    case NR_PKT_UDP: st->udp++; break;
    case NR_PKT_SKIP_NONIP: st->nonip++; break;
    case NR_PKT_SKIP_L4: st->other_l4++; break;
    default: break;
    }
    if (p->fragment)
        st->fragments++;
    if (p->reason != NR_R_NONE) {
        st->reasons[p->reason]++;
        if (nr_pkt_reason_is_trunc(p->reason))
            st->truncated++;
        else
            st->malformed++;
    }
}

/* One frame of link type dlt: decode, count, track, observe.  Returns 0
 * or -1 (out of memory). */
static int frame(struct nr_pktfile *out, const struct nr_pktfile_opts *o, int dlt, int64_t ts,
                 const uint8_t *data, uint32_t caplen, uint32_t len)
{
    struct nr_pkt pkt;
    long conn = -1;
    int st, r;

    if (nr_pkt_dlt_supported(dlt)) {
        st = nr_pkt_decode(dlt, data, caplen, &pkt);
    } else { /* an interface of another link type (pcapng) */
        memset(&pkt, 0, sizeof(pkt));
        st = NR_PKT_SKIP_NONIP;
    }
    if (st == NR_PKT_FRAG) {
        r = nr_frag_add(out->frags, &pkt, ts);
        if (r < 0)
            return -1;
        if (r == NR_FRAG_DONE)
            st = nr_pkt_decode_l4(&pkt);
        else if (r == NR_FRAG_BAD)
            pkt.reason = NR_R_BAD_FRAG;
    }
    out->st.frames++;
    out->st.frame_bytes += len;
    count(&out->st, st, &pkt);
    if (st == NR_PKT_TCP || st == NR_PKT_UDP) {
        conn = nr_flowtab_add(out->ft, &pkt, ts, len);
        if (conn < 0)
            return -1;
    }
    if (o && o->fn)
        o->fn(o->ctx, ts, data, caplen, st, &pkt, conn);
    return 0;
}

/* pcapng's link types as DLT_ values (they differ only for raw IP). */
static int linktype_dlt(int lt)
{
    return lt == 101 ? DLT_RAW : lt;
}

/* A pcapng file, block by block, with nr_pcapng.  Returns 0, 1 (damaged:
 * errbuf names the block), or -1. */
static int run_pcapng(struct src *s, const struct nr_pktfile_opts *o, struct nr_pktfile *out,
                      const char *name, char *errbuf)
{
    struct nr_pcapng g = { 0 };
    struct nr_pcapng_pkt pk;
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t off = 0;
    char err[NR_ERRBUF_SIZE];
    int rc = -1, r, blocks = 0;

    out->pcapng = 1;
    out->dlt = -1;
    for (;; blocks++) {
        uint8_t hdr[12];
        uint32_t len;
        ssize_t n = read_full(s, hdr, sizeof(hdr));
        if (n == 0)
            break;
        if (n < 0) {
            nr_seterr_errno(errbuf, errno, "%s: read at offset %" PRIu64, name, off);
            goto out;
        }
        if (n < (ssize_t)sizeof(hdr)) {
            nr_seterr(errbuf, "%s: block at offset %" PRIu64 ": truncated header (%zd of 12 bytes)",
                      name, off, n);
            goto damaged;
        }
        if (nr_pcapng_block_len(&g, hdr, &len, err) < 0) {
            nr_seterr(errbuf, "%s: block at offset %" PRIu64 ": %s", name, off, err);
            goto damaged;
        }
        if (len > cap) {
            size_t ncap = cap ? cap : 65536;
            uint8_t *nb;
            while (ncap < len)
                ncap *= 2;
            if (!(nb = realloc(buf, ncap))) {
                nr_seterr(errbuf, "%s: out of memory", name);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf, hdr, sizeof(hdr));
        n = read_full(s, buf + 12, len - 12);
        if (n < 0) {
            nr_seterr_errno(errbuf, errno, "%s: read at offset %" PRIu64, name, off + 12);
            goto out;
        }
        if ((size_t)n < len - 12) {
            nr_seterr(errbuf, "%s: block at offset %" PRIu64 ": truncated (%zd of %u bytes)", name,
                      off, n + 12, len);
            goto damaged;
        }
        r = nr_pcapng_block(&g, buf, len, &pk, err);
        if (r < 0) {
            nr_seterr(errbuf, "%s: block at offset %" PRIu64 ": %s", name, off, err);
            goto damaged;
        }
        if (g.nifs && out->dlt < 0)
            out->dlt = linktype_dlt(g.ifs[0].dlt);
        if (r == 1 && frame(out, o, linktype_dlt(pk.dlt), pk.ts_ns, pk.data, pk.caplen, pk.len) < 0) {
            nr_seterr(errbuf, "%s: out of memory", name);
            goto out;
        }
        off += len;
    }
    rc = 0;
    goto out;
damaged:
    rc = blocks ? 1 : -1;
out:
    nr_pcapng_free(&g);
    free(buf);
    return rc;
}

/* A classic pcap file through libpcap, its headers checked by src_read.
 * Returns 0, 1 (damaged after the headers) or -1. */
static int run_classic(struct src *s, const struct nr_pktfile_opts *o, struct nr_pktfile *out,
                       const char *name, char *errbuf)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    cookie_io_functions_t io = { .read = src_read };
    struct pcap_pkthdr *h;
    const u_char *data;
    pcap_t *pc = NULL;
    FILE *fp;
    int rc = -1, r;

    fp = fopencookie(s, "r", io);
    if (!fp)
        return nr_seterr_errno(errbuf, errno, "%s: fopencookie", name);
    setvbuf(fp, NULL, _IOFBF, STDIO_BUF);
    pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pc) {
        fclose(fp);
        if (s->failed)
            return nr_seterr(errbuf, "%s: %s", name, s->err);
        if (s->pos < 24)
            at_eof(s);
        if (s->failed)
            return nr_seterr(errbuf, "%s: %s", name, s->err);
        return nr_seterr(errbuf, "%s: %s (at offset 0)", name, perr);
    }
    out->dlt = pcap_datalink(pc);
    if (!nr_pkt_dlt_supported(out->dlt)) {
        nr_seterr(errbuf, "%s: unsupported link type %d (%s)", name, out->dlt,
                  nr_pktfile_dlt_name(out->dlt));
        goto out;
    }
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
        if (frame(out, o, out->dlt, ts, data, h->caplen, h->len) < 0) {
            nr_seterr(errbuf, "%s: out of memory", name);
            goto out;
        }
    }
    rc = 0;
    if (s->failed) {
        nr_seterr(errbuf, "%s: %s", name, s->err);
        rc = 1;
    } else if (r == PCAP_ERROR) {
        nr_seterr(errbuf, "%s: %s (at offset %" PRIu64 ")", name, pcap_geterr(pc), s->pos);
        rc = 1;
    }
out:
    pcap_close(pc);
    return rc;
}

static int run(struct src *s, const struct nr_pktfile_opts *o, struct nr_pktfile *out,
               const char *name, char *errbuf)
{
    struct nr_flow_opts fo = { 0 };
    ssize_t n;
    int rc;

    if (o)
        fo = (struct nr_flow_opts){ o->keep_data, o->on_data, o->data_ctx };
    memset(out, 0, sizeof(*out));
    out->ft = nr_flowtab_new(&fo);
    out->frags = nr_frag_new();
    if (!out->ft || !out->frags) {
        rc = nr_seterr(errbuf, "%s: out of memory", name);
        goto out;
    }
    n = read_full(s, s->pre, sizeof(s->pre));
    if (n < 0) {
        rc = nr_seterr_errno(errbuf, errno, "%s", name);
        goto out;
    }
    s->npre = (size_t)n;
    if (n == 4 && rd32(s->pre, 0) == 0x0a0d0d0au)
        rc = run_pcapng(s, o, out, name, errbuf);
    else
        rc = run_classic(s, o, out, name, errbuf);
    if (rc == 1 && !(o && o->partial_ok))
        rc = -1;
    if (rc >= 0) {
        nr_frag_finish(out->frags);
        out->st.frag = *nr_frag_stats(out->frags);
        nr_flowtab_finish(out->ft);
    }
out:
    nr_frag_free(out->frags);
    out->frags = NULL;
    if (rc < 0) {
        nr_flowtab_free(out->ft);
        out->ft = NULL;
    }
    return rc;
}

int nr_pktfile_read_file(const char *path, const struct nr_pktfile_opts *o,
                         struct nr_pktfile *out, char *errbuf)
{
    struct src s = { .fd = -1 };
    struct stat stt;
    int rc, is_stdin = strcmp(path, "-") == 0;

    if (is_stdin) {
        s.fd = 0;
    } else if ((s.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        memset(out, 0, sizeof(*out));
        return nr_seterr_errno(errbuf, errno, "%s", path);
    }
    if (fstat(s.fd, &stt) == 0 && S_ISREG(stt.st_mode)) {
        s.size = (uint64_t)stt.st_size;
        s.size_known = 1;
        posix_fadvise(s.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    rc = run(&s, o, out, path, errbuf);
    if (!is_stdin) /* what it opened, even as descriptor 0 */
        close(s.fd);
    return rc;
}

int nr_pktfile_read_mem(const uint8_t *buf, size_t len, const struct nr_pktfile_opts *o,
                        struct nr_pktfile *out, char *errbuf)
{
    struct src s = { .fd = -1, .mem = buf, .memlen = len, .size = len, .size_known = 1 };
    static const uint8_t empty[1];

    if (!s.mem)
        s.mem = empty;
    return run(&s, o, out, "<memory>", errbuf);
}

void nr_pktfile_free(struct nr_pktfile *c)
{
    nr_flowtab_free(c->ft);
    c->ft = NULL;
}

const char *nr_pktfile_dlt_name(int dlt)
{
    const char *n = pcap_datalink_val_to_name(dlt);
    return n ? n : "unknown";
}
