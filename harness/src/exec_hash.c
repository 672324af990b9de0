/* exec_hash.c - the stream hash the wire judge compares byte streams by
 * (XXH3, 64 bit, libxxhash): the runner's sockets and the proxies' legs
 * hash what they send and receive, the judge what the capture carried. */
#include "exec.h"

XXH3_state_t *exec_hash_new(void)
{
    XXH3_state_t *h = XXH3_createState();

    if (h && XXH3_64bits_reset(h) != XXH_OK) {
        XXH3_freeState(h);
        h = NULL;
    }
    return h;
}

uint64_t exec_hash_add(XXH3_state_t *h, const void *p, size_t n)
{
    if (n)
        XXH3_64bits_update(h, p, n);
    return XXH3_64bits_digest(h);
}

uint64_t exec_hash(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}
