/* test_narrow.c: the narrow element types: packing, conversions against a reference, kernels. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "desc.h"
#include "driver.h"
#include "ir.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif
#define NARROW_DATA ONNXCC_SOURCE_DIR "/tests/data/narrow/"

/* ---- an independent reference: each format's values from its definition,
 * and rounding as a search for the nearest of them ---- */

typedef struct Ref {
    int dtype, ebits, mbits, bias;
    int fnuz;                    /* no -0 and no infinity; 0x80 is the one NaN */
    int ieee;                    /* e5m2: the top exponent holds infinity and NaNs */
    int no_nan;                  /* float4e2m1 */
} Ref;

static const Ref refs[] = {
    {RT_F8E4M3FN, 4, 3, 7, 0, 0, 0},
    {RT_F8E4M3FNUZ, 4, 3, 8, 1, 0, 0},
    {RT_F8E5M2, 5, 2, 15, 0, 1, 0},
    {RT_F8E5M2FNUZ, 5, 2, 16, 1, 0, 0},
    {RT_F4E2M1, 2, 1, 1, 0, 0, 1},
};

/* The value of code c, NAN for the NaN codes, from the definition:
 * (-1)^s * 2^(e - bias) * (1 + m / 2^mbits), or 2^(1 - bias) * m / 2^mbits
 * for e = 0. */
static double ref_value(const Ref *r, unsigned c)
{
    int bits = 1 + r->ebits + r->mbits;
    unsigned s = c >> (bits - 1) & 1, e = c >> r->mbits & ((1u << r->ebits) - 1);
    unsigned m = c & ((1u << r->mbits) - 1), emax = (1u << r->ebits) - 1;
    if (r->fnuz && c == 0x80)
        return NAN;
    if (r->ieee && e == emax)
        return m ? NAN : s ? -INFINITY : INFINITY;
    if (!r->fnuz && !r->ieee && !r->no_nan && e == emax && m == (1u << r->mbits) - 1)
        return NAN; /* e4m3fn: S.1111.111 */
    double v = e ? pow(2, (double)e - r->bias) * (1 + m / pow(2, r->mbits))
                 : pow(2, 1 - r->bias) * (m / pow(2, r->mbits));
    return s ? -v : v;
}

/* The values of a format's positive codes, computed once. */
static const double *ref_table(const Ref *r)
{
    static double t[sizeof refs / sizeof refs[0]][128];
    static int done[sizeof refs / sizeof refs[0]];
    size_t k = (size_t)(r - refs);
    if (!done[k]) {
        for (unsigned c = 0; c < 128; c++)
            t[k][c] = ref_value(r, c);
        done[k] = 1;
    }
    return t[k];
}

/* Round x to the format: the nearest finite value by search, ties to the even
 * code; past the largest value by at least half its spacing (the point where
 * an unbounded exponent would round up), saturate or overflow. */
static unsigned ref_round(const Ref *r, double x, int saturate)
{
    int bits = 1 + r->ebits + r->mbits;
    unsigned ncodes = 1u << bits, sbit = ncodes >> 1;
    const double *val = ref_table(r);
    if (isnan(x))
        return r->no_nan ? sbit : r->fnuz ? 0x80 : r->ieee ? 0x7e : 0x7f;
    unsigned best = 0, maxc = 0;
    double bd = INFINITY, maxv = 0;
    for (unsigned c = 0; c < sbit; c++) {
        double v = val[c];
        if (isfinite(v) && v > maxv) {
            maxv = v;
            maxc = c;
        }
    }
    double a = fabs(x);
    unsigned sign = signbit(x) ? sbit : 0;
    unsigned over = saturate || r->no_nan ? sign | maxc
                  : r->ieee ? sign | (maxc + 1) : r->fnuz ? 0x80 : sign | 0x7f;
    double spacing = maxv - val[maxc - 1];
    if (isinf(a) || a >= maxv + spacing / 2)
        return a == maxv + spacing / 2 && !(maxc & 1) ? sign | maxc : over;
    for (unsigned c = 0; c < sbit; c++) {
        double v = val[c];
        if (!isfinite(v))
            continue;
        double dd = fabs(v - a);
        if (dd < bd || (dd == bd && !(c & 1))) {
            bd = dd;
            best = c;
        }
    }
    if (best == 0 && r->fnuz)
        return 0;
    return sign | best;
}

