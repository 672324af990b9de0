/* Integration tests of the http-get binary ($NR_BIN/http-get) against a
 * scripted server thread on 127.0.0.1: exit codes, the -o file's exact
 * content on success, and an empty output directory (no file, no temp
 * file) after every failure. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"
#include "nr_proc.h"
#include "http-get/http_url.h"
#include "shortio_itest.h"
#include "fault_itest.h"
#include "itest_reap.h"

#define MAX_CONN 8

/* A server answering up to MAX_CONN connections, each with one canned
 * response, then (optionally) stalling before it closes. */
struct srv {
    int lfd;
    struct nr_addr addr;
    pthread_t th;
    const char *resp[MAX_CONN];
    int stall_ms;
    int served;
    char req[MAX_CONN][8192];
};

/* Set: the servers srv_run starts end each connection with an RST
 * (SO_LINGER 0). */
static int srv_reset;

/* What the running case started and has not ended yet.  A failed check
 * leaves the case at once; its teardown (itest_reap.h, with
 * end_leftovers) then kills the client and ends the server, so neither
 * outlives the case.  Both are in static storage (each case's struct srv
 * and the clients' struct nr_proc are static), never on the case's stack,
 * which is gone by then. */
static struct srv *live_srv;
static struct nr_proc *live_client;

/* The directory of the last client run_start made, until cleanup removed
 * it ("": none); the teardown removes one a failed check left. */
static char live_dir[64];

