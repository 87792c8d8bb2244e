/* quant.c: shapes and parameters of the quantization ops (QuantizeLinear, QLinearConv, ...). */
#include <math.h>
#include <string.h>

#include "ir.h"

static int need(Diag *d, const Node *n, int i)
{
    if (i >= n->n_in || !n->in[i])
        return ir_node_error(d, n, "input %d is required", i);
    return 0;
}

static int is_q8(int dt)
{
    return dt == RT_U8 || dt == RT_I8;
}

/* The first opset at which (De)QuantizeLinear takes dtype as its quantized
 * type; 0 if never. */
static int q_type_since(int dt)
{
    switch (dt) {
    case RT_U8: case RT_I8: return 10;
    case RT_F8E4M3FN: case RT_F8E4M3FNUZ: case RT_F8E5M2: case RT_F8E5M2FNUZ: return 19;
    case RT_U16: case RT_I16: case RT_U4: case RT_I4: return 21;
    case RT_F4E2M1: return 23;
    case RT_U2: case RT_I2: return 25;
    default: return 0;
    }
}

/* A scale or zero point holds one value (per-tensor), one per index of axis
 * `axis` of x (per-axis, opset 13), or with block_size > 0 (opset 21) x's
 * shape with that axis divided by the block size, rounded up. */
static int check_axis_param(Diag *d, const Node *n, const Value *x, const Value *p,
                            const char *what, int *axis, int64_t block)
{
    int64_t np = ir_numel(p);
    if (block > 0) {
        if (p->rank != x->rank)
            return ir_node_error(d, n, "blocked %s must have the input's rank %d, not %d", what,
                                 x->rank, p->rank);
        for (int k = 0; k < x->rank; k++) {
            int64_t want = k == *axis ? (x->dims[k] + block - 1) / block : x->dims[k];
            if (p->dims[k] != want)
                return ir_node_error(d, n, "blocked %s has extent %lld along axis %d, expected "
                                     "%lld (block_size %lld)", what, (long long)p->dims[k], k,
                                     (long long)want, (long long)block);
        }
        return 0;
    }
    if (np == 1 && p->rank <= 1)
        return 0;
    if (n->opset < 13)
        return ir_node_error(d, n, "%s must be a scalar before opset 13", what);
    if (p->rank != 1 || np != x->dims[*axis])
        return ir_node_error(d, n, "%s has shape of %lld elements (rank %d), axis %d has %lld",
                             what, (long long)np, p->rank, *axis, (long long)x->dims[*axis]);
    return 0;
}

/* axis and block_size, the parts both ops share. */
static int q_layout(Diag *d, Node *n, const Value *x, int *axis, int64_t *block)
{
    int64_t a = n->opset >= 13 ? ir_attr_int(n, "axis", 1) : 1;
    *block = n->opset >= 21 ? ir_attr_int(n, "block_size", 0) : 0;
    if (*block < 0)
        return ir_node_error(d, n, "block_size %lld is negative", (long long)*block);
    *axis = ir_axis(a, x->rank);
    if (*axis < 0 && (*block > 0 || ir_numel(n->in[1]) > 1))
        return ir_node_error(d, n, "axis %lld is out of range for rank %d", (long long)a,
                             x->rank);
    if (*axis < 0)
        *axis = 0;
    return 0;
}