/* Every code decodes to the reference's value and encodes back to itself;
 * NaN codes only decode to NaN, and there are as many as the format has. */
static void test_code_points(void)
{
    static const int nan_codes[] = {2, 1, 6, 1, 0};
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
        const Ref *r = &refs[k];
        unsigned n = 1u << (1 + r->ebits + r->mbits);
        int nans = 0, bad = 0;
        for (unsigned c = 0; c < n; c++) {
            double want = ref_value(r, c);
            float got = rt_narrow_to_f32(r->dtype, c);
            if (isnan(want)) {
                nans++;
                bad += !isnan(got);
                continue;
            }
            bad += got != want || !signbit(got) != !signbit(want);
            /* saturation turns e5m2's infinities into its largest value */
            bad += !isinf(want) && rt_f32_to_narrow(r->dtype, got, 1, RT_E8M0_UP) != c;
            bad += rt_f32_to_narrow(r->dtype, got, 0, RT_E8M0_UP) != c;
        }
        CHECK(nan_codes[k], nans);
        CHECK(0, bad);
    }
    /* e8m0: 2^(c - 127), 0xff NaN; exact powers of two round to themselves in every mode */
    int bad = 0;
    for (unsigned c = 0; c < 255; c++) {
        float v = rt_narrow_to_f32(RT_F8E8M0, c);
        bad += v != ldexpf(1, (int)c - 127);
        for (int mode = RT_E8M0_UP; mode <= RT_E8M0_NEAREST; mode++)
            bad += rt_f32_to_narrow(RT_F8E8M0, v, 1, mode) != c;
    }
    CHECK(0, bad);
    CHECK_TRUE(isnan(rt_narrow_to_f32(RT_F8E8M0, 0xff)));
    /* the packed ints: every code is its two's-complement (or unsigned) value */
    for (int c = 0; c < 16; c++) {
        CHECK(c < 8 ? c : c - 16, rt_narrow_int(RT_I4, (unsigned)c));
        CHECK(c, rt_narrow_int(RT_U4, (unsigned)c));
        CHECK(c, rt_f32_to_narrow(RT_I4, (float)rt_narrow_int(RT_I4, (unsigned)c), 1, 0));
    }
    for (int c = 0; c < 4; c++) {
        CHECK(c < 2 ? c : c - 4, rt_narrow_int(RT_I2, (unsigned)c));
        CHECK(c, rt_f32_to_narrow(RT_I2, (float)rt_narrow_int(RT_I2, (unsigned)c), 1, 0));
    }
}

/* One comparison with ref_round, both saturation settings; NaN codes match
 * any NaN code. Returns the mismatches. */
static int one(const Ref *r, float x)
{
    int bad = 0;
    for (int sat = 0; sat < 2; sat++) {
        unsigned want = ref_round(r, x, sat), got = rt_f32_to_narrow(r->dtype, x, sat, 0);
        int both_nan = isnan(ref_value(r, want)) && isnan(rt_narrow_to_f32(r->dtype, got));
        bad += want != got && !both_nan;
    }
    return bad;
}

/* float -> narrow against ref_round, exactly (tolerance: none, the codes must
 * be equal): a sweep over float32 bit patterns (every 65537th, both signs:
 * normals, subnormals, overflow, infinity and NaN), a dense sweep of
 * [-2 max, 2 max] and of the subnormal range in eighths of the smallest
 * subnormal, every midpoint between neighbouring values (the ties) and the
 * points a quarter of a spacing either side. */