static void *serve(void *arg)
{
    struct srv *s = arg;

    for (int i = 0; i < MAX_CONN && s->resp[i]; i++) {
        size_t got = 0;
        int fd;

        if (nr_wait_fd(s->lfd, POLLIN, 5000) <= 0)
            break;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        while (got < sizeof(s->req[i]) - 1 && !strstr(s->req[i], "\r\n\r\n") &&
               nr_wait_fd(fd, POLLIN, 2000) > 0) {
            ssize_t n = nr_read(fd, s->req[i] + got, sizeof(s->req[i]) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        nr_write_all(fd, s->resp[i], strlen(s->resp[i]), 2000);
        if (s->stall_ms)
            nr_wait_fd(fd, POLLIN, s->stall_ms); /* ends early when the client closes */
        if (srv_reset) {
            struct linger lg = { .l_onoff = 1, .l_linger = 0 };
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
        s->served++;
    }
    return NULL;
}

static void srv_run(struct srv *s, int stall_ms, const char *r0, const char *r1)
{
    char err[NR_ERRBUF_SIZE];

    memset(s, 0, sizeof(*s));
    s->resp[0] = r0;
    s->resp[1] = r1;
    s->stall_ms = stall_ms;
    assert_int_equal(nr_addr_parse("127.0.0.1:0", &s->addr, err), 0);
    s->lfd = nr_bind_socket(&s->addr, SOCK_STREAM, 8, err);
    assert_true(s->lfd >= 0);
    assert_int_equal(nr_local_addr(s->lfd, &s->addr, err), 0);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
    live_srv = s;
}

/* Like srv_run, with n (<= MAX_CONN) copies of one response. */
static void srv_run_n(struct srv *s, const char *resp, int n)
{
    srv_run(s, 0, NULL, NULL);
    pthread_join(s->th, NULL); /* it served nothing: no response */
    live_srv = NULL;
    for (int i = 0; i < n; i++)
        s->resp[i] = resp;
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
    live_srv = s;
}

static void srv_end(struct srv *s)
{
    int fd = nr_connect_tcp(&s->addr, 1000, NULL, NULL, NULL); /* unblock a waiting accept */

    if (fd >= 0)
        shutdown(fd, SHUT_WR); /* and its read of a request at once */
    pthread_join(s->th, NULL);
    live_srv = NULL;
    if (fd >= 0)
        close(fd);
    close(s->lfd);
}

/* Extra environment for the client run_client starts (NULL: none). */
static char *const *client_env;

/* A run of the client: its temp dirs, exit code and stderr. */
struct run {
    char dir[64];      /* holds out/ (the -o directory), stdout, stderr */
    char outdir[80], file[96], so[96], se[96];
    int code;
    char err[1024];
};

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;

    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Set: run_client gives no -o, so the body goes to stdout. */
static int client_to_stdout;

/* Set: the client's stdout is this file instead of its run's own. */
static const char *client_stdout;

/* Start http-get with "-o OUTDIR/body" (unless client_to_stdout), args and
 * url as *p (static storage: the case's teardown kills it when a check
 * fails before it is reaped); run_finish waits for it. */
static void run_start(struct run *r, struct nr_proc *p, const char *url, va_list ap)
{
    char bdir[PATH_MAX];
    const char *bin = bin_dir(bdir); /* $NR_BIN or this build's bin/ */
    char path[512], errbuf[NR_ERRBUF_SIZE];
    char *argv[24];
    int argc = 0;

    snprintf(r->dir, sizeof(r->dir), "/tmp/hgtest.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(live_dir, sizeof(live_dir), "%s", r->dir);
    snprintf(r->outdir, sizeof(r->outdir), "%s/out", r->dir);
    assert_int_equal(mkdir(r->outdir, 0700), 0);
    snprintf(r->file, sizeof(r->file), "%s/body", r->outdir);
    snprintf(r->so, sizeof(r->so), "%s/stdout", r->dir);
    snprintf(r->se, sizeof(r->se), "%s/stderr", r->dir);
    if (snprintf(path, sizeof(path), "%s/http-get", bin) >= (int)sizeof(path))
        fail_msg("the path of http-get in %s is too long", bin);
    argv[argc++] = path;
    if (!client_to_stdout) {
        argv[argc++] = "-o";
        argv[argc++] = r->file;
    }
    for (char *a; (a = va_arg(ap, char *)) && argc < 18;)
        argv[argc++] = a;
    argv[argc++] = (char *)url;
    argv[argc] = NULL;
    struct nr_spawn sp = { .argv = argv, .env_extra = client_env,
                           .stdout_path = client_stdout ? client_stdout : r->so,
                           .stderr_path = r->se, .activation_fd = -1 };
    if (nr_proc_spawn(&sp, p, errbuf) < 0)
        fail_msg("%s", errbuf);
    live_client = p;
}

/* Wait for the client run_start started: its exit code and stderr. */
static void run_finish(struct run *r, struct nr_proc *p)
{
    if (nr_proc_wait(p, 20000) != 1) {
        nr_proc_stop(p, 100);
        fail_msg("http-get did not exit");
    }
    nr_proc_release(p);
    live_client = NULL;
    assert_true(WIFEXITED(p->status));
    r->code = WEXITSTATUS(p->status);
    slurp(r->se, r->err, sizeof(r->err));
}

/* Run http-get with "-o OUTDIR/body" (unless client_to_stdout), args
 * (NULL-terminated) and url. */
static void run_client(struct run *r, const char *url, ...)
{
    static struct nr_proc p;
    va_list ap;

    va_start(ap, url);
    run_start(r, &p, url, ap);
    va_end(ap);
    run_finish(r, &p);
}

/* As run_client, for run_finish to wait for later (*p in static storage). */
static void run_client_bg(struct run *r, struct nr_proc *p, const char *url, ...)
{
    va_list ap;

    va_start(ap, url);
    run_start(r, p, url, ap);
    va_end(ap);
}

/* Names in the -o directory. */
static int dir_entries(const char *dir)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void cleanup(struct run *r)
{
    unlink(r->file);
    rmdir(r->outdir);
    unlink(r->so);
    unlink(r->se);
    rmdir(r->dir);
    if (!strcmp(live_dir, r->dir))
        live_dir[0] = '\0';
}

/* Remove the files in dir (path[cap] holds its name; a directory among
 * them is emptied and removed in turn), then dir itself. */
static void remove_tree(char *path, size_t cap)
{
    size_t len = strlen(path);
    struct dirent *e;
    DIR *d = opendir(path);

    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path + len, cap - len, "/%s", e->d_name);
        if (unlink(path) < 0 && errno == EISDIR)
            remove_tree(path, cap);
        path[len] = '\0';
    }
    if (d)
        closedir(d);
    rmdir(path);
}

/* Assert exit code `code`, stderr mentioning why, and an empty -o dir. */
static void expect_failure(struct run *r, int code, const char *why)
{
    if (r->code != code)
        fail_msg("exit %d, want %d; stderr: %s", r->code, code, r->err);
    if (why && !strstr(r->err, why))
        fail_msg("stderr '%s' does not mention '%s'", r->err, why);
    assert_int_equal(dir_entries(r->outdir), 0);
    cleanup(r);
}

static void expect_body(struct run *r, const char *body)
{
    char got[512];

    if (r->code != 0)
        fail_msg("exit %d; stderr: %s", r->code, r->err);
    assert_int_equal(dir_entries(r->outdir), 1);
    slurp(r->file, got, sizeof(got));
    assert_string_equal(got, body);
    cleanup(r);
}

static void url_of(const struct srv *s, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", nr_addr_port((const struct sockaddr *)&s->addr.ss),
             path);
}

/* Serve `resp` once and run the client on /x with the extra args. */
#define FETCH(r, s, stall, resp, ...)                          \
    do {                                                       \
        char url_[128];                                        \
        srv_run(&(s), stall, resp, NULL);                      \
        url_of(&(s), "/x", url_, sizeof(url_));                \
        run_client(&(r), url_, __VA_ARGS__);                   \
        srv_end(&(s));                                         \
    } while (0)

static void content_length(void **state)
{
    char head[32], want[64], out[512];
    static struct srv s;
    struct run r;

    (void)state;
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello", NULL);
    slurp(r.so, out, sizeof(out));
    expect_body(&r, "hello");
    assert_string_equal(out, "HTTP/1.1 200 OK\nContent-Length: 5\nX: y\n\n");
    snprintf(head, sizeof(head), "GET /x HTTP/1.1\r\n");
    assert_memory_equal(s.req[0], head, strlen(head));
    snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n",
             nr_addr_port((const struct sockaddr *)&s.addr.ss));
    assert_non_null(strstr(s.req[0], want));
    assert_non_null(strstr(s.req[0], "\r\nUser-Agent: netrig-http-get/1\r\n"));
    assert_non_null(strstr(s.req[0], "\r\nConnection: close\r\n"));
}

