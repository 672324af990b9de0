/* cap_rate.c - netrig's scenario capture against `tcpdump -w`, on the same
 * kind of loopback transfer, in the same run.
 *
 *   cap_rate [--mib N] [--ring KIB] [--reps R] [--tcpdump PATH] [--mtu N] [--rate MIBS] DIR
 *
 * Enters a fresh network namespace (not root: run it under `unshare -r -n`
 * with CAP_RATE_IN_NETNS=1), brings lo up, then R times and alternately: starts a capturer in a child
 * process, sends N MiB over one TCP connection on 127.0.0.1 (64 KiB frames:
 * lo's MTU; --rate paces it in MiB/s, else it goes as fast as it can), stops the capturer and reads the child's CPU time (wait4).  The
 * capturers get the same kernel ring (KIB) and snap length.
 *
 *   netrig:  run_capture_start_sized / run_capture_stop (harness/src/run_capture.c)
 *   tcpdump: tcpdump -i lo -w DIR/tcpdump.pcap -s 65600 -B KIB, stopped by
 *            SIGINT once its file has stopped growing (it hands a partly
 *            filled block over after its 1 s timeout)
 *
 * One line per capturer and repetition, then the totals and the ratio of
 * the capture rates (frame bytes written per CPU second of the capturer).
 * Built and run by harness/bench/run_bench.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/run_capture.h"
#include "nr_net.h"

#define CHUNK (256 << 10)

struct result {
    double wall_s;        /* the transfer */
    double cpu_s;         /* the capturer process, user + system */
    long long packets, drops, file_bytes;
};

