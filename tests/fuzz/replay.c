/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on every file of some folders, without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order (so a failure is
 * reproducible); returns how many, -1 if dir cannot be read. */
static int replay_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, (size_t)cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp);
    int done = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        unsigned char *buf = NULL;
        size_t len = 0, cap2 = 0;
        if (f) {
            for (;;) {
                if (len == cap2) {
                    cap2 = cap2 ? cap2 * 2 : 4096;
                    buf = realloc(buf, cap2);
                    if (!buf)
                        abort();
                }
                size_t got = fread(buf + len, 1, cap2 - len, f);
                if (!got)
                    break;
                len += got;
            }
            fclose(f);
            /* a name printed before the call points at the input that crashed */
            fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
            LLVMFuzzerTestOneInput(buf ? buf : (unsigned char *)"", len);
            done++;
        }
        free(buf);
        free(names[i]);
    }
    free(names);
    return done;
}

/* replay REGRESSIONS_DIR [SEED_DIR...]: the regression folder may be empty or
 * missing (no crash found yet); then the seeds are all there is to replay. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s REGRESSIONS_DIR [SEED_DIR...]\n", argv[0]);
        return 2;
    }
    int regress = replay_dir(argv[1]);
    int seeds = 0;
    for (int i = 2; i < argc; i++) {
        int k = replay_dir(argv[i]);
        if (k < 0) {
            fprintf(stderr, "%s: cannot read seed folder %s\n", argv[0], argv[i]);
            return 1;
        }
        seeds += k;
    }
    if (regress <= 0)
        printf("%s: no regression inputs in %s; replayed %d seed files only\n", argv[0],
               argv[1], seeds);
    else
        printf("%s: replayed %d regression inputs and %d seed files\n", argv[0], regress,
               seeds);
    return 0;
}
