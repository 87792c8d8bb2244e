/* k_matmul.c: MatMul (NumPy semantics, batched) and Gemm, B plain or packed at compile time. */
#include <string.h>

#include "rt_internal.h"

/* One M x N x K product of any supported dtype; offsets are in elements.
 * Integers accumulate in 64 bits and wrap on store, as ONNX Runtime does. */
static int mm_generic(int dt, const void *a, int64_t ao, int64_t lda, int64_t sak,
                      const void *b, int64_t bo, int64_t ldb, int64_t sbn, void *y, int64_t yo,
                      int64_t m, int64_t n, int64_t k)
{
    if (dt == RT_F64) {
        const double *A = (const double *)a + ao, *B = (const double *)b + bo;
        double *Y = (double *)y + yo;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += A[i * lda + p * sak] * B[p * ldb + j * sbn];
                Y[i * n + j] = s;
            }
        return RT_OK;
    }
    if (rt_is_float(dt)) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += rt_load_f64(a, dt, ao + i * lda + p * sak) *
                         rt_load_f64(b, dt, bo + p * ldb + j * sbn);
                rt_store_f64(y, dt, yo + i * n + j, s);
            }
        return RT_OK;
    }
    switch (dt) {
    case RT_I8: case RT_I16: case RT_I32: case RT_I64:
    case RT_U8: case RT_U16: case RT_U32: case RT_U64:
        break;
    default:
        return RT_EDTYPE;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            uint64_t s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (uint64_t)rt_load_i64(a, dt, ao + i * lda + p * sak) *
                     (uint64_t)rt_load_i64(b, dt, bo + p * ldb + j * sbn);
            rt_store_i64(y, dt, yo + i * n + j, (int64_t)s);
        }
    return RT_OK;
}

/* Matrix strides of an operand's batch dims broadcast to the output's. */
static int batch_strides(const RtTensorDesc *t, int nmat, const RtTensorDesc *ob, int64_t *st)
{
    RtTensorDesc b = *t;
    b.rank = t->rank > nmat ? t->rank - nmat : 0;
    return rt_broadcast_strides(&b, ob, st);
}

/* The panel width a compile-time packed B was laid out for (ints[slot]), 0
 * when B is plain, -1 when it does not fit this runtime: float32, 2-D, the
 * runtime's own NR, and [K, N rounded up to NR] floats for n columns. */
static int packed_b(const RtCall *c, int slot, int64_t k, int64_t n)
{
    if (c->n_ints <= slot || c->ints[slot] <= 0)
        return 0;
    int mr, nr;
    rt_gemm_tile(&mr, &nr);
    const RtTensorDesc *tb = &c->in[1];
    if (c->ints[slot] != nr || tb->dtype != RT_F32 || c->in[0].dtype != RT_F32 || tb->rank != 2 ||
        tb->dims[0] != k || tb->dims[1] != (n + nr - 1) / nr * nr)
        return -1;
    return nr;
}

/* Y (rows x n) = alpha * A * B + beta * Y + z (row vector, ldz 0, or NULL)
 * with B packed at compile time: both operands are then packed once per
 * call (a plain B makes the GEMM repack A for every NC-wide block of columns). */
static void mm_packed(int64_t rows, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, int trans_a, const float *bp, float beta, const float *z,
                      float *y)
{
    RtGemmA A = {a, lda, trans_a, NULL, NULL, NULL};
    RtGemmB B = {NULL, NULL, bp};
    RtGemmEpi e = {NULL, z, 0, RT_EPI_NONE, 0, 0, 0};
    rt_sgemm_ex(rows, n, k, alpha, &A, &B, beta, &e, y, n);
}

