/* driver.h: what every command does first: load a model, bind its inputs, run the passes. */
#ifndef ONNXCC_DRIVER_H
#define ONNXCC_DRIVER_H

#include "ir/ir.h"
#include "passes/passes.h"

/* A sample input file: its shape binds the input's free dims, and if the
 * input decides an output shape, its value is compiled in. name NULL: the
 * next graph input not named by another sample. */
typedef struct Sample {
    const char *name;
    const char *file;
    int compiled_in;             /* out: the value became a constant of the model */
    int input_index;             /* out: its input group (ir_io_group) */
} Sample;

/* Loads path, applies bindings and samples, runs the -O pipeline. NULL with
 * a diagnostic on failure. */
Graph *drv_prepare(const char *path, const Binding *b, int nb, Sample *s, int ns, int opt_level,
                   PassCtx *ctx);

#endif
