/* test_tensor_io.c: unit tests of tensor files (.pb, .npy) and the standalone binary's driver. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "onnxcc_rt.h"

static char dir[64];           /* scratch directory of this run */

static const char *tmp_path(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK_TRUE(f != NULL);
    if (!f)
        return;
    CHECK(n, fwrite(p, 1, n, f));
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- a tiny protobuf writer for hand-made TensorProtos ---- */
typedef struct Buf {
    unsigned char b[4096];
    size_t n;
} Buf;

static void put_v(Buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->b[b->n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->b[b->n++] = (unsigned char)v;
}

static void put_key(Buf *b, int field, int wt)
{
    put_v(b, (uint64_t)field << 3 | (uint64_t)wt);
}

static void put_bytes(Buf *b, int field, const void *p, size_t n)
{
    put_key(b, field, 2);
    put_v(b, n);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

/* Reads bytes as a tensor file; returns the status and leaves the message in err. */
static int read_bytes(const void *p, size_t n, RtTensor *t, char *err, size_t err_len)
{
    const char *path = tmp_path("bytes.bin");
    write_file(path, p, n);
    return rt_tensor_read(path, t, err, err_len);
}

static void expect_error(const void *p, size_t n, const char *needle)
{
    RtTensor t;
    char err[256];
    CHECK_TRUE(read_bytes(p, n, &t, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, needle);
    CHECK_TRUE(t.data == NULL && t.nbytes == 0);
    rt_tensor_free(&t);
}

/* A successful read must describe itself consistently. */
static void check_sane(const RtTensor *t)
{
    size_t n = 1;
    CHECK_TRUE(rt_dtype_bits(t->desc.dtype) > 0);
    CHECK_TRUE(t->desc.rank >= 0 && t->desc.rank <= RT_MAX_RANK);
    for (int i = 0; i < t->desc.rank; i++)
        n *= (size_t)t->desc.dims[i];
    CHECK(rt_dtype_bytes(t->desc.dtype, (int64_t)n), t->nbytes); /* packed: ceil(n*bits/8) */
    CHECK_TRUE(t->nbytes == 0 || t->data != NULL);
}

/* ---- round trips ---- */
static void round_trip(int dtype, int rank, const int64_t *dims, const void *data, size_t nbytes)
{
    RtTensor t, r;
    char err[256];
    memset(&t, 0, sizeof t);
    t.desc.dtype = dtype;
    t.desc.rank = rank;
    if (rank)
        memcpy(t.desc.dims, dims, sizeof(int64_t) * (size_t)rank);
    snprintf(t.name, sizeof t.name, "t_%s", rt_dtype_name(dtype));
    t.data = (void *)data;
    t.nbytes = nbytes;
    for (int npy = 0; npy < 2; npy++) {
        const char *path = tmp_path(npy ? "rt.npy" : "rt.pb");
        int rc = npy ? rt_tensor_write_npy(path, &t) : rt_tensor_write_pb(path, &t);
        if (npy && dtype == RT_BF16) { /* numpy has no bfloat16 */
            CHECK(RT_EDTYPE, rc);
            continue;
        }
        CHECK(RT_OK, rc);
        CHECK(0, exists(tmp_path(npy ? "rt.npy.tmp" : "rt.pb.tmp")));
        CHECK(0, rt_tensor_read(path, &r, err, sizeof err));
        CHECK(dtype, r.desc.dtype);
        CHECK(rank, r.desc.rank);
        for (int i = 0; i < rank; i++)
            CHECK(dims[i], r.desc.dims[i]);
        CHECK(nbytes, r.nbytes);
        CHECK_TRUE(nbytes == 0 || memcmp(r.data, data, nbytes) == 0);
        CHECK(0, strcmp(npy ? "" : t.name, r.name));
        rt_tensor_free(&r);
        rt_tensor_free(&r); /* a second free is harmless */
    }
}

static void test_round_trips(void)
{
    const float f32[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.0f, 1e30f};
    const int64_t i64 = -1234567890123LL;
    const uint8_t b[4] = {1, 0, 0, 1};
    const double f64[2] = {3.141592653589793, -1e-300};
    const uint16_t f16[4] = {0x3c00, 0xc100, 0x7c00, 0x0001};
    const int8_t i8[3] = {-128, 0, 127};
    const uint64_t u64[2] = {UINT64_MAX, 7};
    const int32_t i32[1] = {-5};
    const int64_t d23[2] = {2, 3}, d4[1] = {4}, d03[2] = {0, 3}, d22[2] = {2, 2};
    const int64_t d8[8] = {1, 1, 1, 1, 1, 1, 2, 1}, d3[1] = {3}, d2[1] = {2}, d111[3] = {1, 1, 1};
    round_trip(RT_F32, 2, d23, f32, sizeof f32);
    round_trip(RT_I64, 0, NULL, &i64, sizeof i64);
    round_trip(RT_BOOL, 1, d4, b, sizeof b);
    round_trip(RT_U8, 2, d03, NULL, 0);
    round_trip(RT_F32, 2, d03, NULL, 0);
    round_trip(RT_F64, 8, d8, f64, sizeof f64);
    round_trip(RT_F16, 2, d22, f16, sizeof f16);
    round_trip(RT_BF16, 2, d22, f16, sizeof f16);
    round_trip(RT_I8, 1, d3, i8, sizeof i8);
    round_trip(RT_U64, 1, d2, u64, sizeof u64);
    round_trip(RT_I32, 3, d111, i32, sizeof i32);

    /* the npy header pads the data to a 64-byte boundary (numpy's format spec) */
    {
        RtTensor t;
        unsigned char head[128];
        FILE *f;
        memset(&t, 0, sizeof t);
        t.desc.dtype = RT_F32;
        t.desc.rank = 2;
        t.desc.dims[0] = 2;
        t.desc.dims[1] = 3;
        t.data = (void *)f32;
        t.nbytes = sizeof f32;
        CHECK(RT_OK, rt_tensor_write_npy(tmp_path("h.npy"), &t));
        f = fopen(tmp_path("h.npy"), "rb");
        CHECK(sizeof head, fread(head, 1, sizeof head, f));
        fseek(f, 0, SEEK_END);
        CHECK(128 + 24, ftell(f));
        fclose(f);
        CHECK(0, (10 + (head[8] | head[9] << 8)) % 64);
        CHECK('\n', head[9 + (head[8] | head[9] << 8)]);
        CHECK(1, head[6]);
        /* a bad tensor is refused, and nothing is left behind */
        t.nbytes = 20;
        CHECK(RT_EINVAL, rt_tensor_write_npy(tmp_path("bad.npy"), &t));
        CHECK(RT_EINVAL, rt_tensor_write_pb(tmp_path("bad.pb"), &t));
        CHECK(0, exists(tmp_path("bad.npy")) || exists(tmp_path("bad.pb")));
        /* a directory that does not exist: RT_EIO, no file */
        t.nbytes = sizeof f32;
        CHECK(RT_EIO, rt_tensor_write_pb(tmp_path("nodir/x.pb"), &t));
        CHECK(RT_EIO, rt_tensor_write_npy(tmp_path("nodir/x.npy"), &t));
    }
}

/* ---- real files ---- */
static void test_onnx_testdata(void)
{
    /* expected values from /usr/bin/python3 -c 'import onnx, onnx.numpy_helper as nh;
     * t = onnx.TensorProto(); t.ParseFromString(open(P, "rb").read());
     * a = nh.to_array(t); print(t.name, t.dims, a.flatten()[:4], a.flatten()[-1])' */
    const char *p = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0/input_0.pb";
    RtTensor t;
    char err[256];
    const float *x;
    unsigned char buf[512];
    size_t n;
    FILE *f = fopen(p, "rb");
    if (!f) {
        fprintf(stderr, "note: %s missing, skipping the real-file test\n", p);
        return;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(0, rt_tensor_read(p, &t, err, sizeof err));
    CHECK(0, strcmp("x", t.name));
    CHECK(RT_F32, t.desc.dtype);
    CHECK(3, t.desc.rank);
    CHECK(3, t.desc.dims[0]);
    CHECK(4, t.desc.dims[1]);
    CHECK(5, t.desc.dims[2]);
    CHECK(240, t.nbytes);
    x = t.data;
    CHECK_TRUE(x[0] == 1.764052391052246f);
    CHECK_TRUE(x[1] == 0.40015721321105957f);
    CHECK_TRUE(x[2] == 0.978738009929657f);
    CHECK_TRUE(x[3] == 2.2408931255340576f);
    CHECK_TRUE(x[59] == -0.3627411723136902f);
    rt_tensor_free(&t);

    /* every prefix either fails cleanly or is a consistent tensor */
    for (size_t k = 0; k < n; k++) {
        int rc = read_bytes(buf, k, &t, err, sizeof err);
        if (rc == 0)
            check_sane(&t);
        else
            CHECK_TRUE(t.data == NULL && err[0] != 0);
        rt_tensor_free(&t);
    }
    /* so does every single-byte corruption */
    for (size_t k = 0; k < n; k++) {
        static const unsigned char vals[] = {0x00, 0xff, 0x80, 0x0f};
        for (size_t v = 0; v < sizeof vals; v++) {
            unsigned char c = buf[k];
            buf[k] = vals[v];
            if (read_bytes(buf, n, &t, err, sizeof err) == 0)
                check_sane(&t);
            rt_tensor_free(&t);
            buf[k] = c;
        }
    }
}

/* ---- typed fields, as onnx.helper.make_tensor writes them ---- */
static void test_typed_fields(void)
{
    /* bytes from onnx 1.12: helper.make_tensor(name, type, dims, vals).SerializeToString() */
    static const char i64[] = "\x08\x02\x08\x02\x10\x07:\x16\x01\xfe\xff\xff\xff\xff\xff\xff\xff"
                              "\xff\x01\x03\xfc\xff\xff\xff\xff\xff\xff\xff\xff\x01" "B\x03i64";
    static const char i8[] = "\x08\x03\x10\x03*\x0c\x80\xff\xff\xff\xff\xff\xff\xff\xff\x01"
                             "\x00\x7f" "B\x02i8";
    static const char f16[] = "\x08\x02\x10\x0a*\x05\x80x\x80\x82\x03" "B\x03" "f16";
    static const char f32[] = "\x08\x03\x10\x01\x22\x0c\x00\x00\x00\x3f\x00\x00\xa0\xbf\x00\x00"
                              "@@B\x03" "f32";
    static const char f64[] = "\x10\x0b" "B\x03" "f64R\x08\x00\x00\x00\x00\x00\x00\x06@";
    static const char u32[] = "\x08\x02\x10\x0c" "B\x03u32Z\x06\xff\xff\xff\xff\x0f\x01";
    static const char bl[] = "\x08\x02\x10\x09*\x02\x01\x00" "B\x04" "bool";
    static const struct {
        const char *p;
        size_t n;
    } all[] = {
        {i64, sizeof i64 - 1}, {i8, sizeof i8 - 1}, {f16, sizeof f16 - 1}, {f32, sizeof f32 - 1},
        {f64, sizeof f64 - 1}, {u32, sizeof u32 - 1}, {bl, sizeof bl - 1},
    };
    RtTensor t;
    char err[256];

    CHECK(0, read_bytes(i64, sizeof i64 - 1, &t, err, sizeof err));
    CHECK(RT_I64, t.desc.dtype);
    CHECK(0, strcmp("i64", t.name));
    CHECK(-4, ((int64_t *)t.data)[3]);
    CHECK(-2, ((int64_t *)t.data)[1]);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(i8, sizeof i8 - 1, &t, err, sizeof err));
    CHECK(RT_I8, t.desc.dtype);
    CHECK(-128, ((int8_t *)t.data)[0]);
    CHECK(127, ((int8_t *)t.data)[2]);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(f16, sizeof f16 - 1, &t, err, sizeof err));
    CHECK(0x3c00, ((uint16_t *)t.data)[0]); /* 1.0 */
    CHECK(0xc100, ((uint16_t *)t.data)[1]); /* -2.5 */
    rt_tensor_free(&t);
    CHECK(0, read_bytes(f32, sizeof f32 - 1, &t, err, sizeof err));
    CHECK_TRUE(((float *)t.data)[1] == -1.25f);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(f64, sizeof f64 - 1, &t, err, sizeof err));
    CHECK(0, t.desc.rank);
    CHECK_TRUE(((double *)t.data)[0] == 2.75);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(u32, sizeof u32 - 1, &t, err, sizeof err));
    CHECK(RT_U32, t.desc.dtype);
    CHECK(4294967295u, ((uint32_t *)t.data)[0]);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(bl, sizeof bl - 1, &t, err, sizeof err));
    CHECK(1, ((uint8_t *)t.data)[0]);
    rt_tensor_free(&t);

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        for (size_t k = 0; k < all[i].n; k++) {
            int rc = read_bytes(all[i].p, k, &t, err, sizeof err);
            if (rc == 0)
                check_sane(&t);
            rt_tensor_free(&t);
        }
    }

    /* unpacked repeated fields, unknown fields of every wire type, a group */
    {
        Buf b = {{0}, 0};
        float v = 2.5f;
        unsigned char f4[4];
        put_key(&b, 12, 2); /* doc_string */
        put_v(&b, 3);
        memcpy(b.b + b.n, "doc", 3);
        b.n += 3;
        put_key(&b, 1, 0);
        put_v(&b, 2);
        put_key(&b, 2, 0);
        put_v(&b, RT_F32);
        put_key(&b, 99, 1); /* unknown fixed64 */
        memset(b.b + b.n, 0xee, 8);
        b.n += 8;
        put_key(&b, 98, 5); /* unknown fixed32 */
        memset(b.b + b.n, 0xee, 4);
        b.n += 4;
        put_key(&b, 97, 0); /* unknown varint */
        put_v(&b, UINT64_MAX);
        put_key(&b, 96, 3); /* a group holding a nested group */
        put_key(&b, 5, 0);
        put_v(&b, 1);
        put_key(&b, 7, 3);
        put_key(&b, 7, 4);
        put_key(&b, 96, 4);
        memcpy(f4, &v, 4); /* little-endian host assumed by this test */
        put_key(&b, 4, 5);
        memcpy(b.b + b.n, f4, 4);
        b.n += 4;
        put_key(&b, 4, 5);
        memcpy(b.b + b.n, f4, 4);
        b.n += 4;
        CHECK(0, read_bytes(b.b, b.n, &t, err, sizeof err));
        CHECK(2, t.nbytes / 4);
        CHECK_TRUE(t.nbytes == 8 && ((float *)t.data)[1] == 2.5f);
        rt_tensor_free(&t);
        for (size_t k = 0; k < b.n; k++) {
            if (read_bytes(b.b, k, &t, err, sizeof err) == 0)
                check_sane(&t);
            rt_tensor_free(&t);
        }
    }
    /* bfloat16 via int32_data (raw bits), packed dims */
    {
        Buf b = {{0}, 0};
        const unsigned char dims[] = {1, 2};
        put_bytes(&b, 1, dims, 2);
        put_key(&b, 2, 0);
        put_v(&b, RT_BF16);
        put_key(&b, 5, 0);
        put_v(&b, 0x3f80);
        put_key(&b, 5, 0);
        put_v(&b, 0xc000);
        CHECK(0, read_bytes(b.b, b.n, &t, err, sizeof err));
        CHECK(2, t.desc.rank);
        CHECK(2, t.desc.dims[1]);
        CHECK(0x3f80, ((uint16_t *)t.data)[0]);
        CHECK(0xc000, ((uint16_t *)t.data)[1]);
        rt_tensor_free(&t);
    }
}

