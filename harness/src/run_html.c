/* run_html.c - the HTML report of a run: a list of scenarios to filter,
 * each opening to its steps, its targets' stderr and the ladder diagram of
 * its capture.  One file, polyglot (well-formed XML as well as HTML5), so
 * that xmllint can check that nothing escaped its escaping. */
#define _GNU_SOURCE
#include "run_html.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ladder.h"
#include "nr_ladder.h"
#include "nr_markup.h"

#define STDERR_TAIL 4096  /* bytes of each target's stderr shown */
#define MAX_EVENTS 400    /* arrows and bands per scenario's ladder */
#define MAX_LANES 12

static const char *const status_word[] = { [RUN_PASS] = "pass", [RUN_FAIL] = "fail",
                                           [RUN_ERROR] = "error", [RUN_SKIP] = "skip",
                                           [RUN_NOTRUN] = "notrun" };

static const char page_css[] =
    "body{font:14px sans-serif;margin:0;color:#1f2328}\n"
    "header{position:sticky;top:0;background:#f6f8fa;border-bottom:1px solid #d0d7de;"
    "padding:8px 16px;z-index:1}\n"
    "h1{font-size:18px;margin:0 0 6px}\n"
    ".counts span{margin-right:12px}\n"
    "#q{width:28em;padding:3px}\n"
    "label{margin-left:10px}\n"
    "main{padding:8px 16px}\n"
    "details.scn{border:1px solid #d0d7de;border-radius:6px;margin:4px 0}\n"
    "details.scn>summary{padding:4px 8px;cursor:pointer;font-family:monospace}\n"
    "details.scn[hidden]{display:none}\n"
    ".badge{display:inline-block;width:4.5em;text-align:center;border-radius:4px;color:#fff;"
    "font-weight:bold;margin-right:8px}\n"
    ".b-pass{background:#1a7f37}.b-fail{background:#d1242f}.b-error{background:#8250df}"
    ".b-skip,.b-notrun{background:#9a6700}\n"
    ".secs{color:#667;margin-left:8px}\n"
    ".body{padding:4px 12px 12px}\n"
    "h3{font-size:14px;margin:12px 0 4px}\n"
    "table.steps{border-collapse:collapse;font:12px monospace}\n"
    "table.steps td{padding:1px 8px;vertical-align:top;white-space:pre-wrap}\n"
    "tr.step.failed{background:#ffebe9;color:#d1242f;font-weight:bold}\n"
    "tr.diff td{background:#fff8f7}\n"
    "pre{font:12px monospace;background:#f6f8fa;padding:6px;overflow:auto;max-height:30em;"
    "white-space:pre-wrap}\n"
    ".traffic{overflow:auto;border:1px solid #eee}\n"
    ".capfail{color:#d1242f;font-weight:bold}\n"
    ".none{color:#667}\n";

/* Polyglot: the script has no '<' or '&' of its own, and sits in a CDATA
 * section that HTML sees as comments. */
static const char page_js[] =
    "//<![CDATA[\n"
    "(function(){\n"
    "var q=document.getElementById('q'),boxes=document.querySelectorAll('input.st');\n"
    "function apply(){var t=q.value.toLowerCase(),on={};\n"
    " boxes.forEach(function(b){on[b.value]=b.checked;});\n"
    " document.querySelectorAll('details.scn').forEach(function(d){\n"
    "  var show=on[d.dataset.status]!==false;\n"
    "  if(show){if(t){show=d.dataset.name.toLowerCase().indexOf(t)!==-1||"
    "d.textContent.toLowerCase().indexOf(t)!==-1;}}\n"
    "  d.hidden=!show;});}\n"
    "q.addEventListener('input',apply);\n"
    "boxes.forEach(function(b){b.addEventListener('change',apply);});\n"
    "document.getElementById('all').addEventListener('click',function(){\n"
    " document.querySelectorAll('details.scn').forEach(function(d){if(!d.hidden)d.open=true;});});\n"
    "document.getElementById('none').addEventListener('click',function(){\n"
    " document.querySelectorAll('details.scn').forEach(function(d){d.open=false;});});\n"
    "var h=decodeURIComponent(location.hash.slice(1)).split(';');\n"
    "h.forEach(function(kv){var p=kv.split('=');\n"
    " if(p[0]==='q')q.value=p.slice(1).join('=');\n"
    " if(p[0]==='status'){var want=p[1].split(',');"
    "boxes.forEach(function(b){b.checked=want.indexOf(b.value)!==-1;});}});\n"
    "apply();\n"
    "document.body.dataset.ready='1';\n"
    "})();\n"
    "//]]>\n";

