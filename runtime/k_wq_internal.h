/* k_wq_internal.h: the block accessors runtime/k_wq.c shares with the weight-only kernels. */
#ifndef ONNXCC_K_WQ_INTERNAL_H
#define ONNXCC_K_WQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* One product with packed W (k_wq_matmul.c); its fields past w are
 * MatMulWQ's own, unused by wq_pack_panels. */
typedef struct WqJob {
    int fmt, group;
    int gp, hdr;                 /* padded group, bytes before a block's codes */
    int64_t m, k, ng;
    size_t bb;                   /* bytes per block */
    float ts;
    const float *x;
    const uint8_t *w;
    const float *bias;
    float *y;
    int64_t ldy;                 /* N */
} WqJob;

/* The group length a block's codes are padded to (k_wq.h's gp). */
int wq_group_padded(int fmt, int group);
/* Bytes before a block's codes (scale, zero point). */
int wq_block_header(int fmt);
/* A block's scale as a float (decoded from E8M0 or E4M3 where stored so). */
float wq_block_scale(int fmt, const uint8_t *block);
/* Code i of a group, from the block's code bytes. */
int wq_code_at(int fmt, int group, const uint8_t *codes, int i);
/* A Sherry quad's 5-bit code as four values in {-1, 0, +1}. */
void wq_sherry_decode(unsigned q, float *v);

/* An RtPackB over W (src a WqJob with fmt, group, gp, hdr, k, ng, bb, w
 * set): panel column t is W's row j0 + t over k0 .. k0 + kc, decoded a
 * block at a time and scaled (tensor_scale not applied); the B operand of
 * MatMulWQ's GEMM path, and ConvWQ's weights on either side. */
void wq_pack_panels(const void *src, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                    float *dst);

/* k_wq_gemv.c: one row of X against rows [r0, r1) of W over K's whole
 * groups: acc[r - r0] = sum over them of x . w_r (tensor_scale not
 * applied; a partial last group left to the caller). 0, acc untouched, if
 * the target has no matrix-vector kernel for this format and group. */
int wq_gemv_full(int fmt, int group, int64_t k, const uint8_t *w, int64_t r0, int64_t r1,
                 const float *x, float *acc);

/* k_wq_gemv8.c: MatMulWQ with int8 activations (act_bits 8). Each row of X
 * is quantized per weight group: s_x = max |x| / 127, code rint(x / s_x)
 * (0 for a group of zeros), the codes of a group stored in the vector
 * kernels' order when `chunked` (group a multiple of 32: element
 * wq_a8_elem(e) at position e), else in k order, the padding of the last
 * group 0. wq_a8_takes: whether the path takes the product (int8, int4 or
 * int2 weights, M <= 8, X small enough for its stack buffers); the answer
 * does not depend on the target. wq_matmul_a8: the product into j->y (m,
 * x, w, bias, y, ldy set, as rt_wq_matmul sets them); 0 if not taken or X
 * is not finite (the float path's turn). */
int wq_a8_takes(int fmt, int64_t m, int64_t k, int group);
int wq_matmul_a8(const WqJob *j);
int wq_a8_elem(int fmt, int group, int e);
/* One row x of K into xq (ceil(K / group) * group codes), per group the
 * scale sx, the codes' sum and (ns not NULL) -sum over 16 int16 words;
 * -1 if x holds a NaN or an infinity. */
int wq_a8_quantize_row(int fmt, int group, int chunked, const float *x, int64_t k, int8_t *xq,
                       float *sx, int32_t *sum, int16_t *ns);
/* The kernel this runtime build carries: "avx512vnni", "avxvnni", "avx2", "c". */
const char *wq_a8_isa(void);

#endif
