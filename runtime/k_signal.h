/* k_signal.h: prototypes and parameter layouts of the signal-processing kernels. */
#ifndef ONNXCC_K_SIGNAL_H
#define ONNXCC_K_SIGNAL_H

/* Window kinds of rt_window's RT_WINDOW_KIND. */
enum { RT_WINDOW_HANN = 0, RT_WINDOW_HAMMING = 1, RT_WINDOW_BLACKMAN = 2 };

/* HannWindow, HammingWindow, BlackmanWindow: out[0] [size] of any real
 * numeric dtype; in[0] (the size) is not read, out[0]'s shape holds it.
 * A periodic window divides by size, a symmetric one by size - 1. */
enum { RT_WINDOW_KIND, RT_WINDOW_PERIODIC, RT_WINDOW_NINTS };
int rt_window(const RtCall *c, const void *const *in, void *const *out);

/* DFT of in[0] [..., len, ..., 1 or 2] (real, or (re, im) pairs) along one
 * axis into out[0] [..., bins, ..., 2], same float dtype. Each lane is
 * truncated or zero-padded to n samples; out[0]'s axis extent says how many
 * bins are kept (n, or n / 2 + 1 when one-sided). The inverse divides by n.
 * Power-of-two lengths use an in-place radix-2 FFT (float32/float64 outputs),
 * other lengths a direct sum accumulated in double. The axis is
 * non-negative and not the last. An inverse whose out[0] has a last axis of 1
 * is numpy's irfft: in[0] holds one-sided bins, out[0] n real samples. */
enum { RT_DFT_AXIS, RT_DFT_N, RT_DFT_INVERSE, RT_DFT_NINTS };
int rt_dft(const RtCall *c, const void *const *in, void *const *out);

/* STFT of in[0] [batch, len, 1 or 2] into out[0] [batch, frames, bins, 2]:
 * frame f is the frame_length samples from f * frame_step, multiplied by the
 * window in[2] [frame_length] when present, then transformed as rt_dft does.
 * in[1] and in[3] (frame_step, frame_length) are not read: the parameters
 * hold them. */
enum { RT_STFT_FRAME_STEP, RT_STFT_FRAME_LENGTH, RT_STFT_NINTS };
int rt_stft(const RtCall *c, const void *const *in, void *const *out);

/* MelWeightMatrix: out[0] [dft_length / 2 + 1, num_mel_bins] of triangular
 * filters on the mel scale, mel(f) = 2595 log10(1 + f / 700), read from
 * sample_rate in[2], lower_edge_hertz in[3] and upper_edge_hertz in[4].
 * RT_EINVAL if an edge falls outside the spectrogram's bins. */
enum { RT_MEL_DFT_LENGTH, RT_MEL_NINTS };
int rt_mel_weight_matrix(const RtCall *c, const void *const *in, void *const *out);

#endif
