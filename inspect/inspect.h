/* inspect.h: onnxcc inspect and stats: one walk over the compiled graph, written as text, JSON, DOT or HTML. */
#ifndef ONNXCC_INSPECT_H
#define ONNXCC_INSPECT_H

#include <stdio.h>

#include "ir/ir.h"

/* ---- what each pass changed (inspect/diff.c) ---- */
enum { INS_REMOVED, INS_ADDED, INS_FUSED, INS_REWRITTEN, INS_NKINDS };

typedef struct InsChange {
    int kind;                    /* INS_REMOVED ... */
    const char *name;            /* the node's ONNX name */
    const char *op;              /* its op_type (after the pass; before it for INS_REMOVED) */
    const char *detail;          /* FUSED: the names it absorbed in this pass, comma-separated;
                                  * REWRITTEN: the op_type it had; else NULL */
} InsChange;

typedef struct InsPassDiff {
    const char *pass;            /* the pass name */
    int changes;                 /* what the pass returned */
    int n_before, n_after;       /* live nodes around it */
    int count[INS_NKINDS];       /* changes of each kind */
    InsChange *ch;               /* removed, added, fused and rewritten nodes */
    int n_ch;
} InsPassDiff;

typedef struct InsSnap InsSnap;  /* the live nodes after the last pass seen */

typedef struct InsDiff {
    InsPassDiff *passes;         /* in the order they ran */
    int n_passes, cap_passes;
    InsSnap *prev;
    int n_prev;
} InsDiff;

/* A PassCtx.after_pass hook: arg is an InsDiff (zeroed before the pipeline). */
void ins_diff_after_pass(void *arg, const Graph *g, const char *pass, int changes);
void ins_diff_free(InsDiff *d);
/* The diff as text: one line per pass, then one per changed node. */
void ins_diff_print(const InsDiff *d, FILE *f);
extern const char *const ins_change_names[INS_NKINDS]; /* "removed", "added"... */

/* ---- the walk (inspect/walk.c) ---- */
typedef struct InsNode {
    const Node *n;               /* the IR node (live) */
    int step;                    /* its step in the memory plan; -1: constant, never runs */
    double flops, bytes;         /* one execution (ir/cost.c) */
    int64_t weight_bytes;        /* its constant inputs (weights, biases, packed codes) */
    int64_t params;              /* their elements (for packed codes: the weights they hold) */
    char wformat[32];            /* "float32", "int4 g128"...: its largest constant input */
    int *from;                   /* per input: the index of its producer in Inspect.nodes,
                                  * -1 for a graph input, a constant or an omitted one */
} InsNode;

#define INS_MAX_FORMATS 32
typedef struct InsFormat {
    char name[32];               /* as InsNode.wformat */
    int tensors;                 /* distinct constants of it */
    int64_t params, bytes;
} InsFormat;

typedef struct Inspect {
    const Graph *g;
    const char *model;           /* the model path */
    InsNode *nodes;              /* the live nodes, in schedule order */
    int n_nodes;
    int n_run;                   /* of them, those that run */
    double flops, bytes;         /* summed over the nodes that run */
    int64_t params, weight_bytes; /* every constant a running node reads, once each */
    InsFormat formats[INS_MAX_FORMATS];
    int n_formats;
    const InsDiff *diff;         /* --diff; NULL: none */
} Inspect;

/* Gathers what every format shows; free with ins_free. */
void ins_walk(const Graph *g, const char *model, const InsDiff *diff, Inspect *in);
void ins_free(Inspect *in);
/* "float32[1,16,64]" (a run-time dim as LO..HI) into buf. */
void ins_type(const Value *v, char *buf, size_t len);

/* ---- the formats (one file each) ---- */
void ins_text(const Inspect *in, FILE *f);   /* inspect/text.c */
void ins_json(const Inspect *in, FILE *f);   /* inspect/json.c */
void ins_dot(const Inspect *in, FILE *f);    /* inspect/dot.c */
void ins_html(const Inspect *in, FILE *f);   /* inspect/html.c */
/* JSON string literal of s, '<' escaped so it may sit inside an HTML script. */
void ins_json_str(const char *s, FILE *f);

/* ---- onnxcc stats (inspect/stats.c) ---- */
/* Parameters, bytes per weight format, FLOPs, arena and the roofline time
 * on this machine (measured peak FLOP/s and bandwidth). */
void ins_stats(const Inspect *in, FILE *f);

#endif
