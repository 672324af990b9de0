/* smtp-send's transaction (ss_send_fd) through each branch of
 * smtp_client.h's contract, against a scripted server on a socketpair:
 * the server sends a greeting and then one scripted reply per command line
 * (the message after a 354 counts as one, up to its "."), so each case
 * checks the result code, the one-line error, the result's fields and the
 * exact commands the client wrote (QUIT after an orderly refusal, none
 * after a protocol error); transport failures, limits and out of memory
 * (the fault injector in-process) too. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_inproc.h"
#include "nr_net.h"
#include "smtp-send/smtp_client.h"

/* The server: greeting, then replies[i] for the i-th command (NULL ends
 * the script: the server closes; replies NULL: it closes after the
 * greeting).  got collects what the client wrote. */
struct script {
    int fd;
    const char *greeting;
    const char *const *replies;
    char got[4096];
    size_t ngot;
};

static void *serve(void *arg)
{
    struct script *sc = arg;
    size_t r = 0, scan = 0;
    int in_data = 0;

    if (sc->greeting)
        nr_write_all(sc->fd, sc->greeting, strlen(sc->greeting), 2000);
    if (!sc->greeting || !sc->replies)
        goto out;
    while (nr_wait_fd(sc->fd, POLLIN, 3000) > 0) {
        ssize_t n = nr_read(sc->fd, sc->got + sc->ngot, sizeof(sc->got) - 1 - sc->ngot);
        char *eol;
        if (n <= 0)
            break;
        sc->ngot += (size_t)n;
        sc->got[sc->ngot] = '\0';
        while ((eol = memchr(sc->got + scan, '\n', sc->ngot - scan))) {
            const char *line = sc->got + scan;
            const char *reply;
            scan = (size_t)(eol - sc->got) + 1;
            if (in_data && strncmp(line, ".\r\n", 3) != 0)
                continue;
            in_data = 0;
            reply = sc->replies[r];
            if (!reply)
                goto out;
            r++;
            if (!strncmp(reply, "354", 3))
                in_data = 1;
            nr_write_all(sc->fd, reply, strlen(reply), 2000);
        }
    }
out:
    shutdown(sc->fd, SHUT_WR);
    return NULL;
}

struct want {
    int rc;
    const char *err;      /* errbuf, exactly ("" on success) */
    const char *stage;
    int code;
    const char *text;
    const char *commands; /* what the client wrote, exactly */
};

static const char *const one[] = { "c@d.test" };

/* Scripts without a server thread: the greeting is written and the
 * server's end closed before the client starts (GONE), or the greeting
 * (if any) is written and nothing more ever comes (SILENT). */
static const char *const gone_script[] = { NULL }, *const silent_script[] = { NULL };
#define GONE gone_script
#define SILENT silent_script

/* Run ss_send_fd with session s against the script; check w. */
static void run(const struct ss_session *s, const char *greeting, const char *const *replies,
                const struct want *w, struct ss_result *res)
{
    struct script sc = { .greeting = greeting, .replies = replies };
    char err[NR_ERRBUF_SIZE] = "";
    pthread_t th;
    int sv[2], rc, nonblock = 1;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    sc.fd = sv[1];
    if (replies == GONE || replies == SILENT) { /* no server thread */
        if (greeting)
            assert_int_equal(nr_write_all(sv[1], greeting, strlen(greeting), 2000), 0);
        if (replies == GONE)
            close(sv[1]);
        rc = ss_send_fd(sv[0], s, res, err);
        close(sv[0]);
        if (replies == SILENT)
            close(sv[1]);
    } else {
        assert_int_equal(pthread_create(&th, NULL, serve, &sc), 0);
        rc = ss_send_fd(sv[0], s, res, err);
        nonblock = fcntl(sv[0], F_GETFL) & O_NONBLOCK; /* ss_send_fd sets it (smtp_client.h) */
        close(sv[0]);
        pthread_join(th, NULL);
        close(sv[1]);
    }
    if (rc != w->rc || strcmp(err, w->err) != 0)
        fail_msg("rc %d err '%s', want %d '%s'", rc, err, w->rc, w->err);
    if (!nonblock && w->rc != SS_ELOCAL)
        fail_msg("the descriptor was not made non-blocking");
    if (w->stage && strcmp(res->stage, w->stage) != 0)
        fail_msg("stage '%s', want '%s'", res->stage, w->stage);
    assert_int_equal(res->code, w->code);
    assert_string_equal(res->text, w->text);
    if (strcmp(sc.got, w->commands) != 0)
        fail_msg("commands\n'%s'\nwant\n'%s'", sc.got, w->commands);
}

