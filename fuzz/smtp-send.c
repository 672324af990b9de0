/* smtp-send.c - fuzz harness for smtp-send's reply path: the input is
 * everything the server says.  First ss_reply_parse is run on the input
 * itself; then the input is queued on one end of a stream socketpair,
 * followed by EOF, and ss_send_fd runs a whole transaction on the other end
 * (greeting, EHLO or the HELO fallback, AUTH PLAIN or LOGIN as offered,
 * SIZE, MAIL and two RCPTs, pipelined when offered, DATA, QUIT).
 *
 * Oracles: (1) when the input starts with a complete reply of L bytes,
 * every shorter prefix is "incomplete" (never complete, never malformed):
 * a reply split at any offset reads the same (inputs up to 4 KiB are
 * checked this way); (2) the transaction's result agrees with itself: SS_OK
 * only with at least one recipient accepted and a final 250, naccepted
 * equal to the 250/251 RCPT codes recorded, no recipient answered after a
 * refused sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nr_net.h"
#include "smtp-send/smtp_client.h"
#include "smtp-send/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SS_FUZZ_MAX_IN (96 * 1024)

static void check_prefixes(const uint8_t *data, size_t size)
{
    struct ss_reply r = { 0 };
    long full = ss_reply_parse(data, size < 4096 ? size : 4096, &r, NULL);

    for (long k = 0; k < full; k++) {
        long rc = ss_reply_parse(data, (size_t)k, &r, NULL);
        if (rc != SS_REPLY_INCOMPLETE) {
            fprintf(stderr, "smtp-send: a %ld-byte reply's %ld-byte prefix parses as %ld\n",
                    full, k, rc);
            abort();
        }
    }
}

static void check_result(int rc, const struct ss_result *res)
{
    size_t ok = 0;

    for (size_t i = 0; i < 2; i++)
        ok += res->rcpt_code[i] == 250 || res->rcpt_code[i] == 251;
    if (ok != res->naccepted || (rc == SS_OK && (ok == 0 || res->code != 250)) ||
        (rc == SS_ESENDER && (res->rcpt_code[0] || res->rcpt_code[1]))) {
        fprintf(stderr, "smtp-send: result %d with %zu accepted (counted %zu), last code %d\n",
                rc, res->naccepted, ok, res->code);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const to[] = { "bob@b.test", "carol@c.test" };
    static const uint8_t msg[] = "Subject: x\r\n\r\n.hello\r\nworld\r\n";
    struct ss_session s = { .helo = "fuzz.test", .from = "alice@a.test", .to = to, .nto = 2,
                            .msg = msg, .msg_len = sizeof(msg) - 1, .user = "alice",
                            .password = "pw", .timeout_ms = 1000 };
    static struct ss_result res;
    char errbuf[NR_ERRBUF_SIZE];
    int sv[2], rc;

    check_prefixes(data, size);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    if (size > SS_FUZZ_MAX_IN)
        size = SS_FUZZ_MAX_IN;
    /* without a user the AUTH step is skipped: let the input choose */
    if (size && (data[size - 1] & 1))
        s.user = NULL;
    nr_set_nonblock(sv[1], 1);
    if (nr_write_all(sv[1], data, size, 0) == 0 && shutdown(sv[1], SHUT_WR) == 0) {
        rc = ss_send_fd(sv[0], &s, &res, errbuf);
        check_result(rc, &res);
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
