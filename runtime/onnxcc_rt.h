/* onnxcc_rt.h: the public header of the onnxcc runtime (kernels, model descriptor, tensor I/O). */
#ifndef ONNXCC_RT_H
#define ONNXCC_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RT_MAX_RANK 8

/* Element types. The values are ONNX's TensorProto.DataType numbers, so a
 * model's dtype field needs no translation anywhere. */
typedef enum RtDType {
    RT_UNDEF = 0,
    RT_F32 = 1,
    RT_U8 = 2,
    RT_I8 = 3,
    RT_U16 = 4,
    RT_I16 = 5,
    RT_I32 = 6,
    RT_I64 = 7,
    RT_STRING = 8,
    RT_BOOL = 9,
    RT_F16 = 10,
    RT_F64 = 11,
    RT_U32 = 12,
    RT_U64 = 13,
    RT_BF16 = 16,
    /* The narrow number types (rt_narrow.c). float8 takes one byte per
     * element; the sub-byte types are packed as ONNX lays them out: two
     * 4-bit elements per byte, four 2-bit ones, element i in the lowest
     * free bits of byte i*bits/8. rt_dtype_size() is 0 for the packed ones
     * (an element has no byte address); rt_dtype_bytes() sizes any tensor. */
    RT_F8E4M3FN = 17,            /* no infinity; NaN is S.1111.111 */
    RT_F8E4M3FNUZ = 18,          /* no infinity, no -0; NaN is 0x80 */
    RT_F8E5M2 = 19,              /* IEEE-like: infinities and NaNs */
    RT_F8E5M2FNUZ = 20,          /* no infinity, no -0; NaN is 0x80 */
    RT_U4 = 21,
    RT_I4 = 22,
    RT_F4E2M1 = 23,              /* no infinity, no NaN */
    RT_F8E8M0 = 24,              /* powers of two 2^-127..2^127, 0xFF NaN; unsigned */
    RT_U2 = 25,
    RT_I2 = 26,
    RT_DTYPE_END = 27
} RtDType;

/* Status codes returned by every runtime function; 0 is success. */
enum {
    RT_OK = 0,
    RT_EINVAL = 1,  /* bad parameters (a compiler bug or a corrupted call) */
    RT_EDTYPE = 2,  /* the kernel has no path for this dtype */
    RT_EIO = 3,     /* a file could not be read or written */
    RT_EFORMAT = 4, /* a tensor file is malformed or does not match */
    RT_ENOMEM = 5,  /* a caller-provided buffer is too small */
    RT_ECPU = 6,    /* the CPU lacks an instruction set the code was built for */
    RT_ETHREAD = 7, /* threads could not be started, or this build has none */
    RT_EBOUND = 8,  /* a run-time extent or a Loop's trip count is past the bound the model
                     * was compiled for (--dim NAME=LO..HI, --loop-max, --max-elements) */
    RT_ESHAPE = 9,  /* run-time extents that do not fit together (broadcast, matmul K) */
    RT_EUNSUPPORTED = 10 /* a value read at run time asks for what onnxcc does not compute
                          * (Dropout in training mode with a ratio above 0) */
};

/* The static type of one tensor a kernel reads or writes. */
typedef struct RtTensorDesc {
    int32_t dtype;               /* RtDType; RT_UNDEF marks an omitted optional input */
    int32_t rank;                /* 0 for a scalar */
    int64_t dims[RT_MAX_RANK];   /* extent of each axis */
} RtTensorDesc;

/* Everything a kernel needs to know about one node, fixed at compile time.
 * ints/floats hold the op's attributes after the compiler resolved them;
 * their layout is documented beside each kernel's prototype below. */
typedef struct RtCall {
    int32_t n_in;                /* number of input descriptors */
    int32_t n_out;               /* number of output descriptors */
    const RtTensorDesc *in;      /* input types, n_in entries */
    const RtTensorDesc *out;     /* output types, n_out entries */
    int32_t n_ints;              /* number of integer parameters */
    int32_t n_floats;            /* number of float parameters */
    const int64_t *ints;         /* integer parameters */
    const float *floats;         /* float parameters */
} RtCall;

