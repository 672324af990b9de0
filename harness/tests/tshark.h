/* tshark.h - tshark as the reference of the packet-analysis tests
 * (test_pcap_corpus, test_pcap_tshark, test_flow_tshark_cases): run it
 * with a time limit and read its answers (-T fields rows, follow,tcp,raw
 * blocks).  A start of tshark costs about a second on a loaded machine,
 * more than reading a few thousand frames, so a test asks for everything
 * it needs in one run: several -z follow,tcp,raw,N and -T fields together.
 * Header-only like pktgen.h: a test links only its own object file. */
#ifndef TSHARK_H
#define TSHARK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "nr_err.h"
#include "nr_proc.h"

#define TSHARK_MAX_ARGS 200
#define TSHARK_TIMEOUT_MS 120000

/* A fresh directory /tmp/PREFIX-XXXXXX for a test's captures and tshark's
 * answers, its name into dir (at least 64 bytes).  Returns 0 or -1. */
static inline int tshark_tmpdir(char *dir, const char *prefix)
{
    snprintf(dir, 64, "/tmp/%.40s-XXXXXX", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

/* Remove such a directory and everything in it.  Returns 0 or -1. */
static inline int tshark_tmpdir_remove(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%.100s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* 1 when tshark is on the PATH. */
static inline int tshark_available(void)
{
    return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* Run `tshark -r file ARGS...` (args NULL-terminated) with its stdout in
 * out_path and its stderr in out_path + ".err", for at most
 * TSHARK_TIMEOUT_MS.  Returns the output opened for reading (the caller
 * closes it), or NULL with errbuf set when tshark could not be started,
 * overran its time or exited with a status above max_exit (tshark exits 2
 * after printing what it read of a damaged capture). */
static inline FILE *tshark_run(const char *file, const char *out_path, const char *const *args,
                               int max_exit, char *errbuf)
{
    char *argv[TSHARK_MAX_ARGS + 4], err_path[512];
    struct nr_proc p;
    int n = 0;

    argv[n++] = (char *)"tshark";
    argv[n++] = (char *)"-r";
    argv[n++] = (char *)file;
    for (; args && *args && n < TSHARK_MAX_ARGS + 3; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    snprintf(err_path, sizeof(err_path), "%s.err", out_path);
    struct nr_spawn s = { .argv = argv, .stdout_path = out_path, .stderr_path = err_path,
                          .activation_fd = -1 };
    if (nr_proc_spawn(&s, &p, errbuf) < 0)
        return NULL;
    if (nr_proc_wait(&p, TSHARK_TIMEOUT_MS) != 1) {
        nr_proc_stop(&p, 100);
        nr_proc_release(&p);
        nr_seterr(errbuf, "tshark -r %s: no answer within %d ms", file, TSHARK_TIMEOUT_MS);
        return NULL;
    }
    nr_proc_release(&p);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) > max_exit) {
        nr_seterr(errbuf, "tshark -r %s: exit status %d (see %s)", file, p.status, err_path);
        return NULL;
    }
    return fopen(out_path, "r");
}

/* Split a -T fields row (tab-separated, newline ends it) in place into at
 * most max fields, empty ones included.  Returns the number of fields. */
static inline int tshark_fields(char *line, char **field, int max)
{
    int n = 0;

    line[strcspn(line, "\n")] = '\0';
    while (n < max) {
        field[n++] = line;
        line = strchr(line, '\t');
        if (!line)
            break;
        *line++ = '\0';
    }
    return n;
}

/* One follow,tcp,raw block: the bytes tshark reassembled per node. */
struct tshark_follow {
    long stream;          /* tcp.stream of its "Filter: tcp.stream eq N" line */
    char node[2][96];     /* "ADDR:PORT" of node 0 (the first sender) and node 1 */
    uint8_t *data[2];     /* malloc'd */
    size_t len[2];
};

static inline int tshark_hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Append the hex digits of s to node's bytes; returns 0 or -1 (memory). */
static inline int tshark_follow_hex(struct tshark_follow *b, int node, const char *s)
{
    size_t n = 0;
    uint8_t *d;

    while (tshark_hexval(s[2 * n]) >= 0 && tshark_hexval(s[2 * n + 1]) >= 0)
        n++;
    if (!(d = realloc(b->data[node], b->len[node] + n + 1)))
        return -1;
    b->data[node] = d;
    for (size_t i = 0; i < n; i++)
        d[b->len[node]++] = (uint8_t)(tshark_hexval(s[2 * i]) * 16 + tshark_hexval(s[2 * i + 1]));
    return 0;
}

/* Release what tshark_follows returned. */
static inline void tshark_follows_free(struct tshark_follow *v, long n)
{
    for (long i = 0; i < n; i++) {
        free(v[i].data[0]);
        free(v[i].data[1]);
    }
    free(v);
}

/* Every follow,tcp,raw block of tshark's output f (other lines are
 * skipped).  Returns how many, with *out a malloc'd array (free it with
 * tshark_follows_free), or -1 when out of memory. */
static inline long tshark_follows(FILE *f, struct tshark_follow **out)
{
    struct tshark_follow *v = NULL, *b = NULL;
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    int in_data = 0, rc = 0;

    while (rc == 0 && getline(&line, &cap, f) > 0) {
        if (strncmp(line, "Follow: tcp,raw", 15) == 0) {
            struct tshark_follow *nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
            if (!nv) {
                rc = -1;
                break;
            }
            v = nv;
            b = &v[n++];
            memset(b, 0, sizeof(*b));
            b->stream = -1;
            in_data = 0;
        } else if (!b) {
            continue;
        } else if (strncmp(line, "Filter: tcp.stream eq ", 22) == 0) {
            b->stream = strtol(line + 22, NULL, 10);
        } else if (strncmp(line, "Node ", 5) == 0 && (line[5] == '0' || line[5] == '1')) {
            int k = line[5] - '0';
            snprintf(b->node[k], sizeof(b->node[k]), "%.*s", (int)strcspn(line + 8, "\n"),
                     line + 8);
            in_data = k == 1;
        } else if (line[0] == '=') {
            in_data = 0;
            b = NULL;
        } else if (in_data) {
            rc = tshark_follow_hex(b, line[0] == '\t', line + (line[0] == '\t'));
        }
    }
    free(line);
    *out = rc < 0 ? NULL : v;
    if (rc < 0)
        tshark_follows_free(v, n);
    return rc < 0 ? -1 : n;
}

/* The block of tcp.stream `stream`, or NULL. */
static inline const struct tshark_follow *tshark_follow_of(const struct tshark_follow *v, long n,
                                                           long stream)
{
    for (long i = 0; i < n; i++)
        if (v[i].stream == stream)
            return &v[i];
    return NULL;
}

#endif
