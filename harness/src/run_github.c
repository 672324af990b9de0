/* run_github.c - GitHub Actions output of `netrig run` (GITHUB_ACTIONS=true
 * or --github): a workflow command per scenario that did not pass, which
 * GitHub shows as an annotation on the scenario file's line, and a markdown
 * summary appended to $GITHUB_STEP_SUMMARY.  Workflow command escaping is
 * GitHub's documented one: '%', CR and LF in values, plus ':' and ',' in
 * properties. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* s as valid UTF-8 with GitHub's workflow command escapes; prop also
 * escapes ':' and ','. */
static void gh_escaped(FILE *f, const char *s, int prop)
{
    char *u = run_utf8(s, strlen(s), 0);

    for (const char *p = u ? u : ""; *p; p++) {
        switch (*p) {
        case '%': fputs("%25", f); break;
        case '\r': fputs("%0D", f); break;
        case '\n': fputs("%0A", f); break;
        case ':': fputs(prop ? "%3A" : ":", f); break;
        case ',': fputs(prop ? "%2C" : ",", f); break;
        default: fputc(*p, f);
        }
    }
    free(u);
}

void run_github_annotate(FILE *f, const struct run_result *r)
{
    char *file = NULL, *title = NULL;
    int line;
    const char *msg = r->message ? r->message : run_status_word(r->status);

    if (r->status == RUN_PASS)
        return;
    line = run_result_where(r, &file);
    if (asprintf(&title, "netrig: %s %s", r->name,
                 r->status == RUN_FAIL    ? "failed"
                 : r->status == RUN_ERROR ? "could not be judged"
                 : r->status == RUN_SKIP  ? "was skipped"
                                          : "did not run") < 0)
        title = NULL;
    fputs(r->status == RUN_FAIL || r->status == RUN_ERROR ? "::error file=" : "::warning file=", f);
    gh_escaped(f, file ? file : r->path, 1);
    if (line > 0)
        fprintf(f, ",line=%d", line);
    fputs(",title=", f);
    gh_escaped(f, title ? title : r->name, 1);
    fputs("::", f);
    gh_escaped(f, msg, 0);
    fputc('\n', f);
    fflush(f);
    free(file);
    free(title);
}

/* A markdown table cell: valid UTF-8, one line, '|' escaped. */
static void md_cell(FILE *f, const char *s, size_t len)
{
    char *u = run_utf8(s, len, 0);

    for (const char *p = u ? u : ""; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    free(u);
}

int run_github_summary(const char *path, const struct run_result *r, size_t n, char *errbuf)
{
    static const char *const icon[] = { [RUN_PASS] = "passed", [RUN_FAIL] = "**failed**",
                                        [RUN_ERROR] = "**error**", [RUN_SKIP] = "skipped",
                                        [RUN_NOTRUN] = "not run" };
    size_t c[RUN_NOTRUN + 1] = { 0 };
    FILE *f = fopen(path, "ae");

    if (!f)
        return nr_seterr_errno(errbuf, errno, "cannot append to %s", path);
    for (size_t i = 0; i < n; i++)
        c[r[i].status]++;
    fprintf(f, "### netrig: %zu scenarios\n\n%zu passed, %zu failed, %zu errors, %zu skipped, "
               "%zu not run\n\n", n, c[RUN_PASS], c[RUN_FAIL], c[RUN_ERROR], c[RUN_SKIP],
            c[RUN_NOTRUN]);
    if (c[RUN_PASS] < n)
        fputs("| outcome | scenario | where | why | seconds |\n| --- | --- | --- | --- | ---: |\n", f);
    for (size_t i = 0; i < n; i++) {
        char *file = NULL, where[64] = "";
        int line;
        const char *m = r[i].message ? r[i].message : "";
        if (r[i].status == RUN_PASS)
            continue;
        line = run_result_where(&r[i], &file);
        if (line > 0)
            snprintf(where, sizeof(where), "line %d", line);
        fprintf(f, "| %s | ", icon[r[i].status]);
        md_cell(f, r[i].name, strlen(r[i].name));
        fprintf(f, " | %s | ", where);
        md_cell(f, m, strcspn(m, "\n"));
        fprintf(f, " | %.2f |\n", r[i].seconds);
        free(file);
    }
    fputc('\n', f);
    if (fclose(f) != 0)
        return nr_seterr_errno(errbuf, errno, "cannot append to %s", path);
    return 0;
}
