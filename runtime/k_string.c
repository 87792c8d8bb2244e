/* k_string.c: string kernels: Cast with strings, StringNormalizer, StringConcat, StringSplit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* ---- numbers to text ---- */

/* Does the decimal text s read back as exactly the element v of dtype? */
static int reads_back(const char *s, double v, int dtype)
{
    unsigned char a[8], b[8];
    if (dtype == RT_F64)
        return strtod(s, NULL) == v;
    /* strtof rounds once, straight from the decimal text */
    float f = strtof(s, NULL);
    if (dtype == RT_F32)
        return f == (float)v;
    rt_store_f64(a, dtype, 0, f);
    rt_store_f64(b, dtype, 0, v);
    return !memcmp(a, b, rt_dtype_size(dtype));
}

/* numpy's str() of a float scalar: the shortest digits that read back to the
 * same value of its own dtype (ONNX's test data is made with astype(str)),
 * positional between 1e-4 and 1e16, else scientific. buf holds at least
 * RT_NUM_STR_BYTES. */
static void format_float(char *buf, double v, int dtype)
{
    char e[40], digits[24];
    if (isnan(v)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v < 0 ? "-inf" : "inf");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (reads_back(e, v, dtype))
            break;
    }
    /* e is [-]d[.ddd]e±XX: split it into its digits and decimal exponent */
    const char *s = e;
    int neg = *s == '-', nd = 0;
    s += neg;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    int exp10 = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    char *o = buf;
    if (neg)
        *o++ = '-';
    double a = fabs(v);
    if (a != 0 && (a < 1e-4 || a >= 1e16)) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (a == 0)
        exp10 = 0;
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp10; i++)
            *o++ = i < nd ? digits[i] : '0';
        *o++ = '.';
        if (nd > exp10 + 1) {
            memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        } else {
            *o++ = '0';
        }
    }
    *o = 0;
}

static void format_element(char *buf, const void *x, int dtype, int64_t i)
{
    if (rt_is_float(dtype))
        format_float(buf, rt_load_f64(x, dtype, i), dtype);
    else if (dtype == RT_BOOL)
        strcpy(buf, ((const uint8_t *)x)[i] ? "True" : "False");
    else if (dtype == RT_U64)
        sprintf(buf, "%llu", (unsigned long long)((const uint64_t *)x)[i]);
    else
        sprintf(buf, "%lld", (long long)rt_load_i64(x, dtype, i));
}

/* ---- text to numbers ---- */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* The end of s's text once trailing spaces are dropped. */
static const char *text_end(const char *s)
{
    const char *e = s + strlen(s);
    while (e > s && is_space(e[-1]))
        e--;
    return e;
}

/* Parses s as a number into element i of dtype; -1 if s is not one. */
static int parse_element(const char *s, void *y, int dtype, int64_t i)
{
    const char *end = text_end(s);
    char *stop;
    while (is_space(*s))
        s++;
    if (s == end)
        return -1;
    if (dtype == RT_BOOL) {
        size_t n = (size_t)(end - s);
        if ((n == 4 && (!strncmp(s, "true", 4) || !strncmp(s, "True", 4))) ||
            (n == 5 && (!strncmp(s, "false", 5) || !strncmp(s, "False", 5)))) {
            ((uint8_t *)y)[i] = n == 4;
            return 0;
        }
    }
    errno = 0;
    if (!rt_is_float(dtype) && dtype != RT_BOOL) {
        /* integers exactly, when the text is one (a double loses int64's low bits) */
        if (dtype == RT_U64 && *s != '-') {
            unsigned long long u = strtoull(s, &stop, 10);
            if (stop == end && !errno) {
                ((uint64_t *)y)[i] = u;
                return 0;
            }
        } else {
            long long v = strtoll(s, &stop, 10);
            if (stop == end && !errno) {
                rt_store_i64(y, dtype, i, v);
                return 0;
            }
        }
        errno = 0;
    }
    if (dtype == RT_F32) {
        float f = strtof(s, &stop);
        if (stop != end)
            return -1;
        ((float *)y)[i] = f;
        return 0;
    }
    double v = strtod(s, &stop);
    if (stop != end)
        return -1;
    rt_store_f64(y, dtype, i, v);
    return 0;
}

