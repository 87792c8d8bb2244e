/* stats.c: onnxcc stats: parameters, weight bytes per format, FLOPs, arena and a roofline time estimate. */
#include "inspect.h"

/* The roofline bound of one node: it cannot finish before its FLOPs at the
 * measured peak nor before its bytes at the measured bandwidth, whichever
 * is later (Williams, Waterman and Patterson, "Roofline", CACM 2009). The
 * sum over nodes is a lower bound for one core: real kernels reach a share
 * of it, which --profile's table shows node by node. */
void ins_stats(const Inspect *in, FILE *f)
{
    RtPeak peak;
    rt_peak_measure(&peak);
    double ms = 0, compute_ms = 0;
    int compute_bound = 0;
    for (int i = 0; i < in->n_nodes; i++) {
        const InsNode *x = &in->nodes[i];
        if (x->step < 0)
            continue;
        double tf = peak.gflops > 0 ? x->flops / (peak.gflops * 1e6) : 0;
        double tb = peak.gbs > 0 ? x->bytes / (peak.gbs * 1e6) : 0;
        ms += tf > tb ? tf : tb;
        if (tf > tb) {
            compute_bound++;
            compute_ms += tf;
        }
    }
    fprintf(f, "model: %s\n", in->model);
    fprintf(f, "nodes: %d (%d run)\n", in->n_nodes, in->n_run);
    fprintf(f, "parameters: %lld in %lld bytes of constants\n", (long long)in->params,
            (long long)in->weight_bytes);
    fprintf(f, "%-16s %8s %14s %14s\n", "weight format", "tensors", "parameters", "bytes");
    for (int i = 0; i < in->n_formats; i++)
        fprintf(f, "%-16s %8d %14lld %14lld\n", in->formats[i].name, in->formats[i].tensors,
                (long long)in->formats[i].params, (long long)in->formats[i].bytes);
    fprintf(f, "flops: %.6f GFLOP per run\n", in->flops / 1e9);
    fprintf(f, "bytes moved: %.3f MB per run\n", in->bytes / 1e6);
    fprintf(f, "arena: %lld bytes\n", (long long)in->g->arena_bytes);
    fprintf(f, "peak: %.2f GFLOP/s fp32, %.2f GB/s read (one core, measured now)\n", peak.gflops,
            peak.gbs);
    fprintf(f, "roofline: %.4f ms per run (%d nodes compute-bound, %.4f ms of it; %d "
            "memory-bound)\n", ms, compute_bound, compute_ms, in->n_run - compute_bound);
}
