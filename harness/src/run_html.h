/* run_html.h - `netrig run --html FILE`: one self-contained HTML report.
 * Not a public API. */
#ifndef RUN_HTML_H
#define RUN_HTML_H

#include <stddef.h>

#include "run.h"

/* Write the report of n results to path (through path.tmp, renamed at the
 * end): every scenario with its outcome and time, a filter, and for each
 * one whose artifacts directory exists its steps (the failing one
 * highlighted, with its message), the tails of its targets' stderr and the
 * ladder diagram of its capture (a capture that cannot be read is said to
 * be so).  Inline CSS, JS and SVG only: it opens from disk, fetches
 * nothing.  Returns 0, or -1 with errbuf set.  Reads the results, owns
 * none. */
int run_report_html(const char *path, const struct run_result *r, size_t n, char *errbuf);

#endif
