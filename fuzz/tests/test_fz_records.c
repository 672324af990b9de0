/* Unit tests of the stateful fuzz record format (fuzz/lib/fz_records.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/fz_records.h"

static void parses_records_in_order(void **state)
{
    static const uint8_t in[] = { 0, 0, 0, 3, 'a', 'b', 'c', 5, 3, 0, 0, 2, 2, 0, 0 };
    struct nr_cursor c;
    struct fz_rec r;

    (void)state;
    nr_cur_init(&c, in, sizeof(in));
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(r.conn, 0);
    assert_int_equal(r.action, FZ_SEND);
    assert_int_equal(r.len, 3);
    assert_memory_equal(r.data, "abc", 3);
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(r.conn, 5 % FZ_MAX_CONNS);
    assert_int_equal(r.action, FZ_DRAIN);
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(r.conn, 2);
    assert_int_equal(r.action, FZ_CLOSE);
    assert_int_equal(fz_rec_next(&c, &r), 0);
}

static void skips_unknown_actions(void **state)
{
    static const uint8_t in[] = { 1, 9, 0, 2, 'x', 'y', 1, 0xff, 0, 0, 3, 1, 0, 1, 'z' };
    struct nr_cursor c;
    struct fz_rec r;

    (void)state;
    nr_cur_init(&c, in, sizeof(in));
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(r.conn, 3);
    assert_int_equal(r.action, FZ_SHUT_WR);
    assert_int_equal(r.len, 1); /* payload of a non-send record is still skipped past */
    assert_int_equal(fz_rec_next(&c, &r), 0);
}

static void length_past_end_ends_input(void **state)
{
    static const uint8_t in[] = { 0, 0, 0, 1, 'a', 0, 0, 0x01, 0x00, 'b', 'c', 0, 0 };
    struct nr_cursor c;
    struct fz_rec r;

    (void)state;
    nr_cur_init(&c, in, sizeof(in));
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(fz_rec_next(&c, &r), 0);
    assert_int_equal(fz_rec_next(&c, &r), 0);
    for (size_t n = 0; n < 4; n++) { /* short headers */
        nr_cur_init(&c, in, n);
        assert_int_equal(fz_rec_next(&c, &r), 0);
    }
}

static void put_round_trips_and_bounds(void **state)
{
    uint8_t buf[16];
    size_t used = 0;
    struct nr_cursor c;
    struct fz_rec r;

    (void)state;
    assert_int_equal(fz_rec_put(buf, sizeof(buf), &used, 1, FZ_SEND, "hello", 5), 0);
    assert_int_equal(used, 9);
    assert_int_equal(fz_rec_put(buf, sizeof(buf), &used, 1, FZ_CLOSE, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, sizeof(buf), &used, 1, FZ_SEND, "abc", 3), -1);
    assert_int_equal(used, 13);
    nr_cur_init(&c, buf, used);
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_memory_equal(r.data, "hello", 5);
    assert_int_equal(fz_rec_next(&c, &r), 1);
    assert_int_equal(r.action, FZ_CLOSE);
    assert_int_equal(fz_rec_next(&c, &r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_records_in_order),
        cmocka_unit_test(skips_unknown_actions),
        cmocka_unit_test(length_past_end_ends_input),
        cmocka_unit_test(put_round_trips_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
