/* ir.h: the internal header of onnxcc's compiler: IR types, op table, graph API. */
#ifndef ONNXCC_IR_H
#define ONNXCC_IR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../runtime/onnxcc_rt.h"

#define ONNXCC_VERSION "0.1.0"

#define IR_MAX_RANK RT_MAX_RANK
#define IR_MAX_INTS 128  /* kernel integer parameters per node */
#define IR_MAX_FLOATS 16 /* kernel float parameters per node */

typedef struct Graph Graph;
typedef struct Node Node;
typedef struct Value Value;

/* A broken invariant of onnxcc itself (never bad input): report and abort. */
#define IR_ASSERT(c) ((c) ? (void)0 : ir_assert_fail(#c, __FILE__, __LINE__))
void ir_assert_fail(const char *cond, const char *file, int line);

/* ---- diagnostics (ir/diag.c) ----
 * Bad input is reported here, never by exit(): the first error is kept as
 * one line "<file>: <what and where>". */
typedef struct Diag {
    const char *file;  /* the model path, prefixed to every message */
    char msg[1024];    /* the first error reported */
    int n_errors;      /* how many were reported */
    char need_const[128]; /* a graph input whose value decides a shape (ir_err_not_const) */
} Diag;

int ir_error(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<file>: node 'NAME' (OpType): <message>"; returns -1 for `return ir_node_error(...)`. */
int ir_node_error(Diag *d, const Node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- attributes ---- */
typedef enum AttrType {  /* ONNX AttributeProto.AttributeType numbers */
    AT_UNDEF = 0,
    AT_FLOAT = 1,
    AT_INT = 2,
    AT_STRING = 3,
    AT_TENSOR = 4,
    AT_GRAPH = 5,
    AT_FLOATS = 6,
    AT_INTS = 7,
    AT_STRINGS = 8,
    AT_TENSORS = 9,
    AT_GRAPHS = 10,
    AT_SPARSE_TENSOR = 11,
    AT_SPARSE_TENSORS = 12,
    AT_TYPE_PROTO = 13,
    AT_TYPE_PROTOS = 14
} AttrType;

/* A constant tensor held by an attribute (Constant's value, a TENSOR attr). */
typedef struct Tensor {
    int32_t dtype;               /* RtDType */
    int32_t rank;
    int64_t dims[IR_MAX_RANK];
    void *data;                  /* dense, row-major; arena-owned */
    size_t nbytes;
} Tensor;

typedef struct Attr {
    const char *name;
    AttrType type;
    int64_t i;                   /* AT_INT */
    float f;                     /* AT_FLOAT */
    const char *s;               /* AT_STRING (NUL-terminated; s_len bytes) */
    size_t s_len;
    int n;                       /* element count of a list attr */
    int64_t *ints;               /* AT_INTS */
    float *floats;               /* AT_FLOATS */
    const char **strings;        /* AT_STRINGS */
    Tensor *t;                   /* AT_TENSOR (AT_TENSORS: t[0..n)) */
    Graph *g;                    /* AT_GRAPH */
    Graph **gs;                  /* AT_GRAPHS: gs[0..n) */
    AttrType wanted;             /* set by a getter that wanted another type; see
                                  * ir_attr_check */
} Attr;

/* ---- values, nodes, graphs ---- */
/* One input slot of a node, linked into the use list of the value it reads.
 * Only the live nodes of the graph that owns the value are on its list (an
 * outer-scope read from a subgraph is not), which is what passes ask about. */
typedef struct Use {
    Node *node;                  /* the reader */
    int idx;                     /* which of its inputs */
    Value *val;                  /* the list this slot is on; NULL: none */
    struct Use *prev, *next;     /* the value's other uses */
} Use;

struct Value {
    const char *name;
    int32_t dtype;               /* RtDType; RT_UNDEF until inferred */
    int32_t rank;                /* -1 while unknown */
    int64_t dims[IR_MAX_RANK];   /* -1 for a dim not yet bound */
    const char *dim_param[IR_MAX_RANK]; /* symbolic name of a free dim, or NULL */
    void *data;                  /* contents when known at compile time */
    Node *producer;              /* NULL for inputs and constants */
    int is_input;                /* a graph input the caller provides */
    int is_output;               /* a graph output */
    int is_initializer;          /* came from an ONNX initializer */
    int64_t offset;              /* arena byte offset from the planner; -1 if none */
    int live_first, live_last;   /* pass_plan: steps (among nodes that run) its buffer is
                                  * alive, inclusive; -1 outside the arena */
    int id;                      /* index in Graph.values */
    /* A sequence or optional is resolved at compile time into the tensors it
     * holds (ir/ops/sequence.c); dtype is then the element dtype. */
    int kind;                    /* VK_TENSOR, VK_SEQUENCE or VK_OPTIONAL */
    int n_elems;                 /* its length (0/1 for an optional); -1 until resolved */
    Value **elems;               /* its elements, any kind */
    const char *nest;            /* declared nesting of a structured graph input: "S",
                                  * "O", "OS" (optional sequence)... */
    int dyn;                     /* dims[dyn_axis] is an upper bound; the real extent is known
                                    only at run time (NonZero, Unique, NonMaxSuppression) */
    int dyn_axis;
    Value *dyn_len;              /* int64 scalar holding that extent: the producer's last output */
    int is_extent;               /* this value is such an extent (see ir_set_out_dyn) */
    /* Run-time dims (--dim NAME=LO..HI): bit k set means dims[k] is only the
     * upper bound and the actual extent is known when the model runs. rt_lo
     * and rt_mid are the extents with every run-time dim of the inputs at its
     * low bound and at its midpoint: two probes of the shape functions that
     * tell which dims vary (ir/rtdims.c). */
    uint32_t rt_mask;
    int64_t rt_lo[IR_MAX_RANK], rt_mid[IR_MAX_RANK];
    /* A small integer tensor computed at run time from run-time dims
     * (Shape's output, and Gather/Concat/arithmetic of it): its values at
     * the bounds and at the two probes; NULL for the rest. */
    void *rt_data[3];
    uint64_t rt_taint;           /* with rt_data: bit e, element e varies with them */
    /* With rt_mask: the most elements the value holds at run time, below
     * the product of its bounds when an op keeps or shrinks its input's
     * count (Reshape of n elements to rank 3 holds n, not n^3); 0: that
     * product. The planner sizes its buffer for it (ir_nbytes). */
    int64_t rt_cap;
    /* Its run-time extents are decided by a value known only when the model
     * runs (Reshape's shape as a graph input...): rt_lo and rt_mid say
     * nothing, every axis may vary within its bound. */
    int rt_opaque;
    int is_pool;                 /* bytes that strings elsewhere point into: kept to the end */
    Use *uses;                   /* its readers, newest first; edited only by ir_set_input & co. */
    int n_uses;
};

enum { VK_TENSOR, VK_SEQUENCE, VK_OPTIONAL };

/* An op implementation: a row of the op table. */
typedef int (*OpInfer)(Graph *g, Node *n, Diag *d);

struct Node {
    const char *name;            /* ONNX node name (may be synthesized) */
    const char *op_type;         /* ONNX op_type as written */
    const char *domain;          /* "" for the default domain */
    int op;                      /* OpKind, or OP_UNKNOWN */
    int64_t opset;               /* version of its domain the model imports */
    int n_in, n_out;
    Value **in;                  /* in[i] NULL for an omitted optional input; written only
                                  * through ir_set_input, which keeps the use lists */
    Use *slots;                  /* slots[i] puts input i on in[i]'s use list */
    Value **out;                 /* out[i] NULL for an omitted optional output */
    int n_attrs;
    Attr *attrs;
    int n_ints, n_floats;        /* kernel parameters, set by the op's infer */
    int64_t ints[IR_MAX_INTS];
    float floats[IR_MAX_FLOATS];
    int dead;                    /* removed by a pass; skipped everywhere */
    int64_t iter;                /* a Loop being unrolled: iterations already peeled */
    Value **scan_parts;          /* ... and their scan outputs, iter per scan output */
    Value **loop_init;           /* ... and its inputs before the first, kept in case it
                                  * turns into a run-time loop (ir/ops/control.c) */
    const char *fused_from;      /* ONNX names of the nodes a fusion folded into this one,
                                  * comma-separated, oldest first; NULL: none (inspect) */
};

typedef struct OpsetImport {
    const char *domain;
    int64_t version;
} OpsetImport;

typedef struct ArenaBlock ArenaBlock;

/* ---- limits (ir/limits.c): what a model may ask for; --limit NAME=N ---- */
enum {
    LIM_MODEL_BYTES,             /* the .onnx file */
    LIM_TENSOR_BYTES,            /* one tensor */
    LIM_TENSOR_ELEMS,
    LIM_RANK,                    /* at most IR_MAX_RANK */
    LIM_NODES,                   /* nodes of one graph, loops unrolled */
    LIM_DEPTH,                   /* subgraphs nested */
    LIM_ARENA_BYTES,             /* the planned arena */
    LIM_WEIGHT_BYTES,            /* all constants */
    LIM_LOOP_ITERS,              /* iterations of a run-time Loop (--loop-max) */
    LIM_RT_ELEMS,                /* a tensor grown by values read at run time (--max-elements) */
    LIM_COUNT
};
typedef struct IrLimits {
    int64_t v[LIM_COUNT];        /* indexed by LIM_* */
} IrLimits;
void ir_limits_default(IrLimits *l);
const char *ir_limit_name(int which);
/* Applies "NAME=N"; -1 with a message in err. */
int ir_limit_parse(IrLimits *l, const char *arg, char *err, size_t err_len);
/* One line per limit: name, default, meaning (for --help). */
void ir_limits_help(FILE *f);
/* The product of dims (0 if any is 0); -1 if a dim is negative or it overflows int64. */
int ir_numel_checked(int rank, const int64_t *dims, int64_t *out);
/* numel * esize; -1 if it overflows int64. */
int ir_bytes_checked(int64_t numel, size_t esize, int64_t *out);
/* The bytes of numel elements of dtype (packed for 4- and 2-bit types); -1 on overflow. */
int ir_dtype_bytes_checked(int dtype, int64_t numel, int64_t *out);
/* 0 if a tensor of this type fits the limits; else -1 and why ("would take N
 * bytes, above the limit of M (--limit tensor-bytes=N raises it)"). */
int ir_check_tensor(const IrLimits *l, int dtype, int rank, const int64_t *dims, char *why,
                    size_t why_len);

/* One ONNX graph input or output as the caller sees it: a tensor, or a
 * sequence/optional flattened into `count` consecutive tensors of the graph's
 * inputs/outputs. layout spells the structure: "T" a tensor, "S[TT]" a
 * sequence of two, "O[]" an empty optional, "O[S[T]]"... */
typedef struct IoGroup {
    const char *name;
    const char *layout;
    int first, count;
    int32_t dtype;               /* element dtype, for an empty sequence */
} IoGroup;

struct Graph {
    ArenaBlock *mem;             /* every allocation of the graph (and subgraphs) */
    const char *name;
    const char *path;            /* model file, for diagnostics and external data */
    Node **nodes;                /* in topological order */
    int n_nodes, cap_nodes;
    Value **values;
    int n_values, cap_values;
    Value **inputs;              /* graph inputs in order (initializers excluded) */
    int n_inputs;
    Value **outputs;
    int n_outputs;
    OpsetImport opsets[16];
    int n_opsets;
    Graph *parent;               /* enclosing graph of a subgraph, else NULL */
    int64_t ir_version;
    const char *producer_name;
    int64_t arena_bytes;         /* set by pass_plan: scratch bytes one run needs */
    IoGroup *in_groups, *out_groups; /* the ONNX-level inputs/outputs; NULL: one tensor each */
    int n_in_groups, n_out_groups;
    int64_t max_string_bytes;    /* longest string a kernel may make at run time; 0: default */
    IrLimits limits;             /* a subgraph copies its parent's */
    int64_t const_bytes;         /* constants decoded so far (root graph), for LIM_WEIGHT_BYTES */
    int depth;                   /* subgraph nesting: 0 for the model's graph */
};

/* --max-string-bytes when not given: the bound on a string whose length is
 * only known at run time (StringNormalizer's results). */
#define IR_MAX_STRING_BYTES 256

/* ---- the op table (ir/optable.c, ir/ops.def) ---- */
enum {
    OP_UNKNOWN = -1,
#define OP(id, domain, name, infer, kernel) OP_##id,
#include "ops.def"
#undef OP
    OP_COUNT
};

typedef struct OpInfo {
    const char *name;            /* ONNX op_type */
    const char *domain;          /* "" for ai.onnx */
    OpInfer infer;               /* shapes, dtypes and kernel parameters */
    RtKernel kernel;             /* NULL: outputs are always compile-time constants */
    const char *kernel_name;     /* the kernel's C name, for emitters */
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];
int ir_op_lookup(const char *domain, const char *op_type);

/* ir/opset.c: the newest default-domain opset whose semantics onnxcc implements */
#define IR_OPSET_MAX 28
/* The first opset of domain in which op_type exists (1 when not recorded). */
int ir_op_since(const char *domain, const char *op_type);
/* The newest opset of domain onnxcc knows; -1 for a domain it does not know. */
int ir_opset_max(const char *domain);

#define OP(id, domain, name, infer, kernel) int infer(Graph *g, Node *n, Diag *d);
#include "ops.def"
#undef OP

/* ---- graph API (ir/graph.c) ---- */
Graph *ir_graph_new(Graph *parent);
void ir_graph_free(Graph *g);
void *ir_alloc(Graph *g, size_t n);                 /* zeroed; NULL only past the size cap */
char *ir_strdup(Graph *g, const char *s);
Value *ir_value_new(Graph *g, const char *name);   /* name NULL: synthesized */
Node *ir_node_new(Graph *g, const char *op_type, const char *domain, const char *name,
                  int n_in, int n_out);
Value *ir_value_find(Graph *g, const char *name);  /* linear; frontends keep their own map */
int ir_value_owned(const Graph *g, const Value *v); /* v is one of g's values (not an outer one) */
/* Node n of g reads v (NULL: omitted) as input i, on v's use list. */
void ir_set_input(Graph *g, Node *n, int i, Value *v);
/* n gets count inputs: new ones are omitted, dropped ones leave their use lists. */
void ir_set_n_in(Graph *g, Node *n, int count);
/* Every reader of from, a value of g, reads to instead. */
void ir_replace_uses(Graph *g, Value *from, Value *to);
/* Marks n dead and takes it off its inputs' use lists. */
void ir_node_kill(Node *n);
int64_t ir_opset(const Graph *g, const char *domain); /* 0 if not imported */

/* -1 if the shape is unknown; INT64_MAX if the count overflows (never wraps) */
int64_t ir_numel(const Value *v);
/* The most elements v holds when the model runs: ir_numel, or its rt_cap. */
int64_t ir_max_numel(const Value *v);
size_t ir_nbytes(const Value *v);                   /* of ir_max_numel; saturates at SIZE_MAX */
void ir_desc(const Value *v, RtTensorDesc *t);      /* zeroed desc for NULL */
int ir_shape_known(const Value *v);
/* A node runs only if some output is not a compile-time constant. */
int ir_node_is_constant(const Node *n);
/* ir/cost.c: one execution of a node, for --profile: floating-point ops (a
 * multiply-add is 2; 0 for pure data movement) and bytes read and written. */
double ir_node_flops(const Node *n);
double ir_node_bytes(const Node *n);
void *ir_value_alloc_data(Graph *g, Value *v);      /* zeroed, sized by v's type */
/* Input i, or NULL when the node has fewer inputs or it is omitted. */
static inline const Value *ir_input(const Node *n, int i)
{
    return i < n->n_in ? n->in[i] : NULL;
}
/* Sets output i's type; returns 0. */
int ir_set_out(Node *n, int i, int dtype, int rank, const int64_t *dims);
/* Appends a new output value to n (name NULL: synthesized) and returns it. */
Value *ir_node_add_output(Graph *g, Node *n, const char *name);
/* Sets output i's type with a data-dependent extent along axis: dims[axis]
 * is its upper bound. The actual extent is an int64 scalar the kernel writes
 * into the node's last output, created here on first use (even when output
 * i is omitted, so the kernel always finds it) and shared by all of the
 * node's dynamic outputs. Returns 0. */
int ir_set_out_dyn(Graph *g, Node *n, int i, int dtype, int rank, const int64_t *dims, int axis);
/* kernel parameters, written in slot order; the slots are the kernel's enum
 * in runtime/k_*.h */
void ir_param_int(Node *n, int slot, int64_t v);
void ir_param_ints(Node *n, int slot, const int64_t *v, int count);
void ir_param_float(Node *n, int slot, float v);
/* NumPy broadcasting of two shapes; -1 if incompatible. */
int ir_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *r, int64_t *out);
/* Reads a constant integer tensor (any int dtype); count, or -1 if not constant
 * or larger than max. */
int ir_const_ints(const Value *v, int64_t *out, int max);
/* Names in d->need_const the graph input v is computed from, so that drv_prepare
 * compiles that input's sample in and tries again; 0 if v comes from none. */
int ir_need_input(Diag *d, const Value *v);
/* The error for an input that decides a shape but is not known at compile time. */
int ir_err_not_const(Diag *d, const Node *n, int i);
/* Reads a constant scalar as double; 0 if constant, -1 otherwise. */
int ir_const_scalar(const Value *v, double *out);
/* A Clip node's bounds (attributes before opset 11, constant inputs after;
 * absent: -inf, inf); -1 if a bound is not known at compile time. */
int ir_clip_bounds(const Node *n, float *lo, float *hi);

/* attribute getters (return def when absent). One present with another type
 * than the getter reads is marked (Attr.wanted) and gives def; pass_shape
 * then reports it with ir_attr_check, whatever the op's infer made of it. */
const Attr *ir_attr(const Node *n, const char *name);
int64_t ir_attr_int(const Node *n, const char *name, int64_t def);
float ir_attr_float(const Node *n, const char *name, float def);
const char *ir_attr_str(const Node *n, const char *name, const char *def);
/* copies up to max ints; returns the count, or -1 if absent */
int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max);
int ir_attr_floats(const Node *n, const char *name, float *out, int max);
/* -1 with "attribute 'strides' is FLOATS, expected INTS" if a getter marked one. */
int ir_attr_check(const Node *n, Diag *d);
const char *ir_attr_type_name(int type);

