/* test_rt_shape.c: the run-time shape functions and rt_dyn_call's bound checks, against extents worked out by hand. */
#include "check.h"
#include "desc.h"

#include "ir/ir.h"

/* Runs shape function fn on a planned call whose inputs take the actual
 * extents in act; out receives the actual output extents. */
static int shape_of(RtShapeFn fn, const RtCall *p, const RtTensorDesc *act, const void *const *d,
                    RtTensorDesc *out)
{
    memcpy(out, p->out, sizeof *out * (size_t)p->n_out);
    return fn(p, act, d, out);
}

static void test_broadcast(void)
{
    RtTensorDesc pin[2] = {desc(RT_F32, 3, DIMS(8, 4, 5)), desc(RT_F32, 2, DIMS(1, 5))};
    RtTensorDesc pout[1] = {desc(RT_F32, 3, DIMS(8, 4, 5))};
    RtCall p = call(2, pin, 1, pout, 0, NULL, 0, NULL);
    RtTensorDesc act[2] = {desc(RT_F32, 3, DIMS(3, 4, 5)), pin[1]}, out[1];
    const void *d[2] = {NULL, NULL};
    CHECK(RT_OK, shape_of(rt_shape_broadcast, &p, act, d, out));
    CHECK(3, out[0].dims[0]);
    CHECK(4, out[0].dims[1]);
    act[1] = desc(RT_F32, 2, DIMS(3, 5)); /* 3 against 4: no broadcast */
    CHECK(RT_ESHAPE, shape_of(rt_shape_broadcast, &p, act, d, out));
}

static void test_matmul_gemm(void)
{
    /* [b, s, 16] x [16, 32] */
    RtTensorDesc pin[2] = {desc(RT_F32, 3, DIMS(2, 64, 16)), desc(RT_F32, 2, DIMS(16, 32))};
    RtTensorDesc pout[1] = {desc(RT_F32, 3, DIMS(2, 64, 32))};
    RtCall p = call(2, pin, 1, pout, 0, NULL, 0, NULL);
    RtTensorDesc act[2] = {desc(RT_F32, 3, DIMS(1, 7, 16)), pin[1]}, out[1];
    const void *d[2] = {NULL, NULL};
    CHECK(RT_OK, shape_of(rt_shape_matmul, &p, act, d, out));
    CHECK(1, out[0].dims[0]);
    CHECK(7, out[0].dims[1]);
    CHECK(32, out[0].dims[2]);
    act[0].dims[2] = 15;
    CHECK(RT_ESHAPE, shape_of(rt_shape_matmul, &p, act, d, out));
    /* Gemm with transB: [m, 16] x [32, 16]^T */
    int64_t ints[2] = {0, 1};
    RtTensorDesc gin[2] = {desc(RT_F32, 2, DIMS(8, 16)), desc(RT_F32, 2, DIMS(32, 16))};
    RtTensorDesc gout[1] = {desc(RT_F32, 2, DIMS(8, 32))};
    RtCall g = call(2, gin, 1, gout, 2, ints, 0, NULL);
    RtTensorDesc gact[2] = {desc(RT_F32, 2, DIMS(5, 16)), gin[1]};
    CHECK(RT_OK, shape_of(rt_shape_gemm, &g, gact, d, out));
    CHECK(5, out[0].dims[0]);
    CHECK(32, out[0].dims[1]);
}

static void test_reshape_flatten(void)
{
    int64_t shape[3] = {0, -1, 4};
    RtTensorDesc pin[2] = {desc(RT_F32, 3, DIMS(8, 6, 4)), desc1(RT_I64, 3)};
    RtTensorDesc pout[1] = {desc(RT_F32, 3, DIMS(8, 6, 4))};
    RtCall p = call(2, pin, 1, pout, 0, NULL, 0, NULL);
    RtTensorDesc act[2] = {desc(RT_F32, 3, DIMS(2, 6, 4)), pin[1]}, out[1];
    const void *d[2] = {NULL, shape};
    CHECK(RT_OK, shape_of(rt_shape_reshape, &p, act, d, out));
    CHECK(2, out[0].dims[0]);
    CHECK(6, out[0].dims[1]);
    shape[2] = 5; /* 48 elements do not split into 5s */
    CHECK(RT_ESHAPE, shape_of(rt_shape_reshape, &p, act, d, out));
    int64_t axis = 2;
    RtTensorDesc fout[1] = {desc(RT_F32, 2, DIMS(48, 4))};
    RtCall f = call(1, pin, 1, fout, 1, &axis, 0, NULL);
    CHECK(RT_OK, shape_of(rt_shape_flatten, &f, act, d, out));
    CHECK(12, out[0].dims[0]);
    CHECK(4, out[0].dims[1]);
}