static void chunked_and_close(void **state)
{
    static struct srv s;
    struct run r;

    (void)state;
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n", "-q", NULL);
    expect_body(&r, "abc0123456789");
    FETCH(r, s, 0, "HTTP/1.0 200 OK\r\n\r\nuntil close\n", NULL);
    expect_body(&r, "until close\n");
}

static void http_errors(void **state)
{
    char out[64];
    static struct srv s;
    struct run r;

    (void)state;
    FETCH(r, s, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", NULL);
    expect_failure(&r, 4, "HTTP status 404");
    FETCH(r, s, 0, "HTTP/1.1 301 Moved\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n", NULL);
    expect_failure(&r, 4, "HTTP status 301");
    /* Without -o: a 2xx body goes to stdout, a 404's body does not (its
     * head goes to stderr either way). */
    client_to_stdout = 1;
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes", NULL);
    slurp(r.so, out, sizeof(out));
    assert_int_equal(r.code, 0);
    assert_string_equal(out, "yes");
    cleanup(&r);
    FETCH(r, s, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", NULL);
    slurp(r.so, out, sizeof(out));
    client_to_stdout = 0;
    if (r.code != 4 || out[0] || !strstr(r.err, "HTTP/1.1 404 Not Found"))
        fail_msg("exit %d, stdout '%s', stderr '%s': want 4, nothing, the head", r.code, out,
                 r.err);
    cleanup(&r);
}

static void follows_redirect(void **state)
{
    char url[128];
    static struct srv s;
    struct run r;

    (void)state;
    srv_run(&s, 0, "HTTP/1.1 301 Moved\r\nLocation: final?a=1\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
    url_of(&s, "/dir/start", url, sizeof(url));
    run_client(&r, url, "-L", NULL);
    srv_end(&s);
    expect_body(&r, "done");
    assert_int_equal(s.served, 2);
    assert_memory_equal(s.req[1], "GET /dir/final?a=1 HTTP/1.1\r\n", 29);

    srv_run(&s, 0, "HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n",
            "HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n");
    url_of(&s, "/", url, sizeof(url));
    run_client(&r, url, "-L", "--max-redirs", "1", NULL);
    srv_end(&s);
    expect_failure(&r, 4, "too many redirects");
}

/* With -L, exactly the statuses the help names (301 302 303 307 308) are
 * followed; any other 3xx is an HTTP error naming it. */
static void redirect_statuses(void **state)
{
    char url[128], resp[128], why[32];
    static struct srv s;
    struct run r;

    (void)state;
    for (int status = 300; status <= 309; status++) {
        int follow = status == 301 || status == 302 || status == 303 || status == 307 ||
                     status == 308;
        snprintf(resp, sizeof(resp), "HTTP/1.1 %d R\r\nLocation: /next\r\nContent-Length: 0"
                 "\r\n\r\n", status);
        srv_run(&s, 0, resp, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        url_of(&s, "/", url, sizeof(url));
        run_client(&r, url, "-L", "-q", NULL);
        srv_end(&s);
        if (follow) {
            expect_body(&r, "done");
            assert_int_equal(s.served, 2);
            assert_memory_equal(s.req[1], "GET /next HTTP/1.1\r\n", 20);
        } else {
            snprintf(why, sizeof(why), "HTTP status %d", status);
            expect_failure(&r, 4, why);
            assert_int_not_equal(memcmp(s.req[1], "GET ", 4), 0); /* no second request */
        }
    }
}

/* Only 2xx bodies are written (the help): 200 and 299 give theirs on
 * stdout and exit 0; 300 (not followed without -L) exits 4 with nothing on
 * stdout. */
static void only_2xx_bodies(void **state)
{
    static const struct {
        int status, code;
        const char *out;
    } cases[] = { { 200, 0, "body" }, { 299, 0, "body" }, { 300, 4, "" }, { 199, 5, "" } };
    char resp[128], out[64];
    static struct srv s;
    struct run r;

    (void)state;
    client_to_stdout = 1;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* (a 199 is interim: the "body" after it is no status line) */
        snprintf(resp, sizeof(resp), "HTTP/1.1 %d S\r\nContent-Length: 4\r\n\r\nbody",
                 cases[i].status);
        FETCH(r, s, 0, resp, "-q", NULL);
        slurp(r.so, out, sizeof(out));
        if (r.code != cases[i].code || strcmp(out, cases[i].out) != 0)
            fail_msg("status %d: exit %d, stdout '%s' (stderr '%s'): want %d, '%s'",
                     cases[i].status, r.code, out, r.err, cases[i].code, cases[i].out);
        cleanup(&r);
    }
    client_to_stdout = 0;
}

/* A redirect to follow without a usable Location (none, or one longer than
 * HG_URL_MAX) is an HTTP error saying so, and nothing more is requested. */
static void redirect_without_location(void **state)
{
    static char resp[HG_URL_MAX + 128];
    char url[128];
    static struct srv s;
    struct run r;
    int n;

    (void)state;
    for (int i = 0; i < 2; i++) {
        n = snprintf(resp, sizeof(resp), "HTTP/1.1 302 Found\r\n%sContent-Length: 0\r\n",
                     i ? "Location: /" : "");
        if (i) { /* a Location of HG_URL_MAX + 1 bytes */
            memset(resp + n - 19, 'a', HG_URL_MAX);
            n += HG_URL_MAX;
            snprintf(resp + n - 19, sizeof(resp) - (size_t)(n - 19), "\r\nContent-Length: 0\r\n");
        }
        strcat(resp, "\r\n");
        srv_run(&s, 0, resp, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        url_of(&s, "/", url, sizeof(url));
        run_client(&r, url, "-L", "-q", NULL);
        srv_end(&s);
        expect_failure(&r, 4, "redirect 302 without usable Location");
        assert_int_not_equal(memcmp(s.req[1], "GET ", 4), 0); /* no second request */
    }
}

/* A connection reset after part of a head is a network error (exit 3)
 * naming the read and the reset; a body that cannot be written to stdout
 * (/dev/full) is a local error (exit 7) naming the write and its reason. */
static void reset_and_stdout_errors(void **state)
{
    char url[128];
    static struct srv s;
    struct run r;

    (void)state;
    srv_reset = 1;
    srv_run(&s, 0, "HTTP/1.1 200 OK\r\n", NULL);
    url_of(&s, "/x", url, sizeof(url));
    run_client(&r, url, "-q", NULL);
    srv_end(&s);
    srv_reset = 0;
    expect_failure(&r, 3, "http-get: network error: read: Connection reset by peer");
    client_to_stdout = 1;
    client_stdout = "/dev/full";
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", "-q", NULL);
    client_stdout = NULL;
    client_to_stdout = 0;
    expect_failure(&r, 7, "http-get: write to stdout: No space left on device");
}

/* SIGINT, SIGTERM or SIGHUP while the body is being read into -o FILE:
 * the client dies of that signal and leaves no temp file behind. */
static void signal_removes_the_temp_file(void **state)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    static struct nr_proc p;
    char url[128];
    static struct srv s;
    struct run r;

    (void)state;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        int64_t deadline = nr_now_ms() + 5000;

        /* half a body, then the server waits (until the client is gone) */
        srv_run(&s, 5000, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", NULL);
        url_of(&s, "/x", url, sizeof(url));
        run_client_bg(&r, &p, url, "-q", NULL);
        /* the temp file is made after the handlers are set; the request
         * comes after both */
        while ((dir_entries(r.outdir) == 0 || !s.req[0][0]) && nr_ms_left(deadline) > 0)
            usleep(1000);
        usleep(20000); /* the client is reading the body */
        assert_int_equal(dir_entries(r.outdir), 1);
        assert_int_equal(kill(p.pid, sigs[i]), 0);
        assert_int_equal(nr_proc_wait(&p, 5000), 1);
        nr_proc_release(&p);
        live_client = NULL;
        srv_end(&s);
        if (!WIFSIGNALED(p.status) || WTERMSIG(p.status) != sigs[i])
            fail_msg("signal %d: wait status 0x%x", sigs[i], p.status);
        assert_int_equal(dir_entries(r.outdir), 0);
        cleanup(&r);
    }
}

/* Without -t the timeout is the documented 5000 ms: a server that accepts
 * and never answers gets "no data for 5000 ms" and exit 6.  The client is
 * started by the first case and waited for by the last, so its 5 s pass
 * while the other cases run. */
static struct {
    int lfd;
    struct nr_proc p;
    struct run r;
} silent;

static void default_timeout_start(void **state)
{
    char url[128], err[NR_ERRBUF_SIZE];
    struct nr_addr a;

    (void)state;
    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, err), 0);
    silent.lfd = nr_bind_socket(&a, SOCK_STREAM, 1, err); /* never accepted: the backlog holds it */
    assert_true(silent.lfd >= 0);
    assert_int_equal(nr_local_addr(silent.lfd, &a, err), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", nr_addr_port((struct sockaddr *)&a.ss));
    run_client_bg(&silent.r, &silent.p, url, NULL);
    live_client = NULL; /* the group's teardown ends it if default_timeout_end does not */
    live_dir[0] = '\0';
    itest_reap_spare = silent.p.pid;
}

static void default_timeout_end(void **state)
{
    (void)state;
    itest_reap_spare = 0; /* this case's teardown ends it */
    run_finish(&silent.r, &silent.p);
    close(silent.lfd);
    expect_failure(&silent.r, 6, "timeout: no data for 5000 ms");
}

/* Without --max-redirs, -L follows 5 redirects and refuses the 6th. */
static void default_max_redirs(void **state)
{
    char url[128];
    static struct srv s;
    struct run r;

    (void)state;
    srv_run_n(&s, "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n", 7);
    url_of(&s, "/", url, sizeof(url));
    run_client(&r, url, "-L", NULL);
    srv_end(&s);
    expect_failure(&r, 4, "too many redirects (--max-redirs 5)");
    assert_memory_equal(s.req[5], "GET /again ", 11); /* the 6th request was made */
    assert_int_equal(s.req[6][0], '\0');                 /* the 7th was not */
}

static void malformed_responses(void **state)
{
    static struct srv s;
    struct run r;

    (void)state;
    FETCH(r, s, 0, "HTTP/1.1 2OO OK\r\n\r\n", NULL);
    expect_failure(&r, 5, "malformed response: bad status line");
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaa\r\n\r\nbody", "--max-header-bytes", "64", NULL);
    expect_failure(&r, 5, "header block longer than 64 bytes");
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", NULL);
    expect_failure(&r, 5, "truncated body");
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\nzz\r\n", NULL);
    expect_failure(&r, 5, "bad chunk size at offset 57");
    FETCH(r, s, 0, "", NULL);
    expect_failure(&r, 5, "empty reply");
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Le", NULL);
    expect_failure(&r, 5, "truncated head");
    FETCH(r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "--max-body", "4",
          NULL);
    expect_failure(&r, 5, "max-body");
}

static void stalling_server_times_out(void **state)
{
    static struct srv s;
    struct run r;

    (void)state;
    FETCH(r, s, 5000, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "-t", "300", NULL);
    expect_failure(&r, 6, "timeout");
    FETCH(r, s, 5000, "HTTP/1.1 200 OK\r\n", "-t", "300", NULL);
    expect_failure(&r, 6, "timeout");
}

static void network_and_local_errors(void **state)
{
    char url[128];
    static struct srv s;
    struct run r;

    (void)state;
    /* A port with nothing listening: bind one, note it, close it. */
    srv_run(&s, 0, NULL, NULL);
    srv_end(&s);
    url_of(&s, "/", url, sizeof(url));
    run_client(&r, url, NULL);
    expect_failure(&r, 3, "network error");
    /* Refused before any connect attempt: no socket is ever opened to it. */
    run_client(&r, "http://192.0.2.1:9/x", NULL);
    expect_failure(&r, 2, "refusing non-loopback destination 192.0.2.1:9");
    run_client(&r, "https://127.0.0.1/", NULL);
    expect_failure(&r, 2, "only http://");
    run_client(&r, "http://127.0.0.1/", "--bogus", NULL);
    expect_failure(&r, 2, "usage: http-get");
    run_client(&r, "http://127.0.0.1/", "http://127.0.0.1/y", NULL); /* two URLs */
    if (!strstr(r.err, "http-get: expected exactly one URL\n"))
        fail_msg("stderr '%s'", r.err);
    expect_failure(&r, 2, "usage: http-get");
    run_client(&r, "http://127.0.0.1/", "-o", "/nonexistent-dir/x", NULL);
    expect_failure(&r, 7, "temp file");
}

/* Every numeric option just inside its range is taken (the run goes on to
 * the network: exit 3 at a closed port), and just outside it, or malformed,
 * is refused with exit 2 naming the option, the range and the value. */
static void option_bounds(void **state)
{
    static const struct {
        const char *opt, *range, *bad[3], *good[2];
    } o[] = {
        { "--timeout", "1-3600000", { "0", "3600001", "5s" }, { "1", "3600000" } },
        { "--max-redirs", "0-100", { "-1", "101", "" }, { "0", "100" } },
        { "--max-header-bytes", "64-16777216", { "63", "16777217", "x" }, { "64", "16777216" } },
        { "--max-headers", "1-10000", { "0", "10001", "1e3" }, { "1", "10000" } },
        { "--max-body", "1-9223372036854775807", { "0", "9223372036854775808", "-1" },
          { "1", "9223372036854775807" } },
    };
    char url[128], want[160];
    static struct srv s;
    struct run r;

    (void)state;
    srv_run(&s, 0, NULL, NULL); /* a port with nothing listening */
    srv_end(&s);
    url_of(&s, "/", url, sizeof(url));
    for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
        for (size_t j = 0; j < 3; j++) {
            snprintf(want, sizeof(want), "http-get: %s: expected %s, got '%s'\n", o[i].opt,
                     o[i].range, o[i].bad[j]);
            run_client(&r, url, o[i].opt, o[i].bad[j], NULL);
            expect_failure(&r, 2, want);
        }
        for (size_t j = 0; j < 2; j++) {
            run_client(&r, url, o[i].opt, o[i].good[j], NULL);
            expect_failure(&r, 3, "network error");
        }
    }
    run_client(&r, url, "--help", NULL);
    assert_int_equal(r.code, 0);
    cleanup(&r);
    run_client(&r, url, "extra", NULL);
    expect_failure(&r, 2, "http-get: expected exactly one URL\n");
}

/* A chunked body cut at every boundary of its framing (after a size line,
 * inside and after the data, after its CRLF, after the last chunk, inside
 * the trailers): exit 5, "truncated", and no file, temp or final. */
static void chunked_cut_at_every_boundary(void **state)
{
    static const char full[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\nA;x=1\r\n0123456789\r\n0\r\nT: 1\r\n\r\n";
    static const char *const cuts[] = { "3\r\n", "3\r\nab", "3\r\nabc", "3\r\nabc\r\n",
                                        "A;x=1\r\n", "0123456789", "0123456789\r\n",
                                        "0\r\n", "T: 1\r\n" };
    const char *body = strstr(full, "\r\n\r\n") + 4;
    char resp[sizeof(full)];
    static struct srv s;
    struct run r;

    (void)state;
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        const char *at = strstr(i < 4 ? body : body + 8, cuts[i]);
        size_t len;

        assert_non_null(at);
        len = (size_t)(at - full) + strlen(cuts[i]);
        memcpy(resp, full, len);
        resp[len] = '\0';
        FETCH(r, s, 0, resp, NULL);
        if (r.code != 5 || !strstr(r.err, "truncated chunked body"))
            fail_msg("cut after %zu bytes: exit %d, stderr: %s", len, r.code, r.err);
        expect_failure(&r, 5, "truncated");
    }
    FETCH(r, s, 0, full, NULL);
    expect_body(&r, "abc0123456789");
}

/* The client with every socket read and write cut to one byte (short-I/O
 * injector): the request arrives whole, the response is read a byte at a
 * time (the head's final LF alone), and the body is exact. */
static void one_byte_per_read(void **state)
{
    static const char *const resps[] = {
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTRANSFER-ENCODING: chunked\r\n\r\n"
        "b\r\nhello world\r\nC\r\n, and more!!\r\n0\r\n\r\n",
    };
    static const char *const bodies[] = { "hello", "hello world, and more!!" };
    struct shortio io;
    struct shortio_stats st;
    static struct srv s;
    struct run r;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        client_env = shortio_env(&io, 1);
        FETCH(r, s, 0, resps[i], NULL);
        client_env = NULL;
        assert_non_null(strstr(s.req[0], "\r\nConnection: close\r\n\r\n"));
        expect_body(&r, bodies[i]);
        shortio_expect_active(&io, &st, SIO_SHORT_W | SIO_SHORT_R);
        assert_true(st.short_reads >= strlen(resps[i]) - 1);
    }
}