/* Every kernel has this signature. in[i] is NULL for an omitted optional input. */
typedef int (*RtKernel)(const RtCall *c, const void *const *in, void *const *out);

/* ---- dtype helpers (rt_dtype.c) ---- */
size_t rt_dtype_size(int dtype);              /* bytes per element; 0 if unknown or packed */
int rt_dtype_bits(int dtype);                 /* bits per element; 0 if unknown */
size_t rt_dtype_bytes(int dtype, int64_t n);  /* bytes of n elements: ceil(n * bits / 8) */
const char *rt_dtype_name(int dtype);         /* "float32", "int64", ... */
int64_t rt_numel(const RtTensorDesc *t);      /* product of dims; 1 for a scalar */
float rt_f16_to_f32(uint16_t h);
uint16_t rt_f32_to_f16(float f);              /* round to nearest even */
float rt_bf16_to_f32(uint16_t h);
uint16_t rt_f32_to_bf16(float f);             /* round to nearest even */
/* Element i of an array of any dtype, through double (dtype-generic slow
 * paths, printing, comparing results). */
double rt_load_f64(const void *p, int dtype, int64_t i);
void rt_store_f64(void *p, int dtype, int64_t i, double v);
/* Exact integer access for integer and bool dtypes. */
int64_t rt_load_i64(const void *p, int dtype, int64_t i);
void rt_store_i64(void *p, int dtype, int64_t i, int64_t v);

/* ---- the narrow types (rt_narrow.c) ----
 * Element access of packed and float8 tensors and their conversions, with
 * ONNX's rules: round to nearest even; `saturate` (Cast, QuantizeLinear)
 * clamps float8 overflow and infinities to the largest finite value, else
 * they become NaN (or infinity for e5m2); float4e2m1 always saturates;
 * float8e8m0 rounds by round_mode (RT_E8M0_UP, _DOWN, _NEAREST). */
enum { RT_E8M0_UP, RT_E8M0_DOWN, RT_E8M0_NEAREST };
static inline int rt_is_narrow(int dtype)
{
    return dtype >= RT_F8E4M3FN && dtype <= RT_I2;
}
static inline int rt_is_packed(int dtype)
{
    return dtype == RT_U4 || dtype == RT_I4 || dtype == RT_F4E2M1 || dtype == RT_U2 ||
           dtype == RT_I2;
}
/* float8, float4 and e8m0: the narrow types that hold floating-point numbers. */
static inline int rt_is_narrow_float(int dtype)
{
    return rt_is_narrow(dtype) && dtype != RT_U4 && dtype != RT_I4 && dtype != RT_U2 &&
           dtype != RT_I2;
}
unsigned rt_narrow_get(const void *p, int dtype, int64_t i);   /* element i's code */
void rt_narrow_set(void *p, int dtype, int64_t i, unsigned code);
float rt_narrow_to_f32(int dtype, unsigned code);  /* a float type's code to float */
unsigned rt_f32_to_narrow(int dtype, float f, int saturate, int round_mode);
unsigned rt_f64_to_narrow(int dtype, double v, int saturate, int round_mode);
/* Packed integer codes to and from their values (wrapping modulo 2^bits). */
int rt_narrow_int(int dtype, unsigned code);
/* Copies n elements from element si of src to element di of dst (any dtype). */
void rt_elem_copy(void *dst, int64_t di, const void *src, int64_t si, int dtype, int64_t n);

static inline int rt_is_float(int dtype)
{
    return dtype == RT_F32 || dtype == RT_F64 || dtype == RT_F16 || dtype == RT_BF16;
}

/* ---- kernels ----
 * Each family's prototypes and parameter layouts live in its own section,
 * added by the file that implements it (runtime/k_*.c). */
#include "onnxcc_rt_kernels.h"

