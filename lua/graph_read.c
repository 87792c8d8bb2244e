/* graph_read.c: the Graph, Node and Value userdata a recipe sees, and what they read. */
#include <fnmatch.h>
#include <string.h>

#include "lx_int.h"

#define MT_GRAPH "onnxcc.Graph"
#define MT_NODE "onnxcc.Node"
#define MT_VALUE "onnxcc.Value"

/* A handle holds the pointer and where it was last seen, so checking that
 * it still names a live node of the graph is usually one comparison. */
typedef struct Handle {
    void *p;
    int hint;
} Handle;

int lx_node_index(const Graph *g, const Node *n)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k] == n)
            return k;
    return -1;
}

void lx_push_graph(lua_State *L)
{
    Handle *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->p = lx_of(L)->g;
    h->hint = 0;
    luaL_setmetatable(L, MT_GRAPH);
}

void lx_push_node(lua_State *L, Node *n)
{
    Handle *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->p = n;
    h->hint = lx_node_index(lx_of(L)->g, n);
    luaL_setmetatable(L, MT_NODE);
}

void lx_push_value(lua_State *L, Value *v)
{
    if (!v) {
        lua_pushboolean(L, 0); /* an omitted optional input or output */
        return;
    }
    Handle *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->p = v;
    h->hint = v->id;
    luaL_setmetatable(L, MT_VALUE);
}

/* Nodes and values live in the graph's arena until it is freed, after the
 * state is closed; a handle to a removed node or a dropped value is
 * refused, never followed. */
Node *lx_check_node(lua_State *L, int arg)
{
    Handle *h = luaL_checkudata(L, arg, MT_NODE);
    Graph *g = lx_of(L)->g;
    if (h->hint < 0 || h->hint >= g->n_nodes || g->nodes[h->hint] != h->p)
        h->hint = lx_node_index(g, h->p);
    if (h->hint < 0 || ((Node *)h->p)->dead)
        luaL_error(L, "bad argument #%d: the node was removed from the graph", arg);
    return h->p;
}

Value *lx_check_value(lua_State *L, int arg)
{
    Handle *h = luaL_checkudata(L, arg, MT_VALUE);
    Graph *g = lx_of(L)->g;
    if (h->hint < 0 || h->hint >= g->n_values || g->values[h->hint] != h->p)
        luaL_error(L, "bad argument #%d: the value is no longer in the graph", arg);
    return h->p;
}

/* ---- graph ---- */

static int g_nodes_next(lua_State *L)
{
    Graph *g = lx_of(L)->g;
    lua_Integer k = lua_tointeger(L, lua_upvalueindex(1));
    while (k < g->n_nodes && g->nodes[k]->dead)
        k++;
    if (k >= g->n_nodes)
        return 0;
    lua_pushinteger(L, k + 1);
    lua_replace(L, lua_upvalueindex(1));
    lx_push_node(L, g->nodes[k]);
    return 1;
}

/* g:nodes(): the live nodes in schedule order, for a generic for. */
static int g_nodes(lua_State *L)
{
    luaL_checkudata(L, 1, MT_GRAPH);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, g_nodes_next, 1);
    return 1;
}

static int field_matches(lua_State *L, int spec, const char *key, const char *have, int glob)
{
    int t = lua_getfield(L, spec, key);
    int ok = 1;
    if (t != LUA_TNIL) {
        const char *want = luaL_checkstring(L, -1);
        ok = have && (glob ? fnmatch(want, have, 0) == 0 : !strcmp(want, have));
    }
    lua_pop(L, 1);
    return ok;
}

/* g:find{op=, name=, domain=}: a list of the live nodes matching every
 * given field (name is a shell pattern, as --keep-float's). */
static int g_find(lua_State *L)
{
    luaL_checkudata(L, 1, MT_GRAPH);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "op") && strcmp(k, "name") && strcmp(k, "domain"))
            luaL_error(L, "g:find: unknown field '%s' (op, name, domain)", k);
        lua_pop(L, 1);
    }
    Graph *g = lx_of(L)->g;
    lua_newtable(L);
    int n = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *nd = g->nodes[k];
        if (nd->dead || !field_matches(L, 2, "op", nd->op_type, 0) ||
            !field_matches(L, 2, "name", nd->name, 1) ||
            !field_matches(L, 2, "domain", nd->domain ? nd->domain : "", 0))
            continue;
        lx_push_node(L, nd);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

/* The one node reading v, if v has exactly one reader and is no graph output. */
static Node *sole_reader(const Value *v)
{
    if (!v || v->is_output || !v->uses || v->uses->next)
        return NULL;
    return v->uses->node;
}

/* g:match{op1, op2, ...}: every chain of live nodes with these ops ("*" for
 * any), each reading the one output of the one before it, which nothing
 * else reads: the shape of a fusion. A list of chains, each a list of nodes. */
