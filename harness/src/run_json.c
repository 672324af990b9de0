/* run_json.c - `netrig run --json`: one JSON object per line per event
 * (run_start, scenario_start, step_failure, scenario_end, run_end), built
 * and encoded with jansson.  The schema is harness/doc/run-json.schema.json,
 * explained in harness/doc/run-json.md.  Strings are valid UTF-8 whatever
 * the bytes of a scenario: see run_utf8 in run_result.c. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "cmds.h"
#include "run.h"

#define RUN_JSON_SCHEMA_VERSION 1

/* A JSON string of any bytes (NULL: JSON null). */
static json_t *jstr(const char *s)
{
    char *u;
    json_t *j;

    if (!s)
        return json_null();
    if (!(u = run_utf8(s, strlen(s), 0)))
        return NULL;
    j = json_string(u);
    free(u);
    return j;
}

/* "2026-12-01T17:30:08.123Z" for ms since the epoch. */
static json_t *jtime(int64_t ms)
{
    char buf[40], out[48];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof(out), "%s.%03dZ", buf, (int)(ms % 1000));
    return json_string(out);
}

static int64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Write ev (consumed) as one line and flush.  Returns 0 / -1. */
static int emit(FILE *f, json_t *ev)
{
    int rc = -1;

    if (ev && json_dumpf(ev, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) == 0 && fputc('\n', f) != EOF &&
        fflush(f) == 0)
        rc = 0;
    json_decref(ev);
    return rc;
}

/* The outcome class of a status, as the README's table names it. */
static const char *outcome(enum run_status st)
{
    static const char *const w[] = { [RUN_PASS] = "passed", [RUN_FAIL] = "failed",
                                     [RUN_ERROR] = "error", [RUN_SKIP] = "skipped",
                                     [RUN_NOTRUN] = "not_run" };
    return w[st];
}

/* An event object with its type, time and the scenario's name and file. */
static json_t *scenario_event(const char *type, const struct run_result *r)
{
    return json_pack("{s:s, s:o, s:o, s:o}", "event", type, "time", jtime(wall_ms()), "name",
                     jstr(r->name), "file", jstr(r->path));
}

int run_json_run_start(FILE *f, size_t n, int jobs, const char *shard)
{
    return emit(f, json_pack("{s:s, s:i, s:o, s:o, s:I, s:i, s:o}", "event", "run_start",
                             "schema", RUN_JSON_SCHEMA_VERSION, "version", jstr(netrig_version),
                             "time", jtime(wall_ms()), "scenarios", (json_int_t)n, "jobs", jobs,
                             "shard", jstr(shard)));
}

int run_json_scenario_start(FILE *f, const struct run_result *r)
{
    return emit(f, scenario_event("scenario_start", r));
}

/* A failed or erred scenario whose message starts "FILE:LINE: STEP": the
 * step's file, line and text, the reason (the next line) and the rest (a
 * hexdump diff, expected vs actual, when there is one) as a step_failure
 * event; for "FILE:LINE:COL: why" (a malformed file) step is null and
 * reason is why.  Returns 0 / -1. */
static int step_failure(FILE *f, const struct run_result *r)
{
    char *file = NULL, *pre = NULL, *step = NULL, *reason = NULL;
    int line = run_result_where(r, &file), rc = -1;
    const char *m = r->message, *rest;
    size_t first = strcspn(m, "\n"), plen;
    json_t *ev = NULL;

    if (line <= 0)
        return 0;
    if (asprintf(&pre, "%s:%d:", file, line) < 0)
        goto out;
    plen = strlen(pre);
    if (strncmp(m, pre, plen) != 0 || plen > first) { /* the line is not where it starts */
        rc = 0;
        goto out;
    }
    if (strspn(m + plen, "0123456789") > 0 && m[plen + strspn(m + plen, "0123456789")] == ':') {
        /* "FILE:LINE:COL: expected ...": a parse error, no step ran */
        rest = m + plen + strspn(m + plen, "0123456789") + 1;
        rest += strspn(rest, " ");
    } else {
        plen += strspn(m + plen, " ");
        step = strndup(m + plen, first - plen);
        rest = m[first] ? m + first + 1 : m + first;
        rest += strspn(rest, " ");
        if (!step)
            goto out;
    }
    reason = strndup(rest, strcspn(rest, "\n"));
    rest += strcspn(rest, "\n");
    rest += *rest == '\n';
    ev = scenario_event("step_failure", r);
    if (!reason || !ev ||
        json_object_update_new(ev, json_pack("{s:o, s:i, s:o, s:o, s:o}", "step_file", jstr(file),
                                             "line", line, "step", jstr(step), "reason",
                                             jstr(reason), "diff",
                                             *rest ? jstr(rest) : json_null())) != 0)
        goto out;
    rc = emit(f, ev);
    ev = NULL;
out:
    json_decref(ev);
    free(file);
    free(pre);
    free(step);
    free(reason);
    return rc;
}

int run_json_scenario_end(FILE *f, const struct run_result *r)
{
    json_t *ev;

    if ((r->status == RUN_FAIL || r->status == RUN_ERROR) && r->message && step_failure(f, r) < 0)
        return -1;
    ev = scenario_event("scenario_end", r);
    if (!ev || json_object_update_new(ev, json_pack("{s:s, s:f, s:o, s:o, s:o}", "outcome",
                                                    outcome(r->status), "seconds", r->seconds,
                                                    "started", r->started_wall_ms
                                                        ? jtime(r->started_wall_ms) : json_null(),
                                                    "message", jstr(r->message), "artifacts",
                                                    jstr(r->kept ? r->artifacts : NULL))) != 0) {
        json_decref(ev);
        return -1;
    }
    return emit(f, ev);
}

int run_json_run_end(FILE *f, const struct run_result *r, size_t n, int rc)
{
    size_t c[RUN_NOTRUN + 1] = { 0 };
    double secs = 0;

    for (size_t i = 0; i < n; i++) {
        c[r[i].status]++;
        secs += r[i].seconds;
    }
    return emit(f, json_pack("{s:s, s:o, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:f, s:i}", "event",
                             "run_end", "time", jtime(wall_ms()), "scenarios", (json_int_t)n,
                             "outcomes", "passed", (json_int_t)c[RUN_PASS], "failed",
                             (json_int_t)c[RUN_FAIL], "error", (json_int_t)c[RUN_ERROR],
                             "skipped", (json_int_t)c[RUN_SKIP], "not_run",
                             (json_int_t)c[RUN_NOTRUN], "scenario_seconds", secs, "exit", rc));
}
