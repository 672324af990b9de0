/* smtp_cmd.h - the commands smtp-send writes (RFC 5321 4.1, RFC 4954) and
 * the DATA transparency transform, as bytes appended to a buffer; no I/O. */
#ifndef SS_SMTP_CMD_H
#define SS_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_buf.h"

/* "EHLO domain\r\n" or "HELO domain\r\n" (verb is "EHLO" or "HELO").
 * Returns 0, or -1 when the domain is empty, longer than 255 bytes or not
 * printable ASCII without spaces, or out of memory. */
int ss_cmd_hello(struct ss_buf *b, const char *verb, const char *domain);

/* "MAIL FROM:<from>\r\n", with " SIZE=size" before the CRLF when size is
 * non-zero.  Returns 0, or -1 for an address ss_addr_ok refuses (empty is
 * allowed: the null reverse-path) or out of memory. */
int ss_cmd_mail(struct ss_buf *b, const char *from, uint64_t size);

/* "RCPT TO:<to>\r\n".  Returns 0, or -1 for an address ss_addr_ok
 * refuses or out of memory. */
int ss_cmd_rcpt(struct ss_buf *b, const char *to);

/* "AUTH PLAIN <base64(NUL user NUL password)>\r\n" (RFC 4616).  Returns 0,
 * or -1 when user or password holds a CR or LF or is longer than 255
 * bytes, or out of memory. */
int ss_cmd_auth_plain(struct ss_buf *b, const char *user, const char *password);

/* One line of AUTH LOGIN: base64(text) CRLF.  Returns 0, or -1 like
 * ss_cmd_auth_plain. */
int ss_cmd_auth_login_line(struct ss_buf *b, const char *text);

/* Append the message in[0..n) as DATA content (RFC 5321 4.5.2): every line
 * break (CRLF, bare LF or bare CR) written as CRLF, a '.' starting a line
 * doubled, a final CRLF added when missing, then ".\r\n".  Returns 0 or -1
 * when out of memory. */
int ss_data_stuff(struct ss_buf *b, const uint8_t *in, size_t n);

#endif
