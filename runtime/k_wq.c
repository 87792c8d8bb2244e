/* k_wq.c: weight-only quantized formats: element values, block layout, packing and the reference decoder. */
#include <math.h>
#include <string.h>

#include "k_wq.h"
#include "rt_internal.h"
#include "k_wq_internal.h"

/* What varies between the formats' blocks (layout in k_wq.h). */
typedef struct WqTraits {
    const char *name;
    int scale_bytes;             /* 4: float32; 1: E8M0 or E4M3 */
    int has_zero;                /* a uint8 zero point follows the scale */
} WqTraits;

static const WqTraits traits[RT_WQ_NFORMATS] = {
    [RT_WQ_INT8] = {"int8", 4, 1},     [RT_WQ_INT4] = {"int4", 4, 1},
    [RT_WQ_INT3] = {"int3", 4, 1},     [RT_WQ_INT2] = {"int2", 4, 1},
    [RT_WQ_TERNARY] = {"ternary", 4, 0}, [RT_WQ_TERNARY5] = {"ternary5", 4, 0},
    [RT_WQ_SHERRY] = {"sherry", 4, 0}, [RT_WQ_MXINT8] = {"mxint8", 1, 0},
    [RT_WQ_MXFP8] = {"mxfp8", 1, 0},   [RT_WQ_MXFP4] = {"mxfp4", 1, 0},
    [RT_WQ_NVFP4] = {"nvfp4", 1, 0},
};

static int valid_fmt(int fmt)
{
    return fmt >= RT_WQ_INT8 && fmt < RT_WQ_NFORMATS;
}

const char *rt_wq_name(int fmt)
{
    return valid_fmt(fmt) ? traits[fmt].name : "?";
}

float rt_wq_elem(int fmt, int code)
{
    switch (fmt) {
    case RT_WQ_INT8: case RT_WQ_INT4: case RT_WQ_INT3: case RT_WQ_INT2:
    case RT_WQ_TERNARY: case RT_WQ_TERNARY5: case RT_WQ_SHERRY:
        return (float)code;
    case RT_WQ_MXINT8:
        return (float)code / 64.0f;
    case RT_WQ_MXFP8:
        return rt_narrow_to_f32(RT_F8E4M3FN, (unsigned)code & 0xff);
    case RT_WQ_MXFP4: case RT_WQ_NVFP4:
        return rt_narrow_to_f32(RT_F4E2M1, (unsigned)code & 0xf);
    default:
        return 0.0f;
    }
}

/* The group length the codes are padded to within a block. */
int wq_group_padded(int fmt, int group)
{
    switch (fmt) {
    case RT_WQ_INT4: case RT_WQ_MXFP4: case RT_WQ_NVFP4: return (group + 1) / 2 * 2;
    case RT_WQ_INT2: case RT_WQ_TERNARY: return (group + 3) / 4 * 4;
    case RT_WQ_INT3: return (group + 7) / 8 * 8;
    default: return group;
    }
}

/* Bytes of one group's codes. */
static size_t code_bytes(int fmt, int group)
{
    size_t gp = (size_t)wq_group_padded(fmt, group);
    switch (fmt) {
    case RT_WQ_INT8: case RT_WQ_MXINT8: case RT_WQ_MXFP8: return gp;
    case RT_WQ_INT4: case RT_WQ_MXFP4: case RT_WQ_NVFP4: return gp / 2;
    case RT_WQ_INT2: case RT_WQ_TERNARY: return gp / 4;
    case RT_WQ_INT3: return gp / 8 * 3;
    case RT_WQ_TERNARY5: return (gp + 4) / 5;
    case RT_WQ_SHERRY: return (gp / 4 * 5 + 7) / 8;
    default: return 0;
    }
}

size_t rt_wq_block_bytes(int fmt, int group)
{
    if (!valid_fmt(fmt) || group < 1 || (fmt == RT_WQ_SHERRY && group % 4))
        return 0;
    return (size_t)traits[fmt].scale_bytes + (size_t)traits[fmt].has_zero +
           code_bytes(fmt, group);
}

size_t rt_wq_row_bytes(int fmt, int64_t k, int group)
{
    size_t b = rt_wq_block_bytes(fmt, group);
    if (!b || k < 1)
        return 0;
    return b * (size_t)((k + group - 1) / group);
}

size_t rt_wq_packed_bytes(int fmt, int64_t n, int64_t k, int group)
{
    return n < 1 ? 0 : rt_wq_row_bytes(fmt, k, group) * (size_t)n;
}

/* ---- one block ---- */