static void test_concat_transpose_gather(void)
{
    int64_t axis = 1;
    RtTensorDesc pin[2] = {desc(RT_F32, 2, DIMS(8, 3)), desc(RT_F32, 2, DIMS(8, 5))};
    RtTensorDesc pout[1] = {desc(RT_F32, 2, DIMS(8, 8))};
    RtCall p = call(2, pin, 1, pout, 1, &axis, 0, NULL);
    RtTensorDesc act[2] = {desc(RT_F32, 2, DIMS(2, 3)), desc(RT_F32, 2, DIMS(2, 5))}, out[1];
    const void *d[2] = {NULL, NULL};
    CHECK(RT_OK, shape_of(rt_shape_concat, &p, act, d, out));
    CHECK(2, out[0].dims[0]);
    CHECK(8, out[0].dims[1]);
    act[1].dims[0] = 3;
    CHECK(RT_ESHAPE, shape_of(rt_shape_concat, &p, act, d, out));
    int64_t perm[3] = {2, 0, 1};
    RtTensorDesc tin[1] = {desc(RT_F32, 3, DIMS(4, 8, 5))};
    RtTensorDesc tout[1] = {desc(RT_F32, 3, DIMS(5, 4, 8))};
    RtCall t = call(1, tin, 1, tout, 3, perm, 0, NULL);
    RtTensorDesc tact[1] = {desc(RT_F32, 3, DIMS(4, 3, 5))};
    CHECK(RT_OK, shape_of(rt_shape_transpose, &t, tact, d, out));
    CHECK(5, out[0].dims[0]);
    CHECK(3, out[0].dims[2]);
    /* Gather of [97, 8] rows by [b, 32] indices */
    int64_t gaxis = 0;
    RtTensorDesc gin[2] = {desc(RT_F32, 2, DIMS(97, 8)), desc(RT_I64, 2, DIMS(16, 32))};
    RtTensorDesc gout[1] = {desc(RT_F32, 3, DIMS(16, 32, 8))};
    RtCall g = call(2, gin, 1, gout, 1, &gaxis, 0, NULL);
    RtTensorDesc gact[2] = {gin[0], desc(RT_I64, 2, DIMS(3, 32))};
    CHECK(RT_OK, shape_of(rt_shape_gather, &g, gact, d, out));
    CHECK(3, out[0].dims[0]);
    CHECK(32, out[0].dims[1]);
    CHECK(8, out[0].dims[2]);
}

static void test_axismap(void)
{
    /* Unsqueeze [b, 4] -> [b, 1, 4]; Squeeze [b, 1, 4] -> [b, 4] */
    int64_t un[3] = {0, -1, 1}, sq[2] = {0, 2};
    RtTensorDesc uin[1] = {desc(RT_F32, 2, DIMS(8, 4))};
    RtTensorDesc uout[1] = {desc(RT_F32, 3, DIMS(8, 1, 4))};
    RtCall u = call(1, uin, 1, uout, 3, un, 0, NULL);
    RtTensorDesc act[1] = {desc(RT_F32, 2, DIMS(3, 4))}, out[1];
    const void *d[1] = {NULL};
    CHECK(RT_OK, shape_of(rt_shape_axismap, &u, act, d, out));
    CHECK(3, out[0].dims[0]);
    CHECK(1, out[0].dims[1]);
    CHECK(4, out[0].dims[2]);
    RtCall q = call(1, uout, 1, uin, 2, sq, 0, NULL);
    RtTensorDesc qact[1] = {desc(RT_F32, 3, DIMS(5, 1, 4))};
    CHECK(RT_OK, shape_of(rt_shape_axismap, &q, qact, d, out));
    CHECK(5, out[0].dims[0]);
    CHECK(4, out[0].dims[1]);
    /* the squeezed axis is not 1 when the node runs */
    RtTensorDesc pin2[1] = {desc(RT_F32, 2, DIMS(8, 4))};
    RtTensorDesc pout2[1] = {desc(RT_F32, 1, DIMS(4))};
    int64_t sq2[1] = {1};
    RtCall q2 = call(1, pin2, 1, pout2, 1, sq2, 0, NULL);
    RtTensorDesc bad[1] = {desc(RT_F32, 2, DIMS(2, 4))};
    CHECK(RT_ESHAPE, shape_of(rt_shape_axismap, &q2, bad, d, out));
}

