/* emit_c.c: the C99 emitter: NAME.h (the API) and NAME.c (one call per node into the runtime). */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

typedef struct Ctx {
    const Graph *g;
    const CgOptions *o;
    const WeightsLayout *w;
    int mode;                    /* WEIGHTS_C, WEIGHTS_OBJ or WEIGHTS_FILE */
    char name[64];               /* C prefix */
    char NAME[64];               /* macro prefix */
    int *slot;                   /* per value id: offset of its run-time extents in S, or -1 */
    int n_slots;                 /* int64 entries of S */
} Ctx;

/* The C expression for where value v lives at run time. */
static void value_ptr(const Ctx *c, const Value *v, char *buf, size_t len)
{
    int k;
    if (!v)
        snprintf(buf, len, "NULL");
    else if ((k = cg_input_index(c->g, v)) >= 0)
        snprintf(buf, len, "in[%d]", k);
    else if ((k = cg_output_index(c->g, v)) >= 0 && !v->data)
        snprintf(buf, len, "out[%d]", k);
    else if (v->data && (c->mode == WEIGHTS_C || v->dtype == RT_STRING))
        snprintf(buf, len, "%s_w%d", c->name, v->id);
    else if (v->data)
        snprintf(buf, len, "(W + %lld)", (long long)c->w->offset[v->id]);
    else
        snprintf(buf, len, "(A + %lld)", (long long)v->offset);
}

static void emit_desc(Emitter *e, const Value *v)
{
    RtTensorDesc t;
    ir_desc(v, &t);
    emitf(e, "{%s, %d, {", cg_dtype_enum(t.dtype), t.rank);
    for (int i = 0; i < t.rank; i++)
        emitf(e, "%s%lld", i ? ", " : "", (long long)t.dims[i]);
    emitf(e, "%s}}", t.rank ? "" : "0");
}


static int runs(const Node *n)
{
    return !n->dead && !ir_node_is_constant(n);
}

/* The constant parameter block of node k, printed from what its infer set. */
static void emit_call_desc(Emitter *e, const Node *n, int k)
{
    char t1[CG_TEXT], t2[CG_TEXT];
    emitf(e, "/* node '%s' (%s) */\n", cg_comment(t1, sizeof t1, n->name),
          cg_comment(t2, sizeof t2, n->op_type));
    emitf(e, "static const RtTensorDesc n%d_in[%d] = {", k, n->n_in ? n->n_in : 1);
    for (int i = 0; i < n->n_in; i++) {
        emitf(e, "%s", i ? ", " : "");
        emit_desc(e, n->in[i]);
    }
    emitf(e, "%s};\n", n->n_in ? "" : "{0, 0, {0}}");
    emitf(e, "static const RtTensorDesc n%d_out[%d] = {", k, n->n_out);
    for (int i = 0; i < n->n_out; i++) {
        emitf(e, "%s", i ? ", " : "");
        emit_desc(e, n->out[i]);
    }
    emitf(e, "};\n");
    if (n->n_ints) {
        emitf(e, "static const int64_t n%d_i[%d] = {", k, n->n_ints);
        for (int i = 0; i < n->n_ints; i++) {
            if (n->ints[i] == INT64_MIN)
                emitf(e, "%sINT64_MIN", i ? ", " : "");
            else
                emitf(e, "%s%lld", i ? ", " : "", (long long)n->ints[i]);
        }
        emitf(e, "};\n");
    }
    if (n->n_floats) {
        emitf(e, "static const float n%d_f[%d] = {", k, n->n_floats);
        for (int i = 0; i < n->n_floats; i++) {
            char buf[64];
            cg_float_literal(buf, sizeof buf, n->floats[i], 0);
            emitf(e, "%s%s", i ? ", " : "", buf);
        }
        emitf(e, "};\n");
    }
    emitf(e, "static const RtCall n%d = {%d, %d, n%d_in, n%d_out, %d, %d, ", k, n->n_in, n->n_out,
          k, k, n->n_ints, n->n_floats);
    if (n->n_ints)
        emitf(e, "n%d_i, ", k);
    else
        emitf(e, "NULL, ");
    if (n->n_floats)
        emitf(e, "n%d_f};\n\n", k);
    else
        emitf(e, "NULL};\n\n");
}