static struct ss_session session(void)
{
    return (struct ss_session){ .helo = "h.test", .from = "a@b.test", .to = one, .nto = 1,
                                .msg = (const uint8_t *)"hi\r\n", .msg_len = 4,
                                .timeout_ms = 2000 };
}

/* The same, authenticating as tim / pw. */
static struct ss_session session_auth(void)
{
    struct ss_session s = session();

    s.user = "tim";
    s.password = "pw";
    return s;
}

/* AUTH LOGIN (user name and password in two 334 rounds), no pipelining:
 * one command per reply, the message sent, QUIT. */
static void auth_login_whole(void **state)
{
    static const char *const replies[] = { "250-mx\r\n250 AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n",
                                           "334 UGFzc3dvcmQ6\r\n", "235 ok\r\n", "250 sender\r\n",
                                           "251 fwd\r\n", "354 go\r\n", "250 queued\r\n",
                                           "221 bye\r\n", NULL };
    static const struct want w = { SS_OK, "", "end of data", 250, "queued",
                                   "EHLO h.test\r\nAUTH LOGIN\r\ndGlt\r\ncHc=\r\n"
                                   "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n"
                                   "hi\r\n.\r\nQUIT\r\n" };
    struct ss_session s = session_auth();
    struct ss_result res;

    (void)state;
    run(&s, "220 hi\r\n", replies, &w, &res);
    assert_int_equal(res.esmtp, 1);
    assert_int_equal(res.auth, 2);
    assert_int_equal(res.pipelined, 0);
    assert_int_equal(res.naccepted, 1);
    assert_int_equal(res.rcpt_code[0], 251);
    assert_string_equal(res.rcpt_text[0], "fwd");
}

/* EHLO refused with a 5xx (500 the lowest): HELO instead; then no AUTH
 * can be offered. */
static void helo_fallback_then_no_auth(void **state)
{
    /* the refused EHLO's lines name extensions: none of them counts */
    static const char *const replies[] = { "502-no\r\n502 AUTH PLAIN LOGIN\r\n", "250 hello\r\n",
                                           "221 bye\r\n", NULL };
    static const struct want w = {
        SS_EREFUSED, "AUTH: the server offers neither AUTH PLAIN nor AUTH LOGIN (no EHLO)",
        "AUTH", 250, "hello", "EHLO h.test\r\nHELO h.test\r\nQUIT\r\n" };
    static const char *const helo_only[] = { "502 no\r\n", "250 hello\r\n", "250 s\r\n",
                                             "250 r\r\n", "354 go\r\n", "250 q\r\n", NULL };
    static const struct want w2 = { SS_OK, "", "end of data", 250, "q",
                                    "EHLO h.test\r\nHELO h.test\r\nMAIL FROM:<a@b.test>\r\n"
                                    "RCPT TO:<c@d.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n" };
    static const char *const helo_refused[] = { "500 no\r\n", "550 go\r\n", "221 bye\r\n", NULL };
    static const struct want w3 = { SS_EREFUSED, "HELO refused: 550 go", "HELO", 550, "go",
                                    "EHLO h.test\r\nHELO h.test\r\nQUIT\r\n" };
    struct ss_session s = session_auth();
    struct ss_result res;

    (void)state;
    run(&s, "220 hi\r\n", replies, &w, &res);
    assert_int_equal(res.esmtp, 0);
    s.user = NULL;
    run(&s, "220 hi\r\n", helo_only, &w2, &res);
    assert_int_equal(res.esmtp, 0);
    run(&s, "220 hi\r\n", helo_refused, &w3, &res);
}

