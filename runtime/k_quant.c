/* k_quant.c: the quantization kernels: (De)QuantizeLinear, integer MatMul and Conv. */
#include <math.h>
#include <string.h>

#include "onnxcc_rt.h"
#include "rt_internal.h"
#include "k_qgemm.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

/* The representable range of a quantized type; 0 for a type with no path. */
static int q_range(int dtype, double *lo, double *hi)
{
    switch (dtype) {
    case RT_U8: *lo = 0; *hi = 255; return 1;
    case RT_I8: *lo = -128; *hi = 127; return 1;
    case RT_U16: *lo = 0; *hi = 65535; return 1;
    case RT_I16: *lo = -32768; *hi = 32767; return 1;
    case RT_I32: *lo = -2147483648.0; *hi = 2147483647.0; return 1;
    case RT_U4: *lo = 0; *hi = 15; return 1;
    case RT_I4: *lo = -8; *hi = 7; return 1;
    case RT_U2: *lo = 0; *hi = 3; return 1;
    case RT_I2: *lo = -2; *hi = 1; return 1;
    default: return 0;
    }
}

static int is_q_int(int dtype)
{
    double lo, hi;
    return q_range(dtype, &lo, &hi);
}

/* Element k of a scale or zero point with one or many values; 0 if omitted. */
static double param_at(const RtTensorDesc *t, const void *p, int64_t k)
{
    if (!p || t->dtype == RT_UNDEF)
        return 0;
    return rt_load_f64(p, t->dtype, rt_numel(t) == 1 ? 0 : k);
}

/* Where element i of x finds its scale and zero point: one value for all
 * (per-tensor), one per index of the axis (per-axis), or, blocked (opset 21),
 * one per block of `block` consecutive indices along the axis, the scale
 * having x's shape with that axis divided (rounded up) by the block. */
typedef struct QMap {
    int64_t inner;               /* elements after the axis */
    int64_t len;                 /* x's extent along the axis */
    int64_t slen;                /* the scale's extent along it (blocked) */
    int64_t block;               /* 0: not blocked */
    int per_tensor;
} QMap;

static int qmap_init(const RtCall *c, QMap *q)
{
    const RtTensorDesc *x = &c->in[0], *s = &c->in[1];
    int64_t axis = c->n_ints > RT_QUANT_AXIS ? c->ints[RT_QUANT_AXIS] : 0;
    q->block = c->n_ints > RT_QUANT_BLOCK ? c->ints[RT_QUANT_BLOCK] : 0;
    q->per_tensor = !q->block && rt_numel(s) <= 1;
    q->inner = 1;
    q->len = q->slen = 1;
    if (q->per_tensor)
        return 0;
    if (axis < 0 || axis >= x->rank || (q->block && s->rank != x->rank))
        return -1;
    for (int k = (int)axis + 1; k < x->rank; k++)
        q->inner *= x->dims[k];
    q->len = x->dims[axis];
    q->slen = q->block ? s->dims[axis] : q->len;
    return 0;
}

static int64_t qmap_at(const QMap *q, int64_t i)
{
    if (q->per_tensor)
        return 0;
    int64_t in = i % q->inner, a = (i / q->inner) % q->len;
    if (!q->block)
        return a;
    int64_t outer = i / (q->inner * q->len);
    return (outer * q->slen + a / q->block) * q->inner + in;
}

/* x / scale as the reference computes it: in float32, or in the type
 * `precision` names (QuantizeLinear-23), float16 and bfloat16 rounding the
 * operands and the quotient to themselves. */
static double q_div(double x, double s, int precision)
{
    switch (precision) {
    case RT_F64: return x / s;
    case RT_F16: {
        float a = rt_f16_to_f32(rt_f32_to_f16((float)x));
        float b = rt_f16_to_f32(rt_f32_to_f16((float)s));
        return rt_f16_to_f32(rt_f32_to_f16(a / b));
    }
    case RT_BF16: {
        float a = rt_bf16_to_f32(rt_f32_to_bf16((float)x));
        float b = rt_bf16_to_f32(rt_f32_to_bf16((float)s));
        return rt_bf16_to_f32(rt_f32_to_bf16(a / b));
    }
    default: return (double)((float)x / (float)s);
    }
}

/* The common case of QDQ graphs, per-tensor float32 <-> uint8/int8, in
 * loops the compiler vectorizes; the same float32 operations as the
 * general loops below, so the same results. */
static int quantize_fast(const RtCall *c, const void *const *in, void *const *out, int64_t n)
{
    int ydt = c->out[0].dtype;
    int prec = c->n_ints > RT_QUANT_PRECISION ? (int)c->ints[RT_QUANT_PRECISION] : 0;
    if (c->in[0].dtype != RT_F32 || (ydt != RT_U8 && ydt != RT_I8) || c->in[1].dtype != RT_F32 ||
        rt_numel(&c->in[1]) != 1 || (prec && prec != RT_F32) ||
        (c->n_ints > RT_QUANT_BLOCK && c->ints[RT_QUANT_BLOCK]))
        return 0;
    const float *x = in[0];
    float s = *(const float *)in[1];
    float z = c->n_in > 2 && in[2] ? (float)param_at(&c->in[2], in[2], 0) : 0.0f;
    float lo = ydt == RT_U8 ? 0.0f : -128.0f, hi = ydt == RT_U8 ? 255.0f : 127.0f;
    if (ydt == RT_U8) {
        uint8_t *y = out[0];
        for (int64_t i = 0; i < n; i++) {
            float v = rintf(x[i] / s) + z;
            v = v == v ? v : 0.0f;
            y[i] = (uint8_t)(int32_t)(v < lo ? lo : v > hi ? hi : v);
        }
    } else {
        int8_t *y = out[0];
        for (int64_t i = 0; i < n; i++) {
            float v = rintf(x[i] / s) + z;
            v = v == v ? v : 0.0f;
            y[i] = (int8_t)(int32_t)(v < lo ? lo : v > hi ? hi : v);
        }
    }
    return 1;
}

