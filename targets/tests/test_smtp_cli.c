/* smtp-send's connect errors as exit codes (README's table): a refused
 * connection is a network error (3), a connect that never completes is a
 * timeout (4), a non-loopback server is refused before any connect (2);
 * each with its one-line reason on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_itest.h"
#include "itest_reap.h"
#include "nr_net.h"
#include "nr_proc.h"

/* The scripted server thread the running case started and has not ended
 * yet: a failed check leaves the case at once, and its teardown
 * (itest_reap.h: end_leftovers, then every child killed) ends it, so it
 * does not outlive the case.  Static storage, never the case's stack. */
static struct {
    struct smtpd *d; /* NULL: no server thread */
    pthread_t th;
    int port;
} live_smtpd;

/* Run smtp-send with argv[1..] (NULL-terminated) and the extra
 * environment env (may be NULL); returns its exit code, its stdout in
 * out[len] and its stderr in err[len]. */
static int run_args(char **args, char *const *env, char *out, char *err, size_t len)
{
    char bdir[PATH_MAX];
    const char *bin = bin_dir(bdir); /* $NR_BIN or this build's bin/ */
    char path[512], errbuf[NR_ERRBUF_SIZE], dir[64], outpath[96], errpath[96];
    char *argv[256];
    int argc = 0;
    struct nr_proc p;
    char *bufs[2] = { out, err };
    const char *paths[2] = { outpath, errpath };

    if (snprintf(path, sizeof(path), "%s/smtp-send", bin) >= (int)sizeof(path))
        fail_msg("the path of smtp-send in %s is too long", bin);
    argv[argc++] = path;
    while (*args && argc < 255)
        argv[argc++] = *args++;
    argv[argc] = NULL;
    snprintf(dir, sizeof(dir), "/tmp/smtpcli.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(outpath, sizeof(outpath), "%s/out", dir);
    snprintf(errpath, sizeof(errpath), "%s/err", dir);
    struct nr_spawn sp = { .argv = argv, .env_extra = env, .stdout_path = outpath,
                           .stderr_path = errpath, .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &p, errbuf) < 0) {
        unlink(outpath);
        unlink(errpath);
        rmdir(dir);
        fail_msg("%s", errbuf);
    }
    if (nr_proc_wait(&p, 5000) != 1) {
        nr_proc_stop(&p, 100);
        nr_proc_release(&p);
        unlink(outpath);
        unlink(errpath);
        rmdir(dir);
        fail_msg("smtp-send did not exit within 5 s");
    }
    nr_proc_release(&p);
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "r");
        size_t n;
        assert_non_null(f);
        n = fread(bufs[i], 1, len - 1, f);
        bufs[i][n] = '\0';
        fclose(f);
        unlink(paths[i]);
    }
    rmdir(dir);
    assert_true(WIFEXITED(p.status));
    return WEXITSTATUS(p.status);
}

/* Run smtp-send --server server (plus -t 300) to a fixed sender and
 * recipient; returns its exit code and its stderr in err[len]. */
static int run_smtp(const char *server, char *err, size_t len)
{
    char *args[] = { "--server", (char *)server, "--from", "a@example.org", "--to",
                     "b@example.org", "-t", "300", NULL };
    char out[1024];

    return run_args(args, NULL, out, err, len < sizeof(out) ? len : sizeof(out));
}

/* A loopback listener; *port gets its port.  backlog 0 and one pending
 * connection fill its accept queue, so the next connect never completes. */