/* The result keeps the first line's text cut to 255 bytes: 254 and 255
 * whole, 256 cut (and the rest of the result untouched); a recipient's
 * text cut to 127.  A user name or password with a line break is
 * SS_ELOCAL before any AUTH line, for PLAIN and LOGIN alike. */
static void long_reply_text(void **state)
{
    static const char *const bye[] = { "221 bye\r\n", NULL };
    static const char pre[] = "greeting refused the session: 554 ";
    static char greeting[320], text[300], err[NR_ERRBUF_SIZE];
    struct ss_session s = session();
    struct ss_result res;

    (void)state;
    for (size_t n = 254; n <= 256; n++) {
        struct want w = { SS_EREFUSED, err, "greeting", 554, text, "QUIT\r\n" };
        memset(text, 'x', n);
        text[n] = '\0';
        snprintf(greeting, sizeof(greeting), "554 %s\r\n", text);
        text[n < 255 ? n : 255] = '\0';
        snprintf(err, sizeof(err), "%s%.*s", pre, (int)(sizeof(err) - sizeof(pre)), text); /* cut as errbuf is */
        run(&s, greeting, bye, &w, &res);
    }
    /* a recipient's text is cut to 127 */
    {
        static const char *rcpt[] = { "250 mx\r\n", "250 s\r\n", NULL, "221 bye\r\n", NULL };
        static const struct want w = { SS_ERCPT, NULL, "RCPT TO", 550, NULL,
                                       "EHLO h.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n" };
        struct want w2 = w;
        memset(text, 'y', 128);
        text[128] = '\0';
        snprintf(greeting, sizeof(greeting), "550 %s\r\n", text);
        rcpt[2] = greeting;
        snprintf(err, sizeof(err), "RCPT TO refused every recipient; the last said: 550 %.128s", text);
        w2.err = err;
        w2.text = text;
        run(&s, "220 hi\r\n", rcpt, &w2, &res);
        assert_int_equal(strlen(res.rcpt_text[0]), 127);
        assert_memory_equal(res.rcpt_text[0], text, 127);
    }
    /* credentials no AUTH line can carry: refused before anything is sent */
    {
        static const char *const plain[] = { "250-mx\r\n250 AUTH PLAIN\r\n", "221 bye\r\n", NULL };
        static const char *const login[] = { "250-mx\r\n250 AUTH LOGIN\r\n", "221 bye\r\n", NULL };
        static const struct want w = { SS_ELOCAL, "AUTH: unusable user name or password", "AUTH", 250,
                                       "mx", "EHLO h.test\r\n" };
        s = session_auth();
        s.user = "t\rm";
        run(&s, "220 hi\r\n", plain, &w, &res);
        run(&s, "220 hi\r\n", login, &w, &res);
        s.user = "tim";
        s.password = "p\nw";
        run(&s, "220 hi\r\n", login, &w, &res);
    }
}

/* Each refusal: its class, "STAGE what: CODE text", and a QUIT (DATA
 * answered 400, the lowest refusal). */
