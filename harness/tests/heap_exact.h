/* heap_exact.h - make mallinfo2() exact for leak checks in a unit test:
 * glibc's per-thread cache keeps freed blocks counted as in use, so a test
 * that compares mallinfo2().uordblks before and after calls
 * heap_exact_init(argv) first in main.  Header-only.
 *
 * Every case of a cmocka group checked for leaks (heap bytes in use in the
 * main arena, and the set of open descriptors, each number referring to
 * the same file, the same after the case as before it):
 *
 *     heap_exact_init(argv);
 *     const struct CMUnitTest tests[] = { heap_exact_test(case_a), ... };
 *
 * A case that leaks fails with the bytes and descriptors it left.  A case
 * whose environment keeps memory by design (setenv's copies are never
 * freed) checks its descriptors only: heap_exact_fds_test(case). */
#ifndef HEAP_EXACT_H
#define HEAP_EXACT_H

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void *heap_exact_idle(void *arg)
{
    return arg;
}

/* Re-execute this program (same argv) with glibc's per-thread cache off,
 * unless GLIBC_TUNABLES turns it off already (that re-execution did, or
 * the caller); the caller's other tunables are kept. */
static inline void heap_exact_init(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES");
    pthread_t th;

    if (!t || !strstr(t, "glibc.malloc.tcache_count=0")) {
        char v[1024];
        if (getenv("HEAP_EXACT_REEXECUTED")) { /* once only: no loop */
            fprintf(stderr, "heap_exact: GLIBC_TUNABLES lost its tcache_count=0\n");
            exit(1);
        }
        if ((size_t)snprintf(v, sizeof(v), "%s%sglibc.malloc.tcache_count=0", t ? t : "",
                             t && *t ? ":" : "") >= sizeof(v)) {
            fprintf(stderr, "heap_exact: GLIBC_TUNABLES too long to add tcache_count=0\n");
            exit(1);
        }
        setenv("GLIBC_TUNABLES", v, 1);
        setenv("HEAP_EXACT_REEXECUTED", "1", 1);
        execv("/proc/self/exe", argv);
        perror("heap_exact: re-executing with the per-thread cache off");
        exit(1);
    }
    /* the marker is for this program's own re-execution: a heap_exact
     * program it starts (with other tunables) must be free to re-execute */
    unsetenv("HEAP_EXACT_REEXECUTED");
    /* the first thread's TLS block is kept with its cached stack: taken
     * here, not in the first case that starts a thread */
    if (pthread_create(&th, NULL, heap_exact_idle, NULL) == 0)
        pthread_join(th, NULL);
}

#define HEAP_EXACT_FDS_MAX 256

/* One open descriptor: its number, the file it refers to (device and
 * inode: a pipe, a socket, a file) and what /proc/self/fd/N names (for
 * the message, cut short). */
struct heap_exact_fd {
    int fd;
    dev_t dev;
    ino_t ino;
    char link[80];
};

/* The open descriptors of this process (the listing's own left out) into
 * set; returns how many, or -1 when /proc/self/fd cannot be read or lists
 * more than HEAP_EXACT_FDS_MAX.  Allocates nothing it does not free. */
static inline int heap_exact_fd_set(struct heap_exact_fd set[HEAP_EXACT_FDS_MAX])
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[64];
        struct stat sb;
        ssize_t len;
        int fd;

        if (e->d_name[0] == '.' || (fd = atoi(e->d_name)) == dirfd(d))
            continue;
        if (n == HEAP_EXACT_FDS_MAX) {
            n = -1;
            break;
        }
        set[n].fd = fd;
        set[n].dev = 0;
        set[n].ino = 0;
        if (fstat(fd, &sb) == 0) {
            set[n].dev = sb.st_dev;
            set[n].ino = sb.st_ino;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        len = readlink(path, set[n].link, sizeof(set[n].link) - 1);
        set[n].link[len > 0 ? len : 0] = '\0';
        n++;
    }
    closedir(d);
    return n;
}

/* The entry of set (n of them) for descriptor fd, or NULL. */
static inline const struct heap_exact_fd *heap_exact_fd_find(const struct heap_exact_fd *set,
                                                             int n, int fd)
{
    for (int i = 0; i < n; i++)
        if (set[i].fd == fd)
            return &set[i];
    return NULL;
}

