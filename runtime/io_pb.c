/* io_pb.c: tensor files in ONNX TensorProto (.pb) form, read and written over io_wire.c. */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Field numbers of TensorProto (onnx/onnx.proto). */
enum {
    F_DIMS = 1, F_DATA_TYPE = 2, F_SEGMENT = 3, F_FLOAT = 4, F_INT32 = 5, F_STRING = 6,
    F_INT64 = 7, F_NAME = 8, F_RAW = 9, F_DOUBLE = 10, F_UINT64 = 11, F_DATA_LOCATION = 14,
    F_END = 16
};

static const char *field_name(int num)
{
    switch (num) {
    case F_FLOAT: return "float_data";
    case F_INT32: return "int32_data";
    case F_INT64: return "int64_data";
    case F_DOUBLE: return "double_data";
    case F_UINT64: return "uint64_data";
    case F_STRING: return "string_data";
    default: return "?";
    }
}

/* The typed field that carries dtype's values when raw_data is absent. */
static int field_for(int dtype)
{
    switch (dtype) {
    case RT_F32: return F_FLOAT;
    case RT_I64: return F_INT64;
    case RT_F64: return F_DOUBLE;
    case RT_U32: case RT_U64: return F_UINT64;
    case RT_STRING: return F_STRING;
    default: return F_INT32; /* int32 and narrower, bool, and f16/bf16 as raw bits */
    }
}

/* What the first pass learned about the message. */
typedef struct Scan {
    int rank;
    int64_t dims[RT_MAX_RANK];
    int64_t dtype;               /* data_type, 0 if absent */
    const unsigned char *raw;    /* raw_data, NULL if absent */
    size_t raw_len;
    const unsigned char *name;
    size_t name_len;
    size_t str_bytes;            /* string_data: total payload bytes */
    size_t count[F_END];         /* values seen per typed field */
} Scan;

static int add_dim(RtPb *b, Scan *s, uint64_t v, size_t at)
{
    if (s->rank == RT_MAX_RANK) {
        rt_errf(b->err, b->err_len, "%s: rank exceeds %d at byte %zu", b->path, RT_MAX_RANK, at);
        return -1;
    }
    if ((int64_t)v < 0) {
        rt_errf(b->err, b->err_len, "%s: negative dimension %lld", b->path, (long long)(int64_t)v);
        return -1;
    }
    s->dims[s->rank++] = (int64_t)v;
    return 0;
}

static int wrong_wire(RtPb *b, const RtPbField *f)
{
    rt_errf(b->err, b->err_len, "%s: field %u has wire type %d at byte %zu", b->path,
            (unsigned)f->num, f->wire, f->at);
    return -1;
}

