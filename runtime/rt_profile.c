/* rt_profile.c: the per-node profile of a --profile binary, as a table and as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Widest node-name column; a longer name is printed whole and shifts its row. */
#define NAME_COLS 48

void rt_profile_reset(RtProfile *p)
{
    for (int i = 0; i < p->n_nodes; i++) {
        p->nodes[i].calls = 0;
        p->nodes[i].ms = 0.0;
    }
    p->runs = 0;
}

static const RtProfNode *sort_base;

static int by_time(const void *a, const void *b)
{
    double x = sort_base[*(const int *)a].ms, y = sort_base[*(const int *)b].ms;
    if (x != y)
        return x < y ? 1 : -1;
    /* equal times keep schedule order, so the table is stable */
    return *(const int *)a - *(const int *)b;
}

/* Node indices slowest first; schedule order if out of memory. The caller frees. */
static int *sorted(const RtProfile *p)
{
    int *ix = malloc(sizeof *ix * (size_t)(p->n_nodes + 1));
    if (!ix)
        return NULL;
    for (int i = 0; i < p->n_nodes; i++)
        ix[i] = i;
    sort_base = p->nodes;
    qsort(ix, (size_t)p->n_nodes, sizeof *ix, by_time);
    return ix;
}

/* The figures of one node, derived the same way for the table and the JSON. */
typedef struct Row {
    double per_run;              /* ms, mean over the runs */
    double share;                /* percent of the time in all nodes */
    double gflops, gbs, pct;     /* achieved rates; pct of the measured FMA peak */
} Row;

static double total_ms(const RtProfile *p)
{
    double t = 0.0;
    for (int i = 0; i < p->n_nodes; i++)
        t += p->nodes[i].ms;
    return t;
}

static Row row(const RtProfile *p, const RtProfNode *n, double total, const RtPeak *peak)
{
    Row r;
    double runs = p->runs > 0 ? (double)p->runs : 1.0;
    r.per_run = n->ms / runs;
    r.share = total > 0.0 ? 100.0 * n->ms / total : 0.0;
    /* flops / (ms * 1e6) is GFLOP/s */
    r.gflops = n->ms > 0.0 ? n->flops * (double)n->calls / (n->ms * 1e6) : 0.0;
    r.gbs = n->ms > 0.0 ? n->bytes * (double)n->calls / (n->ms * 1e6) : 0.0;
    r.pct = peak && peak->gflops > 0.0 ? 100.0 * r.gflops / peak->gflops : 0.0;
    return r;
}

void rt_profile_print(const RtProfile *p, const RtPeak *peak)
{
    char cpu[512];
    int width = 4;
    double total = total_ms(p), runs = p->runs > 0 ? (double)p->runs : 1.0;
    for (int i = 0; i < p->n_nodes; i++) {
        int len = (int)strlen(p->nodes[i].name);
        width = len > width ? (len < NAME_COLS ? len : NAME_COLS) : width;
    }
    rt_cpu_describe(cpu, sizeof cpu, 0);
    printf("profile: %d nodes, %lld run%s; ms/run is the mean over the runs\n", (int)p->n_nodes,
           (long long)p->runs, p->runs == 1 ? "" : "s");
    printf("cpu: %s\n", cpu);
    if (peak)
        printf("peak: %.1f GFLOP/s fp32 FMA, %.1f GB/s read (measured, one core)\n",
               peak->gflops, peak->gbs);
    printf("%4s  %-*s  %-18s %7s %10s %9s %6s %8s %6s %8s\n", "#", width, "node", "op", "calls",
           "total ms", "ms/run", "share", "GFLOP/s", "%peak", "GB/s");
    int *ix = sorted(p);
    for (int k = 0; k < p->n_nodes; k++) {
        const RtProfNode *n = &p->nodes[ix ? ix[k] : k];
        Row r = row(p, n, total, peak);
        printf("%4d  %-*s  %-18s %7lld %10.3f %9.4f %5.1f%% %8.2f %5.1f%% %8.2f\n", k + 1, width,
               n->name, n->op, (long long)n->calls, n->ms, r.per_run, r.share, r.gflops, r.pct,
               r.gbs);
    }
    free(ix);
    printf("total: %.3f ms per run in %d nodes\n", total / runs, (int)p->n_nodes);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int rt_profile_write_json(const RtProfile *p, const RtPeak *peak, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return RT_EIO;
    char cpu[512];
    double total = total_ms(p), runs = p->runs > 0 ? (double)p->runs : 1.0;
    rt_cpu_describe(cpu, sizeof cpu, 0);
    fprintf(f, "{\n  \"cpu\": ");
    json_str(f, cpu);
    fprintf(f, ",\n  \"peak_gflops\": %.3f,\n  \"peak_read_gbs\": %.3f,\n",
            peak ? peak->gflops : 0.0, peak ? peak->gbs : 0.0);
    fprintf(f, "  \"runs\": %lld,\n  \"per_run\": \"mean\",\n  \"total_ms_per_run\": %.6f,\n"
               "  \"nodes\": [",
            (long long)p->runs, total / runs);
    int *ix = sorted(p);
    for (int k = 0; k < p->n_nodes; k++) {
        const RtProfNode *n = &p->nodes[ix ? ix[k] : k];
        Row r = row(p, n, total, peak);
        fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
        json_str(f, n->name);
        fprintf(f, ", \"op\": ");
        json_str(f, n->op);
        fprintf(f, ", \"calls\": %lld, \"total_ms\": %.6f, \"ms_per_run\": %.6f, "
                   "\"share_pct\": %.4f, \"flops\": %.0f, \"bytes\": %.0f, \"gflops\": %.4f, "
                   "\"gbs\": %.4f, \"peak_pct\": %.4f}",
                (long long)n->calls, n->ms, r.per_run, r.share, n->flops, n->bytes, r.gflops,
                r.gbs, r.pct);
    }
    free(ix);
    fprintf(f, "\n  ]\n}\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? RT_EIO : 0;
}

/* After the runs: the yardstick is measured only now, so measuring it
 * cannot disturb the timing of the model. */
static int report(const RtProfile *p, const char *json_path)
{
    RtPeak peak;
    rt_peak_measure(&peak);
    rt_profile_print(p, &peak);
    fflush(stdout);
    return json_path ? rt_profile_write_json(p, &peak, json_path) : 0;
}

int rt_main_profile(int argc, char **argv, const RtModel *m, RtProfile *p)
{
    RtProfHooks h = {p, rt_profile_reset, report};
    return rt_main_hooked(argc, argv, m, &h);
}
