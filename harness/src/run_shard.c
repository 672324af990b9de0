/* run_shard.c - `netrig run --shard K/N`: which scenario files the K-th of
 * N CI jobs runs.  A file is the unit (all its -D and --repeat runs go
 * together).  Without timings the files, sorted by path bytes (strcmp: no
 * locale), are dealt round-robin; with a timing file (an earlier run's
 * --json events, or "SECONDS PATH" lines) the longest go first, each onto
 * the shard with the least time so far.  Either way every machine given
 * the same files and timings computes the same split. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "run.h"

int run_shard_parse(const char *s, unsigned *k, unsigned *nshards)
{
    char *end;
    unsigned long a, b;

    errno = 0;
    a = strtoul(s, &end, 10);
    if (end == s || *end != '/' || *s == '-')
        return -1;
    s = end + 1;
    b = strtoul(s, &end, 10);
    if (end == s || *end || *s == '-' || errno || a < 1 || b < 1 || a > b || b > 100000)
        return -1;
    *k = (unsigned)a;
    *nshards = (unsigned)b;
    return 0;
}

struct shard_item {
    const char *path;
    double secs;
    size_t index;
};

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct shard_item *)a)->path, ((const struct shard_item *)b)->path);
}

/* Longest first; equal times by path. */
static int by_time(const void *a, const void *b)
{
    const struct shard_item *x = a, *y = b;

    if (x->secs != y->secs)
        return x->secs > y->secs ? -1 : 1;
    return strcmp(x->path, y->path);
}

int run_shard_assign(char *const *paths, const double *durations, size_t n, unsigned nshards,
                     unsigned *shard_of)
{
    struct shard_item *it = calloc(n ? n : 1, sizeof(*it));
    double *load = calloc(nshards, sizeof(*load)), known = 0;
    size_t nknown = 0;

    if (!it || !load) {
        free(it);
        free(load);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        it[i] = (struct shard_item){ paths[i], durations ? durations[i] : -1, i };
        if (it[i].secs >= 0)
            known += it[i].secs, nknown++;
    }
    if (nknown == 0) {
        qsort(it, n, sizeof(*it), by_path);
        for (size_t i = 0; i < n; i++)
            shard_of[it[i].index] = (unsigned)(i % nshards);
    } else {
        for (size_t i = 0; i < n; i++) /* a file not timed yet: the average */
            if (it[i].secs < 0)
                it[i].secs = known / (double)nknown;
        qsort(it, n, sizeof(*it), by_time);
        for (size_t i = 0; i < n; i++) {
            unsigned best = 0;
            for (unsigned s = 1; s < nshards; s++)
                if (load[s] < load[best])
                    best = s;
            load[best] += it[i].secs;
            shard_of[it[i].index] = best;
        }
    }
    free(it);
    free(load);
    return 0;
}

/* Add secs to the duration of path when it is one of paths[]. */
static void add_timing(const char *path, double secs, char *const *paths, size_t n,
                       double *durations, unsigned char *seen)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(paths[i], path) == 0) {
            durations[i] = (seen[i] ? durations[i] : 0) + secs;
            seen[i] = 1;
        }
}

int run_shard_timings(const char *file, char *const *paths, size_t n, double *durations,
                      char *errbuf)
{
    FILE *f = fopen(file, "re");
    unsigned char *seen = calloc(n ? n : 1, 1);
    char *line = NULL, *path = NULL;
    size_t cap = 0;
    int rc = 0;

    if (!f || !seen) {
        rc = nr_seterr_errno(errbuf, errno, "cannot read the timing file %s", file);
        goto out;
    }
    while (getline(&line, &cap, f) > 0) {
        double secs;
        const char *ev = NULL, *p = NULL;
        json_t *j;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '{') { /* a --json event: scenario_end has file and seconds */
            j = json_loads(line, 0, NULL);
            if (j && json_unpack(j, "{s:s, s:s, s:F}", "event", &ev, "file", &p, "seconds",
                                 &secs) == 0 && strcmp(ev, "scenario_end") == 0)
                add_timing(p, secs, paths, n, durations, seen);
            json_decref(j);
        } else if (sscanf(line, "%lf %m[^\n]", &secs, &path) == 2) {
            add_timing(path, secs, paths, n, durations, seen);
        }
        free(path);
        path = NULL;
    }
out:
    if (f)
        fclose(f);
    free(line);
    free(seen);
    return rc;
}
