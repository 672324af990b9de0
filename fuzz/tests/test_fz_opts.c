/* Unit tests of the options record (fuzz/lib/fz_opts.c): how a harness
 * draws its limits from the start of an input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../lib/fz_opts.h"

static void takes_a_leading_record(void **state)
{
    static const uint8_t in[] = { 9, FZ_OPTS, 0, 3, 2, 0x01, 0x00, 'H', 'T' };
    const uint8_t *p = in;
    size_t n = sizeof(in);
    struct fz_opts o;

    (void)state;
    fz_opts_take(&o, &p, &n);
    assert_ptr_equal(p, in + 7);
    assert_int_equal(n, 2);
    assert_int_equal(fz_opt_u8(&o, 64, 1, 255), 2);
    assert_int_equal(fz_opt_u16(&o, 8192, 1, 65535), 256);
    assert_int_equal(fz_opt_u16(&o, 7, 1, 9), 7); /* past the record: default */
}

static void leaves_other_inputs_alone(void **state)
{
    static const uint8_t resp[] = "HTTP/1.1 200 OK\r\n";
    static const uint8_t rec[] = { 0, 0, 0, 1, 'x' };     /* a send record */
    static const uint8_t cut[] = { 0, FZ_OPTS, 0, 9, 1 }; /* len runs past the end */
    const uint8_t *ins[] = { resp, rec, cut };
    size_t lens[] = { sizeof(resp) - 1, sizeof(rec), sizeof(cut) };
    struct fz_opts o;

    (void)state;
    for (int i = 0; i < 3; i++) {
        const uint8_t *p = ins[i];
        size_t n = lens[i];

        fz_opts_take(&o, &p, &n);
        assert_ptr_equal(p, ins[i]);
        assert_int_equal(n, lens[i]);
        assert_int_equal(fz_opt_u8(&o, 64, 1, 255), 64);
    }
}

static void zero_is_the_default_and_values_wrap(void **state)
{
    static const uint8_t in[] = { 0, FZ_OPTS, 0, 4, 0, 9, 10, 0 };
    const uint8_t *p = in;
    size_t n = sizeof(in);
    struct fz_opts o;

    (void)state;
    fz_opts_take(&o, &p, &n);
    assert_int_equal(n, 0);
    assert_int_equal(fz_opt_u8(&o, 2, 1, 8), 2);  /* 0: default */
    assert_int_equal(fz_opt_u8(&o, 2, 1, 8), 1);  /* 9 wraps to 1 */
    assert_int_equal(fz_opt_u16(&o, 5, 3, 4), 4); /* 0x0a00: 3 + 2559 % 2 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(takes_a_leading_record),
        cmocka_unit_test(leaves_other_inputs_alone),
        cmocka_unit_test(zero_is_the_default_and_values_wrap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
