/* relay_floor.c - what any relay between two loopback TCP connections
 * costs a bulk echo on this machine: the floor under netrig's fault proxy.
 *
 *   relay_floor [--runs N] [--mib N] ECHO_SERVER
 *
 * Starts ECHO_SERVER --port 0 (netrig's tcp-echo-mt), reads its
 * "listening on HOST:PORT" line, then N times and interleaved echoes N MiB
 * (one writer thread, one reader: both directions at once) three ways:
 *
 *   direct   client -> echo server
 *   copy     client -> relay -> echo server, the relay reading and writing
 *            through a 1 MiB buffer, one thread per direction (as socat)
 *   splice   client -> relay -> echo server, the relay the least a user
 *            space relay can be: one thread per direction, blocking
 *            splice(2) through a 1 MiB pipe, no poll, no copy
 *   sockmap  the same two connections relayed inside the kernel: a BPF
 *            sk_skb verdict program redirects each arriving skb to the
 *            other connection's send side (BPF_MAP_TYPE_SOCKMAP); no
 *            relay thread runs.  Needs CAP_BPF and CAP_NET_ADMIN (root):
 *            without them this column is skipped, saying why.
 *
 * For each: the wall time of the echo and the CPU the whole machine spent
 * during it (/proc/stat, all CPUs, 10 ms ticks), median, min and max, and
 * the relays' cost against direct.  No capture runs.  Built and run by
 * harness/bench/proxy_bench.sh; quote figures only from a quiet machine. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)   /* write, read and splice size; the pipe's size */
#define MAX_RUNS 64

enum mode { M_DIRECT, M_COPY, M_SPLICE, M_SOCKMAP, M_COUNT };
static const char *const mode_name[M_COUNT] = { "direct", "copy", "splice", "sockmap" };

static size_t total_bytes = 64u << 20;

static void die(const char *what)
{
    fprintf(stderr, "relay_floor: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Busy time of all CPUs so far, in ms (user, nice, system, irq, softirq). */
static double machine_busy_ms(void)
{
    unsigned long long v[8] = { 0 };
    FILE *f = fopen("/proc/stat", "r");

    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
        die("/proc/stat");
    fclose(f);
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6]) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int connect_port(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    struct timeval idle = { .tv_sec = 60 }; /* a stuck echo fails, not hangs */

    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle));
    return fd;
}

/* A listening socket on 127.0.0.1 and an ephemeral port, stored in *port. */
static int listen_any(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("listen");
    *port = ntohs(a.sin_port);
    return fd;
}

static void *writer(void *arg)
{
    int fd = *(int *)arg;
    char *buf = malloc(CHUNK);

    if (!buf)
        die("malloc");
    memset(buf, 'x', CHUNK);
    for (size_t done = 0; done < total_bytes;) {
        size_t want = total_bytes - done < CHUNK ? total_bytes - done : CHUNK;
        ssize_t n = write(fd, buf, want);

        if (n <= 0)
            die("write");
        done += (size_t)n;
    }
    free(buf);
    return NULL;
}

/* One echo of total_bytes through port; the wall time in ms. */
static double echo_once(int port)
{
    int fd = connect_port(port);
    char *buf = malloc(CHUNK);
    pthread_t t;
    double t0 = now_ms(), dt;

    if (!buf)
        die("malloc");
    if (pthread_create(&t, NULL, writer, &fd) != 0)
        die("pthread_create");
    for (size_t got = 0; got < total_bytes;) {
        ssize_t n = read(fd, buf, CHUNK);

        if (n <= 0)
            die(n == 0 ? "read: the echo ended early" : "read");
        got += (size_t)n;
    }
    dt = now_ms() - t0;
    pthread_join(t, NULL);
    close(fd);
    free(buf);
    return dt;
}

struct splice_dir {
    int from, to;
};

/* One direction of the copying relay: read and write through a 1 MiB
 * buffer until the source ends, then FIN on. */
