/* graph_edit.c: the edits a recipe may make, each refused if it would break the graph. */
#include <string.h>

#include "lx_int.h"

static int same_type(const Value *a, const Value *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank || a->kind != b->kind)
        return 0;
    for (int i = 0; i < a->rank && i < IR_MAX_RANK; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

static const char *type_str(lua_State *L, const Value *v)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, rt_dtype_name(v->dtype));
    luaL_addchar(&b, '[');
    for (int i = 0; i < v->rank && i < IR_MAX_RANK; i++) {
        if (i)
            luaL_addchar(&b, ',');
        lua_pushinteger(L, v->dims[i]);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, ']');
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Where v is defined in the schedule: -1 before every node (an input or
 * a constant), the producer's place, or a Lua error when v is defined
 * nowhere (a dangling value). */
static int defined_at(lua_State *L, const Value *v)
{
    Graph *g = lx_of(L)->g;
    if (v->kind != VK_TENSOR)
        return luaL_error(L, "value '%s' is a sequence or optional: not editable", v->name);
    if (!v->producer) {
        if (v->is_input || v->data)
            return -1;
        return luaL_error(L, "value '%s' is neither computed, an input nor a constant",
                          v->name);
    }
    int at = v->producer->dead ? -1 : lx_node_index(g, v->producer);
    if (at < 0)
        return luaL_error(L, "value '%s' comes from a removed node", v->name);
    return at;
}

/* Which nodes a recipe may give new attributes or create: default-domain
 * ops over plain tensors with static shapes. Control flow and sequence ops
 * lower themselves into other nodes when inferred, onnxcc's own ops carry
 * parameters passes laid out, and run-time extents take pass_shape's probes:
 * none of these can be re-inferred alone. NULL if editable, else why not. */
static const char *not_editable(const Node *n)
{
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
        return "only default-domain ops are edited from Lua";
    if (n->op == OP_UNKNOWN || n->op == OP_IF || n->op == OP_LOOP || n->op == OP_SCAN ||
        n->op == OP_SEQUENCE_MAP || ir_op_takes_structures(n->op))
        return "control-flow and sequence ops are not edited from Lua";
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] && (n->in[i]->rt_mask || n->in[i]->dyn || n->in[i]->kind != VK_TENSOR))
            return "an input has run-time or data-dependent extents";
    return NULL;
}

/* n's shape function, run as pass_shape runs it (parameters cleared,
 * attribute types and narrow types checked, outputs within the limits).
 * 0, or -1 with why. */
static int infer_node(Graph *g, Node *n, char *why, size_t len)
{
    const char *no = not_editable(n);
    if (no) {
        snprintf(why, len, "%s", no);
        return -1;
    }
    Diag d = {0};
    int mark = g->n_nodes, rc = ir_check_narrow(n, 0, &d);
    n->n_ints = n->n_floats = 0;
    if (rc == 0)
        rc = ir_ops[n->op].infer(g, n, &d);
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].wanted) {
            d = (Diag){0};
            rc = ir_attr_check(n, &d);
            for (int k = 0; k < n->n_attrs; k++)
                n->attrs[k].wanted = AT_UNDEF;
            break;
        }
    /* not_editable keeps lowering ops out; this is onnxcc's own promise */
    IR_ASSERT(rc < 0 || (!n->dead && g->n_nodes == mark));
    if (rc == 0)
        rc = ir_check_narrow(n, 1, &d);
    for (int i = 0; i < n->n_out && rc == 0; i++) {
        Value *v = n->out[i];
        char lim[256];
        if (v && !ir_shape_known(v))
            rc = ir_node_error(&d, n, "output %d has no inferred shape", i);
        else if (v && ir_check_tensor(&g->limits, v->dtype, v->rank, v->dims, lim, sizeof lim))
            rc = ir_node_error(&d, n, "output '%s' %s", v->name, lim);
    }
    if (rc < 0)
        snprintf(why, len, "%s", d.msg[0] ? d.msg : "refused by its shape function");
    return rc < 0 ? -1 : 0;
}

/* Re-runs n's shape function after an attribute edit; the outputs must keep
 * their types, or the readers would see another tensor. 0 if all is well. */
static int reinfer(lua_State *L, Node *n, char *why, size_t len)
{
    LxState *S = lx_of(L);
    if (!S->shaped)
        return 0;
    Value saved[8];
    int n_out = n->n_out < 8 ? n->n_out : 8;
    for (int i = 0; i < n_out; i++)
        if (n->out[i])
            saved[i] = *n->out[i];
    if (infer_node(S->g, n, why, len) < 0)
        return -1;
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] && (i >= 8 || !same_type(&saved[i], n->out[i]))) {
            snprintf(why, len, "output '%s' would change type", n->out[i]->name);
            return -1;
        }
    return 0;
}

