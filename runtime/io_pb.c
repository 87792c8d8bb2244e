/* io_pb.c: tensor files: ONNX TensorProto (.pb) read and written by hand, no protobuf library. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Field numbers of TensorProto (onnx/onnx.proto). */
enum {
    F_DIMS = 1, F_DATA_TYPE = 2, F_SEGMENT = 3, F_FLOAT = 4, F_INT32 = 5, F_STRING = 6,
    F_INT64 = 7, F_NAME = 8, F_RAW = 9, F_DOUBLE = 10, F_UINT64 = 11, F_DATA_LOCATION = 14,
    F_END = 16
};

/* Protobuf wire types. */
enum { W_VARINT = 0, W_I64 = 1, W_LEN = 2, W_SGROUP = 3, W_EGROUP = 4, W_I32 = 5 };

/* Files beyond this are refused rather than half-read: a tensor this large is
 * more likely a wrong path than an input. */
#define FILE_CAP ((unsigned long long)4 << 30)

static void errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

void rt_io_le(void *data, size_t n, size_t esize)
{
    const uint16_t one = 1;
    unsigned char *p = data;
    if (*(const unsigned char *)&one || esize < 2)
        return;
    for (size_t i = 0; i < n; i++, p += esize) {
        for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
            unsigned char c = p[a];
            p[a] = p[b];
            p[b] = c;
        }
    }
}

/* Reads the whole file into a malloc'ed buffer (one spare byte, never NULL on success). */
static int read_file(const char *path, unsigned char **out, size_t *out_len, char *err,
                     size_t err_len)
{
    size_t limit = FILE_CAP < (unsigned long long)SIZE_MAX ? (size_t)FILE_CAP : SIZE_MAX - 1;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        errf(err, err_len, "%s: %s", path, strerror(errno));
        return RT_EIO;
    }
    /* the size is only a hint: the loop below reads to EOF whatever it says */
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz >= 0 && (unsigned long)sz <= limit)
            cap = (size_t)sz + 1;
    }
    rewind(f);
    for (;;) {
        if (len == cap) {
            size_t ncap = cap > limit / 2 ? limit + 1 : cap * 2;
            unsigned char *nb;
            if (len > limit) {
                errf(err, err_len, "%s: file is larger than 4 GiB", path);
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (!nb)
                goto oom;
            buf = nb;
            cap = ncap;
        } else if (!buf) {
            buf = malloc(cap);
            if (!buf)
                goto oom;
        }
        size_t want = cap - len, got = fread(buf + len, 1, want, f);
        len += got;
        if (got < want) {
            if (ferror(f)) {
                errf(err, err_len, "%s: %s", path, errno ? strerror(errno) : "read error");
                goto fail;
            }
            break;
        }
    }
    if (len > limit) {
        errf(err, err_len, "%s: file is larger than 4 GiB", path);
        goto fail;
    }
    fclose(f);
    *out = buf;
    *out_len = len;
    return RT_OK;
oom:
    errf(err, err_len, "%s: out of memory reading the file", path);
fail:
    free(buf);
    fclose(f);
    return RT_EIO;
}

int rt_io_write_atomic(const char *path, const void *head, size_t head_len, const void *body,
                       size_t body_len, size_t esize)
{
    const uint16_t one = 1;
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    FILE *f;
    int ok;
    if (!tmp)
        return RT_EIO;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    f = fopen(tmp, "wb");
    if (!f) {
        free(tmp);
        return RT_EIO;
    }
    ok = fwrite(head, 1, head_len, f) == head_len;
    if (*(const unsigned char *)&one || esize < 2) {
        ok = ok && (!body_len || fwrite(body, 1, body_len, f) == body_len);
    } else {
        /* big-endian host: swap a copy, chunk by chunk (4096 is a multiple of any esize) */
        unsigned char chunk[4096];
        const unsigned char *b = body;
        for (size_t off = 0; ok && off < body_len; off += sizeof chunk) {
            size_t k = body_len - off < sizeof chunk ? body_len - off : sizeof chunk;
            memcpy(chunk, b + off, k);
            rt_io_le(chunk, k / esize, esize);
            ok = fwrite(chunk, 1, k, f) == k;
        }
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        free(tmp);
        errno = e;
        return RT_EIO;
    }
    free(tmp);
    return RT_OK;
}

/* ---- protobuf wire format ---- */

