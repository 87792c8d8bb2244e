/* k_loop.h: prototypes and parameter layout of a run-time Loop's two markers, LoopBegin and LoopEnd. */
#ifndef ONNXCC_K_LOOP_H
#define ONNXCC_K_LOOP_H

/* A Loop whose trip count or condition is known only at run time is one
 * region of the node schedule: LoopBegin, the body's nodes (compiled once),
 * LoopEnd. The generated code (and the interpreter) runs the region again
 * while LoopEnd leaves `go` set. The loop's state is LoopBegin's outputs:
 * out[0] the iteration number (int64 scalar), out[1] the condition (bool),
 * out[2 .. 2+N) the N loop-carried values as the body reads them, out[2+N]
 * `go` (bool: run the body once more). The body writes its results to its
 * own buffers; LoopEnd copies them over the state. Neither uses scratch
 * memory beyond the planned stage buffer. */
enum {
    RT_LOOP_N_CARRIED,           /* N */
    RT_LOOP_N_SCAN,              /* S: scan outputs (LoopEnd) */
    RT_LOOP_BOUND,               /* at most this many iterations (--loop-max) */
    RT_LOOP_EXTENT,              /* 1: LoopEnd's last output is the trip count */
    RT_LOOP_NINTS
};

/* in[0] M (int64 scalar; NULL: no trip count), in[1] the initial condition
 * (bool scalar; NULL: true), in[2 .. 2+N) the initial loop-carried values.
 * Writes the state (see above); iteration 0 runs if 0 < M and the condition
 * holds. */
int rt_loop_begin(const RtCall *c, const void *const *in, void *const *out);

/* After one iteration of the body. in[0] M, in[1] the body's condition,
 * in[2 .. 2+N) its loop-carried results, in[2+N .. 2+N+S) its scan values,
 * in[2+N+S .. 5+2N+S) LoopBegin's N+3 state outputs, updated in place.
 * out[0 .. N) the final loop-carried values, out[N .. N+S) the scan outputs
 * (axis 0 is the iteration; planned for the bound), out[N+S] a stage buffer
 * (bytes of all N carried values; NULL when N < 2) for results that overlap
 * another carried value's state, then the trip count when RT_LOOP_EXTENT.
 * If `go` is clear on entry (the loop ran zero times) only the outputs are
 * written. Returns RT_EBOUND when one more iteration is due past the bound. */
int rt_loop_end(const RtCall *c, const void *const *in, void *const *out);

#endif
