/* fz_opts.h - limits and options a harness draws from its input, so that
 * every resource boundary (header count, head bytes, buffer sizes, slots)
 * is a few mutations away instead of fixed at production values that
 * random inputs rarely reach.
 *
 * An input may start with an options record, in the record format
 * (fz_records.h) with action FZ_OPTS:
 *     [u8 ignored][u8 FZ_OPTS = 4][u16 big-endian len][len option bytes]
 * followed by the harness's usual input.  Options are read in a fixed
 * order per harness (documented at its top and in fuzz/README.md); each
 * takes one byte (fz_opt_u8) or two big-endian bytes (fz_opt_u16).  A
 * missing option (no options record, or one too short) and a zero value
 * mean the harness's default, so an input without the record runs as it
 * always did; any other value v maps into [lo, hi] as lo + (v - 1) mod
 * (hi - lo + 1).  Record-format drivers skip an FZ_OPTS record anyway
 * (unknown action), so the preload library and `netrig pcap seeds` are
 * unaffected. */
#ifndef FZ_OPTS_H
#define FZ_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define FZ_OPTS 4 /* the action byte of an options record */

/* The option bytes of one input, consumed in order. */
struct fz_opts {
    const uint8_t *p;
    size_t n, i;
};

/* If data[0..*size) starts with a complete options record, point o at its
 * payload and advance *data / *size past it; otherwise leave them and make
 * o empty (every option its default). */
void fz_opts_take(struct fz_opts *o, const uint8_t **data, size_t *size);

/* The next one-byte option: dflt when absent or 0, else in [lo, hi]. */
unsigned fz_opt_u8(struct fz_opts *o, unsigned dflt, unsigned lo, unsigned hi);

/* The next two-byte (big-endian) option: dflt when absent or 0, else in
 * [lo, hi]. */
unsigned fz_opt_u16(struct fz_opts *o, unsigned dflt, unsigned lo, unsigned hi);

#endif