static int dequantize_fast(const RtCall *c, const void *const *in, void *const *out, int64_t n)
{
    int xdt = c->in[0].dtype;
    if (c->out[0].dtype != RT_F32 || (xdt != RT_U8 && xdt != RT_I8) ||
        c->in[1].dtype != RT_F32 || rt_numel(&c->in[1]) != 1 ||
        (c->n_ints > RT_QUANT_BLOCK && c->ints[RT_QUANT_BLOCK]))
        return 0;
    float s = *(const float *)in[1], *y = out[0];
    int32_t z = c->n_in > 2 && in[2] ? (int32_t)param_at(&c->in[2], in[2], 0) : 0;
    if (xdt == RT_U8) {
        const uint8_t *x = in[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((int32_t)x[i] - z) * s;
    } else {
        const int8_t *x = in[0];
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((int32_t)x[i] - z) * s;
    }
    return 1;
}

int rt_quantize_linear(const RtCall *c, const void *const *in, void *const *out)
{
    double lo = 0, hi = 0;
    int ydt = c->out[0].dtype, xdt = c->in[0].dtype;
    int fl = rt_is_narrow_float(ydt);
    QMap q;
    if ((!fl && !q_range(ydt, &lo, &hi)) || !rt_is_float(xdt) || qmap_init(c, &q))
        return RT_EDTYPE;
    int sat = c->n_ints > RT_QUANT_SATURATE ? (int)c->ints[RT_QUANT_SATURATE] : 1;
    int prec = c->n_ints > RT_QUANT_PRECISION ? (int)c->ints[RT_QUANT_PRECISION] : 0;
    int64_t n = rt_numel(&c->in[0]);
    if (quantize_fast(c, in, out, n))
        return RT_OK;
    const RtTensorDesc *zd = c->n_in > 2 ? &c->in[2] : NULL;
    const void *zp = c->n_in > 2 ? in[2] : NULL;
    if (rt_is_packed(ydt)) /* pad bits of the last byte are 0 */
        memset(out[0], 0, rt_dtype_bytes(ydt, n));
    for (int64_t i = 0; i < n; i++) {
        int64_t k = qmap_at(&q, i);
        float x = xdt == RT_F32 ? ((const float *)in[0])[i] : (float)rt_load_f64(in[0], xdt, i);
        double v = q_div(x, param_at(&c->in[1], in[1], k), prec);
        double z = zd ? param_at(zd, zp, k) : 0;
        if (fl) { /* float8/float4: the quotient rounded once, saturating as asked */
            rt_narrow_set(out[0], ydt, i, rt_f64_to_narrow(ydt, v + z, sat, RT_E8M0_UP));
            continue;
        }
        /* integers: rint (half to even) then the zero point, clamped */
        v = rint(v) + z;
        if (v != v)
            v = 0;
        v = v < lo ? lo : v > hi ? hi : v;
        rt_store_i64(out[0], ydt, i, (int64_t)v);
    }
    return RT_OK;
}

int rt_dequantize_linear(const RtCall *c, const void *const *in, void *const *out)
{
    int xdt = c->in[0].dtype, ydt = c->out[0].dtype;
    int fl = rt_is_narrow_float(xdt);
    QMap q;
    if ((!fl && !is_q_int(xdt)) || !rt_is_float(ydt) || qmap_init(c, &q))
        return RT_EDTYPE;
    int64_t n = rt_numel(&c->in[0]);
    if (dequantize_fast(c, in, out, n))
        return RT_OK;
    /* float8 and float4 have no zero point (ONNX: it must be 0, and is ignored) */
    const RtTensorDesc *zd = c->n_in > 2 && !fl ? &c->in[2] : NULL;
    const void *zp = c->n_in > 2 ? in[2] : NULL;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = qmap_at(&q, i);
        float s = (float)param_at(&c->in[1], in[1], k), v;
        if (fl) {
            v = rt_narrow_to_f32(xdt, rt_narrow_get(in[0], xdt, i)) * s;
        } else {
            int64_t z = zd ? (int64_t)param_at(zd, zp, k) : 0;
            v = (float)(rt_load_i64(in[0], xdt, i) - z) * s;
        }
        if (ydt == RT_F32)
            ((float *)out[0])[i] = v;
        else
            rt_store_f64(out[0], ydt, i, v);
    }
    return RT_OK;
}