/* ---- embedded .npy files ---- */
static void test_npy_files(void)
{
    /* bytes from numpy 1.24: np.save / np.lib.format.write_array(f, a, version=V) */
    static const char i16[] =
        "\x93NUMPY\x01\x00v\x00{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }"
        "                                                          \x0a\xfd\xff\xfe\xff\xff\xff"
        "\x00\x00\x01\x00\x02\x00";
    static const char f64v2[] =
        "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }"
        "                                                        \x0a\x00\x00\x00\x00\x00\x00"
        "\xf8\x3f\x00\x00\x00\x00\x00\x00\x02\xc0";
    static const char bool0[] =
        "\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (), }"
        "                                                              \x0a\x01";
    static const char f32F[] =
        "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"
        "                                                           \x0a\x00\x00\x00\x00\x00\x00"
        "@@\x00\x00\x80\x3f\x00\x00\x80@\x00\x00\x00@\x00\x00\xa0@";
    static const char u8v3[] =
        "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"
        "                                                          \x0a\x07\x08\xff";
    RtTensor t;
    char err[256];
    char big[sizeof i16];

    CHECK(0, read_bytes(i16, sizeof i16 - 1, &t, err, sizeof err));
    CHECK(RT_I16, t.desc.dtype);
    CHECK(2, t.desc.rank);
    CHECK(3, t.desc.dims[1]);
    CHECK(-3, ((int16_t *)t.data)[0]);
    CHECK(2, ((int16_t *)t.data)[5]);
    CHECK(0, t.name[0]);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(f64v2, sizeof f64v2 - 1, &t, err, sizeof err));
    CHECK(RT_F64, t.desc.dtype);
    CHECK_TRUE(((double *)t.data)[1] == -2.25);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(bool0, sizeof bool0 - 1, &t, err, sizeof err));
    CHECK(RT_BOOL, t.desc.dtype);
    CHECK(0, t.desc.rank);
    CHECK(1, t.nbytes);
    rt_tensor_free(&t);
    CHECK(0, read_bytes(u8v3, sizeof u8v3 - 1, &t, err, sizeof err));
    CHECK(255, ((uint8_t *)t.data)[2]);
    rt_tensor_free(&t);
    expect_error(f32F, sizeof f32F - 1, "Fortran-order");

    for (size_t k = 0; k < sizeof i16 - 1; k++) {
        int rc = read_bytes(i16, k, &t, err, sizeof err);
        CHECK_TRUE(rc != 0);
        rt_tensor_free(&t);
    }
    expect_error(i16, sizeof i16 - 2, "npy data has 11 bytes, expected 12 for int16[2,3]");
    memcpy(big, i16, sizeof big);
    big[21] = '>';
    expect_error(big, sizeof big - 1, "big-endian");
    memcpy(big, i16, sizeof big);
    big[22] = 'c';
    expect_error(big, sizeof big - 1, "unsupported npy dtype '<c2'");
    memcpy(big, i16, sizeof big);
    big[6] = 9;
    expect_error(big, sizeof big - 1, "unsupported npy version 9.0");
    memcpy(big, i16, sizeof big);
    memcpy(big + 10, "{'descx'", 8);
    expect_error(big, sizeof big - 1, "bad npy header");
}