int ir_infer_quantize_linear(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *x = n->in[0], *s = n->in[1], *z = ir_input(n, 2);
    if (!rt_is_float(x->dtype) || !rt_is_float(s->dtype))
        return ir_node_error(d, n, "input and scale must be float, not %s and %s",
                             rt_dtype_name(x->dtype), rt_dtype_name(s->dtype));
    int64_t odt = n->opset >= 21 ? ir_attr_int(n, "output_dtype", 0) : 0;
    if (z && odt && odt != z->dtype)
        return ir_node_error(d, n, "output_dtype %lld differs from the zero point's type %s",
                             (long long)odt, rt_dtype_name(z->dtype));
    int ydt = z ? z->dtype : odt ? (int)odt : RT_U8, axis;
    int since = ydt > 0 && ydt < RT_DTYPE_END ? q_type_since(ydt) : 0;
    if (!since || n->opset < since)
        return ir_node_error(d, n, "output type %s is not supported at opset %lld",
                             ydt > 0 && ydt < RT_DTYPE_END ? rt_dtype_name(ydt) : "(invalid)",
                             (long long)n->opset);
    int64_t block;
    if (q_layout(d, n, x, &axis, &block) || check_axis_param(d, n, x, s, "scale", &axis, block) ||
        (z && check_axis_param(d, n, x, z, "zero point", &axis, block)))
        return -1;
    if (z && ir_numel(z) != ir_numel(s))
        return ir_node_error(d, n, "zero point and scale differ in shape");
    /* precision (opset 23): the type x / scale is computed in */
    int64_t prec = n->opset >= 23 ? ir_attr_int(n, "precision", 0) : 0;
    if (prec == RT_F32)
        prec = 0;
    if (prec && prec != RT_F16 && prec != RT_BF16 && prec != RT_F64)
        return ir_node_error(d, n, "precision %lld is not supported (float, float16, "
                             "bfloat16, double)", (long long)prec);
    ir_param_int(n, RT_QUANT_AXIS, axis);
    ir_param_int(n, RT_QUANT_BLOCK, block);
    ir_param_int(n, RT_QUANT_SATURATE, n->opset >= 19 ? ir_attr_int(n, "saturate", 1) != 0 : 1);
    ir_param_int(n, RT_QUANT_PRECISION, prec);
    return ir_set_out(n, 0, ydt, x->rank, x->dims);
}

int ir_infer_dequantize_linear(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *x = n->in[0], *s = n->in[1], *z = ir_input(n, 2);
    int axis, since = x->dtype == RT_I32 ? 10 : q_type_since(x->dtype);
    if (!since || n->opset < since)
        return ir_node_error(d, n, "input type %s is not supported at opset %lld",
                             rt_dtype_name(x->dtype), (long long)n->opset);
    if (!rt_is_float(s->dtype))
        return ir_node_error(d, n, "scale must be float, not %s", rt_dtype_name(s->dtype));
    if (z && z->dtype != x->dtype)
        return ir_node_error(d, n, "zero point type %s differs from input type %s",
                             rt_dtype_name(z->dtype), rt_dtype_name(x->dtype));
    int64_t block;
    if (q_layout(d, n, x, &axis, &block) || check_axis_param(d, n, x, s, "scale", &axis, block) ||
        (z && check_axis_param(d, n, x, z, "zero point", &axis, block)))
        return -1;
    if (z && ir_numel(z) != ir_numel(s))
        return ir_node_error(d, n, "zero point and scale differ in shape");
    /* a float8/float4 zero point must be 0: the kernel ignores it */
    if (z && rt_is_narrow_float(x->dtype) && z->data)
        for (int64_t i = 0; i < ir_numel(z); i++)
            if (rt_load_f64(z->data, z->dtype, i) != 0)
                return ir_node_error(d, n, "a %s zero point must be 0", rt_dtype_name(z->dtype));
    int64_t ydt = n->opset >= 23 ? ir_attr_int(n, "output_dtype", 0) : 0;
    if (!ydt)
        ydt = s->dtype;
    if (ydt < 0 || ydt >= RT_DTYPE_END || !rt_is_float((int)ydt))
        return ir_node_error(d, n, "output_dtype %lld is not a float type", (long long)ydt);
    ir_param_int(n, RT_QUANT_AXIS, axis);
    ir_param_int(n, RT_QUANT_BLOCK, block);
    ir_param_int(n, RT_QUANT_SATURATE, 1);
    ir_param_int(n, RT_QUANT_PRECISION, 0);
    return ir_set_out(n, 0, (int)ydt, x->rank, x->dims);
}

int ir_infer_dynamic_quantize_linear(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (x->dtype != RT_F32)
        return ir_node_error(d, n, "input must be float32, not %s", rt_dtype_name(x->dtype));
    ir_set_out(n, 0, RT_U8, x->rank, x->dims);
    ir_set_out(n, 1, RT_F32, 0, NULL);
    return ir_set_out(n, 2, RT_U8, 0, NULL);
}

/* A zero point or scale of a matrix operand: one value, or one per row (A) / column (B). */
static int check_mm_param(Diag *d, const Node *n, const Value *p, int64_t len, const char *what)
{
    if (!p)
        return 0;
    int64_t np = ir_numel(p);
    if (np != 1 && np != len)
        return ir_node_error(d, n, "%s has %lld elements; need 1 or %lld", what,
                             (long long)np, (long long)len);
    return 0;
}