/* prof: the node's row in NAME_prof under --profile, else -1 (no timing).
 * A guarded node (ir_guards: a branch of a run-time If) runs inside an if. */
static void emit_call(Emitter *e, const Ctx *c, const Node *n, int k, int prof,
                      const IrGuard *guard)
{
    char buf[128];
    char t1[CG_TEXT], t2[CG_TEXT];
    emitf(e, "    /* node '%s' (%s) */\n    ", cg_comment(t1, sizeof t1, n->name),
          cg_comment(t2, sizeof t2, n->op_type));
    if (guard->n) {
        emitf(e, "if (");
        for (int j = 0; j < guard->n; j++) {
            value_ptr(c, guard->cond[j], buf, sizeof buf);
            emitf(e, "%s%s*(const unsigned char *)%s", j ? " && " : "",
                  guard->when[j] ? "" : "!", buf);
        }
        emitf(e, ") ");
    }
    emitf(e, "{\n");
    emitf(e, "        const void *i_[%d] = {", n->n_in ? n->n_in : 1);
    for (int i = 0; i < n->n_in; i++) {
        value_ptr(c, n->in[i], buf, sizeof buf);
        emitf(e, "%s%s", i ? ", " : "", buf);
    }
    emitf(e, "%s};\n        void *o_[%d] = {", n->n_in ? "" : "NULL", n->n_out);
    for (int i = 0; i < n->n_out; i++) {
        value_ptr(c, n->out[i], buf, sizeof buf);
        emitf(e, "%s%s", i ? ", " : "", buf);
    }
    if (prof >= 0)
        emitf(e, "};\n        double t_ = rt_now_ms();\n");
    else
        emitf(e, "};\n");
    if (ir_node_has_rt(n)) {
        /* extents known only now: the shape function sizes the outputs */
        const char *fname;
        ir_rt_shape_fn(n, &fname);
        emitf(e, "        const int64_t *id_[%d] = {", n->n_in ? n->n_in : 1);
        for (int i = 0; i < n->n_in; i++) {
            if (n->in[i] && c->slot[n->in[i]->id] >= 0)
                emitf(e, "%sS + %d", i ? ", " : "", c->slot[n->in[i]->id]);
            else
                emitf(e, "%sNULL", i ? ", " : "");
        }
        emitf(e, "%s};\n        int64_t *od_[%d] = {", n->n_in ? "" : "NULL", n->n_out);
        for (int i = 0; i < n->n_out; i++) {
            if (n->out[i] && c->slot[n->out[i]->id] >= 0)
                emitf(e, "%sS + %d", i ? ", " : "", c->slot[n->out[i]->id]);
            else
                emitf(e, "%sNULL", i ? ", " : "");
        }
        int capped = 0;
        for (int i = 0; i < n->n_out; i++)
            capped |= n->out[i] && n->out[i]->rt_cap;
        emitf(e, "};\n");
        if (capped) { /* buffers planned for fewer elements than their bounds' product */
            emitf(e, "        static const int64_t cap_[%d] = {", n->n_out);
            for (int i = 0; i < n->n_out; i++)
                emitf(e, "%s%lld", i ? ", " : "", (long long)(n->out[i] ? n->out[i]->rt_cap : 0));
            emitf(e, "};\n");
        }
        char t[CG_TEXT];
        if (ir_rt_grows(n)) /* past --max-elements: the binary names the tensor */
            emitf(e, "        if ((rc = rt_dyn_call(&n%d, %s, %s, id_, od_, %s, i_, o_)) != 0)\n"
                     "            return rt_grow_note(rc, \"%s\", %lld);\n", k, fname,
                  cgc_kernel_name(n), capped ? "cap_" : "NULL",
                  cg_cstr(t, sizeof t, n->out[0]->name), (long long)n->out[0]->rt_cap);
        else
            emitf(e, "        if ((rc = rt_dyn_call(&n%d, %s, %s, id_, od_, %s, i_, o_)) != 0)\n"
                     "            return rc;\n", k, fname, cgc_kernel_name(n),
                  capped ? "cap_" : "NULL");
    } else {
        emitf(e, "        if ((rc = %s(&n%d, i_, o_)) != 0)\n            return rc;\n",
              cgc_kernel_name(n), k);
    }
    if (prof >= 0)
        emitf(e, "        %s_prof[%d].calls++;\n        %s_prof[%d].ms += rt_now_ms() - t_;\n",
              c->name, prof, c->name, prof);
    /* hand each data-dependent graph output's extent to the caller now,
     * before a later node reuses the arena bytes it lives in */
    for (int j = 0; j < c->g->n_outputs; j++) {
        const Value *v = c->g->outputs[j];
        int slot = cg_dyn_slot(c->g, j);
        if (slot < 0 || v->producer != n)
            continue;
        int at = c->g->n_outputs + slot;
        value_ptr(c, v->dyn_len, buf, sizeof buf);
        emitf(e, "        if (out[%d])\n            *(int64_t *)out[%d] = *(const int64_t *)%s;\n",
              at, at, buf);
    }
    emitf(e, "    }\n");
}

