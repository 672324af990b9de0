/* Unit tests: payload generation (exec_gen.c).  The pattern's fast path
 * (whole 256-byte blocks) must give exactly nr_pattern_byte's bytes at every
 * alignment, length and offset, including offsets whose product wraps; a
 * repeated payload must repeat from any offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/exec.h"

#define SPAN 1100 /* bytes: more than four blocks, so heads, blocks and tails all occur */

/* exec_gen_fill's pattern bytes pos..pos+n against nr_pattern_byte's, and
 * the bytes after them untouched; fails naming the first difference. */
static void check_pattern(uint64_t pos, size_t n)
{
    struct exec_gen g = { .kind = NR_PL_PATTERN, .total = UINT64_MAX };
    uint8_t buf[SPAN + 1];

    memset(buf, 0xa5, sizeof(buf));
    exec_gen_fill(&g, pos, buf, n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != nr_pattern_byte(pos + i))
            fail_msg("pattern at %llu, %zu bytes: byte %zu is %02x, not %02x",
                     (unsigned long long)pos, n, i, buf[i], nr_pattern_byte(pos + i));
    assert_int_equal(buf[n], 0xa5);
}

static void pattern_every_alignment_and_length(void **state)
{
    (void)state;
    for (uint64_t pos = 0; pos < 512; pos++)
        for (size_t n = 0; n <= SPAN; n += pos % 7 + 1)
            check_pattern(pos, n);
    for (size_t n = 0; n <= SPAN; n++)
        check_pattern(256, n);
}

static void pattern_far_offsets(void **state)
{
    static const uint64_t at[] = { 1ull << 32, (1ull << 32) - 3, 64ull << 20, (1ull << 56) - 256,
                                   UINT64_MAX - SPAN - 300, 0x123456789abcdefull };
    (void)state;
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++)
        for (uint64_t d = 0; d < 300; d += 37)
            check_pattern(at[k] + d, SPAN);
}

/* The check can fail: a generator that is one byte off (the bytes of
 * pos + 1) is told apart at every offset tried. */
static void pattern_off_by_one_is_seen(void **state)
{
    struct exec_gen g = { .kind = NR_PL_PATTERN, .total = UINT64_MAX };
    uint8_t a[SPAN], b[SPAN];
    (void)state;

    for (uint64_t pos = 0; pos < 1024; pos += 61) {
        exec_gen_fill(&g, pos, a, sizeof(a));
        exec_gen_fill(&g, pos + 1, b, sizeof(b));
        assert_memory_not_equal(a, b, sizeof(a));
    }
}

static void repeated_bytes_from_any_offset(void **state)
{
    uint8_t data[] = "abcdefg";
    struct exec_gen g = { .kind = NR_PL_BYTES, .data = data, .dlen = 7, .total = 7 * 50 };
    uint8_t buf[64];
    (void)state;

    for (uint64_t pos = 0; pos < 30; pos++) {
        exec_gen_fill(&g, pos, buf, sizeof(buf));
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], data[(pos + i) % 7]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pattern_every_alignment_and_length),
        cmocka_unit_test(pattern_far_offsets),
        cmocka_unit_test(pattern_off_by_one_is_seen),
        cmocka_unit_test(repeated_bytes_from_any_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