/* ---- malformed .pb files ---- */
static void test_pb_errors(void)
{
    Buf b;
    unsigned char zeros[16] = {0};
    RtTensor t;
    char err[256];

    /* raw_data of the wrong size */
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, 2);
    put_key(&b, 1, 0);
    put_v(&b, 2);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_bytes(&b, 9, zeros, 12);
    expect_error(b.b, b.n, "raw_data has 12 bytes, expected 16 for float32[2,2]");
    /* the message starts with the path */
    read_bytes(b.b, b.n, &t, err, sizeof err);
    CHECK_STR_CONTAINS(err, "bytes.bin: raw_data");

    /* element count overflow */
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 3; i++) {
        put_key(&b, 1, 0);
        put_v(&b, (uint64_t)1 << 40);
    }
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_bytes(&b, 9, zeros, 4);
    expect_error(b.b, b.n, "too large");

    /* a zero dim makes any other dim harmless */
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, 0);
    put_key(&b, 1, 0);
    put_v(&b, (uint64_t)1 << 62);
    put_key(&b, 2, 0);
    put_v(&b, RT_I64);
    CHECK(0, read_bytes(b.b, b.n, &t, err, sizeof err));
    CHECK(0, t.nbytes);
    CHECK_TRUE(t.data == NULL);
    rt_tensor_free(&t);

    /* rank 9 */
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 9; i++) {
        put_key(&b, 1, 0);
        put_v(&b, 1);
    }
    expect_error(b.b, b.n, "rank exceeds 8");

    /* negative dim */
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, (uint64_t)-3);
    expect_error(b.b, b.n, "negative dimension -3");

    /* strings short of their shape, complex, unknown dtype, no dtype */
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, 2);
    put_key(&b, 2, 0);
    put_v(&b, RT_STRING);
    put_bytes(&b, 6, "ab", 2);
    expect_error(b.b, b.n, "string_data has 1 values, expected 2");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, 14);
    expect_error(b.b, b.n, "complex tensors are not supported");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, 27); /* past uint2/int2 (25, 26), ONNX 1.23's last */
    expect_error(b.b, b.n, "unsupported data_type 27");
    expect_error("", 0, "no data_type");

    /* truncations of several kinds */
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_key(&b, 9, 2);
    put_v(&b, 100);
    expect_error(b.b, b.n, "bytes.bin: truncated at byte 2");
    expect_error("\x10\x81", 2, "truncated at byte 1");
    expect_error("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "bad varint at byte 1");
    expect_error("\x10\x01\x0f", 3, "invalid wire type 7");
    expect_error("\x10\x01\x0c", 3, "unmatched end-group");
    expect_error("\x10\x01\x0b\x14", 4, "mismatched end-group");

    /* values that do not match the dims or the dtype */
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, 3);
    put_key(&b, 2, 0);
    put_v(&b, RT_I64);
    put_key(&b, 7, 0);
    put_v(&b, 1);
    expect_error(b.b, b.n, "int64_data has 1 values, expected 3 for int64[3]");
    put_key(&b, 4, 5);
    memcpy(b.b + b.n, zeros, 4);
    b.n += 4;
    expect_error(b.b, b.n, "float_data given for int64[3]");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, RT_U8);
    put_key(&b, 5, 0);
    put_v(&b, 300);
    expect_error(b.b, b.n, "value 300 at index 0 is out of range for uint8");
    memset(&b, 0, sizeof b);
    put_key(&b, 1, 0);
    put_v(&b, 2);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    expect_error(b.b, b.n, "no data for float32[2]");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_bytes(&b, 9, zeros, 4);
    put_key(&b, 4, 5);
    memcpy(b.b + b.n, zeros, 4);
    b.n += 4;
    expect_error(b.b, b.n, "both raw_data and float_data");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_bytes(&b, 4, zeros, 6);
    expect_error(b.b, b.n, "packed float_data of 6 bytes");
    memset(&b, 0, sizeof b);
    put_key(&b, 2, 0);
    put_v(&b, RT_F32);
    put_key(&b, 14, 0);
    put_v(&b, 1);
    expect_error(b.b, b.n, "external data is not supported");

    /* not a file at all */
    CHECK_TRUE(rt_tensor_read(tmp_path("nope.pb"), &t, err, sizeof err) != 0);
    CHECK_STR_CONTAINS(err, "nope.pb: No such file");
    CHECK_TRUE(rt_tensor_read(dir, &t, err, sizeof err) != 0);
    CHECK_TRUE(t.data == NULL);
    /* bad npy magic falls back to protobuf, which refuses it */
    CHECK_TRUE(read_bytes("\x93NUMPX\x01\x00", 8, &t, err, sizeof err) != 0);
    CHECK_TRUE(t.data == NULL);
}