/* MatMul's shape rules (numpy.matmul) and the batch walk of rt_matmul_integer. */
static int mm_shape(Diag *d, Node *n, const Value *a, const Value *b, int ydt)
{
    if (!is_q8(a->dtype) || !is_q8(b->dtype))
        return ir_node_error(d, n, "operand types %s and %s are not supported (uint8, int8)",
                             rt_dtype_name(a->dtype), rt_dtype_name(b->dtype));
    if (a->rank < 1 || b->rank < 1)
        return ir_node_error(d, n, "operands must have rank >= 1");
    int64_t ad[IR_MAX_RANK + 1], bd[IR_MAX_RANK + 1];
    int ar = a->rank, br = b->rank;
    memcpy(ad, a->dims, sizeof(int64_t) * ar);
    memcpy(bd, b->dims, sizeof(int64_t) * br);
    if (ar == 1) {
        ad[1] = ad[0];
        ad[0] = 1;
        ar = 2;
    }
    if (br == 1) {
        bd[1] = 1;
        br = 2;
    }
    int64_t M = ad[ar - 2], K = ad[ar - 1], N = bd[br - 1];
    if (bd[br - 2] != K)
        return ir_node_error(d, n, "inner dimensions differ: %lld and %lld", (long long)K,
                             (long long)bd[br - 2]);
    int nb;
    int64_t bdim[IR_MAX_RANK];
    if (ir_broadcast(ar - 2, ad, br - 2, bd, &nb, bdim) < 0)
        return ir_node_error(d, n, "batch dimensions do not broadcast");
    if (nb + 2 > IR_MAX_RANK)
        return ir_node_error(d, n, "output rank is too large");
    ir_param_int(n, RT_MATMUL_INT_M, M);
    ir_param_int(n, RT_MATMUL_INT_K, K);
    ir_param_int(n, RT_MATMUL_INT_N, N);
    ir_param_int(n, RT_MATMUL_INT_NB, nb);
    ir_param_ints(n, RT_MATMUL_INT_BDIMS, bdim, nb);
    for (int pass = 0; pass < 2; pass++) {
        const int64_t *dd = pass ? bd : ad;
        int r = (pass ? br : ar) - 2;
        int64_t str = M * K;
        if (pass)
            str = K * N;
        int64_t s[IR_MAX_RANK];
        for (int k = nb - 1; k >= 0; k--) {
            int j = k - (nb - r);
            if (j < 0 || dd[j] == 1) {
                s[k] = 0;
            } else {
                s[k] = str;
                str *= dd[j];
            }
        }
        ir_param_ints(n, pass ? RT_MATMUL_INT_BSTR(nb) : RT_MATMUL_INT_ASTR(nb), s, nb);
    }
    int64_t od[IR_MAX_RANK];
    int orank = nb;
    memcpy(od, bdim, sizeof(int64_t) * nb);
    if (a->rank > 1)
        od[orank++] = M;
    if (b->rank > 1)
        od[orank++] = N;
    if (check_mm_param(d, n, ir_input(n, 2), M, "a's zero point"))
        return -1;
    return ir_set_out(n, 0, ydt, orank, od);
}

int ir_infer_matmul_integer(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (mm_shape(d, n, a, b, RT_I32))
        return -1;
    if (check_mm_param(d, n, ir_input(n, 3), n->ints[RT_MATMUL_INT_N], "b's zero point"))
        return -1;
    return 0;
}

int ir_infer_qlinear_matmul(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 8; i++)
        if (i != 7 && need(d, n, i))
            return -1;
    const Value *yz = ir_input(n, 7);
    int ydt = yz ? yz->dtype : RT_U8;
    if (!is_q8(ydt))
        return ir_node_error(d, n, "output type %s is not supported (uint8, int8)",
                             rt_dtype_name(ydt));
    if (mm_shape(d, n, n->in[0], n->in[3], ydt))
        return -1;
    int64_t M = n->ints[RT_MATMUL_INT_M], N = n->ints[RT_MATMUL_INT_N];
    if (check_mm_param(d, n, n->in[1], M, "a's scale") ||
        check_mm_param(d, n, n->in[4], N, "b's scale") ||
        check_mm_param(d, n, n->in[5], N, "b's zero point") ||
        check_mm_param(d, n, n->in[6], 1, "y's scale") ||
        check_mm_param(d, n, yz, 1, "y's zero point"))
        return -1;
    return 0;
}

/* 2-D convolution shape: attributes per the ONNX Conv spec; the weight is
 * M x wc x kh x kw (QConv's packed weights state it through kernel_shape). */
