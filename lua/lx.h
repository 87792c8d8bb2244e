/* lx.h: the Lua 5.4 layer: --pipeline recipes that choose the passes, over an IR API. */
#ifndef ONNXCC_LX_H
#define ONNXCC_LX_H

#include "../passes/passes.h"

/* Runs the recipe ctx->pipeline on g instead of an -O list (opt_level
 * still tells plan how much to reuse): the script calls
 * onnxcc.run_pass, sets options, registers Lua passes (docs/lua.md). The
 * built-in passes it runs keep the -O2 order and "plan" ends the pipeline.
 * 0, or -1 with one line in ctx->d: "recipe.lua:LINE: message". */
int lx_run_pipeline(Graph *g, int opt_level, PassCtx *ctx);

#endif
