/* run_hexdiff.c - expected vs actual bytes, side by side, first difference
 * marked.  Shows a few rows of context around the first differing offset. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

#define ROW 16
#define CONTEXT_ROWS 2

/* One half of a row: hex bytes then printable ASCII. */
static void half(FILE *f, const uint8_t *p, size_t len, size_t off)
{
    for (size_t i = 0; i < ROW; i++) {
        if (off + i < len)
            fprintf(f, "%02x", p[off + i]);
        else
            fputs("  ", f);
        fputc(i == 7 ? '-' : ' ', f);
    }
    fputc('|', f);
    for (size_t i = 0; i < ROW; i++)
        fputc(off + i < len ? (isprint(p[off + i]) ? p[off + i] : '.') : ' ', f);
    fputc('|', f);
}

void run_hexdiff(FILE *f, uint64_t base, const uint8_t *exp, size_t elen, const uint8_t *act,
                 size_t alen)
{
    size_t diff = 0, max = elen > alen ? elen : alen, first, last;

    while (diff < elen && diff < alen && exp[diff] == act[diff])
        diff++;
    if (diff == elen && diff == alen) {
        fprintf(f, "  (identical, %zu bytes at offset %llu)\n", elen, (unsigned long long)base);
        return;
    }
    fprintf(f, "  first difference at offset %llu (0x%llx)\n",
            (unsigned long long)(base + diff), (unsigned long long)(base + diff));
    fprintf(f, "  %-8s  %-65s  %s\n", "offset", "expected", "actual");
    first = diff / ROW > CONTEXT_ROWS ? (diff / ROW - CONTEXT_ROWS) * ROW : 0;
    last = (diff / ROW + CONTEXT_ROWS + 1) * ROW;
    if (last > max)
        last = max;
    for (size_t off = first; off < last || off == first; off += ROW) {
        int here = diff >= off && diff < off + ROW;
        fprintf(f, "%s%08llx  ", here ? "> " : "  ", (unsigned long long)(base + off));
        half(f, exp, elen, off);
        fputs("  ", f);
        half(f, act, alen, off);
        fputc('\n', f);
        if (here)
            fprintf(f, "  %8s  %*s^^\n", "", (int)((diff - off) * 3), "");
    }
    if (last < max)
        fprintf(f, "  ... %zu more bytes\n", max - last);
}