static void refusals(void **state)
{
    static const char *const r_ehlo[] = { "421 busy\r\n", "221 bye\r\n", NULL };
    static const char *const r_mail[] = { "250 mx\r\n", "550 no sender\r\n", "221 bye\r\n", NULL };
    static const char *const r_mail_gone[] = { "250 mx\r\n", "550 no sender\r\n", NULL };
    static const char *const r_rcpt[] = { "250 mx\r\n", "250 s\r\n", "550 no such\r\n",
                                          "221 bye\r\n", NULL };
    static const char *const r_data[] = { "250 mx\r\n", "250 s\r\n", "250 r\r\n", "400 no data\r\n",
                                          "221 bye\r\n", NULL };
    static const char *const r_msg[] = { "250 mx\r\n", "250 s\r\n", "250 r\r\n", "354 go\r\n",
                                         "552 too much\r\n", "221 bye\r\n", NULL };
    static const char *const r_auth[] = { "250-mx\r\n250 AUTH PLAIN LOGIN\r\n", "535 bad\r\n",
                                          "221 bye\r\n", NULL };
    static const struct want w_greet = { SS_EREFUSED, "greeting refused the session: 554 go away",
                                         "greeting", 554, "go away", "QUIT\r\n" };
    static const struct want w_ehlo = { SS_EREFUSED, "EHLO refused: 421 busy", "EHLO", 421, "busy",
                                        "EHLO h.test\r\nQUIT\r\n" };
    static const struct want w_mail = { SS_ESENDER, "MAIL FROM refused the sender: 550 no sender",
                                        "MAIL FROM", 550, "no sender", "EHLO h.test\r\n"
                                        "MAIL FROM:<a@b.test>\r\nQUIT\r\n" };
    static const struct want w_rcpt = {
        SS_ERCPT, "RCPT TO refused every recipient; the last said: 550 no such", "RCPT TO", 550,
        "no such", "EHLO h.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nQUIT\r\n" };
    static const struct want w_data = { SS_EMSG, "DATA refused: 400 no data", "DATA", 400, "no data",
                                        "EHLO h.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n"
                                        "DATA\r\nQUIT\r\n" };
    static const struct want w_msg = { SS_EMSG, "end of data refused the message: 552 too much",
                                       "end of data", 552, "too much",
                                       "EHLO h.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n"
                                       "DATA\r\nhi\r\n.\r\nQUIT\r\n" };
    static const struct want w_auth = { SS_EREFUSED, "AUTH PLAIN refused: 535 bad", "AUTH PLAIN", 535,
                                        "bad", "EHLO h.test\r\nAUTH PLAIN AHRpbQBwdw==\r\nQUIT\r\n" };
    static const char *const bye[] = { "221 bye\r\n", NULL };
    struct ss_session s = session();
    struct ss_result res;

    (void)state;
    run(&s, "554 go away\r\n", bye, &w_greet, &res);
    run(&s, "220 hi\r\n", r_ehlo, &w_ehlo, &res);
    run(&s, "220 hi\r\n", r_mail, &w_mail, &res);
    run(&s, "220 hi\r\n", r_mail_gone, &w_mail, &res); /* no reply to QUIT: the refusal stays */
    run(&s, "220 hi\r\n", r_rcpt, &w_rcpt, &res);
    assert_int_equal(res.naccepted, 0);
    assert_int_equal(res.rcpt_code[0], 550);
    run(&s, "220 hi\r\n", r_data, &w_data, &res);
    run(&s, "220 hi\r\n", r_msg, &w_msg, &res);
    s = session_auth();
    run(&s, "220 hi\r\n", r_auth, &w_auth, &res);
    assert_int_equal(res.auth, 1);
}

/* Over the advertised SIZE: refused before MAIL (SS_EMSG), then QUIT. */
static void size_exceeded(void **state)
{
    static const char *const replies[] = { "250-mx\r\n250 SIZE 3\r\n", "221 bye\r\n", NULL };
    static const struct want w = { SS_EMSG,
                                   "SIZE: the message is 4 bytes, the server accepts at most 3",
                                   "SIZE", 250, "mx", "EHLO h.test\r\nQUIT\r\n" };
    static const char *const fits[] = { "250-mx\r\n250 SIZE 4\r\n", "250 s\r\n", "250 r\r\n",
                                        "354 go\r\n", "250 q\r\n", NULL };
    static const struct want w2 = { SS_OK, "", "end of data", 250, "q",
                                    "EHLO h.test\r\nMAIL FROM:<a@b.test> SIZE=4\r\n"
                                    "RCPT TO:<c@d.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n" };
    struct ss_session s = session();
    struct ss_result res;

    (void)state;
    run(&s, "220 hi\r\n", replies, &w, &res);
    assert_int_equal(res.size_max, 3);
    run(&s, "220 hi\r\n", fits, &w2, &res);
    assert_int_equal(res.size_max, 4);
}

