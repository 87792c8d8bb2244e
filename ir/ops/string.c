/* string.c: shape functions of the string ops: Cast/CastLike with a string side,
 * StringNormalizer, StringConcat, StringSplit, RegexFullMatch. */
#include <string.h>

#include "ir.h"

/* Output i of n, created when the node does not have it yet: the hidden
 * outputs a string kernel writes (its byte pool, a dynamic count) are not in
 * the ONNX node. Idempotent, so a second shape inference finds them again. */
static Value *hidden_output(Graph *g, Node *n, int i, const char *what)
{
    if (i >= n->n_out) {
        Value **out = ir_alloc(g, sizeof *out * (size_t)(i + 2));
        IR_ASSERT(out);
        memcpy(out, n->out, sizeof *out * (size_t)n->n_out);
        n->out = out;
        n->n_out = i + 1;
    }
    if (!n->out[i]) {
        char name[256];
        snprintf(name, sizeof name, "%.200s/%s", n->name, what);
        Value *v = ir_value_new(g, name);
        v->producer = n;
        n->out[i] = v;
    }
    return n->out[i];
}

/* The same for a hidden constant input (StringNormalizer's stopwords). */
static Value *hidden_input(Graph *g, Node *n, int i, const char *what)
{
    if (i >= n->n_in)
        ir_set_n_in(g, n, i + 1);
    if (!n->in[i]) {
        char name[256];
        snprintf(name, sizeof name, "%.200s/%s", n->name, what);
        ir_set_input(g, n, i, ir_value_new(g, name));
    }
    return n->in[i];
}

/* A uint8 pool of `bytes` as output i: the strings the kernel makes live there. */
static int set_pool(Graph *g, Node *n, int i, int64_t bytes)
{
    Value *p = hidden_output(g, n, i, "pool");
    p->is_pool = 1;
    return ir_set_out(n, i, RT_U8, 1, &bytes);
}

int ir_infer_cast_string(Graph *g, Node *n, int to, Diag *d)
{
    const Value *x = n->in[0];
    if (x->dtype == RT_STRING && to == RT_STRING)
        return ir_set_out(n, 0, RT_STRING, x->rank, x->dims);
    int other = x->dtype == RT_STRING ? to : x->dtype;
    if (!rt_dtype_size(other) || other == RT_STRING)
        return ir_node_error(d, n, "casts between string and %s are not supported",
                             rt_dtype_name(other));
    ir_set_out(n, 0, to, x->rank, x->dims);
    if (to != RT_STRING)
        return 0;
    /* every number's text fits one fixed slot, so the pool is exact */
    return set_pool(g, n, 1, ir_numel(x) * RT_NUM_STR_BYTES);
}

/* Locales whose case mapping the kernel's ASCII + Latin-1 tables are right for. */
static int known_locale(const char *s)
{
    return !s[0] || !strcmp(s, "C") || !strncmp(s, "en", 2);
}

int ir_infer_string_normalizer(Graph *g, Node *n, Diag *d)
{
    if (n->n_in < 1 || !n->in[0])
        return ir_node_error(d, n, "expects 1 input");
    const Value *x = n->in[0];
    if (x->dtype != RT_STRING)
        return ir_node_error(d, n, "input is %s, expected string", rt_dtype_name(x->dtype));
    if (!(x->rank == 1 || (x->rank == 2 && x->dims[0] == 1)))
        return ir_node_error(d, n, "input must be [C] or [1, C], got rank %d%s", x->rank,
                             x->rank == 2 ? " with a first dimension other than 1" : "");
    const char *act = ir_attr_str(n, "case_change_action", "NONE");
    int action = !strcmp(act, "NONE") ? 0 : !strcmp(act, "LOWER") ? 1 : !strcmp(act, "UPPER")
                                                                         ? 2 : -1;
    if (action < 0)
        return ir_node_error(d, n, "case_change_action '%s' is not LOWER, UPPER or NONE", act);
    const char *locale = ir_attr_str(n, "locale", "");
    if (action && !known_locale(locale))
        return ir_node_error(d, n, "locale '%s' is not supported (only English case mapping: "
                             "ASCII and Latin-1)", locale);
    const Attr *sw = ir_attr(n, "stopwords");
    int n_stop = sw && sw->type == AT_STRINGS ? sw->n : 0;
    int64_t bound = g->max_string_bytes > 0 ? g->max_string_bytes : IR_MAX_STRING_BYTES;
    ir_param_int(n, RT_STRNORM_ACTION, action);
    ir_param_int(n, RT_STRNORM_CASE_SENSITIVE, ir_attr_int(n, "is_case_sensitive", 0) != 0);
    ir_param_int(n, RT_STRNORM_SLOT, bound + 1);
    ir_param_int(n, RT_STRNORM_DYNAMIC, n_stop > 0);
    /* outputs: the strings, the pool when the case changes, then (stopwords)
     * the extent ir_set_out_dyn appends last */
    if (action)
        set_pool(g, n, 1, ir_numel(x) * (bound + 1));
    if (!n_stop)
        return ir_set_out(n, 0, RT_STRING, x->rank, x->dims);
    /* the stopwords travel as a hidden constant input, a string array in the
     * generated code like any string constant */
    Value *w = hidden_input(g, n, 1, "stopwords");
    if (!w->data) {
        w->dtype = RT_STRING;
        w->rank = 1;
        w->dims[0] = n_stop;
        const char **p = ir_value_alloc_data(g, w);
        if (!p)
            return ir_node_error(d, n, "out of memory");
        memcpy(p, sw->strings, sizeof *p * (size_t)n_stop);
    }
    /* removing stopwords leaves at most C strings, at least one (ONNX: "" when
     * every one is removed) */
    return ir_set_out_dyn(g, n, 0, RT_STRING, x->rank, x->dims, x->rank - 1);
}

