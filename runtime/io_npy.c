/* io_npy.c: tensor files in NumPy's .npy format (versions 1.0-3.0, little-endian, C order). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* numpy's descr strings, without the byte-order character. */
static const struct {
    const char *code;
    int dtype;
} descrs[] = {
    {"f4", RT_F32}, {"f8", RT_F64}, {"f2", RT_F16}, {"i1", RT_I8}, {"i2", RT_I16},
    {"i4", RT_I32}, {"i8", RT_I64}, {"u1", RT_U8}, {"u2", RT_U16}, {"u4", RT_U32},
    {"u8", RT_U64}, {"b1", RT_BOOL},
};

/* The header is a Python dict literal, e.g.
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * parsed here within [p, end) with no reliance on a terminating NUL. */
typedef struct Hdr {
    const char *p, *end;
    char descr[16];
    int fortran;                 /* -1 until seen */
    int rank;                    /* -1 until seen */
    int64_t dims[RT_MAX_RANK];
} Hdr;

static void ws(Hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int eat(Hdr *h, char c)
{
    ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes (numpy never writes any in these keys). */
static int str(Hdr *h, char *out, size_t n)
{
    char q;
    size_t k = 0;
    ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return -1;
    q = *h->p++;
    while (h->p < h->end && *h->p != q) {
        if (k + 1 >= n || *h->p == '\\')
            return -1;
        out[k++] = *h->p++;
    }
    if (h->p >= h->end)
        return -1;
    h->p++;
    out[k] = 0;
    return 0;
}

static int word(Hdr *h, const char *w)
{
    size_t n = strlen(w);
    ws(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

/* (d0, d1, ...), with an optional trailing comma; "()" is a scalar. */
static int shape(Hdr *h, const char **why)
{
    h->rank = 0;
    if (!eat(h, '('))
        return -1;
    while (!eat(h, ')')) {
        int64_t v = 0;
        int digits = 0;
        ws(h);
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) {
                *why = "dimension too large";
                return -1;
            }
            v = v * 10 + (*h->p++ - '0');
            digits++;
        }
        if (!digits)
            return -1;
        if (h->p < h->end && *h->p == 'L') /* Python 2 longs */
            h->p++;
        if (h->rank == RT_MAX_RANK) {
            *why = "rank exceeds 8";
            return -1;
        }
        h->dims[h->rank++] = v;
        if (!eat(h, ',')) {
            if (!eat(h, ')'))
                return -1;
            break;
        }
    }
    return 0;
}

static int parse_header(Hdr *h, const char **why)
{
    h->fortran = h->rank = -1;
    h->descr[0] = 0;
    if (!eat(h, '{'))
        return -1;
    while (!eat(h, '}')) {
        char key[32];
        if (str(h, key, sizeof key) || !eat(h, ':'))
            return -1;
        if (!strcmp(key, "descr")) {
            if (str(h, h->descr, sizeof h->descr)) {
                *why = "unsupported dtype";
                return -1;
            }
        } else if (!strcmp(key, "fortran_order")) {
            if (word(h, "True"))
                h->fortran = 1;
            else if (word(h, "False"))
                h->fortran = 0;
            else
                return -1;
        } else if (!strcmp(key, "shape")) {
            if (shape(h, why))
                return -1;
        } else {
            *why = "unknown key in header";
            return -1;
        }
        if (!eat(h, ',')) {
            if (!eat(h, '}'))
                return -1;
            break;
        }
    }
    if (!h->descr[0] || h->fortran < 0 || h->rank < 0) {
        *why = "header lacks descr, fortran_order or shape";
        return -1;
    }
    return 0;
}

static int descr_dtype(const char *d)
{
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++) {
        if (strcmp(d + 1, descrs[i].code))
            continue;
        /* one-byte types have no byte order: numpy writes '|' */
        if (d[0] == '<' || (descrs[i].code[1] == '1' && (d[0] == '|' || d[0] == '>')))
            return descrs[i].dtype;
        return RT_UNDEF;
    }
    return RT_UNDEF;
}

int rt_npy_parse(const char *path, unsigned char **bufp, size_t len, RtTensor *t, char *err,
                 size_t err_len)
{
    unsigned char *buf = *bufp;
    size_t hstart, hlen, nbytes = 1, esize;
    const char *why = "malformed header";
    Hdr h;
    int dtype;
    if (len < 10) {
        rt_errf(err, err_len, "%s: truncated npy header", path);
        return RT_EFORMAT;
    }
    if (buf[6] == 1) {
        hstart = 10;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hstart = 12;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
    } else if (buf[6] == 2 || buf[6] == 3) {
        rt_errf(err, err_len, "%s: truncated npy header", path);
        return RT_EFORMAT;
    } else {
        rt_errf(err, err_len, "%s: unsupported npy version %d.%d", path, buf[6], buf[7]);
        return RT_EFORMAT;
    }
    if (hlen > len - hstart) {
        rt_errf(err, err_len, "%s: truncated npy header", path);
        return RT_EFORMAT;
    }
    h.p = (const char *)buf + hstart;
    h.end = h.p + hlen;
    if (parse_header(&h, &why)) {
        rt_errf(err, err_len, "%s: bad npy header: %s", path, why);
        return RT_EFORMAT;
    }
    dtype = descr_dtype(h.descr);
    if (dtype == RT_UNDEF) {
        const char *c = h.descr + (h.descr[0] == '<' || h.descr[0] == '|' ||
                                   h.descr[0] == '>' || h.descr[0] == '=');
        if (*c == 'U' || *c == 'S' || *c == 'O')
            rt_errf(err, err_len, "%s: npy string arrays ('%s') are not supported; give string "
                    "tensors as .pb (TensorProto) files", path, h.descr);
        else if (h.descr[0] == '>')
            rt_errf(err, err_len, "%s: big-endian npy data ('%s') is not supported", path,
                    h.descr);
        else
            rt_errf(err, err_len, "%s: unsupported npy dtype '%s'", path, h.descr);
        return RT_EFORMAT;
    }
    if (h.fortran) {
        rt_errf(err, err_len, "%s: Fortran-order npy arrays are not supported", path);
        return RT_EFORMAT;
    }
    esize = rt_dtype_size(dtype);
    for (int i = 0; i < h.rank; i++)
        if (h.dims[i] == 0)
            nbytes = 0;
    for (int i = 0; i < h.rank && nbytes; i++) {
        if ((uint64_t)h.dims[i] > (uint64_t)SIZE_MAX / esize / nbytes) {
            rt_errf(err, err_len, "%s: npy shape is too large (element count overflows)", path);
            return RT_EFORMAT;
        }
        nbytes *= (size_t)h.dims[i];
    }
    nbytes *= esize;
    t->desc.dtype = dtype;
    t->desc.rank = h.rank;
    memcpy(t->desc.dims, h.dims, sizeof h.dims);
    if (len - hstart - hlen != nbytes) {
        char ts[256];
        size_t k = (size_t)snprintf(ts, sizeof ts, "%s[", rt_dtype_name(dtype));
        for (int i = 0; i < h.rank && k < sizeof ts; i++)
            k += (size_t)snprintf(ts + k, sizeof ts - k, i ? ",%lld" : "%lld",
                                  (long long)h.dims[i]);
        if (k < sizeof ts)
            snprintf(ts + k, sizeof ts - k, "]");
        rt_errf(err, err_len, "%s: npy data has %zu bytes, expected %zu for %s", path,
                len - hstart - hlen, nbytes, ts);
        return RT_EFORMAT;
    }
    t->nbytes = nbytes;
    if (nbytes) {
        /* the file buffer becomes the tensor: no second copy */
        unsigned char *shrunk;
        memmove(buf, buf + hstart + hlen, nbytes);
        shrunk = realloc(buf, nbytes);
        t->data = shrunk ? shrunk : buf;
        *bufp = NULL;
        rt_io_le(t->data, nbytes / esize, esize);
    }
    return RT_OK;
}

int rt_tensor_write_npy(const char *path, const RtTensor *t)
{
    /* magic, version 1.0, header length, then the dict padded with spaces and a
     * newline so the data starts 64-byte aligned (numpy's format.py) */
    char head[512];
    const char *code = NULL;
    size_t n, esize = t ? rt_dtype_size(t->desc.dtype) : 0;
    int64_t numel = 1;
    for (size_t i = 0; t && i < sizeof descrs / sizeof descrs[0]; i++)
        if (descrs[i].dtype == t->desc.dtype)
            code = descrs[i].code;
    if (!code) /* bfloat16 and strings have no npy descr */
        return RT_EDTYPE;
    if (t->desc.rank < 0 || t->desc.rank > RT_MAX_RANK)
        return RT_EINVAL;
    for (int i = 0; i < t->desc.rank; i++) {
        if (t->desc.dims[i] < 0 ||
            (t->desc.dims[i] && numel > INT64_MAX / t->desc.dims[i]))
            return RT_EINVAL;
        numel *= t->desc.dims[i];
    }
    if ((uint64_t)numel > (uint64_t)SIZE_MAX / esize || (size_t)numel * esize != t->nbytes ||
        (t->nbytes && !t->data))
        return RT_EINVAL;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    n = 10;
    n += (size_t)sprintf(head + n, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                         esize == 1 ? '|' : '<', code);
    for (int i = 0; i < t->desc.rank; i++)
        n += (size_t)sprintf(head + n, i ? ", %lld" : "%lld", (long long)t->desc.dims[i]);
    n += (size_t)sprintf(head + n, t->desc.rank == 1 ? ",), }" : "), }");
    while ((n + 1) % 64)
        head[n++] = ' ';
    head[n++] = '\n';
    head[8] = (char)((n - 10) & 0xff);
    head[9] = (char)((n - 10) >> 8);
    return rt_io_write_atomic(path, head, n, t->data, t->nbytes, esize);
}
