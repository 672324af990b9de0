/* Tests of the fault proxy's seed as a user meets it: `netrig run --seed N`
 * replays every random choice (the same datagrams dropped and duplicated,
 * so the same ledger), another seed makes other choices, a run without
 * --seed is deterministic too (its seed comes from the scenario's path),
 * a failure names the seed to replay, and a malformed --seed is a usage
 * error.  The toxics' own effects are in test_fault.c; the scenarios that
 * observe them on the wire in harness/scenarios. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner_util.h"

/* 40 datagrams through drop 50% and duplicate 30%: the ledger at the end
 * says which fate the seed chose. */
static const char drops[] =
    "target srv = udp-echo --port 0\n"
    "proxy p = udp ${srv}\n"
    "fault p up drop 50%\n"
    "fault p up duplicate 30%\n"
    "connect q = udp ${p}\n"
    "repeat 40\n"
    "    send q \"d${i}\"\n"
    "end\n"
    "ledger p up datagrams_in 40 within 2s\n"
    "ledger p down datagrams_in = up datagrams_out within 2s\n";

/* Run drops.scn with extra arguments (NULL: none) into artifacts art; return
 * the proxy's `up` ledger line of its step log (malloc'd). */
static char *ledger_of(const char *art, const char *seed)
{
    char path[256], *log, *line, *end;
    int rc;

    if (seed)
        rc = ru_netrig("run", "--seed", seed, "-k", "-a", art, "drops.scn", NULL);
    else
        rc = ru_netrig("run", "-k", "-a", art, "drops.scn", NULL);
    if (rc != 0)
        fail_msg("drops.scn exited %d:\n%s", rc, ru_out());
    snprintf(path, sizeof(path), "%s/drops.scn/steps.log", art);
    log = ru_read(path);
    assert_non_null(log);
    line = strstr(log, "proxy p up:");
    assert_non_null(line);
    end = strchr(line, '\n');
    return strndup(line, end ? (size_t)(end - line) : strlen(line));
}

static void same_seed_same_choices(void **state)
{
    char *a, *b, *c;

    (void)state;
    ru_write("drops.scn", drops);
    a = ledger_of("s7a", "7");
    b = ledger_of("s7b", "7");
    c = ledger_of("s8", "8");
    assert_string_equal(a, b);
    ru_assert_contains(a, "dropped ");
    ru_assert_contains(a, "duplicated ");
    /* another seed: another set of fates (for these two seeds they differ;
     * a collision would be one chance in about 2^40) */
    if (strcmp(a, c) == 0)
        fail_msg("seeds 7 and 8 made the same choices: %s", a);
    ru_assert_contains(ru_read("s7a/drops.scn/steps.log"), "seed 7");
    free(a);
    free(b);
    free(c);
}

static void default_seed_is_deterministic(void **state)
{
    char *a, *b;

    (void)state;
    ru_write("drops.scn", drops);
    a = ledger_of("d1", NULL);
    b = ledger_of("d2", NULL);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void failure_names_the_seed(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("late.scn",
                                "target srv = tcp-echo --port 0\n"
                                "proxy p = tcp ${srv}\n"
                                "fault p latency 100ms\n"
                                "connect a = tcp ${p}\n"
                                "send a \"x\"\n"
                                "expect a \"x\" within 50ms\n"),
                     1);
    ru_assert_contains(ru_out(), "late.scn:6: ");
    ru_assert_contains(ru_out(), "fault proxies' seed ");
    ru_assert_contains(ru_out(), "replays their choices");
    /* a scenario without a proxy has no seed to name */
    assert_int_equal(ru_run_scn("plain.scn", "target srv = tcp-echo --port 0\n"
                                             "connect a = tcp ${srv}\n"
                                             "expect a \"x\" within 50ms\n"),
                     1);
    if (strstr(ru_out(), "seed"))
        fail_msg("a failure without a proxy names a seed:\n%s", ru_out());
}

static void bad_seed_is_a_usage_error(void **state)
{
    (void)state;
    ru_write("drops.scn", drops);
    assert_int_equal(ru_netrig("run", "--seed", "-1", "drops.scn", NULL), 2);
    ru_assert_contains(ru_err(), "--seed");
    assert_int_equal(ru_netrig("run", "--seed", "12x", "drops.scn", NULL), 2);
    assert_int_equal(ru_netrig("run", "--seed", "18446744073709551616", "drops.scn", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_choices),
        cmocka_unit_test(default_seed_is_deterministic),
        cmocka_unit_test(failure_names_the_seed),
        cmocka_unit_test(bad_seed_is_a_usage_error),
    };
    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
