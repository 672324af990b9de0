/* Tests of the LD_PRELOAD desocketing library: run the test servers of
 * fuzz/preload/tests under it with an input file and check each
 * connection's replies (NETRIG_FUZZ_REPLIES) and a clean exit.  Binaries
 * are found in the build directory holding $NR_BIN (default build/bin):
 * BUILD/fuzz/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../harness/tests/bin_dir.h"
#include "../lib/fz_records.h"
#include "nr_proc.h"

struct run {
    char dir[64];
    char input[96], replies[96];
    uint8_t got[FZ_MAX_CONNS][256];
    size_t len[FZ_MAX_CONNS];
    int status;
};

/* bin_dir()'s parent (the build directory) + "/fuzz/" + rel into out. */
static void path_of(char *out, size_t cap, const char *rel)
{
    char dir[PATH_MAX], build[400];
    const char *bin = bin_dir(dir);
    char *slash;

    if (snprintf(build, sizeof(build), "%s", bin) >= (int)sizeof(build))
        fail_msg("the build directory %s is too long", bin);
    slash = strrchr(build, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(build, sizeof(build), ".");
    snprintf(out, cap, "%s/fuzz/%s", build, rel);
}

static void read_replies(struct run *r)
{
    static uint8_t buf[8192];
    struct nr_cursor c;
    struct fz_rec rec;
    FILE *f = fopen(r->replies, "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    nr_cur_init(&c, buf, n);
    while (fz_rec_next(&c, &rec)) {
        assert_int_equal(rec.action, FZ_SEND);
        assert_true(rec.len <= sizeof(r->got[0]) - r->len[rec.conn]);
        memcpy(r->got[rec.conn] + r->len[rec.conn], rec.data, rec.len);
        r->len[rec.conn] += rec.len;
    }
}

/* Run argv under the library with input[0..len); via_stdin feeds it on
 * stdin instead of NETRIG_FUZZ_INPUT.  Fills r. */
static void run_prog(struct run *r, char **argv, const uint8_t *input, size_t len, int via_stdin)
{
    char so[512], e_pre[600], e_in[128], e_rep[128], errbuf[NR_ERRBUF_SIZE];
    /* an ASan-built program must accept a preloaded library before its runtime */
    char *env[6] = { e_pre, e_rep, "NETRIG_FUZZ_DRAIN_MS=2000",
                     "ASAN_OPTIONS=verify_asan_link_order=0:halt_on_error=1:exitcode=86", NULL,
                     NULL };
    struct nr_spawn sp = { .argv = argv, .env_extra = env, .activation_fd = -1 };
    struct nr_proc p;
    FILE *f;

    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "%s/fzpreXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->input, sizeof(r->input), "%s/in", r->dir);
    snprintf(r->replies, sizeof(r->replies), "%s/replies", r->dir);
    f = fopen(r->input, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(input, 1, len, f), len);
    fclose(f);
    path_of(so, sizeof(so), "libnetrig-preload.so");
    snprintf(e_pre, sizeof(e_pre), "LD_PRELOAD=%s", so);
    snprintf(e_rep, sizeof(e_rep), "NETRIG_FUZZ_REPLIES=%s", r->replies);
    snprintf(e_in, sizeof(e_in), "NETRIG_FUZZ_INPUT=%s", r->input);
    if (via_stdin)
        sp.stdin_path = r->input;
    else
        env[4] = e_in;
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("spawn %s: %s", argv[0], errbuf);
    if (nr_proc_wait(&p, 10000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("%s did not exit within 10 s under the preload library", argv[0]);
    }
    nr_proc_release(&p);
    r->status = p.status;
    read_replies(r);
    unlink(r->input);
    unlink(r->replies);
    rmdir(r->dir);
}

/* Run test server `server` (fuzz/preload/tests) under the library, with
 * one argument vector `args` (NULL-terminated, may be NULL). */
static void run_server_args(struct run *r, const char *server, char *const *args,
                            const uint8_t *input, size_t len, int via_stdin)
{
    char srv[512];
    char *argv[4] = { srv, NULL };

    path_of(srv, sizeof(srv), "preload-tests/");
    strncat(srv, server, sizeof(srv) - strlen(srv) - 1);
    for (size_t i = 0; args && args[i] && i + 2 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[i + 1] = args[i];
    run_prog(r, argv, input, len, via_stdin);
}

static void run_server(struct run *r, const char *server, const uint8_t *input, size_t len,
                       int via_stdin)
{
    run_server_args(r, server, NULL, input, len, via_stdin);
}

/* Run netrig's own target `name` from bin_dir() ($NR_BIN, or this build's
 * bin/), built normally (not for AFL), under the library: an unmodified
 * server binary. */
static void run_target(struct run *r, const char *name, const uint8_t *input, size_t len)
{
    char path[512], dir[PATH_MAX];
    char *argv[] = { path, "--port", "0", "-q", NULL };

    if (snprintf(path, sizeof(path), "%s/%s", bin_dir(dir), name) >= (int)sizeof(path))
        fail_msg("the path of %s is too long", name);
    run_prog(r, argv, input, len, 0);
}

/* conn 0: "hello " drain "world"; conn 1: "abc" drain close; conn 2: "zz". */
static size_t script(uint8_t *buf, size_t cap)
{
    size_t used = 0;

    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "hello ", 6), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 1, FZ_SEND, "abc", 3), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_DRAIN, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "world", 5), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 9, 0x7f, "junk", 4), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 6, FZ_SEND, "zz", 2), 0); /* conn 2 */
    return used;
}

