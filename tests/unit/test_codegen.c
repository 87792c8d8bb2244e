/* test_codegen.c: the emitted folder builds on its own with make, in every weights mode, and computes the right answer. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "codegen/codegen.h"
#include "driver.h"

#ifndef ONNXCC_SOURCE_DIR
#define ONNXCC_SOURCE_DIR "."
#endif

#define EXAMPLE ONNXCC_SOURCE_DIR "/examples/digits"

static const char *const modes[] = {"c", "obj", "file"};

static double max_diff(const RtTensor *a, const RtTensor *b)
{
    if (a->desc.dtype != RT_F32 || b->desc.dtype != RT_F32 || a->nbytes != b->nbytes)
        return INFINITY;
    double m = 0;
    for (size_t i = 0; i < a->nbytes / 4; i++) {
        double d = fabs(((float *)a->data)[i] - ((float *)b->data)[i]);
        m = d > m ? d : m;
    }
    return m;
}

/* Compiles the digits example with one weights mode, builds it with the
 * generated Makefile and checks the output against PyTorch's logits. */
static void check_mode(int mode, const char *work)
{
    const char *ex = EXAMPLE;
    char dir[512], cmd[2048], out[600];
    snprintf(dir, sizeof dir, "%s/%s", work, modes[mode - WEIGHTS_C]);
    Diag d = {0};
    d.file = "digits.onnx";
    PassCtx ctx = {.d = &d, .verify = 1};
    Sample s = {NULL, EXAMPLE "/samples/digit_7_0.pb", 0, 0};
    Graph *g = drv_prepare(EXAMPLE "/digits.onnx", NULL, 0, &s, 1, 2, &ctx);
    CHECK_TRUE(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    CgOptions o = {.name = "digits", .out_dir = dir, .weights = mode, .with_main = 1,
                   .with_runtime = 1, .model_path = "digits.onnx"};
    CHECK(0, cgc_emit(g, &o, &d));
    ir_graph_free(g);
    snprintf(cmd, sizeof cmd, "make -s -j2 -C %s >/dev/null", dir);
    CHECK(0, system(cmd));
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cmd, sizeof cmd, "cd %s && ./digits %s/samples/digit_7_0.pb --out out", dir, ex);
    CHECK(0, system(cmd));
    RtTensor want, got;
    char err[256];
    snprintf(cmd, sizeof cmd, "%s/out/output_0.pb", dir);
    CHECK(0, rt_tensor_read(EXAMPLE "/samples/expected/digit_7_0.pb", &want, err, sizeof err));
    CHECK(0, rt_tensor_read(cmd, &got, err, sizeof err));
    CHECK_TRUE(max_diff(&want, &got) < 1e-4);
    rt_tensor_free(&want);
    rt_tensor_free(&got);
    char path[700];
    snprintf(path, sizeof path, "%s/digits.bin", dir);
    CHECK(mode != WEIGHTS_C, access(path, F_OK) == 0);
    if (mode == WEIGHTS_FILE) {
        /* a weights file from another model (here: truncated) is refused */
        snprintf(cmd, sizeof cmd, "cd %s && truncate -s -4 digits.bin && "
                 "./digits %s/samples/digit_7_0.pb >/dev/null 2>&1", dir, ex);
        CHECK_TRUE(system(cmd) != 0);
    }
}

/* Names are model data: a comment terminator, quotes, backslashes or a
 * trigraph in them must not change the generated C. */
static void check_hostile_names(const char *work)
{
    const char *dir = ONNXCC_SOURCE_DIR "/tests/data";
    char bin[512], cmd[2048], out[600];
    snprintf(bin, sizeof bin, "%s/hostile", work);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g = drv_prepare(ONNXCC_SOURCE_DIR "/tests/data/hostile_names.onnx", NULL, 0, NULL, 0, 2,
                           &ctx);
    CHECK_TRUE(g != NULL);
    if (!g)
        return;
    CgOptions o = {.name = "model", .weights = WEIGHTS_AUTO, .with_main = 1,
                   .model_path = "hostile */ \"name\".onnx"};
    BuildOptions b = {.output = bin, .cflags = "-Werror", .target = CG_TARGET_GENERIC};
    CHECK(0, cg_build(g, &o, &b, &d));
    ir_graph_free(g);
    snprintf(out, sizeof out, "%s/hostile_out", work);
    snprintf(cmd, sizeof cmd, "%s %s/hostile_names_input.pb --out %s", bin, dir, out);
    CHECK(0, system(cmd));
    RtTensor t;
    char err[256];
    snprintf(cmd, sizeof cmd, "%s/output_0.pb", out);
    CHECK(0, rt_tensor_read(cmd, &t, err, sizeof err));
    CHECK(6, (int)rt_numel(&t.desc));
    if (t.data && rt_numel(&t.desc) == 6)
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(2.0 * i, ((float *)t.data)[i], 0);
    rt_tensor_free(&t);
}

