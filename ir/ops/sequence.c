/* sequence.c: sequences and optionals. onnxcc resolves them at compile time:
 * each op computes its output's list of tensors, so only the tensors inside
 * ever run, and a position or split that decides the structure must be
 * constant (a graph input that does is compiled in from its sample). */
#include <string.h>

#include "ir.h"
#include "shape_util.h"

int ir_op_takes_structures(int op)
{
    switch (op) {
    case OP_IDENTITY:
    case OP_SEQUENCE_INSERT:
    case OP_SEQUENCE_ERASE:
    case OP_SEQUENCE_AT:
    case OP_SEQUENCE_LENGTH:
    case OP_CONCAT_FROM_SEQUENCE:
    case OP_OPTIONAL:
    case OP_OPTIONAL_HAS_ELEMENT:
    case OP_OPTIONAL_GET_ELEMENT:
    case OP_LOOP:
    case OP_SEQUENCE_MAP:
        return 1;
    default:
        return 0;
    }
}

void ir_alias_structure(Value *out, const Value *v)
{
    out->kind = v->kind;
    out->dtype = v->dtype;
    out->n_elems = v->n_elems;
    out->elems = v->elems;
    out->rank = v->rank;
    memcpy(out->dims, v->dims, sizeof out->dims);
}

/* Sets n's output to a resolved sequence/optional of n_elems values; the node
 * itself has nothing left to run. */
static int set_structure(Graph *g, Node *n, int kind, int dtype, int n_elems, Value *const *e)
{
    Value *y = n->out[0];
    ir_node_kill(n);
    if (!y)
        return 0;
    y->kind = kind;
    y->dtype = dtype;
    y->rank = -1;
    y->n_elems = n_elems;
    y->elems = ir_alloc(g, sizeof *y->elems * (size_t)(n_elems + 1));
    IR_ASSERT(y->elems);
    for (int i = 0; i < n_elems; i++)
        y->elems[i] = e[i];
    return 0;
}

static const Value *need_kind(Diag *d, const Node *n, int i, int kind)
{
    static const char *const names[] = {"a tensor", "a sequence", "an optional"};
    const Value *v = ir_input(n, i);
    if (!v) {
        ir_node_error(d, n, "input %d is missing", i);
        return NULL;
    }
    if (v->kind != kind) {
        ir_node_error(d, n, "input %d ('%s') is %s, not %s", i, v->name, names[v->kind],
                      names[kind]);
        return NULL;
    }
    return v;
}

/* A constant position input i for a sequence of len elements; def when
 * absent. A negative one counts from the back; the result must be in
 * [0, limit) (limit is len + 1 for an insertion). */
static int position(Diag *d, const Node *n, int i, int64_t def, int64_t len, int64_t limit,
                    int64_t *pos)
{
    const Value *p = ir_input(n, i);
    *pos = def;
    if (p) {
        if (ir_numel(p) != 1)
            return ir_node_error(d, n, "position must hold one value");
        if (ir_const_ints(p, pos, 1) != 1)
            return ir_err_not_const(d, n, i);
    }
    int64_t given = *pos;
    if (*pos < 0)
        *pos += len;
    if (*pos < 0 || *pos >= limit)
        return ir_node_error(d, n, "position %lld is out of range for a sequence of %lld",
                             (long long)given, (long long)len);
    return 0;
}

int ir_infer_sequence_empty(Graph *g, Node *n, Diag *d)
{
    (void)d;
    return set_structure(g, n, VK_SEQUENCE, (int)ir_attr_int(n, "dtype", RT_F32), 0, NULL);
}

int ir_infer_sequence_construct(Graph *g, Node *n, Diag *d)
{
    if (n->n_in < 1)
        return ir_node_error(d, n, "needs at least one input");
    for (int i = 0; i < n->n_in; i++) {
        const Value *v = need_kind(d, n, i, VK_TENSOR);
        if (!v)
            return -1;
        if (v->dtype != n->in[0]->dtype)
            return ir_node_error(d, n, "input %d is %s, input 0 is %s", i,
                                 rt_dtype_name(v->dtype), rt_dtype_name(n->in[0]->dtype));
    }
    return set_structure(g, n, VK_SEQUENCE, n->in[0]->dtype, n->n_in, n->in);
}