int rt_matmul(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *ta = &c->in[0], *tb = &c->in[1], *ty = &c->out[0];
    int dt = ta->dtype;
    if (c->n_ints > RT_MATMUL_PACK && c->ints[RT_MATMUL_PACK] > 0) {
        int64_t k = ta->dims[ta->rank - 1], n = ty->rank ? ty->dims[ty->rank - 1] : 0;
        if (ta->rank < 1 || ty->rank < 1 || packed_b(c, RT_MATMUL_PACK, k, n) <= 0)
            return RT_EINVAL;
        mm_packed(rt_numel(ty) / (n ? n : 1), n, k, 1, in[0], k, 0, in[1], 0, NULL, out[0]);
        return RT_OK;
    }
    if (tb->dtype != dt || ta->rank < 1 || tb->rank < 1)
        return RT_EINVAL;
    int ra = ta->rank, rb = tb->rank;
    int64_t m = ra >= 2 ? ta->dims[ra - 2] : 1, k = ta->dims[ra - 1];
    int64_t n = rb >= 2 ? tb->dims[rb - 1] : 1;
    if ((rb >= 2 ? tb->dims[rb - 2] : tb->dims[0]) != k)
        return RT_EINVAL;
    RtTensorDesc ob = *ty;
    ob.rank = ty->rank - (ra >= 2) - (rb >= 2);
    if (ob.rank < 0)
        return RT_EINVAL;
    int64_t sa[RT_MAX_RANK], sb[RT_MAX_RANK];
    if (batch_strides(ta, 2, &ob, sa) || batch_strides(tb, 2, &ob, sb))
        return RT_EINVAL;
    int64_t nb = rt_numel(&ob);
    if (dt == RT_F32 && rb <= 2) {
        /* a matrix shared by the whole batch (a weight): one GEMM with M = batch * m */
        rt_sgemm(0, 0, nb * m, n, k, 1, in[0], k, in[1], n, 0, out[0], n);
        return RT_OK;
    }
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t oa = 0, obb = 0, idx = bi;
        for (int d = ob.rank - 1; d >= 0; d--) {
            int64_t q = idx % ob.dims[d];
            idx /= ob.dims[d];
            oa += q * sa[d];
            obb += q * sb[d];
        }
        oa *= m * k;
        obb *= k * n;
        if (dt == RT_F32) {
            rt_sgemm(0, 0, m, n, k, 1, (const float *)in[0] + oa, k, (const float *)in[1] + obb,
                     n, 0, (float *)out[0] + bi * m * n, n);
        } else {
            int rc = mm_generic(dt, in[0], oa, k, 1, in[1], obb, n, 1, out[0], bi * m * n, m,
                                n, k);
            if (rc)
                return rc;
        }
    }
    return RT_OK;
}

int rt_gemm(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *ta = &c->in[0], *tb = &c->in[1], *ty = &c->out[0];
    if (c->n_ints < RT_GEMM_NINTS || c->n_floats < RT_GEMM_NFLOATS || ta->rank != 2 ||
        tb->rank != 2 || ty->rank != 2)
        return RT_EINVAL;
    int trans_a = (int)c->ints[RT_GEMM_TRANS_A], trans_b = (int)c->ints[RT_GEMM_TRANS_B];
    float alpha = c->floats[RT_GEMM_F_ALPHA], beta = c->floats[RT_GEMM_F_BETA];
    int dt = ta->dtype;
    int64_t m = ty->dims[0], n = ty->dims[1];
    int64_t k = trans_a ? ta->dims[0] : ta->dims[1];
    int has_c = c->n_in > 2 && in[2] && c->in[2].dtype != RT_UNDEF;
    int64_t cs[RT_MAX_RANK] = {0, 0};
    if (has_c && rt_broadcast_strides(&c->in[2], ty, cs))
        return RT_EINVAL;
    int pk = packed_b(c, RT_GEMM_PACK, k, n);
    if (pk < 0 || (pk && trans_b))
        return RT_EINVAL;
    if (dt == RT_F32 && pk) {
        /* a C broadcast along the rows (a Linear layer's bias) is the
         * epilogue's sum input with row stride 0; any other C is copied to Y */
        const float *z = NULL;
        float bt = 0;
        if (has_c && beta == 1 && cs[0] == 0 && (cs[1] == 1 || n == 1)) {
            z = in[2];
        } else if (has_c && beta != 0) {
            const float *cc = in[2];
            float *y = out[0];
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++)
                    y[i * n + j] = beta * cc[i * cs[0] + j * cs[1]];
            bt = 1;
        }
        mm_packed(m, n, k, alpha, in[0], ta->dims[1], trans_a, in[1], bt, z, out[0]);
        return RT_OK;
    }
    if (dt == RT_F32) {
        float *y = out[0];
        float bt = 0;
        if (has_c && beta != 0) {
            const float *cc = in[2];
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++)
                    y[i * n + j] = beta * cc[i * cs[0] + j * cs[1]];
            bt = 1;
        }
        rt_sgemm(trans_a, trans_b, m, n, k, alpha, in[0], ta->dims[1], in[1], tb->dims[1], bt, y,
                 n);
        return RT_OK;
    }
    int64_t lda = ta->dims[1], ldb = tb->dims[1];
    int rc = mm_generic(dt, in[0], 0, trans_a ? 1 : lda, trans_a ? lda : 1, in[1], 0,
                        trans_b ? 1 : ldb, trans_b ? ldb : 1, out[0], 0, m, n, k);
    if (rc)
        return rc;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double v = alpha * rt_load_f64(out[0], dt, i * n + j);
            if (has_c)
                v += beta * rt_load_f64(in[2], dt, i * cs[0] + j * cs[1]);
            rt_store_f64(out[0], dt, i * n + j, v);
        }
    return RT_OK;
}
