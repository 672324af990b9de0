/* cmds.h - netrig's subcommands.  Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status. */
#ifndef CMDS_H
#define CMDS_H

/* netrig run [options] PATHS...: run scenario files and directories. */
int cmd_run(int argc, char **argv);

/* netrig pcap SUBCOMMAND ...: summary, follow, check, diff, seeds. */
int cmd_pcap(int argc, char **argv);

/* netrig help [scenario]: usage, or the scenario language reference. */
int cmd_help(int argc, char **argv);

/* netrig's version: `git describe` of the tree it was built from, or the
 * VERSION file of a release (generated into the build, see the Makefile). */
extern const char netrig_version[];

#endif