/* The bound on a string a kernel makes or reads at run time (--max-string-bytes). */
static int64_t string_bound(const Graph *g)
{
    return g->max_string_bytes > 0 ? g->max_string_bytes : IR_MAX_STRING_BYTES;
}

/* ---- StringConcat (opset 20) ---- */

int ir_infer_string_concat(Graph *g, Node *n, Diag *d)
{
    const Value *a = ir_input(n, 0), *b = ir_input(n, 1);
    if (!a || !b)
        return ir_node_error(d, n, "expects 2 inputs");
    if (a->dtype != RT_STRING || b->dtype != RT_STRING)
        return ir_node_error(d, n, "inputs are %s and %s, expected string",
                             rt_dtype_name(a->dtype), rt_dtype_name(b->dtype));
    int rank;
    int64_t dims[IR_MAX_RANK];
    if (ir_broadcast(a->rank, a->dims, b->rank, b->dims, &rank, dims))
        return ir_node_error(d, n, "the shapes of X and Y do not broadcast");
    /* a result may be as long as the bound allows (--max-string-bytes) */
    int64_t slot = string_bound(g) + 1, numel;
    if (ir_numel_checked(rank, dims, &numel))
        return ir_node_error(d, n, "the output has too many elements");
    ir_param_int(n, RT_STRCAT_SLOT, slot);
    ir_set_out(n, 0, RT_STRING, rank, dims);
    return set_pool(g, n, 1, numel * slot);
}

/* ---- StringSplit (opset 20) ---- */

int ir_infer_string_split(Graph *g, Node *n, Diag *d)
{
    const Value *x = ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "expects 1 input");
    if (x->dtype != RT_STRING)
        return ir_node_error(d, n, "input is %s, expected string", rt_dtype_name(x->dtype));
    if (x->rank + 1 > IR_MAX_RANK)
        return ir_node_error(d, n, "input rank %d leaves no room for the pieces' axis",
                             x->rank);
    const Attr *ms = ir_attr(n, "maxsplit");
    int64_t maxsplit = ms && ms->type == AT_INT ? ms->i : -1;
    if (ms && (ms->type != AT_INT || ms->i < 0))
        return ir_node_error(d, n, "attribute 'maxsplit' must be a non-negative integer");
    const char *sep = ir_attr_str(n, "delimiter", "");
    /* a string of at most `bound` bytes splits into at most bound + 1 pieces
     * (maxsplit + 1 at most), their bytes and NULs in 2 * bound + 2 */
    int64_t bound = string_bound(g), width = bound + 1, numel = ir_numel(x);
    if (maxsplit >= 0 && maxsplit + 1 < width)
        width = maxsplit + 1;
    ir_param_int(n, RT_STRSPLIT_MAXSPLIT, maxsplit);
    ir_param_int(n, RT_STRSPLIT_SLOT, 2 * bound + 2);
    Value *dv = hidden_input(g, n, 1, "delimiter");
    if (!dv->data) {
        dv->dtype = RT_STRING;
        dv->rank = 0;
        const char **p = ir_value_alloc_data(g, dv);
        if (!p)
            return ir_node_error(d, n, "out of memory");
        p[0] = ir_strdup(g, sep);
    }
    hidden_output(g, n, 1, "length");
    ir_set_out(n, 1, RT_I64, x->rank, x->dims);
    set_pool(g, n, 2, numel * (2 * bound + 2));
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims[0] * (size_t)x->rank);
    dims[x->rank] = width;
    return ir_set_out_dyn(g, n, 0, RT_STRING, x->rank + 1, dims, x->rank);
}

/* ---- RegexFullMatch (opset 20) ---- */

int ir_infer_regex_full_match(Graph *g, Node *n, Diag *d)
{
    const Value *x = ir_input(n, 0);
    if (!x)
        return ir_node_error(d, n, "expects 1 input");
    if (x->dtype != RT_STRING)
        return ir_node_error(d, n, "input is %s, expected string", rt_dtype_name(x->dtype));
    const Attr *pa = ir_attr(n, "pattern");
    if (!pa || pa->type != AT_STRING)
        return ir_node_error(d, n, "attribute 'pattern' is required");
    if (strlen(pa->s) != pa->s_len)
        return ir_node_error(d, n, "the pattern holds a NUL byte");
    char why[200];
    if (rt_regex_check(pa->s, why, sizeof why))
        return ir_node_error(d, n, "pattern '%.200s': %s", pa->s, why);
    /* the pattern travels as a hidden string constant the kernel compiles */
    Value *pv = hidden_input(g, n, 1, "pattern");
    if (!pv->data) {
        pv->dtype = RT_STRING;
        pv->rank = 0;
        const char **p = ir_value_alloc_data(g, pv);
        if (!p)
            return ir_node_error(d, n, "out of memory");
        p[0] = pa->s;
    }
    return ir_set_out(n, 0, RT_BOOL, x->rank, x->dims);
}