static void die(const char *what)
{
    fprintf(stderr, "cap_rate: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* A network namespace of our own with lo up (MTU mtu when > 0).  Without
 * root, run_bench.sh starts us under `unshare -r -n`: then we are root of
 * a user namespace that owns a fresh network namespace already. */
static void enter_netns(int mtu)
{
    struct ifreq ifr;
    int fd;

    if (getenv("CAP_RATE_IN_NETNS") == NULL && unshare(CLONE_NEWNET) < 0)
        die("unshare(CLONE_NEWNET) (not root? run under unshare -r -n with CAP_RATE_IN_NETNS=1)");
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        die("lo flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        die("bring lo up");
    ifr.ifr_mtu = mtu;
    if (mtu > 0 && ioctl(fd, SIOCSIFMTU, &ifr) < 0)
        die("lo mtu");
    close(fd);
}

static void *sink_main(void *arg)
{
    int lfd = *(int *)arg, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    char *buf = malloc(CHUNK);

    while (fd >= 0 && buf && nr_read(fd, buf, CHUNK) > 0)
        ;
    free(buf);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static long rate_mbs; /* pace the transfer at this many MiB/s (0: as fast as it goes) */

/* Send mib MiB over a fresh TCP connection on 127.0.0.1; returns seconds. */
static double transfer(long mib)
{
    struct nr_addr a;
    char errbuf[NR_ERRBUF_SIZE];
    pthread_t t;
    int64_t t0;
    char *buf = calloc(1, CHUNK);
    int lfd, fd;

    if (!buf || nr_addr_from_host("127.0.0.1", 0, &a, errbuf) < 0 ||
        (lfd = nr_bind_socket(&a, SOCK_STREAM, 1, errbuf)) < 0 || nr_local_addr(lfd, &a, errbuf) < 0) {
        fprintf(stderr, "cap_rate: listener: %s\n", errbuf);
        exit(2);
    }
    if (pthread_create(&t, NULL, sink_main, &lfd) != 0)
        die("pthread_create");
    t0 = nr_now_ms();
    if ((fd = nr_connect_tcp(&a, 5000, NULL, NULL, errbuf)) < 0) {
        fprintf(stderr, "cap_rate: connect: %s\n", errbuf);
        exit(2);
    }
    for (long i = 0; i < mib * (1 << 20) / CHUNK; i++) {
        int64_t due = rate_mbs > 0 ? t0 + (int64_t)(i * 1000LL * CHUNK / (rate_mbs << 20)) : 0;
        if (rate_mbs > 0 && nr_ms_left(due) > 0)
            usleep((useconds_t)nr_ms_left(due) * 1000);
        if (nr_write_all(fd, buf, CHUNK, 10000) < 0)
            die("send");
    }
    shutdown(fd, SHUT_WR);
    pthread_join(t, NULL);
    close(fd);
    close(lfd);
    free(buf);
    return (double)(nr_now_ms() - t0) / 1000.0;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* netrig's capture in a child process: start, say "ready", wait for a byte,
 * stop, report "packets drops" and exit. */
static void run_netrig(const char *path, size_t ring, long mib, struct result *r)
{
    int go[2], back[2], ws;
    char line[128] = "";
    struct rusage ru;
    ssize_t n;
    pid_t pid;

    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(back, O_CLOEXEC) < 0)
        die("pipe");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        struct run_capture *c;
        struct run_capture_stats st;
        char errbuf[NR_ERRBUF_SIZE], c1;

        if (run_capture_start_sized("lo", path, ring, &c, errbuf) < 0) {
            dprintf(back[1], "error %s\n", errbuf);
            _exit(1);
        }
        dprintf(back[1], "ready\n");
        if (read(go[0], &c1, 1) < 0)
            _exit(1);
        if (run_capture_stop(c, &st, errbuf) < 0)
            dprintf(back[1], "error %s\n", errbuf);
        else
            dprintf(back[1], "%llu %llu\n", (unsigned long long)st.packets,
                    (unsigned long long)st.kernel_drops);
        _exit(0);
    }
    close(go[0]);
    close(back[1]);
    n = read(back[0], line, sizeof(line) - 1);
    if (n <= 0 || strncmp(line, "ready", 5) != 0) {
        fprintf(stderr, "cap_rate: netrig capture did not start: %s", n > 0 ? line : "\n");
        exit(2);
    }
    r->wall_s = transfer(mib);
    if (write(go[1], "x", 1) != 1)
        die("write");
    n = read(back[0], line, sizeof(line) - 1);
    line[n > 0 ? n : 0] = '\0';
    if (sscanf(line, "%lld %lld", &r->packets, &r->drops) != 2) {
        fprintf(stderr, "  netrig capture: %s", line); /* counted as nothing written */
        r->packets = r->drops = -1;
    }
    if (wait4(pid, &ws, 0, &ru) < 0)
        die("wait4");
    r->cpu_s = cpu_of(&ru);
    r->file_bytes = file_size(path);
    close(go[1]);
    close(back[0]);
}

/* tcpdump -w with the same ring; its statistics come from its stderr. */
static void run_tcpdump(const char *tcpdump, const char *path, size_t ring, long mib,
                        struct result *r)
{
    char ringkb[32], errpath[4200], *text;
    long long last = -1, now;
    struct rusage ru;
    int ws, efd, stable = 0;
    FILE *f;
    pid_t pid;

    snprintf(ringkb, sizeof(ringkb), "%zu", ring >> 10);
    snprintf(errpath, sizeof(errpath), "%s.stderr", path);
    unlink(path);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (efd < 0 || dup2(efd, 2) < 0)
            _exit(127);
        execlp(tcpdump, tcpdump, "-i", "lo", "-w", path, "-s", "65600", "-B", ringkb,
               "-Z", "root", (char *)NULL); /* root of our namespace: keep writing */
        _exit(127);
    }
    /* Ready once it says "listening on" (and the file exists). */
    for (int i = 0; i < 500; i++) {
        f = fopen(errpath, "r");
        text = NULL;
        if (f) {
            size_t cap = 0;
            ssize_t got = getdelim(&text, &cap, '\0', f);
            fclose(f);
            if (got > 0 && strstr(text, "listening on") && file_size(path) >= 0) {
                free(text);
                break;
            }
        }
        free(text);
        if (waitpid(pid, &ws, WNOHANG) == pid) {
            fprintf(stderr, "cap_rate: %s did not start (see %s)\n", tcpdump, errpath);
            exit(2);
        }
        usleep(10000);
    }
    r->wall_s = transfer(mib);
    /* Its file stops growing once the last block is handed over. */
    for (int i = 0; i < 100 && stable < 15; i++) {
        usleep(100000);
        now = file_size(path);
        stable = now == last && now > 24 ? stable + 1 : 0;
        last = now;
    }
    kill(pid, SIGINT);
    if (wait4(pid, &ws, 0, &ru) < 0)
        die("wait4");
    r->cpu_s = cpu_of(&ru);
    r->file_bytes = file_size(path);
    r->packets = r->drops = -1;
    f = fopen(errpath, "r");
    if (f) {
        char line[256];
        long long v;
        while (fgets(line, sizeof(line), f)) {
            if (sscanf(line, "%lld", &v) != 1)
                continue;
            if (strstr(line, " packets captured"))
                r->packets = v;
            else if (strstr(line, " packets dropped by kernel"))
                r->drops = v;
        }
        fclose(f);
    }
}

static const char *optarg_or(long v)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), "%ld", v);
    return buf;
}