int rt_dynamic_quantize_linear(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->in[0].dtype != RT_F32 || c->out[0].dtype != RT_U8)
        return RT_EDTYPE;
    const float *x = in[0];
    int64_t n = rt_numel(&c->in[0]);
    /* ONNX: the range always includes 0 so that 0 is exactly representable. */
    float mn = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    float s = (mx - mn) / 255.0f;
    float zf = s > 0 ? rintf(fminf(fmaxf(0.0f - mn / s, 0.0f), 255.0f)) : 0.0f;
    uint8_t *y = out[0];
    for (int64_t i = 0; i < n; i++) {
        float v = s > 0 ? rintf(x[i] / s) + zf : zf;
        y[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    *(float *)out[1] = s;
    *(uint8_t *)out[2] = (uint8_t)zf;
    return RT_OK;
}

/* One batch of integer matrix products; emit(m, nn, acc, off) stores the result. */
typedef struct MmArgs {
    const RtCall *c;
    const void *a, *b;
    const RtTensorDesc *ad, *bd, *azd, *bzd;
    const void *az, *bz;
} MmArgs;

/* Runs the batched product, handing each int32 accumulator to store(). */
static int mm_run(const MmArgs *m, void (*store)(const MmArgs *, void *, int64_t, int64_t,
                                                 int64_t, void *), void *ctx, void *y)
{
    const int64_t *p = m->c->ints;
    int64_t M = p[RT_MATMUL_INT_M], K = p[RT_MATMUL_INT_K], N = p[RT_MATMUL_INT_N];
    int nb = (int)p[RT_MATMUL_INT_NB];
    const int64_t *bdim = p + RT_MATMUL_INT_BDIMS, *astr = p + RT_MATMUL_INT_ASTR(nb);
    const int64_t *bstr = p + RT_MATMUL_INT_BSTR(nb);
    int64_t nbatch = 1;
    for (int k = 0; k < nb; k++)
        nbatch *= bdim[k];
    int adt = m->ad->dtype, bdt = m->bd->dtype;
    for (int64_t bi = 0; bi < nbatch; bi++) {
        int64_t aoff = 0, boff = 0, rem = bi;
        for (int k = nb - 1; k >= 0; k--) {
            int64_t ix = rem % bdim[k];
            rem /= bdim[k];
            aoff += ix * astr[k];
            boff += ix * bstr[k];
        }
        for (int64_t i = 0; i < M; i++) {
            int64_t za = m->azd ? (int64_t)param_at(m->azd, m->az, i) : 0;
            for (int64_t j = 0; j < N; j++) {
                int64_t zb = m->bzd ? (int64_t)param_at(m->bzd, m->bz, j) : 0;
                int64_t acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += (rt_load_i64(m->a, adt, aoff + i * K + k) - za) *
                           (rt_load_i64(m->b, bdt, boff + k * N + j) - zb);
                store(m, y, (bi * M + i) * N + j, acc, j, ctx);
            }
        }
    }
    return RT_OK;
}

static void store_i32(const MmArgs *m, void *y, int64_t o, int64_t acc, int64_t col, void *ctx)
{
    (void)m, (void)col, (void)ctx;
    ((int32_t *)y)[o] = (int32_t)acc;
}

static int opt_in(const RtCall *c, const void *const *in, int i, const RtTensorDesc **d,
                  const void **p)
{
    *d = NULL;
    *p = NULL;
    if (i < c->n_in && in[i] && c->in[i].dtype != RT_UNDEF) {
        *d = &c->in[i];
        *p = in[i];
    }
    return 0;
}

int rt_matmul_integer(const RtCall *c, const void *const *in, void *const *out)
{
    if (!is_q_int(c->in[0].dtype) || !is_q_int(c->in[1].dtype) || c->out[0].dtype != RT_I32)
        return RT_EDTYPE;
    MmArgs m = {c, in[0], in[1], &c->in[0], &c->in[1], NULL, NULL, NULL, NULL};
    opt_in(c, in, 2, &m.azd, &m.az);
    opt_in(c, in, 3, &m.bzd, &m.bz);
    return mm_run(&m, store_i32, NULL, out[0]);
}

/* Requantization of QLinearMatMul: the scales of this call. */
typedef struct Requant {
    const RtCall *c;
    const void *const *in;
    int ydt;
    double lo, hi;
} Requant;

static double requant(double acc, double mult, double yzp, double lo, double hi)
{
    /* The reference computes in float32 and rounds half to even. */
    double v = (double)rintf((float)(acc * mult)) + yzp;
    return v < lo ? lo : v > hi ? hi : v;
}

static void store_q(const MmArgs *m, void *y, int64_t o, int64_t acc, int64_t col, void *ctx)
{
    const Requant *r = ctx;
    const RtCall *c = r->c;
    int64_t row = (o / c->ints[RT_MATMUL_INT_N]) % c->ints[RT_MATMUL_INT_M];
    (void)m;
    double mult = param_at(&c->in[1], r->in[1], row) * param_at(&c->in[4], r->in[4], col) /
                  param_at(&c->in[6], r->in[6], 0);
    double yzp = c->n_in > 7 ? param_at(&c->in[7], r->in[7], 0) : 0;
    rt_store_i64(y, r->ydt, o, (int64_t)requant((double)acc, mult, yzp, r->lo, r->hi));
}

int rt_qlinear_matmul(const RtCall *c, const void *const *in, void *const *out)
{
    Requant r = {c, in, c->out[0].dtype, 0, 0};
    if (!is_q_int(c->in[0].dtype) || !is_q_int(c->in[3].dtype) ||
        !q_range(r.ydt, &r.lo, &r.hi))
        return RT_EDTYPE;
    MmArgs m = {c, in[0], in[3], &c->in[0], &c->in[3], NULL, NULL, NULL, NULL};
    opt_in(c, in, 2, &m.azd, &m.az);
    opt_in(c, in, 5, &m.bzd, &m.bz);
    return mm_run(&m, store_q, &r, out[0]);
}

/* The integer sum of output point (b, oc, oy, ox); padding counts as x_zp, so it adds 0. */
static int64_t conv_acc(const RtCall *c, const void *x, const RtTensorDesc *xd, const void *w,
                        const RtTensorDesc *wd, int64_t xz, int64_t wz, int64_t b, int64_t oc,
                        int64_t oy, int64_t ox)
{
    const int64_t *p = c->ints;
    int64_t group = p[RT_CONV_INT_GROUP], C = xd->dims[1], H = xd->dims[2], W = xd->dims[3];
    int64_t cg = wd->dims[1], M = wd->dims[0], kh = wd->dims[2], kw = wd->dims[3];
    int64_t g = oc / (M / group), acc = 0;
    for (int64_t ci = 0; ci < cg; ci++) {
        int64_t cx = g * cg + ci;
        for (int64_t ky = 0; ky < kh; ky++) {
            int64_t iy = oy * p[RT_CONV_INT_STRIDE_H] - p[RT_CONV_INT_PAD_TOP] +
                         ky * p[RT_CONV_INT_DIL_H];
            if (iy < 0 || iy >= H)
                continue;
            for (int64_t kx = 0; kx < kw; kx++) {
                int64_t ix = ox * p[RT_CONV_INT_STRIDE_W] - p[RT_CONV_INT_PAD_LEFT] +
                             kx * p[RT_CONV_INT_DIL_W];
                if (ix < 0 || ix >= W)
                    continue;
                int64_t xv = rt_load_i64(x, xd->dtype, ((b * C + cx) * H + iy) * W + ix);
                int64_t wv = rt_load_i64(w, wd->dtype, ((oc * cg + ci) * kh + ky) * kw + kx);
                acc += (xv - xz) * (wv - wz);
            }
        }
    }
    return acc;
}

/* Shared loop of both convolutions; q NULL stores int32, else requantizes. */
static int conv_run(const RtCall *c, const void *const *in, void *const *out, int xi, int wi,
                    int xzi, int wzi, const Requant *q)
{
    const RtTensorDesc *xd = &c->in[xi], *wd = &c->in[wi], *yd = &c->out[0], *zd;
    const void *zp;
    if (!is_q_int(xd->dtype) || !is_q_int(wd->dtype) || xd->rank != 4 || wd->rank != 4)
        return RT_EDTYPE;
    opt_in(c, in, xzi, &zd, &zp);
    int64_t xz = zd ? (int64_t)param_at(zd, zp, 0) : 0;
    const RtTensorDesc *wzd;
    const void *wzp;
    opt_in(c, in, wzi, &wzd, &wzp);
    const RtTensorDesc *bd = NULL;
    const void *bp = NULL;
    if (q)
        opt_in(c, in, 8, &bd, &bp);
    int64_t o = 0;
    for (int64_t b = 0; b < yd->dims[0]; b++)
        for (int64_t oc = 0; oc < yd->dims[1]; oc++) {
            int64_t wz = wzd ? (int64_t)param_at(wzd, wzp, oc) : 0;
            double mult = 0, yzp = 0;
            if (q) {
                mult = param_at(&c->in[1], in[1], 0) * param_at(&c->in[4], in[4], oc) /
                       param_at(&c->in[6], in[6], 0);
                yzp = c->n_in > 7 ? param_at(&c->in[7], in[7], 0) : 0;
            }
            int64_t bias = bd ? rt_load_i64(bp, bd->dtype, oc) : 0;
            for (int64_t oy = 0; oy < yd->dims[2]; oy++)
                for (int64_t ox = 0; ox < yd->dims[3]; ox++, o++) {
                    int64_t acc = conv_acc(c, in[xi], xd, in[wi], wd, xz, wz, b, oc, oy, ox);
                    if (!q)
                        ((int32_t *)out[0])[o] = (int32_t)acc;
                    else
                        rt_store_i64(out[0], q->ydt, o,
                                     (int64_t)requant((double)(acc + bias), mult, yzp, q->lo,
                                                      q->hi));
                }
        }
    return RT_OK;
}

int rt_conv_integer(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->out[0].dtype != RT_I32)
        return RT_EDTYPE;
    return conv_run(c, in, out, 0, 1, 2, 3, NULL);
}

