/* http_url.c - http:// URL parsing and redirect resolution (see http_url.h). */
#include "http_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nr_cursor.h"
#include "nr_err.h"

#define HOST_MAX 253

/* Appends text to a bounded buffer, remembering overflow. */
struct sbuf {
    char *p;
    size_t cap, len;
    int full;
};

static void put(struct sbuf *s, const void *src, size_t n)
{
    if (s->full || n >= s->cap - s->len) {
        s->full = 1;
        return;
    }
    memcpy(s->p + s->len, src, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static int is_alpha(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(uint8_t ch)
{
    return ch >= '0' && ch <= '9';
}

/* Length of the scheme ("http" in "http:..."), or 0 when buf has none. */
static size_t scheme_len(const uint8_t *buf, size_t len)
{
    size_t i = 0;

    if (len == 0 || !is_alpha(buf[0]))
        return 0;
    while (i < len && (is_alpha(buf[i]) || is_digit(buf[i]) || buf[i] == '+' ||
                       buf[i] == '-' || buf[i] == '.'))
        i++;
    return i < len && buf[i] == ':' ? i : 0;
}

static int is_http(const uint8_t *p, size_t n)
{
    return n == 4 && lower(p[0]) == 'h' && lower(p[1]) == 't' && lower(p[2]) == 't' &&
           lower(p[3]) == 'p';
}

/* Offset of the first byte that may not appear in a URL (SP, CTL, DEL,
 * non-ASCII), or -1. */
static long bad_char(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] <= 0x20 || buf[i] >= 0x7f)
            return (long)i;
    return -1;
}

/* "[v6]" at the cursor: the literal is validated with inet_pton. */
static int parse_v6(struct nr_cursor *a, struct hg_url *u, char *errbuf)
{
    char tmp[INET6_ADDRSTRLEN];
    struct in6_addr addr;
    long close = nr_cur_find(a, "]", 1);
    const uint8_t *p = NULL;

    if (close < 0)
        return nr_seterr(errbuf, "bad URL: missing ']' after IPv6 address");
    nr_cur_skip(a, 1);
    close--;
    if (memchr(nr_cur_ptr(a), '%', (size_t)close))
        return nr_seterr(errbuf, "bad URL: bad IPv6 address (zones are not supported)");
    if ((size_t)close >= sizeof(tmp))
        return nr_seterr(errbuf, "bad URL: IPv6 address of %ld characters (at most %zu)", close,
                         sizeof(tmp) - 1);
    nr_cur_bytes(a, (size_t)close, &p);
    memcpy(tmp, p, (size_t)close);
    tmp[close] = '\0';
    if (inet_pton(AF_INET6, tmp, &addr) != 1)
        return nr_seterr(errbuf, "bad URL: bad IPv6 address '%s'", tmp);
    nr_cur_skip(a, 1);
    u->host = (const char *)p;
    u->host_len = (size_t)close;
    u->is_v6 = 1;
    return 0;
}

/* HOST[:PORT] from the authority cursor. */
static int parse_authority(struct nr_cursor *a, struct hg_url *u, char *errbuf)
{
    const uint8_t *p = nr_cur_ptr(a);
    long port = 0;
    uint8_t ch;

    if (nr_cur_find(a, "@", 1) >= 0)
        return nr_seterr(errbuf, "bad URL: userinfo (user@host) is not supported");
    if (nr_cur_left(a) > 0 && p[0] == '[') {
        if (parse_v6(a, u, errbuf) < 0)
            return -1;
    } else {
        while (nr_cur_left(a) > 0 && *nr_cur_ptr(a) != ':') {
            nr_cur_u8(a, &ch);
            if (!is_alpha(ch) && !is_digit(ch) && ch != '-' && ch != '.' && ch != '_')
                return nr_seterr(errbuf, "bad URL: invalid character '%c' in host", ch);
        }
        u->host = (const char *)p;
        u->host_len = a->off;
        if (u->host_len == 0 || u->host_len > HOST_MAX)
            return nr_seterr(errbuf, "bad URL: empty or too long host");
    }
    u->port = 80;
    if (nr_cur_left(a) == 0)
        return 0;
    if (nr_cur_u8(a, &ch) < 0 || ch != ':' || nr_cur_left(a) == 0 || nr_cur_left(a) > 5)
        return nr_seterr(errbuf, "bad URL: bad port");
    while (nr_cur_u8(a, &ch) == 0) {
        if (!is_digit(ch))
            return nr_seterr(errbuf, "bad URL: bad port");
        port = port * 10 + (ch - '0');
    }
    if (port < 1 || port > 65535)
        return nr_seterr(errbuf, "bad URL: port %ld out of range 1-65535", port);
    u->port = (int)port;
    return 0;
}

int hg_url_parse(const uint8_t *buf, size_t len, struct hg_url *u, char *errbuf)
{
    struct nr_cursor c, auth = { 0 };
    size_t slen = scheme_len(buf, len), alen;
    long bad = bad_char(buf, len), hash;
    const uint8_t *p;

    memset(u, 0, sizeof(*u));
    if (len > HG_URL_MAX)
        return nr_seterr(errbuf, "bad URL: longer than %d bytes", HG_URL_MAX);
    if (bad >= 0)
        return nr_seterr(errbuf, "bad URL: invalid character at offset %ld", bad);
    if (slen == 0)
        return nr_seterr(errbuf, "bad URL: missing scheme (expected http://HOST[:PORT]/PATH)");
    if (!is_http(buf, slen))
        return nr_seterr(errbuf, "unsupported scheme '%.*s': only http:// is supported",
                         (int)slen, (const char *)buf);
    nr_cur_init(&c, buf, len);
    nr_cur_skip(&c, slen + 1);
    if (nr_cur_bytes(&c, 2, &p) < 0 || memcmp(p, "//", 2) != 0)
        return nr_seterr(errbuf, "bad URL: expected '//' after 'http:'");
    for (alen = 0; alen < nr_cur_left(&c); alen++)
        if (strchr("/?#", nr_cur_ptr(&c)[alen]))
            break;
    nr_cur_sub(&c, alen, &auth);
    if (parse_authority(&auth, u, errbuf) < 0)
        return -1;
    hash = nr_cur_find(&c, "#", 1);
    u->path = (const char *)nr_cur_ptr(&c);
    u->path_len = hash < 0 ? nr_cur_left(&c) : (size_t)hash;
    if (u->path_len == 0) {
        u->path = "/";
        u->path_len = 1;
    }
    return 0;
}

/* "host", "host:port", "[v6]" or "[v6]:port" (port only when not 80). */
static void put_authority(struct sbuf *s, const struct hg_url *u)
{
    char port[8];

    put(s, "[", u->is_v6);
    put(s, u->host, u->host_len);
    put(s, "]", u->is_v6);
    if (u->port != 80) {
        snprintf(port, sizeof(port), ":%d", u->port);
        put(s, port, strlen(port));
    }
}

int hg_url_host_header(const struct hg_url *u, char *out, size_t cap)
{
    struct sbuf s = { out, cap, 0, cap == 0 };

    if (cap > 0)
        out[0] = '\0';
    put_authority(&s, u);
    return s.full ? -1 : (int)s.len;
}

/* Append path p[0..n) (starting with '/') with its dot segments removed
 * (RFC 3986 section 5.2.4), one segment at a time. */
static void put_path(struct sbuf *s, const char *p, size_t n)
{
    size_t start = s->len, i = 0;

    while (i < n) {
        size_t j = i + 1, seg;
        while (j < n && p[j] != '/')
            j++;
        seg = j - i - 1;
        if ((seg == 1 && p[i + 1] == '.') || (seg == 2 && p[i + 1] == '.' && p[i + 2] == '.')) {
            if (seg == 2) {
                while (s->len > start && s->p[s->len - 1] != '/')
                    s->len--;
                if (s->len > start)
                    s->len--;
                if (!s->full)
                    s->p[s->len] = '\0';
            }
            if (j == n)
                put(s, "/", 1);
        } else {
            put(s, p + i, j - i);
        }
        i = j;
    }
    if (s->len == start)
        put(s, "/", 1);
}

/* Length of the path part of p[0..n) (up to '?' or the end). */
static size_t path_part(const char *p, size_t n)
{
    const char *q = memchr(p, '?', n);
    return q ? (size_t)(q - p) : n;
}

int hg_url_resolve(const struct hg_url *base, const uint8_t *loc, size_t len, char *out,
                   size_t cap, char *errbuf)
{
    struct sbuf s = { out, cap, 0, cap == 0 };
    const char *l = (const char *)loc, *bp = base->path;
    size_t slen = scheme_len(loc, len), lp, bpl = path_part(bp, base->path_len);
    long bad = bad_char(loc, len);

    if (bad >= 0)
        return nr_seterr(errbuf, "bad redirect target: invalid character at offset %ld", bad);
    if (slen > 0 && !is_http(loc, slen))
        return nr_seterr(errbuf, "redirect to unsupported scheme '%.*s'", (int)slen, l);
    if (cap > 0)
        out[0] = '\0';
    if (slen > 0) {
        put(&s, l, len);
    } else if (len >= 2 && l[0] == '/' && l[1] == '/') {
        put(&s, "http:", 5);
        put(&s, l, len);
    } else {
        put(&s, "http://", 7);
        put_authority(&s, base);
        if (len > 0 && l[0] == '?') {
            put_path(&s, bp[0] == '?' ? "/" : bp, bp[0] == '?' ? 1 : bpl);
            put(&s, l, len);
        } else if (len == 0 || l[0] == '#') { /* the base's path and query */
            put(&s, bp[0] == '?' ? "/" : "", bp[0] == '?');
            put(&s, bp, base->path_len);
            put(&s, l, len);
        } else {
            char merged[HG_URL_MAX * 2];
            size_t m = 0, dir = bpl;
            lp = path_part(l, len);
            if (l[0] != '/') {
                while (dir > 0 && bp[dir - 1] != '/')
                    dir--;
                if (dir == 0)
                    merged[m++] = '/';
                memcpy(merged + m, bp, dir);
                m += dir;
            }
            if (m + lp > sizeof(merged))
                return nr_seterr(errbuf, "redirect target too long");
            memcpy(merged + m, l, lp);
            put_path(&s, merged, m + lp);
            put(&s, l + lp, len - lp);
        }
    }
    if (s.full)
        return nr_seterr(errbuf, "redirect target too long (more than %zu bytes)", cap - 1);
    return 0;
}
