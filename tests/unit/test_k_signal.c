/* test_k_signal.c: unit tests of the signal-processing kernels on hand-checked cases. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* Runs rt_window for `size` points of dtype into y. */
static int window(int kind, int periodic, int64_t size, int dtype, void *y)
{
    RtTensorDesc in = desc(RT_I64, 0, NULL), out = desc(dtype, 1, &size);
    int64_t ints[2] = {kind, periodic};
    RtCall c = {1, 1, &in, &out, 2, 0, ints, NULL};
    const void *ip[1] = {&size};
    void *op[1] = {y};
    return rt_window(&c, ip, op);
}

static void test_windows(void)
{
    float y[5];
    /* Periodic Hann of 4: 0.5 - 0.5 cos(2 pi i / 4). */
    CHECK(RT_OK, window(RT_WINDOW_HANN, 1, 4, RT_F32, y));
    CHECK_NEAR(0.0, y[0], 1e-7);
    CHECK_NEAR(0.5, y[1], 1e-7);
    CHECK_NEAR(1.0, y[2], 1e-7);
    CHECK_NEAR(0.5, y[3], 1e-7);
    /* Symmetric Hann of 5 divides by 4: the same points plus the closing 0. */
    CHECK(RT_OK, window(RT_WINDOW_HANN, 0, 5, RT_F32, y));
    CHECK_NEAR(0.5, y[3], 1e-7);
    CHECK_NEAR(0.0, y[4], 1e-7);
    /* Hamming, a0 = 25/46: 4/46 at the edges. */
    CHECK(RT_OK, window(RT_WINDOW_HAMMING, 1, 4, RT_F32, y));
    CHECK_NEAR(4.0 / 46, y[0], 1e-7);
    CHECK_NEAR(25.0 / 46, y[1], 1e-7);
    CHECK_NEAR(1.0, y[2], 1e-7);
    /* Symmetric Blackman of 3: .42 - .5 + .08 = 0, then .42 + .5 + .08 = 1. */
    CHECK(RT_OK, window(RT_WINDOW_BLACKMAN, 0, 3, RT_F32, y));
    CHECK_NEAR(0.0, y[0], 1e-7);
    CHECK_NEAR(1.0, y[1], 1e-7);
    CHECK_NEAR(0.0, y[2], 1e-7);
    /* Periodic Blackman of 4 at i = 1: .42 - .5 cos(pi/2) + .08 cos(pi). */
    CHECK(RT_OK, window(RT_WINDOW_BLACKMAN, 1, 4, RT_F32, y));
    CHECK_NEAR(0.34, y[1], 1e-7);
    /* A symmetric window of one point is [1], not 0/0. */
    CHECK(RT_OK, window(RT_WINDOW_HANN, 0, 1, RT_F32, y));
    CHECK_NEAR(1.0, y[0], 0);
    /* Integer outputs truncate: only the peak of 1 survives. */
    int32_t yi[4];
    CHECK(RT_OK, window(RT_WINDOW_HANN, 1, 4, RT_I32, yi));
    CHECK(0, yi[1]);
    CHECK(1, yi[2]);
    CHECK(RT_EINVAL, window(7, 1, 4, RT_F32, y));
}

/* rt_dft on a [1, len, ch] float64 tensor along axis 1 with n points,
 * keeping nout bins. */
static int dft(const double *x, int64_t len, int64_t ch, int64_t n, int64_t nout, int inverse,
               double *y)
{
    int64_t xd[3] = {1, len, ch}, yd[3] = {1, nout, 2};
    RtTensorDesc in = desc(RT_F64, 3, xd), out = desc(RT_F64, 3, yd);
    int64_t ints[3] = {1, n, inverse};
    RtCall c = {1, 1, &in, &out, 3, 0, ints, NULL};
    const void *ip[1] = {x};
    void *op[1] = {y};
    return rt_dft(&c, ip, op);
}

/* The textbook sum, as the reference the FFT paths must agree with. */
static void naive_dft(const double *x, int64_t n, int cplx, int inverse, double *y)
{
    for (int64_t k = 0; k < n; k++) {
        double re = 0, im = 0;
        for (int64_t j = 0; j < n; j++) {
            double a = (inverse ? 2 : -2) * 3.14159265358979323846 * (double)(j * k) / (double)n;
            double xr = x[cplx ? 2 * j : j], xi = cplx ? x[2 * j + 1] : 0;
            re += xr * cos(a) - xi * sin(a);
            im += xr * sin(a) + xi * cos(a);
        }
        y[2 * k] = inverse ? re / (double)n : re;
        y[2 * k + 1] = inverse ? im / (double)n : im;
    }
}

