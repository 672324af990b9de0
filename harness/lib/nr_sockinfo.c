/* nr_sockinfo.c - listening sockets from /proc/net and /proc/PID/fd. */
#define _GNU_SOURCE
#include "nr_sockinfo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nr_net.h"
#include "nr_proc.h"

#define TCP_LISTEN 0x0A
#define UDP_UNCONNECTED 0x07 /* TCP_CLOSE: bound, no peer */

/* A growable set of numbers (pids, inodes). */
struct numset {
    unsigned long *v;
    size_t n, cap;
};

static int numset_add(struct numset *s, unsigned long x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        unsigned long *nv = realloc(s->v, cap * sizeof(*nv));
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static int numset_has(const struct numset *s, unsigned long x)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x)
            return 1;
    return 0;
}

/* owner and its descendants, from every /proc/PID/stat's parent. */
static int process_tree(pid_t owner, struct numset *tree)
{
    struct numset pid = { 0 }, ppid = { 0 };
    struct dirent *e;
    DIR *d = opendir("/proc");
    size_t before;
    int r = -1;

    if (!d || numset_add(tree, (unsigned long)owner) < 0)
        goto out;
    while ((e = readdir(d))) {
        pid_t p = (pid_t)atoi(e->d_name), pp = p > 0 ? nr_proc_parent(p) : -1;
        if (pp <= 0)
            continue;
        if (numset_add(&pid, (unsigned long)p) < 0 || numset_add(&ppid, (unsigned long)pp) < 0)
            goto out;
    }
    do { /* add children of members until nothing changes */
        before = tree->n;
        for (size_t i = 0; i < pid.n; i++)
            if (numset_has(tree, ppid.v[i]) && !numset_has(tree, pid.v[i]) &&
                numset_add(tree, pid.v[i]) < 0)
                goto out;
    } while (tree->n != before);
    r = 0;
out:
    if (d)
        closedir(d);
    free(pid.v);
    free(ppid.v);
    return r;
}

/* Socket inodes the processes in tree hold open. */
static int socket_inodes(const struct numset *tree, struct numset *inodes)
{
    for (size_t i = 0; i < tree->n; i++) {
        char path[64], link[64];
        struct dirent *e;
        DIR *d;
        snprintf(path, sizeof(path), "/proc/%lu/fd", tree->v[i]);
        if (!(d = opendir(path)))
            continue; /* gone, or not ours to read */
        while ((e = readdir(d))) {
            char fdpath[400];
            ssize_t n;
            unsigned long ino;
            snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
            n = readlink(fdpath, link, sizeof(link) - 1);
            if (n <= 0)
                continue;
            link[n] = '\0';
            if (sscanf(link, "socket:[%lu]", &ino) == 1 && numset_add(inodes, ino) < 0) {
                closedir(d);
                return -1;
            }
        }
        closedir(d);
    }
    return 0;
}

/* The client's view of a bound address: wildcards become loopback. */
static void client_addr(int v6, const uint8_t *raw, int port, char *out, size_t outlen)
{
    /* zero, so the fields not set below (flow info, scope id) are 0 */
    struct sockaddr_storage ss = { 0 };

    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, raw, 16);
        if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
            a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, raw, 4);
        if (a->sin_addr.s_addr == htonl(INADDR_ANY))
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons((uint16_t)port);
    }
    nr_addr_format((struct sockaddr *)&ss, out, outlen);
}

/* "0100007F" (the kernel prints each 32-bit word of the address as a host
 * order number) into raw bytes.  Returns 0 / -1. */
static int parse_hex_addr(const char *hex, uint8_t *raw, size_t rawlen)
{
    if (strlen(hex) != 2 * rawlen)
        return -1;
    for (size_t w = 0; w < rawlen / 4; w++) {
        uint32_t v;
        /* 8 of the 2 * rawlen hex digits scan_table matched: no terminator needed */
        if (sscanf(hex + 8 * w, "%8" SCNx32, &v) != 1)
            return -1;
        memcpy(raw + 4 * w, &v, 4);
    }
    return 0;
}

/* Scan one /proc/net table for a socket in state `want`: bound to port, or
 * (port 0) one of inodes.  Returns 1 found (address in out), 0 not, -1. */
static int scan_table(const char *table, int v6, int want, int port, const struct numset *inodes,
                      char *out, size_t outlen)
{
    char line[512], hex[40];
    unsigned lport, st;
    unsigned long ino;
    uint8_t raw[16];
    FILE *f = fopen(table, "re");
    int found = 0;

    if (!f)
        return errno == ENOENT ? 0 : -1; /* no IPv6 in this kernel */
    if (!fgets(line, sizeof(line), f)) { /* header */
        fclose(f);
        return 0;
    }
    while (!found && fgets(line, sizeof(line), f)) {
        if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*u %*u %lu",
                   hex, &lport, &st, &ino) != 4 || (int)st != want || lport == 0)
            continue;
        if (port > 0 ? (int)lport != port : !numset_has(inodes, ino))
            continue;
        if (parse_hex_addr(hex, raw, v6 ? 16 : 4) < 0)
            continue;
        client_addr(v6, raw, (int)lport, out, outlen);
        found = 1;
    }
    fclose(f);
    return found;
}

int nr_sock_find_server(int port, pid_t owner, char *out, size_t outlen, char *errbuf)
{
    static const struct {
        const char *path;
        int v6, state;
    } tables[] = { { "/proc/net/tcp", 0, TCP_LISTEN },      { "/proc/net/tcp6", 1, TCP_LISTEN },
                   { "/proc/net/udp", 0, UDP_UNCONNECTED }, { "/proc/net/udp6", 1, UDP_UNCONNECTED } };
    struct numset tree = { 0 }, inodes = { 0 };
    int r = 0;

    if (port == 0 && (process_tree(owner, &tree) < 0 || socket_inodes(&tree, &inodes) < 0)) {
        r = nr_seterr_errno(errbuf, errno ? errno : ENOMEM, "cannot list the sockets of pid %d",
                            (int)owner);
        goto out;
    }
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && r == 0; i++) {
        r = scan_table(tables[i].path, tables[i].v6, tables[i].state, port, &inodes, out, outlen);
        if (r < 0)
            nr_seterr_errno(errbuf, errno, "cannot read %s", tables[i].path);
    }
out:
    free(tree.v);
    free(inodes.v);
    return r;
}
