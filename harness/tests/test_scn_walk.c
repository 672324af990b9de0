/* Unit tests: nr_steps_walk, the one walk over a scenario's step tree
 * (nr_scn_walk.c): every step in order, a block's body between its
 * BEFORE and AFTER visits, depths, and a visit that stops the walk; and
 * nr_scn_scale (--time-scale, applied once over that walk). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_scn.h"
#include "heap_exact.h"

static const char scenario[] = "sleep 1ms\n"
                               "repeat 2\n"
                               "  sleep 2ms\n"
                               "  parallel 3\n"
                               "    sleep 3ms\n"
                               "  end\n"
                               "end\n"
                               "sleep 4ms\n";

struct trace {
    char text[256];
    unsigned stop_line; /* a visit of this line returns 7 */
};

/* "b3:1" for a BEFORE visit of line 3 at depth 1, "a..." for AFTER. */
static int note(const struct nr_step *s, unsigned depth, unsigned when, void *arg)
{
    struct trace *t = arg;
    size_t n = strlen(t->text);

    snprintf(t->text + n, sizeof(t->text) - n, "%s%c%u:%u", n ? " " : "",
             when == NR_WALK_BEFORE ? 'b' : 'a', s->line, depth);
    return s->line == t->stop_line ? 7 : 0;
}

static void walk(const char *want, unsigned when, unsigned stop_line, int want_rc)
{
    struct nr_scn scn;
    struct trace t = { .stop_line = stop_line };
    char err[NR_ERRBUF_SIZE];

    if (nr_scn_parse((const uint8_t *)scenario, strlen(scenario), "w.scn", &scn, err) < 0)
        fail_msg("%s", err);
    assert_int_equal(nr_steps_walk(&scn.steps, when, note, &t), want_rc);
    assert_string_equal(t.text, want);
    nr_scn_free(&scn);
}

static void before_visits_in_order(void **st)
{
    (void)st;
    walk("b1:0 b2:0 b3:1 b4:1 b5:2 b8:0", NR_WALK_BEFORE, 0, 0);
}

static void after_visits_bodies_first(void **st)
{
    (void)st;
    walk("a1:0 a3:1 a5:2 a4:1 a2:0 a8:0", NR_WALK_AFTER, 0, 0);
}

static void both_bracket_the_body(void **st)
{
    (void)st;
    walk("b1:0 a1:0 b2:0 b3:1 a3:1 b4:1 b5:2 a5:2 a4:1 a2:0 b8:0 a8:0",
         NR_WALK_BEFORE | NR_WALK_AFTER, 0, 0);
}

/* A nonzero visit ends the walk there, inside a block too. */
static void a_visit_stops_the_walk(void **st)
{
    (void)st;
    walk("b1:0 b2:0 b3:1 b4:1 b5:2", NR_WALK_BEFORE, 5, 7);
    walk("b1:0", NR_WALK_BEFORE, 1, 7);
}

/* One step: itself and its body. */
static void one_step(void **st)
{
    struct nr_scn scn;
    struct trace t = { .stop_line = 0 };
    char err[NR_ERRBUF_SIZE];
    (void)st;
    assert_int_equal(nr_scn_parse((const uint8_t *)scenario, strlen(scenario), "w.scn", &scn, err),
                     0);
    assert_int_equal(nr_step_walk(&scn.steps.v[1], NR_WALK_BEFORE, note, &t), 0);
    assert_string_equal(t.text, "b2:0 b3:1 b4:1 b5:2");
    nr_scn_free(&scn);
}

/* Every duration of every step, nested ones too, scaled once; what was
 * not given stays so, the scenario's own timeout and deadline stay too. */
static void scale_every_duration(void **st)
{
    static const char text[] = "timeout 1s\ndeadline 10s\n"
                               "proxy p = tcp 127.0.0.1:1\n"
                               "connect a = tcp 127.0.0.1:1\n"
                               "fault p up latency 100ms jitter 10ms\n"
                               "fault p down bandwidth 1000\n"
                               "repeat 2\n"
                               "  sleep 40ms\n"
                               "  send a \"x\" chunk 1 delay 1ms within 3s\n"
                               "end\n"
                               "expect a eof\n";
    struct nr_scn scn;
    char err[NR_ERRBUF_SIZE];
    const struct nr_step *v;
    (void)st;
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "s.scn", &scn, err) < 0)
        fail_msg("%s", err);
    nr_scn_scale(&scn, 2.5);
    v = scn.steps.v;
    assert_int_equal(scn.step_timeout_ms, 1000);
    assert_int_equal(scn.deadline_ms, 10000);
    assert_int_equal(v[2].u.fault.tox.ms, 250);
    assert_int_equal(v[2].u.fault.tox.jitter_ms, 25);
    assert_int_equal(v[3].u.fault.tox.bytes, 400); /* a bandwidth: divided */
    assert_int_equal(v[4].timeout_ms, -1);
    assert_int_equal(v[4].u.block.body.v[0].u.sleep.ms, 100);
    assert_int_equal(v[4].u.block.body.v[0].timeout_ms, -1);
    assert_int_equal(v[4].u.block.body.v[1].u.send.delay_ms, 2);
    assert_int_equal(v[4].u.block.body.v[1].timeout_ms, 7500);
    assert_int_equal(v[5].timeout_ms, -1);
    nr_scn_scale(&scn, 0.1); /* a delay stays a delay; 1.0 changes nothing */
    assert_int_equal(v[4].u.block.body.v[1].u.send.delay_ms, 1);
    assert_int_equal(v[4].u.block.body.v[0].u.sleep.ms, 10);
    nr_scn_scale(&scn, 1.0);
    assert_int_equal(v[4].u.block.body.v[0].u.sleep.ms, 10);
    nr_scn_free(&scn);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(before_visits_in_order), heap_exact_test(after_visits_bodies_first),
        heap_exact_test(both_bracket_the_body), heap_exact_test(a_visit_stops_the_walk),
        heap_exact_test(one_step), heap_exact_test(scale_every_duration),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
