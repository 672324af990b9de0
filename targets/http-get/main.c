/* http-get - fetch one http:// URL over HTTP/1.1 (see README.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli_connect.h"
#include "http_client.h"
#include "nr_net.h"

enum { EX_OK, EX_INTERNAL, EX_USAGE, EX_NET, EX_HTTP, EX_MALFORMED, EX_TIMEOUT, EX_LOCAL };

struct opts {
    const char *out;
    int timeout_ms, follow, max_redirs, quiet, allow_remote;
    struct hg_req req;
};

/* Where the response goes: heads to a stream, the body to -o or stdout. */
struct dest {
    struct hg_afile af;
    int to_file;
    FILE *heads;          /* NULL with -q */
    char err[NR_ERRBUF_SIZE];
};

static const char *volatile tmp_path; /* temp file to remove on a signal */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: http-get [options] http://HOST[:PORT]/PATH\n"
        "Fetch one URL with HTTP/1.1 GET. Without -o the body goes to stdout and the\n"
        "response heads (status line and header lines as received, then an empty line)\n"
        "to stderr; with -o the heads go to stdout. Only 2xx bodies are written.\n"
        "  -o, --output FILE        write the body to FILE atomically: it appears\n"
        "                           complete or not at all (no temp file is left)\n"
        "  -t, --timeout MS         connect timeout and longest stall of any read or\n"
        "                           write (default 5000)\n"
        "  -L, --location           follow redirects (301 302 303 307 308; http:// only)\n"
        "      --max-redirs N       most redirects followed with -L (default 5)\n"
        "      --max-header-bytes N longest response head (default 65536)\n"
        "      --max-headers N      most header fields (default 100)\n"
        "      --max-body N         longest body in bytes (default: unlimited)\n"
        "      --allow-remote       allow non-loopback destinations (default: only\n"
        "                           127.0.0.0/8 and ::1, checked after resolving)\n"
        "  -q, --quiet              do not print response heads\n"
        "  -h, --help               this help\n"
        "Exit status: 0 success (2xx), 1 internal error, 2 usage error or refused\n"
        "destination, 3 network error (resolve, connect, reset), 4 HTTP error status\n"
        "(non-2xx final response, redirect problems), 5 malformed, truncated or\n"
        "over-limit response, 6 timeout, 7 local I/O error (cannot write -o FILE).\n");
}

/* Parse the value of option `name` as a decimal integer in [min, max] into
 * *out.  Returns 0, or -1 after printing which option, range and value. */
static int number(const char *name, const char *s, long min, long max, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    if (*s && !*end && !errno && *out >= min && *out <= max)
        return 0;
    fprintf(stderr, "http-get: %s: expected %ld-%ld, got '%s'\n", name, min, max, s);
    return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    enum { O_REDIRS = 256, O_HBYTES, O_HCOUNT, O_BODY, O_REMOTE };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "timeout", required_argument, NULL, 't' },
        { "location", no_argument, NULL, 'L' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { "max-redirs", required_argument, NULL, O_REDIRS },
        { "max-header-bytes", required_argument, NULL, O_HBYTES },
        { "max-headers", required_argument, NULL, O_HCOUNT },
        { "max-body", required_argument, NULL, O_BODY },
        { "allow-remote", no_argument, NULL, O_REMOTE }, { 0 }
    };
    long v = 0;
    int opt, ok;

    while ((opt = getopt_long(argc, argv, "o:t:Lqh", longopts, NULL)) != -1) {
        ok = 0;
        switch (opt) {
        case 'o': o->out = optarg; break;
        case 't': ok = number("--timeout", optarg, 1, 3600000, &v); o->timeout_ms = (int)v; break;
        case 'L': o->follow = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(EX_OK);
        case O_REDIRS: ok = number("--max-redirs", optarg, 0, 100, &v); o->max_redirs = (int)v; break;
        case O_HBYTES: ok = number("--max-header-bytes", optarg, 64, 16 << 20, &v); o->req.max_header_bytes = (size_t)v; break;
        case O_HCOUNT: ok = number("--max-headers", optarg, 1, 10000, &v); o->req.max_headers = (size_t)v; break;
        case O_BODY: ok = number("--max-body", optarg, 1, LONG_MAX, &v); o->req.max_body = (uint64_t)v; break;
        case O_REMOTE: o->allow_remote = 1; break;
        default: ok = -1;
        }
        if (ok < 0) {
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "http-get: expected exactly one URL\n");
        usage(stderr);
        return -1;
    }
    o->req.timeout_ms = o->timeout_ms;
    return 0;
}

static int on_head(void *ctx, const struct hg_response *r, const uint8_t *block, size_t len)
{
    struct dest *d = ctx;

    if (d->heads) {
        size_t start = 0;
        for (size_t i = 0; i + 1 < len; i++) {
            if (block[i] != '\r' || block[i + 1] != '\n')
                continue;
            fwrite(block + start, 1, i - start, d->heads);
            fputc('\n', d->heads);
            start = ++i + 1;
        }
        fflush(d->heads);
    }
    return r->status >= 200 && r->status < 300 ? HG_HEAD_BODY : HG_HEAD_SKIP;
}