static int listener(int backlog, int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void connect_errors(void **state)
{
    char err[1024], server[64];
    int port, lfd, pending;

    (void)state;
    /* refused: a port bound and closed again */
    close(listener(1, &port));
    snprintf(server, sizeof(server), "127.0.0.1:%d", port);
    assert_int_equal(run_smtp(server, err, sizeof(err)), 3);
    if (strncmp(err, "smtp-send: network error: ", 26) != 0 || strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("stderr '%s'", err);
    /* a full accept queue: the SYN is dropped, the connect times out */
    lfd = listener(0, &port);
    snprintf(server, sizeof(server), "127.0.0.1:%d", port);
    pending = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(connect(pending, (struct sockaddr *)&a, sizeof(a)), 0);
    }
    assert_int_equal(run_smtp(server, err, sizeof(err)), 4);
    if (strncmp(err, "smtp-send: timeout: ", 20) != 0)
        fail_msg("stderr '%s'", err);
    close(pending);
    close(lfd);
    /* [V6]:PORT: the address inside the brackets is the one connected to */
    assert_int_equal(run_smtp("[::1]:1", err, sizeof(err)), 3);
    if (strncmp(err, "smtp-send: network error: connect to [::1]:1: ", 46) != 0)
        fail_msg("stderr '%s'", err);
    /* not loopback: refused before any connect */
    assert_int_equal(run_smtp("192.0.2.1:25", err, sizeof(err)), 2);
    if (!strstr(err, "192.0.2.1"))
        fail_msg("stderr '%s'", err);
}

/* With SOURCE_DATE_EPOCH the message is reproducible: the Date is that
 * time, the Message-ID's hex part the FNV-1a 64 of the epoch text, the
 * subject and the body (computed apart: 04007b2696258a76); an epoch that
 * is not a number of seconds from 0 to 253402300799 (the end of 9999) is
 * a usage error and prints nothing.  A
 * --max-size of the message's length takes it, one less refuses it (10). */
static void dry_run_reproducible(void **state)
{
    static const char want[] = "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                               "From: a@example.org\r\n"
                               "To: b@example.org\r\n"
                               "Subject: hi\r\n"
                               "Message-ID: <04007b2696258a76.1700000000@localhost>\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=us-ascii\r\n"
                               "Content-Transfer-Encoding: 7bit\r\n"
                               "\r\n";
    char *args[] = { "--server", "127.0.0.1:1", "--from", "a@example.org", "--to",
                     "b@example.org", "--subject", "hi", "--dry-run", NULL };
    char size[24], want_err[128];
    char *sized[] = { "--server", "127.0.0.1:1", "--from", "a@example.org", "--to",
                      "b@example.org", "--subject", "hi", "--dry-run", "--max-size", size, NULL };
    char *good[] = { "SOURCE_DATE_EPOCH=1700000000", NULL };
    static const struct {
        const char *env, *date; /* NULL: not a number of seconds */
    } epochs[] = {
        { "SOURCE_DATE_EPOCH=17x", NULL }, { "SOURCE_DATE_EPOCH=", NULL },
        { "SOURCE_DATE_EPOCH=-1", NULL }, { "SOURCE_DATE_EPOCH=253402300800", NULL },
        { "SOURCE_DATE_EPOCH=+5", NULL }, { "SOURCE_DATE_EPOCH= 5", NULL },
        { "SOURCE_DATE_EPOCH=0", "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n" },
        { "SOURCE_DATE_EPOCH=253402300799", "Date: Fri, 31 Dec 9999 23:59:59 +0000\r\n" },
    };
    char out[2048], err[1024];
    struct fault f;

    (void)state;
    assert_int_equal(run_args(args, good, out, err, sizeof(out)), 0);
    assert_string_equal(out, want);
    for (size_t i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
        char *env[] = { (char *)epochs[i].env, NULL };
        int code = run_args(args, env, out, err, sizeof(err));
        if (epochs[i].date ? code != 0 || strncmp(out, epochs[i].date, strlen(epochs[i].date)) != 0
                           : code != 2 || out[0] ||
                                 strcmp(err, "smtp-send: SOURCE_DATE_EPOCH is not a number of seconds\n"))
            fail_msg("%s: exit %d, stdout '%.60s', stderr '%s'", epochs[i].env, code, out, err);
    }
    /* --max-size: a message of exactly that size goes, one byte more does not */
    snprintf(size, sizeof(size), "%zu", strlen(want));
    assert_int_equal(run_args(sized, good, out, err, sizeof(out)), 0);
    assert_string_equal(out, want);
    snprintf(size, sizeof(size), "%zu", strlen(want) - 1);
    assert_int_equal(run_args(sized, good, out, err, sizeof(err)), 10);
    assert_string_equal(out, "");
    snprintf(want_err, sizeof(want_err), "smtp-send: the message is %zu bytes, over --max-size %zu\n",
             strlen(want), strlen(want) - 1);
    assert_string_equal(err, want_err);
    /* the body is part of the Message-ID's hash: another body, another id */
    {
        char path[] = "/tmp/smtpbody.XXXXXX", out2[2048];
        char *with_body[] = { "--server", "127.0.0.1:1", "--from", "a@example.org", "--to",
                              "b@example.org", "--subject", "hi", "--dry-run", "--body-file", path,
                              NULL };
        const char *id;
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x\n", 2), 2);
        close(fd);
        assert_int_equal(run_args(with_body, good, out2, err, sizeof(out2)), 0);
        id = strstr(out2, "Message-ID: <");
        assert_non_null(id);
        if (!strncmp(id, "Message-ID: <04007b2696258a76.", 30))
            fail_msg("the same Message-ID with a body: '%.60s'", id);
        /* the body's close failing (EIO, the file read whole) changes nothing:
         * the epoch is read after it all the same */
        fault_env(&f, "close:1", 0);
        f.env[4] = good[0];
        assert_int_equal(run_args(with_body, f.env, out, err, sizeof(out)), 0);
        assert_int_equal(fault_count(&f, "injected"), 1);
        fault_done(&f);
        unlink(path);
        assert_string_equal(out, out2);
    }
}

/* --attach FILE in a dry run: the file's bytes go base64 in a second
 * part of a multipart/mixed message, dated now.  With SOURCE_DATE_EPOCH the whole
 * message is fixed: the Message-ID's hex part is the FNV-1a 64 of the
 * epoch text, the subject, the body and each attachment's bytes, and the
 * boundary's the same hash continued over the 8 bytes "boundary" (both
 * computed apart: 997099139d0a4da6 and 09a48578270d8ccc). */
static void attach_dry_run(void **state)
{
    static const char want[] =
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        "From: a@example.org\r\n"
        "To: b@example.org\r\n"
        "Subject: hi\r\n"
        "Message-ID: <997099139d0a4da6.1700000000@localhost>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"=_netrig_09a48578270d8ccc\"\r\n"
        "\r\n"
        "This is a multipart message in MIME format.\r\n"
        "\r\n"
        "--=_netrig_09a48578270d8ccc\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "\r\n"
        "--=_netrig_09a48578270d8ccc\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename=\"hello.txt\"\r\n"
        "\r\n"
        "aGVsbG8=\r\n"
        "\r\n"
        "--=_netrig_09a48578270d8ccc--\r\n";
    char dir[] = "/tmp/smtpatt.XXXXXX", path[64], out[8192], err[1024];
    char *args[] = { "--server", "127.0.0.1:1", "--from", "a@example.org", "--to", "b@example.org",
                     "--attach", path, "--dry-run", "--subject", "hi", NULL };
    char *epoch[] = { "SOURCE_DATE_EPOCH=1700000000", NULL };
    struct tm tm;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/hello.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite("hello", 1, 5, f), 5);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(run_args(args, NULL, out, err, sizeof(out)), 0);
    if (!strstr(out, "aGVsbG8=") || !strstr(out, "multipart/mixed"))
        fail_msg("no base64 attachment in '%s'", out);
    memset(&tm, 0, sizeof(tm));
    if (!strptime(out, "Date: %a, %d %b %Y %H:%M:%S +0000\r\n", &tm) || labs((long)(timegm(&tm) - time(NULL))) > 600)
        fail_msg("without SOURCE_DATE_EPOCH, not the time now: '%.60s'", out);
    assert_int_equal(run_args(args, epoch, out, err, sizeof(out)), 0);
    unlink(path);
    rmdir(dir);
    assert_string_equal(err, "");
    assert_string_equal(out, want);
}