static void test_rounding(void)
{
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
        const Ref *r = &refs[k];
        int bad = 0, tested = 0;
        for (uint64_t b = 0; b <= 0xffffffffu; b += 65537, tested++) {
            uint32_t u = (uint32_t)b;
            float x;
            memcpy(&x, &u, 4);
            bad += one(r, x);
        }
        uint32_t specials[4] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u};
        for (int i = 0; i < 4; i++, tested++) {
            float x;
            memcpy(&x, &specials[i], 4);
            bad += one(r, x);
        }
        double maxv = 0, sub = ldexp(1, 1 - r->bias - r->mbits);
        for (unsigned c = 0; c < 128; c++)
            if (isfinite(ref_value(r, c)) && ref_value(r, c) > maxv)
                maxv = ref_value(r, c);
        for (int i = -20000; i <= 20000; i++, tested++)
            bad += one(r, (float)(2 * maxv * i / 20000.0));
        for (int i = -4096; i <= 4096; i++, tested++)
            bad += one(r, (float)(sub / 8 * i));
        unsigned n = 1u << (r->ebits + r->mbits);
        for (unsigned c = 0; c + 1 < n; c++) {
            double lo = ref_value(r, c), hi = ref_value(r, c + 1);
            if (!isfinite(lo) || !isfinite(hi))
                continue;
            double pts[3] = {(lo + hi) / 2, lo + (hi - lo) / 4, hi - (hi - lo) / 4};
            for (int p = 0; p < 3; p++)
                for (int s = 0; s < 2; s++) {
                    float x = (float)(s ? -pts[p] : pts[p]);
                    bad += ref_round(r, x, 1) != rt_f32_to_narrow(r->dtype, x, 1, 0);
                    tested++;
                }
            /* a double a hair off a tie (no float holds it) rounds to the near side */
            for (int s = -1; s <= 1; s += 2) {
                double x = pts[0] * (1 + s * ldexp(1, -40));
                bad += ref_round(r, x, 1) != rt_f64_to_narrow(r->dtype, x, 1, 0);
                bad += ref_round(r, -x, 0) != rt_f64_to_narrow(r->dtype, -x, 0, 0);
                tested += 2;
            }
        }
        CHECK_TRUE(tested > 100000);
        CHECK(0, bad);
    }
    /* the spec's table (onnx Cast): infinities and overflow */
    CHECK(0x7e, rt_f32_to_narrow(RT_F8E4M3FN, INFINITY, 1, 0));
    CHECK(0x7f, rt_f32_to_narrow(RT_F8E4M3FN, INFINITY, 0, 0));
    CHECK(0xfc, rt_f32_to_narrow(RT_F8E5M2, -1e6f, 0, 0));
    CHECK(0xfb, rt_f32_to_narrow(RT_F8E5M2, -1e6f, 1, 0));
    CHECK(0x80, rt_f32_to_narrow(RT_F8E5M2FNUZ, 1e6f, 0, 0));
    CHECK(0x00, rt_f32_to_narrow(RT_F8E4M3FNUZ, -1e-9f, 1, 0));
    CHECK(0x7, rt_f32_to_narrow(RT_F4E2M1, 1e9f, 0, 0));
    /* e8m0's modes on 1.5 * 2^k (the tie in the nearest mode) and 1.25 * 2^k */
    CHECK(128, rt_f32_to_narrow(RT_F8E8M0, 1.25f, 1, RT_E8M0_UP));
    CHECK(127, rt_f32_to_narrow(RT_F8E8M0, 1.25f, 1, RT_E8M0_NEAREST));
    CHECK(128, rt_f32_to_narrow(RT_F8E8M0, 1.5f, 1, RT_E8M0_NEAREST));
    CHECK(127, rt_f32_to_narrow(RT_F8E8M0, 1.75f, 1, RT_E8M0_DOWN));
    CHECK(0xfe, rt_f32_to_narrow(RT_F8E8M0, 3e38f, 1, RT_E8M0_UP));
    CHECK(0xff, rt_f32_to_narrow(RT_F8E8M0, 3e38f, 0, RT_E8M0_UP));
    CHECK(0xff, rt_f32_to_narrow(RT_F8E8M0, NAN, 1, RT_E8M0_UP));
}

/* ---- packing ---- */

