/* pcap.c - fuzz harness for the capture reader and analyser: the input is
 * a pcap or pcapng file in memory, read with stream data kept (TCP
 * reassembly, as `netrig pcap follow/seeds` do), then every connection's
 * state is described.
 *
 * Oracle: what `follow` prints agrees with what `summary` counts
 * (harness/doc/pcap.md, Reassembly), per connection and direction:
 *   - the kept data chunks are in stream order: each starts where the
 *     direction's previous one ended, and together they are the kept
 *     stream (its length);
 *   - TCP: the data bytes are the bytes reassembly delivered and the gap
 *     chunks the bytes it skipped, so data + gaps is the stream size; and
 *     no more bytes were delivered than the payload counter saw (it counts
 *     retransmissions and RST data too, never the missing bytes of a gap);
 *   - UDP: one data chunk per packet, their bytes within the payload
 *     counter (a truncated frame keeps only its captured part);
 *   - TCP: every chunk (data, gap, FIN) sits at its stream offset: the data
 *     and gap bytes of its direction before it.
 * A damaged capture is read up to the damage (partial_ok), as `summary`
 * does. */
#include <stdint.h>

#include "lib/fz_oracle.h"
#include "nr_pktfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conn(const struct nr_conn *k)
{
    uint64_t data[2] = { 0, 0 }, gaps[2] = { 0, 0 }, nchunks[2] = { 0, 0 };

    for (size_t i = 0; i < k->nchunks; i++) {
        const struct nr_chunk *ch = &k->chunks[i];
        int d = ch->dir & 1;

        if (k->proto == IPPROTO_TCP && ch->soff != data[d] + gaps[d])
            fz_fail("pcap", "#%u dir %d: chunk %zu (kind %d) at stream offset %llu, after %llu "
                    "bytes", k->index, d, i, ch->kind, (unsigned long long)ch->soff,
                    (unsigned long long)(data[d] + gaps[d]));
        if (ch->kind == NR_CHUNK_DATA) {
            if (ch->off != data[d])
                fz_fail("pcap", "#%u dir %d: data chunk %zu at offset %llu, stream at %llu",
                        k->index, d, i, (unsigned long long)ch->off,
                        (unsigned long long)data[d]);
            data[d] += ch->len;
            nchunks[d]++;
        } else if (ch->kind == NR_CHUNK_GAP) {
            gaps[d] += ch->len;
        }
    }
    for (int d = 0; d < 2; d++) {
        if (data[d] != k->stream[d].len)
            fz_fail("pcap", "#%u dir %d: chunks hold %llu data bytes, the stream %zu", k->index,
                    d, (unsigned long long)data[d], k->stream[d].len);
        if (k->proto == IPPROTO_TCP) {
            if (data[d] != k->rs[d].delivered || gaps[d] != k->rs[d].gap_bytes ||
                data[d] + gaps[d] != nr_conn_stream_size(k, d))
                fz_fail("pcap", "#%u dir %d: follow has %llu data + %llu gap bytes, summary "
                        "%llu delivered + %llu gap bytes (stream size %llu)", k->index, d,
                        (unsigned long long)data[d], (unsigned long long)gaps[d],
                        (unsigned long long)k->rs[d].delivered,
                        (unsigned long long)k->rs[d].gap_bytes,
                        (unsigned long long)nr_conn_stream_size(k, d));
        } else if (nchunks[d] != k->pkts[d]) {
            fz_fail("pcap", "#%u dir %d: %llu datagrams followed, %llu packets counted",
                    k->index, d, (unsigned long long)nchunks[d],
                    (unsigned long long)k->pkts[d]);
        }
        if (data[d] > k->payload[d])
            fz_fail("pcap", "#%u dir %d: %llu stream bytes, but only %llu payload bytes counted",
                    k->index, d, (unsigned long long)data[d],
                    (unsigned long long)k->payload[d]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nr_pktfile_opts o = { .keep_data = 1, .partial_ok = 1 };
    char errbuf[NR_ERRBUF_SIZE], ep[128];
    struct nr_pktfile c;

    if (nr_pktfile_read_mem(data, size, &o, &c, errbuf) < 0)
        return 0;
    for (size_t i = 0; c.ft && i < nr_flowtab_count(c.ft); i++) {
        const struct nr_conn *k = nr_flowtab_conn(c.ft, i);

        nr_conn_state(k);
        nr_conn_zeek_size(k, 0);
        nr_conn_zeek_size(k, 1);
        nr_conn_endpoint(k, 1, ep, sizeof(ep));
        check_conn(k);
    }
    nr_pktfile_free(&c);
    return 0;
}
