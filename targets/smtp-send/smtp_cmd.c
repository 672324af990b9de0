/* smtp_cmd.c - SMTP command writer and DATA transparency (see smtp_cmd.h). */
#include "smtp_cmd.h"

#include <string.h>

#include "smtp_mime.h"

int ss_cmd_hello(struct ss_buf *b, const char *verb, const char *domain)
{
    size_t n = strlen(domain);

    if (n == 0 || n > 255)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)domain[i] <= 0x20 || (unsigned char)domain[i] >= 0x7f)
            return -1;
    return ss_buf_fmt(b, "%s %s\r\n", verb, domain);
}

int ss_cmd_mail(struct ss_buf *b, const char *from, uint64_t size)
{
    if (!ss_addr_ok(from, 1))
        return -1;
    if (size)
        return ss_buf_fmt(b, "MAIL FROM:<%s> SIZE=%llu\r\n", from, (unsigned long long)size);
    return ss_buf_fmt(b, "MAIL FROM:<%s>\r\n", from);
}

int ss_cmd_rcpt(struct ss_buf *b, const char *to)
{
    if (!ss_addr_ok(to, 0))
        return -1;
    return ss_buf_fmt(b, "RCPT TO:<%s>\r\n", to);
}

static int cred_ok(const char *s)
{
    return strlen(s) <= 255 && !strpbrk(s, "\r\n");
}

int ss_cmd_auth_plain(struct ss_buf *b, const char *user, const char *password)
{
    uint8_t tmp[2 + 255 + 255];
    size_t u = strlen(user), p = strlen(password);

    if (!cred_ok(user) || !cred_ok(password))
        return -1;
    tmp[0] = 0;
    memcpy(tmp + 1, user, u);
    tmp[1 + u] = 0;
    memcpy(tmp + 2 + u, password, p);
    ss_buf_str(b, "AUTH PLAIN ");
    ss_b64_encode(b, tmp, 2 + u + p, 0);
    memset(tmp, 0, sizeof(tmp));
    return ss_buf_add(b, "\r\n", 2);
}

int ss_cmd_auth_login_line(struct ss_buf *b, const char *text)
{
    if (!cred_ok(text))
        return -1;
    ss_b64_encode(b, (const uint8_t *)text, strlen(text), 0);
    return ss_buf_add(b, "\r\n", 2);
}

int ss_data_stuff(struct ss_buf *b, const uint8_t *in, size_t n)
{
    size_t i = 0;
    int bol = 1;

    while (i < n) {
        size_t j = i;

        if (bol && in[i] == '.')
            ss_buf_add(b, ".", 1);
        while (j < n && in[j] != '\r' && in[j] != '\n')
            j++;
        ss_buf_add(b, in + i, j - i);
        if (j == n) {
            bol = 0;
            break;
        }
        ss_buf_add(b, "\r\n", 2);
        i = j + (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n' ? 2 : 1);
        bol = 1;
    }
    if (!bol)
        ss_buf_add(b, "\r\n", 2);
    return ss_buf_add(b, ".\r\n", 3);
}
