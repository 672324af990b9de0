/* fault.c - LD_PRELOAD fault injector for the targets' tests: makes the
 * Nth call of an allocation or system call fail the way the C library or
 * the kernel may make it fail, so a test can drive a target into the error
 * paths no well-behaved machine reaches (out of memory, no thread, a
 * failing close or receive).
 *
 * Environment:
 *   NR_FAULT="FN:N[+][/E][,...]"  fail the Nth call (counted from 1,
 *       over the whole process, every thread) of FN; with '+', that call
 *       and every later one; with /E, with errno E (a decimal number)
 *       instead of FN's default below.  FN is one of
 *         malloc realloc calloc       return NULL, errno ENOMEM
 *         pthread_create              return EAGAIN, no thread
 *         close                       the descriptor IS closed (as Linux
 *                                     does on EIO), then -1, errno EIO
 *         fcntl                       -1, errno EBADF, nothing done
 *         epoll_ctl                   -1, errno ENOSPC, nothing done
 *         eventfd                     -1, errno EMFILE
 *         recvmsg                     -1, errno ENOMEM, nothing received
 *         poll                        -1, errno ENOMEM, no revents set
 *         epoll_wait                  -1, errno EINVAL, no event
 *         read write                  -1, errno EIO, nothing moved (the C
 *                                     library's own stdio is not counted)
 *   NR_FAULT_ARM=accept  count calls only from the moment the first
 *       accept/accept4 returns a connection (so "fcntl:1" is the first
 *       fcntl a server makes for its first client, however many it made
 *       while starting).  Otherwise calls are counted from this library's
 *       constructor on (what a sanitizer's runtime does before is not).
 *   NR_FAULT_STATS=PATH  at exit, write one line to PATH:
 *       "malloc=N realloc=N calloc=N pthread_create=N close=N fcntl=N
 *        epoll_ctl=N eventfd=N recvmsg=N poll=N epoll_wait=N read=N write=N
 *        injected=N close_ebadf=N" (calls counted as above, calls failed, closes of a
 *       descriptor that was not open whenever made), so a test can size a
 *       sweep over N, check the injector really ran, and see a descriptor
 *       closed twice.
 *
 * In-process use: a test program run with this library preloaded can arm
 * it around one call of its own code (see fault_inproc.h):
 *   nr_fault_set("malloc:2")   replace the rules, zero the counters, arm;
 *   nr_fault_set(NULL)         no rules: nothing fails from here on;
 *   nr_fault_injected()        how many calls failed since the last set.
 * Disarm before the test framework's own checks: they allocate too.
 *
 * Threads: every counter is atomic (a call from any thread is counted
 * once, exactly), and the real functions are resolved by the first call
 * from any thread while the others wait; the rules are set before threads
 * start (the constructor) or by nr_fault_set while no other thread makes
 * the calls counted.
 *
 * Allocations go to the next definition (libc's, or a sanitizer's), so the
 * injector can be preloaded into the normal and the sanitized builds alike
 * (ASan wants verify_asan_link_order=0 then).  Never sanitized itself. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* The wrappers' names: a test that includes this file (to race its
 * threads against the resolution, test_fault_preload_init.c) defines
 * FI_NAME(f) as another name, so that nothing is interposed. */
#ifndef FI_NAME
#define FI_NAME(f) f
#endif
#define FI_STR_(x) #x
#define FI_STR(x) FI_STR_(x)
#define FI_RULES 8

enum fi_fn { FI_MALLOC, FI_REALLOC, FI_CALLOC, FI_PTHREAD_CREATE, FI_CLOSE, FI_FCNTL,
             FI_EPOLL_CTL, FI_EVENTFD, FI_RECVMSG, FI_POLL, FI_EPOLL_WAIT,
             FI_READ, FI_WRITE, FI_NFN };

static const char *const fi_names[FI_NFN] = {
    "malloc", "realloc", "calloc", "pthread_create", "close", "fcntl", "epoll_ctl", "eventfd",
    "recvmsg", "poll", "epoll_wait", "read", "write",
};