/* Turns negative axis a into a non-negative one for rank r; -1 if out of range. */
int ir_axis(int64_t a, int r);

/* ---- rewriting (ir/rewrite.c): lowering replaces a node by nodes placed
 * right after it, which keeps the schedule topological ---- */
/* Moves the nodes created since g->n_nodes was `mark` to just after `after`. */
void ir_place_after(Graph *g, const Node *after, int mark);
/* ... to just before `before` (pass_shape then visits them first). */
void ir_place_before(Graph *g, const Node *before, int mark);
/* A new node of g with the given inputs and a fresh output (or `out` itself
 * when not NULL, which the node then produces). */
Node *ir_add_node(Graph *g, const char *op_type, int64_t opset, const char *name, int n_in,
                  Value *const *in, Value *out);
/* A fusion folds gone into into: into->fused_from gains gone's name and what
 * gone had absorbed, so inspection can say where a fused node came from. */
void ir_node_absorb(Graph *g, Node *into, const Node *gone);
/* Appends an attribute to n (its name copied into g; what it points to
 * must live as long as g). */
void ir_add_attr(Graph *g, Node *n, Attr a);
void ir_set_attr_int(Graph *g, Node *n, const char *name, int64_t v);
void ir_set_attr_float(Graph *g, Node *n, const char *name, float v);
/* Marks the Where that selects an If's output: its branches must agree in shape. */
#define IR_ATTR_IF_SELECT "onnxcc.if_select"
Value *ir_const_bool(Graph *g, int v);
/* A constant int64 tensor (rank 0 when rank is 0). */
Value *ir_const_i64(Graph *g, const int64_t *vals, int rank, const int64_t *dims);
/* Copies subgraph sub's nodes into g. in_map[i] stands for sub's input i;
 * out_map[i] receives what stands for sub's output i. prefix names the copies. */