/* Graph outputs the node schedule does not write: constants, inputs, and a
 * value listed twice as an output. */
static void emit_output_copies(Emitter *e, const Ctx *c)
{
    const Graph *g = c->g;
    char buf[128];
    for (int k = 0; k < g->n_outputs; k++) {
        const Value *v = g->outputs[k];
        int first = cg_output_index(g, v);
        if (!v->data && cg_input_index(g, v) < 0 && first == k)
            continue;
        if (first != k && !v->data)
            snprintf(buf, sizeof buf, "out[%d]", first);
        else
            value_ptr(c, v, buf, sizeof buf);
        char t[CG_TEXT];
        if (c->slot[v->id] >= 0)
            emitf(e, "    memcpy(out[%d], %s, rt_dims_bytes(%d, %d, S + %d)); /* output '%s' */\n",
                  k, buf, v->dtype, v->rank, c->slot[v->id], cg_comment(t, sizeof t, v->name));
        else
            emitf(e, "    memcpy(out[%d], %s, %zu); /* output '%s' */\n", k, buf, ir_nbytes(v),
                  cg_comment(t, sizeof t, v->name));
    }
}


/* Weights packed for one GEMM tile work only with a runtime compiled for
 * it: a mismatch (say, the Makefile's CFLAGS without its -march) stops the
 * C compiler with a message instead of failing every run. */
static void emit_pack_check(Emitter *e, const Ctx *c)
{
    int packed = 0;
    for (int k = 0; k < c->g->n_nodes && !packed; k++) {
        const Node *n = c->g->nodes[k];
        if (runs(n) && n->op == OP_MATMUL && n->n_ints > RT_MATMUL_PACK)
            packed = n->ints[RT_MATMUL_PACK] > 0;
        if (runs(n) && n->op == OP_GEMM && n->n_ints > RT_GEMM_PACK)
            packed = n->ints[RT_GEMM_PACK] > 0;
        if (!runs(n) || (n->op != OP_CONV && n->op != OP_FUSED_CONV) || n->n_ints <= RT_CONV_NSP)
            continue;
        int slot = RT_CONV_PACK((int)n->ints[RT_CONV_NSP]);
        packed = n->n_ints > slot && n->ints[slot] > 0;
    }
    if (!packed)
        return;
    int mr, nr;
    cg_target_gemm_tile(c->o->target, &mr, &nr);
    emitf(e, "/* Weights are packed for the %s runtime's GEMM tile, %d x %d. */\n"
             "#if RT_GEMM_MR != %d || RT_GEMM_NR != %d\n"
             "#error \"weights packed for the %s target's GEMM tile (%d x %d): compile with the "
             "Makefile's ARCH flags, or run onnxcc again with the --target of this compiler\"\n"
             "#endif\n\n",
          cg_target_name(c->o->target), mr, nr, mr, nr, cg_target_name(c->o->target), mr, nr);
}