/* --server's limits (README: HOST:PORT or [V6]:PORT): a port from 1 to
 * 65535 (leading zeros are still that port), a host of at most 255 bytes
 * (bracketed or not).  Each accepted form is connected to (a port nothing
 * listens on: exit 3 naming the address; 255 bytes of host are
 * 0...0177.0.0.1, a numeric 127.0.0.1); each refused one is a usage error
 * (2) before any connect. */
static void server_limits(void **state)
{
    static const char usage[] = "smtp-send: --server wants HOST:PORT or [V6]:PORT, got '";
    char err[1024], want[128], server[600], host[300];
    int port;

    (void)state;
    close(listener(1, &port)); /* bound and closed: refused */
    for (size_t len = 255; len <= 256; len++) {
        for (int bracket = 0; bracket < 2; bracket++) {
            memset(host, '0', len);
            memcpy(host + len - 9, "177.0.0.1", 10);
            snprintf(server, sizeof(server), bracket ? "[%s]:%d" : "%s:%d", host, port);
            snprintf(want, sizeof(want), len <= 255 ? "smtp-send: network error: connect to 127.0.0.1:%d: "
                                                    : usage, port);
            if (run_smtp(server, err, sizeof(err)) != (len <= 255 ? 3 : 2) ||
                strncmp(err, want, strlen(want)) != 0)
                fail_msg("a host of %zu bytes%s: stderr '%s', want '%s...'", len,
                         bracket ? " in brackets" : "", err, want);
        }
    }
    static const struct {
        const char *server;
        int code;
    } cases[] = {
        { "127.0.0.1:65535", 3 }, { "[::1]:65535", 3 },
        { "127.0.0.1:0", 2 }, { "127.0.0.1:65536", 2 }, { "127.0.0.1", 2 }, { ":25", 2 },
        { "::1:25", 2 }, { "[::1:25", 2 }, { "127.0.0.1:+25", 2 }, { "127.0.0.1: 25", 2 },
    };
    static const char *const zeros[] = { "127.0.0.1:00000000001", "127.0.0.1:1" };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = run_smtp(cases[i].server, err, sizeof(err));
        if (cases[i].code == 3)
            snprintf(want, sizeof(want), "smtp-send: network error: connect to %s: ", cases[i].server);
        else
            snprintf(want, sizeof(want), "%s%s'\n", usage, cases[i].server);
        if (got != cases[i].code || strncmp(err, want, strlen(want)) != 0)
            fail_msg("--server %s: exit %d, stderr '%s'; want %d, '%s...'", cases[i].server, got,
                     err, cases[i].code, want);
    }
    for (size_t i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i += 2) {
        snprintf(want, sizeof(want), "smtp-send: network error: connect to %s: ", zeros[i + 1]);
        if (run_smtp(zeros[i], err, sizeof(err)) != 3 || strncmp(err, want, strlen(want)) != 0)
            fail_msg("--server %s: stderr '%s', want '%s...'", zeros[i], err, want);
    }
}

/* Attachments are read whole, however many reads that takes (100000
 * bytes: two at least), and one over --max-size is refused on reading;
 * one of exactly --max-size bytes is read (the message is then over it). */
static void attach_big_and_max_size(void **state)
{
    static char out[262144];
    static uint8_t blob[100000];
    char path[] = "/tmp/smtpatt.XXXXXX", err[1024];
    char *args[] = { "--server", "127.0.0.1:1", "--from", "a@example.org", "--to",
                     "b@example.org", "--attach", path, "--dry-run", NULL, NULL, NULL };
    size_t b64 = 0;
    int fd;

    (void)state;
    memset(blob, 'x', sizeof(blob));
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, blob, sizeof(blob)), (ssize_t)sizeof(blob));
    close(fd);
    assert_int_equal(run_args(args, NULL, out, err, sizeof(out)), 0);
    for (const char *p = out; (p = strstr(p, "eHh4")); p += 4)
        b64 += 4; /* "xxx" is "eHh4" */
    if (b64 < 133320)
        fail_msg("%zu base64 characters of 'xxx' groups: the attachment was cut", b64);
    args[9] = "--max-size";
    args[10] = "100000"; /* the file is read, the message is over it */
    assert_int_equal(run_args(args, NULL, out, err, sizeof(err)), 10);
    if (strncmp(err, "smtp-send: the message is ", 26) != 0)
        fail_msg("--max-size 100000: stderr '%s'", err);
    for (size_t i = 0; i < 3; i++) {
        if (i == 2) { /* 65535 bytes: the first read buffer (64 KiB) is one byte over it */
            fd = open(path, O_WRONLY | O_CLOEXEC);
            assert_int_equal(ftruncate(fd, 65535), 0);
            close(fd);
        }
        args[10] = i == 0 ? "99999" : i == 1 ? "50000" : "65534";
        assert_int_equal(run_args(args, NULL, out, err, sizeof(err)), 10);
        if (!strstr(err, "cannot read") || !strstr(err, "(over --max-size)"))
            fail_msg("--max-size %s: stderr '%s'", args[10], err);
    }
    unlink(path);
}

/* A scripted SMTP server for one session on a loopback listener: sends
 * script[0] (the greeting), then answers each command line with the next
 * entry (CRLF added; an entry may hold more lines), and a DATA reply
 * starting 354 takes the message up to its "." line, answered by the next
 * entry.  An entry "!TEXT" sends TEXT (if any) and closes the connection
 * at once, "~" says nothing until the client closes; past the script's
 * end the connection is closed.  got
 * receives the command lines (the message left out). */
struct smtpd {
    int lfd;
    const char *const *script;
    char got[4096];
    size_t got_len;
};