static void test_packing(void)
{
    /* ONNX's layout: element 0 in the low nibble; 2-bit elements from bit 0 up */
    uint8_t b[3] = {0, 0, 0};
    for (int i = 0; i < 5; i++)
        rt_narrow_set(b, RT_I4, i, (unsigned)(i + 1));
    CHECK(0x21, b[0]);
    CHECK(0x43, b[1]);
    CHECK(0x05, b[2]);
    uint8_t c[2] = {0xff, 0xff};
    rt_narrow_set(c, RT_U2, 1, 0);
    rt_narrow_set(c, RT_U2, 6, 1);
    CHECK(0xf3, c[0]);
    CHECK(0xdf, c[1]);
    CHECK(3, rt_dtype_bytes(RT_I4, 5));
    CHECK(2, rt_dtype_bytes(RT_I2, 5));
    CHECK(1, rt_dtype_bytes(RT_U2, 4));
    CHECK(7, rt_dtype_bytes(RT_F8E5M2, 7));
    CHECK(0, rt_dtype_size(RT_U4));
    CHECK(4, rt_dtype_bits(RT_F4E2M1));
    /* element copies at any alignment against an element-wise reference */
    uint8_t src[8], dst[8], want[8];
    for (int i = 0; i < 8; i++)
        src[i] = (uint8_t)(i * 37 + 11);
    int bad = 0;
    for (int si = 0; si < 4; si++)
        for (int di = 0; di < 4; di++)
            for (int n = 0; n < 9; n++) {
                memset(dst, 0x5a, sizeof dst);
                memset(want, 0x5a, sizeof want);
                for (int k = 0; k < n; k++)
                    rt_narrow_set(want, RT_U2, di + k, rt_narrow_get(src, RT_U2, si + k));
                rt_elem_copy(dst, di, src, si, RT_U2, n);
                bad += memcmp(dst, want, sizeof dst) != 0;
            }
    CHECK(0, bad);
}

/* ---- kernels ---- */

/* Cast: float -> int4 wraps (ONNX's reference: -9 -> 7), int4 -> float,
 * float -> float8 with and without saturation. */
static void test_cast(void)
{
    float x[5] = {-9, -8, 7, 8, 2.7f}, back[5];
    uint8_t y[3];
    RtTensorDesc in[1] = {desc1(RT_F32, 5)}, out[1] = {desc1(RT_I4, 5)};
    int64_t ints[2] = {1, RT_E8M0_UP};
    RtCall c = call(1, in, 1, out, 2, ints, 0, NULL);
    const void *ip[1] = {x};
    void *op[1] = {y};
    memset(y, 0xee, sizeof y);
    CHECK(RT_OK, rt_cast(&c, ip, op));
    CHECK(0x87, y[0]);
    CHECK(0x87, y[1]);
    CHECK(0x02, y[2]); /* the pad nibble is 0 */
    RtTensorDesc in2[1] = {desc1(RT_I4, 5)}, out2[1] = {desc1(RT_F32, 5)};
    RtCall c2 = call(1, in2, 1, out2, 2, ints, 0, NULL);
    const void *ip2[1] = {y};
    void *op2[1] = {back};
    CHECK(RT_OK, rt_cast(&c2, ip2, op2));
    float want[5] = {7, -8, 7, -8, 2};
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(want[i], back[i], 0);

    float big[2] = {1e6f, -500};
    uint8_t f8[2];
    RtTensorDesc in3[1] = {desc1(RT_F32, 2)}, out3[1] = {desc1(RT_F8E4M3FN, 2)};
    RtCall c3 = call(1, in3, 1, out3, 2, ints, 0, NULL);
    const void *ip3[1] = {big};
    void *op3[1] = {f8};
    CHECK(RT_OK, rt_cast(&c3, ip3, op3));
    CHECK(0x7e, f8[0]);
    CHECK(0xfe, f8[1]);
    ints[RT_CAST_SATURATE] = 0;
    CHECK(RT_OK, rt_cast(&c3, ip3, op3));
    CHECK(0x7f, f8[0]);
    CHECK(0xff, f8[1]);
}

