/* cmd_help.c - `netrig help [scenario|pcap]`. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

/* harness/doc/scenario.md, embedded at build time (see the Makefile). */
extern const char nr_doc_scenario[];

static const char overview[] =
    "usage: netrig COMMAND [options]\n"
    "       netrig --version\n"
    "\n"
    "Commands:\n"
    "  run [options] PATH...     run scenario files/directories (netrig run --help)\n"
    "  pcap SUBCOMMAND FILE...   inspect captures: summary, follow, check, diff, seeds\n"
    "                            (netrig pcap --help)\n"
    "  help scenario             the scenario language reference\n"
    "\n"
    "Manual pages: netrig(1), netrig-pcap(1), netrig-scenario(5).\n";

int cmd_help(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "scenario") == 0) {
        fputs(nr_doc_scenario, stdout);
        return 0;
    }
    if (argc >= 2) {
        fprintf(stderr, "netrig help: no topic '%s' (topics: scenario)\n", argv[1]);
        return 2;
    }
    fputs(overview, stdout);
    return 0;
}
