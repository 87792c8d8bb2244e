/* header.c: NAME.h, the generated API, shared by the C and LLVM backends (one ABI, one header). */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

typedef struct Ctx {
    const Graph *g;
    const CgOptions *o;
    size_t weights_bytes;        /* the blob's size, stated as NAME_WEIGHTS_BYTES */
    char name[64];               /* C prefix */
    char NAME[64];               /* macro prefix */
    const int *slot;             /* per value id: offset of its run-time extents, or -1 */
} Ctx;

/* The model's file name, for the generated files' first comment. */
const char *cg_base_name(char *buf, size_t len, const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return cg_comment(buf, len, s ? s + 1 : (path ? path : ""));
}

static void emit_type_comment(Emitter *e, const Value *v)
{
    emitf(e, "%s[", rt_dtype_name(v->dtype));
    for (int i = 0; i < v->rank; i++) {
        if (v->rt_mask >> i & 1)
            emitf(e, "%s%lld..", i ? "," : "", (long long)v->rt_lo[i]);
        else
            emitf(e, "%s%s", i ? "," : "", v->dyn && i == v->dyn_axis ? "<=" : "");
        emitf(e, "%lld", (long long)v->dims[i]);
    }
    emitf(e, "]");
}

/* Index among the graph's dynamic outputs of output k, or -1 if k is static:
 * the caller's extent slots come in this order after the output buffers. */
int cg_dyn_slot(const Graph *g, int k)
{
    if (!g->outputs[k]->dyn)
        return -1;
    int j = 0;
    for (int i = 0; i < k; i++)
        j += g->outputs[i]->dyn;
    return j;
}

/* The C parameter name of graph input or output k: its sanitized name, with
 * _inK/_outK appended when an earlier parameter sanitizes to the same one
 * ("x.y" and "x_y" both become x_y). */
void cg_param_name(char *buf, size_t len, const Graph *g, int is_out, int k)
{
    const Value *v = is_out ? g->outputs[k] : g->inputs[k];
    char other[96];
    cg_ident(buf, len, v->name);
    int n_in = is_out ? g->n_inputs : k, n_out = is_out ? k : 0, clash = 0;
    for (int j = 0; j < n_in + n_out && !clash; j++) {
        cg_ident(other, sizeof other, j < n_in ? g->inputs[j]->name : g->outputs[j - n_in]->name);
        clash = !strcmp(other, buf);
    }
    if (clash) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "_%s%d", is_out ? "out" : "in", k);
    }
}

/* An extra parameter of input or output k: its parameter name with suffix
 * ("y_len", "x_dims"), and _inK/_outK appended if an input or output
 * parameter already has that name. */
void cg_extra_name(char *buf, size_t len, const Graph *g, int is_out, int k,
                       const char *suffix)
{
    char other[128];
    cg_param_name(buf, len, g, is_out, k);
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s", suffix);
    for (int j = 0; j < g->n_inputs + g->n_outputs; j++) {
        int o = j >= g->n_inputs;
        cg_param_name(other, sizeof other, g, o, o ? j - g->n_inputs : j);
        if (!strcmp(other, buf)) {
            used = strlen(buf);
            snprintf(buf + used, len - used, "_%s%d", is_out ? "out" : "in", k);
            return;
        }
    }
}

/* The extent parameter of dynamic output k: "<output>_len". */
void cg_len_name(char *buf, size_t len, const Graph *g, int k)
{
    cg_extra_name(buf, len, g, 1, k, "_len");
}

/* The header's account of a value with run-time dims: which axes, their
 * bounds, and the parameter that carries the actual extents. */
static void emit_rt_dims_doc(Emitter *e, const Ctx *c, const Value *v, int is_out, int k)
{
    const char *kind = is_out ? "OUTPUT" : "INPUT";
    char p[128], t[CG_TEXT];
    cg_extra_name(p, sizeof p, c->g, is_out, k, "_dims");
    emitf(e, "/* run-time dims:");
    for (int a = 0; a < v->rank; a++)
        if (v->rt_mask >> a & 1)
            emitf(e, " axis %d%s%s%s %lld..%lld;", a, v->dim_param[a] ? " ('" : "",
                  v->dim_param[a] ? cg_comment(t, sizeof t, v->dim_param[a]) : "",
                  v->dim_param[a] ? "')" : "", (long long)v->rt_lo[a], (long long)v->dims[a]);
    emitf(e, "\n * %s_run %s all %d extents in %s; buffers are sized for the bounds */\n",
          c->name, is_out ? "writes" : "takes", v->rank, p);
    emitf(e, "#define %s_%s_%d_MAX_SIZE %lld /* elements */\n", c->NAME, kind, k,
          (long long)ir_max_numel(v));
    for (int a = 0; a < v->rank; a++)
        if (v->rt_mask >> a & 1)
            emitf(e, "#define %s_%s_%d_DIM_%d_MIN %lld\n#define %s_%s_%d_DIM_%d_MAX %lld\n",
                  c->NAME, kind, k, a, (long long)v->rt_lo[a], c->NAME, kind, k, a,
                  (long long)v->dims[a]);
}