/* ---- the driver, on fake models ---- */
enum { ADD1_ARENA = 100 };
static int g_runs, g_inits, g_fail;
static const char *g_weights;

static int add1_init(const char *w)
{
    g_inits++;
    g_weights = w;
    return 0;
}

static int add1_run(void *arena, const void *const *in, void *const *out)
{
    const float *x = in[0];
    float *y = out[0];
    g_runs++;
    if (!arena || ((uintptr_t)arena & 63) || ((uintptr_t)in[0] & 63) || ((uintptr_t)y & 63))
        return RT_EINVAL;
    memset(arena, 0xab, ADD1_ARENA); /* valgrind checks the arena's size */
    for (int i = 0; i < 6; i++)
        y[i] = x[i] + 1;
    return g_fail;
}

static const RtIO add1_in[] = {{"x", RT_F32, 2, {2, 3}, 0, 0, 0u, {0}, 0}};
static const RtIO add1_out[] = {{"y", RT_F32, 2, {2, 3}, 0, 0, 0u, {0}, 0}};
static const RtModel add1 = {"add1", 1, 1, add1_in, add1_out, ADD1_ARENA, add1_init, add1_run,
                            0, 0, NULL, NULL, NULL};

/* two inputs, two outputs: s = a + b (float32[1,3]), n = 2 * b (int64 scalar) */
static int add2_run(void *arena, const void *const *in, void *const *out)
{
    const float *a = in[0];
    const int64_t *b = in[1];
    (void)arena;
    g_runs++;
    for (int i = 0; i < 3; i++)
        ((float *)out[0])[i] = a[i] + (float)b[0];
    ((int64_t *)out[1])[0] = 2 * b[0];
    return 0;
}