int ir_inline_graph(Graph *g, const Graph *sub, Value *const *in_map, Value **out_map,
                    const char *prefix, Diag *d);
/* ir/ops/loop_region.c: Loop n (input i of the first visit: init[i]) as a
 * loop at run time: LoopBegin, its body once, LoopEnd, in n's place. */
int ir_loop_at_run_time(Graph *g, Node *n, const Graph *body, Value *const *init, Diag *d);
/* Sequence and optional ops: whether op reads such values (ir/ops/sequence.c). */
int ir_op_takes_structures(int op);
/* out stands for what v holds: the same kind, dtype and elements. */
void ir_alias_structure(Value *out, const Value *v);
/* ir/io_groups.c: a structured graph output becomes its tensors (at the end
 * of pass_shape); a structured graph input is replaced by the tensors of a
 * sample with the given layout. */
int ir_flatten_outputs(Graph *g, Diag *d);
int ir_expand_input(Graph *g, const char *name, const char *layout, const RtTensor *ts,
                    int count, Diag *d);
/* Reads group gi's file into its tensors of flat (the graph's inputs or
 * outputs in order); writes output group gi from flat. */
int ir_read_group(const Graph *g, int is_out, int gi, const char *file, RtTensor *flat, Diag *d);
int ir_write_group(const Graph *g, int gi, const RtTensor *flat, const char *path, int npy,
                   Diag *d);