static void *smtpd_main(void *arg)
{
    struct smtpd *d = arg;
    char line[1024];
    size_t len = 0, next = 1;
    int fd, in_data = 0;

    d->got_len = 0;
    d->got[0] = '\0';
    if (nr_wait_fd(d->lfd, POLLIN, 5000) <= 0 || (fd = accept(d->lfd, NULL, NULL)) < 0)
        return NULL;
    nr_write_all(fd, d->script[0], strlen(d->script[0]), 2000);
    nr_write_all(fd, "\r\n", 2, 2000);
    while (nr_wait_fd(fd, POLLIN, 5000) > 0) {
        ssize_t n = nr_read(fd, line + len, sizeof(line) - 1 - len);
        char *eol;
        if (n <= 0)
            break;
        len += (size_t)n;
        while ((eol = memchr(line, '\n', len))) {
            size_t l = (size_t)(eol - line) + 1;
            const char *reply = d->script[next];
            int answer = !in_data || (l == 3 && line[0] == '.');
            if (!in_data && d->got_len + l < sizeof(d->got)) {
                memcpy(d->got + d->got_len, line, l);
                d->got_len += l;
                d->got[d->got_len] = '\0';
            }
            memmove(line, line + l, len - l);
            len -= l;
            if (!answer)
                continue;
            next += reply != NULL;
            if (!reply)
                goto done;
            if (!strcmp(reply, "~")) {
                while (nr_wait_fd(fd, POLLIN, 5000) > 0 && nr_read(fd, line, sizeof(line)) > 0)
                    ;
                goto done;
            }
            in_data = !strncmp(reply, "354", 3);
            if (reply[0] == '!' && !reply[1])
                goto done;
            reply += reply[0] == '!';
            nr_write_all(fd, reply, strlen(reply), 2000);
            nr_write_all(fd, "\r\n", 2, 2000);
            if (reply != d->script[next - 1])
                goto done;
        }
        if (len == sizeof(line) - 1)
            len = 0; /* a long body line: not a command */
    }
done:
    close(fd);
    return NULL;
}

/* Run smtp-send with args (the server's address put where "SERVER" is)
 * and the extra environment env (may be NULL) against the scripted server
 * d (static storage: a failed check leaves it to the case's teardown);
 * returns its exit code. */
static int run_session(struct smtpd *d, char **args, char *const *env, char *out, char *err,
                       size_t len)
{
    char server[64];
    int code;

    d->lfd = listener(1, &live_smtpd.port);
    snprintf(server, sizeof(server), "127.0.0.1:%d", live_smtpd.port);
    for (char **a = args; *a; a++)
        if (!strcmp(*a, "SERVER"))
            *a = server;
    assert_int_equal(pthread_create(&live_smtpd.th, NULL, smtpd_main, d), 0);
    live_smtpd.d = d;
    code = run_args(args, env, out, err, len);
    pthread_join(live_smtpd.th, NULL);
    live_smtpd.d = NULL;
    close(d->lfd);
    for (char **a = args; *a; a++)
        if (*a == server)
            *a = "SERVER";
    return code;
}

/* A whole session with the binary: two recipients, the second refused;
 * the message is sent (exit 0), stdout names each recipient's answer and
 * the final reply; nothing on stderr. */
static void session_one_of_two_accepted(void **state)
{
    static const char *const script[] = { "220 hi", "250 ok", "250 ok", "250 ok", "550 no such user",
                                          "354 go", "250 queued as 1", "221 bye", NULL };
    static struct smtpd d = { .script = script };
    char out[4096], err[1024];
    char *args[] = { "--server", "SERVER", "--from", "a@example.org", "--to", "b@example.org",
                     "--to", "c@example.org", "--subject", "hi", NULL };

    (void)state;
    assert_int_equal(run_session(&d, args, NULL, out, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(out, "RCPT b@example.org: 250 ok\n"
                             "RCPT c@example.org: 550 no such user\n"
                             "sent: 250 queued as 1\n");
    assert_string_equal(d.got, "EHLO localhost\r\nMAIL FROM:<a@example.org>\r\n"
                               "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nQUIT\r\n");
}

/* The most recipients (100) in a session (pipelined): one RCPT line each
 * on stdout, in order, then the final reply; nothing else. */
static void session_most_recipients(void **state)
{
    static const char *script[100 + 7]; /* NULL-terminated */
    static char names[100][24], want[100 * 48 + 64];
    static struct smtpd d = { .script = script };
    static char out[8192], err[1024];
    char *args[2 * 100 + 8];
    size_t n = 0, w = 0;

    (void)state;
    script[0] = "220 hi";
    script[1] = "250-hi\r\n250 PIPELINING"; /* MAIL and the RCPTs in one write */
    script[2] = "250 ok";
    args[n++] = "--server";
    args[n++] = "SERVER";
    args[n++] = "--from";
    args[n++] = "a@b.test";
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "r%d@b.test", i);
        script[3 + i] = "250 ok";
        args[n++] = "--to";
        args[n++] = names[i];
        w += (size_t)snprintf(want + w, sizeof(want) - w, "RCPT %s: 250 ok\n", names[i]);
    }
    snprintf(want + w, sizeof(want) - w, "sent: 250 queued\n");
    script[103] = "354 go";
    script[104] = "250 queued";
    script[105] = "221 bye";
    args[n] = NULL;
    assert_int_equal(run_session(&d, args, NULL, out, err, sizeof(out)), 0);
    assert_string_equal(err, "");
    assert_string_equal(out, want);
}

/* Every recipient refused: nothing is sent, and stderr says why in one
 * line (the exit code is the one for refused recipients). */
