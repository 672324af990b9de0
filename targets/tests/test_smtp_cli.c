/* smtp-send's connect errors as exit codes (README's table): a refused
 * connection is a network error (3), a connect that never completes is a
 * timeout (4), a non-loopback server is refused before any connect (2);
 * each with its one-line reason on stderr. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"
#include "nr_proc.h"

/* Run smtp-send --server server (plus -t 300) to a fixed sender and
 * recipient; returns its exit code and its stderr in err[len]. */
static int run_smtp(const char *server, char *err, size_t len)
{
    const char *bin = getenv("NR_BIN") ? getenv("NR_BIN") : "build/bin";
    char path[512], errbuf[NR_ERRBUF_SIZE], dir[64], errpath[96];
    char *argv[] = { path, "--server", (char *)server, "--from", "a@example.org", "--to",
                     "b@example.org", "-t", "300", NULL };
    struct nr_proc p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/smtp-send", bin);
    snprintf(dir, sizeof(dir), "/tmp/smtpcli.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(errpath, sizeof(errpath), "%s/err", dir);
    struct nr_spawn sp = { .argv = argv, .stdout_path = "/dev/null", .stderr_path = errpath,
                           .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    if (nr_proc_wait(&p, 5000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("smtp-send did not exit within 5 s");
    }
    nr_proc_release(&p);
    f = fopen(errpath, "r");
    assert_non_null(f);
    n = fread(err, 1, len - 1, f);
    err[n] = '\0';
    fclose(f);
    unlink(errpath);
    rmdir(dir);
    assert_true(WIFEXITED(p.status));
    return WEXITSTATUS(p.status);
}

/* A loopback listener; *port gets its port.  backlog 0 and one pending
 * connection fill its accept queue, so the next connect never completes. */
static int listener(int backlog, int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void connect_errors(void **state)
{
    char err[1024], server[64];
    int port, lfd, pending;

    (void)state;
    /* refused: a port bound and closed again */
    close(listener(1, &port));
    snprintf(server, sizeof(server), "127.0.0.1:%d", port);
    assert_int_equal(run_smtp(server, err, sizeof(err)), 3);
    if (strncmp(err, "smtp-send: network error: ", 26) != 0 || strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("stderr '%s'", err);
    /* a full accept queue: the SYN is dropped, the connect times out */
    lfd = listener(0, &port);
    snprintf(server, sizeof(server), "127.0.0.1:%d", port);
    pending = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(connect(pending, (struct sockaddr *)&a, sizeof(a)), 0);
    }
    assert_int_equal(run_smtp(server, err, sizeof(err)), 4);
    if (strncmp(err, "smtp-send: timeout: ", 20) != 0)
        fail_msg("stderr '%s'", err);
    close(pending);
    close(lfd);
    /* not loopback: refused before any connect */
    assert_int_equal(run_smtp("192.0.2.1:25", err, sizeof(err)), 2);
    if (!strstr(err, "192.0.2.1"))
        fail_msg("stderr '%s'", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