/* Protocol and transport failures: no QUIT after them. */
static void failures(void **state)
{
    static const char *const none[] = { NULL };
    static const char *const unexpected[] = { "250 mx\r\n", "250 s\r\n", "250 r\r\n", "250 what\r\n",
                                              NULL };
    static const struct want w_closed = { SS_ENET, "greeting: connection closed by the server",
                                          "greeting", 0, "", "" };
    static const struct want w_mid = { SS_ENET,
                                       "greeting: connection closed by the server in the middle of a reply",
                                       "greeting", 0, "", "" };
    static const struct want w_bad = { SS_EPROTO,
                                       "greeting: malformed reply: reply code is not 3 digits at offset 1",
                                       "greeting", 0, "", "" };
    static const struct want w_unexp = { SS_EPROTO, "DATA unexpected reply: 250 what", "DATA", 250,
                                         "what", "EHLO h.test\r\nMAIL FROM:<a@b.test>\r\n"
                                         "RCPT TO:<c@d.test>\r\nDATA\r\n" };
    static const struct want w_local = { SS_ELOCAL, "between 1 and 100 recipients", "connect", 0, "",
                                         "" };
    static const char *many[SS_MAX_RCPT + 1];
    struct ss_session s = session();
    struct ss_result res;

    (void)state;
    for (size_t i = 0; i < SS_MAX_RCPT + 1; i++)
        many[i] = "c@d.test";
    run(&s, NULL, none, &w_closed, &res);
    run(&s, "220 hi", NULL, &w_mid, &res);
    run(&s, "2x0 hi\r\n", none, &w_bad, &res);
    run(&s, "220 hi\r\n", unexpected, &w_unexp, &res);
    s.nto = 0;
    run(&s, "220 hi\r\n", none, &w_local, &res);
    s.to = many; /* SS_MAX_RCPT + 1 */
    s.nto = SS_MAX_RCPT + 1;
    run(&s, "220 hi\r\n", none, &w_local, &res);
}

/* A write the server cannot take, a reply that never comes, a reply that
 * never ends (over SS_REPLY_BUF), a reply's text cut at 255 bytes, and out
 * of memory (in-process fault injection): each its class and message. */
static void limits_and_faults(void **state)
{
    static char huge[80 * 1024], longtext[400];
    static const struct want w_pipe = { SS_ENET, "EHLO: sending: Broken pipe", "EHLO", 220, "hi", "" };
    static const struct want w_slow = { SS_ETIMEOUT, "greeting: no reply for 100 ms", "greeting", 0,
                                        "", "" };
    static const struct want w_huge = { SS_EPROTO, "greeting: reply longer than 65536 bytes",
                                        "greeting", 0, "", "" };
    static const char *const bye[] = { "221 bye\r\n", NULL };
    struct ss_session s = session();
    struct ss_result res;
    struct want w_long;
    size_t n = 0;

    (void)state;
    run(&s, "220 hi\r\n", GONE, &w_pipe, &res);
    s.timeout_ms = 100;
    run(&s, NULL, SILENT, &w_slow, &res);
    s.timeout_ms = 2000;
    while (n + 2000 < sizeof(huge)) {
        memcpy(huge + n, "220-", 4);
        memset(huge + n + 4, 'x', 1994);
        memcpy(huge + n + 1998, "\r\n", 2);
        n += 2000;
    }
    huge[n] = '\0';
    run(&s, huge, NULL, &w_huge, &res);

    memcpy(longtext, "554 ", 4);
    memset(longtext + 4, 'y', 254); /* 254 bytes: kept whole */
    memcpy(longtext + 258, "\r\n", 3);
    {
        char want_text[256], want_err[NR_ERRBUF_SIZE + 300];
        memset(want_text, 'y', 254);
        want_text[254] = '\0';
        snprintf(want_err, sizeof(want_err), "greeting refused the session: 554 %s", want_text);
        want_err[NR_ERRBUF_SIZE - 1] = '\0';
        w_long = (struct want){ SS_EREFUSED, want_err, "greeting", 554, want_text, "QUIT\r\n" };
        run(&s, longtext, bye, &w_long, &res);
    }
    memset(longtext + 4, 'y', 300);
    memcpy(longtext + 304, "\r\n", 3);
    w_long = (struct want){ SS_EREFUSED, NULL, "greeting", 554, NULL, "QUIT\r\n" };
    {
        char want_text[256], want_err[NR_ERRBUF_SIZE + 300];
        memset(want_text, 'y', 255);
        want_text[255] = '\0';
        snprintf(want_err, sizeof(want_err), "greeting refused the session: 554 %s", want_text);
        want_err[NR_ERRBUF_SIZE - 1] = '\0'; /* errbuf holds the line's first 255 bytes */
        w_long.text = want_text;
        w_long.err = want_err;
        run(&s, longtext, bye, &w_long, &res);
    }
}

