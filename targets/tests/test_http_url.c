/* Unit tests of http-get's URL parser, Host header and redirect resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "http-get/http_url.h"
#include "nr_err.h"

static int parse(const char *s, struct hg_url *u, char *err)
{
    return hg_url_parse((const uint8_t *)s, strlen(s), u, err);
}

static void expect(const char *s, const char *host, int port, const char *path, const char *hh)
{
    char err[NR_ERRBUF_SIZE], h[300];
    struct hg_url u;

    if (parse(s, &u, err) < 0)
        fail_msg("%s: %s", s, err);
    assert_int_equal(u.host_len, strlen(host));
    assert_memory_equal(u.host, host, u.host_len);
    assert_int_equal(u.port, port);
    assert_int_equal(u.path_len, strlen(path));
    assert_memory_equal(u.path, path, u.path_len);
    assert_int_equal(hg_url_host_header(&u, h, sizeof(h)), (int)strlen(hh));
    assert_string_equal(h, hh);
}

static void reject(const char *s, const char *why)
{
    char err[NR_ERRBUF_SIZE] = "";
    struct hg_url u;

    assert_int_equal(parse(s, &u, err), -1);
    if (!strstr(err, why))
        fail_msg("%s: '%s' does not mention '%s'", s, err, why);
}

static void parses(void **state)
{
    (void)state;
    expect("http://127.0.0.1", "127.0.0.1", 80, "/", "127.0.0.1");
    expect("HTTP://localhost:8080/a/b?c=d#frag", "localhost", 8080, "/a/b?c=d", "localhost:8080");
    expect("http://[::1]:8080/x", "::1", 8080, "/x", "[::1]:8080");
    expect("http://[::1]/", "::1", 80, "/", "[::1]");
    expect("http://h:80?q", "h", 80, "?q", "h");
    expect("http://h:65535#f", "h", 65535, "/", "h:65535");
}

static void rejects(void **state)
{
    (void)state;
    reject("https://h/", "unsupported scheme 'https'");
    reject("ftp://h/", "only http://");
    reject("h/path", "missing scheme");
    reject("http:/h", "'//'");
    reject("http://user:pw@h/", "userinfo");
    reject("http://h:0/", "out of range");
    reject("http://h:65536/", "out of range");
    reject("http://h:123456/", "bad port");
    reject("http://h:/", "bad port");
    reject("http://h:8x/", "bad port");
    reject("http:///x", "empty");
    reject("http://[::1/", "missing ']'");
    reject("http://[zz::1]/", "bad IPv6");
    reject("http://[fe80::1%25eth0]/", "zones");
    reject("http://[::1]x/", "bad port");
    reject("http://h/a b", "invalid character at offset 10");
    reject("http://h/\r\nX: y", "invalid character");
    reject("http://h\xc3\xa9/", "invalid character");
    reject("http://h!/", "invalid character '!' in host");
}

static void resolve_one(const char *base, const char *loc, const char *want)
{
    char err[NR_ERRBUF_SIZE], out[HG_URL_MAX + 1];
    struct hg_url u;

    assert_int_equal(parse(base, &u, err), 0);
    if (hg_url_resolve(&u, (const uint8_t *)loc, strlen(loc), out, sizeof(out), err) < 0)
        fail_msg("%s + %s: %s", base, loc, err);
    assert_string_equal(out, want);
}

static void resolves(void **state)
{
    char err[NR_ERRBUF_SIZE], small[20];
    struct hg_url u;

    (void)state;
    resolve_one("http://h:81/a/b/c?q", "http://x/y", "http://x/y");
    resolve_one("http://h:81/a/b/c?q", "//x:9/y", "http://x:9/y");
    resolve_one("http://h:81/a/b/c?q", "/p?z", "http://h:81/p?z");
    resolve_one("http://h/a/b/c?q", "d", "http://h/a/b/d");
    /* A scheme starts with a letter: "9:x" and "+a:b" are relative paths. */
    resolve_one("http://h/a/b", "9:x", "http://h/a/9:x");
    resolve_one("http://h/a/b", "+a:b", "http://h/a/+a:b");
    resolve_one("http://h/a/b/c", "../d/./e", "http://h/a/d/e");
    resolve_one("http://h/a/b/c", "../../../../x", "http://h/x");
    resolve_one("http://h/a/b/c", "..", "http://h/a/");
    resolve_one("http://h/a/b/c", ".", "http://h/a/b/");
    resolve_one("http://h/a/b/c?q", "?r", "http://h/a/b/c?r");
    resolve_one("http://h/a?q", "", "http://h/a?q");
    /* a fragment alone keeps the base's query (RFC 3986 5.2.2) */
    resolve_one("http://h/a/b?q", "#f", "http://h/a/b?q#f");
    resolve_one("http://h/a/b", "#f", "http://h/a/b#f");
    /* a base whose path is only a query: its path is "/" */
    resolve_one("http://h?q", "", "http://h/?q");
    resolve_one("http://h?q", "#f", "http://h/?q#f");
    resolve_one("http://h?q", "?r", "http://h/?r");
    resolve_one("http://h?q", "x", "http://h/x");
    resolve_one("http://h/a/b?q", "/", "http://h/");
    resolve_one("http://h/a/b?q", "//x", "http://x");
    resolve_one("http://[::1]:8080/a", "b", "http://[::1]:8080/b");
    resolve_one("http://h", "x", "http://h/x");
    resolve_one("http://h/a/", "/x/../y/", "http://h/y/");
    /* dot segments are whole segments of one or two dots only */
    resolve_one("http://h/a/b/c", ".../x", "http://h/a/b/.../x");
    resolve_one("http://h/a/b/c", ".x/..y/z.", "http://h/a/b/.x/..y/z.");
    resolve_one("http://h/a/b/c", "./", "http://h/a/b/");
    resolve_one("http://h/a/b/c", "../", "http://h/a/");
    resolve_one("http://h/a/b/c", "x/./y", "http://h/a/b/x/y");
    resolve_one("http://h/a/b/c", "x/../y", "http://h/a/b/y");
    resolve_one("http://h/a/b/c", "/..", "http://h/");
    resolve_one("http://h/a/b/c", "/.", "http://h/");
    resolve_one("http://h/a/b/c", "/a/b/../../..?q", "http://h/?q");
    resolve_one("http://h/a/b/c", "/a//../b", "http://h/a/b");
    assert_int_equal(parse("http://h/a", &u, err), 0);
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"https://x/", 10, small,
                                    sizeof(small), err), -1);
    assert_non_null(strstr(err, "unsupported scheme"));
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"/a b", 4, small, sizeof(small), err),
                     -1);
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"/a/very/long/path", 17, small,
                                    sizeof(small), err), -1);
    assert_non_null(strstr(err, "too long"));
}

