/* cmd_pcap_ladder.c - `netrig pcap ladder`: the ladder diagram of a capture
 * as a standalone SVG file. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_pcap.h"
#include "ladder.h"

static const char ladder_usage[] =
    "usage: netrig pcap ladder FILE [FLOW] [options]\n"
    "The ladder (sequence) diagram of a capture as SVG: one lane per endpoint, one\n"
    "arrow per packet (flags, relative seq/ack, length; payload on hover), bursts of\n"
    "data as bands, RST, retransmissions, zero windows and gaps coloured.\n"
    "FLOW: only that conversation (an index from `netrig pcap summary`, or\n"
    "ADDR:PORT-ADDR:PORT).\n"
    "  -o, --output FILE     write the SVG there (default: standard output)\n"
    "  -n, --max-packets N   draw at most N arrows and bands (default 5000)\n"
    "      --max-lanes N     lanes before the rest share one (default 16)\n"
    "      --from SEC        start SEC seconds after the first packet\n"
    "      --to SEC          end SEC seconds after the first packet\n"
    "      --steps LOG       a scenario's steps.log: lane names and step lines\n"
    "                        (default: steps.log beside FILE, when there is one)\n"
    "      --no-steps        ignore any steps.log\n"
    "exit: 0 written, 2 usage error or unreadable/malformed capture\n";

/* The step log beside the capture (dir/steps.log), or NULL: malloc'd. */
static char *log_beside(const char *capture)
{
    const char *slash = strrchr(capture, '/');
    char *p;

    if (asprintf(&p, "%.*ssteps.log", slash ? (int)(slash - capture + 1) : 0, capture) < 0)
        return NULL;
    return p;
}

static int parse_seconds(const char *s, int64_t *ns)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || v < 0 || v > 1e9)
        return -1;
    *ns = (int64_t)(v * 1e9);
    return 0;
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (end == s || *end || *s == '-' || v == 0 || v > INT_MAX)
        return -1;
    *out = v;
    return 0;
}

int cmd_pcap_ladder(int argc, char **argv)
{
    enum { O_FROM = 256, O_TO, O_STEPS, O_NOSTEPS, O_LANES };
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'o' }, { "max-packets", required_argument, NULL, 'n' },
        { "max-lanes", required_argument, NULL, O_LANES }, { "from", required_argument, NULL, O_FROM },
        { "to", required_argument, NULL, O_TO },   { "steps", required_argument, NULL, O_STEPS },
        { "no-steps", no_argument, NULL, O_NOSTEPS }, { "help", no_argument, NULL, 'h' }, { 0 } };
    struct nr_ladder_opts o = { 0 };
    struct nr_ladder_log log = { 0 };
    struct nr_ladder l;
    const char *out = NULL, *steps = NULL, *cap;
    char errbuf[NR_ERRBUF_SIZE], *beside = NULL, *end;
    int opt, nosteps = 0, rc = PCAP_EXIT_ERR, have_log = 0;
    uint8_t *buf = NULL;
    size_t len;
    FILE *f = NULL;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:n:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'n': if (parse_count(optarg, &o.max_events) < 0) goto bad; break;
        case O_LANES: if (parse_count(optarg, &o.max_lanes) < 0) goto bad; break;
        case O_FROM: if (parse_seconds(optarg, &o.from_ns) < 0) goto bad; break;
        case O_TO: if (parse_seconds(optarg, &o.to_ns) < 0 || o.to_ns == 0) goto bad; break;
        case O_STEPS: steps = optarg; break;
        case O_NOSTEPS: nosteps = 1; break;
        case 'h': fputs(ladder_usage, stdout); return PCAP_EXIT_OK;
        default: fputs(ladder_usage, stderr); return PCAP_EXIT_ERR;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        fprintf(stderr, "netrig pcap ladder: %s\n%s",
                optind >= argc ? "no capture file given" : "too many arguments", ladder_usage);
        return PCAP_EXIT_ERR;
    }
    if (o.to_ns && o.to_ns <= o.from_ns) {
        fprintf(stderr, "netrig pcap ladder: --to must be after --from\n");
        return PCAP_EXIT_ERR;
    }
    cap = argv[optind];
    if (argc - optind == 2) {
        const char *flow = argv[optind + 1];
        unsigned long idx = strtoul(flow, &end, 10);
        if (*flow && !*end && *flow != '-' && idx <= UINT32_MAX)
            o.has_flow = 1, o.flow_index = (uint32_t)idx;
        else if (strchr(flow, '-'))
            o.flow_spec = flow;
        else {
            fprintf(stderr, "netrig pcap ladder: FLOW '%s' is neither an index nor "
                            "ADDR:PORT-ADDR:PORT\n", flow);
            return PCAP_EXIT_ERR;
        }
    }
    if (!nosteps && !steps && strcmp(cap, "-") != 0)
        steps = beside = log_beside(cap);
    if (!nosteps && steps && (buf = ladder_slurp(steps, &len)) != NULL) {
        have_log = nr_ladder_log_parse(buf, len, &log) == 0;
        free(buf);
    } else if (!nosteps && steps && steps != beside) {
        fprintf(stderr, "netrig pcap ladder: %s: %s\n", steps, strerror(errno));
        goto done;
    }
    if (nr_ladder_read(cap, NULL, 0, &o, have_log ? &log : NULL, &l, errbuf) < 0) {
        fprintf(stderr, "netrig pcap: %s\n", errbuf);
        goto done;
    }
    f = NULL;
    if ((o.flow_spec || o.has_flow) && l.conns == 0)
        fprintf(stderr, "netrig pcap ladder: no conversation %s in %s\n", argv[optind + 1], cap);
    else if (!(f = out ? fopen(out, "we") : stdout))
        fprintf(stderr, "netrig pcap ladder: cannot write %s: %s\n", out, strerror(errno));
    if (f) {
        ladder_svg(f, &l, have_log ? &log : NULL, 1);
        rc = fflush(f) == 0 && !ferror(f) ? PCAP_EXIT_OK : PCAP_EXIT_ERR;
        if (out && fclose(f) != 0)
            rc = PCAP_EXIT_ERR;
        if (rc != PCAP_EXIT_OK)
            fprintf(stderr, "netrig pcap ladder: cannot write %s\n", out ? out : "the output");
    }
    nr_ladder_free(&l);
done:
    nr_ladder_log_free(&log);
    free(beside);
    return rc;
bad:
    fprintf(stderr, "netrig pcap ladder: bad value '%s'\n%s", optarg, ladder_usage);
    return PCAP_EXIT_ERR;
}
