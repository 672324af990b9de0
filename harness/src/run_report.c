/* run_report.c - machine-readable reports: TAP version 14 and JUnit XML. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

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

void run_report_tap(FILE *f, const struct run_result *r, size_t n)
{
    /* The stream uses nothing beyond TAP 13 (no subtests), so under Perl's
     * TAP::Harness (prove sets HARNESS_ACTIVE), whose Debian 12 version
     * refuses a "version 14" header, it declares 13. */
    fprintf(f, "TAP version %d\n1..%zu\n", getenv("HARNESS_ACTIVE") ? 13 : 14, n);
    for (size_t i = 0; i < n; i++) {
        const char *reason = r[i].message ? r[i].message : "";
        int rlen = (int)strcspn(reason, "\n");
        switch (r[i].status) {
        case RUN_PASS:
            fprintf(f, "ok %zu - %s\n", i + 1, r[i].name);
            break;
        case RUN_SKIP:
            fprintf(f, "ok %zu - %s # SKIP %.*s\n", i + 1, r[i].name, rlen, reason);
            break;
        case RUN_NOTRUN: /* "not ok": a test that did not run did not pass */
            fprintf(f, "not ok %zu - %s # %.*s\n", i + 1, r[i].name, rlen, reason);
            break;
        case RUN_FAIL:
        case RUN_ERROR:
            fprintf(f, "not ok %zu - %s%s\n", i + 1, r[i].name,
                    r[i].status == RUN_ERROR ? " # error: could not be judged" : "");
            if (r[i].message)
                tap_message(f, r[i].message);
            break;
        }
    }
    fflush(f);
}

/* Write s XML-escaped; control characters other than \n and \t become '?'. */
static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            fputc(ch < 0x20 && ch != '\n' && ch != '\t' ? '?' : ch, f);
        }
    }
}

/* First line of a message, for the failure's message attribute. */
static char *first_line(const char *msg)
{
    const char *body = strchr(msg, '\n');
    size_t n;

    /* the first line is "file:line: step"; the reason is on the next */
    if (body && body[1]) {
        const char *p = body + 1;
        while (*p == ' ')
            p++;
        n = strcspn(p, "\n");
        return strndup(p, n);
    }
    return strndup(msg, strcspn(msg, "\n"));
}

int run_report_junit(const char *path, const struct run_result *r, size_t n, char *errbuf)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return nr_seterr_errno(errbuf, errno, "cannot write %s", tmp);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"netrig\">\n", f);
    /* one testsuite per scenario file: consecutive results share a path */
    for (size_t i = 0; i < n;) {
        size_t j = i, count[RUN_NOTRUN + 1] = { 0 };
        double secs = 0;
        while (j < n && strcmp(r[j].path, r[i].path) == 0) {
            count[r[j].status]++;
            secs += r[j].seconds;
            j++;
        }
        fputs("  <testsuite name=\"", f);
        xml_escaped(f, r[i].path);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
                   "time=\"%.3f\">\n", j - i, count[RUN_FAIL], count[RUN_ERROR],
                count[RUN_SKIP] + count[RUN_NOTRUN], secs);
        for (size_t k = i; k < j; k++) {
            static const char *const elem[] = { [RUN_FAIL] = "failure", [RUN_ERROR] = "error",
                                                [RUN_SKIP] = "skipped", [RUN_NOTRUN] = "skipped" };
            fputs("    <testcase classname=\"", f);
            xml_escaped(f, r[k].path);
            fputs("\" name=\"", f);
            xml_escaped(f, r[k].name);
            fprintf(f, "\" time=\"%.3f\">\n", r[k].seconds);
            if (r[k].status != RUN_PASS) {
                char *line = r[k].message ? first_line(r[k].message) : NULL;
                fprintf(f, "      <%s message=\"", elem[r[k].status]);
                xml_escaped(f, line ? line : run_status_word(r[k].status));
                fputs("\">", f);
                xml_escaped(f, r[k].message ? r[k].message : "");
                fprintf(f, "</%s>\n", elem[r[k].status]);
                free(line);
            }
            if (r[k].artifacts && r[k].status != RUN_PASS && r[k].status != RUN_SKIP) {
                fputs("      <system-out>artifacts: ", f);
                xml_escaped(f, r[k].artifacts);
                fputs("\n</system-out>\n", f);
            }
            fputs("    </testcase>\n", f);
        }
        fputs("  </testsuite>\n", f);
        i = j;
    }
    fputs("</testsuites>\n", f);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return nr_seterr_errno(errbuf, errno, "cannot write %s", path);
    }
    return 0;
}
