/* test_k_quant.c: unit tests of the quantization kernels on small hand-checked cases. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* The examples of ONNX's QuantizeLinear/DequantizeLinear docs: 1.5 rounds to 2, saturation. */
static void test_quantize(void)
{
    float x[6] = {0, 2, 3, 1000, -254, -1000}, s = 2;
    uint8_t z = 128, y[6], want[6] = {128, 129, 130, 255, 1, 0};
    RtTensorDesc in[3] = {desc(RT_F32, 1, DIMS(6)), desc(RT_F32, 0, NULL),
                          desc(RT_U8, 0, NULL)};
    RtTensorDesc out[1] = {desc(RT_U8, 1, DIMS(6))};
    int64_t ints[1] = {0};
    RtCall c = call(3, in, 1, out, 1, ints, 0, NULL);
    const void *ip[3] = {x, &s, &z};
    void *op[1] = {y};
    CHECK(RT_OK, rt_quantize_linear(&c, ip, op));
    for (int i = 0; i < 6; i++)
        CHECK(want[i], y[i]);

    /* Per-axis int8: axis 1 of a 1x2x2 tensor, scales 1 and 4. */
    float xa[4] = {2.5f, -300, 6, 10};
    float sa[2] = {1, 4};
    int8_t za[2] = {0, -1}, ya[4];
    RtTensorDesc ina[3] = {desc(RT_F32, 3, DIMS(1, 2, 2)), desc(RT_F32, 1, DIMS(2)),
                           desc(RT_I8, 1, DIMS(2))};
    RtTensorDesc outa[1] = {desc(RT_I8, 3, DIMS(1, 2, 2))};
    int64_t axis[1] = {1};
    RtCall ca = call(3, ina, 1, outa, 1, axis, 0, NULL);
    const void *ipa[3] = {xa, sa, za};
    void *opa[1] = {ya};
    CHECK(RT_OK, rt_quantize_linear(&ca, ipa, opa));
    CHECK(2, ya[0]);
    CHECK(-128, ya[1]);
    CHECK(1, ya[2]); /* 6 / 4 = 1.5 -> 2, - 1 */
    CHECK(1, ya[3]); /* 10 / 4 = 2.5 -> 2, - 1 */
}

static void test_dequantize(void)
{
    uint8_t x[4] = {0, 3, 128, 255}, z = 128;
    float s = 2, y[4], want[4] = {-256, -250, 0, 254};
    RtTensorDesc in[3] = {desc(RT_U8, 1, DIMS(4)), desc(RT_F32, 0, NULL),
                          desc(RT_U8, 0, NULL)};
    RtTensorDesc out[1] = {desc(RT_F32, 1, DIMS(4))};
    int64_t ints[1] = {0};
    RtCall c = call(3, in, 1, out, 1, ints, 0, NULL);
    const void *ip[3] = {x, &s, &z};
    void *op[1] = {y};
    CHECK(RT_OK, rt_dequantize_linear(&c, ip, op));
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(want[i], y[i], 0);
}

/* ONNX's DynamicQuantizeLinear example: range [-3, 2], zero point 153. */
static void test_dynamic(void)
{
    float x[6] = {0, 2, -3, -2.5f, 1.34f, 0.5f}, s;
    uint8_t y[6], z, want[6] = {153, 255, 0, 26, 221, 179};
    RtTensorDesc in[1] = {desc(RT_F32, 1, DIMS(6))};
    RtTensorDesc out[3] = {desc(RT_U8, 1, DIMS(6)), desc(RT_F32, 0, NULL),
                           desc(RT_U8, 0, NULL)};
    RtCall c = call(1, in, 3, out, 0, NULL, 0, NULL);
    const void *ip[1] = {x};
    void *op[3] = {y, &s, &z};
    CHECK(RT_OK, rt_dynamic_quantize_linear(&c, ip, op));
    CHECK_NEAR(5.0 / 255, s, 1e-7);
    CHECK(153, z);
    for (int i = 0; i < 6; i++)
        CHECK(want[i], y[i]);
}

