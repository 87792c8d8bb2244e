/* fuzz_util.h: what the fuzz targets share: each input written as a file in a private folder. */
#ifndef ONNXCC_FUZZ_UTIL_H
#define ONNXCC_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static char fz_path[128];

static void fz_cleanup(void)
{
    if (fz_path[0])
        unlink(fz_path);
    if (fz_dir[0])
        rmdir(fz_dir);
}

/* The readers under test take paths. The folder is private (mkdtemp) and
 * holds only this file, so an input's external-data location can reach
 * nothing but the input itself. */
static const char *fz_file(const uint8_t *data, size_t size, const char *name)
{
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof fz_dir, "/tmp/onnxcc-fuzz-XXXXXX");
        if (!mkdtemp(fz_dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fz_cleanup);
    }
    snprintf(fz_path, sizeof fz_path, "%s/%s", fz_dir, name);
    FILE *f = fopen(fz_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(fz_path);
        abort();
    }
    return fz_path;
}

#endif