static void test_dft_small(void)
{
    /* DFT of [1, 2, 3, 4]: [10, -2+2i, -2, -2-2i], by the full FFT... */
    double x[4] = {1, 2, 3, 4}, y[16];
    double want[8] = {10, 0, -2, 2, -2, 0, -2, -2};
    CHECK(RT_OK, dft(x, 4, 1, 4, 4, 0, y));
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(want[i], y[i], 1e-12);
    /* ...and one-sided by the half-length real FFT: bins 0..2. */
    memset(y, 0, sizeof y);
    CHECK(RT_OK, dft(x, 4, 1, 4, 3, 0, y));
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(want[i], y[i], 1e-12);
    /* The inverse brings the spectrum back (a complex input). */
    double back[8];
    CHECK(RT_OK, dft(want, 4, 2, 4, 4, 1, back));
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(x[i], back[2 * i], 1e-12);
        CHECK_NEAR(0.0, back[2 * i + 1], 1e-12);
    }
    /* dft_length 3 truncates to [1, 2, 3] (the direct sum):
     * [6, -1.5 + (sqrt 3)/2 i, -1.5 - (sqrt 3)/2 i]. */
    CHECK(RT_OK, dft(x, 4, 1, 3, 3, 0, y));
    CHECK_NEAR(6.0, y[0], 1e-12);
    CHECK_NEAR(-1.5, y[2], 1e-12);
    CHECK_NEAR(sqrt(3.0) / 2, y[3], 1e-12);
    CHECK_NEAR(-sqrt(3.0) / 2, y[5], 1e-12);
    /* dft_length 8 zero-pads: bin 2 is 1 - 3 + (4 - 2) i, bin 4 is 1 - 2 + 3 - 4. */
    CHECK(RT_OK, dft(x, 4, 1, 8, 8, 0, y));
    CHECK_NEAR(-2.0, y[4], 1e-12);
    CHECK_NEAR(2.0, y[5], 1e-12);
    CHECK_NEAR(-2.0, y[8], 1e-12);
    CHECK_NEAR(0.0, y[9], 1e-12);
    CHECK(RT_EINVAL, dft(x, 4, 1, 3, 4, 0, y)); /* more bins than points */
}

/* Each path (full FFT, real half-length FFT, direct sum of a non-power of
 * two) against the textbook sum on an irregular signal. */
static void test_dft_paths(void)
{
    double x[2 * 16], y[2 * 16], ref[2 * 16];
    for (int i = 0; i < 32; i++)
        x[i] = sin(0.7 * i * i) + 0.25 * i;
    naive_dft(x, 16, 1, 0, ref);
    CHECK(RT_OK, dft(x, 16, 2, 16, 16, 0, y));
    for (int i = 0; i < 32; i++)
        CHECK_NEAR(ref[i], y[i], 1e-10);
    naive_dft(x, 16, 1, 1, ref);
    CHECK(RT_OK, dft(x, 16, 2, 16, 16, 1, y));
    for (int i = 0; i < 32; i++)
        CHECK_NEAR(ref[i], y[i], 1e-10);
    naive_dft(x, 16, 0, 0, ref);
    CHECK(RT_OK, dft(x, 16, 1, 16, 9, 0, y));
    for (int i = 0; i < 18; i++)
        CHECK_NEAR(ref[i], y[i], 1e-10);
    naive_dft(x, 12, 1, 0, ref);
    CHECK(RT_OK, dft(x, 12, 2, 12, 12, 0, y));
    for (int i = 0; i < 24; i++)
        CHECK_NEAR(ref[i], y[i], 1e-10);
    /* A direct sum longer than the 32-sample twiddle refresh. */
    double z[100], zy[200], zref[200];
    for (int i = 0; i < 100; i++)
        z[i] = cos(0.3 * i) + 0.01 * i;
    naive_dft(z, 100, 0, 0, zref);
    CHECK(RT_OK, dft(z, 100, 1, 100, 100, 0, zy));
    for (int i = 0; i < 200; i++)
        CHECK_NEAR(zref[i], zy[i], 1e-9);
}

