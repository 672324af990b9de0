/* smtp_reply.h - incremental parser of one SMTP reply (RFC 5321 4.2):
 * one or more lines "CODE-text" ending in one "CODE SP text" (or a bare
 * "CODE"), each ending in CRLF, every line with the same three-digit code.
 * Call it again with the whole buffer whenever more bytes arrived; results
 * are views into the caller's buffer, nothing is copied or allocated.
 *
 * Strictness: lines end in CRLF only (a bare LF or CR is malformed); the
 * code's first digit is 2-5, the second 0-5; the separator is '-', ' ' or
 * the end of the line; text holds no control characters but TAB; a line
 * is at most SS_REPLY_LINE_MAX bytes and a reply at most max_lines lines
 * (RFC 5321 asks for 512 and gives no line limit; real servers exceed
 * neither). */
#ifndef SS_SMTP_REPLY_H
#define SS_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SS_REPLY_INCOMPLETE (-2) /* more bytes needed */
#define SS_REPLY_MALFORMED (-1)  /* errbuf and err_off say what and where */

#define SS_REPLY_LINE_MAX 2048   /* bytes per line, CRLF included */
#define SS_REPLY_LINES_DEFAULT 128

/* A parsed reply.  max_lines is input (0: SS_REPLY_LINES_DEFAULT); the rest
 * is output. */
struct ss_reply {
    size_t max_lines;
    int code;                 /* 200..559 */
    size_t nlines;
    const uint8_t *first;     /* text of the first line (after "CODE-"/"CODE "),
                                 ending at its CRLF (empty there after a bare
                                 "CODE"); as ss_reply_line(r, 0) gives it */
    size_t first_len;
    const uint8_t *block;     /* the whole reply, CRLFs included */
    size_t block_len;
    size_t err_off;           /* offset of the problem when malformed */
};

/* Parse the reply at buf[0..len).  Returns its length (CRLF of the last
 * line included) when complete, SS_REPLY_INCOMPLETE when more bytes are
 * needed, or SS_REPLY_MALFORMED with one line in errbuf (NR_ERRBUF_SIZE,
 * may be NULL) and the offset in r->err_off.  Views in *r point into buf. */
long ss_reply_parse(const uint8_t *buf, size_t len, struct ss_reply *r, char *errbuf);

/* The text of line i (0-based) of a parsed reply, without code, separator
 * and CRLF, through *text and *text_len.  Returns 0, or -1 when i is out of
 * range or the last ss_reply_parse into r did not return a complete reply
 * (incomplete or malformed: no line is given then). */
int ss_reply_line(const struct ss_reply *r, size_t i, const uint8_t **text, size_t *text_len);

/* What an EHLO reply advertises (RFC 5321 4.1.1.1; RFC 1870, 2920, 4954). */
struct ss_ehlo {
    int size;            /* SIZE was advertised */
    uint64_t size_max;   /* its limit, 0: none given */
    int pipelining;
    int eightbit;        /* 8BITMIME */
    int auth_plain;      /* AUTH lists PLAIN */
    int auth_login;      /* AUTH lists LOGIN */
};

/* Read the extensions from the lines after the first of a parsed 250
 * EHLO reply into *e (zeroed first).  Keywords are matched without regard
 * to case; unknown ones are ignored, and so is a SIZE whose argument is
 * not a number below 2^63.  Returns 0. */
int ss_ehlo_parse(const struct ss_reply *r, struct ss_ehlo *e);

#endif