/* conn 0: "hello ", conn 1: "abc", conn 0: "world", conn 2: "zz", then a
 * drain that ends the input: nothing has to wait for the program, so the
 * library plays it all inside listen() without a helper thread. */
static size_t script_without_waits(uint8_t *buf, size_t cap)
{
    size_t used = 0;

    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "hello ", 6), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 1, FZ_SEND, "abc", 3), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "world", 5), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 2, FZ_SEND, "zz", 2), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 2, FZ_DRAIN, NULL, 0), 0);
    return used;
}

static void expect_reply(const struct run *r, unsigned conn, const char *want)
{
    assert_int_equal(r->len[conn], strlen(want));
    assert_memory_equal(r->got[conn], want, strlen(want));
}

static void expect_clean_exit(const struct run *r)
{
    assert_true(WIFEXITED(r->status));
    assert_int_equal(WEXITSTATUS(r->status), 0);
}

static void iterative_server(void **state)
{
    uint8_t in[128];
    struct run r;

    (void)state;
    run_server(&r, "accept-echo", in, script(in, sizeof(in)), 0);
    expect_clean_exit(&r);
    expect_reply(&r, 0, "hello world");
    expect_reply(&r, 2, "zz");
}

static void thread_per_connection_server(void **state)
{
    uint8_t in[128];
    struct run r;

    (void)state;
    run_server(&r, "thread-echo", in, script(in, sizeof(in)), 0);
    expect_clean_exit(&r);
    expect_reply(&r, 0, "hello world");
    expect_reply(&r, 1, "abc");
    expect_reply(&r, 2, "zz");
}

static void poll_server_via_stdin(void **state)
{
    uint8_t in[128];
    struct run r;

    (void)state;
    run_server(&r, "poll-echo", in, script(in, sizeof(in)), 1);
    expect_clean_exit(&r);
    expect_reply(&r, 0, "6:hello 5:world");
    expect_reply(&r, 1, "3:abc");
    expect_reply(&r, 2, "2:zz");
}

static void unmodified_tcp_echo_mt(void **state)
{
    uint8_t in[128];
    struct run r;

    (void)state;
    run_target(&r, "tcp-echo-mt", in, script(in, sizeof(in)));
    expect_clean_exit(&r);
    expect_reply(&r, 0, "hello world");
    expect_reply(&r, 1, "abc");
    expect_reply(&r, 2, "zz");
}