static void *copy_dir_run(void *arg)
{
    struct splice_dir *d = arg;
    char *buf = malloc(CHUNK);

    if (!buf)
        die("malloc");
    for (;;) {
        ssize_t n = read(d->from, buf, CHUNK), off = 0;

        if (n <= 0)
            break;
        while (off < n) {
            ssize_t m = write(d->to, buf + off, (size_t)(n - off));

            if (m <= 0)
                die("write to the other connection");
            off += m;
        }
    }
    shutdown(d->to, SHUT_WR);
    free(buf);
    return NULL;
}

/* One direction of the splice relay: until the source ends, then FIN on. */
static void *splice_dir_run(void *arg)
{
    struct splice_dir *d = arg;
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe2");
    (void)fcntl(p[1], F_SETPIPE_SZ, (int)CHUNK);
    for (;;) {
        ssize_t n = splice(d->from, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);

        if (n <= 0)
            break;
        while (n > 0) {
            ssize_t m = splice(p[0], NULL, d->to, NULL, (size_t)n, SPLICE_F_MOVE);

            if (m <= 0)
                die("splice to the other connection");
            n -= m;
        }
    }
    shutdown(d->to, SHUT_WR);
    close(p[0]);
    close(p[1]);
    return NULL;
}

static long bpf_call(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

#define INSN(c, d, s, o, i) \
    ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* A sockmap of 2 (key 0: the accepted connection, 1: the upstream one) with
 * a verdict program attached that sends every skb arriving on the
 * connection whose local port is lport (the accepted one) out of key 1, and
 * every other one out of key 0.  Returns the map's fd, or -1 with errno
 * set (EPERM without CAP_BPF). */
static int sockmap_make(int lport)
{
    struct bpf_insn prog[] = {
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),  /* r6 = skb */
        INSN(BPF_LDX | BPF_MEM | BPF_W, 0, 1, offsetof(struct __sk_buff, local_port), 0),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),  /* key = 0 */
        INSN(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 1, lport),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 1),  /* key = 1 */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
        INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, 0), /* r2 = map */
        INSN(0, 0, 0, 0, 0),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),  /* flags 0: egress */
        INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_map),
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    union bpf_attr a;
    int map, pfd = -1, e;

    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_SOCKMAP;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 2;
    map = (int)bpf_call(BPF_MAP_CREATE, &a);
    if (map < 0)
        return -1;
    prog[6].imm = map;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_SK_SKB;
    a.insns = (uintptr_t)prog;
    a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
    a.license = (uintptr_t)"GPL";
    pfd = (int)bpf_call(BPF_PROG_LOAD, &a);
    if (pfd < 0)
        goto fail;
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)map;
    a.attach_bpf_fd = (uint32_t)pfd;
    a.attach_type = BPF_SK_SKB_VERDICT;
    if (bpf_call(BPF_PROG_ATTACH, &a) < 0)
        goto fail;
    close(pfd); /* the map holds the program now */
    return map;
fail:
    e = errno;
    if (pfd >= 0)
        close(pfd);
    close(map);
    errno = e;
    return -1;
}

static void sockmap_put(int map, int key, int fd)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)map;
    a.key = (uintptr_t)&key;
    a.value = (uintptr_t)&fd;
    a.flags = BPF_ANY;
    if (bpf_call(BPF_MAP_UPDATE_ELEM, &a) < 0)
        die("sockmap update");
}

/* The relay's child: accepts one connection on lfd, connects upstream,
 * relays in mode until the client's FIN, then exits. */
static void relay_child(enum mode mode, int lfd, int lport, int upstream)
{
    int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), b = connect_port(upstream);

    if (a < 0)
        die("accept");
    if (mode == M_SPLICE || mode == M_COPY) {
        void *(*run)(void *) = mode == M_SPLICE ? splice_dir_run : copy_dir_run;
        struct splice_dir up = { a, b }, down = { b, a };
        pthread_t t;

        if (pthread_create(&t, NULL, run, &up) != 0)
            die("pthread_create");
        run(&down);
        pthread_join(t, NULL);
    } else {
        struct pollfd p = { .fd = a, .events = POLLRDHUP };
        int map = sockmap_make(lport);

        if (map < 0)
            die("sockmap");
        sockmap_put(map, 0, a);
        sockmap_put(map, 1, b);
        (void)poll(&p, 1, 120000); /* the client's FIN: the echo is over */
    }
    _exit(0);
}

