/* k_signal.c: signal-processing kernels: window functions, DFT, STFT, mel filter banks. */
#include <math.h>

#include "rt_internal.h"

static const double two_pi = 6.283185307179586476925286766559;

/* Generalized cosine windows (Harris, "On the use of windows for harmonic
 * analysis with the discrete Fourier transform", 1978), with the
 * coefficients ONNX names: Hamming uses a0 = 25/46, Blackman .42/.5/.08. */
int rt_window(const RtCall *c, const void *const *in, void *const *out)
{
    (void)in;
    if (c->n_ints < RT_WINDOW_NINTS || c->out[0].rank != 1)
        return RT_EINVAL;
    int kind = (int)c->ints[RT_WINDOW_KIND], dt = c->out[0].dtype;
    if (kind < RT_WINDOW_HANN || kind > RT_WINDOW_BLACKMAN)
        return RT_EINVAL;
    if (!rt_dtype_size(dt) || dt == RT_BOOL || dt == RT_STRING)
        return RT_EDTYPE;
    int64_t size = c->out[0].dims[0];
    int64_t den = c->ints[RT_WINDOW_PERIODIC] ? size : size - 1;
    double a0 = kind == RT_WINDOW_HAMMING ? 25.0 / 46.0 : kind == RT_WINDOW_HANN ? 0.5 : 0.42;
    double a1 = kind == RT_WINDOW_BLACKMAN ? 0.5 : 1.0 - a0;
    double a2 = kind == RT_WINDOW_BLACKMAN ? 0.08 : 0.0;
    for (int64_t i = 0; i < size; i++) {
        /* A symmetric window of one point has no period (0/0); it is [1],
         * as in NumPy and PyTorch. */
        double t = den > 0 ? two_pi * (double)i / (double)den : 0.0;
        double w = den > 0 ? a0 - a1 * cos(t) + a2 * cos(2.0 * t) : 1.0;
        rt_store_f64(out[0], dt, i, w);
    }
    return RT_OK;
}

/* ---- one-dimensional transforms over strided lanes ---- */

/* Where a lane's samples come from: item j is at p[off + j * step] (and its
 * imaginary part right after it when cplx); items from len on are zero
 * padding; win (same dtype, or NULL) multiplies item j. */
typedef struct Src {
    const void *p;       /* tensor data */
    int dt;              /* its dtype */
    int64_t off, step;   /* element offset of item 0, elements between items */
    int cplx;            /* 1: (re, im) pairs; 0: real samples */
    int64_t len;         /* items present; the rest are zeros */
    const void *win;     /* window to multiply by, or NULL */
} Src;

/* Where a lane's complex results go: item k is (p[off + k*step], p[off + k*step + 1]). */
typedef struct Dst {
    void *p;
    int dt;
    int64_t off, step;
} Dst;


static void src_get(const Src *s, int64_t j, double *re, double *im)
{
    *re = *im = 0.0;
    if (j >= s->len)
        return;
    int64_t at = s->off + j * s->step;
    *re = rt_load_f64_fast(s->p, s->dt, at);
    if (s->cplx)
        *im = rt_load_f64_fast(s->p, s->dt, at + 1);
    if (s->win) {
        double w = rt_load_f64_fast(s->win, s->dt, j);
        *re *= w;
        *im *= w;
    }
}

static void dst_get(const Dst *d, int64_t k, double *re, double *im)
{
    *re = rt_load_f64_fast(d->p, d->dt, d->off + k * d->step);
    *im = rt_load_f64_fast(d->p, d->dt, d->off + k * d->step + 1);
}

static void dst_set(const Dst *d, int64_t k, double re, double im)
{
    rt_store_f64_fast(d->p, d->dt, d->off + k * d->step, re);
    rt_store_f64_fast(d->p, d->dt, d->off + k * d->step + 1, im);
}