int ir_n_groups(const Graph *g, int is_out);
/* Group k of g's inputs or outputs (one per tensor when g has none). */
IoGroup ir_io_group(const Graph *g, int is_out, int k);
/* ---- string ops (ir/ops/string.c) ---- */
/* Cast and CastLike with a string side: ir_infer_cast hands these over. */
int ir_infer_cast_string(Graph *g, Node *n, int to, Diag *d);
/* ir/ops/narrow.c: Cast and CastLike with a narrow side (float8, float4,
 * e8m0, 4- and 2-bit ints); which ops take narrow types at all. */
int ir_infer_cast_narrow(Graph *g, Node *n, int to, Diag *d);
/* 0 if node n's inputs (outputs: after infer) of narrow types are ones it
 * implements; else a diagnostic naming op, node and type. */
int ir_check_narrow(const Node *n, int outputs, Diag *d);

/* ---- printer and verifier (ir/print.c, ir/verify.c) ---- */
void ir_print(const Graph *g, FILE *f);
int ir_verify(const Graph *g, Diag *d);

/* ---- run-time guards (ir/guard.c) ---- */
/* When node k needs to run: every literal holds, in order, where a literal
 * is "the bool scalar cond[i] is when[i]". n == 0: always. */
#define IR_MAX_GUARD 8
typedef struct IrGuard {
    int n;
    const Value *cond[IR_MAX_GUARD];
    unsigned char when[IR_MAX_GUARD];
} IrGuard;
/* One guard per node of g (by schedule index), from the Wheres that pick
 * If outputs on a run-time condition; the caller frees the array. */
