/* smtp-send - send one message with attachments over SMTP (see README.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_connect.h"
#include "nr_net.h"
#include "smtp_client.h"
#include "smtp_mime.h"

enum { EX_OK, EX_INTERNAL, EX_USAGE, EX_NET, EX_TIMEOUT, EX_PROTO, EX_SENDER, EX_RCPT,
       EX_MSG, EX_REFUSED, EX_LOCAL };

#define MAX_ATTACH 64

struct opts {
    const char *server, *from, *subject, *body_file, *user, *password_file, *helo;
    const char *to[SS_MAX_RCPT];
    size_t nto;
    const char *attach[MAX_ATTACH];
    size_t nattach;
    int timeout_ms, dry_run, allow_remote, quiet;
    long max_size;
};

/* A file read whole. */
struct blob {
    uint8_t *p;
    size_t len;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: smtp-send --server HOST:PORT --from ADDR --to ADDR [--to ADDR]...\n"
        "                 [--subject TEXT] [--body-file FILE] [--attach FILE]...\n"
        "Send one message over SMTP (plain TCP: no TLS). The text body (UTF-8) goes\n"
        "as 7bit or quoted-printable; attachments as base64 in multipart/mixed.\n"
        "  --server HOST:PORT     the SMTP server ([V6]:PORT for IPv6)\n"
        "  --from ADDR            envelope sender and From header\n"
        "  --to ADDR              a recipient (repeat for more, at most 100)\n"
        "  --subject TEXT         the subject (UTF-8, at most 900 bytes)\n"
        "  --body-file FILE       the text body (default: empty)\n"
        "  --attach FILE          attach FILE (repeat for more, at most 64)\n"
        "  --user NAME            authenticate (AUTH PLAIN, else LOGIN) as NAME ...\n"
        "  --password-file FILE   ... with the first line of FILE as the password\n"
        "                         (sent in the clear: plain TCP only)\n"
        "  --helo DOMAIN          the name given in EHLO/HELO and the Message-ID's domain\n"
        "                         (default localhost; 1 to 170 bytes)\n"
        "  -t, --timeout MS       connect timeout and longest wait for each reply or\n"
        "                         write (default 30000)\n"
        "  --max-size BYTES       largest message built (default 67108864)\n"
        "  --dry-run              print the message on stdout instead of sending it\n"
        "  --allow-remote         allow non-loopback servers (default: only\n"
        "                         127.0.0.0/8 and ::1, checked after resolving)\n"
        "  -q, --quiet            print nothing but errors\n"
        "  -h, --help             this help\n"
        "SOURCE_DATE_EPOCH, when set, gives the Date and makes the Message-ID and\n"
        "the MIME boundary depend on the message only (reproducible output).\n"
        "Exit status: 0 sent, 1 internal error, 2 usage error or refused destination,\n"
        "3 network error, 4 timeout, 5 protocol error (malformed or unexpected reply),\n"
        "6 sender refused, 7 every recipient refused, 8 message refused (also too big\n"
        "for the server's SIZE), 9 session refused (greeting, EHLO and HELO, AUTH),\n"
        "10 local I/O error (cannot read a file, message over --max-size).\n");
}

/* The longest --helo: it ends the Message-ID too, which holds at most 200
 * bytes, 30 of them before the '@' with the longest date. */
#define HELO_MAX 170

/* A decimal number from min to max, of digits only (no sign or space
 * before them, nothing after), into *out.  Returns 0, or -1. */
static int number(const char *s, long min, long max, long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtol(s, &end, 10);
    return !*end && !errno && *out >= min && *out <= max ? 0 : -1;
}

/* number() for the option opt's value arg; a bad value is refused with a
 * message naming opt and its range.  Returns 0, or -2 (message printed). */
static int option_number(const char *opt, const char *arg, long min, long max, long *out)
{
    if (number(arg, min, max, out) == 0)
        return 0;
    fprintf(stderr, "smtp-send: %s wants a number from %ld to %ld (digits only), got '%s'\n", opt,
            min, max, arg);
    return -2;
}