/* rt_dyn_call: extents within the bounds reach the kernel; past a bound,
 * or a static output that would change, never do. */
static int kernel_calls;
static int64_t kernel_seen;
static int record(const RtCall *c, const void *const *in, void *const *out)
{
    (void)in;
    (void)out;
    kernel_calls++;
    kernel_seen = c->out[0].dims[0];
    return RT_OK;
}

static void test_dyn_call(void)
{
    RtTensorDesc pin[2] = {desc(RT_F32, 2, DIMS(8, 4)), desc(RT_F32, 2, DIMS(4, 4))};
    RtTensorDesc pout[1] = {desc(RT_F32, 2, DIMS(8, 4))};
    RtCall p = call(2, pin, 1, pout, 0, NULL, 0, NULL);
    int64_t x[2] = {3, 4}, y[2] = {0, 0};
    const int64_t *id[2] = {x, NULL};
    int64_t *od[1] = {y};
    const void *in[2] = {NULL, NULL};
    void *out[1] = {NULL};
    CHECK(RT_OK, rt_dyn_call(&p, rt_shape_matmul, record, id, od, NULL, in, out));
    CHECK(1, kernel_calls);
    CHECK(3, kernel_seen);
    CHECK(3, y[0]);
    CHECK(4, y[1]);
    x[0] = 9; /* past the bound of 8 */
    CHECK(RT_EBOUND, rt_dyn_call(&p, rt_shape_matmul, record, id, od, NULL, in, out));
    x[0] = 3;
    od[0] = NULL; /* planned static, but 3 rows come out */
    CHECK(RT_ESHAPE, rt_dyn_call(&p, rt_shape_matmul, record, id, od, NULL, in, out));
    CHECK(1, kernel_calls);
    /* a buffer planned for 16 elements (rt_cap) below the bounds' 32: 3x4 fits,
     * 5x4 is past it although each extent is within its bound */
    int64_t cap[1] = {16};
    od[0] = y;
    CHECK(RT_OK, rt_dyn_call(&p, rt_shape_matmul, record, id, od, cap, in, out));
    x[0] = 5;
    CHECK(RT_EBOUND, rt_dyn_call(&p, rt_shape_matmul, record, id, od, cap, in, out));
    CHECK(2, kernel_calls);
    x[0] = 3;
    int64_t lo[2] = {1, 4}, hi[2] = {8, 4}, slot[2] = {0, 0};
    CHECK(RT_OK, rt_dims_check(2, x, lo, hi, slot));
    CHECK(3, slot[0]);
    int64_t bad[2] = {3, 5};
    CHECK(RT_EBOUND, rt_dims_check(2, bad, lo, hi, slot));
    CHECK(16, rt_dims_bytes(RT_F32, 2, DIMS(2, 2)));
}

/* Slice's starts/ends/axes/steps read at run time, clamped as ONNX says. */
static void test_slice_values(void)
{
    RtTensorDesc in[5] = {desc(RT_F32, 2, DIMS(5, 6)), desc(RT_I64, 1, DIMS(2)),
                          desc(RT_I64, 1, DIMS(2)), desc(RT_I64, 1, DIMS(2)),
                          desc(RT_I64, 1, DIMS(2))};
    RtTensorDesc out[1] = {desc(RT_F32, 2, DIMS(5, 6))};
    RtCall p = call(5, in, 1, out, 0, NULL, 0, NULL);
    int64_t starts[2] = {-1, 1}, ends[2] = {-100, 100}, axes[2] = {1, 0}, steps[2] = {-2, 1};
    const void *d[5] = {NULL, starts, ends, axes, steps};
    CHECK(RT_OK, rt_shape_slice_values(&p, in, d, out));
    CHECK(4, out[0].dims[0]); /* rows 1..4 */
    CHECK(3, out[0].dims[1]); /* columns 5, 3, 1 */
    int64_t params[RT_SLICE_PER_AXIS * 2], dims[2];
    CHECK(RT_OK, rt_slice_resolve(&in[0], 5, in, d, params, dims));
    CHECK(5, params[RT_SLICE_AXIS(1) + RT_SLICE_START]);
    CHECK(-2, params[RT_SLICE_AXIS(1) + RT_SLICE_STEP]);
    steps[0] = 0;
    CHECK(RT_ESHAPE, rt_shape_slice_values(&p, in, d, out));
    steps[0] = 1;
    axes[1] = 1; /* twice */
    CHECK(RT_ESHAPE, rt_shape_slice_values(&p, in, d, out));
}