typedef struct Pb {
    const unsigned char *p;      /* the message */
    size_t len;                  /* its length */
    size_t pos;                  /* read position */
    const char *path;            /* for messages */
    char *err;
    size_t err_len;
} Pb;

typedef struct Field {
    uint32_t num;                /* field number */
    int wt;                      /* wire type */
    uint64_t val;                /* W_VARINT, W_I32, W_I64 */
    const unsigned char *data;   /* W_LEN payload */
    size_t len;
    size_t at;                   /* offset of the key, for messages */
} Field;

static int truncated(Pb *b, size_t at)
{
    errf(b->err, b->err_len, "%s: truncated at byte %zu", b->path, at);
    return -1;
}

static int varint(Pb *b, uint64_t *v)
{
    size_t at = b->pos;
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        unsigned c;
        if (b->pos >= b->len)
            return truncated(b, at);
        c = b->p[b->pos++];
        /* the tenth byte holds only bit 63 */
        if (i == 9 && c > 1) {
            errf(b->err, b->err_len, "%s: bad varint at byte %zu", b->path, at);
            return -1;
        }
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            break;
    }
    *v = x;
    return 0;
}

static uint64_t le_bytes(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* Reads one field. A group (wire type 3) is skipped whole, recursing on its
 * fields until the matching end-group; an end-group comes back to the caller. */
static int next_field(Pb *b, Field *f, int depth)
{
    uint64_t key;
    f->at = b->pos;
    if (varint(b, &key))
        return -1;
    f->wt = (int)(key & 7);
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
        errf(b->err, b->err_len, "%s: bad field number at byte %zu", b->path, f->at);
        return -1;
    }
    f->num = (uint32_t)(key >> 3);
    f->data = NULL;
    f->len = 0;
    f->val = 0;
    switch (f->wt) {
    case W_VARINT:
        return varint(b, &f->val);
    case W_I64:
    case W_I32: {
        int n = f->wt == W_I64 ? 8 : 4;
        if (b->len - b->pos < (size_t)n)
            return truncated(b, f->at);
        f->data = b->p + b->pos;
        f->len = (size_t)n;
        f->val = le_bytes(f->data, n);
        b->pos += (size_t)n;
        return 0;
    }
    case W_LEN: {
        uint64_t n;
        if (varint(b, &n))
            return -1;
        if (n > b->len - b->pos)
            return truncated(b, f->at);
        f->data = b->p + b->pos;
        f->len = (size_t)n;
        b->pos += (size_t)n;
        return 0;
    }
    case W_SGROUP:
        if (depth >= 32) {
            errf(b->err, b->err_len, "%s: groups nested too deep at byte %zu", b->path, f->at);
            return -1;
        }
        for (;;) {
            Field g;
            if (b->pos >= b->len)
                return truncated(b, f->at);
            if (next_field(b, &g, depth + 1))
                return -1;
            if (g.wt == W_EGROUP) {
                if (g.num != f->num) {
                    errf(b->err, b->err_len, "%s: mismatched end-group at byte %zu", b->path,
                         g.at);
                    return -1;
                }
                return 0;
            }
        }
    case W_EGROUP:
        if (depth == 0) {
            errf(b->err, b->err_len, "%s: unmatched end-group at byte %zu", b->path, f->at);
            return -1;
        }
        return 0;
    default:
        errf(b->err, b->err_len, "%s: invalid wire type %d at byte %zu", b->path, f->wt, f->at);
        return -1;
    }
}

/* Counts the varints of a packed field, checking that each one is whole. */
static int count_varints(Pb *b, const Field *f, size_t *count)
{
    Pb s = *b;
    s.p = f->data;
    s.len = f->len;
    s.pos = 0;
    while (s.pos < s.len) {
        uint64_t v;
        size_t at = s.pos;
        if (varint(&s, &v)) {
            /* report the offset in the file, not in the field */
            errf(b->err, b->err_len, "%s: bad packed varint at byte %zu", b->path,
                 (size_t)(f->data - b->p) + at);
            return -1;
        }
        (*count)++;
    }
    return 0;
}

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

