/* fz_records.c - parser and writer of the stateful fuzz input records. */
#include "fz_records.h"

#include <string.h>

int fz_rec_next(struct nr_cursor *c, struct fz_rec *r)
{
    uint8_t conn, action;
    uint16_t len;
    const uint8_t *data;

    for (;;) {
        if (nr_cur_u8(c, &conn) < 0 || nr_cur_u8(c, &action) < 0 ||
            nr_cur_be16(c, &len) < 0 || nr_cur_bytes(c, len, &data) < 0)
            return 0;
        if (action > FZ_DRAIN)
            continue;
        r->conn = conn % FZ_MAX_CONNS;
        r->action = (enum fz_action)action;
        r->data = data;
        r->len = len;
        return 1;
    }
}

int fz_rec_put(uint8_t *out, size_t cap, size_t *used, unsigned conn,
               enum fz_action action, const void *data, size_t len)
{
    if (len > 0xffff || *used > cap || cap - *used < FZ_REC_HDR || cap - *used - FZ_REC_HDR < len)
        return -1;
    out[*used] = (uint8_t)conn;
    out[*used + 1] = (uint8_t)action;
    out[*used + 2] = (uint8_t)(len >> 8);
    out[*used + 3] = (uint8_t)len;
    if (len)
        memcpy(out + *used + FZ_REC_HDR, data, len);
    *used += FZ_REC_HDR + len;
    return 0;
}
