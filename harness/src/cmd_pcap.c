/* cmd_pcap.c - `netrig pcap`: the usage text and the dispatch to the
 * subcommands (cmd_pcap_<name>.c), over cmd_pcap_common.c. */
#include "cmd_pcap.h"

#include <string.h>

#include "cmds.h"

static const char usage_text[] =
    "usage: netrig pcap SUBCOMMAND [--json] ...\n"
    "  summary FILE            conversations: endpoints, packets/bytes each way,\n"
    "                          duration, zeek conn state and history\n"
    "      --format zeek                        zeek's conn.log (TSV)\n"
    "  follow FILE [FLOW]      reassembled stream of a conversation; FLOW is an\n"
    "                          index from summary or ADDR:PORT-ADDR:PORT (default:\n"
    "                          the first TCP connection)\n"
    "      --ascii (default) | --hex | --raw    output form\n"
    "      --dir both|orig|resp                 directions shown (default both)\n"
    "      --interleaved                        each chunk with its time and\n"
    "                                           direction (tcpflow -c style)\n"
    "  check FILE              anomalies: tshark's TCP analysis flags per connection,\n"
    "                          RST, gaps, unfinished handshakes, truncated/malformed\n"
    "                          packets\n"
    "  diff A B                semantic comparison (ignores ports, sequence bases,\n"
    "                          timestamps)\n"
    "  seeds FILE DIR          one fuzz seed per conversation (client messages as\n"
    "                          records; --dir resp: each TCP server stream, raw)\n"
    "  ladder FILE [FLOW]      ladder diagram as SVG (-o FILE, --max-packets N,\n"
    "                          --from/--to SEC; netrig pcap ladder --help)\n"
    "exit: 0 ok/clean/equal, 1 anomalies (check) or differences (diff),\n"
    "      2 usage error or unreadable/malformed capture (message has the offset)\n"
    "reference: harness/doc/pcap.md\n";

static const struct {
    const char *name;
    int (*fn)(struct cmd_pcap_args *);
    int npos, minpos;
} subs[] = {
    { "summary", cmd_pcap_summary, 1, 1 },
    { "follow", cmd_pcap_follow, 2, 1 },
    { "check", cmd_pcap_check, 1, 1 },
    { "diff", cmd_pcap_diff, 2, 2 },
    { "seeds", cmd_pcap_seeds, 2, 2 },
};

int cmd_pcap(int argc, char **argv)
{
    struct cmd_pcap_args a;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? PCAP_EXIT_ERR : PCAP_EXIT_OK;
    }
    if (!strcmp(argv[1], "ladder")) /* options of its own */
        return cmd_pcap_ladder(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        for (int j = 2; j < argc; j++) {
            if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                fputs(usage_text, stdout);
                return PCAP_EXIT_OK;
            }
        }
        if (cmd_pcap_parse_args(argc - 1, argv + 1, &a, subs[i].npos) < 0)
            return PCAP_EXIT_ERR;
        if (a.npos < subs[i].minpos) {
            fprintf(stderr, "netrig pcap %s: missing arguments (see netrig pcap --help)\n",
                    subs[i].name);
            return PCAP_EXIT_ERR;
        }
        return subs[i].fn(&a);
    }
    fprintf(stderr, "netrig pcap: unknown subcommand '%s' (see netrig pcap --help)\n", argv[1]);
    return PCAP_EXIT_ERR;
}
