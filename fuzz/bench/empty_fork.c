/* empty_fork.c - benchmark ceiling: a program that reads its input on stdin
 * and exits, run by afl-fuzz through the forkserver (a fork per input). */
#include <unistd.h>

int main(void)
{
    char buf[4096];

    while (read(0, buf, sizeof(buf)) > 0)
        continue;
    return 0;
}
