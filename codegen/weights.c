/* weights.c: which constants the generated code needs, their layout in one blob, and how they are written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

#define WALIGN 64

static int needed(const Graph *g, const Value *v)
{
    if (!v->data)
        return 0;
    if (v->is_output)
        return 1;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *n = g->nodes[k];
        if (n->dead || ir_node_is_constant(n))
            continue;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] == v)
                return 1;
    }
    return 0;
}

/* FNV-1a: cheap, and enough to tell a weights file from a different model's. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int cg_weights_layout(const Graph *g, WeightsLayout *w)
{
    memset(w, 0, sizeof *w);
    w->offset = malloc(sizeof(int64_t) * (size_t)(g->n_values + 1));
    w->is_string = calloc((size_t)g->n_values + 1, 1);
    IR_ASSERT(w->offset && w->is_string);
    uint64_t h = 0xcbf29ce484222325ull;
    static const unsigned char zeros[WALIGN];
    for (int i = 0; i < g->n_values; i++) {
        const Value *v = g->values[i];
        w->offset[i] = -1;
        if (!needed(g, v))
            continue;
        if (v->dtype == RT_STRING) {
            w->is_string[i] = 1;
            continue;
        }
        size_t pad = (WALIGN - w->total % WALIGN) % WALIGN;
        h = fnv1a(h, zeros, pad);
        w->total += pad;
        w->offset[i] = (int64_t)w->total;
        h = fnv1a(h, v->data, ir_nbytes(v));
        w->total += ir_nbytes(v);
        w->count++;
    }
    w->checksum = h;
    return 0;
}

void cg_weights_free(WeightsLayout *w)
{
    free(w->offset);
    free(w->is_string);
    w->offset = NULL;
    w->is_string = NULL;
}

int cg_write_weights_bin(const Graph *g, const WeightsLayout *w, const char *dir,
                         const char *file, Diag *d)
{
    Emitter e;
    if (cg_open(&e, dir, file, d) < 0)
        return -1;
    static const unsigned char zeros[WALIGN];
    size_t at = 0;
    for (int i = 0; i < g->n_values; i++) {
        if (w->offset[i] < 0)
            continue;
        const Value *v = g->values[i];
        cg_write_bytes(&e, zeros, (size_t)w->offset[i] - at);
        cg_write_bytes(&e, v->data, ir_nbytes(v));
        at = (size_t)w->offset[i] + ir_nbytes(v);
    }
    if (at == 0)
        cg_write_bytes(&e, zeros, 1); /* an empty blob still needs one byte to link */
    return cg_close(&e, d);
}

static void emit_element(Emitter *e, const Value *v, int64_t i)
{
    char buf[64];
    switch (v->dtype) {
    case RT_F32:
        cg_float_literal(buf, sizeof buf, ((const float *)v->data)[i], 0);
        emitf(e, "%s", buf);
        break;
    case RT_F64:
        cg_float_literal(buf, sizeof buf, ((const double *)v->data)[i], 1);
        emitf(e, "%s", buf);
        break;
    case RT_U64:
        emitf(e, "%lluu", (unsigned long long)((const uint64_t *)v->data)[i]);
        break;
    case RT_I64: {
        int64_t x = ((const int64_t *)v->data)[i];
        if (x == INT64_MIN)
            emitf(e, "INT64_MIN");
        else
            emitf(e, "%lld", (long long)x);
        break;
    }
    case RT_I32: {
        int64_t x = ((const int32_t *)v->data)[i];
        if (x == INT32_MIN)
            emitf(e, "INT32_MIN");
        else
            emitf(e, "%lld", (long long)x);
        break;
    }
    case RT_F16: case RT_BF16:
        emitf(e, "0x%04x", ((const uint16_t *)v->data)[i]);
        break;
    default:
        emitf(e, "%lld", (long long)rt_load_i64(v->data, v->dtype, i));
        break;
    }
}

/* C arrays, one per constant, typed, so a reader sees the numbers. */
void cg_emit_weights_c(Emitter *e, const Graph *g, const WeightsLayout *w, const char *name)
{
    emitf(e, "/* weights: %d constants, %zu bytes, as C arrays */\n", w->count, w->total);
    for (int i = 0; i < g->n_values; i++) {
        if (w->offset[i] < 0)
            continue;
        const Value *v = g->values[i];
        /* a narrow type is written as its bytes: packed types hold no whole element per byte */
        int64_t n = rt_is_narrow(v->dtype) ? (int64_t)ir_nbytes(v) : ir_numel(v);
        char t[CG_TEXT];
        emitf(e, "/* '%s': %s[", cg_comment(t, sizeof t, v->name), rt_dtype_name(v->dtype));
        for (int k = 0; k < v->rank; k++)
            emitf(e, "%s%lld", k ? "," : "", (long long)v->dims[k]);
        emitf(e, "] */\nstatic const %s %s_w%d[%lld] ONNXCC_ALIGN = {", cg_ctype(v->dtype), name, i,
              (long long)(n ? n : 1));
        for (int64_t k = 0; k < n; k++) {
            emitf(e, "%s", k % 8 ? " " : "\n    ");
            if (rt_is_narrow(v->dtype))
                emitf(e, "0x%02x", ((const uint8_t *)v->data)[k]);
            else
                emit_element(e, v, k);
            emitf(e, ",");
        }
        emitf(e, n ? "\n};\n" : "0};\n");
    }
}

/* One C string literal, escaped byte by byte: octal escapes are always three
 * digits, so a following digit cannot join them, and '?' is escaped so no
 * trigraph forms. */
static void emit_cstring(Emitter *e, const char *s)
{
    emitf(e, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?')
            emitf(e, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            emitf(e, "\\%03o", *p);
        else
            emitf(e, "%c", *p);
    }
    emitf(e, "\"");
}

void cg_emit_string_consts(Emitter *e, const Graph *g, const WeightsLayout *w, const char *name)
{
    for (int i = 0; i < g->n_values; i++) {
        if (!w->is_string[i])
            continue;
        const Value *v = g->values[i];
        const char *const *s = v->data;
        int64_t n = ir_numel(v);
        char t[CG_TEXT];
        emitf(e, "/* '%s': string[", cg_comment(t, sizeof t, v->name));
        for (int k = 0; k < v->rank; k++)
            emitf(e, "%s%lld", k ? "," : "", (long long)v->dims[k]);
        emitf(e, "] */\nstatic const char *const %s_w%d[%lld] = {", name, i,
              (long long)(n ? n : 1));
        for (int64_t k = 0; k < n; k++) {
            emitf(e, "\n    ");
            emit_cstring(e, s[k]);
            emitf(e, ",");
        }
        emitf(e, n ? "\n};\n" : "NULL};\n");
    }
}
