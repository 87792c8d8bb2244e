/* rt_internal.h: helpers shared by the runtime's kernels; not part of the public API. */
#ifndef ONNXCC_RT_INTERNAL_H
#define ONNXCC_RT_INTERNAL_H

#include "onnxcc_rt.h"

/* Hot loops opt in to what gcc's defaults for onnxcc's builds leave out:
 * fusing a*b+c into FMA (off under -std=c99, and #pragma STDC FP_CONTRACT is
 * ignored) and the full vectorizer cost model (-O2 vectorizes only loops that
 * need no epilogue). clang contracts within an expression by default. */
#if defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((optimize("fp-contract=fast", "vect-cost-model=dynamic")))
#else
#define HOT
#endif

#if defined(__GNUC__)
#define RT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define RT_PRINTF(fmt, args)
#endif

static inline float clampf(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* Floats per vector register of the ISA the compiler targets: the width of
 * GNU vector types in the GEMM and in the peak measurement of --profile. */
#if defined(__AVX512F__)
#define RT_VEC_FLOATS 16
#elif defined(__AVX__)
#define RT_VEC_FLOATS 8
#else
#define RT_VEC_FLOATS 4
#endif

/* rt_threads.c: splitting one kernel's work across the binary's threads.
 * fn(ctx, lo, hi) is called on disjoint ranges covering [0, n), each at
 * least `grain` long except the last; calls may run concurrently, so fn
 * writes only what its range owns. With one thread (the default binary)
 * it is a plain call fn(ctx, 0, n) and no thread is ever started. */
typedef void (*RtRangeFn)(void *ctx, int64_t lo, int64_t hi);
void rt_parallel_for(int64_t n, int64_t grain, RtRangeFn fn, void *ctx);
/* Threads rt_parallel_for may use (1 until rt_set_threads raises it). */
int rt_threads(void);

/* rt_main.c's driver with the profile of a --profile binary (rt_profile.c
 * passes these, so a binary without the profile never links that code).
 * reset runs after the warm-up of --bench; report after the runs prints
 * the table and writes json_path (if not NULL), returning 0 or RT_EIO. */
typedef struct RtProfHooks {
    RtProfile *p;
    void (*reset)(RtProfile *p);
    int (*report)(const RtProfile *p, const char *json_path);
} RtProfHooks;
int rt_main_hooked(int argc, char **argv, const RtModel *m, const RtProfHooks *h);

/* Row-major strides (in elements) of t. */
void rt_strides(const RtTensorDesc *t, int64_t *strides);

/* Strides (in elements) for reading `in` while iterating over `out` under NumPy
 * broadcasting: in is right-aligned to out's rank, broadcast axes get 0.
 * Returns -1 if in does not broadcast to out. */
int rt_broadcast_strides(const RtTensorDesc *in, const RtTensorDesc *out, int64_t *strides);

/* An optional trailing parameter: its slot's value, or dflt when the
 * compiler left the slot out. */
static inline int64_t rt_param_int(const RtCall *c, int slot, int64_t dflt)
{
    return slot < c->n_ints ? c->ints[slot] : dflt;
}

static inline float rt_param_float(const RtCall *c, int slot, float dflt)
{
    return slot < c->n_floats ? c->floats[slot] : dflt;
}

/* The axis at slot, or -1 when the slot is missing or the axis is outside [0, rank). */
static inline int rt_param_axis(const RtCall *c, int slot, int rank)
{
    if (c->n_ints <= slot || c->ints[slot] < 0 || c->ints[slot] >= rank)
        return -1;
    return (int)c->ints[slot];
}

/* The product of d[from..to), 1 when empty. */
static inline int64_t rt_prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int k = from; k < to; k++)
        p *= d[k];
    return p;
}

/* Writes n copies of the esz-byte element at elem to dst (k_movement.c). */
void rt_fill_elems(void *dst, const void *elem, size_t esz, int64_t n);

/* Advances the row-major multi-index idx[0..rank) over dims by one step
 * (the last axis fastest), wrapping to all zeros after the last element. */
static inline void rt_index_next(int64_t *idx, const int64_t *dims, int rank)
{
    for (int k = rank - 1; k >= 0; k--) {
        if (++idx[k] < dims[k])
            return;
        idx[k] = 0;
    }
}

/* rt_load_f64/rt_store_f64 with the float32 and float64 cases inlined, for
 * kernels that touch every element many times (transforms, losses). */
static inline double rt_load_f64_fast(const void *p, int dt, int64_t i)
{
    if (dt == RT_F32)
        return ((const float *)p)[i];
    if (dt == RT_F64)
        return ((const double *)p)[i];
    return rt_load_f64(p, dt, i);
}

static inline void rt_store_f64_fast(void *p, int dt, int64_t i, double v)
{
    if (dt == RT_F32)
        ((float *)p)[i] = (float)v;
    else if (dt == RT_F64)
        ((double *)p)[i] = v;
    else
        rt_store_f64(p, dt, i, v);
}

/* rt_dtype.c: "float32[2,3]" into s (n bytes), for messages. */
void rt_type_str(char *s, size_t n, int dtype, int rank, const int64_t *dims);

/* ---- tensor files (io_file.c) ---- */
/* Formats a one-line error into err, if err_len > 0. */
void rt_errf(char *err, size_t err_len, const char *fmt, ...) RT_PRINTF(3, 4);
/* Reads the whole file into a malloc'ed buffer (one spare byte, never NULL on success). */
int rt_io_read_file(const char *path, unsigned char **buf, size_t *len, char *err,
                    size_t err_len);
/* The same, refusing a file of more than max bytes (and, on POSIX, one that is
 * not a regular file) without reading past max + 1. */