/* ---- run-time shapes (rt_shape.c) ----
 * A model compiled with run-time dims (--dim NAME=LO..HI) plans every buffer
 * for the bound; a node whose extents are known only when it runs is called
 * through rt_dyn_call, which computes its actual output extents with the
 * op's shape function, checks them against the planned bounds, and hands
 * the kernel descriptors with the actual extents. A shape function sees the
 * planned call (bounds), the actual input descriptors and the input data
 * (Reshape reads its shape tensor), and writes the actual output extents
 * into out[], which holds the planned output descriptors on entry. */
typedef int (*RtShapeFn)(const RtCall *planned, const RtTensorDesc *in, const void *const *data,
                         RtTensorDesc *out);
int rt_shape_same(const RtCall *p, const RtTensorDesc *in, const void *const *d, RtTensorDesc *out);
int rt_shape_broadcast(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                       RtTensorDesc *out);
int rt_shape_batch(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out);
int rt_shape_matmul(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
int rt_shape_gemm(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out);
int rt_shape_reshape(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out);
int rt_shape_flatten(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out);
int rt_shape_transpose(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                       RtTensorDesc *out);
int rt_shape_concat(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
int rt_shape_gather(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
int rt_shape_expand(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
int rt_shape_slice(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out);
int rt_shape_static(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
/* Slice's starts, ends, axes and steps (inputs 1..4, d[i] NULL: absent)
 * for input x: per axis RT_SLICE_START and RT_SLICE_STEP into params (as
 * Slice's kernel parameters) and the output extents into dims. */
int rt_slice_resolve(const RtTensorDesc *x, int n_in, const RtTensorDesc *desc,
                     const void *const *d, int64_t *params, int64_t *dims);
int rt_shape_slice_values(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                          RtTensorDesc *out);
/* Reduce* whose axes (input 1) are read when it runs: keep says keepdims.
 * Bit a of *mask set reduces axis a of x; y gets the output extents (its
 * rank must already be the planned one). Shared by the shape function and
 * rt_reduce, so the two never disagree. */
int rt_reduce_resolve(const RtTensorDesc *x, const RtTensorDesc *axes, const void *data, int keep,
                      int64_t *mask, RtTensorDesc *y);
int rt_shape_reduce_axes(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                         RtTensorDesc *out);
/* Split whose sizes (input 1) are read when it runs. */
int rt_shape_split_values(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                          RtTensorDesc *out);
/* TopK whose k (input 1) is read when it runs: a k past the axis extent is
 * RT_EBOUND. */
int rt_shape_topk_k(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
/* Compress whose condition (input 1) is read when it runs. */
int rt_shape_compress(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                      RtTensorDesc *out);
/* Shape as a kernel, for an input with run-time dims. */
enum { RT_SHAPE_START };
int rt_shape_dims(const RtCall *c, const void *const *in, void *const *out);
/* Reshape's and Flatten's kernel (rt_copy) ignores its ints; these slots
 * give their shape functions what the descriptors cannot. */
enum { RT_RESHAPE_ALLOWZERO };
enum { RT_FLATTEN_AXIS };
/* Squeeze and Unsqueeze (rt_shape_axismap): per output axis, the input axis
 * it is, or -1 for an inserted axis of extent 1. */
enum { RT_AXISMAP_FROM };
int rt_shape_axismap(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                     RtTensorDesc *out);
/* ... and with axes (input 1) read when they run: the one slot says which. */
enum { RT_AXES_INSERT };
int rt_shape_axes(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out);
/* Ops whose output grows with a value read when they run (rt_grow.c):
 * Tile's repeats (input 1), ConstantOfShape's shape (input 0), Range's
 * start, limit and delta, Pad's pads and axes, OneHot's depth, the
 * windows' size. An extent past int64 comes out as -1, which
 * rt_dyn_call refuses with RT_EBOUND. */
int rt_shape_tile(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out);
int rt_shape_fill(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                  RtTensorDesc *out);
int rt_shape_range(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                   RtTensorDesc *out);
/* Pad's pads (input 1) over input 3's axes (all axes without it) for input
 * x: each axis's begin pad into begin, the output extents into dims. */
int rt_pad_resolve(const RtTensorDesc *x, int n_in, const RtTensorDesc *desc,
                   const void *const *d, int64_t *begin, int64_t *dims);
int rt_shape_pad(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                 RtTensorDesc *out);
/* OneHot's depth (input 1), the windows' size (input 0): a scalar, cast
 * to an integer; a float past int64 is an extent past any bound. */
int rt_shape_onehot(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
int rt_shape_window(const RtCall *p, const RtTensorDesc *in, const void *const *d,
                    RtTensorDesc *out);
/* The generated code passes the status of such a node through
 * rt_grow_note with the output's name and cap: on RT_EBOUND it is kept for
 * the binary's message (rt_grow_failed: NULL if no such node failed). A
 * diagnostic only, never read by the inference path. */
int rt_grow_note(int rc, const char *value, int64_t cap);
const char *rt_grow_failed(int64_t *cap);
/* Range's element count, max(ceil((limit - start) / delta), 0), for scalars
 * of dtype; -1 for a zero (or NaN) delta, INT64_MAX past int64. */
int64_t rt_range_count(int dtype, const void *start, const void *limit, const void *delta);
/* One node with run-time extents: in_dims[i] (NULL: input i is static)
 * holds input i's actual extents, out_dims[j] (NULL: output j is static and
 * must come out as planned) receives output j's, and out_cap[j] (out_cap
 * NULL, or 0: the product of its bounds) is how many elements output j's
 * buffer holds. RT_EBOUND when an extent or a count is past what was
 * planned, RT_ESHAPE when the extents do not fit together (or do not fit
 * the values that decide them); else the kernel's status. */
int rt_dyn_call(const RtCall *planned, RtShapeFn shape, RtKernel kernel,
                const int64_t *const *in_dims, int64_t *const *out_dims, const int64_t *out_cap,
                const void *const *in, void *const *out);
/* Checks a caller's extents of one input against its bounds [lo, hi] (lo ==
 * hi for a static dim) and copies them into slot: RT_EBOUND if outside. */
int rt_dims_check(int rank, const int64_t *dims, const int64_t *lo, const int64_t *hi,
                  int64_t *slot);
/* Bytes of a tensor of dtype with these extents. */
size_t rt_dims_bytes(int dtype, int rank, const int64_t *dims);

/* ---- model descriptor: what generated code exports for a host program ---- */
typedef struct RtIO {
    const char *name;            /* graph input/output name */
    int32_t dtype;               /* RtDType */
    int32_t rank;
    int64_t dims[RT_MAX_RANK];
    /* A data-dependent output (NonZero, Unique, NonMaxSuppression): dims
     * holds its upper bound, the buffer is sized by it, and a run reports
     * the actual extent along dyn_axis (see RtModel.run). 0 for the rest. */
    int32_t dyn;
    int32_t dyn_axis;
    /* Run-time dims (--dim NAME=LO..HI): bit k means axis k's extent is
     * given (input) or reported (output) per run, within lo[k]..dims[k]. */
    uint32_t rt_mask;
    int64_t lo[RT_MAX_RANK];
    /* With rt_mask: the most elements it holds, what its buffer is sized
     * for (an output grown by values read at run time holds at most
     * --max-elements whatever its rank); 0: the product of dims. */
    int64_t cap;
} RtIO;

/* One ONNX-level input or output: a tensor, or a sequence/optional that
 * onnxcc resolved at compile time into `count` consecutive tensors of the
 * model's in/out lists. layout spells the nesting: "T" a tensor, "S[TT]" a
 * sequence of two tensors, "O[]" an empty optional, "O[S[T]]"... */
typedef struct RtGroup {
    const char *name;
    const char *layout;
    int32_t first, count;
} RtGroup;

typedef struct RtModel {
    const char *name;            /* model name given to the compiler */
    int32_t n_in, n_out;         /* graph inputs and outputs (tensors) */
    const RtIO *in, *out;        /* their static types */
    size_t arena_bytes;          /* scratch memory one run needs */
    /* Loads weights when they live in a separate file (NULL path: the
     * default next to the binary); a no-op for embedded weights. */
    int (*init)(const char *weights_path);
    /* One inference; arena NULL means the model's own static arena.
     * out[] holds the n_out output buffers, then one int64_t * per dynamic
     * output (in output order) that receives its actual extent along
     * dyn_axis; the output's data is row-major with that extent. */
    int (*run)(void *arena, const void *const *in, void *const *out);
    /* The ONNX-level inputs and outputs; 0 groups: one tensor each. */
    int32_t n_in_groups, n_out_groups;
    const RtGroup *in_groups, *out_groups;
    /* A model with run-time dims: run with each input's actual extents
     * (in_dims[i] NULL: its bounds) that writes each output's into
     * out_dims[j] (NULL: not wanted); NULL for a fully static model. */
    int (*run_dims)(void *arena, const int64_t *const *in_dims, int64_t *const *out_dims,
                    const void *const *in, void *const *out);
} RtModel;

/* ---- tensor files (io_file.c, io_pb.c, io_npy.c) ----
 * A loaded tensor; data is malloc'ed by the reader (tools and the binary
 * driver only: not the inference path). */
typedef struct RtTensor {
    RtTensorDesc desc;
    char name[128];              /* TensorProto.name; empty for .npy */
    void *data;
    size_t nbytes;
} RtTensor;

/* Read a .pb (ONNX TensorProto) or .npy file, chosen by content. On error
 * returns non-zero and writes one line to err (if err_len > 0). */
int rt_tensor_read(const char *path, RtTensor *t, char *err, size_t err_len);
/* The same, refusing a file of more than max_bytes without reading it all. */
int rt_tensor_read_max(const char *path, size_t max_bytes, RtTensor *t, char *err,
                       size_t err_len);
int rt_tensor_write_pb(const char *path, const RtTensor *t);
int rt_tensor_write_npy(const char *path, const RtTensor *t);
void rt_tensor_free(RtTensor *t);
/* A string tensor's data as its own malloc'ed block: the n pointers, then
 * the bytes they point to (what rt_tensor_read gives, freed by one free()).
 * NULL if out of memory. */
void *rt_strings_pack(const char *const *s, size_t n);

/* Sequence/optional files (SequenceProto, OptionalProto; io_struct.c).
 * nest is the nesting to expect ("S", "OS", "" for a tensor file); the
 * tensors found go to ts[0..*count), their nesting to layout. */
int rt_struct_read(const char *path, const char *nest, RtTensor *ts, int max, int *count,
                   char *layout, size_t layout_len, char *err, size_t err_len);
int rt_struct_write_pb(const char *path, const char *layout, const RtTensor *ts, int count);
/* The nest a layout needs to be read back ("O[S[TT]]" -> "OS"). */
void rt_layout_nest(const char *layout, char *nest, size_t len);

/* ---- weights loaded from a file (rt_weights.c), for --weights file ----
 * Reads exactly `size` bytes into buf and checks the FNV-1a checksum the
 * compiler recorded, so a stale or foreign file is refused. */
int rt_weights_load(const char *path, void *buf, size_t size, uint64_t checksum);

/* ---- threads (rt_threads.c) ----
 * Kernels split their work over a pool of threads that rt_set_threads
 * starts once: n - 1 workers plus the thread that calls NAME_run. n = 1 (the
 * default) stops the pool and joins its workers, which is also how a
 * program stops it before exiting or unloading the library; n <= 0 takes
 * rt_max_threads(). Returns RT_OK, RT_EINVAL (n > RT_MAX_THREADS) or
 * RT_ETHREAD (a thread could not be created, or the runtime was built
 * without threads: -DONNXCC_NO_THREADS or no pthreads); on failure the
 * runtime is left with one thread. Call it between runs, never during one.
 * Idle workers poll for ONNXCC_SPIN_US microseconds (default 100) before
 * they sleep. */
#define RT_MAX_THREADS 256
int rt_set_threads(int n);
int rt_threads(void);          /* threads in use: 1 without a pool */
/* The CPUs this process may run on (its affinity mask), capped at
 * RT_MAX_THREADS; 1 without threads. */
int rt_max_threads(void);

/* ---- timing (rt_time.c) ---- */
double rt_now_ms(void);        /* monotonic clock in milliseconds */

/* ---- CPU features (rt_cpu.c) ----
 * Code built for a CPU level (--target native or x86-64-v3, say) may use
 * instructions an older CPU lacks. rt_cpu_check returns RT_ECPU, with one
 * line naming the first missing feature in msg, when this CPU cannot run
 * what the runtime was compiled for; call it before the first NAME_run in a
 * program that may start on other machines. A feature named in the
 * environment variable ONNXCC_CPU_DISABLE is taken as missing.
 * rt_cpu_describe writes the running CPU's name and features (built = 0)
 * or the features the runtime was compiled for (built = 1). rt_cpu_refuse
 * prints "PROG: <reason>" and returns 1 when rt_cpu_check fails. */
int rt_cpu_check(char *msg, size_t len);
void rt_cpu_describe(char *buf, size_t len, int built);
int rt_cpu_refuse(const char *prog);
/* 1 when the running CPU (and OS) has the feature named as in gcc's -mNAME,
 * whatever $ONNXCC_CPU_DISABLE says: what -march=native compiles for. */
int rt_cpu_has(const char *name);

/* ---- per-node profile (rt_profile.c, rt_peak.c): binaries built with
 * onnxcc --profile ----
 * The generated code times every node it runs into one RtProfNode (its
 * FLOPs and bytes per call are the compiler's counts) and counts runs in
 * RtProfile.runs; code built without --profile has none of this. */
typedef struct RtProfNode {
    const char *name;            /* ONNX node name */
    const char *op;              /* ONNX op_type (FusedConv for a fused Conv+Relu) */
    double flops;                /* floating-point ops per call (a multiply-add is 2) */
    double bytes;                /* bytes read and written per call: inputs, weights, outputs */
    int64_t calls;               /* calls since the last rt_profile_reset */
    double ms;                   /* time in the node's kernel over those calls */
} RtProfNode;

typedef struct RtProfile {
    int32_t n_nodes;
    RtProfNode *nodes;           /* in schedule order */
    int64_t runs;                /* NAME_run calls since the last rt_profile_reset */
} RtProfile;

/* What this core can do, measured in ~150 ms: fp32 FMA throughput of one
 * core with the vector width the runtime was compiled for, and the read
 * bandwidth of a sum over a buffer far larger than the caches. */
typedef struct RtPeak {
    double gflops;               /* fp32, one core */
    double gbs;                  /* GB/s read, one core */
} RtPeak;
void rt_peak_measure(RtPeak *peak);
void rt_profile_reset(RtProfile *p);
/* The table, slowest node first, to stdout; peak NULL leaves out the
 * percent-of-peak column. */
void rt_profile_print(const RtProfile *p, const RtPeak *peak);
/* The same as JSON; returns 0 or RT_EIO. */
int rt_profile_write_json(const RtProfile *p, const RtPeak *peak, const char *path);

/* ---- the standalone binary's driver (rt_main.c): parses argv per the
 * binary contract (inputs as files, --out DIR, --npy, --bench N,
 * --threads N) ---- */
int rt_main(int argc, char **argv, const RtModel *m);
/* The thread count rt_main starts the pool with when argv has no
 * --threads N (default 1): main.c of a model built with onnxcc --threads N
 * calls it with N. */
void rt_main_threads(int n);
/* The same for a model built with --profile: after the run (or the timed
 * runs of --bench) prints the profile, and takes --profile-json FILE. */
int rt_main_profile(int argc, char **argv, const RtModel *m, RtProfile *p);

#ifdef __cplusplus
}
#endif
#endif