/* One rule of NR_FAULT: fail call number `nth` of fn, and later ones when
 * `onward`. */
struct fi_rule {
    int fn;
    unsigned long nth;
    int onward;
    int err; /* 0: fn's default */
};

EXPORT int nr_fault_set(const char *spec);
EXPORT unsigned long nr_fault_injected(void);

static struct fi_rule rules[FI_RULES];
static int nrules;
static atomic_ulong armed_calls[FI_NFN]; /* since the arming event */
static int arm_on_accept;
static atomic_int armed; /* 0 until the constructor ran */
static atomic_ulong injected;
static atomic_ulong close_ebadf;
static const char *stats_path;
static atomic_int ready; /* 0: not set up, 1: resolving, 2: done */
/* Set in the thread resolving the real functions, while it does: its
 * dlsym's own allocations come from boot[] (every other thread waits). */
static __thread int resolving __attribute__((tls_model("initial-exec")));

static void *(*real_malloc)(size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_calloc)(size_t, size_t);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static int (*real_close)(int);
static int (*real_fcntl)(int, int, ...);
static int (*real_epoll_ctl)(int, int, int, struct epoll_event *);
static int (*real_eventfd)(unsigned int, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

/* dlsym may allocate before real_calloc is known: those few requests (of
 * the resolving thread only) come from here (and are never freed: free is
 * not interposed, and glibc's dlsym frees nothing it allocated for a
 * successful lookup). */
static _Alignas(16) unsigned char boot[4096];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (n > sizeof(boot) - boot_used)
        return NULL;
    p = boot + boot_used;
    boot_used += n;
    return p;
}

/* Parse NR_FAULT into rules[]; unknown names and bad numbers are reported
 * on stderr and ignored. */
static void parse_rules(const char *v)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok_r(buf, ",", &save); tok && nrules < FI_RULES;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':'), *end;
        int fn = -1;

        if (!colon)
            goto bad;
        *colon = '\0';
        for (int i = 0; i < FI_NFN; i++)
            if (!strcmp(tok, fi_names[i]))
                fn = i;
        if (fn < 0)
            goto bad;
        rules[nrules].fn = fn;
        rules[nrules].nth = strtoul(colon + 1, &end, 10);
        rules[nrules].onward = *end == '+';
        end += rules[nrules].onward;
        rules[nrules].err = 0;
        if (*end == '/') {
            rules[nrules].err = (int)strtol(end + 1, &end, 10);
            if (rules[nrules].err <= 0)
                goto bad;
        }
        if (rules[nrules].nth == 0 || *end)
            goto bad;
        nrules++;
        continue;
    bad:
        fprintf(stderr, "libnr-fault: NR_FAULT: ignoring '%s'\n", tok);
    }
}

/* Resolve the real functions, once, whichever thread comes first (a
 * sanitizer's runtime may allocate before any constructor ran, a library's
 * constructor may start threads before this one's ran): a thread that
 * comes while another resolves waits until it is done, so none calls a
 * real function not yet known.  (Not pthread_once: TSan's runtime
 * intercepts it, and its own start allocates, through here, before it can
 * run an interceptor.) */
static void fi_init(void)
{
    int expect = 0;

    if (atomic_load(&ready) == 2)
        return;
    if (resolving) {
        /* dlsym itself called a wrapper other than malloc/calloc: waiting
         * here would wait for this very thread, forever */
        static const char msg[] = "libnr-fault: a wrapped call during dlsym: cannot go on\n";
        (void)syscall(SYS_write, 2, msg, sizeof(msg) - 1); /* write() is ours */
        abort();
    }
    if (!atomic_compare_exchange_strong(&ready, &expect, 1)) {
        while (atomic_load(&ready) != 2)
            sched_yield();
        return;
    }
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
    real_close = dlsym(RTLD_NEXT, "close");
    real_fcntl = dlsym(RTLD_NEXT, "fcntl");
    real_epoll_ctl = dlsym(RTLD_NEXT, "epoll_ctl");
    real_eventfd = dlsym(RTLD_NEXT, "eventfd");
    real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
    real_poll = dlsym(RTLD_NEXT, "poll");
    real_epoll_wait = dlsym(RTLD_NEXT, "epoll_wait");
    real_read = dlsym(RTLD_NEXT, "read");
    real_write = dlsym(RTLD_NEXT, "write");
    real_accept = dlsym(RTLD_NEXT, "accept");
    real_accept4 = dlsym(RTLD_NEXT, "accept4");
    resolving = 0;
    atomic_store(&ready, 2);
}

