/* http_url.h - parsing of http:// URLs and resolution of redirect targets.
 *
 * Accepted: "http://HOST[:PORT][/path][?query][#fragment]" with the scheme
 * in any case; HOST is a name (letters, digits, '-', '.', '_'), a dotted
 * IPv4 address or a bracketed IPv6 literal without zone ("[::1]").  PORT is
 * 1-65535 (default 80).  The fragment is dropped (it is never sent).
 * Rejected with a reason: other schemes, userinfo ("user@"), empty host or
 * port, control characters, spaces or non-ASCII bytes anywhere. */
#ifndef HG_HTTP_URL_H
#define HG_HTTP_URL_H

#include <stddef.h>
#include <stdint.h>

#define HG_URL_MAX 4096 /* longest URL accepted, and resolved redirect target */

/* A parsed URL: views into the caller's string. */
struct hg_url {
    const char *host;  /* without brackets */
    size_t host_len;
    int is_v6;         /* host is an IPv6 literal */
    int port;
    const char *path;  /* path and query, never empty: "/" when absent; may
                          start with '?' (then the target is "/" + path) */
    size_t path_len;
};

/* Parse buf[0..len) into *u (views into buf).  Returns 0, or -1 with a
 * reason (and the offset of the problem) in errbuf (NR_ERRBUF_SIZE). */
int hg_url_parse(const uint8_t *buf, size_t len, struct hg_url *u, char *errbuf);

/* Write the Host header value ("host", "host:8080", "[::1]:8080") into
 * out[cap] as a C string.  Returns its length, or -1 when it does not fit
 * (then out, when cap > 0, is still a C string: a prefix of the value, ""
 * when not even its first piece fits).  Nothing past out[cap - 1] is
 * ever written. */
int hg_url_host_header(const struct hg_url *u, char *out, size_t cap);

/* Resolve a Location header value loc[0..len) against base (RFC 3986 section
 * 5.2, dot segments removed) into out[cap] as an absolute http:// URL C
 * string.  Returns 0, or -1 with errbuf set (other scheme, too long, bad
 * characters).  The result still has to go through hg_url_parse. */
int hg_url_resolve(const struct hg_url *base, const uint8_t *loc, size_t len, char *out,
                   size_t cap, char *errbuf);

#endif
