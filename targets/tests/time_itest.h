/* time_itest.h - checking tcp-time's reply stream in integration tests.
 * Header-only: included once by each test program that needs it. */
#ifndef TIME_ITEST_H
#define TIME_ITEST_H

#include "itest.h"
#include "tcp-time/time_reply.h"

/* Read tcp-time replies on fd until EOF (to_eof) or until `sent` data
 * bytes came: each is "[date] " then data drawn from 'a'..'z' (never '['),
 * so replies split apart at '['.  The data must be exactly `sent` bytes of
 * the pattern 'a' + i % 26, in order (no byte lost, duplicated or
 * reordered), in at least min_replies replies, each prefix TT_PREFIX_LEN
 * bytes ending in "] ". */
static inline void ttest_replies(int fd, size_t sent, size_t min_replies, int to_eof)
{
    uint8_t buf[4096];
    char prefix[TT_PREFIX_LEN + 1];
    size_t data = 0, replies = 0;
    int in_prefix = 0;

    while (to_eof || data < sent) {
        ssize_t n;
        if (nr_wait_fd(fd, POLLIN, 5000) <= 0)
            fail_msg("stalled after %zu of %zu data bytes", data, sent);
        n = nr_read(fd, buf, to_eof ? sizeof(buf) : sent - data < sizeof(buf) ? sent - data : sizeof(buf));
        if (n < 0)
            fail_msg("read: %s after %zu of %zu data bytes", strerror((int)-n), data, sent);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (in_prefix > 0) {
                prefix[TT_PREFIX_LEN - in_prefix--] = (char)buf[i];
                if (in_prefix == 0 && (prefix[TT_PREFIX_LEN - 2] != ']' ||
                                       prefix[TT_PREFIX_LEN - 1] != ' '))
                    fail_msg("reply %zu: prefix '%.*s'", replies, TT_PREFIX_LEN, prefix);
            } else if (buf[i] == '[') {
                prefix[0] = '[';
                in_prefix = TT_PREFIX_LEN - 1;
                replies++;
            } else {
                if (buf[i] != 'a' + data % 26)
                    fail_msg("data byte %zu is 0x%02x", data, buf[i]);
                data++;
            }
        }
    }
    assert_int_equal(in_prefix, 0);
    assert_int_equal(data, sent);
    if (replies < min_replies)
        fail_msg("%zu replies, want at least %zu", replies, min_replies);
}

/* ttest_replies up to EOF. */
static inline void ttest_drain(int fd, size_t sent, size_t min_replies)
{
    ttest_replies(fd, sent, min_replies, 1);
}

#endif
