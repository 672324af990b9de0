/* cmd_pcap.h - the `netrig pcap` subcommands and what they share
 * (cmd_pcap_common.c). */
#ifndef CMD_PCAP_H
#define CMD_PCAP_H

#include <stdio.h>

#include "nr_pktfile.h"

/* Exit statuses of every pcap subcommand. */
#define PCAP_EXIT_OK 0
#define PCAP_EXIT_FOUND 1 /* check: anomalies; diff: differences */
#define PCAP_EXIT_ERR 2   /* usage, unreadable or malformed file */

/* Options common to the subcommands, parsed by cmd_pcap_parse_args. */
struct cmd_pcap_args {
    int json;
    int mode;            /* follow: 'a' ascii, 'x' hex, 'r' raw */
    int dir;             /* follow: -1 both, 0 orig, 1 resp */
    int zeek;            /* summary: --format zeek (conn.log TSV) */
    int interleaved;     /* follow: both directions in time order, tcpflow -c style */
    const char *pos[3];  /* positional arguments */
    int npos;
};

/* Parse argv[1..] of a subcommand (argv[0] is its name).  Returns 0, or -1
 * after printing a usage error to stderr. */
int cmd_pcap_parse_args(int argc, char **argv, struct cmd_pcap_args *a, int maxpos);

/* Read path into *cap (keep_data as given); on error print it to stderr
 * ("netrig pcap: FILE: record at offset N: ...").  Returns 0 / -1. */
int cmd_pcap_load(const char *path, int keep_data, struct nr_pktfile *cap);

/* Same, but a capture damaged after its headers is loaded up to the damage:
 * returns 1 after printing the error (the caller prints what was read and
 * exits PCAP_EXIT_ERR; *cap is to be freed). */
int cmd_pcap_load_partial(const char *path, int keep_data, struct nr_pktfile *cap);

/* Write s[0..len) as a JSON string literal (quotes included). */
void cmd_pcap_json_str(FILE *f, const char *s, size_t len);

/* Write {"idx_key":idx (null when < 0),"k1":"v1","k2":"v2"}. */
void cmd_pcap_json_record(FILE *f, const char *idx_key, long idx, const char *k1, const char *v1,
                 const char *k2, const char *v2);

/* Write a conversation's JSON object (no trailing newline). */
void cmd_pcap_json_conv(FILE *f, const struct nr_conn *c);

/* Write the capture statistics as a JSON object. */
void cmd_pcap_json_stats(FILE *f, const struct nr_pktfile *cap);

/* "tcp"/"udp". */
const char *cmd_pcap_conv_proto(const struct nr_conn *c);

/* Find a conversation by index ("3") or "ADDR:PORT-ADDR:PORT" (either
 * order).  Returns NULL when none matches. */
struct nr_conn *cmd_pcap_find_conv(const struct nr_pktfile *cap, const char *spec);

/* netrig pcap summary FILE: the conversations table. Returns the exit status. */
int cmd_pcap_summary(struct cmd_pcap_args *a);
/* netrig pcap check FILE: anomalies; 1 when there is any. */
int cmd_pcap_check(struct cmd_pcap_args *a);
/* netrig pcap follow FILE [FLOW]: a reassembled conversation. */
int cmd_pcap_follow(struct cmd_pcap_args *a);
/* netrig pcap diff A B: semantic comparison; 1 when they differ. */
int cmd_pcap_diff(struct cmd_pcap_args *a);
/* netrig pcap seeds FILE DIR: fuzz seeds from each conversation. */
int cmd_pcap_seeds(struct cmd_pcap_args *a);
/* netrig pcap ladder FILE [FLOW] [options] (argv[0] is "ladder"): the
 * ladder diagram as SVG (cmd_pcap_ladder.c). */
int cmd_pcap_ladder(int argc, char **argv);

#endif
