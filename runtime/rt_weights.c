/* rt_weights.c: loads a model's weights file once and checks it belongs to the model. */
#include <stdio.h>

#include "onnxcc_rt.h"

int rt_weights_load(const char *path, void *buf, size_t size, uint64_t checksum)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "onnxcc runtime: cannot open weights file '%s'\n", path);
        return RT_EIO;
    }
    size_t got = fread(buf, 1, size, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    /* an empty blob is written as one byte so that it links */
    if (got != size || (extra && size != 0)) {
        fprintf(stderr, "onnxcc runtime: weights file '%s' has the wrong size (expected %lu "
                "bytes)\n", path, (unsigned long)size);
        return RT_EFORMAT;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = buf;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    if (h != checksum) {
        fprintf(stderr, "onnxcc runtime: weights file '%s' does not belong to this model "
                "(checksum mismatch)\n", path);
        return RT_EFORMAT;
    }
    return RT_OK;
}
