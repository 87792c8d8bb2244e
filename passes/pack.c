/* pack.c: lays constant Conv, MatMul and Gemm weights out as the target's GEMM reads them. */
#include <string.h>

#include "passes.h"

/* Winograd's thresholds (see wino_worth) */
enum { WINO_MIN_CIN = 32, WINO_MIN_COUT = 32, WINO_MIN_TILES = 16 };

/* A Conv's weights are the GEMM's A (output channels x C/group * window):
 * the kernel streams them in panels of MR rows interleaved along K. Packing
 * per call costs a pass over all weights, as large as the product itself
 * for the late 7x7 layers (512 x 4608 weights for 49 columns). The layout
 * depends on the tile, hence on the target's ISA; the node records the
 * tile's rows (RT_CONV_PACK) and the kernel refuses any other. */

/* The float32 GEMM-path Conv whose weights can be packed: depthwise convs
 * (one input channel per group) take the direct kernels instead. */
static int packable(const Node *n)
{
    if (n->dead || (n->op != OP_CONV && n->op != OP_FUSED_CONV) || ir_node_is_constant(n))
        return 0;
    const Value *x = ir_input(n, 0), *w = ir_input(n, 1);
    if (!x || !w || !w->data || w->producer || x->dtype != RT_F32 || w->dtype != RT_F32)
        return 0;
    if (w->rank != x->rank || w->rank < 3 || n->n_ints <= RT_CONV_NSP)
        return 0;
    int nsp = (int)n->ints[RT_CONV_NSP];
    /* exactly the slots ir_infer_conv wrote: the pack slots come next */
    if (n->n_ints != RT_CONV_CLAMP(nsp) && n->n_ints != RT_CONV_CLAMP(nsp) + 1)
        return 0;
    return w->dims[1] > 1;
}

/* Winograd F(4x4, 3x3) (runtime/k_conv_wino.c) for a packable 3x3 stride-1
 * conv: its filters are transformed here, once, into the 36 A operands of
 * its GEMMs. It pays where the GEMMs are big enough to run near the
 * micro-kernel's peak and the transforms are cheap beside them: enough
 * channels on both sides and enough 4x4 tiles to fill the GEMM's columns
 * (bench/RESULTS.md, the 3x3 layers of resnet18, densenet121 and
 * squeezenet1_1, measured against the direct conv). */
static int wino_worth(const Node *n, int nr)
{
    const Value *w = n->in[1], *y = n->out[0];
    if (w->rank != 4 || (int)n->ints[RT_CONV_NSP] != 2 || n->ints[RT_CONV_GROUP] != 1 ||
        w->dims[2] != 3 || w->dims[3] != 3 || y->rank != 4)
        return 0;
    for (int i = 0; i < 2; i++)
        if (n->ints[RT_CONV_STRIDES + i] != 1 || n->ints[RT_CONV_DIL(2) + i] != 1)
            return 0;
    int64_t cout = w->dims[0], cin = w->dims[1], tiles = (y->dims[2] + 3) / 4 * ((y->dims[3] + 3) / 4);
    return rt_wino_fits(cin, y->dims[3], nr) && cin >= WINO_MIN_CIN && cout >= WINO_MIN_COUT &&
           tiles >= WINO_MIN_TILES;
}

static int pack_wino(Graph *g, Node *n, int mr)
{
    const Value *w = n->in[1];
    int64_t cout = w->dims[0], cin = w->dims[1], mp = (cout + mr - 1) / mr * mr;
    Value *p = ir_value_new(g, NULL);
    p->dtype = RT_F32;
    p->rank = 4;
    p->dims[0] = 4 * mp; /* 36 = 4 * 9 components per filter: see k_nn.h */
    p->dims[1] = cin;
    p->dims[2] = p->dims[3] = 3;
    float *dst = ir_value_alloc_data(g, p);
    IR_ASSERT(dst);
    rt_wino_pack(cout, cin, w->data, mr, dst);
    ir_set_input(g, n, 1, p);
    if (n->n_ints == RT_CONV_CLAMP(2))
        ir_param_int(n, RT_CONV_CLAMP(2), RT_EPI_NONE);
    ir_param_int(n, RT_CONV_PACK(2), mr);
    ir_param_int(n, RT_CONV_PACK_T(2), 0);
    ir_param_int(n, RT_CONV_WINO(2), RT_WINO_M);
    return 1;
}

/* A MatMul or Gemm whose B is a constant float32 matrix (a Linear layer's
 * weights): B becomes panels of NR columns over the whole K, so the GEMM
 * reads it in place and packs A only once per call (with B packed per call,
 * A is repacked for every NC-wide block of columns: 32 times for ViT's MLP).
 * Few columns are left plain: the panels would be mostly padding. */
