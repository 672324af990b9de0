/* nr_markup.c - escaping any bytes for XML, SVG and HTML. */
#include "nr_markup.h"

#include <stdint.h>
#include <string.h>

size_t nr_markup_utf8_len(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t k;
    uint32_t cp, min;

    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        k = 2, cp = b & 0x1f, min = 0x80;
    else if (b >= 0xe0 && b <= 0xef)
        k = 3, cp = b & 0x0f, min = 0x800;
    else if (b >= 0xf0 && b <= 0xf4)
        k = 4, cp = b & 0x07, min = 0x10000;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff)
        return 0;
    return k;
}

size_t nr_markup_esc(FILE *f, const void *buf, size_t len, int oneline)
{
    const uint8_t *s = buf;
    size_t bad = 0, k;

    for (size_t i = 0; i < len; i += k) {
        uint8_t c = s[i];
        k = nr_markup_utf8_len(s + i, len - i);
        if (k > 1) {
            fwrite(s + i, 1, k, f);
            continue;
        }
        k = 1;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\n': fputs(oneline ? "\\n" : "\n", f); break;
        case '\t': fputs(oneline ? "\\t" : "\t", f); break;
        case '\r':
            if (oneline) {
                fputs("\\r", f);
                break;
            }
            /* fall through */
        default:
            if (c >= 0x20 && c < 0x7f) {
                putc(c, f);
            } else {
                fprintf(f, "\\x%02x", c);
                bad++;
            }
        }
    }
    return bad;
}

size_t nr_markup_str(FILE *f, const char *s, int oneline)
{
    return s ? nr_markup_esc(f, s, strlen(s), oneline) : 0;
}