IrGuard *ir_guards(const Graph *g);

/* ---- interpreter (ir/interp.c) ---- */
/* Runs node n's kernel on its inputs' compile-time data and stores the
 * outputs' data. Requires every present input to have data. */
int ir_eval_node(Graph *g, Node *n, Diag *d);
/* Runs the whole graph on the given inputs (graph-input order); fills outputs
 * (malloc'ed data; the caller frees them with rt_tensor_free, even on failure). */
int ir_run(Graph *g, const RtTensor *inputs, RtTensor *outputs, Diag *d);
/* ir_run that also shows every value a node computes (but one whose extent
 * is known only at run time) to obs, right after its node ran: calibration. */
typedef void (*IrObserver)(void *ctx, const Value *v, const void *data);
int ir_run_observe(Graph *g, const RtTensor *inputs, RtTensor *outputs, Diag *d,
                   IrObserver obs, void *obs_ctx);

/* ---- run-time dims (ir/rtdims.c) ---- */
/* The shape function of n's op when it takes run-time extents (name: its C
 * name, for emitters); NULL when it does not. */
RtShapeFn ir_rt_shape_fn(const Node *n, const char **name);
int ir_node_has_rt(const Node *n);   /* an input has run-time dims */
/* Sets the run-time mask and probes of n's outputs from its inputs'; a clear
 * error when n's op takes no run-time extents. */
