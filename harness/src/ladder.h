/* ladder.h - draw a ladder (nr_ladder.h) as SVG, for `netrig pcap ladder`
 * and the HTML report.  Not a public API. */
#ifndef LADDER_H
#define LADDER_H

#include <stdint.h>
#include <stdio.h>

#include "nr_ladder.h"

/* The style sheet of the drawing (classes lane, pkt, band, step...). */
extern const char ladder_css[];

/* Write the ladder l as one <svg> element to f: lanes, arrows and bands in
 * time order with the time axis on the left, the steps of log (may be NULL;
 * placed by its clock line) across it, a legend and notes.  standalone:
 * a complete SVG file (XML declaration, namespace, its own style sheet);
 * else an element to inline in HTML, which carries ladder_css. */
void ladder_svg(FILE *f, const struct nr_ladder *l, const struct nr_ladder_log *log,
                int standalone);

/* The whole file at path: malloc'd bytes (the caller frees them) and
 * their count in *len, or NULL when it cannot be read. */
uint8_t *ladder_slurp(const char *path, size_t *len);

#endif
