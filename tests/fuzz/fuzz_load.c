/* fuzz_load.c: libFuzzer target for the ONNX loader (onnx_load_buffer) on raw bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Diag d = {0};
    d.file = "fuzz.onnx";
    /* no path: external data is refused, so this target stays in memory */
    Graph *g = onnx_load_buffer(data, size, NULL, &d);
    if (g) {
        /* a graph the loader accepted must be well formed; if not, that is
         * the loader's bug, not the input's */
        Diag v = {0};
        if (ir_verify(g, &v) < 0) {
            fprintf(stderr, "fuzz_load: loaded graph fails ir_verify: %s\n", v.msg);
            abort();
        }
    }
    ir_graph_free(g);
    return 0;
}