static int is_pow2(int64_t n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

/* j with its log2(n) low bits reversed. */
static int64_t bit_reverse(int64_t j, int64_t n)
{
    int64_t r = 0;
    for (int64_t b = 1; b < n; b <<= 1) {
        r = (r << 1) | (j & 1);
        j >>= 1;
    }
    return r;
}

/* Iterative radix-2 butterflies over d's first n items, which hold the input
 * in bit-reversed order (Cooley and Tukey, 1965); sign -1 forward, +1 inverse.
 * Each twiddle is computed once per stage, so a lane costs n - 1 sin/cos. */
static void fft_inplace(const Dst *d, int64_t n, int sign)
{
    for (int64_t len = 2; len <= n; len <<= 1) {
        int64_t half = len / 2;
        for (int64_t k = 0; k < half; k++) {
            double a = sign * two_pi * (double)k / (double)len;
            double wr = cos(a), wi = sin(a);
            for (int64_t b = 0; b < n; b += len) {
                double ur, ui, vr, vi;
                dst_get(d, b + k, &ur, &ui);
                dst_get(d, b + k + half, &vr, &vi);
                double tr = vr * wr - vi * wi, ti = vr * wi + vi * wr;
                dst_set(d, b + k, ur + tr, ui + ti);
                dst_set(d, b + k + half, ur - tr, ui - ti);
            }
        }
    }
}

/* Every bin of a power-of-two transform, computed in the output lane itself. */
static void fft_full(const Src *s, int64_t n, const Dst *d, int inverse)
{
    for (int64_t j = 0; j < n; j++) {
        double re, im;
        src_get(s, j, &re, &im);
        dst_set(d, bit_reverse(j, n), re, im);
    }
    fft_inplace(d, n, inverse ? 1 : -1);
    if (inverse)
        for (int64_t k = 0; k < n; k++) {
            double re, im;
            dst_get(d, k, &re, &im);
            dst_set(d, k, re / (double)n, im / (double)n);
        }
}

/* Bins 0..n/2 of a real forward transform of power-of-two length n >= 4, in
 * the n/2 + 1 items of the output lane: the even and odd samples become one
 * complex sequence of length m = n/2, z = e + i o, whose transform Z gives
 * E[k] = (Z[k] + conj Z[m-k]) / 2 and O[k] = (Z[k] - conj Z[m-k]) / 2i; then
 * X[k] = E[k] + W^k O[k] and X[m-k] = conj(E[k] - W^k O[k]), W = e^(-2 pi i/n). */
static void rfft_half(const Src *s, int64_t n, const Dst *d)
{
    int64_t m = n / 2;
    for (int64_t j = 0; j < m; j++) {
        double e, o, unused;
        src_get(s, 2 * j, &e, &unused);
        src_get(s, 2 * j + 1, &o, &unused);
        dst_set(d, bit_reverse(j, m), e, o);
    }
    fft_inplace(d, m, -1);
    double z0r, z0i;
    dst_get(d, 0, &z0r, &z0i);
    dst_set(d, 0, z0r + z0i, 0.0);
    dst_set(d, m, z0r - z0i, 0.0);
    for (int64_t k = 1; k <= m - k; k++) {
        double ar, ai, br, bi;
        dst_get(d, k, &ar, &ai);
        dst_get(d, m - k, &br, &bi);
        double er = (ar + br) / 2, ei = (ai - bi) / 2;
        double dr = ar - br, di = ai + bi;        /* Z[k] - conj Z[m-k] */
        double or_ = di / 2, oi = -dr / 2;        /* divided by 2i */
        double a = -two_pi * (double)k / (double)n;
        double wr = cos(a), wi = sin(a);
        double tr = or_ * wr - oi * wi, ti = or_ * wi + oi * wr;
        dst_set(d, k, er + tr, ei + ti);
        dst_set(d, m - k, er - tr, -(ei - ti));
    }
}

/* The first nout bins of a length-n transform of any length, summed in
 * double. The twiddle e^(i a j k) advances by one complex product per
 * sample and is recomputed exactly every 32 samples, which bounds its drift. */
static void dft_direct(const Src *s, int64_t n, const Dst *d, int64_t nout, int inverse)
{
    double sign = inverse ? 1.0 : -1.0;
    int64_t used = s->len < n ? s->len : n;
    for (int64_t k = 0; k < nout; k++) {
        double step = sign * two_pi * (double)k / (double)n;
        double sr = cos(step), si = sin(step), wr = 1.0, wi = 0.0, accr = 0.0, acci = 0.0;
        for (int64_t j = 0; j < used; j++) {
            if (j % 32 == 0) {
                double a = sign * two_pi * (double)((j * k) % n) / (double)n;
                wr = cos(a);
                wi = sin(a);
            }
            double xr, xi;
            src_get(s, j, &xr, &xi);
            accr += xr * wr - xi * wi;
            acci += xr * wi + xi * wr;
            double t = wr * sr - wi * si;
            wi = wr * si + wi * sr;
            wr = t;
        }
        if (inverse) {
            accr /= (double)n;
            acci /= (double)n;
        }
        dst_set(d, k, accr, acci);
    }
}

/* One lane: the FFT paths work in the output's own storage, so they need a
 * float32/float64 output (float16 would round every stage) and no scratch. */
static void dft_lane(const Src *s, int64_t n, const Dst *d, int64_t nout, int inverse)
{
    int fast = (d->dt == RT_F32 || d->dt == RT_F64) && is_pow2(n);
    if (fast && nout == n)
        fft_full(s, n, d, inverse);
    else if (fast && !inverse && !s->cplx && n >= 4 && nout == n / 2 + 1)
        rfft_half(s, n, d);
    else
        dft_direct(s, n, d, nout, inverse);
}

/* The real signal of length n whose spectrum has the s->len one-sided bins
 * of s (numpy's irfft): bins past n/2 are the conjugates of bins n - k, and
 * the imaginary parts of bin 0 and, for even n, bin n/2 drop out of the
 * real part. Summed directly in double into the real output items
 * p[off + t * step]. */
static void irfft_direct(const Src *s, int64_t n, void *p, int dt, int64_t off, int64_t step)
{
    int64_t nb = s->len < n / 2 + 1 ? s->len : n / 2 + 1;
    for (int64_t t = 0; t < n; t++) {
        double acc = 0.0;
        for (int64_t k = 0; k < n; k++) {
            double xr, xi;
            if (k < nb) {
                src_get(s, k, &xr, &xi);
            } else if (n - k < nb) {
                src_get(s, n - k, &xr, &xi);
                xi = -xi;
            } else {
                continue;
            }
            double a = two_pi * (double)((k * t) % n) / (double)n;
            acc += xr * cos(a) - xi * sin(a);
        }
        rt_store_f64_fast(p, dt, off + t * step, acc / (double)n);
    }
}

int rt_dft(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    if (c->n_ints < RT_DFT_NINTS)
        return RT_EINVAL;
    int r = x->rank, axis = (int)c->ints[RT_DFT_AXIS], inverse = (int)c->ints[RT_DFT_INVERSE];
    int64_t n = c->ints[RT_DFT_N];
    /* a last output axis of 1: the inverse of a one-sided spectrum (irfft) */
    int real_out = inverse && y->rank == r && r >= 2 && y->dims[r - 1] == 1;
    if (r < 2 || axis < 0 || axis > r - 2 || n < 1 || y->rank != r ||
        (y->dims[r - 1] != 2 && !real_out))
        return RT_EINVAL;
    int64_t ch = x->dims[r - 1];
    if (ch != 1 && ch != 2)
        return RT_EINVAL;
    if (!rt_is_float(x->dtype) || y->dtype != x->dtype)
        return RT_EDTYPE;
    int64_t outer = 1, inner = 1, len = x->dims[axis], nout = y->dims[axis];
    if (nout > n)
        return RT_EINVAL;
    for (int a = 0; a < axis; a++)
        outer *= x->dims[a];
    for (int a = axis + 1; a < r - 1; a++)
        inner *= x->dims[a];
    if (real_out) {
        if (nout != n)
            return RT_EINVAL;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                Src s = {in[0], x->dtype, (o * len * inner + i) * ch, inner * ch, ch == 2, len,
                         NULL};
                irfft_direct(&s, n, out[0], y->dtype, o * n * inner + i, inner);
            }
        return RT_OK;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            Src s = {in[0], x->dtype, (o * len * inner + i) * ch, inner * ch, ch == 2, len,
                     NULL};
            Dst d = {out[0], y->dtype, (o * nout * inner + i) * 2, inner * 2};
            dft_lane(&s, n, &d, nout, inverse);
        }
    return RT_OK;
}