static void emit_weights_decl(Emitter *e, const Ctx *c)
{
    const char *n = c->name;
    cg_emit_string_consts(e, c->g, c->w, n);
    if (c->mode == WEIGHTS_C) {
        cg_emit_weights_c(e, c->g, c->w, n);
        emitf(e, "\nconst char *%s_weights_path = NULL;\n"
                 "int %s_init(const char *weights_path)\n{\n    (void)weights_path;\n"
                 "    return 0;\n}\n\n", n, n);
    } else if (c->mode == WEIGHTS_OBJ) {
        emitf(e, "/* weights: %d constants, %zu bytes, linked in from %s.bin (%s_weights.S) */\n"
                 "extern const unsigned char %s_weights[];\n#define W %s_weights\n\n"
                 "const char *%s_weights_path = NULL;\n"
                 "int %s_init(const char *weights_path)\n{\n    (void)weights_path;\n"
                 "    return 0;\n}\n\n", c->w->count, c->w->total, n, n, n, n, n, n);
    } else {
        emitf(e, "/* weights: %d constants, %zu bytes, loaded once from %s.bin */\n"
                 "static unsigned char %s_weights[%zu] ONNXCC_ALIGN;\n#define W %s_weights\n"
                 "static int %s_loaded;\nconst char *%s_weights_path = \"%s.bin\";\n\n"
                 "int %s_init(const char *weights_path)\n{\n"
                 "    int rc = rt_weights_load(weights_path ? weights_path : %s_weights_path,\n"
                 "                             %s_weights, %zu, 0x%016llxull);\n"
                 "    %s_loaded = rc == 0;\n    return rc;\n}\n\n",
              c->w->count, c->w->total, n, n, c->w->total ? c->w->total : 1, n, n, n, n, n, n, n,
              c->w->total, (unsigned long long)c->w->checksum, n);
    }
}

/* --profile: one row per node that runs, in schedule order, with the
 * compiler's cost counts; calls and times accumulate at run time. */
static void emit_profile_table(Emitter *e, const Ctx *c, int live)
{
    const Graph *g = c->g;
    char t1[CG_TEXT], t2[CG_TEXT];
    emitf(e, "/* --profile: per node, FLOPs and bytes per call (ir_node_flops,\n"
             " * ir_node_bytes); calls and ms accumulate at run time */\n"
             "static RtProfNode %s_prof[%d] = {\n", c->name, live ? live : 1);
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (!runs(n))
            continue;
        emitf(e, "    {\"%s\", \"%s\", %.0f.0, %.0f.0, 0, 0.0},\n",
              cg_cstr(t1, sizeof t1, n->name), cg_cstr(t2, sizeof t2, n->op_type),
              ir_node_flops(n), ir_node_bytes(n));
    }
    if (!live)
        emitf(e, "    {\"\", \"\", 0.0, 0.0, 0, 0.0},\n");
    emitf(e, "};\nRtProfile %s_profile = {%d, %s_prof, 0};\n\n", c->name, live, c->name);
}