static void session_all_refused(void **state)
{
    static const char *const script[] = { "220 hi", "250 ok", "250 ok", "550 no such user",
                                          "221 bye", NULL };
    static struct smtpd d = { .script = script };
    char out[4096], err[1024];
    char *args[] = { "--server", "SERVER", "--from", "a@example.org", "--to", "b@example.org",
                     "--subject", "hi", NULL };

    (void)state;
    assert_int_equal(run_session(&d, args, NULL, out, err, sizeof(err)), 7);
    assert_string_equal(out, "RCPT b@example.org: 550 no such user\n");
    assert_string_equal(err, "smtp-send: RCPT TO refused every recipient; the last said: "
                             "550 no such user\n");
}

/* Each failing session ends with the README's exit code and one line on
 * stderr naming the step: 3 the server closed the connection (also in the
 * middle of a 2 MB message: a write then fails, no SIGPIPE), 4 no reply
 * within -t, 5 a malformed reply, 6 the sender refused, 8 DATA refused,
 * 9 the greeting refused. */
static void session_exit_codes(void **state)
{
    static const char *const closed[] = { "220 hi", "!", NULL };
    static const char *const in_data[] = { "220 hi", "250 ok", "250 ok", "250 ok", "!354 go", NULL };
    static const char *const silent[] = { "220 hi", "250 ok", "~", NULL };
    static const char *const malformed[] = { "220 hi", "250 ok", "2x0 what", NULL };
    static const char *const sender[] = { "220 hi", "250 ok", "553 no such sender", "221 bye", NULL };
    static const char *const data[] = { "220 hi", "250 ok", "250 ok", "250 ok", "554 no data",
                                        "221 bye", NULL };
    static const char *const greeting[] = { "554 go away", "221 bye", NULL };
    static const struct {
        const char *const *script;
        int code;
        const char *err;
    } cases[] = {
        { closed, 3, "smtp-send: " }, { in_data, 3, "smtp-send: " }, { silent, 4, "smtp-send: MAIL FROM: no reply for 300 ms" },
        { malformed, 5, "smtp-send: " }, { sender, 6, "smtp-send: " }, { data, 8, "smtp-send: " },
        { greeting, 9, "smtp-send: " },
    };
    static struct smtpd d;
    static char big[2 << 20];
    char out[4096], err[1024], body[] = "/tmp/smtpbody.XXXXXX";
    char *args[] = { "--server", "SERVER", "--from", "a@example.org", "--to", "b@example.org",
                     "-t", "300", NULL, NULL, NULL };
    int fd;

    (void)state;
    memset(big, 'x', sizeof(big));
    for (size_t i = 999; i < sizeof(big); i += 1000)
        big[i] = '\n';
    fd = mkstemp(body);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got;
        d.script = cases[i].script;
        args[8] = cases[i].script == in_data ? "--body-file" : NULL; /* the 2 MB message */
        args[9] = body;
        got = run_session(&d, args, NULL, out, err, sizeof(err));
        if (got != cases[i].code || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0 ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("case %zu: exit %d, stderr '%s'; want %d, one line '%s...'", i, got, err,
                     cases[i].code, cases[i].err);
    }
    unlink(body);
}

/* --user with --password-file: AUTH PLAIN of the file's first line, its
 * line break (LF or CRLF) left out, and the message is sent.  A file of
 * 4096 bytes is taken, one of 4097 is exit 10 naming that limit. */
static void session_auth_password(void **state) /* AHUAczNjcmV0, AHUA: base64 of "\0u\0s3cret", "\0u\0" */
{
    static const char *const script[] = { "220 hi", "250-hi\r\n250 AUTH PLAIN", "235 ok", "250 ok",
                                          "250 ok", "354 go", "250 queued", "221 bye", NULL };
    static const char *const files[][2] = {
        { "s3cret\r\nsecond\n", "AHUAczNjcmV0" }, { "s3cret\r", "AHUAczNjcmV0" }, { "", "AHUA" },
    };
    char want[256], big[4098];
    static struct smtpd d = { .script = script };
    char dir[] = "/tmp/smtppw.XXXXXX", pwfile[64], out[4096], err[1024];
    char *args[] = { "--server", "SERVER", "--from", "a@example.org", "--to", "b@example.org",
                     "--user", "u", "--password-file", pwfile, "-q", NULL };
    char *dry[] = { "--from", "a@example.org", "--to", "b@example.org", "--dry-run", "--user", "u",
                    "--password-file", pwfile, NULL };

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *f = fopen(pwfile, "w");
        assert_non_null(f);
        assert_int_equal(fputs(files[i][0], f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        if (run_session(&d, args, NULL, out, err, sizeof(err)) != 0 || err[0] || out[0])
            fail_msg("password file %zu: stdout '%s' stderr '%s'", i, out, err);
        snprintf(want, sizeof(want), "EHLO localhost\r\nAUTH PLAIN %s\r\nMAIL FROM:", files[i][1]);
        if (strncmp(d.got, want, strlen(want)) != 0)
            fail_msg("password file %zu: the server got '%s'", i, d.got);
    }
    memset(big, 'x', sizeof(big));
    memcpy(big, "s3cret\n", 7);
    for (size_t len = 4096; len <= 4097; len++) {
        FILE *f = fopen(pwfile, "w");
        int code;
        assert_non_null(f);
        assert_int_equal(fwrite(big, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        code = run_args(dry, NULL, out, err, sizeof(err));
        snprintf(want, sizeof(want), "smtp-send: cannot read '%s': File too large (over 4096 bytes, "
                 "the most a password file holds)\n", pwfile);
        if (len == 4096 ? code != 0 : code != 10 || strcmp(err, want) != 0)
            fail_msg("a password file of %zu bytes: exit %d, stderr '%s'", len, code, err);
    }
    unlink(pwfile);
    rmdir(dir);
}

/* A dry run whose stdout cannot take the message (/dev/full, or a pipe
 * whose reader left) is a local I/O error (10); --allow-remote lets a non-loopback server be connected
 * to (TEST-NET-1: a network error or a timeout, never refused as 2). */
static void full_stdout_and_remote(void **state)
{
    char bdir[PATH_MAX];
    const char *bin = bin_dir(bdir); /* $NR_BIN or this build's bin/ */
    char path[512], errbuf[NR_ERRBUF_SIZE], err[1024];
    char *argv[] = { path, "--from", "a@b", "--to", "c@d", "--dry-run", NULL, NULL, NULL };
    char dir[] = "/tmp/smtpfifo.XXXXXX", fifo[64], body[64];
    FILE *f;
    int rfd;
    char *remote[] = { "--server", "192.0.2.1:25", "--from", "a@b", "--to", "c@d", "-t", "300",
                       "--allow-remote", NULL };
    struct nr_spawn sp = { .argv = argv, .stdout_path = "/dev/full", .activation_fd = -1 };
    struct nr_proc p;
    int code;

    (void)state;
    if (snprintf(path, sizeof(path), "%s/smtp-send", bin) >= (int)sizeof(path))
        fail_msg("the path of smtp-send in %s is too long", bin);
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    nr_proc_release(&p);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 10);
    /* a reader that goes away in the middle of a 1 MB message: EPIPE, not
     * SIGPIPE, so still exit 10 */
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    snprintf(body, sizeof(body), "%s/body", dir);
    f = fopen(body, "w");
    assert_non_null(f);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "%0999d\n", i);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(rfd >= 0);
    argv[6] = "--body-file";
    argv[7] = body;
    sp.stdout_path = fifo;
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    assert_int_equal(nr_wait_fd(rfd, POLLIN, 5000), 1);
    assert_int_equal(read(rfd, errbuf, 1), 1);
    close(rfd);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    nr_proc_release(&p);
    unlink(fifo);
    unlink(body);
    rmdir(dir);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 10)
        fail_msg("stdout closed early: status 0x%x, want exit 10", (unsigned)p.status);
    code = run_args(remote, NULL, err, err, sizeof(err));
    if (code != 3 && code != 4)
        fail_msg("--allow-remote 192.0.2.1:25: exit %d, stderr '%s'", code, err);
}

