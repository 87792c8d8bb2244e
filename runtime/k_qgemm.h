/* k_qgemm.h: the int8 GEMM: uint8 activations x int8 weights -> int32, with a fused requantizing store. */
#ifndef ONNXCC_K_QGEMM_H
#define ONNXCC_K_QGEMM_H

#include <stdint.h>

/* The product is C[r][c] = sum_k W[r][k] * X[k][c]: rows are output channels
 * (a Conv's M, a MatMul's N), columns are output points (a Conv's pixels, a
 * MatMul's rows of A). Both operands are re-coded so that every path does
 * uint8 x int8 (the operand order of vpdpbusd):
 *  - W is packed once, at compile time: int8 rows of kp = K rounded up to 4
 *    bytes (zero padded); a uint8 weight is stored as w - 128 and its zero
 *    point moves by the same 128, so the product is unchanged.
 *  - X is packed per call in blocks of RT_QG_COLS columns: for each group of
 *    4 consecutive k, the 4 bytes of column 0, then column 1, ... (the layout
 *    in which one 32-bit lane of a vector holds one column's 4 products). An
 *    int8 activation is stored as x + 128, its zero point moved by 128.
 * The layouts do not depend on the ISA, so a packed model runs on any
 * runtime build. Paths, by the ISA macros of the runtime being compiled:
 * AVX-512 VNNI (vpdpbusd on 16 columns), AVX-VNNI (the same on 8), AVX2
 * (operands widened to int16 and vpmaddwd: exact, where vpmaddubsw would
 * saturate), and portable C. No AMX path: no machine here has AMX to test it.
 *
 * The true sum of (x - xz) * (w - wz[r]) over k is
 *   raw - xz * wsum[r] - wz[r] * xsum[c] + kp * xz * wz[r]
 * with raw = sum x * w of the packed values and wsum, xsum the sums of
 * either operand (the padded k hold x = xz, w = 0, hence kp): the row terms
 * are constants the pass folds into one int32 per row with the bias
 * (rt_qgemm_rowc); the column term is needed only when some wz[r] is
 * nonzero. */
#define RT_QG_COLS 32

/* The requantizing store of one block, per output row r:
 *   acc = raw + rowc[r] - (wz ? wz[r] * xsum[c] : 0)   (int32, wrapping)
 *   uint8/int8 out: clamp(rint((float)acc * mult[r]) + yz, lo, hi), rint
 *                   rounding half to even as ONNX's QLinearConv says;
 *   float32 out:    clamp((float)acc * mult[r], lo, hi) (a dequantized output);
 *   int32 out:      acc (ConvInteger, MatMulInteger).
 * lo and hi are in the output's units: the type's range, narrowed by a fused
 * Relu or Clip. Element (r, c) of y is at y + r * ldr + c * ldc elements. */
typedef struct RtQgemmEpi {
    const int32_t *rowc;         /* per row: rt_qgemm_rowc() */
    const int32_t *wz;           /* per row: the (packed) weight zero point; NULL: all 0 */
    const float *mult;           /* per row: x_scale * w_scale / y_scale (float out: no / y_scale) */
    float yz, lo, hi;            /* output zero point and clamp */
    int out;                     /* RT_U8, RT_I8, RT_F32 or RT_I32 */
} RtQgemmEpi;

/* Row r's constant of the store: bias - xz * wsum + kp * xz * wz, in the
 * packed domain (xz, wz moved as the packers moved x and w). */
static inline int32_t rt_qgemm_rowc(int64_t kp, int32_t xz, int32_t wz, int32_t wsum,
                                    int32_t bias)
{
    return (int32_t)((int64_t)bias - (int64_t)xz * wsum + kp * xz * (int64_t)wz);
}

/* K rounded up to the 4-byte groups of the packed layouts. */
static inline int64_t rt_qgemm_kpad(int64_t k)
{
    return (k + 3) & ~(int64_t)3;
}

/* Packs rows x k weights, element (r, k) at w[r * rs + k * cs] of type wdt
 * (RT_U8 or RT_I8), into dst (rows x rt_qgemm_kpad(k) bytes) and their sums
 * (of the stored values) into wsum[rows]. Returns the shift applied to the
 * weights (and to be applied to their zero point): 128 for uint8, else 0. */
int rt_qgemm_pack_w(int64_t rows, int64_t k, const void *w, int wdt, int64_t rs, int64_t cs,
                    int8_t *dst, int32_t *wsum);

/* Packs columns [0, n) (n <= RT_QG_COLS) of a block whose column c is the
 * row a + c * lda (k bytes each, type adt: RT_U8 or RT_I8) into xb
 * (rt_qgemm_kpad(k) * RT_QG_COLS bytes); columns n.. and the padded k are
 * filled with pad (the packed zero point, so they add nothing after the
 * correction). xsum (RT_QG_COLS int32, or NULL) gets each column's sum. */
void rt_qgemm_pack_x_rows(const void *a, int adt, int64_t lda, int64_t k, int n, uint8_t pad,
                          uint8_t *xb, int32_t *xsum);

/* Interleaves 4 rows of RT_QG_COLS packed-domain bytes (k, k+1, k+2, k+3 of
 * each column) into the group of xb they belong to (conv's im2col builds its
 * rows this way). */
void rt_qgemm_put_quad(const uint8_t *const rows[4], uint8_t *xq);

/* The column sums of a packed block (for weights with a nonzero zero point). */
void rt_qgemm_col_sums(const uint8_t *xb, int64_t kp, int32_t *xsum);

/* Rows [r0, r1) of W (packed, kp bytes a row) times one packed block xb of
 * n columns, stored through e into y. xsum is read when e->wz is set. */
void rt_qgemm_block(const int8_t *w, int64_t kp, int64_t r0, int64_t r1, const uint8_t *xb,
                    const int32_t *xsum, int n, const RtQgemmEpi *e, void *y, int64_t ldr,
                    int64_t ldc);

/* Row r's n raw sums acc (n <= RT_QG_COLS) stored through e (a kernel
 * with its own inner loop, depthwise Conv, shares the store). */
void rt_qgemm_store(const int32_t *acc, int n, int64_t r, const int32_t *xsum,
                    const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc);

/* Rows [r0, r1) of W times one column xv (kp bytes, packed domain: x
 * re-coded and its padded k holding the zero point): the matrix-vector
 * product of a MatMul with one row, W read once, row by row (contiguous)
 * rather than through the 32-column block. xsum (xv's sum) is read when
 * e->wz is set; result r stored as column 0 of row r through e. */
void rt_qgemm_gemv(const int8_t *w, int64_t kp, int64_t r0, int64_t r1, const uint8_t *xv,
                   int32_t xsum, const RtQgemmEpi *e, void *y, int64_t ldr, int64_t ldc);

/* Which path this build of the runtime compiled: "avx512vnni", "avxvnni",
 * "avx2", "c" (tests and --profile name it). */
const char *rt_qgemm_path(void);

#endif