/* Blocked QuantizeLinear to int4 and back, against a straightforward
 * reference: block b of axis 1 uses scale[r][b]; tolerance: exact codes. */
static void test_quant_blocked(void)
{
    enum { R = 3, C = 5, B = 2, NB = 3 };
    float x[R * C], s[R * NB], deq[R * C];
    uint8_t zp[(R * NB + 1) / 2] = {0}, y[(R * C + 1) / 2];
    for (int i = 0; i < R * C; i++)
        x[i] = (float)(i * 7 % 23) - 11.5f;
    for (int i = 0; i < R * NB; i++) {
        s[i] = 0.5f + 0.25f * (float)i;
        rt_narrow_set(zp, RT_I4, i, (unsigned)(i % 3 - 1) & 0xf);
    }
    RtTensorDesc in[3] = {desc(RT_F32, 2, DIMS(R, C)), desc(RT_F32, 2, DIMS(R, NB)),
                          desc(RT_I4, 2, DIMS(R, NB))};
    RtTensorDesc out[1] = {desc(RT_I4, 2, DIMS(R, C))};
    int64_t ints[RT_QUANT_NINTS] = {1, B, 1, 0};
    RtCall c = call(3, in, 1, out, RT_QUANT_NINTS, ints, 0, NULL);
    const void *ip[3] = {x, s, zp};
    void *op[1] = {y};
    CHECK(RT_OK, rt_quantize_linear(&c, ip, op));
    int bad = 0;
    for (int r = 0; r < R; r++)
        for (int k = 0; k < C; k++) {
            int blk = r * NB + k / B;
            double q = rint((double)(x[r * C + k] / s[blk])) + (blk % 3 - 1);
            q = q < -8 ? -8 : q > 7 ? 7 : q;
            bad += rt_narrow_int(RT_I4, rt_narrow_get(y, RT_I4, r * C + k)) != (int)q;
        }
    CHECK(0, bad);
    RtTensorDesc din[3] = {out[0], in[1], in[2]}, dout[1] = {in[0]};
    RtCall dc = call(3, din, 1, dout, RT_QUANT_NINTS, ints, 0, NULL);
    const void *dip[3] = {y, s, zp};
    void *dop[1] = {deq};
    CHECK(RT_OK, rt_dequantize_linear(&dc, dip, dop));
    for (int r = 0; r < R; r++)
        for (int k = 0; k < C; k++) {
            int blk = r * NB + k / B;
            int q = rt_narrow_int(RT_I4, rt_narrow_get(y, RT_I4, r * C + k));
            CHECK_NEAR((q - (blk % 3 - 1)) * s[blk], deq[r * C + k], 0);
        }
    /* float8 output: x / s rounded once, saturating */
    float xf[3] = {1, 1000, -3};
    float sf = 2;
    uint8_t yf[3];
    RtTensorDesc fin[2] = {desc1(RT_F32, 3), desc(RT_F32, 0, NULL)};
    RtTensorDesc fout[1] = {desc1(RT_F8E4M3FN, 3)};
    int64_t fints[RT_QUANT_NINTS] = {0, 0, 1, 0};
    RtCall fc = call(2, fin, 1, fout, RT_QUANT_NINTS, fints, 0, NULL);
    const void *fip[2] = {xf, &sf};
    void *fop[1] = {yf};
    CHECK(RT_OK, rt_quantize_linear(&fc, fip, fop));
    CHECK(0x30, yf[0]);
    CHECK(0x7e, yf[1]); /* 500 saturates to 448 */
    CHECK(0xbc, yf[2]);
}

/* Transpose, Slice, Concat and Gather of packed int4 against the same
 * moves done on one element per byte. */