static void put_bits(uint8_t *p, int64_t bit, unsigned v, int nbits)
{
    for (int i = 0; i < nbits; i++, bit++)
        if (v >> i & 1)
            p[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static unsigned get_bits(const uint8_t *p, int64_t bit, int nbits)
{
    unsigned v = 0;
    for (int i = 0; i < nbits; i++, bit++)
        v |= (unsigned)(p[bit >> 3] >> (bit & 7) & 1) << i;
    return v;
}

/* A Sherry quad's 5-bit code from its three codes (-1, 0, +1; missing ones
 * beyond K count as 0): the first zero is the sparse position and the other
 * three give their signs; a quad without a zero keeps its last one's sign
 * only through the zero position 3 (the format cannot hold it). */
static unsigned sherry_quad(const int16_t *c, int len)
{
    int pos = 3;
    for (int i = 0; i < 4; i++)
        if (i >= len || c[i] == 0) {
            pos = i;
            break;
        }
    unsigned signs = 0;
    for (int i = 0, s = 0; i < 4; i++) {
        if (i == pos)
            continue;
        if (i < len && c[i] < 0)
            signs |= 1u << s;
        s++;
    }
    return (unsigned)pos | signs << 2;
}

void wq_sherry_decode(unsigned q, float *v)
{
    int pos = (int)(q & 3);
    for (int i = 0, s = 0; i < 4; i++) {
        if (i == pos) {
            v[i] = 0.0f;
            continue;
        }
        v[i] = q >> (2 + s) & 1 ? -1.0f : 1.0f;
        s++;
    }
}

/* Codes c[0..len) (len <= group) of one group into the block's code bytes. */
static void pack_codes(int fmt, int group, const int16_t *c, int len, uint8_t *p)
{
    int gp = wq_group_padded(fmt, group);
    switch (fmt) {
    case RT_WQ_INT8: case RT_WQ_MXINT8: case RT_WQ_MXFP8:
        for (int i = 0; i < len; i++)
            p[i] = (uint8_t)c[i];
        break;
    case RT_WQ_INT4: case RT_WQ_MXFP4: case RT_WQ_NVFP4:
        for (int i = 0; i < len; i++)
            p[i % (gp / 2)] |= (uint8_t)((c[i] & 0xf) << (i / (gp / 2) * 4));
        break;
    case RT_WQ_INT2: case RT_WQ_TERNARY: {
        int off = fmt == RT_WQ_TERNARY;
        for (int i = 0; i < gp; i++) {
            int v = i < len ? c[i] + off : off;
            p[i % (gp / 4)] |= (uint8_t)((v & 3) << (i / (gp / 4) * 2));
        }
        break;
    }
    case RT_WQ_INT3:
        for (int i = 0; i < len; i++) {
            p[i % (gp / 4)] |= (uint8_t)((c[i] & 3) << (i / (gp / 4) * 2));
            p[gp / 4 + i % (gp / 8)] |= (uint8_t)((c[i] >> 2 & 1) << (i / (gp / 8)));
        }
        break;
    case RT_WQ_TERNARY5:
        for (int j = 0; j * 5 < gp; j++) {
            unsigned b = 0;
            for (int t = 4; t >= 0; t--) {
                int i = j * 5 + t;
                b = b * 3 + (unsigned)(i < len ? c[i] + 1 : 1);
            }
            p[j] = (uint8_t)b;
        }
        break;
    case RT_WQ_SHERRY:
        for (int q = 0; q * 4 < gp; q++) {
            int ql = len - q * 4;
            ql = ql < 0 ? 0 : ql > 4 ? 4 : ql;
            put_bits(p, (int64_t)q * 5, sherry_quad(c + q * 4, ql), 5);
        }
        break;
    }
}

void rt_wq_pack(const RtWqCodes *c, uint8_t *dst)
{
    int fmt = c->fmt, group = c->group;
    size_t bb = rt_wq_block_bytes(fmt, group);
    if (!bb)
        return;
    int64_t ng = (c->k + group - 1) / group;
    memset(dst, 0, bb * (size_t)(ng * c->n));
    const WqTraits *t = &traits[fmt];
    for (int64_t r = 0; r < c->n; r++)
        for (int64_t g = 0; g < ng; g++) {
            uint8_t *b = dst + (size_t)(r * ng + g) * bb;
            float s = c->scale[r * ng + g];
            if (t->scale_bytes == 4)
                memcpy(b, &s, 4);
            else if (fmt == RT_WQ_NVFP4)
                b[0] = (uint8_t)rt_f32_to_narrow(RT_F8E4M3FN, s, 1, 0);
            else /* s is a power of two: any rounding mode gives its exponent */
                b[0] = (uint8_t)rt_f32_to_narrow(RT_F8E8M0, s, 1, RT_E8M0_DOWN);
            if (t->has_zero)
                b[t->scale_bytes] = c->zero[r * ng + g];
            int64_t k0 = g * group;
            int len = (int)(c->k - k0 < group ? c->k - k0 : group);
            pack_codes(fmt, group, c->code + r * c->k + k0, len,
                       b + t->scale_bytes + t->has_zero);
        }
}

/* ---- decoding ---- */

float wq_block_scale(int fmt, const uint8_t *b)
{
    if (traits[fmt].scale_bytes == 4) {
        float s;
        memcpy(&s, b, 4);
        return s;
    }
    if (fmt == RT_WQ_NVFP4)
        return rt_narrow_to_f32(RT_F8E4M3FN, b[0]);
    return ldexpf(1.0f, (int)b[0] - 127);
}

int wq_block_header(int fmt)
{
    return traits[fmt].scale_bytes + traits[fmt].has_zero;
}

/* Code i of a group from its code bytes p (the codes' own numbering, not
 * their values: TERNARY's -1..1, MXINT8's signed byte). */
int wq_code_at(int fmt, int group, const uint8_t *p, int i)
{
    int gp = wq_group_padded(fmt, group);
    switch (fmt) {
    case RT_WQ_INT8: case RT_WQ_MXFP8: return p[i];
    case RT_WQ_MXINT8: return (int8_t)p[i];
    case RT_WQ_INT4: case RT_WQ_MXFP4: case RT_WQ_NVFP4:
        return p[i % (gp / 2)] >> (i / (gp / 2) * 4) & 0xf;
    case RT_WQ_INT2: return p[i % (gp / 4)] >> (i / (gp / 4) * 2) & 3;
    case RT_WQ_TERNARY: return (p[i % (gp / 4)] >> (i / (gp / 4) * 2) & 3) - 1;
    case RT_WQ_INT3:
        return (p[i % (gp / 4)] >> (i / (gp / 4) * 2) & 3) |
               (p[gp / 4 + i % (gp / 8)] >> (i / (gp / 8)) & 1) << 2;
    case RT_WQ_TERNARY5: {
        unsigned b = p[i / 5];
        for (int t = 0; t < i % 5; t++)
            b /= 3;
        return (int)(b % 3) - 1;
    }
    case RT_WQ_SHERRY: {
        float v[4];
        wq_sherry_decode(get_bits(p, (int64_t)(i / 4) * 5, 5), v);
        return (int)v[i % 4];
    }
    default: return 0;
    }
}

void rt_wq_dequant_row(int fmt, int64_t n_rows, int64_t k, int group, float tensor_scale,
                       const uint8_t *packed, int64_t n, float *row)
{
    size_t bb = rt_wq_block_bytes(fmt, group);
    if (!bb || n < 0 || n >= n_rows)
        return;
    int64_t ng = (k + group - 1) / group;
    int hdr = wq_block_header(fmt);
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *b = packed + (size_t)(n * ng + g) * bb;
        float s = wq_block_scale(fmt, b);
        float z = traits[fmt].has_zero ? (float)b[traits[fmt].scale_bytes] : 0.0f;
        int64_t k0 = g * group;
        int len = (int)(k - k0 < group ? k - k0 : group);
        /* the very expression of wq_dequant, so both agree bit for bit */
        for (int i = 0; i < len; i++) {
            float e = rt_wq_elem(fmt, wq_code_at(fmt, group, b + hdr, i));
            row[k0 + i] = tensor_scale * s * (e - z);
        }
    }
}

void rt_wq_unpack_row(int fmt, int64_t n_rows, int64_t k, int group, const uint8_t *packed,
                      int64_t n, int16_t *code, float *scale, uint8_t *zero)
{
    size_t bb = rt_wq_block_bytes(fmt, group);
    if (!bb || n < 0 || n >= n_rows)
        return;
    int64_t ng = (k + group - 1) / group;
    int hdr = wq_block_header(fmt);
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *b = packed + (size_t)(n * ng + g) * bb;
        scale[g] = wq_block_scale(fmt, b);
        if (zero)
            zero[g] = traits[fmt].has_zero ? b[traits[fmt].scale_bytes] : 0;
        int64_t k0 = g * group;
        int len = (int)(k - k0 < group ? k - k0 : group);
        for (int i = 0; i < len; i++)
            code[k0 + i] = (int16_t)wq_code_at(fmt, group, b + hdr, i);
    }
}