static int conv_geom(Diag *d, Node *n, const Value *x, int64_t M, int64_t wc, int64_t kh,
                     int64_t kw, int ydt)
{
    int64_t group = ir_attr_int(n, "group", 1);
    if (group < 1 || M % group || x->dims[1] != wc * group)
        return ir_node_error(d, n, "channels do not match: input %lld, weight %lldx%lld, "
                             "group %lld", (long long)x->dims[1], (long long)M,
                             (long long)wc, (long long)group);
    int64_t ks[2] = {kh, kw}, st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    int nk = ir_attr_ints(n, "kernel_shape", ks, 2);
    if (nk >= 0 && (nk != 2 || ks[0] != kh || ks[1] != kw))
        return ir_node_error(d, n, "kernel_shape does not match the weight");
    if (ir_attr_ints(n, "strides", st, 2) > 2 || ir_attr_ints(n, "dilations", dl, 2) > 2)
        return ir_node_error(d, n, "strides/dilations need 2 values");
    int np = ir_attr_ints(n, "pads", pads, 4);
    if (np >= 0 && np != 4)
        return ir_node_error(d, n, "pads needs 4 values, got %d", np);
    if (st[0] < 1 || st[1] < 1 || dl[0] < 1 || dl[1] < 1)
        return ir_node_error(d, n, "strides and dilations must be positive");
    const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
    int64_t od[4] = {x->dims[0], M, 0, 0};
    for (int k = 0; k < 2; k++) {
        int64_t in = x->dims[2 + k], ext = (ks[k] - 1) * dl[k] + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t o = (in + st[k] - 1) / st[k];
            int64_t tot = (o - 1) * st[k] + ext - in;
            tot = tot < 0 ? 0 : tot;
            pads[k] = ap[5] == 'U' ? tot / 2 : tot - tot / 2;
            pads[k + 2] = tot - pads[k];
        } else if (!strcmp(ap, "VALID")) {
            pads[k] = pads[k + 2] = 0;
        } else if (strcmp(ap, "NOTSET")) {
            return ir_node_error(d, n, "auto_pad '%s' is not supported", ap);
        }
        od[2 + k] = (in + pads[k] + pads[k + 2] - ext) / st[k] + 1;
        if (in + pads[k] + pads[k + 2] < ext)
            return ir_node_error(d, n, "kernel is larger than the padded input");
    }
    ir_param_int(n, RT_CONV_INT_GROUP, group);
    ir_param_int(n, RT_CONV_INT_PAD_TOP, pads[0]);
    ir_param_int(n, RT_CONV_INT_PAD_LEFT, pads[1]);
    ir_param_int(n, RT_CONV_INT_STRIDE_H, st[0]);
    ir_param_int(n, RT_CONV_INT_STRIDE_W, st[1]);
    ir_param_int(n, RT_CONV_INT_DIL_H, dl[0]);
    ir_param_int(n, RT_CONV_INT_DIL_W, dl[1]);
    return ir_set_out(n, 0, ydt, 4, od);
}

static int conv_shape(Diag *d, Node *n, const Value *x, const Value *w, int ydt)
{
    if (!is_q8(x->dtype) || !is_q8(w->dtype))
        return ir_node_error(d, n, "input types %s and %s are not supported (uint8, int8)",
                             rt_dtype_name(x->dtype), rt_dtype_name(w->dtype));
    if (x->rank != 4 || w->rank != 4)
        return ir_node_error(d, n, "only 2-D convolution (rank-4 input and weight) is "
                             "supported, got ranks %d and %d", x->rank, w->rank);
    return conv_geom(d, n, x, w->dims[0], w->dims[1], w->dims[2], w->dims[3], ydt);
}

int ir_infer_conv_integer(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *w = n->in[1];
    if (check_mm_param(d, n, ir_input(n, 2), 1, "x's zero point") ||
        check_mm_param(d, n, ir_input(n, 3), w->rank > 0 ? w->dims[0] : 1, "w's zero point"))
        return -1;
    return conv_shape(d, n, n->in[0], w, RT_I32);
}

