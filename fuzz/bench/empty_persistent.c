/* empty_persistent.c - benchmark ceiling: a harness that does nothing, run
 * by AFL++'s libFuzzer driver in persistent mode. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