int ir_rt_node(Graph *g, Node *n, Diag *d);
/* ir_rt_node over the whole graph (after passes that made new values). */
int ir_rt_propagate(Graph *g, Diag *d);
/* Evaluates a node over run-time values (Value.rt_data) under each probe. */
int ir_rt_values(Graph *g, Node *n, Diag *d);
/* The inputs of n whose values decide its output shape and that n reads
 * when it runs (Reshape's shape, Slice's starts...): bit i for input i. */
uint32_t ir_rt_value_inputs(const Node *n);
/* n's output grows with a value read when it runs (Expand's shape, Tile's
 * repeats, ConstantOfShape, Range...): nothing bounds it but --max-elements
 * (LIM_RT_ELEMS), its cap. */
int ir_rt_grows(const Node *n);
/* Sets such an output j: every axis bounded by --max-elements. */
int ir_rt_grown_out(const Graph *g, Node *n, int j, int dtype, int rank, Diag *d);
/* v is a value that decides a shape and is known only when the model runs
 * (a graph input, or computed from one): neither constant nor probed. */
int ir_rt_unknown(const Value *v);
/* Some value of g has run-time dims: the generated code keeps extents. */
int ir_graph_has_rt(const Graph *g);

/* ---- binding free dims and inputs (ir/bind.c) ---- */
typedef struct Binding {
    const char *name;            /* an input name (shape/const) or a dim_param (dim) */
    int kind;                    /* BIND_SHAPE, BIND_DIM, BIND_CONST */
    int rank;
    int64_t dims[IR_MAX_RANK];   /* BIND_SHAPE */
    int64_t value;               /* BIND_DIM: the value, or the upper bound of LO..HI */
    int64_t lo;                  /* BIND_DIM: LO of LO..HI (a run-time dim); value if fixed */
    const char *dim_name[IR_MAX_RANK]; /* BIND_SHAPE: a named dim (bound by --dim), or NULL */
    const char *file;            /* BIND_CONST: a tensor file */
} Binding;
enum { BIND_SHAPE, BIND_DIM, BIND_CONST };
int ir_bind(Graph *g, const Binding *b, int n, Diag *d);

#endif