/* The Lua value at idx as an attribute named name (strings and numbers
 * copied into the graph's arena); a Lua error for anything else. */
static Attr to_attr(lua_State *L, int idx, const char *name)
{
    Graph *g = lx_of(L)->g;
    Attr a;
    memset(&a, 0, sizeof a);
    a.name = name;
    if (lua_isinteger(L, idx)) {
        a.type = AT_INT;
        a.i = lua_tointeger(L, idx);
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        a.type = AT_FLOAT;
        a.f = (float)lua_tonumber(L, idx);
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        a.type = AT_STRING;
        a.s = ir_strdup(g, s);
        a.s_len = strlen(a.s);
    } else if (lua_type(L, idx) == LUA_TTABLE) {
        int n = (int)luaL_len(L, idx), ints = 1;
        if (n < 1 || n > 4096)
            luaL_error(L, "attribute '%s': a list of 1 to 4096 numbers", name);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            if (lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "attribute '%s': element %d is a %s, not a number", name, i,
                           luaL_typename(L, -1));
            ints &= lua_isinteger(L, -1);
            lua_pop(L, 1);
        }
        a.type = ints ? AT_INTS : AT_FLOATS;
        a.n = n;
        if (ints)
            a.ints = ir_alloc(g, sizeof *a.ints * (size_t)n);
        else
            a.floats = ir_alloc(g, sizeof *a.floats * (size_t)n);
        if (!a.ints && !a.floats)
            luaL_error(L, "out of memory");
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            if (ints)
                a.ints[i - 1] = lua_tointeger(L, -1);
            else
                a.floats[i - 1] = (float)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else {
        luaL_error(L, "attribute '%s': a %s is not an attribute value (integer, number, "
                   "string or list of numbers)", name, luaL_typename(L, idx));
    }
    return a;
}

/* node:set_attr(name, value): sets or replaces an attribute; the node's
 * shape function re-runs and must accept it without changing its outputs'
 * types, else the node is left as it was. */
int lx_node_set_attr(lua_State *L)
{
    LxState *S = lx_of(L);
    Node *n = lx_check_node(L, 1);
    const char *name = luaL_checkstring(L, 2);
    luaL_checkany(L, 3);
    if (S->packed)
        return luaL_error(L, "set_attr on node '%s': attributes are fixed once 'pack' has run",
                          n->name);
    const char *no = not_editable(n);
    if (no)
        return luaL_error(L, "set_attr on node '%s' (%s): %s", n->name, n->op_type, no);
    Attr a = to_attr(L, 3, name);
    Attr *old = n->attrs;
    int n_old = n->n_attrs, at = -1;
    for (int i = 0; i < n_old; i++)
        if (!strcmp(old[i].name, name))
            at = i;
    Attr *arr = ir_alloc(S->g, sizeof *arr * (size_t)(n_old + 1));
    if (!arr)
        return luaL_error(L, "out of memory");
    if (n_old)
        memcpy(arr, old, sizeof *arr * (size_t)n_old);
    a.name = ir_strdup(S->g, name);
    arr[at >= 0 ? at : n_old] = a;
    /* the kernel parameters infer rewrites, kept to restore on refusal */
    int n_ints = n->n_ints, n_floats = n->n_floats;
    int64_t ints[IR_MAX_INTS];
    float floats[IR_MAX_FLOATS];
    memcpy(ints, n->ints, sizeof ints);
    memcpy(floats, n->floats, sizeof floats);
    n->attrs = arr;
    n->n_attrs = at >= 0 ? n_old : n_old + 1;
    char why[1100];
    if (reinfer(L, n, why, sizeof why) < 0) {
        n->attrs = old;
        n->n_attrs = n_old;
        n->n_ints = n_ints;
        n->n_floats = n_floats;
        memcpy(n->ints, ints, sizeof ints);
        memcpy(n->floats, floats, sizeof floats);
        char tmp[1100];
        reinfer(L, n, tmp, sizeof tmp);
        return luaL_error(L, "set_attr '%s' on node '%s' (%s) refused: %s", name, n->name,
                          n->op_type, why);
    }
    return 0;
}

/* node:set_input(i, value): input i (1-based) reads value instead; it must
 * have the old input's type and be defined before the node (no cycle). */
