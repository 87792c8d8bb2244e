/* test_wq_import.c: pass wq_import on DequantizeLinear(codes) -> MatMul/Gemm, against double. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "ir_build.h"
#include "driver.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "passes/passes.h"

static char dir[] = "/tmp/onnxcc_wq_import_XXXXXX";

static unsigned seed = 12345;
static int rnd(int lo, int hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (int)((seed >> 8) % (unsigned)(hi - lo + 1));
}

/* How the weight reaches the product. */
enum { MM, MM_T, GEMM_TB };
/* The DQ's granularity; the last two do not fit a format (folded to float). */
enum { BLOCK_K, PER_N, PER_T, BLOCK_N, PER_K };
/* How codes and scales are drawn. */
enum { G_RAND, G_NARROW3, G_SMALL4, G_TERN, G_SHERRY, G_POW2, G_NV, G_NEG };

typedef struct Case {
    const char *name;
    int dt;                      /* the codes' type */
    int path, per, block, zero;  /* MM.., BLOCK_K.., block_size, with a zero point */
    int gen;                     /* G_* */
    int64_t m, k, n;
    int mul, add;                /* a Mul by a scalar / an Add of a bias after the product */
    int expect;                  /* RtWqFormat chosen, 0: left to fold (or to qdq) */
    int xq;                      /* x through QuantizeLinear/DequantizeLinear (uint8, XS, 128) */
} Case;

static const float XS = 0.01f;

typedef struct Built {
    Graph *g;
    double *w;                   /* the N x K matrix the DQ stands for, in double */
    double ts, *bias;            /* the product's scale (alpha * Mul), bias (beta * C) or NULL */
} Built;

static int is_signed(int dt)
{
    return dt == RT_I8 || dt == RT_I4 || dt == RT_I2;
}