/* The model's inputs and outputs for host code (RtModel.in/out). */
static void emit_io_tables(Emitter *e, const Ctx *c)
{
    const Graph *g = c->g;
    const char *n = c->name;
    char t[CG_TEXT];
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass ? g->n_outputs : g->n_inputs;
        emitf(e, "static const RtIO %s_%s[%d] = {\n", n, pass ? "outputs" : "inputs",
              cnt ? cnt : 1);
        for (int i = 0; i < cnt; i++) {
            const Value *v = pass ? g->outputs[i] : g->inputs[i];
            RtTensorDesc td;
            ir_desc(v, &td);
            emitf(e, "    {\"%s\", %s, %d, {", cg_cstr(t, sizeof t, v->name),
                  cg_dtype_enum(td.dtype), td.rank);
            for (int k = 0; k < td.rank; k++)
                emitf(e, "%s%lld", k ? ", " : "", (long long)td.dims[k]);
            emitf(e, "%s}, %d, %d", td.rank ? "" : "0", v->dyn, v->dyn ? v->dyn_axis : 0);
            emitf(e, ", 0x%xu, {", (unsigned)v->rt_mask);
            for (int k = 0; k < td.rank; k++)
                emitf(e, "%s%lld", k ? ", " : "", (long long)(v->rt_mask ? v->rt_lo[k] : td.dims[k]));
            emitf(e, "%s}, %lld},\n", td.rank ? "" : "0", (long long)(v->rt_mask ? v->rt_cap : 0));
        }
        emitf(e, "%s};\n", cnt ? "" : "    {NULL, 0, 0, {0}, 0, 0, 0u, {0}, 0}\n");
    }
}

