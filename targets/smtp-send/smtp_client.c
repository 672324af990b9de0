/* smtp_client.c - one SMTP transaction over a connected fd (see
 * smtp_client.h). */
#include "smtp_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_net.h"
#include "smtp_buf.h"
#include "smtp_cmd.h"
#include "smtp_reply.h"

/* Everything one transaction needs besides the caller's arguments. */
struct xact {
    int fd;
    const struct ss_session *s;
    struct ss_result *res;
    char *errbuf;
    uint8_t *rbuf;        /* replies read and not yet consumed */
    size_t have;
    struct ss_buf out;    /* commands being written */
};

/* Write x->out and empty it.  Returns SS_OK, SS_ENET or SS_ETIMEOUT. */
static int flush(struct xact *x)
{
    int r;

    if (x->out.oom)
        return nr_seterr(x->errbuf, "%s: out of memory", x->res->stage), SS_ELOCAL;
    r = nr_write_all(x->fd, x->out.p, x->out.len, x->s->timeout_ms);
    x->out.len = 0;
    if (r == -ETIMEDOUT) {
        nr_seterr(x->errbuf, "%s: no progress sending for %d ms", x->res->stage,
                  x->s->timeout_ms);
        return SS_ETIMEOUT;
    }
    if (r < 0) {
        nr_seterr_errno(x->errbuf, -r, "%s: sending", x->res->stage);
        return SS_ENET;
    }
    return SS_OK;
}

/* Keep the reply's code and first line in the result. */
static void keep(struct xact *x, const struct ss_reply *r)
{
    size_t n = r->first_len < sizeof(x->res->text) - 1 ? r->first_len : sizeof(x->res->text) - 1;

    x->res->code = r->code;
    memcpy(x->res->text, r->first, n);
    x->res->text[n] = '\0';
}

/* Read the next reply (ehlo: its extensions too, when not NULL).  Returns
 * its code, or a negative SS_E*. */
static int read_reply(struct xact *x, struct ss_ehlo *ehlo)
{
    struct ss_reply r = { 0 };
    long rc;
    ssize_t n;
    int w;

    for (;;) {
        rc = ss_reply_parse(x->rbuf, x->have, &r, x->errbuf);
        if (rc > 0)
            break;
        if (rc == SS_REPLY_MALFORMED) {
            char why[NR_ERRBUF_SIZE];
            snprintf(why, sizeof(why), "%s", x->errbuf);
            nr_seterr(x->errbuf, "%s: malformed reply: %s", x->res->stage, why);
            return SS_EPROTO;
        }
        if (x->have == SS_REPLY_BUF) {
            nr_seterr(x->errbuf, "%s: reply longer than %d bytes", x->res->stage, SS_REPLY_BUF);
            return SS_EPROTO;
        }
        w = nr_wait_fd(x->fd, POLLIN, x->s->timeout_ms);
        if (w == 0) {
            nr_seterr(x->errbuf, "%s: no reply for %d ms", x->res->stage, x->s->timeout_ms);
            return SS_ETIMEOUT;
        }
        n = w < 0 ? w : nr_read(x->fd, x->rbuf + x->have, SS_REPLY_BUF - x->have);
        if (n == -EAGAIN)
            continue;
        if (n < 0) {
            nr_seterr_errno(x->errbuf, (int)-n, "%s: reading the reply", x->res->stage);
            return SS_ENET;
        }
        if (n == 0) {
            nr_seterr(x->errbuf, "%s: connection closed by the server%s", x->res->stage,
                      x->have ? " in the middle of a reply" : "");
            return SS_ENET;
        }
        x->have += (size_t)n;
    }
    keep(x, &r);
    if (ehlo)
        ss_ehlo_parse(&r, ehlo);
    memmove(x->rbuf, x->rbuf + rc, x->have - (size_t)rc);
    x->have -= (size_t)rc;
    return r.code;
}

/* The failure "STAGE: CODE text" of class cls. */
static int refused(struct xact *x, int cls, const char *what)
{
    nr_seterr(x->errbuf, "%s %s: %d %s", x->res->stage, what, x->res->code, x->res->text);
    return cls;
}

