/* test_fault_inproc.c - the in-process use of the fault injector
 * (fault_inproc.h): an armed rule fails exactly the call it names, counts
 * from the arming, and nothing fails once disarmed. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fault_inproc.h"

/* An allocation the compiler cannot drop or merge. */
static void *volatile keep[4];

static void nth_malloc_fails_and_only_it(void **state)
{
    int failed[4], err = 0;
    unsigned long n;

    (void)state;
    assert_int_equal(fault_inproc_set("malloc:2"), 1);
    for (int i = 0; i < 4; i++) {
        errno = 0;
        keep[i] = malloc(32);
        failed[i] = keep[i] == NULL;
        if (failed[i])
            err = errno;
    }
    n = fault_inproc_off();
    for (int i = 0; i < 4; i++)
        free(keep[i]);
    assert_int_equal(n, 1);
    assert_int_equal(failed[0], 0);
    assert_int_equal(failed[1], 1);
    assert_int_equal(err, ENOMEM);
    assert_int_equal(failed[2], 0);
    assert_int_equal(failed[3], 0);
}

static void onward_rule_fails_every_later_call_until_disarmed(void **state)
{
    void *p = malloc(8), *q;
    int failed[2];
    unsigned long n;

    (void)state;
    assert_non_null(p);
    assert_int_equal(fault_inproc_set("realloc:1+"), 1);
    for (int i = 0; i < 2; i++) {
        q = realloc(p, 64 << i);
        failed[i] = q == NULL;
        if (q)
            p = q;
    }
    n = fault_inproc_off();
    q = realloc(p, 256);
    if (q)
        p = q;
    free(p);
    assert_int_equal(failed[0], 1);
    assert_int_equal(failed[1], 1);
    assert_int_equal(n, 2);
    assert_non_null(q);
}

static void a_malformed_rule_is_refused(void **state)
{
    (void)state;
    assert_int_equal(fault_inproc_set("malloc:0"), 0);
    assert_int_equal(fault_inproc_set("nosuchcall:1"), 0);
    keep[0] = malloc(8);
    assert_int_equal(fault_inproc_off(), 0);
    assert_non_null(keep[0]);
    free(keep[0]);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nth_malloc_fails_and_only_it),
        cmocka_unit_test(onward_rule_fails_every_later_call_until_disarmed),
        cmocka_unit_test(a_malformed_rule_is_refused),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
