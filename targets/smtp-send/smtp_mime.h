/* smtp_mime.h - the RFC 5322 message smtp-send sends: headers (Date, From,
 * To, Subject, Message-ID, MIME-Version), a text body, and attachments in a
 * multipart/mixed container when there are any.
 *
 * Encodings (what a decoder gets back is said in each case):
 * - text body: 7bit when it is printable ASCII (TAB allowed), every line
 *   at most 998 bytes, no bare CR, and it is empty or ends in a line
 *   break; otherwise quoted-printable, charset utf-8, lines of at most 76
 *   characters, '.' at the start of a line written =2E.  Line breaks (LF or
 *   CRLF) become CRLF; a bare CR is kept (=0D).  So decoding gives back the
 *   body with every LF not preceded by CR turned into CRLF.
 * - attachments: base64 in lines of 76 characters; Content-Type from the
 *   file name's extension (ss_mime_type), application/octet-stream when
 *   unknown; the file name (its last path component) as filename="..." when
 *   it is short printable ASCII without quote or backslash, otherwise per
 *   RFC 2231 (filename*=utf-8''%XX..., in continuations filename*0*=... when
 *   long).
 * - Subject: as is when printable ASCII, else RFC 2047 encoded words
 *   (=?utf-8?B?...?=) cut at UTF-8 character boundaries.
 * - the boundary: boundary_seed, extended with "_1", "_2"... until it
 *   occurs nowhere else in the message (no part, their headers included,
 *   nor the message's own headers and preamble), so never in content.
 * No line of the message is longer than 998 bytes; all end in CRLF. */
#ifndef SS_SMTP_MIME_H
#define SS_SMTP_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_buf.h"

#define SS_SUBJECT_MAX 900   /* bytes of subject text accepted */
#define SS_ADDR_MAX 254      /* bytes of an address */
#define SS_NAME_MAX 255      /* bytes of an attachment's file name */

/* One attachment: name is the file name shown to the recipient (a path's
 * last component is taken); data is not copied. */
struct ss_part {
    const char *name;
    const uint8_t *data;
    size_t len;
};

/* Everything a message is made of; nothing is owned. */
struct ss_msg {
    const char *from;              /* address (not empty) */
    const char *const *to;         /* nto addresses */
    size_t nto;
    const char *subject;           /* UTF-8 */
    const uint8_t *body;           /* text body, may be NULL when body_len is 0 */
    size_t body_len;
    const struct ss_part *parts;   /* nparts attachments */
    size_t nparts;
    int64_t date;                  /* seconds since the epoch, written in UTC */
    const char *message_id;        /* without the angle brackets */
    const char *boundary_seed;     /* 1-50 characters of [A-Za-z0-9=_.-] */
};

/* ss_mime_build's result when an allocation failed (not -1: the message is
 * valid, the machine is short of memory). */
#define SS_MIME_NOMEM (-2)

/* Build the message into out (appended).  Returns 0; -1 with errbuf
 * (NR_ERRBUF_SIZE) saying why for an invalid address, subject, message id
 * or seed; or SS_MIME_NOMEM with "out of memory" in errbuf.  The caller
 * owns out (freed with ss_buf_free, also after a failure). */
int ss_mime_build(const struct ss_msg *m, struct ss_buf *out, char *errbuf);

/* The content type for a file name, from its extension (case-insensitive),
 * or "application/octet-stream".  Returns a static string. */
const char *ss_mime_type(const char *name);

/* Whether an address can be written in a header and in MAIL/RCPT: 1 to
 * SS_ADDR_MAX bytes (0 allowed when empty_ok) of printable ASCII without
 * '<', '>', '(', ')', ',', ';', '"', '\\' or space.  Returns 1 or 0. */
int ss_addr_ok(const char *addr, int empty_ok);

#endif