/* Send x->out, then read one reply.  Returns its code or a negative SS_E*. */
static int command(struct xact *x, const char *stage, struct ss_ehlo *ehlo)
{
    int r;

    x->res->stage = stage;
    r = flush(x);
    return r < 0 ? r : read_reply(x, ehlo);
}

static int hello(struct xact *x, struct ss_ehlo *e)
{
    int code;

    x->res->stage = "greeting";
    code = read_reply(x, NULL);
    if (code < 0)
        return code;
    if (code != 220)
        return refused(x, SS_EREFUSED, "refused the session");
    if (ss_cmd_hello(&x->out, "EHLO", x->s->helo) < 0) {
        if (x->out.oom) /* a domain it took, but no memory to write it */
            return nr_seterr(x->errbuf, "EHLO: out of memory"), SS_ELOCAL;
        return nr_seterr(x->errbuf, "invalid EHLO domain '%.64s'", x->s->helo), SS_ELOCAL;
    }
    code = command(x, "EHLO", e);
    if (code == 250) {
        x->res->esmtp = 1;
        x->res->size_max = e->size_max;
        return SS_OK;
    }
    if (code < 0)
        return code;
    if (code < 500)
        return refused(x, SS_EREFUSED, "refused");
    memset(e, 0, sizeof(*e));
    ss_cmd_hello(&x->out, "HELO", x->s->helo);
    code = command(x, "HELO", NULL);
    if (code < 0)
        return code;
    return code == 250 ? SS_OK : refused(x, SS_EREFUSED, "refused");
}

static int authenticate(struct xact *x, const struct ss_ehlo *e)
{
    int code;

    x->res->stage = "AUTH";
    if (!e->auth_plain && !e->auth_login)
        return nr_seterr(x->errbuf, "AUTH: the server offers neither AUTH PLAIN nor "
                         "AUTH LOGIN%s", x->res->esmtp ? "" : " (no EHLO)"), SS_EREFUSED;
    if (e->auth_plain) {
        x->res->auth = 1;
        if (ss_cmd_auth_plain(&x->out, x->s->user, x->s->password) < 0)
            return nr_seterr(x->errbuf, "AUTH: unusable user name or password"), SS_ELOCAL;
        code = command(x, "AUTH PLAIN", NULL);
    } else {
        x->res->auth = 2;
        if (ss_cmd_auth_login_line(&x->out, x->s->user) < 0 ||
            ss_cmd_auth_login_line(&x->out, x->s->password) < 0)
            return nr_seterr(x->errbuf, "AUTH: unusable user name or password"), SS_ELOCAL;
        x->out.len = 0;
        ss_buf_str(&x->out, "AUTH LOGIN\r\n");
        code = command(x, "AUTH LOGIN", NULL);
        if (code == 334) {
            ss_cmd_auth_login_line(&x->out, x->s->user);
            code = command(x, "AUTH LOGIN (user name)", NULL);
        }
        if (code == 334) {
            ss_cmd_auth_login_line(&x->out, x->s->password);
            code = command(x, "AUTH LOGIN (password)", NULL);
        }
    }
    if (code < 0)
        return code;
    return code == 235 ? SS_OK : refused(x, SS_EREFUSED, "refused");
}

/* One RCPT reply into the result. */
static void note_rcpt(struct xact *x, size_t i)
{
    size_t n = strnlen(x->res->text, sizeof(x->res->rcpt_text[i]) - 1);

    x->res->rcpt_code[i] = x->res->code;
    memcpy(x->res->rcpt_text[i], x->res->text, n);
    x->res->rcpt_text[i][n] = '\0';
    if (x->res->code == 250 || x->res->code == 251)
        x->res->naccepted++;
}

