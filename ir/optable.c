/* optable.c: the op table generated from ops.def, and lookup by (domain, op_type). */
#include <string.h>

#include "ir.h"

const OpInfo ir_ops[] = {
#define OP(id, domain, name, infer, kernel) {name, domain, infer, kernel, #kernel},
#include "ops.def"
#undef OP
};
_Static_assert(sizeof ir_ops / sizeof ir_ops[0] == OP_COUNT, "one ir_ops row per OpKind");

/* "ai.onnx" is the default domain's long name; both spellings mean the same ops. */
static int same_domain(const char *a, const char *b)
{
    if (!strcmp(a, "ai.onnx"))
        a = "";
    if (!strcmp(b, "ai.onnx"))
        b = "";
    return !strcmp(a, b);
}

int ir_op_lookup(const char *domain, const char *op_type)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (!strcmp(ir_ops[i].name, op_type) && same_domain(ir_ops[i].domain, domain))
            return i;
    return OP_UNKNOWN;
}
