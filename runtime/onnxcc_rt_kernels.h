/* onnxcc_rt_kernels.h: the kernel prototypes, one header per op family. */
#ifndef ONNXCC_RT_KERNELS_H
#define ONNXCC_RT_KERNELS_H

#include "k_elementwise.h"
#include "k_nn.h"
#include "k_movement.h"
#include "k_generate.h"
#include "k_scan.h"
#include "k_loss.h"
#include "k_rnn.h"
#include "k_misc.h"
#include "k_quant.h"
#include "k_wq.h"
#include "k_hadamard.h"
#include "k_signal.h"
#include "k_text.h"
#include "k_dynamic.h"
#include "k_loop.h"
#include "k_string.h"
#include "k_ml.h"
#include "k_transformer.h"

#endif