static int scan(RtPb *b, Scan *s)
{
    RtPbField f;
    memset(s, 0, sizeof *s);
    while (b->pos < b->len) {
        if (rt_pb_next(b, &f, 0))
            return -1;
        switch (f.num) {
        case F_DIMS:
            if (f.wire == RT_PB_VARINT) {
                if (add_dim(b, s, f.val, f.at))
                    return -1;
            } else if (f.wire == RT_PB_LEN) {
                RtPb p = *b;
                p.p = f.data;
                p.len = f.len;
                p.pos = 0;
                while (p.pos < p.len) {
                    uint64_t v;
                    if (rt_pb_read_varint(&p, &v) || add_dim(b, s, v, f.at))
                        return -1;
                }
            } else {
                return wrong_wire(b, &f);
            }
            break;
        case F_DATA_TYPE:
            if (f.wire != RT_PB_VARINT)
                return wrong_wire(b, &f);
            s->dtype = (int32_t)(uint32_t)f.val;
            break;
        case F_SEGMENT:
            rt_errf(b->err, b->err_len, "%s: segmented tensors are not supported "
                    "(is this a sequence?)", b->path);
            return -1;
        case F_FLOAT:
        case F_DOUBLE: {
            int w = f.num == F_FLOAT ? RT_PB_I32 : RT_PB_I64;
            size_t es = f.num == F_FLOAT ? 4 : 8;
            if (f.wire == w) {
                s->count[f.num]++;
            } else if (f.wire == RT_PB_LEN && f.len % es == 0) {
                s->count[f.num] += f.len / es;
            } else if (f.wire == RT_PB_LEN) {
                rt_errf(b->err, b->err_len, "%s: packed %s of %zu bytes at byte %zu", b->path,
                        field_name((int)f.num), f.len, f.at);
                return -1;
            } else {
                return wrong_wire(b, &f);
            }
            break;
        }
        case F_INT32:
        case F_INT64:
        case F_UINT64:
            if (f.wire == RT_PB_VARINT) {
                s->count[f.num]++;
            } else if (f.wire == RT_PB_LEN) {
                if (rt_pb_count_varints(b, &f, &s->count[f.num]))
                    return -1;
            } else {
                return wrong_wire(b, &f);
            }
            break;
        case F_STRING:
            if (f.wire != RT_PB_LEN)
                return wrong_wire(b, &f);
            s->count[F_STRING]++;
            s->str_bytes += f.len;
            break;
        case F_NAME:
            if (f.wire != RT_PB_LEN)
                return wrong_wire(b, &f);
            s->name = f.data;
            s->name_len = f.len;
            break;
        case F_RAW:
            if (f.wire != RT_PB_LEN)
                return wrong_wire(b, &f);
            s->raw = f.data;
            s->raw_len = f.len;
            break;
        case F_DATA_LOCATION:
            if (f.wire != RT_PB_VARINT)
                return wrong_wire(b, &f);
            if (f.val == 1) {
                rt_errf(b->err, b->err_len, "%s: external data is not supported", b->path);
                return -1;
            }
            break;
        default: /* doc_string, external_data, newer fields: not needed */
            break;
        }
    }
    return 0;
}

/* Stores value v of a typed field as element i of a dtype tensor, checking
 * that it fits (a wrong value means a corrupted file, not a rounding choice). */
static int store(RtPb *b, void *data, int dtype, size_t i, uint64_t v)
{
    int32_t x = (int32_t)(uint32_t)v;
    int64_t lo = 0, hi = 0;
    switch (dtype) {
    case RT_F32: {
        uint32_t u = (uint32_t)v;
        memcpy((float *)data + i, &u, 4);
        return 0;
    }
    case RT_F64:
        memcpy((double *)data + i, &v, 8);
        return 0;
    case RT_I64: ((int64_t *)data)[i] = (int64_t)v; return 0;
    case RT_U64: ((uint64_t *)data)[i] = v; return 0;
    case RT_U32:
        if (v > 0xffffffffu) {
            rt_errf(b->err, b->err_len, "%s: uint64_data value %llu at index %zu is out of range "
                    "for uint32", b->path, (unsigned long long)v, i);
            return -1;
        }
        ((uint32_t *)data)[i] = (uint32_t)v;
        return 0;
    case RT_I32: ((int32_t *)data)[i] = x; return 0;
    case RT_BOOL: ((uint8_t *)data)[i] = x != 0; return 0;
    case RT_I8: lo = -128; hi = 127; break;
    case RT_U8: lo = 0; hi = 255; break;
    case RT_I16: lo = -32768; hi = 32767; break;
    case RT_U16: lo = 0; hi = 65535; break;
    /* the int32 holds the 16 raw bits; accept them sign-extended too */
    case RT_F16: case RT_BF16: lo = -32768; hi = 65535; break;
    default:
        /* float8's bits, or one packed byte of two 4-bit or four 2-bit elements:
         * the int32 holds one byte (onnx.proto, int32_data) */
        if (!rt_is_narrow(dtype))
            return -1;
        lo = -128;
        hi = 255;
        break;
    }
    if (x < lo || x > hi) {
        rt_errf(b->err, b->err_len, "%s: int32_data value %ld at index %zu is out of range for %s",
                b->path, (long)x, i, rt_dtype_name(dtype));
        return -1;
    }
    if (rt_dtype_size(dtype) <= 1) /* 0: a packed byte */
        ((uint8_t *)data)[i] = (uint8_t)x;
    else
        ((uint16_t *)data)[i] = (uint16_t)x;
    return 0;
}