int rt_qlinear_conv(const RtCall *c, const void *const *in, void *const *out)
{
    Requant r = {c, in, c->out[0].dtype, 0, 0};
    if (!q_range(r.ydt, &r.lo, &r.hi))
        return RT_EDTYPE;
    return conv_run(c, in, out, 0, 3, 2, 5, &r);
}

/* ---- onnxcc.QConv and onnxcc.QMatMul: the int8 GEMM of k_qgemm.c ---- */

/* One QConv call: shapes, the packed operands and the store. */
typedef struct QConv {
    const uint8_t *x;
    const int8_t *w;
    RtQgemmEpi e;                /* rows of all groups; offset per group */
    char *y;
    int64_t C, H, W, M, OW, P;   /* input channels and size, output channels, width, pixels */
    int64_t group, cg, mg;       /* groups, input and output channels per group */
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    int64_t K, kp, nblk;         /* reduction (cg * kh * kw), padded, column blocks */
    int osize;                   /* bytes per output element */
    uint8_t pad, flip;           /* x's packed zero point; 0x80 for int8 x (x + 128) */
    const uint8_t *xp;           /* x of the current image, padded and re-coded, or NULL */
    int64_t hp, wp;              /* its padded height and width */
    const int32_t *koff;         /* per k (RT_QCONV_K_C4: per group of 4 k): the tap's
                                  * offset in a group of xp (no divisions per row) */
    int korder;                  /* RT_QCONV_K_CHW or RT_QCONV_K_C4 */
} QConv;

/* Bytes of the padded copy of one image's input kept on the stack; larger
 * inputs take the bounds-checked im2col. The slack lets a block's runs be
 * copied whole past where they end: 32 bytes (stride 2: 64) a row, in
 * RT_QCONV_K_C4's layout 128 (stride 2: 256). */
#define QG_PAD_BYTES ((int64_t)1 << 20)
#define QG_PAD_SLACK (8 * RT_QG_COLS)

/* n bytes of x, re-coded (int8 x + 128 is the byte with its top bit flipped). */
static void copy_x(uint8_t *d, const uint8_t *s, int64_t n, int64_t step, uint8_t flip)
{
    if (step == 1 && !flip)
        memcpy(d, s, (size_t)n);
    else if (step == 1)
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i] ^ flip;
    else
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i * step] ^ flip;
}

/* The im2col rows of pixels [p0, p0+n) of one group (xg: its first input
 * channel), packed as k_qgemm.h's block: each group of 4 rows is assembled
 * from runs of pixels in one output row (contiguous input at stride 1),
 * padding taps holding the zero point so they add nothing. */
static void im2col_block(const QConv *q, const uint8_t *xg, int64_t p0, int n, uint8_t *xb)
{
    enum { MAXSEG = RT_QG_COLS + 1 };
    int64_t seg_pos[MAXSEG], seg_len[MAXSEG], seg_y[MAXSEG], seg_x[MAXSEG];
    int ns = 0;
    for (int64_t done = 0, p = p0; done < n; ns++) {
        int64_t oy = p / q->OW, ox = p % q->OW;
        int64_t len = q->OW - ox < n - done ? q->OW - ox : n - done;
        seg_pos[ns] = done;
        seg_len[ns] = len;
        seg_y[ns] = oy * q->sh - q->ph;
        seg_x[ns] = ox * q->sw - q->pw;
        done += len;
        p += len;
    }
    /* a 1x1 window at stride 1 without padding reads pixels in place */
    int direct = q->kh == 1 && q->kw == 1 && q->sh == 1 && q->sw == 1 && q->ph == 0 &&
                 q->pw == 0 && q->P == q->H * q->W;
    uint8_t rows[4][RT_QG_COLS];
    const uint8_t *rp[4] = {rows[0], rows[1], rows[2], rows[3]};
    int64_t plane = q->H * q->W, win = q->kh * q->kw;
    for (int64_t k0 = 0; k0 < q->kp; k0 += 4) {
        for (int j = 0; j < 4; j++) {
            uint8_t *t = rows[j];
            int64_t k = k0 + j;
            if (k >= q->K) {
                memset(t, q->pad, RT_QG_COLS);
                continue;
            }
            if (n < RT_QG_COLS)
                memset(t + n, q->pad, (size_t)(RT_QG_COLS - n));
            int64_t ci = k / win, r = k % win, ky = r / q->kw, kx = r % q->kw;
            const uint8_t *xc = xg + ci * plane;
            if (direct) {
                copy_x(t, xc + p0, n, 1, q->flip);
                continue;
            }
            for (int s = 0; s < ns; s++) {
                uint8_t *ts = t + seg_pos[s];
                int64_t len = seg_len[s], iy = seg_y[s] + ky * q->dh;
                if (iy < 0 || iy >= q->H) {
                    memset(ts, q->pad, (size_t)len);
                    continue;
                }
                /* taps [lo, hi) of the run fall inside the row */
                int64_t ix0 = seg_x[s] + kx * q->dw, lo = 0, hi = 0;
                if (ix0 < 0)
                    lo = (-ix0 + q->sw - 1) / q->sw;
                if (q->W - 1 - ix0 >= 0)
                    hi = (q->W - 1 - ix0) / q->sw + 1;
                lo = lo < len ? lo : len;
                hi = hi < len ? hi : len;
                hi = hi > lo ? hi : lo;
                memset(ts, q->pad, (size_t)lo);
                copy_x(ts + lo, xc + iy * q->W + ix0 + lo * q->sw, hi - lo, q->sw, q->flip);
                memset(ts + hi, q->pad, (size_t)(len - hi));
            }
        }
        rt_qgemm_put_quad(rp, xb + k0 * RT_QG_COLS);
    }
}

/* x of image b with its padding (the zero point) around each plane, in the
 * packed domain, so that im2col copies whole runs without bounds checks. */
static void pad_image(const QConv *q, int64_t b, uint8_t *xp)
{
    int64_t hp = q->hp, wp = q->wp;
    const uint8_t *x = q->x + b * q->C * q->H * q->W;
    memset(xp, q->pad, (size_t)(q->C * hp * wp + QG_PAD_SLACK));
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t h = 0; h < q->H; h++)
            copy_x(xp + (c * hp + h + q->ph) * wp + q->pw, x + (c * q->H + h) * q->W, q->W, 1,
                   q->flip);
}

