/* quant.h: what the user asked of quantization, and the pieces its passes share (calibration). */
#ifndef ONNXCC_QUANT_H
#define ONNXCC_QUANT_H

#include "../ir/ir.h"

/* Static post-training quantization of activations (--quantize int8). */
typedef enum QuantAct { QA_NONE, QA_INT8 } QuantAct;
/* How a calibrated activation's range is chosen (--calib-method). */
typedef enum CalibMethod { CM_MINMAX, CM_PERCENTILE, CM_ENTROPY } CalibMethod;
/* Weight-only formats (--quantize-weights); their storage is runtime/k_wq.h's. */
typedef enum QuantWeights {
    QW_NONE,
    QW_INT8, QW_INT4, QW_INT3, QW_INT2,  /* group-wise, scale and zero point per group */
    QW_TERNARY,                          /* {-1,0,+1}·s, 2 bits per weight */
    QW_TERNARY5,                         /* the same, 5 trits per byte (1.6 bits) */
    QW_SHERRY,                           /* 3:4 sparse ternary, 1.25 bits */
    QW_MXINT8, QW_MXFP8, QW_MXFP4,       /* 32 elements per power-of-two (E8M0) scale */
    QW_NVFP4,                            /* 16 E2M1 elements per E4M3 scale, one float scale */
} QuantWeights;
/* What MatMulWQ multiplies its weights with (--wq-act): float activations, or
 * each row of X quantized to int8 per weight group and every group an integer
 * dot product (runtime/k_wq_gemv8.c: faster at few rows, an activation error
 * of up to half a step per element). WQA_DEFAULT: float, except a
 * MatMulNBits with accuracy_level 4, which asks for int8 as ONNX Runtime does. */
typedef enum QuantWqAct { WQA_DEFAULT, WQA_FLOAT, WQA_INT8 } QuantWqAct;
/* How weight-only codes are chosen (--method). */
typedef enum QuantMethod { QM_RTN, QM_GPTQ, QM_DECOUPLEQ } QuantMethod;

/* RepQuant's parts (--repquant), bits of QuantOpts.repquant. */
enum { RQ_LN = 1,                /* LayerNorm outputs: per-channel ranges folded into
                                    gamma/beta and the next layers' weights */
       RQ_LOG2 = 2 };            /* Softmax outputs: 4-bit log2 codes, 2^-k for k in 0..15 */

#define QUANT_MAX_PATTERNS 32

/* A format and group for one node, overriding QuantOpts' own (a Lua
 * recipe's onnxcc.quantize_if answering {format=, group=}). */
typedef struct QuantNodeFormat {
    const char *name;            /* the node's exact name */
    QuantWeights weights;
    int group;                   /* 0: the options' group */
} QuantNodeFormat;

typedef struct QuantOpts {
    QuantAct act;
    CalibMethod calib_method;
    double percentile;           /* CM_PERCENTILE: the share of |x| kept, e.g. 99.99 */
    QuantWeights weights;
    QuantMethod method;
    int group;                   /* weights per scale along the reduction axis; 0: the
                                    format's own (32 for integers and MX, 16 for NVFP4) */
    const char *calib_dir;       /* --calibrate DIR; NULL: none */
    int max_samples;             /* --calib-samples N; 0: every sample in calib_dir */
    const char *keep_float[QUANT_MAX_PATTERNS]; /* --keep-float PATTERN (fnmatch on node names) */
    int n_keep_float;
    const char *const *keep_names; /* exact node names kept in float (a Lua recipe's
                                      onnxcc.quantize_if) */
    int n_keep_names;
    const QuantNodeFormat *node_formats; /* per-node formats; they apply even when
                                            weights is QW_NONE */
    int n_node_formats;
    int report;                  /* --quant-report: per-layer error against float, on stderr */
    const char *save_onnx;       /* --save-onnx FILE: the quantized graph as ONNX (QDQ form) */
    int lowrank;                 /* --lowrank R: rank of the float correction A*B added to
                                    each weight-only layer (HGF); 0: none */
    int rotate;                  /* --rotate hadamard: MatMul/Gemm inputs and weights
                                    rotated by a blockwise Hadamard before quantizing */
    int rotate_block;            /* --rotate-block N: its block; 0: the quantization group */
    int repquant;                /* --repquant: RQ_LN | RQ_LOG2; 0: neither */
    QuantWqAct wq_act;           /* --wq-act int8|float */
} QuantOpts;