static int g_match(lua_State *L)
{
    luaL_checkudata(L, 1, MT_GRAPH);
    luaL_checktype(L, 2, LUA_TTABLE);
    int len = (int)luaL_len(L, 2);
    if (len < 1 || len > 16)
        return luaL_error(L, "g:match: a list of 1 to 16 op names");
    const char *ops[16];
    for (int i = 0; i < len; i++) {
        lua_rawgeti(L, 2, i + 1);
        ops[i] = luaL_checkstring(L, -1);
        lua_pop(L, 1); /* the table keeps the string alive */
    }
    Graph *g = lx_of(L)->g;
    lua_newtable(L);
    int found = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        Node *chain[16];
        Node *nd = g->nodes[k];
        int i = 0;
        for (; i < len && nd && !nd->dead; i++) {
            if (strcmp(ops[i], "*") && strcmp(ops[i], nd->op_type))
                break;
            chain[i] = nd;
            if (i + 1 < len)
                nd = nd->n_out == 1 ? sole_reader(nd->out[0]) : NULL;
        }
        if (i < len)
            continue;
        lua_createtable(L, len, 0);
        for (int j = 0; j < len; j++) {
            lx_push_node(L, chain[j]);
            lua_rawseti(L, -2, j + 1);
        }
        lua_rawseti(L, -2, ++found);
    }
    return 1;
}

static void push_value_list(lua_State *L, Value **v, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lx_push_value(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* g:value(name) / g:node(name): one by name, or nil. */
static int g_value(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    Value *v = ir_value_find(lx_of(L)->g, name);
    if (!v)
        return 0;
    lx_push_value(L, v);
    return 1;
}

static int g_node(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    Graph *g = lx_of(L)->g;
    for (int k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k]->dead && g->nodes[k]->name && !strcmp(g->nodes[k]->name, name)) {
            lx_push_node(L, g->nodes[k]);
            return 1;
        }
    return 0;
}

static int g_index(lua_State *L)
{
    luaL_checkudata(L, 1, MT_GRAPH);
    const char *k = luaL_checkstring(L, 2);
    Graph *g = lx_of(L)->g;
    if (!strcmp(k, "inputs"))
        push_value_list(L, g->inputs, g->n_inputs);
    else if (!strcmp(k, "outputs"))
        push_value_list(L, g->outputs, g->n_outputs);
    else if (!strcmp(k, "name"))
        lua_pushstring(L, g->name ? g->name : "");
    else if (!strcmp(k, "arena_bytes"))
        lua_pushinteger(L, g->arena_bytes);
    else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE)
        lua_getfield(L, -1, k);
    else
        lua_pushnil(L);
    return 1;
}

/* ---- nodes ---- */

static void push_attr(lua_State *L, const Attr *a)
{
    switch (a->type) {
    case AT_INT: lua_pushinteger(L, a->i); break;
    case AT_FLOAT: lua_pushnumber(L, a->f); break;
    case AT_STRING: lua_pushlstring(L, a->s ? a->s : "", a->s ? a->s_len : 0); break;
    case AT_INTS: case AT_FLOATS: case AT_STRINGS:
        lua_createtable(L, a->n, 0);
        for (int i = 0; i < a->n; i++) {
            if (a->type == AT_INTS)
                lua_pushinteger(L, a->ints[i]);
            else if (a->type == AT_FLOATS)
                lua_pushnumber(L, a->floats[i]);
            else
                lua_pushstring(L, a->strings[i] ? a->strings[i] : "");
            lua_rawseti(L, -2, i + 1);
        }
        break;
    default: /* tensors and graphs are named by their kind */
        lua_pushstring(L, ir_attr_type_name(a->type));
        break;
    }
}

