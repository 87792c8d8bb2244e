/* io_wire.c: the protobuf wire format, read and written by hand (no protobuf library). */
#include <string.h>

#include "rt_internal.h"

static int truncated(RtPb *b, size_t at)
{
    rt_errf(b->err, b->err_len, "%s: truncated at byte %zu", b->path, at);
    return -1;
}

int rt_pb_read_varint(RtPb *b, uint64_t *v)
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
            rt_errf(b->err, b->err_len, "%s: bad varint at byte %zu", b->path, at);
            return -1;
        }
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            break;
    }
    *v = x;
    return 0;
}

uint64_t rt_pb_le(const unsigned char *p, int n)
{
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* Reads one field. A group (wire type 3) is skipped whole, recursing on its
 * fields until the matching end-group; an end-group comes back to the caller. */
int rt_pb_next(RtPb *b, RtPbField *f, int depth)
{
    uint64_t key;
    f->at = b->pos;
    if (rt_pb_read_varint(b, &key))
        return -1;
    f->wire = (int)(key & 7);
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
        rt_errf(b->err, b->err_len, "%s: bad field number at byte %zu", b->path, f->at);
        return -1;
    }
    f->num = (uint32_t)(key >> 3);
    f->data = NULL;
    f->len = 0;
    f->val = 0;
    switch (f->wire) {
    case RT_PB_VARINT:
        return rt_pb_read_varint(b, &f->val);
    case RT_PB_I64:
    case RT_PB_I32: {
        int n = f->wire == RT_PB_I64 ? 8 : 4;
        if (b->len - b->pos < (size_t)n)
            return truncated(b, f->at);
        f->data = b->p + b->pos;
        f->len = (size_t)n;
        f->val = rt_pb_le(f->data, n);
        b->pos += (size_t)n;
        return 0;
    }
    case RT_PB_LEN: {
        uint64_t n;
        if (rt_pb_read_varint(b, &n))
            return -1;
        if (n > b->len - b->pos)
            return truncated(b, f->at);
        f->data = b->p + b->pos;
        f->len = (size_t)n;
        b->pos += (size_t)n;
        return 0;
    }
    case RT_PB_SGROUP:
        if (depth >= 32) {
            rt_errf(b->err, b->err_len, "%s: groups nested too deep at byte %zu", b->path, f->at);
            return -1;
        }
        for (;;) {
            RtPbField g;
            if (b->pos >= b->len)
                return truncated(b, f->at);
            if (rt_pb_next(b, &g, depth + 1))
                return -1;
            if (g.wire == RT_PB_EGROUP) {
                if (g.num != f->num) {
                    rt_errf(b->err, b->err_len, "%s: mismatched end-group at byte %zu", b->path,
                            g.at);
                    return -1;
                }
                return 0;
            }
        }
    case RT_PB_EGROUP:
        if (depth == 0) {
            rt_errf(b->err, b->err_len, "%s: unmatched end-group at byte %zu", b->path, f->at);
            return -1;
        }
        return 0;
    default:
        rt_errf(b->err, b->err_len, "%s: invalid wire type %d at byte %zu", b->path, f->wire,
                f->at);
        return -1;
    }
}

/* Counts the varints of a packed field, checking that each one is whole. */
int rt_pb_count_varints(RtPb *b, const RtPbField *f, size_t *count)
{
    RtPb s = *b;
    s.p = f->data;
    s.len = f->len;
    s.pos = 0;
    while (s.pos < s.len) {
        uint64_t v;
        size_t at = s.pos;
        if (rt_pb_read_varint(&s, &v)) {
            /* report the offset in the file, not in the field */
            rt_errf(b->err, b->err_len, "%s: bad packed varint at byte %zu", b->path,
                    (size_t)(f->data - b->p) + at);
            return -1;
        }
        (*count)++;
    }
    return 0;
}

size_t rt_pb_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

int rt_pb_field(const char *path, const unsigned char *msg, size_t len, size_t *pos,
                RtPbField *f, char *err, size_t err_len)
{
    RtPb b = {msg, len, *pos, path, err, err_len};
    RtPbField x;
    if (rt_pb_next(&b, &x, 0))
        return RT_EFORMAT;
    if (x.wire == RT_PB_EGROUP) {
        rt_errf(err, err_len, "%s: unmatched end-group at byte %zu", path, x.at);
        return RT_EFORMAT;
    }
    *pos = b.pos;
    *f = x;
    return RT_OK;
}