/* Whether two entries refer to the same file: its device and inode, and
 * for an anonymous inode (epoll, eventfd, timerfd, signalfd: one inode for
 * all) also its kind. */
static inline int heap_exact_fd_same(const struct heap_exact_fd *a, const struct heap_exact_fd *b)
{
    if (a->dev != b->dev || a->ino != b->ino)
        return 0;
    return strncmp(a->link, "anon_inode:", 11) != 0 || strcmp(a->link, b->link) == 0;
}

/* How descriptor sets a (before, na of them) and b (after) differ, one
 * line each on stderr: a descriptor closed, left open, or now referring to
 * another file (the same count either way).  Returns how many differ. */
static inline int heap_exact_fd_diff(const struct heap_exact_fd *a, int na,
                                     const struct heap_exact_fd *b, int nb)
{
    int differ = 0;

    for (int i = 0; i < na; i++) {
        const struct heap_exact_fd *now = heap_exact_fd_find(b, nb, a[i].fd);

        if (!now)
            fprintf(stderr, "heap_exact: fd %d ('%s') was open before the case and is closed "
                    "after it\n", a[i].fd, a[i].link);
        else if (!heap_exact_fd_same(&a[i], now))
            fprintf(stderr, "heap_exact: fd %d was '%s' before the case and is '%s' after it "
                    "(another file)\n", a[i].fd, a[i].link, now->link);
        differ += !now || !heap_exact_fd_same(&a[i], now);
    }
    for (int i = 0; i < nb; i++)
        if (!heap_exact_fd_find(a, na, b[i].fd)) {
            fprintf(stderr, "heap_exact: fd %d ('%s') left open by the case\n", b[i].fd,
                    b[i].link);
            differ++;
        }
    return differ;
}

/* Heap bytes in use: the main arena's chunks and the mmap'd ones (large
 * blocks, which uordblks leaves out). */
static inline size_t heap_exact_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

static size_t heap_exact_bytes_at_start;
static int heap_exact_nfds_at_start, heap_exact_bytes_checked;
static struct heap_exact_fd heap_exact_fds_at_start[HEAP_EXACT_FDS_MAX];

/* cmocka setup: note the heap bytes in use and the open descriptors. */
static inline int heap_exact_begin(void **state)
{
    (void)state;
    /* its opendir gives back all it took */
    heap_exact_nfds_at_start = heap_exact_fd_set(heap_exact_fds_at_start);
    heap_exact_bytes_at_start = heap_exact_bytes();
    heap_exact_bytes_checked = 1;
    return 0;
}

/* cmocka setup of a case whose heap is not checked: note its descriptors. */
static inline int heap_exact_begin_fds(void **state)
{
    heap_exact_begin(state);
    heap_exact_bytes_checked = 0;
    return 0;
}

/* cmocka teardown: fails (-1, with a message) when the case left heap
 * bytes in use, or the open descriptors differ from those before it: one
 * left open, one closed, or a number now referring to another file (so a
 * case that closes what it did not own and leaks another is caught, the
 * count being the same). */
static inline int heap_exact_end(void **state)
{
    static struct heap_exact_fd now[HEAP_EXACT_FDS_MAX];
    size_t bytes = heap_exact_bytes();
    int nfds = heap_exact_fd_set(now), differ;

    (void)state;
    if (nfds < 0 || heap_exact_nfds_at_start < 0) {
        fprintf(stderr, "heap_exact: /proc/self/fd cannot be read (or lists over %d): "
                "descriptors not checked\n", HEAP_EXACT_FDS_MAX);
        return -1;
    }
    if (!heap_exact_bytes_checked)
        bytes = heap_exact_bytes_at_start;
    differ = heap_exact_fd_diff(heap_exact_fds_at_start, heap_exact_nfds_at_start, now, nfds);
    if (bytes == heap_exact_bytes_at_start && !differ)
        return 0;
    fprintf(stderr, "heap_exact: the case left %lld heap bytes and %d descriptors more "
            "(%d differ)\n", (long long)bytes - (long long)heap_exact_bytes_at_start,
            nfds - heap_exact_nfds_at_start, differ);
    return -1;
}

#define heap_exact_test(f) cmocka_unit_test_setup_teardown(f, heap_exact_begin, heap_exact_end)
#define heap_exact_fds_test(f) \
    cmocka_unit_test_setup_teardown(f, heap_exact_begin_fds, heap_exact_end)

#endif