int rt_cast_string(const RtCall *c, const void *const *in, void *const *out)
{
    int sd = c->in[0].dtype, dd = c->out[0].dtype;
    int64_t n = rt_numel(&c->out[0]);
    if (sd == RT_STRING && dd == RT_STRING) {
        memcpy(out[0], in[0], (size_t)n * sizeof(char *));
        return RT_OK;
    }
    if (sd == RT_STRING) {
        const char *const *x = in[0];
        if (!rt_dtype_size(dd))
            return RT_EDTYPE;
        for (int64_t i = 0; i < n; i++)
            if (parse_element(x[i], out[0], dd, i))
                return RT_EFORMAT;
        return RT_OK;
    }
    if (!rt_dtype_size(sd))
        return RT_EDTYPE;
    if (c->n_out < 2 || rt_numel(&c->out[1]) < n * RT_NUM_STR_BYTES)
        return RT_EINVAL;
    const char **y = out[0];
    char *pool = out[1];
    for (int64_t i = 0; i < n; i++) {
        char *slot = pool + i * RT_NUM_STR_BYTES;
        format_element(slot, in[0], sd, i);
        y[i] = slot;
    }
    return RT_OK;
}

/* ---- StringNormalizer ---- */

/* The other case of the UTF-8 sequence at s, written to o (same length);
 * returns the bytes consumed. Latin-1 letters are C3 80..9E (upper) and
 * C3 A0..BE (lower), 0x20 apart; C3 97 and C3 B7 are the signs x and /. */
static int map_case(const unsigned char *s, unsigned char *o, int upper)
{
    unsigned char ch = s[0];
    if (ch < 0x80) {
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (unsigned char)(ch - 32);
        else if (!upper && ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        o[0] = ch;
        return 1;
    }
    if (ch == 0xC3 && s[1] >= 0x80 && s[1] <= 0xBF) {
        unsigned char t = s[1];
        o[0] = ch;
        if (upper && t >= 0xA0 && t <= 0xBE && t != 0xB7)
            t = (unsigned char)(t - 0x20);
        else if (!upper && t >= 0x80 && t <= 0x9E && t != 0x97)
            t = (unsigned char)(t + 0x20);
        o[1] = t;
        return 2;
    }
    o[0] = ch; /* any other byte (or a malformed sequence) passes through */
    return 1;
}

/* Equality of two strings, ignoring case as map_case sees it. */
static int same_text(const char *a, const char *b, int case_sensitive)
{
    if (case_sensitive)
        return !strcmp(a, b);
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *y) {
        unsigned char u[2] = {0, 0}, v[2] = {0, 0};
        int nx = map_case(x, u, 0), ny = map_case(y, v, 0);
        if (nx != ny || memcmp(u, v, (size_t)nx))
            return 0;
        x += nx;
        y += ny;
    }
    return *x == *y;
}

static int is_stopword(const char *s, const RtCall *c, const void *const *in, int cs)
{
    if (c->n_in < 2 || !in[1])
        return 0;
    const char *const *w = in[1];
    int64_t n = rt_numel(&c->in[1]);
    for (int64_t i = 0; i < n; i++)
        if (same_text(s, w[i], cs))
            return 1;
    return 0;
}

int rt_string_normalizer(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_ints < RT_STRNORM_NINTS || c->in[0].dtype != RT_STRING)
        return RT_EINVAL;
    int action = (int)c->ints[RT_STRNORM_ACTION], cs = (int)c->ints[RT_STRNORM_CASE_SENSITIVE];
    int dynamic = (int)c->ints[RT_STRNORM_DYNAMIC];
    int64_t slot = c->ints[RT_STRNORM_SLOT];
    int64_t n = rt_numel(&c->in[0]), kept = 0;
    const char *const *x = in[0];
    const char **y = out[0];
    char *pool = action ? out[1] : NULL;
    if (action && (c->n_out < 2 || rt_numel(&c->out[1]) < n * slot))
        return RT_EINVAL;
    for (int64_t i = 0; i < n; i++) {
        if (is_stopword(x[i], c, in, cs))
            continue;
        if (!action) {
            y[kept++] = x[i];
            continue;
        }
        size_t len = strlen(x[i]);
        if ((int64_t)len >= slot)
            return RT_ENOMEM;
        unsigned char *o = (unsigned char *)pool + kept * slot;
        const unsigned char *s = (const unsigned char *)x[i];
        for (size_t k = 0; k < len;)
            k += (size_t)map_case(s + k, o + k, action == 2);
        o[len] = 0;
        y[kept++] = (const char *)o;
    }
    if (kept == 0 && n > 0 && dynamic) {
        /* ONNX: when every element is removed, the output is one empty string */
        y[0] = "";
        kept = 1;
    }
    if (dynamic)
        *(int64_t *)out[c->n_out - 1] = kept;
    /* past the extent: valid empty strings, so code reading the whole bound is safe */
    for (int64_t i = kept; i < n; i++)
        y[i] = "";
    return RT_OK;
}

/* ---- StringConcat ---- */

