/* planted.c - a libFuzzer-style harness with one planted bug, for
 * ci/test-fuzz-campaign.sh: an input that starts "BUG" writes past a heap
 * buffer (built with -DPLANTED; without it that input goes on to be
 * compared with more bytes, harmlessly).  One comparison per byte (built at
 * -O0: the optimiser would merge them) gives AFL++ a coverage step per byte
 * found, so a campaign finds the bug in seconds and, without it, keeps
 * finding new paths for a while (afl-plot needs several rows of data). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BYTE(i, c)                            \
    if (size <= (i) || data[(i)] != (c))      \
        return 0;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf;

    BYTE(0, 'B') BYTE(1, 'U') BYTE(2, 'G')
    buf = malloc(8);
    if (!buf)
        return 0;
#ifdef PLANTED
    memset(buf, 0, 9); /* the planted bug: one byte past the buffer */
#else
    memset(buf, 0, 8);
#endif
    free(buf);
    BYTE(3, 'g') BYTE(4, 'y') BYTE(5, ' ') BYTE(6, 'o') BYTE(7, 'n') BYTE(8, 'l') BYTE(9, 'y')
    BYTE(10, ' ') BYTE(11, 'i') BYTE(12, 'f') BYTE(13, ' ') BYTE(14, 'p') BYTE(15, 'l')
    return 0;
}