/* The transform runs along axis 1 of [1, 4, 2, 1]: two interleaved lanes. */
static void test_dft_axis(void)
{
    float x[8] = {1, 0, 2, 1, 3, 0, 4, 1}, y[16];
    int64_t xd[4] = {1, 4, 2, 1}, yd[4] = {1, 4, 2, 2};
    RtTensorDesc in = desc(RT_F32, 4, xd), out = desc(RT_F32, 4, yd);
    int64_t ints[3] = {1, 4, 0};
    RtCall c = {1, 1, &in, &out, 3, 0, ints, NULL};
    const void *ip[1] = {x};
    void *op[1] = {y};
    CHECK(RT_OK, rt_dft(&c, ip, op));
    /* Lane 0 is [1, 2, 3, 4]; lane 1 is [0, 1, 0, 1]: [2, 0, -2, 0]. */
    CHECK_NEAR(10.0, y[0], 1e-5);
    CHECK_NEAR(2.0, y[2], 1e-5);
    CHECK_NEAR(-2.0, y[4], 1e-5);
    CHECK_NEAR(2.0, y[5], 1e-5);
    CHECK_NEAR(-2.0, y[10], 1e-5);
    CHECK_NEAR(0.0, y[14], 1e-5);
}

static void test_stft(void)
{
    /* [1..6], frames of 4 every 2 samples, one-sided: 2 frames of 3 bins. */
    float x[6] = {1, 2, 3, 4, 5, 6}, w[4] = {1, 0, 1, 0}, y[12];
    int64_t step = 2, len = 4;
    int64_t xd[3] = {1, 6, 1}, wd[1] = {4}, yd[4] = {1, 2, 3, 2};
    RtTensorDesc in[4] = {desc(RT_F32, 3, xd), desc(RT_I64, 0, NULL), desc(RT_UNDEF, 0, NULL),
                          desc(RT_I64, 0, NULL)};
    RtTensorDesc out = desc(RT_F32, 4, yd);
    int64_t ints[2] = {2, 4};
    RtCall c = {4, 1, in, &out, 2, 0, ints, NULL};
    const void *ip[4] = {x, &step, NULL, &len};
    void *op[1] = {y};
    CHECK(RT_OK, rt_stft(&c, ip, op));
    /* [1, 2, 3, 4] -> [10, -2+2i, -2]; [3, 4, 5, 6] -> [18, -2+2i, -2]. */
    float want[12] = {10, 0, -2, 2, -2, 0, 18, 0, -2, 2, -2, 0};
    for (int i = 0; i < 12; i++)
        CHECK_NEAR(want[i], y[i], 1e-5);
    /* Window [1, 0, 1, 0]: frame 0 is [1, 0, 3, 0] -> [4, -2, 4]. */
    in[2] = desc(RT_F32, 1, wd);
    ip[2] = w;
    CHECK(RT_OK, rt_stft(&c, ip, op));
    CHECK_NEAR(4.0, y[0], 1e-5);
    CHECK_NEAR(-2.0, y[2], 1e-5);
    CHECK_NEAR(0.0, y[3], 1e-5);
    CHECK_NEAR(4.0, y[4], 1e-5);
    /* Frame 1 is [3, 0, 5, 0] -> [8, -2, 8]. */
    CHECK_NEAR(8.0, y[6], 1e-5);
    CHECK_NEAR(-2.0, y[8], 1e-5);
}

static int mel(int64_t nmel, int64_t dft_len, int32_t rate, float low, float high, float *y)
{
    int64_t yd[2] = {dft_len / 2 + 1, nmel};
    RtTensorDesc in[5] = {desc(RT_I32, 0, NULL), desc(RT_I32, 0, NULL), desc(RT_I32, 0, NULL),
                          desc(RT_F32, 0, NULL), desc(RT_F32, 0, NULL)};
    RtTensorDesc out = desc(RT_F32, 2, yd);
    int64_t ints[1] = {dft_len};
    int32_t nm = (int32_t)nmel, dl = (int32_t)dft_len;
    RtCall c = {5, 1, in, &out, 1, 0, ints, NULL};
    const void *ip[5] = {&nm, &dl, &rate, &low, &high};
    void *op[1] = {y};
    return rt_mel_weight_matrix(&c, ip, op);
}

