/* atomic_file.h - write a file so that it appears complete or not at all:
 * a temp file in the target's directory, fsync, rename over the target,
 * fsync of the directory.  Aborting unlinks the temp file. */
#ifndef HG_ATOMIC_FILE_H
#define HG_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "nr_err.h"

struct hg_afile {
    int fd;          /* temp file, -1 when none is open */
    char *path;      /* final path (owned copy) */
    char *tmp;       /* temp path "DIR/.NAME.XXXXXX" (owned) */
};

/* Create the temp file for path (mode 0666 less umask, like a plain
 * creat).  Returns 0, or -1 with errbuf set and nothing left on disk. */
int hg_afile_open(struct hg_afile *a, const char *path, char *errbuf);

/* Append n bytes.  Returns 0, or -1 with errbuf set (the file stays open:
 * call hg_afile_abort). */
int hg_afile_write(struct hg_afile *a, const uint8_t *p, size_t n, char *errbuf);

/* fsync, close and rename the temp file onto the final path, then fsync the
 * directory.  Returns 0, or -1 with errbuf set after removing the temp file.
 * Frees the paths either way. */
int hg_afile_commit(struct hg_afile *a, char *errbuf);

/* Close and unlink the temp file and free the paths; safe to call after a
 * commit or twice. */
void hg_afile_abort(struct hg_afile *a);

#endif
