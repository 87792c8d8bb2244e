/* calib.c: runs the model on the user's calibration samples and shows every computed value to a pass. */
#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant.h"

void quant_node_format(const QuantOpts *q, const char *node_name, QuantWeights *weights,
                       int *group)
{
    *weights = q ? q->weights : QW_NONE;
    *group = q ? q->group : 0;
    for (int i = 0; q && node_name && i < q->n_node_formats; i++)
        if (!strcmp(q->node_formats[i].name, node_name)) {
            *weights = q->node_formats[i].weights;
            if (q->node_formats[i].group)
                *group = q->node_formats[i].group;
        }
}

int quant_keep_float(const QuantOpts *q, const char *node_name)
{
    for (int i = 0; q && node_name && i < q->n_keep_float; i++)
        if (fnmatch(q->keep_float[i], node_name, 0) == 0)
            return 1;
    for (int i = 0; q && node_name && i < q->n_keep_names; i++)
        if (!strcmp(q->keep_names[i], node_name))
            return 1;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (no dot files), sorted; NULL with a diagnostic. */
static char **list_dir(const char *dir, int *count, Diag *d)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        ir_error(d, "--calibrate: cannot open folder '%s'", dir);
        return NULL;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            IR_ASSERT(grown);
            names = grown;
        }
        names[n] = strdup(e->d_name);
        IR_ASSERT(names[n]);
        n++;
    }
    closedir(dp);
    if (n)
        qsort(names, (size_t)n, sizeof *names, by_name);
    *count = n;
    return names;
}

/* input_K.pb or input_K.npy in folder, the way ONNX's test data sets name them */
static int find_input(const char *folder, int k, char *path, size_t len)
{
    static const char *const ext[] = {"pb", "npy"};
    struct stat st;
    for (int i = 0; i < 2; i++) {
        snprintf(path, len, "%s/input_%d.%s", folder, k, ext[i]);
        if (stat(path, &st) == 0)
            return 0;
    }
    return -1;
}

/* One sample: its input files read into the graph's inputs, the graph run. */
static int run_sample(Graph *g, const char *path, int is_dir, CalibObserver fn, void *ctx,
                      Diag *d)
{
    int groups = ir_n_groups(g, 0), rc = 0;
    RtTensor *in = calloc((size_t)g->n_inputs + 1, sizeof *in);
    RtTensor *out = calloc((size_t)g->n_outputs + 1, sizeof *out);
    IR_ASSERT(in && out);
    if (!is_dir && groups != 1)
        rc = ir_error(d, "--calibrate: '%s' is one file, but the model takes %d inputs: give "
                      "one folder per sample holding input_0.pb, input_1.pb...", path, groups);
    for (int i = 0; i < groups && rc == 0; i++) {
        char file[4400];
        if (!is_dir)
            snprintf(file, sizeof file, "%s", path);
        else if (find_input(path, i, file, sizeof file))
            rc = ir_error(d, "--calibrate: '%s' has no input_%d.pb (input '%s')", path, i,
                          ir_io_group(g, 0, i).name);
        if (rc == 0)
            rc = ir_read_group(g, 0, i, file, in, d);
    }
    for (int i = 0; i < g->n_inputs && rc == 0; i++)
        if (in[i].nbytes != ir_nbytes(g->inputs[i]))
            rc = ir_error(d, "--calibrate: '%s': input '%s' does not have the shape the model "
                          "is compiled for", path, g->inputs[i]->name);
    /* the graph's inputs are values a pass may watch too (the first Conv's input) */
    for (int i = 0; i < g->n_inputs && rc == 0 && fn; i++)
        fn(ctx, g->inputs[i], in[i].data);
    if (rc == 0)
        rc = ir_run_observe(g, in, out, d, fn, ctx);
    for (int i = 0; i < g->n_inputs; i++)
        rt_tensor_free(&in[i]);
    for (int i = 0; i < g->n_outputs; i++)
        rt_tensor_free(&out[i]);
    free(in);
    free(out);
    return rc;
}

int calib_run(Graph *g, const QuantOpts *q, CalibObserver fn, void *ctx, Diag *d)
{
    if (!q || !q->calib_dir)
        return ir_error(d, "calibration needs sample inputs: give --calibrate DIR");
    int n = 0, runs = 0, rc = 0;
    char **names = list_dir(q->calib_dir, &n, d);
    if (!names && n == 0 && d->n_errors)
        return -1;
    for (int k = 0; k < n && rc == 0; k++) {
        if (q->max_samples > 0 && runs == q->max_samples)
            break;
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", q->calib_dir, names[k]) >= sizeof path)
            continue;
        if (stat(path, &st))
            continue;
        int is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !strstr(names[k], ".pb") && !strstr(names[k], ".npy"))
            continue;
        /* a folder with no input_0 is not a sample (expected outputs kept beside them) */
        char first[4400];
        if (is_dir && find_input(path, 0, first, sizeof first))
            continue;
        rc = run_sample(g, path, is_dir, fn, ctx, d);
        runs += rc == 0;
    }
    for (int k = 0; k < n; k++)
        free(names[k]);
    free(names);
    if (rc)
        return -1;
    if (runs == 0)
        return ir_error(d, "--calibrate: no sample in '%s' (expected folders holding "
                        "input_0.pb... or, for a one-input model, .pb/.npy files)", q->calib_dir);
    return runs;
}