/* Every byte value in each place of a URL, accepted exactly when
 * http_url.h allows it: in the path (printable ASCII but SP: 0x21-0x7e),
 * in the host (letters, digits, '-', '.', '_'; '/', '?' and '#' end it),
 * in the port (digits; '/', '?' and '#' end it), as the scheme's first byte (only "http" in any
 * case); and in a redirect target "x@y:z", which has a scheme (so it is
 * refused as not http) exactly when '@' is a letter, digit, '+', '-', '.'
 * or the ':' itself. */
static void every_byte_in_every_place(void **state)
{
    char s[32], err[NR_ERRBUF_SIZE], out[64];
    struct hg_url u, base;

    (void)state;
    assert_int_equal(parse("http://h/a", &base, err), 0);
    for (int ch = 0; ch < 256; ch++) {
        int printable = ch > 0x20 && ch < 0x7f, alpha = (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z',
            digit = ch >= '0' && ch <= '9', ok, rc;

        strcpy(s, "http://h/a@b");
        s[10] = (char)ch;
        rc = hg_url_parse((const uint8_t *)s, 12, &u, err);
        if (rc != (printable ? 0 : -1) || (rc < 0 && !strstr(err, "invalid character at offset 10")))
            fail_msg("byte 0x%02x in the path: %d (%s)", ch, rc, rc < 0 ? err : "");
        if (rc == 0)
            assert_int_equal(u.path_len, ch == '#' ? 2 : 4);

        strcpy(s, "http://h@x/");
        s[8] = (char)ch;
        ok = printable && (alpha || digit || strchr("-._/?#", ch));
        rc = hg_url_parse((const uint8_t *)s, 11, &u, err);
        if (rc != (ok ? 0 : -1))
            fail_msg("byte 0x%02x in the host: %d (%s)", ch, rc, rc < 0 ? err : "");
        if (rc == 0)
            assert_int_equal(u.host_len, strchr("/?#", ch) ? 1 : 3);

        strcpy(s, "http://h:8@/");
        s[10] = (char)ch;
        rc = hg_url_parse((const uint8_t *)s, 12, &u, err);
        ok = digit || (printable && strchr("/?#", ch)); /* these end the port */
        if (rc != (ok ? 0 : -1))
            fail_msg("byte 0x%02x in the port: %d (%s)", ch, rc, rc < 0 ? err : "");
        if (rc == 0)
            assert_int_equal(u.port, digit ? 80 + ch - '0' : 8);

        strcpy(s, "@ttp://h/");
        s[0] = (char)ch;
        rc = hg_url_parse((const uint8_t *)s, 9, &u, err);
        if (rc != ((ch | 0x20) == 'h' ? 0 : -1))
            fail_msg("byte 0x%02x as the scheme's first: %d (%s)", ch, rc, rc < 0 ? err : "");

        strcpy(s, "x@y:z");
        s[1] = (char)ch;
        ok = printable && !(alpha || digit || strchr("+-.:", ch));
        rc = hg_url_resolve(&base, (const uint8_t *)s, 5, out, sizeof(out), err);
        if (rc != (ok ? 0 : -1))
            fail_msg("byte 0x%02x in a redirect target: %d (%s)", ch, rc, rc < 0 ? err : out);
    }
}

/* Every limit at N-1, N and N+1: a URL of HG_URL_MAX bytes, a host of 253,
 * a port of 5 digits, an IPv6 literal of 45 characters (INET6_ADDRSTRLEN
 * less its NUL); the Host value and a resolved target in buffers of their
 * length + 1 (fits), and of their length (does not: -1, a prefix of the
 * Host value as a C string, nothing written past the buffer). */
static void limits(void **state)
{
    static char s[HG_URL_MAX + 16];
    char err[NR_ERRBUF_SIZE], out[64];
    struct hg_url u;
    size_t n;

    (void)state;
    for (size_t len = HG_URL_MAX - 1; len <= HG_URL_MAX + 1; len++) {
        memset(s, 'a', len);
        memcpy(s, "http://h/", 9);
        assert_int_equal(hg_url_parse((const uint8_t *)s, len, &u, err),
                         len <= HG_URL_MAX ? 0 : -1);
    }
    for (size_t len = 252; len <= 254; len++) {
        memset(s, 'h', 7 + len);
        memcpy(s, "http://", 7);
        assert_int_equal(hg_url_parse((const uint8_t *)s, 7 + len, &u, err), len <= 253 ? 0 : -1);
        if (len > 253)
            assert_non_null(strstr(err, "too long host"));
        else
            assert_int_equal(u.host_len, len);
    }
    assert_int_equal(parse("http://h:0080/", &u, err), 0);
    assert_int_equal(u.port, 80);
    assert_int_equal(parse("http://h:00080/", &u, err), 0);
    assert_int_equal(u.port, 80);
    assert_int_equal(parse("http://h:000080/", &u, err), -1);
    assert_non_null(strstr(err, "bad port"));
    assert_int_equal(parse("http://h:1/", &u, err), 0);
    assert_int_equal(u.port, 1);
    /* 43, 45 and 46 characters between the brackets: 46 do not fit the
     * buffer, refused before inet_pton sees them, as too long (not as a
     * zone: there is none) */
    assert_int_equal(parse("http://[0000:0000:0000:0000:0000:ffff:1.255.255.255]/", &u, err), 0);
    assert_int_equal(parse("http://[0000:0000:0000:0000:0000:ffff:255.255.255.255]/", &u, err),
                     0);
    assert_int_equal(u.host_len, 45);
    assert_int_equal(parse("http://[0000:0000:0000:0000:0000:ffff:0255.255.255.255]/", &u, err),
                     -1);
    assert_string_equal(err, "bad URL: IPv6 address of 46 characters (at most 45)");
    assert_int_equal(parse("http://[0000:0000:0000:0000:0000:ffff:0255.255.255.255%25eth0]/", &u,
                           err), -1);
    assert_string_equal(err, "bad URL: bad IPv6 address (zones are not supported)");
    /* Host header "h:8080" (6 bytes) */
    assert_int_equal(parse("http://h:8080/", &u, err), 0);
    assert_int_equal(hg_url_host_header(&u, out, 7), 6);
    assert_string_equal(out, "h:8080");
    /* too small: -1, out a C string that is a prefix of the value, and
     * nothing written past out[cap - 1] */
    memset(out, 'X', sizeof(out));
    assert_int_equal(hg_url_host_header(&u, out, 6), -1);
    assert_non_null(memchr(out, '\0', 6));
    assert_int_equal(strncmp(out, "h:8080", strlen(out)), 0);
    assert_int_equal(out[6], 'X');
    out[0] = 'X';
    assert_int_equal(hg_url_host_header(&u, out, 0), -1);
    assert_int_equal(out[0], 'X');
    /* "[::1]" does not fit 1 byte: the '[' already does not */
    assert_int_equal(parse("http://[::1]/", &u, err), 0);
    memset(out, 'X', sizeof(out));
    assert_int_equal(hg_url_host_header(&u, out, 1), -1);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'X');
    assert_int_equal(parse("http://h:8080/", &u, err), 0);
    /* "http://h:8080/x" (15 bytes) resolved */
    n = strlen("http://h:8080/x");
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"x", 1, out, n + 1, err), 0);
    assert_string_equal(out, "http://h:8080/x");
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"x", 1, out, n, err), -1);
    assert_non_null(strstr(err, "too long (more than 14 bytes)"));
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"http://h:8080/x", n, out, n + 1, err),
                     0);
    assert_int_equal(hg_url_resolve(&u, (const uint8_t *)"http://h:8080/x", n, out, n, err), -1);
}

