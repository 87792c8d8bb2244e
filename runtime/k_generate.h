/* k_generate.h: prototypes and parameter layouts of the kernels that build tensors. */
#ifndef ONNXCC_K_GENERATE_H
#define ONNXCC_K_GENERATE_H

/* OneHot: in[0] indices, in[2] = [off_value, on_value]; depth fixed by the
 * output shape, along a non-negative axis of the output. */
enum { RT_ONEHOT_AXIS, RT_ONEHOT_NINTS };
int rt_onehot(const RtCall *c, const void *const *in, void *const *out);

/* EyeLike: out is 2-D, ones on diagonal k (0 when absent). */
enum { RT_EYELIKE_K };
int rt_eyelike(const RtCall *c, const void *const *in, void *const *out);

/* Range: out[i] = start + i * delta with start = in[0], delta = in[2]
 * (scalars of out's dtype). */
int rt_range(const RtCall *c, const void *const *in, void *const *out);

#endif
