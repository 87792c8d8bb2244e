/* lx_int.h: what the files of lua/ share: the recipe's state and the graph API's entry points. */
#ifndef ONNXCC_LX_INT_H
#define ONNXCC_LX_INT_H

#include <lauxlib.h>
#include <lua.h>

#include "lx.h"

/* Bounds a recipe runs within (docs/lua.md, "Safety"). */
#define LX_MEM_LIMIT ((size_t)256 << 20)   /* bytes the Lua state may hold */
#define LX_STEP_LIMIT 200000000LL         /* Lua VM instructions in all */
#define LX_HOOK_EVERY 10000               /* instructions between two checks */
#define LX_MAX_DATA 65536                 /* elements v:data() returns at most */

typedef struct LxState {
    lua_State *L;
    size_t mem;                  /* bytes the allocator has handed out */
    long long steps;             /* instructions run, in LX_HOOK_EVERY units */
    Graph *g;
    PassCtx *ctx;
    const QuantOpts *quant_orig; /* the command line's options, restored at the end */
    QuantOpts quant;             /* the recipe's: the command line's, then onnxcc.options */
    const char *const *order;    /* the -O2 list: built-in passes run in its order */
    int pos;                     /* the next place in order a built-in pass may take */
    int n_run;                   /* passes run so far */
    int shaped;                  /* "shape" has run: types are known, infer may run */
    int packed;                  /* "pack" has run: kernel parameters are final */
    char last[64];               /* the last pass run */
    char **keep_names;           /* nodes the recipe's quantize_if keeps in float */
    int n_keep_names;
    QuantNodeFormat *node_formats; /* nodes it gave a format of their own (names malloc'ed) */
    int n_node_formats;
} LxState;

/* lua/sandbox.c */
/* A state with only the safe libraries, the limits, and print on stderr;
 * NULL when out of memory. */
lua_State *lx_state_new(LxState *S);
LxState *lx_of(lua_State *L);
/* Calls the function under nargs arguments with a handler that keeps the
 * message to one line; LUA_OK, or an error with the message on the stack. */
int lx_pcall(lua_State *L, int nargs, int nres);

/* lua/graph_read.c: the Graph, Node and Value userdata and what they read */
void lx_open_graph(lua_State *L);
void lx_push_graph(lua_State *L);
void lx_push_node(lua_State *L, Node *n);
void lx_push_value(lua_State *L, Value *v);
/* The live node / value at arg, or a Lua error (a removed one is refused). */
Node *lx_check_node(lua_State *L, int arg);
Value *lx_check_value(lua_State *L, int arg);
int lx_node_index(const Graph *g, const Node *n); /* its place in g->nodes, -1: none */

/* lua/graph_edit.c: edits that keep the graph valid, or refuse */
int lx_node_set_attr(lua_State *L);
int lx_node_set_input(lua_State *L);
int lx_graph_add_node(lua_State *L);
int lx_graph_remove_node(lua_State *L);
int lx_graph_replace(lua_State *L);

#endif