/* Read the settings (the environment is set up by now); calls made before
 * are counted but never failed. */
__attribute__((constructor)) static void fi_ctor(void)
{
    const char *v;

    fi_init();
    if ((v = getenv("NR_FAULT_ARM")) && !strcmp(v, "accept"))
        arm_on_accept = 1;
    else if (v)
        fprintf(stderr, "libnr-fault: NR_FAULT_ARM: ignoring '%s'\n", v);
    stats_path = getenv("NR_FAULT_STATS");
    if ((v = getenv("NR_FAULT")))
        parse_rules(v);
    atomic_store(&armed, !arm_on_accept);
}

/* Replace the rules with spec (NR_FAULT's syntax; NULL or "": none), zero
 * the call counters and arm at once.  Returns the number of rules taken
 * (a malformed one is reported on stderr and left out).  Not for use while
 * other threads make the calls counted here. */
EXPORT int nr_fault_set(const char *spec)
{
    fi_init();
    nrules = 0;
    for (int i = 0; i < FI_NFN; i++)
        atomic_store(&armed_calls[i], 0);
    atomic_store(&injected, 0);
    if (spec && *spec)
        parse_rules(spec);
    atomic_store(&armed, 1);
    return nrules;
}

/* How many calls failed since the last nr_fault_set (or since start). */
EXPORT unsigned long nr_fault_injected(void)
{
    return atomic_load(&injected);
}

/* Write the counters to NR_FAULT_STATS at exit. */
__attribute__((destructor)) static void fi_fini(void)
{
    char line[512];
    size_t off = 0;
    int fd;

    if (!stats_path)
        return;
    for (int i = 0; i < FI_NFN; i++)
        off += (size_t)snprintf(line + off, sizeof(line) - off, "%s=%lu ", fi_names[i],
                                atomic_load(&armed_calls[i]));
    off += (size_t)snprintf(line + off, sizeof(line) - off, "injected=%lu close_ebadf=%lu\n",
                            atomic_load(&injected), atomic_load(&close_ebadf));
    fd = open(stats_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (real_write(fd, line, off) < 0)
        off = 0;
    real_close(fd);
}

/* Count one call of fn; returns 0 to let it through, or the errno
 * (def unless the rule names one) when this call is to fail. */
static int fi_fail(int fn, int def)
{
    unsigned long n;

    if (!atomic_load(&armed))
        return 0;
    n = atomic_fetch_add(&armed_calls[fn], 1) + 1;
    for (int i = 0; i < nrules; i++) {
        if (rules[i].fn == fn && (n == rules[i].nth || (rules[i].onward && n > rules[i].nth))) {
            atomic_fetch_add(&injected, 1);
            return rules[i].err ? rules[i].err : def;
        }
    }
    return 0;
}

/* Count one call of fn (resolving the real functions first if need be);
 * returns -1 with errno set when this call is to fail, else 0. */
static int fi_enter(int fn, int def)
{
    int e;

    fi_init();
    if ((e = fi_fail(fn, def))) {
        errno = e;
        return -1;
    }
    return 0;
}

EXPORT void *FI_NAME(malloc)(size_t n)
{
    int e;

    if (resolving)
        return boot_alloc(n);
    fi_init();
    if ((e = fi_fail(FI_MALLOC, ENOMEM))) {
        errno = e;
        return NULL;
    }
    return real_malloc(n);
}

EXPORT void *FI_NAME(calloc)(size_t n, size_t size)
{
    int e;

    if (resolving)
        return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size); /* zeroed: static */
    fi_init();
    if ((e = fi_fail(FI_CALLOC, ENOMEM))) {
        errno = e;
        return NULL;
    }
    return real_calloc(n, size);
}