int rt_string_concat(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *y = &c->out[0];
    if (c->n_in < 2 || c->n_out < 2 || c->n_ints < RT_STRCAT_NINTS ||
        c->in[0].dtype != RT_STRING || c->in[1].dtype != RT_STRING || y->dtype != RT_STRING)
        return RT_EINVAL;
    int64_t slot = c->ints[RT_STRCAT_SLOT], n = rt_numel(y);
    int64_t sa[RT_MAX_RANK], sb[RT_MAX_RANK], idx[RT_MAX_RANK] = {0};
    if (slot < 1 || rt_numel(&c->out[1]) < n * slot || rt_broadcast_strides(&c->in[0], y, sa) ||
        rt_broadcast_strides(&c->in[1], y, sb))
        return RT_EINVAL;
    const char *const *a = in[0], *const *b = in[1];
    const char **o = out[0];
    char *pool = out[1];
    for (int64_t i = 0; i < n; i++, rt_index_next(idx, y->dims, y->rank)) {
        int64_t ia = 0, ib = 0;
        for (int k = 0; k < y->rank; k++) {
            ia += idx[k] * sa[k];
            ib += idx[k] * sb[k];
        }
        size_t la = strlen(a[ia]), lb = strlen(b[ib]);
        if ((int64_t)(la + lb) >= slot)
            return RT_ENOMEM;
        char *s = pool + i * slot;
        memcpy(s, a[ia], la);
        memcpy(s + la, b[ib], lb + 1);
        o[i] = s;
    }
    return RT_OK;
}

/* ---- StringSplit ---- */

/* Python's str.isspace() for ASCII: what split() without a separator skips. */
static int split_space(unsigned char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= 0x1c && ch <= 0x1f);
}

/* One piece of a split: copied with its NUL to *dst, its pointer to o[k]. */
static void put_piece(const char **o, char **dst, int64_t k, const char *p, size_t len)
{
    if (!o)
        return;
    memcpy(*dst, p, len);
    (*dst)[len] = 0;
    o[k] = *dst;
    *dst += len + 1;
}

/* Python's s.split(sep, maxsplit) of one string (sep "" stands for None:
 * runs of whitespace, none kept at either end; maxsplit < 0: no limit).
 * With o set, the pieces are written to o[0..) and their bytes to *dst.
 * Returns the piece count. */
static int64_t split_one(const char *s, const char *sep, int64_t maxsplit, const char **o,
                         char **dst)
{
    int64_t k = 0;
    size_t ls = strlen(sep);
    const char *p = s;
    if (!ls) {
        for (;;) {
            while (*p && split_space((unsigned char)*p))
                p++;
            if (!*p)
                return k;
            const char *e = p;
            if (maxsplit >= 0 && k == maxsplit)
                e = p + strlen(p); /* the rest, trailing spaces kept, as Python */
            else
                while (*e && !split_space((unsigned char)*e))
                    e++;
            put_piece(o, dst, k++, p, (size_t)(e - p));
            p = e;
        }
    }
    for (;;) {
        const char *e = maxsplit >= 0 && k == maxsplit ? NULL : strstr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        put_piece(o, dst, k++, p, len);
        if (!e)
            return k;
        p = e + ls;
    }
}

int rt_string_split(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->n_out < 4 || c->n_ints < RT_STRSPLIT_NINTS ||
        c->in[0].dtype != RT_STRING || c->in[1].dtype != RT_STRING ||
        c->out[0].dtype != RT_STRING || c->out[1].dtype != RT_I64)
        return RT_EINVAL;
    const RtTensorDesc *y = &c->out[0];
    int64_t n = rt_numel(&c->in[0]), bound = y->dims[y->rank - 1];
    int64_t maxsplit = c->ints[RT_STRSPLIT_MAXSPLIT], slot = c->ints[RT_STRSPLIT_SLOT];
    const char *const *x = in[0];
    const char *sep = *(const char *const *)in[1];
    int64_t *lens = out[1], width = 0;
    if (rt_numel(&c->out[2]) < n * slot || y->rank < 1)
        return RT_EINVAL;
    /* the widest row fixes the last axis, so every row is counted first; a
     * row's pieces and their NULs take at most 2 * strlen + 1 bytes */
    for (int64_t i = 0; i < n; i++) {
        if (2 * (int64_t)strlen(x[i]) + 1 >= slot)
            return RT_ENOMEM;
        lens[i] = split_one(x[i], sep, maxsplit, NULL, NULL);
        width = lens[i] > width ? lens[i] : width;
    }
    if (width > bound)
        return RT_ENOMEM;
    const char **o = out[0];
    for (int64_t i = 0; i < n; i++) {
        char *dst = (char *)out[2] + i * slot;
        split_one(x[i], sep, maxsplit, o + i * width, &dst);
        for (int64_t k = lens[i]; k < width; k++)
            o[i * width + k] = ""; /* ONNX pads the shorter rows with empty strings */
    }
    /* past the extent: valid empty strings, so code reading the whole bound is safe */
    for (int64_t i = n * width; i < n * bound; i++)
        o[i] = "";
    *(int64_t *)out[c->n_out - 1] = width;
    return RT_OK;
}
