/* test_flaky.c - a flaky test for the fixture: when is_small(10) is wrong it
 * fails every other run (a marker file in DIR, argv[1], remembers), as a
 * test that depends on timing does.  The runner must not call that a kill. */
#include <stdio.h>
#include <unistd.h>

#include "calc.h"

int main(int argc, char **argv)
{
    char path[4096];
    FILE *f;

    if (argc < 2 || !is_small(10))
        return 0;
    snprintf(path, sizeof(path), "%s/flaky.marker", argv[1]);
    if (unlink(path) == 0)
        return 0;           /* failed last time: pass now */
    f = fopen(path, "w");
    if (f)
        fclose(f);
    return 1;
}