/* Second pass: decodes every value of field num into data. */
static int decode(RtPb *b, int num, void *data, int dtype)
{
    size_t i = 0;
    RtPbField f;
    b->pos = 0;
    while (b->pos < b->len) {
        if (rt_pb_next(b, &f, 0))
            return -1;
        if ((int)f.num != num)
            continue;
        if (f.wire != RT_PB_LEN) {
            if (store(b, data, dtype, i++, f.val))
                return -1;
        } else if (num == F_FLOAT || num == F_DOUBLE) {
            int es = num == F_FLOAT ? 4 : 8;
            for (size_t k = 0; k < f.len; k += (size_t)es)
                if (store(b, data, dtype, i++, rt_pb_le(f.data + k, es)))
                    return -1;
        } else {
            RtPb p = *b;
            p.p = f.data;
            p.len = f.len;
            p.pos = 0;
            while (p.pos < p.len) {
                uint64_t v;
                if (rt_pb_read_varint(&p, &v) || store(b, data, dtype, i++, v))
                    return -1;
            }
        }
    }
    return 0;
}

/* A string tensor is one malloc'ed block, the pointer array first and the
 * NUL-terminated bytes after it, so rt_tensor_free stays one free(). */
static int decode_strings(RtPb *b, const Scan *s, RtTensor *t, const char *ts)
{
    size_t n = t->nbytes / sizeof(char *), i = 0;
    if (s->str_bytes > SIZE_MAX - t->nbytes - n) {
        rt_errf(b->err, b->err_len, "%s: %s is too large", b->path, ts);
        return RT_EFORMAT;
    }
    char **ptr = malloc(t->nbytes + s->str_bytes + n);
    if (!ptr) {
        rt_errf(b->err, b->err_len, "%s: out of memory for %s", b->path, ts);
        return RT_EIO;
    }
    char *bytes = (char *)(ptr + n);
    RtPbField f;
    t->data = ptr;
    b->pos = 0;
    while (b->pos < b->len) {
        if (rt_pb_next(b, &f, 0))
            return RT_EFORMAT;
        if (f.num != F_STRING)
            continue;
        if (memchr(f.data, 0, f.len)) {
            rt_errf(b->err, b->err_len, "%s: string_data value %zu holds a NUL byte, which "
                    "onnxcc's strings cannot carry", b->path, i);
            return RT_EFORMAT;
        }
        ptr[i++] = bytes;
        memcpy(bytes, f.data, f.len);
        bytes += f.len;
        *bytes++ = 0;
    }
    return RT_OK;
}

/* Checks the shape and returns the byte size in *nbytes, refusing overflow. */
static int tensor_bytes(const char *path, int dtype, int rank, const int64_t *dims,
                        size_t *nbytes, char *err, size_t err_len)
{
    uint64_t limit = (uint64_t)(SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX) / 8;
    uint64_t n = 1;
    int zero = 0;
    for (int i = 0; i < rank; i++)
        zero |= dims[i] == 0;
    if (zero) {
        *nbytes = 0;
        return 0;
    }
    for (int i = 0; i < rank; i++) {
        if ((uint64_t)dims[i] > limit / n) {
            char ts[256];
            rt_type_str(ts, sizeof ts, dtype, rank, dims);
            rt_errf(err, err_len, "%s: %s is too large (element count overflows)", path, ts);
            return -1;
        }
        n *= (uint64_t)dims[i];
    }
    *nbytes = rt_dtype_bytes(dtype, (int64_t)n); /* packed types: ceil(n * bits / 8) */
    return 0;
}