static void test_packed_movement(void)
{
    enum { A = 3, B = 5 };
    uint8_t x[(A * B + 1) / 2], y[8], z[16];
    int vals[A * B];
    for (int i = 0; i < A * B; i++) {
        vals[i] = (i * 5 + 3) % 16 - 8;
        rt_narrow_set(x, RT_I4, i, (unsigned)vals[i] & 0xf);
    }
    RtTensorDesc xd = desc(RT_I4, 2, DIMS(A, B));
    /* Transpose */
    RtTensorDesc td[1] = {desc(RT_I4, 2, DIMS(B, A))};
    int64_t perm[2] = {1, 0};
    RtCall tc = call(1, &xd, 1, td, 2, perm, 0, NULL);
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_OK, rt_transpose(&tc, ip, op));
    int bad = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < A; j++)
            bad += rt_narrow_int(RT_I4, rt_narrow_get(y, RT_I4, i * A + j)) != vals[j * B + i];
    CHECK(0, bad);
    /* Slice rows 1.. and columns 4, 2, 0 (step -2) */
    RtTensorDesc sd[1] = {desc(RT_I4, 2, DIMS(2, 3))};
    int64_t sl[4] = {1, 1, 4, -2};
    RtCall sc = call(1, &xd, 1, sd, 4, sl, 0, NULL);
    CHECK(RT_OK, rt_slice(&sc, ip, op));
    bad = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            bad += rt_narrow_int(RT_I4, rt_narrow_get(y, RT_I4, i * 3 + j)) !=
                   vals[(1 + i) * B + 4 - 2 * j];
    CHECK(0, bad);
    /* Concat x with itself along axis 1 */
    RtTensorDesc cin[2] = {xd, xd}, cd[1] = {desc(RT_I4, 2, DIMS(A, 2 * B))};
    int64_t ax1[1] = {1};
    RtCall cc = call(2, cin, 1, cd, 1, ax1, 0, NULL);
    const void *cip[2] = {x, x};
    void *cop[1] = {z};
    CHECK(RT_OK, rt_concat(&cc, cip, cop));
    bad = 0;
    for (int i = 0; i < A; i++)
        for (int j = 0; j < 2 * B; j++)
            bad += rt_narrow_int(RT_I4, rt_narrow_get(z, RT_I4, i * 2 * B + j)) !=
                   vals[i * B + j % B];
    CHECK(0, bad);
    /* Gather columns 3, -1, 0 */
    int64_t idx[3] = {3, -1, 0};
    RtTensorDesc gin[2] = {xd, desc1(RT_I64, 3)}, gd[1] = {desc(RT_I4, 2, DIMS(A, 3))};
    RtCall gc = call(2, gin, 1, gd, 1, ax1, 0, NULL);
    const void *gip[2] = {x, idx};
    CHECK(RT_OK, rt_gather(&gc, gip, op));
    bad = 0;
    for (int i = 0; i < A; i++)
        for (int j = 0; j < 3; j++)
            bad += rt_narrow_int(RT_I4, rt_narrow_get(y, RT_I4, i * 3 + j)) !=
                   vals[i * B + (idx[j] + B) % B];
    CHECK(0, bad);
}

/* .pb files: packed int4 in int32_data (one int32 per byte, onnx.proto),
 * float8 in raw_data, and a round trip of an odd-length uint2 tensor. */
