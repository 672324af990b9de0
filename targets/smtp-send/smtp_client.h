/* smtp_client.h - one SMTP transaction (RFC 5321) over an already-connected
 * descriptor: greeting, EHLO (HELO when EHLO draws a 5xx), AUTH PLAIN or
 * LOGIN when asked for, the SIZE check, MAIL FROM and one RCPT TO per
 * recipient (in one batch when PIPELINING is offered), DATA, QUIT.  No
 * globals, no exit(), bounded memory, every wait bounded by timeout_ms.  A
 * fuzz harness can call ss_send_fd on one end of a socketpair whose other
 * end holds the server's replies. */
#ifndef SS_SMTP_CLIENT_H
#define SS_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define SS_MAX_RCPT 100
#define SS_REPLY_BUF 65536 /* longest reply (all its lines) */

/* Results of ss_send_fd: one per failure class (exit codes in main.c). */
#define SS_OK 0
#define SS_ENET (-1)      /* read/write error, reset, EOF before a reply */
#define SS_ETIMEOUT (-2)  /* no progress for timeout_ms */
#define SS_EPROTO (-3)    /* malformed reply, or a code that makes no sense here */
#define SS_ESENDER (-4)   /* MAIL FROM refused */
#define SS_ERCPT (-5)     /* every RCPT TO refused */
#define SS_EMSG (-6)      /* too big for the advertised SIZE, DATA or the message refused */
#define SS_EREFUSED (-7)  /* greeting not 220, EHLO and HELO refused, AUTH refused or not offered */
#define SS_ELOCAL (-8)    /* out of memory, or a command that cannot be written */

struct ss_session {
    const char *helo;              /* domain for EHLO/HELO */
    const char *from;
    const char *const *to;         /* nto (1..SS_MAX_RCPT) recipients */
    size_t nto;
    const uint8_t *msg;            /* the message (not dot-stuffed) */
    size_t msg_len;
    const char *user;              /* AUTH with these when user != NULL */
    const char *password;
    int timeout_ms;                /* per reply and per stall of a write (<0: none) */
};

/* What happened; the caller owns it. */
struct ss_result {
    int code;                      /* code of the last reply read, 0 if none */
    char text[256];                /* its first line's text (cut), or "" */
    const char *stage;             /* the step that failed or ended: "greeting", "EHLO", ... */
    int esmtp;                     /* EHLO was accepted (0: HELO fallback) */
    int pipelined;                 /* MAIL and RCPTs went in one batch */
    int auth;                      /* 0 none, 1 PLAIN, 2 LOGIN */
    uint64_t size_max;             /* the SIZE limit advertised, 0: none */
    size_t naccepted;              /* recipients accepted */
    int rcpt_code[SS_MAX_RCPT];    /* each recipient's RCPT reply code (0: not sent) */
    char rcpt_text[SS_MAX_RCPT][128]; /* and its text (cut) */
};

/* Run the transaction over fd (set non-blocking here; not closed).
 * Returns SS_OK when the server accepted the message (a QUIT follows,
 * its reply is not required), or a negative SS_E* with one line in errbuf
 * (NR_ERRBUF_SIZE) naming the step and quoting the server's reply. */
int ss_send_fd(int fd, const struct ss_session *s, struct ss_result *res, char *errbuf);

#endif
