/* Tests of the pieces every report of `netrig run` relies on
 * (harness/src/run_report.c, run_shard.c): any bytes made valid UTF-8 with
 * \xNN, the file:line a failure names, and the --shard split (each file in
 * exactly one shard, the same split whatever the order given, balanced by
 * timings).  Each checker is also fed a case it must reject. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_markup.h"
#include "../src/run.h"

/* Is s (NUL-terminated) valid UTF-8 with no byte XML 1.0 forbids? */
static int valid_xml_utf8(const char *s)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t n = strlen(s);

    for (size_t i = 0; i < n;) {
        size_t k = nr_markup_utf8_len(u + i, n - i);
        if (k == 0 || (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r'))
            return 0;
        i += k;
    }
    return 1;
}

static void utf8_escapes_what_is_not(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        int xml;
        const char *out;
    } cases[] = {
        { "plain", 5, 0, "plain" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 1, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "caf\xe9", 4, 0, "caf\\xE9" },                   /* Latin-1, not UTF-8 */
        { "\xc0\xaf", 2, 0, "\\xC0\\xAF" },                 /* overlong '/' */
        { "\xed\xa0\x80", 3, 0, "\\xED\\xA0\\x80" },        /* a surrogate */
        { "\xe2\x82", 2, 0, "\\xE2\\x82" },                 /* cut short */
        { "\xef\xbf\xbe", 3, 1, "\\xEF\\xBF\\xBE" },        /* U+FFFE */
        { "a\0b", 3, 1, "a\\x00b" },                        /* NUL inside */
        { "bell\a\ttab\nnl", 12, 1, "bell\\x07\ttab\nnl" }, /* XML: controls */
        { "bell\a", 5, 0, "bell\a" },                       /* JSON escapes it itself */
        { "back\\xslash", 11, 1, "back\\xslash" },          /* a backslash stays */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = run_utf8(cases[i].in, cases[i].len, cases[i].xml);
        assert_non_null(got);
        assert_string_equal(got, cases[i].out);
        if (cases[i].xml)
            assert_true(valid_xml_utf8(got));
        free(got);
    }
    /* every byte value alone, and every pair, comes out valid */
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b += 15) {
            char in[2] = { (char)a, (char)b }, *got = run_utf8(in, 2, 1);
            assert_non_null(got);
            assert_true(valid_xml_utf8(got));
            free(got);
        }
    /* must fail: the checker rejects raw bytes that are not UTF-8 or XML */
    assert_false(valid_xml_utf8("caf\xe9"));
    assert_false(valid_xml_utf8("\xef\xbf\xbf"));
    assert_false(valid_xml_utf8("bell\a"));
}

static void where_a_message_points(void **state)
{
    struct run_result r = { .path = "d/x.scn" };
    char *file;

    (void)state;
    r.message = "d/x.scn:12: expect a \"hi\"\n  bytes differ\n";
    assert_int_equal(run_result_where(&r, &file), 12);
    assert_string_equal(file, "d/x.scn");
    free(file);
    r.message = "inc/common.inc:3:7: expected a duration";
    assert_int_equal(run_result_where(&r, &file), 3);
    assert_string_equal(file, "inc/common.inc");
    free(file);
    r.message = "d/x.scn: at the end of the scenario:\n  line 4: target crashed";
    assert_int_equal(run_result_where(&r, &file), 0); /* a line number on line 2 only */
    assert_null(file);
    r.message = ":5: nothing before the colon";
    assert_int_equal(run_result_where(&r, &file), 0);
    r.message = NULL;
    assert_int_equal(run_result_where(&r, &file), 0);
    assert_null(file);
}

/* Do the shards of n paths hold each exactly once?  (The checker.) */
static int covers_once(const unsigned *shard_of, size_t n, unsigned nshards, size_t *per)
{
    memset(per, 0, nshards * sizeof(*per));
    for (size_t i = 0; i < n; i++) {
        if (shard_of[i] >= nshards)
            return 0;
        per[shard_of[i]]++;
    }
    return 1;
}