/* Every descriptor smtp-send opens it closes: each attachment read adds
 * one close, and a session one more than the same dry run (the socket). */
static void descriptors_closed(void **state)
{
    static const char *const script[] = { "220 hi", "250 ok", "250 ok", "250 ok", "354 go",
                                          "250 queued", "221 bye", NULL };
    static struct smtpd d = { .script = script };
    char att[] = "/tmp/smtpatt.XXXXXX", out[8192], err[1024];
    char *dry[] = { "--from", "a@b.test", "--to", "c@d.test", "--dry-run", NULL, NULL, NULL, NULL, NULL };
    char *session[] = { "--server", "SERVER", "--from", "a@b.test", "--to", "c@d.test", "-q", NULL };
    unsigned long base, two, sent;
    struct fault f;
    int fd;

    (void)state;
    fd = mkstemp(att);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(run_args(dry, fault_env(&f, "", 0), out, err, sizeof(out)), 0);
    base = fault_count(&f, "close");
    fault_done(&f);
    dry[5] = dry[7] = "--attach";
    dry[6] = dry[8] = att;
    assert_int_equal(run_args(dry, fault_env(&f, "", 0), out, err, sizeof(out)), 0);
    two = fault_count(&f, "close");
    assert_int_equal(fault_count(&f, "close_ebadf"), 0);
    fault_done(&f);
    unlink(att);
    assert_int_equal(two, base + 2);
    assert_int_equal(run_session(&d, session, fault_env(&f, "", 0), out, err, sizeof(err)), 0);
    sent = fault_count(&f, "close");
    assert_int_equal(fault_count(&f, "close_ebadf"), 0);
    fault_done(&f);
    assert_int_equal(sent, base + 1);
}

/* Run smtp-send with the arguments of the NULL-terminated list args and
 * expect exit code want with stderr beginning with err_prefix. */
static void expect_exit(char **args, int want, const char *err_prefix)
{
    static char out[65536], err[65536];
    int got = run_args(args, NULL, out, err, sizeof(err));

    if (got != want || strncmp(err, err_prefix, strlen(err_prefix)) != 0)
        fail_msg("exit %d (want %d), stderr '%s' (want '%s...')", got, want, err, err_prefix);
}

/* --to and --attach repeat at most 100 and 64 times (README): the limit is
 * taken, one more is a usage error (2) naming the value refused. */
