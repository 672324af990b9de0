/* smtp-mime.c - fuzz harness for smtp-send's MIME encoder (ss_mime_build):
 * the input is a subject, a text body and up to three attachments with
 * their names:
 *     [u8 attachments (low 2 bits)][u16 BE len][subject]
 *     [u16 BE len][body] then per attachment [u8 len][name][u16 BE len][data]
 * (a field cut short by the end of the input is what is left).  The
 * boundary seed is the short word "b", so content meets it often and the
 * clash rule is exercised.
 *
 * Oracle (targets/tests/smtp_mime_check.h, a decoder independent of the
 * encoder): every line ends in CRLF and is at most 998 octets; the
 * boundary occurs only in its parameter and the delimiters; the text part
 * decodes to the body with its bare LFs made CRLF, and each attachment to
 * its bytes.  A message the builder refuses (a control character in the
 * subject, a name too long) is not judged. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_cursor.h"
#include "tests/smtp_mime_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Take [u16 len][bytes] (or what is left) from c. */
static void take16(struct nr_cursor *c, const uint8_t **p, size_t *n)
{
    uint16_t len = 0;

    if (nr_cur_be16(c, &len) < 0)
        len = 0;
    *n = len < nr_cur_left(c) ? len : nr_cur_left(c);
    nr_cur_bytes(c, *n, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const to[] = { "bob@b.test" };
    char subject[SS_SUBJECT_MAX + 1], names[3][SS_NAME_MAX + 1], why[160];
    struct ss_part parts[3];
    struct nr_cursor c;
    struct ss_msg m = { .from = "alice@a.test", .to = to, .nto = 1, .subject = subject,
                        .date = 1700000000, .message_id = "id@fuzz.test",
                        .boundary_seed = "b", .parts = parts };
    const uint8_t *p;
    uint8_t flags = 0, nl;
    size_t n;

    nr_cur_init(&c, data, size);
    nr_cur_u8(&c, &flags);
    take16(&c, &p, &n);
    n = n < SS_SUBJECT_MAX ? n : SS_SUBJECT_MAX;
    memcpy(subject, p ? p : (const uint8_t *)"", n);
    subject[n] = '\0';
    take16(&c, &m.body, &m.body_len);
    for (m.nparts = 0; m.nparts < (flags & 3u); m.nparts++) {
        if (nr_cur_u8(&c, &nl) < 0)
            nl = 0;
        n = nl < nr_cur_left(&c) ? nl : nr_cur_left(&c);
        nr_cur_bytes(&c, n, &p);
        memcpy(names[m.nparts], p ? p : (const uint8_t *)"", n);
        names[m.nparts][n] = '\0';
        parts[m.nparts].name = names[m.nparts];
        take16(&c, &parts[m.nparts].data, &parts[m.nparts].len);
    }
    if (smc_roundtrip(&m, why) < 0) {
        fprintf(stderr, "smtp-mime: the message does not decode to its input: %s\n", why);
        abort();
    }
    return 0;
}
