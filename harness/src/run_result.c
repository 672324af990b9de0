/* run_result.c - a scenario's verdict as its process reports it to netrig:
 * one line with the status word, then the message to the end. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

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