/* im2col_block from the padded image: every tap is in bounds, and each run
 * of pixels in one output row is one fixed-size copy (the next run
 * overwrites what a copy wrote past its end). */
static void im2col_padded(const QConv *q, const uint8_t *xg, int64_t p0, int n, uint8_t *xb)
{
    enum { MAXSEG = RT_QG_COLS + 1 };
    int64_t seg_pos[MAXSEG], seg_off[MAXSEG];
    int ns = 0;
    for (int64_t done = 0, p = p0; done < n; ns++) {
        int64_t oy = p / q->OW, ox = p % q->OW;
        int64_t len = q->OW - ox < n - done ? q->OW - ox : n - done;
        seg_pos[ns] = done;
        seg_off[ns] = oy * q->sh * q->wp + ox * q->sw;
        done += len;
        p += len;
    }
    uint8_t rows[4][2 * RT_QG_COLS];
    const uint8_t *rp[4] = {rows[0], rows[1], rows[2], rows[3]};
    int64_t sw = q->sw;
    for (int64_t k0 = 0; k0 < q->kp; k0 += 4) {
        for (int j = 0; j < 4; j++) {
            uint8_t *t = rows[j];
            int64_t k = k0 + j;
            if (k >= q->K) {
                memset(t, q->pad, RT_QG_COLS);
                continue;
            }
            const uint8_t *base = xg + q->koff[k];
            for (int s = 0; s < ns; s++) {
                const uint8_t *src = base + seg_off[s];
                uint8_t *d = t + seg_pos[s];
                if (sw == 1) {
                    memcpy(d, src, RT_QG_COLS);
                } else if (sw == 2) {
                    for (int i = 0; i < RT_QG_COLS; i++)
                        d[i] = src[2 * i];
                } else {
                    int64_t len = (s + 1 < ns ? seg_pos[s + 1] : n) - seg_pos[s];
                    for (int64_t i = 0; i < len; i++)
                        d[i] = src[i * sw];
                }
            }
        }
        rt_qgemm_put_quad(rp, xb + k0 * RT_QG_COLS);
    }
}

/* ---- RT_QCONV_K_C4: k grouped by 4 channels of one pixel ---- */

/* d[4 i + j] = r[j][i] ^ flip for i < n: 4 channel rows interleaved pixel
 * by pixel (16 pixels a round where SSE2 is). */
static void interleave4(uint8_t *d, const uint8_t *const r[4], int64_t n, uint8_t flip)
{
    int64_t i = 0;
#if defined(__SSE2__)
    __m128i f = _mm_set1_epi8((char)flip);
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[0] + i)), f);
        __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[1] + i)), f);
        __m128i e = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[2] + i)), f);
        __m128i g = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[3] + i)), f);
        __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        __m128i eg0 = _mm_unpacklo_epi8(e, g), eg1 = _mm_unpackhi_epi8(e, g);
        _mm_storeu_si128((__m128i *)(d + 4 * i), _mm_unpacklo_epi16(ab0, eg0));
        _mm_storeu_si128((__m128i *)(d + 4 * i + 16), _mm_unpackhi_epi16(ab0, eg0));
        _mm_storeu_si128((__m128i *)(d + 4 * i + 32), _mm_unpacklo_epi16(ab1, eg1));
        _mm_storeu_si128((__m128i *)(d + 4 * i + 48), _mm_unpackhi_epi16(ab1, eg1));
    }
#endif
    for (; i < n; i++)
        for (int j = 0; j < 4; j++)
            d[4 * i + j] = r[j][i] ^ flip;
}

/* x of image b padded as pad_image does, laid out [C4 / 4][hp][wp][4]
 * (C4: the channels rounded up to 4; the added ones hold the zero point):
 * the 4 channels of a pixel adjacent, as a 4-byte group of the GEMM wants
 * them. */
static void pad_image_c4(const QConv *q, int64_t b, uint8_t *xp)
{
    enum { CHUNK = 256 };
    int64_t hp = q->hp, wp = q->wp, plane = q->H * q->W, c4n = (q->C + 3) / 4;
    const uint8_t *x = q->x + b * q->C * plane;
    uint8_t padrow[CHUNK]; /* an added channel's row, before the re-coding */
    memset(padrow, q->pad ^ q->flip, sizeof padrow);
    memset(xp, q->pad, (size_t)(4 * c4n * hp * wp + QG_PAD_SLACK));
    for (int64_t c4 = 0; c4 < c4n; c4++)
        for (int64_t h = 0; h < q->H; h++) {
            const uint8_t *src = x + 4 * c4 * plane + h * q->W;
            uint8_t *d = xp + ((c4 * hp + h + q->ph) * wp + q->pw) * 4;
            if (4 * c4 + 4 <= q->C) {
                const uint8_t *const r[4] = {src, src + plane, src + 2 * plane,
                                             src + 3 * plane};
                interleave4(d, r, q->W, q->flip);
                continue;
            }
            for (int64_t i = 0; i < q->W; i += CHUNK) {
                const uint8_t *r[4];
                for (int j = 0; j < 4; j++)
                    r[j] = 4 * c4 + j < q->C ? src + j * plane + i : padrow;
                interleave4(d + 4 * i, r, q->W - i < CHUNK ? q->W - i : CHUNK, q->flip);
            }
        }
}

/* 32 groups of 4 bytes from every other group of src (256 bytes read). */
static void take_even4(uint8_t *d, const uint8_t *src)
{
#if defined(__AVX512F__)
    for (int i = 0; i < 4; i++)
        _mm256_storeu_si256((__m256i *)(d + 32 * i),
                            _mm512_cvtepi64_epi32(_mm512_loadu_si512(src + 64 * i)));
#elif defined(__AVX2__)
    for (int i = 0; i < 4; i++) {
        __m256 a = _mm256_loadu_ps((const float *)(src + 64 * i));
        __m256 b = _mm256_loadu_ps((const float *)(src + 64 * i + 32));
        /* per lane a0 a2 b0 b2 | a4 a6 b4 b6, then the middle quadwords swapped */
        __m256i e = _mm256_castps_si256(_mm256_shuffle_ps(a, b, 0x88));
        _mm256_storeu_si256((__m256i *)(d + 32 * i), _mm256_permute4x64_epi64(e, 0xd8));
    }
#else
    for (int c = 0; c < RT_QG_COLS; c++)
        memcpy(d + 4 * c, src + 8 * c, 4);
#endif
}