/* The act_bits parameter of a new MatMulWQ (0 or 8) under q (NULL: no
 * options), model_int8 the imported node's own request. */
int quant_wq_act_bits(const QuantOpts *q, int model_int8);

/* The weight format and group of the node of this name: its own if a
 * recipe gave it one, else q's. */
void quant_node_format(const QuantOpts *q, const char *node_name, QuantWeights *weights,
                       int *group);

/* 1 if a node of this name stays in float (a --keep-float pattern matches it, or a
 * recipe named it). */
int quant_keep_float(const QuantOpts *q, const char *node_name);

/* ---- calibration (passes/calib.c) ----
 * Runs g in the interpreter once per sample of q->calib_dir and shows the
 * graph's inputs, then every value a node computes, to the observer. A
 * sample is either a folder holding input_0.pb, input_1.pb... (.npy too), as
 * ONNX's test data sets are laid out, or, for a model with one input, a
 * single tensor file. Samples are taken in name order, at most
 * q->max_samples of them. */
typedef IrObserver CalibObserver;
/* The number of samples run (> 0), or -1 with a diagnostic. */
int calib_run(Graph *g, const QuantOpts *q, CalibObserver fn, void *ctx, Diag *d);

/* ---- activation ranges (passes/ptq_range.c) ----
 * One tensor's statistics over the calibration samples: its min and max
 * (a first run), then for percentile and entropy a histogram of |x| over
 * [0, max |x|] (a second run, once that bound is known). */
#define CALIB_BINS 2048
typedef struct CalibRange {
    double lo, hi;               /* smallest and largest finite value seen */
    double *hist;                /* CALIB_BINS counts of |x|; NULL until the second run */
} CalibRange;
void calib_range_init(CalibRange *r);
void calib_range_free(CalibRange *r);
void calib_range_minmax(CalibRange *r, const float *x, int64_t n);
/* Adds x to the histogram (allocated on first use); -1 when out of memory. */
int calib_range_hist(CalibRange *r, const float *x, int64_t n);
double calib_range_amax(const CalibRange *r);
/* How many of the first bins hold percentile % of the counts. */
int calib_percentile_bins(const double *hist, int nbins, double percentile);
/* How many of the first bins to keep so that nq uniform levels lose the
 * least information (TensorRT's KL-divergence search); nq <= result <= nbins. */
int calib_entropy_bins(const double *hist, int nbins, int nq);
/* The range [lo, hi] to quantize to under method m (within [r->lo, r->hi]). */
void calib_range_pick(const CalibRange *r, CalibMethod m, double percentile, double *lo,
                      double *hi);
/* Asymmetric uint8 scale and zero point for [lo, hi], widened to hold 0. */
void quant_u8_params(double lo, double hi, float *scale, uint8_t *zero);

/* ---- low-rank correction of weight-only layers (passes/wq_lowrank.c) ----
 * The best rank-r approximation A B of the n x k residual res (row-major),
 * by randomized subspace iteration: a (n x r) and b (r x k) written, A's
 * columns orthonormal, so ||res - A B||_F^2 = ||res||_F^2 - ||B||_F^2.
 * Seeded: the same matrix gives the same factors. r <= min(n, k). 0, or
 * -1 when out of memory. */
int wq_lowrank_fit(const float *res, int64_t n, int64_t k, int r, float *a, float *b);
/* wq, a MatMulWQ standing for alpha * x w^T (w: n x k, row n an output
 * channel, as quantize_weights holds it) with the codes c, gets the
 * correction alpha * (x B^T) A^T of rank q->lowrank fitted to w - dequant(c):
 * two MatMul nodes and an Add writing what wq wrote. With q->report, one
 * line on stderr: the relative weight error before and after, and the bits
 * per weight the factors add. 0, or -1 with a diagnostic. */
struct RtWqCodes;
int wq_lowrank_attach(Graph *g, Node *wq, const float *w, const struct RtWqCodes *c,
                      float alpha, const QuantOpts *q, Diag *d);

#endif