EXPORT void *FI_NAME(realloc)(void *p, size_t n)
{
    int e;

    fi_init();
    if ((e = fi_fail(FI_REALLOC, ENOMEM))) {
        errno = e;
        return NULL;
    }
    return real_realloc(p, n);
}

EXPORT int FI_NAME(pthread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                                    void *arg)
{
    int e;

    fi_init();
    if ((e = fi_fail(FI_PTHREAD_CREATE, EAGAIN)))
        return e;
    return real_pthread_create(t, attr, fn, arg);
}

EXPORT int FI_NAME(close)(int fd)
{
    int e, r;

    fi_init();
    if ((e = fi_fail(FI_CLOSE, EIO))) {
        if (real_close(fd) < 0 && errno == EBADF)
            atomic_fetch_add(&close_ebadf, 1);
        errno = e;
        return -1;
    }
    r = real_close(fd);
    if (r < 0 && errno == EBADF)
        atomic_fetch_add(&close_ebadf, 1);
    return r;
}

/* Every fcntl command takes at most one argument, an int or a pointer:
 * passed on as a pointer-sized value. */
static int fcntl_common(int fd, int cmd, void *arg)
{
    return fi_enter(FI_FCNTL, EBADF) < 0 ? -1 : real_fcntl(fd, cmd, arg);
}

EXPORT int FI_NAME(fcntl)(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

/* The large-file name of the same call (what 32-bit builds call). */
EXPORT int FI_NAME(fcntl64)(int fd, int cmd, ...)
    __attribute__((alias(FI_STR(FI_NAME(fcntl)))));

EXPORT int FI_NAME(epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev)
{
    return fi_enter(FI_EPOLL_CTL, ENOSPC) < 0 ? -1 : real_epoll_ctl(epfd, op, fd, ev);
}

EXPORT int FI_NAME(eventfd)(unsigned int initval, int flags)
{
    return fi_enter(FI_EVENTFD, EMFILE) < 0 ? -1 : real_eventfd(initval, flags);
}

EXPORT ssize_t FI_NAME(recvmsg)(int fd, struct msghdr *m, int flags)
{
    return fi_enter(FI_RECVMSG, ENOMEM) < 0 ? -1 : real_recvmsg(fd, m, flags);
}

EXPORT int FI_NAME(poll)(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    return fi_enter(FI_POLL, ENOMEM) < 0 ? -1 : real_poll(fds, n, timeout_ms);
}

EXPORT int FI_NAME(epoll_wait)(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
    return fi_enter(FI_EPOLL_WAIT, EINVAL) < 0 ? -1 : real_epoll_wait(epfd, evs, max, timeout_ms);
}

EXPORT ssize_t FI_NAME(read)(int fd, void *buf, size_t n)
{
    return fi_enter(FI_READ, EIO) < 0 ? -1 : real_read(fd, buf, n);
}

EXPORT ssize_t FI_NAME(write)(int fd, const void *buf, size_t n)
{
    return fi_enter(FI_WRITE, EIO) < 0 ? -1 : real_write(fd, buf, n);
}

EXPORT int FI_NAME(accept)(int fd, struct sockaddr *sa, socklen_t *len)
{
    int r;

    fi_init();
    r = real_accept(fd, sa, len);
    if (r >= 0)
        atomic_store(&armed, 1);
    return r;
}

EXPORT int FI_NAME(accept4)(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    int r;

    fi_init();
    r = real_accept4(fd, sa, len, flags);
    if (r >= 0)
        atomic_store(&armed, 1);
    return r;
}