static void test_mel(void)
{
    /* ONNX's documented example: 8 mel bins of a 16-point DFT at 8192 Hz
     * over [0, 4096]: the mel points land on bins 0 0 1 1 2 3 4 5 6 7, so
     * each filter is a single 1 (two per row in the first two rows). */
    float y[9 * 8];
    CHECK(RT_OK, mel(8, 16, 8192, 0.0f, 4096.0f, y));
    int ones[9][8] = {{1, 1}, {0, 0, 1, 1}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 1},
                      {0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1}};
    for (int r = 0; r < 9; r++)
        for (int m = 0; m < 8; m++)
            CHECK_NEAR(ones[r][m], y[r * 8 + m], 0);
    /* Two filters of a 64-point DFT at 64 Hz up to 64 Hz (twice Nyquist):
     * the mel points fall on bins 0, 15, 31, 48, past the 33 rows. */
    float z[33 * 2];
    CHECK(RT_EINVAL, mel(2, 64, 64, 0.0f, 64.0f, z));
    /* Up to Nyquist: mel(32 Hz) = 50.4 in steps of 12.6 mel, i.e. 0, 7.9,
     * 15.8, 23.9 Hz, times 65/64: bins 0, 7, 16, 24. Filter 0 rises over
     * bins 0..7 and falls over 7..16; filter 1 peaks at 16 and ends at 24. */
    CHECK(RT_OK, mel(2, 64, 64, 0.0f, 32.0f, z));
    CHECK_NEAR(0.0, z[0 * 2], 0);
    CHECK_NEAR(1.0 / 7, z[1 * 2], 1e-6);
    CHECK_NEAR(1.0, z[7 * 2], 0);
    CHECK_NEAR(1.0 / 9, z[15 * 2], 1e-6);
    CHECK_NEAR(0.0, z[16 * 2], 0);
    CHECK_NEAR(0.0, z[7 * 2 + 1], 0);
    CHECK_NEAR(1.0 / 9, z[8 * 2 + 1], 1e-6);
    CHECK_NEAR(1.0, z[16 * 2 + 1], 0);
    CHECK_NEAR(1.0 / 8, z[23 * 2 + 1], 1e-6);
    CHECK_NEAR(0.0, z[24 * 2 + 1], 0);
}

/* irfft (an inverse whose output has a last axis of 1): the one-sided bins
 * of a real signal, from naive_dft, give the signal back, for an even and
 * an odd length; the imaginary parts of bin 0 and of the even length's bin
 * n/2, which no real signal has, are ignored as numpy's irfft ignores them.
 * Tolerance 1e-12: everything is float64, n <= 10. */
static void test_irfft(void)
{
    for (int64_t n = 7; n <= 10; n += 3) {
        double x[10], full[20], y[10];
        for (int64_t j = 0; j < n; j++)
            x[j] = (double)((j * 5 + 3) % 7) - 2.5;
        naive_dft(x, n, 0, 0, full);
        int64_t bins = n / 2 + 1;
        full[1] = 99;                 /* bin 0's imaginary part */
        if (n % 2 == 0)
            full[2 * (n / 2) + 1] = -7; /* bin n/2's */
        int64_t xd[3] = {1, bins, 2}, yd[3] = {1, n, 1};
        RtTensorDesc in = desc(RT_F64, 3, xd), out = desc(RT_F64, 3, yd);
        int64_t ints[3] = {1, n, 1};
        RtCall c = {1, 1, &in, &out, 3, 0, ints, NULL};
        const void *ip[1] = {full};
        void *op[1] = {y};
        CHECK(RT_OK, rt_dft(&c, ip, op));
        for (int64_t j = 0; j < n; j++)
            CHECK_NEAR(x[j], y[j], 1e-12);
        /* a real output is only the inverse's */
        ints[2] = 0;
        CHECK(RT_EINVAL, rt_dft(&c, ip, op));
    }
}

int main(void)
{
    test_windows();
    test_dft_small();
    test_dft_paths();
    test_dft_axis();
    test_irfft();
    test_stft();
    test_mel();
    return CHECK_DONE();
}