int rt_stft(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *x = &c->in[0], *y = &c->out[0];
    if (c->n_ints < RT_STFT_NINTS || x->rank != 3 || y->rank != 4 || y->dims[3] != 2)
        return RT_EINVAL;
    int64_t hop = c->ints[RT_STFT_FRAME_STEP], n = c->ints[RT_STFT_FRAME_LENGTH];
    int64_t ch = x->dims[2];
    int64_t batch = x->dims[0], len = x->dims[1], frames = y->dims[1], bins = y->dims[2];
    if (hop < 1 || n < 1 || (ch != 1 && ch != 2) || bins > n || y->dims[0] != batch ||
        (frames > 0 && (frames - 1) * hop + n > len))
        return RT_EINVAL;
    if (!rt_is_float(x->dtype) || y->dtype != x->dtype)
        return RT_EDTYPE;
    const void *win = c->n_in > 2 && in[2] ? in[2] : NULL;
    if (win && (c->in[2].dtype != x->dtype || rt_numel(&c->in[2]) != n))
        return RT_EINVAL;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t f = 0; f < frames; f++) {
            Src s = {in[0], x->dtype, (b * len + f * hop) * ch, ch, ch == 2, n, win};
            Dst d = {out[0], y->dtype, (b * frames + f) * bins * 2, 2};
            dft_lane(&s, n, &d, bins, 0);
        }
    return RT_OK;
}

