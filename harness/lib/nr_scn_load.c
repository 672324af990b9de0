/* nr_scn_load.c - read a scenario file (and the files it includes) and parse it. */
#include "nr_scn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nr_err.h"

int nr_scn_read_file(const char *path, uint8_t **out, size_t *outlen, char *errbuf)
{
    uint8_t *buf = NULL, *nb;
    size_t len = 0, cap = 0;
    ssize_t r;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nr_seterr_errno(errbuf, errno, "%s: cannot open", path);
    for (;;) {
        if (len == cap) {
            if (cap > NR_SCN_FILE_MAX) {
                nr_seterr(errbuf, "%s: larger than %u bytes", path, NR_SCN_FILE_MAX);
                goto out;
            }
            cap = cap ? cap * 2 : 4096;
            if (cap > NR_SCN_FILE_MAX) /* one byte past the limit shows a larger file */
                cap = NR_SCN_FILE_MAX + 1;
            nb = realloc(buf, cap);
            if (!nb) {
                nr_seterr(errbuf, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            nr_seterr_errno(errbuf, errno, "%s: cannot read", path);
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

int nr_scn_load(const char *path, struct nr_scn *out, char *errbuf)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (nr_scn_read_file(path, &buf, &len, errbuf) < 0)
        return -1;
    rc = nr_scn_parse_with(buf, len, path, nr_scn_read_file, out, errbuf);
    free(buf);
    return rc;
}