/* The packed block of pixels [p0, p0+n) from pad_image_c4's copy: each
 * group of 4 k is one tap of 4 channels, so a run of pixels in one output
 * row is one copy of 4-byte groups (stride 1: 128 contiguous bytes). Each
 * copy may write past its run (the next run, or the next group, overwrites
 * it; xb has 4 * RT_QG_COLS bytes of slack after kp * RT_QG_COLS). Columns
 * n.. hold whatever follows: they are never stored. */
static void im2col_c4(const QConv *q, int64_t p0, int n, uint8_t *xb)
{
    enum { MAXSEG = RT_QG_COLS + 1 };
    int64_t seg_pos[MAXSEG], seg_off[MAXSEG];
    int ns = 0;
    for (int64_t done = 0, p = p0; done < n; ns++) {
        int64_t oy = p / q->OW, ox = p % q->OW;
        int64_t len = q->OW - ox < n - done ? q->OW - ox : n - done;
        seg_pos[ns] = done;
        seg_off[ns] = (oy * q->sh * q->wp + ox * q->sw) * 4;
        done += len;
        p += len;
    }
    int64_t sw = q->sw;
    for (int64_t g = 0; g < q->kp / 4; g++) {
        const uint8_t *base = q->xp + q->koff[g];
        uint8_t *dq = xb + g * 4 * RT_QG_COLS;
        for (int s = 0; s < ns; s++) {
            const uint8_t *src = base + seg_off[s];
            uint8_t *d = dq + 4 * seg_pos[s];
            if (sw == 1) {
                memcpy(d, src, 4 * RT_QG_COLS);
            } else if (sw == 2) {
                take_even4(d, src);
            } else {
                int64_t len = (s + 1 < ns ? seg_pos[s + 1] : n) - seg_pos[s];
                for (int64_t i = 0; i < len; i++)
                    memcpy(d + 4 * i, src + 4 * i * sw, 4);
            }
        }
    }
}

/* im2col_c4 from x itself (an input too large for the padded copy):
 * tap by tap with bounds checks. */
static void im2col_c4_checked(const QConv *q, const uint8_t *x, int64_t p0, int n, uint8_t *xb)
{
    int64_t win = q->kh * q->kw, plane = q->H * q->W;
    for (int64_t g = 0; g < q->kp / 4; g++) {
        int64_t c4 = g / win, r = g % win, ky = r / q->kw, kx = r % q->kw;
        uint8_t *dq = xb + g * 4 * RT_QG_COLS;
        memset(dq, q->pad, 4 * RT_QG_COLS);
        for (int c = 0; c < n; c++) {
            int64_t p = p0 + c, oy = p / q->OW, ox = p % q->OW;
            int64_t iy = oy * q->sh - q->ph + ky * q->dh, ix = ox * q->sw - q->pw + kx * q->dw;
            if (iy < 0 || iy >= q->H || ix < 0 || ix >= q->W)
                continue;
            const uint8_t *s = x + 4 * c4 * plane + iy * q->W + ix;
            for (int j = 0; j < 4 && 4 * c4 + j < q->C; j++)
                dq[4 * c + j] = s[j * plane] ^ q->flip;
        }
    }
}

/* Depthwise (one input channel per group): a few taps per output, so a
 * plain dot per row beats the GEMM's tile of QG_MR rows. */
static void dw_rows(const QConv *q, const int8_t *w, const uint8_t *xb, const int32_t *xsum,
                    int n, const RtQgemmEpi *e, char *y)
{
    for (int64_t r = 0; r < q->mg; r++) {
        int32_t acc[RT_QG_COLS] = {0};
        const int8_t *wr = w + r * q->kp;
        for (int64_t k = 0; k < q->kp; k++) {
            const uint8_t *xk = xb + (k >> 2) * 4 * RT_QG_COLS + (k & 3);
            int32_t wk = wr[k];
            for (int c = 0; c < RT_QG_COLS; c++)
                acc[c] += xk[4 * c] * wk;
        }
        rt_qgemm_store(acc, n, r, xsum, e, y, q->P, 1);
    }
}

static void qconv_range(void *ctx, int64_t lo, int64_t hi)
{
    const QConv *q = ctx;
    uint8_t xb[(RT_QG_MAX_KP + 4) * RT_QG_COLS] __attribute__((aligned(64)));
    int32_t xsum[RT_QG_COLS];
    for (int64_t t = lo; t < hi; t++) {
        int64_t b = t / (q->group * q->nblk), g = (t / q->nblk) % q->group;
        int64_t p0 = (t % q->nblk) * RT_QG_COLS;
        int n = q->P - p0 < RT_QG_COLS ? (int)(q->P - p0) : RT_QG_COLS;
        if (q->korder == RT_QCONV_K_C4 && q->xp)
            im2col_c4(q, p0, n, xb);
        else if (q->korder == RT_QCONV_K_C4)
            im2col_c4_checked(q, q->x + b * q->C * q->H * q->W, p0, n, xb);
        else if (q->xp)
            im2col_padded(q, q->xp + g * q->cg * q->hp * q->wp, p0, n, xb);
        else
            im2col_block(q, q->x + (b * q->C + g * q->cg) * q->H * q->W, p0, n, xb);
        if (q->e.wz)
            rt_qgemm_col_sums(xb, q->kp, xsum);
        RtQgemmEpi e = q->e;
        e.rowc += g * q->mg;
        e.mult += g * q->mg;
        if (e.wz)
            e.wz += g * q->mg;
        const int8_t *w = q->w + g * q->mg * q->kp;
        char *y = q->y + ((b * q->M + g * q->mg) * q->P + p0) * q->osize;
        if (q->cg == 1)
            dw_rows(q, w, xb, xsum, n, &e, y);
        else
            rt_qgemm_block(w, q->kp, 0, q->mg, xb, xsum, n, &e, y, q->P, 1);
    }
}

static int qg_out_size(int dt)
{
    return dt == RT_U8 || dt == RT_I8 ? 1 : dt == RT_F32 || dt == RT_I32 ? 4 : 0;
}

/* The store of both ops from their inputs 2..4 and floats. */
static void qg_epi(const RtCall *c, const void *const *in, RtQgemmEpi *e)
{
    e->rowc = in[2];
    e->mult = in[3];
    e->wz = c->n_in > 4 && in[4] && c->in[4].dtype == RT_I32 ? in[4] : NULL;
    e->yz = c->floats[RT_QG_F_YZ];
    e->lo = c->floats[RT_QG_F_LO];
    e->hi = c->floats[RT_QG_F_HI];
    e->out = c->out[0].dtype;
}

