/* k_chain.c: EwChain, a fused DAG of float32 elementwise ops evaluated block by block in stack buffers, one pass over memory. */
#include <math.h>
#include <string.h>

#include "k_ew.h"
#include "rt_vmath.h"

/* Elements per block: every op's result for one block stays in a stack
 * buffer (16 ops x 256 floats = 16 KiB), so intermediate values never go
 * back to memory, and each op is a tight loop the compiler vectorizes. */
#define CH_BLK 256

typedef struct ChOp {
    int kind, code, a, b;
    float p0, p1;
    int gate; /* this Sigmoid/HardSigmoid of a and the next op, a * it, run as one loop */
} ChOp;

/* The collapsed iteration space: rows of n elements; along a row every input
 * has stride 1 or 0 (a broadcast input is one value per row). */
typedef struct Chain {
    int n_in, n_ops, rank;
    ChOp ops[RT_CHAIN_MAX_OPS];
    int64_t n, rows, blocks;                     /* blocks per row */
    int64_t dims[RT_MAX_RANK];                   /* outer dims (rank - 1 of them) */
    int64_t st[RT_CHAIN_MAX_IN][RT_MAX_RANK];    /* element strides per input */
    const float *in[RT_CHAIN_MAX_IN];
    float *out;
} Chain;

/* A register of one block: a vector of m elements, or a single value when
 * everything it depends on is constant along the row. */
typedef struct Reg {
    const float *p;
    float s;
    int scalar;
} Reg;