static void repeat_limits(void **state)
{
    static char names[101][32], out[262144], err[4096];
    char path[] = "/tmp/smtpatt.XXXXXX", want[96];
    char *args[256], *epoch[] = { "SOURCE_DATE_EPOCH=1", NULL };
    int n, fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    n = 0;
    args[n++] = "--from";
    args[n++] = "a@example.org";
    args[n++] = "--dry-run";
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "r%d@example.org", i + 1);
        args[n++] = "--to";
        args[n++] = names[i];
    }
    args[n] = NULL;
    assert_int_equal(run_args(args, NULL, out, err, sizeof(err)), 0);
    if (!strstr(out, "r1@example.org") || !strstr(out, "r100@example.org"))
        fail_msg("100 recipients: a To header without r1 or r100: '%.300s'", out);
    snprintf(names[100], sizeof(names[100]), "r101@example.org");
    args[n++] = "--to";
    args[n++] = names[100];
    args[n] = NULL;
    expect_exit(args, 2, "smtp-send: bad value 'r101@example.org' for option (or too many)\n"
                         "usage: smtp-send");
    n = 0;
    args[n++] = "--from";
    args[n++] = "a@example.org";
    args[n++] = "--to";
    args[n++] = "b@example.org";
    args[n++] = "--dry-run";
    for (int i = 0; i < 64; i++) {
        args[n++] = "--attach";
        args[n++] = path;
    }
    args[n] = NULL;
    /* every attachment goes into the reproducible ids, and only those */
    assert_int_equal(run_args(args, epoch, out, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    args[n++] = "--attach";
    args[n++] = "/the/65th";
    args[n] = NULL;
    snprintf(want, sizeof(want), "smtp-send: bad value '/the/65th' for option (or too many)\n");
    expect_exit(args, 2, want);
    unlink(path);
}

/* Each usage error exits 2 with its own message first; -h prints the usage
 * on stdout and exits 0; the numeric options' bounds are taken, and a
 * value that is not all digits (a sign or a space before them too) is
 * refused naming the option and its range. */
static void usage_errors(void **state)
{
    static char out[8192], err[8192];
    char *help[] = { "-h", NULL };
    char *extra[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "stray", NULL };
    char *unknown[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--bogus", NULL };
    char *no_arg[] = { "--from", "a@b", "--dry-run", "--to", "c@d", "--to", NULL };
    char *no_from[] = { "--to", "c@d", "--dry-run", NULL };
    char *no_to[] = { "--from", "a@b", "--dry-run", NULL };
    char *no_server[] = { "--from", "a@b", "--to", "c@d", NULL };
    char *bad_from[] = { "--from", "a b@c", "--to", "c@d", "--dry-run", NULL };
    char *user_only[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--user", "u", NULL };
    char *pass_only[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--password-file", "/p", NULL };
    char *t[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "-t", NULL, NULL };
    char *size[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--max-size", NULL, NULL };
    static const char *const bad_t[] = { "0", "3600001", "1x", "", " 5", "+5", "-5", "5 " };
    static const char *const bad_size[] = { "0", "1073741825", " 5", "+5" };
    static const char required[] =
        "smtp-send: --from, --to and --server (unless --dry-run) are required\nusage: smtp-send";
    char want[128];

    (void)state;
    assert_int_equal(run_args(help, NULL, out, err, sizeof(out)), 0);
    assert_int_equal(strncmp(out, "usage: smtp-send --server HOST:PORT", 35), 0);
    assert_string_equal(err, "");
    expect_exit(extra, 2, "smtp-send: unexpected argument 'stray'\n");
    /* getopt's own message (after the program's path), then the usage */
    assert_int_equal(run_args(unknown, NULL, out, err, sizeof(err)), 2);
    if (!strstr(err, "smtp-send: unrecognized option '--bogus'\nusage: smtp-send"))
        fail_msg("--bogus: stderr '%.200s'", err);
    assert_int_equal(run_args(no_arg, NULL, out, err, sizeof(err)), 2);
    if (!strstr(err, "smtp-send: option '--to' requires an argument\nusage: smtp-send"))
        fail_msg("--to at the end: stderr '%.200s'", err);
    expect_exit(no_from, 2, required);
    expect_exit(no_to, 2, required);
    expect_exit(no_server, 2, required);
    expect_exit(user_only, 2, "smtp-send: --user and --password-file go together\n");
    expect_exit(bad_from, 2, "smtp-send: invalid sender address 'a b@c'\n");
    expect_exit(pass_only, 2, "smtp-send: --user and --password-file go together\n");
    for (size_t i = 0; i < sizeof(bad_t) / sizeof(bad_t[0]); i++) {
        t[6] = (char *)bad_t[i];
        snprintf(want, sizeof(want), "smtp-send: -t wants a number from 1 to 3600000 (digits "
                 "only), got '%s'\nusage: smtp-send", bad_t[i]);
        expect_exit(t, 2, want);
    }
    for (size_t i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
        size[6] = (char *)bad_size[i];
        snprintf(want, sizeof(want), "smtp-send: --max-size wants a number from 1 to 1073741824 "
                 "(digits only), got '%s'\nusage: smtp-send", bad_size[i]);
        expect_exit(size, 2, want);
    }
    t[6] = "1";
    expect_exit(t, 0, "");
    t[6] = "3600000";
    expect_exit(t, 0, "");
    size[6] = "1073741824";
    expect_exit(size, 0, "");
    size[6] = "1"; /* the smallest value taken: the message is then over it (10) */
    expect_exit(size, 10, "smtp-send: the message is ");
}

/* --helo is also the Message-ID's domain (README): 170 bytes are taken
 * (with the longest date, the id's 200 bytes exactly), 171 and none are a
 * usage error naming --helo and its limit, and so is a character a
 * Message-ID cannot hold. */
static void helo_limits(void **state)
{
    static char out[8192], err[8192], helo[172], want[128];
    char *args[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--helo", helo, NULL };
    char *epoch[] = { "SOURCE_DATE_EPOCH=253402300799", NULL };
    static const char *const bad_chars[] = { "a<b", "a b", "a\"b", "a\\b" };
    int code;

    (void)state;
    memset(helo, 'h', 170);
    helo[170] = '\0';
    code = run_args(args, epoch, out, err, sizeof(err));
    snprintf(want, sizeof(want), ".253402300799@%.20s", helo);
    if (code != 0 || !strstr(out, want) || err[0])
        fail_msg("--helo of 170 bytes: exit %d, stderr '%s'", code, err);
    strcpy(helo + 170, "h");
    expect_exit(args, 2, "smtp-send: --helo wants 1 to 170 bytes (it ends the Message-ID), got 171\n");
    helo[0] = '\0';
    expect_exit(args, 2, "smtp-send: --helo wants 1 to 170 bytes (it ends the Message-ID), got 0\n");
    for (size_t i = 0; i < sizeof(bad_chars) / sizeof(bad_chars[0]); i++) {
        strcpy(helo, bad_chars[i]);
        snprintf(want, sizeof(want), "smtp-send: --helo '%s': a space, control character or one "
                 "of <>(),;\"\\ is not allowed\n", helo);
        expect_exit(args, 2, want);
    }
}

/* A file that cannot be read, or a password file with a NUL byte: exit 10
 * naming it and the reason (the body first, before any attachment); no
 * memory for the password: exit 1.  A directory opens but does not read: its
 * descriptor is closed all the same (one close more than for a file that
 * does not open, counted by the fault injector). */
static void unreadable_files(void **state)
{
    static char out[8192], err[8192];
    char dir[] = "/tmp/smtpdir.XXXXXX", want[160];
    char *body[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--body-file", "/nonexistent/body",
                     "--attach", "/nonexistent/att", NULL };
    char *att[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--attach", NULL, NULL };
    char pwfile[64];
    char *pass[] = { "--from", "a@b", "--to", "c@d", "--dry-run", "--user", "u", "--password-file",
                     pwfile, NULL };
    FILE *pw;
    struct fault f;
    unsigned long closes_missing;

    (void)state;
    assert_non_null(mkdtemp(dir));
    expect_exit(body, 10, "smtp-send: cannot read '/nonexistent/body': No such file or directory\n");
    att[6] = "/nonexistent/att";
    assert_int_equal(run_args(att, fault_env(&f, "", 0), out, err, sizeof(err)), 10);
    assert_string_equal(err, "smtp-send: cannot read '/nonexistent/att': No such file or directory\n");
    closes_missing = fault_count(&f, "close");
    fault_done(&f);
    att[6] = dir;
    assert_int_equal(run_args(att, fault_env(&f, "", 0), out, err, sizeof(err)), 10);
    snprintf(want, sizeof(want), "smtp-send: cannot read '%s': Is a directory\n", dir);
    assert_string_equal(err, want);
    assert_int_equal(fault_count(&f, "close"), closes_missing + 1);
    assert_int_equal(fault_count(&f, "close_ebadf"), 0);
    fault_done(&f);
    /* a password file whose first line holds a NUL byte */
    snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
    pw = fopen(pwfile, "w");
    assert_non_null(pw);
    assert_int_equal(fwrite("a\0b\n", 1, 4, pw), 4);
    assert_int_equal(fclose(pw), 0);
    expect_exit(pass, 10, "smtp-send: NUL byte in the password file\n");
    /* out of memory keeping the password (the second realloc, after the
     * read's own): exit 1, as README's table says */
    pw = fopen(pwfile, "w");
    assert_non_null(pw);
    assert_int_equal(fputs("pw\n", pw) >= 0, 1);
    assert_int_equal(fclose(pw), 0);
    assert_int_equal(run_args(pass, fault_env(&f, "realloc:2", 0), out, err, sizeof(err)), 1);
    assert_string_equal(err, "smtp-send: out of memory\n");
    assert_int_equal(fault_count(&f, "injected"), 1);
    fault_done(&f);
    unlink(pwfile);
    rmdir(dir);
}

/* Out of memory is exit 1 (README: internal error) wherever it happens:
 * reading a file (its buffer's realloc, or the read itself failing with
 * ENOMEM) and building the message (every realloc failing: the file-less
 * dry run's first is the builder's); never 10 (local I/O) or 2 (usage). */
static void out_of_memory_is_internal(void **state)
{
    static char out[8192], err[8192];
    static const struct {
        const char *spec, *err; /* err: "%s" the body file's path */
        int with_body;
    } cases[] = {
        { "realloc:1", "smtp-send: cannot read '%s': Cannot allocate memory\n", 1 },
        { "read:1/12", "smtp-send: cannot read '%s': Cannot allocate memory\n", 1 },
        { "realloc:1+", "smtp-send: out of memory\n", 0 },
    };
    char path[] = "/tmp/smtpbody.XXXXXX", want[160];
    char *args[] = { "--from", "a@b", "--to", "c@d", "--dry-run", NULL, NULL, NULL };
    struct fault f;
    int fd = mkstemp(path), code;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "body\n", 5), 5);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        args[5] = cases[i].with_body ? "--body-file" : NULL;
        args[6] = path;
        code = run_args(args, fault_env(&f, cases[i].spec, 0), out, err, sizeof(err));
        snprintf(want, sizeof(want), cases[i].err, path);
        if (code != 1 || strcmp(err, want) != 0 || out[0] || fault_count(&f, "injected") == 0)
            fail_msg("%s: exit %d, stderr '%s', stdout '%.40s', %lu injected; want 1, '%s'",
                     cases[i].spec, code, err, out, fault_count(&f, "injected"), want);
        fault_done(&f);
    }
    unlink(path);
}

/* For itest_reap's teardown, before it ends the children: end the
 * scripted server thread a case left (its client, if any, has exited: a
 * failed check in run_args ends it first).  Returns 0 (none) or 1. */
static int end_leftovers(void)
{
    char err[NR_ERRBUF_SIZE], addr[32];
    struct nr_addr a;
    int fd = -1;

    if (!live_smtpd.d)
        return 0;
    /* a connection that closes at once ends a wait for one, or the
     * session after its greeting */
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", live_smtpd.port);
    if (nr_addr_parse(addr, &a, err) == 0)
        fd = nr_connect_tcp(&a, 1000, NULL, NULL, NULL);
    if (fd >= 0)
        close(fd);
    pthread_join(live_smtpd.th, NULL);
    close(live_smtpd.d->lfd);
    live_smtpd.d = NULL;
    print_message("teardown: the scripted server left by the case: ended and joined\n");
    return 1;
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_errors),
        cmocka_unit_test(dry_run_reproducible),
        cmocka_unit_test(attach_dry_run),
        cmocka_unit_test(server_limits),
        cmocka_unit_test(attach_big_and_max_size),
        cmocka_unit_test(session_one_of_two_accepted),
        cmocka_unit_test(session_all_refused),
        cmocka_unit_test(session_most_recipients),
        cmocka_unit_test(session_exit_codes),
        cmocka_unit_test(session_auth_password),
        cmocka_unit_test(repeat_limits),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(helo_limits),
        cmocka_unit_test(unreadable_files),
        cmocka_unit_test(out_of_memory_is_internal),
        cmocka_unit_test(full_stdout_and_remote),
        cmocka_unit_test(descriptors_closed),
    };

    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), end_leftovers);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