int ir_infer_qlinear_conv(Graph *g, Node *n, Diag *d)
{
    (void)g;
    for (int i = 0; i < 7; i++)
        if (need(d, n, i))
            return -1;
    const Value *w = n->in[3], *yz = ir_input(n, 7), *b = ir_input(n, 8);
    int ydt = yz ? yz->dtype : RT_U8;
    int64_t M = w->rank > 0 ? w->dims[0] : 1;
    if (!is_q8(ydt))
        return ir_node_error(d, n, "output type %s is not supported (uint8, int8)",
                             rt_dtype_name(ydt));
    if (check_mm_param(d, n, n->in[1], 1, "x's scale") ||
        check_mm_param(d, n, n->in[2], 1, "x's zero point") ||
        check_mm_param(d, n, n->in[4], M, "w's scale") ||
        check_mm_param(d, n, n->in[5], M, "w's zero point") ||
        check_mm_param(d, n, n->in[6], 1, "y's scale") ||
        check_mm_param(d, n, yz, 1, "y's zero point"))
        return -1;
    if (b && (b->dtype != RT_I32 || ir_numel(b) != M))
        return ir_node_error(d, n, "bias must be int32 with %lld elements", (long long)M);
    return conv_shape(d, n, n->in[0], w, ydt);
}

/* The operands QConv and QMatMul share: packed weights [rows, kp] for a
 * reduction of k, and per row rowc (int32), mult (float32) and optionally
 * wz (int32); the output type (attribute "to") and the store's floats. */
static int qg_operands(Diag *d, Node *n, int64_t k, int *ydt)
{
    for (int i = 0; i < 4; i++)
        if (need(d, n, i))
            return -1;
    const Value *w = n->in[1], *wz = ir_input(n, 4);
    if (w->dtype != RT_I8 || w->rank != 2 || w->dims[1] != ((k + 3) & ~(int64_t)3))
        return ir_node_error(d, n, "packed weights must be int8 [rows, %lld]",
                             (long long)((k + 3) & ~(int64_t)3));
    if (w->dims[1] > RT_QG_MAX_KP)
        return ir_node_error(d, n, "reduction of %lld is deeper than %d", (long long)k,
                             RT_QG_MAX_KP);
    int64_t rows = w->dims[0];
    const Value *pv[3] = {n->in[2], n->in[3], wz};
    const int pdt[3] = {RT_I32, RT_F32, RT_I32};
    for (int i = 0; i < 3; i++)
        if (pv[i] && (pv[i]->dtype != pdt[i] || ir_numel(pv[i]) != rows))
            return ir_node_error(d, n, "input %d must be %s with %lld elements", i + 2,
                                 rt_dtype_name(pdt[i]), (long long)rows);
    *ydt = (int)ir_attr_int(n, "to", RT_U8);
    if (*ydt != RT_U8 && *ydt != RT_I8 && *ydt != RT_F32 && *ydt != RT_I32)
        return ir_node_error(d, n, "output type %d is not uint8, int8, float32 or int32", *ydt);
    ir_param_float(n, RT_QG_F_YZ, ir_attr_float(n, "y_zero_point", 0));
    ir_param_float(n, RT_QG_F_LO, ir_attr_float(n, "lo", -INFINITY));
    ir_param_float(n, RT_QG_F_HI, ir_attr_float(n, "hi", INFINITY));
    return 0;
}

/* onnxcc.QConv: x (uint8/int8 NCHW), packed weights, rowc, mult[, wz];
 * Conv's attributes with kernel_shape required; x_zero_point is x's zero
 * point in the packed domain (k_qgemm.h); k_order the weight rows' order
 * of k (k_quant.h's RT_QCONV_K_*, default ONNX's). */
int ir_infer_qconv(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *x = n->in[0], *w = n->in[1];
    int64_t ks[2];
    if (!is_q8(x->dtype) || x->rank != 4)
        return ir_node_error(d, n, "input must be uint8 or int8 of rank 4");
    if (ir_attr_ints(n, "kernel_shape", ks, 2) != 2 || ks[0] < 1 || ks[1] < 1)
        return ir_node_error(d, n, "kernel_shape (2 values) is required");
    int64_t group = ir_attr_int(n, "group", 1);
    if (group < 1 || x->dims[1] % group)
        return ir_node_error(d, n, "group %lld does not divide %lld channels",
                             (long long)group, (long long)x->dims[1]);
    /* RT_QCONV_K_C4 reduces over the channels rounded up to 4 */
    int64_t ko = ir_attr_int(n, "k_order", RT_QCONV_K_CHW), cg = x->dims[1] / group;
    if (ko != RT_QCONV_K_CHW && (ko != RT_QCONV_K_C4 || group != 1))
        return ir_node_error(d, n, "k_order %lld needs group 1", (long long)ko);
    if (ko == RT_QCONV_K_C4)
        cg = (cg + 3) / 4 * 4;
    int ydt;
    if (qg_operands(d, n, cg * ks[0] * ks[1], &ydt))
        return -1;
    if (conv_geom(d, n, x, w->dims[0], x->dims[1] / group, ks[0], ks[1], ydt))
        return -1;
    ir_param_int(n, RT_QCONV_KH, ks[0]);
    ir_param_int(n, RT_QCONV_KW, ks[1]);
    ir_param_int(n, RT_QCONV_XZ, ir_attr_int(n, "x_zero_point", 0));
    ir_param_int(n, RT_QCONV_KORDER, ko);
    return 0;
}