static const RtIO add2_in[] = {{"a", RT_F32, 1, {3}, 0, 0, 0u, {0}, 0},
                               {"b", RT_I64, 0, {0}, 0, 0, 0u, {0}, 0}};
static const RtIO add2_out[] = {{"s", RT_F32, 2, {1, 3}, 0, 0, 0u, {0}, 0},
                                {"n", RT_I64, 0, {0}, 0, 0, 0u, {0}, 0}};
static const RtModel add2 = {"add2", 2, 2, add2_in, add2_out, 0, NULL, add2_run,
                            0, 0, NULL, NULL, NULL};

/* add2 with its inputs as one sequence and n as an optional output, as the
 * emitter describes a model with structured inputs and outputs */
static const RtGroup seq2_in[] = {{"ab", "S[TT]", 0, 2}};
static const RtGroup seq2_out[] = {{"s", "T", 0, 1}, {"n", "O[T]", 1, 1}};
static const RtModel seq2 = {"seq2", 2, 2, add2_in, add2_out, 0, NULL, add2_run,
                             1, 2, seq2_in, seq2_out, NULL};

/* Runs rt_main on a NULL-terminated argv, capturing stdout and stderr. */
static char g_out[8192], g_err[8192];

static int run_main(const RtModel *m, const char *const *args)
{
    char *argv[32];
    int argc = 0, rc, so, se;
    FILE *fo = tmpfile(), *fe = tmpfile();
    size_t n;
    while (args[argc]) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    so = dup(1);
    se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    rc = rt_main(argc, argv, m);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    rewind(fo);
    n = fread(g_out, 1, sizeof g_out - 1, fo);
    g_out[n] = 0;
    rewind(fe);
    n = fread(g_err, 1, sizeof g_err - 1, fe);
    g_err[n] = 0;
    fclose(fo);
    fclose(fe);
    return rc;
}