/* A code of dt: an integer value, or a float type's bit pattern (no NaN). */
static int draw_code(const Case *c, int64_t i)
{
    int bits = rt_dtype_bits(c->dt);
    switch (c->gen) {
    case G_NARROW3: return rnd(0, 7);
    case G_SMALL4: return rnd(-8, 7);
    case G_TERN: return rnd(-1, 1);
    case G_SHERRY: return 0; /* set per quad below */
    default: break;
    }
    (void)i;
    if (c->dt == RT_F8E4M3FN)
        return rnd(0, 0x7e) | (rnd(0, 1) << 7);
    if (c->dt == RT_F4E2M1)
        return rnd(0, 15);
    return is_signed(c->dt) ? rnd(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
                            : rnd(0, (1 << bits) - 1);
}

static double code_value(int dt, int code)
{
    return rt_is_narrow_float(dt) ? rt_narrow_to_f32(dt, (unsigned)code) : code;
}

static float draw_scale(const Case *c)
{
    if (c->gen == G_POW2 || ((c->dt == RT_F8E4M3FN || c->dt == RT_F4E2M1) && c->gen != G_NV &&
                             c->expect))
        return ldexpf(1.0f, -rnd(2, 9));
    if (c->gen == G_NV) /* one float times an E4M3 number */
        return 0.00123f * rt_narrow_to_f32(RT_F8E4M3FN, (unsigned)rnd(0x20, 0x7e));
    /* ONNX Runtime's symmetric int4 (matmul_4bits_quantizer): scale = the
     * block's value of largest magnitude / -8, often negative */
    if (c->gen == G_NEG)
        return (float)rnd(-2000, 2000) * 1e-5f;
    return (float)rnd(100, 2000) * 1e-5f;
}

/* The graph x [M, K] -> (DQ -> [Transpose] ->) MatMul or Gemm -> [Mul] -> [Add] -> y. */
static Built build(const Case *c, unsigned s0)
{
    seed = s0;
    Built b = {ir_graph_new(NULL), NULL, 1.0, NULL};
    Graph *g = b.g;
    g->opsets[0].domain = "";
    g->opsets[0].version = 25;
    g->n_opsets = 1;
    int64_t k = c->k, n = c->n;
    int nk = c->path != MM; /* codes stored [N, K] */
    int64_t cd[2] = {nk ? n : k, nk ? k : n};
    int kaxis = nk ? 1 : 0, naxis = 1 - kaxis;
    /* the parameters' shape */
    int prank = 2, axis = 0, block = 0;
    int64_t pd[2] = {1, 1};
    switch (c->per) {
    case BLOCK_K:
        axis = kaxis, block = c->block;
        pd[kaxis] = (k + block - 1) / block, pd[naxis] = n;
        break;
    case BLOCK_N:
        axis = naxis, block = c->block;
        pd[naxis] = (n + block - 1) / block, pd[kaxis] = k;
        break;
    case PER_N: prank = 1, axis = naxis, pd[0] = n; break;
    case PER_K: prank = 1, axis = kaxis, pd[0] = k; break;
    default: prank = 0; break;
    }
    Value *q = value(g, "codes", c->dt, 2, cd), *sv = value(g, "scale", RT_F32, prank, pd);
    Value *zv = c->zero ? value(g, "zero", c->dt, prank, pd) : NULL;
    void *qp = ir_value_alloc_data(g, q);
    float *sp = ir_value_alloc_data(g, sv);
    void *zp = zv ? ir_value_alloc_data(g, zv) : NULL;
    int64_t np = ir_numel(sv);
    int *zi = calloc((size_t)np, sizeof *zi);
    for (int64_t i = 0; i < np; i++) {
        sp[i] = draw_scale(c);
        if (zv) {
            zi[i] = c->gen == G_NARROW3 ? rnd(0, 7) : draw_code(c, i);
            rt_store_i64(zp, c->dt, i, zi[i]);
        }
    }
    int *ci = calloc((size_t)(n * k), sizeof *ci);
    for (int64_t i = 0; i < n * k; i++)
        ci[i] = draw_code(c, i);
    if (c->gen == G_SHERRY) /* codes along K: one 0 per quad, the others +-1 */
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < k; j += 4) {
                int zpos = rnd(0, 3);
                for (int64_t t = j; t < j + 4 && t < k; t++)
                    ci[nk ? r * k + t : t * n + r] = t - j == zpos ? 0 : rnd(0, 1) ? 1 : -1;
            }
    for (int64_t i = 0; i < n * k; i++) {
        if (rt_is_narrow_float(c->dt))
            rt_narrow_set(qp, c->dt, i, (unsigned)ci[i]);
        else
            rt_store_i64(qp, c->dt, i, ci[i]);
    }
    /* the reference matrix, element (r, t), straight from the drawn numbers */
    b.w = malloc(sizeof *b.w * (size_t)(n * k));
    for (int64_t r = 0; r < n; r++)
        for (int64_t t = 0; t < k; t++) {
            int64_t i = nk ? r * k + t : t * n + r;
            int64_t pr = nk ? r : t, pc = nk ? t : r; /* row and column in the codes */
            int64_t p;
            if (c->per == PER_T)
                p = 0;
            else if (prank == 1)
                p = axis == 0 ? pr : pc;
            else if (axis == 0)
                p = pr / block * pd[1] + pc;
            else
                p = pr * pd[1] + pc / block;
            b.w[r * k + t] = (code_value(c->dt, ci[i]) - (zv ? zi[p] : 0)) * sp[p];
        }
    free(ci);
    free(zi);

    Value *x = value(g, "x", RT_F32, 2, (const int64_t[]){c->m, k}), *xa = x;
    if (c->xq) {
        Value *xs = value(g, "xs", RT_F32, 0, NULL), *xz = value(g, "xz", RT_U8, 0, NULL);
        *(float *)ir_value_alloc_data(g, xs) = XS;
        *(uint8_t *)ir_value_alloc_data(g, xz) = 128;
        Value *qin[3] = {x, xs, xz};
        Value *dqx[3] = {node1(g, "QuantizeLinear", 3, qin)->out[0], xs, xz};
        xa = node1(g, "DequantizeLinear", 3, dqx)->out[0];
    }
    Value *dqin[3] = {q, sv, zv};
    Node *dq = node1(g, "DequantizeLinear", zv ? 3 : 2, dqin);
    ir_set_attr_int(g, dq, "axis", axis);
    if (block)
        ir_set_attr_int(g, dq, "block_size", block);
    Value *wv = dq->out[0];
    Node *mm;
    if (c->path == GEMM_TB) {
        Value *cv = value(g, "c", RT_F32, 1, (const int64_t[]){n});
        float *cp = ir_value_alloc_data(g, cv);
        b.bias = malloc(sizeof *b.bias * (size_t)n);
        for (int64_t i = 0; i < n; i++) {
            cp[i] = (float)rnd(-1000, 1000) * 1e-3f;
            b.bias[i] = 2.0 * cp[i];
        }
        Value *in[3] = {xa, wv, cv};
        mm = node1(g, "Gemm", 3, in);
        ir_set_attr_int(g, mm, "transB", 1);
        ir_set_attr_float(g, mm, "alpha", 0.5f);
        ir_set_attr_float(g, mm, "beta", 2.0f);
        b.ts = 0.5;
    } else {
        if (c->path == MM_T)
            wv = node1(g, "Transpose", 1, &wv)->out[0];
        Value *in[2] = {xa, wv};
        mm = node1(g, "MatMul", 2, in);
    }
    Value *y = mm->out[0];
    if (c->mul) {
        Value *sc = value(g, "s", RT_F32, 0, NULL);
        *(float *)ir_value_alloc_data(g, sc) = 1.5f;
        Value *in[2] = {y, sc};
        y = node1(g, "Mul", 2, in)->out[0];
        b.ts *= 1.5;
    }
    if (c->add) {
        Value *bv = value(g, "b", RT_F32, 1, (const int64_t[]){n});
        float *bp = ir_value_alloc_data(g, bv);
        b.bias = malloc(sizeof *b.bias * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            b.bias[i] = bp[i] = (float)rnd(-1000, 1000) * 1e-3f;
        Value *in[2] = {bv, y}; /* the bias first: either operand order is taken */
        y = node1(g, "Add", 2, in)->out[0];
    }
    x->is_input = 1;
    g->inputs = malloc(sizeof *g->inputs);
    g->inputs[0] = x;
    g->n_inputs = 1;
    y->is_output = 1;
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->n_outputs = 1;
    return b;
}

static void built_free(Built *b)
{
    ir_graph_free(b->g);
    free(b->w);
    free(b->bias);
}

static const Node *live(const Graph *g, int op, int *count)
{
    const Node *found = NULL;
    *count = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i]->dead && g->nodes[i]->op == op) {
            found = g->nodes[i];
            ++*count;
        }
    return found;
}

