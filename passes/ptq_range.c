/* ptq_range.c: calibrated activation ranges: min/max, a percentile of |x|, the KL threshold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

void calib_range_init(CalibRange *r)
{
    memset(r, 0, sizeof *r);
    r->lo = INFINITY;
    r->hi = -INFINITY;
}

void calib_range_free(CalibRange *r)
{
    free(r->hist);
    r->hist = NULL;
}

void calib_range_minmax(CalibRange *r, const float *x, int64_t n)
{
    double lo = r->lo, hi = r->hi;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        if (!isfinite(v))
            continue; /* an overflow in one sample must not make every scale infinite */
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    r->lo = lo;
    r->hi = hi;
}

double calib_range_amax(const CalibRange *r)
{
    if (!(r->lo <= r->hi))
        return 0;
    return fabs(r->lo) > fabs(r->hi) ? fabs(r->lo) : fabs(r->hi);
}

int calib_range_hist(CalibRange *r, const float *x, int64_t n)
{
    if (!r->hist && !(r->hist = calloc(CALIB_BINS, sizeof *r->hist)))
        return -1;
    double amax = calib_range_amax(r);
    if (amax <= 0)
        return 0;
    double per = CALIB_BINS / amax;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs((double)x[i]);
        if (!isfinite(v))
            continue;
        int64_t b = (int64_t)(v * per);
        r->hist[b < CALIB_BINS ? b : CALIB_BINS - 1] += 1;
    }
    return 0;
}

int calib_percentile_bins(const double *hist, int nbins, double percentile)
{
    double total = 0, run = 0;
    for (int i = 0; i < nbins; i++)
        total += hist[i];
    if (total <= 0)
        return nbins;
    double want = total * percentile / 100.0;
    for (int i = 0; i < nbins; i++) {
        run += hist[i];
        if (run >= want)
            return i + 1;
    }
    return nbins;
}

/* MXNet's and ONNX Runtime's smooth_distribution, on counts: every empty
 * bin gets eps, taken evenly from the others, so KL(P || Q) stays finite
 * where Q has a hole P does not. 0 if there is nothing to take it from. */
static int smooth(double *h, int n)
{
    const double eps = 1e-4;
    int zeros = 0;
    double least = INFINITY;
    for (int i = 0; i < n; i++) {
        zeros += h[i] == 0;
        if (h[i] != 0 && h[i] < least)
            least = h[i];
    }
    if (zeros == n)
        return 0;
    double take = eps * zeros / (n - zeros);
    if (take >= least)
        return 0;
    for (int i = 0; i < n; i++)
        h[i] += h[i] == 0 ? eps : -take;
    return 1;
}

/* KL(P || Q) of two smoothed, unnormalized distributions over n bins. */
static double kl(const double *p, const double *q, int n)
{
    double sp = 0, sq = 0, out = 0;
    for (int i = 0; i < n; i++) {
        sp += p[i];
        sq += q[i];
    }
    for (int i = 0; i < n; i++)
        out += p[i] / sp * log((p[i] / sp) / (q[i] / sq));
    return out;
}

/* The threshold search of TensorRT's entropy calibration (Migacz, "8-bit
 * Inference with TensorRT", GTC 2017): for each candidate cut i, P is the
 * histogram's first i bins with every count beyond folded into bin i-1; Q is
 * those i bins merged into nq levels and spread back evenly over the bins
 * that were not empty; the cut with the smallest KL(P || Q) wins. */
int calib_entropy_bins(const double *hist, int nbins, int nq)
{
    if (nq >= nbins)
        return nbins;
    double *p = malloc(sizeof *p * (size_t)nbins), *q = malloc(sizeof *q * (size_t)nbins);
    IR_ASSERT(p && q);
    double tail = 0;
    for (int i = nq; i < nbins; i++)
        tail += hist[i];
    int best = nbins;
    double best_kl = INFINITY;
    for (int i = nq; i <= nbins; i++) {
        memcpy(p, hist, sizeof *p * (size_t)i);
        p[i - 1] += tail; /* tail: the counts of bins i.. */
        for (int l = 0; l < nq; l++) {
            int a = (int)((int64_t)l * i / nq), b = (int)((int64_t)(l + 1) * i / nq);
            double sum = 0;
            int nz = 0;
            for (int j = a; j < b; j++) {
                sum += hist[j];
                nz += hist[j] != 0;
            }
            for (int j = a; j < b; j++)
                q[j] = hist[j] != 0 ? sum / nz : 0;
        }
        double k = smooth(p, i) && smooth(q, i) ? kl(p, q, i) : INFINITY;
        if (k < best_kl) {
            best_kl = k;
            best = i;
        }
        if (i < nbins)
            tail -= hist[i];
    }
    free(p);
    free(q);
    return best;
}

void calib_range_pick(const CalibRange *r, CalibMethod m, double percentile, double *lo,
                      double *hi)
{
    *lo = r->lo <= r->hi ? r->lo : 0;
    *hi = r->lo <= r->hi ? r->hi : 0;
    double amax = calib_range_amax(r);
    if (m == CM_MINMAX || !r->hist || amax <= 0)
        return;
    /* A one-sided tensor (after Relu) spends all 256 uint8 levels on
     * [0, t]; a signed one about half of them on each side. */
    int bins = m == CM_PERCENTILE ? calib_percentile_bins(r->hist, CALIB_BINS, percentile)
                                  : calib_entropy_bins(r->hist, CALIB_BINS, *lo >= 0 ? 255 : 128);
    double t = amax * bins / CALIB_BINS;
    *lo = *lo < -t ? -t : *lo;
    *hi = *hi > t ? t : *hi;
}

void quant_u8_params(double lo, double hi, float *scale, uint8_t *zero)
{
    /* 0 must be exactly representable: zero padding and Relu's floor stay exact */
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    float s = (float)((hi - lo) / 255.0);
    if (!(s > 0) || !isfinite(s))
        s = 1.0f;
    double z = nearbyint(-lo / s);
    *scale = s;
    *zero = (uint8_t)(z < 0 ? 0 : z > 255 ? 255 : z);
}
