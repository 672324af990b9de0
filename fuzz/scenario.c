/* scenario.c - fuzz harness for the scenario parser: the input is a
 * scenario file's bytes, parsed by nr_scn_parse and freed. */
#include <stdint.h>
#include <stdlib.h>

#include "nr_err.h"
#include "nr_scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_scn s;

    errbuf[0] = '\0';
    if (nr_scn_parse(data, size, "fuzz.scn", &s, errbuf) == 0)
        nr_scn_free(&s);
    else if (errbuf[0] == '\0')
        abort(); /* every parse error must say what went wrong */
    return 0;
}
