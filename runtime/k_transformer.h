/* k_transformer.h: prototypes and parameter layouts of the transformer kernels of opsets 23-28
 * (included by onnxcc_rt.h). */
#ifndef ONNXCC_K_TRANSFORMER_H
#define ONNXCC_K_TRANSFORMER_H

#include <stdint.h>

/* ---- Attention (k_attention.c) ----
 * The float32 core, callable on its own (a decoder step with a KV cache it
 * owns calls it with the cache as segment 0 and the new token's K/V as
 * segment 1). Every tensor is addressed by strides in elements, so 3-D
 * [B, S, H*D] and 4-D [B, H, S, D] layouts, caches with spare rows and
 * heads shared by GQA need no copy:
 *   Q(b, h, i, d)  = q[b*q_sb + h*q_sh + i*q_si + d],   h < q_heads, i < q_len, d < head_dim
 *   K(b, g, j, d)  = k[s].p[b*sb + g*sh + (j - j0)*sj + d] for key j in segment s
 *   V(b, g, j, e)  = v[s].p[...] likewise, e < v_dim
 *   Y(b, h, i, e)  = y[b*y_sb + h*y_sh + i*y_si + e]
 * with g = h / (q_heads / kv_heads) (GQA: consecutive query heads share a KV
 * head) and keys numbered across segment 0 then segment 1 (T = total).
 * Score s_ij = scale * Q_i . K_j; then softcap * tanh(s / softcap) when
 * softcap > 0; then the bias: a float mask added or a bool mask (0: -inf),
 * mask(b, h, i, j) = mask[b*m_sb + h*m_sh + i*m_si + j] for j < m_len (a
 * stride of 0 broadcasts; keys j >= m_len are masked), keys j >= kv_valid[b]
 * masked, and with causal keys j > i + offset masked, offset = causal_offset,
 * or kv_valid[b] - q_len when causal_from_valid. A row whose keys are all
 * masked gives probabilities and Y of 0. qk, when not NULL, receives
 * [B, q_heads, q_len, T] densely: mode 0 the scores after softcap, 1 the same,
 * 2 after the bias, 3 the probabilities (ONNX's qk_matmul_output_mode).
 * Work is split over (batch, head, block of query rows) with
 * rt_parallel_for; scratch is one block of scores on the stack, so T is at
 * most RT_ATTN_MAX_KV. */
#define RT_ATTN_MAX_KV 32768
typedef struct RtAttnSeg {
    const float *p;              /* the segment's first row of batch 0, head 0 */
    int64_t sb, sh, sj;          /* strides of batch, head, row */
    int64_t len;                 /* rows (keys) in the segment; 0: unused */
} RtAttnSeg;
typedef struct RtAttnArgs {
    int64_t batch, q_heads, kv_heads, q_len, head_dim, v_dim;
    const float *q;
    int64_t q_sb, q_sh, q_si;
    RtAttnSeg k[2], v[2];        /* keys and values in two segments (past, new) */
    float scale, softcap;        /* softcap 0: none */
    int causal, causal_from_valid;
    int64_t causal_offset;
    const int64_t *kv_valid;     /* per batch, or NULL */
    const void *mask;            /* float or bool (uint8) mask, or NULL */
    int mask_bool;
    int64_t m_sb, m_sh, m_si, m_len;
    float *y;
    int64_t y_sb, y_sh, y_si;
    float *qk;                   /* dense [B, q_heads, q_len, T], or NULL */
    int qk_mode;
} RtAttnArgs;
void rt_attention_f32(const RtAttnArgs *a);

/* Attention (opset 23/24): Q, K, V, attn_mask?, past_key?, past_value?,
 * nonpad_kv_seqlen? -> Y, present_key?, present_value?, qk_matmul_output?
 * Q/K/V 3-D [B, S, H*D] (heads from the parameters) or 4-D [B, H, S, D];
 * past/present 4-D. SCALE is resolved by the compiler (1/sqrt(D) by default),
 * SOFTCAP 0 means none. float32 takes rt_attention_f32; float16, bfloat16 and
 * float64 a scalar path computing in float32 (scores) and double (sums). */
enum { RT_ATTN_Q_HEADS, RT_ATTN_KV_HEADS, RT_ATTN_CAUSAL, RT_ATTN_QK_MODE, RT_ATTN_NINTS };
enum { RT_ATTN_F_SCALE, RT_ATTN_F_SOFTCAP, RT_ATTN_NFLOATS };
int rt_attention(const RtCall *c, const void *const *in, void *const *out);