static int emit_source(const Ctx *c, Diag *d)
{
    const Graph *g = c->g;
    const char *n = c->name;
    Emitter e;
    char file[96], t[CG_TEXT];
    snprintf(file, sizeof file, "%s.c", n);
    if (cg_open(&e, c->o->out_dir, file, d) < 0)
        return -1;
    int live = 0;
    for (int k = 0; k < g->n_nodes; k++)
        live += runs(g->nodes[k]);
    emitf(&e, "/* %s.c: generated by onnxcc %s from %s: %d nodes, arena %lld bytes,\n"
              " * weights %zu bytes. Each node is one call into the runtime's kernels with a\n"
              " * constant parameter block; every buffer is a fixed offset in one arena. */\n",
          n, ONNXCC_VERSION, cg_base_name(t, sizeof t, c->o->model_path), live,
          (long long)g->arena_bytes, c->w->total);
    emitf(&e, "#include <math.h>\n#include <string.h>\n\n#include \"%s.h\"\n\n", n);
    emitf(&e, "#if defined(__GNUC__)\n#define ONNXCC_ALIGN __attribute__((aligned(64)))\n"
              "#else\n#define ONNXCC_ALIGN\n#endif\n\n");
    emitf(&e, "static unsigned char %s_arena[%lld] ONNXCC_ALIGN;\n\n", n,
          (long long)(g->arena_bytes ? g->arena_bytes : 1));
    emit_pack_check(&e, c);
    emit_weights_decl(&e, c);
    for (int k = 0; k < g->n_nodes; k++)
        if (runs(g->nodes[k]))
            emit_call_desc(&e, g->nodes[k], k);
    if (c->o->profile)
        emit_profile_table(&e, c, live);
    emit_io_tables(&e, c);
    int rt = ir_graph_has_rt(g);
    if (rt)
        emitf(&e, "static int %s_graph_dims(void *arena, const int64_t *const *in_dims,\n"
                  "                         int64_t *const *out_dims, const void *const *in,\n"
                  "                         void *const *out)\n{\n", n);
    else
        emitf(&e, "static int %s_graph(void *arena, const void *const *in, void *const *out)\n{\n",
              n);
    emitf(&e, "    unsigned char *A = arena ? (unsigned char *)arena : %s_arena;\n"
              "    int rc = 0;\n    (void)A;\n    (void)in;\n    (void)out;\n", n);
    if (rt) {
        /* every run-time extent of the run, checked against its bounds first */
        emitf(&e, "    int64_t S[%d]; /* run-time extents, per value with run-time dims */\n",
              c->n_slots);
        for (int i = 0; i < g->n_inputs; i++) {
            const Value *v = g->inputs[i];
            if (c->slot[v->id] < 0)
                continue;
            emitf(&e, "    if ((rc = rt_dims_check(%d, in_dims && in_dims[%d] ? in_dims[%d] : "
                      "%s_inputs[%d].dims,\n                            %s_inputs[%d].lo, "
                      "%s_inputs[%d].dims, S + %d)) != 0)\n        return rc;\n",
                  v->rank, i, i, n, i, n, i, n, i, c->slot[v->id]);
        }
    }
    if (c->mode == WEIGHTS_FILE)
        emitf(&e, "    if (!%s_loaded)\n        return RT_EIO; /* %s_init was not called */\n", n,
              n);
    if (c->o->profile)
        emitf(&e, "    %s_profile.runs++;\n", n);
    IrGuard *guards = ir_guards(g);
    for (int k = 0, j = 0; k < g->n_nodes; k++)
        if (runs(g->nodes[k])) {
            cgc_loop_before(&e, g->nodes[k]);
            emit_call(&e, c, g->nodes[k], k, c->o->profile ? j++ : -1, &guards[k]);
            cgc_loop_after(&e, g->nodes[k]);
        }
    free(guards);
    emit_output_copies(&e, c);
    for (int i = 0; rt && i < g->n_outputs; i++) {
        const Value *v = g->outputs[i];
        if (c->slot[v->id] >= 0)
            emitf(&e, "    if (out_dims && out_dims[%d])\n        memcpy(out_dims[%d], S + %d, "
                      "%d * sizeof(int64_t));\n", i, i, c->slot[v->id], v->rank);
    }
    emitf(&e, "    return rc;\n}\n\n");
    if (rt)
        emitf(&e, "static int %s_graph(void *arena, const void *const *in, void *const *out)\n"
                  "{\n    return %s_graph_dims(arena, NULL, NULL, in, out);\n}\n\n", n, n);
    cg_emit_prototype(&e, g, c->name, c->slot);
    emitf(&e, "\n{\n    const void *in[%d] = {", g->n_inputs ? g->n_inputs : 1);
    char p[128];
    for (int i = 0; i < g->n_inputs; i++) {
        cg_param_name(p, sizeof p, g, 0, i);
        emitf(&e, "%s%s", i ? ", " : "", p);
    }
    int n_dyn = 0;
    for (int i = 0; i < g->n_outputs; i++)
        n_dyn += g->outputs[i]->dyn;
    emitf(&e, "%s};\n    void *out[%d] = {", g->n_inputs ? "" : "NULL",
          g->n_outputs + n_dyn ? g->n_outputs + n_dyn : 1);
    for (int i = 0; i < g->n_outputs; i++) {
        cg_param_name(p, sizeof p, g, 1, i);
        emitf(&e, "%s%s", i ? ", " : "", p);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        if (cg_dyn_slot(g, i) < 0)
            continue;
        cg_len_name(p, sizeof p, g, i);
        emitf(&e, ", %s", p);
    }
    emitf(&e, "%s};\n", g->n_outputs ? "" : "NULL");
    if (rt) {
        emitf(&e, "    const int64_t *in_dims[%d] = {", g->n_inputs ? g->n_inputs : 1);
        for (int i = 0; i < g->n_inputs; i++) {
            cg_extra_name(p, sizeof p, g, 0, i, "_dims");
            emitf(&e, "%s%s", i ? ", " : "", g->inputs[i]->rt_mask ? p : "NULL");
        }
        emitf(&e, "%s};\n    int64_t *out_dims[%d] = {", g->n_inputs ? "" : "NULL",
              g->n_outputs ? g->n_outputs : 1);
        for (int i = 0; i < g->n_outputs; i++) {
            cg_extra_name(p, sizeof p, g, 1, i, "_dims");
            emitf(&e, "%s%s", i ? ", " : "", c->slot[g->outputs[i]->id] >= 0 ? p : "NULL");
        }
        emitf(&e, "%s};\n    return %s_graph_dims(ctx ? ctx->arena : NULL, in_dims, out_dims, "
                  "in, out);\n}\n\n", g->n_outputs ? "" : "NULL", n);
    } else {
        emitf(&e, "    return %s_graph(ctx ? ctx->arena : NULL, in, out);\n}\n\n", n);
    }
    for (int pass = 0; pass < 2; pass++) {
        if (!(pass ? g->out_groups : g->in_groups))
            continue;
        int cnt = ir_n_groups(g, pass);
        emitf(&e, "/* ONNX-level %s: sequences and optionals are runs of the tensors above */\n"
                  "static const RtGroup %s_%s_groups[%d] = {\n", pass ? "outputs" : "inputs", n,
              pass ? "output" : "input", cnt ? cnt : 1);
        for (int i = 0; i < cnt; i++) {
            IoGroup gr = ir_io_group(g, pass, i);
            char l[CG_TEXT];
            emitf(&e, "    {\"%s\", \"%s\", %d, %d},\n", cg_cstr(t, sizeof t, gr.name),
                  cg_cstr(l, sizeof l, gr.layout), gr.first, gr.count);
        }
        emitf(&e, "%s};\n", cnt ? "" : "    {NULL, NULL, 0, 0}\n");
    }
    emitf(&e, "\nconst RtModel %s_model = {\"%s\", %d, %d, %s_inputs, %s_outputs, %lld,\n"
              "                            %s_init, %s_graph",
          n, n, g->n_inputs, g->n_outputs, n, n, (long long)g->arena_bytes, n, n);
    emitf(&e, ", %d, %d, ", g->in_groups ? g->n_in_groups : 0,
          g->out_groups ? g->n_out_groups : 0);
    if (g->in_groups)
        emitf(&e, "%s_input_groups, ", n);
    else
        emitf(&e, "NULL, ");
    if (g->out_groups)
        emitf(&e, "%s_output_groups", n);
    else
        emitf(&e, "NULL");
    if (rt)
        emitf(&e, ", %s_graph_dims};\n", n);
    else
        emitf(&e, ", NULL};\n");
    return cg_close(&e, d);
}