int ir_infer_sequence_insert(Graph *g, Node *n, Diag *d)
{
    const Value *s = need_kind(d, n, 0, VK_SEQUENCE);
    const Value *t = s ? need_kind(d, n, 1, VK_TENSOR) : NULL;
    if (!t)
        return -1;
    if (s->n_elems && t->dtype != s->dtype)
        return ir_node_error(d, n, "inserts %s into a sequence of %s", rt_dtype_name(t->dtype),
                             rt_dtype_name(s->dtype));
    int64_t pos;
    /* insertion may also go at the end: one more valid position */
    if (position(d, n, 2, s->n_elems, s->n_elems, s->n_elems + 1, &pos) < 0)
        return -1;
    Value *e[s->n_elems + 1];
    for (int i = 0, j = 0; i <= s->n_elems; i++)
        e[i] = i == pos ? n->in[1] : s->elems[j++];
    return set_structure(g, n, VK_SEQUENCE, t->dtype, s->n_elems + 1, e);
}

int ir_infer_sequence_erase(Graph *g, Node *n, Diag *d)
{
    const Value *s = need_kind(d, n, 0, VK_SEQUENCE);
    if (!s)
        return -1;
    if (s->n_elems == 0)
        return ir_node_error(d, n, "erases from an empty sequence");
    int64_t pos;
    if (position(d, n, 1, s->n_elems - 1, s->n_elems, s->n_elems, &pos) < 0)
        return -1;
    Value *e[s->n_elems];
    for (int i = 0, j = 0; i < s->n_elems; i++)
        if (i != pos)
            e[j++] = s->elems[i];
    return set_structure(g, n, VK_SEQUENCE, s->dtype, s->n_elems - 1, e);
}

/* n becomes an Identity of v: a tensor taken out of a structure. */
static int become_identity(Graph *g, Node *n, Diag *d, Value *v)
{
    n->op = OP_IDENTITY;
    ir_set_n_in(g, n, 1);
    ir_set_input(g, n, 0, v);
    return ir_infer_identity(g, n, d);
}

int ir_infer_sequence_at(Graph *g, Node *n, Diag *d)
{
    const Value *s = need_kind(d, n, 0, VK_SEQUENCE);
    if (!s)
        return -1;
    int64_t pos;
    if (!ir_input(n, 1))
        return ir_node_error(d, n, "input 1 (position) is missing");
    if (position(d, n, 1, 0, s->n_elems, s->n_elems, &pos) < 0)
        return -1;
    return become_identity(g, n, d, s->elems[pos]);
}

int ir_infer_sequence_length(Graph *g, Node *n, Diag *d)
{
    const Value *s = need_kind(d, n, 0, VK_SEQUENCE);
    if (!s)
        return -1;
    ir_set_out(n, 0, RT_I64, 0, NULL);
    int64_t *p = ir_value_alloc_data(g, n->out[0]);
    IR_ASSERT(p);
    *p = s->n_elems;
    ir_node_kill(n);
    return 0;
}