/* Inputs "x.y" and "x_y" and output "x-y" all sanitize to x_y: the generated
 * NAME_run() must still compile, with distinct parameters. */
static void check_name_clash(const char *work)
{
    const char *in = ONNXCC_SOURCE_DIR "/tests/data/hostile_names_input.pb";
    char bin[512], cmd[2048];
    snprintf(bin, sizeof bin, "%s/clash", work);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1};
    Graph *g = drv_prepare(ONNXCC_SOURCE_DIR "/tests/data/name_clash.onnx", NULL, 0, NULL, 0, 2,
                           &ctx);
    CHECK_TRUE(g != NULL);
    if (!g)
        return;
    CgOptions o = {.name = "clash", .weights = WEIGHTS_AUTO, .with_main = 1,
                   .model_path = "name_clash.onnx"};
    BuildOptions b = {.output = bin, .cflags = "-Werror", .target = CG_TARGET_GENERIC};
    CHECK(0, cg_build(g, &o, &b, &d));
    ir_graph_free(g);
    snprintf(cmd, sizeof cmd, "%s %s %s >/dev/null", bin, in, in);
    CHECK(0, system(cmd));
}

/* String inputs, constants (escaped, and C arrays even when the other
 * weights are a blob), strings made in pools and read by a later node; then a
 * string longer than --max-string-bytes makes the run fail with RT_ENOMEM. */
static void check_strings(const char *work, int mode, int64_t max_bytes)
{
    const char *dir = ONNXCC_SOURCE_DIR "/tests/data";
    static const char *const want[8] = {"0.5", "-2.0", "1e-05", "a\"b?\?/", "caf\303\251",
                                        "x\\y", "GR\303\234\303\237E", "ABC"};
    char bin[512], cmd[2048], out[600];
    snprintf(bin, sizeof bin, "%s/strings_%d_%lld", work, mode, (long long)max_bytes);
    Diag d = {0};
    PassCtx ctx = {.d = &d, .verify = 1, .max_string_bytes = max_bytes};
    Sample s[2] = {{NULL, ONNXCC_SOURCE_DIR "/tests/data/strings_x.pb", 0, 0},
                   {NULL, ONNXCC_SOURCE_DIR "/tests/data/strings_s.pb", 0, 0}};
    Graph *g = drv_prepare(ONNXCC_SOURCE_DIR "/tests/data/strings.onnx", NULL, 0, s, 2, 2, &ctx);
    CHECK_TRUE(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", d.msg);
        return;
    }
    CgOptions o = {.name = "strings", .weights = mode, .with_main = 1,
                   .model_path = "strings.onnx"};
    BuildOptions b = {.output = bin, .cflags = "-Werror", .target = CG_TARGET_GENERIC};
    CHECK(0, cg_build(g, &o, &b, &d));
    ir_graph_free(g);
    snprintf(out, sizeof out, "%s_out", bin);
    /* from the work folder, where --weights file finds strings.bin */
    snprintf(cmd, sizeof cmd, "cd %s && %s %s/strings_x.pb %s/strings_s.pb --out %s 2>/dev/null",
             work, bin, dir, dir, out);
    if (max_bytes) {
        CHECK_TRUE(system(cmd) != 0);
        return;
    }
    CHECK(0, system(cmd));
    RtTensor t;
    char err[256];
    snprintf(cmd, sizeof cmd, "%s/output_0.pb", out);
    CHECK(0, rt_tensor_read(cmd, &t, err, sizeof err));
    CHECK(RT_STRING, t.desc.dtype);
    CHECK(8, (int)rt_numel(&t.desc));
    for (int i = 0; t.data && i < 8 && i < rt_numel(&t.desc); i++)
        CHECK(0, strcmp(want[i], ((char **)t.data)[i]));
    rt_tensor_free(&t);
}

int main(void)
{
    char work[] = "/tmp/onnxcc-test-codegen-XXXXXX";
    if (!mkdtemp(work))
        return 2;
    for (int m = WEIGHTS_C; m <= WEIGHTS_FILE; m++)
        check_mode(m, work);
    check_hostile_names(work);
    check_name_clash(work);
    for (int m = WEIGHTS_C; m <= WEIGHTS_FILE; m++)
        check_strings(work, m, 0);
    check_strings(work, WEIGHTS_C, 4); /* "Grüße" is 7 bytes */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    CHECK(0, system(cmd));
    return CHECK_DONE();
}
