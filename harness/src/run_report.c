/* run_report.c - the reports of `netrig run`, written as scenarios end:
 * TAP (version 14, one line per scenario as it ends), JSON Lines events
 * (run_json.c), GitHub annotations (run_github.c), and at the end JUnit XML
 * (libxml2's xmlTextWriter) and the GitHub step summary.  Every writer reads
 * the same struct run_result (run.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "run.h"

struct run_report {
    const struct run_opts *o;
    FILE *tap;            /* TAP stream, or NULL */
    FILE *json;           /* JSON Lines stream, or NULL */
    int json_owned;       /* json is a file of ours (not stdout) */
    FILE *ann;            /* GitHub annotations, or NULL */
    size_t seq;           /* results reported so far: the next TAP number - 1 */
};

/* ---- TAP ------------------------------------------------------------------ */

/* TAP YAML block lines must be indented; messages are multi-line. */
static void tap_message(FILE *f, const char *msg)
{
    fputs("  ---\n  message: |\n", f);
    for (const char *p = msg; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "    %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    fputs("  ...\n", f);
}

/* One TAP test line (number k) for a result. */
static void tap_result(FILE *f, size_t k, const struct run_result *r)
{
    const char *reason = r->message ? r->message : "";
    int rlen = (int)strcspn(reason, "\n");

    switch (r->status) {
    case RUN_PASS:
        fprintf(f, "ok %zu - %s\n", k, r->name);
        break;
    case RUN_SKIP:
        fprintf(f, "ok %zu - %s # SKIP %.*s\n", k, r->name, rlen, reason);
        break;
    case RUN_NOTRUN: /* "not ok": a test that did not run did not pass */
        fprintf(f, "not ok %zu - %s # %.*s\n", k, r->name, rlen, reason);
        break;
    case RUN_FAIL:
    case RUN_ERROR:
        fprintf(f, "not ok %zu - %s%s\n", k, r->name,
                r->status == RUN_ERROR ? " # error: could not be judged" : "");
        if (r->message)
            tap_message(f, r->message);
        break;
    }
    fflush(f);
}

/* ---- the run's reports ------------------------------------------------------ */

int run_report_open(struct run_report **rep, const struct run_opts *o, FILE *tap_f, FILE *ann_f,
                    size_t n, const char *shard, char *errbuf)
{
    struct run_report *r = calloc(1, sizeof(*r));

    *rep = NULL;
    if (!r)
        return nr_seterr(errbuf, "out of memory");
    r->o = o;
    if (o->json && strcmp(o->json, "-") == 0) {
        r->json = stdout;
    } else if (o->json) {
        if (!(r->json = fopen(o->json, "we"))) {
            free(r);
            return nr_seterr_errno(errbuf, errno, "cannot write the report %s", o->json);
        }
        r->json_owned = 1;
    }
    if (o->tap) {
        r->tap = tap_f;
        /* The stream uses nothing beyond TAP 13 (no subtests), so under
         * Perl's TAP::Harness (prove sets HARNESS_ACTIVE), whose Debian 12
         * version refuses a "version 14" header, it declares 13.  Test
         * numbers follow the order in which scenarios end. */
        fprintf(tap_f, "TAP version %d\n1..%zu\n", getenv("HARNESS_ACTIVE") ? 13 : 14, n);
        fflush(tap_f);
    }
    if (o->github)
        r->ann = ann_f;
    if (r->json)
        run_json_run_start(r->json, n, o->jobs, shard);
    *rep = r;
    return 0;
}

void run_report_started(struct run_report *rep, const struct run_result *r)
{
    if (rep->json)
        run_json_scenario_start(rep->json, r);
}

void run_report_ended(struct run_report *rep, const struct run_result *r)
{
    rep->seq++;
    if (rep->tap)
        tap_result(rep->tap, rep->seq, r);
    if (rep->json)
        run_json_scenario_end(rep->json, r);
    if (rep->ann)
        run_github_annotate(rep->ann, r);
}

int run_report_close(struct run_report *rep, const struct run_result *r, size_t n, int rc,
                     char *errbuf)
{
    const char *summary = getenv("GITHUB_STEP_SUMMARY");
    int ret = 0;

    if (rep->json) {
        run_json_run_end(rep->json, r, n, rc);
        if (rep->json_owned && fclose(rep->json) != 0)
            ret = nr_seterr_errno(errbuf, errno, "cannot write %s", rep->o->json);
    }
    if (ret == 0 && rep->o->junit && run_report_junit(rep->o->junit, r, n, errbuf) < 0)
        ret = -1;
    if (ret == 0 && rep->o->github && summary && summary[0] &&
        run_github_summary(summary, r, n, errbuf) < 0)
        ret = -1;
    free(rep);
    return ret;
}

/* ---- JUnit XML ---------------------------------------------------------------- */

/* "2026-12-01T17:30:08" (UTC, the form the Jenkins JUnit schema takes). */
static void iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Write attribute name = s (any bytes) as valid UTF-8 XML text.  Returns 0 / -1. */
static int xml_attr(xmlTextWriterPtr w, const char *name, const char *s)
{
    char *u = run_utf8(s, strlen(s), 1);
    int rc = u ? xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST u) : -1;

    free(u);
    return rc < 0 ? -1 : 0;
}

