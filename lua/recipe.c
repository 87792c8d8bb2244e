/* recipe.c: --pipeline FILE: the onnxcc module a recipe calls, and the run of a recipe. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "lx_int.h"

#define LX_PASSES "onnxcc.passes"   /* registry: Lua passes by name */
#define LX_QUANT_IF "onnxcc.quantize_if"

/* luaL_error, but an error raised while running the list a recipe returned
 * (no Lua line to point at) names the recipe's file instead. */
static int fail(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    luaL_where(L, 1);
    if (!lua_tostring(L, -1)[0]) {
        lua_pop(L, 1);
        lua_pushfstring(L, "%s: ", lx_of(L)->ctx->pipeline);
    }
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return lua_error(L);
}

static int builtin(const char *name)
{
    for (int i = 0; i < ir_n_passes; i++)
        if (!strcmp(ir_passes[i].name, name))
            return 1;
    return 0;
}

/* Takes the failed pass's diagnostic out of the Diag (so the recipe's
 * error is the one reported) and raises it. */
static int raise_diag(lua_State *L, const char *what)
{
    LxState *S = lx_of(L);
    Diag *d = S->ctx->d;
    char msg[sizeof d->msg];
    snprintf(msg, sizeof msg, "%s", d->msg[0] ? d->msg : "failed");
    d->msg[0] = 0;
    d->n_errors = 0;
    return fail(L, "%s: %s", what, msg);
}

static const char *const wq_formats[] = {NULL,     "int8",    "int4",     "int3",
                                         "int2",   "ternary", "ternary5", "sherry",
                                         "mxint8", "mxfp8",   "mxfp4",    "nvfp4"};
#define N_WQ_FORMATS (int)(sizeof wq_formats / sizeof *wq_formats)

/* The errors below are raised with fail(): from onnxcc.options they name its
 * line; from what quantize_if returned (read once the function is done), the
 * recipe's file. */
static int pick_opt(lua_State *L, const char *who, const char *key, const char *v,
                    const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], v))
            return i;
    return fail(L, "%s: bad %s '%s'", who, key, v);
}

/* A group the formats take: 16..256, a power of two; none for MX and NVFP4,
 * whose blocks are fixed. */
static int check_group(lua_State *L, const char *who, lua_Integer gsz, QuantWeights fmt)
{
    if (gsz != 16 && gsz != 32 && gsz != 64 && gsz != 128 && gsz != 256)
        fail(L, "%s: bad group %d (expected 16, 32, 64, 128 or 256)", who, (int)gsz);
    if (fmt >= QW_MXINT8)
        fail(L, "%s: group does not apply to the MX and NVFP4 formats", who);
    return (int)gsz;
}

static char *copy_name(lua_State *L, const char *name)
{
    char *c = strdup(name);
    if (!c)
        fail(L, "out of memory");
    return c;
}

/* What quantize_if answered for node n (on the stack's top): true, the
 * options' format; false, float (an exact --keep-float name); a table
 * {format=, group=}, a format and group of its own. */
static void take_answer(lua_State *L, LxState *S, const Node *n)
{
    if (lua_istable(L, -1)) {
        QuantNodeFormat f = {NULL, S->quant.weights, 0};
        if (lua_getfield(L, -1, "format") != LUA_TNIL)
            f.weights = (QuantWeights)pick_opt(L, "onnxcc.quantize_if", "format",
                                               luaL_checkstring(L, -1), wq_formats, N_WQ_FORMATS);
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "group") != LUA_TNIL)
            f.group = check_group(L, "onnxcc.quantize_if", luaL_checkinteger(L, -1), f.weights);
        lua_pop(L, 1);
        QuantNodeFormat *grown =
            realloc(S->node_formats, sizeof *grown * (size_t)(S->n_node_formats + 1));
        if (!grown)
            fail(L, "out of memory");
        S->node_formats = grown;
        f.name = copy_name(L, n->name);
        S->node_formats[S->n_node_formats++] = f;
        return;
    }
    if (lua_toboolean(L, -1))
        return;
    char **grown = realloc(S->keep_names, sizeof *grown * (size_t)(S->n_keep_names + 1));
    if (!grown)
        fail(L, "out of memory");
    S->keep_names = grown;
    S->keep_names[S->n_keep_names++] = copy_name(L, n->name);
}