/* Reduce axes, Split sizes, TopK's k and Compress's condition read at run time. */
static void test_value_inputs(void)
{
    RtTensorDesc in[2] = {desc(RT_F32, 3, DIMS(2, 3, 4)), desc(RT_I64, 1, DIMS(2))};
    RtTensorDesc out[2] = {desc(RT_F32, 1, DIMS(4)), desc(RT_F32, 3, DIMS(2, 3, 4))};
    int64_t ints[RT_REDUCE_NINTS_AXES] = {RT_REDUCE_SUM, RT_REDUCE_AXES_INPUT, 0};
    RtCall p = call(2, in, 1, out, RT_REDUCE_NINTS_AXES, ints, 0, NULL);
    int64_t axes[2] = {-1, 0}, mask;
    const void *d[2] = {NULL, axes};
    CHECK(RT_OK, rt_shape_reduce_axes(&p, in, d, out));
    CHECK(3, out[0].dims[0]); /* [2, 3, 4] without axes 2 and 0 */
    CHECK(RT_OK, rt_reduce_resolve(&in[0], &in[1], axes, 0, &mask, &out[0]));
    CHECK(5, mask);
    axes[1] = 2; /* twice */
    CHECK(RT_ESHAPE, rt_shape_reduce_axes(&p, in, d, out));

    int64_t split_ints[1] = {2}, parts[2] = {1, 3};
    RtTensorDesc sout[2] = {desc(RT_F32, 3, DIMS(2, 3, 4)), desc(RT_F32, 3, DIMS(2, 3, 4))};
    RtCall ps = call(2, in, 2, sout, 1, split_ints, 0, NULL);
    d[1] = parts;
    CHECK(RT_OK, rt_shape_split_values(&ps, in, d, sout));
    CHECK(1, sout[0].dims[2]);
    CHECK(3, sout[1].dims[2]);
    parts[1] = 2; /* 3 of 4 */
    CHECK(RT_ESHAPE, rt_shape_split_values(&ps, in, d, sout));

    RtTensorDesc kin[2] = {in[0], desc(RT_I64, 1, DIMS(1))};
    RtTensorDesc kout[2] = {desc(RT_F32, 3, DIMS(2, 3, 4)), desc(RT_I64, 3, DIMS(2, 3, 4))};
    int64_t topk_ints[RT_TOPK_NINTS] = {1, -1, 1}, k = 3;
    RtCall pk = call(2, kin, 2, kout, RT_TOPK_NINTS, topk_ints, 0, NULL);
    d[1] = &k;
    CHECK(RT_OK, rt_shape_topk_k(&pk, kin, d, kout));
    CHECK(3, kout[1].dims[1]);
    k = 4; /* past the axis of 3 */
    CHECK(RT_EBOUND, rt_shape_topk_k(&pk, kin, d, kout));

    uint8_t cond[3] = {1, 0, 1};
    RtTensorDesc cin[2] = {in[0], desc(RT_BOOL, 1, DIMS(3))};
    RtTensorDesc cout[1] = {desc(RT_F32, 3, DIMS(2, 3, 4))};
    int64_t comp_ints[RT_COMPRESS_NINTS] = {1};
    RtCall pc = call(2, cin, 1, cout, RT_COMPRESS_NINTS, comp_ints, 0, NULL);
    d[1] = cond;
    CHECK(RT_OK, rt_shape_compress(&pc, cin, d, cout));
    CHECK(2, cout[0].dims[1]);
}

int main(void)
{
    test_broadcast();
    test_matmul_gemm();
    test_reshape_flatten();
    test_concat_transpose_gather();
    test_axismap();
    test_dyn_call();
    test_slice_values();
    test_value_inputs();
    return CHECK_DONE();
}
