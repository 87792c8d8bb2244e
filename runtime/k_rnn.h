/* k_rnn.h: prototypes and parameter layouts of the recurrent kernels (included by onnxcc_rt.h). */
#ifndef ONNXCC_K_RNN_H
#define ONNXCC_K_RNN_H

#include <stdint.h>

/* The cell kinds; the gate count per kind is 1, 3 (z, r, h) and 4 (i, o, f, c). */
enum { RT_RNN_SIMPLE = 0, RT_RNN_GRU = 1, RT_RNN_LSTM = 2 };

/* Activation codes of the ONNX recurrent ops' `activations` attribute. */
enum {
    RT_ACT_RELU = 0,
    RT_ACT_TANH,
    RT_ACT_SIGMOID,
    RT_ACT_AFFINE,
    RT_ACT_LEAKY_RELU,
    RT_ACT_THRESHOLDED_RELU,
    RT_ACT_SCALED_TANH,
    RT_ACT_HARD_SIGMOID,
    RT_ACT_ELU,
    RT_ACT_SOFTSIGN,
    RT_ACT_SOFTPLUS
};

/* The kernel keeps its per-step state and gates on the stack: batch * hidden *
 * (2 * gates + 3) floats must not exceed this (the compiler checks it). */
#define RT_RNN_MAX_SCRATCH 32768

/* RNN, GRU, LSTM (float32). Inputs X, W, R, B, sequence_lens, initial_h and,
 * for LSTM, initial_c, P; all but X, W, R optional. Outputs Y, Y_h (, Y_c),
 * each optional. Reverse applies when num_dirs == 1; the n_act activation
 * codes from RT_RNN_ACT hold those of direction 0, then of direction 1, and
 * their alphas and betas follow the clip (<= 0: none) in the floats. */
enum { RT_RNN_KIND, RT_RNN_LAYOUT, RT_RNN_NUM_DIRS, RT_RNN_REVERSE, RT_RNN_HIDDEN,
       RT_RNN_LINEAR_BEFORE_RESET, RT_RNN_INPUT_FORGET, RT_RNN_N_ACT, RT_RNN_ACT };
#define RT_RNN_NINTS(n_act) (RT_RNN_ACT + (n_act))
enum { RT_RNN_F_CLIP, RT_RNN_F_ALPHA };
#define RT_RNN_F_BETA(n_act) (RT_RNN_F_ALPHA + (n_act))
int rt_rnn(const RtCall *c, const void *const *in, void *const *out);

#endif