void cg_emit_prototype(Emitter *e, const Graph *g, const char *name, const int *slot)
{
    char p[128];
    emitf(e, "int %s_run(%s_ctx *ctx", name, name);
    /* strings: the caller's pointers are read-only; the ones written back
     * point into the arena, a constant or an input (valid until the next run) */
    for (int i = 0; i < g->n_inputs; i++) {
        cg_param_name(p, sizeof p, g, 0, i);
        if (g->inputs[i]->dtype == RT_STRING)
            emitf(e, ", const char *const *%s", p);
        else
            emitf(e, ", const %s *%s", cg_ctype(g->inputs[i]->dtype), p);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        cg_param_name(p, sizeof p, g, 1, i);
        if (g->outputs[i]->dtype == RT_STRING)
            emitf(e, ", const char **%s", p);
        else
            emitf(e, ", %s *%s", cg_ctype(g->outputs[i]->dtype), p);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        if (cg_dyn_slot(g, i) < 0)
            continue;
        cg_len_name(p, sizeof p, g, i);
        emitf(e, ", int64_t *%s", p);
    }
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i]->rt_mask) {
            cg_extra_name(p, sizeof p, g, 0, i, "_dims");
            emitf(e, ", const int64_t *%s", p);
        }
    for (int i = 0; i < g->n_outputs; i++)
        if (slot[g->outputs[i]->id] >= 0) {
            cg_extra_name(p, sizeof p, g, 1, i, "_dims");
            emitf(e, ", int64_t *%s", p);
        }
    emitf(e, ")");
}

static int has_strings(const Graph *g)
{
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i]->dtype == RT_STRING)
            return 1;
    return 0;
}

