/* onnx_tensor.c: decodes ONNX TensorProtos (raw, typed and external storage) into dense arrays. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "frontend.h"

const char *onnx_dtype_name(int dtype)
{
    /* TensorProto.DataType numbers onnxcc has no element type for */
    switch (dtype) {
    case 8: return "string";
    case 14: return "complex64";
    case 15: return "complex128";
    default: return rt_dtype_bits(dtype) ? rt_dtype_name(dtype) : "unknown";
    }
}

const char *onnx_type_str(int dtype, int rank, const int64_t *dims, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "%s", onnx_dtype_name(dtype));
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "[", (long long)dims[i]);
    if (rank > 0 && k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

static int terr(const TensorSrc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int terr(const TensorSrc *s, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->node)
        return ir_node_error(s->d, s->node, "%s: %s", s->what, buf);
    return ir_error(s->d, "%s: %s", s->what, buf);
}

/* ONNX stores raw_data and external data little-endian (onnx.proto, TensorProto.raw_data). */
static void to_host_order(void *p, size_t nbytes, size_t es)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe == 1 || es == 1)
        return;
    uint8_t *b = p;
    for (size_t i = 0; i + es <= nbytes; i += es)
        for (size_t j = 0; j < es / 2; j++) {
            uint8_t x = b[i + j];
            b[i + j] = b[i + es - 1 - j];
            b[i + es - 1 - j] = x;
        }
}

/* Kernels may rely on bools being exactly 0 or 1. */
static void normalize_bool(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = p[i] != 0;
}

static void *alloc_data(const TensorSrc *s, Tensor *t, const char *ty)
{
    void *p = ir_alloc(s->g, t->nbytes ? t->nbytes : 1);
    if (!p)
        terr(s, "%s needs %zu bytes, more than onnxcc can hold in memory", ty, t->nbytes);
    t->data = p;
    return p;
}

/* ---- external data (onnx/external_data_helper.py: keys location, offset, length) ---- */