/* Record a repeatable option's value; -1 when there are too many. */
static int push(const char **arr, size_t *n, size_t max, const char *v)
{
    if (*n == max)
        return -1;
    arr[(*n)++] = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    enum { O_SERVER = 256, O_FROM, O_TO, O_SUBJECT, O_BODY, O_ATTACH, O_USER, O_PASS,
           O_HELO, O_MAXSIZE, O_DRY, O_REMOTE };
    static const struct option longopts[] = {
        { "server", required_argument, NULL, O_SERVER }, { "from", required_argument, NULL, O_FROM },
        { "to", required_argument, NULL, O_TO }, { "subject", required_argument, NULL, O_SUBJECT },
        { "body-file", required_argument, NULL, O_BODY },
        { "attach", required_argument, NULL, O_ATTACH }, { "user", required_argument, NULL, O_USER },
        { "password-file", required_argument, NULL, O_PASS },
        { "helo", required_argument, NULL, O_HELO }, { "timeout", required_argument, NULL, 't' },
        { "max-size", required_argument, NULL, O_MAXSIZE }, { "dry-run", no_argument, NULL, O_DRY },
        { "allow-remote", no_argument, NULL, O_REMOTE }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { 0 }
    };
    long v = 0;
    int opt, ok;

    while ((opt = getopt_long(argc, argv, "t:qh", longopts, NULL)) != -1) {
        ok = 0;
        switch (opt) {
        case O_SERVER: o->server = optarg; break;
        case O_FROM: o->from = optarg; break;
        case O_TO: ok = push(o->to, &o->nto, SS_MAX_RCPT, optarg); break;
        case O_SUBJECT: o->subject = optarg; break;
        case O_BODY: o->body_file = optarg; break;
        case O_ATTACH: ok = push(o->attach, &o->nattach, MAX_ATTACH, optarg); break;
        case O_USER: o->user = optarg; break;
        case O_PASS: o->password_file = optarg; break;
        case O_HELO: o->helo = optarg; break;
        case 't': ok = option_number("-t", optarg, 1, 3600000, &v); o->timeout_ms = (int)v; break;
        case O_MAXSIZE:
            ok = option_number("--max-size", optarg, 1, 1L << 30, &v);
            o->max_size = v;
            break;
        case O_DRY: o->dry_run = 1; break;
        case O_REMOTE: o->allow_remote = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(EX_OK);
        default: ok = -1;
        }
        if (ok < 0) {
            if (opt != '?' && ok == -1) /* -2: option_number said why */
                fprintf(stderr, "smtp-send: bad value '%s' for option (or too many)\n", optarg);
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "smtp-send: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->from || o->nto == 0 || (!o->server && !o->dry_run)) {
        fprintf(stderr, "smtp-send: --from, --to and --server (unless --dry-run) are required\n");
        usage(stderr);
        return -1;
    }
    if (!o->user != !o->password_file) {
        fprintf(stderr, "smtp-send: --user and --password-file go together\n");
        return -1;
    }
    if (!*o->helo || strlen(o->helo) > HELO_MAX) {
        fprintf(stderr, "smtp-send: --helo wants 1 to %d bytes (it ends the Message-ID), got %zu\n",
                HELO_MAX, strlen(o->helo));
        return -1;
    }
    if (!ss_addr_ok(o->helo, 0)) {
        fprintf(stderr, "smtp-send: --helo '%s': a space, control character or one of "
                "<>(),;\"\\ is not allowed\n", o->helo);
        return -1;
    }
    return 0;
}

/* Read all of path (at most max bytes, the limit that limit names in the
 * message) into *b (malloc'd, owned by the caller).  Returns EX_OK, or with
 * a message printed EX_INTERNAL when out of memory (the buffer's realloc,
 * or the read itself failing with ENOMEM), EX_LOCAL for anything else. */
static int read_file(const char *path, long max, const char *limit, struct blob *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 0;
    ssize_t n;
    int code;

    b->p = NULL;
    b->len = 0;
    if (fd < 0)
        goto fail;
    for (;;) {
        if (b->len == cap) {
            uint8_t *np;
            cap = cap ? cap * 2 : 65536;
            if (cap > (size_t)max + 1)
                cap = (size_t)max + 1;
            np = b->len == cap ? NULL : realloc(b->p, cap);
            if (!np) {
                errno = b->len == cap ? EFBIG : ENOMEM;
                goto fail;
            }
            b->p = np;
        }
        n = nr_read(fd, b->p + b->len, cap - b->len);
        if (n < 0) {
            errno = (int)-n;
            goto fail;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    close(fd);
    return EX_OK;
fail:
    code = errno == ENOMEM ? EX_INTERNAL : EX_LOCAL;
    if (errno == EFBIG)
        fprintf(stderr, "smtp-send: cannot read '%s': %s (over %s)\n", path, strerror(errno), limit);
    else
        fprintf(stderr, "smtp-send: cannot read '%s': %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(b->p);
    b->p = NULL;
    return code;
}

/* FNV-1a over a few strings and blobs, for reproducible ids. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(1099511628211);
    return h;
}

/* Date, Message-ID and boundary seed: random, or reproducible from
 * SOURCE_DATE_EPOCH and the message's content. */
static int identity(const struct opts *o, const struct blob *body, const struct blob *files,
                    struct ss_msg *m, char *id, size_t idcap, char *bnd, size_t bndcap)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    uint64_t r[2];
    long v;

    if (sde) {
        if (number(sde, 0, 253402300799L, &v) < 0) {
            fprintf(stderr, "smtp-send: SOURCE_DATE_EPOCH is not a number of seconds\n");
            return -1;
        }
        m->date = v;
        r[0] = fnv(UINT64_C(14695981039346656037), sde, strlen(sde));
        r[0] = fnv(r[0], o->subject, strlen(o->subject));
        r[0] = fnv(r[0], body->p, body->len);
        for (size_t i = 0; i < o->nattach; i++)
            r[0] = fnv(r[0], files[i].p, files[i].len);
        r[1] = fnv(r[0], "boundary", 8);
    } else {
        m->date = (int64_t)time(NULL);
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            fprintf(stderr, "smtp-send: getrandom: %s\n", strerror(errno));
            return -1;
        }
    }
    snprintf(id, idcap, "%016llx.%lld@%s", (unsigned long long)r[0], (long long)m->date, o->helo);
    snprintf(bnd, bndcap, "=_netrig_%016llx", (unsigned long long)r[1]);
    m->message_id = id;
    m->boundary_seed = bnd;
    return 0;
}

/* Split HOST:PORT / [V6]:PORT into host and port (the port as the number
 * it is: "0025" is "25").  Returns 0 / -1. */
static int split_server(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(s, ':');
    long v;

    if (!colon || number(colon + 1, 1, 65535, &v) < 0)
        return -1;
    if (s[0] == '[') {
        if (colon == s || colon[-1] != ']' || (size_t)(colon - s - 2) >= hcap)
            return -1;
        snprintf(host, hcap, "%.*s", (int)(colon - s - 2), s + 1);
    } else {
        if ((size_t)(colon - s) >= hcap || colon == s || memchr(s, ':', (size_t)(colon - s)))
            return -1;
        snprintf(host, hcap, "%.*s", (int)(colon - s), s);
    }
    snprintf(port, pcap, "%ld", v);
    return 0;
}

/* Resolve and connect, refusing non-loopback addresses unless allowed.
 * Returns the fd or -1 with *code set and a message printed. */
static int connect_server(const struct opts *o, int *code)
{
    char host[256], port[8], err[NR_ERRBUF_SIZE] = "";
    int fd;

    *code = EX_USAGE;
    if (split_server(o->server, host, sizeof(host), port, sizeof(port)) < 0) {
        fprintf(stderr, "smtp-send: --server wants HOST:PORT or [V6]:PORT, got '%s'\n",
                o->server);
        return -1;
    }
    fd = cli_connect(host, port, o->allow_remote, o->timeout_ms, err);
    if (fd >= 0)
        return fd;
    fprintf(stderr, "smtp-send: %s%s\n", fd == CLI_EREMOTE ? "" :
            fd == CLI_ETIMEOUT ? "timeout: " : "network error: ", err);
    *code = fd == CLI_EREMOTE ? EX_USAGE : fd == CLI_ETIMEOUT ? EX_TIMEOUT : EX_NET;
    return -1;
}

/* The exit code for a result of ss_send_fd. */
static int exit_code(int rc)
{
    switch (rc) {
    case SS_OK: return EX_OK;
    case SS_ENET: return EX_NET;
    case SS_ETIMEOUT: return EX_TIMEOUT;
    case SS_EPROTO: return EX_PROTO;
    case SS_ESENDER: return EX_SENDER;
    case SS_ERCPT: return EX_RCPT;
    case SS_EMSG: return EX_MSG;
    case SS_EREFUSED: return EX_REFUSED;
    default: return EX_INTERNAL;
    }
}

/* Connect and run the transaction; prints what happened.  Returns an
 * exit code. */
static int send_message(const struct opts *o, const struct ss_buf *msg, const char *password)
{
    struct ss_session s = { .helo = o->helo, .from = o->from, .to = o->to, .nto = o->nto,
                            .msg = msg->p, .msg_len = msg->len, .user = o->user,
                            .password = password, .timeout_ms = o->timeout_ms };
    static struct ss_result res;
    char err[NR_ERRBUF_SIZE] = "";
    int code, fd, rc;

    fd = connect_server(o, &code);
    if (fd < 0)
        return code;
    rc = ss_send_fd(fd, &s, &res, err);
    close(fd);
    for (size_t i = 0; i < o->nto && !o->quiet; i++)
        if (res.rcpt_code[i])
            printf("RCPT %s: %d %s\n", o->to[i], res.rcpt_code[i], res.rcpt_text[i]);
    if (rc == SS_OK) {
        if (!o->quiet)
            printf("sent: %d %s\n", res.code, res.text);
        return EX_OK;
    }
    fprintf(stderr, "smtp-send: %s\n", err);
    return exit_code(rc);
}

/* The first line of the password file (at most 4096 bytes) without its
 * line break.  Returns EX_OK, or an exit code with a message printed. */
static int read_password(const char *path, struct blob *b)
{
    uint8_t *nl, *np;
    int code = read_file(path, 4096, "4096 bytes, the most a password file holds", b);

    if (code != EX_OK)
        return code;
    nl = memchr(b->p ? b->p : (uint8_t *)"", '\n', b->len);
    if (nl)
        b->len = (size_t)(nl - b->p);
    if (b->len && b->p[b->len - 1] == '\r')
        b->len--;
    if (memchr(b->p ? b->p : (uint8_t *)"", '\0', b->len)) {
        fprintf(stderr, "smtp-send: NUL byte in the password file\n");
        return EX_LOCAL;
    }
    np = realloc(b->p, b->len + 1);
    if (!np) {
        fprintf(stderr, "smtp-send: out of memory\n");
        return EX_INTERNAL;
    }
    b->p = np;
    b->p[b->len] = '\0';
    return EX_OK;
}

int main(int argc, char **argv)
{
    struct opts o = { .subject = "", .helo = "localhost", .timeout_ms = 30000,
                      .max_size = 64L << 20 };
    struct blob body = { 0 }, pass = { 0 }, files[MAX_ATTACH] = { { 0 } };
    struct ss_part parts[MAX_ATTACH];
    struct ss_buf msg = { 0 };
    struct ss_msg m;
    char id[320], bnd[40], err[NR_ERRBUF_SIZE];
    int code = EX_LOCAL, rc;

    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &o) < 0)
        return EX_USAGE;
    if (o.body_file && (code = read_file(o.body_file, o.max_size, "--max-size", &body)) != EX_OK)
        goto out;
    for (size_t i = 0; i < o.nattach; i++) {
        if ((code = read_file(o.attach[i], o.max_size, "--max-size", &files[i])) != EX_OK)
            goto out;
        parts[i] = (struct ss_part){ o.attach[i], files[i].p, files[i].len };
    }
    if (o.password_file && (code = read_password(o.password_file, &pass)) != EX_OK)
        goto out;
    m = (struct ss_msg){ .from = o.from, .to = o.to, .nto = o.nto, .subject = o.subject,
                         .body = body.p, .body_len = body.len, .parts = parts,
                         .nparts = o.nattach };
    code = EX_USAGE;
    if (identity(&o, &body, files, &m, id, sizeof(id), bnd, sizeof(bnd)) < 0)
        goto out;
    if ((rc = ss_mime_build(&m, &msg, err)) < 0) {
        fprintf(stderr, "smtp-send: %s\n", err);
        code = rc == SS_MIME_NOMEM ? EX_INTERNAL : EX_USAGE;
        goto out;
    }
    code = EX_LOCAL;
    if (msg.len > (size_t)o.max_size) {
        fprintf(stderr, "smtp-send: the message is %zu bytes, over --max-size %ld\n", msg.len,
                o.max_size);
        goto out;
    }
    if (o.dry_run) {
        code = fwrite(msg.p, 1, msg.len, stdout) == msg.len && fflush(stdout) == 0
                   ? EX_OK : EX_LOCAL;
        goto out;
    }
    code = send_message(&o, &msg, (const char *)pass.p);
out:
    ss_buf_free(&msg);
    free(body.p);
    if (pass.p)
        memset(pass.p, 0, pass.len);
    free(pass.p);
    for (size_t i = 0; i < o.nattach; i++)
        free(files[i].p);
    return code;
}
