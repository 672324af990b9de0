/* nr_cursor.h - the one bounds-checked read cursor for every wire parser.
 *
 * A cursor is a view of a caller-owned buffer; it never copies and never
 * reads past len.  Every read returns 0 on success or -1 when too few bytes
 * remain, in which case the cursor is left unchanged.  No NUL termination is
 * assumed anywhere. */
#ifndef NR_CURSOR_H
#define NR_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct nr_cursor {
    const uint8_t *buf; /* start of the view (not owned) */
    size_t len;         /* bytes in the view */
    size_t off;         /* next byte to read */
};

/* Start a cursor over buf[0..len). */
static inline void nr_cur_init(struct nr_cursor *c, const uint8_t *buf, size_t len)
{
    c->buf = buf;
    c->len = len;
    c->off = 0;
}

/* Bytes not yet read. */
static inline size_t nr_cur_left(const struct nr_cursor *c)
{
    return c->len - c->off;
}

/* Pointer to the next unread byte (valid for nr_cur_left() bytes). */
static inline const uint8_t *nr_cur_ptr(const struct nr_cursor *c)
{
    return c->buf + c->off;
}

/* Advance n bytes; -1 if fewer remain. */
static inline int nr_cur_skip(struct nr_cursor *c, size_t n)
{
    if (n > nr_cur_left(c))
        return -1;
    c->off += n;
    return 0;
}

/* View the next n bytes through *out and advance; -1 if fewer remain. */
static inline int nr_cur_bytes(struct nr_cursor *c, size_t n, const uint8_t **out)
{
    if (n > nr_cur_left(c))
        return -1;
    *out = c->buf + c->off;
    c->off += n;
    return 0;
}

/* Split off the next n bytes as a sub-cursor and advance past them. */
static inline int nr_cur_sub(struct nr_cursor *c, size_t n, struct nr_cursor *sub)
{
    const uint8_t *p;
    if (nr_cur_bytes(c, n, &p) < 0)
        return -1;
    nr_cur_init(sub, p, n);
    return 0;
}

static inline int nr_cur_u8(struct nr_cursor *c, uint8_t *v)
{
    if (nr_cur_left(c) < 1)
        return -1;
    *v = c->buf[c->off++];
    return 0;
}

static inline int nr_cur_be16(struct nr_cursor *c, uint16_t *v)
{
    const uint8_t *p;
    if (nr_cur_bytes(c, 2, &p) < 0)
        return -1;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    return 0;
}

static inline int nr_cur_be32(struct nr_cursor *c, uint32_t *v)
{
    const uint8_t *p;
    if (nr_cur_bytes(c, 4, &p) < 0)
        return -1;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return 0;
}

static inline int nr_cur_le16(struct nr_cursor *c, uint16_t *v)
{
    const uint8_t *p;
    if (nr_cur_bytes(c, 2, &p) < 0)
        return -1;
    *v = (uint16_t)(p[1] << 8 | p[0]);
    return 0;
}

static inline int nr_cur_le32(struct nr_cursor *c, uint32_t *v)
{
    const uint8_t *p;
    if (nr_cur_bytes(c, 4, &p) < 0)
        return -1;
    *v = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    return 0;
}

/* Offset, relative to the cursor, of the first occurrence of needle in the
 * unread bytes, or -1 when absent.  Does not advance. */
static inline long nr_cur_find(const struct nr_cursor *c, const void *needle, size_t nlen)
{
    const uint8_t *hay = nr_cur_ptr(c), *hit;
    size_t left = nr_cur_left(c);
    if (nlen == 0)
        return 0;
    while (left >= nlen) {
        hit = memchr(hay, *(const uint8_t *)needle, left - nlen + 1);
        if (!hit)
            return -1;
        if (memcmp(hit, needle, nlen) == 0)
            return (long)(hit - nr_cur_ptr(c));
        left -= (size_t)(hit - hay) + 1;
        hay = hit + 1;
    }
    return -1;
}

#endif