/* The step whose log line says FAILED, or -1. */
static long failing_step(const struct nr_ladder_log *log)
{
    for (size_t i = 0; i < log->nsteps; i++)
        if (log->steps[i].failed)
            return (long)i;
    return -1;
}

static void steps_table(FILE *f, const struct nr_ladder_log *log, const struct run_result *r)
{
    long bad = failing_step(log);

    fputs("<h3>Steps</h3>\n<table class=\"steps\">\n", f);
    for (size_t i = 0; i < log->nsteps; i++) {
        const struct nr_ladder_step *s = &log->steps[i];
        fprintf(f, "<tr class=\"step%s\" data-line=\"%u\"><td>%.6f</td><td>%.3f ms</td><td>%u</td><td>",
                (long)i == bad ? " failed" : "", s->line, (double)s->start_us / 1e6,
                (double)(s->end_us - s->start_us) / 1e3, s->line);
        nr_markup_str(f, s->text, 0);
        fprintf(f, "</td><td>%s</td></tr>\n", s->failed ? "FAILED" : "ok");
        if ((long)i == bad && r->message) {
            fputs("<tr class=\"diff\"><td colspan=\"5\"><pre>", f);
            nr_markup_str(f, r->message, 0);
            fputs("</pre></td></tr>\n", f);
        }
    }
    if (!log->nsteps)
        fputs("<tr><td class=\"none\">no step ran</td></tr>\n", f);
    fputs("</table>\n", f);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The last STDERR_TAIL bytes of every *.stderr in dir. */
static void stderr_tails(FILE *f, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    size_t n = 0;

    while (d && (e = readdir(d))) {
        size_t k = strlen(e->d_name);
        char **nv;
        if (k <= 7 || strcmp(e->d_name + k - 7, ".stderr") != 0)
            continue;
        if (!(nv = realloc(names, (n + 1) * sizeof(*nv))))
            break;
        names = nv;
        if ((names[n] = strdup(e->d_name)))
            n++;
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof(*names), cmp_name);
    fputs("<h3>Targets' stderr</h3>\n", f);
    if (!n)
        fputs("<p class=\"none\">no target</p>\n", f);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        uint8_t *buf;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        buf = ladder_slurp(path, &len);
        fputs("<div class=\"stderr\"><b>", f);
        nr_markup_esc(f, names[i], strlen(names[i]) - 7, 1);
        fprintf(f, "</b> (%zu bytes%s)", len, len > STDERR_TAIL ? ", the last shown" : "");
        if (len) {
            size_t from = len > STDERR_TAIL ? len - STDERR_TAIL : 0;
            fputs("<pre>", f);
            nr_markup_esc(f, buf + from, len - from, 0);
            fputs("</pre>", f);
        }
        fputs("</div>\n", f);
        free(buf);
        free(names[i]);
    }
    free(names);
}

static void traffic(FILE *f, const char *dir, const struct nr_ladder_log *log)
{
    struct nr_ladder_opts o = { .max_events = MAX_EVENTS, .max_lanes = MAX_LANES };
    struct nr_ladder l;
    char path[4096], errbuf[NR_ERRBUF_SIZE];
    struct stat sb;

    fputs("<h3>Traffic</h3>\n", f);
    snprintf(path, sizeof(path), "%s/capture.pcap", dir);
    if (stat(path, &sb) < 0) {
        fputs("<p class=\"none\">no capture (--no-capture, no namespace, or none was made)</p>\n",
              f);
        return;
    }
    if (nr_ladder_read(path, NULL, 0, &o, log, &l, errbuf) < 0) {
        fputs("<p class=\"capfail\">cannot read the capture: ", f);
        nr_markup_str(f, errbuf, 1);
        fputs("</p>\n", f);
        return;
    }
    fprintf(f, "<p>%" PRIu64 " frames, %" PRIu64 " connections and flows; %" PRIu64
               " packets drawn as %zu arrows and bands.", l.frames, l.conns, l.drawn_pkts, l.nev);
    if (log->dropped)
        fprintf(f, " <span class=\"capfail\">The capture lost %" PRIu64 " packets (kernel "
                   "drops).</span>", log->dropped);
    fputs("</p>\n<div class=\"traffic\">", f);
    ladder_svg(f, &l, log, 0);
    fputs("</div>\n", f);
    nr_ladder_free(&l);
}