/* One fetch of a 4-byte body under NR_FAULT=spec ("": none); returns
 * the injector's count of `counter` calls. */
static unsigned long faulty_fetch(struct run *r, const char *spec, const char *counter)
{
    struct fault f;
    static struct srv s;
    unsigned long n;

    client_env = fault_env(&f, spec, 0);
    FETCH(*r, s, 0, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", NULL);
    client_env = NULL;
    n = fault_count(&f, counter);
    if (fault_count(&f, "close_ebadf") != 0)
        fail_msg("under '%s' http-get closed a descriptor that was not open; stderr: %s", spec,
                 r->err);
    fault_done(&f);
    return n;
}

/* Every allocation and every close http-get makes fails in turn (one per
 * run): each run either delivers the body or exits non-zero with a
 * message ("http-get: " and a reason) and leaves the -o directory empty;
 * none closes a descriptor twice.  The failing close of the temp file is
 * reported as such (exit 7), a failing allocation of http-get's own as
 * "out of memory". */
static void local_faults(void **state)
{
    static const char *const fns[] = { "malloc", "calloc", "realloc", "close" };
    int saw_close = 0, saw_oom = 0;
    struct run r;

    (void)state;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        unsigned long calls = faulty_fetch(&r, "", fns[i]);

        expect_body(&r, "body");
        for (unsigned long n = 1; n <= calls; n++) {
            char spec[64];

            snprintf(spec, sizeof(spec), "%s:%lu", fns[i], n);
            faulty_fetch(&r, spec, fns[i]);
            if (r.code == 0) {
                expect_body(&r, "body");
                continue;
            }
            if (strncmp(r.err, "http-get: ", 10) != 0 || strlen(r.err) < 14)
                fail_msg("under %s: exit %d with no message ('%s')", spec, r.code, r.err);
            if (strstr(r.err, "http-get: close ") && strstr(r.err, "/.body.") &&
                strstr(r.err, strerror(EIO)) && r.code == 7)
                saw_close = 1;
            if (strstr(r.err, "out of memory"))
                saw_oom++;
            expect_failure(&r, r.code, NULL);
        }
    }
    assert_true(saw_close);
    assert_true(saw_oom >= 2);
}