int lx_node_set_input(lua_State *L)
{
    Graph *g = lx_of(L)->g;
    Node *n = lx_check_node(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    Value *v = lx_check_value(L, 3);
    if (i < 1 || i > n->n_in)
        return luaL_error(L, "set_input: node '%s' has %d inputs, not %d", n->name, n->n_in,
                          (int)i);
    Value *old = n->in[i - 1];
    if (!old)
        return luaL_error(L, "set_input: input %d of node '%s' is omitted", (int)i, n->name);
    if (!same_type(old, v))
        return luaL_error(L, "set_input: node '%s' input %d is %s, value '%s' is %s", n->name,
                          (int)i, type_str(L, old), v->name, type_str(L, v));
    if (defined_at(L, v) >= lx_node_index(g, n))
        return luaL_error(L, "set_input: value '%s' is computed at or after node '%s' "
                          "(a cycle)", v->name, n->name);
    ir_set_input(g, n, (int)i - 1, v);
    return 0;
}

/* The node the table at index spec describes ({op=, inputs=, attributes=,
 * name=}), added after the last producer of its inputs and inferred; a Lua
 * error naming who on any refusal. */
static Node *add_node_from(lua_State *L, int spec, const char *who)
{
    LxState *S = lx_of(L);
    Graph *g = S->g;
    luaL_checktype(L, spec, LUA_TTABLE);
    if (!S->shaped)
        luaL_error(L, "%s: run 'shape' first (the new node's types come from its inputs')",
                   who);
    lua_getfield(L, spec, "op");
    const char *op = luaL_checkstring(L, -1);
    int kind = ir_op_lookup("", op);
    if (kind < 0)
        luaL_error(L, "%s: unknown op '%s'", who, op);
    lua_getfield(L, spec, "name");
    const char *name = luaL_optstring(L, -1, NULL);
    if (name)
        for (int k = 0; k < g->n_nodes; k++)
            if (!g->nodes[k]->dead && g->nodes[k]->name && !strcmp(g->nodes[k]->name, name))
                luaL_error(L, "%s: a node named '%s' exists", who, name);
    if (lua_getfield(L, spec, "inputs") != LUA_TTABLE)
        luaL_error(L, "%s: inputs is a list of values", who);
    int n_in = (int)luaL_len(L, -1), last = -1;
    if (n_in > 64)
        luaL_error(L, "%s: at most 64 inputs", who);
    Value *in[64];
    for (int i = 0; i < n_in; i++) {
        lua_rawgeti(L, -1, i + 1);
        in[i] = lx_check_value(L, lua_gettop(L));
        int at = defined_at(L, in[i]);
        last = at > last ? at : last;
        lua_pop(L, 1);
    }
    int t = lua_getfield(L, spec, "attributes");
    if (t != LUA_TNIL)
        luaL_checktype(L, -1, LUA_TTABLE);
    /* every attribute converted before the graph changes */
    Attr attrs[64];
    int n_attrs = 0;
    if (t != LUA_TNIL) {
        int at = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, at)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "%s: attribute names are strings", who);
            if (n_attrs == 64)
                luaL_error(L, "%s: at most 64 attributes", who);
            attrs[n_attrs++] = to_attr(L, lua_gettop(L), lua_tostring(L, -2));
            lua_pop(L, 1);
        }
    }
    int mark = g->n_nodes;
    Node *n = ir_add_node(g, op, ir_opset(g, ""), name, n_in, in, NULL);
    for (int i = 0; i < n_attrs; i++)
        ir_add_attr(g, n, attrs[i]);
    if (last >= 0)
        ir_place_after(g, g->nodes[last], mark);
    else if (mark > 0)
        ir_place_before(g, g->nodes[0], mark);
    char why[1100];
    if (infer_node(g, n, why, sizeof why) < 0) {
        ir_node_kill(n);
        luaL_error(L, "%s: %s", who, why);
    }
    return n;
}

/* g:add_node{op=, inputs={...}, attributes={...}, name=}: a default-domain
 * node placed right after the last producer of its inputs; its shape
 * function runs now. Returns the node (its outputs[1] is the result). */
int lx_graph_add_node(lua_State *L)
{
    lx_push_node(L, add_node_from(L, 2, "add_node"));
    return 1;
}

static int in_set(Node *const *set, int n, const Node *nd)
{
    for (int i = 0; i < n; i++)
        if (set[i] == nd)
            return 1;
    return 0;
}

/* g:replace({nodes...}, {op=, inputs=, attributes=, name=}): the nodes
 * (a matched subgraph) give way to one new node. Exactly one of their
 * values may be read outside them, and the new node computes it: of its
 * type, from values defined outside the set, before its readers. */