static float bits_float(int64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The same expressions as rt_binary's float32 rows (k_binary.c), so a fused
 * chain gives the results the separate ops would. */
#define BIN_LOOP(EXPR_X, EXPR_Y)                                                   \
    for (int64_t i = 0; i < m; i++) {                                              \
        float x = EXPR_X, y = EXPR_Y;                                              \
        (void)y;                                                                   \
        o[i] = BIN_EXPR;                                                           \
    }

#define BIN_ANY()                                                                  \
    do {                                                                           \
        if (!ra->scalar && !rb->scalar) {                                          \
            const float *pa = ra->p, *pb = rb->p;                                  \
            BIN_LOOP(pa[i], pb[i])                                                 \
        } else if (!ra->scalar) {                                                  \
            const float *pa = ra->p;                                               \
            float sb = rb->s;                                                      \
            BIN_LOOP(pa[i], sb)                                                    \
        } else if (!rb->scalar) {                                                  \
            const float *pb = rb->p;                                               \
            float sa = ra->s;                                                      \
            BIN_LOOP(sa, pb[i])                                                    \
        } else {                                                                   \
            float sa = ra->s, sb = rb->s;                                          \
            BIN_LOOP(sa, sb)                                                       \
        }                                                                          \
    } while (0)

HOT static void bin_f32(int code, float *o, const Reg *ra, const Reg *rb, int64_t m)
{
    switch (code) {
#define BIN_EXPR x + y
    case RT_BIN_ADD: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR x - y
    case RT_BIN_SUB: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR x * y
    case RT_BIN_MUL: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR x / y
    case RT_BIN_DIV: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR x * ew_self(x < 0, y, 1.0f)
    case RT_BIN_PRELU: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR (x >= y || x != x) ? x : y
    case RT_BIN_MAX: BIN_ANY(); break;
#undef BIN_EXPR
#define BIN_EXPR (x <= y || x != x) ? x : y
    case RT_BIN_MIN: BIN_ANY(); break;
#undef BIN_EXPR
    case RT_BIN_POW:
        /* the exponents rt_binary special-cases, then libm */
        if (rb->scalar && rb->s == 2) {
#define BIN_EXPR x * x
            BIN_ANY();
#undef BIN_EXPR
        } else if (rb->scalar && rb->s == 3) {
#define BIN_EXPR x * x * x
            BIN_ANY();
#undef BIN_EXPR
        } else if (rb->scalar && rb->s == 1) {
#define BIN_EXPR x
            BIN_ANY();
#undef BIN_EXPR
        } else {
#define BIN_EXPR powf(x, y)
            BIN_ANY();
#undef BIN_EXPR
        }
        break;
    default: break;
    }
}

HOT static void clip_f32(float *o, const float *a, int64_t m, float lo, float hi)
{
    for (int64_t i = 0; i < m; i++) {
        float x = a[i], t = x < lo ? lo : x;
        o[i] = t > hi ? hi : t;
    }
}

static void gate_f32(const ChOp *op, float *o, const float *a, int64_t m)
{
    if (op->code == RT_UN_SIGMOID) {
        for (int64_t i = 0; i < m; i++)
            o[i] = a[i] * v_sigmoid(a[i]);
    } else {
        float alpha = op->p0, beta = op->p1;
        for (int64_t i = 0; i < m; i++)
            o[i] = a[i] * v_clamp01(alpha * a[i] + beta);
    }
}

/* Op j can run with op j + 1 as one gate loop: j is a Sigmoid or HardSigmoid
 * of register a, j + 1 multiplies a by it (either order), and nothing else
 * reads j's result. */
static int is_gate(const Chain *ch, int j)
{
    const ChOp *u = &ch->ops[j], *mul;
    int rj = ch->n_in + j;
    if (j + 1 >= ch->n_ops || u->kind != RT_CHAIN_UN ||
        (u->code != RT_UN_SIGMOID && u->code != RT_UN_HARD_SIGMOID))
        return 0;
    mul = &ch->ops[j + 1];
    if (mul->kind != RT_CHAIN_BIN || mul->code != RT_BIN_MUL ||
        !((mul->a == u->a && mul->b == rj) || (mul->a == rj && mul->b == u->a)))
        return 0;
    for (int k = j + 2; k < ch->n_ops; k++)
        if (ch->ops[k].a == rj || (ch->ops[k].kind == RT_CHAIN_BIN && ch->ops[k].b == rj))
            return 0;
    return 1;
}

/* Runs the op list over m elements of one row: input k's first element is
 * at off[k], the output's at oo. */
HOT static void run_block(const Chain *ch, const int64_t *off, int64_t oo, int64_t m,
                          float (*buf)[CH_BLK])
{
    Reg r[RT_CHAIN_MAX_IN + RT_CHAIN_MAX_OPS];
    for (int k = 0; k < ch->n_in; k++) {
        int scalar = ch->st[k][ch->rank - 1] == 0;
        r[k].scalar = scalar;
        r[k].p = ch->in[k] + off[k];
        r[k].s = scalar ? ch->in[k][off[k]] : 0;
    }
    for (int j = 0; j < ch->n_ops; j++) {
        const ChOp *op = &ch->ops[j];
        const Reg *ra = &r[op->a], *rb = op->kind == RT_CHAIN_BIN ? &r[op->b] : ra;
        if (op->gate && !ra->scalar) {
            /* swish x * Sigmoid(x), hard-swish x * HardSigmoid(x): one loop,
             * the same arithmetic as the two ops */
            float *o = j + 1 == ch->n_ops - 1 ? ch->out + oo : buf[j + 1];
            gate_f32(op, o, ra->p, m);
            r[ch->n_in + j].scalar = 0;
            r[ch->n_in + j].p = o; /* never read: the next op was its only reader */
            r[ch->n_in + j + 1].scalar = 0;
            r[ch->n_in + j + 1].p = o;
            j++;
            continue;
        }
        Reg *ro = &r[ch->n_in + j];
        int scalar = ra->scalar && rb->scalar;
        /* a value constant along the row is computed once, in slot 0 of its
         * buffer; the last op writes straight into the output */
        float *o = j == ch->n_ops - 1 && !scalar ? ch->out + oo : buf[j];
        int64_t mm = scalar ? 1 : m;
        const float *pa = ra->scalar ? &ra->s : ra->p;
        switch (op->kind) {
        case RT_CHAIN_UN: ew_unary_f32(op->code, o, pa, mm, op->p0, op->p1); break;
        case RT_CHAIN_BIN: bin_f32(op->code, o, ra, rb, mm); break;
        default: clip_f32(o, pa, mm, op->p0, op->p1); break;
        }
        ro->scalar = scalar;
        ro->p = o;
        ro->s = o[0];
    }
    const Reg *res = &r[ch->n_in + ch->n_ops - 1];
    if (res->scalar) {
        float v = res->s, *o = ch->out + oo;
        for (int64_t i = 0; i < m; i++)
            o[i] = v;
    }
}

/* Work units are (row, block) pairs, numbered row-major. */
static void run_range(void *ctx, int64_t lo, int64_t hi)
{
    const Chain *ch = ctx;
    float buf[RT_CHAIN_MAX_OPS][CH_BLK];
    int64_t off[RT_CHAIN_MAX_IN];
    for (int64_t u = lo; u < hi; u++) {
        int64_t row = u / ch->blocks, pos = (u % ch->blocks) * CH_BLK;
        int64_t m = ch->n - pos < CH_BLK ? ch->n - pos : CH_BLK;
        for (int k = 0; k < ch->n_in; k++)
            off[k] = pos * ch->st[k][ch->rank - 1];
        int64_t oo = row * ch->n + pos;
        for (int d = ch->rank - 2; d >= 0; d--) {
            int64_t i = row % ch->dims[d];
            for (int k = 0; k < ch->n_in; k++)
                off[k] += i * ch->st[k][d];
            row /= ch->dims[d];
        }
        run_block(ch, off, oo, m, buf);
    }
}

/* Drops the output's axes of extent 1 and merges neighbouring axes every
 * input crosses contiguously (or not at all), so same-shape operands become
 * one long row and a per-channel operand one value per row. */
static void collapse(Chain *ch, const RtTensorDesc *out, int64_t (*st)[RT_MAX_RANK])
{
    ch->rank = 0;
    for (int d = 0; d < out->rank; d++) {
        if (out->dims[d] == 1)
            continue;
        int p = ch->rank - 1, merge = p >= 0;
        for (int k = 0; k < ch->n_in && merge; k++)
            merge = st[k][d] * out->dims[d] == ch->st[k][p];
        if (merge) {
            ch->dims[p] *= out->dims[d];
            for (int k = 0; k < ch->n_in; k++)
                ch->st[k][p] = st[k][d];
            continue;
        }
        ch->dims[ch->rank] = out->dims[d];
        for (int k = 0; k < ch->n_in; k++)
            ch->st[k][ch->rank] = st[k][d];
        ch->rank++;
    }
    if (ch->rank == 0) { /* a scalar output: one row of one element */
        ch->dims[0] = 1;
        for (int k = 0; k < ch->n_in; k++)
            ch->st[k][0] = 0;
        ch->rank = 1;
    }
}

HOT int rt_ew_chain(const RtCall *c, const void *const *in, void *const *out)
{
    Chain ch;
    if (c->n_in < 1 || c->n_in > RT_CHAIN_MAX_IN || c->n_out < 1 || c->n_ints < 1)
        return RT_EINVAL;
    ch.n_in = c->n_in;
    ch.n_ops = (int)c->ints[RT_CHAIN_NOPS];
    if (ch.n_ops < 1 || ch.n_ops > RT_CHAIN_MAX_OPS ||
        c->n_ints < RT_CHAIN_OPS + ch.n_ops * RT_CHAIN_OP_INTS)
        return RT_EINVAL;
    for (int j = 0; j < ch.n_ops; j++) {
        const int64_t *p = c->ints + RT_CHAIN_OPS + j * RT_CHAIN_OP_INTS;
        ChOp *op = &ch.ops[j];
        op->kind = (int)p[RT_CHAIN_KIND];
        op->code = (int)p[RT_CHAIN_CODE];
        op->a = (int)p[RT_CHAIN_A];
        op->b = op->kind == RT_CHAIN_BIN ? (int)p[RT_CHAIN_B] : op->a;
        op->p0 = bits_float(p[RT_CHAIN_P0]);
        op->p1 = bits_float(p[RT_CHAIN_P1]);
        /* operands are inputs or earlier results */
        if (op->kind < RT_CHAIN_UN || op->kind > RT_CHAIN_CLIP || op->a < 0 || op->b < 0 ||
            op->a >= ch.n_in + j || op->b >= ch.n_in + j)
            return RT_EINVAL;
    }
    for (int j = 0; j < ch.n_ops; j++)
        ch.ops[j].gate = is_gate(&ch, j);
    if (c->out[0].dtype != RT_F32)
        return RT_EDTYPE;
    int64_t st[RT_CHAIN_MAX_IN][RT_MAX_RANK];
    for (int k = 0; k < ch.n_in; k++) {
        if (c->in[k].dtype != RT_F32 || !in[k])
            return c->in[k].dtype != RT_F32 ? RT_EDTYPE : RT_EINVAL;
        if (rt_broadcast_strides(&c->in[k], &c->out[0], st[k]))
            return RT_EINVAL;
        ch.in[k] = in[k];
    }
    ch.out = out[0];
    if (rt_numel(&c->out[0]) == 0)
        return RT_OK;
    collapse(&ch, &c->out[0], st);
    ch.n = ch.dims[ch.rank - 1];
    ch.rows = 1;
    for (int d = 0; d < ch.rank - 1; d++)
        ch.rows *= ch.dims[d];
    ch.blocks = (ch.n + CH_BLK - 1) / CH_BLK;
    /* about 32K elements per piece: thread start-up stays small beside it */
    int64_t per = ch.n < CH_BLK ? ch.n : CH_BLK;
    rt_parallel_for(ch.rows * ch.blocks, 32768 / per > 0 ? 32768 / per : 1, run_range, &ch);
    return RT_OK;
}
