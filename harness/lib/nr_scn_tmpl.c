/* nr_scn_tmpl.c - scenario templates: building, freeing, expanding. */
#include "nr_scn.h"
#include "nr_scn_lex.h"

#include <stdlib.h>
#include <string.h>

#include "nr_err.h"

int nr_scn_grow(void **v, size_t n, size_t sz)
{
    void *nv;
    size_t cap;

    if (n != 0 && (n & (n - 1)) != 0)
        return 0; /* n is not a power of two: room is left */
    cap = n ? n * 2 : 1;
    if (cap < n || cap > SIZE_MAX / sz)
        return -1;
    nv = realloc(*v, cap * sz);
    if (!nv)
        return -1;
    *v = nv;
    return 0;
}

/* Append a segment owning a NUL-terminated copy of b[0..n). */
static int add_seg(struct nr_tmpl *t, int is_var, const void *b, size_t n)
{
    struct nr_seg *s;
    uint8_t *d;

    if (n == SIZE_MAX || nr_scn_grow((void **)&t->segs, t->nsegs, sizeof(*t->segs)) < 0)
        return -1;
    d = malloc(n + 1);
    if (!d)
        return -1;
    if (n)
        memcpy(d, b, n);
    d[n] = 0;
    s = &t->segs[t->nsegs++];
    s->is_var = is_var;
    s->data = d;
    s->len = n;
    return 0;
}

int nr_tmpl_add_lit(struct nr_tmpl *t, const uint8_t *b, size_t n)
{
    struct nr_seg *last = t->nsegs ? &t->segs[t->nsegs - 1] : NULL;
    uint8_t *d;

    if (!last || last->is_var)
        return add_seg(t, 0, b, n);
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - last->len - 1)
        return -1;
    d = realloc(last->data, last->len + n + 1);
    if (!d)
        return -1;
    memcpy(d + last->len, b, n);
    last->len += n;
    d[last->len] = 0;
    last->data = d;
    return 0;
}

int nr_tmpl_add_var(struct nr_tmpl *t, const char *name, size_t n)
{
    return add_seg(t, 1, name, n);
}

void nr_tmpl_free(struct nr_tmpl *t)
{
    for (size_t i = 0; i < t->nsegs; i++)
        free(t->segs[i].data);
    free(t->segs);
    t->segs = NULL;
    t->nsegs = 0;
}

/* The part of an address value "HOST:PORT" or "[V6]:PORT" that field
 * ("host" or "port") names, as a view into val.  Returns 0 or -1. */
static int addr_field(const char *field, const uint8_t *val, size_t len, const uint8_t **part,
                      size_t *plen)
{
    size_t colon = len;

    while (colon > 0 && val[colon - 1] != ':')
        colon--;
    if (colon == 0)
        return -1;
    colon--; /* index of the last ':' */
    if (strcmp(field, "port") == 0) {
        *part = val + colon + 1;
        *plen = len - colon - 1;
        return 0;
    }
    *part = val;
    *plen = colon;
    if (colon >= 2 && val[0] == '[' && val[colon - 1] == ']') {
        *part = val + 1;
        *plen = colon - 2;
    }
    return 0;
}

/* Append n bytes to the growing buffer *buf of *len bytes (capacity *cap). */
static int buf_put(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *b, size_t n)
{
    uint8_t *nb;
    size_t ncap = *cap;

    if (n > SIZE_MAX / 2 - *len)
        return -1;
    while (*len + n + 1 > ncap)
        ncap = ncap ? ncap * 2 : 64;
    if (ncap != *cap) {
        nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    if (n)
        memcpy(*buf + *len, b, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

int nr_tmpl_expand(const struct nr_tmpl *t,
                   int (*lookup)(void *ctx, const char *name, const uint8_t **val, size_t *len),
                   void *ctx, uint8_t **out, size_t *outlen, char *errbuf)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    char base[NR_SCN_NAME_MAX];
    const uint8_t *val;
    size_t vlen;
    int rc = -1, oom = 1; /* 1: a failure is out of memory; nr_seterr sets -1 */

    *out = NULL;
    *outlen = 0;
    if (buf_put(&buf, &len, &cap, NULL, 0) < 0)
        goto out;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct nr_seg *s = &t->segs[i];
        const char *name = (const char *)s->data;
        const char *dot;

        if (!s->is_var) {
            if (buf_put(&buf, &len, &cap, s->data, s->len) < 0)
                goto out;
            continue;
        }
        dot = strchr(name, '.');
        if (!dot) {
            if (lookup(ctx, name, &val, &vlen) < 0) {
                oom = nr_seterr(errbuf, "unknown variable '%s'", name);
                goto out;
            }
        } else {
            if ((size_t)(dot - name) >= sizeof(base)) {
                oom = nr_seterr(errbuf, "variable name too long in '%s'", name);
                goto out;
            }
            memcpy(base, name, (size_t)(dot - name));
            base[dot - name] = 0;
            if (lookup(ctx, base, &val, &vlen) < 0) {
                oom = nr_seterr(errbuf, "unknown variable '%s'", base);
                goto out;
            }
            if (addr_field(dot + 1, val, vlen, &val, &vlen) < 0) {
                oom = nr_seterr(errbuf, "variable '%s' is not an address HOST:PORT", base);
                goto out;
            }
        }
        if (buf_put(&buf, &len, &cap, val, vlen) < 0)
            goto out;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
out:
    if (rc < 0 && oom > 0)
        nr_seterr(errbuf, "out of memory expanding a template");
    free(buf);
    return rc;
}
