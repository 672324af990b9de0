/* scenario.c - fuzz harness for the scenario parser: the input is a
 * scenario file's bytes, parsed by nr_scn_parse.  Oracles: a parse error
 * always says what went wrong; a scenario that parses is printed in its
 * canonical form (nr_scn_print), which must parse again and print the
 * same text (parse -> print -> parse is stable). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_err.h"
#include "nr_scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s in canonical text (malloc'd); NULL when out of memory. */
static char *print(const struct nr_scn *s, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    if (!f)
        return NULL;
    nr_scn_print(f, s);
    fclose(f);
    return text;
}

/* Does text hold a line longer than the parser takes?  (Escaping can make
 * a line up to four times longer than the one that was read.) */
static int has_long_line(const char *text, size_t len)
{
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if ((size_t)((nl ? nl : end) - p) > NR_SCN_LINE_MAX)
            return 1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static void violated(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "scenario harness: %s\n--- first\n%s\n--- second\n%s\n", what, a, b ? b : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errbuf[NR_ERRBUF_SIZE], *one = NULL, *two = NULL;
    struct nr_scn s, again;
    size_t n1 = 0, n2 = 0;

    errbuf[0] = '\0';
    if (nr_scn_parse(data, size, "fuzz.scn", &s, errbuf) != 0) {
        if (errbuf[0] == '\0')
            abort(); /* every parse error must say what went wrong */
        return 0;
    }
    one = print(&s, &n1);
    if (one && !has_long_line(one, n1)) {
        if (nr_scn_parse((const uint8_t *)one, n1, "printed.scn", &again, errbuf) != 0)
            violated("the printed scenario does not parse", one, errbuf);
        two = print(&again, &n2);
        if (two && (n1 != n2 || memcmp(one, two, n1) != 0))
            violated("printed, parsed and printed again, the text differs", one, two);
        if (again.steps.n != s.steps.n)
            violated("the printed scenario has another number of steps", one, two);
        nr_scn_free(&again);
    }
    free(one);
    free(two);
    nr_scn_free(&s);
    return 0;
}