/* A redirect to a URL of exactly HG_URL_MAX bytes is followed (the
 * resolved target and its NUL fit); one byte longer is refused. */
static void redirect_at_url_max(void **state)
{
    static char loc[HG_URL_MAX + 2], resp[HG_URL_MAX + 128];
    char url[128];
    static struct srv s;
    struct run r;
    int n;

    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        /* resp is written once the port is known, before any client runs */
        srv_run(&s, 0, resp, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        n = snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/",
                     nr_addr_port((const struct sockaddr *)&s.addr.ss));
        memset(loc + n, 'a', (size_t)(HG_URL_MAX + extra - n));
        loc[HG_URL_MAX + extra] = '\0';
        snprintf(resp, sizeof(resp), "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
                 loc);
        url_of(&s, "/start", url, sizeof(url));
        run_client(&r, url, "-L", NULL);
        srv_end(&s);
        if (extra) {
            expect_failure(&r, 4, "without usable Location");
            assert_int_equal(s.req[1][0], '\0'); /* no second request (srv_end's own connection) */
        } else {
            expect_body(&r, "done");
            assert_int_equal(s.served, 2);
            assert_memory_equal(s.req[1], "GET /aaaa", 9);
        }
    }
}

/* For itest_reap's teardown, before it ends the children: kill a client
 * the case left running (so its server is not kept waiting for it), end
 * the server, and remove the client's directory.  Returns how many there were (0, 1 or 2), or -1 when the
 * client could not be reaped. */