/* MAIL FROM and the RCPTs, batched when pipelining. */
static int envelope(struct xact *x, const struct ss_ehlo *e)
{
    int code, batch = e->pipelining;

    if (ss_cmd_mail(&x->out, x->s->from, e->size ? (uint64_t)x->s->msg_len : 0) < 0)
        return nr_seterr(x->errbuf, x->out.oom ? "MAIL FROM: out of memory" : "invalid sender address"),
               SS_ELOCAL;
    for (size_t i = 0; batch && i < x->s->nto; i++)
        if (ss_cmd_rcpt(&x->out, x->s->to[i]) < 0)
            return nr_seterr(x->errbuf, "invalid recipient address"), SS_ELOCAL;
    x->res->pipelined = batch;
    code = command(x, "MAIL FROM", NULL);
    if (code < 0)
        return code;
    if (code != 250)
        return refused(x, SS_ESENDER, "refused the sender");
    for (size_t i = 0; i < x->s->nto; i++) {
        if (!batch && ss_cmd_rcpt(&x->out, x->s->to[i]) < 0)
            return nr_seterr(x->errbuf, "invalid recipient address"), SS_ELOCAL;
        code = command(x, "RCPT TO", NULL);
        if (code < 0)
            return code;
        note_rcpt(x, i);
    }
    if (x->res->naccepted == 0)
        return refused(x, SS_ERCPT, "refused every recipient; the last said");
    return SS_OK;
}

static int data(struct xact *x)
{
    int code;

    ss_buf_str(&x->out, "DATA\r\n");
    code = command(x, "DATA", NULL);
    if (code < 0)
        return code;
    if (code != 354)
        return code >= 400 ? refused(x, SS_EMSG, "refused") : refused(x, SS_EPROTO, "unexpected reply");
    ss_data_stuff(&x->out, x->s->msg, x->s->msg_len);
    code = command(x, "end of data", NULL);
    if (code < 0)
        return code;
    return code == 250 ? SS_OK : refused(x, SS_EMSG, "refused the message");
}

static void quit(struct xact *x)
{
    const char *stage = x->res->stage;
    int code = x->res->code;
    char text[sizeof(x->res->text)];

    memcpy(text, x->res->text, sizeof(text));
    x->out.len = 0;
    ss_buf_str(&x->out, "QUIT\r\n");
    command(x, "QUIT", NULL);
    /* the result names the step that decided, not the QUIT */
    x->res->stage = stage;
    x->res->code = code;
    memcpy(x->res->text, text, sizeof(text));
}

int ss_send_fd(int fd, const struct ss_session *s, struct ss_result *res, char *errbuf)
{
    struct xact x = { .fd = fd, .s = s, .res = res, .errbuf = errbuf };
    struct ss_ehlo e = { 0 };
    char keep_err[NR_ERRBUF_SIZE];
    int rc;

    memset(res, 0, sizeof(*res));
    res->stage = "connect";
    if (s->nto == 0 || s->nto > SS_MAX_RCPT)
        return nr_seterr(errbuf, "between 1 and %d recipients", SS_MAX_RCPT), SS_ELOCAL;
    x.rbuf = malloc(SS_REPLY_BUF);
    if (!x.rbuf)
        return nr_seterr(errbuf, "out of memory"), SS_ELOCAL;
    nr_set_nonblock(fd, 1);
    rc = hello(&x, &e);
    if (rc == SS_OK && s->user)
        rc = authenticate(&x, &e);
    if (rc == SS_OK && e.size && e.size_max && s->msg_len > e.size_max) {
        res->stage = "SIZE";
        nr_seterr(errbuf, "SIZE: the message is %zu bytes, the server accepts at most %llu",
                  s->msg_len, (unsigned long long)e.size_max);
        rc = SS_EMSG;
    }
    if (rc == SS_OK)
        rc = envelope(&x, &e);
    if (rc == SS_OK)
        rc = data(&x);
    /* a polite end when the conversation is still in step */
    if (rc == SS_OK || rc == SS_ESENDER || rc == SS_ERCPT || rc == SS_EMSG ||
        rc == SS_EREFUSED) {
        memcpy(keep_err, errbuf, sizeof(keep_err));
        quit(&x);
        memcpy(errbuf, keep_err, sizeof(keep_err));
    }
    ss_buf_free(&x.out);
    free(x.rbuf);
    return rc;
}