/* The echo server's port, from its "listening on HOST:PORT" line. */
static pid_t start_echo(const char *prog, int *port)
{
    int p[2];
    char line[256];
    const char *colon;
    FILE *f;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe2");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with us, however we end */

        dup2(p[1], STDOUT_FILENO);
        if (null >= 0)
            dup2(null, STDERR_FILENO); /* its per-connection log */
        execl(prog, prog, "--port", "0", (char *)NULL);
        die(prog);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "listening on ", 13) != 0 ||
        !(colon = strrchr(line, ':')))
        die("the echo server's listening line");
    fclose(f);
    *port = atoi(colon + 1);
    return pid;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* Sorts v and prints its median, min and max. */
static double print_stats(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf(" %7.0f (%4.0f-%4.0f)", med, v[0], v[n - 1]);
    return med;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "runs", required_argument, NULL, 'r' }, { "mib", required_argument, NULL, 'm' }, { 0 }
    };
    double wall[M_COUNT][MAX_RUNS], cpu[M_COUNT][MAX_RUNS];
    int runs = 5, c, echo_port, have_sockmap = 1;
    pid_t echo;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'r')
            runs = atoi(optarg);
        else if (c == 'm')
            total_bytes = (size_t)strtoul(optarg, NULL, 10) << 20;
        else
            goto usage;
    }
    if (optind != argc - 1 || runs < 1 || runs > MAX_RUNS || total_bytes == 0)
        goto usage;
    signal(SIGPIPE, SIG_IGN);
    {
        int m = sockmap_make(1);

        if (m < 0) {
            printf("sockmap: not available here (%s): needs CAP_BPF and CAP_NET_ADMIN\n",
                   strerror(errno));
            have_sockmap = 0;
        } else {
            close(m);
        }
    }
    echo = start_echo(argv[optind], &echo_port);
    for (int i = 0; i < runs; i++) {
        for (int m = 0; m < M_COUNT; m++) {
            int port = echo_port, lfd = -1;
            pid_t relay = 0;
            double busy0;

            if (m == M_SOCKMAP && !have_sockmap)
                continue;
            if (m != M_DIRECT) {
                lfd = listen_any(&port);
                relay = fork();
                if (relay < 0)
                    die("fork");
                if (relay == 0) {
                    prctl(PR_SET_PDEATHSIG, SIGKILL);
                    relay_child((enum mode)m, lfd, port, echo_port);
                }
                close(lfd);
            }
            busy0 = machine_busy_ms();
            wall[m][i] = echo_once(port);
            cpu[m][i] = machine_busy_ms() - busy0;
            if (relay > 0) {
                kill(relay, SIGKILL);
                waitpid(relay, NULL, 0);
            }
        }
    }
    kill(echo, SIGTERM);
    waitpid(echo, NULL, 0);

    printf("%zu MiB echo through %s, %d runs each (ms: median (min-max))\n", total_bytes >> 20,
           argv[optind], runs);
    printf("%-8s %20s %20s %12s %s\n", "", "wall", "machine CPU", "wall cost", "CPU cost");
    double wmed0 = 0, cmed0 = 0;
    for (int m = 0; m < M_COUNT; m++) {
        if (m == M_SOCKMAP && !have_sockmap)
            continue;
        printf("%-8s", mode_name[m]);
        double w = print_stats(wall[m], runs), cp = print_stats(cpu[m], runs);
        if (m == M_DIRECT) {
            wmed0 = w;
            cmed0 = cp;
            printf("\n");
        } else {
            printf(" %+11.1f%% %+.1f%%\n", (w - wmed0) * 100 / wmed0, (cp - cmed0) * 100 / cmed0);
        }
    }
    return 0;
usage:
    fprintf(stderr, "usage: relay_floor [--runs N] [--mib N] ECHO_SERVER\n");
    return 2;
}
