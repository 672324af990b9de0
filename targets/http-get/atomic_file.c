/* atomic_file.c - temp file + fsync + rename writer (see atomic_file.h). */
#define _GNU_SOURCE
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nr_net.h"

/* Directory part of path as a new string ("." when it has none). */
static char *dir_of(const char *path)
{
    char *copy = strdup(path), *d;

    if (!copy)
        return NULL;
    d = strdup(dirname(copy));
    free(copy);
    return d;
}

int hg_afile_open(struct hg_afile *a, const char *path, char *errbuf)
{
    char *dir = NULL, *base = NULL, *copy = NULL;
    mode_t mask;
    int rc = -1;

    a->fd = -1;
    a->tmp = NULL;
    a->path = strdup(path);
    dir = dir_of(path);
    copy = strdup(path);
    if (!a->path || !dir || !copy) {
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    base = basename(copy);
    if (asprintf(&a->tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
        a->tmp = NULL;
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    a->fd = mkostemp(a->tmp, O_CLOEXEC);
    if (a->fd < 0) {
        nr_seterr_errno(errbuf, errno, "cannot create a temp file in %s", dir);
        goto out;
    }
    mask = umask(0);
    umask(mask);
    if (fchmod(a->fd, 0666 & ~mask) < 0) {
        nr_seterr_errno(errbuf, errno, "chmod %s", a->tmp);
        goto out;
    }
    rc = 0;
out:
    free(dir);
    free(copy);
    if (rc < 0)
        hg_afile_abort(a);
    return rc;
}

int hg_afile_write(struct hg_afile *a, const uint8_t *p, size_t n, char *errbuf)
{
    int r = nr_write_all(a->fd, p, n, -1);

    if (r < 0)
        return nr_seterr_errno(errbuf, -r, "write %s", a->path);
    return 0;
}

int hg_afile_commit(struct hg_afile *a, char *errbuf)
{
    char *dir = dir_of(a->path);
    int dfd, rc = -1;

    if (fsync(a->fd) < 0) {
        nr_seterr_errno(errbuf, errno, "fsync %s", a->tmp);
        goto out;
    }
    if (close(a->fd) < 0) {
        a->fd = -1;
        nr_seterr_errno(errbuf, errno, "close %s", a->tmp);
        goto out;
    }
    a->fd = -1;
    if (rename(a->tmp, a->path) < 0) {
        nr_seterr_errno(errbuf, errno, "rename to %s", a->path);
        goto out;
    }
    free(a->tmp);
    a->tmp = NULL;
    dfd = -1;
    if (dir) /* NULL when out of memory: the directory is not synced */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(dir);
    hg_afile_abort(a);
    return rc;
}

void hg_afile_abort(struct hg_afile *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    if (a->tmp)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    a->tmp = NULL;
    a->path = NULL;
}
