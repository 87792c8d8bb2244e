/* io_struct.c: ONNX SequenceProto and OptionalProto files, read into and
 * written from a flat list of tensors plus a layout string ("S[TT]",
 * "O[]", "O[S[T]]"), the form generated code passes them in. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxcc_rt.h"
#include "rt_internal.h"

/* SequenceProto/OptionalProto field numbers and elem_type values */
enum { F_ELEM_TYPE = 2, F_TENSOR = 3, F_SEQUENCE = 5, F_OPTIONAL = 7 };
enum { E_TENSOR = 1, E_SEQUENCE = 3, E_OPTIONAL = 5 };

typedef struct Reader {
    const char *path;
    RtTensor *ts;
    int max, count;
    char *lay;
    size_t lay_len, used;
    char *err;
    size_t err_len;
} Reader;

static int fail(Reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Reader *r, const char *fmt, ...)
{
    if (r->err && r->err_len) {
        int k = snprintf(r->err, r->err_len, "%s: ", r->path);
        va_list ap;
        va_start(ap, fmt);
        if (k >= 0 && (size_t)k < r->err_len)
            vsnprintf(r->err + k, r->err_len - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return RT_EFORMAT;
}

static int put(Reader *r, const char *s)
{
    size_t k = strlen(s);
    if (r->used + k + 1 > r->lay_len)
        return fail(r, "structure too deep or too long");
    memcpy(r->lay + r->used, s, k + 1);
    r->used += k;
    return RT_OK;
}

static int field_of(char nest)
{
    return nest == 'S' ? F_SEQUENCE : nest == 'O' ? F_OPTIONAL : F_TENSOR;
}

/* Parses msg as the type nest spells (""/"S..."/"O..."). */
static int parse(Reader *r, const unsigned char *msg, size_t len, const char *nest)
{
    if (!nest[0]) {
        if (r->count == r->max)
            return fail(r, "more than %d tensors", r->max);
        int rc = rt_pb_tensor(r->path, msg, len, &r->ts[r->count], r->err, r->err_len);
        if (rc)
            return rc;
        r->count++;
        return put(r, "T");
    }
    int is_seq = nest[0] == 'S', want = field_of(nest[1]), seen = 0, rc;
    if ((rc = put(r, is_seq ? "S[" : "O[")))
        return rc;
    size_t pos = 0;
    while (pos < len) {
        RtPbField f;
        if ((rc = rt_pb_field(r->path, msg, len, &pos, &f, r->err, r->err_len)))
            return rc;
        if (f.num != F_TENSOR && f.num != F_SEQUENCE && f.num != F_OPTIONAL && f.num != 4 &&
            f.num != 6)
            continue; /* name, elem_type */
        if (f.num != (uint32_t)want || f.wire != 2)
            return fail(r, "holds a %s where the model expects %s",
                        f.num == F_TENSOR ? "tensor" : f.num == F_SEQUENCE ? "sequence" :
                        f.num == F_OPTIONAL ? "optional" : "sparse tensor or map",
                        want == F_TENSOR ? "tensors" : want == F_SEQUENCE ? "sequences" :
                        "optionals");
        if (!is_seq && seen++)
            return fail(r, "an optional holds more than one value");
        if ((rc = parse(r, f.data, f.len, nest + 1)))
            return rc;
    }
    return put(r, "]");
}

int rt_struct_read(const char *path, const char *nest, RtTensor *ts, int max, int *count,
                   char *layout, size_t layout_len, char *err, size_t err_len)
{
    unsigned char *buf;
    size_t len;
    Reader r = {path, ts, max, 0, layout, layout_len, 0, err, err_len};
    *count = 0;
    if (layout_len)
        layout[0] = 0;
    int rc = rt_io_read_file(path, &buf, &len, err, err_len);
    if (rc)
        return rc;
    rc = parse(&r, buf, len, nest);
    free(buf);
    if (rc) {
        for (int i = 0; i < r.count; i++)
            rt_tensor_free(&ts[i]);
        return rc;
    }
    *count = r.count;
    return RT_OK;
}

/* ---- writing ---- */
typedef struct Buf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} Buf;

static void append(Buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void append_varint(Buf *b, uint64_t v)
{
    unsigned char tmp[10];
    append(b, tmp, rt_pb_varint(tmp, v));
}

static int elem_type(char c)
{
    return c == 'S' ? E_SEQUENCE : c == 'O' ? E_OPTIONAL : E_TENSOR;
}

/* Serializes the value spelled at *lay (tensors from ts[*k...]) into b. */
static int serialize(Buf *b, const char **lay, const RtTensor *ts, int count, int *k)
{
    char c = *(*lay)++;
    if (c == 'T') {
        if (*k >= count)
            return RT_EINVAL;
        const RtTensor *t = &ts[(*k)++];
        unsigned char head[256];
        size_t esize = rt_dtype_size(t->desc.dtype);
        if (!esize || t->nbytes % esize)
            return RT_EINVAL;
        append(b, head, rt_pb_tensor_head(t, head));
        if (t->desc.dtype == RT_STRING) {
            size_t len;
            unsigned char *body = rt_pb_strings_body(t, &len);
            if (!body)
                return RT_EINVAL;
            append(b, body, len);
            free(body);
            return RT_OK;
        }
        size_t at = b->len;
        append(b, t->data, t->nbytes);
        if (!b->oom)
            rt_io_le(b->p + at, t->nbytes / esize, esize);
        return RT_OK;
    }
    if ((c != 'S' && c != 'O') || *(*lay)++ != '[')
        return RT_EINVAL;
    append_varint(b, F_ELEM_TYPE << 3 | 0);
    append_varint(b, (uint64_t)elem_type(**lay == ']' ? 'T' : **lay));
    while (**lay && **lay != ']') {
        int field = field_of(**lay == 'T' ? 0 : **lay);
        Buf sub = {0};
        int rc = serialize(&sub, lay, ts, count, k);
        if (rc || sub.oom) {
            free(sub.p);
            return rc ? rc : RT_ENOMEM;
        }
        append_varint(b, (uint64_t)field << 3 | 2);
        append_varint(b, sub.len);
        append(b, sub.p, sub.len);
        free(sub.p);
    }
    if (*(*lay)++ != ']')
        return RT_EINVAL;
    return RT_OK;
}

int rt_struct_write_pb(const char *path, const char *layout, const RtTensor *ts, int count)
{
    Buf b = {0};
    const char *lay = layout;
    int k = 0;
    int rc = serialize(&b, &lay, ts, count, &k);
    if (rc == RT_OK && (*lay || k != count))
        rc = RT_EINVAL;
    if (rc == RT_OK && b.oom)
        rc = RT_ENOMEM;
    if (rc == RT_OK)
        rc = rt_io_write_atomic(path, b.p ? b.p : (unsigned char *)"", b.len, NULL, 0, 1);
    free(b.p);
    return rc;
}

/* "O[S[TT]]" -> "OS": the nesting a reader needs to parse such a file. */
void rt_layout_nest(const char *layout, char *nest, size_t len)
{
    size_t n = 0;
    for (const char *p = layout; *p && (*p == 'S' || *p == 'O' || *p == '[') && n + 1 < len; p++)
        if (*p != '[')
            nest[n++] = *p;
    if (len)
        nest[n] = 0;
}