int lx_graph_replace(lua_State *L)
{
    Graph *g = lx_of(L)->g;
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    int n = (int)luaL_len(L, 2);
    if (n < 1 || n > 64)
        return luaL_error(L, "replace: a list of 1 to 64 nodes");
    Node *set[64];
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 2, i + 1);
        set[i] = lx_check_node(L, lua_gettop(L));
        lua_pop(L, 1);
        const char *why = not_editable(set[i]);
        if (why)
            return luaL_error(L, "replace: node '%s' (%s): %s", set[i]->name, set[i]->op_type,
                              why);
        if (in_set(set, i, set[i]))
            return luaL_error(L, "replace: node '%s' is listed twice", set[i]->name);
    }
    Value *root = NULL;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < set[i]->n_out; j++) {
            Value *o = set[i]->out[j];
            if (!o)
                continue;
            if (o->is_output)
                return luaL_error(L, "replace: '%s' computes the graph output '%s'",
                                  set[i]->name, o->name);
            for (Use *u = o->uses; u; u = u->next) {
                if (in_set(set, n, u->node) || o == root)
                    continue;
                if (root)
                    return luaL_error(L, "replace: both '%s' and '%s' are read outside the "
                                      "nodes (one value may be)", root->name, o->name);
                root = o;
            }
        }
    if (!root)
        return luaL_error(L, "replace: nothing outside the nodes reads them");
    lua_getfield(L, 3, "inputs");
    for (int i = 1; lua_istable(L, -1) && i <= (int)luaL_len(L, -1); i++) {
        lua_rawgeti(L, -1, i);
        Value *v = lx_check_value(L, lua_gettop(L));
        if (v->producer && in_set(set, n, v->producer))
            return luaL_error(L, "replace: input '%s' is computed by the nodes replaced",
                              v->name);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    Node *nd = add_node_from(L, 3, "replace");
    Value *y = nd->n_out == 1 ? nd->out[0] : NULL;
    const char *bad = !y                    ? "it must compute one value"
                      : !same_type(y, root) ? "its output's type differs"
                                            : NULL;
    int at = lx_node_index(g, nd);
    for (Use *u = root->uses; !bad && u; u = u->next)
        if (!in_set(set, n, u->node) && lx_node_index(g, u->node) <= at)
            bad = "a reader of the value comes before the new node's inputs are computed";
    if (bad) {
        ir_node_kill(nd);
        return luaL_error(L, "replace: the new %s node cannot stand for '%s' (%s%s%s): %s",
                          nd->op_type, root->name, type_str(L, root), y ? ", it computes " : "",
                          y ? type_str(L, y) : "", bad);
    }
    ir_replace_uses(g, root, y);
    for (int i = 0; i < n; i++)
        ir_node_kill(set[i]);
    lx_push_node(L, nd);
    return 1;
}

/* g:remove_node(node [, value]): removes a node whose outputs nobody reads,
 * or whose one output's readers are to read value instead (of its type,
 * defined before them). A graph output is never removed. */
int lx_graph_remove_node(lua_State *L)
{
    Graph *g = lx_of(L)->g;
    Node *n = lx_check_node(L, 2);
    Value *with = lua_isnoneornil(L, 3) ? NULL : lx_check_value(L, 3);
    for (int i = 0; i < n->n_out; i++) {
        Value *o = n->out[i];
        if (!o)
            continue;
        if (o->is_output)
            return luaL_error(L, "remove_node: '%s' computes the graph output '%s'", n->name,
                              o->name);
        if (o->uses && !with)
            return luaL_error(L, "remove_node: node '%s' reads '%s' (give a value to read "
                              "instead)", o->uses->node->name, o->name);
    }
    if (with) {
        Value *o = n->n_out == 1 ? n->out[0] : NULL;
        if (!o)
            return luaL_error(L, "remove_node: a replacement needs a node of one output");
        if (with == o)
            return luaL_error(L, "remove_node: '%s' cannot stand for itself", o->name);
        if (!same_type(o, with))
            return luaL_error(L, "remove_node: '%s' is %s, value '%s' is %s", o->name,
                              type_str(L, o), with->name, type_str(L, with));
        int at = defined_at(L, with);
        for (Use *u = o->uses; u; u = u->next)
            if (lx_node_index(g, u->node) <= at)
                return luaL_error(L, "remove_node: node '%s' reads '%s' but comes before "
                                  "value '%s' is computed", u->node->name, o->name, with->name);
        ir_replace_uses(g, o, with);
    }
    ir_node_kill(n);
    return 0;
}