static void write_tensor(const char *path, int dtype, int rank, const int64_t *dims,
                         const void *data, size_t nbytes, int npy)
{
    RtTensor t;
    memset(&t, 0, sizeof t);
    t.desc.dtype = dtype;
    t.desc.rank = rank;
    if (rank)
        memcpy(t.desc.dims, dims, sizeof(int64_t) * (size_t)rank);
    t.data = (void *)data;
    t.nbytes = nbytes;
    CHECK(0, npy ? rt_tensor_write_npy(path, &t) : rt_tensor_write_pb(path, &t));
}

static void test_driver(void)
{
    const float x[6] = {0, 1, 2, 3, 4, 5.5f};
    const int64_t d23[2] = {2, 3}, d32[2] = {3, 2}, d3[1] = {3}, b = 10;
    const float a[3] = {1, 7, 3};
    RtTensor t;
    char err[256];
    char x_pb[256], x_npy[256], bad_pb[256], a_pb[256], b_pb[256], out1[256], out2[256];
    char out3[256], o[300];

    snprintf(x_pb, sizeof x_pb, "%s", tmp_path("x.pb"));
    snprintf(x_npy, sizeof x_npy, "%s", tmp_path("x.npy"));
    snprintf(bad_pb, sizeof bad_pb, "%s", tmp_path("bad_x.pb"));
    snprintf(a_pb, sizeof a_pb, "%s", tmp_path("a.pb"));
    snprintf(b_pb, sizeof b_pb, "%s", tmp_path("b.npy"));
    snprintf(out1, sizeof out1, "%s", tmp_path("out1/sub"));
    snprintf(out2, sizeof out2, "%s", tmp_path("out2"));
    snprintf(out3, sizeof out3, "%s", tmp_path("out3"));
    write_tensor(x_pb, RT_F32, 2, d23, x, sizeof x, 0);
    write_tensor(x_npy, RT_F32, 2, d23, x, sizeof x, 1);
    write_tensor(bad_pb, RT_F32, 2, d32, x, sizeof x, 0);
    write_tensor(a_pb, RT_F32, 1, d3, a, sizeof a, 0);
    write_tensor(b_pb, RT_I64, 0, NULL, &b, sizeof b, 1);

    /* good input: the output file holds x + 1, named after the graph output */
    g_runs = g_inits = 0;
    {
        const char *args[] = {"model_bin", "--out", out1, x_pb, NULL};
        CHECK(0, run_main(&add1, args));
    }
    CHECK(1, g_runs);
    CHECK(1, g_inits);
    CHECK_TRUE(g_weights == NULL);
    snprintf(o, sizeof o, "%s/output_0.pb", out1);
    CHECK(0, rt_tensor_read(o, &t, err, sizeof err));
    CHECK(0, strcmp("y", t.name));
    CHECK(2, t.desc.rank);
    CHECK(3, t.desc.dims[1]);
    CHECK_TRUE(t.nbytes == 24 && ((float *)t.data)[5] == 6.5f && ((float *)t.data)[0] == 1);
    rt_tensor_free(&t);

    /* NAME=FILE, .npy in and out, --weights, --out=DIR */
    {
        char named[300], outeq[300];
        const char *args[] = {"model_bin", "--npy", "--weights", "w.bin", named, outeq, NULL};
        snprintf(named, sizeof named, "x=%s", x_npy);
        snprintf(outeq, sizeof outeq, "--out=%s", out1);
        CHECK(0, run_main(&add1, args));
        CHECK_TRUE(g_weights && !strcmp(g_weights, "w.bin"));
        snprintf(o, sizeof o, "%s/output_0.npy", out1);
        CHECK(0, rt_tensor_read(o, &t, err, sizeof err));
        CHECK_TRUE(t.nbytes == 24 && ((float *)t.data)[5] == 6.5f);
        rt_tensor_free(&t);
    }

    /* wrong shape: exit 1, one line naming the input, no output */
    {
        const char *args[] = {"model_bin", "--out", out2, bad_pb, NULL};
        g_runs = 0;
        CHECK(1, run_main(&add1, args));
        CHECK(0, g_runs);
        CHECK_STR_CONTAINS(g_err, "model_bin: input 'x' (");
        CHECK_STR_CONTAINS(g_err, "): expected float32[2,3], got float32[3,2]\n");
        CHECK(0, exists(out2));
    }
    /* the run fails: nothing written */
    {
        const char *args[] = {"model_bin", "--out", out2, x_pb, NULL};
        g_fail = RT_EDTYPE;
        CHECK(1, run_main(&add1, args));
        g_fail = 0;
        CHECK_STR_CONTAINS(g_err, "inference failed");
        CHECK(0, exists(out2));
    }
    /* missing, extra, unknown, bad values */
    {
        const char *a1[] = {"model_bin", NULL};
        const char *a2[] = {"model_bin", x_pb, x_pb, NULL};
        const char *a3[] = {"model_bin", "--fast", x_pb, NULL};
        const char *a4[] = {"model_bin", "--bench", "0", x_pb, NULL};
        const char *a5[] = {"model_bin", x_pb, "--out", NULL};
        const char *a6[] = {"model_bin", "--npy", x_pb, NULL};
        const char *a7[] = {"model_bin", "z=nothing.pb", NULL};
        const char *a8[] = {"model_bin", tmp_path("none.pb"), NULL};
        CHECK(1, run_main(&add1, a1));
        CHECK(0, strcmp("model_bin: missing input 'x' (expected float32[2,3])\n", g_err));
        CHECK(1, run_main(&add1, a2));
        CHECK_STR_CONTAINS(g_err, "too many inputs");
        CHECK(1, run_main(&add1, a3));
        CHECK_STR_CONTAINS(g_err, "unknown option '--fast'");
        CHECK(1, run_main(&add1, a4));
        CHECK_STR_CONTAINS(g_err, "--bench needs a positive number");
        CHECK(1, run_main(&add1, a5));
        CHECK_STR_CONTAINS(g_err, "--out needs a value");
        CHECK(1, run_main(&add1, a6));
        CHECK_STR_CONTAINS(g_err, "--npy needs --out");
        CHECK(1, run_main(&add1, a7));
        CHECK_STR_CONTAINS(g_err, "no input named 'z'");
        CHECK(1, run_main(&add1, a8));
        CHECK_STR_CONTAINS(g_err, "none.pb: No such file");
        CHECK_TRUE(strchr(g_err, '\n') == g_err + strlen(g_err) - 1); /* one line */
    }
    /* --bench 3: warm-up plus three timed runs */
    {
        const char *args[] = {"model_bin", "--bench", "3", x_pb, NULL};
        g_runs = 0;
        CHECK(0, run_main(&add1, args));
        CHECK(4, g_runs);
        CHECK_STR_CONTAINS(g_out, "latency: min ");
        CHECK_STR_CONTAINS(g_out, " ms over 3 runs\n");
    }
    /* --help lists the inputs and outputs */
    {
        const char *args[] = {"model_bin", "--help", NULL};
        CHECK(0, run_main(&add2, args));
        CHECK_STR_CONTAINS(g_out, "usage: model_bin");
        CHECK_STR_CONTAINS(g_out, "a  float32[3]");
        CHECK_STR_CONTAINS(g_out, "n  int64[]");
    }
    /* a sequence input is one SequenceProto file; an optional output is
     * written as an OptionalProto */
    {
        float av[3] = {1, 7, 3};
        int64_t bv = 10;
        RtTensor parts[2] = {{{RT_F32, 1, {3}}, "", av, sizeof av},
                             {{RT_I64, 0, {0}}, "", &bv, sizeof bv}};
        char seq_pb[256], out[256], path[300], layout[32];
        snprintf(seq_pb, sizeof seq_pb, "%s", tmp_path("ab_seq.pb"));
        snprintf(out, sizeof out, "%s", tmp_path("seq_out"));
        CHECK(0, rt_struct_write_pb(seq_pb, "S[TT]", parts, 2));
        const char *help[] = {"model_bin", "--help", NULL};
        CHECK(0, run_main(&seq2, help));
        CHECK_STR_CONTAINS(g_out, "ab  a sequence S[TT] (an ONNX SequenceProto file)");
        CHECK_STR_CONTAINS(g_out, "n  an optional O[T]");
        const char *args[] = {"model_bin", seq_pb, "--out", out, NULL};
        CHECK(0, run_main(&seq2, args));
        RtTensor got[2];
        int count = 0;
        snprintf(path, sizeof path, "%s/output_1.pb", out);
        CHECK(0, rt_struct_read(path, "O", got, 2, &count, layout, sizeof layout, err,
                                sizeof err));
        CHECK(1, count);
        CHECK(0, strcmp(layout, "O[T]"));
        if (count == 1) {
            CHECK(20, ((const int64_t *)got[0].data)[0]);
            rt_tensor_free(&got[0]);
        }
        /* a plain tensor file where the sequence belongs */
        const char *wrong[] = {"model_bin", a_pb, NULL};
        CHECK(1, run_main(&seq2, wrong));
        CHECK_STR_CONTAINS(g_err, "compiled for the structure S[TT]");
    }
    /* named and positional mixed; a summary without --out */
    {
        char named[300];
        const char *args[] = {"model_bin", named, a_pb, NULL};
        snprintf(named, sizeof named, "b=%s", b_pb);
        CHECK(0, run_main(&add2, args));
        CHECK_STR_CONTAINS(g_out, "s: float32[1,3] = [11, 17, 13]\n  argmax: 1 (17)\n");
        CHECK_STR_CONTAINS(g_out, "n: int64[] = [20]\n");
        CHECK_TRUE(strstr(g_out, "n: int64[] = [20]\n  argmax") == NULL);
    }
    /* both outputs written, in order */
    {
        char named[300];
        const char *args[] = {"model_bin", a_pb, named, "--out", out3, NULL};
        snprintf(named, sizeof named, "b=%s", b_pb);
        CHECK(0, run_main(&add2, args));
        snprintf(o, sizeof o, "%s/output_1.pb", out3);
        CHECK(0, rt_tensor_read(o, &t, err, sizeof err));
        CHECK(RT_I64, t.desc.dtype);
        CHECK(0, t.desc.rank);
        CHECK(20, ((int64_t *)t.data)[0]);
        rt_tensor_free(&t);
    }
    /* an input of the wrong dtype */
    {
        const char *args[] = {"model_bin", x_pb, a_pb, NULL};
        CHECK(1, run_main(&add2, args));
        CHECK_STR_CONTAINS(g_err, "expected float32[3], got float32[2,3]");
    }
}