/* ---- mel filter banks ---- */

static double hz_to_mel(double hz)
{
    return 2595.0 * log10(1.0 + hz / 700.0);
}

static double mel_to_hz(double mel)
{
    return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
}

/* Spectrogram bin of the i-th of the num_mel_bins + 2 equally spaced mel
 * points. ONNX spaces them by (high - low) / (num_mel_bins + 2), so the last
 * point stays below upper_edge_hertz, and maps hertz to a bin as
 * (dft_length + 1) * hz // sample_rate. That floor division is NumPy's, which
 * goes through fmod: floor(a / b) alone can round a quotient just below an
 * integer up to it and pick the next bin. */
static int64_t mel_bin(int64_t i, double low, double step, int64_t dft_len, double rate)
{
    double a = (double)(dft_len + 1) * mel_to_hz(low + (double)i * step);
    double mod = fmod(a, rate);
    double q = (a - mod) / rate;
    if (mod < 0)
        q -= 1.0;
    double f = floor(q);
    return (int64_t)(q - f > 0.5 ? f + 1.0 : f);
}

int rt_mel_weight_matrix(const RtCall *c, const void *const *in, void *const *out)
{
    const RtTensorDesc *y = &c->out[0];
    if (c->n_ints < RT_MEL_NINTS || c->n_in < 5 || y->rank != 2)
        return RT_EINVAL;
    int dt = y->dtype;
    if (!rt_dtype_size(dt) || dt == RT_BOOL || dt == RT_STRING)
        return RT_EDTYPE;
    int64_t dft_len = c->ints[RT_MEL_DFT_LENGTH], nbins = y->dims[0], nmel = y->dims[1];
    double rate = rt_load_f64(in[2], c->in[2].dtype, 0);
    double low = hz_to_mel(rt_load_f64(in[3], c->in[3].dtype, 0));
    double high = hz_to_mel(rt_load_f64(in[4], c->in[4].dtype, 0));
    if (!(rate > 0) || nbins != dft_len / 2 + 1)
        return RT_EINVAL;
    double step = (high - low) / (double)(nmel + 2);
    /* Every point indexes a row except the last, which only bounds the
     * last triangle's falling edge. */
    for (int64_t i = 0; i < nmel + 2; i++) {
        int64_t b = mel_bin(i, low, step, dft_len, rate);
        if (b < 0 || b > nbins || (b == nbins && i < nmel + 1))
            return RT_EINVAL;
    }
    for (int64_t i = 0; i < nbins * nmel; i++)
        rt_store_f64(out[0], dt, i, 0.0);
    for (int64_t m = 0; m < nmel; m++) {
        int64_t left = mel_bin(m, low, step, dft_len, rate);
        int64_t center = mel_bin(m + 1, low, step, dft_len, rate);
        int64_t right = mel_bin(m + 2, low, step, dft_len, rate);
        /* Rising edge up to the peak of 1 at center (just the peak when the
         * triangle's left half is empty), then the falling edge; where they
         * meet at center the falling edge's 1 wins, as in ONNX's reference. */
        if (center == left)
            rt_store_f64(out[0], dt, center * nmel + m, 1.0);
        for (int64_t j = left; j <= center && center > left; j++)
            rt_store_f64(out[0], dt, j * nmel + m,
                         (double)(j - left) / (double)(center - left));
        for (int64_t j = center; j < right; j++)
            rt_store_f64(out[0], dt, j * nmel + m,
                         (double)(right - j) / (double)(right - center));
    }
    return RT_OK;
}
