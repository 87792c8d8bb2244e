/* json.c: inspect --format json: the walk as one JSON document (schema: docs/inspect.md). */
#include <math.h>
#include <string.h>

#include "inspect.h"

void ins_json_str(const char *s, FILE *f)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", *p); /* '<': no "</script>" inside an HTML page */
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* JSON has no infinity or NaN: a count that overflowed is written as null. */
static void num(double x, FILE *f)
{
    if (isfinite(x))
        fprintf(f, "%.17g", x);
    else
        fputs("null", f);
}

static void names_list(const char *csv, FILE *f)
{
    fputc('[', f);
    for (const char *s = csv; s && *s;) {
        const char *e = strchr(s, ',');
        int len = e ? (int)(e - s) : (int)strlen(s);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", len, s);
        fputs(s == csv ? "" : ",", f);
        ins_json_str(buf, f);
        s = e ? e + 1 : NULL;
    }
    fputc(']', f);
}

static void value(const Value *v, int from, FILE *f)
{
    char type[256];
    fputs("{\"name\":", f);
    ins_json_str(v->name, f);
    fputs(",\"dtype\":", f);
    ins_json_str(rt_dtype_name(v->dtype), f);
    fputs(",\"shape\":[", f);
    for (int i = 0; i < v->rank; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)v->dims[i]);
    ins_type(v, type, sizeof type);
    fputs("],\"type\":", f);
    ins_json_str(type, f);
    fprintf(f, ",\"bytes\":%zu,\"const\":%s", ir_nbytes(v), v->data ? "true" : "false");
    if (from >= 0)
        fprintf(f, ",\"from\":%d", from);
    if (v->offset >= 0)
        fprintf(f, ",\"offset\":%lld,\"first\":%d,\"last\":%d", (long long)v->offset,
                v->live_first, v->live_last);
    fputc('}', f);
}

static void node(const Inspect *in, int i, FILE *f)
{
    const InsNode *x = &in->nodes[i];
    const Node *n = x->n;
    fprintf(f, "{\"id\":%d,\"name\":", i);
    ins_json_str(n->name, f);
    fputs(",\"op\":", f);
    ins_json_str(n->op_type, f);
    fputs(",\"domain\":", f);
    ins_json_str(n->domain, f);
    fprintf(f, ",\"step\":%d,\"flops\":", x->step);
    num(x->flops, f);
    fputs(",\"bytes\":", f);
    num(x->bytes, f);
    fprintf(f, ",\"weight_bytes\":%lld,\"params\":%lld,\"weight_format\":",
            (long long)x->weight_bytes, (long long)x->params);
    ins_json_str(x->wformat, f);
    fputs(",\"fused_from\":", f);
    names_list(n->fused_from, f);
    fputs(",\"inputs\":[", f);
    int first = 1;
    for (int k = 0; k < n->n_in; k++) {
        if (!n->in[k])
            continue;
        fputs(first ? "" : ",", f);
        first = 0;
        value(n->in[k], x->from[k], f);
    }
    fputs("],\"outputs\":[", f);
    first = 1;
    for (int k = 0; k < n->n_out; k++) {
        if (!n->out[k])
            continue;
        fputs(first ? "" : ",", f);
        first = 0;
        value(n->out[k], -1, f);
    }
    fputs("]}", f);
}

static void diff(const InsDiff *d, FILE *f)
{
    fputs("[", f);
    for (int i = 0; i < d->n_passes; i++) {
        const InsPassDiff *p = &d->passes[i];
        fprintf(f, "%s\n{\"pass\":", i ? "," : "");
        ins_json_str(p->pass, f);
        fprintf(f, ",\"changes\":%d,\"nodes_before\":%d,\"nodes_after\":%d", p->changes,
                p->n_before, p->n_after);
        for (int kind = 0; kind < INS_NKINDS; kind++) {
            fprintf(f, ",\"%s\":[", ins_change_names[kind]);
            int first = 1;
            for (int k = 0; k < p->n_ch; k++) {
                const InsChange *c = &p->ch[k];
                if (c->kind != kind)
                    continue;
                fputs(first ? "{\"name\":" : ",{\"name\":", f);
                first = 0;
                ins_json_str(c->name, f);
                fputs(",\"op\":", f);
                ins_json_str(c->op, f);
                if (kind == INS_FUSED) {
                    fputs(",\"from\":", f);
                    names_list(c->detail, f);
                } else if (kind == INS_REWRITTEN) {
                    fputs(",\"was\":", f);
                    ins_json_str(c->detail, f);
                }
                fputc('}', f);
            }
            fputc(']', f);
        }
        fputc('}', f);
    }
    fputs("]", f);
}

static void io(const char *key, Value *const *v, int n, FILE *f)
{
    fprintf(f, ",\n\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        fputs(i ? "," : "", f);
        value(v[i], -1, f);
    }
    fputc(']', f);
}

void ins_json(const Inspect *in, FILE *f)
{
    const Graph *g = in->g;
    fputs("{\"onnxcc_inspect\":1,\"onnxcc\":\"" ONNXCC_VERSION "\",\"model\":", f);
    ins_json_str(in->model, f);
    fputs(",\"graph\":", f);
    ins_json_str(g->name, f);
    fprintf(f, ",\n\"totals\":{\"nodes\":%d,\"nodes_run\":%d,\"flops\":", in->n_nodes, in->n_run);
    num(in->flops, f);
    fputs(",\"bytes\":", f);
    num(in->bytes, f);
    fprintf(f, ",\"params\":%lld,\"weight_bytes\":%lld,\"arena_bytes\":%lld}",
            (long long)in->params, (long long)in->weight_bytes, (long long)g->arena_bytes);
    fputs(",\n\"weight_formats\":[", f);
    for (int i = 0; i < in->n_formats; i++) {
        fputs(i ? ",{\"format\":" : "{\"format\":", f);
        ins_json_str(in->formats[i].name, f);
        fprintf(f, ",\"tensors\":%d,\"params\":%lld,\"bytes\":%lld}", in->formats[i].tensors,
                (long long)in->formats[i].params, (long long)in->formats[i].bytes);
    }
    fputc(']', f);
    io("inputs", g->inputs, g->n_inputs, f);
    io("outputs", g->outputs, g->n_outputs, f);
    fputs(",\n\"nodes\":[", f);
    for (int i = 0; i < in->n_nodes; i++) {
        fputs(i ? ",\n" : "\n", f);
        node(in, i, f);
    }
    fputs("]", f);
    if (in->diff) {
        fputs(",\n\"diff\":", f);
        diff(in->diff, f);
    }
    fputs("}\n", f);
}