static int n_index(lua_State *L)
{
    Node *n = lx_check_node(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "name")) {
        lua_pushstring(L, n->name ? n->name : "");
    } else if (!strcmp(k, "op")) {
        lua_pushstring(L, n->op_type);
    } else if (!strcmp(k, "domain")) {
        lua_pushstring(L, n->domain ? n->domain : "");
    } else if (!strcmp(k, "opset")) {
        lua_pushinteger(L, n->opset);
    } else if (!strcmp(k, "inputs")) {
        push_value_list(L, n->in, n->n_in);
    } else if (!strcmp(k, "outputs")) {
        push_value_list(L, n->out, n->n_out);
    } else if (!strcmp(k, "attributes")) {
        lua_createtable(L, 0, n->n_attrs);
        for (int i = 0; i < n->n_attrs; i++) {
            push_attr(L, &n->attrs[i]);
            lua_setfield(L, -2, n->attrs[i].name);
        }
    } else if (!strcmp(k, "flops")) {
        lua_pushnumber(L, ir_node_flops(n));
    } else if (!strcmp(k, "bytes")) {
        lua_pushnumber(L, ir_node_bytes(n));
    } else if (!strcmp(k, "is_constant")) {
        lua_pushboolean(L, ir_node_is_constant(n));
    } else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE) {
        lua_getfield(L, -1, k);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int n_tostring(lua_State *L)
{
    Node *n = lx_check_node(L, 1);
    lua_pushfstring(L, "node '%s' (%s)", n->name ? n->name : "", n->op_type);
    return 1;
}

/* Two handles of one node are equal. */
static int same(lua_State *L)
{
    Handle *a = lua_touserdata(L, 1), *b = lua_touserdata(L, 2);
    lua_pushboolean(L, a && b && a->p == b->p);
    return 1;
}

/* ---- values ---- */

/* v:data(): the elements of a constant as a flat Lua list (row-major). */
static int v_data(lua_State *L)
{
    Value *v = lx_check_value(L, 1);
    int64_t n = ir_numel(v);
    if (!v->data || v->kind != VK_TENSOR || n < 0)
        return luaL_error(L, "value '%s' is not a constant known at compile time", v->name);
    if (n > LX_MAX_DATA)
        return luaL_error(L, "value '%s' has %d elements; v:data() reads at most %d", v->name,
                          (int)(n > 1 << 30 ? 1 << 30 : n), LX_MAX_DATA);
    int dt = v->dtype;
    int flt = dt == RT_F32 || dt == RT_F64 || dt == RT_F16 || dt == RT_BF16;
    int in = dt == RT_I8 || dt == RT_I16 || dt == RT_I32 || dt == RT_I64 || dt == RT_U8 ||
             dt == RT_U16 || dt == RT_U32 || dt == RT_U64 || dt == RT_BOOL;
    if (!flt && !in)
        return luaL_error(L, "value '%s': v:data() does not read %s", v->name,
                          rt_dtype_name(dt));
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        if (dt == RT_BOOL)
            lua_pushboolean(L, rt_load_i64(v->data, dt, i) != 0);
        else if (flt)
            lua_pushnumber(L, rt_load_f64(v->data, dt, i));
        else
            lua_pushinteger(L, rt_load_i64(v->data, dt, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int v_index(lua_State *L)
{
    Value *v = lx_check_value(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "name")) {
        lua_pushstring(L, v->name ? v->name : "");
    } else if (!strcmp(k, "dtype")) {
        lua_pushstring(L, rt_dtype_name(v->dtype));
    } else if (!strcmp(k, "rank")) {
        lua_pushinteger(L, v->rank);
    } else if (!strcmp(k, "shape")) {
        if (v->rank < 0)
            return 0;
        lua_createtable(L, v->rank, 0);
        for (int i = 0; i < v->rank; i++) {
            if (v->dims[i] < 0 && v->dim_param[i])
                lua_pushstring(L, v->dim_param[i]);
            else
                lua_pushinteger(L, v->dims[i]);
            lua_rawseti(L, -2, i + 1);
        }
    } else if (!strcmp(k, "numel")) {
        lua_pushinteger(L, ir_numel(v));
    } else if (!strcmp(k, "nbytes")) {
        size_t b = ir_nbytes(v);
        lua_pushinteger(L, b > (size_t)INT64_MAX ? INT64_MAX : (lua_Integer)b);
    } else if (!strcmp(k, "is_constant")) {
        lua_pushboolean(L, v->data != NULL);
    } else if (!strcmp(k, "is_input")) {
        lua_pushboolean(L, v->is_input);
    } else if (!strcmp(k, "is_output")) {
        lua_pushboolean(L, v->is_output);
    } else if (!strcmp(k, "producer")) {
        if (!v->producer || v->producer->dead)
            return 0;
        lx_push_node(L, v->producer);
    } else if (!strcmp(k, "users")) {
        lua_newtable(L);
        int i = 0;
        for (Use *u = v->uses; u; u = u->next) {
            lx_push_node(L, u->node);
            lua_rawseti(L, -2, ++i);
        }
    } else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE) {
        lua_getfield(L, -1, k);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int v_tostring(lua_State *L)
{
    Value *v = lx_check_value(L, 1);
    lua_pushfstring(L, "value '%s' (%s)", v->name ? v->name : "", rt_dtype_name(v->dtype));
    return 1;
}

static void new_type(lua_State *L, const char *mt, lua_CFunction index, lua_CFunction tostr,
                     const luaL_Reg *methods)
{
    luaL_newmetatable(L, mt);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    if (tostr) {
        lua_pushcfunction(L, tostr);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pushcfunction(L, same);
    lua_setfield(L, -2, "__eq");
    lua_pushliteral(L, "onnxcc");
    lua_setfield(L, -2, "__metatable"); /* getmetatable cannot reach the methods */
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
}

void lx_open_graph(lua_State *L)
{
    static const luaL_Reg gm[] = {{"nodes", g_nodes},
                                  {"find", g_find},
                                  {"value", g_value},
                                  {"node", g_node},
                                  {"add_node", lx_graph_add_node},
                                  {"remove_node", lx_graph_remove_node},
                                  {"replace", lx_graph_replace},
                                  {"match", g_match},
                                  {NULL, NULL}};
    static const luaL_Reg nm[] = {{"set_attr", lx_node_set_attr},
                                  {"set_input", lx_node_set_input},
                                  {NULL, NULL}};
    static const luaL_Reg vm[] = {{"data", v_data}, {NULL, NULL}};
    new_type(L, MT_GRAPH, g_index, NULL, gm);
    new_type(L, MT_NODE, n_index, n_tostring, nm);
    new_type(L, MT_VALUE, v_index, v_tostring, vm);
}
