/* Unit tests of nr_markup.c written for make mutate's survivors: the UTF-8
 * validator at every boundary of RFC 3629's table (each first byte, each
 * continuation position, the excluded code points on both sides) and the
 * escaper's output for every special byte in both modes, with its count of
 * bytes shown as \xNN. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_markup.h"
#include "heap_exact.h"

/* One sequence and the length nr_markup_utf8_len must give it. */
struct utf8_case {
    const char *bytes;
    size_t len; /* bytes to pass (may cut the sequence) */
    size_t want;
};

static const struct utf8_case utf8_cases[] = {
    { "\x00", 1, 1 },
    { "\x7f", 1, 1 },
    { "\x80", 1, 0 },                 /* a continuation byte first */
    { "\xbf", 1, 0 },
    { "\x80\x90\x80\x80", 4, 0 },     /* not a first byte, though a 4-byte form follows */
    { "\xc1\x90\x80\x80", 4, 0 },
    { "\xc0\x80", 2, 0 },             /* overlong two-byte forms */
    { "\xc1\xbf", 2, 0 },
    { "\xc2\x80", 2, 2 },             /* U+0080 */
    { "\xc2\x80", 1, 0 },             /* cut by the end */
    { "\xdf\xbf", 2, 2 },             /* U+07FF */
    { "\xdf\xc0", 2, 0 },             /* not a continuation */
    { "\xdf\x7f", 2, 0 },
    { "\xe0\x9f\xbf", 3, 0 },         /* overlong three-byte form */
    { "\xe0\xa0\x80", 3, 3 },         /* U+0800 */
    { "\xe0\xa0\x80", 2, 0 },
    { "\xe0\xa0\xc0", 3, 0 },         /* third byte not a continuation */
    { "\xe0\x20\x80", 3, 0 },         /* second byte not a continuation */
    { "\xed\x9f\xbf", 3, 3 },         /* U+D7FF */
    { "\xed\xa0\x80", 3, 0 },         /* U+D800: a surrogate */
    { "\xed\xbf\xbf", 3, 0 },         /* U+DFFF */
    { "\xee\x80\x80", 3, 3 },         /* U+E000 */
    { "\xef\xbf\xbd", 3, 3 },         /* U+FFFD */
    { "\xef\xbf\xbe", 3, 0 },         /* U+FFFE */
    { "\xef\xbf\xbf", 3, 0 },         /* U+FFFF */
    { "\xf0\x8f\xbf\xbf", 4, 0 },     /* overlong four-byte form */
    { "\xf0\x90\x80\x80", 4, 4 },     /* U+10000 */
    { "\xf0\x90\x80\x80", 3, 0 },
    { "\xf0\x90\x80\x7f", 4, 0 },     /* fourth byte not a continuation */
    { "\xf1\x80\x80\x80", 4, 4 },     /* U+40000: the first byte's lowest bit counts */
    { "\xf4\x8f\xbf\xbf", 4, 4 },     /* U+10FFFF */
    { "\xf4\x90\x80\x80", 4, 0 },     /* past U+10FFFF */
    { "\xf5\x80\x80\x80", 4, 0 },     /* no such first byte */
    { "\xf8\x90\x80\x80", 4, 0 },
    { "\xff", 1, 0 },
};

static void utf8_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
        const struct utf8_case *c = &utf8_cases[i];
        size_t got = nr_markup_utf8_len((const uint8_t *)c->bytes, c->len);

        if (got != c->want)
            fail_msg("case %zu (first byte 0x%02x, %zu bytes): %zu, want %zu", i,
                     (unsigned char)c->bytes[0], c->len, got, c->want);
    }
}

/* nr_markup_esc of buf[0..len) with oneline: the text written, and the
 * count it returned into *bad. */
static char *esc(const char *buf, size_t len, int oneline, size_t *bad)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);

    assert_non_null(f);
    *bad = nr_markup_esc(f, buf, len, oneline);
    fclose(f);
    return out;
}

static void expect_esc(const char *in, size_t len, int oneline, const char *want, size_t want_bad)
{
    size_t bad;
    char *got = esc(in, len, oneline, &bad);

    if (strcmp(got, want) != 0 || bad != want_bad)
        fail_msg("escaped (oneline %d) to '%s' with %zu bad, want '%s' with %zu", oneline, got, bad,
                 want, want_bad);
    free(got);
}

static void escapes(void **state)
{
    (void)state;
    expect_esc("a&b<c>d\"e'f", 11, 0, "a&amp;b&lt;c&gt;d&quot;e&#39;f", 0);
    expect_esc("a&b<c>d\"e'f", 11, 1, "a&amp;b&lt;c&gt;d&quot;e&#39;f", 0);
    expect_esc("x\ny\tz", 5, 0, "x\ny\tz", 0);
    expect_esc("x\ny\tz", 5, 1, "x\\ny\\tz", 0);
    expect_esc("\r", 1, 1, "\\r", 0);
    expect_esc("\r", 1, 0, "\\x0d", 1);     /* not oneline: a control character */
    expect_esc(" ~", 2, 0, " ~", 0);         /* the printable range's ends */
    expect_esc("\x1f\x7f", 2, 0, "\\x1f\\x7f", 2);
    expect_esc("\0", 1, 0, "\\x00", 1);
    expect_esc("\xc3\xa9", 2, 0, "\xc3\xa9", 0);          /* valid UTF-8 as it is */
    expect_esc("\xc3", 1, 0, "\\xc3", 1);                 /* cut */
    expect_esc("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80", 3); /* a surrogate, byte by byte */
    expect_esc("\xf0\x9f\x98\x80!", 5, 1, "\xf0\x9f\x98\x80!", 0);
}

static void str_wrapper(void **state)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);

    (void)state;
    assert_non_null(f);
    assert_int_equal(nr_markup_str(f, NULL, 0), 0);
    assert_int_equal(nr_markup_str(f, "<\x01", 1), 1);
    fclose(f);
    assert_string_equal(out, "&lt;\\x01");
    free(out);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(utf8_boundaries),
        heap_exact_test(escapes),
        heap_exact_test(str_wrapper),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
