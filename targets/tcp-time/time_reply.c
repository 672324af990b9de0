/* time_reply.c - format tcp-time replies (see time_reply.h). */
#include "time_reply.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

long tt_reply_format(time_t t, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                     size_t *need)
{
    static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char prefix[64];
    struct tm tm;
    int n;

    if (!localtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11)
        return -EOVERFLOW;
    /* ctime's layout, spelled out so the locale cannot change it. */
    n = snprintf(prefix, sizeof(prefix), "[%s %s %2d %02d:%02d:%02d %lld] ", wday[tm.tm_wday],
                 mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long long)tm.tm_year + 1900);
    if (n < 0 || (size_t)n >= sizeof(prefix))
        return -EOVERFLOW;
    if (len > cap || (size_t)n > cap - len) {
        if (need)
            *need = len > SIZE_MAX - (size_t)n ? SIZE_MAX : (size_t)n + len;
        return -E2BIG;
    }
    memcpy(out, prefix, (size_t)n);
    if (len)
        memcpy(out + n, data, len);
    return (long)((size_t)n + len);
}
