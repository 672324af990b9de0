/* test_html_report.c - the HTML report writer (harness/src/run_html.c, built
 * in here with the SVG drawing it uses) on artifacts made by hand: hostile
 * names, step logs and target output stay text, a capture that cannot be
 * read is a section saying so, and the page is always complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pktgen.h"

#include "../src/ladder.c"
#include "../src/run_html.c"

static char dir[] = "/tmp/nr-html-XXXXXX";

static void put(const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *report(const struct run_result *r, size_t n)
{
    char path[512], err[NR_ERRBUF_SIZE];
    size_t len;
    char *text;

    snprintf(path, sizeof(path), "%s/r.html", dir);
    if (run_report_html(path, r, n, err) < 0)
        fail_msg("%s", err);
    text = (char *)ladder_slurp(path, &len);
    assert_non_null(text);
    text = realloc(text, len + 1);
    text[len] = '\0';
    return text;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static const char log_text[] =
    "  0.001000 clock: 0 is 1000.000000 s wall clock\n"
    "  0.002000 2: send a \"<script>x</script>]]>\\xff\"  [ok, 0.5 ms]\n"
    "  0.003000 3: expect a \"\xff<i>\"  [FAILED, 0.7 ms]\n"
    "  0.004000 endpoint a tcp 127.0.0.1:4000 127.0.0.1:5000\n";

static void test_hostile_and_unreadable(void **state)
{
    static const uint8_t junk[] = "<script>alert(1)</script> not a capture";
    static const char err_out[] = "<script>alert(2)</script>]]>\xff\x01\n";
    struct run_result r[2] = {
        { .name = "x/<b>&\xff.scn", .path = "x.scn", .artifacts = dir, .status = RUN_FAIL,
          .message = "x.scn:3: expect a\n  <diff> ]]> \xfe\n", .seconds = 0.5 },
        { .name = "gone.scn", .path = "gone.scn", .artifacts = "/nonexistent/dir",
          .status = RUN_PASS, .seconds = 0.1 },
    };
    char *html;

    (void)state;
    put("steps.log", log_text, sizeof(log_text) - 1);
    put("capture.pcap", junk, sizeof(junk) - 1);
    put("srv.stderr", err_out, sizeof(err_out) - 1);
    html = report(r, 2);
    assert_int_equal(count(html, "<script"), 1); /* the page's own */
    assert_int_equal(count(html, "<b>&"), 0);
    assert_non_null(strstr(html, "x/&lt;b&gt;&amp;\\xff.scn"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(2)&lt;/script&gt;]]&gt;\\xff\\x01"));
    assert_non_null(strstr(html, "&lt;diff&gt; ]]&gt; \\xfe"));
    assert_non_null(strstr(html, "<tr class=\"step failed\" data-line=\"3\">"));
    assert_int_equal(count(html, "class=\"step failed\""), 1);
    assert_non_null(strstr(html, "<p class=\"capfail\">cannot read the capture: "));
    assert_non_null(strstr(html, "offset"));
    assert_non_null(strstr(html, "artifacts not kept"));
    assert_int_equal(count(html, "<details class=\"scn\""), 2);
    assert_non_null(strstr(html, "</html>\n"));
    free(html);
}

/* No capture at all, no step log: said so, still a whole page. */
static void test_no_capture(void **state)
{
    struct run_result r = { .name = "n.scn", .path = "n.scn", .artifacts = dir,
                            .status = RUN_ERROR, .message = "no verdict", .seconds = 0 };
    char path[512], *html;

    (void)state;
    snprintf(path, sizeof(path), "%s/capture.pcap", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/steps.log", dir);
    unlink(path);
    html = report(&r, 1);
    assert_non_null(strstr(html, "no capture"));
    assert_non_null(strstr(html, "no step ran"));
    assert_non_null(strstr(html, "<pre class=\"msg\">no verdict</pre>"));
    assert_non_null(strstr(html, "</html>\n"));
    free(html);
}

/* A readable capture: its ladder inline, named from the log, and the
 * packets the capture lost said in the summary and in the drawing. */
static void test_ladder_and_drops(void **state)
{
    static const char log2[] = "  0.1 endpoint a tcp 127.0.0.1:40000 127.0.0.1:7000\n"
                               "  0.2 capture: 9 packets, 2 dropped by the kernel; x\n";
    struct run_result r = { .name = "d.scn", .path = "d.scn", .artifacts = dir,
                            .status = RUN_ERROR, .message = "lost packets", .seconds = 0 };
    struct pg_sink sink = { .t_ns = 1000000000000LL };
    struct pg_conn k;
    char path[512], *html;

    (void)state;
    snprintf(path, sizeof(path), "%s/capture.pcap", dir);
    assert_int_equal(pg_open_file(&sink, path), 0);
    pg_conn_init(&k, &sink, 40000, 7000, 1, 2);
    pg_handshake(&k);
    pg_seg(&k, 0, NR_TCP_PSH | NR_TCP_ACK, "<x>", 3);
    pg_close_file(&sink);
    put("steps.log", log2, sizeof(log2) - 1);
    html = report(&r, 1);
    assert_non_null(strstr(html, "The capture lost 2 packets (kernel drops)."));
    assert_non_null(strstr(html, "<text class=\"note drop\""));
    assert_int_equal(count(html, "<g class=\"lane\""), 2);
    assert_int_equal(count(html, "<g class=\"pkt "), 4);
    assert_non_null(strstr(html, ">a</text>"));
    assert_non_null(strstr(html, "&lt;x&gt;</title>"));
    free(html);
}

/* A report that cannot be written is an error, and leaves no temporary file. */
static void test_unwritable(void **state)
{
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    assert_int_equal(run_report_html("/nonexistent/dir/r.html", NULL, 0, err), -1);
    assert_non_null(strstr(err, "cannot write the report"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_and_unreadable),
        cmocka_unit_test(test_no_capture),
        cmocka_unit_test(test_ladder_and_drops),
        cmocka_unit_test(test_unwritable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