int rt_pb_parse(const char *path, unsigned char **bufp, size_t len, RtTensor *t, char *err,
                size_t err_len)
{
    RtPb b = { *bufp, len, 0, path, err, err_len };
    Scan s;
    size_t nbytes, esize, nvals = 0;
    int dtype, want, given = 0;
    char ts[256];
    if (scan(&b, &s))
        return RT_EFORMAT;
    if (s.dtype == 14 || s.dtype == 15) {
        rt_errf(err, err_len, "%s: complex tensors are not supported", path);
        return RT_EFORMAT;
    }
    if (s.dtype == RT_UNDEF) {
        rt_errf(err, err_len, "%s: not a tensor (no data_type)", path);
        return RT_EFORMAT;
    }
    if (s.dtype < 0 || s.dtype >= RT_DTYPE_END || !rt_dtype_bits((int)s.dtype)) {
        rt_errf(err, err_len, "%s: unsupported data_type %lld", path, (long long)s.dtype);
        return RT_EFORMAT;
    }
    dtype = (int)s.dtype;
    esize = rt_is_packed(dtype) ? 1 : rt_dtype_size(dtype); /* packed: int32_data per byte */
    if (tensor_bytes(path, dtype, s.rank, s.dims, &nbytes, err, err_len))
        return RT_EFORMAT;
    rt_type_str(ts, sizeof ts, dtype, s.rank, s.dims);
    want = field_for(dtype);
    for (int k = 0; k < F_END; k++) {
        if (!s.count[k])
            continue;
        if (k != want) {
            rt_errf(err, err_len, "%s: %s given for %s", path, field_name(k), ts);
            return RT_EFORMAT;
        }
        given = 1;
        nvals = s.count[k];
    }
    if (s.raw && dtype == RT_STRING) {
        rt_errf(err, err_len, "%s: raw_data given for %s (strings travel in string_data)", path,
                ts);
        return RT_EFORMAT;
    }
    if (s.raw && given) {
        rt_errf(err, err_len, "%s: both raw_data and %s are set", path, field_name(want));
        return RT_EFORMAT;
    }
    if (s.raw && s.raw_len != nbytes) {
        rt_errf(err, err_len, "%s: raw_data has %zu bytes, expected %zu for %s", path, s.raw_len,
                nbytes, ts);
        return RT_EFORMAT;
    }
    if (!s.raw && nvals != nbytes / esize) {
        if (nvals)
            rt_errf(err, err_len, "%s: %s has %zu values, expected %zu for %s", path,
                    field_name(want), nvals, nbytes / esize, ts);
        else
            rt_errf(err, err_len, "%s: no data for %s", path, ts);
        return RT_EFORMAT;
    }
    t->desc.dtype = dtype;
    t->desc.rank = s.rank;
    memcpy(t->desc.dims, s.dims, sizeof s.dims);
    if (s.name_len) {
        size_t n = s.name_len < sizeof t->name - 1 ? s.name_len : sizeof t->name - 1;
        memcpy(t->name, s.name, n);
        t->name[n] = 0;
    }
    t->nbytes = nbytes;
    if (!nbytes)
        return RT_OK;
    if (s.raw) {
        /* the file buffer becomes the tensor: no second copy of a large tensor */
        unsigned char *buf = *bufp, *shrunk;
        memmove(buf, s.raw, nbytes);
        shrunk = realloc(buf, nbytes);
        t->data = shrunk ? shrunk : buf;
        *bufp = NULL;
        rt_io_le(t->data, nbytes / esize, esize);
        return RT_OK;
    }
    if (dtype == RT_STRING)
        return decode_strings(&b, &s, t, ts);
    t->data = malloc(nbytes);
    if (!t->data) {
        rt_errf(err, err_len, "%s: out of memory for %s", path, ts);
        return RT_EIO;
    }
    return decode(&b, want, t->data, dtype) ? RT_EFORMAT : RT_OK;
}