static int emit_header(const Ctx *c, Diag *d)
{
    const Graph *g = c->g;
    Emitter e;
    char file[96], t[CG_TEXT];
    snprintf(file, sizeof file, "%s.h", c->name);
    if (cg_open(&e, c->o->out_dir, file, d) < 0)
        return -1;
    emitf(&e, "/* %s.h: generated by onnxcc %s from %s; do not edit. */\n", c->name,
          ONNXCC_VERSION, cg_base_name(t, sizeof t, c->o->model_path));
    emitf(&e, "#ifndef %s_H\n#define %s_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
              "#include \"onnxcc_rt.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
          c->NAME, c->NAME);
    emitf(&e, "/* Scratch memory one run needs: the whole arena, sized at compile time. */\n");
    emitf(&e, "#define %s_ARENA_BYTES %lld\n", c->NAME, (long long)g->arena_bytes);
    emitf(&e, "#define %s_WEIGHTS_BYTES %zu\n", c->NAME, c->weights_bytes);
    emitf(&e, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n\n", c->NAME, g->n_inputs,
          c->NAME, g->n_outputs);
    cgc_loop_header(&e, g, c->NAME);
    if (has_strings(g))
        emitf(&e, "/* Strings are `const char *` to NUL-terminated UTF-8. An output string\n"
                  " * points into the arena, a constant or an input: copy it before the next\n"
                  " * run. A string an op makes at run time holds at most this many bytes\n"
                  " * (--max-string-bytes); a longer one makes the run return RT_ENOMEM. */\n"
                  "#define %s_MAX_STRING_BYTES %lld\n\n",
              c->NAME, (long long)(g->max_string_bytes > 0 ? g->max_string_bytes
                                                           : IR_MAX_STRING_BYTES));
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? g->n_outputs : g->n_inputs;
        for (int i = 0; i < n; i++) {
            const Value *v = pass ? g->outputs[i] : g->inputs[i];
            const char *kind = pass ? "OUTPUT" : "INPUT";
            emitf(&e, "/* %s %d: '%s' ", pass ? "output" : "input", i,
                  cg_comment(t, sizeof t, v->name));
            emit_type_comment(&e, v);
            emitf(&e, " */\n#define %s_%s_%d_NAME \"%s\"\n", c->NAME, kind, i,
                  cg_cstr(t, sizeof t, v->name));
            emitf(&e, "#define %s_%s_%d_SIZE %lld /* elements */\n", c->NAME, kind, i,
                  (long long)ir_max_numel(v));
            if (c->slot[v->id] >= 0)
                emit_rt_dims_doc(&e, c, v, pass, i);
            if (!pass || !v->dyn)
                continue;
            char p[128];
            cg_len_name(p, sizeof p, g, i);
            emitf(&e, "/* data-dependent: up to %lld along axis %d; %s_run sets *%s to the\n"
                      " * actual extent and writes the output row-major with it */\n",
                  (long long)v->dims[v->dyn_axis], v->dyn_axis, c->name, p);
            emitf(&e, "#define %s_OUTPUT_%d_MAX_SIZE %lld /* elements */\n", c->NAME, i,
                  (long long)ir_numel(v));
            emitf(&e, "#define %s_OUTPUT_%d_DYN_AXIS %d\n", c->NAME, i, v->dyn_axis);
            emitf(&e, "#define %s_OUTPUT_%d_DYN_MAX %lld /* bound along the axis */\n", c->NAME,
                  i, (long long)v->dims[v->dyn_axis]);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ir_n_groups(g, pass); i++) {
            IoGroup gr = ir_io_group(g, pass, i);
            if (!strcmp(gr.layout, "T"))
                continue;
            char l[CG_TEXT];
            emitf(&e, "/* %s '%s' is %s %s, compiled for the structure %s: %s %d..%d */\n",
                  pass ? "output" : "input", cg_comment(t, sizeof t, gr.name),
                  gr.layout[0] == 'S' ? "a" : "an", gr.layout[0] == 'S' ? "sequence" : "optional",
                  cg_comment(l, sizeof l, gr.layout), pass ? "outputs" : "inputs", gr.first,
                  gr.first + gr.count - 1);
        }
    }
    emitf(&e, "\ntypedef struct %s_ctx {\n"
              "    void *arena; /* %s_ARENA_BYTES bytes, 64-byte aligned; NULL: the static arena */\n"
              "} %s_ctx;\n\n",
          c->name, c->NAME, c->name);
    emitf(&e, "/* Loads the weights file (built with --weights file; NULL: %s_weights_path).\n"
              " * Call once before %s_run; with embedded weights it does nothing. */\n"
              "int %s_init(const char *weights_path);\n"
              "extern const char *%s_weights_path;\n\n",
          c->name, c->name, c->name, c->name);
    emitf(&e, "/* One inference. ctx NULL uses the static arena (one caller at a time).\n"
              " * Returns 0, or an RT_E* status from onnxcc_rt.h. */\n");
    cg_emit_prototype(&e, g, c->name, c->slot);
    if (c->o->profile)
        emitf(&e, ";\n\n/* Built with --profile: %s_run times every node into this table\n"
                  " * (rt_profile_print, rt_profile_write_json, rt_profile_reset). */\n"
                  "extern RtProfile %s_profile",
              c->name, c->name);
    emitf(&e, ";\n\n/* The same model, described for generic host code (rt_main, tools). */\n"
              "extern const RtModel %s_model;\n\n#ifdef __cplusplus\n}\n#endif\n#endif\n",
          c->name);
    return cg_close(&e, d);
}

int cg_emit_header(const Graph *g, const CgOptions *o, size_t weights_bytes, const int *slot,
                   Diag *d)
{
    Ctx c = {g, o, weights_bytes, "", "", slot};
    cg_ident(c.name, sizeof c.name, o->name ? o->name : "model");
    cg_upper(c.NAME, sizeof c.NAME, c.name);
    return emit_header(&c, d);
}

int *cg_rt_slots(const Graph *g, int *n_slots)
{
    int *slot = malloc(sizeof *slot * (size_t)(g->n_values + 1));
    IR_ASSERT(slot);
    *n_slots = 0;
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        slot[i] = v->rt_mask && v->kind == VK_TENSOR ? *n_slots : -1;
        *n_slots += slot[i] >= 0 ? v->rank : 0;
    }
    return slot;
}
