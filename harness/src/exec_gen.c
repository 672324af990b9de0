/* exec_gen.c - payloads made concrete: a template's bytes or a file's,
 * repeated, or the pattern (nr_pattern_byte), produced piece by piece at
 * any offset so a 64 MiB send or expect never holds it whole. */
#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, uint8_t **out, size_t *len, char *errbuf)
{
    struct stat sb;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return nr_seterr_errno(errbuf, errno, "open %s", path);
    if (fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1)))
        goto error;
    while (got < (size_t)sb.st_size) {
        ssize_t n = nr_read(fd, buf + got, (size_t)sb.st_size - got);
        if (n <= 0)
            goto error;
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
error:
    nr_seterr_errno(errbuf, errno ? errno : EIO, "read %s", path);
    free(buf);
    close(fd);
    return -1;
}

int exec_gen_init(struct exec_ctx *c, const struct nr_step *s, const struct nr_payload *p,
                  struct exec_gen *g)
{
    char errbuf[NR_ERRBUF_SIZE];
    size_t len = 0;

    memset(g, 0, sizeof(*g));
    g->kind = p->kind;
    if (p->kind == NR_PL_PATTERN) {
        g->total = p->count * (p->repeat ? p->repeat : 1);
        return 0;
    }
    if (p->kind == NR_PL_BYTES) {
        g->data = (uint8_t *)exec_expand(c, s, &p->tmpl, &len);
        if (!g->data)
            return -1;
    } else {
        char *path = exec_expand(c, s, &p->tmpl, NULL);
        int r = path ? read_file(path, &g->data, &len, errbuf) : -1;
        free(path);
        if (r < 0) {
            if (path)
                exec_fail(c, s, "%s", errbuf);
            return -1;
        }
    }
    g->dlen = len;
    g->total = (uint64_t)len * (p->repeat ? p->repeat : 1);
    return 0;
}

/* The 256 pattern bytes from i, a multiple of 256 (so i >> 8 is the same
 * for all): nr_pattern_byte's product advanced by addition, a loop of a
 * fixed count that the compiler vectorizes at -O2 (twice as fast as a
 * byte at a time, measured). */
static void pattern_block(uint64_t i, uint8_t *out)
{
    uint64_t x = i * NR_PATTERN_MUL;
    uint8_t hi = (uint8_t)(i >> 8);

    for (size_t j = 0; j < 256; j++, x += NR_PATTERN_MUL)
        out[j] = (uint8_t)(x >> 56) ^ hi;
}

void exec_gen_fill(const struct exec_gen *g, uint64_t pos, uint8_t *buf, size_t n)
{
    if (g->kind == NR_PL_PATTERN) {
        for (size_t i = 0; i < n;) {
            if ((pos + i) % 256 == 0 && n - i >= 256) {
                pattern_block(pos + i, buf + i);
                i += 256;
            } else {
                buf[i] = nr_pattern_byte(pos + i);
                i++;
            }
        }
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t at = (size_t)((pos + i) % g->dlen), k = g->dlen - at;
        if (k > n - i)
            k = n - i;
        memcpy(buf + i, g->data + at, k);
        i += k;
    }
}

void exec_gen_free(struct exec_gen *g)
{
    free(g->data);
    g->data = NULL;
}

