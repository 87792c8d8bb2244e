/* limits.c: the bounds onnxcc puts on what a model may ask for, their defaults and --limit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Each default is far above any real model (the largest single weights of
 * today's open models are well under 4 GiB; a whole 7B-parameter model in
 * float16 is ~14 GiB) and far below what would hurt the machine compiling
 * it. A hostile model hits one of these with a one-line error instead of
 * making onnxcc allocate, or a generated binary reserve, terabytes. */
static const struct {
    const char *name;
    int64_t def, max;            /* max: what onnxcc's own types can hold */
    const char *what;
} table[LIM_COUNT] = {
    [LIM_MODEL_BYTES] = {"model-bytes", (int64_t)4 << 30, (int64_t)1 << 40,
                         "size of the .onnx file"},
    [LIM_TENSOR_BYTES] = {"tensor-bytes", (int64_t)4 << 30, (int64_t)1 << 46,
                          "bytes of one tensor (inputs, constants, intermediates)"},
    [LIM_TENSOR_ELEMS] = {"tensor-elems", (int64_t)1 << 32, (int64_t)1 << 46,
                          "elements of one tensor"},
    [LIM_RANK] = {"rank", IR_MAX_RANK, IR_MAX_RANK, "dimensions of one tensor (at most 8)"},
    [LIM_NODES] = {"nodes", (int64_t)1 << 20, (int64_t)1 << 28,
                   "nodes of the graph, after unrolling loops"},
    [LIM_DEPTH] = {"depth", 16, 30, "subgraphs (If, Loop, Scan bodies) nested in each other"},
    [LIM_ARENA_BYTES] = {"arena-bytes", (int64_t)16 << 30, (int64_t)1 << 46,
                         "scratch memory one run of the generated code needs"},
    [LIM_WEIGHT_BYTES] = {"weight-bytes", (int64_t)16 << 30, (int64_t)1 << 46,
                          "all constants of the model together"},
    [LIM_LOOP_ITERS] = {"loop-iters", 4096, (int64_t)1 << 32,
                        "iterations of a Loop that runs at run time (also --loop-max)"},
    /* Expand, Tile, ConstantOfShape, Range, ... with their deciding value
     * read when the model runs: nothing bounds their output but this */
    [LIM_RT_ELEMS] = {"max-elements", 65536, (int64_t)1 << 40,
                      "elements of a tensor grown by values read at run time (--max-elements)"},
};

void ir_limits_default(IrLimits *l)
{
    for (int i = 0; i < LIM_COUNT; i++)
        l->v[i] = table[i].def;
}

const char *ir_limit_name(int which)
{
    return table[which].name;
}

int ir_limit_parse(IrLimits *l, const char *arg, char *err, size_t err_len)
{
    const char *eq = strchr(arg, '=');
    for (int i = 0; eq && i < LIM_COUNT; i++) {
        if (strlen(table[i].name) != (size_t)(eq - arg) ||
            strncmp(table[i].name, arg, (size_t)(eq - arg)))
            continue;
        char *end;
        errno = 0;
        long long v = strtoll(eq + 1, &end, 10);
        if (!eq[1] || *end || errno || v < 1 || v > table[i].max) {
            snprintf(err, err_len, "bad --limit '%s' (%s takes 1 .. %lld)", arg, table[i].name,
                     (long long)table[i].max);
            return -1;
        }
        l->v[i] = v;
        return 0;
    }
    snprintf(err, err_len, "bad --limit '%s' (expected NAME=N, NAME one of model-bytes, "
             "tensor-bytes, tensor-elems, rank, nodes, depth, arena-bytes, weight-bytes, "
             "loop-iters, max-elements)", arg);
    return -1;
}

void ir_limits_help(FILE *f)
{
    for (int i = 0; i < LIM_COUNT; i++)
        fprintf(f, "  %-14s %-14lld %s\n", table[i].name, (long long)table[i].def,
                table[i].what);
}

int ir_numel_checked(int rank, const int64_t *dims, int64_t *out)
{
    int64_t n = 1;
    int zero = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return -1;
        zero |= dims[i] == 0;
    }
    if (zero) {
        *out = 0;
        return 0;
    }
    for (int i = 0; i < rank; i++) {
        if (n > INT64_MAX / dims[i])
            return -1;
        n *= dims[i];
    }
    *out = n;
    return 0;
}

int ir_bytes_checked(int64_t numel, size_t esize, int64_t *out)
{
    if (numel < 0 || (esize && numel > INT64_MAX / (int64_t)esize))
        return -1;
    *out = numel * (int64_t)esize;
    return 0;
}

int ir_dtype_bytes_checked(int dtype, int64_t numel, int64_t *out)
{
    int bits = rt_dtype_bits(dtype);
    if (bits >= 8 || bits == 0)
        return ir_bytes_checked(numel, (size_t)bits / 8, out);
    /* packed: ceil(numel * bits / 8), as ONNX stores 4- and 2-bit tensors */
    if (numel < 0 || numel > INT64_MAX - 7)
        return -1;
    *out = numel / (8 / bits) + (numel % (8 / bits) != 0);
    return 0;
}

int ir_check_tensor(const IrLimits *l, int dtype, int rank, const int64_t *dims, char *why,
                    size_t why_len)
{
    int64_t n, b;
    if (rank > l->v[LIM_RANK]) {
        snprintf(why, why_len, "has rank %d, above the limit of %lld%s", rank,
                 (long long)l->v[LIM_RANK],
                 l->v[LIM_RANK] < IR_MAX_RANK ? " (--limit rank=N raises it)" : "");
        return -1;
    }
    if (ir_numel_checked(rank, dims, &n) || ir_dtype_bytes_checked(dtype, n, &b)) {
        snprintf(why, why_len, "would have more than 2^63 bytes, above the limit of %lld "
                 "(--limit tensor-bytes=N raises it)", (long long)l->v[LIM_TENSOR_BYTES]);
        return -1;
    }
    if (b > l->v[LIM_TENSOR_BYTES]) {
        snprintf(why, why_len, "would take %lld bytes, above the limit of %lld "
                 "(--limit tensor-bytes=N raises it)", (long long)b,
                 (long long)l->v[LIM_TENSOR_BYTES]);
        return -1;
    }
    if (n > l->v[LIM_TENSOR_ELEMS]) {
        snprintf(why, why_len, "would have %lld elements, above the limit of %lld "
                 "(--limit tensor-elems=N raises it)", (long long)n,
                 (long long)l->v[LIM_TENSOR_ELEMS]);
        return -1;
    }
    return 0;
}