static int xml_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, double v)
{
    char buf[64];

    snprintf(buf, sizeof(buf), fmt, v);
    return xml_attr(w, name, buf);
}

static int xml_text(xmlTextWriterPtr w, const char *s)
{
    char *u = run_utf8(s, strlen(s), 1);
    int rc = u ? xmlTextWriterWriteString(w, BAD_CAST u) : -1;

    free(u);
    return rc < 0 ? -1 : 0;
}

/* A testcase's class: the scenario's directory with '.' between its parts
 * ("harness/scenarios/tcp-echo/x.scn" -> "harness.scenarios.tcp-echo"; a
 * dot inside a part becomes '_'), or "netrig" for a file at the top.  Its
 * name is what follows the directory in the display name.  Both malloc'd. */
static int junit_class(const struct run_result *r, char **cls, char **name)
{
    const char *path = r->path, *slash;
    char *c, *o;

    while (path[0] == '.' && path[1] == '/')
        path += 2;
    while (path[0] == '/')
        path++;
    slash = strrchr(path, '/');
    if (!slash) {
        c = strdup("netrig");
    } else {
        c = o = malloc((size_t)(slash - path) + 1);
        for (const char *p = path; c && p < slash; p++)
            *o++ = *p == '/' ? '.' : *p == '.' ? '_' : *p;
        if (c)
            *o = '\0';
    }
    slash = strrchr(r->path, '/');
    *name = strdup(slash && strncmp(r->name, r->path, strlen(r->path)) == 0
                       ? r->name + (slash - r->path) + 1 : r->name);
    *cls = c;
    return c && *name ? 0 : -1;
}

/* The totals of results [from, to) into count[], and their seconds. */
static double tally(const struct run_result *r, size_t from, size_t to, size_t *count)
{
    double secs = 0;

    memset(count, 0, (RUN_NOTRUN + 1) * sizeof(*count));
    for (size_t i = from; i < to; i++) {
        count[r[i].status]++;
        secs += r[i].seconds;
    }
    return secs;
}

/* tests, failures, errors, skipped, time attributes. */
static int junit_totals(xmlTextWriterPtr w, size_t tests, const size_t *count, double secs)
{
    return xml_attrf(w, "tests", "%.0f", (double)tests) |
           xml_attrf(w, "failures", "%.0f", (double)count[RUN_FAIL]) |
           xml_attrf(w, "errors", "%.0f", (double)count[RUN_ERROR]) |
           xml_attrf(w, "skipped", "%.0f", (double)(count[RUN_SKIP] + count[RUN_NOTRUN])) |
           xml_attrf(w, "time", "%.3f", secs);
}

/* The message attribute of a failure: its reason, which is the second line
 * of a "file:line: step" message, else the first line. */
static char *first_line(const char *msg)
{
    const char *body = strchr(msg, '\n');

    if (body && body[1]) {
        const char *p = body + 1 + strspn(body + 1, " ");
        return strndup(p, strcspn(p, "\n"));
    }
    return strndup(msg, strcspn(msg, "\n"));
}