static void type_str(char *s, size_t n, int dtype, int rank, const int64_t *dims)
{
    size_t k = (size_t)snprintf(s, n, "%s[", rt_dtype_name(dtype));
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(s + k, n - k, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (k < n)
        snprintf(s + k, n - k, "]");
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

static int add_dim(Pb *b, Scan *s, uint64_t v, size_t at)
{
    if (s->rank == RT_MAX_RANK) {
        errf(b->err, b->err_len, "%s: rank exceeds %d at byte %zu", b->path, RT_MAX_RANK, at);
        return -1;
    }
    if ((int64_t)v < 0) {
        errf(b->err, b->err_len, "%s: negative dimension %lld", b->path, (long long)(int64_t)v);
        return -1;
    }
    s->dims[s->rank++] = (int64_t)v;
    return 0;
}

static int wrong_wire(Pb *b, const Field *f)
{
    errf(b->err, b->err_len, "%s: field %u has wire type %d at byte %zu", b->path,
         (unsigned)f->num, f->wt, f->at);
    return -1;
}

static int scan(Pb *b, Scan *s)
{
    Field f;
    memset(s, 0, sizeof *s);
    while (b->pos < b->len) {
        if (next_field(b, &f, 0))
            return -1;
        switch (f.num) {
        case F_DIMS:
            if (f.wt == W_VARINT) {
                if (add_dim(b, s, f.val, f.at))
                    return -1;
            } else if (f.wt == W_LEN) {
                Pb p = *b;
                p.p = f.data;
                p.len = f.len;
                p.pos = 0;
                while (p.pos < p.len) {
                    uint64_t v;
                    if (varint(&p, &v) || add_dim(b, s, v, f.at))
                        return -1;
                }
            } else {
                return wrong_wire(b, &f);
            }
            break;
        case F_DATA_TYPE:
            if (f.wt != W_VARINT)
                return wrong_wire(b, &f);
            s->dtype = (int32_t)(uint32_t)f.val;
            break;
        case F_SEGMENT:
            errf(b->err, b->err_len, "%s: segmented tensors are not supported "
                 "(is this a sequence?)", b->path);
            return -1;
        case F_FLOAT:
        case F_DOUBLE: {
            int w = f.num == F_FLOAT ? W_I32 : W_I64;
            size_t es = f.num == F_FLOAT ? 4 : 8;
            if (f.wt == w) {
                s->count[f.num]++;
            } else if (f.wt == W_LEN && f.len % es == 0) {
                s->count[f.num] += f.len / es;
            } else if (f.wt == W_LEN) {
                errf(b->err, b->err_len, "%s: packed %s of %zu bytes at byte %zu", b->path,
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
            if (f.wt == W_VARINT) {
                s->count[f.num]++;
            } else if (f.wt == W_LEN) {
                if (count_varints(b, &f, &s->count[f.num]))
                    return -1;
            } else {
                return wrong_wire(b, &f);
            }
            break;
        case F_STRING:
            if (f.wt != W_LEN)
                return wrong_wire(b, &f);
            s->count[F_STRING]++;
            s->str_bytes += f.len;
            break;
        case F_NAME:
            if (f.wt != W_LEN)
                return wrong_wire(b, &f);
            s->name = f.data;
            s->name_len = f.len;
            break;
        case F_RAW:
            if (f.wt != W_LEN)
                return wrong_wire(b, &f);
            s->raw = f.data;
            s->raw_len = f.len;
            break;
        case F_DATA_LOCATION:
            if (f.wt != W_VARINT)
                return wrong_wire(b, &f);
            if (f.val == 1) {
                errf(b->err, b->err_len, "%s: external data is not supported", b->path);
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
static int store(Pb *b, void *data, int dtype, size_t i, uint64_t v)
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
            errf(b->err, b->err_len, "%s: uint64_data value %llu at index %zu is out of range "
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
    default: return -1;
    }
    if (x < lo || x > hi) {
        errf(b->err, b->err_len, "%s: int32_data value %ld at index %zu is out of range for %s",
             b->path, (long)x, i, rt_dtype_name(dtype));
        return -1;
    }
    if (rt_dtype_size(dtype) == 1)
        ((uint8_t *)data)[i] = (uint8_t)x;
    else
        ((uint16_t *)data)[i] = (uint16_t)x;
    return 0;
}

/* Second pass: decodes every value of field num into data. */
static int decode(Pb *b, int num, void *data, int dtype)
{
    size_t i = 0;
    Field f;
    b->pos = 0;
    while (b->pos < b->len) {
        if (next_field(b, &f, 0))
            return -1;
        if ((int)f.num != num)
            continue;
        if (f.wt != W_LEN) {
            if (store(b, data, dtype, i++, f.val))
                return -1;
        } else if (num == F_FLOAT || num == F_DOUBLE) {
            int es = num == F_FLOAT ? 4 : 8;
            for (size_t k = 0; k < f.len; k += (size_t)es)
                if (store(b, data, dtype, i++, le_bytes(f.data + k, es)))
                    return -1;
        } else {
            Pb p = *b;
            p.p = f.data;
            p.len = f.len;
            p.pos = 0;
            while (p.pos < p.len) {
                uint64_t v;
                if (varint(&p, &v) || store(b, data, dtype, i++, v))
                    return -1;
            }
        }
    }
    return 0;
}

/* A string tensor is one malloc'ed block, the pointer array first and the
 * NUL-terminated bytes after it, so rt_tensor_free stays one free(). */
static int decode_strings(Pb *b, const Scan *s, RtTensor *t, const char *ts)
{
    size_t n = t->nbytes / sizeof(char *), i = 0;
    if (s->str_bytes > SIZE_MAX - t->nbytes - n) {
        errf(b->err, b->err_len, "%s: %s is too large", b->path, ts);
        return RT_EFORMAT;
    }
    char **ptr = malloc(t->nbytes + s->str_bytes + n);
    if (!ptr) {
        errf(b->err, b->err_len, "%s: out of memory for %s", b->path, ts);
        return RT_EIO;
    }
    char *bytes = (char *)(ptr + n);
    Field f;
    t->data = ptr;
    b->pos = 0;
    while (b->pos < b->len) {
        if (next_field(b, &f, 0))
            return RT_EFORMAT;
        if (f.num != F_STRING)
            continue;
        if (memchr(f.data, 0, f.len)) {
            errf(b->err, b->err_len, "%s: string_data value %zu holds a NUL byte, which "
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
    uint64_t limit = (uint64_t)(SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX);
    uint64_t n = rt_dtype_size(dtype);
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
            type_str(ts, sizeof ts, dtype, rank, dims);
            errf(err, err_len, "%s: %s is too large (element count overflows)", path, ts);
            return -1;
        }
        n *= (uint64_t)dims[i];
    }
    *nbytes = (size_t)n;
    return 0;
}

static int pb_parse(const char *path, unsigned char **bufp, size_t len, RtTensor *t, char *err,
                    size_t err_len)
{
    Pb b = { *bufp, len, 0, path, err, err_len };
    Scan s;
    size_t nbytes, esize, nvals = 0;
    int dtype, want, given = 0;
    char ts[256];
    if (scan(&b, &s))
        return RT_EFORMAT;
    if (s.dtype == 14 || s.dtype == 15) {
        errf(err, err_len, "%s: complex tensors are not supported", path);
        return RT_EFORMAT;
    }
    if (s.dtype == RT_UNDEF) {
        errf(err, err_len, "%s: not a tensor (no data_type)", path);
        return RT_EFORMAT;
    }
    if (s.dtype < 0 || s.dtype >= RT_DTYPE_END || !rt_dtype_size((int)s.dtype)) {
        errf(err, err_len, "%s: unsupported data_type %lld", path, (long long)s.dtype);
        return RT_EFORMAT;
    }
    dtype = (int)s.dtype;
    esize = rt_dtype_size(dtype);
    if (tensor_bytes(path, dtype, s.rank, s.dims, &nbytes, err, err_len))
        return RT_EFORMAT;
    type_str(ts, sizeof ts, dtype, s.rank, s.dims);
    want = field_for(dtype);
    for (int k = 0; k < F_END; k++) {
        if (!s.count[k])
            continue;
        if (k != want) {
            errf(err, err_len, "%s: %s given for %s", path, field_name(k), ts);
            return RT_EFORMAT;
        }
        given = 1;
        nvals = s.count[k];
    }
    if (s.raw && dtype == RT_STRING) {
        errf(err, err_len, "%s: raw_data given for %s (strings travel in string_data)", path,
             ts);
        return RT_EFORMAT;
    }
    if (s.raw && given) {
        errf(err, err_len, "%s: both raw_data and %s are set", path, field_name(want));
        return RT_EFORMAT;
    }
    if (s.raw && s.raw_len != nbytes) {
        errf(err, err_len, "%s: raw_data has %zu bytes, expected %zu for %s", path, s.raw_len,
             nbytes, ts);
        return RT_EFORMAT;
    }
    if (!s.raw && nvals != nbytes / esize) {
        if (nvals)
            errf(err, err_len, "%s: %s has %zu values, expected %zu for %s", path,
                 field_name(want), nvals, nbytes / esize, ts);
        else
            errf(err, err_len, "%s: no data for %s", path, ts);
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
        errf(err, err_len, "%s: out of memory for %s", path, ts);
        return RT_EIO;
    }
    return decode(&b, want, t->data, dtype) ? RT_EFORMAT : RT_OK;
}

int rt_tensor_read(const char *path, RtTensor *t, char *err, size_t err_len)
{
    unsigned char *buf;
    size_t len;
    int rc;
    memset(t, 0, sizeof *t);
    if (err && err_len)
        err[0] = 0;
    rc = read_file(path, &buf, &len, err, err_len);
    if (rc)
        return rc;
    if (len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0)
        rc = rt_npy_parse(path, &buf, len, t, err, err_len);
    else
        rc = pb_parse(path, &buf, len, t, err, err_len);
    free(buf);
    if (rc) {
        free(t->data);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Checks that t is a well-formed tensor whose nbytes matches its type. */
static int check_tensor(const RtTensor *t)
{
    size_t nbytes;
    if (!t || !rt_dtype_size(t->desc.dtype) || t->desc.rank < 0 || t->desc.rank > RT_MAX_RANK)
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
        body[at++] = F_STRING << 3 | W_LEN;
        at += put_varint(body + at, k);
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
        head[n++] = F_DIMS << 3 | W_VARINT;
        n += put_varint(head + n, (uint64_t)t->desc.dims[i]);
    }
    head[n++] = F_DATA_TYPE << 3 | W_VARINT;
    n += put_varint(head + n, (uint64_t)t->desc.dtype);
    for (name_len = 0; name_len < sizeof t->name - 1 && t->name[name_len]; name_len++)
        ;
    if (name_len) {
        head[n++] = F_NAME << 3 | W_LEN;
        n += put_varint(head + n, name_len);
        memcpy(head + n, t->name, name_len);
        n += name_len;
    }
    if (t->desc.dtype == RT_STRING) /* no raw_data form: the string_data fields follow */
        return n;
    head[n++] = F_RAW << 3 | W_LEN;
    n += put_varint(head + n, t->nbytes);
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
    return rt_io_write_atomic(path, head, n, t->data, t->nbytes, rt_dtype_size(t->desc.dtype));
}

size_t rt_pb_varint(unsigned char *p, uint64_t v)
{
    return put_varint(p, v);
}

int rt_pb_read_file(const char *path, unsigned char **buf, size_t *len, char *err,
                    size_t err_len)
{
    return read_file(path, buf, len, err, err_len);
}

int rt_pb_field(const char *path, const unsigned char *msg, size_t len, size_t *pos,
                RtPbField *f, char *err, size_t err_len)
{
    Pb b = {msg, len, *pos, path, err, err_len};
    Field x;
    if (next_field(&b, &x, 0))
        return RT_EFORMAT;
    if (x.wt == W_EGROUP) {
        errf(err, err_len, "%s: unmatched end-group at byte %zu", path, x.at);
        return RT_EFORMAT;
    }
    *pos = b.pos;
    *f = (RtPbField){x.num, x.wt, x.val, x.data, x.len};
    return RT_OK;
}

int rt_pb_tensor(const char *path, const unsigned char *msg, size_t len, RtTensor *t, char *err,
                 size_t err_len)
{
    memset(t, 0, sizeof *t);
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        errf(err, err_len, "%s: out of memory", path);
        return RT_EIO;
    }
    if (len)
        memcpy(buf, msg, len);
    int rc = pb_parse(path, &buf, len, t, err, err_len);
    free(buf);
    if (rc) {
        free(t->data);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

void *rt_strings_pack(const char *const *s, size_t n)
{
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(s[i]) + 1;
    char **p = malloc(bytes ? bytes : 1);
    if (!p)
        return NULL;
    char *o = (char *)(p + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(s[i]) + 1;
        memcpy(o, s[i], len);
        p[i] = o;
        o += len;
    }
    return p;
}

void rt_tensor_free(RtTensor *t)
{
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->nbytes = 0;
}