int rt_qconv(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *xd = &c->in[0], *wd = &c->in[1], *yd = &c->out[0];
    const int64_t *p = c->ints;
    if ((xd->dtype != RT_U8 && xd->dtype != RT_I8) || xd->rank != 4 || wd->rank != 2 ||
        !qg_out_size(yd->dtype) || c->n_ints < RT_QCONV_NINTS || c->n_floats < RT_QG_NFLOATS)
        return RT_EDTYPE;
    QConv q;
    memset(&q, 0, sizeof q);
    q.x = in[0];
    q.w = in[1];
    qg_epi(c, in, &q.e);
    q.y = out[0];
    q.C = xd->dims[1];
    q.H = xd->dims[2];
    q.W = xd->dims[3];
    q.M = yd->dims[1];
    q.OW = yd->dims[3];
    q.P = yd->dims[2] * yd->dims[3];
    q.group = p[RT_CONV_INT_GROUP];
    q.cg = q.C / q.group;
    q.mg = q.M / q.group;
    q.kh = p[RT_QCONV_KH];
    q.kw = p[RT_QCONV_KW];
    q.sh = p[RT_CONV_INT_STRIDE_H];
    q.sw = p[RT_CONV_INT_STRIDE_W];
    q.ph = p[RT_CONV_INT_PAD_TOP];
    q.pw = p[RT_CONV_INT_PAD_LEFT];
    q.dh = p[RT_CONV_INT_DIL_H];
    q.dw = p[RT_CONV_INT_DIL_W];
    q.korder = (int)p[RT_QCONV_KORDER];
    int64_t c4n = (q.C + 3) / 4; /* RT_QCONV_K_C4's groups of 4 channels */
    q.K = q.korder == RT_QCONV_K_C4 ? 4 * c4n * q.kh * q.kw : q.cg * q.kh * q.kw;
    q.kp = wd->dims[1];
    if (q.kp != rt_qgemm_kpad(q.K) || q.kp > RT_QG_MAX_KP || wd->dims[0] != q.M)
        return RT_EDTYPE;
    q.nblk = (q.P + RT_QG_COLS - 1) / RT_QG_COLS;
    q.osize = qg_out_size(yd->dtype);
    q.pad = (uint8_t)p[RT_QCONV_XZ];
    q.flip = xd->dtype == RT_I8 ? 0x80 : 0;
    if (q.korder != RT_QCONV_K_CHW && (q.korder != RT_QCONV_K_C4 || q.group != 1))
        return RT_EINVAL;
    if (q.P <= 0)
        return RT_OK;
    /* the padded image: extent enough for every tap of every output, and
     * the stride-2 copies' reach */
    q.hp = (yd->dims[2] - 1) * q.sh + (q.kh - 1) * q.dh + 1;
    q.wp = (q.OW - 1) * q.sw + (q.kw - 1) * q.dw + 1;
    q.hp = q.hp > q.H + q.ph ? q.hp : q.H + q.ph;
    q.wp = q.wp > q.W + q.pw ? q.wp : q.W + q.pw;
    int64_t cpad = q.korder == RT_QCONV_K_C4 ? 4 * c4n : q.C;
    if (cpad * q.hp * q.wp + QG_PAD_SLACK <= QG_PAD_BYTES) {
        uint8_t xp[QG_PAD_BYTES] __attribute__((aligned(64)));
        int32_t koff[RT_QG_MAX_KP];
        int64_t win = q.kh * q.kw;
        if (q.korder == RT_QCONV_K_C4)
            for (int64_t g = 0; g < q.K / 4; g++) {
                int64_t c4 = g / win, r = g % win, ky = r / q.kw, kx = r % q.kw;
                koff[g] = (int32_t)(((c4 * q.hp + ky * q.dh) * q.wp + kx * q.dw) * 4);
            }
        else
            for (int64_t k = 0; k < q.K; k++) {
                int64_t ci = k / win, r = k % win, ky = r / q.kw, kx = r % q.kw;
                koff[k] = (int32_t)(ci * q.hp * q.wp + ky * q.dh * q.wp + kx * q.dw);
            }
        q.koff = koff;
        q.xp = xp;
        for (int64_t b = 0; b < xd->dims[0]; b++) {
            if (q.korder == RT_QCONV_K_C4)
                pad_image_c4(&q, b, xp);
            else
                pad_image(&q, b, xp);
            QConv qb = q;
            qb.x += b * q.C * q.H * q.W;
            qb.y += b * q.M * q.P * q.osize;
            rt_parallel_for(q.group * q.nblk, 1, qconv_range, &qb);
        }
        return RT_OK;
    }
    rt_parallel_for(xd->dims[0] * q.group * q.nblk, 1, qconv_range, &q);
    return RT_OK;
}

/* One QMatMul call. */
typedef struct QMm {
    const uint8_t *x;
    const int8_t *w;
    RtQgemmEpi e;
    char *y;
    int64_t rows, K, kp, N;      /* rows of x (all batches), reduction, padded, columns */
    int xdt, osize;
    uint8_t pad;
} QMm;

static void qmm_range(void *ctx, int64_t lo, int64_t hi)
{
    const QMm *q = ctx;
    uint8_t xb[RT_QG_MAX_KP * RT_QG_COLS] __attribute__((aligned(64)));
    int32_t xsum[RT_QG_COLS];
    for (int64_t t = lo; t < hi; t++) {
        int64_t r0 = t * RT_QG_COLS;
        int n = q->rows - r0 < RT_QG_COLS ? (int)(q->rows - r0) : RT_QG_COLS;
        rt_qgemm_pack_x_rows(q->x + r0 * q->K, q->xdt, q->K, q->K, n, q->pad, xb,
                             q->e.wz ? xsum : NULL);
        /* the GEMM's rows are y's columns: y[r0 + c][row] */
        rt_qgemm_block(q->w, q->kp, 0, q->N, xb, xsum, n, &q->e, q->y + r0 * q->N * q->osize, 1,
                       q->N);
    }
}

/* One row of x against all of W (rt_qgemm_gemv), W's rows split over the
 * threads. */
typedef struct QMv {
    const QMm *q;
    const uint8_t *xv;           /* the row, packed domain, kp bytes */
    int32_t xsum;
    char *y;                     /* the row's outputs */
} QMv;

static void qmv_range(void *ctx, int64_t lo, int64_t hi)
{
    const QMv *j = ctx;
    rt_qgemm_gemv(j->q->w, j->q->kp, lo, hi, j->xv, j->xsum, &j->q->e, j->y, 1, j->q->N);
}

/* Rows of x up to which each is its own matrix-vector product: the
 * 32-column block would compute mostly padding. */
#define QMM_GEMV_ROWS 4

