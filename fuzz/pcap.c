/* pcap.c - fuzz harness for the capture reader and analyser: the input is
 * a pcap or pcapng file in memory, read with stream data kept (TCP
 * reassembly, as `netrig pcap follow/seeds` do), then every connection's
 * state is described. */
#include <stdint.h>

#include "nr_pktfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nr_capture_opts o = { .keep_data = 1 };
    char errbuf[NR_ERRBUF_SIZE], ep[128];
    struct nr_capture c;

    if (nr_capture_read_mem(data, size, &o, &c, errbuf) < 0)
        return 0;
    for (size_t i = 0; c.ft && i < nr_flowtab_count(c.ft); i++) {
        const struct nr_conn *k = nr_flowtab_conn(c.ft, i);

        nr_conn_state(k);
        nr_conn_stream_size(k, 0);
        nr_conn_endpoint(k, 1, ep, sizeof(ep));
    }
    nr_capture_free(&c);
    return 0;
}