static int junit_case(xmlTextWriterPtr w, const struct run_result *r)
{
    static const char *const elem[] = { [RUN_FAIL] = "failure", [RUN_ERROR] = "error",
                                        [RUN_SKIP] = "skipped", [RUN_NOTRUN] = "skipped" };
    char *cls = NULL, *name = NULL, *file = NULL, *why = NULL, ts[32];
    int line = run_result_where(r, &file), rc = -1;

    if (junit_class(r, &cls, &name) < 0)
        goto out;
    if (xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0 || xml_attr(w, "classname", cls) ||
        xml_attr(w, "name", name) || xml_attr(w, "file", file ? file : r->path) ||
        (line > 0 && xml_attrf(w, "line", "%.0f", line)) ||
        xml_attrf(w, "time", "%.3f", r->seconds))
        goto out;
    if (r->started_wall_ms) {
        iso_time(r->started_wall_ms, ts, sizeof(ts));
        if (xml_attr(w, "timestamp", ts))
            goto out;
    }
    if (r->status != RUN_PASS) {
        why = r->message ? first_line(r->message) : NULL;
        if (xmlTextWriterStartElement(w, BAD_CAST elem[r->status]) < 0 ||
            xml_attr(w, "message", why ? why : run_status_word(r->status)) ||
            (r->status != RUN_SKIP && r->status != RUN_NOTRUN &&
             xml_attr(w, "type", run_status_word(r->status))) ||
            (r->message && xml_text(w, r->message)) || xmlTextWriterEndElement(w) < 0)
            goto out;
    }
    if (r->kept && r->artifacts &&
        (xmlTextWriterStartElement(w, BAD_CAST "system-out") < 0 || xml_text(w, "artifacts: ") ||
         xml_text(w, r->artifacts) || xml_text(w, "\n") || xmlTextWriterEndElement(w) < 0))
        goto out;
    rc = xmlTextWriterEndElement(w) < 0 ? -1 : 0;
out:
    free(cls);
    free(name);
    free(file);
    free(why);
    return rc;
}

/* The whole document: <testsuites> with the run's totals, one <testsuite>
 * per scenario file (consecutive results share a path). */
static int junit_write(xmlTextWriterPtr w, const struct run_result *r, size_t n)
{
    size_t count[RUN_NOTRUN + 1];
    int64_t first = 0;
    char ts[32];
    double secs = tally(r, 0, n, count);

    if (xmlTextWriterSetIndent(w, 1) < 0 || xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElement(w, BAD_CAST "testsuites") < 0 || xml_attr(w, "name", "netrig") ||
        junit_totals(w, n, count, secs))
        return -1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(r[j].path, r[i].path) == 0)
            j++;
        secs = tally(r, i, j, count);
        first = 0;
        for (size_t k = i; k < j; k++)
            if (r[k].started_wall_ms && (!first || r[k].started_wall_ms < first))
                first = r[k].started_wall_ms;
        if (xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0 ||
            xml_attr(w, "name", r[i].path) || junit_totals(w, j - i, count, secs))
            return -1;
        if (first) {
            iso_time(first, ts, sizeof(ts));
            if (xml_attr(w, "timestamp", ts))
                return -1;
        }
        if (xml_attr(w, "file", r[i].path))
            return -1;
        for (size_t k = i; k < j; k++)
            if (junit_case(w, &r[k]) < 0)
                return -1;
        if (xmlTextWriterEndElement(w) < 0)
            return -1;
        i = j;
    }
    return xmlTextWriterEndDocument(w) < 0 ? -1 : 0;
}

int run_report_junit(const char *path, const struct run_result *r, size_t n, char *errbuf)
{
    char tmp[4096];
    xmlTextWriterPtr w;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(w = xmlNewTextWriterFilename(tmp, 0)))
        return nr_seterr(errbuf, "cannot write %s", tmp);
    rc = junit_write(w, r, n);
    xmlFreeTextWriter(w); /* flushes and closes the file */
    if (rc < 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return nr_seterr(errbuf, "cannot write %s", path);
    }
    return 0;
}
