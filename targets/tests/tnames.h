/* tnames.h - assertions that name what they compare: cmocka's
 * assert_int_equal prints both sides in hex (0xfffffffffffffffc), which says
 * nothing about -EPERM or HG_RESP_INCOMPLETE.  These print the expression,
 * the names and the decimal values instead.  Header-only; the including
 * file defines _GNU_SOURCE first (for strerrorname_np). */
#ifndef TNAMES_H
#define TNAMES_H

#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Name of a return value that is 0, a count, or -errno ("-EPERM"), into
 * buf[48]; returns buf. */
static inline const char *tn_ret(long v, char *buf)
{
    const char *e = v < 0 && v > -4096 ? strerrorname_np((int)-v) : NULL;

    if (e)
        snprintf(buf, 48, "-%s", e);
    else
        snprintf(buf, 48, "%ld", v);
    return buf;
}

/* got == want, or fail naming the expression and both values as 0, a count
 * or -ERRNO (in decimal). */
#define assert_ret_equal(got, want)                                                        \
    do {                                                                                   \
        long tn_g_ = (long)(got), tn_w_ = (long)(want);                                    \
        char tn_a_[48], tn_b_[48];                                                         \
        if (tn_g_ != tn_w_)                                                                \
            fail_msg("%s is %s (%ld), want %s (%ld)", #got, tn_ret(tn_g_, tn_a_), tn_g_,   \
                     tn_ret(tn_w_, tn_b_), tn_w_);                                         \
    } while (0)

/* got == want, or fail naming both with namefn (const char *namefn(long)). */
#define assert_named_equal(got, want, namefn)                                              \
    do {                                                                                   \
        long tn_g_ = (long)(got), tn_w_ = (long)(want);                                    \
        if (tn_g_ != tn_w_)                                                                \
            fail_msg("%s is %s (%ld), want %s (%ld)", #got, namefn(tn_g_), tn_g_,          \
                     namefn(tn_w_), tn_w_);                                                \
    } while (0)

#endif