static void test_pb(void)
{
    static const unsigned char i4[] = {0x08, 0x05, 0x10, 22, 0x2a, 0x04, 0x10, 0xc7, 0x01, 0x08};
    static const unsigned char f8[] = {0x08, 0x03, 0x10, 17, 0x4a, 0x03, 0x00, 0x30, 0xfe};
    char path[] = "/tmp/onnxcc_narrow_XXXXXX", err[256];
    int fd = mkstemp(path);
    CHECK_TRUE(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    RtTensor t;
    FILE *f = fopen(path, "wb");
    fwrite(i4, 1, sizeof i4, f);
    fclose(f);
    CHECK(RT_OK, rt_tensor_read(path, &t, err, sizeof err));
    CHECK(RT_I4, t.desc.dtype);
    CHECK(3, t.nbytes);
    int want[5] = {0, 1, 7, -4, -8};
    for (int i = 0; t.data && i < 5; i++)
        CHECK(want[i], rt_narrow_int(RT_I4, rt_narrow_get(t.data, RT_I4, i)));
    rt_tensor_free(&t);
    f = fopen(path, "wb");
    fwrite(f8, 1, sizeof f8, f);
    fclose(f);
    CHECK(RT_OK, rt_tensor_read(path, &t, err, sizeof err));
    CHECK(RT_F8E4M3FN, t.desc.dtype);
    CHECK(3, t.nbytes);
    if (t.data)
        CHECK_NEAR(-448, rt_load_f64(t.data, RT_F8E4M3FN, 2), 0);
    rt_tensor_free(&t);
    /* 7 uint2 elements take 2 bytes; a wrong raw_data length is refused */
    RtTensor w;
    uint8_t bytes[2] = {0xe4, 0x1b};
    memset(&w, 0, sizeof w);
    w.desc = desc1(RT_U2, 7);
    w.data = bytes;
    w.nbytes = 2;
    CHECK(RT_OK, rt_tensor_write_pb(path, &w));
    CHECK(RT_OK, rt_tensor_read(path, &t, err, sizeof err));
    CHECK(RT_U2, t.desc.dtype);
    CHECK(2, t.nbytes);
    CHECK_TRUE(t.data && !memcmp(t.data, bytes, 2));
    rt_tensor_free(&t);
    w.nbytes = 7;
    CHECK(RT_EINVAL, rt_tensor_write_pb(path, &w));
    remove(path);
}

/* Through the compiler (tests/data/narrow, make_narrow.py): an op that
 * would misread float8 names op, node and type; a chain of moves of a packed
 * int4 tensor runs in the interpreter to the values worked out by hand. */
static void test_graphs(void)
{
    Diag d = {0};
    PassCtx ctx = {.d = &d, .opt_level = 2, .verify = 1};
    Graph *g = drv_prepare(NARROW_DATA "add_float8.onnx", NULL, 0, NULL, 0, 2, &ctx);
    CHECK_TRUE(g == NULL);
    CHECK_STR_CONTAINS(d.msg, "node 'Add_0' (Add)");
    CHECK_STR_CONTAINS(d.msg, "float8e4m3fn");
    ir_graph_free(g);

    Diag d2 = {0};
    PassCtx ctx2 = {.d = &d2, .opt_level = 2, .verify = 1};
    g = drv_prepare(NARROW_DATA "int4_movement.onnx", NULL, 0, NULL, 0, 2, &ctx2);
    CHECK_TRUE(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", d2.msg);
        return;
    }
    RtTensor x, y[2];
    char err[256];
    memset(y, 0, sizeof y);
    CHECK(RT_OK, rt_tensor_read(NARROW_DATA "int4_movement_x.pb", &x, err, sizeof err));
    CHECK(0, ir_run(g, &x, y, &d2));
    /* x^T rows 4 and 0 = [5,-6,-1], [1,6,-5]; then c4 = [-6,-7,-5]; Slice 1:5:2 */
    int want2[9] = {5, -6, -1, 1, 6, -5, -6, -7, -5};
    CHECK(RT_F32, y[0].desc.dtype);
    CHECK(RT_I4, y[1].desc.dtype);
    CHECK(5, y[1].nbytes);
    if (y[0].data && y[1].data) {
        CHECK_NEAR(-6, ((float *)y[0].data)[0], 0);
        CHECK_NEAR(1, ((float *)y[0].data)[1], 0);
        for (int i = 0; i < 9; i++)
            CHECK(want2[i], rt_narrow_int(RT_I4, rt_narrow_get(y[1].data, RT_I4, i)));
        CHECK(0, ((uint8_t *)y[1].data)[4] >> 4); /* the pad nibble */
    }
    rt_tensor_free(&x);
    rt_tensor_free(&y[0]);
    rt_tensor_free(&y[1]);
    ir_graph_free(g);
}

int main(void)
{
    test_graphs();
    test_pb();
    test_code_points();
    test_rounding();
    test_packing();
    test_cast();
    test_quant_blocked();
    test_packed_movement();
    return CHECK_DONE();
}