static int on_body(void *ctx, const uint8_t *p, size_t n)
{
    struct dest *d = ctx;
    int r;

    if (d->to_file)
        return hg_afile_write(&d->af, p, n, d->err);
    r = nr_write_all(STDOUT_FILENO, p, n, -1);
    return r < 0 ? nr_seterr_errno(d->err, -r, "write to stdout") : 0;
}

/* Resolve and connect, refusing non-loopback addresses unless allowed.
 * Returns the fd or -1 with *code set. */
static int connect_url(const struct hg_url *u, const struct opts *o, int *code)
{
    char host[256], port[8], err[NR_ERRBUF_SIZE] = "";
    int fd;

    snprintf(host, sizeof(host), "%.*s", (int)u->host_len, u->host);
    snprintf(port, sizeof(port), "%d", u->port);
    fd = cli_connect(host, port, o->allow_remote, o->timeout_ms, err);
    if (fd >= 0)
        return fd;
    fprintf(stderr, "http-get: %s%s\n", fd == CLI_EREMOTE ? "" :
            fd == CLI_ETIMEOUT ? "timeout: " : "network error: ", err);
    *code = fd == CLI_EREMOTE ? EX_USAGE : fd == CLI_ETIMEOUT ? EX_TIMEOUT : EX_NET;
    return -1;
}

static int is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* One exchange with url; returns an exit code, or -1 to follow *next. */
static int fetch_once(const struct hg_url *u, const struct opts *o, struct dest *d,
                      int hops_left, char *next)
{
    struct hg_sink sink = { on_head, on_body, d };
    struct opts oo = *o;
    struct hg_result res;
    char err[NR_ERRBUF_SIZE];
    int code, fd, rc;

    oo.req.url = u;
    fd = connect_url(u, o, &code);
    if (fd < 0)
        return code;
    rc = hg_fetch_fd(fd, &oo.req, &sink, &res, err);
    close(fd);
    switch (rc) {
    case HG_FETCH_OK: break;
    case HG_FETCH_ENET: fprintf(stderr, "http-get: network error: %s\n", err); return EX_NET;
    case HG_FETCH_ETIMEOUT: fprintf(stderr, "http-get: timeout: %s\n", err); return EX_TIMEOUT;
    case HG_FETCH_EMALFORMED:
        fprintf(stderr, "http-get: malformed response: %s\n", err);
        return EX_MALFORMED;
    default:
        fprintf(stderr, "http-get: %s\n", d->err[0] ? d->err : err);
        return EX_LOCAL;
    }
    if (res.status >= 200 && res.status < 300)
        return EX_OK;
    if (!o->follow || !is_redirect(res.status)) {
        fprintf(stderr, "http-get: HTTP status %d\n", res.status);
        return EX_HTTP;
    }
    if (!res.has_location || res.location_len > HG_URL_MAX) {
        fprintf(stderr, "http-get: redirect %d without usable Location\n", res.status);
        return EX_HTTP;
    }
    if (hops_left == 0) {
        fprintf(stderr, "http-get: too many redirects (--max-redirs %d)\n", o->max_redirs);
        return EX_HTTP;
    }
    if (hg_url_resolve(u, (const uint8_t *)res.location, res.location_len, next,
                       HG_URL_MAX + 1, err) < 0) {
        fprintf(stderr, "http-get: %s\n", err);
        return EX_HTTP;
    }
    return -1;
}

static void on_signal(int sig)
{
    if (tmp_path)
        unlink(tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    struct opts o = { .timeout_ms = 5000, .max_redirs = 5,
                      .req = { .max_header_bytes = HG_MAX_HEADER_BYTES_DEFAULT,
                               .max_headers = HG_MAX_HEADERS_DEFAULT } };
    static char cur[HG_URL_MAX + 1], next[HG_URL_MAX + 1];
    struct dest d = { .af = { .fd = -1 } };
    struct hg_url u;
    char err[NR_ERRBUF_SIZE];
    int code = -1;

    if (parse_args(argc, argv, &o) < 0)
        return EX_USAGE;
    if (hg_url_parse((const uint8_t *)argv[optind], strlen(argv[optind]), &u, err) < 0) {
        fprintf(stderr, "http-get: %s\n", err);
        return EX_USAGE;
    }
    d.to_file = o.out != NULL;
    d.heads = o.quiet ? NULL : o.out ? stdout : stderr;
    if (d.to_file) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        if (hg_afile_open(&d.af, o.out, err) < 0) {
            fprintf(stderr, "http-get: %s\n", err);
            return EX_LOCAL;
        }
        tmp_path = d.af.tmp;
    }
    for (int hops = o.max_redirs; code < 0; hops--) {
        code = fetch_once(&u, &o, &d, hops, next);
        if (code >= 0)
            break;
        memcpy(cur, next, sizeof(cur));
        if (hg_url_parse((const uint8_t *)cur, strlen(cur), &u, err) < 0) {
            fprintf(stderr, "http-get: redirect: %s\n", err);
            code = EX_HTTP;
        }
    }
    tmp_path = NULL;
    if (d.to_file && code == EX_OK && hg_afile_commit(&d.af, err) < 0) {
        fprintf(stderr, "http-get: %s\n", err);
        code = EX_LOCAL;
    }
    hg_afile_abort(&d.af);
    return code;
}