/* Checks that t is a well-formed tensor whose nbytes matches its type. */
static int check_tensor(const RtTensor *t)
{
    size_t nbytes;
    if (!t || !rt_dtype_bits(t->desc.dtype) || t->desc.rank < 0 || t->desc.rank > RT_MAX_RANK)
        return RT_EDTYPE;
    for (int i = 0; i < t->desc.rank; i++)
        if (t->desc.dims[i] < 0)
            return RT_EINVAL;
    if (tensor_bytes("", t->desc.dtype, t->desc.rank, t->desc.dims, &nbytes, NULL, 0) ||
        nbytes != t->nbytes || (nbytes && !t->data))
        return RT_EINVAL;
    return RT_OK;
}

unsigned char *rt_pb_strings_body(const RtTensor *t, size_t *len)
{
    const char *const *v = t->data;
    size_t n = t->nbytes / sizeof(char *), total = 0, at = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            return NULL;
        total += 11 + strlen(v[i]);
    }
    unsigned char *body = malloc(total ? total : 1);
    if (!body)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(v[i]);
        body[at++] = F_STRING << 3 | RT_PB_LEN;
        at += rt_pb_varint(body + at, k);
        memcpy(body + at, v[i], k);
        at += k;
    }
    *len = at;
    return body;
}

size_t rt_pb_tensor_head(const RtTensor *t, unsigned char *head)
{
    /* dims: 8 * 11, data_type: 11, name: 3 + 127, raw_data key and length: 11 */
    size_t n = 0, name_len;
    for (int i = 0; i < t->desc.rank; i++) {
        head[n++] = F_DIMS << 3 | RT_PB_VARINT;
        n += rt_pb_varint(head + n, (uint64_t)t->desc.dims[i]);
    }
    head[n++] = F_DATA_TYPE << 3 | RT_PB_VARINT;
    n += rt_pb_varint(head + n, (uint64_t)t->desc.dtype);
    for (name_len = 0; name_len < sizeof t->name - 1 && t->name[name_len]; name_len++)
        ;
    if (name_len) {
        head[n++] = F_NAME << 3 | RT_PB_LEN;
        n += rt_pb_varint(head + n, name_len);
        memcpy(head + n, t->name, name_len);
        n += name_len;
    }
    if (t->desc.dtype == RT_STRING) /* no raw_data form: the string_data fields follow */
        return n;
    head[n++] = F_RAW << 3 | RT_PB_LEN;
    n += rt_pb_varint(head + n, t->nbytes);
    return n;
}

int rt_tensor_write_pb(const char *path, const RtTensor *t)
{
    unsigned char head[256];
    int rc = check_tensor(t);
    if (rc)
        return rc;
    size_t n = rt_pb_tensor_head(t, head);
    if (t->desc.dtype == RT_STRING) {
        size_t len;
        unsigned char *body = rt_pb_strings_body(t, &len);
        if (!body)
            return RT_EINVAL;
        rc = rt_io_write_atomic(path, head, n, body, len, 1);
        free(body);
        return rc;
    }
    size_t es = rt_is_packed(t->desc.dtype) ? 1 : rt_dtype_size(t->desc.dtype);
    return rt_io_write_atomic(path, head, n, t->data, t->nbytes, es);
}

int rt_pb_tensor(const char *path, const unsigned char *msg, size_t len, RtTensor *t, char *err,
                 size_t err_len)
{
    memset(t, 0, sizeof *t);
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        rt_errf(err, err_len, "%s: out of memory", path);
        return RT_EIO;
    }
    if (len)
        memcpy(buf, msg, len);
    int rc = rt_pb_parse(path, &buf, len, t, err, err_len);
    free(buf);
    if (rc) {
        free(t->data);
        memset(t, 0, sizeof *t);
    }
    return rc;
}