/* Sequences and optionals: ONNX's own SequenceProto, and round trips of
 * nested structures through rt_struct_write_pb / rt_struct_read. */
static void test_structures(void)
{
    RtTensor ts[4];
    char err[256], layout[64];
    int count = -1;
    /* values from /usr/bin/python3: onnx.SequenceProto of test_identity_sequence */
    const char *p = "/usr/share/libonnx-testdata/data/node/test_identity_sequence/"
                    "test_data_set_0/input_0.pb";
    if (exists(p)) {
        CHECK(0, rt_struct_read(p, "S", ts, 4, &count, layout, sizeof layout, err, sizeof err));
        CHECK(2, count);
        CHECK(0, strcmp(layout, "S[TT]"));
        CHECK(4, ts[1].desc.rank);
        CHECK(2, ts[1].desc.dims[3]);
        CHECK_NEAR(5.0, ((const float *)ts[1].data)[3], 0);
        for (int i = 0; i < count; i++)
            rt_tensor_free(&ts[i]);
        /* read as an optional it holds two values: refused */
        CHECK(RT_EFORMAT, rt_struct_read(p, "O", ts, 4, &count, layout, sizeof layout, err,
                                         sizeof err));
        CHECK_TRUE(strstr(err, "more than one value") != NULL);
    }
    float a[3] = {1, 2, 3};
    int64_t b[2] = {-7, 9};
    RtTensor in[2] = {{{RT_F32, 1, {3}}, "", a, sizeof a}, {{RT_I64, 2, {1, 2}}, "", b, sizeof b}};
    static const char *const layouts[] = {"O[S[TT]]", "S[TT]", "S[]", "O[]", "O[T]"};
    static const char *const nests[] = {"OS", "S", "S", "O", "O"};
    static const int counts[] = {2, 2, 0, 0, 1};
    for (int k = 0; k < 5; k++) {
        const char *path = tmp_path("struct.pb");
        char nest[8];
        rt_layout_nest(layouts[k], nest, sizeof nest);
        CHECK(0, strcmp(nest, nests[k]));
        /* "S[TT]" of a float and an int64 tensor: ONNX wants one dtype per
         * sequence, but the file format itself does not care */
        CHECK(0, rt_struct_write_pb(path, layouts[k], in, counts[k]));
        CHECK(0, rt_struct_read(path, nests[k], ts, 4, &count, layout, sizeof layout, err,
                                sizeof err));
        CHECK(counts[k], count);
        CHECK(0, strcmp(layout, layouts[k]));
        for (int i = 0; i < count; i++) {
            CHECK(in[i].desc.dtype, ts[i].desc.dtype);
            CHECK(in[i].nbytes, ts[i].nbytes);
            CHECK(0, memcmp(in[i].data, ts[i].data, in[i].nbytes));
            rt_tensor_free(&ts[i]);
        }
    }
    /* a layout that does not match the tensors given is refused */
    CHECK(RT_EINVAL, rt_struct_write_pb(tmp_path("bad.pb"), "S[TT]", in, 1));
    CHECK(0, exists(tmp_path("bad.pb")));
    /* a truncated file: one line naming the file */
    write_file(tmp_path("trunc.pb"), "\x1a\x10\x08", 3);
    CHECK(RT_EFORMAT, rt_struct_read(tmp_path("trunc.pb"), "S", ts, 4, &count, layout,
                                     sizeof layout, err, sizeof err));
    CHECK_TRUE(strstr(err, "trunc.pb") != NULL);
}

int main(void)
{
    char cmd[128];
    snprintf(dir, sizeof dir, "/tmp/onnxcc_io_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trips();
    test_onnx_testdata();
    test_typed_fields();
    test_npy_files();
    test_pb_errors();
    test_driver();
    test_structures();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
    return CHECK_DONE();
}