static int emit_incbin(const Ctx *c, Diag *d)
{
    Emitter e;
    char file[96];
    snprintf(file, sizeof file, "%s_weights.S", c->name);
    if (cg_open(&e, c->o->out_dir, file, d) < 0)
        return -1;
    emitf(&e, "/* %s_weights.S: links %s.bin into the binary (generated by onnxcc). */\n"
              "    .section .rodata\n    .balign 64\n    .globl %s_weights\n%s_weights:\n"
              "    .incbin \"%s.bin\"\n"
              "#if defined(__linux__) && defined(__ELF__)\n"
              "    .section .note.GNU-stack,\"\",%%progbits\n#endif\n",
          c->name, c->name, c->name, c->name, c->name);
    return cg_close(&e, d);
}

int cgc_emit(Graph *g, const CgOptions *o, Diag *d)
{
    Ctx c = {g, o, NULL, o->weights, "", "", NULL, 0};
    WeightsLayout w;
    cg_ident(c.name, sizeof c.name, o->name ? o->name : "model");
    cg_upper(c.NAME, sizeof c.NAME, c.name);
    cg_weights_layout(g, &w);
    c.w = &w;
    c.slot = cg_rt_slots(g, &c.n_slots);
    if (c.mode == WEIGHTS_AUTO)
        c.mode = w.total <= WEIGHTS_C_AUTO_LIMIT ? WEIGHTS_C : WEIGHTS_OBJ;
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        if (w.offset[i] >= 0 && !rt_dtype_bits(v->dtype)) {
            cg_weights_free(&w);
            free(c.slot);
            return ir_error(d, "constant '%s' has dtype %s, which generated code cannot hold",
                            v->name, rt_dtype_name(v->dtype));
        }
    }
    char bin[96];
    snprintf(bin, sizeof bin, "%s.bin", c.name);
    int rc = cg_emit_header(g, o, w.total, c.slot, d);
    if (rc == 0)
        rc = emit_source(&c, d);
    if (rc == 0 && c.mode != WEIGHTS_C)
        rc = cg_write_weights_bin(g, &w, o->out_dir, bin, d);
    if (rc == 0 && c.mode == WEIGHTS_OBJ)
        rc = emit_incbin(&c, d);
    if (rc == 0)
        rc = cgc_emit_project(g, o, c.mode, d);
    cg_weights_free(&w);
    free(c.slot);
    return rc;
}