static void forget_answers(LxState *S)
{
    for (int i = 0; i < S->n_keep_names; i++)
        free(S->keep_names[i]);
    S->n_keep_names = 0;
    for (int i = 0; i < S->n_node_formats; i++)
        free((char *)S->node_formats[i].name);
    S->n_node_formats = 0;
}

/* Asks quantize_if about every live node: the names it says no to become
 * exact --keep-float names, and the formats it gives, per-node formats. */
static void apply_quantize_if(lua_State *L, LxState *S)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, LX_QUANT_IF) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return;
    }
    forget_answers(S);
    Graph *g = S->g;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *n = g->nodes[k];
        if (n->dead || !n->name)
            continue;
        lua_pushvalue(L, -1);
        lx_push_node(L, n);
        lua_call(L, 1, 1);
        take_answer(L, S, n);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    S->quant.keep_names = (const char *const *)S->keep_names;
    S->quant.n_keep_names = S->n_keep_names;
    S->quant.node_formats = S->node_formats;
    S->quant.n_node_formats = S->n_node_formats;
}

/* A Lua pass: fn(g) on the graph, then the verifier, whatever --verify says:
 * the API refuses breaking edits, and this catches what it cannot see. */
static void run_lua_pass(lua_State *L, LxState *S, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LX_PASSES);
    lua_getfield(L, -1, name);
    lx_push_graph(L);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    Diag *d = S->ctx->d;
    if (ir_verify(S->g, d) < 0) {
        char msg[sizeof d->msg];
        snprintf(msg, sizeof msg, "%s", d->msg);
        d->msg[0] = 0;
        d->n_errors = 0;
        fail(L, "Lua pass '%s' left an invalid graph: %s", name, msg);
    }
}

static void run_named(lua_State *L, const char *name)
{
    LxState *S = lx_of(L);
    int is_lua = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, LX_PASSES) == LUA_TTABLE) {
        is_lua = lua_getfield(L, -1, name) == LUA_TFUNCTION;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!is_lua && !builtin(name))
        fail(L, "unknown pass '%s' (onnxcc --list-passes names the built-in ones)", name);
    if (!strcmp(S->last, "plan"))
        fail(L, "pass '%s' after 'plan': plan ends the pipeline", name);
    if (S->n_run == 0 && strcmp(name, "shape"))
        fail(L, "the pipeline must start with 'shape' (asked for '%s')", name);
    if (is_lua) {
        run_lua_pass(L, S, name);
    } else {
        /* Built-in passes assume what the ones before them did: they run in
         * the order of the -O2 list, any of them skipped. */
        int at = S->pos;
        while (S->order[at] && strcmp(S->order[at], name))
            at++;
        if (!S->order[at])
            fail(L, "pass '%s' cannot run after '%s' (built-in passes keep the -O2 "
                       "order)", name, S->last);
        S->pos = at + 1;
        apply_quantize_if(L, S);
        if (ir_run_pass(S->g, name, S->ctx) < 0)
            raise_diag(L, name);
    }
    S->shaped |= !strcmp(name, "shape");
    S->packed |= !strcmp(name, "pack");
    snprintf(S->last, sizeof S->last, "%s", name);
    S->n_run++;
}

/* onnxcc.run_pass(name): a built-in or Lua pass, now. */
static int l_run_pass(lua_State *L)
{
    run_named(L, luaL_checkstring(L, 1));
    return 0;
}