/* ---- RotaryEmbedding (k_rotary.c) ----
 * input 4-D [B, H, S, D] or 3-D [B, S, H*D] (NUM_HEADS from the compiler),
 * cos_cache, sin_cache: [max_pos, R/2] gathered by position_ids [B, S], or
 * [B, S, R/2] without them. The first R = ROTARY_DIM features of each head
 * are rotated: as halves (x[i], x[i + R/2]) or, INTERLEAVED, as pairs
 * (x[2i], x[2i+1]); the rest are copied. A position outside the cache gives
 * RT_EINVAL. */
enum { RT_ROPE_NUM_HEADS, RT_ROPE_ROTARY_DIM, RT_ROPE_INTERLEAVED, RT_ROPE_NINTS };
int rt_rotary_embedding(const RtCall *c, const void *const *in, void *const *out);

/* ---- RMSNormalization (k_norm.c, beside LayerNormalization) ----
 * Y = X / sqrt(mean(X^2 over axes [AXIS, rank)) + EPSILON) * Scale, Scale
 * broadcast to X.shape[AXIS:]; statistics in float32 or wider. */
enum { RT_RMSNORM_AXIS, RT_RMSNORM_NINTS };
enum { RT_RMSNORM_F_EPSILON, RT_RMSNORM_NFLOATS };
int rt_rmsnorm(const RtCall *c, const void *const *in, void *const *out);

/* ---- LinearAttention (k_linattn.c) ----
 * query [B, T, Hq*dk], key [B, T, Hkv*dk], value [B, T, Hkv*dv],
 * past_state? [B, Hkv, dk, dv], decay? [B, T, Hkv*dk or Hkv] (log gates),
 * beta? [B, T, Hkv or 1], erase_gate? [B, T, Hkv*dk] -> output
 * [B, T, Hq*dv], present_state? [B, Hkv, dk, dv]. GATING and DELTA select
 * the update rule (linear, gated, delta, gated_delta); the state is float32
 * on the stack, at most RT_LINATTN_MAX_STATE floats, dk and dv at most
 * RT_LINATTN_MAX_DIM. */
#define RT_LINATTN_MAX_DIM 1024
#define RT_LINATTN_MAX_STATE 65536
enum { RT_LINATTN_Q_HEADS, RT_LINATTN_KV_HEADS, RT_LINATTN_GATING, RT_LINATTN_DELTA,
       RT_LINATTN_NINTS };
enum { RT_LINATTN_F_SCALE, RT_LINATTN_NFLOATS };
int rt_linear_attention(const RtCall *c, const void *const *in, void *const *out);

/* ---- CausalConvWithState (k_causalconv.c) ----
 * input [B, C, L], weight [C, 1, k], bias? [C], past_state? [B, C, k-1]
 * -> output [B, C, L], present_state? [B, C, k-1]: a depthwise 1-D
 * convolution over the past state followed by the input, SILU applying
 * x * sigmoid(x) after it; the state returned is the last k-1 inputs. */
#define RT_CCS_MAX_K 4096
enum { RT_CCS_SILU, RT_CCS_NINTS };
int rt_causal_conv_with_state(const RtCall *c, const void *const *in, void *const *out);

/* ---- SwiGLU (k_swiglu.c) ----
 * y = a * sigmoid(ALPHA * a) * b, a and b of one shape. */
enum { RT_SWIGLU_F_ALPHA, RT_SWIGLU_NFLOATS };
int rt_swiglu(const RtCall *c, const void *const *in, void *const *out);

/* ---- TensorScatter (k_tensorscatter.c) ----
 * past_cache [B, ..., max_len (AXIS), ...], update [B, ..., len, ...],
 * write_indices? int64 [B] (default 0) -> present_cache: the cache with
 * update written along AXIS (>= 1) from each batch entry's index, wrapping
 * modulo max_len when CIRCULAR. An index that would write outside the
 * cache gives RT_EINVAL. */
enum { RT_TSCATTER_AXIS, RT_TSCATTER_CIRCULAR, RT_TSCATTER_NINTS };
int rt_tensor_scatter(const RtCall *c, const void *const *in, void *const *out);

#endif
