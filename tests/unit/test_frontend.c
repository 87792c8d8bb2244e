/* test_frontend.c: unit tests of the ONNX loader on conformance models and on malformed inputs. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "frontend/frontend.h"
#include "ir.h"
#include "onnx/onnx.pb-c.h"

#define DATA "/usr/share/libonnx-testdata/data"

/* ---- building models in memory: every piece is freed at once by tfree_all ---- */
static void **pool;
static size_t pool_n, pool_cap;

static void *tnew(size_t n)
{
    if (pool_n == pool_cap) {
        pool_cap = pool_cap ? pool_cap * 2 : 256;
        pool = realloc(pool, pool_cap * sizeof *pool);
    }
    return pool[pool_n++] = calloc(1, n ? n : 1);
}

static char *tstr(const char *s)
{
    return strcpy(tnew(strlen(s) + 1), s);
}

static void tfree_all(void)
{
    for (size_t i = 0; i < pool_n; i++)
        free(pool[i]);
    free(pool);
    pool = NULL;
    pool_n = pool_cap = 0;
}

#define CAP 16

static Onnx__TensorProto *mk_tensor(const char *name, int dt, int rank, const int64_t *dims)
{
    Onnx__TensorProto *t = tnew(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tstr(name);
    t->has_data_type = 1;
    t->data_type = dt;
    t->n_dims = (size_t)rank;
    t->dims = tnew(sizeof(int64_t) * (size_t)(rank + 1));
    if (rank)
        memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
    return t;
}

static void set_raw(Onnx__TensorProto *t, const void *p, size_t n)
{
    t->has_raw_data = 1;
    t->raw_data.len = n;
    t->raw_data.data = tnew(n);
    memcpy(t->raw_data.data, p, n);
}

static Onnx__ValueInfoProto *mk_vi(const char *name, int dt, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = tnew(sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = tstr(name);
    Onnx__TypeProto *tp = vi->type = tnew(sizeof *tp);
    onnx__type_proto__init(tp);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tnew(sizeof *tp->tensor_type);
    onnx__type_proto__tensor__init(tp->tensor_type);
    tp->tensor_type->has_elem_type = 1;
    tp->tensor_type->elem_type = dt;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = tp->tensor_type->shape = tnew(sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->n_dim = (size_t)rank;
        sh->dim = tnew(sizeof *sh->dim * (size_t)(rank + 1));
        for (int i = 0; i < rank; i++) {
            sh->dim[i] = tnew(sizeof *sh->dim[i]);
            onnx__tensor_shape_proto__dimension__init(sh->dim[i]);
            if (dims[i] >= 0) {
                sh->dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                sh->dim[i]->dim_value = dims[i];
            } else {
                sh->dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                sh->dim[i]->dim_param = tstr("N");
            }
        }
    }
    return vi;
}

static Onnx__NodeProto *mk_node(const char *op, const char *name, const char *in0,
                                const char *in1, const char *out0)
{
    Onnx__NodeProto *n = tnew(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tstr(op);
    n->name = tstr(name);
    n->input = tnew(sizeof(char *) * CAP);
    n->output = tnew(sizeof(char *) * CAP);
    n->attribute = tnew(sizeof(void *) * CAP);
    if (in0)
        n->input[n->n_input++] = tstr(in0);
    if (in1)
        n->input[n->n_input++] = tstr(in1);
    if (out0)
        n->output[n->n_output++] = tstr(out0);
    return n;
}

static Onnx__AttributeProto *add_attr(Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = tnew(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tstr(name);
    if (type >= 0) {
        a->has_type = 1;
        a->type = type;
    }
    n->attribute[n->n_attribute++] = a;
    return a;
}

static Onnx__GraphProto *mk_graph(const char *name)
{
    Onnx__GraphProto *g = tnew(sizeof *g);
    onnx__graph_proto__init(g);
    g->name = tstr(name);
    g->node = tnew(sizeof(void *) * CAP);
    g->initializer = tnew(sizeof(void *) * CAP);
    g->input = tnew(sizeof(void *) * CAP);
    g->output = tnew(sizeof(void *) * CAP);
    g->value_info = tnew(sizeof(void *) * CAP);
    return g;
}

static Onnx__ModelProto *mk_model(Onnx__GraphProto *g)
{
    Onnx__ModelProto *m = tnew(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = tstr("test_frontend");
    m->graph = g;
    m->opset_import = tnew(sizeof(void *) * 32);
    Onnx__OperatorSetIdProto *os = tnew(sizeof *os);
    onnx__operator_set_id_proto__init(os);
    os->domain = tstr("");
    os->has_version = 1;
    os->version = 17;
    m->opset_import[m->n_opset_import++] = os;
    return m;
}

static uint8_t *pack(const Onnx__ModelProto *m, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = tnew(*len);
    onnx__model_proto__pack(m, buf);
    return buf;
}

static char tmpdir[64];
static char model_path[128];

/* Loads m as if it were <tmpdir>/model.onnx; diag message in d. */
static Graph *load_model(const Onnx__ModelProto *m, Diag *d)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    memset(d, 0, sizeof *d);
    return onnx_load_buffer(buf, len, model_path, d);
}

/* A one-Add model "x + W" with W an initializer the caller fills in. */
static Onnx__ModelProto *add_model(Onnx__TensorProto *w)
{
    Onnx__GraphProto *g = mk_graph("g");
    int64_t dims[2] = {2, 2};
    g->input[g->n_input++] = mk_vi("x", 1, 2, dims);
    g->initializer[g->n_initializer++] = w;
    g->node[g->n_node++] = mk_node("Add", "add0", "x", "W", "y");
    g->output[g->n_output++] = mk_vi("y", 1, 2, dims);
    return mk_model(g);
}

/* Expects loading m to fail with a message containing want. */
static void expect_error(const Onnx__ModelProto *m, const char *want, int line)
{
    Diag d;
    Graph *g = load_model(m, &d);
    if (g || !strstr(d.msg, want)) {
        check_failures++;
        fprintf(stderr, "line %d: expected error \"%s\", got %s \"%s\"\n", line, want,
                g ? "a graph and" : "", d.msg);
    }
    check_count++;
    ir_graph_free(g);
}
#define EXPECT_ERROR(m, want) expect_error((m), (want), __LINE__)

/* ---- real models ---- */

static Graph *load_file(const char *rel, Diag *d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/model.onnx", DATA, rel);
    memset(d, 0, sizeof *d);
    Graph *g = onnx_load(path, d);
    if (!g)
        fprintf(stderr, "%s\n", d->msg);
    return g;
}

static void test_add(void)
{
    Diag d;
    Graph *g = load_file("node/test_add", &d);
    CHECK_TRUE(g);
    if (!g)
        return;
    CHECK(2, g->n_inputs);
    CHECK(1, g->n_outputs);
    CHECK(1, g->n_nodes);
    CHECK_TRUE(!strcmp(g->nodes[0]->op_type, "Add"));
    CHECK(RT_F32, g->inputs[0]->dtype);
    CHECK(3, g->inputs[0]->rank);
    CHECK(3, g->inputs[0]->dims[0]);
    CHECK(4, g->inputs[0]->dims[1]);
    CHECK(5, g->inputs[0]->dims[2]);
    CHECK(1, g->inputs[0]->is_input);
    CHECK_TRUE(g->nodes[0]->in[0] == g->inputs[0]);
    CHECK_TRUE(g->nodes[0]->in[1] == g->inputs[1]);
    CHECK_TRUE(g->nodes[0]->out[0] == g->outputs[0]);
    CHECK_TRUE(g->outputs[0]->producer == g->nodes[0]);
    CHECK(1, g->outputs[0]->is_output);
    CHECK(1, g->n_opsets);
    CHECK_TRUE(g->nodes[0]->opset >= 7);
    CHECK_TRUE(!strcmp(g->producer_name, "backend-test"));
    CHECK_TRUE(g->path && strstr(g->path, "test_add/model.onnx"));
    ir_graph_free(g);
}

static void test_conv_attrs(void)
{
    Diag d;
    Graph *g = load_file("node/test_conv_with_strides_padding", &d);
    CHECK_TRUE(g);
    if (!g)
        return;
    Node *n = g->nodes[0];
    int64_t v[8];
    CHECK(2, ir_attr_ints(n, "strides", v, 8));
    CHECK(2, v[0]);
    CHECK(2, v[1]);
    CHECK(4, ir_attr_ints(n, "pads", v, 8));
    CHECK(1, v[0] + v[1] + v[2] + v[3] == 4);
    CHECK(2, ir_attr_ints(n, "kernel_shape", v, 8));
    CHECK(3, v[0]);
    CHECK(AT_INTS, ir_attr(n, "strides")->type);
    CHECK(11, n->opset);
    CHECK(7, g->inputs[0]->dims[2]);
    CHECK(5, g->inputs[0]->dims[3]);
    CHECK(3, g->inputs[1]->dims[3]);
    ir_graph_free(g);
}

static void test_initializers_as_inputs(void)
{
    Diag d;
    Graph *g = load_file("pytorch-converted/test_Conv2d", &d);
    CHECK_TRUE(g);
    if (!g)
        return;
    CHECK(3, g->ir_version);
    CHECK(1, g->n_inputs); /* "1" and "2" are initializers listed as inputs */
    Node *n = g->nodes[0];
    CHECK(3, n->n_in);
    Value *w = n->in[1];
    CHECK(1, w->is_initializer);
    CHECK(0, w->is_input);
    CHECK(RT_F32, w->dtype);
    CHECK(4, w->rank);
    CHECK(2, w->dims[3]);
    const float *p = w->data;
    CHECK_NEAR(-0.14294092, p[0], 1e-7);
    CHECK_NEAR(-0.08505815, p[1], 1e-7);
    double sum = 0;
    for (int i = 0; i < 4 * 3 * 3 * 2; i++)
        sum += p[i];
    CHECK_NEAR(-1.4300735, sum, 1e-5);
    ir_graph_free(g);
}

static void test_subgraphs(void)
{
    Diag d;
    Graph *g = load_file("node/test_loop11", &d);
    CHECK_TRUE(g);
    if (g) {
        const Attr *a = ir_attr(g->nodes[0], "body");
        CHECK_TRUE(a && a->type == AT_GRAPH);
        Graph *b = a->g;
        CHECK_TRUE(b->parent == g);
        CHECK(3, b->n_inputs);
        CHECK(3, b->n_outputs);
        CHECK(RT_I64, b->inputs[0]->dtype);
        CHECK(0, b->inputs[0]->rank);
        CHECK(RT_BOOL, b->inputs[1]->dtype);
        CHECK_TRUE(!strcmp(b->name, "loop_body"));
        const Attr *c = ir_attr(b->nodes[1], "value");
        CHECK_TRUE(c && c->type == AT_TENSOR);
        CHECK(RT_F32, c->t->dtype);
        CHECK(1, c->t->rank);
        CHECK(5, c->t->dims[0]);
        CHECK_NEAR(5.0, ((float *)c->t->data)[4], 0);
        CHECK(11, b->nodes[0]->opset); /* the subgraph's opset comes from the model */
        ir_graph_free(g);
    }
    g = load_file("node/test_if", &d);
    CHECK_TRUE(g);
    if (g) {
        const Attr *t = ir_attr(g->nodes[0], "then_branch");
        const Attr *e = ir_attr(g->nodes[0], "else_branch");
        CHECK_TRUE(t && e && t->type == AT_GRAPH && e->type == AT_GRAPH);
        CHECK(0, t->g->n_inputs);
        CHECK(1, t->g->n_outputs);
        CHECK_TRUE(t->g->outputs[0]->producer == t->g->nodes[0]);
        ir_graph_free(g);
    }
    /* the loop body reads 'delta' from the enclosing graph: the same Value */
    g = load_file("node/test_range_float_type_positive_delta_expanded", &d);
    CHECK_TRUE(g);
    if (g) {
        Value *delta = ir_value_find(g, "delta");
        Node *loop = g->nodes[g->n_nodes - 1];
        Graph *b = ir_attr(loop, "body")->g;
        int found = 0;
        for (int i = 0; i < b->n_nodes; i++)
            for (int j = 0; j < b->nodes[i]->n_in; j++)
                found += b->nodes[i]->in[j] == delta;
        CHECK(1, found);
        CHECK(RT_UNDEF, b->inputs[2]->dtype); /* declared without a type */
        ir_graph_free(g);
    }
}

/* ---- synthetic models: storage forms, attributes, types ---- */

static void test_storage_forms(void)
{
    int64_t d2[1] = {2}, dims[2] = {2, 2};
    Onnx__GraphProto *g = mk_graph("forms");
    g->input[g->n_input++] = mk_vi("x", 1, 2, (int64_t[]){-1, 3});
    Onnx__TensorProto *t;

    t = mk_tensor("raw_f32", 1, 2, dims);
    float f[4] = {1, -2, 3.5f, 4};
    set_raw(t, f, sizeof f);
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("f16", 10, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = tnew(8);
    t->int32_data[0] = 0x3c00; /* 1.0 */
    t->int32_data[1] = 0xc000; /* -2.0 */
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("bool", 9, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = tnew(8);
    t->int32_data[0] = 0;
    t->int32_data[1] = 7;
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("i8", 3, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = tnew(8);
    t->int32_data[0] = -128;
    t->int32_data[1] = 127;
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("u32", 12, 1, d2);
    t->n_uint64_data = 2;
    t->uint64_data = tnew(16);
    t->uint64_data[0] = 4000000000u;
    t->uint64_data[1] = 1;
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("f64", 11, 0, NULL);
    t->n_double_data = 1;
    t->double_data = tnew(8);
    t->double_data[0] = 0.125;
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("i64", 7, 1, d2);
    t->n_int64_data = 2;
    t->int64_data = tnew(16);
    t->int64_data[0] = -5;
    t->int64_data[1] = (int64_t)1 << 40;
    g->initializer[g->n_initializer++] = t;

    t = mk_tensor("empty", 1, 2, (int64_t[]){0, 3});
    g->initializer[g->n_initializer++] = t;

    Onnx__NodeProto *n = mk_node("Add", "", "x", "raw_f32", "y");
    n->input[n->n_input++] = tstr(""); /* an omitted optional input */
    n->output[n->n_output++] = tstr("");
    Onnx__AttributeProto *a;
    a = add_attr(n, "f", 1);
    a->has_f = 1;
    a->f = 0.5f;
    a = add_attr(n, "i_untyped", -1);
    a->has_i = 1;
    a->i = 42;
    a = add_attr(n, "s", 3);
    a->has_s = 1;
    a->s.len = 3;
    a->s.data = (uint8_t *)tstr("abc");
    a = add_attr(n, "fs_untyped", -1);
    a->n_floats = 2;
    a->floats = tnew(8);
    a->floats[1] = 2.5f;
    a = add_attr(n, "ss", 8);
    a->n_strings = 2;
    a->strings = tnew(2 * sizeof *a->strings);
    a->strings[0].len = 1;
    a->strings[0].data = (uint8_t *)tstr("p");
    a->strings[1].len = 2;
    a->strings[1].data = (uint8_t *)tstr("qr");
    a = add_attr(n, "ts", 9);
    a->n_tensors = 1;
    a->tensors = tnew(sizeof(void *));
    a->tensors[0] = mk_tensor("", 6, 0, NULL);
    a->tensors[0]->n_int32_data = 1;
    a->tensors[0]->int32_data = tnew(4);
    a->tensors[0]->int32_data[0] = -9;
    a = add_attr(n, "empty_ints", 7);
    g->node[g->n_node++] = n;
    g->output[g->n_output++] = mk_vi("y", 1, 2, (int64_t[]){-1, 3});
    g->value_info[g->n_value_info++] = mk_vi("nonexistent", 1, 0, NULL);

    Diag d;
    Graph *gr = load_model(mk_model(g), &d);
    CHECK_TRUE(gr);
    if (!gr) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    Value *v = ir_value_find(gr, "raw_f32");
    CHECK_NEAR(3.5, ((float *)v->data)[2], 0);
    v = ir_value_find(gr, "f16");
    CHECK(0x3c00, ((uint16_t *)v->data)[0]);
    CHECK(0xc000, ((uint16_t *)v->data)[1]);
    v = ir_value_find(gr, "bool");
    CHECK(0, ((uint8_t *)v->data)[0]);
    CHECK(1, ((uint8_t *)v->data)[1]);
    v = ir_value_find(gr, "i8");
    CHECK(-128, ((int8_t *)v->data)[0]);
    CHECK(127, ((int8_t *)v->data)[1]);
    v = ir_value_find(gr, "u32");
    CHECK(4000000000u, ((uint32_t *)v->data)[0]);
    v = ir_value_find(gr, "f64");
    CHECK(0, v->rank);
    CHECK_NEAR(0.125, ((double *)v->data)[0], 0);
    v = ir_value_find(gr, "i64");
    CHECK((int64_t)1 << 40, ((int64_t *)v->data)[1]);
    v = ir_value_find(gr, "empty");
    CHECK(0, ir_numel(v));
    CHECK_TRUE(v->data != NULL);
    Value *x = gr->inputs[0];
    CHECK(-1, x->dims[0]);
    CHECK_TRUE(x->dim_param[0] && !strcmp(x->dim_param[0], "N"));
    CHECK(3, x->dims[1]);
    CHECK_TRUE(x->dim_param[1] == NULL);
    Node *nd = gr->nodes[0];
    CHECK_TRUE(!strcmp(nd->name, "Add_0"));
    CHECK(3, nd->n_in);
    CHECK_TRUE(nd->in[2] == NULL);
    CHECK_TRUE(nd->out[1] == NULL);
    CHECK(AT_FLOAT, ir_attr(nd, "f")->type);
    CHECK_NEAR(0.5, ir_attr_float(nd, "f", 0), 0);
    CHECK(42, ir_attr_int(nd, "i_untyped", 0));
    CHECK(3, ir_attr(nd, "s")->s_len);
    CHECK_TRUE(!strcmp(ir_attr_str(nd, "s", ""), "abc"));
    CHECK(AT_FLOATS, ir_attr(nd, "fs_untyped")->type);
    CHECK_NEAR(2.5, ir_attr(nd, "fs_untyped")->floats[1], 0);
    CHECK_TRUE(!strcmp(ir_attr(nd, "ss")->strings[1], "qr"));
    CHECK(-9, *(int32_t *)ir_attr(nd, "ts")->t[0].data);
    CHECK(0, ir_attr(nd, "empty_ints")->n);
    CHECK(AT_INTS, ir_attr(nd, "empty_ints")->type);
    /* the declared output type is a hint for the computed value */
    CHECK(RT_F32, gr->outputs[0]->dtype);
    CHECK(2, gr->outputs[0]->rank);
    ir_graph_free(gr);
}

/* An If whose branches nest `depth` more Ifs; the innermost returns x from the root. */
static Onnx__GraphProto *nested_if(int depth, int is_root)
{
    Onnx__GraphProto *g = mk_graph(is_root ? "root" : "branch");
    if (is_root)
        g->input[g->n_input++] = mk_vi("x", 1, 1, (int64_t[]){2});
    if (depth == 0) {
        g->output[g->n_output++] = mk_vi("x", 1, 1, (int64_t[]){2});
        return g;
    }
    char out[32];
    snprintf(out, sizeof out, "y%d", depth);
    Onnx__NodeProto *n = mk_node("If", "", "x", NULL, out);
    Onnx__AttributeProto *a = add_attr(n, "then_branch", 5);
    a->g = nested_if(depth - 1, 0);
    a = add_attr(n, "else_branch", 5);
    a->g = nested_if(0, 0);
    g->node[g->n_node++] = n;
    g->output[g->n_output++] = mk_vi(out, 1, 1, (int64_t[]){2});
    return g;
}

static void test_nesting(void)
{
    Diag d;
    Graph *g = load_model(mk_model(nested_if(3, 1)), &d);
    CHECK_TRUE(g);
    if (g) {
        Graph *b = ir_attr(g->nodes[0], "then_branch")->g;
        b = ir_attr(b->nodes[0], "then_branch")->g;
        b = ir_attr(b->nodes[0], "then_branch")->g;
        /* the innermost branch returns the root's x through an Identity */
        CHECK(1, b->n_nodes);
        CHECK_TRUE(!strcmp(b->nodes[0]->op_type, "Identity"));
        CHECK_TRUE(b->nodes[0]->in[0] == g->inputs[0]);
        CHECK_TRUE(b->outputs[0] == b->nodes[0]->out[0]);
        CHECK(1, b->outputs[0]->is_output);
        CHECK(0, g->inputs[0]->is_output);
        ir_graph_free(g);
    }
    EXPECT_ERROR(mk_model(nested_if(40, 1)), "nested deeper than");
}

/* ---- errors ---- */

static void test_errors(void)
{
    int64_t dims[2] = {2, 2};
    Onnx__TensorProto *t;
    Onnx__ModelProto *m;

    t = mk_tensor("W", 1, 2, dims);
    set_raw(t, "0123456789ab", 12);
    EXPECT_ERROR(add_model(t), "initializer 'W': raw_data has 12 bytes, expected 16 for "
                 "float32[2,2]");

    t = mk_tensor("W", 1, 2, (int64_t[]){2, -2});
    EXPECT_ERROR(add_model(t), "initializer 'W': dim 1 is negative");

    t = mk_tensor("W", 1, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    EXPECT_ERROR(add_model(t), "initializer 'W': rank 9 exceeds onnxcc's limit of 8");

    t = mk_tensor("W", 1, 2, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40});
    EXPECT_ERROR(add_model(t), "initializer 'W': float32[1099511627776,1099511627776] would "
                 "have more than 2^63 bytes, above the limit of 4294967296");

    t = mk_tensor("W", 1, 2, (int64_t[]){(int64_t)1 << 30, (int64_t)1 << 30});
    /* the size is checked before the (missing) data is looked at */
    EXPECT_ERROR(add_model(t), "initializer 'W': float32[1073741824,1073741824] would take "
                 "4611686018427387904 bytes, above the limit of 4294967296");

    t = mk_tensor("W", 1, 2, dims);
    t->n_int32_data = 4;
    t->int32_data = tnew(16);
    EXPECT_ERROR(add_model(t), "initializer 'W': float_data has 0 values, expected 4");

    t = mk_tensor("W", 8, 2, dims);
    EXPECT_ERROR(add_model(t), "initializer 'W': string_data has 0 values, expected 4");
    t = mk_tensor("W", 14, 2, dims);
    EXPECT_ERROR(add_model(t), "initializer 'W': dtype complex64 (14) is not supported");
    t = mk_tensor("W", 1, 2, dims);
    t->has_data_type = 0;
    EXPECT_ERROR(add_model(t), "initializer 'W': tensor has no data_type");

    /* a node input nobody produces, and nodes out of order */
    m = add_model(mk_tensor("W", 1, 0, NULL));
    m->graph->initializer[0]->n_float_data = 1;
    m->graph->initializer[0]->float_data = tnew(4);
    Onnx__GraphProto *g = m->graph;
    g->node[0]->input[1] = tstr("z");
    EXPECT_ERROR(m, "model.onnx: node 'add0' (Add): input 'z' is not produced by any earlier "
                 "node or graph input");
    g->node[g->n_node++] = mk_node("Relu", "r", "W", NULL, "z");
    EXPECT_ERROR(m, "node 'add0' (Add): input 'z' is not produced");
    g->node[0]->input[1] = tstr("W");
    g->node[1]->output[0] = tstr("y");
    EXPECT_ERROR(m, "node 'r' (Relu): output 'y' is already defined");
    g->node[1]->output[0] = tstr("x");
    EXPECT_ERROR(m, "node 'r' (Relu): output 'x' is already defined");
    g->node[1]->output[0] = tstr("z");
    g->node[1]->op_type = tstr("");
    EXPECT_ERROR(m, "node 1 ('r') has no op_type");
    g->node[1]->op_type = tstr("NoSuchOp"); /* unknown ops load; the shape pass reports them */
    {
        Diag d;
        Graph *gr = load_model(m, &d);
        CHECK_TRUE(gr && gr->nodes[1]->op == OP_UNKNOWN);
        ir_graph_free(gr);
    }
    Onnx__AttributeProto *a = add_attr(g->node[1], "sp", 11);
    a->sparse_tensor = tnew(sizeof *a->sparse_tensor);
    onnx__sparse_tensor_proto__init(a->sparse_tensor);
    EXPECT_ERROR(m, "node 'r' (NoSuchOp): attribute 'sp': sparse tensor attributes are not "
                 "supported");
    a->has_type = 0;
    EXPECT_ERROR(m, "attribute 'sp': sparse tensor attributes");
    a->sparse_tensor = NULL;
    a->has_type = 1;
    a->type = 4;
    EXPECT_ERROR(m, "attribute 'sp' is a tensor but holds none");
    a->type = 7;
    a->n_ints = 1;
    a->ints = tnew(8);
    add_attr(g->node[1], "sp", 2);
    EXPECT_ERROR(m, "attribute 'sp' appears twice");
    g->node[1]->n_attribute = 0;
    g->output[0]->name = tstr("nothing");
    EXPECT_ERROR(m, "graph output 'nothing' is not produced");
    g->output[0]->name = tstr("y");

    /* graph-level checks */
    Onnx__TypeProto *tp = g->input[0]->type;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    tp->sequence_type = tnew(sizeof *tp->sequence_type);
    onnx__type_proto__sequence__init(tp->sequence_type);
    EXPECT_ERROR(m, "input 'x': unknown types are not supported");
    g->input[0] = mk_vi("x", 15, 1, (int64_t[]){2});
    EXPECT_ERROR(m, "input 'x': dtype complex128 (15) is not supported");
    g->input[0] = mk_vi("x", 1, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    EXPECT_ERROR(m, "input 'x': rank 9 is above the limit of 8");
    g->input[0] = mk_vi("x", 1, 2, dims);
    g->input[g->n_input++] = mk_vi("x", 1, 2, dims);
    EXPECT_ERROR(m, "graph input 'x' is listed twice");
    g->n_input--;
    g->initializer[g->n_initializer++] = g->initializer[0];
    EXPECT_ERROR(m, "initializer 'W' is defined twice");
    g->n_initializer--;
    m->has_ir_version = 0;
    EXPECT_ERROR(m, "no ir_version");
    m->has_ir_version = 1;
    for (int i = 0; i < 17; i++)
        m->opset_import[m->n_opset_import++] = m->opset_import[0];
    EXPECT_ERROR(m, "imports 18 opsets; onnxcc handles at most 16");
    m->n_opset_import = 1;
    m->graph = NULL;
    EXPECT_ERROR(m, "no graph");
    m->graph = g;
    {
        Diag d;
        Graph *gr = load_model(m, &d); /* everything restored */
        CHECK_TRUE(gr);
        ir_graph_free(gr);
    }

    /* files */
    Diag d = {0};
    CHECK_TRUE(!onnx_load("/nonexistent/model.onnx", &d));
    CHECK_STR_CONTAINS(d.msg, "/nonexistent/model.onnx: cannot open");
    memset(&d, 0, sizeof d);
    CHECK_TRUE(!onnx_load("/tmp", &d));
    CHECK_STR_CONTAINS(d.msg, "/tmp: not a regular file");
    memset(&d, 0, sizeof d);
    CHECK_TRUE(!onnx_load_buffer("", 0, "e.onnx", &d));
    CHECK_STR_CONTAINS(d.msg, "e.onnx: not a valid ONNX model (the file is empty)");
    memset(&d, 0, sizeof d);
    CHECK_TRUE(!onnx_load_buffer("\xff\xff\xff", 3, "r.onnx", &d));
    CHECK_STR_CONTAINS(d.msg, "r.onnx: not a valid ONNX model (protobuf parse failed)");
}

static void write_file(const char *name, const void *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

static void set_external(Onnx__TensorProto *t, const char *loc, const char *off,
                         const char *len)
{
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data = tnew(3 * sizeof(void *));
    t->n_external_data = 0;
    const char *kv[3][2] = {{"location", loc}, {"offset", off}, {"length", len}};
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1])
            continue;
        Onnx__StringStringEntryProto *e = tnew(sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = tstr(kv[i][0]);
        e->value = tstr(kv[i][1]);
        t->external_data[t->n_external_data++] = e;
    }
}

static void test_external(void)
{
    float w[6] = {9, 9, 1, 2, 3, 4};
    write_file("w.bin", w, sizeof w);
    int64_t dims[2] = {2, 2};
    Onnx__TensorProto *t = mk_tensor("W", 1, 2, dims);
    Onnx__ModelProto *m = add_model(t);
    Diag d;

    set_external(t, "w.bin", "8", "16");
    Graph *g = load_model(m, &d);
    CHECK_TRUE(g);
    if (g) {
        const float *p = ir_value_find(g, "W")->data;
        CHECK_NEAR(1, p[0], 0);
        CHECK_NEAR(4, p[3], 0);
        ir_graph_free(g);
    } else {
        fprintf(stderr, "%s\n", d.msg);
    }
    set_external(t, "./w.bin", "8", NULL); /* no length: the rest of the file */
    g = load_model(m, &d);
    CHECK_TRUE(g);
    ir_graph_free(g);

    set_external(t, "../w.bin", NULL, NULL);
    EXPECT_ERROR(m, "initializer 'W': external data location '../w.bin' leaves the model's "
                 "folder");
    set_external(t, "sub/../../etc/passwd", NULL, NULL);
    EXPECT_ERROR(m, "leaves the model's folder");
    set_external(t, "/etc/passwd", NULL, NULL);
    EXPECT_ERROR(m, "external data location '/etc/passwd' is an absolute path");
    set_external(t, "missing.bin", NULL, NULL);
    EXPECT_ERROR(m, "missing.bin' cannot be opened");
    set_external(t, "w.bin", "16", NULL);
    EXPECT_ERROR(m, "has 8 bytes after offset 16, expected 16");
    set_external(t, "w.bin", "8", "12");
    EXPECT_ERROR(m, "external data length is 12 bytes, expected 16");
    set_external(t, "w.bin", "16", "16");
    EXPECT_ERROR(m, "fewer than offset 16 + length 16");
    set_external(t, "w.bin", "100", "0");
    EXPECT_ERROR(m, "offset 100 is past the end");
    set_external(t, "w.bin", "-1", NULL);
    EXPECT_ERROR(m, "offset '-1' is not a non-negative integer");
    set_external(t, "", NULL, NULL);
    EXPECT_ERROR(m, "external data has no location");

    /* without a model path there is no folder to look in */
    set_external(t, "w.bin", "8", "16");
    size_t len;
    uint8_t *buf = pack(m, &len);
    memset(&d, 0, sizeof d);
    CHECK_TRUE(!onnx_load_buffer(buf, len, NULL, &d));
    CHECK_STR_CONTAINS(d.msg, "needs the model's file path");

    char path[256];
    snprintf(path, sizeof path, "%s/w.bin", tmpdir);
    unlink(path);
}

/* ---- robustness: truncations and corruptions must fail cleanly ---- */

static int fuzz_cases, fuzz_loaded;

static int try_buffer(const uint8_t *buf, size_t len)
{
    Diag d = {0};
    Graph *g = onnx_load_buffer(buf, len, model_path, &d);
    fuzz_cases++;
    fuzz_loaded += g != NULL;
    int ok = g ? d.n_errors == 0 : d.msg[0] != 0;
    ir_graph_free(g);
    return ok;
}

static void fuzz_buffer(const uint8_t *buf, size_t len)
{
    int bad = 0;
    for (size_t cut = 0; cut < len; cut += 7)
        bad += !try_buffer(buf, cut);
    uint8_t *copy = malloc(len);
    uint32_t seed = 12345;
    for (size_t pos = 0; pos < len; pos += 5) {
        memcpy(copy, buf, len);
        seed = seed * 1103515245u + 12345u;
        copy[pos] ^= (uint8_t)(seed >> 16 | 1);
        bad += !try_buffer(copy, len);
    }
    free(copy);
    CHECK(0, bad);
}

static void test_robustness(void)
{
    const char *files[] = {"node/test_loop11", "pytorch-converted/test_Conv2d",
                           "node/test_range_float_type_positive_delta_expanded"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s/model.onnx", DATA, files[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(1 << 20);
        size_t len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        fuzz_buffer(buf, len);
        free(buf);
    }
    /* a synthetic model with raw data, subgraphs and attributes */
    size_t len;
    float w[4] = {1, 2, 3, 4};
    Onnx__TensorProto *t = mk_tensor("W", 1, 2, (int64_t[]){2, 2});
    set_raw(t, w, sizeof w);
    Onnx__ModelProto *m = add_model(t);
    m->graph->node[m->graph->n_node++] = nested_if(2, 0)->node[0];
    uint8_t *buf = pack(m, &len);
    fuzz_buffer(buf, len);

    uint8_t rnd[512];
    uint32_t seed = 7;
    int bad = 0;
    for (int k = 0; k < 200; k++) {
        for (size_t i = 0; i < sizeof rnd; i++) {
            seed = seed * 1103515245u + 12345u;
            rnd[i] = (uint8_t)(seed >> 16);
        }
        bad += !try_buffer(rnd, 1 + (size_t)k * 2);
    }
    CHECK(0, bad);
    printf("robustness: %d damaged models, %d still loaded, none crashed\n", fuzz_cases,
           fuzz_loaded);
}

/* ---- every conformance model loads, or fails with a clear "not supported" ---- */

static void test_all_conformance(void)
{
    const char *suites[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};
    int loaded = 0, unsupported = 0;
    for (int s = 0; s < 4; s++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s", DATA, suites[s]);
        DIR *dp = opendir(dir);
        if (!dp) {
            printf("skipping %s: not installed\n", dir);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (e->d_name[0] == '.')
                continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
            Diag d = {0};
            Graph *g = onnx_load(path, &d);
            if (g) {
                loaded++;
                ir_graph_free(g);
                continue;
            }
            unsupported++;
            printf("  unsupported: %s\n", d.msg);
            CHECK_STR_CONTAINS(d.msg, "not supported");
        }
        closedir(dp);
    }
    printf("conformance models: %d loaded, %d unsupported\n", loaded, unsupported);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/onnxcc_fe_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(model_path, sizeof model_path, "%s/model.onnx", tmpdir);
    test_add();
    test_conv_attrs();
    test_initializers_as_inputs();
    test_subgraphs();
    test_storage_forms();
    test_nesting();
    test_errors();
    test_external();
    test_robustness();
    test_all_conformance();
    tfree_all();
    rmdir(tmpdir);
    return CHECK_DONE();
}