/* A base path and a relative target that together are longer than
 * HG_URL_MAX resolve when their dot segments shorten the result enough:
 * '/' + 3000 'a' + "/b" with "../" + 2000 'c' is http://h/ + 2000 'c'. */
static void long_merge_shortened_by_dot_segments(void **state)
{
    static char base[3100], loc[2100], out[HG_URL_MAX + 1], want[2100];
    char err[NR_ERRBUF_SIZE];
    struct hg_url u;

    (void)state;
    memcpy(base, "http://h/", 9);
    memset(base + 9, 'a', 3000);
    memcpy(base + 3009, "/b", 3);
    memcpy(loc, "../", 3);
    memset(loc + 3, 'c', 2000);
    memcpy(want, "http://h/", 9);
    memset(want + 9, 'c', 2000);
    assert_int_equal(parse(base, &u, err), 0);
    if (hg_url_resolve(&u, (const uint8_t *)loc, 2003, out, sizeof(out), err) < 0)
        fail_msg("%s", err);
    assert_string_equal(out, want);
}

/* The parser reads only buf[0..len): each input is placed at the very end
 * of a readable page followed by an unreadable one, so a read past it is a
 * crash, and the result must be the one of an ordinary copy. */
static void reads_only_len_bytes(void **state)
{
    static const char *const in[] = { "http", "h", "http:", "http://h", "http://h:80/p?q",
                                      "x+y-z.w", "http://[::1]" };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char err[NR_ERRBUF_SIZE];
    struct hg_url u, v;
    uint8_t *map;

    (void)state;
    map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        size_t n = strlen(in[i]);
        uint8_t *at = map + page - n;

        memcpy(at, in[i], n);
        assert_int_equal(hg_url_parse(at, n, &u, err), parse(in[i], &v, err));
    }
    munmap(map, 2 * page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses),
        cmocka_unit_test(rejects),
        cmocka_unit_test(resolves),
        cmocka_unit_test(every_byte_in_every_place),
        cmocka_unit_test(limits),
        cmocka_unit_test(long_merge_shortened_by_dot_segments),
        cmocka_unit_test(reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