static int packable_mm(const Node *n, int nr)
{
    if (n->dead || (n->op != OP_MATMUL && n->op != OP_GEMM) || ir_node_is_constant(n))
        return 0;
    const Value *a = ir_input(n, 0), *b = ir_input(n, 1);
    if (!a || !b || !b->data || b->producer || a->dtype != RT_F32 || b->dtype != RT_F32 ||
        b->rank != 2 || a->rank < 1 || b->dims[0] < 1 || b->dims[1] < 1)
        return 0;
    int64_t cols = b->dims[1];
    if (n->op == OP_GEMM) {
        if (n->n_ints != RT_GEMM_NINTS)
            return 0;
        cols = n->ints[RT_GEMM_TRANS_B] ? b->dims[0] : b->dims[1];
    } else if (n->n_ints != 0) {
        return 0;
    }
    return cols >= nr / 2;
}

static int pack_mm(Graph *g, Node *n, int nr)
{
    const Value *b = n->in[1];
    int trans = n->op == OP_GEMM && n->ints[RT_GEMM_TRANS_B];
    int64_t kk = trans ? b->dims[1] : b->dims[0], cols = trans ? b->dims[0] : b->dims[1];
    Value *p = ir_value_new(g, NULL);
    p->dtype = RT_F32;
    p->rank = 2;
    p->dims[0] = kk;
    p->dims[1] = (cols + nr - 1) / nr * nr;
    float *dst = ir_value_alloc_data(g, p);
    IR_ASSERT(dst);
    rt_gemm_pack_b(kk, cols, b->data, b->dims[1], trans, nr, dst);
    ir_set_input(g, n, 1, p);
    if (n->op == OP_GEMM) {
        n->ints[RT_GEMM_TRANS_B] = 0; /* the panels hold B, whatever its layout was */
        ir_param_int(n, RT_GEMM_PACK, nr);
    } else {
        ir_param_int(n, RT_MATMUL_PACK, nr);
    }
    return 1;
}

/* pass_pack: requires pass_shape and pass_fold (weights folded to constants);
 * runs only when code is emitted for a target (ctx->gemm_mr set). */
int pass_pack(Graph *g, PassCtx *ctx)
{
    int mr = ctx->gemm_mr, nr = ctx->gemm_nr, changes = 0;
    if (mr <= 0 || nr <= 0)
        return 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (packable_mm(n, nr))
            changes += pack_mm(g, n, nr);
        if (!packable(n))
            continue;
        if (wino_worth(n, nr)) {
            changes += pack_wino(g, n, mr);
            continue;
        }
        const Value *w = n->in[1];
        int64_t groups = n->ints[RT_CONV_GROUP], kdim = 1;
        for (int i = 1; i < w->rank; i++)
            kdim *= w->dims[i];
        int64_t cout = w->dims[0] / groups, so = 1;
        for (int i = 2; i < n->out[0]->rank; i++)
            so *= n->out[0]->dims[i];
        /* the orientation rt_conv would choose unpacked (transposed only
         * for maps of a few pixels), made explicit */
        int tr = rt_gemm_prefer_t(cout, so, nr), tile = tr ? nr : mr;
        int64_t mp = (cout + tile - 1) / tile * tile;
        Value *p = ir_value_new(g, NULL);
        p->dtype = RT_F32;
        p->rank = w->rank;
        memcpy(p->dims, w->dims, sizeof p->dims);
        p->dims[0] = groups * mp;
        float *dst = ir_value_alloc_data(g, p);
        IR_ASSERT(dst);
        const float *src = w->data;
        for (int64_t gr = 0; gr < groups; gr++) {
            if (tr)
                rt_gemm_pack_b(kdim, cout, src + gr * cout * kdim, kdim, 1, nr,
                               dst + gr * mp * kdim);
            else
                rt_gemm_pack_a(cout, kdim, src + gr * cout * kdim, kdim, 0, mr,
                               dst + gr * mp * kdim);
        }
        ir_set_input(g, n, 1, p);
        int nsp = (int)n->ints[RT_CONV_NSP];
        if (n->n_ints == RT_CONV_CLAMP(nsp))
            ir_param_int(n, RT_CONV_CLAMP(nsp), RT_EPI_NONE);
        ir_param_int(n, RT_CONV_PACK(nsp), tile);
        ir_param_int(n, RT_CONV_PACK_T(nsp), tr);
        changes++;
    }
    return changes;
}
