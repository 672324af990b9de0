/* netrig - network protocol test harness: command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    { "run", cmd_run },
    { "pcap", cmd_pcap },
    { "help", cmd_help },
};

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
        printf("netrig %s\n", netrig_version);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1) ? 2 : (argc < 2 ? 2 : 0);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "netrig: unknown command '%s' (try 'netrig help')\n", argv[1]);
    return 2;
}