static void shards_cover_each_file_once(void **state)
{
    char *paths[23], *rev[23];
    unsigned of[23], of_rev[23];
    size_t per[5], total;
    double secs[23];

    (void)state;
    for (size_t i = 0; i < 23; i++) {
        assert_true(asprintf(&paths[i], "suite/%c/%02zu.scn", (int)('a' + i % 4), i) > 0);
        rev[22 - i] = paths[i];
        secs[i] = (double)(i % 5) + 0.25;
    }
    for (unsigned n = 1; n <= 5; n++) {
        for (int timed = 0; timed < 2; timed++) {
            assert_int_equal(run_shard_assign(paths, timed ? secs : NULL, 23, n, of), 0);
            assert_true(covers_once(of, 23, n, per));
            total = 0;
            for (unsigned k = 0; k < n; k++)
                total += per[k];
            assert_int_equal(total, 23);
            if (!timed) /* round-robin: sizes differ by one at most */
                for (unsigned k = 0; k < n; k++)
                    assert_true(per[k] == 23 / n || per[k] == 23 / n + 1);
            /* the same split whatever order the paths come in */
            {
                double rsecs[23];
                for (size_t i = 0; i < 23; i++)
                    rsecs[22 - i] = secs[i];
                assert_int_equal(run_shard_assign(rev, timed ? rsecs : NULL, 23, n, of_rev), 0);
                for (size_t i = 0; i < 23; i++)
                    assert_int_equal(of[i], of_rev[22 - i]);
            }
        }
    }
    /* must fail: the checker rejects a shard number out of range */
    of[3] = 5;
    assert_false(covers_once(of, 23, 5, per));
    for (size_t i = 0; i < 23; i++)
        free(paths[i]);
}

static void timings_balance_the_shards(void **state)
{
    char *paths[] = { "a.scn", "b.scn", "c.scn", "d.scn", "e.scn", "f.scn" };
    double secs[] = { 60, 1, 1, 1, 1, 1 }, load[2] = { 0 };
    unsigned of[6];

    (void)state;
    /* round-robin would put a.scn (60 s) with c and e: 62 s against 3 s */
    assert_int_equal(run_shard_assign(paths, secs, 6, 2, of), 0);
    for (size_t i = 0; i < 6; i++)
        load[of[i]] += secs[i];
    assert_true(load[0] == 60 && load[1] == 5);
    /* unknown durations count as the average of the known ones */
    secs[1] = -1;
    assert_int_equal(run_shard_assign(paths, secs, 6, 2, of), 0);
    assert_int_not_equal(of[0], of[1]);
}

static void shard_syntax(void **state)
{
    unsigned k, n;

    (void)state;
    assert_int_equal(run_shard_parse("1/1", &k, &n), 0);
    assert_int_equal(run_shard_parse("3/5", &k, &n), 0);
    assert_true(k == 3 && n == 5);
    assert_int_equal(run_shard_parse("0/5", &k, &n), -1);
    assert_int_equal(run_shard_parse("6/5", &k, &n), -1);
    assert_int_equal(run_shard_parse("1/0", &k, &n), -1);
    assert_int_equal(run_shard_parse("-1/5", &k, &n), -1);
    assert_int_equal(run_shard_parse("1/-5", &k, &n), -1);
    assert_int_equal(run_shard_parse("2", &k, &n), -1);
    assert_int_equal(run_shard_parse("2/3x", &k, &n), -1);
    assert_int_equal(run_shard_parse("/3", &k, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_escapes_what_is_not),
        cmocka_unit_test(where_a_message_points),
        cmocka_unit_test(shards_cover_each_file_once),
        cmocka_unit_test(timings_balance_the_shards),
        cmocka_unit_test(shard_syntax),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