/* The graph written as an ONNX file (after -O0, which keeps the DQ when
 * its output is past pass_shape's evaluation limit) and loaded back through
 * the frontend at -O2: the narrow codes' initializers and the DQ's
 * attributes as a file carries them. 0, or -1 with the diagnostic. */
static int via_file(Built *b, const char *name, PassCtx *ctx)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == ' ' || *p == ',' || *p == ':' || *p == '%')
            *p = '_';
    int rc = ir_run_pipeline(b->g, 0, ctx) || onnx_save(b->g, path, ctx->d) ? -1 : 0;
    ir_graph_free(b->g);
    b->g = rc ? NULL : drv_prepare(path, NULL, 0, NULL, 0, 2, ctx);
    unlink(path);
    return b->g ? 0 : -1;
}

/* Builds the case, runs it through -O2 (from_file: through a file), checks
 * the format chosen and the output against the reference: y = ts * x W^T
 * + bias in double, within 1e-5 of max |y| (float32 sums of K <= 300
 * products, in another order). */
static void run_case(const Case *c, int from_file)
{
    unsigned s0 = (unsigned)rnd(1, 1 << 30);
    Built b = build(c, s0);
    Diag d = {0};
    QuantOpts qo = {.report = 1};
    PassCtx ctx = {.d = &d, .verify = 1, .quant = &qo};
    /* --quant-report's lines (stderr) into a file: one per weight, imported or not */
    char rpath[300], report[4096] = "";
    snprintf(rpath, sizeof rpath, "%s/report.txt", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(rpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
        dup2(fd, 2);
    int rc = from_file ? via_file(&b, c->name, &ctx) : ir_run_pipeline(b.g, 2, &ctx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (fd >= 0) {
        ssize_t got = pread(fd, report, sizeof report - 1, 0);
        report[got > 0 ? got : 0] = 0;
        close(fd);
        unlink(rpath);
    }
    CHECK(0, rc);
    if (!c->xq)
        CHECK_STR_CONTAINS(report, c->expect ? rt_wq_name(c->expect) : "folded to float");
    if (rc) {
        fprintf(stderr, "%s: %s\n", c->name, d.msg);
        built_free(&b);
        return;
    }
    int nq, ndq, nadd, nmul, nqmm;
    const Node *q = live(b.g, OP_MATMUL_WQ, &nq);
    live(b.g, OP_DEQUANTIZE_LINEAR, &ndq);
    live(b.g, OP_ADD, &nadd);
    live(b.g, OP_MUL, &nmul);
    live(b.g, OP_QMATMUL, &nqmm);
    CHECK(c->expect != 0, nq);
    CHECK(c->expect, q ? ir_attr_int(q, "format", 0) : 0);
    /* int8 weights behind a quantized x are qdq's; other ones are imported */
    if (c->xq)
        CHECK(c->expect == 0, nqmm);
    if (c->expect && !c->xq) {
        CHECK(0, ndq);
        CHECK(0, nadd + nmul); /* absorbed into the node */
    }
    if ((c->expect != 0) != nq || (q && c->expect != ir_attr_int(q, "format", 0)))
        fprintf(stderr, "%s: %d MatMulWQ, format %lld\n", c->name, nq,
                q ? (long long)ir_attr_int(q, "format", 0) : 0LL);

    RtTensor xin, yout;
    memset(&xin, 0, sizeof xin);
    memset(&yout, 0, sizeof yout);
    xin.desc.dtype = RT_F32;
    xin.desc.rank = 2;
    xin.desc.dims[0] = c->m;
    xin.desc.dims[1] = c->k;
    xin.nbytes = sizeof(float) * (size_t)(c->m * c->k);
    float *xp = malloc(xin.nbytes);
    for (int64_t i = 0; i < c->m * c->k; i++)
        xp[i] = (float)rnd(-1000, 1000) * 1e-3f;
    xin.data = xp;
    CHECK(0, ir_run(b.g, &xin, &yout, &d));
    if (yout.data && rt_numel(&yout.desc) == c->m * c->n) {
        double worst = 0, ymax = 0;
        const float *y = yout.data;
        for (int64_t i = 0; i < c->m; i++)
            for (int64_t j = 0; j < c->n; j++) {
                double s = 0;
                for (int64_t t = 0; t < c->k; t++) {
                    float xv = xp[i * c->k + t];
                    if (c->xq) /* QuantizeLinear: round half to even, saturate */
                        xv = (fminf(fmaxf(rintf(xv / XS) + 128, 0), 255) - 128) * XS;
                    s += (double)xv * b.w[j * c->k + t];
                }
                s = b.ts * s + (b.bias ? b.bias[j] : 0);
                worst = fmax(worst, fabs(s - y[i * c->n + j]));
                ymax = fmax(ymax, fabs(s));
            }
        CHECK_TRUE(ymax > 0 && worst <= 1e-5 * ymax);
        if (!(ymax > 0 && worst <= 1e-5 * ymax))
            fprintf(stderr, "%s: differs by %g of max |y| %g\n", c->name, worst, ymax);
    } else {
        CHECK_TRUE(0);
        fprintf(stderr, "%s: run: %s\n", c->name, d.msg);
    }
    rt_tensor_free(&yout);
    free(xp);
    built_free(&b);
}

int main(void)
{
    const Case cases[] = {
        /* name, codes, path, granularity, block, zero, gen, M, K, N, mul, add, format, xq */
        {"uint4 blocked 32", RT_U4, MM, BLOCK_K, 32, 1, G_RAND, 3, 64, 24, 0, 0, RT_WQ_INT4, 0},
        {"int4 blocked 16, no zero", RT_I4, MM, BLOCK_K, 16, 0, G_RAND, 5, 48, 20, 0, 0,
         RT_WQ_INT4, 0},
        {"int4, ONNX Runtime's signed scales", RT_I4, MM, BLOCK_K, 32, 0, G_NEG, 3, 64, 20, 0,
         0, RT_WQ_INT4, 0},
        {"int4 with zero, K % block", RT_I4, MM, BLOCK_K, 32, 1, G_RAND, 2, 70, 9, 0, 0,
         RT_WQ_INT4, 0},
        {"uint4 block 128 > K", RT_U4, MM, BLOCK_K, 128, 1, G_RAND, 1, 40, 8, 0, 0, RT_WQ_INT4, 0},
        {"uint8 per channel", RT_U8, MM, PER_N, 0, 1, G_RAND, 4, 50, 30, 0, 0, RT_WQ_INT8, 0},
        {"int8 per tensor", RT_I8, MM, PER_T, 0, 0, G_RAND, 9, 33, 17, 0, 0, RT_WQ_INT8, 0},
        {"uint4 through Transpose", RT_U4, MM_T, BLOCK_K, 32, 1, G_RAND, 3, 96, 16, 0, 0,
         RT_WQ_INT4, 0},
        {"Gemm transB, alpha, beta C", RT_U4, GEMM_TB, BLOCK_K, 32, 1, G_RAND, 12, 64, 40, 0,
         0, RT_WQ_INT4, 0},
        {"MatMul, Mul, Add absorbed", RT_U4, MM, BLOCK_K, 32, 1, G_RAND, 2, 64, 12, 1, 1,
         RT_WQ_INT4, 0},
        {"uint4 codes below 8: int3", RT_U4, MM, BLOCK_K, 32, 1, G_NARROW3, 3, 64, 10, 0, 0,
         RT_WQ_INT3, 0},
        {"int8 of 4-bit values: int4", RT_I8, MM, BLOCK_K, 32, 0, G_SMALL4, 3, 64, 10, 0, 0,
         RT_WQ_INT4, 0},
        {"uint2 blocked: int2", RT_U2, MM, BLOCK_K, 32, 1, G_RAND, 3, 64, 10, 0, 0, RT_WQ_INT2, 0},
        {"int2 ternary", RT_I2, MM, BLOCK_K, 32, 0, G_TERN, 3, 64, 10, 0, 0, RT_WQ_TERNARY, 0},
        {"int4 ternary, one 0 per quad", RT_I4, MM, BLOCK_K, 32, 0, G_SHERRY, 3, 64, 10, 0, 0,
         RT_WQ_SHERRY, 0},
        {"int8 power-of-two scales: mxint8", RT_I8, MM, BLOCK_K, 32, 0, G_POW2, 3, 64, 10, 0, 0,
         RT_WQ_MXINT8, 0},
        {"float8e4m3fn: mxfp8", RT_F8E4M3FN, MM, BLOCK_K, 32, 0, G_RAND, 3, 64, 10, 0, 0,
         RT_WQ_MXFP8, 0},
        {"float4e2m1: mxfp4", RT_F4E2M1, MM_T, BLOCK_K, 32, 0, G_RAND, 3, 96, 10, 0, 0,
         RT_WQ_MXFP4, 0},
        {"float4e2m1, E4M3 scales: nvfp4", RT_F4E2M1, MM, BLOCK_K, 16, 0, G_NV, 3, 64, 10, 0, 0,
         RT_WQ_NVFP4, 0},
        /* left to fold: the float weights it computes */
        {"blocked along N", RT_U4, MM, BLOCK_N, 8, 1, G_RAND, 3, 64, 24, 0, 0, 0, 0},
        {"per axis along K", RT_I8, MM, PER_K, 0, 1, G_RAND, 3, 40, 12, 0, 0, 0, 0},
        {"float8e4m3fn, float scales", RT_F8E4M3FN, MM, BLOCK_K, 32, 0, G_RAND, 3, 64, 10, 0, 0,
         0, 0},
        /* a quantized x: int8 per-channel weights go to qdq's QMatMul, int4 ones here */
        {"int8 weights, quantized x", RT_I8, MM, PER_N, 0, 0, G_RAND, 4, 64, 16, 0, 0, 0, 1},
        {"int4 weights, quantized x", RT_U4, MM, BLOCK_K, 32, 1, G_RAND, 4, 64, 16, 0, 0,
         RT_WQ_INT4, 1},
    };
    CHECK_TRUE(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], 0);

    /* through an ONNX file; K x N past pass_shape's 4096-element evaluation */
    const Case files[] = {
        {"file uint4 blocked", RT_U4, MM, BLOCK_K, 32, 1, G_RAND, 3, 128, 48, 0, 1, RT_WQ_INT4, 0},
        {"file int4 Transpose", RT_I4, MM_T, BLOCK_K, 64, 0, G_RAND, 2, 160, 40, 0, 0,
         RT_WQ_INT4, 0},
        {"file Gemm transB", RT_U4, GEMM_TB, BLOCK_K, 32, 1, G_RAND, 5, 128, 40, 0, 0,
         RT_WQ_INT4, 0},
        {"file uint2", RT_U2, MM, BLOCK_K, 16, 1, G_RAND, 3, 128, 48, 0, 0, RT_WQ_INT2, 0},
        {"file float4e2m1", RT_F4E2M1, MM, BLOCK_K, 32, 0, G_RAND, 3, 128, 48, 1, 0,
         RT_WQ_MXFP4, 0},
        {"file nvfp4", RT_F4E2M1, MM, BLOCK_K, 16, 0, G_NV, 3, 128, 48, 0, 0, RT_WQ_NVFP4, 0},
        {"file blocked along N", RT_U4, MM, BLOCK_N, 16, 1, G_RAND, 3, 128, 48, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        run_case(&files[i], 1);
    rmdir(dir);
    return CHECK_DONE();
}
