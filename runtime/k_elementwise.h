/* k_elementwise.h: elementwise kernels: prototypes and parameter layouts (via onnxcc_rt.h). */
#ifndef ONNXCC_K_ELEMENTWISE_H
#define ONNXCC_K_ELEMENTWISE_H

/* Binary ops of rt_binary and rt_variadic. The values are written into
 * generated code, so only append. And/Or/Xor on bool are the bitwise ops. */
enum RtBinOp {
    RT_BIN_ADD = 0,
    RT_BIN_SUB = 1,
    RT_BIN_MUL = 2,
    RT_BIN_DIV = 3,    /* integers truncate toward zero; x / 0 is 0 */
    RT_BIN_POW = 4,    /* base and exponent dtypes may differ; out has the base's */
    RT_BIN_MOD = 5,    /* Mod fmod=0: result has the divisor's sign; x mod 0 is 0 */
    RT_BIN_FMOD = 6,   /* Mod fmod=1: C fmod / %, result has the dividend's sign */
    RT_BIN_PRELU = 7,  /* x < 0 ? x * slope : x */
    RT_BIN_MAX = 8,    /* NaN wins, as in numpy.maximum */
    RT_BIN_MIN = 9,
    RT_BIN_SHL = 10,   /* BitShift LEFT; shifts >= 64 give 0 */
    RT_BIN_SHR = 11,
    RT_BIN_BITAND = 12,
    RT_BIN_BITOR = 13,
    RT_BIN_BITXOR = 14,
    RT_BIN_EQ = 15,    /* comparisons write bool */
    RT_BIN_LT = 16,
    RT_BIN_GT = 17,
    RT_BIN_LE = 18,
    RT_BIN_GE = 19,
    RT_BIN_COUNT
};

/* Unary ops of rt_unary; only append. */
enum RtUnOp {
    RT_UN_SQRT = 0,
    RT_UN_EXP = 1,
    RT_UN_LOG = 2,
    RT_UN_ABS = 3,
    RT_UN_NEG = 4,
    RT_UN_RECIPROCAL = 5,
    RT_UN_RELU = 6,
    RT_UN_LEAKY_RELU = 7,  /* P0 alpha */
    RT_UN_SIGMOID = 8,
    RT_UN_TANH = 9,
    RT_UN_ERF = 10,
    RT_UN_HARD_SIGMOID = 11, /* P0 alpha, P1 beta */
    RT_UN_HARD_SWISH = 12,
    RT_UN_GELU = 13,       /* 0.5 x (1 + erf(x / sqrt 2)) */
    RT_UN_GELU_TANH = 14,  /* Gelu approximate="tanh" */
    RT_UN_ELU = 15,        /* P0 alpha */
    RT_UN_SELU = 16,       /* P0 alpha, P1 gamma */
    RT_UN_CELU = 17,       /* P0 alpha */
    RT_UN_SOFTPLUS = 18,
    RT_UN_SOFTSIGN = 19,
    RT_UN_THRESHOLDED_RELU = 20, /* P0 alpha */
    RT_UN_SIN = 21,
    RT_UN_COS = 22,
    RT_UN_TAN = 23,
    RT_UN_ASIN = 24,
    RT_UN_ACOS = 25,
    RT_UN_ATAN = 26,
    RT_UN_SINH = 27,
    RT_UN_COSH = 28,
    RT_UN_ASINH = 29,
    RT_UN_ACOSH = 30,
    RT_UN_ATANH = 31,
    RT_UN_FLOOR = 32,
    RT_UN_CEIL = 33,
    RT_UN_ROUND = 34,      /* half to even */
    RT_UN_SIGN = 35,
    RT_UN_NOT = 36,        /* bool */
    RT_UN_BITNOT = 37,     /* integers */
    RT_UN_ISNAN = 38,      /* writes bool */
    RT_UN_ISINF = 39,      /* writes bool; DETECT_POS, DETECT_NEG */
    RT_UN_SHRINK = 40,     /* P0 lambd, P1 bias */
    RT_UN_MISH = 41,       /* x tanh(softplus(x)) */
    RT_UN_SWISH = 42,      /* x sigmoid(P0 x), P0 alpha (Swish-24) */
    RT_UN_COUNT
};

