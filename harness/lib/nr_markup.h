/* nr_markup.h - the one escaping function of netrig's HTML and SVG output.
 *
 * Text from anywhere (scenario names, payloads, target output: any bytes)
 * is written so that it is inert and well-formed in XML 1.0, SVG and HTML,
 * in element content and in quoted attribute values alike. */
#ifndef NR_MARKUP_H
#define NR_MARKUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0): 1 to 4, or 0 when
 * s[0] does not start one (overlong forms, surrogates, U+FFFE, U+FFFF,
 * code points past U+10FFFF, a sequence cut by the end: RFC 3629). */
size_t nr_markup_utf8_len(const uint8_t *s, size_t n);

/* Write buf[0..len) to f escaped: & < > " ' as character references; valid
 * UTF-8 as it is (except U+FFFE, U+FFFF); every byte that is not part of a
 * valid UTF-8 sequence (overlong forms and surrogates included) and every
 * control character but tab and newline as the four characters \xNN; with
 * oneline, tab, newline and carriage return too, as \t \n \r.  Returns the
 * number of input bytes that had to be shown as \xNN. */
size_t nr_markup_esc(FILE *f, const void *buf, size_t len, int oneline);

/* nr_markup_esc of a NUL-terminated string (NULL writes nothing). */
size_t nr_markup_str(FILE *f, const char *s, int oneline);

#endif
