/* calc.c - the fixture ci/test-mutate.sh mutates.  Comments are not
 * mutated: a < b && c == 1 || d >= 2; f(x, y); return 0; */
#include "calc.h"

/* Equivalent mutants: v <= lo and v >= hi return the same value. */
int clamp(int v, int lo, int hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

/* Neither are strings: "a < b || 1 == 2" */
const char *label(void)
{
    return "a < b || 1 == 2; x(1, 2);";
}

/* Deleting i++ hangs the test: killed (timeout). */
int count_to(int n)
{
    int i = 0;

    while (i != n)
        i++;
    return i;
}

/* Only test_flaky calls it: is_small(10) true is a flaky kill, the rest survive. */
int is_small(int v)
{
    return v < 10;
}

int diff(int a, int b)
{
    return a - b;
}

int diff_of(int a, int b)
{
    return diff(a, b);
}

/* A planted bug of the fuzz self-test: never compiled, never mutated. */
int planted(int v)
{
#ifdef NETRIG_PLANT_BUG_CALC
    return v + 1;
#else
    return v;
#endif
}
