/* replay_main.c - the plain replay program around a LLVMFuzzerTestOneInput
 * harness: no fuzzer, just run the given inputs once each.
 *
 *   replay-NAME [FILE|DIR]...   run each file, and each regular file of each
 *                               directory (sorted by name; entries starting
 *                               with '.', named README* or ending in .stack
 *                               are skipped); no argument: one input on stdin
 *
 * Exits 0 when every input ran, 2 when an input could not be read; a bug in
 * the code under test aborts (ASan/UBSan report, non-zero status). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX (16u << 20) /* largest input read, bytes */

/* Read all of fd (at most REPLAY_MAX bytes) into a malloc'd buffer the caller
 * frees.  Returns 0 and sets *out and *len, or -1. */
static int slurp(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap), *nb;
    ssize_t r;

    if (!buf)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap >= REPLAY_MAX)
                break;
            cap *= 2;
            nb = realloc(buf, cap);
            if (!nb)
                goto fail;
            buf = nb;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    return -1;
}

/* Run one input from fd (name for messages). Returns 0 or -1. */
static int run_fd(int fd, const char *name)
{
    uint8_t *buf;
    size_t len;

    if (slurp(fd, &buf, &len) < 0) {
        fprintf(stderr, "replay: %s: %s\n", name, strerror(errno));
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", name, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    int r;

    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    r = run_fd(fileno(f), path);
    fclose(f);
    return r;
}

/* Whether a directory entry is an input rather than metadata. */
static int is_input_name(const char *n)
{
    size_t l = strlen(n);

    if (n[0] == '.' || strncmp(n, "README", 6) == 0)
        return 0;
    return !(l >= 6 && strcmp(n + l - 6, ".stack") == 0);
}

static int run_dir(const char *dir, int *count)
{
    struct dirent **ents;
    char path[4096];
    struct stat st;
    int n, bad = 0;

    n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (is_input_name(ents[i]->d_name) &&
            snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof(path) &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) < 0)
                bad = 1;
            else
                (*count)++;
        }
        free(ents[i]);
    }
    free(ents);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct stat st;
    int count = 0, bad = 0;

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        if (run_fd(STDIN_FILENO, "<stdin>") < 0)
            return 2;
        count = 1;
    }
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) < 0)
                bad = 1;
        } else if (run_file(argv[i]) < 0) {
            bad = 1;
        } else {
            count++;
        }
    }
    fprintf(stderr, "replay: %d input%s run\n", count, count == 1 ? "" : "s");
    return bad ? 2 : 0;
}
