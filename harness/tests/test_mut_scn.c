/* Unit tests of the scenario lexer written for make mutate's survivors:
 * every hex digit, upper and lower case, in a "\xHH" escape and in x"..."
 * hex bytes is read as its value (an uppercase digit read one less passed
 * every other test: none used A-F). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_scn.h"

/* The bytes of the one literal segment of the payload of step idx of s. */
static void expect_payload(const struct nr_scn *s, size_t idx, const void *want, size_t len)
{
    const struct nr_step *t;

    assert_true(idx < s->steps.n);
    t = &s->steps.v[idx];
    assert_int_equal(t->kind, NR_S_SEND);
    assert_int_equal(t->u.send.payload.tmpl.nsegs, 1);
    assert_int_equal(t->u.send.payload.tmpl.segs[0].len, len);
    assert_memory_equal(t->u.send.payload.tmpl.segs[0].data, want, len);
}

static void hex_digits_both_cases(void **state)
{
    static const char text[] = "connect c = tcp 127.0.0.1:1\n"
                               "send c \"\\x0A\\xBC\\xDE\\xF9\\xab\\xcd\\xef\\x10\"\n"
                               "send c x\"0123456789 ABCDEF abcdef aF\"\n";
    static const uint8_t esc[] = { 0x0a, 0xbc, 0xde, 0xf9, 0xab, 0xcd, 0xef, 0x10 };
    static const uint8_t hex[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                   0xab, 0xcd, 0xef, 0xaf };
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;

    (void)state;
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    expect_payload(&s, 1, esc, sizeof(esc));
    expect_payload(&s, 2, hex, sizeof(hex));
    nr_scn_free(&s);
}

/* A letter past F is no hex digit, in either case and either form. */
static void not_hex_digits(void **state)
{
    static const char *const texts[] = {
        "connect c = tcp 127.0.0.1:1\nsend c \"\\xAG\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c \"\\xg0\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c x\"0G\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c x\"g0\"\n",
    };
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (nr_scn_parse((const uint8_t *)texts[i], strlen(texts[i]), "t.scn", &s, err) == 0) {
            nr_scn_free(&s);
            fail_msg("parsed: %s", texts[i]);
        }
        assert_non_null(strstr(err, "t.scn:2:"));
    }
}

static int lookup(void *ctx, const char *name, const uint8_t **val, size_t *len)
{
    (void)name;
    *val = ctx;
    *len = strlen(ctx);
    return 0;
}

/* A template expanding to far more than the expansion buffer's first 64
 * bytes: a 100-byte literal and a 300-byte variable value. */
static void long_expansion(void **state)
{
    static char text[256], value[301];
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    uint8_t *out = NULL;
    size_t outlen = 0;

    (void)state;
    memset(value, 'v', 300);
    snprintf(text, sizeof(text), "connect c = tcp 127.0.0.1:1\nsend c \"%0100d${tmp}\"\n", 0);
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    assert_int_equal(nr_tmpl_expand(&s.steps.v[1].u.send.payload.tmpl, lookup, value, &out,
                                    &outlen, err), 0);
    assert_int_equal(outlen, 400);
    assert_int_equal(out[99], '0');
    assert_int_equal(out[100], 'v');
    assert_int_equal(out[399], 'v');
    assert_int_equal(out[400], '\0');
    free(out);
    nr_scn_free(&s);
}

/* nr_scn_print reports a failed write (an unbuffered /dev/full). */
static void print_write_error(void **state)
{
    static const char text[] = "connect c = tcp 127.0.0.1:1\n";
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    FILE *f = fopen("/dev/full", "w");

    (void)state;
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0);
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    assert_int_equal(nr_scn_print(f, &s), -1);
    fclose(f);
    nr_scn_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_digits_both_cases),
        cmocka_unit_test(not_hex_digits),
        cmocka_unit_test(long_expansion),
        cmocka_unit_test(print_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
