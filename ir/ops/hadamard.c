/* hadamard.c: shape and parameter of onnxcc.Hadamard, the blockwise Walsh-Hadamard rotation of a float tensor's last axis. */
#include "ir.h"

/* Hadamard, made by passes/wq_rotate.c: input X (float32, rank >= 1),
 * attribute block (a power of two >= 2 dividing X's last axis); Y has X's
 * shape (runtime/k_hadamard.h). */
int ir_infer_hadamard(Graph *g, Node *n, Diag *d)
{
    (void)g;
    const Value *x = ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "input 0 is required");
    if (x->dtype != RT_F32)
        return ir_node_error(d, n, "input type %s is not supported (float32)",
                             rt_dtype_name(x->dtype));
    int64_t block = ir_attr_int(n, "block", 0);
    if (x->rank < 1 || block < 2 || block > 1 << 20 || (block & (block - 1)) ||
        x->dims[x->rank - 1] % block)
        return ir_node_error(d, n, "block %lld must be a power of two >= 2 dividing the last "
                             "axis", (long long)block);
    ir_param_int(n, RT_HADAMARD_BLOCK, block);
    return ir_set_out(n, 0, RT_F32, x->rank, x->dims);
}
