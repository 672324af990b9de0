/* Unit tests of nr_fault.c's PRNG and name hash written for make mutate's
 * survivors: a run seed must reproduce the same faults in every build, so
 * the streams are pinned to splitmix64's and FNV-1a's published values (a
 * changed mixing constant passed every test that only compared two runs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nr_fault.h"

/* splitmix64 from state 0: the reference implementation's first outputs. */
static void splitmix64_reference(void **state)
{
    struct nr_rng r = { .s = 0 };

    (void)state;
    assert_int_equal(nr_rng_next(&r), 0xe220a8397b1dcdafull);
    assert_int_equal(nr_rng_next(&r), 0x6e789e6aa1b965f4ull);
    assert_int_equal(nr_rng_next(&r), 0x06c45d188009454full);
}

/* nr_rng_init mixes the salt in and discards one draw: seed 1, salt 2. */
static void seeded_stream(void **state)
{
    struct nr_rng r;

    (void)state;
    nr_rng_init(&r, 1, 2);
    assert_int_equal(nr_rng_next(&r), 0xf977a0eab49ffb2full);
    assert_int_equal(nr_rng_next(&r), 0xaa2f8b9354b1699bull);
}

/* below(0) is 0 without mattering; chance(0) never, chance(10000) always. */
static void bounds(void **state)
{
    struct nr_rng r = { .s = 0 };

    (void)state;
    assert_int_equal(nr_rng_below(&r, 0), 0);
    assert_int_equal(nr_rng_below(&r, 1), 0);
    for (int i = 0; i < 1000; i++) {
        assert_false(nr_rng_chance(&r, 0));
        assert_true(nr_rng_chance(&r, 10000));
        assert_true(nr_rng_below(&r, 7) < 7);
    }
    r.s = 0;
    assert_int_equal(nr_rng_below(&r, 1000), 0xe220a8397b1dcdafull % 1000);
}

/* FNV-1a 64 test vectors. */
static void name_hash(void **state)
{
    (void)state;
    assert_int_equal(nr_fault_hash(""), 0xcbf29ce484222325ull);
    assert_int_equal(nr_fault_hash("a"), 0xaf63dc4c8601ec8cull);
    assert_int_equal(nr_fault_hash("latency"), 0xaf0c611526eab2b9ull);
}

/* A ledger item past the last has no name ("?"), the last one has one. */
static void ledger_name_bound(void **state)
{
    (void)state;
    assert_string_equal(nr_ledger_name(NR_L_COUNT), "?");
    assert_string_not_equal(nr_ledger_name((enum nr_ledger_item)(NR_L_COUNT - 1)), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splitmix64_reference),
        cmocka_unit_test(seeded_stream),
        cmocka_unit_test(bounds),
        cmocka_unit_test(name_hash),
        cmocka_unit_test(ledger_name_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