static int end_leftovers(void)
{
    int n = 0, failed = 0;

    if (live_client && !live_client->reaped) {
        if (nr_proc_kill(live_client, 5000) != 1)
            failed = 1;
        else
            print_message("teardown: http-get left running by the case: killed and reaped\n");
        n++;
    }
    if (live_client)
        nr_proc_release(live_client);
    live_client = NULL;
    if (live_srv) {
        srv_end(live_srv);
        print_message("teardown: the server thread left by the case: ended and joined\n");
        n++;
    }
    if (live_dir[0]) { /* not running: a case that passed may leave it */
        char path[512];
        snprintf(path, sizeof(path), "%s", live_dir);
        remove_tree(path, sizeof(path));
        live_dir[0] = '\0';
    }
    return failed ? -1 : n;
}

/* The group's teardown: the client default_timeout_start started, when
 * default_timeout_end did not reap it, and its directory. */
static int end_silent_client(void **state)
{
    char path[512];

    (void)state;
    if (silent.p.pid > 0 && !silent.p.reaped) {
        nr_proc_kill(&silent.p, 5000);
        nr_proc_release(&silent.p);
    }
    if (silent.r.dir[0]) {
        snprintf(path, sizeof(path), "%s", silent.r.dir);
        remove_tree(path, sizeof(path));
    }
    return 0;
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(default_timeout_start),
        cmocka_unit_test(content_length),
        cmocka_unit_test(chunked_and_close),
        cmocka_unit_test(http_errors),
        cmocka_unit_test(follows_redirect),
        cmocka_unit_test(default_max_redirs),
        cmocka_unit_test(malformed_responses),
        cmocka_unit_test(stalling_server_times_out),
        cmocka_unit_test(network_and_local_errors),
        cmocka_unit_test(option_bounds),
        cmocka_unit_test(chunked_cut_at_every_boundary),
        cmocka_unit_test(one_byte_per_read),
        cmocka_unit_test(local_faults),
        cmocka_unit_test(redirect_at_url_max),
        cmocka_unit_test(redirect_statuses),
        cmocka_unit_test(only_2xx_bodies),
        cmocka_unit_test(redirect_without_location),
        cmocka_unit_test(signal_removes_the_temp_file),
        cmocka_unit_test(reset_and_stdout_errors),
        cmocka_unit_test(default_timeout_end),
    };

    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), end_leftovers);
    return cmocka_run_group_tests(tests, NULL, end_silent_client);
}