static void print(const char *who, int rep, const struct result *r)
{
    printf("  %-8s rep %d: transfer %.2f s, %lld packets, %lld dropped, file %.1f MiB, "
           "capturer CPU %.3f s, %.0f MiB/CPU-s\n",
           who, rep, r->wall_s, r->packets, r->drops, (double)r->file_bytes / (1 << 20), r->cpu_s,
           (double)r->file_bytes / (1 << 20) / (r->cpu_s > 0 ? r->cpu_s : 1e-9));
}

int main(int argc, char **argv)
{
    const char *tcpdump = "tcpdump";
    long mib = 256, reps = 3, mtu = 0;
    size_t ring = RUN_CAPTURE_RING_DEFAULT;
    struct result sum[2];
    char npath[4096], tpath[4096];
    int opt;

    static const struct option lo[] = { { "mib", required_argument, NULL, 'm' },
                                        { "ring", required_argument, NULL, 'r' },
                                        { "reps", required_argument, NULL, 'n' },
                                        { "tcpdump", required_argument, NULL, 't' },
                                        { "mtu", required_argument, NULL, 'u' },
                                        { "rate", required_argument, NULL, 'p' },
                                        { NULL, 0, NULL, 0 } };
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case 'm': mib = atol(optarg); break;
        case 'r': ring = (size_t)atol(optarg) << 10; break;
        case 'n': reps = atol(optarg); break;
        case 't': tcpdump = optarg; break;
        case 'u': mtu = atol(optarg); break;
        case 'p': rate_mbs = atol(optarg); break;
        default: fprintf(stderr, "usage: cap_rate [--mib N] [--ring KIB] [--reps R] [--tcpdump PATH] [--mtu N] [--rate MIBS] DIR\n"); return 2;
        }
    }
    if (optind != argc - 1 || mib <= 0 || reps <= 0 || ring == 0) {
        fprintf(stderr, "usage: cap_rate [--mib N] [--ring KIB] [--reps R] [--tcpdump PATH] [--mtu N] [--rate MIBS] DIR\n");
        return 2;
    }
    snprintf(npath, sizeof(npath), "%s/netrig.pcap", argv[optind]);
    snprintf(tpath, sizeof(tpath), "%s/tcpdump.pcap", argv[optind]);
    signal(SIGPIPE, SIG_IGN);
    enter_netns((int)mtu);
    memset(sum, 0, sizeof(sum));
    printf("capture rate: %ld MiB over TCP on lo (MTU %s) per transfer, %s%s, ring %zu KiB, "
           "%ld reps each, alternating\n", mib, mtu > 0 ? optarg_or(mtu) : "65536",
           rate_mbs > 0 ? optarg_or(rate_mbs) : "unpaced", rate_mbs > 0 ? " MiB/s" : "",
           ring >> 10, reps);
    for (int i = 1; i <= reps; i++) {
        struct result r[2];
        memset(r, 0, sizeof(r));
        run_netrig(npath, ring, mib, &r[0]);
        print("netrig", i, &r[0]);
        run_tcpdump(tcpdump, tpath, ring, mib, &r[1]);
        print("tcpdump", i, &r[1]);
        for (int k = 0; k < 2; k++) {
            sum[k].wall_s += r[k].wall_s;
            sum[k].cpu_s += r[k].cpu_s;
            sum[k].packets += r[k].packets;
            sum[k].drops += r[k].drops;
            sum[k].file_bytes += r[k].file_bytes;
        }
    }
    for (int k = 0; k < 2; k++)
        printf("%-8s total: %lld packets, %lld dropped, %.1f MiB written, %.3f CPU s: %.0f MiB/CPU-s\n",
               k ? "tcpdump" : "netrig", sum[k].packets, sum[k].drops,
               (double)sum[k].file_bytes / (1 << 20), sum[k].cpu_s,
               (double)sum[k].file_bytes / (1 << 20) / (sum[k].cpu_s > 0 ? sum[k].cpu_s : 1e-9));
    printf("netrig/tcpdump capture rate (bytes per CPU second): %.2f\n",
           ((double)sum[0].file_bytes / (sum[0].cpu_s > 0 ? sum[0].cpu_s : 1e-9)) /
               ((double)sum[1].file_bytes / (sum[1].cpu_s > 0 ? sum[1].cpu_s : 1e-9)));
    return 0;
}