int rt_io_read_file_max(const char *path, size_t max, unsigned char **buf, size_t *len,
                        char *err, size_t err_len);
/* Writes head then body to a new temp beside path (created exclusively, never
 * through a symlink, on POSIX) and renames it over path; body holds
 * esize-byte elements stored little-endian in the file. Returns RT_EIO on failure. */
int rt_io_write_atomic(const char *path, const void *head, size_t head_len, const void *body,
                       size_t body_len, size_t esize);
/* Byte-swaps n esize-byte elements in place on a big-endian host; no-op otherwise. */
void rt_io_le(void *data, size_t n, size_t esize);
/* io_npy.c, io_pb.c: the parsers rt_tensor_read picks between. Each takes
 * *buf (the whole file, malloc'ed) and may keep it as t->data, setting *buf
 * to NULL. */
int rt_npy_parse(const char *path, unsigned char **buf, size_t len, RtTensor *t, char *err,
                 size_t err_len);
int rt_pb_parse(const char *path, unsigned char **buf, size_t len, RtTensor *t, char *err,
                size_t err_len);

/* ---- the protobuf wire format (io_wire.c) ---- */
enum { RT_PB_VARINT = 0, RT_PB_I64 = 1, RT_PB_LEN = 2, RT_PB_SGROUP = 3, RT_PB_EGROUP = 4,
       RT_PB_I32 = 5 };

/* A reader over one message; its errors name the file and the byte. */
typedef struct RtPb {
    const unsigned char *p;      /* the message */
    size_t len;                  /* its length */
    size_t pos;                  /* read position */
    const char *path;            /* for messages */
    char *err;
    size_t err_len;
} RtPb;

typedef struct RtPbField {
    uint32_t num;                /* field number */
    int wire;                    /* wire type (RT_PB_VARINT...) */
    uint64_t val;                /* a varint's or fixed-width field's value */
    const unsigned char *data;   /* a length-delimited payload (or the fixed bytes) */
    size_t len;
    size_t at;                   /* offset of the key, for messages */
} RtPbField;

int rt_pb_read_varint(RtPb *b, uint64_t *v);
/* n bytes at p as a little-endian number. */
uint64_t rt_pb_le(const unsigned char *p, int n);
/* Reads one field at b->pos; 0, or -1 with b->err set. */
int rt_pb_next(RtPb *b, RtPbField *f, int depth);
/* Adds the number of varints in packed field f to *count, checking each is whole. */
int rt_pb_count_varints(RtPb *b, const RtPbField *f, size_t *count);
/* Writes v as a varint at p; returns its length (at most 10). */
size_t rt_pb_varint(unsigned char *p, uint64_t v);
/* The field at *pos of msg (advancing *pos); non-zero with err set if malformed. */
int rt_pb_field(const char *path, const unsigned char *msg, size_t len, size_t *pos,
                RtPbField *f, char *err, size_t err_len);

/* ---- TensorProto (io_pb.c): what io_struct.c builds sequences and optionals from ---- */
/* Parses one TensorProto message into t (t->data malloc'ed). */
int rt_pb_tensor(const char *path, const unsigned char *msg, size_t len, RtTensor *t, char *err,
                 size_t err_len);
/* The TensorProto bytes that precede t's raw data (up to 256); returns their count. */
size_t rt_pb_tensor_head(const RtTensor *t, unsigned char *head);
/* A string tensor's string_data fields, which follow its head instead of raw
 * data (malloc'ed, *len bytes); NULL if out of memory or a string is NULL. */
unsigned char *rt_pb_strings_body(const RtTensor *t, size_t *len);

/* k_conv.c: Conv with its float32 path forced, for bench/depthwise_bench.c.
 * AUTO is rt_conv; GEMM sends depthwise groups through the implicit-im2col
 * GEMM like any other group; OLD skips conv_dw (conv_dw3 for 3x3, else the
 * axpy loops of conv_depthwise: the paths before conv_dw); DW takes conv_dw
 * for 3x3 too; PLANE takes conv_dw_plane (small maps, computed flat) wherever
 * its buffer fits, conv_dw elsewhere. */
enum { RT_CONV_PATH_AUTO, RT_CONV_PATH_GEMM, RT_CONV_PATH_OLD, RT_CONV_PATH_DW,
       RT_CONV_PATH_PLANE };
int rt_conv_path(const RtCall *c, const void *const *in, void *const *out, int path);
/* k_conv.c: a float32 Conv whose W comes from wpack(wsrc, ...) instead of
 * in[1]: column t of a panel from W's row j0 + t (output channel, all groups
 * in order), row p from reduction index k0 + p in im2col order (c, kd, kh,
 * kw), the product times alpha (ConvWQ, k_wq_conv.c). in[1]'s descriptor
 * still gives the window; always through the GEMM, no packed or Winograd W. */
int rt_conv_wpacked(const RtCall *c, const void *const *in, void *const *out, RtPackB wpack,
                    const void *wsrc, float alpha);

/* k_conv_wino.c: one float32 Conv through Winograd F(4x4, 3x3), W as
 * rt_wino_pack wrote it for this runtime's GEMM tile. */
typedef struct RtWinoConv {
    int64_t n, cin, cout;
    int64_t h, w, oh, ow;        /* input and output maps */
    int64_t pt, pl;              /* pads at the top and left */
    const float *x, *u, *bias, *z; /* input, transformed W, bias or NULL, sum input or NULL */
    float *y;
    int act;                     /* RT_EPI_* after the sum input */
    float p0, p1;
} RtWinoConv;
int rt_conv_wino(const RtWinoConv *p);

#endif