/* The pieces become the outputs of a Split (and Squeezes) placed after n. */
int ir_infer_split_to_sequence(Graph *g, Node *n, Diag *d)
{
    const Value *x = need_kind(d, n, 0, VK_TENSOR);
    if (!x)
        return -1;
    int axis = ir_axis(ir_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return ir_node_error(d, n, "axis is out of range for rank %d", x->rank);
    int64_t dim = x->dims[axis], sizes[IR_MAX_INTS];
    int k = 0, squeeze = 0;
    const Value *sp = ir_input(n, 1);
    if (!sp) {
        if (dim > IR_MAX_INTS)
            return ir_node_error(d, n, "splits an axis of %lld into pieces; onnxcc supports "
                                 "up to %d", (long long)dim, IR_MAX_INTS);
        for (k = 0; k < dim; k++)
            sizes[k] = 1;
        squeeze = !ir_attr_int(n, "keepdims", 1);
    } else if (sp->rank == 0) {
        int64_t size;
        if (ir_const_ints(sp, &size, 1) != 1)
            return ir_err_not_const(d, n, 1);
        if (size <= 0)
            return ir_node_error(d, n, "split size %lld must be positive", (long long)size);
        for (int64_t at = 0; at < dim; at += size) {
            if (k == IR_MAX_INTS)
                return ir_node_error(d, n, "more than %d pieces", IR_MAX_INTS);
            sizes[k++] = dim - at < size ? dim - at : size;
        }
    } else {
        k = ir_const_ints(sp, sizes, IR_MAX_INTS);
        if (k < 0)
            return sp->data ? ir_node_error(d, n, "more than %d pieces", IR_MAX_INTS)
                            : ir_err_not_const(d, n, 1);
    }
    if (k == 0)
        return set_structure(g, n, VK_SEQUENCE, x->dtype, 0, NULL);
    int mark = g->n_nodes;
    int64_t kk = k, ax = axis;
    Value *in[2] = {n->in[0], ir_const_i64(g, sizes, 1, &kk)};
    Node *s = ir_node_new(g, "Split", "", n->name, 2, k);
    s->opset = 13;
    ir_set_input(g, s, 0, in[0]);
    ir_set_input(g, s, 1, in[1]);
    ir_set_attr_int(g, s, "axis", axis);
    Value *e[k];
    for (int i = 0; i < k; i++) {
        char nm[160];
        snprintf(nm, sizeof nm, "%s[%d]", n->out[0] ? n->out[0]->name : n->name, i);
        e[i] = s->out[i] = ir_value_new(g, nm);
        e[i]->producer = s;
        if (squeeze) {
            Value *q[2] = {e[i], ir_const_i64(g, &ax, 1, (int64_t[]){1})};
            e[i] = ir_add_node(g, "Squeeze", 13, NULL, 2, q, NULL)->out[0];
        }
    }
    ir_place_after(g, n, mark);
    return set_structure(g, n, VK_SEQUENCE, x->dtype, k, e);
}

/* A Concat (of Unsqueezes for new_axis) placed after n produces its output. */
int ir_infer_concat_from_sequence(Graph *g, Node *n, Diag *d)
{
    const Value *s = need_kind(d, n, 0, VK_SEQUENCE);
    if (!s)
        return -1;
    if (s->n_elems == 0)
        return ir_node_error(d, n, "concatenates an empty sequence");
    int64_t axis = ir_attr_int(n, "axis", 0);
    int new_axis = ir_attr_int(n, "new_axis", 0) != 0;
    int mark = g->n_nodes;
    Value *parts[s->n_elems];
    for (int i = 0; i < s->n_elems; i++) {
        parts[i] = s->elems[i];
        if (new_axis) {
            Value *q[2] = {parts[i], ir_const_i64(g, &axis, 1, (int64_t[]){1})};
            parts[i] = ir_add_node(g, "Unsqueeze", 13, NULL, 2, q, NULL)->out[0];
        }
    }
    Node *c = ir_add_node(g, "Concat", 13, n->name, s->n_elems, parts, n->out[0]);
    ir_set_attr_int(g, c, "axis", axis);
    ir_place_after(g, n, mark);
    ir_node_kill(n);
    return 0;
}

int ir_infer_optional(Graph *g, Node *n, Diag *d)
{
    (void)d;
    Value *x = n->n_in > 0 ? n->in[0] : NULL;
    const Attr *t = ir_attr(n, "type");
    int dtype = x ? x->dtype : RT_UNDEF;
    (void)t; /* an empty optional's element type matters only to its consumers */
    return set_structure(g, n, VK_OPTIONAL, dtype, x ? 1 : 0, &x);
}

int ir_infer_optional_has_element(Graph *g, Node *n, Diag *d)
{
    (void)d;
    const Value *x = ir_input(n, 0);
    int has = x && (x->kind != VK_OPTIONAL || x->n_elems == 1);
    ir_set_out(n, 0, RT_BOOL, 0, NULL);
    unsigned char *p = ir_value_alloc_data(g, n->out[0]);
    IR_ASSERT(p);
    *p = (unsigned char)has;
    ir_node_kill(n);
    return 0;
}

int ir_infer_optional_get_element(Graph *g, Node *n, Diag *d)
{
    Value *x = (Value *)ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "input 0 is missing");
    if (x->kind == VK_OPTIONAL) {
        if (x->n_elems == 0)
            return ir_node_error(d, n, "the optional '%s' is empty", x->name);
        x = x->elems[0];
    }
    if (x->kind == VK_TENSOR)
        return become_identity(g, n, d, x);
    if (n->out[0])
        ir_alias_structure(n->out[0], x);
    ir_node_kill(n);
    return 0;
}
