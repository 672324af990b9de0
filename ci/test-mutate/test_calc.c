/* test_calc.c - the fixture's test: exits 1 on the first wrong answer. */
#include <string.h>

#include "calc.h"

int main(void)
{
    return !(clamp(5, 0, 10) == 5 && clamp(-1, 0, 10) == 0 && clamp(11, 0, 10) == 10 &&
             count_to(3) == 3 && diff_of(7, 2) == 5 &&
             strcmp(label(), "a < b || 1 == 2; x(1, 2);") == 0);
}