static void scenario(FILE *f, const struct run_result *r, size_t i)
{
    const char *w = status_word[r->status];
    struct nr_ladder_log log = { 0 };
    char path[4096];
    struct stat sb;
    int have_dir = r->artifacts && stat(r->artifacts, &sb) == 0 && S_ISDIR(sb.st_mode);
    uint8_t *buf;
    size_t len;

    fprintf(f, "<details class=\"scn\" id=\"s%zu\" data-status=\"%s\" data-name=\"", i, w);
    nr_markup_str(f, r->name, 1);
    fprintf(f, "\"%s><summary><span class=\"badge b-%s\">%s</span><span class=\"name\">",
            r->status == RUN_FAIL || r->status == RUN_ERROR ? " open=\"open\"" : "", w, w);
    nr_markup_str(f, r->name, 1);
    fprintf(f, "</span><span class=\"secs\">%.2f s</span></summary>\n<div class=\"body\">\n",
            r->seconds);
    snprintf(path, sizeof(path), "%s/steps.log", r->artifacts ? r->artifacts : ".");
    if (have_dir && (buf = ladder_slurp(path, &len)) != NULL) {
        if (nr_ladder_log_parse(buf, len, &log) < 0)
            memset(&log, 0, sizeof(log));
        free(buf);
    }
    if (r->message && r->status != RUN_PASS && failing_step(&log) < 0) { /* else at its step */
        fputs("<pre class=\"msg\">", f);
        nr_markup_str(f, r->message, 0);
        fputs("</pre>\n", f);
    }
    if (!have_dir) {
        fputs("<p class=\"none\">artifacts not kept (netrig run --keep keeps those of passing "
              "scenarios)</p>\n</div></details>\n", f);
        return;
    }
    steps_table(f, &log, r);
    stderr_tails(f, r->artifacts);
    traffic(f, r->artifacts, &log);
    fputs("<p class=\"none\">artifacts: ", f);
    nr_markup_str(f, r->artifacts, 1);
    fputs("</p>\n</div></details>\n", f);
    nr_ladder_log_free(&log);
}

int run_report_html(const char *path, const struct run_result *r, size_t n, char *errbuf)
{
    size_t count[RUN_NOTRUN + 1] = { 0 };
    char tmp[4096], when[64];
    time_t now = time(NULL);
    struct tm tm;
    FILE *f;
    int rc = -1;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(f = fopen(tmp, "we")))
        return nr_seterr_errno(errbuf, errno, "cannot write the report %s", tmp);
    for (size_t i = 0; i < n; i++)
        count[r[i].status]++;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
               "<head><meta charset=\"utf-8\"/><title>netrig report</title>\n<style>\n%s%s"
               "</style></head>\n<body data-scenarios=\"%zu\">\n<header><h1>netrig run: %zu "
               "scenarios, %s</h1>\n<div class=\"counts\">",
            page_css, ladder_css, n, n, when);
    for (int s = RUN_PASS; s <= RUN_NOTRUN; s++)
        fprintf(f, "<span class=\"c-%s\">%zu %s</span>", status_word[s], count[s], status_word[s]);
    fputs("</div>\n<input id=\"q\" type=\"search\" placeholder=\"filter: name or any text\"/>", f);
    for (int s = RUN_PASS; s <= RUN_NOTRUN; s++)
        fprintf(f, "<label><input class=\"st\" type=\"checkbox\" value=\"%s\" checked=\"checked\"/>"
                   " %s</label>", status_word[s], status_word[s]);
    fputs(" <button id=\"all\" type=\"button\">open all</button><button id=\"none\" "
          "type=\"button\">close all</button></header>\n<main>\n", f);
    for (size_t i = 0; i < n; i++)
        scenario(f, &r[i], i);
    fprintf(f, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", page_js);
    if (fflush(f) != 0 || ferror(f)) {
        nr_seterr_errno(errbuf, errno, "cannot write the report %s", tmp);
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        nr_seterr_errno(errbuf, errno, "cannot write the report %s", path);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        unlink(tmp);
    return rc;
}