/* tcp-time answers each read with "[<ctime>] <data>". */
static void expect_time_replies(const struct run *r, unsigned conn, const char *const *parts,
                                size_t n)
{
    const char *p = (const char *)r->got[conn], *end = p + r->len[conn];

    for (size_t i = 0; i < n; i++) {
        const char *close = memchr(p, ']', (size_t)(end - p));
        assert_true(p < end && *p == '[');
        assert_non_null(close);
        assert_true((size_t)(end - close) >= 2 + strlen(parts[i]));
        assert_memory_equal(close + 2, parts[i], strlen(parts[i]));
        p = close + 2 + strlen(parts[i]);
    }
    assert_true(p == end);
}

static void unmodified_tcp_time(void **state)
{
    static const char *const c0[] = { "hello ", "world" }, *const c1[] = { "abc" },
                             *const c2[] = { "zz" };
    uint8_t in[128];
    struct run r;

    (void)state;
    run_target(&r, "tcp-time", in, script(in, sizeof(in)));
    expect_clean_exit(&r);
    expect_time_replies(&r, 0, c0, 2);
    expect_time_replies(&r, 1, c1, 1);
    expect_time_replies(&r, 2, c2, 1);
}

static void inputs_without_waits_played_inline(void **state)
{
    static const char *const servers[] = { "accept-echo", "thread-echo", "poll-echo" };
    uint8_t in[128];
    struct run r;

    (void)state;
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
        run_server(&r, servers[i], in, script_without_waits(in, sizeof(in)), 0);
        expect_clean_exit(&r);
        /* nothing waited between them: both sends arrive in one read */
        expect_reply(&r, 0, i == 2 ? "11:hello world" : "hello world");
        expect_reply(&r, 1, i == 2 ? "3:abc" : "abc");
        expect_reply(&r, 2, i == 2 ? "2:zz" : "zz");
    }
    run_target(&r, "tcp-echo-mt", in, script_without_waits(in, sizeof(in)));
    expect_clean_exit(&r);
    expect_reply(&r, 0, "hello world");
    expect_reply(&r, 1, "abc");
    expect_reply(&r, 2, "zz");
}

/* A listen backlog of 1 holds one connection: the library plays the first
 * inline and hands the rest to its helper thread. */
static void small_backlog_hands_over_to_the_thread(void **state)
{
    static char *const args[] = { "0", "1", NULL };
    uint8_t in[128];
    struct run r;

    (void)state;
    run_server_args(&r, "accept-echo", args, in, script_without_waits(in, sizeof(in)), 0);
    expect_clean_exit(&r);
    expect_reply(&r, 0, "hello world");
    expect_reply(&r, 1, "abc");
    expect_reply(&r, 2, "zz");
}

static void empty_and_garbage_inputs_exit_cleanly(void **state)
{
    /* unknown action (skipped), send "a" on conn 7 % 4, a length past the end */
    static const uint8_t junk[] = { 0xff, 0xfe, 0x00, 0x01, 'x', 0x07, 0x00, 0x00, 0x01, 'a',
                                    0x01, 0x09, 0xff, 0xff, 'b' };
    struct run r;

    (void)state;
    run_server(&r, "poll-echo", junk, 0, 0);
    expect_clean_exit(&r);
    run_server(&r, "accept-echo", junk, sizeof(junk), 0);
    expect_clean_exit(&r);
    expect_reply(&r, 3, "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iterative_server),
        cmocka_unit_test(thread_per_connection_server),
        cmocka_unit_test(poll_server_via_stdin),
        cmocka_unit_test(unmodified_tcp_echo_mt),
        cmocka_unit_test(unmodified_tcp_time),
        cmocka_unit_test(inputs_without_waits_played_inline),
        cmocka_unit_test(small_backlog_hands_over_to_the_thread),
        cmocka_unit_test(empty_and_garbage_inputs_exit_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
