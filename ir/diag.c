/* diag.c: one-line diagnostics for bad input, and the assertion for onnxcc's own bugs. */
#include <stdio.h>
#include <stdlib.h>

#include "ir.h"

void ir_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "onnxcc: internal error at %s:%d: %s\n", file, line, cond);
    abort();
}

static void record(Diag *d, const char *prefix, const char *fmt, va_list ap)
{
    d->n_errors++;
    if (d->n_errors > 1)
        return; /* the first error is the cause; later ones are consequences */
    int n = snprintf(d->msg, sizeof d->msg, "%s%s%s", d->file ? d->file : "",
                     d->file ? ": " : "", prefix);
    if (n < 0 || (size_t)n >= sizeof d->msg)
        return;
    vsnprintf(d->msg + n, sizeof d->msg - (size_t)n, fmt, ap);
}

int ir_error(Diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(d, "", fmt, ap);
    va_end(ap);
    return -1;
}

int ir_node_error(Diag *d, const Node *n, const char *fmt, ...)
{
    char prefix[320];
    snprintf(prefix, sizeof prefix, "node '%.128s' (%.64s%s%.64s): ", n->name ? n->name : "",
             n->op_type, n->domain && n->domain[0] ? ", " : "", n->domain ? n->domain : "");
    va_list ap;
    va_start(ap, fmt);
    record(d, prefix, fmt, ap);
    va_end(ap);
    return -1;
}