static int parse_size(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* The location must stay inside the model's folder: a model is untrusted input and
 * must not make the compiler read arbitrary files. */
static int escapes_folder(const char *loc)
{
    if (loc[0] == '/' || loc[0] == '\\' || (loc[0] && loc[1] == ':'))
        return 1;
    const char *p = loc;
    while (*p) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 2;
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

static int read_range(const TensorSrc *s, FILE *f, const char *full, int64_t off, int64_t len,
                      int64_t fsize, Tensor *t, const char *ty);

static int read_external(const TensorSrc *s, const Onnx__TensorProto *tp, Tensor *t,
                         const char *ty)
{
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key || !e->value)
            continue;
        if (!strcmp(e->key, "location"))
            loc = e->value;
        else if (!strcmp(e->key, "offset"))
            off_s = e->value;
        else if (!strcmp(e->key, "length"))
            len_s = e->value;
    }
    if (!loc || !loc[0])
        return terr(s, "external data has no location");
    int esc = escapes_folder(loc);
    if (esc == 1)
        return terr(s, "external data location '%s' is an absolute path; it must be "
                    "relative to the model's folder", loc);
    if (esc == 2)
        return terr(s, "external data location '%s' leaves the model's folder", loc);
    if (!s->dir)
        return terr(s, "external data '%s' needs the model's file path to be found", loc);
    int64_t off = 0, len = -1;
    if (off_s && parse_size(off_s, &off))
        return terr(s, "external data offset '%s' is not a non-negative integer", off_s);
    if (len_s && parse_size(len_s, &len))
        return terr(s, "external data length '%s' is not a non-negative integer", len_s);

    char full[4096];
    if ((size_t)snprintf(full, sizeof full, "%s/%s", s->dir, loc) >= sizeof full)
        return terr(s, "external data path '%s' is too long", loc);
    /* a symlink (of the file or of a folder on the way) may point anywhere:
     * what the path resolves to must still be inside the model's folder, and
     * that resolved path is what gets opened */
    char *real = realpath(full, NULL);
    int real_errno = errno;
    char *rdir = realpath(s->dir, NULL);
    size_t nd = rdir ? strlen(rdir) : 0;
    int inside = real && rdir &&
                 (!strcmp(rdir, "/") || (!strncmp(real, rdir, nd) && real[nd] == '/'));
    if (real && rdir && !inside) {
        terr(s, "external data location '%s' leads outside the model's folder (through a "
             "symbolic link)", loc);
        free(real);
        free(rdir);
        return -1;
    }
    free(rdir);
    if (!real)
        return terr(s, "external data file '%s' cannot be opened: %s", full,
                    strerror(real_errno));
    FILE *f = fopen(real, "rb");
    free(real);
    struct stat st;
    if (!f || fstat(fileno(f), &st)) {
        int e = errno;
        if (f)
            fclose(f);
        return terr(s, "external data file '%s' cannot be opened: %s", full, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return terr(s, "external data file '%s' is not a regular file", full);
    }
    int64_t fsize = (int64_t)st.st_size;
    int rc = read_range(s, f, full, off, len, fsize, t, ty);
    fclose(f);
    return rc;
}

static int read_range(const TensorSrc *s, FILE *f, const char *full, int64_t off, int64_t len,
                      int64_t fsize, Tensor *t, const char *ty)
{
    if (off > fsize)
        return terr(s, "external data offset %lld is past the end of '%s' (%lld bytes)",
                    (long long)off, full, (long long)fsize);
    if (len >= 0) {
        if (len > fsize - off)
            return terr(s, "external data file '%s' has %lld bytes, fewer than offset %lld + "
                        "length %lld", full, (long long)fsize, (long long)off, (long long)len);
        if ((uint64_t)len != t->nbytes)
            return terr(s, "external data length is %lld bytes, expected %zu for %s",
                        (long long)len, t->nbytes, ty);
    } else if ((uint64_t)(fsize - off) < t->nbytes) {
        return terr(s, "external data file '%s' has %lld bytes after offset %lld, expected "
                    "%zu for %s", full, (long long)(fsize - off), (long long)off, t->nbytes, ty);
    }

    if (!alloc_data(s, t, ty))
        return -1;
    int ok = fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(t->data, 1, t->nbytes, f) == t->nbytes;
    if (!ok)
        return terr(s, "reading %zu bytes at offset %lld of external data file '%s' failed",
                    t->nbytes, (long long)off, full);
    return 0;
}

/* ---- typed fields (onnx.proto: which repeated field carries which data_type) ---- */

static size_t typed_count(const Onnx__TensorProto *tp, int dt, const char **field)
{
    switch (dt) {
    case RT_F32: *field = "float_data"; return tp->n_float_data;
    case RT_F64: *field = "double_data"; return tp->n_double_data;
    case RT_I64: *field = "int64_data"; return tp->n_int64_data;
    case RT_U32: case RT_U64: *field = "uint64_data"; return tp->n_uint64_data;
    /* int32_data also carries the narrower ints, bool, the bits of float16/bfloat16
     * and float8, and the packed bytes of the 4- and 2-bit types (onnx.proto) */
    default: *field = "int32_data"; return tp->n_int32_data;
    }
}

static void copy_typed(const Onnx__TensorProto *tp, int dt, void *dst, size_t n)
{
    if (!n)
        return; /* the field's array is NULL then */
    switch (dt) {
    case RT_F32: memcpy(dst, tp->float_data, n * 4); break;
    case RT_F64: memcpy(dst, tp->double_data, n * 8); break;
    case RT_I64: memcpy(dst, tp->int64_data, n * 8); break;
    case RT_U64: memcpy(dst, tp->uint64_data, n * 8); break;
    case RT_I32: memcpy(dst, tp->int32_data, n * 4); break;
    case RT_U32:
        for (size_t i = 0; i < n; i++)
            ((uint32_t *)dst)[i] = (uint32_t)tp->uint64_data[i];
        break;
    case RT_I16:
        for (size_t i = 0; i < n; i++)
            ((int16_t *)dst)[i] = (int16_t)tp->int32_data[i];
        break;
    case RT_U16: case RT_F16: case RT_BF16:
        for (size_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = (uint16_t)tp->int32_data[i];
        break;
    case RT_I8:
        for (size_t i = 0; i < n; i++)
            ((int8_t *)dst)[i] = (int8_t)tp->int32_data[i];
        break;
    case RT_U8: case RT_F8E4M3FN: case RT_F8E4M3FNUZ: case RT_F8E5M2: case RT_F8E5M2FNUZ:
    case RT_F8E8M0: case RT_U4: case RT_I4: case RT_F4E2M1: case RT_U2: case RT_I2:
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = (uint8_t)tp->int32_data[i];
        break;
    case RT_BOOL:
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = tp->int32_data[i] != 0;
        break;
    default:
        IR_ASSERT(0);
    }
}

/* string_data: the pointer array and the NUL-terminated bytes, both in the graph's
 * arena, which outlives every use of the constant. */
static int decode_strings(const TensorSrc *s, const Onnx__TensorProto *tp, Tensor *t,
                          const char *ty)
{
    size_t n = t->nbytes / sizeof(char *);
    if (tp->has_raw_data || (tp->has_data_location &&
                             tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return terr(s, "%s must be given in string_data", ty);
    if (tp->n_string_data != n)
        return terr(s, "string_data has %zu values, expected %zu for %s", tp->n_string_data, n,
                    ty);
    const char **p = alloc_data(s, t, ty);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCBinaryData *b = &tp->string_data[i];
        if (b->len && memchr(b->data, 0, b->len))
            return terr(s, "string %zu holds a NUL byte, which onnxcc's strings cannot carry",
                        i);
        char *c = ir_alloc(s->g, b->len + 1);
        if (!c)
            return terr(s, "out of memory for %s", ty);
        if (b->len)
            memcpy(c, b->data, b->len);
        p[i] = c;
    }
    return 0;
}

int onnx_tensor_decode(const TensorSrc *s, const Onnx__TensorProto *tp, Tensor *t)
{
    memset(t, 0, sizeof *t);
    int dt = tp->has_data_type ? tp->data_type : RT_UNDEF;
    /* a packed type's bytes need no reordering: es 1 */
    size_t es = rt_is_packed(dt) ? 1 : rt_dtype_size(dt);
    if (dt == RT_UNDEF)
        return terr(s, "tensor has no data_type");
    if (!es)
        return terr(s, "dtype %s (%d) is not supported", onnx_dtype_name(dt), dt);
    if (tp->n_dims > IR_MAX_RANK)
        return terr(s, "rank %zu exceeds onnxcc's limit of %d", tp->n_dims, IR_MAX_RANK);
    if (tp->segment)
        return terr(s, "segmented tensors are not supported");
    t->dtype = dt;
    t->rank = (int32_t)tp->n_dims;
    for (int i = 0; i < t->rank; i++) {
        if (tp->dims[i] < 0)
            return terr(s, "dim %d is negative (%lld)", i, (long long)tp->dims[i]);
        t->dims[i] = tp->dims[i];
    }
    char ty[256], why[256];
    onnx_type_str(dt, t->rank, t->dims, ty, sizeof ty);
    /* checked before anything is allocated or read */
    if (ir_check_tensor(&s->g->limits, dt, t->rank, t->dims, why, sizeof why))
        return terr(s, "%s %s", ty, why);
    int64_t numel, nbytes;
    if (ir_numel_checked(t->rank, t->dims, &numel) ||
        ir_dtype_bytes_checked(dt, numel, &nbytes) ||
        (uint64_t)nbytes > SIZE_MAX)
        return terr(s, "%s has more elements than onnxcc can address", ty);
    Graph *root = s->g;
    while (root->parent)
        root = root->parent;
    root->const_bytes += nbytes; /* each at most the tensor limit: no overflow */
    if (root->const_bytes > root->limits.v[LIM_WEIGHT_BYTES])
        return terr(s, "the model's constants take at least %lld bytes with this one, above "
                    "the limit of %lld (--limit weight-bytes=N raises it)",
                    (long long)root->const_bytes, (long long)root->limits.v[LIM_WEIGHT_BYTES]);
    t->nbytes = (size_t)nbytes;

    if (dt == RT_STRING)
        return decode_strings(s, tp, t, ty);
    int external = tp->has_data_location &&
                   tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external) {
        if (read_external(s, tp, t, ty))
            return -1;
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != t->nbytes)
            return terr(s, "raw_data has %zu bytes, expected %zu for %s", tp->raw_data.len,
                        t->nbytes, ty);
        if (!alloc_data(s, t, ty))
            return -1;
        if (t->nbytes)
            memcpy(t->data, tp->raw_data.data, t->nbytes);
    } else {
        const char *field;
        size_t cnt = typed_count(tp, dt, &field);
        /* packed types: one int32 per byte of two (four) elements */
        int64_t want = rt_is_packed(dt) ? nbytes : numel;
        if (cnt != (uint64_t)want) {
            size_t any = tp->n_float_data + tp->n_double_data + tp->n_int32_data +
                         tp->n_int64_data + tp->n_uint64_data + tp->n_string_data;
            if (!any)
                return terr(s, "no data (expected %lld values for %s)", (long long)numel, ty);
            return terr(s, "%s has %zu values, expected %lld for %s", field, cnt,
                        (long long)want, ty);
        }
        if (!alloc_data(s, t, ty))
            return -1;
        copy_typed(tp, dt, t->data, cnt);
        return 0;
    }
    to_host_order(t->data, t->nbytes, es);
    if (dt == RT_BOOL)
        normalize_bool(t->data, t->nbytes);
    return 0;
}