/* onnxcc.QMatMul: x [..., M, K] (uint8/int8) times packed weights [N, kp]:
 * [..., M, N]; x_zero_point as QConv's. */
int ir_infer_qmatmul(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *x = n->in[0];
    if (!is_q8(x->dtype) || x->rank < 1)
        return ir_node_error(d, n, "input must be uint8 or int8 of rank >= 1");
    int ydt;
    if (qg_operands(d, n, x->dims[x->rank - 1], &ydt))
        return -1;
    ir_param_int(n, RT_QMM_XZ, ir_attr_int(n, "x_zero_point", 0));
    int64_t od[IR_MAX_RANK];
    memcpy(od, x->dims, sizeof(int64_t) * (size_t)x->rank);
    od[x->rank - 1] = n->in[1]->dims[0];
    return ir_set_out(n, 0, ydt, x->rank, od);
}

/* onnxcc.QAdd: a, b (uint8/int8, one shape); attributes ma, za, mb, zb,
 * zy, lo, hi (floats) and "to" (the output type). */
int ir_infer_qadd(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0) || need(d, n, 1))
        return -1;
    const Value *a = n->in[0], *b = n->in[1];
    if (!is_q8(a->dtype) || !is_q8(b->dtype) || a->rank != b->rank ||
        memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank))
        return ir_node_error(d, n, "inputs must be uint8 or int8 of one shape");
    int ydt = (int)ir_attr_int(n, "to", RT_U8);
    if (!is_q8(ydt))
        return ir_node_error(d, n, "output type must be uint8 or int8");
    static const char *const names[RT_QADD_NFLOATS] = {"ma", "za", "mb", "zb", "zy", "lo", "hi"};
    for (int i = 0; i < RT_QADD_NFLOATS; i++)
        ir_param_float(n, i, ir_attr_float(n, names[i], 0));
    return ir_set_out(n, 0, ydt, a->rank, a->dims);
}

/* onnxcc.QGlobalAveragePool: x (uint8/int8, rank >= 3); attributes scale
 * (x_scale / y_scale), x_zero_point, y_zero_point, lo, hi (floats) and
 * "to"; the multiplier per element is scale over the plane's size. */
int ir_infer_qglobal_avgpool(Graph *g, Node *n, Diag *d)
{
    (void)g;
    if (need(d, n, 0))
        return -1;
    const Value *x = n->in[0];
    if (!is_q8(x->dtype) || x->rank < 3)
        return ir_node_error(d, n, "input must be uint8 or int8 of rank >= 3");
    int ydt = (int)ir_attr_int(n, "to", RT_U8);
    if (!is_q8(ydt))
        return ir_node_error(d, n, "output type must be uint8 or int8");
    int64_t dims[IR_MAX_RANK], sz = 1;
    for (int i = 0; i < x->rank; i++) {
        dims[i] = i < 2 ? x->dims[i] : 1;
        sz *= i < 2 ? 1 : x->dims[i];
    }
    float scale = ir_attr_float(n, "scale", 1);
    ir_param_float(n, RT_QGAP_F_M, sz > 0 ? (float)((double)scale / (double)sz) : 0.0f);
    ir_param_float(n, RT_QGAP_F_XZ, ir_attr_float(n, "x_zero_point", 0));
    ir_param_float(n, RT_QGAP_F_YZ, ir_attr_float(n, "y_zero_point", 0));
    ir_param_float(n, RT_QGAP_F_LO, ir_attr_float(n, "lo", 0));
    ir_param_float(n, RT_QGAP_F_HI, ir_attr_float(n, "hi", 255));
    return ir_set_out(n, 0, ydt, x->rank, dims);
}