int rt_qmatmul(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *xd = &c->in[0], *wd = &c->in[1];
    if ((xd->dtype != RT_U8 && xd->dtype != RT_I8) || xd->rank < 1 || wd->rank != 2 ||
        !qg_out_size(c->out[0].dtype) || c->n_ints < RT_QMM_NINTS ||
        c->n_floats < RT_QG_NFLOATS)
        return RT_EDTYPE;
    QMm q;
    memset(&q, 0, sizeof q);
    q.x = in[0];
    q.w = in[1];
    qg_epi(c, in, &q.e);
    q.y = out[0];
    q.K = xd->dims[xd->rank - 1];
    q.kp = wd->dims[1];
    q.N = wd->dims[0];
    if (q.kp != rt_qgemm_kpad(q.K) || q.kp > RT_QG_MAX_KP)
        return RT_EDTYPE;
    q.rows = q.K ? rt_numel(xd) / q.K : 0;
    q.xdt = xd->dtype;
    q.osize = qg_out_size(c->out[0].dtype);
    q.pad = (uint8_t)c->ints[RT_QMM_XZ];
    if (q.rows <= QMM_GEMV_ROWS) {
        uint8_t xv[RT_QG_MAX_KP];
        uint8_t flip = q.xdt == RT_I8 ? 0x80 : 0;
        for (int64_t i = 0; i < q.rows; i++) {
            int32_t s = 0;
            for (int64_t k = 0; k < q.kp; k++) {
                xv[k] = k < q.K ? q.x[i * q.K + k] ^ flip : q.pad;
                s += xv[k];
            }
            QMv j = {&q, xv, s, q.y + i * q.N * q.osize};
            rt_parallel_for(q.N, 64, qmv_range, &j);
        }
        return RT_OK;
    }
    if (q.rows > 0)
        rt_parallel_for((q.rows + RT_QG_COLS - 1) / RT_QG_COLS, 1, qmm_range, &q);
    return RT_OK;
}

/* Elements [lo, hi) of one QAdd. */
typedef struct QAddJob {
    const RtCall *c;
    const void *a, *b;
    void *y;
} QAddJob;

static inline float q8_at(const void *p, int dt, int64_t i)
{
    return dt == RT_U8 ? (float)((const uint8_t *)p)[i] : (float)((const int8_t *)p)[i];
}

static void qadd_range(void *ctx, int64_t lo, int64_t hi)
{
    const QAddJob *j = ctx;
    const float *f = j->c->floats;
    float ma = f[RT_QADD_F_MA], za = f[RT_QADD_F_ZA], mb = f[RT_QADD_F_MB];
    float zb = f[RT_QADD_F_ZB], zy = f[RT_QADD_F_ZY], l = f[RT_QADD_F_LO], h = f[RT_QADD_F_HI];
    int adt = j->c->in[0].dtype, bdt = j->c->in[1].dtype, ydt = j->c->out[0].dtype;
    if (adt == RT_U8 && bdt == RT_U8 && ydt == RT_U8) { /* the common case, vectorized */
        const uint8_t *a = j->a, *b = j->b;
        uint8_t *y = j->y;
        for (int64_t i = lo; i < hi; i++) {
            float v = rintf(((float)a[i] - za) * ma + ((float)b[i] - zb) * mb) + zy;
            y[i] = (uint8_t)(int32_t)(v < l ? l : v > h ? h : v);
        }
        return;
    }
    for (int64_t i = lo; i < hi; i++) {
        float v = rintf((q8_at(j->a, adt, i) - za) * ma + (q8_at(j->b, bdt, i) - zb) * mb) + zy;
        v = v < l ? l : v > h ? h : v;
        if (ydt == RT_U8)
            ((uint8_t *)j->y)[i] = (uint8_t)(int32_t)v;
        else
            ((int8_t *)j->y)[i] = (int8_t)(int32_t)v;
    }
}

int rt_qadd(const RtCall *c, const void *const *in, void *const *out)
{
    int64_t n = rt_numel(&c->out[0]);
    if (c->n_floats < RT_QADD_NFLOATS || rt_numel(&c->in[0]) != n || rt_numel(&c->in[1]) != n)
        return RT_EDTYPE;
    for (int i = 0; i < 3; i++) {
        int dt = i < 2 ? c->in[i].dtype : c->out[0].dtype;
        if (dt != RT_U8 && dt != RT_I8)
            return RT_EDTYPE;
    }
    QAddJob j = {c, in[0], in[1], out[0]};
    rt_parallel_for(n, 16384, qadd_range, &j);
    return RT_OK;
}

/* Planes [lo, hi) of one QGlobalAveragePool. */
typedef struct QGapJob {
    const RtCall *c;
    const void *x;
    void *y;
    int64_t sz;
} QGapJob;

static void qgap_range(void *ctx, int64_t lo, int64_t hi)
{
    const QGapJob *j = ctx;
    const float *f = j->c->floats;
    float m = f[RT_QGAP_F_M], yz = f[RT_QGAP_F_YZ], l = f[RT_QGAP_F_LO], h = f[RT_QGAP_F_HI];
    int32_t xz = (int32_t)f[RT_QGAP_F_XZ];
    int sx = j->c->in[0].dtype == RT_I8, sy = j->c->out[0].dtype == RT_I8;
    for (int64_t p = lo; p < hi; p++) {
        int32_t s = 0;
        if (sx) {
            const int8_t *x = (const int8_t *)j->x + p * j->sz;
            for (int64_t i = 0; i < j->sz; i++)
                s += x[i];
        } else {
            const uint8_t *x = (const uint8_t *)j->x + p * j->sz;
            for (int64_t i = 0; i < j->sz; i++)
                s += x[i];
        }
        int32_t acc = (int32_t)((uint32_t)s - (uint32_t)xz * (uint32_t)j->sz);
        float v = rintf((float)acc * m) + yz;
        v = v < l ? l : v > h ? h : v;
        if (sy)
            ((int8_t *)j->y)[p] = (int8_t)(int32_t)v;
        else
            ((uint8_t *)j->y)[p] = (uint8_t)(int32_t)v;
    }
}

int rt_qglobal_avgpool(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0];
    int xdt = x->dtype, ydt = c->out[0].dtype;
    if (c->n_floats < RT_QGAP_NFLOATS || x->rank < 3 || (xdt != RT_U8 && xdt != RT_I8) ||
        (ydt != RT_U8 && ydt != RT_I8))
        return RT_EDTYPE;
    int64_t planes = x->dims[0] * x->dims[1];
    QGapJob j = {c, in[0], out[0], planes ? rt_numel(x) / planes : 0};
    /* the sums are int32: planes up to 2^23 bytes (8-bit values) cannot overflow */
    if (j.sz > ((int64_t)1 << 23))
        return RT_EINVAL;
    rt_parallel_for(planes, j.sz >= 16384 ? 1 : 16384 / (j.sz ? j.sz : 1), qgap_range, &j);
    return RT_OK;
}
