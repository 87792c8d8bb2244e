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
 * each optional.
 * ints [kind, layout, num_dirs, reverse, hidden, linear_before_reset,
 *       input_forget, n_act, act[n_act]]: reverse applies when num_dirs == 1;
 *       act[] holds the activations of direction 0, then of direction 1.
 * floats [clip (<= 0: none), alpha[n_act], beta[n_act]]. */
int rt_rnn(const RtCall *c, const void *const *in, void *const *out);

#endif