static void test_matmul(void)
{
    uint8_t a[12] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, b[6] = {1, 4, 2, 5, 3, 6};
    uint8_t az = 12, bz = 0;
    int32_t y[8], want[8] = {-38, -83, -44, -98, -50, -113, -56, -128};
    RtTensorDesc in[4] = {desc(RT_U8, 2, DIMS(4, 3)), desc(RT_U8, 2, DIMS(3, 2)),
                          desc(RT_U8, 0, NULL), desc(RT_U8, 0, NULL)};
    RtTensorDesc out[1] = {desc(RT_I32, 2, DIMS(4, 2))};
    int64_t ints[4] = {4, 3, 2, 0};
    RtCall c = call(4, in, 1, out, 4, ints, 0, NULL);
    const void *ip[4] = {a, b, &az, &bz};
    void *op[1] = {y};
    CHECK(RT_OK, rt_matmul_integer(&c, ip, op));
    for (int i = 0; i < 8; i++)
        CHECK(want[i], y[i]);

    /* QLinearMatMul: acc 8 * 0.5 * 1 / 2 = 2, + 10; 5 * 0.5 / 2 = 1.25 -> 1, + 10. */
    uint8_t qa[2] = {2, 4}, qb[2] = {1, 3}, qaz = 0, qbz = 1, yz = 10, qy[1];
    float as = 0.5f, bs = 1, ys = 2;
    RtTensorDesc qin[8] = {desc(RT_U8, 2, DIMS(1, 2)), desc(RT_F32, 0, NULL),
                           desc(RT_U8, 0, NULL), desc(RT_U8, 2, DIMS(2, 1)),
                           desc(RT_F32, 0, NULL), desc(RT_U8, 0, NULL),
                           desc(RT_F32, 0, NULL), desc(RT_U8, 0, NULL)};
    RtTensorDesc qout[1] = {desc(RT_U8, 2, DIMS(1, 1))};
    int64_t qints[4] = {1, 2, 1, 0};
    RtCall qc = call(8, qin, 1, qout, 4, qints, 0, NULL);
    const void *qip[8] = {qa, &as, &qaz, qb, &bs, &qbz, &ys, &yz};
    void *qop[1] = {qy};
    CHECK(RT_OK, rt_qlinear_matmul(&qc, qip, qop));
    CHECK(12, qy[0]);
    qbz = 2; /* acc = 2 * -1 + 4 * 1 = 2 -> 0.5 -> 0 (half to even) */
    CHECK(RT_OK, rt_qlinear_matmul(&qc, qip, qop));
    CHECK(10, qy[0]);
}

static void test_conv(void)
{
    uint8_t x[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10}, w[4] = {1, 1, 1, 1}, xz = 1;
    int32_t y[4], want[4] = {12, 16, 24, 28};
    RtTensorDesc in[4] = {desc(RT_U8, 4, DIMS(1, 1, 3, 3)), desc(RT_U8, 4, DIMS(1, 1, 2, 2)),
                          desc(RT_U8, 0, NULL), desc(RT_UNDEF, 0, NULL)};
    RtTensorDesc out[1] = {desc(RT_I32, 4, DIMS(1, 1, 2, 2))};
    int64_t ints[7] = {1, 0, 0, 1, 1, 1, 1};
    RtCall c = call(4, in, 1, out, 7, ints, 0, NULL);
    const void *ip[4] = {x, w, &xz, NULL};
    void *op[1] = {y};
    CHECK(RT_OK, rt_conv_integer(&c, ip, op));
    for (int i = 0; i < 4; i++)
        CHECK(want[i], y[i]);

    /* QLinearConv 1x1 with weight 3 and scale 0.5: 1.5 -> 2, 4.5 -> 4. */
    uint8_t qx[4] = {1, 2, 3, 4}, qw[1] = {3}, qxz = 0, qwz = 0, qyz = 0, qy[4];
    float xs = 1, ws = 0.5f, ys = 1;
    RtTensorDesc qin[8] = {desc(RT_U8, 4, DIMS(1, 1, 2, 2)), desc(RT_F32, 0, NULL),
                           desc(RT_U8, 0, NULL), desc(RT_U8, 4, DIMS(1, 1, 1, 1)),
                           desc(RT_F32, 1, DIMS(1)), desc(RT_U8, 1, DIMS(1)),
                           desc(RT_F32, 0, NULL), desc(RT_U8, 0, NULL)};
    RtTensorDesc qout[1] = {desc(RT_U8, 4, DIMS(1, 1, 2, 2))};
    RtCall qc = call(8, qin, 1, qout, 7, ints, 0, NULL);
    const void *qip[8] = {qx, &xs, &qxz, qw, &ws, &qwz, &ys, &qyz};
    void *qop[1] = {qy};
    CHECK(RT_OK, rt_qlinear_conv(&qc, qip, qop));
    CHECK(2, qy[0]);
    CHECK(3, qy[1]);
    CHECK(4, qy[2]);
    CHECK(6, qy[3]);
}

int main(void)
{
    test_quantize();
    test_dequantize();
    test_dynamic();
    test_matmul();
    test_conv();
    return CHECK_DONE();
}