/* Add .. GreaterOrEqual, And, Or, Xor, Mod, PRelu, BitShift, Bitwise{And,Or,Xor}:
 * out = a OP b under NumPy broadcasting. EXTRA_DIMS (optional) counts 1-dims
 * appended to b's shape (PRelu before opset 7 broadcasts a [C] slope over axis 1). */
enum { RT_BINARY_OP /* RtBinOp */, RT_BINARY_EXTRA_DIMS };
int rt_binary(const RtCall *c, const void *const *in, void *const *out);

/* Max, Min, Sum, Mean over 1..n_in inputs under NumPy broadcasting: op is
 * RT_BIN_MAX, RT_BIN_MIN or RT_BIN_ADD; MEAN (optional) 1 divides by n_in. */
enum { RT_VARIADIC_OP, RT_VARIADIC_MEAN };
int rt_variadic(const RtCall *c, const void *const *in, void *const *out);

/* One-input ops; out has in's shape. IsInf's detect flags default to 1 and
 * the optional floats P0, P1 are as noted per op. */
enum { RT_UNARY_OP /* RtUnOp */, RT_UNARY_DETECT_POS, RT_UNARY_DETECT_NEG };
enum { RT_UNARY_F_P0, RT_UNARY_F_P1 };
int rt_unary(const RtCall *c, const void *const *in, void *const *out);

/* Clip: out = min(max(x, lo), hi), so lo > hi gives hi (ONNX Clip-13).
 * ATTRS 1: lo, hi are the floats (the attributes before opset 11);
 * ATTRS 0: lo, hi are element 0 of inputs 1 and 2 when present (any dtype of x). */
enum { RT_CLIP_ATTRS };
enum { RT_CLIP_F_LO, RT_CLIP_F_HI };
int rt_clip(const RtCall *c, const void *const *in, void *const *out);

/* Where(cond, x, y) under three-way broadcasting; no parameters. */
int rt_where(const RtCall *c, const void *const *in, void *const *out);

/* Cast and CastLike: in[0] converted to out[0]'s dtype.
 * Float to integer truncates toward zero, saturates at the target's range and maps
 * NaN to 0 (ONNX leaves this undefined); to bool is x != 0; float16 and bfloat16
 * round to nearest even, without double rounding from float64.
 * A narrow side (float8, float4, e8m0, 4- and 2-bit ints) goes to rt_cast_narrow,
 * which reads the ints: saturate (opset 19, default 1) and round_mode (e8m0,
 * opset 25: RT_E8M0_UP, _DOWN, _NEAREST); the packed ints wrap modulo 2^bits. */
enum { RT_CAST_SATURATE, RT_CAST_ROUND_MODE, RT_CAST_NINTS };
int rt_cast(const RtCall *c, const void *const *in, void *const *out);
int rt_cast_narrow(const RtCall *c, const void *const *in, void *const *out);

/* BitCast (opset 26): out[0] holds in[0]'s bytes as another type of the same
 * width; no parameters. */
int rt_bitcast(const RtCall *c, const void *const *in, void *const *out);

/* EwChain (made by pass fuse_chain): a small DAG of float32 elementwise ops
 * run in one pass over memory. Inputs (all float32) broadcast to out's shape
 * as in NumPy. Registers 0..n_in-1 are the inputs, n_in + k the result of op
 * k; the last op's result is the output. ints: NOPS, then per op
 * RT_CHAIN_OP_INTS slots: kind, code (RtUnOp for UN, RtBinOp for BIN, 0 for
 * CLIP), the registers a and b (b unused by UN and CLIP), and the float bits
 * of p0 and p1 (UN: RT_UNARY_F_P0/P1; CLIP: lo, hi). */
enum { RT_CHAIN_NOPS, RT_CHAIN_OPS };
enum { RT_CHAIN_UN, RT_CHAIN_BIN, RT_CHAIN_CLIP };
enum { RT_CHAIN_KIND, RT_CHAIN_CODE, RT_CHAIN_A, RT_CHAIN_B, RT_CHAIN_P0, RT_CHAIN_P1,
       RT_CHAIN_OP_INTS };
#define RT_CHAIN_MAX_OPS 16
#define RT_CHAIN_MAX_IN 8
int rt_ew_chain(const RtCall *c, const void *const *in, void *const *out);

#endif