/* Out of memory (the fault injector in-process): for the reply buffer, for
 * the first command's buffer, for a MAIL command and a message that
 * outgrow it (each
 * named by its stage, not taken for an invalid domain or address);
 * SS_ELOCAL, nothing more written. */
static void out_of_memory(void **state)
{
    static const char *const specs[] = { "malloc:1", "realloc:1+" };
    static const char *const errs[] = { "out of memory", "EHLO: out of memory" };
    struct ss_session s = session();
    struct ss_result res;
    static const char script[] = "220 hi\r\n250 mx\r\n250 s\r\n250 r\r\n354 go\r\n";
    char err[NR_ERRBUF_SIZE], got[64], from[255], msg[1000];
    unsigned long injected;
    int sv[2], rc;
    ssize_t n;

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(nr_write_all(sv[1], "220 hi\r\n", 8, 2000), 0);
        err[0] = '\0';
        fault_inproc_set(specs[i]);
        rc = ss_send_fd(sv[0], &s, &res, err);
        injected = fault_inproc_off();
        n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT); /* nothing written: -1 */
        close(sv[0]);
        close(sv[1]);
        assert_true(injected >= 1);
        assert_int_equal(rc, SS_ELOCAL);
        assert_string_equal(err, errs[i]);
        assert_int_equal(n, -1);
    }
    /* a sender of 254 bytes: the MAIL command outgrows the buffer */
    memset(from, 'f', sizeof(from) - 1);
    from[sizeof(from) - 1] = '\0';
    s.from = from;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(nr_write_all(sv[1], "220 hi\r\n250 mx\r\n", 16, 2000), 0);
    fault_inproc_set("realloc:2");
    rc = ss_send_fd(sv[0], &s, &res, err);
    injected = fault_inproc_off();
    n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(injected, 1);
    assert_int_equal(rc, SS_ELOCAL);
    assert_string_equal(err, "MAIL FROM: out of memory");
    assert_int_equal(n, 13); /* EHLO h.test only */
    /* a message of 1000 bytes: its dot-stuffed copy outgrows the buffer */
    s = session();
    s.timeout_ms = 300;
    memset(msg, 'm', sizeof(msg));
    s.msg = (const uint8_t *)msg;
    s.msg_len = sizeof(msg);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(nr_write_all(sv[1], script, strlen(script), 2000), 0);
    fault_inproc_set("realloc:2");
    rc = ss_send_fd(sv[0], &s, &res, err);
    injected = fault_inproc_off();
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(injected, 1);
    assert_int_equal(rc, SS_ELOCAL);
    assert_string_equal(err, "end of data: out of memory");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_login_whole),
        cmocka_unit_test(helo_fallback_then_no_auth),
        cmocka_unit_test(refusals),
        cmocka_unit_test(long_reply_text),
        cmocka_unit_test(size_exceeded),
        cmocka_unit_test(failures),
        cmocka_unit_test(limits_and_faults),
        cmocka_unit_test(out_of_memory),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