/* onnxcc.pass(name, fn): registers a Lua pass that run_pass then runs. */
static int l_pass(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (builtin(name))
        luaL_error(L, "'%s' is a built-in pass; give the Lua pass another name", name);
    lua_getfield(L, LUA_REGISTRYINDEX, LX_PASSES);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, name);
    return 0;
}

/* onnxcc.quantize_if(fn): fn(node) false leaves that node in float. */
static int l_quantize_if(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, LX_QUANT_IF);
    return 0;
}

/* onnxcc.builtin_passes(): the names --list-passes shows, in -O2 order. */
static int l_builtin_passes(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; i < ir_n_passes; i++) {
        lua_pushstring(L, ir_passes[i].name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* onnxcc.pipeline(level): the pass names of -O<level> (0..3), to run or edit. */
static int l_pipeline(lua_State *L)
{
    lua_Integer level = luaL_checkinteger(L, 1);
    luaL_argcheck(L, level >= 0 && level <= 3, 1, "a level 0 .. 3");
    lua_newtable(L);
    int i = 0;
    for (const char *const *p = ir_pipeline_passes((int)level); *p; p++) {
        lua_pushstring(L, *p);
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

/* onnxcc.graph(): the graph the recipe compiles, as Lua passes see it. */
static int l_graph(lua_State *L)
{
    lx_push_graph(L);
    return 1;
}

/* onnxcc.options{...}: the quantization options of the command line, named
 * as its flags with '_' for '-'; an unknown key is refused by name. */
static int l_options(lua_State *L)
{
    static const char *const acts[] = {"default", "float", "int8"};
    LxState *S = lx_of(L);
    QuantOpts *q = &S->quant;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "onnxcc.options: keys are option names");
        const char *k = lua_tostring(L, -2);
        if (!strcmp(k, "quantize_weights")) {
            q->weights = (QuantWeights)pick_opt(L, "onnxcc.options", k, luaL_checkstring(L, -1),
                                                wq_formats, N_WQ_FORMATS);
        } else if (!strcmp(k, "group")) {
            /* checked against the format once every key is read */
            q->group = check_group(L, "onnxcc.options", luaL_checkinteger(L, -1), QW_NONE);
        } else if (!strcmp(k, "wq_act")) {
            q->wq_act = (QuantWqAct)pick_opt(L, "onnxcc.options", k, luaL_checkstring(L, -1), acts, 3);
        } else if (!strcmp(k, "target")) {
            /* the CPU the emitted code is for; before pack, which lays weights
             * out for its GEMM tile */
            const char *t = luaL_checkstring(L, -1);
            int tg = cg_target_parse(t);
            if (tg < 0)
                luaL_error(L, "onnxcc.options: bad target '%s' (expected native, generic, "
                           "x86-64-v2, x86-64-v3, x86-64-v4 or a cross triple: "
                           "aarch64-linux-gnu, riscv64-linux-gnu, thumbv7em-none-eabihf)", t);
            if (S->packed)
                luaL_error(L, "onnxcc.options: target after 'pack' (weights are laid out)");
            S->ctx->target = tg;
            if (S->ctx->gemm_mr) /* compile and build only: run's kernels are portable */
                cg_target_gemm_tile(tg, &S->ctx->gemm_mr, &S->ctx->gemm_nr);
        } else if (!strcmp(k, "backend")) {
            /* the LLVM backend reads no value when the model runs: shape
             * inference must know that before it decides what is run-time */
            static const char *const backends[] = {"c", "llvm"};
            int b = pick_opt(L, "onnxcc.options", k, luaL_checkstring(L, -1), backends, 2);
            if (S->shaped && b == CG_BACKEND_LLVM && S->ctx->backend != b)
                fail(L, "onnxcc.options: backend 'llvm' after 'shape' (set it before the "
                        "first pass)");
            S->ctx->backend = b;
            S->ctx->static_values = b == CG_BACKEND_LLVM;
        } else if (!strcmp(k, "quant_report")) {
            q->report = lua_toboolean(L, -1);
        } else if (!strcmp(k, "keep_float")) {
            /* patterns live as long as the state: kept in the registry */
            luaL_checktype(L, -1, LUA_TTABLE);
            q->n_keep_float = 0;
            int n = (int)luaL_len(L, -1);
            if (n > QUANT_MAX_PATTERNS)
                luaL_error(L, "onnxcc.options: at most %d keep_float patterns",
                           QUANT_MAX_PATTERNS);
            for (int i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                q->keep_float[q->n_keep_float++] = luaL_checkstring(L, -1);
                lua_pushvalue(L, -1);
                luaL_ref(L, LUA_REGISTRYINDEX);
                lua_pop(L, 1);
            }
        } else {
            luaL_error(L, "onnxcc.options: unknown option '%s' (known: quantize_weights, "
                       "group, wq_act, keep_float, quant_report, target, backend)", k);
        }
        lua_pop(L, 1);
    }
    if (q->group && q->weights >= QW_MXINT8)
        luaL_error(L, "onnxcc.options: group does not apply to the MX and NVFP4 formats");
    return 0;
}

static void open_onnxcc(lua_State *L)
{
    static const luaL_Reg fns[] = {{"run_pass", l_run_pass},
                                   {"pass", l_pass},
                                   {"options", l_options},
                                   {"quantize_if", l_quantize_if},
                                   {"builtin_passes", l_builtin_passes},
                                   {"pipeline", l_pipeline},
                                   {"graph", l_graph},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "onnxcc");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LX_PASSES);
    lx_open_graph(L);
}

/* The recipe's chunk, then the passes it returned, then the check that
 * plan ended it; runs under lx_pcall so any error stays a Lua error. */
static int run_recipe(lua_State *L)
{
    LxState *S = lx_of(L);
    if (luaL_loadfilex(L, S->ctx->pipeline, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "%s: the returned list holds a %s at %d, not a pass name",
                           S->ctx->pipeline, luaL_typename(L, -1), i);
            run_named(L, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "%s: a recipe returns a list of pass names or nothing, not a %s",
                   S->ctx->pipeline, luaL_typename(L, -1));
    }
    if (strcmp(S->last, "plan"))
        luaL_error(L, "%s: the pipeline must end with 'plan' (the last pass run: '%s')",
                   S->ctx->pipeline, S->n_run ? S->last : "none");
    return 0;
}

int lx_run_pipeline(Graph *g, int opt_level, PassCtx *ctx)
{
    ctx->opt_level = opt_level < 0 ? 0 : opt_level > 3 ? 3 : opt_level;
    LxState S;
    memset(&S, 0, sizeof S);
    S.g = g;
    S.ctx = ctx;
    S.order = ir_pipeline_passes(2);
    S.quant_orig = ctx->quant;
    if (ctx->quant)
        S.quant = *ctx->quant;
    ctx->quant = &S.quant;
    if (ctx->after_pass) /* inspect --diff: the graph before the recipe's first pass */
        ctx->after_pass(ctx->after_pass_arg, g, NULL, 0);
    int rc = 0;
    lua_State *L = lx_state_new(&S);
    if (!L) {
        rc = -1;
    } else {
        open_onnxcc(L);
        lua_pushcfunction(L, run_recipe);
        rc = lx_pcall(L, 0, 0) == LUA_OK ? 0 : -1;
    }
    if (rc < 0) {
        /* the recipe's message is the whole line: no model path before it */
        const char *m = L ? lua_tostring(L, -1) : NULL;
        const char *file = ctx->d->file;
        ctx->d->file = NULL;
        ir_error(ctx->d, "%s", m ? m : "out of memory starting Lua");
        ctx->d->file = file;
    }
    if (L)
        lua_close(L);
    ctx->quant = S.quant_orig;
    forget_answers(&S);
    free(S.keep_names);
    free(S.node_formats);
    return rc;
}
