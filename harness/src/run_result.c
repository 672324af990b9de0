/* run_result.c - a scenario's verdict as its process reports it to netrig
 * (one line with the status word, then the message to the end), and what
 * every report writer (run_report.c, run_json.c, run_github.c) reads of a
 * result: where its message points, its text as valid UTF-8. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "nr_markup.h"
#include "run.h"

static const char *const words[] = {
    [RUN_PASS] = "pass", [RUN_FAIL] = "fail", [RUN_ERROR] = "error",
    [RUN_SKIP] = "skip", [RUN_NOTRUN] = "not run",
};

const char *run_status_word(enum run_status st)
{
    return (unsigned)st < sizeof(words) / sizeof(words[0]) ? words[st] : "?";
}

int run_result_send(int fd, enum run_status st, const char *msg)
{
    const char *w = run_status_word(st);

    if (nr_write_all(fd, w, strlen(w), -1) < 0 || nr_write_all(fd, "\n", 1, -1) < 0)
        return -1;
    return msg ? nr_write_all(fd, msg, strlen(msg), -1) : 0;
}

int run_result_parse(const char *buf, enum run_status *st, char **msg)
{
    const char *nl = strchr(buf, '\n');

    if (!nl)
        return -1;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i]) == (size_t)(nl - buf) && memcmp(words[i], buf, (size_t)(nl - buf)) == 0) {
            *st = (enum run_status)i;
            *msg = nl[1] ? strdup(nl + 1) : NULL;
            return 0;
        }
    return -1;
}

char *run_utf8(const char *s, size_t len, int xml)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = malloc(4 * len + 1), *o = out; /* at worst every byte is \xNN */

    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t k = nr_markup_utf8_len(u + i, len - i); /* 0: not UTF-8 (nor U+FFFE, U+FFFF) */
        if (k == 0 || (xml && k == 1 && u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' &&
                       u[i] != '\r')) { /* XML 1.0 has no way to write these controls */
            o += sprintf(o, "\\x%02X", u[i]);
            i++;
            continue;
        }
        memcpy(o, u + i, k);
        o += k;
        i += k;
    }
    *o = '\0';
    return out;
}

int run_result_where(const struct run_result *r, char **file)
{
    const char *m = r->message, *p;
    size_t first;

    *file = NULL;
    if (!m)
        return 0;
    first = strcspn(m, "\n");
    for (p = m; p < m + first && (p = memchr(p, ':', (size_t)(m + first - p))); p++) {
        const char *d = p + 1;
        long line = 0;
        while (*d >= '0' && *d <= '9' && line < 100000000)
            line = line * 10 + (*d++ - '0');
        if (d > p + 1 && *d == ':' && line > 0 && p > m) {
            *file = strndup(m, (size_t)(p - m));
            return *file ? (int)line : 0;
        }
    }
    return 0;
}
